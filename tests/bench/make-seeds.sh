#!/usr/bin/env bash
# make-seeds.sh -- the seed captures of the benchmark (tests/bench/), made
# with real TLS and TCP stacks.  tests/bench/benchgen multiplies them into the
# benchmark captures A, A' and B.
#
# Usage:   sudo tests/bench/make-seeds.sh          (must run as root)
#
# What it does
#   * A throwaway PKI (temp dir): three roots and three intermediates (RSA
#     and ECDSA), and five leaves with 16-byte serials, each naming its seed's
#     server h000000.NAME.bench.example (CN and SAN, plus *.NAME.bench.example);
#     one leaf carries 120 SANs.
#   * hs.pcap: in a namespace of its own (tlsentry-seeds-<pid>), on its
#     loopback (MTU 1500, GSO off as in samples/make-samples.sh), one
#     openssl s_server -WWW / s_client exchange per handshake seed: a full
#     handshake and a GET of 2 or 3 kB:
#       4401 rsa2   TLS 1.2, leaf + RSA intermediate
#       4402 rsa3   TLS 1.2, leaf + RSA intermediate + RSA-4096 root: the
#                   Certificate message spans three segments
#       4403 ec2    TLS 1.2, ECDSA leaf + ECDSA intermediate
#       4404 s120   TLS 1.2, a leaf with 120 SANs + RSA intermediate (five segments)
#       4405 rsa1   TLS 1.2, a leaf alone (issued by a root the server does not send)
#       4413 tls13  TLS 1.3 (its chain, rsa2's, is encrypted)
#   * bulk.pcap: three namespaces, client -- router -- server, joined by veth
#     pairs (MTU 1500, GSO off); the router drops 3% of the packets it
#     forwards to the client (nftables) and its link to the client is a
#     20 Mbit/s token bucket (tc tbf), so the transfers below carry real
#     retransmissions, which the capture on the router's server-side
#     link sees as the sender sends them (a sensor upstream of a lossy last
#     mile):
#       4420/tcp  TLS 1.2 (rsa2's chain), s_server -WWW sending 110 kB
#       8080/tcp  HTTP/1.0, 100 kB close-delimited (seed-peers.py)
#       53/udp    20 DNS queries and answers (seed-peers.py)
#       4433/udp  60 datagrams shaped like QUIC 1-RTT packets, no Initial
#   * Installs into tests/bench/seeds/: hs.pcap, bulk.pcap, certs/ (public
#     certificates), keys/ (the private keys of the four CAs that issue the
#     leaves: benchgen re-signs the A' leaves with them; throwaway keys made
#     for this benchmark, trusted by nothing), SOURCES.md.
#
# Every run makes new keys, so the hashes in the committed files change; the
# benchmark's ground truth is computed by benchgen from the seeds it reads.
# KEEP_TMP=1 keeps the temp dir.  Dependencies: openssl, tcpdump, tshark,
# iproute2 (ip, ss, tc), nftables, python3.
set -euo pipefail

if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    echo "make-seeds.sh: must run as root (sudo $0)" >&2
    exit 1
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SEEDS="$HERE/seeds"
NS="tlsentry-seeds-$$"
NS_C="" NS_R="" NS_S=""
ALL_NS=("$NS")
TMP=""
BG_PIDS=()

log() { printf '[make-seeds] %s\n' "$*" >&2; }
die() { printf '[make-seeds] ERROR: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$? pid ns
    set +e
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    for ns in "${ALL_NS[@]}"; do
        [[ -e /run/netns/$ns ]] && ip netns del "$ns"
    done
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ ${KEEP_TMP:-0} == 1 ]]; then log "KEEP_TMP=1: leaving $TMP"; else rm -rf "$TMP"; fi
    fi
    [[ $rc -ne 0 ]] && log "FAILED (exit $rc); tests/bench/seeds/ left unchanged"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for tool in openssl tcpdump tshark ip ss tc nft timeout python3 sha256sum; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "required tool '$tool' not found (apt-get install openssl tcpdump tshark iproute2 nftables python3)"
done
PY=/usr/bin/python3
PEERS="$HERE/seed-peers.py"

