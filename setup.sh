#!/usr/bin/env bash
# setup.sh — the two set-up commands on a fresh Debian 12: install what is missing, build,
# then either run (./setup.sh run [WORKLOAD [engine options]]) or test (./setup.sh test).
set -euo pipefail
cd "$(dirname "$0")"

BUILD_PKGS=(build-essential pkg-config libjansson-dev)
TEST_PKGS=(libcriterion-dev)

# Install the Debian packages that are not installed yet (apt-get update only when needed).
install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    echo "setup: installing ${missing[*]}" >&2
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

jobs=$(nproc 2>/dev/null || echo 2)
case "${1:-}" in
run)
    shift
    install "${BUILD_PKGS[@]}"
    make -j"$jobs"
    [ $# -eq 0 ] && set -- pi --backends serial,simd,threads,processes,pool,openmp
    exec build/bin/scalelab-engine run "$@"
    ;;
test)
    install "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
    make -j"$jobs"
    exec make test
    ;;
*)
    echo "usage: ./setup.sh run [WORKLOAD [options]] | ./setup.sh test" >&2
    exit 2
    ;;
esac
