/*
 * report.c: the HTML report of a run.
 *
 * Distrusts: every string of a handshake (SNI, names from certificates):
 * copied with a length cap and written only through html_esc().  Owns: the
 * report file (opened at start-up) and every table below, each capped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../parser/hashtab.h"
#include "format.h"
#include "report.h"

#define STR_MAX 1024		/* bytes of one wire string kept */

struct counted {
	char *key;		/* owned */
	size_t len;
	uint64_t n;
	bool flag;		/* issuers of a watched name: was it an expected one */
	UT_hash_handle hh;
};

struct alert_ev {
	int64_t ts_us;
	char *sni, *client, *server, *rule, *severity, *issuer, *subject, *expected, *chain;
	char *message, *sha256, *spki, *reason, *detail, *where, *evidence;
	bool established, self_issued;
};

struct watched {
	char *name, *rule;
	uint64_t n_handshakes, n_alerts;
	struct counted issuers[REPORT_PER_NAME_MAX], keys[REPORT_PER_NAME_MAX];
	size_t n_issuers, n_keys;
	uint64_t issuers_other, keys_other, not_visible;
	UT_hash_handle hh;
};

struct tpoint {
	int64_t ts_us;
	bool alert;
};

struct report {
	FILE *fp;
	char *path;
	struct alert_ev *alerts;
	size_t n_alerts;
	uint64_t alerts_cut;
	struct watched *watched;	/* hash by name */
	size_t n_watched;
	uint64_t watched_cut;		/* handshakes of names past the cap */
	struct counted *snis, *issuers;
	size_t n_snis, n_issuers_all;
	uint64_t snis_cut, issuers_cut, no_sni, no_issuer;
	struct tpoint *times;
	size_t n_times;
	uint64_t times_cut;
	uint64_t n_handshakes;
};

static char *
dup_n(const void *p, size_t len)
{
	char *s;

	if (len > STR_MAX)
		len = fmt_utf8_cut(p, len, STR_MAX);
	s = malloc(len + 1);
	if (s == NULL)
		return NULL;
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	return s;
}

static char *
dup_s(const char *s)
{
	return s != NULL ? dup_n(s, strlen(s)) : NULL;
}

struct report *
report_open(const char *path, char *err, size_t errsz)
{
	struct report *r = calloc(1, sizeof(*r));
	struct stat sb;
	int fd;

	if (r == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	/* opened as root, maybe in a directory others write: never through a link */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errsz, "--report %s: cannot open for writing: %s", path,
		    fd < 0 ? (errno == ELOOP ? "it is a symbolic link" : strerror(errno)) :
		    "not a regular file");
		if (fd >= 0)
			close(fd);
		free(r);
		return NULL;
	}
	r->fp = fdopen(fd, "w");
	r->path = dup_s(path);
	if (r->fp == NULL || r->path == NULL) {
		snprintf(err, errsz, "--report %s: %s", path, strerror(errno));
		if (r->fp == NULL)
			close(fd);
		report_free(r);
		return NULL;
	}
	return r;
}

/* Count key in a capped table; past the cap, *cut counts instead. */
static void
count_in(struct counted **table, size_t *n, uint64_t *cut, const char *key, size_t len)
{
	struct counted *c = NULL;

	HASH_FIND(hh, *table, key, len, c);
	if (c != NULL) {
		c->n++;
		return;
	}
	if (*n >= REPORT_NAMES_MAX || (c = calloc(1, sizeof(*c))) == NULL ||
	    (c->key = dup_n(key, len)) == NULL) {
		if (c != NULL)
			free(c);
		(*cut)++;
		return;
	}
	c->len = strlen(c->key);
	c->n = 1;
	hashtab_oom = 0;
	HASH_ADD_KEYPTR(hh, *table, c->key, c->len, c);
	if (hashtab_oom) {
		free(c->key);
		free(c);
		(*cut)++;
		return;
	}
	(*n)++;
}

