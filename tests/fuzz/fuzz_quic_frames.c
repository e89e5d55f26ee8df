/*
 * fuzz_quic_frames: the frames behind the AEAD.  Each record is 2 bytes
 * (bit 15: from the server, bit 14: QUIC v2, 14 bits: length) and that many
 * bytes of Initial payload, sealed here under the keys of RFC 9001's DCID
 * (tests/quic_seal.h) with increasing packet numbers, so the frame parser,
 * the CRYPTO reassembly and the message splitter see arbitrary plaintext.
 */
#include <stdlib.h>

#include "../quic_seal.h"
#include "fuzz.h"
#include "fuzz_quic.h"

static const uint8_t dcid[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[16384 + 64];
	struct memcap mem = { 0, 256 * 1024, 0, 0 };
	struct quic_conn c;
	uint64_t pn[2] = { 0, 0 };
	size_t off = 0;

	quic_conn_init(&c, &mem);
	while (size - off >= 2) {
		size_t len = (size_t)(data[off] & 0x3f) << 8 | data[off + 1], n;
		bool from_client = !(data[off] & 0x80);
		struct pk k = { 0 };
		uint8_t *b;

		k.version = data[off] & 0x40 ? QUIC_V2 : QUIC_V1;
		off += 2;
		len = len < size - off ? len : size - off;
		k.from_client = from_client;
		k.key_dcid = k.dcid = dcid;
		k.key_dcid_len = 8;
		k.dcid_len = from_client ? 8 : 0;
		k.pn = pn[!from_client]++;
		k.pn_len = 4;
		n = seal(&k, data + off, len, pkt);	/* len < 16384: fits pkt */
		off += len;
		b = fuzz_quic_dup(pkt, n);
		(void)quic_datagram(&c, from_client, b, n, fuzz_quic_msg, NULL);
		free(b);
	}
	quic_conn_free(&c);
	if (mem.used != 0)
		abort();
	return 0;
}
