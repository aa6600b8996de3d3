/*
 * Signal delivery: handlers with and without SA_SIGINFO, what they are told
 * (si_signo/si_code/si_pid/si_value), the frame Linux builds (ucontext right
 * below siginfo, 16-byte alignment, the XSAVE magic), registers and FP/SSE
 * state across a handler, masks (sigprocmask, sigpending, sa_mask,
 * SA_NODEFER), SA_RESETHAND, sigaltstack + SA_ONSTACK (+ SS_AUTODISARM),
 * sigsuspend, sigtimedwait/sigwaitinfo with real-time queueing, default
 * actions in a child, and SIGKILL/SIGSTOP being uncatchable.
 */
#include "guest.h"

#include <fenv.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

static volatile sig_atomic_t count, depth, max_depth;
static siginfo_t last;
static int handler_round_mode;
static int frame_ok_delta, frame_ok_align, frame_ok_magic, frame_ok_flags;
static sigset_t mask_in_handler;

static void plain(int sig)
{
	(void)sig;
	count++;
}

static void with_info(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	(void)sig;
	last = *si;
	count++;
	/* The kernel's struct ucontext is 304 bytes, and siginfo follows it. */
	frame_ok_delta = (char *)si - (char *)uc == 304;
	/* rsp + 8 was 16-aligned at entry; the ucontext is at rsp + 8. */
	frame_ok_align = (uintptr_t)uc % 16 == 0;
	/* uc_flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS. */
	frame_ok_flags = (uc->uc_flags & 6) == 6;
	const char *fp = (const char *)uc->uc_mcontext.fpregs;
	uint32_t magic1 = 0;
	if (fp && (uintptr_t)fp % 64 == 0)
		memcpy(&magic1, fp + 464, 4);
	frame_ok_magic = magic1 == 0x46505853;
	handler_round_mode = fegetround();
	sigprocmask(SIG_BLOCK, NULL, &mask_in_handler);
}

static char order_buf[32];
static volatile int order_len;

static void order_handler(int sig)
{
	const char *t = sig == SIGUSR1 ? "U1 " : "U2 ";
	memcpy(order_buf + order_len, t, 3);
	order_len += 3;
}

static void set_info(int sig, void (*h)(int, siginfo_t *, void *), int flags,
		     int masked)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = flags | SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (masked)
		sigaddset(&sa.sa_mask, masked);
	if (sigaction(sig, &sa, NULL) != 0) {
		perror("sigaction");
		exit(2);
	}
}

static void clobber_handler(int sig)
{
	(void)sig;
	count++;
	/* Caller-saved registers a C handler may trash, and every xmm. */
	__asm__ volatile("mov $-1, %%r8\n\tmov $-1, %%r9\n\tmov $-1, %%r10\n\t"
			 "mov $-1, %%r11\n\tpcmpeqd %%xmm0, %%xmm0\n\t"
			 "pcmpeqd %%xmm1, %%xmm1\n\tpcmpeqd %%xmm7, %%xmm7\n\t"
			 "pcmpeqd %%xmm8, %%xmm8\n\tpcmpeqd %%xmm15, %%xmm15"
			 ::: "r8", "r9", "r10", "r11", "xmm0", "xmm1", "xmm7",
			 "xmm8", "xmm15");
	volatile double x = 1.0;
	for (int i = 0; i < 100; i++)
		x = x * 1.5 + 0.25;
}

/* Sends `sig` to this thread with a raw tgkill whose `syscall` is the
 * delivery point, with known values in registers the handler clobbers. */
static int registers_survive(int sig)
{
	static uint64_t out[9];
	long pid = getpid(), tid = syscall(SYS_gettid);
	long ret;
	__asm__ volatile(
		"mov $0x1111, %%r8\n\tmov $0x2222, %%r9\n\tmov $0x3333, %%r10\n\t"
		"mov $0x4444, %%r12\n\tmov $0x5555, %%r13\n\tmov $0x6666, %%r14\n\t"
		"mov $0x7777, %%r15\n\tmov $0x8888, %%rbx\n\t"
		"movq %%r8, %%xmm8\n\t"
		"syscall\n\t"
		"mov %%r8, 0(%[o])\n\tmov %%r9, 8(%[o])\n\tmov %%r10, 16(%[o])\n\t"
		"mov %%r12, 24(%[o])\n\tmov %%r13, 32(%[o])\n\tmov %%r14, 40(%[o])\n\t"
		"mov %%r15, 48(%[o])\n\tmov %%rbx, 56(%[o])\n\tmovq %%xmm8, 64(%[o])"
		: "=a"(ret)
		: "a"((long)SYS_tgkill), "D"(pid), "S"(tid), "d"((long)sig),
		  [o] "r"(out)
		: "rcx", "r11", "r8", "r9", "r10", "r12", "r13", "r14", "r15",
		  "rbx", "xmm8", "memory");
	static const uint64_t want[9] = {0x1111, 0x2222, 0x3333, 0x4444, 0x5555,
					 0x6666, 0x7777, 0x8888, 0x1111};
	return ret == 0 && memcmp(out, want, sizeof want) == 0;
}

