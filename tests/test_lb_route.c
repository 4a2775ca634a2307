/* test_lb_route.c: which policy rules hlb would install (route.h), read
 * from route_steer_rules() without touching the kernel: M3's catch-all
 * steers only TCP and UDP (an all-protocol rule would take a real's
 * neighbour discovery into the TUN), ICMPv6 from a real is steered only
 * when it is not for the HLB itself, and nothing else is caught. */
#include <linux/fib_rules.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "fault.h"
#include "config.h"
#include "route.h"

#define MAXR 512

static struct lb_config cfg;
static struct route_sel r[MAXR];

static const char *conf =
	"pref 100\ntable 200\n"
	"service av-udp 203.0.113.12:3478/udp\n"
	"  role av\n  mode dnat\n"
	"  real edge1 203.0.113.23\n  real edge2 203.0.113.33\n"
	"service access-sip 203.0.113.10:5061/tcp\n"
	"  mode snat\n  outbound 5061\n"
	"  real edge1 203.0.113.21\n  real edge2 203.0.113.31\n"
	"service av6 [2001:db8:3::12]:3478/udp\n"
	"  role av\n  mode dnat\n"
	"  real edge1 2001:db8:3::23\n";

static int load(unsigned faults, int family)
{
	char err[256];
	int n;

	ck_assert_msg(lb_config_parse(&cfg, "t", conf, err, sizeof(err)) == 0, "%s", err);
	cfg.faults = faults;
	fault_apply(&cfg);
	n = route_steer_rules(&cfg, family, r, MAXR);
	ck_assert_int_le(n, MAXR);
	ck_assert_int_eq(route_steer_rules(&cfg, family, NULL, 0), n);
	return n;
}

static int is(const struct lb_addr *a, const char *text)
{
	struct lb_addr b;

	ck_assert_int_eq(lb_addr_parse(&b, text), 0);
	return a && lb_addr_eq(a, &b);
}

/* How many rules match src (or NULL: none), dst (or NULL: none), proto,
 * with no ports, going to table. */
static int count(int n, const char *src, const char *dst, int proto,
		 uint32_t table)
{
	int c = 0;

	for (int i = 0; i < n; i++) {
		if (src ? !is(r[i].src, src) : r[i].src != NULL)
			continue;
		if (dst ? !is(r[i].dst, dst) : r[i].dst != NULL)
			continue;
		if (r[i].proto == proto && !r[i].sport && !r[i].dport_lo &&
		    r[i].table == table)
			c++;
	}
	return c;
}

static void all_sane(int n)
{
	for (int i = 0; i < n; i++) {
		/* Every rule names a protocol and an address: nothing is
		 * caught wholesale. */
		ck_assert_uint_ne(r[i].proto, 0);
		ck_assert(r[i].src || r[i].dst);
		ck_assert_int_eq(r[i].action, FR_ACT_TO_TBL);
		ck_assert_uint_gt(r[i].prio, cfg.pref);
		ck_assert_uint_lt(r[i].prio, cfg.pref + 100);
		/* Neighbour discovery is never steered: ICMPv6 goes to the
		 * TUN's table only from a real, after the local lookup. */
		if (r[i].proto == IPPROTO_ICMPV6 && r[i].table == cfg.table) {
			ck_assert_ptr_nonnull(r[i].src);
			ck_assert_ptr_null(r[i].dst);
		}
	}
}

START_TEST(test_m3_catch_all_is_tcp_and_udp_only)
{
	const char *reals4[] = { "203.0.113.23", "203.0.113.33",
				 "203.0.113.21", "203.0.113.31" };
	int n = load(LB_FAULT_SNAT_ALL_OUTBOUND, 4);

	all_sane(n);
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(count(n, reals4[i], NULL, IPPROTO_TCP, 200), 1);
		ck_assert_int_eq(count(n, reals4[i], NULL, IPPROTO_UDP, 200), 1);
		ck_assert_int_eq(count(n, reals4[i], NULL, 0, 200), 0);
	}
	n = load(LB_FAULT_SNAT_ALL_OUTBOUND, 6);
	all_sane(n);
	ck_assert_int_eq(count(n, "2001:db8:3::23", NULL, IPPROTO_TCP, 200), 1);
	ck_assert_int_eq(count(n, "2001:db8:3::23", NULL, IPPROTO_UDP, 200), 1);
	ck_assert_int_eq(count(n, "2001:db8:3::23", NULL, 0, 200), 0);
}
END_TEST

START_TEST(test_no_catch_all_without_m3)
{
	int n = load(0, 4);

	all_sane(n);
	ck_assert_int_eq(count(n, "203.0.113.21", NULL, IPPROTO_TCP, 200), 0);
	ck_assert_int_eq(count(n, "203.0.113.23", NULL, IPPROTO_UDP, 200), 0);
	/* What is steered: the VIPs, dnat replies by source port, R25
	 * outbound by destination port, ICMP from reals and to VIPs. */
	ck_assert_int_eq(count(n, NULL, "203.0.113.12", IPPROTO_UDP, 200), 1);
	ck_assert_int_eq(count(n, NULL, "203.0.113.10", IPPROTO_TCP, 200), 1);
	ck_assert_int_eq(count(n, "203.0.113.23", NULL, IPPROTO_ICMP, 200), 1);
	ck_assert_int_eq(count(n, NULL, "203.0.113.12", IPPROTO_ICMP, 200), 1);
	for (int i = 0; i < n; i++) {
		if (is(r[i].src, "203.0.113.23") && r[i].proto == IPPROTO_UDP)
			ck_assert_uint_eq(r[i].sport, 3478);
		if (is(r[i].src, "203.0.113.21") && r[i].proto == IPPROTO_TCP) {
			ck_assert_uint_eq(r[i].dport_lo, 5061);
			ck_assert_uint_eq(r[i].dport_hi, 5061);
		}
	}
}
END_TEST

START_TEST(test_icmp6_from_real_after_local_lookup)
{
	int n = load(0, 6), local = -1, tun = -1;

	all_sane(n);
	for (int i = 0; i < n; i++) {
		if (r[i].proto != IPPROTO_ICMPV6)
			continue;
		ck_assert(is(r[i].src, "2001:db8:3::23"));
		if (r[i].table == 255)
			local = i;
		else if (r[i].table == 200)
			tun = i;
	}
	ck_assert_int_ge(local, 0);
	ck_assert_int_ge(tun, 0);
	/* The local lookup comes first, so neighbour discovery, MLD and
	 * answers to hlb's own probes are delivered, never steered. */
	ck_assert_uint_lt(r[local].prio, r[tun].prio);
	/* No ICMPv6 to the VIP: unicast neighbour probes go there. */
	ck_assert_int_eq(count(n, NULL, "2001:db8:3::12", IPPROTO_ICMPV6, 200), 0);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("lb_route");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_m3_catch_all_is_tcp_and_udp_only);
	tcase_add_test(tc, test_no_catch_all_without_m3);
	tcase_add_test(tc, test_icmp6_from_real_after_local_lookup);
	suite_add_tcase(s, tc);
	return s;
}
