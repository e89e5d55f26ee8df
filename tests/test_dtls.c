/* test_dtls.c: DTLS records and handshake fragment reassembly (parser/dtls.c). */
#include <stdint.h>

#include "../parser/dtls.h"
#include "../parser/pstat.h"
#include "../parser/tls_hs.h"
#include "t.h"
#include "tb.h"

static struct tb t, mb;

/* ------------------------------------------------------------ builders */

/*
 * DTLSPlaintext header (RFC 6347 s4.1): type(1) version(2) epoch(2)
 * sequence_number(6) length(2), the length patched by tb_close().
 */
static void
rec_open(struct tb *b, unsigned type, unsigned version, unsigned epoch, unsigned long seq)
{
	tb_u8(b, type);
	tb_u16(b, version);
	tb_u16(b, epoch);
	tb_u16(b, 0);				/* sequence_number, high 16 bits */
	tb_u16(b, (unsigned)(seq >> 16));
	tb_u16(b, (unsigned)seq);
	tb_open(b, 2);
}

/*
 * One handshake fragment (RFC 6347 s4.2.2): msg_type(1) length(3)
 * message_seq(2) fragment_offset(3) fragment_length(3), then bytes
 * [off, off + flen) of the message body m.
 */
static void
frag(struct tb *b, unsigned type, const uint8_t *m, size_t mlen, unsigned seq, size_t off,
    size_t flen)
{
	tb_u8(b, type);
	tb_u24(b, mlen);
	tb_u16(b, seq);
	tb_u24(b, off);
	tb_u24(b, flen);
	if (flen > 0)
		tb_raw(b, m + off, flen);
}

/* A whole message in one record of its own. */
static void
whole(struct tb *b, unsigned type, const uint8_t *m, size_t mlen, unsigned seq)
{
	rec_open(b, TLS_CT_HANDSHAKE, 0xfefd, 0, seq);
	frag(b, type, m, mlen, seq, 0, mlen);
	tb_close(b);
}

/* Message bodies, built once. */
struct body {
	uint8_t b[4096];
	size_t n;
};
static struct body ch0, ch1, ch13, hvr, sh, sh13, cert;

static void
body_take(struct body *dst)
{
	memcpy(dst->b, mb.b, mb.n);
	dst->n = mb.n;
	mb.n = 0;
}

/* DTLS ClientHello (RFC 6347 s4.2.1): a cookie follows the session id. */
static void
dtls_client_hello(const char *sni, size_t cookie_len, int v13)
{
	tb_u16(&mb, 0xfefd);			/* client_version DTLS 1.2 */
	tb_fill(&mb, 0x11, 32);			/* random */
	tb_open(&mb, 1); tb_close(&mb);		/* session_id: empty */
	tb_open(&mb, 1); tb_fill(&mb, 0xc0, cookie_len); tb_close(&mb);	/* cookie */
	tb_open(&mb, 2);			/* cipher_suites */
	tb_u16(&mb, 0xc02b);			/* ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 */
	tb_u16(&mb, 0xc02f);			/* ECDHE_RSA_WITH_AES_128_GCM_SHA256 */
	tb_close(&mb);
	tb_open(&mb, 1); tb_u8(&mb, 0); tb_close(&mb);	/* compression: null */
	tb_open(&mb, 2);			/* extensions */
	tb_u16(&mb, 0);				/* server_name */
	tb_open(&mb, 2); tb_open(&mb, 2);
	tb_u8(&mb, 0);				/* host_name */
	tb_open(&mb, 2); tb_str(&mb, sni); tb_close(&mb);
	tb_close(&mb); tb_close(&mb);
	if (v13) {
		tb_u16(&mb, 43);		/* supported_versions: DTLS 1.3, 1.2 */
		tb_open(&mb, 2); tb_open(&mb, 1);
		tb_u16(&mb, 0xfefc); tb_u16(&mb, 0xfefd);
		tb_close(&mb); tb_close(&mb);
	}
	tb_close(&mb);
}

static void
build_bodies(void)
{
	mb.n = 0;
	dtls_client_hello("www.icloud.com", 0, 0);
	body_take(&ch0);
	dtls_client_hello("www.icloud.com", 20, 0);	/* second hello: 20-byte cookie */
	body_take(&ch1);
	dtls_client_hello("www.icloud.com", 0, 1);
	body_take(&ch13);

	tb_u16(&mb, 0xfeff);			/* HelloVerifyRequest: server_version */
	tb_open(&mb, 1); tb_fill(&mb, 0xc0, 20); tb_close(&mb);	/* cookie */
	body_take(&hvr);

	tb_u16(&mb, 0xfefd);			/* ServerHello: server_version */
	tb_fill(&mb, 0x33, 32);			/* random */
	tb_open(&mb, 1); tb_fill(&mb, 0x22, 32); tb_close(&mb);	/* session_id */
	tb_u16(&mb, 0xc02f);			/* cipher_suite */
	tb_u8(&mb, 0);				/* compression null */
	tb_open(&mb, 2); tb_close(&mb);		/* no extensions */
	body_take(&sh);

	tb_u16(&mb, 0xfefd);			/* DTLS 1.3 ServerHello: legacy_version */
	tb_fill(&mb, 0x44, 32);
	tb_open(&mb, 1); tb_close(&mb);
	tb_u16(&mb, 0x1301);			/* TLS_AES_128_GCM_SHA256 */
	tb_u8(&mb, 0);
	tb_open(&mb, 2);
	tb_u16(&mb, 43); tb_open(&mb, 2); tb_u16(&mb, 0xfefc); tb_close(&mb);
	tb_close(&mb);
	body_take(&sh13);

	/* Certificate: certificate_list<3> of two certificates<3>, patterned
	 * bytes so a fragment put at the wrong offset shows */
	tb_open(&mb, 3);
	tb_open(&mb, 3);
	for (unsigned i = 0; i < 1500; i++)
		tb_u8(&mb, i * 7 + 1);
	tb_close(&mb);
	tb_open(&mb, 3);
	for (unsigned i = 0; i < 900; i++)
		tb_u8(&mb, i * 13 + 5);
	tb_close(&mb);
	tb_close(&mb);
	body_take(&cert);
}

/* A list of datagrams, each in its own exact-size heap buffer. */
#define DG_MAX 64
struct flight {
	size_t n;
	uint8_t *dg[DG_MAX];
	size_t len[DG_MAX];
};

/* The datagram built in t becomes the flight's next one. */
static void
fl_push(struct flight *f)
{
	f->dg[f->n] = t_dup(t.b, t.n);
	f->len[f->n++] = t.n;
	t.n = 0;
}

static void
fl_free(struct flight *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->dg[i]);
	f->n = 0;
}

