/*
 * Two CPU-bound processes on one CPU, at nice 0 and nice 5, share it in the
 * ratio of their CFS weights: 1024 / 335 = 3.06. The parent pins itself to
 * the first CPU of its mask (the children inherit it), starts both children
 * together, lets them run for a while, and compares their CPU times. With
 * `-v` it also prints the measured ratio (for benchmarks; not stable).
 */
#include "guest.h"

#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_MS 800

static double now_ms(clockid_t c)
{
	struct timespec t;
	clock_gettime(c, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Child: wait for the start byte, spin for RUN_MS of wall time, report
 * the CPU time it got (in microseconds) through `out`. */
static void child(int nice_val, int start, int out)
{
	if (setpriority(PRIO_PROCESS, 0, nice_val) != 0)
		_exit(2);
	char c;
	if (read(start, &c, 1) != 1)
		_exit(3);
	double t0 = now_ms(CLOCK_MONOTONIC);
	while (now_ms(CLOCK_MONOTONIC) - t0 < RUN_MS)
		for (volatile int i = 0; i < 1000; i++)
			;
	long us = (long)(now_ms(CLOCK_PROCESS_CPUTIME_ID) * 1000);
	if (write(out, &us, sizeof us) != sizeof us)
		_exit(4);
	_exit(0);
}

int main(int argc, char **argv)
{
	guest_init("sched_nice_c");
	int verbose = argc > 1 && strcmp(argv[1], "-v") == 0;
	cpu_set_t s;
	CHECK(sched_getaffinity(0, sizeof s, &s) == 0, "sched_getaffinity");
	int c = 0;
	while (!CPU_ISSET(c, &s))
		c++;
	CPU_ZERO(&s);
	CPU_SET(c, &s);
	CHECK(sched_setaffinity(0, sizeof s, &s) == 0, "pinned to one cpu");
	int base = getpriority(PRIO_PROCESS, 0);
	int start[2], out[2];
	CHECK(pipe(start) == 0 && pipe(out) == 0, "pipes");
	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		if (kids[k] == 0)
			child(base + 5 * k, start[0], out[1]);
	}
	CHECK(kids[0] > 0 && kids[1] > 0, "fork twice");
	CHECK(write(start[1], "gg", 2) == 2, "start both");
	int ok = 1;
	for (int k = 0; k < 2; k++) {
		int st;
		ok &= waitpid(kids[k], &st, 0) == kids[k] && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	CHECK(ok, "both children ran and exited 0");
	long us[2];
	CHECK(read(out[0], &us[0], sizeof us[0]) == sizeof us[0] &&
		      read(out[0], &us[1], sizeof us[1]) == sizeof us[1],
	      "read both CPU times");
	/* The children report in the order they finished; the larger share
	 * belongs to nice 0. */
	long hi = us[0] > us[1] ? us[0] : us[1], lo = us[0] > us[1] ? us[1] : us[0];
	double ratio = lo > 0 ? (double)hi / lo : 0;
	if (verbose)
		printf("ratio: %.3f (expected 3.06)\n", ratio);
	CHECK(ratio > 2.0 && ratio < 4.5, "nice 0 : nice 5 CPU share within 2.0..4.5 (3.06)");
	return guest_done();
}
