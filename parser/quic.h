/*
 * quic.h: QUIC Initial packets to TLS handshake messages (RFC 9000, RFC 9001,
 * RFC 9369).  A passive observer can read the Initial packets of a QUIC
 * connection: their keys derive from the client's Destination Connection ID,
 * which is on the wire.  This module walks the (possibly coalesced) long-
 * header packets of one UDP datagram, removes header protection, decrypts
 * and authenticates Initial packets (AES-128-GCM), parses their frames,
 * reassembles each direction's CRYPTO stream by offset and splits it into
 * TLS handshake messages (no record layer: type, u24 length, body).
 *
 * Versions: 1 (0x00000001) and 2 (0x6b3343cf).  Other versions and Version
 * Negotiation packets are recognised and counted, not decrypted.  Handshake,
 * 0-RTT and short-header packets are skipped (their keys are not public).
 *
 * Pure: no pcap, no flows, no output.  One struct quic_conn per UDP flow,
 * fed one datagram at a time with its direction.  Every wire byte is
 * untrusted; lengths are checked before use and nothing is allocated beyond
 * the caps below, all of it charged to the caller's struct memcap.
 */
#ifndef TLSENTRY_QUIC_H
#define TLSENTRY_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memcap.h"

#ifndef QUIC_CRYPTO_MAX
#define QUIC_CRYPTO_MAX 65536	/* CRYPTO stream bytes followed per direction
				   (stream offsets beyond are refused, P_LIMIT);
				   also the largest buffer per direction */
#endif
#ifndef QUIC_CRYPTO_RANGES
#define QUIC_CRYPTO_RANGES 8	/* out-of-order CRYPTO ranges held per direction */
#endif
#ifndef QUIC_DCID_MAX
#define QUIC_DCID_MAX 4		/* candidate client DCIDs (key sources) per connection */
#endif
#ifndef QUIC_PKT_MAX
#define QUIC_PKT_MAX 16384	/* largest Initial packet decrypted (bytes) */
#endif
#ifndef QUIC_FAIL_MAX
#define QUIC_FAIL_MAX 64	/* Initials that fail to decrypt before a connection
				   stops trying (each failure costs key trials) */
#endif

#define QUIC_CID_LEN_MAX 20	/* RFC 9000 s17.2: connection IDs in v1 and v2 */
#define QUIC_V1 0x00000001u	/* RFC 9000 */
#define QUIC_V2 0x6b3343cfu	/* RFC 9369 s3.1 */

_Static_assert(QUIC_CRYPTO_MAX > 0 && QUIC_CRYPTO_MAX <= 0x40000000,
    "QUIC_CRYPTO_MAX must fit the 32-bit stream offsets used inside");
_Static_assert(QUIC_CRYPTO_RANGES > 0 && QUIC_CRYPTO_RANGES < 256, "QUIC_CRYPTO_RANGES");
_Static_assert(QUIC_DCID_MAX > 0 && QUIC_DCID_MAX < 256, "QUIC_DCID_MAX");

/*
 * One direction's CRYPTO stream (Initial encryption level).  Bytes are kept
 * in buf, indexed by stream offset - base, from the first unread byte up to
 * the highest byte received; buf is allocated on first use, grows by
 * doubling up to QUIC_CRYPTO_MAX, and is freed again whenever everything
 * received has been read (so an idle connection holds no buffer).
 */
struct quic_crypto {
	uint8_t *buf;		/* owned; memcap-charged; NULL when empty */
	uint32_t cap;		/* bytes allocated at buf */
	uint32_t base;		/* stream offset of buf[0] */
	uint32_t read;		/* stream offset of the first unread byte */
	uint32_t contig;	/* every byte below this offset has arrived */
	uint8_t n_ranges;
	bool stopped;		/* a message over the caps: nothing more is split */
	struct {
		uint32_t start, end;	/* [start, end): sorted, disjoint, above contig */
	} range[QUIC_CRYPTO_RANGES];
	uint64_t n_dup_bytes;	/* bytes received again (first copy wins) */
};

/* A TLS handshake message from a CRYPTO stream. */
struct quic_msg {
	bool from_client;
	uint32_t version;	/* QUIC version of the packet that completed it */
	uint8_t type;		/* TLS handshake type (1 ClientHello, 2 ServerHello) */
	const uint8_t *body;	/* valid during the callback only */
	uint32_t len;		/* body length (after the 4-byte header) */
	uint32_t offset;	/* stream offset of the message's header */
};

/* Called once per complete handshake message, in stream order. */
typedef void (*quic_msg_cb)(void *ctx, const struct quic_msg *m);

/* Cached Initial keys for one candidate DCID and one version. */
struct quic_keys {
	uint8_t key[16];
	uint8_t iv[12];
	uint8_t hp[16];
};

struct quic_dcid {
	uint8_t len;
	uint8_t id[QUIC_CID_LEN_MAX];
	bool has_keys;
	uint32_t keys_version;	/* version the cached keys belong to */
	struct quic_keys keys[2];	/* [0] client, [1] server */
};

struct quic_conn {
	struct memcap *mem;	/* budget for the CRYPTO buffers; may be NULL */
	uint32_t version;	/* of the last Initial that decrypted; 0 = none yet */
	uint8_t n_dcid;
	uint8_t cur_dcid;	/* candidate that decrypted last: tried first */
	struct quic_dcid dcid[QUIC_DCID_MAX];	/* [0] the client's original DCID */
	int64_t largest_pn[2];	/* Initial packet number space; -1 = none yet */
	struct quic_crypto crypto[2];	/* [0] client -> server, [1] server -> client */

