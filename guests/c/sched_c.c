/*
 * The sched_* syscalls, getpriority/setpriority/nice and getcpu on the
 * calling process: return values and errnos. Prints only facts that are
 * the same on every run and machine (relations, not CPU numbers or
 * slices). Real-time policies and lowering nice need privilege: whether
 * the process has it is printed once, and the privileged part runs only
 * when it does.
 */
#include "guest.h"

#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif

/* include/uapi/linux/sched/types.h (VER1); glibc's headers may lack it. */
struct sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
	uint32_t sched_util_min;
	uint32_t sched_util_max;
};
#define SCHED_FLAG_RESET_ON_FORK 0x01
#define SCHED_FLAG_KEEP_POLICY 0x08
#define SCHED_FLAG_KEEP_PARAMS 0x10

/* A pid no process has (above PID_MAX_LIMIT). */
#define NO_PID 0x3fffffff

static long raw_setscheduler(long pid, long policy, const void *param)
{
	return syscall(SYS_sched_setscheduler, pid, policy, param);
}

static long raw_getscheduler(long pid)
{
	return syscall(SYS_sched_getscheduler, pid);
}

static int getprio(void)
{
	struct sched_param p = { .sched_priority = -1 };
	if (syscall(SYS_sched_getparam, 0, &p) != 0)
		return -1;
	return p.sched_priority;
}

static long setattr(struct sched_attr *a, unsigned flags)
{
	return syscall(SYS_sched_setattr, 0, a, flags);
}

static long getattr(struct sched_attr *a, unsigned size, unsigned flags)
{
	return syscall(SYS_sched_getattr, 0, a, size, flags);
}

