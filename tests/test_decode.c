/*
 * test_decode.c: dec_packet() on hand-built frames of every link type, with
 * tags, tunnels and IPv6 extension headers, and on malformed, cut and
 * bit-flipped frames.  Every decode reads from an exact-size heap copy so
 * ASan sees any read past the captured bytes.
 */
#include <stdint.h>

#include <pcap/dlt.h>

#include "../capture/decode.h"
#include "t.h"

/* ---- a frame builder: fields are written in wire order, lengths patched ---- */

struct fb {
	uint8_t b[8192];
	size_t n;
};

static struct fb F;

static void
fb_u8(unsigned v)
{
	F.b[F.n++] = (uint8_t)v;
}

static void
fb_u16(unsigned v)
{
	fb_u8(v >> 8);
	fb_u8(v);
}

static void
fb_u32(uint32_t v)
{
	fb_u16(v >> 16);
	fb_u16(v & 0xffff);
}

static void
fb_raw(const void *p, size_t n)
{
	memcpy(F.b + F.n, p, n);
	F.n += n;
}

static void
fb_fill(unsigned v, size_t n)
{
	memset(F.b + F.n, (int)v, n);
	F.n += n;
}

static void
fb_put16(size_t at, unsigned v)
{
	F.b[at] = (uint8_t)(v >> 8);
	F.b[at + 1] = (uint8_t)v;
}

/* Addresses and ports used throughout (RFC 5737 / RFC 3849 documentation ranges). */
static const uint8_t A4[4] = { 192, 0, 2, 1 };		/* 192.0.2.1 */
static const uint8_t B4[4] = { 198, 51, 100, 2 };	/* 198.51.100.2 */
static const uint8_t O4A[4] = { 203, 0, 113, 1 };	/* tunnel endpoint 203.0.113.1 */
static const uint8_t O4B[4] = { 203, 0, 113, 2 };	/* tunnel endpoint 203.0.113.2 */
static const uint8_t A6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,	/* 2001:db8::1 */
	0, 0, 0, 0, 0, 0, 0, 0x01 };
static const uint8_t B6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,	/* 2001:db8::2 */
	0, 0, 0, 0, 0, 0, 0, 0x02 };
static const uint8_t O6A[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0,	/* 2001:db8:ff00::a */
	0, 0, 0, 0, 0, 0, 0, 0x0a };
static const uint8_t O6B[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0, 0, 0,	/* 2001:db8:ff00::b */
	0, 0, 0, 0, 0, 0, 0, 0x0b };

#define SPORT 49152
#define DPORT 443
#define SEQ 0x01020304u
#define ACK 0x0a0b0c0du
#define FLAGS 0x18		/* PSH|ACK */
#define PAYLOAD "hello"
#define PAYLOAD_LEN 5

/* Ethernet II: dst 02:00:00:00:00:02, src 02:00:00:00:00:01, EtherType. */
static void
fb_eth(unsigned type)
{
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };

	fb_raw(macs, 12);
	fb_u16(type);
}

/* 802.1Q / 802.1ad tag: TPID was the previous EtherType; TCI then inner type. */
static void
fb_tag(unsigned vid, unsigned inner)
{
	fb_u16(vid & 0x0fff);			/* TCI: PCP 0, DEI 0, VID */
	fb_u16(inner);
}

/*
 * IPv4 header with ihl 32-bit words (>= 5; options are NOPs then EOL),
 * DF set, TTL 64.  ip4_end() patches the total length and checksum.
 */
static size_t
ip4_begin_ihl(unsigned ihl, unsigned proto, const uint8_t src[4], const uint8_t dst[4])
{
	size_t at = F.n;

	fb_u8(0x40 | (ihl & 0x0f));		/* version 4, IHL */
	fb_u8(0);				/* DSCP/ECN */
	fb_u16(0);				/* total length: patched */
	fb_u16(0x1234);				/* identification */
	fb_u16(0x4000);				/* flags DF, fragment offset 0 */
	fb_u8(64);				/* TTL */
	fb_u8(proto);				/* protocol */
	fb_u16(0);				/* header checksum: patched */
	fb_raw(src, 4);
	fb_raw(dst, 4);
	if (ihl > 5) {
		fb_fill(0x01, (ihl - 5) * 4 - 1);	/* NOP options */
		fb_u8(0x00);			/* EOL */
	}
	return at;
}

static size_t
ip4_begin(unsigned proto, const uint8_t src[4], const uint8_t dst[4])
{
	return ip4_begin_ihl(5, proto, src, dst);
}

