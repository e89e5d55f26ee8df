/*
 * tls_fp.c: JA3, JA3S and JA4.  Input: hellos already parsed (trusted
 * structs); output: strings and their MD5/SHA-256 digests, via libcrypto.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "tls_fp.h"

struct fpbuf {
	char s[TLS_FP_STR_MAX];
	size_t n;
	bool cut;		/* did not fit: no fingerprint rather than a wrong one */
};

/*
 * A value in decimal, or as 4 lowercase hex digits, after sep (0: none).
 * By hand rather than snprintf: a hello's lists make hundreds of these per
 * handshake, and formatting was a tenth of the time spent on a handshake.
 */
static void
put_num(struct fpbuf *b, char sep, unsigned v, bool hex)
{
	static const char xd[] = "0123456789abcdef";
	char t[16];
	size_t k = 0;

	if (hex) {
		/* "%04x": at least four digits, more for a value that needs them */
		for (unsigned x = v; x > 0xffff; x >>= 4)
			k++;
		k += 4;
		for (size_t i = 0; i < k; i++)
			t[k - 1 - i] = xd[(v >> (4 * i)) & 15];
	} else {
		char r[16];
		size_t m = 0;
		do {
			r[m++] = (char)('0' + v % 10);
			v /= 10;
		} while (v > 0);
		while (m > 0)
			t[k++] = r[--m];
	}
	if (b->n + (sep != 0) + k >= sizeof(b->s)) {
		b->cut = true;
		return;
	}
	if (sep != 0)
		b->s[b->n++] = sep;
	memcpy(b->s + b->n, t, k);
	b->n += k;
}

static void
put_char(struct fpbuf *b, char c)
{
	if (b->n < sizeof(b->s) - 1)
		b->s[b->n++] = c;
	else
		b->cut = true;
}

/* Decimal values joined by '-', GREASE left out when skip_grease. */
static void
put_dec_list(struct fpbuf *b, const uint16_t *v, size_t n, bool skip_grease)
{
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if (skip_grease && tls_is_grease(v[i]))
			continue;
		put_num(b, first ? 0 : '-', v[i], false);
		first = false;
	}
}

/* 4-digit lowercase hex values joined by ',' (JA4). */
static void
put_hex_list(struct fpbuf *b, const uint16_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_num(b, i ? ',' : 0, v[i], true);
}

/* MD5 (JA3, JA3S) or the first 12 hex digits of SHA-256 (JA4 parts). */
static bool
digest_hex(const struct fpbuf *b, bool md5, size_t nhex, char *out)
{
	uint8_t d[32];

	if (b->cut || !(md5 ? dg_md5(b->s, b->n, d) : dg_sha256(b->s, b->n, d)) ||
	    nhex > (md5 ? 32u : 64u))
		return false;
	dg_hex(d, nhex / 2, out);
	return true;
}

static bool
copy_out(const struct fpbuf *b, char *str, size_t strsz)
{
	if (str == NULL)
		return true;
	if (b->n >= strsz)
		return false;
	memcpy(str, b->s, b->n);
	str[b->n] = '\0';
	return true;
}

static bool
ch_lists_whole(const struct tls_client_hello *ch)
{
	return !ch->is_sslv2 && !(ch->flags & TLS_HF_TRUNC_LIST) &&
	    ch->n_ciphers == ch->n_ciphers_total;
}

bool
tls_ja3(const struct tls_client_hello *ch, char *str, size_t strsz, char md5[33])
{
	struct fpbuf *b;
	bool ok;

	if (!ch_lists_whole(ch) || (b = malloc(sizeof(*b))) == NULL)
		return false;
	b->n = 0;
	b->cut = false;
	put_num(b, 0, ch->legacy_version, false);
	put_char(b, ',');
	put_dec_list(b, ch->ciphers, ch->n_ciphers, true);
	put_char(b, ',');
	put_dec_list(b, ch->exts, ch->n_exts, true);
	put_char(b, ',');
	put_dec_list(b, ch->groups, ch->n_groups, true);
	put_char(b, ',');
	for (unsigned i = 0; i < ch->n_ecpf; i++)
		put_num(b, i ? '-' : 0, ch->ecpf[i], false);
	ok = digest_hex(b, true, 32, md5) && copy_out(b, str, strsz);
	free(b);
	return ok;
}

bool
tls_ja3s(const struct tls_server_hello *sh, char *str, size_t strsz, char md5[33])
{
	struct fpbuf *b;
	bool ok;

	if (sh->is_sslv2 || (sh->flags & TLS_HF_TRUNC_LIST) || (b = malloc(sizeof(*b))) == NULL)
		return false;
	b->n = 0;
	b->cut = false;
	put_num(b, 0, sh->legacy_version, false);
	put_num(b, ',', sh->cipher, false);
	put_char(b, ',');
	put_dec_list(b, sh->exts, sh->n_exts, false);
	ok = digest_hex(b, true, 32, md5) && copy_out(b, str, strsz);
	free(b);
	return ok;
}

/* --- JA4 ----------------------------------------------------------------- */

