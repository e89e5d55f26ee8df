#!/bin/bash
# tests/cli.sh: command-line behaviour of the built tlsentry binary, as a user
# sees it: exit status, what goes to stdout and what to stderr.
#
#   usage: tests/cli.sh ./tlsentry
#
# Prints one line per failed check and ends with
# "tests/cli.sh: N passed, N failed"; exits 1 if any check failed.
set -u

if [ $# -ne 1 ]; then
	echo "usage: tests/cli.sh PATH-TO-TLSENTRY" >&2
	exit 2
fi
case $1 in
/*) BIN=$1 ;;
*) BIN=$PWD/$1 ;;
esac
if [ ! -x "$BIN" ]; then
	echo "tests/cli.sh: $1: not an executable file (run make first)" >&2
	exit 2
fi

# Run from the top of the repository so sample paths are short and stable.
cd "$(dirname "$0")/.." || exit 2

T=$(mktemp -d "${TMPDIR:-/tmp}/tlsentry-cli.XXXXXX") || exit 2
trap 'chmod -R u+rwx "$T" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM

STORY=samples/icloud-story.pcap
SPLIT=samples/split-chain.pcap
TRUNC=samples/truncated.pcap
WATCH=samples/watch.rules

# A hung run fails its check (exit 124) instead of hanging the suite.
TIMEOUT=
command -v timeout >/dev/null 2>&1 && TIMEOUT="timeout 60"
OUT=$T/stdout
ERR=$T/stderr
RC=
LAST=			# description of the last run, for messages
N_PASS=0
N_FAIL=0

pass() { N_PASS=$((N_PASS + 1)); }

# fail WHAT EXPECTED ACTUAL
fail() {
	N_FAIL=$((N_FAIL + 1))
	printf 'FAIL: %s: expected %s; got %s\n' "$1" "$2" "$3"
}

# The first line of a file, shortened, for messages.
first_line() {
	local l
	l=$(head -n 1 -- "$1" | cut -c 1-200)
	if [ -s "$1" ]; then
		printf "'%s'" "$l"
	else
		printf '(nothing)'
	fi
}

lines() { wc -l <"$1" | tr -d ' '; }

# Stderr without the hint that follows a usage error.
diag_lines() { grep -v "^try 'tlsentry -h' for help\$" "$ERR"; }

# run [ARGS...]: run the binary with stdin from $IN (default /dev/null),
# stdout to $OUT, stderr to $ERR, exit status in $RC.
run() {
	$TIMEOUT "$BIN" "$@" <"${IN:-/dev/null}" >"$OUT" 2>"$ERR"
	RC=$?
}

# check_exit STATUS DESC -- ARGS...: run and check the exit status.
check_exit() {
	local want=$1 desc=$2
	shift 2
	[ "${1:-}" = "--" ] && shift
	LAST=$desc
	run "$@"
	if [ "$RC" -eq "$want" ]; then
		pass
	else
		fail "$desc (tlsentry $*)" "exit $want" "exit $RC, stderr $(first_line "$ERR")"
	fi
}

# keep NAME: save the last run's stdout and stderr as $T/NAME.out, $T/NAME.err.
keep() {
	cp "$OUT" "$T/$1.out"
	cp "$ERR" "$T/$1.err"
}

expect_stdout_empty() {
	if [ ! -s "$OUT" ]; then pass; else
		fail "$LAST" "empty stdout" "$(lines "$OUT") line(s): $(first_line "$OUT")"
	fi
}

expect_stderr_empty() {
	if [ ! -s "$ERR" ]; then pass; else
		fail "$LAST" "empty stderr" "$(first_line "$ERR") ($(lines "$ERR") line(s))"
	fi
}

# expect_stdout_lines_min N
expect_stdout_lines_min() {
	local n
	n=$(lines "$OUT")
	if [ "$n" -ge "$1" ]; then pass; else
		fail "$LAST" "at least $1 line(s) on stdout" "$n"
	fi
}

# expect_stderr_lines N: stderr has exactly N lines (and ends with a newline).
expect_stderr_lines() {
	local n
	n=$(lines "$ERR")
	if [ "$n" -eq "$1" ] && { [ ! -s "$ERR" ] || [ -z "$(tail -c 1 "$ERR")" ]; }; then
		pass
	else
		fail "$LAST" "exactly $1 line(s) on stderr" \
		    "$n line(s), first $(first_line "$ERR")"
	fi
}

# expect_stderr_has STRING: a fixed string, case-sensitive.
expect_stderr_has() {
	if grep -qF -- "$1" "$ERR"; then pass; else
		fail "$LAST" "stderr to mention '$1'" "$(first_line "$ERR")"
	fi
}

expect_stdout_has() {
	if grep -qF -- "$1" "$OUT"; then pass; else
		fail "$LAST" "stdout to contain '$1'" "$(first_line "$OUT")"
	fi
}

# expect_error_msg STRING...: the error is one line on stderr (a usage
# error may add the "try 'tlsentry -h'" hint), it mentions each STRING, and
# nothing went to stdout.
expect_error_msg() {
	local n s
	expect_stdout_empty
	n=$(diag_lines | wc -l | tr -d ' ')
	if [ "$n" -eq 1 ]; then pass; else
		fail "$LAST" "one error line on stderr" "$n line(s), first $(first_line "$ERR")"
	fi
	for s in "$@"; do
		expect_stderr_has "$s"
	done
}

# check_error STATUS DESC "STRING..." -- ARGS...: run, check the status, that
# stdout is empty and that stderr is one line mentioning each STRING
# (strings separated by '|').
check_error() {
	local want=$1 desc=$2 pats=$3
	local -a list
	shift 3
	check_exit "$want" "$desc" "$@"
	IFS='|' read -r -a list <<<"$pats"
	expect_error_msg "${list[@]}"
}

# expect_eq DESC EXPECTED ACTUAL
expect_eq() {
	if [ "$2" = "$3" ]; then pass; else
		fail "$1" "$2" "$3"
	fi
}

# expect_same_file DESC FILE1 FILE2
expect_same_file() {
	if cmp -s -- "$2" "$3"; then pass; else
		fail "$1" "identical output ($(lines "$2") line(s))" \
		    "different ($(lines "$3") line(s)): $(cmp -- "$2" "$3" 2>&1 | head -n 1)"
	fi
}

# count FILE EXTENDED-REGEX: matching lines.
count() { grep -cE -- "$2" "$1"; }

rules_file() {	# rules_file NAME: text on stdin -> $T/NAME
	cat >"$T/$1"
}

for f in "$STORY" "$SPLIT" "$TRUNC" "$WATCH"; do
	if [ ! -r "$f" ]; then
		echo "tests/cli.sh: missing sample $f" >&2
		exit 2
	fi
done

# --- usage errors: exit 2 ------------------------------------------------------

check_error 2 "no arguments" "-r" --
check_error 2 "unknown option" "-x" -- -x -r "$STORY"
check_error 2 "unknown long option" "--bogus" -- --bogus -r "$STORY"
check_error 2 "unknown option inside a cluster names that option" "'-x'" -- -xq -r "$STORY"
check_error 2 "-r without its argument" "-r|argument" -- -r
check_error 2 "stray positional argument" "stray.pcap" -- -r "$STORY" stray.pcap
check_error 2 "standard input given twice" "standard input" -- -r - -r -
check_error 2 "-R given twice" "-R" -- -R a -R b -r "$STORY"

# --- help and version ----------------------------------------------------------

check_exit 0 "-h" -- -h
expect_stderr_empty
if head -n 1 "$OUT" | grep -q '^usage: tlsentry '; then pass; else
	fail "-h" "usage on stdout" "$(first_line "$OUT")"
fi
expect_stdout_has "-r FILE"
keep help_h

check_exit 0 "--help" -- --help
expect_stderr_empty
expect_same_file "--help prints the same as -h" "$T/help_h.out" "$OUT"

check_exit 0 "--version" -- --version
expect_stderr_empty
if head -c 9 "$OUT" | grep -qx 'tlsentry '; then pass; else
	fail "--version" "stdout starting with 'tlsentry '" "$(first_line "$OUT")"
fi
expect_eq "--version prints one line" 1 "$(lines "$OUT")"

# --- capture files that cannot be read: exit 1 ---------------------------------

check_error 1 "missing capture file" "$T/no-such.pcap|No such file" -- -r "$T/no-such.pcap"
check_error 1 "capture is a directory" "samples|directory" -- -r samples
check_error 1 "capture is a text file" "Makefile|not a capture file" -- -r Makefile
: >"$T/empty.pcap"
check_error 1 "capture is an empty file" "$T/empty.pcap|not a capture file" -- -r "$T/empty.pcap"
cp "$STORY" "$T/unreadable.pcap"
chmod 000 "$T/unreadable.pcap"
if [ "$(id -u)" -eq 0 ]; then
	echo "note: running as root: skipping the unreadable-file check (root can read it)"
else
	check_error 1 "unreadable capture file" "$T/unreadable.pcap|Permission denied" \
	    -- -r "$T/unreadable.pcap"
fi

# --- BPF filter ----------------------------------------------------------------

check_error 2 "bad BPF filter" "bad filter" -- -f 'tcp and (((' -r "$STORY"

check_exit 0 "filter 'tcp port 4433'" -- -q -f 'tcp port 4433' -R "$WATCH" -r "$STORY"
expect_stderr_empty
expect_stdout_lines_min 1
n=$(count "$OUT" '"destination":\{[^}]*"port":4433[,}]')
expect_eq "filter 'tcp port 4433': every event has destination port 4433 ($(lines "$OUT") events)" \
    "$(lines "$OUT")" "$n"
expect_eq "filter 'tcp port 4433': unexpected-issuer alerts" 1 \
    "$(count "$OUT" '"kind":"alert".*"severity":[0-9]+,"reason":"unexpected-issuer"')"

# --- rules files ---------------------------------------------------------------

# check_rules_error DESC FILE LINE [STRING]: a bad rules file is refused with
# "FILE:LINE: ..." before the (valid) capture is read.
check_rules_error() {
	local desc=$1 file=$T/$2 line=$3 extra=${4:-}
	check_exit 1 "rules: $desc" -- -R "$file" -r "$STORY"
	if [ -n "$extra" ]; then
		expect_error_msg "$file:$line: " "$extra"
	else
		expect_error_msg "$file:$line: "
	fi
}

rules_file unknown-key.rules <<'EOF'
# a comment
[a]
domains = a.example
issuer = O=A
colour = blue
EOF
check_rules_error "unknown key" unknown-key.rules 5 colour

rules_file later-block.rules <<'EOF'
[a]
domains = a.example
issuer = O=A

[b]
domains = b.example
issuer = O=B
colour = red
EOF
check_rules_error "unknown key in a second block" later-block.rules 8 colour

rules_file bad-attr.rules <<'EOF'
[a]
domains = a.example

issuer = XX=foo
EOF
check_rules_error "unknown issuer attribute" bad-attr.rules 4 XX

rules_file mid-star.rules <<'EOF'
[a]
issuer = O=A
domains = ok.example a.*.example
EOF
check_rules_error "'*' in the middle of a domain" mid-star.rules 3 'a.*.example'

rules_file outside.rules <<'EOF'
# keys before any block
domains = a.example
[a]
domains = a.example
issuer = O=A
EOF
check_rules_error "key outside any block" outside.rules 2

rules_file no-issuer.rules <<'EOF'
# first block has no issuer
[a]
domains = a.example

[b]
domains = b.example
issuer = O=B
EOF
check_rules_error "block without issuer" no-issuer.rules 2 '[a]'

rules_file no-domains.rules <<'EOF'
[a]
domains = a.example
issuer = O=A

[b]
issuer = O=B
severity = low
EOF
check_rules_error "block without domains (names the block's line)" no-domains.rules 5 '[b]'

rules_file dup-block.rules <<'EOF'
[a]
domains = a.example
issuer = O=A
[b]
domains = b.example
issuer = O=B
[a]
domains = c.example
issuer = O=C
EOF
check_rules_error "duplicate block name" dup-block.rules 7 '[a]'

rules_file bad-severity.rules <<'EOF'
[a]
domains = a.example
issuer = O=A
severity = urgent
EOF
check_rules_error "severity not low|medium|high|critical" bad-severity.rules 4 urgent

check_error 1 "rules: missing rules file" "$T/no-such.rules|No such file" \
    -- -R "$T/no-such.rules" -r "$STORY"

rules_file no-block.rules <<'EOF'
# only comments here

EOF
check_error 1 "rules: file with no block" "$T/no-block.rules" -- -R "$T/no-block.rules" -r "$STORY"

rules_file shadow.rules <<'EOF'
[first]
domains = a.example b.example
issuer = O=A

[second]
domains = c.example b.example
issuer = O=B
EOF
check_exit 0 "rules: later block repeats a domain" -- -q -R "$T/shadow.rules" -r "$STORY"
expect_stdout_lines_min 1
expect_stderr_lines 1
expect_stderr_has "warning"
expect_stderr_has "[first]"
expect_stderr_has "$T/shadow.rules:6: "

# --- truncated capture ---------------------------------------------------------

check_exit 0 "truncated capture" -- -r "$TRUNC"
expect_stdout_lines_min 1
expect_eq "truncated capture: 'cut short' warnings on stderr" 1 "$(grep -c 'cut short' "$ERR")"
keep trunc

check_exit 0 "truncated capture with -q" -- -q -r "$TRUNC"
expect_stdout_lines_min 1
expect_stderr_lines 1
expect_stderr_has "cut short"
expect_stderr_has "$TRUNC"
expect_same_file "truncated capture: stdout with and without -q" "$T/trunc.out" "$OUT"

# --- -q and the summary --------------------------------------------------------

check_exit 0 "good capture with -q" -- -q -r "$STORY"
expect_stderr_empty
expect_stdout_lines_min 1
keep story

check_exit 0 "good capture without -q" -- -r "$STORY"
expect_stderr_has "handshakes"
expect_stderr_has "alerts"
expect_same_file "stdout with and without -q" "$T/story.out" "$OUT"
if grep -q "$(printf '\r')" "$ERR"; then
	fail "no progress line when stderr is not a terminal" "no carriage return on stderr" \
	    "$(grep -c "$(printf '\r')" "$ERR") line(s) with one"
else
	pass
fi

# --- standard input ------------------------------------------------------------

IN=$STORY check_exit 0 "-r - (capture on standard input)" -- -q -r -
expect_stderr_empty
# the same events, except that a file's events name it in log.file.path
sed 's/,"log":{"file":{"path":"[^"]*"}}//' "$T/story.out" > "$T/story.nopath"
expect_same_file "-r - gives the same events as -r FILE (but for log.file.path)" "$T/story.nopath" "$OUT"
if grep -q '"log":' "$OUT"; then
	fail "-r - events have no log.file.path" "no \"log\" field" "$(grep -c '"log":' "$OUT") line(s) with one"
else
	pass
fi

# --- -w OUT --------------------------------------------------------------------

W=$T/events.json
check_exit 0 "-w OUT" -- -q -w "$W" -r "$STORY"
expect_stdout_empty
expect_stderr_empty
if [ -f "$W" ]; then
	expect_same_file "-w OUT holds what stdout would" "$T/story.out" "$W"
else
	fail "-w OUT" "$W to be created" "no such file"
fi
check_exit 0 "-w OUT again (appends)" -- -q -w "$W" -r "$STORY"
expect_stdout_empty
expect_eq "-w OUT appends: line count doubles" \
    "$(($(lines "$T/story.out") * 2))" "$( [ -f "$W" ] && lines "$W" || echo 0)"
cat "$T/story.out" "$T/story.out" >"$T/twice.json"
[ -f "$W" ] && expect_same_file "-w OUT appends: the file is the events twice" "$T/twice.json" "$W"
check_error 1 "-w into a missing directory" "/nonexistent-dir/x|No such file" \
    -- -q -w /nonexistent-dir/x -r "$STORY"

# --- several inputs ------------------------------------------------------------

HS='"kind":"event"'
check_exit 0 "split-chain alone" -- -q -r "$SPLIT"
n_split=$(count "$OUT" "$HS")
n_story=$(count "$T/story.out" "$HS")
check_exit 0 "two inputs" -- -q -r "$STORY" -r "$SPLIT"
expect_stderr_empty
expect_eq "two inputs: handshakes = $n_story + $n_split" \
    "$((n_story + n_split))" "$(count "$OUT" "$HS")"
check_error 1 "second input missing (checked before reading)" "$T/no-such.pcap|No such file" \
    -- -r "$STORY" -r "$T/no-such.pcap"

# --- the events ----------------------------------------------------------------

# the story's sample CAs trusted, every alert raised: the two interceptions
# are the only suspect handshakes, each an unexpected issuer on an untrusted chain
SAMPLE_CAS=(--ca-bundle samples/certs/legit-root.pem --ca-bundle samples/certs/example-root.pem)
check_exit 0 "run with -R samples/watch.rules" -- -R "$WATCH" "${SAMPLE_CAS[@]}" \
    --alert-interval 0 -r "$STORY"
expect_stdout_lines_min 1
n=$(lines "$OUT")
expect_eq "every stdout line is a JSON object" "$n" "$(count "$OUT" '^\{"@timestamp":.*\}$')"
expect_eq "watch.rules: alerts" 4 "$(count "$OUT" '"kind":"alert"')"
expect_eq "watch.rules: unexpected-issuer alerts naming Rogue Interception CA" 2 \
    "$(grep -E '"severity":[0-9]+,"reason":"unexpected-issuer"' "$OUT" |
    grep -cE '"message":"[^"]*Rogue Interception CA')"
expect_eq "watch.rules: untrusted-chain alerts, all for the rogue chain" 2 \
    "$(grep -E '"severity":[0-9]+,"reason":"untrusted-chain"' "$OUT" |
    grep -cF '"status":"self-signed-in-chain"')"
expect_eq "watch.rules: trusted sample chains validate" 3 \
    "$(grep -F '"kind":"event"' "$OUT" | grep -cF '"validation":{"status":"ok"')"
expect_stderr_has "handshakes"
if grep -q "$(printf '\r')" "$ERR"; then
	fail "no progress line when stderr is not a terminal (-R run)" \
	    "no carriage return on stderr" "one found"
else
	pass
fi

# --- live capture and operation options ----------------------------------------

check_error 2 "-r and -i together" "cannot be mixed" -- -r "$STORY" -i lo
check_error 2 "--memcap with an unknown unit" "--memcap|unit" -- --memcap 12Q -r "$STORY"
check_error 2 "--max-flows 0" "--max-flows|out of range" -- --max-flows 0 -r "$STORY"
check_error 2 "--stats-interval not a number" "--stats-interval|not a number" \
    -- --stats-interval soon -r "$STORY"
check_error 2 "--pidfile without its argument" "--pidfile|needs an argument" -- -r "$STORY" --pidfile
check_error 1 "-Z for a user that does not exist" "nosuchuser|no such user" \
    -- -Z nosuchuser -r "$STORY"
if [ "$(id -u)" -eq 0 ]; then
	check_error 1 "-i for an interface that does not exist" "nosuchif0|no such interface" \
	    -- -i nosuchif0
else
	check_error 1 "-i without the right to capture" "permission denied" -- -i lo
fi
check_exit 0 "--stats-interval with a file: a final metric event" \
    -- -q --stats-interval 60 -r "$STORY"
expect_eq "one metric event" 1 "$(count "$OUT" '"kind":"metric"')"
expect_eq "the metric event counts the packets" 1 \
    "$(grep '"kind":"metric"' "$OUT" | grep -c '"stats":{"packets":114,')"
check_exit 0 "--pidfile with a file" -- -q --pidfile "$T/pid" -Z root -r "$STORY"
expect_eq "pid file removed at exit" no "$([ -e "$T/pid" ] && echo yes || echo no)"

# files opened before the privilege drop never follow a symbolic link
touch "$T/victim"
ln -s "$T/victim" "$T/events-link.json"
check_error 1 "-w through a symbolic link" "events-link.json|symbolic link" \
    -- -q -r "$STORY" -w "$T/events-link.json"
expect_eq "the link's target is untouched" 0 "$(wc -c < "$T/victim" | tr -d ' ')"
ln -s "$T/victim" "$T/pid-link"
check_exit 0 "--pidfile where a symbolic link stands" -- -q -Z root -r "$STORY" --pidfile "$T/pid-link"
expect_eq "the link was replaced, not followed" 0 "$(wc -c < "$T/victim" | tr -d ' ')"
echo $$ > "$T/running.pid"		# this shell: alive
check_error 1 "--pidfile of a running process" "already running" \
    -- -q -r "$STORY" --pidfile "$T/running.pid"
expect_eq "its pid file is left alone" "$$" "$(cat "$T/running.pid")"
echo 2147483600 > "$T/stale.pid"	# no such process
check_exit 0 "--pidfile that is stale" -- -q -Z root -r "$STORY" --pidfile "$T/stale.pid"
expect_eq "stale pid file replaced, then removed at exit" no \
    "$([ -e "$T/stale.pid" ] && echo yes || echo no)"
check_error 2 "-i with an empty name" "interface name" -- -i ""
check_error 2 "--stats-interval with a unit" "--stats-interval|whole number" \
    -- --stats-interval 1K -r "$STORY"
check_exit 1 "writing to a full device" -- -q -r "$STORY" -w /dev/full
expect_eq "the write error is reported at once and at the end" 2 \
    "$(grep -c 'No space left on device' "$ERR")"

# --- chain validation, alert repeats, --check-rules ---------------------------------

check_error 1 "--ca-bundle that does not exist" "no-such.pem|cannot read" \
    -- -q --ca-bundle "$T/no-such.pem" -r "$STORY"
echo "not a certificate" > "$T/junk.pem"
check_error 1 "--ca-bundle without a certificate" "junk.pem|no PEM certificate" \
    -- -q --ca-bundle "$T/junk.pem" -r "$STORY"
check_error 1 "--ca-path that is not a directory" "no-such-dir|CA directory" \
    -- -q --ca-path "$T/no-such-dir" -r "$STORY"
check_error 2 "--alert-interval that is not a number" "--alert-interval" \
    -- --alert-interval soon -r "$STORY"
# the system bundle alone: the story's sample CAs are nobody's, so every chain is
# untrusted; the second interception (over IPv6) repeats the first's findings
check_exit 0 "the system's CA bundle only" -- -R "$WATCH" -r "$STORY"
expect_eq "system bundle: every visible chain is untrusted" 5 \
    "$(grep -F '"kind":"event"' "$OUT" | grep -c '"findings":\["[a-z-]*",*[a-z"-]*untrusted-chain\|"findings":\["untrusted-chain"')"
expect_stderr_has "repeated alerts not raised"
expect_eq "system bundle: alerts (the IPv6 interception's are repeats)" 5 \
    "$(count "$OUT" '"kind":"alert"')"
check_exit 0 "--alert-interval 0: every alert" -- -q -R "$WATCH" --alert-interval 0 -r "$STORY"
expect_eq "--alert-interval 0: alerts" 7 "$(count "$OUT" '"kind":"alert"')"
check_exit 0 "--no-default-ca: no chain is validated" -- -q -R "$WATCH" --no-default-ca -r "$STORY"
expect_eq "--no-default-ca: only the issuer alert" 1 "$(count "$OUT" '"kind":"alert"')"
expect_eq "--no-default-ca: validation not checked" 0 "$(count "$OUT" '"validation":\{"status":"(ok|unable)')"

check_exit 0 "--check-rules samples/watch.rules" -- --check-rules "$WATCH"
expect_stdout_has "[icloud] line 7: 2 domain patterns, severity high"
expect_stdout_has "domains: icloud.com *.icloud.com"
expect_stdout_has "[defaults] alert for every name: untrusted-chain self-signed hostname-mismatch expired"
rules_file checks.rules <<'RULES'
[defaults]
alert = expired
[bank]
domains = bank.example
pin-sha256 = YLh1dUR9y6Kja30RrAn7JKnbQG/uEtLMkBgFF2Fuihg=
min-version = tls1.3
RULES
check_exit 0 "--check-rules with [defaults] and a pin" -- --check-rules "$T/checks.rules"
expect_stdout_has "[defaults] alert for every name: expired (severity medium)"
expect_stdout_has "1 SPKI pin"
expect_stdout_has "min-version: tls1.3"
rules_file bad-reason.rules <<'RULES'
[defaults]
alert = expired maybe-bad
RULES
check_error 1 "--check-rules with an unknown reason" "bad-reason.rules:2:|'maybe-bad' is not a reason" \
    -- --check-rules "$T/bad-reason.rules"

echo "tests/cli.sh: $N_PASS passed, $N_FAIL failed"
[ "$N_FAIL" -eq 0 ]
