/* tlsonly.h: M14 (SPEC section 6), a balancer that lets only genuine TLS
 * through on the A/V 443 service, as a device doing protocol validation or
 * SSL inspection does. Such a device reads the client's first bytes as a
 * TLS ClientHello and resets the connection when they are not one it would
 * negotiate. The [MS-TURN] pseudo-TLS hello (a fixed TLS 1.0 ClientHello
 * offering only an anonymous RC4 suite, never followed by a real
 * handshake) is refused, so the Lync TCP fallback breaks while real TLS
 * clients (TLS 1.2 and later) pass. Only flows of a service marked
 * tls_only are looked at, and each only until its first client payload. */
#ifndef HLB_TLSONLY_H
#define HLB_TLSONLY_H

#include <stddef.h>
#include <stdint.h>

struct pkt;

/* 1 when data (a flow's first client payload) starts a TLS ClientHello of
 * version 1.2 or later in a handshake record; else 0. */
int tlsonly_hello_ok(const uint8_t *data, size_t len);

/* The TCP payload of p (a parsed TCP packet): its length, *data set. */
size_t tlsonly_payload(const struct pkt *p, const uint8_t **data);

/* Rewrite p's buffer, in place, into the reset the device sends back to
 * p's sender (from p's destination address and port, acknowledging p's
 * bytes). Returns the reset's length. */
size_t tlsonly_reset(struct pkt *p);

#endif
