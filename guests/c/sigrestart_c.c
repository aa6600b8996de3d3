/*
 * Signals that interrupt blocking syscalls: SA_RESTART restarts a read on
 * an empty pipe, without it the read fails with EINTR; pause() returns
 * EINTR after an alarm; a periodic ITIMER_REAL keeps firing; sigtimedwait
 * times out. Timers are 10-20 ms so the guest stays fast.
 */
#include "guest.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int pipefd[2];
static volatile sig_atomic_t alarms, feed;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
	/* With SA_RESTART the read is restarted: give it something to read. */
	if (feed)
		write(pipefd[1], "x", 1);
}

static void set_alarm(int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static void arm(long usec, long interval)
{
	struct itimerval it = {{0, interval}, {0, usec}};
	setitimer(ITIMER_REAL, &it, NULL);
}

int main(void)
{
	guest_init("sigrestart_c");
	alarm(10);
	if (pipe(pipefd) != 0)
		return 2;
	char c;

	set_alarm(SA_RESTART);
	feed = 1;
	alarms = 0;
	arm(20000, 0);
	ssize_t n = read(pipefd[0], &c, 1);
	CHECK(n == 1 && c == 'x' && alarms == 1, "SA_RESTART: read restarted and got the handler's byte");

	set_alarm(0);
	feed = 0;
	alarms = 0;
	arm(20000, 0);
	errno = 0;
	n = read(pipefd[0], &c, 1);
	CHECK(n == -1 && errno == EINTR && alarms == 1, "no SA_RESTART: read fails with EINTR");

	alarms = 0;
	arm(10000, 0);
	errno = 0;
	int r = pause();
	CHECK(r == -1 && errno == EINTR && alarms == 1, "pause: -1 EINTR after the alarm handler");

	/* Periodic timer: three expiries, each seen by sigsuspend. */
	sigset_t s, old, none;
	sigemptyset(&s);
	sigaddset(&s, SIGALRM);
	sigprocmask(SIG_BLOCK, &s, &old);
	sigemptyset(&none);
	alarms = 0;
	arm(5000, 5000);
	while (alarms < 3)
		sigsuspend(&none);
	arm(0, 0);
	struct itimerval cur;
	getitimer(ITIMER_REAL, &cur);
	CHECK(alarms == 3 && cur.it_value.tv_sec == 0 && cur.it_value.tv_usec == 0,
	      "periodic ITIMER_REAL fired 3 times, then disarmed");
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* sigtimedwait with a timeout and nothing pending. */
	sigprocmask(SIG_BLOCK, &s, NULL);
	struct timespec t0, t1, wait = {0, 10 * 1000 * 1000};
	siginfo_t si;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	errno = 0;
	r = sigtimedwait(&s, &si, &wait);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(r == -1 && errno == EAGAIN, "sigtimedwait(10 ms), nothing pending: EAGAIN");
	CHECK(ms >= 9, "sigtimedwait waited for the timeout");

	/* A timer expiring while blocked is taken by sigtimedwait. */
	arm(5000, 0);
	struct timespec longer = {2, 0};
	r = sigtimedwait(&s, &si, &longer);
	CHECK(r == SIGALRM && si.si_code == SI_KERNEL, "sigtimedwait takes the timer's SIGALRM (SI_KERNEL)");

	return guest_done();
}