static double series(int raise_at)
{
	double s = 0.0;
	for (int i = 1; i <= 2000; i++) {
		s += 1.0 / ((double)i * i);
		if (i == raise_at)
			raise(SIGUSR1);
	}
	return s;
}

static void nest(int sig)
{
	depth++;
	if (depth > max_depth)
		max_depth = depth;
	if (count++ == 0)
		raise(sig);
	depth--;
}

static char altbuf[1 << 16];
static int on_alt, alt_flags, alt_eperm;
static stack_t alt_in_frame;

static void alt_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	int local;
	stack_t cur, other;
	(void)sig;
	(void)si;
	on_alt = (char *)&local >= altbuf && (char *)&local < altbuf + sizeof altbuf;
	sigaltstack(NULL, &cur);
	alt_flags = cur.ss_flags;
	alt_in_frame = uc->uc_stack;
	memset(&other, 0, sizeof other);
	other.ss_sp = altbuf;
	other.ss_size = sizeof altbuf / 2;
	alt_eperm = sigaltstack(&other, NULL) == -1 ? errno : 0;
	count++;
}

static void alt_tests(void)
{
	stack_t ss, cur;
	memset(&ss, 0, sizeof ss);
	sigaltstack(NULL, &cur);
	CHECK(cur.ss_flags == SS_DISABLE, "sigaltstack initially SS_DISABLE");
	ss.ss_sp = altbuf;
	ss.ss_size = sizeof altbuf;
	ss.ss_flags = 0;
	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack(64 KiB)");
	set_info(SIGUSR1, alt_handler, SA_ONSTACK, 0);
	count = 0;
	raise(SIGUSR1);
	CHECK(count == 1, "SA_ONSTACK handler ran");
	CHECK(on_alt, "handler's local variable lies on the alternate stack");
	CHECK(alt_flags == SS_ONSTACK, "sigaltstack in the handler reports SS_ONSTACK");
	CHECK(alt_eperm == EPERM, "changing the stack while on it: EPERM");
	CHECK(alt_in_frame.ss_sp == altbuf && alt_in_frame.ss_size == sizeof altbuf,
	      "uc_stack describes the alternate stack");
	sigaltstack(NULL, &cur);
	CHECK(cur.ss_flags == 0, "after the handler: flags 0 (not on it)");

	set_info(SIGUSR1, alt_handler, 0, 0);
	raise(SIGUSR1);
	CHECK(!on_alt, "without SA_ONSTACK the handler stays on the normal stack");

	ss.ss_flags = SS_AUTODISARM;
	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack(SS_AUTODISARM)");
	set_info(SIGUSR1, alt_handler, SA_ONSTACK, 0);
	raise(SIGUSR1);
	CHECK(on_alt, "SS_AUTODISARM: handler on the alternate stack");
	CHECK(alt_flags == SS_DISABLE, "SS_AUTODISARM: disarmed inside the handler");
	CHECK(alt_eperm == 0, "SS_AUTODISARM: may change it inside the handler");
	CHECK(alt_in_frame.ss_flags == SS_AUTODISARM,
	      "SS_AUTODISARM: uc_stack keeps the flags as set");
	sigaltstack(NULL, &cur);
	CHECK(cur.ss_flags == SS_AUTODISARM && cur.ss_sp == altbuf,
	      "SS_AUTODISARM: re-armed by sigreturn");

	ss.ss_flags = SS_DISABLE;
	CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack(SS_DISABLE)");
	ss.ss_flags = 0;
	ss.ss_size = 1024;
	CHECK_ERR(sigaltstack(&ss, NULL), ENOMEM, "sigaltstack(1 KiB)");
	ss.ss_flags = 7;
	ss.ss_size = sizeof altbuf;
	CHECK_ERR(sigaltstack(&ss, NULL), EINVAL, "sigaltstack(bad flags)");
}

