/*
 * test_flow.c: the flow table.  Flows are told apart by an integer tag the
 * test hangs on flow->app (a heap allocation, so LeakSanitizer notices a
 * flow whose end callback never ran); the end callback logs (tag, reason).
 */
#include <stdbool.h>
#include <stdint.h>

#include "../capture/flow.h"
#include "t.h"

struct end_log {
	int tag[4096];
	enum flow_end why[4096];
	int n;
	int no_app;		/* ended flows that carried no tag */
};

static struct end_log E;

static void
on_end(void *ctx, struct flow *f, enum flow_end why)
{
	struct end_log *e = ctx;

	T_CHECK(e == &E);
	if (f->app == NULL) {
		e->no_app++;
		return;
	}
	if (e->n < 4096) {
		e->tag[e->n] = *(int *)f->app;
		e->why[e->n] = why;
	}
	e->n++;
	free(f->app);
	f->app = NULL;
}

/* How many times the end callback saw this tag. */
static int
n_ends(int tag)
{
	int k = 0;

	for (int i = 0; i < E.n && i < 4096; i++)
		k += E.tag[i] == tag;
	return k;
}

static void
tag(struct flow *f, int t)
{
	int *p = malloc(sizeof(*p));

	if (p == NULL)
		abort();
	*p = t;
	f->app = p;
}

static int
tag_of(const struct flow *f)
{
	return f && f->app ? *(const int *)f->app : -1;
}

/* An IPv4 TCP packet src:sport -> dst:dport (addresses host-order u32) at ts_us. */
static struct pkt
p4(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport, int64_t ts_us)
{
	struct pkt p;

	memset(&p, 0, sizeof(p));
	p.ts_us = ts_us;
	p.family = 4;
	p.proto = 6;
	p.src[0] = (uint8_t)(src >> 24); p.src[1] = (uint8_t)(src >> 16);
	p.src[2] = (uint8_t)(src >> 8); p.src[3] = (uint8_t)src;
	p.dst[0] = (uint8_t)(dst >> 24); p.dst[1] = (uint8_t)(dst >> 16);
	p.dst[2] = (uint8_t)(dst >> 8); p.dst[3] = (uint8_t)dst;
	p.sport = sport;
	p.dport = dport;
	return p;
}

/* The reverse direction of a packet. */
static struct pkt
rev(struct pkt p)
{
	struct pkt r = p;

	memcpy(r.src, p.dst, 16);
	memcpy(r.dst, p.src, 16);
	r.sport = p.dport;
	r.dport = p.sport;
	return r;
}

#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define SEC 1000000LL

/* Flow i of a numbered family: 10.0.x.y:(1024+i) -> 192.0.2.1:443. */
static struct pkt
nth(int i, int64_t ts_us)
{
	return p4(IP4(10, 0, (i >> 8) & 0xff, i & 0xff), (uint16_t)(1024 + i),
	    IP4(192, 0, 2, 1), 443, ts_us);
}

static struct flow_table *
new_table(size_t max, unsigned idle_s, struct memcap *m)
{
	memset(&E, 0, sizeof(E));
	return flow_table_new(max, idle_s, 0, m, NULL, on_end, &E);
}

static void
check_stats_add_up(const struct flow_table *ft)
{
	struct flow_stats st;
	uint64_t ended = 0;

	flow_table_stats(ft, &st);
	for (int i = 0; i < FLOW_END_N; i++)
		ended += st.n_ended[i];
	T_EQ_U(st.n_created, ended + st.n_active);
	T_CHECK(st.n_peak >= st.n_active);
	T_EQ_U(ended, (uint64_t)E.n + (uint64_t)E.no_app);
}

