#!/usr/bin/env bash
# make-features.sh -- captures of the handshake features beyond a plain
# TLS 1.2 exchange, each made with a real TLS stack.
#
# Usage:   sudo samples/make-features.sh          (must run as root)
#
# One private network namespace (tlsentry-features-<pid>); all traffic stays
# on its loopback.  A throwaway PKI in a temp dir: a server CA and a leaf for
# www.icloud.com (RSA 2048), a client CA and a client certificate, an OCSP
# responder certificate.  Private keys never leave the temp dir.
#
# features.pcap holds, in order (server port = connection):
#   4441  mutual TLS 1.2: s_server -Verify, s_client -cert (client certificate)
#   4442  TLS 1.2 with a stapled OCSP response saying "good"  (openssl ocsp
#         made it from an index file; s_server -status_file staples it)
#   4443  the same with a response saying "revoked"
#   4444  TLS 1.2: a full handshake, then a second connection to the same
#         s_server resumed by session id (-no_ticket)
#   4446  the same, resumed by session ticket
#   4448  TLS 1.3: a full handshake, then one resumed with a PSK
#   4450  Chromium (headless) to s_server: a browser's ClientHello with the
#         ECH extension (GREASE, as Chromium sends to every server), split
#         over several segments by its post-quantum key share
#   4451  Chromium to an s_server that only accepts P-256: a
#         HelloRetryRequest and a second ClientHello
# features.truth.tsv names each connection by its client port.
#
# Outputs (samples/, replaced only when everything succeeded):
#   features.pcap, features.truth.tsv (one row per connection: what each
#   connection must show, computed from the files this script made),
#   certs-features/*.pem (public certificates).
set -euo pipefail

if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    echo "make-features.sh: must run as root (sudo $0)" >&2
    exit 1
fi

SAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS="tlsentry-features-$$"
TMP=""
BG_PIDS=()

log() { printf '[make-features] %s\n' "$*" >&2; }
die() { printf '[make-features] ERROR: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$? pid
    set +e
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    [[ -e /run/netns/$NS ]] && ip netns del "$NS"
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ ${KEEP_TMP:-0} == 1 ]]; then log "KEEP_TMP=1: leaving $TMP"; else rm -rf "$TMP"; fi
    fi
    [[ $rc -ne 0 ]] && log "FAILED (exit $rc); samples/ left unchanged"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for tool in openssl tcpdump tshark chromium ip ss timeout sha256sum; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "required tool '$tool' not found (apt-get install openssl tcpdump tshark chromium iproute2)"
done

TMP=$(mktemp -d /tmp/tlsentry-features.XXXXXX)
chmod 700 "$TMP"
PKI="$TMP/pki" LOGS="$TMP/logs" OUT="$TMP/out"
mkdir -p "$PKI" "$LOGS" "$OUT/certs-features" "$TMP/www"
printf 'hello from the tlsentry features server\n' >"$TMP/www/hello.txt"

