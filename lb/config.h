/* config.h: the hlb config file,
 * one service per VIP:port/proto.
 *
 *   socket /run/hlb/ext.sock      (default: /run/hlb/NETNS.sock, ctl.h)
 *   service av-udp 203.0.113.12:3478/udp
 *     mode dnat
 *     scheduler source
 *     real edge1 203.0.113.23 weight 1
 *     monitor stun interval 2 rise 2 fall 3
 *
 * Errors name the file and line and what is wrong. */
#ifndef HLB_CONFIG_H
#define HLB_CONFIG_H

#include <stddef.h>

#include "service.h"

/* Defaults hlb uses when the file says nothing. The control socket's is
 * per network namespace: ctl_default_path() (ctl.h). */
#define LB_DEFAULT_TUN      "hlb0"
#define LB_DEFAULT_TABLE    200
#define LB_DEFAULT_PREF     100
#define LB_DEFAULT_CT_SIZE  65536
#define LB_DEFAULT_TCP_IDLE 1800 /* R24: the edge guidance */
#define LB_DEFAULT_UDP_IDLE 300
#define LB_DEFAULT_AFFINITY 1800
/* Issue 11. One client address may hold 1/16 of the default table; the
 * syn and unreplied timeouts and the IPv6 prefix are conntrack.h's. */
#define LB_DEFAULT_SOURCE_FLOWS 4096
#define LB_DEFAULT_CTL_TIMEOUT_MS 5000

void lb_config_defaults(struct lb_config *cfg);
/* Parse text as if read from a file called name. 0, or -EINVAL with
 * "name:line: what" in err. */
int lb_config_parse(struct lb_config *cfg, const char *name, const char *text,
		 char *err, size_t errlen);
/* Read and parse a file. 0, or negative with the reason in err. */
int lb_config_load(struct lb_config *cfg, const char *path, char *err,
		size_t errlen);

/* "tcp"/"udp" <-> IPPROTO_*; names of modes and monitors for output
 * (a scheduler's is its own: s->sched->name). */
const char *lb_config_proto_name(int proto);
const char *lb_config_mode_name(int mode);
const char *lb_config_monitor_name(int type);

#endif
