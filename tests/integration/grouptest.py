"""Shared code of the consumer-group integration tests (test_groups_*; run
with /usr/bin/python3).

Owns: topic creation and deterministic records produced over the raw wire
(kafkawire.py), one partition at a time so that record i of a partition is
at offset i; end offsets, committed offsets and group descriptions read over
the raw wire; and the member logs that the tests' consumer processes write,
with the checks made on them.

Member log lines (text, one event per line, appended and flushed as they
happen; <ts> is time.time() of the writer):
  A <ts> <topic>:<p>,...      the member's assignment after a rebalance
                              ("A <ts> -" for none)
  R <ts> <topic> <p> <offset> <key hex> <value hex>   a record processed
  C <ts> <topic> <p> <offset> a commit acknowledged: next offset to read
"""
import os
import time

import kafkawire as kw
import weirtest as wt
from weirtest import check


# ------------------------------------------------------------------ records

def key_of(tag, p, i):
    return b"%s-p%d-%06d" % (tag.encode(), p, i)


def value_of(tag, p, i):
    """ASCII (so kcat can print it), 1..~600 bytes, different for each record."""
    k = key_of(tag, p, i)
    return k + b":" + wt.det_bytes(k.decode(), (i * 37) % 300).hex().encode()


def create_topic(port, topic, parts):
    c = kw.Conn(port)
    try:
        r = c.request(19, 3, kw.create_topics_body([(topic, parts, 1)]))
        res = kw.parse_create_topics(r, 3)
        check(len(res) == 1 and res[0][1] == 0, "CreateTopics %s: %r" % (topic, res))
    finally:
        c.close()


def produce(port, topic, p, start, n, tag, chunk=500):
    """Records start..start+n-1 of partition p (keys and values of tag) at
    offsets start..; fails unless they land exactly there."""
    c = kw.Conn(port)
    try:
        i = start
        while i < start + n:
            m = min(chunk, start + n - i)
            ts = int(time.time() * 1000)
            recs = [(key_of(tag, p, j), value_of(tag, p, j), [], ts) for j in range(i, i + m)]
            r = c.request(0, 7, kw.produce_body(topic, p, kw.build_batch(recs, ts)))
            (_, _, err, base), = kw.parse_produce(r, 7)
            check(err == 0 and base == i, "produce %s[%d]: error %d, base offset %d, expected %d"
                  % (topic, p, err, base, i))
            i += m
    finally:
        c.close()


def end_offsets(port, topic, parts):
    c = kw.Conn(port)
    try:
        r = c.request(2, 1, kw.list_offsets_body(topic, list(range(parts))))
        out = kw.parse_list_offsets_v1(r)
        check(all(out[p][0] == 0 for p in range(parts)), "ListOffsets %s: %r" % (topic, out))
        return {p: out[p][1] for p in range(parts)}
    finally:
        c.close()


def committed(port, group, topic, parts):
    """{partition: committed offset (-1: none)} by OffsetFetch v5."""
    c = kw.Conn(port)
    try:
        r = c.request(kw.API_OFFSET_FETCH, 5, kw.offset_fetch_body(group, {topic: list(
            range(parts))}))
        out, err = kw.parse_offset_fetch(r, 5)
        check(err == 0, "OffsetFetch %s: error %d" % (group, err))
        return {p: out[(topic, p)][0] for p in range(parts)}
    finally:
        c.close()


def describe(port, group):
    """The group as DescribeGroups v4 sees it (dict, see kw.parse_describe_groups)."""
    c = kw.Conn(port)
    try:
        r = c.request(kw.API_DESCRIBE_GROUPS, 4, kw.describe_groups_body([group]))
        g, = kw.parse_describe_groups(r, 4)
        check(g["error"] == 0, "DescribeGroups %s: error %d" % (group, g["error"]))
        for m in g["members"]:
            m["assigned"] = kw.parse_consumer_assignment(m["assignment"])
        return g
    finally:
        c.close()


def wait_for(what, cond, timeout, interval=0.1):
    """Polls cond() until it returns a true value (returned); fails after timeout s."""
    deadline = time.time() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.time() > deadline:
            raise wt.TestFailure("timed out after %ds waiting for %s" % (timeout, what))
        time.sleep(interval)


# -------------------------------------------------------------- member logs

class MemberLog:
    """Reads a member log (see the module doc) as it grows."""

    def __init__(self, path, name=None):
        self.path = path
        self.name = name or os.path.basename(path)
        self.assigns = []   # (ts, set of (topic, p))
        self.records = []   # (ts, topic, p, offset, key, value)
        self.commits = []   # (ts, topic, p, offset)
        self._pos = 0
        self._partial = b""

    def read(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self._pos)
                data = f.read()
        except FileNotFoundError:
            return self
        self._pos += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        for ln in lines:
            f = ln.decode().split(" ")
            ts = float(f[1])
            if f[0] == "A":
                parts = set()
                if f[2] != "-":
                    for tp in f[2].split(","):
                        t, p = tp.rsplit(":", 1)
                        parts.add((t, int(p)))
                self.assigns.append((ts, parts))
            elif f[0] == "R":
                key = None if f[5] == "-" else bytes.fromhex(f[5])
                val = None if f[6] == "-" else bytes.fromhex(f[6])
                self.records.append((ts, f[2], int(f[3]), int(f[4]), key, val))
            elif f[0] == "C":
                self.commits.append((ts, f[2], int(f[3]), int(f[4])))
        return self

    def assignment(self):
        """The latest assignment (set of (topic, p)), None before the first."""
        return self.assigns[-1][1] if self.assigns else None

    def first_assign_after(self, t):
        for ts, parts in self.assigns:
            if ts > t:
                return ts, parts
        return None


def log_line(f, kind, *fields):
    """Writes one member log line to the open binary file f and flushes it."""
    f.write(("%s %.6f %s\n" % (kind, time.time(), " ".join(str(x) for x in fields))).encode())
    f.flush()


def hexb(b):
    return "-" if b is None else (b.hex() or "")


def check_records(logs, topic, ends, tag):
    """Every record of topic below ends[p] was processed by some member, with
    the key and value produced; nothing past the end.  Returns
    (processed, duplicates)."""
    seen = {}
    for lg in logs:
        for ts, t, p, off, key, val in lg.records:
            if t != topic:
                continue
            check(off < ends[p], "%s: %s[%d]@%d is past the end offset %d"
                  % (lg.name, t, p, off, ends[p]))
            check(key == key_of(tag, p, off) and val == value_of(tag, p, off),
                  "%s: %s[%d]@%d: key %r / value differ from what was produced"
                  % (lg.name, t, p, off, key))
            seen[(p, off)] = seen.get((p, off), 0) + 1
    missing = [(p, o) for p in ends for o in range(ends[p]) if (p, o) not in seen]
    check(not missing, "%d records never processed, e.g. %s" % (len(missing), missing[:10]))
    total = sum(seen.values())
    return total, total - len(seen)


def processed_count(logs, topic):
    return len({(p, off) for lg in logs for _, t, p, off, _, _ in lg.records if t == topic})
