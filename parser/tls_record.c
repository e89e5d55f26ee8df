/*
 * tls_record.c: TLS record layer and handshake message reassembly.
 *
 * Distrusts: every stream byte; a record or message length is checked
 * against the caps before anything is allocated.  Owns: the per-direction
 * message buffer (only for kept handshake types, released on stop).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pstat.h"
#include "rd.h"
#include "tls_hs.h"
#include "tls_record.h"

enum { M_START, M_SCAN, M_RECORDS, M_SSLV2, M_STOPPED };

/* Bytes the scanner needs to judge a candidate handshake start. */
#define SCAN_WIN 12

#define TLS_PLAINTEXT_MAX 16384	/* RFC 5246 s6.2.1: handshake records */

void
tls_stream_init(struct tls_stream *s, struct memcap *mem)
{
	memset(s, 0, sizeof(*s));
	s->keep_mask = 1u << TLS_HS_CLIENT_HELLO | 1u << TLS_HS_SERVER_HELLO |
	    1u << TLS_HS_CERTIFICATE | 1u << TLS_HS_CERTIFICATE_STATUS;
	s->hs_max = TLS_HS_MAX;
	s->preamble_max = TLS_PREAMBLE_MAX;
	s->mem = mem;
	s->mode = M_START;
}

void
tls_stream_free(struct tls_stream *s)
{
	if (s == NULL)
		return;
	if (s->buf != NULL) {
		free(s->buf);
		memcap_give(s->mem, s->buf_cap);
	}
	s->buf = NULL;
	s->buf_cap = 0;
}

void
tls_stream_stop(struct tls_stream *s, enum tls_stop why)
{
	if (s->stop == TLS_STOP_NONE)
		s->stop = (uint8_t)why;
	s->mode = M_STOPPED;
	tls_stream_free(s);
}

void
tls_stream_resync(struct tls_stream *s)
{
	if (s->mode == M_STOPPED)
		return;
	s->mode = M_SCAN;
	s->hdr_len = 0;
	s->rec_left = 0;
	s->alert_have = 0;
	s->mhdr_len = 0;
	s->msg_have = 0;
	s->msg_len = 0;
	s->msg_sslv2 = false;
	s->carry_len = 0;
	s->scan_len = 0;
}

const char *
tls_stop_str(enum tls_stop why)
{
	switch (why) {
	case TLS_STOP_NONE:	return "none";
	case TLS_STOP_CCS:	return "change-cipher-spec";
	case TLS_STOP_APPDATA:	return "application-data";
	case TLS_STOP_ALERT:	return "alert";
	case TLS_STOP_SSLV2:	return "sslv2";
	case TLS_STOP_NOT_TLS:	return "not-tls";
	case TLS_STOP_ERROR:	return "error";
	case TLS_STOP_CALLER:	return "caller";
	}
	return "unknown";
}

static int
fail(struct tls_stream *s, int st)
{
	s->err = st;
	tls_stream_stop(s, TLS_STOP_ERROR);
	return st;
}

/*
 * Make room for the first n bytes of a body of `total` bytes, within hs_max
 * and the memory budget.  The buffer grows with the bytes that actually
 * arrive (doubling, up to the message's size): a header that merely claims
 * a megabyte costs nothing.
 */
static int
reserve(struct tls_stream *s, size_t n, size_t total)
{
	size_t cap = s->buf_cap ? s->buf_cap : 4096;
	uint8_t *nb;

	if (total > s->hs_max)
		return P_LIMIT;
	if (n <= s->buf_cap)
		return P_OK;
	while (cap < n)
		cap *= 2;
	if (cap > total)
		cap = total;
	if (!memcap_take(s->mem, cap - s->buf_cap))
		return P_NOMEM;
	nb = realloc(s->buf, cap);
	if (nb == NULL) {
		memcap_give(s->mem, cap - s->buf_cap);
		return P_NOMEM;
	}
	s->buf = nb;
	s->buf_cap = cap;
	return P_OK;
}

