/*
 * rd.h: bounds-checked read cursor over untrusted bytes.
 *
 * A struct rd is a borrowed view {p, len, off} with the invariant off <= len.
 * Every getter checks that what remains covers the request, then reads,
 * advances and returns true; on failure it returns false and moves nothing
 * and writes nothing.  Lengths are compared, never pointers.  Nothing outside
 * this header indexes wire bytes directly.
 */
#ifndef TLSENTRY_RD_H
#define TLSENTRY_RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rd {
	const uint8_t *p;	/* borrowed; never freed through the view */
	size_t len;
	size_t off;
};

static inline struct rd
rd_init(const uint8_t *p, size_t len)
{
	struct rd r = { p, len, 0 };

	return r;
}

static inline size_t
rd_left(const struct rd *r)
{
	return r->len - r->off;
}

static inline bool
rd_done(const struct rd *r)
{
	return r->off == r->len;
}

/* Pointer to the unread bytes; valid as long as the underlying buffer. */
static inline const uint8_t *
rd_ptr(const struct rd *r)
{
	return r->p + r->off;
}

static inline bool
rd_u8(struct rd *r, uint8_t *v)
{
	if (rd_left(r) < 1)
		return false;
	*v = r->p[r->off];
	r->off += 1;
	return true;
}

static inline bool
rd_u16(struct rd *r, uint16_t *v)
{
	if (rd_left(r) < 2)
		return false;
	*v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return true;
}

static inline bool
rd_u24(struct rd *r, uint32_t *v)
{
	if (rd_left(r) < 3)
		return false;
	*v = (uint32_t)r->p[r->off] << 16 | (uint32_t)r->p[r->off + 1] << 8 |
	    r->p[r->off + 2];
	r->off += 3;
	return true;
}

static inline bool
rd_u32(struct rd *r, uint32_t *v)
{
	if (rd_left(r) < 4)
		return false;
	*v = (uint32_t)r->p[r->off] << 24 | (uint32_t)r->p[r->off + 1] << 16 |
	    (uint32_t)r->p[r->off + 2] << 8 | r->p[r->off + 3];
	r->off += 4;
	return true;
}

/* Peek at the byte n positions ahead without moving. */
static inline bool
rd_peek_u8(const struct rd *r, size_t n, uint8_t *v)
{
	if (rd_left(r) <= n)
		return false;
	*v = r->p[r->off + n];
	return true;
}

static inline bool
rd_skip(struct rd *r, size_t n)
{
	if (rd_left(r) < n)
		return false;
	r->off += n;
	return true;
}

/* Copy n bytes out. */
static inline bool
rd_bytes(struct rd *r, void *out, size_t n)
{
	if (rd_left(r) < n)
		return false;
	if (n > 0)
		memcpy(out, r->p + r->off, n);
	r->off += n;
	return true;
}

/* Carve the next n bytes as a child view. */
static inline bool
rd_sub(struct rd *r, size_t n, struct rd *child)
{
	if (rd_left(r) < n)
		return false;
	child->p = r->p + r->off;
	child->len = n;
	child->off = 0;
	r->off += n;
	return true;
}

/* opaque x<0..2^8-1>: a child view, or fail without moving */
static inline bool
rd_vec8(struct rd *r, struct rd *child)
{
	struct rd save = *r;
	uint8_t n;

	if (!rd_u8(r, &n) || !rd_sub(r, n, child)) {
		*r = save;
		return false;
	}
	return true;
}

/* opaque x<0..2^16-1> */
static inline bool
rd_vec16(struct rd *r, struct rd *child)
{
	struct rd save = *r;
	uint16_t n;

	if (!rd_u16(r, &n) || !rd_sub(r, n, child)) {
		*r = save;
		return false;
	}
	return true;
}

/* opaque x<0..2^24-1> */
static inline bool
rd_vec24(struct rd *r, struct rd *child)
{
	struct rd save = *r;
	uint32_t n;

	if (!rd_u24(r, &n) || !rd_sub(r, n, child)) {
		*r = save;
		return false;
	}
	return true;
}

#endif /* TLSENTRY_RD_H */
