/*
 * POSIX threads: create/join with return values, pthread_exit, a mutex-
 * protected counter shared by 8 threads, a condition-variable producer/
 * consumer queue, __thread variables, gettid vs getpid, a detached thread,
 * pthread_barrier, a thread blocked in read() on a pipe woken by another
 * thread's write, semaphores, pthread_once.
 *
 * `thread_c [SECTION]` runs one section (all of them without an argument).
 * Prints only relations and totals that do not depend on scheduling.
 */
#include "thread.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>

static const char *const SECTIONS[] = {
	"join", "mutex", "cond", "tls", "ids", "detach", "barrier", "pipe", "futex", "misc", NULL,
};



/* ------------------------------------------------------------------------ */

static void *square(void *arg)
{
	intptr_t n = (intptr_t)arg;
	return (void *)(n * n);
}

static void *exits_early(void *arg)
{
	pthread_exit((void *)((intptr_t)arg + 1000));
	return NULL; /* not reached */
}

static void join(void)
{
	pthread_t t[4];
	for (intptr_t i = 0; i < 4; i++)
		xpthread_create(&t[i], NULL, square, (void *)(i + 2));
	for (int i = 0; i < 4; i++) {
		void *ret = NULL;
		CHECK(pthread_join(t[i], &ret) == 0, "pthread_join %d", i);
		printf("thread %d returned %ld\n", i, (long)(intptr_t)ret);
	}
	pthread_t e;
	void *ret = NULL;
	CHECK(xpthread_create(&e, NULL, exits_early, (void *)7) == 0 &&
	      pthread_join(e, &ret) == 0 && ret == (void *)1007,
	      "pthread_exit((void *)1007) from a thread: pthread_join gets 1007");
	CHECK(pthread_join(pthread_self(), NULL) == EDEADLK, "pthread_join(self) == EDEADLK");

	/* A thread with a small explicit stack. */
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	CHECK(xpthread_create(&e, &attr, square, (void *)9) == 0 && pthread_join(e, &ret) == 0 &&
	      ret == (void *)81,
	      "a thread with a 64 KiB stack returns 81");
	pthread_attr_destroy(&attr);
}

/* ------------------------------------------------------------------------ */

#define COUNTERS 8
#define INCREMENTS 10000

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *count(void *arg)
{
	(void)arg;
	for (int i = 0; i < INCREMENTS; i++) {
		pthread_mutex_lock(&counter_lock);
		long v = counter;
		/* Make lost updates likely if the mutex did not work. */
		if ((i & 255) == 0)
			sched_yield();
		counter = v + 1;
		pthread_mutex_unlock(&counter_lock);
	}
	return NULL;
}

static void mutex(void)
{
	pthread_t t[COUNTERS];
	int ok = 1;
	for (int i = 0; i < COUNTERS; i++)
		ok &= xpthread_create(&t[i], NULL, count, NULL) == 0;
	for (int i = 0; i < COUNTERS; i++)
		ok &= pthread_join(t[i], NULL) == 0;
	CHECK(ok, "%d threads created and joined", COUNTERS);
	printf("counter = %ld (expected %d)\n", counter, COUNTERS * INCREMENTS);
	CHECK(counter == COUNTERS * INCREMENTS, "no increment lost");

	CHECK(pthread_mutex_trylock(&counter_lock) == 0, "trylock of a free mutex");
	CHECK(pthread_mutex_trylock(&counter_lock) == EBUSY, "trylock of a held mutex == EBUSY");
	pthread_mutex_unlock(&counter_lock);

	pthread_mutexattr_t ma;
	pthread_mutex_t ec;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&ec, &ma);
	pthread_mutex_lock(&ec);
	CHECK(pthread_mutex_lock(&ec) == EDEADLK, "error-checking mutex: relock == EDEADLK");
	pthread_mutex_unlock(&ec);
	CHECK(pthread_mutex_unlock(&ec) == EPERM, "error-checking mutex: unlock when not owner == EPERM");
	pthread_mutex_destroy(&ec);
	pthread_mutexattr_destroy(&ma);
}

/* ------------------------------------------------------------------------ */

#define QSIZE 4
#define ITEMS 1000

static struct {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	int buf[QSIZE];
	int head, count;
	int done;
} q = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER };

