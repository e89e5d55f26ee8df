/*
 * digest.h: SHA-256, SHA-1 and MD5 of a byte string, through libcrypto,
 * with the algorithms fetched from the provider once per process.
 *
 * OpenSSL 3 looks the algorithm up again on every EVP_Digest() given a
 * legacy EVP_sha256(); on the event path (certificate hashes, Community ID,
 * handshake id, JA3, JA4: six digests per handshake) that look-up cost more
 * than hashing.  Thread-safe: the fetch happens once (pthread_once).
 */
#ifndef TLSENTRY_DIGEST_H
#define TLSENTRY_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Fetch the algorithms now (start-up, before the sandbox); false if OpenSSL cannot. */
bool dg_init(void);

/* out receives 32, 20 and 16 bytes; false when libcrypto fails (out then zeroed). */
bool dg_sha256(const void *p, size_t len, uint8_t out[32]);
bool dg_sha1(const void *p, size_t len, uint8_t out[20]);
bool dg_md5(const void *p, size_t len, uint8_t out[16]);

/* n bytes as 2n lowercase hex digits and a NUL. */
void dg_hex(const uint8_t *p, size_t n, char *out);

#endif /* TLSENTRY_DIGEST_H */
