#!/usr/bin/env bash
# make-dtls.sh -- regenerate tlsentry's DTLS sample captures from real stacks.
#
# Usage:   sudo samples/make-dtls.sh          (must run as root)
#
# What it does
#   * Creates a private network namespace (tlsentry-dtls-<pid>); all traffic
#     stays on its loopback interface and nothing leaves it.  The namespace
#     is deleted on exit.
#   * Builds a throwaway PKI in a temp dir, with the subjects of
#     make-samples.sh (whose private keys are not kept, so its certificates
#     cannot serve here): the legit Apple-like chain (root -> intermediate ->
#     www.icloud.com, p42-caldav.icloud.com) and the rogue interception CA ->
#     www.icloud.com.  Public certificates go to samples/certs-dtls/.
#   * Runs `openssl s_server -dtls1_2|-dtls1 -naccept 1` / `openssl s_client`
#     pairs with a small -mtu on both sides, so the Certificate message is
#     cut into fragments spread over several records and datagrams, while
#     `tcpdump -i lo -U -s 0 -w FILE udp` records them.  OpenSSL's s_server
#     always does the DTLS cookie exchange (HelloVerifyRequest, RFC 6347
#     s4.2.1); one connection uses -listen (DTLSv1_listen, the stateless
#     form).  One connection runs through a small UDP relay that drops the
#     server's first datagram carrying a ServerHello once, so the real stacks
#     retransmit (RFC 6347 s4.2.4); both legs of the relay are captured.
#
# Outputs (all in samples/, replaced on every run)
#   dtls12-fragmented.pcap  2 DTLS 1.2 handshakes, MTU 400/500, see SOURCES.md
#   dtls12-retransmit.pcap  1 DTLS 1.2 handshake through the dropping relay
#                           (2 UDP flows: client<->relay, relay<->server)
#   dtls10-fragmented.pcap  1 DTLS 1.0 handshake, MTU 400
#   dtls*.truth.tsv         ground truth, one row per UDP flow
#   certs-dtls/*.pem        public certificates of the throwaway PKI
#   SOURCES.md              the DTLS section (between the make-dtls.sh markers) is
#                           replaced; the rest of the file is left alone
#
# Ground truth comes from openssl at generation time: the negotiated protocol
# as s_client prints it, the chain as s_client -showcerts received it (count,
# and SHA-256 of the leaf's DER via `openssl x509 -outform DER | sha256sum`,
# which must equal the leaf file's), the issuer from the leaf file; client
# ports are read back with tshark.  tshark then cross-checks every row
# (SNI, ServerHello version, HelloVerifyRequest, certificates) against its
# own decoding of the capture, and the script fails if anything differs.
#
# Debugging: KEEP_TMP=1 keeps the temp dir (keys, logs, unfinished output).
# Dependencies: bash, iproute2, coreutils, openssl, tcpdump, tshark, perl,
# python3 (the relay).  Every run makes new keys and ports.
set -euo pipefail

if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    echo "make-dtls.sh: must run as root (sudo $0)" >&2
    exit 1
fi

SAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS="tlsentry-dtls-$$"
TMP=""
BG_PIDS=()

forget_pid() {
    local keep=() p
    for p in "${BG_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    BG_PIDS=("${keep[@]}")
}

log() { printf '[make-dtls] %s\n' "$*" >&2; }
die() { printf '[make-dtls] ERROR: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$?
    set +e
    local pid
    for pid in "${BG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null
    done
    for pid in "${BG_PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    if [[ -e /run/netns/$NS ]]; then
        ip netns del "$NS" 2>/dev/null || log "could not delete namespace $NS"
    fi
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ ${KEEP_TMP:-0} == 1 ]]; then
            log "KEEP_TMP=1: leaving $TMP (contains private keys; delete it yourself)"
        else
            rm -rf "$TMP"
        fi
    fi
    [[ $rc -ne 0 ]] && log "FAILED (exit $rc); samples/ left unchanged"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- dependencies
need_pkgs=()
command -v openssl >/dev/null 2>&1 || need_pkgs+=(openssl)
command -v tcpdump >/dev/null 2>&1 || need_pkgs+=(tcpdump)
command -v tshark  >/dev/null 2>&1 || need_pkgs+=(tshark)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
    log "installing missing packages: ${need_pkgs[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${need_pkgs[@]}"