	/* counters (per connection, never reset) */
	uint64_t n_datagrams;
	uint64_t n_initial;	/* Initial packets that decrypted */
	uint64_t n_handshake;	/* Handshake packets skipped */
	uint64_t n_0rtt;	/* 0-RTT packets skipped */
	uint64_t n_retry;	/* Retry packets whose integrity tag checked out */
	uint64_t n_retry_bad;	/* Retry packets that did not verify */
	uint64_t n_vn;		/* Version Negotiation packets */
	uint64_t n_other_version;	/* long headers of versions we do not decrypt */
	uint32_t other_version;	/* the last such version (0 = none) */
	uint64_t n_short;	/* short-header packets (and trailing bytes) ignored */
	uint64_t n_malformed;	/* packets whose header or frames did not parse */
	uint64_t n_decrypt_fail;	/* Initials no candidate key authenticated */
	uint64_t n_violation;	/* protocol violations (frame type, reserved bits) */
	uint64_t n_dcid_mismatch;	/* coalesced packets for another DCID, ignored */
	uint64_t n_crypto_frames;
	uint64_t n_limit;	/* data or messages refused by a cap */
	uint64_t n_nomem;	/* memcap or allocation refusals */
	uint64_t n_msgs;	/* handshake messages delivered */
};

/* Reset *c to a fresh connection; mem (may be NULL) is charged for buffers. */
void quic_conn_init(struct quic_conn *c, struct memcap *mem);

/* Release the CRYPTO buffers (the counters stay readable).  NULL is a no-op. */
void quic_conn_free(struct quic_conn *c);

/*
 * Process one UDP payload sent by the client (from_client) or the server.
 * Each complete handshake message of an Initial CRYPTO stream is passed to
 * cb (may be NULL) before this returns; p is not kept.  Returns:
 *   P_OK      every packet was well-formed (Initials decrypted; Handshake,
 *             0-RTT and short-header packets skipped and counted)
 *   P_UNSUPP  a Version Negotiation packet or a version we do not decrypt
 *   P_BAD     an empty datagram, a malformed header or frame, an Initial that no candidate key
 *             authenticates, or a protocol violation; the walk stops at a
 *             malformed header, other packets of the datagram are kept
 *   P_LIMIT   a cap was hit (QUIC_PKT_MAX, QUIC_CRYPTO_MAX, ranges, TLS_HS_MAX
 *             or QUIC_FAIL_MAX)
 *   P_NOMEM   the memcap or an allocation refused memory
 * Messages completed by packets before an error are still delivered.
 */
int quic_datagram(struct quic_conn *c, bool from_client, const uint8_t *p, size_t len,
    quic_msg_cb cb, void *ctx);

/*
 * Does this UDP payload start with a v1 or v2 Initial long header whose
 * connection ID lengths, token and Length fields fit the datagram?  For the
 * engine deciding whether a new UDP flow is QUIC; it reads the header only
 * (no decryption) and accepts client and server Initials alike.
 */
bool quic_looks_like_initial(const uint8_t *p, size_t len);

/*
 * Initial keys for a client DCID (RFC 9001 s5.2, RFC 9369 s3.3): HKDF-Extract
 * with the version's salt, then "client in"/"server in" and the version's
 * key/iv/hp labels.  out[0] client, out[1] server.  P_OK, P_UNSUPP (version)
 * or P_NOMEM (OpenSSL failed).
 */
int quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
    struct quic_keys out[2]);

/* The CRYPTO reassembler on its own (quic_datagram uses it per direction). */

/*
 * Add the CRYPTO frame data [off, off + len).  Bytes already held are kept
 * (the first copy wins) and retransmissions are ignored.  P_OK, P_LIMIT
 * (beyond QUIC_CRYPTO_MAX or too many out-of-order ranges; nothing is
 * kept) or P_NOMEM (memcap or malloc refused; nothing is kept).
 */
int quic_crypto_add(struct quic_crypto *s, struct memcap *mem, uint64_t off,
    const uint8_t *p, size_t len);

/*
 * The contiguous bytes not yet read: *p is set to them (valid until the next
 * quic_crypto_add() or quic_crypto_shrink()) and their count returned.
 */
size_t quic_crypto_peek(const struct quic_crypto *s, const uint8_t **p);

/* Mark n of the peeked bytes read (n is clamped to what peek returns). */
void quic_crypto_consume(struct quic_crypto *s, size_t n);

/*
 * Split the next complete handshake message (RFC 8446 s4: type, uint24
 * length, body) off the unread bytes: P_OK with *m set (from_client and
 * version left 0 for the caller) and the message read; P_MORE when it is not
 * complete yet; P_LIMIT (and the stream stops) when its length exceeds
 * TLS_HS_MAX or could never fit under QUIC_CRYPTO_MAX.
 */
int quic_crypto_next_msg(struct quic_crypto *s, struct quic_msg *m);

/* Free the buffer if every received byte has been read. */
void quic_crypto_shrink(struct quic_crypto *s, struct memcap *mem);

/* Free the buffer unconditionally and reset the stream. */
void quic_crypto_free(struct quic_crypto *s, struct memcap *mem);

#endif /* TLSENTRY_QUIC_H */
