/*
 * benchgen.c: writes the benchmark captures of `make bench` (README,
 * Performance) from the seed captures in tests/bench/seeds/, which real TLS
 * and TCP stacks made (make-seeds.sh).  Each seed connection is copied many
 * times with new addresses, ports, initial sequence numbers, hello randoms
 * and server names (same lengths, so every TLS length stays valid), its
 * timing stretched, and the copies interleaved in time.  Long flows repeat
 * the middle of a captured transfer (whole TLS records) with the sequence
 * numbers going on.  In A' every TLS 1.2 leaf is rewritten (serial, names)
 * and re-signed with its issuer's key from seeds/keys/, so it differs per
 * flow and still verifies.  Checksums are recomputed.
 *
 *   benchgen SET SEEDDIR OUT.pcap OUT.truth.tsv [SCALE]
 *
 * SET is A, A' (or Aprime) or B; SCALE (default 1) multiplies every count,
 * for quick checks.  The truth file has one row per TLS connection: client
 * and server address and port, SNI, version, chain length, leaf SHA-256
 * (lowercase; '-' for TLS 1.3).  OUT.pcap.meta gets the totals.  Output is
 * deterministic: the same seeds and arguments give the same bytes.
 * The seeds are trusted input (ours); a surprise in them is fatal.
 */
