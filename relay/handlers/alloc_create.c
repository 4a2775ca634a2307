/* alloc_create.c: what the IETF (allocate.c) and [MS-TURN] (ms_allocate.c)
 * Allocate share in making an allocation: its quota unit, table entry,
 * owner, lifetime and bandwidth bucket; when its relayed socket cannot be
 * opened, the log line and the answer; once it is open, the bookkeeping.
 * Each dialect answers with its own error function (server_error or
 * ms_error), passed in. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handlers.h"
#include "io/conn.h"
#include "util/log.h"

struct alloc *alloc_create(struct server *s, const struct request *req, const struct stun_msg *m,
			   const struct auth_ok *who, uint32_t life, int unit_held, answer_error_fn err,
			   size_t *n)
{
	const char *name = who->user + who->name_off; /* quotas count REST names, not expiries */
	uint64_t now = server_now(s);
	struct five_tuple k;
	struct alloc *a;
	int rc;

	if (!unit_held && (rc = quota_take(&s->mconf->quota, name))) {
		*n = err(s, m, rc, rc == 486 ? "Allocation Quota Reached" : "Insufficient Capacity", who);
		return NULL;
	}
	five_tuple_set(&k, req->l, req->conn, req->src);
	if (!(a = alloc_table_add(&s->allocs, &k, now + life * 1000ull)) ||
	    !(a->user = strdup(who->user))) {
		quota_give(&s->mconf->quota, name);
		if (a)
			alloc_table_remove(&s->allocs, a);
		*n = err(s, m, 508, "Insufficient Capacity", who);
		return NULL;
	}
	a->quota_off = (uint16_t)who->name_off; /* from here on server_alloc_free gives it back */
	memcpy(a->tid, m->tid, STUN_TID_LEN);
	bw_init(&a->bw, s->conf->max_bps, now);
	return a;
}

size_t alloc_open_failed(struct server *s, const struct stun_msg *m, const struct auth_ok *who,
			 struct alloc *a, int rc, answer_error_fn err)
{
	if (rc == -EADDRINUSE) /* the operator's business: the range is too small */
		log_ratelimited(LOG_WARN, "no free %s relay port in %u-%u", a->tcp ? "TCP" : "UDP",
				s->conf->ports.lo, s->conf->ports.hi);
	else if (rc != -EAFNOSUPPORT && rc != -ENOENT)
		log_ratelimited(LOG_WARN, "cannot open a relayed socket: %s", strerror(-rc));
	server_alloc_free(s, a);
	if (rc == -EAFNOSUPPORT)
		return err(s, m, 440, "Address Family not Supported", who);
	return err(s, m, 508, "Insufficient Capacity", who);
}

void alloc_made(struct server *s, const struct request *req, const struct alloc *a, uint32_t life)
{
	char c[NETADDR_STRLEN];
	unsigned port = a->port[a->family_mask & 1 ? 0 : 1];

	if (req->conn)
		conn_hold(req->conn); /* in use: no idle timeout any more */
	s->st.allocations_made++;
	s->st.allocations = s->allocs.count;
	netaddr_str(req->src, c, sizeof c);
	if (a->ms)
		log_info("MS-TURN allocation for %s from %s: %s port %u, %u s, MS-Version %u", a->user,
			 c, a->tcp ? "TCP" : "UDP", port, life, a->ms->version);
	else
		log_info("allocation for %s from %s: port %u, %u s", a->user, c, port, life);
}
