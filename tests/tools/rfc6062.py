#!/usr/bin/env python3
"""tests/tools/rfc6062.py: a stalling RFC 6062 (TURN TCP relay) client and
TCP peers, for tests/integration/avedge_tcprelay_pressure.sh: edgeprobe
always reads, and these must stall on purpose.

    rfc6062.py client mode=pull|push|control-bind server=H:P peer=H:P
                      user=U pass=P [tls=1] [bytes=N] [hold=F] [bound=F]
                      [progress=F]
    rfc6062.py peer mode=push|sink listen=H:P [bytes=N] [hold=F] [progress=F]

Each prints JSON lines of what it saw and exits 1 on an error (which it
prints as {"error": ...}). hold=F stalls until the file F exists;
progress=F holds the bytes pushed so far; bound=F appears once the data
connection is bound. Bytes are i % 251 for the i-th byte of a stream, so
order and loss show. Every run ends within PY_DEADLINE seconds (150)."""
import hashlib, hmac, json, os, signal, socket, ssl, struct, sys, time

MAGIC = 0x2112A442
ALLOCATE, REFRESH, CREATE_PERMISSION, CONNECT, CONNECTION_BIND = 0x003, 0x004, 0x008, 0x00A, 0x00B
USERNAME, MI, ERROR_CODE, LIFETIME, XOR_PEER = 0x0006, 0x0008, 0x0009, 0x000D, 0x0012
REALM, NONCE, REQUESTED_TRANSPORT, CONNECTION_ID = 0x0014, 0x0015, 0x0019, 0x002A
BLOCK = bytes(range(251)) * ((1 << 20) // 251 + 2)
CHUNK = 256 << 10

def out(**kw):
    print(json.dumps(kw), flush=True)

def progress(path, n):
    if path:
        with open(path + ".tmp", "w") as f:
            f.write(str(n))
        os.replace(path + ".tmp", path)

def hold(path):  # stall until the test creates path
    while path and not os.path.exists(path):
        time.sleep(0.02)

def push(sock, total, path):
    sent = 0
    while sent < total:
        n = min(CHUNK, total - sent)
        o = sent % 251
        sock.sendall(BLOCK[o:o + n])
        sent += n
        progress(path, sent)
    return sent

def drain(sock):  # (bytes, in order?) until EOF
    buf = bytearray(1 << 20)
    got, intact = 0, True
    while True:
        n = sock.recv_into(buf)
        if n == 0:
            return got, intact
        o = got % 251
        intact = intact and buf[:n] == BLOCK[o:o + n]
        got += n

def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)

def xor_addr(host, port):
    ip = bytes(a ^ b for a, b in zip(socket.inet_aton(host), struct.pack("!I", MAGIC)))
    return struct.pack("!BBH", 0, 1, port ^ (MAGIC >> 16)) + ip

def recv_exact(sock, n):
    b = b""
    while len(b) < n:
        c = sock.recv(n - len(b))  # never past the message: data may follow
        if not c:
            raise EOFError("connection closed by avedge")
        b += c
    return b

class Turn:
    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()
        self.realm = self.nonce = self.key = None

    def request(self, sock, method, attrs=b""):
        """(code, attributes): code 200 or the error's."""
        tid = os.urandom(12)
        if self.key:
            attrs += attr(USERNAME, self.user) + attr(REALM, self.realm) + attr(NONCE, self.nonce)
            hdr = struct.pack("!HHI", method, len(attrs) + 24, MAGIC) + tid
            attrs += attr(MI, hmac.new(self.key, hdr + attrs, hashlib.sha1).digest())
        sock.sendall(struct.pack("!HHI", method, len(attrs), MAGIC) + tid + attrs)
        typ, length = struct.unpack("!HH", recv_exact(sock, 20)[:4])
        body, got = recv_exact(sock, length), {}
        while body:
            t, l = struct.unpack("!HH", body[:4])
            got.setdefault(t, body[4:4 + l])
            body = body[4 + l + (-l % 4):]
        if typ & 0x0110 == 0x0100:
            return 200, got
        e = got.get(ERROR_CODE, b"\0\0\0\0")
        return (e[2] & 7) * 100 + e[3], got

def connect(server, tls=False):
    host, port = server.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=30, source_address=("127.0.0.1", 0))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if not tls:
        return s
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    # An EOF without close_notify is an error here, not an end.
    return ctx.wrap_socket(s, suppress_ragged_eofs=False)

