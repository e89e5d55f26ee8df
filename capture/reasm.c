/*
 * reasm.c: per-direction TCP reassembly.
 *
 * Distrusts: sequence and acknowledgement numbers (they may jump, wrap,
 * repeat or lie); every offset into the window is checked against its size,
 * and no single packet can move the stream by more than the window.
 * Owns: the window buffer, taken from the memory budget.
 */
#include <stdlib.h>
#include <string.h>

#include "reasm.h"

#define SEQ_DIFF(a, b) ((int64_t)(int32_t)((uint32_t)(a) - (uint32_t)(b)))

static struct reasm_stats dummy_stats;

void
reasm_init(struct reasm *r, size_t win_max, struct memcap *mem, struct reasm_stats *st)
{
	memset(r, 0, sizeof(*r));
	r->win_max = win_max ? win_max : REASM_MAX;
	if (r->win_max > (size_t)INT32_MAX / 2)
		r->win_max = INT32_MAX / 2;	/* offsets must stay far from 2^31 */
	r->mem = mem;
	r->st = st ? st : &dummy_stats;
}

void
reasm_free(struct reasm *r)
{
	if (r->win != NULL) {
		free(r->win);
		memcap_give(r->mem, r->win_cap);
	}
	r->win = NULL;
	r->win_cap = 0;
	r->win_base = 0;
	r->n_ranges = 0;
}

void
reasm_finish(struct reasm *r)
{
	r->done = true;
	reasm_free(r);
}

size_t
reasm_buffered(const struct reasm *r)
{
	size_t n = 0;

	for (unsigned i = 0; i < r->n_ranges; i++)
		n += r->ranges[i].len;
	return n;
}

/* Nothing delivered or buffered yet: the starting point may still move. */
static bool
untouched(const struct reasm *r)
{
	return r->delivered == 0 && r->n_ranges == 0;
}

void
reasm_syn(struct reasm *r, uint32_t isn)
{
	if (untouched(r) && !r->isn_confirmed) {	/* a later SYN-ACK may correct it */
		r->next_seq = isn + 1;
		r->has_seq = true;
		r->syn_seen = true;
	}
}

/* Advance past n bytes that were just handed to the sink (or lost). */
static void
advance(struct reasm *r, size_t n)
{
	r->next_seq += (uint32_t)n;
	r->delivered += n;
}

static void
deliver(struct reasm *r, const uint8_t *p, size_t len, reasm_sink sink, void *ctx)
{
	advance(r, len);
	if (!sink(ctx, p, len))
		reasm_finish(r);
}

/*
 * The window's first n bytes are gone: rebase the ranges.  The bytes stay
 * where they are (win_base moves), so delivering costs no copy; store()
 * compacts when it needs the room.
 */
static void
shift_window(struct reasm *r, uint32_t n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < r->n_ranges; i++) {
		struct reasm_range g = r->ranges[i];
		if (g.off + g.len <= n)
			continue;		/* wholly before the new start */
		if (g.off < n) {
			g.len -= n - g.off;
			g.off = n;
		}
		g.off -= n;
		r->ranges[k++] = g;
	}
	r->n_ranges = (uint8_t)k;
	r->win_base = k == 0 ? 0 : r->win_base + n;
}

/* Deliver the window's leading range while one starts at next_seq. */
static void
drain(struct reasm *r, reasm_sink sink, void *ctx)
{
	while (!r->done && r->n_ranges > 0 && r->ranges[0].off == 0) {
		uint32_t n = r->ranges[0].len;
		advance(r, n);
		if (!sink(ctx, r->win + r->win_base, n)) {
			reasm_finish(r);
			return;
		}
		shift_window(r, n);
	}
}

/* Declare the next n bytes lost: tell the sink, move past them, drain. */
static void
skip_hole(struct reasm *r, uint32_t n, reasm_sink sink, void *ctx)
{
	r->st->n_gaps++;
	r->st->n_gap_bytes += n;
	advance(r, n);
	if (!sink(ctx, NULL, n)) {
		reasm_finish(r);
		return;
	}
	shift_window(r, n);
	drain(r, sink, ctx);
}