#define _GNU_SOURCE			/* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SNAPLEN	262144
#define MAXFRAME 65600

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("benchgen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get24(const uint8_t *p) { return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]; }
static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static void put16(uint8_t *p, unsigned v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* xorshift64*: deterministic, seeded per set */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static double
unif(double lo, double hi)
{
	return lo + (hi - lo) * (double)(rnd() >> 11) / 9007199254740992.0;
}

/* ------------------------------------------------------------- the seeds */

/* One packet of a seed connection, as captured. */
struct spkt {
	int64_t t_us;			/* since the connection's first packet */
	uint8_t *frame;
	uint32_t len;			/* captured = wire length (snaplen 0) */
	uint16_t l4;			/* offset of the TCP/UDP header */
	uint16_t pay;			/* offset of the payload */
	uint32_t pay_len;
	int dir;			/* 0 client -> server, 1 server -> client */
	uint32_t seq, ack;
	uint8_t flags;
	int64_t off;			/* TCP: stream offset of the payload */
	bool retrans;			/* TCP: carries bytes sent before */
};

enum kind { K_HS12, K_HS13, K_TLSBULK, K_HTTP, K_DNS, K_QUIC };

struct seed {
	const char *name, *file, *key;
	int proto;
	uint16_t port, out_port;
	enum kind kind;

	struct spkt *p;
	size_t n, cap;
	uint32_t cli_ip, srv_ip;
	uint16_t cli_port;
	uint32_t isn[2];
	uint8_t *stream[2];
	size_t stream_len[2];
	size_t frame_bytes;		/* pcap bytes of one plain copy */

	/* TLS, as stream offsets */
	size_t crandom, srandom, sni, sni_len, leaf, leaf_len;
	int chain_len, version;
	char sni_str[256];
	char leaf_sha[65];

	/* the leaf's DER layout and its issuer, for A' */
	size_t tbs, tbs_len, serial, serial_len, sig, sig_len;
	EVP_PKEY *issuer;

	/* repeating the middle: server stream [loop_a, loop_b) sent by packets [P, Q) */
	int64_t loop_a, loop_b;
	size_t P, Q;
	int64_t body_us;		/* synthetic time one repetition adds */
	size_t body_bytes;		/* pcap bytes one repetition adds */
	int64_t dur_us;			/* one plain copy */
};

#define SEED(nm, fl, ky, pr, po, op, kd) \
	{ .name = nm, .file = fl, .key = ky, .proto = pr, .port = po, .out_port = op, .kind = kd }
static struct seed seeds[] = {
	SEED("rsa2", "hs.pcap", "keys/ca-rsa1.key", 6, 4401, 443, K_HS12),
	SEED("rsa3", "hs.pcap", "keys/ca-rsa2.key", 6, 4402, 443, K_HS12),
	SEED("ec2", "hs.pcap", "keys/ca-ecc1.key", 6, 4403, 443, K_HS12),
	SEED("s120", "hs.pcap", "keys/ca-rsa1.key", 6, 4404, 443, K_HS12),
	SEED("rsa1", "hs.pcap", "keys/root-r1.key", 6, 4405, 443, K_HS12),
	SEED("tls13", "hs.pcap", NULL, 6, 4413, 443, K_HS13),
	SEED("tlsbulk", "bulk.pcap", NULL, 6, 4420, 443, K_TLSBULK),
	SEED("http", "bulk.pcap", NULL, 6, 8080, 80, K_HTTP),
	SEED("dns", "bulk.pcap", NULL, 17, 53, 53, K_DNS),
	SEED("quic", "bulk.pcap", NULL, 17, 4433, 443, K_QUIC),
};
#define N_SEEDS (sizeof(seeds) / sizeof(seeds[0]))
enum { S_RSA2, S_RSA3, S_EC2, S_S120, S_RSA1, S_TLS13, S_TLSBULK, S_HTTP, S_DNS, S_QUIC };

static struct seed *
seed_of(const char *file, uint16_t sport, uint16_t dport, int proto, int *dir)
{
	for (size_t i = 0; i < N_SEEDS; i++) {
		if (strcmp(seeds[i].file, file) != 0 || seeds[i].proto != proto)
			continue;
		if (dport == seeds[i].port) {
			*dir = 0;
			return &seeds[i];
		}
		if (sport == seeds[i].port) {
			*dir = 1;
			return &seeds[i];
		}
	}
	return NULL;
}

/* Ethernet / IPv4 (any IHL) / TCP or UDP; the seeds have nothing else. */
static void
load_file(const char *seeddir, const char *file)
{
	char path[4096], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *pc;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", seeddir, file);
	pc = pcap_open_offline(path, err);
	if (pc == NULL)
		die("%s", err);
	if (pcap_datalink(pc) != DLT_EN10MB)
		die("%s: not Ethernet", path);
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		const uint8_t *ip = d + 14;
		size_t ihl, l4len;
		struct seed *s;
		struct spkt *p;
		int proto, dir;

		if (h->caplen != h->len || h->caplen < 14 + 20 || get16(d + 12) != 0x0800)
			continue;
		ihl = (size_t)(ip[0] & 15) * 4;
		proto = ip[9];
		if ((proto != 6 && proto != 17) || h->caplen < 14 + ihl + 8)
			continue;
		s = seed_of(file, get16(ip + ihl), get16(ip + ihl + 2), proto, &dir);
		if (s == NULL)
			continue;
		if (s->n == s->cap) {
			s->cap = s->cap ? s->cap * 2 : 64;
			s->p = realloc(s->p, s->cap * sizeof(*s->p));
			if (s->p == NULL)
				die("out of memory");
		}
		p = &s->p[s->n++];
		memset(p, 0, sizeof(*p));
		p->t_us = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec;
		p->len = h->caplen;
		p->frame = xcalloc(1, p->len);
		memcpy(p->frame, d, p->len);
		p->l4 = (uint16_t)(14 + ihl);
		p->dir = dir;
		l4len = get16(ip + 2) - ihl;		/* IP length: no Ethernet padding */
		if (proto == 6) {
			p->pay = (uint16_t)(p->l4 + (ip[ihl + 12] >> 4) * 4);
			p->seq = get32(ip + ihl + 4);
			p->ack = get32(ip + ihl + 8);
			p->flags = ip[ihl + 13];
		} else {
			p->pay = (uint16_t)(p->l4 + 8);
		}
		p->pay_len = (uint32_t)(14 + ihl + l4len - p->pay);
		if (dir == 0) {
			if (s->cli_port != 0 && s->cli_port != get16(ip + ihl))
				die("%s: two client ports for seed %s", file, s->name);
			s->cli_port = get16(ip + ihl);
			s->cli_ip = get32(ip + 12);
			s->srv_ip = get32(ip + 16);
		}
	}
	if (rc == PCAP_ERROR)
		die("%s: %s", path, pcap_geterr(pc));
	pcap_close(pc);
}

/* The byte stream of each direction, from every segment; no hole allowed. */
static void
build_streams(struct seed *s)
{
	bool syn[2] = { false, false };

	for (size_t i = 0; i < s->n; i++)
		if (s->p[i].flags & 0x02) {
			s->isn[s->p[i].dir] = s->p[i].seq;
			syn[s->p[i].dir] = true;
		}
	if (!syn[0] || !syn[1])
		die("seed %s: SYN or SYN-ACK missing", s->name);
	for (int d = 0; d < 2; d++) {
		size_t len = 0;
		uint8_t *have;

		for (size_t i = 0; i < s->n; i++) {
			struct spkt *p = &s->p[i];
			if (p->dir != d || p->pay_len == 0)
				continue;
			p->off = (int64_t)(uint32_t)(p->seq - s->isn[d] - 1);
			if ((size_t)p->off + p->pay_len > len)
				len = (size_t)p->off + p->pay_len;
		}
		s->stream[d] = xcalloc(len, 1);
		s->stream_len[d] = len;
		have = xcalloc(len, 1);
		for (size_t i = 0; i < s->n; i++) {
			struct spkt *p = &s->p[i];
			if (p->dir != d || p->pay_len == 0)
				continue;
			for (size_t k = 0; k < p->pay_len; k++) {
				if (have[p->off + k])
					p->retrans = true;
				have[p->off + k] = 1;
			}
			memcpy(s->stream[d] + p->off, p->frame + p->pay, p->pay_len);
		}
		for (size_t k = 0; k < len; k++)
			if (!have[k])
				die("seed %s: hole in direction %d at %zu", s->name, d, k);
		free(have);
	}
}

/*
 * TLS in the seed streams: handshake records from offset 0 up to the first
 * ChangeCipherSpec or application data.  ClientHello: random and SNI;
 * ServerHello: random; Certificate: the leaf.  Also the record boundaries of
 * the server's application data, where a long flow may repeat.
 */
static void
parse_client_hello(struct seed *s)
{
	const uint8_t *b = s->stream[0];
	size_t n = s->stream_len[0], o, end;

	if (n < 9 || b[0] != 22 || b[5] != 1)
		die("seed %s: no ClientHello at the start", s->name);
	end = 9 + get24(b + 6);
	s->crandom = 11;
	o = 43;
	o += 1 + b[o];				/* session id */
	o += 2 + get16(b + o);			/* cipher suites */
	o += 1 + b[o];				/* compression */
	o += 2;					/* extensions length */
	while (o + 4 <= end) {
		uint16_t type = get16(b + o), len = get16(b + o + 2);
		if (type == 0) {		/* server_name: list, type 0, name */
			s->sni_len = get16(b + o + 7);
			s->sni = o + 9;
			break;
		}
		o += 4 + (size_t)len;
	}
	if (s->sni == 0 || s->sni_len >= sizeof(s->sni_str))
		die("seed %s: no SNI", s->name);
	memcpy(s->sni_str, b + s->sni, s->sni_len);
	if (s->sni_len < 8 || s->sni_str[7] != '.')
		die("seed %s: SNI '%s' not like x000000.name", s->name, s->sni_str);
}

static void
parse_server(struct seed *s, int64_t *app, size_t *n_app)
{
	const uint8_t *b = s->stream[1];
	size_t n = s->stream_len[1], o = 0;
	bool encrypted = false;

	*n_app = 0;
	while (o + 5 <= n) {
		uint8_t type = b[o];
		size_t rlen = get16(b + o + 3), m = o + 5;

		if (o + 5 + rlen > n)
			break;
		if (type == 20 || type == 23)
			encrypted = true;
		if (type == 23 && app != NULL)
			app[(*n_app)++] = (int64_t)o;
		while (type == 22 && !encrypted && m + 4 <= o + 5 + rlen) {
			uint8_t ht = b[m];
			size_t hl = get24(b + m + 1);

			if (m + 4 + hl > o + 5 + rlen)
				die("seed %s: handshake message over two records", s->name);
			if (ht == 2) {
				s->srandom = m + 6;
				s->version = get16(b + m + 4);
			}
			if (ht == 11) {		/* certificate_list<3>, each cert<3> */
				size_t c = m + 7, cend = m + 4 + hl;
				s->leaf = c + 3;
				s->leaf_len = get24(b + c);
				for (; c + 3 <= cend; c += 3 + get24(b + c))
					s->chain_len++;
			}
			m += 4 + hl;
		}
		o += 5 + rlen;
		if (app != NULL && *n_app >= 4096)
			die("seed %s: too many records", s->name);
	}
	if (s->srandom == 0)
		die("seed %s: no ServerHello", s->name);
}

/* DER header at p[0..]: tag, content offset and length (short or long form). */
static void
der(const uint8_t *p, size_t avail, size_t *hdr, size_t *len)
{
	size_t n;

	if (avail < 2)
		die("short DER");
	if (p[1] < 0x80) {
		*hdr = 2;
		*len = p[1];
		return;
	}
	n = p[1] & 0x7f;
	if (n < 1 || n > 3 || avail < 2 + n)
		die("DER length form");
	*len = 0;
	for (size_t i = 0; i < n; i++)
		*len = *len << 8 | p[2 + i];
	*hdr = 2 + n;
}

/*
 * Certificate ::= SEQUENCE { tbs SEQUENCE { [0] version, serial INTEGER, ... },
 *                            sigAlg SEQUENCE, signature BIT STRING }
 */
static void
leaf_layout(struct seed *s, const char *seeddir)
{
	const uint8_t *c = s->stream[1] + s->leaf;
	size_t h, l, o, th, tl;
	char path[4096];
	FILE *f;

	der(c, s->leaf_len, &h, &l);
	s->tbs = h;
	der(c + s->tbs, s->leaf_len - s->tbs, &th, &tl);
	s->tbs_len = th + tl;
	o = s->tbs + th;
	if (c[o] == 0xa0) {			/* explicit version */
		der(c + o, s->leaf_len - o, &h, &l);
		o += h + l;
	}
	if (c[o] != 0x02)
		die("seed %s: no serial", s->name);
	der(c + o, s->leaf_len - o, &h, &l);
	s->serial = o + h;
	s->serial_len = l;
	if (l < 12)
		die("seed %s: serial of %zu bytes (make-seeds.sh sets 16)", s->name, l);
	o = s->tbs + s->tbs_len;
	der(c + o, s->leaf_len - o, &h, &l);	/* signatureAlgorithm */
	o += h + l;
	if (c[o] != 0x03)
		die("seed %s: no signature", s->name);
	der(c + o, s->leaf_len - o, &h, &l);
	s->sig = o + h + 1;			/* after the unused-bits byte */
	s->sig_len = l - 1;
	if (s->sig + s->sig_len != s->leaf_len)
		die("seed %s: leaf DER layout", s->name);

	snprintf(path, sizeof(path), "%s/%s", seeddir, s->key);
	if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	s->issuer = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (s->issuer == NULL)
		die("%s: not a private key", path);
}

static void
hex(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static void
sha256_hex(const uint8_t *p, size_t n, char out[65])
{
	uint8_t md[32];
	unsigned int mdlen = 0;

	if (!EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		die("SHA-256 failed");
	hex(md, 32, out);
}

/*
 * Where a long flow repeats: the server's bytes [loop_a, loop_b), whole TLS
 * records for TLS, and the packets [P, Q) that carry them.  The client must
 * send no data meanwhile.
 */
static void
find_loop(struct seed *s, const int64_t *app, size_t n_app)
{
	int64_t t_prev;

	if (s->kind == K_QUIC) {		/* the client's first datagram starts it */
		s->P = 1;
		s->Q = s->n;
	} else {
		if (s->kind == K_TLSBULK) {
			if (n_app < 4)
				die("seed %s: %zu application records", s->name, n_app);
			s->loop_a = app[1];
			s->loop_b = app[n_app - 1];
		} else {		/* HTTP: between the third and the third-last data segment */
			int64_t *st = xcalloc(s->n, sizeof(*st));
			size_t k = 0;
			for (size_t i = 0; i < s->n; i++)
				if (s->p[i].dir == 1 && s->p[i].pay_len > 0 && !s->p[i].retrans)
					st[k++] = s->p[i].off;
			if (k < 8)
				die("seed %s: too short", s->name);
			s->loop_a = st[2];
			s->loop_b = st[k - 3];
			free(st);
		}
		s->P = s->n;
		s->Q = 0;
		for (size_t i = 0; i < s->n; i++) {
			struct spkt *p = &s->p[i];
			if (p->dir != 1 || p->pay_len == 0)
				continue;
			if (p->off + p->pay_len > s->loop_a && i < s->P)
				s->P = i;
			if (p->off < s->loop_b)
				s->Q = i + 1;
		}
		for (size_t i = s->P; i < s->Q; i++)
			if (s->p[i].dir == 0 && s->p[i].pay_len > 0)
				die("seed %s: client data inside the repeated part", s->name);
	}
	if (s->P == 0 || s->P >= s->Q)
		die("seed %s: nothing to repeat", s->name);
	t_prev = s->p[s->P - 1].t_us;
	s->body_us = s->p[s->Q - 1].t_us - s->p[s->P].t_us + (s->p[s->P].t_us - t_prev);
	s->body_bytes = 0;
	for (size_t i = s->P; i < s->Q; i++)
		s->body_bytes += 16 + s->p[i].len;
}

static void
load_seeds(const char *dir, bool need_keys)
{
	load_file(dir, "hs.pcap");
	load_file(dir, "bulk.pcap");
	for (size_t i = 0; i < N_SEEDS; i++) {
		struct seed *s = &seeds[i];
		int64_t *app = NULL;
		size_t n_app = 0;

		if (s->n == 0)
			die("seed %s (port %u) not found in %s/%s", s->name, s->port, dir, s->file);
		for (size_t k = s->n; k-- > 0;)
			s->p[k].t_us -= s->p[0].t_us;
		s->dur_us = s->p[s->n - 1].t_us;
		for (size_t k = 0; k < s->n; k++)
			s->frame_bytes += 16 + s->p[k].len;
		if (s->proto == 6)
			build_streams(s);
		if (s->kind == K_HS12 || s->kind == K_HS13 || s->kind == K_TLSBULK) {
			parse_client_hello(s);
			if (s->kind == K_TLSBULK)
				app = xcalloc(4096, sizeof(*app));
			parse_server(s, app, &n_app);
			if (s->kind == K_HS13) {
				s->version = 0x0304;	/* in supported_versions; the chain is encrypted */
				s->chain_len = 0;
			} else if (s->leaf_len == 0) {
				die("seed %s: no Certificate", s->name);
			} else {
				sha256_hex(s->stream[1] + s->leaf, s->leaf_len, s->leaf_sha);
			}
			if (s->kind == K_HS12 && need_keys)
				leaf_layout(s, dir);
		}
		if (s->kind == K_TLSBULK || s->kind == K_HTTP || s->kind == K_QUIC)
			find_loop(s, app, n_app);
		free(app);
	}
}

/* ---------------------------------------------------------- the copies */

/* One connection of the output. */
struct inst {
	struct seed *s;
	uint32_t idx;
	uint32_t cli_ip, srv_ip;
	uint16_t cli_port;
	uint32_t delta[2];		/* added to each direction's sequence numbers */
	int64_t start_us;
	double scale;			/* output time = start + scale * seed time */
	uint32_t reps;			/* times the middle is sent (long flows) */
	uint8_t crandom[32], srandom[32];
	char sni[256];
	uint8_t *leaf;			/* A': this flow's leaf, while it is sent */

	/* cursor */
	size_t i;			/* next seed packet */
	uint32_t rep;
	int64_t next_us;
	int64_t srv_max;		/* highest server stream offset sent, + FIN */
	size_t heap_pos;
};

static FILE *out;
static uint64_t n_packets, n_bytes, n_retrans;
static uint64_t kind_flows[N_SEEDS], kind_bytes[N_SEEDS];	/* per seed */
static uint8_t frame[MAXFRAME];
static const uint8_t mac[2][6] = {
	{ 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 },	/* client side */
	{ 0x02, 0x00, 0x5e, 0x10, 0x00, 0x02 },	/* server side */
};

static uint32_t
csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (i < n)
		sum += (uint32_t)(p[i] << 8);
	return sum;
}

static uint16_t
csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* the stream bytes this flow sends at [off, off + n) of direction d */
static void
patch(const struct inst *f, int d, int64_t off, uint8_t *dst, size_t n)
{
	const struct seed *s = f->s;
	struct span { size_t at, len; const uint8_t *by; } pt[3];
	size_t np = 0;

	if (s->kind != K_HS12 && s->kind != K_HS13 && s->kind != K_TLSBULK)
		return;
	if (d == 0) {
		pt[np++] = (struct span){ s->crandom, 32, f->crandom };
		pt[np++] = (struct span){ s->sni, s->sni_len, (const uint8_t *)f->sni };
	} else {
		pt[np++] = (struct span){ s->srandom, 32, f->srandom };
		if (f->leaf != NULL)
			pt[np++] = (struct span){ s->leaf, s->leaf_len, f->leaf };
	}
	for (size_t k = 0; k < np; k++) {
		int64_t lo = off > (int64_t)pt[k].at ? off : (int64_t)pt[k].at;
		int64_t hi = off + (int64_t)n < (int64_t)(pt[k].at + pt[k].len) ?
		    off + (int64_t)n : (int64_t)(pt[k].at + pt[k].len);
		if (lo < hi)
			memcpy(dst + (lo - off), pt[k].by + (lo - (int64_t)pt[k].at), (size_t)(hi - lo));
	}
}

/*
 * An acknowledged server offset, shifted into the current repetition and,
 * once the repeating starts (clamp), never past what this flow has sent.
 */
static uint32_t
map_srv_ack(const struct inst *f, uint32_t v, int64_t shift, bool clamp)
{
	const struct seed *s = f->s;
	int64_t rel = (int64_t)(int32_t)(v - s->isn[1] - 1) + shift;

	if (clamp && rel > f->srv_max)
		rel = f->srv_max;
	return (uint32_t)(s->isn[1] + f->delta[1] + 1 + (uint32_t)rel);
}

/*
 * Write seed packet i of flow f in phase ph (0 before the repeated part,
 * 1 inside it, repetition f->rep; 2 after it); false if clipping left
 * nothing of it.
 */
static bool
emit(struct inst *f, size_t i, int ph)
{
	const struct seed *s = f->s;
	const struct spkt *p = &s->p[i];
	int d = p->dir;
	uint8_t *ip = frame + 14, *l4 = frame + p->l4;
	int64_t shift = 0, lo = p->off, hi = p->off + p->pay_len;
	size_t ihl = p->l4 - 14, hdr = p->pay - p->l4, plen = p->pay_len;
	uint8_t hdrbuf[16];
	uint32_t sum;

	if (s->proto == 6 && ph > 0) {
		int64_t L = s->loop_b - s->loop_a;
		shift = ph == 1 ? (int64_t)f->rep * L : (int64_t)(f->reps - 1) * L;
		if (d == 1 && p->pay_len > 0) {
			if (ph == 1) {
				lo = lo > s->loop_a ? lo : s->loop_a;
				hi = hi < s->loop_b ? hi : s->loop_b;
			} else {
				lo = lo > s->loop_b ? lo : s->loop_b;
			}
			if (lo >= hi)
				return false;
			plen = (size_t)(hi - lo);
		}
	}
	memcpy(frame, p->frame, p->pay);
	memcpy(frame, mac[!d], 6);
	memcpy(frame + 6, mac[d], 6);
	if (plen > 0)
		memcpy(frame + p->pay, p->frame + p->pay + (lo - p->off), plen);
	put32(ip + 12, d == 0 ? f->cli_ip : f->srv_ip);
	put32(ip + 16, d == 0 ? f->srv_ip : f->cli_ip);
	put16(ip + 2, (unsigned)(ihl + hdr + plen));
	put16(ip + 10, 0);
	put16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
	put16(l4, d == 0 ? f->cli_port : s->out_port);
	put16(l4 + 2, d == 0 ? s->out_port : f->cli_port);
	if (s->proto == 6) {
		uint32_t seq = p->seq + f->delta[d];
		if (d == 1)
			seq += (uint32_t)shift + (uint32_t)(lo - p->off);
		put32(l4 + 4, seq);
		if (p->flags & 0x10)
			put32(l4 + 8, d == 0 ? map_srv_ack(f, p->ack, shift, ph > 0) : p->ack + f->delta[0]);
		for (size_t o = 20; o < hdr;) {	/* options: SACK edges like acks */
			uint8_t kind = l4[o], olen;
			if (kind == 0)
				break;
			if (kind == 1) {
				o++;
				continue;
			}
			if (o + 1 >= hdr || (olen = l4[o + 1]) < 2 || o + olen > hdr)
				break;
			if (kind == 5)
				for (size_t e = o + 2; e + 4 <= o + olen; e += 4)
					put32(l4 + e, d == 0 ? map_srv_ack(f, get32(l4 + e), shift, ph > 0) :
					    get32(l4 + e) + f->delta[0]);
			o += olen;
		}
		if (plen > 0)
			patch(f, d, lo, frame + p->pay, plen);
		if (d == 1) {
			int64_t end = hi + shift + ((p->flags & 0x01) ? 1 : 0);
			if (plen == 0)
				end = (int64_t)(int32_t)(p->seq - s->isn[1] - 1) + shift +
				    ((p->flags & 0x01) ? 1 : 0);
			if (end > f->srv_max)
				f->srv_max = end;
		}
		put16(l4 + 16, 0);
	} else {
		put16(l4 + 4, (unsigned)(8 + plen));
		put16(l4 + 6, 0);
	}
	/* pseudo-header, then the segment */
	memcpy(hdrbuf, ip + 12, 8);
	hdrbuf[8] = 0;
	hdrbuf[9] = (uint8_t)s->proto;
	put16(hdrbuf + 10, (unsigned)(hdr + plen));
	sum = csum_add(0, hdrbuf, 12);
	sum = csum_add(sum, l4, hdr + plen);
	put16(l4 + (s->proto == 6 ? 16 : 6), csum_fold(sum) == 0 && s->proto == 17 ?
	    0xffff : csum_fold(sum));

	{
		uint32_t rec[4], caplen = (uint32_t)(p->pay + plen);
		int64_t t = f->next_us;
		rec[0] = (uint32_t)(t / 1000000);
		rec[1] = (uint32_t)(t % 1000000);
		rec[2] = rec[3] = caplen;
		if (fwrite(rec, sizeof(rec), 1, out) != 1 || fwrite(frame, caplen, 1, out) != 1)
			die("write: %s", strerror(errno));
		n_packets++;
		n_bytes += 16 + caplen;
		kind_bytes[s - seeds] += 16 + caplen;
		if (p->retrans && plen > 0)
			n_retrans++;
	}
	return true;
}

/* seed time of packet i in the flow's current phase and repetition */
static int64_t
seed_time(const struct inst *f, size_t i)
{
	const struct seed *s = f->s;

	if (f->reps == 0 || i < s->P)
		return s->p[i].t_us;
	if (i < s->Q)
		return s->p[i].t_us + (int64_t)f->rep * s->body_us;
	return s->p[i].t_us + (int64_t)(f->reps - 1) * s->body_us;
}

static int
phase(const struct inst *f, size_t i)
{
	if (f->reps == 0 || i < f->s->P)
		return 0;
	return i < f->s->Q ? 1 : 2;
}

/* move the cursor to the next packet; false at the end of the flow */
static bool
advance(struct inst *f)
{
	const struct seed *s = f->s;

	f->i++;
	if (f->reps > 0 && f->i == s->Q && f->rep + 1 < f->reps) {
		f->rep++;
		f->i = s->P;
	}
	if (f->i >= s->n)
		return false;
	f->next_us = f->start_us + (int64_t)llround(f->scale * (double)seed_time(f, f->i));
	return true;
}

/* ------------------------------------------------------- A': new leaves */

static uint64_t n_signed, n_sign_retries;

/*
 * This flow's leaf: the seed's with the flow's number in the serial's last
 * 8 bytes and the seed's server name replaced by the flow's (CN and SAN, same
 * length), signed again by the issuer.  An ECDSA signature's DER length
 * varies; sign until it has the seed's length, so every length around it
 * stays valid.
 */
static void
make_leaf(struct inst *f, char sha[65])
{
	const struct seed *s = f->s;
	uint8_t *c = xcalloc(s->leaf_len, 1), *tbs, sig[1024];
	size_t siglen = 0;
	int tries = 0;

	memcpy(c, s->stream[1] + s->leaf, s->leaf_len);
	tbs = c + s->tbs;
	for (int k = 0; k < 8; k++)
		c[s->serial + s->serial_len - 1 - (size_t)k] = (uint8_t)((uint64_t)(f->idx + 1) >> (8 * k));
	for (uint8_t *q = tbs; (q = memmem(q, s->tbs_len - (size_t)(q - tbs), s->sni_str,
	    s->sni_len)) != NULL; q += s->sni_len)
		memcpy(q, f->sni, s->sni_len);
	do {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		siglen = sizeof(sig);
		if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, s->issuer) != 1 ||
		    EVP_DigestSign(ctx, sig, &siglen, tbs, s->tbs_len) != 1)
			die("signing a leaf failed");
		EVP_MD_CTX_free(ctx);
		if (++tries > 1000)
			die("seed %s: no signature of %zu bytes", s->name, s->sig_len);
	} while (siglen != s->sig_len);
	n_sign_retries += (uint64_t)(tries - 1);
	n_signed++;
	memcpy(c + s->sig, sig, siglen);
	sha256_hex(c, s->leaf_len, sha);
	f->leaf = c;
}