/*
 * "Highest" offered version: by value, as the reference does, except that
 * DTLS numbers run backwards (0xfefc, DTLS 1.3, is above 0xfefd, DTLS 1.2).
 */
static uint32_t
ja4_rank(uint16_t v)
{
	return tls_version_is_dtls(v) ? 0x10000u + (0xffffu - v) : v;
}

static const char *
ja4_version(const struct tls_client_hello *ch)
{
	uint16_t v = ch->legacy_version;
	bool any = false;

	for (unsigned i = 0; i < ch->n_versions; i++) {
		uint16_t x = ch->versions[i];
		if (tls_is_grease(x) || (any && ja4_rank(x) <= ja4_rank(v)))
			continue;
		v = x;
		any = true;
	}
	switch (v) {
	case 0x0304: return "13";
	case 0x0303: return "12";
	case 0x0302: return "11";
	case 0x0301: return "10";
	case 0x0300: return "s3";
	case 0x0002: return "s2";
	case 0xfeff: return "d1";
	case 0xfefd: return "d2";
	case 0xfefc: return "d3";
	default:     return "00";
	}
}

static bool
alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* First and last character of the first ALPN name; their hex digits if not alphanumeric. */
static void
ja4_alpn(const struct tls_client_hello *ch, char out[3])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t first, last;

	out[0] = out[1] = '0';
	out[2] = '\0';
	if (ch->n_alpn == 0 || ch->alpn_len[0] == 0)
		return;
	first = (uint8_t)ch->alpn[0][0];
	last = ch->alpn0_last;
	if (alnum(first) && alnum(last)) {
		out[0] = (char)first;
		out[1] = (char)last;
	} else {
		out[0] = hex[first >> 4];
		out[1] = hex[last & 15];
	}
}

static int
cmp_u16(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

/* The non-GREASE values of v, sorted or in order, minus SNI/ALPN when told. */
static size_t
ja4_list(const uint16_t *v, size_t n, bool sort, bool drop_sni_alpn, uint16_t *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (tls_is_grease(v[i]) ||
		    (drop_sni_alpn && (v[i] == TLS_EXT_SERVER_NAME || v[i] == TLS_EXT_ALPN)))
			continue;
		out[k++] = v[i];
	}
	if (sort)
		qsort(out, k, sizeof(*out), cmp_u16);
	return k;
}

struct ja4_parts {
	char a[16];
	struct fpbuf b, c;	/* cipher list; extension list "_" signature algorithms */
	bool b_empty, c_empty;
};

static void
ja4_build(const struct tls_client_hello *ch, enum tls_fp_transport t, struct ja4_parts *j)
{
	uint16_t tmp[TLS_LIST_MAX];
	size_t nc, ne, ns;
	char alpn[3];

	nc = ja4_list(ch->ciphers, ch->n_ciphers, false, false, tmp);
	ne = ja4_list(ch->exts, ch->n_exts, false, false, tmp);
	ja4_alpn(ch, alpn);
	snprintf(j->a, sizeof(j->a), "%c%s%c%02u%02u%s", (char)t, ja4_version(ch),
	    ch->has_sni ? 'd' : 'i', (unsigned)(nc > 99 ? 99 : nc),
	    (unsigned)(ne > 99 ? 99 : ne), alpn);

	j->b.n = j->c.n = 0;
	j->b.cut = j->c.cut = false;
	nc = ja4_list(ch->ciphers, ch->n_ciphers, true, false, tmp);
	put_hex_list(&j->b, tmp, nc);
	j->b_empty = nc == 0;
	ne = ja4_list(ch->exts, ch->n_exts, true, true, tmp);
	put_hex_list(&j->c, tmp, ne);
	j->c_empty = ne == 0;
	ns = ja4_list(ch->sigalgs, ch->n_sigalgs, false, false, tmp);
	if (ns > 0) {
		put_char(&j->c, '_');
		put_hex_list(&j->c, tmp, ns);
	}
}

bool
tls_ja4(const struct tls_client_hello *ch, enum tls_fp_transport t, char out[37], char *raw,
    size_t rawsz)
{
	struct ja4_parts *j;
	char hb[13] = "000000000000", hc[13] = "000000000000";
	bool ok = true;
	int k;

	if (!ch_lists_whole(ch) || (j = malloc(sizeof(*j))) == NULL)
		return false;
	ja4_build(ch, t, j);
	if (!j->b_empty)
		ok = digest_hex(&j->b, false, 12, hb);
	if (ok && !j->c_empty)
		ok = digest_hex(&j->c, false, 12, hc);
	if (ok)
		ok = snprintf(out, 37, "%s_%s_%s", j->a, hb, hc) == 36;
	if (ok && raw != NULL) {
		j->b.s[j->b.n] = '\0';
		j->c.s[j->c.n] = '\0';
		k = snprintf(raw, rawsz, "%s_%s_%s", j->a, j->b.s, j->c.s);
		ok = !j->b.cut && !j->c.cut && k > 0 && (size_t)k < rawsz;
	}
	free(j);
	return ok;
}
