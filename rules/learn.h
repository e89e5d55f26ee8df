/*
 * learn.h: rules written from what was seen, and the memory of issuers
 * across runs (trust on first use).
 *
 * `tlsentry learn` feeds every handshake to a struct learn: for each
 * registered domain (the public suffix list, libpsl) the issuers and the
 * issuing CAs' SPKI pins of the chains that validated, and the ServerHello
 * fingerprints, with counts and first/last times; learn_write() prints them
 * as a rules file (rules.h's format) an operator reviews and loads with -R.
 *
 * `--state FILE` keeps a struct tofu: per registered domain, the issuers it
 * has been seen with.  A domain seen before with other issuers and now with
 * a new one is a `new-issuer` finding; the new issuer is then remembered.
 *
 * Everything is bounded (LEARN_DOMAINS_MAX domains, LEARN_PER_DOMAIN_MAX
 * issuers, pins and fingerprints each); what did not fit is counted.
 */
#ifndef TLSENTRY_LEARN_H
#define TLSENTRY_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../parser/cert.h"

#ifndef LEARN_DOMAINS_MAX
#define LEARN_DOMAINS_MAX 100000	/* registered domains remembered */
#endif
#ifndef LEARN_PER_DOMAIN_MAX
#define LEARN_PER_DOMAIN_MAX 16		/* issuers, pins, fingerprints per domain */
#endif

/* The public suffix list, loaded once (before the sandbox). */
bool regdomain_init(void);

/*
 * The registered domain of a host name ("www.icloud.com" -> "icloud.com"),
 * lowercased into out.  false when there is none (an address, a public
 * suffix itself, junk bytes).
 */
bool regdomain(const char *name, size_t len, char *out, size_t outsz);

/* What one handshake taught. */
struct learn_sample {
	const char *name;		/* SNI (or the leaf's first DNS name) */
	size_t name_len;
	const struct cert_info *leaf;	/* NULL when not visible */
	const struct cert_info *ca;	/* the certificate that issued it, if sent */
	bool validated;			/* the chain validated at capture time */
	const char *ja3s;		/* ServerHello fingerprint, or NULL */
	const char *ja3s_string;
	uint16_t version;		/* negotiated; 0 if no ServerHello */
	bool client_offered_more;	/* the client offered a higher version */
	int64_t ts_s;
};

struct learn;

struct learn *learn_new(void);
void learn_free(struct learn *l);
void learn_add(struct learn *l, const struct learn_sample *s);

/* Print the rules; sources is a line for the header comment. */
void learn_write(const struct learn *l, FILE *out, const char *sources);

struct learn_stats {
	uint64_t n_samples, n_validated, n_domains, n_dropped;
};
void learn_stats(const struct learn *l, struct learn_stats *out);

/* --- trust on first use ---------------------------------------------------- */

struct tofu;

/*
 * The state in path (a missing file is an empty state).  NULL with a
 * one-line reason in err when the file cannot be read or is not one.
 */
struct tofu *tofu_load(const char *path, char *err, size_t errsz);

/*
 * A leaf issued by issuer (its RFC 2253 name) for domain: true when the
 * domain was known with other issuers only (a new issuer).  With keep (the
 * chain validated, or no trust store judges chains) the pair is remembered;
 * an untrusted chain's issuer never is, so an interceptor seen once is not
 * trusted ever after.
 */
bool tofu_observe(struct tofu *t, const char *domain, const char *issuer, bool keep,
    int64_t ts_s);

/* Write the state back (to a temporary file, then renamed over path). */
int tofu_save(const struct tofu *t, const char *path, char *err, size_t errsz);

struct tofu_stats {
	uint64_t n_domains;	/* remembered */
	uint64_t n_new_issuers;	/* new-issuer findings */
	uint64_t n_refused;	/* domains or issuers not remembered: over the caps */
};
void tofu_stats(const struct tofu *t, struct tofu_stats *out);

void tofu_free(struct tofu *t);

#endif /* TLSENTRY_LEARN_H */
