/*
 * fuzz_pcap_struct: the whole packet path, like fuzz_pcap, with a mutator
 * that keeps the capture valid and mutates what is inside it: one packet's
 * bytes (through libFuzzer's own mutator), or the order of the packets (a
 * packet swapped with the next, duplicated, or dropped).  Random bytes
 * rarely make a capture libpcap accepts; this reaches the TCP and TLS code
 * with every mutation.
 */
#include <stdlib.h>
#include <string.h>

#include "../../capture/capture.h"
#include "../../engine.h"
#include "fuzz.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed);

#define REC_MAX 512

struct rec {
	size_t off, len;		/* of the record's bytes, its 16-byte header excluded */
};

/* Little-endian pcap records: the offsets of up to REC_MAX whole records. */
static size_t
records(const uint8_t *d, size_t size, struct rec *r)
{
	size_t off = 24, n = 0;

	if (size < 24 || memcmp(d, "\xd4\xc3\xb2\xa1", 4) != 0)
		return 0;
	while (n < REC_MAX && size - off >= 16) {
		size_t cl = (size_t)d[off + 8] | (size_t)d[off + 9] << 8 |
		    (size_t)d[off + 10] << 16 | (size_t)d[off + 11] << 24;
		if (cl > size - off - 16)
			break;
		r[n].off = off + 16;
		r[n++].len = cl;
		off += 16 + cl;
	}
	return n;
}

static void
put_len(uint8_t *hdr, size_t len)	/* caplen and len of a record header */
{
	for (int i = 0; i < 4; i++)
		hdr[8 + i] = hdr[12 + i] = (uint8_t)(len >> (8 * i));
}

size_t
LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned seed)
{
	static struct rec r[REC_MAX];
	static uint8_t out[1 << 20];
	size_t n = records(data, size, r), o = 24, pick;

	if (n == 0 || max_size > sizeof(out))
		return LLVMFuzzerMutate(data, size, max_size);
	pick = seed % n;
	memcpy(out, data, 24);
	for (size_t i = 0; i < n; i++) {
		size_t j = i, len;
		if (seed % 4 == 1 && i == pick && i + 1 < n)
			j = i + 1;		/* swap with the next */
		else if (seed % 4 == 1 && i == pick + 1)
			j = pick;
		if (seed % 4 == 2 && i == pick)
			continue;		/* drop it */
		len = r[j].len;
		if (o + 16 + len + (seed % 4 == 3 && i == pick ? 16 + len : 0) > max_size)
			break;
		memcpy(out + o, data + r[j].off - 16, 16 + len);
		if (seed % 4 == 0 && i == pick) {	/* mutate its bytes */
			len = LLVMFuzzerMutate(out + o + 16, len, max_size - o - 16 < 65535 ?
			    max_size - o - 16 : 65535);
			put_len(out + o, len);
		}
		o += 16 + len;
		if (seed % 4 == 3 && i == pick) {	/* duplicate it */
			memcpy(out + o, out + o - 16 - len, 16 + len);
			o += 16 + len;
		}
	}
	memcpy(data, out, o);
	return o;
}

static void
on_packet(void *ctx, const struct pcap_pkthdr *h, const uint8_t *p)
{
	struct engine *e = ((void **)ctx)[0];
	const struct cap_src *src = ((void **)ctx)[1];

	engine_packet(e, src->linktype, h, p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rules *rules;
	static const char text[] = "[a]\ndomains = *.com *.net *.org\nissuer = O=Nobody\n";
	char err[512];
	struct ev_out out;
	struct cap_src src;

	if (rules == NULL)
		rules = rules_parse(text, sizeof(text) - 1, "fuzz", NULL, err, sizeof(err));
	if (fuzz_pcap_open(&src, data, size) != 0)
		return 0;
	if (ev_out_open(&out, "/dev/null", false, err, sizeof(err)) == 0) {
		struct engine *e = engine_new(NULL, rules, &out);
		void *ctx[2] = { e, &src };
		if (e != NULL)
			(void)cap_run(&src, on_packet, ctx, NULL, err, sizeof(err));
		engine_free(e);
		ev_out_close(&out);
	}
	cap_close(&src);
	return 0;
}
