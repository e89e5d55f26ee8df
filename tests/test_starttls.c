/*
 * test_starttls.c: starttls_protocol() on transcripts typed from the RFCs
 * and protocol documents, cut at every length, one side at a time, bit
 * flipped, and on inputs that must not be named.
 */
#include "../parser/starttls.h"
#include <stdbool.h>
#include <stdint.h>

#include "t.h"

/* One turn of a conversation: who sent it, and the bytes. */
struct turn {
	char who;		/* 'C' client, 'S' server */
	const char *p;
	size_t n;
};

#define TC(s) { 'C', (s), sizeof(s) - 1 }
#define TS(s) { 'S', (s), sizeof(s) - 1 }

struct transcript {
	const char *what;
	const char *want;		/* both sides whole */
	const char *client_only;	/* the server side empty */
	const char *server_only;	/* the client side empty */
	const struct turn *turns;
	size_t n_turns;
};

#define TURNS(a) (a), sizeof(a) / sizeof((a)[0])

/* ------------------------------------------------------------ transcripts */

/* RFC 3207 s5, the example (greeting from RFC 5321 s4.2) */
static const struct turn smtp_rfc3207[] = {
	TS("220 mail.imc.org SMTP service ready\r\n"),
	TC("EHLO mail.example.com\r\n"),
	TS("250-mail.imc.org offers a warm hug of welcome\r\n"
	   "250-8BITMIME\r\n"
	   "250-STARTTLS\r\n"
	   "250 DSN\r\n"),
	TC("STARTTLS\r\n"),
	TS("220 Go ahead\r\n"),
};

/* a Postfix-style ESMTP server, multi-line greeting, lowercase client */
static const struct turn smtp_postfix[] = {
	TS("220-mx.example.net ESMTP Postfix (Debian/GNU)\r\n"
	   "220 mx.example.net ready\r\n"),
	TC("ehlo client.example.org\r\n"),
	TS("250-mx.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
	   "250-ETRN\r\n250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n"
	   "250-8BITMIME\r\n250 DSN\r\n"),
	TC("starttls\r\n"),
	TS("220 2.0.0 Ready to start TLS\r\n"),
};

/* RFC 2033 s4.2 (LHLO), RFC 3207 keyword in the LHLO reply */
static const struct turn lmtp_rfc2033[] = {
	TS("220 foo.edu LMTP server ready\r\n"),
	TC("LHLO foo.edu\r\n"),
	TS("250-foo.edu\r\n250-PIPELINING\r\n250-STARTTLS\r\n250 SIZE\r\n"),
	TC("STARTTLS\r\n"),
	TS("220 2.0.0 Ready to start TLS\r\n"),
};

/* RFC 3501 s6.2.1 example, greeting from s7.1.1 */
static const struct turn imap_rfc3501[] = {
	TS("* OK IMAP4rev1 Service Ready\r\n"),
	TC("a001 CAPABILITY\r\n"),
	TS("* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n"
	   "a001 OK CAPABILITY completed\r\n"),
	TC("a002 STARTTLS\r\n"),
	TS("a002 OK Begin TLS negotiation now\r\n"),
};

/* RFC 9051 s6.2.1: capabilities in the greeting's response code */
static const struct turn imap_rfc9051[] = {
	TS("* OK [CAPABILITY IMAP4rev2 STARTTLS AUTH=SCRAM-SHA-256 LOGINDISABLED] "
	   "IMAP4rev2 Service Ready\r\n"),
	TC("a002 STARTTLS\r\n"),
	TS("a002 OK Begin TLS negotiation now\r\n"),
};

/* RFC 2595 s4 (STLS) with RFC 2449 s5 CAPA; greeting from RFC 1939 s4 */
static const struct turn pop3_rfc2595[] = {
	TS("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n"),
	TC("CAPA\r\n"),
	TS("+OK Capability list follows\r\nTOP\r\nUSER\r\nSASL CRAM-MD5 KERBEROS_V4\r\n"
	   "RESP-CODES\r\nSTLS\r\n.\r\n"),
	TC("STLS\r\n"),
	TS("+OK Begin TLS negotiation\r\n"),
};

/* RFC 4217 s4 (AUTH TLS, 234), with a RFC 2389 FEAT exchange first */
static const struct turn ftp_rfc4217[] = {
	TS("220 ftp.example.com FTP server ready\r\n"),
	TC("FEAT\r\n"),
	TS("211-Extensions supported:\r\n AUTH TLS\r\n PBSZ\r\n PROT\r\n SIZE\r\n"
	   "211 END\r\n"),
	TC("AUTH TLS\r\n"),
	TS("234 AUTH command OK. Expecting TLS Negotiation.\r\n"),
};

/* RFC 959 s5.4: 120 before 220; RFC 2228 mechanism name "SSL" */
static const struct turn ftp_auth_ssl[] = {
	TS("120 Service ready in 1 minute\r\n220 Service ready\r\n"),
	TC("AUTH SSL\r\n"),
	TS("234 Proceed\r\n"),
};

