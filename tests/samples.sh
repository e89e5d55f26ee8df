#!/usr/bin/env bash
# samples.sh TLSENTRY [--update]: the golden cases of samples/CASES, then the
# ground truth of samples/*.truth.tsv (written by samples/make-samples.sh from
# the certificates it made, independently of tlsentry).
#
# --update rewrites the expected files from the current output; use it only
# after re-running make-samples.sh, and read the diff before committing.
set -u
bin=${1:-./tlsentry}
update=${2:-}
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

while read -r name pcap rules expected args; do
	case "$name" in ''|'#'*) continue ;; esac
	rargs=()
	[ "$rules" != "-" ] && rargs=(-R "samples/$rules")
	# shellcheck disable=SC2086  # args are words by design
	if [ -n "${args:-}" ] && [ "${args#-f }" != "$args" ]; then
		"$bin" -q -r "samples/$pcap" "${rargs[@]}" -f "${args#-f }" >"$tmp/$name.out" 2>"$tmp/$name.err"
	else
		"$bin" -q -r "samples/$pcap" "${rargs[@]}" ${args:-} >"$tmp/$name.out" 2>"$tmp/$name.err"
	fi
	rc=$?
	if [ "$update" = "--update" ]; then
		cp "$tmp/$name.out" "samples/$expected"
	fi
	if [ $rc -eq 0 ] && cmp -s "$tmp/$name.out" "samples/$expected"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $name (exit $rc): output differs from samples/$expected"
		diff <(tr ',' '\n' <"samples/$expected") <(tr ',' '\n' <"$tmp/$name.out") | head -n 20
		head -n 3 "$tmp/$name.err"
	fi
done < samples/CASES

for t in samples/*.truth.tsv; do
	# judge.truth.tsv lists findings, not chains: tests/judge.sh reads it
	case $t in samples/judge.truth.tsv) continue ;; esac
	pcaps=("${t%.truth.tsv}.pcap")
	# a truth file for several captures (starttls.truth.tsv) names each
	# row's capture in its first column, "capture"
	if [ ! -f "${pcaps[0]}" ] && head -n 1 "$t" | grep -q '^#capture'; then
		mapfile -t pcaps < <(awk -F'\t' '$1 !~ /^#/ && $1 != "" { print "samples/" $1 }' "$t" | sort -u)
	fi
	for pcap in "${pcaps[@]}"; do
		out=$(python3 tests/oracle.py --bin "$bin" --truth "$t" --pcap "$pcap" \
		    --rules samples/watch.rules 2>&1)
		line=$(echo "$out" | tail -n 1)
		p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')
		f=$(echo "$line" | sed -E 's/.*, ([0-9]+) failed$/\1/')
		[ "$f" -gt 0 ] && echo "$out"
		pass=$((pass + p)); fail=$((fail + f))
	done
done

echo "tests/samples.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
