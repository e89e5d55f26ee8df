/* test_json.c: the JSON writer, especially escaping of hostile strings. */
#include <stdint.h>

#include "../output/json.h"
#include "t.h"

static struct json_w w;

/* Write one string member and return the document. */
static const char *
doc_with(const void *p, size_t n)
{
	size_t len;

	json_reset(&w);
	json_obj_begin(&w, NULL);
	json_str(&w, "s", p, n);
	json_obj_end(&w);
	return json_done(&w, &len);
}

static void
test_json_structure(void)
{
	size_t len;

	json_reset(&w);
	json_obj_begin(&w, NULL);
	json_cstr(&w, "a", "x");
	json_u64(&w, "n", 18446744073709551615ull);
	json_i64(&w, "m", -5);
	json_bool(&w, "t", true);
	json_arr_begin(&w, "l");
	json_cstr(&w, NULL, "1");
	json_obj_begin(&w, NULL);
	json_obj_end(&w);
	json_arr_end(&w);
	json_obj_begin(&w, "o");
	json_bool(&w, "f", false);
	json_obj_end(&w);
	json_obj_end(&w);
	T_EQ_STR(json_done(&w, &len),
	    "{\"a\":\"x\",\"n\":18446744073709551615,\"m\":-5,\"t\":true,"
	    "\"l\":[\"1\",{}],\"o\":{\"f\":false}}");
	T_EQ_U(len, strlen(w.buf));

	json_reset(&w);				/* unbalanced: no document */
	json_obj_begin(&w, NULL);
	T_CHECK(json_done(&w, &len) == NULL);
}

static void
test_json_escaping(void)
{
	/* quote, backslash, newline, tab, NUL, ESC, DEL */
	T_EQ_STR(doc_with("a\"b\\c\nd\te\0f\x1b[31mg\x7f", 18),
	    "{\"s\":\"a\\\"b\\\\c\\nd\\te\\u0000f\\u001b[31mg\\u007f\"}");
	/* valid UTF-8 is kept: e-acute (2 bytes), euro (3), emoji (4) */
	T_EQ_STR(doc_with("\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92", 9),
	    "{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x94\x92\"}");
	/* invalid: lone continuation, overlong '/', surrogate, > U+10FFFF, cut */
	T_EQ_STR(doc_with("\x80", 1), "{\"s\":\"\\ufffd\"}");
	T_EQ_STR(doc_with("\xc0\xaf", 2), "{\"s\":\"\\ufffd\\ufffd\"}");
	T_EQ_STR(doc_with("\xed\xa0\x80", 3), "{\"s\":\"\\ufffd\\ufffd\\ufffd\"}");
	T_EQ_STR(doc_with("\xf4\x90\x80\x80", 4), "{\"s\":\"\\ufffd\\ufffd\\ufffd\\ufffd\"}");
	T_EQ_STR(doc_with("ab\xe2\x82", 4), "{\"s\":\"ab\\ufffd\\ufffd\"}");
	T_EQ_STR(doc_with("", 0), "{\"s\":\"\"}");
}

/* Whatever the bytes, the output is ASCII-safe JSON: no raw control bytes,
 * no invalid UTF-8, and every backslash starts a known escape. */
static void
test_json_random_bytes(void)
{
	uint8_t in[64];
	uint32_t x = 99;

	for (int round = 0; round < 5000; round++) {
		for (size_t i = 0; i < sizeof(in); i++) {
			x = x * 1103515245 + 12345;
			in[i] = (uint8_t)(x >> 16);
		}
		const char *d = doc_with(in, sizeof(in));
		int ok = d != NULL;
		for (const char *p = d; ok && *p; p++) {
			if ((unsigned char)*p < 0x20)
				ok = 0;
			if (*p == '\\') {
				p++;
				ok = *p != '\0' && strchr("\"\\/bfnrtu", *p) != NULL;
			}
		}
		if (!ok) {
			T_CHECK(!"output is not clean JSON");
			return;
		}
	}
	T_CHECK(1);
}

static void
test_json_cap(void)
{
	size_t big = JSON_MAX / 2 + 1, len;
	char *s = malloc(big);

	memset(s, 'a', big);
	json_reset(&w);
	json_obj_begin(&w, NULL);
	json_str(&w, "x", s, big);
	json_str(&w, "y", s, big);		/* over JSON_MAX: the document fails whole */
	json_obj_end(&w);
	T_CHECK(json_done(&w, &len) == NULL);
	T_CHECK(doc_with("ok", 2) != NULL);	/* and the writer recovers */
	free(s);
}

int
main(void)
{
	json_init(&w);
	T_RUN(test_json_structure);
	T_RUN(test_json_escaping);
	T_RUN(test_json_random_bytes);
	T_RUN(test_json_cap);
	json_free(&w);
	T_SUMMARY();
}
