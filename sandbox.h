/*
 * sandbox.h: the system-call filter (seccomp, via libseccomp) installed once
 * start-up is over.  From then on the process may only do what reading
 * packets, writing events, reloading rules and reopening the event file
 * need: no new sockets (but those of syslog outputs), no exec, no ptrace, no
 * executable memory.  A call
 * outside the list fails with EPERM instead of running.
 */
#ifndef TLSENTRY_SANDBOX_H
#define TLSENTRY_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/* False in builds where the filter cannot work (sanitizer runtimes use ptrace
 * and fork for their reports); *why says so. */
bool sandbox_available(const char **why);

/*
 * Install the filter on every thread of the process (threads started
 * before it are covered too).  With network, the syslog writers' calls are
 * allowed as well: socket() for AF_UNIX, AF_INET and AF_INET6 only,
 * connect, send and receive, poll and select, and the ioctl that reads a
 * socket's unacknowledged bytes (SIOCOUTQ); never exec, fork or clone.
 * -1 with err set on failure (no filter installed).
 */
int sandbox_enter(bool network, char *err, size_t errsz);

#endif /* TLSENTRY_SANDBOX_H */
