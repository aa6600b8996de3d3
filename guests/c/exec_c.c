/*
 * execve: of itself (argv[0] is an absolute path) with argv and envp passed
 * through, exit codes through fork + exec + wait, the pid kept, O_CLOEXEC
 * descriptors closed and others kept, handled signals reset to SIG_DFL while
 * ignored ones and the signal mask stay, execve errors (ENOENT, EACCES,
 * ENOTDIR, ENOEXEC, EFAULT), `#!` scripts whose interpreter is this program
 * (with and without an optional argument, nested), vfork + execve, the
 * argument-size limit following the caller's RLIMIT_STACK (E2BIG).
 *
 * `exec_c [SECTION]` runs one section (all of them without an argument).
 * The exec'd images find their role in $EXEC_C_ROLE. Prints only relations,
 * never pids or temporary file names.
 */
#include "proc.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

static const char *const SECTIONS[] = {
	"args", "exit", "pid", "fds", "signals", "errors", "script", "vfork", "arglimit", NULL,
};

static const char *self; /* argv[0]: an absolute path to this program */
extern char **environ;

/* ------------------------------------------------------------------------ */
/* The exec'd images: what they do depends on $EXEC_C_ROLE. */

static const char *env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);
	return v ? v : dflt;
}

/* Prints argv[1..] and the environment (sorted as given). */
static int role_show(int argc, char **argv)
{
	printf("  image: argc = %d\n", argc);
	CHECK(argc > 0 && strcmp(argv[0], env_or("EXPECT_ARGV0", "")) == 0,
	      "  image: argv[0] is what the caller passed");
	for (int i = 1; i < argc; i++)
		printf("  image: argv[%d] = \"%s\"\n", i, argv[i]);
	CHECK(argv[argc] == NULL, "  image: argv[argc] == NULL");
	int n = 0;
	for (char **e = environ; *e; e++, n++) {
		if (strncmp(*e, "EXPECT_ARGV0=/", 14) == 0)
			printf("  image: envp[%d] = \"EXPECT_ARGV0=<this program>\"\n", n);
		else
			printf("  image: envp[%d] = \"%s\"\n", n, *e);
	}
	return atoi(env_or("EXIT_CODE", "0"));
}

static int role_pid(void)
{
	CHECK(getpid() == atoi(env_or("EXPECT_PID", "-1")), "  image: getpid() is unchanged by execve");
	CHECK(getppid() == atoi(env_or("EXPECT_PPID", "-1")), "  image: getppid() is unchanged by execve");
	return guest_failures ? 1 : 0;
}

static int role_fds(void)
{
	int keep = atoi(env_or("KEEP_FD", "-1"));
	int gone = atoi(env_or("CLOEXEC_FD", "-1"));
	int gone2 = atoi(env_or("SETFD_FD", "-1"));
	CHECK(fcntl(keep, F_GETFD) == 0, "  image: the fd without FD_CLOEXEC is open, FD_CLOEXEC clear");
	CHECK_ERR(fcntl(gone, F_GETFD), EBADF, "  image: fcntl(O_CLOEXEC fd, F_GETFD)");
	CHECK_ERR(fcntl(gone2, F_GETFD), EBADF, "  image: fcntl(fd given FD_CLOEXEC by F_SETFD, F_GETFD)");
	/* The kept fd still works: write through it (the parent reads it). */
	CHECK(write(keep, "kept", 4) == 4, "  image: writing to the kept pipe works");
	/* Standard descriptors pass through. */
	CHECK(fcntl(1, F_GETFD) == 0, "  image: stdout is still open");
	return guest_failures ? 1 : 0;
}

