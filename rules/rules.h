/*
 * rules.h: watched domains and the issuers they must be signed by.
 *
 * File format (kept compatible from version 1 on: extend it, never change it):
 *
 *   # comment (a '#' at the start of a line or after whitespace)
 *   [icloud]                                  # block name: rule.name in alerts
 *   domains  = icloud.com *.icloud.com        # exact, or "*.x": any name ending ".x"
 *   issuer   = O=Apple Inc., CN=Apple Public Server*   # all constraints must hold
 *   issuer   = O=DigiCert Inc                 # another accepted issuer
 *   severity = high                           # low | medium | high | critical
 *   pin-sha256 = BASE64                       # RFC 7469 SPKI pin; any chain key may match
 *   min-version = tls1.2                      # tls1.0 | tls1.1 | tls1.2 | tls1.3
 *   require-trusted = yes                     # chain-trust findings alert for this block
 *   require-visible = yes                     # a hidden certificate alerts
 *   ignore = downgrade weak-cipher            # reasons never alerting for this block
 *   server-ja3s = MD5                         # learned ServerHello fingerprints
 *
 *   [defaults]                                # reserved name: not a watched block
 *   alert = untrusted-chain self-signed hostname-mismatch expired   # or "none"
 *   severity = medium
 *
 * A watched block needs domains and at least one check (issuer, pin-sha256,
 * min-version, require-trusted, require-visible or server-ja3s).
 *
 * An issuer line is a list of ATTR=GLOB constraints on the leaf's issuer
 * name, separated by commas that are followed by another ATTR=.  ATTR is an
 * OpenSSL short name (CN, O, OU, C, ST, L, DC, ...), matched without regard
 * to case; GLOB is matched byte for byte, case-sensitively, against every
 * value of that attribute, with '*' for any run of bytes, '?' for one byte
 * and '\' escaping the next byte.  Domain names match without regard to case
 * and to one trailing dot.  The first block (in file order) whose domains
 * match a name applies.  Errors name the file and line.
 */
#ifndef TLSENTRY_RULES_H
#define TLSENTRY_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../parser/cert.h"

#ifndef RULES_MAX
#define RULES_MAX 10000		/* blocks per file */
#endif
#ifndef RULES_DOMAINS_MAX
#define RULES_DOMAINS_MAX 100000	/* domain patterns per file */
#endif
#ifndef RULES_ISSUERS_MAX
#define RULES_ISSUERS_MAX 64	/* issuer lines per block */
#endif
#ifndef RULES_CONSTRAINTS_MAX
#define RULES_CONSTRAINTS_MAX 16	/* ATTR=GLOB terms per issuer line */
#endif
#ifndef RULES_FILE_MAX
#define RULES_FILE_MAX (16u << 20)	/* bytes in a rules file */
#endif
#define RULES_NAME_MAX 64

enum rule_severity { SEV_LOW, SEV_MEDIUM, SEV_HIGH, SEV_CRITICAL };

/* Why a handshake is suspect: event.reason of alerts, stable names (README). */
enum rule_reason {
	R_UNEXPECTED_ISSUER,
	R_PIN_MISMATCH,
	R_UNTRUSTED_CHAIN,
	R_SELF_SIGNED,
	R_HOSTNAME_MISMATCH,
	R_EXPIRED,
	R_NOT_YET_VALID,
	R_WEAK_KEY,
	R_WEAK_SIGNATURE,
	R_LONG_VALIDITY,
	R_OBSOLETE_VERSION,
	R_WEAK_CIPHER,
	R_MISSING_SCT,
	R_DOWNGRADE,
	R_NEW_ISSUER,
	R_NEW_SERVER_FINGERPRINT,
	R_CERTIFICATE_NOT_VISIBLE,
	R_N
};

#define R_BIT(r) (1u << (r))
/* What alerts for any name unless a [defaults] block says otherwise. */
#define RULES_DEFAULT_ALERTS (R_BIT(R_UNTRUSTED_CHAIN) | R_BIT(R_SELF_SIGNED) | \
	R_BIT(R_HOSTNAME_MISMATCH) | R_BIT(R_EXPIRED))
