/* test_tls_hs.c: ClientHello, ServerHello, Certificate and SSL 2.0 parsers. */
#include "../parser/pstat.h"
#include "../parser/tls_hs.h"
#include <stdint.h>

#include "t.h"
#include "tb.h"

static struct tb t;

/* version(2) random(32) session_id(1+32): where the builders' hellos differ */
#define HELLO_EXT_AT (2 + 32 + 1 + 32)

/*
 * Every proper prefix of a valid message is rejected, never over-read.  The
 * one exception is ok_at: a hello cut exactly where its optional extensions
 * block starts is itself a valid (SSL 3.0-style) hello.
 */
static void
check_prefixes(int (*parse)(const uint8_t *, size_t, void *), void *out, size_t ok_at)
{
	for (size_t n = 0; n < t.n; n++) {
		uint8_t *b = t_dup(t.b, n);
		int st = parse(b, n, out);
		free(b);
		if (st != (n == ok_at ? P_OK : P_BAD)) {
			T_EQ_I(st, n == ok_at ? P_OK : P_BAD);
			fprintf(stderr, "  prefix of %zu/%zu bytes\n", n, t.n);
			return;
		}
	}
	T_CHECK(1);
}

/* Flip each bit once: the parser may accept or reject, never crash. */
static void
flip_bits(int (*parse)(const uint8_t *, size_t, void *), void *out)
{
	uint8_t *b = t_dup(t.b, t.n);

	for (size_t i = 0; i < t.n * 8; i++) {
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		(void)parse(b, t.n, out);
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	free(b);
	T_CHECK(1);
}

static int
ch_parse(const uint8_t *p, size_t n, void *out)
{
	return tls_hs_client_hello(p, n, out);
}

static int
sh_parse(const uint8_t *p, size_t n, void *out)
{
	return tls_hs_server_hello(p, n, out);
}

static int
cert_parse(const uint8_t *p, size_t n, void *out)
{
	return tls_hs_certificate(p, n, out);
}

static int
v2ch_parse(const uint8_t *p, size_t n, void *out)
{
	return tls_hs_sslv2_client_hello(p, n, out);
}

static int
v2sh_parse(const uint8_t *p, size_t n, void *out)
{
	static struct tls_cert_list cl;

	return tls_hs_sslv2_server_hello(p, n, out, &cl);
}

static void
test_tls_hs_client_hello_fields(void)
{
	struct tls_client_hello ch;

	t.n = 0;
	tb_client_hello(&t, "www.iCloud.com", 1);
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_OK);
	T_EQ_U(ch.legacy_version, 0x0303);
	T_EQ_U(ch.session_id_len, 32);
	T_CHECK(ch.has_sni);
	T_EQ_STR(ch.sni, "www.iCloud.com");	/* kept as sent; matching lowercases */
	T_EQ_U(ch.sni_len, 14);
	T_EQ_U(ch.n_ciphers, 4);
	T_EQ_U(ch.ciphers[0], 0x1a1a);
	T_EQ_U(ch.ciphers[2], 0xc02f);
	T_EQ_U(ch.n_exts, 5);
	T_EQ_U(ch.exts[0], 0);
	T_EQ_U(ch.exts[4], 43);
	T_EQ_U(ch.n_groups, 2);
	T_EQ_U(ch.groups[0], 0x001d);
	T_EQ_U(ch.n_ecpf, 1);
	T_EQ_U(ch.n_alpn, 2);
	T_EQ_U(ch.alpn_len[1], 8);
	T_EQ_MEM(ch.alpn[1], "http/1.1", 8);
	T_EQ_U(ch.n_versions, 2);
	T_EQ_U(ch.versions[0], 0x0304);
	T_EQ_U(ch.flags, 0);
	check_prefixes(ch_parse, &ch, HELLO_EXT_AT + 2 + 8 + 2);	/* + suites + comp */
	flip_bits(ch_parse, &ch);
}

static void
test_tls_hs_client_hello_no_extensions(void)
{
	struct tls_client_hello ch;

	t.n = 0;
	tb_u16(&t, 0x0300);			/* SSL 3.0 */
	tb_fill(&t, 0, 32);
	tb_open(&t, 1); tb_close(&t);		/* empty session id */
	tb_open(&t, 2); tb_u16(&t, 0x000a); tb_close(&t);	/* RSA_WITH_3DES_EDE_CBC_SHA */
	tb_open(&t, 1); tb_u8(&t, 0); tb_close(&t);
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_OK);
	T_CHECK(!ch.has_sni);
	T_EQ_U(ch.n_exts, 0);
	tb_u8(&t, 0);				/* one trailing byte: framing error */
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_BAD);
}

