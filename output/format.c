/*
 * format.c: CEF and text renderings of events, and RFC 5424 framing.
 *
 * Distrusts: every string of a handshake (SNI, names from certificates come
 * from the wire): they are written only through the escaping functions
 * here, with their lengths.  Owns nothing.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../parser/tls_names.h"
#include "format.h"

#ifndef TLSENTRY_VERSION
#define TLSENTRY_VERSION "0.1.0"
#endif

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD in UTF-8 */

size_t
fmt_utf8_seq(const uint8_t *p, size_t len)
{
	size_t n;
	uint32_t cp;

	if (len == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07u;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t
fmt_utf8_cut(const char *p, size_t len, size_t max)
{
	const uint8_t *u = (const uint8_t *)p;
	size_t off = 0, n;

	if (len <= max)
		return len;
	while (off < max) {
		n = fmt_utf8_seq(u + off, len - off);
		if (n == 0)
			n = 1;			/* an invalid byte stands alone */
		if (off + n > max)
			break;
		off += n;
	}
	return off;
}

/* Copy valid UTF-8 (controls and invalid bytes as U+FFFD), escaping with esc. */
static void
cef_esc(struct ev_buf *b, const void *v, size_t len, bool header)
{
	const uint8_t *p = v;
	size_t off = 0, n;

	while (off < len) {
		uint8_t c = p[off];
		n = fmt_utf8_seq(p + off, len - off);
		if (n == 0) {
			ev_buf_add(b, replacement, 3);
			off++;
			continue;
		}
		if (n > 1) {
			ev_buf_add(b, p + off, n);
		} else if (c == '\\') {
			ev_buf_add(b, "\\\\", 2);
		} else if (header && c == '|') {
			ev_buf_add(b, "\\|", 2);
		} else if (!header && c == '=') {
			ev_buf_add(b, "\\=", 2);
		} else if (c == '\n' || c == '\r') {
			if (header)
				ev_buf_add(b, " ", 1);
			else
				ev_buf_add(b, c == '\n' ? "\\n" : "\\r", 2);
		} else if (c == '\t') {
			ev_buf_add(b, " ", 1);
		} else if (c < 0x20 || c == 0x7f) {
			ev_buf_add(b, replacement, 3);
		} else {
			ev_buf_add(b, &p[off], 1);
		}
		off += n;
	}
}

void
fmt_cef_header_esc(struct ev_buf *b, const void *p, size_t len)
{
	cef_esc(b, p, len, true);
}

void
fmt_cef_value_esc(struct ev_buf *b, const void *p, size_t len)
{
	cef_esc(b, p, len, false);
}

/* " key=value", the value escaped. */
static void
cef_kv(struct ev_buf *b, const char *key, const void *v, size_t len)
{
	ev_buf_add(b, " ", b->len > 0 && b->p[b->len - 1] == '|' ? 0 : 1);
	ev_buf_str(b, key);
	ev_buf_add(b, "=", 1);
	fmt_cef_value_esc(b, v, len);
}

static void
cef_kvs(struct ev_buf *b, const char *key, const char *v)
{
	cef_kv(b, key, v, strlen(v));
}

static void
cef_kvu(struct ev_buf *b, const char *key, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	cef_kvs(b, key, num);
}

/* A custom string: csN=value csNLabel=label. */
static void
cef_cs(struct ev_buf *b, int n, const char *label, const void *v, size_t len)
{
	char key[16];

	snprintf(key, sizeof(key), "cs%d", n);
	cef_kv(b, key, v, len);
	snprintf(key, sizeof(key), "cs%dLabel", n);
	cef_kvs(b, key, label);
}

static void
ip_text(uint8_t family, const uint8_t *addr, char *out, size_t outsz)
{
	if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, out, (socklen_t)outsz) == NULL)
		snprintf(out, outsz, "?");
}

