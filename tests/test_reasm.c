/*
 * test_reasm.c: one TCP direction's reassembly.  A recording sink appends
 * delivered bytes to a transcript and logs every call, holes (p == NULL)
 * included, so each test can check exactly what came out, in what order and
 * from which buffer.
 *
 * The contract under test (capture/reasm.h): an ACK (within the window)
 * only records evidence; a hole before it is given up when the sender next
 * sends from the acknowledged point on, or by reasm_flush().  Data starting
 * at or past the window is dropped and counted, never a reason to give up a
 * hole.  A SYN's number is trusted once the peer acknowledges it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../capture/reasm.h"
#include "t.h"

/* One sink call: data (p != NULL) or a hole. */
struct ev {
	const uint8_t *p;
	size_t len;
	size_t at;		/* transcript length before the call */
};

struct rec {
	struct ev ev[512];
	int n_ev;
	int n_holes;
	size_t hole_bytes;
	int false_at;		/* return false on this call (1-based); 0: never */
	int bad_ptr;		/* window deliveries reaching past the window */
	size_t n;		/* data bytes in out */
	uint8_t out[4 << 20];	/* last: setup() clears only what precedes it */
};

static struct rec R;
static struct reasm_stats S;
static struct reasm Q;

static bool
sink(void *ctx, const uint8_t *p, size_t len)
{
	struct rec *r = ctx;

	if (r->n_ev < (int)(sizeof(r->ev) / sizeof(r->ev[0]))) {
		r->ev[r->n_ev].p = p;
		r->ev[r->n_ev].len = len;
		r->ev[r->n_ev].at = r->n;
	}
	r->n_ev++;
	/* bytes handed out of Q's window must lie wholly inside it */
	if (p != NULL && Q.win != NULL && p >= Q.win && p < Q.win + Q.win_cap &&
	    len > (size_t)(Q.win + Q.win_cap - p))
		r->bad_ptr++;
	if (p == NULL) {
		r->n_holes++;
		r->hole_bytes += len;
	} else if (r->n + len <= sizeof(r->out)) {
		memcpy(r->out + r->n, p, len);
		r->n += len;
	}
	return r->false_at == 0 || r->n_ev < r->false_at;
}

/* Fresh state: window win_max (0 = REASM_MAX), optional budget. */
static void
setup(size_t win_max, struct memcap *m)
{
	memset(&R, 0, offsetof(struct rec, out));
	memset(&S, 0, sizeof(S));
	reasm_init(&Q, win_max, m, &S);
}

/* Push len bytes, all equal to c, at seq; from an exact-size heap copy. */
static void
push_c(uint32_t seq, int c, size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	memset(b, c, len);
	reasm_push(&Q, seq, b, len, sink, &R);
	free(b);
}

/* Push a string at seq from an exact-size heap copy. */
static void
push_s(uint32_t seq, const char *s)
{
	size_t len = strlen(s);
	uint8_t *b = t_dup(s, len);

	reasm_push(&Q, seq, b, len, sink, &R);
	free(b);
}

/* Push len bytes of d at seq from an exact-size heap copy. */
static void
push_d(uint32_t seq, const uint8_t *d, size_t len)
{
	uint8_t *b = t_dup(d, len);

	reasm_push(&Q, seq, b, len, sink, &R);
	free(b);
}

#define T_OUT(s) do {							\
	T_EQ_U(R.n, strlen(s));						\
	if (R.n == strlen(s))						\
		T_EQ_MEM(R.out, (s), R.n);				\
} while (0)

/* Deterministic xorshift32. */
static uint32_t rng;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* In-order segments go straight to the sink: the caller's own pointer, no window. */
static void
test_reasm_in_order_no_copy(void)
{
	static const uint8_t seg1[] = { 'A', 'B', 'C', 'D', 'E' };	/* seq 1000..1004 */
	static const uint8_t seg2[] = { 'F', 'G', 'H' };		/* seq 1005..1007 */
	uint8_t *b1 = t_dup(seg1, sizeof(seg1)), *b2 = t_dup(seg2, sizeof(seg2));

	setup(0, NULL);
	reasm_syn(&Q, 999);			/* ISN 999: data starts at 1000 */
	T_CHECK(Q.has_seq);
	T_CHECK(Q.syn_seen);
	T_CHECK(!Q.isn_confirmed);
	T_EQ_U(Q.next_seq, 1000);
	reasm_ack(&Q, 1000);			/* the handshake's ACK */
	T_CHECK(Q.isn_confirmed);
	reasm_push(&Q, 1000, b1, sizeof(seg1), sink, &R);
	reasm_push(&Q, 1005, b2, sizeof(seg2), sink, &R);
	T_EQ_I(R.n_ev, 2);
	T_CHECK(R.ev[0].p == b1);		/* no copy */
	T_EQ_U(R.ev[0].len, 5);
	T_CHECK(R.ev[1].p == b2);
	T_EQ_U(R.ev[1].len, 3);
	T_OUT("ABCDEFGH");
	T_EQ_U(Q.next_seq, 1008);
	T_EQ_U(Q.delivered, 8);
	T_CHECK(Q.win == NULL);			/* nothing was ever buffered */
	T_EQ_U(reasm_buffered(&Q), 0);
	T_EQ_U(S.n_ooo_segs, 0);
	T_EQ_U(S.n_dup_bytes, 0);
	T_EQ_I(R.n_holes, 0);
	/* acks of what was delivered record nothing */
	reasm_ack(&Q, 1008);
	reasm_ack(&Q, 1003);
	T_CHECK(!Q.ack_pending);
	free(b1);
	free(b2);
	reasm_free(&Q);

	/* no SYN: the first segment sets the sequence */
	setup(0, NULL);
	push_s(0x12345678, "xy");
	T_CHECK(Q.has_seq);
	T_CHECK(!Q.syn_seen);
	push_s(0x1234567a, "z");
	T_OUT("xyz");
	T_EQ_U(Q.next_seq, 0x1234567b);
	T_EQ_U(S.n_resync, 0);
	/* zero-length pushes do nothing */
	reasm_push(&Q, 0x1234567b, NULL, 0, sink, &R);
	T_EQ_I(R.n_ev, 2);
	reasm_free(&Q);
}

/* Out-of-order segments are held until the hole fills, then delivered in order. */
static void
test_reasm_out_of_order(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1005, "FGHIJ");			/* ahead of a 5-byte hole */
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(reasm_buffered(&Q), 5);
	T_EQ_U(S.n_ooo_segs, 1);
	T_EQ_U(Q.next_seq, 1000);
	push_s(1000, "ABCDE");			/* fills it */
	T_OUT("ABCDEFGHIJ");
	T_EQ_U(reasm_buffered(&Q), 0);
	T_EQ_U(Q.next_seq, 1010);
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(Q.win_base, 0);			/* empty window: back to the start */
	reasm_free(&Q);

	/* four segments in reverse order */
	setup(0, NULL);
	reasm_syn(&Q, 99);
	push_s(109, "jkl");			/* seq 109..111 */
	push_s(106, "ghi");			/* seq 106..108 */
	push_s(103, "def");			/* seq 103..105 */
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(Q.n_ranges, 1);			/* touching ranges merge */
	T_EQ_U(reasm_buffered(&Q), 9);
	push_s(100, "abc");
	T_OUT("abcdefghijkl");
	T_EQ_U(Q.n_ranges, 0);
	T_EQ_U(S.n_dup_bytes, 0);
	reasm_free(&Q);

	/* two separate holes, filled one after the other */
	setup(0, NULL);
	reasm_syn(&Q, 99);
	push_s(104, "EF");			/* 104..105 */
	push_s(108, "IJ");			/* 108..109 */
	T_EQ_U(Q.n_ranges, 2);
	push_s(100, "ABCD");			/* fills the first hole */
	T_OUT("ABCDEF");
	T_EQ_U(Q.next_seq, 106);
	T_EQ_U(reasm_buffered(&Q), 2);
	T_EQ_U(Q.win_base, 6);			/* delivered in place, no memmove */
	T_EQ_U(Q.ranges[0].off, 2);		/* IJ, rebased on next_seq */
	push_s(106, "GH");			/* and the second */
	T_OUT("ABCDEFGHIJ");
	T_EQ_U(reasm_buffered(&Q), 0);
	T_EQ_U(Q.win_base, 0);
	T_EQ_I(R.bad_ptr, 0);
	reasm_free(&Q);
}

/* Duplicates and retransmissions are dropped and counted. */
static void
test_reasm_duplicates(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "hello");
	push_s(1000, "HELLO");			/* retransmission, different bytes */
	T_OUT("hello");
	T_EQ_U(S.n_dup_bytes, 5);
	push_s(1005, " world");
	push_s(1002, "LLO WO");			/* old bytes only */
	push_s(995, "0123456789");		/* ends before next_seq too */
	T_OUT("hello world");
	T_EQ_U(S.n_dup_bytes, 5 + 6 + 10);
	T_EQ_U(Q.next_seq, 1011);

	/* duplicate of a buffered (out-of-order) segment */
	push_s(1020, "tail");			/* hole 1011..1019 */
	push_s(1020, "TAIL");			/* same range, later copy */
	T_EQ_U(reasm_buffered(&Q), 4);
	T_EQ_U(S.n_dup_bytes, 21 + 4);
	push_s(1011, "123456789");
	T_OUT("hello world123456789tail");
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(S.n_over_window, 0);
	reasm_free(&Q);
}

