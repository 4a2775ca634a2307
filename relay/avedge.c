/* avedge: a STUN/TURN relay that behaves like the Lync/Skype for Business
 * A/V Edge service. This file: command line, start-up and shutdown. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "io/listener.h"
#include "log.h"
#include "netaddr.h"
#include "server.h"

#define MAX_LISTENERS 32

static const char usage[] =
	"usage: avedge --listen ADDR:PORT/udp|tcp [--listen ...] [options]\n"
	"\n"
	"  --listen ADDR:PORT/PROTO  listen for clients (repeatable); IPv6 as\n"
	"                            [2001:db8::1]:3478/udp\n"
	"  --software TEXT           SOFTWARE attribute (default avedge/VERSION)\n"
	"  --log-level LEVEL         error, warn, info (default) or debug\n"
	"  --help                    this text\n"
	"  --version                 print the version\n";

struct avedge {
	uv_loop_t loop;
	uv_signal_t sigint, sigterm;
	struct server srv;
	struct listener *ls[MAX_LISTENERS];
	int nls;
};

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "avedge: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see avedge --help)\n");
	exit(2);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct avedge *a = s->data;

	log_info("signal %d: stopping", signum);
	for (int i = 0; i < a->nls; i++)
		listener_close(a->ls[i]);
	uv_close((uv_handle_t *)&a->sigint, NULL);
	uv_close((uv_handle_t *)&a->sigterm, NULL);
}

static const char *bind_hint(int err)
{
	switch (err) {
	case UV_EADDRINUSE: return " (another process holds this port)";
	case UV_EACCES: return " (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
	case UV_EADDRNOTAVAIL: return " (no interface has this address)";
	default: return "";
	}
}

static void add_listener(struct avedge *a, const char *spec)
{
	struct listener *l;
	const char *why;

	if (a->nls == MAX_LISTENERS)
		die_usage("too many --listen (at most %s)", "32");
	l = calloc(1, sizeof *l);
	if (!l) {
		fprintf(stderr, "avedge: out of memory\n");
		exit(1);
	}
	if (netaddr_parse(spec, &l->addr, &l->tp, 1, &why)) {
		fprintf(stderr, "avedge: bad --listen '%s': %s (see avedge --help)\n", spec, why);
		exit(2);
	}
	if (l->tp == TP_TLS) {
		fprintf(stderr, "avedge: --listen '%s': TLS listeners are not built yet\n", spec);
		exit(2);
	}
	l->srv = &a->srv;
	a->ls[a->nls++] = l;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"software", required_argument, NULL, 's'},
		{"log-level", required_argument, NULL, 'L'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0, 0, 0, 0},
	};
	struct avedge *a = calloc(1, sizeof *a);
	int c, lvl, rc = 0;

	if (!a)
		return 1;
	log_set_name("avedge");
	a->srv.software = "avedge/" EDGELAB_VERSION;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			add_listener(a, optarg);
			break;
		case 's':
			a->srv.software = optarg;
			break;
		case 'L':
			if ((lvl = log_parse_level(optarg)) < 0)
				die_usage("unknown log level '%s'", optarg);
			log_threshold = (enum log_level)lvl;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			puts("avedge " EDGELAB_VERSION);
			return 0;
		default:
			die_usage("unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
	if (a->nls == 0)
		die_usage("%s", "nothing to do: give at least one --listen");

	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&a->loop);
	for (int i = 0; i < a->nls; i++) {
		char where[NETADDR_STRLEN];
		const char *what;
		int err = listener_start(&a->loop, a->ls[i], &what);
		netaddr_str((struct sockaddr *)&a->ls[i]->addr, where, sizeof where);
		if (err) {
			log_error("cannot %s %s/%s: %s%s", what, where,
				  transport_name(a->ls[i]->tp), uv_strerror(err), bind_hint(err));
			for (int j = 0; j <= i; j++)
				listener_close(a->ls[j]);
			rc = 1;
			goto out;
		}
		log_info("listening on %s/%s", where, transport_name(a->ls[i]->tp));
	}
	uv_signal_init(&a->loop, &a->sigint);
	uv_signal_init(&a->loop, &a->sigterm);
	a->sigint.data = a->sigterm.data = a;
	uv_signal_start(&a->sigint, on_signal, SIGINT);
	uv_signal_start(&a->sigterm, on_signal, SIGTERM);
out:
	uv_run(&a->loop, UV_RUN_DEFAULT);
	uv_loop_close(&a->loop);
	for (int i = 0; i < a->nls; i++)
		free(a->ls[i]);
	free(a);
	return rc;
}