/* CEF severity 0..10: handshakes 1, metrics 0, alerts by the rule. */
static unsigned
cef_severity(const struct ev_msg *m)
{
	if (m->kind == EV_KIND_METRIC)
		return 0;
	if (m->kind == EV_KIND_HANDSHAKE)
		return 1;
	switch (m->hs->j->findings[m->finding].severity) {
	case SEV_CRITICAL:	return 10;
	case SEV_HIGH:		return 8;
	case SEV_MEDIUM:	return 5;
	default:		return 3;
	}
}

static void
cef_head(struct ev_buf *b, const char *signature, const char *name, unsigned severity)
{
	ev_buf_fmt(b, "CEF:%d|", FMT_CEF_VERSION);
	fmt_cef_header_esc(b, "tlsentry", 8);
	ev_buf_add(b, "|", 1);
	fmt_cef_header_esc(b, "tlsentry", 8);
	ev_buf_add(b, "|", 1);
	fmt_cef_header_esc(b, TLSENTRY_VERSION, strlen(TLSENTRY_VERSION));
	ev_buf_add(b, "|", 1);
	fmt_cef_header_esc(b, signature, strlen(signature));
	ev_buf_add(b, "|", 1);
	fmt_cef_header_esc(b, name, strlen(name));
	ev_buf_fmt(b, "|%u|", severity);
}

static bool
sni_usable(const struct ev_handshake *hs)
{
	return hs->ch != NULL && hs->ch->has_sni && !(hs->ch->flags & TLS_HF_BAD_SNI) &&
	    !hs->ch->has_ech;
}