static void
ip4_end(size_t at)
{
	size_t hlen = (size_t)(F.b[at] & 0x0f) * 4;
	uint32_t sum = 0;

	fb_put16(at + 2, (unsigned)(F.n - at));
	for (size_t i = 0; i < hlen; i += 2)
		sum += (uint32_t)F.b[at + i] << 8 | F.b[at + i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	fb_put16(at + 10, ~sum & 0xffff);
}

/* IPv6 header: version 6, no traffic class or flow label, hop limit 64. */
static size_t
ip6_begin(unsigned next, const uint8_t src[16], const uint8_t dst[16])
{
	size_t at = F.n;

	fb_u32(0x60000000);			/* version 6, TC 0, flow 0 */
	fb_u16(0);				/* payload length: patched */
	fb_u8(next);				/* next header */
	fb_u8(64);				/* hop limit */
	fb_raw(src, 16);
	fb_raw(dst, 16);
	return at;
}

static void
ip6_end(size_t at)
{
	fb_put16(at + 4, (unsigned)(F.n - at - 40));
}

/* TCP header of doff 32-bit words (>= 5; options are NOPs); window 65535. */
static void
fb_tcp_doff(unsigned doff, unsigned flags)
{
	fb_u16(SPORT);				/* source port */
	fb_u16(DPORT);				/* destination port */
	fb_u32(SEQ);				/* sequence number */
	fb_u32(ACK);				/* acknowledgement number */
	fb_u8(doff << 4);			/* data offset, reserved */
	fb_u8(flags);				/* flags */
	fb_u16(65535);				/* window */
	fb_u16(0);				/* checksum (not verified) */
	fb_u16(0);				/* urgent pointer */
	if (doff > 5)
		fb_fill(0x01, (doff - 5) * 4);	/* NOP options */
}

/* TCP header plus the 5-byte payload "hello"; returns the payload offset. */
static size_t
fb_tcp_hello(void)
{
	size_t off;

	fb_tcp_doff(5, FLAGS);
	off = F.n;
	fb_raw(PAYLOAD, PAYLOAD_LEN);
	return off;
}

/* UDP 5353 -> 53 with payload "hello"; returns the payload offset. */
static size_t
fb_udp_hello(void)
{
	size_t off;

	fb_u16(5353);				/* source port */
	fb_u16(53);				/* destination port */
	fb_u16(8 + PAYLOAD_LEN);		/* length */
	fb_u16(0);				/* checksum: none */
	off = F.n;
	fb_raw(PAYLOAD, PAYLOAD_LEN);
	return off;
}

/* ---- checking a decode against what the frame was built with ---- */

struct want {
	enum dec_status st;
	uint8_t family;
	uint8_t proto;
	const uint8_t *src, *dst;	/* 4 or 16 bytes by family */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	size_t pay_off;			/* payload offset in the frame */
	size_t pay_len;			/* payload bytes captured in the full frame */
	size_t pay_wire;
};

static struct want
want_tcp4(size_t pay_off)
{
	struct want w = { DEC_TCP, 4, 6, A4, B4, SPORT, DPORT, SEQ, ACK, FLAGS,
		pay_off, PAYLOAD_LEN, PAYLOAD_LEN };

	return w;
}

static struct want
want_tcp6(size_t pay_off)
{
	struct want w = { DEC_TCP, 6, 6, A6, B6, SPORT, DPORT, SEQ, ACK, FLAGS,
		pay_off, PAYLOAD_LEN, PAYLOAD_LEN };

	return w;
}

static struct want
want_udp4(size_t pay_off)
{
	struct want w = { DEC_UDP, 4, 17, A4, B4, 5353, 53, 0, 0, 0,
		pay_off, PAYLOAD_LEN, PAYLOAD_LEN };

	return w;
}

static const char *cur_what = "";

/* Decode an exact-size copy of p[0..n) and return the status. */
static enum dec_status
decode(int linktype, const uint8_t *p, size_t n, struct pkt *pk, uint8_t **keep)
{
	uint8_t *b = t_dup(p, n);
	enum dec_status st;

	memset(pk, 0xa5, sizeof(*pk));		/* garbage, so stale fields show */
	st = dec_packet(linktype, b, n, pk);
	if (keep)
		*keep = b;
	else
		free(b);
	return st;
}

/* The full frame decodes to exactly w. */
static void
check_fields(int linktype, const struct want *w)
{
	struct pkt pk;
	uint8_t *b;
	size_t alen = w->family == 4 ? 4 : 16;
	uint8_t zero[16] = { 0 };
	unsigned f0 = t_fail;
	enum dec_status st = decode(linktype, F.b, F.n, &pk, &b);

	T_EQ_I(st, w->st);
	if (st == w->st && (st == DEC_TCP || st == DEC_UDP)) {
		T_EQ_U(pk.family, w->family);
		T_EQ_U(pk.proto, w->proto);
		T_EQ_MEM(pk.src, w->src, alen);
		T_EQ_MEM(pk.dst, w->dst, alen);
		T_EQ_MEM(pk.src + alen, zero, 16 - alen);	/* IPv4: rest is 0 */
		T_EQ_MEM(pk.dst + alen, zero, 16 - alen);
		T_EQ_U(pk.sport, w->sport);
		T_EQ_U(pk.dport, w->dport);
		T_EQ_U(pk.seq, w->seq);
		T_EQ_U(pk.ack, w->ack);
		T_EQ_U(pk.tcp_flags, w->flags);
		T_CHECK(pk.payload == b + w->pay_off);
		T_EQ_U(pk.payload_len, w->pay_len);
		T_EQ_U(pk.payload_wire, w->pay_wire);
		if (pk.payload == b + w->pay_off && w->pay_len == PAYLOAD_LEN)
			T_EQ_MEM(pk.payload, PAYLOAD, PAYLOAD_LEN);
	}
	free(b);
	if (t_fail != f0)
		fprintf(stderr, "  frame: %s\n", cur_what);
}

/*
 * Every proper prefix: cut inside the headers it is DEC_BAD or DEC_OTHER;
 * cut inside the payload it is the full status with the payload clamped to
 * what was captured and payload_wire unchanged.  Never a payload past the end.
 */
static void
check_prefixes(int linktype, const struct want *w)
{
	size_t end = w->pay_off + w->pay_len;

	for (size_t n = 0; n < F.n; n++) {
		struct pkt pk;
		uint8_t *b;
		enum dec_status st = decode(linktype, F.b, n, &pk, &b);
		int ok;

		if (n < w->pay_off) {
			ok = st == DEC_BAD || st == DEC_OTHER;
		} else {
			size_t want_len = (n < end ? n : end) - w->pay_off;
			ok = st == w->st && pk.payload == b + w->pay_off &&
			    pk.payload_len == want_len && pk.payload_wire == w->pay_wire;
		}
		if ((st == DEC_TCP || st == DEC_UDP) &&
		    (pk.payload < b || pk.payload_len > n ||
		    (size_t)(pk.payload - b) > n - pk.payload_len))
			ok = 0;
		free(b);
		if (!ok) {
			T_CHECK(!"prefix decoded wrongly");
			fprintf(stderr, "  frame: %s, prefix %zu/%zu: status %s\n", cur_what,
			    n, F.n, dec_status_str(st));
			return;
		}
	}
	T_CHECK(1);
}

/* A TCP/UDP result must describe bytes inside the buffer. */
static int
sane(enum dec_status st, const struct pkt *pk, const uint8_t *b, size_t n)
{
	if (st >= DEC_N_STATUS)
		return 0;
	if (st != DEC_TCP && st != DEC_UDP)
		return 1;
	return (pk->family == 4 || pk->family == 6) && pk->payload >= b &&
	    pk->payload_len <= n && (size_t)(pk->payload - b) <= n - pk->payload_len &&
	    pk->payload_len <= pk->payload_wire;
}

/* Flip every bit once: any status, but never a crash or a payload out of bounds. */
static void
check_flips(int linktype)
{
	uint8_t *b = t_dup(F.b, F.n);
	unsigned bad = 0;

	for (size_t i = 0; i < F.n * 8; i++) {
		struct pkt pk;
		enum dec_status st;

		b[i / 8] ^= (uint8_t)(1u << (i % 8));
		st = dec_packet(linktype, b, F.n, &pk);
		if (!sane(st, &pk, b, F.n)) {
			if (bad++ == 0)
				fprintf(stderr, "  frame: %s, bit %zu: bad result\n", cur_what, i);
		}
		b[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	free(b);
	T_EQ_U(bad, 0);
}

/* The three checks every valid frame gets. */
static void
check_frame(const char *what, int linktype, const struct want *w)
{
	cur_what = what;
	check_fields(linktype, w);
	check_prefixes(linktype, w);
	check_flips(linktype);
}

static enum dec_status
status_of(int linktype)
{
	struct pkt pk;

	return decode(linktype, F.b, F.n, &pk, NULL);
}

/* ---- valid frames ---- */

/* Ethernet / IPv4 / TCP, written out byte by byte: the reference frame. */
static const uint8_t eth_ipv4_tcp[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02,	/* eth dst 02:00:00:00:00:02 */
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01,	/* eth src 02:00:00:00:00:01 */
	0x08, 0x00,				/* EtherType IPv4 */
	0x45, 0x00,				/* IPv4, IHL 5; DSCP 0 */
	0x00, 0x2d,				/* total length 45 = 20 + 20 + 5 */
	0x12, 0x34,				/* identification */
	0x40, 0x00,				/* DF, fragment offset 0 */
	0x40, 0x06,				/* TTL 64, protocol TCP */
	0x00, 0x00,				/* header checksum (patched below) */
	0xc0, 0x00, 0x02, 0x01,			/* src 192.0.2.1 */
	0xc6, 0x33, 0x64, 0x02,			/* dst 198.51.100.2 */
	0xc0, 0x00, 0x01, 0xbb,			/* sport 49152, dport 443 */
	0x01, 0x02, 0x03, 0x04,			/* seq 0x01020304 */
	0x0a, 0x0b, 0x0c, 0x0d,			/* ack 0x0a0b0c0d */
	0x50, 0x18,				/* data offset 5; flags PSH|ACK */
	0xff, 0xff, 0x00, 0x00, 0x00, 0x00,	/* window 65535, checksum, urgent */
	'h', 'e', 'l', 'l', 'o',		/* payload "hello" */
};
#define ETH_IPV4_TCP_PAY 54

/* The builder writes the reference frame; checksum aside, byte for byte. */
static void
test_decode_builder_matches_reference(void)
{
	size_t ip;

	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin(6, A4, B4);
	fb_tcp_hello();
	ip4_end(ip);
	T_EQ_U(F.n, sizeof(eth_ipv4_tcp));
	F.b[24] = F.b[25] = 0;			/* the reference leaves the checksum 0 */
	T_EQ_MEM(F.b, eth_ipv4_tcp, sizeof(eth_ipv4_tcp));
}

static void
test_decode_ethernet_ipv4_tcp(void)
{
	struct want w = want_tcp4(ETH_IPV4_TCP_PAY);

	F.n = 0;
	fb_raw(eth_ipv4_tcp, sizeof(eth_ipv4_tcp));
	check_frame("eth/ipv4/tcp", DLT_EN10MB, &w);
	T_CHECK(dec_linktype_ok(DLT_EN10MB));
}

static void
test_decode_ethernet_ipv6_tcp(void)
{
	struct want w;
	size_t ip, off;

	F.n = 0;
	fb_eth(0x86dd);				/* EtherType IPv6 */
	ip = ip6_begin(6, A6, B6);		/* next header TCP */
	off = fb_tcp_hello();
	ip6_end(ip);
	w = want_tcp6(off);
	T_EQ_U(off, 14 + 40 + 20);
	check_frame("eth/ipv6/tcp", DLT_EN10MB, &w);
}

static void
test_decode_vlan(void)
{
	struct want w;
	size_t ip, off;

	F.n = 0;
	fb_eth(0x8100);				/* 802.1Q */
	fb_tag(100, 0x0800);			/* VID 100, then IPv4 */
	ip = ip4_begin(6, A4, B4);
	off = fb_tcp_hello();
	ip4_end(ip);
	w = want_tcp4(off);
	T_EQ_U(off, 14 + 4 + 40);
	check_frame("eth/802.1q/ipv4/tcp", DLT_EN10MB, &w);
}

static void
test_decode_qinq(void)
{
	struct want w;
	size_t ip, off;

	/* 802.1ad S-tag 0x88a8, then 802.1Q C-tag 0x8100, then IPv4 */
	F.n = 0;
	fb_eth(0x88a8);				/* 802.1ad service tag */
	fb_tag(200, 0x8100);			/* S-VID 200, then 802.1Q */
	fb_tag(100, 0x0800);			/* C-VID 100, then IPv4 */
	ip = ip4_begin(6, A4, B4);
	off = fb_tcp_hello();
	ip4_end(ip);
	w = want_tcp4(off);
	T_EQ_U(off, 14 + 8 + 40);
	check_frame("eth/802.1ad/802.1q/ipv4/tcp", DLT_EN10MB, &w);

	/* the pre-standard 0x9100 outer tag, then IPv6 */
	F.n = 0;
	fb_eth(0x9100);				/* old QinQ TPID */
	fb_tag(300, 0x8100);			/* then 802.1Q */
	fb_tag(10, 0x86dd);			/* then IPv6 */
	ip = ip6_begin(6, A6, B6);
	off = fb_tcp_hello();
	ip6_end(ip);
	w = want_tcp6(off);
	check_frame("eth/0x9100/802.1q/ipv6/tcp", DLT_EN10MB, &w);
}

static void
test_decode_mpls(void)
{
	struct want w;
	size_t ip, off;

	F.n = 0;
	fb_eth(0x8847);				/* MPLS unicast */
	fb_u32(0x00010040);			/* label 16, TC 0, S 0, TTL 64 */
	fb_u32(0x00011140);			/* label 17, TC 0, S 1 (bottom), TTL 64 */
	ip = ip4_begin(6, A4, B4);
	off = fb_tcp_hello();
	ip4_end(ip);
	w = want_tcp4(off);
	T_EQ_U(off, 14 + 8 + 40);
	check_frame("eth/mpls x2/ipv4/tcp", DLT_EN10MB, &w);

	F.n = 0;
	fb_eth(0x8848);				/* MPLS multicast */
	fb_u32(0x00012140);			/* label 18, S 1, TTL 64 */
	ip = ip6_begin(6, A6, B6);		/* the decoder guesses IPv6 from the nibble */
	off = fb_tcp_hello();
	ip6_end(ip);
	w = want_tcp6(off);
	check_frame("eth/mpls/ipv6/tcp", DLT_EN10MB, &w);

	/* bottom of stack followed by something that is not IP: not TCP */
	F.n = 0;
	fb_eth(0x8847);
	fb_u32(0x00011140);			/* label 17, S 1 */
	fb_u8(0x00);				/* pseudowire control word, not IP */
	fb_fill(0, 60);
	T_EQ_I(status_of(DLT_EN10MB), DEC_OTHER);
}

static void
test_decode_pppoe(void)
{
	struct want w;
	size_t ip, off, len_at;

	F.n = 0;
	fb_eth(0x8864);				/* PPPoE session stage */
	fb_u8(0x11);				/* version 1, type 1 */
	fb_u8(0x00);				/* code: session data */
	fb_u16(0x1234);				/* session id */
	len_at = F.n;
	fb_u16(0);				/* length: patched */
	fb_u16(0x0021);				/* PPP protocol: IPv4 */
	ip = ip4_begin(6, A4, B4);
	off = fb_tcp_hello();
	ip4_end(ip);
	fb_put16(len_at, (unsigned)(F.n - len_at - 2));
	w = want_tcp4(off);
	T_EQ_U(off, 14 + 8 + 40);
	check_frame("eth/pppoe/ipv4/tcp", DLT_EN10MB, &w);

	F.n = 0;
	fb_eth(0x8864);
	fb_u8(0x11); fb_u8(0x00); fb_u16(0x1234);	/* ver/type, code, session */
	len_at = F.n;
	fb_u16(0);				/* length: patched */
	fb_u16(0x0057);				/* PPP protocol: IPv6 */
	ip = ip6_begin(6, A6, B6);
	off = fb_tcp_hello();
	ip6_end(ip);
	fb_put16(len_at, (unsigned)(F.n - len_at - 2));
	w = want_tcp6(off);
	check_frame("eth/pppoe/ipv6/tcp", DLT_EN10MB, &w);

	/* PPP LCP (0xc021) inside a session: not IP */
	F.n = 0;
	fb_eth(0x8864);
	fb_u8(0x11); fb_u8(0x00); fb_u16(0x1234); fb_u16(6);	/* header, length 6 */
	fb_u16(0xc021);				/* PPP protocol: LCP */
	fb_fill(0, 4);
	T_EQ_I(status_of(DLT_EN10MB), DEC_OTHER);
}

static void
test_decode_linux_sll(void)
{
	struct want w;
	size_t ip, off;

	F.n = 0;
	fb_u16(0);				/* packet type: to us */
	fb_u16(1);				/* ARPHRD_ETHER */
	fb_u16(6);				/* link-layer address length */
	fb_raw("\x02\x00\x00\x00\x00\x01\x00\x00", 8);	/* address, padded to 8 */
	fb_u16(0x0800);				/* protocol: IPv4 */
	ip = ip4_begin(6, A4, B4);
	off = fb_tcp_hello();
	ip4_end(ip);
	w = want_tcp4(off);
	T_EQ_U(off, 16 + 40);
	T_EQ_I(DLT_LINUX_SLL, 113);
	check_frame("sll/ipv4/tcp", DLT_LINUX_SLL, &w);
	T_CHECK(dec_linktype_ok(DLT_LINUX_SLL));

	/* a VLAN tag inside SLL (protocol 0x8100) is walked too */
	F.n = 0;
	fb_u16(4);				/* packet type: outgoing */
	fb_u16(1);				/* ARPHRD_ETHER */
	fb_u16(6);				/* address length */
	fb_raw("\x02\x00\x00\x00\x00\x01\x00\x00", 8);	/* address */
	fb_u16(0x8100);				/* protocol: 802.1Q */
	fb_tag(5, 0x86dd);			/* VID 5, then IPv6 */
	ip = ip6_begin(6, A6, B6);
	off = fb_tcp_hello();
	ip6_end(ip);
	w = want_tcp6(off);
	check_frame("sll/802.1q/ipv6/tcp", DLT_LINUX_SLL, &w);
}

static void
test_decode_linux_sll2(void)
{
	struct want w;
	size_t ip, off;

	F.n = 0;
	fb_u16(0x86dd);				/* protocol: IPv6 */
	fb_u16(0);				/* reserved */
	fb_u32(2);				/* interface index 2 */
	fb_u16(1);				/* ARPHRD_ETHER */
	fb_u8(0);				/* packet type: to us */
	fb_u8(6);				/* address length */
	fb_raw("\x02\x00\x00\x00\x00\x01\x00\x00", 8);	/* address, padded to 8 */
	ip = ip6_begin(6, A6, B6);
	off = fb_tcp_hello();
	ip6_end(ip);
	w = want_tcp6(off);
	T_EQ_U(off, 20 + 60);
	T_EQ_I(DLT_LINUX_SLL2, 276);
	check_frame("sll2/ipv6/tcp", DLT_LINUX_SLL2, &w);
	T_CHECK(dec_linktype_ok(DLT_LINUX_SLL2));

	F.n = 0;
	fb_u16(0x0800);				/* protocol: IPv4 */
	fb_u16(0); fb_u32(7); fb_u16(1);	/* reserved, ifindex 7, ARPHRD_ETHER */
	fb_u8(4); fb_u8(6);			/* outgoing, address length 6 */
	fb_raw("\x02\x00\x00\x00\x00\x01\x00\x00", 8);	/* address */
	ip = ip4_begin(6, A4, B4);
	off = fb_tcp_hello();
	ip4_end(ip);
	w = want_tcp4(off);
	check_frame("sll2/ipv4/tcp", DLT_LINUX_SLL2, &w);
}

/* Raw IP under DLT_RAW (12 here), LINKTYPE_RAW (101), DLT_IPV4/DLT_IPV6. */
static void
test_decode_raw_ip(void)
{
	static const int raw_types[] = { DLT_RAW, 101 };
	struct want w4, w6;
	uint8_t f4[128], f6[128];
	size_t n4, n6, ip, off;

	T_EQ_I(DLT_RAW, 12);
	T_EQ_I(DLT_IPV4, 228);
	T_EQ_I(DLT_IPV6, 229);
	F.n = 0;
	ip = ip4_begin(6, A4, B4);		/* IPv4 from byte 0 */
	off = fb_tcp_hello();
	ip4_end(ip);
	w4 = want_tcp4(off);
	T_EQ_U(off, 40);
	n4 = F.n;
	memcpy(f4, F.b, n4);
	F.n = 0;
	ip = ip6_begin(6, A6, B6);		/* IPv6 from byte 0 */
	off = fb_tcp_hello();
	ip6_end(ip);
	w6 = want_tcp6(off);
	n6 = F.n;
	memcpy(f6, F.b, n6);

	for (size_t i = 0; i < sizeof(raw_types) / sizeof(raw_types[0]); i++) {
		F.n = 0;
		fb_raw(f4, n4);
		check_frame(i ? "linktype 101/ipv4" : "dlt_raw/ipv4", raw_types[i], &w4);
		F.n = 0;
		fb_raw(f6, n6);
		check_frame(i ? "linktype 101/ipv6" : "dlt_raw/ipv6", raw_types[i], &w6);
		T_CHECK(dec_linktype_ok(raw_types[i]));
	}
	F.n = 0;
	fb_raw(f4, n4);
	check_frame("dlt_ipv4", DLT_IPV4, &w4);
	T_EQ_I(status_of(DLT_IPV6), DEC_BAD);	/* IPv4 bytes under DLT_IPV6 */
	F.n = 0;
	fb_raw(f6, n6);
	check_frame("dlt_ipv6", DLT_IPV6, &w6);
	T_EQ_I(status_of(DLT_IPV4), DEC_BAD);	/* IPv6 bytes under DLT_IPV4 */
	T_CHECK(dec_linktype_ok(DLT_IPV4));
	T_CHECK(dec_linktype_ok(DLT_IPV6));

	/* version nibble 5 under raw IP: not IP we know */
	F.n = 0;
	fb_raw(f4, n4);
	F.b[0] = 0x55;				/* version 5, IHL 5 */
	T_EQ_I(status_of(DLT_RAW), DEC_OTHER);
}

/* Write a 4-byte BSD address family in little-endian (NULL) or big-endian (LOOP). */
static void
fb_af(uint32_t af, int big)
{
	if (big) {
		fb_u32(af);
	} else {
		fb_u8(af & 0xff); fb_u8((af >> 8) & 0xff);
		fb_u8((af >> 16) & 0xff); fb_u8(af >> 24);
	}
}

static void
test_decode_bsd_null_loop(void)
{
	static const uint32_t af6[] = { 10, 24, 28, 30 };	/* Linux, Net/OpenBSD, FreeBSD, macOS */
	struct want w;
	size_t ip, off;
	char what[64];

	T_EQ_I(DLT_NULL, 0);
	T_EQ_I(DLT_LOOP, 108);
	for (int big = 0; big <= 1; big++) {
		int lt = big ? DLT_LOOP : DLT_NULL;

		F.n = 0;
		fb_af(2, big);			/* AF_INET */
		ip = ip4_begin(6, A4, B4);
		off = fb_tcp_hello();
		ip4_end(ip);
		w = want_tcp4(off);
		T_EQ_U(off, 4 + 40);
		snprintf(what, sizeof(what), "%s af 2/ipv4", big ? "loop" : "null");
		check_frame(what, lt, &w);
		T_CHECK(dec_linktype_ok(lt));

		for (size_t i = 0; i < sizeof(af6) / sizeof(af6[0]); i++) {
			F.n = 0;
			fb_af(af6[i], big);	/* AF_INET6, per OS */
			ip = ip6_begin(6, A6, B6);
			off = fb_tcp_hello();
			ip6_end(ip);
			w = want_tcp6(off);
			snprintf(what, sizeof(what), "%s af %u/ipv6", big ? "loop" : "null",
			    (unsigned)af6[i]);
			check_frame(what, lt, &w);
		}

		/* an address family that is not IP (AF_APPLETALK 16) */
		F.n = 0;
		fb_af(16, big);
		ip = ip4_begin(6, A4, B4);
		fb_tcp_hello();
		ip4_end(ip);
		T_EQ_I(status_of(lt), DEC_OTHER);
	}
}

static void
test_decode_ipv4_options(void)
{
	struct want w;
	size_t ip, off;

	/* IHL 6: NOP NOP NOP EOL */
	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin_ihl(6, 6, A4, B4);
	off = fb_tcp_hello();
	ip4_end(ip);
	w = want_tcp4(off);
	T_EQ_U(off, 14 + 24 + 20);
	check_frame("eth/ipv4 ihl 6/tcp", DLT_EN10MB, &w);

	/* IHL 8: record route with room for two addresses, then EOL */
	F.n = 0;
	fb_eth(0x0800);
	ip = F.n;
	fb_u8(0x48);				/* version 4, IHL 8 (32 bytes) */
	fb_u8(0); fb_u16(0);			/* DSCP; total length: patched */
	fb_u16(1); fb_u16(0);			/* id; no flags, offset 0 */
	fb_u8(64); fb_u8(6); fb_u16(0);		/* TTL, TCP, checksum */
	fb_raw(A4, 4); fb_raw(B4, 4);		/* src, dst */
	fb_u8(7); fb_u8(11); fb_u8(4);		/* option RR, length 11, pointer 4 */
	fb_fill(0, 8);				/* two empty route slots */
	fb_u8(0);				/* EOL */
	off = fb_tcp_hello();
	ip4_end(ip);
	w = want_tcp4(off);
	T_EQ_U(off, 14 + 32 + 20);
	check_frame("eth/ipv4 ihl 8 record-route/tcp", DLT_EN10MB, &w);

	/* IHL 15, the largest: 40 bytes of options */
	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin_ihl(15, 6, A4, B4);
	off = fb_tcp_hello();
	ip4_end(ip);
	w = want_tcp4(off);
	T_EQ_U(off, 14 + 60 + 20);
	check_frame("eth/ipv4 ihl 15/tcp", DLT_EN10MB, &w);
}

/* TCP options (data offset > 5) move the payload. */
static void
test_decode_tcp_options(void)
{
	struct want w;
	size_t ip, off;

	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin(6, A4, B4);
	fb_tcp_doff(15, TCP_SYN | TCP_ACK);	/* 40 bytes of NOP options */
	off = F.n;
	fb_raw(PAYLOAD, PAYLOAD_LEN);
	ip4_end(ip);
	w = want_tcp4(off);
	w.flags = TCP_SYN | TCP_ACK;
	T_EQ_U(off, 14 + 20 + 60);
	check_frame("eth/ipv4/tcp doff 15", DLT_EN10MB, &w);

	/* a bare segment: no payload, flags FIN|ACK */
	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin(6, A4, B4);
	fb_tcp_doff(5, TCP_FIN | TCP_ACK);
	off = F.n;
	ip4_end(ip);
	w = want_tcp4(off);
	w.flags = TCP_FIN | TCP_ACK;
	w.pay_len = w.pay_wire = 0;
	check_frame("eth/ipv4/tcp no payload", DLT_EN10MB, &w);
}

/* Hop-by-hop, destination options, routing, atomic fragment, then TCP. */
static size_t
fb_ipv6_ext_chain(unsigned frag_field)
{
	size_t ip, off;

	ip = ip6_begin(0, A6, B6);		/* next: hop-by-hop options */
	fb_u8(60);				/* HBH: next = destination options */
	fb_u8(0);				/* length 0: 8 bytes */
	fb_u8(1); fb_u8(4); fb_fill(0, 4);	/* PadN, 4 bytes */
	fb_u8(43);				/* DO: next = routing */
	fb_u8(1);				/* length 1: 16 bytes */
	fb_u8(1); fb_u8(12); fb_fill(0, 12);	/* PadN, 12 bytes */
	fb_u8(44);				/* RH: next = fragment */
	fb_u8(2);				/* length 2: 24 bytes */
	fb_u8(2);				/* routing type 2 (mobile IPv6) */
	fb_u8(1);				/* segments left 1 */
	fb_u32(0);				/* reserved */
	fb_raw(O6A, 16);			/* home address */
	fb_u8(6);				/* FH: next = TCP */
	fb_u8(0);				/* reserved */
	fb_u16(frag_field);			/* offset(13) res(2) M(1) */
	fb_u32(0xdeadbeef);			/* identification */
	off = fb_tcp_hello();
	ip6_end(ip);
	return off;
}

static void
test_decode_ipv6_ext_headers(void)
{
	struct want w;
	size_t off;

	F.n = 0;
	fb_eth(0x86dd);
	off = fb_ipv6_ext_chain(0x0000);	/* atomic fragment: offset 0, M 0 */
	w = want_tcp6(off);
	T_EQ_U(off, 14 + 40 + 8 + 16 + 24 + 8 + 20);
	check_frame("eth/ipv6/hbh/do/rh/frag(atomic)/tcp", DLT_EN10MB, &w);

	/* the two reserved bits do not make a fragment */
	F.n = 0;
	fb_eth(0x86dd);
	off = fb_ipv6_ext_chain(0x0006);	/* offset 0, res 3, M 0 */
	w = want_tcp6(off);
	check_fields(DLT_EN10MB, &w);

	/* AH (RFC 4302): length 4 = 24 bytes, with a 12-byte ICV */
	size_t ip;
	F.n = 0;
	fb_eth(0x86dd);
	ip = ip6_begin(51, A6, B6);		/* next: AH */
	fb_u8(6);				/* AH: next = TCP */
	fb_u8(4);				/* payload length (32-bit words - 2) */
	fb_u16(0);				/* reserved */
	fb_u32(0x100);				/* SPI */
	fb_u32(1);				/* sequence number */
	fb_fill(0xcc, 12);			/* ICV */
	off = fb_tcp_hello();
	ip6_end(ip);
	w = want_tcp6(off);
	T_EQ_U(off, 14 + 40 + 24 + 20);
	check_frame("eth/ipv6/ah/tcp", DLT_EN10MB, &w);
}

/* A chain of n destination-options headers, 8 bytes each, then TCP. */
static size_t
fb_ipv6_n_ext(int n)
{
	size_t ip, off;

	ip = ip6_begin(n > 0 ? 60 : 6, A6, B6);
	for (int i = 0; i < n; i++) {
		fb_u8(i + 1 < n ? 60 : 6);	/* next: DO again, or TCP */
		fb_u8(0);			/* 8 bytes */
		fb_u8(1); fb_u8(4); fb_fill(0, 4);	/* PadN */
	}
	off = fb_tcp_hello();
	ip6_end(ip);
	return off;
}

static void
test_decode_ipv6_ext_chain_limit(void)
{
	struct want w;
	size_t off;

	F.n = 0;
	off = fb_ipv6_n_ext(DEC_V6EXT_MAX);	/* exactly the cap: decoded */
	w = want_tcp6(off);
	check_fields(DLT_RAW, &w);

	F.n = 0;
	fb_ipv6_n_ext(DEC_V6EXT_MAX + 1);	/* one more: malformed */
	T_EQ_I(status_of(DLT_RAW), DEC_BAD);

	F.n = 0;
	fb_ipv6_n_ext(100);			/* a long chain */
	T_EQ_I(status_of(DLT_RAW), DEC_BAD);

	/* an extension header longer than the IPv6 payload length */
	F.n = 0;
	fb_ipv6_n_ext(2);
	F.b[4] = 0; F.b[5] = 12;		/* payload length 12: cuts the 2nd DO */
	T_EQ_I(status_of(DLT_RAW), DEC_BAD);
}

static void
test_decode_ipv6_fragment(void)
{
	F.n = 0;
	fb_eth(0x86dd);
	fb_ipv6_ext_chain(0x0001);		/* offset 0, M 1: first fragment */
	T_EQ_I(status_of(DLT_EN10MB), DEC_FRAGMENT);

	F.n = 0;
	fb_eth(0x86dd);
	fb_ipv6_ext_chain(0x00b8);		/* offset 23 (184 bytes), M 0: last fragment */
	T_EQ_I(status_of(DLT_EN10MB), DEC_FRAGMENT);

	F.n = 0;
	fb_eth(0x86dd);
	fb_ipv6_ext_chain(0xfff9);		/* every offset bit and M */
	T_EQ_I(status_of(DLT_EN10MB), DEC_FRAGMENT);
}

static void
test_decode_ipv4_fragment(void)
{
	size_t ip;

	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin(6, A4, B4);
	fb_tcp_hello();
	ip4_end(ip);
	fb_put16(14 + 6, 0x2000);		/* MF, offset 0: first fragment */
	T_EQ_I(status_of(DLT_EN10MB), DEC_FRAGMENT);
	fb_put16(14 + 6, 0x0010);		/* offset 16 (128 bytes), MF 0: last fragment */
	T_EQ_I(status_of(DLT_EN10MB), DEC_FRAGMENT);
	fb_put16(14 + 6, 0x2001);		/* MF and offset 1 */
	T_EQ_I(status_of(DLT_EN10MB), DEC_FRAGMENT);
	fb_put16(14 + 6, 0x0000);		/* no flags: a whole datagram */
	T_EQ_I(status_of(DLT_EN10MB), DEC_TCP);
	fb_put16(14 + 6, 0x4000);		/* DF only: a whole datagram */
	T_EQ_I(status_of(DLT_EN10MB), DEC_TCP);
	fb_put16(14 + 6, 0x8000);		/* the reserved bit only: not a fragment */
	T_EQ_I(status_of(DLT_EN10MB), DEC_TCP);
}

/* 6in4 (IPv4 protocol 41): the inner IPv6 addresses and TCP ports are reported. */
static void
test_decode_6in4(void)
{
	struct want w;
	size_t o, ip, off;

	F.n = 0;
	fb_eth(0x0800);
	o = ip4_begin(41, O4A, O4B);		/* outer IPv4, protocol 41 (IPv6) */
	ip = ip6_begin(6, A6, B6);		/* inner IPv6 2001:db8::1 -> ::2 */
	off = fb_tcp_hello();
	ip6_end(ip);
	ip4_end(o);
	w = want_tcp6(off);
	T_EQ_U(off, 14 + 20 + 40 + 20);
	check_frame("eth/ipv4/ipv6/tcp (6in4)", DLT_EN10MB, &w);

	/* IPv4 in IPv4 (protocol 4): inner addresses */
	F.n = 0;
	fb_eth(0x0800);
	o = ip4_begin(4, O4A, O4B);		/* outer, protocol 4 */
	ip = ip4_begin(6, A4, B4);		/* inner */
	off = fb_tcp_hello();
	ip4_end(ip);
	ip4_end(o);
	w = want_tcp4(off);
	check_frame("eth/ipv4/ipv4/tcp", DLT_EN10MB, &w);

	/* IPv4 in IPv6 (4in6): the outer IPv6 address bytes must not leak */
	F.n = 0;
	fb_eth(0x86dd);
	o = ip6_begin(4, O6A, O6B);		/* outer IPv6, next header 4 */
	ip = ip4_begin(6, A4, B4);
	off = fb_tcp_hello();
	ip4_end(ip);
	ip6_end(o);
	w = want_tcp4(off);
	check_frame("eth/ipv6/ipv4/tcp (4in6)", DLT_EN10MB, &w);

	/* IPv6 in IPv6 */
	F.n = 0;
	fb_eth(0x86dd);
	o = ip6_begin(41, O6A, O6B);		/* outer IPv6, next header 41 */
	ip = ip6_begin(6, A6, B6);
	off = fb_tcp_hello();
	ip6_end(ip);
	ip6_end(o);
	w = want_tcp6(off);
	check_frame("eth/ipv6/ipv6/tcp", DLT_EN10MB, &w);

	/* 6in4 whose inner IPv6 is a fragment */
	F.n = 0;
	o = ip4_begin(41, O4A, O4B);
	fb_ipv6_ext_chain(0x0001);
	ip4_end(o);
	T_EQ_I(status_of(DLT_RAW), DEC_FRAGMENT);
}

/* Tunnels nested deeper than DEC_DEPTH_MAX are refused. */
static void
test_decode_tunnel_depth(void)
{
	size_t at[DEC_DEPTH_MAX + 2];
	int n = DEC_DEPTH_MAX + 1;

	F.n = 0;
	for (int i = 0; i < n; i++)
		at[i] = ip4_begin(i + 1 < n ? 4 : 6, O4A, O4B);	/* IP in IP ... then TCP */
	fb_tcp_hello();
	for (int i = n - 1; i >= 0; i--)
		ip4_end(at[i]);
	T_EQ_I(status_of(DLT_RAW), DEC_BAD);
}

static void
test_decode_gre(void)
{
	struct want w;
	size_t o, ip, off;

	/* GRE version 0, no options, IPv4 inside */
	F.n = 0;
	fb_eth(0x0800);
	o = ip4_begin(47, O4A, O4B);		/* outer IPv4, protocol 47 (GRE) */
	fb_u16(0x0000);				/* GRE: C 0, K 0, S 0, version 0 */
	fb_u16(0x0800);				/* protocol: IPv4 */
	ip = ip4_begin(6, A4, B4);
	off = fb_tcp_hello();
	ip4_end(ip);
	ip4_end(o);
	w = want_tcp4(off);
	T_EQ_U(off, 14 + 20 + 4 + 40);
	check_frame("eth/ipv4/gre/ipv4/tcp", DLT_EN10MB, &w);

	/* checksum, key and sequence present: 12 option bytes; IPv6 inside */
	F.n = 0;
	fb_eth(0x0800);
	o = ip4_begin(47, O4A, O4B);
	fb_u16(0xb000);				/* GRE: C 1, K 1, S 1, version 0 */
	fb_u16(0x86dd);				/* protocol: IPv6 */
	fb_u16(0); fb_u16(0);			/* checksum, reserved1 */
	fb_u32(0x0000abcd);			/* key */
	fb_u32(7);				/* sequence number */
	ip = ip6_begin(6, A6, B6);
	off = fb_tcp_hello();
	ip6_end(ip);
	ip4_end(o);
	w = want_tcp6(off);
	T_EQ_U(off, 14 + 20 + 16 + 60);
	check_frame("eth/ipv4/gre(c,k,s)/ipv6/tcp", DLT_EN10MB, &w);

	/* transparent Ethernet bridging (0x6558): a whole Ethernet frame inside */
	F.n = 0;
	fb_eth(0x0800);
	o = ip4_begin(47, O4A, O4B);
	fb_u16(0x2000);				/* GRE: K 1 */
	fb_u16(0x6558);				/* protocol: TEB */
	fb_u32(42);				/* key */
	fb_eth(0x0800);				/* inner Ethernet, IPv4 */
	ip = ip4_begin(6, A4, B4);
	off = fb_tcp_hello();
	ip4_end(ip);
	ip4_end(o);
	w = want_tcp4(off);
	check_frame("eth/ipv4/gre/eth/ipv4/tcp", DLT_EN10MB, &w);

	/* GRE version 1 (PPTP enhanced GRE) is not followed */
	F.n = 0;
	fb_eth(0x0800);
	o = ip4_begin(47, O4A, O4B);
	fb_u16(0x3001);				/* K 1, S 1, version 1 */
	fb_u16(0x880b);				/* protocol: PPP */
	fb_u32(0x00050001);			/* payload length, call id */
	fb_u32(1);				/* sequence */
	fb_fill(0, 20);
	ip4_end(o);
	T_EQ_I(status_of(DLT_EN10MB), DEC_OTHER);
}

static void
test_decode_udp(void)
{
	struct want w;
	size_t ip, off;

	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin(17, A4, B4);		/* protocol UDP */
	off = fb_udp_hello();
	ip4_end(ip);
	w = want_udp4(off);
	T_EQ_U(off, 14 + 20 + 8);
	check_frame("eth/ipv4/udp", DLT_EN10MB, &w);

	F.n = 0;
	fb_eth(0x86dd);
	ip = ip6_begin(17, A6, B6);		/* next header UDP */
	off = fb_udp_hello();
	ip6_end(ip);
	w = want_udp4(off);
	w.family = 6;
	w.src = A6;
	w.dst = B6;
	check_frame("eth/ipv6/udp", DLT_EN10MB, &w);

	/* a UDP header cut short by the IP length */
	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin(17, A4, B4);
	fb_u16(5353); fb_u16(53); fb_u16(8);	/* sport, dport, length */
	ip4_end(ip);				/* checksum field missing */
	T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);
}

/* Protocols and EtherTypes the decoder does not follow. */
static void
test_decode_not_followed(void)
{
	size_t ip;

	F.n = 0;
	fb_eth(0x0806);				/* ARP */
	fb_fill(0, 28);
	T_EQ_I(status_of(DLT_EN10MB), DEC_OTHER);

	F.n = 0;
	fb_eth(0x002e);				/* 802.3 length 46, LLC follows */
	fb_fill(0, 46);
	T_EQ_I(status_of(DLT_EN10MB), DEC_OTHER);

	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin(1, A4, B4);		/* ICMP */
	fb_u8(8); fb_u8(0); fb_u16(0); fb_u32(0);	/* echo request */
	ip4_end(ip);
	T_EQ_I(status_of(DLT_EN10MB), DEC_OTHER);
}

static void
test_decode_unknown_link(void)
{
	/* EN3MB, token ring, 802.11, radiotap, USER0, unassigned, negative */
	static const int bad[] = { 2, 6, 105, 127, 147, 1000, -1 };

	F.n = 0;
	fb_raw(eth_ipv4_tcp, sizeof(eth_ipv4_tcp));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_EQ_I(status_of(bad[i]), DEC_UNKNOWN_LINK);
		T_CHECK(!dec_linktype_ok(bad[i]));
	}
	T_EQ_STR(dec_status_str(DEC_UNKNOWN_LINK), "unknown-link");
	T_EQ_STR(dec_status_str(DEC_FRAGMENT), "ip-fragment");
	T_EQ_STR(dec_status_str(DEC_TCP), "tcp");
	T_EQ_STR(dec_status_str(DEC_N_STATUS), "?");
}

/* ---- malformed headers ---- */

static void
test_decode_ipv4_bad_ihl(void)
{
	for (unsigned ihl = 0; ihl < 5; ihl++) {
		F.n = 0;
		fb_raw(eth_ipv4_tcp, sizeof(eth_ipv4_tcp));
		F.b[14] = (uint8_t)(0x40 | ihl);	/* IHL below 5 words */
		T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);
	}
	/* IHL 15 where only a 20-byte header and a short TCP header follow */
	F.n = 0;
	fb_raw(eth_ipv4_tcp, sizeof(eth_ipv4_tcp));
	F.b[14] = 0x4f;
	T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);
	/* version 6 in an 0x0800 frame */
	F.b[14] = 0x65;
	T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);
}

