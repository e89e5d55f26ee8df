/* tls_names.h: human names of TLS wire values, for reports. */
#ifndef TLSENTRY_TLS_NAMES_H
#define TLSENTRY_TLS_NAMES_H

#include <stdint.h>

/* IANA name of a cipher suite, e.g. "TLS_AES_128_GCM_SHA256"; NULL if unknown. */
const char *tls_cipher_name(uint16_t id);

/*
 * ECS tls.version ("1.2", "3.0", "1.3-draft28") and tls.version_protocol
 * ("tls" or "ssl") of a wire version; *version is NULL when unknown.  The
 * draft string lives in static storage until the next call.
 */
void tls_version_names(uint16_t v, const char **version, const char **protocol);

#endif /* TLSENTRY_TLS_NAMES_H */
