# lib/status.sh: what `lab status` prints: the nodes and their live
# addresses, the daemons and whether each answers, the test credentials.

# Does daemon NAME on NODE answer? Asked from inside the node's own
# namespace, so the answer is about the daemon, not the firewalls.
lab_daemon_answers() { # NAME NODE
	local ns p
	ns=$LAB_PREFIX-$2
	case $1 in
	avedge-*)
		local av=203.0.113.$((${2#edge} * 10 + 13))
		if p=$(lab_bin edgeprobe); then
			ip netns exec "$ns" "$p" binding "$av:3478" --timeout 2000 >/dev/null 2>&1 &&
				echo "yes (STUN binding $av:3478)" || echo "NO (STUN binding $av:3478)"
		elif command -v turnutils_stunclient >/dev/null; then
			ip netns exec "$ns" timeout 3 turnutils_stunclient "$av" 2>&1 | grep -qi 'addr' &&
				echo "yes (STUN binding $av:3478)" || echo "NO (STUN binding $av:3478)"
		else
			echo "unknown (no STUN client)"
		fi
		;;
	responder-*)
		local addr
		case $2 in
		edge*) addr=203.0.113.$((${2#edge} * 10 + 11)) ;;
		partner) addr=198.51.100.20 ;;
		fe) addr=10.10.0.10 ;;
		esac
		p=$(lab_bin lab-probe) || { echo "unknown (lab-probe not built)"; return; }
		ip netns exec "$ns" "$p" --timeout 2000 tls "$addr" 5061 >/dev/null 2>&1 &&
			echo "yes (TLS $addr:5061)" || echo "NO (TLS $addr:5061)"
		;;
	hlb-* | lbnft-*) lab_lb_answers "$1" ;;
	*) echo unknown ;;
	esac
}

lab_status() {
	local n ns name node pid start alive faults
	faults=$(tr '\n' ' ' <"$LAB_STATE/faults" 2>/dev/null)
	echo "lab $LAB_PREFIX: lb $(lab_state_get LAB_LB), faults ${faults:-none}, state $LAB_STATE"
	echo
	echo "nodes (namespace $LAB_PREFIX-NODE)"
	for n in $LAB_NODES; do
		ns=$LAB_PREFIX-$n
		if [ ! -e "/run/netns/$ns" ]; then
			printf '  %-9s MISSING\n' "$n"
			continue
		fi
		# One line per interface (IPv4 then IPv6, in plan order), then the
		# static routes (ip route add makes them "proto boot").
		{
			ip -n "$ns" -o addr show scope global
			ip -n "$ns" -o route show proto boot
			ip -n "$ns" -o -6 route show proto boot
		} | awk -v n="$n" '
			$3 == "inet" || $3 == "inet6" {
				if (!($2 in a)) order[++k] = $2
				a[$2] = a[$2] " " $4
				next
			}
			{ r = r (r == "" ? "" : ", ") $1 " via " $3 }
			END {
				for (i = 1; i <= k; i++)
					printf "  %-9s %-8s%s\n", i == 1 ? n : "", order[i], a[order[i]]
				if (r != "") printf "  %-9s %-8s %s\n", "", "routes", r
			}'
	done
	echo
	echo "daemons"
	if [ ! -s "$LAB_STATE/pids" ]; then
		echo "  none"
	else
		while read -r name node pid start; do
			alive=dead
			[ "$(lab_pid_start "$pid" 2>/dev/null)" = "$start" ] && alive=alive
			printf '  %-18s %-8s pid %-7s %-5s answers: %s\n' "$name" "$node" "$pid" "$alive" \
				"$([ $alive = alive ] && lab_daemon_answers "$name" "$node" || echo no)"
		done <"$LAB_STATE/pids"
	fi
	lab_lb_status
	echo
	echo "credentials: user $LAB_USER password $LAB_PASSWORD realm $LAB_REALM" \
		"rest-secret $(lab_state_get LAB_REST_SECRET)"
}
