/* test_rules.c: rules file parsing, domain matching and issuer globs. */
#include <stdint.h>

#include "../rules/rules.h"
#include "t.h"

static char err[512];

static struct rules *
parse(const char *text)
{
	return rules_parse(text, strlen(text), "t.rules", NULL, err, sizeof(err));
}

/* An issuer name as cert.c would produce it. */
static struct cert_attr attrs[8];
static size_t n_attrs;

static void
issuer(const char *name, const char *value, size_t len)
{
	snprintf(attrs[n_attrs].name, sizeof(attrs[n_attrs].name), "%s", name);
	attrs[n_attrs].value.p = (char *)value;
	attrs[n_attrs].value.len = len;
	n_attrs++;
}

static const char icloud[] =
    "# comment\n"
    "[icloud]                                   # block name\n"
    "domains  = icloud.com *.icloud.com\n"
    "issuer   = O=Apple Inc., CN=Apple Public Server*\n"
    "issuer   = O=DigiCert Inc\n"
    "severity = critical\n"
    "\n"
    "[apple]\n"
    "domains = apple.com, *.apple.com ICLOUD.COM.\n"
    "issuer = o=Apple Inc.\n";

static void
test_rules_match_domains(void)
{
	struct rules *rs = parse(icloud);
	const struct rule *r;

	T_CHECK(rs != NULL);
	if (rs == NULL) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	T_EQ_U(rules_count(rs), 2);
	r = rules_match(rs, "icloud.com", 10);
	T_CHECK(r != NULL && strcmp(r->name, "icloud") == 0);	/* first block wins */
	T_CHECK(rules_match(rs, "WWW.iCloud.COM.", 15) == rules_get(rs, 0));
	T_CHECK(rules_match(rs, "a.b.c.icloud.com", 16) == rules_get(rs, 0));	/* any depth */
	T_CHECK(rules_match(rs, "xicloud.com", 11) == NULL);	/* not a label boundary */
	T_CHECK(rules_match(rs, "icloud.com.evil.example", 23) == NULL);
	T_CHECK(rules_match(rs, "apple.com", 9) == rules_get(rs, 1));
	T_CHECK(rules_match(rs, "www.apple.com", 13) == rules_get(rs, 1));
	T_CHECK(rules_match(rs, "com", 3) == NULL);
	T_CHECK(rules_match(rs, "", 0) == NULL);
	T_CHECK(rules_match(rs, "icloud.com\0.x", 13) == NULL);	/* NUL is not a name */
	T_CHECK(rules_match(rs, "www..icloud.com", 15) == NULL);
	T_EQ_I(rules_get(rs, 0)->severity, SEV_CRITICAL);
	T_EQ_I(rules_get(rs, 1)->severity, SEV_HIGH);	/* the default */
	T_EQ_U(rules_get(rs, 0)->n_issuers, 2);
	T_EQ_STR(rules_get(rs, 0)->issuers[0].text, "O=Apple Inc., CN=Apple Public Server*");
	rules_free(rs);
}

