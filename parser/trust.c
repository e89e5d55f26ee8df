/*
 * trust.c: chain validation and host names, through OpenSSL.
 *
 * Distrusts: the chain (it comes off the wire; OpenSSL verifies it against
 * the store loaded at start-up).  Owns: the store, the set of system roots
 * and the verdict cache.  Only cert.c and this file see OpenSSL's X509.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "digest.h"
#include "hashtab.h"
#include "trust.h"

/* A verdict remembered for one chain on one UTC day. */
struct verdict_entry {
	uint8_t key[40];		/* SHA-256 of the chain's hashes, then the day */
	struct trust_verdict v;
	bool used;
	UT_hash_handle hh;
};

/*
 * An issuer chain (the certificates a server sent after its leaf) that
 * verified whole, without a single error, on one UTC day: a later leaf under
 * it is checked against a store holding only its issuer, as a trust anchor
 * (X509_V_FLAG_PARTIAL_CHAIN), which checks the leaf's signature, validity,
 * purpose and the issuer's constraints on it, without verifying the issuer's
 * own signatures again (an RSA-4096 or P-384 signature costs 0.1-1 ms).
 * Only a clean result is taken; anything else is verified whole.
 */
struct tail_entry {
	uint8_t key[40];		/* SHA-256 of chain[1..n)'s hashes, then the day */
	X509_STORE *anchor;		/* holds chain[1] alone; reference counted */
	bool public_root;
	bool used;
	UT_hash_handle hh;
};

struct trust {
	X509_STORE *store;
	bool usable;
	uint8_t (*system_roots)[32];	/* SHA-256 of the system bundle's certificates, sorted */
	size_t n_system_roots;
	struct verdict_entry *table;	/* uthash over ring */
	struct verdict_entry *ring;	/* TRUST_CACHE_MAX, calloc'd: pages used as filled */
	size_t next;
	struct tail_entry *tails;	/* uthash over tail_ring */
	struct tail_entry *tail_ring;	/* TRUST_TAILS_MAX, calloc'd on first use */
	size_t tail_next;
	struct trust_stats st;
	pthread_mutex_t lock;	/* the cache and the counters: --workers share one store */
	bool has_lock;
};

static int
cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

static bool
der_sha256(X509 *x, uint8_t out[32])
{
	unsigned char *der = NULL;
	unsigned int len = 0;
	int n = i2d_X509(x, &der);
	bool ok = n > 0 && EVP_Digest(der, (size_t)n, out, &len, EVP_sha256(), NULL) == 1 &&
	    len == 32;

	OPENSSL_free(der);
	return ok;
}

/* Add every certificate of a PEM file to the store; note their hashes when
 * they are the system's.  -1 when the file cannot be opened. */
static int
load_pem(struct trust *t, const char *path, bool system, size_t *n_out)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x;
	size_t n = 0;

	*n_out = 0;
	if (b == NULL) {
		ERR_clear_error();
		return -1;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		uint8_t h[32];
		if (X509_STORE_add_cert(t->store, x) == 1)
			n++;
		if (system && der_sha256(x, h)) {
			uint8_t (*grown)[32] = realloc(t->system_roots,
			    (t->n_system_roots + 1) * sizeof(*t->system_roots));
			if (grown != NULL) {
				t->system_roots = grown;
				memcpy(t->system_roots[t->n_system_roots++], h, 32);
			}
		}
		X509_free(x);
	}
	ERR_clear_error();		/* the loop ends on "no start line" */
	BIO_free(b);
	*n_out = n;
	return 0;
}

