/* route.h: the policy routing that steers hlb's traffic into the TUN.
 *
 * Layout (P = cfg->pref, T = cfg->table):
 *   P      iif TUN           goto P+100  (what hlb wrote back is routed
 *                                          normally: never steered again)
 *   P+1    to VIP proto X    -> T        (all of it, so fragments come too)
 *   P+1    from REAL proto X sport S -> T (dnat replies, R21)
 *   P+1    from REAL proto X dport O -> T (snat outbound, R25)
 *   P+1    from REAL icmp    -> T        (errors about tracked flows)
 *   P+100  lookup local                  (moved from 0, so VIPs that are
 *                                          local addresses can be steered)
 *   table T: default dev TUN
 * Everything not matched (traffic to and from reals' own addresses on
 * other ports) is routed by the kernel and never reaches hlb. */
#ifndef HLB_ROUTE_H
#define HLB_ROUTE_H

#include "service.h"

/* Remove whatever an earlier hlb with the same pref/table left, then
 * install the rules, the table and the sysctls a router needs. 0 or a
 * negative errno, with a message on stderr naming the rule. */
int route_setup(const struct lb_config *cfg);
/* Undo route_setup; safe to call when nothing was set up. */
void route_teardown(const struct lb_config *cfg);

#endif
