/*
 * glibc as an ordinary program uses it: printf formats, malloc/realloc/free
 * (small, brk-backed and mmap-backed sizes), argv, getenv, getauxval,
 * stderr, qsort and floating point formatting.
 *
 * Usage: stdio_c [--exit=N] [ARGS...]: prints its arguments; exits N (default
 * 0) when every check passed, 1 otherwise.
 */
#include "guest.h"

#include <elf.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <unistd.h>

static void formats(void)
{
	char buf[256];

	printf("int: %d %i %u %x %X %o %#x %#o\n", -42, 17, 3000000000u, 0xbeef,
	       0xbeef, 8, 255, 8);
	printf("width: [%5d] [%-5d] [%05d] [%+d] [% d] [%*d] [%-*d]\n", 42, 42,
	       42, 42, 42, 6, 7, -6, 7);
	printf("long: %ld %lld %lu %llx %zu %zd %jd\n", LONG_MIN, LLONG_MAX,
	       ULONG_MAX, 0x123456789abcdefULL, (size_t)12345, (ssize_t)-1,
	       (intmax_t)INT64_MIN);
	printf("short/char: %hd %hhu %c%c%c\n", (short)-32768,
	       (unsigned char)255, 'u', 'm', 'k');
	printf("strings: [%s] [%10s] [%-10s] [%.3s] [%.*s]\n", "umk", "right",
	       "left", "truncate", 2, "precision");
	printf("percent: 100%%\n");
	printf("pointer: %p\n", (void *)0);
	printf("double: %f %.2f %e %.3E %g %g %g %a\n", 3.14159265358979,
	       2.675, 123456.789, 0.000123456, 1e-5, 123456789.0, 0.5, 1.0);
	printf("special: %f %f %f %.1f\n", INFINITY, -INFINITY, NAN, -0.0);

	snprintf(buf, sizeof buf, "%.17g|%.17g|%.3f|%g|%.0f|%.0f", 0.1 + 0.2,
		 1.0 / 3.0, 1e300 * 1e-300, 1e300, 0.5, 1.5);
	printf("snprintf doubles: %s\n", buf);
	CHECK(strcmp(buf, "0.30000000000000004|0.33333333333333331|1.000|1e+300|0|2") == 0,
	      "snprintf of doubles matches glibc's rounding");

	volatile size_t small = 8; /* hides the truncation from -Wformat-truncation */
	int n = snprintf(buf, small, "%s", "0123456789abcdef");
	CHECK(n == 16 && strcmp(buf, "0123456") == 0,
	      "snprintf truncates and returns the full length");

	double d = strtod("  -1.25e2xyz", NULL);
	long l = strtol("0x7fff", NULL, 0);
	CHECK(d == -125.0 && l == 0x7fff, "strtod/strtol parse");
	CHECK(sqrt(2.0) * sqrt(2.0) > 1.9999 && fabs(sin(0.0)) < 1e-12,
	      "libm works");
}

static unsigned char pattern(size_t i, size_t seed)
{
	return (unsigned char)((i * 131 + seed * 7) ^ (i >> 8));
}

static int check_pattern(const unsigned char *p, size_t n, size_t seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern(i, seed))
			return 0;
	return 1;
}

static void fill(unsigned char *p, size_t n, size_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pattern(i, seed);
}

