/*
 * bench.h — what every bench_*.c guest shares: options (-n ITERATIONS,
 * -t MAX_MS, test names), the clock, bounded rounds, and the one output
 * format `umk bench` reads (`metric value unit` lines on stdout).
 */
#ifndef UMK_BENCH_H
#define UMK_BENCH_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


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


/* Runs the tests named on the command line (all of `all` when none are):
 * exit status 0 when every test reported, 1 when one failed, 2 for an
 * unknown test name (test() returns -2). */
static int bench_run(const struct opts *o, char **all, int nall,
                     int (*test)(const char *name, const struct opts *o))
{
    int n = o->ntests ? o->ntests : nall;
    char **names = o->ntests ? o->tests : all;
    int status = 0;
    for (int i = 0; i < n; i++) {
        int r = test(names[i], o);
        if (r == -2)
            return 2;
        if (r)
            status = 1;
    }
    return status;
}

#endif /* UMK_BENCH_H */
