#!/usr/bin/python3
"""run.py: the benchmark runner of `make bench` (README, Performance).

For each set (A, A', B: captures written by benchgen into DIR) it times the
floor (a bare libpcap read loop) and each tool in alternating pairs (floor
first in even pairs, the tool first in odd ones), under GNU time for CPU
time and peak RSS, and prints the medians, the median of the per-pair
ratios tool/floor, and handshakes per second.  Every tlsentry run is checked
against the set's ground truth: each TLS connection reported exactly once
with its SNI, version, chain length and leaf SHA-256, and nothing else;
otherwise the run is a FAILURE and the exit status 1.  tshark, when it runs,
is checked the same way (SNI and leaf of every connection, from its fields),
which also checks the captures against their truth independently of
tlsentry.

  run.py [--sets A,A',B] [--runs 5] [--tools tlsentry,tshark,ndpi,tcpdump]
         [--args 'TLSENTRY OPTIONS'] [--dir build/bench] [--tlsentry ./tlsentry]
         [--floor build/bench/floor] [--report FILE]

Tools that are not installed are left out with a note.  Wall time is taken
here (monotonic clock around the process), CPU time (user + system) and
peak RSS (%M) by /usr/bin/time.
"""
import argparse
import hashlib
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

FILES = {"A": "A", "A'": "Aprime", "Aprime": "Aprime", "B": "B"}
# the default configuration: rules loaded, chains validated against the bench PKI's roots
DEFAULT_BASE = "-R tests/bench/bench.rules --ca-bundle tests/bench/seeds/certs/roots.pem"
BASE_ARGS = []
LOAD_START = (0.0, 0.0, 0.0)
# targets of issue 8, for tlsentry with default caps
TARGET_RATIO = {"A": 4.0, "A'": 8.0, "B": 1.0}
TARGET_RSS_KB = 64 * 1024


