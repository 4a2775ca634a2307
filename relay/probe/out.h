/* out.h: one report, printed either as aligned "key value" lines for a
 * person or as one JSON object for a script (--json). Values are ours
 * (addresses, numbers, error reasons we cleaned), so escaping is minimal. */
#ifndef EDGELAB_PROBE_OUT_H
#define EDGELAB_PROBE_OUT_H

struct out {
	int json;
	int first;
};

/* Starts the report: {"op":OP,"target":T,"transport":TP, or "OP T/TP". */
void probe_out_begin(struct out *o, int json, const char *op, const char *target, const char *tp);
void probe_out_str(struct out *o, const char *key, const char *val); /* skipped if empty */
void probe_out_int(struct out *o, const char *key, long long v);
void probe_out_num(struct out *o, const char *key, double v, int decimals);
void probe_out_end(struct out *o);

/* The one-line failure: on stderr always, and in the JSON report when
 * asked for ("error" field, plus "code" when the server gave one). */
void probe_out_fail(struct out *o, const char *what, int code, const char *why);

#endif