struct trust *
trust_new(bool no_system, const char *const *bundles, size_t n, const char *capath, char *err,
    size_t errsz)
{
	struct trust *t = calloc(1, sizeof(*t));
	size_t got;

	if (t != NULL)
		t->has_lock = pthread_mutex_init(&t->lock, NULL) == 0;
	if (t == NULL || !t->has_lock || (t->store = X509_STORE_new()) == NULL) {
		snprintf(err, errsz, "out of memory for the CA store");
		trust_free(t);
		return NULL;
	}
	if (!no_system) {
		const char *env = getenv(X509_get_default_cert_file_env());
		const char *path = env != NULL && *env ? env : X509_get_default_cert_file();
		if (load_pem(t, path, true, &got) == 0)
			t->st.n_roots += got;
		if (t->n_system_roots > 0)
			qsort(t->system_roots, t->n_system_roots, 32, cmp_hash);
		t->st.n_system_roots = t->n_system_roots;
	}
	for (size_t i = 0; i < n; i++) {
		if (load_pem(t, bundles[i], false, &got) != 0) {
			snprintf(err, errsz, "%s: cannot read the CA bundle", bundles[i]);
			trust_free(t);
			return NULL;
		}
		if (got == 0) {
			snprintf(err, errsz, "%s: no PEM certificate in the CA bundle", bundles[i]);
			trust_free(t);
			return NULL;
		}
		t->st.n_roots += got;
	}
	if (capath != NULL) {
		struct stat sb;
		if (stat(capath, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
		    X509_STORE_load_path(t->store, capath) != 1) {
			ERR_clear_error();
			snprintf(err, errsz, "%s: cannot use it as a CA directory", capath);
			trust_free(t);
			return NULL;
		}
	}
	t->usable = t->st.n_roots > 0 || capath != NULL;
	return t;
}

void
trust_free(struct trust *t)
{
	if (t == NULL)
		return;
	HASH_CLEAR(hh, t->table);
	free(t->ring);
	HASH_CLEAR(hh, t->tails);
	for (size_t i = 0; t->tail_ring != NULL && i < TRUST_TAILS_MAX; i++)
		X509_STORE_free(t->tail_ring[i].anchor);
	free(t->tail_ring);
	free(t->system_roots);
	X509_STORE_free(t->store);
	if (t->has_lock)
		pthread_mutex_destroy(&t->lock);
	free(t);
}

bool
trust_usable(const struct trust *t)
{
	return t != NULL && t->usable;
}

/* OpenSSL's verify errors as stable short names. */
static const char *
error_name(int e)
{
	switch (e) {
	case X509_V_OK:					return "ok";
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:	return "unable-to-get-issuer";
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:	return "unable-to-verify-leaf-signature";
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:	return "self-signed";
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:	return "self-signed-in-chain";
	case X509_V_ERR_CERT_HAS_EXPIRED:		return "expired";
	case X509_V_ERR_CERT_NOT_YET_VALID:		return "not-yet-valid";
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:		return "bad-signature";
	case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:	return "bad-issuer-key";
	case X509_V_ERR_INVALID_CA:			return "invalid-ca";
	case X509_V_ERR_PATH_LENGTH_EXCEEDED:		return "path-length-exceeded";
	case X509_V_ERR_INVALID_PURPOSE:		return "invalid-purpose";
	case X509_V_ERR_CERT_REVOKED:			return "revoked";
	case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
	case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:	return "bad-validity-field";
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_EE_KEY_TOO_SMALL:		return "key-too-small";
	case X509_V_ERR_CA_MD_TOO_WEAK:			return "md-too-weak";
	case X509_V_ERR_CERT_CHAIN_TOO_LONG:		return "chain-too-long";
	case X509_V_ERR_UNHANDLED_CRITICAL_EXTENSION:	return "unhandled-critical-extension";
	case X509_V_ERR_PERMITTED_VIOLATION:
	case X509_V_ERR_EXCLUDED_VIOLATION:		return "name-constraints-violation";
	default:					return "other-error";
	}
}

static unsigned
error_bit(int e)
{
	switch (e) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:	return TRUST_E_UNTRUSTED;
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:	return TRUST_E_SELF_SIGNED;
	case X509_V_ERR_CERT_HAS_EXPIRED:		return TRUST_E_EXPIRED;
	case X509_V_ERR_CERT_NOT_YET_VALID:		return TRUST_E_NOT_YET_VALID;
	case X509_V_ERR_CERT_SIGNATURE_FAILURE:		return TRUST_E_BAD_SIGNATURE;
	default:					return TRUST_E_OTHER;
	}
}

/* Collects every error of one verification instead of stopping at the first. */
struct collect {
	int first, depth;
	unsigned errors;
};

static int
verify_cb(int ok, X509_STORE_CTX *ctx)
{
	struct collect *c = X509_STORE_CTX_get_app_data(ctx);
	int e = X509_STORE_CTX_get_error(ctx);

	if (ok || c == NULL)
		return ok;
	if (c->first == X509_V_OK) {
		c->first = e;
		c->depth = X509_STORE_CTX_get_error_depth(ctx);
	}
	c->errors |= error_bit(e);
	return 1;			/* go on: an untrusted chain may be expired too */
}

