/* config.c: `key = value` files (R16). Syntax, one setting per line:
 *
 *   # a comment (only as the first non-blank character of a line; a '#'
 *   #  later on is part of the value, so passwords may contain it)
 *   realm = lab.example
 *   user = "alice:pass with spaces"
 *   verbose                    (a key alone: a flag, value "")
 *
 * Keys are the long flags' names without "--": letters, digits, '-' and
 * '_'. Whitespace around key and value is trimmed. A value in double
 * quotes keeps its spaces; inside quotes \" and \\ are the only escapes,
 * and nothing but blanks may follow the closing quote. CRLF line ends and
 * a leading UTF-8 BOM are accepted. Every error reads "FILE:LINE: reason"
 * (or "FILE: reason" when the file cannot be read). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static char *trim(char *s)
{
	char *e;

	while (blank(*s))
		s++;
	e = s + strlen(s);
	while (e > s && blank(e[-1]))
		e--;
	*e = '\0';
	return s;
}

static int key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Unquote v in place. NULL on success, or the reason. */
static const char *unquote(char *v)
{
	char *r = v + 1, *w = v;

	for (;;) {
		if (*r == '\0')
			return "unterminated quoted value";
		if (*r == '"')
			break;
		if (*r == '\\' && (r[1] == '"' || r[1] == '\\'))
			r++;
		*w++ = *r++;
	}
	r++;
	while (blank(*r))
		r++;
	if (*r)
		return "unexpected text after the closing quote";
	*w = '\0';
	return NULL;
}

/* Split one non-comment line into key and value. NULL or the reason. */
static const char *split(char *s, char **key, char **value)
{
	char *eq = strchr(s, '=');
	char *k, *v;

	if (eq) {
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
	} else {
		k = s; /* already trimmed */
		v = s + strlen(s);
	}
	if (!*k)
		return "missing key before '='";
	if (k[0] == '-' && k[1] == '-')
		k += 2; /* "--realm = x" is forgiven */
	if (!*k)
		return "missing key before '='";
	for (const char *p = k; *p; p++)
		if (!key_char(*p))
			return "bad character in key (want letters, digits, '-', '_')";
	if (*v == '"') {
		const char *why = unquote(v);
		if (why)
			return why;
	}
	*key = k;
	*value = v;
	return NULL;
}

/* The one line reader: each non-blank, non-comment line, trimmed, goes to
 * fn; an error from fn (or from reading) reads "FILE:LINE: reason". The
 * buffer is wiped before it is freed: lines may hold passwords. */
int config_lines(const char *path, config_line_fn fn, void *ctx, char *err, size_t errlen)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	ssize_t n;
	int rc = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !*path) {
		if (err && errlen)
			snprintf(err, errlen, "config: no file name given");
		return -1;
	}
	f = fopen(path, "r");
	if (!f) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *s = line, reason[512];

		lineno++;
		if (memchr(line, '\0', (size_t)n)) {
			if (err && errlen)
				snprintf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
			rc = -1;
			break;
		}
		if (lineno == 1 && !memcmp(s, "\xef\xbb\xbf", 3)) /* UTF-8 BOM */
			s += 3;
		s = trim(s);
		if (!*s || *s == '#')
			continue;
		reason[0] = '\0';
		if (fn(ctx, s, reason, sizeof reason) < 0) {
			if (err && errlen)
				snprintf(err, errlen, "%s:%u: %s", path, lineno,
					 reason[0] ? reason : "invalid line");
			rc = -1;
			break;
		}
	}
	if (!rc && ferror(f)) {
		if (err && errlen)
			snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		rc = -1;
	}
	if (line) {
		explicit_bzero(line, cap);
		free(line);
	}
	fclose(f);
	return rc;
}

struct apply_ctx {
	config_apply_fn apply;
	void *ctx;
};

static int apply_line(void *arg, char *line, char *err, size_t errlen)
{
	struct apply_ctx *a = arg;
	char *key, *value;
	const char *why = split(line, &key, &value);

	if (why) {
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (a->apply(a->ctx, key, value, err, errlen) < 0) {
		if (!err[0])
			snprintf(err, errlen, "invalid setting");
		return -1;
	}
	return 0;
}

int config_load(const char *path, config_apply_fn apply, void *ctx, char *err,
		size_t errlen)
{
	struct apply_ctx a = {apply, ctx};

	return config_lines(path, apply_line, &a, err, errlen);
}
