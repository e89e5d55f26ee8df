#!/usr/bin/env bash
# corpus-alerts.sh TLSENTRY: every alert the default configuration (the
# system CA bundle, the built-in [defaults], no rules, every repeat raised)
# raises on ../shared/corpus must be one tests/corpus-alerts.tsv explains:
# (capture, reason, count) exactly, each with its cause.  A new alert, a lost
# one or a changed count fails, and so nothing is a false alarm nobody
# looked at.  Prints the number of handshakes with each finding, the table of
# the README's "Findings on the corpus".
set -u
bin=${1:-./tlsentry}
cd "$(dirname "$0")/.." || exit 1
corpus=../shared/corpus/pcap
if [ ! -d "$corpus" ]; then
	echo "note: $corpus is absent: the corpus alerts are not checked"
	echo "tests/corpus-alerts.sh: 0 passed, 0 failed"
	exit 0
fi
if [ ! -s /etc/ssl/certs/ca-certificates.crt ]; then
	echo "note: no system CA bundle (ca-certificates): the corpus alerts are not checked"
	echo "tests/corpus-alerts.sh: 0 passed, 0 failed"
	exit 0
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rc=0
for f in "$corpus"/*; do
	"$bin" -q -r "$f" --alert-interval 0 >>"$tmp/events" 2>>"$tmp/err" || rc=1
done
python3 - "$tmp/events" tests/corpus-alerts.tsv "$rc" <<'PY'
import collections, json, sys
events, table, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
npass = nfail = 0
def check(ok, what):
    global npass, nfail
    if ok:
        npass += 1
    else:
        nfail += 1
        print("FAIL: " + what)
check(rc == 0, "tlsentry failed on a corpus capture")
got, findings, handshakes = collections.Counter(), collections.Counter(), 0
for line in open(events, encoding="utf-8"):
    e = json.loads(line)
    cap = e.get("log", {}).get("file", {}).get("path", "-").rsplit("/", 1)[-1]
    if e["event"]["kind"] == "event":
        handshakes += 1
        for r in e["tlsentry"].get("findings", []):
            findings[r] += 1
    elif e["event"]["kind"] == "alert":
        got[(cap, e["event"]["reason"])] += 1
want, causes = {}, collections.Counter()
for l in open(table, encoding="utf-8"):
    if l.startswith("#") or not l.strip():
        continue
    cap, reason, n, cause, why = l.rstrip("\n").split("\t")
    check(why.strip() != "", "%s %s: no explanation" % (cap, reason))
    want[(cap, reason)] = int(n)
    causes[(reason, cause)] += int(n)
for k in sorted(set(got) | set(want)):
    check(got.get(k, 0) == want.get(k, 0),
          "%s: %s alerts %d, explained %d" % (k[0], k[1], got.get(k, 0), want.get(k, 0)))
alerts = collections.Counter()
for (cap, reason), n in got.items():
    alerts[reason] += n
print("corpus: %d handshakes; reason: handshakes with the finding / alerts (default configuration)" % handshakes)
for r in sorted(set(findings) | set(alerts), key=lambda r: (-alerts[r], -findings[r], r)):
    print("  %-24s %4d / %d" % (r, findings[r], alerts[r]))
print("alerts by cause:")
for (reason, cause), n in sorted(causes.items(), key=lambda x: (x[0][0], -x[1])):
    print("  %-18s %-32s %d" % (reason, cause, n))
print("tests/corpus-alerts.sh: %d passed, %d failed" % (npass, nfail))
sys.exit(1 if nfail else 0)
PY
