/*
 * How threads end processes, each case in a forked child whose wait status
 * is checked: a thread calling exit() (atexit handlers run once) or _exit(),
 * main returning while threads block, the main thread calling pthread_exit
 * while another thread finishes the work, one thread's SYS_exit, SIGKILL
 * and a fault in a thread kill every thread, fork from a thread (the child
 * has one thread), execve from a non-main thread (the new image has the
 * process's pid).
 *
 * `thread_exit_c [SECTION]` runs one section (all of them without an
 * argument). Prints only relations, never pids.
 */
#include "thread.h"

#include <pthread.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

static const char *const SECTIONS[] = {
	"exit", "_exit", "return", "pthread_exit", "sys_exit", "kill", "fault", "fork", "exec", NULL,
};

static const char *self;



/* A pipe nobody writes to: threads block reading it until the process
 * ends. */
static int block_fd = -1;

static void *block_forever(void *arg)
{
	(void)arg;
	char c;
	for (;;)
		if (read(block_fd, &c, 1) <= 0)
			pause();
	return NULL;
}

/* Starts n threads that block; in a child. */
static void start_blockers(int n)
{
	int p[2];
	xpipe(p);
	block_fd = p[0]; /* p[1] stays open: reads block */
	for (int i = 0; i < n; i++) {
		pthread_t t;
		if (xpthread_create(&t, NULL, block_forever, NULL) != 0)
			child_exit(120);
	}
}

static void no_core(void)
{
	struct rlimit rl = { 0, 0 };
	setrlimit(RLIMIT_CORE, &rl);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* ------------------------------------------------------------------------ */

static void at_exit_handler(void)
{
	printf("  child: atexit handler ran (thread is main: %s)\n", tid() == getpid() ? "yes" : "no");
}

static void *call_exit(void *arg)
{
	exit((int)(intptr_t)arg);
}

static void *call__exit(void *arg)
{
	_exit((int)(intptr_t)arg);
}

static void exit_from_thread(void)
{
	pid_t pid = xfork();
	if (pid == 0) {
		atexit(at_exit_handler);
		start_blockers(2);
		pthread_t t;
		xpthread_create(&t, NULL, call_exit, (void *)3);
		block_forever(NULL); /* main blocks too */
	}
	CHECK(exited_with(wait_status(pid), 3),
	      "a thread calls exit(3) while main and 2 threads block: process exits 3");
}

static void _exit_from_thread(void)
{
	pid_t pid = xfork();
	if (pid == 0) {
		atexit(at_exit_handler); /* must not run */
		start_blockers(2);
		pthread_t t;
		xpthread_create(&t, NULL, call__exit, (void *)4);
		block_forever(NULL);
	}
	CHECK(exited_with(wait_status(pid), 4), "a thread calls _exit(4): process exits 4");
}

static void main_returns(void)
{
	pid_t pid = xfork();
	if (pid == 0) {
		start_blockers(3);
		exit(5); /* as if main returned 5 */
	}
	CHECK(exited_with(wait_status(pid), 5), "main exits 5 while 3 threads block: process exits 5");
}

/* ------------------------------------------------------------------------ */

static int report_fd = -1;
static pid_t main_tid;

static void *outlive_main(void *arg)
{
	(void)arg;
	/* Wait until main's pthread_exit has happened: the go pipe closes. */
	int go = (int)(intptr_t)arg;
	char c;
	(void)read(go, &c, 1);
	send_int(report_fd, getpid() == main_tid);
	send_token(report_fd);
	return NULL; /* the last thread: the process exits 0 */
}

static void main_pthread_exit(void)
{
	int rep[2], go[2];
	xpipe(rep);
	xpipe(go);
	pid_t pid = xfork();
	if (pid == 0) {
		close(rep[0]);
		close(go[1]);
		report_fd = rep[1];
		main_tid = getpid();
		pthread_t t;
		xpthread_create(&t, NULL, outlive_main, (void *)(intptr_t)go[0]);
		pthread_exit(NULL);
	}
	close(rep[1]);
	close(go[0]);
	/* Whether or not main is gone yet, the other thread is waiting. */
	CHECK(kill(pid, 0) == 0, "main calls pthread_exit, the other thread waits: the process exists");
	int st = 0;
	CHECK(xwaitpid(pid, &st, WNOHANG) == 0, "and is not waitable");
	close(go[1]);
	CHECK(recv_int(rep[0]) == 1, "the other thread still sees getpid() == the process's pid");
	CHECK(wait_token(rep[0]) == 0, "the other thread kept running after main's pthread_exit");
	CHECK(exited_with(wait_status(pid), 0), "when it returns, the process exits 0");
	close(rep[0]);
}

/* ------------------------------------------------------------------------ */

static void *sys_exit_thread(void *arg)
{
	(void)arg;
	syscall(SYS_exit, 77); /* only this thread */
	return NULL;
}

static void sys_exit(void)
{
	pid_t pid = xfork();
	if (pid == 0) {
		pthread_t t;
		xpthread_create(&t, NULL, sys_exit_thread, NULL);
		/* Cannot pthread_join a thread that bypassed pthread_exit
		 * reliably; just give it time to go. */
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		child_exit(8);
	}
	CHECK(exited_with(wait_status(pid), 8),
	      "a thread's SYS_exit(77) ends only that thread: the process exits 8");
}

static void kill_threads(void)
{
	int ready[2];
	xpipe(ready);
	pid_t pid = xfork();
	if (pid == 0) {
		close(ready[0]);
		start_blockers(4);
		send_token(ready[1]);
		block_forever(NULL);
	}
	close(ready[1]);
	wait_token(ready[0]);
	close(ready[0]);
	CHECK(kill(pid, SIGKILL) == 0, "kill(process with 5 threads, SIGKILL)");
	CHECK(killed_by(wait_status(pid), SIGKILL), "killed by SIGKILL");

	xpipe(ready);
	pid = xfork();
	if (pid == 0) {
		close(ready[0]);
		start_blockers(4);
		send_token(ready[1]);
		block_forever(NULL);
	}
	close(ready[1]);
	wait_token(ready[0]);
	close(ready[0]);
	CHECK(kill(pid, SIGTERM) == 0, "kill(process with 5 threads, SIGTERM)");
	CHECK(killed_by(wait_status(pid), SIGTERM), "killed by SIGTERM");
}

static void *fault(void *arg)
{
	*(volatile int *)arg = 1;
	return NULL;
}

static void fault_in_thread(void)
{
	pid_t pid = xfork();
	if (pid == 0) {
		no_core();
		start_blockers(2);
		pthread_t t;
		xpthread_create(&t, NULL, fault, NULL);
		block_forever(NULL);
	}
	CHECK(killed_by(wait_status(pid), SIGSEGV), "a thread writes to NULL: the process is killed by SIGSEGV");
}

/* ------------------------------------------------------------------------ */

static void *fork_thread(void *arg)
{
	(void)arg;
	pid_t parent = getpid();
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		/* Only this thread was copied: it is the child's main thread. */
		int ok = getpid() == tid() && getppid() == parent;
		_exit(ok ? 6 : 1);
	}
	return (void *)(intptr_t)(pid > 0 ? wait_status(pid) : -1);
}

