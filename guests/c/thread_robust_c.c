/*
 * Robust futexes and FUTEX_WAKE_OP: a robust mutex whose owner thread
 * exits while holding it is handed to the next locker with EOWNERDEAD (the
 * kernel walks the dead thread's robust list); the same for a
 * process-shared robust mutex in MAP_SHARED memory whose owner process
 * exits, or execs (execve walks the robust list of the memory it leaves:
 * kernel/futex/core.c futex_exec_release); FUTEX_WAKE_OP changes the second word atomically and wakes by its
 * comparison.
 */
#include "thread.h"

#include <fcntl.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

static pthread_mutex_t *robust_init(pthread_mutex_t *m, int pshared)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (pshared)
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return m;
}

static pthread_mutex_t tm;

static void *lock_and_leave(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&tm);
	return NULL; /* exits holding the lock */
}

static void thread_owner_dies(void)
{
	robust_init(&tm, 0);
	pthread_t t;
	xpthread_create(&t, NULL, lock_and_leave, NULL);
	pthread_join(t, NULL);
	int r = pthread_mutex_lock(&tm);
	CHECK(r == EOWNERDEAD, "lock after the owner thread exited: EOWNERDEAD (%s)",
	      errno_name(r));
	CHECK(pthread_mutex_consistent(&tm) == 0, "pthread_mutex_consistent");
	CHECK(pthread_mutex_unlock(&tm) == 0 && pthread_mutex_lock(&tm) == 0,
	      "unlock and lock again: 0");
	pthread_mutex_unlock(&tm);
}

/* A process-shared robust mutex in MAP_SHARED memory (NULL: no memory). */
static pthread_mutex_t *shared_robust(void)
{
	pthread_mutex_t *m = mmap(NULL, sizeof *m, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		printf("mmap: -1 %s\n", errno_name(errno));
		return NULL;
	}
	return robust_init(m, 1);
}

static void process_owner_dies(void)
{
	pthread_mutex_t *m = shared_robust();
	if (!m)
		return;
	pid_t pid = xfork();
	if (pid == 0) {
		pthread_mutex_lock(m);
		child_exit(0);
	}
	CHECK(exited_with(wait_status(pid), 0), "the owner process exits holding the lock");
	int r = pthread_mutex_lock(m);
	CHECK(r == EOWNERDEAD, "shared robust mutex: EOWNERDEAD (%s)", errno_name(r));
	pthread_mutex_consistent(m);
	pthread_mutex_unlock(m);
	munmap(m, sizeof *m);
}

static void process_owner_execs(void)
{
	pthread_mutex_t *m = shared_robust();
	if (!m)
		return;
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		printf("pipe2: -1 %s\n", errno_name(errno));
		return;
	}
	pid_t pid = xfork();
	if (pid == 0) {
		close(p[0]);
		pthread_mutex_lock(m);
		execl("/bin/sleep", "sleep", "10", (char *)NULL);
		child_exit(127);
	}
	close(p[1]);
	char c;
	/* EOF: the child's exec closed the write end. */
	CHECK(read(p[0], &c, 1) == 0, "the owner execs (its close-on-exec pipe end closes)");
	close(p[0]);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	int r = pthread_mutex_timedlock(m, &until);
	CHECK(r == EOWNERDEAD, "the owner still runs another program: EOWNERDEAD (%s)",
	      errno_name(r));
	if (r == EOWNERDEAD) {
		pthread_mutex_consistent(m);
		pthread_mutex_unlock(m);
	}
	kill(pid, SIGKILL);
	CHECK(killed_by(wait_status(pid), SIGKILL), "the exec'd owner is killed");
	munmap(m, sizeof *m);
}

static int fa, fb;
static volatile int waiting;

static void *wait_on_fa(void *arg)
{
	(void)arg;
	waiting = 1;
	while (__atomic_load_n(&fa, __ATOMIC_SEQ_CST) == 0)
		syscall(SYS_futex, &fa, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return NULL;
}

static void wake_op(void)
{
	/* Nobody waits: the op still runs. *fb = 5 -> SET 7, old 5 > 1. */
	fb = 5;
	long r = syscall(SYS_futex, &fa, FUTEX_WAKE_OP_PRIVATE, 1, 1, &fb,
			 FUTEX_OP(FUTEX_OP_SET, 7, FUTEX_OP_CMP_GT, 1));
	CHECK(r == 0 && fb == 7, "FUTEX_WAKE_OP SET with no waiters: 0, word set to 7");
	r = syscall(SYS_futex, &fa, FUTEX_WAKE_OP_PRIVATE, 1, 1, &fb,
		    FUTEX_OP((FUTEX_OP_ADD | FUTEX_OP_OPARG_SHIFT), 3, FUTEX_OP_CMP_EQ, 7));
	CHECK(r == 0 && fb == 15, "ADD with OPARG_SHIFT: 7 + (1 << 3) = 15");
	CHECK(syscall(SYS_futex, &fa, FUTEX_WAKE_OP_PRIVATE, 1, 1, &fb, (6u << 28)) == -1 &&
		      errno == ENOSYS,
	      "an unknown op: ENOSYS");

	/* A waiter on fa is woken by the first half. */
	pthread_t t;
	xpthread_create(&t, NULL, wait_on_fa, NULL);
	while (!waiting)
		sched_yield();
	long woken = 0;
	for (int i = 0; i < 2000 && woken == 0; i++) {
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
		__atomic_store_n(&fa, 1, __ATOMIC_SEQ_CST);
		woken = syscall(SYS_futex, &fa, FUTEX_WAKE_OP_PRIVATE, 1, 0, &fb,
				FUTEX_OP(FUTEX_OP_OR, 16, FUTEX_OP_CMP_NE, 0));
		__atomic_store_n(&fa, 0, __ATOMIC_SEQ_CST);
	}
	__atomic_store_n(&fa, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &fa, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pthread_join(t, NULL);
	CHECK(woken == 1 && (fb & 16), "a waiter on the first word is woken; OR applied");
}

int main(void)
{
	guest_init("thread_robust_c");
	proc_alarm(20);
	thread_owner_dies();
	process_owner_dies();
	process_owner_execs();
	wake_op();
	return guest_done();
}