static void *producer(void *arg)
{
	(void)arg;
	for (int i = 1; i <= ITEMS; i++) {
		pthread_mutex_lock(&q.lock);
		while (q.count == QSIZE)
			pthread_cond_wait(&q.not_full, &q.lock);
		q.buf[(q.head + q.count) % QSIZE] = i;
		q.count++;
		pthread_cond_signal(&q.not_empty);
		pthread_mutex_unlock(&q.lock);
	}
	pthread_mutex_lock(&q.lock);
	q.done = 1;
	pthread_cond_broadcast(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
	return NULL;
}

struct consumed {
	long sum;
	int n, in_order;
};

static void *consumer(void *arg)
{
	struct consumed *c = arg;
	int last = 0;
	c->in_order = 1;
	for (;;) {
		pthread_mutex_lock(&q.lock);
		while (q.count == 0 && !q.done)
			pthread_cond_wait(&q.not_empty, &q.lock);
		if (q.count == 0 && q.done) {
			pthread_mutex_unlock(&q.lock);
			return NULL;
		}
		int v = q.buf[q.head];
		q.head = (q.head + 1) % QSIZE;
		q.count--;
		pthread_cond_signal(&q.not_full);
		pthread_mutex_unlock(&q.lock);
		if (v <= last)
			c->in_order = 0;
		last = v;
		c->sum += v;
		c->n++;
	}
}

static void cond(void)
{
	pthread_t p, c1, c2;
	struct consumed a = { 0 }, b = { 0 };
	xpthread_create(&p, NULL, producer, NULL);
	xpthread_create(&c1, NULL, consumer, &a);
	xpthread_create(&c2, NULL, consumer, &b);
	pthread_join(p, NULL);
	pthread_join(c1, NULL);
	pthread_join(c2, NULL);
	printf("consumed %d items, sum %ld\n", a.n + b.n, a.sum + b.sum);
	CHECK(a.n + b.n == ITEMS && a.sum + b.sum == (long)ITEMS * (ITEMS + 1) / 2,
	      "2 consumers got every item exactly once");
	CHECK(a.in_order && b.in_order, "each consumer saw increasing items");

	/* pthread_cond_timedwait times out. */
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 20 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&m);
	int r = pthread_cond_timedwait(&cv, &m, &ts);
	pthread_mutex_unlock(&m);
	CHECK(r == ETIMEDOUT, "pthread_cond_timedwait (20 ms, nobody signals) == ETIMEDOUT");
}

/* ------------------------------------------------------------------------ */

static __thread int tls_value = 42;
static __thread char tls_buf[64];

static void *tls_thread(void *arg)
{
	intptr_t n = (intptr_t)arg;
	int ok = tls_value == 42 && tls_buf[0] == 0; /* fresh copies */
	tls_value = (int)n;
	snprintf(tls_buf, sizeof tls_buf, "thread %d", (int)n);
	sched_yield();
	char expect[64];
	snprintf(expect, sizeof expect, "thread %d", (int)n);
	ok &= tls_value == n && strcmp(tls_buf, expect) == 0;
	return (void *)(intptr_t)ok;
}

static void tls(void)
{
	tls_value = -1;
	strcpy(tls_buf, "main");
	pthread_t t[4];
	for (intptr_t i = 0; i < 4; i++)
		xpthread_create(&t[i], NULL, tls_thread, (void *)(i + 1));
	int ok = 1;
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		ok &= r == (void *)1;
	}
	CHECK(ok, "each thread starts with the initial __thread values and keeps its own");
	CHECK(tls_value == -1 && strcmp(tls_buf, "main") == 0,
	      "the main thread's __thread values are untouched");
}

/* ------------------------------------------------------------------------ */

struct ids {
	pid_t pid, tid, ppid;
};

static void *get_ids(void *arg)
{
	struct ids *ids = arg;
	ids->pid = getpid();
	ids->tid = tid();
	ids->ppid = getppid();
	return NULL;
}

