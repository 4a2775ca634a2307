/* hlb.c: the HLB emulator's entry point (SPEC §4). `hlb --config FILE`
 * runs the balancer; `hlb ctl ...` talks to a running one. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "config.h"
#include "ctl.h"
#include "ctl_cmd.h"
#include "engine.h"
#include "fault.h"
#include "monitor.h"
#include "route.h"
#include "tun.h"

static struct lb_config cfg;
static struct engine eng;
static struct monitor mon;
static struct ctl_server ctl;
static uv_signal_t sig_int, sig_term;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: hlb --config FILE [--fault NAME]... [--socket PATH] [--check] [--no-routes]\n"
		"       hlb ctl [--socket PATH | --config FILE] list [--json]|stats|enable|disable|drain SERVICE REAL\n"
		"       hlb --help | --version\n"
		"faults: %s\n", fault_names());
}

static void on_signal(uv_signal_t *s, int signum)
{
	fprintf(stderr, "hlb: signal %d, stopping\n", signum);
	uv_stop(s->loop);
}

static void print_summary(void)
{
	char out[16384];

	eng.cfg = &cfg;
	ctl_cmd_run(&eng, "list", out, sizeof(out));
	fputs(strchr(out, '\n') + 1, stdout);
}

/* The control socket's lines are commands for the engine; stats also
 * gets the control socket's own counters. */
static int on_ctl_line(void *arg, const char *line, char *out, size_t cap)
{
	char word[16] = "";
	int rc = ctl_cmd_run(arg, line, out, cap);
	size_t len = strlen(out);

	if (rc == 0 && sscanf(line, "%15s", word) == 1 &&
	    strcmp(word, "stats") == 0 && len < cap)
		ctl_stats_line(&ctl, out + len, cap - len);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "fault", required_argument, NULL, 'f' },
		{ "socket", required_argument, NULL, 's' },
		{ "check", no_argument, NULL, 'k' },
		{ "no-routes", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *sock = NULL;
	unsigned faults = 0;
	int check = 0, routes = 1, c, rc, fd;
	char err[512];
	uv_loop_t *loop;

	if (argc > 1 && strcmp(argv[1], "ctl") == 0)
		return ctl_client_main(argc - 2, argv + 2);
	while ((c = getopt_long(argc, argv, "c:f:s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 's': sock = optarg; break;
		case 'k': check = 1; break;
		case 'n': routes = 0; break;
		case 'f': {
			unsigned bit = fault_parse(optarg);

			if (!bit) {
				fprintf(stderr, "hlb: unknown fault '%s'\n", optarg);
				usage(stderr);
				return 2;
			}
			faults |= bit;
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'V': printf("hlb %s\n", EDGELAB_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!config || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (lb_config_load(&cfg, config, err, sizeof(err)) < 0) {
		fprintf(stderr, "hlb: %s\n", err);
		return 1;
	}
	if (sock)
		snprintf(cfg.socket, sizeof(cfg.socket), "%s", sock);
	if (!cfg.socket[0] && ctl_default_path(cfg.socket, sizeof(cfg.socket)) < 0) {
		fprintf(stderr, "hlb: cannot tell this network namespace's default control socket: set 'socket' or --socket\n");
		return 1;
	}
	cfg.faults = faults;
	fault_apply(&cfg);
	if (check) {
		print_summary();
		return 0;
	}
	/* Before anything else is touched: another hlb answering on this
	 * socket owns this namespace's rules, and this one must not start. */
	if (strncmp(cfg.socket, CTL_DEFAULT_DIR "/", sizeof(CTL_DEFAULT_DIR)) == 0)
		mkdir(CTL_DEFAULT_DIR, 0700);
	rc = ctl_claim(cfg.socket, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "hlb: %s\n", err);
		return 1;
	}
	if (rc == 1)
		fprintf(stderr, "hlb: removed stale control socket %s (nothing listened)\n",
			cfg.socket);

	signal(SIGPIPE, SIG_IGN);
	fd = tun_open(cfg.tun);
	if (fd < 0) {
		fprintf(stderr, "hlb: tun %s: %s\n", cfg.tun, strerror(-fd));
		return 1;
	}
	if (routes && (rc = route_setup(&cfg)) < 0) {
		fprintf(stderr, "hlb: policy routing setup failed\n");
		route_teardown(&cfg);
		close(fd);
		return 1;
	}
	loop = uv_default_loop();
	rc = engine_start(&eng, loop, &cfg, fd);
	if (rc == 0 && (rc = ctl_listen(&ctl, loop, cfg.socket, cfg.ctl_timeout_ms,
				       on_ctl_line, &eng)) < 0) {
		fprintf(stderr, "hlb: control socket %s: %s%s\n", cfg.socket,
			uv_strerror(rc), rc == UV_EADDRINUSE ?
			" (it appeared while hlb started: another hlb? left alone)" : "");
	} else if (rc == 0 && (rc = monitor_start(&mon, &eng)) < 0) {
		ctl_close(&ctl);
	}
	if (rc < 0) {
		if (routes)
			route_teardown(&cfg);
		return 1;
	}
	uv_signal_init(loop, &sig_int);
	uv_signal_init(loop, &sig_term);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	fprintf(stderr, "hlb: %d service(s), tun %s (%s), control %s", cfg.nsvc,
		cfg.tun, engine_io_name(&eng), cfg.socket);
	for (unsigned b = 1; b; b <<= 1)
		if (cfg.faults & b)
			fprintf(stderr, ", fault %s", fault_name(b));
	fprintf(stderr, "\n");

	uv_run(loop, UV_RUN_DEFAULT);

	monitor_stop(&mon);
	ctl_close(&ctl);
	engine_stop(&eng);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_run(loop, UV_RUN_DEFAULT);
	uv_loop_close(loop);
	if (routes)
		route_teardown(&cfg);
	nat_free(&eng.nat);
	close(fd);
	return 0;
}