/* ------------------------------------------------------------ transcripts */

/* What a stream delivered: each message (type, kept, length, body). */
struct tr {
	uint8_t out[1 << 15];
	size_t n;
	int n_msgs;
	uint8_t types[64];
	int stop_after;		/* callback asks to stop after this many; 0 = never */
};

static int
tr_cb(const struct tls_msg *m, void *ctx)
{
	struct tr *tr = ctx;

	if (tr->n_msgs < 64)
		tr->types[tr->n_msgs] = m->type;
	tr->n_msgs++;
	if (tr->n + 6 + m->len > sizeof(tr->out))
		return 1;
	tr->out[tr->n++] = m->type;
	tr->out[tr->n++] = m->kept;
	memcpy(tr->out + tr->n, &m->len, sizeof(m->len));
	tr->n += sizeof(m->len);
	if (m->kept) {
		if (m->len > 0)
			memcpy(tr->out + tr->n, m->body, m->len);
		tr->n += m->len;
	} else if (m->body != NULL) {
		tr->out[tr->n++] = 0xee;	/* a body where none is promised */
	}
	return tr->stop_after != 0 && tr->n_msgs >= tr->stop_after;
}

/* The transcript a correct stream yields for these messages. */
static void
tr_expect(struct tr *tr, const uint8_t *types, const struct body *const *bodies, size_t n,
    uint32_t keep_mask)
{
	memset(tr, 0, sizeof(*tr));
	for (size_t i = 0; i < n; i++) {
		struct tls_msg m = { 0 };
		m.type = types[i];
		m.kept = types[i] < 32 && (keep_mask >> types[i] & 1);
		m.len = (uint32_t)bodies[i]->n;
		m.body = m.kept ? bodies[i]->b : NULL;
		(void)tr_cb(&m, tr);
	}
}

static int
tr_same(const struct tr *a, const struct tr *b)
{
	return a->n_msgs == b->n_msgs && a->n == b->n && memcmp(a->out, b->out, a->n) == 0;
}

/* Feed the flight's datagrams in the given order (NULL: as built). */
static int
run(struct dtls_stream *s, const struct flight *f, const size_t *order, size_t n_order,
    struct tr *tr)
{
	int st, last = P_OK;

	if (order == NULL)
		n_order = f->n;
	for (size_t i = 0; i < n_order; i++) {
		size_t k = order ? order[i] : i;
		st = dtls_feed(s, f->dg[k], f->len[k], tr ? tr_cb : NULL, tr);
		if (st != P_OK)
			last = st;
	}
	return last;
}

/* ------------------------------------------------------------ flights */

/*
 * A DTLS 1.2 server flight: ServerHello (seq 0) alone in datagram 0; the
 * Certificate (seq 1, 2411 bytes) in fragments of `fl` bytes, two records
 * per datagram; ServerHelloDone (seq 2, empty) alone in the last datagram.
 * step < fl makes fragments overlap.
 */
static void
server_flight(struct flight *f, size_t fl, size_t step)
{
	unsigned long rseq = 0;
	int in_dg = 0;

	whole(&t, TLS_HS_SERVER_HELLO, sh.b, sh.n, rseq++);
	fl_push(f);
	for (size_t off = 0; off < cert.n; off += step) {
		size_t n = cert.n - off < fl ? cert.n - off : fl;
		rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, rseq++);
		frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 1, off, n);
		tb_close(&t);
		if (++in_dg == 2) {
			fl_push(f);
			in_dg = 0;
		}
		if (off + n == cert.n)
			break;
	}
	if (in_dg)
		fl_push(f);
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, rseq++);
	frag(&t, TLS_HS_SERVER_HELLO_DONE, NULL, 0, 2, 0, 0);
	tb_close(&t);
	fl_push(f);
}

static const uint8_t flight_types[] = { TLS_HS_SERVER_HELLO, TLS_HS_CERTIFICATE,
	TLS_HS_SERVER_HELLO_DONE };
static const struct body empty_body = { { 0 }, 0 };
static const struct body *const flight_bodies[] = { &sh, &cert, &empty_body };

static uint32_t
default_keep(void)
{
	struct dtls_stream s;

	dtls_stream_init(&s, NULL);
	return s.keep_mask;
}

/* ------------------------------------------------------------ tests */

/* One record holding a whole ClientHello: delivered in place, no memory. */
static void
test_dtls_client_hello_one_record(void)
{
	static struct tr tr, want;
	struct memcap mc = { 0 };
	struct dtls_stream s;
	struct flight f = { 0 };
	struct tls_client_hello chp;
	const struct body *b[] = { &ch0 };
	const uint8_t ty[] = { TLS_HS_CLIENT_HELLO };

	whole(&t, TLS_HS_CLIENT_HELLO, ch0.b, ch0.n, 0);
	T_CHECK(dtls_looks_like_handshake(t.b, t.n));
	fl_push(&f);
	dtls_stream_init(&s, &mc);
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	tr_expect(&want, ty, b, 1, default_keep());
	T_CHECK(tr_same(&tr, &want));
	T_EQ_U(s.n_msgs, 1);
	T_EQ_U(s.n_records, 1);
	T_EQ_U(s.version, 0xfefd);
	T_EQ_U(s.next_seq, 1);
	T_CHECK(!dtls_stream_stopped(&s));
	T_EQ_U(mc.peak, 0);			/* whole message: no copy */

	/* the body parses as the DTLS hello that was built */
	T_EQ_I(tls_hs_client_hello(tr.out + 6, ch0.n, &chp), P_OK);
	T_CHECK(chp.is_dtls);
	T_EQ_STR(chp.sni, "www.icloud.com");
	dtls_stream_free(&s);
	fl_free(&f);
}

/*
 * The server flight with a fragmented Certificate, fed in order, reversed,
 * with every datagram twice, with overlapping fragments, and in every
 * order of its datagrams: always SH, Certificate, SHD, once each.
 */
