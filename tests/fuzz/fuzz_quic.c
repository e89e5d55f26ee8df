/* fuzz_quic: datagrams of one QUIC connection; each is prefixed by 2 bytes,
 * the top bit set when the server sent it, the other 15 its length. */
#include <stdlib.h>

#include "../../parser/quic.h"
#include "fuzz.h"
#include "fuzz_quic.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memcap mem = { 0, 256 * 1024, 0, 0 };
	struct quic_conn c;
	size_t off = 0;

	quic_conn_init(&c, &mem);
	while (size - off >= 2) {
		size_t n = (size_t)(data[off] & 0x7f) << 8 | data[off + 1];
		bool from_client = !(data[off] & 0x80);
		uint8_t *b;

		off += 2;
		n = n < size - off ? n : size - off;
		b = fuzz_quic_dup(data + off, n);	/* exact size: ASan sees over-reads */
		(void)quic_looks_like_initial(b, n);
		(void)quic_datagram(&c, from_client, b, n, fuzz_quic_msg, NULL);
		free(b);
		off += n;
	}
	quic_conn_free(&c);
	if (mem.used != 0)
		abort();			/* the memcap must balance */
	return 0;
}
