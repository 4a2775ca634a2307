"""stun.py: a small STUN/TURN client for the stress suite (RFC 8489, RFC 8656,
RFC 6062): messages, long-term and REST credentials, UDP, TCP and TLS
transports with stream framing. Written for attacks, so every byte it sends
can be controlled: transaction ids, raw resends, partial frames."""
import base64
import hashlib
import hmac
import os
import select
import socket
import ssl
import struct
import time
import zlib

MAGIC = 0x2112A442

BINDING, ALLOCATE, REFRESH, SEND, DATA = 0x001, 0x003, 0x004, 0x006, 0x007
CREATE_PERMISSION, CHANNEL_BIND, CONNECT, CONNECTION_BIND = 0x008, 0x009, 0x00A, 0x00B
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3

A_MAPPED, A_USERNAME, A_MI, A_ERROR = 0x0001, 0x0006, 0x0008, 0x0009
A_CHANNEL, A_LIFETIME, A_XOR_PEER, A_DATA = 0x000C, 0x000D, 0x0012, 0x0013
A_REALM, A_NONCE, A_XOR_RELAYED, A_EVEN_PORT = 0x0014, 0x0015, 0x0016, 0x0018
A_TRANSPORT, A_XOR_MAPPED, A_TOKEN, A_CONNECTION_ID = 0x0019, 0x0020, 0x0022, 0x002A
A_SOFTWARE, A_FINGERPRINT, A_RESPONSE_ORIGIN = 0x8022, 0x8028, 0x802B
UDP, TCP = 17, 6


def msg_type(method, cls):
    return ((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
            | ((cls & 1) << 4) | ((cls & 2) << 7))


def split_type(t):
    method = (t & 0x000F) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0F80)
    return method, ((t >> 4) & 1) | ((t >> 7) & 2)


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)


def xor_addr(host, port):
    ip = bytes(a ^ b for a, b in zip(socket.inet_aton(host), struct.pack("!I", MAGIC)))
    return struct.pack("!BBH", 0, 1, port ^ (MAGIC >> 16)) + ip


def unxor_addr(v):
    if not v or len(v) < 8 or v[1] != 1:
        return None
    port = struct.unpack("!H", v[2:4])[0] ^ (MAGIC >> 16)
    ip = bytes(a ^ b for a, b in zip(v[4:8], struct.pack("!I", MAGIC)))
    return socket.inet_ntoa(ip), port


