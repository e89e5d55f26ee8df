/*
 * tls_record.h: the streaming half of the TLS parser.  One struct tls_stream
 * per TCP direction turns in-order stream bytes into complete handshake
 * messages, across any split into records and segments.
 *
 * It finds where TLS starts (byte 0, or after a cleartext preamble such as
 * STARTTLS, bounded by preamble_max), walks records (RFC 5246 s6.2, RFC 8446
 * s5.1), reassembles handshake messages that span records, and stops at the
 * first ChangeCipherSpec or application_data record, after which everything
 * is encrypted.  Application data is never buffered.  SSL 2.0 hellos
 * (record header with the top bit set) are recognised at the stream start.
 *
 * tls_feed() is resumable at any byte boundary: feeding a stream in one piece,
 * in two, or byte by byte yields the same messages.
 */
#ifndef TLSENTRY_TLS_RECORD_H
#define TLSENTRY_TLS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memcap.h"

#ifndef TLS_REC_MAX
#define TLS_REC_MAX (16384 + 2048)	/* TLSCiphertext.length cap, RFC 5246 s6.2.3 */
#endif
#ifndef TLS_HS_MAX
#define TLS_HS_MAX ((uint32_t)1024 * 1024)	/* largest handshake message kept (a 340 KB
					   certificate has been seen in the wild) */
#endif
#ifndef TLS_PREAMBLE_MAX
#define TLS_PREAMBLE_MAX 16384		/* cleartext scanned for a handshake start */
#endif

enum tls_content_type {
	TLS_CT_CCS = 20,
	TLS_CT_ALERT = 21,
	TLS_CT_HANDSHAKE = 22,
	TLS_CT_APPDATA = 23,
	TLS_CT_HEARTBEAT = 24,
};

/* Why a stream stopped parsing. */
enum tls_stop {
	TLS_STOP_NONE = 0,
	TLS_STOP_CCS,		/* ChangeCipherSpec: what follows is encrypted */
	TLS_STOP_APPDATA,	/* an application_data record */
	TLS_STOP_ALERT,		/* a fatal alert or close_notify in the clear */
	TLS_STOP_SSLV2,		/* SSL 2.0: the rest of the handshake is encrypted */
	TLS_STOP_NOT_TLS,	/* no handshake within preamble_max bytes */
	TLS_STOP_ERROR,		/* malformed or over a cap; see err */
	TLS_STOP_CALLER,	/* tls_stream_stop() */
};

/*
 * A complete handshake message.  body is valid until the next tls_feed() or
 * tls_stream_free() on the same stream.  For SSL 2.0 messages body starts at
 * the message type byte (len includes it).
 */
struct tls_msg {
	uint8_t type;		/* handshake type; 0 = no message returned */
	bool is_sslv2;
	bool kept;		/* body holds the message; false for skipped types */
	const uint8_t *body;
	uint32_t len;		/* body length as declared on the wire */
};

struct tls_stream {
	/* configuration, set after tls_stream_init() and before feeding */
	uint32_t keep_mask;	/* bit t: keep bodies of handshake type t (t < 32) */
	uint32_t hs_max;	/* largest body kept; larger => P_LIMIT */
	size_t preamble_max;
	bool ccs_is_compat;	/* TLS 1.3 middlebox mode: a CCS is not a stop */
	struct memcap *mem;	/* budget for buf; may be NULL */

	uint8_t mode;		/* internal: START, SCAN, RECORDS, SSLV2, STOPPED */
	uint8_t stop;		/* enum tls_stop */
	int err;		/* pstat when stop == TLS_STOP_ERROR */
	uint8_t alert[2];	/* first alert seen: level, description */
	bool has_alert;
	bool sslv2_seen;	/* an SSL 2.0 hello was parsed on this stream */

	uint8_t hdr[5];		/* record header being read */
	uint8_t hdr_len;
	uint8_t rec_type;
	size_t rec_left;	/* body bytes left in the current record */
	uint8_t alert_have;
	uint8_t alert_cur[2];	/* the alert being read */

	uint8_t mhdr[4];	/* handshake header being read */
	uint8_t mhdr_len;
	uint8_t msg_type;
	bool msg_keep;
	bool msg_sslv2;
	uint32_t msg_len;
	uint32_t msg_have;
	uint8_t *buf;		/* owned; memcap-accounted */
	size_t buf_cap;

	uint8_t carry[11];	/* scan: tail of the previous chunk */
	uint8_t carry_len;
	size_t preamble_len;	/* bytes skipped by the scanner, in total */
	size_t scan_len;	/* bytes scanned since the scan began */
	uint64_t n_records;
};

/* Reset *s to a fresh stream with default limits; mem may be NULL. */
void tls_stream_init(struct tls_stream *s, struct memcap *mem);

/* Release the message buffer (the state stays readable).  NULL is a no-op. */
void tls_stream_free(struct tls_stream *s);

/*
 * Feed in-order stream bytes.  Returns the number of bytes consumed (>= 0), or
 * a negative pstat when the stream turned out malformed (it is then stopped
 * with TLS_STOP_ERROR).  When msg->type != 0 a complete handshake message is
 * returned and the caller feeds the rest (p + n, len - n) afterwards.  Once
 * stopped, every call consumes all bytes and returns no message.  A call with
 * len > 0 always consumes a byte, returns a message, or stops the stream.
 */
int tls_feed(struct tls_stream *s, const uint8_t *p, size_t len, struct tls_msg *msg);

/*
 * The bytes before the next ones fed were lost (a TCP hole that will never
 * be filled): drop any partial record or message and look for the next
 * handshake record, as after a cleartext preamble.  A stopped stream stays
 * stopped.
 */
void tls_stream_resync(struct tls_stream *s);

/* Stop parsing; later bytes are ignored.  Frees the buffer. */
void tls_stream_stop(struct tls_stream *s, enum tls_stop why);

static inline bool
tls_stream_stopped(const struct tls_stream *s)
{
	return s->stop != TLS_STOP_NONE;
}

/* Has the stream seen at least one well-formed TLS record or SSL 2.0 hello? */
static inline bool
tls_stream_is_tls(const struct tls_stream *s)
{
	return s->n_records > 0;
}

const char *tls_stop_str(enum tls_stop why);

#endif /* TLSENTRY_TLS_RECORD_H */
