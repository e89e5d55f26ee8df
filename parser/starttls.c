/*
 * starttls.c: which cleartext protocol a connection spoke before its TLS.
 *
 * Distrusts: both byte strings.  Every read goes through an rd cursor, each
 * side is walked a fixed number of times per protocol, nothing is
 * allocated and nothing recurses.  Owns nothing.
 *
 * Method.  For each protocol each side gets a level:
 *   NO     the bytes cannot be this protocol;
 *   MAYBE  nothing yet (empty), or a valid start that was cut;
 *   CTX    this protocol's greeting or framing, but no upgrade seen;
 *   UP     the upgrade itself: the client's command, or the server's
 *          go-ahead together with what makes it unambiguous.
 * A protocol qualifies when one side is UP and the other at least MAYBE.
 * Where the client's command is shared by several protocols (a bare
 * "STARTTLS" line: NNTP, ManageSieve, IRC) its UP needs the server's CTX.
 * The answer is the one protocol that qualifies; none or several give NULL.
 * UP evidence belongs to one protocol only, so cutting a transcript can
 * lose its name but cannot make another one qualify.
 */
#include <stdbool.h>
#include <string.h>

#include "pstat.h"
#include "rd.h"
#include "starttls.h"

enum lvl { L_NO = 0, L_MAYBE, L_CTX, L_UP };

/* How a view's first bytes compare with a string. */
enum { M_NO = 0, M_PART, M_FULL };

/* ------------------------------------------------------------ text helpers */

static uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