static void
test_rules_issuer_constraints(void)
{
	struct rules *rs = parse(icloud);
	const struct rule *r = rules_get(rs, 0);
	const struct rule_issuer *which = NULL;

	n_attrs = 0;				/* C=US, O=Apple Inc., CN=Apple Public Server RSA CA 12 */
	issuer("C", "US", 2);
	issuer("O", "Apple Inc.", 10);
	issuer("CN", "Apple Public Server RSA CA 12 - G1", 34);
	T_CHECK(rules_issuer_ok(r, attrs, n_attrs, &which));
	T_CHECK(which == &r->issuers[0]);

	n_attrs = 0;				/* right CN, wrong O: all terms must hold */
	issuer("O", "Apple Inc", 9);
	issuer("CN", "Apple Public Server RSA CA 12 - G1", 34);
	T_CHECK(!rules_issuer_ok(r, attrs, n_attrs, NULL));

	n_attrs = 0;				/* the second line alone */
	issuer("C", "US", 2);
	issuer("O", "DigiCert Inc", 12);
	issuer("CN", "DigiCert TLS RSA SHA256 2020 CA1", 32);
	T_CHECK(rules_issuer_ok(r, attrs, n_attrs, &which));
	T_CHECK(which == &r->issuers[1]);

	n_attrs = 0;				/* values are case-sensitive */
	issuer("O", "digicert inc", 12);
	T_CHECK(!rules_issuer_ok(r, attrs, n_attrs, NULL));

	n_attrs = 0;				/* a NUL inside the value must not cut it */
	issuer("O", "DigiCert Inc\0evil", 17);
	T_CHECK(!rules_issuer_ok(r, attrs, n_attrs, NULL));

	n_attrs = 0;				/* a rogue CA copying Apple's O but not CN */
	issuer("O", "Apple Inc.", 10);
	issuer("CN", "Rogue Interception CA", 21);
	T_CHECK(!rules_issuer_ok(r, attrs, n_attrs, NULL));

	n_attrs = 0;				/* several OUs: any one may match */
	const char *text = "[x]\ndomains = x.example\nissuer = OU=Beta, O=X\n";
	struct rules *rs2 = parse(text);
	issuer("OU", "Alpha", 5);
	issuer("OU", "Beta", 4);
	issuer("O", "X", 1);
	T_CHECK(rs2 != NULL && rules_issuer_ok(rules_get(rs2, 0), attrs, n_attrs, NULL));
	rules_free(rs2);
	rules_free(rs);
}

static void
test_rules_commas_and_escapes(void)
{
	/* "O=Facebook, Inc." is one term: ", Inc." is not followed by ATTR= */
	struct rules *rs = parse("[fb]\ndomains = facebook.com\n"
	    "issuer = O=Facebook, Inc., CN=DigiCert*\n"
	    "issuer = CN=Odd\\, Name \\* literal\n"
	    "issuer = CN=Hash \\# not a comment # but this is\n");
	const struct rule *r;

	T_CHECK(rs != NULL);
	if (rs == NULL)
		return;
	r = rules_get(rs, 0);
	T_EQ_U(r->issuers[0].n, 2);
	T_EQ_STR(r->issuers[0].c[0].attr, "O");
	T_EQ_STR(r->issuers[0].c[0].glob, "Facebook, Inc.");
	T_EQ_STR(r->issuers[0].c[1].glob, "DigiCert*");
	T_EQ_U(r->issuers[1].n, 1);
	n_attrs = 0;
	issuer("CN", "Odd, Name * literal", 19);
	T_CHECK(rules_issuer_ok(r, attrs, n_attrs, NULL));
	n_attrs = 0;
	issuer("CN", "Odd, Name X literal", 19);	/* \* is a literal star */
	T_CHECK(!rules_issuer_ok(r, attrs, n_attrs, NULL));
	n_attrs = 0;
	issuer("CN", "Hash # not a comment", 20);
	T_CHECK(rules_issuer_ok(r, attrs, n_attrs, NULL));
	rules_free(rs);
}

static void
test_rules_glob(void)
{
	T_CHECK(rules_glob("*", 1, "", 0));
	T_CHECK(rules_glob("*", 1, "anything", 8));
	T_CHECK(rules_glob("a*c", 3, "abbbc", 5));
	T_CHECK(!rules_glob("a*c", 3, "abbbd", 5));
	T_CHECK(rules_glob("a?c", 3, "abc", 3));
	T_CHECK(!rules_glob("a?c", 3, "ac", 2));
	T_CHECK(rules_glob("*Server*", 8, "Apple Public Server RSA", 23));
	T_CHECK(rules_glob("a*b*c", 5, "aXbYbZc", 7));
	T_CHECK(!rules_glob("a*b*c", 5, "aXbYbZ", 6));
	T_CHECK(rules_glob("", 0, "", 0));
	T_CHECK(!rules_glob("", 0, "x", 1));
	T_CHECK(rules_glob("\\*", 2, "*", 1));
	T_CHECK(!rules_glob("\\*", 2, "x", 1));
	T_CHECK(rules_glob("x\\", 2, "x\\", 2));	/* a trailing backslash is literal */
	/* worst case for backtracking stays fast: many stars, no match */
	char s[2000];
	memset(s, 'a', sizeof(s));
	T_CHECK(!rules_glob("*a*a*a*a*a*a*a*a*b", 18, s, sizeof(s)));
}

