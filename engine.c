/*
 * engine.c: from captured frames to handshake and alert events.
 *
 * Distrusts: every packet.  Nothing here ends the process: a packet that
 * cannot be used is counted and skipped, a direction that cannot be parsed
 * is given up (counted by reason) and whatever was seen is still reported.
 * Owns: the flow table, each flow's session (hung on flow->app), the
 * certificate cache and the memory budget.
 */
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "parser/dtls.h"
#include "parser/pstat.h"
#include "parser/quic.h"
#include "parser/starttls.h"
#include "parser/tls_fp.h"
#include "parser/tls_hs.h"
#include "parser/tls_record.h"

struct session;

/* What a reassembly sink needs to know: whose stream, which direction. */
struct dir_ctx {
	struct session *s;
	int dir;
};

/* What carries the handshake. */
enum sess_kind {
	SESS_TLS,		/* TLS records over TCP */
	SESS_DTLS,		/* DTLS records in UDP datagrams */
	SESS_QUIC,		/* TLS messages in QUIC Initial packets */
};

/* The QUIC side of a session, allocated only for QUIC flows. */
struct quic_state {
	struct quic_conn conn;
	bool sent_1rtt[2];	/* direction d sent a short-header (1-RTT) packet */
	bool stopped[2];
};

/* Per-flow TLS state: the streams and what the hellos and chain said. */
struct session {
	/* where it lives and what carries it */
	struct engine *e;
	struct flow *f;
	struct dir_ctx ctx[2];
	struct tls_stream tls[2];	/* SESS_TLS */
	struct dtls_stream *dtls;	/* SESS_DTLS: [2], allocated for those only */
	struct quic_state *quic;	/* SESS_QUIC */
	enum sess_kind kind;
	uint32_t quic_version;
	int client_dir;			/* -1 until a SYN or a hello tells */
	int problem[2];			/* first give-up reason per direction, or -1 */

	/* cleartext before TLS (STARTTLS and the like) */
	uint8_t *pre[2];		/* the first STARTTLS_KEEP cleartext bytes per
					   direction, while no TLS record was seen */
	uint64_t fed[2];		/* stream bytes given to tls[d] */
	const char *upgraded_from;	/* the protocol's name */
	uint16_t pre_len[2];

	/* what the handshake said */
	int64_t ts_us;			/* first handshake message */
	const char *source;		/* capture or interface it came from (borrowed) */
	struct tls_client_hello *ch;	/* last ClientHello */
	struct tls_server_hello *sh;	/* last ServerHello */
	struct cert_info *chain[TLS_CERTS_MAX];	/* references into the cache */
	size_t chain_len, chain_total;
	struct cert_info *client_leaf;	/* mutual TLS: the client's own certificate */
	struct cert_ocsp *ocsp;		/* the server's stapled OCSP response */
	const char *cut_short;		/* the flow ended before the handshake did */
	const char *anomalies[EV_ANOMALIES_MAX];
	unsigned n_anomalies;
	unsigned n_ch;
	bool client_from_tls;		/* client_dir came from a TLS message */
	bool roles_inferred;
	bool tls_seen;			/* a handshake message was read: report it */
	bool sni_usable;		/* the SNI is a host name, not an address or junk */
	bool hrr;
	bool hvr;			/* DTLS HelloVerifyRequest (a cookie exchange) */
	bool cert_seen;
	bool cert_unreadable;		/* the server's Certificate could not be read */
	bool client_cert;
};

/* Text of the fingerprints, for the event: JA3/JA3S strings can be kilobytes. */
struct fp_text {
	char ja3[33], ja3s[33], ja4[37];
	char ja3_string[TLS_FP_STR_MAX], ja3s_string[TLS_FP_STR_MAX], ja4_r[TLS_FP_STR_MAX];
};

/* A finding that alerted: (block, SNI, leaf, reason) and when. */
struct alert_seen {
	uint8_t key[32];
	int64_t last_us;
	uint64_t repeats;		/* suppressed since last_us */
	bool used;
	UT_hash_handle hh;
};

/* A handshake already reported, by its ClientHello (or ServerHello) random. */
struct seen {
	uint8_t random[32];
	int64_t at;
	UT_hash_handle hh;
};

struct engine {
	struct engine_cfg cfg;
	const struct rules *rules;
	struct ev_out *out;
	struct flow_table *flows;
	struct cert_cache *certs;
	struct memcap mem;
	struct reasm_stats rst;
	struct engine_stats st;
	int64_t now_us;			/* the flow clock: capture time, or the tick's */
	const char *source;		/* current capture's name */
	int64_t pkt_us;			/* capture time of the packet at hand */
	struct seen *seen_table;	/* uthash over seen_ring */
	struct seen seen_ring[ENGINE_DEDUP_MAX];
	size_t seen_next;
	int64_t last_expire_us;
	struct fp_text fp;		/* emit()'s scratch: too big for the stack */
	struct judgement jd;		/* emit()'s too */
	struct memcap evmem;		/* --evidence packet logs: a quarter of the budget,
					   apart, so evidence never costs a handshake */
	int cur_linktype;		/* the packet at hand, for the logs */
	const struct pcap_pkthdr *cur_h;
	const uint8_t *cur_p;
	char evidence_path[4200];	/* emit()'s: a directory given by the user, a name */
	struct alert_seen *alerts_table;	/* uthash over alerts_ring */
	struct alert_seen *alerts_ring;	/* ENGINE_ALERT_KEYS_MAX, calloc'd on first use */
	size_t alerts_next;
};

static void on_flow_end(void *ctx, struct flow *f, enum flow_end why);

struct engine *
engine_new(const struct engine_cfg *cfg, const struct rules *rules, struct ev_out *out)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	if (cfg != NULL)
		e->cfg = *cfg;
	e->rules = rules;
	e->out = out;
	e->mem.limit = e->cfg.memcap ? e->cfg.memcap : ENGINE_MEMCAP;
	if (e->cfg.evidence != NULL) {		/* a quarter of the budget, set apart */
		e->evmem.limit = e->mem.limit / 4;
		e->mem.limit -= e->evmem.limit;
	}
	e->flows = flow_table_new(e->cfg.max_flows, e->cfg.idle_s, e->cfg.reasm_max, &e->mem,
	    &e->rst, on_flow_end, e);
	e->certs = cert_cache_new(e->cfg.cert_cache_max, e->cfg.cert_cache_bytes, &e->mem);
	if (e->certs != NULL)
		cert_cache_set_libctx(e->certs, e->cfg.crypto_ctx);
	if (e->flows == NULL || e->certs == NULL) {
		engine_free(e);
		return NULL;
	}
	return e;
}

/* --- sessions ------------------------------------------------------------ */

static struct session *
session_new(struct engine *e, struct flow *f)
{
	struct session *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->e = e;
	s->f = f;
	s->client_dir = -1;
	for (int d = 0; d < 2; d++) {
		s->ctx[d].s = s;
		s->ctx[d].dir = d;
		tls_stream_init(&s->tls[d], &e->mem);
		if (e->cfg.hs_max)
			s->tls[d].hs_max = e->cfg.hs_max;
		s->problem[d] = -1;
	}
	return s;
}