static int role_signals(void)
{
	struct sigaction sa;
	sigaction(SIGUSR1, NULL, &sa);
	CHECK(sa.sa_handler == SIG_DFL, "  image: handled SIGUSR1 is reset to SIG_DFL");
	sigaction(SIGUSR2, NULL, &sa);
	CHECK(sa.sa_handler == SIG_IGN, "  image: ignored SIGUSR2 stays SIG_IGN");
	sigaction(SIGTERM, NULL, &sa);
	CHECK(sa.sa_handler == SIG_DFL, "  image: default SIGTERM stays SIG_DFL");
	sigset_t set;
	sigprocmask(SIG_SETMASK, NULL, &set);
	CHECK(sigismember(&set, SIGHUP) && !sigismember(&set, SIGUSR1),
	      "  image: the signal mask is kept (SIGHUP blocked, SIGUSR1 not)");
	sigpending(&set);
	CHECK(sigismember(&set, SIGHUP), "  image: the pending blocked SIGHUP is still pending");
	/* Unblocking it now would kill us: leave it blocked and exit. */
	return guest_failures ? 1 : 0;
}

/* The interpreter of a #! script: prints what the kernel passed. */
static int role_interp(int argc, char **argv)
{
	printf("  interpreter: argc = %d\n", argc);
	CHECK(argc > 0 && strcmp(argv[0], self) == 0,
	      "  interpreter: argv[0] is the interpreter path from the #! line");
	const char *script = env_or("SCRIPT", "");
	const char *inner = env_or("INNER_SCRIPT", "");
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], script) == 0)
			printf("  interpreter: argv[%d] = <the script path>\n", i);
		else if (*inner && strcmp(argv[i], inner) == 0)
			printf("  interpreter: argv[%d] = <the inner script path>\n", i);
		else
			printf("  interpreter: argv[%d] = \"%s\"\n", i, argv[i]);
	}
	return 0;
}

static int role_exit(void)
{
	return atoi(env_or("EXIT_CODE", "0"));
}

static int run_role(const char *role, int argc, char **argv)
{
	guest_init("exec_c image");
	if (strcmp(role, "show") == 0)
		return role_show(argc, argv);
	if (strcmp(role, "pid") == 0)
		return role_pid();
	if (strcmp(role, "fds") == 0)
		return role_fds();
	if (strcmp(role, "signals") == 0)
		return role_signals();
	if (strcmp(role, "interp") == 0)
		return role_interp(argc, argv);
	if (strcmp(role, "exit") == 0)
		return role_exit();
	printf("unknown EXEC_C_ROLE %s\n", role);
	return 2;
}

/* ------------------------------------------------------------------------ */
/* The caller. */

/* fork, then execve(path, argv, envp) in the child; returns the child's
 * wait status. The child exits 127 if execve fails. */
static int spawn(const char *path, char *const argv[], char *const envp[])
{
	pid_t pid = xfork();
	if (pid == 0) {
		execve(path, argv, envp);
		printf("execve failed: %s\n", errno_name(errno));
		child_exit(127);
	}
	return wait_status(pid);
}

static char env_self[PATH_MAX + 32];

static void args(void)
{
	snprintf(env_self, sizeof env_self, "EXPECT_ARGV0=%s", self);
	char *argv[] = { (char *)self, "one", "two words", "", "--", "ünïcödé", NULL };
	char *envp[] = { "EXEC_C_ROLE=show", env_self, "A=b c", "EMPTY=", "EXIT_CODE=0", NULL };
	int st = spawn(self, argv, envp);
	CHECK(exited_with(st, 0), "exec'd image exits 0");

	/* argv[0] need not be the path. */
	char *argv2[] = { "some-name", NULL };
	char *envp2[] = { "EXEC_C_ROLE=show", "EXPECT_ARGV0=some-name", "EXIT_CODE=0", NULL };
	st = spawn(self, argv2, envp2);
	CHECK(exited_with(st, 0), "argv[0] \"some-name\" is passed as given");

	/* Empty argv: Linux (since 5.18) passes argv[0] = "" instead. Not
	 * printed: older kernels pass argc == 0. Many arguments instead. */
	static char big[100][16];
	char *argv3[102];
	argv3[0] = (char *)self;
	for (int i = 0; i < 100; i++) {
		snprintf(big[i], sizeof big[i], "arg%d", i);
		argv3[i + 1] = big[i];
	}
	argv3[101] = NULL;
	char *envp3[] = { "EXEC_C_ROLE=exit", "EXIT_CODE=0", NULL };
	CHECK(exited_with(spawn(self, argv3, envp3), 0), "execve with 100 arguments");

	/* An empty environment. */
	char *envp4[] = { NULL };
	CHECK(exited_with(spawn(self, argv3, envp4), 0),
	      "execve with 100 arguments and an empty environment");
}

