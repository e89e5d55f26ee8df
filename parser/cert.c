/*
 * cert.c: DER certificates -> struct cert_info, through OpenSSL, cached.
 *
 * Distrusts: the DER (it comes off the wire; OpenSSL parses it, and every
 * string taken out of it is length-capped and kept with its length, since
 * names can hold NUL).  Owns: the cache and its entries.  No OpenSSL type
 * or OpenSSL-allocated string outlives a call.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cert.h"
#include "digest.h"

struct cert_cache {
	struct cert_info *table;	/* uthash, by sha256 */
	struct cert_info *lru_head;	/* unreferenced entries, oldest first */
	struct cert_info *lru_tail;
	size_t n_unref, bytes_unref;
	size_t max_entries, max_bytes;
	struct memcap *mem;
	struct cert_stats st;
	void *libctx;		/* OSSL_LIB_CTX decoding goes through; NULL: the default */
};


int
cert_init(void)
{
	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1 || !dg_init())
		return -1;
	return 0;
}


/* Own a copy of p[0..len), cut at cap; NUL-terminated. */
static bool
str_set(struct cert_str *s, const void *p, size_t len, size_t cap, size_t *mem)
{
	if (len > cap)
		len = cap;
	s->p = malloc(len + 1);
	if (s->p == NULL)
		return false;
	if (len > 0)
		memcpy(s->p, p, len);
	s->p[len] = '\0';
	s->len = len;
	*mem += len + 1;
	return true;
}

/* RFC 2253 text of a name, as `openssl x509 -nameopt RFC2253` prints it. */
static char *
name_rfc2253(const X509_NAME *name, size_t *mem)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *out = NULL;
	long n;

	if (bio == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0)
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n < 0)
		goto out;
	if ((size_t)n > CERT_STR_MAX)
		n = CERT_STR_MAX;
	out = malloc((size_t)n + 1);
	if (out == NULL)
		goto out;
	if (n > 0)
		memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*mem += (size_t)n + 1;
out:
	BIO_free(bio);
	return out;
}

/* Every attribute of a name, in DER order, values as UTF-8. */
static bool
name_attrs(const X509_NAME *name, struct cert_attr **out, size_t *n_out, size_t *mem)
{
	int n = X509_NAME_entry_count(name);
	struct cert_attr *a;

	*out = NULL;
	*n_out = 0;
	if (n <= 0)
		return true;
	if (n > CERT_ATTR_MAX)
		n = CERT_ATTR_MAX;
	a = calloc((size_t)n, sizeof(*a));
	if (a == NULL)
		return false;
	*out = a;
	*mem += (size_t)n * sizeof(*a);
	for (int i = 0; i < n; i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
		const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
		const ASN1_STRING *val = X509_NAME_ENTRY_get_data(e);
		int nid = OBJ_obj2nid(obj);
		unsigned char *utf8 = NULL;
		int len;

		if (nid != NID_undef)
			snprintf(a[i].name, sizeof(a[i].name), "%s", OBJ_nid2sn(nid));
		else if (OBJ_obj2txt(a[i].name, sizeof(a[i].name), obj, 1) <= 0)
			snprintf(a[i].name, sizeof(a[i].name), "?");
		len = ASN1_STRING_to_UTF8(&utf8, val);
		bool ok = len >= 0 ? str_set(&a[i].value, utf8, (size_t)len, CERT_VALUE_MAX, mem) :
		    str_set(&a[i].value, ASN1_STRING_get0_data(val),
			(size_t)ASN1_STRING_length(val), CERT_VALUE_MAX, mem);
		OPENSSL_free(utf8);
		*n_out = (size_t)i + 1;
		if (!ok)
			return false;
	}
	return true;
}

