/*
 * cert.h: X.509 certificates as the rest of tlsentry sees them.
 *
 * DER from the wire is decoded with OpenSSL once per distinct certificate
 * (keyed by the SHA-256 of the DER) into a struct cert_info of plain C
 * strings; no OpenSSL type leaves cert.c.  A cache of cert_info entries,
 * reference counted, bounded by CERT_CACHE_MAX unreferenced entries, makes
 * a certificate seen in a thousand handshakes cost one decode.
 */
#ifndef TLSENTRY_CERT_H
#define TLSENTRY_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hashtab.h"
#include "memcap.h"

#ifndef CERT_CACHE_MAX
#define CERT_CACHE_MAX 4096	/* decoded certificates kept for reuse (each about 10 kB
				   with its OpenSSL X509, kept for chain checks) */
#endif
#ifndef CERT_SAN_MAX
#define CERT_SAN_MAX 256	/* subjectAltName entries kept per certificate */
#endif
#ifndef CERT_ATTR_MAX
#define CERT_ATTR_MAX 64	/* attributes kept per subject or issuer name */
#endif
#ifndef CERT_CACHE_BYTES
#define CERT_CACHE_BYTES (64u << 20)	/* bytes of unreferenced entries kept */
#endif
#ifndef CERT_STR_MAX
#define CERT_STR_MAX 4096	/* longest DN string kept; longer ones are cut */
#endif
#ifndef CERT_X509_OVERHEAD
#define CERT_X509_OVERHEAD 4096	/* bytes charged for OpenSSL's X509 beyond 2x the DER
				   (3-4 kB measured with OpenSSL 3.0, mallinfo2) */
#endif
#ifndef CERT_VALUE_MAX
#define CERT_VALUE_MAX 1024	/* longest attribute value or SAN kept */
#endif

/* A string from a certificate: UTF-8 or raw bytes, may hold NUL; len counts. */
struct cert_str {
	char *p;		/* owned, NUL-terminated for convenience */
	size_t len;
};

/* One attribute of a distinguished name, e.g. { "O", "Apple Inc." }. */
struct cert_attr {
	char name[32];		/* OpenSSL short name (CN, O, OU, C, ...) or OID */
	struct cert_str value;
};

enum san_type { SAN_DNS, SAN_IP };

struct cert_san {
	enum san_type type;
	struct cert_str value;	/* DNS name as sent, or the IP in text form */
};

struct cert_info {
	uint8_t sha256[32];	/* of the DER as sent: the cache key */
	uint8_t sha1[20];
	size_t der_len;
	bool decoded;		/* d2i_X509 accepted it and used every byte */

	/* the rest is only set when decoded */
	char *subject;		/* RFC 2253 form; "" for an empty name */
	char *issuer;
	struct cert_attr *subject_attrs;	/* most significant RDN first */
	size_t n_subject_attrs;
	struct cert_attr *issuer_attrs;
	size_t n_issuer_attrs;
	struct cert_san *sans;
	size_t n_sans;		/* kept, <= CERT_SAN_MAX */
	size_t n_sans_total;
	char serial[130];	/* uppercase hex, as ECS x509.serial_number */
	char not_before[48];	/* ISO 8601 UTC; "" if unreadable */
	char not_after[48];
	char sig_alg[64];	/* e.g. "sha256WithRSAEncryption" or an OID */
	char key_alg[32];	/* e.g. "RSA", "EC", "ED25519" or an OID */
	int key_bits;		/* 0 when unknown */
	char key_curve[32];	/* EC group name, e.g. "prime256v1"; "" otherwise */
	char spki_pin[48];	/* base64 SHA-256 of SubjectPublicKeyInfo (RFC 7469) */
	bool self_issued;	/* issuer name equals subject name (RFC 5280 s3.2) */
	int version;		/* X.509 version number (1..3) */
	int64_t not_before_s;	/* validity as seconds since the epoch; */
	int64_t not_after_s;	/* INT64_MIN when unreadable */
	bool is_ca;		/* basicConstraints cA */
	bool has_scts;		/* embedded SCT list (RFC 6962 s3.3) */
	void *x509;		/* the decoded certificate, for chain checks in
				   parser/trust.c; an OpenSSL X509, opaque here */

