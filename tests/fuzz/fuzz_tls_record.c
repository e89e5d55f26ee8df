/* fuzz_tls_record: the streaming parser, fed in chunks the input chooses. */
#include "../../parser/tls_hs.h"
#include "../../parser/tls_record.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_stream s;
	struct tls_msg m;
	struct tls_client_hello ch;
	size_t off = 1, step = size ? (size_t)data[0] % 64 + 1 : 1;

	tls_stream_init(&s, NULL);
	while (off < size && !tls_stream_stopped(&s)) {
		size_t n = size - off < step ? size - off : step;
		int k = tls_feed(&s, data + off, n, &m);
		if (k < 0)
			break;
		if (m.type == TLS_HS_CLIENT_HELLO && m.kept && !m.is_sslv2)
			(void)tls_hs_client_hello(m.body, m.len, &ch);
		off += (size_t)k;
	}
	tls_stream_free(&s);
	return 0;
}