/* RFC 6120 s9.1.1 to s9.1.2, the client-to-server example */
static const struct turn xmpp_rfc6120[] = {
	TC("<?xml version='1.0'?><stream:stream from='juliet@im.example.com' "
	   "to='im.example.com' version='1.0' xml:lang='en' xmlns='jabber:client' "
	   "xmlns:stream='http://etherx.jabber.org/streams'>"),
	TS("<?xml version='1.0'?><stream:stream from='im.example.com' "
	   "id='t7AMCin9zjMNwQKDnplntZPIDEI=' to='juliet@im.example.com' version='1.0' "
	   "xml:lang='en' xmlns='jabber:client' "
	   "xmlns:stream='http://etherx.jabber.org/streams'>"),
	TS("<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
	   "<required/></starttls></stream:features>"),
	TC("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
	TS("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
};

/* server-to-server, double quotes */
static const struct turn xmpp_s2s[] = {
	TC("<stream:stream xmlns=\"jabber:server\" "
	   "xmlns:stream=\"http://etherx.jabber.org/streams\" to=\"b.example\" "
	   "version=\"1.0\">\n"),
	TS("<stream:stream xmlns=\"jabber:server\" "
	   "xmlns:stream=\"http://etherx.jabber.org/streams\" id=\"x1\" "
	   "version=\"1.0\"><stream:features><starttls "
	   "xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/></stream:features>"),
	TC("<starttls xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/>"),
	TS("<proceed xmlns=\"urn:ietf:params:xml:ns:xmpp-tls\"/>"),
};

/*
 * RFC 4511 s4.14 / RFC 4513 s3: StartTLS extended request and a response
 * that names the operation.
 */
static const struct turn ldap_named[] = {
	TC("\x30\x1d"				/* LDAPMessage, 29 bytes */
	   "\x02\x01\x01"			/* messageID 1 */
	   "\x77\x18"				/* [APPLICATION 23] ExtendedRequest */
	   "\x80\x16" "1.3.6.1.4.1.1466.20037"),	/* requestName [0] */
	TS("\x30\x24"				/* LDAPMessage, 36 bytes */
	   "\x02\x01\x01"			/* messageID 1 */
	   "\x78\x1f"				/* [APPLICATION 24] ExtendedResponse */
	   "\x0a\x01\x00"			/* resultCode success */
	   "\x04\x00" "\x04\x00"		/* matchedDN "", diagnosticMessage "" */
	   "\x8a\x16" "1.3.6.1.4.1.1466.20037"),	/* responseName [10] */
};

/*
 * A root DSE search first (RFC 4512 s5.1), long-form BER lengths as some
 * servers send them, and a response without responseName.
 */
static const struct turn ldap_search_first[] = {
	TC("\x30\x84\x00\x00\x00\x25"		/* LDAPMessage, 4-byte length 37 */
	   "\x02\x01\x01"			/* messageID 1 */
	   "\x63\x20"				/* [APPLICATION 3] SearchRequest */
	   "\x04\x00"				/* baseObject "" */
	   "\x0a\x01\x00" "\x0a\x01\x00"	/* scope base, derefAliases never */
	   "\x02\x01\x00" "\x02\x01\x00"	/* sizeLimit, timeLimit 0 */
	   "\x01\x01\x00"			/* typesOnly FALSE */
	   "\x87\x0b" "objectclass"		/* filter present */
	   "\x30\x00"),				/* attributes: none */
	TS("\x30\x0c\x02\x01\x01"		/* messageID 1 */
	   "\x65\x07\x0a\x01\x00\x04\x00\x04\x00"),	/* SearchResultDone success */
	TC("\x30\x81\x1d"			/* LDAPMessage, 1-byte long form */
	   "\x02\x01\x02"			/* messageID 2 */
	   "\x77\x18\x80\x16" "1.3.6.1.4.1.1466.20037"),
	TS("\x30\x0c\x02\x01\x02"		/* messageID 2 */
	   "\x78\x07\x0a\x01\x00\x04\x00\x04\x00"),	/* ExtendedResponse success */
};

/* PostgreSQL docs, "Message Formats": SSLRequest; 'S' accepts */
static const struct turn pg_ssl[] = {
	TC("\x00\x00\x00\x08\x04\xd2\x16\x2f"),	/* Int32(8) Int32(80877103) */
	TS("S"),
};

/* GSSENCRequest refused with 'N', then SSLRequest */
static const struct turn pg_gss_then_ssl[] = {
	TC("\x00\x00\x00\x08\x04\xd2\x16\x30"),	/* Int32(8) Int32(80877104) */
	TS("N"),
	TC("\x00\x00\x00\x08\x04\xd2\x16\x2f"),
	TS("S"),
};

/*
 * MySQL docs: Protocol::HandshakeV10 from the server (sequence 0), then
 * Protocol::SSLRequest from the client (sequence 1).
 */
static const struct turn mysql_ssl[] = {
	TS("\x4a\x00\x00" "\x00"		/* payload 74 bytes, sequence 0 */
	   "\x0a"				/* protocol version 10 */
	   "8.0.36\0"				/* server version */
	   "\x08\x00\x00\x00"			/* connection id 8 */
	   "abcdefgh" "\x00"			/* auth-plugin-data part 1, filler */
	   "\xff\xff"				/* capabilities (low): CLIENT_SSL set */
	   "\xff" "\x02\x00" "\xff\xdf"		/* charset, status, capabilities (high) */
	   "\x15" "\0\0\0\0\0\0\0\0\0\0"	/* auth data length 21, reserved */
	   "ijklmnopqrst\0"			/* auth-plugin-data part 2 */
	   "caching_sha2_password\0"),
	TC("\x20\x00\x00" "\x01"		/* payload 32 bytes, sequence 1 */
	   "\x85\xae\xff\x00"			/* capabilities: SSL, PROTOCOL_41, ... */
	   "\x00\x00\x00\x01"			/* max packet 16 MB */
	   "\x21"				/* utf8_general_ci */
	   "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"),	/* filler */
};

/* RFC 4642 s2.2 with RFC 3977 s5.1.1 greeting and s5.2 CAPABILITIES */
static const struct turn nntp_rfc4642[] = {
	TS("200 NNTP Service Ready, posting permitted\r\n"),
	TC("CAPABILITIES\r\n"),
	TS("101 Capability list:\r\nVERSION 2\r\nREADER\r\nIHAVE\r\nSTARTTLS\r\n"
	   "LIST ACTIVE NEWSGROUPS\r\n.\r\n"),
	TC("STARTTLS\r\n"),
	TS("382 Continue with TLS negotiation\r\n"),
};

/* RFC 5804 s2.2 example */
static const struct turn sieve_rfc5804[] = {
	TS("\"IMPLEMENTATION\" \"Example1 ManageSieved v001\"\r\n"
	   "\"SASL\" \"DIGEST-MD5 GSSAPI\"\r\n"
	   "\"SIEVE\" \"fileinto vacation\"\r\n"
	   "\"STARTTLS\"\r\n"
	   "\"VERSION\" \"1.0\"\r\n"
	   "OK\r\n"),
	TC("STARTTLS\r\n"),
	TS("OK\r\n"),
};

/* IRCv3 tls extension: CAP LS, then STARTTLS and RPL_STARTTLS (670) */
static const struct turn irc_ircv3[] = {
	TC("CAP LS\r\n"),
	TS(":irc.example.com NOTICE * :*** Looking up your hostname...\r\n"
	   ":irc.example.com CAP * LS :multi-prefix sasl tls\r\n"),
	TC("STARTTLS\r\n"),
	TS(":irc.example.com 670 * :STARTTLS successful, go ahead with TLS handshake\r\n"),
};

/* RFC 9110 s9.3.6 example, answered 200 */
static const struct turn http_connect[] = {
	TC("CONNECT server.example.com:80 HTTP/1.1\r\n"
	   "Host: server.example.com\r\n\r\n"),
	TS("HTTP/1.1 200 Connection established\r\n\r\n"),
};

/* a proxy that wants credentials first (RFC 9110 s15.5.8, 407) */
static const struct turn http_connect_407[] = {
	TC("CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n\r\n"),
	TS("HTTP/1.1 407 Proxy Authentication Required\r\n"
	   "Proxy-Authenticate: Basic realm=\"proxy\"\r\nContent-Length: 0\r\n\r\n"),
	TC("CONNECT [2001:db8::1]:443 HTTP/1.1\r\nHost: [2001:db8::1]:443\r\n"
	   "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n"),
	TS("HTTP/1.1 200 OK\r\n\r\n"),
};

/* RFC 1928 s3, s4, s6: no authentication, CONNECT to a domain name */
static const struct turn socks5_noauth[] = {
	TC("\x05\x01\x00"),			/* VER 5, 1 method: no auth */
	TS("\x05\x00"),				/* VER 5, method no auth */
	TC("\x05\x01\x00\x03"			/* VER 5, CONNECT, RSV, ATYP name */
	   "\x0b" "example.com" "\x01\xbb"),	/* "example.com", port 443 */
	TS("\x05\x00\x00\x01"			/* VER 5, succeeded, RSV, IPv4 */
	   "\xc0\x00\x02\x01" "\x04\x38"),	/* 192.0.2.1:1080 */
};

/* RFC 1928 with RFC 1929 username/password, CONNECT to IPv6 */
static const struct turn socks5_userpass[] = {
	TC("\x05\x02\x00\x02"),			/* methods: none, username/password */
	TS("\x05\x02"),				/* username/password */
	TC("\x01\x04" "user" "\x04" "pass"),	/* RFC 1929 s2 */
	TS("\x01\x00"),				/* success */
	TC("\x05\x01\x00\x04"			/* CONNECT, IPv6 */
	   "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
	   "\x01\xbb"),
	TS("\x05\x00\x00\x01" "\x00\x00\x00\x00" "\x00\x00"),
};

/* SOCKS 4: CONNECT 93.184.216.119:443, user "fred"; granted (90) */
static const struct turn socks4[] = {
	TC("\x04\x01\x01\xbb\x5d\xb8\xd8\x77" "fred" "\x00"),
	TS("\x00\x5a\x01\xbb\x5d\xb8\xd8\x77"),
};

/* SOCKS 4A: DSTIP 0.0.0.1, then the host name */
static const struct turn socks4a[] = {
	TC("\x04\x01\x01\xbb\x00\x00\x00\x01" "\x00" "example.com" "\x00"),
	TS("\x00\x5a\x00\x00\x00\x00\x00\x00"),
};

/* HAProxy PROXY v1 header, then SMTP: the SMTP upgrade is named */
static const struct turn proxy_v1_smtp[] = {
	TC("PROXY TCP4 192.0.2.1 198.51.100.1 56324 25\r\n"),
	TS("220 mx.example.net ESMTP\r\n"),
	TC("EHLO client.example.org\r\n"),
	TS("250-mx.example.net\r\n250 STARTTLS\r\n"),
	TC("STARTTLS\r\n"),
	TS("220 go ahead\r\n"),
};

/*
 * A bare PROXY header before a TLS terminator: NULL, because the first
 * 44 bytes of the transcript above are the same kind of thing.
 */
static const struct turn proxy_v1[] = {
	TC("PROXY TCP6 2001:db8::1 2001:db8::2 56324 443\r\n"),
};

/* PROXY v2: signature, PROXY command, TCP over IPv4, 12 address bytes */
static const struct turn proxy_v2[] = {
	TC("\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a"
	   "\x21\x11\x00\x0c"
	   "\xc0\x00\x02\x01" "\xc6\x33\x64\x01" "\xdc\x04\x01\xbb"),
};

/* PROXY v2, then a PostgreSQL SSLRequest */
static const struct turn proxy_v2_pg[] = {
	TC("\x0d\x0a\x0d\x0a\x00\x0d\x0a\x51\x55\x49\x54\x0a"
	   "\x21\x11\x00\x0c"
	   "\xc0\x00\x02\x01" "\xc6\x33\x64\x01" "\xdc\x04\x15\x38"
	   "\x00\x00\x00\x08\x04\xd2\x16\x2f"),
	TS("S"),
};

static const struct transcript transcripts[] = {
	{ "smtp rfc3207", "smtp", "smtp", "smtp", TURNS(smtp_rfc3207) },
	{ "smtp postfix", "smtp", "smtp", "smtp", TURNS(smtp_postfix) },
	{ "lmtp rfc2033", "lmtp", "lmtp", "lmtp", TURNS(lmtp_rfc2033) },
	{ "imap rfc3501", "imap", "imap", "imap", TURNS(imap_rfc3501) },
	{ "imap rfc9051", "imap", "imap", "imap", TURNS(imap_rfc9051) },
	{ "pop3 rfc2595", "pop3", "pop3", "pop3", TURNS(pop3_rfc2595) },
	{ "ftp rfc4217", "ftp", "ftp", "ftp", TURNS(ftp_rfc4217) },
	{ "ftp auth ssl", "ftp", "ftp", "ftp", TURNS(ftp_auth_ssl) },
	{ "xmpp rfc6120", "xmpp", "xmpp", "xmpp", TURNS(xmpp_rfc6120) },
	{ "xmpp s2s", "xmpp", "xmpp", "xmpp", TURNS(xmpp_s2s) },
	{ "ldap named", "ldap", "ldap", "ldap", TURNS(ldap_named) },
	{ "ldap search first", "ldap", "ldap", NULL, TURNS(ldap_search_first) },
	{ "postgresql", "postgresql", "postgresql", NULL, TURNS(pg_ssl) },
	{ "postgresql gssenc", "postgresql", "postgresql", NULL, TURNS(pg_gss_then_ssl) },
	{ "mysql", "mysql", "mysql", NULL, TURNS(mysql_ssl) },
	{ "nntp rfc4642", "nntp", NULL, "nntp", TURNS(nntp_rfc4642) },
	{ "sieve rfc5804", "sieve", NULL, "sieve", TURNS(sieve_rfc5804) },
	{ "irc ircv3", "irc", NULL, "irc", TURNS(irc_ircv3) },
	{ "http connect", "http-connect", "http-connect", NULL, TURNS(http_connect) },
	{ "http connect 407", "http-connect", "http-connect", NULL, TURNS(http_connect_407) },
	{ "socks5", "socks", "socks", NULL, TURNS(socks5_noauth) },
	{ "socks5 userpass", "socks", "socks", NULL, TURNS(socks5_userpass) },
	{ "socks4", "socks", "socks", NULL, TURNS(socks4) },
	{ "socks4a", "socks", "socks", NULL, TURNS(socks4a) },
	{ "proxy v1 + smtp", "smtp", "smtp", "smtp", TURNS(proxy_v1_smtp) },
	{ "proxy v1", NULL, NULL, NULL, TURNS(proxy_v1) },
	{ "proxy v2", NULL, NULL, NULL, TURNS(proxy_v2) },
	{ "proxy v2 + postgresql", "postgresql", "postgresql", NULL, TURNS(proxy_v2_pg) },
};

#define N_TRANSCRIPTS (sizeof(transcripts) / sizeof(transcripts[0]))

/* ------------------------------------------------------------ harness */

/* The two sides of a conversation, and where each turn ends. */
struct sides {
	uint8_t c[4096], s[4096];
	size_t cn, sn;
};

static void
split(const struct transcript *tr, struct sides *x)
{
	x->cn = x->sn = 0;
	for (size_t i = 0; i < tr->n_turns; i++) {
		const struct turn *t = &tr->turns[i];
		uint8_t *dst = t->who == 'C' ? x->c + x->cn : x->s + x->sn;

		memcpy(dst, t->p, t->n);
		*(t->who == 'C' ? &x->cn : &x->sn) += t->n;
	}
}

/* starttls_protocol() on exact-size heap copies, so ASan sees over-reads. */
static const char *
classify(const uint8_t *c, size_t cn, const uint8_t *s, size_t sn)
{
	uint8_t *hc = t_dup(c, cn), *hs = t_dup(s, sn);
	const char *name = starttls_protocol(hc, cn, hs, sn);

	free(hc);
	free(hs);
	return name;
}

static bool
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* got is want (both may be NULL); says which case failed. */
static bool
expect(const char *got, const char *want, const char *what, const char *how)
{
	if (same(got, want))
		return true;
	fprintf(stderr, "  %s, %s: got %s, want %s\n", what, how, got ? got : "NULL",
	    want ? want : "NULL");
	return false;
}

/* A cut may lose the name (NULL), never give another. */
static bool
right_or_null(const char *got, const char *want, const char *what, size_t cn, size_t sn)
{
	if (got == NULL || same(got, want))
		return true;
	fprintf(stderr, "  %s cut to client %zu, server %zu bytes: got %s, want %s or NULL\n",
	    what, cn, sn, got, want);
	return false;
}

/* ------------------------------------------------------------ tests */

static void
test_starttls_whole(void)
{
	static struct sides x;

	for (size_t i = 0; i < N_TRANSCRIPTS; i++) {
		const struct transcript *tr = &transcripts[i];
		const char *got;

		split(tr, &x);
		got = classify(x.c, x.cn, x.s, x.sn);
		T_CHECK(expect(got, tr->want, tr->what, "whole"));
		got = classify(x.c, x.cn, NULL, 0);
		T_CHECK(expect(got, tr->client_only, tr->what, "client only"));
		got = classify(NULL, 0, x.s, x.sn);
		T_CHECK(expect(got, tr->server_only, tr->what, "server only"));
	}
}

/*
 * Cut in time: the conversation stopped after byte k of its turns, for
 * every k.  Then each side cut alone at every length, the other whole, as
 * a STARTTLS_KEEP cap or a lost direction would.
 */
static void
test_starttls_cut_everywhere(void)
{
	static struct sides x;

	for (size_t i = 0; i < N_TRANSCRIPTS; i++) {
		const struct transcript *tr = &transcripts[i];
		size_t total = 0, cn, sn;
		bool ok = true;

		split(tr, &x);
		for (size_t t = 0; t < tr->n_turns; t++)
			total += tr->turns[t].n;
		for (size_t k = 0; k <= total && ok; k++) {
			size_t left = k;

			cn = sn = 0;
			for (size_t t = 0; t < tr->n_turns && left > 0; t++) {
				size_t n = tr->turns[t].n < left ? tr->turns[t].n : left;

				*(tr->turns[t].who == 'C' ? &cn : &sn) += n;
				left -= n;
			}
			ok = right_or_null(classify(x.c, cn, x.s, sn), tr->want, tr->what, cn, sn);
		}
		for (cn = 0; cn <= x.cn && ok; cn++)
			ok = right_or_null(classify(x.c, cn, x.s, x.sn), tr->want, tr->what,
			    cn, x.sn);
		for (sn = 0; sn <= x.sn && ok; sn++)
			ok = right_or_null(classify(x.c, x.cn, x.s, sn), tr->want, tr->what,
			    x.cn, sn);
		T_CHECK(ok);
	}
}

/*
 * Every bit of each side flipped once: never a crash, and for these
 * transcripts never another protocol's name either (a flip breaks the
 * evidence; it does not forge another protocol's).
 */
static void
test_starttls_bit_flips(void)
{
	static struct sides x;

	for (size_t i = 0; i < N_TRANSCRIPTS; i++) {
		const struct transcript *tr = &transcripts[i];
		bool ok = true;

		split(tr, &x);
		for (size_t b = 0; b < (x.cn + x.sn) * 8 && ok; b++) {
			uint8_t *side = b < x.cn * 8 ? x.c : x.s;
			size_t bit = b < x.cn * 8 ? b : b - x.cn * 8;
			const char *got;

			side[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			got = classify(x.c, x.cn, x.s, x.sn);
			side[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			if (got != NULL && !same(got, tr->want)) {
				fprintf(stderr, "  %s: bit %zu flipped gives %s\n", tr->what, b, got);
				ok = false;
			}
		}
		T_CHECK(ok);
	}
}

/* Things that are not an upgrade, or not one clearly enough. */
static void
test_starttls_negatives(void)
{
	static const struct {
		const char *what;
		const char *c;
		size_t cn;
		const char *s;
		size_t sn;
	} neg[] = {
#define NEG(w, c, s) { (w), (c), sizeof(c) - 1, (s), sizeof(s) - 1 }
		NEG("empty", "", ""),
		NEG("http get", "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
		    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
		NEG("http get, no answer", "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n", ""),
		NEG("http post", "POST /upload HTTP/1.1\r\nHost: a\r\n\r\n", ""),
		NEG("connect in lower case", "connect a.example:443 HTTP/1.1\r\n\r\n", ""),
		NEG("connect without port", "CONNECT a.example HTTP/1.1\r\n\r\n", ""),
		NEG("connect and nothing", "CONNECT \r\n", ""),
		NEG("connect, no version", "CONNECT a.example:443\r\n", ""),
		NEG("connect, server not http", "CONNECT a.example:443 HTTP/1.1\r\n\r\n",
		    "220 mx ESMTP\r\n"),
		NEG("smtp banner alone", "", "220 mx.example.net ESMTP Postfix\r\n"),
		NEG("smtp banner and ehlo reply",
		    "EHLO a\r\n", "220 mx ESMTP\r\n250-mx\r\n250 STARTTLS\r\n"),
		NEG("imap banner alone", "", "* OK [CAPABILITY IMAP4rev1 STARTTLS] ready\r\n"),
		NEG("pop3 banner alone", "", "+OK POP3 server ready\r\n"),
		NEG("pop3 two +OK", "", "+OK ready\r\n+OK go\r\n"),
		NEG("ftp banner alone", "", "220 (vsFTPd 3.0.5)\r\n"),
		NEG("nntp banner alone", "", "200 news.example.com ready\r\n"),
		NEG("sieve greeting alone", "",
		    "\"IMPLEMENTATION\" \"x\"\r\n\"STARTTLS\"\r\nOK\r\n"),
		NEG("mysql greeting alone", "",
		    "\x0a\x00\x00\x00\x0a" "5.7\0" "\x01\x00\x00\x00"),
		NEG("bare STARTTLS, no server", "STARTTLS\r\n", ""),
		NEG("bare STARTTLS, bare 220", "STARTTLS\r\n", "220 ready\r\n"),
		NEG("smtp client, imap server", "EHLO a\r\nSTARTTLS\r\n", "* OK ready\r\n"),
		NEG("imap client, pop3 server", "a STARTTLS\r\n", "+OK ready\r\n"),
		NEG("ssh banners", "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n", "SSH-2.0-OpenSSH_9.2p1\r\n"),
		NEG("chatter", "hello there\r\nhow are you\r\n", "fine thanks\r\n"),
		NEG("tls alert text", "\x15\x03\x01\x00\x02\x02\x28", ""),
		NEG("postgres startup, no ssl", "\x00\x00\x00\x29\x00\x03\x00\x00user\0x\0", "R"),
		NEG("postgres ssl request, server error", "\x00\x00\x00\x08\x04\xd2\x16\x2f",
		    "EFATAL"),
		NEG("gssenc alone", "\x00\x00\x00\x08\x04\xd2\x16\x30", "N"),
		NEG("socks5 refused", "\x05\x01\x00", "\x05\xff"),
		NEG("socks5 bind", "\x05\x01\x00\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50", ""),
		NEG("socks4 rejected", "\x04\x01\x00\x50\x7f\x00\x00\x01\x00", "\x00\x5b\0\0\0\0\0\0"),
		NEG("ldap bind", "\x30\x0c\x02\x01\x01\x60\x07\x02\x01\x03\x04\x00\x80\x00",
		    "\x30\x0c\x02\x01\x01\x61\x07\x0a\x01\x00\x04\x00\x04\x00"),
		NEG("ldap other extended op",
		    "\x30\x1e\x02\x01\x01\x77\x19\x80\x17" "1.3.6.1.4.1.4203.1.11.3", ""),
		NEG("xmpp without tls", "<stream:stream xmlns:stream="
		    "'http://etherx.jabber.org/streams' xmlns='jabber:client'>", ""),
		NEG("irc without 670", "NICK a\r\nUSER a 0 * :a\r\n",
		    ":irc.example 001 a :Welcome\r\n"),
		NEG("proxy then http", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\n\r\n", ""),
		NEG("proxy v1 with bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", ""),
		NEG("proxy, server talked", "PROXY UNKNOWN\r\n", "220 hi\r\n"),
#undef NEG
	};

	for (size_t i = 0; i < sizeof(neg) / sizeof(neg[0]); i++) {
		const char *got = classify((const uint8_t *)neg[i].c, neg[i].cn,
		    (const uint8_t *)neg[i].s, neg[i].sn);

		if (got != NULL)
			fprintf(stderr, "  negative \"%s\" named %s\n", neg[i].what, got);
		T_CHECK(got == NULL);
	}
	T_CHECK(starttls_protocol(NULL, 0, NULL, 0) == NULL);
	T_CHECK(starttls_protocol(NULL, 5, NULL, 7) == NULL);	/* NULL reads as empty */
}

/* xorshift64*: the same "random" bytes on every run */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint8_t
rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint8_t)((rng_state * 0x2545f4914f6cdd1du) >> 56);
}

/* Random bytes, random printable text with line ends: nothing is named. */
static void
test_starttls_random(void)
{
	static uint8_t c[STARTTLS_KEEP], s[STARTTLS_KEEP];
	static const char text[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop 0123456789:.-\"<>*+\r\n";
	unsigned named = 0;

	for (int round = 0; round < 4000; round++) {
		size_t cn = rnd() * 2u % (STARTTLS_KEEP + 1), sn = rnd() * 2u % (STARTTLS_KEEP + 1);
		bool printable = round % 2 == 1;
		const char *got;

		for (size_t i = 0; i < cn; i++)
			c[i] = printable ? (uint8_t)text[rnd() % (sizeof(text) - 1)] : rnd();
		for (size_t i = 0; i < sn; i++)
			s[i] = printable ? (uint8_t)text[rnd() % (sizeof(text) - 1)] : rnd();
		if (round % 8 == 0)
			sn = 0;
		got = classify(c, cn, s, sn);
		if (got != NULL && named++ < 5)
			fprintf(stderr, "  random round %d named %s\n", round, got);
	}
	T_EQ_U(named, 0);
}

/*
 * Large inputs, far over STARTTLS_KEEP: many short lines, one endless
 * line, repeated near-misses.  The work stays linear (this finishes);
 * the answers are as for the same bytes at any size.
 */
static void
test_starttls_large(void)
{
	size_t n = 1 << 20;
	uint8_t *c = malloc(n), *s = malloc(n);

	if (c == NULL || s == NULL)
		abort();
	for (size_t i = 0; i < n; i++) {
		c[i] = "250-STARTTL\r\n"[i % 13];
		s[i] = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tl"[i % 47];
	}
	T_CHECK(starttls_protocol(c, n, s, n) == NULL);
	memset(c, 'A', n);
	memset(s, '"', n);
	T_CHECK(starttls_protocol(c, n, s, n) == NULL);
	memset(c, 0x30, n);			/* BER: SEQUENCE of SEQUENCE ... */
	memset(s, 0x84, n);
	T_CHECK(starttls_protocol(c, n, s, n) == NULL);
	/* an SMTP transcript with a megabyte of EHLO reply before the go-ahead */
	memcpy(c, "EHLO a\r\nSTARTTLS\r\n", 18);
	memcpy(s, "220 mx ESMTP\r\n", 14);
	for (size_t i = 14; i + 9 < n; i += 9)
		memcpy(s + i, "250-SIZE\n", 9);
	T_EQ_STR(starttls_protocol(c, 18, s, n), "smtp");
	free(c);
	free(s);
}

/* A few single-rule checks that the transcripts do not isolate. */
static void
test_starttls_rules(void)
{
#define NAME(c, s) starttls_protocol((const uint8_t *)(c), sizeof(c) - 1, \
	(const uint8_t *)(s), sizeof(s) - 1)
	/* HELO is a valid SMTP greeting (RFC 5321 s4.1.1.1) */
	T_EQ_STR(NAME("HELO a\r\nSTARTTLS\r\n", ""), "smtp");
	/* bare LF line ends are tolerated */
	T_EQ_STR(NAME("EHLO a\nSTARTTLS\n", "220 a ESMTP\n250 STARTTLS\n220 go\n"), "smtp");
	/* the server alone names LMTP only when its greeting says so */
	T_CHECK(NAME("", "220 mx ready\r\n250-mx\r\n250 STARTTLS\r\n220 go\r\n") == NULL);
	/* a 691 (ERR_STARTTLS) is not a go-ahead */
	T_CHECK(NAME("", ":irc.example 691 * :STARTTLS failed\r\n") == NULL);
	/* IRC numeric with an empty target (seen in the wild) */
	T_EQ_STR(NAME("STARTTLS\r\n", ":irc.example.org 670  :STARTTLS successful\r\n"), "irc");
	/* NNTP 201 greeting (posting prohibited) */
	T_EQ_STR(NAME("STARTTLS\r\n", "201 ready, no posting\r\n382 go\r\n"), "nntp");
	/* ManageSieve: the client's STARTTLS with the greeting alone */
	T_EQ_STR(NAME("STARTTLS\r\n", "\"IMPLEMENTATION\" \"x\"\r\n\"STARTTLS\"\r\nOK\r\n"),
	    "sieve");
	/* IMAP: STARTTLS capability but no tagged OK: the client decides */
	T_CHECK(NAME("", "* OK [CAPABILITY IMAP4rev1 STARTTLS] hi\r\n") == NULL);
	T_EQ_STR(NAME("x STARTTLS\r\n", "* OK hi\r\n"), "imap");
	/* FTP: the client's AUTH TLS-C is accepted too */
	T_EQ_STR(NAME("AUTH TLS-C\r\n", ""), "ftp");
	/* MariaDB keeps extended capabilities in the SSLRequest's last 4 bytes */
	T_EQ_STR(NAME("\x20\x00\x00\x01\x85\xae\xff\x00\x00\x00\x00\x01\x21"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0" "\x04\x00\x00\x00", ""), "mysql");
	/* ... but no other filler byte may be set */
	T_CHECK(NAME("\x20\x00\x00\x01\x85\xae\xff\x00\x00\x00\x00\x01\x21"
	    "\0\0\0\0\0\0\0\0\0\x01\0\0\0\0\0\0\0\0\0" "\0\0\0\0", "") == NULL);
	/* an SSLRequest without CLIENT_SSL is not one */
	T_CHECK(NAME("\x20\x00\x00\x01\x85\xa6\xff\x00\x00\x00\x00\x01\x21"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", "") == NULL);
	/* a server greeting that does not offer SSL contradicts the client */
	T_CHECK(NAME("\x20\x00\x00\x01\x85\xae\xff\x00\x00\x00\x00\x01\x21"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
	    "\x13\x00\x00\x00\x0a" "5.7\0" "\x01\x00\x00\x00" "12345678" "\x00" "\xff\xf7") == NULL);
	/* XMPP: the TLS namespace must be on the <starttls/> element itself */
	T_CHECK(NAME("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>"
	    "<starttls/><x xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>", "") == NULL);
	/* LDAP: a failed StartTLS response is not a go-ahead */
	T_CHECK(NAME("", "\x30\x24\x02\x01\x01\x78\x1f\x0a\x01\x02\x04\x00\x04\x00"
	    "\x8a\x16" "1.3.6.1.4.1.1466.20037") == NULL);
	/* LDAP: indefinite lengths are not allowed (RFC 4511 s5.1) */
	T_CHECK(NAME("\x30\x80\x02\x01\x01\x77\x18\x80\x16" "1.3.6.1.4.1.1466.20037\0\0",
	    "") == NULL);
	/* PostgreSQL: a byte more than the SSLRequest is something else */
	T_CHECK(NAME("\x00\x00\x00\x08\x04\xd2\x16\x2f\x00", "S") == NULL);
	/* SOCKS 5: a name of length 0 is malformed */
	T_CHECK(NAME("\x05\x01\x00\x05\x01\x00\x03\x00\x01\xbb", "") == NULL);
	/* PROXY v1 longer than 107 bytes is not one */
	T_CHECK(NAME("PROXY TCP4 111111111111111111111111111111111111111111111111 "
	    "2222222222222222222222222222222222222222222222222222 1 2\r\n", "") == NULL);
#undef NAME
}

/*
 * test_starttls DIR: also write each transcript as a seed for
 * tests/fuzz/fuzz_starttls.c (2-byte client length, client, server).
 */
static void
write_seeds(const char *dir)
{
	static struct sides x;
	char path[512];

	for (size_t i = 0; i < N_TRANSCRIPTS; i++) {
		FILE *f;
		int n;

		split(&transcripts[i], &x);
		n = snprintf(path, sizeof(path), "%s/unit-%02zu", dir, i);
		if (n < 0 || (size_t)n >= sizeof(path) || (f = fopen(path, "wb")) == NULL) {
			T_CHECK(0);
			continue;
		}
		fputc((int)(x.cn >> 8), f);
		fputc((int)(x.cn & 0xff), f);
		T_CHECK(fwrite(x.c, 1, x.cn, f) == x.cn && fwrite(x.s, 1, x.sn, f) == x.sn);
		T_CHECK(fclose(f) == 0);
	}
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		write_seeds(argv[1]);
	T_RUN(test_starttls_whole);
	T_RUN(test_starttls_cut_everywhere);
	T_RUN(test_starttls_bit_flips);
	T_RUN(test_starttls_negatives);
	T_RUN(test_starttls_random);
	T_RUN(test_starttls_large);
	T_RUN(test_starttls_rules);
	T_SUMMARY();
}