static void heap(void)
{
	static const size_t sizes[] = {
		1,	  7,	   16,	     24,	 100,	    512,
		4095,	  4096,	   4097,     65536,	 131071,    131072,
		131073,	  200000,  1 << 20,  3 << 20,	 16 << 20,
	};
	enum { N = sizeof sizes / sizeof sizes[0] };
	unsigned char *ptrs[N];
	int ok = 1;

	for (size_t i = 0; i < N; i++) {
		ptrs[i] = malloc(sizes[i]);
		if (!ptrs[i]) {
			ok = 0;
			continue;
		}
		fill(ptrs[i], sizes[i], i);
	}
	for (size_t i = 0; i < N; i++)
		if (ptrs[i] && !check_pattern(ptrs[i], sizes[i], i))
			ok = 0;
	CHECK(ok, "malloc of %d sizes from 1 B to 16 MiB, contents intact", N);

	/* Grow and shrink each block with realloc: the prefix survives. */
	ok = 1;
	for (size_t i = 0; i < N; i++) {
		size_t grown = sizes[i] * 3 + 300000;
		unsigned char *p = realloc(ptrs[i], grown);
		if (!p) {
			ok = 0;
			continue;
		}
		if (!check_pattern(p, sizes[i], i))
			ok = 0;
		memset(p + sizes[i], 0x5a, grown - sizes[i]);
		size_t shrunk = sizes[i] / 2 + 1;
		p = realloc(p, shrunk);
		if (!p || !check_pattern(p, shrunk < sizes[i] ? shrunk : sizes[i], i))
			ok = 0;
		ptrs[i] = p;
	}
	CHECK(ok, "realloc grow and shrink preserve contents");
	for (size_t i = 0; i < N; i++)
		free(ptrs[i]);

	/* Many small blocks, freed in an interleaved order, then reused. */
	enum { M = 2000 };
	static unsigned char *small[M];
	ok = 1;
	for (int round = 0; round < 3; round++) {
		for (size_t i = 0; i < M; i++) {
			small[i] = malloc(i % 300 + 1);
			if (!small[i])
				ok = 0;
			else
				fill(small[i], i % 300 + 1, i + round);
		}
		for (size_t i = 0; i < M; i += 2)
			free(small[i]);
		for (size_t i = 1; i < M; i += 2) {
			if (!check_pattern(small[i], i % 300 + 1, i + round))
				ok = 0;
			free(small[i]);
		}
	}
	CHECK(ok, "%d small allocations x 3 rounds, interleaved frees", M);

	unsigned char *z = calloc(300000, 1);
	int zero = z != NULL;
	for (size_t i = 0; z && i < 300000; i++)
		zero &= z[i] == 0;
	free(z);
	CHECK(zero, "calloc(300000) is zeroed");

	void *al = aligned_alloc(4096, 8192);
	CHECK(al && ((uintptr_t)al & 4095) == 0, "aligned_alloc(4096) is aligned");
	free(al);
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void sorting(void)
{
	int v[] = { 42, -7, 0, 1000000, 3, 3, -2147483647 - 1, 99, 17, 8 };
	enum { N = sizeof v / sizeof v[0] };
	qsort(v, N, sizeof v[0], cmp_int);
	printf("qsort ints:");
	for (int i = 0; i < N; i++)
		printf(" %d", v[i]);
	printf("\n");

	const char *w[] = { "syscall", "kernel", "umk", "ptrace", "seccomp", "elf", "auxv" };
	enum { W = sizeof w / sizeof w[0] };
	qsort(w, W, sizeof w[0], cmp_str);
	printf("qsort strings:");
	for (int i = 0; i < W; i++)
		printf(" %s", w[i]);
	printf("\n");

	static int big[100000];
	unsigned x = 12345;
	for (int i = 0; i < 100000; i++) {
		x = x * 1103515245u + 12345u;
		big[i] = (int)(x >> 1);
	}
	qsort(big, 100000, sizeof big[0], cmp_int);
	int sorted = 1;
	for (int i = 1; i < 100000; i++)
		sorted &= big[i - 1] <= big[i];
	CHECK(sorted, "qsort of 100000 pseudo-random ints is sorted");
}

extern void _start(void);

static const char *base(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static void auxv(const char *argv0)
{
	unsigned long pagesz = getauxval(AT_PAGESZ);
	CHECK(pagesz == 4096, "getauxval(AT_PAGESZ) == 4096");
	CHECK(pagesz == (unsigned long)sysconf(_SC_PAGESIZE),
	      "AT_PAGESZ == sysconf(_SC_PAGESIZE)");
	CHECK(getauxval(AT_HWCAP) != 0, "AT_HWCAP present");
	CHECK(getauxval(AT_CLKTCK) == 100, "AT_CLKTCK == 100");
	CHECK(getauxval(AT_PHENT) == sizeof(Elf64_Phdr),
	      "AT_PHENT == sizeof(Elf64_Phdr)");
	CHECK(getauxval(AT_PHNUM) > 0 && getauxval(AT_PHDR) != 0,
	      "AT_PHDR and AT_PHNUM present");
	CHECK(getauxval(AT_ENTRY) == (unsigned long)_start, "AT_ENTRY == _start");
	CHECK(getauxval(AT_UID) == getuid() && getauxval(AT_EUID) == geteuid(),
	      "AT_UID/AT_EUID match getuid()/geteuid()");
	CHECK(getauxval(AT_GID) == getgid() && getauxval(AT_EGID) == getegid(),
	      "AT_GID/AT_EGID match getgid()/getegid()");
	CHECK(getauxval(AT_SECURE) == 0, "AT_SECURE == 0");
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	unsigned char acc = 0;
	for (int i = 0; rnd && i < 16; i++)
		acc |= rnd[i]; /* reads the 16 bytes; never prints them */
	(void)acc;
	CHECK(rnd != NULL, "AT_RANDOM present (16 readable bytes)");
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	CHECK(execfn && strcmp(base(execfn), base(argv0)) == 0,
	      "basename(AT_EXECFN) == basename(argv[0])");
	const char *platform = (const char *)getauxval(AT_PLATFORM);
	CHECK(!platform || strcmp(platform, "x86_64") == 0,
	      "AT_PLATFORM is absent or \"x86_64\"");
	errno = 0;
	CHECK(getauxval(12345) == 0 && errno == ENOENT,
	      "getauxval(unknown type) fails with ENOENT");
}

int main(int argc, char **argv)
{
	int exit_code = 0;

	guest_init("stdio_c");
	formats();

	printf("argc: %d\n", argc);
	printf("argv[0] ends with stdio_c: %s\n",
	       strcmp(base(argv[0]), "stdio_c") == 0 ? "yes" : "no");
	for (int i = 1; i < argc; i++) {
		printf("argv[%d]: %s\n", i, argv[i]);
		if (strncmp(argv[i], "--exit=", 7) == 0)
			exit_code = atoi(argv[i] + 7);
	}
	const char *var = getenv("UMK_TEST_VAR");
	printf("UMK_TEST_VAR: %s\n", var ? var : "(unset)");
	CHECK(getenv("UMK_SURELY_UNSET_VARIABLE") == NULL, "getenv of an unset variable is NULL");
	CHECK(setenv("UMK_SET_BY_GUEST", "42", 1) == 0 &&
		      strcmp(getenv("UMK_SET_BY_GUEST"), "42") == 0,
	      "setenv/getenv round trip");

	heap();
	sorting();
	auxv(argv[0]);

	fputs("stdio_c: this line goes to stderr\n", stderr);
	fprintf(stderr, "stdio_c: stderr is unbuffered: %d\n", 1);

	int status = guest_done();
	fflush(stdout);
	return status ? status : exit_code;
}
