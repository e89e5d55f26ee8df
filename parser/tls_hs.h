/*
 * tls_hs.h: pure parsers for the TLS handshake messages a passive sensor
 * reads in the clear: ClientHello, ServerHello and Certificate (SSL 3.0 to
 * TLS 1.2), plus the SSL 2.0 CLIENT-HELLO and SERVER-HELLO.
 *
 * Input is one complete handshake message body, untrusted.  Framing is
 * strict: every vector must fit its parent and be consumed exactly, or the
 * message is P_BAD.  The contents of individual extensions are checked too,
 * but a malformed or duplicated extension only sets a flag in the result
 * (the rest of the message is still framed correctly and worth reporting).
 * Results are copied into caller-owned structs; nothing keeps the input,
 * except the DER views of tls_hs_certificate(), which point into it.
 */
#ifndef TLSENTRY_TLS_HS_H
#define TLSENTRY_TLS_HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef TLS_SNI_MAX
#define TLS_SNI_MAX 255		/* RFC 6066: HostName<1..2^16-1>, DNS caps at 253 */
#endif
#ifndef TLS_LIST_MAX
#define TLS_LIST_MAX 1024	/* cipher suites kept per hello (scanners offer ~350) */
#endif
#ifndef TLS_EXT_MAX
#define TLS_EXT_MAX 64		/* extension types kept per hello */
#endif
#ifndef TLS_GROUPS_MAX
#define TLS_GROUPS_MAX 64
#endif
#ifndef TLS_ALPN_MAX
#define TLS_ALPN_MAX 8		/* ALPN protocol names kept per ClientHello */
#endif
#ifndef TLS_ALPN_LEN_MAX
#define TLS_ALPN_LEN_MAX 32	/* longer names are kept truncated and flagged */
#endif
#ifndef TLS_SIGALGS_MAX
#define TLS_SIGALGS_MAX 64	/* signature_algorithms kept per ClientHello */
#endif
#ifndef TLS_CERTS_MAX
#define TLS_CERTS_MAX 16	/* certificates kept per Certificate message */
#endif

/* Handshake message types (RFC 8446 s4, RFC 5246 s7.4). */
enum tls_hs_type {
	TLS_HS_CLIENT_HELLO = 1,
	TLS_HS_SERVER_HELLO = 2,
	TLS_HS_NEW_SESSION_TICKET = 4,
	TLS_HS_CERTIFICATE = 11,
	TLS_HS_SERVER_KEY_EXCHANGE = 12,
	TLS_HS_CERTIFICATE_REQUEST = 13,
	TLS_HS_SERVER_HELLO_DONE = 14,
	TLS_HS_CLIENT_KEY_EXCHANGE = 16,
	TLS_HS_FINISHED = 20,
	TLS_HS_CERTIFICATE_STATUS = 22,
};

/* SSL 2.0 message types (draft-hickman-netscape-ssl-00). */
enum {
	SSL2_MT_CLIENT_HELLO = 1,
	SSL2_MT_SERVER_HELLO = 4,
};

/* Extension types we read (IANA TLS ExtensionType registry). */
enum {
	TLS_EXT_SERVER_NAME = 0,
	TLS_EXT_STATUS_REQUEST = 5,
	TLS_EXT_SUPPORTED_GROUPS = 10,
	TLS_EXT_EC_POINT_FORMATS = 11,
	TLS_EXT_SIGNATURE_ALGORITHMS = 13,
	TLS_EXT_ALPN = 16,
	TLS_EXT_SESSION_TICKET = 35,
	TLS_EXT_PRE_SHARED_KEY = 41,
	TLS_EXT_SUPPORTED_VERSIONS = 43,
	TLS_EXT_ECH = 0xfe0d,		/* draft-ietf-tls-esni-18+: encrypted_client_hello */
	TLS_EXT_ESNI = 0xffce,		/* draft-ietf-tls-esni-01..06: encrypted_server_name */
};

/* Flags for contents we could not read cleanly (framing was fine). */
enum {
	TLS_HF_BAD_EXT = 1 << 0,	/* an extension's body is malformed */
	TLS_HF_DUP_EXT = 1 << 1,	/* an extension type appears twice */
	TLS_HF_TRUNC_LIST = 1 << 2,	/* a list exceeded its cap; kept a prefix */
	TLS_HF_BAD_SNI = 1 << 3,	/* SNI has bytes outside LDH, '_' and '.' */
	TLS_HF_TRUNC_ALPN = 1 << 4,	/* ALPN names beyond the caps: kept a prefix
					   (fingerprints do not depend on them) */
};

