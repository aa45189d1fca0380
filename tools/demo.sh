#!/bin/bash
# The demo as far as flowtier goes today: the software tier on a real veth
# pair between two network namespaces, with real packets. The controller,
# the offload tier and the full testbed arrive with their issues.
#
# Usage: tools/demo.sh path/to/flowtier
set -euo pipefail
FT=${1:-build/flowtier}
A=ftdemo-a
B=ftdemo-b
PIN=/sys/fs/bpf/flowtier-demo

cleanup() {
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	"$FT" unload --pin-dir "$PIN" >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup

in_ns() { # run in a namespace without leaving this mount namespace (keeps /sys/fs/bpf)
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

echo "== two namespaces joined by a veth pair (198.18.0.0/24, 2001:db8::/64)"
ip netns add "$A"
ip netns add "$B"
ip link add a0 netns "$A" type veth peer name b0 netns "$B"
in_ns "$A" ip addr add 198.18.0.1/24 dev a0
in_ns "$B" ip addr add 198.18.0.2/24 dev b0
in_ns "$A" ip addr add 2001:db8::1/64 dev a0 nodad
in_ns "$B" ip addr add 2001:db8::2/64 dev b0 nodad
in_ns "$A" ip link set a0 up
in_ns "$B" ip link set b0 up

echo "== flowtier load: the datapath, pinned in $PIN"
"$FT" load --conns 65536 --pin-dir "$PIN"
echo "== attach: XDP on b0's ingress, TC on b0's egress (replies)"
in_ns "$B" ip link set dev b0 xdpdrv pinned "$PIN/ft_xdp"
in_ns "$B" tc qdisc add dev b0 clsact
in_ns "$B" tc filter add dev b0 egress bpf direct-action pinned "$PIN/ft_tc_egress"

echo "== traffic from $A to $B"
in_ns "$A" ping -q -c 5 -i 0.2 198.18.0.2 >/dev/null
in_ns "$A" ping -q -c 3 -i 0.2 2001:db8::2 >/dev/null
for i in 1 2 3 4; do
	in_ns "$A" bash -c "echo datagram-$i > /dev/udp/198.18.0.2/5353"
done
# A closed port answers the SYN with a RST: a TCP connection that opens and closes.
in_ns "$A" bash -c "exec 3<>/dev/tcp/198.18.0.2/8080" 2>/dev/null || true

echo
echo "== flowtier ct: one entry per connection, both directions counted"
"$FT" ct --pin-dir "$PIN"
echo
echo "== the same maps seen by bpftool (named fields):"
bpftool map dump pinned "$PIN/ft_stats" | grep -E '"cpu"|"packets"|"verdict"|"created"' | head -12
