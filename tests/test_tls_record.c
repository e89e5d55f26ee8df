/* test_tls_record.c: streaming record layer and handshake reassembly. */
#include <stdint.h>

#include "../parser/pstat.h"
#include "../parser/tls_hs.h"
#include "../parser/tls_record.h"
#include "t.h"
#include "tb.h"

static struct tb t;

/* What a stream produced: each message (type, length, body) and the stop. */
struct transcript {
	uint8_t out[1 << 18];
	size_t n;
	int n_msgs;
	int stop;
	int err;
	size_t preamble;
};

static void
tr_add(struct transcript *tr, const struct tls_msg *m)
{
	tr->out[tr->n++] = m->type;
	tr->out[tr->n++] = m->is_sslv2;
	memcpy(tr->out + tr->n, &m->len, sizeof(m->len));
	tr->n += sizeof(m->len);
	if (m->kept && m->len > 0) {
		memcpy(tr->out + tr->n, m->body, m->len);
		tr->n += m->len;
	}
	tr->n_msgs++;
}

/*
 * Feed buf[0..len) in pieces whose sizes cycle through cuts[], a list ended
 * by 0; a list that is just { 0 } feeds everything at once.
 */
static void
run(const uint8_t *buf, size_t len, const size_t *cuts, struct transcript *tr,
    void (*setup)(struct tls_stream *))
{
	struct tls_stream s;
	struct tls_msg m;
	size_t off = 0, ci = 0;

	memset(tr, 0, sizeof(*tr));
	tls_stream_init(&s, NULL);
	if (setup)
		setup(&s);
	while (off < len) {
		if (cuts[ci] == 0 && ci > 0)
			ci = 0;
		size_t piece = cuts[ci] ? cuts[ci++] : len - off;
		if (piece > len - off)
			piece = len - off;
		uint8_t *b = t_dup(buf + off, piece);	/* exact size for ASan */
		size_t k = 0;
		while (k < piece) {
			int n = tls_feed(&s, b + k, piece - k, &m);
			if (n < 0)
				break;
			if (m.type)
				tr_add(tr, &m);
			if (n == 0 && m.type == 0 && !tls_stream_stopped(&s)) {
				T_CHECK(!"tls_feed made no progress");
				break;
			}
			k += (size_t)n;
		}
		free(b);
		off += piece;
	}
	tr->stop = s.stop;
	tr->err = s.err;
	tr->preamble = s.preamble_len;
	tls_stream_free(&s);
}

static int
tr_same(const struct transcript *a, const struct transcript *b)
{
	return a->n == b->n && memcmp(a->out, b->out, a->n) == 0 &&
	    a->stop == b->stop && a->err == b->err && a->preamble == b->preamble;
}

/* One-shot, every 2-way split and byte-at-a-time give identical output. */
static void
check_splits(const struct transcript *whole, void (*setup)(struct tls_stream *))
{
	static struct transcript tr;
	size_t one[] = { 1, 0 };
	int bad = 0;

	for (size_t cut = 1; cut < t.n && !bad; cut++) {
		size_t two[] = { cut, t.n, 0 };
		run(t.b, t.n, two, &tr, setup);
		if (!tr_same(&tr, whole)) {
			fprintf(stderr, "  split at %zu differs\n", cut);
			bad = 1;
		}
	}
	T_CHECK(!bad);
	run(t.b, t.n, one, &tr, setup);
	T_CHECK(tr_same(&tr, whole));
}

static const size_t whole_cut[] = { 0 };

