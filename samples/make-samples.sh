#!/usr/bin/env bash
# make-samples.sh -- regenerate tlsentry's sample captures from real TLS stacks.
#
# Usage:   sudo samples/make-samples.sh          (must run as root)
#
# What it does
#   * Creates a private network namespace (tlsentry-samples-<pid>) and a second
#     one (tlsentry-samples-<pid>-split). All traffic stays on the namespaces'
#     own loopback interface; nothing is ever sent outside them.
#   * Builds a throwaway PKI in a temp dir (RSA 2048 / SHA-256, fixed subjects):
#       legit:   "Apple Root CA - Sample" -> "Apple Public Server RSA CA 12 - G1"
#                -> www.icloud.com, p42-caldav.icloud.com   (server sends 2 certs)
#       rogue:   "Rogue Interception CA" (self-signed) -> www.icloud.com
#                                                           (server sends 2 certs)
#       example: "Example Trust Root" -> www.example.org    (server sends 1 cert)
#     Private keys never leave the temp dir; public certificates are copied to
#     samples/certs/.
#   * Runs `openssl s_server -WWW -naccept 1` / `openssl s_client` pairs while
#     `tcpdump -i lo -U -s 0 -w FILE tcp` records them (classic pcap format).
#
# Outputs (all in samples/, replaced on every run)
#   icloud-story.pcap        6 TCP connections, see SOURCES.md
#   icloud-story.truth.tsv   ground truth, one row per connection
#   split-chain.pcap         1 TLS 1.2 handshake on a lo with MTU 576, so the
#                            Certificate message spans several TCP segments
#   split-chain.truth.tsv
#   truncated.pcap           prefix of icloud-story.pcap cut (head -c) in the
#                            middle of a packet carrying connection 3's
#                            (the rogue one's) Certificate message
#   certs/*.pem              CA and leaf certificates (public parts only)
#   SOURCES.md               provenance: commands, versions, date, truth
#
# Debugging: KEEP_TMP=1 keeps the temp dir (keys, logs, unfinished output).
#
# The ground truth is computed from the certificate files this script made
# (openssl x509 ... | sha256sum), not by tlsentry; only the client ports are
# read back from the capture (tshark). tshark is also used to cross-check the
# capture against the truth and to locate the truncation offset.
#
# Dependencies: bash, iproute2 (ip, ss), coreutils (timeout), openssl, tcpdump,
# tshark, perl. If openssl/tcpdump/tshark are missing they are installed with
# apt-get (Debian 12). Every run makes new keys, so certificate hashes, client
# ports and timestamps differ from run to run; the truth files always match the
# captures of the same run. Output is first built in the temp dir and only moved
# into samples/ when everything has succeeded and been cross-checked.
set -euo pipefail

if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    echo "make-samples.sh: must run as root (sudo $0)" >&2
    exit 1
fi

SAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS="tlsentry-samples-$$"
NS_SPLIT="tlsentry-samples-$$-split"
TMP=""
BG_PIDS=()

# forget_pid PID  -- drop a reaped background pid so cleanup never signals a
# pid number that may since have been reused by an unrelated process
forget_pid() {
    local keep=() p
    for p in "${BG_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    BG_PIDS=("${keep[@]}")
}