/*
 * Hello structs are a few kilobytes each and a sender can leave thousands of
 * handshakes half done, so they are charged to the memory budget.
 */
static void *
hello_alloc(struct session *s, size_t n)
{
	void *p;

	if (!memcap_take(&s->e->mem, n))
		return NULL;
	p = malloc(n);
	if (p == NULL)
		memcap_give(&s->e->mem, n);
	return p;
}

static void
hello_free(struct session *s, void *p, size_t n)
{
	if (p != NULL) {
		free(p);
		memcap_give(&s->e->mem, n);
	}
}

static void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	for (int d = 0; d < 2; d++) {
		tls_stream_free(&s->tls[d]);
		hello_free(s, s->pre[d], STARTTLS_KEEP);
	}
	if (s->quic != NULL) {
		quic_conn_free(&s->quic->conn);
		hello_free(s, s->quic, sizeof(*s->quic));
	}
	if (s->dtls != NULL) {
		dtls_stream_free(&s->dtls[0]);
		dtls_stream_free(&s->dtls[1]);
		hello_free(s, s->dtls, 2 * sizeof(*s->dtls));
	}
	for (size_t i = 0; i < s->chain_len; i++)
		cert_put(s->e->certs, s->chain[i]);
	cert_put(s->e->certs, s->client_leaf);
	hello_free(s, s->ch, sizeof(*s->ch));
	hello_free(s, s->sh, sizeof(*s->sh));
	hello_free(s, s->ocsp, sizeof(*s->ocsp));
	free(s);
}

/* --- one direction, whatever carries it ------------------------------------ */

/* Stop reading direction d: nothing more in it is worth parsing. */
static void
dir_stop(struct session *s, int d)
{
	switch (s->kind) {
	case SESS_TLS:
		tls_stream_stop(&s->tls[d], TLS_STOP_CALLER);
		break;
	case SESS_DTLS:
		dtls_stream_stop(&s->dtls[d], DTLS_STOP_CALLER);
		break;
	case SESS_QUIC:
		s->quic->stopped[d] = true;
		break;
	}
}

static bool
dir_stopped(const struct session *s, int d)
{
	switch (s->kind) {
	case SESS_TLS:	return tls_stream_stopped(&s->tls[d]);
	case SESS_DTLS:	return dtls_stream_stopped(&s->dtls[d]);
	case SESS_QUIC:	return s->quic->stopped[d];
	}
	return true;
}

/* Did direction d move on to encrypted data (its sender accepted the handshake)? */
static bool
dir_encrypted(const struct session *s, int d)
{
	switch (s->kind) {
	case SESS_TLS:
		return s->tls[d].stop == TLS_STOP_CCS || s->tls[d].stop == TLS_STOP_APPDATA;
	case SESS_DTLS:
		return dtls_stop_is_encrypted((enum dtls_stop)s->dtls[d].stop);
	case SESS_QUIC:
		return s->quic->sent_1rtt[d];
	}
	return false;
}

/* Did direction d send a ChangeCipherSpec (TLS and DTLS up to 1.2)? */
static bool
dir_sent_ccs(const struct session *s, int d)
{
	switch (s->kind) {
	case SESS_TLS:	return s->tls[d].stop == TLS_STOP_CCS;
	case SESS_DTLS:	return s->dtls[d].stop == DTLS_STOP_CCS;
	case SESS_QUIC:	return false;
	}
	return false;
}

static bool
dir_alerted(const struct session *s, int d)
{
	switch (s->kind) {
	case SESS_TLS:	return s->tls[d].stop == TLS_STOP_ALERT;
	case SESS_DTLS:	return s->dtls[d].stop == DTLS_STOP_ALERT;
	case SESS_QUIC:	return false;
	}
	return false;
}

static void
anomaly(struct session *s, const char *what)
{
	for (unsigned i = 0; i < s->n_anomalies; i++)
		if (strcmp(s->anomalies[i], what) == 0)
			return;
	if (s->n_anomalies < EV_ANOMALIES_MAX)
		s->anomalies[s->n_anomalies++] = what;
}

static void
hello_flags(struct session *s, unsigned flags)
{
	if (flags & TLS_HF_BAD_EXT)
		anomaly(s, "malformed-extension");
	if (flags & TLS_HF_DUP_EXT)
		anomaly(s, "duplicate-extension");
	if (flags & TLS_HF_TRUNC_LIST)
		anomaly(s, "list-over-cap");
	if (flags & TLS_HF_TRUNC_ALPN)
		anomaly(s, "alpn-over-cap");
	if (flags & TLS_HF_BAD_SNI)
		anomaly(s, "sni-not-a-hostname");
}

/* Record the first reason a direction could not be followed. */
static void
give_up(struct session *s, int dir, enum engine_giveup why)
{
	if (s->problem[dir] < 0)
		s->problem[dir] = (int)why;
}

static enum engine_giveup
giveup_of_pstat(int st)
{
	switch (st) {
	case P_LIMIT:	return GIVEUP_LIMIT;
	case P_NOMEM:	return GIVEUP_MEMORY;
	default:	return GIVEUP_MALFORMED;
	}
}

static void
set_client(struct session *s, int dir, bool from_tls)
{
	if (s->client_from_tls && !from_tls)
		return;
	if (s->client_from_tls && s->client_dir != dir) {
		anomaly(s, "roles-changed");
		return;			/* the first hello decided */
	}
	s->client_dir = dir;
	s->client_from_tls = from_tls;
}

static void
first_seen(struct session *s, const struct flow *f)
{
	if (!s->tls_seen) {
		s->tls_seen = true;
		s->ts_us = s->e->pkt_us;	/* the capture's time, whatever the flow clock */
		s->source = s->e->source;
	}
}

/* RFC 6066 s3 forbids literal addresses in SNI; some clients send them. */
static bool
sni_is_address(const struct tls_client_hello *ch)
{
	uint8_t addr[16];

	if (strlen(ch->sni) != ch->sni_len)
		return false;
	return inet_pton(AF_INET, ch->sni, addr) == 1 || inet_pton(AF_INET6, ch->sni, addr) == 1;
}

/* --- handshake messages -------------------------------------------------- */

static void name_upgrade(struct session *s);

static void
on_client_hello(struct session *s, int dir, const struct tls_msg *m)
{
	struct tls_client_hello tmp, *ch;
	int st;

	/* parse aside: a bad second hello (after a HelloRetryRequest) must
	 * not lose the first */
	st = m->is_sslv2 ? tls_hs_sslv2_client_hello(m->body, m->len, &tmp) :
	    tls_hs_client_hello(m->body, m->len, &tmp);
	if (st != P_OK) {
		anomaly(s, "malformed-client-hello");
		give_up(s, dir, GIVEUP_MALFORMED);
		dir_stop(s, dir);
		return;
	}
	ch = s->ch ? s->ch : hello_alloc(s, sizeof(*ch));
	if (ch == NULL) {
		anomaly(s, "memory-budget");
		give_up(s, dir, GIVEUP_MEMORY);
		return;
	}
	*ch = tmp;
	s->ch = ch;
	first_seen(s, s->f);
	s->n_ch++;
	set_client(s, dir, true);
	hello_flags(s, ch->flags);
	s->sni_usable = ch->has_sni && !(ch->flags & TLS_HF_BAD_SNI);
	if (ch->has_sni && sni_is_address(ch)) {
		anomaly(s, "sni-is-an-address");
		s->sni_usable = false;
	}
	for (unsigned i = 0; i < ch->n_versions; i++)	/* TLS 1.3 offered: CCS is a no-op */
		if (tls_version_is_13(ch->versions[i]))
			s->tls[dir].ccs_is_compat = true;
	if (s->kind == SESS_TLS)
		name_upgrade(s);
}

