/* lab-sysctl: sets the sysctls of many network namespaces in one process,
 * so `lab up` need not start `ip netns exec NS sysctl` once per namespace
 * (R5: up in a handful of processes). /proc/sys/net shows the namespace of
 * the task that opens it, so setns() then write() is all it takes.
 *
 * usage: lab-sysctl NETNS FILE [NETNS FILE]...
 *   NETNS  a name under /run/netns
 *   FILE   lines "net.ipv4.ip_forward=1"
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int sysctl_write(const char *key, const char *value)
{
	char path[256];
	size_t n = (size_t)snprintf(path, sizeof(path), "/proc/sys/%s", key);
	if (n >= sizeof(path))
		return -ENAMETOOLONG;
	for (char *p = path + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t w = write(fd, value, strlen(value));
	int err = w < 0 ? -errno : 0;
	close(fd);
	return err;
}

static int sysctl_apply_file(const char *ns, const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		fprintf(stderr, "lab-sysctl: %s: %s\n", file, strerror(errno));
		return -1;
	}
	char line[256];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		char *eq = strchr(line, '=');
		if (!eq) {
			fprintf(stderr, "lab-sysctl: %s:%d: no '=' in \"%s\"\n", file, lineno, line);
			rc = -1;
			continue;
		}
		*eq = '\0';
		int err = sysctl_write(line, eq + 1);
		if (err < 0) {
			fprintf(stderr, "lab-sysctl: %s: %s=%s: %s\n", ns, line, eq + 1, strerror(-err));
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

static int netns_enter(const char *name)
{
	char path[256];
	if ((size_t)snprintf(path, sizeof(path), "/run/netns/%s", name) >= sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int err = setns(fd, CLONE_NEWNET) < 0 ? -errno : 0;
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	if (argc < 3 || (argc - 1) % 2 != 0) {
		fprintf(stderr, "usage: lab-sysctl NETNS FILE [NETNS FILE]...\n");
		return 2;
	}
	int rc = 0;
	for (int i = 1; i + 1 < argc; i += 2) {
		int err = netns_enter(argv[i]);
		if (err < 0) {
			fprintf(stderr, "lab-sysctl: netns %s: %s\n", argv[i], strerror(-err));
			return 1;
		}
		if (sysctl_apply_file(argv[i], argv[i + 1]) < 0)
			rc = 1;
	}
	return rc;
}
