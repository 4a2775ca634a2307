/* conf.h: avedge's settings, from flags and the config file (conf.c). Read
 * by every worker; what SIGHUP may change (users, secrets, limits) is
 * guarded by the reload lock. */
#ifndef EDGELAB_CONF_H
#define EDGELAB_CONF_H

#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

#include "io/admit.h"
#include "io/ports.h"
#include "mras/xml.h"
#include "turn/auth.h"
#include "turn/peerfilter.h"
#include "turn/quota.h"
#include "util/netaddr.h"

#define CONF_MAX_LISTEN 32
#define CONF_MAX_LIST   64

enum { LIMIT_QUOTA_USER = 1, LIMIT_QUOTA_TOTAL = 2, LIMIT_MAX_BPS = 4 };

struct listen_spec {
	struct sockaddr_storage addr;
	enum transport tp;
};

struct avedge_conf {
	struct listen_spec listen[CONF_MAX_LISTEN];
	int nlisten;
	/* Relayed addresses, [0] IPv4 and [1] IPv6: ports.bind is where
	 * relayed sockets bind, relay_public is what XOR-RELAYED-ADDRESS says
	 * (R11: the node's own A/V address, or its static-NAT public one). */
	struct port_range ports;
	struct sockaddr_storage relay_public[2];
	const char *realm, *software, *cert, *key, *userfile, *config;
	/* Credentials and limits are kept by origin: a reload re-reads the
	 * file's and keeps the flags' (flags win where both name a limit). */
	const char *users[CONF_MAX_LIST], *file_users[CONF_MAX_LIST];
	int nusers, nfile_users;
	const char *secrets[CONF_MAX_LIST], *file_secrets[CONF_MAX_LIST];
	int nsecrets, nfile_secrets;
	int in_file;           /* conf_apply is reading the config file */
	unsigned flag_set;     /* LIMIT_* bits given as flags ... */
	unsigned flag_quota_user, flag_quota_total;
	uint64_t flag_max_bps; /* ... and their values */
	const char *allow_peer[CONF_MAX_LIST], *deny_peer[CONF_MAX_LIST];
	int nallow, ndeny;
	unsigned quota_user, quota_total, max_lifetime_s, threads, grace_s;
	int io_uring;             /* batch relayed I/O through io_uring (--io-uring) */
	/* R18: what one client may cost. Stream limits in milliseconds and
	 * bytes (the flags say seconds); 0 rate turns the limiter off. */
	struct conn_limits lim;
	uint32_t unauth_rate, unauth_burst, max_connects;
	uint32_t metrics_timeout_ms, metrics_max_conns;
	uint64_t max_bps;
	int have_metrics;
	struct sockaddr_storage metrics;
	/* MRAS ([MS-AVEDGEA], R20): mutual-TLS SIP listeners, the CA their
	 * clients' certificates must chain to, the relays the answer lists,
	 * and the longest credential lifetime a client may ask for. */
	struct sockaddr_storage mras[CONF_MAX_LISTEN];
	int nmras;
	const char *mras_ca;
	struct mras_relay mras_relays[MRAS_MAX_RELAYS];
	int nmras_relays;
	unsigned mras_duration_min;

	/* Built at start from the above; auth is rebuilt by SIGHUP. */
	pthread_rwlock_t reload;
	struct auth *auth;
	struct peerfilter *filter;
	struct quota quota;
	int built;    /* conf_build ran: locks exist */
	int draining; /* SIGTERM: no new allocations (atomic access) */
};

/* Apply one setting by its long-flag name; used for flags and file lines. */
int conf_apply(void *conf, const char *key, const char *value, char *err, size_t errlen);
/* Parse argv (and --config files) into c. Exits with a one-line message on
 * a bad flag; returns 1 when --help/--version was handled. */
int conf_parse_args(struct avedge_conf *c, int argc, char **argv);
/* Build auth and the peer filter; 0 or -1 with err. */
int conf_build(struct avedge_conf *c, char *err, size_t errlen);
/* SIGHUP: re-read users, secrets, limits (and --config). 0 or -1 + err. */
int conf_reload(struct avedge_conf *c, char *err, size_t errlen);
void conf_free(struct avedge_conf *c);

#endif
