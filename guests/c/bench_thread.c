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

/* ---- shared by the bench_*.c guests (each file stands alone) ---- */

struct opts {
    long n;       /* iterations; 0 = the test's default */
    long t_ms;    /* time bound in ms; 0 = the test's default */
    const char *file;
    int ntests;
    char **tests;
};

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void report(const char *metric, double value, const char *unit)
{
    printf("%s %.3f %s\n", metric, value, unit);
    fflush(stdout);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof(*o));
    o->tests = calloc((size_t)argc + 1, sizeof(char *));
    if (!o->tests)
        return -1;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "-n") || !strcmp(argv[i], "-t") || !strcmp(argv[i], "-f")) &&
            i + 1 < argc) {
            char opt = argv[i][1];
            const char *val = argv[++i];
            if (opt == 'f') {
                o->file = val;
                continue;
            }
            char *end;
            long v = strtol(val, &end, 10);
            if (*end || v < 0) {
                fprintf(stderr, "%s: bad value for -%c: %s\n", argv[0], opt, val);
                return -1;
            }
            if (opt == 'n')
                o->n = v;
            else
                o->t_ms = v;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "%s: unknown option %s\n", argv[0], argv[i]);
            return -1;
        } else {
            o->tests[o->ntests++] = argv[i];
        }
    }
    return 0;
}

static long pick(long given, long dflt) { return given > 0 ? given : dflt; }

/*
 * Runs op() up to n times in batches, stopping early once t_ms have passed
 * (the clock is read once per batch, so it costs next to nothing). Returns
 * the mean time per operation in ns, or -1 if op() failed.
 */
static double measure(int (*op)(void *), void *ctx, long n, long t_ms, long batch)
{
    /* Warm-up, untimed: 1% of n, at most 1000 operations or t_ms / 10. */
    long warm = n / 100 < 1000 ? n / 100 : 1000;
    long long warm_end = now_ns() + t_ms * 100000LL;
    for (long i = 0; i < warm && (i % 16 || now_ns() < warm_end); i++)
        if (op(ctx))
            return -1;
    long long start = now_ns(), deadline = start + t_ms * 1000000LL, end = start;
    long done = 0;
    for (;;) {
        long b = n - done < batch ? n - done : batch;
        for (long i = 0; i < b; i++)
            if (op(ctx))
                return -1;
        done += b;
        end = now_ns();
        if (done >= n || end >= deadline)
            break;
    }
    return (double)(end - start) / (double)done;
}

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
    int n = o.ntests ? o.ntests : (int)(sizeof(all) / sizeof(all[0]));
    char **names = o.ntests ? o.tests : all;
    int status = 0;
    for (int i = 0; i < n; i++) {
        int r = test(names[i], &o);
        if (r == -2)
            return 2;
        if (r)
            status = 1;
    }
    return status;
}