/* A client flight: ClientHello in one record, then CCS. */
static void
test_tls_record_client_hello_then_ccs(void)
{
	static struct transcript tr;
	size_t rec;

	t.n = 0;
	rec = t.n;
	tb_hs_begin(&t, TLS_HS_CLIENT_HELLO);
	tb_client_hello(&t, "www.icloud.com", 0);
	tb_close(&t);
	tb_recordize(&t, rec, TLS_CT_HANDSHAKE, 16384);
	tb_u8(&t, TLS_CT_CCS); tb_u16(&t, 0x0303); tb_u16(&t, 1); tb_u8(&t, 1);
	tb_u8(&t, TLS_CT_HANDSHAKE); tb_u16(&t, 0x0303); tb_u16(&t, 40);
	tb_fill(&t, 0xee, 40);			/* encrypted Finished: never read */
	run(t.b, t.n, whole_cut, &tr, NULL);
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_U(tr.out[0], TLS_HS_CLIENT_HELLO);
	T_EQ_I(tr.stop, TLS_STOP_CCS);
	T_EQ_U(tr.preamble, 0);
	check_splits(&tr, NULL);

	/* the body returned parses as the hello that was built */
	struct tls_client_hello ch;
	uint32_t len;
	memcpy(&len, tr.out + 2, sizeof(len));
	T_EQ_I(tls_hs_client_hello(tr.out + 2 + sizeof(len), len, &ch), P_OK);
	T_EQ_STR(ch.sni, "www.icloud.com");
}

/* A server flight in 100-byte records: messages span records, and several
 * messages share one record. */
static void
test_tls_record_server_flight_fragmented(void)
{
	static struct transcript tr;
	size_t rec;

	t.n = 0;
	rec = t.n;
	tb_hs_begin(&t, TLS_HS_SERVER_HELLO);
	tb_server_hello(&t, 0x0303, 0xc02f);
	tb_close(&t);
	tb_hs_begin(&t, TLS_HS_CERTIFICATE);
	tb_open(&t, 3);
	tb_open(&t, 3); tb_fill(&t, 0x30, 1500); tb_close(&t);
	tb_open(&t, 3); tb_fill(&t, 0x31, 900); tb_close(&t);
	tb_close(&t);
	tb_close(&t);
	tb_hs_begin(&t, TLS_HS_SERVER_KEY_EXCHANGE);
	tb_fill(&t, 0x44, 300);			/* skipped: body not kept */
	tb_close(&t);
	tb_hs_begin(&t, TLS_HS_SERVER_HELLO_DONE);
	tb_close(&t);
	tb_recordize(&t, rec, TLS_CT_HANDSHAKE, 100);
	tb_u8(&t, TLS_CT_CCS); tb_u16(&t, 0x0303); tb_u16(&t, 1); tb_u8(&t, 1);
	run(t.b, t.n, whole_cut, &tr, NULL);
	T_EQ_I(tr.n_msgs, 4);
	T_EQ_I(tr.stop, TLS_STOP_CCS);
	T_EQ_I(tr.err, P_OK);
	check_splits(&tr, NULL);

	/* the same flight in one record yields the same messages */
	static struct transcript one;
	struct tb *saved = malloc(sizeof(*saved));
	memcpy(saved, &t, sizeof(t));
	t.n = 0;
	rec = 0;
	tb_hs_begin(&t, TLS_HS_SERVER_HELLO);
	tb_server_hello(&t, 0x0303, 0xc02f);
	tb_close(&t);
	tb_hs_begin(&t, TLS_HS_CERTIFICATE);
	tb_open(&t, 3);
	tb_open(&t, 3); tb_fill(&t, 0x30, 1500); tb_close(&t);
	tb_open(&t, 3); tb_fill(&t, 0x31, 900); tb_close(&t);
	tb_close(&t);
	tb_close(&t);
	tb_hs_begin(&t, TLS_HS_SERVER_KEY_EXCHANGE);
	tb_fill(&t, 0x44, 300);
	tb_close(&t);
	tb_hs_begin(&t, TLS_HS_SERVER_HELLO_DONE);
	tb_close(&t);
	tb_recordize(&t, rec, TLS_CT_HANDSHAKE, 16384);
	tb_u8(&t, TLS_CT_CCS); tb_u16(&t, 0x0303); tb_u16(&t, 1); tb_u8(&t, 1);
	run(t.b, t.n, whole_cut, &one, NULL);
	T_CHECK(tr_same(&tr, &one));
	memcpy(&t, saved, sizeof(t));
	free(saved);
}

/*
 * An empty message (ServerHelloDone) whose 4-byte header crosses a record
 * boundary: no body to copy, and no buffer may have been allocated for it
 * (fuzz_pcap found a zero offset applied to NULL here).
 */