/*
 * TLSPlaintext header (RFC 8446 s5.1):
 *   ContentType type; ProtocolVersion legacy_record_version; uint16 length;
 * Accept content types 20..24, version 3.x (x <= 4) and length within the cap.
 */
static bool
record_header_ok(const uint8_t h[5], size_t *len)
{
	struct rd r = rd_init(h, 5);
	uint8_t type = 0, major = 0, minor = 0;	/* the reads cannot fail: 5 bytes */
	uint16_t n = 0;

	(void)rd_u8(&r, &type);
	(void)rd_u8(&r, &major);
	(void)rd_u8(&r, &minor);
	(void)rd_u16(&r, &n);
	if (type < TLS_CT_CCS || type > TLS_CT_HEARTBEAT || major != 3 || minor > 4 ||
	    n > TLS_REC_MAX)
		return false;
	*len = n;
	return true;
}

/*
 * SSL 2.0 record header, 2-byte form (RFC 6101 appendix E.1):
 *   uint16 length with the top bit set, then the message.  Only the
 * unencrypted hellos interest us; anything else after one is encrypted.
 */
static bool
sslv2_header_ok(const uint8_t h[5], size_t *len)
{
	struct rd r = rd_init(h, 5);
	uint16_t n;
	uint8_t type, b3, b4;

	(void)rd_u16(&r, &n);
	(void)rd_u8(&r, &type);
	(void)rd_u8(&r, &b3);
	(void)rd_u8(&r, &b4);
	if ((n & 0x8000) == 0)
		return false;
	n &= 0x7fff;
	*len = n;
	if (type == SSL2_MT_CLIENT_HELLO)	/* version 0x0002 or 0x03xx */
		return n >= 9 && ((b3 == 0 && b4 == 2) || b3 == 3);
	if (type == SSL2_MT_SERVER_HELLO)	/* session_id_hit, certificate_type */
		return n >= 11 && b3 <= 1 && b4 <= 1;
	return false;
}

/* Any SSL 2.0 record: the 2-byte header form has the top bit set. */
static bool
sslv2_record(const uint8_t h[5])
{
	struct rd r = rd_init(h, 5);
	uint8_t b0;

	(void)rd_u8(&r, &b0);
	return (b0 & 0x80) != 0;
}

/*
 * Does b[0..SCAN_WIN) look like the start of a handshake record carrying a
 * ClientHello, ServerHello or Certificate?  Used only to find TLS after a
 * cleartext preamble, so it demands a consistent record and message header:
 *   16 03 0v LL LL | 01|02 MM MM MM 03 0v     hello with legacy_version 3.x
 *   16 03 0v LL LL | 0b MM MM MM NN NN NN     certificate_list = MMMMMM - 3
 */
static bool
looks_like_hs_start(const uint8_t *b, uint32_t hs_max)
{
	struct rd r = rd_init(b, SCAN_WIN);
	uint8_t type = 0, major = 0, minor = 0, hs_type = 0, v0, v1;	/* SCAN_WIN bytes */
	uint16_t rec_len = 0;
	uint32_t hs_len = 0, list_len;

	(void)rd_u8(&r, &type);
	(void)rd_u8(&r, &major);
	(void)rd_u8(&r, &minor);
	(void)rd_u16(&r, &rec_len);
	(void)rd_u8(&r, &hs_type);
	(void)rd_u24(&r, &hs_len);
	if (type != TLS_CT_HANDSHAKE || major != 3 || minor > 4 || rec_len < 4 ||
	    rec_len > TLS_PLAINTEXT_MAX || hs_len > hs_max)
		return false;
	if (hs_type == TLS_HS_CLIENT_HELLO || hs_type == TLS_HS_SERVER_HELLO) {
		(void)rd_u8(&r, &v0);
		(void)rd_u8(&r, &v1);
		return hs_len >= 38 && v0 == 3 && v1 <= 4;
	}
	if (hs_type == TLS_HS_CERTIFICATE) {
		(void)rd_u24(&r, &list_len);
		return hs_len >= 64 && list_len == hs_len - 3;
	}
	return false;
}

static void process(struct tls_stream *s, struct rd *in, struct tls_msg *msg, int *st);

