#!/bin/sh
# A real Prometheus server (Debian's package) scrapes flowtier's /metrics,
# and its query API must return the packet count this test sent.
#
# Usage: tests/prometheus.sh [path/to/flowtier]
#
# Two namespaces joined by a veth pair; the serving command runs in the
# second one (B) on interface b0, and so do Prometheus and every HTTP
# request: every port is private to B. Seven UDP datagrams go from A to B
# on one socket, dropped in B by a verdict rule; Prometheus must then
# report 7 dropped packets of the original direction, 7 drop verdicts,
# and 7 packets for that flow's own series.
#
# FT_METRICS_SERVE is the command that attaches the datapath to @IFACE@,
# pinned in @PIN@, and serves /metrics on @LISTEN@ until SIGTERM: flowtier
# run, with a control socket of the test's own (@SOCK@).
set -eu

FT_BIN=${1:-${FT_BIN:-build/flowtier}}
SERVE=${FT_METRICS_SERVE:-"$FT_BIN run -i @IFACE@ --pin-dir @PIN@ --socket @SOCK@ --offload none --metrics @LISTEN@ --metrics-top 10"}
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
A=ftm-prom-a-$$
B=ftm-prom-b-$$
PIN=/sys/fs/bpf/ftm-prom-$$
METRICS=127.0.0.1:9469
PROM=127.0.0.1:9090
SENT=7
T=$(mktemp -d /tmp/ftm-prom.XXXXXX)
serve_pid=
prom_pid=

say() { echo "prometheus.sh: $*" >&2; }
fail() {
	say "FAIL: $*"
	exit 1
}

# Ends a process this test started: TERM, then KILL after 5 s.
end() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

cleanup() {
	end "$prom_pid"
	end "$serve_pid"
	# Unloaded where it was attached; --force for a namespace already gone.
	nsenter --net="/run/netns/$B" "$FT_BIN" unload --pin-dir "$PIN" >/dev/null 2>&1 ||
		"$FT_BIN" unload --force --pin-dir "$PIN" >/dev/null 2>&1 || true
	ip netns del "$A" 2>/dev/null || true
	ip netns del "$B" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# In a namespace without leaving this mount namespace (ip netns exec would hide /sys/fs/bpf).
in_ns() {
	ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# GET on B's loopback; the body on stdout.
get() { in_ns "$B" curl -sf --max-time 5 "$@"; }

# One instant query; prints the first result's value, or nothing.
query() {
	get --get --data-urlencode "query=$1" "http://$PROM/api/v1/query" |
		jq -r '.data.result[0].value[1] // empty'
}

# Waits until query $1 returns $2 (at most 30 s); fails with what it got.
expect_value() {
	got=
	for _ in $(seq 60); do
		got=$(query "$1" || true)
		[ "$got" = "$2" ] && return 0
		sleep 0.5
	done
	fail "Prometheus returns '$got' for $1, expected $2"
}

[ -x "$PROMETHEUS" ] || fail "no $PROMETHEUS: install Debian's prometheus package (make deps)"

ip netns add "$A"
ip netns add "$B"
# No IPv6: its link-local chatter (router solicitations, MLD) would be tracked too.
for ns in "$A" "$B"; do
	in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	in_ns "$ns" ip link set lo up
done
ip link add a0 netns "$A" type veth peer name b0 netns "$B"
in_ns "$A" ip addr add 198.18.0.1/24 dev a0
in_ns "$B" ip addr add 198.18.0.2/24 dev b0
in_ns "$A" ip link set a0 up
in_ns "$B" ip link set b0 up

cmd=$(printf '%s' "$SERVE" | sed -e "s|@IFACE@|b0|g" -e "s|@PIN@|$PIN|g" -e "s|@LISTEN@|$METRICS|g" \
	-e "s|@SOCK@|$T/ctl.sock|g")
say "serving: $cmd"
# nsenter itself, not a function, in the background: $! is then the server's pid.
# shellcheck disable=SC2086
nsenter --net="/run/netns/$B" $cmd 2>"$T/serve.log" &
serve_pid=$!
for _ in $(seq 40); do
	get -o /dev/null "http://$METRICS/metrics" && break
	kill -0 "$serve_pid" 2>/dev/null || fail "the server ended: $(cat "$T/serve.log")"
	sleep 0.5
done
get -o /dev/null "http://$METRICS/metrics" || fail "no /metrics on $METRICS: $(cat "$T/serve.log")"

"$FT_BIN" rule add --pin-dir "$PIN" --verdict drop --proto udp --dport 5000 >/dev/null
# One socket, so one flow: SENT datagrams of one byte.
in_ns "$A" bash -c "exec 3>/dev/udp/198.18.0.2/5000; for i in \$(seq $SENT); do printf x >&3; done"

# The served text itself passes promtool.
get "http://$METRICS/metrics" >"$T/metrics.prom"
promtool check metrics <"$T/metrics.prom" >"$T/promtool.out" 2>&1 ||
	fail "promtool check metrics: $(cat "$T/promtool.out")"
[ -s "$T/promtool.out" ] && fail "promtool check metrics complains: $(cat "$T/promtool.out")"

cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: flowtier
    static_configs:
      - targets: ['$METRICS']
EOF
nsenter --net="/run/netns/$B" "$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/data" \
	--web.listen-address="$PROM" --log.level=warn >"$T/prometheus.log" 2>&1 &
prom_pid=$!

expect_value 'up{job="flowtier"}' 1
expect_value 'flowtier_flow_packets{direction="original",verdict="drop",tier="software"}' "$SENT"
expect_value 'flowtier_verdicts_total{verdict="drop"}' "$SENT"
expect_value 'flowtier_top_flow_packets_total{src="198.18.0.1",dst="198.18.0.2",dport="5000",proto="udp"}' "$SENT"
expect_value 'flowtier_flow_packets{direction="original",verdict="pass",tier="software"}' 0
say "Prometheus reports the $SENT packets sent"
