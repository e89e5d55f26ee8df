/*
 * rules.c: rules file parser and the matchers for names and issuers.
 *
 * Distrusts: the rules file (an operator's, but a typo must be an error that
 * names its line, never a rule that silently watches nothing) and the names
 * being matched (wire bytes).  Owns: every block, string and index.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../parser/hashtab.h"
#include "rules.h"

#define DNS_NAME_MAX 253

/* A domain pattern in one of the two indexes: exact names, ".suffix" names. */
struct name_entry {
	UT_hash_handle hh;
	size_t block;		/* index of the first block naming it */
	size_t len;
	char key[];
};

struct rules {
	struct rule *blocks;
	size_t n, cap;
	struct name_entry *exact;	/* "www.icloud.com" */
	struct name_entry *suffix;	/* ".icloud.com", from "*.icloud.com" */
	struct name_entry *parent;	/* "icloud.com" for each exact "x.icloud.com" */
	size_t n_domains;
	bool has_defaults;
	unsigned default_alerts;	/* R_BIT()s alerting for every name */
	enum rule_severity default_severity;
};

static const char *const reason_names[R_N] = {
	[R_UNEXPECTED_ISSUER] = "unexpected-issuer",
	[R_PIN_MISMATCH] = "pin-mismatch",
	[R_UNTRUSTED_CHAIN] = "untrusted-chain",
	[R_SELF_SIGNED] = "self-signed",
	[R_HOSTNAME_MISMATCH] = "hostname-mismatch",
	[R_EXPIRED] = "expired",
	[R_NOT_YET_VALID] = "not-yet-valid",
	[R_WEAK_KEY] = "weak-key",
	[R_WEAK_SIGNATURE] = "weak-signature",
	[R_LONG_VALIDITY] = "long-validity",
	[R_OBSOLETE_VERSION] = "obsolete-version",
	[R_WEAK_CIPHER] = "weak-cipher",
	[R_MISSING_SCT] = "missing-sct",
	[R_DOWNGRADE] = "downgrade",
	[R_NEW_ISSUER] = "new-issuer",
	[R_NEW_SERVER_FINGERPRINT] = "new-server-fingerprint",
	[R_CERTIFICATE_NOT_VISIBLE] = "certificate-not-visible",
};

static size_t suffix_block(const struct name_entry *suffix, const char *name, size_t n,
    size_t from);

/*
 * Attribute names as OpenSSL spells them (OBJ_nid2sn), matched ignoring
 * case, and their OIDs (X.520, RFC 4519, PKCS #9, CA/B Forum EV), so a rule
 * may name an attribute either way and still meet what cert.c reports.
 */
static const struct {
	const char *name, *oid;
} known_attrs[] = {
	{ "CN", "2.5.4.3" }, { "SN", "2.5.4.4" }, { "serialNumber", "2.5.4.5" },
	{ "C", "2.5.4.6" }, { "L", "2.5.4.7" }, { "ST", "2.5.4.8" }, { "street", "2.5.4.9" },
	{ "O", "2.5.4.10" }, { "OU", "2.5.4.11" }, { "title", "2.5.4.12" },
	{ "description", "2.5.4.13" }, { "businessCategory", "2.5.4.15" },
	{ "postalAddress", "2.5.4.16" }, { "postalCode", "2.5.4.17" },
	{ "telephoneNumber", "2.5.4.20" }, { "name", "2.5.4.41" }, { "GN", "2.5.4.42" },
	{ "initials", "2.5.4.43" }, { "generationQualifier", "2.5.4.44" },
	{ "dnQualifier", "2.5.4.46" }, { "pseudonym", "2.5.4.65" },
	{ "organizationIdentifier", "2.5.4.97" }, { "UID", "0.9.2342.19200300.100.1.1" },
	{ "DC", "0.9.2342.19200300.100.1.25" }, { "emailAddress", "1.2.840.113549.1.9.1" },
	{ "jurisdictionL", "1.3.6.1.4.1.311.60.2.1.1" },
	{ "jurisdictionST", "1.3.6.1.4.1.311.60.2.1.2" },
	{ "jurisdictionC", "1.3.6.1.4.1.311.60.2.1.3" },
};

struct parser {
	struct rules *rs;
	const char *file;
	unsigned line;
	FILE *warn;
	char *err;
	size_t errsz;
	bool in_block;
	bool in_defaults;	/* inside [defaults], not a watched block */
	bool has_severity;
	bool has_alert;
};

static bool perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool
perr(struct parser *ps, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errsz, "%s:%u: %s", ps->file, ps->line, msg);
	return false;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Trim [*p, *p + *n) of blanks, keeping a blank escaped by a backslash. */