static void
cef_handshake(struct ev_buf *b, const struct ev_msg *m)
{
	const struct ev_handshake *hs = m->hs;
	const struct judgement *j = hs->j;
	const struct judge_finding *f = m->kind == EV_KIND_ALERT ? &j->findings[m->finding] : NULL;
	const struct rule *rule = j->rule;
	const struct cert_info *leaf = hs->chain_len > 0 ? hs->chain[0] : NULL;
	bool alert = f != NULL;
	char ip[64], hex[65], name[128];
	const char *ver = NULL, *proto = NULL;

	if (alert)
		snprintf(name, sizeof(name), "TLS alert: %s", m->reason);
	cef_head(b, alert ? m->reason : "tls-handshake", alert ? name : "TLS handshake",
	    cef_severity(m));
	cef_kvu(b, "rt", (uint64_t)(hs->ts_us < 0 ? 0 : hs->ts_us / 1000));
	ip_text(hs->family, hs->client_ip, ip, sizeof(ip));
	cef_kvs(b, hs->family == 6 ? "c6a2" : "src", ip);
	if (hs->family == 6)
		cef_kvs(b, "c6a2Label", "Source IPv6 Address");
	cef_kvu(b, "spt", hs->client_port);
	ip_text(hs->family, hs->server_ip, ip, sizeof(ip));
	cef_kvs(b, hs->family == 6 ? "c6a3" : "dst", ip);
	if (hs->family == 6)
		cef_kvs(b, "c6a3Label", "Destination IPv6 Address");
	cef_kvu(b, "dpt", hs->server_port);
	if (sni_usable(hs))
		cef_kv(b, "dhost", hs->ch->sni, hs->ch->sni_len);
	cef_kvs(b, "proto", hs->transport == 17 ? "UDP" : "TCP");
	cef_kvs(b, "app", hs->protocol != NULL ? hs->protocol : "tls");
	cef_kvs(b, "cat", alert ? "tlsentry.alert" : "tlsentry.handshake");
	cef_kvs(b, "externalId", m->id);
	if (alert)
		cef_kvs(b, "reason", m->reason);
	if (hs->interface != NULL)
		cef_kvs(b, "deviceInboundInterface", hs->interface);
	if (alert && !f->by_rule)
		cef_cs(b, 1, "rule", "defaults", 8);
	else if (rule != NULL)
		cef_cs(b, 1, "rule", rule->name, strlen(rule->name));
	if (leaf != NULL && leaf->decoded) {
		cef_cs(b, 2, "certificateIssuer", leaf->issuer, strlen(leaf->issuer));
		cef_cs(b, 3, "certificateSubject", leaf->subject, strlen(leaf->subject));
	}
	if (rule != NULL && rule->n_issuers > 0) {
		struct ev_buf exp = { 0 };
		for (size_t i = 0; i < rule->n_issuers; i++) {
			if (i > 0)
				ev_buf_str(&exp, " OR ");
			ev_buf_str(&exp, rule->issuers[i].text);
		}
		if (!exp.failed)
			cef_cs(b, 4, "expectedIssuers", exp.p, exp.len);
		ev_buf_free(&exp);
	}
	cef_cs(b, 5, "verdict", ev_verdict_str(j->verdict), strlen(ev_verdict_str(j->verdict)));
	if (leaf != NULL) {
		for (size_t i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02X", leaf->sha256[i]);
		cef_cs(b, 6, "certificateSha256", hex, 64);
	}
	if (hs->cert_visible) {
		cef_kvu(b, "cn1", hs->chain_total);
		cef_kvs(b, "cn1Label", "chainLength");
	}
	if (hs->sh != NULL) {
		tls_version_names(hs->sh->version, &ver, &proto);
		if (ver != NULL)
			cef_kvs(b, "tlsentryTlsVersion", ver);
		const char *cipher = tls_cipher_name(hs->sh->cipher);
		if (cipher != NULL)
			cef_kvs(b, "tlsentryTlsCipher", cipher);
	}
	cef_kvs(b, "tlsentryEstablished", hs->established ? "true" : "false");
	if (j->trust.checked)
		cef_kvs(b, "tlsentryValidation", j->trust.status);
	if (j->n_findings > 0) {
		struct ev_buf fl = { 0 };
		for (unsigned i = 0; i < j->n_findings; i++) {
			if (i > 0)
				ev_buf_str(&fl, " ");
			ev_buf_str(&fl, rules_reason_str(j->findings[i].reason));
		}
		if (!fl.failed)
			cef_kv(b, "tlsentryFindings", fl.p, fl.len);
		ev_buf_free(&fl);
	}
	if (alert)
		cef_kvs(b, "tlsentryAlertDetail", f->detail);
	if (alert && hs->evidence_pcap != NULL)
		cef_kvs(b, "tlsentryEvidencePcap", hs->evidence_pcap);
	if (leaf != NULL && leaf->decoded && leaf->spki_pin[0])
		cef_kvs(b, "tlsentrySpkiSha256", leaf->spki_pin);
	if (hs->ja3 != NULL)
		cef_kvs(b, "tlsentryJa3", hs->ja3);
	if (hs->ja4 != NULL)
		cef_kvs(b, "tlsentryJa4", hs->ja4);
	if (hs->source_file != NULL)
		cef_kvs(b, "tlsentryCaptureFile", hs->source_file);
	cef_kv(b, "msg", m->message, m->message_len);
}

/* "flows"/"ended_fin" -> "tlsentryFlowsEndedFin": a CEF custom key. */
static void
cef_counter_key(char *out, size_t outsz, const char *group, const char *name)
{
	size_t n = 0;
	bool up = true;
	const char *parts[2] = { group, name };

	n = (size_t)snprintf(out, outsz, "tlsentry");
	for (int i = 0; i < 2; i++) {
		if (parts[i] == NULL)
			continue;
		up = true;
		for (const char *c = parts[i]; *c != '\0' && n + 1 < outsz; c++) {
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			    (*c >= '0' && *c <= '9'))) {
				up = true;	/* '_', '.', '-': CEF keys are alphanumeric */
				continue;
			}
			out[n++] = up && *c >= 'a' && *c <= 'z' ? (char)(*c - 'a' + 'A') : *c;
			up = false;
		}
	}
	out[n] = '\0';
}

static uint64_t
sum_kinds(const uint64_t *n)
{
	uint64_t s = 0;

	for (int k = 0; k < EV_KIND_N; k++)
		s += n[k];
	return s;
}