static void
test_decode_ipv4_total_below_ihl(void)
{
	F.n = 0;
	fb_raw(eth_ipv4_tcp, sizeof(eth_ipv4_tcp));
	fb_put16(16, 19);			/* total length 19 < 20 */
	T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);
	fb_put16(16, 0);			/* total length 0 */
	T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);

	F.n = 0;
	fb_eth(0x0800);
	size_t ip = ip4_begin_ihl(6, 6, A4, B4);	/* IHL 6 = 24 bytes */
	fb_tcp_hello();
	ip4_end(ip);
	fb_put16(16, 20);			/* total 20: less than the header */
	T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);
	fb_put16(16, 24);			/* total 24: header only, no TCP */
	T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);
}

static void
test_decode_tcp_bad_offset(void)
{
	for (unsigned doff = 0; doff < 5; doff++) {
		F.n = 0;
		fb_raw(eth_ipv4_tcp, sizeof(eth_ipv4_tcp));
		F.b[46] = (uint8_t)(doff << 4);	/* TCP data offset below 5 words */
		T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);
	}
	/* data offset 15 (60 bytes) in a 25-byte segment */
	F.n = 0;
	fb_raw(eth_ipv4_tcp, sizeof(eth_ipv4_tcp));
	F.b[46] = 0xf0;
	T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);
	/* data offset 6 (24 bytes) in a 25-byte segment: 1 byte of payload */
	F.b[46] = 0x60;
	{
		struct pkt pk;
		T_EQ_I(decode(DLT_EN10MB, F.b, F.n, &pk, NULL), DEC_TCP);
		T_EQ_U(pk.payload_len, 1);
		T_EQ_U(pk.payload_wire, 1);
	}
	/* data offset 7 (28 bytes) past the 25-byte segment, yet inside the
	 * captured bytes thanks to Ethernet padding: still malformed */
	F.b[46] = 0x70;
	fb_fill(0, 10);				/* Ethernet padding */
	T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);
	/* the same over IPv6 */
	F.n = 0;
	size_t ip = ip6_begin(6, A6, B6);
	fb_tcp_hello();
	ip6_end(ip);
	F.b[40 + 12] = 0xf0;			/* data offset 15 in a 25-byte segment */
	T_EQ_I(status_of(DLT_RAW), DEC_BAD);
	F.b[40 + 12] = 0x40;			/* data offset 4 */
	T_EQ_I(status_of(DLT_RAW), DEC_BAD);
}

