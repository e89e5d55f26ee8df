/*
 * sandbox.c: the seccomp allow-list.  Trusts nothing after start-up: every
 * system call not listed here is refused with EPERM.  Mapping or protecting
 * memory as executable is refused too, so injected code has nowhere to run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <sys/ioctl.h>
#include <linux/sockios.h>

#include <seccomp.h>

#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer) || \
    __has_feature(memory_sanitizer)
#define SANITIZED 1
#endif
#endif

/* What a running sensor calls, by name (libseccomp maps them per architecture). */
static const char *const allowed[] = {
	/* events, diagnostics, reading a capture file, reopening -w, reloading rules */
	"read", "write", "writev", "pread64", "lseek", "close", "openat", "open",
	"fstat", "newfstatat", "fstatat64", "statx", "fcntl", "unlink", "unlinkat",
	"rename", "renameat", "renameat2", "fsync", "fdatasync",
	/* live capture: libpcap's ring, its statistics and its exit */
	"poll", "ppoll", "getsockopt", "setsockopt", "recvfrom", "recvmsg",
	/* memory (mmap and mprotect only without PROT_EXEC, below) */
	"brk", "munmap", "mremap", "madvise",
	/* time, signals, exit */
	"clock_gettime", "clock_gettime64", "gettimeofday", "nanosleep", "clock_nanosleep",
	"rt_sigreturn", "rt_sigprocmask", "futex", "getpid", "gettid", "tgkill",
	"getuid", "geteuid", "getgid", "getegid", "exit", "exit_group", "restart_syscall",
	/* libcrypto may reseed or query the CPU after start-up */
	"getrandom", "sched_getaffinity", "sched_yield",
};

bool
sandbox_available(const char **why)
{
#ifdef SANITIZED
	*why = "sanitizer build: its reports need ptrace and fork";
	return false;
#else
	*why = NULL;
	return true;
#endif
}

/* What the syslog writer threads call once they run (sockets, TLS, RELP). */
static const char *const allowed_network[] = {
	"connect", "sendto", "sendmsg", "send", "recv", "shutdown", "getsockname",
	"getpeername", "select", "_newselect", "pselect6",
};

static int
allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n_names, char *err,
    size_t errsz)
{
	int n;

	for (size_t i = 0; i < n_names; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;		/* not a call on this architecture */
		if ((n = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) != 0) {
			snprintf(err, errsz, "allowing %s: %s", names[i], strerror(-n));
			return -1;
		}
	}
	return 0;
}

int
sandbox_enter(bool network, char *err, size_t errsz)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	static const int families[] = { AF_UNIX, AF_INET, AF_INET6 };
	int rc = -1, n;

	if (ctx == NULL) {
		snprintf(err, errsz, "seccomp_init failed");
		return -1;
	}
	/* every thread, the syslog writers included, gets the same filter */
	if ((n = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0) {
		snprintf(err, errsz, "cannot filter every thread: %s", strerror(-n));
		goto out;
	}
	if (allow_names(ctx, allowed, sizeof(allowed) / sizeof(allowed[0]), err, errsz) != 0)
		goto out;
	if (network) {
		if (allow_names(ctx, allowed_network, sizeof(allowed_network) /
		    sizeof(allowed_network[0]), err, errsz) != 0)
			goto out;
		for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
			if ((n = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
			    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)families[i], 0))) != 0) {
				snprintf(err, errsz, "allowing socket: %s", strerror(-n));
				goto out;
			}
		if ((n = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
		    SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)SIOCOUTQ, 0))) != 0) {
			snprintf(err, errsz, "allowing ioctl: %s", strerror(-n));
			goto out;
		}
	}
	/* memory, but never executable */
	if ((n = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) != 0 ||
	    (n = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
	    SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0))) != 0) {
		snprintf(err, errsz, "allowing mmap: %s", strerror(-n));
		goto out;
	}
	/* every thread (--workers start theirs before this), not just this one */
	if ((n = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) != 0) {
		snprintf(err, errsz, "cannot apply the filter to every thread: %s", strerror(-n));
		goto out;
	}
	if ((n = seccomp_load(ctx)) != 0) {
		snprintf(err, errsz, "cannot load the system call filter: %s", strerror(-n));
		goto out;
	}
	rc = 0;
out:
	seccomp_release(ctx);
	return rc;
}
