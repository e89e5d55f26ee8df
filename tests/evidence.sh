#!/usr/bin/env bash
# evidence.sh TLSENTRY: --store-certs and --evidence on samples/icloud-story.pcap
# (made with openssl s_server/s_client): every distinct server certificate
# once, as PEM named by the SHA-256 of its DER; one pcap per alerting flow
# holding that flow's handshake, readable by tshark when it is installed;
# alerts name both; --evidence-max bounds each directory, oldest first, and
# counts what an earlier run left.
set -u
bin=${1:-./tlsentry}
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
cap=samples/icloud-story.pcap
args=(-q -r "$cap" -R samples/watch.rules --no-default-ca --ca-bundle samples/certs/legit-root.pem)

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() {  # WHAT GOT WANT
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}

"$bin" "${args[@]}" --store-certs "$tmp/certs" --evidence "$tmp/pcaps" >"$tmp/out" 2>"$tmp/err"
expect "exit status" "$?" 0

# the distinct certificates of every handshake event, from the events themselves
python3 - "$tmp/out" >"$tmp/facts" <<'PY'
import json, sys
certs, alerts = set(), []
for e in map(json.loads, open(sys.argv[1], encoding="utf-8")):
    for c in e.get("tlsentry", {}).get("chain", []):
        certs.add(c["sha256"].lower())
    if e["event"]["kind"] == "alert":
        alerts.append(e)
print("certs", " ".join(sorted(certs)))
print("alert_ports", " ".join(sorted({str(a["destination"]["port"]) for a in alerts})))
print("pcaps", " ".join(sorted({a["tlsentry"].get("evidence", {}).get("pcap", "-") for a in alerts})))
print("alert_certs", " ".join(sorted({p for a in alerts
      for p in a["tlsentry"].get("evidence", {}).get("certificates", [])})))
print("alerts_without_evidence", sum(1 for a in alerts if "evidence" not in a["tlsentry"]))
PY
fact() { sed -n "s/^$1 //p" "$tmp/facts"; }

want=$(fact certs | tr ' ' '\n' | sed 's/$/.pem/' | sort | tr '\n' ' ')
expect "one PEM per distinct certificate" "$(ls "$tmp/certs" | sort | tr '\n' ' ')" "$want"
for f in "$tmp"/certs/*.pem; do
	h=$(openssl x509 -in "$f" -outform der 2>/dev/null | sha256sum | cut -c1-64)
	expect "$(basename "$f"): named by the SHA-256 of its DER" "$h.pem" "$(basename "$f")"
done
expect "every alert carries evidence" "$(fact alerts_without_evidence)" 0
for p in $(fact alert_certs); do
	[ -f "$p" ] && ok || bad "an alert names $p, which is not there"
done
# alerts: 4433 (rogue CA) and 4434 (unknown root); the IPv6 repeat of 4433 is
# suppressed by --alert-interval and so raises no alert and keeps no file
expect "alerting flows" "$(fact alert_ports)" "4433 4434"
pcaps=$(fact pcaps)
expect "one pcap per alerting flow" "$(echo "$pcaps" | wc -w) $(ls "$tmp/pcaps" | wc -l)" "2 2"
for p in $pcaps; do
	[ -f "$p" ] || { bad "an alert names $p, which is not there"; continue; }
	case $(basename "$p") in
	[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z-[0-9a-f]*.pcap) ok ;;
	*) bad "pcap name $(basename "$p")" ;;
	esac
	# read back by tlsentry itself: exactly one handshake, the alerting one
	n=$("$bin" -q -r "$p" --no-default-ca | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)["event"]["kind"]=="event"))')
	expect "$(basename "$p"): one handshake read back" "$n" 1
	if command -v tshark >/dev/null; then
		port=$(tshark -r "$p" -T fields -e tcp.dstport -c 1 2>/dev/null)
		got=$(tshark -r "$p" -d "tcp.port==$port,tls" -T fields -e tcp.flags.syn \
			-e tls.handshake.type 2>/dev/null | awk -F'\t' '$1=="1"{syn++} $2 ~ /(^|,)11(,|$)/{cert++} END{print syn+0, cert+0}')
		expect "$(basename "$p"): tshark sees the SYNs and the Certificate" "$got" "2 1"
	fi
done
if [ "$(id -u)" -eq 0 ]; then
	expect "directories made for the -Z user" "$(stat -c %U "$tmp/certs") $(stat -c %U "$tmp/pcaps")" \
		"nobody nobody"
fi

# a second run: nothing written twice
"$bin" "${args[@]}" --store-certs "$tmp/certs" --evidence "$tmp/pcaps" >/dev/null
expect "second run: same files" "$(ls "$tmp/certs" | wc -l) $(ls "$tmp/pcaps" | wc -l)" \
	"$(echo "$want" | wc -w) 2"

# --evidence-max: at most 3 files, then at most 3000 bytes; the oldest go first
mkdir -p "$tmp/bounded"
[ "$(id -u)" -eq 0 ] && chown nobody "$tmp/bounded"	# the default -Z user writes it
touch -d '2001-01-01' "$tmp/bounded/old-leftover.pem"	# from an earlier run: adopted, oldest
echo keep >"$tmp/bounded/notes.txt"			# not ours: never touched
"$bin" "${args[@]}" --store-certs "$tmp/bounded" --evidence-max 3 >/dev/null 2>"$tmp/err"
expect "--evidence-max 3: three files" "$(ls "$tmp/bounded" | grep -c '\.pem$')" 3
[ -e "$tmp/bounded/old-leftover.pem" ] && bad "the oldest file was kept" || ok
expect "a file that is not ours is left alone" "$(cat "$tmp/bounded/notes.txt")" keep
rm -rf "$tmp/bytes"
"$bin" "${args[@]}" --store-certs "$tmp/bytes" --evidence-max 100/4K >/dev/null
total=$(cat "$tmp"/bytes/*.pem | wc -c)
[ "$total" -le 4096 ] && [ "$total" -gt 0 ] && ok || bad "--evidence-max 100/4K: $total bytes"
"$bin" -r "$cap" --store-certs "$tmp/bytes" --evidence-max 100/4K >/dev/null 2>"$tmp/err"
grep -q "oldest removed" "$tmp/err" && ok || bad "the summary reports the store: $(cat "$tmp/err")"

# errors: one line, the right exit status
"$bin" -q -r "$cap" --evidence /proc/no/such/dir >/dev/null 2>"$tmp/err"
expect "an evidence directory that cannot be made: exit 1, one line" "$? $(wc -l <"$tmp/err")" "1 1"
for bad_arg in junk 0 3/junk 3/1; do
	"$bin" -q -r "$cap" --evidence-max "$bad_arg" >/dev/null 2>"$tmp/err"
	expect "--evidence-max $bad_arg: usage error" "$?" 2
done
"$bin" -q -r "$cap" --evidence "$cap" >/dev/null 2>"$tmp/err"
expect "--evidence onto the input: usage error" "$?" 2
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$tmp/rootonly"; chmod 755 "$tmp/rootonly"
	"$bin" -q -r "$cap" --evidence "$tmp/rootonly" >/dev/null 2>"$tmp/err"
	expect "a directory the -Z user cannot write: exit 1, one line" "$? $(wc -l <"$tmp/err")" "1 1"
fi

echo "tests/evidence.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
