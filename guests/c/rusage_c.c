/*
 * Children's CPU time: a child that burns 100 ms of CPU is reported by
 * wait4's rusage, then by getrusage(RUSAGE_CHILDREN) and times()'s
 * tms_cutime + tms_cstime — and not before it is waited for. Verdicts with
 * wide margins, never numbers.
 */
#include "proc.h"

#include <sys/resource.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>

static long ms_of(struct timeval u, struct timeval s)
{
	return (u.tv_sec + s.tv_sec) * 1000 + (u.tv_usec + s.tv_usec) / 1000;
}

static long cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int main(void)
{
	guest_init("rusage_c");
	proc_alarm(20);
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	CHECK(ms_of(ru.ru_utime, ru.ru_stime) == 0, "RUSAGE_CHILDREN before any child: 0");
	pid_t pid = xfork();
	if (pid == 0) {
		volatile unsigned long x = 0;
		while (cpu_ms() < 100)
			for (int i = 0; i < 100000; i++)
				x += i;
		child_exit(0);
	}
	int st;
	struct rusage child;
	memset(&child, 0, sizeof child);
	while (wait4(pid, &st, 0, &child) < 0 && errno == EINTR)
		;
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the busy child exits 0");
	long c = ms_of(child.ru_utime, child.ru_stime);
	CHECK(c >= 80 && c < 5000, "wait4's rusage: the child's ~100 ms of CPU");
	getrusage(RUSAGE_CHILDREN, &ru);
	long r = ms_of(ru.ru_utime, ru.ru_stime);
	CHECK(r >= 80 && r < 5000, "getrusage(RUSAGE_CHILDREN) after the wait: ~100 ms");
	struct tms t;
	times(&t);
	long hz = sysconf(_SC_CLK_TCK);
	long tm = (long)(t.tms_cutime + t.tms_cstime) * 1000 / hz;
	CHECK(tm >= 70 && tm < 5000, "times(): tms_cutime + tms_cstime ~100 ms");
	return guest_done();
}