/* subjectAltName dNSName and iPAddress entries (RFC 5280 s4.2.1.6). */
static bool
read_sans(X509 *x, struct cert_info *ci)
{
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int n;
	bool ok = true;

	if (gens == NULL)
		return true;
	n = sk_GENERAL_NAME_num(gens);
	size_t n_keep = n > CERT_SAN_MAX ? CERT_SAN_MAX : (size_t)(n > 0 ? n : 0);
	ci->sans = calloc(n_keep ? n_keep : 1, sizeof(*ci->sans));
	if (ci->sans == NULL) {
		GENERAL_NAMES_free(gens);
		return false;
	}
	ci->mem += n_keep * sizeof(*ci->sans);
	for (int i = 0; i < n && ok; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		struct cert_san *s = &ci->sans[ci->n_sans];
		char ip[INET6_ADDRSTRLEN];
		int type;
		const ASN1_STRING *v = GENERAL_NAME_get0_value(g, &type);

		if (type != GEN_DNS && type != GEN_IPADD)
			continue;
		ci->n_sans_total++;
		if (ci->n_sans == CERT_SAN_MAX)
			continue;
		if (type == GEN_DNS) {
			s->type = SAN_DNS;
			ok = str_set(&s->value, ASN1_STRING_get0_data(v),
			    (size_t)ASN1_STRING_length(v), CERT_VALUE_MAX, &ci->mem);
		} else {
			int af = ASN1_STRING_length(v) == 4 ? AF_INET :
			    ASN1_STRING_length(v) == 16 ? AF_INET6 : 0;
			if (af == 0 || inet_ntop(af, ASN1_STRING_get0_data(v), ip, sizeof(ip)) == NULL)
				continue;	/* not an address (a name constraint form) */
			s->type = SAN_IP;
			ok = str_set(&s->value, ip, strlen(ip), CERT_VALUE_MAX, &ci->mem);
		}
		if (ok)
			ci->n_sans++;
	}
	GENERAL_NAMES_free(gens);
	return ok;
}

/* An ASN.1 time as seconds since the epoch; INT64_MIN when unreadable. */
static int64_t
epoch_of(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return INT64_MIN;
	return (int64_t)timegm(&tm);
}

static void
format_time(const ASN1_TIME *t, char *out, size_t outsz)
{
	struct tm tm;

	out[0] = '\0';
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return;
	snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.000Z", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
read_serial(X509 *x, struct cert_info *ci)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *hex = bn ? BN_bn2hex(bn) : NULL;

	if (hex != NULL)
		snprintf(ci->serial, sizeof(ci->serial), "%s", hex);
	OPENSSL_free(hex);
	BN_free(bn);
}

static void
read_algorithms(X509 *x, struct cert_info *ci)
{
	const X509_ALGOR *alg = NULL;
	const ASN1_OBJECT *obj = NULL;
	int nid = X509_get_signature_nid(x);

	if (nid != NID_undef) {
		snprintf(ci->sig_alg, sizeof(ci->sig_alg), "%s", OBJ_nid2ln(nid));
	} else {
		X509_get0_signature(NULL, &alg, x);
		if (alg != NULL) {
			X509_ALGOR_get0(&obj, NULL, NULL, alg);
			OBJ_obj2txt(ci->sig_alg, sizeof(ci->sig_alg), obj, 1);
		}
	}

	/* The key: OpenSSL's name when it can load it, else the algorithm OID. */
	EVP_PKEY *pkey = X509_get0_pubkey(x);
	if (pkey != NULL) {
		const char *name = EVP_PKEY_get0_type_name(pkey);
		snprintf(ci->key_alg, sizeof(ci->key_alg), "%s", name ? name : "?");
		ci->key_bits = EVP_PKEY_get_bits(pkey);
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
		    ci->key_curve, sizeof(ci->key_curve), NULL))
			ci->key_curve[0] = '\0';
	} else {
		X509_PUBKEY *pub = X509_get_X509_PUBKEY(x);
		ASN1_OBJECT *kobj = NULL;
		if (pub != NULL && X509_PUBKEY_get0_param(&kobj, NULL, NULL, NULL, pub) == 1)
			OBJ_obj2txt(ci->key_alg, sizeof(ci->key_alg), kobj, 1);
	}
}

/* RFC 7469 s2.4: base64(SHA-256(SubjectPublicKeyInfo DER)). */
static void
read_spki_pin(X509 *x, struct cert_info *ci)
{
	unsigned char *spki = NULL;
	uint8_t h[32];
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);

	if (n > 0 && dg_sha256(spki, (size_t)n, h))
		EVP_EncodeBlock((unsigned char *)ci->spki_pin, h, sizeof(h));
	OPENSSL_free(spki);
}

