#!/bin/sh
# Boots Debian 12's own kernel (the linux-image-amd64 package, 6.1 LTS)
# under qemu with a busybox initramfs holding flowtier, and checks that the
# datapath passes that kernel's verifier with room to spare, and that the
# tc flower backend adds, dumps and deletes real flower rules there
# (ft-tc-check, checked against iproute2's tc).
#
# usage: tests/vm/run.sh path/to/flowtier
#   FT_VM_CACHE  where the unpacked kernel is kept between runs (build/vm)
#   FT_VM_BUDGET most verifier instructions a program may need (500000:
#                half of the kernel's limit, so that growth shows up here
#                before it stops the datapath from loading on Debian 12)
#   FT_TC_CHECK  the tc backend's check (ft-tc-check next to flowtier)
#   FT_GEN       the traffic generator (ft-gen next to flowtier; ft-sink beside it)
#   FT_VM_TIMEOUT seconds the VM may run before it counts as hung (420; a
#                whole run takes about 50 s here)
set -eu

BIN=${1:?usage: tests/vm/run.sh path/to/flowtier}
CACHE=${FT_VM_CACHE:-build/vm}
BUDGET=${FT_VM_BUDGET:-500000}
TC_CHECK=${FT_TC_CHECK:-$(dirname "$BIN")/ft-tc-check}
GEN=${FT_GEN:-$(dirname "$BIN")/ft-gen}
SINK=$(dirname "$GEN")/ft-sink
HERE=$(cd "$(dirname "$0")" && pwd)
TIMEOUT=${FT_VM_TIMEOUT:-420}

fail() {
	echo "vm: $*" >&2
	exit 1
}

for tool in qemu-system-x86_64 cpio apt-get dpkg-deb; do
	command -v "$tool" >/dev/null || fail "$tool is missing: run 'make deps'"
done
[ -x /bin/busybox ] || fail "/bin/busybox is missing: run 'make deps' (busybox-static)"
[ -x "$BIN" ] || fail "$BIN is not built"
[ -x "$TC_CHECK" ] || fail "$TC_CHECK is not built (make $TC_CHECK)"
[ -x "$GEN" ] && [ -x "$SINK" ] || fail "$GEN or $SINK is not built (make gen)"
for tool in tc ip; do
	command -v "$tool" >/dev/null || fail "$tool is missing: run 'make deps' (iproute2)"
done
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
TC_CHECK=$(cd "$(dirname "$TC_CHECK")" && pwd)/$(basename "$TC_CHECK")
GEN=$(cd "$(dirname "$GEN")" && pwd)/$(basename "$GEN")
SINK=$(cd "$(dirname "$SINK")" && pwd)/$(basename "$SINK")

# The modules the tc check and the scenario need; on Debian 12 none depends on
# another. cls_bpf holds flowtier's TC programs (a full system loads it on
# demand through modprobe, which the initramfs has not).
MODULES="net/sched/sch_ingress.ko net/sched/cls_flower.ko net/sched/act_gact.ko
net/sched/act_mirred.ko net/sched/cls_bpf.ko drivers/net/veth.ko"

