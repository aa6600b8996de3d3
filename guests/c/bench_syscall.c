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

#include "bench.h"

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
    return bench_run(&o, all, (int)(sizeof(all) / sizeof(all[0])), test);
}
