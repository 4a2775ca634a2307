# report.awk: the records of scenarios/report -> one HTML page.
# Records (tab separated): META, SCEN, META_seed/spec/rows/asserts/catches,
# FAIL, SKIP, NOTE, FIND (the vips file's reason for a device finding), READ (a value read, not observed), UNREP (a value the
# device did not report), FLOW (id from
# dest/proto verdict by), PCAP, LOG, MUT (fault id kind line log: kind
# caught, read, unnamed or lab, as runner/mutations.sh judged), MUTPCAP (fault id
# pcap), MUTDONE.

function esc(s) {
	gsub(/&/, "\\&amp;", s); gsub(/</, "\\&lt;", s); gsub(/>/, "\\&gt;", s); gsub(/"/, "\\&quot;", s)
	return s
}

# ---------------------------------------------------------------- the plan

# Where each node is drawn, its addresses, and the segments (vertical bars)
# with the nodes on them: the reference plan of netns/PLAN.md.
function plan(   i, n, s, a) {
	W = 1220; H = 420
	n = split("client 80 110|partner 80 310|fwext 240 210|hlbext 410 210|edge1 610 110|edge2 610 310|hlbint 810 210|fwint 975 210|fe 1140 110|inclient 1140 310", s, "|")
	for (i = 1; i <= n; i++) {
		split(s[i], a, " "); NX[a[1]] = a[2]; NY[a[1]] = a[3]; NODES[i] = a[1]
		BW[a[1]] = 140; BH[a[1]] = (a[1] ~ /^hlb/) ? 96 : 66
	}
	NN = n
	ADDR["client"] = "198.51.100.10"; ADDR["partner"] = "198.51.100.20"
	ADDR["fwext"] = "198.51.100.1|192.0.2.1"; ADDR["hlbext"] = "192.0.2.2"
	ADDR["edge1"] = ".21 access .22 webconf|.23 A/V|10.20.0.21"
	ADDR["edge2"] = ".31 access .32 webconf|.33 A/V|10.20.0.31"
	ADDR["hlbint"] = "10.20.0.1|10.30.0.2"; ADDR["fwint"] = "10.30.0.1|10.10.0.1 10.10.1.1"
	ADDR["fe"] = "10.10.0.10"; ADDR["inclient"] = "10.10.1.50"
	ROLE["client"] = "Internet user"; ROLE["partner"] = "federated partner"
	ROLE["fwext"] = "external firewall"; ROLE["hlbext"] = "external HLB"
	ROLE["edge1"] = "Edge node 1"; ROLE["edge2"] = "Edge node 2"
	ROLE["hlbint"] = "internal HLB"; ROLE["fwint"] = "internal firewall"
	ROLE["fe"] = "Front End"; ROLE["inclient"] = "internal user"
	n = split("inet 165 110 310 client,partner,fwext|dmzext 322 185 235 fwext,hlbext|edgeext 515 80 340 hlbext,edge1,edge2|edgeint 712 80 340 edge1,edge2,hlbint|dmzint 895 185 235 hlbint,fwint|lan0 1058 110 210 fwint,fe|lan1 1070 210 310 fwint,inclient", s, "|")
	for (i = 1; i <= n; i++) { split(s[i], a, " "); SEGS[i] = a[1]; SX[a[1]] = a[2]; SY1[a[1]] = a[3]; SY2[a[1]] = a[4]; SON[a[1]] = a[5] }
	NS = n
	# VIP pills (80 x 18) on the side of the HLB boxes that faces the edges.
	VN = split("203.0.113.10 .10 access|203.0.113.11 .11 webconf|203.0.113.12 .12 A/V|10.20.0.10 .10 internal", s, "|")
	for (i = 1; i <= VN; i++) { split(s[i], a, " "); VIPA[i] = a[1]; VIPL[i] = a[2] " " a[3] }
	VX[1] = 465; VY[1] = 188; VX[2] = 465; VY[2] = 212; VX[3] = 465; VY[3] = 236
	VX[4] = 758; VY[4] = 236
}

# The point where the line from the centre of NODE towards (tx, ty)
# leaves NODE's box: flows start and end on the boxes, not under them.
function edge_x(node, tx, ty) { edge_pt(node, tx, ty); return EX }
function edge_y(node, tx, ty) { edge_pt(node, tx, ty); return EY }
function edge_pt(node, tx, ty,   dx, dy, t, hw, hh) {
	dx = tx - NX[node]; dy = ty - NY[node]; hw = BW[node] / 2; hh = BH[node] / 2
	if (dx == 0 && dy == 0) { EX = NX[node]; EY = NY[node]; return }
	t = 1e9
	if (dx != 0) t = hw / (dx < 0 ? -dx : dx)
	if (dy != 0 && hh / (dy < 0 ? -dy : dy) < t) t = hh / (dy < 0 ? -dy : dy)
	EX = NX[node] + dx * t; EY = NY[node] + dy * t
}

# The lab address an IPv6 address mirrors (2001:db8:a:b:c::d -> a.b.c.d).
function v4(a,   n, g, i, full, z, j, h) {
	if (a !~ /:/) return a
	n = split(a, g, ":"); full = ""
	for (i = 1; i <= n; i++) {
		if (g[i] == "") { z = 9 - n; for (j = 0; j < z; j++) full = full "0:" } else full = full g[i] ":"
	}
	split(full, h, ":")
	return (h[3] + 0) "." (h[4] + 0) "." (h[5] + 0) "." (h[8] + 0)
}

function host_of(hp,   h) {
	h = hp; sub(/\/.*$/, "", h)
	if (h ~ /^\[/) { sub(/^\[/, "", h); sub(/\].*$/, "", h); return v4(h) }
	sub(/:[0-9]+$/, "", h); return h
}

function node_of(a) {
	if (a == "198.51.100.10" || a == "203.0.113.50") return "client"
	if (a == "198.51.100.20") return "partner"
	if (a ~ /^203\.0\.113\.2[1-3]$/ || a == "10.20.0.21") return "edge1"
	if (a ~ /^203\.0\.113\.3[1-3]$/ || a == "10.20.0.31") return "edge2"
	if (a ~ /^203\.0\.113\.1[0-2]$/ || a == "192.0.2.2") return "hlbext"
	if (a == "10.20.0.1" || a == "10.20.0.10" || a == "10.30.0.2") return "hlbint"
	if (a == "10.10.0.10") return "fe"
	if (a == "10.10.1.50") return "inclient"
	if (a ~ /^(198\.51\.100\.1|192\.0\.2\.1|203\.0\.113\.1)$/) return "fwext"
	if (a ~ /^10\.(30\.0|10\.0|10\.1)\.1$/) return "fwint"
	return ""
}

function vip_of(a,   i) {
	for (i = 1; i <= VN; i++) if (VIPA[i] == a) return i
	return 0
}

function color(v) { return v == "pass" ? "#2f9e44" : v == "fail" ? "#e03131" : v == "finding" ? "#f08c00" : "#909296" }

# ---------------------------------------------------------------- drawing

function svg_open(cls, title) {
	printf "<svg class=\"%s\" viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\"><title>%s</title>\n", cls, W, H, esc(title)
	print "<defs>"
	printf "<marker id=\"a-pass\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"%s\"/></marker>\n", color("pass")
	printf "<marker id=\"a-fail\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"%s\"/></marker>\n", color("fail")
	printf "<marker id=\"a-skip\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"%s\"/></marker>\n", color("skip")
	print "</defs>"
}

function draw_lab(   i, s, n, on, k, x, y, lines, j, bw, bh, tx) {
	# zones
	print "<rect x=\"4\" y=\"30\" width=\"180\" height=\"384\" rx=\"10\" class=\"zone\"/><text x=\"14\" y=\"48\" class=\"zt\">Internet</text>"
	print "<rect x=\"316\" y=\"30\" width=\"586\" height=\"384\" rx=\"10\" class=\"zone\"/><text x=\"326\" y=\"48\" class=\"zt\">perimeter network: the edge pool behind the HLBs</text>"
	print "<rect x=\"1050\" y=\"30\" width=\"166\" height=\"384\" rx=\"10\" class=\"zone\"/><text x=\"1060\" y=\"48\" class=\"zt\">internal network</text>"
	# segments and the links to them
	for (i = 1; i <= NS; i++) {
		s = SEGS[i]
		printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"seg\"/>", SX[s], SY1[s], SX[s], SY2[s]
		if (s ~ /^lan/)
			printf "<text x=\"%d\" y=\"%d\" class=\"st\" text-anchor=\"end\">%s</text>\n", SX[s] - 4, (s == "lan0" ? SY1[s] + 4 : SY2[s]), s
		else
			printf "<text x=\"%d\" y=\"%d\" class=\"st\" text-anchor=\"middle\">%s</text>\n", SX[s], (SY2[s] - SY1[s] < 100) ? SY2[s] + 34 : SY1[s] - 6, s
		n = split(SON[s], on, ",")
		for (k = 1; k <= n; k++) {
			y = NY[on[k]]; if (y < SY1[s]) y = SY1[s]; if (y > SY2[s]) y = SY2[s]
			printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"link\"/>\n", NX[on[k]], y, SX[s], y
		}
	}
	# nodes
	for (i = 1; i <= NN; i++) {
		k = NODES[i]; x = NX[k]; y = NY[k]; bw = BW[k]; bh = BH[k]
		printf "<g class=\"node\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\"/>", x - bw / 2, y - bh / 2, bw, bh
		tx = x; if (k == "hlbext") tx = x - 28; if (k == "hlbint") tx = x + 28
		printf "<text x=\"%d\" y=\"%d\" class=\"nn\" text-anchor=\"middle\">%s</text>", tx, y - bh / 2 + 16, k
		printf "<text x=\"%d\" y=\"%d\" class=\"nr\" text-anchor=\"middle\">%s</text>", tx, y - bh / 2 + 29, ROLE[k]
		n = split(ADDR[k], lines, "|")
		for (j = 1; j <= n; j++)
			printf "<text x=\"%d\" y=\"%d\" class=\"na\" text-anchor=\"middle\">%s</text>", tx, y - bh / 2 + 43 + 11 * (j - 1), esc(lines[j])
		print "</g>"
	}
	for (i = 1; i <= VN; i++) {
		printf "<g class=\"vip\"><rect x=\"%d\" y=\"%d\" width=\"80\" height=\"18\" rx=\"9\"/><text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text></g>\n", \
			VX[i] - 40, VY[i] - 9, VX[i], VY[i] + 4, esc(VIPL[i])
	}
}

# One flow: FROM node to DEST (a VIP pill or a node), and on from the VIP
# to the node that answered, dashed. k spreads parallel flows apart.
function draw_flow(from, dest, proto, v, by, k, label,   x1, y1, x2, y2, h, vi, n, mx, my, off, x3, y3, px, lx, ly) {
	if (!(from in NX)) return
	h = host_of(dest); vi = vip_of(h)
	off = ((k % 7) - 3) * 8
	if (vi) {
		# into the pill from the side the flow comes from
		x2 = (NX[from] < VX[vi]) ? VX[vi] - 40 : VX[vi] + 40; y2 = VY[vi]
		x1 = edge_x(from, x2, y2); y1 = edge_y(from, x2, y2)
	} else {
		n = node_of(h)
		if (n == "" || !(n in NX) || n == from) return
		x1 = edge_x(from, NX[n], NY[n]); y1 = edge_y(from, NX[n], NY[n])
		x2 = edge_x(n, NX[from], NY[from]); y2 = edge_y(n, NX[from], NY[from])
	}
	mx = (x1 + x2) / 2; my = (y1 + y2) / 2 - 24 + off
	printf "<path d=\"M%d,%d Q%d,%d %d,%d\" class=\"flow %s\" stroke=\"%s\" marker-end=\"url(#a-%s)\"><title>%s</title></path>\n", \
		x1, y1, mx, my, x2, y2, v, color(v), v, esc(label)
	if (SHOWLABELS) {
		lx = (x1 + 2 * mx + x2) / 4; ly = (y1 + 2 * my + y2) / 4 - 3
		printf "<text x=\"%d\" y=\"%d\" class=\"fl\" fill=\"%s\" text-anchor=\"middle\">%s</text>\n", lx, ly, color(v), esc(proto)
	}
	if (vi && by != "" && by != "-" && (by in NX)) {
		px = (NX[by] > VX[vi]) ? VX[vi] + 40 : VX[vi] - 40
		x3 = edge_x(by, px, VY[vi]); y3 = edge_y(by, px, VY[vi])
		printf "<path d=\"M%d,%d Q%d,%d %d,%d\" class=\"flow %s\" stroke=\"%s\" stroke-dasharray=\"6 4\" marker-end=\"url(#a-%s)\"><title>%s</title></path>\n", \
			px, VY[vi], (px + x3) / 2, (VY[vi] + y3) / 2 + off / 2, x3, y3, v, color(v), v, esc(label)
	}
}

# draw the flows of scenario ID ("" = all): one arrow per sender, target
# (a VIP or a node) and answering node, whatever the ports; a failure wins
# over a skip over a pass; the arrow's tooltip lists what it stands for.
function draw_flows(id,   i, key, seen, k, order, n, h, vi, tk, what, cnt, lab) {
	n = 0
	for (i = 1; i <= NF_; i++) {
		if (id != "" && FID[i] != id) continue
		h = host_of(FDEST[i]); vi = vip_of(h)
		tk = vi ? "vip" vi : node_of(h)
		key = FFROM[i] SUBSEP tk SUBSEP FBY[i]
		what = FID[i] ": " FFROM[i] " -> " FDEST[i] "/" FPROTO[i] " " FV[i] (FBY[i] != "-" ? " (answered by " FBY[i] ")" : "")
		if (!(key in seen)) { seen[key] = i; order[++n] = key; TIP[key] = what; cnt[key] = 1; PR[key] = FPROTO[i] }
		else {
			cnt[key]++
			if (cnt[key] <= 12) TIP[key] = TIP[key] "\n" what
			if (index(" " PR[key] " ", " " FPROTO[i] " ") == 0) PR[key] = PR[key] " " FPROTO[i]
			if (rank(FV[i]) > rank(FV[seen[key]])) seen[key] = i
		}
	}
	for (k = 1; k <= n; k++) {
		i = seen[order[k]]
		lab = PR[order[k]] (cnt[order[k]] > 1 ? " x" cnt[order[k]] : "")
		draw_flow(FFROM[i], FDEST[i], lab, FV[i], FBY[i], k, TIP[order[k]] (cnt[order[k]] > 12 ? "\n..." : ""))
	}
}

function rank(v) { return v == "fail" ? 3 : v == "pass" ? 2 : 1 }

# ---------------------------------------------------------------- input

BEGIN { plan(); NF_ = 0; NSC = 0; NMF = 0 }
$1 == "META" { LBNAME = $2; WHEN = $3; HOST = $4; VIPSF = $5; next }
$1 == "SCEN" { NSC++; SID[NSC] = $2; SV[$2] = $3; SMS[$2] = $4; SFILE[$2] = $5; STITLE[$2] = $6; CNT[$3]++; TOT += $4; next }
$1 ~ /^META_/ { k = substr($1, 6); M[$2, k] = M[$2, k] (M[$2, k] == "" ? "" : "\n") $3; next }
$1 == "FAIL" { FL[$2] = FL[$2] (FL[$2] == "" ? "" : "\n") $3; next }
$1 == "SKIP" { SK[$2] = SK[$2] (SK[$2] == "" ? "" : "\n") $3; next }
$1 == "NOTE" { NT[$2] = NT[$2] (NT[$2] == "" ? "" : "\n") $3; next }
$1 == "READ" { RD[$2] = RD[$2] (RD[$2] == "" ? "" : "\n") $3; NRD++; next }
$1 == "FIND" { FD[$2] = $3; next }
$1 == "UNREP" { UR[$2] = UR[$2] (UR[$2] == "" ? "" : "\n") $3; NUR++; next }
$1 == "FLOW" {
	NF_++; FID[NF_] = $2; FFROM[NF_] = $3; d = $4; FPROTO[NF_] = d; sub(/^.*\//, "", FPROTO[NF_]); sub(/\/[a-z]+$/, "", d)
	FDEST[NF_] = d; FV[NF_] = $5; FBY[NF_] = $6; next
}
$1 == "PCAP" { PC[$2] = PC[$2] (PC[$2] == "" ? "" : "\n") $3; next }
$1 == "LOG" { LG[$2] = $3; next }
$1 == "MUT" { MC[$2] = MC[$2] (MC[$2] == "" ? "" : "\n") $3 "\t" $4 "\t" $5 "\t" $6; if ($4 == "caught" || $4 == "read") MCAUGHT[$2] = 1; next }
$1 == "MUTPCAP" { MP[$2, $3] = MP[$2, $3] (MP[$2, $3] == "" ? "" : "\n") $4; next }
$1 == "MUTDONE" { MF[++NMF] = $2; next }

# ---------------------------------------------------------------- output

END {
	print "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	printf "<title>edgelab scenarios: %d passed, %d failed, %d skipped (lb %s)</title>\n", CNT["pass"], CNT["fail"], CNT["skip"], esc(LBNAME)
	print "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>"
	print "body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2024;background:#f6f7f9}"
	print "header{background:#1d2733;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}header p{margin:4px 0 0;color:#b8c2cc}"
	print "main{padding:18px 28px;max-width:1320px}section{background:#fff;border:1px solid #dde1e6;border-radius:10px;padding:16px 20px;margin:0 0 18px}"
	print "h2{font-size:17px;margin:0 0 10px}table{border-collapse:collapse;width:100%}td,th{padding:5px 8px;border-bottom:1px solid #eceef1;text-align:left;vertical-align:top}"
	print ".b{display:inline-block;min-width:38px;text-align:center;border-radius:10px;padding:0 8px;font-weight:600;color:#fff;font-size:12px}"
	print ".pass{background:#2f9e44}.fail{background:#e03131}.skip{background:#909296}.finding{background:#f08c00}.msg{font-family:ui-monospace,monospace;font-size:12px;color:#a61e1e}"
	print ".tot span{margin-right:14px}.card{border-left:5px solid #ccc}.card.vfail{border-left-color:#e03131}.card.vpass{border-left-color:#2f9e44}.card.vskip{border-left-color:#909296}.card.vfinding{border-left-color:#f08c00}"
	print ".seed{color:#495057;font-style:italic;margin:2px 0}.k{color:#868e96;font-size:12px;text-transform:uppercase;letter-spacing:.04em}"
	print "svg{width:100%;height:auto;background:#fbfcfd;border:1px solid #eceef1;border-radius:8px}svg.mini{max-width:760px}"
	print ".zone{fill:#f1f3f5;stroke:#dee2e6}.zt{font-size:12px;fill:#868e96}.seg{stroke:#5c7cfa;stroke-width:5;stroke-linecap:round}.st{font-size:11px;fill:#364fc7;font-weight:600}"
	print ".link{stroke:#adb5bd;stroke-width:2}.node rect{fill:#fff;stroke:#495057;stroke-width:1.5}.nn{font-weight:700;font-size:13px}.nr{font-size:10px;fill:#868e96}.na{font-size:10px;fill:#343a40;font-family:ui-monospace,monospace}"
	print ".vip rect{fill:#fff3bf;stroke:#f08c00}.vip text{font-size:10px;font-weight:600;fill:#7c4a03}.flow{fill:none;stroke-width:2.2;opacity:.85}.flow.fail{stroke-width:3}.fl{font-size:10px}"
	print "a{color:#1c7ed6}pre{white-space:pre-wrap;margin:4px 0}.legend span{margin-right:16px}.legend i{display:inline-block;width:22px;height:4px;vertical-align:middle;margin-right:5px}"
	print "</style></head><body>"
	printf "<header><h1>edgelab scenarios: the edge pool behind %s</h1><p>%s &middot; %s &middot; vips %s &middot; %d scenarios in %.1f s of lab time</p></header><main>\n", \
		LBNAME == "emulated" ? "the emulated HLB (hlb)" : LBNAME == "nft" ? "the kernel's nftables balancer" : "an external load balancer", esc(WHEN), esc(HOST), esc(VIPSF), NSC, TOT / 1000
	# overview
	print "<section><h2>The lab and every flow the scenarios sent</h2>"
	printf "<p class=\"tot\"><span class=\"b pass\">%d passed</span> <span class=\"b fail\">%d failed</span> <span class=\"b skip\">%d skipped</span> <span class=\"b finding\">%d device finding(s)</span> %d read, not observed, %d not reported by the device</p>\n", CNT["pass"], CNT["fail"], CNT["skip"], CNT["finding"], NRD, NUR
	svg_open("full", "the lab: nodes, segments, VIPs and the scenarios' flows")
	draw_lab(); SHOWLABELS = 0; draw_flows("")
	print "</svg>"
	printf "<p class=\"legend\"><span><i style=\"background:%s\"></i>flow passed</span><span><i style=\"background:%s\"></i>flow failed</span><span><i style=\"background:%s\"></i>skipped</span><span>solid: client to the address it asked; dashed: on from a VIP to the real server that answered. Hover a flow for its scenario.</span></p></section>\n", color("pass"), color("fail"), color("skip")
	# summary
	print "<section><h2>Summary</h2><table><tr><th>id</th><th>verdict</th><th>time</th><th>scenario</th><th>first failure / links</th></tr>"
	for (i = 1; i <= NSC; i++) {
		id = SID[i]; v = SV[id]
		first = FL[id]; sub(/\n.*/, "", first)
		if (v == "skip") { first = SK[id]; sub(/\n.*/, "", first) }
		if (v == "finding") first = "device finding: " FD[id] " (" first ")"
		printf "<tr><td><a href=\"#%s\">%s</a></td><td><span class=\"b %s\">%s</span></td><td>%.1f s</td><td>%s</td><td><span class=\"msg\">%s</span> %s</td></tr>\n", \
			id, id, v, v, SMS[id] / 1000, esc(STITLE[id]), esc(first), links(id)
	}
	print "</table></section>"
	# mutations
	if (NMF) {
		print "<section><h2>Mutations: which scenario caught each misconfiguration</h2>"
		print "<p>A scenario caught a fault when it failed on the fault's lab with a line naming the fault's symptom (scenarios/runner/symptoms.tsv); one that failed without naming it, or whose lab never came up, is listed but is no catch.</p>"
		print "<table><tr><th>fault</th><th>scenario</th><th>verdict</th><th>line</th><th>evidence</th></tr>"
		for (i = 1; i <= NMF; i++) {
			f = MF[i]
			if (!MCAUGHT[f]) printf "<tr><td>%s</td><td></td><td><span class=\"b fail\">NOT caught</span></td><td></td><td></td></tr>\n", f
			if (MC[f] == "") continue
			n = split(MC[f], rows, "\n")
			for (j = 1; j <= n; j++) {
				split(rows[j], p, "\t")
				printf "<tr><td>%s</td><td>%s</td><td><span class=\"b %s\">%s</span></td><td class=\"msg\">%s</td><td>%s</td></tr>\n", \
					(j == 1 && MCAUGHT[f]) ? f : "", p[1], p[2] == "caught" || p[2] == "read" ? "pass" : "skip", \
					p[2] == "caught" ? "caught" : p[2] == "read" ? "caught (read, not observed)" : p[2] == "lab" ? "no lab" : "no symptom", esc(p[3]), file_links(p[4], MP[f, p[1]])
			}
		}
		print "</table></section>"
	}
	# cards
	for (i = 1; i <= NSC; i++) {
		id = SID[i]; v = SV[id]
		printf "<section class=\"card v%s\" id=\"%s\"><h2><span class=\"b %s\">%s</span> %s: %s <small>(%.1f s, <a href=\"%s\">%s</a>)</small></h2>\n", \
			v, id, v, v, id, esc(STITLE[id]), SMS[id] / 1000, esc("../scenarios/" SFILE[id]), esc(SFILE[id])
		if (M[id, "seed"] != "") { n = split(M[id, "seed"], q, "\n"); print "<div class=\"k\">seed</div>"; for (j = 1; j <= n; j++) printf "<p class=\"seed\">%s</p>\n", esc(q[j]) }
		if (M[id, "spec"] != "") printf "<div class=\"k\">spec</div><p>%s</p>\n", esc(M[id, "spec"])
		if (M[id, "rows"] != "") printf "<div class=\"k\">port-table rows</div><p>%s</p>\n", esc(M[id, "rows"])
		if (M[id, "asserts"] != "") printf "<div class=\"k\">asserts</div><p>%s</p>\n", esc(M[id, "asserts"])
		if (M[id, "catches"] != "") printf "<div class=\"k\">catches</div><p>%s</p>\n", esc(M[id, "catches"])
		if (FD[id] != "") printf "<div class=\"k\">device finding (the vips file's expect-fail)</div><p>%s</p>\n", esc(FD[id])
		if (FL[id] != "") printf "<div class=\"k\">failures</div><pre class=\"msg\">%s</pre>\n", esc(FL[id])
		if (SK[id] != "") printf "<div class=\"k\">skipped checks</div><pre>%s</pre>\n", esc(SK[id])
		if (NT[id] != "") printf "<div class=\"k\">notes</div><pre>%s</pre>\n", esc(NT[id])
		if (RD[id] != "") printf "<div class=\"k\">read, not observed</div><pre>%s</pre>\n", esc(RD[id])
		if (UR[id] != "") printf "<div class=\"k\">not reported by the device</div><pre>%s</pre>\n", esc(UR[id])
		svg_open("mini", id " flows"); draw_lab(); SHOWLABELS = 1; draw_flows(id); print "</svg>"
		printf "<p>%s</p></section>\n", links(id)
	}
	print "</main></body></html>"
}

function links(id) { return file_links(LG[id], PC[id]) }

# A log's link and one per pcap (newline-separated paths), by file name.
function file_links(lg, pcaps,   s, n, p, j, name) {
	s = "<a href=\"" esc(lg) "\">log</a>"
	if (pcaps != "") {
		n = split(pcaps, p, "\n")
		for (j = 1; j <= n; j++) { name = p[j]; sub(/^.*\//, "", name); s = s " &middot; <a href=\"" esc(p[j]) "\">" esc(name) "</a>" }
	}
	return s
}
