#!/usr/bin/env bash
# run-fuzz.sh BUILD_DIR SECONDS: run every libFuzzer target for SECONDS each.
#
# Seeds: tests/fuzz/corpus/<target>/ (committed, small), the sample captures,
# and, when ../shared/corpus exists, its captures (copied at run time into
# the build directory, never committed).  A crash leaves its input in
# BUILD_DIR/artifacts/; minimise it and commit it to tests/regress/ as
# <target>-<what-broke>.bin so make test replays it.
set -u
build=$1 secs=$2
cd "$(dirname "$0")/../.." || exit 1
mkdir -p "$build/artifacts"
status=0
for fz in "$build"/fuzz/fuzz_*; do
	t=$(basename "$fz"); t=${t#fuzz_}
	work="$build/corpus/$t"
	mkdir -p "$work"
	[ -d "tests/fuzz/corpus/$t" ] && cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
	# what broke before, first: clang's checks (a zero offset applied to NULL)
	# are stricter than the gcc build make check replays them with
	cp -n tests/regress/"$t"-* "$work"/ 2>/dev/null
	if [ "$t" = pcap ] || [ "$t" = pcap_struct ]; then
		cp -n samples/*.pcap "$work"/ 2>/dev/null
		[ -d ../shared/corpus/pcap ] && cp -n ../shared/corpus/pcap/* "$work"/ 2>/dev/null
	fi
	dict=tests/fuzz/tls.dict
	[ -f "tests/fuzz/$t.dict" ] && dict=tests/fuzz/$t.dict	# a target's own, if any
	echo "fuzz_$t: $secs s"
	"$fz" -max_total_time="$secs" -dict="$dict" -print_final_stats=0 \
	    -artifact_prefix="$build/artifacts/$t-" "$work" 2>"$build/fuzz_$t.log" || {
		status=1
		echo "fuzz_$t: FAILED, see $build/fuzz_$t.log and $build/artifacts/"
		tail -n 30 "$build/fuzz_$t.log"
	}
done
exit $status
