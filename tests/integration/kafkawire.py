"""Hand-written Kafka wire-format helpers for Weir's integration tests.

Owns: a table-driven CRC-32C (Castagnoli), a primitive encoder/decoder,
record batch v2 building and parsing, and a blocking connection that sends
requests with header v1 and reads responses with header v0.  Only the
non-flexible request versions the tests use are encoded here:
ApiVersions v0 (any version number), Metadata v1, Produce v3-v7,
Fetch v4, ListOffsets v1, CreateTopics v0-v4, and the consumer-group APIs
(non-flexible versions; see the section at the end).
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


# ------------------------------------------------------------- consumer groups
# Non-flexible versions only: FindCoordinator v0-2, JoinGroup v0-5,
# SyncGroup v0-3, Heartbeat v0-3, LeaveGroup v0-3, OffsetCommit v0-7,
# OffsetFetch v0-5, DescribeGroups v0-4, ListGroups v0-2, DeleteGroups v0-1.
# Parsers return plain dicts; each checks the version it is given.

API_OFFSET_COMMIT = 8
API_OFFSET_FETCH = 9
API_FIND_COORDINATOR = 10
API_JOIN_GROUP = 11
API_HEARTBEAT = 12
API_LEAVE_GROUP = 13
API_SYNC_GROUP = 14
API_DESCRIBE_GROUPS = 15
API_LIST_GROUPS = 16
API_DELETE_GROUPS = 42

# Kafka error codes the group tests look for.
ERR_NONE = 0
ERR_COORDINATOR_NOT_AVAILABLE = 15
ERR_ILLEGAL_GENERATION = 22
ERR_INCONSISTENT_GROUP_PROTOCOL = 23
ERR_INVALID_GROUP_ID = 24
ERR_UNKNOWN_MEMBER_ID = 25
ERR_INVALID_SESSION_TIMEOUT = 26
ERR_REBALANCE_IN_PROGRESS = 27
ERR_NON_EMPTY_GROUP = 68
ERR_GROUP_ID_NOT_FOUND = 69
ERR_MEMBER_ID_REQUIRED = 79
ERR_GROUP_MAX_SIZE_REACHED = 81
ERR_FENCED_INSTANCE_ID = 82


def consumer_subscription(topics, userdata=None):
    """ConsumerProtocolSubscription v0 (the metadata of a "consumer" protocol)."""
    return i16(0) + array(topics, string) + kbytes(userdata)


def consumer_assignment(assign, userdata=None):
    """ConsumerProtocolAssignment v0; assign: {topic: [partitions]}."""
    return i16(0) + array(sorted(assign.items()), lambda tp: string(tp[0]) + array(
        tp[1], i32)) + kbytes(userdata)


def parse_consumer_assignment(b):
    """{topic: [partitions]} from ConsumerProtocolAssignment bytes (b"" -> {})."""
    if not b:
        return {}
    r = Reader(b)
    r.i16()
    out = {}
    for _ in range(r.i32()):
        t = r.string()
        out[t] = r.array(lambda x: x.i32()) or []
    return out


def find_coordinator_body(key, version=1):
    return string(key) + (i8(0) if version >= 1 else b"")


def parse_find_coordinator(r, version=1):
    out = {}
    if version >= 1:
        r.i32()
    out["error"] = r.i16()
    if version >= 1:
        out["message"] = r.string()
    out["node_id"] = r.i32()
    out["host"] = r.string()
    out["port"] = r.i32()
    return out


def join_group_body(group, member_id, protocols, session_ms=10000, rebalance_ms=None,
                    instance_id=None, protocol_type="consumer", version=5):
    """protocols: [(name, metadata bytes)]."""
    body = string(group) + i32(session_ms)
    if version >= 1:
        body += i32(session_ms if rebalance_ms is None else rebalance_ms)
    body += string(member_id)
    if version >= 5:
        body += string(instance_id)
    body += string(protocol_type)
    body += array(protocols, lambda p: string(p[0]) + kbytes(p[1]))
    return body


def parse_join_group(r, version=5):
    out = {}
    if version >= 2:
        r.i32()
    out["error"] = r.i16()
    out["generation"] = r.i32()
    out["protocol"] = r.string()
    out["leader"] = r.string()
    out["member_id"] = r.string()
    out["members"] = r.array(lambda x: {
        "member_id": x.string(),
        "instance_id": x.string() if version >= 5 else None,
        "metadata": x.kbytes()})
    return out


def sync_group_body(group, generation, member_id, assignments, instance_id=None, version=3):
    """assignments: [(member_id, assignment bytes)] (the leader's; [] otherwise)."""
    body = string(group) + i32(generation) + string(member_id)
    if version >= 3:
        body += string(instance_id)
    return body + array(assignments, lambda a: string(a[0]) + kbytes(a[1]))


def parse_sync_group(r, version=3):
    if version >= 1:
        r.i32()
    return {"error": r.i16(), "assignment": r.kbytes()}


def heartbeat_body(group, generation, member_id, instance_id=None, version=3):
    body = string(group) + i32(generation) + string(member_id)
    if version >= 3:
        body += string(instance_id)
    return body


def parse_heartbeat(r, version=3):
    if version >= 1:
        r.i32()
    return r.i16()


def leave_group_body(group, members, version=3):
    """members: [(member_id, instance_id)] (v0-2: exactly one, by member id)."""
    if version < 3:
        return string(group) + string(members[0][0])
    return string(group) + array(members, lambda m: string(m[0]) + string(m[1]))


def parse_leave_group(r, version=3):
    if version >= 1:
        r.i32()
    out = {"error": r.i16()}
    if version >= 3:
        out["members"] = r.array(lambda x: (x.string(), x.string(), x.i16()))
    return out


def offset_commit_body(group, generation, member_id, offsets, instance_id=None, version=7):
    """offsets: {topic: [(partition, offset, metadata)]}."""
    body = string(group)
    if version >= 1:
        body += i32(generation) + string(member_id)
    if version >= 7:
        body += string(instance_id)
    if 2 <= version <= 4:
        body += i64(-1)

    def part(p):
        b = i32(p[0]) + i64(p[1])
        if version >= 6:
            b += i32(-1)
        if version == 1:
            b += i64(-1)
        return b + string(p[2])
    return body + array(sorted(offsets.items()), lambda t: string(t[0]) + array(t[1], part))


def parse_offset_commit(r, version=7):
    """{(topic, partition): error_code}"""
    if version >= 3:
        r.i32()
    out = {}
    for _ in range(r.i32()):
        t = r.string()
        for _ in range(r.i32()):
            p = r.i32()
            out[(t, p)] = r.i16()
    return out


def offset_fetch_body(group, topics, version=5):
    """topics: {topic: [partitions]}, or None for every committed offset (v2+)."""
    if topics is None:
        return string(group) + i32(-1)
    return string(group) + array(sorted(topics.items()), lambda t: string(t[0]) + array(
        t[1], i32))


def parse_offset_fetch(r, version=5):
    """({(topic, partition): (offset, metadata, error_code)}, top-level error)"""
    if version >= 3:
        r.i32()
    out = {}
    for _ in range(r.i32()):
        t = r.string()
        for _ in range(r.i32()):
            p = r.i32()
            off = r.i64()
            if version >= 5:
                r.i32()
            md = r.string()
            out[(t, p)] = (off, md, r.i16())
    return out, (r.i16() if version >= 2 else 0)


def describe_groups_body(groups, version=4):
    body = array(groups, string)
    if version >= 3:
        body += i8(0)
    return body


def parse_describe_groups(r, version=4):
    """[{error, group_id, state, protocol_type, protocol, members: [...]}]"""
    if version >= 1:
        r.i32()

    def member(x):
        m = {"member_id": x.string()}
        m["instance_id"] = x.string() if version >= 4 else None
        m["client_id"] = x.string()
        m["client_host"] = x.string()
        m["metadata"] = x.kbytes()
        m["assignment"] = x.kbytes()
        return m

    def group(x):
        g = {"error": x.i16(), "group_id": x.string(), "state": x.string(),
             "protocol_type": x.string(), "protocol": x.string(),
             "members": x.array(member)}
        if version >= 3:
            x.i32()
        return g
    return r.array(group)


def parse_list_groups(r, version=2):
    """(error_code, {group_id: protocol_type})"""
    if version >= 1:
        r.i32()
    err = r.i16()
    return err, dict(r.array(lambda x: (x.string(), x.string())) or [])


def delete_groups_body(groups):
    return array(groups, string)


def parse_delete_groups(r):
    r.i32()
    return dict(r.array(lambda x: (x.string(), x.i16())) or [])
