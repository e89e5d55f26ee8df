/*
 * hashtab.h: how tlsentry uses uthash.  Include this, never <uthash.h>
 * directly, so every table gets:
 *  - a keyed hash, SipHash-2-4 (Aumasson and Bernstein) with a key drawn from
 *    getrandom() at start: keys come from the wire (flow tuples, names,
 *    digests), and a fixed hash would let a sender precompute collisions;
 *  - non-fatal out-of-memory: uthash's default calls exit().  After an add,
 *    check hashtab_oom; when set, the element was not added.
 */
#ifndef TLSENTRY_HASHTAB_H
#define TLSENTRY_HASHTAB_H

#include <stddef.h>
#include <stdint.h>

extern uint8_t siphash_key[16];
extern _Thread_local int hashtab_oom;

/* Fill siphash_key from getrandom(); -1 if the kernel refuses. */
int siphash_seed(void);

uint64_t siphash(const uint8_t key[16], const void *p, size_t len);

#define HASH_FUNCTION(keyptr, keylen, hashv) \
	((hashv) = (unsigned)siphash(siphash_key, (keyptr), (size_t)(keylen)))
#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(elt) (hashtab_oom = 1)

#include <uthash.h>

#endif /* TLSENTRY_HASHTAB_H */
