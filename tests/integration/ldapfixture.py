"""Security fixtures for Weir's integration tests (run with /usr/bin/python3).

Owns: a throw-away certificate authority made with the openssl CLI at test
time (CA, broker certificate, client certificates, an encrypted key), and a
real OpenLDAP slapd (Debian's slapd package) started on an ephemeral
loopback port from a generated slapd.conf and LDIF, with StartTLS and
ldaps, the password policy overlay (lockout after 3 failures) and a
campus directory:

  people (ou=people,dc=campus,dc=edu; inetOrgPerson + posixAccount):
    alice, bob, carol, dave, erin, weiradmin   passwords: PASSWORDS[name]
  groups (ou=groups; groupOfNames, member = DN):
    stream-team: alice, carol     data-team: bob     weir-admins: weiradmin
  posix groups (ou=posixgroups; posixGroup, memberUid = name):
    streamers: alice              analysts: bob, carol
  service account for searches: cn=weir-svc,ou=services (SERVICE_PASSWORD)

Every process is stopped by pid and every directory removed at exit
(through weirtest's cleanup list).
"""
import base64
import hashlib
import os
import signal
import socket
import subprocess
import time

import weirtest as wt
from weirtest import check

SUFFIX = "dc=campus,dc=edu"
ROOT_DN = "cn=root," + SUFFIX
ROOT_PW = "root-secret"
SERVICE_DN = "cn=weir-svc,ou=services," + SUFFIX
SERVICE_PASSWORD = "svc-Secret-42"
PASSWORDS = {
    "alice": "alice-Pw-1",
    "bob": "bob-Pw-2",
    "carol": "carol-Pw-3",
    "dave": "dave-Pw-4",       # locked out by the SASL test
    "erin": "erin-Pw-6",       # target of wrong-password attempts (may end up locked)
    "weiradmin": "admin-Pw-5",
}
GROUPS = {  # groupOfNames
    "stream-team": ["alice", "carol"],
    "data-team": ["bob"],
    "weir-admins": ["weiradmin"],
}
POSIX_GROUPS = {  # posixGroup / memberUid
    "streamers": ["alice"],
    "analysts": ["bob", "carol"],
}

_PROCS = []


def user_dn(name):
    return "uid=%s,ou=people,%s" % (name, SUFFIX)


def _run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)
    if p.returncode != 0:
        raise wt.TestFailure("%s failed (%d):\n%s" % (" ".join(cmd), p.returncode,
                                                        p.stdout.decode(errors="replace")))
    return p.stdout


# ------------------------------------------------------------------ certificates

class CA:
    """A certificate authority in dir, with helpers to issue certificates."""

    def __init__(self, dir, name="Weir Test CA"):
        self.dir = dir
        os.makedirs(dir, exist_ok=True)
        self.key = os.path.join(dir, "ca.key")
        self.cert = os.path.join(dir, "ca.pem")
        self.serial = 1000
        _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "30",
              "-subj", "/O=Campus/CN=%s" % name,
              "-addext", "basicConstraints=critical,CA:TRUE",
              "-addext", "keyUsage=critical,keyCertSign,cRLSign"])

    def issue(self, name, subject, server=False, key_password=None, rsa=False):
        """Key + certificate signed by this CA.

        Returns dict(key=, cert=, bundle=) where bundle is key followed by the
        certificate chain (Kafka's PEM key store layout).  With key_password the
        key (and the bundle's key) is encrypted with it.
        """
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        cert = os.path.join(self.dir, name + ".pem")
        ext = os.path.join(self.dir, name + ".ext")
        if rsa:
            _run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                  "-out", key])
        else:
            _run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-out", key])
        _run(["openssl", "req", "-new", "-key", key, "-out", csr, "-subj", subject])
        with open(ext, "w") as f:
            if server:
                f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                        "extendedKeyUsage=serverAuth\n"
                        "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
            else:
                f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                        "extendedKeyUsage=clientAuth\n")
        self.serial += 1
        _run(["openssl", "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
              "-set_serial", str(self.serial), "-days", "30", "-out", cert, "-extfile", ext])
        if key_password is not None:
            enc = os.path.join(self.dir, name + ".enc.key")
            _run(["openssl", "pkey", "-in", key, "-aes256", "-passout",
                  "pass:" + key_password, "-out", enc])
            key_for_bundle = enc
        else:
            key_for_bundle = key
        bundle = os.path.join(self.dir, name + ".bundle.pem")
        with open(bundle, "w") as out:
            for p in (key_for_bundle, cert):
                with open(p) as f:
                    out.write(f.read())
        return {"key": key, "cert": cert, "bundle": bundle}