/* the first leaf made from each seed must verify with its issuer's key */
static void
check_leaf(const struct inst *f)
{
	static bool done[N_SEEDS];
	size_t k = (size_t)(f->s - seeds);
	const uint8_t *p = f->leaf;
	X509 *x;

	if (done[k])
		return;
	x = d2i_X509(NULL, &p, (long)f->s->leaf_len);
	if (x == NULL || p != f->leaf + f->s->leaf_len || X509_verify(x, f->s->issuer) != 1)
		die("seed %s: a rewritten leaf does not verify", f->s->name);
	X509_free(x);
	done[k] = true;
}

/* ------------------------------------------------------------ schedule */

struct plan {
	bool unique_leaves;
	long n12, n13;			/* short handshake flows */
	double bulk_bytes;		/* pcap bytes of long flows, B */
	double hs_per_s;		/* handshake flow arrivals per second */
	double span_s;			/* B: time the flows start in */
};

static struct inst *flows;
static size_t n_flows, cap_flows;

static struct inst *
new_flow(struct seed *s, int64_t start, double dur_s)
{
	struct inst *f;
	uint32_t i;

	if (n_flows == cap_flows) {
		cap_flows = cap_flows ? cap_flows * 2 : 1024;
		flows = realloc(flows, cap_flows * sizeof(*flows));
		if (flows == NULL)
			die("out of memory");
	}
	i = (uint32_t)n_flows;
	f = &flows[n_flows++];
	memset(f, 0, sizeof(*f));
	f->s = s;
	f->idx = i;
	f->start_us = start;
	/* 16 connections per client address, each client on its own port block */
	f->cli_ip = 0x0a000001u + i / 16;
	f->cli_port = (uint16_t)(32768 + (i % 16) * 2048 + rnd() % 2048);
	if (s->kind == K_HS12 || s->kind == K_HS13)
		f->srv_ip = 0xac100001u + (uint32_t)(rnd() % 2000);	/* 172.16/16 */
	else
		f->srv_ip = 0xac140001u + (uint32_t)(rnd() % 500);	/* 172.20/16 */
	f->delta[0] = (uint32_t)rnd();
	f->delta[1] = (uint32_t)rnd();
	for (int k = 0; k < 32; k++) {
		f->crandom[k] = (uint8_t)rnd();
		f->srandom[k] = (uint8_t)rnd();
	}
	put32(f->crandom + 28, i);		/* unique per flow whatever the generator says */
	put32(f->srandom + 28, i);
	if (s->sni_len > 0) {
		memcpy(f->sni, s->sni_str, s->sni_len + 1);
		snprintf(f->sni + 1, 7, "%06u", i % 1000000);
		f->sni[7] = '.';
	}
	f->scale = dur_s * 1e6 / (double)(s->dur_us > 0 ? s->dur_us : 1);
	f->srv_max = 0;
	return f;
}

