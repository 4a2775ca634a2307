/* test_turn_peerfilter.c: R15, every spelling of every address we refuse. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "check_main.h"
#include "turn/peerfilter.h"

static struct sockaddr_storage addr(const char *ip)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof ss);
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(9);
		ck_assert_msg(inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1, "bad test address %s", ip);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(9);
		ck_assert_msg(inet_pton(AF_INET, ip, &s4->sin_addr) == 1, "bad test address %s", ip);
	}
	return ss;
}

static int permits(const struct peerfilter *f, const char *ip)
{
	struct sockaddr_storage ss = addr(ip);
	return peerfilter_permits(f, (const struct sockaddr *)&ss);
}

#define DENIED(f, ip) ck_assert_msg(!permits(f, ip), "%s should be denied", ip)
#define ALLOWED(f, ip) ck_assert_msg(permits(f, ip), "%s should be allowed", ip)

static const char *const denied_by_default[] = {
	"0.0.0.0", "0.1.2.3", "127.0.0.1", "127.255.255.254", "127.1.2.3",
	"224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
	"169.254.1.1", "169.254.169.254",
	"::", "::1", "fe80::1", "febf::1", "ff02::1", "ff0e::1",
	/* IPv4-mapped */
	"::ffff:127.0.0.1", "::ffff:0.0.0.0", "::ffff:7f00:1", "::ffff:224.0.0.1",
	"::ffff:255.255.255.255", "::ffff:169.254.1.1",
	/* IPv4-compatible */
	"::127.0.0.1", "::0.0.0.2", "::224.0.0.1",
	/* IPv4-translated (SIIT) */
	"::ffff:0:127.0.0.1",
	/* NAT64 well-known prefix */
	"64:ff9b::7f00:1", "64:ff9b::127.0.0.1", "64:ff9b::",
	"64:ff9b::255.255.255.255",
	/* 6to4 around a refused IPv4 */
	"2002:7f00:1::1", "2002::1", "2002:e000:1::",
};

static const char *const allowed_by_default[] = {
	"198.51.100.10", "10.10.1.50", "172.16.0.1", "192.168.1.1", "192.0.2.1",
	"203.0.113.5", "8.8.8.8", "100.64.0.1", "223.255.255.255", "126.255.255.255",
	"128.0.0.1", "169.253.255.255", "2001:db8::1", "2001:db8:1::50", "fec0::1",
	"fc00::1", "2600::1", "::ffff:198.51.100.10", "::198.51.100.10",
	"64:ff9b::198.51.100.10", "2002:c633:640a::1", "::2:0:0:1",
};

START_TEST(defaults)
{
	struct peerfilter *f = peerfilter_new();

	for (size_t i = 0; i < sizeof denied_by_default / sizeof *denied_by_default; i++)
		DENIED(f, denied_by_default[i]);
	for (size_t i = 0; i < sizeof allowed_by_default / sizeof *allowed_by_default; i++)
		ALLOWED(f, allowed_by_default[i]);
	peerfilter_free(f);
}
END_TEST

START_TEST(not_ip)
{
	struct peerfilter *f = peerfilter_new();
	struct sockaddr_un un;

	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	ck_assert_int_eq(peerfilter_permits(f, (const struct sockaddr *)&un), 0);
	ck_assert_int_eq(peerfilter_permits(f, NULL), 0);
	peerfilter_free(f);
	peerfilter_free(NULL);
}
END_TEST

START_TEST(self_addresses)
{
	struct peerfilter *f = peerfilter_new();
	struct sockaddr_storage v4 = addr("203.0.113.12"), v6 = addr("2001:db8::12");
	struct sockaddr_storage mapped_self = addr("::ffff:192.0.2.99");
	char err[128];

	ALLOWED(f, "203.0.113.12");
	ck_assert_int_eq(peerfilter_add_self(f, (struct sockaddr *)&v4), 0);
	ck_assert_int_eq(peerfilter_add_self(f, (struct sockaddr *)&v4), 0);
	ck_assert_int_eq(peerfilter_add_self(f, (struct sockaddr *)&v6), 0);
	ck_assert_int_eq(peerfilter_add_self(f, (struct sockaddr *)&mapped_self), 0);
	DENIED(f, "203.0.113.12");
	DENIED(f, "::ffff:203.0.113.12");
	DENIED(f, "::203.0.113.12");
	DENIED(f, "64:ff9b::203.0.113.12");
	DENIED(f, "::ffff:cb00:710c");
	DENIED(f, "2002:cb00:710c::1"); /* 6to4 to ourselves */
	DENIED(f, "2001:db8::12");
	DENIED(f, "192.0.2.99"); /* registered through its mapped form */
	ALLOWED(f, "203.0.113.13");
	ALLOWED(f, "2001:db8::13");
	/* never a peer, whatever the rules say */
	ck_assert_int_eq(peerfilter_allow(f, "203.0.113.12/32", err, sizeof err), 0);
	ck_assert_int_eq(peerfilter_allow(f, "2001:db8::12", err, sizeof err), 0);
	DENIED(f, "203.0.113.12");
	DENIED(f, "2001:db8::12");
	peerfilter_free(f);
}
END_TEST

