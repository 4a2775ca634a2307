/* ctl_client.c: `hlb ctl`, the control socket's client; see ctl.h. */
#include "ctl.h"
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The socket a config names, or the default when it names none. */
static int config_socket(const char *file, char *path, size_t cap)
{
	static struct lb_config cfg; /* large: not on the stack */
	char err[512];

	if (lb_config_load(&cfg, file, err, sizeof(err)) < 0) {
		fprintf(stderr, "hlb ctl: %s\n", err);
		return -1;
	}
	if (!cfg.socket[0])
		return ctl_default_path(path, cap);
	snprintf(path, cap, "%s", cfg.socket);
	return 0;
}

int ctl_client_main(int argc, char **argv)
{
	char path[LB_PATH_MAX] = "", line[512] = "", buf[4096];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int i = 0, fd, status = 0, first = 1;
	ssize_t n;

	if (i + 1 < argc && strcmp(argv[i], "--socket") == 0) {
		snprintf(path, sizeof(path), "%s", argv[i + 1]);
		i += 2;
	} else if (i + 1 < argc && strcmp(argv[i], "--config") == 0) {
		if (config_socket(argv[i + 1], path, sizeof(path)) < 0)
			return 2;
		i += 2;
	} else if (ctl_default_path(path, sizeof(path)) < 0) {
		fprintf(stderr, "hlb ctl: cannot tell this network namespace's default socket: give --socket\n");
		return 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: hlb ctl [--socket PATH | --config FILE] list [--json]|stats|enable|disable|drain SERVICE REAL\n");
		return 2;
	}
	for (; i < argc; i++) {
		strncat(line, argv[i], sizeof(line) - strlen(line) - 2);
		strncat(line, i + 1 < argc ? " " : "\n", 2);
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "hlb ctl: socket path too long\n");
		return 2;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "hlb ctl: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	/* No SIGPIPE: a server that refused us may have closed already;
	 * its answer, if any, is still there to read. */
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 && errno != EPIPE) {
		fprintf(stderr, "hlb ctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	/* The first line is the verdict; the rest is the answer. */
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *p = buf;
		size_t len = (size_t)n;

		if (first) {
			char *nl = memchr(buf, '\n', len);

			if (strncmp(buf, "error", 5) == 0)
				status = 1;
			if (nl && !status) {
				p = nl + 1;
				len -= (size_t)(p - buf);
			}
			first = 0;
		}
		fwrite(p, 1, len, status ? stderr : stdout);
	}
	close(fd);
	if (first) {
		fprintf(stderr, "hlb ctl: %s: no answer\n", path);
		return 1;
	}
	return status;
}
