/*
 * test_dtls_captures.c: real DTLS captures through parser/dtls.c.
 *
 * Each capture is read with libpcap and capture/decode.c; every UDP flow
 * direction gets a struct dtls_stream, and the messages it delivers are
 * parsed with parser/tls_hs.c and parser/cert.c.  The results are checked
 * against samples/dtls*.truth.tsv (made by samples/make-dtls.sh from what
 * openssl negotiated and received) and, for two captures of the shared
 * corpus, against values read with tshark 4.0.
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "../capture/decode.h"
#include "../parser/cert.h"
#include "../parser/dtls.h"
#include "../parser/pstat.h"
#include "../parser/tls_hs.h"
#include "t.h"

#define FLOWS_MAX 16
#define SEEN_MAX 32

/* What one direction of a UDP flow delivered. */
struct side {
	struct dtls_stream s;
	bool seen;
	bool first_looks_dtls;		/* dtls_looks_like_handshake(first datagram) */
	uint8_t types[SEEN_MAX];	/* message types, in delivery order */
	int n_types;
	int n_ch, n_sh, n_hvr, n_cert, n_bad_parse;
	bool has_sni, sni_differs;
	char sni[TLS_SNI_MAX + 1];
	uint8_t cookie_len;		/* of the last ClientHello */
	bool v13_offered;		/* supported_versions lists DTLS 1.3 */
	bool first_sh_hrr;
	uint16_t sh_version;		/* of the last ServerHello */
	size_t chain_len;		/* of the first Certificate message */
	char leaf_sha[65];
	char leaf_issuer[512];
};

struct flow {
	uint8_t family;
	uint8_t ip[2][16];		/* [0]: the first sender */
	uint16_t port[2];
	struct side d[2];
};

struct capture {
	struct flow f[FLOWS_MAX];
	size_t n;
	struct memcap mem;
	bool ok;			/* opened and read to the end */
};

static struct tls_client_hello ch;	/* large: not on the stack */
static struct tls_server_hello sh;
static struct tls_cert_list cl;

static void
hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static int
on_msg(const struct tls_msg *m, void *ctx)
{
	struct side *d = ctx;

	if (d->n_types < SEEN_MAX)
		d->types[d->n_types++] = m->type;
	if (!m->kept)
		return 0;
	switch (m->type) {
	case TLS_HS_CLIENT_HELLO:
		d->n_ch++;
		if (tls_hs_client_hello(m->body, m->len, &ch) != P_OK || !ch.is_dtls) {
			d->n_bad_parse++;
			break;
		}
		if (ch.has_sni && d->has_sni && strcmp(ch.sni, d->sni) != 0)
			d->sni_differs = true;
		if (ch.has_sni) {
			d->has_sni = true;
			memcpy(d->sni, ch.sni, sizeof(d->sni));
		}
		d->cookie_len = ch.cookie_len;
		for (size_t i = 0; i < ch.n_versions; i++)
			d->v13_offered |= ch.versions[i] == 0xfefc;
		break;
	case TLS_HS_SERVER_HELLO:
		if (tls_hs_server_hello(m->body, m->len, &sh) != P_OK) {
			d->n_bad_parse++;
			break;
		}
		if (d->n_sh++ == 0)
			d->first_sh_hrr = sh.is_hrr;
		d->sh_version = sh.version;
		break;
	case DTLS_HS_HELLO_VERIFY_REQUEST:
		d->n_hvr++;
		break;
	case TLS_HS_CERTIFICATE:
		if (d->n_cert++ > 0)
			break;
		if (tls_hs_certificate(m->body, m->len, &cl) != P_OK || cl.n == 0) {
			d->n_bad_parse++;
			break;
		}
		d->chain_len = cl.n_total;
		struct cert_info *ci = cert_decode(cl.der[0].p, cl.der[0].len);
		if (ci == NULL || !ci->decoded) {
			d->n_bad_parse++;
		} else {
			hex(ci->sha256, 32, d->leaf_sha);
			snprintf(d->leaf_issuer, sizeof(d->leaf_issuer), "%s", ci->issuer);
		}
		cert_info_free(ci);
		break;
	default:
		break;
	}
	return 0;
}

