/*
 * quic.c: QUIC long-header walk, Initial packet protection, frames, CRYPTO
 * stream reassembly and handshake message splitting.
 *
 * Distrusts: every datagram byte; header fields are read through rd before
 * use, and a packet is decrypted into a private copy (at most QUIC_PKT_MAX
 * bytes) that is parsed only after its AEAD tag verified.  Owns: the two
 * CRYPTO buffers of each struct quic_conn (memcap-charged) and, during one
 * call, that copy and an OpenSSL cipher context.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "pstat.h"
#include "quic.h"
#include "rd.h"
#include "tls_record.h"

/* RFC 9001 s5.2 and RFC 9369 s3.3.1: the salts of HKDF-Extract. */
static const uint8_t salt_v1[20] = {
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};
static const uint8_t salt_v2[20] = {
	0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
};

/* RFC 9001 s5.8 and RFC 9369 s3.3.3: fixed AEAD key and nonce of Retry tags. */
static const uint8_t retry_key_v1[16] = {
	0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a,
	0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e,
};
static const uint8_t retry_nonce_v1[12] = {
	0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb,
};
static const uint8_t retry_key_v2[16] = {
	0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2,
	0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92,
};
static const uint8_t retry_nonce_v2[12] = {
	0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a,
};

#define TAG_LEN 16
#define SAMPLE_LEN 16
#define ODCID_LEN_MIN 8		/* RFC 9000 s7.2: a client's first DCID */
#define VARINT_MAX ((UINT64_C(1) << 62) - 1)

/* Long header packet types, whatever their version-specific bits. */
enum pkt_type { PT_INITIAL, PT_0RTT, PT_HANDSHAKE, PT_RETRY, PT_VN, PT_OTHER };

/* Frame types allowed in Initial packets (RFC 9000 s12.4, Table 3). */
enum {
	FT_PADDING = 0x00, FT_PING = 0x01, FT_ACK = 0x02, FT_ACK_ECN = 0x03,
	FT_CRYPTO = 0x06, FT_CLOSE = 0x1c,
};

/* One parsed long-header packet: views into the datagram. */
struct lh {
	uint8_t first;		/* first byte, still header-protected */
	uint32_t version;
	enum pkt_type type;
	struct rd dcid, scid;
	size_t token_len;	/* Initial: Token Length; Retry: token bytes */
	const uint8_t *pkt;	/* from the first byte ... */
	size_t pkt_len;		/* ... to the end of the packet (Length or datagram) */
	size_t pn_off;		/* Initial/0-RTT/Handshake: packet number offset */
};

/*
 * RFC 9000 s16: a variable-length integer; the two high bits of the first
 * byte give its length (1, 2, 4 or 8 bytes).
 */
static bool
rd_varint(struct rd *r, uint64_t *v)
{
	uint8_t b;
	size_t n;
	uint64_t x;

	if (!rd_peek_u8(r, 0, &b))
		return false;
	n = (size_t)1 << (b >> 6);
	if (rd_left(r) < n)
		return false;
	(void)rd_u8(r, &b);
	x = b & 0x3f;
	for (size_t i = 1; i < n; i++) {
		(void)rd_u8(r, &b);
		x = x << 8 | b;
	}
	*v = x;
	return true;
}

static bool
version_known(uint32_t v)
{
	return v == QUIC_V1 || v == QUIC_V2;
}

/* RFC 9000 s17.2 Table 5; RFC 9369 s3.2 numbers them differently. */
static enum pkt_type
long_type(uint32_t version, uint8_t first)
{
	static const enum pkt_type v1[4] = { PT_INITIAL, PT_0RTT, PT_HANDSHAKE, PT_RETRY };
	static const enum pkt_type v2[4] = { PT_RETRY, PT_INITIAL, PT_0RTT, PT_HANDSHAKE };
	unsigned bits = (first >> 4) & 3;

	return version == QUIC_V2 ? v2[bits] : v1[bits];
}

/*
 * RFC 9000 s17.2, one long-header packet at the cursor:
 *   Header Form (1) = 1, Fixed Bit (1), Long Packet Type (2), Type-Specific (4),
 *   Version (32), DCID Length (8), DCID (0..160), SCID Length (8), SCID (0..160)
 *   Initial:            Token Length (i), Token (..), Length (i), PN, Payload
 *   0-RTT, Handshake:   Length (i), PN, Payload
 *   Retry:              Retry Token (..), Retry Integrity Tag (128)
 * Version Negotiation (s17.2.1, version 0) lists versions to the datagram end.
 * Retry, VN and unknown versions run to the end of the datagram.  The fixed
 * bit is not required (RFC 9287 lets peers grease it).  On success the
 * cursor is past the packet.  P_OK, P_UNSUPP (VN or other version; *h has
 * the version and type) or P_BAD (nothing fits).
 */