/* Both directions of a connection are one flow, with opposite dir values. */
static void
test_flow_both_directions(void)
{
	struct flow_table *ft = new_table(16, 60, NULL);
	/* client 198.51.100.7:50000 -> server 192.0.2.1:443 (client address higher) */
	struct pkt c2s = p4(IP4(198, 51, 100, 7), 50000, IP4(192, 0, 2, 1), 443, 1 * SEC);
	struct pkt s2c = rev(c2s);
	struct flow *f, *g;
	int d1 = -1, d2 = -1;
	struct flow_stats st;

	f = flow_get(ft, &c2s, true, &d1);
	T_CHECK(f != NULL);
	tag(f, 1);
	g = flow_get(ft, &s2c, true, &d2);
	T_CHECK(f == g);
	T_CHECK(d1 == 0 || d1 == 1);
	T_EQ_I(d1 + d2, 1);			/* opposite */
	T_EQ_I(d1, 1);				/* the client is the higher endpoint */
	/* the endpoint sending in each direction */
	T_EQ_MEM(flow_src_addr(f, d1), c2s.src, 16);
	T_EQ_U(flow_src_port(f, d1), 50000);
	T_EQ_MEM(flow_src_addr(f, d2), s2c.src, 16);
	T_EQ_U(flow_src_port(f, d2), 443);
	T_EQ_U(f->key.family, 4);
	T_EQ_U(f->key.proto, 6);
	T_EQ_U(f->first_us, 1 * SEC);
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_created, 1);
	T_EQ_U(st.n_active, 1);

	/* client address lower: dir 0 for the client */
	struct pkt a = p4(IP4(10, 0, 0, 1), 40000, IP4(10, 0, 0, 2), 443, 2 * SEC);
	f = flow_get(ft, &a, true, &d1);
	tag(f, 2);
	g = flow_get(ft, &a, false, &d2);
	T_CHECK(g == f);
	T_EQ_I(d1, 0);
	struct pkt ar = rev(a);
	g = flow_get(ft, &ar, false, &d2);
	T_CHECK(g == f);
	T_EQ_I(d2, 1);

	/* same address both ends (loopback): the ports decide */
	struct pkt l = p4(IP4(127, 0, 0, 1), 5000, IP4(127, 0, 0, 1), 443, 3 * SEC);
	struct pkt lr = rev(l);
	f = flow_get(ft, &l, true, &d1);
	tag(f, 3);
	g = flow_get(ft, &lr, true, &d2);
	T_CHECK(g == f);
	T_EQ_I(d1, 1);				/* 5000 > 443 */
	T_EQ_I(d2, 0);
	T_EQ_U(flow_src_port(f, d1), 5000);
	T_EQ_U(flow_src_port(f, d2), 443);

	/* a different port is a different flow */
	struct pkt other = c2s;
	other.sport = 50001;
	g = flow_get(ft, &other, true, &d1);
	T_CHECK(g != NULL && g != flow_get(ft, &c2s, false, &d2));
	tag(g, 4);

	flow_table_stats(ft, &st);
	T_EQ_U(st.n_created, 4);
	T_EQ_U(st.n_active, 4);
	check_stats_add_up(ft);
	flow_table_free(ft);
	T_EQ_I(E.n, 4);
}

/* IPv4 and IPv6 keys differ even when the address bytes agree; so do TCP and UDP. */
static void
test_flow_family_and_proto_keys(void)
{
	struct flow_table *ft = new_table(16, 60, NULL);
	struct pkt v4 = p4(IP4(10, 0, 0, 1), 1234, IP4(10, 0, 0, 2), 443, SEC);
	struct pkt v6 = v4, udp = v4;
	struct flow *f4, *f6, *fu;
	int d;

	v6.family = 6;				/* 0a00:0001:: -> 0a00:0002::, same bytes */
	udp.proto = 17;
	f4 = flow_get(ft, &v4, true, &d);
	tag(f4, 4);
	T_CHECK(flow_get(ft, &v6, false, &d) == NULL);
	f6 = flow_get(ft, &v6, true, &d);
	tag(f6, 6);
	T_CHECK(flow_get(ft, &udp, false, &d) == NULL);
	fu = flow_get(ft, &udp, true, &d);
	tag(fu, 17);
	T_CHECK(f4 != f6 && f4 != fu && f6 != fu);
	T_EQ_I(tag_of(flow_get(ft, &v4, false, &d)), 4);
	T_EQ_I(tag_of(flow_get(ft, &v6, false, &d)), 6);
	T_EQ_I(tag_of(flow_get(ft, &udp, false, &d)), 17);
	T_EQ_U(f6->key.family, 6);
	T_EQ_U(fu->key.proto, 17);

	/* a real IPv6 pair */
	struct pkt a6;
	memset(&a6, 0, sizeof(a6));
	a6.family = 6; a6.proto = 6; a6.sport = 443; a6.dport = 60000;
	a6.src[0] = 0x20; a6.src[1] = 0x01; a6.src[2] = 0x0d; a6.src[3] = 0xb8;
	a6.src[15] = 2;				/* 2001:db8::2 */
	memcpy(a6.dst, a6.src, 16);
	a6.dst[15] = 1;				/* 2001:db8::1 */
	struct flow *g = flow_get(ft, &a6, true, &d);
	tag(g, 60);
	T_EQ_I(d, 1);				/* ::2 is the higher endpoint */
	struct pkt a6r = rev(a6);
	int d2;
	T_CHECK(flow_get(ft, &a6r, false, &d2) == g);
	T_EQ_I(d2, 0);
	T_EQ_MEM(flow_src_addr(g, 0), a6.dst, 16);
	check_stats_add_up(ft);
	flow_table_free(ft);
	T_EQ_I(E.n, 4);
}

