#!/bin/sh
# make demo, short: tools/demo.sh for 15 s with 2,000 flows into a 64-rule emulated NIC. Its
# exit status must be 0, its summary must show both conservation checks holding with exact
# numbers (sent = hardware + software + dropped; sent = sink + NIC drops + flowtier drops),
# the sent count must be the ground truth's, hardware and both drop paths must have handled
# packets, and nothing of the demo may be left behind (namespaces, pins, processes).
#
# Usage: tests/demo.sh [path/to/flowtier]   (its folder holds emu-nic, ft-gen, ft-sink)
set -eu

FT_BIN=${1:-${FT_BIN:-build/flowtier}}
OUT=$(dirname "$FT_BIN")
P=ftd-demo
T=$(mktemp -d /tmp/ftd-demo.XXXXXX)

say() { echo "demo.sh: $*" >&2; }
fail() {
	say "FAIL: $*"
	exit 1
}
cleanup() {
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# One figure of the summary file.
val() { sed -n "s/^$1=//p" "$T/summary"; }

rc=0
DEMO_PREFIX=$P DEMO_SECONDS=15 DEMO_FLOWS=2000 DEMO_RATE=50000 DEMO_CAPACITY=64 \
	DEMO_METRICS=127.0.0.1:9479 DEMO_SUMMARY="$T/summary" DEMO_KEEP="$T/run" \
	bash tools/demo.sh "$OUT" > "$T/demo.out" 2>&1 || rc=$?
cat "$T/demo.out"
[ "$rc" -eq 0 ] || fail "tools/demo.sh exited with $rc"
[ -s "$T/summary" ] || fail "no summary written"

[ "$(val conservation)" = holds ] || fail "conservation: $(val conservation)"
[ "$(val delivery)" = holds ] || fail "delivery: $(val delivery)"
sent=$(val sent) hw=$(val hardware) sw=$(val software) dropped=$(val dropped)
truth=$(awk -F, '!/^#/ && $1 != "flow" { s += $10 + $12 } END { print s + 0 }' "$T/run/truth.csv")
[ "$sent" -eq "$truth" ] || fail "sent $sent, the ground truth says $truth"
[ "$sent" -gt 0 ] || fail "nothing sent"
[ "$sent" -eq $((hw + sw + dropped)) ] || fail "$sent != $hw + $sw + $dropped"
sk_nic=$(val sink_from_nic) sk_host=$(val sink_from_host) nic_drop=$(val nic_dropped) ft_drop=$(val ft_drop)
[ "$sent" -eq $((sk_nic + sk_host + nic_drop + ft_drop)) ] ||
	fail "delivery: $sent != $sk_nic + $sk_host + $nic_drop + $ft_drop"
[ "$(val nic_received)" -eq "$sent" ] || fail "the NIC received $(val nic_received) of $sent"
[ "$hw" -gt 0 ] || fail "hardware handled no packet"
[ "$(val nic_dropped)" -gt 0 ] || fail "the NIC's drop rules dropped nothing"
[ "$(val ft_drop)" -gt 0 ] || fail "flowtier's drop verdicts dropped nothing"
[ "$(val sink_from_nic)" -eq "$(val nic_redirected)" ] || fail "sink from NIC $(val sink_from_nic) != NIC redirected $(val nic_redirected)"
grep -q "^  conservation: sent = hardware + software + dropped: $sent = $hw + $sw + $dropped: holds\$" "$T/demo.out" ||
	fail "the printed summary does not show the conservation line"
grep -q "^  delivery: sent = sink + NIC drops + flowtier drops: $sent = $sk_nic + $sk_host + $nic_drop + $ft_drop: holds\$" "$T/demo.out" ||
	fail "the printed summary does not show the delivery line"

for ns in gen nic host sink; do
	! ip netns list | grep -q "^$P-$ns\\b" || fail "namespace $P-$ns left behind"
done
for d in ft emu sink; do
	[ ! -e "/sys/fs/bpf/$P-$d" ] || fail "/sys/fs/bpf/$P-$d left behind"
done
! pgrep -f -- "--pin-dir /sys/fs/bpf/$P-ft" > /dev/null || fail "flowtier run left running"
say "conservation exact: $sent = $hw (hardware) + $sw (software) + $dropped (dropped)"
