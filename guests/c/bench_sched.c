/*
 * bench_sched — scheduler behaviour, for `umk bench --suite sched`.
 * Every test pins its processes to one CPU (the last one this process may
 * use), so they compete for it.
 *
 * Usage: bench_sched [-n ITERATIONS] [-t MAX_MS] [TEST...]
 * Tests: fairness yield_pingpong yield_threads rt_latency (default: all).
 * Each prints `metric value unit` lines on stdout:
 *
 *   fair_nice0_nice5_ratio, fair_nice0_nice10_ratio
 *                           three forked busy loops, nice 0, 5 and 10, start
 *                           together and share the CPU for MAX_MS ms (default
 *                           2000); the ratios of the CPU time each measured
 *                           on its own process clock (the weights give
 *                           1024/335 = 3.06 and 1024/110 = 9.31)
 *   fair_error_pct          the larger deviation of those two ratios from
 *                           the weight ratios, in percent
 *   yield_pingpong_us       two processes pass a turn through shared memory,
 *                           each calling sched_yield() until it is theirs;
 *                           per round trip (default 200000 round trips or
 *                           MAX_MS, default 1000)
 *   yield_thread_pingpong_us
 *                           the same between two threads of one process
 *   rt_wakeup_p50_us, rt_wakeup_p99_us, rt_wakeup_max_us
 *                           like cyclictest: a SCHED_FIFO (priority 80)
 *                           process sleeps to an absolute deadline every 1 ms
 *                           beside a busy nice-0 process, ITERATIONS times
 *                           (default 500); the lateness of its wake-ups. When
 *                           SCHED_FIFO is not permitted this prints a note on
 *                           stderr and no metric (exit status 0).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ---- the tests ---- */

/* Pins this process to the last CPU it may run on. */
static int pin_one_cpu(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set)) {
        perror("sched_getaffinity");
        return -1;
    }
    int last = -1;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
        if (CPU_ISSET(cpu, &set))
            last = cpu;
    if (last < 0) {
        fprintf(stderr, "bench_sched: empty CPU affinity\n");
        return -1;
    }
    CPU_ZERO(&set);
    CPU_SET(last, &set);
    if (sched_setaffinity(0, sizeof(set), &set)) {
        perror("sched_setaffinity");
        return -1;
    }
    return 0;
}

static int wait_ok(pid_t pid, struct rusage *ru)
{
    int status;
    while (wait4(pid, &status, 0, ru) < 0) {
        if (errno != EINTR) {
            perror("wait4");
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_sched: child ended with status 0x%x\n", status);
        return -1;
    }
    return 0;
}

static pid_t spawn_busy(int nice_value, long long until_ns)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    errno = 0;
    if (setpriority(PRIO_PROCESS, 0, nice_value) && errno) {
        perror("setpriority");
        _exit(1);
    }
    volatile unsigned long spin = 0;
    while (now_ns() < until_ns)
        for (int i = 0; i < 10000; i++)
            spin++;
    _exit(0);
}

