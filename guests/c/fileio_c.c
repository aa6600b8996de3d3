/*
 * File descriptors and files: open/read/pread/lseek/fstat/close on the
 * guest's own binary, readv/writev, access/faccessat, open errors, fcntl,
 * dup/dup2/dup3, pipes, getcwd, a temporary file written and read back, and
 * what stdout is: the tests run guests with stdout as a pipe, so
 * ioctl(1, TCGETS) fails with ENOTTY and lseek(1) with ESPIPE.
 *
 * Expects argv[0] to be a path to the binary (the test harness passes an
 * absolute one).
 */
#include "guest.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

/* The lowest fd >= from that is not open (normally 3 for from = 0). */
static int lowest_free(int from)
{
	for (int fd = from;; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
			return fd;
}

static void own_binary(const char *self)
{
	int expect = lowest_free(0);
	int fd = openat(AT_FDCWD, self, O_RDONLY);
	CHECK(fd == expect, "openat(own binary) returns the lowest free fd");
	if (fd < 0)
		return;

	unsigned char head[64], again[64];
	CHECK(read(fd, head, 64) == 64, "read 64 bytes");
	CHECK(memcmp(head, "\177ELF\2\1\1", 7) == 0, "ELF magic, 64-bit, little-endian, version 1");
	CHECK(lseek(fd, 0, SEEK_CUR) == 64, "the offset is now 64");
	CHECK(pread(fd, again, 64, 0) == 64 && memcmp(head, again, 64) == 0,
	      "pread(0) returns the same 64 bytes");
	CHECK(lseek(fd, 0, SEEK_CUR) == 64, "pread does not move the offset");
	CHECK(lseek(fd, 100, SEEK_SET) == 100, "lseek(100, SEEK_SET)");
	CHECK(lseek(fd, 10, SEEK_CUR) == 110, "lseek(10, SEEK_CUR)");
	CHECK(lseek(fd, -10, SEEK_CUR) == 100, "lseek(-10, SEEK_CUR)");
	CHECK(read(fd, again, 4) == 4 && pread(fd, again + 4, 4, 100) == 4 &&
		      memcmp(again, again + 4, 4) == 0,
	      "read at offset 100 == pread at 100");
	off_t end = lseek(fd, 0, SEEK_END);
	struct stat st;
	CHECK(fstat(fd, &st) == 0, "fstat");
	CHECK(S_ISREG(st.st_mode), "S_ISREG(st_mode)");
	CHECK(end == st.st_size, "lseek(0, SEEK_END) == st_size");
	CHECK(st.st_mode & S_IXUSR, "the binary is executable by its owner");
	CHECK(read(fd, again, 10) == 0, "read at end of file returns 0");
	CHECK(pread(fd, again, 10, end + 1000) == 0, "pread past end of file returns 0");
	CHECK(lseek(fd, 1000, SEEK_END) == end + 1000, "lseek past the end is allowed");
	CHECK(lseek(fd, -4, SEEK_END) == end - 4, "lseek(-4, SEEK_END)");
	CHECK_ERR(lseek(fd, -1, SEEK_SET), EINVAL, "lseek(-1, SEEK_SET)");
	CHECK_ERR(lseek(fd, 0, 99), EINVAL, "lseek(0, whence 99)");

	struct stat st2;
	CHECK(stat(self, &st2) == 0 && st2.st_ino == st.st_ino && st2.st_dev == st.st_dev,
	      "stat(path) and fstat(fd) agree on dev/ino");
	CHECK(fstatat(AT_FDCWD, self, &st2, 0) == 0 && st2.st_size == st.st_size,
	      "fstatat(AT_FDCWD, path) agrees on the size");

	/* readv from the file, checked against pread. */
	unsigned char a[10], b[20], ref[30];
	struct iovec iov[2] = { { a, sizeof a }, { b, sizeof b } };
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek(0, SEEK_SET)");
	CHECK(readv(fd, iov, 2) == 30, "readv into 10 + 20 bytes");
	CHECK(pread(fd, ref, 30, 0) == 30 && memcmp(ref, a, 10) == 0 &&
		      memcmp(ref + 10, b, 20) == 0,
	      "readv's buffers == pread");
	CHECK(preadv(fd, iov, 2, 0) == 30 && memcmp(ref, a, 10) == 0, "preadv(0)");

	/* fcntl and dup. */
	CHECK(fcntl(fd, F_GETFD) == 0, "F_GETFD of a fresh fd: 0");
	CHECK(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd, F_GETFD) == FD_CLOEXEC,
	      "F_SETFD FD_CLOEXEC sticks");
	CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "F_GETFL & O_ACCMODE == O_RDONLY");
	expect = lowest_free(0);
	int d = dup(fd);
	CHECK(d == expect, "dup returns the lowest free fd");
	CHECK(fcntl(d, F_GETFD) == 0, "dup clears FD_CLOEXEC");
	CHECK(lseek(fd, 123, SEEK_SET) == 123 && lseek(d, 0, SEEK_CUR) == 123,
	      "dup'd fds share the file offset");
	int f10 = lowest_free(10), f11 = lowest_free(f10 + 1);
	CHECK(dup2(fd, f10) == f10, "dup2(fd, a free fd >= 10)");
	CHECK(dup2(f10, f10) == f10, "dup2(n, n) returns n");
	CHECK(fcntl(fd, F_DUPFD, f10) == f11, "F_DUPFD returns the next free fd above a taken one");
	int f20 = lowest_free(f11 + 10), f21 = lowest_free(f20 + 1);
	CHECK(fcntl(fd, F_DUPFD_CLOEXEC, f20) == f20 && fcntl(f20, F_GETFD) == FD_CLOEXEC,
	      "F_DUPFD_CLOEXEC");
	CHECK(dup3(fd, f21, O_CLOEXEC) == f21 && fcntl(f21, F_GETFD) == FD_CLOEXEC, "dup3 O_CLOEXEC");
	CHECK_ERR(dup3(fd, fd, 0), EINVAL, "dup3(fd, fd, 0)");
	CHECK_ERR(dup2(fd, -1), EBADF, "dup2(fd, -1)");
	CHECK(close(f10) == 0 && close(f11) == 0 && close(f20) == 0 && close(f21) == 0 &&
		      close(d) == 0,
	      "close the duplicates");
	CHECK(lseek(fd, 0, SEEK_CUR) == 123, "the original still works");
	CHECK(close(fd) == 0, "close");
	CHECK_ERR(close(fd), EBADF, "close again");
	CHECK_ERR(read(fd, a, 1), EBADF, "read of a closed fd");
	CHECK_ERR(fstat(fd, &st), EBADF, "fstat of a closed fd");
	CHECK_ERR(fcntl(fd, F_GETFD), EBADF, "fcntl of a closed fd");
	CHECK_ERR(read(-1, a, 1), EBADF, "read(-1)");
	CHECK_ERR(write(1000, "x", 1), EBADF, "write(1000)");
}

