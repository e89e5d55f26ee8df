#!/usr/bin/env python3
"""hostile.py OUTDIR: write the generated hostile captures and OUTDIR/CASES.tsv.

Every capture is built here, byte by byte, from a seeded random generator
(standard library only; `openssl` makes the one throwaway certificate with
10,000 subjectAltNames).  tests/hostile-gen.sh runs tlsentry on each file and
checks the expectations written to CASES.tsv.

CASES.tsv: one line per capture, fields separated by tabs:

    file  key=value  key=value ...

    rules=1        run with -R samples/watch.rules
    summary=1      run without -q (the expectations read the summary on stderr)
    exit=N         exit status (default 0)
    events=N       handshake events ("kind":"event") on stdout
    alerts=N       alert events ("kind":"alert") on stdout
    lines=N        stdout lines in all
    stderr=REGEX   Python regex that stderr must match (re.search, MULTILINE);
                   may be repeated
    nostderr=REGEX Python regex that stderr must not match; may be repeated
    stderr_lines=N lines on stderr
    all=TEXT       literal text that every stdout line must contain; may be repeated
    some=TEXT      literal text that at least one stdout line must contain
    none=TEXT      literal text that no stdout line may contain
    what=TEXT      what the capture does (for the reader)

Checked for every case whatever it says: not killed by a signal, not timed
out, every stdout line one JSON object whose @timestamp is a valid ISO 8601
UTC time, stderr free of raw control bytes and of sanitizer reports.

Addresses: 10.0.0.0/8 and 2001:db8::/32 only.
"""
import base64
import ipaddress
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CERTS = os.path.join(REPO, "samples", "certs")

T0 = 1700000000 * 1000000          # 2023-11-14T22:13:20Z, in microseconds


def pem_to_der(path):
    """The first certificate of a PEM file, as DER."""
    b64 = []
    inside = False
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("-----BEGIN"):
                inside = True
            elif line.startswith("-----END"):
                break
            elif inside:
                b64.append(line)
    return base64.b64decode("".join(b64))


ROGUE_LEAF = pem_to_der(os.path.join(CERTS, "rogue-leaf-www.icloud.com.pem"))
ROGUE_CA = pem_to_der(os.path.join(CERTS, "rogue-ca.pem"))
LEGIT_LEAF = pem_to_der(os.path.join(CERTS, "legit-leaf-www.icloud.com.pem"))
LEGIT_CA = pem_to_der(os.path.join(CERTS, "legit-intermediate.pem"))
ROGUE_CHAIN = [ROGUE_LEAF, ROGUE_CA]

# --- classic pcap ------------------------------------------------------------------

LINK_ETH = 1
LINK_RAW = 101


class Pcap:
    """A classic pcap file: byte order, precision, snaplen and link type chosen
    per file; records written as given (caplen and len may lie)."""

    def __init__(self, path, linktype=LINK_ETH, snaplen=262144, big_endian=False,
                 nsec=False, magic=None, version=(2, 4)):
        self.f = open(path, "wb")
        self.e = ">" if big_endian else "<"
        self.nsec = nsec
        self.linktype = linktype
        self.n = 0
        if magic is None:
            magic = 0xA1B23C4D if nsec else 0xA1B2C3D4
        self.f.write(struct.pack(self.e + "IHHiIII", magic, version[0], version[1], 0, 0,
                                 snaplen, linktype))

    def raw(self, sec, frac, caplen, wirelen, data):
        self.f.write(struct.pack(self.e + "IIII", sec & 0xFFFFFFFF, frac & 0xFFFFFFFF,
                                 caplen & 0xFFFFFFFF, wirelen & 0xFFFFFFFF))
        self.f.write(data)
        self.n += 1

    def rec(self, ts_us, data, caplen=None, wirelen=None):
        sec, us = divmod(ts_us, 1000000)
        self.raw(sec, us * 1000 if self.nsec else us,
                 len(data) if caplen is None else caplen,
                 len(data) if wirelen is None else wirelen, data)

    def close(self):
        self.f.close()


# --- frames --------------------------------------------------------------------------

MAC_C = bytes.fromhex("020000000001")
MAC_S = bytes.fromhex("020000000002")


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_bytes(addr):
    """'10.1.2.3' or '2001:db8::1' -> packed."""
    return ipaddress.ip_address(addr).packed


def eth(payload, ethertype, src=MAC_C, dst=MAC_S):
    return dst + src + struct.pack("!H", ethertype) + payload


def ipv4(src, dst, proto, payload, options=b"", ihl=None, total=None, ident=1, ttl=64,
         frag=0x4000):
    if len(options) % 4:
        options += b"\0" * (4 - len(options) % 4)
    hl = 20 + len(options)
    ihl = hl // 4 if ihl is None else ihl
    total = hl + len(payload) if total is None else total
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | (ihl & 15), 0, total & 0xFFFF, ident & 0xFFFF,
                      frag, ttl, proto, 0, ip_bytes(src), ip_bytes(dst)) + options
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + payload


def ipv6(src, dst, nh, payload, plen=None, hop=64):
    plen = len(payload) if plen is None else plen
    return struct.pack("!IHBB16s16s", 0x60000000, plen & 0xFFFF, nh, hop,
                       ip_bytes(src), ip_bytes(dst)) + payload


TCP_FIN, TCP_SYN, TCP_RST, TCP_PSH, TCP_ACK = 1, 2, 4, 8, 16


def tcp(src, dst, sport, dport, seq, ack, flags, payload=b"", options=b"", win=64240,
        doff=None):
    if len(options) % 4:
        options += b"\1" * (4 - len(options) % 4)
    hl = 20 + len(options)
    doff = hl // 4 if doff is None else doff
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (doff & 15) << 4, flags, win, 0, 0) + options
    s, d = ip_bytes(src), ip_bytes(dst)
    seg = hdr + payload
    if len(s) == 4:
        pseudo = s + d + struct.pack("!BBH", 0, 6, len(seg) & 0xFFFF)
    else:
        pseudo = s + d + struct.pack("!IxxxB", len(seg), 6)
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def ip_packet(src, dst, proto, payload, ip_opts=b""):
    if ":" in src:
        return ipv6(src, dst, proto, payload)
    return ipv4(src, dst, proto, payload, options=ip_opts)


def frame(src, dst, proto, payload, link=LINK_ETH, ip_opts=b""):
    pkt = ip_packet(src, dst, proto, payload, ip_opts)
    if link == LINK_RAW:
        return pkt
    return eth(pkt, 0x86DD if ":" in src else 0x0800)


