/*
 * starttls_pcap.c [-s DIR] [-x] PCAP...: for each TCP connection in the
 * captures, the cleartext each direction carried before its TLS handshake,
 * found the way the engine finds it (tls_stream's preamble scan over the
 * reassembled stream), and what starttls_protocol() makes of the first
 * STARTTLS_KEEP bytes of each.  One line per connection in which TLS was
 * found in at least one direction:
 *
 *   FILE  CLIENT_IP  CLIENT_PORT  SERVER_IP  SERVER_PORT  C_LEN  S_LEN  NAME
 *
 * C_LEN, S_LEN: cleartext bytes before TLS ("-" when that direction never
 * showed TLS; its bytes, up to STARTTLS_KEEP, are then passed as they are).
 * NAME: the protocol, or "-".  -x adds the two byte strings in hex; -s DIR
 * writes each pair as a tests/fuzz/fuzz_starttls input.
 *
 * A test helper: a small linear table, no expiry, first SYN wins.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../capture/capture.h"
#include "../capture/decode.h"
#include "../capture/reasm.h"
#include "../parser/starttls.h"
#include "../parser/tls_hs.h"
#include "../parser/tls_record.h"

#define CONNS_MAX 4096

struct dir {
	struct reasm rs;
	struct tls_stream ts;
	uint8_t keep[STARTTLS_KEEP];
	size_t kept;
	bool tls;		/* a TLS record or SSL 2.0 hello was found */
	bool hole;		/* bytes were lost before that */
	uint8_t first_type;	/* type of the first handshake message */
	size_t preamble;
};

struct conn {
	uint8_t family;
	uint8_t a[16], b[16];	/* a: the first sender seen */
	uint16_t ap, bp;
	int syn_from;		/* 0: a, 1: b, -1: no SYN seen */
	struct dir d[2];	/* d[0]: a -> b */
};

static struct conn conns[CONNS_MAX];
static size_t n_conns;
static int dump_hex;
static const char *seed_dir;

static bool
on_bytes(void *ctx, const uint8_t *p, size_t len)
{
	struct dir *d = ctx;
	struct tls_msg m;

	if (p == NULL) {
		d->hole = true;
		return false;
	}
	if (d->kept < sizeof(d->keep)) {
		size_t n = len < sizeof(d->keep) - d->kept ? len : sizeof(d->keep) - d->kept;
		memcpy(d->keep + d->kept, p, n);
		d->kept += n;
	}
	while (len > 0 && !tls_stream_stopped(&d->ts) && d->first_type == 0) {
		int n = tls_feed(&d->ts, p, len, &m);
		if (n < 0)
			break;
		if (m.type != 0)
			d->first_type = m.type;
		p += n;
		len -= (size_t)n;
	}
	if (tls_stream_is_tls(&d->ts) && !d->tls) {
		d->tls = true;
		d->preamble = d->ts.preamble_len;
	}
	return d->first_type == 0 && !tls_stream_stopped(&d->ts);
}

static struct conn *
lookup(const struct pkt *k, int *dir)
{
	size_t alen = k->family == 4 ? 4 : 16;

	for (size_t i = n_conns; i-- > 0;) {
		struct conn *c = &conns[i];
		if (c->family != k->family)
			continue;
		if (memcmp(c->a, k->src, alen) == 0 && memcmp(c->b, k->dst, alen) == 0 &&
		    c->ap == k->sport && c->bp == k->dport) {
			*dir = 0;
			return c;
		}
		if (memcmp(c->b, k->src, alen) == 0 && memcmp(c->a, k->dst, alen) == 0 &&
		    c->bp == k->sport && c->ap == k->dport) {
			*dir = 1;
			return c;
		}
	}
	return NULL;
}