static long rr_ns(void)
{
	struct timespec ts = { -1, -1 };
	if (sched_rr_get_interval(0, &ts) != 0)
		return -1;
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void priorities(void)
{
	static const struct {
		const char *name;
		int policy, min, max;
	} t[] = {
		{ "SCHED_OTHER", SCHED_OTHER, 0, 0 },
		{ "SCHED_FIFO", SCHED_FIFO, 1, 99 },
		{ "SCHED_RR", SCHED_RR, 1, 99 },
		{ "SCHED_BATCH", SCHED_BATCH, 0, 0 },
		{ "SCHED_IDLE", SCHED_IDLE, 0, 0 },
		{ "SCHED_DEADLINE", SCHED_DEADLINE, 0, 0 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int lo = sched_get_priority_min(t[i].policy);
		int hi = sched_get_priority_max(t[i].policy);
		CHECK(lo == t[i].min && hi == t[i].max,
		      "%s priorities %d..%d", t[i].name, t[i].min, t[i].max);
	}
	CHECK_ERR(sched_get_priority_max(42), EINVAL, "sched_get_priority_max(42)");
	CHECK_ERR(sched_get_priority_min(-1), EINVAL, "sched_get_priority_min(-1)");
	CHECK_ERR(sched_get_priority_max(4), EINVAL, "sched_get_priority_max(4)");
}

static void getters(void)
{
	CHECK(raw_getscheduler(0) == SCHED_OTHER, "sched_getscheduler(0) == SCHED_OTHER");
	CHECK(raw_getscheduler(syscall(SYS_gettid)) == SCHED_OTHER,
	      "sched_getscheduler(gettid()) == SCHED_OTHER");
	CHECK(getprio() == 0, "sched_getparam(0) priority == 0");
	CHECK_ERR(raw_getscheduler(-1), EINVAL, "sched_getscheduler(-1)");
	CHECK_ERR(raw_getscheduler(NO_PID), ESRCH, "sched_getscheduler(no such pid)");
	CHECK_ERR(syscall(SYS_sched_getparam, 0, NULL), EINVAL, "sched_getparam(0, NULL)");
	CHECK_ERR(syscall(SYS_sched_getparam, 0, (void *)8), EFAULT,
		  "sched_getparam(0, bad pointer)");
	CHECK_ERR(syscall(SYS_sched_getparam, NO_PID, &(struct sched_param){ 0 }), ESRCH,
		  "sched_getparam(no such pid)");
	/* The CFS slice in whole jiffies: 0 on many kernels (HZ=250). */
	CHECK(rr_ns() >= 0, "sched_rr_get_interval(SCHED_OTHER) succeeds");
	CHECK_ERR(sched_rr_get_interval(-1, &(struct timespec){ 0 }), EINVAL,
		  "sched_rr_get_interval(-1)");
	CHECK_ERR(sched_rr_get_interval(NO_PID, &(struct timespec){ 0 }), ESRCH,
		  "sched_rr_get_interval(no such pid)");
	CHECK_ERR(syscall(SYS_sched_rr_get_interval, 0, (void *)8), EFAULT,
		  "sched_rr_get_interval(0, bad pointer)");
}

static void bad_setscheduler(void)
{
	struct sched_param p = { .sched_priority = 0 };
	CHECK_ERR(raw_setscheduler(0, 42, &p), EINVAL, "sched_setscheduler(policy 42)");
	CHECK_ERR(raw_setscheduler(0, SCHED_DEADLINE, &p), EINVAL,
		  "sched_setscheduler(SCHED_DEADLINE)");
	CHECK_ERR(raw_setscheduler(0, -1, &p), EINVAL, "sched_setscheduler(policy -1)");
	CHECK_ERR(raw_setscheduler(-1, SCHED_OTHER, &p), EINVAL, "sched_setscheduler(pid -1)");
	CHECK_ERR(raw_setscheduler(0, SCHED_OTHER, NULL), EINVAL,
		  "sched_setscheduler(param NULL)");
	CHECK_ERR(raw_setscheduler(0, SCHED_OTHER, (void *)8), EFAULT,
		  "sched_setscheduler(param bad pointer)");
	CHECK_ERR(raw_setscheduler(NO_PID, SCHED_OTHER, &p), ESRCH,
		  "sched_setscheduler(no such pid)");
	p.sched_priority = 5;
	CHECK_ERR(raw_setscheduler(0, SCHED_OTHER, &p), EINVAL,
		  "sched_setscheduler(SCHED_OTHER, priority 5)");
	p.sched_priority = 0;
	CHECK_ERR(raw_setscheduler(0, SCHED_FIFO, &p), EINVAL,
		  "sched_setscheduler(SCHED_FIFO, priority 0)");
	p.sched_priority = 100;
	CHECK_ERR(raw_setscheduler(0, SCHED_RR, &p), EINVAL,
		  "sched_setscheduler(SCHED_RR, priority 100)");
	p.sched_priority = -3;
	CHECK_ERR(raw_setscheduler(0, SCHED_FIFO, &p), EINVAL,
		  "sched_setscheduler(SCHED_FIFO, priority -3)");
	p.sched_priority = 1;
	CHECK_ERR(syscall(SYS_sched_setparam, 0, &p), EINVAL,
		  "sched_setparam(priority 1) under SCHED_OTHER");
	CHECK(raw_getscheduler(0) == SCHED_OTHER, "still SCHED_OTHER");
}

static void attr_sizes(void)
{
	struct sched_attr a;
	memset(&a, 0, sizeof a);
	CHECK(getattr(&a, sizeof a, 0) == 0, "sched_getattr");
	CHECK(a.size == sizeof a, "sched_getattr size == %zu", sizeof a);
	CHECK(a.sched_policy == SCHED_OTHER && a.sched_priority == 0,
	      "sched_getattr: SCHED_OTHER, priority 0");
	memset(&a, 0xff, sizeof a);
	CHECK(getattr(&a, 48, 0) == 0 && a.size == 48,
	      "sched_getattr with size 48 copies 48 bytes");
	CHECK(a.sched_util_min == 0xffffffffu, "bytes beyond size 48 untouched");
	CHECK_ERR(getattr(&a, 47, 0), EINVAL, "sched_getattr(size 47)");
	CHECK_ERR(getattr(&a, 4097, 0), EINVAL, "sched_getattr(size 4097)");
	CHECK_ERR(getattr(&a, sizeof a, 1), EINVAL, "sched_getattr(flags 1)");
	CHECK_ERR(getattr(NULL, sizeof a, 0), EINVAL, "sched_getattr(NULL)");
	CHECK_ERR(getattr((void *)8, sizeof a, 0), EFAULT, "sched_getattr(bad pointer)");
	CHECK_ERR(syscall(SYS_sched_getattr, NO_PID, &a, sizeof a, 0), ESRCH,
		  "sched_getattr(no such pid)");

	/* The calling process's nice is not known here: keep it (KEEP_PARAMS). */
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.sched_policy = SCHED_OTHER;
	a.sched_flags = SCHED_FLAG_KEEP_PARAMS;
	CHECK(setattr(&a, 0) == 0, "sched_setattr(SCHED_OTHER, KEEP_PARAMS)");
	a.size = 0; /* means SCHED_ATTR_SIZE_VER0 */
	CHECK(setattr(&a, 0) == 0, "sched_setattr with size 0");
	a.size = 40;
	CHECK_ERR(setattr(&a, 0), E2BIG, "sched_setattr(size 40)");
	CHECK(a.size == sizeof a, "E2BIG writes the kernel's size back");
	a.size = 8192;
	CHECK_ERR(setattr(&a, 0), E2BIG, "sched_setattr(size 8192)");
	struct {
		struct sched_attr a;
		uint64_t extra;
	} big;
	memset(&big, 0, sizeof big);
	big.a.size = sizeof big;
	big.a.sched_flags = SCHED_FLAG_KEEP_PARAMS;
	CHECK(setattr(&big.a, 0) == 0, "sched_setattr(larger struct, zero tail)");
	big.extra = 1;
	CHECK_ERR(setattr(&big.a, 0), E2BIG, "sched_setattr(larger struct, non-zero tail)");
	CHECK(big.a.size == sizeof a, "... writes the kernel's size back");
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.sched_flags = SCHED_FLAG_KEEP_PARAMS;
	CHECK_ERR(setattr(&a, 1), EINVAL, "sched_setattr(flags 1)");
	CHECK_ERR(setattr(NULL, 0), EINVAL, "sched_setattr(NULL)");
	CHECK_ERR(setattr((void *)8, 0), EFAULT, "sched_setattr(bad pointer)");
	a.sched_policy = SCHED_DEADLINE;
	a.sched_flags = 0;
	CHECK_ERR(setattr(&a, 0), EINVAL, "sched_setattr(SCHED_DEADLINE, zero parameters)");
	a.sched_policy = 42;
	CHECK_ERR(setattr(&a, 0), EINVAL, "sched_setattr(policy 42)");
	a.sched_policy = SCHED_OTHER;
	a.sched_flags = 0x100000;
	CHECK_ERR(setattr(&a, 0), EINVAL, "sched_setattr(unknown flag)");
	a.sched_flags = 0;
	a.sched_priority = 3;
	CHECK_ERR(setattr(&a, 0), EINVAL, "sched_setattr(SCHED_OTHER, priority 3)");
}

/* Privileged: real-time policies, lowering nice. */
static void realtime(void)
{
	struct sched_param p = { .sched_priority = 10 };
	CHECK(sched_setscheduler(0, SCHED_FIFO, &p) == 0, "sched_setscheduler(SCHED_FIFO, 10)");
	CHECK(raw_getscheduler(0) == SCHED_FIFO, "sched_getscheduler == SCHED_FIFO");
	CHECK(getprio() == 10, "sched_getparam == 10");
	CHECK(rr_ns() == 0, "sched_rr_get_interval(SCHED_FIFO) == 0");
	p.sched_priority = 20;
	CHECK(sched_setparam(0, &p) == 0 && getprio() == 20, "sched_setparam(20)");
	p.sched_priority = 0;
	CHECK_ERR(sched_setparam(0, &p), EINVAL, "sched_setparam(0) under SCHED_FIFO");
	p.sched_priority = 10;
	CHECK(sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &p) == 0,
	      "sched_setscheduler(SCHED_RR | SCHED_RESET_ON_FORK, 10)");
	CHECK(raw_getscheduler(0) == (SCHED_RR | SCHED_RESET_ON_FORK),
	      "sched_getscheduler == SCHED_RR | SCHED_RESET_ON_FORK");
	CHECK(rr_ns() == 100000000, "sched_rr_get_interval(SCHED_RR) == 100 ms");

	struct sched_attr a;
	memset(&a, 0, sizeof a);
	CHECK(getattr(&a, sizeof a, 0) == 0 && a.sched_policy == SCHED_RR &&
		      a.sched_priority == 10 && a.sched_nice == 0 &&
		      a.sched_flags == SCHED_FLAG_RESET_ON_FORK,
	      "sched_getattr: SCHED_RR 10, reset-on-fork, nice 0");
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.sched_policy = SCHED_BATCH;
	a.sched_nice = 3;
	CHECK(setattr(&a, 0) == 0, "sched_setattr(SCHED_BATCH, nice 3)");
	memset(&a, 0, sizeof a);
	CHECK(getattr(&a, sizeof a, 0) == 0 && a.sched_policy == SCHED_BATCH &&
		      a.sched_nice == 3 && a.sched_priority == 0 && a.sched_flags == 0,
	      "sched_getattr: SCHED_BATCH, nice 3");
	CHECK(getpriority(PRIO_PROCESS, 0) == 3, "getpriority == 3");
	a.size = sizeof a;
	a.sched_policy = SCHED_OTHER;
	a.sched_nice = 100;
	CHECK(setattr(&a, 0) == 0, "sched_setattr(SCHED_OTHER, nice 100)");
	CHECK(getpriority(PRIO_PROCESS, 0) == 19, "nice clamped to 19");
	a.sched_policy = SCHED_IDLE;
	a.sched_nice = 0;
	CHECK(setattr(&a, 0) == 0 && raw_getscheduler(0) == SCHED_IDLE,
	      "sched_setattr(SCHED_IDLE)");
	a.sched_policy = SCHED_FIFO;
	a.sched_priority = 7;
	CHECK(setattr(&a, 0) == 0 && raw_getscheduler(0) == SCHED_FIFO && getprio() == 7,
	      "sched_setattr(SCHED_FIFO, 7)");
	a.sched_flags = SCHED_FLAG_KEEP_POLICY;
	a.sched_priority = 9;
	CHECK(setattr(&a, 0) == 0 && raw_getscheduler(0) == SCHED_FIFO && getprio() == 9,
	      "sched_setattr(KEEP_POLICY, priority 9)");
	p.sched_priority = 0;
	CHECK(sched_setscheduler(0, SCHED_OTHER, &p) == 0 && raw_getscheduler(0) == SCHED_OTHER,
	      "back to SCHED_OTHER");
	CHECK(getpriority(PRIO_PROCESS, 0) == 19, "with the nice it kept (19)");
	CHECK(setpriority(PRIO_PROCESS, 0, -5) == 0 && getpriority(PRIO_PROCESS, 0) == -5,
	      "setpriority(-5) (lowering nice)");
	CHECK(setpriority(PRIO_PROCESS, 0, -100) == 0 && getpriority(PRIO_PROCESS, 0) == -20,
	      "setpriority(-100) clamps to -20");
	CHECK(setpriority(PRIO_PROCESS, 0, 0) == 0, "setpriority(0)");
}

static void niceness(void)
{
	int start = getpriority(PRIO_PROCESS, 0);
	long raw = syscall(SYS_getpriority, PRIO_PROCESS, 0);
	CHECK(raw == 20 - start, "raw getpriority == 20 - nice");
	int want = start < 5 ? 5 : start;
	CHECK(setpriority(PRIO_PROCESS, 0, want) == 0 && getpriority(PRIO_PROCESS, 0) == want,
	      "setpriority(PRIO_PROCESS, 0, max(nice, 5))");
	errno = 0;
	CHECK(nice(2) == want + 2 && errno == 0, "nice(2) returns the new nice");
	CHECK(getpriority(PRIO_PROCESS, syscall(SYS_gettid)) == want + 2,
	      "getpriority(PRIO_PROCESS, gettid())");
	errno = 0;
	CHECK(getpriority(PRIO_PGRP, 0) != -1 || errno == 0, "getpriority(PRIO_PGRP, 0) succeeds");
	errno = 0;
	CHECK(getpriority(PRIO_USER, 0) != -1 || errno == 0, "getpriority(PRIO_USER, 0) succeeds");
	CHECK_ERR(getpriority(3, 0), EINVAL, "getpriority(which 3)");
	CHECK_ERR(setpriority(-1, 0, 0), EINVAL, "setpriority(which -1)");
	CHECK_ERR(getpriority(PRIO_PROCESS, NO_PID), ESRCH, "getpriority(no such pid)");
	CHECK_ERR(setpriority(PRIO_PROCESS, NO_PID, 0), ESRCH, "setpriority(no such pid)");
	CHECK(setpriority(PRIO_PROCESS, 0, 100) == 0 && getpriority(PRIO_PROCESS, 0) == 19,
	      "setpriority(100) clamps to 19");
	struct sched_attr a;
	memset(&a, 0, sizeof a);
	CHECK(getattr(&a, sizeof a, 0) == 0 && a.sched_nice == 19,
	      "sched_getattr sees nice 19");
}

static void affinity(void)
{
	cpu_set_t orig, s;
	CPU_ZERO(&orig);
	CHECK(sched_getaffinity(0, sizeof orig, &orig) == 0, "sched_getaffinity");
	int n = CPU_COUNT(&orig);
	CHECK(n >= 1, "at least one cpu in the mask");
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	CHECK(online >= n, "sysconf(_SC_NPROCESSORS_ONLN) >= cpus in the mask");
	int first = 0;
	while (!CPU_ISSET(first, &orig))
		first++;
	CPU_ZERO(&s);
	CPU_SET(first, &s);
	CHECK(sched_setaffinity(0, sizeof s, &s) == 0, "sched_setaffinity(first cpu only)");
	CPU_ZERO(&s);
	CHECK(sched_getaffinity(0, sizeof s, &s) == 0 && CPU_COUNT(&s) == 1 &&
		      CPU_ISSET(first, &s),
	      "sched_getaffinity: just that cpu");
	unsigned cpu = 12345, node = 12345;
	CHECK(syscall(SYS_getcpu, &cpu, &node, NULL) == 0 && cpu == (unsigned)first,
	      "getcpu: runs on it");
	CHECK(node == 0, "getcpu: node 0");
	CHECK(syscall(SYS_getcpu, NULL, NULL, NULL) == 0, "getcpu(NULL, NULL)");
	CHECK_ERR(syscall(SYS_getcpu, (void *)8, NULL, NULL), EFAULT, "getcpu(bad pointer)");
	CHECK(sched_setaffinity(0, sizeof orig, &orig) == 0, "sched_setaffinity(original)");
	CPU_ZERO(&s);
	CHECK(sched_getaffinity(0, sizeof s, &s) == 0 && CPU_EQUAL(&s, &orig),
	      "sched_getaffinity: the original mask");
	cpu = 12345;
	CHECK(syscall(SYS_getcpu, &cpu, NULL, NULL) == 0 && CPU_ISSET(cpu, &orig),
	      "getcpu: inside the mask");

	CPU_ZERO(&s);
	CHECK_ERR(sched_setaffinity(0, sizeof s, &s), EINVAL, "sched_setaffinity(empty)");
	CPU_SET(CPU_SETSIZE - 1, &s);
	CHECK_ERR(sched_setaffinity(0, sizeof s, &s), EINVAL,
		  "sched_setaffinity(only cpu %d)", CPU_SETSIZE - 1);
	CHECK_ERR(syscall(SYS_sched_setaffinity, 0, sizeof s, (void *)8), EFAULT,
		  "sched_setaffinity(bad pointer)");
	CHECK_ERR(sched_setaffinity(NO_PID, sizeof orig, &orig), ESRCH,
		  "sched_setaffinity(no such pid)");
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 0, &s), EINVAL, "sched_getaffinity(len 0)");
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 7, &s), EINVAL, "sched_getaffinity(len 7)");
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, sizeof s, (void *)8), EFAULT,
		  "sched_getaffinity(bad pointer)");
	CHECK_ERR(syscall(SYS_sched_getaffinity, NO_PID, sizeof s, &s), ESRCH,
		  "sched_getaffinity(no such pid)");
	CHECK_ERR(syscall(SYS_sched_getaffinity, -1, sizeof s, &s), ESRCH,
		  "sched_getaffinity(-1)");
	long r = syscall(SYS_sched_getaffinity, 0, sizeof s, &s);
	CHECK(r > 0 && r % 8 == 0 && r <= (long)sizeof s,
	      "raw sched_getaffinity returns a length: a multiple of 8, at most len");
}

int main(void)
{
	guest_init("sched_c");
	priorities();
	getters();
	bad_setscheduler();
	attr_sizes();
	CHECK(sched_yield() == 0, "sched_yield");
	struct sched_param p = { .sched_priority = 10 };
	int rt = sched_setscheduler(0, SCHED_FIFO, &p) == 0;
	printf("real-time policies allowed: %s\n", rt ? "yes" : "no (EPERM)");
	if (rt)
		realtime();
	affinity();
	niceness();
	return guest_done();
}
