/*
 * log.h: diagnostics for people, on stderr, one line each, prefixed with the
 * program name.  Events never go here and diagnostics never go to events.
 */
#ifndef TLSENTRY_LOG_H
#define TLSENTRY_LOG_H

#include <stdarg.h>

/* Exit statuses: success, a run-time error, a usage error. */
enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print the message and exit with code (a startup error: flags, files). */
_Noreturn void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* TLSENTRY_LOG_H */
