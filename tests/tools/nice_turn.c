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
 * With --ietf-peer IP, B reaches A through an IETF TURN allocation (RFC
 * 8656, made here with the project's codec from a socket on IP): B talks
 * to a local proxy socket that A's candidates are rewritten to, the proxy
 * relays with Send and Data indications, and A is told B is at the IETF
 * relayed address. So an [MS-TURN] allocation and an IETF one relay to
 * each other (issue 12).
 *
 * Prints what it saw (relayed candidate, selected pair, counts) and exits
 * 0 only if everything arrived; 1 with the reason otherwise.
 *
 * With --mras, --user and --pass are what an A/V authentication service
 * ([MS-AVEDGEA], edgeprobe mras) issued, base64 as they come: libnice gets
 * them untouched and decodes them itself. --relay-type tcp or tls: the
 * TURN sessions (A's, and B's with --peer-relay) run over TCP ([MS-TURN]
 * 2.1.4 framing), tls over TCP with libnice's pseudo-TLS handshake (what a
 * Lync client does on 443). The allocations are then TCP ones, and libnice
 * relays ICE-TCP only: ice-tcp is on, the relayed candidates are TCP-ACT
 * and TCP-PASS (candidates and pairs are printed with their TCP type).
 * Over TCP, use --peer-relay: a relayed TCP-ACT to B's host TCP-PASS
 * passes its checks but B (libnice, controlled) never takes the
 * nomination, as the check comes from A's advertised TCP-ACT address
 * itself (docs/ARCHITECTURE.md, [MS-TURN] over TCP).
 *
 *   nice_turn --server IP:PORT --user U --pass P [--mras] [--relay-type udp|tcp|tls]
 *             [--local IP] [--peer IP] [--peer-relay | --ietf-peer IP] [--count N]
 *             [--timeout SECONDS] */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>
#include <nice/agent.h>

#include "stun/stun.h"

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
	gchar *user_raw, *pass_raw; /* --mras: the decoded pair, for the IETF peer */
	NiceRelayType relay_type;
	guint server_port;
	unsigned count;
	int peer_relay, sent, failed;
	const char *why;
	/* --ietf-peer: the IETF client's socket to the server (P), the proxy
	 * socket B talks to (Q), B's address as Q saw it, the relayed
	 * address, A's relayed candidate, the long-term key. */
	const char *ietf_ip;
	int p_fd, q_fd;
	struct sockaddr_in server, q_addr, b_addr, ietf_relay, a_relay;
	int have_b;
	char realm[128], nonce[256];
	uint8_t key[32]; /* MD5: the first 16 bytes */
	unsigned ietf_fwd, ietf_back;
} t;

static int ietf_permit(const struct sockaddr_in *peer);
static void rewrite(GSList *cands, const struct sockaddr_in *to);

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
	snprintf(out, cap, "%s %s:%u%s", cand_type(c->type), ip, nice_address_get_port(&c->addr),
		 c->transport == NICE_CANDIDATE_TRANSPORT_TCP_ACTIVE	? " tcp-act"
		 : c->transport == NICE_CANDIDATE_TRANSPORT_TCP_PASSIVE ? " tcp-pass"
		 : c->transport == NICE_CANDIDATE_TRANSPORT_TCP_SO	? " tcp-so"
									: "");
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
		if (t.ietf_ip && me == &t.a) {
			NiceCandidate *c = cands->data;
			nice_address_copy_to_sockaddr(&c->addr, (struct sockaddr *)&t.a_relay);
			if (ietf_permit(&t.a_relay))
				return fail("IETF CreatePermission toward A's relayed address failed");
			rewrite(cands, &t.q_addr);
		} else if (t.ietf_ip) {
			rewrite(cands, &t.ietf_relay);
		}
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

/* One ping each way every 2 ms, so that a slow server (valgrind) is not
 * measured by its socket buffers. */
