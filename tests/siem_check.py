#!/usr/bin/env python3
"""siem_check.py: check what a real syslog collector received from tlsentry.

The collectors in tests/siem.sh write one line per message, tab-separated:
    PRI  APP-NAME  PROCID  MSGID  STRUCTURED-DATA  PARSED  MSG
where PARSED is what the collector itself parsed out of MSG (event.kind of
the JSON, or CEF fields), or '-' where the collector parses nothing.

  siem_check.py intact LOG EVENTS FORMAT [PARSED]
      every line of EVENTS (tlsentry's -w file, same run, same format)
      arrived, in order, byte for byte; PRI, APP-NAME, MSGID and the
      sequenceId are right; PARSED (json|cef|none) says what the collector's
      own parser must have found.
  siem_check.py truncated LOG EVENTS MAX
      each message is its event, or its event cut at a UTF-8 boundary and
      ended by "...[truncated from N bytes]", no longer than MAX; prints
      the number cut.
  siem_check.py alerts LOG EVENTS
      prints expected=, received=, missing=, duplicates=, in_order=,
      seq_missing=, last_missing_index= for the alerts of EVENTS (JSON).
  siem_check.py file-readers FILEBEAT_YAML SPLUNK_PROPS EVENTS
      the README's Filebeat input parses as YAML into a filestream input
      with an ndjson parser at the top level, and the Splunk stanza's
      TIME_FORMAT reads the @timestamp of every event of EVENTS.
  siem_check.py cef-vs-json CEFFILE JSONFILE
      the CEF rendering, parsed by the CEF rules (header | and \\ escapes,
      extension = \\ and newline escapes), carries the JSON's values.
"""
import json
import re
import sys

FACILITY = 16  # local0, tlsentry's default
SEVERITY = {"low": 5, "medium": 4, "high": 3, "critical": 2}


def read_log(path):
    rows = []
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8").rstrip("\n")
            parts = line.split("\t", 6)
            if len(parts) != 7:
                raise SystemExit("%s: malformed collector line: %r" % (path, line[:200]))
            rows.append(parts)
    return rows


def read_lines(path):
    with open(path, "rb") as f:
        return [l.decode("utf-8").rstrip("\n") for l in f]


def cef_split(line):
    """(header fields, extension dict) of one CEF line, unescaped."""
    if not line.startswith("CEF:"):
        raise ValueError("not CEF: %r" % line[:60])
    fields, cur, i = [], "", 4
    while len(fields) < 7:
        c = line[i]
        if c == "\\" and line[i + 1] in "|\\":
            cur += line[i + 1]
            i += 2
            continue
        if c == "|":
            fields.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    ext_text = line[i:]
    ext = {}
    # keys are [A-Za-z0-9]+ followed by an unescaped '='
    keys = [m for m in re.finditer(r"(?:^| )([A-Za-z0-9_]+)=", ext_text)
            if not _escaped(ext_text, m.start(1) + len(m.group(1)))]
    for n, m in enumerate(keys):
        end = keys[n + 1].start() if n + 1 < len(keys) else len(ext_text)
        raw = ext_text[m.end():end]
        ext[m.group(1)] = _unescape_value(raw)
    return fields, ext


def _escaped(s, pos):
    n, j = 0, pos - 1
    while j >= 0 and s[j] == "\\":
        n += 1
        j -= 1
    return n % 2 == 1


def _unescape_value(v):
    out, i = "", 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            out += {"n": "\n", "r": "\r"}.get(v[i + 1], v[i + 1])
            i += 2
        else:
            out += v[i]
            i += 1
    return out


def kind_of(msg, fmt):
    if fmt == "json":
        ev = json.loads(msg)
        kind = ev["event"]["kind"]
        sev = SEVERITY[ev["tlsentry"]["severity"]] if kind == "alert" else 6
        return {"event": "handshake"}.get(kind, kind), sev
    if fmt == "cef":
        _, ext = cef_split(msg)
        kind = ext["cat"].split(".")[1]
        kind = {"stats": "metric"}.get(kind, kind)
        sev = 6
        if kind == "alert":
            sev = {"3": 5, "5": 4, "8": 3, "10": 2}[cef_split(msg)[0][6]]
        return kind, sev
    raise SystemExit("unknown format " + fmt)


