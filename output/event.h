/*
 * event.h: tlsentry's events as ECS (Elastic Common Schema) JSON Lines.
 *
 * The engine describes a finished handshake in a struct ev_handshake (plain
 * values and borrowed pointers, nothing to parse) and this module turns it
 * into one "handshake" event and, for a finding, one "alert" event carrying
 * the same fields, so a SIEM needs no join.  Field order is fixed and every
 * value comes from the capture, so output is deterministic.
 */
#ifndef TLSENTRY_EVENT_H
#define TLSENTRY_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>

#include "../parser/cert.h"
#include "../parser/tls_hs.h"
#include "../rules/judge.h"
#include "../rules/rules.h"
#include "json.h"

#define EV_ANOMALIES_MAX 8
#define EV_ECS_VERSION "8.11.0"	/* the Elastic Common Schema version followed */

struct ev_handshake {
	int64_t ts_us;		/* capture time of the first hello */
	const char *source_file;	/* the capture it was read from, or NULL */
	const char *interface;		/* or the interface it was captured on */
	uint8_t family;		/* 4 or 6 */
	uint8_t transport;	/* IP protocol: 6 (TCP) or 17 (UDP); 0 means TCP */
	const char *protocol;	/* "tls" (NULL), "dtls" or "quic" */
	uint32_t quic_version;	/* QUIC: the version of its Initial packets */
	const uint8_t *client_ip, *server_ip;
	uint16_t client_port, server_port;
	bool roles_inferred;	/* no hello said who is who; the sender of the
				   certificate was taken to be the server */

	const struct tls_client_hello *ch;	/* the last ClientHello, or NULL */
	unsigned n_client_hellos;
	const struct tls_server_hello *sh;	/* the last ServerHello, or NULL */
	bool hrr;		/* a HelloRetryRequest came first */
	bool hvr;		/* DTLS: a HelloVerifyRequest (cookie) came first */
	size_t preamble_len;	/* cleartext bytes before the client's TLS */
	const char *upgraded_from;	/* the cleartext protocol before it (smtp, ...), or NULL */

	struct cert_info *const *chain;	/* server certificates as sent, leaf first */
	size_t chain_len;	/* kept */
	size_t chain_total;	/* as sent */
	bool cert_visible;	/* a server Certificate message was read */
	bool cert_unreadable;	/* one was sent but could not be read (over a cap, malformed) */
	bool client_cert;	/* the client sent a certificate (mutual TLS) */
	bool established;	/* both sides were seen moving to encrypted records */
	bool resumed;
	const char *resumed_with;	/* "session-id", "ticket" or "psk" when resumed */

	const struct cert_info *client_leaf;	/* mutual TLS: the client's certificate */
	const struct cert_ocsp *ocsp;	/* a stapled OCSP response, or NULL */

	/* fingerprints, NULL when not computable */
	const char *ja3, *ja3_string, *ja3s, *ja3s_string, *ja4, *ja4_r;

	const char *incomplete;	/* why the handshake could not be followed to
				   its end (e.g. "gap", "malformed"), or NULL */
	const char *anomalies[EV_ANOMALIES_MAX];
	unsigned n_anomalies;

	const struct judgement *j;	/* the rule, verdict, chain status and findings */
	uint64_t repeats[R_N];	/* per alerting finding: identical alerts suppressed
				   since the last one raised (--alert-interval) */
	bool suppressed[R_N];	/* this finding's alert is a repeat and was not raised */

	/* evidence an alert points to: file paths, or NULL */
	const char *cert_store_dir;	/* --store-certs: chain[i]->stored are there */
	const char *evidence_pcap;	/* --evidence: this handshake's packets */
	bool evidence_partial;		/* ... not all of them (over the per-flow cap) */
};

/* The handshake's stable id (16 hex digits), as in its events. */
void ev_handshake_id(const struct ev_handshake *hs, char out[17]);
/* How an output writes events: ECS JSON Lines, ArcSight CEF, a human line. */
enum ev_format { EV_FMT_JSON, EV_FMT_CEF, EV_FMT_TEXT, EV_FMT_N };

