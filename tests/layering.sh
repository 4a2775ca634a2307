#!/usr/bin/env bash
# tests/layering.sh [RELAY_DIR BUILD_DIR]: proves that relay/'s dependencies
# run one way (docs/ARCHITECTURE.md). Each source has a rank; a file may
# include headers of its own rank or lower, and an object file may use
# symbols defined by objects of its own rank or lower. A higher layer is
# reached only through callbacks (function pointers), which neither check
# sees. Exits 1 naming each violation, 0 with a one-line summary.
#
#   0 stun/ util/   1 turn/ mras/ (but mras/service)   2 io/   3 conf server
#   4 handlers/ mras/service
#   5 dispatch      6 worker metrics httpreq  7 avedge.c
#   probe/ (edgeprobe, a client): stun/ util/, the MRAS codec (mras/ but
#   mras/service) and itself only.
set -euo pipefail
# Without arguments: this checkout's relay/ and build/.
here=$(cd "$(dirname "$0")/.." && pwd)
relay=$(cd "${1:-$here/relay}" && pwd)
build=$(cd "${2:-$here/build}" && pwd)

rank() { # path relative to relay/ -> R, its rank ("" outside the server)
	case $1 in
	stun/* | util/*) R=0 ;;
	turn/*) R=1 ;;
	mras/service.[ch]) R=4 ;;
	mras/*) R=1 ;;
	io/*) R=2 ;;
	conf.[ch] | server.[ch]) R=3 ;;
	handlers/*) R=4 ;;
	dispatch.[ch]) R=5 ;;
	worker.[ch] | metrics.[ch] | httpreq.[ch]) R=6 ;;
	avedge.c) R=7 ;;
	probe/*) R=P ;;
	*) R= ;;
	esac
}

bad=0 files=0 edges=0
cd "$relay"
# 1. Includes.
while IFS= read -r f; do
	rank "$f"
	r=$R
	[ -n "$r" ] || continue
	files=$((files + 1))
	while IFS= read -r inc; do
		# A bare name is in the includer's folder; else relative to relay/.
		dir=${f%/*}
		[ "$dir" != "$f" ] || dir=.
		if [[ $inc != */* ]] && [ -e "$dir/$inc" ]; then
			h=$dir/$inc
			h=${h#./}
		elif [ -e "$inc" ]; then
			h=$inc
		else
			echo "layering: $f includes \"$inc\", which is not under relay/ by that name"
			bad=$((bad + 1))
			continue
		fi
		rank "$h"
		hr=$R
		edges=$((edges + 1))
		if [ "$r" = P ]; then
			case $hr:$h in 0:* | P:* | 1:mras/*) ;; *)
				echo "layering: $f (edgeprobe) includes $h: a client uses only stun/, util/, mras/ and probe/"
				bad=$((bad + 1)) ;;
			esac
		elif [ "$hr" = P ] || [ "$hr" -gt "$r" ]; then
			echo "layering: $f (rank $r) includes $h (rank $hr): a lower layer must not name a higher one"
			bad=$((bad + 1))
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done < <(find . -name '*.[ch]' | sed 's|^\./||' | sort)

# 2. Symbols: who defines what, then who uses what.
objs=$(find "$build" -path '*CMakeFiles/*.dir/*' -name '*.c.o' \
	\( -path '*/stun.dir/*' -o -path '*/edgeutil.dir/*' -o -path '*/turncore.dir/*' \
	-o -path '*/avedgeio.dir/*' -o -path '*/mrascore.dir/*' -o -path '*/avedgecore.dir/*' -o -path '*/avedge.dir/*' \) || true)
if [ -z "$objs" ]; then
	echo "layering: no object files of the relay under $build (build first)"
	exit 1
fi
# Objects of sources that no longer exist (a stale build dir) do not count.
live=
for o in $objs; do
	src=${o#*.dir/}
	[ -e "${src%.o}" ] && live="$live $o"
done
objs=$live
nobj=$(echo $objs | wc -w)
# One nm over all objects: "obj: addr T sym" defines, "obj:  U sym" uses.
# shellcheck disable=SC2086 # one object per word
viol=$( {
	nm -A --defined-only $objs | awk '$2 ~ /^[TDBR]$/ || $3 ~ /^[TDBR]$/ { print "D", $1, $NF }'
	nm -A -u $objs | awk '{ print "U", $1, $NF }'
} | awk '
	function src(o) { sub(/\.o:.*/, "", o); sub(/.*\.dir\//, "", o); return o }
	function rank(f) {
		if (f ~ /^(stun|util)\//) return 0
		if (f ~ /^mras\/service\.c$/) return 4
		if (f ~ /^(turn|mras)\//) return 1
		if (f ~ /^io\//) return 2
		if (f ~ /^(conf|server)\.c$/) return 3
		if (f ~ /^handlers\//) return 4
		if (f ~ /^dispatch\.c$/) return 5
		if (f ~ /^(worker|metrics|httpreq)\.c$/) return 6
		return 7
	}
	$1 == "D" { def[$3] = src($2); next }
	{ use[++n] = src($2) " " $3 }
	END {
		for (i = 1; i <= n; i++) {
			split(use[i], u, " ")
			if (!(u[2] in def)) continue # libc, libuv, OpenSSL
			d = def[u[2]]
			if (rank(d) > rank(u[1]))
				printf "layering: %s (rank %d) calls %s, defined in %s (rank %d)\n", u[1], rank(u[1]), u[2], d, rank(d)
		}
	}')
if [ -n "$viol" ]; then
	echo "$viol"
	bad=$((bad + $(echo "$viol" | wc -l)))
fi
if [ $bad -gt 0 ]; then
	echo "layering: $bad violation(s)"
	exit 1
fi
echo "layering: ok ($files files, $edges includes, $nobj objects)"
