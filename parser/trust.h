/*
 * trust.h: would a browser accept this chain?  Chain validation with
 * OpenSSL's X509_verify_cert against a CA store, at the time the handshake
 * was captured, and the leaf's names against the SNI (RFC 6125).
 *
 * The store is loaded once at start-up (the sandbox refuses files later,
 * except a --ca-path directory's lookups): the system bundle by default,
 * plus any --ca-bundle files and a --ca-path directory.  A chain's verdict
 * is cached by (the SHA-256 of its certificates, the UTC day of the
 * capture), so a busy server costs one verification a day.  A server that
 * sends a new leaf every time under the same intermediates costs one check
 * of the leaf: its issuer chain, verified clean that day, is not verified
 * again (trust.c, struct tail_entry).
 */
#ifndef TLSENTRY_TRUST_H
#define TLSENTRY_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"

#ifndef TRUST_CACHE_MAX
#define TRUST_CACHE_MAX 16384	/* chain verdicts remembered */
#endif
#ifndef TRUST_TAILS_MAX
#define TRUST_TAILS_MAX 1024	/* issuer chains verified clean, per day, remembered */
#endif
#ifndef TRUST_BUNDLES_MAX
#define TRUST_BUNDLES_MAX 16	/* --ca-bundle files */
#endif

/* What X509_verify_cert found; every problem is noted, not just the first. */
enum {
	TRUST_E_UNTRUSTED = 1 << 0,	/* no path to a trusted root (issuer missing, unknown root) */
	TRUST_E_SELF_SIGNED = 1 << 1,	/* the leaf signs itself and is not trusted */
	TRUST_E_EXPIRED = 1 << 2,	/* a certificate had expired at capture time */
	TRUST_E_NOT_YET_VALID = 1 << 3,	/* a certificate was not yet valid at capture time */
	TRUST_E_BAD_SIGNATURE = 1 << 4,	/* a signature does not verify */
	TRUST_E_OTHER = 1 << 5,		/* invalid CA, purpose, path length, ... */
};

enum trust_host {
	TRUST_HOST_NOT_CHECKED,	/* no decodable leaf */
	TRUST_HOST_OK,
	TRUST_HOST_MISMATCH,
	TRUST_HOST_NO_SNI,	/* no usable SNI: nothing to check against, and no guess */
};

struct trust_verdict {
	bool checked;		/* a store was loaded and the leaf decoded */
	const char *status;	/* "ok" or the first error's stable name */
	int depth;		/* of the first error; -1 when ok */
	unsigned errors;	/* TRUST_E_* */
	bool public_root;	/* it chains to a root of the system bundle */
	bool cached;		/* the verdict came from the cache */
};

struct trust_stats {
	uint64_t n_verified;	/* chains verified (not from the cache) */
	uint64_t n_leaf_only;	/* of which under an issuer chain verified clean
				   the same day: only the leaf was checked */
	uint64_t n_cached;	/* verdicts served from the cache */
	size_t n_roots;		/* certificates in the store's files */
	size_t n_system_roots;
};

struct trust;

/*
 * A store from the system's default bundle (unless no_system), every file
 * of bundles[0..n) and the directory capath (may be NULL).  NULL with a
 * one-line reason in err when a file cannot be read or holds no
 * certificate.  A missing system bundle alone is not an error: with no
 * certificate at all, verdicts say checked == false.
 */
struct trust *trust_new(bool no_system, const char *const *bundles, size_t n, const char *capath,
    char *err, size_t errsz);

void trust_free(struct trust *t);

/* Does the store hold any certificate (or a directory to look in)? */
bool trust_usable(const struct trust *t);

/*
 * Verify chain[0..n) (leaf first, the rest as untrusted helpers, in any
 * order) as of at_s (seconds since the epoch), for a TLS server.
 */
void trust_verify(struct trust *t, struct cert_info *const *chain, size_t n, int64_t at_s,
    struct trust_verdict *out);

/* The leaf's DNS names (SANs, else the CN) against a host name, RFC 6125. */
enum trust_host trust_check_host(const struct cert_info *leaf, const char *name, size_t len);

void trust_stats(struct trust *t, struct trust_stats *out);

const char *trust_host_str(enum trust_host h);

#endif /* TLSENTRY_TRUST_H */