static gboolean pace(gpointer data)
{
	static unsigned i;

	send_msg(&t.a, "ping", i);
	send_msg(&t.b, "ping", i);
	return ++i < t.count ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
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
	g_timeout_add(2, pace, NULL);
}

static void on_state(NiceAgent *agent, guint stream, guint comp, guint state, gpointer data)
{
	struct side *me = data;

	printf("%s: %s\n", me->name, nice_component_state_to_string(state));
	fflush(stdout);
	if (state == NICE_COMPONENT_STATE_FAILED)
		return fail("ICE failed: no pair through the relay worked");
	/* Through the --ietf-peer proxy each side sees the other at an address
	 * the other does not know as its own (as behind a NAT), which leaves
	 * libnice's check list short of READY on A; a selected pair
	 * (CONNECTED) is enough to send. */
	if (state == NICE_COMPONENT_STATE_READY ||
	    (t.ietf_ip && state == NICE_COMPONENT_STATE_CONNECTED))
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

/* ---- --ietf-peer: an IETF TURN client (RFC 8656) with the project's codec ---- */

static int ietf_roundtrip(uint8_t *req, int n, struct stun_msg *m, uint8_t *resp, size_t cap)
{
	for (int tries = 0; tries < 5; tries++) {
		struct pollfd pfd = {t.p_fd, POLLIN, 0};
		ssize_t r;
		if (send(t.p_fd, req, (size_t)n, 0) != n)
			return -1;
		while (poll(&pfd, 1, 500) == 1) {
			if ((r = recv(t.p_fd, resp, cap, 0)) > 0 && !stun_msg_parse(m, resp, (size_t)r) &&
			    !memcmp(m->tid, req + 8, STUN_TID_LEN))
				return 0;
		}
	}
	return -1;
}

static void ietf_sign(struct stun_writer *w)
{
	stun_put_str(w, STUN_A_USERNAME, t.user);
	stun_put_str(w, STUN_A_REALM, t.realm);
	stun_put_str(w, STUN_A_NONCE, t.nonce);
	stun_put_integrity(w, t.key, 16);
	stun_put_fingerprint(w);
}

static int ietf_allocate(void)
{
	uint8_t req[512], resp[1500], tid[STUN_TID_LEN];
	const struct stun_attr *ra;
	struct stun_writer w;
	struct stun_msg m;
	struct sockaddr_storage ss;
	socklen_t len = sizeof t.q_addr;
	int n, code = 0;

	t.p_fd = socket(AF_INET, SOCK_DGRAM, 0);
	t.q_fd = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&t.q_addr, 0, sizeof t.q_addr);
	t.q_addr.sin_family = AF_INET;
	if (inet_pton(AF_INET, t.ietf_ip, &t.q_addr.sin_addr) != 1 ||
	    bind(t.p_fd, (struct sockaddr *)&t.q_addr, sizeof t.q_addr) ||
	    bind(t.q_fd, (struct sockaddr *)&t.q_addr, sizeof t.q_addr) ||
	    getsockname(t.q_fd, (struct sockaddr *)&t.q_addr, &len) ||
	    connect(t.p_fd, (struct sockaddr *)&t.server, sizeof t.server))
		return -1;
	for (int round = 0; round < 2; round++) {
		stun_tid_random(tid);
		stun_writer_init(&w, req, sizeof req, TURN_ALLOCATE, STUN_REQUEST, tid);
		stun_put_u32(&w, STUN_A_REQUESTED_TRANSPORT, 17u << 24);
		if (round)
			ietf_sign(&w);
		if ((n = stun_writer_finish(&w)) < 0 || ietf_roundtrip(req, n, &m, resp, sizeof resp))
			return -1;
		if (m.cls == STUN_SUCCESS)
			break;
		ra = stun_msg_attr(&m, STUN_A_ERROR_CODE);
		if (round || !ra || stun_attr_error(ra, &code, NULL, NULL) || code != 401)
			return -1;
		ra = stun_msg_attr(&m, STUN_A_REALM);
		if (!ra || ra->len >= sizeof t.realm)
			return -1;
		memcpy(t.realm, ra->val, ra->len);
		t.realm[ra->len] = '\0';
		ra = stun_msg_attr(&m, STUN_A_NONCE);
		if (!ra || ra->len >= sizeof t.nonce)
			return -1;
		memcpy(t.nonce, ra->val, ra->len);
		t.nonce[ra->len] = '\0';
		if (stun_longterm_key(STUN_PW_MD5, t.user, t.realm, t.pass, t.key) != 16)
			return -1;
	}
	if (m.cls != STUN_SUCCESS || stun_msg_check_integrity(&m, t.key, 16) ||
	    stun_msg_addr(&m, STUN_A_XOR_RELAYED_ADDRESS, &ss) || ss.ss_family != AF_INET)
		return -1;
	memcpy(&t.ietf_relay, &ss, sizeof t.ietf_relay);
	return 0;
}

