/* tests/tools/nice_turn.c: the [MS-TURN] interop client (R19, issue 12),
 * built on libnice in NICE_COMPATIBILITY_OC2007R2 mode, the open-source
 * client that pidgin-sipe uses against real Lync Edges: a client nobody
 * here wrote.
 *
 * Two ICE agents in one process. Agent A gathers only a relayed candidate
 * through the TURN server given (force-relay: libnice's MS-TURN over UDP:
 * Allocate with the digest challenge, Send requests, Set Active
 * Destination once a pair is chosen, then raw datagrams). Agent B, the
 * peer, uses its host address, or with --peer-relay a relayed candidate of
 * its own through the same server. The agents trade candidates in memory,
 * run their connectivity checks through the relay, then pass --count
 * messages each way; every message must come back once.
 *
 * Prints what it saw (relayed candidate, selected pair, counts) and exits
 * 0 only if everything arrived; 1 with the reason otherwise.
 *
 *   nice_turn --server IP:PORT --user U --pass P [--local IP] [--peer IP]
 *             [--peer-relay] [--count N] [--timeout SECONDS] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nice/agent.h>

struct side {
	const char *name;
	NiceAgent *agent;
	guint stream;
	int gathered, ready;
	unsigned got;          /* messages received from the other side */
	unsigned echoed;       /* answers received to our own messages */
};

static struct {
	struct side a, b;
	GMainLoop *loop;
	const char *server_ip, *user, *pass;
	gchar *user64, *pass64;   /* as MRAS hands them out: libnice decodes them */
	guint server_port;
	unsigned count;
	int peer_relay, sent, failed;
	const char *why;
} t;

static void fail(const char *why)
{
	if (!t.failed) {
		t.failed = 1;
		t.why = why;
	}
	g_main_loop_quit(t.loop);
}

static const char *cand_type(NiceCandidateType ty)
{
	switch (ty) {
	case NICE_CANDIDATE_TYPE_HOST: return "host";
	case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE: return "srflx";
	case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE: return "prflx";
	case NICE_CANDIDATE_TYPE_RELAYED: return "relay";
	default: return "?";
	}
}

static void cand_str(const NiceCandidate *c, char *out, size_t cap)
{
	char ip[NICE_ADDRESS_STRING_LEN];

	nice_address_to_string(&c->addr, ip);
	snprintf(out, cap, "%s %s:%u", cand_type(c->type), ip, nice_address_get_port(&c->addr));
}

/* Both have gathered: each learns the other's credentials and candidates. */
static void exchange(void)
{
	struct side *sides[2] = {&t.a, &t.b};

	for (int i = 0; i < 2; i++) {
		struct side *me = sides[i], *other = sides[1 - i];
		gchar *ufrag = NULL, *pwd = NULL;
		GSList *cands = nice_agent_get_local_candidates(me->agent, me->stream, 1);

		for (GSList *l = cands; l; l = l->next) {
			char s[96];
			cand_str(l->data, s, sizeof s);
			printf("%s candidate: %s\n", me->name, s);
		}
		if (!cands)
			return fail("a side gathered no candidate (no allocation?)");
		nice_agent_get_local_credentials(me->agent, me->stream, &ufrag, &pwd);
		nice_agent_set_remote_credentials(other->agent, other->stream, ufrag, pwd);
		if (nice_agent_set_remote_candidates(other->agent, other->stream, 1, cands) < 1)
			fail("candidates refused by the other agent");
		g_slist_free_full(cands, (GDestroyNotify)nice_candidate_free);
		g_free(ufrag);
		g_free(pwd);
	}
	fflush(stdout);
}

static void on_gathered(NiceAgent *agent, guint stream, gpointer data)
{
	struct side *me = data;

	me->gathered = 1;
	if (t.a.gathered && t.b.gathered)
		exchange();
}

static void send_msg(struct side *from, const char *what, unsigned i)
{
	char buf[64];
	int n = snprintf(buf, sizeof buf, "%s %s %u", from->name, what, i);

	if (nice_agent_send(from->agent, from->stream, 1, (guint)n, buf) != n)
		fprintf(stderr, "%s: send %u failed (will be counted as lost)\n", from->name, i);
}

/* Once both are ready: each sends count messages; each answers the
 * other's. */
static void start_traffic(void)
{
	NiceCandidate *local = NULL, *remote = NULL;
	char l[96], r[96];

	if (t.sent)
		return;
	t.sent = 1;
	if (nice_agent_get_selected_pair(t.a.agent, t.a.stream, 1, &local, &remote)) {
		cand_str(local, l, sizeof l);
		cand_str(remote, r, sizeof r);
		printf("A selected pair: local %s -> remote %s\n", l, r);
		if (local->type != NICE_CANDIDATE_TYPE_RELAYED)
			return fail("A's selected pair is not through the relay");
	}
	fflush(stdout);
	for (unsigned i = 0; i < t.count; i++) {
		send_msg(&t.a, "ping", i);
		send_msg(&t.b, "ping", i);
	}
}

static void on_state(NiceAgent *agent, guint stream, guint comp, guint state, gpointer data)
{
	struct side *me = data;

	printf("%s: %s\n", me->name, nice_component_state_to_string(state));
	fflush(stdout);
	if (state == NICE_COMPONENT_STATE_FAILED)
		return fail("ICE failed: no pair through the relay worked");
	if (state == NICE_COMPONENT_STATE_READY)
		me->ready = 1;
	if (t.a.ready && t.b.ready)
		start_traffic();
}

