/* fuzz_quic.h: what the QUIC fuzz targets share. */
#ifndef TLSENTRY_FUZZ_QUIC_H
#define TLSENTRY_FUZZ_QUIC_H

#include <stdlib.h>
#include <string.h>

#include "../../parser/quic.h"
#include "../../parser/tls_hs.h"

/* Each message goes on to the hello parsers, as the engine will do. */
static void
fuzz_quic_msg(void *ctx, const struct quic_msg *m)
{
	static struct tls_client_hello ch;
	static struct tls_server_hello sh;

	(void)ctx;
	if (m->type == TLS_HS_CLIENT_HELLO)
		(void)tls_hs_client_hello(m->body, m->len, &ch);
	else if (m->type == TLS_HS_SERVER_HELLO)
		(void)tls_hs_server_hello(m->body, m->len, &sh);
}

static inline uint8_t *
fuzz_quic_dup(const uint8_t *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	if (b == NULL)
		abort();
	if (n)
		memcpy(b, p, n);
	return b;
}

#endif /* TLSENTRY_FUZZ_QUIC_H */
