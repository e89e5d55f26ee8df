/*
 * tls_fp.c: JA3 and JA3S.  Input: hellos already parsed (trusted structs);
 * output: an MD5 over the decimal strings, through libcrypto.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "tls_fp.h"

/* A fingerprint string: up to TLS_LIST_MAX ciphers, TLS_EXT_MAX extensions,
 * TLS_GROUPS_MAX groups and 16 point formats, each at most "-65535". */
#define FP_MAX (6 * (TLS_LIST_MAX + TLS_EXT_MAX + TLS_GROUPS_MAX + 16 + 2) + 8)

struct fpbuf {
	char s[FP_MAX];
	size_t n;
	bool cut;		/* did not fit: no fingerprint rather than a wrong one */
};

static void
put_num(struct fpbuf *b, unsigned v, bool dash)
{
	int k = snprintf(b->s + b->n, sizeof(b->s) - b->n, dash ? "-%u" : "%u", v);

	if (k > 0 && (size_t)k < sizeof(b->s) - b->n)
		b->n += (size_t)k;
	else
		b->cut = true;
}

static void
put_list16(struct fpbuf *b, const uint16_t *v, size_t n)
{
	bool first = true;

	for (size_t i = 0; i < n; i++) {
		if (tls_is_grease(v[i]))
			continue;
		put_num(b, v[i], !first);
		first = false;
	}
}

static void
put_comma(struct fpbuf *b)
{
	if (b->n < sizeof(b->s) - 1)
		b->s[b->n++] = ',';
	else
		b->cut = true;
}

static bool
md5_hex(const struct fpbuf *b, char out[33])
{
	unsigned char md[16];
	unsigned int len = 0;

	if (b->cut)
		return false;
	if (EVP_Digest(b->s, b->n, md, &len, EVP_md5(), NULL) != 1 || len != 16)
		return false;
	for (size_t i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return true;
}

bool
tls_ja3(const struct tls_client_hello *ch, char out[33])
{
	struct fpbuf b = { .n = 0 };

	if (ch->is_sslv2 || (ch->flags & TLS_HF_TRUNC_LIST) ||
	    ch->n_ciphers != ch->n_ciphers_total)
		return false;
	put_num(&b, ch->legacy_version, false);
	put_comma(&b);
	put_list16(&b, ch->ciphers, ch->n_ciphers);
	put_comma(&b);
	put_list16(&b, ch->exts, ch->n_exts);
	put_comma(&b);
	put_list16(&b, ch->groups, ch->n_groups);
	put_comma(&b);
	for (unsigned i = 0; i < ch->n_ecpf; i++)
		put_num(&b, ch->ecpf[i], i > 0);
	return md5_hex(&b, out);
}

bool
tls_ja3s(const struct tls_server_hello *sh, char out[33])
{
	struct fpbuf b = { .n = 0 };

	if (sh->is_sslv2 || (sh->flags & TLS_HF_TRUNC_LIST))
		return false;
	put_num(&b, sh->legacy_version, false);
	put_comma(&b);
	put_num(&b, sh->cipher, false);
	put_comma(&b);
	put_list16(&b, sh->exts, sh->n_exts);
	return md5_hex(&b, out);
}