static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && is_space(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_space((*p)[*n - 1]) && !(*n >= 2 && (*p)[*n - 2] == '\\'))
		(*n)--;
}

static char *
dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static bool
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Lowercase into out and drop one trailing dot; false if not a host name. */
static bool
normalise_host(const char *p, size_t n, char *out, size_t *out_len)
{
	size_t label = 0;

	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0 || n > DNS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = (char)tolower((unsigned char)p[i]);
		if (c == '.') {
			if (label == 0)
				return false;	/* empty label */
			label = 0;
		} else if (host_char(c) && ++label <= 63) {
			;
		} else {
			return false;
		}
		out[i] = c;
	}
	if (label == 0)
		return false;
	out[n] = '\0';
	*out_len = n;
	return true;
}

/* --- indexes ------------------------------------------------------------ */

/* Add key to an index for the current block; an existing key keeps its block. */
static bool
index_put(struct parser *ps, struct name_entry **idx, const char *key, size_t len,
    struct name_entry **found)
{
	struct name_entry *e = NULL;

	*found = NULL;
	HASH_FIND(hh, *idx, key, len, e);
	if (e != NULL) {
		*found = e;
		return true;
	}
	e = malloc(sizeof(*e) + len + 1);
	if (e == NULL)
		return perr(ps, "out of memory");
	e->block = ps->rs->n - 1;
	e->len = len;
	memcpy(e->key, key, len);
	e->key[len] = '\0';
	hashtab_oom = 0;
	HASH_ADD_KEYPTR(hh, *idx, e->key, e->len, e);
	if (hashtab_oom) {
		free(e);
		return perr(ps, "out of memory");
	}
	return true;
}

static void
warn_shadowed(struct parser *ps, const char *shown, size_t block, const char *why)
{
	if (ps->warn != NULL && block != ps->rs->n - 1)
		fprintf(ps->warn, "tlsentry: %s:%u: warning: '%s' is already %s [%s]; "
		    "the first block wins\n", ps->file, ps->line, shown, why,
		    ps->rs->blocks[block].name);
}

/*
 * Index one domain pattern of the current block: exact names (and their
 * parent, for wildcard certificates), or ".suffix" for "*.suffix".  Warn
 * when an earlier block already decides every name the pattern covers.
 */
static bool
index_domain(struct parser *ps, const char *key, size_t len, bool wild, const char *shown)
{
	struct name_entry *e;
	size_t cover;
	const char *dot;

	/* an earlier "*.x" already covers it ("*.x" covers x's descendants) */
	cover = suffix_block(ps->rs->suffix, key, len, wild ? 1 : 0);
	if (cover != SIZE_MAX && cover < ps->rs->n - 1)
		warn_shadowed(ps, shown, cover, "covered by a wildcard of");
	if (wild) {
		if (!index_put(ps, &ps->rs->suffix, key, len, &e))
			return false;
		if (e != NULL)
			warn_shadowed(ps, shown, e->block, "watched by");
		return true;
	}
	if (!index_put(ps, &ps->rs->exact, key, len, &e))
		return false;
	if (e != NULL) {
		warn_shadowed(ps, shown, e->block, "watched by");
		return true;
	}
	dot = memchr(key, '.', len);
	if (dot != NULL && !index_put(ps, &ps->rs->parent, dot + 1,
	    len - (size_t)(dot + 1 - key), &e))
		return false;
	return true;
}

static void
index_free(struct name_entry **idx)
{
	struct name_entry *e, *tmp;

	HASH_ITER(hh, *idx, e, tmp) {
		HASH_DEL(*idx, e);	/* NOLINT(clang-analyzer-unix.Malloc): uthash's own
					   table goes with its last element */
		free(e);
	}
}

/* --- lines --------------------------------------------------------------- */