fi
for tool in ip ss timeout perl sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found"
done

# Namespaces of an earlier run killed hard (no EXIT trap): creator gone, empty.
while read -r stale _; do
    [[ $stale =~ ^tlsentry-dtls-([0-9]+)$ ]] || continue
    if ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && [[ -z $(ip netns pids "$stale" 2>/dev/null) ]]; then
        log "removing stale namespace $stale"
        ip netns del "$stale" || true
    fi
done < <(ip netns list 2>/dev/null)

TMP=$(mktemp -d /tmp/tlsentry-dtls.XXXXXX)
chmod 700 "$TMP"
PKI="$TMP/pki"
LOGS="$TMP/logs"
OUT="$TMP/out"
mkdir -p "$PKI" "$LOGS" "$OUT/certs-dtls"
TSHARK_LOG="$LOGS/tshark.log"

# ------------------------------------------------------------------------ PKI
log "generating throwaway PKI in $PKI"
cat > "$PKI/ext.cnf" <<'EOF'
[req]
distinguished_name = req_dn
prompt = no

[req_dn]

[ca_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ca_intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[leaf_www_icloud]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:www.icloud.com, DNS:icloud.com

[leaf_p42_caldav]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:p42-caldav.icloud.com
EOF

# self_signed NAME SUBJECT SERIAL
self_signed() {
    openssl req -config "$PKI/ext.cnf" -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -keyout "$PKI/$1.key" -out "$PKI/$1.pem" -subj "$2" -set_serial "$3" \
        -extensions ca_root 2>>"$LOGS/pki.log"
}

# signed NAME SUBJECT ISSUER SERIAL DAYS EXT_SECTION
signed() {
    openssl req -config "$PKI/ext.cnf" -new -newkey rsa:2048 -nodes -sha256 \
        -keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "$2" 2>>"$LOGS/pki.log"
    openssl x509 -req -in "$PKI/$1.csr" -sha256 -days "$5" -set_serial "$4" \
        -CA "$PKI/$3.pem" -CAkey "$PKI/$3.key" \
        -extfile "$PKI/ext.cnf" -extensions "$6" -out "$PKI/$1.pem" 2>>"$LOGS/pki.log"
}

self_signed legit-root \
    "/C=US/O=Apple Inc./OU=Certification Authority/CN=Apple Root CA - Sample" 0x5a0001
signed legit-intermediate \
    "/C=US/ST=California/O=Apple Inc./CN=Apple Public Server RSA CA 12 - G1" \
    legit-root 0x5a0002 1825 ca_intermediate
signed legit-leaf-www.icloud.com \
    "/C=US/ST=California/O=Apple Inc./CN=www.icloud.com" \
    legit-intermediate 0x5a0101 825 leaf_www_icloud
signed legit-leaf-p42-caldav.icloud.com \
    "/C=US/ST=California/O=Apple Inc./CN=p42-caldav.icloud.com" \
    legit-intermediate 0x5a0102 825 leaf_p42_caldav
self_signed rogue-ca \
    "/C=XX/O=Totally Trusted Security Ltd/CN=Rogue Interception CA" 0x0bad01
signed rogue-leaf-www.icloud.com \
    "/C=US/ST=California/O=Apple Inc./CN=www.icloud.com" \
    rogue-ca 0x0bad02 825 leaf_www_icloud

openssl verify -CAfile "$PKI/legit-root.pem" -untrusted "$PKI/legit-intermediate.pem" \
    "$PKI/legit-leaf-www.icloud.com.pem" "$PKI/legit-leaf-p42-caldav.icloud.com.pem" >>"$LOGS/pki.log"
openssl verify -CAfile "$PKI/rogue-ca.pem" "$PKI/rogue-leaf-www.icloud.com.pem" >>"$LOGS/pki.log"
for c in legit-root legit-intermediate legit-leaf-www.icloud.com legit-leaf-p42-caldav.icloud.com \
         rogue-ca rogue-leaf-www.icloud.com; do
    openssl x509 -in "$PKI/$c.pem" -out "$OUT/certs-dtls/$c.pem"   # public part only
done

file_sha256() { openssl x509 -in "$1" -outform DER | sha256sum | cut -d' ' -f1; }
leaf_issuer() { openssl x509 -in "$PKI/$1.pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//'; }

# ------------------------------------------------------------------ namespace
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

# wait_listen PORT  -- until a UDP socket is bound to PORT in the namespace
wait_listen() {
    local i
    for i in $(seq 1 100); do
        ip netns exec "$NS" ss -Hlun "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    die "nothing bound to UDP port $1 in namespace $NS"
}

# start_tcpdump PCAP LOGNAME  -- sets TCPDUMP_PID (see make-samples.sh on
# --immediate-mode: without it the last packets can be lost at SIGINT)
start_tcpdump() {
    ip netns exec "$NS" tcpdump -i lo --immediate-mode -U -s 0 -w "$1" 'udp' 2>"$LOGS/$2" &
    TCPDUMP_PID=$!
    BG_PIDS+=("$TCPDUMP_PID")
    local i
    for i in $(seq 1 100); do
        grep -q 'listening on' "$LOGS/$2" 2>/dev/null && break
        kill -0 "$TCPDUMP_PID" 2>/dev/null || die "tcpdump died: $(cat "$LOGS/$2")"
        sleep 0.1
    done
    grep -q 'listening on' "$LOGS/$2" || die "tcpdump did not start listening"
    sleep 0.5
}

stop_tcpdump() {
    sleep 1.5
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" || true
    forget_pid "$TCPDUMP_PID"
}

# The relay: client <-> 127.0.0.1:LISTEN <-> 127.0.0.1:SERVER.  It drops the
# first server datagram whose first record is a handshake record holding a
# ServerHello fragment (byte 0 = 22, byte 13 = 2), once, so the peers'
# retransmission timers fire.  Exits after 3 s without traffic.
cat > "$TMP/relay.py" <<'EOF'
import select, socket, sys
listen, server = int(sys.argv[1]), int(sys.argv[2])
down = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
down.bind(("127.0.0.1", listen))
up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
up.bind(("127.0.0.1", 0))
up.connect(("127.0.0.1", server))
print("relay upstream port", up.getsockname()[1], flush=True)
client, dropped = None, False
while True:
    r, _, _ = select.select([down, up], [], [], 3.0)
    if not r:
        break
    if down in r:
        data, client = down.recvfrom(65535)
        up.send(data)
    if up in r:
        data = up.recv(65535)
        if not dropped and len(data) > 13 and data[0] == 22 and data[13] == 2:
            dropped = True
            print("relay dropped", len(data), "bytes", flush=True)
            continue
        if client is not None:
            down.sendto(data, client)
print("relay done, dropped:", dropped, flush=True)
EOF

# connection TAG PORT SNI DTLSFLAG MTU CERT CHAIN [SERVER_ARG...]
#   One s_server serving one connection (-naccept 1; its stdin held open so
#   it does not end the session on EOF) and one s_client that sends a line
#   and closes (close_notify) when its stdin ends.  CONNECT_PORT, when set,
#   is where the client connects (the relay) instead of PORT.
connection() {
    local tag=$1 port=$2 sni=$3 flag=$4 mtu=$5 cert=$6 chain=$7
    shift 7
    local cport=${CONNECT_PORT:-$port} seclevel=()
    [[ $flag == -dtls1 ]] && seclevel=(-cipher 'DEFAULT:@SECLEVEL=0')  # DTLS 1.0: SHA-1 MACs
    log "connection $tag: $sni on udp/$port ($flag, mtu $mtu, cert $cert + $chain${CONNECT_PORT:+, via relay on $CONNECT_PORT})"
    sleep 8 | ip netns exec "$NS" timeout 20 openssl s_server "$flag" -accept "127.0.0.1:$port" \
        -cert "$PKI/$cert.pem" -key "$PKI/$cert.key" -cert_chain "$PKI/$chain.pem" \
        -mtu "$mtu" -naccept 1 "${seclevel[@]}" "$@" >"$LOGS/server-$tag.log" 2>&1 &
    local srv=$!
    BG_PIDS+=("$srv")
    wait_listen "$port"
    if ! { printf 'hello over dtls\n'; sleep 1; } |
        ip netns exec "$NS" timeout 15 openssl s_client "$flag" -connect "127.0.0.1:$cport" \
            -servername "$sni" -mtu "$mtu" -showcerts "${seclevel[@]}" >"$LOGS/client-$tag.log" 2>&1; then
        cat "$LOGS/client-$tag.log" >&2
        die "s_client for connection $tag failed"
    fi
    wait "$srv" || true		# the server's stdin pipe may outlive it
    forget_pid "$srv"
    grep -q '^hello over dtls' "$LOGS/server-$tag.log" || die "connection $tag: no data reached the server"
    sleep 0.3
}

# client_facts TAG  -- "VERSION CHAIN_LEN LEAF_SHA256" as s_client saw them
client_facts() {
    local clog="$LOGS/client-$1.log" proto ver n
    proto=$(sed -n 's/^ *Protocol *: *//p' "$clog" | head -1)
    case $proto in
        DTLSv1.2) ver=0xfefd ;;
        DTLSv1)   ver=0xfeff ;;
        *) die "connection $1: unexpected protocol '$proto'" ;;
    esac
    n=$(grep -c -- '-----BEGIN CERTIFICATE-----' "$clog")
    # the first PEM block s_client printed is the leaf
    perl -ne 'if (/-----BEGIN CERTIFICATE-----/) {$in=1} print if $in; exit if /-----END CERTIFICATE-----/' \
        "$clog" >"$TMP/leaf-$1.pem"
    printf '%s %s %s\n' "$ver" "$n" "$(file_sha256 "$TMP/leaf-$1.pem")"
}