static void exit_codes(void)
{
	static const int codes[] = { 0, 1, 42, 255 };
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		char code[32];
		snprintf(code, sizeof code, "EXIT_CODE=%d", codes[i]);
		char *argv[] = { (char *)self, NULL };
		char *envp[] = { "EXEC_C_ROLE=exit", code, NULL };
		int st = spawn(self, argv, envp);
		CHECK(exited_with(st, codes[i]), "fork + execve + waitpid: exit status %d", codes[i]);
	}
}

static void pid_kept(void)
{
	char epid[32], eppid[32];
	snprintf(eppid, sizeof eppid, "EXPECT_PPID=%d", (int)getpid());
	pid_t pid = xfork();
	if (pid == 0) {
		snprintf(epid, sizeof epid, "EXPECT_PID=%d", (int)getpid());
		char *argv[] = { (char *)self, NULL };
		char *envp[] = { "EXEC_C_ROLE=pid", epid, eppid, NULL };
		execve(self, argv, envp);
		child_exit(127);
	}
	CHECK(exited_with(wait_status(pid), 0), "the exec'd child's checks passed");
}

static void fds(void)
{
	int keep[2], gone[2];
	xpipe(keep);
	CHECK(pipe2(gone, O_CLOEXEC) == 0, "pipe2(O_CLOEXEC)");
	int setfd = dup(keep[1]);
	CHECK(fcntl(setfd, F_SETFD, FD_CLOEXEC) == 0, "fcntl(F_SETFD, FD_CLOEXEC)");
	CHECK(fcntl(gone[0], F_GETFD) == FD_CLOEXEC, "O_CLOEXEC sets FD_CLOEXEC");
	char a[32], b[32], c[32];
	snprintf(a, sizeof a, "KEEP_FD=%d", keep[1]);
	snprintf(b, sizeof b, "CLOEXEC_FD=%d", gone[1]);
	snprintf(c, sizeof c, "SETFD_FD=%d", setfd);
	char *argv[] = { (char *)self, NULL };
	char *envp[] = { "EXEC_C_ROLE=fds", a, b, c, NULL };
	pid_t pid = xfork();
	if (pid == 0) {
		close(keep[0]);
		execve(self, argv, envp);
		child_exit(127);
	}
	close(keep[1]);
	close(setfd);
	char buf[16] = { 0 };
	ssize_t n = read_full(keep[0], buf, sizeof buf - 1);
	CHECK(n == 4 && strcmp(buf, "kept") == 0, "the parent reads what the image wrote to the kept fd, then EOF");
	CHECK(exited_with(wait_status(pid), 0), "the exec'd child's checks passed");
	close(keep[0]);
	close_pipe(gone);
}

static void on_usr1(int sig)
{
	(void)sig;
}

static void signals(void)
{
	pid_t pid = xfork();
	if (pid == 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_usr1;
		sigaction(SIGUSR1, &sa, NULL);
		sa.sa_handler = SIG_IGN;
		sigaction(SIGUSR2, &sa, NULL);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigprocmask(SIG_BLOCK, &set, NULL);
		raise(SIGHUP); /* stays pending */
		char *argv[] = { (char *)self, NULL };
		char *envp[] = { "EXEC_C_ROLE=signals", NULL };
		execve(self, argv, envp);
		child_exit(127);
	}
	CHECK(exited_with(wait_status(pid), 0), "the exec'd child's checks passed");
}

static char tmpdir[64];

static void path_in_tmp(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", tmpdir, name);
}

static int make_file(const char *path, const char *content, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int ok = write_all(fd, content, strlen(content)) == 0;
	close(fd);
	return ok && chmod(path, mode) == 0 ? 0 : -1;
}

