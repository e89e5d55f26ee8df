#!/usr/bin/env bash
# make-quic.sh -- regenerate samples/quic-chromium.pcap from a real QUIC stack.
#
# Usage:   sudo samples/make-quic.sh          (must run as root)
#
# What it does
#   * Creates a private network namespace (tlsentry-quic-<pid>) whose only
#     interface is its own loopback: no packet can leave it.  It is deleted
#     on exit (trap on EXIT), with every process this script started.
#   * Makes a throwaway self-signed P-256 certificate for www.icloud.com in a
#     temp dir (the key never leaves it) and serves a small page with
#     ngtcp2's HTTP/3 example server (Debian package ngtcp2-server,
#     /usr/sbin/gtlsserver) on 127.0.0.1:443, and with address validation
#     (-V: every first Initial gets a Retry) on 127.0.0.1:8443.
#   * Runs headless chromium once per port, forced to QUIC for www.icloud.com
#     mapped to 127.0.0.1, trusting only that certificate's key
#     (--ignore-certificate-errors-spki-list), with a fresh profile each time
#     (no resumption, no 0-RTT), while tcpdump records the long-header UDP
#     packets of both ports (filter 'udp[8] & 0x80 != 0': Initial, Handshake
#     and Retry packets; short-header 1-RTT packets are left out to keep the
#     file small).
#   * Reads the capture back with tshark (SNI, ALPN, ServerHello cipher,
#     Retry count, and how many client Initial packets carry CRYPTO frames
#     up to the one where tshark completes the ClientHello) and writes the
#     truth file; fails if a connection is missing or its page did not load.
#
# Outputs (in samples/, replaced only when everything succeeded)
#   quic-chromium.pcap        two QUIC connections, see SOURCES.md
#   quic-chromium.truth.tsv   one row per connection (tests/test_quic.c reads it)
#   SOURCES.md                the section between the make-quic.sh markers
#
# Debugging: KEEP_TMP=1 keeps the temp dir (key, logs, unfinished output).
# Dependencies: bash, iproute2, coreutils, openssl, tcpdump, tshark, chromium,
# ngtcp2-server; missing ones are installed with apt-get (Debian 12).
set -euo pipefail

if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    echo "make-quic.sh: must run as root (sudo $0)" >&2
    exit 1
fi

SAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS="tlsentry-quic-$$"
TMP=""
BG_PIDS=()
SNI=www.icloud.com

