# lib/daemons.sh: the pool's processes: avedge on each edge, the service
# responder on the edges, the partner and the Front End. Each pid is written
# to $LAB_STATE/pids with its start time, and only those pids are stopped.

LAB_REALM=edge.lab
LAB_USER=alice
LAB_PASSWORD=secret

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

# The lab's certificates, from a lab CA: the edges' server certificate
# (cert.pem, key.pem: CN and SANs the realm and the internal addresses,
# usable by either end of a TLS connection) and the Front End's client
# certificate (fe-cert.pem, fe-key.pem) for the A/V authentication
# service's mutual TLS on 5062 (R20); ca.pem verifies both. The CA's key
# never leaves the cache. Made once and shared by every lab on the machine
# while less than 20 days old: keys per lab would cost each `up` several
# openssl runs. Each set is made in a directory of its own, then "current"
# (a symlink) is renamed onto it, so parallel `up`s read one whole set,
# never a half-written or mixed one.
LAB_CERT_FILES="ca.pem cert.pem key.pem fe-cert.pem fe-key.pem"

lab_cert_set_make() { # DIR: a new CA and the two certificates it signs
	local d=$1 days=30
	local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	openssl req -x509 "${ec[@]}" -days $days -subj "/CN=$LAB_REALM lab CA" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
		-keyout "$d/ca-key.pem" -out "$d/ca.pem" &&
		openssl req "${ec[@]}" -subj "/CN=$LAB_REALM" -keyout "$d/key.pem" -out "$d/edge.csr" &&
		openssl x509 -req -in "$d/edge.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
			-days $days -out "$d/cert.pem" -extfile <(printf '%s\n' \
				"basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
				"extendedKeyUsage=serverAuth,clientAuth" \
				"subjectAltName=DNS:$LAB_REALM,DNS:*.$LAB_REALM,IP:10.20.0.10,IP:10.20.0.21,IP:10.20.0.31") &&
		openssl req "${ec[@]}" -subj "/CN=fe.$LAB_REALM" -keyout "$d/fe-key.pem" -out "$d/fe.csr" &&
		openssl x509 -req -in "$d/fe.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
			-days $days -out "$d/fe-cert.pem" -extfile <(printf '%s\n' \
				"basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
				"extendedKeyUsage=clientAuth" "subjectAltName=DNS:fe.$LAB_REALM,IP:10.10.0.10") &&
		openssl verify -CAfile "$d/ca.pem" "$d/cert.pem" "$d/fe-cert.pem"
}

lab_cert_make() {
	local dir=$LAB_RUN/.cert new cur f ok=1
	cur=$(readlink -f "$dir/current" 2>/dev/null) || cur=''
	for f in $LAB_CERT_FILES; do [ -n "$cur" ] && [ -s "$cur/$f" ] || ok=0; done
	if [ $ok = 0 ] || [ -z "$(find "$cur/cert.pem" -mtime -20 2>/dev/null)" ]; then
		mkdir -p "$dir"
		new=$(mktemp -d "$dir/set.XXXXXX")
		lab_cert_set_make "$new" >/dev/null 2>&1 ||
			{ rm -rf "$new"; lab_die "openssl could not make the lab's CA and certificates"; }
		chmod 755 "$new"
		ln -sfn "${new##*/}" "$dir/current.$$" && mv -fT "$dir/current.$$" "$dir/current" ||
			{ rm -rf "$new" "$dir/current.$$"; lab_die "cannot install the lab's certificates in $dir"; }
		cur=$new
		# Sets older than any lab still up that copied from them.
		find "$dir" -mindepth 1 -maxdepth 1 -name 'set.*' -mtime +25 -exec rm -rf {} + 2>/dev/null
	fi
	for f in $LAB_CERT_FILES; do
		cp "$cur/$f" "$LAB_STATE/" || lab_die "cannot copy the lab's $f from $cur"
	done
}

# avedge on EDGE: UDP 3478 and TLS 443 on the external A/V address and the
# internal address (R10), IPv4 and IPv6, relaying at the node's own A/V
# address (R11); MRAS on the internal address's 5062. M4, the relay fault, keeps relaying there but advertises
# the A/V VIP, as a relay whose static-NAT setting names the VIP would.
lab_avedge_args() { # AV_ADDR INT_ADDR -> LAB_AVEDGE_ARGS
	local av=$1 int=$2 a av6 args=()
	for a in "$av" "$int"; do
		lab_v6_set "$a"
		args+=(--listen "$a:3478/udp" --listen "$a:443/tls")
		args+=(--listen "[$LAB_V6]:3478/udp" --listen "[$LAB_V6]:443/tls")
	done
	lab_v6_set "$av"
	av6=$LAB_V6
	if [[ $'\n'$(<"$LAB_STATE/faults")$'\n' == *$'\nM4\n'* ]]; then
		lab_v6_set 203.0.113.12
		args+=(--external-ip "203.0.113.12/$av" --external-ip "$LAB_V6/$av6")
	else
		args+=(--relay-ip "$av" --relay-ip "$av6")
	fi
	# down gives a daemon 3 s after SIGTERM; the relay's own drain must
	# fit in that.
	args+=(--grace 1 --realm "$LAB_REALM" --user "$LAB_USER:$LAB_PASSWORD")
	args+=(--auth-secret "$LAB_REST_SECRET" --cert "$LAB_STATE/cert.pem" --key "$LAB_STATE/key.pem")
	# 5062 on the internal address, IPv4 and IPv6, is the A/V
	# authentication service (row intvip_03, R20): mutual TLS with the
	# Front End's certificate; its relay list names the VIPs a client
	# dials, not the node (the balancer picks the node). The pool's shared
	# --auth-secret makes one edge's credentials good on the other.
	lab_v6_set "$int"
	args+=(--mras "$int:5062" --mras "[$LAB_V6]:5062" --mras-ca "$LAB_STATE/ca.pem")
	args+=(--mras-relay "internet=203.0.113.12:3478:443" --mras-relay "intranet=10.20.0.10:3478:443")
	LAB_AVEDGE_ARGS=("${args[@]}")
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
	lab_listen replication "$3" 4443 tls
	lab_listen psom "$3" 8057 tls
	lab_listen xmpp-gw "$3" 23456 tls
	lab_listen cls "$3" 50001 tls
	lab_listen cls "$3" 50002 tls
	lab_listen cls "$3" 50003 tls
}

