/*
 * decode.c: frame -> struct pkt.
 *
 * Distrusts: every header field.  Lengths are clamped to what was captured
 * (a snaplen cut is recorded in payload_wire) and to what the IP header
 * claims (trailing Ethernet padding is not payload).  Owns: nothing.
 */
#include <string.h>

#include <pcap/dlt.h>

#include "../parser/rd.h"
#include "decode.h"

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8
#define ETH_QINQ_OLD 0x9100
#define ETH_MPLS 0x8847
#define ETH_MPLS_MC 0x8848
#define ETH_PPPOE 0x8864
#define ETH_TEB 0x6558		/* transparent Ethernet bridging, inside GRE */

#define LINKTYPE_RAW 101	/* the file value; libpcap usually maps it to DLT_RAW */

struct dec {
	struct pkt *out;
	int depth;		/* nested headers walked; bounded by DEC_DEPTH_MAX */
};

static enum dec_status ip_any(struct dec *d, struct rd *r);
static enum dec_status ipv4(struct dec *d, struct rd *r);
static enum dec_status ipv6(struct dec *d, struct rd *r);
static enum dec_status ethernet(struct dec *d, struct rd *r);

/*
 * TCP (RFC 9293 s3.1): sport(2) dport(2) seq(4) ack(4) off/flags(2) win(2)
 * csum(2) urg(2) options; the data offset counts 32-bit words and must fit.
 */
static enum dec_status
tcp(struct dec *d, struct rd *r, size_t wire_len)
{
	struct pkt *o = d->out;
	uint8_t off_byte, flags;
	size_t hlen;

	if (!rd_u16(r, &o->sport) || !rd_u16(r, &o->dport) || !rd_u32(r, &o->seq) ||
	    !rd_u32(r, &o->ack) || !rd_u8(r, &off_byte) || !rd_u8(r, &flags))
		return DEC_BAD;
	hlen = (size_t)(off_byte >> 4) * 4;
	if (hlen < 20 || !rd_skip(r, hlen - 14) || wire_len < hlen)
		return DEC_BAD;
	o->proto = 6;
	o->tcp_flags = flags;
	o->payload = rd_ptr(r);
	o->payload_len = rd_left(r);
	o->payload_wire = wire_len - hlen;
	return DEC_TCP;
}

/* UDP (RFC 768): sport(2) dport(2) length(2) checksum(2). */
static enum dec_status
udp(struct dec *d, struct rd *r, size_t wire_len)
{
	struct pkt *o = d->out;
	uint16_t len;

	if (!rd_u16(r, &o->sport) || !rd_u16(r, &o->dport) || !rd_u16(r, &len) ||
	    !rd_skip(r, 2) || wire_len < 8)
		return DEC_BAD;
	o->proto = 17;
	o->payload = rd_ptr(r);
	o->payload_len = rd_left(r);
	o->payload_wire = wire_len - 8;
	/* the UDP length, when it is sane, ends the payload (a datagram in a
	 * tunnel or a padded frame may have bytes after it) */
	if (len >= 8 && len <= wire_len) {
		o->payload_wire = (size_t)len - 8;
		if (o->payload_len > o->payload_wire)
			o->payload_len = o->payload_wire;
	}
	return DEC_UDP;
}

/* The transport (or tunnelled IP) after an IP header. */
static enum dec_status
transport(struct dec *d, uint8_t proto, struct rd *r, size_t wire_len)
{
	switch (proto) {
	case 6:
		return tcp(d, r, wire_len);
	case 17:
		return udp(d, r, wire_len);
	case 4:				/* IP in IP */
		return ipv4(d, r);
	case 41:			/* IPv6 in IP (6in4) */
		return ipv6(d, r);
	case 47: {			/* GRE (RFC 2784, RFC 2890) */
		uint16_t flags, type;
		if (!rd_u16(r, &flags) || !rd_u16(r, &type) || (flags & 0x0007) != 0)
			return DEC_OTHER;	/* version 0 only (not PPTP's GRE) */
		size_t opt = ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) +
		    ((flags & 0x1000) ? 4 : 0);
		if (!rd_skip(r, opt))
			return DEC_BAD;
		if (type == ETH_TEB)
			return ethernet(d, r);
		if (type == ETH_IPV4)
			return ipv4(d, r);
		if (type == ETH_IPV6)
			return ipv6(d, r);
		return DEC_OTHER;
	}
	default:
		return DEC_OTHER;
	}
}

/*
 * IPv4 (RFC 791): ver/ihl(1) tos(1) total_length(2) id(2) flags/frag(2)
 * ttl(1) proto(1) csum(2) src(4) dst(4) options.
 */