/* Overlaps: the first copy of every byte wins, buffered or delivered. */
static void
test_reasm_overlap_first_wins(void)
{
	/* buffered ahead of a hole: B [1010,1020), then C [1005,1015),
	 * D [1015,1025), then A [1000,1012) fills the hole */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_c(1010, 'B', 10);
	push_c(1005, 'C', 10);			/* 1010..1014 already B */
	push_c(1015, 'D', 10);			/* 1015..1019 already B */
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(Q.n_ranges, 1);
	T_EQ_U(reasm_buffered(&Q), 20);
	push_c(1000, 'A', 12);			/* 1005..1011 already C/B */
	T_OUT("AAAAACCCCCBBBBBBBBBBDDDDD");
	T_EQ_U(S.n_dup_bytes, 5 + 5 + 5 + 2);
	T_EQ_U(Q.next_seq, 1025);
	reasm_free(&Q);

	/* a segment spanning two buffered ranges and the gap between them */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_c(1005, 'X', 3);			/* 1005..1007 */
	push_c(1012, 'Y', 3);			/* 1012..1014 */
	push_c(1003, 'Z', 14);			/* 1003..1016: fills around X and Y */
	T_EQ_U(Q.n_ranges, 1);
	T_EQ_U(reasm_buffered(&Q), 14);
	push_c(1000, 'A', 3);
	T_OUT("AAAZZXXXZZZZYYYZZ");
	T_EQ_U(S.n_dup_bytes, 6);
	reasm_free(&Q);

	/* a segment wholly inside a buffered one changes nothing */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_c(1010, 'B', 10);
	push_c(1012, 'Q', 3);
	push_c(1000, 'A', 10);
	T_OUT("AAAAAAAAAABBBBBBBBBB");
	T_EQ_U(S.n_dup_bytes, 3);
	reasm_free(&Q);

	/* a segment whose head was delivered: only its tail comes out */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_c(1000, 'A', 10);
	push_c(1005, 'B', 10);			/* 1005..1009 delivered as A */
	T_OUT("AAAAAAAAAABBBBB");
	T_EQ_U(S.n_dup_bytes, 5);
	T_EQ_I(R.n_ev, 2);

	/* head delivered, middle new, tail buffered ahead of it */
	push_c(1020, 'D', 5);			/* 1020..1024, hole 1015..1019 */
	push_c(1012, 'C', 16);			/* 1012..1027 */
	T_OUT("AAAAAAAAAABBBBBCCCCCDDDDDCCC");
	T_EQ_U(S.n_dup_bytes, 5 + 3 + 5);
	T_EQ_U(Q.next_seq, 1028);
	T_EQ_I(R.n_holes, 0);
	reasm_free(&Q);

	/* first copy wins after the window base moved: X buffered, the bytes
	 * before it delivered from the window, then an overlapping copy */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_c(1020, 'X', 10);			/* 1020..1029 */
	push_c(1005, 'P', 5);			/* 1005..1009 */
	push_c(1000, 'A', 5);			/* delivers 1000..1009 from the window */
	T_EQ_U(Q.win_base, 10);
	push_c(1015, 'Y', 20);			/* 1015..1034: X wins 1020..1029 */
	push_c(1010, 'Z', 5);
	T_OUT("AAAAAPPPPPZZZZZYYYYYXXXXXXXXXXYYYYY");
	T_EQ_U(S.n_dup_bytes, 10);
	T_EQ_I(R.bad_ptr, 0);
	reasm_free(&Q);
}

/* Sequence numbers wrap at 2^32, in order and out of order. */
static void
test_reasm_wraparound(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 0xfffffeff);		/* data from 0xffffff00 */
	reasm_ack(&Q, 0xffffff00);
	T_CHECK(Q.isn_confirmed);
	push_c(0xffffff00, 'a', 0x80);		/* ..0xffffff7f */
	push_c(0xffffff80, 'b', 0x100);		/* ..0x0000007f: crosses zero */
	push_c(0x00000080, 'c', 0x40);
	T_EQ_U(R.n, 0x1c0);
	T_EQ_U(Q.next_seq, 0xc0);
	T_EQ_U(Q.delivered, 0x1c0);
	T_CHECK(R.out[0x7f] == 'a' && R.out[0x80] == 'b' && R.out[0x17f] == 'b' &&
	    R.out[0x180] == 'c');
	T_EQ_I(R.n_ev, 3);
	T_EQ_U(S.n_resync, 0);
	T_EQ_U(S.n_over_window, 0);
	reasm_free(&Q);

	/* a SYN of 0xffffffff: data from 0, confirmed by an ACK of 0 */
	setup(0, NULL);
	reasm_syn(&Q, 0xffffffff);
	reasm_ack(&Q, 0);
	T_CHECK(Q.isn_confirmed);
	push_s(0, "zero");
	T_OUT("zero");
	reasm_free(&Q);

	/* out of order across zero */
	setup(0, NULL);
	reasm_syn(&Q, 0xffffffef);		/* data from 0xfffffff0 */
	push_c(0x00000010, 'c', 16);		/* 0x10..0x1f: 32 bytes ahead */
	push_c(0x00000000, 'b', 16);		/* 0x00..0x0f */
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(reasm_buffered(&Q), 32);
	push_c(0xfffffff8, 'x', 8);		/* 0xfffffff8..0xffffffff */
	T_EQ_I(R.n_ev, 0);
	push_c(0xfffffff0, 'a', 12);		/* 0xfffffff0..0xfffffffb, overlaps x */
	T_EQ_U(R.n, 48);
	T_EQ_MEM(R.out, "aaaaaaaaxxxxxxxxbbbbbbbbbbbbbbbbcccccccccccccccc", 48);
	T_EQ_U(Q.next_seq, 0x20);
	T_EQ_U(S.n_dup_bytes, 4);
	T_EQ_U(S.n_resync, 0);

	/* old data from before the wrap is still old */
	push_c(0xfffffff0, 'z', 0x20);
	T_EQ_U(R.n, 48);
	/* an ack across the wrap only records; the sender's next segment
	 * starts at the acknowledged 0x30, so 0x20..0x2f is given up */
	reasm_ack(&Q, 0x30);
	T_EQ_I(R.n_holes, 0);
	T_CHECK(Q.ack_pending);
	T_EQ_U(Q.acked, 0x30);
	push_c(0x30, 'd', 4);
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(R.hole_bytes, 0x10);
	T_EQ_U(R.n, 52);
	T_EQ_U(R.out[51], 'd');
	T_EQ_U(Q.next_seq, 0x34);
	T_CHECK(!Q.ack_pending);
	reasm_free(&Q);

	/* a hole straddling zero, given up after the ack and the next segment */
	setup(0, NULL);
	reasm_syn(&Q, 0xfffffff7);		/* data from 0xfffffff8 */
	push_c(0x00000008, 'q', 4);		/* hole 0xfffffff8..0x7: 16 bytes */
	reasm_ack(&Q, 0x0000000c);
	T_EQ_I(R.n_ev, 0);
	push_c(0x0000000c, 'r', 3);
	T_EQ_I(R.n_ev, 3);
	T_CHECK(R.ev[0].p == NULL && R.ev[0].len == 16);
	T_CHECK(R.ev[1].p != NULL && R.ev[1].len == 4);	/* qqqq from the window */
	T_CHECK(R.ev[2].p != NULL && R.ev[2].len == 3);	/* rrr from the packet */
	T_OUT("qqqqrrr");
	T_EQ_U(Q.next_seq, 0xf);
	reasm_free(&Q);

	/* the same hole given up by flush instead */
	setup(0, NULL);
	reasm_syn(&Q, 0xfffffff7);
	push_c(0x00000008, 'q', 4);
	reasm_ack(&Q, 0x0000000c);
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_ev, 2);
	T_CHECK(R.ev[0].p == NULL && R.ev[0].len == 16);
	T_OUT("qqqq");
	T_EQ_U(Q.next_seq, 0xc);
	reasm_free(&Q);
}

/*
 * An ack past a hole only records evidence; once the sender sends from the
 * acknowledged point on, the hole is reported with its exact length, between
 * the data before and after it.
 */
static void
test_reasm_ack_confirms_gap(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	reasm_ack(&Q, 1000);
	push_s(1000, "0123456789");		/* 1000..1009 */
	push_s(1020, "klmnopqrst");		/* 1020..1029, hole 1010..1019 */
	T_EQ_I(R.n_ev, 1);
	reasm_ack(&Q, 1030);
	T_EQ_I(R.n_ev, 1);			/* evidence only: nothing delivered */
	T_CHECK(Q.ack_pending);
	T_EQ_U(Q.acked, 1030);
	T_EQ_U(S.n_gaps, 0);
	T_EQ_U(Q.next_seq, 1010);
	reasm_ack(&Q, 1025);			/* an older ack does not lower it */
	T_EQ_U(Q.acked, 1030);
	push_s(1030, "uvw");			/* the sender's next segment */
	T_EQ_I(R.n_ev, 4);
	T_CHECK(R.ev[1].p == NULL);
	T_EQ_U(R.ev[1].len, 10);
	T_EQ_U(R.ev[1].at, 10);			/* reported between the two runs */
	T_CHECK(R.ev[2].p != NULL);
	T_EQ_U(R.ev[2].len, 10);		/* klm..t from the window */
	T_CHECK(R.ev[3].p != NULL);
	T_EQ_U(R.ev[3].len, 3);			/* uvw straight from the packet */
	T_OUT("0123456789klmnopqrstuvw");
	T_EQ_U(S.n_gaps, 1);
	T_EQ_U(S.n_gap_bytes, 10);
	T_EQ_U(Q.next_seq, 1033);
	T_EQ_U(Q.delivered, 33);
	T_CHECK(!Q.ack_pending);
	T_EQ_U(reasm_buffered(&Q), 0);
	/* the hole's bytes arriving late are old now */
	push_s(1010, "abcdefghij");
	T_OUT("0123456789klmnopqrstuvw");
	T_EQ_I(R.n_holes, 1);
	reasm_free(&Q);

	/* an ack past the buffered data too: hole, data, hole, data */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "ab");
	push_s(1005, "fg");			/* hole 1002..1004 */
	push_s(1010, "kl");			/* hole 1007..1009 */
	reasm_ack(&Q, 1020);			/* and 1012..1019 missing */
	T_EQ_I(R.n_ev, 1);
	push_s(1020, "uv");			/* the sender goes on from 1020 */
	T_EQ_I(R.n_ev, 7);
	T_CHECK(R.ev[1].p == NULL && R.ev[1].len == 3);
	T_CHECK(R.ev[2].p != NULL && R.ev[2].len == 2);
	T_CHECK(R.ev[3].p == NULL && R.ev[3].len == 3);
	T_CHECK(R.ev[4].p != NULL && R.ev[4].len == 2);
	T_CHECK(R.ev[5].p == NULL && R.ev[5].len == 8);
	T_CHECK(R.ev[6].p != NULL && R.ev[6].len == 2);
	T_OUT("abfgkluv");
	T_EQ_U(S.n_gaps, 3);
	T_EQ_U(S.n_gap_bytes, 14);
	T_EQ_U(Q.next_seq, 1022);
	T_EQ_U(Q.delivered, 22);
	T_EQ_U(reasm_buffered(&Q), 0);
	reasm_free(&Q);

	/* a retransmission of old bytes is not the sender moving on: the hole
	 * waits for a segment from the acknowledged point, or the flow's end */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	push_s(1015, "fghij");			/* hole 1010..1014 */
	reasm_ack(&Q, 1020);
	push_s(1000, "0123");
	T_EQ_I(R.n_holes, 0);
	T_CHECK(Q.ack_pending);
	push_s(1020, "klm");
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(R.hole_bytes, 5);
	T_OUT("0123456789fghijklm");
	T_EQ_U(Q.next_seq, 1023);
	T_CHECK(!Q.ack_pending);
	reasm_free(&Q);

	/* zero-length pushes (pure ACKs of the sender) do not use up the grace */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	push_s(1015, "fghij");
	reasm_ack(&Q, 1020);
	reasm_push(&Q, 1020, NULL, 0, sink, &R);
	T_EQ_I(R.n_holes, 0);
	T_CHECK(Q.ack_pending);
	push_s(1010, "abcde");			/* the late segment arrives */
	T_EQ_I(R.n_holes, 0);
	T_OUT("0123456789abcdefghij");
	T_CHECK(!Q.ack_pending);
	reasm_free(&Q);
}

