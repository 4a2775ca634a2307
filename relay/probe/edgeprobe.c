/* edgeprobe: the STUN/TURN test client the scenarios observe the lab with.
 * One subcommand per file; this file only dispatches. */
#include <stdio.h>
#include <string.h>

#include "probe.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *what;
} commands[] = {
	{"binding", probe_binding_main, "one STUN Binding: where the answer came from"},
	{"allocate", probe_allocate_main, "one TURN allocation: relayed, mapped, lifetime"},
	{"turn", probe_turn_main, "allocate, then permit/channel/send/echo in one session;\n"
		"             --relay-tcp: a TCP allocation, Connect, ConnectionBind (RFC 6062)"},
	{"permit", probe_permit_main, "allocate + CreatePermission (turn --permit)"},
	{"channel", probe_channel_main, "allocate + ChannelBind (turn --channel)"},
	{"send", probe_send_main, "allocate + send to a peer (turn --send)"},
	{"relay", probe_relay_main, "two clients exchange data through their relays"},
	{"load", probe_load_main, "load generator: pps, loss, latency percentiles"},
	{"echo", probe_echo_main, "a UDP echo peer, or with --tcp a TCP one"},
	{"mras", probe_mras_main, "relay credentials from an A/V authentication service\n"
		"             ([MS-AVEDGEA]: SIP SERVICE over mutual TLS), as JSON"},
	{"quiet", probe_quiet_main, "allocations that keep silent for gaps, then speak again:\n"
		"             do their requests still reach their node?"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: edgeprobe COMMAND [ARGS...]\n       edgeprobe --help | --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
	fprintf(f, "\nedgeprobe COMMAND --help shows a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		puts("edgeprobe " EDGELAB_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "edgeprobe: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
