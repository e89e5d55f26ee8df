#!/usr/bin/env python3
"""dtls-seeds.py OUTDIR PCAP...: fuzz_dtls seeds from captures.

One seed per direction of each UDP flow, in fuzz_dtls's input format: a
config byte (0: no memory budget; 0x2f, odd: a 3008-byte budget), then each
UDP payload as a 16-bit big-endian length and its bytes.  Payloads are read
with tshark; files are named by their SHA-1, like libFuzzer's.
The committed seeds (tests/fuzz/corpus/dtls/) come from samples/dtls*.pcap.
"""
import hashlib
import os
import struct
import subprocess
import sys

out = sys.argv[1]
for pcap in sys.argv[2:]:
    rows = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "ip.src", "-e", "udp.srcport",
                           "-e", "ip.dst", "-e", "udp.dstport", "-e", "udp.payload"],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    dirs = {}
    for r in rows:
        f = r.split("\t")
        if len(f) < 5 or not f[4]:
            continue
        dirs.setdefault(tuple(f[:4]), []).append(bytes.fromhex(f[4].replace(":", "")))
    for key, dgs in dirs.items():
        for cfg in (0, 0x2f):
            blob = bytes([cfg]) + b"".join(struct.pack(">H", len(d)) + d for d in dgs)
            name = hashlib.sha1(blob).hexdigest()
            with open(os.path.join(out, name), "wb") as fp:
                fp.write(blob)