static void
test_decode_too_many_tags(void)
{
	size_t ip;

	/* DEC_DEPTH_MAX + 1 VLAN tags, then a valid IPv4/TCP packet */
	F.n = 0;
	fb_eth(0x8100);
	for (int i = 0; i < DEC_DEPTH_MAX + 1; i++)
		fb_tag((unsigned)i + 1, i < DEC_DEPTH_MAX ? 0x8100 : 0x0800);
	ip = ip4_begin(6, A4, B4);
	fb_tcp_hello();
	ip4_end(ip);
	T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);

	/* 200 tags: stops at the cap, never walks them all */
	F.n = 0;
	fb_eth(0x8100);
	for (int i = 0; i < 200; i++)
		fb_tag(1, i < 199 ? 0x8100 : 0x0800);
	ip = ip4_begin(6, A4, B4);
	fb_tcp_hello();
	ip4_end(ip);
	T_EQ_I(status_of(DLT_EN10MB), DEC_BAD);

	/* MPLS labels with no bottom-of-stack bit: never TCP */
	F.n = 0;
	fb_eth(0x8847);
	for (int i = 0; i < 40; i++)
		fb_u32(0x00010040);		/* label 16, S 0 */
	ip = ip4_begin(6, A4, B4);
	fb_tcp_hello();
	ip4_end(ip);
	{
		enum dec_status st = status_of(DLT_EN10MB);
		T_CHECK(st == DEC_BAD || st == DEC_OTHER);
	}

	/* four tags are fine */
	F.n = 0;
	fb_eth(0x88a8);
	fb_tag(1, 0x8100); fb_tag(2, 0x8100); fb_tag(3, 0x8100); fb_tag(4, 0x0800);
	ip = ip4_begin(6, A4, B4);
	size_t off = fb_tcp_hello();
	ip4_end(ip);
	struct want w = want_tcp4(off);
	check_fields(DLT_EN10MB, &w);
}