static bool
fill_from_x509(X509 *x, struct cert_info *ci)
{
	const X509_NAME *subj = X509_get_subject_name(x), *iss = X509_get_issuer_name(x);

	ci->subject = name_rfc2253(subj, &ci->mem);
	ci->issuer = name_rfc2253(iss, &ci->mem);
	if (ci->subject == NULL || ci->issuer == NULL ||
	    !name_attrs(subj, &ci->subject_attrs, &ci->n_subject_attrs, &ci->mem) ||
	    !name_attrs(iss, &ci->issuer_attrs, &ci->n_issuer_attrs, &ci->mem) ||
	    !read_sans(x, ci))
		return false;
	read_serial(x, ci);
	format_time(X509_get0_notBefore(x), ci->not_before, sizeof(ci->not_before));
	format_time(X509_get0_notAfter(x), ci->not_after, sizeof(ci->not_after));
	read_algorithms(x, ci);
	read_spki_pin(x, ci);
	ci->version = (int)X509_get_version(x) + 1;
	ci->self_issued = X509_NAME_cmp(subj, iss) == 0;	/* RFC 5280 s3.2: same name */
	ci->not_before_s = epoch_of(X509_get0_notBefore(x));
	ci->not_after_s = epoch_of(X509_get0_notAfter(x));
	ci->is_ca = X509_check_ca(x) != 0;
	ci->has_scts = X509_get_ext_by_NID(x, NID_ct_precert_scts, -1) >= 0;
	return true;
}

struct cert_info *
cert_decode(const uint8_t *der, size_t len)
{
	return cert_decode_ex(der, len, NULL);
}

struct cert_info *
cert_decode_ex(const uint8_t *der, size_t len, void *libctx)
{
	struct cert_info *ci = NULL;
	const unsigned char *q = der;
	X509 *x = NULL;

	if (!dg_init() || len > (size_t)LONG_MAX)
		return NULL;
	ci = calloc(1, sizeof(*ci));
	if (ci == NULL)
		return NULL;
	ci->mem = sizeof(*ci);
	ci->der_len = len;
	if (!dg_sha256(der, len, ci->sha256) || !dg_sha1(der, len, ci->sha1))
		goto fail;
	ci->not_before_s = ci->not_after_s = INT64_MIN;
	if (libctx != NULL) {
		/* OpenSSL 3.0 builds a decoder for the key of every certificate
		 * from the providers of the X509's library context, under that
		 * context's locks: a context per thread keeps threads apart */
		X509 *fresh = X509_new_ex(libctx, NULL);
		x = fresh != NULL ? d2i_X509(&fresh, &q, (long)len) : NULL;
		if (x == NULL)
			X509_free(fresh);
	} else {
		x = d2i_X509(NULL, &q, (long)len);
	}
	if (x != NULL && q == der + len) {	/* must use exactly the bytes sent */
		ci->decoded = true;
		if (!fill_from_x509(x, ci))
			goto fail;
		/* kept for chain checks; what OpenSSL holds for it is about
		 * twice the DER plus its fixed structures */
		ci->x509 = x;
		ci->mem += 2 * len + CERT_X509_OVERHEAD;
		return ci;
	}
	X509_free(x);
	return ci;
fail:
	X509_free(x);
	cert_info_free(ci);
	return NULL;
}

static void
attrs_free(struct cert_attr *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i].value.p);
	free(a);
}

void
cert_info_free(struct cert_info *ci)
{
	if (ci == NULL)
		return;
	free(ci->subject);
	free(ci->issuer);
	attrs_free(ci->subject_attrs, ci->n_subject_attrs);
	attrs_free(ci->issuer_attrs, ci->n_issuer_attrs);
	for (size_t i = 0; i < ci->n_sans; i++)
		free(ci->sans[i].value.p);
	free(ci->sans);
	X509_free(ci->x509);
	free(ci);
}

const struct cert_str *
cert_attr_first(const struct cert_attr *attrs, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(attrs[i].name, name) == 0)
			return &attrs[i].value;
	return NULL;
}

/* --- cache ------------------------------------------------------------- */