	bool stored;		/* --store-certs wrote it (set by the engine) */

	/* cache bookkeeping */
	size_t mem;		/* bytes this entry holds, for the cache's cap */
	unsigned refs;
	UT_hash_handle hh;
	struct cert_info *lru_prev, *lru_next;
};

struct cert_cache;

struct cert_stats {
	uint64_t n_lookups;	/* cert_get() calls */
	uint64_t n_decoded;	/* distinct certificates decoded */
	uint64_t n_undecodable;	/* of those, rejected by OpenSSL */
	uint64_t n_evicted;
	uint64_t n_nomem;
	size_t n_cached;
};

/*
 * A cache keeping at most max_entries unreferenced entries holding at most
 * max_bytes between them (0 = the defaults above).  Every entry, referenced
 * or not, is also charged to mem (may be NULL); when mem is short the oldest
 * unreferenced entries go first.  NULL on failure.
 */
struct cert_cache *cert_cache_new(size_t max_entries, size_t max_bytes, struct memcap *mem);

/* Free the cache and every entry, referenced or not. NULL is a no-op. */
void cert_cache_free(struct cert_cache *c);

/*
 * The decoded form of der[0..len), new or cached, with one reference taken
 * for the caller.  Undecodable DER still yields an entry (decoded == false)
 * with its hashes.  NULL only when memory runs out.
 */
struct cert_info *cert_get(struct cert_cache *c, const uint8_t *der, size_t len);

/* Drop a reference taken by cert_get().  NULL is a no-op. */
void cert_put(struct cert_cache *c, struct cert_info *ci);

void cert_cache_stats(const struct cert_cache *c, struct cert_stats *out);

/*
 * Load what OpenSSL needs (its configuration, the digests) now, while files
 * may still be opened: after start-up the sandbox refuses new files.
 * -1 if OpenSSL cannot be initialised.
 */
int cert_init(void);

/* Decode without the cache (tests, fuzzing).  Free with cert_info_free(). */
struct cert_info *cert_decode(const uint8_t *der, size_t len);

/* The same in an OpenSSL library context (an OSSL_LIB_CTX; NULL: the default). */
struct cert_info *cert_decode_ex(const uint8_t *der, size_t len, void *libctx);

/*
 * --workers: one OpenSSL library context per thread (its own provider and
 * decoder store, so threads do not contend for the default one's locks on
 * every certificate), as an opaque handle.  New with the default provider
 * loaded (NULL on failure), made before the sandbox; freed (NULL: no-op)
 * after every certificate decoded in it.  cert_cache_set_libctx(): decode
 * the cache's certificates in it (NULL: the default context).
 */
void *cert_libctx_new(void);
void cert_libctx_free(void *libctx);
void cert_cache_set_libctx(struct cert_cache *c, void *libctx);
void cert_info_free(struct cert_info *ci);

/* A stapled OCSP response (RFC 6960), as far as a sensor can judge it. */
struct cert_ocsp {
	bool decoded;		/* OpenSSL read the OCSPResponse */
	char response_status[24];	/* "successful", "tryLater", ... */
	bool has_single;	/* a basic response with at least one SingleResponse */
	char cert_status[8];	/* of the first SingleResponse: good, revoked, unknown */
	char serial[130];	/* the certificate it speaks of, uppercase hex */
	char produced_at[48];	/* ISO 8601 UTC; "" if absent */
	char this_update[48];
	char next_update[48];
	char revocation_time[48];
	int revocation_reason;	/* CRLReason code, -1 if none */
	bool has_scts;		/* the SingleResponse carries SCTs (RFC 6962 s3.3) */
};

/*
 * Read a DER OCSPResponse (the body of a TLS CertificateStatus).  Its
 * signature is not checked: this says what the server stapled, not that it
 * is true.  false when the DER is not an OCSPResponse.
 */
bool cert_ocsp_parse(const uint8_t *der, size_t len, struct cert_ocsp *out);

/* The first value of attribute name (e.g. "CN") in attrs, or NULL. */
const struct cert_str *cert_attr_first(const struct cert_attr *attrs, size_t n,
    const char *name);

#endif /* TLSENTRY_CERT_H */
