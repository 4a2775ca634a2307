/* test_lb_ctl.c: the control commands (R26) against an engine with no
 * TUN: list and stats describe what the config and the traffic made,
 * disable removes a real's flows and drain keeps them, enable undoes
 * both, '*' and an address name reals, and every mistake is an error
 * whose first line says so. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "ctl_cmd.h"
#include "config.h"
#include "pktbuild.h"

static struct lb_config cfg;
static struct engine eng;
static char out[8192];

static const char *conf =
	"service av-udp 203.0.113.12:3478/udp\n"
	"  scheduler source\n"
	"  real edge1 203.0.113.23\n  real edge2 203.0.113.33\n"
	"service av-tcp 203.0.113.12:443/tcp\n"
	"  real edge1 203.0.113.23\n  real edge2 203.0.113.33\n";

static void setup(void)
{
	char err[256];

	ck_assert_msg(lb_config_parse(&cfg, "t", conf, err, sizeof(err)) == 0, "%s", err);
	memset(&eng, 0, sizeof(eng));
	eng.cfg = &cfg;
	ck_assert_int_eq(nat_init(&eng.nat, &cfg, 1), 0);
}

static void teardown(void)
{
	nat_free(&eng.nat);
}

/* A new UDP flow from client port sport to the av-udp VIP. */
static void flow(uint16_t sport)
{
	struct pkt_spec s = { 4, 17, "198.51.100.10", "203.0.113.12", sport,
			      3478, 0, 20 };
	uint8_t buf[256];
	size_t len = pkt_build(buf, sizeof(buf), &s);

	ck_assert_uint_gt(len, 0);
	ck_assert_int_eq(nat_process(&eng.nat, buf, len, 10), NAT_XLATE);
}

static int run(const char *line)
{
	return ctl_cmd_run(&eng, line, out, sizeof(out));
}

static void has(const char *want)
{
	ck_assert_msg(strstr(out, want) != NULL, "answer lacks '%s':\n%s", want, out);
}

START_TEST(test_list_and_stats)
{
	flow(40000);
	ck_assert_int_eq(run("list"), 0);
	ck_assert(strncmp(out, "ok\n", 3) == 0);
	has("service av-udp 203.0.113.12:3478/udp mode dnat scheduler source affinity-timeout 1800");
	has("service av-tcp 203.0.113.12:443/tcp mode dnat scheduler rr tcp-timeout");
	has("  real edge1 203.0.113.23 port 3478 weight 1 admin enabled health up flows 1\n");
	ck_assert_int_eq(run("stats\n"), 0);
	has("engine rx 0 tx 0 tx_errors 0 xlate 1 ");
	has("conntrack flows 1 size 65536 sources 1 source_flows 4096 evicted 0 affinity 1\n");
	has("refused full 0 source_cap 0 tcp_no_syn 0 no_port 0 clash 0 tls_refused 0\n");
	has("service av-udp flows 1 flows_total 1 pkts_in 1 ");
}
END_TEST

