#!/usr/bin/env python3
"""oracle.py: tlsentry against an independent oracle.

  oracle.py --bin ./tlsentry --corpus ../shared/corpus
      Runs tlsentry on every capture in CORPUS/pcap and compares its handshake
      events with the tshark oracle in CORPUS/expected (see its README):
      per server certificate row, the SNI, negotiated version, chain length,
      leaf SHA-256, leaf issuer and subject; per ClientHello row, the SNI.
      Prints the agreement per file and in total.  Checks: every capture
      runs cleanly; no row is misread (an event for the same connection with
      other values); rows the oracle is known to miss (tests/corpus-known.tsv,
      from the corpus README) are reported right; per-file agreement is not
      below tests/corpus.ratchet (which may only go up); overall certificate
      agreement is at least 90 %.

  oracle.py --bin ./tlsentry --truth T.tsv --pcap P.pcap [--rules R]
      The same comparison against a ground-truth file made with openssl when
      the capture was made (samples/*.truth.tsv).

Ends with "tests/oracle.py: N passed, N failed".
"""
import argparse
import collections
import hashlib
import json
import os
import subprocess
import sys

passed = failed = 0
FP_SEEN = {}    # connection -> {"ja3"|"ja3s": (string, hash)} of the last run


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}")
    return ok


def run_tlsentry(binary, pcap, rules=None, timeout=120, extra=(), quiet=True):
    cmd = [binary] + (["-q"] if quiet else []) + ["-r", pcap] + (["-R", rules] if rules else []) + list(extra)
    try:
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s", []
    events = []
    for line in p.stdout.decode("utf-8", "strict").splitlines():
        events.append(json.loads(line))
    return p.returncode, p.stderr.decode("utf-8", "replace"), events


def read_tsv(path):
    """Rows as dicts keyed by the header (its leading '#' dropped)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    if not lines:
        return []
    header = lines[0].lstrip("#").split("\t")
    return [dict(zip(header, l.split("\t"))) for l in lines[1:] if l and not l.startswith("#")]


def conn_key(d):
    return (d["client_ip"], str(d["client_port"]), d["server_ip"], str(d["server_port"]))


def event_rows(events):
    """What tlsentry reported, in the oracle's vocabulary, per connection."""
    certs, hellos, ja3 = {}, collections.Counter(), {}
    for e in events:
        if e["event"]["kind"] != "event":
            continue
        key = (e["source"]["ip"], str(e["source"]["port"]),
               e["destination"]["ip"], str(e["destination"]["port"]))
        t, x = e["tls"], e["tlsentry"]
        sni = t.get("client", {}).get("server_name", "-")
        for _ in range(x.get("client_hellos", 0)):
            hellos[key + (sni,)] += 1
        if "ja3" in t.get("client", {}):
            ja3[key] = t["client"]["ja3"]
        fps = {}
        if "ja3" in t.get("client", {}):
            fps["ja3"] = (x["client"].get("ja3_string"), t["client"]["ja3"])
        if "ja3s" in t.get("server", {}):
            fps["ja3s"] = (x.get("server", {}).get("ja3s_string"), t["server"]["ja3s"])
        if "ja4" in t.get("client", {}):
            fps["ja4"] = t["client"]["ja4"]
        if "server_name" in t.get("client", {}):
            fps["sni"] = (t["client"]["server_name"], "-")
        if "hash" in t.get("server", {}):
            fps["cert_server"] = (t["server"]["hash"]["sha256"].lower(), "-")
        if "hash" in t.get("client", {}):
            fps["cert_client"] = (t["client"]["hash"]["sha256"].lower(), "-")
        FP_SEEN[key] = fps
        if "hash" in t.get("server", {}):
            s = t["server"]
            certs[key] = {
                "sni": sni,
                "tls_version_negotiated": x.get("version_code", "-"),
                "version": x.get("version_code", "-"),
                "chain_length": str(x.get("chain_length", "-")),
                "leaf_sha256": s["hash"]["sha256"].lower(),
                "leaf_issuer": s.get("issuer") or "-",
                "leaf_subject": s.get("subject") or "-",
            }
    return certs, hellos, ja3