/* create == false: NULL for an unknown flow, and nothing is made. */
static void
test_flow_get_no_create(void)
{
	struct flow_table *ft = new_table(16, 60, NULL);
	struct pkt p = nth(1, SEC);
	struct flow_stats st;
	int d = -1;

	T_CHECK(flow_get(ft, &p, false, &d) == NULL);
	struct pkt pr = rev(p);
	T_CHECK(flow_get(ft, &pr, false, &d) == NULL);
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_created, 0);
	T_EQ_U(st.n_active, 0);
	struct flow *f = flow_get(ft, &p, true, &d);
	T_CHECK(f != NULL);
	tag(f, 1);
	T_CHECK(flow_get(ft, &pr, false, &d) == f);
	T_EQ_I(d, 1);
	struct pkt q = nth(2, SEC);
	T_CHECK(flow_get(ft, &q, false, &d) == NULL);
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_created, 1);
	flow_table_free(ft);
	T_EQ_I(E.n, 1);
}

/* flow_end: the callback runs exactly once, with the reason; the flow is gone. */
static void
test_flow_end_callback_once(void)
{
	static const enum flow_end whys[] = { FLOW_END_FIN, FLOW_END_RST, FLOW_END_IDLE,
		FLOW_END_EVICTED, FLOW_END_EOF };
	struct flow_table *ft = new_table(16, 60, NULL);
	struct flow_stats st;
	int d;

	for (int i = 0; i < 5; i++) {
		struct pkt p = nth(i, SEC);
		struct flow *f = flow_get(ft, &p, true, &d);
		tag(f, 100 + i);
	}
	for (int i = 0; i < 5; i++) {
		struct pkt p = nth(i, SEC);
		struct flow *f = flow_get(ft, &p, false, &d);
		T_EQ_I(tag_of(f), 100 + i);
		if (f)
			flow_end(ft, f, whys[i]);
		T_CHECK(flow_get(ft, &p, false, &d) == NULL);
		T_EQ_I(E.n, i + 1);
		T_EQ_I(E.tag[i], 100 + i);
		T_EQ_I(E.why[i], whys[i]);
	}
	flow_table_stats(ft, &st);
	for (int i = 0; i < 5; i++)
		T_EQ_U(st.n_ended[whys[i]], 1);
	T_EQ_U(st.n_active, 0);
	check_stats_add_up(ft);
	flow_table_free(ft);			/* nothing left: no more calls */
	T_EQ_I(E.n, 5);
	for (int i = 0; i < 5; i++)
		T_EQ_I(n_ends(100 + i), 1);

	/* a flow ended and then seen again is a new flow */
	ft = new_table(16, 60, NULL);
	struct pkt p = nth(7, SEC);
	struct flow *f = flow_get(ft, &p, true, &d);
	tag(f, 7);
	flow_end(ft, f, FLOW_END_FIN);
	f = flow_get(ft, &p, true, &d);
	T_CHECK(f != NULL && f->app == NULL);
	tag(f, 8);
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_created, 2);
	T_EQ_U(st.n_active, 1);
	flow_table_free(ft);
	T_EQ_I(n_ends(7), 1);
	T_EQ_I(n_ends(8), 1);
	T_EQ_I(E.why[1], FLOW_END_EOF);

	T_EQ_STR(flow_end_str(FLOW_END_FIN), "fin");
	T_EQ_STR(flow_end_str(FLOW_END_EVICTED), "evicted");
	T_EQ_STR(flow_end_str(FLOW_END_EOF), "end-of-capture");
	T_EQ_STR(flow_end_str(FLOW_END_N), "?");
}