static enum dec_status
ipv4(struct dec *d, struct rd *r)
{
	struct pkt *o = d->out;
	uint8_t vihl, proto;
	uint16_t total, frag;
	size_t hlen;
	struct rd body;

	if (++d->depth > DEC_DEPTH_MAX)
		return DEC_BAD;
	if (!rd_u8(r, &vihl) || (vihl >> 4) != 4 || !rd_skip(r, 1) || !rd_u16(r, &total) ||
	    !rd_skip(r, 2) || !rd_u16(r, &frag) || !rd_skip(r, 1) || !rd_u8(r, &proto) ||
	    !rd_skip(r, 2))
		return DEC_BAD;
	hlen = (size_t)(vihl & 0x0f) * 4;
	memset(o->src, 0, sizeof(o->src));
	memset(o->dst, 0, sizeof(o->dst));
	if (hlen < 20 || total < hlen || !rd_bytes(r, o->src, 4) || !rd_bytes(r, o->dst, 4) ||
	    !rd_skip(r, hlen - 20))
		return DEC_BAD;
	o->family = 4;
	if ((frag & 0x3fff) != 0)	/* more-fragments set or a non-zero offset */
		return DEC_FRAGMENT;
	/* clamp to the IP length: trailing Ethernet padding is not payload */
	size_t body_len = total - hlen;
	(void)rd_sub(r, rd_left(r) < body_len ? rd_left(r) : body_len, &body);
	return transport(d, proto, &body, body_len);
}

/*
 * IPv6 (RFC 8200): ver/tc/flow(4) payload_length(2) next_header(1) hop(1)
 * src(16) dst(16), then extension headers until an upper-layer protocol.
 */
static enum dec_status
ipv6(struct dec *d, struct rd *r)
{
	struct pkt *o = d->out;
	uint8_t v, next, hdr_len;
	uint16_t plen, frag;
	struct rd body;

	if (++d->depth > DEC_DEPTH_MAX)
		return DEC_BAD;
	if (!rd_peek_u8(r, 0, &v) || (v >> 4) != 6 || !rd_skip(r, 4) || !rd_u16(r, &plen) ||
	    !rd_u8(r, &next) || !rd_skip(r, 1) || !rd_bytes(r, o->src, 16) ||
	    !rd_bytes(r, o->dst, 16))
		return DEC_BAD;
	o->family = 6;
	size_t wire = plen;
	if (plen == 0)			/* jumbogram (RFC 2675) or cut: take what is there */
		wire = rd_left(r);
	(void)rd_sub(r, rd_left(r) < wire ? rd_left(r) : wire, &body);
	for (int i = 0; i <= DEC_V6EXT_MAX; i++) {
		size_t start = body.off;
		switch (next) {
		case 0:			/* hop-by-hop options */
		case 43:		/* routing */
		case 60:		/* destination options */
		case 135:		/* mobility */
		case 139:		/* HIP */
		case 140:		/* shim6 */
			if (!rd_u8(&body, &next) || !rd_u8(&body, &hdr_len) ||
			    !rd_skip(&body, (size_t)hdr_len * 8 + 6))
				return DEC_BAD;
			break;
		case 44:		/* fragment: next(1) res(1) offset/flags(2) id(4) */
			if (!rd_u8(&body, &next) || !rd_skip(&body, 1) || !rd_u16(&body, &frag) ||
			    !rd_skip(&body, 4))
				return DEC_BAD;
			if ((frag & 0xfff9) != 0)	/* offset or M set: a real fragment */
				return DEC_FRAGMENT;
			break;
		case 51:		/* AH: length in 32-bit words, minus 2 */
			if (!rd_u8(&body, &next) || !rd_u8(&body, &hdr_len) ||
			    !rd_skip(&body, ((size_t)hdr_len + 2) * 4 - 2))
				return DEC_BAD;
			break;
		default:
			return transport(d, next, &body, wire < body.off ? 0 : wire - body.off);
		}
		(void)start;
	}
	return DEC_BAD;			/* an extension chain that never ends */
}

static enum dec_status
ip_any(struct dec *d, struct rd *r)
{
	uint8_t v;

	if (!rd_peek_u8(r, 0, &v))
		return DEC_BAD;
	if ((v >> 4) == 4)
		return ipv4(d, r);
	if ((v >> 4) == 6)
		return ipv6(d, r);
	return DEC_OTHER;
}