static void add_chain(struct session *s, const struct tls_cert_list *cl);

static void
on_server_hello(struct session *s, int dir, const struct tls_msg *m)
{
	struct tls_server_hello tmp, *sh;
	struct tls_cert_list cl = { .n = 0, .n_total = 0 };
	int st;

	st = m->is_sslv2 ? tls_hs_sslv2_server_hello(m->body, m->len, &tmp, &cl) :
	    tls_hs_server_hello(m->body, m->len, &tmp);
	if (st != P_OK) {
		anomaly(s, "malformed-server-hello");
		give_up(s, dir, GIVEUP_MALFORMED);
		dir_stop(s, dir);
		return;
	}
	sh = s->sh ? s->sh : hello_alloc(s, sizeof(*sh));
	if (sh == NULL) {
		anomaly(s, "memory-budget");
		give_up(s, dir, GIVEUP_MEMORY);
		return;
	}
	*sh = tmp;
	s->sh = sh;
	first_seen(s, s->f);
	set_client(s, !dir, true);
	hello_flags(s, sh->flags);
	if (sh->is_sslv2) {			/* the certificate rides in the hello */
		if (cl.n_total > 0)
			add_chain(s, &cl);
		return;
	}
	if (sh->is_hrr) {			/* a second ClientHello follows */
		s->hrr = true;
		s->tls[dir].ccs_is_compat = true;
		return;
	}
	if (tls_version_is_13(sh->version)) {
		/* everything after the ServerHello is encrypted */
		dir_stop(s, dir);
		return;
	}
	s->tls[!dir].ccs_is_compat = false;	/* TLS <= 1.2: the client's CCS is real */
	s->tls[dir].ccs_is_compat = false;
}

/* --store-certs: the certificate as PEM, named by the SHA-256 of its DER. */
static bool
store_cert(struct evstore *st, const struct cert_info *ci, const uint8_t *der, size_t len)
{
	char name[EVIDENCE_NAME_MAX];
	size_t cap = len / 48 * 66 + 200, n;
	char *pem = malloc(cap);
	int rc = -1;

	if (pem == NULL)
		return false;
	for (size_t k = 0; k < 32; k++)
		snprintf(name + 2 * k, 3, "%02x", ci->sha256[k]);
	snprintf(name + 64, sizeof(name) - 64, ".pem");
	if ((n = evidence_pem(der, len, pem, cap)) > 0)
		rc = evstore_put(st, name, &(struct evpiece){ pem, n }, 1);
	free(pem);
	return rc == 0;
}

/* Take references to the server's certificates, leaf first. */
static void
add_chain(struct session *s, const struct tls_cert_list *cl)
{
	if (s->cert_seen) {			/* the first chain is the one judged */
		anomaly(s, "second-server-certificate");
		return;
	}
	s->cert_seen = true;
	s->chain_total = cl->n_total;
	if (cl->n_total > cl->n)
		anomaly(s, "chain-over-cap");
	for (size_t i = 0; i < cl->n && s->chain_len < TLS_CERTS_MAX; i++) {
		struct cert_info *ci = cert_get(s->e->certs, cl->der[i].p, cl->der[i].len);
		if (ci == NULL)
			continue;
		s->chain[s->chain_len++] = ci;
		s->e->st.n_certs++;
		if (s->e->cfg.cert_store != NULL && !ci->stored)
			ci->stored = store_cert(s->e->cfg.cert_store, ci, cl->der[i].p, cl->der[i].len);
	}
}

/* Mutual TLS: keep the client's leaf (an empty list means it declined). */
static void
on_client_certificate(struct session *s, const struct tls_msg *m)
{
	struct tls_cert_list cl;

	if (tls_hs_certificate(m->body, m->len, &cl) != P_OK) {
		anomaly(s, "malformed-client-certificate");
		return;
	}
	if (cl.n == 0 || s->client_leaf != NULL)
		return;
	s->client_cert = true;
	s->client_leaf = cert_get(s->e->certs, cl.der[0].p, cl.der[0].len);
}

/* A stapled OCSP response (CertificateStatus, TLS <= 1.2). */
static void
on_certificate_status(struct session *s, int dir, const struct tls_msg *m)
{
	struct tls_der der;
	struct cert_ocsp *o;

	if (s->client_dir == dir || s->ocsp != NULL)
		return;
	if (tls_hs_certificate_status(m->body, m->len, &der) != P_OK || der.len == 0) {
		anomaly(s, "malformed-certificate-status");
		return;
	}
	o = hello_alloc(s, sizeof(*o));
	if (o == NULL) {
		anomaly(s, "memory-budget");
		return;
	}
	if (!cert_ocsp_parse(der.p, der.len, o)) {
		hello_free(s, o, sizeof(*o));
		anomaly(s, "malformed-ocsp-response");
		return;
	}
	s->ocsp = o;
}

static void
on_certificate(struct session *s, int dir, const struct tls_msg *m)
{
	struct tls_cert_list cl;

	if (s->client_dir == dir) {		/* mutual TLS: the client's own */
		on_client_certificate(s, m);
		return;
	}
	if (s->ch == NULL && s->sh == NULL && s->tls[dir].preamble_len > 0) {
		/*
		 * A Certificate found by scanning cleartext, with no hello on
		 * either side, is as likely a file in an HTTP body or a mail
		 * as a handshake: believing it would let any download raise
		 * an alert.  (A capture that starts on a record boundary
		 * mid-handshake needs no scan and is still read.)
		 */
		anomaly(s, "certificate-without-hello");
		dir_stop(s, dir);
		return;
	}
	if (tls_hs_certificate(m->body, m->len, &cl) != P_OK) {
		s->cert_unreadable = true;
		anomaly(s, "malformed-certificate-message");
		give_up(s, dir, GIVEUP_MALFORMED);
		dir_stop(s, dir);
		return;
	}
	first_seen(s, s->f);
	if (s->client_dir < 0) {
		/* neither a hello nor a SYN said who is who: the sender of a
		 * certificate is taken to be the server */
		s->roles_inferred = true;
		set_client(s, !dir, true);
	}
	add_chain(s, &cl);
}

static void
on_message(struct session *s, int dir, const struct tls_msg *m)
{
	if (!m->kept)
		return;
	if (m->is_sslv2) {
		if (m->type == SSL2_MT_CLIENT_HELLO)
			on_client_hello(s, dir, m);
		else if (m->type == SSL2_MT_SERVER_HELLO)
			on_server_hello(s, dir, m);
		return;
	}
	switch (m->type) {
	case TLS_HS_CLIENT_HELLO:
		on_client_hello(s, dir, m);
		break;
	case TLS_HS_SERVER_HELLO:
		on_server_hello(s, dir, m);
		break;
	case TLS_HS_CERTIFICATE:
		on_certificate(s, dir, m);
		break;
	case TLS_HS_CERTIFICATE_STATUS:
		on_certificate_status(s, dir, m);
		break;
	case DTLS_HS_HELLO_VERIFY_REQUEST:
		if (s->kind == SESS_DTLS) {	/* the server asks the client to prove its address */
			s->hvr = true;
			set_client(s, !dir, true);
		}
		break;
	default:
		break;
	}
}

