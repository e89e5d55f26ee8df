#!/usr/bin/env bash
# live.sh TLSENTRY: live capture on a real interface.
#
# Two network namespaces of the test's own joined by a veth pair: an
# `openssl s_server` in one, `openssl s_client` and tlsentry (capturing on the
# veth) in the other.  No packet leaves them; they are deleted on exit.
# Checks, while tlsentry keeps running: the interception alert arrives live;
# the process runs as nobody; metric events come with --stats-interval;
# SIGHUP with new rules judges the next handshake by them and reopens the
# rotated output; SIGHUP with broken rules keeps the old ones; SIGTERM stops
# it with exit 0 and a summary; `learn -i --duration` stops by itself.  Skipped, with a note, when not root or
# when network namespaces are not available.
set -u
bin=$(realpath "${1:-./tlsentry}")
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0
check() {	# check WHAT EXPECTED ACTUAL
	if [ "$2" = "$3" ]; then pass=$((pass + 1)); else
		fail=$((fail + 1)); echo "FAIL: $1: expected '$2', got '$3'"; fi
}
finish() {
	echo "tests/live.sh: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit $?
}
if [ "$(id -u)" -ne 0 ]; then
	echo "note: live capture test skipped: it needs root to create network namespaces"
	finish
fi
ns_s=tlsentry-live-s-$$ ns_c=tlsentry-live-c-$$
if ! ip netns add "$ns_s" 2>/dev/null; then
	echo "note: live capture test skipped: cannot create network namespaces here"
	finish
fi
tmp=$(mktemp -d)
chmod 755 "$tmp"			# tlsentry runs as nobody: it must read the rules
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$ns_s" 2>/dev/null
	ip netns del "$ns_c" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns_c"
ip link add veth-c netns "$ns_c" type veth peer name veth-s netns "$ns_s"
ip -n "$ns_c" addr add 10.250.0.1/24 dev veth-c
ip -n "$ns_s" addr add 10.250.0.2/24 dev veth-s
for n in "$ns_c" "$ns_s"; do ip -n "$n" link set lo up; done
ip -n "$ns_c" link set veth-c up
ip -n "$ns_s" link set veth-s up

# a PKI: the CA the rules expect, and a rogue one
cd "$tmp" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -keyout good.key -out good.pem -days 30 \
    -subj "/O=Good Trust/CN=Good CA" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.pem -days 30 \
    -subj "/O=Rogue/CN=Rogue CA" 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr \
    -subj "/CN=www.watched.example" 2>/dev/null
openssl x509 -req -in leaf.csr -CA rogue.pem -CAkey rogue.key -set_serial 7 -days 30 \
    -out leaf.pem 2>/dev/null
printf '[watched]\ndomains = *.watched.example\nissuer = O=Good Trust\n' > rules
mkdir out && chown nobody out		# where nobody may create files (rotation)
cd - >/dev/null || exit 1

# tlsentry, live, as it would run on a gateway
# (the test's CA is trusted, so the issuer rule alone decides what alerts)
ip netns exec "$ns_c" "$bin" -i veth-c -R "$tmp/rules" -w "$tmp/out/events.json" \
    --ca-bundle "$tmp/rogue.pem" --stats-interval 1 --pidfile "$tmp/out/pid" 2>"$tmp/stderr" &
tpid=$!
pids+=("$tpid")
for _ in $(seq 50); do grep -q "capturing on" "$tmp/stderr" && break; sleep 0.1; done
check "startup line" 1 "$(grep -c 'capturing on 1 interface (veth-c)' "$tmp/stderr")"
check "pid file" "$tpid" "$(cat "$tmp/out/pid" 2>/dev/null)"
check "runs as nobody" "$(id -u nobody)" "$(ps -o uid= -p "$tpid" | tr -d ' ')"
if "$bin" --version | grep -q "seccomp filter on"; then
	check "runs under the system call filter" 2 \
	    "$(sed -n 's/^Seccomp:[[:space:]]*//p' "/proc/$tpid/status")"
else
	echo "note: this build has no system call filter (a sanitizer build)"
fi

