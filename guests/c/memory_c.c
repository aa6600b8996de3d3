/*
 * The address space: a large MAP_NORESERVE mapping, brk growth and shrink,
 * munmap holes (MAP_FIXED_NOREPLACE, mincore), mprotect, mremap (in place,
 * MAYMOVE, FIXED, shrink), madvise(MADV_DONTNEED), file-backed private
 * mappings of the guest's own binary compared with read(), MAP_SHARED
 * anonymous memory, MAP_POPULATE, msync, and mmap's argument errors.
 *
 * No signals: nothing here touches memory it has no access to.
 */
#include "guest.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096UL
#define MiB (1UL << 20)
#define GiB (1UL << 30)

static void *map(void *addr, size_t len, int prot, int flags)
{
	return mmap(addr, len, prot, flags | MAP_ANONYMOUS, -1, 0);
}

/*
 * 0 when every page touching [p, p+len) is mapped, else -1 with errno
 * (ENOMEM for a hole), using mincore.
 */
static int mapped(void *p, size_t len)
{
	unsigned char vec[64];
	uintptr_t start = (uintptr_t)p & ~(PAGE - 1);
	len += (uintptr_t)p - start;
	if ((len + PAGE - 1) / PAGE > sizeof vec)
		return -2;
	return mincore((void *)start, len, vec);
}

