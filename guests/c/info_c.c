/*
 * System information, identity, limits and time: uname, uid/gid, rlimits,
 * sysinfo, clocks, nanosleep, time, gettimeofday, getrandom, affinity,
 * pids, the thread pointer and the process name. Prints only relations and
 * sanity facts, never values that vary between runs.
 */
#include "guest.h"

#include <asm/prctl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int64_t ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec;
}

/* clock_gettime through the raw syscall (glibc would use the vDSO). */
static int raw_clock(clockid_t clk, struct timespec *t)
{
	return syscall(SYS_clock_gettime, clk, t);
}

static void identity(void)
{
	struct utsname u;
	CHECK(uname(&u) == 0, "uname");
	CHECK(strcmp(u.sysname, "Linux") == 0, "sysname == \"Linux\"");
	CHECK(strcmp(u.machine, "x86_64") == 0, "machine == \"x86_64\"");
	CHECK(u.nodename[0] && u.release[0] && u.version[0],
	      "nodename, release, version are non-empty");
	CHECK(u.release[0] >= '1' && u.release[0] <= '9' && strchr(u.release, '.'),
	      "release looks like a version number");

	CHECK(getuid() == geteuid(), "getuid() == geteuid()");
	CHECK(getgid() == getegid(), "getgid() == getegid()");
	uid_t r, e, s;
	CHECK(getresuid(&r, &e, &s) == 0 && r == getuid() && e == geteuid() && s == e,
	      "getresuid agrees");
	CHECK(getpid() == syscall(SYS_gettid), "getpid() == gettid()");
	CHECK(getppid() >= 0, "getppid() >= 0");
	/* getsid is 0 when the session leader lives in an ancestor pid namespace
	 * (containers, CI): getsid(2), "NOTES". */
	CHECK(getpgrp() >= 0 && getsid(0) >= 0, "getpgrp() >= 0, getsid(0) >= 0");
	CHECK(getpgid(0) == getpgrp(), "getpgid(0) == getpgrp()");

	unsigned long fs = 0;
	CHECK(syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) == 0 && fs != 0,
	      "arch_prctl(ARCH_GET_FS) is non-zero");
	CHECK(fs == (unsigned long)pthread_self(),
	      "ARCH_GET_FS == pthread_self() (glibc's thread pointer)");
	CHECK(*(unsigned long *)fs == fs, "the TCB's first word points to itself");

	char name[17] = { 0 };
	CHECK(prctl(PR_GET_NAME, name) == 0 && strcmp(name, "info_c") == 0,
	      "prctl(PR_GET_NAME) == \"info_c\"");
	CHECK(prctl(PR_SET_NAME, "renamed") == 0 && prctl(PR_GET_NAME, name) == 0 &&
		      strcmp(name, "renamed") == 0,
	      "prctl(PR_SET_NAME) round trip");
}

static void limits(void)
{
	struct rlimit rl, rl2;
	CHECK(getrlimit(RLIMIT_STACK, &rl) == 0, "getrlimit(RLIMIT_STACK)");
	CHECK(syscall(SYS_prlimit64, 0, RLIMIT_STACK, NULL, &rl2) == 0 &&
		      rl.rlim_cur == rl2.rlim_cur && rl.rlim_max == rl2.rlim_max,
	      "prlimit64(RLIMIT_STACK) agrees with getrlimit");
	CHECK(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= 128 * 1024,
	      "the stack limit is at least 128 KiB");

	struct rlimit nofile, now;
	CHECK(getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur <= nofile.rlim_max,
	      "getrlimit(RLIMIT_NOFILE): soft <= hard");
	struct rlimit lower = { .rlim_cur = 100, .rlim_max = nofile.rlim_max };
	CHECK(setrlimit(RLIMIT_NOFILE, &lower) == 0, "setrlimit(RLIMIT_NOFILE, soft 100)");
	CHECK(getrlimit(RLIMIT_NOFILE, &now) == 0 && now.rlim_cur == 100 &&
		      now.rlim_max == nofile.rlim_max,
	      "getrlimit reads back soft 100");
	CHECK(sysconf(_SC_OPEN_MAX) == 100, "sysconf(_SC_OPEN_MAX) == 100");
	CHECK(dup2(0, 150) == -1 && errno == EBADF, "dup2 to fd 150 fails with EBADF");
	struct rlimit old;
	CHECK(prlimit(0, RLIMIT_NOFILE, &nofile, &old) == 0 && old.rlim_cur == 100,
	      "prlimit restores it and returns the old soft limit");
	struct rlimit too_high = { .rlim_cur = 10, .rlim_max = 5 };
	errno = 0;
	CHECK(setrlimit(RLIMIT_NOFILE, &too_high) == -1 && errno == EINVAL,
	      "setrlimit with soft > hard fails with EINVAL");

	struct rusage ru;
	CHECK(getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_maxrss > 0, "getrusage: ru_maxrss > 0");

	struct sysinfo si;
	CHECK(sysinfo(&si) == 0, "sysinfo");
	CHECK(si.totalram > 0 && si.mem_unit > 0, "totalram > 0, mem_unit > 0");
	CHECK(si.freeram <= si.totalram, "freeram <= totalram");
	CHECK(si.uptime > 0 && si.procs > 0, "uptime > 0, procs > 0");

	cpu_set_t set;
	CPU_ZERO(&set);
	CHECK(sched_getaffinity(0, sizeof set, &set) == 0, "sched_getaffinity");
	CHECK(CPU_COUNT(&set) >= 1, "at least one cpu in the affinity mask");
	CHECK(sched_yield() == 0, "sched_yield");
}