/* What an event is; outputs drop handshakes and metrics before alerts. */
enum ev_kind { EV_KIND_HANDSHAKE, EV_KIND_ALERT, EV_KIND_METRIC, EV_KIND_N };

/* A growable byte buffer for the CEF and text renderings, capped at JSON_MAX. */
struct ev_buf {
	char *p;		/* owned; NUL-terminated when not failed */
	size_t len, cap;
	bool failed;		/* over JSON_MAX or out of memory */
};

/* The kernel's view of a live interface (pcap_stats). */
struct ev_iface {
	const char *name;
	uint64_t received, dropped, if_dropped;
};

/* One counter of a metric event: tlsentry.stats.<group>.<name>, or
 * tlsentry.stats.<name> when group is NULL.  Counters of a group are adjacent. */
struct ev_counter {
	const char *group;
	const char *name;
	uint64_t value;
};

/* What an extra output (a syslog collector) did so far, for metric events
 * and the summary; filled by its owner, rendered here. */
struct ev_output_stats {
	const char *name;	/* e.g. "tcp://127.0.0.1:514" */
	const char *format;	/* "json", "cef", "text" */
	bool connected;
	uint64_t enqueued;	/* messages accepted into its queue */
	uint64_t sent;		/* written to the transport (RELP: acknowledged) */
	uint64_t queued;	/* waiting now */
	uint64_t dropped[EV_KIND_N];	/* queue full, by kind */
	uint64_t truncated;	/* UDP: cut to the datagram size */
	uint64_t send_failed;	/* UDP: datagrams the kernel refused */
	uint64_t connects, connect_failures, disconnects;
	uint64_t unconfirmed[EV_KIND_N];	/* written, not yet acknowledged by the
						   peer's TCP when the connection broke */
	uint64_t undelivered[EV_KIND_N];	/* still queued when the run ended */
};

/* A metric event's contents. */
struct ev_metric {
	int64_t ts_us;
	const struct ev_counter *c;
	size_t n;
	const struct ev_iface *ifs;
	size_t n_ifs;
	const struct ev_output_stats *outs;
	size_t n_outs;
};

/*
 * One event as an output sees it.  hs for handshakes and alerts; finding
 * (an index into hs->j->findings, -1 for a handshake) and reason for alerts;
 * metric for metric events; message is the human sentence of the event.
 * ev_render() gives its text in a format (NULL if over JSON_MAX); valid
 * until the next event.
 */
struct ev_msg {
	enum ev_kind kind;
	unsigned severity;	/* syslog severity (RFC 5424 s6.2.1): 2..6 */
	int64_t ts_us;		/* when it happened (capture time) */
	const struct ev_handshake *hs;
	int finding;		/* alerts: hs->j->findings[finding]; else -1 */
	const char *reason;	/* alerts: the finding's reason ("unexpected-issuer") */
	const struct ev_metric *metric;
	const char *message;
	size_t message_len;
	const char *id;		/* event.id */
	struct ev_out *out;
};

const char *ev_render(struct ev_msg *m, enum ev_format f, size_t *len);

/* An extra output: deliver() gets every event, from the thread that emits. */
struct ev_sink {
	void (*deliver)(void *ctx, struct ev_msg *m);
	void *ctx;
};

#define EV_SINKS_MAX 16

struct ev_counts {
	uint64_t n_events;	/* written */
	uint64_t n_alerts;	/* of which alerts */
	uint64_t n_metrics;	/* of which metric events */
	uint64_t n_too_large;	/* dropped: over JSON_MAX */
	uint64_t n_write_errors;
	uint64_t n_reopen_failures;
};

#ifndef EV_OUT_BUF
#define EV_OUT_BUF (256 << 10)	/* stdio buffer of an event file or pipe (not line-buffered) */
#endif

#define EV_ALERTS_KEPT 10	/* alert messages kept for the end-of-run summary */

