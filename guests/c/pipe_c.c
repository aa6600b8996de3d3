/*
 * Pipes between processes: parent/child both ways, EOF only when every
 * writer has closed, 1 MiB through a pipe with a checksum, SIGPIPE killing a
 * writer whose reader is gone (EPIPE when SIGPIPE is ignored), POLLHUP,
 * PIPE_BUF atomicity with several writers, dup2 of a child's stdout into a
 * pipe and then execve of this program.
 *
 * `pipe_c [SECTION]` runs one section (all of them without an argument).
 * Prints only relations and fixed values, never pids.
 */
#include "proc.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>

static const char *const SECTIONS[] = {
	"basic", "eof", "bulk", "sigpipe", "poll", "atomic", "redirect", NULL,
};

static const char *self;

static void basic(void)
{
	int down[2], up[2];
	xpipe(down);
	xpipe(up);
	pid_t pid = xfork();
	if (pid == 0) {
		close(down[1]);
		close(up[0]);
		char buf[64] = { 0 };
		ssize_t n = read(down[0], buf, sizeof buf - 1);
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] >= 'a' && buf[i] <= 'z')
				buf[i] -= 32;
		write_all(up[1], buf, n > 0 ? n : 0);
		child_exit(n == 5 ? 0 : 1);
	}
	close(down[0]);
	close(up[1]);
	CHECK(write(down[1], "hello", 5) == 5, "parent writes \"hello\" to the child");
	char buf[64] = { 0 };
	ssize_t n = read_full(up[0], buf, sizeof buf - 1);
	printf("parent reads back \"%s\" (%zd bytes) then EOF\n", buf, n);
	CHECK(exited_with(wait_status(pid), 0), "child exits 0");
	close(down[1]);
	close(up[0]);
}

static void eof(void)
{
	/* Two children write one byte each; the parent reads until EOF, which
	 * comes only after both (and the parent's own write end) are closed. */
	int p[2], go[2][2];
	xpipe(p);
	xpipe(go[0]);
	xpipe(go[1]);
	pid_t kids[2];
	for (int i = 0; i < 2; i++) {
		kids[i] = xfork();
		if (kids[i] == 0) {
			close(p[0]);
			close(go[i][1]);
			close(go[1 - i][0]);
			close(go[1 - i][1]);
			wait_token(go[i][0]);
			write_all(p[1], i == 0 ? "a" : "b", 1);
			if (i == 1)
				wait_token(go[i][0]); /* holds its write end open */
			child_exit(0);
		}
	}
	close(p[1]);
	close(go[0][0]);
	close(go[1][0]);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	char c;
	CHECK_ERR(read(p[0], &c, 1), EAGAIN, "empty pipe with writers open, O_NONBLOCK read");
	send_token(go[0][1]);
	send_token(go[1][1]);
	CHECK(exited_with(wait_status(kids[0]), 0), "first writer exits");
	struct pollfd pfd = { p[0], POLLIN, 0 };
	int got = 0;
	while (got < 2 && poll(&pfd, 1, 5000) == 1) {
		ssize_t n = read(p[0], &c, 1);
		if (n == 1)
			got++;
		else
			break;
	}
	CHECK(got == 2, "both bytes arrive");
	CHECK_ERR(read(p[0], &c, 1), EAGAIN, "one writer gone, one still open: read gives EAGAIN, not EOF");
	close(go[1][1]); /* the second child closes its end and exits */
	CHECK(exited_with(wait_status(kids[1]), 0), "second writer exits");
	CHECK(read(p[0], &c, 1) == 0, "all writers closed: read returns 0 (EOF)");
	close(go[0][1]);
	close(p[0]);
}

#define BULK (1 << 20)

static uint32_t fnv(uint32_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 8) + (i >> 16));
}