/* DTLS 1.2 (RFC 6347 s4.2.1): a cookie between the session id and the suites. */
static void
test_tls_hs_client_hello_dtls_cookie(void)
{
	struct tls_client_hello ch;

	t.n = 0;
	tb_u16(&t, 0xfefd);
	tb_fill(&t, 7, 32);
	tb_open(&t, 1); tb_close(&t);		/* empty session id */
	tb_open(&t, 1); tb_fill(&t, 0xcc, 20); tb_close(&t);	/* cookie */
	tb_open(&t, 2); tb_u16(&t, 0xc02b); tb_u16(&t, 0xc02f); tb_close(&t);
	tb_open(&t, 1); tb_u8(&t, 0); tb_close(&t);
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_OK);
	T_CHECK(ch.is_dtls);
	T_EQ_U(ch.cookie_len, 20);
	T_EQ_U(ch.n_ciphers, 2);
	T_EQ_U(ch.ciphers[1], 0xc02f);
	check_prefixes(ch_parse, &ch, t.n);
	/* the same bytes claiming TLS 1.2: the cookie is read as the suites */
	t.b[0] = 0x03; t.b[1] = 0x03;
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_BAD);
}

static void
test_tls_hs_client_hello_odd_ciphers(void)
{
	struct tls_client_hello ch;

	t.n = 0;
	tb_u16(&t, 0x0303);
	tb_fill(&t, 0, 32);
	tb_open(&t, 1); tb_close(&t);
	tb_open(&t, 2); tb_u16(&t, 0x002f); tb_u8(&t, 0x35); tb_close(&t);	/* 3 bytes */
	tb_open(&t, 1); tb_u8(&t, 0); tb_close(&t);
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_BAD);
}

/* A duplicated or malformed extension is flagged; the hello still parses. */
static void
test_tls_hs_client_hello_bad_extension_contents(void)
{
	struct tls_client_hello ch;

	t.n = 0;
	tb_u16(&t, 0x0303);
	tb_fill(&t, 0, 32);
	tb_open(&t, 1); tb_close(&t);
	tb_open(&t, 2); tb_u16(&t, 0x002f); tb_close(&t);
	tb_open(&t, 1); tb_u8(&t, 0); tb_close(&t);
	tb_open(&t, 2);
	tb_u16(&t, 0);				/* server_name "a.example" */
	tb_open(&t, 2); tb_open(&t, 2); tb_u8(&t, 0);
	tb_open(&t, 2); tb_str(&t, "a.example"); tb_close(&t);
	tb_close(&t); tb_close(&t);
	tb_u16(&t, 0);				/* server_name again: "b.example" */
	tb_open(&t, 2); tb_open(&t, 2); tb_u8(&t, 0);
	tb_open(&t, 2); tb_str(&t, "b.example"); tb_close(&t);
	tb_close(&t); tb_close(&t);
	tb_u16(&t, 16);				/* ALPN whose inner list overruns */
	tb_open(&t, 2); tb_u16(&t, 0x0010); tb_u8(&t, 2); tb_str(&t, "h2"); tb_close(&t);
	tb_close(&t);
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_OK);
	T_EQ_STR(ch.sni, "a.example");		/* first copy wins */
	T_CHECK(ch.flags & TLS_HF_DUP_EXT);
	T_CHECK(ch.flags & TLS_HF_BAD_EXT);
	T_EQ_U(ch.n_alpn, 0);
}

static void
test_tls_hs_client_hello_hostile_sni(void)
{
	struct tls_client_hello ch;
	static const char evil[] = "a\0b\"\n.example";

	t.n = 0;
	tb_u16(&t, 0x0303);
	tb_fill(&t, 0, 32);
	tb_open(&t, 1); tb_close(&t);
	tb_open(&t, 2); tb_u16(&t, 0x002f); tb_close(&t);
	tb_open(&t, 1); tb_u8(&t, 0); tb_close(&t);
	tb_open(&t, 2);
	tb_u16(&t, 0);
	tb_open(&t, 2); tb_open(&t, 2); tb_u8(&t, 0);
	tb_open(&t, 2); tb_raw(&t, evil, sizeof(evil) - 1); tb_close(&t);
	tb_close(&t); tb_close(&t);
	tb_close(&t);
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_OK);
	T_EQ_U(ch.sni_len, sizeof(evil) - 1);	/* NUL kept: length, not strlen */
	T_EQ_MEM(ch.sni, evil, sizeof(evil) - 1);
	T_CHECK(ch.flags & TLS_HF_BAD_SNI);
}

