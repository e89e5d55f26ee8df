/*
 * workers.c: --workers N (see workers.h).  The reading thread fills one
 * batch per worker with records (packets, and control records that must
 * keep their place among the packets: clock, source, tick, sync); a full
 * batch goes to its worker's queue.  Owns the threads, the batches and the
 * engines; borrows the rules and the event sink.  Packets are copied into
 * the batches: the reader's buffer is reused as soon as the callback returns.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "capture/decode.h"
#include "parser/hashtab.h"
#include "workers.h"

enum rec_kind { R_PACKET, R_CLOCK, R_SOURCE, R_TICK, R_SYNC, R_QUIT };
enum sync_op { S_RULES, S_STATS, S_FINISH };

/* One record in a batch; a packet's bytes follow it, padded to 8. */
struct rec {
	uint32_t kind;
	int32_t linktype;
	uint32_t caplen, len;
	int64_t ts_sec, ts_usec;
	int64_t arg;		/* R_CLOCK, R_TICK: microseconds; R_SYNC: enum sync_op */
	const void *ptr;	/* R_SOURCE: the name; R_SYNC, S_RULES: the rules */
};

struct batch {
	size_t len;
	uint8_t *buf;		/* WK_BATCH_BYTES */
};

struct worker {
	struct workers *ws;
	struct engine *engine;
	struct ev_out out;	/* builds this worker's events, written to the sink */
	void *crypto_ctx;	/* its own OpenSSL library context (cert_libctx_new) */
	pthread_t thread;
	bool started;
	bool has_sync;		/* m and the two conditions initialised */
	bool running;		/* the thread is up (glibc's start-up calls are done
				   before the sandbox, which refuses some, is entered) */
	struct batch batches[WK_BATCHES + 1];
	struct batch *cur;	/* being filled by the reader; in neither list */

	pthread_mutex_t m;	/* the two lists and the sync counters */
	pthread_cond_t cv_work;	/* the worker waits for a full batch */
	pthread_cond_t cv_space;	/* the reader waits for a free batch or a sync */
	struct batch *full[WK_BATCHES + 1];
	size_t full_head, n_full;
	struct batch *free[WK_BATCHES + 1];
	size_t n_free;
	uint64_t sync_sent, sync_done;
	struct engine_stats stats;	/* S_STATS answer */
};

struct workers {
	size_t n;
	struct engine *single;	/* n == 1: no threads */
	struct worker *w;
	pthread_mutex_t shared_lock;
	bool has_shared_lock;
	bool live_clock;
	int64_t now_us, last_clock_us;	/* the capture clock, as one engine keeps it */
	const char *source;
	bool finished;
	uint64_t seed0, seed1;
};

/* --- the worker thread ------------------------------------------------------- */

static void
handle(struct worker *k, const struct rec *r, const uint8_t *data, bool *quit)
{
	switch ((enum rec_kind)r->kind) {
	case R_PACKET: {
		struct pcap_pkthdr h;
		memset(&h, 0, sizeof(h));
		h.ts.tv_sec = (time_t)r->ts_sec;
		h.ts.tv_usec = (suseconds_t)r->ts_usec;
		h.caplen = r->caplen;
		h.len = r->len;
		engine_packet(k->engine, r->linktype, &h, data);
		break;
	}
	case R_CLOCK:
		engine_clock(k->engine, r->arg);
		break;
	case R_SOURCE:
		engine_set_source(k->engine, r->ptr);
		break;
	case R_TICK:
		engine_tick(k->engine, r->arg);
		break;
	case R_SYNC:
		if (r->arg == S_RULES)
			engine_set_rules(k->engine, r->ptr);
		else if (r->arg == S_FINISH)
			engine_finish(k->engine);
		(void)pthread_mutex_lock(&k->m);
		if (r->arg == S_STATS)
			engine_stats(k->engine, &k->stats);
		k->sync_done++;
		(void)pthread_cond_broadcast(&k->cv_space);
		(void)pthread_mutex_unlock(&k->m);
		break;
	case R_QUIT:
		*quit = true;
		break;
	}
}

