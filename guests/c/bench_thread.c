/*
 * bench_thread — thread costs, for `umk bench --suite process`.
 * (Built with -pthread: the guests' build script adds it to every guest
 * whose file name contains "thread".)
 *
 * Usage: bench_thread [-n ITERATIONS] [-t MAX_MS] [TEST...]
 * Tests: thread_create futex_pingpong (default: all).
 * Each test runs up to ITERATIONS iterations (defaults below) or stops after
 * MAX_MS milliseconds (default 1000), whichever comes first, and prints one
 * line `metric value unit` on stdout:
 *
 *   thread_create_join_us  pthread_create() of a thread that returns at
 *                          once + pthread_join(), per pair (default 20000)
 *   futex_pingpong_us      two threads hand a turn back and forth through
 *                          one futex word (raw FUTEX_WAIT/FUTEX_WAKE, private),
 *                          per round trip (default 200000)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ---- the tests ---- */

static void *empty_thread(void *arg) { return arg; }

static int op_create_join(void *ctx)
{
    (void)ctx;
    pthread_t t;
    int err = pthread_create(&t, NULL, empty_thread, NULL);
    if (!err)
        err = pthread_join(t, NULL);
    if (err) {
        fprintf(stderr, "bench_thread: pthread_create/join: %s\n", strerror(err));
        return -1;
    }
    return 0;
}

/* The futex word holds whose turn it is: 0 = main thread, 1 = partner. */
static atomic_int turn;
static atomic_int stop;
static atomic_int futex_failed;

static long futex(atomic_int *word, int op, int val)
{
    return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

/* Waits until it is `me`'s turn. */
static int await_turn(int me)
{
    int v;
    while ((v = atomic_load(&turn)) != me) {
        if (futex(&turn, FUTEX_WAIT_PRIVATE, v) < 0 && errno != EAGAIN && errno != EINTR) {
            perror("futex wait");
            atomic_store(&futex_failed, 1);
            return -1;
        }
    }
    return 0;
}

static int pass_turn(int to)
{
    atomic_store(&turn, to);
    if (futex(&turn, FUTEX_WAKE_PRIVATE, 1) < 0) {
        perror("futex wake");
        atomic_store(&futex_failed, 1);
        return -1;
    }
    return 0;
}

static void *partner(void *arg)
{
    (void)arg;
    for (;;) {
        if (await_turn(1))
            return NULL;
        if (atomic_load(&stop)) {
            pass_turn(0);
            return NULL;
        }
        if (pass_turn(0))
            return NULL;
    }
}

static int op_round_trip(void *ctx)
{
    (void)ctx;
    if (pass_turn(1) || await_turn(0) || atomic_load(&futex_failed))
        return -1;
    return 0;
}

static int futex_pingpong(const struct opts *o)
{
    pthread_t t;
    atomic_store(&turn, 0);
    atomic_store(&stop, 0);
    int err = pthread_create(&t, NULL, partner, NULL);
    if (err) {
        fprintf(stderr, "bench_thread: pthread_create: %s\n", strerror(err));
        return -1;
    }
    double ns = measure(op_round_trip, NULL, pick(o->n, 200000), pick(o->t_ms, 1000), 64);
    if (ns < 0) {
        /* The partner may be blocked for good; exiting the process ends it. */
        return -1;
    }
    atomic_store(&stop, 1);
    if (pass_turn(1) || await_turn(0))
        return -1;
    pthread_join(t, NULL);
    report("futex_pingpong_us", ns / 1000.0, "us");
    return 0;
}

static int test(const char *name, const struct opts *o)
{
    if (!strcmp(name, "thread_create")) {
        double ns = measure(op_create_join, NULL, pick(o->n, 20000), pick(o->t_ms, 1000), 16);
        if (ns < 0)
            return -1;
        report("thread_create_join_us", ns / 1000.0, "us");
        return 0;
    }
    if (!strcmp(name, "futex_pingpong"))
        return futex_pingpong(o);
    fprintf(stderr, "bench_thread: unknown test %s\n", name);
    return -2;
}

int main(int argc, char **argv)
{
    static char *all[] = {"thread_create", "futex_pingpong"};
    struct opts o;
    if (parse_opts(argc, argv, &o))
        return 2;
    return bench_run(&o, all, (int)(sizeof(all) / sizeof(all[0])), test);
}