class Conn:
    """One TCP connection, written packet by packet with proper sequence and
    acknowledgement numbers.  emit(ts_us, frame) writes a packet; clock()
    gives each packet's time."""

    def __init__(self, emit, rng, client, server, cport, sport=443, link=LINK_ETH,
                 t0=T0, step=1000, clock=None, ip_opts=b"", mss=1460):
        self.emit, self.rng = emit, rng
        self.addr = (client, server)
        self.port = (cport, sport)
        self.link, self.ip_opts, self.mss = link, ip_opts, mss
        self.isn = [rng.getrandbits(32), rng.getrandbits(32)]
        self.nxt = [(self.isn[0] + 1) & 0xFFFFFFFF, (self.isn[1] + 1) & 0xFFFFFFFF]
        self.t, self.step = t0, step
        self.clock = clock

    def now(self):
        if self.clock is not None:
            return self.clock()
        self.t += self.step
        return self.t

    def pkt(self, c2s, flags, payload=b"", seq=None, ack=None, opts=b"", ts=None):
        i = 0 if c2s else 1
        src, dst = self.addr[i], self.addr[1 - i]
        sp, dp = self.port[i], self.port[1 - i]
        seq = self.nxt[i] if seq is None else seq
        if ack is None:
            ack = self.nxt[1 - i] if flags & TCP_ACK else 0
        seg = tcp(src, dst, sp, dp, seq, ack, flags, payload, opts)
        self.emit(self.now() if ts is None else ts, frame(src, dst, 6, seg, self.link,
                                                          self.ip_opts))

    def open(self):
        mss = struct.pack("!BBH", 2, 4, self.mss)
        self.pkt(True, TCP_SYN, seq=self.isn[0], opts=mss)
        self.pkt(False, TCP_SYN | TCP_ACK, seq=self.isn[1], opts=mss)
        self.pkt(True, TCP_ACK)

    def send(self, c2s, data, ack_it=True):
        i = 0 if c2s else 1
        for off in range(0, len(data), self.mss):
            chunk = data[off:off + self.mss]
            self.pkt(c2s, TCP_ACK | TCP_PSH, chunk)
            self.nxt[i] = (self.nxt[i] + len(chunk)) & 0xFFFFFFFF
        if ack_it:
            self.pkt(not c2s, TCP_ACK)

    def close(self):
        self.pkt(True, TCP_FIN | TCP_ACK)
        self.nxt[0] = (self.nxt[0] + 1) & 0xFFFFFFFF
        self.pkt(False, TCP_FIN | TCP_ACK)
        self.nxt[1] = (self.nxt[1] + 1) & 0xFFFFFFFF
        self.pkt(True, TCP_ACK)


# --- TLS -----------------------------------------------------------------------------

CT_CCS, CT_ALERT, CT_HS, CT_APP = 20, 21, 22, 23
HS_CH, HS_SH, HS_CERT, HS_SHD, HS_CKE = 1, 2, 11, 14, 16


def u24(n):
    return struct.pack("!I", n)[1:]


def record(ct, body, version=0x0303):
    return struct.pack("!BHH", ct, version, len(body)) + body


def records(ct, body, version=0x0303, size=16384):
    """A body split into records of at most size bytes."""
    return b"".join(record(ct, body[i:i + size], version) for i in range(0, len(body), size))


def hs(msg_type, body, length=None):
    return struct.pack("!B", msg_type) + u24(len(body) if length is None else length) + body


def ext(t, body):
    return struct.pack("!HH", t, len(body)) + body


