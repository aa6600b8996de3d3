/*
 * fork and wait: exit statuses and the wait status macros, getppid, copy-on-
 * write memory, WNOHANG, ECHILD, waitid (WNOWAIT, P_PGID), zombies, orphans
 * re-parented to a child subreaper, SIGCHLD ignored (auto-reaping), many
 * children, a fork chain.
 *
 * `fork_c [SECTION]` runs one section (all of them without an argument).
 * Prints only relations, never pids.
 */
#include "proc.h"

#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>

static const char *const SECTIONS[] = {
	"status", "cow", "wait", "waitid", "zombie", "orphan", "sigchld",
	"many", "chain", NULL,
};

static void status_macros(void)
{
	static const int codes[] = { 0, 1, 42, 255, 256, 300 };
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		pid_t pid = xfork();
		if (pid == 0)
			_exit(codes[i]);
		int st = 0;
		pid_t r = xwaitpid(pid, &st, 0);
		CHECK(r == pid, "_exit(%d): waitpid returns the child's pid", codes[i]);
		CHECK(WIFEXITED(st) && !WIFSIGNALED(st) && !WIFSTOPPED(st),
		      "_exit(%d): WIFEXITED and not WIFSIGNALED", codes[i]);
		printf("_exit(%d): WEXITSTATUS = %d\n", codes[i], WEXITSTATUS(st));
	}

	/* exit() from a child flushes its stdio buffer exactly once. */
	pid_t pid = xfork();
	if (pid == 0) {
		printf("child: printed, then exit(7)\n");
		exit(7);
	}
	CHECK(exited_with(wait_status(pid), 7), "exit(7) from a child: status 7");

	/* wait4 with rusage. */
	pid = xfork();
	if (pid == 0)
		_exit(3);
	struct rusage ru;
	int st = 0;
	memset(&ru, 0xff, sizeof ru);
	pid_t r = wait4(pid, &st, 0, &ru);
	CHECK(r == pid && exited_with(st, 3), "wait4 returns the pid and status 3");
	CHECK(ru.ru_utime.tv_sec >= 0 && ru.ru_utime.tv_usec >= 0 &&
	      ru.ru_utime.tv_usec < 1000000 && ru.ru_stime.tv_usec < 1000000,
	      "wait4 fills in rusage");

	/* wait() (any child). */
	pid = xfork();
	if (pid == 0)
		_exit(9);
	st = 0;
	r = wait(&st);
	CHECK(r == pid && exited_with(st, 9), "wait() returns the only child, status 9");

	/* A status pointer may be NULL. */
	pid = xfork();
	if (pid == 0)
		_exit(0);
	CHECK(xwaitpid(pid, NULL, 0) == pid, "waitpid(pid, NULL, 0) reaps the child");

	/* Killed by SIGKILL while blocked. */
	int p[2];
	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[1]);
		char c;
		(void)read(p[0], &c, 1); /* blocks until killed */
		child_exit(99);
	}
	close(p[0]);
	CHECK(kill(pid, SIGKILL) == 0, "kill(child, SIGKILL)");
	st = wait_status(pid);
	CHECK(WIFSIGNALED(st) && !WIFEXITED(st), "SIGKILLed child: WIFSIGNALED, not WIFEXITED");
	printf("SIGKILLed child: WTERMSIG = %d (SIGKILL is %d)\n", WTERMSIG(st), SIGKILL);
	close(p[1]);

	/* abort(): SIGABRT. Whether a core is dumped depends on the host
	 * (core_pattern, RLIMIT_CORE), so WCOREDUMP is not printed. */
	pid = xfork();
	if (pid == 0) {
		struct rlimit rl = { 0, 0 };
		setrlimit(RLIMIT_CORE, &rl); /* never leave a core file behind */
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		abort();
	}
	st = wait_status(pid);
	CHECK(killed_by(st, SIGABRT), "abort()ed child: WIFSIGNALED with WTERMSIG == SIGABRT");

	/* Killed by a signal it sent itself. */
	pid = xfork();
	if (pid == 0) {
		raise(SIGTERM);
		child_exit(98);
	}
	CHECK(killed_by(wait_status(pid), SIGTERM), "raise(SIGTERM): killed by SIGTERM");

	/* getppid in the child is the parent's getpid. */
	pid_t me = getpid();
	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[0]);
		send_int(p[1], getppid() == me);
		send_int(p[1], getpid() == me);
		send_int(p[1], getpid());
		child_exit(0);
	}
	close(p[1]);
	int ppid_ok = recv_int(p[0]);
	int same_pid = recv_int(p[0]);
	int child_pid = recv_int(p[0]);
	close(p[0]);
	CHECK(ppid_ok == 1, "getppid() in the child == the parent's getpid()");
	CHECK(same_pid == 0, "the child's getpid() differs from the parent's");
	CHECK(child_pid == pid, "fork() returned the child's getpid() to the parent");
	CHECK(exited_with(wait_status(pid), 0), "child exits 0");
	CHECK(getpid() == me, "the parent's getpid() is unchanged");
}