def build(method, cls, attrs=b"", tid=None, key=None, fingerprint=False):
    """(bytes, tid). key: MESSAGE-INTEGRITY over what precedes it."""
    tid = tid or os.urandom(12)
    t = msg_type(method, cls)
    body = attrs
    if key is not None:
        hdr = struct.pack("!HHI", t, len(body) + 24, MAGIC) + tid
        body += attr(A_MI, hmac.new(key, hdr + body, hashlib.sha1).digest())
    if fingerprint:
        hdr = struct.pack("!HHI", t, len(body) + 8, MAGIC) + tid
        crc = (zlib.crc32(hdr + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += attr(A_FINGERPRINT, struct.pack("!I", crc))
    return struct.pack("!HHI", t, len(body), MAGIC) + tid + body, tid


class Msg:
    __slots__ = ("method", "cls", "tid", "attrs", "raw")

    def code(self):
        """200 for a success, the error code for an error answer."""
        if self.cls == SUCCESS:
            return 200
        e = self.attrs.get(A_ERROR, b"\0\0\0\0")
        return (e[2] & 7) * 100 + e[3] if len(e) >= 4 else 0

    def addr(self, t):
        return unxor_addr(self.attrs.get(t))


def parse(buf):
    if len(buf) < 20 or buf[0] & 0xC0:
        return None
    t, length, magic = struct.unpack("!HHI", buf[:8])
    if magic != MAGIC or len(buf) < 20 + length:
        return None
    m = Msg()
    m.method, m.cls = split_type(t)
    m.tid, m.raw, m.attrs = buf[8:20], buf[:20 + length], {}
    body = buf[20:20 + length]
    while len(body) >= 4:
        at, al = struct.unpack("!HH", body[:4])
        m.attrs.setdefault(at, body[4:4 + al])
        body = body[4 + al + (-al % 4):]
    return m


def chdata(channel, payload, stream=False):
    b = struct.pack("!HH", channel, len(payload)) + payload
    return b + b"\0" * (-len(b) % 4) if stream else b


def frame_len(buf):
    """Length of the frame at the head of a stream buffer, 0 if unknown yet."""
    if len(buf) < 4:
        return 0
    if buf[0] & 0xC0 == 0x40:
        n = 4 + struct.unpack("!H", buf[2:4])[0]
        return n + (-n % 4)
    return 20 + struct.unpack("!H", buf[2:4])[0]


def rest_credentials(secret, name, ttl=3600, now=None):
    user = "%d:%s" % (int(now or time.time()) + ttl, name)
    pw = base64.b64encode(hmac.new(secret.encode(), user.encode(), hashlib.sha1).digest()).decode()
    return user, pw


def tls_client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Closed(Exception):
    pass


class Udp:
    """One UDP client socket towards one server address."""

    def __init__(self, server, bind=None):
        self.server = server
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((bind or "127.0.0.1", 0))
        self.stream = False

    def send(self, data):
        self.sock.sendto(data, self.server)

    def recv(self, timeout):
        """(bytes, from) or None."""
        r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
        if not r:
            return None
        return self.sock.recvfrom(70000)

    def close(self):
        self.sock.close()


class Stream:
    """A TCP or TLS connection with STUN/ChannelData framing."""

    def __init__(self, server, tls=False, bind=None, timeout=5.0):
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if bind:
            raw.bind((bind, 0))
        raw.settimeout(timeout)
        raw.connect(server)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = tls_client_context().wrap_socket(raw) if tls else raw
        self.server, self.buf, self.stream = server, b"", True

    def send(self, data):
        self.sock.settimeout(10)
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise Closed(str(e))

    def recv(self, timeout):
        """(frame, server) or None on timeout; Closed on EOF."""
        deadline = time.monotonic() + timeout
        while True:
            n = frame_len(self.buf)
            if n and len(self.buf) >= n:
                f, self.buf = self.buf[:n], self.buf[n:]
                return f, self.server
            left = deadline - time.monotonic()
            pending = isinstance(self.sock, ssl.SSLSocket) and self.sock.pending()
            if left <= 0 and not pending:
                return None
            if not pending:
                r, _, _ = select.select([self.sock], [], [], left)
                if not r:
                    return None
            self.sock.settimeout(max(left, 0.05))
            try:
                c = self.sock.recv(1 << 17)
            except (ssl.SSLWantReadError, socket.timeout):
                continue
            except OSError as e:
                raise Closed(str(e))
            if not c:
                raise Closed("EOF")
            self.buf += c

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Turn:
    """A TURN client on one transport. Credentials: user+password, or a REST
    secret and a name. Indications and ChannelData that arrive while a
    request waits are kept in .inbox."""

    def __init__(self, tr, user=None, password=None, secret=None, name=None, ttl=3600):
        if secret:
            user, password = rest_credentials(secret, name or "user", ttl)
        self.tr, self.user, self.password = tr, user, password
        self.realm = self.nonce = self.key = None
        self.inbox, self.last_raw = [], None

    def _auth_attrs(self):
        return attr(A_USERNAME, self.user.encode()) + attr(A_REALM, self.realm) + attr(A_NONCE, self.nonce)

    def request(self, method, attrs=b"", timeout=2.0, tid=None):
        """The answer (Msg) or None on timeout. A 401/438 challenge is met
        once with credentials (a fresh transaction)."""
        for _ in range(2):
            body = attrs + (self._auth_attrs() if self.key else b"")
            raw, t = build(method, REQUEST, body, tid=tid, key=self.key)
            self.last_raw = raw
            self.tr.send(raw)
            m = self.wait(t, timeout)
            if m is None:
                return None
            c = m.code()
            if c in (401, 438) and self.user and A_NONCE in m.attrs and (c == 438 or not self.key):
                self.realm = m.attrs.get(A_REALM, self.realm)
                self.nonce = m.attrs[A_NONCE]
                self.key = hashlib.md5(b"%s:%s:%s" % (self.user.encode(), self.realm,
                                                     self.password.encode())).digest()
                tid = None
                continue
            return m
        return m

    def wait(self, tid, timeout):
        deadline = time.monotonic() + timeout
        while True:
            got = self.tr.recv(deadline - time.monotonic())
            if got is None:
                return None
            data = got[0]
            if data and data[0] & 0xC0 == 0x40:
                self.inbox.append(("chdata", data))
                continue
            m = parse(data)
            if m is None:
                continue
            if m.cls == INDICATION:
                self.inbox.append(("ind", m))
                continue
            if m.tid == tid:
                return m

    def allocate(self, transport=UDP, extra=b"", timeout=2.0):
        return self.request(ALLOCATE, attr(A_TRANSPORT, bytes([transport, 0, 0, 0])) + extra, timeout)

    def refresh(self, lifetime=0):
        return self.request(REFRESH, attr(A_LIFETIME, struct.pack("!I", lifetime)))

    def permit(self, *peers):
        return self.request(CREATE_PERMISSION, b"".join(attr(A_XOR_PEER, xor_addr(h, p)) for h, p in peers))

    def channel_bind(self, number, peer):
        return self.request(CHANNEL_BIND, attr(A_CHANNEL, struct.pack("!HH", number, 0))
                            + attr(A_XOR_PEER, xor_addr(*peer)))

    def connect(self, peer, timeout=5.0):
        return self.request(CONNECT, attr(A_XOR_PEER, xor_addr(*peer)), timeout)

    def send_indication(self, peer, data):
        raw, _ = build(SEND, INDICATION, attr(A_XOR_PEER, xor_addr(*peer)) + attr(A_DATA, data))
        self.tr.send(raw)

    def send_chdata(self, channel, data):
        self.tr.send(chdata(channel, data, self.tr.stream))

    def next_data(self, timeout):
        """(peer or channel, payload) of the next Data indication or
        ChannelData, or None."""
        deadline = time.monotonic() + timeout
        while True:
            while self.inbox:
                kind, x = self.inbox.pop(0)
                if kind == "chdata":
                    ch, n = struct.unpack("!HH", x[:4])
                    return ch, x[4:4 + n]
                if x.method == DATA:
                    return unxor_addr(x.attrs.get(A_XOR_PEER)), x.attrs.get(A_DATA, b"")
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            got = self.tr.recv(left)
            if got is None:
                return None
            data = got[0]
            if data and data[0] & 0xC0 == 0x40:
                self.inbox.append(("chdata", data))
            else:
                m = parse(data)
                if m is not None and m.cls == INDICATION:
                    self.inbox.append(("ind", m))