def cmd_intact(log, events, fmt, parsed="none"):
    rows, lines = read_log(log), read_lines(events)
    errs = []
    if len(rows) != len(lines):
        errs.append("%d messages received, %d events written" % (len(rows), len(lines)))
    for n, (row, line) in enumerate(zip(rows, lines), 1):
        pri, app, procid, msgid, sd, got, msg = row
        if msg != line:
            errs.append("message %d differs from the event" % n)
            continue
        kind, sev = kind_of(msg, fmt)
        if msgid != kind.upper():
            errs.append("message %d: MSGID %s for a %s" % (n, msgid, kind))
        if int(pri) != FACILITY * 8 + sev:
            errs.append("message %d: PRI %s, expected %d" % (n, pri, FACILITY * 8 + sev))
        if app != "tlsentry" or not procid.isdigit():
            errs.append("message %d: APP-NAME %r PROCID %r" % (n, app, procid))
        if sd != '[meta sequenceId="%d"]' % n:
            errs.append("message %d: structured data %r" % (n, sd))
        if parsed == "json" and got != {"handshake": "event"}.get(kind, kind):
            errs.append("message %d: the collector parsed event.kind %r" % (n, got))
        if parsed == "cef":
            vendor, severity, dhost, issuer = (got.split("|") + ["", "", "", ""])[:4]
            fields, ext = cef_split(msg)
            if vendor != "tlsentry" or severity != fields[6] or dhost != ext.get("dhost", "") \
                    or issuer != ext.get("cs2", ""):
                errs.append("message %d: the collector's CEF parse %r disagrees" % (n, got))
    for e in errs[:10]:
        print("FAIL: %s: %s" % (log, e))
    print("intact: %d messages, %d problems" % (len(rows), len(errs)))
    return 1 if errs else 0


def cmd_truncated(log, events, max_len):
    rows, lines = read_log(log), read_lines(events)
    cut, errs = 0, []
    if len(rows) != len(lines):
        errs.append("%d messages received, %d events written" % (len(rows), len(lines)))
    for n, (row, line) in enumerate(zip(rows, lines), 1):
        msg = row[6]
        if msg == line:
            continue
        m = re.match(r"^(.*)\.\.\.\[truncated from (\d+) bytes\]$", msg, re.S)
        if not m or not line.startswith(m.group(1)) or int(m.group(2)) != len(line.encode()):
            errs.append("message %d: neither whole nor cleanly cut" % n)
            continue
        if len(msg.encode()) >= max_len:
            errs.append("message %d: %d bytes after cutting" % (n, len(msg.encode())))
        cut += 1
    for e in errs[:10]:
        print("FAIL: %s: %s" % (log, e))
    print("cut=%d problems=%d" % (cut, len(errs)))
    return 1 if errs else 0


def cmd_alerts(log, events):
    want = [json.loads(l)["event"]["id"] for l in read_lines(events)
            if '"kind":"alert"' in l]
    got, seqs = [], []
    for row in read_log(log):
        m = re.match(r'\[meta sequenceId="(\d+)"\]', row[4])
        if m:
            seqs.append(int(m.group(1)))
        if row[3] == "ALERT":
            got.append(json.loads(row[6])["event"]["id"])
    first = []
    for g in got:
        if g not in first:
            first.append(g)
    missing = [i for i, w in enumerate(want) if w not in first]
    order = [want.index(g) for g in first if g in want]
    seq_missing = 0
    if seqs:
        seq_missing = len(set(range(1, max(seqs) + 1)) - set(seqs))
    print("expected=%d" % len(want))
    print("received=%d" % len(first))
    print("missing=%d" % len(missing))
    print("duplicates=%d" % (len(got) - len(first)))
    print("unexpected=%d" % len([g for g in first if g not in want]))
    print("in_order=%d" % (1 if order == sorted(order) else 0))
    print("seq_missing=%d" % seq_missing)
    print("last_missing_index=%d" % (missing[-1] if missing else -1))
    return 0


