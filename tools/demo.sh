#!/bin/bash
# make demo: flowtier's two tiers on the four-namespace testbed, with real packets.
#
#   ft-gen --> [ft-nic: emulated NIC] --> [ft-host: flowtier] --> [ft-sink]
#                     \________________ NIC's own port ____________/
#
# ft-gen sends a Zipf mix of TCP and UDP flows (IPv4 and IPv6) with one shift of the hot set
# halfway; the emulated NIC (XDP, a table of DEMO_CAPACITY exact-match rules) handles the flows
# it holds rules for and passes the rest to the host, where flowtier's XDP program (the software
# tier) applies its verdicts; flowtier run --offload emu decides which flows the NIC holds. A
# live view is refreshed every interval; a summary at the end checks that every packet sent is
# accounted for by a counter. Everything is removed at the end, also on Ctrl-C or failure.
#
# Usage: tools/demo.sh [OUT]   (OUT: the build folder with flowtier, emu-nic, ft-gen, ft-sink;
#                               make demo builds them first)
# Environment (defaults): DEMO_SECONDS (60), DEMO_FLOWS (20000), DEMO_RATE (150000 packets/s),
# DEMO_ALPHA (1.1), DEMO_CAPACITY (256 rules), DEMO_SEED (1), DEMO_MIN_PPS (20: the offload
# manager's --offload-min-pps, below its default of 100 because the 256th flow sends about 50
# packets/s here), DEMO_MARGIN_PPS (100: --offload-margin-pps, its default), DEMO_EMU_LAG (1:
# --emu-stats-lag, seconds the NIC's counters lag), DEMO_PREFIX (ft:
# namespaces ft-gen ... ft-sink), DEMO_METRICS (127.0.0.1:9469, inside the host namespace), DEMO_SUMMARY (also write the
# summary's figures there as key=value lines), DEMO_KEEP (a folder: keep the run's files there).
# Exit status: 0 when the conservation checks hold, 1 when not or on a failure, 2 for bad input.
set -euo pipefail

OUT=${1:-build}
[ -d "$OUT" ] || OUT=$(dirname "$OUT") # make demo used to pass build/flowtier
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TB=$ROOT/tools/testbed.sh
FT=$OUT/flowtier EMU=$OUT/emu-nic GEN=$OUT/ft-gen SINK=$OUT/ft-sink
SECS=${DEMO_SECONDS:-60}
FLOWS=${DEMO_FLOWS:-20000}
RATE=${DEMO_RATE:-150000}
ALPHA=${DEMO_ALPHA:-1.1}
CAP=${DEMO_CAPACITY:-256}
SEED=${DEMO_SEED:-1}
MIN_PPS=${DEMO_MIN_PPS:-20}
MARGIN_PPS=${DEMO_MARGIN_PPS:-100}
EMU_LAG=${DEMO_EMU_LAG:-1}
P=${DEMO_PREFIX:-ft}
METRICS=${DEMO_METRICS:-127.0.0.1:9469}
PIN=/sys/fs/bpf/$P-ft
EMU_PIN=/sys/fs/bpf/$P-emu

say() { echo "demo: $*" >&2; }
die() {
	say "$*"
	exit 1
}
bad() {
	say "$*"
	exit 2
}