static bool
is_system_root(const struct trust *t, X509 *root)
{
	uint8_t h[32];

	return t->n_system_roots > 0 && der_sha256(root, h) &&
	    bsearch(h, t->system_roots, t->n_system_roots, 32, cmp_hash) != NULL;
}

/* No extension whose check depends on the leaf beyond its issuer's own. */
static bool
plain_ca(X509 *x)
{
	return X509_get_ext_by_NID(x, NID_name_constraints, -1) < 0 &&
	    X509_get_ext_by_NID(x, NID_sbgp_ipAddrBlock, -1) < 0 &&
	    X509_get_ext_by_NID(x, NID_sbgp_autonomousSysNum, -1) < 0 &&
	    X509_get_ext_by_NID(x, NID_policy_constraints, -1) < 0;
}

/*
 * After a clean whole verification: may its issuer chain serve later
 * leaves?  Yes when the path built is leaf, chain[1], then certificates
 * none of which constrains names or policies (those apply to the leaf
 * itself, and only the whole path checks them).
 */
static bool
tail_reusable(X509_STORE_CTX *ctx, struct cert_info *const *chain, size_t n)
{
	STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
	int k = built ? sk_X509_num(built) : 0;

	if (n < 2 || chain[1] == NULL || chain[1]->x509 == NULL || k < 2 ||
	    X509_cmp(sk_X509_value(built, 1), chain[1]->x509) != 0)
		return false;
	for (int i = 1; i < k; i++)
		if (!plain_ca(sk_X509_value(built, i)))
			return false;
	return true;
}

static void tail_put(struct trust *t, const uint8_t key[40], X509 *issuer, bool public_root);

static void
verify_now(struct trust *t, struct cert_info *const *chain, size_t n, int64_t at_s,
    const uint8_t tail_key[40], struct trust_verdict *out)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	struct collect c = { .first = X509_V_OK, .depth = -1 };
	int rc = -1;

	if (ctx == NULL || untrusted == NULL)
		goto done;
	for (size_t i = 1; i < n; i++)
		if (chain[i] != NULL && chain[i]->x509 != NULL)
			(void)sk_X509_push(untrusted, chain[i]->x509);	/* borrowed */
	if (X509_STORE_CTX_init(ctx, t->store, chain[0]->x509, untrusted) != 1)
		goto done;
	X509_STORE_CTX_set_app_data(ctx, &c);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)at_s);
	rc = X509_verify_cert(ctx);
	if (rc == 1 && c.errors == 0) {
		STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(ctx);
		int k = built ? sk_X509_num(built) : 0;
		out->public_root = k > 0 && is_system_root(t, sk_X509_value(built, k - 1));
		if (tail_key != NULL && tail_reusable(ctx, chain, n)) {
			(void)pthread_mutex_lock(&t->lock);
			tail_put(t, tail_key, chain[1]->x509, out->public_root);
			(void)pthread_mutex_unlock(&t->lock);
		}
	}
done:
	if (rc < 0 && c.first == X509_V_OK) {	/* could not even start */
		c.first = X509_V_ERR_UNSPECIFIED;
		c.errors = TRUST_E_OTHER;
	}
	out->checked = true;
	out->status = error_name(c.first);
	out->depth = c.first == X509_V_OK ? -1 : c.depth;
	out->errors = c.errors;
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
}

static void
cache_key(struct cert_info *const *chain, size_t n, int64_t day, uint8_t key[40])
{
	EVP_MD_CTX *md = NULL;
	unsigned int len = 0;
	uint8_t cat[16 * 32];

	memset(key, 0, 40);
	if (n <= 16) {			/* the usual chain: one digest of the hashes side by side */
		for (size_t i = 0; i < n; i++)
			memcpy(cat + 32 * i, chain[i]->sha256, 32);
		(void)dg_sha256(cat, 32 * n, key);
		memcpy(key + 32, &day, sizeof(day));
		return;
	}
	md = EVP_MD_CTX_new();
	if (md != NULL && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1) {
		for (size_t i = 0; i < n; i++)
			(void)EVP_DigestUpdate(md, chain[i]->sha256, 32);
		(void)EVP_DigestFinal_ex(md, key, &len);
	}
	EVP_MD_CTX_free(md);
	memcpy(key + 32, &day, sizeof(day));
}

