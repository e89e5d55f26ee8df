/*
 * decode.h: link layer -> IPv4/IPv6 -> TCP/UDP, into a struct pkt view.
 *
 * Link types: Ethernet (802.1Q/802.1ad/QinQ tags, MPLS, PPPoE session),
 * Linux cooked SLL and SLL2, raw IP, BSD NULL/LOOP.  Tunnels: IP-in-IP,
 * 6in4, IPv6-in-IPv6 and GRE, innermost header wins.  IPv6 extension headers
 * are walked.  Every header length is checked against the captured bytes.
 */
#ifndef TLSENTRY_DECODE_H
#define TLSENTRY_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef DEC_DEPTH_MAX
#define DEC_DEPTH_MAX 8		/* link tags plus tunnel levels walked */
#endif
#ifndef DEC_V6EXT_MAX
#define DEC_V6EXT_MAX 16	/* IPv6 extension headers walked */
#endif

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/* One decoded packet: a view into the capture buffer, valid for the callback. */
struct pkt {
	int64_t ts_us;		/* capture time, microseconds since the epoch */
	uint8_t family;		/* 4 or 6 */
	uint8_t proto;		/* 6 (TCP) or 17 (UDP) */
	uint8_t src[16];	/* IPv4 uses the first 4 bytes; the rest is 0 */
	uint8_t dst[16];
	uint16_t sport, dport;
	uint32_t seq, ack;	/* TCP only */
	uint8_t tcp_flags;
	const uint8_t *payload;
	size_t payload_len;	/* bytes captured */
	size_t payload_wire;	/* bytes on the wire (IP length says so) */
};

enum dec_status {
	DEC_TCP = 0,
	DEC_UDP,
	DEC_OTHER,		/* not IP, or an IP protocol we do not follow */
	DEC_FRAGMENT,		/* an IP fragment; not reassembled */
	DEC_UNKNOWN_LINK,	/* a link type we do not decode */
	DEC_BAD,		/* a header that is malformed or cut short */
	DEC_N_STATUS
};

/* Decode one frame of the given DLT_* link type.  *out is filled on TCP/UDP. */
enum dec_status dec_packet(int linktype, const uint8_t *p, size_t caplen, struct pkt *out);

/* Can dec_packet() decode this DLT_* link type at all? */
bool dec_linktype_ok(int linktype);

const char *dec_status_str(enum dec_status st);

#endif /* TLSENTRY_DECODE_H */
