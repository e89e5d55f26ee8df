/*
 * test_tls_fp.c: JA3, JA3S and JA4 against the published vectors (the
 * Salesforce README and the FoxIO JA4 specification) and the spec's rules
 * for GREASE, ALPN, empty lists, counts and versions.
 */
#include "../parser/pstat.h"
#include "../parser/tls_fp.h"
#include "../parser/tls_hs.h"
#include <stdint.h>

#include "t.h"
#include "tb.h"

static char str[TLS_FP_STR_MAX], raw[TLS_FP_STR_MAX];

#define SET(dst, n, ...) do {						\
	static const uint16_t v_[] = { __VA_ARGS__ };			\
	memcpy((dst), v_, sizeof(v_));					\
	(n) = (uint16_t)(sizeof(v_) / sizeof(v_[0]));			\
} while (0)

/* Salesforce JA3 README: the string and its MD5. */
static void
test_ja3_published(void)
{
	static struct tls_client_hello ch;
	char md5[33];

	memset(&ch, 0, sizeof(ch));
	ch.legacy_version = 769;
	SET(ch.ciphers, ch.n_ciphers, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4);
	ch.n_ciphers_total = ch.n_ciphers;
	SET(ch.exts, ch.n_exts, 0, 10, 11);
	SET(ch.groups, ch.n_groups, 23, 24, 25);
	ch.n_ecpf = 1;
	ch.ecpf[0] = 0;
	T_CHECK(tls_ja3(&ch, str, sizeof(str), md5));
	T_EQ_STR(str, "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
	T_EQ_STR(md5, "ada70206e40642a3e4461f35503241d5");

	/* GREASE anywhere in JA3's lists is left out: same fingerprint */
	SET(ch.ciphers, ch.n_ciphers, 0x0a0a, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56,
	    19, 4);
	ch.n_ciphers_total = ch.n_ciphers;
	SET(ch.exts, ch.n_exts, 0xdada, 0, 10, 11, 0xfafa);
	SET(ch.groups, ch.n_groups, 0x2a2a, 23, 24, 25);
	T_CHECK(tls_ja3(&ch, NULL, 0, md5));
	T_EQ_STR(md5, "ada70206e40642a3e4461f35503241d5");

	/* a list cut at its cap: no fingerprint rather than a wrong one */
	ch.n_ciphers_total = (uint16_t)(ch.n_ciphers + 1);
	T_CHECK(!tls_ja3(&ch, str, sizeof(str), md5));
	ch.n_ciphers_total = ch.n_ciphers;
	ch.flags = TLS_HF_TRUNC_LIST;
	T_CHECK(!tls_ja3(&ch, str, sizeof(str), md5));
	ch.flags = 0;
	/* a string buffer too small: refused, not cut */
	T_CHECK(!tls_ja3(&ch, str, 10, md5));
	/* SSL 2.0 hellos have no JA3 */
	ch.is_sslv2 = true;
	T_CHECK(!tls_ja3(&ch, str, sizeof(str), md5));
}

/* Salesforce JA3S README; GREASE is kept in JA3S. */
static void
test_ja3s_published(void)
{
	static struct tls_server_hello sh;
	char md5[33], md5_grease[33];

	memset(&sh, 0, sizeof(sh));
	sh.legacy_version = 771;
	sh.cipher = 49199;
	SET(sh.exts, sh.n_exts, 65281, 0, 11, 16, 23);
	T_CHECK(tls_ja3s(&sh, str, sizeof(str), md5));
	T_EQ_STR(str, "771,49199,65281-0-11-16-23");
	T_EQ_STR(md5, "5d79edf64e03689ff559a54e9d9487bc");

	SET(sh.exts, sh.n_exts, 65281, 0, 11, 0x1a1a, 16, 23);
	T_CHECK(tls_ja3s(&sh, str, sizeof(str), md5_grease));
	T_EQ_STR(str, "771,49199,65281-0-11-6682-16-23");
	T_CHECK(strcmp(md5, md5_grease) != 0);

	sh.n_exts = 0;				/* no extensions: an empty last field */
	T_CHECK(tls_ja3s(&sh, str, sizeof(str), md5));
	T_EQ_STR(str, "771,49199,");
}

/* The FoxIO JA4 specification's worked example, with GREASE sprinkled in. */
static void
spec_hello(struct tls_client_hello *ch)
{
	memset(ch, 0, sizeof(*ch));
	ch->legacy_version = 0x0303;
	SET(ch->ciphers, ch->n_ciphers, 0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
	    0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035);
	ch->n_ciphers_total = ch->n_ciphers;
	SET(ch->exts, ch->n_exts, 0x8a8a, 0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d,
	    0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015, 0x9a9a);
	SET(ch->sigalgs, ch->n_sigalgs, 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806,
	    0x0601);
	SET(ch->versions, ch->n_versions, 0x6a6a, 0x0304, 0x0303);
	ch->has_sni = true;
	ch->n_alpn = 2;
	memcpy(ch->alpn[0], "h2", 2);
	ch->alpn_len[0] = 2;
	ch->alpn0_last = '2';
	memcpy(ch->alpn[1], "http/1.1", 8);
	ch->alpn_len[1] = 8;
}

static void
test_ja4_spec_example(void)
{
	static struct tls_client_hello ch;
	char ja4[37];

	spec_hello(&ch);
	T_CHECK(tls_ja4(&ch, TLS_FP_TCP, ja4, raw, sizeof(raw)));
	T_EQ_STR(ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	T_EQ_STR(raw, "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,"
	    "c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,"
	    "ff01_0403,0804,0401,0503,0805,0501,0806,0601");

	/* no signature algorithms: the extension list alone, no underscore */
	ch.n_sigalgs = 0;
	T_CHECK(tls_ja4(&ch, TLS_FP_TCP, ja4, NULL, 0));
	T_EQ_STR(ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");

	/* QUIC and DTLS change the first letter only */
	spec_hello(&ch);
	T_CHECK(tls_ja4(&ch, TLS_FP_QUIC, ja4, NULL, 0));
	T_EQ_STR(ja4, "q13d1516h2_8daaf6152771_e5627efa2ab1");

	/* no SNI: 'i' (the SNI extension still counts if sent, so drop it too) */
	ch.has_sni = false;
	SET(ch.exts, ch.n_exts, 0x001b, 0x0033, 0x0010);
	T_CHECK(tls_ja4(&ch, TLS_FP_TCP, ja4, raw, sizeof(raw)));
	T_CHECK(strncmp(ja4, "t13i1503h2_8daaf6152771_", 24) == 0);

	/* empty lists hash to twelve zeros */
	spec_hello(&ch);
	ch.n_ciphers = ch.n_ciphers_total = 1;	/* only the GREASE one */
	SET(ch.exts, ch.n_exts, 0x0000, 0x0010);	/* only SNI and ALPN, which JA4_c drops */
	ch.n_sigalgs = 0;
	T_CHECK(tls_ja4(&ch, TLS_FP_TCP, ja4, raw, sizeof(raw)));
	T_EQ_STR(ja4, "t13d0002h2_000000000000_000000000000");
	T_EQ_STR(raw, "t13d0002h2__");

	/* a cut list: no fingerprint */
	spec_hello(&ch);
	ch.flags = TLS_HF_TRUNC_LIST;
	T_CHECK(!tls_ja4(&ch, TLS_FP_TCP, ja4, NULL, 0));
}

static void
alpn_case(const char *bytes, size_t n, const char *want)
{
	static struct tls_client_hello ch;
	char ja4[37];

	spec_hello(&ch);
	memcpy(ch.alpn[0], bytes, n);
	ch.alpn_len[0] = (uint8_t)n;
	ch.alpn0_last = (uint8_t)bytes[n - 1];
	T_CHECK(tls_ja4(&ch, TLS_FP_TCP, ja4, NULL, 0));
	T_EQ_MEM(ja4 + 8, want, 2);
}

/* The specification's ALPN examples. */
static void
test_ja4_alpn(void)
{
	static struct tls_client_hello ch;
	char ja4[37];

	alpn_case("http/1.1", 8, "h1");
	alpn_case("\xab", 1, "ab");
	alpn_case("\xab\xcd", 2, "ad");
	alpn_case("\x30\xab", 2, "3b");
	alpn_case("\x30\x31\xab\xcd", 4, "3d");
	alpn_case("\x30\xab\xcd\x31", 4, "01");
	alpn_case("x", 1, "xx");		/* one character is first and last */
	spec_hello(&ch);
	ch.n_alpn = 0;				/* no ALPN: "00" */
	T_CHECK(tls_ja4(&ch, TLS_FP_TCP, ja4, NULL, 0));
	T_EQ_MEM(ja4 + 8, "00", 2);
}

static void
version_case(uint16_t legacy, const uint16_t *versions, unsigned n, const char *want)
{
	static struct tls_client_hello ch;
	char ja4[37];

	spec_hello(&ch);
	ch.legacy_version = legacy;
	ch.n_versions = (uint8_t)n;
	if (n > 0)
		memcpy(ch.versions, versions, n * sizeof(*versions));
	T_CHECK(tls_ja4(&ch, TLS_FP_TCP, ja4, NULL, 0));
	T_EQ_MEM(ja4 + 1, want, 2);
}

static void
test_ja4_versions(void)
{
	static const uint16_t grease_13[] = { 0x0a0a, 0x0303, 0x0304 };
	static const uint16_t dtls[] = { 0xfefd, 0xfefc };
	static const uint16_t draft[] = { 0x7f17, 0x0303 };

	version_case(0x0303, grease_13, 3, "13");	/* highest offered, GREASE ignored */
	version_case(0x0301, NULL, 0, "10");		/* no supported_versions: the hello's */
	version_case(0x0300, NULL, 0, "s3");
	version_case(0x0302, NULL, 0, "11");
	version_case(0xfeff, NULL, 0, "d1");
	version_case(0xfefd, dtls, 2, "d3");		/* DTLS numbers run backwards */
	version_case(0x0303, draft, 2, "00");		/* a draft number is the highest value */
}

/* Counts stop at 99. */
static void
test_ja4_counts(void)
{
	static struct tls_client_hello ch;
	char ja4[37];

	spec_hello(&ch);
	for (uint16_t i = 0; i < 150; i++)
		ch.ciphers[i] = (uint16_t)(0x0100 + i);
	ch.n_ciphers = ch.n_ciphers_total = 150;
	T_CHECK(tls_ja4(&ch, TLS_FP_TCP, ja4, raw, sizeof(raw)));
	T_EQ_MEM(ja4, "t13d9916h2_", 11);
}

/* From the wire: the parser keeps what JA4 needs (signature algorithms, ALPN). */
static void
test_ja4_from_bytes(void)
{
	static struct tls_client_hello ch;
	static struct tb t;
	char ja4[37];

	t.n = 0;
	tb_u16(&t, 0x0303);
	tb_fill(&t, 1, 32);
	tb_open(&t, 1); tb_close(&t);
	tb_open(&t, 2);
	tb_u16(&t, 0x1301); tb_u16(&t, 0xc02f);
	tb_close(&t);
	tb_open(&t, 1); tb_u8(&t, 0); tb_close(&t);
	tb_open(&t, 2);
	tb_u16(&t, 13); tb_open(&t, 2); tb_open(&t, 2);		/* signature_algorithms */
	tb_u16(&t, 0x0403); tb_u16(&t, 0x0a0a); tb_u16(&t, 0x0804);
	tb_close(&t); tb_close(&t);
	tb_u16(&t, 16); tb_open(&t, 2); tb_open(&t, 2);		/* ALPN: a 40-byte first name */
	tb_open(&t, 1); tb_str(&t, "a234567890123456789012345678901234567892"); tb_close(&t);
	tb_close(&t); tb_close(&t);
	tb_close(&t);
	T_EQ_I(tls_hs_client_hello(t.b, t.n, &ch), P_OK);
	T_EQ_U(ch.n_sigalgs, 3);
	T_EQ_U(ch.alpn0_last, '2');
	T_CHECK(tls_ja4(&ch, TLS_FP_TCP, ja4, raw, sizeof(raw)));
	T_EQ_MEM(ja4, "t12i0202a2_", 11);	/* the last byte as sent, not of the kept copy */
	T_EQ_STR(strrchr(raw, '_'), "_0403,0804");
}

int
main(void)
{
	T_RUN(test_ja3_published);
	T_RUN(test_ja3s_published);
	T_RUN(test_ja4_spec_example);
	T_RUN(test_ja4_alpn);
	T_RUN(test_ja4_versions);
	T_RUN(test_ja4_counts);
	T_RUN(test_ja4_from_bytes);
	T_SUMMARY();
}
