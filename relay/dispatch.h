/* dispatch.h: the listeners' up-calls. Every message a client sends enters
 * avedge here: STUN or ChannelData, retransmits answered from the cache,
 * authentication, the allocation looked up, then the method's handler. */
#ifndef EDGELAB_DISPATCH_H
#define EDGELAB_DISPATCH_H

#include "server.h"

/* For struct listener_cbs, with the worker's struct server as arg. */
void dispatch_msg(void *arg, const struct request *req);
void dispatch_conn_closing(void *arg, struct conn *c);
void dispatch_conn_closed(void *arg, struct conn *c);

#endif
