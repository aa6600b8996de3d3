/*
 * bench_syscall — cost of one system call, for `umk bench --suite syscall`.
 *
 * Usage: bench_syscall [-n ITERATIONS] [-t MAX_MS] [TEST...]
 * Tests: getppid clock_gettime read_devzero read_pipe (default: all).
 * Each test runs ITERATIONS operations (default 1000000) or stops after
 * MAX_MS milliseconds (default 1000), whichever comes first, and prints one
 * line `metric value unit` on stdout:
 *
 *   getppid_ns        raw syscall(SYS_getppid), per call
 *   clock_gettime_ns  raw syscall(SYS_clock_gettime) (never the vDSO), per call
 *   read_devzero_ns   read(2) of 1 byte from /dev/zero, per call
 *   read_pipe_ns      write(2) + read(2) of 1 byte through a pipe, per pair
 *
 * A failing system call ends the test with a message on stderr, no metric
 * line and exit status 1: a broken call never reports a (fast) number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

static int op_getppid(void *ctx)
{
    (void)ctx;
    if (syscall(SYS_getppid) < 0) {
        perror("getppid");
        return -1;
    }
    return 0;
}

static int op_clock_gettime(void *ctx)
{
    struct timespec ts;
    (void)ctx;
    if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) != 0) {
        perror("clock_gettime");
        return -1;
    }
    return 0;
}

static int op_read1(void *ctx)
{
    int fd = *(int *)ctx;
    char c;
    if (read(fd, &c, 1) != 1) {
        perror("read");
        return -1;
    }
    return 0;
}

static int op_pipe_pair(void *ctx)
{
    int *p = ctx;
    char c = 'x';
    if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1) {
        perror("pipe write/read");
        return -1;
    }
    return 0;
}

static int run_one(const char *metric, int (*op)(void *), void *ctx, const struct opts *o)
{
    double ns = measure(op, ctx, pick(o->n, 1000000), pick(o->t_ms, 1000), 256);
    if (ns < 0)
        return -1;
    report(metric, ns, "ns");
    return 0;
}

static int test(const char *name, const struct opts *o)
{
    if (!strcmp(name, "getppid"))
        return run_one("getppid_ns", op_getppid, NULL, o);
    if (!strcmp(name, "clock_gettime"))
        return run_one("clock_gettime_ns", op_clock_gettime, NULL, o);
    if (!strcmp(name, "read_devzero")) {
        int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            perror("open /dev/zero");
            return -1;
        }
        int r = run_one("read_devzero_ns", op_read1, &fd, o);
        close(fd);
        return r;
    }
    if (!strcmp(name, "read_pipe")) {
        int p[2];
        if (pipe(p)) {
            perror("pipe");
            return -1;
        }
        int r = run_one("read_pipe_ns", op_pipe_pair, p, o);
        close(p[0]);
        close(p[1]);
        return r;
    }
    fprintf(stderr, "bench_syscall: unknown test %s\n", name);
    return -2;
}

int main(int argc, char **argv)
{
    static char *all[] = {"getppid", "clock_gettime", "read_devzero", "read_pipe"};
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