/* Issue 11: each refusal of a new flow shows in stats by its reason. */
START_TEST(test_stats_count_refusals)
{
	char err[256], text[1024];
	struct pkt_spec ack = { 4, 6, "198.51.100.10", "203.0.113.12", 40000,
				443, 0x10, 0 };
	uint8_t b[256];
	size_t len;

	nat_free(&eng.nat);
	snprintf(text, sizeof(text), "source-flows 2\n%s", conf);
	ck_assert_msg(lb_config_parse(&cfg, "t", text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nat_init(&eng.nat, &cfg, 1), 0);
	flow(40000);
	flow(40001);
	len = pkt_build(b, sizeof(b), &(struct pkt_spec){ 4, 17, "198.51.100.10",
			"203.0.113.12", 40002, 3478, 0, 20 });
	ck_assert_int_eq(nat_process(&eng.nat, b, len, 10), NAT_DROP);
	len = pkt_build(b, sizeof(b), &ack);
	ck_assert_int_eq(nat_process(&eng.nat, b, len, 10), NAT_DROP);
	ck_assert_int_eq(run("stats"), 0);
	has("conntrack flows 2 size 65536 sources 1 source_flows 2 ");
	has("refused full 0 source_cap 1 tcp_no_syn 1 no_port 0 clash 0 tls_refused 0\n");
}
END_TEST

START_TEST(test_disable_removes_flows_drain_keeps_them)
{
	flow(40000);
	flow(40001); /* the same client: source pins it to one real */
	ck_assert_int_eq(run("drain av-udp edge1"), 0);
	has("drain edge1 in 1 service(s), 0 flow(s) removed");
	ck_assert_int_eq(cfg.svc[0].reals[0].admin, LB_DRAIN);
	ck_assert_uint_eq(eng.nat.ct.count, 2);

	/* Every service that has the real, named by its address. */
	ck_assert_int_eq(run("disable * 203.0.113.23"), 0);
	has("disabled 203.0.113.23 in 2 service(s), ");
	ck_assert_int_eq(cfg.svc[1].reals[0].admin, LB_DISABLED);
	ck_assert_int_eq(run("disable * 203.0.113.33"), 0);
	ck_assert_uint_eq(eng.nat.ct.count, 0);
	ck_assert_uint_eq(cfg.svc[0].active, 0);

	ck_assert_int_eq(run("enable * edge1"), 0);
	has("enabled edge1 in 2 service(s), 0 flow(s) removed");
	ck_assert_int_eq(cfg.svc[0].reals[0].admin, LB_ENABLED);
	ck_assert_int_eq(cfg.svc[1].reals[0].admin, LB_ENABLED);
}
END_TEST

START_TEST(test_errors)
{
	ck_assert_int_eq(run("disable nosuch edge1"), -EINVAL);
	ck_assert_str_eq(out, "error: no service 'nosuch'\n");
	ck_assert_int_eq(run("disable av-udp edge9"), -EINVAL);
	ck_assert_str_eq(out, "error: no real 'edge9' in service 'av-udp'\n");
	ck_assert_int_eq(run("list extra"), -EINVAL);
	ck_assert(strncmp(out, "error: usage:", 13) == 0);
	ck_assert_int_eq(run("enable av-udp"), -EINVAL);
	ck_assert_int_eq(run(""), -EINVAL);
	ck_assert_int_eq(cfg.svc[0].reals[0].admin, LB_ENABLED);
}
END_TEST

/* Issue 14: list --json, the versioned contract (scenarios/README.md):
 * one object per service per line, every field the suite reads, a real's
 * admin and health folded into one state. */
START_TEST(test_list_json)
{
	static const char *text =
		"service acc 203.0.113.10:5061/tcp\n"
		"  mode snat\n  tcp-timeout 1800\n"
		"  monitor tls interval 2 timeout 1 rise 2 fall 3\n"
		"  real fe1 203.0.113.23 weight 5\n  real fe2 203.0.113.33\n"
		"  real fe3 203.0.113.43\n"
		"service av6 [2001:db8::12]:3478/udp\n"
		"  scheduler source\n  affinity-timeout 700\n"
		"  real e\"1 2001:db8::23\n";
	char err[256];
	const char *line2;

	nat_free(&eng.nat);
	ck_assert_msg(lb_config_parse(&cfg, "t", text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(nat_init(&eng.nat, &cfg, 1), 0);
	ck_assert_int_eq(run("drain acc fe2"), 0);
	ck_assert_int_eq(run("disable acc fe3"), 0);
	cfg.svc[0].reals[0].up = 0;
	ck_assert_int_eq(run("list --json"), 0);
	ck_assert_str_eq(out, "ok\n"
		"{\"edgelab-lb-ctl\":1,\"service\":\"acc\",\"vip\":\"203.0.113.10\",\"port\":5061,"
		"\"proto\":\"tcp\",\"mode\":\"snat\",\"scheduler\":\"rr\",\"affinity_timeout\":null,"
		"\"tcp_idle\":1800,\"udp_idle\":300,\"snat_source\":\"203.0.113.10\","
		"\"monitor\":{\"kind\":\"tls\",\"interval_ms\":2000,\"timeout_ms\":1000,\"rise\":2,\"fall\":3},"
		"\"flows\":0,\"reals\":["
		"{\"name\":\"fe1\",\"addr\":\"203.0.113.23\",\"port\":5061,\"state\":\"down\",\"weight\":5,\"flows\":0},"
		"{\"name\":\"fe2\",\"addr\":\"203.0.113.33\",\"port\":5061,\"state\":\"draining\",\"weight\":1,\"flows\":0},"
		"{\"name\":\"fe3\",\"addr\":\"203.0.113.43\",\"port\":5061,\"state\":\"disabled\",\"weight\":1,\"flows\":0}]}\n"
		"{\"edgelab-lb-ctl\":1,\"service\":\"av6\",\"vip\":\"2001:db8::12\",\"port\":3478,"
		"\"proto\":\"udp\",\"mode\":\"dnat\",\"scheduler\":\"source\",\"affinity_timeout\":700,"
		"\"tcp_idle\":1800,\"udp_idle\":300,\"monitor\":{\"kind\":\"none\"},\"flows\":0,\"reals\":["
		"{\"name\":\"e\\\"1\",\"addr\":\"2001:db8::23\",\"port\":3478,\"state\":\"up\",\"weight\":1,\"flows\":0}]}\n");
	line2 = strchr(out + 3, '\n');
	ck_assert_ptr_nonnull(line2);

	/* Too small for the whole list: an error, never a cut JSON line. */
	ck_assert_int_eq(ctl_cmd_run(&eng, "list --json", out, 200), -EINVAL);
	ck_assert_str_eq(out, "error: the list does not fit in 200 bytes\n");
	ck_assert_int_eq(run("list --xml"), -EINVAL);
	ck_assert(strncmp(out, "error: usage: list [--json]", 27) == 0);
}
END_TEST

START_TEST(test_answer_cut_at_cap)
{
	char small[16];

	memset(small, 'x', sizeof(small));
	ck_assert_int_eq(ctl_cmd_run(&eng, "list", small, sizeof(small)), 0);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert(strncmp(small, "ok\nservice av-u", 15) == 0);
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("lb_ctl");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_list_and_stats);
	tcase_add_test(tc, test_stats_count_refusals);
	tcase_add_test(tc, test_disable_removes_flows_drain_keeps_them);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_list_json);
	tcase_add_test(tc, test_answer_cut_at_cap);
	suite_add_tcase(s, tc);
	return s;
}
