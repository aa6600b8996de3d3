/*
 * Shared helpers for the C guests.
 *
 * Guest output must be deterministic: identical natively and under umk, run
 * after run. Never print pids, addresses, times or random bytes; print facts
 * and relations ("getpid() == gettid(): yes") instead.
 *
 * CHECK(cond, fmt, ...) prints "<description>: yes" or "<description>: no"
 * and counts failures; guest_done() prints a summary line and returns the
 * exit status (0 when every check passed, 1 otherwise).
 */
#ifndef UMK_GUEST_H
#define UMK_GUEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int guest_checks, guest_failures;
static const char *guest_name = "guest";

/* Line-buffered stdout, so that a crash loses at most the current line. */
static inline void guest_init(const char *name)
{
	guest_name = name;
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline int check_(int ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int check_(int ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(": %s\n", ok ? "yes" : "no");
	guest_checks++;
	if (!ok) {
		guest_failures++;
		fflush(stdout);
		va_start(ap, fmt);
		fprintf(stderr, "%s: check failed: ", guest_name);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	return ok;
}
#define CHECK(cond, ...) check_(!!(cond), __VA_ARGS__)

static inline int guest_done(void)
{
	if (guest_failures) {
		printf("%s: %d of %d checks FAILED\n", guest_name, guest_failures,
		       guest_checks);
		return 1;
	}
	printf("%s: all %d checks passed\n", guest_name, guest_checks);
	return 0;
}

/* sigaction(sig) with handler `h` and `flags`, an empty mask; ends the
 * guest (status 2) if it fails: the test cannot go on without it. */
static inline void set_handler(int sig, void (*h)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0) {
		perror("sigaction");
		exit(2);
	}
}

/* Installs `h` as an SA_SIGINFO handler for `sig` with `flags` added and an
 * empty mask; exits 2 if sigaction fails. */
static inline void set_action(int sig, void (*h)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = h;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0) {
		perror("sigaction");
		exit(2);
	}
}

/* The symbolic name of an errno value ("EFAULT"), or "E<number>". */
static inline const char *errno_name(int e)
{
	static char buf[16];
	switch (e) {
#define E_(x) case x: return #x;
	E_(EPERM) E_(ENOENT) E_(ESRCH) E_(EINTR) E_(EIO) E_(ENXIO) E_(E2BIG)
	E_(ENOEXEC) E_(EBADF) E_(ECHILD) E_(EAGAIN) E_(ENOMEM) E_(EACCES)
	E_(EFAULT) E_(ENOTBLK) E_(EBUSY) E_(EEXIST) E_(EXDEV) E_(ENODEV)
	E_(ENOTDIR) E_(EISDIR) E_(EINVAL) E_(ENFILE) E_(EMFILE) E_(ENOTTY)
	E_(ETXTBSY) E_(EFBIG) E_(ENOSPC) E_(ESPIPE) E_(EROFS) E_(EMLINK)
	E_(EPIPE) E_(EDOM) E_(ERANGE) E_(EDEADLK) E_(ENAMETOOLONG) E_(ENOLCK)
	E_(ENOSYS) E_(ENOTEMPTY) E_(ELOOP) E_(ENOMSG) E_(EIDRM) E_(ENOSTR)
	E_(ENODATA) E_(ETIME) E_(EOVERFLOW) E_(EILSEQ) E_(ENOTSOCK)
	E_(EDESTADDRREQ) E_(EMSGSIZE) E_(EPROTOTYPE) E_(ENOPROTOOPT)
	E_(EPROTONOSUPPORT) E_(EOPNOTSUPP) E_(EAFNOSUPPORT) E_(EADDRINUSE)
	E_(EADDRNOTAVAIL) E_(ENETUNREACH) E_(ECONNABORTED) E_(ECONNRESET)
	E_(ENOBUFS) E_(EISCONN) E_(ENOTCONN) E_(ETIMEDOUT) E_(ECONNREFUSED)
	E_(EALREADY) E_(EINPROGRESS) E_(ECANCELED) E_(EOWNERDEAD)
#undef E_
	default:
		snprintf(buf, sizeof buf, "E%d", e);
		return buf;
	}
}

/*
 * Prints "<what>: <ret>" for a successful call, "<what>: -1 <ENAME>" for a
 * failed one (ret == -1, errno set), and returns ret.
 */
static inline long report(const char *what, long ret)
{
	if (ret == -1)
		printf("%s: -1 %s\n", what, errno_name(errno));
	else
		printf("%s: %ld\n", what, ret);
	return ret;
}

static inline void check_err_(long ret, int err, int expected, const char *what)
{
	guest_checks++;
	if (ret == -1 && err == expected) {
		printf("%s: -1 %s\n", what, errno_name(err));
		return;
	}
	guest_failures++;
	if (ret == -1)
		printf("%s: -1 %s", what, errno_name(err));
	else
		printf("%s: %ld", what, ret);
	printf(" (expected -1 %s)\n", errno_name(expected));
	fflush(stdout);
	fprintf(stderr, "%s: check failed: %s\n", guest_name, what);
}

/*
 * CHECK that `call` fails with -1 and errno == e: prints "<what>: -1 <ENAME>"
 * (and the expectation when it differs). `what` is a printf format.
 */
#define CHECK_ERR(call, e, ...)                                                \
	do {                                                                   \
		char what_[256];                                               \
		long r_;                                                       \
		snprintf(what_, sizeof what_, __VA_ARGS__);                    \
		errno = 0;                                                     \
		r_ = (long)(call);                                             \
		check_err_(r_, errno, (e), what_);                             \
	} while (0)

#endif
