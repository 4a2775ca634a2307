/* service.h: what hlb balances. A service is one VIP:port/proto with a
 * pool of real servers (R20); the config parser fills these, the engine,
 * the schedulers, the monitors and the control socket read and update
 * them. All fixed-size so the packet path never allocates. */
#ifndef HLB_SERVICE_H
#define HLB_SERVICE_H

#include <stdint.h>

#define LB_NAME_MAX      32
#define LB_MAX_SERVICES  32
#define LB_MAX_REALS     16
#define LB_MAX_OUTBOUND  4
#define LB_PATH_MAX      256

/* An address as it sits in a packet: 4 or 16 bytes, network order. */
struct lb_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t a[16];
};

enum lb_mode { LB_DNAT = 0, LB_SNAT = 1 };
enum lb_admin { LB_ENABLED = 0, LB_DISABLED = 1, LB_DRAIN = 2 };
enum lb_mon_type { LB_MON_NONE = 0, LB_MON_TCP, LB_MON_TLS, LB_MON_STUN };

struct lb_scheduler; /* scheduler.h */

struct lb_monitor_cfg {
	uint8_t type;
	uint16_t port;          /* 0: the real's port */
	uint32_t interval_ms;
	uint32_t timeout_ms;
	uint32_t rise, fall;
};

struct lb_counters {
	uint64_t flows;         /* flows created */
	uint64_t pkts_in, bytes_in;   /* client -> real direction */
	uint64_t pkts_out, bytes_out; /* real -> client direction */
};

/* What a real's monitor did (hlb ctl stats). */
struct lb_mon_counters {
	uint64_t ok, fail;      /* probe results */
	uint64_t retx;          /* stun requests sent again within a probe */
	uint64_t late;          /* answers already there when the timer fired:
	                         * the loop was busy, not the server slow */
};

struct lb_real {
	char name[LB_NAME_MAX];
	struct lb_addr addr;
	uint16_t port;          /* where flows go: the service port (R21) */
	uint32_t weight;
	uint8_t admin;          /* enum lb_admin, set over the control socket */
	uint8_t up;             /* health: 1 until a monitor says otherwise */
	int32_t cur;            /* smooth weighted round robin state */
	uint32_t active;        /* flows in the table now */
	uint32_t ok_run, fail_run; /* monitor: consecutive results */
	struct lb_counters c;
	struct lb_mon_counters mc;
};

struct lb_service {
	char name[LB_NAME_MAX];
	struct lb_addr vip;
	uint16_t port;
	uint8_t proto;          /* IPPROTO_TCP or IPPROTO_UDP */
	uint8_t mode;           /* enum lb_mode */
	uint8_t av;             /* "role av": the faults M1, M12 act on it */
	uint8_t dsr;            /* M12: return traffic not translated */
	uint8_t src_port_rewrite; /* M6: dnat rewrites the client's port */
	uint8_t tls_only;       /* M14: a flow's first client bytes must be a
	                         * genuine TLS ClientHello (tlsonly.h) */
	const struct lb_scheduler *sched;
	struct lb_addr snat_src; /* snat: the address reals see; default vip */
	uint32_t affinity_timeout; /* seconds, for the source scheduler */
	uint32_t tcp_timeout, udp_timeout;
	uint32_t only_fault;    /* exists only under this fault (M11) */
	uint8_t intercept;      /* M11: also takes flows to reals' own address */
	uint16_t outbound[LB_MAX_OUTBOUND]; /* R25: ports reals call out to */
	uint8_t noutbound;
	struct lb_monitor_cfg mon;
	struct lb_real reals[LB_MAX_REALS];
	uint8_t nreals;
	uint32_t active;
	struct lb_counters c;
	uint32_t no_real;       /* new flows dropped: no real available */
	uint32_t line;          /* where the config declared it */
};

struct lb_config {
	char path[LB_PATH_MAX];
	char socket[LB_PATH_MAX]; /* "": the per-namespace default (ctl.h) */
	char tun[16];
	uint32_t table;          /* routing table that leads into the TUN */
	uint32_t pref;           /* first policy-rule priority hlb uses */
	uint32_t conntrack_size;
	uint32_t affinity_size;
	uint16_t snat_lo, snat_hi; /* ports for snat and outbound flows */
	/* Issue 11: what one client may take, and how long unanswered
	 * flows stay (seconds). */
	uint32_t source_flows;   /* flows one source address may hold; 0 no cap */
	uint8_t source_prefix6;  /* an IPv6 source counts by this prefix */
	uint32_t syn_timeout;    /* TCP handshake not complete */
	uint32_t unreplied_timeout; /* any other flow nothing answered yet */
	uint32_t ctl_timeout_ms; /* a control client's time to ask and read */
	uint32_t faults;         /* bit set of enum lb_fault */
	struct lb_service svc[LB_MAX_SERVICES];
	uint8_t nsvc;
};

int lb_addr_eq(const struct lb_addr *x, const struct lb_addr *y);
/* "192.0.2.1" or "2001:db8::1"; 0 or -EINVAL. */
int lb_addr_parse(struct lb_addr *out, const char *s);
/* Into buf (at least 46 bytes); returns buf. */
const char *lb_addr_str(const struct lb_addr *a, char *buf, unsigned len);

#endif
