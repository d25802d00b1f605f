#!/usr/bin/env bash
# setup.sh — the two set-up commands on a fresh Debian 12: install what is missing, build
# (the C programs, and the dashboard's libraries through npm), then either run the service
# (./setup.sh run [server options]) or test (./setup.sh test, which needs Chromium too).
# ./setup.sh bench also installs wrk and curl and runs every benchmark.
set -euo pipefail
cd "$(dirname "$0")"

BUILD_PKGS=(build-essential pkg-config libjansson-dev libmicrohttpd-dev libsqlite3-dev openmpi-bin libopenmpi-dev libhwloc-dev)
TEST_PKGS=(libcriterion-dev nodejs chromium clang libclang-rt-14-dev python3-torch openssh-server openssh-client iproute2 sqlite3)
# The Python routes (programs/): Debian's python3 and the packages the teaching material
# names; python3-dev and cython3 build the Cython and pybind11 extensions (make programs).
# PyTorch (python3-torch, 156 packages, about a minute) only for the tests (its routes are tested
# where it is installed); `apt-get install python3-torch` adds it to a service (README).
PY_PKGS=(python3 python3-dev python3-numpy python3-joblib python3-numba cython3 python3-pybind11
         python3-dask python3-distributed python3-mpi4py)
BENCH_PKGS=(wrk curl hyperfine)
# make runs npm ci for the dashboard's libraries (static/vendor/). Debian's npm conflicts with
# a nodejs that brings its own npm (NodeSource's): ask for the packages only when npm is missing.
NPM_PKGS=()
command -v npm >/dev/null 2>&1 || NPM_PKGS=(nodejs npm)

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
    install "${BUILD_PKGS[@]}" "${NPM_PKGS[@]}" "${PY_PKGS[@]}"
    make -j"$jobs"
    exec build/bin/scalelab-server "$@"
    ;;
test)
    install "${BUILD_PKGS[@]}" "${NPM_PKGS[@]}" "${TEST_PKGS[@]}" "${PY_PKGS[@]}"
    make -j"$jobs"
    # test-multihost takes ~15 s (two namespaces with sshd, an mpi sweep across them); it
    # says "skipped" where namespaces cannot be made (not root, a locked-down container)
    exec make test test-multihost
    ;;
bench)
    install "${BUILD_PKGS[@]}" "${NPM_PKGS[@]}" "${BENCH_PKGS[@]}" "${PY_PKGS[@]}"
    make -j"$jobs"
    exec make bench
    ;;
*)
    echo "usage: ./setup.sh run [server options] | ./setup.sh test | ./setup.sh bench" >&2
    exit 2
    ;;
esac