static void
test_tls_record_empty_message_header_across_records(void)
{
	static struct transcript tr;
	size_t rec, msgs;

	t.n = 0;
	rec = t.n;
	tb_hs_begin(&t, TLS_HS_SERVER_HELLO);
	tb_server_hello(&t, 0x0303, 0xc02f);
	tb_close(&t);
	tb_hs_begin(&t, TLS_HS_SERVER_HELLO_DONE);
	tb_close(&t);
	msgs = t.n - rec;
	tb_recordize(&t, rec, TLS_CT_HANDSHAKE, msgs - 2);	/* 2 header bytes in the 2nd record */
	tb_u8(&t, TLS_CT_CCS); tb_u16(&t, 0x0303); tb_u16(&t, 1); tb_u8(&t, 1);
	run(t.b, t.n, whole_cut, &tr, NULL);
	T_EQ_I(tr.n_msgs, 2);
	T_EQ_I(tr.out[0], TLS_HS_SERVER_HELLO);
	T_EQ_I(tr.stop, TLS_STOP_CCS);
	T_EQ_I(tr.err, P_OK);
	check_splits(&tr, NULL);
}

/* SMTP-style cleartext before the hello: found by the scanner. */
static void
test_tls_record_after_preamble(void)
{
	static struct transcript tr;
	static const char pre[] = "220 mail.example ESMTP\r\n250-STARTTLS\r\n"
	    "220 2.0.0 Ready to start TLS\r\n";
	size_t rec;

	t.n = 0;
	tb_str(&t, pre);
	rec = t.n;
	tb_hs_begin(&t, TLS_HS_SERVER_HELLO);
	tb_server_hello(&t, 0x0303, 0x009c);
	tb_close(&t);
	tb_recordize(&t, rec, TLS_CT_HANDSHAKE, 16384);
	tb_u8(&t, TLS_CT_APPDATA); tb_u16(&t, 0x0303); tb_u16(&t, 4); tb_fill(&t, 0, 4);
	run(t.b, t.n, whole_cut, &tr, NULL);
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_U(tr.out[0], TLS_HS_SERVER_HELLO);
	T_EQ_U(tr.preamble, strlen(pre));
	T_EQ_I(tr.stop, TLS_STOP_APPDATA);
	check_splits(&tr, NULL);
}

static void
test_tls_record_not_tls(void)
{
	static struct transcript tr;
	size_t cut[] = { 1000, 0 };

	t.n = 0;
	while (t.n < TLS_PREAMBLE_MAX + 2000)
		tb_str(&t, "GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n");
	run(t.b, t.n, cut, &tr, NULL);
	T_EQ_I(tr.n_msgs, 0);
	T_EQ_I(tr.stop, TLS_STOP_NOT_TLS);
}

/* TLS 1.3 with middlebox compatibility: CCS is skipped, app data stops. */
static void
compat(struct tls_stream *s)
{
	s->ccs_is_compat = true;
}

static void
test_tls_record_tls13_compat_ccs(void)
{
	static struct transcript tr;
	size_t rec;

	t.n = 0;
	rec = t.n;
	tb_hs_begin(&t, TLS_HS_CLIENT_HELLO);
	tb_client_hello(&t, "a.example", 1);
	tb_close(&t);
	tb_recordize(&t, rec, TLS_CT_HANDSHAKE, 16384);
	tb_u8(&t, TLS_CT_CCS); tb_u16(&t, 0x0303); tb_u16(&t, 1); tb_u8(&t, 1);
	rec = t.n;				/* second ClientHello after an HRR */
	tb_hs_begin(&t, TLS_HS_CLIENT_HELLO);
	tb_client_hello(&t, "b.example", 1);
	tb_close(&t);
	tb_recordize(&t, rec, TLS_CT_HANDSHAKE, 16384);
	tb_u8(&t, TLS_CT_APPDATA); tb_u16(&t, 0x0303); tb_u16(&t, 4); tb_fill(&t, 0, 4);
	run(t.b, t.n, whole_cut, &tr, compat);
	T_EQ_I(tr.n_msgs, 2);
	T_EQ_I(tr.stop, TLS_STOP_APPDATA);
	check_splits(&tr, compat);
	run(t.b, t.n, whole_cut, &tr, NULL);	/* without compat, CCS stops */
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_I(tr.stop, TLS_STOP_CCS);
}