TMP=$(mktemp -d /tmp/tlsentry-seeds.XXXXXX)
chmod 700 "$TMP"
PKI="$TMP/pki" LOGS="$TMP/logs" OUT="$TMP/out" WWW="$TMP/www"
mkdir -p "$PKI" "$LOGS" "$OUT/certs" "$OUT/keys" "$WWW"

# ------------------------------------------------------------------------ PKI
log "generating the PKI"
{
    cat <<'EOF'
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
    for name in rsa2 rsa3 ec2 rsa1; do
        printf '[leaf_%s]\nbasicConstraints = critical, CA:FALSE\n' "$name"
        printf 'keyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n'
        printf 'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n'
        printf 'subjectAltName = DNS:h000000.%s.bench.example, DNS:*.%s.bench.example\n' "$name" "$name"
    done
    printf '[leaf_s120]\nbasicConstraints = critical, CA:FALSE\n'
    printf 'keyUsage = critical, digitalSignature, keyEncipherment\nextendedKeyUsage = serverAuth\n'
    printf 'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n'
    printf 'subjectAltName = DNS:h000000.s120.bench.example, DNS:*.s120.bench.example'
    for i in $(seq 1 118); do printf ', DNS:alt%03d.s120.bench.example' "$i"; done
    printf '\n'
} >"$PKI/ext.cnf"

newkey() {  # NAME rsa:BITS|ec:CURVE
    case $2 in
    rsa:*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa:}" -out "$PKI/$1.key" ;;
    ec:*)  openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${2#ec:}" -out "$PKI/$1.key" ;;
    esac 2>>"$LOGS/pki.log"
}
root() {  # NAME KEYSPEC SUBJECT SERIAL
    newkey "$1" "$2"
    openssl req -config "$PKI/ext.cnf" -x509 -new -key "$PKI/$1.key" -sha256 -days 3650 \
        -subj "$3" -set_serial "$4" -extensions root -out "$PKI/$1.pem" 2>>"$LOGS/pki.log"
}
issue() {  # NAME KEYSPEC SUBJECT ISSUER SERIAL DAYS SECTION
    newkey "$1" "$2"
    openssl req -config "$PKI/ext.cnf" -new -key "$PKI/$1.key" -subj "$3" -out "$PKI/$1.csr" \
        2>>"$LOGS/pki.log"
    openssl x509 -req -in "$PKI/$1.csr" -sha256 -days "$6" -set_serial "$5" \
        -CA "$PKI/$4.pem" -CAkey "$PKI/$4.key" -extfile "$PKI/ext.cnf" -extensions "$7" \
        -out "$PKI/$1.pem" 2>>"$LOGS/pki.log"
}
root  root-r1 rsa:2048 "/C=US/O=Bench Trust/CN=Bench Root R1" 0x5a01
root  root-r2 rsa:4096 "/C=US/O=Bench Trust/CN=Bench Root R2" 0x5a02
root  root-e1 ec:P-384 "/C=US/O=Bench Trust/CN=Bench Root E1" 0x5a03
issue ca-rsa1 rsa:2048 "/C=US/O=Bench Trust/CN=Bench RSA CA 1" root-r1 0x5a11 1825 inter
issue ca-rsa2 rsa:2048 "/C=US/O=Bench Trust/CN=Bench RSA CA 2" root-r2 0x5a12 1825 inter
issue ca-ecc1 ec:P-256 "/C=US/O=Bench Trust/CN=Bench ECC CA 1" root-e1 0x5a13 1825 inter
# Leaves: 16-byte serials (benchgen rewrites their last 8 bytes in A')
issue leaf-rsa2 rsa:2048 "/C=US/O=Bench Shop/CN=h000000.rsa2.bench.example" ca-rsa1 \
    0x5a0000000000000000000000b0000001 825 leaf_rsa2
issue leaf-rsa3 rsa:2048 "/C=US/O=Bench Shop/CN=h000000.rsa3.bench.example" ca-rsa2 \
    0x5a0000000000000000000000b0000002 825 leaf_rsa3
issue leaf-ec2 ec:P-256 "/C=US/O=Bench Shop/CN=h000000.ec2.bench.example" ca-ecc1 \
    0x5a0000000000000000000000b0000003 825 leaf_ec2
issue leaf-s120 rsa:2048 "/C=US/O=Bench Shop/CN=h000000.s120.bench.example" ca-rsa1 \
    0x5a0000000000000000000000b0000004 825 leaf_s120
