/* fuzz_pcap: a whole capture file through the engine, events to /dev/null. */
#include <stdio.h>

#include "../../capture/capture.h"
#include "../../engine.h"
#include "../../parser/hashtab.h"
#include "fuzz.h"

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
	char err[512];
	struct ev_out out;
	struct cap_src src;

	static const char text[] = "[a]\ndomains = *.com *.net *.org\nissuer = O=Nobody\n";

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
