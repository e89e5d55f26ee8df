/*
 * report.h: the analyst's report, one self-contained HTML page (no scripts,
 * no external assets) summarising a run: every alert with its evidence,
 * per watched name the issuers and keys seen, a timeline of handshakes and
 * alerts (inline SVG), the top SNIs and issuers.
 *
 * It is a struct ev_sink: it sees each handshake and alert as it is
 * emitted and keeps aggregates, each table capped (REPORT_*_MAX); what a
 * cap cut is said on the page.  Distrusts: every string from the wire,
 * written only HTML-escaped.  Owns: its tables and the open report file.
 */
#ifndef TLSENTRY_REPORT_H
#define TLSENTRY_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#ifndef REPORT_ALERTS_MAX
#define REPORT_ALERTS_MAX 500		/* alerts shown with their evidence */
#endif
#ifndef REPORT_WATCHED_MAX
#define REPORT_WATCHED_MAX 256		/* watched names tabulated */
#endif
#ifndef REPORT_PER_NAME_MAX
#define REPORT_PER_NAME_MAX 16		/* issuers and keys kept per watched name */
#endif
#ifndef REPORT_NAMES_MAX
#define REPORT_NAMES_MAX 20000		/* distinct SNIs and issuers counted */
#endif
#ifndef REPORT_TOP
#define REPORT_TOP 20			/* rows of the top SNIs and issuers */
#endif
#ifndef REPORT_TIMELINE_BINS
#define REPORT_TIMELINE_BINS 120	/* bars of the timeline */
#endif
#ifndef REPORT_TIMES_MAX
#define REPORT_TIMES_MAX 200000		/* event times kept for the timeline */
#endif

struct report;

/* What the run was, for the page's header. */
struct report_run {
	const char *sources;		/* "samples/x.pcap", "eth0", ... */
	double seconds;
	uint64_t packets, handshakes, alerts;
	bool interrupted;
	const struct ev_output_stats *outs;
	size_t n_outs;
};

/* Open (create or truncate) the report file now, before privileges drop. */
struct report *report_open(const char *path, char *err, size_t errsz);

/* The struct ev_sink callback. */
void report_deliver(void *ctx, struct ev_msg *m);

/* Write the page and close the file; -1 with err on a write error. */
int report_write(struct report *r, const struct report_run *run, char *err, size_t errsz);

void report_free(struct report *r);

#endif /* TLSENTRY_REPORT_H */