/* "domains = a.example *.b.example ..." (blank- or comma-separated). */
static bool
parse_domains(struct parser *ps, const char *v, size_t n)
{
	struct rule *r = &ps->rs->blocks[ps->rs->n - 1];
	char norm[DNS_NAME_MAX + 2];
	size_t i = 0;

	if (n == 0)
		return perr(ps, "'domains' with no domain");
	while (i < n) {
		while (i < n && (is_space(v[i]) || v[i] == ','))
			i++;
		size_t start = i;
		while (i < n && !is_space(v[i]) && v[i] != ',')
			i++;
		if (i == start)
			break;
		const char *tok = v + start;
		size_t len = i - start, nlen;
		bool wild = len >= 2 && tok[0] == '*' && tok[1] == '.';
		char shown[DNS_NAME_MAX + 8];

		snprintf(shown, sizeof(shown), "%.*s", (int)(len < 260 ? len : 260), tok);
		if (!normalise_host(tok + (wild ? 2 : 0), len - (wild ? 2 : 0), norm + 1, &nlen))
			return perr(ps, "'%s' is not a domain name or '*.domain' pattern%s", shown,
			    memchr(tok + 1, '*', len - 1) || (tok[0] == '*' && !wild) ?
			    " ('*' is only allowed as a leading '*.')" : "");
		if (++ps->rs->n_domains > RULES_DOMAINS_MAX)
			return perr(ps, "more than %d domain patterns", RULES_DOMAINS_MAX);
		char **nd = realloc(r->domains, (r->n_domains + 1) * sizeof(*nd));
		if (nd == NULL || (nd[r->n_domains] = dup_n(tok, len)) == NULL) {
			if (nd != NULL)
				r->domains = nd;
			return perr(ps, "out of memory");
		}
		r->domains = nd;
		r->n_domains++;
		norm[0] = '.';
		if (!(wild ? index_domain(ps, norm, nlen + 1, true, shown) :
		    index_domain(ps, norm + 1, nlen, false, shown)))
			return false;
	}
	return true;
}

static bool
canonical_attr(const char *p, size_t n, char out[32])
{
	bool oid = n > 0;

	for (size_t i = 0; i < sizeof(known_attrs) / sizeof(known_attrs[0]); i++) {
		if ((strlen(known_attrs[i].name) == n && strncasecmp(known_attrs[i].name, p, n) == 0) ||
		    (strlen(known_attrs[i].oid) == n && memcmp(known_attrs[i].oid, p, n) == 0)) {
			snprintf(out, 32, "%s", known_attrs[i].name);
			return true;
		}
	}
	for (size_t i = 0; i < n; i++)		/* a dotted OID such as 2.5.4.97 */
		if (!(isdigit((unsigned char)p[i]) || (p[i] == '.' && i > 0 && i + 1 < n)))
			oid = false;
	if (!oid || n >= 32 || memchr(p, '.', n) == NULL)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/* Is there "ATTR =" at p (after blanks)?  Marks where constraints split. */
static bool
attr_follows(const char *p, size_t n)
{
	size_t i = 0, start;

	while (i < n && is_space(p[i]))
		i++;
	start = i;
	while (i < n && (isalnum((unsigned char)p[i]) || p[i] == '.'))
		i++;
	if (i == start)
		return false;
	while (i < n && is_space(p[i]))
		i++;
	return i < n && p[i] == '=';
}

/* One "ATTR=GLOB" term. */
static bool
parse_constraint(struct parser *ps, const char *p, size_t n, struct rule_constraint *c)
{
	size_t eq = 0;

	while (eq < n && p[eq] != '=')
		eq++;
	const char *a = p, *g = p + eq + 1;
	size_t an = eq, gn = eq < n ? n - eq - 1 : 0;

	trim(&a, &an);
	trim(&g, &gn);
	if (eq == n || an == 0)
		return perr(ps, "issuer term '%.*s' is not ATTR=VALUE", (int)(n < 200 ? n : 200), p);
	if (!canonical_attr(a, an, c->attr))
		return perr(ps, "unknown attribute '%.*s' in issuer (use CN, O, OU, C, ST, L, "
		    "DC, ... or a dotted OID)", (int)(an < 60 ? an : 60), a);
	if (gn == 0)
		return perr(ps, "empty value for %s (write %s=* to accept any value)", c->attr,
		    c->attr);
	c->glob = dup_n(g, gn);
	c->glob_len = gn;
	return c->glob != NULL || perr(ps, "out of memory");
}

/* "issuer = O=Apple Inc., CN=Apple Public Server*" */
static bool
parse_issuer(struct parser *ps, const char *v, size_t n)
{
	struct rule *r = &ps->rs->blocks[ps->rs->n - 1];
	struct rule_issuer *is;
	size_t start = 0;

	if (r->n_issuers == RULES_ISSUERS_MAX)
		return perr(ps, "more than %d issuer lines in [%s]", RULES_ISSUERS_MAX, r->name);
	if (n == 0)
		return perr(ps, "empty issuer");
	if (r->n_issuers == r->cap_issuers) {	/* most blocks have one or two */
		size_t cap = r->cap_issuers ? r->cap_issuers * 2 : 2;
		struct rule_issuer *ni = realloc(r->issuers, cap * sizeof(*ni));
		if (ni == NULL)
			return perr(ps, "out of memory");
		r->issuers = ni;
		r->cap_issuers = cap;
	}
	is = &r->issuers[r->n_issuers];
	memset(is, 0, sizeof(*is));
	is->line = ps->line;
	r->n_issuers++;				/* counted now so rules_free sees it */
	is->text = dup_n(v, n);
	if (is->text == NULL)
		return perr(ps, "out of memory");
	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] == '\\') {
			i++;
			continue;
		}
		if (i < n && !(v[i] == ',' && attr_follows(v + i + 1, n - i - 1)))
			continue;
		if (is->n == RULES_CONSTRAINTS_MAX)
			return perr(ps, "more than %d terms in one issuer line",
			    RULES_CONSTRAINTS_MAX);
		if (!parse_constraint(ps, v + start, i - start, &is->c[is->n]))
			return false;
		is->n++;
		start = i + 1;
	}
	return true;
}