static int
by_start(const void *a, const void *b)
{
	const struct inst *x = a, *y = b;

	if (x->start_us != y->start_us)
		return x->start_us < y->start_us ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A long flow of seed s with about `bytes` pcap bytes at `rate` bytes/s. */
static void
long_flow(struct seed *s, double bytes, double rate, int64_t t0, double span_s)
{
	uint32_t reps = (uint32_t)fmax(1.0, round((bytes - (double)s->frame_bytes) /
	    (double)s->body_bytes) + 1);
	double b = (double)s->frame_bytes + (double)(reps - 1) * (double)s->body_bytes;
	double dur = b / rate;
	double t_seed = (double)(s->dur_us + (int64_t)(reps - 1) * s->body_us) / 1e6;
	double start = unif(0, span_s > dur ? span_s - dur : 0);
	struct inst *f = new_flow(s, t0 + (int64_t)(start * 1e6), 1.0);

	f->reps = reps;
	f->scale = dur / (t_seed > 0 ? t_seed : 1e-6);
}

static void
make_plan(const struct plan *pl, double scale)
{
	int64_t t0 = 0;				/* main() moves it to the seeds' time */
	long n12 = lround((double)pl->n12 * scale), n13 = lround((double)pl->n13 * scale);
	long n = n12 + n13;
	/* TLS 1.2 mix: rsa2 40%, rsa3 20%, ec2 20%, s120 10%, rsa1 10% */
	static const int mix[10] = { S_RSA2, S_RSA2, S_RSA2, S_RSA2, S_RSA3, S_RSA3, S_EC2, S_EC2,
	    S_S120, S_RSA1 };
	int *order = xcalloc((size_t)n, sizeof(int));
	double t = 0;

	for (long k = 0; k < n12; k++)
		order[k] = mix[k % 10];
	for (long k = n12; k < n; k++)
		order[k] = S_TLS13;
	for (long k = n - 1; k > 0; k--) {	/* shuffle */
		long j = (long)(rnd() % (uint64_t)(k + 1));
		int tmp = order[k];
		order[k] = order[j];
		order[j] = tmp;
	}
	/* handshake flows: Poisson arrivals, each lasting 0.3 to 1.5 s */
	for (long k = 0; k < n; k++) {
		t += -log(1.0 - unif(0, 1)) / pl->hs_per_s;
		new_flow(&seeds[order[k]], t0 + (int64_t)(t * 1e6), unif(0.3, 1.5));
	}
	free(order);
	if (pl->bulk_bytes > 0) {
		double span = pl->span_s, left = pl->bulk_bytes * scale, udp = 0.12 * left;
		long n_dns = lround(2000 * scale);

		for (long k = 0; k < n_dns; k++)
			new_flow(&seeds[S_DNS], t0 + (int64_t)(unif(0, span - 1) * 1e6), unif(0.3, 1.0));
		left -= (double)n_dns * (double)seeds[S_DNS].frame_bytes;
		while (udp > 0) {		/* QUIC-like streams, 1 to 20 MB */
			double b = exp(unif(log(1e6), log(2e7)));
			long_flow(&seeds[S_QUIC], b, exp(unif(log(5e4), log(1e6))), t0, span);
			udp -= b;
			left -= b;
		}
		while (left > 0) {		/* TLS 60%, HTTP 40%; 1 to 30 MB */
			struct seed *s = unif(0, 1) < 0.6 ? &seeds[S_TLSBULK] : &seeds[S_HTTP];
			double b = exp(unif(log(1e6), log(3e7)));
			long_flow(s, b, exp(unif(log(5e4), log(1e6))), t0, span);
			left -= b;
		}
	}
	qsort(flows, n_flows, sizeof(*flows), by_start);
	for (size_t k = 0; k < n_flows; k++)	/* numbers in start order */
		flows[k].idx = (uint32_t)k;
	for (size_t k = 0; k < n_flows; k++) {
		struct inst *f = &flows[k];
		if (f->s->sni_len > 0) {
			snprintf(f->sni + 1, 7, "%06u", f->idx % 1000000);
			f->sni[7] = '.';
		}
		put32(f->crandom + 28, f->idx);
		put32(f->srandom + 28, f->idx);
	}
}

/* -------------------------------------------------------------- merge */

static struct inst **heap;
static size_t n_heap;

static bool
heap_less(size_t a, size_t b)
{
	if (heap[a]->next_us != heap[b]->next_us)
		return heap[a]->next_us < heap[b]->next_us;
	return heap[a]->idx < heap[b]->idx;
}

static void
heap_swap(size_t a, size_t b)
{
	struct inst *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
}

static void
heap_down(size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n_heap && heap_less(l, m))
			m = l;
		if (r < n_heap && heap_less(r, m))
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

static void
heap_push(struct inst *f)
{
	size_t i = n_heap++;

	heap[i] = f;
	while (i > 0 && heap_less(i, (i - 1) / 2)) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
write_truth_row(FILE *tf, const struct inst *f, const char *sha)
{
	const struct seed *s = f->s;
	uint32_t c = f->cli_ip, v = f->srv_ip;

	fprintf(tf, "%u.%u.%u.%u\t%u\t%u.%u.%u.%u\t%u\t%s\t0x%04x\t", c >> 24, c >> 16 & 255,
	    c >> 8 & 255, c & 255, f->cli_port, v >> 24, v >> 16 & 255, v >> 8 & 255, v & 255,
	    s->out_port, f->sni, s->version);
	if (s->kind == K_HS13)
		fprintf(tf, "-\t-\n");
	else
		fprintf(tf, "%d\t%s\n", s->chain_len, sha);
}

int
main(int argc, char **argv)
{
	struct plan pl = { 0 };
	double scale = argc > 5 ? atof(argv[5]) : 1.0;
	char tmp_pcap[4096], tmp_truth[4096], meta[4096], sha[65];
	uint32_t gh[6] = { 0xa1b2c3d4, 0x00040002, 0, 0, SNAPLEN, DLT_EN10MB };
	struct timespec w0, w1;
	size_t next = 0, open_max = 0;
	double open_sum = 0, open_t = 0;
	int64_t t_last = 0, t_base;
	long n_tls = 0, n_12 = 0, n_13 = 0, n_long = 0;
	FILE *tf, *mf;
	static char obuf[1 << 22];

	if (argc < 5 || argc > 6 || !(scale > 0)) {
		fprintf(stderr, "usage: benchgen A|A'|B SEEDDIR OUT.pcap OUT.truth.tsv [SCALE]\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &w0);
	if (strcmp(argv[1], "A") == 0 || strcmp(argv[1], "A'") == 0 ||
	    strcmp(argv[1], "Aprime") == 0) {
		pl.unique_leaves = argv[1][1] != '\0';
		pl.n12 = 50000;
		pl.n13 = 5000;
		pl.hs_per_s = 165;		/* x 0.9 s mean duration: ~150 open */
		rng_state = 0xa5a5a5a5a5a5a5a5ull;	/* A and A' share every choice */
	} else if (strcmp(argv[1], "B") == 0) {
		pl.n12 = 18000;
		pl.n13 = 2000;
		pl.span_s = 300;
		pl.hs_per_s = 20000.0 / 300;
		pl.bulk_bytes = 1.78e9;
		rng_state = 0xb0b0b0b0b0b0b0b0ull;
	} else {
		die("unknown set '%s' (A, A', B)", argv[1]);
	}
	load_seeds(argv[2], pl.unique_leaves);
	make_plan(&pl, scale);
	/* the seeds' own capture time: certificates are valid at capture time */
	t_base = 0;
	{
		char path[4096], err[PCAP_ERRBUF_SIZE];
		struct pcap_pkthdr *h;
		const u_char *d;
		pcap_t *pc;
		snprintf(path, sizeof(path), "%s/hs.pcap", argv[2]);
		if ((pc = pcap_open_offline(path, err)) == NULL || pcap_next_ex(pc, &h, &d) != 1)
			die("%s: %s", path, err);
		t_base = (int64_t)h->ts.tv_sec * 1000000 + h->ts.tv_usec + 3600ll * 1000000;
		pcap_close(pc);
	}
	for (size_t k = 0; k < n_flows; k++)
		flows[k].start_us += t_base;

	snprintf(tmp_pcap, sizeof(tmp_pcap), "%s.tmp", argv[3]);
	snprintf(tmp_truth, sizeof(tmp_truth), "%s.tmp", argv[4]);
	if ((out = fopen(tmp_pcap, "wb")) == NULL || (tf = fopen(tmp_truth, "w")) == NULL)
		die("%s: %s", argv[3], strerror(errno));
	setvbuf(out, obuf, _IOFBF, sizeof(obuf));
	if (fwrite(gh, sizeof(gh), 1, out) != 1)
		die("write: %s", strerror(errno));
	n_bytes = sizeof(gh);
	fprintf(tf, "#client_ip\tclient_port\tserver_ip\tserver_port\tsni\tversion\t"
	    "chain_length\tleaf_sha256\n");
	heap = xcalloc(n_flows, sizeof(*heap));

	while (next < n_flows || n_heap > 0) {
		struct inst *f;

		if (next < n_flows && (n_heap == 0 || flows[next].start_us <= heap[0]->next_us)) {
			f = &flows[next++];
			f->i = 0;
			f->rep = 0;
			f->next_us = f->start_us;
			if (f->s->sni_len > 0) {
				const char *h = f->s->leaf_sha;
				if (pl.unique_leaves && f->s->kind == K_HS12) {
					make_leaf(f, sha);
					check_leaf(f);
					h = sha;
				}
				write_truth_row(tf, f, h);
				n_tls++;
				n_12 += f->s->kind == K_HS12;
				n_13 += f->s->kind == K_HS13;
			}
			n_long += f->reps > 0;
			kind_flows[f->s - seeds]++;
			heap_push(f);
		}
		f = heap[0];
		/* open flows, weighted by time, as the output clock moves */
		if (f->next_us > t_last) {
			if (t_last != 0) {
				open_sum += (double)n_heap * (double)(f->next_us - t_last);
				open_t += (double)(f->next_us - t_last);
			}
			t_last = f->next_us;
		}
		if (n_heap > open_max)
			open_max = n_heap;
		emit(f, f->i, phase(f, f->i));	/* false: clipped away, nothing sent */
		if (advance(f)) {
			heap_down(0);
		} else {
			free(f->leaf);
			f->leaf = NULL;
			heap[0] = heap[--n_heap];
			heap_down(0);
		}
	}
	if (fflush(out) != 0 || fclose(out) != 0 || fclose(tf) != 0)
		die("write: %s", strerror(errno));
	if (rename(tmp_truth, argv[4]) != 0 || rename(tmp_pcap, argv[3]) != 0)
		die("rename: %s", strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &w1);

	snprintf(meta, sizeof(meta), "%s.meta", argv[3]);
	if ((mf = fopen(meta, "w")) == NULL)
		die("%s: %s", meta, strerror(errno));
	fprintf(mf, "set=%s\nscale=%g\npackets=%" PRIu64 "\nbytes=%" PRIu64 "\nflows=%zu\n"
	    "handshakes=%ld\ntls12=%ld\ntls13=%ld\nlong_flows=%ld\nretransmitted_segments=%" PRIu64
	    "\nopen_max=%zu\nopen_mean=%.1f\nspan_s=%.1f\nleaves_signed=%" PRIu64
	    "\ngen_seconds=%.2f\n", argv[1], scale, n_packets, n_bytes, n_flows, n_tls, n_12, n_13,
	    n_long, n_retrans, open_max, open_t > 0 ? open_sum / open_t : 0,
	    (double)(t_last - flows[0].start_us) / 1e6, n_signed,
	    (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9);
	for (size_t k = 0; k < N_SEEDS; k++)
		if (kind_flows[k] > 0)
			fprintf(mf, "seed_%s=%" PRIu64 " flows, %.1f MB\n", seeds[k].name, kind_flows[k],
			    (double)kind_bytes[k] / 1e6);
	fclose(mf);
	fprintf(stderr, "benchgen: %s: %" PRIu64 " packets, %.1f MB, %zu flows (%ld TLS: %ld 1.2, "
	    "%ld 1.3; %ld long), %" PRIu64 " retransmitted segments, open at once: max %zu, mean "
	    "%.1f; %" PRIu64 " leaves signed (%" PRIu64 " ECDSA retries); %.1f s\n", argv[1],
	    n_packets, (double)n_bytes / 1e6, n_flows, n_tls, n_12, n_13, n_long, n_retrans,
	    open_max, open_t > 0 ? open_sum / open_t : 0, n_signed, n_sign_retries,
	    (double)(w1.tv_sec - w0.tv_sec) + (double)(w1.tv_nsec - w0.tv_nsec) / 1e9);
	return 0;
}