static void
test_dtls_certificate_fragments(void)
{
	static struct tr tr, want;
	struct memcap mc = { 0 };
	struct dtls_stream s;
	struct flight f = { 0 };
	struct tls_cert_list cl;
	size_t order[DG_MAX], n;

	tr_expect(&want, flight_types, flight_bodies, 3, default_keep());

	/* 300-byte fragments, in order */
	server_flight(&f, 300, 300);
	T_EQ_U(f.n, 7);				/* SH, 9 fragments in 5, SHD */
	dtls_stream_init(&s, &mc);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	T_CHECK(tr_same(&tr, &want));
	T_EQ_U(s.n_retrans, 0);
	T_CHECK(s.ra == NULL);			/* nothing pending, nothing held */
	T_EQ_U(mc.used, 0);
	T_CHECK(mc.peak > 0);
	T_EQ_I(tls_hs_certificate(tr.out + 6 + sh.n + 6, cert.n, &cl), P_OK);
	T_EQ_U(cl.n, 2);
	T_EQ_U(cl.der[0].len, 1500);
	T_EQ_U(cl.der[1].len, 900);
	dtls_stream_free(&s);

	/* reversed: SHD and the Certificate wait for the ServerHello */
	n = f.n;
	for (size_t i = 0; i < n; i++)
		order[i] = n - 1 - i;
	dtls_stream_init(&s, &mc);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, order, n, &tr), P_OK);
	T_CHECK(tr_same(&tr, &want));
	T_EQ_U(mc.used, 0);
	dtls_stream_free(&s);

	/* every datagram twice, reversed then in order: later copies dropped */
	for (size_t i = 0; i < n; i++)
		order[n + i] = i;
	dtls_stream_init(&s, &mc);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, order, 2 * n, &tr), P_OK);
	T_CHECK(tr_same(&tr, &want));
	T_EQ_U(s.n_retrans, 11);		/* SH, 9 fragments, SHD again */
	dtls_stream_free(&s);

	/* each datagram twice in a row, in an interleaved order */
	size_t mix[] = { 3, 3, 1, 5, 1, 6, 6, 2, 4, 5, 0, 2, 4, 0 };
	dtls_stream_init(&s, &mc);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, mix, sizeof(mix) / sizeof(mix[0]), &tr), P_OK);
	T_CHECK(tr_same(&tr, &want));
	dtls_stream_free(&s);
	fl_free(&f);

	/* overlapping fragments: 300 bytes every 200, then every order */
	server_flight(&f, 300, 200);
	n = f.n;
	dtls_stream_init(&s, &mc);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	T_CHECK(tr_same(&tr, &want));
	dtls_stream_free(&s);
	fl_free(&f);

	/* all 720 orders of a 6-datagram flight give the same transcript */
	server_flight(&f, 600, 600);
	T_EQ_U(f.n, 5);
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 99);	/* a 6th: an overlap */
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 1, 500, 1000);
	tb_close(&t);
	fl_push(&f);
	size_t perm[6] = { 0, 1, 2, 3, 4, 5 }, c[6] = { 0 };
	int bad = 0, count = 1;
	dtls_stream_init(&s, &mc);
	memset(&tr, 0, sizeof(tr));
	run(&s, &f, perm, 6, &tr);
	bad |= !tr_same(&tr, &want) || mc.used != 0;
	dtls_stream_free(&s);
	for (size_t i = 1; i < 6;) {		/* Heap's algorithm, iterative */
		if (c[i] < i) {
			size_t j = i % 2 ? c[i] : 0, tmp = perm[j];
			perm[j] = perm[i];
			perm[i] = tmp;
			dtls_stream_init(&s, &mc);
			memset(&tr, 0, sizeof(tr));
			run(&s, &f, perm, 6, &tr);
			if (!tr_same(&tr, &want) || mc.used != 0) {
				if (!bad)
					fprintf(stderr, "  order %zu%zu%zu%zu%zu%zu differs\n",
					    perm[0], perm[1], perm[2], perm[3], perm[4], perm[5]);
				bad = 1;
			}
			dtls_stream_free(&s);
			count++;
			c[i]++;
			i = 1;
		} else {
			c[i++] = 0;
		}
	}
	T_EQ_I(count, 720);
	T_CHECK(!bad);
	fl_free(&f);
}

/* A retransmitted flight (same messages, new record numbers) is dropped. */
static void
test_dtls_retransmitted_flight(void)
{
	static struct tr tr, want;
	struct dtls_stream s;
	struct flight f = { 0 };

	server_flight(&f, 500, 500);
	server_flight(&f, 700, 700);		/* sent again, cut differently */
	dtls_stream_init(&s, NULL);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	tr_expect(&want, flight_types, flight_bodies, 3, default_keep());
	T_CHECK(tr_same(&tr, &want));
	T_EQ_U(s.n_msgs, 3);
	T_EQ_U(s.n_retrans, 6);			/* SH, 4 fragments, SHD */
	dtls_stream_free(&s);
	fl_free(&f);
}

/* A callback that stops the stream on the Certificate, as the engine does. */
struct stopper {
	struct dtls_stream *s;
	int n;
};

static int
stop_on_certificate(const struct tls_msg *m, void *ctx)
{
	struct stopper *st = ctx;

	st->n++;
	if (m->type == TLS_HS_CERTIFICATE)
		dtls_stream_stop(st->s, DTLS_STOP_CALLER);
	return 0;
}

/*
 * The flight arrives last datagram first, so the ServerHello's arrival
 * delivers everything from the slots in one drain; the callback stops the
 * stream in the middle of it (fuzz_pcap found the slots freed under drain).
 */
static void
test_dtls_stop_from_callback(void)
{
	struct dtls_stream s;
	struct flight f = { 0 };
	struct stopper st = { &s, 0 };

	server_flight(&f, 500, 500);
	dtls_stream_init(&s, NULL);
	for (size_t i = f.n; i-- > 0;)
		(void)dtls_feed(&s, f.dg[i], f.len[i], stop_on_certificate, &st);
	T_EQ_I(st.n, 2);			/* ServerHello, Certificate, then nothing */
	T_CHECK(dtls_stream_stopped(&s));
	T_EQ_I(s.stop, DTLS_STOP_CALLER);
	T_CHECK(s.ra == NULL);			/* freed once dtls_feed returned */
	dtls_stream_free(&s);
	fl_free(&f);
}

/*
 * Cookie exchange (RFC 6347 s4.2.1): ClientHello seq 0, HelloVerifyRequest
 * seq 0, ClientHello with the cookie seq 1, ServerHello seq 1.  A
 * retransmitted first ClientHello is dropped; a server whose ServerHello
 * reuses the HelloVerifyRequest's seq (stateless) is followed too.
 */
