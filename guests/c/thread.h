/*
 * Helpers for the thread guests (thread_c, thread_exit_c): built with
 * -pthread because their file names contain "thread".
 */
#ifndef UMK_THREAD_H
#define UMK_THREAD_H

#include "proc.h"

#include <pthread.h>
#include <sys/syscall.h>

static inline pid_t tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* pthread_create that ends the guest (status 2) when it fails: a test of
 * threads cannot go on without them (and must not wait for them forever).
 * Returns 0. */
static inline int xpthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *),
				  void *arg)
{
	int e = pthread_create(t, attr, fn, arg);
	if (e != 0) {
		printf("pthread_create: %s\n", errno_name(e));
		fflush(stdout);
		fprintf(stderr, "%s: pthread_create failed: %s\n", guest_name, errno_name(e));
		exit(2);
	}
	return 0;
}

#endif