static struct side *
side_of(struct capture *c, const struct pkt *p)
{
	size_t alen = p->family == 4 ? 4 : 16;

	for (size_t i = 0; i < c->n; i++) {
		struct flow *f = &c->f[i];
		if (f->family != p->family)
			continue;
		for (int k = 0; k < 2; k++)
			if (memcmp(f->ip[k], p->src, alen) == 0 && f->port[k] == p->sport &&
			    memcmp(f->ip[!k], p->dst, alen) == 0 && f->port[!k] == p->dport)
				return &f->d[k];
	}
	if (c->n == FLOWS_MAX)
		return NULL;
	struct flow *f = &c->f[c->n++];
	f->family = p->family;
	memcpy(f->ip[0], p->src, 16);
	memcpy(f->ip[1], p->dst, 16);
	f->port[0] = p->sport;
	f->port[1] = p->dport;
	for (int k = 0; k < 2; k++)
		dtls_stream_init(&f->d[k].s, &c->mem);
	return &f->d[0];
}

/* Every UDP datagram of the capture, per direction, through dtls_feed(). */
static void
read_capture(const char *path, struct capture *c)
{
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	pcap_t *pc;
	int rc;

	memset(c, 0, sizeof(*c));
	pc = pcap_open_offline(path, err);
	if (pc == NULL) {
		fprintf(stderr, "%s: %s\n", path, err);
		return;
	}
	while ((rc = pcap_next_ex(pc, &h, &data)) == 1) {
		struct pkt p;
		struct side *d;

		if (dec_packet(pcap_datalink(pc), data, h->caplen, &p) != DEC_UDP)
			continue;
		if ((d = side_of(c, &p)) == NULL)
			break;
		if (!d->seen) {
			d->seen = true;
			d->first_looks_dtls = dtls_looks_like_handshake(p.payload, p.payload_len);
		}
		uint8_t *b = t_dup(p.payload, p.payload_len);	/* exact size for ASan */
		int st = dtls_feed(&d->s, b, p.payload_len, on_msg, d);
		free(b);
		if (st != P_OK)
			fprintf(stderr, "%s: dtls_feed: %s\n", path, pstat_str(st));
	}
	c->ok = rc == PCAP_ERROR_BREAK;
	pcap_close(pc);
	for (size_t i = 0; i < c->n; i++)
		for (int k = 0; k < 2; k++)
			dtls_stream_free(&c->f[i].d[k].s);
}

/* The flow from client ip:port to server ip:port; *cli, *srv its sides. */
static bool
find_flow(struct capture *c, const char *cip, unsigned cport, const char *sip, unsigned sport,
    struct side **cli, struct side **srv)
{
	uint8_t a[16] = { 0 }, b[16] = { 0 };
	int fam = strchr(cip, ':') ? 6 : 4;
	size_t alen = fam == 4 ? 4 : 16;

	if (inet_pton(fam == 4 ? AF_INET : AF_INET6, cip, a) != 1 ||
	    inet_pton(fam == 4 ? AF_INET : AF_INET6, sip, b) != 1)
		return false;
	for (size_t i = 0; i < c->n; i++) {
		struct flow *f = &c->f[i];
		for (int k = 0; k < 2; k++) {
			if (f->family == fam && memcmp(f->ip[k], a, alen) == 0 &&
			    f->port[k] == cport && memcmp(f->ip[!k], b, alen) == 0 &&
			    f->port[!k] == sport) {
				*cli = &f->d[k];
				*srv = &f->d[!k];
				return true;
			}
		}
	}
	return false;
}

static bool
types_are(const struct side *d, const uint8_t *want, int n)
{
	if (d->n_types != n || memcmp(d->types, want, (size_t)n) != 0) {
		fprintf(stderr, "  types delivered:");
		for (int i = 0; i < d->n_types; i++)
			fprintf(stderr, " %u", d->types[i]);
		fprintf(stderr, "\n");
		return false;
	}
	return true;
}