/* Acks with nothing buffered: old or equal acks do nothing; an ack ahead is a hole. */
static void
test_reasm_ack_nothing_buffered(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	reasm_ack(&Q, 1010);			/* everything delivered */
	reasm_ack(&Q, 1005);			/* an old ack */
	reasm_ack(&Q, 1000);
	T_EQ_I(R.n_ev, 1);
	T_CHECK(!Q.ack_pending);
	T_EQ_U(Q.next_seq, 1010);
	reasm_ack(&Q, 1015);			/* 1010..1014 never seen */
	T_EQ_I(R.n_ev, 1);
	T_CHECK(Q.ack_pending);
	push_s(1015, "xyz");			/* the sender goes on */
	T_EQ_I(R.n_ev, 3);
	T_CHECK(R.ev[1].p == NULL && R.ev[1].len == 5);
	T_CHECK(R.ev[2].p != NULL && R.ev[2].len == 3);
	T_EQ_U(S.n_gaps, 1);
	T_EQ_U(Q.next_seq, 1018);
	T_OUT("0123456789xyz");
	T_EQ_U(reasm_buffered(&Q), 0);
	push_s(1018, "!");			/* continues directly */
	T_OUT("0123456789xyz!");
	T_EQ_I(R.n_holes, 1);
	reasm_free(&Q);
}

/* An ack that covers only part of a hole gives up that part and keeps the rest. */
static void
test_reasm_ack_partial_hole(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");		/* 1000..1009 */
	push_s(1020, "KLMNO");			/* 1020..1024, hole 1010..1019 */
	push_s(1030, "UVW");			/* 1030..1032, hole 1025..1029 */
	reasm_ack(&Q, 1014);			/* the receiver got 1010..1013 */
	T_EQ_I(R.n_ev, 1);
	push_s(1014, "efghij");			/* the rest of the hole: 1014..1019 */
	T_EQ_I(R.n_ev, 4);
	T_CHECK(R.ev[1].p == NULL && R.ev[1].len == 4);
	T_CHECK(R.ev[2].p != NULL && R.ev[2].len == 6);	/* from the packet */
	T_CHECK(R.ev[3].p != NULL && R.ev[3].len == 5);	/* then KLMNO */
	T_OUT("0123456789efghijKLMNO");
	T_EQ_U(Q.next_seq, 1025);
	T_EQ_U(reasm_buffered(&Q), 3);
	push_s(1025, "PQRST");
	T_OUT("0123456789efghijKLMNOPQRSTUVW");
	T_EQ_U(Q.next_seq, 1033);
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(S.n_gap_bytes, 4);
	T_EQ_U(reasm_buffered(&Q), 0);
	reasm_free(&Q);

	/* the next segment fills only part of the acknowledged hole: it is
	 * delivered; the rest goes when the sender sends from 1020 */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	reasm_ack(&Q, 1020);
	push_s(1010, "abcd");			/* 1010..1013; 1014..1019 missing */
	T_EQ_I(R.n_ev, 2);
	T_CHECK(R.ev[1].p != NULL && R.ev[1].len == 4);
	T_EQ_U(Q.next_seq, 1014);
	T_CHECK(Q.ack_pending);
	push_s(1020, "KL");
	T_EQ_I(R.n_ev, 4);
	T_CHECK(R.ev[2].p == NULL && R.ev[2].len == 6);
	T_CHECK(R.ev[3].p != NULL && R.ev[3].len == 2);
	T_EQ_U(Q.next_seq, 1022);
	T_OUT("0123456789abcdKL");
	reasm_free(&Q);
}

/*
 * The reorder grace: an ACK can be captured before the data it
 * acknowledges.  If that data then arrives, there is no hole; if it never
 * does and the sender's next segment lies beyond, exactly one hole of the
 * missing length is reported, then that next segment.
 */
static void
test_reasm_ack_reorder_grace(void)
{
	/* ACK 1020 (covering 1010..1019) seen before the segment 1010..1019 */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	reasm_ack(&Q, 1000);
	push_s(1000, "0123456789");
	reasm_ack(&Q, 1020);
	T_CHECK(Q.ack_pending);
	push_s(1010, "abcdefghij");		/* arrives: fills it */
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(S.n_gaps, 0);
	T_CHECK(!Q.ack_pending);
	T_EQ_I(R.n_ev, 2);
	T_OUT("0123456789abcdefghij");
	push_s(1020, "KLM");
	T_OUT("0123456789abcdefghijKLM");
	T_EQ_I(R.n_holes, 0);
	T_CHECK(Q.win == NULL);			/* never needed the window */
	reasm_free(&Q);

	/* the same with data buffered ahead: the late segment fills the hole */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	push_s(1020, "KLMNO");			/* hole 1010..1019 */
	reasm_ack(&Q, 1025);
	push_s(1010, "abcdefghij");
	T_EQ_I(R.n_holes, 0);
	T_OUT("0123456789abcdefghijKLMNO");
	T_CHECK(!Q.ack_pending);
	reasm_free(&Q);

	/* ...versus: 1010..1019 never arrives, the sender's next is 1020..1029 */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	reasm_ack(&Q, 1000);
	push_s(1000, "0123456789");
	reasm_ack(&Q, 1020);
	push_s(1020, "KLMNOPQRST");
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(R.hole_bytes, 10);
	T_EQ_U(S.n_gaps, 1);
	T_EQ_U(S.n_gap_bytes, 10);
	T_EQ_I(R.n_ev, 3);
	T_CHECK(R.ev[1].p == NULL && R.ev[1].len == 10 && R.ev[1].at == 10);
	T_CHECK(R.ev[2].p != NULL && R.ev[2].len == 10);
	T_OUT("0123456789KLMNOPQRST");
	T_EQ_U(Q.next_seq, 1030);
	T_EQ_U(Q.delivered, 30);
	push_s(1030, "uvw");			/* then straight on */
	T_OUT("0123456789KLMNOPQRSTuvw");
	T_EQ_I(R.n_holes, 1);
	push_s(1010, "abcdefghij");		/* too late: old */
	T_OUT("0123456789KLMNOPQRSTuvw");
	reasm_free(&Q);
}

/* After a FIN at fin_seq, an ack of fin_seq + 1 acknowledges the FIN, not a byte. */
static void
test_reasm_fin(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	reasm_fin(&Q, 1010);
	T_CHECK(Q.has_fin);
	T_EQ_U(Q.fin_seq, 1010);
	reasm_ack(&Q, 1011);
	T_CHECK(!Q.ack_pending);		/* nothing missing */
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_ev, 1);
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(S.n_gaps, 0);
	reasm_free(&Q);

	/* without the FIN the same ack is a one-byte hole */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	reasm_ack(&Q, 1011);
	T_CHECK(Q.ack_pending);
	T_EQ_U(Q.acked, 1011);
	push_s(1011, "x");
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(R.hole_bytes, 1);
	T_OUT("0123456789x");
	reasm_free(&Q);

	/* a hole before the FIN: the hole is reported, the FIN is not a byte */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	push_s(1020, "klmnopqrst");		/* hole 1010..1019 */
	reasm_fin(&Q, 1030);
	reasm_ack(&Q, 1031);
	T_CHECK(Q.ack_pending);
	T_EQ_U(Q.acked, 1030);
	T_EQ_I(R.n_holes, 0);
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(R.hole_bytes, 10);
	T_OUT("0123456789klmnopqrst");
	T_EQ_U(Q.next_seq, 1030);
	T_CHECK(!Q.ack_pending);
	reasm_free(&Q);

	/* a FIN across the wrap */
	setup(0, NULL);
	reasm_syn(&Q, 0xfffffff9);		/* data from 0xfffffffa */
	push_s(0xfffffffa, "abcdef");		/* ..0xffffffff */
	reasm_fin(&Q, 0);
	reasm_ack(&Q, 1);
	T_CHECK(!Q.ack_pending);
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_holes, 0);
	T_OUT("abcdef");
	reasm_free(&Q);
}