def compare_certs(rows, got, label):
    """(matched, misread) for expected certificate rows."""
    matched = misread = 0
    for r in rows:
        g = got.get(conn_key(r))
        if g is None:
            print(f"  {label}: missed {conn_key(r)} sni={r['sni']}")
            continue
        diffs = [f"{k}: got {g[k]!r}, expected {r[k]!r}" for k in r
                 if k in g and k not in ("client_ip", "client_port", "server_ip", "server_port")
                 and g[k] != r[k]]
        if diffs:
            misread += 1
            print(f"  {label}: MISREAD {conn_key(r)}: " + "; ".join(diffs))
        else:
            matched += 1
    return matched, misread


def compare_fps(rows, known, fname, seen):
    """(equal, total) for tshark's JA3/JA3S rows of one capture: the last
    hello per connection and kind, string and hash both.  A difference not
    in tests/corpus-fp-known.tsv fails."""
    last = {}
    clients = {(r["src_ip"], r["src_port"]) for r in rows if r["kind"] in ("ja3", "sni")}
    for r in rows:
        kind, full = r["kind"], r["full"]
        from_client = (r["src_ip"], r["src_port"]) in clients
        if kind == "cert":              # a DTLS Certificate: the server's, or mutual TLS
            kind = "cert_client" if from_client else "cert_server"
            full = hashlib.sha256(bytes.fromhex(full.replace(":", ""))).hexdigest()
        if from_client:
            k = (r["src_ip"], r["src_port"], r["dst_ip"], r["dst_port"])
        else:
            k = (r["dst_ip"], r["dst_port"], r["src_ip"], r["src_port"])
        if kind == "cert_server" and (kind,) + k in last:
            continue                    # the first chain is the one judged
        last[(kind,) + k] = (full, r["hash"])
    equal = 0
    for (kind, *k), want in sorted(last.items()):
        got = FP_SEEN.get(tuple(k), {}).get(kind)
        if got == want:
            equal += 1
            continue
        why = known.get((fname, kind, k[0], k[1]))
        what = f"{fname}: {kind} of {tuple(k)}: got {got}, tshark {want}"
        if why is not None:
            seen.add((fname, kind, k[0], k[1]))
            print(f"  known difference (right: {why['who_is_right']}): {what[:200]}")
        else:
            check(False, what[:600])
    return equal, len(last)


