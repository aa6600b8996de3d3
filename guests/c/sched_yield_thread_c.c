/*
 * On one CPU, two SCHED_FIFO threads of equal priority that call
 * sched_yield() in a loop alternate strictly: a yielding RT task goes to
 * the tail of its priority's queue. The process pins itself to the first
 * CPU of its mask. Without the privilege to use SCHED_FIFO it says so and
 * exits 0.
 */
#include "guest.h"

#include <pthread.h>
#include <sched.h>

#define ROUNDS 8

/* volatile: glibc declares sched_yield() a leaf function, so the compiler
 * may otherwise keep these in registers across it. */
static volatile char order[2 * ROUNDS + 1];
static volatile int pos;

static void *worker(void *arg)
{
	char me = *(const char *)arg;
	for (int i = 0; i < ROUNDS; i++) {
		order[pos++] = me; /* one CPU, FIFO: no other thread runs now */
		sched_yield();
	}
	return NULL;
}

int main(void)
{
	guest_init("sched_yield_thread_c");
	cpu_set_t s;
	CHECK(sched_getaffinity(0, sizeof s, &s) == 0, "sched_getaffinity");
	int c = 0;
	while (!CPU_ISSET(c, &s))
		c++;
	CPU_ZERO(&s);
	CPU_SET(c, &s);
	CHECK(sched_setaffinity(0, sizeof s, &s) == 0, "pinned to one cpu");
	struct sched_param p = { .sched_priority = 10 };
	if (sched_setscheduler(0, SCHED_FIFO, &p) != 0) {
		printf("real-time policies allowed: no (%s)\n", errno_name(errno));
		return guest_done();
	}
	/* The threads inherit SCHED_FIFO 10 and queue behind this one; they
	 * run once it blocks in pthread_join. */
	static const char a = 'A', b = 'B';
	pthread_t ta, tb;
	CHECK(pthread_create(&ta, NULL, worker, (void *)&a) == 0, "create A");
	CHECK(pthread_create(&tb, NULL, worker, (void *)&b) == 0, "create B");
	CHECK(pthread_join(ta, NULL) == 0 && pthread_join(tb, NULL) == 0, "join");
	printf("order: %s\n", (const char *)order);
	CHECK(strcmp((const char *)order, "ABABABABABABABAB") == 0, "strict alternation");
	return guest_done();
}