static void on_recv(NiceAgent *agent, guint stream, guint comp, guint len, gchar *buf,
		    gpointer data)
{
	struct side *me = data, *other = me == &t.a ? &t.b : &t.a;
	char msg[80], who[8], what[8];
	unsigned i;

	if (len >= sizeof msg)
		return;
	memcpy(msg, buf, len);
	msg[len] = '\0';
	if (sscanf(msg, "%7s %7s %u", who, what, &i) != 3 || strcmp(who, other->name))
		return;
	if (!strcmp(what, "ping")) {
		me->got++;
		send_msg(me, "pong", i);
	} else if (!strcmp(what, "pong")) {
		me->echoed++;
	}
	if (t.a.got == t.count && t.b.got == t.count && t.a.echoed == t.count &&
	    t.b.echoed == t.count)
		g_main_loop_quit(t.loop);
}

static gboolean on_timeout(gpointer data)
{
	fail("timed out");
	return G_SOURCE_REMOVE;
}

static void side_init(struct side *me, const char *name, const char *ip, int relay,
		      int controlling)
{
	NiceAddress addr;

	me->name = name;
	me->agent = nice_agent_new(NULL, NICE_COMPATIBILITY_OC2007R2);
	g_object_set(me->agent, "controlling-mode", controlling, "force-relay", relay, "ice-tcp",
		     FALSE, "upnp", FALSE, NULL);
	nice_address_init(&addr);
	if (!nice_address_set_from_string(&addr, ip)) {
		fprintf(stderr, "nice_turn: bad address %s\n", ip);
		exit(2);
	}
	nice_agent_add_local_address(me->agent, &addr);
	me->stream = nice_agent_add_stream(me->agent, 1);
	if (relay && !nice_agent_set_relay_info(me->agent, me->stream, 1, t.server_ip,
						t.server_port, t.user64, t.pass64,
						NICE_RELAY_TYPE_TURN_UDP)) {
		fprintf(stderr, "nice_turn: relay info refused\n");
		exit(2);
	}
	g_signal_connect(me->agent, "candidate-gathering-done", G_CALLBACK(on_gathered), me);
	g_signal_connect(me->agent, "component-state-changed", G_CALLBACK(on_state), me);
	nice_agent_attach_recv(me->agent, me->stream, 1, NULL, on_recv, me);
}

static void usage(void)
{
	fprintf(stderr, "usage: nice_turn --server IP:PORT --user U --pass P [--local IP]\n"
			"                 [--peer IP] [--peer-relay] [--count N] [--timeout S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"server", required_argument, NULL, 's'}, {"user", required_argument, NULL, 'u'},
		{"pass", required_argument, NULL, 'p'},   {"local", required_argument, NULL, 'l'},
		{"peer", required_argument, NULL, 'P'},   {"peer-relay", no_argument, NULL, 'r'},
		{"count", required_argument, NULL, 'n'},  {"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	const char *local = "127.0.0.2", *peer = "127.0.0.3";
	unsigned timeout = 20;
	char *server = NULL, *colon;
	int c;

	t.count = 20;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'u': t.user = optarg; break;
		case 'p': t.pass = optarg; break;
		case 'l': local = optarg; break;
		case 'P': peer = optarg; break;
		case 'r': t.peer_relay = 1; break;
		case 'n': t.count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (!server || !t.user || !t.pass || !(colon = strrchr(server, ':')) || !t.count)
		usage();
	*colon = '\0';
	t.server_ip = server;
	t.server_port = (guint)strtoul(colon + 1, NULL, 10);

	/* In OC2007 modes libnice base64-decodes the TURN user name and
	 * password it is given (MRAS issues them so): encode ours. */
	t.user64 = g_base64_encode((const guchar *)t.user, strlen(t.user));
	t.pass64 = g_base64_encode((const guchar *)t.pass, strlen(t.pass));
	t.loop = g_main_loop_new(NULL, FALSE);
	side_init(&t.a, "A", local, 1, 1);
	side_init(&t.b, "B", peer, t.peer_relay, 0);
	g_timeout_add_seconds(timeout, on_timeout, NULL);
	if (!nice_agent_gather_candidates(t.a.agent, t.a.stream) ||
	    !nice_agent_gather_candidates(t.b.agent, t.b.stream)) {
		fprintf(stderr, "nice_turn: cannot gather candidates\n");
		return 1;
	}
	g_main_loop_run(t.loop);

	printf("A received %u/%u pings and %u/%u pongs; B received %u/%u pings and %u/%u pongs\n",
	       t.a.got, t.count, t.a.echoed, t.count, t.b.got, t.count, t.b.echoed, t.count);
	if (!t.failed && (t.a.got != t.count || t.b.got != t.count || t.a.echoed != t.count ||
			  t.b.echoed != t.count))
		fail("messages lost");
	g_object_unref(t.a.agent);
	g_object_unref(t.b.agent);
	g_main_loop_unref(t.loop);
	g_free(t.user64);
	g_free(t.pass64);
	if (t.failed) {
		printf("FAIL: %s\n", t.why);
		return 1;
	}
	printf("ok: %u messages each way through the MS-TURN relay, all answered\n", t.count);
	return 0;
}