static void
test_tls_hs_server_hello_tls12_and_13(void)
{
	struct tls_server_hello sh;

	t.n = 0;
	tb_server_hello(&t, 0x0303, 0xc02f);
	T_EQ_I(tls_hs_server_hello(t.b, t.n, &sh), P_OK);
	T_EQ_U(sh.version, 0x0303);
	T_EQ_U(sh.cipher, 0xc02f);
	T_EQ_U(sh.alpn_len, 2);
	T_EQ_MEM(sh.alpn, "h2", 2);
	T_CHECK(!sh.is_hrr);
	check_prefixes(sh_parse, &sh, HELLO_EXT_AT + 2 + 1);	/* + suite + comp */
	flip_bits(sh_parse, &sh);

	t.n = 0;
	tb_server_hello(&t, 0x0304, 0x1301);
	T_EQ_I(tls_hs_server_hello(t.b, t.n, &sh), P_OK);
	T_EQ_U(sh.legacy_version, 0x0303);
	T_EQ_U(sh.version, 0x0304);		/* from supported_versions */
	check_prefixes(sh_parse, &sh, HELLO_EXT_AT + 2 + 1);	/* + suite + comp */
}

static void
test_tls_hs_server_hello_hrr(void)
{
	static const uint8_t hrr[32] = {	/* SHA-256("HelloRetryRequest") */
		0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
		0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
		0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c };
	struct tls_server_hello sh;

	t.n = 0;
	tb_server_hello(&t, 0x0304, 0x1301);
	memcpy(t.b + 2, hrr, 32);
	T_EQ_I(tls_hs_server_hello(t.b, t.n, &sh), P_OK);
	T_CHECK(sh.is_hrr);
}

/* TLS 1.3 drafts up to -21: no session id, no compression, version in place. */
static void
test_tls_hs_server_hello_tls13_draft18(void)
{
	struct tls_server_hello sh;

	t.n = 0;
	tb_u16(&t, 0x7f12);			/* version: TLS 1.3 draft 18 */
	tb_fill(&t, 0x3e, 32);			/* random */
	tb_u16(&t, 0x1301);			/* TLS_AES_128_GCM_SHA256 */
	tb_open(&t, 2);				/* extensions */
	tb_u16(&t, 40);				/* key_share (draft number) */
	tb_open(&t, 2); tb_u16(&t, 29); tb_open(&t, 2); tb_fill(&t, 0xae, 32); tb_close(&t);
	tb_close(&t);
	tb_close(&t);
	T_EQ_I(tls_hs_server_hello(t.b, t.n, &sh), P_OK);
	T_EQ_U(sh.version, 0x7f12);
	T_EQ_U(sh.cipher, 0x1301);
	T_EQ_U(sh.n_exts, 1);
	T_CHECK(tls_version_is_13(sh.version));
	check_prefixes(sh_parse, &sh, 2 + 32 + 2);	/* extensions optional */
}

static void
test_tls_hs_certificate_list(void)
{
	struct tls_cert_list cl;

	t.n = 0;
	tb_open(&t, 3);				/* certificate_list */
	tb_open(&t, 3); tb_fill(&t, 0x30, 100); tb_close(&t);	/* "leaf", 100 bytes */
	tb_open(&t, 3); tb_fill(&t, 0x31, 50); tb_close(&t);	/* "intermediate" */
	tb_close(&t);
	T_EQ_I(tls_hs_certificate(t.b, t.n, &cl), P_OK);
	T_EQ_U(cl.n, 2);
	T_EQ_U(cl.n_total, 2);
	T_EQ_U(cl.der[0].len, 100);
	T_CHECK(cl.der[0].p == t.b + 6);	/* a view into the message */
	T_EQ_U(cl.der[1].len, 50);
	check_prefixes(cert_parse, &cl, SIZE_MAX);
	flip_bits(cert_parse, &cl);

	t.n = 0;				/* an empty entry is malformed */
	tb_open(&t, 3); tb_u24(&t, 0); tb_close(&t);
	T_EQ_I(tls_hs_certificate(t.b, t.n, &cl), P_BAD);

	t.n = 0;				/* empty list: legal (no certificate) */
	tb_u24(&t, 0);
	T_EQ_I(tls_hs_certificate(t.b, t.n, &cl), P_OK);
	T_EQ_U(cl.n, 0);
}

