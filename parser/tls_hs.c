/*
 * tls_hs.c: ClientHello, ServerHello, Certificate and SSL 2.0 hello parsers.
 *
 * Distrusts: every byte of the message body.  Owns: nothing; results are
 * copied into caller structs (certificate DER views point into the input).
 */
#include <string.h>

#include "pstat.h"
#include "rd.h"
#include "tls_hs.h"

/* RFC 8446 s4.1.3: SHA-256("HelloRetryRequest") as the ServerHello.random */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02,
	0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
	0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/*
 * Remember an extension type in wire order.  A repeat (forbidden by RFC 8446
 * s4.2) is flagged and returns false: the first copy wins.
 */
static bool
note_ext(uint16_t type, uint16_t *exts, uint16_t *n_exts, unsigned *flags)
{
	for (uint16_t i = 0; i < *n_exts; i++) {
		if (exts[i] == type) {
			*flags |= TLS_HF_DUP_EXT;
			return false;
		}
	}
	if (*n_exts < TLS_EXT_MAX)
		exts[(*n_exts)++] = type;
	else
		*flags |= TLS_HF_TRUNC_LIST;
	return true;
}

static bool
sni_char_ok(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/*
 * RFC 6066 s3:
 *   struct { NameType name_type; select (name_type) {
 *       case host_name: HostName; } name; } ServerName;      HostName<1..2^16-1>
 *   struct { ServerName server_name_list<1..2^16-1> } ServerNameList;
 * The first host_name wins.  The raw bytes are kept (the caller escapes
 * them); names outside LDH/'_'/'.' are flagged, not dropped.
 */
static bool
parse_sni(struct rd *ext, struct tls_client_hello *ch)
{
	struct rd list, name;
	uint8_t type;

	if (!rd_vec16(ext, &list) || !rd_done(ext) || rd_left(&list) == 0)
		return false;
	while (rd_left(&list) > 0) {
		if (!rd_u8(&list, &type) || !rd_vec16(&list, &name))
			return false;
		if (type != 0 || ch->has_sni)
			continue;
		if (rd_left(&name) == 0 || rd_left(&name) > TLS_SNI_MAX)
			return false;
		ch->sni_len = (uint16_t)rd_left(&name);
		(void)rd_bytes(&name, ch->sni, ch->sni_len);
		ch->sni[ch->sni_len] = '\0';
		ch->has_sni = true;
		for (uint16_t i = 0; i < ch->sni_len; i++) {
			if (!sni_char_ok((uint8_t)ch->sni[i])) {
				ch->flags |= TLS_HF_BAD_SNI;
				break;
			}
		}
	}
	return true;
}

/* RFC 7301 s3.1: ProtocolName protocol_name_list<2..2^16-1>, ProtocolName<1..2^8-1> */
static bool
parse_alpn_list(struct rd *ext, struct tls_client_hello *ch)
{
	struct rd list, name;

	if (!rd_vec16(ext, &list) || !rd_done(ext) || rd_left(&list) < 2)
		return false;
	while (rd_left(&list) > 0) {
		if (!rd_vec8(&list, &name) || rd_left(&name) == 0)
			return false;
		if (ch->n_alpn == TLS_ALPN_MAX) {
			ch->flags |= TLS_HF_TRUNC_ALPN;
			continue;
		}
		size_t n = rd_left(&name);
		if (n > TLS_ALPN_LEN_MAX) {
			n = TLS_ALPN_LEN_MAX;
			ch->flags |= TLS_HF_TRUNC_ALPN;
		}
		if (ch->n_alpn == 0)		/* non-empty, checked above */
			(void)rd_peek_u8(&name, rd_left(&name) - 1, &ch->alpn0_last);
		(void)rd_bytes(&name, ch->alpn[ch->n_alpn], n);
		ch->alpn_len[ch->n_alpn++] = (uint8_t)n;
	}
	return true;
}

/* RFC 8446 s4.2.1: ProtocolVersion versions<2..254> (ClientHello form) */
static bool
parse_versions_list(struct rd *ext, struct tls_client_hello *ch)
{
	struct rd list;
	uint16_t v;

	if (!rd_vec8(ext, &list) || !rd_done(ext) || rd_left(&list) < 2 ||
	    rd_left(&list) % 2 != 0)
		return false;
	while (rd_u16(&list, &v)) {
		if (ch->n_versions < 16)
			ch->versions[ch->n_versions++] = v;
		else
			ch->flags |= TLS_HF_TRUNC_LIST;
	}
	return true;
}

/* RFC 8446 s4.2.7: NamedGroup named_group_list<2..2^16-1> */
static bool
parse_groups(struct rd *ext, struct tls_client_hello *ch)
{
	struct rd list;
	uint16_t g;

	if (!rd_vec16(ext, &list) || !rd_done(ext) || rd_left(&list) % 2 != 0)
		return false;
	while (rd_u16(&list, &g)) {
		if (ch->n_groups < TLS_GROUPS_MAX)
			ch->groups[ch->n_groups++] = g;
		else
			ch->flags |= TLS_HF_TRUNC_LIST;
	}
	return true;
}

/* RFC 8422 s5.1.2: ECPointFormat ec_point_format_list<1..2^8-1> */
static bool
parse_ecpf(struct rd *ext, struct tls_client_hello *ch)
{
	struct rd list;
	uint8_t f;

	if (!rd_vec8(ext, &list) || !rd_done(ext) || rd_left(&list) == 0)
		return false;
	while (rd_u8(&list, &f)) {
		if (ch->n_ecpf < sizeof(ch->ecpf))
			ch->ecpf[ch->n_ecpf++] = f;
		else
			ch->flags |= TLS_HF_TRUNC_LIST;
	}
	return true;
}

/* RFC 8446 s4.2.3: SignatureScheme supported_signature_algorithms<2..2^16-2> */
static bool
parse_sigalgs(struct rd *ext, struct tls_client_hello *ch)
{
	struct rd list;
	uint16_t a;

	if (!rd_vec16(ext, &list) || !rd_done(ext) || rd_left(&list) < 2 ||
	    rd_left(&list) % 2 != 0)
		return false;
	while (rd_u16(&list, &a)) {
		if (ch->n_sigalgs < TLS_SIGALGS_MAX)
			ch->sigalgs[ch->n_sigalgs++] = a;
		else
			ch->flags |= TLS_HF_TRUNC_LIST;
	}
	return true;
}

/*
 * draft-ietf-tls-esni-18 s5:
 *   struct { ECHClientHelloType type; select (type) {
 *       case outer: HpkeSymmetricCipherSuite cipher_suite; uint8 config_id;
 *                   opaque enc<0..2^16-1>; opaque payload<1..2^16-1>;
 *       case inner: Empty; }; } ECHClientHello;
 * A client without an ECH config sends a GREASE one of the same shape, so
 * presence says "the real name may be hidden", not that it is.
 */
static bool
parse_ech(struct rd *ext, struct tls_client_hello *ch)
{
	struct rd enc, payload;

	ch->has_ech = true;
	if (!rd_u8(ext, &ch->ech_type))
		return false;
	if (ch->ech_type == 1)
		return rd_done(ext);
	if (ch->ech_type != 0 || !rd_u16(ext, &ch->ech_kdf) || !rd_u16(ext, &ch->ech_aead) ||
	    !rd_u8(ext, &ch->ech_config_id) || !rd_vec16(ext, &enc) ||
	    !rd_vec16(ext, &payload) || !rd_done(ext) || rd_left(&payload) == 0)
		return false;
	ch->ech_payload_len = (uint16_t)rd_left(&payload);
	return true;
}

static void
client_ext_cb(uint16_t type, struct rd *ext, void *arg)
{
	struct tls_client_hello *ch = arg;
	bool ok = true;

	if (!note_ext(type, ch->exts, &ch->n_exts, &ch->flags))
		return;
	switch (type) {
	case TLS_EXT_SERVER_NAME:
		ok = parse_sni(ext, ch);
		break;
	case TLS_EXT_ALPN:
		ok = parse_alpn_list(ext, ch);
		break;
	case TLS_EXT_SUPPORTED_VERSIONS:
		ok = parse_versions_list(ext, ch);
		break;
	case TLS_EXT_SUPPORTED_GROUPS:
		ok = parse_groups(ext, ch);
		break;
	case TLS_EXT_EC_POINT_FORMATS:
		ok = parse_ecpf(ext, ch);
		break;
	case TLS_EXT_SESSION_TICKET:
		ch->has_ticket = rd_left(ext) > 0;
		ch->ticket_len = (uint16_t)rd_left(ext);
		break;
	case TLS_EXT_SIGNATURE_ALGORITHMS:
		ok = parse_sigalgs(ext, ch);
		break;
	case TLS_EXT_ECH:
		ok = parse_ech(ext, ch);
		break;
	case TLS_EXT_ESNI:
		ch->has_esni = true;
		break;
	case TLS_EXT_STATUS_REQUEST:
		ch->has_status_request = true;
		break;
	case TLS_EXT_PRE_SHARED_KEY:
		ch->has_psk = true;
		break;
	default:
		break;			/* unknown extensions are skipped by length */
	}
	if (!ok)
		ch->flags |= TLS_HF_BAD_EXT;
}

/* Extension extensions<0..2^16-1>; struct { ExtensionType; opaque data<0..2^16-1>; } */
static int
walk_extensions(struct rd *r, void (*fn)(uint16_t, struct rd *, void *), void *arg)
{
	struct rd list, data;
	uint16_t type;

	if (rd_done(r))
		return P_OK;		/* extensions are optional before TLS 1.3 */
	if (!rd_vec16(r, &list) || !rd_done(r))
		return P_BAD;
	while (rd_left(&list) > 0) {
		if (!rd_u16(&list, &type) || !rd_vec16(&list, &data))
			return P_BAD;
		fn(type, &data, arg);
	}
	return P_OK;
}

/*
 * RFC 8446 s4.1.2:
 *   uint16 legacy_version; opaque random[32];
 *   opaque legacy_session_id<0..32>;
 *   CipherSuite cipher_suites<2..2^16-2>;
 *   opaque legacy_compression_methods<1..2^8-1>;
 *   Extension extensions<8..2^16-1>;      (absent in some SSL 3.0/TLS 1.0 hellos)
 */
int
tls_hs_client_hello(const uint8_t *p, size_t len, struct tls_client_hello *out)
{
	struct rd r = rd_init(p, len), sid, cookie, suites, comp;
	uint16_t cs;

	memset(out, 0, sizeof(*out));
	if (!rd_u16(&r, &out->legacy_version) || !rd_bytes(&r, out->random, 32) ||
	    !rd_vec8(&r, &sid) || rd_left(&sid) > 32)
		return P_BAD;
	/* DTLS (RFC 6347 s4.2.1): a cookie follows the session id */
	out->is_dtls = tls_version_is_dtls(out->legacy_version);
	if (out->is_dtls) {
		if (!rd_vec8(&r, &cookie))
			return P_BAD;
		out->cookie_len = (uint8_t)rd_left(&cookie);
	}
	if (!rd_vec16(&r, &suites) || rd_left(&suites) < 2 ||
	    rd_left(&suites) % 2 != 0 ||
	    !rd_vec8(&r, &comp) || rd_left(&comp) < 1)
		return P_BAD;
	out->session_id_len = (uint8_t)rd_left(&sid);
	(void)rd_bytes(&sid, out->session_id, out->session_id_len);
	while (rd_u16(&suites, &cs)) {
		out->n_ciphers_total++;
		if (out->n_ciphers < TLS_LIST_MAX)
			out->ciphers[out->n_ciphers++] = cs;
		else
			out->flags |= TLS_HF_TRUNC_LIST;
	}
	return walk_extensions(&r, client_ext_cb, out);
}

static void
server_ext_cb(uint16_t type, struct rd *ext, void *arg)
{
	struct tls_server_hello *sh = arg;
	struct rd list, name;
	uint16_t v;

	if (!note_ext(type, sh->exts, &sh->n_exts, &sh->flags))
		return;
	switch (type) {
	case TLS_EXT_SUPPORTED_VERSIONS:	/* ServerHello form: one version */
		if (rd_u16(ext, &v) && rd_done(ext))
			sh->version = v;
		else
			sh->flags |= TLS_HF_BAD_EXT;
		break;
	case TLS_EXT_ALPN:		/* exactly one selected protocol */
		if (rd_vec16(ext, &list) && rd_done(ext) && rd_vec8(&list, &name) &&
		    rd_done(&list) && rd_left(&name) > 0) {
			size_t n = rd_left(&name);
			if (n > TLS_ALPN_LEN_MAX) {
				n = TLS_ALPN_LEN_MAX;
				sh->flags |= TLS_HF_TRUNC_ALPN;
			}
			(void)rd_bytes(&name, sh->alpn, n);
			sh->alpn_len = (uint8_t)n;
		} else {
			sh->flags |= TLS_HF_BAD_EXT;
		}
		break;
	case TLS_EXT_PRE_SHARED_KEY:
		sh->has_psk = true;
		break;
	default:
		break;
	}
}

/*
 * RFC 8446 s4.1.3:
 *   uint16 legacy_version; opaque random[32];
 *   opaque legacy_session_id_echo<0..32>;
 *   CipherSuite cipher_suite; uint8 legacy_compression_method;
 *   Extension extensions<6..2^16-1>;      (optional before TLS 1.3)
 */
int
tls_hs_server_hello(const uint8_t *p, size_t len, struct tls_server_hello *out)
{
	struct rd r = rd_init(p, len), sid;

	memset(out, 0, sizeof(*out));
	if (!rd_u16(&r, &out->legacy_version) || !rd_bytes(&r, out->random, 32))
		return P_BAD;
	if (out->legacy_version >= 0x7f00 && out->legacy_version <= 0x7f15) {
		/*
		 * TLS 1.3 drafts up to -21 (draft-ietf-tls-tls13-21 s4.1.3):
		 *   ProtocolVersion version; Random random; CipherSuite cipher_suite;
		 *   Extension extensions<0..2^16-1>;
		 */
		if (!rd_u16(&r, &out->cipher))
			return P_BAD;
		out->version = out->legacy_version;
		return walk_extensions(&r, server_ext_cb, out);
	}
	if (!rd_vec8(&r, &sid) || rd_left(&sid) > 32 ||
	    !rd_u16(&r, &out->cipher) || !rd_u8(&r, &out->compression))
		return P_BAD;
	out->session_id_len = (uint8_t)rd_left(&sid);
	(void)rd_bytes(&sid, out->session_id, out->session_id_len);
	out->version = out->legacy_version;
	out->is_hrr = memcmp(out->random, hrr_random, sizeof(hrr_random)) == 0;
	return walk_extensions(&r, server_ext_cb, out);
}

/*
 * RFC 5246 s7.4.2:
 *   opaque ASN.1Cert<1..2^24-1>;
 *   struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
 */
int
tls_hs_certificate(const uint8_t *p, size_t len, struct tls_cert_list *out)
{
	struct rd r = rd_init(p, len), list, cert;

	memset(out, 0, sizeof(*out));
	if (!rd_vec24(&r, &list) || !rd_done(&r))
		return P_BAD;
	while (rd_left(&list) > 0) {
		if (!rd_vec24(&list, &cert) || rd_left(&cert) == 0)
			return P_BAD;
		if (out->n < TLS_CERTS_MAX) {
			out->der[out->n].p = rd_ptr(&cert);
			out->der[out->n].len = rd_left(&cert);
			out->n++;
		}
		out->n_total++;
	}
	return P_OK;
}

/*
 * SSL 2.0 CLIENT-HELLO (draft-hickman-netscape-ssl-00, appendix E of RFC 6101
 * for the v3-compatible form):
 *   uint8 msg_type = 1; uint16 version;
 *   uint16 cipher_specs_length;  (multiple of 3)
 *   uint16 session_id_length;    (0 or 16)
 *   uint16 challenge_length;     (16..32)
 *   V2CipherSpec cipher_specs[]; opaque session_id[]; opaque challenge[];
 * V2 cipher specs whose first byte is 0 are TLS cipher suites.
 */
int
tls_hs_sslv2_client_hello(const uint8_t *p, size_t len, struct tls_client_hello *out)
{
	struct rd r = rd_init(p, len), specs;
	uint16_t cs_len, sid_len, ch_len;
	uint8_t type, b0, b1, b2;

	memset(out, 0, sizeof(*out));
	out->is_sslv2 = true;
	if (!rd_u8(&r, &type) || type != SSL2_MT_CLIENT_HELLO ||
	    !rd_u16(&r, &out->legacy_version) || !rd_u16(&r, &cs_len) ||
	    !rd_u16(&r, &sid_len) || !rd_u16(&r, &ch_len) ||
	    cs_len == 0 || cs_len % 3 != 0 || (sid_len != 0 && sid_len != 16) ||
	    ch_len < 16 || ch_len > 32 || !rd_sub(&r, cs_len, &specs))
		return P_BAD;
	while (rd_u8(&specs, &b0) && rd_u8(&specs, &b1) && rd_u8(&specs, &b2)) {
		out->n_ciphers_total++;
		if (b0 != 0)
			continue;	/* an SSL 2.0-only cipher kind */
		if (out->n_ciphers < TLS_LIST_MAX)
			out->ciphers[out->n_ciphers++] = (uint16_t)(b1 << 8 | b2);
		else
			out->flags |= TLS_HF_TRUNC_LIST;
	}
	out->session_id_len = (uint8_t)sid_len;
	if (!rd_bytes(&r, out->session_id, sid_len) ||
	    !rd_bytes(&r, out->random + 32 - ch_len, ch_len) || !rd_done(&r))
		return P_BAD;
	return P_OK;
}

/*
 * SSL 2.0 SERVER-HELLO:
 *   uint8 msg_type = 4; uint8 session_id_hit; uint8 certificate_type;
 *   uint16 server_version; uint16 certificate_length;
 *   uint16 cipher_specs_length; uint16 connection_id_length;
 *   opaque certificate[]; V2CipherSpec cipher_specs[]; opaque connection_id[];
 * certificate_type 1 is an X.509 certificate; absent when session_id_hit.
 */
int
tls_hs_sslv2_server_hello(const uint8_t *p, size_t len, struct tls_server_hello *out,
    struct tls_cert_list *certs)
{
	struct rd r = rd_init(p, len), cert;
	uint16_t cert_len, cs_len, cid_len;
	uint8_t type, hit, cert_type;

	memset(out, 0, sizeof(*out));
	memset(certs, 0, sizeof(*certs));
	out->is_sslv2 = true;
	if (!rd_u8(&r, &type) || type != SSL2_MT_SERVER_HELLO || !rd_u8(&r, &hit) ||
	    !rd_u8(&r, &cert_type) || !rd_u16(&r, &out->legacy_version) ||
	    !rd_u16(&r, &cert_len) || !rd_u16(&r, &cs_len) || !rd_u16(&r, &cid_len) ||
	    cs_len % 3 != 0 || cid_len < 16 || cid_len > 32 ||
	    !rd_sub(&r, cert_len, &cert) || !rd_skip(&r, cs_len) ||
	    !rd_skip(&r, cid_len) || !rd_done(&r))
		return P_BAD;
	out->version = out->legacy_version;
	if (hit == 0 && cert_type == 1 && cert_len > 0) {
		certs->der[0].p = rd_ptr(&cert);
		certs->der[0].len = cert_len;
		certs->n = certs->n_total = 1;
	}
	return P_OK;
}

/*
 * RFC 6066 s8:  struct { CertificateStatusType status_type;
 *                  select (status_type) { case ocsp: OCSPResponse; } } CertificateStatus;
 *               opaque OCSPResponse<1..2^24-1>;
 * RFC 6961 s2.2 (ocsp_multi, 2): OCSPResponse ocsp_response_list<1..2^24-1>,
 * each possibly empty; the first is the leaf's.
 */
int
tls_hs_certificate_status(const uint8_t *p, size_t len, struct tls_der *ocsp)
{
	struct rd r = rd_init(p, len), resp, list;
	uint8_t type;

	ocsp->p = NULL;
	ocsp->len = 0;
	if (!rd_u8(&r, &type))
		return P_BAD;
	if (type == 1) {
		if (!rd_vec24(&r, &resp) || !rd_done(&r) || rd_left(&resp) == 0)
			return P_BAD;
	} else if (type == 2) {
		if (!rd_vec24(&r, &list) || !rd_done(&r) || rd_left(&list) == 0 ||
		    !rd_vec24(&list, &resp))
			return P_BAD;
		while (rd_left(&list) > 0) {		/* the rest must be framed too */
			struct rd other;
			if (!rd_vec24(&list, &other))
				return P_BAD;
		}
	} else {
		return P_UNSUPP;
	}
	ocsp->p = rd_ptr(&resp);
	ocsp->len = rd_left(&resp);
	return P_OK;
}
