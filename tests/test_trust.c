/*
 * test_trust.c: chain validation through parser/trust.c, in particular the
 * shortcut for a new leaf under an issuer chain that verified clean the
 * same day (struct tail_entry): its verdict must be the one a whole
 * verification gives, whatever the leaf (good, expired, weak, self-signed,
 * a wrong issuer).  Certificates: samples/certs-judge/ (make-judge.sh), the
 * leaves issued by judge-int.pem under judge-root.pem.
 */
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "../parser/cert.h"
#include "../parser/trust.h"
#include "t.h"

#define DIR "samples/certs-judge/"

static const char *const leaves[] = {
	"good.pem", "expired.pem", "weak.pem", "sha1.pem", "wild.pem", "multi.pem",
	"twoday.pem", "long.pem", "self.pem", "stranger.pem", "lgood.pem", "lrogue.pem",
};

/* The first certificate of a PEM file, decoded by cert.c; NULL if unreadable. */
static struct cert_info *
load(const char *name)
{
	char path[256];
	FILE *f;
	X509 *x;
	unsigned char *der = NULL;
	int n;
	struct cert_info *ci = NULL;

	snprintf(path, sizeof(path), DIR "%s", name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x != NULL && (n = i2d_X509(x, &der)) > 0)
		ci = cert_decode(der, (size_t)n);
	OPENSSL_free(der);
	X509_free(x);
	return ci;
}

static struct trust *
store(void)
{
	const char *bundle[] = { DIR "judge-root.pem" };
	char err[256];

	return trust_new(true, bundle, 1, NULL, err, sizeof(err));
}

static void
same_verdict(const struct trust_verdict *a, const struct trust_verdict *b)
{
	T_EQ_U(a->checked, b->checked);
	T_EQ_STR(a->status, b->status);
	T_EQ_I(a->depth, b->depth);
	T_EQ_U(a->errors, b->errors);
	T_EQ_U(a->public_root, b->public_root);
}

/*
 * Warm one store with good.pem (whole verification, clean: its issuer
 * chain is remembered), then every leaf under the same issuer chain the
 * same day against it and against a fresh store (a whole verification).
 */
static void
test_trust_leaf_only_as_whole(void)
{
	struct cert_info *inter = load("judge-int.pem"), *good = load("good.pem");
	struct trust *warm = store();
	struct trust_verdict v, w;
	struct trust_stats st;
	int64_t at;
	size_t n_ok = 0;

	T_CHECK(inter != NULL && good != NULL && warm != NULL);
	if (inter == NULL || good == NULL || warm == NULL)
		goto out;
	at = good->not_before_s + 3600;	/* an hour into the good leaf's life */
	trust_verify(warm, (struct cert_info *const[]){ good, inter }, 2, at, &v);
	T_EQ_STR(v.status, "ok");
	trust_stats(warm, &st);
	T_EQ_U(st.n_leaf_only, 0);
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		struct cert_info *leaf = load(leaves[i]);
		struct trust *fresh = store();
		if (leaf == NULL || fresh == NULL || leaf->x509 == NULL) {
			cert_info_free(leaf);
			trust_free(fresh);
			continue;
		}
		trust_verify(warm, (struct cert_info *const[]){ leaf, inter }, 2, at, &v);
		trust_verify(fresh, (struct cert_info *const[]){ leaf, inter }, 2, at, &w);
		same_verdict(&v, &w);
		if (strcmp(w.status, "ok") == 0 && !v.cached)	/* good.pem: the cache */
			n_ok++;
		cert_info_free(leaf);
		trust_free(fresh);
	}
	trust_stats(warm, &st);
	/* every other clean leaf went the short way */
	T_EQ_U(st.n_leaf_only, n_ok);
	T_CHECK(n_ok >= 2);
	/* another day: the issuer chain is verified whole again */
	trust_verify(warm, (struct cert_info *const[]){ good, inter }, 2, at + 86400, &v);
	trust_stats(warm, &st);
	T_EQ_U(st.n_leaf_only, n_ok);
out:
	trust_free(warm);
	cert_info_free(good);
	cert_info_free(inter);
}

int
main(void)
{
	T_RUN(test_trust_leaf_only_as_whole);
	T_SUMMARY();
}
