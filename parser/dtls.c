/*
 * dtls.c: DTLS record walking and handshake fragment reassembly.
 *
 * Distrusts: every datagram byte; record and fragment lengths are checked
 * through rd before use, and buffers grow with the bytes that arrive, within
 * hs_max per message and DTLS_AHEAD_MAX + 1 messages.  Owns: the reassembly
 * slots and their message buffers, all charged to the stream's memcap and
 * released as soon as nothing is pending.
 */
#include <stdlib.h>
#include <string.h>

#include "dtls.h"
#include "pstat.h"
#include "rd.h"
#include "tls_hs.h"

#define DTLS_PLAINTEXT_MAX 16384	/* RFC 6347 s4.1: DTLSPlaintext.length */
#define DTLS_FRAG_HDR 12		/* msg_type, length, message_seq, offset, length */
#define N_SLOTS (DTLS_AHEAD_MAX + 1)

/* A byte range [lo, hi) of a message that has arrived. */
struct dtls_range {
	uint32_t lo, hi;
};

/*
 * One message being reassembled.  ranges[] is sorted, disjoint and never
 * touching (adjacent ranges are merged), so a message is complete when it
 * holds the single range [0, len).
 */
struct dtls_slot {
	bool used;
	bool keep;		/* body bytes are copied into buf */
	uint8_t type;
	uint16_t n_ranges;
	uint32_t seq;
	uint32_t len;		/* declared message length */
	uint8_t *buf;		/* grows to the highest byte held, <= len */
	size_t buf_cap;
	struct dtls_range ranges[DTLS_FRAGS_MAX];
};

/* Messages next_seq .. next_seq + DTLS_AHEAD_MAX, at index seq % N_SLOTS. */
struct dtls_reasm {
	unsigned n_used;
	struct dtls_slot slot[N_SLOTS];
};

void
dtls_stream_init(struct dtls_stream *s, struct memcap *mem)
{
	memset(s, 0, sizeof(*s));
	s->keep_mask = 1u << TLS_HS_CLIENT_HELLO | 1u << TLS_HS_SERVER_HELLO |
	    1u << DTLS_HS_HELLO_VERIFY_REQUEST | 1u << TLS_HS_CERTIFICATE;
	s->hs_max = TLS_HS_MAX;
	s->mem = mem;
}

static void
slot_free(struct dtls_stream *s, struct dtls_slot *sl)
{
	if (!sl->used)
		return;
	if (sl->buf != NULL) {
		free(sl->buf);
		memcap_give(s->mem, sl->buf_cap);
	}
	memset(sl, 0, sizeof(*sl));
	s->ra->n_used--;
}

void
dtls_stream_free(struct dtls_stream *s)
{
	if (s == NULL || s->ra == NULL)
		return;
	for (size_t i = 0; i < N_SLOTS; i++)
		slot_free(s, &s->ra->slot[i]);
	free(s->ra);
	memcap_give(s->mem, sizeof(*s->ra));
	s->ra = NULL;
}

/* Record why the stream ends; buffers are freed when dtls_feed() returns. */
static void
halt(struct dtls_stream *s, enum dtls_stop why)
{
	if (s->stop == DTLS_STOP_NONE)
		s->stop = (uint8_t)why;
}

void
dtls_stream_stop(struct dtls_stream *s, enum dtls_stop why)
{
	halt(s, why);
	if (!s->feeding)	/* from a callback, drain() still walks the slots */
		dtls_stream_free(s);
}

const char *
dtls_stop_str(enum dtls_stop why)
{
	switch (why) {
	case DTLS_STOP_NONE:	return "none";
	case DTLS_STOP_CCS:	return "change-cipher-spec";
	case DTLS_STOP_EPOCH:	return "epoch";
	case DTLS_STOP_UNIFIED:	return "unified-header";
	case DTLS_STOP_CID:	return "connection-id";
	case DTLS_STOP_APPDATA:	return "application-data";
	case DTLS_STOP_ALERT:	return "alert";
	case DTLS_STOP_ERROR:	return "error";
	case DTLS_STOP_CALLER:	return "caller";
	}
	return "unknown";
}

/* DTLS 1.0 (0xfeff), 1.2 (0xfefd), 1.3 (0xfefc: RFC 9147 never puts it in a
 * record header, but a hello body may carry it). */