static void
test_dtls_hello_verify_request(void)
{
	static struct tr tr;
	struct dtls_stream cli, srv;
	struct flight fc = { 0 }, fs = { 0 };
	struct tls_client_hello chp;

	whole(&t, TLS_HS_CLIENT_HELLO, ch0.b, ch0.n, 0);
	fl_push(&fc);
	whole(&t, TLS_HS_CLIENT_HELLO, ch0.b, ch0.n, 0);	/* retransmitted */
	fl_push(&fc);
	whole(&t, TLS_HS_CLIENT_HELLO, ch1.b, ch1.n, 1);
	T_CHECK(dtls_looks_like_handshake(t.b, t.n));
	fl_push(&fc);
	whole(&t, TLS_HS_CLIENT_HELLO, ch1.b, ch1.n, 1);	/* the second re-sent */
	fl_push(&fc);
	/* the first ClientHello again, reordered behind the second */
	whole(&t, TLS_HS_CLIENT_HELLO, ch0.b, ch0.n, 0);
	fl_push(&fc);
	dtls_stream_init(&cli, NULL);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&cli, &fc, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 2);
	T_EQ_U(tr.types[0], TLS_HS_CLIENT_HELLO);
	T_EQ_U(tr.types[1], TLS_HS_CLIENT_HELLO);
	T_EQ_U(cli.n_retrans, 3);
	/* the second hello delivered is the one with the cookie */
	T_EQ_I(tls_hs_client_hello(tr.out + 6 + ch0.n + 6, ch1.n, &chp), P_OK);
	T_EQ_U(chp.cookie_len, 20);
	dtls_stream_free(&cli);
	fl_free(&fc);

	/* server: HVR seq 0 (twice), ServerHello seq 1, Certificate seq 2 */
	whole(&t, DTLS_HS_HELLO_VERIFY_REQUEST, hvr.b, hvr.n, 0);
	T_CHECK(dtls_looks_like_handshake(t.b, t.n));
	fl_push(&fs);
	whole(&t, DTLS_HS_HELLO_VERIFY_REQUEST, hvr.b, hvr.n, 0);	/* re-sent */
	fl_push(&fs);
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 2);
	frag(&t, TLS_HS_SERVER_HELLO, sh.b, sh.n, 1, 0, sh.n);
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 2, 0, cert.n);	/* two in one record */
	tb_close(&t);
	fl_push(&fs);
	dtls_stream_init(&srv, NULL);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&srv, &fs, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 3);
	T_EQ_U(tr.types[0], DTLS_HS_HELLO_VERIFY_REQUEST);
	T_EQ_U(tr.types[1], TLS_HS_SERVER_HELLO);
	T_EQ_U(tr.types[2], TLS_HS_CERTIFICATE);
	T_EQ_U(srv.n_retrans, 1);
	dtls_stream_free(&srv);
	fl_free(&fs);

	/* stateless server: ServerHello seq 0 after HVR seq 0, Certificate seq 1 */
	whole(&t, DTLS_HS_HELLO_VERIFY_REQUEST, hvr.b, hvr.n, 0);
	fl_push(&fs);
	whole(&t, TLS_HS_SERVER_HELLO, sh.b, sh.n, 0);
	fl_push(&fs);
	whole(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 1);
	fl_push(&fs);
	whole(&t, DTLS_HS_HELLO_VERIFY_REQUEST, hvr.b, hvr.n, 0);	/* stale copy */
	fl_push(&fs);
	dtls_stream_init(&srv, NULL);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&srv, &fs, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 3);
	T_EQ_U(tr.types[1], TLS_HS_SERVER_HELLO);
	T_EQ_U(tr.types[2], TLS_HS_CERTIFICATE);
	T_EQ_U(srv.n_retrans, 1);
	dtls_stream_free(&srv);
	fl_free(&fs);

	/* a capture that missed the HVR: the ServerHello at seq 1 comes first */
	whole(&t, TLS_HS_SERVER_HELLO, sh.b, sh.n, 1);
	fl_push(&fs);
	whole(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 2);
	fl_push(&fs);
	dtls_stream_init(&srv, NULL);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&srv, &fs, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 2);
	T_EQ_U(tr.types[1], TLS_HS_CERTIFICATE);
	dtls_stream_free(&srv);
	fl_free(&fs);
}

/* ChangeCipherSpec and epoch 1 end the clear part; nothing after is read. */
static void
test_dtls_ccs_and_epoch_stop(void)
{
	static struct tr tr;
	struct dtls_stream s;
	struct flight f = { 0 };

	/* client flight: ClientKeyExchange (not kept), CCS, epoch-1 Finished */
	mb.n = 0;
	tb_fill(&mb, 0x55, 66);
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 3);
	frag(&t, TLS_HS_CLIENT_KEY_EXCHANGE, mb.b, 66, 2, 0, 66);
	tb_close(&t);
	rec_open(&t, TLS_CT_CCS, 0xfefd, 0, 4);
	tb_u8(&t, 1);
	tb_close(&t);
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 1, 0);
	tb_fill(&t, 0xee, 40);			/* encrypted Finished */
	tb_close(&t);
	fl_push(&f);
	whole(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 3);	/* never read */
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	s.next_seq = 2;				/* as after two messages */
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_U(tr.types[0], TLS_HS_CLIENT_KEY_EXCHANGE);
	T_EQ_U(tr.out[1], 0);			/* not kept */
	T_EQ_I(s.stop, DTLS_STOP_CCS);
	T_CHECK(dtls_stop_is_encrypted(s.stop));
	T_EQ_U(s.n_datagrams, 1);		/* the second was ignored */
	T_EQ_STR(dtls_stop_str(s.stop), "change-cipher-spec");
	dtls_stream_free(&s);
	fl_free(&f);

	/* an epoch-1 record with no CCS before it (the CCS datagram was lost) */
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 1, 0);
	tb_fill(&t, 0xee, 40);
	tb_close(&t);
	whole(&t, TLS_HS_SERVER_HELLO, sh.b, sh.n, 0);	/* after it: not read */
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 0);
	T_EQ_I(s.stop, DTLS_STOP_EPOCH);
	T_CHECK(dtls_stop_is_encrypted(s.stop));
	dtls_stream_free(&s);
	fl_free(&f);

	/* application data in epoch 0 stops too */
	rec_open(&t, TLS_CT_APPDATA, 0xfefd, 0, 0);
	tb_fill(&t, 0xaa, 10);
	tb_close(&t);
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	T_EQ_I(run(&s, &f, NULL, 0, NULL), P_OK);
	T_EQ_I(s.stop, DTLS_STOP_APPDATA);
	dtls_stream_free(&s);
	fl_free(&f);
}

/*
 * DTLS 1.3 (RFC 9147): hellos in DTLSPlaintext, then unified headers
 * (0b001CSLEE) for everything else; and a tls12_cid record (RFC 9146).
 */