static void ids(void)
{
	CHECK(tid() == getpid(), "main thread: gettid() == getpid()");
	struct ids a, b;
	pthread_t ta, tb;
	xpthread_create(&ta, NULL, get_ids, &a);
	xpthread_create(&tb, NULL, get_ids, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	CHECK(a.pid == getpid() && b.pid == getpid(), "threads: getpid() is the process's");
	CHECK(a.tid != getpid() && b.tid != getpid(), "threads: gettid() != getpid()");
	CHECK(a.tid != b.tid, "two threads have different tids");
	CHECK(a.ppid == getppid(), "threads: getppid() is the process's parent");
	CHECK(pthread_equal(pthread_self(), pthread_self()) && !pthread_equal(ta, tb),
	      "pthread_equal");
}

/* ------------------------------------------------------------------------ */

static sem_t detached_done;
static volatile int detached_ran;

static void *detached(void *arg)
{
	(void)arg;
	detached_ran = 1;
	sem_post(&detached_done);
	return NULL;
}

static void detach(void)
{
	sem_init(&detached_done, 0, 0);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	CHECK(xpthread_create(&t, &attr, detached, NULL) == 0, "created a detached thread");
	pthread_attr_destroy(&attr);
	CHECK(sem_wait(&detached_done) == 0 && detached_ran, "the detached thread ran");

	CHECK(xpthread_create(&t, NULL, detached, NULL) == 0 && pthread_detach(t) == 0,
	      "pthread_detach of a running thread");
	CHECK(sem_wait(&detached_done) == 0, "it ran too");
	sem_destroy(&detached_done);
}

/* ------------------------------------------------------------------------ */

#define BARRIER_THREADS 4
#define ROUNDS 50

static pthread_barrier_t barrier;
static int slots[BARRIER_THREADS];
static int serial_count;

static void *barrier_thread(void *arg)
{
	intptr_t me = (intptr_t)arg;
	int ok = 1;
	for (int round = 1; round <= ROUNDS; round++) {
		slots[me] = round;
		int r = pthread_barrier_wait(&barrier);
		if (r == PTHREAD_BARRIER_SERIAL_THREAD)
			__atomic_fetch_add(&serial_count, 1, __ATOMIC_SEQ_CST);
		else if (r != 0)
			ok = 0;
		/* Everyone has written this round's value. */
		for (int i = 0; i < BARRIER_THREADS; i++)
			if (slots[i] != round)
				ok = 0;
		pthread_barrier_wait(&barrier); /* before anyone moves on */
	}
	return (void *)(intptr_t)ok;
}

static void barrier_test(void)
{
	pthread_barrier_init(&barrier, NULL, BARRIER_THREADS);
	pthread_t t[BARRIER_THREADS - 1];
	for (intptr_t i = 1; i < BARRIER_THREADS; i++)
		xpthread_create(&t[i - 1], NULL, barrier_thread, (void *)i);
	int ok = barrier_thread((void *)0) == (void *)1; /* main takes part */
	for (int i = 0; i < BARRIER_THREADS - 1; i++) {
		void *r;
		pthread_join(t[i], &r);
		ok &= r == (void *)1;
	}
	pthread_barrier_destroy(&barrier);
	CHECK(ok, "%d threads (main included), %d rounds through a barrier: all saw every write",
	      BARRIER_THREADS, ROUNDS);
	printf("PTHREAD_BARRIER_SERIAL_THREAD returned %d times\n", serial_count);
}

/* ------------------------------------------------------------------------ */

struct reader {
	int fd;
	char buf[32];
	ssize_t n;
	volatile int started;
};

static void *pipe_reader(void *arg)
{
	struct reader *r = arg;
	r->started = 1;
	r->n = read(r->fd, r->buf, sizeof r->buf - 1); /* blocks */
	return NULL;
}

static void pipe_test(void)
{
	int p[2];
	xpipe(p);
	struct reader r = { .fd = p[0] };
	pthread_t t;
	xpthread_create(&t, NULL, pipe_reader, &r);
	while (!r.started)
		sched_yield();
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	nanosleep(&ts, NULL); /* most likely blocked in read() by now */
	CHECK(write(p[1], "wake up", 7) == 7, "main: write to the pipe");
	pthread_join(t, NULL);
	CHECK(r.n == 7 && memcmp(r.buf, "wake up", 7) == 0, "the blocked reader thread got the 7 bytes");

	/* EOF wakes a blocked reader too. */
	struct reader r2 = { .fd = p[0] };
	xpthread_create(&t, NULL, pipe_reader, &r2);
	while (!r2.started)
		sched_yield();
	nanosleep(&ts, NULL);
	close(p[1]);
	pthread_join(t, NULL);
	CHECK(r2.n == 0, "closing the write end: the blocked reader thread gets EOF");
	close(p[0]);
}

/* ------------------------------------------------------------------------ */
/* Raw futex calls. */

static long futex(int *uaddr, int op, int val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static int fword;
static volatile int waiter_started;

static void *futex_waiter(void *arg)
{
	(void)arg;
	waiter_started = 1;
	while (__atomic_load_n(&fword, __ATOMIC_SEQ_CST) == 0)
		futex(&fword, FUTEX_WAIT_PRIVATE, 0, NULL);
	return (void *)(intptr_t)__atomic_load_n(&fword, __ATOMIC_SEQ_CST);
}

static void futex_test(void)
{
	int word = 1;
	CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 2, NULL), EAGAIN,
		  "FUTEX_WAIT when the word is not the expected value");
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	CHECK_ERR(futex(&word, FUTEX_WAIT_PRIVATE, 1, &ts), ETIMEDOUT,
		  "FUTEX_WAIT with a 10 ms timeout, nobody wakes");
	CHECK(futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL) == 0, "FUTEX_WAKE with no waiters wakes 0");
	CHECK_ERR(futex((int *)64, FUTEX_WAIT_PRIVATE, 0, NULL), EFAULT, "FUTEX_WAIT on an unmapped address");
	CHECK_ERR(futex((int *)((char *)&word + 1), FUTEX_WAIT_PRIVATE, 0, NULL), EINVAL,
		  "FUTEX_WAIT on a misaligned address");
	CHECK_ERR(futex(&word, 99, 0, NULL), ENOSYS, "futex with an unknown op");

	pthread_t t;
	xpthread_create(&t, NULL, futex_waiter, NULL);
	while (!waiter_started)
		sched_yield();
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	nanosleep(&pause, NULL); /* most likely asleep in FUTEX_WAIT by now */
	__atomic_store_n(&fword, 5, __ATOMIC_SEQ_CST);
	long woken = futex(&fword, FUTEX_WAKE_PRIVATE, 1, NULL);
	void *r;
	pthread_join(t, &r);
	CHECK(woken == 0 || woken == 1, "FUTEX_WAKE returns 0 or 1 waiter woken");
	CHECK(r == (void *)5, "the waiting thread woke and saw the new value");
}

