/*
 * Signals and threads: a process-directed signal goes to a thread that
 * does not block it; tgkill reaches exactly the thread named; a thread
 * blocked in read(2) gets EINTR from a handler without SA_RESTART and goes
 * on reading with SA_RESTART; sigwait in one thread takes a signal every
 * thread blocks; masks are per thread and inherited by pthread_create;
 * SIGSTOP stops every thread of a process before the parent hears of it
 * (waitpid(WUNTRACED) returns only then), and SIGCONT resumes them all.
 */
#include "thread.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

static volatile pid_t handled_by;
static volatile sig_atomic_t hits;

static void note_tid(int sig)
{
	(void)sig;
	handled_by = tid();
	hits++;
}

static void block(int sig, int how)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	pthread_sigmask(how, &s, NULL);
}

static int go[2];
static volatile pid_t worker_tid;

/* Unblocks SIGUSR1, reports its tid, then waits for the pipe to close. */
static void *worker(void *arg)
{
	(void)arg;
	block(SIGUSR1, SIG_UNBLOCK);
	worker_tid = tid();
	char c;
	while (read(go[0], &c, 1) != 0)
		;
	return NULL;
}

static void directed(void)
{
	set_handler(SIGUSR1, note_tid, SA_RESTART);
	block(SIGUSR1, SIG_BLOCK); /* the main thread blocks it; the worker inherits that */
	xpipe(go);
	pthread_t t;
	xpthread_create(&t, NULL, worker, NULL);
	while (!worker_tid)
		sched_yield();
	hits = 0;
	kill(getpid(), SIGUSR1);
	for (int i = 0; i < 2000 && !hits; i++)
		usleep(1000);
	CHECK(hits == 1 && handled_by == worker_tid,
	      "kill(getpid()): handled by the one thread that does not block it");
	hits = 0;
	syscall(SYS_tgkill, getpid(), worker_tid, SIGUSR1);
	for (int i = 0; i < 2000 && !hits; i++)
		usleep(1000);
	CHECK(hits == 1 && handled_by == worker_tid, "tgkill reaches the thread named");
	sigset_t pend;
	raise(SIGUSR1); /* to the main thread, which blocks it */
	sigpending(&pend);
	CHECK(sigismember(&pend, SIGUSR1) && hits == 1,
	      "raise in a thread that blocks it: pending for that thread only");
	close(go[1]);
	pthread_join(t, NULL);
	close(go[0]);
	block(SIGUSR1, SIG_UNBLOCK); /* delivered now, on this thread */
	CHECK(hits == 2 && handled_by == tid(), "unblocked: delivered to the main thread");
}

static volatile int read_ret, read_err;

static void *reader(void *arg)
{
	(void)arg;
	char c;
	worker_tid = tid();
	read_ret = (int)read(go[0], &c, 1);
	read_err = errno;
	return NULL;
}

static void interrupted_read(int flags, const char *what, int expect_ret, int expect_err)
{
	set_handler(SIGUSR2, note_tid, flags);
	xpipe(go);
	worker_tid = 0;
	pthread_t t;
	xpthread_create(&t, NULL, reader, NULL);
	while (!worker_tid)
		sched_yield();
	usleep(50000); /* let it block in read */
	hits = 0;
	syscall(SYS_tgkill, getpid(), worker_tid, SIGUSR2);
	for (int i = 0; i < 2000 && !hits; i++)
		usleep(1000);
	usleep(20000);
	if (expect_ret == 1)
		write(go[1], "x", 1); /* restarted: give it its byte */
	pthread_join(t, NULL);
	close_pipe(go);
	CHECK(hits == 1 && read_ret == expect_ret && (expect_ret != -1 || read_err == expect_err),
	      "%s", what);
}

static void *sigwaiter(void *arg)
{
	(void)arg;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGRTMIN);
	int sig = 0;
	worker_tid = tid();
	sigwait(&s, &sig);
	return (void *)(long)sig;
}

static void waited(void)
{
	block(SIGRTMIN, SIG_BLOCK);
	worker_tid = 0;
	pthread_t t;
	xpthread_create(&t, NULL, sigwaiter, NULL);
	while (!worker_tid)
		sched_yield();
	usleep(20000);
	kill(getpid(), SIGRTMIN);
	void *r;
	pthread_join(t, &r);
	CHECK((long)r == SIGRTMIN, "sigwait in a thread takes a signal all threads block");
	block(SIGRTMIN, SIG_UNBLOCK);
}

/* Two threads that count in shared memory, and one blocked in read. */
static volatile long *counts;

static void *count_forever(void *arg)
{
	long i = (long)arg;
	for (;;)
		__atomic_add_fetch(&counts[i], 1, __ATOMIC_RELAXED);
	return NULL;
}

static void *read_forever(void *arg)
{
	char c;
	while (read((int)(long)arg, &c, 1) != 0)
		;
	return NULL;
}

static long total(void)
{
	return __atomic_load_n(&counts[0], __ATOMIC_RELAXED) +
	       __atomic_load_n(&counts[1], __ATOMIC_RELAXED);
}

static void pause_ms(long ms)
{
	struct timespec ts = {0, ms * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Waits (bounded) until the counters move; returns whether they did. */
static int counting(void)
{
	long before = total();
	for (int i = 0; i < 2000; i++) {
		if (total() != before)
			return 1;
		pause_ms(1);
	}
	return 0;
}

static void group_stop(void)
{
	counts = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED) {
		printf("mmap: -1 %s\n", errno_name(errno));
		return;
	}
	int p[2];
	xpipe(p);
	pid_t pid = xfork();
	if (pid == 0) {
		pthread_t t;
		xpthread_create(&t, NULL, count_forever, (void *)0L);
		xpthread_create(&t, NULL, count_forever, (void *)1L);
		xpthread_create(&t, NULL, read_forever, (void *)(long)p[0]);
		for (;;)
			pause();
	}
	close(p[0]);
	CHECK(counting(), "the child's threads count");
	int st;
	CHECK(kill(pid, SIGSTOP) == 0 && xwaitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st),
	      "SIGSTOP: waitpid(WUNTRACED) reports the stop");
	long at_report = total();
	pause_ms(30);
	CHECK(total() == at_report, "every thread had stopped when the stop was reported");
	CHECK(kill(pid, SIGCONT) == 0 && xwaitpid(pid, &st, WCONTINUED) == pid && WIFCONTINUED(st),
	      "SIGCONT: waitpid(WCONTINUED) reports it");
	CHECK(counting(), "the threads count again");
	kill(pid, SIGKILL);
	CHECK(killed_by(wait_status(pid), SIGKILL), "SIGKILL ends the stopped-and-continued child");
	close(p[1]);
	munmap((void *)counts, 4096);
}

int main(void)
{
	guest_init("thread_signal_c");
	proc_alarm(20);
	directed();
	interrupted_read(0, "read interrupted by a handler without SA_RESTART: -1 EINTR", -1, EINTR);
	interrupted_read(SA_RESTART, "with SA_RESTART the read goes on and returns its byte", 1, 0);
	waited();
	group_stop();
	return guest_done();
}
