/* log.c: one-line diagnostics on stderr. */
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

static void vlog(const char *kind, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
vlog(const char *kind, const char *fmt, va_list ap)
{
	fputs("tlsentry: ", stderr);
	if (kind != NULL)
		fputs(kind, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
log_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void
die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(NULL, fmt, ap);
	va_end(ap);
	exit(code);
}
