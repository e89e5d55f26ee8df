/*
 * tb.h: a byte builder for tests.  Messages are written field by field with
 * their decoded meaning beside them; length prefixes are opened with
 * tb_open(n) and patched by tb_close(), so a test never hand-counts bytes.
 */
#ifndef TLSENTRY_TB_H
#define TLSENTRY_TB_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct tb {
	uint8_t b[1 << 17];
	size_t n;
	size_t open_at[16];
	int open_w[16];
	int depth;
};

static inline void
tb_u8(struct tb *t, unsigned v)
{
	t->b[t->n++] = (uint8_t)v;
}

static inline void
tb_u16(struct tb *t, unsigned v)
{
	tb_u8(t, v >> 8);
	tb_u8(t, v);
}

static inline void
tb_u24(struct tb *t, unsigned long v)
{
	tb_u8(t, (unsigned)(v >> 16));
	tb_u8(t, (unsigned)(v >> 8));
	tb_u8(t, (unsigned)v);
}

static inline void
tb_raw(struct tb *t, const void *p, size_t n)
{
	memcpy(t->b + t->n, p, n);
	t->n += n;
}

static inline void
tb_str(struct tb *t, const char *s)
{
	tb_raw(t, s, strlen(s));
}

static inline void
tb_fill(struct tb *t, unsigned v, size_t n)
{
	memset(t->b + t->n, (int)v, n);
	t->n += n;
}

/* Open a length prefix of w bytes (1, 2 or 3); tb_close() patches it. */
static inline void
tb_open(struct tb *t, int w)
{
	t->open_at[t->depth] = t->n;
	t->open_w[t->depth++] = w;
	t->n += (size_t)w;
}

static inline void
tb_close(struct tb *t)
{
	size_t at = t->open_at[--t->depth];
	int w = t->open_w[t->depth];
	size_t len = t->n - at - (size_t)w;

	for (int i = w - 1; i >= 0; i--) {
		t->b[at + (size_t)i] = (uint8_t)len;
		len >>= 8;
	}
}

/* A ClientHello body with SNI, ALPN, groups, point formats, versions. */
static inline void
tb_client_hello(struct tb *t, const char *sni, int tls13)
{
	tb_u16(t, 0x0303);			/* legacy_version TLS 1.2 */
	tb_fill(t, 0x11, 32);			/* random */
	tb_open(t, 1); tb_fill(t, 0x22, 32); tb_close(t);	/* session id, 32 bytes */
	tb_open(t, 2);				/* cipher_suites */
	tb_u16(t, 0x1a1a);			/* GREASE */
	tb_u16(t, 0x1301);			/* TLS_AES_128_GCM_SHA256 */
	tb_u16(t, 0xc02f);			/* ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	tb_u16(t, 0x009c);			/* RSA_WITH_AES_128_GCM_SHA256 */
	tb_close(t);
	tb_open(t, 1); tb_u8(t, 0); tb_close(t);	/* compression: null */
	tb_open(t, 2);				/* extensions */
	if (sni) {
		tb_u16(t, 0);			/* server_name */
		tb_open(t, 2); tb_open(t, 2);
		tb_u8(t, 0);			/* host_name */
		tb_open(t, 2); tb_str(t, sni); tb_close(t);
		tb_close(t); tb_close(t);
	}
	tb_u16(t, 10);				/* supported_groups */
	tb_open(t, 2); tb_open(t, 2);
	tb_u16(t, 0x001d); tb_u16(t, 0x0017);	/* x25519, secp256r1 */
	tb_close(t); tb_close(t);
	tb_u16(t, 11);				/* ec_point_formats */
	tb_open(t, 2); tb_open(t, 1); tb_u8(t, 0); tb_close(t); tb_close(t);
	tb_u16(t, 16);				/* ALPN: h2, http/1.1 */
	tb_open(t, 2); tb_open(t, 2);
	tb_open(t, 1); tb_str(t, "h2"); tb_close(t);
	tb_open(t, 1); tb_str(t, "http/1.1"); tb_close(t);
	tb_close(t); tb_close(t);
	if (tls13) {
		tb_u16(t, 43);			/* supported_versions: 1.3, 1.2 */
		tb_open(t, 2); tb_open(t, 1);
		tb_u16(t, 0x0304); tb_u16(t, 0x0303);
		tb_close(t); tb_close(t);
	}
	tb_close(t);
}

/* A ServerHello body; version 0x0304 adds supported_versions. */
static inline void
tb_server_hello(struct tb *t, unsigned version, unsigned cipher)
{
	tb_u16(t, 0x0303);			/* legacy_version */
	tb_fill(t, 0x33, 32);			/* random */
	tb_open(t, 1); tb_fill(t, 0x22, 32); tb_close(t);	/* session id echo */
	tb_u16(t, cipher);
	tb_u8(t, 0);				/* compression null */
	tb_open(t, 2);
	if (version == 0x0304) {
		tb_u16(t, 43); tb_open(t, 2); tb_u16(t, 0x0304); tb_close(t);
	} else {
		tb_u16(t, 16);			/* ALPN selected: h2 */
		tb_open(t, 2); tb_open(t, 2);
		tb_open(t, 1); tb_str(t, "h2"); tb_close(t);
		tb_close(t); tb_close(t);
	}
	tb_close(t);
}

/* Wrap everything written since mark in one handshake message of type ht. */
static inline size_t
tb_hs_begin(struct tb *t, unsigned ht)
{
	size_t at = t->n;

	tb_u8(t, ht);
	tb_open(t, 3);
	return at;
}

/* Split bytes [from, t->n) into TLS records of at most frag bytes each. */
static inline void
tb_recordize(struct tb *t, size_t from, unsigned type, size_t frag)
{
	size_t body = t->n - from, n_rec = (body + frag - 1) / frag;
	uint8_t *tmp = malloc(body ? body : 1);

	memcpy(tmp, t->b + from, body);
	t->n = from;
	for (size_t i = 0; i < n_rec; i++) {
		size_t k = body - i * frag < frag ? body - i * frag : frag;
		tb_u8(t, type);
		tb_u16(t, 0x0303);
		tb_u16(t, (unsigned)k);
		tb_raw(t, tmp + i * frag, k);
	}
	free(tmp);
}

#endif /* TLSENTRY_TB_H */