# ------------------------------------------------------------ captures
FRAG="$OUT/dtls12-fragmented.pcap"
log "capturing $(basename "$FRAG")"
start_tcpdump "$FRAG" tcpdump-frag.log
connection legit 4441 www.icloud.com -dtls1_2 500 legit-leaf-www.icloud.com legit-intermediate -listen
connection rogue 4442 www.icloud.com -dtls1_2 400 rogue-leaf-www.icloud.com rogue-ca
stop_tcpdump

RETX="$OUT/dtls12-retransmit.pcap"
log "capturing $(basename "$RETX")"
start_tcpdump "$RETX" tcpdump-retx.log
ip netns exec "$NS" timeout 30 python3 "$TMP/relay.py" 4454 4453 >"$LOGS/relay.log" 2>&1 &
RELAY=$!
BG_PIDS+=("$RELAY")
wait_listen 4454
CONNECT_PORT=4454 connection retx 4453 p42-caldav.icloud.com -dtls1_2 400 \
    legit-leaf-p42-caldav.icloud.com legit-intermediate
wait "$RELAY" || die "relay failed: $(cat "$LOGS/relay.log")"
forget_pid "$RELAY"
grep -q '^relay dropped' "$LOGS/relay.log" || die "the relay dropped nothing"
RELAY_UP=$(sed -n 's/^relay upstream port //p' "$LOGS/relay.log")
stop_tcpdump