static void errors(void)
{
	char *argv[] = { "x", NULL };
	char *envp[] = { NULL };
	char path[PATH_MAX];

	CHECK_ERR(execve("/nonexistent-umk/x", argv, envp), ENOENT, "execve(nonexistent path)");
	CHECK_ERR(execve("", argv, envp), ENOENT, "execve(\"\")");
	CHECK_ERR(execve(tmpdir, argv, envp), EACCES, "execve(a directory)");
	path_in_tmp(path, sizeof path, "noexec");
	CHECK(make_file(path, "\x7f" "ELF but not executable\n", 0644) == 0, "made a file without exec bits");
	CHECK_ERR(execve(path, argv, envp), EACCES, "execve(a file without exec bits)");
	path_in_tmp(path, sizeof path, "noexec/x");
	CHECK_ERR(execve(path, argv, envp), ENOTDIR, "execve(file/x): a path component is not a directory");
	path_in_tmp(path, sizeof path, "garbage");
	CHECK(make_file(path, "this is not an executable format\n", 0755) == 0, "made a garbage file with exec bits");
	CHECK_ERR(execve(path, argv, envp), ENOEXEC, "execve(garbage with exec bits)");
	path_in_tmp(path, sizeof path, "empty");
	CHECK(make_file(path, "", 0755) == 0, "made an empty file with exec bits");
	CHECK_ERR(execve(path, argv, envp), ENOEXEC, "execve(empty file with exec bits)");
	path_in_tmp(path, sizeof path, "badinterp");
	CHECK(make_file(path, "#!/nonexistent-umk/interp\n", 0755) == 0, "made a script with a missing interpreter");
	CHECK_ERR(execve(path, argv, envp), ENOENT, "execve(script whose interpreter does not exist)");
	CHECK_ERR(syscall(SYS_execve, 1L, argv, envp), EFAULT, "execve(bad path pointer)");
	char *bad_argv[] = { "x", (char *)1, NULL };
	CHECK_ERR(syscall(SYS_execve, self, bad_argv, envp), EFAULT, "execve(argv with a bad pointer)");
	CHECK_ERR(syscall(SYS_execve, self, 1L, envp), EFAULT, "execve(bad argv pointer)");
	path_in_tmp(path, sizeof path, "link");
	CHECK(symlink("link", path) == 0, "made a symlink loop");
	CHECK_ERR(execve(path, argv, envp), ELOOP, "execve(symlink loop)");
	/* Still the same process after all the failures. */
	CHECK(1, "still running after the failed execve calls");
}

static void script(void)
{
	if (strlen(self) > 200) {
		printf("argv[0] too long for a #! line: skipped\n");
		return;
	}
	char path[PATH_MAX], path2[PATH_MAX], nested[PATH_MAX], line[PATH_MAX + 64];
	char env_script[PATH_MAX + 16], env_inner[PATH_MAX + 32];

	/* With an optional argument (with spaces: it is one argument). */
	path_in_tmp(path, sizeof path, "script");
	snprintf(line, sizeof line, "#!%s  opt arg \nrest of the script\n", self);
	CHECK(make_file(path, line, 0755) == 0, "made #!<this program> \" opt arg \" script");
	snprintf(env_script, sizeof env_script, "SCRIPT=%s", path);
	char *argv[] = { "ignored-argv0", "x", "y z", NULL };
	char *envp[] = { "EXEC_C_ROLE=interp", env_script, NULL };
	CHECK(exited_with(spawn(path, argv, envp), 0), "the script ran, exit 0");

	/* Without one. */
	path_in_tmp(path2, sizeof path2, "script2");
	snprintf(line, sizeof line, "#!%s\n", self);
	CHECK(make_file(path2, line, 0755) == 0, "made #!<this program> script (no argument)");
	snprintf(env_script, sizeof env_script, "SCRIPT=%s", path2);
	CHECK(exited_with(spawn(path2, argv, envp), 0), "the script ran, exit 0");

	/* A script whose interpreter is a script. */
	path_in_tmp(nested, sizeof nested, "nested");
	snprintf(line, sizeof line, "#! %s outer\n", path);
	CHECK(make_file(nested, line, 0755) == 0, "made #!<the first script> outer");
	snprintf(env_script, sizeof env_script, "SCRIPT=%s", path);
	snprintf(env_inner, sizeof env_inner, "INNER_SCRIPT=%s", nested);
	char *envp2[] = { "EXEC_C_ROLE=interp", env_script, env_inner, NULL };
	CHECK(exited_with(spawn(nested, argv, envp2), 0), "the nested script ran, exit 0");

	/* The interpreter's exit status is the script's. */
	char *envp3[] = { "EXEC_C_ROLE=exit", "EXIT_CODE=33", NULL };
	CHECK(exited_with(spawn(path, argv, envp3), 33), "a script's exit status is the interpreter's (33)");
	unlink(nested);
	unlink(path2);
	unlink(path);
}

