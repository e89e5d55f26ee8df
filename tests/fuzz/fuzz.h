/* fuzz.h: what the fuzz targets share. */
#ifndef TLSENTRY_FUZZ_H
#define TLSENTRY_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef TLSENTRY_CAPTURE_H
/* Open a capture held in memory, as libpcap would open a file. */
static inline int
fuzz_pcap_open(struct cap_src *src, const uint8_t *data, size_t size)
{
	char errbuf[PCAP_ERRBUF_SIZE];

	memset(src, 0, sizeof(*src));
	src->name = "fuzz";
	src->fp = fmemopen((void *)data, size, "rb");
	if (src->fp == NULL)
		return -1;
	src->pcap = pcap_fopen_offline(src->fp, errbuf);
	if (src->pcap == NULL) {
		fclose(src->fp);
		src->fp = NULL;
		return -1;
	}
	src->linktype = pcap_datalink(src->pcap);
	return 0;
}
#endif

#endif /* TLSENTRY_FUZZ_H */
