/*
 * Job control: stop and continue signals, the wait statuses they produce
 * (WUNTRACED/WSTOPPED, WCONTINUED, WNOWAIT), SIGCHLD with CLD_STOPPED and
 * CLD_CONTINUED (and SA_NOCLDSTOP), a sleep that survives a stop, stop
 * signals discarded in an orphaned process group, and SIGHUP + SIGCONT to a
 * process group orphaned while one of its members is stopped (POSIX).
 *
 * `jobctl_c [SECTION]` runs one section (all of them without an argument).
 * Everything runs in a child that starts a session of its own, so every
 * process group involved is one this guest made. Prints only relations.
 */
#include "proc.h"

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static const char *const SECTIONS[] = {
	"stop", "sigchld", "waitid", "sleep", "orphan", NULL,
};

static void msleep(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* A child that stops itself, then answers each token with one byte until
 * its token pipe closes. */
static pid_t self_stopping_child(int *to, int *from)
{
	pid_t pid = fork_linked(from, to);
	if (pid == 0) {
		raise(SIGSTOP);
		while (wait_token(*to) == 0)
			send_token(*from);
		child_exit(0);
	}
	return pid;
}

static void stop_tests(void)
{
	int to, from, st;
	pid_t pid = self_stopping_child(&to, &from);
	CHECK(xwaitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP,
	      "raise(SIGSTOP): waitpid(WUNTRACED) reports WIFSTOPPED, WSTOPSIG == SIGSTOP");
	CHECK(xwaitpid(pid, &st, WUNTRACED | WNOHANG) == 0, "the stop is reported once");
	CHECK(kill(pid, SIGCONT) == 0, "kill(stopped child, SIGCONT)");
	CHECK(xwaitpid(pid, &st, WCONTINUED) == pid && WIFCONTINUED(st),
	      "waitpid(WCONTINUED) reports WIFCONTINUED");
	CHECK(send_token(to) == 0 && wait_token(from) == 0, "the continued child runs");
	/* Our group is orphaned (its only member outside is the session
	 * leader, whose parent is in another session): SIGTSTP is discarded. */
	CHECK(kill(pid, SIGTSTP) == 0, "kill(child, SIGTSTP)");
	CHECK(send_token(to) == 0 && wait_token(from) == 0,
	      "SIGTSTP in an orphaned process group does not stop it");
	CHECK(kill(pid, SIGSTOP) == 0, "kill(child, SIGSTOP)");
	CHECK(xwaitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st) && WSTOPSIG(st) == SIGSTOP,
	      "SIGSTOP stops it even so");
	CHECK(kill(pid, SIGKILL) == 0, "kill(stopped child, SIGKILL)");
	CHECK(killed_by(wait_status(pid), SIGKILL), "a stopped child dies of SIGKILL");
	close(to);
	close(from);
}

static volatile sig_atomic_t codes[8], ncodes;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (ncodes < 8)
		codes[ncodes++] = si->si_code;
}

static const char *code_name(int c)
{
	switch (c) {
	case CLD_EXITED: return "CLD_EXITED";
	case CLD_STOPPED: return "CLD_STOPPED";
	case CLD_CONTINUED: return "CLD_CONTINUED";
	case CLD_KILLED: return "CLD_KILLED";
	default: return "other";
	}
}

/* Waits (in sigsuspend, SIGCHLD blocked otherwise) for `n` SIGCHLDs. */
static void await_chld(int n)
{
	sigset_t none;
	sigemptyset(&none);
	while (ncodes < n)
		sigsuspend(&none);
}

static void sigchld_run(int flags)
{
	set_action(SIGCHLD, on_chld, flags);
	sigset_t chld, old;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, &old);
	ncodes = 0;
	int to, from, st;
	pid_t pid = self_stopping_child(&to, &from);
	if (!(flags & SA_NOCLDSTOP))
		await_chld(1);
	CHECK(xwaitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st), "the child stopped");
	kill(pid, SIGCONT);
	if (!(flags & SA_NOCLDSTOP))
		await_chld(2);
	close(to);
	close(from);
	await_chld(flags & SA_NOCLDSTOP ? 1 : 3);
	CHECK(exited_with(wait_status(pid), 0), "the child exits 0");
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("%s: SIGCHLD si_codes:", flags & SA_NOCLDSTOP ? "SA_NOCLDSTOP" : "default");
	for (int i = 0; i < ncodes; i++)
		printf(" %s", code_name(codes[i]));
	printf("\n");
	signal(SIGCHLD, SIG_DFL);
}

static void sigchld_tests(void)
{
	sigchld_run(0);
	sigchld_run(SA_NOCLDSTOP);
}

