/*
 * test_quic.c: QUIC Initial packets to handshake messages (parser/quic.h).
 *
 * Vectors: RFC 9001 Appendix A (version 1) and RFC 9369 Appendix A (version
 * 2), typed in from the RFC text as hex.  More packets are built here by a
 * test-side sealer (OpenSSL, RFC 9001 s5), which is itself checked by
 * rebuilding the RFC's protected client Initial byte for byte.  Then the
 * captures: two from the shared corpus (Zeek's test suite) and the chromium
 * capture in samples/, with values tshark 4.0 decoded from them.
 *
 * Usage: test_quic [PCAP TRUTH.tsv]: with arguments, also check that capture
 * against a truth file in the format of samples/quic-chromium.truth.tsv.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <pcap/pcap.h>

#include "../capture/decode.h"
#include "../parser/pstat.h"
#include "../parser/quic.h"
#include "../parser/tls_hs.h"
#include "quic_seal.h"
#include "t.h"

/* ---- hex vectors -------------------------------------------------------- */

/* Decode hex, skipping blanks; returns the byte count (aborts on bad input). */
static size_t
unhex(const char *s, uint8_t *out, size_t outsz)
{
	size_t n = 0;
	int hi = -1;

	for (; *s; s++) {
		int v;

		if (*s == ' ' || *s == '\n')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else
			abort();
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n == outsz)
			abort();
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		abort();
	return n;
}

/* RFC 9001 A / RFC 9369 A: the client's Destination Connection ID. */
static const uint8_t rfc_dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };
/* ... and the connection ID the server chose (A.3, A.4). */
static const uint8_t rfc_scid[8] = { 0xf0, 0x67, 0xa5, 0x50, 0x2a, 0x42, 0x62, 0xb5 };

/*
 * RFC 9001 A.2 (identical in RFC 9369 A.2): the client's CRYPTO frame,
 * type 06, offset 00, length 40f1 (241), then the ClientHello: 01 0000ed,
 * legacy_version 0303, random ebf8..484c, empty session id, suites 1301
 * 1302, null compression, extensions: server_name "example.com",
 * renegotiation_info, supported_groups x25519 secp256r1 secp384r1, ALPN
 * "alpn", status_request, key_share x25519, supported_versions 0304,
 * signature_algorithms, psk_key_exchange_modes, record_size_limit,
 * quic_transport_parameters.
 */
static const char rfc_client_crypto[] =
    "060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a 00080006001d00170018001000070005"
    "04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408 050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806 048000ffff";

/*
 * RFC 9001 A.3 (identical in RFC 9369 A.3): the server's payload, ACK
 * (02, largest 0, delay 0, 0 ranges, first range 0), then CRYPTO (06, offset
 * 0, length 405a = 90) with the ServerHello: 02 000056, 0303, random,
 * empty session id, cipher 1301, compression 00, key_share x25519,
 * supported_versions 0304.
 */
static const char rfc_server_payload[] =
    "02000000000600405a020000560303ee fce7f7b37ba1d1632e96677825ddf739"
    "88cfc79825df566dc5430b9a045a1200 130100002e00330024001d00209d3c94"
    "0d89690b84d08a60993c144eca684d10 81287c834d5311bcf32bb9da1a002b00"
    "020304";

/* RFC 9001 A.2: the protected client Initial, 1200 bytes, packet number 2. */
static const char rfc9001_client[] =
    "c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11"
    "d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399"
    "1c260ec4c60d17b31f8429157bb35a12 82a643a8d2262cad67500cadb8e7378c"
    "8eb7539ec4d4905fed1bee1fc8aafba1 7c750e2c7ace01e6005f80fcb7df6212"
    "30c83711b39343fa028cea7f7fb5ff89 eac2308249a02252155e2347b63d58c5"
    "457afd84d05dfffdb20392844ae81215 4682e9cf012f9021a6f0be17ddd0c208"
    "4dce25ff9b06cde535d0f920a2db1bf3 62c23e596d11a4f5a6cf3948838a3aec"
    "4e15daf8500a6ef69ec4e3feb6b1d98e 610ac8b7ec3faf6ad760b7bad1db4ba3"
    "485e8a94dc250ae3fdb41ed15fb6a8e5 eba0fc3dd60bc8e30c5c4287e53805db"
    "059ae0648db2f64264ed5e39be2e20d8 2df566da8dd5998ccabdae053060ae6c"
    "7b4378e846d29f37ed7b4ea9ec5d82e7 961b7f25a9323851f681d582363aa5f8"
    "9937f5a67258bf63ad6f1a0b1d96dbd4 faddfcefc5266ba6611722395c906556"
    "be52afe3f565636ad1b17d508b73d874 3eeb524be22b3dcbc2c7468d54119c74"
    "68449a13d8e3b95811a198f3491de3e7 fe942b330407abf82a4ed7c1b311663a"
    "c69890f4157015853d91e923037c227a 33cdd5ec281ca3f79c44546b9d90ca00"
    "f064c99e3dd97911d39fe9c5d0b23a22 9a234cb36186c4819e8b9c5927726632"
    "291d6a418211cc2962e20fe47feb3edf 330f2c603a9d48c0fcb5699dbfe58964"
    "25c5bac4aee82e57a85aaf4e2513e4f0 5796b07ba2ee47d80506f8d2c25e50fd"
    "14de71e6c418559302f939b0e1abd576 f279c4b2e0feb85c1f28ff18f58891ff"
    "ef132eef2fa09346aee33c28eb130ff2 8f5b766953334113211996d20011a198"
    "e3fc433f9f2541010ae17c1bf202580f 6047472fb36857fe843b19f5984009dd"
    "c324044e847a4f4a0ab34f719595de37 252d6235365e9b84392b061085349d73"
    "203a4a13e96f5432ec0fd4a1ee65accd d5e3904df54c1da510b0ff20dcc0c77f"
    "cb2c0e0eb605cb0504db87632cf3d8b4 dae6e705769d1de354270123cb11450e"
    "fc60ac47683d7b8d0f811365565fd98c 4c8eb936bcab8d069fc33bd801b03ade"
    "a2e1fbc5aa463d08ca19896d2bf59a07 1b851e6c239052172f296bfb5e724047"
    "90a2181014f3b94a4e97d117b4381303 68cc39dbb2d198065ae3986547926cd2"
    "162f40a29f0c3c8745c0f50fba3852e5 66d44575c29d39a03f0cda721984b6f4"
    "40591f355e12d439ff150aab7613499d bd49adabc8676eef023b15b65bfc5ca0"
    "6948109f23f350db82123535eb8a7433 bdabcb909271a6ecbcb58b936a88cd4e"
    "8f2e6ff5800175f113253d8fa9ca8885 c2f552e657dc603f252e1a8e308f76f0"
    "be79e2fb8f5d5fbbe2e30ecadd220723 c8c0aea8078cdfcb3868263ff8f09400"
    "54da48781893a7e49ad5aff4af300cd8 04a6b6279ab3ff3afb64491c85194aab"
    "760d58a606654f9f4400e8b38591356f bf6425aca26dc85244259ff2b19c41b9"
    "f96f3ca9ec1dde434da7d2d392b905dd f3d1f9af93d1af5950bd493f5aa731b4"
    "056df31bd267b6b90a079831aaf579be 0a39013137aac6d404f518cfd4684064"
    "7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241"
    "e221af44860018ab0856972e194cd934";

/* RFC 9001 A.3: the protected server Initial, 135 bytes, packet number 1. */
static const char rfc9001_server[] =
    "cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a"
    "5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3"
    "dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84"
    "022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4"
    "2158407dd074ee";

/* RFC 9001 A.4: a Retry to A.2's client, new SCID f067a5502a4262b5, token "token". */
static const char rfc9001_retry[] =
    "ff000000010008f067a5502a4262b574 6f6b656e04a265ba2eff4d829058fb3f"
    "0f2496ba";

