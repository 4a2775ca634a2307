/* fault.h: deliberate misconfigurations (SPEC §6, R27) that the scenario
 * suite must catch. Each changes only what its name says; most are
 * applied to the parsed config once at start, the rest are read by the
 * engine (snat-all-outbound, dsr-av via lb_service.dsr). */
#ifndef HLB_FAULT_H
#define HLB_FAULT_H

#include "service.h"

enum lb_fault {
	LB_FAULT_SNAT_AV = 1u << 0,          /* M1: A/V services use snat */
	LB_FAULT_SNAT_ALL_OUTBOUND = 1u << 1, /* M3: every real's flow -> VIP */
	LB_FAULT_NO_AFFINITY = 1u << 2,      /* M5: source scheduler -> rr */
	LB_FAULT_PORT_TRANSLATE = 1u << 3,   /* M6: dnat rewrites client port */
	LB_FAULT_NO_MONITOR = 1u << 4,       /* M9: monitors off, all up */
	LB_FAULT_SHORT_TCP_IDLE = 1u << 5,   /* M10: TCP idle 660 s */
	LB_FAULT_BALANCE_DIRECT = 1u << 6,   /* M11: direct ports balanced */
	LB_FAULT_DSR_AV = 1u << 7,           /* M12: A/V return untranslated */
	LB_FAULT_TLS_ONLY_AV = 1u << 8,      /* M14: A/V TCP 443 genuine TLS only */
	/* M15: A/V persistence and UDP flows forgotten after 10 s of silence
	 * (bit 9: bit 8 is left to M14) */
	LB_FAULT_SHORT_AV_PERSIST = 1u << 9,
};

#define LB_FAULT_SHORT_TCP_IDLE_SECONDS 660
/* M15: shorter than any refresh interval a TURN client uses (an
 * allocation lives 600 s), as a device with a short default would be. */
#define LB_FAULT_SHORT_AV_PERSIST_SECONDS 10

/* The bit for a name ("snat-av"), or 0 when unknown. */
unsigned fault_parse(const char *name);
const char *fault_name(unsigned bit);
/* Space-separated list of every fault name, for usage text. */
const char *fault_names(void);
/* Apply the config-level faults in cfg->faults to the services. */
void fault_apply(struct lb_config *cfg);

#endif
