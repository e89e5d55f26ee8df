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

struct rule {
	char name[RULES_NAME_MAX];
	unsigned line;		/* where the block starts */
	enum rule_severity severity;
	size_t n_domains;
	struct rule_issuer *issuers;
	size_t n_issuers, cap_issuers;
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

const char *rules_severity_str(enum rule_severity s);

/* ECS event.severity for a level: 21, 47, 73, 99 (Elastic's risk bands). */
int rules_severity_score(enum rule_severity s);

#endif /* TLSENTRY_RULES_H */