/* At the end, flush gives up every hole and delivers what lies beyond. */
static void
test_reasm_flush(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	push_s(1020, "KLM");			/* hole 1010..1019 */
	push_s(1040, "opq");			/* hole 1023..1039 */
	T_EQ_U(Q.n_ranges, 2);
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_ev, 5);
	T_CHECK(R.ev[1].p == NULL && R.ev[1].len == 10);
	T_CHECK(R.ev[2].p != NULL && R.ev[2].len == 3);
	T_CHECK(R.ev[3].p == NULL && R.ev[3].len == 17);
	T_CHECK(R.ev[4].p != NULL && R.ev[4].len == 3);
	T_OUT("0123456789KLMopq");
	T_EQ_U(Q.next_seq, 1043);
	T_EQ_U(reasm_buffered(&Q), 0);
	T_EQ_U(S.n_gaps, 2);
	T_EQ_U(S.n_gap_bytes, 27);
	/* nothing left: a second flush does nothing */
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_ev, 5);
	reasm_free(&Q);

	/* nothing buffered: no call */
	setup(0, NULL);
	push_s(1, "a");
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_ev, 1);
	reasm_free(&Q);

	/* flush after an ack past the buffered data: the acknowledged bytes
	 * are given up too (reported in test_reasm_flush_pending_ack) and the
	 * pending ack is gone */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "ab");
	push_s(1005, "fg");
	reasm_ack(&Q, 1007);
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_ev, 3);
	T_CHECK(R.ev[1].p == NULL && R.ev[1].len == 3);
	T_OUT("abfg");
	T_CHECK(!Q.ack_pending);
	reasm_free(&Q);
}

/*
 * reasm_flush() must give up the holes before a pending ack, as the next
 * push would have: including one after the last buffered byte, or with
 * nothing buffered at all.
 */
static void
test_reasm_flush_pending_ack(void)
{
	/* everything delivered up to 1010, the peer acknowledged 1015 */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	reasm_ack(&Q, 1015);
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(R.hole_bytes, 5);
	T_EQ_U(S.n_gaps, 1);
	T_EQ_U(Q.next_seq, 1015);
	reasm_free(&Q);

	/* hole, data, hole, data, then acknowledged bytes never seen */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "ab");
	push_s(1005, "fg");
	push_s(1010, "kl");
	reasm_ack(&Q, 1020);
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_ev, 6);
	T_CHECK(R.ev[1].p == NULL && R.ev[1].len == 3);
	T_CHECK(R.ev[3].p == NULL && R.ev[3].len == 3);
	T_CHECK(R.ev[5].p == NULL && R.ev[5].len == 8);
	T_OUT("abfgkl");
	T_EQ_U(S.n_gap_bytes, 14);
	T_EQ_U(Q.next_seq, 1020);
	reasm_free(&Q);
}

/*
 * Data at or beyond a window of 64 bytes is dropped and counted; it never
 * makes a hole be given up.  A segment that starts inside the window and
 * runs past it keeps the part that fits.
 */
static void
test_reasm_window_overflow(void)
{
	setup(64, NULL);
	T_EQ_U(Q.win_max, 64);
	reasm_syn(&Q, 999);
	push_c(1010, 'b', 10);			/* 1010..1019, hole 1000..1009 */
	T_EQ_I(R.n_ev, 0);
	push_c(1060, 'c', 10);			/* 1060..1069: 1060..1063 fit */
	T_EQ_I(R.n_ev, 0);			/* nothing given up */
	T_EQ_U(S.n_gaps, 0);
	T_EQ_U(S.n_over_window, 1);
	T_EQ_U(Q.next_seq, 1000);
	T_EQ_U(reasm_buffered(&Q), 14);
	T_CHECK(Q.win_cap <= 64);
	push_c(1100, 'd', 10);			/* 100 >= 64 ahead: dropped whole */
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(S.n_over_window, 2);
	T_EQ_U(reasm_buffered(&Q), 14);
	push_c(1064, 'e', 1);			/* exactly win_max ahead: dropped */
	T_EQ_U(S.n_over_window, 3);
	T_EQ_U(reasm_buffered(&Q), 14);
	T_CHECK(Q.win_cap <= 64);
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_ev, 4);
	T_CHECK(R.ev[0].p == NULL && R.ev[0].len == 10);
	T_CHECK(R.ev[1].p != NULL && R.ev[1].len == 10);
	T_CHECK(R.ev[2].p == NULL && R.ev[2].len == 40);	/* 1020..1059 */
	T_CHECK(R.ev[3].p != NULL && R.ev[3].len == 4);
	T_EQ_U(R.n, 14);
	T_EQ_MEM(R.out, "bbbbbbbbbbcccc", 14);
	T_EQ_U(S.n_gap_bytes, 10 + 40);
	T_EQ_U(Q.next_seq, 1064);
	reasm_free(&Q);

	/* a segment just fitting the window is buffered, one byte more is not;
	 * when the hole fills, the dropped byte can come again */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_c(1001, 'x', 63);			/* 1 + 63 = 64: fits */
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(reasm_buffered(&Q), 63);
	T_EQ_U(S.n_over_window, 0);
	push_c(1064, 'y', 1);			/* 64 ahead */
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(S.n_over_window, 1);
	T_EQ_U(reasm_buffered(&Q), 63);
	push_c(1000, 'w', 1);
	T_EQ_U(R.n, 64);
	T_EQ_U(Q.next_seq, 1064);
	push_c(1064, 'y', 1);			/* in order now */
	T_EQ_U(R.n, 65);
	T_EQ_U(R.out[64], 'y');
	T_EQ_I(R.n_holes, 0);
	reasm_free(&Q);

	/* far-future data with nothing buffered: dropped, the stream does not move */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "abc");
	push_s(1003 + 64, "far");
	push_s(1003 + 0x40000000u, "farther");
	push_s(1003 - 0x40000000u, "behind");	/* old */
	T_EQ_U(S.n_over_window, 2);
	T_EQ_U(Q.next_seq, 1003);
	T_CHECK(Q.win == NULL);
	push_s(1003, "def");
	T_OUT("abcdef");
	T_EQ_I(R.n_holes, 0);
	reasm_free(&Q);
}

/*
 * A segment running past the window while a hole is pending: the part that
 * fits is kept, the rest dropped and counted, and nothing is skipped.
 */
static void
test_reasm_window_overflow_keeps_captured_bytes(void)
{
	uint8_t seg[62];

	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_c(1040, 'B', 10);			/* 1040..1049, hole 1000..1039 */
	for (size_t i = 0; i < sizeof(seg); i++)
		seg[i] = (uint8_t)('0' + i % 10);
	push_d(1005, seg, sizeof(seg));		/* 1005..1066: 1064..1066 do not fit */
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(S.n_over_window, 1);
	T_EQ_U(S.n_gaps, 0);
	T_EQ_U(Q.next_seq, 1000);
	T_EQ_U(Q.n_ranges, 1);
	T_EQ_U(Q.ranges[0].off, 5);
	T_EQ_U(Q.ranges[0].len, 59);
	T_EQ_U(reasm_buffered(&Q), 59);
	T_EQ_U(S.n_dup_bytes, 10);		/* B was first */
	push_c(1000, 'A', 5);			/* the hole fills */
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(R.n, 64);
	T_EQ_U(Q.next_seq, 1064);
	T_CHECK(R.n == 64 && memcmp(R.out, "AAAAA", 5) == 0 &&
	    memcmp(R.out + 5, seg, 35) == 0 && memcmp(R.out + 40, "BBBBBBBBBB", 10) == 0 &&
	    memcmp(R.out + 50, seg + 45, 14) == 0);
	push_d(1064, seg + 59, 3);		/* the dropped tail, sent again */
	T_EQ_U(R.n, 67);
	T_EQ_MEM(R.out + 64, seg + 59, 3);
	T_EQ_I(R.n_holes, 0);
	reasm_free(&Q);

	/* the same, but an ack past the hole is pending: the long segment
	 * starts before the acknowledged point, so nothing is given up yet;
	 * at the flow's end only the bytes really missing are reported */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_c(1000, 'a', 10);
	push_c(1040, 'B', 10);			/* hole 1010..1039 */
	reasm_ack(&Q, 1020);
	push_d(1015, seg, sizeof(seg));		/* 1015..1076: 1015..1073 fit */
	T_EQ_U(S.n_over_window, 1);
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(Q.next_seq, 1010);
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(R.hole_bytes, 5);		/* 1010..1014 only */
	T_EQ_U(Q.next_seq, 1074);
	T_EQ_U(R.n, 10 + 59);
	T_CHECK(R.n == 69 && memcmp(R.out + 10, seg, 25) == 0 &&
	    memcmp(R.out + 35, "BBBBBBBBBB", 10) == 0 && memcmp(R.out + 45, seg + 35, 24) == 0);
	reasm_free(&Q);
}

/* Segments longer than the window: in order they pass whole; overlapping a
 * buffered range they are kept in window-sized pieces, first copy winning. */
static void
test_reasm_segment_longer_than_window(void)
{
	setup(64, NULL);
	reasm_syn(&Q, 999);			/* data starts at 1000 */
	push_c(1000, 'L', 100);			/* in order, no hole: straight through */
	T_EQ_U(R.n, 100);
	T_EQ_U(R.n_holes, 0);
	T_EQ_I(R.n_ev, 1);
	T_CHECK(Q.win == NULL);
	reasm_free(&Q);

	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_c(1010, 'B', 10);			/* buffered ahead of a 10-byte hole */
	push_c(1000, 'S', 150);			/* fills the hole, runs past the window */
	T_EQ_U(R.n, 150);
	T_EQ_U(R.n_holes, 0);
	T_CHECK(R.out[0] == 'S' && R.out[9] == 'S');
	T_CHECK(R.out[10] == 'B' && R.out[19] == 'B');	/* the first copy won */
	T_CHECK(R.out[20] == 'S' && R.out[149] == 'S');
	T_EQ_U(Q.next_seq, 1150);
	T_EQ_U(S.n_over_window, 0);		/* the stream advanced: nothing lost */
	T_EQ_U(S.n_dup_bytes, 10);
	T_EQ_U(reasm_buffered(&Q), 0);
	T_CHECK(Q.win_cap <= 64);
	reasm_free(&Q);

	/* a long segment from next_seq over two buffered ranges, the second
	 * at the very end of the window */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_c(1030, 'B', 5);			/* 1030..1034 */
	push_c(1060, 'C', 4);			/* 1060..1063 */
	push_c(1000, 'S', 200);
	T_EQ_U(R.n, 200);
	T_CHECK(R.out[29] == 'S' && R.out[30] == 'B' && R.out[34] == 'B' &&
	    R.out[35] == 'S' && R.out[60] == 'C' && R.out[63] == 'C' && R.out[64] == 'S');
	T_EQ_U(Q.next_seq, 1200);
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(S.n_over_window, 0);
	reasm_free(&Q);
}