/* Count key among a watched name's few issuers or keys. */
static void
count_small(struct counted *v, size_t *n, uint64_t *other, const char *key, bool flag)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(v[i].key, key) == 0) {
			v[i].n++;
			return;
		}
	if (*n == REPORT_PER_NAME_MAX || (v[*n].key = dup_s(key)) == NULL) {
		(*other)++;
		return;
	}
	v[*n].n = 1;
	v[*n].flag = flag;
	(*n)++;
}

static void
ip_port(const struct ev_handshake *hs, bool server, char *out, size_t outsz)
{
	char ip[64];
	const uint8_t *a = server ? hs->server_ip : hs->client_ip;

	if (inet_ntop(hs->family == 6 ? AF_INET6 : AF_INET, a, ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	snprintf(out, outsz, hs->family == 6 ? "[%s]:%u" : "%s:%u", ip,
	    server ? hs->server_port : hs->client_port);
}

static void
add_alert(struct report *r, const struct ev_msg *m)
{
	const struct ev_handshake *hs = m->hs;
	const struct judgement *j = hs->j;
	const struct judge_finding *f = &j->findings[m->finding];
	const struct cert_info *leaf = hs->chain_len > 0 ? hs->chain[0] : NULL;
	struct alert_ev *a;
	struct ev_buf b = { 0 };
	char ep[80];

	if (r->alerts == NULL)
		r->alerts = calloc(REPORT_ALERTS_MAX, sizeof(*r->alerts));
	if (r->alerts == NULL || r->n_alerts == REPORT_ALERTS_MAX) {
		r->alerts_cut++;
		return;
	}
	a = &r->alerts[r->n_alerts++];
	a->ts_us = hs->ts_us;
	if (hs->ch != NULL && hs->ch->has_sni)
		a->sni = dup_n(hs->ch->sni, hs->ch->sni_len);
	ip_port(hs, false, ep, sizeof(ep));
	a->client = dup_s(ep);
	ip_port(hs, true, ep, sizeof(ep));
	a->server = dup_s(ep);
	a->rule = dup_s(f->by_rule ? j->rule->name : "defaults");
	a->severity = dup_s(rules_severity_str(f->severity));
	a->reason = dup_s(m->reason);
	a->detail = dup_s(f->detail);
	if (hs->evidence_pcap != NULL)
		a->evidence = dup_s(hs->evidence_pcap);
	a->where = dup_s(hs->interface != NULL ? hs->interface : hs->source_file);
	if (leaf != NULL && leaf->decoded) {
		a->issuer = dup_s(leaf->issuer);
		a->subject = dup_s(leaf->subject);
		a->self_issued = leaf->self_issued;
		if (leaf->spki_pin[0])
			a->spki = dup_s(leaf->spki_pin);
	}
	if (leaf != NULL) {
		char hex[65];
		for (size_t i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02X", leaf->sha256[i]);
		a->sha256 = dup_s(hex);
	}
	for (size_t i = 0; j->rule != NULL && i < j->rule->n_issuers; i++) {
		ev_buf_add(&b, "", 0);
		if (i > 0)
			ev_buf_add(&b, "\n", 1);
		ev_buf_str(&b, j->rule->issuers[i].text);
	}
	a->expected = b.failed ? NULL : dup_n(b.p, b.len);
	ev_buf_reset(&b);
	for (size_t i = 0; i < hs->chain_len; i++) {	/* one line per certificate */
		const struct cert_info *ci = hs->chain[i];
		if (i > 0)
			ev_buf_add(&b, "\n", 1);
		if (ci->decoded) {
			ev_buf_str(&b, ci->subject);
			ev_buf_str(&b, "\t");
			ev_buf_str(&b, ci->issuer);
		} else {
			ev_buf_str(&b, "(not decodable)\t");
		}
	}
	a->chain = b.failed || b.len == 0 ? NULL : dup_n(b.p, b.len);
	ev_buf_free(&b);
	a->message = dup_n(m->message, m->message_len);
	a->established = hs->established;
}

/* Per watched name: the issuers and keys seen. */
static void
add_watched(struct report *r, const struct ev_msg *m)
{
	const struct ev_handshake *hs = m->hs;
	const struct cert_info *leaf = hs->chain_len > 0 ? hs->chain[0] : NULL;
	struct watched *w = NULL;
	char name[STR_MAX + 1], ep[80];
	size_t len;

	if (hs->ch != NULL && hs->ch->has_sni) {
		len = fmt_utf8_cut(hs->ch->sni, hs->ch->sni_len, STR_MAX);
		memcpy(name, hs->ch->sni, len);
	} else {
		ip_port(hs, true, ep, sizeof(ep));
		len = (size_t)snprintf(name, sizeof(name), "(no SNI) %s", ep);
	}
	name[len] = '\0';
	HASH_FIND(hh, r->watched, name, len, w);
	if (w == NULL) {
		if (r->n_watched == REPORT_WATCHED_MAX || (w = calloc(1, sizeof(*w))) == NULL) {
			r->watched_cut++;
			return;
		}
		w->name = dup_n(name, len);
		w->rule = dup_s(hs->j->rule->name);
		if (w->name == NULL || w->rule == NULL) {
			free(w->name);
			free(w->rule);
			free(w);
			r->watched_cut++;
			return;
		}
		hashtab_oom = 0;
		HASH_ADD_KEYPTR(hh, r->watched, w->name, strlen(w->name), w);
		if (hashtab_oom) {
			free(w->name);
			free(w->rule);
			free(w);
			r->watched_cut++;
			return;
		}
		r->n_watched++;
	}
	w->n_handshakes++;
	if (leaf != NULL && leaf->decoded) {
		count_small(w->issuers, &w->n_issuers, &w->issuers_other, leaf->issuer,
		    hs->j->verdict == EV_ISSUER_OK);
		if (leaf->spki_pin[0])
			count_small(w->keys, &w->n_keys, &w->keys_other, leaf->spki_pin, false);
	} else if (hs->j->verdict == EV_NOT_VISIBLE || hs->j->verdict == EV_NO_CERTIFICATE) {
		w->not_visible++;
	}
}

static void
add_time(struct report *r, int64_t ts_us, bool alert)
{
	if (r->times == NULL)
		r->times = calloc(REPORT_TIMES_MAX, sizeof(*r->times));
	if (r->times == NULL || r->n_times == REPORT_TIMES_MAX) {
		r->times_cut++;
		return;
	}
	r->times[r->n_times++] = (struct tpoint){ ts_us, alert };
}

void
report_deliver(void *ctx, struct ev_msg *m)
{
	struct report *r = ctx;
	const struct ev_handshake *hs = m->hs;
	const struct cert_info *leaf;

	if (m->kind == EV_KIND_METRIC)
		return;
	add_time(r, m->ts_us, m->kind == EV_KIND_ALERT);
	if (m->kind == EV_KIND_ALERT) {
		add_alert(r, m);
		struct watched *w = NULL;
		if (hs->ch != NULL && hs->ch->has_sni) {
			size_t len = fmt_utf8_cut(hs->ch->sni, hs->ch->sni_len, STR_MAX);
			HASH_FIND(hh, r->watched, hs->ch->sni, len, w);
		}
		if (w != NULL)
			w->n_alerts++;
		return;
	}
	r->n_handshakes++;
	if (hs->ch != NULL && hs->ch->has_sni)
		count_in(&r->snis, &r->n_snis, &r->snis_cut, hs->ch->sni, hs->ch->sni_len);
	else
		r->no_sni++;
	leaf = hs->chain_len > 0 ? hs->chain[0] : NULL;
	if (leaf != NULL && leaf->decoded)
		count_in(&r->issuers, &r->n_issuers_all, &r->issuers_cut, leaf->issuer,
		    strlen(leaf->issuer));
	else
		r->no_issuer++;
	if (hs->j->rule != NULL)
		add_watched(r, m);
}

/* --- writing ----------------------------------------------------------------------- */

/* HTML text: markup characters as entities, controls and invalid UTF-8 as U+FFFD. */
static void
html_esc_n(FILE *fp, const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t off = 0, n;

	while (off < len) {
		n = fmt_utf8_seq(p + off, len - off);
		if (n == 0 || (n == 1 && ((p[off] < 0x20 && p[off] != '\n' && p[off] != '\t') ||
		    p[off] == 0x7f))) {
			fputs("&#xFFFD;", fp);
			off += n == 0 ? 1 : n;
			continue;
		}
		if (n > 1) {
			fwrite(p + off, 1, n, fp);
		} else {
			switch (p[off]) {
			case '&':	fputs("&amp;", fp); break;
			case '<':	fputs("&lt;", fp); break;
			case '>':	fputs("&gt;", fp); break;
			case '"':	fputs("&quot;", fp); break;
			case '\'':	fputs("&#39;", fp); break;
			default:	fputc(p[off], fp); break;
			}
		}
		off += n;
	}
}

static void
html_esc(FILE *fp, const char *s)
{
	if (s == NULL)
		fputs("&ndash;", fp);
	else
		html_esc_n(fp, s, strlen(s));
}

static void
iso_time(int64_t ts_us, char *out, size_t outsz)
{
	time_t t = (time_t)(ts_us / 1000000 - (ts_us % 1000000 < 0));
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(out, outsz, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;color:#222;"
    "padding:0 1em}\n"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;margin-top:2em}\n"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;"
    "padding:.25em .6em;text-align:left;vertical-align:top}th{background:#f4f4f4}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}code,.mono{font-family:"
    "ui-monospace,monospace;font-size:.92em;word-break:break-all}\n"
    ".alert{border-left:5px solid #c0392b;background:#fdf2f0;padding:.4em 1em;"
    "margin:1em 0}.alert h3{margin:.3em 0;color:#a52a1a}\n"
    ".ok{color:#1e7b34}.bad{color:#b3261e;font-weight:600}.cut{color:#8a5a00}\n"
    ".summary span{display:inline-block;margin-right:1.5em}\n";

static int
cmp_count(const void *a, const void *b)
{
	const struct counted *x = *(const struct counted *const *)a;
	const struct counted *y = *(const struct counted *const *)b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* The REPORT_TOP most counted keys of a table, with the rest summed. */
static void
write_top(FILE *fp, const char *title, const char *id, const char *what, struct counted *table,
    size_t n, uint64_t cut, uint64_t none, const char *none_label)
{
	struct counted **v = NULL;
	struct counted *c, *tmp;
	size_t i = 0;
	uint64_t rest = 0;

	fprintf(fp, "<h2 id=\"%s\">%s</h2>\n", id, title);
	if (n > 0 && (v = calloc(n, sizeof(struct counted *))) == NULL) {
		fputs("<p class=\"cut\">(out of memory)</p>\n", fp);
		return;
	}
	HASH_ITER(hh, table, c, tmp) {
		if (i == n)
			break;
		v[i++] = c;
	}
	n = i;
	if (n > 0)
		qsort(v, n, sizeof(struct counted *), cmp_count);
	fprintf(fp, "<table class=\"top\"><tr><th>%s</th><th>handshakes</th></tr>\n", what);
	for (i = 0; i < n; i++) {
		if (i >= REPORT_TOP) {
			rest += v[i]->n;
			continue;
		}
		fputs("<tr><td class=\"mono\">", fp);
		html_esc(fp, v[i]->key);
		fprintf(fp, "</td><td class=\"n\">%" PRIu64 "</td></tr>\n", v[i]->n);
	}
	if (n > REPORT_TOP)
		fprintf(fp, "<tr><td><em>%zu others</em></td><td class=\"n\">%" PRIu64
		    "</td></tr>\n", n - REPORT_TOP, rest);
	if (none > 0)
		fprintf(fp, "<tr><td><em>%s</em></td><td class=\"n\">%" PRIu64 "</td></tr>\n",
		    none_label, none);
	fputs("</table>\n", fp);
	if (cut > 0)
		fprintf(fp, "<p class=\"cut\">%" PRIu64 " handshakes not counted here: more than "
		    "%d distinct values.</p>\n", cut, REPORT_NAMES_MAX);
	free(v);
}

/* A line of text with newlines as <br>, tabs as " &larr; issued by " */
static void
write_lines(FILE *fp, const char *s, const char *tab)
{
	const char *p = s;

	if (s == NULL) {
		fputs("&ndash;", fp);
		return;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, "\n\t");
		html_esc_n(fp, p, n);
		p += n;
		if (*p == '\n')
			fputs("<br>", fp);
		else if (*p == '\t')
			fputs(tab, fp);
		if (*p != '\0')
			p++;
	}
}

static void
write_alerts(FILE *fp, const struct report *r)
{
	char t[48];

	fprintf(fp, "<h2 id=\"alerts\">Alerts (%zu)</h2>\n", r->n_alerts + (size_t)r->alerts_cut);
	if (r->n_alerts == 0)
		fputs("<p class=\"ok\">No alert in this run.</p>\n", fp);
	for (size_t i = 0; i < r->n_alerts; i++) {
		const struct alert_ev *a = &r->alerts[i];
		iso_time(a->ts_us, t, sizeof(t));
		fprintf(fp, "<section class=\"alert\" id=\"alert-%zu\"><h3>", i + 1);
		html_esc(fp, a->sni != NULL ? a->sni : a->server);
		fputs(": ", fp);
		html_esc(fp, a->reason);
		fputs("</h3>\n<table class=\"evidence\">\n", fp);
		fprintf(fp, "<tr><th>time</th><td>%s</td></tr>\n", t);
		fputs("<tr><th>rule</th><td>", fp);
		html_esc(fp, a->rule);
		fputs(" (severity ", fp);
		html_esc(fp, a->severity);
		fputs(", reason ", fp);
		html_esc(fp, a->reason);
		fputs(")</td></tr>\n<tr><th>finding</th><td>", fp);
		html_esc(fp, a->detail);
		fputs("</td></tr>\n<tr><th>SNI</th><td class=\"mono\">", fp);
		html_esc(fp, a->sni);
		fputs("</td></tr>\n<tr><th>client</th><td class=\"mono\">", fp);
		html_esc(fp, a->client);
		fputs("</td></tr>\n<tr><th>server</th><td class=\"mono\">", fp);
		html_esc(fp, a->server);
		fputs("</td></tr>\n<tr><th>issuer seen</th><td class=\"mono bad\">", fp);
		html_esc(fp, a->issuer != NULL ? a->issuer : "(certificate not readable)");
		if (a->self_issued)
			fputs(" (self-signed)", fp);
		fputs("</td></tr>\n<tr><th>issuer expected</th><td class=\"mono\">", fp);
		write_lines(fp, a->expected, " ");
		fputs("</td></tr>\n<tr><th>subject</th><td class=\"mono\">", fp);
		html_esc(fp, a->subject);
		fputs("</td></tr>\n<tr><th>chain (leaf first)</th><td class=\"mono\">", fp);
		write_lines(fp, a->chain, " &larr; issued by ");
		fputs("</td></tr>\n<tr><th>leaf SHA-256</th><td class=\"mono\">", fp);
		html_esc(fp, a->sha256);
		fputs("</td></tr>\n<tr><th>key (SPKI SHA-256)</th><td class=\"mono\">", fp);
		html_esc(fp, a->spki);
		fprintf(fp, "</td></tr>\n<tr><th>accepted by the client</th><td class=\"%s\">%s"
		    "</td></tr>\n", a->established ? "bad" : "ok", a->established ?
		    "yes: it went on to encrypted data" : "not seen");
		fputs("<tr><th>seen in</th><td class=\"mono\">", fp);
		html_esc(fp, a->where);
		if (a->evidence != NULL) {
			fputs("</td></tr>\n<tr><th>packets (evidence)</th><td class=\"mono\">", fp);
			html_esc(fp, a->evidence);
		}
		fputs("</td></tr>\n</table></section>\n", fp);
	}
	if (r->alerts_cut > 0)
		fprintf(fp, "<p class=\"cut\">%" PRIu64 " more alerts are not shown (the report "
		    "keeps the first %d); they are in the events.</p>\n", r->alerts_cut,
		    REPORT_ALERTS_MAX);
}

static int
cmp_watched(const void *a, const void *b)
{
	const struct watched *x = *(const struct watched *const *)a;
	const struct watched *y = *(const struct watched *const *)b;

	return strcmp(x->name, y->name);
}

static void
write_watched(FILE *fp, const struct report *r)
{
	struct watched **v = r->n_watched ? calloc(r->n_watched, sizeof(struct watched *)) : NULL;
	struct watched *w, *tmp;
	size_t n = 0;

	fputs("<h2 id=\"watched\">Watched names: issuers and keys seen</h2>\n", fp);
	if (r->n_watched == 0 || v == NULL) {
		fputs("<p>No handshake with a watched name.</p>\n", fp);
		free(v);
		return;
	}
	HASH_ITER(hh, r->watched, w, tmp)
		if (n < r->n_watched)
			v[n++] = w;
	qsort(v, n, sizeof(struct watched *), cmp_watched);
	fputs("<table class=\"watched\"><tr><th>name</th><th>rule</th><th>handshakes</th>"
	    "<th>alerts</th><th>issuers seen (count)</th><th>keys seen, SPKI SHA-256 (count)"
	    "</th></tr>\n", fp);
	for (size_t i = 0; i < n; i++) {
		w = v[i];
		fputs("<tr><td class=\"mono\">", fp);
		html_esc(fp, w->name);
		fputs("</td><td>", fp);
		html_esc(fp, w->rule);
		fprintf(fp, "</td><td class=\"n\">%" PRIu64 "</td><td class=\"n%s\">%" PRIu64
		    "</td><td class=\"mono\">", w->n_handshakes, w->n_alerts ? " bad" : "", w->n_alerts);
		for (size_t k = 0; k < w->n_issuers; k++) {
			fprintf(fp, "%s<span class=\"%s\">", k ? "<br>" : "",
			    w->issuers[k].flag ? "ok" : "bad");
			html_esc(fp, w->issuers[k].key);
			fprintf(fp, "</span> (%" PRIu64 ")", w->issuers[k].n);
		}
		if (w->issuers_other > 0)
			fprintf(fp, "<br><em>%" PRIu64 " more, other issuers</em>", w->issuers_other);
		if (w->not_visible > 0)
			fprintf(fp, "%s<em>%" PRIu64 " without a visible certificate</em>",
			    w->n_issuers ? "<br>" : "", w->not_visible);
		fputs("</td><td class=\"mono\">", fp);
		for (size_t k = 0; k < w->n_keys; k++) {
			fputs(k ? "<br>" : "", fp);
			html_esc(fp, w->keys[k].key);
			fprintf(fp, " (%" PRIu64 ")", w->keys[k].n);
		}
		if (w->keys_other > 0)
			fprintf(fp, "<br><em>%" PRIu64 " more, other keys</em>", w->keys_other);
		fputs("</td></tr>\n", fp);
	}
	fputs("</table>\n<p>Green: an issuer the rule expects; red: one it does not.</p>\n", fp);
	if (r->watched_cut > 0)
		fprintf(fp, "<p class=\"cut\">%" PRIu64 " handshakes of further watched names are "
		    "not tabulated (the report keeps %d names).</p>\n", r->watched_cut,
		    REPORT_WATCHED_MAX);
	free(v);
}

/* Handshakes per time bin as grey bars, alerts as red bars on top. */
static void
write_timeline(FILE *fp, const struct report *r)
{
	uint64_t hs[REPORT_TIMELINE_BINS] = { 0 }, al[REPORT_TIMELINE_BINS] = { 0 }, max = 1;
	int64_t lo = INT64_MAX, hi = INT64_MIN, span;
	const int w = 960, h = 200, left = 50, bottom = 30, top = 10;
	double bw = (double)(w - left - 10) / REPORT_TIMELINE_BINS;
	char t0[48], t1[48];

	fputs("<h2 id=\"timeline\">Timeline</h2>\n", fp);
	if (r->n_times == 0) {
		fputs("<p>No handshake.</p>\n", fp);
		return;
	}
	for (size_t i = 0; i < r->n_times; i++) {
		if (r->times[i].ts_us < lo)
			lo = r->times[i].ts_us;
		if (r->times[i].ts_us > hi)
			hi = r->times[i].ts_us;
	}
	span = hi - lo + 1;
	for (size_t i = 0; i < r->n_times; i++) {
		size_t b = (size_t)((double)(r->times[i].ts_us - lo) / (double)span *
		    REPORT_TIMELINE_BINS);
		if (b >= REPORT_TIMELINE_BINS)
			b = REPORT_TIMELINE_BINS - 1;
		if (r->times[i].alert)
			al[b]++;
		else
			hs[b]++;
	}
	for (size_t b = 0; b < REPORT_TIMELINE_BINS; b++)
		if (hs[b] + al[b] > max)
			max = hs[b] + al[b];
	iso_time(lo, t0, sizeof(t0));
	iso_time(hi, t1, sizeof(t1));
	fprintf(fp, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
	    "viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"handshakes and alerts over time\">\n"
	    "<title>Handshakes (grey) and alerts (red) from %s to %s</title>\n", w, h, w, h, t0, t1);
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", left,
	    h - bottom, w - 10, h - bottom);
	fprintf(fp, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#888\"/>\n", left,
	    top, left, h - bottom);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%" PRIu64
	    "</text>\n<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">0</text>\n",
	    left - 4, top + 10, max, left - 4, h - bottom);
	for (size_t b = 0; b < REPORT_TIMELINE_BINS; b++) {
		double x = left + (double)b * bw;
		double hh = (double)(h - bottom - top) * (double)hs[b] / (double)max;
		double ha = (double)(h - bottom - top) * (double)al[b] / (double)max;
		if (hs[b] > 0)
			fprintf(fp, "<rect class=\"hs\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			    "height=\"%.1f\" fill=\"#9aa5b1\"><title>%" PRIu64 " handshakes</title>"
			    "</rect>\n", x, (double)(h - bottom) - hh, bw * 0.9, hh, hs[b]);
		if (al[b] > 0)
			fprintf(fp, "<rect class=\"al\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			    "height=\"%.1f\" fill=\"#c0392b\"><title>%" PRIu64 " alerts</title>"
			    "</rect>\n", x, (double)(h - bottom) - hh - ha, bw * 0.9, ha, al[b]);
	}
	fprintf(fp, "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>\n", left, h - 10, t0);
	fprintf(fp, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%s</text>\n",
	    w - 10, h - 10, t1);
	fputs("</svg>\n", fp);
	fprintf(fp, "<p>%zu events from %s to %s, in %d bins of %.3f s; grey: handshakes, red: "
	    "alerts.</p>\n", r->n_times, t0, t1, REPORT_TIMELINE_BINS,
	    (double)span / 1e6 / REPORT_TIMELINE_BINS);
	if (r->times_cut > 0)
		fprintf(fp, "<p class=\"cut\">%" PRIu64 " later events are not in the timeline "
		    "(it keeps %d).</p>\n", r->times_cut, REPORT_TIMES_MAX);
}

static void
write_outputs(FILE *fp, const struct report_run *run)
{
	if (run->n_outs == 0)
		return;
	fputs("<h2 id=\"outputs\">Collectors</h2>\n<table><tr><th>output</th><th>format</th>"
	    "<th>sent</th><th>dropped (queue full)</th><th>possibly lost (broken connection)"
	    "</th><th>not delivered at the end</th></tr>\n", fp);
	for (size_t i = 0; i < run->n_outs; i++) {
		const struct ev_output_stats *o = &run->outs[i];
		fputs("<tr><td class=\"mono\">", fp);
		html_esc(fp, o->name);
		fprintf(fp, "</td><td>%s</td><td class=\"n\">%" PRIu64 "</td>", o->format, o->sent);
		const uint64_t *v[3] = { o->dropped, o->unconfirmed, o->undelivered };
		for (int k = 0; k < 3; k++)
			fprintf(fp, "<td class=\"n\">%" PRIu64 " (%" PRIu64 " alerts)</td>",
			    v[k][EV_KIND_HANDSHAKE] + v[k][EV_KIND_ALERT] + v[k][EV_KIND_METRIC],
			    v[k][EV_KIND_ALERT]);
		fputs("</tr>\n", fp);
	}
	fputs("</table>\n", fp);
}

int
report_write(struct report *r, const struct report_run *run, char *err, size_t errsz)
{
	FILE *fp = r->fp;
	int rc = 0;

	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width\">\n"
	    "<title>tlsentry report</title>\n<style>\n", fp);
	fputs(style, fp);
	fputs("</style>\n</head>\n<body>\n<h1>tlsentry report</h1>\n<p class=\"summary\">", fp);
	fputs("<span>sources: <b class=\"mono\">", fp);
	html_esc(fp, run->sources);
	fprintf(fp, "</b></span><span><b id=\"n-packets\">%" PRIu64 "</b> packets</span>"
	    "<span><b id=\"n-handshakes\">%" PRIu64 "</b> handshakes</span>"
	    "<span><b id=\"n-alerts\" class=\"%s\">%" PRIu64 "</b> alerts</span>"
	    "<span>%.2f s%s</span></p>\n", run->packets, run->handshakes,
	    run->alerts ? "bad" : "ok", run->alerts, run->seconds,
	    run->interrupted ? ", interrupted" : "");
	fputs("<p><a href=\"#timeline\">Timeline</a> &middot; <a href=\"#alerts\">Alerts</a>"
	    " &middot; <a href=\"#watched\">Watched names</a> &middot; <a href=\"#top-sni\">Top SNIs"
	    "</a> &middot; <a href=\"#top-issuers\">Top issuers</a></p>\n", fp);
	write_timeline(fp, r);		/* the overview first, then the evidence */
	write_alerts(fp, r);
	write_watched(fp, r);
	write_top(fp, "Top SNIs", "top-sni", "server name (SNI)", r->snis, r->n_snis,
	    r->snis_cut, r->no_sni, "no SNI");
	write_top(fp, "Top issuers", "top-issuers", "leaf certificate issuer", r->issuers,
	    r->n_issuers_all, r->issuers_cut, r->no_issuer, "no certificate visible");
	write_outputs(fp, run);
	fputs("<p><small>Written by tlsentry. Every name on this page comes from the network "
	    "and is shown as text, escaped.</small></p>\n</body>\n</html>\n", fp);
	if (fflush(fp) != 0 || ferror(fp)) {
		snprintf(err, errsz, "--report %s: write failed: %s", r->path, strerror(errno));
		rc = -1;
	}
	if (fclose(fp) != 0 && rc == 0) {
		snprintf(err, errsz, "--report %s: write failed: %s", r->path, strerror(errno));
		rc = -1;
	}
	r->fp = NULL;
	return rc;
}

static void
free_table(struct counted **t)
{
	struct counted *c, *tmp;

	HASH_ITER(hh, *t, c, tmp) {
		HASH_DEL(*t, c);
		free(c->key);
		free(c);
	}
}

void
report_free(struct report *r)
{
	struct watched *w, *tmp;

	if (r == NULL)
		return;
	if (r->fp != NULL)
		fclose(r->fp);
	for (size_t i = 0; i < r->n_alerts; i++) {
		struct alert_ev *a = &r->alerts[i];
		char *v[] = { a->sni, a->client, a->server, a->rule, a->severity, a->issuer,
		    a->subject, a->expected, a->chain, a->message, a->sha256, a->spki, a->reason,
		    a->detail, a->where, a->evidence };
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++)
			free(v[k]);
	}
	free(r->alerts);
	HASH_ITER(hh, r->watched, w, tmp) {
		HASH_DEL(r->watched, w);
		for (size_t k = 0; k < w->n_issuers; k++)
			free(w->issuers[k].key);
		for (size_t k = 0; k < w->n_keys; k++)
			free(w->keys[k].key);
		free(w->name);
		free(w->rule);
		free(w);
	}
	free_table(&r->snis);
	free_table(&r->issuers);
	free(r->times);
	free(r->path);
	free(r);
}