static void
on_packet(void *ctx, const struct pcap_pkthdr *h, const uint8_t *p)
{
	const struct cap_src *src = ctx;
	struct pkt k;
	struct conn *c;
	bool syn;
	int dir = 0;

	if (dec_packet(src->linktype, p, h->caplen, &k) != DEC_TCP)
		return;
	syn = k.tcp_flags & TCP_SYN;
	c = lookup(&k, &dir);
	/* a new SYN on a tuple that carried data is a new connection */
	if (c != NULL && syn && !(k.tcp_flags & TCP_ACK) && (c->d[0].kept || c->d[1].kept))
		c = NULL;
	if (c == NULL) {
		if (n_conns == CONNS_MAX || (!syn && k.payload_len == 0))
			return;
		c = &conns[n_conns++];
		memset(c, 0, sizeof(*c));
		c->family = k.family;
		memcpy(c->a, k.src, sizeof(c->a));
		memcpy(c->b, k.dst, sizeof(c->b));
		c->ap = k.sport;
		c->bp = k.dport;
		c->syn_from = -1;
		dir = 0;
		for (int i = 0; i < 2; i++) {
			reasm_init(&c->d[i].rs, 0, NULL, NULL);
			tls_stream_init(&c->d[i].ts, NULL);
		}
	}
	if (syn) {
		reasm_syn(&c->d[dir].rs, k.seq);
		if (c->syn_from < 0)
			c->syn_from = (k.tcp_flags & TCP_ACK) ? !dir : dir;
	}
	if (k.payload_len > 0)
		reasm_push(&c->d[dir].rs, k.seq + (syn ? 1 : 0), k.payload, k.payload_len,
		    on_bytes, &c->d[dir]);
	if (k.tcp_flags & TCP_ACK)
		reasm_ack(&c->d[!dir].rs, k.ack);
}

static void
hex(const uint8_t *p, size_t n)
{
	putchar('\t');
	if (n == 0)
		putchar('-');
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
}

static void
report(const char *file, struct conn *c, size_t idx)
{
	char ip[2][INET6_ADDRSTRLEN];
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	int cl;
	size_t n[2];

	for (int i = 0; i < 2; i++)
		reasm_flush(&c->d[i].rs, on_bytes, &c->d[i]);
	if (!c->d[0].tls && !c->d[1].tls)
		goto out;
	/* the client: who sent the ClientHello; else who sent the SYN */
	if (c->d[0].first_type == TLS_HS_CLIENT_HELLO || c->d[1].first_type == TLS_HS_CLIENT_HELLO)
		cl = c->d[0].first_type == TLS_HS_CLIENT_HELLO ? 0 : 1;
	else
		cl = c->syn_from >= 0 ? c->syn_from : 0;
	for (int i = 0; i < 2; i++) {
		struct dir *d = &c->d[i];
		n[i] = d->tls ? (d->preamble < d->kept ? d->preamble : d->kept) : d->kept;
		if (d->hole && !d->tls)
			n[i] = 0;		/* what came after a hole is not "the first bytes" */
	}
	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->a, ip[0], sizeof(ip[0]));
	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->b, ip[1], sizeof(ip[1]));
	const struct dir *dc = &c->d[cl], *ds = &c->d[!cl];
	const char *name = starttls_protocol(dc->keep, n[cl], ds->keep, n[!cl]);
	printf("%s\t%s\t%u\t%s\t%u\t", base, ip[cl], cl ? c->bp : c->ap, ip[!cl],
	    cl ? c->ap : c->bp);
	if (dc->tls)
		printf("%zu\t", dc->preamble);
	else
		printf("-\t");
	if (ds->tls)
		printf("%zu\t", ds->preamble);
	else
		printf("-\t");
	printf("%s", name ? name : "-");
	if (dump_hex) {
		hex(dc->keep, n[cl]);
		hex(ds->keep, n[!cl]);
	}
	putchar('\n');
	if (seed_dir != NULL && (n[cl] > 0 || n[!cl] > 0)) {
		char path[1024];
		FILE *f;
		int w = snprintf(path, sizeof(path), "%s/%s-%zu", seed_dir, base, idx);
		if (w > 0 && (size_t)w < sizeof(path) && (f = fopen(path, "wb")) != NULL) {
			fputc((int)(n[cl] >> 8), f);
			fputc((int)(n[cl] & 0xff), f);
			fwrite(dc->keep, 1, n[cl], f);
			fwrite(ds->keep, 1, n[!cl], f);
			fclose(f);
		}
	}
out:
	for (int i = 0; i < 2; i++) {
		reasm_free(&c->d[i].rs);
		tls_stream_free(&c->d[i].ts);
	}
}

int
main(int argc, char **argv)
{
	char err[512];
	int code, status = 0, i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-x") == 0)
			dump_hex = 1;
		else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			seed_dir = argv[++i];
		else
			break;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: starttls_pcap [-s DIR] [-x] PCAP...\n");
		return 2;
	}
	for (; i < argc; i++) {
		struct cap_src src;

		if (cap_open_file(&src, argv[i], NULL, err, sizeof(err), &code) != 0) {
			fprintf(stderr, "starttls_pcap: %s\n", err);
			status = 1;
			continue;
		}
		n_conns = 0;
		(void)cap_run(&src, on_packet, &src, NULL, err, sizeof(err));
		for (size_t j = 0; j < n_conns; j++)
			report(argv[i], &conns[j], j);
		cap_close(&src);
	}
	return status;
}
