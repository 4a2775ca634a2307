/* out.c: text or JSON reports (see out.h). */
#include <stdio.h>

#include "out.h"

/* JSON strings: drop what would need escaping rather than escape it;
 * reports carry addresses and short reasons, never arbitrary text. */
static void put_clean(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x20 && *s != '"' && *s != '\\' && *s != 0x7f)
			putchar(*s);
}

void probe_out_begin(struct out *o, int json, const char *op, const char *target, const char *tp)
{
	o->json = json;
	o->first = 1;
	if (json) {
		printf("{\"op\":\"%s\"", op);
		o->first = 0;
		if (target)
			probe_out_str(o, "target", target);
		if (tp)
			probe_out_str(o, "transport", tp);
	} else {
		printf("%s%s%s%s%s\n", op, target ? " " : "", target ? target : "",
		       tp ? "/" : "", tp ? tp : "");
	}
}

void probe_out_str(struct out *o, const char *key, const char *val)
{
	if (!val || !val[0])
		return;
	if (o->json) {
		printf("%s\"%s\":\"", o->first ? "" : ",", key);
		put_clean(val);
		putchar('"');
	} else {
		printf("  %-18s %s\n", key, val);
	}
	o->first = 0;
}

void probe_out_int(struct out *o, const char *key, long long v)
{
	if (o->json)
		printf("%s\"%s\":%lld", o->first ? "" : ",", key, v);
	else
		printf("  %-18s %lld\n", key, v);
	o->first = 0;
}

void probe_out_num(struct out *o, const char *key, double v, int decimals)
{
	if (o->json)
		printf("%s\"%s\":%.*f", o->first ? "" : ",", key, decimals, v);
	else
		printf("  %-18s %.*f\n", key, decimals, v);
	o->first = 0;
}

void probe_out_end(struct out *o)
{
	if (o->json)
		printf("}\n");
	fflush(stdout);
}

void probe_out_fail(struct out *o, const char *what, int code, const char *why)
{
	if (o->json) {
		probe_out_str(o, "error", why);
		if (code)
			probe_out_int(o, "code", code);
	}
	fprintf(stderr, "edgeprobe: %s: %s\n", what, why);
}