/* Each error names the file and the line it is on. */
static void
expect_error(const char *text, const char *where, const char *what)
{
	struct rules *rs = parse(text);

	T_CHECK(rs == NULL);
	rules_free(rs);
	if (strncmp(err, where, strlen(where)) != 0 || strstr(err, what) == NULL) {
		T_CHECK(!"error message");
		fprintf(stderr, "  got \"%s\", wanted \"%s...%s\"\n", err, where, what);
	} else {
		T_CHECK(1);
	}
}

static void
test_rules_errors(void)
{
	expect_error("[a]\ndomains = a.example\nissuer = O=A\nfoo = bar\n", "t.rules:4:",
	    "unknown key 'foo'");
	expect_error("[a]\ndomains = a.example\nissuer = XX=foo\n", "t.rules:3:",
	    "unknown attribute 'XX'");
	expect_error("[a]\ndomains = a.*.example\nissuer = O=A\n", "t.rules:2:",
	    "'*' is only allowed");
	expect_error("domains = a.example\n", "t.rules:1:", "outside a [block]");
	expect_error("[a]\ndomains = a.example\n\n[b]\ndomains = b.example\nissuer = O=B\n",
	    "t.rules:1:", "checks nothing");
	expect_error("[a]\nissuer = O=A\n", "t.rules:1:", "no 'domains'");
	expect_error("[a]\ndomains = a.example\nissuer = O=A\n[a]\n", "t.rules:4:",
	    "defined twice");
	expect_error("[a]\ndomains = a.example\nissuer = O=A\nseverity = urgent\n",
	    "t.rules:4:", "severity 'urgent'");
	expect_error("[a]\ndomains = a.example\nissuer = O=A\nseverity = low\nseverity = low\n",
	    "t.rules:5:", "twice");
	expect_error("# nothing\n", "t.rules:", "no [block]");
	expect_error("[a b]\n", "t.rules:1:", "block name");
	expect_error("[a]\ndomains = -bad-..example\nissuer = O=A\n", "t.rules:2:",
	    "not a domain name");
	expect_error("[a]\ndomains = a.example\nissuer = O\n", "t.rules:3:", "ATTR=VALUE");
	expect_error("[a]\ndomains = a.example\nissuer = O=A\njust words\n", "t.rules:4:",
	    "expected");
	expect_error("[a]\ndomains = a.example\nissuer = O=A\n[b\n", "t.rules:4:", "[name]");
	expect_error("[a]\ndomains = a.ex\0ample\nissuer = O=A\n", "t.rules:", "");
	expect_error("[a]\ndomains =\nissuer = O=A\n", "t.rules:2:", "no domain");
	expect_error("[a]\ndomains = a.example\nissuer = O=\n", "t.rules:3:", "empty value for O");
}

static void
test_rules_shadowed_domain_warns(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *w = open_memstream(&buf, &len);
	const char *text = "[a]\ndomains = x.example\nissuer = O=A\n"
	    "[b]\ndomains = X.example.\nissuer = O=B\n";
	struct rules *rs = rules_parse(text, strlen(text), "t.rules", w, err, sizeof(err));

	fclose(w);
	T_CHECK(rs != NULL);
	T_CHECK(buf != NULL && strstr(buf, "tlsentry: t.rules:5: warning:") != NULL &&
	    strstr(buf, "[a]") != NULL);
	T_CHECK(rules_match(rs, "x.example", 9) == rules_get(rs, 0));
	rules_free(rs);
	free(buf);
}

/* Dotted OIDs mean the same attribute as their short names. */
static void
test_rules_oid_attributes(void)
{
	struct rules *rs = parse("[a]\ndomains = a.example\n"
	    "issuer = 2.5.4.10=Apple Inc., 2.5.4.3=Apple*\n");
	const struct rule *r = rules_get(rs, 0);

	T_CHECK(rs != NULL);
	if (rs == NULL)
		return;
	T_EQ_STR(r->issuers[0].c[0].attr, "O");
	T_EQ_STR(r->issuers[0].c[1].attr, "CN");
	n_attrs = 0;
	issuer("O", "Apple Inc.", 10);
	issuer("CN", "Apple Public Server RSA CA 12 - G1", 34);
	T_CHECK(rules_issuer_ok(r, attrs, n_attrs, NULL));
	rules_free(rs);
}