/* Split a TSV line in place; returns the number of fields. */
static int
split_tabs(char *line, char **f, int max)
{
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		f[n++] = line;
		char *tab = strchr(line, '\t');
		if (tab == NULL)
			break;
		*tab = '\0';
		line = tab + 1;
	}
	return n;
}

/*
 * One sample capture against its truth file.  Every row is a UDP flow of
 * an OpenSSL handshake with the cookie exchange, so its client delivers
 * ClientHello, ClientHello (with the cookie), ClientKeyExchange and stops
 * at ChangeCipherSpec; its server HelloVerifyRequest, ServerHello,
 * Certificate, ServerKeyExchange, ServerHelloDone, NewSessionTicket, and
 * stops at ChangeCipherSpec.
 */
static void
check_sample(const char *pcap, const char *truth, int want_rows, bool want_retrans)
{
	static struct capture c;
	static const uint8_t cli_types[] = { 1, 1, 16 };
	static const uint8_t srv_types[] = { 3, 2, 11, 12, 14, 4 };
	char line[1024], *f[10];
	int rows = 0;
	uint64_t retrans = 0;
	FILE *fp;

	read_capture(pcap, &c);
	T_CHECK(c.ok);
	T_EQ_U(c.mem.used, 0);
	fp = fopen(truth, "r");
	T_CHECK(fp != NULL);
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct side *cli = NULL, *srv = NULL;

		if (line[0] == '#')
			continue;
		T_EQ_I(split_tabs(line, f, 10), 10);
		rows++;
		/* client_ip client_port server_ip server_port sni version
		 * chain_length leaf_sha256 leaf_issuer hello_verify */
		if (!find_flow(&c, f[0], (unsigned)atoi(f[1]), f[2], (unsigned)atoi(f[3]),
		    &cli, &srv)) {
			T_CHECK(!"flow of the truth file found in the capture");
			fprintf(stderr, "  %s: %s:%s -> %s:%s\n", pcap, f[0], f[1], f[2], f[3]);
			continue;
		}
		T_CHECK(cli->first_looks_dtls);
		T_CHECK(srv->first_looks_dtls);
		T_EQ_I(cli->n_bad_parse, 0);
		T_EQ_I(srv->n_bad_parse, 0);
		T_CHECK(cli->has_sni && !cli->sni_differs);
		T_EQ_STR(cli->sni, f[4]);
		T_EQ_U(srv->sh_version, strtoul(f[5], NULL, 16));
		T_EQ_U(srv->chain_len, strtoul(f[6], NULL, 10));
		T_EQ_STR(srv->leaf_sha, f[7]);
		T_EQ_STR(srv->leaf_issuer, f[8]);
		T_EQ_I(srv->n_hvr, atoi(f[9]));
		T_EQ_I(cli->n_ch, 1 + atoi(f[9]));	/* the second one with the cookie */
		T_CHECK(cli->cookie_len > 0);
		T_EQ_I(srv->n_cert, 1);
		T_CHECK(types_are(cli, cli_types, 3));
		T_CHECK(types_are(srv, srv_types, 6));
		T_EQ_I(cli->s.stop, DTLS_STOP_CCS);
		T_EQ_I(srv->s.stop, DTLS_STOP_CCS);
		T_EQ_U(cli->s.n_bad_records + srv->s.n_bad_records, 0);
		T_EQ_U(cli->s.n_over_cap + srv->s.n_over_cap, 0);
		retrans += cli->s.n_retrans + srv->s.n_retrans;
		if (want_retrans)		/* each leg sees a flight twice */
			T_CHECK(srv->s.n_retrans > 0);
	}
	fclose(fp);
	T_EQ_I(rows, want_rows);
	T_EQ_U(c.n, (size_t)want_rows);		/* no other UDP flow */
	if (!want_retrans)
		T_EQ_U(retrans, 0);
}