struct cert_cache *
cert_cache_new(size_t max_entries, size_t max_bytes, struct memcap *mem)
{
	struct cert_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->mem = mem;
	c->max_entries = max_entries ? max_entries : CERT_CACHE_MAX;
	c->max_bytes = max_bytes ? max_bytes : CERT_CACHE_BYTES;
	return c;
}

/* A library context and the provider loaded into it (unloaded before it is freed). */
struct crypto_ctx {
	OSSL_LIB_CTX *lib;
	OSSL_PROVIDER *prov;
};

void
cert_cache_set_libctx(struct cert_cache *c, void *cctx)
{
	c->libctx = cctx != NULL ? ((struct crypto_ctx *)cctx)->lib : NULL;
}

void *
cert_libctx_new(void)
{
	struct crypto_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	if ((c->lib = OSSL_LIB_CTX_new()) == NULL ||
	    (c->prov = OSSL_PROVIDER_load(c->lib, "default")) == NULL) {
		OSSL_LIB_CTX_free(c->lib);
		free(c);
		c = NULL;
	}
	ERR_clear_error();
	return c;
}

void
cert_libctx_free(void *cctx)
{
	struct crypto_ctx *c = cctx;

	if (c == NULL)
		return;
	(void)OSSL_PROVIDER_unload(c->prov);
	OSSL_LIB_CTX_free(c->lib);
	free(c);
}

static void
lru_unlink(struct cert_cache *c, struct cert_info *ci)
{
	if (ci->lru_prev)
		ci->lru_prev->lru_next = ci->lru_next;
	else
		c->lru_head = ci->lru_next;
	if (ci->lru_next)
		ci->lru_next->lru_prev = ci->lru_prev;
	else
		c->lru_tail = ci->lru_prev;
	ci->lru_prev = ci->lru_next = NULL;
	c->n_unref--;
	c->bytes_unref -= ci->mem;
}

static void
lru_append(struct cert_cache *c, struct cert_info *ci)
{
	ci->lru_prev = c->lru_tail;
	ci->lru_next = NULL;
	if (c->lru_tail)
		c->lru_tail->lru_next = ci;
	else
		c->lru_head = ci;
	c->lru_tail = ci;
	c->n_unref++;
	c->bytes_unref += ci->mem;
}

static void
evict_oldest(struct cert_cache *c)
{
	struct cert_info *old = c->lru_head;

	lru_unlink(c, old);
	HASH_DEL(c->table, old);	/* NOLINT(clang-analyzer-core.NullDereference): see flow.c */
	memcap_give(c->mem, old->mem);
	cert_info_free(old);
	c->st.n_evicted++;
}

static void
evict_over_cap(struct cert_cache *c)
{
	while (c->lru_head != NULL &&
	    (c->n_unref > c->max_entries || c->bytes_unref > c->max_bytes))
		evict_oldest(c);
}

/* Charge a new entry to the budget, making room from unreferenced ones. */
static bool
charge(struct cert_cache *c, size_t n)
{
	while (!memcap_take(c->mem, n)) {
		if (c->lru_head == NULL)
			return false;
		evict_oldest(c);
	}
	return true;
}

struct cert_info *
cert_get(struct cert_cache *c, const uint8_t *der, size_t len)
{
	struct cert_info *ci = NULL;
	uint8_t h[32];

	c->st.n_lookups++;
	if (!dg_sha256(der, len, h)) {
		c->st.n_nomem++;
		return NULL;
	}
	HASH_FIND(hh, c->table, h, sizeof(h), ci);
	if (ci != NULL) {
		if (ci->refs++ == 0)
			lru_unlink(c, ci);
		return ci;
	}
	ci = cert_decode_ex(der, len, c->libctx);
	if (ci == NULL) {
		c->st.n_nomem++;
		return NULL;
	}
	c->st.n_decoded++;
	if (!ci->decoded)
		c->st.n_undecodable++;
	if (!charge(c, ci->mem)) {
		cert_info_free(ci);
		c->st.n_nomem++;
		return NULL;
	}
	hashtab_oom = 0;
	HASH_ADD(hh, c->table, sha256, sizeof(ci->sha256), ci);
	if (hashtab_oom) {
		memcap_give(c->mem, ci->mem);
		cert_info_free(ci);
		c->st.n_nomem++;
		return NULL;
	}
	ci->refs = 1;
	return ci;
}

