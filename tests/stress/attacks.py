"""attacks.py: the attacks of issue 11 (R15, R18), one function each. Every
attack starts its own avedge with the flags it needs, runs the legitimate
client beside it, asserts its goal with res.goal() and leaves its figures in
res. Every loop and wait here is bounded."""
import errno
import os
import random
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

import stun
from harness import (BIN, LEGIT, LOCAL_IP, METRICS_PORT, PEER_IP, PEER_NS, TLS_PORT, TMP, UDP_PORT,
                     WILD_PORT, Avedge, AvedgeFailed, Monitor, Prober, binding_ok, held, limit,
                     metrics, http_get, peer, spawn, stop, udp_bound, wait_until)

MIB = 1024  # KiB
CERT = os.path.join(TMP, "cert.pem")
KEY = os.path.join(TMP, "key.pem")
MADDR = ("127.0.0.1", METRICS_PORT)
SRV = ("127.0.0.1", UDP_PORT)
LEGIT_USER = ["--user", "%s:%s" % LEGIT]
TLS_ARGS = ["--listen", "127.0.0.1:%d/tls" % TLS_PORT, "--cert", CERT, "--key", KEY]
TCP_ARGS = ["--listen", "127.0.0.1:%d/tcp" % UDP_PORT]
METRICS_ARGS = ["--metrics", "127.0.0.1:%d" % METRICS_PORT]

# Sizes: short (tests/run, about 3 minutes in all) and --long.
SIZES = {
    False: dict(a1_bytes=4 << 20, idle_conns=2000, hs_conns=200, frame_conns=200, cap=100,
                a7_others=1200, a8_after=3000, a8_allocs=3000, a8_rounds=2, a9_cycles=10,
                a14_packets=200000),
    True: dict(a1_bytes=32 << 20, idle_conns=10000, hs_conns=1000, frame_conns=1000, cap=1000,
               a7_others=5000, a8_after=30000, a8_allocs=10000, a8_rounds=2, a9_cycles=40,
               a14_packets=2000000),
}
S = SIZES[False]
ATTACKS = []


def attack(name):
    def reg(fn):
        ATTACKS.append((name, fn))
        return fn
    return reg


# ---------------------------------------------------------------- helpers

class Run:
    """One avedge, its monitor and the legitimate client, for one attack:
    `with Run(...) as run:` ends them, the clients handed to run.client(),
    what run.at_end() was given and the peers, however the attack ends."""

    def __init__(self, res, args, ports=(), prober=True, creds=None, udp=True, ready=None, peers=()):
        self.res = res
        self.peers = list(peers)
        self.ends = []
        self.av = Avedge(res.name, args, udp=udp, ready=ready)
        self.mon = Monitor(self.av, ports)
        self.pr = Prober(creds=creds) if prober else None
        self.done = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.finish()
        return False

    def client(self, c):
        """c (a stun.Turn), closed at the end."""
        self.ends.append(c.tr.close)
        return c

    def at_end(self, fn):
        self.ends.append(fn)

    def baseline(self, maddr=None):
        """RSS before: after the first legitimate allocation went through.
        With maddr, /metrics there as it stands then."""
        if self.pr:
            wait_until(lambda: self.pr.total >= 1, 8)
        time.sleep(0.2)
        self.res.rss[0] = self.av.rss()
        self.mon.reset()
        return metrics(maddr) if maddr else self.res.rss[0]

    def peak(self):
        self.res.rss[1] = max(self.mon.max_rss, self.res.rss[0] or 0)
        return self.res.rss[1]

    def after(self):
        """RSS at the peak and now."""
        self.peak()
        self.res.rss[2] = self.av.rss()

    def finish(self):
        if self.done:
            return
        self.done = True
        for fn in self.ends:
            fn()
        if self.pr:
            self.pr.halt()
            if self.av.alive():
                self.res.prober(self.pr)
        self.mon.halt()
        if self.res.held is None:
            self.res.held = self.mon.max_held
        if not self.av.alive():
            self.res.goal(False, "avedge died during the attack (exit %s): %s" %
                          (self.av.p.returncode, self.av.first_error()))
        self.av.stop()
        for p in self.peers:
            stop(p)


def recovered(res, slack_kib=MIB):
    """RSS after close back within 1 MiB + a quarter of the growth of
    before (taken after a warm-up)."""
    b, p, a = res.rss
    if None in (b, p, a):
        return res.goal(False, "no RSS figures")
    allow = slack_kib + (p - b) // 4
    return res.goal(a - b <= allow, "RSS after close %d KiB above before (allowed %d)" % (a - b, allow))


def counter_moved(res, m0, m1, name):
    a, b = limit(m0, name), limit(m1, name)
    if b is None:
        return res.goal(False, 'no avedge_limit_total{limit="%s"} in /metrics' % name)
    res.note("%s +%d" % (name, b - (a or 0)))
    return res.goal(b > (a or 0), 'avedge_limit_total{limit="%s"} did not move (%d)' % (name, b))


def freeze(pid):
    """SIGSTOP pid and wait until every thread has stopped: a thread still on
    its way to the stop can take in what is sent meanwhile."""
    os.kill(pid, signal.SIGSTOP)
    tasks = "/proc/%d/task" % pid
    for _ in range(200):
        try:
            states = [open("%s/%s/stat" % (tasks, t)).read().rsplit(")", 1)[1].split()[0]
                      for t in os.listdir(tasks)]
        except OSError:
            return
        if all(st in "Tt" for st in states):
            return
        time.sleep(0.005)


def sources(prefix, n):
    return ["%s.%d" % (prefix, i) for i in range(1, n + 1)]


def open_many(n, addr, srcs, timeout=20.0):
    """n connections from srcs in turn, opened non-blocking 256 at a time:
    the connected sockets (non-blocking)."""
    ep = select.epoll()
    pending, done, i = {}, [], 0
    deadline = time.monotonic() + timeout
    while (i < n or pending) and time.monotonic() < deadline:
        while i < n and len(pending) < 256:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.bind((srcs[i % len(srcs)], 0))
                err = s.connect_ex(addr)
            except OSError as e:
                err = e.errno
            i += 1
            if err == 0:
                done.append(s)
            elif err == errno.EINPROGRESS:
                pending[s.fileno()] = s
                ep.register(s.fileno(), select.EPOLLOUT)
            else:
                s.close()
        for fd, _ in ep.poll(0.2):
            s = pending.pop(fd)
            ep.unregister(fd)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                done.append(s)
            else:
                s.close()
    for s in pending.values():
        s.close()
    ep.close()
    return done


