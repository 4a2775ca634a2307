/* quota.h: allocation quotas shared by every worker thread: per user
 * (486 Allocation Quota Reached) and in total (508 Insufficient Capacity). */
#ifndef EDGELAB_QUOTA_H
#define EDGELAB_QUOTA_H

#include <pthread.h>

struct quota_user;

struct quota {
	pthread_mutex_t lock;
	unsigned per_user, total; /* 0: unlimited */
	unsigned in_use;
	struct quota_user *users; /* only users holding allocations */
};

void quota_init(struct quota *q, unsigned per_user, unsigned total);
void quota_set(struct quota *q, unsigned per_user, unsigned total); /* reload */
void quota_destroy(struct quota *q);
/* 0 taken, 486 user over quota, 508 server full. */
int quota_take(struct quota *q, const char *user);
void quota_give(struct quota *q, const char *user);
unsigned quota_in_use(struct quota *q);

#endif