# ------------------------------------------------------------------ slapd

def _ssha(password):
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _ldif():
    out = []

    def entry(dn, *lines):
        out.append("dn: %s\n%s\n" % (dn, "\n".join(lines)))

    entry(SUFFIX, "objectClass: dcObject", "objectClass: organization", "o: Campus",
          "dc: campus")
    for ou in ("people", "groups", "posixgroups", "services", "policies"):
        entry("ou=%s,%s" % (ou, SUFFIX), "objectClass: organizationalUnit", "ou: " + ou)
    entry("cn=default,ou=policies," + SUFFIX, "objectClass: device", "objectClass: pwdPolicy",
          "cn: default", "pwdAttribute: userPassword", "pwdLockout: TRUE", "pwdMaxFailure: 3",
          "pwdLockoutDuration: 0", "pwdFailureCountInterval: 0")
    for i, (name, pw) in enumerate(sorted(PASSWORDS.items())):
        entry(user_dn(name), "objectClass: inetOrgPerson", "objectClass: posixAccount",
              "uid: " + name, "cn: " + name.capitalize(), "sn: " + name.capitalize(),
              "uidNumber: %d" % (2000 + i), "gidNumber: 2000",
              "homeDirectory: /home/" + name, "userPassword: " + _ssha(pw))
    entry(SERVICE_DN, "objectClass: organizationalRole", "objectClass: simpleSecurityObject",
          "cn: weir-svc", "userPassword: " + _ssha(SERVICE_PASSWORD))
    for g, members in sorted(GROUPS.items()):
        entry("cn=%s,ou=groups,%s" % (g, SUFFIX), "objectClass: groupOfNames", "cn: " + g,
              *["member: " + user_dn(m) for m in members])
    for i, (g, members) in enumerate(sorted(POSIX_GROUPS.items())):
        entry("cn=%s,ou=posixgroups,%s" % (g, SUFFIX), "objectClass: posixGroup", "cn: " + g,
              "gidNumber: %d" % (3000 + i), *["memberUid: " + m for m in members])
    return "\n".join(out)