struct tls_client_hello {
	bool is_sslv2;			/* SSL 2.0-format CLIENT-HELLO */
	bool is_dtls;			/* DTLS: legacy_version 0xfeXX, a cookie field */
	uint8_t cookie_len;		/* DTLS HelloVerifyRequest cookie echoed */
	uint16_t legacy_version;
	uint8_t random[32];		/* SSLv2: challenge, left-padded */
	uint8_t session_id_len;
	uint8_t session_id[32];
	uint16_t n_ciphers;		/* kept, <= TLS_LIST_MAX */
	uint16_t n_ciphers_total;	/* as sent */
	uint16_t ciphers[TLS_LIST_MAX];
	uint16_t n_exts;
	uint16_t exts[TLS_EXT_MAX];	/* extension types in wire order */
	uint16_t n_groups;
	uint16_t groups[TLS_GROUPS_MAX];
	uint8_t n_ecpf;
	uint8_t ecpf[16];		/* ec_point_formats */
	uint8_t n_versions;
	uint16_t versions[16];		/* supported_versions, in order */
	uint8_t n_alpn;
	uint8_t alpn_len[TLS_ALPN_MAX];
	char alpn[TLS_ALPN_MAX][TLS_ALPN_LEN_MAX];	/* raw bytes, not terminated */
	uint8_t alpn0_last;		/* last byte of the first name as sent (the copy may be cut) */
	uint16_t n_sigalgs;
	uint16_t sigalgs[TLS_SIGALGS_MAX];	/* signature_algorithms, in order */
	bool has_ech;			/* encrypted_client_hello: the SNI is the public name */
	uint8_t ech_type;		/* 0 outer, 1 inner */
	uint8_t ech_config_id;
	uint16_t ech_kdf, ech_aead;	/* HPKE suite of an outer ECH */
	uint16_t ech_payload_len;
	bool has_esni;			/* the older draft encrypted_server_name */
	bool has_status_request;	/* asked for a stapled OCSP response */
	bool has_sni;
	uint16_t sni_len;
	char sni[TLS_SNI_MAX + 1];	/* raw bytes as sent, NUL-terminated copy */
	bool has_ticket;		/* non-empty session_ticket extension */
	uint16_t ticket_len;
	bool has_psk;			/* TLS 1.3 pre_shared_key offered */
	unsigned flags;			/* TLS_HF_* */
};

struct tls_server_hello {
	bool is_sslv2;
	bool is_hrr;			/* TLS 1.3 HelloRetryRequest */
	uint16_t legacy_version;
	uint16_t version;		/* supported_versions if present, else legacy */
	uint8_t random[32];
	uint8_t session_id_len;
	uint8_t session_id[32];
	uint16_t cipher;
	uint8_t compression;
	uint16_t n_exts;
	uint16_t exts[TLS_EXT_MAX];
	bool has_psk;			/* TLS 1.3: server accepted a PSK */
	uint8_t alpn_len;
	char alpn[TLS_ALPN_LEN_MAX];	/* selected ALPN protocol, raw bytes */
	unsigned flags;
};

/* A DER view; points into the message body given to tls_hs_certificate(). */
struct tls_der {
	const uint8_t *p;
	size_t len;
};

struct tls_cert_list {
	size_t n;			/* kept, <= TLS_CERTS_MAX */
	size_t n_total;			/* as sent */
	struct tls_der der[TLS_CERTS_MAX];
};

/*
 * Parse a ClientHello body (RFC 8446 s4.1.2; RFC 5246 s7.4.1.2).
 * Returns P_OK or P_BAD; *out is cleared on entry.
 */
int tls_hs_client_hello(const uint8_t *p, size_t len, struct tls_client_hello *out);

/* Parse a ServerHello body (RFC 8446 s4.1.3).  P_OK or P_BAD. */
int tls_hs_server_hello(const uint8_t *p, size_t len, struct tls_server_hello *out);

/*
 * Parse a TLS 1.2-style Certificate body (RFC 5246 s7.4.2).  The views in
 * *out point into p and live as long as p.  P_OK or P_BAD.
 */
int tls_hs_certificate(const uint8_t *p, size_t len, struct tls_cert_list *out);

/*
 * Parse a CertificateStatus body (RFC 6066 s8, RFC 6961): *ocsp views the
 * DER OCSPResponse (for ocsp_multi, the first one, the leaf's; it may be
 * empty).  P_OK, P_BAD, or P_UNSUPP for an unknown status type.
 */
int tls_hs_certificate_status(const uint8_t *p, size_t len, struct tls_der *ocsp);

/*
 * SSL 2.0 messages, p starting at the message type byte (the 2-byte record
 * header already removed).  The SERVER-HELLO carries one certificate, whose
 * view is stored in *certs (pointing into p).  P_OK or P_BAD.
 */
int tls_hs_sslv2_client_hello(const uint8_t *p, size_t len, struct tls_client_hello *out);
int tls_hs_sslv2_server_hello(const uint8_t *p, size_t len, struct tls_server_hello *out,
    struct tls_cert_list *certs);

/* GREASE values (RFC 8701) are 0x?A?A with equal bytes. */
static inline bool
tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* DTLS 1.0 (0xfeff), 1.2 (0xfefd), 1.3 (0xfefc): one's complement of the TLS numbers. */
static inline bool
tls_version_is_dtls(uint16_t v)
{
	return (v >> 8) == 0xfe;
}

/* True for TLS 1.3 and its drafts (0x7fxx, Facebook's 0xfbxx). */
static inline bool
tls_version_is_13(uint16_t v)
{
	return v == 0x0304 || v == 0xfefc || (v >> 8) == 0x7f || (v >> 8) == 0xfb;
}

#endif /* TLSENTRY_TLS_HS_H */