# positive NAME VALUE: VALUE must be a positive whole number.
positive() {
	[[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt 0 ] || bad "$1='$2': expected a positive whole number"
}
positive DEMO_SECONDS "$SECS"
positive DEMO_FLOWS "$FLOWS"
positive DEMO_RATE "$RATE"
positive DEMO_CAPACITY "$CAP"
positive DEMO_SEED "$SEED"
positive DEMO_MIN_PPS "$MIN_PPS"
positive DEMO_MARGIN_PPS "$MARGIN_PPS"
[ "$SECS" -ge 4 ] || bad "DEMO_SECONDS=$SECS: expected at least 4 (the shift is at half time)"
[[ $ALPHA =~ ^[0-9]+(\.[0-9]+)?$ ]] || bad "DEMO_ALPHA='$ALPHA': expected a number such as 1.1"
[[ $EMU_LAG =~ ^[0-9]+(\.[0-9]+)?$ ]] || bad "DEMO_EMU_LAG='$EMU_LAG': expected seconds such as 1.5"
[ "$(id -u)" -eq 0 ] || bad "needs root (network namespaces, XDP, bpffs): run it with sudo"
for b in "$FT" "$EMU" "$GEN" "$SINK"; do
	[ -x "$b" ] || bad "$b is missing: run 'make demo' (or make $b gen)"
done
for t in jq curl nsenter bpftool; do
	command -v "$t" > /dev/null || bad "$t is missing: run 'make deps'"
done

T=$(mktemp -d /tmp/flowtier-demo.XXXXXX)
SOCK=$T/flowtier.sock
gen_pid=
run_pid=
TTY=0
[ -t 1 ] && TTY=1

# Ends a process this script started: TERM, then KILL after 5 s.
end() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2> /dev/null || return 0
	for _ in $(seq 10); do
		kill -0 "$1" 2> /dev/null || break
		sleep 0.5
	done
	kill -KILL "$1" 2> /dev/null || true
	wait "$1" 2> /dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	end "$gen_pid"
	end "$run_pid"
	if [ -d "$PIN" ]; then
		nsenter --net="/run/netns/$P-host" "$FT" unload --pin-dir "$PIN" > /dev/null 2>&1 ||
			"$FT" unload --pin-dir "$PIN" --force > /dev/null 2>&1 || true
	fi
	[ ! -d "$EMU_PIN" ] || "$EMU" detach --netns "$P-nic" --dev gen --pin-dir "$EMU_PIN" \
		> /dev/null 2>&1 || true
	"$TB" down "$P" || true
	if [ -n "${DEMO_KEEP:-}" ]; then
		mkdir -p "$DEMO_KEEP" && cp -r "$T"/. "$DEMO_KEEP"/ && say "files kept in $DEMO_KEEP"
	fi
	rm -rf "$T"
	[ "$rc" -eq 0 ] || say "ended with status $rc; everything was removed"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# ---- counters ----

# emu-nic stats as "rx dropped redirected to_host no_port".
nic_stats() {
	"$EMU" stats --pin-dir "$EMU_PIN" |
		awk '{ v[$1] = $2 } END { print v["rx"]+0, v["dropped"]+0, v["redirected"]+0, v["to_host"]+0, v["no_port"]+0 }'
}

# The software tier's counters from the pinned maps: "xdp tc_egress pass drop redirect redirect_failures".
ft_stats() {
	"$FT" metrics --pin-dir "$PIN" |
		awk '/^flowtier_packets_total\{hook="xdp"\}/ { x = $2 }
			/^flowtier_packets_total\{hook="tc_egress"\}/ { e = $2 }
			/^flowtier_verdicts_total\{verdict="pass"\}/ { p = $2 }
			/^flowtier_verdicts_total\{verdict="drop"\}/ { d = $2 }
			/^flowtier_verdicts_total\{verdict="redirect"\}/ { r = $2 }
			/^flowtier_redirect_failures_total / { f = $2 }
			END { print x+0, e+0, p+0, d+0, r+0, f+0 }'
}

# Flow packets (TCP/UDP, not `other`) received by the sink on its ports: "from_nic from_host".
sink_stats() {
	local nic host
	nic=$(ip -n "$P-sink" -o link show dev nic | cut -d: -f1)
	host=$(ip -n "$P-sink" -o link show dev host | cut -d: -f1)
	"$SINK" read --pin "/sys/fs/bpf/$P-sink" |
		awk -v n="$nic" -v h="$host" '/^# port/ {
			for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			got[v["ifindex"]] = v["packets"] - v["other"] }
			END { print got[n]+0, got[h]+0 }'
}

