#!/usr/bin/env python3
"""flood.py FLOODGEN TLSENTRY WORKDIR: memory stays under the caps, whatever the traffic.

Writes hostile captures with floodgen (tests/gen/floodgen.c), runs tlsentry on
each with tight caps, and checks its peak resident memory (GNU time's %M)
against what the caps allow, and that every eviction or give-up was
counted.  Prints the figures (recorded in the README) and ends with
"tests/flood.py: N passed, N failed".
"""
import os
import re
import subprocess
import sys

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}")


def peak_rss_kb(cmd):
    """Peak RSS of cmd alone, by GNU time: a child forked from this Python
    would count the interpreter's pages until it execs."""
    out = subprocess.run(["/usr/bin/time", "-f", "rss_kb=%M"] + cmd, capture_output=True,
                         text=True)
    m = re.search(r"rss_kb=(\d+)\s*$", out.stderr)
    return out.returncode, int(m.group(1)) if m else 1 << 40, out.stderr


def main():
    gen, binary, work = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(work, exist_ok=True)
    # The bound the caps promise (README, Limits): a fixed base, up to 2 kB per
    # tracked flow, plus whatever --memcap grants the buffers.  A UDP flow's
    # DTLS or QUIC state (up to 1 kB more) is inside --memcap; these floods
    # check it stays at that, with no memcap allowance.
    # The base: the program, its libraries and the system CA store (about
    # 1 MB for Debian's bundle, loaded once).
    base, per_flow = 12 * 1024, 2

    def bound(flows=0, memcap_kb=0, per=per_flow):
        return base + flows * per + memcap_kb

    cases = [
        # name, floodgen args, tlsentry options, RSS limit (kB), summary pattern that must match
        ("1,000,000 SYNs from distinct sources", ["syn", "1000000"], ["--max-flows", "10000"],
         bound(flows=10000), r"990000 evicted"),
        ("1,000,000 one-packet flows with payload", ["flows", "1000000"], ["--max-flows", "10000"],
         bound(flows=10000), r"990000 evicted"),
        ("200,000 QUIC Initials no key opens, from distinct sources", ["quic", "200000"],
         ["--max-flows", "10000"], bound(flows=10000, per=3), r"190000 evicted"),
        ("1,000,000 DTLS ClientHello fragments claiming 60 kB each", ["dtls", "1000000"],
         ["--max-flows", "10000"], bound(flows=10000, per=3), r"990000 evicted"),
        ("100 never-ending 1 MiB certificates", ["bigcert", "100"], ["--memcap", "16M"],
         bound(flows=100, memcap_kb=16 * 1024), r"[1-9][0-9]* memory budget"),
        ("1,000,000 one-packet flows with payload, --evidence on", ["flows", "1000000"],
         ["--max-flows", "10000", "--memcap", "16M", "--evidence", os.path.join(work, "evidence")],
         bound(flows=10000, memcap_kb=16 * 1024), r"990000 evicted"),
        ("a 10 MB handshake stream", ["longshake", "10"], [], bound(flows=1), r"1 open at the end"),
        ("100,000 segments beyond a hole", ["ooo", "100000"], ["--max-flow-bytes", "256K"],
         bound(flows=1, memcap_kb=256), r"peak buffers 256 kB"),
    ]
    sanitized = "ASAN_OPTIONS" in os.environ	# make check: ASan's shadow memory
    if sanitized:
        print("note: sanitizer build: peak RSS not checked against the caps (make test does)")
    for name, gargs, opts, limit, pattern in cases:
        pcap = os.path.join(work, gargs[0] + ".pcap")
        subprocess.run([gen] + gargs + [pcap], check=True)
        rc, kb, err = peak_rss_kb([binary, "-r", pcap, "-w", "/dev/null"] + opts)
        os.unlink(pcap)
        check(rc == 0, f"{name}: exit status {rc}: {err.strip()[-300:]}")
        check(sanitized or kb <= limit, f"{name}: peak RSS {kb} kB over the limit {limit} kB")
        check(re.search(pattern, err) is not None, f"{name}: summary lacks /{pattern}/:\n{err}")
        print(f"{name} ({' '.join(opts) or 'defaults'}): peak RSS {kb / 1024:.1f} MB "
              f"(limit {limit / 1024:.0f} MB)")
    print(f"tests/flood.py: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