static void
cef_metric(struct ev_buf *b, const struct ev_msg *m)
{
	const struct ev_metric *mt = m->metric;
	char key[96];

	cef_head(b, "stats", "tlsentry counters", 0);
	cef_kvu(b, "rt", (uint64_t)(mt->ts_us < 0 ? 0 : mt->ts_us / 1000));
	cef_kvs(b, "cat", "tlsentry.stats");
	for (size_t i = 0; i < mt->n; i++) {
		cef_counter_key(key, sizeof(key), mt->c[i].group, mt->c[i].name);
		cef_kvu(b, key, mt->c[i].value);
	}
	for (size_t i = 0; i < mt->n_ifs; i++) {
		snprintf(key, sizeof(key), "tlsentryInterface%zuName", i + 1);
		cef_kvs(b, key, mt->ifs[i].name);
		snprintf(key, sizeof(key), "tlsentryInterface%zuDropped", i + 1);
		cef_kvu(b, key, mt->ifs[i].dropped);
	}
	for (size_t i = 0; i < mt->n_outs; i++) {
		const struct ev_output_stats *o = &mt->outs[i];
		snprintf(key, sizeof(key), "tlsentryOutput%zuName", i + 1);
		cef_kvs(b, key, o->name);
		snprintf(key, sizeof(key), "tlsentryOutput%zuSent", i + 1);
		cef_kvu(b, key, o->sent);
		snprintf(key, sizeof(key), "tlsentryOutput%zuQueued", i + 1);
		cef_kvu(b, key, o->queued);
		snprintf(key, sizeof(key), "tlsentryOutput%zuDroppedAlerts", i + 1);
		cef_kvu(b, key, o->dropped[EV_KIND_ALERT]);
		snprintf(key, sizeof(key), "tlsentryOutput%zuDropped", i + 1);
		cef_kvu(b, key, sum_kinds(o->dropped));
		snprintf(key, sizeof(key), "tlsentryOutput%zuUnconfirmed", i + 1);
		cef_kvu(b, key, sum_kinds(o->unconfirmed));
	}
	cef_kv(b, "msg", m->message, m->message_len);
}

void
fmt_cef(struct ev_buf *b, const struct ev_msg *m)
{
	if (m->kind == EV_KIND_METRIC)
		cef_metric(b, m);
	else
		cef_handshake(b, m);
}

/* --- text ------------------------------------------------------------------ */

/* Valid UTF-8 stays, except C1 controls and bidi overrides; the rest as \xNN. */
static void
text_esc(struct ev_buf *b, const void *v, size_t len)
{
	const uint8_t *p = v;
	size_t off = 0, n;

	while (off < len) {
		n = fmt_utf8_seq(p + off, len - off);
		bool bad = n == 0 || (n == 1 && (p[off] < 0x20 || p[off] == 0x7f || p[off] == '\\')) ||
		    (n == 2 && p[off] == 0xc2 && p[off + 1] < 0xa0) ||
		    (n == 3 && p[off] == 0xe2 && p[off + 1] == 0x80 && p[off + 2] >= 0xaa &&
		    p[off + 2] <= 0xae) ||
		    (n == 3 && p[off] == 0xe2 && p[off + 1] == 0x81 && p[off + 2] >= 0xa6 &&
		    p[off + 2] <= 0xa9);
		if (!bad) {
			ev_buf_add(b, p + off, n);
			off += n;
			continue;
		}
		if (n == 0)
			n = 1;
		for (size_t i = 0; i < n; i++)
			ev_buf_fmt(b, "\\x%02x", p[off + i]);
		off += n;
	}
}

