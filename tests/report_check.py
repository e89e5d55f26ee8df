#!/usr/bin/env python3
"""report_check.py: check tlsentry's --report page as Chromium rendered it.

  report_check.py static PAGE
      the page is self-contained: no script, no stylesheet or image links,
      no URL but the SVG namespace name.
  report_check.py dom DOM EVENTS
      DOM is Chromium's --dump-dom of the page, EVENTS the -w file of the
      same run (JSON): one alert section per alert event, in order, each
      naming the alert's server, reason, rule, issuer seen and expected; the
      watched-name and top-SNI tables agree with the handshake events; the
      timeline's bars add up to the handshakes and alerts.
  report_check.py netlog NETLOG
      Chromium's net log of the load: the page requested nothing but
      itself (the browser's own requests, made from no origin, aside).
  report_check.py png SCREENSHOT
      a real picture: at least 800 pixels wide, not one colour, with the
      alert red (#c0392b) and the handshake grey (#9aa5b1) of the timeline.
"""
import collections
import html.parser
import json
import re
import struct
import sys
import zlib


def fail(errs, what):
    for e in errs[:15]:
        print("FAIL: %s" % e)
    print("%s: %d problems" % (what, len(errs)))
    return 1 if errs else 0


def cmd_static(page):
    text = open(page, encoding="utf-8").read()
    errs = []
    for pat in (r"<script", r"<link", r"<img", r"<iframe", r"<object", r"<embed",
                r"\bsrc\s*=", r"url\(", r"@import"):
        if re.search(pat, text, re.I):
            errs.append("the page has %s" % pat)
    urls = set(re.findall(r"[a-z]+://[^\s\"'<>]*", text, re.I))
    urls.discard("http://www.w3.org/2000/svg")
    for u in sorted(urls):
        errs.append("the page names %s" % u)
    if "<style>" not in text:
        errs.append("no inline style")
    return fail(errs, "static")