static void
test_tls_record_fatal_alert(void)
{
	static struct transcript tr;

	t.n = 0;
	tb_u8(&t, TLS_CT_ALERT); tb_u16(&t, 0x0303); tb_u16(&t, 2);
	tb_u8(&t, 2); tb_u8(&t, 48);		/* fatal, unknown_ca */
	tb_u8(&t, TLS_CT_HANDSHAKE); tb_u16(&t, 0x0303); tb_u16(&t, 4); tb_u24(&t, 0x0e0000);
	run(t.b, t.n, whole_cut, &tr, NULL);
	T_EQ_I(tr.stop, TLS_STOP_ALERT);
	T_EQ_I(tr.n_msgs, 0);
	check_splits(&tr, NULL);
}

static void
test_tls_record_bad_header_midstream(void)
{
	static struct transcript tr;
	size_t rec;

	t.n = 0;
	rec = t.n;
	tb_hs_begin(&t, TLS_HS_SERVER_HELLO);
	tb_server_hello(&t, 0x0303, 0x009c);
	tb_close(&t);
	tb_recordize(&t, rec, TLS_CT_HANDSHAKE, 16384);
	tb_u8(&t, TLS_CT_HANDSHAKE); tb_u16(&t, 0x0303); tb_u16(&t, 0xffff);	/* > cap */
	run(t.b, t.n, whole_cut, &tr, NULL);
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_I(tr.stop, TLS_STOP_ERROR);
	T_EQ_I(tr.err, P_BAD);
	check_splits(&tr, NULL);
}

/* A kept message longer than hs_max: P_LIMIT before any allocation. */
static void
small_hs(struct tls_stream *s)
{
	s->hs_max = 1000;
}

static void
test_tls_record_message_over_cap(void)
{
	static struct transcript tr;
	size_t rec;

	t.n = 0;
	rec = t.n;
	tb_hs_begin(&t, TLS_HS_CERTIFICATE);
	tb_open(&t, 3); tb_open(&t, 3); tb_fill(&t, 0x30, 2000); tb_close(&t); tb_close(&t);
	tb_close(&t);
	tb_recordize(&t, rec, TLS_CT_HANDSHAKE, 16384);
	run(t.b, t.n, whole_cut, &tr, small_hs);
	T_EQ_I(tr.stop, TLS_STOP_ERROR);
	T_EQ_I(tr.err, P_LIMIT);
	check_splits(&tr, small_hs);
}

/* A budget too small for the message buffer: P_NOMEM, counted. */
static void
test_tls_record_memcap(void)
{
	struct memcap mc = { .limit = 500 };
	struct tls_stream s;
	struct tls_msg m;
	size_t rec;
	int n;

	t.n = 0;
	rec = t.n;
	tb_hs_begin(&t, TLS_HS_CERTIFICATE);
	tb_open(&t, 3); tb_open(&t, 3); tb_fill(&t, 0x30, 2000); tb_close(&t); tb_close(&t);
	tb_close(&t);
	tb_recordize(&t, rec, TLS_CT_HANDSHAKE, 1000);	/* spans records: must copy */
	tls_stream_init(&s, &mc);
	n = tls_feed(&s, t.b, t.n, &m);
	T_EQ_I(n, P_NOMEM);
	T_EQ_I(s.stop, TLS_STOP_ERROR);
	T_EQ_U(mc.n_refused, 1);
	T_EQ_U(mc.used, 0);
	tls_stream_free(&s);

	mc.limit = 1 << 20;			/* enough: taken, then given back */
	tls_stream_init(&s, &mc);
	n = tls_feed(&s, t.b, t.n, &m);
	T_CHECK(n > 0);
	T_EQ_U(m.type, TLS_HS_CERTIFICATE);
	T_CHECK(mc.used > 0);
	tls_stream_free(&s);
	T_EQ_U(mc.used, 0);
}

