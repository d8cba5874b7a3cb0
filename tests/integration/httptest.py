"""HTTP helpers for Weir's integration tests (run with /usr/bin/python3).

Owns: finding the ports of a broker's HTTP listeners (from its `listening`
log lines), a raw HTTP/1.1 client over a socket (optionally TLS) for
keep-alive and pipelining checks, one-shot requests through Python's
http.client, and a strict checker of Prometheus' text exposition format
0.0.4 that parses /metrics into families and samples.
"""
import base64
import http.client
import math
import re
import socket
import ssl

import weirtest as wt
from weirtest import check

HTTP_LISTENER = "http://127.0.0.1:0"


def http_port(broker, name="HTTP"):
    """Port of the broker's HTTP listener `name` (HTTP, HTTPS, HTTP-2...)."""
    m = re.search(r"event=listening\b[^\n]*\blistener=%s\b[^\n]*\bport=(\d+)[^\n]*"
                  r"\bprotocol=HTTPS?\b" % re.escape(name), broker.log_text())
    check(m is not None, "weir did not log listening on HTTP listener %s" % name)
    return int(m.group(1))


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


def request(port, method, path, body=None, headers=None, tls=None, timeout=15):
    """One request on a new connection (http.client).  Returns
    (status, {lower-case header: value}, body bytes)."""
    if tls is not None:
        c = http.client.HTTPSConnection("127.0.0.1", port, context=tls, timeout=timeout)
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True
    return ctx