static bool
severity_of(struct parser *ps, const char *v, size_t n, enum rule_severity *out)
{
	static const char *const names[] = { "low", "medium", "high", "critical" };

	if (ps->has_severity)
		return perr(ps, "severity given twice in this block");
	for (int i = 0; i < 4; i++) {
		if (strlen(names[i]) == n && strncasecmp(names[i], v, n) == 0) {
			*out = (enum rule_severity)i;
			ps->has_severity = true;
			return true;
		}
	}
	return perr(ps, "severity '%.*s' is not low, medium, high or critical",
	    (int)(n < 40 ? n : 40), v);
}

static bool
parse_severity(struct parser *ps, const char *v, size_t n)
{
	if (ps->in_defaults)
		return severity_of(ps, v, n, &ps->rs->default_severity);
	return severity_of(ps, v, n, &ps->rs->blocks[ps->rs->n - 1].severity);
}

/* "ignore = a b", "alert = a b" or "alert = none": reason names into bits. */
static bool
parse_reasons(struct parser *ps, const char *key, const char *v, size_t n, bool none_ok,
    unsigned *out)
{
	size_t i = 0;

	*out = 0;
	if (none_ok && n == 4 && strncasecmp(v, "none", 4) == 0)
		return true;
	if (n == 0)
		return perr(ps, "'%s' with no reason", key);
	while (i < n) {
		enum rule_reason r;
		while (i < n && (is_space(v[i]) || v[i] == ','))
			i++;
		size_t start = i;
		while (i < n && !is_space(v[i]) && v[i] != ',')
			i++;
		if (i == start)
			break;
		if (!rules_reason_parse(v + start, i - start, &r))
			return perr(ps, "'%.*s' is not a reason (see the README's list)",
			    (int)(i - start < 40 ? i - start : 40), v + start);
		*out |= R_BIT(r);
	}
	return true;
}

static bool
parse_yes_no(struct parser *ps, const char *key, const char *v, size_t n, bool *out)
{
	if ((n == 3 && strncasecmp(v, "yes", 3) == 0) || (n == 4 && strncasecmp(v, "true", 4) == 0))
		*out = true;
	else if ((n == 2 && strncasecmp(v, "no", 2) == 0) || (n == 5 && strncasecmp(v, "false", 5) == 0))
		*out = false;
	else
		return perr(ps, "'%s' takes yes or no, not '%.*s'", key, (int)(n < 40 ? n : 40), v);
	return true;
}

/* "pin-sha256 = BASE64" (RFC 7469 s2.4: base64 of a SHA-256, 44 characters). */
static bool
parse_pin(struct parser *ps, const char *v, size_t n)
{
	struct rule *r = &ps->rs->blocks[ps->rs->n - 1];
	char (*np)[RULES_PIN_LEN + 1];

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {	/* as HPKP headers quote it */
		v++;
		n -= 2;
	}
	if (n != RULES_PIN_LEN || v[n - 1] != '=')
		return perr(ps, "pin-sha256 must be the base64 of a SHA-256 (44 characters "
		    "ending in '=')");
	for (size_t i = 0; i < n - 1; i++)
		if (!(isalnum((unsigned char)v[i]) || v[i] == '+' || v[i] == '/'))
			return perr(ps, "pin-sha256 has a character outside base64");
	if (r->n_pins == RULES_ISSUERS_MAX)
		return perr(ps, "more than %d pins in [%s]", RULES_ISSUERS_MAX, r->name);
	np = realloc(r->pins, (r->n_pins + 1) * sizeof(*np));
	if (np == NULL)
		return perr(ps, "out of memory");
	r->pins = np;
	memcpy(r->pins[r->n_pins], v, n);
	r->pins[r->n_pins++][n] = '\0';
	return true;
}

