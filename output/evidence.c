/*
 * evidence.c: bounded directories of certificates and handshake captures.
 *
 * Distrusts: nothing from the wire reaches a file name (names are built
 * from hashes and times by the caller); the directory's existing files are
 * only counted and, oldest first, removed when over the bounds -- and only
 * those that look like ours.  Owns: its list of files, the packet logs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "evidence.h"

struct evfile {
	char name[EVIDENCE_NAME_MAX];
	uint64_t size;
	int64_t mtime;			/* for the start-up sort only */
};

/* The files in the directory, oldest first: a ring that grows to max_files. */
struct evstore {
	char *dir;
	int dirfd;
	uint64_t max_files, max_bytes;
	struct evfile *ring;
	size_t cap, head, n;
	struct evstore_stats st;
};

static bool
looks_like_ours(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= EVIDENCE_NAME_MAX || name[0] == '.')
		return false;
	return (n > 4 && strcmp(name + n - 4, ".pem") == 0) ||
	    (n > 5 && strcmp(name + n - 5, ".pcap") == 0);
}

static int
push(struct evstore *s, const struct evfile *f)
{
	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 64;
		struct evfile *g = malloc(ncap * sizeof(*g));
		if (g == NULL)
			return -1;
		for (size_t i = 0; i < s->n; i++)	/* unroll the ring */
			g[i] = s->ring[(s->head + i) % s->cap];
		free(s->ring);
		s->ring = g;
		s->cap = ncap;
		s->head = 0;
	}
	s->ring[(s->head + s->n) % s->cap] = *f;
	s->n++;
	s->st.n_files++;
	s->st.n_bytes += f->size;
	return 0;
}

/* Remove the oldest files while over a bound; keep at least `keep` newest. */
static void
trim(struct evstore *s, size_t keep)
{
	while (s->n > keep && (s->st.n_files > s->max_files || s->st.n_bytes > s->max_bytes)) {
		struct evfile *f = &s->ring[s->head];
		if (unlinkat(s->dirfd, f->name, 0) == 0 || errno == ENOENT)
			s->st.n_removed++;
		s->st.n_files--;
		s->st.n_bytes -= f->size < s->st.n_bytes ? f->size : s->st.n_bytes;
		s->head = (s->head + 1) % s->cap;
		s->n--;
	}
}

static int
cmp_mtime(const void *a, const void *b)
{
	const struct evfile *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Count what an earlier run left, oldest first. */
static int
adopt_existing(struct evstore *s, char *err, size_t errsz)
{
	int fd = dup(s->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct evfile *found = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errsz, "%s: %s", s->dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat sb;
		if (!looks_like_ours(de->d_name) ||
		    fstatat(s->dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			struct evfile *g;
			cap = cap ? cap * 2 : 64;
			if ((g = realloc(found, cap * sizeof(*g))) == NULL) {
				free(found);
				closedir(d);
				snprintf(err, errsz, "%s: out of memory listing it", s->dir);
				return -1;
			}
			found = g;
		}
		memcpy(found[n].name, de->d_name, strlen(de->d_name) + 1);	/* < EVIDENCE_NAME_MAX */
		found[n].size = (uint64_t)sb.st_size;
		found[n].mtime = (int64_t)sb.st_mtime;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(found, n, sizeof(*found), cmp_mtime);
	for (size_t i = 0; i < n; i++) {
		if (push(s, &found[i]) != 0) {
			free(found);
			snprintf(err, errsz, "%s: out of memory listing it", s->dir);
			return -1;
		}
	}
	free(found);
	trim(s, 0);
	return 0;
}

struct evstore *
evstore_open(const char *dir, uint64_t max_files, uint64_t max_bytes, uid_t owner, gid_t group,
    char *err, size_t errsz)
{
	struct evstore *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->dir = strdup(dir)) == NULL) {
		free(s);
		snprintf(err, errsz, "%s: out of memory", dir);
		return NULL;
	}
	s->dirfd = -1;
	s->max_files = max_files;
	s->max_bytes = max_bytes;
	if (mkdir(dir, 0750) == 0) {
		/* made by root for the user it becomes: as tcpdump -Z does with -w */
		if (owner != (uid_t)-1 && chown(dir, owner, group) != 0) {
			snprintf(err, errsz, "%s: cannot hand it to uid %ld: %s", dir, (long)owner,
			    strerror(errno));
			evstore_free(s);
			return NULL;
		}
	} else if (errno != EEXIST) {
		snprintf(err, errsz, "%s: cannot create it: %s", dir, strerror(errno));
		evstore_free(s);
		return NULL;
	}
	s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		evstore_free(s);
		return NULL;
	}
	if (adopt_existing(s, err, errsz) != 0) {
		evstore_free(s);
		return NULL;
	}
	return s;
}

bool
evstore_writable(const struct evstore *s)
{
	return faccessat(s->dirfd, ".", W_OK | X_OK, AT_EACCESS) == 0;
}

const char *
evstore_dir(const struct evstore *s)
{
	return s->dir;
}