static int global_value = 1;
#define BIG (8u << 20)

static uint32_t sum(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i += 4096)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ p[n - 1]) * 16777619u;
	return h;
}

static void cow(void)
{
	volatile int stack_value = 10;
	int *heap = malloc(64 * sizeof *heap);
	unsigned char *big = malloc(BIG);
	if (!heap || !big) {
		CHECK(0, "malloc");
		return;
	}
	for (int i = 0; i < 64; i++)
		heap[i] = i;
	memset(big, 0x11, BIG);
	uint32_t big_sum = sum(big, BIG);

	/* A MAP_SHARED anonymous mapping stays shared across fork. */
	int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(shared != MAP_FAILED, "mmap(MAP_SHARED|MAP_ANONYMOUS)");
	if (shared == MAP_FAILED)
		return;
	*shared = 5;

	int to_child[2], to_parent[2];
	xpipe(to_child);
	xpipe(to_parent);
	pid_t pid = xfork();
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		/* The child sees the parent's values as of fork... */
		CHECK(global_value == 1 && stack_value == 10 && heap[63] == 63 &&
		      big[BIG - 1] == 0x11 && sum(big, BIG) == big_sum,
		      "child: sees the values from before fork");
		/* ...writes its own... */
		global_value = 2;
		stack_value = 20;
		heap[63] = -1;
		memset(big, 0x22, BIG);
		*shared = 6;
		send_token(to_parent[1]);
		/* ...and does not see the parent's later writes. */
		wait_token(to_child[0]);
		CHECK(global_value == 2 && stack_value == 20 && heap[63] == -1 &&
		      heap[0] == 0 && big[0] == 0x22 && big[BIG / 2] == 0x22,
		      "child: its own writes stay, the parent's writes after fork are not seen");
		CHECK(*shared == 7, "child: sees the parent's write to the MAP_SHARED page");
		child_done();
	}
	close(to_child[0]);
	close(to_parent[1]);
	wait_token(to_parent[0]);
	CHECK(global_value == 1, "parent: global unchanged by the child's write");
	CHECK(stack_value == 10, "parent: stack variable unchanged by the child's write");
	CHECK(heap[63] == 63, "parent: heap buffer unchanged by the child's write");
	CHECK(sum(big, BIG) == big_sum && big[BIG - 1] == 0x11,
	      "parent: 8 MiB malloc region unchanged by the child's memset");
	CHECK(*shared == 6, "parent: sees the child's write to the MAP_SHARED page");
	global_value = 3;
	stack_value = 30;
	heap[0] = 1000;
	memset(big, 0x33, BIG / 2);
	*shared = 7;
	send_token(to_child[1]);
	CHECK_CHILD_OK(pid, "child's checks passed");
	CHECK(global_value == 3 && heap[0] == 1000 && big[0] == 0x33 &&
	      big[BIG - 1] == 0x11,
	      "parent: its own writes after fork stay");
	close(to_child[1]);
	close(to_parent[0]);
	munmap(shared, 4096);
	free(big);
	free(heap);
}

