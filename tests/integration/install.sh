#!/usr/bin/env bash
# Installable (issue 14): `cmake --install` of the tests' build puts the
# binaries, the lab, the suite, man pages, configs and units where a
# Debian system expects them; the installed avedge answers the installed
# edgeprobe's Binding in a namespace of its own; the installed lab and
# suite find the installed binaries; the units pass systemd-analyze
# verify; every flag of each --help is in its man page (and back), and
# the pages render without warnings; CPack builds a .deb listing it all.
. "$(dirname "$0")/../lib/lib.sh"
lib_init install
need_bin avedge hlb edgeprobe
need_cmd cmake cpack dpkg-deb systemd-analyze groff man
BUILD=${EDGELAB_BUILD:-$EDGELAB_ROOT/build}
[ -f "$BUILD/cmake_install.cmake" ] || bail "$BUILD is not a configured build (tests/run builds it)"

# ==== 1. DESTDIR staging with Debian's prefix: the layout ====
S=$T_TMP/stage
DESTDIR=$S quiet cmake --install "$BUILD" --prefix /usr || bail "cmake --install failed"
layout() {
	local f bad=0
	for f in usr/sbin/avedge usr/sbin/hlb usr/bin/edgeprobe \
		usr/libexec/edgelab/lab-responder usr/libexec/edgelab/lab-probe \
		usr/libexec/edgelab/lab-sysctl usr/libexec/edgelab/lab-lbmon \
		usr/libexec/edgelab/lab-ctflush usr/libexec/edgelab/avedge \
		usr/libexec/edgelab/hlb usr/libexec/edgelab/edgeprobe \
		usr/share/edgelab/netns/lab usr/share/edgelab/scenarios/run; do
		[ -x "$S/$f" ] || { echo "    not executable: $f"; bad=1; }
	done
	for f in usr/share/man/man8/avedge.8.gz usr/share/man/man8/hlb.8.gz \
		usr/share/man/man1/edgeprobe.1.gz usr/share/edgelab/netns/plan.tsv \
		usr/share/edgelab/scenarios/lib.sh usr/share/edgelab/tests/lib/lib.sh \
		usr/share/doc/edgelab/examples/avedge.conf usr/share/doc/edgelab/examples/hlbext.conf \
		usr/share/doc/edgelab/copyright \
		etc/edgelab/avedge.conf etc/edgelab/hlb.conf etc/edgelab/avedge.users \
		usr/lib/systemd/system/avedge.service usr/lib/systemd/system/hlb.service; do
		[ -f "$S/$f" ] || { echo "    missing: $f"; bad=1; }
	done
	# No sources or build files in the data.
	f=$(find "$S/usr/share/edgelab" -name '*.c' -o -name CMakeLists.txt)
	[ -z "$f" ] || { echo "    sources installed: $f"; bad=1; }
	return $bad
}
check "layout: sbin, bin, libexec/edgelab, share/edgelab, man, doc, /etc/edgelab, units" layout
check_eq "avedge.users is root's only" 600 "$(stat -c %a "$S/etc/edgelab/avedge.users")"
check "units start /usr/sbin's daemons with /etc/edgelab's configs" \
	grep -q '^ExecStart=/usr/sbin/avedge --config /etc/edgelab/avedge.conf' "$S/usr/lib/systemd/system/avedge.service"

# ==== 2. The installed binaries: a Binding in a namespace ====
setup_ns NS
port=3478
spawn ip netns exec "$NS" "$S/usr/sbin/avedge" --listen 127.0.0.1:$port/udp --log-level warn
j=''
binding() { j=$(in_ns "$NS" "$S/usr/bin/edgeprobe" binding 127.0.0.1:$port --timeout 200 --json); }
slowwait 5 binding
check "installed edgeprobe gets a Binding answered by installed avedge" \
	grep -q "\"from\":\"127.0.0.1:$port\"" <<<"$j"
check "the lab's links reach the installed binaries" \
	"$S/usr/libexec/edgelab/avedge" --version
# The installed /etc/edgelab/avedge.conf as it is, with the unit's
# --userfile, on its example addresses (ours: the namespace is ours).
ip -n "$NS" addr add 192.0.2.21/32 dev lo
ip -n "$NS" addr add 2001:db8::21/128 dev lo nodad
spawn ip netns exec "$NS" "$S/usr/sbin/avedge" --config "$S/etc/edgelab/avedge.conf" \
	--userfile "$S/etc/edgelab/avedge.users"
