/*
 * pstat.h: parser status codes, after OpenSSH's ssherr.h.
 * 0 is success; negatives are errors.  P_MORE ("truncated, wait for bytes")
 * and P_BAD ("malformed, abandon") are never merged.
 */
#ifndef TLSENTRY_PSTAT_H
#define TLSENTRY_PSTAT_H

enum pstat {
	P_OK = 0,
	P_MORE = -1,	/* need more bytes */
	P_BAD = -2,	/* malformed input */
	P_UNSUPP = -3,	/* well-formed but not something we parse */
	P_LIMIT = -4,	/* a configured cap was hit */
	P_NOMEM = -5,	/* allocation failed or memcap reached */
};

static inline const char *
pstat_str(int st)
{
	switch (st) {
	case P_OK:	return "ok";
	case P_MORE:	return "truncated";
	case P_BAD:	return "malformed";
	case P_UNSUPP:	return "unsupported";
	case P_LIMIT:	return "limit";
	case P_NOMEM:	return "no-memory";
	default:	return "unknown";
	}
}

#endif /* TLSENTRY_PSTAT_H */
