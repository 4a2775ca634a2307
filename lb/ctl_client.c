/* ctl_client.c: `hlb ctl`, the control socket's client; see ctl.h. */
#include "ctl.h"
#include "hlb_config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int ctl_client_main(int argc, char **argv)
{
	const char *path = LB_DEFAULT_SOCKET;
	char line[512] = "", buf[4096];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int i = 0, fd, status = 0, first = 1;
	ssize_t n;

	if (i < argc && strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
		path = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: hlb ctl [--socket PATH] list|stats|enable|disable|drain SERVICE REAL\n");
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
	if (write(fd, line, strlen(line)) < 0) {
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
	return status;
}