static void bulk(void)
{
	static unsigned char buf[BULK];
	for (size_t i = 0; i < BULK; i++)
		buf[i] = pattern(i);
	uint32_t expect = fnv(2166136261u, buf, BULK);

	int p[2];
	xpipe(p);
	pid_t pid = xfork();
	if (pid == 0) {
		close(p[0]);
		/* Uneven chunk sizes, some larger than the pipe. */
		size_t off = 0, chunk = 1;
		while (off < BULK) {
			size_t n = chunk < BULK - off ? chunk : BULK - off;
			if (write_all(p[1], buf + off, n) != 0)
				child_exit(1);
			off += n;
			chunk = chunk * 3 + 1;
			if (chunk > 200000)
				chunk = 7;
		}
		child_exit(0);
	}
	close(p[1]);
	memset(buf, 0, BULK);
	size_t total = 0;
	uint32_t h = 2166136261u;
	unsigned char chunk[4096 + 13];
	for (;;) {
		ssize_t n = read(p[0], chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		h = fnv(h, chunk, n);
		total += n;
	}
	printf("received %zu bytes\n", total);
	CHECK(total == BULK && h == expect, "1 MiB arrives intact (FNV-1a checksum matches)");
	CHECK(exited_with(wait_status(pid), 0), "writer exits 0");
	close(p[0]);

	/* And the other way: the parent writes, the child checks. */
	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[1]);
		uint32_t hh = 2166136261u;
		size_t t = 0;
		ssize_t n;
		while ((n = read(p[0], chunk, sizeof chunk)) > 0) {
			hh = fnv(hh, chunk, n);
			t += n;
		}
		child_exit(t == BULK && hh == expect ? 0 : 1);
	}
	close(p[0]);
	for (size_t i = 0; i < BULK; i++)
		buf[i] = pattern(i);
	CHECK(write_all(p[1], buf, BULK) == 0, "parent writes 1 MiB");
	close(p[1]);
	CHECK(exited_with(wait_status(pid), 0), "the child received it intact");
}

static void sigpipe(void)
{
	/* Default disposition: the writer dies. */
	int p[2];
	xpipe(p);
	close(p[0]); /* no reader at all */
	pid_t pid = xfork();
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		(void)write(p[1], "x", 1);
		child_exit(1);
	}
	int st = wait_status(pid);
	CHECK(WIFSIGNALED(st), "writer to a pipe without readers: killed by a signal");
	CHECK(killed_by(st, SIGPIPE), "WTERMSIG == SIGPIPE");
	close(p[1]);

	/* The reader is a child that exits: then the parent's write fails. */
	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[1]);
		char c;
		(void)read(p[0], &c, 1);
		child_exit(0);
	}
	close(p[0]);
	struct sigaction ign, old;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &ign, &old);
	CHECK(write(p[1], "y", 1) == 1, "write while the reader child lives");
	CHECK(exited_with(wait_status(pid), 0), "reader child exits");
	CHECK_ERR(write(p[1], "z", 1), EPIPE, "SIGPIPE ignored: write after the reader exited");
	sigaction(SIGPIPE, &old, NULL);
	close(p[1]);

	/* SIGPIPE blocked: EPIPE, and the signal stays pending. */
	xpipe(p);
	close(p[0]);
	pid = xfork();
	if (pid == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		sigprocmask(SIG_BLOCK, &set, NULL);
		int ok = write(p[1], "x", 1) == -1 && errno == EPIPE;
		sigpending(&set);
		ok &= sigismember(&set, SIGPIPE);
		child_exit(ok ? 0 : 1);
	}
	CHECK(exited_with(wait_status(pid), 0), "SIGPIPE blocked: EPIPE and SIGPIPE pending");
	close(p[1]);
}

static void poll_test(void)
{
	int up, go;
	pid_t pid = fork_linked(&up, &go);
	if (pid == 0) {
		wait_token(go);
		write_all(up, "data", 4);
		wait_token(go);
		child_exit(0); /* closes the last write end */
	}
	struct pollfd pfd = { up, POLLIN, 0 };
	CHECK(poll(&pfd, 1, 0) == 0, "poll: nothing to read yet");
	send_token(go);
	pfd.revents = 0;
	CHECK(poll(&pfd, 1, 5000) == 1 && pfd.revents == POLLIN, "poll: POLLIN after the child writes");
	char buf[8];
	CHECK(read(up, buf, sizeof buf) == 4, "read the 4 bytes");
	close(go);
	CHECK(exited_with(wait_status(pid), 0), "the writer exits");
	pfd.revents = 0;
	CHECK(poll(&pfd, 1, 5000) == 1 && pfd.revents == POLLHUP,
	      "poll: POLLHUP (and not POLLIN) when the only writer is gone");
	close(up);

	/* The write end: POLLERR once the reader is gone. */
	int p[2];
	xpipe(p);
	pid = xfork();
	if (pid == 0) {
		close(p[1]);
		child_exit(0);
	}
	close(p[0]);
	CHECK(exited_with(wait_status(pid), 0), "the reader exits");
	pfd = (struct pollfd){ p[1], POLLOUT, 0 };
	CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLERR), "poll on the write end: POLLERR");
	close(p[1]);
}