static int permits_at(const struct peerfilter *f, const char *ip, int port, int ip_only)
{
	struct sockaddr_storage ss = addr(ip);
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	return ip_only ? peerfilter_permits_ip(f, (struct sockaddr *)&ss)
		       : peerfilter_permits(f, (struct sockaddr *)&ss);
}

/* R18: every address the kernel calls local reaches avedge's listeners
 * and /metrics on their ports, so those never are peers; its other ports
 * are other programs', for the rules to decide. A permission (per IP)
 * looks at no port. */
START_TEST(local_addresses)
{
	struct peerfilter *f = peerfilter_new();
	struct sockaddr_storage lo = addr("127.0.0.0"), own = addr("127.0.0.1");
	struct sockaddr_storage host = addr("198.51.100.7"), v6 = addr("2001:db8::7");
	char err[128];

	ck_assert_int_eq(peerfilter_add_self(f, (struct sockaddr *)&own), 0);
	ck_assert_int_eq(peerfilter_add_local(f, (struct sockaddr *)&lo, 8), 0);
	ck_assert_int_eq(peerfilter_add_local(f, (struct sockaddr *)&host, -1), 0);
	ck_assert_int_eq(peerfilter_add_local(f, (struct sockaddr *)&v6, 128), 0);
	ck_assert_int_eq(peerfilter_add_own_port(f, 3478), 0);
	ck_assert_int_eq(peerfilter_add_own_port(f, 9100), 0);
	peerfilter_set_relay_ports(f, 50000, 59999);
	ck_assert_int_eq(peerfilter_allow(f, "127.0.0.0/8", err, sizeof err), 0);
	/* another loopback address: not on our ports, yes on others */
	ck_assert(!permits_at(f, "127.0.0.9", 3478, 0));
	ck_assert(!permits_at(f, "127.0.0.9", 9100, 0));
	ck_assert(permits_at(f, "127.0.0.9", 7000, 0));
	ck_assert(!permits_at(f, "::ffff:127.0.0.9", 3478, 0));
	/* the host's public address, either family */
	ck_assert(!permits_at(f, "198.51.100.7", 3478, 0));
	ck_assert(permits_at(f, "198.51.100.7", 7000, 0));
	ck_assert(!permits_at(f, "2001:db8::7", 9100, 0));
	ck_assert(permits_at(f, "198.51.100.8", 3478, 0)); /* not ours */
	/* our configured address: only relayed addresses of other clients */
	ck_assert(!permits_at(f, "127.0.0.1", 7000, 0));
	ck_assert(permits_at(f, "127.0.0.1", 50001, 0));
	/* a permission is per IP: our own address too (port 0, RFC 8656 §9) */
	ck_assert(permits_at(f, "127.0.0.1", 0, 1));
	ck_assert(permits_at(f, "127.0.0.9", 3478, 1));
	peerfilter_free(f);
}
END_TEST

START_TEST(deny_rules)
{
	struct peerfilter *f = peerfilter_new();
	char err[128];

	ck_assert_int_eq(peerfilter_deny(f, "10.0.0.0/8", err, sizeof err), 0);
	DENIED(f, "10.10.1.50");
	DENIED(f, "::ffff:10.10.1.50");
	DENIED(f, "::10.10.1.50");
	DENIED(f, "64:ff9b::a0a:132");
	DENIED(f, "2002:0a0a:0132::1");
	ALLOWED(f, "11.0.0.1");
	ALLOWED(f, "198.51.100.10");
	/* a more specific allow inside the deny */
	ck_assert_int_eq(peerfilter_allow(f, "10.10.1.0/24", err, sizeof err), 0);
	ALLOWED(f, "10.10.1.50");
	ALLOWED(f, "::ffff:10.10.1.50");
	DENIED(f, "10.10.2.50");
	/* equal length: deny wins */
	ck_assert_int_eq(peerfilter_deny(f, "10.10.1.0/24", err, sizeof err), 0);
	DENIED(f, "10.10.1.50");
	/* IPv6 */
	ck_assert_int_eq(peerfilter_deny(f, "2001:db8::/32", err, sizeof err), 0);
	DENIED(f, "2001:db8::1");
	ALLOWED(f, "2001:db9::1");
	ck_assert_int_eq(peerfilter_allow(f, "2001:db8:0:1::/64", err, sizeof err), 0);
	ALLOWED(f, "2001:db8:0:1::5");
	DENIED(f, "2001:db8:0:2::5");
	/* a mapped CIDR is the IPv4 one it spells */
	ck_assert_int_eq(peerfilter_deny(f, "::ffff:198.51.100.0/120", err, sizeof err), 0);
	DENIED(f, "198.51.100.10");
	ALLOWED(f, "198.51.101.10");
	/* a host without a length; host bits beyond the prefix ignored */
	ck_assert_int_eq(peerfilter_deny(f, "8.8.8.8", err, sizeof err), 0);
	DENIED(f, "8.8.8.8");
	ALLOWED(f, "8.8.4.4");
	ck_assert_int_eq(peerfilter_deny(f, "172.16.99.99/12", err, sizeof err), 0);
	DENIED(f, "172.31.0.1");
	ALLOWED(f, "172.32.0.1");
	peerfilter_free(f);
}
END_TEST