# The controller's /metrics (served in the host namespace).
scrape() { in_ns "$P-host" curl -sf --max-time 2 "http://$METRICS/metrics"; }

# ---- set up ----

say "testbed: namespaces $P-gen, $P-nic, $P-host, $P-sink"
"$TB" up "$P" > "$T/testbed.env"
eval "$(cat "$T/testbed.env")"

say "emulated NIC on $FT_NIC_NS:gen, $CAP rules"
in_ns "$FT_NIC_NS" ip link set dev "$FT_NIC_IN" xdp off
"$EMU" attach --netns "$FT_NIC_NS" --dev "$FT_NIC_IN" --to-host "$FT_NIC_HOST" \
	--to-sink "$FT_NIC_SINK" --host-mac "$FT_NIC_HOST_MAC" --sink-mac "$FT_NIC_SINK_MAC" \
	--capacity "$CAP" --pin-dir "$EMU_PIN" > "$T/emu-attach.log"

say "flowtier run on $FT_HOST_NS:nic, offload to the emulated NIC, /metrics on $METRICS"
in_ns "$FT_HOST_NS" ip link set dev "$FT_HOST_IN" xdp off
# nsenter itself, not a function, in the background: $! is then flowtier's pid.
nsenter --net="/run/netns/$FT_HOST_NS" "$FT" run -i "$FT_HOST_IN" --conns 262144 --pin-dir "$PIN" \
	--socket "$SOCK" --metrics "$METRICS" --metrics-top 10 --offload emu --emu-pin-dir "$EMU_PIN" \
	--emu-stats-lag "$EMU_LAG" --offload-min-pps "$MIN_PPS" --offload-margin-pps "$MARGIN_PPS" > /dev/null 2> "$T/flowtier.log" &
run_pid=$!
for _ in $(seq 40); do
	"$FT" status --socket "$SOCK" > /dev/null 2>&1 && break
	kill -0 "$run_pid" 2> /dev/null || die "flowtier run ended: $(cat "$T/flowtier.log")"
	sleep 0.25
done
"$FT" status --socket "$SOCK" > /dev/null || die "flowtier run does not answer: $(cat "$T/flowtier.log")"

# Both actions: flows to servers 198.19.0.16-31 are dropped, every other flow goes to the sink.
in_ns "$FT_HOST_NS" "$FT" rule add --pin-dir "$PIN" --verdict drop --dst 198.19.0.16/28 > /dev/null
in_ns "$FT_HOST_NS" "$FT" rule add --pin-dir "$PIN" --verdict redirect --dev "$FT_HOST_SINK" > /dev/null

# The kernel's own chatter (one MLD report after up) is over; from here on, counters move
# only with generated packets: the summary counts from this baseline.
sleep 1
read -r N0_RX N0_DROP N0_REDIR N0_HOST N0_NOPORT < <(nic_stats)
read -r F0_XDP F0_EGR F0_PASS F0_DROP F0_REDIR F0_FAIL < <(ft_stats)
read -r S0_NIC S0_HOST < <(sink_stats)

SHIFT=$((SECS / 2))
say "ft-gen: $FLOWS flows, zipf $ALPHA, $RATE packets/s for $SECS s, hot set shifts at $SHIFT s"
"$GEN" --netns "$FT_GEN_NS" --dev "$FT_GEN_DEV" --dst-mac "$FT_GEN_DST_MAC" --flows "$FLOWS" \
	--alpha "$ALPHA" --rate "$RATE" --duration "$SECS" --shift "$SHIFT" --seed "$SEED" \
	--udp-reply --truth "$T/truth.csv" --intervals "$T/intervals.csv" \
	> "$T/gen.out" 2> "$T/gen.err" &
gen_pid=$!

# ---- the live view ----

