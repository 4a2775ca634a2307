#!/usr/bin/env bash
# avedge's RFC 6062 splice under pressure, on loopback: back-pressure both
# ways (a peer pushing 200 MiB into a client that does not read, and a
# client pushing 200 MiB into a peer that does not read: avedge's memory
# stays flat and the sender blocks, then every byte arrives, in order; and
# 64 MiB to a stalled TLS client), half-close both ways (a FIN from one side reaches the other after the
# last byte, and the other direction keeps working), the end of the
# allocation ending a half-closed pair, and a ConnectionBind on the
# control connection refused with 400 (RFC 6062 §5.4). The client and the
# peers are a small python3 RFC 6062 client and TCP servers written below:
# edgeprobe always reads, and these must stall on purpose. About 15 s on
# an idle 2-core machine; every wait is bounded (python's own alarm, 150 s).
#
# Listener 127.0.0.1, relayed address 127.0.0.2, peers on 127.0.0.3.
# AVEDGE_WRAP="valgrind --log-file=F" runs avedge under a wrapper (the
# memory bound is then not checked); so does an ASan build.
. "$(dirname "$0")/../lib/common.sh"
TMP=$(mktemp -d)
trap 'cleanup_pids; rm -rf "$TMP"' EXIT

for b in avedge edgeprobe; do [ -x "$BIN/$b" ] || { echo "$BIN/$b not built"; exit 77; }; done
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
TOTAL=$((200 << 20))      # bytes each pusher sends
RSS_MAX_MIB=${RSS_MAX_MIB:-20} # avedge may grow this much while a side stalls
port=$(free_port) && mport=$(free_port) || exit 1
tport= tls=()
if command -v openssl >/dev/null && tport=$(free_port) &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
		-days 1 -subj /CN=edge.lab >/dev/null 2>&1; then
	tls=(--listen "127.0.0.1:$tport/tls" --cert "$TMP/cert.pem" --key "$TMP/key.pem")
else
	tport=
fi

cat >"$TMP/rfc6062.py" <<'EOF'
"""A stalling RFC 6062 client and TCP peers for avedge_tcprelay_pressure.sh.
Bytes are i % 251 for the i-th byte of a stream, so order and loss show."""
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
EOF

read -r -a wrap <<<"${AVEDGE_WRAP:-}"
spawn "${wrap[@]}" "$BIN/avedge" --listen 127.0.0.1:$port/tcp "${tls[@]}" --metrics 127.0.0.1:$mport \
	--relay-ip 127.0.0.2 --allow-peer 127.0.0.0/8 --ports 47000-47999 \
	--user alice:secret --realm edge.lab --log-level warn --grace 1
AVEDGE=${T_PIDS[-1]}
wait_for 30 "$BIN/edgeprobe" binding 127.0.0.1:$port --tcp --timeout 200 || { echo "avedge did not start"; exit 1; }

checkrss=1
if [ -n "${AVEDGE_WRAP:-}" ] || ldd "$BIN/avedge" | grep -q libasan; then
	checkrss=0
	echo "  skip  memory bounds (avedge runs under a wrapper or ASan)"
fi
PY=(python3 "$TMP/rfc6062.py") # spawned as is: cleanup stops python itself
field() { sed -n "s/.*\"$2\": \"\{0,1\}\([^,\"}]*\).*/\1/p" "$1"; }
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
listening() { ss -Hltn "src $1" | grep -q .; }
# Wait until a progress file has not moved for a second: the sender blocked
# (or finished). Bounded: 30 s.
settled() {
	local last=-1 same=0 now deadline=$((SECONDS + 30))
	while [ $SECONDS -lt $deadline ]; do
		now=$(cat "$1" 2>/dev/null || echo 0)
		if [ "$now" = "$last" ]; then
			same=$((same + 1))
			[ $same -ge 5 ] && return 0
		else
			same=0
		fi
		last=$now
		sleep 0.2
	done
	return 1
}
waitpid() { # PID: its exit code, bounded by the python side's own alarm
	local p keep=() rc
	wait "$1"; rc=$?
	for p in "${T_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	T_PIDS=("${keep[@]}")
	return $rc
}
mib() { echo $((($1 + 1023) / 1024)); }