/*
 * Scan cleartext for a handshake start.  Candidates that straddle two calls
 * are kept in carry[].  On a hit the stream switches to record mode at that
 * byte; bytes already consumed from carry[] are replayed into it.
 */
static void
scan(struct tls_stream *s, struct rd *in, struct tls_msg *msg, int *st)
{
	uint8_t tmp[sizeof(s->carry) + SCAN_WIN];
	size_t n_in = rd_left(in), n_tmp, k, i;
	const uint8_t *p = rd_ptr(in);

	if (s->carry_len > 0) {
		n_tmp = s->carry_len;
		memcpy(tmp, s->carry, n_tmp);
		k = n_in < SCAN_WIN - 1 ? n_in : SCAN_WIN - 1;
		memcpy(tmp + n_tmp, p, k);
		n_tmp += k;
		for (i = 0; i < s->carry_len && i + SCAN_WIN <= n_tmp; i++) {
			if (!looks_like_hs_start(tmp + i, s->hs_max))
				continue;
			struct rd replay = rd_init(s->carry + i, s->carry_len - i);
			if (s->n_records == 0)
				s->preamble_len -= s->carry_len - i;
			s->scan_len = 0;
			s->carry_len = 0;
			s->mode = M_RECORDS;
			process(s, &replay, msg, st);	/* < SCAN_WIN bytes: no message */
			return;
		}
	}
	for (i = 0; i + SCAN_WIN <= n_in; i++) {
		const uint8_t *c = memchr(p + i, TLS_CT_HANDSHAKE, n_in - SCAN_WIN + 1 - i);
		if (c == NULL)
			break;
		i = (size_t)(c - p);
		if (looks_like_hs_start(c, s->hs_max)) {
			if (s->n_records == 0)
				s->preamble_len += i;
			s->scan_len = 0;
			s->carry_len = 0;
			s->mode = M_RECORDS;
			(void)rd_skip(in, i);
			return;
		}
	}
	/* keep the last SCAN_WIN - 1 bytes of carry + input as candidates */
	n_tmp = s->carry_len;
	memcpy(tmp, s->carry, n_tmp);
	k = n_in < SCAN_WIN - 1 ? n_in : SCAN_WIN - 1;
	memcpy(tmp + n_tmp, p + n_in - k, k);
	n_tmp += k;
	k = n_tmp < SCAN_WIN - 1 ? n_tmp : SCAN_WIN - 1;
	memcpy(s->carry, tmp + n_tmp - k, k);
	s->carry_len = (uint8_t)k;
	if (s->n_records == 0)		/* a resync after a hole is not a preamble */
		s->preamble_len += n_in;
	s->scan_len += n_in;
	(void)rd_skip(in, n_in);
	if (s->scan_len > s->preamble_max)
		tls_stream_stop(s, TLS_STOP_NOT_TLS);
}

/*
 * Start of stream: read a 5-byte record header's worth, then decide between
 * TLS records, an SSL 2.0 hello, or scanning a cleartext preamble.
 */
static void
start(struct tls_stream *s, struct rd *in, struct tls_msg *msg, int *st)
{
	size_t want = 5 - s->hdr_len, n = rd_left(in) < want ? rd_left(in) : want;
	size_t rec_len;
	uint8_t h[5];
	struct rd replay = rd_init(h, sizeof(h));

	(void)rd_bytes(in, s->hdr + s->hdr_len, n);
	s->hdr_len = (uint8_t)(s->hdr_len + n);
	if (s->hdr_len < 5)
		return;
	memcpy(h, s->hdr, sizeof(h));	/* replayed below into s->hdr itself */
	if (record_header_ok(h, &rec_len)) {
		s->hdr_len = 0;
		s->mode = M_RECORDS;
		process(s, &replay, msg, st);	/* header only: no message */
		return;
	}
	if (s->sslv2_seen && sslv2_record(h)) {
		/* SSL 2.0 after its hello (CLIENT-MASTER-KEY...): encrypted from here */
		tls_stream_stop(s, TLS_STOP_SSLV2);
		return;
	}
	if (sslv2_header_ok(h, &rec_len)) {
		s->hdr_len = 0;
		s->msg_sslv2 = true;
		s->msg_len = (uint32_t)rec_len;
		s->msg_have = 3;
		if ((*st = reserve(s, rec_len, rec_len)) != P_OK)
			return;
		memcpy(s->buf, s->hdr + 2, 3);
		s->mode = M_SSLV2;
		return;
	}
	if (s->sslv2_seen) {		/* after an SSL 2.0 hello, only records make sense */
		*st = P_BAD;
		return;
	}
	s->hdr_len = 0;
	s->mode = M_SCAN;
	scan(s, &replay, msg, st);
}

