#!/usr/bin/env python3
"""pcapfeed.py: write copies of a classic pcap to standard output, for a
tlsentry reading '-r -' from a pipe the test controls.

  pcapfeed.py --header CAPTURE            the global header only
  pcapfeed.py --copies A B CAPTURE        records of copies A..B-1, each copy's
                                          timestamps shifted by copy * 1000 s

Written in pieces (the header once, then copies in phases), the stream is one
capture in which the same handshakes happen again and again, 1000 s apart
(longer than tlsentry's duplicate window), so each copy raises its alerts
anew.
"""
import struct
import sys


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[0] == "--header":
        a, b, path = None, None, args[1]
    elif len(args) == 4 and args[0] == "--copies":
        a, b, path = int(args[1]), int(args[2]), args[3]
    else:
        sys.exit(__doc__)
    data = open(path, "rb").read()
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        endian = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        endian = ">"
    else:
        sys.exit("pcapfeed.py: %s: not a classic microsecond pcap" % path)
    out = sys.stdout.buffer
    if a is None:
        out.write(data[:24])
        return
    for copy in range(a, b):
        off = 24
        while off + 16 <= len(data):
            sec, usec, incl, orig = struct.unpack(endian + "IIII", data[off:off + 16])
            out.write(struct.pack(endian + "IIII", sec + copy * 1000, usec, incl, orig))
            out.write(data[off + 16:off + 16 + incl])
            off += 16 + incl
    out.flush()


if __name__ == "__main__":
    main()
