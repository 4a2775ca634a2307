/* config.h: `key = value` files with the long flags' names (R16). Each
 * pair goes to the same function the command line uses, so a file and the
 * flags cannot disagree. */
#ifndef EDGELAB_CONFIG_H
#define EDGELAB_CONFIG_H

#include <stddef.h>

/* Return 0, or -1 after writing a reason (without file:line) to err. */
typedef int (*config_apply_fn)(void *ctx, const char *key, const char *value,
			       char *err, size_t errlen);

/* Blank lines and '#' comments skipped; whitespace around key and value
 * trimmed; a value may be quoted with "" to keep spaces. A key alone on a
 * line (no '=') is a flag with an empty value. On error returns -1 and err
 * reads "FILE:LINE: reason". */
int config_load(const char *path, config_apply_fn apply, void *ctx, char *err,
		size_t errlen);

/* The reader under config_load, for files of other shapes (the user file's
 * NAME:PASS lines): each line, trimmed, with blank lines, '#' comments, a
 * BOM and CRLF taken care of. fn returns 0, or -1 with a reason in err. */
typedef int (*config_line_fn)(void *ctx, char *line, char *err, size_t errlen);
int config_lines(const char *path, config_line_fn fn, void *ctx, char *err, size_t errlen);

#endif