/* At the cap, a new flow evicts the least recently seen one. */
static void
test_flow_evict_lru(void)
{
	enum { MAX = 4 };
	struct flow_table *ft = new_table(MAX, 60, NULL);
	struct flow_stats st;
	int d;

	for (int i = 0; i < MAX; i++) {
		struct pkt p = nth(i, (i + 1) * SEC);
		tag(flow_get(ft, &p, true, &d), i);
	}
	T_EQ_I(E.n, 0);
	/* touch flow 0 (the oldest) from the other side: 1 is now least recent */
	struct pkt p0 = rev(nth(0, 10 * SEC));
	T_EQ_I(tag_of(flow_get(ft, &p0, false, &d)), 0);
	struct pkt p4_ = nth(MAX, 11 * SEC);
	struct flow *f = flow_get(ft, &p4_, true, &d);
	T_CHECK(f != NULL);
	tag(f, MAX);
	T_EQ_I(E.n, 1);
	T_EQ_I(E.tag[0], 1);
	T_EQ_I(E.why[0], FLOW_END_EVICTED);
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_active, MAX);
	T_EQ_U(st.n_ended[FLOW_END_EVICTED], 1);
	T_EQ_U(st.n_peak, MAX);

	/* touching with an existing-flow lookup also counts: touch 2, then add */
	struct pkt p2 = nth(2, 12 * SEC);
	T_EQ_I(tag_of(flow_get(ft, &p2, true, &d)), 2);
	struct pkt p5 = nth(MAX + 1, 13 * SEC);
	tag(flow_get(ft, &p5, true, &d), MAX + 1);
	T_EQ_I(E.n, 2);
	T_EQ_I(E.tag[1], 3);			/* order now: 3, 0, 4, 2, 5 */
	struct pkt p6 = nth(MAX + 2, 14 * SEC);
	tag(flow_get(ft, &p6, true, &d), MAX + 2);
	T_EQ_I(E.tag[2], 0);

	/* survivors: 4, 2, 5, 6 */
	for (int i = 0; i < 4; i++) {
		static const int alive[] = { MAX, 2, MAX + 1, MAX + 2 };
		struct pkt p = nth(alive[i], 15 * SEC);
		T_EQ_I(tag_of(flow_get(ft, &p, false, &d)), alive[i]);
	}
	struct pkt p1 = nth(1, 15 * SEC);
	T_CHECK(flow_get(ft, &p1, false, &d) == NULL);
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_created, MAX + 3);
	T_EQ_U(st.n_active, MAX);
	T_EQ_U(st.n_peak, MAX);
	check_stats_add_up(ft);
	flow_table_free(ft);
	for (int i = 0; i < MAX + 3; i++)
		T_EQ_I(n_ends(i), 1);

	/* a table of one */
	ft = new_table(1, 60, NULL);
	struct pkt a = nth(1, SEC), b = nth(2, SEC);
	tag(flow_get(ft, &a, true, &d), 1);
	tag(flow_get(ft, &b, true, &d), 2);
	T_EQ_I(E.n, 1);
	T_EQ_I(E.tag[0], 1);
	T_EQ_I(tag_of(flow_get(ft, &b, false, &d)), 2);
	flow_table_free(ft);
	T_EQ_I(E.n, 2);
}