static void
test_dtls_13_unified_header(void)
{
	static struct tr tr;
	struct dtls_stream s;
	struct flight f = { 0 };
	struct tls_server_hello shp;
	struct tls_client_hello chp;

	whole(&t, TLS_HS_SERVER_HELLO, sh13.b, sh13.n, 0);
	tb_u8(&t, 0x2e);			/* 001 0 1 1 10: S=16-bit seq, L, epoch 2 */
	tb_u16(&t, 0x0001);			/* sequence number (encrypted) */
	tb_u16(&t, 30);				/* length */
	tb_fill(&t, 0x99, 30);			/* EncryptedExtensions, Certificate... */
	fl_push(&f);
	whole(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 1);	/* clear: never read */
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_I(s.stop, DTLS_STOP_UNIFIED);
	T_CHECK(dtls_stop_is_encrypted(s.stop));
	T_EQ_I(tls_hs_server_hello(tr.out + 6, sh13.n, &shp), P_OK);
	T_EQ_U(shp.version, 0xfefc);
	dtls_stream_free(&s);
	fl_free(&f);

	/* a unified header alone, minimal form (no length, 8-bit seq) */
	tb_u8(&t, 0x20);
	tb_u8(&t, 0x00);
	tb_fill(&t, 0x99, 20);
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	T_EQ_I(run(&s, &f, NULL, 0, NULL), P_OK);
	T_EQ_I(s.stop, DTLS_STOP_UNIFIED);
	dtls_stream_free(&s);
	fl_free(&f);

	/* DTLS 1.3 ClientHello parses; a CID record stops */
	whole(&t, TLS_HS_CLIENT_HELLO, ch13.b, ch13.n, 0);
	T_CHECK(dtls_looks_like_handshake(t.b, t.n));
	fl_push(&f);
	tb_u8(&t, DTLS_CT_CID);
	tb_u16(&t, 0xfefd);
	tb_u16(&t, 1);				/* epoch */
	tb_fill(&t, 0, 6);			/* sequence_number */
	tb_fill(&t, 0x77, 4);			/* cid: its length is not on the wire */
	tb_u16(&t, 20);
	tb_fill(&t, 0x99, 20);
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_I(s.stop, DTLS_STOP_CID);
	T_EQ_I(tls_hs_client_hello(tr.out + 6, ch13.n, &chp), P_OK);
	T_EQ_U(chp.n_versions, 2);
	T_EQ_U(chp.versions[0], 0xfefc);
	dtls_stream_free(&s);
	fl_free(&f);
}

/* Alerts in epoch 0: a warning is noted, a fatal alert stops. */
static void
test_dtls_alerts(void)
{
	struct dtls_stream s;
	struct flight f = { 0 };
	static struct tr tr;

	rec_open(&t, TLS_CT_ALERT, 0xfefd, 0, 0);
	tb_u8(&t, 1); tb_u8(&t, 112);		/* warning, unrecognized_name */
	tb_close(&t);
	fl_push(&f);
	whole(&t, TLS_HS_SERVER_HELLO, sh.b, sh.n, 0);
	fl_push(&f);
	rec_open(&t, TLS_CT_ALERT, 0xfefd, 0, 1);
	tb_u8(&t, 2); tb_u8(&t, 40);		/* fatal, handshake_failure */
	tb_close(&t);
	whole(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 1);	/* after: not read */
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 1);
	T_CHECK(s.has_alert);
	T_EQ_U(s.alert[0], 1);			/* the first alert is the one kept */
	T_EQ_U(s.alert[1], 112);
	T_EQ_I(s.stop, DTLS_STOP_ALERT);
	T_CHECK(!dtls_stop_is_encrypted(s.stop));
	dtls_stream_free(&s);
	fl_free(&f);

	/* close_notify stops even at warning level */
	rec_open(&t, TLS_CT_ALERT, 0xfefd, 0, 0);
	tb_u8(&t, 1); tb_u8(&t, 0);		/* warning, close_notify */
	tb_close(&t);
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	T_EQ_I(run(&s, &f, NULL, 0, NULL), P_OK);
	T_EQ_I(s.stop, DTLS_STOP_ALERT);
	dtls_stream_free(&s);
	fl_free(&f);

	/* an alert record of odd length is malformed, not a stop */
	rec_open(&t, TLS_CT_ALERT, 0xfefd, 0, 0);
	tb_u8(&t, 2);
	tb_close(&t);
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	T_EQ_I(run(&s, &f, NULL, 0, NULL), P_OK);
	T_EQ_U(s.n_bad_records, 1);
	T_CHECK(!dtls_stream_stopped(&s));
	T_CHECK(!s.has_alert);
	dtls_stream_free(&s);
	fl_free(&f);
}

