/* fault.c: fault names and their effect on a parsed config. */
#include "fault.h"
#include "scheduler.h"

#include <netinet/in.h>
#include <string.h>

static const struct {
	unsigned bit;
	const char *name;
} faults[] = {
	{ LB_FAULT_SNAT_AV, "snat-av" },
	{ LB_FAULT_SNAT_ALL_OUTBOUND, "snat-all-outbound" },
	{ LB_FAULT_NO_AFFINITY, "no-affinity" },
	{ LB_FAULT_PORT_TRANSLATE, "port-translate" },
	{ LB_FAULT_NO_MONITOR, "no-monitor" },
	{ LB_FAULT_SHORT_TCP_IDLE, "short-tcp-idle" },
	{ LB_FAULT_BALANCE_DIRECT, "balance-internal-direct" },
	{ LB_FAULT_DSR_AV, "dsr-av" },
	{ LB_FAULT_TLS_ONLY_AV, "tls-only-av" },
	{ LB_FAULT_SHORT_AV_PERSIST, "short-av-persistence" },
};

#define NFAULTS (sizeof(faults) / sizeof(faults[0]))

unsigned fault_parse(const char *name)
{
	for (size_t i = 0; i < NFAULTS; i++)
		if (strcmp(faults[i].name, name) == 0)
			return faults[i].bit;
	return 0;
}

const char *fault_name(unsigned bit)
{
	for (size_t i = 0; i < NFAULTS; i++)
		if (faults[i].bit == bit)
			return faults[i].name;
	return "?";
}

const char *fault_names(void)
{
	return "snat-av snat-all-outbound no-affinity port-translate "
	       "no-monitor short-tcp-idle balance-internal-direct dsr-av "
	       "tls-only-av short-av-persistence";
}

/* M15: the A/V service forgets a quiet client: its pin, and a UDP flow. */
static void short_av_persistence(struct lb_service *s)
{
	const uint32_t t = LB_FAULT_SHORT_AV_PERSIST_SECONDS;

	if (s->affinity_timeout > t)
		s->affinity_timeout = t;
	if (s->proto == IPPROTO_UDP && s->udp_timeout > t)
		s->udp_timeout = t;
}

void fault_apply(struct lb_config *cfg)
{
	unsigned f = cfg->faults;
	int n = 0;

	/* Services that exist only under a fault (M11) go unless it is on. */
	for (int i = 0; i < cfg->nsvc; i++)
		if (!cfg->svc[i].only_fault || (cfg->svc[i].only_fault & f))
			cfg->svc[n++] = cfg->svc[i];
	cfg->nsvc = (uint8_t)n;

	for (int i = 0; i < cfg->nsvc; i++) {
		struct lb_service *s = &cfg->svc[i];

		if ((f & LB_FAULT_SNAT_AV) && s->av)
			s->mode = LB_SNAT;
		if ((f & LB_FAULT_NO_AFFINITY) && s->sched == &sched_source)
			s->sched = &sched_rr;
		if ((f & LB_FAULT_PORT_TRANSLATE) && s->mode == LB_DNAT)
			s->src_port_rewrite = 1;
		if (f & LB_FAULT_NO_MONITOR)
			s->mon.type = LB_MON_NONE;
		if ((f & LB_FAULT_SHORT_TCP_IDLE) &&
		    s->tcp_timeout > LB_FAULT_SHORT_TCP_IDLE_SECONDS)
			s->tcp_timeout = LB_FAULT_SHORT_TCP_IDLE_SECONDS;
		if ((f & LB_FAULT_DSR_AV) && s->av && s->mode == LB_DNAT)
			s->dsr = 1;
		if ((f & LB_FAULT_TLS_ONLY_AV) && s->av && s->proto == IPPROTO_TCP && s->port == 443)
			s->tls_only = 1;
		if ((f & LB_FAULT_SHORT_AV_PERSIST) && s->av)
			short_av_persistence(s);
	}
}