/* flow_expire ends only flows idle longer than idle_s, oldest first. */
static void
test_flow_expire_idle(void)
{
	struct flow_table *ft = new_table(100, 10, NULL);	/* idle 10 s */
	struct flow_stats st;
	int d;

	struct pkt a = nth(1, 100 * SEC), b = nth(2, 105 * SEC), c = nth(3, 108 * SEC);
	tag(flow_get(ft, &a, true, &d), 1);
	tag(flow_get(ft, &b, true, &d), 2);
	tag(flow_get(ft, &c, true, &d), 3);
	flow_expire(ft, 100 * SEC);
	flow_expire(ft, 110 * SEC);		/* a idle exactly 10 s: not longer */
	T_EQ_I(E.n, 0);
	flow_expire(ft, 110 * SEC + 1);		/* a idle 10 s + 1 us */
	T_EQ_I(E.n, 1);
	T_EQ_I(E.tag[0], 1);
	T_EQ_I(E.why[0], FLOW_END_IDLE);
	/* a packet keeps b alive */
	struct pkt b2 = rev(nth(2, 112 * SEC));
	T_EQ_I(tag_of(flow_get(ft, &b2, false, &d)), 2);
	T_EQ_U(flow_get(ft, &b2, false, &d)->last_us, 112 * SEC);
	T_EQ_U(flow_get(ft, &b2, false, &d)->first_us, 105 * SEC);
	flow_expire(ft, 119 * SEC);		/* c idle 11 s, b 7 s */
	T_EQ_I(E.n, 2);
	T_EQ_I(E.tag[1], 3);
	flow_expire(ft, 200 * SEC);
	T_EQ_I(E.n, 3);
	T_EQ_I(E.tag[2], 2);
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_ended[FLOW_END_IDLE], 3);
	T_EQ_U(st.n_active, 0);
	check_stats_add_up(ft);

	/* many at once, in order of last packet */
	memset(&E, 0, sizeof(E));
	for (int i = 0; i < 10; i++) {
		struct pkt p = nth(10 + i, (300 + i) * SEC);
		tag(flow_get(ft, &p, true, &d), 10 + i);
	}
	flow_expire(ft, 315 * SEC);		/* 300..304 idle > 10 s */
	T_EQ_I(E.n, 5);
	for (int i = 0; i < 5 && i < E.n; i++) {
		T_EQ_I(E.tag[i], 10 + i);
		T_EQ_I(E.why[i], FLOW_END_IDLE);
	}
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_active, 5);
	flow_table_free(ft);
	T_EQ_I(E.n, 10);
	for (int i = 5; i < 10; i++)
		T_EQ_I(E.why[i], FLOW_END_EOF);

	/* idle_s 0 means FLOW_IDLE_S */
	ft = new_table(10, 0, NULL);
	struct pkt z = nth(1, 0);
	tag(flow_get(ft, &z, true, &d), 1);
	flow_expire(ft, (int64_t)FLOW_IDLE_S * SEC);
	T_EQ_I(E.n, 0);
	flow_expire(ft, (int64_t)FLOW_IDLE_S * SEC + 1);
	T_EQ_I(E.n, 1);
	flow_table_free(ft);
}

/* flow_table_flush ends every flow with the given reason, oldest first; the table stays. */
/*
 * A packet that finds its flow idle for longer than the timeout, by its own
 * timestamp, starts a new flow, whether capture time moved forward or back
 * (files given out of order): flow_expire() alone would miss the latter.
 */
static void
test_flow_stale_by_packet_clock(void)
{
	struct flow_table *ft = new_table(16, 10, NULL);
	struct pkt p = nth(1, 1000 * SEC);
	struct flow *f;
	int dir;

	f = flow_get(ft, &p, true, &dir);
	tag(f, 1);
	p.ts_us = 1009 * SEC;			/* within the timeout: the same flow */
	T_EQ_I(tag_of(flow_get(ft, &p, true, &dir)), 1);
	p.ts_us = 1020 * SEC;			/* 11 s later: a new one */
	f = flow_get(ft, &p, true, &dir);
	T_CHECK(f != NULL && f->app == NULL);
	T_EQ_I(n_ends(1), 1);
	T_EQ_I(E.why[0], FLOW_END_IDLE);
	tag(f, 2);
	p.ts_us = 500 * SEC;			/* long before: another new one */
	f = flow_get(ft, &p, true, &dir);
	T_CHECK(f != NULL && f->app == NULL);
	T_EQ_I(n_ends(2), 1);
	tag(f, 3);
	p.ts_us = 505 * SEC;			/* a packet that cannot create finds it */
	T_EQ_I(tag_of(flow_get(ft, &p, false, &dir)), 3);
	check_stats_add_up(ft);
	flow_table_free(ft);
}

