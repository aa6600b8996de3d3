/*
 * Process groups and sessions: getpgrp/getpgid/setpgid/getsid/setsid and
 * their errors, kill() of a process group the guest made, kill(pid, 0), kill
 * errors.
 *
 * `pgrp_c [SECTION]` runs one section (all of them without an argument).
 * Signals go only to children and to process groups this guest created (and
 * checked to differ from its own); never kill(0, ...) or kill(-1, ...).
 * Prints only relations, never pids.
 */
#include "proc.h"

#include <limits.h>

static const char *const SECTIONS[] = {
	"ids", "setsid", "setpgid", "killpg", "kill", NULL,
};

/* A pid that does not exist: above any pid_max (at most 2^22). */
#define NO_PID (INT_MAX / 2)

static void ids(void)
{
	CHECK(getpgid(0) == getpgrp(), "getpgid(0) == getpgrp()");
	CHECK(getpgid(getpid()) == getpgrp(), "getpgid(getpid()) == getpgrp()");
	CHECK(getsid(0) == getsid(getpid()), "getsid(0) == getsid(getpid())");
	CHECK_ERR(getpgid(NO_PID), ESRCH, "getpgid(nonexistent pid)");
	CHECK_ERR(getsid(NO_PID), ESRCH, "getsid(nonexistent pid)");
	CHECK_ERR(getpgid(-1), ESRCH, "getpgid(-1)");

	/* A child starts in its parent's group and session. */
	pid_t pgrp = getpgrp(), sid = getsid(0);
	int up, go;
	pid_t pid = fork_linked(&up, &go);
	if (pid == 0) {
		send_int(up, getpgrp() == pgrp);
		send_int(up, getsid(0) == sid);
		wait_token(go);
		child_exit(0);
	}
	CHECK(recv_int(up) == 1, "child: getpgrp() == the parent's getpgrp()");
	CHECK(recv_int(up) == 1, "child: getsid(0) == the parent's getsid(0)");
	CHECK(getpgid(pid) == pgrp, "parent: getpgid(child) == getpgrp()");
	CHECK(getsid(pid) == sid, "parent: getsid(child) == getsid(0)");
	close(go);
	CHECK(exited_with(wait_status(pid), 0), "child exits 0");
	close(up);
}

static void setsid_tests(void)
{
	/* A child that is not a group leader may start a session. */
	pid_t parent_sid = getsid(0), parent_pgrp = getpgrp();
	int up, go;
	pid_t pid = fork_linked(&up, &go);
	if (pid == 0) {
		pid_t s = setsid();
		CHECK(s == getpid(), "child: setsid() returns the new session id == getpid()");
		CHECK(getsid(0) == getpid(), "child: getsid(0) == getpid()");
		CHECK(getpgrp() == getpid(), "child: getpgrp() == getpid()");
		CHECK(getsid(getppid()) == parent_sid, "child: the parent's session is unchanged");
		CHECK_ERR(setsid(), EPERM, "child: setsid() again (now a group leader)");
		CHECK_ERR(setpgid(0, parent_pgrp), EPERM,
			  "child: setpgid(0, the parent's group) (another session)");
		CHECK_ERR(setpgid(0, 0), EPERM, "child: setpgid(0, 0) of a session leader");
		send_token(up);
		wait_token(go);
		child_done();
	}
	wait_token(up);
	CHECK(getsid(pid) == pid, "parent: getsid(child) == child");
	CHECK(getpgid(pid) == pid, "parent: getpgid(child) == child");
	CHECK(getsid(0) == parent_sid && getpgrp() == parent_pgrp,
	      "parent: its own session and group are unchanged");
	CHECK_ERR(setpgid(pid, pid), EPERM, "parent: setpgid(child, child) of a session leader");
	CHECK_ERR(setpgid(pid, parent_pgrp), EPERM,
		  "parent: setpgid(child in another session, our group)");
	CHECK_ERR(setpgid(0, pid), EPERM, "parent: setpgid(0, group in another session)");
	CHECK(getpgrp() == parent_pgrp, "parent: still in its own group");
	close(go);
	CHECK(exited_with(wait_status(pid), 0), "child's checks passed");
	close(up);

	/* A group leader cannot start a session. */
	pid = xfork();
	if (pid == 0) {
		CHECK(setpgid(0, 0) == 0 && getpgrp() == getpid(), "child: setpgid(0, 0) makes it a group leader");
		CHECK_ERR(setsid(), EPERM, "child: setsid() as a process group leader");
		CHECK(getsid(0) == parent_sid, "child: still in the parent's session");
		child_done();
	}
	CHECK(exited_with(wait_status(pid), 0), "child's checks passed");

	/* The session survives its leader's child: a grandchild stays in it. */
	int p[2];
	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[0]);
		setsid();
		pid_t g = xfork();
		if (g == 0) {
			send_int(p[1], getsid(0) == getppid());
			send_int(p[1], getpgrp() == getppid());
			child_exit(0);
		}
		child_exit(exited_with(wait_status(g), 0) ? 0 : 1);
	}
	close(p[1]);
	CHECK(recv_int(p[0]) == 1, "grandchild: inherits the new session (getsid(0) == its leader)");
	CHECK(recv_int(p[0]) == 1, "grandchild: inherits the new group");
	CHECK(exited_with(wait_status(pid), 0), "session leader child exits 0");
	close(p[0]);
}

