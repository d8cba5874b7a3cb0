"""Hand-written Kafka wire-format helpers for Weir's integration tests.

Owns: a table-driven CRC-32C (Castagnoli), a primitive encoder/decoder,
record batch v2 building and parsing, and a blocking connection that sends
requests with header v1 and reads responses with header v0.  Only the
non-flexible request versions the tests use are encoded here:
ApiVersions v0 (any version number), Metadata v1, Produce v3-v7,
Fetch v4, ListOffsets v1, CreateTopics v0-v4.
"""
import socket
import struct
import time

# ------------------------------------------------------------------ CRC-32C


def _crc32c_table():
    poly = 0x82F63B78  # reversed Castagnoli polynomial
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    t = _CRC_TABLE
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value


# ------------------------------------------------------------------ encoding

def i8(v):
    return struct.pack(">b", v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def u32(v):
    return struct.pack(">I", v)


def i64(v):
    return struct.pack(">q", v)


def string(s):
    """Kafka STRING / NULLABLE_STRING (None -> length -1)."""
    if s is None:
        return i16(-1)
    b = s.encode() if isinstance(s, str) else s
    return i16(len(b)) + b


def kbytes(b):
    """Kafka BYTES / NULLABLE_BYTES."""
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items, enc):
    if items is None:
        return i32(-1)
    return i32(len(items)) + b"".join(enc(x) for x in items)


def varint(v):
    """Zig-zag signed varint (also used for varlong)."""
    z = (v << 1) ^ (v >> 63)
    z &= (1 << 64) - 1
    out = bytearray()
    while z >= 0x80:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