static void fork_from_thread(void)
{
	pid_t pid = xfork();
	if (pid == 0) {
		start_blockers(2);
		pthread_t t;
		void *r;
		xpthread_create(&t, NULL, fork_thread, NULL);
		pthread_join(t, &r);
		child_exit(exited_with((int)(intptr_t)r, 6) ? 0 : 1);
	}
	CHECK(exited_with(wait_status(pid), 0),
	      "fork from a thread: the child's only thread has gettid() == getpid(), getppid() == the process");
}

/* ------------------------------------------------------------------------ */

static char expect_pid[32];

static void *exec_thread(void *arg)
{
	(void)arg;
	char *argv[] = { (char *)self, NULL };
	char *envp[] = { "THREAD_EXIT_C_ROLE=exec", expect_pid, NULL };
	execve(self, argv, envp);
	_exit(127);
}

static int exec_image(void)
{
	const char *e = getenv("EXPECT_PID");
	int ok = e && getpid() == atoi(e) && tid() == getpid();
	return ok ? 9 : 1;
}

static void exec_from_thread(void)
{
	pid_t pid = xfork();
	if (pid == 0) {
		snprintf(expect_pid, sizeof expect_pid, "EXPECT_PID=%d", (int)getpid());
		start_blockers(2);
		pthread_t t;
		xpthread_create(&t, NULL, exec_thread, NULL);
		block_forever(NULL);
	}
	CHECK(exited_with(wait_status(pid), 9),
	      "execve from a non-main thread: other threads are gone, the image has the process's pid");
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (getenv("THREAD_EXIT_C_ROLE"))
		return exec_image();
	guest_init("thread_exit_c");
	proc_alarm(20);
	if (select_section(argc, argv, SECTIONS))
		return 2;
	if (section("exit"))
		exit_from_thread();
	if (section("_exit"))
		_exit_from_thread();
	if (section("return"))
		main_returns();
	if (section("pthread_exit"))
		main_pthread_exit();
	if (section("sys_exit"))
		sys_exit();
	if (section("kill"))
		kill_threads();
	if (section("fault"))
		fault_in_thread();
	if (section("fork"))
		fork_from_thread();
	if (section("exec"))
		exec_from_thread();
	return guest_done();
}