def client_hello(rng, sni):
    ciphers = [0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0x009C, 0x009D, 0x002F, 0x0035]
    exts = b""
    if sni is not None:
        exts += ext(0, struct.pack("!HBH", len(sni) + 3, 0, len(sni)) + sni)
    exts += ext(10, struct.pack("!H", 6) + struct.pack("!HHH", 0x001D, 0x0017, 0x0018))
    exts += ext(11, b"\x01\x00")
    exts += ext(13, struct.pack("!H", 8) + struct.pack("!HHHH", 0x0403, 0x0804, 0x0401, 0x0201))
    exts += ext(16, struct.pack("!H", 12) + b"\x02h2\x08http/1.1")
    exts += ext(0xFF01, b"\x00")
    body = (struct.pack("!H", 0x0303) + rng.randbytes(32) + b"\x20" + rng.randbytes(32) +
            struct.pack("!H", 2 * len(ciphers)) + struct.pack("!%dH" % len(ciphers), *ciphers) +
            b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    return hs(HS_CH, body)


def server_hello(rng, version=0x0303, cipher=0xC030):
    exts = ext(0xFF01, b"\x00") + ext(11, b"\x01\x00")
    body = (struct.pack("!H", version) + rng.randbytes(32) + b"\x20" + rng.randbytes(32) +
            struct.pack("!HB", cipher, 0) + struct.pack("!H", len(exts)) + exts)
    return hs(HS_SH, body)


def certificate(ders):
    lst = b"".join(u24(len(d)) + d for d in ders)
    return hs(HS_CERT, u24(len(lst)) + lst)


def server_flight(rng, chain):
    return records(CT_HS, server_hello(rng) + certificate(chain) + hs(HS_SHD, b""))


def client_finish(rng):
    cke = hs(HS_CKE, b"\x20" + rng.randbytes(32))
    return (record(CT_HS, cke) + record(CT_CCS, b"\x01") +
            record(CT_HS, rng.randbytes(40)))


def server_finish(rng):
    return record(CT_CCS, b"\x01") + record(CT_HS, rng.randbytes(40))


def tls12(conn, rng, sni, chain, flight=None, before_flight=None, close=True):
    """The full TLS 1.2 handshake: SYN, SYN-ACK, ACK, ClientHello, ServerHello +
    Certificate + ServerHelloDone, client CKE + ChangeCipherSpec + Finished,
    server ChangeCipherSpec + Finished, application data, FINs."""
    conn.open()
    conn.send(True, record(CT_HS, client_hello(rng, sni), version=0x0301))
    if before_flight is not None:
        before_flight(conn)
    conn.send(False, server_flight(rng, chain) if flight is None else flight)
    conn.send(True, client_finish(rng))
    conn.send(False, server_finish(rng))
    conn.send(True, record(CT_APP, rng.randbytes(120)))
    if close:
        conn.close()


# --- the cases ----------------------------------------------------------------------------

class Suite:
    def __init__(self, outdir):
        self.outdir = outdir
        self.lines = []
        self.rng = random.Random(20261128)

    def open(self, name, **kw):
        return Pcap(os.path.join(self.outdir, name), **kw)

    def case(self, name, what, all_sni=0, **exp):
        if all_sni:             # every line names the connection by its SNI
            exp["all"] = exp["all"] + ['"server_name":"www.icloud.com"', '"watched_name_from":"sni"']
        fields = [name]
        for k, v in exp.items():
            for item in (v if isinstance(v, list) else [v]):
                fields.append("%s=%s" % (k, item))
        fields.append("what=" + what)
        for f in fields:
            assert "\t" not in f and "\n" not in f, f
        self.lines.append("\t".join(fields))

    def write_cases(self):
        with open(os.path.join(self.outdir, "CASES.tsv"), "w") as f:
            f.write("\n".join(self.lines) + "\n")


# One interception and what it must give with samples/watch.rules.
ONE_ALERT = dict(rules=1, exit=0, events=1, alerts=1,
                 all=['"issuer":"CN=Rogue Interception CA,O=Totally Trusted Security Ltd,C=XX"'])


def rogue(cap_or_emit, rng, client="10.1.0.2", server="10.2.0.1", cport=50000, **kw):
    emit = cap_or_emit.rec if isinstance(cap_or_emit, Pcap) else cap_or_emit
    conn = Conn(emit, rng, client, server, cport, **kw)
    tls12(conn, rng, b"www.icloud.com", ROGUE_CHAIN)
    return conn


def case_controls(s):
    cap = s.open("ok_rogue_v4.pcap")
    rogue(cap, s.rng)
    cap.close()
    s.case("ok_rogue_v4.pcap", "control: the interception over IPv4/Ethernet, little-endian usec",
           summary=1, stderr=[r"1 handshake: 1 with a server certificate", r"; 1 alert\n",
                              r"read 17 packets from 1 file"],
           some=['"established":true', '"server_name":"www.icloud.com"'], **ONE_ALERT)
    cap = s.open("ok_rogue_v6_be_nsec.pcap", big_endian=True, nsec=True)
    rogue(cap, s.rng, client="2001:db8::2", server="2001:db8:1::1", cport=50001)
    cap.close()
    s.case("ok_rogue_v6_be_nsec.pcap", "control: the interception over IPv6, big-endian nanosecond pcap",
           some=['"type":"ipv6"', '"established":true'], **ONE_ALERT)


def case_file_headers(s):
    cap = s.open("hdr_snaplen_huge.pcap", snaplen=0xFFFFFFFF)
    rogue(cap, s.rng)
    cap.close()
    s.case("hdr_snaplen_huge.pcap", "file header snaplen 0xFFFFFFFF (libpcap takes its own maximum): read as usual",
           summary=1, nostderr=[r"warning", r"cut short"], **ONE_ALERT)
    cap = s.open("hdr_linktype_9999.pcap", linktype=9999)
    rogue(cap, s.rng)
    cap.close()
    s.case("hdr_linktype_9999.pcap", "file header link type 9999: one-line error, exit 1, nothing on stdout",
           summary=1, exit=1, lines=0, stderr_lines=1,
           stderr=r"^tlsentry: .*hdr_linktype_9999\.pcap: link type 9999 \(unknown\) is not supported\n\Z")
    cap = s.open("hdr_snaplen_zero.pcap", snaplen=0, big_endian=True)
    rogue(cap, s.rng)
    cap.close()
    s.case("hdr_snaplen_zero.pcap", "file header snaplen 0, big-endian: read as usual", **ONE_ALERT)


def case_records(s):
    rng = s.rng
    # caplen > len: every record carries 32 bytes of junk after the frame that
    # len does not count; a few frames claim len 10 with caplen 1000.
    cap = s.open("rec_caplen_gt_len.pcap")
    def emit_trailer(ts, fr):
        cap.rec(ts, fr + rng.randbytes(32), caplen=len(fr) + 32, wirelen=len(fr))
    for i in range(5):
        cap.rec(T0 + i, rng.randbytes(1000), caplen=1000, wirelen=10)
    rogue(emit_trailer, rng)
    cap.close()
    s.case("rec_caplen_gt_len.pcap",
           "records with caplen > len: 32 junk bytes past len on every frame, 5 records caplen 1000 len 10",
           summary=1, nostderr=r"cut short", stderr=r"packets not followed: .* 5 malformed\n",
           **ONE_ALERT)

    # the last record claims 4000 bytes but the file ends 100 bytes into it
    cap = s.open("rec_past_eof.pcap")
    rogue(cap, rng)
    cap.rec(T0 + 10**7, rng.randbytes(100), caplen=4000, wirelen=4000)
    cap.close()
    s.case("rec_past_eof.pcap", "the last record's caplen (4000) runs past the end of the file",
           summary=1,
           stderr=[r"^tlsentry: warning: .*rec_past_eof\.pcap: capture cut short or damaged after "
                   r"17 packets \(truncated dump file; tried to read 4000 captured bytes, only got "
                   r"100\); kept what was read$"],
           **ONE_ALERT)

    # zero-length records (caplen 0, len 0 and caplen 0, len 1514) between the packets
    cap = s.open("rec_zero_len.pcap")
    def emit_zero(ts, fr):
        cap.rec(ts, b"", caplen=0, wirelen=0)
        cap.rec(ts, fr)
        cap.rec(ts, b"", caplen=0, wirelen=1514)
    rogue(emit_zero, rng)
    cap.close()
    s.case("rec_zero_len.pcap", "an empty record (caplen 0; len 0 or 1514) before and after each of the 17 packets",
           summary=1, stderr=[r"read 51 packets", r"packets not followed: .* 34 malformed\n"],
           nostderr=r"cut short", **ONE_ALERT)

    # one record of the largest size libpcap accepts: caplen = len = snaplen = 262144
    cap = s.open("rec_max_len.pcap", snaplen=262144)
    junk = bytearray(rng.randbytes(262144))
    junk[12:14] = b"\x88\xb5"                     # an EtherType nobody decodes
    cap.rec(T0, bytes(junk))
    seg = tcp("10.9.0.1", "10.9.0.2", 40000, 443, 1, 0, TCP_ACK, rng.randbytes(262144 - 54))
    cap.rec(T0 + 1, eth(ipv4("10.9.0.1", "10.9.0.2", 6, seg, total=0xFFFF), 0x0800))
    rogue(cap, rng, t0=T0 + 1000000)
    cap.close()
    s.case("rec_max_len.pcap",
           "a 262144-byte record of garbage, a 262144-byte IPv4/TCP frame of garbage, then the interception",
           summary=1, nostderr=r"cut short",
           stderr=[r"read 19 packets from 1 file in [0-9.]+ s \([0-9.]+ kB\); 2 TCP flows, 1 with TLS\n",
                   r"packets not followed: 0 UDP, 1 other protocols, 0 IP fragments, 0 malformed\n"],
           **ONE_ALERT)

    # one byte over: libpcap refuses the record, the read stops there with a warning
    cap = s.open("rec_over_max.pcap", snaplen=262144)
    rogue(cap, rng)
    cap.rec(T0 + 10**7, rng.randbytes(262145))
    rogue(cap, rng, client="10.1.0.3", cport=50002, t0=T0 + 2 * 10**7)
    cap.close()
    s.case("rec_over_max.pcap",
           "the interception, a 262145-byte record (over libpcap's maximum), a second interception",
           summary=1, rules=1, exit=0, events=1, alerts=1,
           stderr=r"(?m)^tlsentry: warning: .*rec_over_max\.pcap: capture cut short or damaged after 17 "
                  r"packets \(.*262145.*\); kept what was read$")


def case_timestamps(s):
    rng = s.rng
    # every packet one second before the previous one
    cap = s.open("ts_backwards.pcap")
    t = [T0 + 500000]
    def back():
        t[0] -= 1000000
        return t[0]
    rogue(cap, rng, clock=back)
    cap.close()
    # packets: SYN -1s, SYN-ACK -2s, ACK -3s, ClientHello -4s
    s.case("ts_backwards.pcap", "each packet of the handshake 1 s before the one before it",
           some='"@timestamp":"2023-11-14T22:13:16.500000Z"', **ONE_ALERT)

    # years between the packets of one handshake: the flow goes idle (capture
    # time) at each jump, and the pieces are reported separately
    cap = s.open("ts_jump_years.pcap")
    year = 365 * 86400 * 1000000
    times = iter([T0, T0 + 1000, T0 + 2000, T0 + 3000,       # SYN, SYN-ACK, ACK, ClientHello
                  T0 + 4000,                                 # ACK of the ClientHello
                  T0 + 5 * year, T0 + 5 * year + 1000,        # server flight 5 years later
                  T0 + 5 * year + 2000, T0 + 5 * year + 3000,
                  T0 + 5 * year + 4000])
    later = [T0 + 40 * year]                                 # then 40 years more: 2063
    def jump():
        try:
            return next(times)
        except StopIteration:
            later[0] += 1000
            return later[0]
    rogue(cap, rng, clock=jump)
    cap.close()
    s.case("ts_jump_years.pcap",
           "a 5-year jump after the ClientHello, a 35-year jump after the client's Finished: "
           "3 flows by the idle timeout (capture time), the first 2 end idle",
           summary=1, rules=1, exit=0, events=2, alerts=1,
           stderr=[r"; 3 TCP flows, ", r"flows ended: 1 FIN, 0 RST, 2 idle"],
           some=['"@timestamp":"2023-11-14T22:13:20.003000Z","ecs"',
                 '"@timestamp":"2028-11-12T22:13:20.000000Z","ecs"',
                 '"incomplete":"flow went idle before the handshake ended"',
                 '"watched_name_from":"certificate"'])

    # handshakes at the edges of the timestamp field, one after the other:
    # second 0 (1970), usec >= 10^6 on every packet, 0x7FFFFFFF and 0x80000000
    # (either side of 2038-01-19T03:14:08Z), 0xFFFFFFFF (2106).  The field is
    # unsigned (draft-ietf-opsawg-pcap; Wireshark reads it so): the last two
    # are after 2038, not before 1970.
    cap = s.open("ts_extremes.pcap")
    rogue(cap, rng, client="10.1.0.10", cport=50010, t0=0)
    bad_us = iter([1000000, 4000000000, 0xFFFFFFFF, 999999 + 1] * 10)
    def emit_bad_us(ts, fr):
        cap.raw(T0 // 1000000, next(bad_us), len(fr), len(fr), fr)
    rogue(emit_bad_us, rng, client="10.1.0.11", cport=50011)
    rogue(cap, rng, client="10.1.0.12", cport=50012, t0=0x7FFFFFFF * 1000000)
    rogue(cap, rng, client="10.1.0.13", cport=50013, t0=0x80000000 * 1000000)
    rogue(cap, rng, client="10.1.0.14", cport=50014, t0=0xFFFFFFFF * 1000000)
    cap.close()
    s.case("ts_extremes.pcap",
           "5 interceptions: at second 0, with usec >= 10^6 on every packet, at 2^31-1 s, 2^31 s and 2^32-1 s",
           summary=1, rules=1, exit=0, events=5, alerts=5,
           stderr=[r"; 5 TCP flows, 5 with TLS\n", r"flows ended: 5 FIN, 0 RST, 0 idle"],
           all=ONE_ALERT["all"],
           some=['"@timestamp":"1970-01-01T00:00:00.004000Z","ecs"',
                 '"@timestamp":"2023-11-14T22:13:20.000000Z","ecs"',
                 '"@timestamp":"2038-01-19T03:14:07.004000Z","ecs"',
                 '"@timestamp":"2038-01-19T03:14:08.004000Z","ecs"',
                 '"@timestamp":"2106-02-07T06:28:15.004000Z","ecs"'])

    # a capture whose second half is ten years older than its first (files
    # concatenated out of order): both interceptions are reported
    cap = s.open("ts_backwards_years.pcap")
    rogue(cap, rng, client="10.1.0.20", cport=50020)
    rogue(cap, rng, client="10.1.0.21", cport=50021, t0=T0 - 10 * 365 * 86400 * 1000000)
    cap.close()
    s.case("ts_backwards_years.pcap", "two interceptions, the second 10 years before the first",
           summary=1, rules=1, exit=0, events=2, alerts=2,
           stderr=[r"; 2 TCP flows, 2 with TLS\n", r"flows ended: 2 FIN, 0 RST, 0 idle"],
           all=ONE_ALERT["all"],
           some=['"@timestamp":"2023-11-14T22:13:20.004000Z","ecs"',
                 '"@timestamp":"2013-11-16T22:13:20.004000Z","ecs"'])


def junk_tcp(src="10.66.0.1", dst="10.66.0.2"):
    return tcp(src, dst, 40000, 443, 1, 0, TCP_ACK | TCP_PSH, b"\x16\x03\x01\x00\x05hello")


def case_ip(s):
    rng = s.rng
    # IPv4 IHL < 5
    cap = s.open("ip4_ihl_small.pcap")
    for i in range(25):
        p = bytearray(ipv4("10.66.0.1", "10.66.0.2", 6, junk_tcp()))
        p[0] = 0x40 | (i % 5)                  # IHL 0..4
        cap.rec(T0 + i, eth(bytes(p), 0x0800))
    rogue(cap, rng, t0=T0 + 10**6)
    cap.close()
    s.case("ip4_ihl_small.pcap", "25 IPv4 packets with IHL 0..4, then the interception",
           summary=1, stderr=r"packets not followed: 0 UDP, 0 other protocols, 0 IP fragments, 25 malformed\n",
           **ONE_ALERT)

    # IPv4 IHL larger than the packet (and than the total length)
    cap = s.open("ip4_ihl_large.pcap")
    for i in range(20):
        body = rng.randbytes(i)               # 0..19 bytes after a 20-byte header
        hdr = ipv4("10.66.0.1", "10.66.0.2", 6, body, ihl=15 if i % 2 else 6 + i % 9)
        cap.rec(T0 + i, eth(hdr, 0x0800))
    for i in range(10):                         # IHL 15, total says 60, frame cut at 24
        hdr = ipv4("10.66.0.1", "10.66.0.2", 6, b"\0" * 40, ihl=15)[:24]
        cap.rec(T0 + 100 + i, eth(hdr, 0x0800))
    rogue(cap, rng, t0=T0 + 10**6)
    cap.close()
    s.case("ip4_ihl_large.pcap", "30 IPv4 packets whose IHL runs past the packet, then the interception",
           summary=1, stderr=r"packets not followed: 0 UDP, 0 other protocols, 0 IP fragments, 30 malformed\n",
           **ONE_ALERT)

    # IPv4 with 40 bytes of options on every packet of the handshake (raw IP link)
    cap = s.open("ip4_options40.pcap", linktype=LINK_RAW)
    opts = b"\x07\x27\x04" + b"\0" * 36 + b"\x00"   # record route, 9 slots, then EOL
    assert len(opts) == 40
    rogue(cap, rng, link=LINK_RAW, ip_opts=opts)
    cap.close()
    s.case("ip4_options40.pcap", "the interception with 40 bytes of IPv4 options (IHL 15) on every packet, raw-IP link",
           summary=1, stderr=r"packets not followed: 0 UDP, 0 other protocols, 0 IP fragments, 0 malformed\n",
           **ONE_ALERT)

    # IPv6: 1000 hop-by-hop headers; and a chain that runs to the end of the packet
    cap = s.open("ip6_ext_chain.pcap")
    seg = tcp("2001:db8::66", "2001:db8::67", 40000, 443, 1, 0, TCP_ACK, b"x")
    hbh = b"\x00\x00" + b"\x01\x04\0\0\0\0"          # next=hop-by-hop, len 0, PadN
    last = b"\x06\x00" + b"\x01\x04\0\0\0\0"         # next=TCP
    for i in range(10):
        chain = hbh * 999 + last + seg
        cap.rec(T0 + i, eth(ipv6("2001:db8::66", "2001:db8::67", 0, chain), 0x86DD))
    for i in range(10):                             # never ends: hop-by-hop to the last byte
        chain = hbh * 1000
        cap.rec(T0 + 100 + i, eth(ipv6("2001:db8::66", "2001:db8::67", 0, chain), 0x86DD))
    for i in range(5):                              # payload length 0 (jumbo), chain to the end
        cap.rec(T0 + 200 + i, eth(ipv6("2001:db8::66", "2001:db8::67", 0, hbh * 1000, plen=0), 0x86DD))
    rogue(cap, rng, client="2001:db8::2", server="2001:db8:1::1", t0=T0 + 10**6)
    cap.close()
    s.case("ip6_ext_chain.pcap",
           "25 IPv6 packets with 1000 hop-by-hop headers (ending in TCP, never ending, jumbo "
           "length 0), then the interception over IPv6",
           summary=1, stderr=r"packets not followed: 0 UDP, 0 other protocols, 0 IP fragments, 25 malformed\n",
           **ONE_ALERT)

    # TCP data offset past the end of the segment
    cap = s.open("tcp_doff_past_end.pcap")
    for i in range(20):
        payload = rng.randbytes(i % 4 * 4)
        seg = tcp("10.66.0.1", "10.66.0.2", 40000 + i, 443, 1, 0, TCP_ACK | TCP_PSH, payload,
                  doff=15 if i % 2 else 6 + len(payload) // 4)
        cap.rec(T0 + i, eth(ipv4("10.66.0.1", "10.66.0.2", 6, seg), 0x0800))
    for i in range(5):                              # data offset < 5
        seg = tcp("10.66.0.1", "10.66.0.2", 41000 + i, 443, 1, 0, TCP_ACK, b"", doff=i)
        cap.rec(T0 + 100 + i, eth(ipv4("10.66.0.1", "10.66.0.2", 6, seg), 0x0800))
    rogue(cap, rng, t0=T0 + 10**6)
    cap.close()
    s.case("tcp_doff_past_end.pcap",
           "20 TCP segments whose data offset runs past the segment and 5 with offset < 5, then the interception",
           summary=1, stderr=r"packets not followed: 0 UDP, 0 other protocols, 0 IP fragments, 25 malformed\n",
           **ONE_ALERT)


def far_seq(rng, nxt):
    """A random sequence number at least 2^24 away from nxt (far outside any window)."""
    return (nxt + (1 << 24) + rng.randrange((1 << 32) - (1 << 25))) & 0xFFFFFFFF


def storm(cap, rng, n, flags, t0, pick):
    """n bare TCP packets over IPv4/Ethernet; pick(i) -> (src, dst, sport, dport, seq, ack)."""
    for i in range(n):
        src, dst, sport, dport, seq, ack = pick(i)
        hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 0x50, flags, 1024, 0, 0)
        pseudo = src + dst + b"\x00\x06\x00\x14"
        hdr = hdr[:16] + struct.pack("!H", csum(pseudo + hdr)) + hdr[18:]
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, i & 0xFFFF, 0x4000, 64, 6, 0, src, dst)
        iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
        cap.rec(t0 + i * 10, MAC_S + MAC_C + b"\x08\x00" + iph + hdr)


def case_storms(s):
    """100,000 SYNs, FINs or RSTs: from random sources before the interception,
    and on the interception's own tuple between its ClientHello and the
    server's flight (sequence numbers far outside the window: a receiver
    drops them, so the sensor must too)."""
    rng = s.rng
    n = 100000
    server = ip_bytes("10.2.0.1")
    for kind, flags in (("syn", TCP_SYN), ("fin", TCP_FIN | TCP_ACK), ("rst", TCP_RST | TCP_ACK)):
        name = "storm_%s_random.pcap" % kind
        cap = s.open(name)
        def pick(i):
            src = bytes([10, rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)])
            return (src, server, rng.randrange(1024, 65536), 443, rng.getrandbits(32),
                    rng.getrandbits(32) if flags & TCP_ACK else 0)
        storm(cap, rng, n, flags, T0, pick)
        rogue(cap, rng, t0=T0 + n * 10 + 1000)
        cap.close()
        if kind == "syn":
            extra = [r"; 100001 TCP flows, 1 with TLS\n", r"[0-9]+ evicted \(table full\), 0 reused, "
                     r"65535 open at the end; peak 65536 at once"]
        else:           # a bare FIN or RST never starts a flow
            extra = [r"; 1 TCP flow, 1 with TLS\n", r"flows ended: 1 FIN, 0 RST, 0 idle"]
        s.case(name, "%d %ss from random 10/8 sources to 10.2.0.1:443, then the interception"
               % (n, kind.upper()), summary=1,
               stderr=[r"read 100017 packets from 1 file in [0-9.]+ s"] + extra, **ONE_ALERT)

        name = "storm_%s_inflow.pcap" % kind
        cap = s.open(name)
        def inject(conn, flags=flags):
            cli, srv = ip_bytes(conn.addr[0]), ip_bytes(conn.addr[1])
            def pick(i):
                if kind == "syn" or (kind == "fin" and i % 2 == 0):     # as the client
                    return (cli, srv, conn.port[0], conn.port[1],
                            far_seq(rng, conn.nxt[0]) if kind != "syn" else rng.getrandbits(32),
                            conn.nxt[1] if flags & TCP_ACK else 0)
                return (srv, cli, conn.port[1], conn.port[0], far_seq(rng, conn.nxt[1]),
                        conn.nxt[0])
            storm(cap, rng, n, flags, conn.t + 10, pick)
            conn.t += n * 10 + 1000
        conn = Conn(cap.rec, rng, "10.1.0.2", "10.2.0.1", 50000)
        tls12(conn, rng, b"www.icloud.com", ROGUE_CHAIN, before_flight=inject)
        cap.close()
        who = {"syn": "the client, new ISNs", "fin": "both sides", "rst": "the server"}[kind]
        s.case(name, "%d %ss on the interception's tuple (from %s, far outside the window) "
               "between its ClientHello and the server's flight" % (n, kind.upper(), who),
               summary=1, stderr=[r"read 100017 packets from 1 file in [0-9.]+ s \([0-9.]+ [kM]B\); "
                                  r"1 TCP flow, 1 with TLS\n",
                                  r"flows ended: 1 FIN, 0 RST, 0 idle, 0 evicted \(table full\), 0 reused"],
               some='"established":true', all_sni=1, **ONE_ALERT)


