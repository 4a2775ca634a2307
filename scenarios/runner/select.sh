# shellcheck shell=bash
# scenarios/runner/select.sh: which work a run does. The scenarios
# (scenarios/sNN-*.sh, by file name, so S1 ... S21) that --only picks, and
# of those, or of the faults with --mutations, the share of --shard K/N.
# Sourced by scenarios/run and scenarios/merge (after scenarios/lib.sh, for
# sc_title), so that both read the same list the same way.

# shard_parse K/N: sets SHARD_K and SHARD_N, or says why not and returns 1.
shard_parse() {
	if ! [[ $1 =~ ^([1-9][0-9]*)/([1-9][0-9]*)$ ]]; then
		echo "--shard '$1': want K/N, two whole numbers from 1, e.g. 2/3"
		return 1
	fi
	SHARD_K=${BASH_REMATCH[1]} SHARD_N=${BASH_REMATCH[2]}
	if [ "$SHARD_K" -gt "$SHARD_N" ]; then
		echo "--shard '$1': shard $SHARD_K of $SHARD_N does not exist (K runs from 1 to N)"
		return 1
	fi
}

# shard_of K N ITEM...: the items whose place in the list (from 0) is K-1
# modulo N. Stable: it depends on the list alone (not on the last run's
# times, which differ from one CI runner to the next), and the N shards
# of one list take every item exactly once.
shard_of() {
	local k=$1 n=$2 i=0 item
	shift 2
	for item; do
		[ $((i % n)) = $((k - 1)) ] && echo "$item"
		i=$((i + 1))
	done
	return 0
}

# scenarios_select ONLY: IDS (in file order), FILE[id], TITLE[id] of the
# scenarios whose id or file name matches one of ONLY's globs (all when
# ONLY is empty).
scenarios_select() {
	local only=$1 f id m g globs
	IDS=()
	declare -gA FILE=() TITLE=()
	for f in "$SCEN"/s[0-9][0-9]-*.sh; do
		[ -e "$f" ] || continue
		id=$(sed -n '2s/^# \(S[0-9]*\):.*/\1/p' "$f")
		[ -n "$id" ] || continue
		if [ -n "$only" ]; then
			m=0
			IFS=, read -r -a globs <<<"$only"
			for g in "${globs[@]}"; do
				# shellcheck disable=SC2053 # glob match on purpose
				[[ $id == $g || $(basename "$f" .sh) == $g || $(basename "$f") == $g ]] && m=1
			done
			[ $m = 1 ] || continue
		fi
		IDS+=("$id")
		FILE[$id]=$f
		TITLE[$id]=$(sc_title "$f")
	done
}

# shard_write FILE LB VIPS ALL MINE: what a shard's results directory
# records for scenarios/merge: its place in the set, the balancer, the
# whole list of its kind of work, and its own share.
shard_write() {
	{
		echo "shard $SHARD_K/$SHARD_N"
		echo "lb $2"
		echo "vips $3"
		echo "all $4"
		echo "mine $5"
	} >"$1"
}