static int
parse_long(struct rd *r, struct lh *h)
{
	struct rd save = *r;
	uint64_t n;

	memset(h, 0, sizeof(*h));
	h->pkt = rd_ptr(r);
	if (!rd_u8(r, &h->first) || !rd_u32(r, &h->version))
		goto bad;
	if (!version_known(h->version)) {
		/* RFC 8999 s5.1: invariant CID lengths go up to 255 */
		if (!rd_vec8(r, &h->dcid) || !rd_vec8(r, &h->scid))
			goto bad;
		h->type = h->version == 0 ? PT_VN : PT_OTHER;
		if (h->type == PT_VN && (rd_left(r) == 0 || rd_left(r) % 4 != 0))
			goto bad;
		(void)rd_skip(r, rd_left(r));
		h->pkt_len = r->off - save.off;
		return P_UNSUPP;
	}
	if (!rd_vec8(r, &h->dcid) || rd_left(&h->dcid) > QUIC_CID_LEN_MAX ||
	    !rd_vec8(r, &h->scid) || rd_left(&h->scid) > QUIC_CID_LEN_MAX)
		goto bad;
	h->type = long_type(h->version, h->first);
	if (h->type == PT_RETRY) {
		if (rd_left(r) <= TAG_LEN)	/* s17.2.5.2: a token is required */
			goto bad;
		h->token_len = rd_left(r) - TAG_LEN;
		(void)rd_skip(r, rd_left(r));
		h->pkt_len = r->off - save.off;
		return P_OK;
	}
	if (h->type == PT_INITIAL) {
		if (!rd_varint(r, &n) || n > rd_left(r))
			goto bad;
		h->token_len = (size_t)n;
		(void)rd_skip(r, h->token_len);
	}
	if (!rd_varint(r, &n) || n > rd_left(r) || n == 0)
		goto bad;
	h->pn_off = r->off - save.off;
	(void)rd_skip(r, (size_t)n);
	h->pkt_len = r->off - save.off;
	return P_OK;
bad:
	*r = save;
	return P_BAD;
}

bool
quic_looks_like_initial(const uint8_t *p, size_t len)
{
	struct rd r = rd_init(p, len);
	struct lh h;
	uint8_t b0;

	if (p == NULL || !rd_peek_u8(&r, 0, &b0) || !(b0 & 0x80))
		return false;
	return parse_long(&r, &h) == P_OK && h.type == PT_INITIAL &&
	    h.pkt_len >= h.pn_off + 4 + SAMPLE_LEN;
}

/* --- keys ------------------------------------------------------------- */

/*
 * RFC 8446 s7.1 HKDF-Expand-Label(secret, label, "", out_len) for
 * out_len <= 32, where HKDF-Expand (RFC 5869 s2.3) is one HMAC block:
 *   struct { uint16 length; opaque label<7..255> = "tls13 " + label;
 *            opaque context<0..255> = ""; } HkdfLabel;
 *   T(1) = HMAC-SHA256(secret, HkdfLabel || 0x01)
 */
static bool
expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t out_len)
{
	uint8_t info[2 + 1 + 6 + 32 + 1 + 1], t[EVP_MAX_MD_SIZE];
	size_t llen = strlen(label), n = 0;
	unsigned tlen = 0;

	if (out_len > 32 || llen > 32)
		return false;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(6 + llen);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, llen);
	n += llen;
	info[n++] = 0;			/* empty context */
	info[n++] = 1;			/* HKDF-Expand block counter */
	if (HMAC(EVP_sha256(), secret, 32, info, n, t, &tlen) == NULL || tlen != 32)
		return false;
	memcpy(out, t, out_len);
	OPENSSL_cleanse(t, sizeof(t));
	return true;
}

int
quic_initial_keys(uint32_t version, const uint8_t *dcid, size_t dcid_len,
    struct quic_keys out[2])
{
	static const char *const in_label[2] = { "client in", "server in" };
	const char *lk, *li, *lh;
	const uint8_t *salt;
	uint8_t initial[EVP_MAX_MD_SIZE], secret[32];
	unsigned ilen = 0;
	int st = P_NOMEM;