/* "server-ja3s = MD5": a ServerHello fingerprint this block's servers send. */
static bool
parse_ja3s(struct parser *ps, const char *v, size_t n)
{
	struct rule *r = &ps->rs->blocks[ps->rs->n - 1];
	char (*nj)[33];

	if (n != 32)
		return perr(ps, "server-ja3s must be 32 hex digits (a JA3S MD5)");
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)v[i]))
			return perr(ps, "server-ja3s must be 32 hex digits (a JA3S MD5)");
	if (r->n_ja3s == RULES_ISSUERS_MAX)
		return perr(ps, "more than %d server-ja3s in [%s]", RULES_ISSUERS_MAX, r->name);
	nj = realloc(r->ja3s, (r->n_ja3s + 1) * sizeof(*nj));
	if (nj == NULL)
		return perr(ps, "out of memory");
	r->ja3s = nj;
	for (size_t i = 0; i < n; i++)
		r->ja3s[r->n_ja3s][i] = (char)tolower((unsigned char)v[i]);
	r->ja3s[r->n_ja3s++][n] = '\0';
	return true;
}

/* "min-version = tls1.2" */
static bool
parse_min_version(struct parser *ps, const char *v, size_t n)
{
	static const struct { const char *name; uint16_t v; } vers[] = {
		{ "tls1.0", 0x0301 }, { "tls1.1", 0x0302 }, { "tls1.2", 0x0303 }, { "tls1.3", 0x0304 },
	};
	struct rule *r = &ps->rs->blocks[ps->rs->n - 1];

	for (size_t i = 0; i < sizeof(vers) / sizeof(vers[0]); i++) {
		if (strlen(vers[i].name) == n && strncasecmp(vers[i].name, v, n) == 0) {
			r->min_version = vers[i].v;
			return true;
		}
	}
	return perr(ps, "min-version '%.*s' is not tls1.0, tls1.1, tls1.2 or tls1.3",
	    (int)(n < 40 ? n : 40), v);
}

/* A finished block must watch something and accept something. */
static bool
end_block(struct parser *ps)
{
	struct rule *r;
	unsigned here = ps->line;
	bool ok = true;

	if (ps->in_defaults) {
		ps->in_defaults = false;
		return true;
	}
	if (!ps->in_block)
		return true;
	r = &ps->rs->blocks[ps->rs->n - 1];
	ps->line = r->line;			/* the error belongs to the block's header */
	if (r->n_domains == 0)
		ok = perr(ps, "block [%s] has no 'domains' line", r->name);
	else if (r->n_issuers == 0 && r->n_pins == 0 && r->min_version == 0 &&
	    !r->require_trusted && !r->require_visible && r->n_ja3s == 0)
		ok = perr(ps, "block [%s] checks nothing: give it an 'issuer' line (or "
		    "pin-sha256, min-version, require-trusted, require-visible)", r->name);
	ps->line = here;
	return ok;
}

static bool
begin_block(struct parser *ps, const char *p, size_t n)
{
	struct rule *r;

	trim(&p, &n);
	if (n == 0 || n >= RULES_NAME_MAX)
		return perr(ps, "block name must be 1 to %d characters", RULES_NAME_MAX - 1);
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)p[i]) || p[i] == '-' || p[i] == '_' || p[i] == '.'))
			return perr(ps, "block name '%.*s' may hold only letters, digits, "
			    "'-', '_' and '.'", (int)n, p);
	if (n == 8 && memcmp(p, "defaults", 8) == 0) {
		if (ps->rs->has_defaults)
			return perr(ps, "[defaults] given twice");
		ps->rs->has_defaults = true;
		ps->in_defaults = true;
		ps->in_block = false;
		ps->has_severity = false;
		ps->has_alert = false;
		return true;
	}
	for (size_t i = 0; i < ps->rs->n; i++)
		if (strlen(ps->rs->blocks[i].name) == n &&
		    memcmp(ps->rs->blocks[i].name, p, n) == 0)
			return perr(ps, "block [%.*s] defined twice (first at line %u)", (int)n, p,
			    ps->rs->blocks[i].line);
	if (ps->rs->n == RULES_MAX)
		return perr(ps, "more than %d blocks", RULES_MAX);
	if (ps->rs->n == ps->rs->cap) {
		size_t cap = ps->rs->cap ? ps->rs->cap * 2 : 16;
		struct rule *nb = realloc(ps->rs->blocks, cap * sizeof(*nb));
		if (nb == NULL)
			return perr(ps, "out of memory");
		ps->rs->blocks = nb;
		ps->rs->cap = cap;
	}
	r = &ps->rs->blocks[ps->rs->n++];
	memset(r, 0, sizeof(*r));
	memcpy(r->name, p, n);
	r->line = ps->line;
	r->severity = SEV_HIGH;
	ps->in_block = true;
	ps->has_severity = false;
	return true;
}

