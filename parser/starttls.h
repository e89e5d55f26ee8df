/*
 * starttls.h: name the protocol a TLS connection was upgraded from, by the
 * cleartext each side sent before its first TLS record.
 *
 * A pure function over two byte strings: no pcap, flows, JSON or state.  It
 * decides from what the bytes say (the upgrade command and the peer's
 * answer: SMTP's STARTTLS, POP3's STLS, FTP's AUTH TLS, PostgreSQL's
 * SSLRequest, ...), never from a port number.  Every rule and its source is
 * listed in starttls.c.
 */
#ifndef TLSENTRY_STARTTLS_H
#define TLSENTRY_STARTTLS_H

#include <stddef.h>
#include <stdint.h>

#ifndef STARTTLS_KEEP
#define STARTTLS_KEEP 512	/* cleartext bytes a caller keeps per direction */
#endif

/*
 * client, server: the first bytes each direction carried before its TLS
 * handshake began (the client's ClientHello, the server's ServerHello),
 * in stream order.  Either may be empty (len 0; the pointer may then be
 * NULL) or cut anywhere, for instance at STARTTLS_KEEP; the function reads
 * exactly client_len and server_len bytes and keeps no pointer.
 *
 * Returns a static lowercase name, or NULL when the bytes do not show one
 * protocol's upgrade clearly enough: "smtp", "lmtp", "imap", "pop3", "ftp",
 * "xmpp", "ldap", "postgresql", "mysql", "nntp", "sieve", "irc",
 * "http-connect" or "socks".  A HAProxy PROXY header ahead of the client's
 * bytes is skipped (alone it gives NULL).  A cut transcript gives the right
 * name or NULL, never another name.
 *
 * Bounded work: linear in client_len + server_len, no allocation, no
 * recursion.
 */
const char *starttls_protocol(const uint8_t *client, size_t client_len,
    const uint8_t *server, size_t server_len);

#endif /* TLSENTRY_STARTTLS_H */