	memset(out, 0, 2 * sizeof(*out));
	if (version == QUIC_V1) {
		salt = salt_v1;
		lk = "quic key", li = "quic iv", lh = "quic hp";
	} else if (version == QUIC_V2) {
		salt = salt_v2;
		lk = "quicv2 key", li = "quicv2 iv", lh = "quicv2 hp";
	} else {
		return P_UNSUPP;
	}
	if (dcid_len > QUIC_CID_LEN_MAX)
		return P_BAD;
	/* initial_secret = HKDF-Extract(salt, dcid) = HMAC-SHA256(salt, dcid) */
	if (HMAC(EVP_sha256(), salt, 20, dcid_len ? dcid : (const uint8_t *)"", dcid_len,
	    initial, &ilen) == NULL || ilen != 32)
		goto out;
	for (int d = 0; d < 2; d++) {
		if (!expand_label(initial, in_label[d], secret, 32) ||
		    !expand_label(secret, lk, out[d].key, 16) ||
		    !expand_label(secret, li, out[d].iv, 12) ||
		    !expand_label(secret, lh, out[d].hp, 16))
			goto out;
	}
	st = P_OK;
out:
	OPENSSL_cleanse(initial, sizeof(initial));
	OPENSSL_cleanse(secret, sizeof(secret));
	return st;
}

/* --- packet protection -------------------------------------------------- */

/* RFC 9001 s5.4.3: mask = AES-ECB(hp_key, sample) */
static bool
hp_mask(EVP_CIPHER_CTX *cx, const uint8_t hp[16], const uint8_t *sample, uint8_t mask[16])
{
	int outl = 0;

	return EVP_EncryptInit_ex(cx, EVP_aes_128_ecb(), NULL, hp, NULL) == 1 &&
	    EVP_CIPHER_CTX_set_padding(cx, 0) == 1 &&
	    EVP_EncryptUpdate(cx, mask, &outl, sample, SAMPLE_LEN) == 1 && outl == SAMPLE_LEN;
}

/*
 * AEAD_AES_128_GCM open (RFC 5116) of ct[0..ct_len) whose last 16 bytes are
 * the tag, in place, with aad[0..aad_len).  The plaintext is used only when
 * this returns true.
 */
static bool
gcm_open(EVP_CIPHER_CTX *cx, const uint8_t key[16], const uint8_t nonce[12],
    const uint8_t *aad, size_t aad_len, uint8_t *ct, size_t ct_len)
{
	size_t n;
	int outl = 0, fin = 0;

	if (ct_len < TAG_LEN || aad_len > INT32_MAX || ct_len > INT32_MAX)
		return false;
	n = ct_len - TAG_LEN;
	return EVP_DecryptInit_ex(cx, EVP_aes_128_gcm(), NULL, NULL, NULL) == 1 &&
	    EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	    EVP_DecryptInit_ex(cx, NULL, NULL, key, nonce) == 1 &&
	    EVP_DecryptUpdate(cx, NULL, &outl, aad, (int)aad_len) == 1 &&
	    EVP_DecryptUpdate(cx, ct, &outl, ct, (int)n) == 1 &&
	    EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, ct + n) == 1 &&
	    EVP_DecryptFinal_ex(cx, ct + outl, &fin) == 1;
}

/* RFC 9000 Appendix A.3: the full packet number nearest to largest + 1. */
static uint64_t
decode_pn(int64_t largest, uint64_t truncated, unsigned bits)
{
	uint64_t expected = (uint64_t)(largest + 1);
	uint64_t win = UINT64_C(1) << bits, hwin = win / 2, mask = win - 1;
	uint64_t cand = (expected & ~mask) | truncated;

	if (cand + hwin <= expected && cand < (UINT64_C(1) << 62) - win)
		return cand + win;
	if (cand > expected + hwin && cand >= win)
		return cand - win;
	return cand;
}

/*
 * RFC 9001 s5.4 and s5.3: remove header protection from the copy of the
 * packet in buf (h->pkt_len bytes, already copied), decode the packet number
 * and open the payload in place.  On success *pt and *pt_len give the plaintext
 * and *first the unprotected first byte.  buf is our own copy whose layout
 * parse_long() has checked: pn_off + 4 + SAMPLE_LEN <= pkt_len.
 */
