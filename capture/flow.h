/*
 * flow.h: the table of TCP/UDP flows, both directions of a connection in one
 * entry, keyed by a canonical 5-tuple (lower address/port endpoint first).
 *
 * Flows are kept in least-recently-seen order, so idle expiry and eviction
 * at the cap take the oldest first in O(1).  The table knows nothing of TLS:
 * the application hangs its own state on flow->app, and an end callback
 * tells it when a flow ends and why, just before the flow is freed.
 */
#ifndef TLSENTRY_FLOW_H
#define TLSENTRY_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "../parser/hashtab.h"
#include "decode.h"
#include "reasm.h"

#ifndef FLOW_MAX
#define FLOW_MAX 65536		/* flows tracked at once; the oldest idle one goes */
#endif
#ifndef FLOW_IDLE_S
#define FLOW_IDLE_S 120		/* seconds of capture time without a packet */
#endif

/* Canonical flow key: zeroed, then endpoint "lo" < endpoint "hi". */
struct flow_key {
	uint8_t family;
	uint8_t proto;
	uint16_t port_lo;
	uint16_t port_hi;
	uint8_t addr_lo[16];
	uint8_t addr_hi[16];
};

enum flow_end {
	FLOW_END_FIN,		/* both sides sent FIN */
	FLOW_END_RST,
	FLOW_END_IDLE,		/* idle timeout, in capture time */
	FLOW_END_EVICTED,	/* table full; the least recently seen flow went */
	FLOW_END_EOF,		/* the capture ended */
	FLOW_END_REUSED,	/* a new SYN on the same addresses and ports */
	FLOW_END_N
};

struct flow {
	struct flow_key key;
	UT_hash_handle hh;
	struct flow *lru_prev, *lru_next;	/* least recently seen first */
	int64_t first_us, last_us;
	uint64_t n_pkts;
	bool fin[2];		/* FIN seen from direction d */
	bool syn_seen[2];	/* a SYN (or SYN-ACK) from direction d ... */
	uint32_t syn_isn[2];	/* ... and its sequence number */
	int8_t client_hint;	/* the direction that sent the SYN; -1 unknown */
	bool done;		/* the application wants no more of its bytes */
	struct reasm rs[2];	/* d = 0: lo -> hi, d = 1: hi -> lo */
	void *app;		/* owned by the application; freed in its end callback */
	void *app_log;		/* the same: the flow's packets, kept for evidence */
};

struct flow_stats {
	uint64_t n_created;
	uint64_t n_ended[FLOW_END_N];
	uint64_t n_nomem;
	uint64_t n_active;
	uint64_t n_peak;
};

typedef void (*flow_end_cb)(void *ctx, struct flow *f, enum flow_end why);

struct flow_table;

/*
 * A table of at most max flows (0: FLOW_MAX), ending flows idle for idle_s
 * seconds (0: FLOW_IDLE_S).  Each flow's reassembly windows are capped at
 * reasm_max bytes and charged to mem.  on_end is called for every flow that
 * ends, whatever the reason, before it is freed.
 */
struct flow_table *flow_table_new(size_t max, unsigned idle_s, size_t reasm_max,
    struct memcap *mem, struct reasm_stats *rst, flow_end_cb on_end, void *ctx);

/* End every flow (oldest first, FLOW_END_EOF) and free the table.  NULL: no-op. */
void flow_table_free(struct flow_table *ft);

/* End every flow, oldest first, with the given reason; the table stays. */
void flow_table_flush(struct flow_table *ft, enum flow_end why);

/*
 * The flow of this packet, and the packet's direction in it (*dir).  When
 * none exists and create is true, a new one is made (evicting the least
 * recently seen flow at the cap).  NULL when absent and not created, or out
 * of memory.  The flow becomes the most recently seen.
 */
struct flow *flow_get(struct flow_table *ft, const struct pkt *pkt, bool create, int *dir);

/* End one flow now. */
void flow_end(struct flow_table *ft, struct flow *f, enum flow_end why);

/* End flows whose last packet is older than now_us - idle. */
void flow_expire(struct flow_table *ft, int64_t now_us);

void flow_table_stats(const struct flow_table *ft, struct flow_stats *out);

const char *flow_end_str(enum flow_end why);

/* The endpoint that sends in direction dir: address and port. */
const uint8_t *flow_src_addr(const struct flow *f, int dir);
uint16_t flow_src_port(const struct flow *f, int dir);

#endif /* TLSENTRY_FLOW_H */