static void
test_tls_hs_certificate_over_cap(void)
{
	struct tls_cert_list cl;

	t.n = 0;
	tb_open(&t, 3);
	for (int i = 0; i < TLS_CERTS_MAX + 3; i++) {
		tb_open(&t, 3); tb_fill(&t, (unsigned)i, 10); tb_close(&t);
	}
	tb_close(&t);
	T_EQ_I(tls_hs_certificate(t.b, t.n, &cl), P_OK);
	T_EQ_U(cl.n, TLS_CERTS_MAX);
	T_EQ_U(cl.n_total, TLS_CERTS_MAX + 3);
}

static void
test_tls_hs_sslv2_client_hello(void)
{
	struct tls_client_hello ch;

	t.n = 0;
	tb_u8(&t, 1);				/* CLIENT-HELLO */
	tb_u16(&t, 0x0301);			/* version TLS 1.0 */
	tb_u16(&t, 6);				/* cipher_specs_length: 2 specs */
	tb_u16(&t, 0);				/* session_id_length */
	tb_u16(&t, 16);				/* challenge_length */
	tb_u8(&t, 0x01); tb_u16(&t, 0x0080);	/* SSL2_RC4_128_WITH_MD5 */
	tb_u8(&t, 0x00); tb_u16(&t, 0x002f);	/* TLS_RSA_WITH_AES_128_CBC_SHA */
	tb_fill(&t, 0xaa, 16);			/* challenge */
	T_EQ_I(tls_hs_sslv2_client_hello(t.b, t.n, &ch), P_OK);
	T_CHECK(ch.is_sslv2);
	T_EQ_U(ch.legacy_version, 0x0301);
	T_EQ_U(ch.n_ciphers_total, 2);
	T_EQ_U(ch.n_ciphers, 1);
	T_EQ_U(ch.ciphers[0], 0x002f);
	check_prefixes(v2ch_parse, &ch, SIZE_MAX);
	flip_bits(v2ch_parse, &ch);
}

static void
test_tls_hs_sslv2_server_hello(void)
{
	struct tls_server_hello sh;
	struct tls_cert_list cl;

	t.n = 0;
	tb_u8(&t, 4);				/* SERVER-HELLO */
	tb_u8(&t, 0);				/* session_id_hit */
	tb_u8(&t, 1);				/* certificate_type X.509 */
	tb_u16(&t, 0x0002);			/* SSL 2.0 */
	tb_u16(&t, 20);				/* certificate_length */
	tb_u16(&t, 3);				/* cipher_specs_length */
	tb_u16(&t, 16);				/* connection_id_length */
	tb_fill(&t, 0x30, 20);
	tb_u8(&t, 1); tb_u16(&t, 0x0080);
	tb_fill(&t, 0xcc, 16);
	T_EQ_I(tls_hs_sslv2_server_hello(t.b, t.n, &sh, &cl), P_OK);
	T_EQ_U(sh.version, 0x0002);
	T_EQ_U(cl.n, 1);
	T_EQ_U(cl.der[0].len, 20);
	T_CHECK(cl.der[0].p == t.b + 11);
	check_prefixes(v2sh_parse, &sh, SIZE_MAX);
	flip_bits(v2sh_parse, &sh);
}

/* A hello with an SNI and one encrypted_client_hello extension body. */
static void
ech_hello(const uint8_t *ech, size_t n)
{
	t.n = 0;
	tb_u16(&t, 0x0303);
	tb_fill(&t, 3, 32);
	tb_open(&t, 1); tb_close(&t);
	tb_open(&t, 2); tb_u16(&t, 0x1301); tb_close(&t);
	tb_open(&t, 1); tb_u8(&t, 0); tb_close(&t);
	tb_open(&t, 2);
	tb_u16(&t, 0); tb_open(&t, 2); tb_open(&t, 2); tb_u8(&t, 0);
	tb_open(&t, 2); tb_str(&t, "public.example.com"); tb_close(&t);
	tb_close(&t); tb_close(&t);
	tb_u16(&t, 0xfe0d); tb_open(&t, 2); tb_raw(&t, ech, n); tb_close(&t);
	tb_close(&t);
}

