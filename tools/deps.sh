#!/bin/sh
# Installs the Debian packages flowtier needs; does nothing when all are present.
set -eu
PKGS="clang make gcc libc6-dev bpftool libbpf-dev libelf-dev zlib1g-dev libcriterion-dev iproute2 iputils-ping
libclang-rt-14-dev qemu-system-x86 busybox-static cpio libmnl-dev libmicrohttpd-dev libxdp-dev strace prometheus jq curl"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing; run 'make deps' as root to install them" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