/*
 * A connection that starts in cleartext (STARTTLS and the like): keep the
 * first bytes of each side until TLS starts, to name the protocol.  A side
 * that starts with a TLS record (or an SSL 2.0 header) costs nothing.
 */
static void
keep_cleartext(struct session *s, int d, const uint8_t *p, size_t len)
{
	size_t n;

	if (s->fed[d] == 0 && len > 0 && (p[0] == TLS_CT_HANDSHAKE || (p[0] & 0x80)))
		s->fed[d] = 1;			/* not a preamble: never kept */
	else if (s->fed[d] == 0 && len > 0)
		s->pre[d] = hello_alloc(s, STARTTLS_KEEP);
	s->fed[d] += len;
	if (s->pre[d] == NULL || tls_stream_is_tls(&s->tls[d]) || s->pre_len[d] >= STARTTLS_KEEP)
		return;
	n = (size_t)STARTTLS_KEEP - s->pre_len[d];
	if (n > len)
		n = len;
	memcpy(s->pre[d] + s->pre_len[d], p, n);
	s->pre_len[d] = (uint16_t)(s->pre_len[d] + n);
}

/*
 * Once the client's TLS has started, name what came before it and let the
 * kept bytes go.  Only what the scanner counted as preamble is looked at.
 */
static void
name_upgrade(struct session *s)
{
	int c = s->client_dir;
	size_t cl, sl;

	if (c < 0 || s->upgraded_from != NULL || (s->pre[0] == NULL && s->pre[1] == NULL))
		return;
	cl = s->pre[c] ? (s->tls[c].preamble_len < s->pre_len[c] ? s->tls[c].preamble_len : s->pre_len[c]) : 0;
	sl = s->pre[!c] ? (s->tls[!c].preamble_len < s->pre_len[!c] ? s->tls[!c].preamble_len :
	    s->pre_len[!c]) : 0;
	s->upgraded_from = starttls_protocol(s->pre[c], cl, s->pre[!c], sl);
	for (int d = 0; d < 2; d++) {
		hello_free(s, s->pre[d], STARTTLS_KEEP);
		s->pre[d] = NULL;
	}
}

/* Reassembly sink: feed in-order bytes of one direction to its TLS stream. */
static bool
on_bytes(void *ctx, const uint8_t *p, size_t len)
{
	struct dir_ctx *dc = ctx;
	struct session *s = dc->s;
	struct tls_stream *ts = &s->tls[dc->dir];
	struct tls_msg m;

	if (p == NULL) {			/* a hole: lost bytes */
		if (!tls_stream_stopped(ts)) {
			give_up(s, dc->dir, GIVEUP_GAP);
			anomaly(s, "missing-segments");
			tls_stream_resync(ts);
		}
		return !tls_stream_stopped(ts);
	}
	keep_cleartext(s, dc->dir, p, len);
	while (len > 0 && !tls_stream_stopped(ts)) {
		int n = tls_feed(ts, p, len, &m);
		if (n < 0) {
			/* a server certificate too big (or too costly) to read hides
			 * the issuer: that must not look like "nothing to judge" */
			if (n != P_BAD && ts->msg_type == TLS_HS_CERTIFICATE && ts->mhdr_len == 4 &&
			    s->client_dir != dc->dir)
				s->cert_unreadable = true;
			give_up(s, dc->dir, giveup_of_pstat(n));
			anomaly(s, n == P_BAD ? "malformed-record" : pstat_str(n));
			break;
		}
		if (m.type != 0)
			on_message(s, dc->dir, &m);
		p += n;
		len -= (size_t)n;
	}
	return !tls_stream_stopped(ts);
}

/* --- judging and reporting ---------------------------------------------- */

static const char *
incomplete_str(int dir_is_server, int why)
{
	static const char *const txt[2][GIVEUP_N] = {
		{ "client: missing segments", "client: malformed", "client: over size cap",
		  "client: out of memory", "client: flow table full" },
		{ "server: missing segments", "server: malformed", "server: over size cap",
		  "server: out of memory", "server: flow table full" },
	};

	return txt[dir_is_server ? 1 : 0][why];
}

/* How a resumed session was resumed: by a ticket, an echoed session id, a PSK. */
static const char *
resumed_with(const struct session *s, bool tls13)
{
	if (tls13)
		return "psk";
	if (s->ch != NULL && s->ch->has_ticket)
		return "ticket";		/* RFC 5077 s3.4: the id echo only signals it */
	return "session-id";
}

static void
fingerprints(const struct session *s, struct ev_handshake *hs, struct fp_text *fp)
{
	enum tls_fp_transport t = s->kind == SESS_QUIC ? TLS_FP_QUIC :
	    s->kind == SESS_DTLS ? TLS_FP_DTLS : TLS_FP_TCP;

	if (s->ch != NULL && tls_ja3(s->ch, fp->ja3_string, sizeof(fp->ja3_string), fp->ja3)) {
		hs->ja3 = fp->ja3;
		hs->ja3_string = fp->ja3_string;
	}
	if (s->ch != NULL && tls_ja4(s->ch, t, fp->ja4, fp->ja4_r, sizeof(fp->ja4_r))) {
		hs->ja4 = fp->ja4;
		hs->ja4_r = fp->ja4_r;
	}
	if (s->sh != NULL && tls_ja3s(s->sh, fp->ja3s_string, sizeof(fp->ja3s_string), fp->ja3s)) {
		hs->ja3s = fp->ja3s;
		hs->ja3s_string = fp->ja3s_string;
	}
}

/* The finding key alerted at ts_us: a repeat within interval, or a new alert. */
static bool
alert_seen_update(struct engine *home, const uint8_t key[32], int64_t ts_us, int64_t interval,
    uint64_t *repeats)
{
	struct alert_seen *x = NULL;

	HASH_FIND(hh, home->alerts_table, key, 32, x);
	if (x != NULL && ts_us - x->last_us < interval * 1000000 && ts_us >= x->last_us) {
		x->repeats++;
		return true;
	}
	if (x == NULL) {
		if (home->alerts_ring == NULL &&
		    (home->alerts_ring = calloc(ENGINE_ALERT_KEYS_MAX,
		    sizeof(*home->alerts_ring))) == NULL)
			return false;
		x = &home->alerts_ring[home->alerts_next];	/* reuse the oldest slot */
		home->alerts_next = (home->alerts_next + 1) % ENGINE_ALERT_KEYS_MAX;
		if (x->used)
			HASH_DEL(home->alerts_table, x);
		memset(x, 0, sizeof(*x));
		memcpy(x->key, key, 32);
		hashtab_oom = 0;
		HASH_ADD(hh, home->alerts_table, key, sizeof(x->key), x);
		x->used = !hashtab_oom;
	}
	*repeats = x->repeats;
	x->repeats = 0;
	x->last_us = ts_us;
	return false;
}