static bool
open_packet(EVP_CIPHER_CTX *cx, const struct quic_keys *k, const struct lh *h,
    int64_t largest, uint8_t *buf, uint8_t *first, uint64_t *pn, uint8_t **pt,
    size_t *pt_len)
{
	uint8_t mask[16], nonce[12];
	uint64_t tpn = 0;
	size_t pn_len, hdr_len;

	if (!hp_mask(cx, k->hp, buf + h->pn_off + 4, mask))
		return false;
	buf[0] ^= mask[0] & 0x0f;	/* long header: 4 protected bits */
	pn_len = (size_t)(buf[0] & 3) + 1;
	for (size_t i = 0; i < pn_len; i++) {
		buf[h->pn_off + i] ^= mask[1 + i];
		tpn = tpn << 8 | buf[h->pn_off + i];
	}
	hdr_len = h->pn_off + pn_len;
	if (h->pkt_len - hdr_len < TAG_LEN + 1)	/* at least one frame byte */
		return false;
	*pn = decode_pn(largest, tpn, (unsigned)(8 * pn_len));
	/* s5.3: nonce = iv XOR the packet number, left-padded to 12 bytes */
	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(*pn >> (8 * i));
	if (!gcm_open(cx, k->key, nonce, buf, hdr_len, buf + hdr_len, h->pkt_len - hdr_len))
		return false;
	*first = buf[0];
	*pt = buf + hdr_len;
	*pt_len = h->pkt_len - hdr_len - TAG_LEN;
	return true;
}

/*
 * RFC 9001 s5.8: the Retry Integrity Tag is AES-128-GCM with a fixed key and
 * nonce over an empty plaintext, with the pseudo-packet as associated data:
 *   ODCID Length (8), Original Destination Connection ID (0..160),
 *   the Retry packet without its tag.
 */
static bool
retry_tag_ok(EVP_CIPHER_CTX *cx, const struct lh *h, const struct quic_dcid *odcid)
{
	const uint8_t *key = h->version == QUIC_V2 ? retry_key_v2 : retry_key_v1;
	const uint8_t *nonce = h->version == QUIC_V2 ? retry_nonce_v2 : retry_nonce_v1;
	size_t body = h->pkt_len - TAG_LEN;
	uint8_t tag[TAG_LEN], l = odcid->len;
	int outl = 0;

	if (body > INT32_MAX)
		return false;
	if (EVP_EncryptInit_ex(cx, EVP_aes_128_gcm(), NULL, key, nonce) != 1 ||
	    EVP_EncryptUpdate(cx, NULL, &outl, &l, 1) != 1 ||
	    (l > 0 && EVP_EncryptUpdate(cx, NULL, &outl, odcid->id, l) != 1) ||
	    EVP_EncryptUpdate(cx, NULL, &outl, h->pkt, (int)body) != 1 ||
	    EVP_EncryptFinal_ex(cx, tag, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) != 1)
		return false;
	return CRYPTO_memcmp(tag, h->pkt + body, TAG_LEN) == 0;
}

/* --- frames --------------------------------------------------------------- */

enum { FR_OK, FR_BAD, FR_VIOLATION };

/*
 * RFC 9000 s19, the frames an Initial packet may carry (s12.4 Table 3):
 *   PADDING (0x00), PING (0x01)
 *   ACK (0x02/0x03): Largest Acknowledged (i), ACK Delay (i), ACK Range Count (i),
 *       First ACK Range (i), ACK Range (..) {Gap (i), Length (i)} ...,
 *       [ECN Counts: ECT0 (i), ECT1 (i), ECN-CE (i)] for 0x03
 *   CRYPTO (0x06): Offset (i), Length (i), Crypto Data (..)
 *   CONNECTION_CLOSE (0x1c): Error Code (i), Frame Type (i), Reason Phrase
 *       Length (i), Reason Phrase (..)
 * Anything else, or a frame type not in its shortest encoding, is a protocol
 * violation.  With s == NULL the frames are only checked; otherwise CRYPTO
 * data goes to s and *st collects the first reassembly error.
 */
