/* test_hashtab.c: SipHash-2-4 against the reference vectors, and the key. */
#include <stdint.h>

#include "../parser/hashtab.h"
#include "t.h"

/*
 * From the SipHash reference implementation's vectors.h: key 00..0f, message
 * 00..(n-1), output as a little-endian 64-bit value.
 */
static void
test_hashtab_siphash_vectors(void)
{
	uint8_t k[16], m[64];

	for (int i = 0; i < 16; i++)
		k[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		m[i] = (uint8_t)i;
	T_EQ_U(siphash(k, m, 0), 0x726fdb47dd0e0e31ULL);
	T_EQ_U(siphash(k, m, 1), 0x74f839c593dc67fdULL);
	T_EQ_U(siphash(k, m, 7), 0xab0200f58b01d137ULL);
	T_EQ_U(siphash(k, m, 8), 0x93f5f5799a932462ULL);
	T_EQ_U(siphash(k, m, 15), 0xa129ca6149be45e5ULL);
	T_EQ_U(siphash(k, m, 63), 0x958a324ceb064572ULL);
}

static void
test_hashtab_seed(void)
{
	uint8_t zero[16] = { 0 }, first[16];

	T_EQ_I(siphash_seed(), 0);
	memcpy(first, siphash_key, 16);
	T_CHECK(memcmp(siphash_key, zero, 16) != 0);
	T_EQ_I(siphash_seed(), 0);
	T_CHECK(memcmp(siphash_key, first, 16) != 0);	/* 2^-128 chance of a false fail */
}

int
main(void)
{
	T_RUN(test_hashtab_siphash_vectors);
	T_RUN(test_hashtab_seed);
	T_SUMMARY();
}