slowwait 5 in_ns "$NS" "$S/usr/bin/edgeprobe" binding 192.0.2.21:3478 --timeout 200
for a in 192.0.2.21:3478 "[2001:db8::21]:3478" "192.0.2.21:443 --tcp"; do
	# shellcheck disable=SC2086 # the address and its transport flag
	check "the example avedge.conf serves a Binding on $a" \
		quiet in_ns "$NS" "$S/usr/bin/edgeprobe" binding $a --timeout 500
done
check "the example avedge.users is a valid credential: Allocate" \
	quiet in_ns "$NS" "$S/usr/bin/edgeprobe" allocate 192.0.2.21:3478 --user example --pass change-me
check "hlb --check accepts the example hlb.conf" \
	quiet "$S/usr/sbin/hlb" --config "$S/etc/edgelab/hlb.conf" --socket "$T_TMP/h.sock" --check

# The installed lab, suite and test library find the installed binaries,
# never a build tree.
share=$S/usr/share/edgelab
want=$(readlink -f "$S/usr/libexec/edgelab")
got=$(env -u BIN -u EDGELAB_BIN -u EDGELAB_ROOT bash -c \
	'LAB_ROOT=$1; . "$1/netns/lib/common.sh"; readlink -f "$LAB_BIN"' _ "$share")
check_eq "installed netns/lab: LAB_BIN is libexec/edgelab" "$want" "$got"
got=$(env -u BIN -u EDGELAB_BIN -u EDGELAB_ROOT -u EDGELAB_BUILD bash -c \
	'. "$1/scenarios/lib.sh" >/dev/null 2>&1; readlink -f "$BIN"' _ "$share")
check_eq "installed scenarios/lib.sh: BIN is libexec/edgelab" "$want" "$got"
got=$(env -u BIN -u EDGELAB_BIN -u EDGELAB_ROOT -u EDGELAB_BUILD bash -c \
	'. "$1/tests/setup.sh"; setup_build; setup_packages; readlink -f "$BIN"' _ "$share")
check_eq "installed tests/setup.sh (scenarios/run): no build, BIN is libexec/edgelab" "$want" "$got"

# The installed lab, brought up from the staging tree with no hint: its
# daemons are the installed ones, and a client's Binding to the A/V VIP
# goes through the installed hlb to an installed avedge.
L=$share/netns/lab
defer "$L" down --prefix "$T_PREFIX"
check "installed netns/lab up (emulated HLB)" quiet env -u EDGELAB_BIN "$L" up --prefix "$T_PREFIX"
pids=$(awk '$1 ~ /^(avedge|hlb)-/ { print $3 }' "/run/edgelab/$T_PREFIX/pids" 2>/dev/null)
exes=$(for p in $pids; do readlink -f "/proc/$p/exe"; done | sort -u)
check_eq "the lab's avedge and hlb are the installed ones" \
	"$(readlink -f "$S/usr/sbin/avedge")"$'\n'"$(readlink -f "$S/usr/sbin/hlb")" "$exes"
j=$("$L" exec --prefix "$T_PREFIX" client "$S/usr/bin/edgeprobe" binding 203.0.113.12:3478 --json)
check "installed lab: the client's Binding to the A/V VIP is answered from the VIP" \
	grep -q '"from":"203.0.113.12:3478"' <<<"$j"
quiet "$L" down --prefix "$T_PREFIX"
# The installed suite: one scenario on a lab of its own, on the installed
# binaries, its results where we say (the installed tree is not ours).
out=$(env -u BIN -u EDGELAB_BIN -u EDGELAB_ROOT -u EDGELAB_BUILD timeout 60 \
	"$share/scenarios/run" --only S1 --jobs 1 --results "$T_TMP/results" 2>&1); rc=$?
echo "$out" | grep -E '^# scenarios|^S1 ' | sed 's/^/    /'
check "installed scenarios/run: S1 passes" test $rc -eq 0 -a -f "$T_TMP/results/junit.xml"
check "installed scenarios/run: on the installed binaries" \
	grep -qF "binaries $share/../../libexec/edgelab" <<<"$out"

# ==== 3. systemd units, with the paths of a real prefix ====
P=$T_TMP/prefix
quiet cmake --install "$BUILD" --prefix "$P" || bail "cmake --install --prefix failed"
out=$(MANPATH=$P/share/man systemd-analyze verify "$P/lib/systemd/system/avedge.service" \
	"$P/lib/systemd/system/hlb.service" 2>&1); rc=$?
