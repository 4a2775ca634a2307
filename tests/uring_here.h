/* tests/uring_here.h: whether this kernel lets us have an io_uring. The
 * ring cases of the io/ tests assert the ring path where there is one;
 * where the kernel refuses it (io_uring_disabled, a seccomp filter) they
 * assert the fallback instead and say so once, rather than fail a
 * machine for what its kernel does not offer. */
#ifndef EDGELAB_URING_HERE_H
#define EDGELAB_URING_HERE_H

#include <stdio.h>
#include <string.h>

#include "util/uring.h"

static inline int uring_here(void)
{
	static int known, here;
	struct uring u;
	int rc;

	if (!known) {
		rc = uring_init(&u, 8);
		here = rc == 0;
		if (here)
			uring_exit(&u);
		else
			fprintf(stderr, "io_uring unavailable here (%s): the ring cases check the "
					"fallback\n", strerror(-rc));
		known = 1;
	}
	return here;
}

#endif
