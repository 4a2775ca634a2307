# lib/plan.sh: compiles plan.tsv (with the lab's faults) into the files that
# build the topology: one `ip -batch` file per namespace and one list of
# sysctls per namespace. Both the lab and the naive benchmark run these same
# files, so they always build the same topology.

# lab_plan_compile DIR "FAULTS": writes DIR/netns.batch, DIR/sw.batch,
# DIR/NODE.batch and DIR/NODE.sysctl for every node.
lab_plan_compile() {
	local dir=$1 faults=$2
	mkdir -p "$dir"
	awk -F'\t' -v dir="$dir" -v prefix="$LAB_PREFIX" -v faults=" $faults " \
		-v nodes="$LAB_NODES" -f "$LAB_NETNS/lib/v6.awk" -f "$LAB_NETNS/lib/plan.awk" \
		"$LAB_NETNS/plan.tsv"
}
