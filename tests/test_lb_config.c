/* test_lb_config.c: the hlb config parser: the shipped lab configs load,
 * faults change only what they name, and every error says file:line. */
#include <libgen.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "config.h"
#include "fault.h"
#include "scheduler.h"

static struct lb_config cfg;
static char err[256];

static const char *conf_path(const char *name)
{
	static char path[512];
	char here[512];

	snprintf(here, sizeof(here), "%s", __FILE__);
	snprintf(path, sizeof(path), "%s/../lb/conf/%s", dirname(here), name);
	return path;
}

static struct lb_service *svc(const char *name)
{
	for (int i = 0; i < cfg.nsvc; i++)
		if (strcmp(cfg.svc[i].name, name) == 0)
			return &cfg.svc[i];
	return NULL;
}

START_TEST(test_lab_ext_config)
{
	struct lb_service *s;
	char b[64];

	ck_assert_msg(lb_config_load(&cfg, conf_path("hlbext.conf"), err,
				  sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cfg.nsvc, 6);
	s = svc("av-udp");
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(lb_addr_str(&s->vip, b, sizeof(b)), "203.0.113.12");
	ck_assert_int_eq(s->port, 3478);
	ck_assert_int_eq(s->proto, IPPROTO_UDP);
	ck_assert_int_eq(s->mode, LB_DNAT);
	ck_assert_ptr_eq(s->sched, &sched_source);
	ck_assert_int_eq(s->mon.type, LB_MON_STUN);
	ck_assert_int_eq(s->mon.interval_ms, 1000);
	ck_assert_int_eq(s->mon.timeout_ms, 500);
	ck_assert_int_eq(s->nreals, 2);
	ck_assert_int_eq(s->reals[1].port, 3478);
	ck_assert(s->av);
	s = svc("access-sip");
	ck_assert_int_eq(s->mode, LB_SNAT);
	ck_assert_int_eq(s->noutbound, 1);
	ck_assert_int_eq(s->outbound[0], 5061);
	ck_assert_int_eq(s->tcp_timeout, 1800);
	ck_assert_str_eq(cfg.socket, ""); /* the example keeps the per-namespace default */
}
END_TEST

START_TEST(test_lab_int_config_and_m11)
{
	ck_assert_msg(lb_config_load(&cfg, conf_path("hlbint.conf"), err,
				  sizeof(err)) == 0, "%s", err);
	fault_apply(&cfg);
	/* R3a: 8057 and 23456 are not balanced... */
	ck_assert_int_eq(cfg.nsvc, 4);
	ck_assert_ptr_null(svc("int-psom"));
	/* ...unless the M11 fault is on. */
	ck_assert_int_eq(lb_config_load(&cfg, conf_path("hlbint.conf"), err,
				     sizeof(err)), 0);
	cfg.faults = fault_parse("balance-internal-direct");
	fault_apply(&cfg);
	ck_assert_int_eq(cfg.nsvc, 6);
	ck_assert(svc("int-psom")->intercept);
}
END_TEST

START_TEST(test_faults_change_what_they_say)
{
	ck_assert_int_eq(lb_config_load(&cfg, conf_path("hlbext.conf"), err,
				     sizeof(err)), 0);
	cfg.faults = fault_parse("snat-av") | fault_parse("no-affinity") |
		     fault_parse("short-tcp-idle");
	fault_apply(&cfg);
	ck_assert_int_eq(svc("av-udp")->mode, LB_SNAT);
	ck_assert_int_eq(svc("av-tcp")->mode, LB_SNAT);
	ck_assert_ptr_eq(svc("av-udp")->sched, &sched_rr);
	ck_assert_ptr_eq(svc("access-tls")->sched, &sched_leastconn);
	ck_assert_int_eq(svc("access-tls")->tcp_timeout, 660);
	ck_assert_int_eq(svc("av-udp")->udp_timeout, 300);
	ck_assert_int_eq(svc("av-udp")->mon.type, LB_MON_STUN);

	ck_assert_int_eq(lb_config_load(&cfg, conf_path("hlbext.conf"), err,
				     sizeof(err)), 0);
	cfg.faults = fault_parse("no-monitor") | fault_parse("dsr-av") |
		     fault_parse("port-translate");
	fault_apply(&cfg);
	ck_assert_int_eq(svc("av-udp")->mon.type, LB_MON_NONE);
	ck_assert(svc("av-udp")->dsr);
	ck_assert(!svc("webconf")->dsr);
	ck_assert(svc("av-tcp")->src_port_rewrite);
	ck_assert(!svc("webconf")->src_port_rewrite);
	ck_assert_uint_eq(fault_parse("nonsense"), 0);
}
END_TEST

/* M15: the A/V services forget a quiet client after 10 s (its pin, and a
 * UDP flow); TCP flows and the other services keep their timeouts. */
START_TEST(test_fault_short_av_persistence)
{
	struct lb_service *u, *t;
	uint32_t web_aff;

	ck_assert_int_eq(lb_config_load(&cfg, conf_path("hlbext.conf"), err,
				     sizeof(err)), 0);
	u = svc("av-udp");
	web_aff = svc("webconf")->affinity_timeout;
	ck_assert_uint_gt(u->affinity_timeout, LB_FAULT_SHORT_AV_PERSIST_SECONDS);
	ck_assert_uint_gt(u->udp_timeout, LB_FAULT_SHORT_AV_PERSIST_SECONDS);
	cfg.faults = fault_parse("short-av-persistence");
	ck_assert_uint_ne(cfg.faults, 0);
	fault_apply(&cfg);
	u = svc("av-udp");
	t = svc("av-tcp");
	ck_assert_uint_eq(u->affinity_timeout, 10);
	ck_assert_uint_eq(u->udp_timeout, 10);
	ck_assert_uint_eq(t->affinity_timeout, 10);
	ck_assert_uint_eq(t->tcp_timeout, 1800);
	ck_assert_ptr_eq(u->sched, &sched_source);
	ck_assert_uint_eq(svc("webconf")->affinity_timeout, web_aff);
	ck_assert_str_eq(fault_name(LB_FAULT_SHORT_AV_PERSIST), "short-av-persistence");
	ck_assert_ptr_nonnull(strstr(fault_names(), "short-av-persistence"));
}
END_TEST

static void expect_error(const char *text, const char *want)
{
	int rc = lb_config_parse(&cfg, "t.conf", text, err, sizeof(err));

	ck_assert_int_lt(rc, 0);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err,
		      want);
}

