#!/usr/bin/env bash
# lab_daemons: what `up` starts. The service responders on the edges answer
# on the seed's ports with the node's name and the client address they saw;
# the partner's and the Front End's 5061 listeners answer; 5062 is avedge's
# A/V authentication service (mutual TLS with fe's certificate); status shows
# every daemon alive and answering, and the test credentials; a capture of a
# segment holds the flows; down stops every recorded pid.
set -uo pipefail
. "$(dirname "$0")/../lib/lab.sh"
lab_test_init lab_daemons
need_bin lab-responder lab-probe edgeprobe
P=$EDGELAB_BIN/lab-probe

# answers NODE "PROBE-ARGS" WANT-PREFIX: the line starts with WANT-PREFIX.
answers() {
	local node=$1 args=$2 want=$3 out
	# shellcheck disable=SC2086
	out=$(in_node "$node" "$P" --timeout 3000 $args) || return 1
	[[ $out == "$want"* ]] || { echo "answer '$out', want '$want...'"; return 1; }
}

check "up" quiet "$LAB" up --prefix "$T_PREFIX"
state=/run/edgelab/$T_PREFIX

# mras_ok NODE ADDR:PORT: edgeprobe mras with the Front End's certificate
# gets credentials and the relay list the lab configures (the VIPs).
mras_ok() {
	local out
	out=$(in_node "$1" "$EDGELAB_BIN/edgeprobe" mras "$2" --cert "$state/fe-cert.pem" \
		--key "$state/fe-key.pem" --ca "$state/ca.pem" --timeout 3000 2>&1) || { echo "$out"; return 1; }
	[[ $out == *'"username":"'?* && $out == *'"host":"203.0.113.12","udp":3478,"tcp":443'* &&
		$out == *'"host":"10.20.0.10","udp":3478,"tcp":443'* ]] || { echo "answer: $out"; return 1; }
}
# no_cert_refused NODE ADDR:PORT: a TLS client with no certificate gets no
# SIP answer (the handshake fails).
no_cert_refused() {
	local out
	out=$( (printf 'SERVICE sip:x SIP/2.0\r\n\r\n'; sleep 1) |
		in_node "$1" timeout 5 openssl s_client -quiet -connect "$2" 2>&1)
	[[ $out != *SIP/2.0* && $out == *'certificate required'* ]] || { echo "answer: $out"; return 1; }
}

for n in 1 2; do
	x=$((n * 10 + 11)) # .21 / .31
	acc=203.0.113.$x web=203.0.113.$((x + 1)) int=10.20.0.$x
	# External services seen from the HLB's side (no HLB yet: no VIP path).
	check "edge$n access TLS 443" answers hlbext "tls $acc 443" "edge$n access 203.0.113.10:"
	check "edge$n access SIP TLS 5061" answers hlbext "tls $acc 5061" "edge$n access-sip 203.0.113.10:"
	check "edge$n XMPP TCP 5269" answers hlbext "tcp $acc 5269" "edge$n xmpp 203.0.113.10:"
	check "edge$n web conferencing TLS 443" answers hlbext "tls $web 443" "edge$n webconf 203.0.113.10:"
	check "edge$n access TLS 443 over IPv6" answers hlbext "tls 2001:db8:203:0:113::$x 443" \
		"edge$n access ["
	# Internal services from the Front End, through fwint (rows int_*).
	for sp in replication:4443 psom:8057 xmpp-gw:23456 cls:50001 cls:50002 cls:50003; do
		check "edge$n ${sp%:*} TLS ${sp#*:} from fe" answers fe "tls $int ${sp#*:}" "edge$n ${sp%:*} 10.10.0.10:"
	done
	check "edge$n A/V authentication 5062 (avedge MRAS) gives fe's certificate credentials" \
		mras_ok hlbint "$int:5062"
	check "edge$n 5062 refuses a TLS client without a certificate" no_cert_refused hlbint "$int:5062"
	check "edge$n access SIP TLS 5061 (internal) from the internal HLB" \
		answers hlbint "tls $int 5061" "edge$n access-sip 10.20.0.1:"
