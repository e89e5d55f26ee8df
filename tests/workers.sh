#!/usr/bin/env bash
# workers.sh TLSENTRY: --workers N gives the same events as one engine.
#
# Every golden case of samples/CASES, and every capture of samples/ and
# tests/hostile/ with the sample rules, is read with --workers 1 and 2 (the cases also 3);
# the events must be the same set (sorted lines compared byte for byte:
# workers write whole events in whatever order they finish them), and
# well-formed JSON, one object per line.  With the default --alert-interval
# the handshake events are compared (which of two repeats of a finding in
# different workers alerts may differ, workers.h says why); with
# --alert-interval 0 (every alert raised) every event, alerts included.
set -u
bin=${1:-./tlsentry}
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# Captures holding one handshake on two connections (both legs of a relay):
# one engine reports the connection that ends first, workers the one whose
# worker gets there first (workers.h).  For these the events are compared
# without the fields that name the connection: the same handshake, once.
relayed=" samples/dtls12-retransmit.pcap "

# content FILE: the events without addresses, ports, ids and times, sorted
content() {
	python3 -c 'import json,sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    for k in ("@timestamp", "source", "destination", "network", "related", "message"):
        e.pop(k, None)
    e["event"].pop("id", None)
    e.get("tlsentry", {}).pop("handshake_id", None)
    print(json.dumps(e, sort_keys=True))' "$1" | sort
}

# same NAME N FILTER: --workers N's events (FILTER: all, or handshakes) as one worker's
same() {
	local name=$1 n=$2 what=$3
	if [ "${relayed#* "$name" }" != "$relayed" ]; then
		grep '"event":{"kind":"event"' "$tmp/1.out" >"$tmp/1.hs"
		grep '"event":{"kind":"event"' "$tmp/$n.out" >"$tmp/n.hs"
		content "$tmp/1.hs" >"$tmp/1.sorted"
		content "$tmp/n.hs" >"$tmp/n.sorted"
	elif [ "$what" = handshakes ]; then
		grep '"event":{"kind":"event"' "$tmp/1.out" | sort >"$tmp/1.sorted"
		grep '"event":{"kind":"event"' "$tmp/$n.out" | sort >"$tmp/n.sorted"
	else
		sort "$tmp/1.out" >"$tmp/1.sorted"
		sort "$tmp/$n.out" >"$tmp/n.sorted"
	fi
	if cmp -s "$tmp/n.sorted" "$tmp/1.sorted"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1)); echo "FAIL: $name: --workers $n: $what differ from one worker's"
		diff <(cut -c1-200 "$tmp/n.sorted") <(cut -c1-200 "$tmp/1.sorted") | head -n 6
	fi
}

# compare "N..." NAME ARGS...: run with 1 and each N workers, default alert interval and 0
compare() {
	local ns=$1 name=$2; shift 2
	local n rc ai what
	for ai in default 0; do
		aargs=(); what=handshakes
		[ $ai = 0 ] && aargs=(--alert-interval 0) && what=all
		"$bin" -q --workers 1 "$@" "${aargs[@]}" >"$tmp/1.out" 2>"$tmp/1.err"
		rc=$?
		for n in $ns; do
			"$bin" -q --workers $n "$@" "${aargs[@]}" >"$tmp/$n.out" 2>"$tmp/$n.err"
			if [ $? -ne $rc ]; then
				fail=$((fail + 1))
				echo "FAIL: $name: --workers $n exit status differs from one worker's ($rc)"
				head -n 3 "$tmp/$n.err"; continue
			fi
			if ! python3 -c 'import json,sys
for line in open(sys.argv[1], encoding="utf-8", errors="strict"):
    json.loads(line)' "$tmp/$n.out"; then
				fail=$((fail + 1))
				echo "FAIL: $name: --workers $n wrote a line that is not JSON"; continue
			fi
			same "$name" $n $what
		done
	done
}

while read -r name pcap rules expected args; do
	case "$name" in ''|'#'*) continue ;; esac
	rargs=()
	[ "$rules" != "-" ] && rargs=(-R "samples/$rules")
	: "$expected"
	if [ -n "${args:-}" ] && [ "${args#-f }" != "$args" ]; then
		compare "2 3" "$name" -r "samples/$pcap" "${rargs[@]}" -f "${args#-f }"
	else
		# shellcheck disable=SC2086  # args are words by design
		compare "2 3" "$name" -r "samples/$pcap" "${rargs[@]}" ${args:-}
	fi
done < samples/CASES

for f in samples/*.pcap tests/hostile/*.pcap; do
	[ -f "$f" ] || continue
	compare 2 "$f" -r "$f" -R samples/watch.rules
done
echo "tests/workers.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