static void clocks(void)
{
	struct timespec a, b, res;
	CHECK(raw_clock(CLOCK_MONOTONIC, &a) == 0 && raw_clock(CLOCK_MONOTONIC, &b) == 0 &&
		      ns(&b) >= ns(&a),
	      "CLOCK_MONOTONIC does not go backwards (syscall)");
	CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0 && clock_gettime(CLOCK_MONOTONIC, &b) == 0 &&
		      ns(&b) >= ns(&a),
	      "CLOCK_MONOTONIC does not go backwards (libc)");
	CHECK(a.tv_nsec >= 0 && a.tv_nsec < 1000000000, "tv_nsec in [0, 1e9)");
	CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0 && res.tv_sec == 0 &&
		      res.tv_nsec > 0 && res.tv_nsec <= 1000000,
	      "clock_getres(CLOCK_MONOTONIC) <= 1 ms");
	CHECK(clock_getres(CLOCK_REALTIME, &res) == 0 && res.tv_sec == 0 && res.tv_nsec <= 1000000,
	      "clock_getres(CLOCK_REALTIME) <= 1 ms");
	CHECK(raw_clock(CLOCK_BOOTTIME, &b) == 0 && ns(&b) >= ns(&a),
	      "CLOCK_BOOTTIME >= CLOCK_MONOTONIC");
	CHECK(raw_clock(CLOCK_PROCESS_CPUTIME_ID, &b) == 0 && ns(&b) > 0,
	      "CLOCK_PROCESS_CPUTIME_ID > 0");
	CHECK(raw_clock(CLOCK_THREAD_CPUTIME_ID, &b) == 0 && ns(&b) > 0,
	      "CLOCK_THREAD_CPUTIME_ID > 0");
	CHECK(raw_clock(CLOCK_MONOTONIC_COARSE, &b) == 0 && raw_clock(CLOCK_REALTIME_COARSE, &b) == 0,
	      "the coarse clocks work");
	errno = 0;
	CHECK(raw_clock(12345, &b) == -1 && errno == EINVAL, "an unknown clock fails with EINVAL");

	struct timespec t0, t1, req = { 0, 10 * 1000 * 1000 };
	raw_clock(CLOCK_MONOTONIC, &t0);
	CHECK(nanosleep(&req, NULL) == 0, "nanosleep(10 ms)");
	raw_clock(CLOCK_MONOTONIC, &t1);
	CHECK(ns(&t1) - ns(&t0) >= 10 * 1000 * 1000, "elapsed >= 10 ms");
	CHECK(ns(&t1) - ns(&t0) < 10LL * 1000 * 1000 * 1000, "elapsed < 10 s");

	struct timespec abs;
	raw_clock(CLOCK_MONOTONIC, &t0);
	abs = t0;
	abs.tv_nsec += 5 * 1000 * 1000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_nsec -= 1000000000;
		abs.tv_sec++;
	}
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL) == 0,
	      "clock_nanosleep(TIMER_ABSTIME, now + 5 ms)");
	raw_clock(CLOCK_MONOTONIC, &t1);
	CHECK(ns(&t1) >= ns(&abs), "it woke up at or after the deadline");
	struct timespec bad = { 0, 1000000000 };
	CHECK(nanosleep(&bad, NULL) == -1 && errno == EINVAL, "nanosleep(tv_nsec = 1e9) fails with EINVAL");

	struct timespec rt;
	raw_clock(CLOCK_REALTIME, &rt);
	time_t now = syscall(SYS_time, NULL);
	CHECK(llabs((long long)now - (long long)rt.tv_sec) <= 2,
	      "time(NULL) within 2 s of CLOCK_REALTIME");
	CHECK(rt.tv_sec > 1600000000, "CLOCK_REALTIME is after 2020");
	time_t t2;
	CHECK(syscall(SYS_time, &t2) == t2, "time(&t) returns t");
	struct timeval tv;
	CHECK(syscall(SYS_gettimeofday, &tv, NULL) == 0 && tv.tv_usec >= 0 &&
		      tv.tv_usec < 1000000 && llabs((long long)tv.tv_sec - (long long)rt.tv_sec) <= 2,
	      "gettimeofday: usec in range, within 2 s of CLOCK_REALTIME");
}

static void randomness(void)
{
	unsigned char a[32], b[32];
	CHECK(syscall(SYS_getrandom, a, sizeof a, 0) == 32, "getrandom(32) returns 32");
	CHECK(getrandom(b, sizeof b, GRND_NONBLOCK) == 32, "getrandom(32, GRND_NONBLOCK) returns 32");
	CHECK(memcmp(a, b, sizeof a) != 0, "two getrandom results differ");
	CHECK(getrandom(a, 0, 0) == 0, "getrandom(0) returns 0");
	errno = 0;
	CHECK(getrandom(a, 1, 0x1000) == -1 && errno == EINVAL,
	      "getrandom with an unknown flag fails with EINVAL");
}

int main(void)
{
	guest_init("info_c");
	identity();
	limits();
	clocks();
	randomness();
	return guest_done();
}
