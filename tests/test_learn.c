/*
 * test_learn.c: registered domains, rules learned from certificates whose
 * issuer names are awkward (glob characters, commas, more attributes than a
 * rules line holds), and the trust-on-first-use state across a save and a
 * load, with an issuer name too long to keep as it is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../parser/cert.h"
#include "../rules/learn.h"
#include "../rules/rules.h"
#include "t.h"

/* A self-signed certificate whose issuer (and subject) has these entries. */
static struct cert_info *
make_cert(const char *const *attrs, const char *const *values, size_t n)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;
	struct cert_info *ci = NULL;
	int len;

	for (size_t i = 0; i < n; i++)
		X509_NAME_add_entry_by_txt(name, attrs[i], MBSTRING_UTF8,
		    (const unsigned char *)values[i], -1, -1, 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	if (X509_sign(x, key, EVP_sha256()) > 0 && (len = i2d_X509(x, &der)) > 0)
		ci = cert_decode(der, (size_t)len);
	OPENSSL_free(der);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	return ci;
}

/* learn_write's text, through the rules parser. */
static struct rules *
learned_rules(const struct learn *l, char **text)
{
	size_t len = 0;
	FILE *f = open_memstream(text, &len);
	char err[512] = "";
	struct rules *rs;

	learn_write(l, f, "test");
	fclose(f);
	rs = rules_parse(*text, len, "learned", NULL, err, sizeof(err));
	if (rs == NULL)
		fprintf(stderr, "  %s\n%s", err, *text);
	return rs;
}

static void
test_regdomain(void)
{
	char out[256];

	T_CHECK(regdomain("www.icloud.com", 14, out, sizeof(out)));
	T_EQ_STR(out, "icloud.com");
	T_CHECK(regdomain("P42-CalDAV.iCloud.COM.", 22, out, sizeof(out)));
	T_EQ_STR(out, "icloud.com");
	T_CHECK(regdomain("a.b.co.uk", 9, out, sizeof(out)));
	T_EQ_STR(out, "b.co.uk");
	T_CHECK(!regdomain("co.uk", 5, out, sizeof(out)));		/* a public suffix */
	T_CHECK(!regdomain("192.168.1.1", 11, out, sizeof(out)));	/* an address */
	T_CHECK(!regdomain("bad name.com", 12, out, sizeof(out)));
	T_CHECK(!regdomain("", 0, out, sizeof(out)));
}

/* Every byte a glob or the line format gives a meaning to survives the round trip. */
static void
test_learn_awkward_issuer(void)
{
	static const char *const a[] = { "C", "O", "OU", "CN" };
	static const char *const v[] = { "US", "Glob* Corp? [x]", "a\\b, O=fake", "CA #1, *" };
	static const char *const v2[] = { "US", "Globz Corp? [x]", "a\\b, O=fake", "CA #1, *" };
	struct cert_info *leaf = make_cert(a, v, 4), *other = make_cert(a, v2, 4);
	struct learn *l = learn_new();
	char *text = NULL;
	struct rules *rs;
	const struct rule *r;

	T_CHECK(leaf != NULL && other != NULL && l != NULL);
	if (leaf == NULL || other == NULL || l == NULL)
		return;
	learn_add(l, &(struct learn_sample){ .name = "www.example.com", .name_len = 15,
	    .leaf = leaf, .validated = true, .ts_s = 1700000000 });
	rs = learned_rules(l, &text);
	T_CHECK(rs != NULL);
	if (rs != NULL) {
		r = rules_match(rs, "mail.example.com", 16);
		T_CHECK(r != NULL);
		T_CHECK(r != NULL && rules_issuer_ok(r, leaf->issuer_attrs, leaf->n_issuer_attrs, NULL));
		T_CHECK(r != NULL && !rules_issuer_ok(r, other->issuer_attrs, other->n_issuer_attrs,
		    NULL));
		rules_free(rs);
	}
	free(text);
	learn_free(l);
	cert_info_free(leaf);
	cert_info_free(other);
}

/* More attributes than a rules line may hold: the first ones, still loadable. */
static void
test_learn_many_attributes(void)
{
	const char *a[24], *v[24];
	char vals[24][24];
	struct cert_info *leaf;
	struct learn *l = learn_new();
	char *text = NULL;
	struct rules *rs;

	for (int i = 0; i < 24; i++) {
		snprintf(vals[i], sizeof(vals[i]), "unit %d", i);
		a[i] = "OU";
		v[i] = vals[i];
	}
	leaf = make_cert(a, v, 24);
	T_CHECK(leaf != NULL && leaf->n_issuer_attrs == 24);
	if (leaf == NULL || l == NULL)
		return;
	learn_add(l, &(struct learn_sample){ .name = "www.example.org", .name_len = 15,
	    .leaf = leaf, .validated = true, .ts_s = 1700000000 });
	rs = learned_rules(l, &text);
	T_CHECK(rs != NULL);
	if (rs != NULL) {
		const struct rule *r = rules_match(rs, "www.example.org", 15);
		T_CHECK(r != NULL && rules_issuer_ok(r, leaf->issuer_attrs, leaf->n_issuer_attrs, NULL));
		rules_free(rs);
	}
	free(text);
	learn_free(l);
	cert_info_free(leaf);
}