def case_injection(s):
    rng = s.rng
    cap = s.open("seq_jump_2_31.pcap")
    def inject(conn):
        # the interceptor injects, as the server, a ServerHello and Apple's
        # legitimate chain 2^31 bytes away from the server's next sequence number
        fake = server_flight(rng, [LEGIT_LEAF, LEGIT_CA])
        conn.pkt(False, TCP_ACK | TCP_PSH, fake[:1400], seq=(conn.nxt[1] + (1 << 31)) & 0xFFFFFFFF)
    conn = Conn(cap.rec, rng, "10.1.0.2", "10.2.0.1", 50000)
    tls12(conn, rng, b"www.icloud.com", ROGUE_CHAIN, before_flight=inject)
    cap.close()
    s.case("seq_jump_2_31.pcap",
           "an injected server segment (ServerHello + Apple's chain) at sequence number + 2^31 "
           "before the real rogue flight",
           some='"established":true', none='"issuer":"CN=Apple Public Server', **ONE_ALERT)


def case_injected_close(s):
    """One SYN with a new ISN, or a FIN from each side far outside the window,
    injected on the interception's tuple between its ClientHello and the
    server's flight.  A receiver ignores them (RFC 5961: a SYN in an
    established connection gets a challenge ACK; an unacceptable segment,
    FIN included, is dropped), so the sensor must not end the connection."""
    rng = s.rng
    def syn(conn):
        conn.pkt(True, TCP_SYN, seq=(conn.isn[0] + 0x10000000) & 0xFFFFFFFF, ack=0)
    def fins(conn):
        conn.pkt(True, TCP_FIN | TCP_ACK, seq=far_seq(rng, conn.nxt[0]))
        conn.pkt(False, TCP_FIN | TCP_ACK, seq=far_seq(rng, conn.nxt[1]))
    for name, hook, what in (("inject_syn_newisn.pcap", syn, "one SYN with another ISN from the client"),
                             ("inject_fin_far.pcap", fins, "a FIN from each side, 2^24+ outside the window")):
        cap = s.open(name)
        conn = Conn(cap.rec, rng, "10.1.0.2", "10.2.0.1", 50000)
        tls12(conn, rng, b"www.icloud.com", ROGUE_CHAIN, before_flight=hook)
        cap.close()
        s.case(name, what + ", injected between the ClientHello and the server's flight: one connection, one event",
               summary=1, stderr=[r"; 1 TCP flow, 1 with TLS\n",
                                  r"flows ended: 1 FIN, 0 RST, 0 idle, 0 evicted \(table full\), 0 reused"],
               some='"established":true', all_sni=1, **ONE_ALERT)