/* RFC 9369 A.2: the same client Initial under version 2 (0x6b3343cf). */
static const char rfc9369_client[] =
    "d76b3343cf088394c8f03e5157080000 449ea0c95e82ffe67b6abcdb4298b485"
    "dd04de806071bf03dceebfa162e75d6c 96058bdbfb127cdfcbf903388e99ad04"
    "9f9a3dd4425ae4d0992cfff18ecf0fdb 5a842d09747052f17ac2053d21f57c5d"
    "250f2c4f0e0202b70785b7946e992e58 a59ac52dea6774d4f03b55545243cf1a"
    "12834e3f249a78d395e0d18f4d766004 f1a2674802a747eaa901c3f10cda5500"
    "cb9122faa9f1df66c392079a1b40f0de 1c6054196a11cbea40afb6ef5253cd68"
    "18f6625efce3b6def6ba7e4b37a40f77 32e093daa7d52190935b8da58976ff33"
    "12ae50b187c1433c0f028edcc4c2838b 6a9bfc226ca4b4530e7a4ccee1bfa2a3"
    "d396ae5a3fb512384b2fdd851f784a65 e03f2c4fbe11a53c7777c023462239dd"
    "6f7521a3f6c7d5dd3ec9b3f233773d4b 46d23cc375eb198c63301c21801f6520"
    "bcfb7966fc49b393f0061d974a2706df 8c4a9449f11d7f3d2dcbb90c6b877045"
    "636e7c0c0fe4eb0f697545460c806910 d2c355f1d253bc9d2452aaa549e27a1f"
    "ac7cf4ed77f322e8fa894b6a83810a34 b361901751a6f5eb65a0326e07de7c12"
    "16ccce2d0193f958bb3850a833f7ae43 2b65bc5a53975c155aa4bcb4f7b2c4e5"
    "4df16efaf6ddea94e2c50b4cd1dfe060 17e0e9d02900cffe1935e0491d77ffb4"
    "fdf85290fdd893d577b1131a610ef6a5 c32b2ee0293617a37cbb08b847741c3b"
    "8017c25ca9052ca1079d8b78aebd4787 6d330a30f6a8c6d61dd1ab5589329de7"
    "14d19d61370f8149748c72f132f0fc99 f34d766c6938597040d8f9e2bb522ff9"
    "9c63a344d6a2ae8aa8e51b7b90a4a806 105fcbca31506c446151adfeceb51b91"
    "abfe43960977c87471cf9ad4074d30e1 0d6a7f03c63bd5d4317f68ff325ba3bd"
    "80bf4dc8b52a0ba031758022eb025cdd 770b44d6d6cf0670f4e990b22347a7db"
    "848265e3e5eb72dfe8299ad7481a4083 22cac55786e52f633b2fb6b614eaed18"
    "d703dd84045a274ae8bfa73379661388 d6991fe39b0d93debb41700b41f90a15"
    "c4d526250235ddcd6776fc77bc97e7a4 17ebcb31600d01e57f32162a8560cacc"
    "7e27a096d37a1a86952ec71bd89a3e9a 30a2a26162984d7740f81193e8238e61"
    "f6b5b984d4d3dfa033c1bb7e4f0037fe bf406d91c0dccf32acf423cfa1e70710"
    "10d3f270121b493ce85054ef58bada42 310138fe081adb04e2bd901f2f13458b"
    "3d6758158197107c14ebb193230cd115 7380aa79cae1374a7c1e5bbcb80ee23e"
    "06ebfde206bfb0fcbc0edc4ebec30966 1bdd908d532eb0c6adc38b7ca7331dce"
    "8dfce39ab71e7c32d318d136b6100671 a1ae6a6600e3899f31f0eed19e3417d1"
    "34b90c9058f8632c798d4490da498730 7cba922d61c39805d072b589bd52fdf1"
    "e86215c2d54e6670e07383a27bbffb5a ddf47d66aa85a0c6f9f32e59d85a44dd"
    "5d3b22dc2be80919b490437ae4f36a0a e55edf1d0b5cb4e9a3ecabee93dfc6e3"
    "8d209d0fa6536d27a5d6fbb17641cde2 7525d61093f1b28072d111b2b4ae5f89"
    "d5974ee12e5cf7d5da4d6a31123041f3 3e61407e76cffcdcfd7e19ba58cf4b53"
    "6f4c4938ae79324dc402894b44faf8af bab35282ab659d13c93f70412e85cb19"
    "9a37ddec600545473cfb5a05e08d0b20 9973b2172b4d21fb69745a262ccde96b"
    "a18b2faa745b6fe189cf772a9f84cbfc";

/* RFC 9369 A.3: the server Initial under version 2, 135 bytes. */
static const char rfc9369_server[] =
    "dc6b3343cf0008f067a5502a4262b500 4075d92faaf16f05d8a4398c47089698"
    "baeea26b91eb761d9b89237bbf872630 17915358230035f7fd3945d88965cf17"
    "f9af6e16886c61bfc703106fbaf3cb4c fa52382dd16a393e42757507698075b2"
    "c984c707f0a0812d8cd5a6881eaf21ce da98f4bd23f6fe1a3e2c43edd9ce7ca8"
    "4bed8521e2e140";

/* RFC 9369 A.4: the Retry under version 2. */
static const char rfc9369_retry[] =
    "cf6b3343cf0008f067a5502a4262b574 6f6b656ec8646ce8bfe33952d9555436"
    "65dcc7b6";

/* ---- message sink ----------------------------------------------------- */

struct got {
	int n;
	struct {
		bool from_client;
		uint32_t version;
		uint8_t type;
		uint32_t len;
		uint32_t offset;
		uint8_t body[8192];
	} m[8];
};

static void
sink(void *ctx, const struct quic_msg *m)
{
	struct got *g = ctx;

	if (g->n < 8) {
		g->m[g->n].from_client = m->from_client;
		g->m[g->n].version = m->version;
		g->m[g->n].type = m->type;
		g->m[g->n].len = m->len;
		g->m[g->n].offset = m->offset;
		memcpy(g->m[g->n].body, m->body, m->len < 8192 ? m->len : 8192);
	}
	g->n++;
}

static struct got G;

/* Feed one datagram from an exact-size heap copy (ASan sees over-reads). */
static int
feed(struct quic_conn *c, bool from_client, const uint8_t *p, size_t n)
{
	uint8_t *b = t_dup(p, n);
	int st = quic_datagram(c, from_client, b, n, sink, &G);

	free(b);
	return st;
}

/* ---- packets built here: tests/quic_seal.h --------------------------- */

/* A packet of the RFC's connection: keys from rfc_dcid. */
static struct pk
rfc_pk(uint32_t version, bool from_client, uint64_t pn)
{
	struct pk k = { 0 };

	k.version = version;
	k.from_client = from_client;
	k.key_dcid = rfc_dcid;
	k.key_dcid_len = 8;
	k.dcid = from_client ? rfc_dcid : NULL;
	k.dcid_len = from_client ? 8 : 0;
	k.scid = from_client ? NULL : rfc_scid;
	k.scid_len = from_client ? 0 : 8;
	k.pn = pn;
	k.pn_len = 2;
	return k;
}

/* A CRYPTO frame (RFC 9000 s19.6) carrying p[off, off + len). */
static size_t
crypto_frame(uint8_t *o, const uint8_t *p, uint64_t off, size_t len)
{
	size_t n = 0;

	o[n++] = 0x06;
	n += put_varint(o + n, off);
	n += put_varint(o + n, len);
	memcpy(o + n, p + off, len);
	return n + len;
}

/* The RFC's ClientHello and ServerHello messages (with their 4-byte headers). */
static uint8_t CH[256], SH[128];
static size_t ch_len, sh_len;

static void
load_hellos(void)
{
	uint8_t b[512];
	size_t n = unhex(rfc_client_crypto, b, sizeof(b));

	ch_len = n - 4;				/* 06 00 40f1 */
	memcpy(CH, b + 4, ch_len);
	n = unhex(rfc_server_payload, b, sizeof(b));
	sh_len = n - 9;				/* ACK (5 bytes), 06 00 405a */
	memcpy(SH, b + 9, sh_len);
}

static uint8_t pkt[4][2048];
static size_t pkt_len[4];

static void
load_rfc(uint32_t v)
{
	pkt_len[0] = unhex(v == QUIC_V1 ? rfc9001_client : rfc9369_client, pkt[0], 2048);
	pkt_len[1] = unhex(v == QUIC_V1 ? rfc9001_server : rfc9369_server, pkt[1], 2048);
	pkt_len[2] = unhex(v == QUIC_V1 ? rfc9001_retry : rfc9369_retry, pkt[2], 2048);
}

/* ---- keys ---------------------------------------------------------------- */

static void
check_keys(uint32_t v, const char *ck, const char *civ, const char *chp,
    const char *sk, const char *siv, const char *shp)
{
	struct quic_keys k[2];
	uint8_t want[16];

	T_EQ_I(quic_initial_keys(v, rfc_dcid, 8, k), P_OK);
	unhex(ck, want, 16);
	T_EQ_MEM(k[0].key, want, 16);
	unhex(civ, want, 12);
	T_EQ_MEM(k[0].iv, want, 12);
	unhex(chp, want, 16);
	T_EQ_MEM(k[0].hp, want, 16);
	unhex(sk, want, 16);
	T_EQ_MEM(k[1].key, want, 16);
	unhex(siv, want, 12);
	T_EQ_MEM(k[1].iv, want, 12);
	unhex(shp, want, 16);
	T_EQ_MEM(k[1].hp, want, 16);
}