int main(void)
{
	guest_init("signal_c");
	alarm(10); /* safety net */
	pid_t me = getpid();

	/* Plain handler. */
	set_handler(SIGUSR1, plain, 0);
	count = 0;
	CHECK(raise(SIGUSR1) == 0 && count == 1, "handler without SA_SIGINFO ran once");

	/* SA_SIGINFO: what kill, raise (tgkill) and sigqueue report. */
	set_info(SIGUSR1, with_info, 0, 0);
	count = 0;
	kill(me, SIGUSR1);
	CHECK(count == 1 && last.si_signo == SIGUSR1 && last.si_code == SI_USER &&
		      last.si_pid == me && last.si_uid == getuid(),
	      "kill: si_signo, si_code SI_USER, si_pid, si_uid");
	CHECK(frame_ok_delta, "siginfo sits right after the 304-byte ucontext");
	CHECK(frame_ok_align, "ucontext 16-byte aligned (rsp+8 aligned at entry)");
	CHECK(frame_ok_flags, "uc_flags has UC_SIGCONTEXT_SS|UC_STRICT_RESTORE_SS");
	CHECK(frame_ok_magic, "fpstate 64-byte aligned with FP_XSTATE_MAGIC1");
	raise(SIGUSR1);
	CHECK(last.si_code == SI_TKILL && last.si_pid == me, "raise: si_code SI_TKILL");
	union sigval v = {.sival_int = 42};
	sigqueue(me, SIGUSR1, v);
	CHECK(last.si_code == SI_QUEUE && last.si_value.sival_int == 42 &&
		      last.si_pid == me,
	      "sigqueue: si_code SI_QUEUE, si_value 42");
	CHECK(sigismember(&mask_in_handler, SIGUSR1), "signal blocked in its own handler");

	/* Registers and FP state survive a handler. */
	set_handler(SIGUSR1, clobber_handler, 0);
	CHECK(registers_survive(SIGUSR1), "r8-r10, r12-r15, rbx, xmm8 survive a handler");
	double quiet = series(0);
	double loud = series(1000);
	CHECK(memcmp(&quiet, &loud, sizeof quiet) == 0,
	      "double computation interrupted by a handler gives the same bits");
	set_info(SIGUSR1, with_info, 0, 0);
	fesetround(FE_TOWARDZERO);
	raise(SIGUSR1);
	int after = fegetround();
	fesetround(FE_TONEAREST);
	CHECK(handler_round_mode == FE_TONEAREST, "handler starts with default MXCSR rounding");
	CHECK(after == FE_TOWARDZERO, "rounding mode restored after the handler");

	/* Blocking, pending, delivery on unblock. */
	sigset_t s, old, pend;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigprocmask(SIG_BLOCK, &s, &old);
	count = 0;
	raise(SIGUSR1);
	raise(SIGUSR1);
	sigpending(&pend);
	CHECK(count == 0 && sigismember(&pend, SIGUSR1), "blocked signal is pending, not delivered");
	sigprocmask(SIG_SETMASK, &old, NULL);
	CHECK(count == 1, "delivered once (coalesced) when unblocked");
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGUSR1), "no longer pending");

	/* Two signals unblocked at once both get frames before user code runs
	 * again, stacked: the one dequeued last (the higher number) runs
	 * first and returns into the other. */
	set_handler(SIGUSR1, order_handler, 0);
	set_handler(SIGUSR2, order_handler, 0);
	sigaddset(&s, SIGUSR2);
	sigprocmask(SIG_BLOCK, &s, &old);
	order_len = 0;
	raise(SIGUSR2);
	raise(SIGUSR1);
	sigprocmask(SIG_SETMASK, &old, NULL);
	order_buf[order_len] = 0;
	CHECK(strcmp(order_buf, "U2 U1 ") == 0, "two pending handlers: SIGUSR2's runs first (%s)",
	      order_buf);
	set_handler(SIGUSR1, plain, 0);
	set_handler(SIGUSR2, plain, 0);

	/* sa_mask is blocked during the handler. */
	set_info(SIGUSR1, with_info, 0, SIGUSR2);
	raise(SIGUSR1);
	CHECK(sigismember(&mask_in_handler, SIGUSR2), "sa_mask blocked in the handler");

	/* SA_RESETHAND. */
	set_info(SIGUSR2, with_info, SA_RESETHAND, 0);
	count = 0;
	raise(SIGUSR2);
	struct sigaction q;
	sigaction(SIGUSR2, NULL, &q);
	CHECK(count == 1 && q.sa_handler == SIG_DFL, "SA_RESETHAND: back to SIG_DFL after one delivery");
	CHECK((q.sa_flags & SA_SIGINFO) != 0, "SA_RESETHAND: sa_flags (SA_SIGINFO) kept");

	/* Nested delivery: deferred by default, immediate with SA_NODEFER. */
	set_handler(SIGUSR1, nest, 0);
	count = depth = max_depth = 0;
	raise(SIGUSR1);
	CHECK(count == 2 && max_depth == 1, "default: raise in the handler waits for its return");
	set_handler(SIGUSR1, nest, SA_NODEFER);
	count = depth = max_depth = 0;
	raise(SIGUSR1);
	CHECK(count == 2 && max_depth == 2, "SA_NODEFER: raise in the handler nests");

	alt_tests();

	/* sigsuspend: waits with a temporary mask, restores the old one. */
	set_handler(SIGUSR1, plain, 0);
	sigprocmask(SIG_BLOCK, &s, &old);
	count = 0;
	raise(SIGUSR1);
	sigset_t none;
	sigemptyset(&none);
	errno = 0;
	int r = sigsuspend(&none);
	CHECK(r == -1 && errno == EINTR && count == 1, "sigsuspend: -1 EINTR after the handler");
	sigset_t now;
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK(sigismember(&now, SIGUSR1), "sigsuspend: mask restored");

	/* sigtimedwait takes a pending blocked signal without the handler. */
	count = 0;
	raise(SIGUSR1);
	siginfo_t si;
	struct timespec zero = {0, 0};
	r = sigtimedwait(&s, &si, &zero);
	/* glibc's sigtimedwait turns the kernel's SI_TKILL into SI_USER. */
	CHECK(r == SIGUSR1 && si.si_code == SI_USER && count == 0,
	      "sigtimedwait returns the pending signal, no handler");
	CHECK_ERR(sigtimedwait(&s, &si, &zero), EAGAIN, "sigtimedwait with nothing pending");

	/* Real-time signals queue in order, with their values; lowest first. */
	sigset_t rt;
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	sigaddset(&rt, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &rt, NULL);
	for (int i = 0; i < 3; i++) {
		v.sival_int = 100 + i;
		sigqueue(me, SIGRTMIN + 1, v);
	}
	v.sival_int = 7;
	sigqueue(me, SIGRTMIN, v);
	char order[64] = "";
	for (int i = 0; i < 4; i++) {
		r = sigwaitinfo(&rt, &si);
		char b[16];
		snprintf(b, sizeof b, "%s%d:%d", i ? " " : "", r - SIGRTMIN,
			 si.si_value.sival_int);
		strcat(order, b);
	}
	CHECK(strcmp(order, "0:7 1:100 1:101 1:102") == 0,
	      "real-time signals: lowest first, queued in order (%s)", order);
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* Ignored signals are discarded, even pending ones. */
	sigprocmask(SIG_BLOCK, &s, &old);
	raise(SIGUSR1);
	set_handler(SIGUSR1, SIG_IGN, 0);
	sigpending(&pend);
	CHECK(!sigismember(&pend, SIGUSR1), "SIG_IGN discards a pending signal");
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* Uncatchable. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = plain;
	CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL, "sigaction(SIGKILL)");
	CHECK_ERR(sigaction(SIGSTOP, &sa, NULL), EINVAL, "sigaction(SIGSTOP)");
	sigemptyset(&s);
	sigaddset(&s, SIGKILL);
	sigprocmask(SIG_BLOCK, &s, NULL);
	sigprocmask(SIG_BLOCK, NULL, &now);
	CHECK(!sigismember(&now, SIGKILL), "SIGKILL cannot be blocked");

	/* Default actions, in a child. */
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		raise(SIGTERM);
		_exit(99);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM, "child killed by default SIGTERM");
	c = fork();
	if (c == 0) {
		raise(SIGCHLD); /* default: ignored */
		raise(SIGURG);
		_exit(7);
	}
	waitpid(c, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 7, "SIGCHLD and SIGURG ignored by default");

	return guest_done();
}