#define WRITERS 4
#define MESSAGES 64
#define MSG 512 /* <= PIPE_BUF: each write is atomic */

static void atomic(void)
{
	int p[2];
	xpipe(p);
	pid_t kids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		kids[w] = xfork();
		if (kids[w] == 0) {
			close(p[0]);
			char msg[MSG];
			memset(msg, 'A' + w, MSG);
			for (int i = 0; i < MESSAGES; i++)
				if (write(p[1], msg, MSG) != MSG)
					child_exit(1);
			child_exit(0);
		}
	}
	close(p[1]);
	int counts[WRITERS] = { 0 }, torn = 0;
	char msg[MSG];
	while (read_full(p[0], msg, MSG) == MSG) {
		int w = msg[0] - 'A';
		for (int i = 1; i < MSG; i++)
			if (msg[i] != msg[0])
				torn = 1;
		if (w >= 0 && w < WRITERS)
			counts[w]++;
		else
			torn = 1;
	}
	int ok = 1;
	for (int w = 0; w < WRITERS; w++) {
		ok &= exited_with(wait_status(kids[w]), 0);
		ok &= counts[w] == MESSAGES;
	}
	CHECK(PIPE_BUF >= MSG, "PIPE_BUF >= %d", MSG);
	CHECK(!torn, "%d writers x %d writes of %d bytes: no write interleaved with another",
	      WRITERS, MESSAGES, MSG);
	CHECK(ok, "every message arrived, every writer exited 0");
	close(p[0]);
}

static void redirect(void)
{
	int p[2];
	xpipe(p);
	pid_t pid = xfork();
	if (pid == 0) {
		close(p[0]);
		if (dup2(p[1], 1) != 1)
			child_exit(1);
		close(p[1]);
		char *argv[] = { (char *)self, "first arg", NULL };
		char *envp[] = { "PIPE_C_ROLE=echo", NULL };
		execve(self, argv, envp);
		child_exit(127);
	}
	close(p[1]);
	char buf[256] = { 0 };
	ssize_t n = read_full(p[0], buf, sizeof buf - 1);
	CHECK(n > 0, "read the exec'd child's stdout from the pipe");
	CHECK(strcmp(buf, "echo: first arg\necho: stdout is a pipe: yes\n") == 0,
	      "it is exactly what the child printed");
	printf("captured: \"");
	for (ssize_t i = 0; i < n; i++)
		printf(buf[i] == '\n' ? "\\n" : "%c", buf[i]);
	printf("\"\n");
	CHECK(exited_with(wait_status(pid), 0), "the exec'd child exits 0");
	close(p[0]);
}

static int echo_role(int argc, char **argv)
{
	printf("echo: %s\n", argc > 1 ? argv[1] : "(none)");
	/* lseek on a pipe fails with ESPIPE. */
	errno = 0;
	int is_pipe = lseek(1, 0, SEEK_CUR) == -1 && errno == ESPIPE;
	printf("echo: stdout is a pipe: %s\n", is_pipe ? "yes" : "no");
	return 0;
}

int main(int argc, char **argv)
{
	self = argv[0];
	if (getenv("PIPE_C_ROLE"))
		return echo_role(argc, argv);
	guest_init("pipe_c");
	proc_alarm(20);
	if (select_section(argc, argv, SECTIONS))
		return 2;
	if (section("basic"))
		basic();
	if (section("eof"))
		eof();
	if (section("bulk"))
		bulk();
	if (section("sigpipe"))
		sigpipe();
	if (section("poll"))
		poll_test();
	if (section("atomic"))
		atomic();
	if (section("redirect"))
		redirect();
	return guest_done();
}