/* ---- lengths: padding and snaplen ---- */

/* Trailing Ethernet padding after a short IPv4 packet is not payload. */
static void
test_decode_ethernet_padding(void)
{
	struct want w;
	size_t ip, off;

	/* 1 byte of payload: 14 + 20 + 20 + 1 = 55, padded to the 60-byte minimum */
	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin(6, A4, B4);
	fb_tcp_doff(5, FLAGS);
	off = F.n;
	fb_u8('x');				/* payload "x" */
	ip4_end(ip);
	fb_fill(0xee, 60 - F.n);		/* padding */
	w = want_tcp4(off);
	w.pay_len = w.pay_wire = 1;
	check_frame("eth/ipv4/tcp 1 byte + padding", DLT_EN10MB, &w);

	/* a bare ACK: 54 bytes, 6 of padding, payload 0 */
	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin(6, A4, B4);
	fb_tcp_doff(5, TCP_ACK);
	off = F.n;
	ip4_end(ip);
	fb_fill(0x00, 6);			/* padding */
	w = want_tcp4(off);
	w.flags = TCP_ACK;
	w.pay_len = w.pay_wire = 0;
	check_frame("eth/ipv4/tcp ack + padding", DLT_EN10MB, &w);

	/* padding after an IPv6 packet does not count either */
	F.n = 0;
	fb_eth(0x86dd);
	ip = ip6_begin(6, A6, B6);
	off = fb_tcp_hello();
	ip6_end(ip);
	fb_fill(0xee, 8);			/* trailer */
	w = want_tcp6(off);
	check_frame("eth/ipv6/tcp + trailer", DLT_EN10MB, &w);

	/* padding after UDP */
	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin(17, A4, B4);
	off = fb_udp_hello();
	ip4_end(ip);
	fb_fill(0xee, 60 - F.n);
	w = want_udp4(off);
	check_frame("eth/ipv4/udp + padding", DLT_EN10MB, &w);
}