static void wait_errors(void)
{
	int st;
	CHECK_ERR(waitpid(-1, &st, 0), ECHILD, "waitpid(-1) with no children");
	CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD, "waitpid(-1, WNOHANG) with no children");
	CHECK_ERR(wait(&st), ECHILD, "wait() with no children");
	CHECK_ERR(waitpid(1, &st, 0), ECHILD, "waitpid(1) (not our child)");
	CHECK_ERR(waitpid(getpid(), &st, 0), ECHILD, "waitpid(getpid()) (ourselves)");
	CHECK_ERR(waitpid(-1, &st, 0x1000), EINVAL, "waitpid with an invalid option");

	/* A grandchild is not our child. */
	pid_t pid;
	int release;
	pid_t grandchild = spawn_grandchild(&pid, &release);
	CHECK_ERR(waitpid(grandchild, &st, 0), ECHILD, "waitpid(grandchild)");
	CHECK_ERR(waitpid(grandchild, &st, WNOHANG), ECHILD, "waitpid(grandchild, WNOHANG)");

	/* WNOHANG on a running child returns 0. */
	st = 12345;
	pid_t r = xwaitpid(pid, &st, WNOHANG);
	CHECK(r == 0, "waitpid(running child, WNOHANG) returns 0");
	r = xwaitpid(-1, &st, WNOHANG);
	CHECK(r == 0, "waitpid(-1, WNOHANG) with a running child returns 0");
	close(release); /* EOF: both go */
	CHECK(exited_with(wait_status(pid), 0), "the child reaped its own child");
	CHECK_ERR(waitpid(pid, &st, 0), ECHILD, "waitpid of an already reaped child");

	/* waitpid(-1) picks whichever child; both get reaped. */
	pid_t a = xfork();
	if (a == 0)
		_exit(1);
	pid_t b = xfork();
	if (b == 0)
		_exit(2);
	int seen_a = 0, seen_b = 0;
	for (int i = 0; i < 2; i++) {
		r = xwaitpid(-1, &st, 0);
		if (r == a && exited_with(st, 1))
			seen_a++;
		if (r == b && exited_with(st, 2))
			seen_b++;
	}
	CHECK(seen_a == 1 && seen_b == 1, "waitpid(-1) twice reaps both children with their statuses");

	/* waitpid(0): children in our process group. */
	a = xfork();
	if (a == 0)
		_exit(4);
	r = xwaitpid(0, &st, 0);
	CHECK(r == a && exited_with(st, 4), "waitpid(0) reaps a child in our process group");
}

static void waitid_tests(void)
{
	int release;
	pid_t pid = fork_held(17, &release);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0,
	      "waitid(WNOHANG) on a running child: 0 and si_pid == 0");
	close(release);

	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0, "waitid(P_PID, WEXITED|WNOWAIT)");
	CHECK(si.si_pid == pid && si.si_signo == SIGCHLD && si.si_code == CLD_EXITED &&
	      si.si_status == 17,
	      "WNOWAIT: si_pid, si_signo == SIGCHLD, si_code == CLD_EXITED, si_status == 17");
	CHECK(si.si_uid == getuid(), "si_uid == getuid()");
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_ALL, 0, &si, WEXITED | WNOWAIT) == 0 && si.si_pid == pid,
	      "WNOWAIT left the child waitable: waitid(P_ALL, WNOWAIT) finds it again");
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WEXITED) == 0 && si.si_pid == pid && si.si_status == 17,
	      "waitid(P_PID, WEXITED) reaps it");
	CHECK_ERR(waitid(P_PID, pid, &si, WEXITED), ECHILD, "waitid of the reaped child");
	CHECK_ERR(waitid(P_ALL, 0, &si, WEXITED), ECHILD, "waitid(P_ALL) with no children");
	CHECK_ERR(waitid(P_PID, getpid(), &si, 0), EINVAL, "waitid without WEXITED/WSTOPPED/WCONTINUED");

	/* A signalled child: CLD_KILLED. */
	pid = xfork();
	if (pid == 0) {
		raise(SIGKILL);
		_exit(1);
	}
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PID, pid, &si, WEXITED) == 0 && si.si_pid == pid &&
	      si.si_code == CLD_KILLED && si.si_status == SIGKILL,
	      "waitid of a SIGKILLed child: CLD_KILLED, si_status == SIGKILL");

	/* P_PGID: a child in its own process group. */
	int ready[2], go[2];
	xpipe(ready);
	xpipe(go);
	pid = xfork();
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		setpgid(0, 0);
		send_token(ready[1]);
		wait_token(go[0]);
		_exit(23);
	}
	close(ready[1]);
	close(go[0]);
	setpgid(pid, pid); /* also done by the child: no race */
	wait_token(ready[0]);
	CHECK(getpgid(pid) == pid, "child is leader of its own process group");
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PGID, pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0,
	      "waitid(P_PGID, WNOHANG) while it runs: si_pid == 0");
	CHECK_ERR(waitid(P_PGID, getpgrp(), &si, WEXITED | WNOHANG), ECHILD,
		  "waitid(P_PGID, our own group) when no child is in it");
	close(go[1]);
	memset(&si, 0, sizeof si);
	CHECK(waitid(P_PGID, pid, &si, WEXITED) == 0 && si.si_pid == pid &&
	      si.si_code == CLD_EXITED && si.si_status == 23,
	      "waitid(P_PGID, its group) reaps it with status 23");
	close(ready[0]);

	/* waitpid(-pgid) likewise. */
	pid = xfork();
	if (pid == 0) {
		setpgid(0, 0);
		_exit(24);
	}
	setpgid(pid, pid);
	int st = 0;
	pid_t r = xwaitpid(-pid, &st, 0);
	CHECK(r == pid && exited_with(st, 24), "waitpid(-pgid) reaps the child in that group");
}

