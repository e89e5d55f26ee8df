#!/usr/bin/env bash
# make-judge.sh -- captures for judging certificates and negotiations the way
# an analyst would (chain trust, host names, time, keys, pins, downgrades),
# each made with openssl s_server and s_client.
#
# Usage:   sudo samples/make-judge.sh          (must run as root)
#
# A throwaway PKI: "Judge Test Root" -> "Judge Test Intermediate" -> leaves,
# plus an unknown root, a self-signed leaf, a 1024-bit leaf, a SHA-1 signed
# leaf, a wildcard leaf, a leaf valid for two days only, one that expired in
# 2025, and one valid for 825 days.  The tests trust the root with
# --ca-bundle (or, for judge-public.pcap, as the "system" bundle through
# SSL_CERT_FILE, so the checks for publicly trusted leaves apply).
#
# Outputs (samples/, replaced only when everything succeeded):
#   judge.pcap           one connection per case below (server port = case)
#   judge-public.pcap    the 825-day leaf, judged as publicly trusted
#   judge-later.pcap     the two-day leaf, its timestamps moved 30 days on:
#                        valid today, expired at capture time
#   judge-earlier.pcap   the 2025 leaf, its timestamps moved back into its
#                        validity: expired today, valid at capture time
#   judge-learn-clean.pcap   learnme.test served as usual: TLS 1.2 for www and
#                        api (chain through the intermediate), TLS 1.3 for www
#   judge-learn-attack.pcap  learnme.test intercepted: www from the unknown
#                        root, www from a leaf the root signed itself (a
#                        valid chain, another issuer), www over TLS 1.3 from
#                        a server choosing ChaCha20 (another ServerHello),
#                        and one clean TLS 1.2 connection as before
#   judge.rules          the rules the test uses (pins computed here)
#   judge.truth.tsv      per connection: the findings and the alerts it must
#                        give (decided here, from what was made)
#   certs-judge/*.pem    the public certificates
set -euo pipefail
NAME=judge
SAMPLES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=capture-lib.sh
. "$SAMPLES_DIR/capture-lib.sh"
capture_setup openssl tcpdump tshark python3
mkdir -p "$OUT/certs-judge"

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
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:${ENV::SAN}
[ca_sect]
default_md = sha256
database = $ENV::PKI/index.txt
new_certs_dir = $ENV::PKI
serial = $ENV::PKI/serial
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
countryName = optional
organizationName = optional
EOF
export PKI SAN=unused
: >"$PKI/index.txt"
echo 1000 >"$PKI/serial"

root() {  # NAME SUBJECT
    openssl req -config "$PKI/ext.cnf" -x509 -new -newkey rsa:2048 -nodes -sha256 -days 3650 \
        -keyout "$PKI/$1.key" -out "$PKI/$1.pem" -subj "$2" -extensions ca 2>>"$LOGS/pki.log"
}
# leaf NAME CN SAN ISSUER DAYS [BITS] [DIGEST] [EXT]
leaf() {
    SAN=$3 openssl req -config "$PKI/ext.cnf" -new -newkey "rsa:${6:-2048}" -nodes -sha256 \
        -keyout "$PKI/$1.key" -out "$PKI/$1.csr" -subj "/CN=$2" 2>>"$LOGS/pki.log"
    SAN=$3 openssl x509 -req -in "$PKI/$1.csr" -"${7:-sha256}" -days "$5" -set_serial "0x$RANDOM$RANDOM" \
        -CA "$PKI/$4.pem" -CAkey "$PKI/$4.key" -extfile "$PKI/ext.cnf" -extensions "${8:-leaf}" \
        -out "$PKI/$1.pem" 2>>"$LOGS/pki.log"
}
log "generating the PKI"
# the root and the intermediate date from 2024, so a 2025 capture finds them valid
SAN=unused openssl req -config "$PKI/ext.cnf" -new -newkey rsa:2048 -nodes -sha256 \
    -keyout "$PKI/judge-root.key" -out "$PKI/judge-root.csr" -subj "/C=DE/O=Judge Test/CN=Judge Test Root" \
    2>>"$LOGS/pki.log"
