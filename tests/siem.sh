#!/usr/bin/env bash
# siem.sh TLSENTRY: tlsentry feeding real syslog collectors.
#
# Starts rsyslog and syslog-ng on loopback ports, with configurations this
# test writes into a temporary directory (the system's syslog is not
# touched), and checks, tests/siem_check.py reading what they stored:
#  1. JSON over UDP, TCP, TLS, RELP (rsyslog) and UDP, TCP, TLS, unix
#     datagram and stream sockets (syslog-ng), all in one run: every event
#     arrives byte for byte as in the -w file, with its PRI, MSGID and
#     sequenceId, and each collector's own JSON parser reads it;
#  2. CEF over TCP: rsyslog's CEF parser (liblognorm) reads it, and its
#     fields carry the JSON's values; text over TCP to syslog-ng;
#  3. UDP at the default 2048-byte datagram: long events are cut cleanly,
#     marked, counted;
#  4. TLS to a collector whose certificate is not from --syslog-ca, and to
#     one whose name does not match: nothing sent, alerts reported lost;
#  5. a full queue while the collector is away drops handshakes, not alerts;
#     a collector that stops reading does not hold capture up;
#  7. the README's collector configurations, cut out of README.md and run
#     as they are but for ports and paths, receive and sort every event;
#  6. restart: the collectors are stopped in the middle of a live run fed
#     from a pipe, and started again: over RELP every alert arrives, in
#     order; over TCP every alert after the reconnect arrives and any gap
#     in the sequence is within what tlsentry counted as possibly lost.
# A collector that cannot be started here is skipped with a note.
set -u
bin=$(realpath "${1:-./tlsentry}")
cd "$(dirname "$0")/.." || exit 1
top=$PWD
pass=0 fail=0
check() {	# check WHAT EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL: $1: expected '$2', got '$3'"; fi
}
check_cmd() {	# check_cmd WHAT COMMAND...: the command exits 0 (its output shown if not)
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL: $what"; printf '%s\n' "$out" | head -20; fi
}
finish() {
	echo "tests/siem.sh: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tlsentry-siem.XXXXXX")
chmod 755 "$tmp"		# tlsentry runs as nobody when the test is root
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
[ -n "${SIEM_KEEP:-}" ] && cleanup() { echo "kept $tmp"; for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

# --- the collectors --------------------------------------------------------------
rsyslogd=$(command -v rsyslogd || true)
sng=$(command -v syslog-ng || true)
sng_env=() sng_args=()
if [ -z "$sng" ] && [ -x build/syslog-ng/usr/sbin/syslog-ng ]; then
	sng=$top/build/syslog-ng/usr/sbin/syslog-ng	# unpacked by 'make deps'
	sng_env=(env LD_LIBRARY_PATH="$top/build/syslog-ng/usr/lib/syslog-ng")
	sng_args=(--module-path="$top/build/syslog-ng/usr/lib/syslog-ng/3.38")
fi

# free loopback ports, chosen by the kernel
read -r -a port < <(python3 -c '
import socket
socks = []
for _ in range(20):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))')
RS_UDP=${port[0]} RS_TCP=${port[1]} RS_TLS=${port[2]} RS_RELP=${port[3]} RS_CEF=${port[4]}
RS_TLSBAD=${port[5]} NG_UDP=${port[6]} NG_TCP=${port[7]} NG_TLS=${port[8]} NG_TEXT=${port[9]}
NG_TLSNAME=${port[10]} CLOSED=${port[11]} RS2_RELP=${port[12]} RS2_TCP=${port[13]}
SLOW=${port[14]} SN_RELP=${port[15]} SN_RS_TLS=${port[16]} SN_RS_TCP=${port[17]}
SN_NG_TCP=${port[18]} SN_NG_TLS=${port[19]}

