/*
 * soak.c PASSES RULES PCAP...: the same captures through one engine, in one
 * process, PASSES times over.  Each pass ends like a capture ends, and is
 * shifted 20 years later in capture time, past the whole corpus's span, so
 * each pass starts in the same state relative to its own timestamps and no
 * handshake is a duplicate of the last pass's.  Checks that every pass counts the same
 * handshakes, alerts, certificates and flows as the first (the counters add
 * up), that nothing stays allocated between passes, and that resident
 * memory stays flat after the first passes warmed the caches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../capture/capture.h"
#include "../engine.h"
#include "../parser/hashtab.h"
#include "t.h"

struct pass_ctx {
	struct engine *e;
	const struct cap_src *src;
	int64_t shift_s;
};

static void
on_packet(void *ctx, const struct pcap_pkthdr *h, const uint8_t *p)
{
	struct pass_ctx *c = ctx;
	struct pcap_pkthdr shifted = *h;

	shifted.ts.tv_sec += c->shift_s;
	engine_packet(c->e, c->src->linktype, &shifted, p);
}

/* Resident memory now, in kB (VmRSS; not the peak). */
static long
rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	if (f != NULL)
		fclose(f);
	return kb;
}

int
main(int argc, char **argv)
{
	struct engine_stats st, first, prev;
	struct ev_out out;
	struct rules *rules;
	char err[512];
	int passes = argc > 3 ? atoi(argv[1]) : 0;
	long rss_warm = 0, rss_max = 0;
	int code;

	if (passes < 3 || passes > 200) {	/* 200 x 20 years stays under the time cap */
		fprintf(stderr, "usage: soak PASSES RULES PCAP...\n");
		return 2;
	}
	siphash_seed();
	rules = rules_load(argv[2], NULL, err, sizeof(err));
	if (rules == NULL || ev_out_open(&out, "/dev/null", false, err, sizeof(err)) != 0) {
		fprintf(stderr, "soak: %s\n", err);
		return 2;
	}
	struct engine *e = engine_new(NULL, rules, &out);
	memset(&prev, 0, sizeof(prev));
	for (int pass = 0; pass < passes; pass++) {
		struct pass_ctx c = { e, NULL, (int64_t)pass * 631152000 };	/* 20 years */
		for (int i = 3; i < argc; i++) {
			struct cap_src src;
			if (cap_open_file(&src, argv[i], NULL, err, sizeof(err), &code) != 0)
				continue;		/* not every corpus file is readable as a whole */
			c.src = &src;
			(void)cap_run(&src, on_packet, &c, NULL, err, sizeof(err));
			cap_close(&src);
		}
		engine_finish(e);			/* the end of a capture, every pass */
		engine_stats(e, &st);
		if (pass == 0)
			first = st;
		else if (st.n_handshakes - prev.n_handshakes != first.n_handshakes ||
		    st.n_alerts - prev.n_alerts != first.n_alerts ||
		    st.n_certs - prev.n_certs != first.n_certs ||
		    st.flows.n_created - prev.flows.n_created != first.flows.n_created) {
			T_CHECK(!"every pass counts what the first did");
			fprintf(stderr, "  pass %d: %llu handshakes, %llu alerts, %llu certificates, "
			    "%llu flows (first pass %llu, %llu, %llu, %llu)\n", pass,
			    (unsigned long long)(st.n_handshakes - prev.n_handshakes),
			    (unsigned long long)(st.n_alerts - prev.n_alerts),
			    (unsigned long long)(st.n_certs - prev.n_certs),
			    (unsigned long long)(st.flows.n_created - prev.flows.n_created),
			    (unsigned long long)first.n_handshakes, (unsigned long long)first.n_alerts,
			    (unsigned long long)first.n_certs, (unsigned long long)first.flows.n_created);
			break;
		}
		T_EQ_U(st.flows.n_active, 0);		/* nothing left between passes */
		/* the same handshake in two captures of the corpus: once a pass */
		T_EQ_U(st.n_duplicates - prev.n_duplicates, pass == 0 ? st.n_duplicates :
		    first.n_duplicates);
		prev = st;
		if (pass == 4)
			rss_warm = rss_kb();
		if (rss_kb() > rss_max)
			rss_max = rss_kb();
	}
	engine_stats(e, &st);
	T_EQ_U(st.n_handshakes, first.n_handshakes * (uint64_t)passes);
	T_EQ_U(st.n_alerts, first.n_alerts * (uint64_t)passes);
	T_EQ_U(out.n.n_events, st.n_handshakes + st.n_alerts);	/* every one written */
	T_CHECK(first.n_handshakes > 0 && first.n_alerts > 0);
	/* flat: no more than 1 MB above the warmed-up size, whatever the passes
	 * (not under ASan, whose quarantine holds freed memory on purpose) */
	if (T_SANITIZED)
		printf("note: sanitizer build: resident memory not checked\n");
	else
		T_CHECK(rss_max - rss_warm <= 1024);
	printf("soak: %d passes, %llu handshakes and %llu alerts each; resident memory "
	    "%ld kB after warm-up, at most %ld kB after\n", passes,
	    (unsigned long long)first.n_handshakes, (unsigned long long)first.n_alerts,
	    rss_warm, rss_max);
	engine_free(e);
	ev_out_close(&out);
	rules_free(rules);
	printf("tests/soak.c: %u passed, %u failed\n", t_pass, t_fail);
	return t_fail ? 1 : 0;
}