SAN=unused openssl ca -batch -selfsign -config "$PKI/ext.cnf" -name ca_sect -keyfile "$PKI/judge-root.key" \
    -in "$PKI/judge-root.csr" -out "$PKI/judge-root.pem" -notext -startdate 20240101000000Z \
    -enddate 20361231000000Z -extfile "$PKI/ext.cnf" -extensions ca >>"$LOGS/pki.log" 2>&1
SAN=unused openssl req -config "$PKI/ext.cnf" -new -newkey rsa:2048 -nodes -sha256 \
    -keyout "$PKI/judge-int.key" -out "$PKI/judge-int.csr" -subj "/C=DE/O=Judge Test/CN=Judge Test Intermediate" \
    2>>"$LOGS/pki.log"
SAN=unused openssl ca -batch -config "$PKI/ext.cnf" -name ca_sect -cert "$PKI/judge-root.pem" \
    -keyfile "$PKI/judge-root.key" -in "$PKI/judge-int.csr" -out "$PKI/judge-int.pem" -notext \
    -startdate 20240101000000Z -enddate 20361231000000Z -extfile "$PKI/ext.cnf" -extensions ca \
    >>"$LOGS/pki.log" 2>&1
root unknown-root "/C=XX/O=Nobody Trusts Me/CN=Unknown Root"
leaf good good.judge.test good.judge.test judge-int 90
# one leaf for the cases about rules and negotiation rather than names
leaf multi rules.judge.test "$(printf '%s.judge.test, DNS:' pinned unpinned down fallback old null \
    hidden)rules.judge.test" judge-int 90
leaf wild '*.wild.judge.test' '*.wild.judge.test' judge-int 90
leaf stranger stranger.judge.test stranger.judge.test unknown-root 90
leaf weak weak.judge.test weak.judge.test judge-int 90 1024
leaf sha1 sha1.judge.test sha1.judge.test judge-int 90 2048 sha1
leaf twoday later.judge.test later.judge.test judge-int 2
leaf long public.judge.test public.judge.test judge-int 825
leaf lgood www.learnme.test "www.learnme.test, DNS:api.learnme.test" judge-int 90
leaf lroot www.learnme.test www.learnme.test judge-root 90
leaf lrogue www.learnme.test www.learnme.test unknown-root 90
SAN=self.judge.test openssl req -config "$PKI/ext.cnf" -x509 -new -newkey rsa:2048 -nodes -sha256 -days 90 \
    -keyout "$PKI/self.key" -out "$PKI/self.pem" -subj "/CN=self.judge.test" -extensions leaf \
    2>>"$LOGS/pki.log"
# a leaf that expired in 2025: openssl ca sets dates in the past
SAN=earlier.judge.test openssl req -config "$PKI/ext.cnf" -new -newkey rsa:2048 -nodes -sha256 \
    -keyout "$PKI/expired.key" -out "$PKI/expired.csr" -subj "/CN=earlier.judge.test" 2>>"$LOGS/pki.log"
SAN=earlier.judge.test openssl ca -batch -config "$PKI/ext.cnf" -name ca_sect -cert "$PKI/judge-int.pem" \
    -keyfile "$PKI/judge-int.key" -in "$PKI/expired.csr" -out "$PKI/expired.pem" -notext \
    -startdate 20250101000000Z -enddate 20250201000000Z -extfile "$PKI/ext.cnf" -extensions leaf \
    >>"$LOGS/pki.log" 2>&1
for c in judge-root judge-int unknown-root good multi wild stranger weak sha1 twoday long self expired \
    lgood lroot lrogue; do
    openssl x509 -in "$PKI/$c.pem" -out "$OUT/certs-judge/$c.pem"