static void vfork_exec(void)
{
	volatile int shared = 0;
	char *argv[] = { (char *)self, NULL };
	char *envp[] = { "EXEC_C_ROLE=exit", "EXIT_CODE=42", NULL };
	fflush(stdout);
	pid_t pid = vfork();
	if (pid == 0) {
		shared = 1; /* the parent is suspended and shares our memory */
		execve(self, argv, envp);
		_exit(127);
	}
	CHECK(pid > 0, "vfork");
	CHECK(shared == 1, "the parent sees the vfork child's write (shared memory)");
	CHECK(exited_with(wait_status(pid), 42), "vfork + execve + waitpid: exit status 42");

	/* vfork + _exit without exec. */
	fflush(stdout);
	pid = vfork();
	if (pid == 0)
		_exit(5);
	CHECK(exited_with(wait_status(pid), 5), "vfork + _exit(5)");

	/* vfork + a failing execve. */
	fflush(stdout);
	pid = vfork();
	if (pid == 0) {
		execve("/nonexistent-umk/x", argv, envp);
		shared = errno;
		_exit(126);
	}
	CHECK(exited_with(wait_status(pid), 126) && shared == ENOENT,
	      "vfork + failing execve: the child's errno ENOENT seen by the parent, status 126");
}

/* The space execve gives the argv and envp strings (and their pointers)
 * depends on the caller's RLIMIT_STACK (fs/exec.c bprm_stack_limits):
 * min(soft limit / 4, 6 MiB), but at least ARG_MAX (128 KiB). Beyond that
 * execve fails with E2BIG and the caller goes on. Each execve runs in a
 * child, so this process's limits stay as they are. */
#define BIG_LEN 4000 /* bytes per big string, the NUL included */
#define BIG_MAX 1600 /* most big strings in one vector */

static char big_str[BIG_LEN]; /* "X=xx...x": an argument or a variable */
static char *big_vec[BIG_MAX + 2];

/* big_vec = { first, big_str n times, NULL } */
static char **big_vector(char *first, int n)
{
	big_vec[0] = first;
	for (int i = 1; i <= n; i++)
		big_vec[i] = big_str;
	big_vec[n + 1] = NULL;
	return big_vec;
}

/* In a child with RLIMIT_STACK's soft limit at `soft_kib` KiB: execve(self)
 * with argv and envp (whose image exits 0). CHECKs that it fails with E2BIG
 * if `e2big`, else that it succeeds. */
static void exec_limited(rlim_t soft_kib, int e2big, char *const argv[], char *const envp[],
			 const char *what)
{
	pid_t pid = xfork();
	if (pid == 0) {
		struct rlimit rl;
		if (getrlimit(RLIMIT_STACK, &rl) != 0 ||
		    (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < soft_kib * 1024)) {
			printf("  RLIMIT_STACK hard limit below %lu KiB\n", (unsigned long)soft_kib);
			child_exit(4);
		}
		rl.rlim_cur = soft_kib * 1024;
		if (setrlimit(RLIMIT_STACK, &rl) != 0) {
			printf("  setrlimit(RLIMIT_STACK): -1 %s\n", errno_name(errno));
			child_exit(4);
		}
		execve(self, argv, envp);
		int e = errno;
		if (!e2big || e != E2BIG)
			printf("  execve: -1 %s\n", errno_name(e));
		child_exit(e == E2BIG ? 3 : 127);
	}
	int st = wait_status(pid);
	CHECK(exited_with(st, e2big ? 3 : 0), "RLIMIT_STACK %lu KiB: %s %s", (unsigned long)soft_kib,
	      what, e2big ? "fails with E2BIG" : "succeeds");
}

