/*
 * json.c: the escaping JSON writer.
 *
 * Distrusts: every string it is given (wire bytes reach here).  Owns: its
 * buffer, bounded by JSON_MAX.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void
json_init(struct json_w *w)
{
	memset(w, 0, sizeof(*w));
	json_reset(w);
}

void
json_free(struct json_w *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void
json_reset(struct json_w *w)
{
	w->len = 0;
	w->depth = 0;
	w->first[0] = true;
	w->failed = false;
}

static bool
reserve(struct json_w *w, size_t n)
{
	size_t cap;
	char *nb;

	if (w->failed)
		return false;
	if (n > JSON_MAX || w->len > JSON_MAX - n) {
		w->failed = true;
		return false;
	}
	if (w->len + n <= w->cap)
		return true;
	cap = w->cap ? w->cap : 4096;
	while (cap < w->len + n)
		cap *= 2;
	nb = realloc(w->buf, cap);
	if (nb == NULL) {
		w->failed = true;
		return false;
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

/* The common case (room in the buffer) first; reserve() decides the rest. */
static inline void
put(struct json_w *w, const char *p, size_t n)
{
	if ((w->len + n <= w->cap && w->len + n <= JSON_MAX && !w->failed) || reserve(w, n)) {
		memcpy(w->buf + w->len, p, n);
		w->len += n;
	}
}

static inline void
put_c(struct json_w *w, char c)
{
	if ((w->len < w->cap && w->len < JSON_MAX && !w->failed) || reserve(w, 1))
		w->buf[w->len++] = c;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629), or 0 if invalid. */
static size_t
utf8_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	size_t need;
	uint32_t min, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2; min = 0x80; cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3; min = 0x800; cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4; min = 0x10000; cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;		/* overlong, out of range, or a surrogate */
	return need;
}

/* Bytes copied as they are: printable ASCII but for '"' and '\\'. */
static const bool plain_ascii[256] = {
	[0x20] = 1, 1, 0 /* '"' */, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x30] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x40] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x50] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* '\\' */, 1, 1, 1,
	[0x60] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x70] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0 /* DEL */,
};

static void
put_string(struct json_w *w, const void *vp, size_t n)
{
	const uint8_t *p = vp;
	char esc[8];
	size_t i = 0;

	put_c(w, '"');
	while (i < n) {
		uint8_t c = p[i];
		size_t run = i;
		/* copy a run of plain ASCII at once */
		while (run < n && plain_ascii[p[run]])
			run++;
		if (run > i) {
			put(w, (const char *)p + i, run - i);
			i = run;
			continue;
		}
		switch (c) {
		case '"':  put(w, "\\\"", 2); i++; continue;
		case '\\': put(w, "\\\\", 2); i++; continue;
		case '\n': put(w, "\\n", 2); i++; continue;
		case '\r': put(w, "\\r", 2); i++; continue;
		case '\t': put(w, "\\t", 2); i++; continue;
		default:
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(w, esc, 6);
			i++;
			continue;
		}
		size_t k = utf8_len(p + i, n - i);
		if (k == 0) {
			put(w, "\\ufffd", 6);
			i++;
		} else {
			put(w, (const char *)p + i, k);
			i += k;
		}
	}
	put_c(w, '"');
}

/* Comma and key before a member. */
static void
member(struct json_w *w, const char *key)
{
	if (!w->first[w->depth])
		put_c(w, ',');
	w->first[w->depth] = false;
	if (key != NULL) {
		size_t n = strlen(key);
		bool plain = true;

		/* keys are this program's own names: plain ASCII, copied at once */
		for (size_t i = 0; i < n && plain; i++)
			plain = plain_ascii[(uint8_t)key[i]];
		if (!plain) {
			put_string(w, key, n);
			put_c(w, ':');
			return;
		}
		if (reserve(w, n + 3)) {
			w->buf[w->len++] = '"';
			memcpy(w->buf + w->len, key, n);
			w->len += n;
			w->buf[w->len++] = '"';
			w->buf[w->len++] = ':';
		}
	}
}

static void
open_(struct json_w *w, const char *key, char c)
{
	member(w, key);
	put_c(w, c);
	if (w->depth + 1 >= JSON_DEPTH_MAX) {
		w->failed = true;
		return;
	}
	w->first[++w->depth] = true;
}

static void
close_(struct json_w *w, char c)
{
	if (w->depth > 0)
		w->depth--;
	put_c(w, c);
}

void
json_obj_begin(struct json_w *w, const char *key)
{
	open_(w, key, '{');
}

void
json_obj_end(struct json_w *w)
{
	close_(w, '}');
}

void
json_arr_begin(struct json_w *w, const char *key)
{
	open_(w, key, '[');
}

void
json_arr_end(struct json_w *w)
{
	close_(w, ']');
}

void
json_str(struct json_w *w, const char *key, const void *p, size_t len)
{
	member(w, key);
	put_string(w, p, len);
}

void
json_cstr(struct json_w *w, const char *key, const char *s)
{
	json_str(w, key, s, strlen(s));
}

/* Decimal digits of v at the end of buf[0..24); returns the index of the first. */
static size_t
dec(uint64_t v, char buf[24])
{
	size_t i = 24;

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && i > 0);
	return i;
}

void
json_u64(struct json_w *w, const char *key, uint64_t v)
{
	char num[24];
	size_t i = dec(v, num);

	member(w, key);
	put(w, num + i, sizeof(num) - i);
}

void
json_i64(struct json_w *w, const char *key, int64_t v)
{
	char num[24];
	size_t i = dec(v < 0 ? 0 - (uint64_t)v : (uint64_t)v, num);

	if (v < 0)
		num[--i] = '-';		/* 20 digits at most: i >= 4 */
	member(w, key);
	put(w, num + i, sizeof(num) - i);
}

void
json_bool(struct json_w *w, const char *key, bool v)
{
	member(w, key);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

const char *
json_done(struct json_w *w, size_t *len)
{
	if (w->failed || w->depth != 0 || w->buf == NULL || !reserve(w, 1))
		return NULL;
	w->buf[w->len] = '\0';		/* not counted: callers may use it as a C string */
	*len = w->len;
	return w->buf;
}