static bool
is_dtls_version(uint16_t v)
{
	return v == 0xfeff || v == 0xfefd || v == 0xfefc;
}

static bool
is_hello(uint8_t type)
{
	return type == TLS_HS_CLIENT_HELLO || type == TLS_HS_SERVER_HELLO ||
	    type == DTLS_HS_HELLO_VERIFY_REQUEST;
}

static bool
slot_complete(const struct dtls_slot *sl)
{
	return sl->len == 0 || (sl->n_ranges == 1 && sl->ranges[0].lo == 0 &&
	    sl->ranges[0].hi == sl->len);
}

/* Bytes of the message held so far. */
static size_t
slot_held(const struct dtls_slot *sl)
{
	size_t n = 0;

	for (size_t i = 0; i < sl->n_ranges; i++)
		n += sl->ranges[i].hi - sl->ranges[i].lo;
	return n;
}

/* Is [lo, hi) already held?  Ranges never touch, so it lies in one. */
static bool
slot_covers(const struct dtls_slot *sl, uint32_t lo, uint32_t hi)
{
	for (size_t i = 0; i < sl->n_ranges; i++)
		if (sl->ranges[i].lo <= lo && hi <= sl->ranges[i].hi)
			return true;
	return false;
}

/*
 * Add [lo, hi) to the ranges, merging every range it overlaps or touches.
 * P_LIMIT when the result would need more than DTLS_FRAGS_MAX ranges.
 */
static int
slot_add_range(struct dtls_slot *sl, uint32_t lo, uint32_t hi)
{
	struct dtls_range out[DTLS_FRAGS_MAX + 1];
	size_t n = 0, i = 0;

	for (; i < sl->n_ranges && sl->ranges[i].hi < lo; i++)
		out[n++] = sl->ranges[i];		/* wholly below */
	for (; i < sl->n_ranges && sl->ranges[i].lo <= hi; i++) {
		if (sl->ranges[i].lo < lo)		/* overlapping or touching */
			lo = sl->ranges[i].lo;
		if (sl->ranges[i].hi > hi)
			hi = sl->ranges[i].hi;
	}
	out[n++] = (struct dtls_range){ lo, hi };
	for (; i < sl->n_ranges; i++) {
		if (n == DTLS_FRAGS_MAX)
			return P_LIMIT;
		out[n++] = sl->ranges[i];		/* wholly above */
	}
	if (n > DTLS_FRAGS_MAX)
		return P_LIMIT;
	memcpy(sl->ranges, out, n * sizeof(out[0]));
	sl->n_ranges = (uint16_t)n;
	return P_OK;
}

/*
 * Grow a slot's buffer to hold its first `need` bytes.  It doubles from 256 bytes
 * up to the message length, so a header that merely claims a large message
 * costs nothing until fragments actually arrive.
 */
static int
slot_reserve(struct dtls_stream *s, struct dtls_slot *sl, size_t need)
{
	size_t cap = sl->buf_cap ? sl->buf_cap : 256;
	uint8_t *nb;

	if (need <= sl->buf_cap)
		return P_OK;
	while (cap < need)
		cap *= 2;
	if (cap > sl->len)
		cap = sl->len;
	if (!memcap_take(s->mem, cap - sl->buf_cap))
		return P_NOMEM;
	nb = realloc(sl->buf, cap);
	if (nb == NULL) {
		memcap_give(s->mem, cap - sl->buf_cap);
		return P_NOMEM;
	}
	sl->buf = nb;
	sl->buf_cap = cap;
	return P_OK;
}

static int
ra_get(struct dtls_stream *s)
{
	if (s->ra != NULL)
		return P_OK;
	if (!memcap_take(s->mem, sizeof(*s->ra)))
		return P_NOMEM;
	s->ra = calloc(1, sizeof(*s->ra));
	if (s->ra == NULL) {
		memcap_give(s->mem, sizeof(*s->ra));
		return P_NOMEM;
	}
	return P_OK;
}

/* Drop the slot array once nothing is pending: idle streams hold no memory. */
static void
ra_trim(struct dtls_stream *s)
{
	if (s->ra != NULL && s->ra->n_used == 0)
		dtls_stream_free(s);
}

/*
 * Move the next message to deliver to seq, dropping pending messages that
 * fall outside the new window [seq, seq + DTLS_AHEAD_MAX].
 */
