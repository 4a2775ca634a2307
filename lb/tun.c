/* tun.c: open the TUN device. Link state is set through libnl, like the
 * routes and rules (route.c). */
#include "tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int link_up(const char *name)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_link *link = NULL, *change = NULL;
	int rc;

	if (!sk)
		return -ENOMEM;
	rc = nl_connect(sk, NETLINK_ROUTE);
	if (rc == 0)
		rc = rtnl_link_get_kernel(sk, 0, name, &link);
	if (rc == 0) {
		change = rtnl_link_alloc();
		rtnl_link_set_flags(change, IFF_UP);
		/* Deep queue: bursts from the kernel should wait for hlb, not
		 * be dropped at the device. */
		rtnl_link_set_txqlen(change, 10000);
		rc = rtnl_link_change(sk, link, change, 0);
	}
	rtnl_link_put(change);
	rtnl_link_put(link);
	nl_socket_free(sk);
	return rc < 0 ? -EIO : 0;
}

int tun_open(const char *name)
{
	struct ifreq ifr;
	int fd, rc;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = link_up(name);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}