int
evstore_put(struct evstore *s, const char *name, const struct evpiece *pieces, size_t n)
{
	struct iovec iov[4];
	struct evfile f = { .size = 0 };
	ssize_t w;
	int fd;

	if (n > sizeof(iov) / sizeof(iov[0]) || strchr(name, '/') != NULL ||
	    strlen(name) >= sizeof(f.name))
		return -1;
	fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0) {
		if (errno == EEXIST) {
			s->st.n_present++;
			return 0;
		}
		s->st.n_failed++;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = (void *)(uintptr_t)pieces[i].p;
		iov[i].iov_len = pieces[i].len;
		f.size += pieces[i].len;
	}
	w = writev(fd, iov, (int)n);
	if (close(fd) != 0 || w < 0 || (uint64_t)w != f.size) {
		unlinkat(s->dirfd, name, 0);	/* no half file */
		s->st.n_failed++;
		return -1;
	}
	snprintf(f.name, sizeof(f.name), "%s", name);
	if (push(s, &f) != 0) {			/* cannot track it: do not keep it */
		unlinkat(s->dirfd, name, 0);
		s->st.n_failed++;
		return -1;
	}
	s->st.n_written++;
	trim(s, 1);
	return 0;
}

void
evstore_stats(const struct evstore *s, struct evstore_stats *out)
{
	*out = s->st;
}

void
evstore_free(struct evstore *s)
{
	if (s == NULL)
		return;
	if (s->dirfd >= 0)
		close(s->dirfd);
	free(s->ring);
	free(s->dir);
	free(s);
}

/* --- packet logs ------------------------------------------------------------------ */

struct pktlog {
	int linktype;
	bool partial;
	size_t len, cap;
	uint8_t *buf;		/* pcap records: 16-byte header, then the bytes */
};

static void
put_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);	/* the host's order: the file header says which */
}

bool
pktlog_add(struct pktlog **lp, struct memcap *m, int linktype, const struct pcap_pkthdr *h,
    const uint8_t *p)
{
	struct pktlog *l = *lp;
	size_t need = 16 + (size_t)h->caplen;

	if (l == NULL) {
		if (!memcap_take(m, sizeof(*l)))
			return false;
		if ((l = calloc(1, sizeof(*l))) == NULL) {
			memcap_give(m, sizeof(*l));
			return false;
		}
		l->linktype = linktype;
		*lp = l;
	}
	if (l->partial || linktype != l->linktype || l->len + need > PKTLOG_MAX) {
		l->partial = true;
		return false;
	}
	if (l->len + need > l->cap) {
		size_t ncap = l->cap ? l->cap : 4096;
		uint8_t *g;
		while (ncap < l->len + need)
			ncap *= 2;
		if (ncap > PKTLOG_MAX)
			ncap = PKTLOG_MAX;
		if (!memcap_take(m, ncap - l->cap)) {
			l->partial = true;
			return false;
		}
		if ((g = realloc(l->buf, ncap)) == NULL) {
			memcap_give(m, ncap - l->cap);
			l->partial = true;
			return false;
		}
		l->buf = g;
		l->cap = ncap;
	}
	if (l->buf == NULL)		/* cannot happen: need > 0 made it grow */
		return false;
	put_u32(l->buf + l->len, (uint32_t)h->ts.tv_sec);
	put_u32(l->buf + l->len + 4, (uint32_t)h->ts.tv_usec);
	put_u32(l->buf + l->len + 8, h->caplen);
	put_u32(l->buf + l->len + 12, h->len);
	memcpy(l->buf + l->len + 16, p, h->caplen);
	l->len += need;
	return true;
}

bool
pktlog_partial(const struct pktlog *l)
{
	return l != NULL && l->partial;
}

int
pktlog_write(const struct pktlog *l, struct evstore *s, const char *name)
{
	static const uint16_t version[2] = { 2, 4 };
	uint8_t hdr[24];
	struct evpiece pieces[2];

	if (l == NULL || l->len == 0)
		return -1;
	put_u32(hdr, 0xa1b2c3d4);		/* microsecond timestamps, the host's order */
	memcpy(hdr + 4, version, sizeof(version));
	memset(hdr + 8, 0, 8);			/* thiszone, sigfigs */
	put_u32(hdr + 16, 262144);		/* snaplen */
	put_u32(hdr + 20, (uint32_t)l->linktype);
	pieces[0] = (struct evpiece){ hdr, sizeof(hdr) };
	pieces[1] = (struct evpiece){ l->buf, l->len };
	return evstore_put(s, name, pieces, 2);
}

void
pktlog_free(struct pktlog *l, struct memcap *m)
{
	if (l == NULL)
		return;
	memcap_give(m, l->cap + sizeof(*l));
	free(l->buf);
	free(l);
}

size_t
evidence_pem(const uint8_t *der, size_t len, char *out, size_t cap)
{
	static const char head[] = "-----BEGIN CERTIFICATE-----\n";
	static const char tail[] = "-----END CERTIFICATE-----\n";
	size_t n = sizeof(head) - 1;

	/* 64 characters a line: 48 DER bytes each */
	if (cap < n + (len + 47) / 48 * 66 + sizeof(tail) || len > INT32_MAX)
		return 0;
	memcpy(out, head, n);
	for (size_t off = 0; off < len; off += 48) {
		size_t chunk = len - off < 48 ? len - off : 48;
		n += (size_t)EVP_EncodeBlock((unsigned char *)out + n, der + off, (int)chunk);
		out[n++] = '\n';
	}
	memcpy(out + n, tail, sizeof(tail) - 1);
	return n + sizeof(tail) - 1;
}
