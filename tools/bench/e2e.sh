#!/bin/sh
# End to end on the testbed (tools/testbed.sh, ft-gen): the software tier's run time per packet
# as the kernel's bpf_stats count it (run_time_ns / run_cnt of flowtier's XDP program), while
# ft-gen sends a Zipf mix through the emulated NIC's port to the host.
# Usage: tools/bench/e2e.sh OUT (the build folder). Prints one line per mode:
#   e2e: offload off: N ns/packet (...)
#   e2e: offload on: N ns/packet (...) | not run: WHY
# Environment: FT_TESTBED (default tools/testbed.sh), FT_GEN (OUT/ft-gen), FT_E2E_PREFIX (ftbe),
# FT_E2E_FLOWS (20000), FT_E2E_RATE (100000 pps), FT_E2E_SECONDS (10).
# kernel.bpf_stats_enabled is system-wide: it is on only while ft-gen sends, then set back.
set -eu
OUT=${1:-build}
TB=${FT_TESTBED:-tools/testbed.sh}
GEN=${FT_GEN:-$OUT/ft-gen}
FT=$OUT/flowtier
P=${FT_E2E_PREFIX:-ftbe}
PIN=/sys/fs/bpf/$P-ft
FLOWS=${FT_E2E_FLOWS:-20000}
RATE=${FT_E2E_RATE:-100000}
SECS=${FT_E2E_SECONDS:-10}
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)

cleanup() {
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS" || true
	"$FT" unload --pin-dir "$PIN" > /dev/null 2>&1 || true
	"$TB" down "$P" || true
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
		--flows "$FLOWS" --alpha 1.0 --rate "$RATE" --duration "$SECS" --seed 1 >&2
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	# shellcheck disable=SC2046
	set -- $(prog_stats "$PIN/ft_xdp")
	awk -v t="$(($1 - t0))" -v c="$(($2 - c0))" \
		'BEGIN { if (c > 0) printf "%.1f ns/packet (%d packets", t / c, c; else printf "no packets (0" }'
}

"$TB" up "$P" >&2
eval "$("$TB" env "$P")"
"$FT" load --conns 262144 --pin-dir "$PIN" >&2
nsenter --net="/run/netns/$FT_HOST_NS" ip -force link set dev "$FT_HOST_IN" xdpdrv pinned "$PIN/ft_xdp"

echo "e2e: offload off: $(measure), $FLOWS flows, zipf 1.0, $RATE pps for $SECS s)"
# Offload on needs the daemon driving the emulated NIC (flowtier run with the emu backend).
echo "e2e: offload on: not run: needs the daemon (flowtier run) driving the emulated NIC"