static int ietf_permit(const struct sockaddr_in *peer)
{
	uint8_t req[512], resp[1500], tid[STUN_TID_LEN];
	struct stun_writer w;
	struct stun_msg m;
	int n;

	stun_tid_random(tid);
	stun_writer_init(&w, req, sizeof req, TURN_CREATE_PERMISSION, STUN_REQUEST, tid);
	stun_put_addr(&w, STUN_A_XOR_PEER_ADDRESS, (const struct sockaddr *)peer);
	ietf_sign(&w);
	if ((n = stun_writer_finish(&w)) < 0 || ietf_roundtrip(req, n, &m, resp, sizeof resp))
		return -1;
	return m.cls == STUN_SUCCESS ? 0 : -1;
}

/* B -> proxy: a Send indication toward A's relayed address. */
static gboolean on_q(gint fd, GIOCondition cond, gpointer data)
{
	uint8_t in[1500], out[1600], tid[STUN_TID_LEN];
	struct sockaddr_in from;
	socklen_t flen = sizeof from;
	struct stun_writer w;
	ssize_t r = recvfrom(fd, in, sizeof in, 0, (struct sockaddr *)&from, &flen);
	int n;

	if (r <= 0)
		return G_SOURCE_CONTINUE;
	t.b_addr = from;
	t.have_b = 1;
	stun_tid_random(tid);
	stun_writer_init(&w, out, sizeof out, TURN_SEND, STUN_INDICATION, tid);
	stun_put_addr(&w, STUN_A_XOR_PEER_ADDRESS, (const struct sockaddr *)&t.a_relay);
	stun_put_attr(&w, STUN_A_DATA, in, (size_t)r);
	if ((n = stun_writer_finish(&w)) > 0 && send(t.p_fd, out, (size_t)n, 0) == n)
		t.ietf_fwd++;
	return G_SOURCE_CONTINUE;
}

/* Server -> proxy: a Data indication's payload goes on to B from Q. */
static gboolean on_p(gint fd, GIOCondition cond, gpointer data)
{
	uint8_t in[1600];
	struct stun_msg m;
	const struct stun_attr *d;
	ssize_t r = recv(fd, in, sizeof in, 0);

	if (r <= 0 || stun_msg_parse(&m, in, (size_t)r) || m.method != TURN_DATA ||
	    m.cls != STUN_INDICATION || !(d = stun_msg_attr(&m, STUN_A_DATA)) || !t.have_b)
		return G_SOURCE_CONTINUE;
	if (sendto(t.q_fd, d->val, d->len, 0, (struct sockaddr *)&t.b_addr, sizeof t.b_addr) ==
	    (ssize_t)d->len)
		t.ietf_back++;
	return G_SOURCE_CONTINUE;
}

/* A's candidates as B sees them: at the proxy; B's as A sees them: at the
 * IETF relayed address. */