struct ev_out {
	FILE *fp;		/* owned unless it is stdout; NULL: no file output */
	const char *path;	/* NULL for stdout */
	bool line_buffered;
	enum ev_format fmt;	/* of the file or stdout */
	bool colour;		/* text format on a terminal */
	struct json_w w;
	struct ev_buf cef, text;	/* renderings of the current event */
	bool rendered[EV_FMT_N];
	struct ev_sink sinks[EV_SINKS_MAX];
	size_t n_sinks;
	struct ev_counts n;
	int first_errno;	/* of the first failed write */
	/* the first alerts' messages, JSON-escaped, cut at 300 bytes */
	char alerts[EV_ALERTS_KEPT][320];
	unsigned n_alerts_kept;
	/*
	 * --workers: each worker thread builds its events in its own ev_out
	 * (ev_out_worker), whose finished documents go to sink's file, one
	 * whole event at a time under sink's lock, and are counted in sink.
	 */
	struct ev_out *sink;
	pthread_mutex_t lock;	/* of an ev_out_open()ed stream: file, counts, alerts kept */
	bool has_lock;
};

/*
 * Events to path (appended), or stdout when path is NULL.  -1 + err on
 * failure.  Line-buffered output writes each event as it is made (for a
 * shipper tailing the file); otherwise events are written in large blocks.
 */
int ev_out_open(struct ev_out *o, const char *path, bool line_buffered, char *err,
    size_t errsz);

/*
 * Close and reopen the output file (logrotate moved it away).  On failure
 * the old stream is kept and -1 returned with err set.  No-op for stdout.
 */
int ev_out_reopen(struct ev_out *o, char *err, size_t errsz);

/* Flush and close; -1 if any write failed (first_errno says why). */
int ev_out_close(struct ev_out *o);

/*
 * A worker's builder whose events go to sink (opened with ev_out_open and
 * outliving it).  Free with ev_out_worker_free().  The builder itself is for
 * one thread; sink may be shared by any number of them and its own thread.
 */
void ev_out_worker(struct ev_out *o, struct ev_out *sink);

/* A consistent copy of o's counters while workers may be writing. */
void ev_out_counts(struct ev_out *o, struct ev_counts *out);
void ev_out_worker_free(struct ev_out *o);

/*
 * The file or stdout format; colour (ANSI) only matters for text.  With
 * EV_FMT_N nothing is written to the file or stdout (only to sinks).
 */
void ev_out_set_format(struct ev_out *o, enum ev_format fmt, bool colour);

/* Also hand every event to a sink; -1 when EV_SINKS_MAX are taken. */
int ev_out_add_sink(struct ev_out *o, const struct ev_sink *s);

/* "json", "cef", "text"; ev_format_parse returns EV_FMT_N for anything else. */
const char *ev_format_str(enum ev_format f);
enum ev_format ev_format_parse(const char *s);
const char *ev_kind_str(enum ev_kind k);

/* Buffer helpers (format.c uses them; capped at JSON_MAX). */
void ev_buf_reset(struct ev_buf *b);
void ev_buf_free(struct ev_buf *b);
void ev_buf_add(struct ev_buf *b, const void *p, size_t n);
void ev_buf_str(struct ev_buf *b, const char *s);
void ev_buf_fmt(struct ev_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void ev_emit_handshake(struct ev_out *o, const struct ev_handshake *hs);

/* An ECS metric event (event.kind "metric") with the run's counters. */
void ev_emit_metric(struct ev_out *o, const struct ev_metric *m);

/* An alert for one of hs's findings (hs->j->findings[i], which alerts). */
void ev_emit_alert(struct ev_out *o, const struct ev_handshake *hs, unsigned i);

/*
 * Community ID v1 (corelight/community-id-spec) of a flow, seed 0, into
 * out ("1:" + base64 SHA-1, 31 bytes with the NUL).
 */
void ev_community_id(uint8_t family, const uint8_t *a, uint16_t a_port, const uint8_t *b,
    uint16_t b_port, uint8_t proto, char out[32]);

#endif /* TLSENTRY_EVENT_H */