static int
walk_frames(const uint8_t *p, size_t len, struct quic_crypto *s, struct memcap *mem,
    uint64_t *n_crypto, int *st)
{
	struct rd r = rd_init(p, len);
	uint64_t type, a, b, n;

	while (rd_left(&r) > 0) {
		size_t at = r.off;

		if (!rd_varint(&r, &type))
			return FR_BAD;
		if (r.off - at != 1)
			return FR_VIOLATION;	/* s12.4: shortest encoding */
		switch (type) {
		case FT_PADDING:
		case FT_PING:
			break;
		case FT_ACK:
		case FT_ACK_ECN:
			if (!rd_varint(&r, &a) || !rd_varint(&r, &b) ||
			    !rd_varint(&r, &n) || !rd_varint(&r, &a))
				return FR_BAD;
			/* each range is at least 2 bytes: the cursor bounds the loop */
			for (uint64_t i = 0; i < n; i++)
				if (!rd_varint(&r, &a) || !rd_varint(&r, &b))
					return FR_BAD;
			if (type == FT_ACK_ECN && (!rd_varint(&r, &a) ||
			    !rd_varint(&r, &a) || !rd_varint(&r, &a)))
				return FR_BAD;
			break;
		case FT_CRYPTO: {
			struct rd data;

			if (!rd_varint(&r, &a) || !rd_varint(&r, &n) || n > rd_left(&r) ||
			    a > VARINT_MAX - n)
				return FR_BAD;
			(void)rd_sub(&r, (size_t)n, &data);
			if (s != NULL) {
				int k = quic_crypto_add(s, mem, a, data.p, data.len);

				(*n_crypto)++;
				if (k != P_OK && *st == P_OK)
					*st = k;
			}
			break;
		}
		case FT_CLOSE:
			if (!rd_varint(&r, &a) || !rd_varint(&r, &b) || !rd_varint(&r, &n) ||
			    n > rd_left(&r))
				return FR_BAD;
			(void)rd_skip(&r, (size_t)n);
			break;
		default:
			return FR_VIOLATION;
		}
	}
	return FR_OK;
}

/* --- connection ------------------------------------------------------------ */

void
quic_conn_init(struct quic_conn *c, struct memcap *mem)
{
	memset(c, 0, sizeof(*c));
	c->mem = mem;
	c->largest_pn[0] = c->largest_pn[1] = -1;
}

void
quic_conn_free(struct quic_conn *c)
{
	if (c == NULL)
		return;
	quic_crypto_free(&c->crypto[0], c->mem);
	quic_crypto_free(&c->crypto[1], c->mem);
}

static int
find_dcid(const struct quic_conn *c, const struct rd *id)
{
	for (int i = 0; i < c->n_dcid; i++)
		if (c->dcid[i].len == id->len && memcmp(c->dcid[i].id, id->p, id->len) == 0)
			return i;
	return -1;
}

/*
 * Remember a DCID the client uses (or will use) to derive Initial keys.  The
 * original one stays in slot 0; when full, the oldest of the others goes.
 */
static int
add_dcid(struct quic_conn *c, const struct quic_dcid *d)
{
	int i;

	if (c->n_dcid < QUIC_DCID_MAX) {
		i = c->n_dcid++;
	} else if (QUIC_DCID_MAX == 1) {
		i = 0;
	} else {
		memmove(&c->dcid[1], &c->dcid[2], (QUIC_DCID_MAX - 2) * sizeof(c->dcid[0]));
		i = QUIC_DCID_MAX - 1;
	}
	c->dcid[i] = *d;
	return i;
}

static void
dcid_set(struct quic_dcid *d, const struct rd *id)
{
	memset(d, 0, sizeof(*d));
	d->len = (uint8_t)id->len;
	if (id->len > 0)
		memcpy(d->id, id->p, id->len);
}

/* Keys of candidate d for version v, derived on first use and cached. */
static int
dcid_keys(struct quic_dcid *d, uint32_t v)
{
	int k;

	if (d->has_keys && d->keys_version == v)
		return P_OK;
	d->has_keys = false;
	if ((k = quic_initial_keys(v, d->id, d->len, d->keys)) != P_OK)
		return k;
	d->has_keys = true;
	d->keys_version = v;
	return P_OK;
}

/* Per-call scratch: the cipher context, shared by the packets of a datagram. */
struct walk {
	EVP_CIPHER_CTX *cx;
};

static int
walk_cx(struct walk *w)
{
	if (w->cx == NULL && (w->cx = EVP_CIPHER_CTX_new()) == NULL)
		return P_NOMEM;
	return P_OK;
}

/* Split and hand out every handshake message the stream now completes. */
static int
deliver(struct quic_conn *c, int dir, uint32_t version, quic_msg_cb cb, void *ctx)
{
	struct quic_crypto *s = &c->crypto[dir];
	struct quic_msg m;
	int k;

	while ((k = quic_crypto_next_msg(s, &m)) == P_OK) {
		m.from_client = dir == 0;
		m.version = version;
		c->n_msgs++;
		if (cb != NULL)
			cb(ctx, &m);
	}
	quic_crypto_shrink(s, c->mem);
	if (k == P_LIMIT) {
		c->n_limit++;
		return P_LIMIT;
	}
	return P_OK;
}

/*
 * An Initial packet: try the candidate DCIDs' keys, most recently successful
 * first; for a client packet, also keys from its own DCID (a connection seen
 * from the middle, or a Retry we missed).  Then the frames.
 */
