/*
 * On one CPU, a SCHED_FIFO thread created by a SCHED_OTHER thread runs to
 * completion before its creator continues: the output order is fixed.
 * The process pins itself to the first CPU of its mask (like
 * `taskset -c 0`; under umk run it with --cpus 1 or not, the same). Without
 * the privilege to use SCHED_FIFO it says so and exits 0.
 */
#include "guest.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

static int pin_to_first_cpu(void)
{
	cpu_set_t s;
	if (sched_getaffinity(0, sizeof s, &s) != 0)
		return -1;
	int c = 0;
	while (!CPU_ISSET(c, &s))
		c++;
	CPU_ZERO(&s);
	CPU_SET(c, &s);
	return sched_setaffinity(0, sizeof s, &s);
}

/* Burn CPU for `ms` milliseconds of this thread's CPU time. */
static void burn(int ms)
{
	struct timespec t0, t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	do {
		for (volatile int i = 0; i < 10000; i++)
			;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
}

static void *rt_thread(void *arg)
{
	(void)arg;
	int policy;
	struct sched_param p;
	pthread_getschedparam(pthread_self(), &policy, &p);
	printf("rt thread: starts (SCHED_FIFO %d: %s)\n", p.sched_priority,
	       policy == SCHED_FIFO ? "yes" : "no");
	burn(30);
	printf("rt thread: done\n");
	return NULL;
}

int main(void)
{
	guest_init("sched_fifo_thread_c");
	CHECK(pin_to_first_cpu() == 0, "pinned to one cpu");
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&a, SCHED_FIFO);
	struct sched_param p = { .sched_priority = 10 };
	pthread_attr_setschedparam(&a, &p);
	printf("creator: creates a SCHED_FIFO thread\n");
	pthread_t t;
	int e = pthread_create(&t, &a, rt_thread, NULL);
	if (e == EPERM) {
		printf("real-time policies allowed: no (EPERM)\n");
		return guest_done();
	}
	CHECK(e == 0, "pthread_create");
	printf("creator: continues\n");
	burn(5);
	printf("creator: joins\n");
	CHECK(pthread_join(t, NULL) == 0, "pthread_join");
	return guest_done();
}