# ------------------------------------------------------------------------ PKI
cat >"$PKI/ext.cnf" <<'EOF'
[req]
distinguished_name = req_dn
prompt = no
[req_dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:www.icloud.com
authorityInfoAccess = OCSP;URI:http://ocsp.features.invalid/
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
[ocsp]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = OCSPSigning
EOF
ca() {
    openssl req -config "$PKI/ext.cnf" -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -keyout "$PKI/$1.key" -out "$PKI/$1.pem" -subj "$2" -set_serial "$3" -extensions ca \
        2>>"$LOGS/pki.log"
}
signed() {  # NAME SUBJECT ISSUER SERIAL SECTION
    openssl req -config "$PKI/ext.cnf" -new -newkey rsa:2048 -nodes -sha256 \
        -keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "$2" 2>>"$LOGS/pki.log"
    openssl x509 -req -in "$PKI/$1.csr" -sha256 -days 825 -set_serial "$4" \
        -CA "$PKI/$3.pem" -CAkey "$PKI/$3.key" -extfile "$PKI/ext.cnf" -extensions "$5" \
        -out "$PKI/$1.pem" 2>>"$LOGS/pki.log"
}
log "generating the PKI"
ca features-server-ca "/C=US/O=Apple Inc./CN=Apple Public Server RSA CA 12 - G1" 0xfe0001
signed features-leaf "/C=US/O=Apple Inc./CN=www.icloud.com" features-server-ca 0xfe0101 server
signed features-leaf-revoked "/C=US/O=Apple Inc./CN=www.icloud.com" features-server-ca 0xfe0102 server
signed features-ocsp "/C=US/O=Apple Inc./CN=Features OCSP Responder" features-server-ca 0xfe0201 ocsp
ca features-client-ca "/C=DE/O=Example Corp/CN=Example Corp Client CA" 0xfe1001
signed features-client "/C=DE/O=Example Corp/CN=alice@example.com" features-client-ca 0xfe1101 client
for c in features-server-ca features-leaf features-leaf-revoked features-ocsp features-client-ca features-client; do
    openssl x509 -in "$PKI/$c.pem" -out "$OUT/certs-features/$c.pem"
done

# OCSP responses by openssl's own responder logic, from an index file
log "making the OCSP responses"
now=$(date -u +%y%m%d%H%M%SZ)
printf 'V\t301231000000Z\t\tFE0101\tunknown\t/CN=www.icloud.com\n' >"$PKI/index.txt"
printf 'R\t301231000000Z\t%s,keyCompromise\tFE0102\tunknown\t/CN=www.icloud.com\n' "$now" >>"$PKI/index.txt"
for which in features-leaf:good features-leaf-revoked:revoked; do
    leaf=${which%%:*} status=${which##*:}
    openssl ocsp -index "$PKI/index.txt" -rsigner "$PKI/features-ocsp.pem" -rkey "$PKI/features-ocsp.key" \
        -CA "$PKI/features-server-ca.pem" -issuer "$PKI/features-server-ca.pem" -cert "$PKI/$leaf.pem" \
        -ndays 7 -respout "$PKI/ocsp-$status.der" >>"$LOGS/ocsp.log" 2>&1
    openssl ocsp -respin "$PKI/ocsp-$status.der" -resp_text -noverify 2>/dev/null |
        grep -q "Cert Status: $status" || die "OCSP response for $leaf does not say $status"
done

# ---------------------------------------------------------------- namespace
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip link set lo gso_max_segs 1 gso_max_size 1500 2>>"$LOGS/ns.log" ||
    ip netns exec "$NS" ethtool -K lo tso off gso off

wait_listen() {
    local i
    for i in $(seq 1 100); do
        ip netns exec "$NS" ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    die "nothing listening on port $1"
}

# server PORT NACCEPT ARGS...  -- an s_server for NACCEPT connections
server() {
    local port=$1 n=$2
    shift 2
    (cd "$TMP/www" && exec ip netns exec "$NS" timeout 60 openssl s_server -accept "127.0.0.1:$port" \
        -cert "$PKI/features-leaf.pem" -key "$PKI/features-leaf.key" \
        -cert_chain "$PKI/features-server-ca.pem" -WWW -naccept "$n" "$@") \
        >"$LOGS/server-$port.log" 2>&1 &
    SERVER_PID=$!
    BG_PIDS+=("$SERVER_PID")
    wait_listen "$port"
}

# client PORT ARGS...  -- one s_client fetching /hello.txt
client() {
    local port=$1
    shift
    printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | ip netns exec "$NS" timeout 20 openssl s_client \
        -connect "127.0.0.1:$port" -servername www.icloud.com -ign_eof "$@" \
        >>"$LOGS/client-$port.log" 2>&1 || die "s_client to $port failed: $(tail -5 "$LOGS/client-$port.log")"
    sleep 0.3
}

finish_server() { wait "$SERVER_PID" || die "s_server did not exit cleanly"; }

chrome() {  # PORT
    ip netns exec "$NS" timeout 30 chromium --headless=new --no-sandbox --disable-gpu \
        --user-data-dir="$TMP/chrome-$1" --ignore-certificate-errors --no-first-run \
        --host-resolver-rules="MAP www.icloud.com 127.0.0.1" \
        --dump-dom "https://www.icloud.com:$1/hello.txt" >"$LOGS/chrome-$1.out" 2>"$LOGS/chrome-$1.log" || true
    grep -q 'hello from the tlsentry features server' "$LOGS/chrome-$1.out" ||
        die "chromium did not fetch from $1: $(tail -3 "$LOGS/chrome-$1.log")"
    sleep 0.3
}

log "capturing features.pcap"
PCAP="$OUT/features.pcap"
ip netns exec "$NS" tcpdump -i lo --immediate-mode -U -s 0 -w "$PCAP" tcp 2>"$LOGS/tcpdump.log" &
TCPDUMP_PID=$!
BG_PIDS+=("$TCPDUMP_PID")
for i in $(seq 1 100); do grep -q 'listening on' "$LOGS/tcpdump.log" && break; sleep 0.1; done
sleep 0.5

server 4441 1 -tls1_2 -Verify 1 -CAfile "$PKI/features-client-ca.pem"
client 4441 -tls1_2 -cert "$PKI/features-client.pem" -key "$PKI/features-client.key"
finish_server
server 4442 1 -tls1_2 -status_file "$PKI/ocsp-good.der"
client 4442 -tls1_2 -status
finish_server
server 4443 1 -tls1_2 -status_file "$PKI/ocsp-revoked.der" \
    -cert "$PKI/features-leaf-revoked.pem" -key "$PKI/features-leaf-revoked.key"
client 4443 -tls1_2 -status
finish_server
server 4444 2 -tls1_2 -no_ticket
client 4444 -tls1_2 -no_ticket -sess_out "$TMP/sess-id.pem"
client 4444 -tls1_2 -no_ticket -sess_in "$TMP/sess-id.pem"
finish_server
server 4446 2 -tls1_2
client 4446 -tls1_2 -sess_out "$TMP/sess-ticket.pem"
client 4446 -tls1_2 -sess_in "$TMP/sess-ticket.pem"
finish_server
server 4448 2 -tls1_3
client 4448 -tls1_3 -sess_out "$TMP/sess-psk.pem"
client 4448 -tls1_3 -sess_in "$TMP/sess-psk.pem"
finish_server
server 4450 1
chrome 4450
finish_server
server 4451 1 -groups P-256
chrome 4451
finish_server
sleep 1.5
kill -INT "$TCPDUMP_PID"
wait "$TCPDUMP_PID" || true

grep -q 'Reused, TLSv1.2' "$LOGS/client-4444.log" || die "4444: the second connection was not resumed"
grep -q 'Reused, TLSv1.2' "$LOGS/client-4446.log" || die "4446: the second connection was not resumed"
grep -q 'Reused, TLSv1.3' "$LOGS/client-4448.log" || die "4448: the second connection was not resumed"
grep -q 'OCSP Response Status: successful' "$LOGS/client-4442.log" || die "4442: no stapled response"

# ------------------------------------------------------------ ground truth
# One row per connection, in capture order: server port, client port, what
# the event must say.  Facts from the files above and from s_client's logs.
sha() { openssl x509 -in "$PKI/$1.pem" -outform DER | sha256sum | cut -d' ' -f1; }
ports() {  # SERVER_PORT -> client ports of its SYNs, in order
    tshark -r "$PCAP" -Y "tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.dstport==$1" -T fields -e tcp.srcport 2>/dev/null
}
hellos() {  # SERVER_PORT -> client port of every ClientHello sent to it
    tshark -r "$PCAP" -d "tcp.port==$1,tls" -Y "tls.handshake.type==1 && tcp.dstport==$1" \
        -T fields -e tcp.srcport 2>/dev/null
}
{
    printf '#server_port\tclient_port\tfeature\tvalue\n'
    for p in $(ports 4441); do printf '4441\t%s\tclient_certificate_sha256\t%s\n' "$p" "$(sha features-client)"; done
    for p in $(ports 4442); do printf '4442\t%s\tocsp_status\tgood\n' "$p"; done
    for p in $(ports 4443); do printf '4443\t%s\tocsp_status\trevoked\n' "$p"; done
    set -- $(ports 4444); printf '4444\t%s\tresumed\tno\n4444\t%s\tresumed\tsession-id\n' "$1" "$2"
    set -- $(ports 4446); printf '4446\t%s\tresumed\tno\n4446\t%s\tresumed\tticket\n' "$1" "$2"
    set -- $(ports 4448); printf '4448\t%s\tresumed\tno\n4448\t%s\tresumed\tpsk\n' "$1" "$2"
    # Chromium opens spare connections; count those that carried a ClientHello
    for p in $(hellos 4450 | sort -u); do printf '4450\t%s\tech\ttrue\n' "$p"; done
    for p in $(hellos 4451 | sort | uniq -d); do printf '4451\t%s\thello_retry\ttrue\n' "$p"; done
} >"$OUT/features.truth.tsv"
[[ $(grep -vc '^#' "$OUT/features.truth.tsv") -ge 11 ]] || die "fewer connections captured than made"

# Chromium may open more than one connection (a preconnect); every one of them counts above.
tshark -r "$PCAP" -Y 'tls.handshake.type == 1' -T fields -e tcp.dstport -e tls.handshake.extension.type \
    2>/dev/null | grep -q '^4450.*65037' || die "Chromium's ClientHello to 4450 has no ECH extension"

mv "$OUT/features.pcap" "$OUT/features.truth.tsv" "$SAMPLES_DIR/"
rm -rf "$SAMPLES_DIR/certs-features"
mv "$OUT/certs-features" "$SAMPLES_DIR/certs-features"
log "done: $(grep -vc '^#' "$SAMPLES_DIR/features.truth.tsv") connections in samples/features.pcap"