# One frame: the controller's status, the NIC's counters over the last interval, the top flows.
frame() {
	local t=$1 st m
	st=$("$FT" status --socket "$SOCK" --json 2> /dev/null) || st='{}'
	m=$(scrape 2> /dev/null) || m=
	read -r rx _ _ host _ < <(nic_stats)
	local d_rx=$((rx - L_RX)) d_host=$((host - L_HOST)) now
	now=$(date +%s%N)
	local ms=$(((now - L_NS) / 1000000 + 1))
	L_RX=$rx L_HOST=$host L_NS=$now
	local hwcov="-"
	[ "$d_rx" -gt 0 ] && hwcov=$(awk -v h=$((d_rx - d_host)) -v r=$d_rx 'BEGIN { printf "%.1f%%", 100 * h / r }')
	local dev
	dev=$(jq -r '(.offload.devices // [])[0] // {} |
		"\(.rules // 0) of \(.capacity // "?") rules, OOR \(if .oor then "yes" else "no" end), installs \(.installs // 0), removals \(.removals // 0), swaps \(.swaps // 0), rollbacks \(.rollbacks // 0)"' <<< "$st")
	local ftcov
	ftcov=$(jq -r 'if .offload.coverage then "\(.offload.coverage * 1000 | round / 10)%" else "-" end' <<< "$st")
	local sw_pps=$((d_host * 1000 / ms)) hw_pps=$(((d_rx - d_host) * 1000 / ms))
	if [ "$TTY" -eq 1 ]; then
		printf '\033[H\033[2J'
		echo "flowtier demo: $t of $SECS s (shift at $SHIFT s), $FLOWS flows, zipf $ALPHA, $RATE packets/s"
		echo "/metrics: nsenter --net=/run/netns/$FT_HOST_NS curl -s http://$METRICS/metrics"
		echo
		echo "NIC ($CAP-rule emulated NIC): $dev"
		echo "packets/s: software tier $sw_pps, hardware tier $hw_pps"
		echo "hardware coverage, last interval: $hwcov of the packets received; flowtier's view: $ftcov of candidate packets"
		echo "scrape: $(grep -c '^flowtier_' <<< "$m") series, flowtier_offload_coverage_ratio $(awk '$1 == "flowtier_offload_coverage_ratio" { printf "%.3f", $2 }' <<< "$m")"
		echo
		printf '%-48s %-5s %-11s %-8s %10s %9s %s\n' "flow (source:port > destination:port)" proto state verdict packets pps tier
		"$FT" flows --socket "$SOCK" --pin-dir "$PIN" --top 12 --json 2> /dev/null |
			jq -r 'def ep(a; p): if (a | contains(":")) then "[\(a)]:\(p)" else "\(a):\(p)" end;
				.[] | [ "\(ep(.src; .sport)) > \(ep(.dst; .dport))", .proto, .state, .verdict,
				.packets, (.pps | floor), .tier ] | @tsv' |
			awk -F'\t' '{ printf "%-48s %-5s %-11s %-8s %10s %9s %s\n", $1, $2, $3, $4, $5, $6, $7 }' || true
	else
		echo "t=${t}s NIC: $dev; sw $sw_pps pps, hw $hw_pps pps; hw coverage $hwcov (flowtier: $ftcov)"
	fi
}

L_RX=$N0_RX L_HOST=$N0_HOST L_NS=$(date +%s%N)
# One frame a second on the wall clock, however long a frame takes to draw.
start_ns=$(date +%s%N)
while kill -0 "$gen_pid" 2> /dev/null; do
	ms=$((1000 - ($(date +%s%N) - start_ns) / 1000000 % 1000))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	frame $((($(date +%s%N) - start_ns + 500000000) / 1000000000))
done
gen_rc=0
wait "$gen_pid" || gen_rc=$?
gen_pid=
[ "$gen_rc" -eq 0 ] || die "ft-gen failed ($gen_rc): $(cat "$T/gen.err")"

# Let the last frames through every hop, and the controller run one more interval.
sleep 2
read -r N1_RX N1_DROP N1_REDIR N1_HOST N1_NOPORT < <(nic_stats)
read -r F1_XDP F1_EGR F1_PASS F1_DROP F1_REDIR F1_FAIL < <(ft_stats)
read -r S1_NIC S1_HOST < <(sink_stats)
ST=$("$FT" status --socket "$SOCK" --json)
M=$(scrape) || M=

# ---- the summary ----

SENT=$(awk -F, '!/^#/ && $1 != "flow" { s += $10 + $12 } END { print s+0 }' "$T/truth.csv")
DATA=$(awk -F, '!/^#/ && $1 != "flow" { s += $9 } END { print s+0 }' "$T/truth.csv")
RX=$((N1_RX - N0_RX))
NIC_DROP=$((N1_DROP - N0_DROP)) NIC_REDIR=$((N1_REDIR - N0_REDIR))
HW=$((NIC_DROP + NIC_REDIR))
TO_HOST=$((N1_HOST - N0_HOST)) NOPORT=$((N1_NOPORT - N0_NOPORT))
SW=$((F1_XDP - F0_XDP)) EGR=$((F1_EGR - F0_EGR))
FT_PASS=$((F1_PASS - F0_PASS)) FT_DROP=$((F1_DROP - F0_DROP)) FT_REDIR=$((F1_REDIR - F0_REDIR))
FT_FAIL=$((F1_FAIL - F0_FAIL))
SK_NIC=$((S1_NIC - S0_NIC)) SK_HOST=$((S1_HOST - S0_HOST))
DROPPED=$NOPORT

# The oracle: per interval, the CAP flow directions with the most packets (ground truth).
ORACLE=$(grep -v '^#' "$T/intervals.csv" | awk -F, '$1 != "interval" { print $1, $3; if ($4 > 0) print $1, $4 }' |
	sort -k1,1n -k2,2nr | awk -v c="$CAP" '$1 != i { i = $1; n = 0 } { all += $2; if (n++ < c) top += $2 }
		END { print top+0, all+0 }')
read -r OR_TOP OR_ALL <<< "$ORACLE"

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "-" }'; }
dev() { jq -r "(.offload.devices // [])[0].$1 // 0" <<< "$ST"; }
mval() { awk -v k="$1" '$1 == k { print $2 }' <<< "$M"; }

CONS=holds DELIV=holds
[ "$SENT" -eq $((HW + SW + DROPPED)) ] || CONS=FAILS
[ "$SENT" -eq $((SK_NIC + SK_HOST + NIC_DROP + FT_DROP)) ] || DELIV=FAILS

echo
echo "== summary: $SECS s, $FLOWS flows, zipf $ALPHA, $RATE packets/s, shift at $SHIFT s, NIC capacity $CAP rules"
cat "$T/gen.out"
echo
echo "packets per tier (counted while ft-gen sent):"
printf '  %-46s %12d\n' "sent by ft-gen (ground truth)" "$SENT"
printf '  %-46s %12d  %s  (redirected to the sink %d, dropped %d)\n' "handled in hardware (emulated NIC's rules)" "$HW" "$(pct "$HW" "$SENT")" "$NIC_REDIR" "$NIC_DROP"
printf '  %-46s %12d  %s  (redirect %d, drop %d, pass %d)\n' "handled in software (flowtier's XDP program)" "$SW" "$(pct "$SW" "$SENT")" "$FT_REDIR" "$FT_DROP" "$FT_PASS"
printf '  %-46s %12d  (emulated NIC, no port to send to)\n' "dropped at a named hop" "$DROPPED"
echo "  conservation: sent = hardware + software + dropped: $SENT = $HW + $SW + $DROPPED: $CONS"
echo
echo "where they went:"
printf '  %-46s %12d  (NIC redirected %d)\n' "sink, from the NIC's port" "$SK_NIC" "$NIC_REDIR"
printf '  %-46s %12d  (flowtier redirected %d + passed %d, routed by the host)\n' "sink, from the host" "$SK_HOST" "$FT_REDIR" "$FT_PASS"
printf '  %-46s %12d\n' "dropped by the NIC's drop rules" "$NIC_DROP" "dropped by flowtier's drop verdicts" "$FT_DROP"
echo "  delivery: sent = sink + NIC drops + flowtier drops: $SENT = $SK_NIC + $SK_HOST + $NIC_DROP + $FT_DROP: $DELIV"
echo
echo "hardware coverage:"
echo "  handled in hardware: $(pct "$HW" "$SENT") of the packets sent"
echo "  oracle (the $CAP flow directions with the most packets in each interval, from the ground truth): $(pct "$OR_TOP" "$OR_ALL")"
echo "  flowtier / oracle: $(awk -v h="$HW" -v s="$SENT" -v t="$OR_TOP" -v a="$OR_ALL" \
	'BEGIN { if (s > 0 && t > 0) printf "%.3f", (h / s) / (t / a); else print "-" }')"
echo
echo "offload manager (flowtier status, /metrics):"
echo "  installs $(dev installs), removals $(dev removals), swaps $(dev swaps), rollbacks $(dev rollbacks)"
echo "  out of resources: entered $(mval 'flowtier_offload_oor_transitions_total{device="nic",transition="enter"}') times, left $(mval 'flowtier_offload_oor_transitions_total{device="nic",transition="leave"}'); capacity learned $(dev capacity) rules; refusals (ENOSPC) $(mval 'flowtier_offload_failures_total{device="nic",class="exhausted"}')"
echo "  rules now $(dev rules); recent coverage of candidate packets $(jq -r '.offload.coverage // 0' <<< "$ST")"

# The failing hops, named, with what each counter says.
explain() {
	echo
	echo "CONSERVATION FAILS: where packets went missing (or came from):"
	[ "$RX" -eq "$SENT" ] || echo "  ft-gen -> NIC (veth, no counter): sent $SENT, NIC received $RX"
	[ "$RX" -eq $((HW + TO_HOST + NOPORT)) ] ||
		echo "  inside the NIC: received $RX != dropped $NIC_DROP + redirected $NIC_REDIR + to host $TO_HOST + no port $NOPORT"
	[ "$TO_HOST" -eq "$SW" ] || echo "  NIC -> host (veth, no counter): NIC sent $TO_HOST to the host, flowtier's XDP counted $SW"
	[ "$SK_NIC" -eq "$NIC_REDIR" ] || echo "  NIC -> sink (veth, no counter): NIC redirected $NIC_REDIR, the sink received $SK_NIC"
	[ "$SK_HOST" -eq $((FT_REDIR + FT_PASS)) ] ||
		echo "  host -> sink: flowtier redirected $FT_REDIR and passed $FT_PASS (redirect failures $FT_FAIL, TC egress $EGR), the sink received $SK_HOST (the rest: the host kernel)"
}
[ "$CONS" = holds ] && [ "$DELIV" = holds ] || explain

if [ -n "${DEMO_SUMMARY:-}" ]; then
	cat > "$DEMO_SUMMARY" << EOF
sent=$SENT
data=$DATA
hardware=$HW
software=$SW
dropped=$DROPPED
nic_received=$RX
nic_dropped=$NIC_DROP
nic_redirected=$NIC_REDIR
nic_to_host=$TO_HOST
ft_redirect=$FT_REDIR
ft_drop=$FT_DROP
ft_pass=$FT_PASS
sink_from_nic=$SK_NIC
sink_from_host=$SK_HOST
oracle_top=$OR_TOP
oracle_all=$OR_ALL
swaps=$(dev swaps)
rollbacks=$(dev rollbacks)
conservation=$CONS
delivery=$DELIV
EOF
fi
[ "$CONS" = holds ] && [ "$DELIV" = holds ]
