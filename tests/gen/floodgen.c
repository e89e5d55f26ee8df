/*
 * floodgen.c: writes the hostile captures of the flood tests with libpcap's
 * pcap_dump.  Every frame is Ethernet/IPv4/TCP between addresses in
 * 10.0.0.0/8; nothing is ever sent, only written to a file.
 *
 *   floodgen syn N FILE       N SYNs, each from its own source address and port
 *   floodgen flows N FILE     N one-packet connections carrying 20 bytes each
 *   floodgen bigcert N FILE   N connections whose server sends 1 MiB - 4 KiB of
 *                             a Certificate message that claims 1 MiB and never
 *                             ends (each would buffer 1 MiB without a cap)
 *   floodgen longshake MB FILE  one connection whose server sends MB megabytes of
 *                             handshake records of a message tlsentry skips
 *   floodgen ooo N FILE       one connection sending N segments, all beyond a
 *                             hole that never fills, at offsets up to 64 MiB ahead
 */
#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pcap_dumper_t *out;
static uint64_t ts_us = 1700000000ull * 1000000;

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

/* One frame: Ethernet, IPv4 (no options), TCP (no options), payload. */
static void
frame(uint32_t src, uint32_t dst, unsigned sport, unsigned dport, uint32_t seq,
    uint32_t ack, unsigned flags, const uint8_t *payload, size_t len)
{
	static uint8_t f[14 + 20 + 20 + 65536];
	struct pcap_pkthdr h;
	uint8_t *ip = f + 14, *tcp = ip + 20;

	memset(f, 0, 14 + 40);
	put16(f + 12, 0x0800);			/* EtherType IPv4 */
	ip[0] = 0x45;				/* version 4, IHL 5 */
	put16(ip + 2, (unsigned)(40 + len));	/* total length */
	ip[8] = 64;				/* TTL */
	ip[9] = 6;				/* TCP */
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = 5 << 4;			/* data offset 5 words */
	tcp[13] = (uint8_t)flags;
	put16(tcp + 14, 65535);			/* window */
	if (len > 0)
		memcpy(tcp + 20, payload, len);
	ts_us += 10;
	h.ts.tv_sec = (time_t)(ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(ts_us % 1000000);
	h.caplen = h.len = (bpf_u_int32)(54 + len);
	pcap_dump((u_char *)out, &h, f);
}

/* One frame: Ethernet, IPv4 (no options), UDP, payload. */
static void
udp_frame(uint32_t src, uint32_t dst, unsigned sport, unsigned dport, const uint8_t *payload,
    size_t len)
{
	static uint8_t f[14 + 20 + 8 + 65536];
	struct pcap_pkthdr h;
	uint8_t *ip = f + 14, *udp = ip + 20;

	memset(f, 0, 14 + 28);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (unsigned)(28 + len));
	ip[8] = 64;
	ip[9] = 17;				/* UDP */
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (unsigned)(8 + len));
	memcpy(udp + 8, payload, len);
	ts_us += 10;
	h.ts.tv_sec = (time_t)(ts_us / 1000000);
	h.ts.tv_usec = (suseconds_t)(ts_us % 1000000);
	h.caplen = h.len = (bpf_u_int32)(42 + len);
	pcap_dump((u_char *)out, &h, f);
}

#define SYN 0x02
#define ACK 0x10
#define PSH 0x08

static uint32_t rnd = 12345;

static uint32_t
next_rand(void)
{
	rnd = rnd * 1103515245u + 12345u;
	return rnd;
}

/* A TLS record header: type 22 (handshake), version 3.3, length n. */
static size_t
record(uint8_t *p, size_t n)
{
	p[0] = 22;
	p[1] = 3;
	p[2] = 3;
	put16(p + 3, (unsigned)n);
	return 5;
}

static void
gen_syn(long n)
{
	for (long i = 0; i < n; i++)
		frame(0x0a000000u | (uint32_t)(i + 1), 0x0a640001u, 1024 + (unsigned)(i % 60000),
		    443, next_rand(), 0, SYN, NULL, 0);
}

static void
gen_flows(long n)
{
	uint8_t junk[20];

	for (long i = 0; i < n; i++) {
		for (size_t k = 0; k < sizeof(junk); k++)
			junk[k] = (uint8_t)next_rand();
		frame(0x0a000000u | (uint32_t)(i + 1), 0x0a640001u, 1024 + (unsigned)(i % 60000),
		    443, next_rand(), 1, ACK | PSH, junk, sizeof(junk));
	}
}

/*
 * QUIC v1 Initials from distinct sources: a well-formed long header (random
 * 8-byte DCID, no token, Length covering the rest) around 1,162 random
 * bytes, which no key opens.  Each starts a UDP flow and costs a key
 * derivation; none may cost more memory than a flow.
 */
static void
gen_quic(long n)
{
	uint8_t d[1200];
	size_t k;

	for (long i = 0; i < n; i++) {
		for (k = 0; k < sizeof(d); k++)
			d[k] = (uint8_t)next_rand();
		d[0] = 0xc3;			/* long header, fixed bit, Initial, pn length 4 */
		put32(d + 1, 1);		/* version 1 */
		d[5] = 8;			/* DCID length, then 8 random bytes */
		d[14] = 0;			/* SCID length 0 */
		d[15] = 0;			/* token length 0 */
		put16(d + 16, 0x4000 | (unsigned)(sizeof(d) - 18));	/* Length, 2-byte varint */
		udp_frame(0x0a000000u | (uint32_t)(i + 1), 0x0a640001u,
		    1024 + (unsigned)(i % 60000), 443, d, sizeof(d));
	}
}