static void
text_time(struct ev_buf *b, int64_t ts_us)
{
	time_t t = (time_t)(ts_us / 1000000 - (ts_us % 1000000 < 0));
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	ev_buf_fmt(b, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void
fmt_text(struct ev_buf *b, const struct ev_msg *m)
{
	const struct ev_metric *mt = m->metric;

	text_time(b, m->ts_us);
	if (m->kind == EV_KIND_ALERT) {
		ev_buf_fmt(b, " ALERT %s ",
		    rules_severity_str(m->hs->j->findings[m->finding].severity));
	} else if (m->kind == EV_KIND_HANDSHAKE) {
		char ip[64];
		ip_text(m->hs->family, m->hs->client_ip, ip, sizeof(ip));
		ev_buf_fmt(b, m->hs->family == 6 ? " [%s]:%u " : " %s:%u ", ip,
		    m->hs->client_port);
		ev_buf_str(b, ev_verdict_str(m->hs->j->verdict));
		ev_buf_str(b, " ");
	} else {
		ev_buf_str(b, " metric");
		for (size_t i = 0; i < mt->n; i++)
			if (mt->c[i].group == NULL || strcmp(mt->c[i].group, "events") == 0)
				ev_buf_fmt(b, " %s%s%s=%" PRIu64, mt->c[i].group ? mt->c[i].group : "",
				    mt->c[i].group ? "." : "", mt->c[i].name, mt->c[i].value);
		for (size_t i = 0; i < mt->n_outs; i++)
			ev_buf_fmt(b, "; %s sent=%" PRIu64 " queued=%" PRIu64 " dropped=%" PRIu64
			    " unconfirmed=%" PRIu64, mt->outs[i].name, mt->outs[i].sent,
			    mt->outs[i].queued, sum_kinds(mt->outs[i].dropped),
			    sum_kinds(mt->outs[i].unconfirmed));
		return;
	}
	text_esc(b, m->message, m->message_len);
}

/* --- syslog framing ----------------------------------------------------------- */

/* PRINTUSASCII (%d33-126), at most max bytes, "-" when empty (RFC 5424 s6). */
static void
header_field(struct ev_buf *b, const char *s, size_t max)
{
	size_t n = 0;

	for (; s != NULL && s[n] != '\0' && n < max; n++) {
		char c = s[n];
		ev_buf_add(b, c > 32 && c < 127 ? &c : "_", 1);
	}
	if (n == 0)
		ev_buf_add(b, "-", 1);
}

void
fmt_rfc5424_header(struct ev_buf *b, unsigned pri, int64_t ts_us, const char *hostname,
    const char *app, long procid, const char *msgid, uint32_t seq)
{
	int64_t sec = ts_us / 1000000, us = ts_us % 1000000;
	time_t t;
	struct tm tm;

	if (us < 0) {
		us += 1000000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	ev_buf_fmt(b, "<%u>1 %04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z ", pri > 191 ? 191 : pri,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
	header_field(b, hostname, 255);
	ev_buf_add(b, " ", 1);
	header_field(b, app, 48);
	ev_buf_fmt(b, " %ld ", procid);
	header_field(b, msgid, 32);
	if (seq > 0)
		ev_buf_fmt(b, " [meta sequenceId=\"%" PRIu32 "\"] ", seq);
	else
		ev_buf_add(b, " - ", 3);
}

bool
fmt_syslog_cut(const char *msg, size_t len, size_t hdr_len, size_t max, struct ev_buf *out)
{
	char suffix[64];
	int n;
	size_t keep;

	ev_buf_reset(out);
	if (len <= max || hdr_len > len) {
		ev_buf_add(out, msg, len);
		return false;
	}
	n = snprintf(suffix, sizeof(suffix), FMT_TRUNC_SUFFIX_FMT, len - hdr_len);
	if (n < 0 || hdr_len + (size_t)n >= max) {
		ev_buf_add(out, msg, hdr_len < max ? hdr_len : max);
		return true;
	}
	keep = fmt_utf8_cut(msg + hdr_len, len - hdr_len, max - hdr_len - (size_t)n);
	ev_buf_add(out, msg, hdr_len + keep);
	ev_buf_add(out, suffix, (size_t)n);
	return true;
}

int
fmt_octet_count(char *out, size_t outsz, size_t len)
{
	return snprintf(out, outsz, "%zu ", len);
}