/* RFC 9001 A.1 */
static void
test_quic_keys_v1(void)
{
	check_keys(QUIC_V1, "1f369613dd76d5467730efcbe3b1a22d", "fa044b2f42a3fd3b46fb255c",
	    "9f50449e04a0e810283a1e9933adedd2", "cf3a5331653c364c88f0f379b6067e37",
	    "0ac1493ca1905853b0bba03e", "c206b8d9b9f0f37644430b490eeaa314");
}

/* RFC 9369 A.1 */
static void
test_quic_keys_v2(void)
{
	struct quic_keys k[2];

	check_keys(QUIC_V2, "8b1a0bc121284290a29e0971b5cd045d", "91f73e2351d8fa91660e909f",
	    "45b95e15235d6f45a6b19cbcb0294ba9", "82db637861d55e1d011f19ea71d5d2a7",
	    "dd13c276499c0249d3310652", "edf6d05c83121201b436e16877593c3a");
	T_EQ_I(quic_initial_keys(0xff00001du, rfc_dcid, 8, k), P_UNSUPP);	/* draft 29 */
}

/* The sealer rebuilds the RFC's protected client Initials exactly. */
static void
test_quic_sealer_matches_rfc(void)
{
	static const uint32_t vs[2] = { QUIC_V1, QUIC_V2 };

	for (int i = 0; i < 2; i++) {
		uint8_t payload[1162] = { 0 }, out[1300];
		struct pk k = rfc_pk(vs[i], true, 2);
		size_t n;

		load_rfc(vs[i]);
		unhex(rfc_client_crypto, payload, sizeof(payload));	/* + PADDING */
		k.pn_len = 4;
		n = seal(&k, payload, sizeof(payload), out);
		T_EQ_U(n, 1200);
		T_EQ_U(pkt_len[0], 1200);
		T_EQ_MEM(out, pkt[0], 1200);
		T_EQ_U(pkt_len[1], 135);		/* 18-byte header + Length 0x75 */
		T_EQ_U(pkt_len[2], 36);
		/* and the server's, from A.3's payload (2-byte packet number 1) */
		k = rfc_pk(vs[i], false, 1);
		n = unhex(rfc_server_payload, payload, sizeof(payload));
		n = seal(&k, payload, n, out);
		T_EQ_U(n, 135);
		T_EQ_MEM(out, pkt[1], 135);
	}
}

/* ---- the RFC packets through quic_datagram ------------------------------- */

static void
rfc_exchange(uint32_t v)
{
	struct quic_conn c;
	struct memcap mem = { 0 };
	struct tls_client_hello ch;
	struct tls_server_hello sh;

	load_rfc(v);
	quic_conn_init(&c, &mem);
	memset(&G, 0, sizeof(G));
	T_CHECK(quic_looks_like_initial(pkt[0], pkt_len[0]));
	T_CHECK(quic_looks_like_initial(pkt[1], pkt_len[1]));
	T_CHECK(!quic_looks_like_initial(pkt[2], pkt_len[2]));	/* Retry */
	T_EQ_I(feed(&c, true, pkt[0], pkt_len[0]), P_OK);
	T_EQ_I(G.n, 1);
	T_EQ_U(G.m[0].type, TLS_HS_CLIENT_HELLO);
	T_CHECK(G.m[0].from_client);
	T_EQ_U(G.m[0].version, v);
	T_EQ_U(G.m[0].len, 237);		/* 01 0000ed */
	T_EQ_U(G.m[0].len, ch_len - 4);
	T_EQ_MEM(G.m[0].body, CH + 4, ch_len - 4);
	T_EQ_U(c.version, v);
	T_EQ_U(c.n_initial, 1);
	T_EQ_I(c.largest_pn[0], 2);
	T_EQ_U(c.n_dcid, 1);
	T_EQ_MEM(c.dcid[0].id, rfc_dcid, 8);
	T_CHECK(c.crypto[0].buf == NULL);	/* all read: buffer released */
	T_EQ_U(mem.used, 0);
	T_CHECK(mem.peak > 0);
	T_EQ_I(tls_hs_client_hello(G.m[0].body, G.m[0].len, &ch), P_OK);
	T_EQ_STR(ch.sni, "example.com");
	T_EQ_U(ch.n_alpn, 1);
	T_EQ_MEM(ch.alpn[0], "alpn", 4);
	T_EQ_U(ch.n_ciphers, 2);
	T_EQ_U(ch.ciphers[0], 0x1301);
	T_EQ_U(ch.n_versions, 1);
	T_EQ_U(ch.versions[0], 0x0304);

	T_EQ_I(feed(&c, false, pkt[1], pkt_len[1]), P_OK);
	T_EQ_I(G.n, 2);
	T_EQ_U(G.m[1].type, TLS_HS_SERVER_HELLO);
	T_CHECK(!G.m[1].from_client);
	T_EQ_U(G.m[1].len, 86);			/* 02 000056 */
	T_EQ_MEM(G.m[1].body, SH + 4, sh_len - 4);
	T_EQ_I(c.largest_pn[1], 1);
	T_EQ_I(tls_hs_server_hello(G.m[1].body, G.m[1].len, &sh), P_OK);
	T_EQ_U(sh.cipher, 0x1301);
	T_EQ_U(sh.version, 0x0304);

	/* A.4: the Retry's tag is over the client's original DCID */
	T_EQ_I(feed(&c, false, pkt[2], pkt_len[2]), P_OK);
	T_EQ_U(c.n_retry, 1);
	T_EQ_U(c.n_dcid, 2);
	T_EQ_U(c.dcid[1].len, 8);
	T_EQ_MEM(c.dcid[1].id, rfc_scid, 8);
	T_EQ_U(c.cur_dcid, 1);
	pkt[2][pkt_len[2] - 1] ^= 1;		/* a forged tag */
	T_EQ_I(feed(&c, false, pkt[2], pkt_len[2]), P_BAD);
	T_EQ_U(c.n_retry_bad, 1);
	T_EQ_I(feed(&c, true, pkt[2], pkt_len[2] - 1), P_BAD);	/* clients send none */

	/* retransmissions change nothing */
	T_EQ_I(feed(&c, true, pkt[0], pkt_len[0]), P_OK);
	T_EQ_I(G.n, 2);
	T_EQ_U(c.crypto[0].n_dup_bytes, ch_len);
	quic_conn_free(&c);
	T_EQ_U(mem.used, 0);
}

static void
test_quic_rfc9001_exchange(void)
{
	rfc_exchange(QUIC_V1);
}

static void
test_quic_rfc9369_exchange(void)
{
	rfc_exchange(QUIC_V2);
}

/*
 * Compatible version negotiation (RFC 9368, RFC 9369 s4.1): a v1 client
 * Initial answered by a v2 server Initial; both keys come from the same
 * original DCID, each with its version's salt and labels.
 */
static void
test_quic_v1_to_v2(void)
{
	struct quic_conn c;

	quic_conn_init(&c, NULL);
	memset(&G, 0, sizeof(G));
	load_rfc(QUIC_V1);
	T_EQ_I(feed(&c, true, pkt[0], pkt_len[0]), P_OK);
	T_EQ_U(c.version, QUIC_V1);
	load_rfc(QUIC_V2);
	T_EQ_I(feed(&c, false, pkt[1], pkt_len[1]), P_OK);
	T_EQ_I(G.n, 2);
	T_EQ_U(G.m[1].type, TLS_HS_SERVER_HELLO);
	T_EQ_U(G.m[1].version, QUIC_V2);
	T_EQ_U(c.version, QUIC_V2);
	T_EQ_U(c.dcid[0].keys_version, QUIC_V2);
	quic_conn_free(&c);
}

/* A server Initial alone cannot be opened: the client's DCID is unknown. */
static void
test_quic_server_without_client(void)
{
	struct quic_conn c;

	load_rfc(QUIC_V1);
	quic_conn_init(&c, NULL);
	memset(&G, 0, sizeof(G));
	T_EQ_I(feed(&c, false, pkt[1], pkt_len[1]), P_BAD);
	T_EQ_U(c.n_decrypt_fail, 1);
	T_EQ_I(G.n, 0);
	T_EQ_U(c.n_dcid, 0);		/* a server packet never adds a key source */
	quic_conn_free(&c);
}

/*
 * Every proper prefix of the RFC datagrams fails (a datagram is complete or
 * it is not QUIC) and delivers nothing; every one-bit flip never delivers a
 * message and is P_OK only where it turned the packet into one that is
 * skipped without decryption (type bits to Handshake/0-RTT, header form).
 */
