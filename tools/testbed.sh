#!/bin/bash
# The four-namespace testbed: generator -> emulated NIC -> host -> sink.
#
#   tools/testbed.sh up [PREFIX]     build it (removing a previous one first)
#   tools/testbed.sh down [PREFIX]   remove it; does nothing when it is absent
#   tools/testbed.sh env [PREFIX]    print its names as shell assignments
#
# PREFIX (default ft) names the namespaces PREFIX-gen, PREFIX-nic, PREFIX-host,
# PREFIX-sink and the sink's pin folder /sys/fs/bpf/PREFIX-sink. Interfaces
# are named for the namespace they lead to:
#
#   gen:nic ---- nic:gen   nic:host ---- host:nic   host:sink ---- sink:host
#                nic:sink ------------------------------------------ sink:nic
#
# Link n's ends have MACs 02:00:00:00:0n:01 / 02:00:00:00:0n:02 and addresses
# 198.19.(249+n).1/24 / .2 and 2001:db8:ff:n::1/64 / ::2 (n: 1 gen-nic,
# 2 nic-host, 3 host-sink, 4 nic-sink). Flows use 198.18.0.0/16,
# 198.19.0.0/24, 2001:db8:1::/64 and 2001:db8:2::/64 (see ft-gen); nic and
# host route all of 198.18.0.0/15 and 2001:db8::/32 onward to the sink, with
# static neighbours, so no ARP or neighbour discovery is needed.
#
# XDP: the receiving end of a veth needs an XDP program for XDP frames to be
# redirected into it. nic:gen and host:nic get ft-sink's pass program:
#   - nic:gen is the emulated NIC's hook: its XDP program replaces the pass
#     program; unmatched packets go on to the host (XDP_PASS, routed to
#     nic:host, or redirected into nic:host), redirected ones into nic:sink.
#   - host:nic is flowtier's hook (XDP; redirect verdicts to host:sink).
# sink:host and sink:nic get the sink counter (ft-sink attach), counters
# pinned under /sys/fs/bpf/PREFIX-sink; read them with ft-sink read --pin.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
FT_SINK=${FT_SINK:-$root/build/ft-sink}

usage() {
	echo "usage: testbed.sh up|down|env [PREFIX]   (PREFIX: letters, digits, '-'; default ft)" >&2
	exit 2
}

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
cmd=$1
P=${2:-ft}
case "$P" in
'' | *[!a-zA-Z0-9-]*) usage ;;
esac
[ ${#P} -le 24 ] || usage
G=$P-gen N=$P-nic H=$P-host S=$P-sink
PIN=/sys/fs/bpf/$P-sink

mac() { printf '02:00:00:00:%02x:%02x' "$1" "$2"; }
ip4() { echo "198.19.$((249 + $1)).$2"; }
ip6() { echo "2001:db8:ff:$1::$2"; }

print_env() {
	cat <<EOT
FT_GEN_NS=$G FT_GEN_DEV=nic FT_GEN_DST_MAC=$(mac 1 2)
FT_NIC_NS=$N FT_NIC_IN=gen FT_NIC_HOST=host FT_NIC_SINK=sink
FT_NIC_HOST_MAC=$(mac 2 2) FT_NIC_SINK_MAC=$(mac 4 2)
FT_HOST_NS=$H FT_HOST_IN=nic FT_HOST_SINK=sink FT_HOST_SINK_MAC=$(mac 3 2)
FT_SINK_NS=$S FT_SINK_PIN=$PIN
EOT
}

down() {
	local ns
	for ns in $G $N $H $S; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -f "$PIN/sink_flows" "$PIN/sink_ports"
	[ ! -d "$PIN" ] || rmdir "$PIN"
}

# link N NS_A DEV_A NS_B DEV_B: a veth pair with link N's MACs and addresses.
link() {
	local n=$1 a=$2 da=$3 b=$4 db=$5
	ip -n "$a" link add "$da" address "$(mac "$n" 1)" type veth \
		peer name "$db" address "$(mac "$n" 2)" netns "$b"
	ip -n "$a" addr add "$(ip4 "$n" 1)/24" dev "$da"
	ip -n "$b" addr add "$(ip4 "$n" 2)/24" dev "$db"
	ip -n "$a" -6 addr add "$(ip6 "$n" 1)/64" dev "$da" nodad
	ip -n "$b" -6 addr add "$(ip6 "$n" 2)/64" dev "$db" nodad
	ip -n "$a" link set "$da" up
	ip -n "$b" link set "$db" up
}

# No IPv6 link-local addresses, router solicitations or DAD on the links to
# come: the kernel then sends nothing of its own (MLD reports, solicitations),
# so every packet in the testbed is generated and counts are exact.
quiet_ipv6() {
	local key
	for key in addr_gen_mode=1 router_solicitations=0 accept_dad=0; do
		ip netns exec "$1" sysctl -qw "net.ipv6.conf.default.$key"
	done
}

# forward NS DEV N: route every flow address out of DEV to link N's far end.
forward() {
	local ns=$1 dev=$2 n=$3 key
	for key in net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
		net.ipv4.conf.all.send_redirects=0; do
		ip netns exec "$ns" sysctl -qw "$key"
	done
	for key in $(ip netns exec "$ns" ls /proc/sys/net/ipv4/conf); do
		ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$key.rp_filter=0"
	done
	ip -n "$ns" neigh replace "$(ip4 "$n" 2)" lladdr "$(mac "$n" 2)" dev "$dev" nud permanent
	ip -n "$ns" neigh replace "$(ip6 "$n" 2)" lladdr "$(mac "$n" 2)" dev "$dev" nud permanent
	ip -n "$ns" route add 198.18.0.0/15 via "$(ip4 "$n" 2)" dev "$dev"
	ip -n "$ns" -6 route add 2001:db8::/32 via "$(ip6 "$n" 2)" dev "$dev"
}

up() {
	local ns
	[ -x "$FT_SINK" ] || {
		echo "testbed.sh: $FT_SINK is missing; run make first (or set FT_SINK)" >&2
		exit 2
	}
	down
	trap 'echo "testbed.sh: setting up failed; removing what was built" >&2; down' ERR
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
	for ns in $G $N $H $S; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
		quiet_ipv6 "$ns"
	done
	link 1 "$G" nic "$N" gen
	link 2 "$N" host "$H" nic
	link 3 "$H" sink "$S" host
	link 4 "$N" sink "$S" nic
	forward "$N" host 2
	forward "$H" sink 3
	"$FT_SINK" pass --netns "$N" gen
	"$FT_SINK" pass --netns "$H" nic
	"$FT_SINK" attach --netns "$S" --pin "$PIN" host nic
	trap - ERR
	print_env
}

case "$cmd" in
up) up ;;
down) down ;;
env) print_env ;;
*) usage ;;
esac
