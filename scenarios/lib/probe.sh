# shellcheck shell=bash
# scenarios/lib/probe.sh: the probes a scenario sends (edgeprobe,
# lab-probe, responders) and bounded waits. Sourced by scenarios/lib.sh.

# ---------------------------------------------------------------- probes

# sc_json KEY [JSON]: a field of edgeprobe's flat JSON (default: the last
# probe's), strings without their quotes; empty when absent. Plain bash:
# it runs many times per scenario.
sc_json() {
	local j=${2-$SC_J} re
	re="\"$1\":(\"([^\"]*)\"|([^,}]*))"
	[[ $j =~ $re ]] || return 0
	echo "${BASH_REMATCH[2]}${BASH_REMATCH[3]}"
}

# sc_probe_error: why the last probe failed, in a few words.
sc_probe_error() {
	local e
	e=$(sc_json error)
	[ -z "$e" ] && e=$(tail -n 1 <<<"$SC_E" | sed 's/^edgeprobe: //; s/^lab-probe: //')
	case $e in
	*"no answer within "*) e="timed out after ${e##*no answer within }" ;;
	*"Operation now in progress"*) e="TCP connect timed out" ;;
	esac
	echo "${e:-no output}"
}

# sc_probe_timed_out: the last probe got no answer at all (as opposed to
# an error response): then the capture can say where things went.
sc_probe_timed_out() {
	case $(sc_probe_error) in
	"timed out"* | *"connect timed out"* | *"no answer"* | *"connection closed"* | *"refused"*) return 0 ;;
	esac
	return 1
}

# sc_probe_silent: nothing at all came back (worth a second try).
sc_probe_silent() {
	case $(sc_probe_error) in
	"timed out"* | *"connect timed out"* | *"no answer"*) return 0 ;;
	esac
	return 1
}

# sc_mapped_why MAPPED OWN: why XOR-MAPPED-ADDRESS is not the client's own.
sc_mapped_why() {
	if [ "$(sc_host "$1")" != "$(sc_host "$2")" ]; then
		echo "the HLB changed the client's source address (SNAT on the A/V service)"
	else
		echo "the HLB rewrote the client's source port"
	fi
}

# sc_relay_config: where avedge on each edge says it relays (its log), to
# name the cause when Allocates fail.
sc_relay_config() {
	local n a out=''
	for n in edge1 edge2; do
		a=$(grep -m1 -o 'relaying at [^,]*' "$SC_STATE/logs/avedge-$n.log" 2>/dev/null | cut -d' ' -f3)
		[ -n "$a" ] || continue
		out+="; avedge on $n relays at $a"
		case $a in "$VIP_AV" | "$VIP_AV6" | "$VIP_ACCESS" | "$VIP_WEBCONF" | "$VIP_INT") out+=" (a VIP)" ;; esac
	done
	echo "$out"
}

# sc_relayed_why ADDR: why a relayed address is not a node's own, when
# it is one of the VIPs (M4); nothing otherwise.
sc_relayed_why() {
	case $(sc_host "$1") in
	"$VIP_AV" | "$VIP_AV6" | "$VIP_ACCESS" | "$VIP_WEBCONF" | "$VIP_INT" | "$VIP_INT6")
		echo ": a VIP, so the relay advertises the VIP" ;;
	esac
}

# sc_alloc_why PROTO TARGET: the reason an Allocate failed, in a phrase:
# where the packets went if nothing came back, the relays' addresses if
# the relay answered with an error.
sc_alloc_why() {
	if sc_probe_timed_out; then
		echo "$(sc_probe_error): $(sc_why_no_answer "$1" "$SC_SRC" "$2")"
	else
		echo "$(sc_probe_error)$(sc_relay_config)"
	fi
}

# sc_edgeprobe NODE CMD TARGET [ARGS...]: edgeprobe with --json in NODE,
# bound to the node's own address and the next free source port. Sets
# SC_J (the JSON), SC_E (stderr), SC_SRC (ADDR:PORT it bound), SC_RC.
sc_edgeprobe() {
	local try
	for try in 1 2; do
		sc_edgeprobe_once "$@" && return 0
		# Once more when nothing came back (a busy machine can lose a
		# race); never for an answer that said no, nor with SC_RETRY=0
		# (probes whose failure is expected).
		[ "$SC_RETRY" = 1 ] && [ $try = 1 ] && sc_probe_silent || break
		echo "      (no answer: once more)" >>"$SC_OUT/probes"
	done
	return $SC_RC
}