/* A frame cut by the snaplen: payload_len is what was captured, payload_wire what IP says. */
static void
test_decode_snaplen_cut(void)
{
	struct want w;
	size_t ip, off;

	F.n = 0;
	fb_eth(0x0800);
	ip = ip4_begin(6, A4, B4);
	fb_tcp_doff(5, FLAGS);
	off = F.n;
	fb_fill(0x16, 1400);			/* 1400 bytes on the wire */
	ip4_end(ip);
	F.n = off + 96;				/* captured: headers + 96 bytes (snaplen 150) */
	w = want_tcp4(off);
	w.pay_len = 96;
	w.pay_wire = 1400;
	check_frame("eth/ipv4/tcp cut at 150", DLT_EN10MB, &w);

	F.n = 0;
	fb_eth(0x86dd);
	ip = ip6_begin(0, A6, B6);		/* hop-by-hop first */
	fb_u8(6); fb_u8(0);			/* HBH: next TCP, 8 bytes */
	fb_u8(1); fb_u8(4); fb_fill(0, 4);	/* PadN */
	fb_tcp_doff(5, FLAGS);
	off = F.n;
	fb_fill(0x17, 3000);			/* 3000 bytes on the wire */
	ip6_end(ip);
	F.n = off + 10;				/* captured: 10 payload bytes */
	w = want_tcp6(off);
	w.pay_len = 10;
	w.pay_wire = 3000;
	check_frame("eth/ipv6/hbh/tcp cut", DLT_EN10MB, &w);

	/* 6in4 cut: the inner IPv6 length gives payload_wire */
	F.n = 0;
	size_t o = ip4_begin(41, O4A, O4B);
	ip = ip6_begin(6, A6, B6);
	fb_tcp_doff(5, FLAGS);
	off = F.n;
	fb_fill(0x17, 500);
	ip6_end(ip);
	ip4_end(o);
	F.n = off + 1;
	w = want_tcp6(off);
	w.pay_len = 1;
	w.pay_wire = 500;
	check_frame("raw/ipv4/ipv6/tcp cut", DLT_RAW, &w);
}

