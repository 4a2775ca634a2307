"""harness.py: the stress suite's machinery. Starts and stops the processes
it owns (avedge, coturn, peers in the peer namespace, edgeprobe), samples
avedge's memory and connections, runs the legitimate client beside each
attack, reads /metrics, and prints one line per attack.

Everything runs inside the suite's own network namespace (tests/stress/run
makes it): 127.0.0.0/8 on lo, and 198.18.0.1 on a veth whose other end,
198.18.0.2-.21, is the peer namespace (peers that are not local)."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import stun

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.environ.get("BIN") or os.path.join(ROOT, "build", "bin")
HERE = os.path.dirname(os.path.abspath(__file__))
PEER_NS = os.environ.get("STRESS_PEER_NS", "")
LOCAL_IP = os.environ.get("STRESS_LOCAL_IP", "198.18.0.1")  # ours, on the veth
PEER_IP = os.environ.get("STRESS_PEER_IP", "198.18.0.2")    # the peer namespace
TMP = os.environ.get("STRESS_TMP", "/tmp")

# Fixed ports: the namespace is ours alone.
UDP_PORT = 3478      # udp and tcp
TLS_PORT = 5349
WILD_PORT = 3479     # a wildcard TCP listener (A4)
METRICS_PORT = 9100
LEGIT_SRC = "127.0.0.200"
LEGIT = ("legit", "legitpw")

_procs = []          # every process we started: (Popen, name)
_lock = threading.Lock()


def spawn(args, name, log=None, ns=None):
    """Start a process we own; its output goes to log (a path) or nowhere."""
    if ns:
        args = ["ip", "netns", "exec", ns] + list(args)
    out = open(log, "ab") if log else subprocess.DEVNULL
    p = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=out if log else subprocess.DEVNULL,
                         start_new_session=True)
    if log:
        out.close()
    with _lock:
        _procs.append((p, name))
    return p


def stop(p, sig=signal.SIGINT, wait=3.0):
    """Stop one process we started: sig, then SIGKILL. Its exit status."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(wait)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    with _lock:
        for i, (q, _) in enumerate(_procs):
            if q is p:
                del _procs[i]
                break
    return p.returncode


def stop_all():
    with _lock:
        ps = [p for p, _ in _procs]
    for p in ps:
        stop(p, signal.SIGKILL, 2)


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def held(ports):
    """Server-side TCP connections with a local port in ports that are still
    held (ESTABLISHED, SYN_RECV or CLOSE_WAIT: the process has not closed
    them), from /proc/net/tcp of our namespace."""
    n = 0
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    p = line.split(None, 4)
                    if p[3] in ("01", "03", "08") and int(p[1].rsplit(":", 1)[1], 16) in ports:
                        n += 1
        except OSError:
            pass
    return n


def udp_bound(lo, hi):
    """UDP sockets bound to a port in lo..hi (the relay range: avedge's own)."""
    n = 0
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    port = int(line.split(None, 2)[1].rsplit(":", 1)[1], 16)
                    if lo <= port <= hi:
                        n += 1
        except OSError:
            pass
    return n