static int
do_initial(struct quic_conn *c, bool from_client, const struct lh *h, struct walk *w,
    quic_msg_cb cb, void *ctx)
{
	int dir = from_client ? 0 : 1, k, st = P_OK, hit = -1;
	uint8_t *buf = NULL, *pt = NULL, first = 0;
	size_t pt_len = 0;
	uint64_t pn = 0;
	struct quic_dcid own;
	bool own_try;

	if (!from_client && h->token_len != 0) {
		c->n_violation++;	/* s17.2.2: servers send no token */
		return P_BAD;
	}
	if (h->pkt_len < h->pn_off + 4 + SAMPLE_LEN) {
		c->n_malformed++;	/* RFC 9001 s5.4.2: too short to sample */
		return P_BAD;
	}
	if (c->n_decrypt_fail >= QUIC_FAIL_MAX || h->pkt_len > QUIC_PKT_MAX) {
		c->n_limit++;
		return P_LIMIT;
	}
	if (walk_cx(w) != P_OK)
		goto nomem;
	if (!memcap_take(c->mem, h->pkt_len))
		goto nomem;
	if ((buf = malloc(h->pkt_len)) == NULL) {
		memcap_give(c->mem, h->pkt_len);
		goto nomem;
	}
	own_try = from_client && h->dcid.len >= ODCID_LEN_MIN && find_dcid(c, &h->dcid) < 0;
	for (int t = 0; t < c->n_dcid + (own_try ? 1 : 0) && hit < 0; t++) {
		struct quic_dcid *d;

		if (t < c->n_dcid)	/* cur_dcid first, then the others in order */
			d = &c->dcid[t == 0 ? c->cur_dcid : (t <= c->cur_dcid ? t - 1 : t)];
		else {
			dcid_set(&own, &h->dcid);
			d = &own;
		}
		if ((k = dcid_keys(d, h->version)) != P_OK) {
			st = k == P_NOMEM ? P_NOMEM : P_BAD;
			continue;
		}
		memcpy(buf, h->pkt, h->pkt_len);
		if (open_packet(w->cx, &d->keys[dir], h, c->largest_pn[dir], buf, &first,
		    &pn, &pt, &pt_len))
			hit = d == &own ? add_dcid(c, &own) : (int)(d - c->dcid);
	}
	if (hit < 0) {
		c->n_decrypt_fail++;
		if (st == P_NOMEM)
			c->n_nomem++;
		st = st == P_NOMEM ? P_NOMEM : P_BAD;
		goto out;
	}
	st = P_OK;
	c->cur_dcid = (uint8_t)hit;
	c->n_initial++;
	c->version = h->version;
	if ((int64_t)pn > c->largest_pn[dir])
		c->largest_pn[dir] = (int64_t)pn;
	if ((first & 0x0c) != 0) {	/* s17.2: reserved bits, checked after opening */
		c->n_violation++;
		st = P_BAD;
		goto out;
	}
	switch (walk_frames(pt, pt_len, NULL, NULL, NULL, NULL)) {
	case FR_OK:
		break;
	case FR_BAD:
		c->n_malformed++;
		st = P_BAD;
		goto out;
	default:
		c->n_violation++;	/* the packet's frames are not used */
		st = P_BAD;
		goto out;
	}
	(void)walk_frames(pt, pt_len, &c->crypto[dir], c->mem, &c->n_crypto_frames, &st);
	if (st == P_LIMIT)
		c->n_limit++;
	else if (st == P_NOMEM)
		c->n_nomem++;
	k = deliver(c, dir, h->version, cb, ctx);
	if (st == P_OK)
		st = k;
out:
	if (buf != NULL) {
		OPENSSL_cleanse(buf, h->pkt_len);
		free(buf);
		memcap_give(c->mem, h->pkt_len);
	}
	return st;
nomem:
	c->n_nomem++;
	return P_NOMEM;
}

/* A Retry (server only): its SCID becomes the client's DCID if the tag checks. */
static int
do_retry(struct quic_conn *c, bool from_client, const struct lh *h, struct walk *w)
{
	struct quic_dcid d;
	int i;

	if (from_client) {
		c->n_violation++;
		return P_BAD;
	}
	if (walk_cx(w) != P_OK) {
		c->n_nomem++;
		return P_NOMEM;
	}
	for (i = c->n_dcid - 1; i >= 0; i--)	/* the newest DCID is the likeliest */
		if (retry_tag_ok(w->cx, h, &c->dcid[i]))
			break;
	if (i < 0) {
		c->n_retry_bad++;
		return P_BAD;
	}
	c->n_retry++;
	if ((i = find_dcid(c, &h->scid)) < 0) {
		dcid_set(&d, &h->scid);
		i = add_dcid(c, &d);
	}
	c->cur_dcid = (uint8_t)i;
	return P_OK;
}