/* Room for window offsets [0, need): compact first, then grow. */
static bool
make_room(struct reasm *r, size_t need)
{
	size_t cap = r->win_cap ? r->win_cap : 4096;
	uint8_t *nw;

	if (r->win_base + need <= r->win_cap)
		return true;
	if (r->win_base > 0 && r->n_ranges > 0) {
		struct reasm_range *last = &r->ranges[r->n_ranges - 1];
		memmove(r->win, r->win + r->win_base, last->off + last->len);
	}
	r->win_base = 0;
	if (need <= r->win_cap)
		return true;
	while (cap < need)
		cap *= 2;
	if (cap > r->win_max)
		cap = r->win_max;
	if (!memcap_take(r->mem, cap - r->win_cap)) {
		r->st->n_nomem++;
		return false;
	}
	nw = realloc(r->win, cap);
	if (nw == NULL) {
		memcap_give(r->mem, cap - r->win_cap);
		r->st->n_nomem++;
		return false;
	}
	r->win = nw;
	r->win_cap = cap;
	return true;
}

/*
 * Keep bytes [off, off + len) of the window, where no earlier copy exists
 * (first copy wins), and merge the range into the sorted list.  False when
 * the segment had to be dropped (too fragmented, or no memory).
 */
static bool
store(struct reasm *r, uint32_t off, const uint8_t *p, uint32_t len)
{
	uint32_t a = off, b = off + len, cur = a;
	unsigned i, j, n = r->n_ranges;
	uint8_t *w;

	/* ranges touching [a, b): i is the first ending at or after a */
	for (i = 0; i < n && r->ranges[i].off + r->ranges[i].len < a; i++)
		;
	for (j = i; j < n && r->ranges[j].off <= b; j++)
		;
	if (i == j && n == REASM_SEGS_MAX) {
		r->st->n_too_fragmented++;	/* keep what we have */
		return false;
	}
	if (!make_room(r, b))
		return false;
	w = r->win + r->win_base;
	r->st->n_ooo_segs++;
	for (unsigned k = i; k < j && cur < b; k++) {
		uint32_t rs = r->ranges[k].off, re = rs + r->ranges[k].len;
		if (re <= cur)
			continue;
		if (rs > cur)
			memcpy(w + cur, p + (cur - a), (rs < b ? rs : b) - cur);
		r->st->n_dup_bytes += (re < b ? re : b) - (rs > cur ? rs : cur);
		cur = re > cur ? re : cur;
	}
	if (cur < b)
		memcpy(w + cur, p + (cur - a), b - cur);
	if (i == j) {				/* a new range at i */
		memmove(&r->ranges[i + 1], &r->ranges[i], (n - i) * sizeof(r->ranges[0]));
		r->ranges[i].off = a;
		r->ranges[i].len = len;
		r->n_ranges++;
		return true;
	}
	uint32_t lo = a < r->ranges[i].off ? a : r->ranges[i].off;
	uint32_t hi = r->ranges[j - 1].off + r->ranges[j - 1].len;
	hi = hi > b ? hi : b;
	r->ranges[i].off = lo;
	r->ranges[i].len = hi - lo;
	memmove(&r->ranges[i + 1], &r->ranges[j], (n - j) * sizeof(r->ranges[0]));
	r->n_ranges = (uint8_t)(n - (j - i - 1));
	return true;
}

/* Give up holes before `upto`: each one up to the next buffered range. */
static void
skip_holes_before(struct reasm *r, uint32_t upto, reasm_sink sink, void *ctx)
{
	int64_t d = SEQ_DIFF(upto, r->next_seq);

	while (d > 0 && !r->done) {
		uint32_t hole = r->n_ranges > 0 ? r->ranges[0].off : (uint32_t)d;
		skip_hole(r, (uint64_t)d < hole ? (uint32_t)d : hole, sink, ctx);
		d = SEQ_DIFF(upto, r->next_seq);
	}
}

/* Give up the holes before an acknowledged point (see reasm_push). */
static void
settle_ack(struct reasm *r, reasm_sink sink, void *ctx)
{
	if (!r->ack_pending || r->done)
		return;
	r->ack_pending = false;
	skip_holes_before(r, r->acked, sink, ctx);
}