static void setpgid_tests(void)
{
	pid_t pgrp = getpgrp();
	CHECK_ERR(setpgid(0, -1), EINVAL, "setpgid(0, -1)");
	CHECK_ERR(setpgid(getpid(), INT_MIN), EINVAL, "setpgid(getpid(), INT_MIN)");
	CHECK_ERR(setpgid(NO_PID, 0), ESRCH, "setpgid(nonexistent pid, 0)");
	CHECK_ERR(setpgid(-5, 0), EINVAL, "setpgid(-5, 0)");
	CHECK_ERR(setpgid(0, getpgrp()), EPERM, "setpgid(0, getpgrp()) of a session leader");

	/* Two children: the first is made leader of a new group by its parent,
	 * the second joins it. */
	int ready[2], go[2];
	xpipe(ready);
	xpipe(go);
	pid_t a = xfork();
	if (a == 0) {
		close(ready[0]);
		close(go[1]);
		send_token(ready[1]);
		wait_token(go[0]);
		child_exit(getpgrp() == getpid() ? 0 : 1);
	}
	pid_t b = xfork();
	if (b == 0) {
		close(ready[0]);
		close(go[1]);
		send_token(ready[1]);
		wait_token(go[0]);
		child_exit(getpgrp() != getpgid(getppid()) ? 0 : 1);
	}
	close(ready[1]);
	close(go[0]);
	wait_token(ready[0]);
	wait_token(ready[0]);
	CHECK(setpgid(a, a) == 0, "setpgid(child a, child a)");
	CHECK(getpgid(a) == a, "getpgid(child a) == child a");
	CHECK(setpgid(b, a) == 0, "setpgid(child b, child a): joins a's group");
	CHECK(getpgid(b) == a, "getpgid(child b) == child a");
	CHECK(setpgid(b, b) == 0 && getpgid(b) == b, "setpgid(child b, child b): a group of its own");
	CHECK(setpgid(b, a) == 0 && getpgid(b) == a, "and back into a's group");
	CHECK(setpgid(b, 0) == 0 && getpgid(b) == b, "setpgid(child b, 0) means pgid = b");
	CHECK(setpgid(b, pgrp) == 0 && getpgid(b) == pgrp, "setpgid(child b, our group): back home");
	CHECK(setpgid(b, a) == 0, "into a's group again");

	/* A grandchild is not a child: ESRCH. */
	pid_t mid;
	int release;
	pid_t g = spawn_grandchild(&mid, &release);
	CHECK_ERR(setpgid(g, g), ESRCH, "setpgid(grandchild, grandchild)");
	CHECK_ERR(setpgid(g, 0), ESRCH, "setpgid(grandchild, 0)");
	CHECK(getpgid(g) == pgrp, "getpgid(grandchild) works: our group");
	/* A group that does not exist in our session. */
	CHECK_ERR(setpgid(mid, g), EPERM, "setpgid(child, pid of a non-leader as pgid)");
	close(release);
	CHECK(exited_with(wait_status(mid), 0), "middle child exits 0");

	close(go[1]);
	/* The children check for themselves; they report by exit status. */
	CHECK(exited_with(wait_status(a), 0), "child a: getpgrp() == getpid() after the parent's setpgid");
	CHECK(exited_with(wait_status(b), 0), "child b: no longer in the parent's group");
	close(ready[0]);
}

#define MEMBERS 4