# lab_daemons_need LB: every daemon `up` starts with load balancer LB is
# built, or one line naming the first that is not and exit 1, before
# anything is built: a lab without its relays or responders would let a
# scenario that only reads the configuration pass.
lab_daemons_need() {
	local b need="avedge lab-responder"
	case $1 in
	emulated) need+=" hlb" ;;
	nft) need+=" lab-lbmon lab-ctflush" ;;
	esac
	for b in $need; do
		lab_bin "$b" >/dev/null ||
			lab_die "$LAB_BIN/$b is not built, and up starts it (build: cmake --build build; or up --daemons none)"
	done
}

lab_daemons_start() {
	local r=$LAB_BIN/lab-responder a=$LAB_BIN/avedge n x
	: >"$LAB_STATE/pids"
	mkdir -p "$LAB_STATE/logs"
	lab_cert_make
	for n in 1 2; do
		x=$((n * 10 + 11)) # edge1: .21 .22 .23, edge2: .31 .32 .33
		lab_avedge_args "203.0.113.$((x + 2))" "10.20.0.$x"
		lab_daemon_start "avedge-edge$n" "edge$n" "$a" "${LAB_AVEDGE_ARGS[@]}"
		# shellcheck disable=SC2046 # word lists by design
		lab_daemon_start "responder-edge$n" "edge$n" "$r" --name "edge$n" \
			--cert "$LAB_STATE/cert.pem" --key "$LAB_STATE/key.pem" \
			$(lab_edge_services "203.0.113.$x" "203.0.113.$((x + 1))" "10.20.0.$x")
	done
	# shellcheck disable=SC2046
	lab_daemon_start responder-partner partner "$r" --name partner \
		--cert "$LAB_STATE/cert.pem" --key "$LAB_STATE/key.pem" \
		$(lab_listen federation 198.51.100.20 5061 tls)
	# shellcheck disable=SC2046
	lab_daemon_start responder-fe fe "$r" --name fe \
		--cert "$LAB_STATE/cert.pem" --key "$LAB_STATE/key.pem" \
		$(lab_listen sip 10.10.0.10 5061 tls)
	lab_lb_start
	lab_daemons_wait_ready
}

# Ready means every daemon still runs and has its sockets: the responder
# logs "ready" once all are bound, avedge its worker count once every
# worker has its listeners, the nft controller "ready" once it runs (its
# ruleset was loaded before); hlb is ready once its control socket exists
# (after its rules and TUN). Logs are read without a process per look.
lab_log_has() { # NAME GLOB: does logs/NAME.log have a line starting with GLOB
	local log=''
	read -r -d '' log <"$LAB_STATE/logs/$1.log"
	# shellcheck disable=SC2053 # $2 is a pattern
	[[ $'\n'$log == *$'\n'$2* ]]
}

lab_daemons_wait_ready() {
	local name node pid start missing i
	for ((i = 0; i < 100; i++)); do # bounded: 5 s
		missing=
		while read -r name node pid start; do
			if ! lab_pids_alive "$pid"; then
				lab_die "$name exited at start: $(tail -n 3 "$LAB_STATE/logs/$name.log" | tr '\n' ' ')"
			fi
			case $name in
			responder-* | lbnft-*) lab_log_has "$name" ready || missing+=" $name" ;;
			hlb-*) [ -S "$LAB_STATE/$name.sock" ] || missing+=" $name" ;;
			avedge-*) lab_log_has "$name" 'avedge: info: [0-9]* worker thread' || missing+=" $name" ;;
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
	local name node pid start i live=()
	[ -f "$LAB_STATE/pids" ] || return 0
	while read -r name node pid start; do
		[ "$(lab_pid_start "$pid" 2>/dev/null)" = "$start" ] || continue
		kill -TERM "$pid" 2>/dev/null && live+=("$pid")
	done <"$LAB_STATE/pids"
	[ ${#live[@]} -gt 0 ] || return 0
	for ((i = 0; i < 30; i++)); do # bounded: 3 s for a graceful exit
		lab_pids_alive "${live[@]}" || return 0
		sleep 0.1
	done
	kill -KILL "${live[@]}" 2>/dev/null || true
}