int
quic_datagram(struct quic_conn *c, bool from_client, const uint8_t *p, size_t len,
    quic_msg_cb cb, void *ctx)
{
	struct rd r = rd_init(p, len), dcid0 = { NULL, 0, 0 };
	struct walk w = { NULL };
	int st = P_OK, k;
	bool first = true;

	c->n_datagrams++;
	if (p == NULL || len == 0) {
		c->n_malformed++;	/* an empty UDP payload is not QUIC */
		return P_BAD;
	}
	while (rd_left(&r) > 0) {
		struct lh h;
		uint8_t b0;

		(void)rd_peek_u8(&r, 0, &b0);
		if (!(b0 & 0x80)) {
			/* s12.2: a short header packet (or padding) ends the datagram */
			c->n_short++;
			break;
		}
		k = parse_long(&r, &h);
		if (k == P_BAD) {
			c->n_malformed++;
			if (st == P_OK)
				st = P_BAD;
			break;
		}
		if (k == P_UNSUPP) {
			if (h.type == PT_VN) {
				c->n_vn++;
			} else {
				c->n_other_version++;
				c->other_version = h.version;
			}
			if (st == P_OK)
				st = P_UNSUPP;
			break;
		}
		/* s12.2: coalesced packets for another connection are ignored */
		if (!first && (h.dcid.len != dcid0.len ||
		    memcmp(h.dcid.p, dcid0.p, h.dcid.len) != 0)) {
			c->n_dcid_mismatch++;
			break;
		}
		if (first) {
			dcid0 = h.dcid;
			first = false;
		}
		switch (h.type) {
		case PT_INITIAL:
			k = do_initial(c, from_client, &h, &w, cb, ctx);
			break;
		case PT_RETRY:
			k = do_retry(c, from_client, &h, &w);
			break;
		case PT_HANDSHAKE:
			c->n_handshake++;
			k = P_OK;
			break;
		default:
			c->n_0rtt++;
			k = P_OK;
			break;
		}
		if (k != P_OK && st == P_OK)
			st = k;
	}
	EVP_CIPHER_CTX_free(w.cx);
	return st;
}

/* --- CRYPTO stream reassembly ------------------------------------------ */

void
quic_crypto_free(struct quic_crypto *s, struct memcap *mem)
{
	if (s == NULL)
		return;
	if (s->buf != NULL) {
		free(s->buf);
		memcap_give(mem, s->cap);
	}
	memset(s, 0, sizeof(*s));
}

void
quic_crypto_shrink(struct quic_crypto *s, struct memcap *mem)
{
	if (s->buf == NULL || s->read != s->contig || s->n_ranges != 0)
		return;
	free(s->buf);
	memcap_give(mem, s->cap);
	s->buf = NULL;
	s->cap = 0;
	s->base = s->read;
}

/*
 * Make buf hold stream offsets [read, end).  A new buffer starts at read
 * (bytes already read are dropped), doubling from 2 KiB up to what is
 * needed, never past QUIC_CRYPTO_MAX bytes.
 */
static int
crypto_reserve(struct quic_crypto *s, struct memcap *mem, uint32_t end)
{
	uint32_t need, cap = 2048, keep;
	uint8_t *nb;

	if (s->buf != NULL && end - s->base <= s->cap)
		return P_OK;
	need = end - s->read;
	while (cap < need)
		cap *= 2;
	if (cap > QUIC_CRYPTO_MAX)
		cap = QUIC_CRYPTO_MAX;
	if (!memcap_take(mem, cap))
		return P_NOMEM;
	if ((nb = malloc(cap)) == NULL) {
		memcap_give(mem, cap);
		return P_NOMEM;
	}
	if (s->buf != NULL) {
		/* keep what is unread and what is held out of order */
		keep = (s->n_ranges ? s->range[s->n_ranges - 1].end : s->contig) - s->read;
		memcpy(nb, s->buf + (s->read - s->base), keep);
		free(s->buf);
		memcap_give(mem, s->cap);
	}
	s->buf = nb;
	s->cap = cap;
	s->base = s->read;
	return P_OK;
}

/*
 * RFC 9000 s19.6 and s2.2: CRYPTO data is placed by offset; a receiver
 * delivers it in order and may see any part of it more than once.
 */