def case_port_reuse(s):
    """The client reuses its port for a second connection (new ISNs) after the
    first one's handshake was judged: either its FINs were lost to the capture
    or only the client's FIN was seen.  The second handshake, the
    interception, must be seen as a connection of its own."""
    rng = s.rng
    for name, closing, what in (("reuse_no_fin.pcap", None, "no FIN seen on the first"),
                                ("reuse_half_close.pcap", "client", "only the client's FIN seen")):
        cap = s.open(name)
        first = Conn(cap.rec, rng, "10.1.0.2", "10.2.0.1", 50000)
        tls12(first, rng, b"www.icloud.com", [LEGIT_LEAF, LEGIT_CA], close=False)
        if closing == "client":
            first.pkt(True, TCP_FIN | TCP_ACK)
        second = Conn(cap.rec, rng, "10.1.0.2", "10.2.0.1", 50000, t0=first.t + 1000000)
        tls12(second, rng, b"www.icloud.com", ROGUE_CHAIN)
        cap.close()
        s.case(name, "the same ports for a second connection, " + what +
               ": two connections, the first trusted, the second the interception",
               summary=1, rules=1, exit=0, events=2, alerts=1,
               stderr=[r"; 2 TCP flows, 2 with TLS\n", r"[0-9]+ idle, 0 evicted \(table full\), 1 reused"],
               some=['"verdict":"issuer-ok"', '"verdict":"unexpected-issuer"'])