def corpus(args):
    pcaps = os.path.join(args.corpus, "pcap")
    if not os.path.isdir(pcaps):
        print(f"note: corpus {args.corpus} not found: the comparison with the tshark oracle "
              f"was skipped (the corpus sits beside the checkout on CI)")
        return
    here = os.path.dirname(os.path.abspath(__file__))
    ratchet = {}
    with open(os.path.join(here, "corpus.ratchet")) as f:
        for l in f:
            if l.strip() and not l.startswith("#"):
                name, c, h, j = l.split()
                ratchet[name] = (int(c), int(h), int(j))
    known = collections.defaultdict(list)
    for r in read_tsv(os.path.join(here, "corpus-known.tsv")):
        known[r["file"]].append(r)

    tot_c = tot_cm = tot_h = tot_hm = tot_j = tot_jm = tot_f = tot_fm = 0
    fp_rows = collections.defaultdict(list)
    for r in read_tsv(os.path.join(here, "corpus-fp.tsv")):
        fp_rows[r["file"]].append(r)
    fp_known = {(r["file"], r["kind"], r["client_ip"], r["client_port"]): r
                for r in read_tsv(os.path.join(here, "corpus-differences.tsv"))}
    differences_seen = set()
    ja4_rows = collections.defaultdict(list)
    for r in read_tsv(os.path.join(here, "corpus-ja4.tsv")):
        ja4_rows[r["file"]].append(r)
    for fname in sorted(os.listdir(pcaps)):
        name = fname.rsplit(".", 1)[0]
        rc, err, events = run_tlsentry(args.bin, os.path.join(pcaps, fname))
        if not check(rc == 0, f"{fname}: exit status {rc}: {err.strip()[:300]}"):
            continue
        FP_SEEN.clear()
        got_c, got_h, got_j = event_rows(events)
        fm, ft = compare_fps(fp_rows.get(fname, []), fp_known, fname, differences_seen)
        for r in ja4_rows.get(fname, []):       # JA4 as FoxIO's own tool computes it
            got = [v.get("ja4") for k, v in FP_SEEN.items() if k[1] == r["client_port"]]
            check(got == [r["ja4"]], f"{fname}: JA4 of client port {r['client_port']} is {got}, "
                  f"FoxIO's ja4 says {r['ja4']}")
        tot_f += ft; tot_fm += fm
        exp_dir = os.path.join(args.corpus, "expected")
        rows = read_tsv(os.path.join(exp_dir, name + ".tsv"))
        matched, misread = compare_certs(rows, got_c, name)
        check(misread == 0, f"{name}: {misread} certificate rows misread")
        hello_rows = read_tsv(os.path.join(exp_dir, name + ".hello.tsv"))
        exp_h = collections.Counter(conn_key(r) + (r["sni"],) for r in hello_rows)
        hm = sum((exp_h & got_h).values())
        # JA3 of the connection's last ClientHello (the one tlsentry reports)
        last = {conn_key(r): r["ja3"] for r in hello_rows}
        exp_j = {k: v for k, v in last.items() if v != "-"}
        jm = sum(1 for k, v in exp_j.items() if got_j.get(k) == v)
        for k, v in exp_j.items():
            if k in got_j and got_j[k] != v:
                check(False, f"{name}: JA3 of {k} is {got_j[k]}, oracle says {v}")
        for k in exp_h - got_h:
            dk = (fname, "hello", k[0], k[1])
            if dk in fp_known:
                differences_seen.add(dk)
                print(f"  known difference (right: {fp_known[dk]['who_is_right']}): "
                      f"{name}: ClientHello not reported: {k}")
            else:
                check(False, f"{name}: ClientHello not reported: {k}")
        for r in known.get(name, []):
            k_matched, k_misread = compare_certs([r], got_c, name + " (oracle misses it)")
            check(k_matched == 1, f"{name}: known row {conn_key(r)} not reported right")
        print(f"{name}: certificates {matched}/{len(rows)}, hellos {hm}/{sum(exp_h.values())}, "
              f"ja3 {jm}/{len(exp_j)}")
        if name in ratchet:
            c_min, h_min, j_min = ratchet[name]
            check(matched >= c_min, f"{name}: {matched} certificate rows, ratchet says {c_min}")
            check(hm >= h_min, f"{name}: {hm} hello rows, ratchet says {h_min}")
            check(jm >= j_min, f"{name}: {jm} JA3 values, ratchet says {j_min}")
        tot_c += len(rows); tot_cm += matched
        tot_h += sum(exp_h.values()); tot_hm += hm
        tot_j += len(exp_j); tot_jm += jm
    pct = 100.0 * tot_cm / tot_c if tot_c else 100.0
    print(f"corpus total: certificates {tot_cm}/{tot_c} ({pct:.1f} %), "
          f"hellos {tot_hm}/{tot_h} ({100.0 * tot_hm / max(tot_h, 1):.1f} %), "
          f"ja3 {tot_jm}/{tot_j} ({100.0 * tot_jm / max(tot_j, 1):.1f} %)")
    check(pct >= 90.0, f"certificate agreement {pct:.1f} % is below 90 %")
    for dk in sorted(set(fp_known) - differences_seen):
        check(False, f"tests/corpus-differences.tsv lists {dk}, which no longer differs")
    print(f"corpus total: JA3/JA3S strings and hashes, DTLS and QUIC SNI and certificates "
          f"equal to tshark's: {tot_fm}/{tot_f} "
          f"({100.0 * tot_fm / max(tot_f, 1):.1f} %)")


