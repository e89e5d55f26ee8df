/*
 * quic_seal.h: a test-side QUIC packet sealer (RFC 9001 s5.3, s5.4), for
 * tests/test_quic.c and the fuzz target fuzz_quic_frames: it protects a
 * long-header packet around given frames with the Initial keys of a DCID.
 * test_quic checks it by rebuilding the RFC 9001 / RFC 9369 client and
 * server Initials byte for byte.
 */
#ifndef TLSENTRY_QUIC_SEAL_H
#define TLSENTRY_QUIC_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../parser/pstat.h"
#include "../parser/quic.h"

struct pk {
	uint32_t version;
	bool from_client;
	const uint8_t *key_dcid;	/* DCID the keys derive from */
	size_t key_dcid_len;
	const uint8_t *dcid, *scid, *token;
	size_t dcid_len, scid_len, token_len;
	uint64_t pn;
	size_t pn_len;
	int type;			/* 0 Initial, 2 Handshake (v1 numbering) */
	uint8_t reserved;		/* reserved bits to set (0x0c) */
};

static inline size_t
put_varint(uint8_t *o, uint64_t v)
{
	if (v < 64) {
		o[0] = (uint8_t)v;
		return 1;
	}
	if (v < 16384) {
		o[0] = (uint8_t)(0x40 | v >> 8);
		o[1] = (uint8_t)v;
		return 2;
	}
	o[0] = (uint8_t)(0x80 | v >> 24);
	o[1] = (uint8_t)(v >> 16);
	o[2] = (uint8_t)(v >> 8);
	o[3] = (uint8_t)v;
	return 4;
}

/*
 * Build a protected long-header packet around payload (frames) into out;
 * Length takes 2 bytes as in the RFC examples (4 when larger).  The payload
 * is not padded: it must be long enough to sample.  Returns the size.
 */
static inline size_t
seal(const struct pk *k, const uint8_t *payload, size_t plen, uint8_t *out)
{
	static const uint8_t v2types[4] = { 1, 2, 3, 0 };	/* v1 type -> v2 bits */
	struct quic_keys keys[2];
	const struct quic_keys *kk;
	EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
	uint8_t nonce[12], mask[16];
	size_t n = 0, pn_off, hdr_len;
	int outl = 0, type = k->type;

	if (quic_initial_keys(k->version, k->key_dcid, k->key_dcid_len, keys) != P_OK)
		abort();
	kk = &keys[k->from_client ? 0 : 1];
	if (k->version == QUIC_V2)
		type = v2types[type];
	out[n++] = (uint8_t)(0xc0 | type << 4 | k->reserved | (k->pn_len - 1));
	out[n++] = (uint8_t)(k->version >> 24);
	out[n++] = (uint8_t)(k->version >> 16);
	out[n++] = (uint8_t)(k->version >> 8);
	out[n++] = (uint8_t)k->version;
	out[n++] = (uint8_t)k->dcid_len;
	if (k->dcid_len)
		memcpy(out + n, k->dcid, k->dcid_len);
	n += k->dcid_len;
	out[n++] = (uint8_t)k->scid_len;
	if (k->scid_len)
		memcpy(out + n, k->scid, k->scid_len);
	n += k->scid_len;
	if (k->type == 0) {
		n += put_varint(out + n, k->token_len);
		if (k->token_len)
			memcpy(out + n, k->token, k->token_len);
		n += k->token_len;
	}
	if (k->pn_len + plen + 16 < 16384) {
		out[n++] = (uint8_t)(0x40 | (k->pn_len + plen + 16) >> 8);
		out[n++] = (uint8_t)(k->pn_len + plen + 16);
	} else {
		n += put_varint(out + n, k->pn_len + plen + 16);
	}
	pn_off = n;
	for (size_t i = 0; i < k->pn_len; i++)
		out[n++] = (uint8_t)(k->pn >> (8 * (k->pn_len - 1 - i)));
	hdr_len = n;
	memcpy(nonce, kk->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(k->pn >> (8 * i));
	if (EVP_EncryptInit_ex(cx, EVP_aes_128_gcm(), NULL, kk->key, nonce) != 1 ||
	    EVP_EncryptUpdate(cx, NULL, &outl, out, (int)hdr_len) != 1 ||
	    EVP_EncryptUpdate(cx, out + n, &outl, payload, (int)plen) != 1 ||
	    EVP_EncryptFinal_ex(cx, out + n + plen, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(cx, EVP_CTRL_GCM_GET_TAG, 16, out + n + plen) != 1)
		abort();
	n += plen + 16;
	if (EVP_EncryptInit_ex(cx, EVP_aes_128_ecb(), NULL, kk->hp, NULL) != 1 ||
	    EVP_EncryptUpdate(cx, mask, &outl, out + pn_off + 4, 16) != 1)
		abort();
	out[0] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < k->pn_len; i++)
		out[pn_off + i] ^= mask[1 + i];
	EVP_CIPHER_CTX_free(cx);
	return n;
}

#endif /* TLSENTRY_QUIC_SEAL_H */