/* Caps: message size, messages ahead, ranges per message, memcap. */
static void
test_dtls_caps(void)
{
	static struct tr tr;
	struct dtls_stream s;
	struct flight f = { 0 };
	struct memcap mc;

	/* a kept message over hs_max: P_LIMIT before any allocation */
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 0);
	tb_u8(&t, TLS_HS_CERTIFICATE);
	tb_u24(&t, TLS_HS_MAX + 1);		/* length */
	tb_u16(&t, 0);				/* message_seq */
	tb_u24(&t, 0);				/* fragment_offset */
	tb_u24(&t, 100);			/* fragment_length */
	tb_fill(&t, 0x30, 100);
	tb_close(&t);
	fl_push(&f);
	memset(&mc, 0, sizeof(mc));
	dtls_stream_init(&s, &mc);
	T_EQ_I(run(&s, &f, NULL, 0, NULL), P_LIMIT);
	T_EQ_I(s.stop, DTLS_STOP_ERROR);
	T_EQ_I(s.err, P_LIMIT);
	T_EQ_U(s.n_over_cap, 1);
	T_EQ_U(mc.peak, 0);
	dtls_stream_free(&s);
	fl_free(&f);

	/* the same size is fine for a type whose body is not kept */
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 0);
	tb_u8(&t, TLS_HS_SERVER_KEY_EXCHANGE);
	tb_u24(&t, TLS_HS_MAX + 1); tb_u16(&t, 0); tb_u24(&t, 0); tb_u24(&t, 100);
	tb_fill(&t, 0x30, 100);
	tb_close(&t);
	fl_push(&f);
	memset(&mc, 0, sizeof(mc));
	dtls_stream_init(&s, &mc);
	T_EQ_I(run(&s, &f, NULL, 0, NULL), P_OK);
	T_CHECK(!dtls_stream_stopped(&s));
	T_CHECK(mc.peak < 4096);		/* ranges only, no body buffer */
	dtls_stream_free(&s);
	T_EQ_U(mc.used, 0);
	fl_free(&f);

	/* messages ahead: seq 4 waits (DTLS_AHEAD_MAX), seq 5 is too far */
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 0);
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, DTLS_AHEAD_MAX, 0, cert.n);
	tb_close(&t);
	fl_push(&f);
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 1);
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, DTLS_AHEAD_MAX + 1, 0, cert.n);
	tb_close(&t);
	fl_push(&f);
	memset(&mc, 0, sizeof(mc));
	dtls_stream_init(&s, &mc);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(dtls_feed(&s, f.dg[0], f.len[0], tr_cb, &tr), P_OK);
	T_CHECK(mc.used > 0);			/* held */
	T_EQ_I(dtls_feed(&s, f.dg[1], f.len[1], tr_cb, &tr), P_LIMIT);
	T_EQ_I(tr.n_msgs, 0);
	T_EQ_U(s.n_over_cap, 1);
	T_EQ_U(mc.used, 0);			/* stopping frees everything */
	dtls_stream_free(&s);
	fl_free(&f);

	/* more disjoint ranges than DTLS_FRAGS_MAX: every other 10 bytes */
	for (size_t i = 0; i <= DTLS_FRAGS_MAX; i++) {
		rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, i);
		frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 0, 20 * i + 20, 10);
		tb_close(&t);
	}
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	T_EQ_I(run(&s, &f, NULL, 0, NULL), P_LIMIT);
	T_EQ_U(s.n_over_cap, 1);
	dtls_stream_free(&s);
	fl_free(&f);
	/* the same fragments plus the gaps between them complete the message */
	for (size_t i = 0; i < DTLS_FRAGS_MAX; i++) {
		rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, i);
		frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 0, 20 * i + 20, 10);
		tb_close(&t);
	}
	fl_push(&f);
	for (size_t i = 0; i < DTLS_FRAGS_MAX; i++) {
		rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 100 + i);
		frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 0, 20 * i + 10, 10);
		tb_close(&t);
	}
	fl_push(&f);
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 200);
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 0, 0, 10);
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 0, 20 * DTLS_FRAGS_MAX + 10,
	    cert.n - (20 * DTLS_FRAGS_MAX + 10));
	tb_close(&t);
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_MEM(tr.out + 6, cert.b, cert.n);
	dtls_stream_free(&s);
	fl_free(&f);

	/* memcap refusal: no room for the slots, then none for the body */
	server_flight(&f, 300, 300);
	for (size_t lim = 100; lim <= 3000; lim += 2900) {
		memset(&mc, 0, sizeof(mc));
		mc.limit = lim;
		dtls_stream_init(&s, &mc);
		memset(&tr, 0, sizeof(tr));
		T_EQ_I(run(&s, &f, NULL, 0, &tr), P_NOMEM);
		T_EQ_I(tr.n_msgs, 1);		/* the ServerHello needed nothing */
		T_EQ_I(s.stop, DTLS_STOP_ERROR);
		T_EQ_I(s.err, P_NOMEM);
		T_CHECK(mc.n_refused > 0);
		T_EQ_U(mc.used, 0);
		dtls_stream_free(&s);
	}
	/* and with room enough, the same flight goes through */
	memset(&mc, 0, sizeof(mc));
	mc.limit = 8192;
	dtls_stream_init(&s, &mc);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 3);
	T_EQ_U(mc.n_refused, 0);
	dtls_stream_free(&s);
	fl_free(&f);
}

/*
 * Buffers grow with the bytes held: a lone fragment far into a large
 * message is dropped (DTLS_GAP_MAX), not paid for with a buffer of its
 * offset; the same message sent in order goes through.
 */
static void
test_dtls_gap(void)
{
	static struct tr tr;
	static uint8_t big[20000];
	struct dtls_stream s;
	struct flight f = { 0 };
	struct memcap mc = { 0 };
	size_t order[64], n;

	/* 26 bytes on the wire claiming the last byte of a 1 MiB Certificate */
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 0);
	tb_u8(&t, TLS_HS_CERTIFICATE);
	tb_u24(&t, TLS_HS_MAX);			/* length */
	tb_u16(&t, 0);				/* message_seq */
	tb_u24(&t, TLS_HS_MAX - 1);		/* fragment_offset */
	tb_u24(&t, 1);				/* fragment_length */
	tb_u8(&t, 0x42);
	tb_close(&t);
	fl_push(&f);
	dtls_stream_init(&s, &mc);
	T_EQ_I(run(&s, &f, NULL, 0, NULL), P_OK);
	T_EQ_U(s.n_gap_dropped, 1);
	T_EQ_U(mc.peak, 0);			/* nothing allocated for it */
	T_CHECK(!dtls_stream_stopped(&s));
	dtls_stream_free(&s);
	fl_free(&f);

	/* a 20000-byte message in 1000-byte fragments, one per datagram */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31 + i / 256);
	for (size_t off = 0; off < sizeof(big); off += 1000) {
		rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, off / 1000);
		frag(&t, TLS_HS_CERTIFICATE, big, sizeof(big), 0, off, 1000);
		tb_close(&t);
		fl_push(&f);
	}
	n = f.n;
	/* reversed: the two fragments beyond 2 * held + DTLS_GAP_MAX are
	 * dropped, so the message stays incomplete until they come again */
	for (size_t i = 0; i < n; i++)
		order[i] = n - 1 - i;
	dtls_stream_init(&s, &mc);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, order, n, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 0);
	T_EQ_U(s.n_gap_dropped, 2);
	order[0] = n - 2;			/* the retransmitted tail */
	order[1] = n - 1;
	T_EQ_I(run(&s, &f, order, 2, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_U(tr.out[6 + 19999], big[19999]);
	T_EQ_MEM(tr.out + 6, big, sizeof(big));
	dtls_stream_free(&s);
	T_EQ_U(mc.used, 0);

	/* in order: never more buffer than the message */
	memset(&mc, 0, sizeof(mc));
	dtls_stream_init(&s, &mc);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_U(s.n_gap_dropped, 0);
	T_CHECK(mc.peak <= sizeof(big) + 4096);
	dtls_stream_free(&s);
	fl_free(&f);
}

/* Fragments of one message_seq that disagree on length or type: P_BAD. */
static void
test_dtls_inconsistent_fragments(void)
{
	struct dtls_stream s;
	struct flight f = { 0 };

	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 0);
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 0, 0, 100);
	tb_close(&t);
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 1);
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n - 1, 0, 100, 100);	/* length - 1 */
	tb_close(&t);
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	T_EQ_I(run(&s, &f, NULL, 0, NULL), P_BAD);
	T_EQ_I(s.stop, DTLS_STOP_ERROR);
	T_EQ_I(s.err, P_BAD);
	dtls_stream_free(&s);
	fl_free(&f);

	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 0);
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 0, 0, 100);
	tb_close(&t);
	fl_push(&f);
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 1);
	frag(&t, TLS_HS_SERVER_KEY_EXCHANGE, cert.b, cert.n, 0, 100, 100);	/* type */
	tb_close(&t);
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	T_EQ_I(run(&s, &f, NULL, 0, NULL), P_BAD);
	dtls_stream_free(&s);
	fl_free(&f);
}

