/*
 * dtls.h: DTLS datagrams to complete handshake messages.  One struct
 * dtls_stream per direction of a UDP flow; the caller hands it each UDP
 * payload of that direction, in capture order, with dtls_feed().
 *
 * Records (RFC 6347 s4.1; RFC 9147 s4 for DTLS 1.3's plaintext hellos) are
 * walked inside each datagram.  Handshake fragments (RFC 6347 s4.2.2) are
 * reassembled into whole messages whatever their order, overlaps and
 * retransmissions, and each message is delivered exactly once, in
 * message_seq order, through a callback.  The first record that is
 * protected (epoch > 0, a ChangeCipherSpec, a DTLS 1.3 unified header or a
 * connection-ID record) ends parsing: that direction is encrypted from
 * there.  Application data is never buffered.
 *
 * Everything is bounded: hs_max per kept message, DTLS_AHEAD_MAX messages
 * held ahead of the next one to deliver, DTLS_FRAGS_MAX disjoint byte
 * ranges per message, and every buffer is taken from the caller's memcap.
 * Buffers grow with the bytes that arrive, not with what headers claim: a
 * fragment that would stretch its message's buffer past twice the bytes
 * held plus DTLS_GAP_MAX is dropped and counted (the peer retransmits it;
 * messages up to DTLS_GAP_MAX bytes are never affected).
 */
#ifndef TLSENTRY_DTLS_H
#define TLSENTRY_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memcap.h"
#include "tls_record.h"

#ifndef DTLS_AHEAD_MAX
#define DTLS_AHEAD_MAX 4	/* messages held beyond the next one to deliver */
#endif
#ifndef DTLS_FRAGS_MAX
#define DTLS_FRAGS_MAX 16	/* disjoint byte ranges held per message */
#endif
#ifndef DTLS_GAP_MAX
#define DTLS_GAP_MAX 16384	/* a kept message's buffer may reach 2 * bytes held + this */
#endif
#ifndef DTLS_REC_MAX
#define DTLS_REC_MAX (16384 + 2048)	/* DTLSCiphertext.length, RFC 6347 s4.1 */
#endif

/* Record content types beyond those of TLS (tls_record.h). */
enum {
	DTLS_CT_CID = 25,	/* tls12_cid, RFC 9146: always protected */
	DTLS_CT_ACK = 26,	/* ack, RFC 9147 s7 */
};

/* DTLS handshake types beyond those of TLS (tls_hs.h). */
enum {
	DTLS_HS_HELLO_VERIFY_REQUEST = 3,	/* RFC 6347 s4.2.1 */
};

/* Why a direction stopped parsing. */
enum dtls_stop {
	DTLS_STOP_NONE = 0,
	DTLS_STOP_CCS,		/* a ChangeCipherSpec record */
	DTLS_STOP_EPOCH,	/* a DTLSPlaintext-format record with epoch > 0 */
	DTLS_STOP_UNIFIED,	/* a DTLS 1.3 unified header (RFC 9147 s4) */
	DTLS_STOP_CID,		/* a tls12_cid record (RFC 9146) */
	DTLS_STOP_APPDATA,	/* application_data in epoch 0 */
	DTLS_STOP_ALERT,	/* a fatal alert or close_notify in epoch 0 */
	DTLS_STOP_ERROR,	/* malformed handshake, cap or memcap; see err */
	DTLS_STOP_CALLER,	/* dtls_stream_stop() or the callback asked */
};

/*
 * A complete handshake message is delivered as the struct tls_msg of
 * tls_record.h: type, kept (body held: the type is in keep_mask), body and
 * len (the length declared on the wire; body has len bytes when kept, and
 * is NULL otherwise).  is_sslv2 is always false.
 *
 * msg and msg->body are valid only during the call; copy what must outlive
 * it.  Return 0 to go on, non-zero to stop the stream (DTLS_STOP_CALLER)
 * once the callback returns.  The callback must not feed or free the stream.
 */
typedef int (*dtls_msg_cb)(const struct tls_msg *msg, void *ctx);