/* Collect the body of an SSL 2.0 hello into buf. */
static void
sslv2_body(struct tls_stream *s, struct rd *in, struct tls_msg *msg)
{
	size_t want = s->msg_len - s->msg_have, n = rd_left(in) < want ? rd_left(in) : want;

	if (n > 0)
		(void)rd_bytes(in, s->buf + s->msg_have, n);
	s->msg_have += (uint32_t)n;
	if (s->msg_have < s->msg_len)
		return;
	s->n_records++;
	s->sslv2_seen = true;
	struct rd mt = rd_init(s->buf, s->msg_len);
	(void)rd_u8(&mt, &msg->type);
	msg->is_sslv2 = true;
	msg->kept = true;
	msg->body = s->buf;
	msg->len = s->msg_len;
	s->msg_sslv2 = false;
	s->msg_have = s->msg_len = 0;
	s->mode = msg->type == SSL2_MT_SERVER_HELLO ? M_STOPPED : M_START;
	if (msg->type == SSL2_MT_SERVER_HELLO)
		s->stop = TLS_STOP_SSLV2;	/* buf is freed by the next call */
}

/*
 * Handshake layer (RFC 8446 s4): msg_type(1) length(3) body, spread over any
 * number of handshake records.  A body that sits whole inside the current
 * record and input is returned in place; otherwise it is copied into buf.
 */
static void
handshake_bytes(struct tls_stream *s, struct rd *rec, struct tls_msg *msg, int *st)
{
	struct rd hr;
	size_t n;

	if (s->mhdr_len < 4) {
		n = 4 - s->mhdr_len;
		if (n > rd_left(rec))
			n = rd_left(rec);
		(void)rd_bytes(rec, s->mhdr + s->mhdr_len, n);
		s->mhdr_len = (uint8_t)(s->mhdr_len + n);
		if (s->mhdr_len < 4)
			return;
		hr = rd_init(s->mhdr, 4);
		(void)rd_u8(&hr, &s->msg_type);
		(void)rd_u24(&hr, &s->msg_len);
		s->msg_have = 0;
		s->msg_keep = s->msg_type < 32 && (s->keep_mask >> s->msg_type & 1);
		if (s->msg_keep && s->msg_len > s->hs_max) {
			*st = P_LIMIT;
			return;
		}
		if (s->msg_keep && s->msg_len <= rd_left(rec)) {
			msg->body = rd_ptr(rec);	/* whole body at hand: no copy */
			(void)rd_skip(rec, s->msg_len);
			goto done;
		}
	}
	n = s->msg_len - s->msg_have;
	if (n > rd_left(rec))
		n = rd_left(rec);
	if (s->msg_keep && (*st = reserve(s, s->msg_have + n, s->msg_len)) != P_OK)
		return;
	/* n is 0 for an empty message whose header crossed records: buf may be NULL */
	if (s->msg_keep && n > 0)
		(void)rd_bytes(rec, s->buf + s->msg_have, n);
	else
		(void)rd_skip(rec, n);
	s->msg_have += (uint32_t)n;
	if (s->msg_have < s->msg_len)
		return;
	msg->body = s->msg_keep ? s->buf : NULL;
done:
	msg->type = s->msg_type;
	msg->kept = s->msg_keep;
	msg->len = s->msg_len;		/* a HelloRequest (type 0) reads as no message */
	s->mhdr_len = 0;
	s->msg_have = 0;
}

