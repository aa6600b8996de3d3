/*
 * Helpers for the process guests (fork_c, exec_c, pgrp_c, pipe_c, thread*_c,
 * forkbomb_c): forking without duplicating buffered output, children that
 * report their checks through their exit status, pipe I/O, wait statuses.
 *
 * Rules these guests follow: every child is reaped, every guest arms an
 * alarm() as a safety net, signals are only sent to pids and process groups
 * the guest made itself.
 */
#ifndef UMK_PROC_H
#define UMK_PROC_H

#include "guest.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* A safety net: whatever goes wrong, this process is gone after `secs`. */
static inline void proc_alarm(unsigned secs)
{
	alarm(secs);
}

/* fork() after flushing stdio, so that buffered output is not duplicated.
 * Exits the guest (status 2) if fork fails. */
static inline pid_t xfork(void)
{
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork: -1 %s\n", errno_name(errno));
		fflush(stdout);
		fprintf(stderr, "%s: fork failed\n", guest_name);
		exit(2);
	}
	if (pid == 0)
		alarm(10); /* alarms are not inherited: a child gets its own */
	return pid;
}

/* Ends a child: flushes stdout and _exits with `code`. */
static inline __attribute__((noreturn)) void child_exit(int code)
{
	fflush(stdout);
	fflush(stderr);
	_exit(code);
}

/* Ends a child that ran CHECKs: status 0 if they all passed, 1 if not. */
static inline __attribute__((noreturn)) void child_done(void)
{
	child_exit(guest_failures ? 1 : 0);
}

/* waitpid(pid, &status, flags), retrying on EINTR; returns what waitpid
 * returned. */
static inline pid_t xwaitpid(pid_t pid, int *status, int flags)
{
	pid_t r;
	do
		r = waitpid(pid, status, flags);
	while (r == -1 && errno == EINTR);
	return r;
}

/* Waits for child `pid` and returns its raw status (-1 if waitpid failed). */
static inline int wait_status(pid_t pid)
{
	int status = 0;
	if (xwaitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/* True if the status says "exited with `code`". */
static inline int exited_with(int status, int code)
{
	return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

/* True if the status says "killed by signal `sig`". */
static inline int killed_by(int status, int sig)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

/* Waits for `pid` and CHECKs that it exited with status 0 (its own checks
 * passed). */
#define CHECK_CHILD_OK(pid, ...) CHECK(exited_with(wait_status(pid), 0), __VA_ARGS__)

/* Writes all of buf; returns 0, or -1 on error. */
static inline int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Reads exactly len bytes; returns len, fewer at EOF, or -1 on error. */
static inline ssize_t read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += n;
	}
	return got;
}

/* Sends / receives one int through a pipe. */
static inline int send_int(int fd, int v)
{
	return write_all(fd, &v, sizeof v);
}

static inline int recv_int(int fd)
{
	int v = -1;
	if (read_full(fd, &v, sizeof v) != (ssize_t)sizeof v)
		return -1;
	return v;
}

/* One byte: a "go" or "ready" token. */
static inline int send_token(int fd)
{
	return write_all(fd, "x", 1);
}

static inline int wait_token(int fd)
{
	char c;
	return read_full(fd, &c, 1) == 1 ? 0 : -1;
}

/* pipe() that exits the guest on failure. */
static inline void xpipe(int fds[2])
{
	if (pipe(fds) != 0) {
		printf("pipe: -1 %s\n", errno_name(errno));
		exit(2);
	}
}

static inline void close_pipe(int fds[2])
{
	close(fds[0]);
	close(fds[1]);
}

/* "== name ==" and whether section `name` runs: all of them when no section
 * was asked for, else only the one named. */
static const char *proc_only;

static inline int section(const char *name)
{
	if (proc_only && strcmp(proc_only, name) != 0)
		return 0;
	printf("== %s ==\n", name);
	return 1;
}

/* argv[1], if given, names the one section to run; returns 0, or prints the
 * known ones and returns 1 if it names none of them. */
static inline int select_section(int argc, char **argv, const char *const *names)
{
	if (argc < 2)
		return 0;
	for (const char *const *n = names; *n; n++)
		if (strcmp(argv[1], *n) == 0) {
			proc_only = *n;
			return 0;
		}
	printf("unknown section %s; sections:", argv[1]);
	for (const char *const *n = names; *n; n++)
		printf(" %s", *n);
	printf("\n");
	return 1;
}

/* Runs `body` in a child that starts a session of its own: its group and
 * session ids are then its pid (natively, the ids a guest starts with may
 * be 0, when their leader is outside its pid namespace), and any group it
 * signals is inside that session. Returns the guest's exit status. */
static inline int in_new_session(void (*body)(void))
{
	pid_t pid = xfork();
	if (pid == 0) {
		CHECK(setsid() == getpid(), "setsid() in a child: a new session");
		body();
		child_exit(guest_done());
	}
	int st = wait_status(pid);
	CHECK(exited_with(st, 0), "the session child's checks all passed");
	return guest_failures ? 1 : 0;
}

/* fork() with two pipes between parent and child: `up` carries the child's
 * reports to the parent, `go` the parent's tokens to the child. Each side
 * keeps only its own ends: in the child *up is the write end and *go the
 * read end; in the parent *up is the read end and *go the write end. */
static inline pid_t fork_linked(int *up, int *go)
{
	int u[2], g[2];
	xpipe(u);
	xpipe(g);
	pid_t pid = xfork();
	if (pid == 0) {
		close(u[0]);
		close(g[1]);
		*up = u[1];
		*go = g[0];
	} else {
		close(u[1]);
		close(g[0]);
		*up = u[0];
		*go = g[1];
	}
	return pid;
}

/* Forks a child that waits until the write end returned in *release gets
 * a token or is closed, then exits with `code`. Returns its pid. */
static inline pid_t fork_held(int code, int *release)
{
	int go[2];
	xpipe(go);
	pid_t pid = xfork();
	if (pid == 0) {
		close(go[1]);
		wait_token(go[0]);
		child_exit(code);
	}
	close(go[0]);
	*release = go[1];
	return pid;
}

/* Forks a child that forks a grandchild; both wait until the write end
 * returned in *release is closed, then exit (the child 0 if the grandchild
 * exited 0). Returns the grandchild's pid; *mid is the child's. */
static inline pid_t spawn_grandchild(pid_t *mid, int *release)
{
	int up, go;
	pid_t pid = fork_linked(&up, &go);
	if (pid == 0) {
		pid_t g = xfork();
		if (g == 0) {
			wait_token(go);
			child_exit(0);
		}
		send_int(up, g);
		wait_token(go);
		child_exit(exited_with(wait_status(g), 0) ? 0 : 1);
	}
	pid_t g = recv_int(up);
	close(up);
	*mid = pid;
	*release = go;
	return g;
}

#endif
