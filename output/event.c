/*
 * event.c: handshake and alert events in ECS JSON Lines.
 *
 * Distrusts: every string in the handshake (SNI, DNs, SANs come from the
 * wire); they reach the output only through json_str() with their lengths,
 * and the human message is assembled with lengths too.  Owns: the output
 * stream (unless stdout) and the JSON buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../parser/tls_fp.h"
#include "../parser/tls_names.h"
#include "event.h"
#include "../parser/digest.h"
#include "format.h"
#include "log.h"

#ifndef TLSENTRY_VERSION
#define TLSENTRY_VERSION "0.1.0"
#endif

/* --- a small byte-string builder for the human message ---------------- */

#define SB_MAX 8192

struct sb {
	char b[SB_MAX];
	size_t n;
	bool cut;
};

/* Append; past SB_MAX the text is cut and ends in "..." (see sb_end). */
static void
sb_add(struct sb *s, const void *p, size_t n)
{
	size_t room = SB_MAX - 3 - s->n;

	if (n > room) {
		n = room;
		s->cut = true;
	}
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static void
sb_end(struct sb *s)
{
	if (s->cut) {
		memcpy(s->b + s->n, "...", 3);
		s->n += 3;
	}
}

static void
sb_str(struct sb *s, const char *str)
{
	sb_add(s, str, strlen(str));
}

static void sb_fmt(struct sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sb_fmt(struct sb *s, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		sb_add(s, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/* --- output stream ------------------------------------------------------- */

static void out_lock(struct ev_out *s);
static void out_unlock(struct ev_out *s);

/*
 * Open the event file for appending.  Not through a symbolic link, and only
 * a file, device or pipe: the file is opened as root and may sit in a
 * directory the unprivileged user writes to, who could otherwise point it
 * at any file root can write.
 */
static FILE *
open_events(const char *path, bool line_buffered)
{
	struct stat sb;
	FILE *fp;
	int fd;

	if (path == NULL) {
		fp = stdout;
	} else {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0640);
		if (fd < 0)
			return NULL;
		if (fstat(fd, &sb) != 0 || S_ISDIR(sb.st_mode) || S_ISLNK(sb.st_mode)) {
			close(fd);
			errno = EISDIR;
			return NULL;
		}
		fp = fdopen(fd, "a");
		if (fp == NULL) {
			close(fd);
			return NULL;
		}
	}
	if (line_buffered)
		setvbuf(fp, NULL, _IOLBF, 0);
	else
		setvbuf(fp, NULL, _IOFBF, EV_OUT_BUF);	/* a few large writes, not one per 4 KiB */
	return fp;
}

int
ev_out_open(struct ev_out *o, const char *path, bool line_buffered, char *err, size_t errsz)
{
	memset(o, 0, sizeof(*o));
	json_init(&o->w);
	o->has_lock = pthread_mutex_init(&o->lock, NULL) == 0;
	o->path = path;
	o->line_buffered = line_buffered;
	o->fmt = EV_FMT_JSON;
	o->fp = open_events(path, line_buffered);
	if (o->fp == NULL) {
		snprintf(err, errsz, "%s: cannot open for writing: %s", path,
		    errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		json_free(&o->w);
		if (o->has_lock)
			pthread_mutex_destroy(&o->lock);
		o->has_lock = false;
		return -1;
	}
	return 0;
}

void
ev_out_counts(struct ev_out *o, struct ev_counts *out)
{
	out_lock(o);
	*out = o->n;
	out_unlock(o);
}

void
ev_out_worker(struct ev_out *o, struct ev_out *sink)
{
	memset(o, 0, sizeof(*o));
	json_init(&o->w);
	o->sink = sink;
}

void
ev_out_worker_free(struct ev_out *o)
{
	json_free(&o->w);
	ev_buf_free(&o->cef);
	ev_buf_free(&o->text);
	o->sink = NULL;
}

static void
out_lock(struct ev_out *s)
{
	if (s->has_lock)
		(void)pthread_mutex_lock(&s->lock);
}

static void
out_unlock(struct ev_out *s)
{
	if (s->has_lock)
		(void)pthread_mutex_unlock(&s->lock);
}

/* Count a failed write; say so at once, the first time (alerts are at stake). */
static void
write_failed(struct ev_out *o, int err)
{
	if (o->n.n_write_errors++ == 0) {
		o->first_errno = err;
		log_error("%s: cannot write events: %s (events are being lost; further "
		    "errors are counted in the summary and metric events)",
		    o->path ? o->path : "standard output", strerror(err));
	}
	if (o->fp != NULL)
		clearerr(o->fp);		/* the next write tries again */
}

int
ev_out_reopen(struct ev_out *o, char *err, size_t errsz)
{
	FILE *fp;

	if (o->path == NULL)
		return 0;
	fp = open_events(o->path, o->line_buffered);
	if (fp == NULL) {
		o->n.n_reopen_failures++;
		snprintf(err, errsz, "%s: cannot reopen, still writing to the old file: %s",
		    o->path, errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		return -1;
	}
	out_lock(o);
	if (fflush(o->fp) != 0 || fclose(o->fp) != 0)
		write_failed(o, errno);
	o->fp = fp;
	out_unlock(o);
	return 0;
}

int
ev_out_close(struct ev_out *o)
{
	if (o->fp != NULL) {
		if (fflush(o->fp) != 0 || ferror(o->fp))
			write_failed(o, errno);
		if (o->fp != stdout && fclose(o->fp) != 0)
			write_failed(o, errno);
	}
	json_free(&o->w);
	ev_buf_free(&o->cef);
	ev_buf_free(&o->text);
	o->fp = NULL;
	if (o->has_lock)
		pthread_mutex_destroy(&o->lock);
	o->has_lock = false;
	return o->n.n_write_errors > 0 ? -1 : 0;
}

void
ev_out_set_format(struct ev_out *o, enum ev_format fmt, bool colour)
{
	o->fmt = fmt;
	o->colour = colour && fmt == EV_FMT_TEXT;
}

int
ev_out_add_sink(struct ev_out *o, const struct ev_sink *s)
{
	if (o->n_sinks == EV_SINKS_MAX)
		return -1;
	o->sinks[o->n_sinks++] = *s;
	return 0;
}

const char *
ev_format_str(enum ev_format f)
{
	switch (f) {
	case EV_FMT_JSON:	return "json";
	case EV_FMT_CEF:	return "cef";
	case EV_FMT_TEXT:	return "text";
	case EV_FMT_N:		break;
	}
	return "?";
}

enum ev_format
ev_format_parse(const char *s)
{
	for (int f = 0; f < EV_FMT_N; f++)
		if (strcmp(s, ev_format_str((enum ev_format)f)) == 0)
			return (enum ev_format)f;
	return EV_FMT_N;
}

const char *
ev_kind_str(enum ev_kind k)
{
	switch (k) {
	case EV_KIND_HANDSHAKE:	return "handshake";
	case EV_KIND_ALERT:	return "alert";
	case EV_KIND_METRIC:	return "metric";
	case EV_KIND_N:		break;
	}
	return "?";
}

/* Renderings live in the builder (m->out): one per worker thread. */
const char *
ev_render(struct ev_msg *m, enum ev_format f, size_t *len)
{
	struct ev_out *o = m->out;
	struct ev_buf *b = f == EV_FMT_CEF ? &o->cef : &o->text;

	*len = 0;
	if (f == EV_FMT_JSON)
		return json_done(&o->w, len);
	if (!o->rendered[f]) {
		ev_buf_reset(b);
		if (f == EV_FMT_CEF)
			fmt_cef(b, m);
		else
			fmt_text(b, m);
		o->rendered[f] = true;
	}
	if (b->failed)
		return NULL;
	*len = b->len;
	return b->p;
}

/* The file or stdout (s, under its lock): the event in s's format, one line. */
static void
write_file(struct ev_out *s, struct ev_msg *m)
{
	static const char *const colours[EV_KIND_N] = { "\x1b[2m", "\x1b[1;31m", "\x1b[36m" };
	size_t len;
	const char *doc;

	if (s->fp == NULL || s->fmt == EV_FMT_N)
		return;
	doc = ev_render(m, s->fmt, &len);
	if (doc == NULL) {
		s->n.n_too_large++;
		return;
	}
	if ((s->colour && fputs(colours[m->kind], s->fp) == EOF) ||
	    fwrite(doc, 1, len, s->fp) != len || (s->colour && fputs("\x1b[0m", s->fp) == EOF) ||
	    putc('\n', s->fp) == EOF) {
		write_failed(s, errno);
		return;
	}
	s->n.n_events++;
	if (m->kind == EV_KIND_ALERT)
		s->n.n_alerts++;
}

/*
 * The event built in o (a worker's builder, or the stream itself): written
 * to the stream, then handed to every sink, all under the stream's lock, so
 * with --workers each event reaches the file and every collector whole and
 * in the same order, and a sink never runs on two threads at once.
 */
static void
dispatch(struct ev_out *o, struct ev_msg *m)
{
	struct ev_out *s = o->sink != NULL ? o->sink : o;

	m->out = o;
	for (int f = 0; f < EV_FMT_N; f++)
		o->rendered[f] = false;
	out_lock(s);
	write_file(s, m);
	for (size_t i = 0; i < s->n_sinks; i++)
		s->sinks[i].deliver(s->sinks[i].ctx, m);
	out_unlock(s);
}

/* RFC 5424 severities: alerts by the rule's, everything else informational. */
static unsigned
alert_severity(enum rule_severity sev)
{
	switch (sev) {
	case SEV_CRITICAL:	return 2;	/* Critical */
	case SEV_HIGH:		return 3;	/* Error */
	case SEV_MEDIUM:	return 4;	/* Warning */
	default:		return 5;	/* Notice */
	}
}

/*
 * Keep an alert's message for the summary a person reads at the end, with
 * every byte outside printable ASCII written as \xNN: wire bytes (an SNI
 * with terminal escapes or bidi overrides) never reach a terminal raw.
 */
static void
keep_alert(struct ev_out *w, const struct sb *msg)
{
	struct ev_out *o = w->sink != NULL ? w->sink : w;
	size_t cap = sizeof(o->alerts[0]) - 4, n = 0;
	char *out;

	out_lock(o);
	if (o->n_alerts_kept == EV_ALERTS_KEPT) {
		out_unlock(o);
		return;
	}
	out = o->alerts[o->n_alerts_kept];
	for (size_t i = 0; i < msg->n && n + 4 < cap; i++) {
		unsigned char c = (unsigned char)msg->b[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[n++] = (char)c;
		else
			n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
	}
	if (n + 4 >= cap) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	o->n_alerts_kept++;
	out_unlock(o);
}

/* --- field helpers --------------------------------------------------------- */

static void
put_time(struct json_w *w, const char *key, int64_t ts_us)
{
	int64_t sec = ts_us / 1000000, us = ts_us % 1000000;
	time_t t;
	struct tm tm;
	char buf[48];

	if (us < 0) {
		us += 1000000;
		sec--;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	if (tm.tm_year + 1900 >= 0 && tm.tm_year + 1900 <= 9999) {
		/* by hand: snprintf here was a visible share of each event */
		int f[6] = { tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			     tm.tm_min, tm.tm_sec };
		char *p = buf;
		for (int i = 0; i < 6; i++) {
			int v = f[i];
			if (i == 0) {
				*p++ = (char)('0' + v / 1000);
				*p++ = (char)('0' + v / 100 % 10);
			}
			*p++ = (char)('0' + v / 10 % 10);
			*p++ = (char)('0' + v % 10);
			*p++ = "--T::."[i];
		}
		for (int64_t d = 100000; d > 0; d /= 10)
			*p++ = (char)('0' + us / d % 10);
		*p++ = 'Z';
		json_str(w, key, buf, (size_t)(p - buf));
		return;
	}
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, us);
	json_cstr(w, key, buf);
}

static void
ip_text(uint8_t family, const uint8_t *addr, char *out, size_t outsz)
{
	if (inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr, out, (socklen_t)outsz) == NULL)
		snprintf(out, outsz, "?");
}

static void
hex_upper(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
put_endpoint(struct json_w *w, const char *key, uint8_t family, const uint8_t *ip,
    uint16_t port)
{
	char text[64];

	ip_text(family, ip, text, sizeof(text));
	json_obj_begin(w, key);
	json_cstr(w, "ip", text);
	json_u64(w, "port", port);
	json_obj_end(w);
}

/* Every value of attribute name, as an array (ECS x509 name fields). */
static void
put_attr_array(struct json_w *w, const char *key, const struct cert_attr *a, size_t n,
    const char *name)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(a[i].name, name) != 0)
			continue;
		if (!any)
			json_arr_begin(w, key);
		any = true;
		json_str(w, NULL, a[i].value.p, a[i].value.len);
	}
	if (any)
		json_arr_end(w);
}

static void
put_name_fields(struct json_w *w, const char *key, const struct cert_attr *a, size_t n)
{
	json_obj_begin(w, key);
	put_attr_array(w, "common_name", a, n, "CN");
	put_attr_array(w, "organization", a, n, "O");
	put_attr_array(w, "organizational_unit", a, n, "OU");
	put_attr_array(w, "country", a, n, "C");
	put_attr_array(w, "state_or_province", a, n, "ST");
	put_attr_array(w, "locality", a, n, "L");
	json_obj_end(w);
}

/* ECS tls.server.x509.* */
static void
put_x509(struct json_w *w, const struct cert_info *ci)
{
	char ver[8];

	json_obj_begin(w, "x509");
	if (ci->n_sans > 0) {
		json_arr_begin(w, "alternative_names");
		for (size_t i = 0; i < ci->n_sans; i++)
			json_str(w, NULL, ci->sans[i].value.p, ci->sans[i].value.len);
		json_arr_end(w);
	}
	put_name_fields(w, "issuer", ci->issuer_attrs, ci->n_issuer_attrs);
	put_name_fields(w, "subject", ci->subject_attrs, ci->n_subject_attrs);
	if (ci->serial[0])
		json_cstr(w, "serial_number", ci->serial);
	if (ci->sig_alg[0])
		json_cstr(w, "signature_algorithm", ci->sig_alg);
	if (ci->key_alg[0])
		json_cstr(w, "public_key_algorithm", ci->key_alg);
	if (ci->key_bits > 0)
		json_u64(w, "public_key_size", (uint64_t)ci->key_bits);
	if (ci->key_curve[0])
		json_cstr(w, "public_key_curve", ci->key_curve);
	if (ci->not_before[0])
		json_cstr(w, "not_before", ci->not_before);
	if (ci->not_after[0])
		json_cstr(w, "not_after", ci->not_after);
	snprintf(ver, sizeof(ver), "%d", ci->version);
	json_cstr(w, "version_number", ver);
	json_obj_end(w);
}

/* ECS tls.server.* (the leaf) and tls.client.* (mutual TLS): a certificate. */
static void
put_cert(struct json_w *w, const struct cert_info *ci)
{
	char hex[65];

	json_obj_begin(w, "hash");
	hex_upper(ci->sha1, sizeof(ci->sha1), hex);
	json_cstr(w, "sha1", hex);
	hex_upper(ci->sha256, sizeof(ci->sha256), hex);
	json_cstr(w, "sha256", hex);
	json_obj_end(w);
	if (!ci->decoded)
		return;
	json_cstr(w, "issuer", ci->issuer);
	json_cstr(w, "subject", ci->subject);
	if (ci->not_before[0])
		json_cstr(w, "not_before", ci->not_before);
	if (ci->not_after[0])
		json_cstr(w, "not_after", ci->not_after);
	put_x509(w, ci);
}

static void
put_cipher_name(struct json_w *w, const char *key, uint16_t id)
{
	const char *name = tls_cipher_name(id);
	char hex[8];

	if (name == NULL) {
		snprintf(hex, sizeof(hex), "0x%04X", id);
		name = hex;
	}
	json_cstr(w, key, name);
}

static void
put_tls(struct json_w *w, const struct ev_handshake *hs)
{
	const char *ver = NULL, *proto = NULL;

	json_obj_begin(w, "tls");
	if (hs->sh != NULL) {
		tls_version_names(hs->sh->version, &ver, &proto);
		if (ver != NULL) {
			json_cstr(w, "version", ver);
			json_cstr(w, "version_protocol", proto);
		}
		if (!hs->sh->is_sslv2)
			put_cipher_name(w, "cipher", hs->sh->cipher);
		if (hs->sh->alpn_len > 0)
			json_str(w, "next_protocol", hs->sh->alpn, hs->sh->alpn_len);
	}
	json_bool(w, "established", hs->established);
	json_bool(w, "resumed", hs->resumed);
	if (hs->ch != NULL || hs->client_leaf != NULL) {
		json_obj_begin(w, "client");
		if (hs->ch != NULL && hs->ch->has_sni)
			json_str(w, "server_name", hs->ch->sni, hs->ch->sni_len);
		if (hs->ch != NULL && hs->ch->n_ciphers > 0) {
			json_arr_begin(w, "supported_ciphers");
			for (uint16_t i = 0; i < hs->ch->n_ciphers; i++)
				if (!tls_is_grease(hs->ch->ciphers[i]))
					put_cipher_name(w, NULL, hs->ch->ciphers[i]);
			json_arr_end(w);
		}
		if (hs->ja3 != NULL)
			json_cstr(w, "ja3", hs->ja3);
		if (hs->ja4 != NULL)
			json_cstr(w, "ja4", hs->ja4);
		if (hs->client_leaf != NULL)
			put_cert(w, hs->client_leaf);
		json_obj_end(w);
	}
	if (hs->chain_len > 0 || hs->ja3s != NULL) {
		json_obj_begin(w, "server");
		if (hs->chain_len > 0)
			put_cert(w, hs->chain[0]);
		if (hs->ja3s != NULL)
			json_cstr(w, "ja3s", hs->ja3s);
		json_obj_end(w);
	}
	json_obj_end(w);
}

static void
put_version_code(struct json_w *w, const char *key, uint16_t v)
{
	char hex[8];

	snprintf(hex, sizeof(hex), "0x%04x", v);
	json_cstr(w, key, hex);
}

/* A list of wire values (extension types, groups) as numbers, in order. */
static void
put_u16_list(struct json_w *w, const char *key, const uint16_t *v, size_t n)
{
	if (n == 0)
		return;
	json_arr_begin(w, key);
	for (size_t i = 0; i < n; i++)
		json_u64(w, NULL, v[i]);
	json_arr_end(w);
}

/* How the session was resumed, and with what. */
static void
put_resumption(struct json_w *w, const struct ev_handshake *hs)
{
	char hex[65];

	json_obj_begin(w, "resumption");
	json_cstr(w, "method", hs->resumed_with);
	if (hs->sh != NULL && hs->sh->session_id_len > 0) {
		for (size_t i = 0; i < hs->sh->session_id_len; i++)
			snprintf(hex + 2 * i, 3, "%02x", hs->sh->session_id[i]);
		json_cstr(w, "session_id", hex);
	}
	if (hs->ch != NULL && hs->ch->has_ticket)
		json_u64(w, "ticket_length", hs->ch->ticket_len);
	json_obj_end(w);
}

/* The stapled OCSP response: what the server says about its own certificate. */
static void
put_ocsp(struct json_w *w, const struct ev_handshake *hs)
{
	const struct cert_ocsp *o = hs->ocsp;

	json_obj_begin(w, "ocsp");
	json_cstr(w, "response_status", o->response_status);
	if (o->has_single) {
		json_cstr(w, "status", o->cert_status);
		if (o->produced_at[0])
			json_cstr(w, "produced_at", o->produced_at);
		if (o->this_update[0])
			json_cstr(w, "this_update", o->this_update);
		if (o->next_update[0])
			json_cstr(w, "next_update", o->next_update);
		if (o->revocation_time[0])
			json_cstr(w, "revocation_time", o->revocation_time);
		if (o->revocation_reason >= 0)
			json_u64(w, "revocation_reason", (uint64_t)o->revocation_reason);
		if (o->serial[0]) {
			json_cstr(w, "serial_number", o->serial);
			if (hs->chain_len > 0 && hs->chain[0]->decoded)
				json_bool(w, "for_leaf", strcmp(o->serial, hs->chain[0]->serial) == 0);
		}
	}
	json_obj_end(w);
}

/* The chain's validation, and what is wrong with the handshake. */
static void
put_judgement(struct json_w *w, const struct judgement *j)
{
	if (j->trust.checked || j->host != TRUST_HOST_NOT_CHECKED) {
		json_obj_begin(w, "validation");
		json_cstr(w, "status", j->trust.status);
		if (j->trust.depth >= 0)
			json_u64(w, "depth", (uint64_t)j->trust.depth);
		if (j->trust.checked)
			json_bool(w, "public_root", j->trust.public_root);
		json_cstr(w, "hostname", trust_host_str(j->host));
		json_obj_end(w);
	}
	if (j->n_findings > 0) {
		json_arr_begin(w, "findings");
		for (unsigned i = 0; i < j->n_findings; i++)
			json_cstr(w, NULL, rules_reason_str(j->findings[i].reason));
		json_arr_end(w);
		json_arr_begin(w, "finding_details");
		for (unsigned i = 0; i < j->n_findings; i++) {
			json_obj_begin(w, NULL);
			json_cstr(w, "reason", rules_reason_str(j->findings[i].reason));
			json_bool(w, "alert", j->findings[i].alert);
			json_cstr(w, "detail", j->findings[i].detail);
			json_obj_end(w);
		}
		json_arr_end(w);
	}
}

/* Where an analyst finds the certificates and the packets of an alert. */
static void
put_evidence(struct json_w *w, const struct ev_handshake *hs)
{
	char path[4200];		/* a directory given on the command line, a hash */
	bool any = false;

	for (size_t i = 0; hs->cert_store_dir != NULL && i < hs->chain_len; i++)
		any |= hs->chain[i]->stored;
	if (!any && hs->evidence_pcap == NULL)
		return;
	json_obj_begin(w, "evidence");
	if (hs->evidence_pcap != NULL) {
		json_cstr(w, "pcap", hs->evidence_pcap);
		json_bool(w, "pcap_partial", hs->evidence_partial);
	}
	if (any) {
		json_arr_begin(w, "certificates");
		for (size_t i = 0; i < hs->chain_len; i++) {
			char hex[65];
			if (!hs->chain[i]->stored)
				continue;
			for (size_t k = 0; k < 32; k++)
				snprintf(hex + 2 * k, 3, "%02x", hs->chain[i]->sha256[k]);
			snprintf(path, sizeof(path), "%s/%s.pem", hs->cert_store_dir, hex);
			json_cstr(w, NULL, path);
		}
		json_arr_end(w);
	}
	json_obj_end(w);
}

/* Fields of our own: the chain, what we could see, and why not. */
static void
put_tlsentry(struct json_w *w, const struct ev_handshake *hs, const char *id, int alert)
{
	const struct judgement *j = hs->j;
	char hex[65];

	json_obj_begin(w, "tlsentry");
	json_cstr(w, "handshake_id", id);
	json_cstr(w, "verdict", ev_verdict_str(j->verdict));
	if (j->rule != NULL) {
		json_cstr(w, "watched_by", j->rule->name);
		json_cstr(w, "watched_name_from", j->rule_name_source);
	}
	if (alert >= 0) {
		const struct judge_finding *f = &j->findings[alert];
		json_cstr(w, "severity", rules_severity_str(f->severity));
		json_cstr(w, "alert_detail", f->detail);
		json_u64(w, "repeats", hs->repeats[f->reason]);
		if (f->reason == R_UNEXPECTED_ISSUER && j->rule != NULL) {
			json_arr_begin(w, "expected_issuers");
			for (size_t i = 0; i < j->rule->n_issuers; i++)
				json_cstr(w, NULL, j->rule->issuers[i].text);
			json_arr_end(w);
		}
		put_evidence(w, hs);
	}
	put_judgement(w, j);
	if (hs->sh != NULL)
		put_version_code(w, "version_code", hs->sh->version);
	json_bool(w, "certificate_visible", hs->cert_visible);
	if (hs->cert_visible) {
		json_u64(w, "chain_length", hs->chain_total);
		json_arr_begin(w, "chain");
		for (size_t i = 0; i < hs->chain_len; i++) {
			const struct cert_info *ci = hs->chain[i];
			json_obj_begin(w, NULL);
			if (ci->decoded) {
				json_cstr(w, "subject", ci->subject);
				json_cstr(w, "issuer", ci->issuer);
			}
			hex_upper(ci->sha256, sizeof(ci->sha256), hex);
			json_cstr(w, "sha256", hex);
			json_obj_end(w);
		}
		json_arr_end(w);
	}
	if (hs->chain_len > 0) {
		const struct cert_info *leaf = hs->chain[0];
		json_obj_begin(w, "leaf");
		json_bool(w, "decoded", leaf->decoded);
		if (leaf->decoded) {
			json_bool(w, "self_issued", leaf->self_issued);
			if (leaf->spki_pin[0])
				json_cstr(w, "spki_sha256", leaf->spki_pin);
			json_u64(w, "san_count", leaf->n_sans_total);
		}
		json_obj_end(w);
	}
	if (hs->ch != NULL) {
		json_obj_begin(w, "client");
		put_version_code(w, "version_code", hs->ch->legacy_version);
		if (hs->ch->n_versions > 0) {
			json_arr_begin(w, "supported_versions");
			for (unsigned i = 0; i < hs->ch->n_versions; i++)
				if (!tls_is_grease(hs->ch->versions[i]))
					put_version_code(w, NULL, hs->ch->versions[i]);
			json_arr_end(w);
		}
		if (hs->ch->n_alpn > 0) {
			json_arr_begin(w, "alpn");
			for (unsigned i = 0; i < hs->ch->n_alpn; i++)
				json_str(w, NULL, hs->ch->alpn[i], hs->ch->alpn_len[i]);
			json_arr_end(w);
		}
		put_u16_list(w, "extensions", hs->ch->exts, hs->ch->n_exts);
		put_u16_list(w, "supported_groups", hs->ch->groups, hs->ch->n_groups);
		if (hs->ch->n_ecpf > 0) {
			json_arr_begin(w, "ec_point_formats");
			for (unsigned i = 0; i < hs->ch->n_ecpf; i++)
				json_u64(w, NULL, hs->ch->ecpf[i]);
			json_arr_end(w);
		}
		put_u16_list(w, "signature_algorithms", hs->ch->sigalgs, hs->ch->n_sigalgs);
		if (hs->ch->is_sslv2)
			json_bool(w, "sslv2_hello", true);
		if (hs->ja3_string != NULL)
			json_cstr(w, "ja3_string", hs->ja3_string);
		if (hs->ja4_r != NULL)
			json_cstr(w, "ja4_r", hs->ja4_r);
		json_obj_end(w);
	}
	if (hs->sh != NULL && (hs->sh->n_exts > 0 || hs->ja3s_string != NULL)) {
		json_obj_begin(w, "server");
		put_u16_list(w, "extensions", hs->sh->exts, hs->sh->n_exts);
		if (hs->ja3s_string != NULL)
			json_cstr(w, "ja3s_string", hs->ja3s_string);
		json_obj_end(w);
	}
	if (hs->ch != NULL && hs->ch->has_ech) {
		json_bool(w, "ech", true);
		if (hs->ch->has_sni)
			json_str(w, "ech_public_name", hs->ch->sni, hs->ch->sni_len);
	}
	if (hs->ch != NULL && hs->ch->has_esni)
		json_bool(w, "esni", true);
	if (hs->resumed_with != NULL)
		put_resumption(w, hs);
	if (hs->ocsp != NULL)
		put_ocsp(w, hs);
	json_u64(w, "client_hellos", hs->n_client_hellos);
	if (hs->hrr)
		json_bool(w, "hello_retry", true);
	if (hs->hvr)
		json_bool(w, "hello_verify_request", true);
	if (hs->quic_version != 0) {
		char v[16];
		snprintf(v, sizeof(v), "0x%08" PRIx32, hs->quic_version);
		json_cstr(w, "quic_version", v);
	}
	if (hs->preamble_len > 0)
		json_u64(w, "cleartext_bytes_before_tls", hs->preamble_len);
	if (hs->upgraded_from != NULL)
		json_cstr(w, "upgraded_from", hs->upgraded_from);
	if (hs->client_cert)
		json_bool(w, "client_certificate", true);
	if (hs->cert_unreadable)
		json_bool(w, "certificate_unreadable", true);
	if (hs->roles_inferred)
		json_bool(w, "roles_inferred", true);
	if (hs->incomplete != NULL)
		json_cstr(w, "incomplete", hs->incomplete);
	if (hs->n_anomalies > 0) {
		json_arr_begin(w, "anomalies");
		for (unsigned i = 0; i < hs->n_anomalies; i++)
			json_cstr(w, NULL, hs->anomalies[i]);
		json_arr_end(w);
	}
	json_obj_end(w);
}

static uint8_t
ev_transport(const struct ev_handshake *hs)
{
	return hs->transport != 0 ? hs->transport : 6;
}

static void
put_network(struct json_w *w, const struct ev_handshake *hs)
{
	char cid[32];

	ev_community_id(hs->family, hs->client_ip, hs->client_port, hs->server_ip,
	    hs->server_port, ev_transport(hs), cid);
	json_obj_begin(w, "network");
	json_cstr(w, "transport", ev_transport(hs) == 17 ? "udp" : "tcp");
	json_cstr(w, "type", hs->family == 6 ? "ipv6" : "ipv4");
	json_cstr(w, "protocol", hs->protocol != NULL ? hs->protocol : "tls");
	json_cstr(w, "community_id", cid);
	json_obj_end(w);
}

/* The server as a reader knows it: "SNI (ip:port)", or "ip:port" without SNI. */
static void
sb_server(struct sb *s, const struct ev_handshake *hs)
{
	char ip[64];

	ip_text(hs->family, hs->server_ip, ip, sizeof(ip));
	if (hs->ch != NULL && hs->ch->has_sni) {
		sb_add(s, hs->ch->sni, hs->ch->sni_len);
		sb_str(s, " (");
	}
	if (hs->family == 6)
		sb_fmt(s, "[%s]:%u", ip, hs->server_port);
	else
		sb_fmt(s, "%s:%u", ip, hs->server_port);
	if (hs->ch != NULL && hs->ch->has_sni)
		sb_str(s, ")");
}

/* Which rule watched it, and what the verdict was. */
static void
sb_verdict(struct sb *s, const struct ev_handshake *hs)
{
	const struct judgement *j = hs->j;

	if (j->n_findings > 0) {
		sb_str(s, "; findings:");
		for (unsigned i = 0; i < j->n_findings; i++) {
			sb_str(s, i ? ", " : " ");
			sb_str(s, rules_reason_str(j->findings[i].reason));
		}
	}
	if (j->rule == NULL)
		return;
	switch (j->verdict) {
	case EV_ISSUER_OK:
		sb_str(s, "; issuer expected by [");
		break;
	case EV_UNEXPECTED_ISSUER:
		sb_str(s, "; issuer NOT expected by [");
		break;
	default:
		sb_str(s, "; watched by [");
		break;
	}
	sb_str(s, j->rule->name);
	sb_str(s, "]");
	if (strcmp(j->rule_name_source, "certificate") == 0)
		sb_str(s, " (matched by the certificate's names: no usable SNI)");
}

static void
handshake_message(const struct ev_handshake *hs, struct sb *s)
{
	const char *ver = NULL, *proto = NULL;

	if (hs->sh != NULL)
		tls_version_names(hs->sh->version, &ver, &proto);
	if (hs->protocol != NULL && strcmp(hs->protocol, "quic") == 0)
		sb_str(s, "QUIC handshake with ");
	else if (ver != NULL)
		sb_fmt(s, "%s %s handshake with ", strcmp(proto, "ssl") == 0 ? "SSL" :
		    strcmp(proto, "dtls") == 0 ? "DTLS" : "TLS", ver);
	else if (hs->protocol != NULL && strcmp(hs->protocol, "dtls") == 0)
		sb_str(s, "DTLS handshake with ");
	else
		sb_str(s, "TLS handshake with ");
	sb_server(s, hs);
	if (hs->upgraded_from != NULL) {
		sb_str(s, " after a cleartext ");
		sb_str(s, hs->upgraded_from);
		sb_str(s, " start");
	}
	if (hs->cert_visible && hs->chain_len > 0 && hs->chain[0]->decoded) {
		sb_str(s, ": certificate ");
		sb_str(s, hs->chain[0]->subject);
		sb_str(s, " issued by ");
		sb_str(s, hs->chain[0]->issuer);
	} else if (hs->cert_visible && hs->chain_len > 0) {
		sb_str(s, ": certificate could not be decoded");
	} else if (hs->protocol != NULL && strcmp(hs->protocol, "quic") == 0) {
		sb_str(s, ": certificate encrypted (QUIC carries TLS 1.3), issuer not visible");
	} else if (hs->sh != NULL && tls_version_is_13(hs->sh->version)) {
		sb_str(s, ": certificate encrypted (TLS 1.3), issuer not visible");
	} else if (hs->resumed) {
		sb_str(s, ": session resumed, no certificate sent");
	} else if (hs->sh == NULL && hs->ch != NULL) {
		sb_str(s, ": no server reply seen");
	} else {
		sb_str(s, ": no certificate seen");
	}
	if (hs->ch != NULL && hs->ch->has_ech)
		sb_str(s, "; encrypted ClientHello (ECH, possibly GREASE): the SNI is only the "
		    "public name, the real server name is hidden");
	if (hs->ocsp != NULL && hs->ocsp->has_single && strcmp(hs->ocsp->cert_status, "good") != 0) {
		sb_str(s, "; stapled OCSP response says ");
		sb_str(s, hs->ocsp->cert_status);
	}
	sb_verdict(s, hs);
	if (hs->incomplete != NULL) {
		sb_str(s, "; incomplete: ");
		sb_str(s, hs->incomplete);
	}
	sb_end(s);
}

/* The foundation's alert: whose issuer, and which ones the block expects. */
static void
issuer_alert_message(const struct ev_handshake *hs, struct sb *s)
{
	const struct cert_info *leaf = hs->chain_len > 0 ? hs->chain[0] : NULL;
	const struct rule *r = hs->j->rule;

	if (leaf != NULL && leaf->decoded) {
		sb_str(s, ": certificate issued by '");
		sb_str(s, leaf->issuer);
		sb_str(s, leaf->self_issued ? "' (self-signed)" : "'");
	} else if (leaf != NULL) {
		sb_str(s, ": certificate that could not be decoded");
	} else {
		sb_str(s, ": certificate message that could not be read (over the size cap or "
		    "malformed), so its issuer is unknown");
	}
	sb_str(s, ", but [");
	sb_str(s, r->name);
	sb_str(s, "] expects ");
	for (size_t i = 0; i < r->n_issuers; i++) {
		sb_str(s, i == 0 ? "'" : " or '");
		sb_str(s, r->issuers[i].text);
		sb_str(s, "'");
	}
}

static void
alert_message(const struct ev_handshake *hs, unsigned i, struct sb *s)
{
	const struct judgement *j = hs->j;
	const struct judge_finding *f = &j->findings[i];

	sb_server(s, hs);
	if (f->reason == R_UNEXPECTED_ISSUER) {
		issuer_alert_message(hs, s);
	} else {
		sb_str(s, ": ");
		sb_str(s, rules_reason_str(f->reason));
		sb_str(s, ": ");
		sb_str(s, f->detail);
		if (f->by_rule) {
			sb_str(s, " [");
			sb_str(s, j->rule->name);
			sb_str(s, "]");
		}
	}
	if (j->rule != NULL && strcmp(j->rule_name_source, "certificate") == 0)
		sb_str(s, "; watched because of the certificate's names (no usable SNI)");
	if (hs->repeats[f->reason] > 0)
		sb_fmt(s, "; %llu more like it since the last alert",
		    (unsigned long long)hs->repeats[f->reason]);
	/* the fact that matters most for triage: did the victim accept it? */
	sb_str(s, hs->established ? "; the client accepted it and went on to encrypted data" :
	    "; the client was not seen accepting it");
	sb_end(s);
}

/*
 * A stable id for the handshake, the same in its alert: the first 16 hex
 * digits of SHA-256 over the Community ID and the capture time.
 */
void
ev_handshake_id(const struct ev_handshake *hs, char out[17])
{
	char cid[32], text[64];
	unsigned char md[32];
	int n;

	ev_community_id(hs->family, hs->client_ip, hs->client_port, hs->server_ip,
	    hs->server_port, ev_transport(hs), cid);
	n = snprintf(text, sizeof(text), "%s %" PRId64, cid, hs->ts_us);
	(void)dg_sha256(text, (size_t)n, md);	/* zeroed on failure */
	dg_hex(md, 8, out);
}

static bool
sni_is_host(const struct ev_handshake *hs)
{
	return hs->ch != NULL && hs->ch->has_sni && !(hs->ch->flags & TLS_HF_BAD_SNI);
}

/* With ECH the SNI names the client-facing server, not the one reached. */
static bool
sni_is_destination(const struct ev_handshake *hs)
{
	return sni_is_host(hs) && !hs->ch->has_ech;
}

/* ECS related.*: the values an analyst pivots on. */
static void
put_related(struct json_w *w, const struct ev_handshake *hs)
{
	char ip[64], hex[65];

	json_obj_begin(w, "related");
	json_arr_begin(w, "ip");
	ip_text(hs->family, hs->client_ip, ip, sizeof(ip));
	json_cstr(w, NULL, ip);
	if (memcmp(hs->client_ip, hs->server_ip, hs->family == 6 ? 16 : 4) != 0) {
		ip_text(hs->family, hs->server_ip, ip, sizeof(ip));
		json_cstr(w, NULL, ip);
	}
	json_arr_end(w);
	if (sni_is_host(hs)) {
		json_arr_begin(w, "hosts");
		json_str(w, NULL, hs->ch->sni, hs->ch->sni_len);
		json_arr_end(w);
	}
	if (hs->chain_len > 0 || hs->ja3 != NULL || hs->ja4 != NULL) {
		json_arr_begin(w, "hash");
		if (hs->chain_len > 0) {
			hex_upper(hs->chain[0]->sha256, sizeof(hs->chain[0]->sha256), hex);
			json_cstr(w, NULL, hex);
		}
		if (hs->ja3 != NULL)
			json_cstr(w, NULL, hs->ja3);
		if (hs->ja4 != NULL)
			json_cstr(w, NULL, hs->ja4);
		json_arr_end(w);
	}
	json_obj_end(w);
}

/* The fields before event-specific ones: time, ECS version, event.*. */
static void
put_head(struct json_w *w, const struct ev_handshake *hs, const char *kind, const char *id)
{
	json_obj_begin(w, NULL);
	put_time(w, "@timestamp", hs->ts_us);
	json_obj_begin(w, "ecs");
	json_cstr(w, "version", EV_ECS_VERSION);
	json_obj_end(w);
	json_obj_begin(w, "event");
	json_cstr(w, "kind", kind);
	json_cstr(w, "id", id);
}

/* The fields after event.*: who, what, and the handshake itself. */
static void
put_body(struct json_w *w, const struct ev_handshake *hs)
{
	char ip[64];

	json_obj_begin(w, "observer");
	json_cstr(w, "type", "sensor");
	json_cstr(w, "vendor", "tlsentry");
	json_cstr(w, "product", "tlsentry");
	json_cstr(w, "version", TLSENTRY_VERSION);
	if (hs->interface != NULL) {
		json_obj_begin(w, "ingress");
		json_obj_begin(w, "interface");
		json_cstr(w, "name", hs->interface);
		json_obj_end(w);
		json_obj_end(w);
	}
	json_obj_end(w);
	put_endpoint(w, "source", hs->family, hs->client_ip, hs->client_port);
	json_obj_begin(w, "destination");
	ip_text(hs->family, hs->server_ip, ip, sizeof(ip));
	json_cstr(w, "ip", ip);
	json_u64(w, "port", hs->server_port);
	if (sni_is_destination(hs))
		json_str(w, "domain", hs->ch->sni, hs->ch->sni_len);
	json_obj_end(w);
	put_network(w, hs);
	put_tls(w, hs);
}

static void
put_tail(struct json_w *w, const struct ev_handshake *hs, const struct sb *msg,
    const char *id, int alert)
{
	put_related(w, hs);
	if (hs->source_file != NULL) {
		json_obj_begin(w, "log");
		json_obj_begin(w, "file");
		json_cstr(w, "path", hs->source_file);
		json_obj_end(w);
		json_obj_end(w);
	}
	json_str(w, "message", msg->b, msg->n);
	put_tlsentry(w, hs, id, alert);
	json_obj_end(w);
}

void
ev_emit_handshake(struct ev_out *o, const struct ev_handshake *hs)
{
	struct json_w *w = &o->w;
	struct sb msg = { .n = 0 };
	char id[17];

	ev_handshake_id(hs, id);
	json_reset(w);
	put_head(w, hs, "event", id);
	json_arr_begin(w, "category");
	json_cstr(w, NULL, "network");
	json_arr_end(w);
	json_arr_begin(w, "type");
	json_cstr(w, NULL, "connection");
	json_cstr(w, NULL, "protocol");
	json_arr_end(w);
	json_cstr(w, "dataset", "tlsentry.handshake");
	json_cstr(w, "module", "tlsentry");
	json_u64(w, "severity", 0);
	json_obj_end(w);
	put_body(w, hs);
	handshake_message(hs, &msg);
	put_tail(w, hs, &msg, id, -1);
	struct ev_msg m = { .kind = EV_KIND_HANDSHAKE, .severity = 6, .ts_us = hs->ts_us,
	    .hs = hs, .finding = -1, .message = msg.b, .message_len = msg.n, .id = id };
	dispatch(o, &m);
}

void
ev_emit_alert(struct ev_out *o, const struct ev_handshake *hs, unsigned i)
{
	const struct judge_finding *f = &hs->j->findings[i];
	const char *reason = rules_reason_str(f->reason);
	struct json_w *w = &o->w;
	struct sb msg = { .n = 0 };
	char id[17], alert_id[64];

	ev_handshake_id(hs, id);
	snprintf(alert_id, sizeof(alert_id), "%s-%s", id, reason);
	json_reset(w);
	put_head(w, hs, "alert", alert_id);
	json_arr_begin(w, "category");
	json_cstr(w, NULL, "network");
	json_cstr(w, NULL, "intrusion_detection");
	json_arr_end(w);
	json_arr_begin(w, "type");
	json_cstr(w, NULL, "info");
	json_arr_end(w);
	json_cstr(w, "dataset", "tlsentry.alert");
	json_cstr(w, "module", "tlsentry");
	json_u64(w, "severity", (uint64_t)rules_severity_score(f->severity));
	json_cstr(w, "reason", reason);
	json_obj_end(w);
	put_body(w, hs);
	json_obj_begin(w, "rule");
	json_cstr(w, "name", f->by_rule ? hs->j->rule->name : "defaults");
	json_cstr(w, "ruleset", "tlsentry");
	json_obj_end(w);
	alert_message(hs, i, &msg);
	put_tail(w, hs, &msg, id, (int)i);
	struct ev_msg m = { .kind = EV_KIND_ALERT, .severity = alert_severity(f->severity),
	    .ts_us = hs->ts_us, .hs = hs, .finding = (int)i, .reason = reason,
	    .message = msg.b, .message_len = msg.n, .id = alert_id };
	dispatch(o, &m);
	keep_alert(o, &msg);
}

/* tlsentry.stats.outputs[]: what each extra output delivered and lost. */
static void
put_kind_counts(struct json_w *w, const char *key, const uint64_t *n)
{
	json_obj_begin(w, key);
	for (int k = 0; k < EV_KIND_N; k++)
		json_u64(w, ev_kind_str((enum ev_kind)k), n[k]);
	json_obj_end(w);
}

static void
put_outputs(struct json_w *w, const struct ev_output_stats *outs, size_t n)
{
	json_arr_begin(w, "outputs");
	for (size_t i = 0; i < n; i++) {
		const struct ev_output_stats *s = &outs[i];
		json_obj_begin(w, NULL);
		json_cstr(w, "name", s->name);
		json_cstr(w, "format", s->format);
		json_bool(w, "connected", s->connected);
		json_u64(w, "enqueued", s->enqueued);
		json_u64(w, "sent", s->sent);
		json_u64(w, "queued", s->queued);
		put_kind_counts(w, "dropped", s->dropped);
		json_u64(w, "truncated", s->truncated);
		json_u64(w, "send_failed", s->send_failed);
		json_u64(w, "connects", s->connects);
		json_u64(w, "connect_failures", s->connect_failures);
		json_u64(w, "disconnects", s->disconnects);
		put_kind_counts(w, "unconfirmed", s->unconfirmed);
		put_kind_counts(w, "undelivered", s->undelivered);
		json_obj_end(w);
	}
	json_arr_end(w);
}

void
ev_emit_metric(struct ev_out *o, const struct ev_metric *mt)
{
	struct json_w *w = &o->w;
	const char *group = NULL;
	const struct ev_counter *c = mt->c;
	const struct ev_iface *ifs = mt->ifs;
	size_t n = mt->n, n_ifs = mt->n_ifs;
	int64_t ts_us = mt->ts_us;

	json_reset(w);
	json_obj_begin(w, NULL);
	put_time(w, "@timestamp", ts_us);
	json_obj_begin(w, "ecs");
	json_cstr(w, "version", EV_ECS_VERSION);
	json_obj_end(w);
	json_obj_begin(w, "event");
	json_cstr(w, "kind", "metric");
	json_arr_begin(w, "category");
	json_cstr(w, NULL, "network");
	json_arr_end(w);
	json_arr_begin(w, "type");
	json_cstr(w, NULL, "info");
	json_arr_end(w);
	json_cstr(w, "dataset", "tlsentry.stats");
	json_cstr(w, "module", "tlsentry");
	json_obj_end(w);
	json_obj_begin(w, "observer");
	json_cstr(w, "type", "sensor");
	json_cstr(w, "vendor", "tlsentry");
	json_cstr(w, "product", "tlsentry");
	json_cstr(w, "version", TLSENTRY_VERSION);
	json_obj_end(w);
	json_cstr(w, "message", "tlsentry counters");
	json_obj_begin(w, "tlsentry");
	json_obj_begin(w, "stats");
	for (size_t i = 0; i < n; i++) {
		if (group != NULL && (c[i].group == NULL || strcmp(c[i].group, group) != 0)) {
			json_obj_end(w);
			group = NULL;
		}
		if (c[i].group != NULL && group == NULL) {
			group = c[i].group;
			json_obj_begin(w, group);
		}
		json_u64(w, c[i].name, c[i].value);
	}
	if (group != NULL)
		json_obj_end(w);
	if (mt->n_outs > 0)
		put_outputs(w, mt->outs, mt->n_outs);
	json_obj_end(w);
	if (n_ifs > 0) {
		json_arr_begin(w, "interfaces");
		for (size_t i = 0; i < n_ifs; i++) {
			json_obj_begin(w, NULL);
			json_cstr(w, "name", ifs[i].name);
			json_u64(w, "received", ifs[i].received);
			json_u64(w, "dropped", ifs[i].dropped);
			json_u64(w, "if_dropped", ifs[i].if_dropped);
			json_obj_end(w);
		}
		json_arr_end(w);
	}
	json_obj_end(w);
	json_obj_end(w);
	struct ev_msg m = { .kind = EV_KIND_METRIC, .severity = 6, .ts_us = ts_us,
	    .finding = -1, .metric = mt, .message = "tlsentry counters", .message_len = 17, .id = "" };
	dispatch(o, &m);
	o->n.n_metrics++;
}

/* --- buffers ----------------------------------------------------------------- */

void
ev_buf_reset(struct ev_buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->p != NULL)
		b->p[0] = '\0';
}

void
ev_buf_free(struct ev_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void
ev_buf_add(struct ev_buf *b, const void *p, size_t n)
{
	size_t cap;
	char *nb;

	if (b->failed)
		return;
	if (n > JSON_MAX || b->len > JSON_MAX - n) {
		b->failed = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		nb = realloc(b->p, cap);
		if (nb == NULL) {
			b->failed = true;
			return;
		}
		b->p = nb;
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
ev_buf_str(struct ev_buf *b, const char *s)
{
	ev_buf_add(b, s, strlen(s));
}

void
ev_buf_fmt(struct ev_buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		ev_buf_add(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

/*
 * Community ID v1: base64(SHA-1(seed(2) saddr daddr proto(1) pad(1) sport(2)
 * dport(2))), with the endpoints ordered so both directions hash alike
 * (the smaller address, or on a tie the smaller port, goes first).
 */
void
ev_community_id(uint8_t family, const uint8_t *a, uint16_t a_port, const uint8_t *b,
    uint16_t b_port, uint8_t proto, char out[32])
{
	size_t alen = family == 6 ? 16 : 4;
	uint8_t buf[2 + 16 + 16 + 2 + 4], md[20];
	size_t n = 0;
	int c = memcmp(a, b, alen);

	if (c > 0 || (c == 0 && a_port > b_port)) {
		const uint8_t *t = a;
		uint16_t tp = a_port;
		a = b;
		a_port = b_port;
		b = t;
		b_port = tp;
	}
	buf[n++] = 0;				/* seed 0, big-endian */
	buf[n++] = 0;
	memcpy(buf + n, a, alen);
	n += alen;
	memcpy(buf + n, b, alen);
	n += alen;
	buf[n++] = proto;
	buf[n++] = 0;
	buf[n++] = (uint8_t)(a_port >> 8);
	buf[n++] = (uint8_t)a_port;
	buf[n++] = (uint8_t)(b_port >> 8);
	buf[n++] = (uint8_t)b_port;
	memcpy(out, "1:", 2);
	if (!dg_sha1(buf, n, md)) {
		out[2] = '\0';
		return;
	}
	EVP_EncodeBlock((unsigned char *)out + 2, md, sizeof(md));
}