static void paths(const char *self)
{
	CHECK(access(self, R_OK) == 0, "access(own binary, R_OK)");
	CHECK(access(self, X_OK) == 0, "access(own binary, X_OK)");
	CHECK(faccessat(AT_FDCWD, self, R_OK | X_OK, 0) == 0, "faccessat(own binary, R_OK|X_OK)");
	CHECK(access("/", F_OK) == 0, "access(\"/\", F_OK)");
	CHECK_ERR(access("/nonexistent-umk-test/x", F_OK), ENOENT, "access(missing)");
	CHECK_ERR(faccessat(AT_FDCWD, "/nonexistent-umk-test/x", R_OK, 0), ENOENT,
		  "faccessat(missing)");
	CHECK_ERR(open("/nonexistent-umk-test/x", O_RDONLY), ENOENT, "open(missing)");
	CHECK_ERR(openat(AT_FDCWD, "/nonexistent-umk-test", O_RDONLY), ENOENT, "openat(missing)");
	CHECK_ERR(open("", O_RDONLY), ENOENT, "open(\"\")");
	CHECK_ERR(open(self, O_RDONLY | O_DIRECTORY), ENOTDIR, "open(file, O_DIRECTORY)");
	char sub[PATH_MAX + 8];
	snprintf(sub, sizeof sub, "%s/x", self);
	CHECK_ERR(open(sub, O_RDONLY), ENOTDIR, "open(file/x)");
	CHECK_ERR(open("/", O_WRONLY), EISDIR, "open(\"/\", O_WRONLY)");
	int expect = lowest_free(0);
	int dfd = open("/", O_RDONLY | O_DIRECTORY);
	CHECK(dfd == expect, "open(\"/\", O_DIRECTORY) returns the lowest free fd");
	struct stat st;
	CHECK(fstat(dfd, &st) == 0 && S_ISDIR(st.st_mode), "it is a directory");
	CHECK_ERR(read(dfd, sub, 10), EISDIR, "read of a directory fd");
	close(dfd);

	char cwd[PATH_MAX];
	CHECK(getcwd(cwd, sizeof cwd) == cwd && cwd[0] == '/', "getcwd starts with '/'");
	struct stat a, b;
	CHECK(stat(cwd, &a) == 0 && stat(".", &b) == 0 && a.st_ino == b.st_ino &&
		      a.st_dev == b.st_dev,
	      "stat(getcwd()) is stat(\".\")");
	CHECK_ERR(syscall(SYS_getcwd, cwd, 1), ERANGE, "getcwd with a 1-byte buffer");

	char link[PATH_MAX], real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", link, sizeof link - 1);
	CHECK(n > 0, "readlink(\"/proc/self/exe\")");
	if (n > 0)
		link[n] = 0;
	CHECK(n > 0 && realpath(self, real) && strcmp(link, real) == 0,
	      "readlink(\"/proc/self/exe\") == realpath(argv[0])");
	CHECK_ERR(readlink(self, link, sizeof link), EINVAL, "readlink of a regular file");
}