def note(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.strip().partition("=")
            meta[k] = v
    return meta


def read_truth(path):
    rows = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            c, cp, s, sp, sni, ver, chain, sha = line.rstrip("\n").split("\t")
            rows[(c, int(cp), s, int(sp))] = (sni, ver, chain, sha)
    return rows


def timed(cmd, stdout):
    """(wall s, cpu s, peak RSS kB, exit status) of cmd, its stdout to a file."""
    with tempfile.NamedTemporaryFile("r", prefix="bench-time.", delete=True) as tf:
        argv = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf.name] + cmd
        with open(stdout, "wb") as out:
            t0 = time.monotonic()
            p = subprocess.run(argv, stdout=out, stderr=subprocess.PIPE)
            wall = time.monotonic() - t0
        last = [ln for ln in tf.read().splitlines() if ln.strip()][-1].split()
    _, user, sys_, rss = float(last[0]), float(last[1]), float(last[2]), int(last[3])
    if p.returncode != 0:
        note(f"{cmd[0]} exited with {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    return wall, user + sys_, rss, p.returncode


def check_tlsentry(out_path, truth):
    """(ok, summary) of tlsentry's events against the ground truth."""
    seen, problems, n_events, n_alerts, n_right = set(), [], 0, 0, 0
    with open(out_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                e = json.loads(line)
            except ValueError:
                problems.append("a line that is not JSON")
                continue
            kind = e.get("event", {}).get("kind")
            if kind == "alert":
                n_alerts += 1
                continue
            if kind != "event":
                problems.append(f"unexpected {kind} event")
                continue
            n_events += 1
            src, dst = e.get("source", {}), e.get("destination", {})
            key = (src.get("ip"), src.get("port"), dst.get("ip"), dst.get("port"))
            if key not in truth:
                problems.append(f"event for a connection not in the truth: {key}")
                continue
            if key in seen:
                problems.append(f"reported twice: {key}")
                continue
            seen.add(key)
            sni, ver, chain, sha = truth[key]
            tls = e.get("tls", {})
            te = e.get("tlsentry", {})
            got = (tls.get("client", {}).get("server_name"), te.get("version_code"),
                   str(te["chain_length"]) if "chain_length" in te else "-",
                   tls.get("server", {}).get("hash", {}).get("sha256", "-").lower())
            if got != (sni, ver, chain, sha):
                problems.append(f"{key}: got {got}, truth {(sni, ver, chain, sha)}")
            else:
                n_right += 1
    missing = len(truth) - len(seen)
    if missing:
        problems.append(f"{missing} connections of the truth not reported")
    summary = f"{n_right}/{len(truth)} handshakes right, {n_events} events, {n_alerts} alerts"
    if problems:
        summary += f"; {len(problems)} problems, first: " + "; ".join(problems[:3])
    return not problems, summary


def check_tshark(out_path, truth):
    """tshark's hellos and certificates against the truth (SNI, leaf hash)."""
    sni_of, leaf_of = {}, {}
    with open(out_path, errors="replace") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 6:
                continue
            ip_s, p_s, ip_d, p_d, sni, certs = cols[:6]
            try:
                p_s, p_d = int(p_s), int(p_d)
            except ValueError:
                continue
            if sni:
                sni_of[(ip_s, p_s, ip_d, p_d)] = sni
            if certs:
                der = bytes.fromhex(certs.split(",")[0].replace(":", ""))
                leaf_of[(ip_d, p_d, ip_s, p_s)] = hashlib.sha256(der).hexdigest()
    bad_sni = sum(1 for k, v in truth.items() if sni_of.get(k) != v[0])
    with_leaf = {k: v for k, v in truth.items() if v[3] != "-"}
    bad_leaf = sum(1 for k, v in with_leaf.items() if leaf_of.get(k) != v[3])
    ok = bad_sni == 0 and bad_leaf == 0
    return ok, (f"SNI {len(truth) - bad_sni}/{len(truth)}, "
                f"leaf {len(with_leaf) - bad_leaf}/{len(with_leaf)}")


def tool_cmd(tool, pcap, out, args):
    if tool == "tlsentry":
        return [ARGS.tlsentry, "-q", "-r", pcap, "-w", out] + BASE_ARGS + args
    if tool.startswith("tlsentry-w"):
        return ([ARGS.tlsentry, "-q", "-r", pcap, "-w", out] + BASE_ARGS + args
                + ["--workers", tool[len("tlsentry-w"):]])
    if tool == "tshark":
        return ["tshark", "-n", "-r", pcap,
                "-Y", "tls.handshake.type == 1 || tls.handshake.type == 11",
                "-T", "fields", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.dst",
                "-e", "tcp.dstport", "-e", "tls.handshake.extensions_server_name",
                "-e", "tls.handshake.certificate"]
    if tool == "ndpi":
        return ["ndpiReader", "-i", pcap, "-q"]
    if tool == "tcpdump":
        return ["tcpdump", "-n", "-r", pcap, "-w", "/dev/null"]
    raise ValueError(tool)


def tool_version(tool):
    try:
        if tool == "tlsentry":
            return subprocess.run([ARGS.tlsentry, "--version"], capture_output=True,
                                  text=True).stdout.strip()
        if tool == "tshark":
            return subprocess.run(["tshark", "--version"], capture_output=True,
                                  text=True).stdout.splitlines()[0]
        if tool == "ndpi":
            out = subprocess.run(["ndpiReader", "-h"], capture_output=True, text=True)
            return next(ln for ln in (out.stdout + out.stderr).splitlines()
                        if "nDPI" in ln).strip().replace("Welcome to ", "")
        if tool == "tcpdump":
            out = subprocess.run(["tcpdump", "--version"], capture_output=True, text=True)
            return " / ".join((out.stdout + out.stderr).splitlines()[:2])
    except (OSError, StopIteration, IndexError):
        pass
    return "?"


def run_set(name, tools):
    base = os.path.join(ARGS.dir, FILES[name])
    pcap, truth_path = base + ".pcap", base + ".truth.tsv"
    meta = read_meta(pcap + ".meta")
    truth = read_truth(truth_path)
    size_mb = os.path.getsize(pcap) / 1e6
    out = base + ".out"
    rows, failed = [], False
    note(f"{name}: {pcap}, {size_mb:.0f} MB, {meta['packets']} packets, {len(truth)} handshakes")

    # warm the page cache and check the floor reads what benchgen wrote
    subprocess.run(["cat", pcap], stdout=subprocess.DEVNULL, check=True)
    floor_out = base + ".floor"
    timed([ARGS.floor, pcap], floor_out)
    with open(floor_out) as f:
        got = f.read().split()[0]
    if got != f"packets={meta['packets']}":
        note(f"{name}: the floor read {got}, benchgen wrote {meta['packets']} packets")
        return rows, True

    for tool in tools:
        mine = tool.startswith("tlsentry")
        extra = shlex.split(ARGS.args) if mine else []
        runs = ARGS.runs if mine else ARGS.other_runs
        walls, cpus, rsss, fwalls, ratios, checks = [], [], [], [], [], []
        for i in range(runs):
            order = ["floor", tool] if i % 2 == 0 else [tool, "floor"]
            for who in order:
                if who == "floor":
                    w, _, _, _ = timed([ARGS.floor, pcap], floor_out)
                    fwalls.append(w)
                    continue
                if os.path.exists(out):
                    os.unlink(out)
                w, c, r, rc = timed(tool_cmd(tool, pcap, out, extra), out if not mine
                                    else out + ".stdout")
                walls.append(w)
                cpus.append(c)
                rsss.append(r)
                if mine:
                    ok, summary = check_tlsentry(out, truth) if rc == 0 else (False, f"exit {rc}")
                    checks.append((ok, summary))
                elif tool == "tshark" and i == 0:
                    checks.append(check_tshark(out, truth))
                elif rc != 0:
                    checks.append((False, f"exit {rc}"))
            ratios.append(walls[-1] / fwalls[-1])
            note(f"{name} {tool} run {i + 1}/{runs}: {walls[-1]:.2f} s "
                 f"(floor {fwalls[-1]:.2f} s), CPU {cpus[-1]:.2f} s, RSS {rsss[-1] / 1024:.1f} MiB"
                 + (f"; {checks[-1][1]}" if checks and mine else ""))
        ok = all(c[0] for c in checks)
        if mine and not ok:
            failed = True
        wall = statistics.median(walls)
        rows.append({
            "set": name, "size": f"{size_mb:.0f} MB", "handshakes": len(truth), "tool": tool,
            "runs": runs, "wall": wall, "cpu": statistics.median(cpus),
            "floor": statistics.median(fwalls), "ratio": statistics.median(ratios),
            "hs_per_s": len(truth) / wall, "rss_kb": max(rsss),
            "check": ("ok" if ok else "FAILURE") if checks else "-",
            "detail": checks[0][1] if checks and ok else
            next((c[1] for c in checks if not c[0]), ""),
            "target": target(name, tool, statistics.median(ratios), max(rsss)),
        })
        if os.path.exists(out):
            os.unlink(out)
    one = next((r for r in rows if r["tool"] == "tlsentry"), None)
    for r in rows:
        if one is not None and r["tool"].startswith("tlsentry-w"):
            w = r["wall"] / one["wall"]
            r["target"] = (f"wall {w:.2f}x one worker's"
                           + (f" (≤0.6x {'met' if w <= 0.6 else 'not met'})" if name == "A'" else ""))
    for f in (out + ".stdout", floor_out):
        if os.path.exists(f):
            os.unlink(f)
    return rows, failed


def target(name, tool, ratio, rss_kb):
    if tool != "tlsentry" or ARGS.args.strip() or ARGS.base_args != DEFAULT_BASE:
        return ""
    t = TARGET_RATIO[name if name != "Aprime" else "A'"]
    return (f"≤{t:g}x {'met' if ratio <= t else 'not met'}, "
            f"≤64 MiB {'met' if rss_kb <= TARGET_RSS_KB else 'not met'}")


def table(rows):
    head = ("| set | size | handshakes | tool | runs | wall (median) | CPU (median) | floor wall "
            "(median) | ratio to floor | handshakes/s | peak RSS | ground truth | target |")
    lines = [head, "|" + " --- |" * 13]
    for r in rows:
        lines.append(
            f"| {r['set']} | {r['size']} | {r['handshakes']:,} | {r['tool']} | {r['runs']} | "
            f"{r['wall']:.2f} s | {r['cpu']:.2f} s | {r['floor']:.2f} s | {r['ratio']:.1f}x | "
            f"{r['hs_per_s']:,.0f} | {r['rss_kb'] / 1024:.1f} MiB | {r['check']} | {r['target']} |")
    return "\n".join(lines)


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="A,A',B")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--other-runs", type=int, default=None,
                    help="pairs for tools other than tlsentry (default: --runs)")
    ap.add_argument("--tools", default="tlsentry,tshark,ndpi,tcpdump")
    ap.add_argument("--base-args", default=DEFAULT_BASE,
                    help="tlsentry's configuration: rules and the bench CA (default: %(default)s)")
    ap.add_argument("--args", default="", help="extra tlsentry options, e.g. '--memcap 64M'")
    ap.add_argument("--workers", default="2",
                    help="also time tlsentry --workers N on A' (comma-separated; '' for none)")
    ap.add_argument("--dir", default="build/bench")
    ap.add_argument("--tlsentry", default="./tlsentry")
    ap.add_argument("--floor", default="build/bench/floor")
    ap.add_argument("--report", default=None)
    ARGS = ap.parse_args()
    global BASE_ARGS
    BASE_ARGS = shlex.split(ARGS.base_args)
    if ARGS.other_runs is None:
        ARGS.other_runs = ARGS.runs
    if ARGS.runs < 1:
        sys.exit("bench: --runs must be at least 1")
    if not os.path.exists("/usr/bin/time"):
        sys.exit("bench: GNU time (/usr/bin/time) is needed: apt-get install time")
    exe = {"tlsentry": ARGS.tlsentry, "tshark": "tshark", "ndpi": "ndpiReader",
           "tcpdump": "tcpdump"}
    tools = []
    for t in [t for t in ARGS.tools.split(",") if t]:
        if t not in exe:
            sys.exit(f"bench: unknown tool {t}")
        if shutil.which(exe[t]) is None:
            note(f"{exe[t]} is not installed: left out")
            continue
        tools.append(t)
    sets = [s for s in ARGS.sets.split(",") if s]
    for s in sets:
        if s not in FILES:
            sys.exit(f"bench: unknown set {s} (A, A', B)")

    global LOAD_START
    LOAD_START = os.getloadavg()
    rows, failed = [], False
    for s in sets:
        name = "A'" if s == "Aprime" else s
        extra = []
        if name == "A'" and "tlsentry" in tools:
            extra = [f"tlsentry-w{n}" for n in ARGS.workers.split(",") if n.strip()]
        r, f = run_set(name, tools[:1] + extra + tools[1:] if tools[:1] == ["tlsentry"]
                       else tools + extra)
        rows += r
        failed |= f
    load = os.getloadavg()
    report = [f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on "
              f"{platform.node()}: {os.cpu_count()} CPUs, Linux {platform.release()}, "
              f"load average {load[0]:.2f} at the end; tlsentry {ARGS.base_args}"
              + (f" {ARGS.args}" if ARGS.args.strip() else ""), ""]
    report.append(table(rows))
    report.append("")
    report += [f"- {t}: {tool_version(t)}" for t in tools]
    load0 = LOAD_START
    report.append(f"- load average at the start: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    for r in rows:
        if r["check"] != "-":
            report.append(f"- {r['set']} {r['tool']}: {r['check']}: {r['detail']}")
    text = "\n".join(report)
    print(text)
    if ARGS.report:
        with open(ARGS.report, "w") as f:
            f.write(text + "\n")
    if failed:
        print("bench: FAILURE: tlsentry's output does not match the ground truth", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
