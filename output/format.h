/*
 * format.h: the other renderings of an event, built from struct
 * ev_handshake and the metric counters (never from the JSON): ArcSight
 * Common Event Format (CEF) and one human line of text; and the RFC 5424
 * syslog header that carries any of them.
 *
 * Distrusts: every string of the handshake (wire bytes).  CEF escapes them
 * as its spec says; text escapes anything a terminal would act on.  Owns
 * nothing: output goes to the caller's struct ev_buf.
 */
#ifndef TLSENTRY_FORMAT_H
#define TLSENTRY_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define FMT_CEF_VERSION 0	/* "CEF:0|" */

/* The event as one CEF line (no newline):
 * CEF:0|tlsentry|tlsentry|VERSION|SIGNATURE|NAME|SEVERITY|key=value ... */
void fmt_cef(struct ev_buf *b, const struct ev_msg *m);

/* The event as one short line of text for a terminal (no colour, no newline). */
void fmt_text(struct ev_buf *b, const struct ev_msg *m);

/*
 * CEF escaping.  Header fields: '\' and '|' get a backslash; CR and LF,
 * which a header cannot hold, become a space.  Extension values: '\' and
 * '=' get a backslash, LF is written \n and CR \r.  In both, other control
 * bytes and invalid UTF-8 become U+FFFD, so the line stays one valid UTF-8
 * line whatever the wire held.
 */
void fmt_cef_header_esc(struct ev_buf *b, const void *p, size_t len);
void fmt_cef_value_esc(struct ev_buf *b, const void *p, size_t len);

/* Length of the valid UTF-8 sequence (RFC 3629) at p[0..len), 0 if invalid. */
size_t fmt_utf8_seq(const uint8_t *p, size_t len);

/* The longest prefix of p[0..len) of at most max bytes that does not end
 * inside a UTF-8 sequence. */
size_t fmt_utf8_cut(const char *p, size_t len, size_t max);

/*
 * RFC 5424 s6: HEADER SP STRUCTURED-DATA SP, ready for MSG:
 *   <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [meta sequenceId="SEQ"] 
 * pri = facility * 8 + severity; ts_us is UTC microseconds; hostname,
 * app and msgid are cut to 255, 48 and 32 bytes and anything outside
 * PRINTUSASCII becomes '_' (an empty one is "-").  seq 0 leaves SD out ("-").
 */
void fmt_rfc5424_header(struct ev_buf *b, unsigned pri, int64_t ts_us, const char *hostname,
    const char *app, long procid, const char *msgid, uint32_t seq);

/* The suffix that ends a MSG cut to fit a datagram (documented in README). */
#define FMT_TRUNC_SUFFIX_FMT "...[truncated from %zu bytes]"

/*
 * Cut an RFC 5424 message (header of hdr_len bytes, then MSG) to at most
 * max bytes: MSG is cut at a UTF-8 boundary and FMT_TRUNC_SUFFIX_FMT added.
 * The header is never cut (max must exceed hdr_len + 40).  Writes the
 * result to out; returns true if it had to cut.
 */
bool fmt_syslog_cut(const char *msg, size_t len, size_t hdr_len, size_t max, struct ev_buf *out);

/* RFC 6587 s3.4.1 octet counting: "LEN SP MSG" header for a message of len bytes. */
int fmt_octet_count(char *out, size_t outsz, size_t len);

#endif /* TLSENTRY_FORMAT_H */
