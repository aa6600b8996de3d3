/*
 * Bad user pointers: every syscall here gets an address it cannot use and
 * must fail with EFAULT (and the process must survive). Raw syscall() is used
 * throughout so that no libc wrapper touches the pointers first (and so that
 * clock_gettime does not go through the vDSO).
 *
 * Bad addresses used: 1 (in the never-mapped first page), NULL, a pointer
 * into the kernel half (0xffff800000000000), an unmapped page, a PROT_NONE
 * page, a read-only page (for syscalls that write), and buffers that start on
 * the last byte of a mapping and run into the unmapped page after it.
 */
#include "guest.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

#define BAD1 ((void *)1)
#define KERNEL ((void *)0xffff800000000000UL)

int main(int argc, char **argv)
{
	(void)argc;
	guest_init("badptr_c");

	const char *self = strchr(argv[0], '/') ? argv[0] : "/proc/self/exe";
	int fd = open(self, O_RDONLY | O_CLOEXEC);
	int pfd[2];
	if (!CHECK(fd >= 0, "open own binary") ||
	    !CHECK(pipe2(pfd, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2"))
		return guest_done();

	/*
	 * Layout: [rw page][unmapped page][PROT_NONE page][read-only page].
	 * `edge` is the last byte of the rw page.
	 */
	unsigned char *area = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!CHECK(area != MAP_FAILED, "mmap 4 pages"))
		return guest_done();
	memset(area, 'a', 4 * PAGE);
	unsigned char *edge = area + PAGE - 1;
	void *unmapped = area + PAGE;
	void *none = area + 2 * PAGE;
	void *rdonly = area + 3 * PAGE;
	CHECK(munmap(unmapped, PAGE) == 0 && mprotect(none, PAGE, PROT_NONE) == 0 &&
		      mprotect(rdonly, PAGE, PROT_READ) == 0,
	      "set up unmapped, PROT_NONE and read-only pages");
	struct stat st;
	struct timespec ts;

	/* write: the source buffer is unreadable. */
	CHECK_ERR(syscall(SYS_write, 1, BAD1, 10), EFAULT, "write(1, 0x1, 10)");
	CHECK_ERR(syscall(SYS_write, pfd[1], BAD1, 10), EFAULT, "write(pipe, 0x1, 10)");
	CHECK_ERR(syscall(SYS_write, pfd[1], NULL, 10), EFAULT, "write(pipe, NULL, 10)");
	CHECK_ERR(syscall(SYS_write, pfd[1], KERNEL, 10), EFAULT, "write(pipe, kernel address, 10)");
	CHECK_ERR(syscall(SYS_write, pfd[1], unmapped, 10), EFAULT, "write(pipe, unmapped page, 10)");
	CHECK_ERR(syscall(SYS_write, pfd[1], none, 10), EFAULT, "write(pipe, PROT_NONE page, 10)");
	CHECK(syscall(SYS_write, pfd[1], rdonly, 10) == 10, "write(pipe, read-only page, 10) succeeds");
	char drain[64];
	CHECK(read(pfd[0], drain, sizeof drain) == 10, "the pipe held just those 10 bytes");

	/* read: the destination buffer is unwritable. */
	CHECK_ERR(syscall(SYS_read, fd, NULL, 10), EFAULT, "read(file, NULL, 10)");
	CHECK_ERR(syscall(SYS_read, fd, BAD1, 10), EFAULT, "read(file, 0x1, 10)");
	CHECK_ERR(syscall(SYS_read, fd, KERNEL, 10), EFAULT, "read(file, kernel address, 10)");
	CHECK_ERR(syscall(SYS_read, fd, unmapped, 10), EFAULT, "read(file, unmapped page, 10)");
	CHECK_ERR(syscall(SYS_read, fd, none, 10), EFAULT, "read(file, PROT_NONE page, 10)");
	CHECK_ERR(syscall(SYS_read, fd, rdonly, 10), EFAULT, "read(file, read-only page, 10)");
	CHECK_ERR(syscall(SYS_pread64, fd, BAD1, 10, 0), EFAULT, "pread64(file, 0x1, 10, 0)");
	CHECK(lseek(fd, 0, SEEK_CUR) == 0, "failed reads leave the file offset at 0");
	CHECK(syscall(SYS_write, pfd[1], "xyz", 3) == 3, "write 3 bytes to the pipe");
	CHECK_ERR(syscall(SYS_read, pfd[0], BAD1, 3), EFAULT, "read(pipe, 0x1, 3)");
	CHECK(read(pfd[0], drain, sizeof drain) == 3 && memcmp(drain, "xyz", 3) == 0,
	      "a failed pipe read consumes nothing");

	/* Partly mapped buffers: the syscalls that copy a whole object fail. */
	CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, edge), EFAULT,
		  "clock_gettime(CLOCK_MONOTONIC, last byte of a mapping)");
	CHECK_ERR(syscall(SYS_uname, edge), EFAULT, "uname(last byte of a mapping)");
	CHECK_ERR(syscall(SYS_fstat, fd, edge), EFAULT, "fstat(file, last byte of a mapping)");
	CHECK_ERR(syscall(SYS_getcwd, edge, 2 * PAGE + 1), EFAULT,
		  "getcwd(last byte of a mapping, 2 pages + 1)");
	CHECK_ERR(syscall(SYS_readlink, "/proc/self/exe", edge, 2 * PAGE + 1), EFAULT,
		  "readlink(/proc/self/exe, last byte of a mapping, 2 pages + 1)");
	CHECK_ERR(syscall(SYS_poll, edge - 7, 2 * PAGE / sizeof(struct pollfd), 0), EFAULT,
		  "poll(array running into an unmapped page)");
	/* An unterminated path running into unmapped memory. */
	CHECK_ERR(syscall(SYS_openat, AT_FDCWD, edge, O_RDONLY), EFAULT,
		  "openat(AT_FDCWD, unterminated path at the end of a mapping)");

	/* Paths. */
	CHECK_ERR(syscall(SYS_stat, BAD1, &st), EFAULT, "stat(0x1, &st)");
	CHECK_ERR(syscall(SYS_stat, "/", BAD1), EFAULT, "stat(\"/\", 0x1)");
	CHECK_ERR(syscall(SYS_stat, "/", rdonly), EFAULT, "stat(\"/\", read-only page)");
	CHECK_ERR(syscall(SYS_lstat, NULL, &st), EFAULT, "lstat(NULL, &st)");
	CHECK_ERR(syscall(SYS_newfstatat, AT_FDCWD, BAD1, &st, 0), EFAULT,
		  "newfstatat(AT_FDCWD, 0x1, &st, 0)");
	CHECK_ERR(syscall(SYS_newfstatat, AT_FDCWD, "/", KERNEL, 0), EFAULT,
		  "newfstatat(AT_FDCWD, \"/\", kernel address, 0)");
	CHECK_ERR(syscall(SYS_fstat, 1, BAD1), EFAULT, "fstat(1, 0x1)");
	CHECK_ERR(syscall(SYS_openat, AT_FDCWD, BAD1, O_RDONLY), EFAULT,
		  "openat(AT_FDCWD, 0x1, O_RDONLY)");
	CHECK_ERR(syscall(SYS_open, KERNEL, O_RDONLY), EFAULT, "open(kernel address, O_RDONLY)");
	CHECK_ERR(syscall(SYS_access, none, F_OK), EFAULT, "access(PROT_NONE page, F_OK)");
	CHECK_ERR(syscall(SYS_readlink, "/proc/self/exe", BAD1, 100), EFAULT,
		  "readlink(\"/proc/self/exe\", 0x1, 100)");
	CHECK_ERR(syscall(SYS_readlink, BAD1, drain, sizeof drain), EFAULT,
		  "readlink(0x1, buf, 64)");
	CHECK_ERR(syscall(SYS_getcwd, BAD1, 100), EFAULT, "getcwd(0x1, 100)");
	CHECK_ERR(syscall(SYS_chdir, BAD1), EFAULT, "chdir(0x1)");

	/* Output structures. */
	CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, BAD1), EFAULT,
		  "clock_gettime(CLOCK_MONOTONIC, 0x1)");
	CHECK_ERR(syscall(SYS_clock_gettime, CLOCK_REALTIME, rdonly), EFAULT,
		  "clock_gettime(CLOCK_REALTIME, read-only page)");
	CHECK_ERR(syscall(SYS_clock_getres, CLOCK_MONOTONIC, BAD1), EFAULT,
		  "clock_getres(CLOCK_MONOTONIC, 0x1)");
	CHECK_ERR(syscall(SYS_gettimeofday, BAD1, NULL), EFAULT, "gettimeofday(0x1, NULL)");
	CHECK_ERR(syscall(SYS_time, BAD1), EFAULT, "time(0x1)");
	CHECK_ERR(syscall(SYS_uname, BAD1), EFAULT, "uname(0x1)");
	CHECK_ERR(syscall(SYS_uname, KERNEL), EFAULT, "uname(kernel address)");
	CHECK_ERR(syscall(SYS_sysinfo, BAD1), EFAULT, "sysinfo(0x1)");
	CHECK_ERR(syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD1), EFAULT, "getrlimit(RLIMIT_NOFILE, 0x1)");
	CHECK_ERR(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, BAD1), EFAULT,
		  "prlimit64(0, RLIMIT_NOFILE, NULL, 0x1)");
	CHECK_ERR(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, BAD1, NULL), EFAULT,
		  "prlimit64(0, RLIMIT_NOFILE, 0x1, NULL)");
	CHECK_ERR(syscall(SYS_getrandom, BAD1, 16, 0), EFAULT, "getrandom(0x1, 16, 0)");
	CHECK_ERR(syscall(SYS_sched_getaffinity, 0, 128, BAD1), EFAULT,
		  "sched_getaffinity(0, 128, 0x1)");
	CHECK_ERR(syscall(SYS_pipe, BAD1), EFAULT, "pipe(0x1)");
	CHECK_ERR(syscall(SYS_pipe2, rdonly, 0), EFAULT, "pipe2(read-only page, 0)");

	/* Input structures. */
	CHECK_ERR(syscall(SYS_nanosleep, BAD1, NULL), EFAULT, "nanosleep(0x1, NULL)");
	CHECK_ERR(syscall(SYS_poll, BAD1, 1, 0), EFAULT, "poll(0x1, 1, 0)");
	CHECK_ERR(syscall(SYS_readv, fd, BAD1, 1), EFAULT, "readv(file, 0x1, 1)");
	struct iovec iov = { .iov_base = BAD1, .iov_len = 10 };
	CHECK_ERR(syscall(SYS_readv, fd, &iov, 1), EFAULT, "readv(file, {0x1, 10}, 1)");
	CHECK_ERR(syscall(SYS_writev, pfd[1], &iov, 1), EFAULT, "writev(pipe, {0x1, 10}, 1)");
	CHECK_ERR(syscall(SYS_rt_sigaction, SIGUSR1, BAD1, NULL, 8), EFAULT,
		  "rt_sigaction(SIGUSR1, 0x1, NULL, 8)");
	CHECK_ERR(syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD1, NULL, 8), EFAULT,
		  "rt_sigprocmask(SIG_BLOCK, 0x1, NULL, 8)");

	/*
	 * The process is still fine, and the good pages are intact. (Not `edge`
	 * itself: a failed copy may have written a prefix of the object there.)
	 */
	CHECK(area[0] == 'a' && edge[-1] == 'a' && ((unsigned char *)rdonly)[0] == 'a',
	      "mapped pages keep their contents");
	CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == 0, "a good clock_gettime works");
	CHECK(syscall(SYS_read, fd, drain, 4) == 4 && memcmp(drain, "\177ELF", 4) == 0,
	      "a good read works");
	close(fd);
	return guest_done();
}