START_TEST(test_errors_name_file_and_line)
{
	const char *head = "socket /tmp/x\nservice a 192.0.2.1:80/tcp\n";
	char text[512];

	expect_error("bogus 1\n", "t.conf:1: unknown key 'bogus'");
	expect_error("\n\n", "t.conf:2: no service defined");
	expect_error("service a 192.0.2.1:80/sctp\n", "t.conf:1: service a: bad VIP:PORT/PROTO");
	expect_error("service a 192.0.2.1/tcp\n", "t.conf:1: service a: bad VIP");
	expect_error("service a 192.0.2.1:80/tcp\n", "t.conf:1: service a has no real servers");
	snprintf(text, sizeof(text), "%s real r1 192.0.2.9\n mode masq\n", head);
	expect_error(text, "t.conf:4: mode: 'masq' is not snat or dnat");
	snprintf(text, sizeof(text), "%s real r1 192.0.2.9\n scheduler wlc\n", head);
	expect_error(text, "t.conf:4: scheduler: 'wlc' is not rr, leastconn or source");
	snprintf(text, sizeof(text), "%s real r1 2001:db8::1\n", head);
	expect_error(text, "t.conf:3: real r1: address family differs");
	snprintf(text, sizeof(text), "%s real r1 192.0.2.9 weight x\n", head);
	expect_error(text, "t.conf:3: real r1: bad weight 'x'");
	snprintf(text, sizeof(text), "%s real r1 192.0.2.9\n real r1 192.0.2.8\n", head);
	expect_error(text, "t.conf:4: real: 'r1' twice");
	snprintf(text, sizeof(text), "%s real r1 192.0.2.9\n monitor ping\n", head);
	expect_error(text, "t.conf:4: monitor: unknown type 'ping'");
	snprintf(text, sizeof(text), "%s real r1 192.0.2.9\n monitor tcp interval 1 timeout 2\n", head);
	expect_error(text, "t.conf:2: service a: monitor timeout longer than interval");
	snprintf(text, sizeof(text), "%s real r1 192.0.2.9\n tcp-timeout 0\n", head);
	expect_error(text, "t.conf:4: tcp-timeout: bad value '0'");
	snprintf(text, sizeof(text), "%s real r1 192.0.2.9\nservice a 192.0.2.1:81/tcp\n", head);
	expect_error(text, "t.conf:4: service: 'a' declared twice (first at line 2)");
	snprintf(text, sizeof(text), "%s real r1 192.0.2.9\nservice b 192.0.2.1:80/tcp\n", head);
	expect_error(text, "t.conf:4: service b: 192.0.2.1:80/tcp is already service 'a'");
	snprintf(text, sizeof(text), "%s real r1 192.0.2.9\n outbound 5061\n", head);
	expect_error(text, "t.conf:2: service a: outbound needs mode snat");
	expect_error("snat-ports 80-90\nservice a 192.0.2.1:80/tcp\n", "t.conf:1: snat-ports: bad range");
	snprintf(text, sizeof(text), "%s real r1 192.0.2.9\n socket /x\n", head);
	expect_error(text, "t.conf:4: unknown key 'socket' in service a");
	ck_assert_int_lt(lb_config_load(&cfg, "/nonexistent/hlb.conf", err, sizeof(err)), 0);
	ck_assert(strstr(err, "/nonexistent/hlb.conf") != NULL);
}
END_TEST