/*
 * The same finding (block, SNI, leaf, reason) alerts once per alert
 * interval of capture time; the repeats in between are counted and the next
 * alert says how many there were.
 */
static bool
alert_repeated(struct engine *e, const struct ev_handshake *hs, const struct judge_finding *f,
    uint64_t *repeats)
{
	int64_t interval = e->cfg.alert_interval_s ? e->cfg.alert_interval_s : ENGINE_ALERT_INTERVAL;
	const struct judgement *j = hs->j;
	uint8_t key[32];
	bool rep;
	uint32_t r = (uint32_t)f->reason;
	EVP_MD_CTX *md;
	unsigned int len = 0;

	*repeats = 0;
	if (interval < 0)
		return false;
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return false;
	}
	if (f->by_rule)
		(void)EVP_DigestUpdate(md, j->rule->name, strlen(j->rule->name) + 1);
	if (hs->ch != NULL && hs->ch->has_sni)
		(void)EVP_DigestUpdate(md, hs->ch->sni, hs->ch->sni_len);
	(void)EVP_DigestUpdate(md, "\n", 1);
	if (hs->chain_len > 0)
		(void)EVP_DigestUpdate(md, hs->chain[0]->sha256, 32);
	(void)EVP_DigestUpdate(md, &r, sizeof(r));
	(void)EVP_DigestFinal_ex(md, key, &len);
	EVP_MD_CTX_free(md);

	if (e->cfg.shared_lock != NULL)
		(void)pthread_mutex_lock(e->cfg.shared_lock);
	rep = alert_seen_update(e->cfg.shared_home != NULL ? e->cfg.shared_home : e, key,
	    hs->ts_us, interval, repeats);
	if (e->cfg.shared_lock != NULL)
		(void)pthread_mutex_unlock(e->cfg.shared_lock);
	if (rep)
		e->st.n_alerts_repeated++;
	return rep;
}

/*
 * The name a handshake is about: its SNI, else its leaf's first DNS name
 * (an old client, or a bare IP connection).  false when there is none.
 */
static bool
name_of(const struct session *s, const char **name, size_t *len)
{
	const struct cert_info *leaf = s->chain_len > 0 ? s->chain[0] : NULL;

	if (s->ch != NULL && s->sni_usable) {
		*name = s->ch->sni;
		*len = s->ch->sni_len;
		return true;
	}
	for (size_t i = 0; leaf != NULL && leaf->decoded && i < leaf->n_sans; i++) {
		if (leaf->sans[i].type == SAN_DNS) {
			*name = leaf->sans[i].value.p;
			*len = leaf->sans[i].value.len;
			return true;
		}
	}
	return false;
}

/* tlsentry learn: what this handshake teaches. */
static void
teach(struct session *s, const struct ev_handshake *hs)
{
	const struct judgement *j = &s->e->jd;
	const struct cert_info *leaf = s->chain_len > 0 ? s->chain[0] : NULL;
	struct learn_sample sm = {
		.leaf = leaf, .ca = s->chain_len > 1 ? s->chain[1] : NULL,
		.validated = judge_chain_validated(j),
		.ja3s = hs->ja3s, .ja3s_string = hs->ja3s_string,
		.version = s->sh != NULL ? s->sh->version : 0, .ts_s = s->ts_us / 1000000,
	};

	(void)name_of(s, &sm.name, &sm.name_len);
	sm.client_offered_more = j->client_offered_more;
	learn_add(s->e->cfg.learn, &sm);
}

/* What is wrong with the handshake, and which of it alerts now. */
static void
judge(struct session *s, struct ev_handshake *hs, bool tls13)
{
	struct engine *e = s->e;
	struct judge_input in = {
		.ch = s->ch, .sh = s->sh, .chain = s->chain, .chain_len = s->chain_len,
		.cert_visible = s->cert_seen, .cert_unreadable = s->cert_unreadable,
		.encrypted_certificate = tls13 || s->kind == SESS_QUIC,
		.sni_usable = s->sni_usable, .ocsp_has_sct = s->ocsp != NULL && s->ocsp->has_scts,
		.at_s = s->ts_us / 1000000, .ja3s = hs->ja3s,
	};

	char domain[256];
	const char *name;
	size_t len;

	for (unsigned i = 0; s->sh != NULL && i < s->sh->n_exts; i++)
		if (s->sh->exts[i] == 18)		/* signed_certificate_timestamp */
			in.sh_has_sct = true;
	if (e->cfg.tofu != NULL && name_of(s, &name, &len) &&
	    regdomain(name, len, domain, sizeof(domain))) {
		in.tofu = e->cfg.tofu;
		in.domain = domain;
	}
	judge_handshake(&in, e->rules, e->cfg.trust, &e->jd);
	hs->j = &e->jd;
	for (unsigned i = 0; i < e->jd.n_findings; i++) {
		const struct judge_finding *f = &e->jd.findings[i];
		if (f->alert)
			hs->suppressed[f->reason] = alert_repeated(e, hs, f, &hs->repeats[f->reason]);
	}
}

static bool
raises_alert(const struct ev_handshake *hs)
{
	for (unsigned i = 0; i < hs->j->n_findings; i++)
		if (hs->j->findings[i].alert && !hs->suppressed[hs->j->findings[i].reason])
			return true;
	return false;
}

/* --evidence: the flow's packets so far, named by time and handshake id. */
static void
keep_evidence(struct session *s, struct ev_handshake *hs)
{
	struct engine *e = s->e;
	char id[17], name[EVIDENCE_NAME_MAX], when[32];
	time_t t = (time_t)(hs->ts_us / 1000000);
	struct tm tm;

	if (s->f->app_log == NULL)
		return;
	ev_handshake_id(hs, id);
	if (gmtime_r(&t, &tm) == NULL || strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm) == 0)
		snprintf(when, sizeof(when), "0");
	snprintf(name, sizeof(name), "%s-%s.pcap", when, id);
	if (pktlog_write(s->f->app_log, e->cfg.evidence, name) != 0) {
		e->st.n_evidence_failed++;
		return;
	}
	e->st.n_evidence_pcaps++;
	snprintf(e->evidence_path, sizeof(e->evidence_path), "%s/%s", evstore_dir(e->cfg.evidence),
	    name);
	hs->evidence_pcap = e->evidence_path;
	hs->evidence_partial = pktlog_partial(s->f->app_log);
}