static double cpu_clock_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* What the fairness children share: the end of the run and their CPU
 * times (each measured on its own process clock, which works where wait4
 * does not report children's rusage). */
struct fair_shared {
    volatile long long until;
    volatile double cpu[3];
};

static int fairness(const struct opts *o)
{
    static const int nices[3] = {0, 5, 10};
    /* sched_prio_to_weight[] (kernel/sched/core.c) for nice 0, 5, 10. */
    static const double weights[3] = {1024, 335, 110};
    struct fair_shared *fs = mmap(NULL, sizeof(*fs), PROT_READ | PROT_WRITE,
                                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    int go[2];
    if (fs == MAP_FAILED || pipe(go)) {
        perror("fairness: mmap/pipe");
        return -1;
    }
    pid_t kids[3];
    for (int k = 0; k < 3; k++) {
        kids[k] = fork();
        if (kids[k] < 0) {
            perror("fork");
            return -1;
        }
        if (kids[k] == 0) {
            errno = 0;
            if (setpriority(PRIO_PROCESS, 0, nices[k]) && errno)
                _exit(1);
            char c;
            if (read(go[0], &c, 1) != 1)
                _exit(1);
            /* Busy until the common end; count only the CPU time of the
             * run itself. */
            double c0 = cpu_clock_s();
            volatile unsigned long spin = 0;
            while (now_ns() < fs->until)
                for (int i = 0; i < 10000; i++)
                    spin++;
            fs->cpu[k] = cpu_clock_s() - c0;
            _exit(0);
        }
    }
    fs->until = now_ns() + pick(o->t_ms, 2000) * 1000000LL;
    if (write(go[1], "ggg", 3) != 3) {
        perror("fairness: write");
        return -1;
    }
    int bad = 0;
    for (int k = 0; k < 3; k++)
        bad |= wait_ok(kids[k], NULL);
    close(go[0]);
    close(go[1]);
    double cpu[3] = {fs->cpu[0], fs->cpu[1], fs->cpu[2]};
    munmap(fs, sizeof(*fs));
    if (bad)
        return -1;
    if (cpu[1] <= 0 || cpu[2] <= 0) {
        fprintf(stderr, "bench_sched: a niced child got no CPU time\n");
        return -1;
    }
    double r5 = cpu[0] / cpu[1], r10 = cpu[0] / cpu[2];
    double e5 = fabs(r5 / (weights[0] / weights[1]) - 1), e10 = fabs(r10 / (weights[0] / weights[2]) - 1);
    report("fair_nice0_nice5_ratio", r5, "x");
    report("fair_nice0_nice10_ratio", r10, "x");
    report("fair_error_pct", 100 * (e5 > e10 ? e5 : e10), "%");
    return 0;
}

/* Shared between the two yield ping-pong processes. */
struct yield_shared {
    volatile int turn; /* 0 = parent, 1 = child */
    volatile int stop;
};

static struct yield_shared *ys;

static int op_yield_round_trip(void *ctx)
{
    (void)ctx;
    ys->turn = 1;
    while (ys->turn != 0)
        sched_yield();
    return 0;
}

static int yield_pingpong(const struct opts *o)
{
    ys = mmap(NULL, sizeof(*ys), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ys == MAP_FAILED) {
        perror("mmap shared");
        return -1;
    }
    ys->turn = 0;
    ys->stop = 0;
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        for (;;) {
            while (ys->turn != 1)
                sched_yield();
            if (ys->stop)
                _exit(0);
            ys->turn = 0;
        }
    }
    double ns = measure(op_yield_round_trip, NULL, pick(o->n, 200000), pick(o->t_ms, 1000), 64);
    ys->stop = 1;
    ys->turn = 1;
    if (wait_ok(pid, NULL))
        return -1;
    munmap(ys, sizeof(*ys));
    report("yield_pingpong_us", ns / 1000.0, "us");
    return 0;
}

/* The same between two threads. */
static struct yield_shared yt;

static void *yield_partner(void *arg)
{
    (void)arg;
    for (;;) {
        while (yt.turn != 1)
            sched_yield();
        if (yt.stop)
            return NULL;
        yt.turn = 0;
    }
}

static int op_yield_thread_round_trip(void *ctx)
{
    (void)ctx;
    yt.turn = 1;
    while (yt.turn != 0)
        sched_yield();
    return 0;
}

static int yield_threads(const struct opts *o)
{
    yt.turn = 0;
    yt.stop = 0;
    pthread_t t;
    int e = pthread_create(&t, NULL, yield_partner, NULL);
    if (e) {
        fprintf(stderr, "bench_sched: pthread_create: %s\n", strerror(e));
        return -1;
    }
    double ns = measure(op_yield_thread_round_trip, NULL, pick(o->n, 200000), pick(o->t_ms, 1000), 64);
    yt.stop = 1;
    yt.turn = 1;
    pthread_join(t, NULL);
    report("yield_thread_pingpong_us", ns / 1000.0, "us");
    return 0;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int rt_latency(const struct opts *o)
{
    long n = pick(o->n, 500);
    long long *lat = calloc((size_t)n, sizeof(long long));
    if (!lat) {
        perror("calloc");
        return -1;
    }
    pid_t hog = spawn_busy(0, now_ns() + (n + 1000) * 1000000LL);
    if (hog < 0) {
        perror("fork");
        free(lat);
        return -1;
    }
    struct sched_param sp = {.sched_priority = 80};
    if (sched_setscheduler(0, SCHED_FIFO, &sp)) {
        fprintf(stderr, "bench_sched: rt_latency skipped: SCHED_FIFO not permitted (%s)\n",
                strerror(errno));
        kill(hog, SIGKILL);
        waitpid(hog, NULL, 0);
        free(lat);
        return 0;
    }
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    int err = 0;
    for (long i = 0; i < n; i++) {
        next.tv_nsec += 1000000;
        if (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        int r;
        while ((r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL)) == EINTR)
            ;
        if (r) {
            fprintf(stderr, "bench_sched: clock_nanosleep: %s\n", strerror(r));
            err = 1;
            break;
        }
        long long t = now_ns() - ((long long)next.tv_sec * 1000000000LL + next.tv_nsec);
        lat[i] = t > 0 ? t : 0;
    }
    struct sched_param normal = {.sched_priority = 0};
    sched_setscheduler(0, SCHED_OTHER, &normal);
    kill(hog, SIGKILL);
    waitpid(hog, NULL, 0);
    if (!err) {
        qsort(lat, (size_t)n, sizeof(long long), cmp_ll);
        report("rt_wakeup_p50_us", (double)lat[n / 2] / 1000.0, "us");
        report("rt_wakeup_p99_us", (double)lat[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] / 1000.0,
               "us");
        report("rt_wakeup_max_us", (double)lat[n - 1] / 1000.0, "us");
    }
    free(lat);
    return err ? -1 : 0;
}

static int test(const char *name, const struct opts *o)
{
    if (!strcmp(name, "fairness"))
        return fairness(o);
    if (!strcmp(name, "yield_pingpong"))
        return yield_pingpong(o);
    if (!strcmp(name, "yield_threads"))
        return yield_threads(o);
    if (!strcmp(name, "rt_latency"))
        return rt_latency(o);
    fprintf(stderr, "bench_sched: unknown test %s\n", name);
    return -2;
}

int main(int argc, char **argv)
{
    static char *all[] = {"fairness", "yield_pingpong", "yield_threads", "rt_latency"};
    struct opts o;
    if (parse_opts(argc, argv, &o))
        return 2;
    if (pin_one_cpu())
        return 1;
    return bench_run(&o, all, (int)(sizeof(all) / sizeof(all[0])), test);
}
