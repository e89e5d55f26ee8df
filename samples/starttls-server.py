#!/usr/bin/env python3
"""starttls-server.py: a one-connection STARTTLS server for the sample captures.

Usage:
  starttls-server.py PROTO ADDR PORT CHAIN.pem KEY.pem [--ready FILE]

PROTO is one of smtp, lmtp, imap, pop3, ftp, xmpp, ldap, mysql, nntp, sieve,
irc, connect.  The server accepts exactly one connection on ADDR:PORT,
speaks just enough of PROTO in cleartext for `openssl s_client -starttls
PROTO` (or `-proxy` for connect) to ask for TLS, gives the go-ahead, and
then runs a TLS server handshake on the same socket with Python's ssl module
(OpenSSL), presenting CHAIN.pem (leaf first, then the intermediate) with
KEY.pem.  After the handshake it sends one line of application data, sends
close_notify, waits for the client's close_notify and closes.

Each dialogue follows the protocol's specification (cited per handler);
it accepts only what s_client sends and fails loudly on anything else.
Exit status 0 when the handshake completed and the connection closed
cleanly; the negotiated version and cipher are printed on stdout.
--ready FILE is created once the socket listens.

Standard library only.
"""
import socket
import ssl
import sys

TIMEOUT = 20


class Conn:
    """Line and byte reads on a plain socket, with a timeout and a log."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def read_line(self):
        while b"\n" not in self.buf:
            more = self.sock.recv(4096)
            if not more:
                raise EOFError(f"client closed, unread: {self.buf!r}")
            self.buf += more
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def read_exact(self, n):
        # never more than asked: a MySQL client sends its ClientHello right
        # behind the SSLRequest, and that must stay in the socket for ssl
        while len(self.buf) < n:
            more = self.sock.recv(n - len(self.buf))
            if not more:
                raise EOFError(f"client closed after {len(self.buf)} of {n} bytes")
            self.buf += more
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_until(self, marker):
        while marker not in self.buf:
            more = self.sock.recv(4096)
            if not more:
                raise EOFError(f"client closed before {marker!r}")
            self.buf += more
        i = self.buf.index(marker) + len(marker)
        data, self.buf = self.buf[:i], self.buf[i:]
        return data

    def expect_line(self, *wanted):
        line = self.read_line()
        if line.upper() not in [w.upper() for w in wanted]:
            raise ValueError(f"expected {wanted!r}, got {line!r}")
        return line

    def drained(self):
        """Nothing may be left over: the next bytes are the ClientHello."""
        if self.buf:
            raise ValueError(f"bytes after the upgrade command: {self.buf!r}")


# RFC 5321 s4.2, s4.1.1.1; RFC 3207 s4 (STARTTLS keyword, 220 go-ahead)
def smtp(c, lmtp=False):
    hello = b"LHLO" if lmtp else b"EHLO"
    name = b"LMTP" if lmtp else b"ESMTP"
    c.send(b"220 mail.example.net " + name + b" tlsentry sample server\r\n")
    line = c.read_line()
    if not line.upper().startswith(hello + b" "):
        raise ValueError(f"expected {hello!r}, got {line!r}")
    c.send(b"250-mail.example.net\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
           b"250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n")
    c.expect_line(b"STARTTLS")
    c.drained()
    c.send(b"220 2.0.0 Ready to start TLS\r\n")


# RFC 2033 s4.1: LHLO instead of EHLO, otherwise as SMTP
def lmtp(c):
    smtp(c, lmtp=True)


# RFC 3501 s7.1.1 greeting, s6.1.1 CAPABILITY, s6.2.1 STARTTLS
def imap(c):
    c.send(b"* OK [CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED] tlsentry sample IMAP ready\r\n")
    tag, cmd = c.read_line().split(b" ", 1)
    if cmd.upper() != b"CAPABILITY":
        raise ValueError(f"expected CAPABILITY, got {cmd!r}")
    c.send(b"* CAPABILITY IMAP4rev1 STARTTLS LOGINDISABLED\r\n" + tag + b" OK CAPABILITY completed\r\n")
    tag, cmd = c.read_line().split(b" ", 1)
    if cmd.upper() != b"STARTTLS":
        raise ValueError(f"expected STARTTLS, got {cmd!r}")
    c.drained()
    c.send(tag + b" OK Begin TLS negotiation now\r\n")


# RFC 1939 s4 greeting; RFC 2595 s4 STLS
def pop3(c):
    c.send(b"+OK tlsentry sample POP3 server ready\r\n")
    c.expect_line(b"STLS")
    c.drained()
    c.send(b"+OK Begin TLS negotiation\r\n")


# RFC 959 s5.4 greeting (multi-line, s4.2); RFC 4217 s4 AUTH TLS -> 234
def ftp(c):
    c.send(b"220-tlsentry sample FTP server\r\n220 ready\r\n")
    c.expect_line(b"AUTH TLS")
    c.drained()
    c.send(b"234 AUTH TLS successful\r\n")


# RFC 6120 s4.2 stream headers, s4.3.2 features, s5.4.2 starttls/proceed
def xmpp(c):
    head = c.read_until(b">")
    if b"http://etherx.jabber.org/streams" not in head:
        raise ValueError(f"not a stream header: {head!r}")
    c.send(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
           b"xmlns:stream='http://etherx.jabber.org/streams' id='tlsentry1' "
           b"from='example.net' version='1.0' xml:lang='en'>"
           b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
           b"<required/></starttls></stream:features>")
    req = c.read_until(b"/>")
    if b"<starttls" not in req or b"urn:ietf:params:xml:ns:xmpp-tls" not in req:
        raise ValueError(f"expected <starttls/>, got {req!r}")
    c.drained()
    c.send(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")


LDAP_STARTTLS_OID = b"1.3.6.1.4.1.1466.20037"


def ber(tag, value):
    """A BER TLV with a definite length (X.690 s8.1)."""
    n = len(value)
    if n < 0x80:
        return bytes([tag, n]) + value
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + value


# RFC 4511 s4.14.1 ExtendedRequest, s4.14.2 ExtendedResponse (responseName
# given), RFC 4513 s3
def ldap(c):
    head = c.read_exact(2)
    if head[0] != 0x30 or head[1] & 0x80:
        raise ValueError(f"not a short-form LDAPMessage: {head!r}")
    msg = c.read_exact(head[1])
    # messageID INTEGER, then [APPLICATION 23] { [0] requestName }
    if msg[0] != 0x02 or msg[2 + msg[1]] != 0x77:
        raise ValueError(f"not an ExtendedRequest: {msg!r}")
    msgid = msg[2:2 + msg[1]]
    if LDAP_STARTTLS_OID not in msg:
        raise ValueError(f"not StartTLS: {msg!r}")
    c.drained()
    result = (ber(0x0a, b"\x00") + ber(0x04, b"") + ber(0x04, b"")
              + ber(0x8a, LDAP_STARTTLS_OID))
    c.send(ber(0x30, ber(0x02, msgid) + ber(0x78, result)))


# MySQL Client/Server Protocol: Protocol::HandshakeV10, Protocol::SSLRequest
def mysql(c):
    caps = 0x0000f7ff | 0x0800          # ... | CLIENT_SSL
    payload = (b"\x0a" + b"8.0.36-tlsentry-sample\x00"
               + (7).to_bytes(4, "little")             # connection id
               + b"12345678" + b"\x00"                 # auth-plugin-data part 1, filler
               + (caps & 0xffff).to_bytes(2, "little")
               + b"\xff"                               # character set
               + (2).to_bytes(2, "little")             # status: autocommit
               + (0xdfff).to_bytes(2, "little")        # capability flags, upper
               + bytes([21]) + bytes(10)               # auth data length, reserved
               + b"9abcdefghijk\x00"                   # auth-plugin-data part 2
               + b"caching_sha2_password\x00")
    c.send(len(payload).to_bytes(3, "little") + b"\x00" + payload)
    hdr = c.read_exact(4)
    n, seq = int.from_bytes(hdr[:3], "little"), hdr[3]
    body = c.read_exact(n)
    if seq != 1 or n != 32 or not int.from_bytes(body[:4], "little") & 0x0800:
        raise ValueError(f"not an SSLRequest: {hdr + body!r}")
    c.drained()


# RFC 3977 s5.1.1 greeting, s5.2 CAPABILITIES; RFC 4642 s2.2 STARTTLS -> 382
def nntp(c):
    c.send(b"200 tlsentry sample NNTP service ready, posting allowed\r\n")
    c.expect_line(b"CAPABILITIES")
    c.send(b"101 Capability list:\r\nVERSION 2\r\nREADER\r\nSTARTTLS\r\n"
           b"LIST ACTIVE NEWSGROUPS\r\n.\r\n")
    c.expect_line(b"STARTTLS")
    c.drained()
    c.send(b"382 Continue with TLS negotiation\r\n")


# RFC 5804 s1.7 capabilities greeting, s2.2 STARTTLS -> OK
def sieve(c):
    c.send(b"\"IMPLEMENTATION\" \"tlsentry sample ManageSieve\"\r\n"
           b"\"SASL\" \"\"\r\n"
           b"\"SIEVE\" \"fileinto vacation\"\r\n"
           b"\"STARTTLS\"\r\n"
           b"\"VERSION\" \"1.0\"\r\n"
           b"OK \"ready\"\r\n")
    c.expect_line(b"STARTTLS")
    c.drained()
    c.send(b"OK \"Begin TLS negotiation now\"\r\n")


# IRCv3 tls extension: STARTTLS -> 670 RPL_STARTTLS (RFC 2812 s2.3 message
# format).  s_client reads numerics only, so no NOTICE is sent first.
def irc(c):
    c.expect_line(b"STARTTLS")
    c.drained()
    c.send(b":irc.example.net 670 * :STARTTLS successful, proceed with TLS handshake\r\n")


# RFC 9110 s9.3.6: CONNECT host:port, a 2xx opens the tunnel.  This "proxy"
# then terminates TLS itself, as an intercepting proxy would.
def connect(c):
    req = c.read_until(b"\r\n\r\n")
    if not req.startswith(b"CONNECT ") or b" HTTP/1." not in req.split(b"\r\n", 1)[0]:
        raise ValueError(f"not a CONNECT request: {req!r}")
    c.drained()
    c.send(b"HTTP/1.1 200 Connection established\r\n\r\n")


HANDLERS = {
    "smtp": smtp, "lmtp": lmtp, "imap": imap, "pop3": pop3, "ftp": ftp,
    "xmpp": xmpp, "ldap": ldap, "mysql": mysql, "nntp": nntp, "sieve": sieve,
    "irc": irc, "connect": connect,
}


def main():
    args = sys.argv[1:]
    ready = None
    if "--ready" in args:
        i = args.index("--ready")
        ready = args[i + 1]
        del args[i:i + 2]
    if len(args) != 5 or args[0] not in HANDLERS:
        sys.exit(__doc__)
    proto, addr, port, chain, key = args
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certfile=chain, keyfile=key)

    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, int(port)))
        ls.listen(1)
        ls.settimeout(TIMEOUT)
        if ready:
            open(ready, "w").close()
        sock, peer = ls.accept()
    sock.settimeout(TIMEOUT)
    HANDLERS[proto](Conn(sock))
    tls = ctx.wrap_socket(sock, server_side=True)      # the handshake
    print(f"{proto}: {peer[0]}:{peer[1]} {tls.version()} {tls.cipher()[0]}")
    tls.sendall(b"hello from the tlsentry STARTTLS sample server\r\n")
    plain = tls.unwrap()            # close_notify, then wait for the client's
    plain.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