static void
prefixes_and_flips(uint32_t v, int which)
{
	struct quic_conn c;
	uint8_t *b;
	size_t n;
	int bad_prefix = 0, bad_flip = 0, ok_flips = 0;

	load_rfc(v);
	n = pkt_len[which];
	for (size_t k = 0; k < n; k++) {
		quic_conn_init(&c, NULL);
		memset(&G, 0, sizeof(G));
		if (which == 1)
			(void)feed(&c, true, pkt[0], pkt_len[0]), G.n = 0;
		b = t_dup(pkt[which], k);
		if (quic_datagram(&c, which == 0, b, k, sink, &G) == P_OK || G.n != 0)
			bad_prefix++;
		free(b);
		quic_conn_free(&c);
	}
	T_EQ_I(bad_prefix, 0);
	b = t_dup(pkt[which], n);
	for (size_t i = 0; i < n * 8; i++) {
		int st;

		quic_conn_init(&c, NULL);
		memset(&G, 0, sizeof(G));
		if (which == 1)
			(void)feed(&c, true, pkt[0], pkt_len[0]), G.n = 0;
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		st = quic_datagram(&c, which == 0, b, n, sink, &G);
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		if (G.n != 0 || (st == P_OK && c.n_initial != (which == 1 ? 1u : 0u)))
			bad_flip++;
		if (st == P_OK)
			ok_flips++;
		quic_conn_free(&c);
	}
	free(b);
	T_EQ_I(bad_flip, 0);
	T_CHECK(ok_flips <= 3);			/* bit 7 and the two type bits */
}

static void
test_quic_prefixes_and_flips(void)
{
	prefixes_and_flips(QUIC_V1, 0);
	prefixes_and_flips(QUIC_V1, 1);
	prefixes_and_flips(QUIC_V2, 0);
	prefixes_and_flips(QUIC_V2, 1);
}

/* ---- built packets --------------------------------------------------------- */

/* ClientHello split over two Initial datagrams, fed in both orders and repeated. */
static void
test_quic_split_client_hello(void)
{
	static const uint32_t vs[2] = { QUIC_V1, QUIC_V2 };

	for (int vi = 0; vi < 2; vi++) {
		for (int order = 0; order < 2; order++) {
			uint8_t fr[512], d[2][1500];
			size_t dl[2], half = ch_len / 2, n;
			struct quic_conn c;
			struct memcap mem = { 0 };
			struct pk k;

			quic_conn_init(&c, &mem);
			memset(&G, 0, sizeof(G));
			k = rfc_pk(vs[vi], true, 0);
			n = crypto_frame(fr, CH, 0, half);
			dl[0] = seal(&k, fr, n, d[0]);
			k.pn = 1;
			n = crypto_frame(fr, CH, half, ch_len - half);
			dl[1] = seal(&k, fr, n, d[1]);
			T_EQ_I(feed(&c, true, d[order], dl[order]), P_OK);
			T_EQ_I(G.n, 0);
			T_EQ_I(feed(&c, true, d[order], dl[order]), P_OK);	/* again */
			T_EQ_I(G.n, 0);
			T_CHECK(mem.used > 0);			/* half a hello held */
			T_EQ_I(feed(&c, true, d[!order], dl[!order]), P_OK);
			T_EQ_I(G.n, 1);
			T_EQ_U(G.m[0].len, ch_len - 4);
			T_EQ_MEM(G.m[0].body, CH + 4, ch_len - 4);
			T_EQ_I(feed(&c, true, d[0], dl[0]), P_OK);
			T_EQ_I(feed(&c, true, d[1], dl[1]), P_OK);
			T_EQ_I(G.n, 1);					/* exactly once */
			T_EQ_U(c.n_initial, 5);
			T_EQ_U(mem.used, 0);
			quic_conn_free(&c);
		}
	}
}

/*
 * A Retry between the two datagrams of a split ClientHello (seen with
 * chromium and ngtcp2 -V): the second datagram still uses the original
 * keys, the retransmission after the Retry uses the Retry's SCID, and so
 * does the server.  Exactly one ClientHello and one ServerHello come out.
 */
static void
test_quic_retry_inside_client_hello(void)
{
	uint8_t fr[512], d[1500];
	size_t n, dl, half = ch_len / 2;
	struct quic_conn c;
	struct pk k;

	load_rfc(QUIC_V1);
	quic_conn_init(&c, NULL);
	memset(&G, 0, sizeof(G));
	k = rfc_pk(QUIC_V1, true, 0);
	n = crypto_frame(fr, CH, half, ch_len - half);	/* the second half first */
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	T_EQ_I(feed(&c, false, pkt[2], pkt_len[2]), P_OK);	/* A.4 Retry */
	T_EQ_U(c.cur_dcid, 1);
	k.pn = 1;
	n = crypto_frame(fr, CH, 0, half);
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	T_EQ_I(G.n, 1);
	T_EQ_MEM(G.m[0].body, CH + 4, ch_len - 4);
	k.pn = 2;					/* resent under the new DCID */
	k.key_dcid = k.dcid = rfc_scid;
	n = crypto_frame(fr, CH, 0, ch_len);
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	T_EQ_I(G.n, 1);
	k = rfc_pk(QUIC_V1, false, 0);
	k.key_dcid = rfc_scid;
	n = crypto_frame(fr, SH, 0, sh_len);
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, false, d, dl), P_OK);
	T_EQ_I(G.n, 2);
	T_EQ_U(G.m[1].type, TLS_HS_SERVER_HELLO);
	T_EQ_U(c.n_initial, 4);
	T_EQ_U(c.n_decrypt_fail, 0);
	quic_conn_free(&c);
}

/*
 * CRYPTO frames out of order and overlapping inside one packet (chromium
 * does this), plus a PING, an ACK with ranges and ECN counts, and padding.
 */
static void
test_quic_frames_in_one_packet(void)
{
	uint8_t fr[1200], d[1500];
	size_t n = 0, dl;
	struct quic_conn c;
	struct pk k = rfc_pk(QUIC_V1, true, 7);

	n += crypto_frame(fr + n, CH, 200, ch_len - 200);	/* the tail first */
	fr[n++] = 0x01;						/* PING */
	n += crypto_frame(fr + n, CH, 50, 160);			/* 50..210: overlaps */
	fr[n++] = 0x03;						/* ACK_ECN */
	fr[n++] = 0x0a;						/* largest 10 */
	fr[n++] = 0x00;						/* delay */
	fr[n++] = 0x01;						/* 1 more range */
	fr[n++] = 0x02;						/* first range 2 */
	fr[n++] = 0x01;						/* gap 1 */
	fr[n++] = 0x01;						/* range 1 */
	fr[n++] = 0x00, fr[n++] = 0x00, fr[n++] = 0x00;		/* ECN counts */
	n += crypto_frame(fr + n, CH, 0, 60);
	memset(fr + n, 0, 300);					/* PADDING */
	n += 300;
	quic_conn_init(&c, NULL);
	memset(&G, 0, sizeof(G));
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	T_EQ_I(G.n, 1);
	T_EQ_MEM(G.m[0].body, CH + 4, ch_len - 4);
	T_EQ_U(c.n_crypto_frames, 3);
	T_EQ_U(c.crypto[0].n_dup_bytes, 10 + 10);	/* 200..210 and 50..60 */
	/* CONNECTION_CLOSE (0x1c): error 0x0a, frame type 0x06, reason "oops" */
	n = 0;
	fr[n++] = 0x1c, fr[n++] = 0x0a, fr[n++] = 0x06, fr[n++] = 0x04;
	memcpy(fr + n, "oops", 4);
	n += 4;
	k.pn = 8;
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	fr[3] = 0x05;				/* the reason runs past the packet */
	k.pn = 9;
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, true, d, dl), P_BAD);
	T_EQ_U(c.n_malformed, 1);
	T_EQ_U(c.n_initial, 3);
	quic_conn_free(&c);
}

