#!/usr/bin/env bash
# hostile-gen.sh TLSENTRY: the generated hostile captures.
#
# tests/gen/hostile.py writes the captures and their expectations
# (CASES.tsv, format in its header) into a temporary directory; each is run
# through `timeout 60 TLSENTRY -q -r FILE` (with -R samples/watch.rules when
# the case says rules=1, without -q when it reads the summary).  Checked for
# every case: the run ended by itself (no timeout, no signal), every stdout
# line is one JSON object with a valid ISO 8601 @timestamp, stderr holds no
# raw control bytes and no sanitizer report; then the case's expectations.
# One line per failed check; the last line counts them.  HOSTILE_GEN_KEEP=1
# keeps the temporary directory (captures, CASES.tsv, the last outputs).
set -u
me=tests/hostile-gen.sh
bin=${1:?usage: tests/hostile-gen.sh TLSENTRY}
limit=${HOSTILE_GEN_TIMEOUT:-60}	# seconds per run
case "$bin" in */*) bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin") ;; esac
cd "$(dirname "$0")/.." || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hostile-gen.XXXXXX") || exit 1
if [ -n "${HOSTILE_GEN_KEEP:-}" ]; then	# keep the captures to look at
	echo "$me: captures and outputs kept in $tmp"
else
	trap 'rm -rf "$tmp"' EXIT
fi
chmod 755 "$tmp"			# tlsentry may read as nobody after the drop

if ! python3 tests/gen/hostile.py "$tmp/caps" >"$tmp/gen.err" 2>&1; then
	echo "FAIL: tests/gen/hostile.py: $(tail -n 1 "$tmp/gen.err")"
	echo "$me: 0 passed, 1 failed"
	exit 1
fi

cat >"$tmp/check.py" <<'PY'
import datetime, difflib, json, re, sys

line, out_path, err_path, rc = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
fields = line.rstrip("\n").split("\t")
name, exp = fields[0], {}
for f in fields[1:]:
    k, _, v = f.partition("=")
    exp.setdefault(k, []).append(v)
out = open(out_path, "rb").read()
err = open(err_path, "rb").read()
errs = err.decode("utf-8", "replace")
npass = nfail = 0


def short(s, n=160):
    s = s if isinstance(s, str) else repr(s)
    s = re.sub(r"[\x00-\x1f\x7f]", lambda m: "\\x%02x" % ord(m.group()), s)
    return s if len(s) <= n else s[:n] + "..."


def check(what, ok, want, got):
    global npass, nfail
    if ok:
        npass += 1
    else:
        nfail += 1
        print("FAIL: %s: %s: expected %s, got %s" % (name, what, want, short(got)))


# the run ended by itself
check("run", rc != 124 and rc < 128, "to end by itself within the time limit",
      "a timeout" if rc == 124 else "killed by signal %d" % (rc - 128) if rc > 128 else rc)
check("exit status", rc == int(exp.get("exit", ["0"])[0]), exp.get("exit", ["0"])[0], rc)

# stdout: one JSON object per line, each with a valid @timestamp
lines, bad = [], None
try:
    text = out.decode("utf-8")
except UnicodeDecodeError as e:
    text, bad = "", "invalid UTF-8 on stdout: %s" % e
if text and not text.endswith("\n"):
    bad = "the last line has no newline"
for i, l in enumerate(text.split("\n")[:-1]):
    try:
        obj = json.loads(l)
    except ValueError as e:
        bad = bad or "line %d is not JSON (%s): %s" % (i + 1, e, short(l, 80))
        continue
    if not isinstance(obj, dict):
        bad = bad or "line %d is not an object" % (i + 1)
        continue
    ts = obj.get("@timestamp")
    ok_ts = isinstance(ts, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", ts)
    if ok_ts:
        try:
            datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")
        except ValueError:
            ok_ts = False
    if not ok_ts:
        bad = bad or "line %d: @timestamp %r" % (i + 1, ts)
    lines.append((l, obj))
check("stdout", bad is None, "one JSON object per line with an ISO 8601 @timestamp", bad)

# stderr: nothing raw, no sanitizer
raw = re.search(rb"[\x00-\x08\x0b-\x1f\x7f]", err)
check("stderr bytes", raw is None, "no raw control bytes",
      raw and "%r at offset %d" % (raw.group(), raw.start()))
san = re.search(r"(AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:).*", errs)
check("sanitizer", san is None, "no sanitizer report", san and san.group())


def kind(obj):
    ev = obj.get("event")
    return ev.get("kind") if isinstance(ev, dict) else None


for k, label, count in (("events", "handshake events", lambda: sum(kind(o) == "event" for _, o in lines)),
                        ("alerts", "alerts", lambda: sum(kind(o) == "alert" for _, o in lines)),
                        ("lines", "stdout lines", lambda: len(lines)),
                        ("stderr_lines", "stderr lines", lambda: errs.count("\n"))):
    for v in exp.get(k, []):
        n = count()
        check(label, n == int(v), v, n)
def nearest(rx):
    """The stderr line closest to what the regex says, for the failure line."""
    cand = errs.splitlines()
    best = difflib.get_close_matches(re.sub(r"\\(.)", r"\1", rx), cand, n=1, cutoff=0)
    return best[0] if best else "nothing on stderr"


for rx in exp.get("stderr", []):
    check("stderr /%s/" % rx, re.search(rx, errs, re.M) is not None, "a match", nearest(rx))
for rx in exp.get("nostderr", []):
    m = re.search(rx, errs, re.M)
    check("stderr not /%s/" % rx, m is None, "no match",
          m and errs[max(0, m.start() - 60):m.end() + 60])
for frag in exp.get("all", []):
    n = sum(frag in l for l, _ in lines)
    check("every line has %s" % frag, n == len(lines) and lines, "%d lines" % len(lines),
          "%d of %d" % (n, len(lines)))
for frag in exp.get("some", []):
    n = sum(frag in l for l, _ in lines)
    check("some line has %s" % frag, n > 0, "at least 1 line", "%d of %d" % (n, len(lines)))
for frag in exp.get("none", []):
    n = sum(frag in l for l, _ in lines)
    check("no line has %s" % frag, n == 0, "0 lines", "%d of %d" % (n, len(lines)))
print("#", npass, nfail)
PY

pass=0 fail=0
while IFS= read -r line; do
	file=${line%%$'\t'*}
	args=()
	case $'\t'"$line"$'\t' in *$'\tsummary=1\t'*) ;; *) args+=(-q) ;; esac
	# the issuer rule against evasion: no chain validation (the sample CAs
	# are not trusted, and the captures predate the certificates), every
	# alert raised (no --alert-interval repeats)
	args+=(--no-default-ca --alert-interval 0 -r "$tmp/caps/$file")
	case $'\t'"$line"$'\t' in *$'\trules=1\t'*) args+=(-R samples/watch.rules) ;; esac
	# in a subshell whose stderr is dropped, so a crash is reported once, below
	rc=$( { timeout "$limit" "$bin" "${args[@]}" >"$tmp/out" 2>"$tmp/err"; echo $?; } 2>/dev/null)
	while IFS= read -r res; do
		case $res in
		'# '*) set -- $res; pass=$((pass + $2)); fail=$((fail + $3)) ;;
		*) echo "$res" ;;
		esac
	done < <(python3 "$tmp/check.py" "$line" "$tmp/out" "$tmp/err" "$rc" 2>&1 ||
		printf 'FAIL: %s: the checker crashed\n# 0 1\n' "$file")
done <"$tmp/caps/CASES.tsv"
echo "$me: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
