/*
 * test_sandbox.c: the system-call filter refuses what a sensor never needs
 * (a new socket, exec, executable memory) and allows what it does (reading
 * and writing files it opens, memory).  The filter is installed in a child
 * process; the child reports each check through its exit status.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../sandbox.h"
#include "t.h"

/* Runs in the sandboxed child: one bit of the exit status per failed check. */
static int
child_checks(void)
{
	char err[256], buf[4];
	int bad = 0, fd, pfd[2];
	void *p;

	if (pipe(pfd) != 0 || sandbox_enter(false, err, sizeof(err)) != 0)
		return 0x80;
	/* refused */
	if (!(socket(AF_INET, SOCK_STREAM, 0) == -1 && errno == EPERM))
		bad |= 1;
	if (!(execl("/bin/true", "true", (char *)NULL) == -1 && errno == EPERM))
		bad |= 2;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!(p == MAP_FAILED && errno == EPERM))
		bad |= 4;
	if (!(fork() == -1 && errno == EPERM))
		bad |= 8;
	/* allowed */
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 0 || close(fd) != 0)
		bad |= 16;
	if (write(pfd[1], "ok", 2) != 2 || read(pfd[0], buf, 2) != 2)
		bad |= 32;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED || munmap(p, 4096) != 0)
		bad |= 64;
	return bad;
}

/* With syslog outputs: IP and unix sockets, but no raw, packet or netlink ones. */
static int
child_network_checks(void)
{
	char err[256];
	int bad = 0, fd;

	if (sandbox_enter(true, err, sizeof(err)) != 0)
		return 0x80;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		bad |= 1;
	else
		close(fd);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0)
		bad |= 2;
	else
		close(fd);
	if (!(socket(AF_PACKET, SOCK_RAW, 0) == -1 && errno == EPERM))
		bad |= 4;
	if (!(socket(AF_NETLINK, SOCK_RAW, 0) == -1 && errno == EPERM))
		bad |= 8;
	if (!(execl("/bin/true", "true", (char *)NULL) == -1 && errno == EPERM))
		bad |= 16;
	if (!(fork() == -1 && errno == EPERM))
		bad |= 32;
	return bad;
}

static void
test_sandbox_network(void)
{
	const char *why;
	int status = 0;
	pid_t pid;

	if (!sandbox_available(&why))
		return;
	pid = fork();
	if (pid == 0)
		_exit(child_network_checks());
	T_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	T_CHECK(WIFEXITED(status));
	T_EQ_U(WEXITSTATUS(status) & 0x80, 0);	/* the filter went in */
	T_EQ_U(WEXITSTATUS(status) & 1, 0);	/* an IP socket allowed */
	T_EQ_U(WEXITSTATUS(status) & 2, 0);	/* a unix socket allowed */
	T_EQ_U(WEXITSTATUS(status) & 4, 0);	/* packet sockets refused */
	T_EQ_U(WEXITSTATUS(status) & 8, 0);	/* netlink refused */
	T_EQ_U(WEXITSTATUS(status) & 16, 0);	/* exec still refused */
	T_EQ_U(WEXITSTATUS(status) & 32, 0);	/* fork still refused */
}

static void
test_sandbox_refuses_and_allows(void)
{
	const char *why;
	int status = 0;
	pid_t pid;

	if (!sandbox_available(&why)) {
		printf("note: %s: the filter is not tested in this build\n", why);
		return;
	}
	pid = fork();
	if (pid == 0)
		_exit(child_checks());
	T_CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	T_CHECK(WIFEXITED(status));
	T_EQ_U(WEXITSTATUS(status) & 0x80, 0);	/* the filter went in */
	T_EQ_U(WEXITSTATUS(status) & 1, 0);	/* socket() refused */
	T_EQ_U(WEXITSTATUS(status) & 2, 0);	/* exec refused */
	T_EQ_U(WEXITSTATUS(status) & 4, 0);	/* executable memory refused */
	T_EQ_U(WEXITSTATUS(status) & 8, 0);	/* fork refused */
	T_EQ_U(WEXITSTATUS(status) & 16, 0);	/* open, read, close allowed */
	T_EQ_U(WEXITSTATUS(status) & 32, 0);	/* read and write allowed */
	T_EQ_U(WEXITSTATUS(status) & 64, 0);	/* plain memory allowed */
}

int
main(void)
{
	T_RUN(test_sandbox_refuses_and_allows);
	T_RUN(test_sandbox_network);
	T_SUMMARY();
}