/* The segment, already trimmed to start at or after next_seq. */
static void
place(struct reasm *r, uint32_t seq, const uint8_t *p, size_t len, reasm_sink sink, void *ctx)
{
	while (len > 0 && !r->done) {
		int64_t diff = SEQ_DIFF(seq, r->next_seq);
		if (diff < 0) {			/* starts before next_seq: old bytes */
			if ((uint64_t)-diff >= len) {
				r->st->n_dup_bytes += len;
				return;
			}
			r->st->n_dup_bytes += (uint64_t)-diff;
			p += -diff;
			len -= (size_t)-diff;
			seq = r->next_seq;
			diff = 0;
		}
		if (diff == 0 && r->n_ranges == 0) {
			deliver(r, p, len, sink, ctx);
			return;
		}
		if (diff == 0 && r->ranges[0].off > 0) {
			/* in order, before what is buffered: straight to the sink */
			size_t k = len < r->ranges[0].off ? len : r->ranges[0].off;
			advance(r, k);
			shift_window(r, (uint32_t)k);
			if (!sink(ctx, p, k)) {
				reasm_finish(r);
				return;
			}
			drain(r, sink, ctx);
			p += k;
			len -= k;
			seq += (uint32_t)k;
			continue;
		}
		if ((uint64_t)diff >= r->win_max) {
			r->st->n_over_window++;	/* a receiver would drop it too */
			return;
		}
		if ((uint64_t)diff + len <= r->win_max) {
			if (store(r, (uint32_t)diff, p, (uint32_t)len))
				drain(r, sink, ctx);
			return;
		}
		/* runs past the window: keep what fits, then go on with the rest
		 * if draining made room, else drop it */
		size_t fit = r->win_max - (size_t)diff;
		uint32_t before = r->next_seq;
		if (!store(r, (uint32_t)diff, p, (uint32_t)fit))
			return;
		drain(r, sink, ctx);
		if (r->next_seq == before) {
			r->st->n_over_window++;
			return;
		}
		p += fit;
		len -= fit;
		seq += (uint32_t)fit;
	}
}

void
reasm_push(struct reasm *r, uint32_t seq, const uint8_t *p, size_t len,
    reasm_sink sink, void *ctx)
{
	int64_t diff;

	if (r->done || len == 0)
		return;
	if (!r->has_seq) {
		r->next_seq = seq;
		r->has_seq = true;
	}
	diff = SEQ_DIFF(seq, r->next_seq);
	if (untouched(r) && (diff < 0 || diff >= (int64_t)r->win_max)) {
		if (r->isn_confirmed) {
			/* the handshake fixed where data starts: this is not it */
			r->st->n_over_window++;
			return;
		}
		/* no confirmed start (no SYN, or a SYN-ACK the data does not
		 * follow): the first data decides */
		r->st->n_resync++;
		r->next_seq = seq;
	}
	/*
	 * The receiver acknowledged bytes we never saw, and now the sender
	 * sends from that point on: both ends agree those bytes are behind
	 * them, so they will not come again.  Waiting for the sender's word
	 * tolerates captures that show an ACK before the data it covers, and
	 * an acknowledgement forged by a third party.
	 */
	if (r->ack_pending && SEQ_DIFF(seq, r->acked) >= 0)
		settle_ack(r, sink, ctx);
	place(r, seq, p, len, sink, ctx);
	if (r->ack_pending && SEQ_DIFF(r->next_seq, r->acked) >= 0)
		r->ack_pending = false;		/* the late data came after all */
}

void
reasm_fin(struct reasm *r, uint32_t fin_seq)
{
	r->has_fin = true;
	r->fin_seq = fin_seq;
}

void
reasm_ack(struct reasm *r, uint32_t ack)
{
	int64_t d;

	if (r->done || !r->has_seq)
		return;
	if (r->has_fin && ack == r->fin_seq + 1)
		ack = r->fin_seq;		/* the FIN takes a number, not a byte */
	d = SEQ_DIFF(ack, r->next_seq);
	if (untouched(r)) {
		if (r->syn_seen && d == 0)	/* the three-way handshake agrees */
			r->isn_confirmed = true;
		return;
	}
	/* past the window it is not evidence of anything we could use */
	if (d > 0 && d <= (int64_t)r->win_max &&
	    (!r->ack_pending || SEQ_DIFF(ack, r->acked) > 0)) {
		r->ack_pending = true;
		r->acked = ack;
	}
}

void
reasm_flush(struct reasm *r, reasm_sink sink, void *ctx)
{
	while (!r->done && r->n_ranges > 0) {
		if (r->ranges[0].off > 0)
			skip_hole(r, r->ranges[0].off, sink, ctx);
		else
			drain(r, sink, ctx);
	}
	settle_ack(r, sink, ctx);		/* acknowledged bytes past the last segment */
}