START_TEST(test_ipv6_and_defaults)
{
	const char *text =
		"udp-timeout 60\n"
		"service av6 [2001:db8:3::12]:3478/udp\n"
		"  real e1 2001:db8:3::23 weight 2\n"
		"  real e2 2001:db8:3::33 port 3479\n";

	ck_assert_msg(lb_config_parse(&cfg, "t.conf", text, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(cfg.svc[0].vip.family, 6);
	ck_assert_int_eq(cfg.svc[0].udp_timeout, 60);
	ck_assert_int_eq(cfg.svc[0].tcp_timeout, 1800);
	ck_assert_int_eq(cfg.svc[0].reals[0].weight, 2);
	ck_assert_int_eq(cfg.svc[0].reals[1].port, 3479);
	ck_assert_int_eq(cfg.svc[0].mode, LB_DNAT);
	ck_assert_ptr_eq(cfg.svc[0].sched, &sched_rr);
	ck_assert(lb_addr_eq(&cfg.svc[0].snat_src, &cfg.svc[0].vip));
}
END_TEST

/* Issue 11: the limits' keys, their defaults and their errors. */
START_TEST(test_limits)
{
	const char *svc1 = "service a 192.0.2.1:53/udp\n real r 192.0.2.2\n";
	char text[512];

	ck_assert_int_eq(lb_config_parse(&cfg, "t.conf", svc1, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.source_flows, LB_DEFAULT_SOURCE_FLOWS);
	ck_assert_uint_eq(cfg.source_prefix6, 64);
	ck_assert_uint_eq(cfg.syn_timeout, 30);
	ck_assert_uint_eq(cfg.unreplied_timeout, 5);
	ck_assert_uint_eq(cfg.ctl_timeout_ms, 5000);
	ck_assert_str_eq(cfg.socket, ""); /* the namespace's default */
	snprintf(text, sizeof(text),
		 "source-flows 0\nsource-prefix6 56\ntcp-syn-timeout 10\n"
		 "unreplied-timeout 2\nctl-timeout 0.5\n%s", svc1);
	ck_assert_msg(lb_config_parse(&cfg, "t.conf", text, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(cfg.source_flows, 0);
	ck_assert_uint_eq(cfg.source_prefix6, 56);
	ck_assert_uint_eq(cfg.syn_timeout, 10);
	ck_assert_uint_eq(cfg.unreplied_timeout, 2);
	ck_assert_uint_eq(cfg.ctl_timeout_ms, 500);
	expect_error("source-flows -1\n", "t.conf:1: source-flows: bad count '-1'");
	expect_error("source-prefix6 16\n", "t.conf:1: source-prefix6: bad prefix length '16' (32-128)");
	expect_error("\ntcp-syn-timeout 0\n", "t.conf:2: tcp-syn-timeout: bad value '0' (seconds, 1-3600)");
	expect_error("unreplied-timeout 4000\n", "t.conf:1: unreplied-timeout: bad value");
	expect_error("ctl-timeout x\n", "t.conf:1: ctl-timeout: bad value 'x'");
}
END_TEST

Suite *test_suite(void)
{
	Suite *s = suite_create("lb_config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_lab_ext_config);
	tcase_add_test(tc, test_lab_int_config_and_m11);
	tcase_add_test(tc, test_faults_change_what_they_say);
	tcase_add_test(tc, test_fault_short_av_persistence);
	tcase_add_test(tc, test_errors_name_file_and_line);
	tcase_add_test(tc, test_ipv6_and_defaults);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return s;
}
