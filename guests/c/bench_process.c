/*
 * bench_process — process life-cycle costs, for `umk bench` (suites
 * `process` and `memory`).
 *
 * Usage: bench_process [-n ITERATIONS] [-t MAX_MS] [TEST...]
 *        bench_process --exec-child      (exits 0 at once; used by fork_exec)
 * Tests: fork_exit fork_exec pipe_pingpong fork_cow (default: all).
 * Each test runs up to ITERATIONS iterations (defaults below) or stops after
 * MAX_MS milliseconds (default 1000), whichever comes first, and prints one
 * line `metric value unit` on stdout:
 *
 *   fork_exit_wait_us  fork(); the child _exit(0)s; the parent waitpid()s;
 *                      per iteration (default 5000)
 *   fork_exec_wait_us  the same, but the child execv()s this program with
 *                      --exec-child (argv[0] if it holds a '/', else
 *                      /proc/self/exe) (default 2000)
 *   pipe_pingpong_us   one byte to a child over one pipe and back over
 *                      another, per round trip (default 200000)
 *   fork_cow_64m_ms    with 64 MiB of anonymous memory written (4 KiB pages,
 *                      MADV_NOHUGEPAGE): fork(), the child writes every page
 *                      (copy on write) and exits, the parent waits; per
 *                      iteration, timed in the parent (default 20)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ---- the tests ---- */

static const char *self_path = "/proc/self/exe";
static char *cow_mem;
static long cow_size, cow_page;

/* Waits for `pid` and checks that it exited with status 0. */
static int reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            perror("waitpid");
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_process: child ended with status 0x%x\n", status);
        return -1;
    }
    return 0;
}

static int op_fork_exit(void *ctx)
{
    (void)ctx;
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0)
        _exit(0);
    return reap(pid);
}

static int op_fork_exec(void *ctx)
{
    (void)ctx;
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        char *argv[] = {(char *)self_path, "--exec-child", NULL};
        execv(self_path, argv);
        _exit(127);
    }
    return reap(pid);
}

struct pingpong {
    int to_child, from_child;
};

static int op_pingpong(void *ctx)
{
    struct pingpong *pp = ctx;
    char c = 'p';
    if (write(pp->to_child, &c, 1) != 1 || read(pp->from_child, &c, 1) != 1) {
        perror("pipe ping-pong");
        return -1;
    }
    return 0;
}

static int pipe_pingpong(const struct opts *o)
{
    int down[2], up[2];
    if (pipe(down) || pipe(up)) {
        perror("pipe");
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        char c;
        close(down[1]);
        close(up[0]);
        while (read(down[0], &c, 1) == 1)
            if (write(up[1], &c, 1) != 1)
                _exit(1);
        _exit(0);
    }
    close(down[0]);
    close(up[1]);
    struct pingpong pp = {down[1], up[0]};
    double ns = measure(op_pingpong, &pp, pick(o->n, 200000), pick(o->t_ms, 1000), 64);
    close(down[1]); /* the child sees EOF and exits */
    close(up[0]);
    if (reap(pid) || ns < 0)
        return -1;
    report("pipe_pingpong_us", ns / 1000.0, "us");
    return 0;
}

static int op_fork_cow(void *ctx)
{
    (void)ctx;
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        for (long off = 0; off < cow_size; off += cow_page)
            ((volatile char *)cow_mem)[off] = 2;
        _exit(0);
    }
    return reap(pid);
}

static int fork_cow(const struct opts *o)
{
    long pg = sysconf(_SC_PAGESIZE);
    cow_page = pg > 0 ? pg : 4096;
    cow_size = 64L * 1024 * 1024;
    cow_mem = mmap(NULL, (size_t)cow_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (cow_mem == MAP_FAILED) {
        perror("mmap");
        return -1;
    }
    (void)madvise(cow_mem, (size_t)cow_size, MADV_NOHUGEPAGE); /* best effort */
    for (long off = 0; off < cow_size; off += cow_page)
        cow_mem[off] = 1;
    double ns = measure(op_fork_cow, NULL, pick(o->n, 20), pick(o->t_ms, 1000), 1);
    munmap(cow_mem, (size_t)cow_size);
    if (ns < 0)
        return -1;
    report("fork_cow_64m_ms", ns / 1e6, "ms");
    return 0;
}

static int test(const char *name, const struct opts *o)
{
    double ns;
    if (!strcmp(name, "fork_exit")) {
        if ((ns = measure(op_fork_exit, NULL, pick(o->n, 5000), pick(o->t_ms, 1000), 1)) < 0)
            return -1;
        report("fork_exit_wait_us", ns / 1000.0, "us");
        return 0;
    }
    if (!strcmp(name, "fork_exec")) {
        if ((ns = measure(op_fork_exec, NULL, pick(o->n, 2000), pick(o->t_ms, 1000), 1)) < 0)
            return -1;
        report("fork_exec_wait_us", ns / 1000.0, "us");
        return 0;
    }
    if (!strcmp(name, "pipe_pingpong"))
        return pipe_pingpong(o);
    if (!strcmp(name, "fork_cow"))
        return fork_cow(o);
    fprintf(stderr, "bench_process: unknown test %s\n", name);
    return -2;
}

int main(int argc, char **argv)
{
    static char *all[] = {"fork_exit", "fork_exec", "pipe_pingpong", "fork_cow"};
    if (argc > 1 && !strcmp(argv[1], "--exec-child"))
        return 0;
    if (argc > 0 && strchr(argv[0], '/'))
        self_path = argv[0];
    signal(SIGPIPE, SIG_IGN);
    struct opts o;
    if (parse_opts(argc, argv, &o))
        return 2;
    return bench_run(&o, all, (int)(sizeof(all) / sizeof(all[0])), test);
}