def http_get(addr, path="/metrics", timeout=3.0):
    """(status, body) of a plain HTTP/1.0 GET, or (0, error)."""
    try:
        s = socket.create_connection(addr, timeout=timeout)
        s.sendall(b"GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path.encode())
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
        s.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        return status, body.decode(errors="replace")
    except (OSError, ValueError, IndexError) as e:
        return 0, str(e)


def metrics(addr):
    """{'name{labels}': value} or None."""
    st, body = http_get(addr)
    if st != 200:
        return None
    out = {}
    for line in body.splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


def limit(m, name):
    """avedge_limit_total{limit="name"} from a metrics dict, or None."""
    if m is None:
        return None
    return m.get('avedge_limit_total{limit="%s"}' % name)


def wait_until(fn, seconds, step=0.05):
    deadline = time.monotonic() + seconds
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= deadline:
            return v
        time.sleep(step)


def binding_ok(addr, bind="127.0.0.1", timeout=0.3):
    u = stun.Udp(addr, bind)
    try:
        raw, tid = stun.build(stun.BINDING, stun.REQUEST)
        u.send(raw)
        got = u.recv(timeout)
        return bool(got and (stun.parse(got[0]) or stun.Msg()).tid == tid)
    except OSError:
        return False
    finally:
        u.close()


class AvedgeFailed(Exception):
    def __init__(self, msg, log=""):
        super().__init__(msg)
        self.log = log  # everything avedge wrote


class Avedge:
    """One avedge we started. Its log is TMP/<name>.log."""

    def __init__(self, name, args, udp=True, ready=None):
        self.name = name
        self.log = os.path.join(TMP, "%s.avedge.log" % name)
        base = ["--realm", "edge.lab", "--log-level", "warn", "--grace", "1", "--threads", "2"]
        if udp:
            base += ["--listen", "127.0.0.1:%d/udp" % UDP_PORT]
        self.args = [os.path.join(BIN, "avedge")] + base + list(args)
        self.p = spawn(self.args, "avedge " + name, self.log)
        self.pid = self.p.pid
        ok = wait_until(lambda: self.p.poll() is not None or
                        (ready() if ready else binding_ok(("127.0.0.1", UDP_PORT))), 8)
        if self.p.poll() is not None:
            raise AvedgeFailed("avedge did not start (exit %s): %s" % (self.p.returncode, self.first_error()),
                               self.log_text())
        if not ok:
            self.stop()
            raise AvedgeFailed("avedge did not answer within 8 s: %s" % self.first_error())

    def log_text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def first_error(self):
        try:
            with open(self.log, errors="replace") as f:
                lines = [l.strip() for l in f if l.strip()]
        except OSError:
            lines = []
        return lines[0] if lines else "(no output)"

    def alive(self):
        return self.p.poll() is None

    def rss(self):
        return rss_kib(self.pid)

    def stop(self):
        return stop(self.p, signal.SIGINT, 4)


class Monitor(threading.Thread):
    """Samples avedge's VmRSS and the connections it holds on some ports."""

    def __init__(self, av, ports=(), every=0.05):
        super().__init__(daemon=True)
        self.av, self.ports, self.every = av, set(ports), every
        self.max_rss = self.max_held = 0
        self.stopped = False
        self.start()

    def reset(self):
        self.max_rss = self.av.rss() or 0
        self.max_held = 0

    def run(self):
        while not self.stopped:
            r = self.av.rss()
            if r:
                self.max_rss = max(self.max_rss, r)
            if self.ports:
                self.max_held = max(self.max_held, held(self.ports))
            time.sleep(self.every if len(self.ports) == 0 or self.max_held < 1000 else 0.25)

    def halt(self):
        self.stopped = True
        self.join(2)


class Prober(threading.Thread):
    """The legitimate client: an edgeprobe allocate (UDP, its own source
    address) every `every` seconds while the attack runs. Hold .lock to keep
    a probe from running (while counting avedge's sockets)."""

    def __init__(self, target=("127.0.0.1", UDP_PORT), creds=None, every=0.5, transport="--udp"):
        super().__init__(daemon=True)
        self.target, self.every, self.transport = target, every, transport
        self.creds = creds or ["--user", LEGIT[0], "--pass", LEGIT[1]]
        self.ok = self.total = 0
        self.worst = 0.0
        self.errors = []
        self.stopped = False
        self.lock = threading.Lock()
        self.start()

    def probe(self):
        args = [os.path.join(BIN, "edgeprobe"), "allocate", "%s:%d" % self.target, self.transport,
                "--bind", LEGIT_SRC, "--json", "--timeout", "2000"] + self.creds
        try:
            r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10)
            j = json.loads(r.stdout.decode().strip().splitlines()[-1])
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            j = {"error": "no answer"}
        self.total += 1
        if "relayed" in j and "error" not in j:
            self.ok += 1
            self.worst = max(self.worst, float(j.get("rtt_ms", 0)))
        else:
            self.errors.append(j.get("error", "?"))

    def run(self):
        while not self.stopped:
            t = time.monotonic()
            with self.lock:
                if self.stopped:
                    break
                self.probe()
            time.sleep(max(0.0, self.every - (time.monotonic() - t)))

    def halt(self):
        self.stopped = True
        self.join(15)
        if self.total == 0:  # a very short attack: one probe, now
            self.probe()

    def served(self):
        return self.ok >= 1 and self.ok >= 0.8 * self.total


def peer(kind, addr, seconds=300):
    """A peer in the peer namespace: 'udp' echo or 'tcp' echo (any number of
    connections); addr 0.0.0.0 takes all of the namespace's addresses."""
    log = os.path.join(TMP, "peer-%s-%s.log" % (kind, addr.replace(":", "_")))
    p = spawn([sys.executable, os.path.join(HERE, "peers.py"), kind, addr, str(seconds)],
              "peer " + kind, log, ns=PEER_NS or None)
    time.sleep(0.3)
    return p


def mib(kib):
    return "%.1f" % (kib / 1024.0) if kib is not None else "?"


def human(n):
    if n is None:
        return "-"
    for unit, div in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= div:
            return "%.1f%s" % (n / div, unit)
    return "%dB" % n


class Result:
    """One attack's figures and verdict."""

    def __init__(self, name):
        self.name = name
        self.fails = []
        self.notes = []
        self.rss = [None, None, None]  # KiB: before, peak during, after close
        self.held = None
        self.out = self.inn = None
        self.served = None             # (ok, total) or None
        self.worst = None
        self.t0 = time.monotonic()

    def goal(self, ok, what):
        """Record an assertion: what is a short text of the figures."""
        if not ok:
            self.fails.append(what)
        return ok

    def note(self, what):
        self.notes.append(what)

    def prober(self, pr):
        self.served = (pr.ok, pr.total)
        self.worst = pr.worst if pr.ok else None
        self.goal(pr.served(), "legitimate client served %d/%d%s" %
                  (pr.ok, pr.total, " (%s)" % pr.errors[-1] if pr.errors else ""))

    def line(self):
        r = self.rss
        rss = "%s/%s/%s MiB" % (mib(r[0]), mib(r[1]), mib(r[2])) if r[0] is not None else "-"
        served = "%d/%d" % self.served if self.served else "-"
        worst = "%.1fms" % self.worst if self.worst is not None else "-"
        verdict = "ok  " if not self.fails else "FAIL"
        head = "%s %-13s rss %-17s held %-5s out %-7s in %-7s served %-7s worst %-8s %4.0fs" % (
            verdict, self.name, rss, "-" if self.held is None else self.held, human(self.out),
            human(self.inn), served, worst, time.monotonic() - self.t0)
        tail = "; ".join(self.fails if self.fails else self.notes)
        return head + (" | " + tail if tail else "")