/* Under t->lock.  A store holding issuer alone, as a trust anchor. */
static void
tail_put(struct trust *t, const uint8_t key[40], X509 *issuer, bool public_root)
{
	struct tail_entry *x = NULL;
	X509_STORE *anchor;
	X509 *copy;
	unsigned char *der = NULL;
	const unsigned char *q;
	int der_len;

	HASH_FIND(hh, t->tails, key, 40, x);
	if (x != NULL)
		return;
	if (t->tail_ring == NULL &&
	    (t->tail_ring = calloc(TRUST_TAILS_MAX, sizeof(*t->tail_ring))) == NULL)
		return;
	/*
	 * A copy decoded in the default library context: the issuer may come
	 * from a --workers thread's own context, which ends before this store.
	 */
	der_len = i2d_X509(issuer, &der);
	q = der;
	copy = der_len > 0 ? d2i_X509(NULL, &q, der_len) : NULL;
	OPENSSL_free(der);
	anchor = copy != NULL ? X509_STORE_new() : NULL;
	if (anchor == NULL || X509_STORE_add_cert(anchor, copy) != 1) {
		X509_STORE_free(anchor);
		X509_free(copy);
		ERR_clear_error();
		return;
	}
	X509_free(copy);		/* the store holds its own reference */
	x = &t->tail_ring[t->tail_next];
	t->tail_next = (t->tail_next + 1) % TRUST_TAILS_MAX;
	if (x->used)
		HASH_DEL(t->tails, x);
	X509_STORE_free(x->anchor);
	memset(x, 0, sizeof(*x));
	memcpy(x->key, key, 40);
	x->anchor = anchor;
	x->public_root = public_root;
	hashtab_oom = 0;
	HASH_ADD(hh, t->tails, key, sizeof(x->key), x);
	x->used = !hashtab_oom;
}

/*
 * The leaf against its issuer alone (see struct tail_entry); true, with the
 * verdict, only when that verification found nothing at all.
 */
static bool
verify_leaf(struct trust *t, X509 *leaf, X509_STORE *anchor, bool public_root, int64_t at_s,
    struct trust_verdict *out)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	struct collect c = { .first = X509_V_OK, .depth = -1 };
	bool ok = false;

	if (ctx != NULL && X509_STORE_CTX_init(ctx, anchor, leaf, NULL) == 1) {
		X509_STORE_CTX_set_app_data(ctx, &c);
		X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
		X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
		X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)at_s);
		ok = X509_verify_cert(ctx) == 1 && c.errors == 0 && c.first == X509_V_OK;
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	if (ok) {
		out->checked = true;
		out->status = error_name(X509_V_OK);
		out->depth = -1;
		out->errors = 0;
		out->public_root = public_root;
	}
	(void)t;
	return ok;
}

static void
cache_put(struct trust *t, const uint8_t key[40], const struct trust_verdict *v)
{
	struct verdict_entry *x;

	if (t->ring == NULL && (t->ring = calloc(TRUST_CACHE_MAX, sizeof(*t->ring))) == NULL)
		return;
	x = &t->ring[t->next];
	t->next = (t->next + 1) % TRUST_CACHE_MAX;
	if (x->used)
		HASH_DEL(t->table, x);
	memcpy(x->key, key, sizeof(x->key));
	x->v = *v;
	hashtab_oom = 0;
	HASH_ADD(hh, t->table, key, sizeof(x->key), x);
	x->used = !hashtab_oom;
}

void
trust_verify(struct trust *t, struct cert_info *const *chain, size_t n, int64_t at_s,
    struct trust_verdict *out)
{
	struct verdict_entry *hit = NULL;
	struct tail_entry *tail;
	X509_STORE *anchor = NULL;
	bool public_root = false;
	uint8_t key[40], tail_key[40];
	int64_t day = at_s >= 0 ? at_s / 86400 : -1 - (-1 - at_s) / 86400;