[ -z "$out" ] || echo "$out" | sed 's/^/    /'
check "systemd-analyze verify: both units, no complaint" test $rc -eq 0 -a -z "$out"
for u in avedge hlb; do
	check "$u.service: NoNewPrivileges, ProtectSystem=strict, ProtectHome, PrivateTmp" \
		grep -qzE 'NoNewPrivileges=yes.*ProtectSystem=strict.*ProtectHome=yes.*PrivateTmp=yes' \
		"$P/lib/systemd/system/$u.service"
done
check_eq "avedge.service: CAP_NET_BIND_SERVICE only" "CapabilityBoundingSet=CAP_NET_BIND_SERVICE" \
	"$(grep ^CapabilityBoundingSet "$P/lib/systemd/system/avedge.service")"
check_eq "hlb.service: CAP_NET_ADMIN only" "CapabilityBoundingSet=CAP_NET_ADMIN" \
	"$(grep ^CapabilityBoundingSet "$P/lib/systemd/system/hlb.service")"
# hlb writes net sysctls at start (lb/route.c) and opens /dev/net/tun.
check "hlb.service: /proc/sys stays writable, /dev/net/tun allowed" \
	eval '! grep -q "^ProtectKernelTunables=yes" "$P/lib/systemd/system/hlb.service" &&
		grep -qx "DeviceAllow=/dev/net/tun rw" "$P/lib/systemd/system/hlb.service"'

# ==== 4. Man pages: render cleanly, and list exactly the --help flags ====
flags() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }
man_flags() { zcat "$1" | sed 's/\\-/-/g' | flags; }
M=$S/usr/share/man
for page in man8/avedge.8.gz man8/hlb.8.gz man1/edgeprobe.1.gz; do
	out=$(zcat "$M/$page" | groff -man -Tutf8 -ww -z 2>&1)
	check "$page renders without warnings" test -z "$out"
	check "man -l $page shows its NAME" \
		grep -q "^NAME" <<<"$(MANWIDTH=80 MAN_KEEP_FORMATTING= man -l "$M/$page" 2>/dev/null | col -b)"
done
check_eq "avedge(8) options = avedge --help" \
	"$("$S/usr/sbin/avedge" --help | flags)" "$(man_flags "$M/man8/avedge.8.gz")"
check_eq "hlb(8) options = hlb --help" \
	"$("$S/usr/sbin/hlb" --help | flags)" "$(man_flags "$M/man8/hlb.8.gz")"
ep=$S/usr/bin/edgeprobe
cmds=$("$ep" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p')
check "edgeprobe lists its commands" test -n "$cmds"
help=$( { "$ep" --help; for c in $cmds; do "$ep" "$c" --help 2>&1; done
	"$ep" allocate --ms-turn --help 2>&1; } | flags)
check_eq "edgeprobe(1) options = every edgeprobe COMMAND --help" "$help" "$(man_flags "$M/man1/edgeprobe.1.gz")"
for c in $cmds; do
	check "edgeprobe(1) describes command $c" grep -qE "^\.(TP|B|BR|BI|SH).*\b$c\b" <<<"$(zcat "$M/man1/edgeprobe.1.gz")"
done

# ==== 5. The Debian package ====
pkg=$T_TMP/pkg
quiet cpack -G DEB -B "$pkg" --config "$BUILD/CPackConfig.cmake" || bail "cpack failed"
deb=$(ls "$pkg"/*.deb 2>/dev/null | head -n 1)
check "cpack built a .deb" test -n "$deb"
list=$(dpkg-deb -c "$deb")
for f in ./usr/sbin/avedge ./usr/sbin/hlb ./usr/bin/edgeprobe ./usr/libexec/edgelab/lab-responder \
	./usr/share/man/man8/avedge.8.gz ./usr/lib/systemd/system/avedge.service \
	./etc/edgelab/avedge.conf ./usr/share/edgelab/netns/lab; do
	check "the .deb holds $f" grep -q " $f\( \|$\)" <<<"$list"
done
ctl=$(dpkg-deb -f "$deb" Depends)
echo "    Depends: $ctl"
for d in libuv1 libssl3 libnl-route-3-200 libosip2 libxml2 libhttp-parser; do
	check "the .deb depends on $d" grep -q "$d" <<<"$ctl"
done
check "its /etc files are conffiles" \
	grep -qx /etc/edgelab/avedge.conf <<<"$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)"
lib_exit