# --- DTLS ------------------------------------------------------------------------------

def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    return frame(src, dst, 17, seg)


def dtls_record(ct, body, epoch=0, seq=0, version=0xFEFD):
    return struct.pack("!BHH", ct, version, epoch) + struct.pack("!Q", seq)[2:] + \
        struct.pack("!H", len(body)) + body


def dtls_fragment(msg_type, body, msg_seq, off=0, flen=None, total=None):
    """One DTLS handshake fragment (RFC 6347 s4.2.2) of a message whose body is body."""
    flen = len(body) - off if flen is None else flen
    total = len(body) if total is None else total
    return (struct.pack("!B", msg_type) + u24(total) + struct.pack("!H", msg_seq) + u24(off) +
            u24(flen) + body[off:off + flen])


def dtls_client_hello_body(rng, sni):
    exts = ext(0, struct.pack("!HBH", len(sni) + 3, 0, len(sni)) + sni)
    exts += ext(10, struct.pack("!H", 4) + struct.pack("!HH", 0x001D, 0x0017))
    return (struct.pack("!H", 0xFEFD) + rng.randbytes(32) + b"\x00" + b"\x00" +
            struct.pack("!HHH", 4, 0xC02B, 0xC02F) + b"\x01\x00" + struct.pack("!H", len(exts)) + exts)