/* A wildcard name in a certificate is watched when a name it covers is. */
static void
test_rules_cert_wildcards(void)
{
	struct rules *rs = parse("[w]\ndomains = *.icloud.com\nissuer = O=A\n"
	    "[e]\ndomains = www.example.org\nissuer = O=B\n");

	T_CHECK(rs != NULL);
	if (rs == NULL)
		return;
	T_CHECK(rules_match_cert_name(rs, "*.icloud.com", 12) == rules_get(rs, 0));
	T_CHECK(rules_match_cert_name(rs, "*.p01.icloud.com", 16) == rules_get(rs, 0));
	T_CHECK(rules_match_cert_name(rs, "*.example.org", 13) == rules_get(rs, 1));
	T_CHECK(rules_match_cert_name(rs, "*.org", 5) == NULL);	/* covers no watched name */
	T_CHECK(rules_match_cert_name(rs, "*.x.example.org", 15) == NULL);
	T_CHECK(rules_match_cert_name(rs, "www.example.org", 15) == rules_get(rs, 1));
	T_CHECK(rules_match_cert_name(rs, "*.", 2) == NULL);
	T_CHECK(rules_match(rs, "*.icloud.com", 12) == NULL);	/* never from an SNI */
	rules_free(rs);
}

/* An earlier wildcard that decides every name of a later pattern is warned about. */
static void
test_rules_shadowed_by_wildcard_warns(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *w = open_memstream(&buf, &len);
	const char *text = "[a]\ndomains = *.icloud.com\nissuer = O=A\n"
	    "[b]\ndomains = www.icloud.com *.p1.icloud.com other.example\nissuer = O=B\n";
	struct rules *rs = rules_parse(text, strlen(text), "t.rules", w, err, sizeof(err));

	fclose(w);
	T_CHECK(rs != NULL);
	T_CHECK(buf != NULL && strstr(buf, "'www.icloud.com' is already covered") != NULL);
	T_CHECK(buf != NULL && strstr(buf, "'*.p1.icloud.com' is already covered") != NULL);
	T_CHECK(buf != NULL && strstr(buf, "other.example") == NULL);
	T_CHECK(rules_match(rs, "www.icloud.com", 14) == rules_get(rs, 0));
	rules_free(rs);
	free(buf);
}

/* Arbitrary bytes as a rules file: an error or rules, never a crash. */
static void
test_rules_garbage(void)
{
	uint32_t x = 7;
	char text[300];

	for (int round = 0; round < 2000; round++) {
		size_t n = 0;
		const char *seed = "[a]\ndomains = a.example *.b.example\nissuer = O=A, CN=B*\n";
		memcpy(text, seed, strlen(seed));
		n = strlen(seed);
		for (int i = 0; i < 4; i++) {	/* mutate a few bytes */
			x = x * 1103515245 + 12345;
			text[(x >> 8) % n] = (char)(x >> 20);
		}
		struct rules *rs = rules_parse(text, n, "fuzz", NULL, err, sizeof(err));
		if (rs != NULL)
			(void)rules_match(rs, "q.b.example", 11);
		rules_free(rs);
	}
	T_CHECK(1);
}

