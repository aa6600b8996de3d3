/*
 * Synchronous faults delivered as signals: SIGSEGV (unmapped NULL write:
 * SEGV_MAPERR at 0; read-only page: SEGV_ACCERR at the page), SIGFPE
 * (integer division by zero: FPE_INTDIV), SIGILL (ud2: ILL_ILLOPN at the
 * instruction), SIGTRAP (int3: SI_KERNEL, resumes after it), the trap
 * numbers in the sigcontext, recovery with siglongjmp, and the default
 * action (death by SIGSEGV) in a child.
 */
#include "guest.h"

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf env;
static siginfo_t got;
static long trapno;
static unsigned long cr2;
static int resumed;

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	(void)sig;
	got = *si;
	trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	cr2 = uc->uc_mcontext.gregs[REG_CR2];
	siglongjmp(env, 1);
}

static void on_trap(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	(void)sig;
	got = *si;
	trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
	resumed++;
}

extern char ud2_at[], after_int3[];

/* An address the compiler cannot see through. */
static volatile int *bad_ptr(unsigned long a)
{
	volatile int *volatile p = (volatile int *)a;
	return p;
}

int main(void)
{
	guest_init("sigfault_c");
	alarm(10);

	set_action(SIGSEGV, on_fault, SA_NODEFER);
	if (sigsetjmp(env, 1) == 0) {
		*bad_ptr(0) = 1;
		CHECK(0, "NULL write faulted");
	}
	CHECK(got.si_signo == SIGSEGV && got.si_code == SEGV_MAPERR && got.si_addr == NULL,
	      "NULL write: SIGSEGV, SEGV_MAPERR, si_addr 0");
	CHECK(trapno == 14 && cr2 == 0, "NULL write: trapno 14 (page fault), cr2 0");

	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sigsetjmp(env, 1) == 0) {
		ro[100] = 1;
		CHECK(0, "read-only write faulted");
	}
	CHECK(got.si_signo == SIGSEGV && got.si_code == SEGV_ACCERR &&
		      got.si_addr == ro + 100,
	      "read-only write: SEGV_ACCERR at the address");
	CHECK(cr2 == (unsigned long)(ro + 100), "read-only write: cr2 is the address");
	munmap(ro, 4096);

	/* Recovery twice in a row: the mask was restored by siglongjmp. */
	if (sigsetjmp(env, 1) == 0)
		*bad_ptr(8) = 1;
	CHECK(got.si_addr == (void *)8, "second fault after siglongjmp: si_addr 8");

	set_action(SIGFPE, on_fault, SA_NODEFER);
	volatile int zero = 0, ten = 10;
	if (sigsetjmp(env, 1) == 0) {
		volatile int q = ten / zero;
		(void)q;
		CHECK(0, "division by zero faulted");
	}
	CHECK(got.si_signo == SIGFPE && got.si_code == FPE_INTDIV && trapno == 0,
	      "integer division by zero: SIGFPE, FPE_INTDIV, trapno 0");

	set_action(SIGILL, on_fault, SA_NODEFER);
	if (sigsetjmp(env, 1) == 0) {
		__asm__ volatile(".globl ud2_at\nud2_at: ud2");
		CHECK(0, "ud2 faulted");
	}
	CHECK(got.si_signo == SIGILL && got.si_code == ILL_ILLOPN &&
		      got.si_addr == (void *)ud2_at && trapno == 6,
	      "ud2: SIGILL, ILL_ILLOPN at the instruction, trapno 6");

	set_action(SIGTRAP, on_trap, SA_NODEFER);
	resumed = 0;
	__asm__ volatile("int3\n.globl after_int3\nafter_int3: nop");
	CHECK(resumed == 1 && got.si_signo == SIGTRAP && got.si_code == SI_KERNEL &&
		      trapno == 3,
	      "int3: SIGTRAP, SI_KERNEL, trapno 3, execution resumes after it");

	/* A fault while its signal is blocked kills, even with a handler. */
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGSEGV);
		sigprocmask(SIG_BLOCK, &s, NULL);
		*bad_ptr(0) = 1;
		_exit(99);
	}
	int st;
	waitpid(c, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "blocked SIGSEGV from a fault kills the child");
	c = fork();
	if (c == 0) {
		signal(SIGSEGV, SIG_IGN);
		*bad_ptr(0) = 1;
		_exit(99);
	}
	waitpid(c, &st, 0);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "ignored SIGSEGV from a fault kills the child");
	(void)after_int3;
	return guest_done();
}
