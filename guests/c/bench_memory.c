/*
 * bench_memory — page-fault and mapping costs, for `umk bench --suite memory`.
 *
 * Usage: bench_memory [-n ROUNDS] [-t MAX_MS] [-f FILE] [TEST...]
 * Tests: anon_fault file_fault mmap_munmap (default: all).
 * Each test runs up to ROUNDS rounds (defaults below) or stops after MAX_MS
 * milliseconds (default 1000), whichever comes first, and prints one line
 * `metric value unit` on stdout:
 *
 *   anon_fault_ns    first write to each page of a fresh 64 MiB anonymous
 *                    mapping (MADV_NOHUGEPAGE: one fault per 4 KiB page),
 *                    per page; a round maps, touches and unmaps (default 16)
 *   file_fault_ns    first read of each page of a fresh read-only private
 *                    mapping of FILE (default /proc/self/exe; at most 256 MiB),
 *                    per page; the page cache is warmed first, so this is the
 *                    mapping cost, not disk; MADV_RANDOM is only a hint: the
 *                    host kernel may still map neighbouring cached pages on
 *                    one fault (fault-around) (default 32 rounds)
 *   mmap_munmap_ns   mmap + munmap of 64 KiB anonymous memory, never touched,
 *                    per pair (default 1000000)
 *
 * Only the touching is timed in the fault tests, not mmap/munmap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

/* ---- the tests ---- */

#define MIB (1024L * 1024L)

static long page_size(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    return pg > 0 ? pg : 4096;
}

/* Timed rounds: stop after `rounds` or once the time bound has passed. */
struct rounds {
    long max, done;
    long long deadline, timed_ns, pages;
};

static void rounds_init(struct rounds *r, long max, long t_ms)
{
    memset(r, 0, sizeof(*r));
    r->max = max;
    r->deadline = now_ns() + t_ms * 1000000LL;
}

static int rounds_more(const struct rounds *r)
{
    return r->done < r->max && (r->done == 0 || now_ns() < r->deadline);
}

static int anon_fault(const struct opts *o)
{
    const long pg = page_size(), size = 64 * MIB;
    struct rounds r;
    rounds_init(&r, pick(o->n, 16), pick(o->t_ms, 1000));
    while (rounds_more(&r)) {
        char *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return -1;
        }
        (void)madvise(p, (size_t)size, MADV_NOHUGEPAGE); /* best effort */
        long long t0 = now_ns();
        for (long off = 0; off < size; off += pg)
            ((volatile char *)p)[off] = 1;
        r.timed_ns += now_ns() - t0;
        r.pages += size / pg;
        r.done++;
        if (munmap(p, (size_t)size)) {
            perror("munmap");
            return -1;
        }
    }
    report("anon_fault_ns", (double)r.timed_ns / (double)r.pages, "ns");
    return 0;
}

static int file_fault(const struct opts *o)
{
    const long pg = page_size();
    const char *path = o->file ? o->file : "/proc/self/exe";
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        fprintf(stderr, "bench_memory: %s: %s\n", path, strerror(errno));
        return -1;
    }
    long size = st.st_size > 256 * MIB ? 256 * MIB : (long)st.st_size;
    size -= size % pg;
    if (size < 16 * pg) {
        fprintf(stderr, "bench_memory: %s: too small (%ld bytes)\n", path, (long)st.st_size);
        close(fd);
        return -1;
    }
    /* Warm the page cache, untimed. */
    static char buf[64 * 1024];
    for (long done = 0; done < size;) {
        ssize_t got = pread(fd, buf, sizeof(buf), done);
        if (got <= 0)
            break;
        done += got;
    }
    struct rounds r;
    unsigned sum = 0;
    rounds_init(&r, pick(o->n, 32), pick(o->t_ms, 1000));
    while (rounds_more(&r)) {
        char *p = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            close(fd);
            return -1;
        }
        (void)madvise(p, (size_t)size, MADV_RANDOM); /* best effort */
        long long t0 = now_ns();
        for (long off = 0; off < size; off += pg)
            sum += ((volatile unsigned char *)p)[off];
        r.timed_ns += now_ns() - t0;
        r.pages += size / pg;
        r.done++;
        if (munmap(p, (size_t)size)) {
            perror("munmap");
            close(fd);
            return -1;
        }
    }
    close(fd);
    if (sum == 1) /* keep `sum` alive; never true in practice */
        fprintf(stderr, " \n");
    report("file_fault_ns", (double)r.timed_ns / (double)r.pages, "ns");
    return 0;
}

static int op_mmap_munmap(void *ctx)
{
    (void)ctx;
    void *p = mmap(NULL, 64 * 1024, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || munmap(p, 64 * 1024)) {
        perror("mmap/munmap");
        return -1;
    }
    return 0;
}

static int test(const char *name, const struct opts *o)
{
    if (!strcmp(name, "anon_fault"))
        return anon_fault(o);
    if (!strcmp(name, "file_fault"))
        return file_fault(o);
    if (!strcmp(name, "mmap_munmap")) {
        double ns = measure(op_mmap_munmap, NULL, pick(o->n, 1000000), pick(o->t_ms, 1000), 64);
        if (ns < 0)
            return -1;
        report("mmap_munmap_ns", ns, "ns");
        return 0;
    }
    fprintf(stderr, "bench_memory: unknown test %s\n", name);
    return -2;
}

int main(int argc, char **argv)
{
    static char *all[] = {"anon_fault", "file_fault", "mmap_munmap"};
    struct opts o;
    if (parse_opts(argc, argv, &o))
        return 2;
    return bench_run(&o, all, (int)(sizeof(all) / sizeof(all[0])), test);
}