static void
emit(struct session *s)
{
	struct engine *e = s->e;
	struct flow *f = s->f;
	struct ev_handshake hs;
	int c = s->client_dir >= 0 ? s->client_dir : (f->key.port_lo < f->key.port_hi);
	int srv = !c;
	bool tls13 = s->sh != NULL && tls_version_is_13(s->sh->version);

	memset(&hs, 0, sizeof(hs));
	hs.ts_us = s->ts_us;
	if (e->cfg.live_clock)
		hs.interface = s->source;
	else
		hs.source_file = s->source;
	hs.family = f->key.family;
	hs.transport = f->key.proto;
	hs.protocol = s->kind == SESS_QUIC ? "quic" : s->kind == SESS_DTLS ? "dtls" : NULL;
	hs.quic_version = s->quic_version;
	hs.hvr = s->hvr;
	hs.client_ip = flow_src_addr(f, c);
	hs.client_port = flow_src_port(f, c);
	hs.server_ip = flow_src_addr(f, srv);
	hs.server_port = flow_src_port(f, srv);
	hs.roles_inferred = s->roles_inferred;
	hs.ch = s->ch;
	hs.n_client_hellos = s->n_ch;
	hs.sh = s->sh;
	hs.hrr = s->hrr;
	hs.preamble_len = s->tls[c].preamble_len;
	hs.upgraded_from = s->upgraded_from;
	hs.chain = s->chain;
	hs.chain_len = s->chain_len;
	hs.chain_total = s->chain_total;
	hs.cert_visible = s->cert_seen;
	hs.cert_unreadable = s->cert_unreadable;
	hs.client_cert = s->client_cert;
	/*
	 * Established: the client went on to encrypted records after the
	 * server's hello; or, in a full TLS <= 1.2 handshake, the server sent
	 * its ChangeCipherSpec, which it only does after the client's
	 * Finished (so a lost client segment does not hide the fact).
	 */
	hs.established = s->sh != NULL && !s->sh->is_hrr && (dir_encrypted(s, c) ||
	    (!tls13 && s->cert_seen && dir_sent_ccs(s, srv)));
	if (s->sh != NULL && !s->cert_seen)
		hs.resumed = tls13 ? s->sh->has_psk : dir_sent_ccs(s, srv);
	if (hs.resumed)
		hs.resumed_with = resumed_with(s, tls13);
	hs.client_leaf = s->client_leaf;
	hs.ocsp = s->ocsp;
	fingerprints(s, &hs, &e->fp);
	/* a problem matters only if it hid something we report */
	if (s->problem[srv] >= 0 && !s->cert_seen && !tls13 && !hs.resumed)
		hs.incomplete = incomplete_str(1, s->problem[srv]);
	else if (s->problem[c] >= 0 && (s->ch == NULL || !hs.established))
		hs.incomplete = incomplete_str(0, s->problem[c]);
	else if (s->cut_short != NULL && !s->cert_seen && !tls13 && !hs.resumed)
		hs.incomplete = s->cut_short;
	memcpy(hs.anomalies, s->anomalies, sizeof(hs.anomalies));
	hs.n_anomalies = s->n_anomalies;
	if (e->cfg.cert_store != NULL)
		hs.cert_store_dir = evstore_dir(e->cfg.cert_store);
	judge(s, &hs, tls13);

	if (e->cfg.learn != NULL)
		teach(s, &hs);
	ev_emit_handshake(e->out, &hs);
	e->st.n_handshakes++;
	if (s->cert_seen)
		e->st.n_with_cert++;
	else if (tls13 || s->kind == SESS_QUIC)
		e->st.n_hidden_cert++;
	if (hs.resumed)
		e->st.n_resumed++;
	if (e->cfg.evidence != NULL && raises_alert(&hs))
		keep_evidence(s, &hs);
	for (unsigned i = 0; i < e->jd.n_findings; i++) {
		const struct judge_finding *fd = &e->jd.findings[i];
		e->st.n_finding[fd->reason]++;
		if (!fd->alert || hs.suppressed[fd->reason])
			continue;
		ev_emit_alert(e->out, &hs, i);
		e->st.n_alerts++;
		e->st.n_alert_reason[fd->reason]++;
	}
}

/*
 * Has this handshake been reported already?  The same packets can reach the
 * sensor twice: on two interfaces of a router (-i lan -i wan), or in a
 * capture that holds them twice.  The hellos' randoms are unique per
 * handshake; a repeat within ENGINE_DEDUP_S of capture time is counted, not
 * reported.
 */
static bool seen_update(struct engine *e, const uint8_t *random, int64_t ts_us);

static bool
already_reported(struct engine *e, const struct session *s)
{
	const uint8_t *random = s->ch ? s->ch->random : s->sh ? s->sh->random : NULL;
	bool dup;

	if (random == NULL)
		return false;
	if (e->cfg.shared_lock != NULL)
		(void)pthread_mutex_lock(e->cfg.shared_lock);
	dup = seen_update(e->cfg.shared_home != NULL ? e->cfg.shared_home : e, random, s->ts_us);
	if (e->cfg.shared_lock != NULL)
		(void)pthread_mutex_unlock(e->cfg.shared_lock);
	if (dup)
		e->st.n_duplicates++;		/* the same handshake, at about the same time */
	return dup;
}

/* In e's table of reported randoms: true when random was reported near ts_us. */
static bool
seen_update(struct engine *e, const uint8_t *random, int64_t ts_us)
{
	struct seen *x = NULL;

	HASH_FIND(hh, e->seen_table, random, 32, x);
	if (x != NULL && llabs(ts_us - x->at) <= (int64_t)ENGINE_DEDUP_S * 1000000)
		return true;
	if (x == NULL) {
		x = &e->seen_ring[e->seen_next];	/* reuse the oldest slot */
		if (x->at != 0)
			HASH_DEL(e->seen_table, x);
		e->seen_next = (e->seen_next + 1) % ENGINE_DEDUP_MAX;
		memcpy(x->random, random, 32);
		hashtab_oom = 0;
		HASH_ADD(hh, e->seen_table, random, 32, x);
		if (hashtab_oom) {
			x->at = 0;
			return false;
		}
	}
	x->at = ts_us ? ts_us : 1;
	return false;
}

/* Count the flow's outcome once, when its session ends. */
static void
account(struct session *s)
{
	struct engine *e = s->e;
	int why = s->problem[0] >= 0 ? s->problem[0] : s->problem[1];

	if (!s->tls_seen && (s->kind != SESS_TLS ||
	    (!tls_stream_is_tls(&s->tls[0]) && !tls_stream_is_tls(&s->tls[1])))) {
		e->st.n_non_tls++;
		return;
	}
	if (s->kind == SESS_TLS)
		e->st.n_tls_flows++;
	else
		e->st.n_udp_tls_flows++;
	if (why >= 0)
		e->st.n_giveup[why]++;
}

/* The flow's packets are no longer needed as evidence. */
static void
drop_log(struct engine *e, struct flow *f)
{
	pktlog_free(f->app_log, &e->evmem);
	f->app_log = NULL;
}

/* --evidence: keep the packet at hand until the flow's handshake is judged. */
static void
log_packet(struct engine *e, struct flow *f)
{
	struct pktlog *l = f->app_log;

	if (e->cfg.evidence == NULL || f->done)
		return;
	(void)pktlog_add(&l, &e->evmem, e->cur_linktype, e->cur_h, e->cur_p);
	f->app_log = l;
}

/* Report the handshake and stop looking at the flow's bytes. */
static void
session_end(struct session *s)
{
	struct flow *f = s->f;

	if (s->tls_seen && !already_reported(s->e, s))
		emit(s);
	account(s);
	f->done = true;
	f->app = NULL;
	drop_log(s->e, f);
	reasm_finish(&f->rs[0]);
	reasm_finish(&f->rs[1]);
	session_free(s);
}

/*
 * Is there nothing more to learn?  Both streams stopped, or the client moved
 * to encrypted records after the server's hello: the client only does that
 * once it has the server's whole first flight.
 */