class Dom(html.parser.HTMLParser):
    """Text per element we care about: alert sections, table rows, SVG bars."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.sections = []       # text of each <section class="alert">
        self.rows = collections.defaultdict(list)   # table class -> [[cell text]]
        self.bars = []           # (class, title text)
        self.h2 = []
        self._sec = None
        self._table = None
        self._row = None
        self._cell = None
        self._bar = None
        self._h2 = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = a.get("class", "")
        if tag == "section" and "alert" in cls.split():
            self._sec = []
        elif tag == "table":
            self._table = cls
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "rect" and cls in ("hs", "al"):
            self._bar = [cls, ""]
        elif tag == "h2":
            self._h2 = []
        elif tag == "br" and self._cell is not None:
            self._cell.append("\n")

    def handle_endtag(self, tag):
        if tag == "section" and self._sec is not None:
            self.sections.append("".join(self._sec))
            self._sec = None
        elif tag == "table":
            self._table = None
        elif tag == "tr" and self._row is not None:
            self.rows[self._table].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell))
            self._cell = None
        elif tag == "rect" and self._bar is not None:
            self.bars.append(tuple(self._bar))
            self._bar = None
        elif tag == "h2" and self._h2 is not None:
            self.h2.append("".join(self._h2))
            self._h2 = None

    def handle_data(self, data):
        for buf in (self._sec, self._cell, self._h2):
            if buf is not None:
                buf.append(data)
        if self._bar is not None:
            self._bar[1] += data


def cmd_dom(dom_file, events_file):
    d = Dom()
    d.feed(open(dom_file, encoding="utf-8").read())
    evs = [json.loads(l) for l in open(events_file, encoding="utf-8")]
    alerts = [e for e in evs if e["event"]["kind"] == "alert"]
    hss = [e for e in evs if e["event"]["kind"] == "event"]
    errs = []
    if not any(h.startswith("Alerts (%d)" % len(alerts)) for h in d.h2):
        errs.append("no heading 'Alerts (%d)': %r" % (len(alerts), d.h2))
    if len(d.sections) != len(alerts):
        errs.append("%d alert sections, %d alert events" % (len(d.sections), len(alerts)))
    for n, (sec, a) in enumerate(zip(d.sections, alerts), 1):
        t = a["tlsentry"]
        want = [a["event"]["reason"], a["rule"]["name"], a["source"]["ip"],
                t["alert_detail"]]
        if "domain" in a["destination"]:
            want.append(a["destination"]["domain"])
        if "issuer" in a["tls"].get("server", {}):
            want.append(a["tls"]["server"]["issuer"])
        want += t.get("expected_issuers", [])
        if "pcap" in t.get("evidence", {}):
            want.append(t["evidence"]["pcap"])
        for w in want:
            if w not in sec:
                errs.append("alert %d: %r not in its section" % (n, w))
    # top SNIs: every SNI with its handshake count
    sni = collections.Counter(e["tls"]["client"]["server_name"] for e in hss
                              if "server_name" in e["tls"].get("client", {}))
    top = {r[0]: r[1] for r in d.rows.get("top", []) if len(r) == 2 and r[1].isdigit()}
    for name, c in sni.items():
        if top.get(name) != str(c):
            errs.append("top SNIs: %s has %r, the events %d" % (name, top.get(name), c))
    # watched names: handshakes per name, for the names a rule watches
    watched = collections.Counter(e["tls"]["client"]["server_name"] for e in hss
                                  if "watched_by" in e["tlsentry"]
                                  and "server_name" in e["tls"].get("client", {}))
    wrows = {r[0]: r for r in d.rows.get("watched", []) if r and r[0] != "name"}
    if set(wrows) != set(watched):
        errs.append("watched names %r, the events %r" % (sorted(wrows), sorted(watched)))
    for name, c in watched.items():
        if name in wrows and wrows[name][2] != str(c):
            errs.append("watched %s: %s handshakes, the events %d" % (name, wrows[name][2], c))
    # the timeline's bars count every handshake and alert once
    tot = collections.Counter()
    for cls, title in d.bars:
        m = re.match(r"(\d+) ", title)
        if not m:
            errs.append("bar without a count: %r" % title)
            continue
        tot[cls] += int(m.group(1))
    if tot["hs"] != len(hss) or tot["al"] != len(alerts):
        errs.append("timeline: %d handshakes, %d alerts; the events %d, %d"
                    % (tot["hs"], tot["al"], len(hss), len(alerts)))
    print("dom: %d alert sections, %d watched names, %d bars" % (len(d.sections), len(wrows),
                                                                  len(d.bars)))
    return fail(errs, "dom")


def cmd_netlog(netlog):
    """Requests the page made: the browser's own (updates, clock) have
    initiator "not an origin"; a file:// page's have "null"."""
    log = json.load(open(netlog, encoding="utf-8"))
    types = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = set()
    for e in log["events"]:
        p = e.get("params", {})
        if types.get(e["type"]) != "URL_REQUEST_START_JOB" or "url" not in p:
            continue
        if p.get("initiator") != "not an origin" and not p["url"].startswith("file:"):
            urls.add(p["url"])
    return fail(["the page requested %s" % u for u in sorted(urls)], "netlog")


def png_pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    off, idat, w = 8, b"", 0
    while off < len(data):
        n, typ = struct.unpack(">I4s", data[off:off + 8])
        body = data[off + 8:off + 8 + n]
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            if depth != 8 or ctype not in (2, 6):
                raise ValueError("PNG depth %d colour type %d" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif typ == b"IDAT":
            idat += body
        off += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    pixels = collections.Counter()
    pos = 0
    for _ in range(h):
        ftype = raw[pos]
        line = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pr) & 255
        for i in range(0, stride, bpp):
            pixels[bytes(line[i:i + 3])] += 1
        prev = line
    return w, h, pixels


def cmd_png(path):
    errs = []
    w, h, px = png_pixels(path)
    if w < 800:
        errs.append("%d pixels wide" % w)
    if len(px) < 10:
        errs.append("%d colours: a blank page" % len(px))
    for name, rgb in (("alert red", b"\xc0\x39\x2b"), ("handshake grey", b"\x9a\xa5\xb1")):
        if px[rgb] < 20:
            errs.append("%s: %d pixels" % (name, px[rgb]))
    print("png: %dx%d, %d colours" % (w, h, len(px)))
    return fail(errs, "png")


def main():
    a = sys.argv[1:]
    if a[:1] == ["static"] and len(a) == 2:
        return cmd_static(a[1])
    if a[:1] == ["dom"] and len(a) == 3:
        return cmd_dom(a[1], a[2])
    if a[:1] == ["netlog"] and len(a) == 2:
        return cmd_netlog(a[1])
    if a[:1] == ["png"] and len(a) == 2:
        return cmd_png(a[1])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main())
