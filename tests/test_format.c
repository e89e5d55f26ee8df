/* test_format.c: CEF and text renderings, RFC 5424 framing, syslog URLs and queue. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "../output/event.h"
#include "../output/format.h"
#include "../output/report.h"
#include "../output/syslog.h"
#include "t.h"

/* A handshake with hostile strings and one alerting finding (as in test_event). */
static struct tls_client_hello ch;
static struct tls_server_hello sh;
static struct cert_info leaf, *chain[1] = { &leaf };
static struct rule_issuer ri = { .text = "O=Good|CA" };
static struct rule r = { .name = "watch", .severity = SEV_HIGH, .issuers = &ri, .n_issuers = 1 };
static struct judgement j;
static struct ev_handshake hs;
static uint8_t cip[16] = { 10, 0, 0, 1 }, sip[16] = { 10, 0, 0, 2 };
static char subj[] = "CN=a\\,b\n|x=y\r";

static void
make_hs(void)
{
	static const char sni[] = "evil.example";

	memset(&ch, 0, sizeof(ch));
	memcpy(ch.sni, sni, sizeof(sni) - 1);
	ch.sni_len = sizeof(sni) - 1;
	ch.has_sni = true;
	memset(&sh, 0, sizeof(sh));
	sh.version = 0x0303;
	sh.cipher = 0xc02f;
	memset(&leaf, 0, sizeof(leaf));
	leaf.decoded = true;
	leaf.subject = subj;
	leaf.issuer = subj;
	leaf.version = 3;
	memset(&hs, 0, sizeof(hs));
	hs.ts_us = 1417392000123456;		/* 2014-12-01T00:00:00.123456Z */
	hs.family = 4;
	hs.client_ip = cip;
	hs.server_ip = sip;
	hs.client_port = 50000;
	hs.server_port = 443;
	hs.ch = &ch;
	hs.n_client_hellos = 1;
	hs.sh = &sh;
	hs.chain = chain;
	hs.chain_len = hs.chain_total = 1;
	hs.cert_visible = true;
	memset(&j, 0, sizeof(j));
	j.rule = &r;
	j.rule_name_source = "sni";
	j.verdict = EV_UNEXPECTED_ISSUER;
	j.n_findings = 1;
	j.findings[0] = (struct judge_finding){ .reason = R_UNEXPECTED_ISSUER, .alert = true,
	    .severity = SEV_HIGH, .by_rule = true, .detail = "issued by 'x=y'" };
	j.trust.status = "not-checked";
	hs.j = &j;
}

static struct ev_buf esc_buf;

static char *
esc(const char *in, size_t len, bool header)
{
	struct ev_buf *b = &esc_buf;

	ev_buf_reset(b);
	if (header)
		fmt_cef_header_esc(b, in, len);
	else
		fmt_cef_value_esc(b, in, len);
	return b->p;
}