issue leaf-rsa1 rsa:2048 "/C=US/O=Bench Shop/CN=h000000.rsa1.bench.example" root-r1 \
    0x5a0000000000000000000000b0000005 825 leaf_rsa1

v() { openssl verify -CAfile "$PKI/$1.pem" ${2:+-untrusted "$PKI/$2.pem"} "$PKI/$3.pem" >>"$LOGS/pki.log" ||
    die "$3 does not verify"; }
v root-r1 ca-rsa1 leaf-rsa2
v root-r2 ca-rsa2 leaf-rsa3
v root-e1 ca-ecc1 leaf-ec2
v root-r1 ca-rsa1 leaf-s120
v root-r1 "" leaf-rsa1
[[ $(openssl x509 -in "$PKI/leaf-s120.pem" -noout -ext subjectAltName | grep -o 'DNS:' | wc -l) -eq 120 ]] ||
    die "leaf-s120 does not have 120 SANs"

cat "$PKI/ca-rsa1.pem" >"$PKI/chain-rsa2.pem"
cat "$PKI/ca-rsa2.pem" "$PKI/root-r2.pem" >"$PKI/chain-rsa3.pem"
cat "$PKI/ca-ecc1.pem" >"$PKI/chain-ec2.pem"
cat "$PKI/ca-rsa1.pem" >"$PKI/chain-s120.pem"
for c in root-r1 root-r2 root-e1 ca-rsa1 ca-rsa2 ca-ecc1 leaf-rsa2 leaf-rsa3 leaf-ec2 leaf-s120 leaf-rsa1; do
    openssl x509 -in "$PKI/$c.pem" -out "$OUT/certs/$c.pem"
done
# the keys of the CAs that issue leaves, for re-signing A' leaves
for k in ca-rsa1 ca-rsa2 ca-ecc1 root-r1; do
    openssl pkey -in "$PKI/$k.key" -out "$OUT/keys/$k.key"
done
cat "$OUT/certs/root-r1.pem" "$OUT/certs/root-r2.pem" "$OUT/certs/root-e1.pem" >"$OUT/certs/roots.pem"

# Content served after each handshake: a few kB that do not compress
for n in 2 3; do head -c $((n * 1024)) /dev/urandom >"$WWW/f$n"; done
head -c 110000 /dev/urandom >"$WWW/bulk"

# ----------------------------------------------------------------- helpers
wait_listen() {  # NS PORT
    local i
    for i in $(seq 1 100); do
        ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    die "nothing listening on port $2 in $1"
}
start_tcpdump() {  # NS IFACE PCAP FILTER LOG  -- sets TCPDUMP_PID
    ip netns exec "$1" tcpdump -i "$2" --immediate-mode -B 32768 -U -s 0 -w "$3" "$4" 2>"$LOGS/$5" &
    TCPDUMP_PID=$!
    BG_PIDS+=("$TCPDUMP_PID")
    local i
    for i in $(seq 1 100); do
        grep -q 'listening on' "$LOGS/$5" 2>/dev/null && break
        kill -0 "$TCPDUMP_PID" 2>/dev/null || die "tcpdump died: $(cat "$LOGS/$5")"
        sleep 0.1
    done
    grep -q "listening on" "$LOGS/$5" || die "tcpdump did not start: $(cat "$LOGS/$5")"
    sleep 0.5
}
stop_tcpdump() {
    sleep 1.5
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" || true
}
no_gso() {  # NS DEV
    ip netns exec "$1" ip link set "$2" gso_max_segs 1 gso_max_size 1500 ||
        die "cannot turn GSO off on $2 (Linux >= 5.19 needed)"
}
check_mtu() {  # PCAP
    local max
    max=$(tshark -r "$1" -T fields -e frame.cap_len 2>/dev/null | sort -n | tail -1)
    [[ ${max:-0} -le 1514 ]] || die "$(basename "$1"): a frame of $max bytes (GSO still on?)"
}
# tls NS ADDR PORT SNI VERSIONFLAG LEAF CHAIN FILE
tls() {
    local ns=$1 addr=$2 port=$3 sni=$4 ver=$5 leaf=$6 chain=$7 file=$8 srv
    local chain_args=()
    [[ -n $chain ]] && chain_args=(-cert_chain "$PKI/$chain.pem")
    log "TLS $port: $sni $ver, $leaf${chain:+ + $chain}, GET /$file"
    (cd "$WWW" && exec ip netns exec "$ns" timeout 60 openssl s_server -accept "$addr:$port" \
        -cert "$PKI/$leaf.pem" -key "$PKI/$leaf.key" "${chain_args[@]}" -WWW -naccept 1) \
        >"$LOGS/server-$port.log" 2>&1 &
    srv=$!
    BG_PIDS+=("$srv")
    wait_listen "$ns" "$port"
    printf 'GET /%s HTTP/1.0\r\n\r\n' "$file" | ip netns exec "$ns" timeout 30 openssl s_client \
        -connect "$addr:$port" -servername "$sni" "$ver" -ign_eof >"$LOGS/client-$port.log" 2>&1 ||
        die "s_client to $port failed: $(tail -5 "$LOGS/client-$port.log")"
    grep -q '^HTTP/1.0 200 ok' "$LOGS/client-$port.log" || die "$port: no HTTP answer"
    wait "$srv" || die "s_server $port did not exit cleanly"
    sleep 0.3
}

