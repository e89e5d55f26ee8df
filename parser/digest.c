/*
 * digest.c: one-shot digests with algorithms fetched once (see digest.h).
 * Distrusts nothing: it hashes whatever bytes it is given.  Owns the three
 * fetched EVP_MD, kept for the life of the process.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/evp.h>

#include "digest.h"

static EVP_MD *md_sha256, *md_sha1, *md_md5;
static pthread_once_t fetched = PTHREAD_ONCE_INIT;

static void
fetch(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	md_md5 = EVP_MD_fetch(NULL, "MD5", NULL);
}

bool
dg_init(void)
{
	(void)pthread_once(&fetched, fetch);
	return md_sha256 != NULL && md_sha1 != NULL && md_md5 != NULL;
}

static bool
one(EVP_MD *const *md, const void *p, size_t len, uint8_t *out, size_t outlen)
{
	(void)pthread_once(&fetched, fetch);
	if (*md != NULL && EVP_Digest(p, len, out, NULL, *md, NULL) == 1)
		return true;
	memset(out, 0, outlen);
	return false;
}

bool
dg_sha256(const void *p, size_t len, uint8_t out[32])
{
	return one(&md_sha256, p, len, out, 32);
}

bool
dg_sha1(const void *p, size_t len, uint8_t out[20])
{
	return one(&md_sha1, p, len, out, 20);
}

bool
dg_md5(const void *p, size_t len, uint8_t out[16])
{
	return one(&md_md5, p, len, out, 16);
}

void
dg_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