static void
reanchor(struct dtls_stream *s, uint32_t seq)
{
	if (s->ra != NULL) {
		for (size_t i = 0; i < N_SLOTS; i++) {
			struct dtls_slot *sl = &s->ra->slot[i];
			if (sl->used && (sl->seq < seq || sl->seq > seq + DTLS_AHEAD_MAX))
				slot_free(s, sl);
		}
	}
	s->next_seq = seq;
}

/*
 * Does a fragment of this type and seq set where the handshake starts?  The
 * first hello seen does, so a capture that missed a first ClientHello /
 * HelloVerifyRequest pair still works.  So does a ServerHello that reuses
 * the message_seq of the HelloVerifyRequest just delivered: a stateless
 * server (cookie exchange) starts its sequence again.
 */
static bool
restarts(const struct dtls_stream *s, uint8_t type, uint32_t seq)
{
	if (!s->delivered)
		return is_hello(type) && seq > s->next_seq &&
		    seq <= s->next_seq + DTLS_AHEAD_MAX;
	return s->last_type == DTLS_HS_HELLO_VERIFY_REQUEST &&
	    type == TLS_HS_SERVER_HELLO && seq + 1 == s->next_seq;
}

/* Hand one whole message to the callback and move on to the next seq. */
static void
deliver(struct dtls_stream *s, uint8_t type, const uint8_t *body, uint32_t len, bool keep,
    dtls_msg_cb cb, void *ctx)
{
	struct tls_msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.kept = keep;
	m.body = keep ? body : NULL;
	m.len = len;
	s->n_msgs++;
	s->delivered = true;
	s->last_type = type;
	s->next_seq++;
	if (cb != NULL && cb(&m, ctx) != 0)
		halt(s, DTLS_STOP_CALLER);
}

/* Deliver every complete message from next_seq on, in order. */
static void
drain(struct dtls_stream *s, dtls_msg_cb cb, void *ctx)
{
	while (s->ra != NULL && !dtls_stream_stopped(s)) {
		struct dtls_slot *sl = &s->ra->slot[s->next_seq % N_SLOTS];
		if (!sl->used || sl->seq != s->next_seq || !slot_complete(sl))
			break;
		deliver(s, sl->type, sl->buf, sl->len, sl->keep, cb, ctx);
		slot_free(s, sl);
	}
	ra_trim(s);
}

/*
 * One handshake fragment (RFC 6347 s4.2.2), already checked to lie within
 * its message: [off, off + rd_left(frag)) of message seq.  Messages already
 * delivered are retransmissions; messages ahead are held in a slot.
 */
static int
fragment(struct dtls_stream *s, uint8_t type, uint32_t len, uint32_t seq, uint32_t off,
    struct rd *frag, dtls_msg_cb cb, void *ctx)
{
	uint32_t flen = (uint32_t)rd_left(frag);
	bool keep = type < 32 && (s->keep_mask >> type & 1);
	struct dtls_slot *sl;
	size_t held;
	int st;

	if (restarts(s, type, seq))
		reanchor(s, seq);
	if (seq < s->next_seq) {
		s->n_retrans++;		/* a flight sent again */
		return P_OK;
	}
	if (seq > s->next_seq + DTLS_AHEAD_MAX || (keep && len > s->hs_max)) {
		s->n_over_cap++;
		return P_LIMIT;
	}
	sl = s->ra != NULL ? &s->ra->slot[seq % N_SLOTS] : NULL;
	if (sl != NULL && sl->used && (sl->type != type || sl->len != len))
		return P_BAD;		/* fragments of one message disagree */
	if (flen == 0 && len > 0)
		return P_OK;		/* an empty fragment adds nothing */
	if (len == 0 && sl != NULL && sl->used) {
		s->n_retrans++;		/* an empty message already held */
		return P_OK;
	}

	/* the common case: a whole message in one fragment, in order, no copy */
	if (seq == s->next_seq && off == 0 && flen == len) {
		if (sl != NULL && sl->used)
			slot_free(s, sl);
		deliver(s, type, rd_ptr(frag), len, keep, cb, ctx);
		drain(s, cb, ctx);
		return P_OK;
	}

