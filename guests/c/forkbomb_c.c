/*
 * A bounded fork bomb: `forkbomb_c [MAX [ROUNDS]]` (MAX defaults to 100, at
 * most 10000) forks children that pause() until fork fails or MAX children
 * exist, then kills them all with one kill(-pgid, SIGTERM) and reaps them;
 * ROUNDS times (default 1: every round must get as many children as the
 * first, so the task slots of reaped children are given back).
 *
 * The forking is done by a manager child that first makes a process group
 * of its own (setpgid(0, 0)), so the group it signals holds only itself
 * (SIGTERM ignored) and its children. The top process is a child subreaper:
 * once the manager is reaped, waitpid(-1, WNOHANG) failing with ECHILD shows
 * that no process was left behind.
 *
 * Natively (as the harness runs it, without arguments) fork never fails
 * before the cap. Under `umk run --max-tasks N` with a large MAX, fork fails
 * with EAGAIN after fewer than N children; the test reads the numbers.
 */
#include "proc.h"

#include <sys/prctl.h>

#define DEFAULT_MAX 100
#define HARD_MAX 10000

/* One round: forks until fork fails or `max` children exist, kills and
 * reaps them; returns how many there were. */
static int bomb(int max)
{
	static pid_t kids[HARD_MAX];
	int n = 0, err = 0;
	/* The children inherit this; we ignore SIGTERM only once they exist. */
	signal(SIGTERM, SIG_DFL);
	fflush(stdout);
	while (n < max) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			alarm(20); /* safety net */
			for (;;)
				pause();
		}
		kids[n++] = pid;
	}
	printf("children forked: %d\n", n);
	printf("stopped at the cap of %d: %s\n", max, n == max ? "yes" : "no");
	printf("fork failed with EAGAIN: %s\n", err == EAGAIN ? "yes" : "no");
	CHECK(err == 0 || err == EAGAIN, "fork succeeded or failed with EAGAIN (not another error)");

	/* Kill the whole group but ourselves. */
	signal(SIGTERM, SIG_IGN);
	CHECK(kill(-getpid(), SIGTERM) == 0, "kill(-our own pgid, SIGTERM)");
	int killed = 0, others = 0;
	for (int i = 0; i < n; i++) {
		int st = wait_status(kids[i]);
		if (killed_by(st, SIGTERM))
			killed++;
		else
			others++;
	}
	CHECK(killed == n && others == 0, "all children killed by SIGTERM and reaped");
	int st;
	CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD, "manager: no child left");
	return n;
}

static __attribute__((noreturn)) void manager(int max, int rounds)
{
	if (setpgid(0, 0) != 0 || getpgrp() != getpid()) {
		printf("manager: setpgid(0, 0) failed: %s\n", errno_name(errno));
		child_exit(3);
	}
	int first = bomb(max), same = 1;
	for (int r = 2; r <= rounds; r++) {
		printf("round %d\n", r);
		same &= bomb(max) == first;
	}
	if (rounds > 1)
		CHECK(same, "every round forked as many children as the first");
	child_done();
}

int main(int argc, char **argv)
{
	guest_init("forkbomb_c");
	proc_alarm(30);
	int max = argc > 1 ? atoi(argv[1]) : DEFAULT_MAX;
	int rounds = argc > 2 ? atoi(argv[2]) : 1;
	if (max < 1 || max > HARD_MAX || rounds < 1 || rounds > 10) {
		printf("usage: forkbomb_c [MAX (1..%d) [ROUNDS (1..10)]]\n", HARD_MAX);
		return 2;
	}
	CHECK(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0, "prctl(PR_SET_CHILD_SUBREAPER)");
	pid_t pid = xfork();
	if (pid == 0)
		manager(max, rounds);
	CHECK(exited_with(wait_status(pid), 0), "the manager's checks passed");
	int st;
	CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD, "no process left behind");
	return guest_done();
}