static void rewrite(GSList *cands, const struct sockaddr_in *to)
{
	for (GSList *l = cands; l; l = l->next) {
		NiceCandidate *c = l->data;
		nice_address_set_from_sockaddr(&c->addr, (const struct sockaddr *)to);
		nice_address_set_from_sockaddr(&c->base_addr, (const struct sockaddr *)to);
	}
}

static void side_init(struct side *me, const char *name, const char *ip, int relay,
		      int controlling)
{
	NiceAddress addr;

	me->name = name;
	me->agent = nice_agent_new(NULL, NICE_COMPATIBILITY_OC2007R2);
	/* Over TCP libnice relays ICE-TCP only: TCP-ACT and TCP-PASS relayed
	 * candidates, paired with the other side's TCP ones. */
	g_object_set(me->agent, "controlling-mode", controlling, "force-relay", relay, "ice-tcp",
		     t.relay_type != NICE_RELAY_TYPE_TURN_UDP, "upnp", FALSE, NULL);
	nice_address_init(&addr);
	if (!nice_address_set_from_string(&addr, ip)) {
		fprintf(stderr, "nice_turn: bad address %s\n", ip);
		exit(2);
	}
	nice_agent_add_local_address(me->agent, &addr);
	me->stream = nice_agent_add_stream(me->agent, 1);
	if (relay && !nice_agent_set_relay_info(me->agent, me->stream, 1, t.server_ip,
						t.server_port, t.user64, t.pass64,
						t.relay_type)) {
		fprintf(stderr, "nice_turn: relay info refused\n");
		exit(2);
	}
	g_signal_connect(me->agent, "candidate-gathering-done", G_CALLBACK(on_gathered), me);
	g_signal_connect(me->agent, "component-state-changed", G_CALLBACK(on_state), me);
	nice_agent_attach_recv(me->agent, me->stream, 1, NULL, on_recv, me);
}