done
check "partner 5061 from the Access VIP (row extvip_05)" \
	answers hlbext "--from 203.0.113.10 tls 198.51.100.20 5061" "partner federation 203.0.113.10:"
check "fe 5061 from the internal VIP (row intvip_02)" \
	answers hlbint "--from 10.20.0.10 tls 10.10.0.10 5061" "fe sip 10.20.0.10:"

# The lab CA (issue 12): it signs the edges' server certificate and the
# Front End's client certificate, and the edges' TLS listeners present the
# former (what the A/V authentication service's mutual TLS builds on).
check "ca.pem verifies cert.pem as a TLS server certificate" \
	openssl verify -purpose sslserver -CAfile "$state/ca.pem" "$state/cert.pem"
check "ca.pem verifies fe-cert.pem as a TLS client certificate" \
	openssl verify -purpose sslclient -CAfile "$state/ca.pem" "$state/fe-cert.pem"
check "fe-key.pem is fe-cert.pem's key" test "$(openssl pkey -in "$state/fe-key.pem" -pubout)" = \
	"$(openssl x509 -in "$state/fe-cert.pem" -noout -pubkey)"
served_verifies() { # NODE ADDR PORT: the listener's certificate chains to the lab CA
	in_node "$1" timeout 5 openssl s_client -connect "$2:$3" -CAfile "$state/ca.pem" \
		-verify_return_error -verify_hostname edge.lab "${@:4}" </dev/null 2>&1 | grep -q 'Verify return code: 0 (ok)'
}
check "edge1's 5062 presents a certificate from the lab CA" served_verifies hlbint 10.20.0.21 5062 \
	-cert "$state/fe-cert.pem" -key "$state/fe-key.pem"
check "edge2's relay on 443 presents a certificate from the lab CA" served_verifies hlbext 203.0.113.33 443

status=$("$LAB" status --prefix "$T_PREFIX" 2>&1)
check "status lists every recorded daemon alive" \
	test "$(grep -c ' alive ' <<<"$status")" -eq "$(wc -l <"$state/pids")"
# Every avedge and responder is probed: each must say yes (not NO, no, or
# unknown), and there must be some.
n_probed=$(grep -cE '^(avedge|responder)-' "$state/pids")
check "status: every avedge and responder answers ($n_probed of them)" \
	test "$n_probed" -gt 0 -a "$(grep -cE '^ +(avedge|responder)-[^ ]+ .* answers: yes ' <<<"$status")" -eq "$n_probed"
check "status shows the credentials" grep -q "user alice password secret realm edge.lab rest-secret [0-9a-f]\{32\}" <<<"$status"
check "status shows edge1's A/V address" grep -q '203.0.113.23/24' <<<"$status"

# A capture of the edge segment holds a flow that crossed it.
pcap=$T_TMP/edgeext.pcap
captured() { [ "$(tcpdump -r "$pcap" -n 2>/dev/null | grep -c '203.0.113.21.5269')" -ge 2 ]; }
spawn "$LAB" capture --prefix "$T_PREFIX" edgeext "$pcap" tcp port 5269 >/dev/null 2>&1
cap=$SPAWNED
slowwait 5 test -s "$pcap" # tcpdump writes the file's header once it listens
check "flow during capture" answers hlbext "tcp 203.0.113.21 5269" "edge1 xmpp"
slowwait 3 captured
stop_pids "$cap"
check "capture of edgeext holds the 5269 flow" captured

pids=$(awk '{ print $3 }' "$state/pids")
check "down" quiet "$LAB" down --prefix "$T_PREFIX"
check "every recorded daemon is gone" not lab_pids_alive $pids
check "nothing of the lab is left" lab_is_gone
lib_exit