/* draft-ietf-tls-esni: an outer ECH (or Chrome's GREASE one), an inner, broken. */
static void
test_tls_hs_client_hello_ech(void)
{
	/* outer: HKDF-SHA256 (1), AES-128-GCM (1), config 0x2a, enc of 32, payload of 144 */
	static uint8_t outer[1 + 4 + 1 + 2 + 32 + 2 + 144] = { 0, 0, 1, 0, 1, 0x2a, 0, 32 };
	struct tls_client_hello ch;

	outer[8 + 32] = 0;
	outer[8 + 32 + 1] = 144;
	ech_hello(outer, sizeof(outer));
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_OK);
	T_CHECK(ch.has_ech);
	T_EQ_U(ch.ech_type, 0);
	T_EQ_U(ch.ech_kdf, 1);
	T_EQ_U(ch.ech_aead, 1);
	T_EQ_U(ch.ech_config_id, 0x2a);
	T_EQ_U(ch.ech_payload_len, 144);
	T_EQ_STR(ch.sni, "public.example.com");
	T_EQ_U(ch.flags, 0);

	ech_hello((const uint8_t *)"\x01", 1);		/* inner: type only */
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_OK);
	T_CHECK(ch.has_ech);
	T_EQ_U(ch.ech_type, 1);
	T_EQ_U(ch.flags, 0);

	ech_hello(outer, 20);				/* cut inside enc: flagged, hello kept */
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_OK);
	T_CHECK(ch.has_ech);
	T_EQ_U(ch.flags, TLS_HF_BAD_EXT);
	T_EQ_STR(ch.sni, "public.example.com");
}

/* RFC 6066 s8 and RFC 6961: the stapled response's DER, and nothing else. */
static void
test_tls_hs_certificate_status(void)
{
	struct tls_der d;

	t.n = 0;
	tb_u8(&t, 1);				/* ocsp */
	tb_open(&t, 3); tb_raw(&t, "\x30\x03\x0a\x01\x00", 5); tb_close(&t);
	T_EQ_I(tls_hs_certificate_status(t.b, t.n, &d), P_OK);
	T_EQ_U(d.len, 5);
	T_EQ_U(d.p[0], 0x30);
	check_prefixes((int (*)(const uint8_t *, size_t, void *))tls_hs_certificate_status, &d,
	    (size_t)-1);
	tb_u8(&t, 0);				/* a trailing byte */
	T_EQ_I(tls_hs_certificate_status(t.b, t.n, &d), P_BAD);

	t.n = 0;
	tb_u8(&t, 2);				/* ocsp_multi: the first response is the leaf's */
	tb_open(&t, 3);
	tb_open(&t, 3); tb_raw(&t, "\x30\x03\x0a\x01\x03", 5); tb_close(&t);
	tb_open(&t, 3); tb_close(&t);		/* an empty one for the intermediate */
	tb_close(&t);
	T_EQ_I(tls_hs_certificate_status(t.b, t.n, &d), P_OK);
	T_EQ_U(d.len, 5);
	T_EQ_U(d.p[4], 0x03);

	t.n = 0;
	tb_u8(&t, 9);				/* an unknown status type */
	tb_open(&t, 3); tb_u8(&t, 0); tb_close(&t);
	T_EQ_I(tls_hs_certificate_status(t.b, t.n, &d), P_UNSUPP);
}

int
main(void)
{
	T_RUN(test_tls_hs_client_hello_fields);
	T_RUN(test_tls_hs_client_hello_no_extensions);
	T_RUN(test_tls_hs_client_hello_odd_ciphers);
	T_RUN(test_tls_hs_client_hello_dtls_cookie);
	T_RUN(test_tls_hs_client_hello_bad_extension_contents);
	T_RUN(test_tls_hs_client_hello_hostile_sni);
	T_RUN(test_tls_hs_server_hello_tls12_and_13);
	T_RUN(test_tls_hs_server_hello_hrr);
	T_RUN(test_tls_hs_server_hello_tls13_draft18);
	T_RUN(test_tls_hs_certificate_list);
	T_RUN(test_tls_hs_certificate_over_cap);
	T_RUN(test_tls_hs_sslv2_client_hello);
	T_RUN(test_tls_hs_sslv2_server_hello);
	T_RUN(test_tls_hs_certificate_status);
	T_RUN(test_tls_hs_client_hello_ech);
	T_SUMMARY();
}