# a PKI: the collectors' CA, a certificate for localhost, one for another
# name, and a CA nobody uses
cd "$tmp" || exit 1
mkcert() {	# mkcert NAME SUBJECT SAN
	openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
	printf 'subjectAltName=%s\n' "$3" > "$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -set_serial "$RANDOM" -days 30 \
	    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 \
    -subj "/CN=tlsentry test syslog CA" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 30 \
    -subj "/CN=Some other CA" 2>/dev/null
mkcert srv "/CN=localhost" "DNS:localhost,IP:127.0.0.1"
mkcert wrongname "/CN=collector.example" "DNS:collector.example"
chmod 644 ./*.key		# the collectors read them; the test directory is private
printf 'version=2\nrule=:%%cef:cef%%\n' > cef.rulebase
cd "$top" || exit 1

# rsyslog: one ruleset and one file per input; mmjsonparse and
# mmnormalize (liblognorm's CEF parser) fill the PARSED column
rs_conf() {	# rs_conf FILE DIR: the main collector
	cat > "$1" <<EOF
global(workDirectory="$2" maxMessageSize="64k"
  DefaultNetstreamDriverCAFile="$tmp/ca.pem"
  DefaultNetstreamDriverCertFile="$tmp/srv.pem" DefaultNetstreamDriverKeyFile="$tmp/srv.key")
module(load="imudp")
module(load="imtcp")
module(load="imrelp")
module(load="mmjsonparse")
module(load="mmnormalize")
template(name="json" type="string"
  string="%pri%\t%app-name%\t%procid%\t%msgid%\t%structured-data%\t%\$!event!kind%\t%msg%\n")
template(name="cef" type="string"
  string="%pri%\t%app-name%\t%procid%\t%msgid%\t%structured-data%\t%\$!cef!DeviceVendor%|%\$!cef!Severity%|%\$!cef!Extensions!dhost%|%\$!cef!Extensions!cs2%\t%msg%\n")
ruleset(name="udp") { action(type="mmjsonparse" cookie="") action(type="omfile" file="$2/udp.log" template="json") }
ruleset(name="tcp") { action(type="mmjsonparse" cookie="") action(type="omfile" file="$2/tcp.log" template="json") }
ruleset(name="tls") { action(type="mmjsonparse" cookie="") action(type="omfile" file="$2/tls.log" template="json") }
ruleset(name="relp") { action(type="mmjsonparse" cookie="") action(type="omfile" file="$2/relp.log" template="json") }
ruleset(name="cef") { action(type="mmnormalize" ruleBase="$tmp/cef.rulebase") action(type="omfile" file="$2/cef.log" template="cef") }
input(type="imudp" address="127.0.0.1" port="$RS_UDP" ruleset="udp")
input(type="imtcp" address="127.0.0.1" port="$RS_TCP" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="$RS_TLS" ruleset="tls"
  streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="$RS_TLSBAD" ruleset="tls"
  streamDriver.name="ossl" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imrelp" address="127.0.0.1" port="$RS_RELP" ruleset="relp")
input(type="imtcp" address="127.0.0.1" port="$RS_CEF" ruleset="cef")
EOF
}
ng_conf() {	# ng_conf FILE DIR
	cat > "$1" <<EOF
@version: 3.38
options { log-msg-size(65536); stats-freq(0); keep-hostname(yes); };
template t_json { template("\${PRI}\t\${PROGRAM}\t\${PID}\t\${MSGID}\t\${SDATA}\t\${.json.event.kind}\t\${MSG}\n"); };
template t_raw { template("\${PRI}\t\${PROGRAM}\t\${PID}\t\${MSGID}\t\${SDATA}\t-\t\${MSG}\n"); };
parser p_json { json-parser(prefix(".json.")); };
# a message that is not JSON (a datagram cut short) still gets stored, by
# the second channel, with nothing parsed
source s_udp { syslog(ip(127.0.0.1) port($NG_UDP) transport("udp")); };
source s_tcp { syslog(ip(127.0.0.1) port($NG_TCP) transport("tcp")); };
source s_tls { syslog(ip(127.0.0.1) port($NG_TLS) transport("tls")
  tls(key-file("$tmp/srv.key") cert-file("$tmp/srv.pem") peer-verify(optional-untrusted))); };
source s_tlsname { syslog(ip(127.0.0.1) port($NG_TLSNAME) transport("tls")
  tls(key-file("$tmp/wrongname.key") cert-file("$tmp/wrongname.pem") peer-verify(optional-untrusted))); };
source s_dgram { unix-dgram("$2/dgram.sock" perm(0666) flags(syslog-protocol)); };
source s_stream { unix-stream("$2/stream.sock" perm(0666) flags(syslog-protocol)); };
source s_text { syslog(ip(127.0.0.1) port($NG_TEXT) transport("tcp")); };
log { source(s_udp); junction { channel { parser(p_json); flags(final); }; channel { flags(final); }; }; destination { file("$2/udp.log" template(t_json)); }; };
log { source(s_tcp); junction { channel { parser(p_json); flags(final); }; channel { flags(final); }; }; destination { file("$2/tcp.log" template(t_json)); }; };
log { source(s_tls); source(s_tlsname); junction { channel { parser(p_json); flags(final); }; channel { flags(final); }; }; destination { file("$2/tls.log" template(t_json)); }; };
log { source(s_dgram); junction { channel { parser(p_json); flags(final); }; channel { flags(final); }; }; destination { file("$2/dgram.log" template(t_json)); }; };
log { source(s_stream); junction { channel { parser(p_json); flags(final); }; channel { flags(final); }; }; destination { file("$2/stream.log" template(t_json)); }; };
log { source(s_text); destination { file("$2/text.log" template(t_raw)); }; };
EOF
}
wait_port() {	# wait_port PROTO PORT: up to 10 s for a listener
	for _ in $(seq 100); do
		ss -lnH "-$1" "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}
wait_lines() {	# wait_lines FILE PATTERN COUNT: up to 15 s
	for _ in $(seq 150); do
		[ "$(grep -c -- "$2" "$1" 2>/dev/null || true)" -ge "$3" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
start_rsyslog() {	# start_rsyslog CONF DIR: sets rs_pid
	mkdir -p "$2"
	"$rsyslogd" -n -f "$1" -i "$2/pid" 2>>"$2/stderr" 7>&- &	# not the feed's writer
	rs_pid=$!
	pids+=("$rs_pid")
}
stop() {	# stop PID: SIGTERM, wait for it to exit
	kill -TERM "$1" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	wait "$1" 2>/dev/null
}

have_rs=0 have_ng=0
if [ -n "$rsyslogd" ]; then
	rs_conf "$tmp/rs.conf" "$tmp/rs"
	start_rsyslog "$tmp/rs.conf" "$tmp/rs"
	if wait_port t "$RS_RELP" && wait_port t "$RS_TLS" && wait_port u "$RS_UDP"; then
		have_rs=1
	else
		echo "note: rsyslog did not start: $(tail -n 3 "$tmp/rs/stderr" 2>/dev/null)"
	fi
else
	echo "note: rsyslog tests skipped: rsyslogd is not installed (make deps installs it)"
fi
if [ -n "$sng" ]; then
	mkdir -p "$tmp/ng"
	ng_conf "$tmp/ng.conf" "$tmp/ng"
	"${sng_env[@]}" "$sng" "${sng_args[@]}" -F -f "$tmp/ng.conf" -R "$tmp/ng/persist" \
	    -p "$tmp/ng/pid" -c "$tmp/ng/ctl" --no-caps 2>"$tmp/ng/stderr" &
	ng_pid=$!
	pids+=("$ng_pid")
	if wait_port t "$NG_TLS" && wait_port u "$NG_UDP" && [ -S "$tmp/ng/stream.sock" ]; then
		have_ng=1
	else
		echo "note: syslog-ng did not start: $(tail -n 3 "$tmp/ng/stderr" 2>/dev/null)"
	fi
else
	echo "note: syslog-ng tests skipped: no syslog-ng (make deps unpacks Debian's)"
fi
# -F text: colour on a terminal only (script(1) gives the run a terminal)
if command -v script >/dev/null; then
	script -qec "$bin -q -r samples/icloud-story.pcap -R samples/watch.rules -F text" /dev/null \
	    > "$tmp/tty.txt" 2>&1
	check "text on a terminal: alerts in red" 1 "$(grep -c $'\x1b\\[1;31m.*ALERT' "$tmp/tty.txt" | grep -c '[1-9]')"
	check "text on a terminal: handshakes dim" 1 "$(grep -c $'^\x1b\\[2m' "$tmp/tty.txt" | grep -c '[1-9]')"
else
	echo "note: terminal colour check skipped: no script(1)"
fi
"$bin" -q -r samples/icloud-story.pcap -R samples/watch.rules -F text > "$tmp/pipe.txt"
check "text into a pipe: no escape sequence" 0 "$(grep -c $'\x1b' "$tmp/pipe.txt")"
check "text into a pipe: one line per event" "$("$bin" -q -r samples/icloud-story.pcap -R samples/watch.rules | wc -l)" \
    "$(wc -l < "$tmp/pipe.txt")"

if [ "$have_rs$have_ng" = 00 ]; then
	finish
fi

STORY=samples/icloud-story.pcap
RULES=samples/watch.rules
# what one run over the story gives, from a run with no collector at all:
# handshakes, alerts (one per alerting finding), the final metric event
"$bin" -q -r "$STORY" -R "$RULES" --alert-interval 0 -w "$tmp/base.json" --stats-interval 3600
N_EVENTS=$(wc -l < "$tmp/base.json")
N_HS=$(grep -c '"kind":"event"' "$tmp/base.json")
N_ALERTS=$(grep -c '"kind":"alert"' "$tmp/base.json")
check "baseline: the story has handshakes and at least 3 alerts" 1 \
    "$([ "$N_HS" -gt 0 ] && [ "$N_ALERTS" -ge 3 ] && echo 1)"
RULES_ARGS=(-R "$RULES" --alert-interval 0)

# --- 1. JSON to every transport at once ----------------------------------------------
outs=()
[ "$have_rs" = 1 ] && outs+=(--syslog "udp://127.0.0.1:$RS_UDP" --syslog "tcp://127.0.0.1:$RS_TCP"
    --syslog "tls://localhost:$RS_TLS" --syslog "relp://127.0.0.1:$RS_RELP")
[ "$have_ng" = 1 ] && outs+=(--syslog "udp://127.0.0.1:$NG_UDP" --syslog "tcp://127.0.0.1:$NG_TCP"
    --syslog "tls://127.0.0.1:$NG_TLS" --syslog "unix://$tmp/ng/dgram.sock"
    --syslog "unix://$tmp/ng/stream.sock")
"$bin" -r "$STORY" "${RULES_ARGS[@]}" -w "$tmp/events.json" --stats-interval 3600 \
    --syslog-ca "$tmp/ca.pem" --syslog-udp-max 65000 "${outs[@]}" 2>"$tmp/run1.err"
check "json run: exit status" 0 "$?"
check "json run: every alert delivered (summary)" 0 "$(grep -c 'not delivered at the end ([1-9]' "$tmp/run1.err")"
check "json run: events written" $N_EVENTS "$(wc -l < "$tmp/events.json")"
logs=()
[ "$have_rs" = 1 ] && logs+=(rs/udp rs/tcp rs/tls rs/relp)
[ "$have_ng" = 1 ] && logs+=(ng/udp ng/tcp ng/tls ng/dgram ng/stream)
for l in "${logs[@]}"; do
	wait_lines "$tmp/$l.log" . $N_EVENTS
	check_cmd "$l: every event intact, parsed by the collector" \
	    python3 tests/siem_check.py intact "$tmp/$l.log" "$tmp/events.json" json json
done
check "json run: metric event counts the outputs" "${#logs[@]}" \
    "$(grep '"kind":"metric"' "$tmp/events.json" | grep -o '"name":"[a-z]*://' | wc -l)"

# --- 1b. --workers 2: events from two threads reach the file and the
# collector whole, in the same order (one lock for the file and the sinks)
if [ "$have_rs" = 1 ]; then
	: > "$tmp/rs/tcp.log"
	"$bin" -q -r "$STORY" "${RULES_ARGS[@]}" --workers 2 -w "$tmp/workers.json" --stats-interval 3600 \
	    --syslog "tcp://127.0.0.1:$RS_TCP" --report "$tmp/workers.html"
	check "workers 2: exit status" 0 "$?"
	check "workers 2: as many events as one worker writes" "$N_EVENTS" "$(wc -l < "$tmp/workers.json")"
	wait_lines "$tmp/rs/tcp.log" . "$N_EVENTS"
	check_cmd "workers 2: the collector got every event intact, in the file's order" \
	    python3 tests/siem_check.py intact "$tmp/rs/tcp.log" "$tmp/workers.json" json json
	check "workers 2: the report has every alert" "$N_ALERTS" "$(grep -c '<section class="alert"' "$tmp/workers.html")"
fi

# --- 2. CEF, text ------------------------------------------------------------------------
outs=()
[ "$have_rs" = 1 ] && outs+=(--syslog-format cef --syslog "tcp://127.0.0.1:$RS_CEF")
[ "$have_ng" = 1 ] && outs+=(--syslog-format text --syslog "tcp://127.0.0.1:$NG_TEXT")
"$bin" -q -r "$STORY" "${RULES_ARGS[@]}" -F cef -w "$tmp/events.cef" --stats-interval 3600 "${outs[@]}"
check "cef run: exit status" 0 "$?"
"$bin" -q -r "$STORY" "${RULES_ARGS[@]}" -F text -w "$tmp/events.txt" --stats-interval 3600
check_cmd "CEF fields carry the JSON's values (src, dst, dhost, issuer, ...)" \
    python3 tests/siem_check.py cef-vs-json <(grep -v tlsentry.stats "$tmp/events.cef") \
    <(grep -v '"kind":"metric"' "$tmp/events.json")
if [ "$have_rs" = 1 ]; then
	wait_lines "$tmp/rs/cef.log" . $N_EVENTS
	check_cmd "rsyslog: CEF intact, parsed by its CEF parser" \
	    python3 tests/siem_check.py intact "$tmp/rs/cef.log" "$tmp/events.cef" cef cef
fi
if [ "$have_ng" = 1 ]; then
	wait_lines "$tmp/ng/text.log" . $N_EVENTS
	# the metric line carries counters of its own run: compare the others
	check "syslog-ng: text lines as -F text writes them" \
	    "$(grep -v ' metric ' "$tmp/events.txt")" \
	    "$(cut -f7 "$tmp/ng/text.log" | grep -v ' metric ')"
	check "syslog-ng: text MSGIDs" \
	    "$(grep -o '"kind":"[a-z]*"' "$tmp/base.json" | sed 's/.*:"event"/HANDSHAKE/; s/.*:"alert"/ALERT/; s/.*:"metric"/METRIC/' | tr '\n' ' ')" \
	    "$(cut -f4 "$tmp/ng/text.log" | tr '\n' ' ')"
fi

# --- 3. UDP at the default datagram size -----------------------------------------------
outs=()
[ "$have_rs" = 1 ] && outs+=(--syslog "udp://127.0.0.1:$RS_UDP")
[ "$have_ng" = 1 ] && outs+=(--syslog "udp://127.0.0.1:$NG_UDP")
for l in rs/udp ng/udp; do : > "$tmp/$l.log"; done
"$bin" -r "$STORY" "${RULES_ARGS[@]}" -w "$tmp/events2.json" "${outs[@]}" 2>"$tmp/run3.err"
check "udp 2048: exit status" 0 "$?"
for l in rs/udp ng/udp; do
	{ [ $l = rs/udp ] && [ "$have_rs" = 1 ]; } || { [ $l = ng/udp ] && [ "$have_ng" = 1 ]; } || continue
	wait_lines "$tmp/$l.log" . $((N_EVENTS - 1))
	res=$(python3 tests/siem_check.py truncated "$tmp/$l.log" "$tmp/events2.json" 2048)
	check "$l: cut cleanly at 2048 bytes" "problems=0" "$(echo "$res" | grep -o 'problems=[0-9]*')"
	cut=$(echo "$res" | sed -n 's/^cut=\([0-9]*\).*/\1/p')
	check "$l: some events were long enough to be cut" 1 "$([ "${cut:-0}" -gt 0 ] && echo 1)"
	p=$RS_UDP
	[ $l = ng/udp ] && p=$NG_UDP
	check "$l: the summary counts them" 1 \
	    "$(grep -c "syslog udp://127.0.0.1:$p (json): .*; $cut truncated;" "$tmp/run3.err")"
done

# --- 4. TLS refused: unknown CA, wrong name ------------------------------------------------
if [ "$have_rs" = 1 ]; then
	"$bin" -r "$STORY" "${RULES_ARGS[@]}" -w /dev/null --syslog "tls://localhost:$RS_TLSBAD" \
	    --syslog-ca "$tmp/other.pem" --syslog-flush-timeout 1 2>"$tmp/run4.err"
	check "tls, unknown CA: exit status 1 (alerts not delivered)" 1 "$?"
	check "tls, unknown CA: says why" 1 "$(grep -c "certificate is not accepted" "$tmp/run4.err")"
	check "tls, unknown CA: counts what it kept" 1 \
	    "$(grep -c "0 sent.* $((N_EVENTS - 1)) not delivered at the end ($N_ALERTS alerts)" "$tmp/run4.err")"
fi
if [ "$have_ng" = 1 ]; then
	"$bin" -r "$STORY" "${RULES_ARGS[@]}" -w /dev/null --syslog "tls://localhost:$NG_TLSNAME" \
	    --syslog-ca "$tmp/ca.pem" --syslog-flush-timeout 1 2>"$tmp/run4b.err"
	check "tls, name mismatch: exit status 1" 1 "$?"
	check "tls, name mismatch: says why" 1 "$(grep -c "not accepted: hostname mismatch" "$tmp/run4b.err")"
fi
check "tls refusals: nothing reached the collectors" 0 "$(cat "$tmp"/rs/tls.log "$tmp"/ng/tls.log 2>/dev/null | wc -l | awk -v n=$((N_EVENTS * (have_rs + have_ng))) '{print $1 - n}')"

# --- 5. a full queue drops handshakes before alerts -----------------------------------------
# Nothing listens on CLOSED: everything queues.  A queue as long as the
# alerts keeps every alert and drops every handshake (and the metric event);
# a shorter one must drop alerts too, and count them.
start=$(date +%s)
"$bin" -r "$STORY" "${RULES_ARGS[@]}" -w "$tmp/queue.json" --syslog "tcp://127.0.0.1:$CLOSED" \
    --stats-interval 3600 --syslog-queue "$N_ALERTS" --syslog-flush-timeout 1 2>"$tmp/run5.err"
check "queue full: exit status 1 (alerts undelivered)" 1 "$?"
check "queue full: handshakes dropped, no alert" 1 \
    "$(grep -c "dropped, queue full: $N_HS handshakes, 0 alerts, 1 metrics" "$tmp/run5.err")"
check "queue full: the alerts were kept to the end" 1 \
    "$(grep -c "$N_ALERTS not delivered at the end ($N_ALERTS alerts)" "$tmp/run5.err")"
check "queue full: capture did not wait for the collector" 1 "$([ $(($(date +%s) - start)) -le 5 ] && echo 1)"
# about 1 s with nothing listening: attempts at 0, 0.2 and 0.6 s (backoff
# doubling from 200 ms), however many events arrive meanwhile
attempts=$(sed -n 's/.*connections (\([0-9]*\) failed attempts).*/\1/p' "$tmp/run5.err")
check "queue full: reconnection backs off ($attempts attempts in about 1 s)" 1 \
    "$([ "${attempts:-0}" -ge 2 ] && [ "${attempts:-0}" -le 5 ] && echo 1)"
check "queue full: the metric event counts the drops" "$N_HS 0 $N_ALERTS 0" "$(python3 -c '
import json, sys
m = [json.loads(l) for l in open(sys.argv[1]) if "\"kind\":\"metric\"" in l][-1]
o = m["tlsentry"]["stats"]["outputs"][0]
print(o["dropped"]["handshake"], o["dropped"]["alert"], o["queued"], o["sent"])' "$tmp/queue.json")"
"$bin" -r "$STORY" "${RULES_ARGS[@]}" -w /dev/null --syslog "tcp://127.0.0.1:$CLOSED" \
    --stats-interval 3600 --syslog-queue 2 --syslog-flush-timeout 1 2>"$tmp/run5b.err"
check "queue of 2: exit status 1" 1 "$?"
check "queue of 2: the alerts that did not fit are dropped and counted" 1 \
    "$(grep -c "dropped, queue full: $N_HS handshakes, $((N_ALERTS - 2)) alerts, 1 metrics" "$tmp/run5b.err")"
check "queue of 2: the summary says alerts were not delivered" 1 "$(grep -c 'alerts were not delivered to every collector' "$tmp/run5b.err")"

# --- 5b. a collector that accepts and never reads ----------------------------------------------
# 300 copies of the story (several MB of events) against a listener that
# takes the connection and reads nothing: the socket buffers fill, the
# writer waits, and capture must still go through at its own pace, with
# what could not be sent counted at the end.
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept(); time.sleep(120)' "$SLOW" &
slow_pid=$!
pids+=("$slow_pid")
wait_port t "$SLOW"
{ python3 tests/pcapfeed.py --header "$STORY"; python3 tests/pcapfeed.py --copies 0 300 "$STORY"; } \
    > "$tmp/many.pcap"
start=$(date +%s.%N)
"$bin" -q -r "$tmp/many.pcap" "${RULES_ARGS[@]}" -w /dev/null	# no collector: the pace of capture
alone=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
start=$(date +%s.%N)
"$bin" -r "$tmp/many.pcap" "${RULES_ARGS[@]}" -w "$tmp/slow.json" --syslog "tcp://127.0.0.1:$SLOW" \
    --syslog-queue 100 --syslog-flush-timeout 1 2>"$tmp/run5c.err"
check "slow collector: exit status 1 (alerts undelivered)" 1 "$?"
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
check "slow collector: every alert written to the file" $((300 * N_ALERTS)) \
    "$(grep -c '"kind":"alert"' "$tmp/slow.json")"
# the run may take its capture time, the 1 s flush and slack, never the
# 30 s a writer waits on a collector that takes nothing
check "slow collector: capture was not held (${took%.*} s, ${alone%.*} s alone)" 1 \
    "$(awk -v t="$took" -v a="$alone" 'BEGIN { print (t < a * 2 + 6) ? 1 : 0 }')"
check "slow collector: connected, then drops and leftovers counted" 1 \
    "$(grep -c '1 connection (0 failed attempts); dropped, queue full: [1-9][0-9]* handshakes, [0-9]* alerts, 0 metrics; .* [1-9][0-9]* not delivered at the end' "$tmp/run5c.err")"
kill "$slow_pid" 2>/dev/null

# --- 6. restart in the middle of a run ---------------------------------------------------------
if [ "$have_rs" = 1 ]; then
	cat > "$tmp/rs2.conf" <<EOF
global(workDirectory="$tmp/rs2" maxMessageSize="64k")
module(load="imtcp")
module(load="imrelp")
template(name="json" type="string"
  string="%pri%\t%app-name%\t%procid%\t%msgid%\t%structured-data%\t-\t%msg%\n")
ruleset(name="tcp") { action(type="omfile" file="$tmp/rs2/tcp.log" template="json") }
ruleset(name="relp") { action(type="omfile" file="$tmp/rs2/relp.log" template="json") }
input(type="imtcp" address="127.0.0.1" port="$RS2_TCP" ruleset="tcp")
input(type="imrelp" address="127.0.0.1" port="$RS2_RELP" ruleset="relp")
EOF
	start_rsyslog "$tmp/rs2.conf" "$tmp/rs2"
	wait_port t "$RS2_RELP"
	mkfifo "$tmp/feed"
	"$bin" -r - "${RULES_ARGS[@]}" -w "$tmp/restart.json" --syslog "relp://127.0.0.1:$RS2_RELP" \
	    --syslog "tcp://127.0.0.1:$RS2_TCP" <"$tmp/feed" 2>"$tmp/run6.err" &
	tpid=$!
	pids+=("$tpid")
	exec 7>"$tmp/feed"
	python3 tests/pcapfeed.py --header "$STORY" >&7
	A=$((3 * N_ALERTS))					# alerts per phase
	python3 tests/pcapfeed.py --copies 0 3 "$STORY" >&7		# phase 1
	wait_lines "$tmp/rs2/relp.log" ALERT $A
	wait_lines "$tmp/rs2/tcp.log" ALERT $A
	check "restart: phase 1 alerts arrived (relp)" $A "$(grep -c ALERT "$tmp/rs2/relp.log")"
	check "restart: tlsentry runs as nobody" "$(id -u nobody)" "$(ps -o uid= -p "$tpid" | tr -d ' ')"
	if "$bin" --version | grep -q "seccomp filter on"; then
		check "restart: the system-call filter is on (writers included)" 2 \
		    "$(sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$tpid/status")"
		check "restart: on every thread" "2 2 2" \
		    "$(for t in /proc/$tpid/task/*; do sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status"; done | tr '\n' ' ' | sed 's/ $//')"
	fi
	stop "$rs_pid"						# the collector goes away
	python3 tests/pcapfeed.py --copies 3 6 "$STORY" >&7		# phase 2, queued
	wait_lines "$tmp/restart.json" '"kind":"alert"' $((2 * A))
	sleep 1
	check "restart: still capturing while the collector is away" 0 "$(kill -0 "$tpid"; echo $?)"
	check "restart: the loss is reported at once" 1 "$(grep -c 'relp://.*connection lost' "$tmp/run6.err" | grep -c '[1-9]')"
	start_rsyslog "$tmp/rs2.conf" "$tmp/rs2"			# back
	wait_port t "$RS2_RELP"
	python3 tests/pcapfeed.py --copies 6 9 "$STORY" >&7		# phase 3
	wait_lines "$tmp/rs2/relp.log" ALERT $((3 * A))
	exec 7>&-						# end of capture
	wait "$tpid"
	check "restart: exit status" 0 "$?"
	check "restart: every alert written to the file" $((3 * A)) "$(grep -c '"kind":"alert"' "$tmp/restart.json")"
	eval "$(python3 tests/siem_check.py alerts "$tmp/rs2/relp.log" "$tmp/restart.json" | sed 's/^/relp_/')"
	check "restart, relp: every alert arrived, none twice" "$((3 * A)) 0 0" \
	    "$relp_received $relp_missing $relp_duplicates"
	check "restart, relp: in order" 1 "$relp_in_order"
	eval "$(python3 tests/siem_check.py alerts "$tmp/rs2/tcp.log" "$tmp/restart.json" | sed 's/^/tcp_/')"
	check "restart, tcp: every alert after the reconnect arrived" 1 \
	    "$([ "$tcp_last_missing_index" -lt $((2 * A)) ] && echo 1)"
	check "restart, tcp: in order" 1 "$tcp_in_order"
	lost=$(sed -n 's/^tlsentry: syslog tcp:.* \([0-9]*\) possibly lost in broken connections.*/\1/p' "$tmp/run6.err")
	check "restart, tcp: gaps in the sequence ($tcp_seq_missing) within the counted loss window (${lost:-?})" 1 \
	    "$([ "$tcp_seq_missing" -le "${lost:-0}" ] && echo 1)"
	echo "note: restart: relp received $relp_received of $((3 * A)) alerts ($relp_duplicates duplicates), tcp $tcp_received of $((3 * A)) (missing sequence ids $tcp_seq_missing, counted as possibly lost ${lost:-?})"
