/*
 * fuzz_pcap: a whole capture file through the engine, events to /dev/null,
 * with everything that judges a handshake on: the system CA store (chain
 * validation), trust on first use and learning (both in memory, bounded).
 */
#include <stdio.h>

#include "../../capture/capture.h"
#include "../../engine.h"
#include "../../parser/hashtab.h"
#include "../../parser/trust.h"
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
	static struct engine_cfg cfg;
	char err[512];
	struct ev_out out;
	struct cap_src src;

	static const char text[] = "[a]\ndomains = *.com *.net *.org\nissuer = O=Nobody\n";

	if (rules == NULL) {
		rules = rules_parse(text, sizeof(text) - 1, "fuzz", NULL, err, sizeof(err));
		cfg.trust = trust_new(false, NULL, 0, NULL, err, sizeof(err));
		cfg.tofu = tofu_load("/nonexistent/tlsentry-fuzz-state", err, sizeof(err));
		cfg.learn = learn_new();
		cfg.alert_interval_s = -1;	/* every alert, every time */
	}
	if (fuzz_pcap_open(&src, data, size) != 0)
		return 0;
	if (ev_out_open(&out, "/dev/null", false, err, sizeof(err)) == 0) {
		struct engine *e = engine_new(&cfg, rules, &out);
		void *ctx[2] = { e, &src };
		if (e != NULL)
			(void)cap_run(&src, on_packet, ctx, NULL, err, sizeof(err));
		engine_free(e);
		ev_out_close(&out);
	}
	cap_close(&src);
	return 0;
}