def watch(socks, seconds, tick=None, want_all=True):
    """Wait up to seconds for the server to close socks (EOF, RST). Returns
    (fds closed, {fd: bytes received}). tick() runs every 0.2 s."""
    ep = select.epoll()
    by = {s.fileno(): s for s in socks}
    for fd in by:
        ep.register(fd, select.EPOLLIN | select.EPOLLRDHUP)
    closed, got = set(), {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (not want_all or len(closed) < len(by)):
        for fd, ev in ep.poll(0.2):
            s = by[fd]
            try:
                data = s.recv(65536)
            except (BlockingIOError, ssl.SSLWantReadError):
                data = None
            except OSError:
                data = b""
            if data:
                got[fd] = got.get(fd, 0) + len(data)
            if data == b"" or (data is None and ev & (select.EPOLLHUP | select.EPOLLERR | select.EPOLLRDHUP)):
                closed.add(fd)
                ep.unregister(fd)
        if tick:
            tick()
    ep.close()
    return closed, got


def answered(socks, seconds=1.5):
    """Send a Binding on each connection: (fds answered, fds closed)."""
    for s in socks:
        try:
            s.send(stun.build(stun.BINDING, stun.REQUEST)[0])
        except OSError:
            pass
    closed, got = watch(socks, seconds, want_all=False)
    return {fd for fd, n in got.items() if n >= 20}, closed


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


def client_hello():
    """The first bytes a TLS client sends: a real ClientHello."""
    ctx = stun.tls_client_context()
    i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(i, o)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return o.read()


def wait_closed(ports, seconds, tick=None):
    """Wait until avedge holds no connection on ports: seconds it took, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        if held(ports) == 0:
            return time.monotonic() - t0
        if tick:
            tick()
        time.sleep(0.1)
    return None


def dripper(socks, byte):
    """A tick() that sends byte on each of socks every 0.5 s (slowloris)."""
    last = [time.monotonic()]

    def tick():
        if time.monotonic() - last[0] >= 0.5:
            last[0] = time.monotonic()
            for s in socks:
                try:
                    s.send(byte)
                except OSError:
                    pass
    return tick


# ---------------------------------------------------------------- A1

def never_reading(res, tls):
    """A1: a client that sends Bindings and never reads its answers."""
    stall, cap = 3, 262144
    port = TLS_PORT if tls else UDP_PORT
    args = TCP_ARGS + TLS_ARGS + LEGIT_USER + METRICS_ARGS + [
        "--conn-stall-timeout", str(stall), "--conn-out-cap", str(cap), "--unauth-rate", "0"]
    with Run(res, args, ports=[port]) as run:
        # Warm-up: a client that reads, 2000 Bindings; RSS before is after it.
        w = stun.Stream(("127.0.0.1", port), tls=tls, bind="127.0.0.11")
        w.send(b"".join(stun.build(stun.BINDING, stun.REQUEST)[0] for _ in range(2000)))
        for _ in range(2000):
            if w.recv(2.0) is None:
                break
        w.close()
        wait_closed({port}, 3)
        m0 = run.baseline(MADDR)
        raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.bind(("127.0.0.10", 0))
        raw.connect(("127.0.0.1", port))
        sock = stun.tls_client_context().wrap_socket(raw) if tls else raw
        sock.setblocking(False)
        chunk = b"".join(stun.build(stun.BINDING, stun.REQUEST)[0] for _ in range(1000))
        sent = off = 0
        t0 = last = time.monotonic()
        ended = None
        while sent < S["a1_bytes"] and time.monotonic() - t0 < 15:
            try:
                n = sock.send(chunk[off:])
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                if time.monotonic() - last > 1.0:
                    break  # avedge reads no more: our sending has stalled
                select.select([], [sock], [], 0.1)
                continue
            except OSError as e:
                ended = "closed while we sent (%s)" % e.strerror
                break
            sent += n
            off = (off + n) % len(chunk)
            last = time.monotonic()
        res.out, res.inn = sent, 0
        took = wait_closed({port}, stall + 6)
        run.peak()
        closed = took is not None
        res.goal(closed, "connection still open %d s after our sending stopped (stall timeout %d s)" %
                 (stall + 6, stall))
        if closed:
            res.note("closed %.1f s after our sending stopped%s" % (took, "; " + ended if ended else ""))
        sock.close()
        wait_closed({port}, 5)
        time.sleep(1.0)
        res.rss[2] = run.av.rss()
        growth = res.rss[1] - res.rss[0]
        res.goal(growth <= cap // 1024 + 4 * MIB,
                 "RSS grew %d KiB > --conn-out-cap %d KiB + 4 MiB" % (growth, cap // 1024))
        recovered(res)
        counter_moved(res, m0, metrics(MADDR), "stall_timeout")


@attack("A1.tcp")
def a1_tcp(res):
    never_reading(res, False)


@attack("A1.tls")
def a1_tls(res):
    never_reading(res, True)


# ---------------------------------------------------------------- A2

def hold_and_wait(res, port, args, n, counter, timeout, first=None, tick=None, must_return=False):
    """Open n connections to port (first(sock) writes their first bytes),
    then wait for avedge to close them all within timeout + 4 s. RSS
    before is taken after a warm-up wave of 50 (closed by us), so that what
    the first connections ever cost is not counted as kept."""
    socks = []
    srcs = sources("127.0.1", 50)
    with Run(res, args + LEGIT_USER + METRICS_ARGS, ports=[port]) as run:
        run.at_end(lambda: close_all(socks))
        warm = open_many(50, ("127.0.0.1", port), srcs)
        for s in warm:
            if first:
                try:
                    s.send(first(s))
                except OSError:
                    pass
        time.sleep(0.3)
        close_all(warm)
        wait_closed({port}, 3)
        m0 = run.baseline(MADDR)
        socks = open_many(n, ("127.0.0.1", port), srcs)
        opened = time.monotonic()
        res.out = 0
        for s in socks:
            if first:
                try:
                    res.out += s.send(first(s))
                except OSError:
                    pass
        res.held = held({port})
        res.goal(res.held >= 0.9 * n, "only %d of %d connections were taken" % (res.held, n))
        took = wait_closed({port}, timeout + 4 - (time.monotonic() - opened), tick)
        all_closed = time.monotonic() - opened
        run.peak()
        closed, got = watch(socks, 1.0, want_all=True)
        res.inn = sum(got.values())
        res.goal(took is not None, "%d of %d connections still held %d s after they opened (timeout %d s)"
                 % (held({port}), n, timeout + 4, timeout))
        if took is not None:
            res.note("all closed within %.1f s of the last opening" % all_closed)
        res.goal(len(closed) >= 0.99 * len(socks), "the client saw %d of %d closed" % (len(closed), len(socks)))
        close_all(socks)
        time.sleep(1.0)
        res.rss[2] = run.av.rss()
        if must_return:
            recovered(res)
        else:
            res.note("RSS kept after close %d KiB" % (res.rss[2] - res.rss[0]))
        counter_moved(res, m0, metrics(MADDR), counter)


BIG = ["--max-conns", "100000", "--max-conns-per-source", "10000"]


@attack("A2.idle")
def a2_idle(res):
    idle = 2 if S["idle_conns"] <= 2000 else 3
    args = TCP_ARGS + BIG + ["--idle-timeout", str(idle), "--tls-handshake-timeout", "60",
                             "--frame-timeout", "60"]
    hold_and_wait(res, UDP_PORT, args, S["idle_conns"], "idle_timeout", idle, must_return=True)


@attack("A2.tls-hs")
def a2_tls_handshake(res):
    hs = 2
    hello = client_hello()
    half = hello[:len(hello) // 2]
    args = TLS_ARGS + BIG + ["--tls-handshake-timeout", str(hs), "--idle-timeout", "60",
                             "--frame-timeout", "60"]
    # Half of them send half a ClientHello, the other half nothing at all.
    hold_and_wait(res, TLS_PORT, args, S["hs_conns"], "handshake_timeout", hs,
                  first=lambda s: half if s.fileno() % 2 else b"")


@attack("A2.frame")
def a2_partial_frame(res):
    ft = 2
    head = struct.pack("!HHI", 0x0001, 100, stun.MAGIC) + b"\x01\x02"  # says 100 bytes follow
    drip = []

    def first(s):
        if s.fileno() % 2:
            drip.append(s)  # these go on with one byte every 0.5 s (slowloris)
        return head

    args = TCP_ARGS + BIG + ["--frame-timeout", str(ft), "--idle-timeout", "60",
                             "--tls-handshake-timeout", "60"]
    hold_and_wait(res, UDP_PORT, args, S["frame_conns"], "frame_timeout", ft, first=first,
                  tick=dripper(drip, b"\x00"))


# ---------------------------------------------------------------- A3

def cap_common(res):
    """While at the cap: a UDP allocation and /metrics still work."""
    r = subprocess.run([os.path.join(BIN, "edgeprobe"), "allocate", "127.0.0.1:%d" % UDP_PORT,
                        "--bind", "127.0.0.201", "--user", LEGIT[0], "--pass", LEGIT[1],
                        "--json", "--timeout", "2000"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=10)
    res.goal(r.returncode == 0 and b"relayed" in r.stdout,
             "a UDP allocation at the cap failed: %s" % r.stdout.decode().strip()[-120:])
    st, _ = http_get(MADDR)
    res.goal(st == 200, "GET /metrics at the cap: status %s" % st)


@attack("A3.max-conns")
def a3_max_conns(res):
    cap, extra = S["cap"], 50
    args = TCP_ARGS + LEGIT_USER + METRICS_ARGS + [
        "--max-conns", str(cap), "--max-conns-per-source", "100000", "--idle-timeout", "60"]
    held_socks, more = [], []
    with Run(res, args, ports=[UDP_PORT]) as run:
        run.at_end(lambda: close_all(held_socks + more))
        m0 = run.baseline(MADDR)
        srcs = sources("127.0.1", 20)
        held_socks = open_many(cap, SRV, srcs)
        ok, gone = answered(held_socks)
        res.goal(len(ok) == cap, "below the cap only %d of %d connections were served (%d closed)" %
                 (len(ok), cap, len(gone)))
        more = open_many(extra, SRV, srcs)
        time.sleep(0.3)
        ok2, gone2 = answered(more)
        refused = len(gone2 - ok2)
        res.goal(refused == extra and not ok2,
                 "past the cap %d of %d new connections were served, %d closed at once" %
                 (len(ok2), extra, refused))
        res.held = held({UDP_PORT})
        cap_common(res)
        m1 = metrics(MADDR)
        counter_moved(res, m0, m1, "max_conns")
        # Room again: 10 closed, 10 new ones are served.
        close_all(held_socks[:10])
        close_all(more)
        time.sleep(0.5)
        again = open_many(10, SRV, srcs)
        ok3, _ = answered(again)
        res.goal(len(ok3) == 10, "after 10 closed, %d of 10 new connections served" % len(ok3))
        more += again
        run.peak()
        res.out, res.inn = 20 * (cap + extra + 10), None
        close_all(held_socks + more)
        time.sleep(1.0)
        res.rss[2] = run.av.rss()


@attack("A3.per-source")
def a3_per_source(res):
    per, extra = 20, 10
    args = TCP_ARGS + LEGIT_USER + METRICS_ARGS + [
        "--max-conns", "100000", "--max-conns-per-source", str(per), "--idle-timeout", "60"]
    a = b = c = []
    with Run(res, args, ports=[UDP_PORT]) as run:
        run.at_end(lambda: close_all(a + b + c))
        m0 = run.baseline(MADDR)
        a = open_many(per, SRV, ["127.0.0.50"])
        ok, _ = answered(a)
        res.goal(len(ok) == per, "127.0.0.50: %d of its first %d connections served" % (len(ok), per))
        b = open_many(extra, SRV, ["127.0.0.50"])
        time.sleep(0.3)
        ok2, gone2 = answered(b)
        res.goal(not ok2 and len(gone2) == extra,
                 "127.0.0.50 past its cap: %d of %d served, %d closed at once" % (len(ok2), extra, len(gone2)))
        c = open_many(per, SRV, ["127.0.0.51"])
        ok3, _ = answered(c)
        res.goal(len(ok3) == per, "127.0.0.51 (another source): %d of %d served" % (len(ok3), per))
        res.held = held({UDP_PORT})
        cap_common(res)
        counter_moved(res, m0, metrics(MADDR), "max_conns_per_source")
        run.peak()
        res.out = 20 * (2 * per + extra)
        close_all(a + b + c)
        time.sleep(1.0)
        res.rss[2] = run.av.rss()


# ---------------------------------------------------------------- A4

@attack("A4.self")
def a4_self(res):
    """Peers that are avedge itself on another local address: refused."""
    m_addr = ("127.0.0.5", METRICS_PORT)
    args = TCP_ARGS + LEGIT_USER + [
        "--listen", "0.0.0.0:%d/tcp" % WILD_PORT, "--relay-ip", "127.0.0.1",
        "--allow-peer", "127.0.0.0/8", "--metrics", "%s:%d" % m_addr]
    targets = [("127.0.0.9", WILD_PORT),    # the wildcard TCP listener, another loopback address
               ("127.0.0.5", METRICS_PORT),  # the metrics port
               (LOCAL_IP, WILD_PORT),        # the wildcard listener on a non-loopback local address
               ("127.0.0.1", UDP_PORT)]      # the configured listener itself
    with Run(res, args) as run:
        m0 = run.baseline(m_addr)
        u = run.client(stun.Turn(stun.Udp(SRV, "127.0.0.40"), *LEGIT))
        a = u.allocate()
        if not res.goal(a is not None and a.code() == 200, "UDP Allocate: %s" % (a and a.code())):
            return
        ctl = u.permit((PEER_IP, 7000))
        res.goal(ctl is not None and ctl.code() == 200,
                 "control: CreatePermission for a real peer %s: %s" % (PEER_IP, ctl and ctl.code()))
        t = run.client(stun.Turn(stun.Stream(SRV, bind="127.0.0.41"), *LEGIT))
        ta = t.allocate(stun.TCP)
        tcp_ok = ta is not None and ta.code() == 200
        res.goal(tcp_ok, "TCP Allocate (RFC 6062): %s" % (ta and ta.code()))
        probe = stun.build(stun.BINDING, stun.REQUEST)[0]  # what a loop would start with
        codes = []
        sent = 0
        for i, tg in enumerate(targets):
            p = u.permit(tg)
            ch = u.channel_bind(0x4000 + i, tg)
            pc, cc = p and p.code(), ch and ch.code()
            for _ in range(3):
                u.send_indication(tg, probe)
                sent += 36 + len(probe)
                if cc == 200:
                    u.send_chdata(0x4000 + i, probe)
                    sent += 4 + len(probe)
            conn = "-"
            if tcp_ok:
                t.permit(tg)
                cn = t.connect(tg, timeout=3)
                conn = cn and cn.code()
                res.goal(conn != 200, "RFC 6062 Connect to avedge's own %s:%d succeeded" % tg)
            codes.append("%s:%d perm %s chan %s connect %s" % (tg + (pc, cc, conn)))
        back = u.next_data(1.0)
        m1 = metrics(m_addr)
        key = 'avedge_relayed_packets_total{direction="to_peer"}'
        moved = (m1 or {}).get(key, 0) - (m0 or {}).get(key, 0)
        res.out, res.inn = sent, len(back[1]) if back else 0
        res.goal(m1 is not None, "no /metrics on %s:%d" % m_addr)
        res.goal(moved == 0, "%d datagrams relayed to avedge's own addresses (%s)" % (moved, ", ".join(codes)))
        res.goal(back is None, "a datagram came back from %s: a loop through avedge itself" % (back and back[0],))
        res.note(", ".join(codes))
        run.after()


# ---------------------------------------------------------------- A5

@attack("A5.wildcard")
def a5_wildcard(res):
    """A wildcard UDP listener answers from the address it was asked on, or
    avedge refuses to start, naming the wildcard."""
    port = 3480
    args = ["--listen", "0.0.0.0:%d/udp" % port, "--relay-ip", "127.0.0.2"] + LEGIT_USER
    try:
        run = Run(res, args, udp=False, prober=False, ready=lambda: binding_any(port))
    except AvedgeFailed as e:  # refused to start: it must say why, in one line
        named = [l for l in e.log.splitlines() if "0.0.0.0" in l or "wildcard" in l.lower()]
        res.note("refused to start: " + (named[0] if named else str(e)))
        res.goal(len(named) == 1, "avedge did not start and no one line names the wildcard: %s" % e)
        return
    with run:
        run.pr = Prober(target=("127.0.0.1", port))
        run.baseline()
        seen = []
        for dst in ("127.0.0.7", "127.0.0.8", LOCAL_IP):
            u = stun.Udp((dst, port), "127.0.0.60")
            raw, tid = stun.build(stun.BINDING, stun.REQUEST)
            u.send(raw)
            got = u.recv(1.0)
            u.close()
            src = got[1] if got else None
            seen.append("%s -> %s" % (dst, "%s:%d" % src if src else "no answer"))
            res.goal(src == (dst, port), "a Binding sent to %s:%d was answered from %s" %
                     (dst, port, "%s:%d" % src if src else "nowhere"))
        res.note("; ".join(seen))
        res.out, res.inn = 60, None
        run.after()


def binding_any(port):
    return binding_ok(("127.0.0.1", port))


# ---------------------------------------------------------------- A6

@attack("A6.rest-quota")
def a6_rest_quota(res):
    """One REST name, five expiry times: the quota is the name's, not the
    username's."""
    args = ["--auth-secret", "s3cret", "--quota-user", "3"]
    cl = []
    with Run(res, args, creds=["--secret", "s3cret", "--user", "legit"]) as run:
        run.baseline()
        codes = []
        for i in range(5):
            t = run.client(stun.Turn(stun.Udp(SRV, "127.0.0.70"), secret="s3cret", name="alice",
                                     ttl=3600 + 60 * i))
            cl.append(t)
            a = t.allocate()
            codes.append(a.code() if a else None)
        res.note("codes %s" % codes)
        res.goal(codes.count(200) == 3 and codes.count(486) == 2,
                 "5 allocations of alice with 5 expiry times: %s (want 3x200, 2x486)" % codes)
        res.out = sum(len(t.last_raw or b"") for t in cl)
        run.after()


# ---------------------------------------------------------------- A7

@attack("A7.retransmit")
def a7_retransmit(res):
    """An Allocate retransmitted after many other requests: the same answer."""
    args = LEGIT_USER + METRICS_ARGS + ["--user", "alice:pw"]
    with Run(res, args) as run:
        run.baseline()
        t = stun.Turn(stun.Udp(SRV, "127.0.0.20"), "alice", "pw")
        a = t.allocate()
        if not res.goal(a is not None and a.code() == 200, "first Allocate: %s" % (a and a.code())):
            return
        raw, first = t.last_raw, a.addr(stun.A_XOR_RELAYED)
        m0 = metrics(MADDR)
        # Others: unauthenticated Allocates (each answered 401, and cached)
        # from 100 addresses, under any per-source budget.
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(200)]
        for i, s in enumerate(socks):
            s.bind(("127.0.2.%d" % (1 + i % 100), 0))
        n = S["a7_others"]
        req = stun.attr(stun.A_TRANSPORT, b"\x11\0\0\0")
        out = 0
        for i in range(n):
            m, _ = stun.build(stun.ALLOCATE, stun.REQUEST, req)
            socks[i % len(socks)].sendto(m, SRV)
            out += len(m)
            if i % 200 == 199:
                time.sleep(0.02)
        time.sleep(0.5)
        for s in socks:
            s.close()
        m1 = metrics(MADDR)
        k = "avedge_requests_total"
        passed = (m1 or {}).get(k, 0) - (m0 or {}).get(k, 0)
        res.goal(passed >= 800, "only %d other requests reached avedge" % passed)
        t.tr.send(raw)
        m = t.wait(raw[8:20], 2.0)
        got = m.addr(stun.A_XOR_RELAYED) if m else None
        res.note("%d others passed; retransmit -> %s %s" % (passed, m and m.code(), "%s:%d" % got if got else "-"))
        res.goal(m is not None and m.code() == 200 and got == first,
                 "retransmit after %d other requests: %s (first answer 200 %s:%d)" %
                 (passed, "%s %s" % (m.code(), got) if m else "no answer", first[0], first[1]))
        res.out, res.inn = out + 2 * len(raw), None
        t.tr.close()
        run.after()