/* Length of the line without its comment: '#' at the start or after a blank. */
static size_t
strip_comment(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\') {
			i++;
			continue;
		}
		if (p[i] == '#' && (i == 0 || is_space(p[i - 1])))
			return i;
	}
	return n;
}

static bool
parse_line(struct parser *ps, const char *p, size_t n)
{
	size_t eq;

	if (memchr(p, '\0', n) != NULL)
		return perr(ps, "NUL byte in line (is this a text file?)");
	n = strip_comment(p, n);
	trim(&p, &n);
	if (n == 0)
		return true;
	if (p[0] == '[') {
		if (p[n - 1] != ']')
			return perr(ps, "block header must look like [name]");
		return end_block(ps) && begin_block(ps, p + 1, n - 2);
	}
	for (eq = 0; eq < n && p[eq] != '='; eq++)
		;
	if (eq == n)
		return perr(ps, "expected '[name]' or 'key = value', got '%.*s'",
		    (int)(n < 60 ? n : 60), p);
	const char *k = p, *v = p + eq + 1;
	size_t kn = eq, vn = n - eq - 1;
	trim(&k, &kn);
	trim(&v, &vn);
#define KEY(name) (kn == sizeof(name) - 1 && strncasecmp(k, name, kn) == 0)
	if (ps->in_defaults) {
		if (KEY("severity"))
			return parse_severity(ps, v, vn);
		if (KEY("alert")) {
			if (ps->has_alert)
				return perr(ps, "'alert' given twice in [defaults]");
			ps->has_alert = true;
			return parse_reasons(ps, "alert", v, vn, true, &ps->rs->default_alerts);
		}
		return perr(ps, "unknown key '%.*s' in [defaults] (expected alert or severity)",
		    (int)(kn < 40 ? kn : 40), k);
	}
	if (!ps->in_block)
		return perr(ps, "'%.*s' outside a [block]", (int)(kn < 40 ? kn : 40), k);
	struct rule *r = &ps->rs->blocks[ps->rs->n - 1];
	if (KEY("domains"))
		return parse_domains(ps, v, vn);
	if (KEY("issuer"))
		return parse_issuer(ps, v, vn);
	if (KEY("severity"))
		return parse_severity(ps, v, vn);
	if (KEY("pin-sha256"))
		return parse_pin(ps, v, vn);
	if (KEY("min-version"))
		return parse_min_version(ps, v, vn);
	if (KEY("require-trusted"))
		return parse_yes_no(ps, "require-trusted", v, vn, &r->require_trusted);
	if (KEY("require-visible"))
		return parse_yes_no(ps, "require-visible", v, vn, &r->require_visible);
	if (KEY("ignore")) {
		unsigned bits;
		if (!parse_reasons(ps, "ignore", v, vn, false, &bits))
			return false;
		r->ignore |= bits;
		return true;
	}
	if (KEY("server-ja3s"))
		return parse_ja3s(ps, v, vn);
#undef KEY
	return perr(ps, "unknown key '%.*s' (expected domains, issuer, severity, pin-sha256, "
	    "min-version, require-trusted, require-visible, ignore or server-ja3s)",
	    (int)(kn < 40 ? kn : 40), k);
}

struct rules *
rules_parse(const char *text, size_t len, const char *name, FILE *warn, char *err,
    size_t errsz)
{
	struct parser ps = { .file = name, .warn = warn, .err = err, .errsz = errsz };
	size_t off = 0;

	ps.rs = calloc(1, sizeof(*ps.rs));
	if (ps.rs == NULL) {
		snprintf(err, errsz, "%s: out of memory", name);
		return NULL;
	}
	ps.rs->default_alerts = RULES_DEFAULT_ALERTS;
	ps.rs->default_severity = SEV_MEDIUM;
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		ps.line++;
		if (!parse_line(&ps, text + off, n))
			goto fail;
		off += n + (nl ? 1 : 0);
	}
	ps.line++;
	if (!end_block(&ps))
		goto fail;
	if (ps.rs->n == 0 && !ps.rs->has_defaults) {
		snprintf(err, errsz, "%s: no [block] in the file: nothing would be watched", name);
		goto fail;
	}
	return ps.rs;
