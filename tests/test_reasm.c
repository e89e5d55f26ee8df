/*
 * test_reasm.c: one TCP direction's reassembly.  A recording sink appends
 * delivered bytes to a transcript and logs every call, holes (p == NULL)
 * included, so each test can check exactly what came out, in what order and
 * from which buffer.
 */
#include <stdbool.h>
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
	uint8_t out[1 << 16];
	size_t n;		/* data bytes in out */
	struct ev ev[512];
	int n_ev;
	int n_holes;
	size_t hole_bytes;
	int false_at;		/* return false on this call (1-based); 0: never */
};

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
	if (p == NULL) {
		r->n_holes++;
		r->hole_bytes += len;
	} else if (r->n + len <= sizeof(r->out)) {
		memcpy(r->out + r->n, p, len);
		r->n += len;
	}
	return r->false_at == 0 || r->n_ev < r->false_at;
}

static struct rec R;
static struct reasm_stats S;
static struct reasm Q;

/* Fresh state: window win_max (0 = REASM_MAX), optional budget. */
static void
setup(size_t win_max, struct memcap *m)
{
	memset(&R, 0, sizeof(R));
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

#define T_OUT(s) do {							\
	T_EQ_U(R.n, strlen(s));						\
	if (R.n == strlen(s))						\
		T_EQ_MEM(R.out, (s), R.n);				\
} while (0)

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
	T_EQ_U(Q.next_seq, 1000);
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
	free(b1);
	free(b2);
	reasm_free(&Q);

	/* no SYN: the first segment sets the sequence */
	setup(0, NULL);
	push_s(0x12345678, "xy");
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
	push_s(106, "GH");			/* and the second */
	T_OUT("ABCDEFGHIJ");
	T_EQ_U(reasm_buffered(&Q), 0);
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
}

/* Sequence numbers wrap at 2^32, in order and out of order. */
static void
test_reasm_wraparound(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 0xfffffeff);		/* data from 0xffffff00 */
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
	/* an ack across the wrap: a hole of 0x10 */
	reasm_ack(&Q, 0x30, sink, &R);
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(R.hole_bytes, 0x10);
	T_EQ_U(Q.next_seq, 0x30);
	reasm_free(&Q);

	/* a hole straddling zero, confirmed by an ack */
	setup(0, NULL);
	reasm_syn(&Q, 0xfffffff7);		/* data from 0xfffffff8 */
	push_c(0x00000008, 'q', 4);		/* hole 0xfffffff8..0x7: 16 bytes */
	reasm_ack(&Q, 0x0000000c, sink, &R);
	T_EQ_I(R.n_ev, 2);
	T_CHECK(R.ev[0].p == NULL && R.ev[0].len == 16);
	T_OUT("qqqq");
	reasm_free(&Q);
}

/* An ack past a hole: the hole is reported with its exact length, then the data. */
static void
test_reasm_ack_confirms_gap(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");		/* 1000..1009 */
	push_s(1020, "klmnopqrst");		/* 1020..1029, hole 1010..1019 */
	T_EQ_I(R.n_ev, 1);
	reasm_ack(&Q, 1030, sink, &R);
	T_EQ_I(R.n_ev, 3);
	T_CHECK(R.ev[1].p == NULL);
	T_EQ_U(R.ev[1].len, 10);
	T_EQ_U(R.ev[1].at, 10);			/* reported between the two runs */
	T_CHECK(R.ev[2].p != NULL);
	T_EQ_U(R.ev[2].len, 10);
	T_OUT("0123456789klmnopqrst");
	T_EQ_U(S.n_gaps, 1);
	T_EQ_U(S.n_gap_bytes, 10);
	T_EQ_U(Q.next_seq, 1030);
	T_EQ_U(Q.delivered, 30);
	T_EQ_U(reasm_buffered(&Q), 0);
	/* the hole's bytes arriving late are old now */
	push_s(1010, "abcdefghij");
	T_OUT("0123456789klmnopqrst");
	reasm_free(&Q);

	/* an ack past the buffered data too: hole, data, hole */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "ab");
	push_s(1005, "fg");			/* hole 1002..1004 */
	push_s(1010, "kl");			/* hole 1007..1009 */
	reasm_ack(&Q, 1020, sink, &R);		/* and 1012..1019 missing */
	T_EQ_I(R.n_ev, 6);
	T_CHECK(R.ev[1].p == NULL && R.ev[1].len == 3);
	T_CHECK(R.ev[2].p != NULL && R.ev[2].len == 2);
	T_CHECK(R.ev[3].p == NULL && R.ev[3].len == 3);
	T_CHECK(R.ev[4].p != NULL && R.ev[4].len == 2);
	T_CHECK(R.ev[5].p == NULL && R.ev[5].len == 8);
	T_OUT("abfgkl");
	T_EQ_U(S.n_gaps, 3);
	T_EQ_U(S.n_gap_bytes, 14);
	T_EQ_U(Q.next_seq, 1020);
	T_EQ_U(Q.delivered, 20);
	reasm_free(&Q);
}

