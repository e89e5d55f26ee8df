# capture-lib.sh: what make-features.sh and make-judge.sh share.  Sourced,
# not run.  The caller sets NAME (a short word for logs and the namespace)
# and SAMPLES_DIR, then calls capture_setup; everything runs in one private
# network namespace on its loopback, and capture_cleanup (an EXIT trap) kills
# what was started and removes the namespace and the temporary directory.

log() { printf '[make-%s] %s\n' "$NAME" "$*" >&2; }
die() { printf '[make-%s] ERROR: %s\n' "$NAME" "$*" >&2; exit 1; }

BG_PIDS=()
TMP=""

capture_cleanup() {
    local rc=$? pid
    set +e
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    [[ -n ${NS:-} && -e /run/netns/$NS ]] && ip netns del "$NS"
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ ${KEEP_TMP:-0} == 1 ]]; then log "KEEP_TMP=1: leaving $TMP"; else rm -rf "$TMP"; fi
    fi
    [[ $rc -ne 0 ]] && log "FAILED (exit $rc); samples/ left unchanged"
    exit "$rc"
}

# capture_setup TOOL...: root, tools present, temp dir, namespace with GSO off.
capture_setup() {
    local tool
    [[ ${EUID:-$(id -u)} -eq 0 ]] || { echo "make-$NAME.sh: must run as root" >&2; exit 1; }
    for tool in "$@" ip ss timeout sha256sum; do
        command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found"
    done
    trap capture_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    TMP=$(mktemp -d "/tmp/tlsentry-$NAME.XXXXXX")
    chmod 700 "$TMP"
    PKI="$TMP/pki" LOGS="$TMP/logs" OUT="$TMP/out"
    mkdir -p "$PKI" "$LOGS" "$OUT" "$TMP/www"
    printf 'hello from the tlsentry %s server\n' "$NAME" >"$TMP/www/hello.txt"
    NS="tlsentry-$NAME-$$"
    ip netns add "$NS"
    ip netns exec "$NS" ip link set lo up
    # one segment per packet, as on a real network (see make-samples.sh)
    ip netns exec "$NS" ip link set lo gso_max_segs 1 gso_max_size 1500 2>>"$LOGS/ns.log" ||
        ip netns exec "$NS" ethtool -K lo tso off gso off
}

wait_listen() {
    local i
    for i in $(seq 1 100); do
        ip netns exec "$NS" ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    die "nothing listening on port $1"
}

# start_capture PCAP: tcpdump on the namespace's loopback (sets TCPDUMP_PID)
start_capture() {
    ip netns exec "$NS" tcpdump -i lo --immediate-mode -U -s 0 -w "$1" tcp 2>"$LOGS/tcpdump.log" &
    TCPDUMP_PID=$!
    BG_PIDS+=("$TCPDUMP_PID")
    local i
    for i in $(seq 1 100); do grep -q 'listening on' "$LOGS/tcpdump.log" && break; sleep 0.1; done
    sleep 0.5
}

stop_capture() {
    sleep 1.5
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" || true
}

# serve PORT NACCEPT CERT KEY CHAIN|- ARGS...: an s_server for NACCEPT connections
serve() {
    local port=$1 n=$2 cert=$3 key=$4 chain=$5
    local chain_args=()
    shift 5
    [[ $chain != - ]] && chain_args=(-cert_chain "$chain")
    (cd "$TMP/www" && exec ip netns exec "$NS" timeout 60 openssl s_server -accept "127.0.0.1:$port" \
        -cert "$cert" -key "$key" "${chain_args[@]}" -WWW -naccept "$n" "$@") \
        >"$LOGS/server-$port.log" 2>&1 &
    SERVER_PID=$!
    BG_PIDS+=("$SERVER_PID")
    wait_listen "$port"
}

# fetch PORT SNI ARGS...: one s_client fetching /hello.txt, which must arrive
fetch() {
    local port=$1 sni=$2
    shift 2
    printf 'GET /hello.txt HTTP/1.0\r\n\r\n' | ip netns exec "$NS" timeout 20 openssl s_client \
        -connect "127.0.0.1:$port" -servername "$sni" -ign_eof "$@" \
        >>"$LOGS/client-$port.log" 2>&1 || die "s_client to $port failed: $(tail -5 "$LOGS/client-$port.log")"
    grep -q "hello from the tlsentry" "$LOGS/client-$port.log" || die "no answer on $port"
    sleep 0.3
}

served() { wait "$SERVER_PID" || die "s_server did not exit cleanly"; }

# client_ports PCAP SERVER_PORT: client ports of the SYNs to it, in order
client_ports() {
    tshark -r "$1" -Y "tcp.flags.syn==1 && tcp.flags.ack==0 && tcp.dstport==$2" \
        -T fields -e tcp.srcport 2>/dev/null
}
