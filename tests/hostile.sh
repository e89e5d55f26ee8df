#!/usr/bin/env bash
# hostile.sh TLSENTRY: the hostile captures of tests/hostile/CASES.
set -u
bin=${1:-./tlsentry}
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0
check() {
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL: $1: expected $2, got $3"; fi
}
# These captures test the issuer rule against evasion: chain validation
# (whose sample CAs are not trusted) and alert repeats are left out.
only_issuer=(--no-default-ca --alert-interval 0)
while read -r file want_hs want_alerts fragment; do
	case "$file" in ''|'#'*) continue ;; esac
	out=$(timeout 60 "$bin" -q "${only_issuer[@]}" -r "tests/hostile/$file" -R samples/watch.rules 2>&1)
	rc=$?
	check "$file: exit status" 0 "$rc"
	check "$file: handshakes" "$want_hs" "$(printf '%s\n' "$out" | grep -c '"kind":"event"')"
	check "$file: alerts" "$want_alerts" "$(printf '%s\n' "$out" | grep -c '"kind":"alert"')"
	if [ "$fragment" != "-" ]; then
		check "$file: events with $fragment" "$want_hs" \
		    "$(printf '%s\n' "$out" | grep '"kind":"event"' | grep -cF "$fragment")"
	fi
done < tests/hostile/CASES
echo "tests/hostile.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