int
quic_crypto_add(struct quic_crypto *s, struct memcap *mem, uint64_t off,
    const uint8_t *p, size_t len)
{
	struct { uint32_t start, end; } nr[QUIC_CRYPTO_RANGES + 1];
	uint32_t ds, de, ms, me, cur, new_contig;
	size_t n = 0;
	bool placed = false;
	int k;

	if (s->stopped || len == 0)
		return P_OK;
	if (off > QUIC_CRYPTO_MAX || len > QUIC_CRYPTO_MAX - off)
		return P_LIMIT;
	ds = (uint32_t)off;
	de = (uint32_t)(off + len);
	if (de <= s->contig) {			/* all of it arrived before */
		s->n_dup_bytes += len;
		return P_OK;
	}
	if (ds < s->contig) {			/* trim what is already contiguous */
		s->n_dup_bytes += s->contig - ds;
		p += s->contig - ds;
		ds = s->contig;
	}
	/* the range list after this add: [ms, me) absorbs what it touches */
	ms = ds, me = de;
	for (uint8_t i = 0; i < s->n_ranges; i++) {
		uint32_t rs = s->range[i].start, re = s->range[i].end;

		if (re < ms) {
			nr[n].start = rs, nr[n++].end = re;
		} else if (rs > me) {
			if (!placed) {
				nr[n].start = ms, nr[n++].end = me;
				placed = true;
			}
			nr[n].start = rs, nr[n++].end = re;
		} else {
			ms = rs < ms ? rs : ms;
			me = re > me ? re : me;
		}
	}
	if (!placed)
		nr[n].start = ms, nr[n++].end = me;
	/* held ranges never touch contig, so only the new one can start there */
	new_contig = s->contig;
	if (nr[0].start == s->contig) {
		new_contig = nr[0].end;
		memmove(&nr[0], &nr[1], (n - 1) * sizeof(nr[0]));
		n--;
	}
	if (n > QUIC_CRYPTO_RANGES)
		return P_LIMIT;
	if (s->buf == NULL)
		s->base = s->read;
	if ((k = crypto_reserve(s, mem, n > 0 ? nr[n - 1].end : new_contig)) != P_OK)
		return k;
	/* copy into the holes only: the first copy of a byte wins */
	cur = ds;
	for (uint8_t i = 0; i < s->n_ranges && cur < de; i++) {
		uint32_t rs = s->range[i].start, re = s->range[i].end;

		if (re <= cur)
			continue;
		if (rs >= de)
			break;
		if (rs > cur)
			memcpy(s->buf + (cur - s->base), p + (cur - ds), rs - cur);
		s->n_dup_bytes += (re < de ? re : de) - (rs > cur ? rs : cur);
		cur = re;
	}
	if (cur < de)
		memcpy(s->buf + (cur - s->base), p + (cur - ds), de - cur);
	memcpy(s->range, nr, n * sizeof(nr[0]));
	s->n_ranges = (uint8_t)n;
	s->contig = new_contig;
	return P_OK;
}

size_t
quic_crypto_peek(const struct quic_crypto *s, const uint8_t **p)
{
	*p = s->buf != NULL ? s->buf + (s->read - s->base) : NULL;
	return s->buf != NULL ? s->contig - s->read : 0;
}

void
quic_crypto_consume(struct quic_crypto *s, size_t n)
{
	const uint8_t *p;
	size_t have = quic_crypto_peek(s, &p);

	s->read += (uint32_t)(n < have ? n : have);
}

/*
 * RFC 8446 s4 without the record layer (RFC 9001 s4):
 *   struct { HandshakeType msg_type; uint24 length; opaque body[length]; }
 */
int
quic_crypto_next_msg(struct quic_crypto *s, struct quic_msg *m)
{
	const uint8_t *p;
	size_t have = quic_crypto_peek(s, &p);
	struct rd r = rd_init(p, have), body;
	uint8_t type;
	uint32_t len;

	memset(m, 0, sizeof(*m));
	if (s->stopped)
		return P_MORE;
	if (!rd_u8(&r, &type) || !rd_u24(&r, &len))
		return P_MORE;
	if (len > TLS_HS_MAX || (uint64_t)s->read + 4 + len > QUIC_CRYPTO_MAX) {
		s->stopped = true;
		return P_LIMIT;
	}
	if (!rd_sub(&r, len, &body))
		return P_MORE;
	m->type = type;
	m->body = body.p;
	m->len = len;
	m->offset = s->read;
	s->read += 4 + len;
	return P_OK;
}
