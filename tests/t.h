/*
 * t.h: a small test harness.  Each test_<module>.c defines its test_*
 * functions and lists them in T_MAIN(); a failed check prints file:line,
 * the expression and both values, and the run ends with "N passed, N failed"
 * counted per check.
 */
#ifndef TLSENTRY_T_H
#define TLSENTRY_T_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned t_pass, t_fail;

#define T_CHECK(e) do {							\
	if (e) { t_pass++; } else { t_fail++;				\
		fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #e); } \
} while (0)

#define T_EQ_U(a, b) do {						\
	uintmax_t t_a = (uintmax_t)(a), t_b = (uintmax_t)(b);		\
	if (t_a == t_b) { t_pass++; } else { t_fail++;			\
		fprintf(stderr, "%s:%d: FAIL: %s == %s (%ju != %ju)\n",	\
		    __FILE__, __LINE__, #a, #b, t_a, t_b); }		\
} while (0)

#define T_EQ_I(a, b) do {						\
	intmax_t t_a = (intmax_t)(a), t_b = (intmax_t)(b);		\
	if (t_a == t_b) { t_pass++; } else { t_fail++;			\
		fprintf(stderr, "%s:%d: FAIL: %s == %s (%jd != %jd)\n",	\
		    __FILE__, __LINE__, #a, #b, t_a, t_b); }		\
} while (0)

#define T_EQ_STR(a, b) do {						\
	const char *t_a = (a), *t_b = (b);				\
	if (t_a != NULL && t_b != NULL && strcmp(t_a, t_b) == 0) { t_pass++; } \
	else { t_fail++;						\
		fprintf(stderr, "%s:%d: FAIL: %s == %s (\"%s\" != \"%s\")\n", \
		    __FILE__, __LINE__, #a, #b, t_a ? t_a : "(null)",	\
		    t_b ? t_b : "(null)"); }				\
} while (0)

#define T_EQ_MEM(a, b, n) do {						\
	size_t t_n = (n);						\
	if (memcmp((a), (b), t_n) == 0) { t_pass++; } else { t_fail++;	\
		fprintf(stderr, "%s:%d: FAIL: %s == %s (%zu bytes differ)\n", \
		    __FILE__, __LINE__, #a, #b, t_n); }			\
} while (0)

/* Copy into an exact-size heap buffer so ASan sees any over-read. */
static inline uint8_t *
t_dup(const void *p, size_t n)
{
	uint8_t *b = malloc(n ? n : 1);

	if (b == NULL)
		abort();
	if (n)
		memcpy(b, p, n);
	return b;
}

/* Sanitizer builds: memory figures are ASan's, not ours. */
#if defined(__SANITIZE_ADDRESS__)
#define T_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_SANITIZED 1
#endif
#endif
#ifndef T_SANITIZED
#define T_SANITIZED 0
#endif

#define T_RUN(fn) do { unsigned f0 = t_fail; fn();			\
	if (t_fail != f0) fprintf(stderr, "  in %s\n", #fn); } while (0)

#define T_SUMMARY() do {						\
	printf("%s: %u passed, %u failed\n", __FILE__, t_pass, t_fail);	\
	return t_fail ? 1 : 0;						\
} while (0)

#endif /* TLSENTRY_T_H */