# ---------------------------------------------------------- handshake seeds
log "capturing hs.pcap in namespace $NS"
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip link set lo mtu 1500
no_gso "$NS" lo
start_tcpdump "$NS" lo "$OUT/hs.pcap" tcp tcpdump-hs.log
tls "$NS" 127.0.0.1 4401 h000000.rsa2.bench.example  -tls1_2 leaf-rsa2 chain-rsa2 f2
tls "$NS" 127.0.0.1 4402 h000000.rsa3.bench.example  -tls1_2 leaf-rsa3 chain-rsa3 f2
tls "$NS" 127.0.0.1 4403 h000000.ec2.bench.example   -tls1_2 leaf-ec2  chain-ec2  f3
tls "$NS" 127.0.0.1 4404 h000000.s120.bench.example  -tls1_2 leaf-s120 chain-s120 f2
tls "$NS" 127.0.0.1 4405 h000000.rsa1.bench.example  -tls1_2 leaf-rsa1 ""         f2
tls "$NS" 127.0.0.1 4413 t000000.rsa2.bench.example  -tls1_3 leaf-rsa2 chain-rsa2 f2
stop_tcpdump
check_mtu "$OUT/hs.pcap"
ip netns del "$NS"

# --------------------------------------------------------------- bulk seeds
# client 10.251.1.2 -- 10.251.1.1 router 10.251.2.1 -- 10.251.2.2 server
bulk_capture() {  # PCAP TRY -- new namespaces for every try
    local pcap=$1 ns
    NS_C="$NS-$2c" NS_R="$NS-$2r" NS_S="$NS-$2s"
    for ns in "$NS_C" "$NS_R" "$NS_S"; do
        ALL_NS+=("$ns")
        ip netns add "$ns"
        ip netns exec "$ns" ip link set lo up
    done
    ip link add cli0 netns "$NS_C" type veth peer name rc0 netns "$NS_R"
    ip link add srv0 netns "$NS_S" type veth peer name rs0 netns "$NS_R"
    ip -n "$NS_C" addr add 10.251.1.2/24 dev cli0
    ip -n "$NS_R" addr add 10.251.1.1/24 dev rc0
    ip -n "$NS_R" addr add 10.251.2.1/24 dev rs0
    ip -n "$NS_S" addr add 10.251.2.2/24 dev srv0
    for pair in "$NS_C cli0" "$NS_R rc0" "$NS_R rs0" "$NS_S srv0"; do
        set -- $pair
        no_gso "$1" "$2"
        ip -n "$1" link set "$2" up
    done
    ip -n "$NS_C" route add default via 10.251.1.1
    ip -n "$NS_S" route add default via 10.251.2.1
    ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
    # The last mile, after the capture point: the router drops 3% of what
    # it forwards to the client (nftables numgen; this kernel has no netem)
    # and its link to the client is a 20 Mbit/s token bucket whose queue
    # delays packets and drops bursts that overflow it.
    ip netns exec "$NS_R" nft -f - <<'NFT'
table inet lastmile {
    chain forward {
        type filter hook forward priority 0; policy accept;
        ip daddr 10.251.1.2 numgen random mod 100 < 3 counter drop
    }
}
NFT
    ip netns exec "$NS_R" tc qdisc add dev rc0 root tbf rate 20mbit burst 16kb latency 30ms

    start_tcpdump "$NS_R" rs0 "$pcap" 'tcp or udp' "tcpdump-bulk-$2.log"
    tls_bulk
    http_bulk
    udp_flows
    stop_tcpdump
}
tls_bulk() {
    local srv
    log "bulk TLS 4420: 110 kB through the lossy link"
    (cd "$WWW" && exec ip netns exec "$NS_S" timeout 60 openssl s_server -accept 10.251.2.2:4420 \
        -cert "$PKI/leaf-rsa2.pem" -key "$PKI/leaf-rsa2.key" -cert_chain "$PKI/chain-rsa2.pem" \
        -WWW -naccept 1) >"$LOGS/server-4420.log" 2>&1 &
    srv=$!
    BG_PIDS+=("$srv")
    wait_listen "$NS_S" 4420
    printf 'GET /bulk HTTP/1.0\r\n\r\n' | ip netns exec "$NS_C" timeout 60 openssl s_client \
        -connect 10.251.2.2:4420 -servername b000000.rsa2.bench.example -tls1_2 -ign_eof \
        >"$LOGS/client-4420.log" 2>&1 || die "bulk s_client failed"
    wait "$srv" || die "bulk s_server did not exit cleanly"
    sleep 0.3
}
http_bulk() {
    local srv
    log "bulk HTTP 8080: 100 kB through the lossy link"
    ip netns exec "$NS_S" timeout 60 "$PY" "$PEERS" http-server 10.251.2.2 8080 100000 \
        2>"$LOGS/http-server.log" &
    srv=$!
    BG_PIDS+=("$srv")
    wait_listen "$NS_S" 8080
    ip netns exec "$NS_C" timeout 60 "$PY" "$PEERS" http-client 10.251.2.2 8080 \
        2>"$LOGS/http-client.log" || die "http client failed"
    wait "$srv" || die "http server failed: $(cat "$LOGS/http-server.log")"
    sleep 0.3
}
udp_flows() {
    local srv
    log "UDP: 20 DNS queries (53), 60 QUIC-like datagrams (4433)"
    ip netns exec "$NS_S" timeout 60 "$PY" "$PEERS" dns-server 10.251.2.2 53 20 2>"$LOGS/dns.log" &
    srv=$!
    BG_PIDS+=("$srv")
    sleep 0.3
    ip netns exec "$NS_C" timeout 60 "$PY" "$PEERS" dns-client 10.251.2.2 53 20 || die "dns client failed"
    wait "$srv" || die "dns server failed: $(cat "$LOGS/dns.log")"
    ip netns exec "$NS_S" timeout 60 "$PY" "$PEERS" quic-server 10.251.2.2 4433 60 2>"$LOGS/quic.log" &
    srv=$!
    BG_PIDS+=("$srv")
    sleep 0.3
    ip netns exec "$NS_C" timeout 60 "$PY" "$PEERS" quic-client 10.251.2.2 4433 60 \
        2>>"$LOGS/quic.log" || die "quic-like client failed"
    wait "$srv" || die "quic-like server failed: $(cat "$LOGS/quic.log")"
}
unseen() {  # PCAP -- segments the capture missed (tcpdump behind), as tshark sees them
    tshark -r "$1" -Y "tcp.analysis.lost_segment || tcp.analysis.ack_lost_segment" 2>/dev/null | wc -l
}
retrans() {  # PCAP PORT -- retransmissions tshark finds in that flow
    tshark -r "$1" -Y "tcp.port == $2 && (tcp.analysis.retransmission || tcp.analysis.fast_retransmission)" \
        2>/dev/null | wc -l
}