static void *
worker_main(void *arg)
{
	struct worker *k = arg;
	bool quit = false;

	(void)pthread_mutex_lock(&k->m);
	k->running = true;
	(void)pthread_cond_broadcast(&k->cv_space);
	(void)pthread_mutex_unlock(&k->m);
	while (!quit) {
		struct batch *b;

		(void)pthread_mutex_lock(&k->m);
		while (k->n_full == 0)
			(void)pthread_cond_wait(&k->cv_work, &k->m);
		b = k->full[k->full_head];
		(void)pthread_mutex_unlock(&k->m);

		for (size_t off = 0; off + sizeof(struct rec) <= b->len && !quit;) {
			struct rec r;
			memcpy(&r, b->buf + off, sizeof(r));
			off += sizeof(r);
			handle(k, &r, b->buf + off, &quit);
			if (r.kind == R_PACKET)
				off += ((size_t)r.caplen + 7) & ~(size_t)7;
		}

		(void)pthread_mutex_lock(&k->m);
		k->full_head = (k->full_head + 1) % (WK_BATCHES + 1);
		k->n_full--;
		b->len = 0;
		k->free[k->n_free++] = b;
		(void)pthread_cond_broadcast(&k->cv_space);
		(void)pthread_mutex_unlock(&k->m);
	}
	return NULL;
}

/* --- the reader's side --------------------------------------------------------- */

/* Queue the batch being filled, if any. */
static void
hand_over(struct worker *k)
{
	if (k->cur == NULL || k->cur->len == 0)
		return;
	(void)pthread_mutex_lock(&k->m);
	k->full[(k->full_head + k->n_full) % (WK_BATCHES + 1)] = k->cur;
	k->n_full++;
	(void)pthread_cond_signal(&k->cv_work);
	(void)pthread_mutex_unlock(&k->m);
	k->cur = NULL;
}

/* Room for size bytes in k's current batch, waiting for a free one if needed. */
static uint8_t *
room(struct worker *k, size_t size)
{
	uint8_t *p;

	if (k->cur != NULL && k->cur->len + size > WK_BATCH_BYTES)
		hand_over(k);
	if (k->cur == NULL) {
		(void)pthread_mutex_lock(&k->m);
		while (k->n_free == 0)
			(void)pthread_cond_wait(&k->cv_space, &k->m);
		k->cur = k->free[--k->n_free];
		(void)pthread_mutex_unlock(&k->m);
		k->cur->len = 0;
	}
	p = k->cur->buf + k->cur->len;
	k->cur->len += size;
	return p;
}

static void
put_rec(struct worker *k, const struct rec *r)
{
	memcpy(room(k, sizeof(*r)), r, sizeof(*r));
}

static void
broadcast(struct workers *ws, const struct rec *r)
{
	for (size_t i = 0; i < ws->n; i++)
		put_rec(&ws->w[i], r);
}

/* Send a sync record to every worker and wait until each has done it. */
static void
sync_all(struct workers *ws, enum sync_op op, const void *ptr)
{
	struct rec r = { .kind = R_SYNC, .arg = op, .ptr = ptr };

	for (size_t i = 0; i < ws->n; i++) {
		struct worker *k = &ws->w[i];
		put_rec(k, &r);
		(void)pthread_mutex_lock(&k->m);
		k->sync_sent++;
		(void)pthread_mutex_unlock(&k->m);
		hand_over(k);
	}
	for (size_t i = 0; i < ws->n; i++) {
		struct worker *k = &ws->w[i];
		(void)pthread_mutex_lock(&k->m);
		while (k->sync_done != k->sync_sent)
			(void)pthread_cond_wait(&k->cv_space, &k->m);
		(void)pthread_mutex_unlock(&k->m);
	}
}

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t
endpoint(const struct workers *ws, const uint8_t ip[16], uint16_t port)
{
	uint64_t a, b;

	memcpy(&a, ip, 8);
	memcpy(&b, ip + 8, 8);
	return mix(a ^ ws->seed0) ^ mix(b ^ ws->seed1 ^ ((uint64_t)port << 48));
}

/*
 * Which worker a packet goes to: both endpoints hashed and added, so the
 * two directions agree; what is not TCP or UDP (only counted) to worker 0.
 */
static size_t
pick(const struct workers *ws, int linktype, const struct pcap_pkthdr *h, const uint8_t *p)
{
	struct pkt pkt = { .ts_us = 0 };
	enum dec_status st = dec_packet(linktype, p, h->caplen < h->len ? h->caplen : h->len, &pkt);

	if (st != DEC_TCP && st != DEC_UDP)
		return 0;
	return (size_t)(mix(endpoint(ws, pkt.src, pkt.sport) + endpoint(ws, pkt.dst, pkt.dport) +
	    pkt.proto) % ws->n);
}