/* ---- the truncation sweep on the reference frame, and random mutations ---- */

/* Every prefix of eth/ipv4/tcp: headers cut => BAD/OTHER; never a payload past the end. */
static void
test_decode_truncated_every_byte(void)
{
	unsigned bad = 0;

	for (size_t n = 0; n < sizeof(eth_ipv4_tcp); n++) {
		struct pkt pk;
		uint8_t *b = t_dup(eth_ipv4_tcp, n);
		enum dec_status st = dec_packet(DLT_EN10MB, b, n, &pk);

		if (n < ETH_IPV4_TCP_PAY) {
			if (st != DEC_BAD && st != DEC_OTHER) {
				bad++;
				fprintf(stderr, "  prefix %zu: %s\n", n, dec_status_str(st));
			}
		} else if (st != DEC_TCP || pk.payload != b + ETH_IPV4_TCP_PAY ||
		    pk.payload_len != n - ETH_IPV4_TCP_PAY || pk.payload_wire != PAYLOAD_LEN) {
			bad++;
			fprintf(stderr, "  prefix %zu: %s len %zu\n", n, dec_status_str(st),
			    pk.payload_len);
		}
		free(b);
	}
	T_EQ_U(bad, 0);
}

/* Deterministic xorshift32. */
static uint32_t rng = 0x9e3779b9u;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Random multi-byte corruption of several frames under every link type. */
static void
test_decode_random_mutations(void)
{
	static const int lts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW,
		101, DLT_IPV4, DLT_IPV6, DLT_NULL, DLT_LOOP };
	uint8_t base[256];
	size_t base_n, o;
	unsigned bad = 0;

	F.n = 0;
	fb_eth(0x8100);
	fb_tag(7, 0x0800);
	o = ip4_begin(47, O4A, O4B);
	fb_u16(0x0000); fb_u16(0x86dd);		/* GRE carrying IPv6 */
	(void)fb_ipv6_ext_chain(0);
	ip4_end(o);
	base_n = F.n;
	memcpy(base, F.b, base_n);
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = rnd() % (base_n + 1);
		uint8_t *b = t_dup(base, n);
		int lt = lts[rnd() % (sizeof(lts) / sizeof(lts[0]))];
		struct pkt pk;

		for (int k = 0, m = 1 + (int)(rnd() % 4); k < m && n > 0; k++)
			b[rnd() % n] = (uint8_t)rnd();
		if (!sane(dec_packet(lt, b, n, &pk), &pk, b, n))
			bad++;
		free(b);
	}
	T_EQ_U(bad, 0);
}