log() { printf '[make-quic] %s\n' "$*" >&2; }
die() { printf '[make-quic] ERROR: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$? pid
    set +e
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${BG_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    if [[ -e /run/netns/$NS ]]; then
        # anything still running in the namespace was started by this script
        for pid in $(ip netns pids "$NS" 2>/dev/null); do kill "$pid" 2>/dev/null; done
        sleep 0.2
        ip netns del "$NS" 2>/dev/null || log "could not delete namespace $NS"
    fi
    if [[ -n $TMP && -d $TMP ]]; then
        if [[ ${KEEP_TMP:-0} == 1 ]]; then
            log "KEEP_TMP=1: leaving $TMP (contains a private key; delete it yourself)"
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
need=()
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v tcpdump >/dev/null 2>&1 || need+=(tcpdump)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[[ -x /usr/sbin/gtlsserver ]] || need+=(ngtcp2-server)
if [[ ${#need[@]} -gt 0 ]]; then
    log "installing missing packages: ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
for tool in ip timeout base64 sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found"
done

# Namespaces of earlier runs killed hard (SIGKILL skips the trap): remove
# those whose creator is gone and that have no process left.
while read -r stale _; do
    [[ $stale =~ ^tlsentry-quic-([0-9]+)$ ]] || continue
    if ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null && [[ -z $(ip netns pids "$stale" 2>/dev/null) ]]; then
        log "removing stale namespace $stale"
        ip netns del "$stale" || true
    fi
done < <(ip netns list 2>/dev/null)

TMP=$(mktemp -d /tmp/tlsentry-quic.XXXXXX)
chmod 700 "$TMP"
mkdir -p "$TMP/www" "$TMP/logs" "$TMP/out"
printf '<html><body>hello over QUIC from the tlsentry sample server</body></html>\n' \
    > "$TMP/www/index.html"

# ------------------------------------------------------------ key, namespace
log "throwaway certificate for $SNI"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -subj "/CN=$SNI" \
    -addext "subjectAltName=DNS:$SNI" 2>"$TMP/logs/openssl.log"
SPKI=$(openssl x509 -in "$TMP/cert.pem" -noout -pubkey | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)

ip netns add "$NS"
ip -n "$NS" link set lo up
[[ $(ip -n "$NS" -o link show | wc -l) -eq 1 ]] || die "namespace $NS has more than lo"

PCAP="$TMP/out/quic-chromium.pcap"
TRUTH="$TMP/out/quic-chromium.truth.tsv"
tsh() { tshark -r "$PCAP" "$@" 2>>"$TMP/logs/tshark.log"; }

# capture_once: both connections under a fresh tcpdump, into $PCAP
capture_once() {
    local tcpdump_pid
    rm -f "$PCAP" "$TMP/logs/tcpdump.log"
    rm -rf "$TMP"/profile-*
    ip netns exec "$NS" tcpdump -i lo --immediate-mode -U -s 0 -w "$PCAP" \
        'udp and (port 443 or port 8443) and udp[8] & 0x80 != 0' 2>"$TMP/logs/tcpdump.log" &
    tcpdump_pid=$!
    BG_PIDS+=("$tcpdump_pid")
    for _ in $(seq 50); do
        grep -q 'listening on' "$TMP/logs/tcpdump.log" 2>/dev/null && break
        kill -0 "$tcpdump_pid" 2>/dev/null || die "tcpdump died: $(cat "$TMP/logs/tcpdump.log")"
        sleep 0.1
    done
    grep -q 'listening on' "$TMP/logs/tcpdump.log" || die "tcpdump did not start"
    sleep 0.5
    connection 443
    connection 8443 -V
    sleep 1
    kill -INT "$tcpdump_pid"
    wait "$tcpdump_pid" 2>/dev/null || true
}

# connection PORT [SERVER_OPTIONS...]: one server, one chromium page load
connection() {
    local port=$1 spid; shift
    ip netns exec "$NS" /usr/sbin/gtlsserver "$@" -d "$TMP/www" --no-quic-dump \
        --no-http-dump 127.0.0.1 "$port" "$TMP/key.pem" "$TMP/cert.pem" \
        >"$TMP/logs/server-$port.log" 2>&1 &
    spid=$!
    BG_PIDS+=("$spid")
    sleep 1
    kill -0 "$spid" 2>/dev/null || die "gtlsserver on $port died: $(tail -3 "$TMP/logs/server-$port.log")"
    log "chromium -> https://$SNI:$port/ over QUIC (127.0.0.1, namespace $NS)"
    timeout 60 ip netns exec "$NS" chromium --headless --no-sandbox --disable-gpu \
        --no-first-run --user-data-dir="$TMP/profile-$port" --enable-quic \
        --origin-to-force-quic-on="$SNI:$port" \
        --host-resolver-rules="MAP $SNI 127.0.0.1" \
        --ignore-certificate-errors-spki-list="$SPKI" \
        --dump-dom "https://$SNI:$port/" >"$TMP/logs/dom-$port.html" 2>"$TMP/logs/chromium-$port.log" ||
        die "chromium failed on $port: $(grep -v dbus "$TMP/logs/chromium-$port.log" | tail -3)"
    grep -q 'hello over QUIC' "$TMP/logs/dom-$port.html" ||
        die "the page did not load over QUIC on $port: $(grep -v dbus "$TMP/logs/chromium-$port.log" | tail -3)"
    kill "$spid" 2>/dev/null || true
    wait "$spid" 2>/dev/null || true
    sleep 0.5
}

# truth_once: the truth file from tshark; fails if tshark did not decode a hello
truth_once() {
    local port cport flow sni alpn ch_frame ch_initials version cipher retries
    printf '#sni\talpn\tch_initials\tversion\tclient_port\tserver_port\tsh_cipher\tretries\n' \
        >"$TRUTH"
    for port in 443 8443; do
        cport=$(tsh -Y "udp.dstport==$port" -T fields -e udp.srcport | head -1)
        [[ -n $cport ]] || die "no packet to port $port in the capture"
        flow="udp.port==$cport && udp.port==$port"
        sni=$(tsh -Y "$flow && tls.handshake.type==1" -T fields \
            -e tls.handshake.extensions_server_name | head -1)
        alpn=$(tsh -Y "$flow && tls.handshake.type==1" -T fields \
            -e tls.handshake.extensions_alpn_str | head -1 | cut -d, -f1)
        ch_frame=$(tsh -Y "$flow && tls.handshake.type==1" -T fields -e frame.number | head -1)
        version=$(tsh -Y "$flow && tls.handshake.type==1" -T fields -e quic.version |
            head -1 | cut -d, -f1)
        cipher=$(tsh -Y "$flow && tls.handshake.type==2" -T fields \
            -e tls.handshake.ciphersuite | head -1)
        retries=$(tsh -Y "$flow && quic.long.packet_type==3" -T fields -e frame.number | wc -l)
        if [[ $sni != "$SNI" || -z $alpn || -z $version || -z $cipher || -z $ch_frame ]]; then
            log "port $port: tshark decoded no complete hello pair (sni '$sni' cipher '$cipher')"
            return 1
        fi
        # client Initial packets with CRYPTO frames up to the one completing the hello
        ch_initials=$(tsh -Y "$flow && udp.dstport==$port && quic.long.packet_type==0 && \
            quic.crypto.offset && frame.number <= $ch_frame" -T fields -e frame.number | wc -l)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$sni" "$alpn" "$ch_initials" \
            "$version" "$cport" "$port" "$cipher" "$retries" >>"$TRUTH"
    done
    [[ $(tail -n 1 "$TRUTH" | cut -f8) -ge 1 ]] || die "no Retry on port 8443"
}

# tshark 4.0 switches to the Retry's keys at once: when a Retry falls between
# chromium's two ClientHello datagrams it decodes neither hello of that
# connection, and the truth cannot come from it.  Such a capture is made again.
ATTEMPTS=0
while :; do
    ATTEMPTS=$((ATTEMPTS + 1))
    capture_once
    truth_once && break
    [[ $ATTEMPTS -lt 5 ]] || die "tshark decoded no hello pair in $ATTEMPTS captures"
    log "capturing again (attempt $((ATTEMPTS + 1)))"
done
CHROMIUM_VERSION=$(chromium --version 2>/dev/null | head -1)
NGTCP2_VERSION=$(dpkg-query -W -f='${Package} ${Version}' ngtcp2-server)
TCPDUMP_VERSION=$(tcpdump --version 2>&1 | head -1)
TSHARK_VERSION=$(tshark --version 2>/dev/null | head -1)
OS=$( (. /etc/os-release && printf '%s' "$PRETTY_NAME") 2>/dev/null || echo unknown)
NOW=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
NPKTS=$(tsh -T fields -e frame.number | wc -l)

# ------------------------------------------------------------ SOURCES.md section
SECTION="$TMP/out/section.md"
cat >"$SECTION" <<EOF
<!-- make-quic.sh: begin -->
## quic-chromium.pcap ($(stat -c %s "$PCAP") bytes, $NPKTS packets)

Made by \`sudo samples/make-quic.sh\` (not by make-samples.sh; this section is
kept when make-samples.sh rewrites this file). Last generated: $NOW, on $OS, with

- $CHROMIUM_VERSION, headless (the QUIC client)
- $NGTCP2_VERSION (\`/usr/sbin/gtlsserver\`, ngtcp2's HTTP/3 example server, GnuTLS)
- $TCPDUMP_VERSION; $TSHARK_VERSION (truth)

In a network namespace of its own (\`tlsentry-quic-<pid>\`, only \`lo\`, deleted
on exit) the script serves a small page from 127.0.0.1:443 and, with address
validation (\`-V\`, a Retry before every connection), from 127.0.0.1:8443,
under a throwaway self-signed P-256 certificate for $SNI. Chromium loads
each page once with a fresh profile:

    chromium --headless --no-sandbox --disable-gpu --no-first-run \\
        --user-data-dir=TMP/profile-PORT --enable-quic \\
        --origin-to-force-quic-on=$SNI:PORT \\
        --host-resolver-rules="MAP $SNI 127.0.0.1" \\
        --ignore-certificate-errors-spki-list=SPKI_SHA256 \\
        --dump-dom https://$SNI:PORT/

and the script checks that the page arrived ($ATTEMPTS capture(s) made this
time; see below). tcpdump records, classic pcap on
\`lo\` (EN10MB), only long-header packets (\`udp and (port 443 or port 8443)
and udp[8] & 0x80 != 0\`): Initial, Handshake and Retry packets, so the file
stays small. Chromium's ClientHello carries an X25519MLKEM768 key share and
does not fit one Initial packet: its CRYPTO frames are spread, out of order,
over two Initial datagrams.

\`quic-chromium.truth.tsv\` (tab-separated) is read back from the capture with
tshark: SNI, first ALPN, \`ch_initials\` = client Initial packets carrying
CRYPTO frames up to the one where tshark completes the ClientHello, QUIC
version, ports, the ServerHello's cipher suite and the number of Retry
packets. \`tests/test_quic.c\` checks parser/quic.c against it. tshark 4.0
switches to a Retry's keys at once, so when the Retry on 8443 falls between
chromium's two ClientHello datagrams it decodes neither hello of that
connection (parser/quic.c does, trying each key source); the script then
captures again, up to 5 times, so that the truth always comes from tshark.

\`\`\`
$(cat "$TRUTH")
\`\`\`
<!-- make-quic.sh: end -->
EOF

# ------------------------------------------------------------ install outputs
log "installing results into $SAMPLES_DIR"
if [[ -f $SAMPLES_DIR/SOURCES.md ]]; then
    # replace the old section (or append one) and keep everything else
    awk -v sec="$SECTION" '
        /^<!-- make-quic.sh: begin -->$/ { skip = 1; while ((getline l < sec) > 0) print l; done = 1; next }
        /^<!-- make-quic.sh: end -->$/ { skip = 0; next }
        !skip { print }
        END { if (!done) { print ""; while ((getline l < sec) > 0) print l } }
    ' "$SAMPLES_DIR/SOURCES.md" >"$TMP/out/SOURCES.md"
else
    cp "$SECTION" "$TMP/out/SOURCES.md"
fi
mv -f "$PCAP" "$SAMPLES_DIR/quic-chromium.pcap"
mv -f "$TRUTH" "$SAMPLES_DIR/quic-chromium.truth.tsv"
mv -f "$TMP/out/SOURCES.md" "$SAMPLES_DIR/SOURCES.md"
chown root:root "$SAMPLES_DIR/quic-chromium.pcap"  # tcpdump drops privileges
chmod 644 "$SAMPLES_DIR/quic-chromium.pcap" "$SAMPLES_DIR/quic-chromium.truth.tsv" \
    "$SAMPLES_DIR/SOURCES.md"
log "done:"
cat "$SAMPLES_DIR/quic-chromium.truth.tsv" >&2
