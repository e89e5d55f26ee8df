/*
 * test_cert.c: DER decoding compared with what openssl's command line says
 * about the same files (tests/data/cert-*.expect, from gen-certs.sh), and
 * the cache's reference counting and bounds.  Run from the repository root.
 */
#include <stdint.h>

#include "../parser/cert.h"
#include "t.h"

static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0) {
		fprintf(stderr, "cannot read %s (run from the repository root)\n", path);
		exit(2);
	}
	rewind(f);
	buf = malloc((size_t)n);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The value of "key=" in an .expect file. */
static char *
expect(const char *path, const char *key)
{
	static char line[4096];
	FILE *f = fopen(path, "r");
	size_t kl = strlen(key);

	if (f == NULL)
		exit(2);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, kl) == 0 && line[kl] == '=') {
			line[strcspn(line, "\n")] = '\0';
			fclose(f);
			return line + kl + 1;
		}
	}
	fclose(f);
	return NULL;
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02X", p[i]);
}

static void
check_against_openssl(const char *der_path, const char *exp_path, struct cert_info *ci)
{
	char h[65];

	T_CHECK(ci->decoded);
	T_EQ_STR(ci->subject, expect(exp_path, "subject"));
	T_EQ_STR(ci->issuer, expect(exp_path, "issuer"));
	T_EQ_STR(ci->serial, expect(exp_path, "serial"));
	hex(ci->sha256, 32, h);
	T_EQ_STR(h, expect(exp_path, "sha256"));
	hex(ci->sha1, 20, h);
	T_EQ_STR(h, expect(exp_path, "sha1"));
	T_EQ_STR(ci->spki_pin, expect(exp_path, "pin"));
	T_EQ_STR(ci->not_before, expect(exp_path, "not_before"));
	T_EQ_STR(ci->not_after, expect(exp_path, "not_after"));
	(void)der_path;
}

static void
test_cert_rsa_leaf(void)
{
	size_t len;
	uint8_t *der = slurp("tests/data/cert-rsa.der", &len);
	struct cert_info *ci = cert_decode(der, len);

	T_CHECK(ci != NULL);
	check_against_openssl("tests/data/cert-rsa.der", "tests/data/cert-rsa.expect", ci);
	T_EQ_STR(ci->key_alg, "RSA");
	T_EQ_I(ci->key_bits, 2048);
	T_EQ_STR(ci->sig_alg, "sha256WithRSAEncryption");
	T_EQ_I(ci->version, 3);
	T_CHECK(!ci->self_issued);
	/* SANs in order: two DNS names, an IPv4 and an IPv6 address */
	T_EQ_U(ci->n_sans, 4);
	T_EQ_U(ci->n_sans_total, 4);
	T_EQ_STR(ci->sans[0].value.p, "www.example.test");
	T_EQ_STR(ci->sans[1].value.p, "*.api.example.test");
	T_EQ_I(ci->sans[2].type, SAN_IP);
	T_EQ_STR(ci->sans[2].value.p, "192.0.2.7");
	T_EQ_STR(ci->sans[3].value.p, "2001:db8::7");
	/* issuer attributes in DER order, values as UTF-8 */
	T_EQ_U(ci->n_issuer_attrs, 4);
	T_EQ_STR(ci->issuer_attrs[0].name, "C");
	T_EQ_STR(cert_attr_first(ci->issuer_attrs, ci->n_issuer_attrs, "O")->p, "Test Trust, Inc.");
	T_EQ_STR(cert_attr_first(ci->issuer_attrs, ci->n_issuer_attrs, "CN")->p, "Test Issuing CA 1");
	T_CHECK(cert_attr_first(ci->issuer_attrs, ci->n_issuer_attrs, "L") == NULL);
	cert_info_free(ci);
	free(der);
}

static void
test_cert_ec_self_signed(void)
{
	size_t len;
	uint8_t *der = slurp("tests/data/cert-ec.der", &len);
	struct cert_info *ci = cert_decode(der, len);

	T_CHECK(ci != NULL);
	check_against_openssl("tests/data/cert-ec.der", "tests/data/cert-ec.expect", ci);
	T_EQ_STR(ci->key_alg, "EC");
	T_EQ_I(ci->key_bits, 256);
	T_EQ_STR(ci->key_curve, "prime256v1");
	T_EQ_STR(ci->sig_alg, "ecdsa-with-SHA384");
	T_CHECK(ci->self_issued);
	T_EQ_U(ci->n_sans, 0);
	cert_info_free(ci);
	free(der);
}

