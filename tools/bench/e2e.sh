#!/bin/sh
# End to end on the testbed (tools/testbed.sh, ft-gen): the software tier's run time per packet
# as the kernel's bpf_stats count it (run_time_ns / run_cnt of flowtier's XDP program), while
# ft-gen sends a Zipf mix through the emulated NIC's port to the host. Both modes run the same
# traffic (same seed) through flowtier run on a fresh table, with a redirect rule to the sink:
# offload off is --offload none behind the testbed's pass program; offload on is the emulated
# NIC (emu-nic, FT_E2E_CAPACITY rules, default 1024) driven by flowtier run --offload emu, so
# the software tier sees only what the NIC does not hold.
# Usage: tools/bench/e2e.sh OUT (the build folder). Prints one line per mode:
#   e2e: offload off: N ns/packet (...)
#   e2e: offload on: N ns/packet (...) | not run: WHY
# Environment: FT_TESTBED (default tools/testbed.sh), FT_GEN (OUT/ft-gen), FT_E2E_PREFIX (ftbe),
# FT_E2E_FLOWS (20000), FT_E2E_RATE (100000 pps), FT_E2E_SECONDS (10), FT_E2E_CAPACITY (1024).
# kernel.bpf_stats_enabled is system-wide: it is on only while ft-gen sends, then set back.
set -eu
OUT=${1:-build}
TB=${FT_TESTBED:-tools/testbed.sh}
GEN=${FT_GEN:-$OUT/ft-gen}
FT=$OUT/flowtier
EMU=$OUT/emu-nic
P=${FT_E2E_PREFIX:-ftbe}
PIN=/sys/fs/bpf/$P-ft
EMU_PIN=/sys/fs/bpf/$P-emu
SOCK=/run/$P-flowtier.sock
CAP=${FT_E2E_CAPACITY:-1024}
run_pid=
FLOWS=${FT_E2E_FLOWS:-20000}
RATE=${FT_E2E_RATE:-100000}
SECS=${FT_E2E_SECONDS:-10}
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)

cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS" || true
	stop_ft
	[ ! -d "$EMU_PIN" ] || "$EMU" detach --netns "$P-nic" --dev gen --pin-dir "$EMU_PIN" > /dev/null 2>&1 || true
	"$TB" down "$P" || true
}

# Stops the controller this script started and takes the datapath off (a fresh table next time).
stop_ft() {
	if [ -n "$run_pid" ]; then
		kill -TERM "$run_pid" 2> /dev/null || true
		wait "$run_pid" 2> /dev/null || true
		run_pid=
	fi
	[ ! -d "$PIN" ] || nsenter --net="/run/netns/$P-host" "$FT" unload --pin-dir "$PIN" > /dev/null 2>&1 ||
		"$FT" unload --pin-dir "$PIN" --force > /dev/null 2>&1 || true
}

# flowtier run on the host's port with OFFLOAD flags, a redirect rule to the sink; waits until it answers.
start_ft() {
	nsenter --net="/run/netns/$FT_HOST_NS" "$FT" run -i "$FT_HOST_IN" --force --conns 262144 \
		--pin-dir "$PIN" --socket "$SOCK" --metrics off "$@" > /dev/null 2>&1 &
	run_pid=$!
	for _ in $(seq 40); do
		"$FT" status --socket "$SOCK" > /dev/null 2>&1 && break
		sleep 0.25
	done
	"$FT" status --socket "$SOCK" > /dev/null
	nsenter --net="/run/netns/$FT_HOST_NS" "$FT" rule add --pin-dir "$PIN" --verdict redirect \
		--dev "$FT_HOST_SINK" > /dev/null
}
trap cleanup EXIT INT TERM

# "RUN_TIME_NS RUN_CNT" of a pinned program (0 0 while stats are off).
prog_stats() {
	bpftool -j prog show pinned "$1" |
		awk '{ t = c = 0
			if (match($0, /"run_time_ns":[0-9]+/)) t = substr($0, RSTART + 14, RLENGTH - 14)
			if (match($0, /"run_cnt":[0-9]+/)) c = substr($0, RSTART + 10, RLENGTH - 10)
			print t, c }'
}

# One measurement: ft-gen's traffic with bpf_stats on; prints ns per packet and the count.
measure() {
	# shellcheck disable=SC2046 # two numbers
	set -- $(prog_stats "$PIN/ft_xdp")
	t0=$1 c0=$2
	sysctl -qw kernel.bpf_stats_enabled=1
	"$GEN" --netns "$FT_GEN_NS" --dev "$FT_GEN_DEV" --dst-mac "$FT_GEN_DST_MAC" \
		--flows "$FLOWS" --alpha 1.0 --rate "$RATE" --duration "$SECS" --seed 1 --udp-reply >&2
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	# shellcheck disable=SC2046
	set -- $(prog_stats "$PIN/ft_xdp")
	awk -v t="$(($1 - t0))" -v c="$(($2 - c0))" \
		'BEGIN { if (c > 0) printf "%.1f ns/packet (%d packets", t / c, c; else printf "no packets (0" }'
}

"$TB" up "$P" >&2
eval "$("$TB" env "$P")"

start_ft --offload none
echo "e2e: offload off: $(measure), $FLOWS flows, zipf 1.0, $RATE pps for $SECS s)"
stop_ft

nsenter --net="/run/netns/$FT_NIC_NS" ip link set dev "$FT_NIC_IN" xdp off
"$EMU" attach --netns "$FT_NIC_NS" --dev "$FT_NIC_IN" --to-host "$FT_NIC_HOST" --to-sink "$FT_NIC_SINK" \
	--host-mac "$FT_NIC_HOST_MAC" --sink-mac "$FT_NIC_SINK_MAC" --capacity "$CAP" --pin-dir "$EMU_PIN" >&2
start_ft --offload emu --emu-pin-dir "$EMU_PIN" --offload-min-pps 20
hw0=$("$EMU" stats --pin-dir "$EMU_PIN" | awk '$1 == "dropped" || $1 == "redirected" { s += $2 } END { print s + 0 }')
m=$(measure)
hw=$(($("$EMU" stats --pin-dir "$EMU_PIN" | awk '$1 == "dropped" || $1 == "redirected" { s += $2 } END { print s + 0 }') - hw0))
echo "e2e: offload on: $m in software; $hw in the emulated NIC of $CAP rules; same traffic)"