class Raw:
    """A raw HTTP/1.1 connection: send bytes, read responses one by one."""

    def __init__(self, port, tls=None, timeout=15):
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        if tls is not None:
            s = tls.wrap_socket(s, server_hostname="localhost")
        self.sock = s
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        try:
            c = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            c = b""
        if not c:
            return False
        self.buf += c
        return True

    def read(self, head=False):
        """(status, {lower-case header: value}, body); None at end of stream."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                check(self.buf == b"", "connection closed inside a response head: %r"
                      % self.buf[:200])
                return None
        head_b, rest = self.buf.split(b"\r\n\r\n", 1)
        lines = head_b.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.1 (\d{3}) ", lines[0])
        check(m is not None, "bad status line %r" % lines[0])
        hdrs = {}
        for ln in lines[1:]:
            k, v = ln.split(":", 1)
            check(k.lower() not in hdrs, "header %s twice" % k)
            hdrs[k.lower()] = v.strip()
        n = 0 if head else int(hdrs.get("content-length", "0"))
        self.buf = rest
        while len(self.buf) < n:
            check(self._fill(), "connection closed inside a response body")
        body, self.buf = self.buf[:n], self.buf[n:]
        return int(m.group(1)), hdrs, body

    def expect_closed(self):
        check(self.buf == b"", "unexpected bytes after the last response: %r" % self.buf[:200])
        check(not self._fill(), "expected the broker to close the connection, got %r"
              % self.buf[:200])

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ------------------------------------------------------------ Prometheus format

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")


def _parse_value(s, where):
    if s in ("NaN", "+Inf", "-Inf", "Inf"):
        return float(s.replace("Inf", "inf")) if s != "NaN" else math.nan
    check(re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", s) is not None,
          "%s: bad sample value %r" % (where, s))
    return float(s)


def _parse_labels(s, where):
    """Parses the inside of {...}; returns (dict, rest after '}')."""
    labels = {}
    i = 0
    while True:
        if s[i] == "}":
            return labels, s[i + 1:]
        m = re.match(_LABEL, s[i:])
        check(m is not None, "%s: bad label name at %r" % (where, s[i:i + 20]))
        name = m.group(0)
        check(not name.startswith("__"), "%s: reserved label name %s" % (where, name))
        i += len(name)
        check(s[i:i + 2] == '="', "%s: expected =\" after label %s" % (where, name))
        i += 2
        val = []
        while True:
            check(i < len(s), "%s: unterminated label value" % where)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                check(nxt in ("\\", '"', "n"), "%s: bad escape \\%s in a label value"
                      % (where, nxt))
                val.append("\n" if nxt == "n" else nxt)
                i += 2
            elif c == '"':
                i += 1
                break
            else:
                check(c != "\n", "%s: raw newline in a label value" % where)
                val.append(c)
                i += 1
        check(name not in labels, "%s: label %s twice" % (where, name))
        labels[name] = "".join(val)
        if s[i] == ",":
            i += 1
        else:
            check(s[i] == "}", "%s: expected , or } after a label" % where)


def parse_prometheus(text):
    """Strictly parses the text format.  Returns {family: {"type", "help",
    "samples": [(name, labels, value)]}}; fails the test on any violation:
    syntax, escapes, TYPE/HELP after samples or twice, a family's samples not
    contiguous, duplicate series, counters not ending in _total or negative,
    histograms without cumulative buckets or a +Inf bucket equal to _count."""
    check(text.endswith("\n"), "the exposition must end with a newline")
    fams = {}
    done = set()          # families whose sample group has ended
    current = None
    series = set()

    def family_of(sample):
        for suffix in ("_bucket", "_sum", "_count"):
            base = sample[:-len(suffix)]
            if sample.endswith(suffix) and base in fams and \
                    fams[base]["type"] in ("histogram", "summary"):
                return base
        return sample

    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d" % lineno
        if line == "":
            continue
        if line.startswith("#"):
            m = re.match(r"# (HELP|TYPE) (%s) (.*)$" % _NAME, line)
            if not m:
                continue  # a plain comment
            kind, name, rest = m.groups()
            check(name not in done, "%s: %s for %s after its samples ended" % (where, kind, name))
            f = fams.setdefault(name, {"type": None, "help": None, "samples": []})
            check(not f["samples"], "%s: %s %s after its samples" % (where, kind, name))
            if kind == "TYPE":
                check(f["type"] is None, "%s: second TYPE for %s" % (where, name))
                check(rest in _TYPES, "%s: unknown type %r" % (where, rest))
                f["type"] = rest
            else:
                check(f["help"] is None, "%s: second HELP for %s" % (where, name))
                check(re.search(r"\\[^\\n]", rest.replace("\\\\", "")) is None,
                      "%s: bad escape in HELP" % where)
                f["help"] = rest.replace("\\n", "\n").replace("\\\\", "\\")
            if current is not None and current != name:
                done.add(current)
            current = name
            continue
        m = re.match(r"(%s)(\{|\s)" % _NAME, line)
        check(m is not None, "%s: bad sample line %r" % (where, line[:80]))
        sname = m.group(1)
        rest = line[len(sname):]
        labels = {}
        if rest.startswith("{"):
            labels, rest = _parse_labels(rest[1:], where)
        check(rest.startswith(" "), "%s: expected a space before the value" % where)
        parts = rest.strip().split(" ")
        check(1 <= len(parts) <= 2, "%s: expected value [timestamp]" % where)
        value = _parse_value(parts[0], where)
        if len(parts) == 2:
            check(re.fullmatch(r"-?\d+", parts[1]) is not None, "%s: bad timestamp" % where)
        fam = family_of(sname)
        check(fam not in done, "%s: samples of %s are not contiguous" % (where, fam))
        if current is not None and current != fam:
            done.add(current)
        current = fam
        f = fams.setdefault(fam, {"type": None, "help": None, "samples": []})
        key = (sname, tuple(sorted(labels.items())))
        check(key not in series, "%s: duplicate series %s%s" % (where, sname, labels))
        series.add(key)
        f["samples"].append((sname, labels, value))

    for name, f in fams.items():
        t = f["type"] or "untyped"
        check(re.fullmatch(_NAME, name) is not None, "bad family name %s" % name)
        if t == "counter":
            check(name.endswith("_total"), "counter %s does not end in _total" % name)
            for s, labels, v in f["samples"]:
                check(s == name, "counter %s has a sample named %s" % (name, s))
                check(v >= 0, "counter %s%s is negative" % (name, labels))
        elif t == "histogram":
            _check_histogram(name, f["samples"])
    return fams


def _check_histogram(name, samples):
    groups = {}
    for s, labels, v in samples:
        check(s in (name + "_bucket", name + "_sum", name + "_count"),
              "histogram %s has a sample named %s" % (name, s))
        rest = tuple(sorted((k, x) for k, x in labels.items() if k != "le"))
        g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if s.endswith("_bucket"):
            check("le" in labels, "%s_bucket without le" % name)
            g["buckets"].append((_parse_value(labels["le"], name), v))
        elif s.endswith("_sum"):
            g["sum"] = v
        else:
            g["count"] = v
    for rest, g in groups.items():
        check(g["sum"] is not None and g["count"] is not None,
              "histogram %s%s lacks _sum or _count" % (name, dict(rest)))
        les = [le for le, _ in g["buckets"]]
        check(les == sorted(les), "histogram %s%s: buckets not in le order" % (name, dict(rest)))
        check(les and math.isinf(les[-1]), "histogram %s%s: no +Inf bucket" % (name, dict(rest)))
        counts = [c for _, c in g["buckets"]]
        check(all(a <= b for a, b in zip(counts, counts[1:])),
              "histogram %s%s: buckets not cumulative %s" % (name, dict(rest), counts))
        check(counts[-1] == g["count"], "histogram %s%s: +Inf bucket %s != _count %s"
              % (name, dict(rest), counts[-1], g["count"]))


def sample(fams, family, name=None, **labels):
    """The value of one series (None if absent)."""
    f = fams.get(family)
    if not f:
        return None
    for s, lab, v in f["samples"]:
        if s == (name or family) and lab == labels:
            return v
    return None


def scrape(port, tls=None, auth=None):
    """GET /metrics, checked and parsed."""
    headers = {"Authorization": auth} if auth else {}
    status, hdrs, body = request(port, "GET", "/metrics", headers=headers, tls=tls)
    check(status == 200, "/metrics answered %d: %r" % (status, body[:200]))
    check(hdrs.get("content-type") == "text/plain; version=0.0.4; charset=utf-8",
          "/metrics content type %r" % hdrs.get("content-type"))
    return parse_prometheus(body.decode("utf-8"))


def _selftest():
    """The checker must refuse what Prometheus refuses (run at import in tests)."""
    good = ("# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\\\"\\\\\\n\"} 3\n"
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3.5\n"
            "h_count 2\n")
    f = parse_prometheus(good)
    check(sample(f, "a_total", x="1\"\\\n") == 3, "self-test: label unescaping")
    bad = [
        "a_total 1",                                              # no final newline
        "# TYPE a_total counter\na_total -1\n",                   # negative counter
        "# TYPE a counter\na 1\n",                                # counter without _total
        "a{x=\"\\t\"} 1\n",                                       # bad escape
        "a{x=\"1\"} 1\na{x=\"1\"} 2\n",                           # duplicate series
        "a 1\nb 1\na{x=\"2\"} 1\n",                               # not contiguous
        "a 1\n# TYPE a gauge\n",                                  # TYPE after samples
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
        "a{1x=\"1\"} 1\n",                                        # bad label name
        "a 1 2 3\n",                                              # junk after timestamp
        "a x\n",                                                  # bad value
    ]
    for b in bad:
        try:
            parse_prometheus(b)
        except wt.TestFailure:
            continue
        raise wt.TestFailure("self-test: the checker accepted %r" % b)


_selftest()