static int all_bytes(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

static void large_mapping(void)
{
	unsigned char *p = map(NULL, GiB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_NORESERVE);
	if (!CHECK(p != MAP_FAILED, "mmap 1 GiB MAP_PRIVATE|MAP_NORESERVE"))
		return;
	int zero = 1, kept = 1, n = 0;
	for (size_t off = 0; off < GiB; off += 16 * MiB, n++) {
		zero &= p[off] == 0 && p[off + 16 * MiB - 1] == 0;
		p[off] = (unsigned char)(n + 1);
	}
	for (size_t off = 0, i = 0; off < GiB; off += 16 * MiB, i++)
		kept &= p[off] == (unsigned char)(i + 1);
	CHECK(zero, "%d pages touched (one per 16 MiB) read as zero", n);
	CHECK(kept, "values written to them read back");
	CHECK(munmap(p, GiB) == 0, "munmap of the 1 GiB mapping");
}

static void brk_tests(void)
{
	/* The raw syscall: brk(0) returns the current break. */
	uintptr_t start = (uintptr_t)syscall(SYS_brk, 0);
	CHECK(start != 0, "brk(0) returns the current break");
	uintptr_t want = start + 100;
	CHECK((uintptr_t)syscall(SYS_brk, want) == want,
	      "brk(cur + 100) returns exactly cur + 100 (no rounding)");
	want = start + 3 * MiB + 123;
	CHECK((uintptr_t)syscall(SYS_brk, want) == want, "brk grows by 3 MiB");
	unsigned char *heap = (unsigned char *)start;
	CHECK(all_bytes(heap, 3 * MiB, 0), "new brk memory is zero-filled");
	memset(heap, 0x77, 3 * MiB + 123);
	CHECK(all_bytes(heap, 3 * MiB + 123, 0x77), "brk memory is writable");
	CHECK(mapped(heap + 3 * MiB, PAGE) == 0,
	      "the page holding the unaligned break is mapped");

	/* Shrink: the pages past the new break go away... */
	want = start + MiB;
	CHECK((uintptr_t)syscall(SYS_brk, want) == want, "brk shrinks to cur + 1 MiB");
	CHECK(all_bytes(heap, MiB, 0x77), "memory below the break is kept");
	errno = 0;
	CHECK(mapped(heap + 2 * MiB, PAGE) == -1 && errno == ENOMEM,
	      "pages above the shrunk break are unmapped");
	/* ... and come back zero-filled. */
	want = start + 2 * MiB;
	CHECK((uintptr_t)syscall(SYS_brk, want) == want, "brk grows again");
	CHECK(all_bytes(heap + MiB + PAGE, MiB - PAGE, 0),
	      "regrown brk memory is zero-filled");

	/* A request below the start of the heap fails: brk returns the old break. */
	CHECK((uintptr_t)syscall(SYS_brk, PAGE) == want,
	      "brk below the heap start is refused (returns the old break)");
	CHECK((uintptr_t)syscall(SYS_brk, start) == start, "brk back to its start");

	/* sbrk, glibc's view of the same thing. */
	void *cur = sbrk(0);
	void *old = sbrk(256 * 1024);
	CHECK(old == cur, "sbrk(256 KiB) returns the old break");
	CHECK(sbrk(0) == (char *)cur + 256 * 1024, "sbrk(0) is 256 KiB higher");
	memset(old, 1, 256 * 1024);
	CHECK(sbrk(-128 * 1024) == (char *)cur + 256 * 1024, "sbrk(-128 KiB)");
	CHECK(sbrk(0) == (char *)cur + 128 * 1024, "sbrk(0) after shrinking");
	CHECK(sbrk(-128 * 1024) != (void *)-1 && sbrk(0) == cur, "sbrk back to the start");
}

static void holes(void)
{
	unsigned char *p = map(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	if (!CHECK(p != MAP_FAILED, "mmap 16 pages"))
		return;
	for (int i = 0; i < 16; i++)
		memset(p + i * PAGE, i + 1, PAGE);
	unsigned char *hole = p + 4 * PAGE;
	CHECK(munmap(hole, 4 * PAGE) == 0, "munmap pages 4..8 of 16");
	CHECK_ERR(mapped(p, 16 * PAGE), ENOMEM, "mincore over the whole range");
	CHECK_ERR(mapped(hole, 4 * PAGE), ENOMEM, "mincore over the hole");
	CHECK_ERR(mapped(hole + 3 * PAGE, PAGE), ENOMEM, "mincore over the hole's last page");
	CHECK(mapped(p, 4 * PAGE) == 0 && mapped(p + 8 * PAGE, 8 * PAGE) == 0,
	      "mincore on both sides of the hole succeeds");
	int kept = 1;
	for (int i = 0; i < 16; i++)
		if (i < 4 || i >= 8)
			kept &= all_bytes(p + i * PAGE, PAGE, (unsigned char)(i + 1));
	CHECK(kept, "pages around the hole keep their contents");

	CHECK_ERR(munmap(p + 1, PAGE), EINVAL, "munmap of an unaligned address");
	CHECK_ERR(munmap(p, 0), EINVAL, "munmap of length 0");
	CHECK(munmap(hole, PAGE) == 0, "munmap of an already unmapped range succeeds");

	unsigned char *q = map(hole, 4 * PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_FIXED_NOREPLACE);
	CHECK(q == hole, "mmap(MAP_FIXED_NOREPLACE) into the hole lands there");
	CHECK(q != MAP_FAILED && all_bytes(q, 4 * PAGE, 0), "the new pages are zero");
	CHECK_ERR(map(hole, PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE), EEXIST,
		  "a second MAP_FIXED_NOREPLACE there");
	CHECK_ERR(map(hole - PAGE, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED_NOREPLACE),
		  EEXIST, "MAP_FIXED_NOREPLACE overlapping a mapping partly");

	/* MAP_FIXED replaces whatever is there. */
	q = map(p, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED);
	CHECK(q == p && all_bytes(p, PAGE, 0) && all_bytes(p + PAGE, PAGE, 2),
	      "MAP_FIXED over a mapped page replaces just that page");

	/* A hint that is free is honoured (nothing else runs in this process). */
	CHECK(munmap(p, 16 * PAGE) == 0, "munmap of the whole range, holes and all");
	q = map(p + 2 * PAGE, PAGE, PROT_READ, MAP_PRIVATE);
	CHECK(q == p + 2 * PAGE, "a free, page-aligned hint address is used");
	munmap(q, PAGE);
}

static void protections(void)
{
	unsigned char *p = map(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	if (!CHECK(p != MAP_FAILED, "mmap 4 pages read-write"))
		return;
	memset(p, 0xa5, 4 * PAGE);
	CHECK(mprotect(p, 4 * PAGE, PROT_READ) == 0, "mprotect(PROT_READ)");
	CHECK(all_bytes(p, 4 * PAGE, 0xa5), "read-only pages still read");
	CHECK(mprotect(p + PAGE, PAGE, PROT_NONE) == 0, "mprotect(PROT_NONE) of one page");
	CHECK(mprotect(p + PAGE, PAGE, PROT_READ | PROT_WRITE) == 0,
	      "mprotect back to read-write");
	CHECK(all_bytes(p + PAGE, PAGE, 0xa5), "contents survive PROT_NONE");
	p[PAGE] = 1;
	CHECK(p[PAGE] == 1, "writable again");
	CHECK(mprotect(p, 4 * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC) == 0,
	      "mprotect(PROT_READ|PROT_WRITE|PROT_EXEC)");
	CHECK_ERR(mprotect(p + 1, PAGE, PROT_READ), EINVAL, "mprotect of an unaligned address");
	CHECK_ERR(mprotect(p, PAGE, 0x1000), EINVAL, "mprotect with an unknown PROT bit");
	CHECK(munmap(p + 2 * PAGE, PAGE) == 0, "munmap the third page");
	CHECK_ERR(mprotect(p, 4 * PAGE, PROT_READ), ENOMEM,
		  "mprotect of a range with a hole");
	munmap(p, 4 * PAGE);
}

static void remaps(void)
{
	/* Reserve 8 pages, keep 2: the 6 after them are free to grow into. */
	unsigned char *p = map(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	if (!CHECK(p != MAP_FAILED, "mmap 8 pages"))
		return;
	munmap(p + 2 * PAGE, 6 * PAGE);
	memset(p, 0x3c, 2 * PAGE);
	unsigned char *q = mremap(p, 2 * PAGE, 4 * PAGE, 0);
	CHECK(q == p, "mremap grows 2 -> 4 pages in place");
	CHECK(q != MAP_FAILED && all_bytes(q, 2 * PAGE, 0x3c) &&
		      all_bytes(q + 2 * PAGE, 2 * PAGE, 0),
	      "old contents kept, new pages zero");

	/* Block further growth with a neighbour. */
	unsigned char *wall = map(p + 4 * PAGE, PAGE, PROT_READ,
				  MAP_PRIVATE | MAP_FIXED_NOREPLACE);
	CHECK(wall == p + 4 * PAGE, "a neighbouring mapping right after it");
	CHECK_ERR(mremap(p, 4 * PAGE, 8 * PAGE, 0), ENOMEM,
		  "mremap growth into a neighbour without MREMAP_MAYMOVE");
	memset(p + 2 * PAGE, 0x4d, 2 * PAGE);
	q = mremap(p, 4 * PAGE, 64 * PAGE, MREMAP_MAYMOVE);
	CHECK(q != MAP_FAILED && q != p, "mremap(MREMAP_MAYMOVE) moves it");
	if (q == MAP_FAILED)
		return;
	CHECK(all_bytes(q, 2 * PAGE, 0x3c) && all_bytes(q + 2 * PAGE, 2 * PAGE, 0x4d) &&
		      all_bytes(q + 4 * PAGE, 60 * PAGE, 0),
	      "moved contents preserved, growth zero-filled");
	CHECK_ERR(mapped(p, PAGE), ENOMEM, "mincore of the old address after the move");
	munmap(wall, PAGE);

	/* MREMAP_FIXED: move to a chosen address (replacing what is there). */
	unsigned char *target = map(NULL, 64 * PAGE, PROT_READ, MAP_PRIVATE);
	CHECK(target != MAP_FAILED, "mmap a 64-page target");
	unsigned char *r = mremap(q, 64 * PAGE, 16 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED,
				  target + 8 * PAGE);
	CHECK(r == target + 8 * PAGE, "mremap(MREMAP_FIXED) lands at the target");
	CHECK(r != MAP_FAILED && all_bytes(r, 2 * PAGE, 0x3c) &&
		      all_bytes(r + 2 * PAGE, 2 * PAGE, 0x4d),
	      "contents follow to the fixed address");
	CHECK_ERR(mapped(q, PAGE), ENOMEM, "the source is unmapped");
	CHECK(mapped(target, 64 * PAGE) == 0, "the rest of the target is still mapped");
	r[0] = 9;
	CHECK(r[0] == 9, "the moved mapping keeps its protection (writable)");

	/* Shrink in place. */
	unsigned char *s = mremap(r, 16 * PAGE, PAGE, 0);
	CHECK(s == r, "mremap shrinks 16 -> 1 page in place");
	CHECK_ERR(mapped(r + PAGE, PAGE), ENOMEM, "the page after the shrunk mapping");
	CHECK_ERR(mremap(r + 1, PAGE, 2 * PAGE, MREMAP_MAYMOVE), EINVAL,
		  "mremap of an unaligned address");
	CHECK_ERR(mremap(r, PAGE, 2 * PAGE, MREMAP_FIXED), EINVAL,
		  "MREMAP_FIXED without MREMAP_MAYMOVE");
	munmap(target, 64 * PAGE);
}

static void dontneed(void)
{
	unsigned char *p = map(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	if (!CHECK(p != MAP_FAILED, "mmap 2 pages for madvise"))
		return;
	memset(p, 0xee, 2 * PAGE);
	CHECK(madvise(p, PAGE, MADV_DONTNEED) == 0, "madvise(MADV_DONTNEED)");
	CHECK(all_bytes(p, PAGE, 0), "a private anonymous page reads zero after DONTNEED");
	CHECK(all_bytes(p + PAGE, PAGE, 0xee), "the page after it is untouched");
	CHECK(madvise(p, 2 * PAGE, MADV_WILLNEED) == 0 &&
		      madvise(p, 2 * PAGE, MADV_NORMAL) == 0,
	      "madvise(MADV_WILLNEED), madvise(MADV_NORMAL)");
	CHECK_ERR(madvise(p + 1, PAGE, MADV_DONTNEED), EINVAL, "madvise of an unaligned address");
	munmap(p, 2 * PAGE);
}

static void file_mappings(const char *self)
{
	int fd = open(self, O_RDONLY | O_CLOEXEC);
	if (!CHECK(fd >= 0, "open own binary"))
		return;
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size > (off_t)(3 * PAGE), "fstat: larger than 3 pages");
	size_t size = st.st_size;
	unsigned char *buf = malloc(size);
	size_t got = 0;
	while (buf && got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n <= 0)
			break;
		got += n;
	}
	CHECK(got == size, "read() the whole file");

	unsigned char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (!CHECK(m != MAP_FAILED, "mmap(MAP_PRIVATE) of the whole file"))
		return;
	CHECK(memcmp(m, buf, size) == 0, "mapping == read() byte for byte");
	CHECK(memcmp(m, "\177ELF", 4) == 0, "mapping starts with the ELF magic");
	size_t tail = PAGE - size % PAGE;
	if (tail == PAGE)
		tail = 0;
	CHECK(all_bytes(m + size, tail, 0), "the last page is zero past end of file");

	unsigned char *m2 = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
	CHECK(m2 != MAP_FAILED && memcmp(m2, buf + PAGE, 2 * PAGE) == 0,
	      "mapping at file offset 4096 == read() at 4096");
	CHECK_ERR(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL,
		  "mmap with an unaligned file offset");
	CHECK_ERR(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES,
		  "MAP_SHARED|PROT_WRITE of a read-only fd");

	/* A private write is private: neither the file nor other mappings see it. */
	m[0] = 'X';
	m[size - 1] ^= 0xff;
	unsigned char head[4], last;
	CHECK(pread(fd, head, 4, 0) == 4 && memcmp(head, "\177ELF", 4) == 0 &&
		      pread(fd, &last, 1, size - 1) == 1 && last == buf[size - 1],
	      "a private write does not change the file");
	CHECK(m[0] == 'X', "the mapping keeps the private write");
	CHECK(msync(m, size, MS_SYNC) == 0, "msync(MS_SYNC) of the file mapping");
	CHECK(msync(m, PAGE, MS_ASYNC) == 0, "msync(MS_ASYNC)");
	CHECK_ERR(msync(m + 1, PAGE, MS_SYNC), EINVAL, "msync of an unaligned address");
	close(fd);
	CHECK(memcmp(m + PAGE, buf + PAGE, size - PAGE - 1) == 0,
	      "the mapping survives close(fd)");
	munmap(m, size);
	if (m2 != MAP_FAILED)
		munmap(m2, 2 * PAGE);
	free(buf);
}

static void shared_and_populate(void)
{
	unsigned char *s = map(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED);
	if (CHECK(s != MAP_FAILED, "mmap(MAP_SHARED|MAP_ANONYMOUS)")) {
		CHECK(all_bytes(s, 4 * PAGE, 0), "shared anonymous memory starts zeroed");
		memset(s, 0x11, 4 * PAGE);
		CHECK(all_bytes(s, 4 * PAGE, 0x11), "shared anonymous memory is writable");
		CHECK(msync(s, 4 * PAGE, MS_SYNC) == 0, "msync of shared anonymous memory");
		unsigned char *g = mremap(s, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
		CHECK(g != MAP_FAILED && all_bytes(g, 4 * PAGE, 0x11),
		      "mremap of shared anonymous memory keeps contents");
		munmap(g != MAP_FAILED ? g : s, g != MAP_FAILED ? 8 * PAGE : 4 * PAGE);
	}
	unsigned char *p = map(NULL, 64 * PAGE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_POPULATE);
	CHECK(p != MAP_FAILED && all_bytes(p, 64 * PAGE, 0), "MAP_POPULATE accepted, zeroed");
	if (p != MAP_FAILED)
		munmap(p, 64 * PAGE);
	unsigned char *n = map(NULL, PAGE, PROT_NONE, MAP_PRIVATE);
	CHECK(n != MAP_FAILED && mapped(n, PAGE) == 0, "PROT_NONE mapping exists (mincore)");
	munmap(n, PAGE);
}

static void mmap_errors(void)
{
	CHECK_ERR(map(NULL, 0, PROT_READ, MAP_PRIVATE), EINVAL, "mmap of length 0");
	CHECK_ERR(map(NULL, PAGE, PROT_READ, 0), EINVAL,
		  "mmap with neither MAP_PRIVATE nor MAP_SHARED");
	CHECK_ERR(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 0), EBADF,
		  "mmap of a file descriptor that is not open");
	CHECK_ERR(map((void *)(PAGE + 1), PAGE, PROT_READ, MAP_PRIVATE | MAP_FIXED), EINVAL,
		  "MAP_FIXED at an unaligned address");
	CHECK_ERR(map(NULL, (size_t)1 << 62, PROT_READ, MAP_PRIVATE | MAP_NORESERVE), ENOMEM,
		  "mmap of 2^62 bytes");
}

int main(int argc, char **argv)
{
	(void)argc;
	guest_init("memory_c");
	printf("memory_c: address space tests\n");
	large_mapping();
	brk_tests();
	holes();
	protections();
	remaps();
	dontneed();
	file_mappings(strchr(argv[0], '/') ? argv[0] : "/proc/self/exe");
	shared_and_populate();
	mmap_errors();
	return guest_done();
}