/* DER that is cut, padded or not DER at all: hashed, marked undecoded. */
static void
test_cert_undecodable(void)
{
	size_t len;
	uint8_t *der = slurp("tests/data/cert-rsa.der", &len);
	uint8_t *padded = malloc(len + 1);
	struct cert_info *ci;

	for (size_t n = 0; n < len; n += (n < 64 ? 1 : 97)) {	/* prefixes */
		uint8_t *b = t_dup(der, n);
		ci = cert_decode(b, n);
		T_CHECK(ci != NULL && !ci->decoded && ci->subject == NULL);
		cert_info_free(ci);
		free(b);
	}
	memcpy(padded, der, len);
	padded[len] = 0;			/* one trailing byte: not exactly consumed */
	ci = cert_decode(padded, len + 1);
	T_CHECK(ci != NULL && !ci->decoded);
	cert_info_free(ci);
	ci = cert_decode((const uint8_t *)"\x30\x03\x02\x01\x01", 5);	/* SEQUENCE { INTEGER 1 } */
	T_CHECK(ci != NULL && !ci->decoded);
	T_EQ_U(ci->der_len, 5);
	cert_info_free(ci);
	for (size_t i = 0; i < len * 8; i += 7) {	/* bit flips: decoded or not, never a crash */
		der[i / 8] ^= (uint8_t)(1u << (i % 8));
		cert_info_free(cert_decode(der, len));
		der[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	T_CHECK(1);
	free(padded);
	free(der);
}

static void
test_cert_cache_refs_and_eviction(void)
{
	size_t la, lb;
	uint8_t *a = slurp("tests/data/cert-rsa.der", &la);
	uint8_t *b = slurp("tests/data/cert-ec.der", &lb);
	struct cert_cache *c = cert_cache_new(1, 0, NULL);	/* keep one unreferenced entry */
	struct cert_stats st;

	struct cert_info *a1 = cert_get(c, a, la);
	struct cert_info *a2 = cert_get(c, a, la);
	T_CHECK(a1 != NULL && a1 == a2);	/* decoded once, shared */
	T_EQ_U(a1->refs, 2);
	cert_cache_stats(c, &st);
	T_EQ_U(st.n_decoded, 1);
	T_EQ_U(st.n_lookups, 2);
	cert_put(c, a1);
	cert_put(c, a2);			/* unreferenced, still cached */
	struct cert_info *b1 = cert_get(c, b, lb);
	cert_put(c, b1);			/* two unreferenced > max 1: a goes */
	cert_cache_stats(c, &st);
	T_EQ_U(st.n_evicted, 1);
	T_EQ_U(st.n_cached, 1);
	struct cert_info *b2 = cert_get(c, b, lb);
	T_CHECK(b2 == b1);			/* b was kept */
	cert_cache_stats(c, &st);
	T_EQ_U(st.n_decoded, 2);
	struct cert_info *a3 = cert_get(c, a, la);	/* a decoded again */
	cert_cache_stats(c, &st);
	T_EQ_U(st.n_decoded, 3);
	T_CHECK(a3 != NULL && a3->decoded);
	cert_cache_free(c);			/* frees referenced entries too */
	free(a);
	free(b);
}

/* Entries are charged to the memory budget; unreferenced ones make room. */
static void
test_cert_cache_memcap(void)
{
	size_t la, lb;
	uint8_t *a = slurp("tests/data/cert-rsa.der", &la);
	uint8_t *b = slurp("tests/data/cert-ec.der", &lb);
	struct memcap mc = { .limit = 0 };
	struct cert_cache *c = cert_cache_new(0, 0, &mc);
	struct cert_stats st;

	struct cert_info *a1 = cert_get(c, a, la);
	T_CHECK(a1 != NULL);
	T_EQ_U(mc.used, a1->mem);
	mc.limit = a1->mem + 100;		/* room for a, not for b too */
	T_CHECK(cert_get(c, b, lb) == NULL);	/* a is referenced: b is refused */
	cert_cache_stats(c, &st);
	T_EQ_U(st.n_nomem, 1);
	cert_put(c, a1);			/* unreferenced now: evicted for b */
	struct cert_info *b1 = cert_get(c, b, lb);
	T_CHECK(b1 != NULL);
	cert_cache_stats(c, &st);
	T_EQ_U(st.n_evicted, 1);
	T_EQ_U(mc.used, b1->mem);
	cert_cache_free(c);
	T_EQ_U(mc.used, 0);			/* everything given back */
	free(a);
	free(b);
}

/*
 * A stapled OCSP response made by `openssl ocsp -index` for a revoked
 * certificate (tests/data/ocsp-revoked.der); the expected values are what
 * `openssl ocsp -respin F -resp_text` prints for it.
 */
static void
test_cert_ocsp_response(void)
{
	struct cert_ocsp o;
	size_t len;
	uint8_t *der = slurp("tests/data/ocsp-revoked.der", &len);

	T_CHECK(cert_ocsp_parse(der, len, &o));
	T_EQ_STR(o.response_status, "successful");
	T_CHECK(o.has_single);
	T_EQ_STR(o.cert_status, "revoked");
	T_EQ_STR(o.serial, "1234");
	T_EQ_STR(o.produced_at, "2026-11-28T01:24:03.000Z");
	T_EQ_STR(o.this_update, "2026-11-28T01:24:03.000Z");
	T_EQ_STR(o.next_update, "2026-12-05T01:24:03.000Z");
	T_EQ_STR(o.revocation_time, "2026-11-01T00:00:00.000Z");
	T_EQ_I(o.revocation_reason, 1);		/* keyCompromise */
	for (size_t n = 0; n < len; n++) {	/* every prefix is refused, none crashes */
		uint8_t *p = t_dup(der, n);
		if (cert_ocsp_parse(p, n, &o)) {
			T_CHECK(!"a cut OCSP response was accepted");
			free(p);
			break;
		}
		free(p);
	}
	/* "successful" with no responseBytes: read, but nothing to report */
	T_CHECK(cert_ocsp_parse((const uint8_t *)"\x30\x03\x0a\x01\x00", 5, &o));
	T_EQ_STR(o.response_status, "successful");
	T_CHECK(!o.has_single);
	/* tryLater (3) */
	T_CHECK(cert_ocsp_parse((const uint8_t *)"\x30\x03\x0a\x01\x03", 5, &o));
	T_EQ_STR(o.response_status, "tryLater");
	free(der);
}

int
main(void)
{
	T_RUN(test_cert_rsa_leaf);
	T_RUN(test_cert_ec_self_signed);
	T_RUN(test_cert_undecodable);
	T_RUN(test_cert_cache_refs_and_eviction);
	T_RUN(test_cert_cache_memcap);
	T_RUN(test_cert_ocsp_response);
	T_SUMMARY();
}