static void arg_limit(void)
{
	memset(big_str, 'x', BIG_LEN - 1);
	memcpy(big_str, "X=", 2);
	big_str[BIG_LEN - 1] = 0;
	char *small_argv[] = { (char *)self, NULL };
	char *small_envp[] = { "EXEC_C_ROLE=exit", "EXIT_CODE=0", NULL };

	/* 1 MiB: 256 KiB for the strings. */
	exec_limited(1024, 1, big_vector((char *)self, 100), small_envp,
		     "execve with 100 arguments of 4000 bytes");
	exec_limited(1024, 0, big_vector((char *)self, 50), small_envp,
		     "execve with 50 arguments of 4000 bytes");
	exec_limited(1024, 1, small_argv, big_vector("EXEC_C_ROLE=exit", 100),
		     "execve with 100 environment strings of 4000 bytes");
	exec_limited(1024, 0, small_argv, big_vector("EXEC_C_ROLE=exit", 50),
		     "execve with 50 environment strings of 4000 bytes");
	/* 256 KiB: a quarter is 64 KiB, but ARG_MAX (128 KiB) is the floor. */
	exec_limited(256, 0, big_vector((char *)self, 25), small_envp,
		     "execve with 25 arguments of 4000 bytes");
	exec_limited(256, 1, big_vector((char *)self, 40), small_envp,
		     "execve with 40 arguments of 4000 bytes");
	/* 8 MiB (the usual default): 2 MiB. */
	exec_limited(8192, 0, big_vector((char *)self, 100), small_envp,
		     "execve with 100 arguments of 4000 bytes");
	exec_limited(8192, 1, big_vector((char *)self, 600), small_envp,
		     "execve with 600 arguments of 4000 bytes");
	/* 64 MiB: a quarter is 16 MiB, but 6 MiB is the ceiling. */
	exec_limited(65536, 0, big_vector((char *)self, 1400), small_envp,
		     "execve with 1400 arguments of 4000 bytes");
	exec_limited(65536, 1, big_vector((char *)self, BIG_MAX), small_envp,
		     "execve with 1600 arguments of 4000 bytes");
}

static pid_t tmp_owner;

/* Removes the temporary directory and what the sections put in it;
 * returns rmdir's result. Also runs at exit (in this process only), so that
 * a guest ending early (fork failing, say) leaves nothing behind. */
static int cleanup(void)
{
	if (!tmpdir[0] || getpid() != tmp_owner)
		return 0;
	static const char *const names[] = { "noexec", "garbage", "empty", "badinterp",
					      "link", "script", "script2", "nested" };
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		path_in_tmp(path, sizeof path, names[i]);
		unlink(path);
	}
	int r = rmdir(tmpdir);
	tmpdir[0] = 0;
	return r;
}

static void cleanup_at_exit(void)
{
	cleanup();
}

int main(int argc, char **argv)
{
	self = argv[0];
	const char *role = getenv("EXEC_C_ROLE");
	if (role)
		return run_role(role, argc, argv);
	if (argc == 101) /* the "100 arguments, empty environment" image */
		return 0;

	guest_init("exec_c");
	proc_alarm(20);
	if (select_section(argc, argv, SECTIONS))
		return 2;
	if (self[0] != '/') {
		printf("argv[0] must be an absolute path\n");
		return 2;
	}
	strcpy(tmpdir, "/tmp/exec_c-XXXXXX");
	if (!mkdtemp(tmpdir)) {
		printf("mkdtemp: %s\n", errno_name(errno));
		return 2;
	}
	tmp_owner = getpid();
	atexit(cleanup_at_exit);
	if (section("args"))
		args();
	if (section("exit"))
		exit_codes();
	if (section("pid"))
		pid_kept();
	if (section("fds"))
		fds();
	if (section("signals"))
		signals();
	if (section("errors"))
		errors();
	if (section("script"))
		script();
	if (section("vfork"))
		vfork_exec();
	if (section("arglimit"))
		arg_limit();

	CHECK(cleanup() == 0, "temporary directory removed");
	return guest_done();
}
