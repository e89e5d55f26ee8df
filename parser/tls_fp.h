/*
 * tls_fp.h: client and server fingerprints computed from parsed hellos.
 *
 * JA3 and JA3S (Salesforce, 2017): MD5 of
 *   JA3:  version,ciphers,extensions,groups,point_formats
 *   JA3S: version,cipher,extensions
 * with decimal values joined by '-' inside a field and GREASE values
 * (RFC 8701) left out.  Not computed when a list was cut at its cap (the
 * hash would be wrong) or for SSL 2.0 hellos (there is no JA3 for those).
 */
#ifndef TLSENTRY_TLS_FP_H
#define TLSENTRY_TLS_FP_H

#include <stdbool.h>

#include "tls_hs.h"

/* out: 32 lowercase hex digits and a NUL.  false when not computable. */
bool tls_ja3(const struct tls_client_hello *ch, char out[33]);
bool tls_ja3s(const struct tls_server_hello *sh, char out[33]);

#endif /* TLSENTRY_TLS_FP_H */