/* The keys of issue 6: pins, versions, trust, visibility, ignore, fingerprints, [defaults]. */
static void
test_rules_checks_and_defaults(void)
{
	const char *text =
	    "[defaults]\n"
	    "alert = untrusted-chain expired   # not hostname-mismatch\n"
	    "severity = low\n"
	    "[bank]\n"
	    "domains = bank.example\n"
	    "pin-sha256 = \"YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg=\"\n"
	    "pin-sha256 = 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
	    "min-version = TLS1.2\n"
	    "require-trusted = yes\n"
	    "require-visible = no\n"
	    "ignore = downgrade, weak-cipher\n"
	    "server-ja3s = 5D79EDF64E03689FF559A54E9D9487BC\n"
	    "severity = critical\n";
	struct rules *rs = parse(text);
	const struct rule *r;

	T_CHECK(rs != NULL);
	if (rs == NULL) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	T_EQ_U(rules_default_alerts(rs), R_BIT(R_UNTRUSTED_CHAIN) | R_BIT(R_EXPIRED));
	T_EQ_U(rules_default_severity(rs), SEV_LOW);
	T_EQ_U(rules_count(rs), 1);		/* [defaults] watches nothing */
	r = rules_match(rs, "bank.example", 12);
	T_CHECK(r != NULL);
	if (r != NULL) {
		T_EQ_U(r->n_pins, 2);
		T_CHECK(rules_pin_ok(r, "YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg="));
		T_CHECK(rules_pin_ok(r, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
		T_CHECK(!rules_pin_ok(r, "AAAAj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="));
		T_EQ_U(r->min_version, 0x0303);
		T_CHECK(r->require_trusted);
		T_CHECK(!r->require_visible);
		T_EQ_U(r->ignore, R_BIT(R_DOWNGRADE) | R_BIT(R_WEAK_CIPHER));
		T_EQ_U(r->n_ja3s, 1);
		T_EQ_STR(r->ja3s[0], "5d79edf64e03689ff559a54e9d9487bc");
		T_EQ_U(r->severity, SEV_CRITICAL);
		T_EQ_U(r->n_issuers, 0);		/* a pin-only block is valid */
	}
	rules_free(rs);

	/* no [defaults]: the built-in set; "alert = none" silences it */
	rs = parse("[a]\ndomains = a.example\nissuer = O=A\n");
	T_EQ_U(rules_default_alerts(rs), RULES_DEFAULT_ALERTS);
	rules_free(rs);
	rs = parse("[defaults]\nalert = none\n");	/* a file with only [defaults] is fine */
	T_CHECK(rs != NULL);
	T_EQ_U(rules_default_alerts(rs), 0);
	T_EQ_U(rules_count(rs), 0);
	rules_free(rs);

	for (int i = 0; i < R_N; i++) {		/* every reason's name reads back */
		enum rule_reason back;
		const char *name = rules_reason_str((enum rule_reason)i);
		T_CHECK(rules_reason_parse(name, strlen(name), &back) && back == (enum rule_reason)i);
	}

	expect_error("[defaults]\nalert = spam\n", "t.rules:2:", "'spam' is not a reason");
	expect_error("[defaults]\ndomains = a.example\n", "t.rules:2:", "in [defaults]");
	expect_error("[defaults]\n[defaults]\n", "t.rules:2:", "given twice");
	expect_error("[a]\ndomains = a.example\npin-sha256 = abc\n", "t.rules:3:", "44 characters");
	expect_error("[a]\ndomains = a.example\npin-sha256 = "
	    "!Lh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg=\n", "t.rules:3:", "outside base64");
	expect_error("[a]\ndomains = a.example\nmin-version = ssl3\n", "t.rules:3:", "min-version");
	expect_error("[a]\ndomains = a.example\nrequire-trusted = maybe\n", "t.rules:3:",
	    "yes or no");
	expect_error("[a]\ndomains = a.example\nserver-ja3s = xyz\n", "t.rules:3:", "32 hex");
	expect_error("[a]\ndomains = a.example\nrequire-visible = no\n", "t.rules:1:",
	    "checks nothing");
}

int
main(void)
{
	T_RUN(test_rules_match_domains);
	T_RUN(test_rules_issuer_constraints);
	T_RUN(test_rules_commas_and_escapes);
	T_RUN(test_rules_glob);
	T_RUN(test_rules_errors);
	T_RUN(test_rules_shadowed_domain_warns);
	T_RUN(test_rules_oid_attributes);
	T_RUN(test_rules_cert_wildcards);
	T_RUN(test_rules_shadowed_by_wildcard_warns);
	T_RUN(test_rules_garbage);
	T_RUN(test_rules_checks_and_defaults);
	T_SUMMARY();
}