handshake() {	# one TLS connection from the client namespace to the server
	ip netns exec "$ns_s" openssl s_server -accept 10.250.0.2:4433 -cert "$tmp/leaf.pem" \
	    -key "$tmp/leaf.key" -naccept 1 -quiet >/dev/null 2>&1 &
	local spid=$!
	for _ in $(seq 50); do
		ip netns exec "$ns_s" ss -ltn 2>/dev/null | grep -q 10.250.0.2:4433 && break
		sleep 0.1
	done
	echo hello | timeout 10 ip netns exec "$ns_c" openssl s_client -connect 10.250.0.2:4433 \
	    -servername www.watched.example -tls1_2 -ign_eof >/dev/null 2>&1
	wait "$spid" 2>/dev/null
}
wait_for() {	# wait_for FILE PATTERN COUNT: up to 10 s for COUNT matching lines
	for _ in $(seq 100); do
		[ "$(grep -c "$2" "$1" 2>/dev/null || true)" -ge "$3" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# 1. the interception, reported while the capture runs
handshake
wait_for "$tmp/out/events.json" '"kind":"alert"' 1
check "alert arrives live" 1 "$(grep -c '"kind":"alert"' "$tmp/out/events.json")"
check "tlsentry still running" 0 "$(kill -0 "$tpid" 2>/dev/null; echo $?)"
check "alert names the rule" 1 "$(grep '"kind":"alert"' "$tmp/out/events.json" | grep -c '"rule":{"name":"watched"')"
wait_for "$tmp/out/events.json" '"kind":"metric"' 1
check "metric events" 0 "$(grep -q '"dataset":"tlsentry.stats"' "$tmp/out/events.json"; echo $?)"
check "metric events count the packets while running" 0 \
    "$(grep '"kind":"metric"' "$tmp/out/events.json" | tail -1 | grep -qE '"stats":\{"packets":[1-9]'; echo $?)"
check "events name the interface" 0 \
    "$(grep '"kind":"alert"' "$tmp/out/events.json" | grep -q '"ingress":{"interface":{"name":"veth-c"}}'; echo $?)"
check "metric event has the kernel's counts" 0 \
    "$(grep '"kind":"metric"' "$tmp/out/events.json" | tail -1 | grep -q '"interfaces":\[{"name":"veth-c","received":'; echo $?)"

# 2. logrotate: move the file away; SIGHUP with rules that now accept the rogue CA
mv "$tmp/out/events.json" "$tmp/out/events.json.1"
printf '[watched]\ndomains = *.watched.example\nissuer = O=Rogue\n' > "$tmp/rules"
kill -HUP "$tpid"
wait_for "$tmp/stderr" 'reload:' 1
check "reload logged" 1 "$(grep -c 'reload: .*rules: 1 block' "$tmp/stderr")"
handshake
wait_for "$tmp/out/events.json" '"kind":"event"' 1
check "reopened file has the next handshake" 1 "$(grep -c '"kind":"event"' "$tmp/out/events.json")"
check "new rules: issuer ok" 1 "$(grep -c '"verdict":"issuer-ok"' "$tmp/out/events.json")"
check "new rules: no alert" 0 "$(grep -c '"kind":"alert"' "$tmp/out/events.json")"

# 3. a broken rules file: one error, the rules in use stay
printf '[watched]\ndomains = *.watched.example\nissuer = XX=broken\n' > "$tmp/rules"
kill -HUP "$tpid"
wait_for "$tmp/stderr" 'keeping the rules in use' 1
check "broken reload refused" 1 "$(grep -c 'keeping the rules in use' "$tmp/stderr")"
handshake
wait_for "$tmp/out/events.json" '"kind":"event"' 2
check "old rules still judge" 2 "$(grep -c '"verdict":"issuer-ok"' "$tmp/out/events.json")"

# 4. SIGTERM: stop, flush, summary, exit 0
kill -TERM "$tpid"
wait "$tpid"
check "exit status after SIGTERM" 0 "$?"
check "summary" 1 "$(grep -c 'tlsentry: 3 handshakes' "$tmp/stderr")"
check "kernel counters in the summary" 1 "$(grep -c 'veth-c: the kernel received' "$tmp/stderr")"
check "last line of the events is complete JSON" 0 \
    "$(tail -c 1 "$tmp/out/events.json" | od -An -c | grep -q '\\n'; echo $?)"

# 4b. learning live for a duration: it stops by itself and writes the rules
ip netns exec "$ns_c" "$bin" learn -i veth-c --duration 4 --ca-bundle "$tmp/rogue.pem" \
    -o "$tmp/learned.rules" 2>"$tmp/learn.err" &
lpid=$!
pids+=("$lpid")
for _ in $(seq 50); do grep -q "capturing on" "$tmp/learn.err" && break; sleep 0.1; done
handshake
wait "$lpid"
check "learn -i --duration: exit status" 0 "$?"
check "learn -i: the block of the registered domain" 1 "$(grep -c '^\[watched.example\]$' "$tmp/learned.rules")"
check "learn -i: the issuer that validated" 1 "$(grep -c '^issuer = .*O=Rogue' "$tmp/learned.rules")"
check "learn -i: the summary" 1 "$(grep -c 'learned 1 registered domain from 1 handshake' "$tmp/learn.err")"

# 5. the systemd unit's capability set: root limited to what start-up needs
#    (samples/systemd/tlsentry.service), event file in the user's own directory
mkdir "$tmp/unitlog" && chown nobody "$tmp/unitlog" && chmod 0750 "$tmp/unitlog"
printf '[watched]\ndomains = *.watched.example\nissuer = O=Good Trust\n' > "$tmp/rules"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' samples/systemd/tlsentry.service |
    tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
ip netns exec "$ns_c" setpriv --bounding-set "-all,$caps" --no-new-privs \
    "$bin" -i veth-c -R "$tmp/rules" -w "$tmp/unitlog/events.json" --ca-bundle "$tmp/rogue.pem" \
    2>"$tmp/unit.err" &
upid=$!
pids+=("$upid")
for _ in $(seq 50); do grep -q "capturing on" "$tmp/unit.err" && break; sleep 0.1; done
check "starts with the unit's capabilities ($caps)" 1 "$(grep -c 'capturing on' "$tmp/unit.err")"
check "and then has none" "0000000000000000" \
    "$(sed -n 's/^CapEff:[[:space:]]*//p' "/proc/$upid/status" 2>/dev/null)"
check "and no way back" 1 "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "/proc/$upid/status" 2>/dev/null)"
handshake
wait_for "$tmp/unitlog/events.json" '"kind":"event"' 1
check "writes its events there" 1 "$(grep -c '"kind":"event"' "$tmp/unitlog/events.json" 2>/dev/null)"

# 6. the interface disappears under it: one clear line, exit 1, no spinning
ip -n "$ns_c" link del veth-c
for _ in $(seq 50); do kill -0 "$upid" 2>/dev/null || break; sleep 0.1; done
wait "$upid"
check "exit status when the interface goes away" 1 "$?"
check "says which interface went away" 1 "$(grep -c 'veth-c: ' "$tmp/unit.err" | grep -c '[1-9]')"
finish