def _free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Slapd:
    """A real slapd on 127.0.0.1: ldap:// (StartTLS capable) and ldaps:// ports."""

    def __init__(self, ca, tag="ldap"):
        self.dir = wt.mkdtemp(tag)
        self.db = os.path.join(self.dir, "db")
        os.makedirs(self.db)
        self.ca = ca
        self.tls = ca.issue("slapd", "/O=Campus/CN=localhost", server=True)
        self.conf = os.path.join(self.dir, "slapd.conf")
        self.log = os.path.join(self.dir, "slapd.log")
        self.proc = None
        self.port = self.ldaps_port = None
        self.paused = False
        with open(self.conf, "w") as f:
            f.write("""# generated by tests/integration/ldapfixture.py
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile %(dir)s/slapd.pid
argsfile %(dir)s/slapd.args
TLSCACertificateFile %(ca)s
TLSCertificateFile %(cert)s
TLSCertificateKeyFile %(key)s
loglevel none

database mdb
maxsize 67108864
suffix "%(suffix)s"
rootdn "%(rootdn)s"
rootpw %(rootpw)s
directory %(db)s
overlay ppolicy
ppolicy_default "cn=default,ou=policies,%(suffix)s"
ppolicy_use_lockout
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to *
    by * read
""" % {"dir": self.dir, "ca": ca.cert, "cert": self.tls["cert"], "key": self.tls["key"],
                "suffix": SUFFIX, "rootdn": ROOT_DN, "rootpw": ROOT_PW, "db": self.db})
        ldif = os.path.join(self.dir, "campus.ldif")
        with open(ldif, "w") as f:
            f.write(_ldif())
        _run(["slapadd", "-q", "-f", self.conf, "-l", ldif])

    @property
    def url(self):
        return "ldap://127.0.0.1:%d" % self.port

    @property
    def ldaps_url(self):
        # An IP address: for "localhost" libldap checks the machine's FQDN.
        return "ldaps://127.0.0.1:%d" % self.ldaps_port

    def start(self, timeout=20):
        """Starts slapd (same ports as before on a restart)."""
        check(self.proc is None, "slapd already running")
        for attempt in range(5):
            if self.port is None or attempt > 0:
                self.port, self.ldaps_port = _free_ports(2)
            logf = open(self.log, "ab")
            self.proc = subprocess.Popen(
                ["slapd", "-d", "0", "-f", self.conf,
                 "-h", "ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/" % (self.port,
                                                                      self.ldaps_port)],
                stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
            logf.close()
            _PROCS.append(self.proc)
            deadline = time.time() + timeout
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    self.whoami("alice", PASSWORDS["alice"], expect_ok=True)
                    return self
                except (OSError, wt.TestFailure):
                    time.sleep(0.1)
            self._reap()
            if attempt == 0 and self.port is not None:
                continue  # ports taken meanwhile: try new ones
        raise wt.TestFailure("slapd did not start; log:\n" + self.read_log())

    def restart_same_ports(self, timeout=20):
        """Starts again on the ports it had (the broker's ldap.url stays valid)."""
        check(self.proc is None, "slapd already running")
        logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["slapd", "-d", "0", "-f", self.conf,
             "-h", "ldap://127.0.0.1:%d/ ldaps://127.0.0.1:%d/" % (self.port, self.ldaps_port)],
            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        logf.close()
        _PROCS.append(self.proc)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise wt.TestFailure("slapd exited on restart; log:\n" + self.read_log())
            try:
                self.whoami("alice", PASSWORDS["alice"], expect_ok=True)
                return self
            except wt.TestFailure:
                time.sleep(0.1)
        raise wt.TestFailure("slapd did not come back on port %d" % self.port)

    def _reap(self):
        if self.proc is None:
            return
        if self.paused:
            self.resume()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def stop(self):
        """Stops slapd (SIGTERM, waits): the directory is down."""
        self._reap()

    def pause(self):
        """SIGSTOP: connections are accepted by the kernel but never answered."""
        self.proc.send_signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self.proc.send_signal(signal.SIGCONT)
        self.paused = False

    def whoami(self, user, password, expect_ok=True):
        p = subprocess.run(["ldapwhoami", "-x", "-H", self.url, "-D", user_dn(user),
                            "-w", password, "-o", "nettimeout=3"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
        ok = p.returncode == 0
        if expect_ok is not None and ok != expect_ok:
            raise wt.TestFailure("ldapwhoami %s: exit %d: %s" % (user, p.returncode,
                                                                 p.stdout.decode().strip()))
        return ok

    def read_log(self):
        try:
            with open(self.log, "rb") as f:
                return f.read().decode(errors="replace")[-20000:]
        except OSError:
            return ""


def _cleanup():
    for p in _PROCS:
        try:
            if p.poll() is None:
                p.send_signal(signal.SIGCONT)
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        except Exception:
            pass


wt.add_cleanup(_cleanup)
