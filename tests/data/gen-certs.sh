#!/usr/bin/env bash
# gen-certs.sh: the certificates test_cert.c decodes, and what openssl's own
# command line says about them (cert-*.expect), so the test compares
# tlsentry's decoding with an independent reading.  Re-run to regenerate;
# private keys are thrown away.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# 1. RSA leaf signed by a small CA: SANs of every kind we report
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days 3650 \
  -subj "/C=US/O=Test Trust, Inc./OU=Unit Tests/CN=Test Issuing CA 1" -set_serial 1 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -keyout "$tmp/leaf.key" -out "$tmp/leaf.csr" \
  -subj "/C=DE/ST=Berlin/L=Berlin/O=Example GmbH/CN=www.example.test" 2>/dev/null
printf 'subjectAltName=DNS:www.example.test,DNS:*.api.example.test,IP:192.0.2.7,IP:2001:db8::7\n' > "$tmp/ext"
openssl x509 -req -in "$tmp/leaf.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -set_serial 0x0ABCDEF012 \
  -days 398 -sha256 -extfile "$tmp/ext" -outform DER -out cert-rsa.der 2>/dev/null

# 2. self-signed EC P-256 certificate, no SAN, SHA-384 signature
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tmp/ec.key" \
  -sha384 -days 30 -subj "/O=Self Signed Ltd/CN=ec.example.test" -set_serial 7 \
  -outform DER -out cert-ec.der 2>/dev/null

for c in cert-rsa cert-ec; do
  {
    echo "subject=$(openssl x509 -inform DER -in $c.der -noout -subject -nameopt RFC2253 | sed 's/^subject=//')"
    echo "issuer=$(openssl x509 -inform DER -in $c.der -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')"
    echo "serial=$(openssl x509 -inform DER -in $c.der -noout -serial | sed 's/^serial=//')"
    echo "sha256=$(openssl x509 -inform DER -in $c.der -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')"
    echo "sha1=$(openssl x509 -inform DER -in $c.der -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')"
    echo "pin=$(openssl x509 -inform DER -in $c.der -noout -pubkey | openssl pkey -pubin -outform DER | openssl dgst -sha256 -binary | base64)"
    echo "not_before=$(date -u -d "$(openssl x509 -inform DER -in $c.der -noout -startdate | sed 's/^notBefore=//')" +%Y-%m-%dT%H:%M:%S.000Z)"
    echo "not_after=$(date -u -d "$(openssl x509 -inform DER -in $c.der -noout -enddate | sed 's/^notAfter=//')" +%Y-%m-%dT%H:%M:%S.000Z)"
  } > $c.expect
done
