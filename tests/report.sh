#!/usr/bin/env bash
# report.sh TLSENTRY: the --report page, rendered by headless Chromium.
#
# tests/report_check.py reads what Chromium made of the page: its DOM after
# parsing (every alert of the -w file, the watched names, top SNIs and the
# timeline agree with the events), a screenshot (the timeline's bars are
# drawn), and its net log (the page asked for nothing but itself).  The
# browser runs in a network namespace of its own, so nothing it does
# reaches a network.  Without Chromium or a way to make the namespace, those
# checks are skipped with a note; the static ones run anyway.
set -u
bin=$(realpath "${1:-./tlsentry}")
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0
check() {	# check WHAT EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL: $1: expected '$2', got '$3'"; fi
}
check_cmd() {	# check_cmd WHAT COMMAND...: the command exits 0
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL: $what"; printf '%s\n' "$out" | head -20; fi
}
check_fails() {	# check_fails WHAT COMMAND...: the command exits non-zero
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then fail=$((fail + 1)); echo "FAIL: $what"; else
		pass=$((pass + 1)); fi
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsentry-report.XXXXXX")
chmod 755 "$tmp"		# tlsentry runs as nobody when the test is root
trap 'rm -rf "$tmp"' EXIT

# --- a run with alerts, and one with none -------------------------------------
mkdir "$tmp/evidence" && chmod 777 "$tmp/evidence"
"$bin" -q -r samples/icloud-story.pcap -R samples/watch.rules -w "$tmp/story.json" \
    --report "$tmp/story.html" --evidence "$tmp/evidence"
check "story: exit status" 0 "$?"
n_alerts=$(grep -c '"kind":"alert"' "$tmp/story.json")
check "story: the run has alerts" 1 "$([ "$n_alerts" -gt 0 ] && echo 1)"
check "story: every alert has its evidence pcap (the page must name it)" "$n_alerts" \
    "$(grep '"kind":"alert"' "$tmp/story.json" | grep -c '"evidence":{"pcap":')"
"$bin" -q -r samples/icloud-story.pcap -w "$tmp/none.json" --report "$tmp/none.html" --no-default-ca
check "no rules: exit status" 0 "$?"
check "no rules: no alert event" 0 "$(grep -c '"kind":"alert"' "$tmp/none.json")"
check "no rules: the page says so" 1 "$(grep -c 'No alert in this run' "$tmp/none.html")"
"$bin" -q -r samples/icloud-story.pcap -w /dev/null --report "$tmp/no/such/dir/r.html" 2>"$tmp/err"
check "unwritable report: exit status" 1 "$?"
check "unwritable report: says which file" 1 "$(grep -c 'no/such/dir/r.html' "$tmp/err")"

check_cmd "story: self-contained (no script, link, image, URL)" \
    python3 tests/report_check.py static "$tmp/story.html"
check_cmd "no rules: self-contained" python3 tests/report_check.py static "$tmp/none.html"
printf '<html><body><img src="http://198.51.100.7/x.png"></body></html>\n' > "$tmp/ext.html"
check_fails "the static check finds an external image" \
    python3 tests/report_check.py static "$tmp/ext.html"

# --- Chromium ---------------------------------------------------------------------
chromium=$(command -v chromium || command -v chromium-browser || true)
netns=()
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
	netns=(unshare -n)
elif unshare -rn true 2>/dev/null; then
	netns=(unshare -rn)
fi
if [ -z "$chromium" ]; then
	echo "note: Chromium checks skipped: chromium is not installed (make deps installs it)"
elif [ ${#netns[@]} -eq 0 ]; then
	echo "note: Chromium checks skipped: cannot make a network namespace for the browser"
else
	chrome() {	# chrome ARGS... URL: one headless run, no network, its own profile
		rm -rf "$tmp/profile"
		timeout 120 "${netns[@]}" "$chromium" --headless --no-sandbox --disable-gpu \
		    --disable-dev-shm-usage --user-data-dir="$tmp/profile" --no-first-run \
		    --disable-background-networking --disable-component-update --hide-scrollbars \
		    "$@" 2>>"$tmp/chromium.err"
	}
	chrome --log-net-log="$tmp/story.netlog" --dump-dom "file://$tmp/story.html" > "$tmp/story.dom"
	check "chromium: dump-dom exit status" 0 "$?"
	check_cmd "chromium: the page has every alert with its evidence, the watched names, top SNIs, the timeline" \
	    python3 tests/report_check.py dom "$tmp/story.dom" "$tmp/story.json"
	check_cmd "chromium: the page requested nothing" \
	    python3 tests/report_check.py netlog "$tmp/story.netlog"
	chrome --screenshot="$tmp/story.png" --window-size=1100,700 "file://$tmp/story.html" >/dev/null
	check_cmd "chromium: the screenshot shows the page and its timeline" \
	    python3 tests/report_check.py png "$tmp/story.png"
	chrome --dump-dom "file://$tmp/none.html" > "$tmp/none.dom"
	check_cmd "chromium: the page of a run without alerts" \
	    python3 tests/report_check.py dom "$tmp/none.dom" "$tmp/none.json"
	# the checks can fail: a page that loads an image, one missing an alert
	chrome --log-net-log="$tmp/ext.netlog" --dump-dom "file://$tmp/ext.html" >/dev/null
	check_fails "the net log check sees a page that loads an image" \
	    python3 tests/report_check.py netlog "$tmp/ext.netlog"
	check_fails "the DOM check sees an alert missing from the page" \
	    python3 tests/report_check.py dom "$tmp/none.dom" "$tmp/story.json"
fi
echo "tests/report.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