void
wk_packet(struct workers *ws, int linktype, const struct pcap_pkthdr *h, const uint8_t *p)
{
	struct rec r;
	struct worker *k;
	size_t caplen = h->caplen;

	if (ws->single != NULL) {
		engine_packet(ws->single, linktype, h, p);
		return;
	}
	if (caplen > WK_BATCH_BYTES - sizeof(r))	/* never with libpcap's snaplen cap */
		caplen = WK_BATCH_BYTES - sizeof(r);
	if (!ws->live_clock) {
		int64_t ts = engine_capture_time(h);
		if (ts > ws->now_us)
			ws->now_us = ts;
		if (ws->now_us - ws->last_clock_us >= 1000000) {
			struct rec c = { .kind = R_CLOCK, .arg = ws->now_us };
			broadcast(ws, &c);
			ws->last_clock_us = ws->now_us;
		}
	}
	k = &ws->w[pick(ws, linktype, h, p)];
	memset(&r, 0, sizeof(r));
	r.kind = R_PACKET;
	r.linktype = linktype;
	r.caplen = (uint32_t)caplen;
	r.len = h->len;
	r.ts_sec = (int64_t)h->ts.tv_sec;
	r.ts_usec = (int64_t)h->ts.tv_usec;
	uint8_t *dst = room(k, sizeof(r) + ((caplen + 7) & ~(size_t)7));
	memcpy(dst, &r, sizeof(r));
	memcpy(dst + sizeof(r), p, caplen);
}

void
wk_set_source(struct workers *ws, const char *name)
{
	struct rec r = { .kind = R_SOURCE, .ptr = name };

	if (ws->single != NULL) {
		engine_set_source(ws->single, name);
		return;
	}
	if (ws->source == name)
		return;
	ws->source = name;
	broadcast(ws, &r);
}

void
wk_tick(struct workers *ws, int64_t now_us)
{
	struct rec r = { .kind = R_TICK, .arg = now_us };

	if (ws->single != NULL) {
		engine_tick(ws->single, now_us);
		return;
	}
	broadcast(ws, &r);
	wk_flush(ws);
}

void
wk_flush(struct workers *ws)
{
	if (ws->single != NULL)
		return;
	for (size_t i = 0; i < ws->n; i++)
		hand_over(&ws->w[i]);
}

void
wk_set_rules(struct workers *ws, const struct rules *rules)
{
	if (ws->single != NULL)
		engine_set_rules(ws->single, rules);
	else
		sync_all(ws, S_RULES, rules);
}

void
wk_stats(struct workers *ws, struct engine_stats *out)
{
	_Static_assert(sizeof(struct engine_stats) % sizeof(uint64_t) == 0 &&
	    sizeof(size_t) == sizeof(uint64_t), "engine_stats is added up as 64-bit words");

	if (ws->single != NULL) {
		engine_stats(ws->single, out);
		return;
	}
	sync_all(ws, S_STATS, NULL);
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ws->n; i++) {
		uint8_t *sum = (uint8_t *)out;
		const uint8_t *add = (const uint8_t *)&ws->w[i].stats;
		for (size_t off = 0; off < sizeof(*out); off += sizeof(uint64_t)) {
			uint64_t a, b;
			memcpy(&a, sum + off, sizeof(a));
			memcpy(&b, add + off, sizeof(b));
			a += b;
			memcpy(sum + off, &a, sizeof(a));
		}
	}
}

void
wk_finish(struct workers *ws)
{
	if (ws->single != NULL) {
		engine_finish(ws->single);
		return;
	}
	if (!ws->finished)
		sync_all(ws, S_FINISH, NULL);
	ws->finished = true;
}

/* --- life cycle -------------------------------------------------------------------- */

static size_t
share(size_t total, size_t dflt, size_t n)
{
	size_t v = (total ? total : dflt) / n;

	return v > 0 ? v : 1;
}

