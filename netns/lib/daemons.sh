# lib/daemons.sh: the pool's processes: avedge on each edge, the service
# responder on the edges, the partner and the Front End. Each pid is written
# to $LAB_STATE/pids with its start time, and only those pids are stopped.

LAB_REALM=edge.lab
LAB_USER=alice
LAB_PASSWORD=secret
LAB_AVEDGE_FEATURES=

lab_bin() { # NAME -> path of an executable built binary, or fail
	[ -x "$LAB_BIN/$1" ] && echo "$LAB_BIN/$1"
}

# lab_daemon_start NAME NODE CMD...: starts CMD in NODE's namespace, in its
# own session (no terminal signal reaches it), logs to logs/NAME.log.
lab_daemon_start() {
	local name=$1 node=$2 pid
	shift 2
	(
		trap - ERR INT TERM
		exec setsid ip netns exec "$LAB_PREFIX-$node" "$@" \
			</dev/null >"$LAB_STATE/logs/$name.log" 2>&1
	) &
	pid=$!
	echo "$name $node $pid $(lab_pid_start "$pid")" >>"$LAB_STATE/pids"
}

lab_cert_make() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-days 30 -subj "/CN=$LAB_REALM" -addext "subjectAltName=DNS:$LAB_REALM,DNS:*.$LAB_REALM" \
		-keyout "$LAB_STATE/key.pem" -out "$LAB_STATE/cert.pem" >/dev/null 2>&1 ||
		lab_die "openssl could not make the lab's certificate"
}

# What this avedge accepts, read from its --help (the relay grows flags
# over time; the lab uses what is there). Cached in the state dir.
lab_avedge_features() {
	local help
	help=$("$1" --help 2>&1 || true)
	{
		grep -q -- '--listen' <<<"$help" && echo listen
		grep -q -- '--listen.*tls' <<<"$help" && echo tls
		grep -q -- '--relay-ip' <<<"$help" && echo relay-ip
		grep -q -- '--external-ip' <<<"$help" && echo external-ip
		grep -q -- '--realm' <<<"$help" && echo realm
		grep -q -- '--user' <<<"$help" && echo user
		grep -q -- '--auth-secret' <<<"$help" && echo auth-secret
		grep -q -- '--cert' <<<"$help" && echo cert
		grep -qi 'ipv6\|\[addr\]\|\[::' <<<"$help" && echo ipv6
		grep -q -- '--grace' <<<"$help" && echo grace
	} >"$LAB_STATE/avedge.features"
	LAB_AVEDGE_FEATURES=$(tr '\n' ' ' <"$LAB_STATE/avedge.features")
}

lab_has() { [[ " $LAB_AVEDGE_FEATURES " == *" $1 "* ]]; }

# avedge on EDGE: UDP 3478 and 443 (TLS once the relay has it, plain TCP
# until then) on the external A/V address and the internal address (R10),
# relaying at the node's own A/V address (R11) unless M4 asks for the VIP.
lab_avedge_args() { # AV_ADDR INT_ADDR
	local av=$1 int=$2 t=tcp a relay args=()
	lab_has tls && t=tls
	for a in "$av" "$int"; do
		args+=(--listen "$a:3478/udp" --listen "$a:443/$t")
		lab_v6_set "$a"
		lab_has ipv6 && args+=(--listen "[$LAB_V6]:3478/udp" --listen "[$LAB_V6]:443/$t")
	done
	if grep -qx M4 "$LAB_STATE/faults" && lab_has external-ip; then
		# M4, the relay fault: relay from the node's own address but
		# advertise the A/V VIP, as a relay told the VIP is its public
		# address would (the static-NAT setting misapplied).
		args+=(--external-ip "203.0.113.12/$av")
		lab_v6_set 203.0.113.12
		relay=$LAB_V6
		lab_v6_set "$av"
		lab_has ipv6 && args+=(--external-ip "$relay/$LAB_V6")
	elif lab_has relay-ip; then
		# Without --external-ip, M4 can only ask to relay at the VIP.
		grep -qx M4 "$LAB_STATE/faults" && relay=203.0.113.12 || relay=$av
		args+=(--relay-ip "$relay")
		lab_v6_set "$relay"
		lab_has ipv6 && args+=(--relay-ip "$LAB_V6")
	fi
	# down gives a daemon 3 s after SIGTERM; the relay's own drain must
	# fit in that.
	lab_has grace && args+=(--grace 1)
	lab_has realm && args+=(--realm "$LAB_REALM")
	lab_has user && args+=(--user "$LAB_USER:$LAB_PASSWORD")
	lab_has auth-secret && args+=(--auth-secret "$(lab_state_get LAB_REST_SECRET)")
	lab_has cert && args+=(--cert "$LAB_STATE/cert.pem" --key "$LAB_STATE/key.pem")
	printf '%s\n' "${args[@]}"
}

