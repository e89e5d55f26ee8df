#!/usr/bin/env bash
# make-starttls.sh -- capture STARTTLS upgrades made by real TLS stacks.
#
# Usage:   sudo samples/make-starttls.sh          (must run as root)
#
# What it does
#   * Creates a private network namespace (tlsentry-starttls-<pid>); all
#     traffic stays on its loopback interface (127.0.0.1 and ::1).
#   * Builds a throwaway PKI in a temp dir with the same subjects as
#     make-samples.sh (its keys are not kept, so it cannot reuse them):
#       legit:  "Apple Root CA - Sample" -> "Apple Public Server RSA CA 12 - G1"
#               -> www.icloud.com                   (server sends leaf + intermediate)
#       rogue:  "Rogue Interception CA" (self-signed) -> www.icloud.com
#                                                   (server sends leaf + CA)
#     Public certificates go to samples/certs-starttls/; keys stay in the
#     temp dir and are deleted.
#   * For each protocol, one connection, each in its own capture
#     (tcpdump -i lo in the namespace): `openssl s_client -starttls PROTO
#     -servername www.icloud.com -tls1_2` against
#       postgres: the real Debian PostgreSQL server (initdb in a temp data
#                 directory as user postgres, ssl=on, stopped and removed
#                 afterwards);
#       the rest: samples/starttls-server.py, a scripted server that speaks
#                 the protocol's cleartext up to the go-ahead and then does
#                 the TLS handshake with Python's ssl module (OpenSSL).
#     Plus one HTTP CONNECT tunnel (`s_client -proxy`) to the same script
#     acting as an intercepting proxy.
#   * Checks each run: the client completed the handshake and received the
#     leaf the server was given; the capture has one connection, closed by
#     FIN from both sides and no RST.
#
# Outputs (all in samples/, replaced on every run)
#   starttls-<proto>.pcap   one TCP connection each (see SOURCES.md)
#   starttls.truth.tsv      ground truth, one row per connection
#   certs-starttls/*.pem    CA and leaf certificates (public parts only)
#   SOURCES.md              its "STARTTLS captures" section is replaced
#
# Debugging: KEEP_TMP=1 keeps the temp dir (keys, logs, unfinished output).
#
# Ground truth comes from the certificate files made here (openssl x509 |
# sha256sum) and from the script's own configuration; only the client ports
# are read back from the captures (tshark).  Every run makes new keys, so
# hashes, ports and timestamps change between runs; the truth always belongs
# to the captures of the same run.  Output is built in the temp dir and moved
# into samples/ only when everything succeeded.
#
# Dependencies: bash, iproute2, coreutils, util-linux (runuser), openssl,
# tcpdump, tshark, python3, postgresql (initdb, pg_ctl).
set -euo pipefail

if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    echo "make-starttls.sh: must run as root (sudo $0)" >&2
    exit 1
fi

SAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS="tlsentry-starttls-$$"
TMP=""
PGDIR=""
PG_RUNNING=0
BG_PIDS=()
PYTHON=${PYTHON:-/usr/bin/python3}
SNI=www.icloud.com

log() { printf '[make-starttls] %s\n' "$*" >&2; }
die() { printf '[make-starttls] ERROR: %s\n' "$*" >&2; exit 1; }