/* More disjoint ranges than REASM_SEGS_MAX: the extra ones are dropped and counted. */
static void
test_reasm_too_many_ranges(void)
{
	int extra = 5;

	setup(0, NULL);
	reasm_syn(&Q, 999);
	/* one byte at 1002, 1004, ...: never touching, each its own range */
	for (int i = 0; i < REASM_SEGS_MAX + extra; i++)
		push_c(1002 + 2 * (uint32_t)i, 'a' + i % 26, 1);
	T_EQ_U(Q.n_ranges, REASM_SEGS_MAX);
	T_EQ_U(reasm_buffered(&Q), REASM_SEGS_MAX);
	T_EQ_U(S.n_too_fragmented, (unsigned)extra);
	T_EQ_U(S.n_over_window, 0);		/* not a window matter */
	T_EQ_U(S.n_ooo_segs, REASM_SEGS_MAX);
	T_EQ_I(R.n_ev, 0);

	/* a segment touching existing ranges still merges when the list is full */
	push_c(1003, 'M', 1);			/* joins 1002 and 1004 */
	T_EQ_U(Q.n_ranges, REASM_SEGS_MAX - 1);
	T_EQ_U(S.n_too_fragmented, (unsigned)extra);
	/* so a new disjoint one fits again */
	push_c(1002 + 2 * REASM_SEGS_MAX, 'N', 1);
	T_EQ_U(Q.n_ranges, REASM_SEGS_MAX);
	T_EQ_U(S.n_too_fragmented, (unsigned)extra);
	push_c(1002 + 2 * (REASM_SEGS_MAX + 1), 'O', 1);	/* full again: dropped */
	T_EQ_U(S.n_too_fragmented, (unsigned)extra + 1);
	/* touching only at an edge counts as touching */
	push_c(1001, '^', 1);			/* ends where the first range starts */
	T_EQ_U(Q.n_ranges, REASM_SEGS_MAX);
	T_EQ_U(S.n_too_fragmented, (unsigned)extra + 1);

	/* fill the first hole: 1000 then the merged 1001..1004 */
	push_c(1000, '_', 1);
	T_EQ_U(R.n, 5);
	T_EQ_MEM(R.out, "_^aMb", 5);
	T_EQ_I(R.n_holes, 0);
	reasm_flush(&Q, sink, &R);
	T_EQ_U(reasm_buffered(&Q), 0);
	T_EQ_U(R.n, 5 + (REASM_SEGS_MAX - 2) + 1);	/* c.. then the 'N' byte */
	T_EQ_U(R.out[R.n - 1], 'N');
	T_EQ_U(Q.next_seq, 1002 + 2 * REASM_SEGS_MAX + 1);
	T_EQ_U(S.n_over_window, 0);
	reasm_free(&Q);
}

/* The sink returning false finishes the direction and frees the window. */
static void
test_reasm_sink_false(void)
{
	struct memcap m = { 0 };

	/* false while draining buffered data */
	setup(0, &m);
	reasm_syn(&Q, 999);
	push_s(1005, "FGHIJ");
	push_s(1020, "UVWXY");
	T_CHECK(m.used > 0);
	T_EQ_U(m.used, Q.win_cap);
	R.false_at = 1;
	push_s(1000, "ABCDE");			/* delivers ABCDEFGHIJ, sink says stop */
	T_EQ_I(R.n_ev, 1);
	T_CHECK(Q.done);
	T_CHECK(Q.win == NULL);
	T_EQ_U(m.used, 0);
	T_EQ_U(reasm_buffered(&Q), 0);
	push_s(1010, "KLMNOPQRST");		/* ignored */
	reasm_ack(&Q, 2000);			/* ignored */
	T_CHECK(!Q.ack_pending);
	reasm_flush(&Q, sink, &R);		/* ignored */
	T_EQ_I(R.n_ev, 1);
	T_EQ_U(m.used, 0);
	reasm_free(&Q);

	/* false on a direct in-order delivery */
	setup(0, &m);
	R.false_at = 1;
	push_s(1, "abc");
	T_CHECK(Q.done);
	push_s(4, "def");
	T_EQ_I(R.n_ev, 1);
	T_OUT("abc");
	reasm_free(&Q);

	/* false on a hole report: the data behind it is not delivered */
	setup(0, &m);
	reasm_syn(&Q, 999);
	push_s(1000, "ab");
	push_s(1010, "kl");
	R.false_at = 2;				/* the hole is call 2 */
	reasm_ack(&Q, 1012);
	T_EQ_I(R.n_ev, 1);
	push_s(1012, "mn");			/* the sender's next: the hole goes */
	T_EQ_I(R.n_ev, 2);
	T_CHECK(R.ev[1].p == NULL && R.ev[1].len == 8);
	T_CHECK(Q.done);
	T_EQ_U(m.used, 0);
	T_OUT("ab");
	push_s(1012, "mn");			/* ignored */
	T_EQ_I(R.n_ev, 2);
	reasm_free(&Q);

	/* false on the data right after a hole given up in a flush */
	setup(0, &m);
	reasm_syn(&Q, 999);
	push_s(1005, "fg");
	push_s(1010, "kl");
	R.false_at = 2;
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_ev, 2);
	T_CHECK(R.ev[0].p == NULL && R.ev[1].p != NULL);
	T_CHECK(Q.done);
	T_EQ_U(m.used, 0);
	T_OUT("fg");
	reasm_free(&Q);

	/* reasm_finish() by the owner does the same */
	setup(0, &m);
	reasm_syn(&Q, 999);
	push_s(1010, "kl");
	T_CHECK(m.used > 0);
	reasm_finish(&Q);
	T_EQ_U(m.used, 0);
	push_s(1000, "0123456789");
	T_EQ_I(R.n_ev, 0);
	reasm_free(&Q);
	reasm_free(&Q);				/* twice is fine */
	T_EQ_U(m.used, 0);
}

/* A memory budget too small for the window: growth refused and counted. */
static void
test_reasm_memcap_refused(void)
{
	struct memcap m = { 0 };

	m.limit = 100;				/* the first window is 4096 bytes */
	setup(0, &m);
	reasm_syn(&Q, 999);
	push_s(1010, "klm");
	T_EQ_U(S.n_nomem, 1);
	T_EQ_U(m.n_refused, 1);
	T_EQ_U(m.used, 0);
	T_CHECK(Q.win == NULL);
	T_EQ_U(reasm_buffered(&Q), 0);
	T_EQ_U(S.n_ooo_segs, 0);
	/* in-order data needs no window */
	push_s(1000, "0123456789");
	T_OUT("0123456789");
	push_s(1010, "klm");
	T_OUT("0123456789klm");
	reasm_free(&Q);

	/* two directions sharing a 64-byte budget with 64-byte windows */
	struct reasm q2;
	memset(&m, 0, sizeof(m));
	m.limit = 64;
	setup(64, &m);
	reasm_init(&q2, 64, &m, &S);
	reasm_syn(&Q, 999);
	reasm_syn(&q2, 4999);
	push_s(1010, "x");			/* takes all 64 */
	T_EQ_U(m.used, 64);
	T_EQ_U(Q.win_cap, 64);
	reasm_push(&q2, 5010, (const uint8_t *)"y", 1, sink, &R);
	T_EQ_U(S.n_nomem, 1);
	T_EQ_U(reasm_buffered(&q2), 0);
	T_EQ_U(m.used, 64);
	reasm_free(&Q);
	T_EQ_U(m.used, 0);
	reasm_push(&q2, 5010, (const uint8_t *)"y", 1, sink, &R);
	T_EQ_U(reasm_buffered(&q2), 1);
	T_EQ_U(m.used, 64);
	reasm_free(&q2);
	T_EQ_U(m.used, 0);
	T_EQ_U(m.peak, 64);

	/* growth past the first window refused: the old window stays usable */
	memset(&m, 0, sizeof(m));
	m.limit = 4096;
	setup(0, &m);
	reasm_syn(&Q, 999);
	push_c(1010, 'k', 10);			/* 4096-byte window */
	T_EQ_U(m.used, 4096);
	push_c(1000 + 5000, 'z', 10);		/* needs 8192: refused */
	T_EQ_U(S.n_nomem, 1);
	T_EQ_U(reasm_buffered(&Q), 10);
	T_EQ_U(m.used, 4096);
	push_c(1000, 'a', 10);
	T_EQ_U(R.n, 20);
	reasm_free(&Q);
	T_EQ_U(m.used, 0);

	/* the window base moved: compacting makes room without growing, so
	 * the budget is not asked again */
	memset(&m, 0, sizeof(m));
	m.limit = 4096;
	setup(0, &m);
	reasm_syn(&Q, 999);
	push_c(4000, 'k', 10);			/* offset 3000..3009 */
	push_c(1000, 'a', 1000);		/* through the window: base 1000 */
	T_EQ_U(R.n, 1000);
	T_EQ_U(Q.win_base, 1000);
	T_EQ_U(Q.ranges[0].off, 2000);
	push_c(4500, 'z', 1000);		/* offset 2500..3499: 4500 > 4096 */
	T_EQ_U(S.n_nomem, 0);
	T_EQ_U(m.n_refused, 0);
	T_EQ_U(Q.win_cap, 4096);
	T_EQ_U(Q.win_base, 0);			/* compacted */
	T_EQ_U(m.used, 4096);
	push_c(2000, 'b', 2000);		/* fills 2000..3999, then k */
	T_EQ_U(R.n, 3010);
	push_c(4010, 'c', 490);			/* fills 4010..4499, then z */
	T_EQ_U(R.n, 4500);
	T_CHECK(R.out[999] == 'a' && R.out[1000] == 'b' && R.out[2999] == 'b' &&
	    R.out[3000] == 'k' && R.out[3009] == 'k' && R.out[3010] == 'c' &&
	    R.out[3499] == 'c' && R.out[3500] == 'z' && R.out[4499] == 'z');
	T_EQ_I(R.n_holes, 0);
	T_EQ_I(R.bad_ptr, 0);
	reasm_free(&Q);
	T_EQ_U(m.used, 0);
}