/* CEF spec ("Character encoding"): header \ and |; extension \ = and newlines. */
static void
test_format_cef_escaping(void)
{
	T_EQ_STR(esc("a|b\\c", 5, true), "a\\|b\\\\c");
	T_EQ_STR(esc("a=b", 3, true), "a=b");		/* '=' is plain in a header */
	T_EQ_STR(esc("l1\nl2", 5, true), "l1 l2");	/* a header cannot hold a newline */
	T_EQ_STR(esc("a=b\\c|d", 7, false), "a\\=b\\\\c|d");	/* '|' is plain in a value */
	T_EQ_STR(esc("l1\nl2\rl3", 8, false), "l1\\nl2\\rl3");
	/* a control byte and invalid UTF-8 become U+FFFD; valid UTF-8 stays */
	T_EQ_STR(esc("a\x01" "b\xff" "c\xc3\xa9", 7, false), "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xc3\xa9");
	T_EQ_STR(esc("\xe0\x80\x80", 3, false), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");	/* overlong */
	T_EQ_STR(esc("x\0y", 3, true), "x\xef\xbf\xbdy");
	ev_buf_free(&esc_buf);
}

static char *ev_text;
static size_t ev_len;

/* Emit the handshake and its alert through an ev_out in format f. */
static void
emit(enum ev_format f, bool colour)
{
	struct ev_out o;
	char err[128];

	T_EQ_I(ev_out_open(&o, NULL, false, err, sizeof(err)), 0);
	o.fp = open_memstream(&ev_text, &ev_len);
	ev_out_set_format(&o, f, colour);
	ev_emit_handshake(&o, &hs);
	ev_emit_alert(&o, &hs, 0);
	T_EQ_U(o.n.n_events, 2);
	fclose(o.fp);
	o.fp = NULL;
	ev_out_close(&o);
}

static void
test_format_cef_event(void)
{
	char *alert;
	size_t lines = 0;

	make_hs();
	emit(EV_FMT_CEF, false);
	for (size_t i = 0; i < ev_len; i++)
		lines += ev_text[i] == '\n';
	T_EQ_U(lines, 2);			/* the subject's newline and CR stayed escaped */
	T_CHECK(strncmp(ev_text, "CEF:0|tlsentry|tlsentry|", 24) == 0);
	T_CHECK(strstr(ev_text, "|tls-handshake|TLS handshake|1|rt=1417392000123 ") != NULL);
	T_CHECK(strstr(ev_text, " src=10.0.0.1 spt=50000 dst=10.0.0.2 dpt=443 dhost=evil.example ")
	    != NULL);
	T_CHECK(strstr(ev_text, " cs2=CN\\=a\\\\,b\\n|x\\=y\\r cs2Label=certificateIssuer ") != NULL);
	T_CHECK(strstr(ev_text, " cs4=O\\=Good|CA cs4Label=expectedIssuers ") != NULL);
	T_CHECK(strstr(ev_text, " cs1=watch cs1Label=rule ") != NULL);
	T_CHECK(strstr(ev_text, " cs5=unexpected-issuer cs5Label=verdict ") != NULL);
	T_CHECK(strstr(ev_text, " tlsentryFindings=unexpected-issuer ") != NULL);
	alert = strchr(ev_text, '\n') + 1;
	/* severity: SEV_HIGH is CEF 8; the signature is the reason */
	T_CHECK(strncmp(alert, "CEF:0|tlsentry|tlsentry|", 24) == 0);
	T_CHECK(strstr(alert, "|unexpected-issuer|TLS alert: unexpected-issuer|8|") != NULL);
	T_CHECK(strstr(alert, " cat=tlsentry.alert ") != NULL);
	T_CHECK(strstr(alert, " reason=unexpected-issuer ") != NULL);
	T_CHECK(strstr(alert, " tlsentryAlertDetail=issued by 'x\\=y' ") != NULL);
	T_CHECK(strstr(alert, " msg=") != NULL);
	free(ev_text);
}

static void
test_format_text(void)
{
	make_hs();
	emit(EV_FMT_TEXT, false);
	T_CHECK(strchr(ev_text, '\x1b') == NULL);	/* no colour unless asked */
	T_CHECK(strncmp(ev_text, "2014-12-01T00:00:00Z 10.0.0.1:50000 unexpected-issuer ", 54) == 0);
	T_CHECK(strstr(ev_text, "\n2014-12-01T00:00:00Z ALERT high ") != NULL);
	free(ev_text);
	emit(EV_FMT_TEXT, true);			/* a terminal: red alerts, dim handshakes */
	T_CHECK(strncmp(ev_text, "\x1b[2m2014-12-01", 14) == 0);
	T_CHECK(strstr(ev_text, "\x1b[0m\n\x1b[1;31m2014-12-01T00:00:00Z ALERT") != NULL);
	free(ev_text);
	emit(EV_FMT_JSON, true);			/* colour means nothing to JSON */
	T_CHECK(strchr(ev_text, '\x1b') == NULL);
	free(ev_text);
}

static void
test_format_rfc5424(void)
{
	struct ev_buf b = { 0 };

	/* local0.err = 16 * 8 + 3 */
	fmt_rfc5424_header(&b, 131, 1417392000123456, "sensor-1", "tlsentry", 42, "ALERT", 7);
	T_EQ_STR(b.p, "<131>1 2014-12-01T00:00:00.123456Z sensor-1 tlsentry 42 ALERT "
	    "[meta sequenceId=\"7\"] ");
	ev_buf_reset(&b);
	/* a space or non-ASCII in a header field would break the record */
	fmt_rfc5424_header(&b, 999, -1, "bad host\xc3\xa9", "", 1, "M", 0);
	T_EQ_STR(b.p, "<191>1 1969-12-31T23:59:59.999999Z bad_host__ - 1 M - ");
	ev_buf_free(&b);
}

static void
test_format_udp_cut(void)
{
	struct ev_buf out = { 0 };
	const char hdr[] = "<134>1 - h a 1 M - ";
	char msg[300];
	size_t hl = sizeof(hdr) - 1, len;

	memcpy(msg, hdr, hl);
	memset(msg + hl, 'x', 200);
	len = hl + 200;
	T_CHECK(!fmt_syslog_cut(msg, len, hl, len, &out));	/* fits: as it is */
	T_EQ_U(out.len, len);
	T_CHECK(fmt_syslog_cut(msg, len, hl, 120, &out));
	T_CHECK(out.len <= 120);
	T_CHECK(out.len > 100);				/* cut, not emptied */
	T_EQ_MEM(out.p, hdr, hl);			/* the header is whole */
	T_CHECK(strstr(out.p, "...[truncated from 200 bytes]") == out.p + out.len - 29);
	/* a two-byte character across the cut is left out whole, not split */
	for (size_t i = hl; i + 1 < len; i += 2) {
		msg[i] = '\xc3';
		msg[i + 1] = '\xa9';
	}
	for (size_t max = 100; max < 110; max++) {
		T_CHECK(fmt_syslog_cut(msg, len, hl, max, &out));
		size_t body = out.len - 29 - hl;
		T_EQ_U(body % 2, 0);
		T_CHECK(out.len <= max);
	}
	ev_buf_free(&out);
	char count[16];
	T_EQ_I(fmt_octet_count(count, sizeof(count), 1234), 5);	/* RFC 6587: "LEN SP" */
	T_EQ_STR(count, "1234 ");
}

static void
url(const char *u, int rc, const char *scheme, const char *host, const char *port)
{
	char s[16], h[256], p[16], err[256];

	T_EQ_I(syslog_parse_url(u, s, sizeof(s), h, sizeof(h), p, sizeof(p), err, sizeof(err)), rc);
	if (rc == 0) {
		T_EQ_STR(s, scheme);
		T_EQ_STR(h, host);
		T_EQ_STR(p, port);
	}
}

static void
test_format_syslog_url(void)
{
	url("udp://127.0.0.1:514", 0, "udp", "127.0.0.1", "514");
	url("tls://collector.example:6514", 0, "tls", "collector.example", "6514");
	url("tcp://[::1]:601", 0, "tcp", "::1", "601");
	url("relp://[fe80::1]", 0, "relp", "fe80::1", "");
	url("unix:///dev/log", 0, "unix", "/dev/log", "");
	url("tcp://host", 0, "tcp", "host", "");
	url("collector:514", -1, NULL, NULL, NULL);
	url("tcp://:514", -1, NULL, NULL, NULL);
	url("tcp://h:0", -1, NULL, NULL, NULL);
	url("tcp://h:65536", -1, NULL, NULL, NULL);
	url("tcp://h:51x", -1, NULL, NULL, NULL);
	url("tcp://[::1", -1, NULL, NULL, NULL);
	url("tcp://[::1]x", -1, NULL, NULL, NULL);
	url("unix://dev/log", -1, NULL, NULL, NULL);
	T_EQ_I(syslog_facility("local0"), 16);
	T_EQ_I(syslog_facility("kern"), 0);
	T_EQ_I(syslog_facility("local8"), -1);
}

/*
 * The queue without its writer (never started, so nothing leaves): three
 * places; handshakes then alerts.  Alerts push handshakes out; an alert
 * that finds only alerts is dropped itself; every drop is counted by kind.
 */
static void
test_format_syslog_queue(void)
{
	struct syslog_opts so = { .fmt = EV_FMT_JSON, .queue_max = 3, .facility = 16 };
	struct ev_output_stats st;
	struct syslog_out *s;
	struct ev_out o;
	char err[256];

	make_hs();
	s = syslog_open("tcp://127.0.0.1:9", &so, err, sizeof(err));
	T_CHECK(s != NULL);
	if (s == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	T_EQ_I(ev_out_open(&o, "/dev/null", false, err, sizeof(err)), 0);
	T_EQ_I(ev_out_add_sink(&o, &(struct ev_sink){ syslog_deliver, s }), 0);
	for (int i = 0; i < 3; i++)
		ev_emit_handshake(&o, &hs);
	syslog_stats(s, &st);
	T_EQ_U(st.queued, 3);
	ev_emit_handshake(&o, &hs);		/* full of handshakes: this one goes */
	syslog_stats(s, &st);
	T_EQ_U(st.dropped[EV_KIND_HANDSHAKE], 1);
	for (int i = 0; i < 3; i++)
		ev_emit_alert(&o, &hs, 0);	/* each pushes out the oldest handshake */
	syslog_stats(s, &st);
	T_EQ_U(st.dropped[EV_KIND_HANDSHAKE], 4);
	T_EQ_U(st.dropped[EV_KIND_ALERT], 0);
	T_EQ_U(st.queued, 3);
	ev_emit_alert(&o, &hs, 0);		/* only alerts left: the newest is dropped */
	ev_emit_handshake(&o, &hs);
	syslog_stats(s, &st);
	T_EQ_U(st.dropped[EV_KIND_ALERT], 1);
	T_EQ_U(st.dropped[EV_KIND_HANDSHAKE], 5);
	T_EQ_U(st.enqueued, 6);
	T_EQ_U(st.sent, 0);
	T_EQ_STR(st.name, "tcp://127.0.0.1:9");
	T_EQ_STR(st.format, "json");
	ev_out_close(&o);
	syslog_free(s);
}

/* Markup in wire strings reaches the report as text, never as markup. */
static void
test_format_report_escaping(void)
{
	static char evil[] = "CN=<script>alert(1)</script> & \"x\" \x01\xff";
	char path[] = "/tmp/test_format_report.XXXXXX", err[256], *page = NULL;
	struct report_run run = { .sources = "<b>src</b>", .handshakes = 1, .alerts = 1 };
	struct report *rep;
	struct ev_out o;
	size_t len = 0;
	FILE *fp;
	int fd = mkstemp(path);

	T_CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	make_hs();
	leaf.subject = evil;
	leaf.issuer = evil;
	rep = report_open(path, err, sizeof(err));
	T_CHECK(rep != NULL);
	if (rep == NULL)
		return;
	T_EQ_I(ev_out_open(&o, "/dev/null", false, err, sizeof(err)), 0);
	T_EQ_I(ev_out_add_sink(&o, &(struct ev_sink){ report_deliver, rep }), 0);
	ev_emit_handshake(&o, &hs);
	ev_emit_alert(&o, &hs, 0);
	ev_out_close(&o);
	T_EQ_I(report_write(rep, &run, err, sizeof(err)), 0);
	report_free(rep);
	fp = fopen(path, "r");
	T_CHECK(fp != NULL);
	if (fp != NULL) {
		page = malloc(1 << 20);
		len = page != NULL ? fread(page, 1, (1 << 20) - 1, fp) : 0;
		fclose(fp);
	}
	if (page != NULL) {
		page[len] = '\0';
		T_CHECK(strstr(page, "<script") == NULL);
		T_CHECK(strstr(page, "<b>src") == NULL);
		T_CHECK(strstr(page, "CN=&lt;script&gt;alert(1)&lt;/script&gt; &amp; ") != NULL);
		T_CHECK(strchr(page, '\x01') == NULL);
		T_CHECK(strstr(page, "&quot;x&quot; &#xFFFD;&#xFFFD;") != NULL);	/* U+FFFD, bad bytes */
		T_CHECK(strstr(page, "<section class=\"alert\"") != NULL);
	}
	free(page);
	unlink(path);
	leaf.subject = subj;
	leaf.issuer = subj;
}

int
main(void)
{
	T_RUN(test_format_cef_escaping);
	T_RUN(test_format_cef_event);
	T_RUN(test_format_text);
	T_RUN(test_format_rfc5424);
	T_RUN(test_format_udp_cut);
	T_RUN(test_format_syslog_url);
	T_RUN(test_format_syslog_queue);
	T_RUN(test_format_report_escaping);
	T_SUMMARY();
}