/* A frame not allowed in Initial packets: the whole packet is dropped. */
static void
test_quic_forbidden_frame(void)
{
	uint8_t fr[600], d[1500];
	size_t n = 0, dl;
	struct quic_conn c;
	struct pk k = rfc_pk(QUIC_V1, true, 0);

	n += crypto_frame(fr, CH, 0, ch_len);
	fr[n++] = 0x08;				/* STREAM: 1-RTT only */
	fr[n++] = 0x00;
	quic_conn_init(&c, NULL);
	memset(&G, 0, sizeof(G));
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, true, d, dl), P_BAD);
	T_EQ_U(c.n_violation, 1);
	T_EQ_I(G.n, 0);				/* the CRYPTO frame before it is not used */
	T_EQ_U(c.crypto[0].contig, 0);
	/* a frame type in a longer encoding than needed (s12.4): 0x4006 */
	n = 0;
	fr[n++] = 0x40, fr[n++] = 0x06;
	n += crypto_frame(fr + n, CH, 0, ch_len) - 1;
	memmove(fr + 2, fr + 3, n - 2);
	k.pn = 1;
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, true, d, dl), P_BAD);
	T_EQ_U(c.n_violation, 2);
	/* reserved header bits set (checked after decryption) */
	k.pn = 2;
	k.reserved = 0x0c;
	n = crypto_frame(fr, CH, 0, ch_len);
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, true, d, dl), P_BAD);
	T_EQ_U(c.n_violation, 3);
	T_EQ_I(G.n, 0);
	/* a truncated frame is malformed */
	k.pn = 3;
	k.reserved = 0;
	n = crypto_frame(fr, CH, 0, ch_len);
	dl = seal(&k, fr, n - 10 + 2 - 2, d);	/* CRYPTO Length says 10 more */
	T_EQ_I(feed(&c, true, d, dl), P_BAD);
	T_EQ_U(c.n_malformed, 1);
	T_EQ_I(G.n, 0);
	/* a server Initial with a token is a violation */
	k = rfc_pk(QUIC_V1, false, 0);
	k.token = (const uint8_t *)"tok";
	k.token_len = 3;
	n = crypto_frame(fr, SH, 0, sh_len);
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, false, d, dl), P_BAD);
	T_EQ_U(c.n_violation, 4);
	quic_conn_free(&c);
}

/*
 * Coalesced packets (RFC 9000 s12.2): Initial + Handshake, Initial + a
 * short-header tail, and a second packet for another DCID (ignored).
 */
static void
test_quic_coalesced(void)
{
	uint8_t fr[600], d[3000], junk[64];
	size_t n, dl;
	struct quic_conn c;
	struct pk k = rfc_pk(QUIC_V1, false, 0);

	memset(junk, 0x5a, sizeof(junk));
	load_rfc(QUIC_V1);
	quic_conn_init(&c, NULL);
	memset(&G, 0, sizeof(G));
	T_EQ_I(feed(&c, true, pkt[0], pkt_len[0]), P_OK);
	n = crypto_frame(fr, SH, 0, sh_len);
	dl = seal(&k, fr, n, d);
	k.type = 2;				/* Handshake: keys are not public */
	k.pn = 0;
	dl += seal(&k, junk, sizeof(junk), d + dl);
	T_EQ_I(feed(&c, false, d, dl), P_OK);
	T_EQ_I(G.n, 2);
	T_EQ_U(G.m[1].type, TLS_HS_SERVER_HELLO);
	T_EQ_U(c.n_handshake, 1);
	/* Initial + short header (first bit 0): the tail is ignored */
	k = rfc_pk(QUIC_V1, false, 1);
	memset(fr, 0, 4);
	fr[0] = 0x01;				/* PING, PADDING to sample */
	dl = seal(&k, fr, 4, d);
	d[dl] = 0x40;
	memset(d + dl + 1, 0x33, 40);
	T_EQ_I(feed(&c, false, d, dl + 41), P_OK);
	T_EQ_U(c.n_short, 1);
	T_EQ_U(c.n_initial, 3);
	/* a second packet for another connection ID is ignored */
	k = rfc_pk(QUIC_V1, false, 2);
	dl = seal(&k, fr, 4, d);
	k.dcid = rfc_dcid;
	k.dcid_len = 8;
	k.pn = 3;
	dl += seal(&k, fr, 4, d + dl);
	T_EQ_I(feed(&c, false, d, dl), P_OK);
	T_EQ_U(c.n_dcid_mismatch, 1);
	T_EQ_U(c.n_initial, 4);
	/* Initial + a packet whose Length runs past the datagram: stop there */
	k = rfc_pk(QUIC_V1, false, 4);
	dl = seal(&k, fr, 4, d);
	n = seal(&k, fr, 4, d + dl);
	T_EQ_I(feed(&c, false, d, dl + n - 1), P_BAD);
	T_EQ_U(c.n_initial, 5);
	T_EQ_U(c.n_malformed, 1);
	quic_conn_free(&c);
}

