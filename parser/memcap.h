/*
 * memcap.h: a shared byte budget for buffers that grow with the traffic
 * (handshake message buffers, reassembly windows).  Whoever allocates such a
 * buffer takes its size from the budget first and gives it back on free, so
 * the total stays under the configured cap whatever the packets say.
 */
#ifndef TLSENTRY_MEMCAP_H
#define TLSENTRY_MEMCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct memcap {
	size_t used;		/* bytes currently taken */
	size_t limit;		/* 0 = unlimited */
	size_t peak;
	uint64_t n_refused;	/* takes refused for lack of budget */
};

static inline bool
memcap_take(struct memcap *m, size_t n)
{
	if (m == NULL)
		return true;
	if (m->limit != 0 && (n > m->limit || m->used > m->limit - n)) {
		m->n_refused++;
		return false;
	}
	m->used += n;
	if (m->used > m->peak)
		m->peak = m->used;
	return true;
}

static inline void
memcap_give(struct memcap *m, size_t n)
{
	if (m != NULL)
		m->used -= n < m->used ? n : m->used;
}

#endif /* TLSENTRY_MEMCAP_H */
