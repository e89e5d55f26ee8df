/* test_event.c: ECS events and the Community ID. */
#include <arpa/inet.h>
#include <stdint.h>

#include "../output/event.h"
#include "t.h"

static void
cid(const char *a, uint16_t ap, const char *b, uint16_t bp, uint8_t proto, const char *want)
{
	uint8_t aa[16], bb[16];
	char out[32];
	int fam = strchr(a, ':') ? 6 : 4;

	inet_pton(fam == 6 ? AF_INET6 : AF_INET, a, aa);
	inet_pton(fam == 6 ? AF_INET6 : AF_INET, b, bb);
	ev_community_id((uint8_t)fam, aa, ap, bb, bp, proto, out);
	T_EQ_STR(out, want);
	ev_community_id((uint8_t)fam, bb, bp, aa, ap, proto, out);	/* either direction */
	T_EQ_STR(out, want);
}

/* Vectors from the Community ID spec's baseline; the IPv6 one from tshark. */
static void
test_event_community_id(void)
{
	cid("1.2.3.4", 1122, "5.6.7.8", 3344, 6, "1:wCb3OG7yAFWelaUydu0D+125CLM=");
	cid("1.2.3.4", 1122, "5.6.7.8", 3344, 17, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=");
	cid("192.168.0.1", 12345, "10.0.0.5", 80, 6, "1:JHvDxB6S6/K68OntUBf4DJZYvkM=");
	cid("::1", 50556, "::1", 4436, 6, "1:ulF2S/pVAeBRVTSf9y+hdzC6aEQ=");
}

static char *out_buf;
static size_t out_len;

static void
emit_both(struct ev_handshake *hs, struct ev_counts *n)
{
	struct ev_out o;
	char err[128];

	T_EQ_I(ev_out_open(&o, NULL, false, err, sizeof(err)), 0);
	o.fp = open_memstream(&out_buf, &out_len);
	ev_emit_handshake(&o, hs);
	ev_emit_alert(&o, hs, 0);		/* its first finding */
	*n = o.n;
	fclose(o.fp);
	o.fp = NULL;
	ev_out_close(&o);
}

/* Hostile SNI and certificate strings come out escaped, one line per event. */
static void
test_event_hostile_strings(void)
{
	struct tls_client_hello ch;
	struct tls_server_hello sh;
	struct cert_info leaf, *chain[1] = { &leaf };
	struct cert_attr iss[1];
	struct rule_issuer ri = { .text = "O=Good CA" };
	struct rule r = { .name = "watch", .severity = SEV_HIGH, .issuers = &ri, .n_issuers = 1 };
	struct ev_handshake hs;
	struct judgement j;
	struct ev_counts n;
	uint8_t cip[16] = { 10, 0, 0, 1 }, sip[16] = { 10, 0, 0, 2 };
	static const char sni[] = "evil\"\n\x01\xff.example";
	static char subj[] = "CN=a\\,b\n\"x\"", cn[] = "bad\0CN";

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
	snprintf(iss[0].name, sizeof(iss[0].name), "CN");
	iss[0].value.p = cn;
	iss[0].value.len = sizeof(cn) - 1;
	leaf.issuer_attrs = iss;
	leaf.n_issuer_attrs = 1;
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
	    .severity = SEV_HIGH, .by_rule = true, .detail = "issued by 'x'" };
	j.trust.status = "not-checked";
	hs.j = &j;

	emit_both(&hs, &n);
	T_EQ_U(n.n_events, 2);
	T_EQ_U(n.n_alerts, 1);
	/* exactly two lines: no raw newline leaked out of a string */
	size_t lines = 0;
	for (size_t i = 0; i < out_len; i++)
		lines += out_buf[i] == '\n';
	T_EQ_U(lines, 2);
	T_CHECK(strstr(out_buf, "\"server_name\":\"evil\\\"\\n\\u0001\\ufffd.example\"") != NULL);
	T_CHECK(strstr(out_buf, "\"common_name\":[\"bad\\u0000CN\"]") != NULL);
	T_CHECK(strstr(out_buf, "\"subject\":\"CN=a\\\\,b\\n\\\"x\\\"\"") != NULL);
	T_CHECK(strstr(out_buf, "\"@timestamp\":\"2014-12-01T00:00:00.123456Z\"") != NULL);
	T_CHECK(strstr(out_buf, "\"cipher\":\"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\"") != NULL);
	/* the alert carries the handshake fields and the rule */
	char *alert = strchr(out_buf, '\n') + 1;
	T_CHECK(strncmp(alert, "{\"@timestamp\":", 14) == 0);
	T_CHECK(strstr(alert, "\"kind\":\"alert\"") != NULL);
	T_CHECK(strstr(alert, "\"reason\":\"unexpected-issuer\"") != NULL);
	T_CHECK(strstr(alert, "\"severity\":73") != NULL);
	T_CHECK(strstr(alert, "\"rule\":{\"name\":\"watch\"") != NULL);
	T_CHECK(strstr(alert, "\"server_name\":") != NULL);
	T_CHECK(strstr(alert, "\"expected_issuers\":[\"O=Good CA\"]") != NULL);
	free(out_buf);
}

int
main(void)
{
	T_RUN(test_event_community_id);
	T_RUN(test_event_hostile_strings);
	T_SUMMARY();
}