# One --listen per service address, IPv4 and its IPv6 mirror.
lab_listen() { # SERVICE ADDR PORT PROTO
	lab_v6_set "$2"
	echo "--listen" "$1=$2:$3/$4" "--listen" "$1=[$LAB_V6]:$3/$4"
}

# The services of one edge (seed tables; R3a): access and web conferencing
# on their public addresses, the internal services on the internal one.
lab_edge_services() { # ACCESS WEBCONF INT
	lab_listen access "$1" 443 tls
	lab_listen access-sip "$1" 5061 tls
	lab_listen xmpp "$1" 5269 tcp
	lab_listen webconf "$2" 443 tls
	lab_listen access-sip "$3" 5061 tls
	lab_listen av-auth "$3" 5062 tls
	lab_listen replication "$3" 4443 tls
	lab_listen psom "$3" 8057 tls
	lab_listen xmpp-gw "$3" 23456 tls
	lab_listen cls "$3" 50001 tls
	lab_listen cls "$3" 50002 tls
	lab_listen cls "$3" 50003 tls
}

lab_daemons_start() {
	local r a n x args
	: >"$LAB_STATE/pids"
	mkdir -p "$LAB_STATE/logs"
	lab_cert_make
	r=$(lab_bin lab-responder) || {
		echo "lab: warning: $LAB_BIN/lab-responder not built; no service responders" >&2
		r=
	}
	a=$(lab_bin avedge) || {
		echo "lab: warning: $LAB_BIN/avedge not built; no relay on the edges" >&2
		a=
	}
	[ -n "$a" ] && lab_avedge_features "$a"
	for n in 1 2; do
		x=$((n * 10 + 11)) # edge1: .21 .22 .23, edge2: .31 .32 .33
		if [ -n "$a" ]; then
			mapfile -t args < <(lab_avedge_args "203.0.113.$((x + 2))" "10.20.0.$x")
			lab_daemon_start "avedge-edge$n" "edge$n" "$a" "${args[@]}"
		fi
		if [ -n "$r" ]; then
			# shellcheck disable=SC2046 # word lists by design
			lab_daemon_start "responder-edge$n" "edge$n" "$r" --name "edge$n" \
				--cert "$LAB_STATE/cert.pem" --key "$LAB_STATE/key.pem" \
				$(lab_edge_services "203.0.113.$x" "203.0.113.$((x + 1))" "10.20.0.$x")
		fi
	done
	if [ -n "$r" ]; then
		# shellcheck disable=SC2046
		lab_daemon_start responder-partner partner "$r" --name partner \
			--cert "$LAB_STATE/cert.pem" --key "$LAB_STATE/key.pem" \
			$(lab_listen federation 198.51.100.20 5061 tls)
		# shellcheck disable=SC2046
		lab_daemon_start responder-fe fe "$r" --name fe \
			--cert "$LAB_STATE/cert.pem" --key "$LAB_STATE/key.pem" \
			$(lab_listen sip 10.10.0.10 5061 tls)
	fi
	lab_lb_start
	lab_daemons_wait_ready
}

# Ready means every daemon still runs and has its sockets: the responder
# says "ready" once all are bound; avedge is ready when 3478 is bound; hlb
# once its control socket exists (after its rules and TUN); the nft
# controller says "ready" once it runs (its ruleset was loaded before).
lab_daemons_wait_ready() {
	local name node pid start missing
	for _ in $(seq 100); do # bounded: 5 s
		missing=
		while read -r name node pid start; do
			if ! lab_pids_alive "$pid"; then
				lab_die "$name exited at start: $(tail -n 3 "$LAB_STATE/logs/$name.log" | tr '\n' ' ')"
			fi
			case $name in
			responder-* | lbnft-*) grep -q '^ready' "$LAB_STATE/logs/$name.log" || missing+=" $name" ;;
			hlb-*) [ -S "$LAB_STATE/$name.sock" ] || missing+=" $name" ;;
			avedge-*) ip netns exec "$LAB_PREFIX-$node" ss -Hlun 'sport = :3478' | grep -q . ||
				missing+=" $name" ;;
			esac
		done <"$LAB_STATE/pids"
		[ -z "$missing" ] && return 0
		sleep 0.05
	done
	lab_die "daemons not ready after 5 s:$missing"
}

# Stops exactly the recorded pids (a pid whose start time changed is some
# other process by now and is left alone): TERM, then KILL after 3 s.
lab_daemons_stop() {
	local name node pid start live=()
	[ -f "$LAB_STATE/pids" ] || return 0
	while read -r name node pid start; do
		[ "$(lab_pid_start "$pid" 2>/dev/null)" = "$start" ] || continue
		kill -TERM "$pid" 2>/dev/null && live+=("$pid")
	done <"$LAB_STATE/pids"
	[ ${#live[@]} -gt 0 ] || return 0
	for _ in $(seq 30); do # bounded: 3 s for a graceful exit
		lab_pids_alive "${live[@]}" || return 0
		sleep 0.1
	done
	kill -KILL "${live[@]}" 2>/dev/null || true
}