/* Malformed records are counted and skipped; the stream goes on. */
static void
test_dtls_malformed_records(void)
{
	static struct tr tr;
	struct dtls_stream s;
	struct flight f = { 0 };

	/* a record longer than the datagram, then a valid datagram */
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 0);
	frag(&t, TLS_HS_SERVER_HELLO, sh.b, sh.n, 0, 0, sh.n);
	tb_close(&t);
	t.n -= 1;				/* cut: the length says one more */
	fl_push(&f);
	/* a fragment past its message's end */
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 1);
	tb_u8(&t, TLS_HS_SERVER_HELLO); tb_u24(&t, 10); tb_u16(&t, 0);
	tb_u24(&t, 5); tb_u24(&t, 6); tb_fill(&t, 0, 6);
	tb_close(&t);
	fl_push(&f);
	/* a fragment longer than its record */
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 2);
	tb_u8(&t, TLS_HS_SERVER_HELLO); tb_u24(&t, 10); tb_u16(&t, 0);
	tb_u24(&t, 0); tb_u24(&t, 10); tb_fill(&t, 0, 6);
	tb_close(&t);
	fl_push(&f);
	/* a TLS (not DTLS) version */
	tb_u8(&t, TLS_CT_HANDSHAKE); tb_u16(&t, 0x0303); tb_u16(&t, 0); tb_fill(&t, 0, 6);
	tb_u16(&t, 0);
	fl_push(&f);
	/* STUN (first byte 0x00): not DTLS, ignored (RFC 7983) */
	tb_u16(&t, 0x0001);			/* Binding Request */
	tb_u16(&t, 0);				/* length */
	tb_u16(&t, 0x2112); tb_u16(&t, 0xa442);	/* magic cookie */
	tb_fill(&t, 0x21, 12);			/* transaction id */
	fl_push(&f);
	/* a TURN ChannelData message (first byte 64..79): not DTLS either */
	tb_u16(&t, 0x4000);			/* channel number */
	tb_u16(&t, 13);				/* length */
	tb_u8(&t, TLS_CT_HANDSHAKE); tb_u16(&t, 0xfefd); tb_fill(&t, 0, 10);
	fl_push(&f);
	whole(&t, TLS_HS_SERVER_HELLO, sh.b, sh.n, 0);
	fl_push(&f);
	dtls_stream_init(&s, NULL);
	memset(&tr, 0, sizeof(tr));
	T_EQ_I(run(&s, &f, NULL, 0, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_U(s.n_bad_records, 4);
	T_EQ_U(s.n_not_dtls, 2);
	T_EQ_U(s.n_datagrams, 7);
	T_CHECK(!dtls_stream_stopped(&s));
	dtls_stream_free(&s);
	fl_free(&f);
}

/* The callback can end the stream; later messages are not delivered. */
static void
test_dtls_caller_stop(void)
{
	static struct tr tr;
	struct dtls_stream s;
	struct flight f = { 0 };
	struct memcap mc = { 0 };
	size_t order[] = { 6, 5, 4, 3, 2, 1, 0 };

	server_flight(&f, 300, 300);
	dtls_stream_init(&s, &mc);
	memset(&tr, 0, sizeof(tr));
	tr.stop_after = 2;			/* stop after the Certificate */
	T_EQ_I(run(&s, &f, order, 7, &tr), P_OK);
	T_EQ_I(tr.n_msgs, 2);
	T_EQ_I(s.stop, DTLS_STOP_CALLER);
	T_EQ_U(mc.used, 0);			/* SHD was held: freed on stop */
	dtls_stream_free(&s);
	fl_free(&f);
}

/*
 * Every prefix of a multi-record datagram, in an exact-size buffer: records
 * wholly inside are read, the cut one is counted malformed, nothing more.
 */
static void
test_dtls_prefixes(void)
{
	struct dtls_stream s;
	size_t ends[4], n_rec = 0;
	uint8_t full[4096];
	size_t full_n;

	t.n = 0;
	whole(&t, TLS_HS_SERVER_HELLO, sh.b, sh.n, 0);
	ends[n_rec++] = t.n;
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 1);
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 1, 0, 700);
	tb_close(&t);
	ends[n_rec++] = t.n;
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 2);
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 1, 700, 700);
	frag(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 1, 1400, 300);
	tb_close(&t);
	ends[n_rec++] = t.n;
	rec_open(&t, TLS_CT_ALERT, 0xfefd, 0, 3);
	tb_u8(&t, 1); tb_u8(&t, 0x5a);
	tb_close(&t);
	ends[n_rec++] = t.n;
	memcpy(full, t.b, t.n);
	full_n = t.n;
	t.n = 0;

	int bad = 0;
	for (size_t k = 0; k < full_n && !bad; k++) {
		uint8_t *b = t_dup(full, k);
		struct memcap mc = { 0 };
		size_t whole_recs = 0;
		int st;

		while (whole_recs < n_rec && ends[whole_recs] <= k)
			whole_recs++;
		dtls_stream_init(&s, &mc);
		st = dtls_feed(&s, b, k, NULL, NULL);
		bad |= st != P_OK;
		bad |= s.n_msgs != (whole_recs > 0);	/* only the ServerHello completes */
		bad |= s.n_records != whole_recs;
		bad |= s.n_bad_records != (k > 0 && (whole_recs == 0 || ends[whole_recs - 1] != k));
		bad |= s.n_not_dtls != (k == 0);
		dtls_stream_free(&s);
		bad |= mc.used != 0;
		if (bad)
			fprintf(stderr, "  prefix %zu/%zu: st %d msgs %ju records %ju bad %ju\n",
			    k, full_n, st, (uintmax_t)s.n_msgs, (uintmax_t)s.n_records,
			    (uintmax_t)s.n_bad_records);
		free(b);
	}
	T_CHECK(!bad);
	T_CHECK(!dtls_looks_like_handshake(full, 12));
	T_CHECK(dtls_looks_like_handshake(full, ends[0]));
	T_CHECK(!dtls_looks_like_handshake(full, ends[0] - 1));
}

/*
 * One-bit flips of every bit of a datagram, fed to a stream that already
 * holds part of a message: any status, no crash, and the memory is given
 * back.  The same for dtls_looks_like_handshake().
 */
