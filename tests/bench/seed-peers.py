#!/usr/bin/python3
"""seed-peers.py: the non-TLS peers of tests/bench/make-seeds.sh.

Each command serves or makes a bounded number of exchanges and then exits,
so nothing outlives the capture.  They run inside the script's own network
namespaces; the kernel's TCP and UDP stacks make every packet.

  http-server ADDR PORT SIZE   one HTTP/1.0 GET answered with SIZE bytes, no
                               Content-Length (the body ends when the server
                               closes), so a body of any length stays valid
  http-client ADDR PORT        GET / and read until the server closes
  dns-server ADDR PORT N       answer N DNS A queries (RFC 1035 wire format)
  dns-client ADDR PORT N       N queries for distinct names, one at a time
  quic-server ADDR PORT N      wait for a datagram, then send N 1252-byte
                               datagrams shaped like QUIC short-header (1-RTT)
                               packets, paced
  quic-client ADDR PORT N      start the stream, acknowledge every second
                               datagram with a 40-byte short-header datagram
"""
import os
import random
import socket
import struct
import sys
import time


def http_server(addr, port, size):
    body = bytes(random.Random(1).getrandbits(8) for _ in range(size))
    with socket.create_server((addr, port)) as ls:
        ls.settimeout(30)
        conn, _ = ls.accept()
        with conn:
            req = b""
            while b"\r\n\r\n" not in req:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                req += chunk
            conn.sendall(b"HTTP/1.0 200 OK\r\nServer: bench-seed\r\n"
                         b"Content-Type: application/octet-stream\r\n\r\n")
            for off in range(0, size, 16384):
                conn.sendall(body[off:off + 16384])
            conn.shutdown(socket.SHUT_WR)
            while conn.recv(4096):
                pass


def http_client(addr, port):
    with socket.create_connection((addr, port), timeout=30) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: bulk.bench.example\r\nUser-Agent: bench-seed\r\n\r\n")
        n = 0
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            n += len(chunk)
    print(f"http-client: {n} bytes", file=sys.stderr)


def dns_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def dns_server(addr, port, n):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((addr, port))
        s.settimeout(10)
        for _ in range(n):
            try:
                q, peer = s.recvfrom(512)
            except socket.timeout:
                return			# the last queries were lost
            qid, = struct.unpack("!H", q[:2])
            question = q[12:]
            ip = bytes([192, 0, 2, qid & 0xff])
            ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 300, 4) + ip
            s.sendto(struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + ans, peer)


def dns_client(addr, port, n):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        for i in range(n):
            q = (struct.pack("!HHHHHH", 0x1000 + i, 0x0100, 1, 0, 0, 0)
                 + dns_name(f"host{i:03d}.dns.bench.example") + struct.pack("!HH", 1, 1))
            s.sendto(q, (addr, port))
            try:
                s.recvfrom(512)
            except socket.timeout:
                pass			# lost on the lossy link: the next query goes on
            time.sleep(0.02)


def short_header(rng, dcid, pn, size):
    """A datagram shaped like a QUIC 1-RTT packet: 0b01xxxxxx, DCID, pn, then
    bytes that look encrypted.  No Initial, so nothing for a TLS sensor."""
    return bytes([0x40 | rng.getrandbits(5)]) + dcid + struct.pack("!I", pn) + \
        rng.randbytes(size - 1 - len(dcid) - 4)


def quic_server(addr, port, n):
    rng = random.Random(2)
    dcid = rng.randbytes(8)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((addr, port))
        s.settimeout(30)
        _, peer = s.recvfrom(2048)
        for pn in range(n):
            s.sendto(short_header(rng, dcid, pn, 1252), peer)
            time.sleep(0.002)


def quic_client(addr, port, n):
    rng = random.Random(3)
    dcid = rng.randbytes(8)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.sendto(short_header(rng, dcid, 0, 1252), (addr, port))
        got = 0
        try:
            while got < n:
                s.recvfrom(2048)
                got += 1
                if got % 2 == 0:
                    s.sendto(short_header(rng, dcid, got, 40), (addr, port))
        except socket.timeout:
            pass			# the rest was lost
    print(f"quic-client: {got} datagrams", file=sys.stderr)


def main():
    cmd, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    arg = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    {"http-server": lambda: http_server(addr, port, arg),
     "http-client": lambda: http_client(addr, port),
     "dns-server": lambda: dns_server(addr, port, arg),
     "dns-client": lambda: dns_client(addr, port, arg),
     "quic-server": lambda: quic_server(addr, port, arg),
     "quic-client": lambda: quic_client(addr, port, arg)}[cmd]()


if __name__ == "__main__":
    os.umask(0o022)
    main()