/* Version Negotiation, unknown versions, empty and short datagrams. */
static void
test_quic_other_packets(void)
{
	/* s17.2.1: VN, version 0, DCID, SCID, supported versions 1 and 2 */
	static const uint8_t vn[] = {
		0x80, 0, 0, 0, 0, 0x04, 1, 2, 3, 4, 0x00,
		0x00, 0x00, 0x00, 0x01, 0x6b, 0x33, 0x43, 0xcf,
	};
	/* draft-29 (0xff00001d) Initial header: recognised, not decrypted */
	static const uint8_t d29[] = {
		0xc0, 0xff, 0x00, 0x00, 0x1d, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0x00,
		0x41, 0x00,
	};
	static const uint8_t shorth[] = { 0x41, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	struct quic_conn c;

	quic_conn_init(&c, NULL);
	T_EQ_I(feed(&c, false, vn, sizeof(vn)), P_UNSUPP);
	T_EQ_U(c.n_vn, 1);
	T_EQ_I(feed(&c, false, vn, sizeof(vn) - 1), P_BAD);	/* versions % 4 */
	T_EQ_I(feed(&c, true, d29, sizeof(d29)), P_UNSUPP);
	T_EQ_U(c.n_other_version, 1);
	T_EQ_U(c.other_version, 0xff00001d);
	T_CHECK(!quic_looks_like_initial(d29, sizeof(d29)));
	T_CHECK(!quic_looks_like_initial(vn, sizeof(vn)));
	T_CHECK(!quic_looks_like_initial(shorth, sizeof(shorth)));
	T_CHECK(!quic_looks_like_initial(NULL, 0));
	T_EQ_I(feed(&c, true, shorth, sizeof(shorth)), P_OK);
	T_EQ_U(c.n_short, 1);
	T_EQ_I(quic_datagram(&c, true, NULL, 0, sink, &G), P_BAD);
	T_EQ_U(c.n_initial, 0);
	quic_conn_free(&c);
}

/*
 * The client's DCID changes: after the server's first Initial the client
 * addresses the server's SCID but keeps the original keys; after a Retry,
 * keys come from the Retry's SCID, for the server's Initials too.
 */
static void
test_quic_dcid_changes(void)
{
	uint8_t fr[600], d[1500];
	static const uint8_t ping[4] = { 0x01, 0, 0, 0 };	/* PING + PADDING */
	size_t n, dl;
	struct quic_conn c;
	struct pk k;
	static const uint8_t other[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };

	load_rfc(QUIC_V1);
	quic_conn_init(&c, NULL);
	memset(&G, 0, sizeof(G));
	T_EQ_I(feed(&c, true, pkt[0], pkt_len[0]), P_OK);
	/* client ACK/PING addressed to the server's SCID, original keys */
	k = rfc_pk(QUIC_V1, true, 3);
	k.dcid = rfc_scid;
	dl = seal(&k, ping, sizeof(ping), d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	T_EQ_U(c.n_initial, 2);
	T_EQ_U(c.n_dcid, 1);			/* no new key source was needed */

	/* A.4 Retry, then a server Initial keyed by the Retry's SCID */
	T_EQ_I(feed(&c, false, pkt[2], pkt_len[2]), P_OK);
	k = rfc_pk(QUIC_V1, false, 0);
	k.key_dcid = rfc_scid;
	n = crypto_frame(fr, SH, 0, sh_len);
	dl = seal(&k, fr, n, d);
	T_EQ_I(feed(&c, false, d, dl), P_OK);
	T_EQ_I(G.n, 2);
	T_EQ_U(G.m[1].type, TLS_HS_SERVER_HELLO);
	T_EQ_U(c.cur_dcid, 1);
	/* ... and the original keys still work for a late server packet */
	k.key_dcid = rfc_dcid;
	k.pn = 1;
	dl = seal(&k, ping, sizeof(ping), d);
	T_EQ_I(feed(&c, false, d, dl), P_OK);
	T_EQ_U(c.cur_dcid, 0);

	/* a client Initial under keys of its own new DCID: the fallback */
	k = rfc_pk(QUIC_V1, true, 4);
	k.key_dcid = other;
	k.dcid = other;
	dl = seal(&k, ping, sizeof(ping), d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	T_EQ_U(c.n_dcid, 3);
	T_EQ_MEM(c.dcid[2].id, other, 8);
	/* a server Initial under keys nobody announced fails */
	k = rfc_pk(QUIC_V1, false, 2);
	k.key_dcid = fr;			/* 8 arbitrary bytes */
	dl = seal(&k, ping, sizeof(ping), d);
	T_EQ_I(feed(&c, false, d, dl), P_BAD);
	T_EQ_U(c.n_decrypt_fail, 1);
	/* the candidate set is bounded; the original stays in slot 0 */
	for (int i = 0; i < QUIC_DCID_MAX + 2; i++) {
		uint8_t id[8] = { 7, 7, 7, 7, 7, 7, 7, (uint8_t)i };

		k = rfc_pk(QUIC_V1, true, 10 + (uint64_t)i);
		k.key_dcid = id;
		k.dcid = id;
		dl = seal(&k, ping, sizeof(ping), d);
		T_EQ_I(feed(&c, true, d, dl), P_OK);
	}
	T_EQ_U(c.n_dcid, QUIC_DCID_MAX);
	T_EQ_MEM(c.dcid[0].id, rfc_dcid, 8);
	quic_conn_free(&c);
}

/* RFC 9000 A.3: packet numbers decode against the largest seen. */
static void
test_quic_packet_numbers(void)
{
	uint8_t d[1500];
	static const uint8_t ping[4] = { 0x01, 0, 0, 0 };
	size_t dl;
	struct quic_conn c;
	struct pk k = rfc_pk(QUIC_V1, true, 0xa82f30ea);

	quic_conn_init(&c, NULL);
	k.pn_len = 4;
	dl = seal(&k, ping, sizeof(ping), d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	T_EQ_I(c.largest_pn[0], 0xa82f30ea);
	k.pn = 0xa82f9b32;			/* sent as 9b32, the RFC's example */
	k.pn_len = 2;
	dl = seal(&k, ping, sizeof(ping), d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	T_EQ_I(c.largest_pn[0], 0xa82f9b32);
	k.pn = 0xa82f9b00;			/* older, 1 byte: 00 */
	k.pn_len = 1;
	dl = seal(&k, ping, sizeof(ping), d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	T_EQ_I(c.largest_pn[0], 0xa82f9b32);
	k.pn = 0xa82f9bf0;
	k.pn_len = 2;
	dl = seal(&k, ping, sizeof(ping), d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	k.pn = 0xa82f9c05;			/* across the 1-byte window edge: 05 */
	k.pn_len = 1;
	dl = seal(&k, ping, sizeof(ping), d);
	T_EQ_I(feed(&c, true, d, dl), P_OK);
	T_EQ_I(c.largest_pn[0], 0xa82f9c05);
	k.pn = 0xa8309c05;			/* too far for 1 byte: wrong nonce */
	dl = seal(&k, ping, sizeof(ping), d);
	T_EQ_I(feed(&c, true, d, dl), P_BAD);
	T_EQ_I(c.largest_pn[1], -1);		/* the server's space is separate */
	quic_conn_free(&c);
}

/* Caps and memcap refusals are clean errors. */
static void
test_quic_limits(void)
{
	uint8_t fr[1500], d[1600], big[QUIC_CRYPTO_MAX];
	size_t n, dl;
	struct quic_conn c;
	struct memcap mem = { 0 };
	struct pk k = rfc_pk(QUIC_V1, true, 0);

	memset(big, 0, sizeof(big));
	load_rfc(QUIC_V1);
	/* no budget for the packet copy */
	mem.limit = 100;
	quic_conn_init(&c, &mem);
	memset(&G, 0, sizeof(G));
	T_EQ_I(feed(&c, true, pkt[0], pkt_len[0]), P_NOMEM);
	T_EQ_U(c.n_nomem, 1);
	T_CHECK(mem.n_refused > 0);
	T_EQ_U(mem.used, 0);
	/* budget for the copy, not for the stream buffer (2 KiB) */
	mem.limit = 1300;
	T_EQ_I(feed(&c, true, pkt[0], pkt_len[0]), P_NOMEM);
	T_EQ_I(G.n, 0);
	T_EQ_U(mem.used, 0);
	mem.limit = 0;				/* a retransmission then succeeds */
	T_EQ_I(feed(&c, true, pkt[0], pkt_len[0]), P_OK);
	T_EQ_I(G.n, 1);
	quic_conn_free(&c);

	/* CRYPTO data past QUIC_CRYPTO_MAX */
	quic_conn_init(&c, &mem);
	fr[0] = 0x06;
	n = 1 + put_varint(fr + 1, QUIC_CRYPTO_MAX - 2);
	n += put_varint(fr + n, 4);
	memset(fr + n, 1, 4);
	dl = seal(&k, fr, n + 4, d);
	T_EQ_I(feed(&c, true, d, dl), P_LIMIT);
	T_EQ_U(c.n_limit, 1);
	/* a message header announcing more than the stream may hold */
	fr[0] = 0x06, fr[1] = 0x00, fr[2] = 0x04;
	fr[3] = 0x01, fr[4] = 0x01, fr[5] = 0x00, fr[6] = 0x00;	/* ClientHello, 64 KiB */
	k.pn = 1;
	dl = seal(&k, fr, 7, d);
	T_EQ_I(feed(&c, true, d, dl), P_LIMIT);
	T_CHECK(c.crypto[0].stopped);
	T_EQ_I(G.n, 1);
	quic_conn_free(&c);
	T_EQ_U(mem.used, 0);

	/* an Initial longer than QUIC_PKT_MAX is not decrypted */
	{
		static uint8_t hp[QUIC_PKT_MAX + 1200], hd[QUIC_PKT_MAX + 1300];

		memset(hp, 0, sizeof(hp));
		quic_conn_init(&c, &mem);
		k.pn = 2;
		dl = seal(&k, hp, sizeof(hp), hd);
		T_EQ_I(feed(&c, true, hd, dl), P_LIMIT);
		quic_conn_free(&c);
	}
	/* QUIC_FAIL_MAX failures: the connection stops trying */
	quic_conn_init(&c, &mem);
	for (int i = 0; i < QUIC_FAIL_MAX; i++)
		T_EQ_I(feed(&c, false, pkt[1], pkt_len[1]), P_BAD);
	T_EQ_I(feed(&c, true, pkt[0], pkt_len[0]), P_LIMIT);
	T_EQ_U(c.n_decrypt_fail, QUIC_FAIL_MAX);
	quic_conn_free(&c);
	(void)big;
}

/* ---- the reassembler alone ------------------------------------------------ */

static uint32_t rng = 12345;

static uint32_t
rnd(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

/* Add a range, then read everything contiguous into out. */
static int
add_read(struct quic_crypto *s, struct memcap *m, const uint8_t *src, size_t off, size_t len,
    uint8_t *out, size_t *out_len)
{
	uint8_t *b = t_dup(src + off, len);
	const uint8_t *p;
	size_t n;
	int st = quic_crypto_add(s, m, off, b, len);

	free(b);
	n = quic_crypto_peek(s, &p);
	if (n > 0)
		memcpy(out + *out_len, p, n);
	*out_len += n;
	quic_crypto_consume(s, n);
	quic_crypto_shrink(s, m);
	return st;
}

static void
test_quic_crypto_reassembly(void)
{
	static uint8_t src[20000], out[40000];
	struct quic_crypto s;
	struct memcap mem = { 0 };
	size_t out_len;
	int bad = 0;

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)rnd(256);
	/* three pieces in all six orders, each piece twice */
	static const int perm[6][3] = { {0,1,2}, {0,2,1}, {1,0,2}, {1,2,0}, {2,0,1}, {2,1,0} };
	static const size_t cut[4] = { 0, 700, 1800, 3000 };
	for (int pi = 0; pi < 6; pi++) {
		memset(&s, 0, sizeof(s));
		out_len = 0;
		for (int j = 0; j < 6; j++) {
			int piece = perm[pi][j % 3];

			if (add_read(&s, &mem, src, cut[piece], cut[piece + 1] - cut[piece],
			    out, &out_len) != P_OK)
				bad++;
		}
		if (out_len != 3000 || memcmp(out, src, 3000) != 0 || s.n_ranges != 0)
			bad++;
		if (s.n_dup_bytes != 3000)	/* every piece came twice */
			bad++;
		quic_crypto_free(&s, &mem);
	}
	T_EQ_I(bad, 0);
	/* random overlapping pieces in random order, until all has arrived */
	for (int round = 0; round < 200; round++) {
		size_t total = 1 + rnd(sizeof(src) - 1), guard = 0;

		memset(&s, 0, sizeof(s));
		out_len = 0;
		while (s.contig < total && guard++ < 100000) {
			size_t off = rnd((uint32_t)total), len = 1 + rnd(1500), back;
			int st;

			if (rnd(4) == 0) {	/* now and then the piece the reader waits for */
				back = s.contig < 100 ? s.contig : 100;
				off = s.contig - (back > 0 ? rnd((uint32_t)back) : 0);
			}

			if (len > total - off)
				len = total - off;
			st = add_read(&s, &mem, src, off, len, out, &out_len);
			if (st != P_OK && st != P_LIMIT)	/* LIMIT: range slots full */
				bad++;
			if (s.n_ranges > QUIC_CRYPTO_RANGES)
				bad++;
		}
		if (out_len != total || memcmp(out, src, total) != 0)
			bad++;
		quic_crypto_free(&s, &mem);
	}
	T_EQ_I(bad, 0);
	T_EQ_U(mem.used, 0);
}

static void
test_quic_crypto_caps(void)
{
	static uint8_t src[QUIC_CRYPTO_MAX];
	struct quic_crypto s;
	struct memcap mem = { 0 };
	struct quic_msg m;
	const uint8_t *p;

	memset(&s, 0, sizeof(s));
	/* QUIC_CRYPTO_RANGES holes are held, one more is refused */
	for (int i = 0; i < QUIC_CRYPTO_RANGES; i++)
		T_EQ_I(quic_crypto_add(&s, &mem, 100 + 20 * (uint64_t)i, src, 10), P_OK);
	T_EQ_U(s.n_ranges, QUIC_CRYPTO_RANGES);
	T_EQ_I(quic_crypto_add(&s, &mem, 5000, src, 10), P_LIMIT);
	T_EQ_U(s.n_ranges, QUIC_CRYPTO_RANGES);
	/* ... but one that joins two ranges is fine */
	T_EQ_I(quic_crypto_add(&s, &mem, 105, src, 30), P_OK);
	T_EQ_U(s.n_ranges, QUIC_CRYPTO_RANGES - 1);
	T_EQ_U(quic_crypto_peek(&s, &p), 0);
	/* offsets past the cap, and a wire offset near 2^62 */
	T_EQ_I(quic_crypto_add(&s, &mem, QUIC_CRYPTO_MAX - 1, src, 2), P_LIMIT);
	T_EQ_I(quic_crypto_add(&s, &mem, (UINT64_C(1) << 62) - 2, src, 1), P_LIMIT);
	T_EQ_I(quic_crypto_add(&s, &mem, QUIC_CRYPTO_MAX - 1, src, 1), P_OK);
	T_CHECK(s.cap <= QUIC_CRYPTO_MAX);
	T_EQ_U(mem.used, s.cap);
	quic_crypto_free(&s, &mem);
	T_EQ_U(mem.used, 0);

	/* the memcap refuses: nothing is kept, nothing changes */
	memset(&s, 0, sizeof(s));
	mem.limit = 1000;
	T_EQ_I(quic_crypto_add(&s, &mem, 0, src, 10), P_NOMEM);
	T_EQ_U(s.contig, 0);
	T_CHECK(s.buf == NULL);
	mem.limit = 4096;
	T_EQ_I(quic_crypto_add(&s, &mem, 0, src, 10), P_OK);
	T_EQ_I(quic_crypto_add(&s, &mem, 3000, src, 2000), P_NOMEM);	/* needs 8 KiB */
	T_EQ_U(s.contig, 10);
	T_EQ_U(s.n_ranges, 0);
	quic_crypto_free(&s, &mem);
	mem.limit = 0;

	/* messages: split at the 4-byte header, complete only when all arrived */
	memset(&s, 0, sizeof(s));
	src[0] = 1, src[1] = 0, src[2] = 0x01, src[3] = 0x00;	/* type 1, 256 bytes */
	src[260] = 2, src[261] = 0, src[262] = 0, src[263] = 0;	/* type 2, empty */
	T_EQ_I(quic_crypto_add(&s, &mem, 0, src, 3), P_OK);
	T_EQ_I(quic_crypto_next_msg(&s, &m), P_MORE);
	T_EQ_I(quic_crypto_add(&s, &mem, 3, src + 3, 200), P_OK);
	T_EQ_I(quic_crypto_next_msg(&s, &m), P_MORE);
	T_EQ_I(quic_crypto_add(&s, &mem, 203, src + 203, 61), P_OK);
	T_EQ_I(quic_crypto_next_msg(&s, &m), P_OK);
	T_EQ_U(m.type, 1);
	T_EQ_U(m.len, 256);
	T_EQ_U(m.offset, 0);
	T_CHECK(m.body == s.buf + 4);
	T_EQ_I(quic_crypto_next_msg(&s, &m), P_OK);
	T_EQ_U(m.type, 2);
	T_EQ_U(m.len, 0);
	T_EQ_U(m.offset, 260);
	T_EQ_I(quic_crypto_next_msg(&s, &m), P_MORE);
	quic_crypto_shrink(&s, &mem);
	T_CHECK(s.buf == NULL);
	T_EQ_U(mem.used, 0);
	/* a header announcing more than TLS_HS_MAX or the stream cap stops it */
	src[264] = 11, src[265] = 0xff, src[266] = 0xff, src[267] = 0xff;
	T_EQ_I(quic_crypto_add(&s, &mem, 264, src + 264, 4), P_OK);
	T_EQ_I(quic_crypto_next_msg(&s, &m), P_LIMIT);
	T_CHECK(s.stopped);
	T_EQ_I(quic_crypto_next_msg(&s, &m), P_MORE);
	T_EQ_I(quic_crypto_add(&s, &mem, 268, src, 4), P_OK);	/* ignored */
	quic_crypto_free(&s, &mem);
	T_EQ_U(mem.used, 0);
}

/* ---- captures ------------------------------------------------------------- */

/* One UDP flow's QUIC state and what came out of it. */
struct flowq {
	bool used;
	uint8_t cli[16], srv[16];
	uint16_t cport, sport;
	struct quic_conn c;
	struct got g;
	int n_ch_dgrams;		/* client datagrams until the ClientHello completed */
	int n_dgrams[2];
};

struct capres {
	int n_flows;
	struct flowq f[8];
	int n_udp;
	int st_count[8];		/* by -status */
};

static struct capres CR;

static struct flowq *
flow_of(const struct pkt *pk, bool *from_client, const uint8_t *pl, size_t n)
{
	for (int i = 0; i < CR.n_flows; i++) {
		struct flowq *f = &CR.f[i];

		if (f->cport == pk->sport && f->sport == pk->dport &&
		    memcmp(f->cli, pk->src, 16) == 0 && memcmp(f->srv, pk->dst, 16) == 0) {
			*from_client = true;
			return f;
		}
		if (f->sport == pk->sport && f->cport == pk->dport &&
		    memcmp(f->srv, pk->src, 16) == 0 && memcmp(f->cli, pk->dst, 16) == 0) {
			*from_client = false;
			return f;
		}
	}
	/* a new flow: its first datagram must look like an Initial (the client's) */
	if (CR.n_flows == 8 || !quic_looks_like_initial(pl, n))
		return NULL;
	struct flowq *f = &CR.f[CR.n_flows++];
	memset(f, 0, sizeof(*f));
	f->used = true;
	memcpy(f->cli, pk->src, 16);
	memcpy(f->srv, pk->dst, 16);
	f->cport = pk->sport;
	f->sport = pk->dport;
	quic_conn_init(&f->c, NULL);
	*from_client = true;
	return f;
}

/* Read a capture and run every UDP payload through its flow's quic_conn. */
static bool
run_capture(const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, err);
	struct pcap_pkthdr *hdr;
	const u_char *data;

	memset(&CR, 0, sizeof(CR));
	if (pc == NULL) {
		fprintf(stderr, "%s: %s\n", path, err);
		return false;
	}
	while (pcap_next_ex(pc, &hdr, &data) == 1) {
		struct pkt pk;
		struct flowq *f;
		bool fc;
		int st;

		memset(&pk, 0, sizeof(pk));
		if (dec_packet(pcap_datalink(pc), data, hdr->caplen, &pk) != DEC_UDP)
			continue;
		CR.n_udp++;
		if ((f = flow_of(&pk, &fc, pk.payload, pk.payload_len)) == NULL)
			continue;
		f->n_dgrams[fc ? 0 : 1]++;
		int before = f->g.n;
		st = quic_datagram(&f->c, fc, pk.payload, pk.payload_len, sink, &f->g);
		if (st <= 0 && st > -8)
			CR.st_count[-st]++;
		for (int i = before; i < f->g.n && i < 8; i++)
			if (f->g.m[i].type == TLS_HS_CLIENT_HELLO && f->n_ch_dgrams == 0)
				f->n_ch_dgrams = f->n_dgrams[0];
	}
	pcap_close(pc);
	return true;
}

static void
free_capture(void)
{
	for (int i = 0; i < CR.n_flows; i++)
		quic_conn_free(&CR.f[i].c);
}

/* The hellos of flow f, parsed; false if either is missing. */
static bool
flow_hellos(struct flowq *f, struct tls_client_hello *ch, struct tls_server_hello *sh,
    bool *has_sh)
{
	bool has_ch = false;

	*has_sh = false;
	for (int i = 0; i < f->g.n && i < 8; i++) {
		if (f->g.m[i].type == TLS_HS_CLIENT_HELLO && !has_ch)
			has_ch = tls_hs_client_hello(f->g.m[i].body, f->g.m[i].len, ch) == P_OK;
		if (f->g.m[i].type == TLS_HS_SERVER_HELLO && !*has_sh)
			*has_sh = tls_hs_server_hello(f->g.m[i].body, f->g.m[i].len, sh) == P_OK;
	}
	return has_ch;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

#define CORPUS "../shared/corpus/pcap/"

/*
 * Expected values from tshark 4.0.17:
 *   tshark -r FILE -Y quic -T fields -e quic.version -e quic.dcid
 *     -e tls.handshake.type -e tls.handshake.extensions_server_name
 *     -e tls.handshake.extensions_alpn_str -e tls.handshake.ciphersuite
 */
static void
test_quic_corpus(void)
{
	static struct tls_client_hello ch;
	static struct tls_server_hello sh;
	bool has_sh;

	if (!exists(CORPUS "zeek-quic-chromium-115-api-cirrus-com.pcap")) {
		printf("note: %s absent: corpus captures not checked\n", CORPUS);
		return;
	}
	/*
	 * v1, chromium 115: one Initial (frame 1, DCID 95412c47018cdfe8) carries
	 * the whole ClientHello in 9 CRYPTO frames out of order; SNI
	 * api.cirrus-ci.com, ALPN h3; the server's Initial (frame 2) has the
	 * ServerHello, cipher 0x1301.  Later client Initials address the server's
	 * SCID (d5412c47018cdfe8).
	 */
	T_CHECK(run_capture(CORPUS "zeek-quic-chromium-115-api-cirrus-com.pcap"));
	T_EQ_I(CR.n_flows, 1);
	if (CR.n_flows == 1) {
		struct flowq *f = &CR.f[0];

		T_CHECK(flow_hellos(f, &ch, &sh, &has_sh));
		T_EQ_STR(ch.sni, "api.cirrus-ci.com");
		T_EQ_U(ch.n_alpn, 1);
		T_EQ_MEM(ch.alpn[0], "h3", 2);
		T_CHECK(has_sh);
		T_EQ_U(sh.cipher, 0x1301);
		T_EQ_U(sh.version, 0x0304);
		T_EQ_U(f->c.version, QUIC_V1);
		T_EQ_I(f->n_ch_dgrams, 1);
		T_EQ_U(f->c.n_decrypt_fail, 0);
		T_EQ_U(f->c.n_malformed, 0);
		T_EQ_U(f->c.n_violation, 0);
		T_EQ_I(f->g.n, 2);
		printf("%s: sni %s alpn %.*s cipher 0x%04x, %ju Initial(s) opened\n",
		    "zeek-quic-chromium-115-api-cirrus-com.pcap", ch.sni, (int)ch.alpn_len[0],
		    ch.alpn[0], sh.cipher, (uintmax_t)f->c.n_initial);
	}
	T_EQ_I(CR.st_count[-P_BAD], 0);
	free_capture();

	/*
	 * v2 (0x6b3343cf), frame 1: ClientHello without server_name, ALPN h3,
	 * DCID bdf0c5b27927cc667e58d95b; frame 2: ServerHello, cipher 0x1301.
	 * Frame 5 is a client Initial addressed to the server's SCID.
	 */
	T_CHECK(run_capture(CORPUS "zeek-quicv2-http3-443.pcap"));
	T_EQ_I(CR.n_flows, 1);
	if (CR.n_flows == 1) {
		struct flowq *f = &CR.f[0];

		T_CHECK(flow_hellos(f, &ch, &sh, &has_sh));
		T_CHECK(!ch.has_sni);
		T_EQ_U(ch.n_alpn, 1);
		T_EQ_MEM(ch.alpn[0], "h3", 2);
		T_CHECK(has_sh);
		T_EQ_U(sh.cipher, 0x1301);
		T_EQ_U(f->c.version, QUIC_V2);
		T_EQ_U(f->c.n_decrypt_fail, 0);
		T_CHECK(f->c.n_initial >= 3);	/* frames 1, 2 and 5 at least */
		T_EQ_I(f->g.n, 2);
		printf("%s: no sni, alpn %.*s cipher 0x%04x, %ju Initial(s) opened\n",
		    "zeek-quicv2-http3-443.pcap", (int)ch.alpn_len[0], ch.alpn[0], sh.cipher,
		    (uintmax_t)f->c.n_initial);
	}
	T_EQ_I(CR.st_count[-P_BAD], 0);
	free_capture();
}

/*
 * A capture and its truth file (samples/quic-chromium.truth.tsv, written by
 * samples/make-quic.sh from tshark's decoding), one row per connection:
 *   sni alpn ch_initials version client_port server_port sh_cipher retries
 * ch_initials counts the client Initial datagrams up to the one that
 * completes the ClientHello (tshark: those carrying CRYPTO frames up to it).
 */
static void
check_capture(const char *pcap, const char *truth)
{
	static struct tls_client_hello ch;
	static struct tls_server_hello sh;
	char line[512], sni[256], alpn[64], ver[32], cipher[32];
	int n_ch = 0, rows = 0;
	unsigned cport, sport, retries;
	bool has_sh;
	FILE *f = fopen(truth, "r");

	T_CHECK(f != NULL);
	if (f == NULL)
		return;
	T_CHECK(run_capture(pcap));
	while (fgets(line, sizeof(line), f) != NULL) {
		struct flowq *fq = NULL;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%255[^\t]\t%63[^\t]\t%d\t%31s\t%u\t%u\t%31s\t%u", sni, alpn,
		    &n_ch, ver, &cport, &sport, cipher, &retries) != 8) {
			T_CHECK(!"truth row has 8 fields");
			continue;
		}
		rows++;
		for (int i = 0; i < CR.n_flows; i++)
			if (CR.f[i].cport == cport && CR.f[i].sport == sport)
				fq = &CR.f[i];
		T_CHECK(fq != NULL);
		if (fq == NULL)
			continue;
		T_CHECK(flow_hellos(fq, &ch, &sh, &has_sh));
		T_EQ_STR(ch.sni, sni);
		T_CHECK(ch.n_alpn >= 1);
		T_CHECK(strlen(alpn) == ch.alpn_len[0] &&
		    memcmp(ch.alpn[0], alpn, ch.alpn_len[0]) == 0);
		T_EQ_I(fq->n_ch_dgrams, n_ch);
		T_EQ_U(fq->c.version, strtoul(ver, NULL, 16));
		T_CHECK(has_sh);
		T_EQ_U(sh.cipher, strtoul(cipher, NULL, 16));
		T_EQ_U(fq->c.n_retry, retries);
		T_EQ_U(fq->c.n_retry_bad, 0);
		T_EQ_U(fq->c.n_decrypt_fail, 0);
		T_EQ_U(fq->c.n_malformed, 0);
		T_EQ_U(fq->c.n_violation, 0);
		printf("%s: port %u: sni %s alpn %.*s, ClientHello complete after %d client "
		    "datagram(s), ServerHello cipher 0x%04x, %ju Initial(s) opened, %ju Retry "
		    "verified\n", pcap, sport, ch.sni, (int)ch.alpn_len[0], ch.alpn[0],
		    fq->n_ch_dgrams, has_sh ? sh.cipher : 0, (uintmax_t)fq->c.n_initial,
		    (uintmax_t)fq->c.n_retry);
	}
	T_EQ_I(rows, CR.n_flows);
	fclose(f);
	free_capture();
}

static void
test_quic_chromium_sample(void)
{
	const char *p = "samples/quic-chromium.pcap", *t = "samples/quic-chromium.truth.tsv";

	if (!exists(p) || !exists(t)) {
		printf("note: %s absent: chromium capture not checked\n", p);
		return;
	}
	check_capture(p, t);
}

int
main(int argc, char **argv)
{
	load_hellos();
	T_RUN(test_quic_keys_v1);
	T_RUN(test_quic_keys_v2);
	T_RUN(test_quic_sealer_matches_rfc);
	T_RUN(test_quic_rfc9001_exchange);
	T_RUN(test_quic_rfc9369_exchange);
	T_RUN(test_quic_v1_to_v2);
	T_RUN(test_quic_server_without_client);
	T_RUN(test_quic_prefixes_and_flips);
	T_RUN(test_quic_split_client_hello);
	T_RUN(test_quic_retry_inside_client_hello);
	T_RUN(test_quic_frames_in_one_packet);
	T_RUN(test_quic_forbidden_frame);
	T_RUN(test_quic_coalesced);
	T_RUN(test_quic_other_packets);
	T_RUN(test_quic_dcid_changes);
	T_RUN(test_quic_packet_numbers);
	T_RUN(test_quic_limits);
	T_RUN(test_quic_crypto_reassembly);
	T_RUN(test_quic_crypto_caps);
	T_RUN(test_quic_corpus);
	T_RUN(test_quic_chromium_sample);
	if (argc == 3)
		check_capture(argv[1], argv[2]);
	T_SUMMARY();
}
