/* test_lb_nat.c: the packet engine on built packets: dnat keeps the
 * client's address and port, snat shows the HLB's, replies leave from
 * the VIP, direct traffic is untouched (R21), outbound from the VIP
 * (R25), fragments, ICMP errors, and the engine-level faults; what one
 * client may take (issue 11): a first TCP packet that is no SYN makes no
 * flow, one source's flood is capped and the other clients get in; M14
 * (genuine TLS only on A/V 443): the pseudo-TLS hello is answered with a
 * reset from the VIP, a real ClientHello passes, without the fault
 * nothing is inspected. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "config.h"
#include "csum.h"
#include "fault.h"
#include "nat.h"
#include "pkt.h"
#include "tlsonly.h"
#include "pktbuild.h"
#include "stun/msturn.h"

static struct lb_config cfg;
static struct nat nat;
static uint8_t buf[2048];
static size_t len;

static const char *conf =
	"snat-ports 20000-20099\n"
	"service av-udp 203.0.113.12:3478/udp\n"
	"  role av\n  mode dnat\n  scheduler source\n"
	"  real edge1 203.0.113.23\n  real edge2 203.0.113.33\n"
	"service access-sip 203.0.113.10:5061/tcp\n"
	"  mode snat\n  outbound 5061\n"
	"  real edge1 203.0.113.21\n  real edge2 203.0.113.31\n"
	"service av6 [2001:db8:3::12]:3478/udp\n"
	"  role av\n"
	"  real edge1 2001:db8:3::23\n"
	"service av-tcp 203.0.113.12:443/tcp\n"
	"  role av\n  mode dnat\n  scheduler source\n"
	"  real edge1 203.0.113.23\n"
	"service av-tcp6 [2001:db8:3::12]:443/tcp\n"
	"  role av\n"
	"  real edge1 2001:db8:3::23\n";

static void setup_faults(unsigned faults)
{
	char err[256];

	ck_assert_msg(lb_config_parse(&cfg, "t", conf, err, sizeof(err)) == 0, "%s", err);
	cfg.faults = faults;
	fault_apply(&cfg);
	ck_assert_int_eq(nat_init(&nat, &cfg, 1), 0);
}

static void setup(void)
{
	setup_faults(0);
}

static void teardown(void)
{
	nat_free(&nat);
}

static void mk(int fam, int proto, const char *src, uint16_t sport,
	       const char *dst, uint16_t dport, uint8_t flags)
{
	struct pkt_spec s = { fam, (uint8_t)proto, src, dst, sport, dport,
			      flags, 20 };

	len = pkt_build(buf, sizeof(buf), &s);
	ck_assert_uint_gt(len, 0);
}

/* The packet now in buf, checked for valid checksums. */
static void expect(const char *src, uint16_t sport, const char *dst,
		   uint16_t dport)
{
	struct pkt p;
	char s[64], d[64];
	int af;

	ck_assert_int_eq(pkt_parse(&p, buf, len), 0);
	af = p.family == 4 ? AF_INET : AF_INET6;
	inet_ntop(af, p.src, s, sizeof(s));
	inet_ntop(af, p.dst, d, sizeof(d));
	ck_assert_str_eq(s, src);
	ck_assert_str_eq(d, dst);
	if (sport)
		ck_assert_uint_eq(pkt_sport(&p), sport);
	if (dport)
		ck_assert_uint_eq(pkt_dport(&p), dport);
	if (p.family == 4)
		ck_assert_uint_eq(csum_fold(csum_partial(buf, 20, 0)), 0);
	ck_assert_uint_eq(csum_l4(p.family, p.src, p.dst, p.proto, p.l4,
				  p.l4len), 0);
}

static uint16_t cur_sport(void)
{
	struct pkt p;

	pkt_parse(&p, buf, len);
	return pkt_sport(&p);
}

START_TEST(test_dnat_keeps_client_and_replies_from_vip)
{
	mk(4, 17, "198.51.100.10", 40000, "203.0.113.12", 3478, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect("198.51.100.10", 40000, "203.0.113.23", 3478);
	mk(4, 17, "203.0.113.23", 3478, "198.51.100.10", 40000, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 11), NAT_XLATE);
	expect("203.0.113.12", 3478, "198.51.100.10", 40000);
	ck_assert_uint_eq(cfg.svc[0].reals[0].c.pkts_in, 1);
	ck_assert_uint_eq(cfg.svc[0].reals[0].c.pkts_out, 1);
	ck_assert_uint_eq(cfg.svc[0].active, 1);
}
END_TEST