int
main(void)
{
	T_RUN(test_decode_builder_matches_reference);
	T_RUN(test_decode_ethernet_ipv4_tcp);
	T_RUN(test_decode_ethernet_ipv6_tcp);
	T_RUN(test_decode_vlan);
	T_RUN(test_decode_qinq);
	T_RUN(test_decode_mpls);
	T_RUN(test_decode_pppoe);
	T_RUN(test_decode_linux_sll);
	T_RUN(test_decode_linux_sll2);
	T_RUN(test_decode_raw_ip);
	T_RUN(test_decode_bsd_null_loop);
	T_RUN(test_decode_ipv4_options);
	T_RUN(test_decode_tcp_options);
	T_RUN(test_decode_ipv6_ext_headers);
	T_RUN(test_decode_ipv6_ext_chain_limit);
	T_RUN(test_decode_ipv6_fragment);
	T_RUN(test_decode_ipv4_fragment);
	T_RUN(test_decode_6in4);
	T_RUN(test_decode_tunnel_depth);
	T_RUN(test_decode_gre);
	T_RUN(test_decode_udp);
	T_RUN(test_decode_not_followed);
	T_RUN(test_decode_unknown_link);
	T_RUN(test_decode_ipv4_bad_ihl);
	T_RUN(test_decode_ipv4_total_below_ihl);
	T_RUN(test_decode_tcp_bad_offset);
	T_RUN(test_decode_too_many_tags);
	T_RUN(test_decode_ethernet_padding);
	T_RUN(test_decode_snaplen_cut);
	T_RUN(test_decode_truncated_every_byte);
	T_RUN(test_decode_random_mutations);
	T_SUMMARY();
}
