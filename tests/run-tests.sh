#!/usr/bin/env bash
# run-tests.sh BUILD_DIR TLSENTRY: every test, one after another.
#
# Each test prints a line "NAME: N passed, N failed"; this script adds them up
# and ends with the total on its last line.  A test that crashes or prints no
# summary counts as one failure.  Exit status 1 if anything failed.
set -u
build=${1:-build}
bin=${2:-./tlsentry}
cd "$(dirname "$0")/.." || exit 1

pass=0 fail=0
run() {
	local name=$1; shift
	local out rc line p f
	out=$("$@" 2>&1); rc=$?
	line=$(printf '%s\n' "$out" | grep -E '^[^ ]+: [0-9]+ passed, [0-9]+ failed$' | tail -n 1)
	if [ -z "$line" ]; then
		printf '%s\n' "$out" | tail -n 20
		echo "$name: no summary (exit status $rc): counted as 1 failure"
		fail=$((fail + 1))
		return
	fi
	p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\1/')
	f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed$/\2/')
	if [ "$f" -gt 0 ] || [ "$rc" -ne 0 ]; then
		printf '%s\n' "$out" | grep -v -E ': [0-9]+ passed, [0-9]+ failed$' | tail -n 40
		[ "$f" -eq 0 ] && f=1		# non-zero exit with no failed check: a crash
	fi
	printf '%s\n' "$out" | grep -E '^note: ' | sed "s/^/  /"	# skips, said out loud
	echo "$line"
	pass=$((pass + p)); fail=$((fail + f))
}

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t"
done
# saved fuzz inputs: regressions and seeds, through each target's replay build
for r in "$build"/replay/fuzz_*; do
	[ -x "$r" ] || continue
	t=${r##*/fuzz_}
	inputs=(tests/regress/"$t"-* tests/fuzz/corpus/"$t"/*)
	{ [ "$t" = pcap ] || [ "$t" = pcap_struct ]; } && inputs+=(samples/*.pcap)
	existing=()
	for i in "${inputs[@]}"; do [ -f "$i" ] && existing+=("$i"); done
	run "replay-$t" "$r" "${existing[@]}"
done
run samples tests/samples.sh "$bin"
run hostile tests/hostile.sh "$bin"
run hostile-gen tests/hostile-gen.sh "$bin"
run cli tests/cli.sh "$bin"
run judge tests/judge.sh "$bin"
run learn tests/learn.sh "$bin"
run evidence tests/evidence.sh "$bin"
run workers tests/workers.sh "$bin"
run siem tests/siem.sh "$bin"
run report tests/report.sh "$bin"
run starttls-captures tests/starttls-captures.sh "$bin" "$build"
run live tests/live.sh "$bin"
run flood python3 tests/flood.py "$build/tests/floodgen" "$bin" "$build/flood"
# soak: the corpus (or, without it, the samples) 200 times through one engine
soak_inputs=(samples/*.pcap)
[ -d ../shared/corpus/pcap ] && soak_inputs+=(../shared/corpus/pcap/*)
run soak "$build/tests/soak" 200 tests/soak.rules "${soak_inputs[@]}"
run corpus python3 tests/oracle.py --bin "$bin" --corpus ../shared/corpus
run corpus-alerts tests/corpus-alerts.sh "$bin"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