for try in 1 2 3 4 5; do
    log "capturing bulk.pcap (try $try)"
    bulk_capture "$OUT/bulk.pcap" "$try"
    check_mtu "$OUT/bulk.pcap"
    RT_TLS=$(retrans "$OUT/bulk.pcap" 4420) RT_HTTP=$(retrans "$OUT/bulk.pcap" 8080)
    MISSED=$(unseen "$OUT/bulk.pcap")
    log "retransmissions: TLS $RT_TLS, HTTP $RT_HTTP; segments the capture missed: $MISSED"
    [[ $RT_TLS -ge 1 && $RT_HTTP -ge 1 && $MISSED -eq 0 ]] && break
    [[ $try -eq 5 ]] && die "no complete capture with retransmissions in 5 tries"
    for ns in "$NS_C" "$NS_R" "$NS_S"; do ip netns del "$ns"; done
done
for ns in "$NS_C" "$NS_R" "$NS_S"; do ip netns del "$ns"; done

# ---------------------------------------------------------------- SOURCES.md
sz() { stat -c %s "$1"; }
pk() { tshark -r "$1" 2>/dev/null | wc -l; }
cert_segs() {  # PORT -- TCP segments tshark reassembled the Certificate from
    local n
    n=$(tshark -r "$OUT/hs.pcap" -Y "tcp.srcport == $1 && tls.handshake.type == 11" \
        -T fields -e tcp.segment.count 2>/dev/null | head -1)
    echo "${n:-1}"
}
subj() { openssl x509 -in "$OUT/certs/$1.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'; }
cat >"$OUT/SOURCES.md" <<EOF
# Benchmark seed captures: provenance

Made by \`sudo tests/bench/make-seeds.sh\` on $(date -u '+%Y-%m-%d %H:%M:%S UTC'),
$(. /etc/os-release; echo "$PRETTY_NAME"), kernel $(uname -r), with
$(openssl version), $(tcpdump --version 2>&1 | head -1) /
$(tcpdump --version 2>&1 | sed -n 2p), Python $($PY -c 'import platform; print(platform.python_version())'),
iproute2 $(ip -V | sed 's/.*iproute2-//').
\`tests/bench/benchgen\` multiplies these captures into the benchmark sets
(README, Performance). Every run of the script makes new keys, so hashes
change; the benchmark's ground truth is computed from whatever seeds it reads.

## PKI

Throwaway, made for this benchmark. \`certs/\` has every certificate
(\`roots.pem\`: the three roots, a CA bundle for verifying), \`keys/\` the
private keys of the four CAs that issue leaves: \`benchgen\` re-signs the leaf
it rewrites for every flow of A' with them, so A' leaves verify like A's.
These keys are public, so nothing may ever trust these roots.

| file | subject | issuer | key |
| --- | --- | --- | --- |
EOF
for c in root-r1 root-r2 root-e1 ca-rsa1 ca-rsa2 ca-ecc1 leaf-rsa2 leaf-rsa3 leaf-ec2 leaf-s120 leaf-rsa1; do
    printf '| certs/%s.pem | %s | %s | %s |\n' "$c" "$(subj "$c")" \
        "$(openssl x509 -in "$OUT/certs/$c.pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')" \
        "$(openssl x509 -in "$OUT/certs/$c.pem" -noout -text | grep -m1 -E 'Public-Key:' | sed 's/^ *//')" \
        >>"$OUT/SOURCES.md"
done
cat >>"$OUT/SOURCES.md" <<EOF

Leaves have 16-byte serials, CN and SAN \`h000000.NAME.bench.example\` plus
\`*.NAME.bench.example\` (leaf-s120: that name, the wildcard and 118
\`altNNN.s120.bench.example\`); leaves are valid 825 days from the capture,
CAs 1825 (intermediates) and 3650 (roots) days. Every chain was checked with
\`openssl verify\`.

## hs.pcap ($(sz "$OUT/hs.pcap") bytes, $(pk "$OUT/hs.pcap") packets)

A private network namespace (\`tlsentry-seeds-PID\`), its loopback only, MTU
1500, GSO off (\`ip link set lo gso_max_segs 1 gso_max_size 1500\`), so every
segment is at most MSS-sized as on Ethernet; \`tcpdump -i lo --immediate-mode
-B 32768 -U -s 0 -w hs.pcap tcp\`. One exchange per port, 0.3 s apart:

    cd WWW && openssl s_server -accept 127.0.0.1:PORT -cert LEAF.pem -key LEAF.key \\
        [-cert_chain CHAIN.pem] -WWW -naccept 1
    printf 'GET /FILE HTTP/1.0\r\n\r\n' | openssl s_client -connect 127.0.0.1:PORT \\
        -servername SNI -tls1_2|-tls1_3 -ign_eof

FILE is 2 or 3 KiB from /dev/urandom (so that A is about 400 MB).

| port | seed | TLS | SNI | certificates sent | Certificate over | GET |
| --- | --- | --- | --- | --- | --- | --- |
| 4401 | rsa2 | 1.2 | h000000.rsa2.bench.example | leaf-rsa2, ca-rsa1 | $(cert_segs 4401) segment(s) | 2 KiB |
| 4402 | rsa3 | 1.2 | h000000.rsa3.bench.example | leaf-rsa3, ca-rsa2, root-r2 | $(cert_segs 4402) segments | 2 KiB |
| 4403 | ec2 | 1.2 | h000000.ec2.bench.example | leaf-ec2, ca-ecc1 | $(cert_segs 4403) segment(s) | 3 KiB |
| 4404 | s120 | 1.2 | h000000.s120.bench.example | leaf-s120 (120 SANs), ca-rsa1 | $(cert_segs 4404) segments | 2 KiB |
| 4405 | rsa1 | 1.2 | h000000.rsa1.bench.example | leaf-rsa1 | $(cert_segs 4405) segment(s) | 2 KiB |
| 4413 | tls13 | 1.3 | t000000.rsa2.bench.example | leaf-rsa2, ca-rsa1 (encrypted) | - | 2 KiB |

## bulk.pcap ($(sz "$OUT/bulk.pcap") bytes, $(pk "$OUT/bulk.pcap") packets)

Three namespaces, client (10.251.1.2) -- router -- server (10.251.2.2), joined
by veth pairs, MTU 1500, GSO off on every veth. The router drops 3% of what
it forwards to the client (nftables: \`ip daddr 10.251.1.2 numgen random mod
100 < 3 drop\` in a forward chain; the kernel here has no netem) and its link
toward the client is \`tc qdisc add dev rc0 root tbf rate 20mbit burst 16kb
latency 30ms\`, a bottleneck whose queue delays packets and drops the bursts
that overflow it. \`tcpdump -i rs0 --immediate-mode -B 32768 -U -s 0 -w
bulk.pcap 'tcp or udp'\` runs on the router's link toward the server: it sees every
segment the server sends, lost later or not, and the retransmissions that the
losses cause ($RT_TLS in the TLS flow and $RT_HTTP in the HTTP flow, as tshark's
\`tcp.analysis.retransmission\` and \`fast_retransmission\` count them; the
script retries the capture until each flow has at least one and tshark
finds no segment the capture missed). In order:

| port | flow | made by |
| --- | --- | --- |
| 4420/tcp | TLS 1.2, SNI b000000.rsa2.bench.example, leaf-rsa2 + ca-rsa1, GET of 110,000 bytes | \`openssl s_server -WWW -naccept 1\`, \`s_client -tls1_2 -ign_eof\` |
| 8080/tcp | HTTP/1.0 GET, 100,000 bytes, no Content-Length (ends at the server's FIN) | \`seed-peers.py http-server\` / \`http-client\` |
| 53/udp | 20 DNS A queries and their answers, 20 ms apart (some lost) | \`seed-peers.py dns-server\` / \`dns-client\` |
| 4433/udp | 60 datagrams of 1252 bytes shaped like QUIC 1-RTT packets (short header, no Initial), 2 ms apart, 40-byte answers every second one | \`seed-peers.py quic-server\` / \`quic-client\` |
EOF

# ------------------------------------------------------------------ install
log "installing into $SEEDS"
mkdir -p "$SEEDS"
rm -rf "$SEEDS/certs" "$SEEDS/keys"
mv "$OUT/certs" "$OUT/keys" "$SEEDS/"
mv -f "$OUT/hs.pcap" "$OUT/bulk.pcap" "$OUT/SOURCES.md" "$SEEDS/"
chown -R root:root "$SEEDS"
chmod 644 "$SEEDS"/*.pcap "$SEEDS/SOURCES.md" "$SEEDS"/certs/*.pem "$SEEDS"/keys/*.key
log "done: $(du -sh "$SEEDS" | cut -f1) in $SEEDS"