def feature_ok(e, feature, value):
    """Does handshake event e show this feature (samples/features.truth.tsv)?"""
    t, x = e["tls"], e["tlsentry"]
    if feature == "client_certificate_sha256":
        return t.get("client", {}).get("hash", {}).get("sha256", "").lower() == value
    if feature == "ocsp_status":
        o = x.get("ocsp", {})
        return o.get("status") == value and o.get("for_leaf") is True
    if feature == "resumed":
        if value == "no":
            return t["resumed"] is False and "resumption" not in x
        return t["resumed"] is True and x.get("resumption", {}).get("method") == value
    if feature == "ech":
        return (x.get("ech") is True and "domain" not in e["destination"] and
                x.get("ech_public_name") == t["client"].get("server_name"))
    if feature == "hello_retry":
        return x.get("hello_retry") is True and x.get("client_hellos") == 2
    return False


def features(args, rows, events):
    """samples/features.truth.tsv: one feature per connection, by client port."""
    for r in rows:
        evs = [e for e in events if e["event"]["kind"] == "event" and
               str(e["source"]["port"]) == r["client_port"] and
               str(e["destination"]["port"]) == r["server_port"]]
        if check(len(evs) == 1, f"{r['server_port']}/{r['client_port']}: one handshake event, "
                 f"got {len(evs)}"):
            check(feature_ok(evs[0], r["feature"], r["value"]),
                  f"{r['server_port']}/{r['client_port']}: {r['feature']} should be {r['value']}: "
                  f"got tls={json.dumps(evs[0]['tls'])[:300]} tlsentry={json.dumps(evs[0]['tlsentry'])[:400]}")
    print(f"{os.path.basename(args.truth)}: {len(rows)} connections checked")


TLS13_CIPHERS = {"0x1301": "TLS_AES_128_GCM_SHA256", "0x1302": "TLS_AES_256_GCM_SHA384",
                 "0x1303": "TLS_CHACHA20_POLY1305_SHA256"}


def quic_truth(args, rows, events):
    """samples/quic-*.truth.tsv (from tshark): one QUIC handshake per row."""
    for r in rows:
        evs = [e for e in events if e["event"]["kind"] == "event" and
               str(e["source"]["port"]) == r["client_port"] and
               str(e["destination"]["port"]) == r["server_port"]]
        what = f"QUIC {r['client_port']}->{r['server_port']}"
        if not check(len(evs) == 1, f"{what}: one handshake event, got {len(evs)}"):
            continue
        e = evs[0]
        t, x = e["tls"], e["tlsentry"]
        check(e["network"]["transport"] == "udp" and e["network"]["protocol"] == "quic",
              f"{what}: network {e['network']}")
        check(t["client"].get("server_name") == r["sni"], f"{what}: SNI {t['client'].get('server_name')}")
        check(x["client"].get("alpn", [None])[0] == r["alpn"], f"{what}: ALPN {x['client'].get('alpn')}")
        check(x.get("quic_version") == r["version"], f"{what}: QUIC version {x.get('quic_version')}")
        check(t.get("cipher") == TLS13_CIPHERS.get(r["sh_cipher"]), f"{what}: cipher {t.get('cipher')}")
        check(t.get("version") == "1.3" and x["certificate_visible"] is False,
              f"{what}: TLS 1.3 with the certificate not visible")
        check(t["client"].get("ja4", "").startswith("q13"), f"{what}: JA4 {t['client'].get('ja4')}")
    print(f"{os.path.basename(args.truth)}: {len(rows)} QUIC handshakes checked")