/*
 * In-order data is delivered even when REASM_SEGS_MAX ranges are held: a
 * segment at next_seq needs no range of its own.  Dropping it would lose
 * captured bytes the receiver already has (they are never resent).
 */
static void
test_reasm_too_many_ranges_in_order(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	/* one byte at 1011, 1013, ...: REASM_SEGS_MAX ranges, hole 1000..1010 */
	for (int i = 0; i < REASM_SEGS_MAX; i++)
		push_c(1011 + 2 * (uint32_t)i, 'r', 1);
	T_EQ_U(Q.n_ranges, REASM_SEGS_MAX);
	push_c(1000, 'a', 5);			/* in order: 1000..1004 */
	T_EQ_U(S.n_too_fragmented, 0);
	T_EQ_U(R.n, 5);
	T_EQ_U(Q.next_seq, 1005);
	push_c(1005, 'b', 6);			/* 1005..1010, then the first range */
	T_EQ_U(R.n, 12);
	T_EQ_U(Q.next_seq, 1012);
	T_EQ_I(R.n_holes, 0);
	reasm_free(&Q);
}

/* SYN and ISN: next_seq, confirmation, resynchronisation, SYN-ACK correction. */
static void
test_reasm_syn_rules(void)
{
	/* reasm_syn: data starts at isn + 1, even across the wrap */
	setup(0, NULL);
	reasm_syn(&Q, 0xffffffff);
	T_EQ_U(Q.next_seq, 0);
	T_CHECK(Q.has_seq);
	T_CHECK(Q.syn_seen);
	T_CHECK(!Q.isn_confirmed);
	reasm_free(&Q);

	/* first data more than win_max past an unconfirmed SYN: trust the data */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_s(1000 + 200, "far");
	T_EQ_U(S.n_resync, 1);
	T_EQ_U(S.n_over_window, 0);
	T_EQ_I(R.n_holes, 0);
	T_OUT("far");
	T_EQ_U(Q.next_seq, 1203);
	reasm_free(&Q);

	/* exactly win_max past it: far too */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_s(1000 + 64, "edge");
	T_EQ_U(S.n_resync, 1);
	T_OUT("edge");
	reasm_free(&Q);

	/* first data before an unconfirmed SYN's number: trust the data */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(990, "early");
	T_EQ_U(S.n_resync, 1);
	T_OUT("early");
	T_EQ_U(Q.next_seq, 995);
	reasm_free(&Q);

	/* the same after the handshake: the data is not the stream's, dropped;
	 * so is data starting before next_seq, even if it reaches past it */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	reasm_ack(&Q, 1000);
	T_CHECK(Q.isn_confirmed);
	push_s(1000 + 200, "far");
	push_s(1000 + 64, "edge");
	push_s(990, "early");
	push_s(996, "early");			/* 996..1000 */
	T_EQ_U(S.n_resync, 0);
	T_EQ_U(S.n_over_window, 4);
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(Q.next_seq, 1000);
	T_CHECK(Q.win == NULL);
	push_s(1000, "real");
	T_OUT("real");
	T_EQ_U(S.n_over_window, 4);
	T_EQ_U(S.n_resync, 0);
	T_EQ_I(R.n_holes, 0);
	reasm_free(&Q);

	/* first data a little ahead (a lost first segment): a hole, no resync,
	 * confirmed or not */
	for (int confirmed = 0; confirmed <= 1; confirmed++) {
		setup(64, NULL);
		reasm_syn(&Q, 999);
		if (confirmed)
			reasm_ack(&Q, 1000);
		push_s(1010, "near");
		T_EQ_U(S.n_resync, 0);
		T_EQ_U(S.n_over_window, 0);
		T_EQ_I(R.n_ev, 0);
		T_EQ_U(reasm_buffered(&Q), 4);
		push_s(1000, "0123456789");
		T_OUT("0123456789near");
		reasm_free(&Q);
	}

	/* resynchronisation only happens before anything is delivered */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "a");
	push_s(900, "old");			/* before next_seq: a duplicate */
	push_s(1001 + 64, "far");		/* past the window: dropped */
	T_EQ_U(S.n_resync, 0);
	T_EQ_U(S.n_dup_bytes, 3);
	T_EQ_U(S.n_over_window, 1);
	T_OUT("a");
	reasm_free(&Q);

	/* nor while something is buffered */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_s(1010, "buf");
	push_s(1000 + 200, "far");
	T_EQ_U(S.n_resync, 0);
	T_EQ_U(S.n_over_window, 1);
	T_EQ_U(Q.next_seq, 1000);
	reasm_free(&Q);

	/* a later SYN-ACK before any data replaces an unconfirmed ISN */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	reasm_syn(&Q, 4999);
	T_EQ_U(Q.next_seq, 5000);
	push_s(5000, "new");
	T_EQ_U(S.n_resync, 0);
	T_OUT("new");
	/* once data flowed a SYN changes nothing */
	reasm_syn(&Q, 99);
	T_EQ_U(Q.next_seq, 5003);
	push_s(5003, "x");
	T_OUT("newx");
	reasm_free(&Q);

	/* nor does it while data is buffered */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1005, "buf");
	reasm_syn(&Q, 7000);
	T_EQ_U(Q.next_seq, 1000);
	reasm_free(&Q);

	/* nor once the ISN is confirmed */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	reasm_ack(&Q, 1000);
	reasm_syn(&Q, 4999);
	T_EQ_U(Q.next_seq, 1000);
	T_CHECK(Q.isn_confirmed);
	reasm_free(&Q);

	/* after a SYN, an ACK other than isn + 1 with nothing delivered is
	 * ignored: no adoption, no confirmation, no pending hole */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	reasm_ack(&Q, 1500);
	reasm_ack(&Q, 999);
	T_EQ_U(Q.next_seq, 1000);
	T_CHECK(!Q.isn_confirmed);
	T_CHECK(!Q.ack_pending);
	T_EQ_I(R.n_ev, 0);
	push_s(1000, "from the syn");
	T_OUT("from the syn");
	T_EQ_U(S.n_resync, 0);
	T_EQ_I(R.n_holes, 0);
	reasm_free(&Q);

	/* the confirming ACK counts only before data: after it, it is just an ack */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "abc");
	reasm_ack(&Q, 1003);
	T_CHECK(!Q.isn_confirmed);
	T_CHECK(!Q.ack_pending);
	reasm_free(&Q);

	/* no sequence known at all: the ack alone does not create a hole */
	setup(0, NULL);
	reasm_ack(&Q, 5000);
	T_CHECK(!Q.ack_pending);
	T_EQ_I(R.n_ev, 0);
	push_s(5000, "mid");
	T_OUT("mid");
	T_EQ_I(R.n_holes, 0);
	reasm_free(&Q);
}

/*
 * Without a SYN, an ACK seen before any data is not believed (it could be
 * forged, or captured out of order): the first data decides.
 */
static void
test_reasm_ack_adopted_without_syn(void)
{
	setup(0, NULL);
	reasm_ack(&Q, 5000);
	T_CHECK(!Q.has_seq);
	push_s(5010, "abc");			/* the first data: it starts the stream */
	T_OUT("abc");
	T_EQ_U(Q.next_seq, 5013);
	push_s(5000, "0123456789");		/* before it: old bytes */
	T_OUT("abc");
	T_EQ_I(R.n_holes, 0);
	reasm_free(&Q);
}

/*
 * KakaoTalk-like: a SYN-ACK with ISN A, acknowledged by the peer (A + 1),
 * then a second SYN-ACK with a far-away ISN B.  The handshake fixed A: the
 * second SYN-ACK changes nothing and data at A + 1 flows normally.
 */
static void
test_reasm_second_synack_after_handshake(void)
{
	const uint32_t A = 0x1a2b3c4d, B = 0x9e8d7c6b;
	static const char hello[] = "\x16\x03\x03\x00\x31\x02\x00\x00\x2d\x03\x03";
	uint8_t *b1 = t_dup(hello, sizeof(hello) - 1);

	setup(0, NULL);
	reasm_syn(&Q, A);			/* SYN-ACK #1 */
	reasm_ack(&Q, A + 1);			/* the client's ACK */
	T_CHECK(Q.isn_confirmed);
	reasm_syn(&Q, B);			/* SYN-ACK #2 */
	T_EQ_U(Q.next_seq, A + 1);
	T_CHECK(Q.isn_confirmed);
	reasm_ack(&Q, A + 1);			/* repeated: still nothing */
	reasm_push(&Q, A + 1, b1, sizeof(hello) - 1, sink, &R);
	T_EQ_I(R.n_ev, 1);
	T_CHECK(R.ev[0].p == b1);		/* straight through */
	push_c(A + 1 + (uint32_t)(sizeof(hello) - 1), 'c', 1448);
	push_c(A + 1 + (uint32_t)(sizeof(hello) - 1) + 1448, 'd', 100);
	T_EQ_U(R.n, sizeof(hello) - 1 + 1548);
	T_CHECK(R.n > 11 && memcmp(R.out, hello, 11) == 0);
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(S.n_resync, 0);
	T_EQ_U(S.n_over_window, 0);
	T_EQ_U(Q.next_seq, A + 1 + 11 + 1548);
	reasm_free(&Q);

	/* data following the second ISN instead is not this stream's */
	setup(0, NULL);
	reasm_syn(&Q, A);
	reasm_ack(&Q, A + 1);
	reasm_syn(&Q, B);
	push_s(B + 1, "stray");
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(S.n_over_window, 1);
	reasm_push(&Q, A + 1, b1, sizeof(hello) - 1, sink, &R);
	T_EQ_I(R.n_ev, 1);
	T_EQ_U(R.n, 11);
	T_EQ_U(S.n_resync, 0);
	reasm_free(&Q);

	/* both SYN-ACKs before the ACK: the second replaced the first, so the
	 * ACK of A + 1 confirms nothing, and the data at A + 1 resynchronises */
	setup(0, NULL);
	reasm_syn(&Q, A);
	reasm_syn(&Q, B);
	T_EQ_U(Q.next_seq, B + 1);
	reasm_ack(&Q, A + 1);
	T_CHECK(!Q.isn_confirmed);
	reasm_push(&Q, A + 1, b1, sizeof(hello) - 1, sink, &R);
	T_EQ_U(S.n_resync, 1);
	T_EQ_U(R.n, 11);
	T_EQ_U(Q.next_seq, A + 12);
	T_EQ_I(R.n_holes, 0);
	reasm_free(&Q);
	free(b1);
}