	if (sl != NULL && sl->used && flen > 0 && slot_covers(sl, off, off + flen)) {
		s->n_retrans++;		/* every byte already held */
		return P_OK;
	}
	held = sl != NULL && sl->used ? slot_held(sl) : 0;
	if (keep && (size_t)off + flen > 2 * (held + flen) + DTLS_GAP_MAX) {
		s->n_gap_dropped++;	/* would cost far more memory than it brings */
		return P_OK;
	}

	if ((st = ra_get(s)) != P_OK)
		return st;
	sl = &s->ra->slot[seq % N_SLOTS];
	if (!sl->used) {
		sl->used = true;
		sl->keep = keep;
		sl->type = type;
		sl->seq = seq;
		sl->len = len;
		s->ra->n_used++;
	}
	if (keep && (st = slot_reserve(s, sl, (size_t)off + flen)) != P_OK)
		return st;
	if (flen > 0 && (st = slot_add_range(sl, off, off + flen)) != P_OK) {
		s->n_over_cap++;
		return st;
	}
	if (keep && flen > 0)
		(void)rd_bytes(frag, sl->buf + off, flen);	/* overlaps: last copy wins */
	if (seq == s->next_seq)
		drain(s, cb, ctx);
	return P_OK;
}

/*
 * A handshake record's body: one or more fragments (RFC 6347 s4.2.2),
 *   HandshakeType msg_type; uint24 length; uint16 message_seq;
 *   uint24 fragment_offset; uint24 fragment_length;
 *   opaque fragment[fragment_length];
 * each lying within the record.  A fragment that does not fit its record or
 * its message spoils the rest of the record: counted, dropped.
 */
static int
handshake_record(struct dtls_stream *s, struct rd *rec, dtls_msg_cb cb, void *ctx)
{
	struct rd frag;
	uint8_t type;
	uint16_t seq;
	uint32_t len, off, flen;
	int st;

	while (rd_left(rec) > 0 && !dtls_stream_stopped(s)) {
		if (!rd_u8(rec, &type) || !rd_u24(rec, &len) || !rd_u16(rec, &seq) ||
		    !rd_u24(rec, &off) || !rd_u24(rec, &flen) || !rd_sub(rec, flen, &frag) ||
		    (uint64_t)off + flen > len) {
			s->n_bad_records++;
			return P_OK;
		}
		if ((st = fragment(s, type, len, seq, off, &frag, cb, ctx)) != P_OK)
			return st;
	}
	return P_OK;
}

/*
 * Alert (RFC 6347 s4.1 carries RFC 5246 s7.2 unchanged): level(1)
 * description(1), one or more per record.  A fatal alert or close_notify
 * stops the stream; the first alert is kept for the report.
 */
static void
alert_record(struct dtls_stream *s, struct rd *rec)
{
	uint8_t a[2];

	if (rd_left(rec) == 0 || rd_left(rec) % 2 != 0) {
		s->n_bad_records++;
		return;
	}
	while (rd_bytes(rec, a, 2)) {
		if (!s->has_alert) {
			memcpy(s->alert, a, 2);
			s->has_alert = true;
		}
		if (a[0] == 2 || a[1] == 0) {
			halt(s, DTLS_STOP_ALERT);
			return;
		}
	}
}

/*
 * One record from the datagram (RFC 6347 s4.1):
 *   ContentType type; ProtocolVersion version; uint16 epoch;
 *   uint48 sequence_number; uint16 length; opaque fragment[length];
 * A DTLS 1.3 unified header (RFC 9147 s4: first byte 001CSLEE) or a
 * tls12_cid record (RFC 9146 s4: a connection ID of a length negotiated in
 * the handshake sits before `length`) is protected: the stream stops.
 * A record that does not fit the datagram ends the datagram: records carry
 * no resync marker, so what follows cannot be found.
 */
static int
record(struct dtls_stream *s, struct rd *in, dtls_msg_cb cb, void *ctx)
{
	struct rd rec;
	uint8_t type;
	uint16_t version, epoch, len;