def dtls_server_hello_body(rng):
    return (struct.pack("!H", 0xFEFD) + rng.randbytes(32) + b"\x00" + struct.pack("!HB", 0xC02F, 0) +
            struct.pack("!H", 0))


def cert_body(ders):
    lst = b"".join(u24(len(d)) + d for d in ders)
    return u24(len(lst)) + lst


class Udp:
    def __init__(self, cap, client="10.1.0.2", server="10.2.0.1", cport=50000, sport=4433):
        self.cap, self.t = cap, T0
        self.addr, self.port = (client, server), (cport, sport)
        self.rseq = [0, 0]

    def send(self, c2s, *records_):
        i = 0 if c2s else 1
        self.t += 1000
        self.cap.rec(self.t, udp(self.addr[i], self.addr[1 - i], self.port[i], self.port[1 - i],
                                 b"".join(records_)))

    def rec(self, c2s, ct, body, epoch=0):
        i = 0 if c2s else 1
        self.rseq[i] += 1
        return dtls_record(ct, body, epoch=epoch, seq=self.rseq[i])


def dtls12(cap, rng, chain, before_cert=None, frag=400):
    """A DTLS 1.2 handshake (no cookie exchange): ClientHello; ServerHello, the
    Certificate in frag-byte fragments, ServerHelloDone; the client's CCS and
    an epoch-1 record."""
    u = Udp(cap)
    u.send(True, u.rec(True, CT_HS, dtls_fragment(HS_CH, dtls_client_hello_body(rng, b"www.icloud.com"), 0)))
    u.send(False, u.rec(False, CT_HS, dtls_fragment(HS_SH, dtls_server_hello_body(rng), 0)))
    if before_cert is not None:
        before_cert(u)
    body = cert_body(chain)
    for off in range(0, len(body), frag):
        u.send(False, u.rec(False, CT_HS, dtls_fragment(HS_CERT, body, 1, off, min(frag, len(body) - off))))
    u.send(False, u.rec(False, CT_HS, dtls_fragment(HS_SHD, b"", 2)))
    u.send(True, u.rec(True, CT_CCS, b"\x01"), u.rec(True, CT_HS, rng.randbytes(48), epoch=1))


def case_dtls(s):
    """Interception over DTLS, plain and with the interceptor's own tricks:
    a forged first fragment for the Certificate that disagrees with the real
    one (its length), or that claims the Certificate is 2^24-1 bytes."""
    rng = s.rng
    cap = s.open("dtls_rogue.pcap")
    dtls12(cap, rng, ROGUE_CHAIN)
    cap.close()
    s.case("dtls_rogue.pcap", "DTLS 1.2 interception, the Certificate in 400-byte fragments",
           summary=1, stderr=r"; 1 UDP flow, 1 with DTLS or QUIC", some='"protocol":"dtls"',
           all=['"established":true'] + ONE_ALERT["all"], **{k: v for k, v in ONE_ALERT.items() if k != "all"})

    def forged_len(u):
        u.send(False, u.rec(False, CT_HS, dtls_fragment(HS_CERT, b"\x00" * 100, 1, 0, 100, total=5000)))
    def huge(u):
        u.send(False, u.rec(False, CT_HS, dtls_fragment(HS_CERT, b"\x00" * 100, 1, 0, 100, total=0xFFFFFF)))
    for name, hook, what in (("dtls_forged_fragment.pcap", forged_len,
                              "a forged Certificate fragment whose length disagrees with the real one"),
                             ("dtls_huge_certificate.pcap", huge,
                              "a forged Certificate fragment claiming 2^24-1 bytes")):
        cap = s.open(name)
        dtls12(cap, rng, ROGUE_CHAIN, before_cert=hook)
        cap.close()
        s.case(name, "DTLS interception with " + what + " first: the issuer cannot hide, it alerts",
               summary=1, rules=1, exit=0, events=1, alerts=1, some='"protocol":"dtls"')


def case_tls_lengths(s):
    rng = s.rng
    cap = s.open("tls_hs_len_2_24.pcap")
    # the Certificate message claims 2^24-1 bytes; the server sends 64 KiB of it
    body = u24(0xFFFFFF - 3) + u24(len(ROGUE_LEAF)) + ROGUE_LEAF
    body += rng.randbytes(65536 - len(body))
    flight = records(CT_HS, server_hello(rng) + hs(HS_CERT, body, length=0xFFFFFF))
    conn = Conn(cap.rec, rng, "10.1.0.2", "10.2.0.1", 50000)
    tls12(conn, rng, b"www.icloud.com", None, flight=flight)
    cap.close()
    s.case("tls_hs_len_2_24.pcap",
           "a Certificate message claiming 2^24-1 bytes (over TLS_HS_MAX), watched SNI: "
           "an issuer that cannot be seen is not an expected one",
           summary=1, rules=1, exit=0, events=1, alerts=1,
           stderr=r"given up: 0 missing segments, 0 malformed, 1 over size cap,",
           all=['"incomplete":"server: over size cap"', '"certificate_visible":false',
                '"verdict":"unexpected-issuer"', '"certificate_unreadable":true'])

    cap = s.open("tls_rec_len_max.pcap")
    # a record header claiming 65535 bytes (over TLS_REC_MAX) after the ServerHello
    flight = record(CT_HS, server_hello(rng)) + struct.pack("!BHH", CT_HS, 0x0303, 0xFFFF) + \
        rng.randbytes(3000)
    conn = Conn(cap.rec, rng, "10.1.0.2", "10.2.0.1", 50000)
    tls12(conn, rng, b"www.icloud.com", None, flight=flight)
    cap.close()
    s.case("tls_rec_len_max.pcap", "a handshake record claiming 65535 bytes (over TLS_REC_MAX) after the ServerHello",
           summary=1, rules=1, exit=0, events=1, alerts=0,
           stderr=r"given up: 0 missing segments, 1 malformed, 0 over size cap,",
           all=['"incomplete":"server: malformed"', '"anomalies":["malformed-record"]',
                '"certificate_visible":false'])


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def deep_sequence(depth):
    """depth SEQUENCEs nested in one another, with definite lengths."""
    inner = b"\x30\x00"
    parts = []
    n = 2
    for _ in range(depth - 1):
        h = b"\x30" + der_len(n)
        parts.append(h)
        n += len(h)
    return b"".join(reversed(parts)) + inner