/*
 * After a confirmed handshake, 1-byte segments injected at +300000 and at
 * +2^30 (before any real data) are ignored; the real data that follows is
 * delivered in full, without a hole.
 */
static void
test_reasm_injected_after_handshake(void)
{
	enum { LEN = 64 * 1024, MSS = 1448 };
	const uint32_t isn = 0x7ffff000;
	uint8_t *data = malloc(LEN);

	rng = 0x1badb002;
	for (size_t i = 0; i < LEN; i++)
		data[i] = (uint8_t)rnd();
	setup(0, NULL);
	T_CHECK(Q.win_max <= 300000);
	reasm_syn(&Q, isn);
	reasm_ack(&Q, isn + 1);
	push_c(isn + 1 + 300000, 'X', 1);
	push_c(isn + 1 + 0x40000000u, 'Y', 1);
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(S.n_over_window, 2);
	T_EQ_U(Q.next_seq, isn + 1);
	T_EQ_U(reasm_buffered(&Q), 0);
	T_CHECK(Q.win == NULL);
	for (size_t off = 0; off < LEN; off += MSS) {
		size_t l = LEN - off < MSS ? LEN - off : MSS;
		push_d(isn + 1 + (uint32_t)off, data + off, l);
		reasm_ack(&Q, isn + 1 + (uint32_t)(off + l));	/* the peer keeps up */
	}
	reasm_flush(&Q, sink, &R);
	T_EQ_U(R.n, LEN);
	T_CHECK(R.n == LEN && memcmp(R.out, data, LEN) == 0);
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(S.n_gaps, 0);
	T_EQ_U(S.n_resync, 0);
	T_EQ_U(S.n_over_window, 2);
	T_EQ_U(Q.next_seq, isn + 1 + LEN);
	T_CHECK(Q.win == NULL);			/* all of it straight through */
	reasm_free(&Q);

	/* the same injections after data flowed: still ignored */
	setup(0, NULL);
	reasm_syn(&Q, isn);
	reasm_ack(&Q, isn + 1);
	push_d(isn + 1, data, 100);
	push_c(isn + 101 + 300000, 'X', 1);
	push_c(isn + 101 + 0x40000000u, 'Y', 1);
	push_d(isn + 101, data + 100, 100);
	T_EQ_U(R.n, 200);
	T_CHECK(R.n == 200 && memcmp(R.out, data, 200) == 0);
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(S.n_over_window, 2);
	reasm_free(&Q);
	free(data);
}

/* A forged ACK far ahead, after a SYN and before any data, is ignored. */
static void
test_reasm_forged_ack_before_data(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	reasm_ack(&Q, 1000 + 0x40000000u);
	reasm_ack(&Q, 1000 + 300000);
	reasm_ack(&Q, 1010);			/* even a small step */
	T_EQ_U(Q.next_seq, 1000);
	T_CHECK(!Q.isn_confirmed);
	T_CHECK(!Q.ack_pending);
	T_EQ_I(R.n_ev, 0);
	reasm_ack(&Q, 1000);			/* the real handshake ACK still counts */
	T_CHECK(Q.isn_confirmed);
	reasm_ack(&Q, 1000 + 0x40000000u);	/* and after it: ignored as well */
	T_CHECK(!Q.ack_pending);
	push_s(1000, "0123456789");
	push_s(1010, "abcdefghij");
	push_s(1020, "KLM");
	T_OUT("0123456789abcdefghijKLM");
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(S.n_gaps, 0);
	reasm_flush(&Q, sink, &R);
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(Q.next_seq, 1023);
	reasm_free(&Q);
}

struct seg {
	uint32_t off, len;
};

/*
 * 20 KB cut into random segments, pushed in random order with duplicates and
 * overlaps of the same bytes: the output is the input exactly, with no hole.
 * At most REASM_SEGS_MAX pushes per run, so the range list can never overflow.
 */
static void
test_reasm_random_order(void)
{
	enum { LEN = 20 * 1024 };
	uint8_t *data = malloc(LEN);
	int bad_runs = 0;

	for (uint32_t seed = 1; seed <= 300; seed++) {
		struct seg segs[REASM_SEGS_MAX + 24];
		int n = 0, n_base;
		uint32_t isn;

		rng = seed * 2654435761u;
		for (size_t i = 0; i < LEN; i++)
			data[i] = (uint8_t)rnd();
		/* the sequence space: sometimes right before the wrap */
		isn = (seed % 3 == 0) ? 0xffffffffu - (rnd() % LEN) : rnd();

		/* cut points: 4..REASM_SEGS_MAX - 4 base segments covering [0, LEN) */
		n_base = 4 + (int)(rnd() % (REASM_SEGS_MAX - 7));
		uint32_t cut[24];
		cut[0] = 0;
		for (int i = 1; i < n_base; i++)
			cut[i] = 1 + rnd() % (LEN - 1);
		cut[n_base] = LEN;
		for (int i = 1; i < n_base; i++)	/* insertion sort */
			for (int j = i; j > 1 && cut[j - 1] > cut[j]; j--) {
				uint32_t tmp = cut[j]; cut[j] = cut[j - 1]; cut[j - 1] = tmp;
			}
		for (int i = 0; i < n_base; i++)
			if (cut[i + 1] > cut[i])
				segs[n++] = (struct seg){ cut[i], cut[i + 1] - cut[i] };
		/* duplicates of base segments and overlapping ranges, same bytes */
		while (n < REASM_SEGS_MAX) {
			if (rnd() % 2) {
				segs[n] = segs[rnd() % (uint32_t)n];
			} else {
				uint32_t a = rnd() % LEN, l = 1 + rnd() % 3000;
				segs[n] = (struct seg){ a, a + l > LEN ? LEN - a : l };
			}
			n++;
		}
		for (int i = n - 1; i > 0; i--) {	/* Fisher-Yates */
			int j = (int)(rnd() % (uint32_t)(i + 1));
			struct seg tmp = segs[i]; segs[i] = segs[j]; segs[j] = tmp;
		}

		setup(0, NULL);
		reasm_syn(&Q, isn);
		if (seed % 2)
			reasm_ack(&Q, isn + 1);		/* a confirmed handshake */
		for (int i = 0; i < n; i++) {
			uint8_t *b = t_dup(data + segs[i].off, segs[i].len);
			reasm_push(&Q, isn + 1 + segs[i].off, b, segs[i].len, sink, &R);
			free(b);
		}
		bool ok = R.n == LEN && memcmp(R.out, data, LEN) == 0 && R.n_holes == 0 &&
		    reasm_buffered(&Q) == 0 && Q.next_seq == isn + 1 + LEN &&
		    S.n_resync == 0 && S.n_over_window == 0 && S.n_gaps == 0 &&
		    S.n_too_fragmented == 0 && R.bad_ptr == 0;
		reasm_flush(&Q, sink, &R);
		ok = ok && R.n_holes == 0 && R.n == LEN;
		reasm_free(&Q);
		if (!ok && bad_runs++ == 0)
			fprintf(stderr, "  seed %u: out %zu/%d bytes, %d holes, resync %ju\n",
			    seed, R.n, LEN, R.n_holes, (uintmax_t)S.n_resync);
	}
	T_EQ_I(bad_runs, 0);
	free(data);
}

/*
 * Pushing with bookkeeping: how often the window was compacted (its base
 * went down while ranges are held) or grew, and whether the memory budget,
 * the range list and the window bounds stayed consistent.
 */
static struct {
	uint64_t pushes, compactions, growths;
	int bad;		/* invariant violations */
} TK;
static struct memcap *TM;

static bool
reasm_consistent(void)
{
	uint32_t end = 0;

	if (Q.win_cap > Q.win_max)
		return false;
	if (TM != NULL && TM->used != Q.win_cap)
		return false;
	if (Q.n_ranges == 0)
		return Q.win_base == 0 || Q.done;
	for (unsigned i = 0; i < Q.n_ranges; i++) {
		const struct reasm_range *g = &Q.ranges[i];
		if (g->len == 0 || g->off < end || (i > 0 && g->off == end) ||
		    (i == 0 && g->off == 0))
			return false;		/* sorted, disjoint, not touching, after a hole */
		end = g->off + g->len;
	}
	return end <= Q.win_max && Q.win_base + end <= Q.win_cap;
}

static void
push_tracked(uint32_t seq, const uint8_t *d, size_t len)
{
	size_t base0 = Q.win_base, cap0 = Q.win_cap;

	push_d(seq, d, len);
	TK.pushes++;
	if (Q.n_ranges > 0 && Q.win_base < base0)
		TK.compactions++;
	if (cap0 > 0 && Q.win_cap > cap0)
		TK.growths++;			/* not the first allocation */
	if (!reasm_consistent())
		TK.bad++;
}

/* Push stream bytes [from, to) in order, in segments of 1..maxlen bytes. */
static void
push_run(uint32_t seq0, const uint8_t *data, size_t from, size_t to, uint32_t maxlen)
{
	while (from < to) {
		size_t l = 1 + rnd() % maxlen;
		if (l > to - from)
			l = to - from;
		push_tracked(seq0 + (uint32_t)from, data + from, l);
		from += l;
	}
}

/*
 * One segment F sits buffered far ahead (inside the window) while thousands
 * of small in-order segments go through the window before it, moving its
 * base; then segments after F and between the hole and F are buffered (the
 * window must compact, then grow), and the hole fills.  Round after round
 * over 3 MB: the output is the input exactly.
 */
