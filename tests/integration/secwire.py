"""Wire-level helpers for Weir's security tests (run with /usr/bin/python3).

Owns: TLS connections for kafkawire.Conn (Python's ssl module, optional
client certificate), SaslHandshake / SaslAuthenticate encoding and
decoding, raw SASL token frames (SaslHandshake v0 style), and the sign-on
sequences both client styles use.
"""
import socket
import ssl
import struct

import kafkawire as kw

API_METADATA = 3
API_SASL_HANDSHAKE = 17
API_API_VERSIONS = 18
API_SASL_AUTHENTICATE = 36

SASL_AUTHENTICATION_FAILED = 58
ILLEGAL_SASL_STATE = 34
UNSUPPORTED_SASL_MECHANISM = 33


def tls_context(ca, cert=None, key=None, max_version=None):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = True
    if cert:
        ctx.load_cert_chain(cert, key)
    if max_version:
        ctx.maximum_version = max_version
    return ctx


def conn(port, ca=None, cert=None, key=None, timeout=15, client_id="weir-it-sec"):
    """A kafkawire.Conn, over TLS when ca is given (server name: localhost)."""
    c = kw.Conn(port, timeout=timeout, client_id=client_id)
    if ca:
        c.sock = tls_context(ca, cert, key).wrap_socket(c.sock, server_hostname="localhost")
    return c


def plain_token(user, password, authzid=""):
    return ("%s\0%s\0%s" % (authzid, user, password)).encode()


def handshake(c, version=1, mechanism="PLAIN"):
    """SaslHandshake; returns (error_code, mechanisms)."""
    r = c.request(API_SASL_HANDSHAKE, version, kw.string(mechanism))
    err = r.i16()
    mechs = r.array(lambda x: x.string())
    return err, mechs


def authenticate(c, token, version=1):
    """SaslAuthenticate; returns (error_code, error_message, auth_bytes, session_lifetime_ms)."""
    r = c.request(API_SASL_AUTHENTICATE, version, kw.kbytes(token))
    err = r.i16()
    msg = r.string()
    auth = r.kbytes()
    lifetime = r.i64() if version >= 1 else None
    return err, msg, auth, lifetime


def sign_on(c, user, password, version=1):
    """SaslHandshake v1 + SaslAuthenticate (librdkafka v0 / kafkajs v1 style)."""
    err, mechs = handshake(c, 1)
    if err:
        raise ValueError("SaslHandshake error %d (mechanisms %s)" % (err, mechs))
    return authenticate(c, plain_token(user, password), version)


def sign_on_raw(c, user, password):
    """SaslHandshake v0 + a raw token frame (kafka-python style); returns the raw
    answer token (b"" on success) or raises kafkawire.Closed."""
    err, mechs = handshake(c, 0)
    if err:
        raise ValueError("SaslHandshake v0 error %d" % err)
    tok = plain_token(user, password, authzid=user)
    c.send_raw(struct.pack(">i", len(tok)) + tok)
    n = struct.unpack(">i", c._recvn(4))[0]
    return c._recvn(n) if n > 0 else b""


def metadata(c):
    """Metadata v1 for all topics; returns the broker list [(id, host, port)]."""
    r = c.request(API_METADATA, 1, kw.i32(-1))
    brokers = r.array(lambda x: (x.i32(), x.string(), x.i32(), x.string()))
    return [(b[0], b[1], b[2]) for b in brokers]


def api_versions(c):
    r = c.request(API_API_VERSIONS, 0, b"")
    return kw.parse_api_versions_v0(r)


def is_closed(c, timeout=10):
    return c.wait_closed(timeout)


def raw_socket(port, timeout=10):
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def request_large(c, api_key, version, body):
    """Like kafkawire.Conn.request, reading the response with recv_into (fast for
    responses of many MB over TLS, where recv(n) allocates n bytes per record)."""
    corr = c.send(api_key, version, body)
    n = struct.unpack(">i", c._recvn(4))[0]
    buf = bytearray(n)
    mv = memoryview(buf)
    got = 0
    while got < n:
        k = c.sock.recv_into(mv[got:], n - got)
        if not k:
            raise kw.Closed("connection closed by broker")
        got += k
    r = kw.Reader(bytes(buf))
    got_corr = r.i32()
    if got_corr != corr:
        raise ValueError("correlation id %d, expected %d" % (got_corr, corr))
    return r