forget_pid() {
    local keep=() p
    for p in "${BG_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    BG_PIDS=("${keep[@]}")
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

cleanup() {
    local rc=$?
    set +e
    local pid
    if [[ $PG_RUNNING == 1 ]]; then
        ip netns exec "$NS" runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$PGDIR/data" \
            -m immediate -w stop >/dev/null 2>&1
    fi
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    if [[ -e /run/netns/$NS ]]; then
        ip netns del "$NS" 2>/dev/null || log "could not delete namespace $NS"
    fi
    [[ -n $PGDIR && -d $PGDIR ]] && rm -rf "$PGDIR"
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
for tool in ip ss timeout runuser openssl tcpdump tshark sha256sum "$PYTHON"; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found"
done
[[ -x $(pg_bin)/initdb && -x $(pg_bin)/pg_ctl ]] || die "PostgreSQL server binaries not found"
id postgres >/dev/null 2>&1 || die "no 'postgres' user (install the postgresql package)"

# Namespaces left by an earlier run of this script that was killed hard.
while read -r stale _; do
    [[ $stale =~ ^tlsentry-starttls-([0-9]+)$ ]] || continue
    if ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && [[ -z $(ip netns pids "$stale" 2>/dev/null) ]]; then
        log "removing stale namespace $stale"
        ip netns del "$stale" || true
    fi
done < <(ip netns list 2>/dev/null)

TMP=$(mktemp -d /tmp/tlsentry-starttls.XXXXXX)
chmod 700 "$TMP"
PKI="$TMP/pki"
LOGS="$TMP/logs"
OUT="$TMP/out"
mkdir -p "$PKI" "$LOGS" "$OUT/certs-starttls"
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
    legit-intermediate 0x5a0201 825 leaf_www_icloud
self_signed rogue-ca \
    "/C=XX/O=Totally Trusted Security Ltd/CN=Rogue Interception CA" 0x0bad01
signed rogue-leaf-www.icloud.com \
    "/C=US/ST=California/O=Apple Inc./CN=www.icloud.com" \
    rogue-ca 0x0bad03 825 leaf_www_icloud

openssl verify -CAfile "$PKI/legit-root.pem" -untrusted "$PKI/legit-intermediate.pem" \
    "$PKI/legit-leaf-www.icloud.com.pem" >>"$LOGS/pki.log"
openssl verify -CAfile "$PKI/rogue-ca.pem" "$PKI/rogue-leaf-www.icloud.com.pem" >>"$LOGS/pki.log"

# what each server presents: leaf, then its issuer
cat "$PKI/legit-leaf-www.icloud.com.pem" "$PKI/legit-intermediate.pem" > "$PKI/legit-chain.pem"
cat "$PKI/rogue-leaf-www.icloud.com.pem" "$PKI/rogue-ca.pem" > "$PKI/rogue-chain.pem"
cp "$PKI/legit-leaf-www.icloud.com.key" "$PKI/legit-chain.key"
cp "$PKI/rogue-leaf-www.icloud.com.key" "$PKI/rogue-chain.key"

for c in legit-root legit-intermediate legit-leaf-www.icloud.com rogue-ca rogue-leaf-www.icloud.com; do
    openssl x509 -in "$PKI/$c.pem" -out "$OUT/certs-starttls/$c.pem"   # public part only
done

leaf_of() { [[ $1 == legit ]] && echo legit-leaf-www.icloud.com || echo rogue-leaf-www.icloud.com; }
leaf_sha256() { openssl x509 -in "$PKI/$1.pem" -outform DER | sha256sum | cut -d' ' -f1; }
leaf_issuer() { openssl x509 -in "$PKI/$1.pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//'; }

# ----------------------------------------------------------------- namespace
log "creating namespace $NS"
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" ip link set lo mtu 1500
# one captured packet per TCP segment, as on a real link (see make-samples.sh)
if ! ip netns exec "$NS" ip link set lo gso_max_segs 1 gso_max_size 1500 2>>"$LOGS/ns.log"; then
    command -v ethtool >/dev/null 2>&1 || die "cannot disable GSO on lo (need Linux >= 5.19 or ethtool)"
    ip netns exec "$NS" ethtool -K lo tso off gso off
fi
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0 ||
    die "cannot enable IPv6 in the namespace"
for _ in $(seq 1 50); do
    ip netns exec "$NS" ip -6 addr show dev lo | grep -q '::1/128' && break
    sleep 0.1
done

# wait_listen PORT
wait_listen() {
    for _ in $(seq 1 100); do
        ip netns exec "$NS" ss -Hltn "sport = :$1" 2>/dev/null | grep -q . && return 0
        sleep 0.1
    done
    die "nothing listening on port $1"
}

# start_tcpdump PCAP PORT  -- sets TCPDUMP_PID
start_tcpdump() {
    local tlog="$LOGS/tcpdump-$(basename "$1").log"
    # -Z root: write the file as root into the private temp dir;
    # --immediate-mode: nothing stays in the ring buffer at SIGINT
    ip netns exec "$NS" tcpdump -i lo -Z root --immediate-mode -U -s 0 -w "$1" "tcp port $2" \
        2>"$tlog" &
    TCPDUMP_PID=$!
    BG_PIDS+=("$TCPDUMP_PID")
    for _ in $(seq 1 100); do
        grep -q 'listening on' "$tlog" 2>/dev/null && break
        kill -0 "$TCPDUMP_PID" 2>/dev/null || die "tcpdump died: $(cat "$tlog")"
        sleep 0.1
    done
    grep -q 'listening on' "$tlog" || die "tcpdump did not start"
    sleep 0.5
}

stop_tcpdump() {
    sleep 1.0
    kill -INT "$TCPDUMP_PID"
    wait "$TCPDUMP_PID" || true
    forget_pid "$TCPDUMP_PID"
}

# first_leaf_sha256 CLIENT_LOG  -- the first certificate s_client -showcerts printed
first_leaf_sha256() {
    sed -n '/-----BEGIN CERTIFICATE-----/,/-----END CERTIFICATE-----/p;/-----END CERTIFICATE-----/q' "$1" |
        openssl x509 -outform DER | sha256sum | cut -d' ' -f1
}

# ------------------------------------------------------------- PostgreSQL
# pg_start CHAIN  -- a throwaway cluster in the namespace, ssl=on, on 127.0.0.1:5432
pg_start() {
    local bin
    bin=$(pg_bin)
    PGDIR=$(mktemp -d /tmp/tlsentry-starttls-pg.XXXXXX)
    chown postgres:postgres "$PGDIR"
    chmod 700 "$PGDIR"
    runuser -u postgres -- "$bin/initdb" -D "$PGDIR/data" -A trust -U postgres \
        --no-sync >"$LOGS/initdb.log" 2>&1 || die "initdb failed: $(tail -n 5 "$LOGS/initdb.log")"
    install -o postgres -g postgres -m 0600 "$PKI/$1.pem" "$PGDIR/data/server.crt"
    install -o postgres -g postgres -m 0600 "$PKI/$1.key" "$PGDIR/data/server.key"
    cat >> "$PGDIR/data/postgresql.conf" <<EOF
# tlsentry make-starttls.sh
listen_addresses = '127.0.0.1'
port = 5432
unix_socket_directories = '$PGDIR'
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
fsync = off
EOF
    PG_RUNNING=1
    ip netns exec "$NS" runuser -u postgres -- "$bin/pg_ctl" -D "$PGDIR/data" \
        -l "$PGDIR/server.log" -w start >"$LOGS/pg_ctl.log" 2>&1 ||
        die "PostgreSQL did not start: $(tail -n 5 "$PGDIR/server.log" 2>/dev/null)"
    PG_VERSION=$("$bin/postgres" --version)
}

pg_stop() {
    ip netns exec "$NS" runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$PGDIR/data" -m fast -w stop \
        >>"$LOGS/pg_ctl.log" 2>&1 || die "PostgreSQL did not stop"
    PG_RUNNING=0
    cp "$PGDIR/server.log" "$LOGS/postgres.log"
    rm -rf "$PGDIR"
    PGDIR=""
}

# ------------------------------------------------------------ connections
TRUTH="$OUT/starttls.truth.tsv"
printf '#capture\tprotocol\tclient_ip\tclient_port\tserver_ip\tserver_port\tsni\tversion\tchain_length\tleaf_sha256\tleaf_issuer\tverdict\n' \
    > "$TRUTH"
ROWS=()

# capture NAME PROTOCOL ADDR PORT CHAIN(legit|rogue) SERVER(script|postgres) S_CLIENT_ARGS...
#   NAME: file name part and s_client -starttls mode (or "http-connect");
#   PROTOCOL: what starttls_protocol() must say about it.
capture() {
    local name=$1 proto=$2 addr=$3 port=$4 chain=$5 server=$6
    shift 6
    local pcap="$OUT/starttls-$name.pcap" clog="$LOGS/client-$name.log" slog="$LOGS/server-$name.log"
    local srv="" connect_to="$addr:$port"
    [[ $addr == *:* ]] && connect_to="[$addr]:$port"
    log "capturing $name ($proto) on $connect_to with the $chain chain ($server server)"
    start_tcpdump "$pcap" "$port"
    if [[ $server == postgres ]]; then
        pg_start "$chain-chain"
    else
        ip netns exec "$NS" timeout 30 "$PYTHON" "$SAMPLES_DIR/starttls-server.py" \
            "${name/http-connect/connect}" "$addr" "$port" "$PKI/$chain-chain.pem" \
            "$PKI/$chain-chain.key" >"$slog" 2>&1 &
        srv=$!
        BG_PIDS+=("$srv")
    fi
    wait_listen "$port"
    # -ign_eof: the client reads until the server's close_notify, answers
    # with its own and closes.  PostgreSQL waits for the client instead, so
    # there the client closes first (stdin is at its end).
    local eof=(-ign_eof)
    [[ $server == postgres ]] && eof=()
    # its exit status says little (an early close is an error to it): the
    # session summary and the server's exit status are checked instead
    ip netns exec "$NS" timeout 20 openssl s_client "$@" -servername "$SNI" -tls1_2 \
        -showcerts "${eof[@]}" </dev/null >"$clog" 2>&1 || true
    grep -q '^    Protocol  *: TLSv1.2' "$clog" || { cat "$clog" >&2; die "$name: no TLS 1.2 session"; }
    if [[ -n $srv ]]; then
        wait "$srv" || die "$name: the server failed: $(cat "$slog")"
        forget_pid "$srv"
    else
        sleep 0.5
        pg_stop
    fi
    stop_tcpdump
    local leaf
    leaf=$(leaf_of "$chain")
    [[ $(first_leaf_sha256 "$clog") == "$(leaf_sha256 "$leaf")" ]] ||
        die "$name: the client did not receive the $chain leaf"
    # one connection, closed with a FIN each way, no RST
    local syns fins rsts cport
    syns=$(tshark -r "$pcap" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e tcp.srcport 2>>"$TSHARK_LOG")
    fins=$(tshark -r "$pcap" -Y 'tcp.flags.fin==1' -T fields -e tcp.srcport 2>>"$TSHARK_LOG" | sort -u | wc -l)
    rsts=$(tshark -r "$pcap" -Y 'tcp.flags.reset==1' -T fields -e frame.number 2>>"$TSHARK_LOG" | wc -l)
    [[ $syns =~ ^[0-9]+$ ]] || die "$name: expected one SYN, got '$syns'"
    [[ $fins == 2 && $rsts == 0 ]] || die "$name: not a clean close ($fins sides sent FIN, $rsts RST)"
    cport=$syns
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t0x0303\t2\t%s\t%s\t%s\n' "starttls-$name.pcap" "$proto" \
        "$addr" "$cport" "$addr" "$port" "$SNI" "$(leaf_sha256 "$leaf")" "$(leaf_issuer "$leaf")" \
        "$([[ $chain == legit ]] && echo issuer-ok || echo unexpected-issuer)" >> "$TRUTH"
    ROWS+=("$name|$proto|$connect_to|$chain|$server")
    sleep 0.3
}

capture smtp         smtp         127.0.0.1 25   rogue script   -connect 127.0.0.1:25 -starttls smtp -name client.example.org
capture lmtp         lmtp         127.0.0.1 24   legit script   -connect 127.0.0.1:24 -starttls lmtp -name client.example.org
capture imap         imap         127.0.0.1 143  legit script   -connect 127.0.0.1:143 -starttls imap
capture pop3         pop3         127.0.0.1 110  rogue script   -connect 127.0.0.1:110 -starttls pop3
capture ftp          ftp          127.0.0.1 21   legit script   -connect 127.0.0.1:21 -starttls ftp
capture xmpp         xmpp         ::1       5222 rogue script   -connect '[::1]:5222' -starttls xmpp -xmpphost example.net
capture ldap         ldap         127.0.0.1 389  legit script   -connect 127.0.0.1:389 -starttls ldap
capture postgres     postgresql   127.0.0.1 5432 rogue postgres -connect 127.0.0.1:5432 -starttls postgres
capture mysql        mysql        127.0.0.1 3306 legit script   -connect 127.0.0.1:3306 -starttls mysql
capture nntp         nntp         127.0.0.1 119  rogue script   -connect 127.0.0.1:119 -starttls nntp
capture sieve        sieve        127.0.0.1 4190 legit script   -connect 127.0.0.1:4190 -starttls sieve
capture irc          irc          127.0.0.1 6667 rogue script   -connect 127.0.0.1:6667 -starttls irc
capture http-connect http-connect 127.0.0.1 3128 rogue script   -proxy 127.0.0.1:3128 -connect "$SNI:443"

# ------------------------------------------------------------ SOURCES.md
size() { stat -c %s "$1"; }
SECTION="$OUT/sources-section.md"
{
    echo "<!-- make-starttls.sh: begin -->"
    echo "## STARTTLS captures: starttls-*.pcap"
    echo
    echo "Made by \`sudo samples/make-starttls.sh\`, last on $(date -u '+%Y-%m-%d %H:%M:%S UTC'),"
    echo "on $(. /etc/os-release && echo "$PRETTY_NAME") (kernel $(uname -sr)), with"
    echo
    echo "- $(openssl version) (\`openssl s_client\`, and \`openssl req\`/\`x509\` for the PKI)"
    echo "- $("$PYTHON" -c 'import ssl, sys; print("Python %s, ssl module on %s" % (sys.version.split()[0], ssl.OPENSSL_VERSION))') (\`samples/starttls-server.py\`)"
    echo "- ${PG_VERSION:-PostgreSQL} (Debian package, for starttls-postgres.pcap)"
    echo "- $(tcpdump --version 2>&1 | head -n 1), $(tcpdump --version 2>&1 | sed -n 2p)"
    echo
    echo "One TCP connection per file, captured in a private network namespace"
    echo "(tlsentry-starttls-<pid>) on its \`lo\` (MTU 1500, GSO off as in"
    echo "make-samples.sh) with \`tcpdump -i lo --immediate-mode -U -s 0 -w FILE 'tcp port PORT'\`."
    echo "The client is always"
    echo
    echo "    openssl s_client -connect ADDR:PORT -starttls MODE -servername $SNI -tls1_2 -showcerts [-ign_eof] </dev/null"
    echo
    echo "(\`-name client.example.org\` for smtp and lmtp, \`-xmpphost example.net\` for xmpp,"
    echo "\`-proxy 127.0.0.1:3128 -connect $SNI:443\` instead of \`-starttls\` for http-connect)."
    echo "Servers: the real Debian PostgreSQL for postgres (a throwaway cluster made"
    echo "with \`initdb\` as user postgres, \`ssl = on\` with the chain below as"
    echo "\`ssl_cert_file\`, stopped and removed afterwards; the client closes after the"
    echo "handshake, since the server waits for a StartupMessage); for the others"
    echo "\`samples/starttls-server.py MODE ADDR PORT CHAIN KEY\`, which speaks the"
    echo "protocol's cleartext dialogue up to the go-ahead (the RFC sections are in the"
    echo "script) and then runs the TLS handshake with Python's \`ssl\` module, sends one"
    echo "line, sends close_notify and waits for the client's (\`-ign_eof\`). For"
    echo "http-connect the script plays an intercepting proxy: it answers CONNECT with 200"
    echo "and terminates TLS itself. Every connection completed a TLS 1.2 handshake and"
    echo "closed with a FIN from each side and no RST (checked with tshark); the client's"
    echo "\`-showcerts\` output was checked to hold the leaf the server was given."
    echo
    echo "Certificates: a throwaway PKI with the subjects of make-samples.sh (its keys"
    echo "are not kept, so these are new keys and new certificates), public parts in"
    echo "\`certs-starttls/\`. \"legit\": leaf www.icloud.com + \"Apple Public Server RSA CA"
    echo "12 - G1\" (issued by \"Apple Root CA - Sample\"); \"rogue\": leaf www.icloud.com +"
    echo "\"Rogue Interception CA\". With \`watch.rules\` the legit ones are issuer-ok, the"
    echo "rogue ones unexpected-issuer."
    echo
    echo "| file | protocol | server | chain | server software |"
    echo "| --- | --- | --- | --- | --- |"
    local_row() {
        local name proto to chain server
        IFS='|' read -r name proto to chain server <<<"$1"
        printf '| starttls-%s.pcap (%s bytes) | %s | %s | %s | %s |\n' "$name" \
            "$(size "$OUT/starttls-$name.pcap")" "$proto" "$to" "$chain" \
            "$([[ $server == postgres ]] && echo 'PostgreSQL (Debian)' || echo 'starttls-server.py')"
    }
    for r in "${ROWS[@]}"; do local_row "$r"; done
    echo
    echo "\`starttls.truth.tsv\`: one row per connection: capture file, the name"
    echo "\`starttls_protocol()\` must give, client and server address and port (the"
    echo "client port read back with tshark), SNI, negotiated version, number of"
    echo "certificates sent, leaf SHA-256 (\`openssl x509 -outform DER | sha256sum\` of"
    echo "the file the server used), leaf issuer (RFC 2253) and the verdict expected"
    echo "with \`watch.rules\`."
    echo
    echo '```'
    cat "$TRUTH"
    echo '```'
    echo "<!-- make-starttls.sh: end -->"
} > "$SECTION"

# ------------------------------------------------------------ install outputs
log "installing results into $SAMPLES_DIR"
rm -rf "$SAMPLES_DIR/certs-starttls"
mv "$OUT/certs-starttls" "$SAMPLES_DIR/certs-starttls"
rm -f "$SAMPLES_DIR"/starttls-*.pcap
mv -f "$OUT"/starttls-*.pcap "$TRUTH" "$SAMPLES_DIR/"
# replace the section in SOURCES.md (or append it)
SRC="$SAMPLES_DIR/SOURCES.md"
touch "$SRC"
awk -v sect="$SECTION" '
    /^<!-- make-starttls.sh: begin -->/ { skip = 1; while ((getline l < sect) > 0) print l; done = 1; next }
    /^<!-- make-starttls.sh: end -->/ { skip = 0; next }
    !skip { print }
    END { if (!done) { print ""; while ((getline l < sect) > 0) print l } }
' "$SRC" > "$OUT/SOURCES.md"
mv -f "$OUT/SOURCES.md" "$SRC"
chmod 644 "$SAMPLES_DIR"/starttls-*.pcap "$SAMPLES_DIR/starttls.truth.tsv" "$SRC" \
    "$SAMPLES_DIR"/certs-starttls/*.pem
chmod 755 "$SAMPLES_DIR/certs-starttls"
log "done"
ls -l "$SAMPLES_DIR"/starttls-*.pcap >&2