D10="$OUT/dtls10-fragmented.pcap"
log "capturing $(basename "$D10")"
start_tcpdump "$D10" tcpdump-d10.log
connection d10 4443 www.icloud.com -dtls1 400 rogue-leaf-www.icloud.com rogue-ca
stop_tcpdump

# ------------------------------------------------------------ ground truth
tshark_fields() {
    local pcap=$1 filter=$2
    shift 2
    local args=() f
    for f in "$@"; do args+=(-e "$f"); done
    tshark -r "$pcap" -d 'udp.port==4441-4454,dtls' -Y "$filter" -T fields "${args[@]}" 2>>"$TSHARK_LOG"
}

# client_port PCAP SERVER_PORT  -- source port of the first ClientHello to it
client_port() {
    local p
    p=$(tshark_fields "$1" "dtls.handshake.type==1 && udp.dstport==$2" udp.srcport | sort -u)
    [[ $p =~ ^[0-9]+$ ]] || die "$(basename "$1"): expected one client port towards $2, got '$p'"
    printf '%s' "$p"
}

HEADER=$'#client_ip\tclient_port\tserver_ip\tserver_port\tsni\tversion\tchain_length\tleaf_sha256\tleaf_issuer\thello_verify'

# truth_row PCAP TAG SERVER_PORT SNI LEAF  -- one UDP flow of connection TAG
truth_row() {
    local pcap=$1 tag=$2 sport=$3 sni=$4 leaf=$5 ver n sha
    read -r ver n sha < <(client_facts "$tag")
    [[ $sha == "$(file_sha256 "$PKI/$leaf.pem")" ]] ||
        die "connection $tag: the leaf s_client received is not $leaf"
    printf '127.0.0.1\t%s\t127.0.0.1\t%s\t%s\t%s\t%s\t%s\t%s\t1\n' "$(client_port "$pcap" "$sport")" \
        "$sport" "$sni" "$ver" "$n" "$sha" "$(leaf_issuer "$leaf")"
}

