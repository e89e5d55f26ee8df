/*
 * reasm.h: one TCP direction's bytes, delivered in sequence order.
 *
 * In-order data goes straight from the packet to the sink, with no copy.
 * Only data that arrives ahead of a hole is copied, into a window of at most
 * REASM_MAX bytes past the next expected byte, where the first copy of any
 * byte wins over later (retransmitted or overlapping) copies.  Sequence
 * numbers compare modulo 2^32.  A hole is declared lost, skipped and
 * reported to the sink when the receiver acknowledges past it, when the
 * window overflows, or at the end of the flow; the sink then resynchronises.
 */
#ifndef TLSENTRY_REASM_H
#define TLSENTRY_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../parser/memcap.h"

#ifndef REASM_MAX
#define REASM_MAX (256 * 1024)	/* bytes buffered ahead of a hole, per direction */
#endif
#ifndef REASM_SEGS_MAX
#define REASM_SEGS_MAX 32	/* disjoint byte ranges held ahead of a hole */
#endif

/*
 * Receives in-order bytes.  p == NULL reports a hole of len bytes that will
 * never be filled.  Return false to say "no more, thanks": the direction is
 * then finished and reasm drops its buffer.
 */
typedef bool (*reasm_sink)(void *ctx, const uint8_t *p, size_t len);

struct reasm_range {
	uint32_t off;		/* from next_seq */
	uint32_t len;
};

struct reasm_stats {
	uint64_t n_dup_bytes;	/* retransmitted or overlapping bytes dropped */
	uint64_t n_ooo_segs;	/* segments buffered ahead of a hole */
	uint64_t n_gaps;	/* holes given up on */
	uint64_t n_gap_bytes;
	uint64_t n_over_window;	/* segments (partly) beyond the window, dropped */
	uint64_t n_nomem;	/* window growth refused by the memory budget */
	uint64_t n_resync;	/* first data far from the SYN's sequence number */
};

struct reasm {
	bool has_seq;		/* next_seq is known (SYN or first data) */
	bool has_fin;
	uint32_t fin_seq;	/* sequence number the FIN occupies */
	bool done;		/* the sink said no more */
	uint32_t next_seq;	/* next byte to deliver */
	uint64_t delivered;	/* bytes delivered, holes included */
	uint8_t *win;		/* window, bytes [next_seq, next_seq + win_cap) */
	size_t win_cap;
	size_t win_max;		/* REASM_MAX unless configured */
	uint8_t n_ranges;
	struct reasm_range ranges[REASM_SEGS_MAX];	/* sorted, disjoint */
	struct memcap *mem;
	struct reasm_stats *st;	/* shared counters; may be NULL */
};

void reasm_init(struct reasm *r, size_t win_max, struct memcap *mem, struct reasm_stats *st);

/* Release the window (no-op when none).  The state stays readable. */
void reasm_free(struct reasm *r);

/* A SYN (or SYN-ACK) carried initial sequence number isn: data starts at isn+1. */
void reasm_syn(struct reasm *r, uint32_t isn);

/* A segment of this direction: seq, and the len bytes captured. */
void reasm_push(struct reasm *r, uint32_t seq, const uint8_t *p, size_t len,
    reasm_sink sink, void *ctx);

/* A FIN at sequence number fin_seq (its segment's seq + data length). */
void reasm_fin(struct reasm *r, uint32_t fin_seq);

/* The other side acknowledged everything before ack. */
void reasm_ack(struct reasm *r, uint32_t ack, reasm_sink sink, void *ctx);

/* End of flow: give up on every hole and deliver what was buffered. */
void reasm_flush(struct reasm *r, reasm_sink sink, void *ctx);

/* Stop: drop the buffer; later pushes are ignored. */
void reasm_finish(struct reasm *r);

/* Bytes held in the window right now. */
size_t reasm_buffered(const struct reasm *r);

#endif /* TLSENTRY_REASM_H */
