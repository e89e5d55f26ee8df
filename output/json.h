/*
 * json.h: a JSON writer for one event at a time.
 *
 * Strings are always given as (pointer, length) and always escaped: quote,
 * backslash and control bytes are escaped, valid UTF-8 is kept, and every
 * byte of an invalid UTF-8 sequence becomes \ufffd, so whatever a packet
 * holds, the output is valid JSON.  Commas are placed by the writer.
 */
#ifndef TLSENTRY_JSON_H
#define TLSENTRY_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef JSON_MAX
#define JSON_MAX (8u << 20)	/* largest event; a bigger one is dropped whole */
#endif
#define JSON_DEPTH_MAX 16

struct json_w {
	char *buf;		/* owned */
	size_t len, cap;
	int depth;
	bool first[JSON_DEPTH_MAX];	/* nothing written yet at this depth */
	bool failed;		/* over JSON_MAX, too deep, or out of memory */
};

void json_init(struct json_w *w);
void json_free(struct json_w *w);

/* Start a new document (keeps the buffer). */
void json_reset(struct json_w *w);

/* key is NULL inside arrays and for the top-level object. */
void json_obj_begin(struct json_w *w, const char *key);
void json_obj_end(struct json_w *w);
void json_arr_begin(struct json_w *w, const char *key);
void json_arr_end(struct json_w *w);
void json_str(struct json_w *w, const char *key, const void *p, size_t len);
void json_cstr(struct json_w *w, const char *key, const char *s);
void json_u64(struct json_w *w, const char *key, uint64_t v);
void json_i64(struct json_w *w, const char *key, int64_t v);
void json_bool(struct json_w *w, const char *key, bool v);

/* The finished document, NUL-terminated, no newline; NULL when it failed. */
const char *json_done(struct json_w *w, size_t *len);

#endif /* TLSENTRY_JSON_H */