	memset(out, 0, sizeof(*out));
	out->status = "not-checked";
	out->depth = -1;
	if (!trust_usable(t) || n == 0 || chain[0] == NULL || chain[0]->x509 == NULL)
		return;
	cache_key(chain, n, day, key);
	(void)pthread_mutex_lock(&t->lock);
	HASH_FIND(hh, t->table, key, sizeof(key), hit);
	if (hit != NULL) {
		*out = hit->v;
		out->cached = true;
		t->st.n_cached++;
		(void)pthread_mutex_unlock(&t->lock);
		return;
	}
	tail = NULL;
	if (n >= 2 && chain[1] != NULL && chain[1]->x509 != NULL) {
		cache_key(chain + 1, n - 1, day, tail_key);
		HASH_FIND(hh, t->tails, tail_key, sizeof(tail_key), tail);
		if (tail != NULL && X509_STORE_up_ref(tail->anchor) == 1) {
			anchor = tail->anchor;
			public_root = tail->public_root;
		}
	}
	(void)pthread_mutex_unlock(&t->lock);
	/* outside the lock: the stores are OpenSSL's, safe to share between threads */
	if (anchor != NULL) {
		bool done = verify_leaf(t, chain[0]->x509, anchor, public_root, at_s, out);
		X509_STORE_free(anchor);
		(void)pthread_mutex_lock(&t->lock);
		t->st.n_leaf_only += done;
		(void)pthread_mutex_unlock(&t->lock);
		if (!done)
			verify_now(t, chain, n, at_s, NULL, out);
	} else {
		verify_now(t, chain, n, at_s, n >= 2 ? tail_key : NULL, out);
	}
	(void)pthread_mutex_lock(&t->lock);
	t->st.n_verified++;
	HASH_FIND(hh, t->table, key, sizeof(key), hit);
	if (hit == NULL)		/* another worker may have put it meanwhile */
		cache_put(t, key, out);
	(void)pthread_mutex_unlock(&t->lock);
}

static bool
eq_nocase(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

static bool
ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-';
}

/* After "*.": LDH labels, at least two, none empty (what OpenSSL accepts as a wildcard). */
static bool
wild_rest_ok(const char *r, size_t n)
{
	size_t dots = 0;

	for (size_t i = 0; i < n; i++) {
		if (r[i] == '.') {
			if (i == 0 || r[i - 1] == '.' || i == n - 1)
				return false;
			dots++;
		} else if (!ldh((unsigned char)r[i])) {
			return false;
		}
	}
	return dots > 0;
}

/*
 * The common matches decided from the DNS names the cache already holds,
 * without OpenSSL decoding the subjectAltName extension again for every
 * handshake: the name equals a DNS SAN (ignoring case), or a SAN "*.rest"
 * with at least two labels in rest covers it by one plain LDH label that is
 * not an A-label.  These are matches X509_check_host() makes too with
 * X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS; anything else (no match here, IP
 * names, a CN fallback, odd characters) is left to it, so the answer is
 * always OpenSSL's.
 */
static bool
host_fast_match(const struct cert_info *leaf, const char *name, size_t len)
{
	size_t first = 0;

	while (first < len && ldh((unsigned char)name[first]))
		first++;
	for (size_t i = 0; i < leaf->n_sans; i++) {
		const struct cert_san *s = &leaf->sans[i];
		const char *v = s->value.p;
		size_t vl = s->value.len;

		if (s->type != SAN_DNS || vl == 0 || memchr(v, '\0', vl) != NULL)
			continue;
		if (vl == len && v[0] != '*' && memchr(v, '*', vl) == NULL &&
		    eq_nocase(v, name, len))
			return true;
		if (vl > 2 && v[0] == '*' && v[1] == '.' && wild_rest_ok(v + 2, vl - 2) &&
		    first > 0 && first < len && name[first] == '.' &&
		    !(first >= 4 && eq_nocase(name, "xn--", 4)) &&
		    len - first == vl - 1 && eq_nocase(v + 1, name + first, vl - 1))
			return true;
	}
	return false;
}

enum trust_host
trust_check_host(const struct cert_info *leaf, const char *name, size_t len)
{
	int rc;

	if (leaf == NULL || leaf->x509 == NULL)
		return TRUST_HOST_NOT_CHECKED;
	if (name == NULL || len == 0 || memchr(name, '\0', len) != NULL)
		return TRUST_HOST_NO_SNI;
	if (host_fast_match(leaf, name, len))
		return TRUST_HOST_OK;
	rc = X509_check_host(leaf->x509, name, len, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL);
	ERR_clear_error();
	return rc == 1 ? TRUST_HOST_OK : TRUST_HOST_MISMATCH;
}

void
trust_stats(struct trust *t, struct trust_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (t != NULL) {
		(void)pthread_mutex_lock(&t->lock);
		*out = t->st;
		(void)pthread_mutex_unlock(&t->lock);
	}
}

const char *
trust_host_str(enum trust_host h)
{
	switch (h) {
	case TRUST_HOST_OK:		return "ok";
	case TRUST_HOST_MISMATCH:	return "mismatch";
	case TRUST_HOST_NO_SNI:		return "no-sni";
	case TRUST_HOST_NOT_CHECKED:	break;
	}
	return "not-checked";
}