/* ------------------------------------------------------------------------ */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_calls;

static void once_fn(void)
{
	once_calls++;
}

static void *call_once(void *arg)
{
	(void)arg;
	pthread_once(&once, once_fn);
	return NULL;
}

static pthread_key_t key;
static int destructor_calls;

static void destructor(void *v)
{
	if (v == (void *)0x5)
		__atomic_fetch_add(&destructor_calls, 1, __ATOMIC_SEQ_CST);
}

static void *set_key(void *arg)
{
	(void)arg;
	pthread_setspecific(key, (void *)0x5);
	return pthread_getspecific(key);
}

static void misc(void)
{
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		xpthread_create(&t[i], NULL, call_once, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK(once_calls == 1, "pthread_once from 4 threads: called once");

	pthread_key_create(&key, destructor);
	for (int i = 0; i < 3; i++) {
		void *r;
		xpthread_create(&t[i], NULL, set_key, NULL);
		pthread_join(t[i], &r);
	}
	CHECK(destructor_calls == 3, "thread-specific data destructor ran for each of 3 threads");
	CHECK(pthread_getspecific(key) == NULL, "main thread's value for the key is NULL");
	pthread_key_delete(key);

	/* Many short threads, one after another (tids get reused or not). */
	int ok = 1;
	for (intptr_t i = 0; i < 100; i++) {
		pthread_t x;
		void *r;
		ok &= xpthread_create(&x, NULL, square, (void *)i) == 0 &&
		      pthread_join(x, &r) == 0 && r == (void *)(i * i);
	}
	CHECK(ok, "100 threads created and joined in turn");
}

int main(int argc, char **argv)
{
	guest_init("thread_c");
	proc_alarm(20);
	if (select_section(argc, argv, SECTIONS))
		return 2;
	if (section("join"))
		join();
	if (section("mutex"))
		mutex();
	if (section("cond"))
		cond();
	if (section("tls"))
		tls();
	if (section("ids"))
		ids();
	if (section("detach"))
		detach();
	if (section("barrier"))
		barrier_test();
	if (section("pipe"))
		pipe_test();
	if (section("futex"))
		futex_test();
	if (section("misc"))
		misc();
	return guest_done();
}