static bool
session_complete(const struct session *s)
{
	if (dir_stopped(s, 0) && dir_stopped(s, 1) && s->kind != SESS_QUIC)
		return true;
	if (s->client_dir < 0 || s->sh == NULL || s->sh->is_hrr)
		return false;
	return dir_encrypted(s, s->client_dir) || dir_alerted(s, s->client_dir);
}

static void
on_flow_end(void *ctx, struct flow *f, enum flow_end why)
{
	struct engine *e = ctx;
	struct session *s = f->app;

	if (s == NULL) {
		drop_log(e, f);
		return;
	}
	for (int d = 0; d < 2; d++)		/* what lies beyond a hole still counts */
		reasm_flush(&f->rs[d], on_bytes, &s->ctx[d]);
	if (s->tls_seen && !session_complete(s)) {
		switch (why) {
		case FLOW_END_EVICTED:
			give_up(s, s->client_dir >= 0 ? !s->client_dir : 1, GIVEUP_EVICTED);
			give_up(s, s->client_dir >= 0 ? s->client_dir : 0, GIVEUP_EVICTED);
			break;
		case FLOW_END_EOF:
			s->cut_short = "capture ended before the handshake did";
			break;
		case FLOW_END_IDLE:
			s->cut_short = "flow went idle before the handshake ended";
			break;
		default:			/* FIN, RST: the peers ended it */
			break;
		}
	}
	session_end(s);
}

/* --- packets ----------------------------------------------------------------- */

int64_t
engine_capture_time(const struct pcap_pkthdr *h)
{
	int64_t sec = (int64_t)h->ts.tv_sec, us = (int64_t)h->ts.tv_usec;

	/* pcap files keep seconds in 32 bits, which libpcap hands over signed:
	 * read as unsigned, as the format means, they run to 2106 */
	if (sec < 0 && sec >= INT32_MIN)
		sec = (int64_t)(uint32_t)sec;
	if (sec < 0)
		sec = 0;
	if (sec > ((int64_t)1 << 37))		/* year 6325: nobody's clock */
		sec = (int64_t)1 << 37;
	if (us < 0 || us > 999999)
		us = 0;
	return sec * 1000000 + us;
}

/*
 * Is this RST or FIN believable?  One far outside the sender's sequence
 * space would be dropped by the receiver; honouring it would let an injected
 * packet cut the sensor's view of a live handshake in two (RFC 5961 s3
 * checks RSTs the same way).
 */
static bool
in_window(const struct flow *f, int dir, uint32_t seq)
{
	const struct reasm *r = &f->rs[dir];
	int64_t d = (int64_t)(int32_t)(seq - r->next_seq);

	return f->done || !r->has_seq || (d >= -(int64_t)r->win_max && d <= (int64_t)r->win_max);
}

/*
 * A SYN with a new number on a connection that was closing (a FIN was seen)
 * or whose handshake was already judged: the ports are reused.  In the middle
 * of a handshake a SYN is a forgery or a confused peer, which the real stack
 * answers with a challenge ACK (RFC 5961 s4); it must not cut the sensor's
 * view in two.
 */
