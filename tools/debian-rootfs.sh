#!/usr/bin/env bash
# debian-rootfs.sh — a minimal Debian 12 (bookworm) root file system as a tarball, made once
# with debootstrap and cached: the starting point of `make test-fresh` (a fresh machine) and
# of `make test-docker` (the base image). Usage: tools/debian-rootfs.sh [OUT.tar]
# Prints the tarball's path, and only that, on stdout: callers read it with $(...), so
# everything else (apt-get's and debootstrap's progress) goes to stderr. Needs root and
# Debian's package mirror.
set -euo pipefail
exec 3>&1 1>&2 # stdout is for the path alone (see the last line); the rest is a log
out="${1:-${SCALELAB_ROOTFS:-/var/tmp/scalelab/bookworm-rootfs.tar}}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9 # one debootstrap at a time; later callers reuse its tarball
if [ ! -s "$out" ]; then
    command -v debootstrap >/dev/null || {
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
    }
    dir="$(mktemp -d /var/tmp/scalelab/rootfs.XXXXXX)"
    trap 'rm -rf "$dir"' EXIT
    echo "debian-rootfs: debootstrap bookworm into $dir (a few minutes)" >&2
    debootstrap --variant=minbase bookworm "$dir" "$mirror" >&2
    # apt inside must reach the same mirror and security updates as this host.
    printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
        "$mirror" "$mirror" >"$dir/etc/apt/sources.list"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    # Two commands, not `tar && mv`: set -e must stop here if tar fails.
    tar -C "$dir" -cf "$out.tmp" .
    mv "$out.tmp" "$out"
fi
echo "$out" >&3
