/* uring.h: the smallest io_uring wrapper hlb's engine and avedge's
 * datagram paths need, on the raw system calls (no liburing in the build
 * image).
 *
 * Why: in the lab's VMs a system call costs microseconds, more than
 * everything hlb or avedge does to a packet. A TUN device hands over one
 * packet per read(); a relay has one socket per allocation, each wanting
 * its own recvmmsg and sendmmsg. So a whole batch of them goes to the
 * kernel as submission entries in one io_uring_enter(). The descriptors
 * stay non-blocking (sockets: MSG_DONTWAIT): every entry runs inline
 * during the enter and completes at once (nothing to read completes with
 * -EAGAIN) - no kernel worker threads, no poll arming, no second core. */
#ifndef EDGELAB_URING_H
#define EDGELAB_URING_H

#include <linux/io_uring.h>
#include <stddef.h>
#include <stdint.h>

struct uring {
	int fd;
	unsigned sq_entries, cq_entries;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	unsigned sq_local;       /* our tail, published at submit */
	unsigned pending;        /* entries queued since the last submit */
	unsigned inflight;       /* submitted, completion not yet seen */
	int fixed;               /* 1: file 0 is registered (register_fd) */
	void *sq_map, *cq_map;
	size_t sq_map_len, cq_map_len, sqes_len;
};

/* 0, or a negative errno (ENOSYS, EPERM where io_uring is off: the
 * caller falls back to read/write). */
int uring_init(struct uring *u, unsigned entries);
void uring_exit(struct uring *u);
/* Register fd as fixed file 0, so that entries skip the per-operation
 * file lookup; uring_prep_rw() then uses it. 0 or -errno (harmless:
 * entries use the plain fd). */
int uring_register_fd(struct uring *u, int fd);
/* A free submission entry, zeroed, or NULL when the queue is full. */
struct io_uring_sqe *uring_get_sqe(struct uring *u);
/* Fill sqe for a read or write of len bytes at addr on fd (the
 * registered file when there is one; no file position). */
void uring_prep_rw(struct uring *u, struct io_uring_sqe *sqe, int op, int fd,
		   void *addr, unsigned len, uint64_t user_data);
/* Fill sqe for a sendmsg or recvmsg (op IORING_OP_SENDMSG or
 * IORING_OP_RECVMSG) of msg on the socket fd, non-blocking. */
void uring_prep_msg(struct io_uring_sqe *sqe, int op, int fd, void *msg, uint64_t user_data);
/* Submit what was queued without waiting. Returns the number submitted
 * or a negative errno. */
int uring_submit(struct uring *u);
/* Wait up to ms until at least one completion is there. 0, -ETIME, or
 * another -errno. */
int uring_wait(struct uring *u, unsigned ms);
/* The next completion, or NULL; uring_cqe_seen() consumes it. */
struct io_uring_cqe *uring_peek_cqe(struct uring *u);
void uring_cqe_seen(struct uring *u);

#endif
