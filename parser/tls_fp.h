/*
 * tls_fp.h: client and server fingerprints computed from parsed hellos.
 *
 * JA3 and JA3S (Salesforce, 2017): MD5 of the strings
 *   JA3:  version,ciphers,extensions,groups,point_formats
 *   JA3S: version,cipher,extensions
 * with decimal values joined by '-' inside a field.  GREASE values (RFC
 * 8701) are left out of JA3's lists but kept in JA3S, as the reference
 * implementation does.
 *
 * JA4 (FoxIO, BSD-3-Clause spec; technical_details/JA4.md), the client
 * fingerprint only:  {t|q|d}{version}{d|i}{ciphers:02}{extensions:02}{alpn}
 * _ sha256(sorted ciphers)[:12] _ sha256(sorted extensions without SNI and
 * ALPN "_" signature algorithms in order)[:12], GREASE ignored everywhere.
 * JA4_r is the same with the lists in clear instead of hashed.
 *
 * None is computed when a list was cut at its cap (the value would be
 * wrong) or for SSL 2.0 hellos.
 */
#ifndef TLSENTRY_TLS_FP_H
#define TLSENTRY_TLS_FP_H

#include <stdbool.h>
#include <stddef.h>

#include "tls_hs.h"

/* Room for the longest JA3 string or JA4_r: every kept list value, 6 bytes each. */
#define TLS_FP_STR_MAX (6 * (TLS_LIST_MAX + TLS_EXT_MAX + TLS_GROUPS_MAX + TLS_SIGALGS_MAX + 16 + 4) + 16)

/* JA4's transport letter. */
enum tls_fp_transport {
	TLS_FP_TCP = 't',
	TLS_FP_QUIC = 'q',
	TLS_FP_DTLS = 'd',
};

/*
 * md5: 32 lowercase hex digits and a NUL.  str (may be NULL): the string
 * hashed, of size strsz (TLS_FP_STR_MAX always fits).  false when not
 * computable, and then neither is written.
 */
bool tls_ja3(const struct tls_client_hello *ch, char *str, size_t strsz, char md5[33]);
bool tls_ja3s(const struct tls_server_hello *sh, char *str, size_t strsz, char md5[33]);

/* out: the 36-character JA4 and a NUL; raw (may be NULL): JA4_r, rawsz bytes. */
bool tls_ja4(const struct tls_client_hello *ch, enum tls_fp_transport t, char out[37], char *raw,
    size_t rawsz);

#endif /* TLSENTRY_TLS_FP_H */