static void
test_flow_flush(void)
{
	struct flow_table *ft = new_table(100, 60, NULL);
	struct flow_stats st;
	int d;

	for (int i = 0; i < 6; i++) {
		struct pkt p = nth(i, (i + 1) * SEC);
		tag(flow_get(ft, &p, true, &d), i);
	}
	struct pkt p3 = nth(3, 10 * SEC);
	flow_get(ft, &p3, false, &d);		/* 3 becomes the newest */
	flow_table_flush(ft, FLOW_END_EOF);
	T_EQ_I(E.n, 6);
	static const int order[] = { 0, 1, 2, 4, 5, 3 };
	for (int i = 0; i < 6; i++) {
		T_EQ_I(E.tag[i], order[i]);
		T_EQ_I(E.why[i], FLOW_END_EOF);
	}
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_active, 0);
	T_EQ_U(st.n_ended[FLOW_END_EOF], 6);
	struct pkt p0 = nth(0, 11 * SEC);
	T_CHECK(flow_get(ft, &p0, false, &d) == NULL);
	/* still usable */
	tag(flow_get(ft, &p0, true, &d), 50);
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_active, 1);
	T_EQ_U(st.n_created, 7);
	check_stats_add_up(ft);
	flow_table_flush(ft, FLOW_END_IDLE);	/* any reason */
	T_EQ_I(E.n, 7);
	T_EQ_I(E.why[6], FLOW_END_IDLE);
	flow_table_flush(ft, FLOW_END_EOF);	/* empty: nothing */
	T_EQ_I(E.n, 7);
	flow_table_free(ft);
	T_EQ_I(E.n, 7);
}

/* flow_table_free with live flows ends each one (EOF); their windows go back to the budget. */
static void
test_flow_free_live(void)
{
	struct memcap m = { 0 };
	struct flow_table *ft = new_table(100, 60, &m);
	int d;

	for (int i = 0; i < 20; i++) {
		struct pkt p = nth(i, SEC);
		struct flow *f = flow_get(ft, &p, true, &d);
		tag(f, i);
		/* hold bytes ahead of a hole in both directions */
		reasm_syn(&f->rs[0], 999);
		reasm_syn(&f->rs[1], 4999);
		reasm_push(&f->rs[0], 1010, (const uint8_t *)"abc", 3, NULL, NULL);
		reasm_push(&f->rs[1], 5010, (const uint8_t *)"xyz", 3, NULL, NULL);
		T_EQ_U(reasm_buffered(&f->rs[0]), 3);
		T_CHECK(f->rs[0].mem == &m);
		T_EQ_U(f->rs[0].win_max, REASM_MAX);	/* reasm_max 0 */
	}
	T_CHECK(m.used >= 40 * 4096);
	flow_table_free(ft);
	T_EQ_I(E.n, 20);
	for (int i = 0; i < 20; i++) {
		T_EQ_I(n_ends(i), 1);
		T_EQ_I(E.why[i], FLOW_END_EOF);
	}
	T_EQ_U(m.used, 0);
	flow_table_free(NULL);			/* no-op */

	/* flow_end and eviction give the budget back too */
	ft = flow_table_new(1, 60, 64, &m, NULL, on_end, &E);
	memset(&E, 0, sizeof(E));
	struct pkt a = nth(1, SEC), b = nth(2, SEC);
	struct flow *f = flow_get(ft, &a, true, &d);
	tag(f, 1);
	T_EQ_U(f->rs[0].win_max, 64);
	reasm_syn(&f->rs[0], 0);		/* data from 1 */
	reasm_push(&f->rs[0], 10, (const uint8_t *)"j", 1, NULL, NULL);	/* held: hole 1..9 */
	T_EQ_U(m.used, 64);
	tag(flow_get(ft, &b, true, &d), 2);	/* evicts a */
	T_EQ_U(m.used, 0);
	flow_table_free(ft);
	T_EQ_I(E.n, 2);
}