struct dtls_reasm;		/* messages being reassembled, private */

struct dtls_stream {
	/* configuration, set after dtls_stream_init() and before feeding */
	uint32_t keep_mask;	/* bit t: keep bodies of handshake type t (t < 32) */
	uint32_t hs_max;	/* largest kept message; larger => P_LIMIT */
	struct memcap *mem;	/* budget for every buffer; may be NULL */

	uint8_t stop;		/* enum dtls_stop */
	int err;		/* pstat when stop == DTLS_STOP_ERROR */
	uint8_t alert[2];	/* first alert seen: level, description */
	bool has_alert;
	bool delivered;		/* at least one message delivered */
	bool feeding;		/* inside dtls_feed(): a stop from the callback only
				   marks the stream, dtls_feed() frees it on return */
	uint8_t last_type;	/* type of the last message delivered */
	uint16_t version;	/* record version of the first valid record; 0 = none */
	uint32_t next_seq;	/* message_seq of the next message to deliver */
	struct dtls_reasm *ra;	/* owned, memcap-charged; NULL when nothing pending */

	uint64_t n_datagrams;	/* datagrams fed (stopped streams excluded) */
	uint64_t n_not_dtls;	/* datagrams whose first byte is not DTLS (RFC 7983) */
	uint64_t n_records;	/* well-formed records */
	uint64_t n_bad_records;	/* malformed records (the rest of the datagram dropped) */
	uint64_t n_retrans;	/* fragments dropped: message delivered or bytes held */
	uint64_t n_over_cap;	/* caps hit (each also stops the stream) */
	uint64_t n_gap_dropped;	/* fragments too far beyond the bytes held (DTLS_GAP_MAX) */
	uint64_t n_msgs;	/* messages delivered */
};

/* Reset *s to a fresh stream with default limits; mem may be NULL. */
void dtls_stream_init(struct dtls_stream *s, struct memcap *mem);

/* Release every buffer (the state and counters stay readable).  NULL is a no-op. */
void dtls_stream_free(struct dtls_stream *s);

/* Stop parsing; later datagrams are ignored.  Frees the buffers. */
void dtls_stream_stop(struct dtls_stream *s, enum dtls_stop why);

/*
 * Feed one UDP payload of this direction.  Complete handshake messages are
 * passed to cb (in message_seq order, each once) before dtls_feed()
 * returns.  Returns P_OK, also when the datagram was ignored, dropped as
 * malformed (counted) or ended the handshake in the clear (see s->stop);
 * or a negative pstat when the stream failed and stopped with
 * DTLS_STOP_ERROR: P_BAD (fragments of one message disagree), P_LIMIT (a
 * cap), P_NOMEM (memcap or malloc refused).  A stopped stream ignores
 * every later datagram and returns P_OK.  The datagram is not kept.
 */
int dtls_feed(struct dtls_stream *s, const uint8_t *p, size_t len, dtls_msg_cb cb, void *ctx);

/*
 * Does this UDP payload start a DTLS handshake?  Cheap, for deciding
 * whether a new UDP flow is DTLS: the first record must be a handshake
 * record of a DTLS version in epoch 0 with a sane length, holding the first
 * fragment header of a ClientHello, HelloVerifyRequest or ServerHello
 * (message_seq <= 2) that fits the record; when the fragment starts the
 * message its body must begin with a DTLS version.
 */
bool dtls_looks_like_handshake(const uint8_t *p, size_t len);

static inline bool
dtls_stream_stopped(const struct dtls_stream *s)
{
	return s->stop != DTLS_STOP_NONE;
}

/* Did the direction go encrypted (the peer moved on with the handshake)? */
static inline bool
dtls_stop_is_encrypted(enum dtls_stop why)
{
	return why == DTLS_STOP_CCS || why == DTLS_STOP_EPOCH ||
	    why == DTLS_STOP_UNIFIED || why == DTLS_STOP_CID || why == DTLS_STOP_APPDATA;
}

const char *dtls_stop_str(enum dtls_stop why);

#endif /* TLSENTRY_DTLS_H */