# The kernel package linux-image-amd64 points to, unpacked once.
fetch_kernel() {
	pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$pkg" ] || fail "cannot tell which kernel linux-image-amd64 depends on (run apt-get update)"
	if ! ls "$CACHE/$pkg"/boot/vmlinuz-* >/dev/null 2>&1; then
		rm -rf "$CACHE/$pkg" "$CACHE"/*.deb
		(cd "$CACHE" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
			(apt-get update -q >/dev/null && cd "$CACHE" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >/dev/null) ||
			fail "cannot download $pkg"
		dpkg-deb -x "$CACHE/${pkg}"_*.deb "$CACHE/$pkg"
		rm -f "$CACHE"/*.deb
	fi
	ls "$CACHE/$pkg"/boot/vmlinuz-* | head -n1
}

# A program into the initramfs with the shared libraries it links, at their own paths.
copy_with_libs() {
	root=$1 prog=$2 dest=$3
	cp "$prog" "$root$dest"
	ldd "$prog" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# busybox, flowtier, the tc check, iproute2's tc and ip, and the kernel's modules.
build_initramfs() {
	root=$1 moddir=$2
	mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" "$root/modules"
	cp /bin/busybox "$root/bin/busybox"
	for applet in sh mount mkdir uname cat poweroff insmod; do
		ln -s busybox "$root/bin/$applet"
	done
	copy_with_libs "$root" "$BIN" /flowtier
	copy_with_libs "$root" "$TC_CHECK" /ft-tc-check
	copy_with_libs "$root" "$GEN" /ft-gen
	copy_with_libs "$root" "$SINK" /ft-sink
	cp "$HERE/scenario.sh" "$root/scenario.sh"
	mkdir -p "$root/usr/sbin"
	copy_with_libs "$root" "$(command -v tc)" /usr/sbin/tc
	copy_with_libs "$root" "$(command -v ip)" /usr/sbin/ip
	# Optional: the veths' own counters, to tell a frame the veth dropped from one flowtier missed.
	if command -v ethtool >/dev/null; then
		copy_with_libs "$root" "$(command -v ethtool)" /usr/sbin/ethtool
	fi
	for m in $MODULES; do
		[ -f "$moddir/kernel/$m" ] || fail "the kernel package has no $m"
		cp "$moddir/kernel/$m" "$root/modules/"
	done
	cat >"$root/init" <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /sys/fs/bpf
mount -t bpf bpf /sys/fs/bpf
echo "FT_KERNEL=$(uname -r)"
/flowtier check --conns 65536 --verifier-stats
echo "FT_EXIT=$?"
for m in /modules/*.ko; do
	insmod "$m" || echo "tc-check: FAIL: insmod $m"
done
# Full paths: busybox's sh prefers its own ip and tc applets.
IP=/usr/sbin/ip
up() { for d in "$@"; do $IP link set "$d" up || return 1; done; }
$IP link add ftta type veth peer name fttb && $IP link add fttc type veth peer name fttd &&
	up ftta fttb fttc fttd && /usr/sbin/tc qdisc add dev ftta clsact && FT_TC=/usr/sbin/tc /ft-tc-check ftta fttb fttc
echo "FT_TC_EXIT=$?"
sh /scenario.sh
poweroff -f
EOF
	chmod 755 "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet) | gzip >"$CACHE/initramfs.gz"
}

KERNEL=$(fetch_kernel)
MODDIR=$(ls -d "$(dirname "$(dirname "$KERNEL")")"/lib/modules/* | head -n1)
ROOT=$(mktemp -d)
trap 'rm -rf "$ROOT"' EXIT
build_initramfs "$ROOT" "$MODDIR"

LOG=$CACHE/console.log
rc=0
timeout "$TIMEOUT" qemu-system-x86_64 -m 1024 -smp 2 -cpu max -nographic -no-reboot \
	-kernel "$KERNEL" -initrd "$CACHE/initramfs.gz" \
	-append "console=ttyS0 panic=-1 quiet" </dev/null >"$LOG" 2>&1 || rc=$?
[ "$rc" -ne 124 ] || fail "the VM did not finish within ${TIMEOUT} s; last step begun: '$(tr -d '\r' <"$LOG" | grep -a -E '^(FT_|FTV-BEGIN|tc-check: )' | tail -n1)' (console: $LOG)"
grep -a -q 'FT_KERNEL=' "$LOG" || fail "the VM did not reach userspace (qemu exit $rc, console: $LOG)"

echo "vm: kernel $(grep -a -o 'FT_KERNEL=[^[:space:]]*' "$LOG" | cut -d= -f2)"
grep -a -E '^(ft_|processed|datapath loaded)' "$LOG" | sed 's/^/vm: /'
grep -a -q 'FT_EXIT=0' "$LOG" || fail "flowtier check failed inside the VM (console: $LOG)"
worst=$(grep -a -o 'processed [0-9]* insns' "$LOG" | awk '$2 > m { m = $2 } END { print m + 0 }')
[ "$worst" -gt 0 ] || fail "no verifier statistics in the console (console: $LOG)"
[ "$worst" -le "$BUDGET" ] ||
	fail "a program needs $worst verifier instructions on this kernel, over the budget of $BUDGET"
echo "vm: passed: the datapath loads, the costliest program needs $worst of $BUDGET instructions"
grep -a '^tc-check: ' "$LOG" | grep -v ':$' | sed 's/^/vm: /'
grep -a -q 'FT_TC_EXIT=0' "$LOG" && grep -a -q '^tc-check: passed' "$LOG" ||
	fail "the tc flower check failed inside the VM (console: $LOG)"
echo "vm: passed: the tc backend adds, dumps and deletes flower rules on $(grep -a -o 'FT_KERNEL=[^[:space:]]*' "$LOG" | cut -d= -f2)"
grep -a '^FTV-FAIL' "$LOG" | sed 's/^/vm: /' >&2 || true
grep -a -q 'FTV_EXIT=0' "$LOG" ||
	fail "the controller scenario (tests/vm/scenario.sh) failed inside the VM (console: $LOG)"
sh "$HERE/check_flows.sh" "$LOG" || fail "the controller scenario's results are wrong (console: $LOG)"
echo "vm: passed: flowtier run with the tc backend on $(grep -a -o 'FT_KERNEL=[^[:space:]]*' "$LOG" | cut -d= -f2): rules as tc lists them, exact counters, swaps, adoption, unload"
