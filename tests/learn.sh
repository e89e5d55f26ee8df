#!/usr/bin/env bash
# learn.sh TLSENTRY: `tlsentry learn` and `--state` on the captures
# samples/make-judge.sh made with openssl: judge-learn-clean.pcap (learnme.test
# served through the Judge Test Intermediate, TLS 1.2 and 1.3) and
# judge-learn-attack.pcap (the same names from an unknown root, from a leaf the
# test root signed itself, from a TLS 1.3 server choosing another cipher, and
# one clean connection).  The test root is trusted with --ca-bundle.
#
# Round trip: rules learned from the clean capture raise nothing on it and
# raise the interception on the attack capture.  Trust on first use: --state
# learns the clean issuer, flags both new issuers, remembers only the one
# whose chain validated.
set -u
bin=${1:-./tlsentry}
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
CA=(--no-default-ca --ca-bundle samples/certs-judge/judge-root.pem)
clean=samples/judge-learn-clean.pcap attack=samples/judge-learn-attack.pcap

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
expect() {  # WHAT GOT WANT
	if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', want '$3'"; fi
}

# "port:reason" of every alert, sorted, on one line ("-" for none)
alerts() {
	python3 -c '
import json, sys
out = sorted("%s:%s" % (e["destination"]["port"], e["event"]["reason"])
             for e in map(json.loads, open(sys.argv[1], encoding="utf-8"))
             if e["event"]["kind"] == "alert")
print(" ".join(out) if out else "-")' "$1"
}

# --- learn -------------------------------------------------------------------
"$bin" learn -r "$clean" "${CA[@]}" -o "$tmp/learned.rules" 2>"$tmp/err"
expect "learn exit status" "$?" 0
grep -q "^tlsentry: learned 1 registered domain" "$tmp/err" && ok ||
	bad "learn's summary line: $(tail -1 "$tmp/err")"
"$bin" --check-rules "$tmp/learned.rules" >"$tmp/check" 2>&1
expect "--check-rules accepts the learned rules" "$?" 0
expect "one block, named by the registered domain" "$(grep -c '^\[' "$tmp/learned.rules") $(grep '^\[' "$tmp/learned.rules")" "1 [learnme.test]"
expect "its domains" "$(grep '^domains' "$tmp/learned.rules")" "domains = learnme.test *.learnme.test"
expect "the issuer that validated, and only it" "$(grep -c '^issuer = .*CN=Judge Test Intermediate' "$tmp/learned.rules") $(grep -c '^issuer' "$tmp/learned.rules")" "1 1"
pin=$(openssl x509 -in samples/certs-judge/judge-int.pem -pubkey -noout |
	openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)
expect "the issuing CA's pin" "$(grep '^pin-sha256' "$tmp/learned.rules")" "pin-sha256 = $pin"
# the TLS 1.2 servers' ServerHello and the TLS 1.3 one's
expect "two server fingerprints" "$(grep -c '^server-ja3s = [0-9a-f]\{32\}$' "$tmp/learned.rules")" 2
grep -q '^# 2 handshakes, .* to ' "$tmp/learned.rules" && ok || bad "issuer comment with count and dates"
grep -q '^# the issuing CA .*Judge Test Intermediate, 2 handshakes$' "$tmp/learned.rules" && ok ||
	bad "pin comment with the CA and its count"
expect "fingerprint comments with their counts" \
	"$(grep '^# ServerHello' "$tmp/learned.rules" | sed 's/.*(//' | sort | tr '\n' ' ')" "1 handshake) 2 handshakes) "

"$bin" -q -r "$clean" "${CA[@]}" -R "$tmp/learned.rules" --alert-interval 0 >"$tmp/out"
expect "learned rules on the clean capture: no alert" "$(alerts "$tmp/out")" "-"
expect "... every handshake watched by the learned block" \
	"$(python3 -c 'import json,sys; print(sorted({e["tlsentry"].get("watched_by","-") for e in map(json.loads, open(sys.argv[1])) if e["event"]["kind"]=="event"}))' "$tmp/out")" \
	"['learnme.test']"
"$bin" -q -r "$attack" "${CA[@]}" -R "$tmp/learned.rules" --alert-interval 0 >"$tmp/out"
expect "learned rules on the attack capture" "$(alerts "$tmp/out")" \
	"4494:pin-mismatch 4494:unexpected-issuer 4494:untrusted-chain 4495:pin-mismatch 4495:unexpected-issuer 4496:new-server-fingerprint"

