/* fuzz_decode: link layers to TCP; the first byte picks the link type. */
#include <pcap/dlt.h>

#include "../../capture/decode.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int links[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
		DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP };
	struct pkt pkt;

	if (size < 1)
		return 0;
	(void)dec_packet(links[data[0] % 8], data + 1, size - 1, &pkt);
	return 0;
}