static void waitid_tests(void)
{
	int to, from;
	siginfo_t si;
	pid_t pid = self_stopping_child(&to, &from);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT) == 0 && si.si_pid == pid &&
		      si.si_code == CLD_STOPPED && si.si_status == SIGSTOP,
	      "waitid(WSTOPPED|WNOWAIT): CLD_STOPPED, si_status SIGSTOP");
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WSTOPPED | WNOHANG) == 0 && si.si_pid == pid &&
		      si.si_code == CLD_STOPPED,
	      "WNOWAIT left the report: waitid(WSTOPPED) gets it again");
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WSTOPPED | WNOHANG) == 0 && si.si_pid == 0,
	      "then it is consumed: si_pid 0 with WNOHANG");
	kill(pid, SIGCONT);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WCONTINUED) == 0 && si.si_pid == pid &&
		      si.si_code == CLD_CONTINUED && si.si_status == SIGCONT,
	      "waitid(WCONTINUED): CLD_CONTINUED, si_status SIGCONT");
	close(to);
	close(from);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WEXITED) == 0 && si.si_code == CLD_EXITED &&
		      si.si_status == 0,
	      "waitid(WEXITED): CLD_EXITED, status 0");
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void sleep_tests(void)
{
	/* A 300 ms nanosleep stopped and continued midway still sleeps its
	 * whole time and returns 0 (restart_syscall). */
	pid_t pid = xfork();
	if (pid == 0) {
		struct timespec t0, ts = {0, 300 * 1000000L};
		clock_gettime(CLOCK_MONOTONIC, &t0);
		int r = nanosleep(&ts, NULL);
		child_exit(r == 0 && elapsed_ms(&t0) >= 290 ? 0 : 1);
	}
	msleep(50);
	kill(pid, SIGSTOP);
	int st;
	CHECK(xwaitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st), "the sleeper stopped");
	msleep(50);
	kill(pid, SIGCONT);
	CHECK(exited_with(wait_status(pid), 0),
	      "nanosleep across a stop and continue: returns 0 after its full time");

	/* With a handler it ends early: EINTR and the time left in rem. */
	int ready[2];
	xpipe(ready);
	pid = xfork();
	if (pid == 0) {
		signal(SIGUSR1, on_usr1);
		struct timespec ts = {5, 0}, rem = {0, 0};
		send_token(ready[1]);
		int r = nanosleep(&ts, &rem);
		int ok = r == -1 && errno == EINTR && rem.tv_sec < 5 &&
			 (rem.tv_sec > 0 || rem.tv_nsec > 0);
		child_exit(ok ? 0 : 1);
	}
	wait_token(ready[0]);
	close_pipe(ready);
	msleep(50);
	kill(pid, SIGUSR1);
	CHECK(exited_with(wait_status(pid), 0),
	      "nanosleep interrupted by a handled signal: -1 EINTR, rem set");
}

static void orphan_tests(void)
{
	/* A middle process makes a group of its own with a child in it that
	 * stops itself; when the middle process exits, nothing links the
	 * group to the rest of the session any more: the stopped member gets
	 * SIGHUP and SIGCONT. It reports which arrived through a pipe. */
	int rep[2];
	xpipe(rep);
	pid_t mid = xfork();
	if (mid == 0) {
		close(rep[0]);
		setpgid(0, 0);
		pid_t g = xfork();
		if (g == 0) {
			static volatile sig_atomic_t got;
			sigset_t all;
			sigfillset(&all);
			sigprocmask(SIG_BLOCK, &all, NULL);
			raise(SIGSTOP);
			/* Continued: take what is pending. */
			sigset_t want;
			sigemptyset(&want);
			sigaddset(&want, SIGHUP);
			sigaddset(&want, SIGCONT);
			struct timespec tmo = {2, 0};
			int s;
			while ((s = sigtimedwait(&want, NULL, &tmo)) > 0) {
				got |= s == SIGHUP ? 1 : s == SIGCONT ? 2 : 0;
				if (got == 3)
					break;
			}
			send_int(rep[1], got);
			child_exit(0);
		}
		int st;
		xwaitpid(g, &st, WUNTRACED);
		child_exit(WIFSTOPPED(st) ? 0 : 1);
	}
	close(rep[1]);
	CHECK(exited_with(wait_status(mid), 0), "the middle process saw its child stop, exited");
	int got = recv_int(rep[0]);
	close(rep[0]);
	CHECK(got == 3, "the orphaned stopped group gets SIGHUP and SIGCONT");
}

static void sections(void)
{
	if (section("stop"))
		stop_tests();
	if (section("sigchld"))
		sigchld_tests();
	if (section("waitid"))
		waitid_tests();
	if (section("sleep"))
		sleep_tests();
	if (section("orphan"))
		orphan_tests();
}

int main(int argc, char **argv)
{
	guest_init("jobctl_c");
	proc_alarm(20);
	if (select_section(argc, argv, SECTIONS))
		return 2;
	return in_new_session(sections);
}