static bool
is_new_connection(const struct flow *f, int dir, const struct pkt *pkt)
{
	return (pkt->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
	    (f->done || f->fin[0] || f->fin[1]) &&
	    !(f->syn_seen[dir] && f->syn_isn[dir] == pkt->seq);
}

static void
handle_tcp(struct engine *e, const struct pkt *pkt)
{
	bool syn = pkt->tcp_flags & TCP_SYN, rst = pkt->tcp_flags & TCP_RST;
	bool fin = pkt->tcp_flags & TCP_FIN, ack = pkt->tcp_flags & TCP_ACK;
	struct session *s;
	struct flow *f;
	int dir;

	/* a bare ACK, FIN or RST never starts a flow */
	f = flow_get(e->flows, pkt, pkt->payload_len > 0 || syn, &dir);
	if (f == NULL)
		return;
	if ((fin || rst) && !in_window(f, dir, pkt->seq)) {
		e->st.n_ctl_ignored++;		/* a receiver would drop it: so do we */
		fin = rst = false;
	}
	if (is_new_connection(f, dir, pkt)) {
		flow_end(e->flows, f, FLOW_END_REUSED);
		f = flow_get(e->flows, pkt, true, &dir);
		if (f == NULL)
			return;
	}
	f->n_pkts++;
	log_packet(e, f);
	if (syn) {
		reasm_syn(&f->rs[dir], pkt->seq);
		f->syn_seen[dir] = true;
		f->syn_isn[dir] = pkt->seq;
		if (f->client_hint < 0)		/* SYN from the client, SYN-ACK from the server */
			f->client_hint = (int8_t)(ack ? !dir : dir);
	}
	if (f->done)
		goto flags;
	s = f->app;
	if (s == NULL && pkt->payload_len > 0) {	/* no session for bare SYNs */
		s = f->app = session_new(e, f);
		if (s == NULL) {
			e->st.n_nomem++;
			f->done = true;
			goto flags;
		}
	}
	if (s != NULL && s->client_dir < 0 && f->client_hint >= 0)
		set_client(s, f->client_hint, false);
	if (s != NULL && pkt->payload_len > 0 && !tls_stream_stopped(&s->tls[dir]))
		reasm_push(&f->rs[dir], pkt->seq + (syn ? 1 : 0), pkt->payload,
		    pkt->payload_len, on_bytes, &s->ctx[dir]);
	if (ack && !rst)
		reasm_ack(&f->rs[!dir], pkt->ack);
	if (fin)
		reasm_fin(&f->rs[dir], pkt->seq + (syn ? 1 : 0) + (uint32_t)pkt->payload_wire);
	if (s != NULL && session_complete(s))
		session_end(s);
flags:
	if (fin)
		f->fin[dir] = true;
	if (rst)
		flow_end(e->flows, f, FLOW_END_RST);
	else if (f->fin[0] && f->fin[1])
		flow_end(e->flows, f, FLOW_END_FIN);
}

/* --- UDP: DTLS and QUIC ------------------------------------------------------ */

/* A DTLS message of direction dc->dir. */
static int
on_dtls_msg(const struct tls_msg *m, void *ctx)
{
	struct dir_ctx *dc = ctx;

	if (m->type != 0)
		on_message(dc->s, dc->dir, m);
	return dir_stopped(dc->s, dc->dir);
}

/* A TLS message from a QUIC CRYPTO stream: the same as from TLS records. */
static void
on_quic_msg(void *ctx, const struct quic_msg *qm)
{
	struct session *s = ctx;
	int dir = qm->from_client ? s->client_dir : !s->client_dir;
	struct tls_msg m = { .type = qm->type, .kept = true, .body = qm->body, .len = qm->len };

	s->quic_version = qm->version;
	if (!dir_stopped(s, dir))
		on_message(s, dir, &m);
}

/* A new UDP flow is followed only when its first datagram starts a handshake. */
static int
udp_kind(const struct pkt *pkt)
{
	if (quic_looks_like_initial(pkt->payload, pkt->payload_len))
		return SESS_QUIC;
	if (dtls_looks_like_handshake(pkt->payload, pkt->payload_len))
		return SESS_DTLS;
	return -1;
}

static struct session *
udp_session_new(struct engine *e, struct flow *f, enum sess_kind kind, int dir)
{
	struct session *s = session_new(e, f);

	if (s == NULL)
		return NULL;
	s->kind = kind;
	if (kind == SESS_QUIC) {
		s->quic = hello_alloc(s, sizeof(*s->quic));
		if (s->quic == NULL)
			goto fail;
		memset(s->quic, 0, sizeof(*s->quic));
		quic_conn_init(&s->quic->conn, &e->mem);
		s->client_dir = dir;		/* the first Initial is the client's */
	} else {
		s->dtls = hello_alloc(s, 2 * sizeof(*s->dtls));
		if (s->dtls == NULL)
			goto fail;
		for (int d = 0; d < 2; d++) {
			dtls_stream_init(&s->dtls[d], &e->mem);
			s->dtls[d].keep_mask |= 1u << DTLS_HS_HELLO_VERIFY_REQUEST;
			if (e->cfg.hs_max)
				s->dtls[d].hs_max = e->cfg.hs_max;
		}
		if (f->client_hint >= 0)	/* until a hello says otherwise */
			set_client(s, f->client_hint, false);
	}
	return s;
fail:
	free(s);
	return NULL;
}

/*
 * QUIC: a datagram that starts with a short header (1-RTT) from the client
 * says it finished the handshake, the server's certificate accepted.
 */
static void
quic_note_protected(struct session *s, int dir, const struct pkt *pkt)
{
	if (pkt->payload_len > 0 && !(pkt->payload[0] & 0x80))
		s->quic->sent_1rtt[dir] = true;
}

static void
feed_udp(struct engine *e, struct session *s, int dir, const struct pkt *pkt)
{
	int st;

	if (s->kind == SESS_DTLS) {
		st = dtls_feed(&s->dtls[dir], pkt->payload, pkt->payload_len, on_dtls_msg,
		    &s->ctx[dir]);
	} else {
		quic_note_protected(s, dir, pkt);
		if (dir_stopped(s, dir))
			return;
		st = quic_datagram(&s->quic->conn, dir == s->client_dir, pkt->payload,
		    pkt->payload_len, on_quic_msg, s);
		if (st == P_BAD || st == P_UNSUPP) {	/* skipped and counted: nothing to give up */
			e->st.n_quic_skipped++;
			st = P_OK;
		}
	}
	if (st != P_OK) {
		/*
		 * The server's flight broke off after its hello and before a
		 * certificate (fragments that disagree, a cap): whatever it
		 * sent in its place, an issuer that cannot be seen is not an
		 * expected one.
		 */
		if (s->kind == SESS_DTLS && dir != s->client_dir && s->sh != NULL && !s->cert_seen &&
		    !tls_version_is_13(s->sh->version))
			s->cert_unreadable = true;
		give_up(s, dir, giveup_of_pstat(st));
		anomaly(s, st == P_BAD ? "malformed-record" : pstat_str(st));
		dir_stop(s, dir);
	}
}

static void
handle_udp(struct engine *e, const struct pkt *pkt)
{
	struct session *s;
	struct flow *f;
	int dir, kind = -1;

	f = flow_get(e->flows, pkt, false, &dir);
	if (f == NULL) {
		kind = udp_kind(pkt);
		if (kind < 0) {
			e->st.n_udp_ignored++;	/* DNS, VoIP, ...: no handshake starts here */
			return;
		}
		f = flow_get(e->flows, pkt, true, &dir);
		if (f == NULL)
			return;
		e->st.n_udp_flows++;
		f->client_hint = (int8_t)dir;
	}
	f->n_pkts++;
	log_packet(e, f);
	if (f->done || pkt->payload_len == 0)
		return;
	s = f->app;
	if (s == NULL) {
		if (kind < 0 && (kind = udp_kind(pkt)) < 0)
			return;
		s = f->app = udp_session_new(e, f, (enum sess_kind)kind, dir);
		if (s == NULL) {
			e->st.n_nomem++;
			f->done = true;
			return;
		}
	}
	feed_udp(e, s, dir, pkt);
	if (session_complete(s))
		session_end(s);
}

void
engine_packet(struct engine *e, int linktype, const struct pcap_pkthdr *h, const uint8_t *p)
{
	struct pkt pkt = { .ts_us = 0 };
	enum dec_status st;

	e->st.n_packets++;
	e->st.n_bytes += h->len;
	e->pkt_us = engine_capture_time(h);
	e->cur_linktype = linktype;
	e->cur_h = h;
	e->cur_p = p;
	if (e->cfg.live_clock) {
		pkt.ts_us = e->now_us;		/* engine_tick() moves it, once a second */
	} else {
		pkt.ts_us = e->pkt_us;
		if (pkt.ts_us > e->now_us)
			e->now_us = pkt.ts_us;
		if (e->now_us - e->last_expire_us >= 1000000) {	/* idle flows, once a second */
			flow_expire(e->flows, e->now_us);
			e->last_expire_us = e->now_us;
		}
	}
	st = dec_packet(linktype, p, h->caplen < h->len ? h->caplen : h->len, &pkt);
	e->st.n_decode[st]++;
	if (st == DEC_TCP)
		handle_tcp(e, &pkt);
	else if (st == DEC_UDP)
		handle_udp(e, &pkt);
}

void
engine_clock(struct engine *e, int64_t ts_us)
{
	if (ts_us > e->now_us)
		e->now_us = ts_us;
	if (e->now_us - e->last_expire_us >= 1000000) {	/* as engine_packet() does */
		flow_expire(e->flows, e->now_us);
		e->last_expire_us = e->now_us;
	}
}

void
engine_tick(struct engine *e, int64_t now_us)
{
	if (now_us > e->now_us)
		e->now_us = now_us;
	flow_expire(e->flows, e->now_us);
	e->last_expire_us = e->now_us;
}

void
engine_set_rules(struct engine *e, const struct rules *rules)
{
	e->rules = rules;		/* only read when a handshake is judged */
}

void
engine_set_source(struct engine *e, const char *name)
{
	e->source = name;
}

void
engine_finish(struct engine *e)
{
	flow_table_flush(e->flows, FLOW_END_EOF);
}

void
engine_stats(const struct engine *e, struct engine_stats *out)
{
	*out = e->st;
	flow_table_stats(e->flows, &out->flows);
	cert_cache_stats(e->certs, &out->certs);
	out->reasm = e->rst;
	out->mem = e->mem;
}

void
engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	flow_table_free(e->flows);		/* ends every flow first */
	HASH_CLEAR(hh, e->seen_table);		/* entries live in seen_ring */
	HASH_CLEAR(hh, e->alerts_table);	/* and these in alerts_ring */
	free(e->alerts_ring);
	cert_cache_free(e->certs);
	free(e);
}

const char *
engine_giveup_str(enum engine_giveup g)
{
	switch (g) {
	case GIVEUP_GAP:	return "missing segments";
	case GIVEUP_MALFORMED:	return "malformed";
	case GIVEUP_LIMIT:	return "over size cap";
	case GIVEUP_MEMORY:	return "memory budget";
	case GIVEUP_EVICTED:	return "flow table full";
	case GIVEUP_N:		break;
	}
	return "?";
}
