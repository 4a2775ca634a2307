/* lab-ctflush: removes the conntrack entries that carry a given mark, in the
 * caller's network namespace, both address families. The nftables load
 * balancer of the lab (--lb nft, lib/lbnft.sh) marks each flow with its
 * service and real server; when a monitor takes a real down or `lab hlb ...
 * disable` is given, its flows go, so the clients' next packets pick a live
 * real (what hlb does with its own table). One ctnetlink request per mark,
 * the same one `conntrack -D --mark M` sends, without needing that tool.
 *
 * usage: lab-ctflush MARK...   exit 0 done, 1 a request failed, 2 bad usage
 */
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

struct req {
	struct nlmsghdr nh;
	struct nfgenmsg nf;
	char attrs[2 * NLA_HDRLEN + 2 * NLA_ALIGN(sizeof(uint32_t))];
};

static size_t put_u32(char *at, uint16_t type, uint32_t host)
{
	struct nlattr a = {.nla_len = NLA_HDRLEN + sizeof(uint32_t), .nla_type = type};
	uint32_t be = htonl(host);
	memcpy(at, &a, sizeof(a));
	memcpy(at + NLA_HDRLEN, &be, sizeof(be));
	return NLA_ALIGN(a.nla_len);
}

/* One delete-by-mark and its acknowledgement: 0, or a negative errno. */
static int flush_mark(int fd, uint32_t mark, uint32_t seq)
{
	struct req r;
	char buf[512];
	size_t n = 0;
	memset(&r, 0, sizeof(r));
	n += put_u32(r.attrs + n, CTA_MARK, mark);
	n += put_u32(r.attrs + n, CTA_MARK_MASK, 0xffffffffu);
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(r.nf) + n);
	r.nh.nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE;
	r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	r.nh.nlmsg_seq = seq;
	r.nf.nfgen_family = AF_UNSPEC; /* every family */
	r.nf.version = NFNETLINK_V0;
	if (send(fd, &r, r.nh.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		if (got < 0)
			return -errno;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)got);
		     h = NLMSG_NEXT(h, got)) {
			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
			return err == -ENOENT ? 0 : err; /* nothing to remove is fine */
		}
	}
}

int main(int argc, char **argv)
{
	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: lab-ctflush MARK...\n");
		return 2;
	}
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0) {
		perror("lab-ctflush: netlink");
		return 1;
	}
	struct timeval tv = {.tv_sec = 2};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		char *end;
		unsigned long m = strtoul(argv[i], &end, 0);
		if (*end || end == argv[i] || m > 0xffffffffUL) {
			fprintf(stderr, "lab-ctflush: bad mark '%s'\n", argv[i]);
			rc = 1;
			continue;
		}
		int err = flush_mark(fd, (uint32_t)m, (uint32_t)i);
		if (err) {
			fprintf(stderr, "lab-ctflush: mark %lu: %s\n", m, strerror(-err));
			rc = 1;
		}
	}
	close(fd);
	return rc;
}