static void usage(void)
{
	fprintf(stderr, "usage: nice_turn --server IP:PORT --user U --pass P [--mras]\n"
			"                 [--relay-type udp|tcp|tls] [--local IP] [--peer IP]\n"
			"                 [--peer-relay | --ietf-peer IP] [--count N] [--timeout S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"server", required_argument, NULL, 's'}, {"user", required_argument, NULL, 'u'},
		{"pass", required_argument, NULL, 'p'},   {"local", required_argument, NULL, 'l'},
		{"peer", required_argument, NULL, 'P'},   {"peer-relay", no_argument, NULL, 'r'},
		{"count", required_argument, NULL, 'n'},  {"timeout", required_argument, NULL, 't'},
		{"ietf-peer", required_argument, NULL, 'i'}, {"mras", no_argument, NULL, 'm'},
		{"relay-type", required_argument, NULL, 'R'},
		{NULL, 0, NULL, 0},
	};
	const char *local = "127.0.0.2", *peer = "127.0.0.3";
	unsigned timeout = 20;
	char *server = NULL, *colon = NULL;
	int c, mras = 0;

	t.count = 20;
	t.relay_type = NICE_RELAY_TYPE_TURN_UDP;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 'u': t.user = optarg; break;
		case 'p': t.pass = optarg; break;
		case 'l': local = optarg; break;
		case 'P': peer = optarg; break;
		case 'r': t.peer_relay = 1; break;
		case 'i': t.ietf_ip = optarg; break;
		case 'n': t.count = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': mras = 1; break;
		case 'R':
			if (!strcmp(optarg, "udp"))
				t.relay_type = NICE_RELAY_TYPE_TURN_UDP;
			else if (!strcmp(optarg, "tcp"))
				t.relay_type = NICE_RELAY_TYPE_TURN_TCP;
			else if (!strcmp(optarg, "tls"))
				t.relay_type = NICE_RELAY_TYPE_TURN_TLS;
			else
				usage();
			break;
		default: usage();
		}
	}
	if (!server || !t.user || !t.pass || !(colon = strrchr(server, ':')) || !t.count)
		usage();
	*colon = '\0';
	t.server_ip = server;
	if (mras) { /* libnice takes them as they are; our own IETF client decodes */
		gsize n;
		guchar *u;
		t.user64 = g_strdup(t.user);
		t.pass64 = g_strdup(t.pass);
		u = g_base64_decode(t.user, &n);
		t.user = t.user_raw = g_strndup((const gchar *)u, n);
		g_free(u);
		u = g_base64_decode(t.pass, &n);
		t.pass = t.pass_raw = g_strndup((const gchar *)u, n);
		g_free(u);
		if (!*t.user || !*t.pass) {
			fprintf(stderr, "nice_turn: --mras: --user and --pass are not base64\n");
			return 2;
		}
	} else {
		/* In OC2007 modes libnice base64-decodes the TURN user name
		 * and password it is given (MRAS issues them so): encode ours. */
		t.user64 = g_base64_encode((const guchar *)t.user, strlen(t.user));
		t.pass64 = g_base64_encode((const guchar *)t.pass, strlen(t.pass));
	}
	t.server_port = (guint)strtoul(colon + 1, NULL, 10);
	if (t.ietf_ip) {
		char ip[INET_ADDRSTRLEN];
		t.server.sin_family = AF_INET;
		t.server.sin_port = htons((uint16_t)t.server_port);
		if (inet_pton(AF_INET, t.server_ip, &t.server.sin_addr) != 1 || t.peer_relay)
			usage();
		if (ietf_allocate()) {
			printf("FAIL: the IETF allocation for B failed\n");
			return 1;
		}
		inet_ntop(AF_INET, &t.ietf_relay.sin_addr, ip, sizeof ip);
		printf("B's IETF TURN relayed address: %s:%u\n", ip, ntohs(t.ietf_relay.sin_port));
		g_unix_fd_add(t.p_fd, G_IO_IN, on_p, NULL);
		g_unix_fd_add(t.q_fd, G_IO_IN, on_q, NULL);
	}

	t.loop = g_main_loop_new(NULL, FALSE);
	side_init(&t.a, "A", local, 1, !t.ietf_ip);
	side_init(&t.b, "B", peer, t.peer_relay, !!t.ietf_ip);
	g_timeout_add_seconds(timeout, on_timeout, NULL);
	if (!nice_agent_gather_candidates(t.a.agent, t.a.stream) ||
	    !nice_agent_gather_candidates(t.b.agent, t.b.stream)) {
		fprintf(stderr, "nice_turn: cannot gather candidates\n");
		return 1;
	}
	g_main_loop_run(t.loop);

	printf("A received %u/%u pings and %u/%u pongs; B received %u/%u pings and %u/%u pongs\n",
	       t.a.got, t.count, t.a.echoed, t.count, t.b.got, t.count, t.b.echoed, t.count);
	if (t.ietf_ip)
		printf("IETF allocation: %u datagrams sent to A's MS-TURN relay, %u received from it\n",
		       t.ietf_fwd, t.ietf_back);
	if (!t.failed && (t.a.got != t.count || t.b.got != t.count || t.a.echoed != t.count ||
			  t.b.echoed != t.count))
		fail("messages lost");
	g_object_unref(t.a.agent);
	g_object_unref(t.b.agent);
	g_main_loop_unref(t.loop);
	g_free(t.user64);
	g_free(t.pass64);
	g_free(t.user_raw);
	g_free(t.pass_raw);
	if (t.failed) {
		printf("FAIL: %s\n", t.why);
		return 1;
	}
	printf("ok: %u messages each way through the MS-TURN relay%s, all answered\n", t.count,
	       t.ietf_ip ? " and an IETF TURN relay" : t.peer_relay ? " and a second MS-TURN relay" : "");
	return 0;
}
