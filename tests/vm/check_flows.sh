#!/bin/sh
# Checks what tests/vm/scenario.sh printed on the VM's console: flowtier's
# controller with the tc flower backend (software flower) against the
# kernel's own view (`tc -s filter show`) and the generator's ground truth.
#
# usage: tests/vm/check_flows.sh CONSOLE_LOG
# Prints "vm: flows: ..." lines; exits 1 after naming the first difference.
set -eu

LOG=${1:?usage: tests/vm/check_flows.sh CONSOLE_LOG}
CAP=4 # the scenario's --tc-capacity
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() {
	echo "vm: flows: FAIL: $*" >&2
	exit 1
}

# One section of the console, without the serial line's carriage returns.
sect() {
	tr -d '\r' <"$LOG" | awk -v n="$1" '$0 == "FTV-END " n { p = 0 } p { print } $0 == "FTV-BEGIN " n { p = 1 }'
}

# flowtier's JSON lists (flat objects, no commas inside values) as one
# "key=value ..." line per object.
json_lines() {
	tr -d '\n' | sed 's/^\[//; s/\]$//; s/},{/}\n{/g' | sed 's/^{//; s/}$//' |
		awk -F, 'NF { l = ""; for (i = 1; i <= NF; i++) { split($i, kv, ":"); v = substr($i, length(kv[1]) + 2); gsub(/"/, "", kv[1]); gsub(/"/, "", v); l = l (i > 1 ? " " : "") kv[1] "=" v } print l }'
}

# A rule as one line, the same from `flowtier offload --json` and from tc:
# prio handle src dst sport dport proto verdict tcp_flags cookie [packets bytes]
# (bytes of whole frames: tc's software flower counts from the network header).
offload_rules() { # $1: with counters (1) or not (0)
	json_lines | awk -v c="$1" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		prio = index(f["src"], ":") ? 16 : 15
		proto = f["proto"] == 6 ? "tcp" : f["proto"] == 17 ? "udp" : f["proto"]
		verdict = f["verdict"] == "drop" ? "drop" : "redirect:ftvc"
		line = prio " " f["handle"] " " f["src"] " " f["dst"] " " f["sport"] " " f["dport"] " " proto " " verdict " " (proto == "tcp" ? "0x0/7" : "-") " " f["cookie"]
		if (c) line = line " " f["packets"] " " f["bytes"]
		print line
	}' | sort
}

tc_rules() { # $1: with counters (1) or not (0); stdin: tc -s filter show
	awk -v c="$1" '
	function hex(s,   i, v) {
		v = 0; s = tolower(s); sub(/^0x/, "", s)
		for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	function flush() {
		if (kind == "flower") {
			line = prio " " handle " " src " " dst " " sport " " dport " " proto " " verdict " " flags " " cookie
			if (c) line = line " " pkts " " (bytes + 14 * pkts)
			print line (skip == "skip_hw" ? "" : " NOT-SKIP_HW")
		}
		kind = ""
	}
	/^filter / && / handle / {
		flush()
		for (i = 1; i <= NF; i++) {
			if ($i == "pref") prio = $(i + 1)
			if ($i == "handle") handle = $(i + 1)
		}
		kind = $6; handle = hex(handle)
		src = dst = sport = dport = proto = verdict = cookie = skip = "?"; flags = "-"; pkts = bytes = 0
		next
	}
	/^filter / { flush(); next }
	$1 == "src_ip" { src = $2 } $1 == "dst_ip" { dst = $2 }
	$1 == "src_port" { sport = $2 } $1 == "dst_port" { dport = $2 }
	$1 == "ip_proto" { proto = $2 } $1 == "tcp_flags" { flags = $2 }
	$1 == "skip_hw" { skip = "skip_hw" }
	/action order 1: gact action drop/ { verdict = "drop" }
	/action order 1: mirred \(Egress Redirect to device [a-z0-9]*\) stolen/ {
		verdict = $0; sub(/.*device /, "", verdict); sub(/\).*/, "", verdict); verdict = "redirect:" verdict
	}
	$1 == "Sent" { bytes = $2; pkts = $4 }
	$1 == "cookie" { cookie = $2 }
	END { flush() }'
}

for s in filters-idle tc-during-1 status-before-shift tc-during-2 status-after-shift offload-during tc-during gen offload-1 tc-1 flows \
	status-1 truth offload-2 tc-2 status-2 unload tc-3 tc-3-egress pins-after-unload; do
	tr -d '\r' <"$LOG" | grep -q -x "FTV-END $s" || fail "the console has no section '$s' (console: $LOG)"
done

# The TC program alone before any rule: flower rules come from the controller only.
sect filters-idle | grep -c ' handle ' >"$TMP/n"
[ "$(cat "$TMP/n")" = 1 ] && sect filters-idle | grep -q 'pref 18004 bpf .*handle 0x4654 ft_tc_ingress' ||
	fail "before traffic, tc lists more than flowtier's TC program: $(sect filters-idle)"

# During traffic: the kernel's rules are the controller's (keys, TCP flags mask,
# actions, cookies) and their counters move.
sect offload-during | offload_rules 0 >"$TMP/od"
sect tc-during | tc_rules 0 >"$TMP/td"
[ -s "$TMP/od" ] || fail "no rule in hardware during the traffic"
diff "$TMP/od" "$TMP/td" >"$TMP/diff" ||
	fail "during traffic, tc's flower rules differ from 'flowtier offload' (< flowtier, > tc): $(cat "$TMP/diff")"