static void killpg_tests(void)
{
	/* MEMBERS children in a new group led by the first. Each joins it
	 * itself and the parent moves it too, so there is no race; each says
	 * when it is in the group and then blocks. */
	pid_t pids[MEMBERS];
	int ready[2], hold[2];
	xpipe(ready);
	xpipe(hold);
	for (int i = 0; i < MEMBERS; i++) {
		pids[i] = xfork();
		if (pids[i] == 0) {
			close(ready[0]);
			close(hold[1]);
			setpgid(0, i == 0 ? 0 : pids[0]);
			send_token(ready[1]);
			wait_token(hold[0]); /* until killed */
			child_exit(50);
		}
		setpgid(pids[i], pids[0]);
	}
	close(ready[1]);
	close(hold[0]);
	for (int i = 0; i < MEMBERS; i++)
		wait_token(ready[0]);
	pid_t pg = pids[0];
	int in_group = 1;
	for (int i = 0; i < MEMBERS; i++)
		in_group &= getpgid(pids[i]) == pg;
	CHECK(in_group, "%d children in a new group led by the first", MEMBERS);
	if (!in_group || pg == getpgrp() || pg <= 1) {
		CHECK(0, "refusing to signal a group that is not ours alone");
		close(hold[1]);
		for (int i = 0; i < MEMBERS; i++)
			wait_status(pids[i]);
		return;
	}
	CHECK(kill(-pg, 0) == 0, "kill(-pgid, 0) == 0: the group exists");
	CHECK(kill(-pg, SIGTERM) == 0, "kill(-pgid, SIGTERM)");
	int all = 1, st;
	for (int i = 0; i < MEMBERS; i++) {
		pid_t r = xwaitpid(-pg, &st, 0);
		int k = -1;
		for (int j = 0; j < MEMBERS; j++)
			if (pids[j] == r)
				k = j;
		all &= k >= 0 && killed_by(st, SIGTERM);
	}
	CHECK(all, "waitpid(-pgid) %d times: every member killed by SIGTERM", MEMBERS);
	CHECK_ERR(kill(-pg, 0), ESRCH, "kill(-pgid, 0) once the group is gone");
	CHECK_ERR(waitpid(-pg, &st, WNOHANG), ECHILD, "waitpid(-pgid) once the group is gone");
	close(hold[1]);
	close(ready[0]);

	/* A signal the members ignore: they survive and are then killed with
	 * SIGKILL. */
	xpipe(ready);
	xpipe(hold);
	for (int i = 0; i < 2; i++) {
		pids[i] = xfork();
		if (pids[i] == 0) {
			close(ready[0]);
			close(hold[1]);
			signal(SIGUSR1, SIG_IGN);
			setpgid(0, i == 0 ? 0 : pids[0]);
			send_token(ready[1]);
			wait_token(hold[0]);
			child_exit(51);
		}
		setpgid(pids[i], pids[0]);
	}
	close(ready[1]);
	close(hold[0]);
	wait_token(ready[0]);
	wait_token(ready[0]);
	pg = pids[0];
	if (pg == getpgrp() || getpgid(pids[1]) != pg) {
		CHECK(0, "second group set up");
		close(hold[1]);
	} else {
		CHECK(kill(-pg, SIGUSR1) == 0, "kill(-pgid, SIGUSR1) (ignored by the members)");
		st = 0;
		CHECK(xwaitpid(-pg, &st, WNOHANG) == 0, "members still running");
		CHECK(kill(-pg, SIGKILL) == 0, "kill(-pgid, SIGKILL)");
	}
	CHECK(killed_by(wait_status(pids[0]), SIGKILL) && killed_by(wait_status(pids[1]), SIGKILL),
	      "both members killed by SIGKILL");
	close(hold[1]);
	close(ready[0]);
}

static void kill_tests(void)
{
	CHECK(kill(getpid(), 0) == 0, "kill(getpid(), 0) == 0");
	CHECK_ERR(kill(NO_PID, 0), ESRCH, "kill(nonexistent pid, 0)");
	CHECK_ERR(kill(NO_PID, SIGTERM), ESRCH, "kill(nonexistent pid, SIGTERM)");
	CHECK_ERR(kill(-NO_PID, 0), ESRCH, "kill(-nonexistent pgid, 0)");
	CHECK_ERR(kill(getpid(), 65), EINVAL, "kill(getpid(), 65)");
	CHECK_ERR(kill(getpid(), -1), EINVAL, "kill(getpid(), -1)");
	CHECK_ERR(kill(NO_PID, 65), ESRCH, "kill(nonexistent pid, 65): the pid is looked up first");

	int release;
	pid_t pid = fork_held(0, &release);
	CHECK(kill(pid, 0) == 0, "kill(running child, 0) == 0");
	CHECK_ERR(kill(pid, 100), EINVAL, "kill(child, 100)");
	close(release);
	CHECK(exited_with(wait_status(pid), 0), "child exits 0");
	CHECK_ERR(kill(pid, 0), ESRCH, "kill(reaped child, 0)");
	/* A signal to a child whose default action is to ignore it. */
	pid = fork_held(8, &release);
	CHECK(kill(pid, SIGCHLD) == 0 && kill(pid, SIGWINCH) == 0 && kill(pid, SIGURG) == 0,
	      "kill(child, SIGCHLD/SIGWINCH/SIGURG): ignored by default");
	close(release);
	CHECK(exited_with(wait_status(pid), 8), "the child lives on and exits 8");
}

static void sections(void)
{
	if (section("ids"))
		ids();
	if (section("setsid"))
		setsid_tests();
	if (section("setpgid"))
		setpgid_tests();
	if (section("killpg"))
		killpg_tests();
	if (section("kill"))
		kill_tests();
}

int main(int argc, char **argv)
{
	guest_init("pgrp_c");
	proc_alarm(20);
	if (select_section(argc, argv, SECTIONS))
		return 2;
	return in_new_session(sections);
}