log "writing ground truth"
{
    printf '%s\n' "$HEADER"
    truth_row "$FRAG" legit 4441 www.icloud.com legit-leaf-www.icloud.com
    truth_row "$FRAG" rogue 4442 www.icloud.com rogue-leaf-www.icloud.com
} >"$OUT/dtls12-fragmented.truth.tsv"
{
    printf '%s\n' "$HEADER"
    truth_row "$RETX" retx 4454 p42-caldav.icloud.com legit-leaf-p42-caldav.icloud.com
    truth_row "$RETX" retx 4453 p42-caldav.icloud.com legit-leaf-p42-caldav.icloud.com
} >"$OUT/dtls12-retransmit.truth.tsv"
{
    printf '%s\n' "$HEADER"
    truth_row "$D10" d10 4443 www.icloud.com rogue-leaf-www.icloud.com
} >"$OUT/dtls10-fragmented.truth.tsv"
[[ $(cut -f2 "$OUT/dtls12-retransmit.truth.tsv" | tail -1) == "$RELAY_UP" ]] ||
    die "relay upstream port $RELAY_UP is not the client port of the server leg"

# ------------------------------------------------------------ cross-checks
# Each row as tshark decodes the capture: the SNI of every ClientHello, the
# ServerHello version, a HelloVerifyRequest, and a Certificate (reassembled
# by tshark from its fragments) with chain_length certificates whose first
# hashes to leaf_sha256; and the Certificate really was fragmented.
# NOREASM_PORT: the server port of a flow whose Certificate tshark 4.0 does
# not reassemble (fragments of the first flight completed by those of the
# retransmitted one, cut at other offsets); its certificate is checked on
# the other leg only.
verify_truth() {
    local pcap=$1 truth=$2 min_frags=$3 noreasm=${4:-}
    local cip cport sip sport sni ver clen sha iss hv
    while IFS=$'\t' read -r cip cport sip sport sni ver clen sha iss hv; do
        [[ $cip == \#* ]] && continue
        local name got certs n first frags
        name="$(basename "$pcap") $cport->$sport"
        got=$(tshark_fields "$pcap" "dtls.handshake.type==1 && udp.srcport==$cport && udp.dstport==$sport" \
            dtls.handshake.extensions_server_name | sort -u)
        [[ $got == "$sni" ]] || die "$name: SNI '$got' != '$sni'"
        got=$(tshark_fields "$pcap" "dtls.handshake.type==2 && udp.srcport==$sport && udp.dstport==$cport" \
            dtls.handshake.version | sort -u)
        [[ $got == "$ver" ]] || die "$name: ServerHello version '$got' != '$ver'"
        got=$(tshark_fields "$pcap" "dtls.handshake.type==3 && udp.srcport==$sport && udp.dstport==$cport" \
            frame.number | head -1)
        [[ -n $got ]] || die "$name: no HelloVerifyRequest"
        certs=$(tshark_fields "$pcap" "dtls.handshake.certificate && udp.srcport==$sport && udp.dstport==$cport" \
            dtls.handshake.certificate | head -1)
        if [[ $sport == "$noreasm" ]]; then
            [[ -z $certs ]] || die "$name: tshark reassembled the Certificate after all; check it here"
        else
            n=$(awk -F, '{print NF}' <<<"$certs")
            [[ $n == "$clen" ]] || die "$name: $n certificates on the wire, truth says $clen"
            first=$(cut -d, -f1 <<<"$certs" | tr -d ':' | perl -ne 'chomp; print pack("H*", $_)' |
                sha256sum | cut -d' ' -f1)
            [[ $first == "$sha" ]] || die "$name: leaf on the wire hashes to $first, truth says $sha"
        fi
        frags=$(tshark_fields "$pcap" "dtls.handshake.type==11 && udp.srcport==$sport && udp.dstport==$cport" \
            dtls.handshake.type | tr ',' '\n' | grep -c '^11$')
        [[ $frags -ge $min_frags ]] || die "$name: the Certificate came in only $frags fragment(s)"
    done <"$truth"
}
log "cross-checking the captures against the truth with tshark"
verify_truth "$FRAG" "$OUT/dtls12-fragmented.truth.tsv" 3
verify_truth "$RETX" "$OUT/dtls12-retransmit.truth.tsv" 3 4454
verify_truth "$D10" "$OUT/dtls10-fragmented.truth.tsv" 3

# The server leg of the relay must show the retransmitted flight: two
# ServerHellos from the server (the first one the relay dropped downstream).
N_SH=$(tshark_fields "$RETX" "dtls.handshake.type==2 && udp.srcport==4453" frame.number | wc -l)
[[ $N_SH -ge 2 ]] || die "dtls12-retransmit: $N_SH ServerHello(s) on the server leg, expected a retransmission"

size() { stat -c %s "$1"; }
pkts() { tshark -r "$1" 2>>"$TSHARK_LOG" | wc -l; }

# ------------------------------------------------------------ SOURCES.md
{
cat <<EOF
<!-- make-dtls.sh: begin -->
## DTLS captures (samples/make-dtls.sh)

Regenerate with \`sudo samples/make-dtls.sh\`. Last generated: $(date -u '+%Y-%m-%d %H:%M:%S UTC'),
on $(. /etc/os-release && echo "$PRETTY_NAME") (kernel $(uname -sr)), with
$(openssl version) (\`openssl s_server\` / \`s_client\`, PKI),
$(tcpdump --version 2>&1 | head -1), $(tshark -v 2>/dev/null | head -1) (client
ports and cross-checks only) and Python $(python3 -c 'import sys; print(sys.version.split()[0])') (the relay).

- One network namespace (\`tlsentry-dtls-<pid>\`), its loopback only, deleted
  on exit. Capture: \`tcpdump -i lo --immediate-mode -U -s 0 -w FILE udp\`,
  classic pcap, EN10MB.
- A throwaway PKI with the subjects of make-samples.sh (legit chain and rogue
  interception CA; RSA 2048, SHA-256); its private keys are never stored, the
  public certificates are in \`certs-dtls/\`. (The keys behind \`certs/\` are
  not kept either, so those certificates could not serve here.)
- Each connection: \`sleep 8 | openssl s_server -dtls1_2|-dtls1 -accept
  127.0.0.1:PORT -cert LEAF -key KEY -cert_chain CHAIN -mtu MTU -naccept 1
  [-listen]\` and \`{ echo hello over dtls; sleep 1; } | openssl s_client
  -dtls1_2|-dtls1 -connect 127.0.0.1:PORT -servername SNI -mtu MTU -showcerts\`;
  DTLS 1.0 adds \`-cipher DEFAULT:@SECLEVEL=0\` on both sides. s_server always
  answers the first ClientHello with a HelloVerifyRequest (cookie exchange);
  \`-listen\` does it statelessly (DTLSv1_listen). The small MTU cuts the
  Certificate message into fragments over several records and datagrams.

| file | flows | what |
| --- | --- | --- |
| dtls12-fragmented.pcap ($(size "$FRAG") bytes, $(pkts "$FRAG") packets) | 127.0.0.1 -> :4441, 127.0.0.1 -> :4442 | DTLS 1.2, www.icloud.com: legit chain, MTU 500, \`-listen\`; then the rogue chain, MTU 400 |
| dtls12-retransmit.pcap ($(size "$RETX") bytes, $(pkts "$RETX") packets) | client -> relay :4454, relay -> server :4453 | DTLS 1.2, p42-caldav.icloud.com, legit chain, MTU 400, through a relay (python3, in the script) that drops the server's first datagram holding a ServerHello once: the relay->client leg misses it and sees the flight again after the retransmission timer, the server leg shows the flight twice |
| dtls10-fragmented.pcap ($(size "$D10") bytes, $(pkts "$D10") packets) | 127.0.0.1 -> :4443 | DTLS 1.0, www.icloud.com, rogue chain, MTU 400 |

Ground truth, \`dtls*.truth.tsv\` (tab-separated, one row per UDP flow): SNI as
configured; version as s_client printed it (\`Protocol : DTLSv1.2\` = 0xfefd,
\`DTLSv1\` = 0xfeff); chain_length = certificates s_client -showcerts printed;
leaf_sha256 = \`openssl x509 -outform DER | sha256sum\` of the first of them
(checked equal to the leaf file's); leaf_issuer from the leaf file
(\`-nameopt RFC2253\`); hello_verify = 1 (a HelloVerifyRequest was sent);
client_port read back with tshark. tshark then cross-checks SNI, ServerHello
version, the HelloVerifyRequest, the reassembled certificate list and its leaf
hash, and that each Certificate came in at least 3 fragments. On the
relay->client leg of dtls12-retransmit.pcap tshark 4.0 does not reassemble the
Certificate (the first flight's fragments, minus the dropped datagram, are
completed by the retransmitted flight's, cut at other offsets), so its
certificate is cross-checked on the server leg only; the script checks that
tshark still finds no certificate there, so the note stays true.

### dtls12-fragmented.truth.tsv

\`\`\`
$(cat "$OUT/dtls12-fragmented.truth.tsv")
\`\`\`

### dtls12-retransmit.truth.tsv

\`\`\`
$(cat "$OUT/dtls12-retransmit.truth.tsv")
\`\`\`

### dtls10-fragmented.truth.tsv

\`\`\`
$(cat "$OUT/dtls10-fragmented.truth.tsv")
\`\`\`
<!-- make-dtls.sh: end -->
EOF
} >"$OUT/sources-dtls.md"

# Replace the marked section of SOURCES.md, or append it.
SRC="$SAMPLES_DIR/SOURCES.md"
touch "$SRC"
perl -e '
    my ($src, $new) = @ARGV;
    local $/;
    open my $f, "<", $src or die; my $s = <$f>; close $f;
    open my $n, "<", $new or die; my $d = <$n>; close $n;
    if ($s =~ /<!-- make-dtls.sh: begin -->.*?<!-- make-dtls.sh: end -->\n/s) {
        $s =~ s/<!-- make-dtls.sh: begin -->.*?<!-- make-dtls.sh: end -->\n/$d/s;
    } else {
        $s .= "\n" unless $s =~ /\n\n\z/;
        $s .= $d;
    }
    print $s;
' "$SRC" "$OUT/sources-dtls.md" >"$OUT/SOURCES.md"

# ------------------------------------------------------------ install outputs
log "installing results into $SAMPLES_DIR"
rm -rf "$SAMPLES_DIR/certs-dtls"
mv "$OUT/certs-dtls" "$SAMPLES_DIR/certs-dtls"
for f in dtls12-fragmented.pcap dtls12-fragmented.truth.tsv dtls12-retransmit.pcap \
         dtls12-retransmit.truth.tsv dtls10-fragmented.pcap dtls10-fragmented.truth.tsv SOURCES.md; do
    mv -f "$OUT/$f" "$SAMPLES_DIR/$f"
done
chown root:root "$SAMPLES_DIR"/dtls*.pcap
chmod 644 "$SAMPLES_DIR"/dtls*.pcap "$SAMPLES_DIR"/dtls*.tsv "$SAMPLES_DIR/SOURCES.md" \
    "$SAMPLES_DIR"/certs-dtls/*.pem
chmod 755 "$SAMPLES_DIR/certs-dtls"
log "done:"
ls -l "$SAMPLES_DIR"/dtls* "$SAMPLES_DIR/certs-dtls" >&2