void
cert_put(struct cert_cache *c, struct cert_info *ci)
{
	if (ci == NULL || ci->refs == 0)
		return;
	if (--ci->refs == 0) {
		lru_append(c, ci);
		evict_over_cap(c);
	}
}

void
cert_cache_free(struct cert_cache *c)
{
	struct cert_info *ci, *tmp;

	if (c == NULL)
		return;
	HASH_ITER(hh, c->table, ci, tmp) {
		HASH_DEL(c->table, ci);
		memcap_give(c->mem, ci->mem);
		cert_info_free(ci);
	}
	free(c);
}

void
cert_cache_stats(const struct cert_cache *c, struct cert_stats *out)
{
	*out = c->st;
	out->n_cached = HASH_COUNT(c->table);
}

/* --- stapled OCSP responses -------------------------------------------------- */

static const char *
ocsp_response_status_str(int st)
{
	switch (st) {
	case OCSP_RESPONSE_STATUS_SUCCESSFUL:		return "successful";
	case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST:	return "malformedRequest";
	case OCSP_RESPONSE_STATUS_INTERNALERROR:	return "internalError";
	case OCSP_RESPONSE_STATUS_TRYLATER:		return "tryLater";
	case OCSP_RESPONSE_STATUS_SIGREQUIRED:		return "sigRequired";
	case OCSP_RESPONSE_STATUS_UNAUTHORIZED:		return "unauthorized";
	default:					return "unknown";
	}
}

static void
ocsp_read_single(OCSP_BASICRESP *bs, struct cert_ocsp *out)
{
	OCSP_SINGLERESP *single = OCSP_resp_get0(bs, 0);
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	ASN1_INTEGER *serial = NULL;
	BIGNUM *bn;
	char *hex;
	int reason = -1, st;

	if (single == NULL)
		return;
	out->has_single = true;
	out->has_scts = OCSP_SINGLERESP_get_ext_by_NID(single, NID_ct_cert_scts, -1) >= 0;
	st = OCSP_single_get0_status(single, &reason, &rev, &thisupd, &nextupd);
	snprintf(out->cert_status, sizeof(out->cert_status), "%s",
	    st == V_OCSP_CERTSTATUS_GOOD ? "good" : st == V_OCSP_CERTSTATUS_REVOKED ? "revoked" :
	    "unknown");
	out->revocation_reason = st == V_OCSP_CERTSTATUS_REVOKED ? reason : -1;
	format_time(rev, out->revocation_time, sizeof(out->revocation_time));
	format_time(thisupd, out->this_update, sizeof(out->this_update));
	format_time(nextupd, out->next_update, sizeof(out->next_update));
	if (OCSP_id_get0_info(NULL, NULL, NULL, &serial, (OCSP_CERTID *)OCSP_SINGLERESP_get0_id(single)) == 1 &&
	    serial != NULL && (bn = ASN1_INTEGER_to_BN(serial, NULL)) != NULL) {
		hex = BN_bn2hex(bn);
		if (hex != NULL)
			snprintf(out->serial, sizeof(out->serial), "%s", hex);
		OPENSSL_free(hex);
		BN_free(bn);
	}
}

bool
cert_ocsp_parse(const uint8_t *der, size_t len, struct cert_ocsp *out)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs;
	int st;

	memset(out, 0, sizeof(*out));
	out->revocation_reason = -1;
	if (len == 0 || len > LONG_MAX)
		return false;
	resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len);
	if (resp == NULL) {
		ERR_clear_error();
		return false;
	}
	out->decoded = true;
	st = OCSP_response_status(resp);
	snprintf(out->response_status, sizeof(out->response_status), "%s",
	    ocsp_response_status_str(st));
	if (st == OCSP_RESPONSE_STATUS_SUCCESSFUL && (bs = OCSP_response_get1_basic(resp)) != NULL) {
		format_time(OCSP_resp_get0_produced_at(bs), out->produced_at, sizeof(out->produced_at));
		ocsp_read_single(bs, out);
		OCSP_BASICRESP_free(bs);
	}
	OCSP_RESPONSE_free(resp);
	ERR_clear_error();
	return true;
}