struct workers *
wk_new(size_t n, const struct engine_cfg *cfg, const struct rules *rules, struct ev_out *out)
{
	struct workers *ws = calloc(1, sizeof(*ws));
	struct engine_cfg c = *cfg;
	sigset_t all, old;

	if (ws == NULL || n == 0 || n > WK_MAX) {
		free(ws);
		return NULL;
	}
	ws->n = n;
	if (n == 1) {
		ws->single = engine_new(cfg, rules, out);
		if (ws->single == NULL) {
			free(ws);
			return NULL;
		}
		return ws;
	}
	ws->live_clock = cfg->live_clock;
	ws->seed0 = ((uint64_t)siphash_key[0] << 56) | siphash(siphash_key, "wk0", 3);
	ws->seed1 = siphash(siphash_key, "wk1", 3);
	ws->has_shared_lock = pthread_mutex_init(&ws->shared_lock, NULL) == 0;
	ws->w = calloc(n, sizeof(*ws->w));
	if (ws->w == NULL || !ws->has_shared_lock)
		goto fail;
	/* the default caps are for the whole process: each engine gets its share */
	c.max_flows = share(cfg->max_flows, FLOW_MAX, n);
	c.memcap = share(cfg->memcap, ENGINE_MEMCAP, n);
	c.cert_cache_max = share(cfg->cert_cache_max, CERT_CACHE_MAX, n);
	c.cert_cache_bytes = share(cfg->cert_cache_bytes, CERT_CACHE_BYTES, n);
	c.shared_lock = &ws->shared_lock;
	for (size_t i = 0; i < n; i++) {
		struct worker *k = &ws->w[i];
		k->ws = ws;
		ev_out_worker(&k->out, out);
		if (pthread_mutex_init(&k->m, NULL) != 0 ||
		    pthread_cond_init(&k->cv_work, NULL) != 0 ||
		    pthread_cond_init(&k->cv_space, NULL) != 0)
			goto fail;
		k->has_sync = true;
		for (size_t j = 0; j < WK_BATCHES + 1; j++) {
			k->batches[j].buf = malloc(WK_BATCH_BYTES);
			if (k->batches[j].buf == NULL)
				goto fail;
			k->free[k->n_free++] = &k->batches[j];
		}
		k->crypto_ctx = cert_libctx_new();	/* NULL: the default one, shared */
		c.crypto_ctx = k->crypto_ctx;
		k->engine = engine_new(&c, rules, &k->out);
		if (k->engine == NULL)
			goto fail;
		if (i == 0)
			c.shared_home = k->engine;	/* one table of alerted findings, one of reported hellos */
	}
	sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	for (size_t i = 0; i < n; i++) {
		struct worker *k = &ws->w[i];
		k->started = pthread_create(&k->thread, NULL, worker_main, k) == 0;
		if (!k->started)
			break;
	}
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (size_t i = 0; i < n; i++)
		if (!ws->w[i].started)
			goto fail;
	for (size_t i = 0; i < n; i++) {
		struct worker *k = &ws->w[i];
		(void)pthread_mutex_lock(&k->m);
		while (!k->running)
			(void)pthread_cond_wait(&k->cv_space, &k->m);
		(void)pthread_mutex_unlock(&k->m);
	}
	return ws;
fail:
	wk_free(ws);
	return NULL;
}

void
wk_free(struct workers *ws)
{
	if (ws == NULL)
		return;
	if (ws->single != NULL) {
		engine_free(ws->single);
		free(ws);
		return;
	}
	if (ws->w != NULL) {
		bool all_started = true;
		for (size_t i = 0; i < ws->n; i++)
			all_started = all_started && ws->w[i].started;
		if (all_started)
			wk_finish(ws);
		for (size_t i = 0; i < ws->n; i++) {
			struct worker *k = &ws->w[i];
			if (k->started) {
				struct rec r = { .kind = R_QUIT };
				put_rec(k, &r);
				hand_over(k);
				(void)pthread_join(k->thread, NULL);
			}
		}
		/* the first engine holds the shared tables: free it last */
		for (size_t i = ws->n; i-- > 0;) {
			struct worker *k = &ws->w[i];
			engine_free(k->engine);		/* its certificates first, */
			cert_libctx_free(k->crypto_ctx);	/* then their library context */
			ev_out_worker_free(&k->out);
			for (size_t j = 0; j < WK_BATCHES + 1; j++)
				free(k->batches[j].buf);
			if (k->has_sync) {
				pthread_mutex_destroy(&k->m);
				pthread_cond_destroy(&k->cv_work);
				pthread_cond_destroy(&k->cv_space);
			}
		}
		free(ws->w);
	}
	if (ws->has_shared_lock)
		pthread_mutex_destroy(&ws->shared_lock);
	free(ws);
}