/* Dispatch on an EtherType, walking VLAN tags, MPLS labels and PPPoE. */
static enum dec_status
ethertype(struct dec *d, uint16_t type, struct rd *r)
{
	uint16_t ppp;
	uint32_t label;

	while (++d->depth <= DEC_DEPTH_MAX) {
		switch (type) {
		case ETH_IPV4:
			return ipv4(d, r);
		case ETH_IPV6:
			return ipv6(d, r);
		case ETH_VLAN:
		case ETH_QINQ:
		case ETH_QINQ_OLD:	/* TCI(2) then the inner EtherType */
			if (!rd_skip(r, 2) || !rd_u16(r, &type))
				return DEC_BAD;
			continue;
		case ETH_MPLS:
		case ETH_MPLS_MC:	/* labels until bottom-of-stack, then guess IP */
			do {
				if (!rd_u32(r, &label))
					return DEC_BAD;
			} while ((label & 0x100) == 0 && ++d->depth <= DEC_DEPTH_MAX);
			return ip_any(d, r);
		case ETH_PPPOE:		/* ver/type(1) code(1) session(2) len(2) PPP proto(2) */
			if (!rd_skip(r, 6) || !rd_u16(r, &ppp))
				return DEC_BAD;
			if (ppp == 0x0021)
				return ipv4(d, r);
			if (ppp == 0x0057)
				return ipv6(d, r);
			return DEC_OTHER;
		default:
			return DEC_OTHER;
		}
	}
	return DEC_BAD;
}

/* Ethernet II: dst(6) src(6) type(2).  A length (< 0x600) means 802.3/LLC. */
static enum dec_status
ethernet(struct dec *d, struct rd *r)
{
	uint16_t type;

	if (!rd_skip(r, 12) || !rd_u16(r, &type))
		return DEC_BAD;
	return ethertype(d, type, r);
}

/* BSD NULL/LOOP: a 4-byte address family, host order (NULL) or network (LOOP). */
static enum dec_status
bsd_null(struct dec *d, struct rd *r)
{
	uint32_t fam;

	if (!rd_u32(r, &fam))
		return DEC_BAD;
	if (fam > 0xffff)		/* written little-endian by the capturing host */
		fam = (fam >> 24) | ((fam >> 8) & 0xff00);
	switch (fam) {
	case 2:				/* AF_INET everywhere */
		return ipv4(d, r);
	case 10: case 24: case 28: case 30:	/* AF_INET6: Linux, NetBSD/OpenBSD, FreeBSD, macOS */
		return ipv6(d, r);
	default:
		return DEC_OTHER;
	}
}

enum dec_status
dec_packet(int linktype, const uint8_t *p, size_t caplen, struct pkt *out)
{
	struct rd r = rd_init(p, caplen);
	struct dec d = { out, 0 };
	uint16_t type;

	out->payload = NULL;
	out->payload_len = out->payload_wire = 0;
	out->tcp_flags = 0;
	out->seq = out->ack = 0;
	switch (linktype) {
	case DLT_EN10MB:
		return ethernet(&d, &r);
	case DLT_LINUX_SLL:		/* type(2) arphrd(2) alen(2) addr(8) protocol(2) */
		if (!rd_skip(&r, 14) || !rd_u16(&r, &type))
			return DEC_BAD;
		return ethertype(&d, type, &r);
	case DLT_LINUX_SLL2:		/* protocol(2) res(2) ifindex(4) arphrd(2) type(1) alen(1) addr(8) */
		if (!rd_u16(&r, &type) || !rd_skip(&r, 18))
			return DEC_BAD;
		return ethertype(&d, type, &r);
	case DLT_RAW:
	case LINKTYPE_RAW:
		return ip_any(&d, &r);
	case DLT_IPV4:
		return ipv4(&d, &r);
	case DLT_IPV6:
		return ipv6(&d, &r);
	case DLT_NULL:
	case DLT_LOOP:
		return bsd_null(&d, &r);
	default:
		return DEC_UNKNOWN_LINK;
	}
}

bool
dec_linktype_ok(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB: case DLT_LINUX_SLL: case DLT_LINUX_SLL2: case DLT_RAW:
	case LINKTYPE_RAW: case DLT_IPV4: case DLT_IPV6: case DLT_NULL: case DLT_LOOP:
		return true;
	default:
		return false;
	}
}

const char *
dec_status_str(enum dec_status st)
{
	switch (st) {
	case DEC_TCP:		return "tcp";
	case DEC_UDP:		return "udp";
	case DEC_OTHER:		return "other";
	case DEC_FRAGMENT:	return "ip-fragment";
	case DEC_UNKNOWN_LINK:	return "unknown-link";
	case DEC_BAD:		return "malformed";
	case DEC_N_STATUS:	break;
	}
	return "?";
}