/*
 * DTLS 1.2 ClientHello first fragments from distinct sources, each claiming
 * a 60,000-byte message of which 100 bytes arrive: the reassembly must not
 * reserve what a header claims.
 */
static void
gen_dtls(long n)
{
	uint8_t d[13 + 12 + 100];

	memset(d, 0, sizeof(d));
	d[0] = 22;				/* handshake */
	d[1] = 0xfe; d[2] = 0xfd;		/* DTLS 1.2 */
	put16(d + 11, 12 + 100);		/* record length */
	d[13] = 1;				/* ClientHello */
	d[14] = 0; put16(d + 15, 60000);	/* message length 60000 */
	put16(d + 23, 100);			/* fragment_length 100 (offset 0) */
	d[25] = 0xfe; d[26] = 0xfd;		/* client_version */
	for (long i = 0; i < n; i++) {
		for (size_t k = 27; k < sizeof(d); k++)
			d[k] = (uint8_t)next_rand();
		udp_frame(0x0a000000u | (uint32_t)(i + 1), 0x0a640001u,
		    1024 + (unsigned)(i % 60000), 4433, d, sizeof(d));
	}
}

static void
gen_bigcert(long n)
{
	static uint8_t seg[1460];
	const uint32_t claim = 1u << 20;	/* TLS_HS_MAX: allowed, never completed */

	for (long c = 0; c < n; c++) {
		uint32_t cli = 0x0a000000u | (uint32_t)(c + 1), srv = 0x0a640001u;
		unsigned cport = 20000 + (unsigned)c;
		uint32_t sseq = 1000, sent = 0, msg = 0;
		bool first = true;

		frame(cli, srv, cport, 443, 99, 0, SYN, NULL, 0);
		frame(srv, cli, 443, cport, sseq - 1, 100, SYN | ACK, NULL, 0);
		frame(cli, srv, cport, 443, 100, sseq, ACK, NULL, 0);
		while (sent < claim - 4096) {	/* records of 1400 bytes of the message */
			size_t k = record(seg, 1400);
			if (first) {		/* Certificate, claiming `claim` bytes */
				seg[k++] = 11;
				seg[k++] = (uint8_t)(claim >> 16);
				seg[k++] = (uint8_t)(claim >> 8);
				seg[k++] = (uint8_t)claim;
				first = false;
			}
			while (k < 1405)
				seg[k++] = (uint8_t)(msg++);
			frame(srv, cli, 443, cport, sseq, 100, ACK | PSH, seg, k);
			sseq += (uint32_t)k;
			sent += 1400;
		}
	}
}

static void
gen_longshake(long mb)
{
	static uint8_t seg[16389];
	uint32_t cli = 0x0a000001u, srv = 0x0a640001u, sseq = 1000;
	bool first = true;

	frame(cli, srv, 30000, 443, 99, 0, SYN, NULL, 0);
	frame(srv, cli, 443, 30000, sseq - 1, 100, SYN | ACK, NULL, 0);
	frame(cli, srv, 30000, 443, 100, sseq, ACK, NULL, 0);
	for (long i = 0; i < mb * 64; i++) {	/* 16 KiB records */
		size_t k = record(seg, 16384);
		if (first) {			/* NewSessionTicket claiming 16 MiB: skipped */
			seg[k++] = 4;
			seg[k++] = 0xff;
			seg[k++] = 0xff;
			seg[k++] = 0xff;
			first = false;
		}
		memset(seg + k, 0x42, 16389 - k);
		/* sent as segments of at most 1460 bytes */
		for (size_t off = 0; off < 16389; off += 1460) {
			size_t n = 16389 - off < 1460 ? 16389 - off : 1460;
			frame(srv, cli, 443, 30000, sseq, 100, ACK | PSH, seg + off, n);
			sseq += (uint32_t)n;
		}
	}
}

static void
gen_ooo(long n)
{
	uint8_t data[1000];
	uint32_t cli = 0x0a000001u, srv = 0x0a640001u, base = 1000;

	memset(data, 0x55, sizeof(data));
	frame(cli, srv, 30000, 443, 99, 0, SYN, NULL, 0);
	frame(srv, cli, 443, 30000, base - 1, 100, SYN | ACK, NULL, 0);
	frame(cli, srv, 30000, 443, 100, base, ACK, NULL, 0);
	for (long i = 0; i < n; i++)		/* never at base: the hole stays */
		frame(srv, cli, 443, 30000, base + 1000 + (next_rand() % (64u << 20)), 100,
		    ACK | PSH, data, sizeof(data));
}

int
main(int argc, char **argv)
{
	pcap_t *dead;
	long n;

	if (argc != 4 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: floodgen syn|flows|quic|dtls|bigcert|longshake|ooo N FILE\n");
		return 2;
	}
	dead = pcap_open_dead(DLT_EN10MB, 65535);
	out = pcap_dump_open(dead, argv[3]);
	if (out == NULL) {
		fprintf(stderr, "floodgen: %s\n", pcap_geterr(dead));
		return 1;
	}
	if (strcmp(argv[1], "syn") == 0)
		gen_syn(n);
	else if (strcmp(argv[1], "flows") == 0)
		gen_flows(n);
	else if (strcmp(argv[1], "quic") == 0)
		gen_quic(n);
	else if (strcmp(argv[1], "dtls") == 0)
		gen_dtls(n);
	else if (strcmp(argv[1], "bigcert") == 0)
		gen_bigcert(n);
	else if (strcmp(argv[1], "longshake") == 0)
		gen_longshake(n);
	else if (strcmp(argv[1], "ooo") == 0)
		gen_ooo(n);
	else {
		fprintf(stderr, "floodgen: unknown kind '%s'\n", argv[1]);
		return 2;
	}
	pcap_dump_close(out);
	pcap_close(dead);
	return 0;
}