/*
 * Alert (RFC 8446 s6): level(1) description(1), possibly split over records.
 * A fatal alert or close_notify stops the stream; the first alert is kept
 * for the report.
 */
static void
alert_bytes(struct tls_stream *s, struct rd *rec)
{
	while (rd_left(rec) > 0) {
		(void)rd_u8(rec, &s->alert_cur[s->alert_have++]);
		if (s->alert_have < 2)
			continue;
		s->alert_have = 0;
		if (!s->has_alert) {
			memcpy(s->alert, s->alert_cur, 2);
			s->has_alert = true;
		}
		if (s->alert_cur[0] == 2 || s->alert_cur[1] == 0) {
			tls_stream_stop(s, TLS_STOP_ALERT);
			return;
		}
	}
}

/* Records: read a header, then hand the body to the right content handler. */
static void
records(struct tls_stream *s, struct rd *in, struct tls_msg *msg, int *st)
{
	struct rd rec;
	size_t n;

	if (s->hdr_len < 5) {
		n = 5 - s->hdr_len;
		if (n > rd_left(in))
			n = rd_left(in);
		(void)rd_bytes(in, s->hdr + s->hdr_len, n);
		s->hdr_len = (uint8_t)(s->hdr_len + n);
		if (s->hdr_len < 5)
			return;
		if (!record_header_ok(s->hdr, &s->rec_left)) {
			*st = P_BAD;
			return;
		}
		s->rec_type = s->hdr[0];
		s->n_records++;
		if (s->rec_type == TLS_CT_APPDATA) {
			tls_stream_stop(s, TLS_STOP_APPDATA);
			return;
		}
		if (s->rec_type == TLS_CT_CCS && !s->ccs_is_compat) {
			tls_stream_stop(s, TLS_STOP_CCS);
			return;
		}
		if (s->rec_type == TLS_CT_HANDSHAKE && s->rec_left > TLS_PLAINTEXT_MAX) {
			*st = P_BAD;		/* plaintext handshake records cap at 2^14 */
			return;
		}
	}
	n = s->rec_left < rd_left(in) ? s->rec_left : rd_left(in);
	(void)rd_sub(in, n, &rec);
	switch (s->rec_type) {
	case TLS_CT_HANDSHAKE:
		while (rd_left(&rec) > 0 && msg->type == 0 && *st == P_OK)
			handshake_bytes(s, &rec, msg, st);
		/* give back what the message did not use */
		in->off -= rd_left(&rec);
		n -= rd_left(&rec);
		break;
	case TLS_CT_ALERT:
		alert_bytes(s, &rec);
		break;
	default:			/* compat CCS, heartbeat: skipped */
		break;
	}
	s->rec_left -= n;
	if (s->rec_left == 0 && s->mode != M_STOPPED)
		s->hdr_len = 0;
}

static void
process(struct tls_stream *s, struct rd *in, struct tls_msg *msg, int *st)
{
	while (rd_left(in) > 0 && msg->type == 0 && *st == P_OK && s->mode != M_STOPPED) {
		switch (s->mode) {
		case M_START:
			start(s, in, msg, st);
			break;
		case M_SCAN:
			scan(s, in, msg, st);
			break;
		case M_RECORDS:
			records(s, in, msg, st);
			break;
		case M_SSLV2:
			sslv2_body(s, in, msg);
			break;
		}
	}
}

int
tls_feed(struct tls_stream *s, const uint8_t *p, size_t len, struct tls_msg *msg)
{
	struct rd in = rd_init(p, len);
	int st = P_OK;

	memset(msg, 0, sizeof(*msg));
	if (len > INT_MAX)
		in.len = len = INT_MAX;	/* the caller feeds the rest next */
	if (s->mode == M_STOPPED) {
		tls_stream_free(s);	/* a last message's buffer lives until here */
		return (int)len;
	}
	process(s, &in, msg, &st);
	if (st != P_OK)
		return fail(s, st);
	if (s->mode == M_STOPPED && msg->type == 0)
		tls_stream_free(s);
	return (int)in.off;
}