static void tmpfile_io(void)
{
	char path[] = "/tmp/umk-fileio-XXXXXX";
	int fd = mkstemp(path);
	if (!CHECK(fd >= 0, "mkstemp in /tmp"))
		return;
	static char big[100000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('A' + i % 26);
	CHECK(write(fd, big, sizeof big) == (ssize_t)sizeof big, "write 100000 bytes");
	CHECK(pwrite(fd, "hello", 5, 50) == 5, "pwrite at 50");
	CHECK(lseek(fd, 0, SEEK_CUR) == (off_t)sizeof big, "pwrite does not move the offset");
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)sizeof big, "size 100000");
	CHECK(ftruncate(fd, 1000) == 0 && fstat(fd, &st) == 0 && st.st_size == 1000,
	      "ftruncate to 1000");
	CHECK(lseek(fd, 5000, SEEK_SET) == 5000 && write(fd, "end", 3) == 3 &&
		      fstat(fd, &st) == 0 && st.st_size == 5003,
	      "write past the end extends the file");
	char buf[5003];
	CHECK(pread(fd, buf, sizeof buf, 0) == 5003, "pread it all back");
	int ok = memcmp(buf, big, 50) == 0 && memcmp(buf + 50, "hello", 5) == 0 &&
		 memcmp(buf + 55, big + 55, 1000 - 55) == 0 && memcmp(buf + 5000, "end", 3) == 0;
	for (int i = 1000; i < 5000; i++)
		ok &= buf[i] == 0;
	CHECK(ok, "contents: data, pwrite, truncation, zero-filled gap");
	CHECK(fsync(fd) == 0 && fdatasync(fd) == 0, "fsync, fdatasync");
	int ro = open(path, O_RDONLY);
	CHECK_ERR(write(ro, "x", 1), EBADF, "write to an O_RDONLY fd");
	close(ro);
	int ap = open(path, O_WRONLY | O_APPEND);
	CHECK(ap >= 0 && write(ap, "++", 2) == 2 && fstat(ap, &st) == 0 && st.st_size == 5005,
	      "O_APPEND writes at the end");
	close(ap);
	CHECK_ERR(open(path, O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST, "O_CREAT|O_EXCL on an existing file");
	CHECK(unlink(path) == 0, "unlink");
	CHECK_ERR(access(path, F_OK), ENOENT, "access after unlink");
	CHECK(pread(fd, buf, 3, 5000) == 3 && memcmp(buf, "end", 3) == 0,
	      "an unlinked file stays readable through its fd");
	close(fd);
}