	(void)rd_peek_u8(in, 0, &type);
	if ((type & 0xe0) == 0x20) {
		halt(s, DTLS_STOP_UNIFIED);
		return P_OK;
	}
	if (!rd_u8(in, &type) || !rd_u16(in, &version) || !is_dtls_version(version))
		goto bad;
	if (type == DTLS_CT_CID) {
		halt(s, DTLS_STOP_CID);
		return P_OK;
	}
	if (!rd_u16(in, &epoch) || !rd_skip(in, 6) || !rd_u16(in, &len) ||
	    len > DTLS_REC_MAX || !rd_sub(in, len, &rec))
		goto bad;
	if (epoch != 0) {
		halt(s, DTLS_STOP_EPOCH);
		return P_OK;
	}
	s->n_records++;
	if (s->version == 0)
		s->version = version;
	switch (type) {
	case TLS_CT_CCS:
		halt(s, DTLS_STOP_CCS);
		return P_OK;
	case TLS_CT_APPDATA:
		halt(s, DTLS_STOP_APPDATA);
		return P_OK;
	case TLS_CT_ALERT:
		alert_record(s, &rec);
		return P_OK;
	case TLS_CT_HANDSHAKE:
		if (len > DTLS_PLAINTEXT_MAX) {
			s->n_bad_records++;
			return P_OK;
		}
		return handshake_record(s, &rec, cb, ctx);
	default:			/* heartbeat, ack, unknown: skipped by length */
		return P_OK;
	}
bad:
	s->n_bad_records++;
	(void)rd_skip(in, rd_left(in));
	return P_OK;
}

int
dtls_feed(struct dtls_stream *s, const uint8_t *p, size_t len, dtls_msg_cb cb, void *ctx)
{
	struct rd in = rd_init(p, len);
	uint8_t b0;
	int st = P_OK;

	if (dtls_stream_stopped(s))
		return P_OK;
	s->n_datagrams++;
	/* RFC 7983 s7: 20..63 is DTLS; STUN, ZRTP, TURN and RTP share the port */
	if (!rd_peek_u8(&in, 0, &b0) || b0 < 20 || b0 > 63) {
		s->n_not_dtls++;
		return P_OK;
	}
	s->feeding = true;
	while (rd_left(&in) > 0 && st == P_OK && !dtls_stream_stopped(s))
		st = record(s, &in, cb, ctx);
	s->feeding = false;
	if (st != P_OK) {
		s->err = st;
		halt(s, DTLS_STOP_ERROR);
	}
	if (dtls_stream_stopped(s))
		dtls_stream_free(s);
	return st;
}

/*
 * The first record and fragment header of a flow's first datagram:
 *   16 fe{ff,fd,fc} 0000 <seq48> LLLL | 01|02|03 MMMMMM SSSS OOOOOO FFFFFF fe..
 * handshake, DTLS version, epoch 0, a hello's fragment that fits the record
 * and its message, and a DTLS version at the start of the body.
 */
bool
dtls_looks_like_handshake(const uint8_t *p, size_t len)
{
	struct rd r = rd_init(p, len), rec;
	uint8_t type, hs_type;
	uint16_t version, epoch, rec_len, seq, body_version;
	uint32_t msg_len, off, flen, min_len;

	if (!rd_u8(&r, &type) || !rd_u16(&r, &version) || !rd_u16(&r, &epoch) ||
	    !rd_skip(&r, 6) || !rd_u16(&r, &rec_len) || !rd_sub(&r, rec_len, &rec))
		return false;
	if (type != TLS_CT_HANDSHAKE || !is_dtls_version(version) || epoch != 0 ||
	    rec_len < DTLS_FRAG_HDR || rec_len > DTLS_PLAINTEXT_MAX)
		return false;
	if (!rd_u8(&rec, &hs_type) || !rd_u24(&rec, &msg_len) || !rd_u16(&rec, &seq) ||
	    !rd_u24(&rec, &off) || !rd_u24(&rec, &flen) || flen > rd_left(&rec) ||
	    (uint64_t)off + flen > msg_len || msg_len > TLS_HS_MAX || seq > 2)
		return false;
	/* smallest bodies: version, random, session id, [cookie,] one suite, null */
	switch (hs_type) {
	case TLS_HS_CLIENT_HELLO:		min_len = 2 + 32 + 1 + 1 + 2 + 2 + 1 + 1; break;
	case TLS_HS_SERVER_HELLO:		min_len = 2 + 32 + 1 + 2 + 1; break;
	case DTLS_HS_HELLO_VERIFY_REQUEST:	min_len = 2 + 1; break;
	default:				return false;
	}
	if (msg_len < min_len)
		return false;
	if (off > 0)
		return flen > 0;		/* a later fragment came first */
	return flen >= 2 && rd_u16(&rec, &body_version) && (body_version >> 8) == 0xfe;
}