static void
test_reasm_far_segment_compaction(void)
{
	enum { LEN = 3 << 20 };
	uint8_t *data = malloc(LEN);
	struct memcap m;
	uint64_t compactions = 0, growths = 0, pushes = 0;
	int bad_runs = 0;

	for (uint32_t seed = 1; seed <= 3; seed++) {
		size_t pos = 0;
		int rounds = 0, bad_rounds = 0;
		uint32_t isn, s0;

		rng = seed * 0x9e3779b9u;
		for (size_t i = 0; i < LEN; i++)
			data[i] = (uint8_t)rnd();
		isn = seed == 2 ? 0xffffffffu - LEN / 2 : rnd();	/* wraps mid-way */
		s0 = isn + 1;
		memset(&m, 0, sizeof(m));
		memset(&TK, 0, sizeof(TK));
		TM = &m;
		setup(0, &m);
		reasm_syn(&Q, isn);
		reasm_ack(&Q, s0);
		while (LEN - pos >= 500000) {
			size_t a = rnd() % 200000, h = 1 + rnd() % 1460, g = rnd() % 20000;
			size_t lf = 1 + rnd() % 1460, b = rnd() % 200000;
			size_t fs = pos + a + h + g, fe = fs + lf;

			push_tracked(s0 + (uint32_t)fs, data + fs, lf);	/* F */
			push_run(s0, data, pos, pos + a, 200);		/* in order */
			if (Q.next_seq != (uint32_t)(s0 + pos + a) || Q.n_ranges != 1)
				bad_rounds++;
			push_run(s0, data, fe, fe + b, 1460);		/* after F */
			push_run(s0, data, pos + a + h, fs, 1460);	/* before F */
			if (Q.next_seq != (uint32_t)(s0 + pos + a))
				bad_rounds++;
			push_run(s0, data, pos + a, pos + a + h, 500);	/* the hole */
			pos = fe + b;
			if (Q.next_seq != (uint32_t)(s0 + pos) || Q.n_ranges != 0)
				bad_rounds++;
			rounds++;
		}
		push_run(s0, data, pos, LEN, 1460);
		bool ok = bad_rounds == 0 && rounds >= 5 && R.n == LEN &&
		    memcmp(R.out, data, LEN) == 0 && R.n_holes == 0 && R.bad_ptr == 0 &&
		    Q.next_seq == (uint32_t)(s0 + LEN) && reasm_buffered(&Q) == 0 && TK.bad == 0 &&
		    S.n_over_window == 0 && S.n_too_fragmented == 0 && S.n_resync == 0 &&
		    S.n_gaps == 0 && S.n_nomem == 0;
		reasm_flush(&Q, sink, &R);
		ok = ok && R.n_holes == 0 && R.n == LEN;
		reasm_free(&Q);
		ok = ok && m.used == 0;
		TM = NULL;
		compactions += TK.compactions;
		growths += TK.growths;
		pushes += TK.pushes;
		if (!ok && bad_runs++ == 0)
			fprintf(stderr, "  seed %u: %d rounds (%d bad), out %zu/%d bytes, "
			    "%d holes, %d inconsistent, over %ju\n", seed, rounds, bad_rounds,
			    R.n, LEN, R.n_holes, TK.bad, (uintmax_t)S.n_over_window);
	}
	T_EQ_I(bad_runs, 0);
	T_CHECK(pushes > 10000);
	T_CHECK(compactions > 0);
	T_CHECK(growths > 0);
	free(data);
}

struct kseg {
	uint32_t off, len, key;
};

static int
kseg_cmp(const void *a, const void *b)
{
	const struct kseg *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->off != y->off)
		return x->off < y->off ? -1 : 1;
	return x->len < y->len ? -1 : x->len > y->len;
}

/*
 * Random order with small windows (4096 bytes: compaction only; larger:
 * compaction and growth interleaved).  Every segment, duplicate or overlap
 * is pushed at most win_max - maxseg bytes later than its place in the
 * stream, so it always starts inside the window.  With tiny segments in a
 * larger window, more than REASM_SEGS_MAX ranges are wanted: the segments
 * dropped then are recovered by a go-back-N retransmission from next_seq at
 * the end.  The output is the input exactly.
 */
static void
test_reasm_random_small_window(void)
{
	enum { LEN = 256 * 1024, NCLS = 5, RUNS = 10 * NCLS };
	static const struct { size_t win; uint32_t maxseg; } cls[NCLS] = {
		{ 4096, 1024 }, { 6000, 1460 }, { 16384, 1460 }, { 65536, 1460 },
		{ 65536, 200 },			/* fragmenting */
	};
	uint8_t *data = malloc(LEN);
	struct memcap m;
	uint64_t comp[NCLS] = { 0 }, grow[NCLS] = { 0 }, frag[NCLS] = { 0 };
	int bad_runs = 0;

	for (int run = 0; run < RUNS; run++) {
		size_t win = cls[run % NCLS].win, cap = 1024, n = 0;
		uint32_t maxseg = cls[run % NCLS].maxseg;
		uint32_t jit = (uint32_t)win - maxseg, isn, s0;
		struct kseg *k = malloc(cap * sizeof(*k));

		rng = (uint32_t)(run + 1) * 0x85ebca6bu;
		for (size_t i = 0; i < LEN; i++)
			data[i] = (uint8_t)rnd();
		isn = run % 3 == 0 ? 0xffffffffu - rnd() % LEN : rnd();
		s0 = isn + 1;
		for (uint32_t off = 0; off < LEN; ) {
			uint32_t l = 1 + rnd() % maxseg;
			if (l > LEN - off)
				l = LEN - off;
			for (int copy = 0; copy < 3; copy++) {
				struct kseg s = { off, l, 0 };
				if (copy == 1 && rnd() % 8 != 0)
					continue;	/* a duplicate, 1 in 8 */
				if (copy == 2) {	/* an overlap, 1 in 8 */
					if (rnd() % 8 != 0)
						continue;
					s.off = off > maxseg ? off - rnd() % maxseg : 0;
					s.len = 1 + rnd() % maxseg;
					if (s.len > LEN - s.off)
						s.len = LEN - s.off;
				}
				s.key = s.off + rnd() % (jit + 1);
				if (n == cap)
					k = realloc(k, (cap *= 2) * sizeof(*k));
				k[n++] = s;
			}
			off += l;
		}
		qsort(k, n, sizeof(*k), kseg_cmp);

		memset(&m, 0, sizeof(m));
		memset(&TK, 0, sizeof(TK));
		TM = &m;
		setup(win, &m);
		reasm_syn(&Q, isn);
		if (run % 2)
			reasm_ack(&Q, s0);
		for (size_t i = 0; i < n; i++)
			push_tracked(s0 + k[i].off, data + k[i].off, k[i].len);
		uint64_t dropped = S.n_too_fragmented;
		if (Q.next_seq != (uint32_t)(s0 + LEN)) {	/* go back N */
			uint32_t from = Q.next_seq - s0;
			push_tracked(Q.next_seq, data + from, LEN - from);
		}
		bool ok = R.n == LEN && memcmp(R.out, data, LEN) == 0 && R.n_holes == 0 &&
		    R.bad_ptr == 0 && Q.next_seq == (uint32_t)(s0 + LEN) && reasm_buffered(&Q) == 0 &&
		    TK.bad == 0 && S.n_resync == 0 && S.n_gaps == 0 && S.n_nomem == 0 &&
		    (dropped > 0 || S.n_over_window == 0) && S.n_too_fragmented == dropped;
		reasm_flush(&Q, sink, &R);
		ok = ok && R.n_holes == 0 && R.n == LEN;
		reasm_free(&Q);
		ok = ok && m.used == 0;
		TM = NULL;
		comp[run % NCLS] += TK.compactions;
		grow[run % NCLS] += TK.growths;
		frag[run % NCLS] += dropped;
		if (!ok && bad_runs++ == 0)
			fprintf(stderr, "  run %d (window %zu): out %zu/%d bytes, %d holes, "
			    "%d inconsistent, over %ju, fragmented %ju\n", run, win, R.n, LEN,
			    R.n_holes, TK.bad, (uintmax_t)S.n_over_window, (uintmax_t)dropped);
		free(k);
	}
	T_EQ_I(bad_runs, 0);
	T_CHECK(comp[0] > 0);			/* 4096: compaction, never growth */
	T_EQ_U(grow[0], 0);
	for (int c = 1; c < NCLS; c++) {
		T_CHECK(comp[c] > 0);
		T_CHECK(grow[c] > 0);
	}
	T_CHECK(frag[NCLS - 1] > 0);		/* the range limit was reached */
	free(data);
}

int
main(void)
{
	T_RUN(test_reasm_in_order_no_copy);
	T_RUN(test_reasm_out_of_order);
	T_RUN(test_reasm_duplicates);
	T_RUN(test_reasm_overlap_first_wins);
	T_RUN(test_reasm_wraparound);
	T_RUN(test_reasm_ack_confirms_gap);
	T_RUN(test_reasm_ack_nothing_buffered);
	T_RUN(test_reasm_ack_partial_hole);
	T_RUN(test_reasm_ack_reorder_grace);
	T_RUN(test_reasm_fin);
	T_RUN(test_reasm_flush);
	T_RUN(test_reasm_flush_pending_ack);
	T_RUN(test_reasm_window_overflow);
	T_RUN(test_reasm_window_overflow_keeps_captured_bytes);
	T_RUN(test_reasm_segment_longer_than_window);
	T_RUN(test_reasm_too_many_ranges);
	T_RUN(test_reasm_too_many_ranges_in_order);
	T_RUN(test_reasm_sink_false);
	T_RUN(test_reasm_memcap_refused);
	T_RUN(test_reasm_syn_rules);
	T_RUN(test_reasm_ack_adopted_without_syn);
	T_RUN(test_reasm_second_synack_after_handshake);
	T_RUN(test_reasm_injected_after_handshake);
	T_RUN(test_reasm_forged_ack_before_data);
	T_RUN(test_reasm_random_order);
	T_RUN(test_reasm_far_segment_compaction);
	T_RUN(test_reasm_random_small_window);
	T_SUMMARY();
}