static void
test_dtls_captures_samples(void)
{
	check_sample("samples/dtls12-fragmented.pcap", "samples/dtls12-fragmented.truth.tsv", 2,
	    false);
	check_sample("samples/dtls10-fragmented.pcap", "samples/dtls10-fragmented.truth.tsv", 1,
	    false);
	check_sample("samples/dtls12-retransmit.pcap", "samples/dtls12-retransmit.truth.tsv", 2,
	    true);
}

/*
 * ndpi-dtls_certificate_fragments.pcap: two DTLS handshakes.  tshark 4.0
 * (-Y dtls.handshake -e dtls.handshake.type, message_seq, fragment_offset,
 * fragment_length, certificate) shows 4 ClientHello records and 11
 * Certificate fragments:
 *   10.186.198.149:39347 -> 35.210.59.134:44443, DTLS 1.0: ClientHello seq 0,
 *     HelloVerifyRequest, ClientHello seq 1 (cookie 20 bytes); ServerHello
 *     0xfeff, Certificate seq 2 in 2 fragments (1547 bytes, one certificate),
 *     ServerHelloDone, ClientKeyExchange, NewSessionTicket, CCS each way.
 *   192.168.1.26:43594 -> 104.153.87.149:50001, DTLS 1.2: ClientHello seq 0
 *     sent twice (frames 21, 22); ServerHello 0xfefd, Certificate seq 1 in 8
 *     fragments (1712 bytes, one certificate), ServerKeyExchange (3
 *     fragments), CertificateRequest, ServerHelloDone; the client's
 *     Certificate (one certificate), ClientKeyExchange, CertificateVerify;
 *     NewSessionTicket in 2 fragments; CCS each way.
 * Leaf SHA-256: the first certificate of dtls.handshake.certificate (hex)
 * through sha256sum.  So: 3 ClientHellos and a retransmitted one, 3
 * Certificate messages made of 11 fragments.
 */
static void
check_ndpi(const char *path)
{
	static struct capture c;
	static const uint8_t a_cli[] = { 1, 1, 16 }, a_srv[] = { 3, 2, 11, 14, 4 };
	static const uint8_t b_cli[] = { 1, 11, 16, 15 }, b_srv[] = { 2, 11, 12, 13, 14, 4 };
	struct side *cli, *srv;

	read_capture(path, &c);
	T_CHECK(c.ok);
	T_EQ_U(c.n, 2);
	T_EQ_U(c.mem.used, 0);
	if (find_flow(&c, "10.186.198.149", 39347, "35.210.59.134", 44443, &cli, &srv)) {
		T_CHECK(cli->first_looks_dtls && srv->first_looks_dtls);
		T_CHECK(types_are(cli, a_cli, 3));
		T_CHECK(types_are(srv, a_srv, 5));
		T_EQ_U(cli->cookie_len, 20);
		T_EQ_U(srv->sh_version, 0xfeff);
		T_EQ_U(srv->chain_len, 1);
		T_EQ_STR(srv->leaf_sha,
		    "d02499c9e402f8d5db6d878a09cc0af8da355288ae296ae3bae9133d1818cdbc");
		T_EQ_U(cli->s.n_retrans + srv->s.n_retrans, 0);
		T_EQ_I(cli->s.stop, DTLS_STOP_CCS);
		T_EQ_I(srv->s.stop, DTLS_STOP_CCS);
		T_EQ_I(cli->n_bad_parse + srv->n_bad_parse, 0);
	} else {
		T_CHECK(!"ndpi flow 39347 -> 44443 found");
	}
	if (find_flow(&c, "192.168.1.26", 43594, "104.153.87.149", 50001, &cli, &srv)) {
		T_CHECK(cli->first_looks_dtls && srv->first_looks_dtls);
		T_CHECK(types_are(cli, b_cli, 4));
		T_CHECK(types_are(srv, b_srv, 6));
		T_EQ_U(cli->s.n_retrans, 1);		/* the ClientHello sent twice */
		T_EQ_U(srv->s.n_retrans, 0);
		T_EQ_U(srv->sh_version, 0xfefd);
		T_EQ_U(srv->chain_len, 1);
		T_EQ_STR(srv->leaf_sha,
		    "4a799416443fbd05415ac720f312547000735d33002d2c809b39e19f2da74987");
		T_EQ_U(cli->chain_len, 1);		/* client certificate */
		T_EQ_STR(cli->leaf_sha,
		    "f31a5ef09901edb2b926e1221b8912461de6a51dfa22736840d1d66787d5c311");
		T_EQ_I(cli->s.stop, DTLS_STOP_CCS);
		T_EQ_I(srv->s.stop, DTLS_STOP_CCS);
		T_EQ_I(cli->n_bad_parse + srv->n_bad_parse, 0);
	} else {
		T_CHECK(!"ndpi flow 43594 -> 50001 found");
	}
	/* tshark's totals: 4 ClientHello records = 3 messages + 1 dropped copy */
	int n_ch = 0, n_cert = 0;
	for (size_t i = 0; i < c.n; i++)
		for (int k = 0; k < 2; k++) {
			n_ch += c.f[i].d[k].n_ch;
			n_cert += c.f[i].d[k].n_cert;
		}
	T_EQ_I(n_ch, 3);
	T_EQ_I(n_cert, 3);
}