/* Acks with nothing buffered: old or equal acks do nothing; an ack ahead is a hole. */
static void
test_reasm_ack_nothing_buffered(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	reasm_ack(&Q, 1010, sink, &R);		/* everything delivered */
	reasm_ack(&Q, 1005, sink, &R);		/* an old ack */
	reasm_ack(&Q, 1000, sink, &R);
	T_EQ_I(R.n_ev, 1);
	T_EQ_U(Q.next_seq, 1010);
	reasm_ack(&Q, 1015, sink, &R);		/* 1010..1014 never seen */
	T_EQ_I(R.n_ev, 2);
	T_CHECK(R.ev[1].p == NULL && R.ev[1].len == 5);
	T_EQ_U(S.n_gaps, 1);
	T_EQ_U(Q.next_seq, 1015);
	push_s(1015, "xyz");			/* continues directly */
	T_OUT("0123456789xyz");
	T_CHECK(Q.win == NULL);
	reasm_free(&Q);

	/* no sequence known at all: an ack is ignored */
	setup(0, NULL);
	reasm_ack(&Q, 5000, sink, &R);
	T_CHECK(!Q.has_seq);
	T_EQ_I(R.n_ev, 0);
	reasm_free(&Q);
}

/* An ack that covers only part of a hole skips that part and keeps the rest. */
static void
test_reasm_ack_partial_hole(void)
{
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");		/* 1000..1009 */
	push_s(1020, "KLMNO");			/* 1020..1024, hole 1010..1019 */
	push_s(1030, "UVW");			/* 1030..1032, hole 1025..1029 */
	reasm_ack(&Q, 1014, sink, &R);		/* the receiver got 1010..1013 */
	T_EQ_I(R.n_ev, 2);
	T_CHECK(R.ev[1].p == NULL && R.ev[1].len == 4);
	T_EQ_U(Q.next_seq, 1014);
	T_EQ_U(reasm_buffered(&Q), 8);
	push_s(1014, "efghij");			/* the rest of the hole: 1014..1019 */
	T_OUT("0123456789efghijKLMNO");
	T_EQ_U(Q.next_seq, 1025);
	push_s(1025, "PQRST");
	T_OUT("0123456789efghijKLMNOPQRSTUVW");
	T_EQ_U(Q.next_seq, 1033);
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(S.n_gap_bytes, 4);
	T_EQ_U(reasm_buffered(&Q), 0);
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
	reasm_ack(&Q, 1011, sink, &R);
	T_EQ_I(R.n_ev, 1);
	T_EQ_I(R.n_holes, 0);
	T_EQ_U(S.n_gaps, 0);
	reasm_free(&Q);

	/* without the FIN the same ack is a one-byte hole */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	reasm_ack(&Q, 1011, sink, &R);
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(R.hole_bytes, 1);
	reasm_free(&Q);

	/* a hole before the FIN: the hole is reported, the FIN is not a byte */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "0123456789");
	push_s(1020, "klmnopqrst");		/* hole 1010..1019 */
	reasm_fin(&Q, 1030);
	reasm_ack(&Q, 1031, sink, &R);
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(R.hole_bytes, 10);
	T_OUT("0123456789klmnopqrst");
	T_EQ_U(Q.next_seq, 1030);
	reasm_free(&Q);

	/* a FIN across the wrap */
	setup(0, NULL);
	reasm_syn(&Q, 0xfffffff9);		/* data from 0xfffffffa */
	push_s(0xfffffffa, "abcdef");		/* ..0xffffffff */
	reasm_fin(&Q, 0);
	reasm_ack(&Q, 1, sink, &R);
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
}

