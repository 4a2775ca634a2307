/* quota.c: counts per user, kept only while a user holds allocations, so
 * the table never grows with users who came and went. */
#include <stdlib.h>
#include <string.h>

#include "quota.h"

struct quota_user {
	struct quota_user *next;
	unsigned count;
	char name[];
};

void quota_init(struct quota *q, unsigned per_user, unsigned total)
{
	memset(q, 0, sizeof *q);
	pthread_mutex_init(&q->lock, NULL);
	q->per_user = per_user;
	q->total = total;
}

void quota_set(struct quota *q, unsigned per_user, unsigned total)
{
	pthread_mutex_lock(&q->lock);
	q->per_user = per_user;
	q->total = total;
	pthread_mutex_unlock(&q->lock);
}

void quota_destroy(struct quota *q)
{
	while (q->users) {
		struct quota_user *u = q->users;
		q->users = u->next;
		free(u);
	}
	pthread_mutex_destroy(&q->lock);
}

static struct quota_user **find(struct quota *q, const char *user)
{
	struct quota_user **pp = &q->users;
	while (*pp && strcmp((*pp)->name, user))
		pp = &(*pp)->next;
	return pp;
}

int quota_take(struct quota *q, const char *user)
{
	struct quota_user **pp, *u;
	int rc = 0;

	pthread_mutex_lock(&q->lock);
	pp = find(q, user);
	u = *pp;
	if (q->total && q->in_use >= q->total)
		rc = 508;
	else if (q->per_user && u && u->count >= q->per_user)
		rc = 486;
	else if (!u && !(u = calloc(1, sizeof *u + strlen(user) + 1)))
		rc = 508;
	if (!rc) {
		if (!*pp) {
			strcpy(u->name, user);
			*pp = u;
		}
		u->count++;
		q->in_use++;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void quota_give(struct quota *q, const char *user)
{
	struct quota_user **pp, *u;

	pthread_mutex_lock(&q->lock);
	pp = find(q, user);
	if ((u = *pp)) {
		q->in_use--;
		if (--u->count == 0) {
			*pp = u->next;
			free(u);
		}
	}
	pthread_mutex_unlock(&q->lock);
}

unsigned quota_in_use(struct quota *q)
{
	unsigned n;
	pthread_mutex_lock(&q->lock);
	n = q->in_use;
	pthread_mutex_unlock(&q->lock);
	return n;
}