/*
 * zeek-dtls13-wolfssl.pcap, 10.168.36.147:33714 -> 10.168.36.144:11111:
 * tshark 4.0 shows two ClientHellos (message_seq 0 and 1, both offering
 * 0xfefc in supported_versions) and two ServerHellos (seq 0 and 1,
 * supported_version 0xfefc; the first carries the HelloRetryRequest random),
 * then records it does not decode: first bytes 0x2e / 0x2f, DTLS 1.3 unified
 * headers (epochs 2 and 3).  No certificate is visible.
 */
static void
check_zeek(const char *path)
{
	static struct capture c;
	static const uint8_t two_ch[] = { 1, 1 }, two_sh[] = { 2, 2 };
	struct side *cli, *srv;

	read_capture(path, &c);
	T_CHECK(c.ok);
	T_EQ_U(c.n, 1);
	if (!find_flow(&c, "10.168.36.147", 33714, "10.168.36.144", 11111, &cli, &srv)) {
		T_CHECK(!"zeek flow 33714 -> 11111 found");
		return;
	}
	T_CHECK(cli->first_looks_dtls && srv->first_looks_dtls);
	T_CHECK(types_are(cli, two_ch, 2));
	T_CHECK(types_are(srv, two_sh, 2));
	T_CHECK(cli->v13_offered);
	T_CHECK(srv->first_sh_hrr);
	T_EQ_U(srv->sh_version, 0xfefc);
	T_EQ_I(srv->n_cert, 0);
	T_EQ_I(cli->s.stop, DTLS_STOP_UNIFIED);
	T_EQ_I(srv->s.stop, DTLS_STOP_UNIFIED);
	T_EQ_I(cli->n_bad_parse + srv->n_bad_parse, 0);
	T_EQ_U(c.mem.used, 0);
}

static void
test_dtls_captures_corpus(void)
{
	const char *dir = "../shared/corpus/pcap";
	char path[512];
	struct stat st;

	if (stat(dir, &st) != 0) {
		printf("note: %s absent: the corpus captures are not checked\n", dir);
		return;
	}
	snprintf(path, sizeof(path), "%s/ndpi-dtls_certificate_fragments.pcap", dir);
	check_ndpi(path);
	snprintf(path, sizeof(path), "%s/zeek-dtls13-wolfssl.pcap", dir);
	check_zeek(path);
}

int
main(void)
{
	if (cert_init() != 0) {
		fprintf(stderr, "cert_init failed\n");
		return 1;
	}
	T_RUN(test_dtls_captures_samples);
	T_RUN(test_dtls_captures_corpus);
	T_SUMMARY();
}