fi
# --- 7. the README's collector snippets ------------------------------------------------------
snippet() {	# snippet NAME: the code block after "<!-- snippet: NAME -->" in README.md
	awk -v m="<!-- snippet: $1 -->" '$0 == m { f = 1; next }
	    f && /^```/ { if (on) exit; on = 1; next } f && on { print }' README.md
}
snippet filebeat > "$tmp/filebeat.yml"
snippet splunk > "$tmp/props.conf"
if python3 -c 'import yaml' 2>/dev/null; then
	check_cmd "README: the Filebeat input parses; Splunk's TIME_FORMAT reads every @timestamp" \
	    python3 tests/siem_check.py file-readers "$tmp/filebeat.yml" "$tmp/props.conf" "$tmp/base.json"
else
	echo "note: Filebeat snippet not checked: no python3-yaml"
fi
here() {	# here: the README's ports and paths, made this test's
	sed -e "s|/etc/ssl/tlsentry/ca.pem|$tmp/ca.pem|g" -e "s|/etc/ssl/tlsentry/collector|$tmp/srv|g" \
	    -e "s|/var/log/tlsentry|$1|g" "${@:2}"
}
outs=() snips=()
if [ "$have_rs" = 1 ]; then
	mkdir -p "$tmp/snip-rs"
	{ echo "global(workDirectory=\"$tmp/snip-rs\")"; snippet rsyslog | here "$tmp/snip-rs" \
	    -e "s|port=\"2514\"|address=\"127.0.0.1\" port=\"$SN_RELP\"|" \
	    -e "s|port=\"6514\"|address=\"127.0.0.1\" port=\"$SN_RS_TLS\"|" \
	    -e "s|port=\"601\"|address=\"127.0.0.1\" port=\"$SN_RS_TCP\"|"; } > "$tmp/snip-rs.conf"
	check "README rsyslog: three inputs, all on loopback here" 3 "$(grep -c 'address="127.0.0.1"' "$tmp/snip-rs.conf")"
	"$rsyslogd" -n -f "$tmp/snip-rs.conf" -i "$tmp/snip-rs/pid" 2>"$tmp/snip-rs/stderr" 7>&- &
	pids+=($!)
	if wait_port t "$SN_RELP" && wait_port t "$SN_RS_TLS"; then
		outs+=(--syslog "relp://127.0.0.1:$SN_RELP" --syslog "tls://localhost:$SN_RS_TLS")
		snips+=(snip-rs)
	else
		check "README rsyslog: it starts" "" "$(tail -n 3 "$tmp/snip-rs/stderr")"
	fi
fi
if [ "$have_ng" = 1 ]; then
	mkdir -p "$tmp/snip-ng"
	{ echo "@version: 3.38"; snippet syslog-ng | here "$tmp/snip-ng" \
	    -e "s|port(6514)|ip(127.0.0.1) port($SN_NG_TLS)|" \
	    -e "s|port(601)|ip(127.0.0.1) port($SN_NG_TCP)|"; } > "$tmp/snip-ng.conf"
	check "README syslog-ng: two sources, both on loopback here" 2 "$(grep -c 'ip(127.0.0.1)' "$tmp/snip-ng.conf")"
	"${sng_env[@]}" "$sng" "${sng_args[@]}" -F -f "$tmp/snip-ng.conf" -R "$tmp/snip-ng/persist" \
	    -p "$tmp/snip-ng/pid" -c "$tmp/snip-ng/ctl" --no-caps 2>"$tmp/snip-ng/stderr" 7>&- &
	pids+=($!)
	if wait_port t "$SN_NG_TLS" && wait_port t "$SN_NG_TCP"; then
		outs+=(--syslog "tcp://127.0.0.1:$SN_NG_TCP" --syslog "tls://localhost:$SN_NG_TLS")
		snips+=(snip-ng)
	else
		check "README syslog-ng: it starts" "" "$(tail -n 3 "$tmp/snip-ng/stderr")"
	fi
fi
if [ ${#snips[@]} -gt 0 ]; then
	"$bin" -q -r "$STORY" "${RULES_ARGS[@]}" -w "$tmp/snip.json" --stats-interval 3600 \
	    --syslog-ca "$tmp/ca.pem" "${outs[@]}"
	check "README collectors: exit status" 0 "$?"
	# each collector got the run twice (two transports): the same lines, twice
	want_all=$(cat "$tmp/snip.json" "$tmp/snip.json" | sort | md5sum)
	want_alerts=$(grep '"kind":"alert"' "$tmp/snip.json" | cat - <(grep '"kind":"alert"' "$tmp/snip.json") | sort | md5sum)
	for c in "${snips[@]}"; do
		wait_lines "$tmp/$c/events.json" . $((2 * N_EVENTS))
		wait_lines "$tmp/$c/alerts.json" . $((2 * N_ALERTS))
		check "README $c: every event in events.json, as sent" "$want_all" \
		    "$(sort "$tmp/$c/events.json" | md5sum)"
		check "README $c: the alerts, and only they, in alerts.json" "$want_alerts" \
		    "$(sort "$tmp/$c/alerts.json" | md5sum)"
	done
fi

finish
