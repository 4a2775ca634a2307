/* ms_tcp.c: [MS-TURN] TCP allocations (an Allocate that came over TCP,
 * framed or after the pseudo-TLS exchange, gets a TCP relayed address:
 * [MS-TURN] 3.2.5.1). Who may connect in: as draft-rosenberg-midcom-turn-08
 * has it, only a peer whose IP the client has sent to (a permission, made
 * by a Send request or Set Active Destination); one that connects first
 * waits, unread, a few seconds for it (io/mstcp.c). What a peer sends comes up
 * one RFC 4571 frame at a time and goes to the client as a UDP
 * allocation's datagrams do (ms_data.c: ms_peer_data); what the client
 * sends goes out through datapath_to_peer. The sockets are io/mstcp.c's. */
#include "handlers/handlers.h"
#include "handlers/ms.h"

static int peer_in(void *arg, void *tag, const struct sockaddr *from)
{
	struct server *s = arg;
	struct alloc *a = tag;
	struct peer p;

	peer_from_sockaddr(&p, from);
	return alloc_perm_has(a, &p, server_now(s)) ? 0 : -1;
}

void ms_tcp_permitted(struct alloc *a)
{
	for (int i = 0; i < 2; i++)
		if (a->ms_tcp_io[i])
			ms_tcp_admit(a->ms_tcp_io[i]);
}

const struct ms_tcp_cbs ms_tcp_cbs = {peer_in, ms_peer_data};
