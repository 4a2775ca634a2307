/* route.h: the policy routing that steers hlb's traffic into the TUN.
 *
 * Layout (P = cfg->pref, T = cfg->table):
 *   P      iif TUN           goto P+100  (what hlb wrote back is routed
 *                                          normally: never steered again)
 *   P+1    to VIP proto X    -> T        (all of it, so fragments come too)
 *   P+1    from REAL proto X sport S -> T (dnat replies, R21)
 *   P+1    from REAL proto X dport O -> T (snat outbound, R25)
 *   P+1    from REAL icmp    -> T        (errors about tracked flows)
 *   P+1    to VIP icmp       -> T
 *   P+1    from REAL ipv6-icmp lookup local (what a real sends to the HLB
 *                                          itself: neighbour discovery...)
 *   P+2    from REAL ipv6-icmp -> T      (the rest: errors to clients)
 *   P+1    from REAL tcp, from REAL udp -> T (M3 only)
 *   P+100  lookup local                  (moved from 0, so VIPs that are
 *                                          local addresses can be steered)
 *   table T: default dev TUN
 * Everything not matched (traffic to and from reals' own addresses on
 * other ports) is routed by the kernel and never reaches hlb. */
#ifndef HLB_ROUTE_H
#define HLB_ROUTE_H

#include <stdint.h>

#include "service.h"

/* One policy rule: what it matches and where it sends. Addresses point
 * into the config. */
struct route_sel {
	int family;             /* 4 or 6 */
	uint32_t prio;
	uint32_t table;
	uint8_t action;         /* FR_ACT_TO_TBL or FR_ACT_GOTO */
	uint32_t goto_prio;
	const char *iif;
	const struct lb_addr *src, *dst; /* host addresses, or NULL: any */
	uint8_t proto;          /* 0: any */
	uint16_t sport;         /* 0: any */
	uint16_t dport_lo, dport_hi; /* 0: any */
};

/* The steering rules (pref P+1, lookup T) for cfg's services of one
 * family, in the order route_setup() installs them: stores up to max in
 * out and returns how many there are. Touches no kernel state, so the
 * tests can check what would be steered. */
int route_steer_rules(const struct lb_config *cfg, int family,
		      struct route_sel *out, int max);

/* Remove whatever an earlier hlb with the same pref/table left, then
 * install the rules, the table and the sysctls a router needs. 0 or a
 * negative errno, with a message on stderr naming the rule. */
int route_setup(const struct lb_config *cfg);
/* Undo route_setup; safe to call when nothing was set up. */
void route_teardown(const struct lb_config *cfg);

#endif