# ---------------------------------------------------------------- A8

def unauth_flood(src, n, rate=5000, nsocks=16):
    """n requests without credentials from src (16 source ports): Bindings,
    Allocates (401) and Allocates with an unknown comprehension-required
    attribute (420). Returns (sizes[i], answered bytes[i])."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(nsocks)]
    for s in socks:
        s.bind((src, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    kinds = [b"", stun.attr(stun.A_TRANSPORT, b"\x11\0\0\0"),
             stun.attr(stun.A_TRANSPORT, b"\x11\0\0\0") + stun.attr(0x0777, b"\0\0\0\0")]
    index, sizes, answers = {}, [0] * n, [0] * n
    stop_rx = [False]

    def rx():
        ep = select.epoll()
        for s in socks:
            ep.register(s.fileno(), select.EPOLLIN)
        by = {s.fileno(): s for s in socks}
        quiet = None
        while True:
            ev = ep.poll(0.1)
            for fd, _ in ev:
                while True:
                    try:
                        data = by[fd].recv(70000)
                    except BlockingIOError:
                        break
                    i = index.get(data[8:20])
                    if i is not None:
                        answers[i] += len(data)
            if stop_rx[0]:
                quiet = quiet or time.monotonic()
                if time.monotonic() - quiet > 0.8:
                    break
        ep.close()

    for s in socks:
        s.setblocking(False)
    th = threading.Thread(target=rx, daemon=True)
    th.start()
    t0 = time.monotonic()
    for i in range(n):
        k = i % 3
        method = stun.BINDING if k == 0 else stun.ALLOCATE
        m, tid = stun.build(method, stun.REQUEST, kinds[k])
        index[tid] = i
        sizes[i] = len(m)
        try:
            socks[i % nsocks].sendto(m, SRV)
        except BlockingIOError:
            pass
        if i % 100 == 99:
            ahead = t0 + (i + 1) / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
    stop_rx[0] = True
    th.join(10)
    for s in socks:
        s.close()
    return sizes, answers


@attack("A8.amplify")
def a8_amplification(res):
    burst = 200
    n = burst + S["a8_after"]
    with Run(res, LEGIT_USER + METRICS_ARGS + ["--unauth-burst", str(burst)]) as run:
        m0 = run.baseline(MADDR)
        sizes, ans = unauth_flood("127.0.0.2", n)
        req_after, ans_after = sum(sizes[burst:]), sum(ans[burst:])
        ratio = ans_after / req_after
        res.out, res.inn = sum(sizes), sum(ans)
        first = sum(1 for a in ans[:burst] if a)
        res.goal(ratio <= 1.0, "127.0.0.2: answers past the burst %d B for %d B of requests: ratio %.2f > 1"
                 % (ans_after, req_after, ratio))
        res.note("127.0.0.2 ratio past burst %.2f, burst answered %d/%d" % (ratio, first, burst))
        # Another address has its own budget.
        s3, a3 = unauth_flood("127.0.0.3", burst)
        got3 = sum(1 for a in a3 if a)
        res.goal(got3 >= 0.9 * burst, "127.0.0.3 right after: only %d of %d answered (shared budget?)"
                 % (got3, burst))
        res.note("127.0.0.3 answered %d/%d" % (got3, burst))
        counter_moved(res, m0, metrics(MADDR), "unauth_rate")
        run.after()
    # --unauth-rate 0: the limiter is off.
    av = None
    try:
        av = Avedge(res.name + "-off", LEGIT_USER + ["--unauth-burst", str(burst), "--unauth-rate", "0"])
        sizes, ans = unauth_flood("127.0.0.4", n)
        got = sum(1 for a in ans if a)
        res.goal(got >= 0.99 * n, "--unauth-rate 0: only %d of %d answered" % (got, n))
        res.note("off: %d/%d answered, ratio %.2f" % (got, n, sum(ans) / sum(sizes)))
    except Exception as e:
        res.goal(False, "--unauth-rate 0: %s" % e)
    finally:
        if av:
            av.stop()


def load_setup_s(port, n, src):
    """edgeprobe load: n allocations (with a channel each) from one address,
    one after another: the seconds they took, or an error text."""
    import json
    r = subprocess.run([os.path.join(BIN, "edgeprobe"), "load", "127.0.0.1:%d" % port,
                        "--user", "alice", "--pass", "secret", "--peer", "%s:7000" % PEER_IP,
                        "--external-peer", "--allocations", str(n), "--seconds", "0", "--bind", src,
                        "--json", "--timeout", "3000"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600)
    try:
        j = json.loads(r.stdout.decode().strip().splitlines()[-1])
        return float(j["setup_s"])
    except (ValueError, KeyError, IndexError):
        return (r.stdout + r.stderr).decode().strip()[-160:] or "exit %d" % r.returncode


@attack("A8.vs-coturn")
def a8_vs_coturn(res):
    """Allocations from one address, limiter off: avedge against coturn."""
    n, ct_port = S["a8_allocs"], 3490
    av = Avedge(res.name, ["--user", "alice:secret", "--relay-ip", LOCAL_IP, "--unauth-rate", "0",
                           "--ports", "35000-49999"])
    log = os.path.join(TMP, "coturn.log")
    ct = spawn(["turnserver", "-n", "--listening-ip", "127.0.0.1", "--listening-port", str(ct_port),
                "--relay-ip", LOCAL_IP, "--lt-cred-mech", "--user", "alice:secret", "--realm", "edge.lab",
                "--no-cli", "--no-tls", "--no-dtls", "--no-tcp", "--min-port", "50000", "--max-port", "64999",
                "--relay-threads", "2", "--pidfile", os.path.join(TMP, "turnserver.pid"),
                "--log-file", "stdout", "--no-software-attribute"], "turnserver", log)
    try:
        res.rss[0] = av.rss()
        if not res.goal(wait_until(lambda: binding_ok(("127.0.0.1", ct_port)), 8),
                        "coturn's turnserver did not start (see %s)" % log):
            return
        # Rounds alternate which server goes first; the best of each counts
        # (a busy machine only ever slows one down). Up to 2 more rounds
        # while avedge is behind, so that one unlucky round decides nothing.
        times = {"avedge": [], "coturn": []}
        servers = [("avedge", UDP_PORT), ("coturn", ct_port)]
        r = 0
        while r < S["a8_rounds"] or (r < S["a8_rounds"] + 2 and min(times["avedge"]) > min(times["coturn"])):
            for name, port in (servers if r % 2 == 0 else servers[::-1]):
                t = load_setup_s(port, n, "127.0.0.%d" % (80 + r))
                if isinstance(t, str):
                    res.goal(False, "%s: %s" % (name, t))
                    return
                times[name].append(t)
                if name == "avedge":
                    res.rss[1] = max(res.rss[1] or 0, av.rss() or 0)
            r += 1
        a, c = min(times["avedge"]), min(times["coturn"])
        res.served = (n * r, n * r)
        res.note("%d allocations: avedge %.2f s, coturn %.2f s (best of %d), ratio avedge/coturn %.2f; "
                 "rounds avedge %s coturn %s" % (n, a, c, r, a / c, " ".join("%.2f" % x for x in times["avedge"]),
                                                 " ".join("%.2f" % x for x in times["coturn"])))
        res.goal(a <= c, "avedge %.2f s > coturn %.2f s for %d allocations, best of %d (ratio %.2f)" % (a, c, n, r, a / c))
        res.rss[2] = av.rss()
    finally:
        stop(ct, wait=3)
        if not av.alive():
            res.goal(False, "avedge died (exit %s)" % av.p.returncode)
        av.stop()


# ---------------------------------------------------------------- A9

def even_port_cycles(res, quota, cycles):
    """A user with --quota-user quota allocates with EVEN-PORT R=1 and
    deletes, cycles times: (answer codes, the most relay sockets left after
    a delete)."""
    with Run(res, LEGIT_USER + ["--user", "q:pw", "--quota-user", str(quota), "--ports", "50000-59999"]) as run:
        run.baseline()
        codes, worst = [], 0
        for i in range(cycles):
            t = stun.Turn(stun.Udp(SRV, "127.0.0.90"), "q", "pw")
            a = t.allocate(extra=stun.attr(stun.A_EVEN_PORT, b"\x80"))
            codes.append(a.code() if a else None)
            if a and a.code() == 200:
                t.refresh(0)
            t.tr.close()
            with run.pr.lock:  # no legitimate allocation while we count
                left = udp_bound(50000, 59999)
            worst = max(worst, left)
        run.after()
        return codes, worst


@attack("A9.even-port")
def a9_even_port(res):
    """EVEN-PORT R=1 then delete, again and again: the reserved sockets a
    user leaves behind are bounded by its quota (1; and 2, where R=1 must
    also work at all)."""
    seen = []
    for quota in (1, 2):
        codes, worst = even_port_cycles(res, quota, S["a9_cycles"])
        res.held = max(res.held or 0, worst)
        seen.append("quota %d: %s, at most %d relay sockets left" %
                    (quota, " ".join("%sx%d" % (c, codes.count(c)) for c in sorted(set(codes), key=str)), worst))
        res.goal(worst <= quota, "a quota-%d user left %d reserved relay sockets after %d EVEN-PORT R=1 "
                 "allocations, each deleted" % (quota, worst, len(codes)))
        if quota == 2:
            res.goal(200 in codes, "a quota-2 user never got an EVEN-PORT R=1 allocation: %s" % codes)
    res.note("; ".join(seen))


@attack("A9.pair")
def a9_pair(res):
    """The RTP/RTCP pair at --quota-user 2: EVEN-PORT R=1, then its
    RESERVATION-TOKEN from a second 5-tuple, both 200 on adjacent ports (the
    reservation's unit moves to the allocation that claims it; it used to
    take a third and get 486), and a third allocation 486. EVEN-PORT R=1
    with a dual allocation is a 400: it would reserve twice on one unit."""
    with Run(res, LEGIT_USER + ["--user", "q:pw", "--quota-user", "2"]) as run:
        run.baseline()
        rtp = run.client(stun.Turn(stun.Udp(SRV, "127.0.0.93"), "q", "pw"))
        a = rtp.allocate(extra=stun.attr(stun.A_EVEN_PORT, b"\x80"))
        tok = a.attrs.get(stun.A_TOKEN) if a else None
        if not res.goal(a is not None and a.code() == 200 and tok,
                        "EVEN-PORT R=1: %s, token %s" % (a and a.code(), tok)):
            return
        rtcp = run.client(stun.Turn(stun.Udp(SRV, "127.0.0.94"), "q", "pw"))
        b = rtcp.allocate(extra=stun.attr(stun.A_TOKEN, tok))
        res.goal(b is not None and b.code() == 200,
                 "the maker's own RESERVATION-TOKEN at quota 2: %s" % (b and b.code()))
        pa, pb = a.addr(stun.A_XOR_RELAYED), b and b.addr(stun.A_XOR_RELAYED)
        res.goal(pb is not None and pb[1] == pa[1] + 1, "the pair's ports: %s and %s" % (pa, pb))
        third = run.client(stun.Turn(stun.Udp(SRV, "127.0.0.95"), "q", "pw")).allocate()
        res.goal(third is not None and third.code() == 486,
                 "a third allocation with the pair held: %s (want 486)" % (third and third.code()))
        rtp.refresh(0)
        rtcp.refresh(0)
        dual = run.client(stun.Turn(stun.Udp(SRV, "127.0.0.96"), "q", "pw")).allocate(
            extra=stun.attr(stun.A_EVEN_PORT, b"\x80") + stun.attr(0x8000, b"\x02\0\0\0"))
        res.goal(dual is not None and dual.code() == 400,
                 "EVEN-PORT R=1 with ADDITIONAL-ADDRESS-FAMILY: %s (want 400)" % (dual and dual.code()))
        res.note("pair %s %s, third %s, R=1 dual %s" % (a.code(), b and b.code(), third and third.code(),
                                                       dual and dual.code()))
        run.after()


@attack("A9.quota-close")
def a9_quota_close(res):
    """A TCP connection's allocation gives its quota unit back when the
    connection closes, not a loop iteration later. With avedge stopped, the
    client closes its connection and sends a UDP Allocate: both reach one
    wake-up, the close first. At --quota-user 1 that Allocate gets 200 (it
    got 486 while the closed allocation's callback was still to run)."""
    with Run(res, TCP_ARGS + LEGIT_USER + ["--user", "q:pw", "--quota-user", "1", "--threads", "1"]) as run:
        run.baseline()
        t = run.client(stun.Turn(stun.Stream(SRV, bind="127.0.0.97"), "q", "pw"))
        a = t.allocate()
        if not res.goal(a is not None and a.code() == 200, "Allocate over TCP: %s" % (a and a.code())):
            return
        u = run.client(stun.Turn(stun.Udp(SRV, "127.0.0.98"), "q", "pw"))
        held = u.allocate()  # also fetches the nonce: the next one is one datagram
        res.goal(held is not None and held.code() == 486,
                 "a UDP Allocate while the TCP one holds the quota: %s (want 486)" % (held and held.code()))
        raw, tid = stun.build(stun.ALLOCATE, stun.REQUEST, stun.attr(stun.A_TRANSPORT, bytes([stun.UDP, 0, 0, 0]))
                              + u._auth_attrs(), key=u.key)
        # Stopped only once it sleeps again: an epoll wait that reported the
        # UDP socket leaves it first in line for the next, ahead of the close.
        time.sleep(0.2)
        with run.pr.lock:
            freeze(run.av.pid)
            try:
                t.tr.close()
                time.sleep(0.05)
                u.tr.send(raw)
                time.sleep(0.05)
            finally:
                os.kill(run.av.pid, signal.SIGCONT)
            m = u.wait(tid, 3.0)
        res.goal(m is not None and m.code() == 200,
                 "a UDP Allocate read in the wake-up that closed the TCP one: %s (want 200)" % (m and m.code()))
        res.note("TCP 200, UDP while held %s, after the close %s" % (held and held.code(), m and m.code()))
        run.after()


@attack("A9.port-close")
def a9_port_close(res):
    """An RFC 6062 allocation's relayed TCP port is free once its socket is
    closed, not a loop iteration later. One relay port; with avedge
    stopped, the holder deletes its TCP allocation and a second client asks
    for one: both reach one wake-up, the delete first. The second gets 200
    (it got 508, "no free TCP relay port")."""
    port = 50100
    with Run(res, TCP_ARGS + LEGIT_USER + ["--relay-ip", LOCAL_IP, "--ports", "%d-%d" % (port, port),
                                           "--threads", "1"], prober=False) as run:
        run.baseline()
        t1 = run.client(stun.Turn(stun.Stream(SRV, bind="127.0.0.99"), *LEGIT))
        t2 = run.client(stun.Turn(stun.Stream(SRV, bind="127.0.0.100"), *LEGIT))
        a = t1.allocate(stun.TCP)
        if not res.goal(a is not None and a.code() == 200, "TCP Allocate: %s" % (a and a.code())):
            return
        busy = t2.allocate(stun.TCP)  # also fetches the nonce
        res.goal(busy is not None and busy.code() == 508,
                 "a second TCP Allocate with the one port held: %s (want 508)" % (busy and busy.code()))
        rel, _ = stun.build(stun.REFRESH, stun.REQUEST, stun.attr(stun.A_LIFETIME, struct.pack("!I", 0))
                            + t1._auth_attrs(), key=t1.key)
        raw, tid = stun.build(stun.ALLOCATE, stun.REQUEST, stun.attr(stun.A_TRANSPORT, bytes([stun.TCP, 0, 0, 0]))
                              + t2._auth_attrs(), key=t2.key)
        time.sleep(0.2)  # asleep again, nothing of t2's first in line (A9.quota-close)
        freeze(run.av.pid)
        try:
            t1.tr.send(rel)
            time.sleep(0.05)
            t2.tr.send(raw)
            time.sleep(0.05)
        finally:
            os.kill(run.av.pid, signal.SIGCONT)
        m = t2.wait(tid, 3.0)
        got = m.addr(stun.A_XOR_RELAYED) if m is not None and m.code() == 200 else None
        res.goal(got is not None and got[1] == port,
                 "a TCP Allocate read in the wake-up that deleted the holder's: %s %s (want 200 on %d)" %
                 (m and m.code(), got, port))
        res.note("held 508, after the delete %s on %s" % (m and m.code(), got and got[1]))
        run.after()


@attack("A9.peer-gone")
def a9_peer_gone(res):
    """A peer that connects in to an RFC 6062 relayed address and hangs up
    before the client's ConnectionBind no longer holds its --max-connects
    slot (it did until the 30 s bind timeout): at --max-connects 1 the
    client's Connect after it gets 200, not 508."""
    pe = peer("tcp", "0.0.0.0:7000", 120)
    with Run(res, TCP_ARGS + LEGIT_USER + ["--relay-ip", LOCAL_IP, "--max-connects", "1"], peers=[pe]) as run:
        run.baseline()
        t = run.client(stun.Turn(stun.Stream(SRV, bind="127.0.0.101"), *LEGIT))
        a = t.allocate(stun.TCP)
        if not res.goal(a is not None and a.code() == 200, "TCP Allocate: %s" % (a and a.code())):
            return
        rel = a.addr(stun.A_XOR_RELAYED)
        t.permit(("198.18.0.3", 0), ("198.18.0.2", 7000))
        code = ("import socket,sys; s=socket.socket(); s.bind(('198.18.0.3', 0)); "
                "s.connect((sys.argv[1], int(sys.argv[2]))); s.close()")
        r = subprocess.run(["ip", "netns", "exec", PEER_NS, sys.executable, "-c", code, rel[0], str(rel[1])],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=10)
        if not res.goal(r.returncode == 0, "the peer's connection in: %s" % r.stderr.decode()[-200:]):
            return
        attempt = None
        for _ in range(20):  # the ConnectionAttempt says avedge took the connection in
            attempt = next((m for k, m in t.inbox if k == "ind" and m.method == 0x00C), None)
            if attempt:
                break
            t.permit(("198.18.0.2", 7000))
            time.sleep(0.1)
        if not res.goal(attempt is not None, "no ConnectionAttempt for the peer's connection"):
            return
        c = t.connect(("198.18.0.2", 7000))
        res.goal(c is not None and c.code() == 200,
                 "a Connect after the waiting peer left, at --max-connects 1: %s (want 200)" % (c and c.code()))
        res.note("ConnectionAttempt, peer gone, Connect %s" % (c and c.code()))
        run.after()


@attack("A9.connects")
def a9_connects(res):
    """--max-connects caps RFC 6062 Connects per allocation."""
    cap, tries = 4, 8
    pe = peer("tcp", "0.0.0.0:7000", 120)
    with Run(res, TCP_ARGS + LEGIT_USER + METRICS_ARGS + ["--relay-ip", LOCAL_IP, "--max-connects", str(cap)],
             peers=[pe]) as run:
        m0 = run.baseline(MADDR)
        t = run.client(stun.Turn(stun.Stream(SRV, bind="127.0.0.91"), *LEGIT))
        a = t.allocate(stun.TCP)
        if not res.goal(a is not None and a.code() == 200, "TCP Allocate: %s" % (a and a.code())):
            return
        peers = [("198.18.0.%d" % (2 + i), 7000) for i in range(tries + 1)]
        t.permit(*peers[:tries])
        codes = []
        for p in peers[:tries]:
            c = t.connect(p)
            codes.append(c.code() if c else None)
        res.note("Connects: %s" % codes)
        res.goal(codes[:cap] == [200] * cap, "the first %d Connects: %s" % (cap, codes[:cap]))
        res.goal(all(c in (486, 508) for c in codes[cap:]),
                 "Connects past --max-connects %d: %s (want 508 or 486)" % (cap, codes[cap:]))
        t2 = run.client(stun.Turn(stun.Stream(SRV, bind="127.0.0.92"), *LEGIT))
        t2.allocate(stun.TCP)
        t2.permit(peers[tries])
        c2 = t2.connect(peers[tries])
        res.goal(c2 is not None and c2.code() == 200,
                 "another allocation's first Connect: %s (the cap is per allocation)" % (c2 and c2.code()))
        counter_moved(res, m0, metrics(MADDR), "max_connects")
        res.held = held({UDP_PORT})
        run.after()


# ---------------------------------------------------------------- A10

@attack("A10.c2c")
def a10_client_to_client(res):
    """Two clients of one relay: permissions by IP (port 0), Send both ways."""
    with Run(res, LEGIT_USER + ["--user", "a:pw", "--relay-ip", LOCAL_IP]) as run:
        run.baseline()
        ca = run.client(stun.Turn(stun.Udp(SRV, "127.0.0.30"), "a", "pw"))
        cb = run.client(stun.Turn(stun.Udp(SRV, "127.0.0.31"), "a", "pw"))
        ma, mb = ca.allocate(), cb.allocate()
        if not res.goal(ma and mb and ma.code() == 200 and mb.code() == 200,
                        "Allocates: %s %s" % (ma and ma.code(), mb and mb.code())):
            return
        ra, rb = ma.addr(stun.A_XOR_RELAYED), mb.addr(stun.A_XOR_RELAYED)
        pa, pb = ca.permit((rb[0], 0)), cb.permit((ra[0], 0))
        codes = (pa and pa.code(), pb and pb.code())
        res.goal(codes == (200, 200), "CreatePermission for the other's relayed IP, port 0: %s %s" % codes)
        if codes != (200, 200):  # carry on with full addresses, to see the rest
            ca.permit(rb)
            cb.permit(ra)
        ca.send_indication(rb, b"from A to B")
        got_b = cb.next_data(2.0)
        cb.send_indication(ra, b"from B to A")
        got_a = ca.next_data(2.0)
        res.goal(got_b == (ra, b"from A to B"), "B got %s" % (got_b,))
        res.goal(got_a == (rb, b"from B to A"), "A got %s" % (got_a,))
        res.note("A %s:%d <-> B %s:%d both ways, permissions %s" % (ra + rb + (codes,)))
        res.out, res.inn = 22, len(got_a[1] if got_a else b"") + len(got_b[1] if got_b else b"")
        run.after()


# ---------------------------------------------------------------- A11

def s_client(*args):
    """'Cipher is X' of an openssl s_client run: X, or None without a session."""
    r = subprocess.run(["timeout", "8", "openssl", "s_client", "-connect", "127.0.0.1:%d" % TLS_PORT]
                       + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    for line in r.stdout.decode(errors="replace").splitlines():
        if "Cipher is " in line:
            c = line.split("Cipher is ", 1)[1].strip()
            return None if c == "(NONE)" else c
    return None


@attack("A11.tls")
def a11_tls(res):
    with Run(res, TLS_ARGS + LEGIT_USER) as run:
        run.baseline()
        must = [("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"), ("-tls1_3",)]
        never = [("-tls1_2", "-cipher", "AES128-SHA:@SECLEVEL=0"),
                 ("-tls1_2", "-cipher", "AES256-GCM-SHA384:@SECLEVEL=0"),
                 ("-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"),
                 ("-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0"),
                 ("-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")]
        seen = []
        for a in must:
            c = s_client(*a)
            seen.append("%s=%s" % (a[-1], c or "refused"))
            res.goal(c is not None, "%s refused" % " ".join(a))
        for a in never:
            c = s_client(*a)
            seen.append("%s=%s" % (a[-1].split(":")[0], c or "refused"))
            res.goal(c is None, "%s accepted (%s)" % (" ".join(a), c))
        res.note(", ".join(seen))
        run.after()


# ---------------------------------------------------------------- A12

@attack("A12.metrics")
def a12_metrics_slowloris(res):
    mt, mx = 2, 8
    stalled, extra = [], []
    with Run(res, LEGIT_USER + METRICS_ARGS + ["--metrics-timeout", str(mt), "--metrics-max-conns", str(mx)],
             ports=[METRICS_PORT]) as run:
        run.at_end(lambda: close_all(stalled + extra))
        m0 = run.baseline(MADDR)
        t0 = time.monotonic()
        stalled = open_many(mx - 1, MADDR, ["127.0.0.110"])
        for s in stalled:
            s.send(b"GET /metr")
        time.sleep(0.3)
        st, _ = http_get(MADDR, timeout=2)
        res.goal(st == 200, "GET /metrics while %d requests stall: %s" % (mx - 1, st))
        stalled += open_many(1, MADDR, ["127.0.0.110"])
        stalled[-1].send(b"GET /metr")
        time.sleep(0.3)
        extra = open_many(mx, MADDR, ["127.0.0.111"])
        for s in extra:
            try:
                s.send(b"GET /metr")
            except OSError:
                pass
        closed, _ = watch(extra, 1.0)
        res.goal(len(closed) == len(extra), "with %d held, %d of %d more connections were refused" %
                 (mx, len(closed), len(extra)))
        res.held = held({METRICS_PORT})
        # Half of the stalled ones drip a byte every 0.5 s: the timeout is
        # the request's, not an idle one.
        closed, _ = watch(stalled, mt + 3 - (time.monotonic() - t0), tick=dripper(stalled[::2], b"i"))
        res.goal(len(closed) == len(stalled), "%d of %d stalled requests still open %d s after they began "
                 "(--metrics-timeout %d)" % (len(stalled) - len(closed), len(stalled), mt + 3, mt))
        st, why = http_get(MADDR, timeout=2)
        res.goal(st == 200, "GET /metrics after the attack: %s%s" % (st, "" if st == 200 else " (%s)" % why))
        m1 = metrics(MADDR)
        counter_moved(res, m0, m1, "metrics_conns")
        counter_moved(res, m0, m1, "metrics_timeout")
        res.out = 9 * (len(stalled) + len(extra))
        close_all(stalled + extra)
        run.after()


# ---------------------------------------------------------------- A13

@attack("A13.big-frame")
def a13_big_frames(res):
    """ChannelData up to the largest legal frame over TCP and TLS."""
    pe = peer("udp", "%s:7100" % PEER_IP, 120)
    plog = os.path.join(TMP, "peer-udp-%s_7100.log" % PEER_IP)
    with Run(res, TCP_ARGS + TLS_ARGS + LEGIT_USER + ["--relay-ip", LOCAL_IP], peers=[pe]) as run:
        run.baseline()
        out = inn = 0
        seen = []
        for tls in (False, True):
            tp = "tls" if tls else "tcp"
            port = TLS_PORT if tls else UDP_PORT
            t = run.client(stun.Turn(stun.Stream(("127.0.0.1", port), tls=tls, bind="127.0.0.95"), *LEGIT))
            a = t.allocate()
            if not res.goal(a is not None and a.code() == 200, "%s Allocate: %s" % (tp, a and a.code())):
                continue
            pa = (PEER_IP, 7100)
            t.permit(pa)
            cb = t.channel_bind(0x4000, pa)
            if not res.goal(cb is not None and cb.code() == 200, "%s ChannelBind: %s" % (tp, cb and cb.code())):
                continue
            for size, must in ((60000, True), (65507, False)):
                payload = bytes(random.getrandbits(8) for _ in range(64)) * (size // 64 + 1)
                payload = payload[:size]
                try:
                    t.send_chdata(0x4000, payload)
                    out += size + 4
                    back = t.next_data(3.0)
                except stun.Closed as e:
                    seen.append("%s %d: avedge closed the connection (%s)" % (tp, size, e))
                    res.goal(not must, "a %d-byte ChannelData over %s: avedge closed the connection" % (size, tp))
                    break
                ok = back == (0x4000, payload)
                inn += len(back[1]) if back else 0
                seen.append("%s %d %s" % (tp, size, "echoed" if ok else "lost"))
                if must:
                    res.goal(ok, "a %d-byte ChannelData over %s did not come back from the echo peer" % (size, tp))
            try:  # the largest frame (more than UDP carries), then a small one
                t.send_chdata(0x4000, b"\x55" * 65535)
                t.send_chdata(0x4000, b"still there")
                end = time.monotonic() + 3.0
                back = None
                while back != (0x4000, b"still there") and time.monotonic() < end:
                    back = t.next_data(end - time.monotonic())  # (the big one may echo first)
            except stun.Closed:
                back = None
            alive = back == (0x4000, b"still there")
            seen.append("%s 65535 then small: %s" % (tp, "alive" if alive else "dead"))
            res.goal(alive, "after a 65535-byte ChannelData over %s, the connection no longer relays" % tp)
        try:
            with open(plog) as f:
                sizes = [int(x) for x in f.read().split() if x.isdigit()]
        except OSError:
            sizes = []
        res.goal(sizes.count(60000) >= 2, "the peer received %d datagrams of 60000 bytes (want 2)" %
                 sizes.count(60000))
        res.note("; ".join(seen))
        res.out, res.inn = out, inn
        run.after()


# ---------------------------------------------------------------- A14

@attack("A14.udp-flood")
def a14_udp_flood(res):
    """Unauthenticated UDP from many source ports: flat memory, service on."""
    socks = []
    with Run(res, LEGIT_USER) as run:
        run.at_end(lambda: close_all(socks))
        socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(256)]
        for i, s in enumerate(socks):
            s.bind(("127.0.3.%d" % (1 + i % 16), 0))
            s.setblocking(False)
        kinds = [stun.build(stun.BINDING, stun.REQUEST)[0],
                 stun.build(stun.ALLOCATE, stun.REQUEST, stun.attr(stun.A_TRANSPORT, b"\x11\0\0\0"))[0],
                 stun.chdata(0x4001, b"x" * 32),
                 stun.build(stun.SEND, stun.INDICATION, stun.attr(stun.A_DATA, b"y" * 16))[0],
                 os.urandom(40), stun.build(stun.BINDING, stun.REQUEST)[0][:10]]
        sent = [0, 0, 0]  # packets, bytes out, bytes in

        def flood(n, seconds):
            t0 = time.monotonic()
            for i in range(n):
                k = kinds[i % len(kinds)]
                if i % len(kinds) < 2:  # a fresh transaction id for requests
                    k = k[:8] + os.urandom(12) + k[20:]
                try:
                    socks[i % 256].sendto(k, SRV)
                    sent[0] += 1
                    sent[1] += len(k)
                except BlockingIOError:
                    pass
                if i % 256 == 255:
                    for s in socks:
                        try:
                            while True:
                                sent[2] += len(s.recv(2048))
                        except BlockingIOError:
                            pass
                    if time.monotonic() - t0 > seconds:
                        break

        flood(3000, 5)  # warm-up: every path once
        run.baseline()
        flood(S["a14_packets"], 60)
        time.sleep(0.5)
        run.peak()
        res.out, res.inn = sent[1], sent[2]
        res.note("%d packets" % sent[0])
        # The flood reached avedge: its requests were answered (up to the
        # per-source limit), or the memory check would prove nothing.
        res.goal(sent[2] > 0, "the flood got no answer at all: did it reach avedge?")
        growth = res.rss[1] - res.rss[0]
        res.goal(growth < 1024, "RSS grew %d KiB (< 1024 wanted)" % growth)
        res.rss[2] = run.av.rss()