def dance(a):
    """Allocate (TCP), permit and Connect to the peer: control socket, session, id."""
    t = Turn(a["user"], a["pass"])
    ctl = connect(a["server"], a.get("tls"))
    tcp = attr(REQUESTED_TRANSPORT, b"\x06\0\0\0")
    code, at = t.request(ctl, ALLOCATE, tcp)
    assert code == 401, "first Allocate: %d" % code
    t.realm, t.nonce = at[REALM], at[NONCE]
    t.key = hashlib.md5(t.user + b":" + t.realm + b":" + t.password).digest()
    code, at = t.request(ctl, ALLOCATE, tcp)
    assert code == 200, "Allocate: %d" % code
    host, port = a["peer"].rsplit(":", 1)
    peer = attr(XOR_PEER, xor_addr(host, int(port)))
    code, at = t.request(ctl, CREATE_PERMISSION, peer)
    assert code == 200, "CreatePermission: %d" % code
    code, at = t.request(ctl, CONNECT, peer)
    assert code == 200, "Connect: %d" % code
    return ctl, t, at[CONNECTION_ID]

def bind(a, t, cid):
    d = connect(a["server"], a.get("tls"))
    code, at = t.request(d, CONNECTION_BIND, attr(CONNECTION_ID, cid))
    assert code == 200, "ConnectionBind: %d" % code
    return d

def client(a):
    ctl, t, cid = dance(a)
    if a["mode"] == "control-bind":
        # RFC 6062 §5.4: on the control connection, refused; the control
        # connection still speaks STUN after; the id is still good.
        ctl.settimeout(3)
        code, at = t.request(ctl, CONNECTION_BIND, attr(CONNECTION_ID, cid))
        reason = at.get(ERROR_CODE, b"\0\0\0\0")[4:].decode(errors="replace")
        out(control_bind=code, reason=reason)
        refresh, _ = t.request(ctl, REFRESH, attr(LIFETIME, struct.pack("!I", 600)))
        out(refresh=refresh)
        d = bind(a, t, cid)
        got, intact = drain(d)  # the peer's bytes, then its FIN
        out(data_bind=200, received=got, intact=intact)
        # Half-closed now (the peer's FIN went through, ours did not): the
        # allocation's end must end the pair; the peer reports it.
        end, _ = t.request(ctl, REFRESH, attr(LIFETIME, b"\0\0\0\0"))
        out(refresh0=end)
        time.sleep(3)  # both sockets open: only the allocation's end can close the pair
        return
    d = bind(a, t, cid)
    progress(a.get("bound"), 1)
    if a["mode"] == "pull":  # stall, then read all until the peer's FIN
        hold(a.get("hold"))
        got, intact = drain(d)
        out(received=got, intact=intact, eof=True)
    elif a["mode"] == "push":  # push, FIN, then the peer's answer still comes
        sent = push(d, int(a["bytes"]), a.get("progress"))
        d.shutdown(socket.SHUT_WR)
        reply = b""
        while True:
            c = d.recv(4096)
            if not c:
                break
            reply += c
        out(sent=sent, reply=reply.decode(errors="replace"), eof=True)

def peer(a):
    host, port = a["listen"].rsplit(":", 1)
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((host, int(port)))
    l.listen(1)
    l.settimeout(30)
    s, _ = l.accept()
    s.settimeout(60)
    if a["mode"] == "push":  # push, FIN, then wait for the relay's FIN
        sent = push(s, int(a["bytes"]), a.get("progress"))
        s.shutdown(socket.SHUT_WR)
        t0 = time.time()
        try:
            got, _ = drain(s)
            end = "eof"
        except OSError as e:
            got, end = 0, type(e).__name__
        out(sent=sent, received=got, end=end, end_after_s=round(time.time() - t0, 2))
    elif a["mode"] == "sink":  # stall, read all until FIN, answer after it
        hold(a.get("hold"))
        got, intact = drain(s)
        s.sendall(("got %d %s" % (got, "intact" if intact else "damaged")).encode())
        s.close()
        out(received=got, intact=intact)

signal.alarm(int(os.environ.get("PY_DEADLINE", "150")))
args = dict(x.split("=", 1) for x in sys.argv[2:])
try:
    {"client": client, "peer": peer}[sys.argv[1]](args)
except (AssertionError, OSError, EOFError) as e:
    out(error="%s: %s" % (type(e).__name__, e))
    sys.exit(1)