log() { printf '[make-samples] %s\n' "$*" >&2; }
die() { printf '[make-samples] ERROR: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$?
    set +e
    local pid
    for pid in "${BG_PIDS[@]}"; do
        kill "$pid" 2>/dev/null   # tcpdump / s_server (via timeout) still running
    done
    for pid in "${BG_PIDS[@]}"; do
        wait "$pid" 2>/dev/null
    done
    local ns
    for ns in "$NS" "$NS_SPLIT"; do
        if [[ -e /run/netns/$ns ]]; then
            ip netns del "$ns" 2>/dev/null || log "could not delete namespace $ns"
        fi
    done
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ ${KEEP_TMP:-0} == 1 ]]; then
            log "KEEP_TMP=1: leaving $TMP (contains private keys; delete it yourself)"
        else
            rm -rf "$TMP"
        fi
    fi
    if [[ $rc -ne 0 ]]; then
        log "FAILED (exit $rc); samples/ left unchanged"
    fi
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
if [[ ${#need_pkgs[@]} -gt 0 ]]; then
    log "installing missing packages: ${need_pkgs[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y tcpdump openssl tshark
fi
for tool in ip ss timeout perl sha256sum od; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found"
done

# Remove namespaces left behind by an earlier run that was killed hard
# (SIGKILL skips the EXIT trap). Only namespaces whose creator is gone and that
# have no processes left are removed.
while read -r stale _; do
    [[ $stale =~ ^tlsentry-samples-([0-9]+)(-split)?$ ]] || continue
    if ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && [[ -z $(ip netns pids "$stale" 2>/dev/null) ]]; then
        log "removing stale namespace $stale"
        ip netns del "$stale" || true
    fi
done < <(ip netns list 2>/dev/null)

TMP=$(mktemp -d /tmp/tlsentry-samples.XXXXXX)
chmod 700 "$TMP"
PKI="$TMP/pki"
WWW="$TMP/www"
LOGS="$TMP/logs"
OUT="$TMP/out"
mkdir -p "$PKI" "$WWW" "$LOGS" "$OUT/certs"
TSHARK_LOG="$LOGS/tshark.log"

# Small file served by `s_server -WWW` so a few bytes of application data flow.
printf 'hello from the tlsentry sample server\n' > "$WWW/hello.txt"

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

[leaf_www_example]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = DNS:www.example.org
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
# The interception leaf copies the real leaf's subject; only the issuer differs.
signed rogue-leaf-www.icloud.com \
    "/C=US/ST=California/O=Apple Inc./CN=www.icloud.com" \
    rogue-ca 0x0bad02 825 leaf_www_icloud

self_signed example-root "/C=US/O=Example Trust/CN=Example Trust Root" 0xe0001
signed example-leaf-www.example.org \
    "/C=US/O=Example Org/CN=www.example.org" \
    example-root 0xe0101 825 leaf_www_example

# sanity: every chain must verify
openssl verify -CAfile "$PKI/legit-root.pem" -untrusted "$PKI/legit-intermediate.pem" \
    "$PKI/legit-leaf-www.icloud.com.pem" "$PKI/legit-leaf-p42-caldav.icloud.com.pem" >>"$LOGS/pki.log"
openssl verify -CAfile "$PKI/rogue-ca.pem" "$PKI/rogue-leaf-www.icloud.com.pem" >>"$LOGS/pki.log"
openssl verify -CAfile "$PKI/example-root.pem" "$PKI/example-leaf-www.example.org.pem" >>"$LOGS/pki.log"

for c in legit-root legit-intermediate legit-leaf-www.icloud.com legit-leaf-p42-caldav.icloud.com \
         rogue-ca rogue-leaf-www.icloud.com example-root example-leaf-www.example.org; do
    openssl x509 -in "$PKI/$c.pem" -out "$OUT/certs/$c.pem"   # public part only
done

leaf_sha256() { openssl x509 -in "$PKI/$1.pem" -outform DER | sha256sum | cut -d' ' -f1; }
leaf_issuer() { openssl x509 -in "$PKI/$1.pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//'; }

# ----------------------------------------------------------------- namespaces
# make_ns NAME MTU
make_ns() {
    ip netns add "$1"
    ip netns exec "$1" ip link set lo up
    ip netns exec "$1" ip link set lo mtu "$2"
    # Loopback does TSO/GSO: without this the kernel hands tcpdump one
    # super-segment per write (e.g. a 2240-byte server flight in one "packet"
    # despite MTU 1500). Limiting GSO to one segment makes every captured TCP
    # segment <= MSS, as on a real network. (Settable on an existing device
    # since Linux 5.19; ethtool is the fallback.)
    if ! ip netns exec "$1" ip link set lo gso_max_segs 1 gso_max_size "$2" 2>>"$LOGS/ns.log"; then
        if command -v ethtool >/dev/null 2>&1; then
            ip netns exec "$1" ethtool -K lo tso off gso off
        else
            die "cannot disable GSO on lo in $1 (need Linux >= 5.19 or ethtool)"
        fi
    fi
}

# check_mtu PCAP MTU  -- no captured IP packet may exceed the MTU
check_mtu() {
    local max
    max=$(tshark -r "$1" -T fields -e frame.cap_len 2>>"$TSHARK_LOG" | sort -n | tail -1)
    [[ ${max:-0} -le $(($2 + 14)) ]] ||
        die "$(basename "$1"): a captured frame has $max bytes > MTU $2 + 14 (GSO still active?)"
}

# wait_listen NS PORT  -- until something listens on TCP PORT in NS
wait_listen() {
    local i
    for i in $(seq 1 100); do
        if ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q .; then
            return 0
        fi
        sleep 0.1
    done
    die "nothing listening on port $2 in namespace $1"
}

# start_tcpdump NS PCAP LOGNAME  -- sets TCPDUMP_PID
start_tcpdump() {
    # --immediate-mode: otherwise packets wait in a TPACKET_V3 ring block for
    # up to 1 s and the ones still there at SIGINT are silently not written.
    ip netns exec "$1" tcpdump -i lo --immediate-mode -U -s 0 -w "$2" 'tcp' 2>"$LOGS/$3" &
    TCPDUMP_PID=$!
    BG_PIDS+=("$TCPDUMP_PID")
    local i
    for i in $(seq 1 100); do
        grep -q 'listening on' "$LOGS/$3" 2>/dev/null && break
        kill -0 "$TCPDUMP_PID" 2>/dev/null || die "tcpdump died: $(cat "$LOGS/$3")"
        sleep 0.1
    done
    grep -q 'listening on' "$LOGS/$3" || die "tcpdump did not start listening"
    sleep 0.5   # "listening on" is printed just before the capture loop starts
}

# stop_tcpdump  -- SIGINT makes tcpdump flush and write a complete file
stop_tcpdump() {
    sleep 1.5
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" || true
    forget_pid "$TCPDUMP_PID"
}

# connection NS TAG ACCEPT CONNECT SNI TLSFLAG CERT [CHAIN]
#   One s_server (serving exactly one connection, -naccept 1) and one s_client
#   that sends "GET /hello.txt HTTP/1.0"; -ign_eof keeps s_client reading until
#   the server has answered and sent close_notify, then both sides close.
connection() {
    local ns=$1 tag=$2 accept=$3 connect=$4 sni=$5 tlsflag=$6 cert=$7 chain=${8:-}
    local port=${accept##*:}
    local chain_args=()
    [[ -n $chain ]] && chain_args=(-cert_chain "$PKI/$chain.pem")
    log "connection $tag: $sni via $connect ($tlsflag, cert $cert${chain:+ + $chain})"
    (
        cd "$WWW"
        exec ip netns exec "$ns" timeout 30 openssl s_server -accept "$accept" \
            -cert "$PKI/$cert.pem" -key "$PKI/$cert.key" "${chain_args[@]}" \
            -WWW -naccept 1
    ) >"$LOGS/server-$tag.log" 2>&1 &
    local srv=$!
    BG_PIDS+=("$srv")
    wait_listen "$ns" "$port"
    if ! printf 'GET /hello.txt HTTP/1.0\r\n\r\n' |
        ip netns exec "$ns" timeout 20 openssl s_client -connect "$connect" \
            -servername "$sni" "$tlsflag" -ign_eof >"$LOGS/client-$tag.log" 2>&1; then
        cat "$LOGS/client-$tag.log" >&2
        die "s_client for connection $tag failed"
    fi
    grep -q '^HTTP/1.0 200 ok' "$LOGS/client-$tag.log" || die "connection $tag: no HTTP answer"
    wait "$srv" || die "s_server for connection $tag did not exit cleanly: $(cat "$LOGS/server-$tag.log")"
    forget_pid "$srv"
    sleep 0.3   # keep connections apart in time
}

# ------------------------------------------------------------ icloud story
log "capturing icloud-story.pcap in namespace $NS"
make_ns "$NS" 1500
# IPv6 on the namespace's loopback (::1) for connection 6
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0 ||
    die "cannot enable IPv6 in the namespace"
for i in $(seq 1 50); do
    ip netns exec "$NS" ip -6 addr show dev lo | grep -q '::1/128' && break
    sleep 0.1
done
ip netns exec "$NS" ip -6 addr show dev lo | grep -q '::1/128' || die "no ::1 on lo in $NS"

STORY="$OUT/icloud-story.pcap"
start_tcpdump "$NS" "$STORY" tcpdump-story.log
connection "$NS" 1 127.0.0.1:4431 127.0.0.1:4431 www.icloud.com        -tls1_2 legit-leaf-www.icloud.com        legit-intermediate
connection "$NS" 2 127.0.0.1:4432 127.0.0.1:4432 p42-caldav.icloud.com -tls1_2 legit-leaf-p42-caldav.icloud.com legit-intermediate
connection "$NS" 3 127.0.0.1:4433 127.0.0.1:4433 www.icloud.com        -tls1_2 rogue-leaf-www.icloud.com        rogue-ca
connection "$NS" 4 127.0.0.1:4434 127.0.0.1:4434 www.example.org       -tls1_2 example-leaf-www.example.org
connection "$NS" 5 127.0.0.1:4435 127.0.0.1:4435 www.icloud.com        -tls1_3 legit-leaf-www.icloud.com        legit-intermediate
connection "$NS" 6 '[::1]:4436'   '[::1]:4436'   www.icloud.com        -tls1_2 rogue-leaf-www.icloud.com        rogue-ca
stop_tcpdump

# ------------------------------------------------------------ split chain
log "capturing split-chain.pcap in namespace $NS_SPLIT (lo MTU 576)"
make_ns "$NS_SPLIT" 576
SPLIT="$OUT/split-chain.pcap"
start_tcpdump "$NS_SPLIT" "$SPLIT" tcpdump-split.log
connection "$NS_SPLIT" split 127.0.0.1:4432 127.0.0.1:4432 p42-caldav.icloud.com -tls1_2 legit-leaf-p42-caldav.icloud.com legit-intermediate
stop_tcpdump

# ------------------------------------------------------------ ground truth
# tshark_fields PCAP FILTER FIELD...   (TLS decoded on every sample port)
tshark_fields() {
    local pcap=$1 filter=$2
    shift 2
    local args=() f
    for f in "$@"; do args+=(-e "$f"); done
    tshark -r "$pcap" -d 'tcp.port==4431-4436,tls' -Y "$filter" -T fields "${args[@]}" 2>>"$TSHARK_LOG"
}

# client_port PCAP SERVER_PORT  -- source port of the (single) SYN to SERVER_PORT
client_port() {
    local p
    p=$(tshark_fields "$1" "tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.dstport==$2" tcp.srcport | sort -u)
    [[ $p =~ ^[0-9]+$ ]] || die "$(basename "$1"): expected exactly one client port for server port $2, got '$p'"
    printf '%s' "$p"
}

HEADER=$'#client_ip\tclient_port\tserver_ip\tserver_port\tsni\tversion\tchain_length\tleaf_sha256\tleaf_issuer'

# truth_row PCAP CLIENT_IP SERVER_IP SERVER_PORT SNI VERSION CHAIN_LEN LEAF
#   LEAF empty (TLS 1.3) -> chain_length, leaf_sha256, leaf_issuer are "-"
truth_row() {
    local pcap=$1 cip=$2 sip=$3 sport=$4 sni=$5 ver=$6 clen=$7 leaf=$8
    local cport sha='-' iss='-'
    cport=$(client_port "$pcap" "$sport")
    if [[ -n $leaf ]]; then
        sha=$(leaf_sha256 "$leaf")
        iss=$(leaf_issuer "$leaf")
    else
        clen='-'
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$cip" "$cport" "$sip" "$sport" "$sni" "$ver" "$clen" "$sha" "$iss"
}

log "writing ground truth"
{
    printf '%s\n' "$HEADER"
    truth_row "$STORY" 127.0.0.1 127.0.0.1 4431 www.icloud.com        0x0303 2 legit-leaf-www.icloud.com
    truth_row "$STORY" 127.0.0.1 127.0.0.1 4432 p42-caldav.icloud.com 0x0303 2 legit-leaf-p42-caldav.icloud.com
    truth_row "$STORY" 127.0.0.1 127.0.0.1 4433 www.icloud.com        0x0303 2 rogue-leaf-www.icloud.com
    truth_row "$STORY" 127.0.0.1 127.0.0.1 4434 www.example.org       0x0303 1 example-leaf-www.example.org
    truth_row "$STORY" 127.0.0.1 127.0.0.1 4435 www.icloud.com        0x0304 - ''
    truth_row "$STORY" ::1       ::1       4436 www.icloud.com        0x0303 2 rogue-leaf-www.icloud.com
} > "$OUT/icloud-story.truth.tsv"
{
    printf '%s\n' "$HEADER"
    truth_row "$SPLIT" 127.0.0.1 127.0.0.1 4432 p42-caldav.icloud.com 0x0303 2 legit-leaf-p42-caldav.icloud.com
} > "$OUT/split-chain.truth.tsv"

# ------------------------------------------------------------ cross-checks
# Every row of the truth must be visible in the capture as tshark decodes it:
# SNI in the ClientHello, negotiated version in the ServerHello, and (TLS 1.2)
# a Certificate message with chain_length certificates whose first one hashes
# to leaf_sha256. For TLS 1.3 no Certificate message may be visible.
verify_truth() {
    local pcap=$1 truth=$2
    local cip cport sip sport sni ver clen sha iss
    while IFS=$'\t' read -r cip cport sip sport sni ver clen sha iss; do
        [[ $cip == \#* ]] && continue
        local got_sni got_ver sh_ver sh_sv certs
        got_sni=$(tshark_fields "$pcap" "tls.handshake.type==1 && tcp.dstport==$sport && tcp.srcport==$cport" \
            tls.handshake.extensions_server_name)
        [[ $got_sni == "$sni" ]] || die "$(basename "$pcap") port $sport: SNI '$got_sni' != '$sni'"
        read -r sh_ver sh_sv < <(tshark_fields "$pcap" "tls.handshake.type==2 && tcp.srcport==$sport" \
            tls.handshake.version tls.handshake.extensions.supported_version; echo)
        got_ver=${sh_sv:-$sh_ver}
        [[ $got_ver == "$ver" ]] || die "$(basename "$pcap") port $sport: version '$got_ver' != '$ver'"
        certs=$(tshark_fields "$pcap" "tls.handshake.type==11 && tcp.srcport==$sport" tls.handshake.certificate)
        if [[ $clen == - ]]; then
            [[ -z $certs ]] || die "$(basename "$pcap") port $sport: TLS 1.3 but a Certificate is visible"
            continue
        fi
        local n first
        n=$(awk -F, '{print NF}' <<<"$certs")
        [[ $n == "$clen" ]] || die "$(basename "$pcap") port $sport: $n certificates on the wire, truth says $clen"
        first=$(cut -d, -f1 <<<"$certs" | tr -d ':' | perl -ne 'chomp; print pack("H*", $_)' | sha256sum | cut -d' ' -f1)
        [[ $first == "$sha" ]] || die "$(basename "$pcap") port $sport: leaf on the wire hashes to $first, truth says $sha"
    done < "$truth"
}
log "cross-checking captures against the truth with tshark"
verify_truth "$STORY" "$OUT/icloud-story.truth.tsv"
verify_truth "$SPLIT" "$OUT/split-chain.truth.tsv"

check_mtu "$STORY" 1500
check_mtu "$SPLIT" 576

# The split-chain Certificate must really span several TCP segments.
SPLIT_SEGS=$(tshark_fields "$SPLIT" 'tls.handshake.type==11' tcp.segment | awk -F, '{print NF}')
[[ ${SPLIT_SEGS:-0} -ge 3 ]] || die "split-chain: Certificate spans only ${SPLIT_SEGS:-0} TCP segment(s)"

# ------------------------------------------------------------ truncated.pcap
# Cut icloud-story.pcap in the middle of the first TCP segment that carries
# bytes of connection 3's (port 4433, rogue) Certificate message. Offsets are
# computed from the pcap record headers: 24-byte file header, then for each
# packet a 16-byte record header followed by incl_len bytes.
log "computing truncation offset"
read -r CERT_FRAME CERT_SEGS < <(tshark_fields "$STORY" 'tls.handshake.type==11 && tcp.srcport==4433' \
    frame.number tcp.segment; echo)
[[ $CERT_FRAME =~ ^[0-9]+$ ]] || die "no Certificate from port 4433 found in icloud-story.pcap"
CUT_FRAME=${CERT_SEGS%%,*}          # first reassembled segment, if reassembled
[[ $CUT_FRAME =~ ^[0-9]+$ ]] || CUT_FRAME=$CERT_FRAME
mapfile -t CAPLENS < <(tshark -r "$STORY" -T fields -e frame.cap_len 2>>"$TSHARK_LOG")
offset=24
for ((i = 1; i < CUT_FRAME; i++)); do
    offset=$((offset + 16 + CAPLENS[i - 1]))
done
# cross-check against the record header itself (incl_len at record offset 8,
# host byte order as written by tcpdump on this machine)
incl_len=$(od -An -tu4 -j $((offset + 8)) -N4 "$STORY" | tr -d ' ')
[[ $incl_len == "${CAPLENS[CUT_FRAME - 1]}" ]] || die "pcap record header mismatch at frame $CUT_FRAME"
CUT_RECORD_START=$offset
CUT_LEN=$((offset + 16 + incl_len / 2))
head -c "$CUT_LEN" "$STORY" > "$OUT/truncated.pcap"
# The truncated file must no longer contain connection 3's Certificate.
left=$(tshark_fields "$OUT/truncated.pcap" 'tls.handshake.type==11 && tcp.srcport==4433' frame.number || true)
[[ -z $left ]] || die "truncated.pcap still contains the port 4433 Certificate"

# ------------------------------------------------------------ SOURCES.md
OPENSSL_VERSION=$(openssl version)
TCPDUMP_VERSION=$(tcpdump --version 2>&1 | head -1)
LIBPCAP_VERSION=$(tcpdump --version 2>&1 | sed -n 2p)
TSHARK_VERSION=$(tshark --version 2>/dev/null | head -1)
KERNEL=$(uname -sr)
OS=$( (. /etc/os-release && printf '%s' "$PRETTY_NAME") 2>/dev/null || echo unknown)
NOW=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
size() { stat -c %s "$1"; }
STORY_PKTS=$(tshark -r "$STORY" -T fields -e frame.number 2>>"$TSHARK_LOG" | wc -l)
SPLIT_PKTS=$(tshark -r "$SPLIT" -T fields -e frame.number 2>>"$TSHARK_LOG" | wc -l)

cat > "$OUT/SOURCES.md" <<EOF
# Sample captures: provenance

Everything in this directory except the scripts, \`watch.rules\`, \`CASES\`,
\`systemd/\` and the \`*.jsonl\` expectations is generated by
\`make-samples.sh\`, apart from the captures the other scripts make
(\`make-features.sh\`, \`make-quic.sh\`, \`make-dtls.sh\`,
\`make-starttls.sh\`), each described in its own section at the end and
keeping its certificates in its own \`certs-*/\` directory. Regenerate with:

    sudo samples/make-samples.sh

Last generated: $NOW, on $OS (kernel $KERNEL), with

- $OPENSSL_VERSION (\`openssl req\` / \`openssl x509\` for the PKI, \`openssl s_server\` / \`openssl s_client\` for the traffic)
- $TCPDUMP_VERSION, $LIBPCAP_VERSION (capture)
- $TSHARK_VERSION (only to read client ports back, cross-check, and find the truncation offset)

Every run creates new keys, so certificate hashes, client ports and timestamps
change from run to run; the \`*.truth.tsv\` files always belong to the captures
made in the same run.

## How the captures are made

- The script creates its own network namespaces (\`tlsentry-samples-<pid>\` and
  \`tlsentry-samples-<pid>-split\`) and uses only their loopback interface. No
  packet leaves the namespaces. They are deleted on exit (trap on EXIT).
- \`lo\` in the namespace is set to MTU 1500 (\`ip link set lo mtu 1500\`) so
  certificate chains span several TCP segments as on a real Ethernet path
  (MSS 1448 over IPv4 and 1428 over IPv6, with TCP timestamps). For
  \`split-chain.pcap\` the MTU is 576 (MSS 524).
- Loopback offloads segmentation (TSO/GSO): left alone, tcpdump on \`lo\` sees
  one super-segment per write (a 2240-byte server flight in one "packet" despite
  MTU 1500). The script therefore sets \`ip link set lo gso_max_segs 1
  gso_max_size MTU\` in the namespace (Linux >= 5.19; \`ethtool -K lo tso off
  gso off\` as fallback) and checks that no captured frame exceeds MTU + 14.
- Capture: \`ip netns exec NS tcpdump -i lo --immediate-mode -U -s 0 -w FILE 'tcp'\`, classic
  pcap (not pcapng), link type EN10MB (Ethernet, with all-zero MAC addresses on
  loopback), microsecond timestamps, host byte order (little-endian). tcpdump is
  started first and the script waits for "listening on" before any connection;
  it is stopped with SIGINT 1.5 s after the last connection.
  (\`--immediate-mode\` matters: without it packets sit in a TPACKET_V3 ring
  block for up to 1 s and those still there at SIGINT are counted as "received
  by filter" but never written; that silently lost the whole last connection.)
- Each connection is one \`openssl s_server\` serving exactly one connection and
  one \`openssl s_client\`:

      cd WWWDIR && openssl s_server -accept ADDR:PORT -cert LEAF.pem -key LEAF.key \\
          [-cert_chain CHAIN.pem] -WWW -naccept 1
      printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | \\
          timeout 20 openssl s_client -connect ADDR:PORT -servername SNI -tls1_2|-tls1_3 -ign_eof

  The server answers the GET with a $(size "$WWW/hello.txt")-byte text file (\`HTTP/1.0 200 ok\`),
  sends close_notify and closes; \`-ign_eof\` keeps the client reading after its
  stdin ends until the server's close_notify, then it sends its own
  close_notify and FIN. \`-naccept 1\` makes the server exit after that one
  connection. Each connection is a full handshake (no resumption). The server
  sends the leaf plus whatever \`-cert_chain\` lists; that is the chain length.
- Connections are 0.3 s apart so their packets do not interleave.

## PKI (public certificates in \`certs/\`, private keys never stored)

RSA 2048, SHA-256, fixed subjects and serials; CAs valid 3650 days (the
intermediate 1825), leaves \`-days 825\`.

| file | subject (RFC 2253) | issued by |
| --- | --- | --- |
| certs/legit-root.pem | $(openssl x509 -in "$OUT/certs/legit-root.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//') | self-signed |
| certs/legit-intermediate.pem | $(openssl x509 -in "$OUT/certs/legit-intermediate.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//') | legit-root |
| certs/legit-leaf-www.icloud.com.pem | $(openssl x509 -in "$OUT/certs/legit-leaf-www.icloud.com.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//') (SAN www.icloud.com, icloud.com) | legit-intermediate |
| certs/legit-leaf-p42-caldav.icloud.com.pem | $(openssl x509 -in "$OUT/certs/legit-leaf-p42-caldav.icloud.com.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//') (SAN p42-caldav.icloud.com) | legit-intermediate |
| certs/rogue-ca.pem | $(openssl x509 -in "$OUT/certs/rogue-ca.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//') | self-signed |
| certs/rogue-leaf-www.icloud.com.pem | $(openssl x509 -in "$OUT/certs/rogue-leaf-www.icloud.com.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//') (SAN www.icloud.com, icloud.com) | rogue-ca |
| certs/example-root.pem | $(openssl x509 -in "$OUT/certs/example-root.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//') | self-signed |
| certs/example-leaf-www.example.org.pem | $(openssl x509 -in "$OUT/certs/example-leaf-www.example.org.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//') (SAN www.example.org) | example-root |

The rogue leaf deliberately copies the legitimate leaf's subject; only its
issuer (and key) differ, as with a TLS-intercepting proxy.

## icloud-story.pcap ($(size "$STORY") bytes, $STORY_PKTS packets)

One TCP connection per line, in this order, MTU 1500:

| # | client -> server | SNI | TLS | certificates sent by the server | meaning |
| --- | --- | --- | --- | --- | --- |
| 1 | 127.0.0.1 -> 127.0.0.1:4431 | www.icloud.com | 1.2 | legit leaf + Apple Public Server RSA CA 12 - G1 | normal |
| 2 | 127.0.0.1 -> 127.0.0.1:4432 | p42-caldav.icloud.com | 1.2 | legit leaf + Apple Public Server RSA CA 12 - G1 | normal |
| 3 | 127.0.0.1 -> 127.0.0.1:4433 | www.icloud.com | 1.2 | rogue leaf + Rogue Interception CA | **interception** |
| 4 | 127.0.0.1 -> 127.0.0.1:4434 | www.example.org | 1.2 | example leaf only (chain of 1) | unwatched domain |
| 5 | 127.0.0.1 -> 127.0.0.1:4435 | www.icloud.com | 1.3 | legit leaf + intermediate, **encrypted on the wire** | certificate not observable |
| 6 | [::1] -> [::1]:4436 | www.icloud.com | 1.2 | rogue leaf + Rogue Interception CA | **interception over IPv6** |

## split-chain.pcap ($(size "$SPLIT") bytes, $SPLIT_PKTS packets)

One TLS 1.2 handshake 127.0.0.1 -> 127.0.0.1:4432, SNI p42-caldav.icloud.com,
legit chain (leaf + intermediate), captured in a second namespace whose \`lo\`
has MTU 576 (MSS 524): the Certificate message spans $SPLIT_SEGS TCP segments
(as counted by tshark's reassembly).

## truncated.pcap ($(size "$OUT/truncated.pcap") bytes)

\`head -c $CUT_LEN icloud-story.pcap\`: the file ends with a partial pcap record.
The cut falls in the middle of frame $CUT_FRAME of icloud-story.pcap (record
header at byte $CUT_RECORD_START, $incl_len captured bytes, cut after
$((incl_len / 2)) of them), the first TCP segment carrying connection 3's
(rogue, port 4433) Certificate message (tshark reports that Certificate in frame
$CERT_FRAME after reassembly). Connections 1 and 2 are complete, connection 3
stops inside its Certificate, connections 4 to 6 are absent. Readers should
report the truncation and not crash; no truth file is provided for it.

## Ground truth

\`*.truth.tsv\`: tab-separated, one header line starting with \`#\`, one row per
connection. Computed from the certificate files the script made, not by
tlsentry:

- client_ip, server_ip, server_port, sni: as configured by the script;
  client_port: source port of the connection's SYN, read back with tshark.
- version: negotiated version, \`0x0303\` (TLS 1.2) or \`0x0304\` (TLS 1.3).
- chain_length: number of certificates the server sent.
- leaf_sha256: \`openssl x509 -in LEAF.pem -outform DER | sha256sum\` (lowercase hex).
- leaf_issuer: \`openssl x509 -in LEAF.pem -noout -issuer -nameopt RFC2253\`, after \`issuer=\`.
- TLS 1.3: chain_length, leaf_sha256 and leaf_issuer are \`-\` (encrypted).

The script then cross-checks every row against tshark's decoding of the
capture (SNI, ServerHello version, number of certificates and hash of the first
one) and fails if anything differs.

### icloud-story.truth.tsv

\`\`\`
$(cat "$OUT/icloud-story.truth.tsv")
\`\`\`

### split-chain.truth.tsv

\`\`\`
$(cat "$OUT/split-chain.truth.tsv")
\`\`\`
EOF

# Sections written by the other capture scripts (make-quic.sh, make-dtls.sh,
# ...), each between "<!-- NAME.sh: begin -->" and "<!-- NAME.sh: end -->",
# are carried over unchanged.
if [[ -f $SAMPLES_DIR/SOURCES.md ]]; then
    sed -n '/^<!-- [a-z-]*\.sh: begin -->$/,/^<!-- [a-z-]*\.sh: end -->$/p' \
        "$SAMPLES_DIR/SOURCES.md" >"$OUT/other-sections.md"
    if [[ -s $OUT/other-sections.md ]]; then
        printf '\n' >>"$OUT/SOURCES.md"
        cat "$OUT/other-sections.md" >>"$OUT/SOURCES.md"
    fi
fi

# ------------------------------------------------------------ install outputs
log "installing results into $SAMPLES_DIR"
rm -rf "$SAMPLES_DIR/certs"
mv "$OUT/certs" "$SAMPLES_DIR/certs"
for f in icloud-story.pcap icloud-story.truth.tsv split-chain.pcap split-chain.truth.tsv \
         truncated.pcap SOURCES.md; do
    mv -f "$OUT/$f" "$SAMPLES_DIR/$f"
done
chown root:root "$SAMPLES_DIR"/*.pcap   # tcpdump drops privileges and owns its files
chmod 644 "$SAMPLES_DIR"/*.pcap "$SAMPLES_DIR"/*.tsv "$SAMPLES_DIR/SOURCES.md" "$SAMPLES_DIR"/certs/*.pem
chmod 755 "$SAMPLES_DIR/certs"

log "done:"
ls -l "$SAMPLES_DIR" "$SAMPLES_DIR/certs" >&2