/* Stats add up through a mixed life: creations, ends of every kind, peak. */
static void
test_flow_stats(void)
{
	struct flow_table *ft = new_table(50, 1, NULL);	/* idle 1 s = 10 rounds */
	struct flow_stats st;
	uint32_t x = 12345;
	int d, peak = 0, live = 0;

	for (int round = 0; round < 2000; round++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		int i = (int)(x % 120);
		/* first 1 ms a round (the table fills, evicts), then 100 ms (flows idle out) */
		int64_t now = round < 1000 ? (int64_t)round * 1000 :
		    SEC + (int64_t)(round - 1000) * SEC / 10;
		struct pkt p = nth(i, now);
		if (x & 0x100)
			p = rev(p);
		struct flow *f = flow_get(ft, &p, (x & 0x600) != 0, &d);
		if (f != NULL && f->app == NULL) {
			tag(f, 1000 + round);
			live++;
		}
		if (f != NULL && (x & 0xf000) == 0x1000)
			flow_end(ft, f, (x & 0x10000) ? FLOW_END_FIN : FLOW_END_RST);
		if (round % 7 == 6)
			flow_expire(ft, now);
		flow_table_stats(ft, &st);
		if ((int)st.n_active > peak)
			peak = (int)st.n_active;
		T_CHECK(st.n_active <= 50);
	}
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_peak, (unsigned)peak);
	T_EQ_U(st.n_peak, 50);
	T_CHECK(st.n_ended[FLOW_END_EVICTED] > 0);
	T_CHECK(st.n_ended[FLOW_END_IDLE] > 0);
	T_CHECK(st.n_ended[FLOW_END_FIN] + st.n_ended[FLOW_END_RST] > 0);
	T_EQ_U(st.n_created, (unsigned)live);
	check_stats_add_up(ft);
	uint64_t active = st.n_active;
	flow_table_flush(ft, FLOW_END_EOF);
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_ended[FLOW_END_EOF], active);
	T_EQ_U(st.n_active, 0);
	T_EQ_U(st.n_peak, 50);
	check_stats_add_up(ft);
	T_EQ_U((uint64_t)E.n, st.n_created);
	flow_table_free(ft);
}

/* Many flows: every one found from both sides, and each ends exactly once. */
static void
test_flow_many(void)
{
	enum { N = 3000 };
	struct flow_table *ft = new_table(0, 0, NULL);	/* FLOW_MAX, FLOW_IDLE_S */
	struct flow_stats st;
	int d, bad = 0;

	for (int i = 0; i < N; i++) {
		struct pkt p = nth(i, SEC);
		struct flow *f = flow_get(ft, &p, true, &d);
		if (f == NULL || f->app != NULL) {
			bad++;
			continue;
		}
		tag(f, i);
	}
	for (int i = 0; i < N; i++) {
		struct pkt p = nth(i, 2 * SEC), r = rev(p);
		int d1, d2;
		if (tag_of(flow_get(ft, &p, false, &d1)) != i ||
		    tag_of(flow_get(ft, &r, false, &d2)) != i || d1 + d2 != 1)
			bad++;
	}
	T_EQ_I(bad, 0);
	flow_table_stats(ft, &st);
	T_EQ_U(st.n_active, N);
	T_EQ_U(st.n_ended[FLOW_END_EVICTED], 0);
	flow_table_free(ft);
	T_EQ_I(E.n, N);
	bad = 0;
	for (int i = 0; i < N; i++)
		bad += E.tag[i] != i;		/* all touched in order: ended in order */
	T_EQ_I(bad, 0);
}

int
main(void)
{
	T_RUN(test_flow_both_directions);
	T_RUN(test_flow_family_and_proto_keys);
	T_RUN(test_flow_get_no_create);
	T_RUN(test_flow_end_callback_once);
	T_RUN(test_flow_evict_lru);
	T_RUN(test_flow_expire_idle);
	T_RUN(test_flow_stale_by_packet_clock);
	T_RUN(test_flow_flush);
	T_RUN(test_flow_free_live);
	T_RUN(test_flow_stats);
	T_RUN(test_flow_many);
	T_SUMMARY();
}
