#!/bin/sh
# Inside the VM (run by the initramfs' init after the tc backend's check):
# flowtier's controller with the tc flower backend (skip_hw: software flower
# stands in for the NIC) on a veth that ft-gen sends into. Prints sections
# between "FTV-BEGIN name" and "FTV-END name" on the console; tests/vm/
# check_flows.sh compares them on the host. "FTV-FAIL: ..." names a step
# that failed here.
#
# Topology, all in the VM's root network namespace (named ftv-root for
# ft-gen and ft-sink, which enter a namespace by name):
#   ft-gen -> ftvb ==veth== ftva: clsact ingress: flower (prio 15, 16), then
#                                 flowtier's TC program (prio 0x4654)
#             ftvc ==veth== ftvd: where TCP's redirect verdict sends packets
# flowtier runs with --xdp-mode off: its XDP program would see packets before
# flower and apply the verdict itself. ft-sink's XDP_PASS program stays on
# ftva, because a veth only takes XDP-redirected frames (ft-gen's) while
# its receiving end runs an XDP program.
IP=/usr/sbin/ip
TC=/usr/sbin/tc
FT=/flowtier
PIN=/sys/fs/bpf/ftv
SOCK=/run/ftv.sock
MAC=02:00:00:00:76:01
CAP=4
RUN_ARGS="-i ftva --xdp-mode off --conns 65536 --pin-dir $PIN --socket $SOCK --interval 0.5
	--half-life 0.5 --offload tc --tc-flags skip_hw --tc-capacity $CAP --hw-stats-lag 0
	--offload-min-age 0.5 --offload-dwell 1 --offload-idle 60 --metrics off"
# 24 flows, 3000 data packets/s, the hot set permuted at 8 s: about 7 flows
# over the 100 pps candidates need, for 4 rules.
GEN_ARGS="--netns ftv-root --dev ftvb --dst-mac $MAC --flows 24 --alpha 1 --rate 3000
	--duration 14 --shift 7 --seed 3 --udp-reply --cpu 0 --slice-ms 20"

fail() {
	echo "FTV-FAIL: $*"
	echo "FTV_EXIT=1"
	exit 1
}

section() {
	name=$1
	shift
	echo "FTV-BEGIN $name"
	"$@" 2>&1
	echo "FTV-END $name"
}

start_controller() {
	# shellcheck disable=SC2086
	$FT run $RUN_ARGS 2>>/run/ftv-run.log &
	echo $! >/run/ftv-run.pid
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		$FT status --json --socket $SOCK >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	cat /run/ftv-run.log
	fail "the controller did not answer on $SOCK within 10 s"
}

stop_controller() {
	kill "$(cat /run/ftv-run.pid)"
	wait "$(cat /run/ftv-run.pid)"
}

# No IPv6: its neighbour discovery and MLD would add packets nobody generated.
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
# iproute2 keeps named namespaces in /run/netns, ft-gen looks in /var/run/netns.
mkdir -p /run/netns /var && ln -sfn /run /var/run
$IP netns attach ftv-root 1 || fail "ip netns attach"
$IP link add ftva type veth peer name ftvb && $IP link add ftvc type veth peer name ftvd ||
	fail "cannot create the veth pairs"
$IP link set ftva address $MAC || fail "ip link set address"
for d in ftva ftvb ftvc ftvd; do
	$IP link set "$d" up || fail "cannot set $d up"
done
/ft-sink pass --netns ftv-root ftva || fail "ft-sink pass on ftva"

$FT load --conns 65536 --pin-dir $PIN >/dev/null 2>&1 || fail "flowtier load"
$FT rule add --pin-dir $PIN --verdict redirect --dev ftvc --proto tcp || fail "rule add redirect"
$FT rule add --pin-dir $PIN --verdict drop --proto udp || fail "rule add drop"
start_controller
section filters-idle $TC filter show dev ftva ingress

# shellcheck disable=SC2086
/ft-gen $GEN_ARGS --truth /run/truth.csv >/run/gen.out 2>&1 &
GEN=$!
sleep 5
section tc-during-1 $TC -s filter show dev ftva ingress
section status-before-shift $FT status --json --socket $SOCK
sleep 1
section tc-during-2 $TC -s filter show dev ftva ingress
# The controller's rules and the kernel's, at a moment the controller did not
# change them (the same rules before and after tc's listing).
rules() { sed 's/"packets":[0-9]*,"bytes":[0-9]*,"lastuse_ms":[0-9]*//g' "$1"; }
for _ in 1 2 3 4 5; do
	$FT offload --json --socket $SOCK >/run/o1 2>&1
	$TC -s filter show dev ftva ingress >/run/t 2>&1
	$FT offload --json --socket $SOCK >/run/o2 2>&1
	[ "$(rules /run/o1)" = "$(rules /run/o2)" ] && break
done
section offload-during cat /run/o1
section tc-during cat /run/t
# A restart under traffic, past the shift: the new controller adopts rules
# whose counters moved while no controller ran; the exact totals below show it.
sleep 3.5
section status-after-shift $FT status --json --socket $SOCK
stop_controller
start_controller
wait $GEN || { cat /run/gen.out; fail "ft-gen failed"; }
section gen cat /run/gen.out
if [ -x /usr/sbin/ethtool ]; then
	section veth-stats sh -c '/usr/sbin/ethtool -S ftvb; /usr/sbin/ethtool -S ftva'
fi
# Traffic stopped: a few intervals for the last counters (--hw-stats-lag 0).
sleep 3
section offload-1 $FT offload --json --socket $SOCK
section tc-1 $TC -s filter show dev ftva ingress
section flows $FT flows --json --top 1000 --sort packets --pin-dir $PIN --socket $SOCK
section status-1 $FT status --json --socket $SOCK
section truth cat /run/truth.csv

# A restarted controller adopts the rules in place.
stop_controller
start_controller
sleep 2
section offload-2 $FT offload --json --socket $SOCK
section tc-2 $TC -s filter show dev ftva ingress
section status-2 $FT status --json --socket $SOCK
stop_controller
section run-log cat /run/ftv-run.log

section unload $FT unload --pin-dir $PIN
section tc-3 $TC filter show dev ftva ingress
section tc-3-egress $TC filter show dev ftva egress
section pins-after-unload sh -c "[ ! -e $PIN ] || ls -A $PIN"
echo "FTV_EXIT=0"