START_TEST(test_direct_traffic_untouched)
{
	/* To and from a real's own address: not ours (R21). */
	mk(4, 17, "198.51.100.10", 40001, "203.0.113.33", 3478, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_PASS);
	mk(4, 17, "203.0.113.33", 3478, "198.51.100.10", 40001, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_PASS);
	expect("203.0.113.33", 3478, "198.51.100.10", 40001);
	/* A/V outbound on 3478 leaves from the node's own address. */
	mk(4, 17, "203.0.113.23", 50000, "198.51.100.20", 3478, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_PASS);
	ck_assert_uint_eq(nat.ct.count, 0);
}
END_TEST

START_TEST(test_snat_hides_client)
{
	uint16_t port;

	mk(4, 6, "198.51.100.10", 40000, "203.0.113.10", 5061, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	port = cur_sport();
	ck_assert_uint_ge(port, 20000);
	ck_assert_uint_le(port, 20099);
	expect("203.0.113.10", port, "203.0.113.21", 5061);
	mk(4, 6, "203.0.113.21", 5061, "203.0.113.10", port, 0x12);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect("203.0.113.10", 5061, "198.51.100.10", 40000);
	/* The second connection goes to the other edge (rr). */
	mk(4, 6, "198.51.100.10", 40001, "203.0.113.10", 5061, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect("203.0.113.10", 0, "203.0.113.31", 5061);
}
END_TEST

START_TEST(test_outbound_federation_from_vip)
{
	uint16_t port;

	/* R25: edge1 calls the partner on 5061; it leaves from the VIP. */
	mk(4, 6, "203.0.113.21", 45000, "198.51.100.20", 5061, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	port = cur_sport();
	expect("203.0.113.10", port, "198.51.100.20", 5061);
	mk(4, 6, "198.51.100.20", 5061, "203.0.113.10", port, 0x12);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect("198.51.100.20", 5061, "203.0.113.21", 45000);
}
END_TEST

START_TEST(test_affinity_across_flows)
{
	/* Many flows of one client land on one edge; another client's on
	 * the other (R22 source). */
	for (int i = 0; i < 10; i++) {
		mk(4, 17, "198.51.100.10", (uint16_t)(41000 + i), "203.0.113.12", 3478, 0);
		nat_process(&nat, buf, len, (uint32_t)(10 + i));
		expect("198.51.100.10", 0, "203.0.113.23", 3478);
		/* answered, so the flow outlives the unreplied timeout */
		mk(4, 17, "203.0.113.23", 3478, "198.51.100.10", (uint16_t)(41000 + i), 0);
		ck_assert_int_eq(nat_process(&nat, buf, len, (uint32_t)(10 + i)), NAT_XLATE);
	}
	mk(4, 17, "198.51.100.11", 41000, "203.0.113.12", 3478, 0);
	nat_process(&nat, buf, len, 30);
	expect("198.51.100.11", 0, "203.0.113.33", 3478);
	/* edge1 disabled: new flows of the pinned client move (R26)... */
	cfg.svc[0].reals[0].admin = LB_DISABLED;
	mk(4, 17, "198.51.100.10", 42000, "203.0.113.12", 3478, 0);
	nat_process(&nat, buf, len, 31);
	expect("198.51.100.10", 0, "203.0.113.33", 3478);
	/* ...while a drained edge keeps its existing flow. */
	cfg.svc[0].reals[0].admin = LB_DRAIN;
	mk(4, 17, "198.51.100.10", 41000, "203.0.113.12", 3478, 0);
	nat_process(&nat, buf, len, 32);
	expect("198.51.100.10", 0, "203.0.113.23", 3478);
	/* Disable flushes: the old flow is gone. */
	ck_assert_uint_eq(nat_flush_real(&nat, 0, 0), 10);
	ck_assert_uint_eq(cfg.svc[0].reals[0].active, 0);
	/* Nobody left: dropped, counted. */
	cfg.svc[0].reals[1].up = 0;
	mk(4, 17, "198.51.100.12", 41000, "203.0.113.12", 3478, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 33), NAT_DROP);
	ck_assert_uint_eq(cfg.svc[0].no_real, 1);
}
END_TEST

START_TEST(test_ipv6_dnat)
{
	mk(6, 17, "2001:db8:5::10", 40000, "2001:db8:3::12", 3478, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect("2001:db8:5::10", 40000, "2001:db8:3::23", 3478);
	mk(6, 17, "2001:db8:3::23", 3478, "2001:db8:5::10", 40000, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect("2001:db8:3::12", 3478, "2001:db8:5::10", 40000);
}
END_TEST

START_TEST(test_udp_flow_times_out)
{
	mk(4, 17, "198.51.100.10", 40000, "203.0.113.12", 3478, 0);
	nat_process(&nat, buf, len, 100);
	ck_assert_uint_eq(nat.ct.count, 1);
	for (uint32_t t = 100; t < 100 + 300 + 5000; t += 5)
		nat_tick(&nat, t);
	ck_assert_uint_eq(nat.ct.count, 0);
	ck_assert_uint_eq(cfg.svc[0].active, 0);
	/* The late reply is no longer translated. */
	mk(4, 17, "203.0.113.23", 3478, "198.51.100.10", 40000, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 5500), NAT_PASS);
}
END_TEST

START_TEST(test_fragments_follow_first)
{
	struct pkt p;
	uint8_t second[64];

	/* First fragment: a UDP header and MF set. */
	mk(4, 17, "198.51.100.10", 40000, "203.0.113.12", 3478, 0);
	buf[6] = 0x20; /* MF */
	buf[10] = buf[11] = 0;
	{
		uint16_t c = csum_ip4_header(buf, 20);
		buf[10] = (uint8_t)(c >> 8);
		buf[11] = (uint8_t)c;
	}
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	ck_assert_int_eq(pkt_parse(&p, buf, len), 0);
	ck_assert_uint_eq(p.dst[3], 23);
	/* Second fragment: offset 8 bytes, no ports; same id. */
	memset(second, 0, sizeof(second));
	memcpy(second, buf, 20);
	second[2] = 0;
	second[3] = 28;
	second[6] = 0x00;
	second[7] = 0x01;
	inet_pton(AF_INET, "203.0.113.12", second + 16);
	second[10] = second[11] = 0;
	{
		uint16_t c = csum_ip4_header(second, 20);
		second[10] = (uint8_t)(c >> 8);
		second[11] = (uint8_t)c;
	}
	ck_assert_int_eq(nat_process(&nat, second, 28, 10), NAT_XLATE);
	ck_assert_int_eq(pkt_parse(&p, second, 28), 0);
	ck_assert_uint_eq(p.dst[3], 23);
	ck_assert_uint_eq(csum_fold(csum_partial(second, 20, 0)), 0);
}
END_TEST

START_TEST(test_icmp_error_translated)
{
	uint8_t icmp[128];
	struct pkt p;
	char a[32];

	mk(4, 17, "198.51.100.10", 40000, "203.0.113.12", 3478, 0);
	nat_process(&nat, buf, len, 10);
	/* edge1 answers "port unreachable", quoting the packet it got. */
	memset(icmp, 0, sizeof(icmp));
	icmp[0] = 0x45;
	icmp[3] = (uint8_t)(20 + 8 + len);
	icmp[8] = 64;
	icmp[9] = 1;
	inet_pton(AF_INET, "203.0.113.23", icmp + 12);
	inet_pton(AF_INET, "198.51.100.10", icmp + 16);
	icmp[20] = 3;
	icmp[21] = 3;
	memcpy(icmp + 28, buf, len);
	ck_assert_int_eq(pkt_parse(&p, icmp, 28 + len), 0);
	pkt_csum_recompute(&p);
	ck_assert_int_eq(nat_process(&nat, icmp, 28 + len, 11), NAT_XLATE);
	ck_assert_str_eq(inet_ntop(AF_INET, icmp + 12, a, sizeof(a)), "203.0.113.12");
	ck_assert_str_eq(inet_ntop(AF_INET, icmp + 28 + 16, a, sizeof(a)), "203.0.113.12");
	ck_assert_uint_eq(csum_fold(csum_partial(icmp, 20, 0)), 0);
	ck_assert_uint_eq(csum_fold(csum_partial(icmp + 20, 8 + len, 0)), 0);
	ck_assert_uint_eq(csum_fold(csum_partial(icmp + 28, 20, 0)), 0);
}
END_TEST

START_TEST(test_fault_port_translate)
{
	teardown();
	setup_faults(LB_FAULT_PORT_TRANSLATE);
	mk(4, 17, "198.51.100.10", 40000, "203.0.113.12", 3478, 0);
	nat_process(&nat, buf, len, 10);
	ck_assert_uint_ne(cur_sport(), 40000); /* M6: the edge sees another port */
	expect("198.51.100.10", 0, "203.0.113.23", 3478);
}
END_TEST

START_TEST(test_fault_dsr_av)
{
	teardown();
	setup_faults(LB_FAULT_DSR_AV);
	mk(4, 17, "198.51.100.10", 40000, "203.0.113.12", 3478, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	mk(4, 17, "203.0.113.23", 3478, "198.51.100.10", 40000, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_PASS); /* M12 */
	expect("203.0.113.23", 3478, "198.51.100.10", 40000);
}
END_TEST

START_TEST(test_fault_snat_all_outbound)
{
	teardown();
	setup_faults(LB_FAULT_SNAT_ALL_OUTBOUND);
	/* M3: the answer to a direct request leaves from the VIP. */
	mk(4, 17, "203.0.113.33", 3478, "198.51.100.10", 40001, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect("203.0.113.12", 3478, "198.51.100.10", 40001);
}
END_TEST

static struct lb_addr addr_of(const char *text)
{
	struct lb_addr a;

	ck_assert_int_eq(lb_addr_parse(&a, text), 0);
	return a;
}

/* M3's fix: with snat-all-outbound, what a real sends to the HLB's own
 * addresses (its monitors' connections, pings to it) is not rewritten;
 * what it sends on still leaves from the VIP. */
START_TEST(test_fault_snat_all_outbound_spares_hlb_addresses)
{
	struct lb_addr local[2];
	uint16_t port;

	teardown();
	setup_faults(LB_FAULT_SNAT_ALL_OUTBOUND);
	local[0] = addr_of("203.0.113.1");
	local[1] = addr_of("2001:db8:3::10");
	nat_set_local(&nat, local, 2);
	/* The answer to the tcp monitor's SYN, real -> HLB address. */
	mk(4, 6, "203.0.113.21", 5061, "203.0.113.1", 40000, 0x12);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_PASS);
	expect("203.0.113.21", 5061, "203.0.113.1", 40000);
	/* The stun monitor's answer, on an A/V real. */
	mk(4, 17, "203.0.113.23", 3478, "203.0.113.1", 50000, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_PASS);
	expect("203.0.113.23", 3478, "203.0.113.1", 50000);
	mk(6, 17, "2001:db8:3::23", 3478, "2001:db8:3::10", 50000, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_PASS);
	expect("2001:db8:3::23", 3478, "2001:db8:3::10", 50000);
	ck_assert_uint_eq(nat.ct.count, 0);
	ck_assert_uint_eq(cfg.svc[1].c.flows, 0);
	/* The same real calling out elsewhere is still rewritten (M3). */
	mk(4, 6, "203.0.113.21", 45000, "198.51.100.20", 80, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	port = cur_sport();
	expect("203.0.113.10", port, "198.51.100.20", 80);
	mk(6, 17, "2001:db8:3::23", 3478, "2001:db8:5::10", 40000, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect("2001:db8:3::12", 3478, "2001:db8:5::10", 40000);
	ck_assert_uint_eq(nat.ct.count, 2);
}
END_TEST

/* Without the fault, a real's traffic to anywhere but its snat
 * outbound ports is nobody's business. */
START_TEST(test_no_fault_no_catch_all)
{
	struct lb_addr local = addr_of("203.0.113.1");

	nat_set_local(&nat, &local, 1);
	mk(4, 6, "203.0.113.21", 45000, "198.51.100.20", 80, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_PASS);
	expect("203.0.113.21", 45000, "198.51.100.20", 80);
	ck_assert_uint_eq(nat.ct.count, 0);
}
END_TEST

/* An ICMPv6 error (type, code) from src to dst quoting the packet now in
 * buf; into icmp, returns its length. */
static size_t icmp6_error(uint8_t *icmp, uint8_t type, uint8_t code,
			  const char *src, const char *dst)
{
	size_t n = 40 + 8 + len;
	struct pkt p;

	memset(icmp, 0, n);
	icmp[0] = 0x60;
	icmp[4] = (uint8_t)((n - 40) >> 8);
	icmp[5] = (uint8_t)(n - 40);
	icmp[6] = 58;
	icmp[7] = 64;
	inet_pton(AF_INET6, src, icmp + 8);
	inet_pton(AF_INET6, dst, icmp + 24);
	icmp[40] = type;
	icmp[41] = code;
	memcpy(icmp + 48, buf, len);
	ck_assert_int_eq(pkt_parse(&p, icmp, n), 0);
	pkt_csum_recompute(&p);
	return n;
}

START_TEST(test_icmp6_error_translated)
{
	uint8_t icmp[256];
	struct pkt p;
	char a[64];
	size_t n;

	/* A dnat flow, then edge1 answers "port unreachable" to the client
	 * (dnat: it saw the client's own address), quoting what it got. */
	mk(6, 17, "2001:db8:5::10", 40000, "2001:db8:3::12", 3478, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	n = icmp6_error(icmp, 1, 4, "2001:db8:3::23", "2001:db8:5::10");
	ck_assert_int_eq(nat_process(&nat, icmp, n, 11), NAT_XLATE);
	/* Outer: from the VIP to the client; quote: client -> VIP. */
	ck_assert_str_eq(inet_ntop(AF_INET6, icmp + 8, a, sizeof(a)), "2001:db8:3::12");
	ck_assert_str_eq(inet_ntop(AF_INET6, icmp + 24, a, sizeof(a)), "2001:db8:5::10");
	ck_assert_str_eq(inet_ntop(AF_INET6, icmp + 48 + 8, a, sizeof(a)), "2001:db8:5::10");
	ck_assert_str_eq(inet_ntop(AF_INET6, icmp + 48 + 24, a, sizeof(a)), "2001:db8:3::12");
	ck_assert_uint_eq((unsigned)(icmp[48 + 40] << 8 | icmp[48 + 41]), 40000);
	ck_assert_uint_eq((unsigned)(icmp[48 + 42] << 8 | icmp[48 + 43]), 3478);
	ck_assert_int_eq(pkt_parse(&p, icmp, n), 0);
	ck_assert_uint_eq(csum_l4(6, p.src, p.dst, 58, p.l4, p.l4len), 0);
	/* The quoted UDP header's checksum matches the quoted addresses. */
	ck_assert_uint_eq(csum_l4(6, icmp + 48 + 8, icmp + 48 + 24, 17,
				  icmp + 48 + 40, len - 40), 0);
	ck_assert_uint_eq(nat.st.icmp, 1);
}
END_TEST

/* Neighbour discovery and echo are not errors: never rewritten, even
 * when they match a flow's addresses. */
START_TEST(test_icmp6_non_errors_pass)
{
	uint8_t icmp[256], before[256];
	size_t n;

	mk(6, 17, "2001:db8:5::10", 40000, "2001:db8:3::12", 3478, 0);
	nat_process(&nat, buf, len, 10);
	for (unsigned t = 128; t <= 137; t++) {
		if (t == 130 || t == 131 || t == 132)
			continue; /* MLD */
		n = icmp6_error(icmp, (uint8_t)t, 0, "2001:db8:3::23", "2001:db8:5::10");
		memcpy(before, icmp, n);
		ck_assert_int_eq(nat_process(&nat, icmp, n, 11), NAT_PASS);
		ck_assert_mem_eq(icmp, before, n);
	}
	/* An error about a flow hlb does not know is passed too. */
	mk(6, 17, "2001:db8:5::99", 40000, "2001:db8:3::23", 3478, 0);
	n = icmp6_error(icmp, 1, 4, "2001:db8:3::23", "2001:db8:5::99");
	memcpy(before, icmp, n);
	ck_assert_int_eq(nat_process(&nat, icmp, n, 11), NAT_PASS);
	ck_assert_mem_eq(icmp, before, n);
}
END_TEST

START_TEST(test_fault_snat_av)
{
	teardown();
	setup_faults(LB_FAULT_SNAT_AV);
	mk(4, 17, "198.51.100.10", 40000, "203.0.113.12", 3478, 0);
	nat_process(&nat, buf, len, 10);
	expect("203.0.113.12", 0, "203.0.113.23", 3478); /* M1 */
}
END_TEST

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A client's TCP segment carrying data (seq 1000, ack 5000). */
static void mk_data(int fam, const char *src, uint16_t sport, const char *dst,
		    uint16_t dport, const uint8_t *data, size_t n)
{
	struct pkt_spec s = { fam, 6, src, dst, sport, dport, PKT_TCP_ACK | 0x08, n };
	struct pkt p;

	len = pkt_build(buf, sizeof(buf), &s);
	ck_assert_uint_gt(len, 0);
	memcpy(buf + len - n, data, n);
	ck_assert_int_eq(pkt_parse(&p, buf, len), 0);
	wr32(p.l4 + 4, 1000);
	wr32(p.l4 + 8, 5000);
	pkt_csum_recompute(&p);
}

/* The start of a TLS 1.2 ClientHello as OpenSSL sends it (record 3.1,
 * client_version 3.3), the rest of its 512 bytes zero. */
static size_t tls12_hello(uint8_t *h)
{
	static const uint8_t head[] = { 22, 3, 1, 0x01, 0xfc, 1, 0, 0x01, 0xf8, 3, 3 };

	memset(h, 0, 512);
	memcpy(h, head, sizeof(head));
	return 512;
}

START_TEST(test_fault_tls_only_resets_pseudo_tls)
{
	static const struct { int fam; const char *client, *vip, *real; } c[] = {
		{ 4, "198.51.100.10", "203.0.113.12", "203.0.113.23" },
		{ 6, "2001:db8:1::10", "2001:db8:3::12", "2001:db8:3::23" },
	};
	uint8_t hello[MSTURN_PTLS_HELLO_LEN];
	int i = _i;
	struct pkt p;

	teardown();
	setup_faults(LB_FAULT_TLS_ONLY_AV);
	msturn_ptls_hello(hello);
	mk(c[i].fam, 6, c[i].client, 40000, c[i].vip, 443, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect(c[i].client, 40000, c[i].real, 443); /* the handshake passes */
	mk_data(c[i].fam, c[i].client, 40000, c[i].vip, 443, hello, sizeof(hello));
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_REPLY);
	/* The answer: a reset from the VIP to the client that acknowledges
	 * the hello, in sequence with what the client acknowledged. */
	len = nat.reply_len;
	ck_assert_uint_eq(len, (c[i].fam == 4 ? 20u : 40u) + 20u);
	expect(c[i].vip, 443, c[i].client, 40000);
	pkt_parse(&p, buf, len);
	ck_assert_uint_eq(p.tcp_flags, PKT_TCP_RST | PKT_TCP_ACK);
	ck_assert_uint_eq(rd32(p.l4 + 4), 5000);
	ck_assert_uint_eq(rd32(p.l4 + 8), 1000 + sizeof(hello));
	ck_assert_uint_eq(nat.st.tls_refused, 1);
	ck_assert_int_eq(nat.ct.flows[0].state, CT_TCP_CLOSE);
}
END_TEST

START_TEST(test_fault_tls_only_passes_real_tls)
{
	uint8_t hello[512], frame[8] = { 2, 0, 0, 4, 1, 2, 3, 4 };
	size_t n = tls12_hello(hello);

	teardown();
	setup_faults(LB_FAULT_TLS_ONLY_AV);
	mk(4, 6, "198.51.100.10", 40000, "203.0.113.12", 443, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	mk_data(4, "198.51.100.10", 40000, "203.0.113.12", 443, hello, n);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect("198.51.100.10", 40000, "203.0.113.23", 443);
	ck_assert_int_eq(memcmp(buf + len - n, hello, n), 0);
	/* Inspection ends with the first payload: later bytes are the
	 * encrypted stream's, never looked at. */
	ck_assert_uint_eq(nat.ct.flows[0].flags & CT_F_TLSCHECK, 0);
	mk_data(4, "198.51.100.10", 40000, "203.0.113.12", 443, frame, sizeof(frame));
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	ck_assert_uint_eq(nat.st.tls_refused, 0);
	/* Other A/V services are not inspected: 3478/udp carries anything. */
	mk(4, 17, "198.51.100.10", 40001, "203.0.113.12", 3478, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	/* Nor are the other versions and shapes a device would refuse let
	 * by: TLS 1.0, a record that is no handshake, a ServerHello. */
	ck_assert_int_eq(tlsonly_hello_ok(hello, n), 1);
	hello[10] = 1;
	ck_assert_int_eq(tlsonly_hello_ok(hello, n), 0);
	hello[10] = 3, hello[0] = 23;
	ck_assert_int_eq(tlsonly_hello_ok(hello, n), 0);
	hello[0] = 22, hello[5] = 2;
	ck_assert_int_eq(tlsonly_hello_ok(hello, n), 0);
	hello[5] = 1;
	ck_assert_int_eq(tlsonly_hello_ok(hello, 10), 0);
}
END_TEST

START_TEST(test_no_fault_no_tls_inspection)
{
	uint8_t hello[MSTURN_PTLS_HELLO_LEN];

	msturn_ptls_hello(hello);
	mk(4, 6, "198.51.100.10", 40000, "203.0.113.12", 443, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	ck_assert_uint_eq(nat.ct.flows[0].flags & CT_F_TLSCHECK, 0);
	mk_data(4, "198.51.100.10", 40000, "203.0.113.12", 443, hello, sizeof(hello));
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect("198.51.100.10", 40000, "203.0.113.23", 443);
	ck_assert_uint_eq(nat.st.tls_refused, 0);
}
END_TEST

START_TEST(test_tcp_port_reuse_after_close)
{
	mk(4, 6, "198.51.100.10", 40000, "203.0.113.10", 5061, PKT_TCP_SYN);
	nat_process(&nat, buf, len, 10);
	mk(4, 6, "198.51.100.10", 40000, "203.0.113.10", 5061, PKT_TCP_RST);
	nat_process(&nat, buf, len, 11);
	ck_assert_uint_eq(nat.ct.count, 1);
	mk(4, 6, "198.51.100.10", 40000, "203.0.113.10", 5061, PKT_TCP_SYN);
	nat_process(&nat, buf, len, 12);
	expect("203.0.113.10", 0, "203.0.113.31", 5061); /* a new flow, next real */
	ck_assert_uint_eq(nat.st.flows, 2);
}
END_TEST

START_TEST(test_tcp_first_packet_not_syn_dropped)
{
	static const uint8_t flags[] = { PKT_TCP_ACK, PKT_TCP_ACK | 0x08,
					 PKT_TCP_SYN | PKT_TCP_ACK, PKT_TCP_FIN,
					 PKT_TCP_RST, 0 };

	/* No flow, and not a SYN: dropped and counted, nothing tracked,
	 * no real picked. */
	for (unsigned i = 0; i < sizeof(flags); i++) {
		mk(4, 6, "198.51.100.10", (uint16_t)(40000 + i), "203.0.113.10",
		   5061, flags[i]);
		ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_DROP);
	}
	ck_assert_uint_eq(nat.st.tcp_no_syn, sizeof(flags));
	ck_assert_uint_eq(nat.ct.count, 0);
	ck_assert_uint_eq(cfg.svc[1].c.flows, 0);
	/* A SYN makes the flow; the handshake completes it. */
	mk(4, 6, "198.51.100.10", 40000, "203.0.113.10", 5061, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	uint16_t port = cur_sport();
	mk(4, 6, "203.0.113.21", 5061, "203.0.113.10", port, 0x12);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	mk(4, 6, "198.51.100.10", 40000, "203.0.113.10", 5061, PKT_TCP_ACK);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	ck_assert_int_eq(nat.ct.flows[0].state, CT_TCP_EST);
	ck_assert_uint_eq(ct_timeout(&nat.ct, &nat.ct.flows[0]), LB_DEFAULT_TCP_IDLE);
}
END_TEST

START_TEST(test_one_source_capped_others_get_in)
{
	struct ct_limits lim = { .src_max = 100 };
	int ok = 0, dropped = 0;

	ct_set_limits(&nat.ct, &lim);
	/* One client, many ports, nothing answers. */
	for (int i = 0; i < 300; i++) {
		mk(4, 17, "198.51.100.10", (uint16_t)(30000 + i), "203.0.113.12", 3478, 0);
		int v = nat_process(&nat, buf, len, 100);
		ok += v == NAT_XLATE;
		dropped += v == NAT_DROP;
	}
	ck_assert_int_eq(ok, 100);
	ck_assert_int_eq(dropped, 200);
	ck_assert_uint_eq(nat.ct.src_capped, 200);
	ck_assert_uint_eq(cfg.svc[0].c.flows, 100); /* no real picked for the rest */
	/* Another client, to both services, is not held by it. */
	mk(4, 17, "198.51.100.11", 30000, "203.0.113.12", 3478, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 101), NAT_XLATE);
	mk(4, 6, "198.51.100.11", 30001, "203.0.113.10", 5061, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 101), NAT_XLATE);
	/* Unanswered flows go in the unreplied timeout (the sweep walks the
	 * table in 16 ticks, on the fake clock), and the first client may
	 * start flows again. */
	for (uint32_t t = 100 + CT_TIMEOUT_UNREPLIED; t < 125; t++)
		nat_tick(&nat, t);
	ck_assert_uint_eq(nat.ct.count, 1); /* the SYN: the SYN timeout */
	mk(4, 17, "198.51.100.10", 31000, "203.0.113.12", 3478, 0);
	ck_assert_int_eq(nat_process(&nat, buf, len, 125), NAT_XLATE);
}
END_TEST

START_TEST(test_outbound_refused_is_dropped_not_leaked)
{
	struct ct_limits lim = { .src_max = 1 };

	ct_set_limits(&nat.ct, &lim);
	/* R25: the edge's first federation flow leaves from the VIP... */
	mk(4, 6, "203.0.113.21", 45000, "198.51.100.20", 5061, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_XLATE);
	expect("203.0.113.10", 0, "198.51.100.20", 5061);
	/* ...one it may not have is dropped, never sent from its own
	 * address. */
	mk(4, 6, "203.0.113.21", 45001, "198.51.100.20", 5061, PKT_TCP_SYN);
	ck_assert_int_eq(nat_process(&nat, buf, len, 10), NAT_DROP);
	ck_assert_uint_eq(nat.ct.src_capped, 1);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("lb_nat");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dnat_keeps_client_and_replies_from_vip);
	tcase_add_test(tc, test_direct_traffic_untouched);
	tcase_add_test(tc, test_snat_hides_client);
	tcase_add_test(tc, test_outbound_federation_from_vip);
	tcase_add_test(tc, test_affinity_across_flows);
	tcase_add_test(tc, test_ipv6_dnat);
	tcase_add_test(tc, test_udp_flow_times_out);
	tcase_add_test(tc, test_fragments_follow_first);
	tcase_add_test(tc, test_icmp_error_translated);
	tcase_add_test(tc, test_fault_port_translate);
	tcase_add_test(tc, test_fault_dsr_av);
	tcase_add_test(tc, test_fault_snat_all_outbound);
	tcase_add_test(tc, test_fault_snat_all_outbound_spares_hlb_addresses);
	tcase_add_test(tc, test_no_fault_no_catch_all);
	tcase_add_test(tc, test_icmp6_error_translated);
	tcase_add_test(tc, test_icmp6_non_errors_pass);
	tcase_add_test(tc, test_fault_snat_av);
	tcase_add_test(tc, test_tcp_port_reuse_after_close);
	tcase_add_test(tc, test_tcp_first_packet_not_syn_dropped);
	tcase_add_test(tc, test_one_source_capped_others_get_in);
	tcase_add_test(tc, test_outbound_refused_is_dropped_not_leaked);
	tcase_add_loop_test(tc, test_fault_tls_only_resets_pseudo_tls, 0, 2);
	tcase_add_test(tc, test_fault_tls_only_passes_real_tls);
	tcase_add_test(tc, test_no_fault_no_tls_inspection);
	suite_add_tcase(s, tc);
	return s;
}