# nothing validates without a trusted root: fingerprints only, no issuer
"$bin" learn -q -r "$clean" --no-default-ca -o "$tmp/unvalidated.rules"
expect "learn without a trusted root: exit status" "$?" 0
expect "... no issuer and no pin learned" "$(grep -c '^issuer\|^pin' "$tmp/unvalidated.rules")" 0
expect "... the fingerprints still" "$(grep -c '^server-ja3s' "$tmp/unvalidated.rules")" 2

# standard output without -o; same rules as with -o (but the header)
"$bin" learn -q -r "$clean" "${CA[@]}" >"$tmp/stdout.rules"
expect "learn to standard output" "$(grep -v '^# Written' "$tmp/stdout.rules" | md5sum)" \
	"$(grep -v '^# Written' "$tmp/learned.rules" | md5sum)"

# usage errors: exit 2, one line
for args in "learn -r $clean -o $clean" "learn -r $clean -w $tmp/x" "-r $clean -o $tmp/x" \
    "learn -r $clean --duration 5" "-r $clean --state $clean"; do
	# shellcheck disable=SC2086
	"$bin" $args >/dev/null 2>"$tmp/err"
	rc=$?
	expect "'$args': usage error" "$rc $(grep -c '^tlsentry: ' "$tmp/err")" "2 1"
done

# --- --state: trust on first use -------------------------------------------------
state=$tmp/state/tofu.tsv
mkdir -p "$tmp/state"
[ "$(id -u)" -eq 0 ] && chown nobody "$tmp/state"	# the default -Z user writes it
run_state() { "$bin" -q -r "$1" "${CA[@]}" --state "$state" --alert-interval 0 >"$tmp/out"; }
run_state "$clean"
expect "first run: exit status" "$?" 0
expect "first run: no new issuer" "$(alerts "$tmp/out")" "-"
expect "first run: the issuer remembered" "$(grep -v '^#' "$state" | cut -f1,4,5)" \
	"$(printf 'learnme.test\t2\tO=Judge Test,C=DE,CN=Judge Test Intermediate')"
run_state "$attack"
expect "the attack: both new issuers" "$(alerts "$tmp/out")" \
	"4494:new-issuer 4494:untrusted-chain 4495:new-issuer"
expect "the validated new issuer remembered, the untrusted one not" \
	"$(grep -v '^#' "$state" | cut -f5 | sort | tr '\n' '|')" \
	"O=Judge Test,C=DE,CN=Judge Test Intermediate|O=Judge Test,C=DE,CN=Judge Test Root|"
run_state "$attack"
expect "the attack again: only the untrusted issuer is new" "$(alerts "$tmp/out")" \
	"4494:new-issuer 4494:untrusted-chain"
expect "no temporary file left" "$(ls "$tmp/state")" "tofu.tsv"

printf 'this is not a state file\n' >"$tmp/notstate"
"$bin" -q -r "$clean" --state "$tmp/notstate" >/dev/null 2>"$tmp/err"
expect "a file that is not a state file: exit 1, one line" "$? $(wc -l <"$tmp/err")" "1 1"
expect "... and it is left alone" "$(cat "$tmp/notstate")" "this is not a state file"
printf '# tlsentry state 1\nlearnme.test\tnot-a-number\n' >"$tmp/badstate"
"$bin" -q -r "$clean" --state "$tmp/badstate" >/dev/null 2>"$tmp/err"
expect "a damaged state line: exit 1 naming the line" "$? $(grep -o "$tmp/badstate:[0-9]*" "$tmp/err")" \
	"1 $tmp/badstate:2"
if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$tmp/rootonly"
	"$bin" -q -r "$clean" --state "$tmp/rootonly/s" >/dev/null 2>"$tmp/err"
	expect "a state directory nobody cannot write: exit 1, one line" "$? $(wc -l <"$tmp/err")" "1 1"
	grep -q "writable by the -Z user" "$tmp/err" && ok || bad "unwritable state message: $(cat "$tmp/err")"
else
	echo "note: not root, the privilege-drop case of --state is not checked"
fi

echo "tests/learn.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
