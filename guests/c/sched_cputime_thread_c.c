/*
 * CPU-time accounting: CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID,
 * the clocks of clock_getcpuclockid/pthread_getcpuclockid, getrusage and
 * times agree with each other and with what the process did: busy work
 * advances them (mostly as user time), sleeping does not, a busy thread's
 * time is in its own clock and the process's (also once it has exited),
 * not in the main thread's. Prints verdicts only: the host is noisy, so
 * busy work runs until the CPU clock has advanced (within a generous wall
 * time limit) and the comparisons have tolerances.
 */
#include "thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000LL

static long long ns_of(clockid_t c)
{
	struct timespec t;
	if (clock_gettime(c, &t) != 0)
		return -1;
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

static long long tv_ns(struct timeval v)
{
	return v.tv_sec * 1000000000LL + v.tv_usec * 1000LL;
}

/* Spins until clock `c` has advanced by `ms` milliseconds; 0 if that took
 * more than 30 s of wall time. */
static int burn(clockid_t c, int ms)
{
	long long t0 = ns_of(c), w0 = ns_of(CLOCK_MONOTONIC);
	while (ns_of(c) - t0 < ms * MS) {
		for (volatile int i = 0; i < 200000; i++)
			;
		if (ns_of(CLOCK_MONOTONIC) - w0 > 30000 * MS)
			return 0;
	}
	return 1;
}

static atomic_int go;

static void *worker(void *arg)
{
	long long *out = arg;
	while (!atomic_load(&go))
		sched_yield();
	*out = burn(CLOCK_THREAD_CPUTIME_ID, 100) ? ns_of(CLOCK_THREAD_CPUTIME_ID) : -1;
	return NULL;
}

int main(void)
{
	guest_init("sched_cputime_thread_c");
	struct timespec res;
	CHECK(clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res) == 0 && res.tv_sec == 0 &&
		      res.tv_nsec == 1,
	      "clock_getres(CLOCK_PROCESS_CPUTIME_ID) is 1 ns");
	CHECK(clock_getres(CLOCK_THREAD_CPUTIME_ID, &res) == 0 && res.tv_sec == 0 &&
		      res.tv_nsec == 1,
	      "clock_getres(CLOCK_THREAD_CPUTIME_ID) is 1 ns");
	struct timespec ts;
	CHECK(clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &(struct timespec){ 0, 1000 }, NULL) ==
		      EINVAL,
	      "clock_nanosleep on the own thread CPU clock: EINVAL");
	CHECK(clock_gettime(((~(clockid_t)4194305) << 3) | 2, &ts) == -1 && errno == EINVAL,
	      "clock_gettime on the CPU clock of a missing process: EINVAL");

	/* One thread busy: its clock, the process clock, rusage and times. */
	long long p0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	CHECK(burn(CLOCK_PROCESS_CPUTIME_ID, 200), "busy work advances the process CPU clock by 200 ms");
	long long p1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	long long t1 = ns_of(CLOCK_THREAD_CPUTIME_ID);
	struct rusage self, thr;
	CHECK(getrusage(RUSAGE_SELF, &self) == 0, "getrusage(RUSAGE_SELF)");
	CHECK(getrusage(RUSAGE_THREAD, &thr) == 0, "getrusage(RUSAGE_THREAD)");
	struct tms tm;
	clock_t ticks = times(&tm);
	long long p2 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	clockid_t pc;
	CHECK(clock_getcpuclockid(getpid(), &pc) == 0, "clock_getcpuclockid(getpid())");
	long long pcv = ns_of(pc);
	long long p3 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	CHECK(p1 - p0 >= 200 * MS, "the process clock advanced at least 200 ms");
	CHECK(t1 >= p1 - 5 * MS && t1 <= p2, "one thread: its clock is the process clock");
	long long ru_self = tv_ns(self.ru_utime) + tv_ns(self.ru_stime);
	long long ru_thr = tv_ns(thr.ru_utime) + tv_ns(thr.ru_stime);
	CHECK(ru_self >= p1 - 2 * MS && ru_self <= p2 + 2 * MS,
	      "getrusage(RUSAGE_SELF) user + system is the process clock");
	CHECK(ru_thr >= p1 - 5 * MS && ru_thr <= p2 + 2 * MS,
	      "getrusage(RUSAGE_THREAD) user + system is the thread clock");
	CHECK(self.ru_utime.tv_sec * 1000000 + self.ru_utime.tv_usec >
		      self.ru_stime.tv_sec * 1000000 + self.ru_stime.tv_usec,
	      "busy work is mostly user time");
	long tick_ns = 1000000000L / sysconf(_SC_CLK_TCK);
	long long tms_ns = (long long)(tm.tms_utime + tm.tms_stime) * tick_ns;
	CHECK(ticks != (clock_t)-1 && tms_ns >= p1 - 3 * tick_ns && tms_ns <= p2 + tick_ns,
	      "times(): utime + stime is the process clock in clock ticks");
	CHECK(tm.tms_cutime == 0 && tm.tms_cstime == 0, "times(): no children's time yet");
	CHECK(pcv >= p2 && pcv <= p3, "clock_getcpuclockid(getpid()) is the process clock");

	/* Sleeping costs (almost) no CPU time. */
	long long s0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	nanosleep(&(struct timespec){ 0, 100 * MS }, NULL);
	long long s1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	CHECK(s1 - s0 < 20 * MS, "sleeping 100 ms costs less than 20 ms of CPU time");

	/* A busy second thread. */
	long long worker_ns = 0;
	long long m0 = ns_of(CLOCK_THREAD_CPUTIME_ID), q0 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	pthread_t t;
	xpthread_create(&t, NULL, worker, &worker_ns);
	clockid_t wc;
	CHECK(pthread_getcpuclockid(t, &wc) == 0 && ns_of(wc) >= 0,
	      "pthread_getcpuclockid: the worker's clock can be read");
	atomic_store(&go, 1);
	CHECK(pthread_join(t, NULL) == 0, "join the worker");
	long long m1 = ns_of(CLOCK_THREAD_CPUTIME_ID), q1 = ns_of(CLOCK_PROCESS_CPUTIME_ID);
	CHECK(worker_ns >= 100 * MS, "the worker's thread clock reached 100 ms");
	CHECK(m1 - m0 < 50 * MS, "the main thread's clock does not count the worker's time");
	CHECK(q1 - q0 >= 100 * MS, "the process clock counts the exited worker's time");
	struct rusage after;
	CHECK(getrusage(RUSAGE_SELF, &after) == 0 &&
		      tv_ns(after.ru_utime) + tv_ns(after.ru_stime) >= q1 - 2 * MS,
	      "getrusage(RUSAGE_SELF) counts it too");
	return guest_done();
}
