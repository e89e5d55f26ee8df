/*
 * syslog.h: events to syslog collectors, each an RFC 5424 message.
 *
 *   udp://HOST[:PORT]   RFC 5426, one datagram per event, cut to udp_max
 *   tcp://HOST[:PORT]   RFC 6587 octet counting ("LEN SP MSG")
 *   tls://HOST[:PORT]   RFC 5425 (octet counting over TLS, OpenSSL libssl),
 *                       the collector's certificate verified against the CA
 *                       file and its name against HOST
 *   unix:///PATH        a local socket: datagram (one message each) or
 *                       stream (one message per line)
 *   relp://HOST[:PORT]  RELP (librelp): acknowledged, retransmitted after
 *                       a reconnect
 *
 * Each output has a bounded queue and a writer thread of its own: the
 * capture thread only renders and enqueues (syslog_deliver), so a slow or
 * absent collector never stalls capture.  A full queue drops handshake
 * and metric events before alerts; every drop is counted by kind.  Stream
 * transports reconnect with exponential backoff and send what is queued,
 * in order.  Distrusts: nothing on the wire (events are already escaped);
 * the collector's certificate is verified.  Owns: its queue, socket, TLS
 * and RELP state and thread.
 */
#ifndef TLSENTRY_SYSLOG_H
#define TLSENTRY_SYSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

#ifndef SYSLOG_QUEUE_MAX
#define SYSLOG_QUEUE_MAX 10000		/* messages queued per output (--syslog-queue) */
#endif
#ifndef SYSLOG_QUEUE_BYTES
#define SYSLOG_QUEUE_BYTES (64u << 20)	/* bytes queued per output */
#endif
#ifndef SYSLOG_UDP_MAX
#define SYSLOG_UDP_MAX 2048		/* datagram size (--syslog-udp-max), RFC 5426 s3.2 */
#endif
#ifndef SYSLOG_BACKOFF_MIN_MS
#define SYSLOG_BACKOFF_MIN_MS 200	/* first wait before reconnecting, doubled each failure */
#endif
#ifndef SYSLOG_BACKOFF_MAX_MS
#define SYSLOG_BACKOFF_MAX_MS 10000
#endif
#ifndef SYSLOG_CONNECT_TIMEOUT_MS
#define SYSLOG_CONNECT_TIMEOUT_MS 3000	/* TCP connect and TLS handshake */
#endif
#ifndef SYSLOG_WRITE_TIMEOUT_MS
#define SYSLOG_WRITE_TIMEOUT_MS 30000	/* a collector that takes nothing this long is gone */
#endif
#ifndef SYSLOG_INFLIGHT_MAX
#define SYSLOG_INFLIGHT_MAX 4096	/* messages tracked until the peer's TCP acknowledges them */
#endif
#define SYSLOG_OUTPUTS_MAX 12

struct syslog_opts {
	enum ev_format fmt;
	const char *ca_file;	/* tls: the collector's CA; NULL: the system's store */
	size_t queue_max;	/* messages; 0: SYSLOG_QUEUE_MAX */
	size_t udp_max;		/* 0: SYSLOG_UDP_MAX */
	unsigned facility;	/* 0..23 (RFC 5424 table 1) */
};

struct syslog_out;

/*
 * Parse url, resolve its host, load the CA (tls), make the RELP engine:
 * everything that needs files or DNS, so it runs before privileges drop
 * and the system-call filter goes in.  Connects nothing yet.  NULL and err
 * on failure.
 */
struct syslog_out *syslog_open(const char *url, const struct syslog_opts *o, char *err,
    size_t errsz);

/* Start the writer thread (after the privilege drop, before the filter). */
int syslog_start(struct syslog_out *s, char *err, size_t errsz);

/* The struct ev_sink callback: render, frame, enqueue.  Never blocks on I/O. */
void syslog_deliver(void *ctx, struct ev_msg *m);

/* A snapshot of its counters; name and format stay valid until syslog_free(). */
void syslog_stats(struct syslog_out *s, struct ev_output_stats *st);

/*
 * The end: every output gets until timeout_ms to deliver its queue, then
 * its thread is stopped; what was left is counted as undelivered.
 */
void syslog_finish(struct syslog_out *const *v, size_t n, unsigned timeout_ms);

void syslog_free(struct syslog_out *s);

/* 0..23 for "kern".."local7", -1 if unknown. */
int syslog_facility(const char *name);

/* Parse a URL into its parts (for tests): 0, or -1 with err. */
int syslog_parse_url(const char *url, char *scheme, size_t scheme_sz, char *host, size_t host_sz,
    char *port, size_t port_sz, char *err, size_t errsz);

#endif /* TLSENTRY_SYSLOG_H */
