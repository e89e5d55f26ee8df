#!/usr/bin/env bash
# judge.sh TLSENTRY: the findings and alerts of samples/judge*.pcap against
# samples/judge.truth.tsv (both written by samples/make-judge.sh, the truth
# from what it made, not from tlsentry).
#
# The test root is trusted with --ca-bundle; judge-public.pcap is read with
# it as the system bundle (SSL_CERT_FILE) instead, so its leaf counts as
# publicly trusted.  Every alert is raised (--alert-interval 0).  A
# connection's findings must be exactly the truth's, and so must its alerts.
set -u
bin=${1:-./tlsentry}
cd "$(dirname "$0")/.." || exit 1
truth=samples/judge.truth.tsv
pass=0 fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for pcap in $(awk -F'\t' '!/^#/ { print $1 }' "$truth" | sort -u); do
	if [ "$pcap" = judge-public.pcap ]; then
		SSL_CERT_FILE=samples/certs-judge/judge-root.pem "$bin" -q -r "samples/$pcap" \
		    -R samples/judge.rules --alert-interval 0 >"$tmp/out" 2>"$tmp/err"
	else
		"$bin" -q --no-default-ca --ca-bundle samples/certs-judge/judge-root.pem \
		    -r "samples/$pcap" -R samples/judge.rules --alert-interval 0 >"$tmp/out" 2>"$tmp/err"
	fi
	rc=$?
	out=$(python3 - "$truth" "$pcap" "$tmp/out" "$rc" <<'PY'
import json, sys
truth, pcap, out, rc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
npass = nfail = 0
def check(ok, what):
    global npass, nfail
    if ok:
        npass += 1
    else:
        nfail += 1
        print("FAIL: %s: %s" % (pcap, what))
    return ok
check(rc == 0, "exit status %d" % rc)
events, alerts = {}, {}
for line in open(out, encoding="utf-8"):
    e = json.loads(line)
    port = (str(e["destination"]["port"]), str(e["source"]["port"]))
    if e["event"]["kind"] == "event":
        events.setdefault(port, []).append(e)
    elif e["event"]["kind"] == "alert":
        alerts.setdefault(port, []).append(e["event"]["reason"])
for l in open(truth, encoding="utf-8"):
    if l.startswith("#") or not l.strip():
        continue
    cap, sport, cport, findings, want_alerts = l.rstrip("\n").split("\t")
    if cap != pcap:
        continue
    want_f = sorted(findings.split(",")) if findings != "-" else []
    want_a = sorted(want_alerts.split(",")) if want_alerts != "-" else []
    evs = events.get((sport, cport), [])
    if not check(len(evs) == 1, "%s/%s: one handshake event, got %d" % (sport, cport, len(evs))):
        continue
    got_f = sorted(evs[0]["tlsentry"].get("findings", []))
    check(got_f == want_f, "%s/%s (%s): findings %s, want %s" % (sport, cport,
          evs[0]["tls"].get("client", {}).get("server_name"), got_f, want_f))
    got_a = sorted(alerts.get((sport, cport), []))
    check(got_a == want_a, "%s/%s: alerts %s, want %s" % (sport, cport, got_a, want_a))
print("# %d %d" % (npass, nfail))
PY
)
	while IFS= read -r res; do
		case $res in
		'# '*) set -- $res; pass=$((pass + $2)); fail=$((fail + $3)) ;;
		*) echo "$res" ;;
		esac
	done <<<"$out"
done
echo "tests/judge.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