done
pin() { openssl x509 -in "$PKI/$1.pem" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64; }

# ------------------------------------------------------------------ captures
INT=$PKI/judge-int.pem
L=(-cipher 'DEFAULT@SECLEVEL=0')		# let 1024-bit keys, SHA-1 and TLS 1.0 through
case_() {  # PORT LEAF SNI CHAIN SERVER_ARGS... -- CLIENT_ARGS...
    local port=$1 cert=$2 sni=$3 chain=$4
    shift 4
    local sargs=() cargs=()
    while [[ $# -gt 0 && $1 != -- ]]; do sargs+=("$1"); shift; done
    [[ $# -gt 0 ]] && shift
    cargs=("$@")
    serve "$port" 1 "$PKI/$cert.pem" "$PKI/$cert.key" "$chain" "${sargs[@]}"
    fetch "$port" "$sni" "${cargs[@]}"
    served
}

log "capturing judge.pcap"
start_capture "$OUT/judge.pcap"
case_ 4461 good good.judge.test "$INT" -- -tls1_2
case_ 4462 good other.judge.test "$INT" -- -tls1_2
case_ 4463 wild a.wild.judge.test "$INT" -- -tls1_2
case_ 4464 wild a.b.wild.judge.test "$INT" -- -tls1_2
case_ 4465 wild wild.judge.test "$INT" -- -tls1_2
case_ 4466 stranger stranger.judge.test "$PKI/unknown-root.pem" -- -tls1_2
case_ 4467 self self.judge.test - -- -tls1_2
case_ 4468 weak weak.judge.test "$INT" "${L[@]}" -- -tls1_2 "${L[@]}"
case_ 4469 sha1 sha1.judge.test "$INT" "${L[@]}" -- -tls1_2 "${L[@]}"
case_ 4470 multi pinned.judge.test "$INT" -- -tls1_2
case_ 4471 multi unpinned.judge.test "$INT" -- -tls1_2
case_ 4472 multi down.judge.test "$INT" -no_tls1_3 -- 
case_ 4473 multi fallback.judge.test "$INT" -no_tls1_3 -- -tls1_2 -fallback_scsv
case_ 4474 multi old.judge.test "$INT" "${L[@]}" -tls1 -- -tls1 "${L[@]}"
case_ 4475 multi null.judge.test "$INT" -cipher 'NULL-SHA256@SECLEVEL=0' -- -tls1_2 -cipher 'NULL-SHA256@SECLEVEL=0'
case_ 4476 multi hidden.judge.test "$INT" -- -tls1_3
stop_capture

log "capturing judge-public.pcap, judge-later.pcap, judge-earlier.pcap"
start_capture "$OUT/judge-public.pcap"
case_ 4481 long public.judge.test "$INT" -- -tls1_2
stop_capture
start_capture "$TMP/later.pcap"
case_ 4482 twoday later.judge.test "$INT" -- -tls1_2
stop_capture
start_capture "$TMP/earlier.pcap"
case_ 4483 expired earlier.judge.test "$INT" -- -tls1_2
stop_capture

log "capturing judge-learn-clean.pcap, judge-learn-attack.pcap"
start_capture "$OUT/judge-learn-clean.pcap"
case_ 4491 lgood www.learnme.test "$INT" -- -tls1_2
case_ 4492 lgood api.learnme.test "$INT" -- -tls1_2
case_ 4493 lgood www.learnme.test "$INT" -- -tls1_3
stop_capture
start_capture "$OUT/judge-learn-attack.pcap"
case_ 4494 lrogue www.learnme.test "$PKI/unknown-root.pem" -- -tls1_2
case_ 4495 lroot www.learnme.test - -- -tls1_2
case_ 4496 lgood www.learnme.test "$INT" -ciphersuites TLS_CHACHA20_POLY1305_SHA256 -- -tls1_3
case_ 4497 lgood api.learnme.test "$INT" -- -tls1_2
stop_capture

# move timestamps: classic pcap, 24-byte file header, 16-byte record headers
shift_pcap() {  # IN OUT NEW_FIRST_EPOCH
    python3 - "$@" <<'PY'
import struct, sys
src, dst, first = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, "rb").read()
e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
out, off, delta = bytearray(data[:24]), 24, None
while off + 16 <= len(data):
    sec, frac, cap, wire = struct.unpack(e + "IIII", data[off:off + 16])
    if delta is None:
        delta = first - sec
    out += struct.pack(e + "IIII", sec + delta, frac, cap, wire) + data[off + 16:off + 16 + cap]
    off += 16 + cap
open(dst, "wb").write(out)
PY
}
shift_pcap "$TMP/later.pcap" "$OUT/judge-later.pcap" $(( $(date +%s) + 30 * 86400 ))
shift_pcap "$TMP/earlier.pcap" "$OUT/judge-earlier.pcap" "$(date -d 2025-01-15 +%s)"

# --------------------------------------------------------------------- rules
cat >"$OUT/judge.rules" <<EOF
# samples/judge.rules: written by make-judge.sh for tests/judge.sh
[defaults]
alert = untrusted-chain self-signed hostname-mismatch expired not-yet-valid weak-key weak-signature weak-cipher

[pinned]
domains = pinned.judge.test
pin-sha256 = $(pin judge-int)
[unpinned]
domains = unpinned.judge.test
pin-sha256 = $(pin unknown-root)
[down]
domains = down.judge.test fallback.judge.test
issuer = CN=Judge Test Intermediate
[old]
domains = old.judge.test null.judge.test
min-version = tls1.2
[hidden]
domains = hidden.judge.test
require-visible = yes
[public]
domains = public.judge.test
require-trusted = yes
EOF

# ------------------------------------------------------------- ground truth
# capture, server port, client port, findings, alerts (both sorted; "-" none)
P=$OUT/judge.pcap
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$1")" "$2" "$(client_ports "$1" "$2")" "$3" "$4"; }
{
    printf '#capture\tserver_port\tclient_port\tfindings\talerts\n'
    row "$P" 4461 - -
    row "$P" 4462 hostname-mismatch hostname-mismatch
    row "$P" 4463 - -
    row "$P" 4464 hostname-mismatch hostname-mismatch
    row "$P" 4465 hostname-mismatch hostname-mismatch
    row "$P" 4466 untrusted-chain untrusted-chain
    row "$P" 4467 self-signed self-signed
    row "$P" 4468 weak-key weak-key
    row "$P" 4469 weak-signature weak-signature
    row "$P" 4470 - -
    row "$P" 4471 pin-mismatch pin-mismatch
    row "$P" 4472 downgrade downgrade
    row "$P" 4473 downgrade downgrade
    row "$P" 4474 obsolete-version obsolete-version
    row "$P" 4475 weak-cipher weak-cipher
    row "$P" 4476 certificate-not-visible certificate-not-visible
    row "$OUT/judge-public.pcap" 4481 long-validity,missing-sct -
    row "$OUT/judge-later.pcap" 4482 expired expired
    row "$OUT/judge-earlier.pcap" 4483 - -
} >"$OUT/judge.truth.tsv"
[[ $(grep -vc '^#' "$OUT/judge.truth.tsv") -eq 19 ]] || die "a case is missing from the truth"
awk -F'\t' '!/^#/ && $3 !~ /^[0-9]+$/ { exit 1 }' "$OUT/judge.truth.tsv" ||
    die "a case has no single client port"

rm -rf "$SAMPLES_DIR/certs-judge"
mv "$OUT/certs-judge" "$SAMPLES_DIR/certs-judge"
mv "$OUT"/judge*.pcap "$OUT/judge.rules" "$OUT/judge.truth.tsv" "$SAMPLES_DIR/"
log "done: $(grep -vc '^#' "$SAMPLES_DIR/judge.truth.tsv") connections"