/* The chain-trust reasons require-trusted makes alert. */
#define RULES_TRUST_REASONS (R_BIT(R_UNTRUSTED_CHAIN) | R_BIT(R_SELF_SIGNED) | \
	R_BIT(R_EXPIRED) | R_BIT(R_NOT_YET_VALID))

struct rule_constraint {
	char attr[32];		/* canonical OpenSSL short name or dotted OID */
	char *glob;		/* owned; escapes kept, resolved while matching */
	size_t glob_len;
};

struct rule_issuer {
	struct rule_constraint c[RULES_CONSTRAINTS_MAX];
	unsigned n;
	char *text;		/* the line as written (trimmed), for messages */
	unsigned line;
};

#define RULES_PIN_LEN 44	/* base64 of 32 bytes */

struct rule {
	char name[RULES_NAME_MAX];
	unsigned line;		/* where the block starts */
	enum rule_severity severity;
	size_t n_domains;
	char **domains;		/* the patterns as written, for --check-rules */
	struct rule_issuer *issuers;
	size_t n_issuers, cap_issuers;
	char (*pins)[RULES_PIN_LEN + 1];	/* pin-sha256 values */
	size_t n_pins;
	char (*ja3s)[33];	/* server-ja3s values, lowercase hex */
	size_t n_ja3s;
	uint16_t min_version;	/* 0: none; else 0x0301 .. 0x0304 */
	bool require_trusted;
	bool require_visible;
	unsigned ignore;	/* R_BIT()s never alerting for this block */
};

struct rules;

/*
 * Load a rules file.  NULL on error, with "FILE:LINE: what" (or "FILE: what")
 * in err.  Warnings (e.g. a domain shadowed by an earlier block) go to warn
 * when it is not NULL.
 */
struct rules *rules_load(const char *path, FILE *warn, char *err, size_t errsz);

/* Parse rules text; name is used in messages.  Same contract as rules_load. */
struct rules *rules_parse(const char *text, size_t len, const char *name, FILE *warn,
    char *err, size_t errsz);

void rules_free(struct rules *rs);

size_t rules_count(const struct rules *rs);
const struct rule *rules_get(const struct rules *rs, size_t i);

/*
 * The first block watching this DNS name (raw bytes, as from an SNI or a
 * certificate), or NULL.  Names with bytes outside letters, digits, '-',
 * '_' and '.' never match.
 */
const struct rule *rules_match(const struct rules *rs, const char *name, size_t len);

/*
 * The same for a name taken from a certificate (SAN or CN), which may be a
 * wildcard "*.x": it is watched when some name it stands for would be.
 */
const struct rule *rules_match_cert_name(const struct rules *rs, const char *name, size_t len);

/* Does an issuer with these attributes satisfy the block?  *which: the line. */
bool rules_issuer_ok(const struct rule *r, const struct cert_attr *attrs, size_t n_attrs,
    const struct rule_issuer **which);

/* Glob match (see the format above); exposed for tests. */
bool rules_glob(const char *pat, size_t pat_len, const char *s, size_t s_len);

/* Reasons alerting for every name (the [defaults] block, or RULES_DEFAULT_ALERTS). */
unsigned rules_default_alerts(const struct rules *rs);
enum rule_severity rules_default_severity(const struct rules *rs);

const char *rules_reason_str(enum rule_reason r);
bool rules_reason_parse(const char *p, size_t n, enum rule_reason *out);

/* A block's SPKI pins: does this base64 SHA-256 match one? */
bool rules_pin_ok(const struct rule *r, const char *spki_b64);

/* Print what each block watches and checks (tlsentry --check-rules). */
void rules_describe(const struct rules *rs, FILE *out);

const char *rules_severity_str(enum rule_severity s);

/* ECS event.severity for a level: 21, 47, 73, 99 (Elastic's risk bands). */
int rules_severity_score(enum rule_severity s);

#endif /* TLSENTRY_RULES_H */