def cmd_cef_vs_json(cef_file, json_file):
    errs = 0
    cefs, jsons = read_lines(cef_file), read_lines(json_file)
    if len(cefs) != len(jsons):
        print("FAIL: %d CEF lines, %d JSON lines" % (len(cefs), len(jsons)))
        return 1
    for n, (c, j) in enumerate(zip(cefs, jsons), 1):
        fields, ext = cef_split(c)
        ev = json.loads(j)
        want = {"src": ev["source"]["ip"], "spt": str(ev["source"]["port"]),
                "dst": ev["destination"]["ip"], "dpt": str(ev["destination"]["port"]),
                "externalId": ev["event"]["id"], "msg": ev["message"]}
        if ":" in want["src"]:
            want["c6a2"] = want.pop("src")
            want["c6a3"] = want.pop("dst")
        if "domain" in ev["destination"]:
            want["dhost"] = ev["destination"]["domain"]
        if "issuer" in ev["tls"].get("server", {}):
            want["cs2"] = ev["tls"]["server"]["issuer"]
            want["cs3"] = ev["tls"]["server"]["subject"]
        t = ev["tlsentry"]
        if ev["event"]["kind"] == "alert":
            want["cs1"] = ev["rule"]["name"]
            want["reason"] = ev["event"]["reason"]
            want["tlsentryAlertDetail"] = t["alert_detail"]
            want["cat"] = "tlsentry.alert"
            if fields[4] != ev["event"]["reason"]:
                print("FAIL: line %d: signature %r, reason %r" % (n, fields[4], ev["event"]["reason"]))
                errs += 1
        else:
            want["cat"] = "tlsentry.handshake"
            if "watched_by" in t:
                want["cs1"] = t["watched_by"]
        if "expected_issuers" in t:
            want["cs4"] = " OR ".join(t["expected_issuers"])
        want["cs5"] = t["verdict"]
        if ev["event"]["kind"] == "alert" and "pcap" in t.get("evidence", {}):
            want["tlsentryEvidencePcap"] = t["evidence"]["pcap"]
        if "findings" in t:
            want["tlsentryFindings"] = " ".join(t["findings"])
        if "validation" in t and "public_root" in t["validation"]:
            want["tlsentryValidation"] = t["validation"]["status"]
        labels = {"cs1": "rule", "cs2": "certificateIssuer", "cs3": "certificateSubject",
                  "cs4": "expectedIssuers", "cs5": "verdict", "cs6": "certificateSha256"}
        for k, label in labels.items():
            if k in ext and ext.get(k + "Label") != label:
                print("FAIL: line %d: %sLabel=%r" % (n, k, ext.get(k + "Label")))
                errs += 1
        for k, v in want.items():
            if ext.get(k) != v:
                print("FAIL: line %d: %s=%r, the JSON has %r" % (n, k, ext.get(k), v))
                errs += 1
        if fields[1] != "tlsentry" or fields[2] != "tlsentry":
            print("FAIL: line %d: header %r" % (n, fields))
            errs += 1
    print("cef-vs-json: %d lines, %d problems" % (len(cefs), errs))
    return 1 if errs else 0


def cmd_file_readers(fb, props, events):
    import datetime
    import yaml
    errs = []
    conf = yaml.safe_load(open(fb))
    inp = conf["filebeat.inputs"][0]
    if inp.get("type") != "filestream" or not inp.get("id"):
        errs.append("filebeat: not a filestream input with an id: %r" % inp)
    nd = [p["ndjson"] for p in inp.get("parsers", []) if "ndjson" in p]
    if not nd or nd[0].get("target") != "":
        errs.append("filebeat: no ndjson parser to the top level: %r" % inp.get("parsers"))
    kv = {}
    for line in open(props):
        if "=" in line:
            k, v = line.split("=", 1)
            kv[k.strip()] = v.strip()
    if kv.get("TIMESTAMP_FIELDS") != "@timestamp" or kv.get("INDEXED_EXTRACTIONS") != "json":
        errs.append("splunk: %r" % kv)
    fmt = kv.get("TIME_FORMAT", "").replace("%6N", "%f")
    n = 0
    for line in read_lines(events):
        ts = json.loads(line)["@timestamp"]
        try:
            datetime.datetime.strptime(ts, fmt)
            n += 1
        except ValueError as e:
            errs.append("splunk: TIME_FORMAT %r does not read %r: %s" % (fmt, ts, e))
    for e in errs[:10]:
        print("FAIL: %s" % e)
    print("file-readers: %d timestamps read, %d problems" % (n, len(errs)))
    return 1 if errs or n == 0 else 0


def main():
    a = sys.argv[1:]
    if a and a[0] == "intact" and len(a) in (4, 5):
        return cmd_intact(*a[1:])
    if a and a[0] == "truncated" and len(a) == 4:
        return cmd_truncated(a[1], a[2], int(a[3]))
    if a and a[0] == "alerts" and len(a) == 3:
        return cmd_alerts(a[1], a[2])
    if a and a[0] == "file-readers" and len(a) == 4:
        return cmd_file_readers(a[1], a[2], a[3])
    if a and a[0] == "cef-vs-json" and len(a) == 3:
        return cmd_cef_vs_json(a[1], a[2])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
