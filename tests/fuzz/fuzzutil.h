/* tests/fuzz/fuzzutil.h: what the codec's fuzz targets share (fuzzutil.c):
 * the invariant check, reading every byte so ASan sees any overrun, and
 * the attribute checks both dialects' round trips make. */
#ifndef EDGELAB_FUZZUTIL_H
#define EDGELAB_FUZZUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "stun/stun.h"

/* A broken invariant aborts, so libFuzzer reports it like a crash. */
#define INVARIANT(c) do { if (!(c)) abort(); } while (0)

extern volatile uint32_t fuzz_sink;

/* Read every byte of p. */
void fuzz_touch(const uint8_t *p, size_t n);

/* Every attribute of a parsed m: laid out one after another from the
 * header to the message's end (each padded to 4 when padded), its value
 * inside the message, read through every typed reader and found by
 * stun_msg_attr; name() names it (stun_attr_name, msturn_attr_name). */
void fuzz_read_attrs(const struct stun_msg *m, int padded, const char *(*name)(uint16_t));

/* The re-encoded m2 holds m's attributes: the same types, lengths and
 * values (FINGERPRINT's value is recomputed, so not compared), at the same
 * offsets when same_off. */
void fuzz_same_attrs(const struct stun_msg *m, const struct stun_msg *m2, int same_off);

#endif