static void pipes(void)
{
	int p[2];
	int lo = lowest_free(0), hi = lowest_free(lo + 1);
	if (!CHECK(pipe(p) == 0, "pipe"))
		return;
	CHECK(p[0] == lo && p[1] == hi, "pipe returns the two lowest free fds");
	CHECK(write(p[1], "ping", 4) == 4, "write to the pipe");
	char buf[8];
	CHECK(read(p[0], buf, sizeof buf) == 4 && memcmp(buf, "ping", 4) == 0, "read it back");
	CHECK(fcntl(p[0], F_SETFL, O_NONBLOCK) == 0 && (fcntl(p[0], F_GETFL) & O_NONBLOCK),
	      "F_SETFL O_NONBLOCK");
	CHECK_ERR(read(p[0], buf, sizeof buf), EAGAIN, "read of an empty non-blocking pipe");
	CHECK((fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY, "the write end is O_WRONLY");
	CHECK_ERR(lseek(p[0], 0, SEEK_CUR), ESPIPE, "lseek on a pipe");
	struct pollfd pfd = { .fd = p[0], .events = POLLIN };
	CHECK(poll(&pfd, 1, 0) == 0, "poll of an empty pipe: not readable");
	CHECK(write(p[1], "x", 1) == 1 && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN),
	      "poll after a write: readable");
	close(p[1]);
	CHECK(read(p[0], buf, sizeof buf) == 1 && read(p[0], buf, sizeof buf) == 0,
	      "read after the writer closed: the data, then EOF");
	close(p[0]);
}

static void stdout_is_a_pipe(void)
{
	static const char *acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "3" };
	struct stat st;
	CHECK(fstat(1, &st) == 0 && S_ISFIFO(st.st_mode), "stdout is a pipe (S_ISFIFO)");
	printf("fcntl(1, F_GETFD): %d\n", fcntl(1, F_GETFD));
	int fl = fcntl(1, F_GETFL);
	printf("fcntl(1, F_GETFL) & O_ACCMODE: %s\n", fl < 0 ? "error" : acc[fl & O_ACCMODE]);
	struct termios t;
	CHECK_ERR(ioctl(1, TCGETS, &t), ENOTTY, "ioctl(1, TCGETS)");
	CHECK_ERR(lseek(1, 0, SEEK_CUR), ESPIPE, "lseek(1, 0, SEEK_CUR)");
	struct pollfd pfd = { .fd = 1, .events = POLLOUT };
	CHECK(poll(&pfd, 1, 1000) == 1 && pfd.revents == POLLOUT, "poll(1, POLLOUT): writable");
	CHECK(isatty(1) == 0, "isatty(1) == 0");

	static char part2[] = "writev ";
	struct iovec iov[3] = {
		{ "[", 1 },
		{ part2, sizeof part2 - 1 },
		{ "to stdout]\n", 11 },
	};
	fflush(stdout);
	CHECK(writev(1, iov, 3) == 19, "writev of 3 buffers to stdout");
}

int main(int argc, char **argv)
{
	(void)argc;
	guest_init("fileio_c");
	if (!strchr(argv[0], '/')) {
		printf("fileio_c: argv[0] must be a path\n");
		return 2;
	}
	own_binary(argv[0]);
	paths(argv[0]);
	tmpfile_io();
	pipes();
	stdout_is_a_pipe();
	return guest_done();
}
