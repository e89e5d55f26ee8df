#!/usr/bin/env bash
# corpus-fp.sh CORPUS OUT.tsv: the JA3/JA3S oracle for tests/oracle.py, and
# the DTLS and QUIC handshakes (the corpus's own oracle leaves UDP out).
#
# Runs Wireshark's tshark (4.0 in Debian 12) over every capture in
# CORPUS/pcap with the reassembly options the corpus README lists, and
# writes one row per ClientHello and ServerHello (over TCP, DTLS, or in QUIC
# Initials): the capture, the hello's sender and receiver, tshark's JA3/JA3S
# string and hash; for UDP also the SNI (kind "sni") and the SHA-256 of the
# first certificate of every DTLS Certificate message (kind "cert", by its
# sender).  Rerun it (apt-get install tshark) when the corpus changes; the
# output is committed, the captures are not.
set -eu
corpus=${1:?usage: corpus-fp.sh CORPUS OUT.tsv}
out=${2:?usage: corpus-fp.sh CORPUS OUT.tsv}
opts=(-2 -n -o tcp.desegment_tcp_streams:TRUE -o tcp.reassemble_out_of_order:TRUE
      -o tcp.analyze_sequence_numbers:TRUE -o tls.desegment_ssl_records:TRUE
      -o tls.desegment_ssl_application_data:TRUE)
{
	printf '#file\tkind\tsrc_ip\tsrc_port\tdst_ip\tdst_port\tfull\thash\n'
	for f in "$corpus"/pcap/*; do
		name=$(basename "$f")
		{
		tshark "${opts[@]}" -r "$f" -Y 'tcp && (tls.handshake.type == 1 || tls.handshake.type == 2)' \
		    -T fields -E separator=/t -E occurrence=a -E aggregator='|' \
		    -e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport \
		    -e tls.handshake.ja3_full -e tls.handshake.ja3 \
		    -e tls.handshake.ja3s_full -e tls.handshake.ja3s -e frame.protocols \
		    -e tls.handshake.extensions_server_name 2>/dev/null | sed 's/$/\ttcp/'
		tshark "${opts[@]}" -r "$f" -Y 'udp && (dtls.handshake.type == 1 || dtls.handshake.type == 2 ||
		    dtls.handshake.type == 11)' \
		    -T fields -E separator=/t -E occurrence=a -E aggregator='|' \
		    -e ip.src -e ipv6.src -e udp.srcport -e ip.dst -e ipv6.dst -e udp.dstport \
		    -e dtls.handshake.ja3_full -e dtls.handshake.ja3 \
		    -e dtls.handshake.ja3s_full -e dtls.handshake.ja3s -e frame.protocols \
		    -e dtls.handshake.extensions_server_name -e dtls.handshake.certificate 2>/dev/null |
		    sed 's/$/\tdtls/'
		tshark "${opts[@]}" -r "$f" -Y 'quic && (tls.handshake.type == 1 || tls.handshake.type == 2)' \
		    -T fields -E separator=/t -E occurrence=a -E aggregator='|' \
		    -e ip.src -e ipv6.src -e udp.srcport -e ip.dst -e ipv6.dst -e udp.dstport \
		    -e tls.handshake.ja3_full -e tls.handshake.ja3 \
		    -e tls.handshake.ja3s_full -e tls.handshake.ja3s -e frame.protocols \
		    -e tls.handshake.extensions_server_name 2>/dev/null | sed 's/$/\tquic/'
		} |
		awk -F'\t' -v OFS='\t' -v file="$name" '
		function last(s,   a, n) { n = split(s, a, "|"); return a[n] }
		{
			# the innermost IP header names the connection (6in4, 4in6, IP-in-IP)
			np = split($11, proto, ":"); v6 = 0
			for (i = 1; i <= np; i++) { if (proto[i] == "ipv6") v6 = 1; else if (proto[i] == "ip") v6 = 0 }
			src = v6 ? last($2) : last($1); dst = v6 ? last($5) : last($4)
			n = split($7, full, "|"); split($8, hash, "|")
			for (i = 1; i <= n; i++) if (full[i] != "") print file, "ja3", src, $3, dst, $6, full[i], hash[i]
			n = split($9, full, "|"); split($10, hash, "|")
			for (i = 1; i <= n; i++) if (full[i] != "") print file, "ja3s", src, $3, dst, $6, full[i], hash[i]
			if ($NF == "tcp") next
			if ($12 != "") { split($12, sni, "|"); print file, "sni", src, $3, dst, $6, sni[1], "-" }
			if ($NF == "dtls" && $13 != "") {
				# the first certificate of each Certificate message, hex with colons
				n = split($13, certs, "|")
				for (i = 1; i <= n; i++) if (certs[i] != "") print file, "cert", src, $3, dst, $6, certs[i], "-"
			}
		}'
	done
} >"$out"