def case_bad_der(s):
    rng = s.rng
    bad = {
        "cert_random.pcap": (rng.randbytes(1500), "a 1500-byte leaf of random bytes"),
        "cert_deep_nesting.pcap": (deep_sequence(100000), "a leaf of 100,000 nested SEQUENCE headers"),
        "cert_huge_len.pcap": (b"\x30\x84\xff\xff\xff\xff" + rng.randbytes(1200),
                               "a leaf that is a SEQUENCE of length 0x84 0xFFFFFFFF"),
        "cert_trailing.pcap": (ROGUE_LEAF + b"\x00\x00", "the rogue leaf with 2 bytes after its DER"),
    }
    for i, (name, (leaf, what)) in enumerate(bad.items()):
        if name == "cert_random.pcap":
            leaf = b"\x07" + leaf[1:]
        cap = s.open(name)
        conn = Conn(cap.rec, rng, "10.1.0.2", "10.2.0.1", 50000 + i)
        tls12(conn, rng, b"www.icloud.com", [leaf, ROGUE_CA])
        cap.close()
        s.case(name, what + ", then the rogue CA; watched SNI www.icloud.com: not decoded, alerts",
               rules=1, exit=0, events=1, alerts=1,
               all=['"leaf":{"decoded":false', '"verdict":"unexpected-issuer"', '"chain_length":2'])
    # the same without a usable SNI: nothing to judge by, so no alert
    cap = s.open("cert_random_nosni.pcap")
    conn = Conn(cap.rec, rng, "10.1.0.2", "10.2.0.1", 50010)
    tls12(conn, rng, None, [b"\x07" + rng.randbytes(1499), ROGUE_CA])
    cap.close()
    s.case("cert_random_nosni.pcap", "a random-bytes leaf and no SNI: reported undecoded, unwatched",
           rules=1, exit=0, events=1, alerts=0, all=['"leaf":{"decoded":false', '"verdict":"unwatched"'])


def make_san_cert(n):
    """A throwaway self-signed certificate with n DNS subjectAltNames, as DER."""
    tmp = tempfile.mkdtemp(prefix="hostile-gen-")
    try:
        cfg = os.path.join(tmp, "req.cnf")
        with open(cfg, "w") as f:
            f.write("[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=a0.icloud.com\n"
                    "O=Many Names Ltd\n[v3]\nbasicConstraints=critical,CA:FALSE\n"
                    "subjectAltName=@alt\n[alt]\n")
            for i in range(n):
                f.write("DNS.%d=a%d.icloud.com\n" % (i + 1, i))
        out = os.path.join(tmp, "cert.der")
        subprocess.run(["openssl", "req", "-x509", "-config", cfg, "-extensions", "v3",
                        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", os.path.join(tmp, "key.pem"), "-days", "30",
                        "-outform", "DER", "-out", out],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with open(out, "rb") as f:
            return f.read()
    finally:
        shutil.rmtree(tmp)


def case_many_sans(s):
    rng = s.rng
    der = make_san_cert(10000)
    cap = s.open("cert_10000_sans.pcap")
    conn = Conn(cap.rec, rng, "10.1.0.2", "10.2.0.1", 50000)
    tls12(conn, rng, b"a0.icloud.com", [der])
    cap.close()
    s.case("cert_10000_sans.pcap",
           "a self-signed leaf (%d bytes) with 10,000 DNS subjectAltNames, SNI a0.icloud.com" % len(der),
           rules=1, exit=0, events=1, alerts=1,
           all=['"san_count":10000', '"leaf":{"decoded":true,"self_issued":true',
                '"verdict":"unexpected-issuer"'])


def case_sni(s):
    rng = s.rng
    names = [b"www.icloud.com\x00.evil.example", b"www.icloud.com\nALERT: forged line",
             b"www.icloud.com\r", b"\x1b[31mwww.icloud.com\x1b[0m", b'www."icloud".com',
             b"www\\icloud.com", b"\xff\xfe.icloud.com"]
    cap = s.open("sni_nasty.pcap")
    for i, sni in enumerate(names):
        conn = Conn(cap.rec, rng, "10.1.0.%d" % (10 + i), "10.2.0.1", 51000 + i,
                    t0=T0 + i * 10**6)
        tls12(conn, rng, sni, ROGUE_CHAIN)
    cap.close()
    n = len(names)
    s.case("sni_nasty.pcap",
           "%d interceptions whose SNI holds NUL, LF, CR, ESC[31m, quotes, a backslash, invalid UTF-8" % n,
           summary=1, rules=1, exit=0, events=n, alerts=n,
           all=['"sni-not-a-hostname"', '"watched_name_from":"certificate"'],
           some=[r'"server_name":"www.icloud.com\u0000.evil.example"',
                 r'"server_name":"www.icloud.com\nALERT: forged line"',
                 r'"server_name":"www.icloud.com\r"',
                 r'"server_name":"\u001b[31mwww.icloud.com\u001b[0m"',
                 r'"server_name":"www.\"icloud\".com"',
                 r'"server_name":"www\\icloud.com"',
                 r'"server_name":"\ufffd\ufffd.icloud.com"'],
           stderr=[r"(?m)^tlsentry: ALERT .*\\x1b\[31m", r"(?m)^tlsentry: ALERT .*\\x00",
                   r"(?m)^tlsentry: ALERT .*\\x0a", r"(?m)^tlsentry: ALERT .*\\x0d"],
           nostderr=r"(?m)^ALERT: forged line")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: hostile.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    s = Suite(outdir)
    for f in (case_controls, case_file_headers, case_records, case_timestamps, case_ip,
              case_storms, case_injection, case_injected_close, case_port_reuse, case_dtls, case_tls_lengths, case_bad_der, case_many_sans,
              case_sni):
        f(s)
    s.write_cases()


if __name__ == "__main__":
    main()
