/*
 * reasm.h: one TCP direction's bytes, delivered in sequence order.
 *
 * In-order data goes straight from the packet to the sink, with no copy.
 * Only data that arrives ahead of a hole is copied, into a window of at most
 * REASM_MAX bytes past the next expected byte, where the first copy of any
 * byte wins over later (retransmitted or overlapping) copies.  Data beyond
 * the window is dropped and counted, never trusted to move the stream: a
 * real receiver would drop it too, so a sender could otherwise use it to
 * blind the sensor.  Sequence numbers compare modulo 2^32.
 *
 * A hole is declared lost, skipped and reported to the sink only on
 * evidence from both ends: the receiver acknowledged past it (within the
 * window) and the sender then sent from the acknowledged point on; or the
 * flow ended.  So an ACK captured before the data it covers, or one forged
 * by a third party, loses nothing.  The sink then resynchronises.
 *
 * The initial sequence number comes from the SYN and is trusted once the
 * peer acknowledges it (the three-way handshake).  Without that, the first
 * data decides: a capture may start mid-connection, and some stacks send
 * SYN-ACKs that their data does not follow.
 */
#ifndef TLSENTRY_REASM_H
#define TLSENTRY_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../parser/memcap.h"

#ifndef REASM_MAX
#define REASM_MAX ((size_t)256 * 1024)	/* bytes buffered ahead of a hole, per direction */
#endif
#ifndef REASM_SEGS_MAX
#define REASM_SEGS_MAX 16	/* disjoint byte ranges held ahead of a hole */
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
	uint64_t n_too_fragmented;	/* segments dropped: REASM_SEGS_MAX ranges held */
	uint64_t n_nomem;	/* window growth refused by the memory budget */
	uint64_t n_resync;	/* first data far from an unconfirmed SYN, trusted */
};

struct reasm {
	bool has_seq;		/* next_seq is known (SYN or first data) */
	bool syn_seen;
	bool isn_confirmed;	/* the peer acknowledged the SYN's number */
	bool has_fin;
	uint32_t fin_seq;	/* sequence number the FIN occupies */
	bool ack_pending;	/* the peer acknowledged past next_seq... */
	uint32_t acked;		/* ...up to here; see reasm_ack() */
	bool done;		/* the sink said no more */
	uint32_t next_seq;	/* next byte to deliver */
	uint64_t delivered;	/* bytes delivered, holes included */
	uint8_t *win;		/* window buffer; next_seq is at win[win_base] */
	size_t win_base;
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

/*
 * The other side acknowledged everything before ack.  Past a hole, that is
 * evidence the hole will not be filled (acknowledged bytes are never
 * resent); the hole is given up when the sender next sends from that point
 * on, or at reasm_flush().
 */
void reasm_ack(struct reasm *r, uint32_t ack);

/* End of flow: give up on every hole and deliver what was buffered. */
void reasm_flush(struct reasm *r, reasm_sink sink, void *ctx);

/* Stop: drop the buffer; later pushes are ignored. */
void reasm_finish(struct reasm *r);

/* Bytes held in the window right now. */
size_t reasm_buffered(const struct reasm *r);

#endif /* TLSENTRY_REASM_H */
