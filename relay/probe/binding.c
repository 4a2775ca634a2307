/* binding.c: `edgeprobe binding HOST:PORT`: one STUN Binding, and what came
 * back: the address the answer came from as the socket saw it, the mapped
 * addresses, RESPONSE-ORIGIN and the round-trip time. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe.h"

static const char usage[] =
	"usage: edgeprobe binding HOST:PORT [--tcp|--tls] [--bind ADDR[:PORT]] [--json]\n"
	"                         [--timeout MS]\n";

struct binding_result {
	char from[NETADDR_STRLEN], local[NETADDR_STRLEN];
	char xor_mapped[NETADDR_STRLEN], mapped[NETADDR_STRLEN];
	char origin[NETADDR_STRLEN], software[128];
	double rtt_ms;
};

static void addr_attr(const struct stun_msg *m, uint16_t type, char *out)
{
	struct sockaddr_storage ss;

	if (stun_msg_addr(m, type, &ss))
		out[0] = 0;
	else
		netaddr_str((struct sockaddr *)&ss, out, NETADDR_STRLEN);
}

static void print_field(int json, int *first, const char *key, const char *val)
{
	if (!val[0])
		return;
	if (json)
		printf("%s\"%s\":\"%s\"", *first ? "" : ",", key, val);
	else
		printf("  %-16s %s\n", key, val);
	*first = 0;
}

static int report_error(const struct probe_opts *o, const char *why)
{
	if (o->json)
		printf("{\"op\":\"binding\",\"target\":\"%s\",\"transport\":\"%s\",\"error\":\"%s\"}\n",
		       o->target, transport_name(o->tp), why);
	fprintf(stderr, "edgeprobe: binding %s/%s: %s\n", o->target, transport_name(o->tp), why);
	return 1;
}

int probe_binding_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"tcp", no_argument, NULL, 't'},
		{"tls", no_argument, NULL, 'L'}, /* no certificate check: lab certificates */
		{"bind", required_argument, NULL, 'b'},
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{0, 0, 0, 0},
	};
	struct probe_opts o = {.tp = TP_UDP, .timeout_ms = 3000};
	struct probe_sock *ps = malloc(sizeof *ps);
	struct binding_result r = {0};
	struct sockaddr_storage from;
	struct stun_msg m;
	struct stun_writer w;
	uint8_t req[64], tid[STUN_TID_LEN];
	char err[256], num[32];
	double t0;
	int c, n, first = 1, rc = 1;

	if (!ps)
		return 1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': o.tp = TP_TCP; break;
		case 'L': o.tp = TP_TLS; break;
		case 'b': o.bind = optarg; break;
		case 'j': o.json = 1; break;
		case 'T': o.timeout_ms = atoi(optarg); break;
		case 'h': fputs(usage, stdout); free(ps); return 0;
		default:
			fprintf(stderr, "edgeprobe binding: unknown or incomplete option '%s'\n%s",
				argv[optind - 1], usage);
			free(ps);
			return 2;
		}
	}
	if (optind != argc - 1 || o.timeout_ms <= 0) {
		fputs(usage, stderr);
		free(ps);
		return 2;
	}
	o.target = argv[optind];

	if (probe_open(ps, &o, err, sizeof err)) {
		rc = report_error(&o, err);
		goto out;
	}
	stun_tid_random(tid);
	stun_writer_init(&w, req, sizeof req, STUN_BINDING, STUN_REQUEST, tid);
	stun_put_fingerprint(&w);
	n = stun_writer_finish(&w);
	t0 = probe_now_ms();
	if (probe_transact(ps, req, (size_t)n, &m, &from, o.timeout_ms, err, sizeof err)) {
		rc = report_error(&o, err);
		goto out;
	}
	r.rtt_ms = probe_now_ms() - t0;
	if (m.cls == STUN_ERROR) {
		const struct stun_attr *ea = stun_msg_attr(&m, STUN_A_ERROR_CODE);
		int code = 0;
		const char *reason = "";
		size_t rl = 0;
		if (ea)
			stun_attr_error(ea, &code, &reason, &rl);
		snprintf(err, sizeof err, "error response %d %.*s", code, (int)rl, reason);
		rc = report_error(&o, err);
		goto out;
	}
	netaddr_str((struct sockaddr *)&from, r.from, sizeof r.from);
	netaddr_str((struct sockaddr *)&ps->local, r.local, sizeof r.local);
	addr_attr(&m, STUN_A_XOR_MAPPED_ADDRESS, r.xor_mapped);
	addr_attr(&m, STUN_A_MAPPED_ADDRESS, r.mapped);
	addr_attr(&m, STUN_A_RESPONSE_ORIGIN, r.origin);
	{
		const struct stun_attr *sw = stun_msg_attr(&m, STUN_A_SOFTWARE);
		size_t i, k = 0;
		/* Printable ASCII only: it lands in JSON and terminals. */
		for (i = 0; sw && i < sw->len && k < sizeof r.software - 1; i++)
			if (sw->val[i] >= 0x20 && sw->val[i] < 0x7f && sw->val[i] != '"' &&
			    sw->val[i] != '\\')
				r.software[k++] = (char)sw->val[i];
		r.software[k] = 0;
	}
	snprintf(num, sizeof num, "%.3f", r.rtt_ms);

	if (o.json)
		printf("{\"op\":\"binding\",\"target\":\"%s\",\"transport\":\"%s\",", o.target,
		       transport_name(o.tp));
	else
		printf("binding %s/%s\n", o.target, transport_name(o.tp));
	print_field(o.json, &first, "from", r.from);
	print_field(o.json, &first, "local", r.local);
	print_field(o.json, &first, "xor_mapped", r.xor_mapped);
	print_field(o.json, &first, "mapped", r.mapped);
	print_field(o.json, &first, "response_origin", r.origin);
	print_field(o.json, &first, "software", r.software);
	if (o.json)
		printf(",\"rtt_ms\":%s}\n", num);
	else
		printf("  %-16s %s ms\n", "rtt", num);
	rc = r.xor_mapped[0] || r.mapped[0] ? 0 : report_error(&o, "answer has no mapped address");
out:
	probe_close(ps);
	free(ps);
	return rc;
}