/* An SSL 2.0-format ClientHello followed by TLS records (a v3 upgrade). */
static void
test_tls_record_sslv2_hello_then_tls(void)
{
	static struct transcript tr;

	t.n = 0;
	tb_u16(&t, 0x8000 | 31);		/* 2-byte SSLv2 header, 31-byte message */
	tb_u8(&t, 1);				/* CLIENT-HELLO */
	tb_u16(&t, 0x0301);
	tb_u16(&t, 6); tb_u16(&t, 0); tb_u16(&t, 16);
	tb_u8(&t, 0); tb_u16(&t, 0x002f);
	tb_u8(&t, 0); tb_u16(&t, 0x0035);
	tb_fill(&t, 0xab, 16);
	tb_u8(&t, TLS_CT_HANDSHAKE); tb_u16(&t, 0x0301); tb_u16(&t, 4);	/* ClientKeyExchange */
	tb_u8(&t, TLS_HS_CLIENT_KEY_EXCHANGE); tb_u24(&t, 0);
	tb_u8(&t, TLS_CT_CCS); tb_u16(&t, 0x0301); tb_u16(&t, 1); tb_u8(&t, 1);
	run(t.b, t.n, whole_cut, &tr, NULL);
	T_EQ_I(tr.n_msgs, 2);
	T_EQ_U(tr.out[0], 1);
	T_EQ_U(tr.out[1], 1);			/* is_sslv2 */
	T_EQ_I(tr.stop, TLS_STOP_CCS);
	check_splits(&tr, NULL);

	struct tls_client_hello ch;
	T_EQ_I(tls_hs_sslv2_client_hello(tr.out + 6, 31, &ch), P_OK);
	T_EQ_U(ch.n_ciphers, 2);
}

/* A real SSL 2.0 client: CLIENT-HELLO, then CLIENT-MASTER-KEY: a stop, not an error. */
static void
test_tls_record_sslv2_session(void)
{
	static struct transcript tr;

	t.n = 0;
	tb_u16(&t, 0x8000 | 28);		/* CLIENT-HELLO, 28 bytes */
	tb_u8(&t, 1);
	tb_u16(&t, 0x0002);			/* SSL 2.0 */
	tb_u16(&t, 3); tb_u16(&t, 0); tb_u16(&t, 16);
	tb_u8(&t, 0x01); tb_u16(&t, 0x0080);	/* SSL2_RC4_128_WITH_MD5 */
	tb_fill(&t, 0xab, 16);
	tb_u16(&t, 0x8000 | 10);		/* CLIENT-MASTER-KEY: encrypted key follows */
	tb_u8(&t, 2);
	tb_fill(&t, 0x77, 9);
	run(t.b, t.n, whole_cut, &tr, NULL);
	T_EQ_I(tr.n_msgs, 1);
	T_EQ_I(tr.stop, TLS_STOP_SSLV2);
	T_EQ_I(tr.err, P_OK);
	check_splits(&tr, NULL);
}

/* Random bytes never crash the stream, however they are cut. */
static void
test_tls_record_garbage(void)
{
	static struct transcript tr;
	size_t cut[] = { 7, 13, 1, 0 };
	uint32_t x = 12345;

	for (int round = 0; round < 200; round++) {
		t.n = 0;
		if (round % 2) {		/* a valid-looking header, random body */
			tb_u8(&t, TLS_CT_HANDSHAKE); tb_u16(&t, 0x0303); tb_u16(&t, 400);
		}
		while (t.n < 600) {
			x = x * 1103515245 + 12345;
			tb_u8(&t, x >> 16);
		}
		run(t.b, t.n, cut, &tr, NULL);
	}
	T_CHECK(1);
}

int
main(void)
{
	T_RUN(test_tls_record_client_hello_then_ccs);
	T_RUN(test_tls_record_server_flight_fragmented);
	T_RUN(test_tls_record_empty_message_header_across_records);
	T_RUN(test_tls_record_after_preamble);
	T_RUN(test_tls_record_not_tls);
	T_RUN(test_tls_record_tls13_compat_ccs);
	T_RUN(test_tls_record_fatal_alert);
	T_RUN(test_tls_record_bad_header_midstream);
	T_RUN(test_tls_record_message_over_cap);
	T_RUN(test_tls_record_memcap);
	T_RUN(test_tls_record_sslv2_hello_then_tls);
	T_RUN(test_tls_record_sslv2_session);
	T_RUN(test_tls_record_garbage);
	T_SUMMARY();
}