class Reader:
    """Bounds-checked big-endian reader; raises ValueError on a short read."""

    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError("short read: want %d at %d of %d" % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def _u(self, fmt, n):
        return struct.unpack(fmt, self.take(n))[0]

    def i8(self):
        return self._u(">b", 1)

    def i16(self):
        return self._u(">h", 2)

    def i32(self):
        return self._u(">i", 4)

    def u32(self):
        return self._u(">I", 4)

    def i64(self):
        return self._u(">q", 8)

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode("utf-8", "replace")

    def kbytes(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def array(self, dec):
        n = self.i32()
        if n < 0:
            return None
        return [dec(self) for _ in range(n)]

    def varint(self):
        shift = 0
        z = 0
        while True:
            b = self.take(1)[0]
            z |= (b & 0x7F) << shift
            if not b & 0x80:
                break
            shift += 7
            if shift > 63:
                raise ValueError("varint too long")
        return (z >> 1) ^ -(z & 1)

    def remaining(self):
        return len(self.data) - self.pos


# ------------------------------------------------------------ record batches

CODEC_NAMES = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}


def encode_record(offset_delta, ts_delta, key, value, headers):
    body = (i8(0) + varint(ts_delta) + varint(offset_delta)
            + (varint(-1) if key is None else varint(len(key)) + key)
            + (varint(-1) if value is None else varint(len(value)) + value)
            + varint(len(headers)))
    for hk, hv in headers:
        hkb = hk.encode()
        body += varint(len(hkb)) + hkb
        body += varint(-1) if hv is None else varint(len(hv)) + hv
    return varint(len(body)) + body


def build_batch(records, base_ts, producer_id=-1, producer_epoch=-1, base_sequence=-1,
                attributes=0, corrupt_crc=False):
    """An uncompressed record batch (magic 2) with base offset 0.

    records: list of (key, value, headers, timestamp_ms).
    """
    recs = b"".join(encode_record(n, ts - base_ts, k, v, h)
                    for n, (k, v, h, ts) in enumerate(records))
    max_ts = max(ts for _, _, _, ts in records)
    after_crc = (i16(attributes) + i32(len(records) - 1) + i64(base_ts) + i64(max_ts)
                 + i64(producer_id) + i16(producer_epoch) + i32(base_sequence)
                 + i32(len(records)) + recs)
    crc = crc32c(after_crc)
    if corrupt_crc:
        crc ^= 0x5A5A5A5A
    after_len = i32(0) + i8(2) + u32(crc) + after_crc  # partition leader epoch, magic, crc
    return i64(0) + i32(len(after_len)) + after_len


def parse_batches(data):
    """Parse concatenated record batches (a Fetch records field or a .log file).

    Returns a list of dicts; a trailing partial batch (allowed in Fetch) is
    ignored.  Records are decoded only for uncompressed batches.
    """
    out = []
    pos = 0
    while len(data) - pos >= 12:
        base_offset, length = struct.unpack_from(">qi", data, pos)
        if length < 49 or pos + 12 + length > len(data):
            break
        r = Reader(data, pos + 12)
        b = {"base_offset": base_offset, "length": length}
        b["leader_epoch"] = r.i32()
        b["magic"] = r.i8()
        b["crc"] = r.u32()
        crc_start = r.pos
        b["crc_ok"] = crc32c(data[crc_start:pos + 12 + length]) == b["crc"]
        b["attributes"] = r.i16()
        b["codec"] = b["attributes"] & 7
        b["last_offset_delta"] = r.i32()
        b["first_ts"] = r.i64()
        b["max_ts"] = r.i64()
        b["producer_id"] = r.i64()
        b["producer_epoch"] = r.i16()
        b["base_sequence"] = r.i32()
        b["count"] = r.i32()
        if b["codec"] == 0:
            recs = []
            for _ in range(b["count"]):
                rlen = r.varint()
                rr = Reader(r.take(rlen))
                rr.i8()
                tsd = rr.varint()
                od = rr.varint()
                kl = rr.varint()
                key = None if kl < 0 else rr.take(kl)
                vl = rr.varint()
                val = None if vl < 0 else rr.take(vl)
                hdrs = []
                for _ in range(rr.varint()):
                    hk = rr.take(rr.varint()).decode()
                    hl = rr.varint()
                    hdrs.append((hk, None if hl < 0 else rr.take(hl)))
                recs.append({"offset": base_offset + od, "timestamp": b["first_ts"] + tsd,
                             "key": key, "value": val, "headers": hdrs})
            b["records"] = recs
        out.append(b)
        pos += 12 + length
    return out


# ---------------------------------------------------------------- connection

class Closed(Exception):
    """The broker closed the connection."""


class Conn:
    """One blocking TCP connection speaking request header v1 / response header v0."""

    def __init__(self, port, host="127.0.0.1", timeout=15, client_id="weir-it-raw"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.client_id = client_id
        self.corr = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, api_key, version, body):
        self.corr += 1
        hdr = i16(api_key) + i16(version) + i32(self.corr) + string(self.client_id)
        frame = hdr + body
        self.sock.sendall(i32(len(frame)) + frame)
        return self.corr

    def _recvn(self, n):
        buf = bytearray()
        while len(buf) < n:
            try:
                c = self.sock.recv(n - len(buf))
            except ConnectionResetError:
                raise Closed("connection reset")
            if not c:
                raise Closed("connection closed by broker")
            buf += c
        return bytes(buf)

    def recv(self):
        """Next response: (correlation_id, Reader over the body)."""
        n = struct.unpack(">i", self._recvn(4))[0]
        data = self._recvn(n)
        r = Reader(data)
        return r.i32(), r

    def request(self, api_key, version, body):
        corr = self.send(api_key, version, body)
        got, r = self.recv()
        if got != corr:
            raise ValueError("correlation id %d, expected %d" % (got, corr))
        return r

    def wait_closed(self, timeout=10):
        """True if the broker closes the connection within timeout (data read is discarded)."""
        self.sock.settimeout(0.5)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                c = self.sock.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not c:
                return True
        return False


# ------------------------------------------------------------------ requests

def api_versions_body():
    return b""


def parse_api_versions_v0(r):
    err = r.i16()
    apis = r.array(lambda x: (x.i16(), x.i16(), x.i16()))
    return err, {k: (lo, hi) for k, lo, hi in (apis or [])}


def produce_body(topic, partition, batch, acks=-1, timeout_ms=10000, version=7):
    assert version >= 3
    return (string(None) + i16(acks) + i32(timeout_ms)
            + array([topic], lambda t: string(t) + array(
                [partition], lambda p: i32(p) + kbytes(batch))))


def parse_produce(r, version=7):
    """[(topic, partition, error_code, base_offset)]"""
    out = []
    for _ in range(r.i32()):
        t = r.string()
        for _ in range(r.i32()):
            p = r.i32()
            err = r.i16()
            base = r.i64()
            if version >= 2:
                r.i64()  # log_append_time
            if version >= 5:
                r.i64()  # log_start_offset
            out.append((t, p, err, base))
    return out


def list_offsets_body(topic, partitions, timestamp=-1):
    return i32(-1) + array([topic], lambda t: string(t) + array(
        partitions, lambda p: i32(p) + i64(timestamp)))


def parse_list_offsets_v1(r):
    """{partition: (error_code, offset)}"""
    out = {}
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            p = r.i32()
            err = r.i16()
            r.i64()
            out[p] = (err, r.i64())
    return out


def fetch_v4_body(topic, partition, offset, max_bytes=8 * 1024 * 1024, max_wait_ms=100):
    return (i32(-1) + i32(max_wait_ms) + i32(1) + i32(max_bytes) + i8(0)
            + array([topic], lambda t: string(t) + array(
                [partition], lambda p: i32(p) + i64(offset) + i32(max_bytes))))


def parse_fetch_v4(r):
    """{partition: (error_code, high_watermark, records_bytes)}"""
    r.i32()  # throttle
    out = {}
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            p = r.i32()
            err = r.i16()
            hw = r.i64()
            r.i64()  # last stable offset
            r.array(lambda x: (x.i64(), x.i64()))
            out[p] = (err, hw, r.kbytes() or b"")
    return out


def create_topics_body(topics, timeout_ms=10000, validate_only=False, version=3):
    """topics: [(name, num_partitions, replication_factor)]"""
    body = array(topics, lambda t: string(t[0]) + i32(t[1]) + i16(t[2])
                 + array([], None) + array([], None)) + i32(timeout_ms)
    if version >= 1:
        body += i8(1 if validate_only else 0)
    return body


def parse_create_topics(r, version=3):
    """[(name, error_code, error_message)]"""
    if version >= 2:
        r.i32()
    out = []
    for _ in range(r.i32()):
        name = r.string()
        err = r.i16()
        msg = r.string() if version >= 1 else None
        out.append((name, err, msg))
    return out


def metadata_v1_body(topics):
    return array(topics, string)


def fetch_all_raw(port, topic, partition, end_offset, timeout=30):
    """Raw Fetch v4 from offset 0 up to end_offset; returns the batches."""
    c = Conn(port)
    try:
        batches = []
        nxt = 0
        deadline = time.time() + timeout
        while nxt < end_offset:
            if time.time() > deadline:
                raise TimeoutError("raw fetch %s[%d] stuck at offset %d of %d"
                                   % (topic, partition, nxt, end_offset))
            r = c.request(1, 4, fetch_v4_body(topic, partition, nxt))
            err, hw, data = parse_fetch_v4(r)[partition]
            if err:
                raise ValueError("raw fetch %s[%d] at %d: error %d" % (topic, partition, nxt, err))
            for b in parse_batches(data):
                if b["base_offset"] + b["last_offset_delta"] < nxt:
                    continue
                batches.append(b)
                nxt = b["base_offset"] + b["last_offset_delta"] + 1
        return batches
    finally:
        c.close()