static bool
is_alpha(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* M_FULL: the unread bytes start with s; M_PART: they end before s does. */
static int
match(const struct rd *r, const char *s, bool ci)
{
	struct rd t = *r;
	uint8_t c;

	for (; *s != '\0'; s++) {
		if (!rd_u8(&t, &c))
			return M_PART;
		if (ci ? lower(c) != lower((uint8_t)*s) : c != (uint8_t)*s)
			return M_NO;
	}
	return M_FULL;
}

/* Consume s if the unread bytes start with it. */
static bool
eat(struct rd *r, const char *s, bool ci)
{
	if (match(r, s, ci) != M_FULL)
		return false;
	(void)rd_skip(r, strlen(s));
	return true;
}

static size_t
skip_blanks(struct rd *r)
{
	size_t n = 0;
	uint8_t c;

	while (rd_peek_u8(r, 0, &c) && (c == ' ' || c == '\t')) {
		(void)rd_skip(r, 1);
		n++;
	}
	return n;
}

/* Is the rest of r blanks only? */
static bool
only_blanks(const struct rd *r)
{
	struct rd t = *r;

	(void)skip_blanks(&t);
	return rd_done(&t);
}

/*
 * Does line start with w, followed by one of the bytes in ends or by the
 * end of the line?  cut: the line was cut short, so an end of bytes is
 * M_PART (it may go on) rather than an answer.
 */
static int
starts(const struct rd *line, const char *w, const char *ends, bool ci, bool cut)
{
	struct rd t = *line;
	uint8_t c;
	int m = match(&t, w, ci);

	if (m == M_PART)
		return cut ? M_PART : M_NO;
	if (m == M_NO)
		return M_NO;
	(void)rd_skip(&t, strlen(w));
	if (!rd_peek_u8(&t, 0, &c))
		return cut ? M_PART : M_FULL;
	return c != '\0' && strchr(ends, c) != NULL ? M_FULL : M_NO;
}

/* The whole line is s (case-insensitive), give or take trailing blanks. */
static bool
line_is(const struct rd *line, const char *s)
{
	struct rd t = *line;

	return eat(&t, s, true) && only_blanks(&t);
}

/*
 * Next complete line: the bytes up to a LF, without it and without a CR
 * before it.  False when no LF is left; what remains is then a cut line.
 */
static bool
line_next(struct rd *r, struct rd *line)
{
	const uint8_t *lf;
	size_t n;
	uint8_t c;

	if (rd_left(r) == 0 || (lf = memchr(rd_ptr(r), '\n', rd_left(r))) == NULL)
		return false;
	n = (size_t)(lf - rd_ptr(r));
	if (!rd_sub(r, n, line) || !rd_skip(r, 1))
		return false;			/* cannot happen: the LF is in r */
	if (n > 0 && rd_peek_u8(line, n - 1, &c) && c == '\r')
		line->len--;
	return true;
}

/* The first line of a side; false when it is cut (no LF in the bytes). */
static bool
first_line(const struct rd *side, struct rd *line)
{
	struct rd t = *side;

	if (line_next(&t, line))
		return true;
	*line = t;
	return false;
}

/* Does line hold the word w, delimited by the line's ends or bytes in delims? */
static bool
has_word(const struct rd *line, const char *w, const char *delims, bool ci)
{
	struct rd t = *line;
	size_t n = strlen(w);
	uint8_t c;

	while (rd_left(&t) >= n) {
		if (eat(&t, w, ci) &&
		    (!rd_peek_u8(&t, 0, &c) || (c != '\0' && strchr(delims, c) != NULL)))
			return true;
		/* not here: skip to after the next delimiter */
		while (rd_u8(&t, &c) && (c == '\0' || strchr(delims, c) == NULL))
			;
	}
	return false;
}

/* Offset of the first s in r (case-sensitive), or false. */
static bool
find(const struct rd *r, const char *s, size_t *at)
{
	struct rd t = *r;
	size_t n = strlen(s);
	const uint8_t *hit;

	while (rd_left(&t) >= n) {
		hit = memchr(rd_ptr(&t), (uint8_t)s[0], rd_left(&t) - n + 1);
		if (hit == NULL)
			return false;
		(void)rd_skip(&t, (size_t)(hit - rd_ptr(&t)));
		if (match(&t, s, false) == M_FULL) {
			*at = t.off - r->off;
			return true;
		}
		(void)rd_skip(&t, 1);
	}
	return false;
}

/*
 * A command line: a keyword of min..max letters, then the end of the line
 * or a space and arguments.  cut: the line was cut short.
 */
static bool
kw_line(const struct rd *line, size_t min, size_t max, bool cut)
{
	struct rd t = *line;
	size_t n = 0;
	uint8_t c;

	while (rd_peek_u8(&t, 0, &c) && is_alpha(c)) {
		(void)rd_skip(&t, 1);
		n++;
	}
	if (n > max)
		return false;
	if (rd_done(&t))
		return cut || n >= min;
	return n >= min && c == ' ';
}

/*
 * A client side made of command lines (kw_line) of which one, whole, is
 * one of ups[]: UP.  Only command lines: MAYBE.  Anything else: NO.
 */
static enum lvl
cmd_client(const struct rd *side, size_t min, size_t max, const char *const *ups)
{
	struct rd t = *side, line;

	while (line_next(&t, &line)) {
		if (!kw_line(&line, min, max, false))
			return L_NO;
		for (const char *const *u = ups; *u != NULL; u++)
			if (line_is(&line, *u))
				return L_UP;
	}
	return rd_done(&t) || kw_line(&t, min, max, true) ? L_MAYBE : L_NO;
}

/*
 * A client side whose lines all start with one of the known[] commands
 * (a keyword, then the end of the line or a space); UP when one whole line
 * is one of ups[].  For protocols whose upgrade command is shared, this
 * keeps another protocol's client (an SMTP EHLO) from passing.
 */
static enum lvl
known_client(const struct rd *side, const char *const *known, const char *const *ups)
{
	struct rd t = *side, line;
	const char *const *k;

	while (line_next(&t, &line)) {
		for (k = known; *k != NULL; k++)
			if (starts(&line, *k, " ", true, false) == M_FULL)
				break;
		if (*k == NULL)
			return L_NO;
		for (const char *const *u = ups; *u != NULL; u++)
			if (line_is(&line, *u))
				return L_UP;
	}
	if (rd_done(&t))
		return L_MAYBE;
	for (k = known; *k != NULL; k++)
		if (starts(&t, *k, " ", true, true) != M_NO)
			return L_MAYBE;
	return L_NO;
}

/* Level of a side from the first line's match against its greeting. */
static enum lvl
greeting_lvl(int m)
{
	return m == M_FULL ? L_CTX : m == M_PART ? L_MAYBE : L_NO;
}

/* A reply line "ddd" SP/"-" text (RFC 5321 s4.2, RFC 959 s4.2 layout). */
static int
reply(const struct rd *line, const char *code, bool cut)
{
	return starts(line, code, " -", false, cut);
}

/* ------------------------------------------------------------ SMTP, LMTP */

/*
 * SMTP client (RFC 5321 s4.1.1.1; RFC 3207 s4): EHLO (or HELO) first, then
 * a "STARTTLS" line.  LMTP (RFC 2033 s4.1) greets with LHLO instead.
 * Verbs are case-insensitive (RFC 5321 s2.4).
 */
static enum lvl
mta_client(const struct rd *side, bool lmtp)
{
	struct rd t = *side, line;
	bool cut;
	int m;

	if (rd_done(side))
		return L_MAYBE;
	cut = !first_line(side, &line);
	m = starts(&line, lmtp ? "LHLO" : "EHLO", " ", true, cut);
	if (!lmtp && m == M_NO)
		m = starts(&line, "HELO", " ", true, cut);
	if (m != M_FULL)
		return m == M_PART ? L_MAYBE : L_NO;
	while (line_next(&t, &line))
		if (line_is(&line, "STARTTLS"))
			return L_UP;
	return L_CTX;
}

/*
 * SMTP/LMTP server (RFC 5321 s4.2, s4.3.1; RFC 3207 s4; RFC 2033 s4.1):
 * the greeting is a 220 reply, the EHLO/LHLO reply lists the STARTTLS
 * keyword on a 250 line, and the go-ahead is another 220.  The two share
 * all of that, so the server alone is UP only when its greeting names the
 * protocol as a word: "ESMTP" or "SMTP", or "LMTP".
 */
static enum lvl
mta_server(const struct rd *side, bool lmtp)
{
	struct rd t = *side, line, kw;
	bool cut, named = false, offered = false;
	int m;

	if (rd_done(side))
		return L_MAYBE;
	cut = !first_line(side, &line);
	m = reply(&line, "220", cut);
	if (m != M_FULL || cut)
		return greeting_lvl(m == M_NO ? M_NO : M_PART);
	while (line_next(&t, &line)) {
		if (reply(&line, "220", false) == M_FULL) {
			if (offered)
				return named ? L_UP : L_CTX;
			named = named || (lmtp ? has_word(&line, "LMTP", " ", true) :
			    has_word(&line, "ESMTP", " ", true) || has_word(&line, "SMTP", " ", true));
		} else if (reply(&line, "250", false) == M_FULL) {
			kw = line;
			(void)rd_skip(&kw, 4);
			offered = offered || line_is(&kw, "STARTTLS");
		}
	}
	return L_CTX;
}

static enum lvl smtp_client(const struct rd *s) { return mta_client(s, false); }
static enum lvl smtp_server(const struct rd *s) { return mta_server(s, false); }
static enum lvl lmtp_client(const struct rd *s) { return mta_client(s, true); }
static enum lvl lmtp_server(const struct rd *s) { return mta_server(s, true); }

/* ------------------------------------------------------------ FTP */

/*
 * FTP client (RFC 959 s5.3.1: commands are 3 or 4 letters; RFC 4217 s4:
 * "AUTH TLS"; RFC 2228 s3 AUTH with the mechanism names "SSL", "TLS-C"
 * and "TLS-P" that clients used before RFC 4217).
 */
static enum lvl
ftp_client(const struct rd *side)
{
	static const char *const ups[] = {
		"AUTH TLS", "AUTH SSL", "AUTH TLS-C", "AUTH TLS-P", NULL
	};

	return cmd_client(side, 3, 4, ups);
}

/*
 * FTP server (RFC 959 s4.2 reply layout, s5.4: the greeting is 220, maybe
 * after 120 "service ready in n minutes"); RFC 4217 s4: 234 accepts AUTH.
 * Lines inside a multi-line reply that begin with digits are padded by the
 * server (RFC 959 s4.2), so a line starting "234" is a reply.
 */
static enum lvl
ftp_server(const struct rd *side)
{
	struct rd t = *side, line;
	bool cut;
	int m;

	if (rd_done(side))
		return L_MAYBE;
	cut = !first_line(side, &line);
	m = reply(&line, "220", cut);
	if (m == M_NO)
		m = reply(&line, "120", cut);
	if (m != M_FULL || cut)
		return greeting_lvl(m == M_NO ? M_NO : M_PART);
	while (line_next(&t, &line))
		if (reply(&line, "234", false) == M_FULL)
			return L_UP;
	return L_CTX;
}

/* ------------------------------------------------------------ POP3 */

/* POP3 client (RFC 1939 s3: keywords of 3 or 4 letters; RFC 2595 s4: STLS). */
static enum lvl
pop3_client(const struct rd *side)
{
	static const char *const ups[] = { "STLS", NULL };

	return cmd_client(side, 3, 4, ups);
}

/*
 * POP3 server (RFC 1939 s4: the greeting is "+OK"; RFC 2449 s5: the CAPA
 * reply lists "STLS" on a line of its own, RFC 2595 s4; STLS is answered
 * "+OK").  The server alone is UP only with the STLS capability line and
 * a later +OK: a greeting and two +OK prove nothing.
 */
static enum lvl
pop3_server(const struct rd *side)
{
	struct rd t = *side, line;
	bool cut, stls = false;

	if (rd_done(side))
		return L_MAYBE;
	cut = !first_line(side, &line);
	if (starts(&line, "+OK", " ", false, cut) != M_FULL || cut)
		return greeting_lvl(starts(&line, "+OK", " ", false, cut) == M_NO ? M_NO : M_PART);
	while (line_next(&t, &line)) {
		if (line_is(&line, "STLS"))
			stls = true;
		else if (stls && starts(&line, "+OK", " ", false, false) == M_FULL)
			return L_UP;
	}
	return L_CTX;
}

/* ------------------------------------------------------------ IMAP */

/* tag = 1*<any ASTRING-CHAR except "+"> (RFC 3501 s9, RFC 9051 s9) */
static bool
imap_tag_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

static size_t
imap_tag(struct rd *r)
{
	size_t n = 0;
	uint8_t c;

	while (rd_peek_u8(r, 0, &c) && imap_tag_char(c)) {
		(void)rd_skip(r, 1);
		n++;
	}
	return n;
}

/*
 * A client command line "tag SP command [SP args]".  *up: it is
 * "tag STARTTLS" and nothing else.
 */
static int
imap_cmd(const struct rd *line, bool cut, bool *up)
{
	struct rd t = *line, cmd;
	size_t n;
	uint8_t c;

	*up = false;
	n = imap_tag(&t);
	if (rd_done(&t))
		return cut ? M_PART : M_NO;
	if (n == 0 || !eat(&t, " ", false))
		return M_NO;
	cmd = t;
	for (n = 0; rd_peek_u8(&t, 0, &c) && is_alpha(c); n++)
		(void)rd_skip(&t, 1);
	if (rd_done(&t) && cut)
		return M_PART;
	if (n == 0 || (!rd_done(&t) && c != ' '))
		return M_NO;
	*up = line_is(&cmd, "STARTTLS");
	return M_FULL;
}

/* IMAP client (RFC 3501 s6.2.1, RFC 9051 s6.2.1): "tag STARTTLS". */
static enum lvl
imap_client(const struct rd *side)
{
	struct rd t = *side, line;
	bool up;

	while (line_next(&t, &line)) {
		if (imap_cmd(&line, false, &up) != M_FULL)
			return L_NO;
		if (up)
			return L_UP;
	}
	return rd_done(&t) || imap_cmd(&t, true, &up) != M_NO ? L_MAYBE : L_NO;
}

/* A tagged OK: "tag OK" [SP text] (RFC 3501 s7.1.1); never "*" or "+". */
static bool
imap_tagged_ok(const struct rd *line)
{
	struct rd t = *line;

	return imap_tag(&t) > 0 && starts(&t, " OK", " ", true, false) == M_FULL;
}

/*
 * IMAP server (RFC 3501 s7.1, s7.2.1; RFC 9051 the same): the greeting is
 * "* OK"; STARTTLS is a capability atom, in a "* CAPABILITY" response or a
 * "[CAPABILITY ...]" response code; the go-ahead is a tagged OK.
 */
static enum lvl
imap_server(const struct rd *side)
{
	struct rd t = *side, line;
	bool cut, cap = false;
	int m;

	if (rd_done(side))
		return L_MAYBE;
	cut = !first_line(side, &line);
	m = starts(&line, "* OK", " [", true, cut);
	if (m != M_FULL || cut)
		return greeting_lvl(m == M_NO ? M_NO : M_PART);
	while (line_next(&t, &line)) {
		size_t at;
		struct rd caps = line;

		if (starts(&line, "* CAPABILITY", " ", true, false) == M_FULL ||
		    (find(&line, "[CAPABILITY ", &at) && rd_skip(&caps, at))) {
			if (has_word(&caps, "STARTTLS", " ]", true))
				cap = true;
		} else if (cap && imap_tagged_ok(&line)) {
			return L_UP;
		}
	}
	return L_CTX;
}

/* ------------------------------------------------------------ XMPP */

#define XMPP_STREAMS_NS "http://etherx.jabber.org/streams"
#define XMPP_TLS_NS "urn:ietf:params:xml:ns:xmpp-tls"

/*
 * XMPP (RFC 6120 s4.2, s4.8.1: the stream header in the namespace
 * http://etherx.jabber.org/streams; s5.4.2.1 <starttls/> from the client,
 * s5.4.2.3 <proceed/> from the server, both in the namespace
 * urn:ietf:params:xml:ns:xmpp-tls).  Both sides: XML from the first
 * non-blank byte, CTX with the stream namespace, UP with elem whose own
 * tag carries the TLS namespace.  Client-to-server and server-to-server
 * streams are both "xmpp".
 */
static enum lvl
xmpp_side(const struct rd *side, const char *elem)
{
	struct rd t = *side, tag;
	const uint8_t *gt;
	size_t at, n, dummy;
	uint8_t c;

	while (rd_peek_u8(&t, 0, &c) && (c == ' ' || c == '\t' || c == '\r' || c == '\n'))
		(void)rd_skip(&t, 1);
	if (rd_done(&t))
		return L_MAYBE;
	if (c != '<')
		return L_NO;
	if (!find(&t, XMPP_STREAMS_NS, &dummy))
		return L_MAYBE;
	if (!find(&t, elem, &at))
		return L_CTX;
	(void)rd_skip(&t, at);
	gt = memchr(rd_ptr(&t), '>', rd_left(&t));
	n = gt != NULL ? (size_t)(gt - rd_ptr(&t)) : rd_left(&t);
	if (!rd_sub(&t, n, &tag))
		return L_CTX;			/* cannot happen: n <= rd_left */
	return find(&tag, XMPP_TLS_NS, &dummy) && gt != NULL ? L_UP : L_CTX;
}

static enum lvl xmpp_client(const struct rd *s) { return xmpp_side(s, "<starttls"); }
static enum lvl xmpp_server(const struct rd *s) { return xmpp_side(s, "<proceed"); }

/* ------------------------------------------------------------ LDAP */

/* 1.3.6.1.4.1.1466.20037, the StartTLS extended operation (RFC 4511 s4.14.1) */
#define LDAP_STARTTLS_OID "1.3.6.1.4.1.1466.20037"

/*
 * One BER TLV with a one-byte tag and a definite length (X.690 s8.1.2,
 * s8.1.3; LDAP allows only the definite form, RFC 4511 s5.1).  P_MORE when
 * the bytes end inside it, P_BAD when it cannot be BER.
 */
static int
ber_tlv(struct rd *r, uint8_t *tag, struct rd *val)
{
	struct rd save = *r;
	uint8_t b, n;
	size_t len = 0;

	if (!rd_u8(r, tag) || !rd_u8(r, &b))
		goto more;
	if ((*tag & 0x1f) == 0x1f)		/* high tag numbers: not in LDAP */
		goto bad;
	if (b & 0x80) {
		n = b & 0x7f;
		if (n == 0 || n > 4)		/* indefinite, or over 4 GB */
			goto bad;
		for (; n > 0; n--) {
			if (!rd_u8(r, &b))
				goto more;
			len = len << 8 | b;
		}
	} else {
		len = b;
	}
	if (!rd_sub(r, len, val))
		goto more;
	return P_OK;
more:
	*r = save;
	return P_MORE;
bad:
	*r = save;
	return P_BAD;
}

/* Is v an OCTET STRING-like value equal to s? */
static bool
ber_eq(const struct rd *v, const char *s)
{
	struct rd t = *v;

	return eat(&t, s, false) && rd_done(&t);
}

/*
 * One LDAPMessage (RFC 4511 s4.1.1):
 *   LDAPMessage ::= SEQUENCE { messageID INTEGER (0..maxInt),
 *       protocolOp CHOICE { ... [APPLICATION n] ... },
 *       controls [0] Controls OPTIONAL }
 * and within it the two StartTLS operations (s4.12, s4.14):
 *   ExtendedRequest  ::= [APPLICATION 23] SEQUENCE {
 *       requestName [0] LDAPOID, requestValue [1] OCTET STRING OPTIONAL }
 *   ExtendedResponse ::= [APPLICATION 24] SEQUENCE {
 *       COMPONENTS OF LDAPResult (resultCode ENUMERATED, matchedDN,
 *       diagnosticMessage, referral [3] OPTIONAL),
 *       responseName [10] LDAPOID OPTIONAL, responseValue [11] OPTIONAL }
 * *op: the protocolOp tag.  *starttls: a StartTLS request, or a successful
 * response that names StartTLS (the name is optional in a response,
 * s4.14.2, and servers often leave it out).
 */
static int
ldap_msg(struct rd *r, uint8_t *op_tag, bool *starttls)
{
	struct rd msg, v, op, code;
	uint8_t tag, b;
	int st;

	*starttls = false;
	if ((st = ber_tlv(r, &tag, &msg)) != P_OK)
		return st;
	if (tag != 0x30 || ber_tlv(&msg, &tag, &v) != P_OK || tag != 0x02 ||
	    v.len < 1 || v.len > 4 || !rd_peek_u8(&v, 0, &b) || (b & 0x80))
		return P_BAD;
	if (ber_tlv(&msg, op_tag, &op) != P_OK || (*op_tag & 0xc0) != 0x40)
		return P_BAD;			/* protocolOp is [APPLICATION n] */
	if (!rd_done(&msg) && (ber_tlv(&msg, &tag, &v) != P_OK || tag != 0xa0 || !rd_done(&msg)))
		return P_BAD;			/* only controls may follow */
	if (*op_tag == 0x77) {			/* ExtendedRequest */
		if (ber_tlv(&op, &tag, &v) != P_OK || tag != 0x80)
			return P_BAD;
		*starttls = ber_eq(&v, LDAP_STARTTLS_OID);
	} else if (*op_tag == 0x78) {		/* ExtendedResponse */
		if (ber_tlv(&op, &tag, &code) != P_OK || tag != 0x0a ||
		    ber_tlv(&op, &tag, &v) != P_OK || tag != 0x04 ||
		    ber_tlv(&op, &tag, &v) != P_OK || tag != 0x04)
			return P_BAD;
		if (rd_peek_u8(&op, 0, &b) && b == 0xa3 && ber_tlv(&op, &tag, &v) != P_OK)
			return P_BAD;		/* referral */
		*starttls = code.len == 1 && rd_peek_u8(&code, 0, &b) && b == 0 &&
		    ber_tlv(&op, &tag, &v) == P_OK && tag == 0x8a &&
		    ber_eq(&v, LDAP_STARTTLS_OID);
	}
	return P_OK;
}

/*
 * LDAP, either side (RFC 4511 s4.14, RFC 4513 s3): a run of whole
 * LDAPMessages, one of them the StartTLS request (client, want 0x77) or
 * its successful, named response (server, want 0x78).  A server that
 * leaves the name out shows only CTX; the client's request then decides.
 */
static enum lvl
ldap_side(const struct rd *side, uint8_t want)
{
	struct rd t = *side;
	uint8_t op;
	bool starttls;
	int st;

	while (!rd_done(&t)) {
		st = ldap_msg(&t, &op, &starttls);
		if (st == P_MORE)
			return L_MAYBE;
		if (st != P_OK)
			return L_NO;
		if (starttls && op == want)
			return L_UP;
	}
	return rd_done(side) ? L_MAYBE : L_CTX;
}

static enum lvl ldap_client(const struct rd *s) { return ldap_side(s, 0x77); }
static enum lvl ldap_server(const struct rd *s) { return ldap_side(s, 0x78); }

/* ------------------------------------------------------------ PostgreSQL */

/*
 * PostgreSQL (protocol docs, "Message Formats": SSLRequest and
 * GSSENCRequest; "SSL Session Encryption", "GSSAPI Session Encryption"):
 * the client's first message is SSLRequest, Int32 length 8 and Int32 code
 * 80877103, possibly after a GSSENCRequest (code 80877104) the server
 * refused with the byte 'N'; the server accepts TLS with the byte 'S'.
 * Nothing else may come before TLS, so the bytes must be exactly that.
 * The server's one byte proves nothing: it is never more than MAYBE.
 */
static const uint8_t pg_ssl_request[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f };
static const uint8_t pg_gssenc_request[8] = { 0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30 };

/* M_FULL: r holds exactly b; M_PART: r is a proper prefix of b. */
static int
bytes_are(const struct rd *r, const uint8_t *b, size_t n)
{
	struct rd t = *r;
	uint8_t c;

	for (size_t i = 0; i < n; i++) {
		if (!rd_u8(&t, &c))
			return M_PART;
		if (c != b[i])
			return M_NO;
	}
	return rd_done(&t) ? M_FULL : M_NO;
}

static enum lvl
pg_client(const struct rd *side)
{
	struct rd t = *side, gss;
	int m;

	/* GSSENCRequest, then SSLRequest */
	if (rd_left(&t) > sizeof(pg_gssenc_request) &&
	    rd_sub(&t, sizeof(pg_gssenc_request), &gss) &&
	    bytes_are(&gss, pg_gssenc_request, sizeof(pg_gssenc_request)) == M_FULL) {
		m = bytes_are(&t, pg_ssl_request, sizeof(pg_ssl_request));
		return m == M_FULL ? L_UP : m == M_PART ? L_MAYBE : L_NO;
	}
	t = *side;
	m = bytes_are(&t, pg_ssl_request, sizeof(pg_ssl_request));
	if (m == M_NO && bytes_are(&t, pg_gssenc_request, sizeof(pg_gssenc_request)) != M_NO)
		m = M_PART;			/* a GSSENCRequest alone: no TLS yet */
	return m == M_FULL ? L_UP : m == M_PART ? L_MAYBE : L_NO;
}

static enum lvl
pg_server(const struct rd *side)
{
	static const char *const ok[] = { "", "S", "N", "NS" };
	struct rd t = *side;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (bytes_are(&t, (const uint8_t *)ok[i], strlen(ok[i])) == M_FULL)
			return L_MAYBE;
	return L_NO;
}

/* ------------------------------------------------------------ MySQL */

#define MYSQL_CLIENT_PROTOCOL_41 0x0200u
#define MYSQL_CLIENT_SSL 0x0800u

/* Little-endian integers (MySQL docs, "Integer Types": int<n>). */
static bool
rd_le(struct rd *r, size_t n, uint32_t *v)
{
	uint32_t x = 0;
	uint8_t b = 0;

	if (rd_left(r) < n)
		return false;
	for (size_t i = 0; i < n; i++) {
		(void)rd_u8(r, &b);
		x |= (uint32_t)b << (8 * i);
	}
	*v = x;
	return true;
}

/*
 * MySQL packet header (docs, "MySQL Packets"): int<3> payload_length,
 * int<1> sequence_id.  The side must be exactly one packet: *cut says the
 * bytes end inside it.
 */
static int
mysql_packet(struct rd *r, uint32_t want_len, uint8_t want_seq, struct rd *payload)
{
	uint32_t len, seq;

	*payload = rd_init(NULL, 0);
	if (!rd_le(r, 3, &len) || !rd_le(r, 1, &seq))
		return P_MORE;
	if (seq != want_seq || (want_len != 0 && len != want_len) || len == 0 ||
	    rd_left(r) > len)
		return P_BAD;
	(void)rd_sub(r, rd_left(r), payload);
	return rd_left(payload) < len ? P_MORE : P_OK;
}

/*
 * Server greeting (docs, "Protocol::HandshakeV10"): int<1> protocol
 * version 10, string<NUL> server version, int<4> connection id,
 * string<8> auth-plugin-data part 1, int<1> filler 0, int<2> the low
 * capability flags, where CLIENT_SSL says TLS is offered; more follows.
 * CTX when all of that is there and TLS is offered.
 */
static enum lvl
mysql_server(const struct rd *side)
{
	struct rd t = *side, pl;
	uint32_t caps;
	uint8_t c;
	int st;

	if (rd_done(side))
		return L_MAYBE;
	if ((st = mysql_packet(&t, 0, 0, &pl)) == P_BAD)
		return L_NO;
	if (!rd_u8(&pl, &c))
		return L_MAYBE;
	if (c != 10)
		return L_NO;
	while (rd_u8(&pl, &c) && c != 0)
		if (c < 0x20 || c > 0x7e)
			return L_NO;		/* a version string is printable */
	if (c != 0 || !rd_skip(&pl, 4 + 8) || !rd_u8(&pl, &c))
		return st == P_MORE ? L_MAYBE : L_NO;
	if (c != 0)
		return L_NO;
	if (!rd_le(&pl, 2, &caps))
		return st == P_MORE ? L_MAYBE : L_NO;
	if (!(caps & MYSQL_CLIENT_SSL))
		return L_NO;
	return st == P_MORE ? L_MAYBE : L_CTX;
}

/*
 * Client SSLRequest (docs, "Protocol::SSLRequest"), sequence 1, 32 bytes:
 * int<4> capability flags with CLIENT_SSL and CLIENT_PROTOCOL_41,
 * int<4> max packet size, int<1> character set, string<23> filler of
 * zeros, except that MariaDB keeps extended capabilities in its last 4.
 */
static enum lvl
mysql_client(const struct rd *side)
{
	struct rd t = *side, pl;
	uint32_t caps, v;
	uint8_t c;
	int st;

	if (rd_done(side))
		return L_MAYBE;
	if ((st = mysql_packet(&t, 32, 1, &pl)) == P_BAD)
		return L_NO;
	if (!rd_le(&pl, 4, &caps))
		return L_MAYBE;
	if ((caps & (MYSQL_CLIENT_SSL | MYSQL_CLIENT_PROTOCOL_41)) !=
	    (MYSQL_CLIENT_SSL | MYSQL_CLIENT_PROTOCOL_41))
		return L_NO;
	if (!rd_le(&pl, 4, &v) || !rd_u8(&pl, &c))
		return L_MAYBE;
	for (int i = 0; i < 19; i++) {
		if (!rd_u8(&pl, &c))
			return L_MAYBE;
		if (c != 0)
			return L_NO;
	}
	return st == P_OK ? L_UP : L_MAYBE;
}

/* ------------------------------------------------------------ NNTP */

/*
 * NNTP client (RFC 3977 s3.1: a keyword, then arguments; RFC 4642 s2.2:
 * "STARTTLS", before any authentication).  Before it, a client has reason
 * to send only what RFC 3977 allows in any state: CAPABILITIES, MODE
 * READER, DATE, HELP, LIST.  The bare command also exists in ManageSieve
 * and IRC, so the client's UP needs the server's CTX (see protos[]).
 */
static enum lvl
nntp_client(const struct rd *side)
{
	static const char *const known[] = {
		"CAPABILITIES", "MODE", "DATE", "HELP", "LIST", "STARTTLS", NULL
	};
	static const char *const ups[] = { "STARTTLS", NULL };

	return known_client(side, known, ups);
}

/*
 * NNTP server (RFC 3977 s5.1.1: the greeting is 200 or 201; RFC 4642
 * s2.2.2: 382 "continue with TLS negotiation").
 */
static enum lvl
nntp_server(const struct rd *side)
{
	struct rd t = *side, line;
	bool cut;
	int m;

	if (rd_done(side))
		return L_MAYBE;
	cut = !first_line(side, &line);
	m = starts(&line, "200", " ", false, cut);
	if (m == M_NO)
		m = starts(&line, "201", " ", false, cut);
	if (m != M_FULL || cut)
		return greeting_lvl(m == M_NO ? M_NO : M_PART);
	while (line_next(&t, &line))
		if (starts(&line, "382", " ", false, false) == M_FULL)
			return L_UP;
	return L_CTX;
}

/* ------------------------------------------------------------ ManageSieve */

/*
 * ManageSieve client (RFC 5804 s2.2: "STARTTLS"; before authentication
 * the other commands that make sense are CAPABILITY and NOOP, s2.4, s2.11).
 */
static enum lvl
sieve_client(const struct rd *side)
{
	static const char *const known[] = { "CAPABILITY", "NOOP", "STARTTLS", NULL };
	static const char *const ups[] = { "STARTTLS", NULL };

	return known_client(side, known, ups);
}

/*
 * ManageSieve server (RFC 5804 s1.7, s2.2): the greeting is the capability
 * list, one quoted name (and maybe a quoted value) per line, which MUST
 * include "IMPLEMENTATION", ended by an OK response; STARTTLS is offered as
 * the "STARTTLS" capability and answered with OK.  CTX: a whole greeting
 * with IMPLEMENTATION.  UP: STARTTLS offered and an OK after the greeting.
 */
static enum lvl
sieve_server(const struct rd *side)
{
	struct rd t = *side, line;
	bool greeting = true, impl = false, tls = false;

	if (rd_done(side))
		return L_MAYBE;
	while (line_next(&t, &line)) {
		if (!greeting) {
			if (tls && starts(&line, "OK", " ", true, false) == M_FULL)
				return L_UP;
		} else if (match(&line, "\"", false) == M_FULL) {
			impl = impl || starts(&line, "\"IMPLEMENTATION\"", " ", true, false) == M_FULL;
			tls = tls || starts(&line, "\"STARTTLS\"", " ", true, false) == M_FULL;
		} else if (starts(&line, "OK", " ", true, false) == M_FULL && impl) {
			greeting = false;
		} else {
			return L_NO;
		}
	}
	if (!greeting)
		return L_CTX;
	/* still in the greeting: the cut line must be able to go on */
	return rd_done(&t) || match(&t, "\"", false) == M_FULL ||
	    (impl && match(&t, "OK", true) != M_NO) ? L_MAYBE : L_NO;
}

/* ------------------------------------------------------------ IRC */

/*
 * One IRC message (RFC 1459 s2.3.1, RFC 2812 s2.3.1):
 *   [":" prefix SPACE] command [params], command = 1*letter / 3digit,
 * SPACE being one or more spaces.  *cmd: the command.
 */
static int
irc_msg(const struct rd *line, bool cut, struct rd *cmd, bool *prefixed)
{
	struct rd t = *line;
	size_t n = 0;
	bool digits;
	uint8_t c = 0;

	*prefixed = eat(&t, ":", false);
	if (*prefixed) {
		while (rd_peek_u8(&t, 0, &c) && c != ' ' && c != '\0') {
			(void)rd_skip(&t, 1);
			n++;
		}
		if (rd_done(&t))
			return cut ? M_PART : M_NO;
		if (n == 0)
			return M_NO;
		while (eat(&t, " ", false))
			;
	}
	*cmd = t;
	digits = rd_peek_u8(&t, 0, &c) && is_digit(c);
	while (rd_peek_u8(&t, 0, &c) && (digits ? is_digit(c) : is_alpha(c)))
		(void)rd_skip(&t, 1);
	cmd->len = t.off;			/* the view ends after the command */
	n = rd_left(cmd);
	if (digits && n > 3)
		return M_NO;
	if (rd_done(&t) && cut)
		return M_PART;
	if (digits ? n != 3 : n == 0)
		return M_NO;
	return rd_done(&t) || c == ' ' ? M_FULL : M_NO;
}

/*
 * IRC, either side (IRCv3 "tls" extension, RPL_STARTTLS 670): the client
 * sends "STARTTLS", the server answers with numeric 670 (691 is the
 * failure).  A server prefixes its messages with its name (RFC 2812 s2.3),
 * which is its CTX.
 */
static enum lvl
irc_side(const struct rd *side, bool client)
{
	struct rd t = *side, line, cmd;
	bool first = true, ctx = false, prefixed;

	if (rd_done(side))
		return L_MAYBE;
	while (line_next(&t, &line)) {
		if (rd_done(&line))
			continue;		/* empty messages are ignored */
		if (irc_msg(&line, false, &cmd, &prefixed) != M_FULL)
			return L_NO;
		if (client && line_is(&line, "STARTTLS"))
			return L_UP;
		if (!client && line_is(&cmd, "670"))
			return L_UP;
		if (!client && first && (prefixed || line_is(&cmd, "NOTICE")))
			ctx = true;
		first = false;
	}
	if (!rd_done(&t) && irc_msg(&t, true, &cmd, &prefixed) == M_NO)
		return L_NO;
	return ctx ? L_CTX : L_MAYBE;
}

static enum lvl irc_client(const struct rd *s) { return irc_side(s, true); }
static enum lvl irc_server(const struct rd *s) { return irc_side(s, false); }

/* ------------------------------------------------------------ HTTP CONNECT */

/*
 * HTTP CONNECT (RFC 9110 s9.3.6; RFC 9112 s3 request-line, s3.2.3
 * authority-form = uri-host ":" port): "CONNECT host:port HTTP/x.y".  The
 * method is case-sensitive (RFC 9110 s9.1).  UP on a whole request line.
 */
static enum lvl
http_client(const struct rd *side)
{
	struct rd line, t;
	bool cut, colon = false;
	size_t port = 0;
	uint8_t c = 0, d = 0;

	if (rd_done(side))
		return L_MAYBE;
	cut = !first_line(side, &line);
	if (starts(&line, "CONNECT", " ", false, cut) != M_FULL)
		return starts(&line, "CONNECT", " ", false, cut) == M_PART ? L_MAYBE : L_NO;
	if (cut)
		return L_MAYBE;
	t = line;
	(void)rd_skip(&t, strlen("CONNECT "));
	while (rd_u8(&t, &c) && c != ' ') {
		if (c == ':') {
			colon = true;
			port = 0;
		} else if (c <= 0x20 || c >= 0x7f) {
			return L_NO;
		} else if (colon) {
			port = is_digit(c) ? port + 1 : 6;
		}
	}
	if (c != ' ' || !colon || port == 0 || port > 5 || !eat(&t, "HTTP/", false) ||
	    !rd_u8(&t, &c) || !is_digit(c) || !eat(&t, ".", false) || !rd_u8(&t, &d) ||
	    !is_digit(d) || !rd_done(&t))
		return L_NO;
	return L_UP;
}

/* The proxy's status line "HTTP/x.y ddd" (RFC 9112 s4). */
static enum lvl
http_server(const struct rd *side)
{
	struct rd line;
	bool cut;
	uint8_t c;
	int m;

	if (rd_done(side))
		return L_MAYBE;
	cut = !first_line(side, &line);
	m = match(&line, "HTTP/", false);
	if (m != M_FULL)
		return m == M_PART && cut ? L_MAYBE : L_NO;
	(void)rd_skip(&line, 5);
	for (const char *f = "d.d ddd"; *f != '\0'; f++) {
		if (!rd_u8(&line, &c))
			return cut ? L_MAYBE : L_NO;
		if (*f == 'd' ? !is_digit(c) : c != (uint8_t)*f)
			return L_NO;
	}
	/* then SP and a reason phrase, which may be empty */
	return rd_done(&line) || (rd_peek_u8(&line, 0, &c) && c == ' ') ? L_CTX : L_NO;
}

/* ------------------------------------------------------------ SOCKS */

/* A NUL-terminated string of at most max bytes before the NUL. */
static int
cstring(struct rd *r, size_t max, size_t *n)
{
	size_t k = rd_left(r) < max + 1 ? rd_left(r) : max + 1;
	const uint8_t *nul = memchr(rd_ptr(r), 0, k);

	if (nul == NULL)
		return k == rd_left(r) ? P_MORE : P_BAD;
	*n = (size_t)(nul - rd_ptr(r));
	(void)rd_skip(r, *n + 1);
	return P_OK;
}

/* SOCKS 5 address (RFC 1928 s4, s5): ATYP, then IPv4, name or IPv6, port. */
static int
socks5_addr(struct rd *r)
{
	uint8_t atyp, n = 0;

	if (!rd_u8(r, &atyp))
		return P_MORE;
	if (atyp == 3 && !rd_u8(r, &n))
		return P_MORE;
	if (atyp == 3 && n == 0)
		return P_BAD;
	if (atyp != 1 && atyp != 3 && atyp != 4)
		return P_BAD;
	return rd_skip(r, (atyp == 1 ? 4 : atyp == 4 ? 16 : n) + 2) ? P_OK : P_MORE;
}

/*
 * SOCKS client.  SOCKS 4 (the protocol document "SOCKS: A protocol for TCP
 * proxy across firewalls", and its 4A extension): VN=4 CD=1 (CONNECT)
 * DSTPORT(2) DSTIP(4) USERID NUL, and after a DSTIP of 0.0.0.x (x != 0) a
 * host name and NUL.  SOCKS 5 (RFC 1928 s3, s4; RFC 1929 s2): VER=5
 * NMETHODS(>= 1) METHODS, then maybe the username/password exchange VER=1
 * ULEN UNAME PLEN PASSWD, then VER=5 CMD=1 (CONNECT) RSV=0 and an address.
 * TLS comes next, so the bytes must end exactly there.
 */
static int
socks_client_st(struct rd *r)
{
	uint8_t v, b, n;
	uint32_t ip;
	size_t len;
	int st;

	if (!rd_u8(r, &v))
		return P_MORE;
	if (v == 4) {
		if (!rd_u8(r, &b))
			return P_MORE;
		if (b != 1)
			return P_BAD;
		if (!rd_skip(r, 2) || !rd_u32(r, &ip))
			return P_MORE;
		if ((st = cstring(r, 255, &len)) != P_OK)
			return st;
		if (ip > 0 && ip < 256 && (st = cstring(r, 255, &len)) != P_OK)
			return st;
		if (ip > 0 && ip < 256 && len == 0)
			return P_BAD;
		return rd_done(r) ? P_OK : P_BAD;
	}
	if (v != 5)
		return P_BAD;
	if (!rd_u8(r, &n))
		return P_MORE;
	if (n == 0)
		return P_BAD;
	if (!rd_skip(r, n) || !rd_peek_u8(r, 0, &v))
		return P_MORE;
	if (v == 1) {				/* RFC 1929 sub-negotiation */
		(void)rd_skip(r, 1);
		if (!rd_u8(r, &n))
			return P_MORE;
		if (n == 0)
			return P_BAD;
		if (!rd_skip(r, n) || !rd_u8(r, &n))
			return P_MORE;
		if (n == 0)
			return P_BAD;
		if (!rd_skip(r, n))
			return P_MORE;
	}
	if (!rd_u8(r, &v))
		return P_MORE;
	if (v != 5)
		return P_BAD;
	if (!rd_u8(r, &b))
		return P_MORE;
	if (b != 1)
		return P_BAD;
	if (!rd_u8(r, &b))
		return P_MORE;
	if (b != 0)
		return P_BAD;
	if ((st = socks5_addr(r)) != P_OK)
		return st;
	return rd_done(r) ? P_OK : P_BAD;
}

/*
 * SOCKS server.  SOCKS 4: VN=0 CD=90 (granted) and 6 bytes.  SOCKS 5:
 * VER=5 METHOD (0 none or 2 username/password), after method 2 VER=1
 * STATUS=0, then VER=5 REP=0 (succeeded) RSV=0 and an address.  Anything
 * refused means no TLS, so it is not this protocol.
 */
static int
socks_server_st(struct rd *r)
{
	uint8_t v, b;
	int st;

	if (!rd_u8(r, &v))
		return P_MORE;
	if (v == 0) {
		if (!rd_u8(r, &b))
			return P_MORE;
		if (b != 90)
			return P_BAD;
		if (!rd_skip(r, 6))
			return P_MORE;
		return rd_done(r) ? P_OK : P_BAD;
	}
	if (v != 5)
		return P_BAD;
	if (!rd_u8(r, &b))
		return P_MORE;
	if (b != 0 && b != 2)
		return P_BAD;
	if (b == 2) {
		if (!rd_u8(r, &v))
			return P_MORE;
		if (v != 1)
			return P_BAD;
		if (!rd_u8(r, &v))
			return P_MORE;
		if (v != 0)
			return P_BAD;
	}
	for (int i = 0; i < 3; i++) {		/* VER=5 REP=0 RSV=0 */
		if (!rd_u8(r, &v))
			return P_MORE;
		if (v != (i == 0 ? 5 : 0))
			return P_BAD;
	}
	if ((st = socks5_addr(r)) != P_OK)
		return st;
	return rd_done(r) ? P_OK : P_BAD;
}

static enum lvl
socks_client(const struct rd *side)
{
	struct rd t = *side;
	int st;

	if (rd_done(side))
		return L_MAYBE;
	st = socks_client_st(&t);
	return st == P_OK ? L_UP : st == P_MORE ? L_MAYBE : L_NO;
}

static enum lvl
socks_server(const struct rd *side)
{
	struct rd t = *side;
	int st;

	if (rd_done(side))
		return L_MAYBE;
	st = socks_server_st(&t);
	return st == P_OK ? L_CTX : st == P_MORE ? L_MAYBE : L_NO;
}

/* ------------------------------------------------------------ PROXY header */

/*
 * HAProxy PROXY protocol (haproxy doc/proxy-protocol.txt, s2.1 and s2.2):
 * v1 is one line "PROXY TCP4|TCP6|UNKNOWN ..." CRLF of at most 107 bytes;
 * v2 is the 12-byte signature below, a version/command byte 0x20 or 0x21,
 * an address family byte and a 16-bit length of the rest.  A proxy sends
 * it ahead of everything the client says.
 */
static const uint8_t proxy_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static int
proxy_header(struct rd *r)
{
	struct rd t = *r, head, line;
	uint8_t vc, fam;
	uint16_t len;
	int m;

	m = match(&t, "PROXY ", false);
	if (m == M_PART)
		return P_MORE;
	if (m == M_FULL) {			/* v1 */
		(void)rd_skip(&t, 6);
		if (!eat(&t, "TCP4 ", false) && !eat(&t, "TCP6 ", false) &&
		    !eat(&t, "UNKNOWN", false))
			return match(&t, "UNKNOWN", false) == M_PART ||
			    match(&t, "TCP4 ", false) == M_PART ||
			    match(&t, "TCP6 ", false) == M_PART ? P_MORE : P_BAD;
		head = *r;			/* the line ends within 107 bytes */
		if (rd_left(&head) > 107)
			head.len = head.off + 107;
		if (!line_next(&head, &line))
			return rd_left(r) < 107 ? P_MORE : P_BAD;
		if (head.off - r->off != rd_left(&line) + 2)
			return P_BAD;		/* CRLF, not a bare LF */
		*r = rd_init(r->p, r->len);
		r->off = head.off;
		return P_OK;
	}
	for (size_t i = 0; i < sizeof(proxy_v2_sig); i++) {	/* v2 */
		if (!rd_u8(&t, &vc))
			return P_MORE;
		if (vc != proxy_v2_sig[i])
			return P_BAD;
	}
	if (!rd_u8(&t, &vc) || !rd_u8(&t, &fam) || !rd_u16(&t, &len))
		return P_MORE;
	if (vc != 0x20 && vc != 0x21)
		return P_BAD;
	if (!rd_skip(&t, len))
		return P_MORE;
	*r = t;
	return P_OK;
}

/* ------------------------------------------------------------ the decision */

enum need {
	N_ANY,		/* one side UP, the other at least MAYBE */
	N_SERVER_CTX,	/* as N_ANY, but the client's UP needs the server's CTX */
};

static const struct proto {
	const char *name;
	enum lvl (*client)(const struct rd *);
	enum lvl (*server)(const struct rd *);
	enum need need;
} protos[] = {
	{ "smtp", smtp_client, smtp_server, N_ANY },
	{ "lmtp", lmtp_client, lmtp_server, N_ANY },
	{ "imap", imap_client, imap_server, N_ANY },
	{ "pop3", pop3_client, pop3_server, N_ANY },
	{ "ftp", ftp_client, ftp_server, N_ANY },
	{ "xmpp", xmpp_client, xmpp_server, N_ANY },
	{ "ldap", ldap_client, ldap_server, N_ANY },
	{ "postgresql", pg_client, pg_server, N_ANY },
	{ "mysql", mysql_client, mysql_server, N_ANY },
	{ "nntp", nntp_client, nntp_server, N_SERVER_CTX },
	{ "sieve", sieve_client, sieve_server, N_SERVER_CTX },
	{ "irc", irc_client, irc_server, N_SERVER_CTX },
	{ "http-connect", http_client, http_server, N_ANY },
	{ "socks", socks_client, socks_server, N_ANY },
};

const char *
starttls_protocol(const uint8_t *client, size_t client_len,
    const uint8_t *server, size_t server_len)
{
	struct rd c = rd_init(client, client == NULL ? 0 : client_len);
	struct rd s = rd_init(server, server == NULL ? 0 : server_len);
	struct rd after = c;
	const char *found = NULL;

	/*
	 * A PROXY header is the load balancer's, not the client's: skip it.
	 * Alone it names nothing, since the same bytes also start a proxied
	 * SMTP (or other) session whose later bytes were cut.
	 */
	if (proxy_header(&after) == P_OK)
		c = rd_init(rd_ptr(&after), rd_left(&after));
	if (rd_done(&c) && rd_done(&s))
		return NULL;
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		const struct proto *p = &protos[i];
		enum lvl lc = p->client(&c), ls = p->server(&s);
		enum lvl need = p->need == N_SERVER_CTX ? L_CTX : L_MAYBE;

		if ((lc == L_UP && ls >= need) || (ls == L_UP && lc >= L_MAYBE)) {
			if (found != NULL)
				return NULL;	/* two protocols fit: say nothing */
			found = p->name;
		}
	}
	return found;
}
