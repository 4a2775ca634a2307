# lib/v6.awk: the IPv6 mirror of an IPv4 address or prefix (PLAN.md):
# a.b.c.d/n -> 2001:db8:a:b:c::d, the decimal numbers written as they are,
# one 16-bit group per octet (so /16 -> /64, /24 -> /80, /32 -> /128), in
# the canonical text form of RFC 5952 so it compares equal to ip(8) output.
# Shared by lib/plan.awk and nftgen; lib/common.sh lab_v6 is the same in bash.
function v6(a,   len, p, g, i, best, bestlen, run, s) {
	len = ""
	if (index(a, "/")) { len = substr(a, index(a, "/") + 1); a = substr(a, 1, index(a, "/") - 1) }
	split(a, p, ".")
	g[1] = "2001"; g[2] = "db8"; g[3] = p[1] + 0; g[4] = p[2] + 0; g[5] = p[3] + 0
	g[6] = 0; g[7] = 0; g[8] = p[4] + 0
	best = 0; bestlen = 1
	for (i = 1; i <= 8; i++) {
		run = (g[i] == "0") ? run + 1 : 0
		if (run > bestlen) { bestlen = run; best = i - run + 1 }
	}
	s = ""
	for (i = 1; i <= 8; i++) {
		if (best && i == best) { s = s "::"; i += bestlen - 1; continue }
		s = s ((s == "" || substr(s, length(s)) == ":") ? "" : ":") g[i]
	}
	if (len != "") s = s "/" (len == 32 ? 128 : 32 + 2 * len)
	return s
}