# stall NAME DIRECTION BYTES [tls=1]: one pusher, one staller, one run.
#   down: the peer pushes, the client stalls; up: the client pushes, the peer
#   stalls. The client speaks TLS to avedge with tls=1.
stall() {
	local n=$1 dir=$2 total=$3 tls=${4:-tls=} pp base hwm rss prog r0 p_pid c_pid p_rc c_rc
	local pf=$TMP/$1.prog hf=$TMP/$1.hold srv=127.0.0.1:$port P
	pp=$(free_port) && P=127.0.0.3:$pp || return
	[ "$tls" = tls=1 ] && srv=127.0.0.1:$tport
	base=$(kib "$AVEDGE" VmRSS)
	if [ "$dir" = down ]; then
		spawn "${PY[@]}" peer mode=push listen=$P bytes=$total progress=$pf >"$TMP/$n.peer"
	else
		spawn "${PY[@]}" peer mode=sink listen=$P hold=$hf >"$TMP/$n.peer"
	fi
	p_pid=${T_PIDS[-1]}
	wait_for 10 listening "$P" || { echo "  FAIL  $n: peer did not listen"; T_FAILS=$((T_FAILS + 1)); return; }
	if [ "$dir" = down ]; then
		spawn "${PY[@]}" client mode=pull server=$srv peer=$P user=alice pass=secret $tls \
			hold=$hf bound=$TMP/$n.bound >"$TMP/$n.client"
	else
		spawn "${PY[@]}" client mode=push server=$srv peer=$P user=alice pass=secret $tls \
			bytes=$total progress=$pf >"$TMP/$n.client"
	fi
	c_pid=${T_PIDS[-1]}
	[ "$dir" = down ] && wait_for 10 test -e "$TMP/$n.bound" # the splice began
	wait_for 10 test -s "$pf"
	settled "$pf"
	prog=$(cat "$pf" 2>/dev/null || echo 0)
	rss=$(kib "$AVEDGE" VmRSS) hwm=$(kib "$AVEDGE" VmHWM)
	echo "    $n: pusher settled at $((prog >> 20)) MiB of $((total >> 20));" \
		"avedge VmRSS $(mib "$base") -> $(mib "$rss") MiB, peak (VmHWM) $(mib "$hwm") MiB"
	check "$n: the pusher blocked: $((prog >> 20)) MiB of $((total >> 20)) sent while the other side stalled" \
		test "$prog" -lt $((total / 2))
	if [ $checkrss = 1 ]; then
		check "$n: avedge grew $(((hwm - base) / 1024)) MiB (peak) < $RSS_MAX_MIB MiB while stalled" \
			test $((hwm - base)) -lt $((RSS_MAX_MIB * 1024))
	fi
	touch "$hf" # the staller reads now
	waitpid "$p_pid"; p_rc=$?
	waitpid "$c_pid"; c_rc=$?
	if [ "$dir" = down ]; then
		expect_eq "$n: peer sent everything and closed" "0 $total" "$p_rc $(field "$TMP/$n.peer" sent)"
		expect_eq "$n: client received every byte, in order, then EOF" "0 $total true true" \
			"$c_rc $(field "$TMP/$n.client" received) $(field "$TMP/$n.client" intact) $(field "$TMP/$n.client" eof)"
	else
		expect_eq "$n: peer received every byte, in order, then EOF" "0 $total true" \
			"$p_rc $(field "$TMP/$n.peer" received) $(field "$TMP/$n.peer" intact)"
		expect_eq "$n: the peer's answer, sent after the client's FIN, reached the client" \
			"0 got $total intact true" \
			"$c_rc $(field "$TMP/$n.client" reply) $(field "$TMP/$n.client" eof)"
	fi
	r0=$(kib "$AVEDGE" VmRSS)
	echo "    $n: avedge VmRSS after the run $(mib "$r0") MiB"
	for f in peer client; do grep -q '"error"' "$TMP/$n.$f" && sed "s/^/    $n $f: /" "$TMP/$n.$f"; done
}