grep -q ' tcp .* 0x0/7 ' "$TMP/td" && grep -q ' redirect:ftvc ' "$TMP/td" ||
	fail "no TCP redirect rule with TCP flags 0x0/7 during the traffic: $(cat "$TMP/td")"
echo "vm: flows: during traffic tc lists the controller's $(wc -l <"$TMP/td") rules exactly (prio handle src dst sport dport proto action flags cookie):"
sed 's/^/vm: flows:   /' "$TMP/td"
sect tc-during-1 | tc_rules 1 | awk '{ print $10, $11 }' | sort >"$TMP/c1"
sect tc-during-2 | tc_rules 1 | awk '{ print $10, $11 }' | sort >"$TMP/c2"
moved=$(join "$TMP/c1" "$TMP/c2" | awk '$3 > $2 { n++ } END { print n + 0 }')
[ "$moved" -gt 0 ] || fail "no flower counter moved in 1 s of traffic: $(cat "$TMP/c1") / $(cat "$TMP/c2")"
echo "vm: flows: $moved flower rule counters moved in 1 s of traffic"

# After the traffic: the same, counters included.
sect offload-1 | offload_rules 1 >"$TMP/o1"
sect tc-1 | tc_rules 1 >"$TMP/t1"
diff "$TMP/o1" "$TMP/t1" >"$TMP/diff" ||
	fail "after traffic, tc's flower rules differ from 'flowtier offload' (< flowtier, > tc): $(cat "$TMP/diff")"
[ "$(wc -l <"$TMP/t1")" -le "$CAP" ] || fail "more rules than --tc-capacity $CAP: $(cat "$TMP/t1")"
[ "$(sect tc-1 | grep -c 'bpf .*ft_tc_ingress')" = 1 ] || fail "flowtier's TC program is not in tc-1"
echo "vm: flows: after traffic tc lists the controller's $(wc -l <"$TMP/t1") rules, counters equal"

# A frame the veth itself dropped (its ring full on a busy machine) never reached flowtier:
# say so rather than blame the counters (ethtool's counters, when it was there).
lost=$(sect veth-stats | awk '/xdp_xmit_errors|rx_queue_0_drops|xdp_drops/ { n += $2 } END { print n + 0 }')
[ "$lost" -eq 0 ] || fail "the veth pair itself dropped $lost of ft-gen's frames (machine too busy?): $(sect veth-stats | tr -s ' \n' ' ')"

# flowtier's counters (software plus flower) against ft-gen's ground truth, every direction,
# across a controller restart in the middle of the traffic.
sect truth | awk -F, '!/^#/ && $1 != "flow" {
	print $4, $5, $6, $7, $10, $11; print $5, $4, $7, $6, $12, $13 }' | sort >"$TMP/truth"
sect flows | json_lines | awk '{
	for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
	print f["src"], f["dst"], f["sport"], f["dport"], f["packets"], f["bytes"] }' | sort >"$TMP/flows"
[ "$(wc -l <"$TMP/truth")" -gt 0 ] || fail "empty ground truth"
diff "$TMP/truth" "$TMP/flows" >"$TMP/diff" ||
	fail "flowtier's flows differ from ft-gen's ground truth (< truth, > flowtier: src dst sport dport packets bytes): $(cat "$TMP/diff")"
hw=$(sect flows | json_lines | grep -c 'tier=hardware' || true)
echo "vm: flows: all $(wc -l <"$TMP/truth") flow directions count exactly what ft-gen sent ($(awk '{ p += $5 } END { print p }' "$TMP/truth") packets; $hw directions in hardware at the end)"

# Out of resources was reached, and the shift swapped rules.
tr -d '\r' <"$LOG" | grep -q "offload: ftva is out of resources at $CAP rules: flowtier test capacity reached" ||
	fail "the controller never ran out of resources at $CAP rules"
swaps() { sect "$1" | sed -n 's/.*"swaps":\([0-9]*\).*/\1/p'; }
before=$(swaps status-before-shift)
after=$(swaps status-after-shift)
[ -n "$before" ] && [ -n "$after" ] || fail "no offload status: $(sect status-before-shift) $(sect status-after-shift)"
[ "$after" -gt "$before" ] || fail "no swap after the shift: $before swaps before it, $after after"
echo "vm: flows: out of resources at $CAP rules, then $((after - before)) swaps after the shift ($(sect status-after-shift | sed 's/.*"devices":\[{//; s/}.*//'))"

# A restarted controller adopts the rules: same handles, cookies, counters; nothing added.
sect offload-2 | offload_rules 1 >"$TMP/o2"
sect tc-2 | tc_rules 1 >"$TMP/t2"
diff "$TMP/o1" "$TMP/o2" >"$TMP/diff" ||
	fail "the restarted controller holds other rules (< before, > after): $(cat "$TMP/diff")"
diff "$TMP/t1" "$TMP/t2" >"$TMP/diff" || fail "tc lists other rules after the restart: $(cat "$TMP/diff")"
sect status-2 | grep -q '"installs":0,"removals":0' ||
	fail "the restarted controller added or removed rules: $(sect status-2)"
echo "vm: flows: the restarted controller adopted the $(wc -l <"$TMP/o2") rules: same handles, cookies and counters, none added"

# unload leaves nothing of flowtier's on the interface.
[ -z "$(sect tc-3)" ] && [ -z "$(sect tc-3-egress)" ] ||
	fail "filters left after 'flowtier unload': $(sect tc-3) $(sect tc-3-egress)"
[ -z "$(sect pins-after-unload)" ] || fail "pins left after 'flowtier unload': $(sect pins-after-unload)"
echo "vm: flows: after 'flowtier unload' no filter and no pin is left on ftva ($(sect unload | tr '\n' ' '))"