def truth(args):
    rows = read_tsv(args.truth)
    if rows and "ch_initials" in rows[0]:
        rc, err, events = run_tlsentry(args.bin, args.pcap, args.rules)
        check(rc == 0, f"{args.pcap}: exit status {rc}: {err.strip()[:300]}")
        quic_truth(args, rows, events)
        return
    if rows and "feature" in rows[0]:
        rc, err, events = run_tlsentry(args.bin, args.pcap, args.rules)
        check(rc == 0, f"{args.pcap}: exit status {rc}: {err.strip()[:300]}")
        features(args, rows, events)
        return
    # a truth file for several captures names each row's in a "capture" column
    rows = [r for r in rows if r.get("capture", os.path.basename(args.pcap))
            == os.path.basename(args.pcap)]
    rc, err, events = run_tlsentry(args.bin, args.pcap, args.rules)
    check(rc == 0, f"{args.pcap}: exit status {rc}: {err.strip()[:300]}")
    # The same handshake seen twice (both legs of a relay) is reported once:
    # a connection missing from the whole run must then be reported right
    # when it is read alone, and the run must have counted a duplicate.
    dup_run = "duplicate handshake" in run_tlsentry(args.bin, args.pcap, args.rules, quiet=False)[1]
    for r in rows:
        key = conn_key(r)
        if not any((e["source"]["ip"], str(e["source"]["port"]), e["destination"]["ip"],
                    str(e["destination"]["port"])) == key for e in events):
            alone = run_tlsentry(args.bin, args.pcap, args.rules,
                                 extra=["-f", f"port {r['client_port']} and port {r['server_port']}"])[2]
            check(dup_run and alone, f"{key}: not reported, and not as a duplicate of another leg")
            print(f"  {key}: reported once, as the same handshake seen on another leg; "
                  f"checked on its own")
            events = events + alone
    got_c, got_h, _ = event_rows(events)
    with_cert = [r for r in rows if r["leaf_sha256"] != "-"]
    matched, misread = compare_certs(with_cert, got_c, os.path.basename(args.pcap))
    check(matched == len(with_cert), f"{args.truth}: {matched}/{len(with_cert)} certificate rows")
    for r in rows:                      # every connection has its hello, and TLS 1.3 hides the chain
        k = conn_key(r)
        n_ch = 2 if r.get("hello_verify") == "1" else 1     # DTLS: a cookie exchange repeats it
        check(got_h.get(k + (r["sni"],), 0) == n_ch, f"{k}: {n_ch} ClientHello(s) with SNI {r['sni']}")
        if "hello_verify" in r:
            e = [e for e in events if e["event"]["kind"] == "event" and
                 (e["source"]["ip"], str(e["source"]["port"])) == k[:2]]
            check(len(e) == 1 and e[0]["network"]["protocol"] == "dtls" and
                  e[0]["tlsentry"].get("hello_verify_request", False) == (r["hello_verify"] == "1"),
                  f"{k}: DTLS, hello_verify_request as the truth says ({r['hello_verify']})")
        if r["leaf_sha256"] == "-":
            e = [e for e in events if e["event"]["kind"] == "event" and
                 (e["source"]["ip"], str(e["source"]["port"])) == k[:2]]
            check(len(e) == 1 and e[0]["tlsentry"]["certificate_visible"] is False
                  and e[0]["tlsentry"]["version_code"] == r["version"],
                  f"{k}: TLS 1.3 handshake reported with certificate_visible false")
    print(f"{os.path.basename(args.truth)}: certificates {matched}/{len(with_cert)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="./tlsentry")
    ap.add_argument("--corpus")
    ap.add_argument("--truth")
    ap.add_argument("--pcap")
    ap.add_argument("--rules")
    args = ap.parse_args()
    if args.corpus:
        corpus(args)
    if args.truth:
        truth(args)
    print(f"tests/oracle.py: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