fail:
	rules_free(ps.rs);
	return NULL;
}

struct rules *
rules_load(const char *path, FILE *warn, char *err, size_t errsz)
{
	struct rules *rs = NULL;
	char *buf = NULL;
	struct stat sb;
	size_t got;
	FILE *fp = fopen(path, "rb");

	if (fp == NULL) {
		snprintf(err, errsz, "%s: cannot open rules: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errsz, "%s: rules must be a regular file", path);
		goto out;
	}
	if ((uint64_t)sb.st_size > RULES_FILE_MAX) {
		snprintf(err, errsz, "%s: rules file larger than %u bytes", path, RULES_FILE_MAX);
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (buf == NULL) {
		snprintf(err, errsz, "%s: out of memory", path);
		goto out;
	}
	got = fread(buf, 1, (size_t)sb.st_size, fp);
	if (ferror(fp)) {
		snprintf(err, errsz, "%s: cannot read rules: %s", path, strerror(errno));
		goto out;
	}
	rs = rules_parse(buf, got, path, warn, err, errsz);
out:
	free(buf);
	fclose(fp);
	return rs;
}

void
rules_free(struct rules *rs)
{
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		struct rule *r = &rs->blocks[i];
		for (size_t j = 0; j < r->n_issuers; j++) {
			for (unsigned k = 0; k < r->issuers[j].n; k++)
				free(r->issuers[j].c[k].glob);
			free(r->issuers[j].text);
		}
		free(r->issuers);
		free(r->pins);
		free(r->ja3s);
		for (size_t j = 0; j < r->n_domains; j++)
			free(r->domains[j]);
		free(r->domains);
	}
	free(rs->blocks);
	index_free(&rs->exact);
	index_free(&rs->suffix);
	index_free(&rs->parent);
	free(rs);
}

size_t
rules_count(const struct rules *rs)
{
	return rs ? rs->n : 0;
}

const struct rule *
rules_get(const struct rules *rs, size_t i)
{
	return rs && i < rs->n ? &rs->blocks[i] : NULL;
}

/* --- matching ------------------------------------------------------------ */

/*
 * The lowest block of any ".suffix" pattern matching name[from..n): the
 * labels of the name are tried from the longest proper suffix down.
 */
static size_t
suffix_block(const struct name_entry *suffix, const char *name, size_t n, size_t from)
{
	struct name_entry *e = NULL;
	size_t best = SIZE_MAX;

	for (size_t i = from; i < n; i++) {	/* ".b.example", ".example" ... */
		if (name[i] != '.')
			continue;
		HASH_FIND(hh, suffix, name + i, n - i, e);
		if (e != NULL && e->block < best)
			best = e->block;
	}
	return best;
}

const struct rule *
rules_match(const struct rules *rs, const char *name, size_t len)
{
	char norm[DNS_NAME_MAX + 1];
	struct name_entry *e = NULL;
	size_t n, best;

	if (rs == NULL || !normalise_host(name, len, norm, &n))
		return NULL;
	best = suffix_block(rs->suffix, norm, n, 0);
	HASH_FIND(hh, rs->exact, norm, n, e);
	if (e != NULL && e->block < best)
		best = e->block;
	return best == SIZE_MAX ? NULL : &rs->blocks[best];
}

const struct rule *
rules_match_cert_name(const struct rules *rs, const char *name, size_t len)
{
	char norm[DNS_NAME_MAX + 2];
	struct name_entry *e = NULL;
	size_t n, best;

	if (len < 2 || name[0] != '*' || name[1] != '.')
		return rules_match(rs, name, len);
	/* "*.x" stands for any child of x: a watched "*.x" (or "*.parent
	 * of x") or a watched exact "label.x" makes it watched */
	if (rs == NULL || !normalise_host(name + 2, len - 2, norm + 1, &n))
		return NULL;
	norm[0] = '.';
	best = suffix_block(rs->suffix, norm, n + 1, 0);
	HASH_FIND(hh, rs->parent, norm + 1, n, e);
	if (e != NULL && e->block < best)
		best = e->block;
	return best == SIZE_MAX ? NULL : &rs->blocks[best];
}

bool
rules_glob(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star_p = ++pi;		/* remember where to retry from */
			star_s = si;
			continue;
		}
		if (pi < pn) {
			bool esc = p[pi] == '\\' && pi + 1 < pn;
			char lit = esc ? p[pi + 1] : p[pi];
			if ((p[pi] == '?' && !esc) || lit == s[si]) {
				pi += esc ? 2 : 1;
				si++;
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return false;
		pi = star_p;			/* let the last '*' swallow one more byte */
		si = ++star_s;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static bool
constraint_ok(const struct rule_constraint *c, const struct cert_attr *attrs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(attrs[i].name, c->attr) == 0 &&
		    rules_glob(c->glob, c->glob_len, attrs[i].value.p, attrs[i].value.len))
			return true;
	return false;
}

bool
rules_issuer_ok(const struct rule *r, const struct cert_attr *attrs, size_t n_attrs,
    const struct rule_issuer **which)
{
	for (size_t i = 0; i < r->n_issuers; i++) {
		const struct rule_issuer *is = &r->issuers[i];
		unsigned k;
		for (k = 0; k < is->n && constraint_ok(&is->c[k], attrs, n_attrs); k++)
			;
		if (k == is->n) {
			if (which != NULL)
				*which = is;
			return true;
		}
	}
	return false;
}

const char *
rules_severity_str(enum rule_severity s)
{
	switch (s) {
	case SEV_LOW:		return "low";
	case SEV_MEDIUM:	return "medium";
	case SEV_HIGH:		return "high";
	case SEV_CRITICAL:	return "critical";
	}
	return "high";
}

int
rules_severity_score(enum rule_severity s)
{
	switch (s) {
	case SEV_LOW:		return 21;
	case SEV_MEDIUM:	return 47;
	case SEV_HIGH:		return 73;
	case SEV_CRITICAL:	return 99;
	}
	return 73;
}

unsigned
rules_default_alerts(const struct rules *rs)
{
	return rs != NULL ? rs->default_alerts : RULES_DEFAULT_ALERTS;
}

enum rule_severity
rules_default_severity(const struct rules *rs)
{
	return rs != NULL ? rs->default_severity : SEV_MEDIUM;
}

const char *
rules_reason_str(enum rule_reason r)
{
	return r < R_N ? reason_names[r] : "?";
}

bool
rules_reason_parse(const char *p, size_t n, enum rule_reason *out)
{
	for (int i = 0; i < R_N; i++) {
		if (strlen(reason_names[i]) == n && strncasecmp(reason_names[i], p, n) == 0) {
			*out = (enum rule_reason)i;
			return true;
		}
	}
	return false;
}

bool
rules_pin_ok(const struct rule *r, const char *spki_b64)
{
	for (size_t i = 0; i < r->n_pins; i++)
		if (strcmp(r->pins[i], spki_b64) == 0)
			return true;
	return false;
}

static void
describe_reasons(FILE *out, unsigned bits)
{
	bool any = false;

	for (int i = 0; i < R_N; i++) {
		if (bits & R_BIT(i)) {
			fprintf(out, "%s%s", any ? " " : "", reason_names[i]);
			any = true;
		}
	}
	if (!any)
		fputs("none", out);
}

void
rules_describe(const struct rules *rs, FILE *out)
{
	static const char *const vers[] = { "tls1.0", "tls1.1", "tls1.2", "tls1.3" };

	fprintf(out, "[defaults] alert for every name: ");
	describe_reasons(out, rules_default_alerts(rs));
	fprintf(out, " (severity %s)%s\n", rules_severity_str(rules_default_severity(rs)),
	    rs->has_defaults ? "" : ", built in");
	for (size_t i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->blocks[i];
		fprintf(out, "[%s] line %u: %zu domain pattern%s, severity %s\n", r->name, r->line,
		    r->n_domains, r->n_domains == 1 ? "" : "s", rules_severity_str(r->severity));
		fprintf(out, "  domains:");
		for (size_t j = 0; j < r->n_domains; j++)
			fprintf(out, " %s", r->domains[j]);
		fputc('\n', out);
		for (size_t j = 0; j < r->n_issuers; j++)
			fprintf(out, "  issuer: %s\n", r->issuers[j].text);
		if (r->n_pins > 0)
			fprintf(out, "  %zu SPKI pin%s\n", r->n_pins, r->n_pins == 1 ? "" : "s");
		if (r->min_version >= 0x0301 && r->min_version <= 0x0304)
			fprintf(out, "  min-version: %s\n", vers[r->min_version - 0x0301]);
		if (r->require_trusted)
			fprintf(out, "  require-trusted\n");
		if (r->require_visible)
			fprintf(out, "  require-visible\n");
		if (r->n_ja3s > 0)
			fprintf(out, "  %zu known server fingerprint%s\n", r->n_ja3s,
			    r->n_ja3s == 1 ? "" : "s");
		if (r->ignore) {
			fprintf(out, "  ignores: ");
			describe_reasons(out, r->ignore);
			fputc('\n', out);
		}
	}
}
