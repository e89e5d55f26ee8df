/*
 * evidence.h: files an analyst opens after an alert.
 *
 * --store-certs DIR keeps each distinct certificate once, as PEM named by
 * its SHA-256; --evidence DIR keeps the packets of every alerting flow's
 * handshake as a pcap of its own, so the interception opens in Wireshark.
 *
 * A struct evstore is one such directory, bounded in files and bytes: what
 * is already there when tlsentry starts counts too, and the oldest files
 * are removed first.  A struct pktlog holds one flow's packets until its
 * handshake is judged; its bytes come from the engine's memory budget.
 */
#ifndef TLSENTRY_EVIDENCE_H
#define TLSENTRY_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <pcap/pcap.h>

#include "../parser/memcap.h"

#define EVIDENCE_NAME_MAX 80		/* a file name in a store */
#define EVIDENCE_DEFAULT_FILES 10000
#define EVIDENCE_DEFAULT_BYTES ((uint64_t)1 << 30)
#define PKTLOG_MAX ((size_t)256 * 1024)		/* packet bytes kept per flow */

struct evstore_stats {
	uint64_t n_written;	/* files written by this process */
	uint64_t n_present;	/* files already there (same content, same name) */
	uint64_t n_removed;	/* oldest files removed to stay under the bounds */
	uint64_t n_failed;	/* writes that failed (disk full, permissions) */
	uint64_t n_files, n_bytes;	/* in the directory now (as far as we know) */
};

struct evstore;

/*
 * Open (and create, mode 0750, owned by owner when that is not -1) the
 * directory; adopt the files in it that look like ours (*.pem, *.pcap),
 * oldest first, and remove the oldest while over the bounds.  NULL with a
 * one-line reason in err.
 */
struct evstore *evstore_open(const char *dir, uint64_t max_files, uint64_t max_bytes,
    uid_t owner, gid_t group, char *err, size_t errsz);

/* Can the current user create files there?  (After the privilege drop.) */
bool evstore_writable(const struct evstore *s);

const char *evstore_dir(const struct evstore *s);

/*
 * Write name (no '/') from the pieces, unless a file of that name is there
 * already.  0 when the file is there afterwards, -1 when the write failed.
 */
struct evpiece {
	const void *p;
	size_t len;
};
int evstore_put(struct evstore *s, const char *name, const struct evpiece *pieces, size_t n);

void evstore_stats(const struct evstore *s, struct evstore_stats *out);
void evstore_free(struct evstore *s);

/* --- one flow's packets ----------------------------------------------------- */

struct pktlog;

/*
 * Append a packet (its link type must be the log's first one); *lp is
 * created on the first call.  false when the packet was not kept (over
 * PKTLOG_MAX or the budget, another link type): the log says it is partial.
 */
bool pktlog_add(struct pktlog **lp, struct memcap *m, int linktype, const struct pcap_pkthdr *h,
    const uint8_t *p);

bool pktlog_partial(const struct pktlog *l);

/* The log as a pcap file in s, named name.  0 on success. */
int pktlog_write(const struct pktlog *l, struct evstore *s, const char *name);

void pktlog_free(struct pktlog *l, struct memcap *m);

/* PEM text of a DER certificate into out (cap bytes); its length, 0 if it does not fit. */
size_t evidence_pem(const uint8_t *der, size_t len, char *out, size_t cap);

#endif /* TLSENTRY_EVIDENCE_H */
