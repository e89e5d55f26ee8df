/* fuzz_dtls: one direction's datagrams (config byte, then u16 length + bytes each). */
#include <stdlib.h>

#include "../../parser/dtls.h"
#include "../../parser/rd.h"
#include "../../parser/tls_hs.h"
#include "fuzz.h"

static int
on_msg(const struct tls_msg *m, void *ctx)
{
	static struct tls_client_hello ch;
	static struct tls_server_hello sh;
	static struct tls_cert_list cl;

	(void)ctx;
	if (m->kept && m->type == TLS_HS_CLIENT_HELLO)
		(void)tls_hs_client_hello(m->body, m->len, &ch);
	if (m->kept && m->type == TLS_HS_SERVER_HELLO)
		(void)tls_hs_server_hello(m->body, m->len, &sh);
	if (m->kept && m->type == TLS_HS_CERTIFICATE)
		(void)tls_hs_certificate(m->body, m->len, &cl);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rd r = rd_init(data, size), dg;
	struct memcap mc = { 0 };
	struct dtls_stream s;
	uint8_t cfg = 0;

	(void)rd_u8(&r, &cfg);
	mc.limit = cfg & 1 ? (size_t)cfg * 64 : 0;	/* odd: a small budget */
	dtls_stream_init(&s, &mc);
	while (rd_vec16(&r, &dg)) {
		uint8_t *b = malloc(rd_left(&dg) ? rd_left(&dg) : 1);	/* exact size */
		if (b == NULL)
			break;
		(void)rd_bytes(&dg, b, dg.len);
		(void)dtls_looks_like_handshake(b, dg.len);
		(void)dtls_feed(&s, b, dg.len, on_msg, NULL);
		free(b);
	}
	dtls_stream_free(&s);
	if (mc.used != 0)		/* every byte taken is given back */
		abort();
	return 0;
}