static void zombie(void)
{
	pid_t pid = xfork();
	if (pid == 0)
		_exit(5);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	/* Wait until it is a zombie, without reaping it. */
	CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0 && si.si_pid == pid,
	      "waitid(WNOWAIT): the child has exited");
	CHECK(kill(pid, 0) == 0, "kill(zombie, 0) == 0: it exists until reaped");
	CHECK(getpgid(pid) >= 0, "getpgid(zombie) succeeds");
	CHECK(kill(pid, SIGKILL) == 0, "kill(zombie, SIGKILL) succeeds and does nothing");
	CHECK(exited_with(wait_status(pid), 5), "reaping the zombie: status 5, not SIGKILL");
	CHECK_ERR(kill(pid, 0), ESRCH, "kill(reaped child, 0)");
}

static void orphan(void)
{
	/* Make ourselves the subreaper: orphaned descendants come to us (not to
	 * init, whatever init is in this container). */
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, "prctl(PR_SET_CHILD_SUBREAPER, 1)");
	int flag = -1;
	CHECK(prctl(PR_GET_CHILD_SUBREAPER, &flag, 0, 0, 0) == 0 && flag == 1,
	      "PR_GET_CHILD_SUBREAPER == 1");
	pid_t me = getpid();
	int up[2], down[2];
	xpipe(up);
	xpipe(down);
	pid_t child = xfork();
	if (child == 0) {
		pid_t mid = getpid();
		int seen[2];
		xpipe(seen);
		pid_t g = xfork();
		if (g == 0) {
			close(up[0]);
			close(down[1]);
			int before = getppid() == mid;
			send_token(seen[1]); /* the middle process may go now */
			wait_token(down[0]); /* it is gone */
			send_int(up[1], before);
			send_int(up[1], getppid() == me);
			child_exit(31);
		}
		wait_token(seen[0]);
		send_int(up[1], g);
		child_exit(0); /* orphans g */
	}
	close(up[1]);
	close(down[0]);
	pid_t g = recv_int(up[0]);
	CHECK(exited_with(wait_status(child), 0), "the middle process exits 0");
	/* After the reap the grandchild has been re-parented. */
	send_token(down[1]);
	CHECK(recv_int(up[0]) == 1, "grandchild: getppid() was the middle process");
	CHECK(recv_int(up[0]) == 1, "grandchild: getppid() is the subreaper after its parent exits");
	CHECK(exited_with(wait_status(g), 31), "the subreaper reaps the orphan with waitpid: status 31");
	close(up[0]);
	close(down[1]);
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
}

