/*
 * workers.h: --workers N, the packet path on N threads.
 *
 * The reading thread decodes each packet's addresses and ports, hashes
 * them symmetrically (both directions of a connection give the same value)
 * and appends the packet to the batch of the worker that value picks; each
 * worker runs its own engine (flow table, certificate cache, memory budget:
 * the caps divided by N) over the packets of its connections, in capture
 * order.  The reader also broadcasts the capture clock, so every worker
 * ends idle flows when a single engine would.  Shared between workers, each
 * under its own lock: the event output (one whole event at a time), the CA
 * store's verdict cache, and the two tables that span connections: findings
 * that already alerted (--alert-interval) and hellos already reported (the
 * same handshake seen twice).  Those two are consulted in the order workers
 * get there, which for two connections in different workers within moments
 * of each other may not be capture order: then which copy is reported, or
 * which repeat alerts, can differ from one engine's choice.  Every other
 * event is the same as one engine's, as a set.
 *
 * With N == 1 every call goes straight to one engine, on the caller's
 * thread, as before.
 */
#ifndef TLSENTRY_WORKERS_H
#define TLSENTRY_WORKERS_H

#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "engine.h"

#ifndef WK_MAX
#define WK_MAX 64		/* --workers */
#endif
#ifndef WK_BATCH_BYTES
#define WK_BATCH_BYTES (512u << 10)	/* packets handed over together; > the largest snaplen */
#endif
#ifndef WK_BATCHES
#define WK_BATCHES 4		/* batches queued per worker before the reader waits */
#endif

struct workers;

/*
 * n engines (1..WK_MAX) configured as cfg, with cfg's flow and memory caps
 * split between them.  Events go to out (opened with ev_out_open).  NULL when
 * memory or threads run out.  Threads block every signal: they reach the
 * reading thread.
 */
struct workers *wk_new(size_t n, const struct engine_cfg *cfg, const struct rules *rules,
    struct ev_out *out);

/* As engine_packet(): to the worker that owns the packet's connection. */
void wk_packet(struct workers *w, int linktype, const struct pcap_pkthdr *h, const uint8_t *p);

/* As engine_set_source(), engine_tick(): for every worker, in packet order. */
void wk_set_source(struct workers *w, const char *name);
void wk_tick(struct workers *w, int64_t now_us);

/* Hand over the packets batched so far (live capture: do not let them wait). */
void wk_flush(struct workers *w);

/* As engine_set_rules(): returns once no worker uses the old rules. */
void wk_set_rules(struct workers *w, const struct rules *rules);

/* Every worker's counters, added up (peaks are the sum of each worker's peak). */
void wk_stats(struct workers *w, struct engine_stats *out);

/* As engine_finish(): every packet handed over is processed, every flow ended. */
void wk_finish(struct workers *w);

/* Finish, stop the threads, free.  NULL is a no-op. */
void wk_free(struct workers *w);

#endif /* TLSENTRY_WORKERS_H */