sc_edgeprobe_once() {
	local node=$1 cmd=$2 target=$3 fam=4 src
	shift 3
	[[ $target == \[* ]] && fam=6
	sc_next_port
	src=$(sc_addr "$node" $fam) && SC_SRC=$(sc_hostport "$src" $SC_PORT) || SC_SRC=
	local err=${SC_ERRF:-$SC_OUT/.err}
	SC_J=$(in_node "$node" "$BIN/edgeprobe" "$cmd" "$target" --json ${SC_SRC:+--bind "$SC_SRC"} "$@" 2>"$err")
	SC_RC=$?
	SC_E=$(<"$err")
	printf '      %s %s %s -> %s\n' "$node" "$cmd" "$target" "${SC_J:-$SC_E}" >>"$SC_OUT/probes"
	return $SC_RC
}

# sc_binding NODE TARGET [--tcp|--tls]: one STUN Binding.
sc_binding() {
	local node=$1 target=$2
	shift 2
	sc_edgeprobe "$node" binding "$target" --timeout "$SC_TIMEOUT" "$@"
}

# sc_turn NODE CMD TARGET [ARGS...]: allocate/turn/relay with the lab's
# long-term credential.
sc_turn() {
	local node=$1 cmd=$2 target=$3
	shift 3
	sc_edgeprobe "$node" "$cmd" "$target" --user "$LAB_USER" --pass "$LAB_PASSWORD" \
		--timeout "$((SC_TIMEOUT * 2))" "$@"
}

# sc_mras NODE TARGET [ARGS...]: relay credentials from the A/V
# authentication service ([MS-AVEDGEA], R20) as the Front End asks for
# them: edgeprobe mras with the lab's fe certificate (ARGS may replace
# it), bound to the node's address and the next port. Sets SC_J, SC_E,
# SC_RC, SC_SRC, and MRAS_USER/MRAS_PASS decoded once from
# the base64 the answer carries (what a TURN client signs with).
sc_mras() {
	local node=$1 target=$2 err=${SC_ERRF:-$SC_OUT/.err} src fam=4
	shift 2
	MRAS_USER='' MRAS_PASS=''
	[[ $target == \[* ]] && fam=6
	sc_next_port
	src=$(sc_addr "$node" $fam) && SC_SRC=$(sc_hostport "$src" $SC_PORT) || SC_SRC=
	SC_J=$(in_node "$node" "$BIN/edgeprobe" mras "$target" ${SC_SRC:+--bind "$SC_SRC"} --ca "$SC_STATE/ca.pem" \
		--cert "$SC_STATE/fe-cert.pem" --key "$SC_STATE/fe-key.pem" --timeout "$((SC_TIMEOUT * 3))" \
		"$@" 2>"$err")
	SC_RC=$?
	SC_E=$(<"$err")
	printf '      %s mras %s %s -> %s\n' "$node" "$target" "$*" "${SC_J:-$SC_E}" >>"$SC_OUT/probes"
	[ $SC_RC = 0 ] || return $SC_RC
	MRAS_USER=$(sc_json username | base64 -d 2>/dev/null)
	MRAS_PASS=$(sc_json password | base64 -d 2>/dev/null)
	[ -n "$MRAS_USER" ] && [ -n "$MRAS_PASS" ] ||
		{ SC_E="username or password is not base64: $SC_J"; SC_RC=1; }
	return $SC_RC
}

# sc_mras_why TARGET: why the last sc_mras failed, in a phrase (where the
# packets went, when nothing came back).
sc_mras_why() {
	if sc_probe_timed_out && [ -n "$SC_SRC" ]; then
		echo "$(sc_probe_error): $(sc_why_no_answer tcp "$SC_SRC" "$1")"
	else
		sc_probe_error
	fi
}

# sc_mras_nocert NODE HOST:PORT: a well-formed MRAS SERVICE request from a
# TLS client with no certificate (openssl s_client, which can leave it
# out). Sets SC_E to what it saw; 0 when the handshake was refused for the
# missing certificate and nothing answered. A malformed request would not
# do: avedge closes on one without a word, certificate or not.
sc_mras_nocert() {
	local host=${2%:*} body req
	body='<request requestID="1" version="1.0" from="sip:fe@edge.lab" to="sip:'$host'" xmlns="http://schemas.microsoft.com/2006/09/sip/mrasp"><credentialsRequest credentialsRequestID="1"><identity>sip:nocert@edge.lab</identity><location>intranet</location><duration>30</duration></credentialsRequest></request>'
	printf -v req 'SERVICE sip:%s;transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS %s;branch=z9hG4bKnc1\r\nFrom: <sip:fe@edge.lab>;tag=1\r\nTo: <sip:%s>\r\nCall-ID: nocert@fe\r\nCSeq: 1 SERVICE\r\nContent-Type: application/msrtc-media-relay-auth+xml\r\nContent-Length: %d\r\n\r\n%s' \
		"$2" "$host" "$2" "${#body}" "$body"
	SC_E=$( (printf '%s' "$req"; sleep 1) | in_node "$1" timeout 5 openssl s_client -quiet -connect "$2" 2>&1)
	[[ $SC_E != *SIP/2.0* && $SC_E == *'certificate required'* ]]
}

# sc_mras_relay LOCATION: "HOST UDP TCP" of that entry in the last
# sc_mras answer's relay list (empty when it has none).
sc_mras_relay() {
	local re="\"location\":\"$1\",\"host\":\"([^\"]*)\",\"udp\":([0-9]+),\"tcp\":([0-9]+)"
	[[ $SC_J =~ $re ]] && echo "${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
}

# sc_mras_node IDENTITY: the edge whose avedge issued IDENTITY's
# credentials (its log), so a flow through the VIP knows who answered.
sc_mras_node() {
	local n
	for n in edge1 edge2; do
		grep -q "MRAS: credentials for $1 " "$SC_STATE/logs/avedge-$n.log" 2>/dev/null && { echo $n; return 0; }
	done
	return 1
}

# sc_lprobe NODE PROTO ADDR PORT [--from ADDR]: one lab-probe connection
# (the responders answer "NODE SERVICE CLIENT-ADDR:PORT LOCAL-ADDR:PORT").
# Sets SC_LINE and SC_E; the answer's fields in R_NODE R_SERVICE R_CLIENT
# R_LOCAL.
sc_lprobe() {
	local try
	for try in 1 2; do
		sc_lprobe_once "$@" && return 0
		[ "$SC_RETRY" = 1 ] && [ $try = 1 ] && sc_probe_silent || break
		echo "      (no answer: once more)" >>"$SC_OUT/probes"
	done
	return $SC_RC
}

sc_lprobe_once() {
	local node=$1 proto=$2 addr=$3 port=$4
	shift 4
	local err=${SC_ERRF:-$SC_OUT/.err}
	SC_J=''
	SC_LINE=$(in_node "$node" "$BIN/lab-probe" --timeout "$SC_TIMEOUT" "$@" "$proto" "$addr" "$port" 2>"$err")
	SC_RC=$?
	SC_E=$(<"$err")
	read -r R_NODE R_SERVICE R_CLIENT R_LOCAL _ <<<"$SC_LINE"
	printf '      %s lab-probe %s %s %s %s -> %s\n' "$node" "$*" "$proto" "$addr" "$port" \
		"${SC_LINE:-$SC_E}" >>"$SC_OUT/probes"
	return $SC_RC
}

# sc_bg NODE LOGFILE CMD...: start CMD in NODE in the background
# (spawn: stopped at exit if still running); its pid in SC_BG_PID.
sc_bg() {
	local node=$1 log=$2
	shift 2
	spawn ip netns exec "$SC_PREFIX-$node" "$@" >"$log" 2>&1
	# shellcheck disable=SC2034 # for the scenarios (S8, S9 wait on their load)
	SC_BG_PID=$SPAWNED
}

# sc_listening NODE tcp|udp PORT: a socket in NODE is bound (UDP) or
# listening (TCP) on PORT. ss exits 0 whether or not a socket matches its
# filter, so its output is the answer: waiting on its exit status alone
# returned at once, and a client could reach the port before its server.
sc_listening() {
	local out
	out=$(in_node "$1" ss -Hln"${2:0:1}" "sport = :$3") || return 1
	[ -n "$out" ]
}

# sc_responder NODE NAME SPEC...: start a lab-responder of this
# scenario's own (SPEC is SERVICE=ADDR:PORT/PROTO); sc_responders_ready
# waits until every one started so far has bound its sockets.
SC_RESPONDERS=()
sc_responder() {
	local node=$1 name=$2 s args=()
	shift 2
	for s; do args+=(--listen "$s"); done
	sc_bg "$node" "$SC_OUT/responder-$name.log" "$BIN/lab-responder" --name "$node" \
		--cert "$SC_STATE/cert.pem" --key "$SC_STATE/key.pem" "${args[@]}"
	SC_RESPONDERS+=("$node:$SC_OUT/responder-$name.log")
}

sc_responders_ready() {
	local r
	for r in "${SC_RESPONDERS[@]}"; do
		slowwait 3 grep -q '^ready' "${r#*:}" ||
			{ sc_fail "lab-responder in ${r%%:*} did not start: $(head -c 200 "${r#*:}")"; return 1; }
	done
	SC_RESPONDERS=()
}

# ---------------------------------------------------------------- time

sc_now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
