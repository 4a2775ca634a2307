/* service.h: MRAS in avedge ([MS-AVEDGEA], R20): the up-calls of the
 * mutual-TLS SIP listeners (io/listener.c frames each SIP message with
 * mras_sip_frame_len and hands it here). One SERVICE request with a
 * credentialsRequest gets a 200 OK with credentials every node of the
 * pool accepts; anything else gets the spec's error and a log line. */
#ifndef EDGELAB_MRAS_SERVICE_H
#define EDGELAB_MRAS_SERVICE_H

#include "conf.h"
#include "io/listener.h"
#include "util/stats.h"

struct mras_service {
	struct avedge_conf *conf; /* its auth table's first secret signs (read-locked:
				   * SIGHUP may swap it) */
	struct stats *st;     /* the worker's counters */
};

/* 0, or -1 if the configuration has no secret. */
int mras_service_init(struct mras_service *m, struct avedge_conf *conf, struct stats *st);
/* A listener's callbacks (arg: the struct mras_service) and framer. */
void mras_service_listener(struct mras_service *m, struct listener *l);

#endif
