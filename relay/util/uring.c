/* uring.c: see uring.h. */
#include "util/uring.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int sys_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned to_submit, unsigned min_complete,
		     unsigned flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, to_submit, min_complete,
			    flags, NULL, 0);
}

int uring_init(struct uring *u, unsigned entries)
{
	struct io_uring_params p;
	uint8_t *sq, *cq;
	int rc;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	memset(&p, 0, sizeof(p));
	/* Room for a batch's reads and the writes of the batch before. */
	p.flags = IORING_SETUP_CQSIZE;
	p.cq_entries = entries * 2;
	rc = sys_setup(entries, &p);
	if (rc < 0)
		return -errno;
	u->fd = rc;
	if (!(p.features & IORING_FEAT_NODROP)) {
		/* Before 5.5: a full CQ drops completions. Not worth it. */
		uring_exit(u);
		return -ENOSYS;
	}
	u->sq_map_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	u->cq_map_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (u->cq_map_len > u->sq_map_len)
			u->sq_map_len = u->cq_map_len;
		u->cq_map_len = u->sq_map_len;
	}
	u->sq_map = mmap(NULL, u->sq_map_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQ_RING);
	if (u->sq_map == MAP_FAILED) {
		u->sq_map = NULL;
		goto fail;
	}
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		u->cq_map = u->sq_map;
	} else {
		u->cq_map = mmap(NULL, u->cq_map_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, u->fd,
				 IORING_OFF_CQ_RING);
		if (u->cq_map == MAP_FAILED) {
			u->cq_map = NULL;
			goto fail;
		}
	}
	u->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (u->sqes == MAP_FAILED) {
		u->sqes = NULL;
		goto fail;
	}
	sq = u->sq_map;
	cq = u->cq_map;
	u->sq_head = (unsigned *)(sq + p.sq_off.head);
	u->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)(sq + p.sq_off.array);
	u->cq_head = (unsigned *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	u->sq_entries = p.sq_entries;
	u->cq_entries = p.cq_entries;
	/* The index array maps slot i to sqe i once and for all. */
	for (unsigned i = 0; i < p.sq_entries; i++)
		u->sq_array[i] = i;
	u->sq_local = *u->sq_tail;
	return 0;
fail:
	rc = -errno;
	uring_exit(u);
	return rc;
}

void uring_exit(struct uring *u)
{
	if (u->sqes)
		munmap(u->sqes, u->sqes_len);
	if (u->cq_map && u->cq_map != u->sq_map)
		munmap(u->cq_map, u->cq_map_len);
	if (u->sq_map)
		munmap(u->sq_map, u->sq_map_len);
	if (u->fd >= 0)
		close(u->fd);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

struct io_uring_sqe *uring_get_sqe(struct uring *u)
{
	unsigned head = __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
	struct io_uring_sqe *sqe;

	if (u->sq_local - head >= u->sq_entries)
		return NULL;
	sqe = &u->sqes[u->sq_local & *u->sq_mask];
	u->sq_local++;
	u->pending++;
	memset(sqe, 0, sizeof(*sqe));
	return sqe;
}

int uring_register_fd(struct uring *u, int fd)
{
	int rc = (int)syscall(__NR_io_uring_register, u->fd,
			      IORING_REGISTER_FILES, &fd, 1);

	if (rc < 0)
		return -errno;
	u->fixed = 1;
	return 0;
}

void uring_prep_rw(struct uring *u, struct io_uring_sqe *sqe, int op, int fd,
		   void *addr, unsigned len, uint64_t user_data)
{
	sqe->opcode = (uint8_t)op;
	if (u->fixed) {
		sqe->fd = 0;
		sqe->flags |= IOSQE_FIXED_FILE;
	} else {
		sqe->fd = fd;
	}
	sqe->addr = (uint64_t)(uintptr_t)addr;
	sqe->len = len;
	sqe->off = (uint64_t)-1; /* no file position: a device */
	sqe->user_data = user_data;
}

void uring_prep_msg(struct io_uring_sqe *sqe, int op, int fd, void *msg, uint64_t user_data)
{
	sqe->opcode = (uint8_t)op;
	sqe->fd = fd;
	sqe->addr = (uint64_t)(uintptr_t)msg;
	sqe->len = 1;
	/* MSG_DONTWAIT makes the kernel answer -EAGAIN rather than arm a
	 * poll and complete later: the caller's buffers are reused as soon
	 * as the enter returns. */
	sqe->msg_flags = MSG_DONTWAIT;
	sqe->user_data = user_data;
}

int uring_submit(struct uring *u)
{
	unsigned n = u->pending;
	int rc;

	__atomic_store_n(u->sq_tail, u->sq_local, __ATOMIC_RELEASE);
	do {
		rc = sys_enter(u->fd, n, 0, 0);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	/* Entries not taken (a bad one stops the batch) stay in the ring
	 * and go with the next submit. */
	u->pending = n - (unsigned)rc;
	u->inflight += (unsigned)rc;
	return rc;
}

int uring_wait(struct uring *u, unsigned ms)
{
	struct __kernel_timespec ts = { ms / 1000, (long long)(ms % 1000) * 1000000 };
	struct io_uring_getevents_arg arg = { .ts = (uint64_t)(uintptr_t)&ts };
	int rc;

	do {
		rc = (int)syscall(__NR_io_uring_enter, u->fd, 0, 1,
				  IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
				  &arg, sizeof(arg));
	} while (rc < 0 && errno == EINTR);
	return rc < 0 ? -errno : 0;
}

struct io_uring_cqe *uring_peek_cqe(struct uring *u)
{
	unsigned head = *u->cq_head;

	if (head == __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE))
		return NULL;
	return &u->cqes[head & *u->cq_mask];
}

void uring_cqe_seen(struct uring *u)
{
	__atomic_store_n(u->cq_head, *u->cq_head + 1, __ATOMIC_RELEASE);
	if (u->inflight)
		u->inflight--;
}
