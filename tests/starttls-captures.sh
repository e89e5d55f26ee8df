#!/usr/bin/env bash
# starttls-captures.sh TLSENTRY BUILD_DIR: the STARTTLS captures, end to end.
#
# For each row of samples/starttls.truth.tsv (written by
# samples/make-starttls.sh from the certificates it made):
#   * tlsentry -r CAPTURE -R samples/watch.rules reports the handshake of that
#     connection with the SNI, version, chain length, leaf SHA-256, leaf
#     issuer and verdict of the truth, an alert exactly when the verdict is
#     unexpected-issuer, and cleartext_bytes_before_tls equal to the client's
#     cleartext as BUILD_DIR/tests/starttls_pcap finds it;
#   * starttls_protocol(), fed each direction's cleartext before TLS (the
#     helper BUILD_DIR/tests/starttls_pcap extracts it from the capture),
#     gives the truth's protocol name.
# Then, when ../shared/corpus (or $TLSENTRY_CORPUS) is there, the same classifier on the corpus's
# STARTTLS captures against tests/starttls-corpus.tsv.
#
# Skips with a "note:" line what it cannot run (python3, the helper, the
# corpus).  Ends with "tests/starttls-captures.sh: N passed, N failed".
set -u
bin=${1:-./tlsentry}
build=${2:-build}
cd "$(dirname "$0")/.." || exit 1
helper="$build/tests/starttls_pcap"
truth=samples/starttls.truth.tsv
corpus=${TLSENTRY_CORPUS:-../shared/corpus}/pcap
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() {	# check WHAT GOT WANT
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}
finish() {
	echo "tests/starttls-captures.sh: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}

if [ ! -x "$helper" ]; then
	echo "note: $helper is not built (make $helper): STARTTLS capture checks skipped"
	finish
fi

# helper_row PCAP CIP CPORT SIP SPORT: the helper's line for that connection
helper_row() {
	"$helper" "$1" | awk -F'\t' -v c="$2" -v cp="$3" -v s="$4" -v sp="$5" \
	    '$2 == c && $3 == cp && $4 == s && $5 == sp'
}

# ------------------------------------------------------------ sample captures
if ! command -v python3 >/dev/null 2>&1; then
	echo "note: python3 not found: tlsentry's reports on the STARTTLS samples not checked"
fi
if [ ! -f "$truth" ]; then
	bad "$truth is missing (sudo samples/make-starttls.sh)"
else
	while IFS=$'\t' read -r cap proto cip cport sip sport sni ver clen sha iss verdict; do
		case "$cap" in ''|'#'*) continue ;; esac
		pcap=samples/$cap
		if [ ! -f "$pcap" ]; then
			bad "$pcap is missing"
			continue
		fi
		row=$(helper_row "$pcap" "$cip" "$cport" "$sip" "$sport")
		check "$cap: starttls_protocol()" "$(printf '%s' "$row" | cut -f8)" "$proto"
		cpre=$(printf '%s' "$row" | cut -f6)
		command -v python3 >/dev/null 2>&1 || continue
		# the STARTTLS PKI's root trusted: a legit chain raises nothing, the
		# rogue one an unexpected issuer on an untrusted chain
		events=$("$bin" -q -r "$pcap" -R samples/watch.rules \
		    --ca-bundle samples/certs-starttls/legit-root.pem 2>&1)
		rc=$?
		check "$cap: tlsentry exit status" "$rc" 0
		got=$(printf '%s\n' "$events" | python3 -c '
import json, sys
cip, cport, sip, sport = sys.argv[1:5]
hs, alerts = [], 0
for line in sys.stdin:
    e = json.loads(line)
    k = (e["source"]["ip"], str(e["source"]["port"]),
         e["destination"]["ip"], str(e["destination"]["port"]))
    if k != (cip, cport, sip, sport):
        continue
    if e["event"]["kind"] == "alert":
        alerts += 1
    elif e["event"]["kind"] == "event":
        hs.append(e)
if len(hs) != 1:
    print("handshakes=%d" % len(hs))
    sys.exit()
e = hs[0]
x, s = e["tlsentry"], e["tls"].get("server", {})
print("\t".join(str(v) for v in (
    e["tls"].get("client", {}).get("server_name", "-"), x.get("version_code", "-"),
    x.get("chain_length", "-"), s.get("hash", {}).get("sha256", "-").lower(),
    s.get("issuer", "-"), x.get("verdict", "-"), alerts,
    x.get("cleartext_bytes_before_tls", 0), x.get("upgraded_from", "-"))))
' "$cip" "$cport" "$sip" "$sport")
		want_alerts=0
		[ "$verdict" = unexpected-issuer ] && want_alerts=2
		check "$cap: tlsentry's report" "$got" \
		    "$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s' "$sni" "$ver" "$clen" "$sha" "$iss" \
		    "$verdict" "$want_alerts" "$cpre" "$proto")"
	done < "$truth"
fi

# ------------------------------------------------------------ corpus captures
if [ ! -d "$corpus" ]; then
	echo "note: $corpus not found: the corpus's STARTTLS captures were not classified"
	finish
fi
while IFS=$'\t' read -r file cip cport sip sport want what; do
	case "$file" in ''|'#'*) continue ;; esac
	if [ ! -f "$corpus/$file" ]; then
		bad "$corpus/$file is missing"
		continue
	fi
	row=$(helper_row "$corpus/$file" "$cip" "$cport" "$sip" "$sport")
	got=$(printf '%s' "$row" | cut -f8)
	check "$file $cip:$cport -> $sip:$sport ($what)" "${got:-no such connection}" "$want"
	command -v python3 >/dev/null 2>&1 || continue
	# and what tlsentry's event says (tlsentry.upgraded_from)
	got=$("$bin" -q -r "$corpus/$file" 2>/dev/null | python3 -c '
import json, sys
k = tuple(sys.argv[1:5])
for line in sys.stdin:
    e = json.loads(line)
    if e["event"]["kind"] == "event" and (e["source"]["ip"], str(e["source"]["port"]),
            e["destination"]["ip"], str(e["destination"]["port"])) == k:
        print(e["tlsentry"].get("upgraded_from", "-"))
' "$cip" "$cport" "$sip" "$sport")
	check "$file $cip:$cport -> $sip:$sport: tlsentry.upgraded_from" "${got:-no event}" "$want"
done < tests/starttls-corpus.tsv
finish