/* An unvalidated chain teaches no issuer. */
static void
test_learn_unvalidated(void)
{
	static const char *const a[] = { "CN" };
	static const char *const v[] = { "Somebody" };
	struct cert_info *leaf = make_cert(a, v, 1);
	struct learn *l = learn_new();
	struct learn_stats st;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (leaf == NULL || l == NULL) {
		T_CHECK(!"setup");
		return;
	}
	learn_add(l, &(struct learn_sample){ .name = "www.example.net", .name_len = 15,
	    .leaf = leaf, .validated = false, .ts_s = 1700000000 });
	learn_stats(l, &st);
	T_EQ_U(st.n_samples, 1);
	T_EQ_U(st.n_validated, 0);
	f = open_memstream(&text, &len);
	learn_write(l, f, "test");
	fclose(f);
	T_CHECK(strstr(text, "\nissuer") == NULL);
	T_CHECK(strstr(text, "[example.net]") == NULL);	/* nothing to check: no block */
	free(text);
	learn_free(l);
	cert_info_free(leaf);
}

/* ignore = downgrade only where the servers always chose less */
static void
test_learn_downgrade(void)
{
	struct learn *l = learn_new();
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	struct learn_sample sm = { .ja3s = "0123456789abcdef0123456789abcdef", .ts_s = 1 };

	if (l == NULL)
		return;
	sm.client_offered_more = true;
	sm.name = "old.example.com", sm.name_len = 15;
	learn_add(l, &sm);
	learn_add(l, &sm);
	sm.name = "www.example.net", sm.name_len = 15;
	learn_add(l, &sm);
	sm.client_offered_more = false;
	learn_add(l, &sm);
	f = open_memstream(&text, &len);
	learn_write(l, f, "test");
	fclose(f);
	const char *com = strstr(text, "[example.com]"), *net = strstr(text, "[example.net]");
	T_CHECK(com != NULL && net != NULL);
	if (com != NULL && net != NULL) {
		const char *ign = strstr(text, "\nignore = downgrade\n");
		/* blocks are sorted: example.com's comes first, and has it */
		T_CHECK(ign != NULL && ign > com && ign < net);
		T_CHECK(strstr(net, "\nignore = downgrade\n") == NULL);
		T_CHECK(strstr(text, "in 1 of 2 handshakes") != NULL);
	}
	free(text);
	learn_free(l);
}

static void
test_tofu_round_trip(void)
{
	char path[] = "/tmp/test_learn_stateXXXXXX", err[512];
	char *long_dn = malloc(5000);
	struct tofu *t;
	int fd = mkstemp(path);

	T_CHECK(fd >= 0 && long_dn != NULL);
	if (fd < 0 || long_dn == NULL)
		return;
	close(fd);
	unlink(path);				/* a missing file is an empty state */
	memset(long_dn, 'x', 4999);
	memcpy(long_dn, "CN=", 3);
	long_dn[4999] = '\0';

	t = tofu_load(path, err, sizeof(err));
	T_CHECK(t != NULL);
	if (t == NULL)
		return;
	T_CHECK(!tofu_observe(t, "example.com", "CN=First CA", true, 1));	/* first use */
	T_CHECK(!tofu_observe(t, "example.com", "CN=First CA", true, 2));
	T_CHECK(tofu_observe(t, "example.com", "CN=Rogue", false, 3));	/* new, untrusted */
	T_CHECK(tofu_observe(t, "example.com", "CN=Rogue", false, 4));	/* ... not remembered */
	T_CHECK(tofu_observe(t, "example.com", long_dn, true, 5));		/* new, kept */
	T_CHECK(!tofu_observe(t, "example.com", long_dn, true, 6));
	T_CHECK(!tofu_observe(t, "other.org", "CN=Rogue", false, 7));	/* unknown domain */
	/* past the per-domain cap a new issuer is still new, every time */
	T_CHECK(!tofu_observe(t, "many.net", "CN=CA 0", true, 1));
	for (int i = 1; i < LEARN_PER_DOMAIN_MAX + 3; i++) {
		char dn[32];
		snprintf(dn, sizeof(dn), "CN=CA %d", i);
		T_CHECK(tofu_observe(t, "many.net", dn, true, 1));
	}
	T_CHECK(tofu_observe(t, "many.net", "CN=CA 17", true, 2));
	struct tofu_stats ts;
	tofu_stats(t, &ts);
	T_EQ_U(ts.n_domains, 2);
	T_CHECK(ts.n_refused >= 3);
	T_EQ_I(tofu_save(t, path, err, sizeof(err)), 0);
	tofu_free(t);

	t = tofu_load(path, err, sizeof(err));
	T_CHECK(t != NULL);
	if (t != NULL) {
		T_CHECK(!tofu_observe(t, "example.com", "CN=First CA", false, 8));
		T_CHECK(!tofu_observe(t, "example.com", long_dn, false, 9));
		T_CHECK(tofu_observe(t, "example.com", "CN=Rogue", false, 10));
		tofu_free(t);
	}
	unlink(path);
	free(long_dn);
}

int
main(void)
{
	T_RUN(test_regdomain);
	T_RUN(test_learn_awkward_issuer);
	T_RUN(test_learn_many_attributes);
	T_RUN(test_learn_unvalidated);
	T_RUN(test_learn_downgrade);
	T_RUN(test_tofu_round_trip);
	T_SUMMARY();
}
