/*
 * flow.c: flow table with LRU order, idle expiry and a hard cap.
 *
 * Distrusts: the tuples (attacker-chosen; the table hashes them with a keyed
 * SipHash, see parser/hashtab.h).  Owns: struct flow and its reassembly
 * windows; flow->app belongs to the end callback.
 */
#include <stdlib.h>
#include <string.h>

#include "flow.h"

struct flow_table {
	struct flow *table;		/* uthash by key */
	struct flow *lru_head, *lru_tail;
	size_t max;
	int64_t idle_us;
	size_t reasm_max;
	struct memcap *mem;
	struct reasm_stats *rst;
	flow_end_cb on_end;
	void *ctx;
	struct flow_stats st;
};

struct flow_table *
flow_table_new(size_t max, unsigned idle_s, size_t reasm_max, struct memcap *mem,
    struct reasm_stats *rst, flow_end_cb on_end, void *ctx)
{
	struct flow_table *ft = calloc(1, sizeof(*ft));

	if (ft == NULL)
		return NULL;
	ft->max = max ? max : FLOW_MAX;
	ft->idle_us = (int64_t)(idle_s ? idle_s : FLOW_IDLE_S) * 1000000;
	ft->reasm_max = reasm_max;
	ft->mem = mem;
	ft->rst = rst;
	ft->on_end = on_end;
	ft->ctx = ctx;
	return ft;
}

static void
lru_unlink(struct flow_table *ft, struct flow *f)
{
	if (f->lru_prev)
		f->lru_prev->lru_next = f->lru_next;
	else
		ft->lru_head = f->lru_next;
	if (f->lru_next)
		f->lru_next->lru_prev = f->lru_prev;
	else
		ft->lru_tail = f->lru_prev;
	f->lru_prev = f->lru_next = NULL;
}

static void
lru_append(struct flow_table *ft, struct flow *f)
{
	f->lru_prev = ft->lru_tail;
	f->lru_next = NULL;
	if (ft->lru_tail)
		ft->lru_tail->lru_next = f;
	else
		ft->lru_head = f;
	ft->lru_tail = f;
}

void
flow_end(struct flow_table *ft, struct flow *f, enum flow_end why)
{
	if (ft->on_end)
		ft->on_end(ft->ctx, f, why);
	ft->st.n_ended[why]++;
	ft->st.n_active--;
	lru_unlink(ft, f);
	HASH_DEL(ft->table, f);	/* NOLINT(clang-analyzer-core.NullDereference): uthash's
				   table pointer is non-NULL while it holds f */
	reasm_free(&f->rs[0]);
	reasm_free(&f->rs[1]);
	free(f);
}

void
flow_table_flush(struct flow_table *ft, enum flow_end why)
{
	while (ft->lru_head != NULL)
		flow_end(ft, ft->lru_head, why);
}

void
flow_table_free(struct flow_table *ft)
{
	if (ft == NULL)
		return;
	flow_table_flush(ft, FLOW_END_EOF);
	free(ft);
}

/* Order endpoints so both directions of a connection share one key. */
static int
make_key(const struct pkt *pkt, struct flow_key *k)
{
	int c = memcmp(pkt->src, pkt->dst, sizeof(pkt->src));
	int dir = c < 0 || (c == 0 && pkt->sport <= pkt->dport) ? 0 : 1;

	memset(k, 0, sizeof(*k));		/* uthash compares the bytes */
	k->family = pkt->family;
	k->proto = pkt->proto;
	memcpy(k->addr_lo, dir == 0 ? pkt->src : pkt->dst, sizeof(k->addr_lo));
	memcpy(k->addr_hi, dir == 0 ? pkt->dst : pkt->src, sizeof(k->addr_hi));
	k->port_lo = dir == 0 ? pkt->sport : pkt->dport;
	k->port_hi = dir == 0 ? pkt->dport : pkt->sport;
	return dir;
}

struct flow *
flow_get(struct flow_table *ft, const struct pkt *pkt, bool create, int *dir)
{
	struct flow_key k;
	struct flow *f = NULL;

	*dir = make_key(pkt, &k);
	HASH_FIND(hh, ft->table, &k, sizeof(k), f);
	if (f != NULL && llabs(pkt->ts_us - f->last_us) > ft->idle_us) {
		/*
		 * Idle for longer than the timeout by this packet's own clock: a
		 * new connection on the same addresses and ports.  Checked here
		 * as well as by flow_expire(), because capture time need not move
		 * forward (files out of order, a clock stepped back).
		 */
		flow_end(ft, f, FLOW_END_IDLE);
		f = NULL;
	}
	if (f != NULL) {
		if (pkt->ts_us > f->last_us)
			f->last_us = pkt->ts_us;
		if (ft->lru_tail != f) {
			lru_unlink(ft, f);
			lru_append(ft, f);
		}
		return f;
	}
	if (!create)
		return NULL;
	if (ft->st.n_active >= ft->max && ft->lru_head != NULL)
		flow_end(ft, ft->lru_head, FLOW_END_EVICTED);
	f = calloc(1, sizeof(*f));
	if (f == NULL) {
		ft->st.n_nomem++;
		return NULL;
	}
	f->key = k;
	f->first_us = f->last_us = pkt->ts_us;
	f->client_hint = -1;
	reasm_init(&f->rs[0], ft->reasm_max, ft->mem, ft->rst);
	reasm_init(&f->rs[1], ft->reasm_max, ft->mem, ft->rst);
	hashtab_oom = 0;
	HASH_ADD(hh, ft->table, key, sizeof(f->key), f);
	if (hashtab_oom) {
		free(f);
		ft->st.n_nomem++;
		return NULL;
	}
	lru_append(ft, f);
	ft->st.n_created++;
	if (++ft->st.n_active > ft->st.n_peak)
		ft->st.n_peak = ft->st.n_active;
	return f;
}

void
flow_expire(struct flow_table *ft, int64_t now_us)
{
	/* flow_end() unlinks the head before freeing it: each read is a live flow */
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	while (ft->lru_head != NULL && now_us - ft->lru_head->last_us > ft->idle_us)
		flow_end(ft, ft->lru_head, FLOW_END_IDLE);
}

void
flow_table_stats(const struct flow_table *ft, struct flow_stats *out)
{
	*out = ft->st;
}

const char *
flow_end_str(enum flow_end why)
{
	switch (why) {
	case FLOW_END_FIN:	return "fin";
	case FLOW_END_RST:	return "rst";
	case FLOW_END_IDLE:	return "idle";
	case FLOW_END_EVICTED:	return "evicted";
	case FLOW_END_EOF:	return "end-of-capture";
	case FLOW_END_REUSED:	return "reused";
	case FLOW_END_N:	break;
	}
	return "?";
}

const uint8_t *
flow_src_addr(const struct flow *f, int dir)
{
	return dir == 0 ? f->key.addr_lo : f->key.addr_hi;
}

uint16_t
flow_src_port(const struct flow *f, int dir)
{
	return dir == 0 ? f->key.port_lo : f->key.port_hi;
}
