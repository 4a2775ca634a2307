# lib/hlb.sh: the load balancer in hlbext and hlbint (SPEC section 4, issue
# 5). --lb emulated runs hlb (lb/) in each with a config generated from
# lb.tsv by lbgen; --lb nft is lib/lbnft.sh. `lab hlb` is either one's
# control, `lab status` shows the services' health.

# The lab's faults that are the HLB's, as hlb --fault names (lb/fault.c).
lab_hlb_fault_args() {
	local f
	for f in $(<"$LAB_STATE/faults"); do
		case $f in
		M1) echo --fault snat-av ;;
		M3) echo --fault snat-all-outbound ;;
		M5) echo --fault no-affinity ;;
		M6) echo --fault port-translate ;;
		M9) echo --fault no-monitor ;;
		M10) echo --fault short-tcp-idle ;;
		M11) echo --fault balance-internal-direct ;;
		M12) echo --fault dsr-av ;;
		M14) echo --fault tls-only-av ;;
		M15) echo --fault short-av-persistence ;;
		esac
	done
}

lab_hlb_sock() { echo "$LAB_STATE/hlb-$1.sock"; }

# hlb in hlbext and hlbint, each with its generated config and the lab's
# HLB faults (both get them all: a fault changes only what its name says,
# and M11's services exist only in hlbint's config).
lab_hlb_start() {
	local h side args
	h=$(lab_bin hlb) || lab_die "--lb emulated: $LAB_BIN/hlb is not built"
	[ -c /dev/net/tun ] || lab_die "--lb emulated needs /dev/net/tun"
	# shellcheck disable=SC2207 # "--fault NAME" pairs, no spaces inside
	args=($(lab_hlb_fault_args))
	for side in ext int; do
		"$LAB_NETNS/lbgen" hlb $side "$(lab_hlb_sock $side)" >"$LAB_STATE/hlb-$side.conf"
		lab_daemon_start hlb-$side hlb$side "$h" --config "$LAB_STATE/hlb-$side.conf" "${args[@]}"
	done
}

lab_lb_start() {
	case $(lab_state_get LAB_LB) in
	emulated) lab_hlb_start ;;
	nft) lbnft_start ;;
	esac
}

# lab_lb_ctl SIDE CTL-ARGS...: `lab hlb`.
lab_lb_ctl() {
	local side=$1 h lb
	shift
	lb=$(lab_state_get LAB_LB)
	case $lb in
	emulated)
		h=$(lab_bin hlb) || lab_die "$LAB_BIN/hlb is not built"
		exec ip netns exec "$LAB_PREFIX-hlb$side" "$h" ctl --socket "$(lab_hlb_sock "$side")" "$@"
		;;
	nft) lbnft_ctl "$side" "$@" ;;
	*) lab_die "lab $LAB_PREFIX runs no load balancer of ours (--lb $lb): a device wired in has its own control" ;;
	esac
}

# Does the load balancer daemon NAME answer? (for lab_daemon_answers)
lab_lb_answers() { # NAME
	local side=${1#*-} n
	case $1 in
	hlb-*)
		n=$(lab_lb_list "$side" | grep -c '^service') &&
			echo "yes (ctl: $n services)" || echo "NO (ctl $(lab_hlb_sock "$side"))"
		;;
	lbnft-*)
		# The controller touches SIDE.beat after every monitor round.
		n=$(($(date +%s) - $(stat -c %Y "$LAB_STATE/lbnft/$side.beat" 2>/dev/null || echo 0)))
		[ $n -le 5 ] && echo "yes (monitor round ${n} s ago)" || echo "NO (no monitor round for ${n} s)"
		;;
	esac
}

lab_lb_list() { # SIDE: `ctl list` of that side, quietly
	(lab_lb_ctl "$1" list) 2>/dev/null
}

# The services and their reals' health, one line per service.
lab_lb_status() {
	local lb side
	lb=$(lab_state_get LAB_LB)
	[ "$lb" = emulated ] || [ "$lb" = nft ] || return 0
	echo
	echo "load balancer: $lb$([ "$lb" = emulated ] && echo " (hlb; netns/lab hlb ext|int list)")"
	for side in ext int; do
		lab_lb_list $side | awk -v node=hlb$side '
			function flush() {
				if (svc == "") return
				printf "  %-7s %-15s %-34s %-15s%s\n", node, svc, vip, mode, reals
				node = ""
			}
			$1 == "service" { flush(); svc = $2; vip = $3; mode = $5 " " $7; reals = "" }
			$1 == "real" {
				for (i = 3; i < NF; i++) { if ($i == "admin") a = $(i + 1); if ($i == "health") h = $(i + 1) }
				reals = reals (reals == "" ? "" : ", ") $2 " " h (a == "enabled" ? "" : " " a)
			}
			END { flush(); if (NR == 0) printf "  %-8s NO ANSWER\n", node }'
	done
}