static void
test_dtls_bit_flips(void)
{
	struct dtls_stream s;
	struct flight f = { 0 };
	uint8_t *b;
	int bad = 0;

	server_flight(&f, 300, 300);
	for (size_t d = 0; d < f.n; d++) {
		b = t_dup(f.dg[d], f.len[d]);
		for (size_t i = 0; i < f.len[d] * 8; i++) {
			struct memcap mc = { 0 };
			int st;

			b[i / 8] ^= (uint8_t)(1u << (i % 8));
			dtls_stream_init(&s, &mc);
			(void)dtls_feed(&s, f.dg[1], f.len[1], NULL, NULL);	/* a held part */
			st = dtls_feed(&s, b, f.len[d], NULL, NULL);
			(void)dtls_feed(&s, f.dg[0], f.len[0], NULL, NULL);
			(void)dtls_looks_like_handshake(b, f.len[d]);
			bad |= st != P_OK && st != P_BAD && st != P_LIMIT;
			dtls_stream_free(&s);
			bad |= mc.used != 0;
			b[i / 8] ^= (uint8_t)(1u << (i % 8));
		}
		free(b);
	}
	T_CHECK(!bad);
	fl_free(&f);
}

/* dtls_looks_like_handshake(): hellos yes; other first records no. */
static void
test_dtls_looks_like(void)
{
	uint8_t junk[64];

	whole(&t, TLS_HS_CLIENT_HELLO, ch0.b, ch0.n, 0);
	T_CHECK(dtls_looks_like_handshake(t.b, t.n));
	t.n = 0;
	whole(&t, TLS_HS_SERVER_HELLO, sh.b, sh.n, 0);
	T_CHECK(dtls_looks_like_handshake(t.b, t.n));
	t.n = 0;
	/* a second fragment first: accepted (reordering) */
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfeff, 0, 1);
	frag(&t, TLS_HS_CLIENT_HELLO, ch0.b, ch0.n, 0, 50, ch0.n - 50);
	tb_close(&t);
	T_CHECK(dtls_looks_like_handshake(t.b, t.n));
	t.n = 0;
	/* epoch 1 */
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 1, 0);
	frag(&t, TLS_HS_CLIENT_HELLO, ch0.b, ch0.n, 0, 0, ch0.n);
	tb_close(&t);
	T_CHECK(!dtls_looks_like_handshake(t.b, t.n));
	t.n = 0;
	/* a TLS version in the record */
	rec_open(&t, TLS_CT_HANDSHAKE, 0x0303, 0, 0);
	frag(&t, TLS_HS_CLIENT_HELLO, ch0.b, ch0.n, 0, 0, ch0.n);
	tb_close(&t);
	T_CHECK(!dtls_looks_like_handshake(t.b, t.n));
	t.n = 0;
	/* a Certificate first */
	whole(&t, TLS_HS_CERTIFICATE, cert.b, cert.n, 0);
	T_CHECK(!dtls_looks_like_handshake(t.b, t.n));
	t.n = 0;
	/* a hello whose body does not start with a DTLS version */
	mb.n = 0;
	tb_client_hello(&mb, "x.example", 0);
	rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, 0);
	frag(&t, TLS_HS_CLIENT_HELLO, mb.b, mb.n, 0, 0, mb.n);
	tb_close(&t);
	T_CHECK(!dtls_looks_like_handshake(t.b, t.n));
	t.n = 0;
	mb.n = 0;
	/* message_seq 3 */
	whole(&t, TLS_HS_CLIENT_HELLO, ch0.b, ch0.n, 0);
	t.b[13 + 4] = 0;			/* record header, type, length, */
	t.b[13 + 5] = 3;			/* then message_seq */
	T_CHECK(!dtls_looks_like_handshake(t.b, t.n));
	t.n = 0;
	/* application data, random bytes, nothing */
	rec_open(&t, TLS_CT_APPDATA, 0xfefd, 0, 0);
	tb_fill(&t, 0xaa, 40);
	tb_close(&t);
	T_CHECK(!dtls_looks_like_handshake(t.b, t.n));
	t.n = 0;
	uint32_t x = 99;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245 + 12345;
		junk[i] = (uint8_t)(x >> 16);
	}
	T_CHECK(!dtls_looks_like_handshake(junk, sizeof(junk)));
	T_CHECK(!dtls_looks_like_handshake(junk, 0));
}

/* Random datagrams, some with a valid record header: no crash, no leak. */
static void
test_dtls_garbage(void)
{
	struct dtls_stream s;
	struct memcap mc = { 0 };
	uint32_t x = 12345;
	int bad = 0;

	dtls_stream_init(&s, &mc);
	for (int round = 0; round < 2000; round++) {
		t.n = 0;
		if (round % 2) {
			rec_open(&t, TLS_CT_HANDSHAKE, 0xfefd, 0, (unsigned long)round);
			tb_u8(&t, round % 3 ? TLS_HS_CERTIFICATE : TLS_HS_SERVER_KEY_EXCHANGE);
			tb_u24(&t, 3000);
			x = x * 1103515245 + 12345;
			tb_u16(&t, (x >> 16) % 6);
			x = x * 1103515245 + 12345;
			tb_u24(&t, (x >> 16) % 3000);
			tb_u24(&t, 0);
		}
		size_t want = t.n + (size_t)(round * 37) % 300;
		while (t.n < want) {
			x = x * 1103515245 + 12345;
			tb_u8(&t, x >> 16);
		}
		if (round % 2) {		/* make the fragment fit its record */
			size_t flen = t.n - 25;
			tb_close(&t);
			t.b[22] = (uint8_t)(flen >> 16);
			t.b[23] = (uint8_t)(flen >> 8);
			t.b[24] = (uint8_t)flen;
		}
		uint8_t *b = t_dup(t.b, t.n);
		(void)dtls_feed(&s, b, t.n, NULL, NULL);
		free(b);
		if (dtls_stream_stopped(&s)) {
			dtls_stream_free(&s);
			bad |= mc.used != 0;
			dtls_stream_init(&s, &mc);
		}
	}
	dtls_stream_free(&s);
	T_EQ_U(mc.used, 0);
	T_CHECK(!bad);
	t.n = 0;
}

int
main(void)
{
	build_bodies();
	T_RUN(test_dtls_client_hello_one_record);
	T_RUN(test_dtls_certificate_fragments);
	T_RUN(test_dtls_retransmitted_flight);
	T_RUN(test_dtls_stop_from_callback);
	T_RUN(test_dtls_hello_verify_request);
	T_RUN(test_dtls_ccs_and_epoch_stop);
	T_RUN(test_dtls_13_unified_header);
	T_RUN(test_dtls_alerts);
	T_RUN(test_dtls_caps);
	T_RUN(test_dtls_gap);
	T_RUN(test_dtls_inconsistent_fragments);
	T_RUN(test_dtls_malformed_records);
	T_RUN(test_dtls_caller_stop);
	T_RUN(test_dtls_prefixes);
	T_RUN(test_dtls_bit_flips);
	T_RUN(test_dtls_looks_like);
	T_RUN(test_dtls_garbage);
	T_SUMMARY();
}