stall down down $TOTAL
stall up up $TOTAL
# Over TLS the client's bytes pass through OpenSSL; the peer's FIN reaches
# the client as close_notify (the client takes a bare TCP FIN as an error).
if [ -n "$tport" ]; then
	stall tls-down down $((64 << 20)) tls=1
else
	echo "  skip  TLS (no openssl to make a certificate)"
fi

# Half-close with an ordinary reader: the peer sends N bytes and FIN; the
# client gets exactly N, then EOF.
N=123457 pp=$(free_port)
P=127.0.0.3:$pp
spawn "${PY[@]}" peer mode=push listen=$P bytes=$N >"$TMP/hc.peer"
p_pid=${T_PIDS[-1]}
wait_for 10 listening "$P"
spawn "${PY[@]}" client mode=pull server=127.0.0.1:$port peer=$P user=alice pass=secret >"$TMP/hc.client"
c_pid=${T_PIDS[-1]}
waitpid "$c_pid"; c_rc=$?
expect_eq "half-close: client got exactly $N bytes, intact, then EOF" "0 $N true true" \
	"$c_rc $(field "$TMP/hc.client" received) $(field "$TMP/hc.client" intact) $(field "$TMP/hc.client" eof)"
waitpid "$p_pid"
expect_eq "half-close: the peer saw the client's FIN after it (no reset)" "eof" "$(field "$TMP/hc.peer" end)"

# ConnectionBind on the control connection: 400, and nothing broken by it.
pp=$(free_port)
P=127.0.0.3:$pp
spawn "${PY[@]}" peer mode=push listen=$P bytes=1000 >"$TMP/cb.peer"
p_pid=${T_PIDS[-1]}
wait_for 10 listening "$P"
spawn "${PY[@]}" client mode=control-bind server=127.0.0.1:$port peer=$P user=alice pass=secret >"$TMP/cb.client"
c_pid=${T_PIDS[-1]}
waitpid "$c_pid"; c_rc=$?
j=$TMP/cb.client
expect_eq "ConnectionBind on the control connection: 400" 400 "$(field "$j" control_bind)"
check "ConnectionBind on the control connection: the reason says so ($(field "$j" reason))" \
	grep -q 'control connection' <<<"$(field "$j" reason)"
expect_eq "ConnectionBind on the control connection: a Refresh after it works" 200 "$(field "$j" refresh)"
expect_eq "ConnectionBind on the control connection: the id binds on a new connection" \
	"0 200 1000 true" "$c_rc $(field "$j" data_bind) $(field "$j" received) $(field "$j" intact)"
# The pair was half-closed (the peer's FIN passed, the client sent none):
# Refresh 0 ends the allocation, and with it the pair.
expect_eq "Refresh 0 on the half-closed pair's allocation" 200 "$(field "$j" refresh0)"
waitpid "$p_pid"
expect_eq "the allocation's end closed the peer's side" "eof" "$(field "$TMP/cb.peer" end)"
# The client holds both sockets 3 s after Refresh 0: an end later than that
# would be the client's exit, not the allocation's.
check "... at once ($(field "$TMP/cb.peer" end_after_s) s after the peer's FIN, the client holds on 3 s)" \
	awk -v t="$(field "$TMP/cb.peer" end_after_s)" 'BEGIN { exit !(t != "" && t < 2) }'

metric() { # NAME: avedge's value (bash's /dev/tcp, no curl needed)
	timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
		printf "GET /metrics HTTP/1.0\r\n\r\n" >&3; cat <&3' "$mport" |
		tr -d '\r' | awk -v k="$1" '$1 == k { print $2; exit }'
}
wait_for 5 test "$(metric avedge_allocations)" = 0
expect_eq "avedge: no allocation left" 0 "$(metric avedge_allocations)"
kill -INT "$AVEDGE"
waitpid "$AVEDGE"
expect_eq "avedge: clean exit" 0 $?
finish