static void sigchld(void)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGCHLD, &sa, &old);
	pid_t a = xfork();
	if (a == 0)
		_exit(1);
	pid_t b = xfork();
	if (b == 0)
		_exit(2);
	int st;
	/* wait blocks until both are gone, then fails: they were auto-reaped. */
	CHECK_ERR(waitpid(-1, &st, 0), ECHILD, "SIGCHLD ignored: waitpid(-1) after the children exit");
	CHECK_ERR(kill(a, 0), ESRCH, "SIGCHLD ignored: no zombie left (kill(child, 0))");
	sigaction(SIGCHLD, &old, NULL);

	/* SA_NOCLDWAIT likewise. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	sigaction(SIGCHLD, &sa, NULL);
	a = xfork();
	if (a == 0)
		_exit(3);
	CHECK_ERR(waitpid(a, &st, 0), ECHILD, "SA_NOCLDWAIT: waitpid(child)");
	sigaction(SIGCHLD, &old, NULL);

	/* Back to SIG_DFL: children are waitable again. */
	a = xfork();
	if (a == 0)
		_exit(4);
	CHECK(exited_with(wait_status(a), 4), "SIGCHLD back to SIG_DFL: child waitable again");
}

#define MANY 50

static void many(void)
{
	pid_t pids[MANY];
	for (int i = 0; i < MANY; i++) {
		pids[i] = xfork();
		if (pids[i] == 0)
			_exit(i + 1);
	}
	int distinct = 1;
	for (int i = 0; i < MANY; i++)
		for (int j = 0; j < i; j++)
			if (pids[i] == pids[j])
				distinct = 0;
	CHECK(distinct, "%d children have distinct pids", MANY);
	int seen[MANY] = { 0 };
	int ok = 1;
	for (int i = 0; i < MANY; i++) {
		int st;
		pid_t r = xwaitpid(-1, &st, 0);
		int k = -1;
		for (int j = 0; j < MANY; j++)
			if (pids[j] == r)
				k = j;
		if (k < 0 || !exited_with(st, k + 1) || seen[k]++)
			ok = 0;
	}
	CHECK(ok, "waitpid(-1) %d times: each child once, with its own status", MANY);
	int st;
	CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD, "then no children are left");
}

#define DEPTH 20

/* Returns (as exit status) the number of levels below: each level forks the
 * next and adds one to its status. */
static __attribute__((noreturn)) void chain_level(int level, pid_t parent)
{
	int ok = getppid() == parent;
	if (level == DEPTH)
		child_exit(ok ? 0 : 200);
	pid_t me = getpid();
	pid_t pid = fork();
	if (pid < 0)
		child_exit(201);
	if (pid == 0)
		chain_level(level + 1, me);
	int st = wait_status(pid);
	if (!ok || !WIFEXITED(st) || WEXITSTATUS(st) >= 200)
		child_exit(WIFEXITED(st) && WEXITSTATUS(st) >= 200 ? WEXITSTATUS(st) : 202);
	child_exit(WEXITSTATUS(st) + 1);
}

static void chain(void)
{
	pid_t me = getpid();
	pid_t pid = xfork();
	if (pid == 0)
		chain_level(1, me);
	int st = wait_status(pid);
	CHECK(WIFEXITED(st), "fork chain: exits normally");
	printf("fork chain of depth %d: %d levels below the first\n", DEPTH,
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	CHECK(exited_with(st, DEPTH - 1), "every level saw getppid() == its parent's pid");
}

int main(int argc, char **argv)
{
	guest_init("fork_c");
	proc_alarm(20);
	if (select_section(argc, argv, SECTIONS))
		return 2;
	if (section("status"))
		status_macros();
	if (section("cow"))
		cow();
	if (section("wait"))
		wait_errors();
	if (section("waitid"))
		waitid_tests();
	if (section("zombie"))
		zombie();
	if (section("orphan"))
		orphan();
	if (section("sigchld"))
		sigchld();
	if (section("many"))
		many();
	if (section("chain"))
		chain();
	return guest_done();
}