/* Data beyond a window of 64 bytes forces the first hole to be given up. */
static void
test_reasm_window_overflow(void)
{
	setup(64, NULL);
	T_EQ_U(Q.win_max, 64);
	reasm_syn(&Q, 999);
	push_c(1010, 'b', 10);			/* 1010..1019, hole 1000..1009 */
	T_EQ_I(R.n_ev, 0);
	push_c(1060, 'c', 10);			/* 1060..1069: needs 70 > 64 bytes */
	T_EQ_I(R.n_ev, 2);
	T_CHECK(R.ev[0].p == NULL && R.ev[0].len == 10);
	T_CHECK(R.ev[1].p != NULL && R.ev[1].len == 10);
	T_EQ_U(Q.next_seq, 1020);
	T_EQ_U(reasm_buffered(&Q), 10);		/* c is held: 40 + 10 <= 64 */
	T_EQ_U(S.n_gaps, 1);
	T_CHECK(Q.win_cap <= 64);
	push_c(1100, 'd', 10);			/* from 1020: 90 > 64 */
	T_EQ_I(R.n_holes, 2);
	T_EQ_U(R.ev[2].len, 40);		/* 1020..1059 */
	T_EQ_U(Q.next_seq, 1070);
	T_EQ_U(reasm_buffered(&Q), 10);
	T_CHECK(Q.win_cap <= 64);
	reasm_flush(&Q, sink, &R);
	T_EQ_U(R.n, 30);
	T_EQ_MEM(R.out, "bbbbbbbbbbccccccccccdddddddddd", 30);
	T_EQ_U(S.n_gap_bytes, 10 + 40 + 30);
	reasm_free(&Q);

	/* a segment just fitting the window is buffered, one byte more is not */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_c(1001, 'x', 63);			/* 1 + 63 = 64: fits */
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(reasm_buffered(&Q), 63);
	push_c(1064, 'y', 1);			/* 64 + 1 > 64 */
	T_EQ_I(R.n_holes, 1);
	T_EQ_U(R.hole_bytes, 1);
	T_EQ_U(R.n, 64);
	T_EQ_U(Q.next_seq, 1065);
	reasm_free(&Q);
}

/*
 * A segment that starts inside the first hole and reaches past the window:
 * only the bytes that are really missing may be declared lost.  The segment
 * itself carries 1005..1066, so the hole is 1000..1004 (5 bytes) and every
 * captured byte from 1005 on must come out.
 */
static void
test_reasm_window_overflow_keeps_captured_bytes(void)
{
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_c(1040, 'B', 10);			/* 1040..1049, hole 1000..1039 */
	push_c(1005, 'S', 62);			/* 1005..1066: 5 + 62 = 67 > 64 */
	reasm_flush(&Q, sink, &R);
	T_EQ_U(R.hole_bytes, 5);
	T_EQ_U(R.n, 62);
	T_CHECK(R.n >= 45 && R.out[0] == 'S' && R.out[34] == 'S' && R.out[35] == 'B' &&
	    R.out[44] == 'B');
	reasm_free(&Q);
}

/* More disjoint ranges than REASM_SEGS_MAX: the extra ones are dropped and counted. */
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
	reasm_free(&Q);
}

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
	T_EQ_U(S.n_over_window, (unsigned)extra);
	T_EQ_U(S.n_ooo_segs, REASM_SEGS_MAX);
	T_EQ_I(R.n_ev, 0);

	/* a segment touching existing ranges still merges when the list is full */
	push_c(1003, 'M', 1);			/* joins 1002 and 1004 */
	T_EQ_U(Q.n_ranges, REASM_SEGS_MAX - 1);
	T_EQ_U(S.n_over_window, (unsigned)extra);
	/* so a new disjoint one fits again */
	push_c(1002 + 2 * REASM_SEGS_MAX, 'N', 1);
	T_EQ_U(Q.n_ranges, REASM_SEGS_MAX);
	T_EQ_U(S.n_over_window, (unsigned)extra);
	push_c(1002 + 2 * (REASM_SEGS_MAX + 1), 'O', 1);	/* full again: dropped */
	T_EQ_U(S.n_over_window, (unsigned)extra + 1);

	/* fill the first hole: 1000..1001 then the merged 1002..1004 */
	push_c(1000, '_', 2);
	T_EQ_U(R.n, 5);
	T_EQ_MEM(R.out, "__aMb", 5);
	reasm_flush(&Q, sink, &R);
	T_EQ_U(reasm_buffered(&Q), 0);
	T_EQ_U(R.n, 5 + (REASM_SEGS_MAX - 2) + 1);	/* c.. then the 'N' byte */
	T_EQ_U(R.out[R.n - 1], 'N');
	T_EQ_U(Q.next_seq, 1002 + 2 * REASM_SEGS_MAX + 1);
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
	reasm_ack(&Q, 2000, sink, &R);		/* ignored */
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
	reasm_ack(&Q, 1012, sink, &R);
	T_EQ_I(R.n_ev, 2);
	T_CHECK(R.ev[1].p == NULL);
	T_CHECK(Q.done);
	T_EQ_U(m.used, 0);
	T_OUT("ab");
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
}