START_TEST(allow_rules)
{
	struct peerfilter *f = peerfilter_new();
	char err[128];

	ck_assert_int_eq(peerfilter_allow(f, "127.0.0.1/32", err, sizeof err), 0);
	ALLOWED(f, "127.0.0.1");
	ALLOWED(f, "::ffff:127.0.0.1");
	ALLOWED(f, "64:ff9b::7f00:1");
	DENIED(f, "127.0.0.2");
	DENIED(f, "::1");
	/* an explicit rule of the built-in's length beats it */
	ck_assert_int_eq(peerfilter_allow(f, "169.254.0.0/16", err, sizeof err), 0);
	ALLOWED(f, "169.254.1.1");
	ck_assert_int_eq(peerfilter_allow(f, "::1", err, sizeof err), 0);
	ALLOWED(f, "::1");
	DENIED(f, "::");
	/* but a shorter explicit allow does not open a longer built-in deny */
	ck_assert_int_eq(peerfilter_allow(f, "0.0.0.0/0", err, sizeof err), 0);
	ck_assert_int_eq(peerfilter_allow(f, "::/0", err, sizeof err), 0);
	DENIED(f, "224.0.0.1");
	DENIED(f, "0.0.0.0");
	DENIED(f, "ff02::1");
	peerfilter_free(f);
}
END_TEST

START_TEST(bad_cidrs)
{
	struct peerfilter *f = peerfilter_new();
	char err[128];
	static const struct {
		const char *in, *why;
	} bad[] = {
		{"10.0.0.0/33", "'10.0.0.0/33': prefix length 33 out of range for IPv4 (0-32)"},
		{"2001:db8::/129", "'2001:db8::/129': prefix length 129 out of range for IPv6 (0-128)"},
		{"abc", "'abc': not an IPv4 or IPv6 address"},
		{"10.0.0.0/", "'10.0.0.0/': missing prefix length after '/'"},
		{"10.0.0.0/8x", "'10.0.0.0/8x': bad prefix length"},
		{"10.0.0.0/-1", "'10.0.0.0/-1': bad prefix length"},
		{"10.0.0.0/99999999999", "'10.0.0.0/99999999999': bad prefix length"},
		{"/8", "'/8': empty address"},
		{"", "'': empty address"},
		{"10.0.0/8", "'10.0.0/8': not an IPv4 or IPv6 address"},
		{"10.0.0.0 /8", "'10.0.0.0 /8': not an IPv4 or IPv6 address"},
		{"fe80::1%eth0", "'fe80::1%eth0': not an IPv4 or IPv6 address"},
		{"1111:2222:3333:4444:5555:6666:7777:8888:9999/64",
		 "'1111:2222:3333:4444:5555:6666:7777:8888:9999/64': not an IPv4 or IPv6 address"},
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		err[0] = '\0';
		ck_assert_int_eq(peerfilter_deny(f, bad[i].in, err, sizeof err), -1);
		ck_assert_str_eq(err, bad[i].why);
		err[0] = '\0';
		ck_assert_int_eq(peerfilter_allow(f, bad[i].in, err, sizeof err), -1);
		ck_assert_str_eq(err, bad[i].why);
	}
	/* nothing was added: defaults unchanged */
	ALLOWED(f, "10.0.0.1");
	DENIED(f, "127.0.0.1");
	ck_assert_int_eq(peerfilter_deny(f, "0.0.0.0/0", err, sizeof err), 0);
	DENIED(f, "10.0.0.1");
	ALLOWED(f, "2001:db8::1");
	peerfilter_free(f);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("turn_peerfilter");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, defaults);
	tcase_add_test(tc, not_ip);
	tcase_add_test(tc, self_addresses);
	tcase_add_test(tc, local_addresses);
	tcase_add_test(tc, deny_rules);
	tcase_add_test(tc, allow_rules);
	tcase_add_test(tc, bad_cidrs);
	suite_add_tcase(s, tc);
	return s;
}