/* SYN and ISN: next_seq, resynchronisation, SYN-ACK correction, ack adoption. */
static void
test_reasm_syn_rules(void)
{
	/* reasm_syn: data starts at isn + 1, even across the wrap */
	setup(0, NULL);
	reasm_syn(&Q, 0xffffffff);
	T_EQ_U(Q.next_seq, 0);
	T_CHECK(Q.has_seq);
	reasm_free(&Q);

	/* first data more than win_max past the SYN's number: trust the data */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_s(1000 + 200, "far");
	T_EQ_U(S.n_resync, 1);
	T_EQ_I(R.n_holes, 0);
	T_OUT("far");
	T_EQ_U(Q.next_seq, 1203);
	reasm_free(&Q);

	/* first data before the SYN's number: trust the data */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	push_s(990, "early");
	T_EQ_U(S.n_resync, 1);
	T_OUT("early");
	T_EQ_U(Q.next_seq, 995);
	reasm_free(&Q);

	/* first data a little ahead (a lost first segment): a hole, no resync */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_s(1010, "near");
	T_EQ_U(S.n_resync, 0);
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(reasm_buffered(&Q), 4);
	reasm_free(&Q);

	/* resynchronisation only happens before anything is delivered */
	setup(64, NULL);
	reasm_syn(&Q, 999);
	push_s(1000, "a");
	push_s(900, "old");			/* before next_seq: a duplicate */
	T_EQ_U(S.n_resync, 0);
	T_EQ_U(S.n_dup_bytes, 3);
	T_OUT("a");
	reasm_free(&Q);

	/* a later SYN-ACK before any data replaces the ISN */
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

	/* an ack with nothing delivered: adopt it as next_seq, no hole */
	setup(0, NULL);
	reasm_syn(&Q, 999);
	reasm_ack(&Q, 1500, sink, &R);
	T_EQ_U(Q.next_seq, 1500);
	T_EQ_I(R.n_ev, 0);
	T_EQ_U(S.n_gaps, 0);
	push_s(1500, "from the ack");
	T_OUT("from the ack");
	T_EQ_U(S.n_resync, 0);
	reasm_free(&Q);
}

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
		struct seg segs[REASM_SEGS_MAX];
		int n = 0, n_base;
		uint32_t isn;

		rng = seed * 2654435761u;
		for (size_t i = 0; i < LEN; i++)
			data[i] = (uint8_t)rnd();
		/* the sequence space: sometimes right before the wrap */
		isn = (seed % 3 == 0) ? 0xffffffffu - (rnd() % LEN) : rnd();

		/* cut points: 8..20 base segments covering [0, LEN) */
		n_base = 8 + (int)(rnd() % 13);
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
		for (int i = 0; i < n; i++) {
			uint8_t *b = t_dup(data + segs[i].off, segs[i].len);
			reasm_push(&Q, isn + 1 + segs[i].off, b, segs[i].len, sink, &R);
			free(b);
		}
		bool ok = R.n == LEN && memcmp(R.out, data, LEN) == 0 && R.n_holes == 0 &&
		    reasm_buffered(&Q) == 0 && Q.next_seq == isn + 1 + LEN &&
		    S.n_resync == 0 && S.n_over_window == 0 && S.n_gaps == 0;
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
	T_RUN(test_reasm_fin);
	T_RUN(test_reasm_flush);
	T_RUN(test_reasm_window_overflow);
	T_RUN(test_reasm_window_overflow_keeps_captured_bytes);
	T_RUN(test_reasm_segment_longer_than_window);
	T_RUN(test_reasm_too_many_ranges);
	T_RUN(test_reasm_sink_false);
	T_RUN(test_reasm_memcap_refused);
	T_RUN(test_reasm_syn_rules);
	T_RUN(test_reasm_random_order);
	T_SUMMARY();
}
