#!/usr/bin/env bash
# test.sh — builds docker/Dockerfile with podman and checks the container as a user meets it
# (`make test-docker`; not part of `make test` or CI). Needs root, Debian's mirror and npm.
#
# The base image is made locally from tools/debian-rootfs.sh's debootstrap tarball (no
# registry is needed) and kept for later runs; the image, containers and volume made here
# are removed at the end (SCALELAB_DOCKER_KEEP=1 keeps the image). Each check prints PASS
# or FAIL; every wait is bounded; the exit status is 1 when a check failed.
#
# podman's defaults do not run everywhere: crun refuses a host with cgroups v1 and a v2
# hierarchy that still has controllers ("hybrid"), and a runtime may not raise the open-file
# and process limits that podman asks for without CAP_SYS_RESOURCE. So the first of these
# that starts a container is used: the default runtime or runc, with podman's default
# limits or with the host's own.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

BASE=localhost/debian-bookworm:scalelab
IMAGE=localhost/scalelab:test-$$
NAME=scalelab-test-$$
VOLUME=scalelab-test-$$
TOKEN="test-token-$$-$RANDOM"
STOP_TIMEOUT=10
SMALL_RUN='{"workload":"pi","params":{"samples":1e5},"backends":["serial","threads"],"cores":[1,2],"repeats":2,"warmup":0}'
MPI_RUN='{"workload":"pi","params":{"samples":1e6},"backends":["mpi"],"cores":[1,2],"repeats":2,"warmup":0}'
PY_RUN='{"programs":["py-pi-threading","py-pi-mp-pool","py-pi-numba","py-pi-cython"],"params":{"samples":2e5},"cores":[1,2],"repeats":1,"warmup":0}'
LONG_RUN='{"workload":"sleep","params":{"tasks":8,"us":100000},"backends":["threads"],"cores":[1],"repeats":600,"warmup":0}'

tmp="$(mktemp -d)"
passed=0
failed=0
pass() { echo "PASS  $*"; passed=$((passed + 1)); }
fail() { echo "FAIL  $*"; failed=$((failed + 1)); }
summary() { echo "test-docker: $passed passed, $failed failed"; }
# A failure that leaves nothing to check after it.
die() {
    fail "$*"
    summary
    exit 1
}

PODMAN_OPTS=() # global options, e.g. --runtime runc
RUN_OPTS=()    # options of every container this script starts (and of the build's RUN steps)
pm() { podman "${PODMAN_OPTS[@]}" "$@"; }

cleanup() {
    pm rm -f -v -t 0 "$NAME" "$NAME-notoken" >/dev/null 2>&1
    pm volume rm -f "$VOLUME" >/dev/null 2>&1
    if [ "${SCALELAB_DOCKER_KEEP:-0}" = 1 ]; then
        echo "test-docker: kept $IMAGE"
    else
        pm rmi -f "$IMAGE" >/dev/null 2>&1
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE # (the EXIT trap cleans up)

# --- helpers -------------------------------------------------------------------------------

# http METHOD PATH [BODY] [TOKEN]: sets $code (000 when nothing answered) and $body.
url=
http() {
    local args=(-s -o "$tmp/body" -w '%{http_code}' --max-time 10 -X "$1")
    [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data "$3")
    [ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
    code="$(curl "${args[@]}" "$url$2")" || code=000
    body="$(cat "$tmp/body" 2>/dev/null)"
}

# json PATH: a field of $body ("status", "measurements.length"); empty when absent.
json() {
    node -e '
        let v;
        try { v = JSON.parse(require("fs").readFileSync(0, "utf8")); } catch { process.exit(0); }
        for (const k of process.argv[1].split(".")) v = v == null ? undefined : v[k];
        if (v !== undefined) console.log(typeof v === "object" ? JSON.stringify(v) : String(v));
    ' "$1" <<<"$body"
}

# wait_status ID STATUS SECONDS: polls the run until it has STATUS; 0 when it did.
wait_status() {
    local end=$((SECONDS + $3))
    while [ "$SECONDS" -lt "$end" ]; do
        http GET "/api/runs/$1"
        [ "$(json status)" = "$2" ] && return 0
        sleep 0.5
    done
    return 1
}

# wait_healthy SECONDS: until GET /api/health answers 200 on the published port.
wait_healthy() {
    local end=$((SECONDS + $1))
    url="http://127.0.0.1:$(pm port "$NAME" 8080/tcp 2>/dev/null | sed -n '1s/.*://p')"
    while [ "$SECONDS" -lt "$end" ]; do
        http GET /api/health
        [ "$code" = 200 ] && return 0
        [ "$(pm inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ] || return 1
        sleep 0.5
    done
    return 1
}

# stop_clean WHAT: podman stop, then the exit code must be 0 and the stop quicker than the
# timeout (after it podman sends SIGKILL: 137).
stop_clean() {
    local t0=$SECONDS rc
    pm stop -t "$STOP_TIMEOUT" "$NAME" >/dev/null 2>&1
    rc="$(pm inspect -f '{{.State.ExitCode}}' "$NAME" 2>/dev/null)"
    if [ "$rc" = 0 ] && [ $((SECONDS - t0)) -lt "$STOP_TIMEOUT" ]; then
        pass "$1: podman stop: exit code 0 after $((SECONDS - t0)) s (timeout $STOP_TIMEOUT s)"
    else
        fail "$1: podman stop: exit code '$rc' after $((SECONDS - t0)) s (timeout $STOP_TIMEOUT s)"
    fi
}

# --- 1. tools ------------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || die "prerequisites: run as root (podman as root, debootstrap)"
need=()
command -v podman >/dev/null || need+=(podman uidmap fuse-overlayfs slirp4netns)
command -v buildah >/dev/null || need+=(buildah)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    echo "test-docker: installing ${need[*]}"
    { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"; } \
        >"$tmp/apt.log" 2>&1 || { tail -20 "$tmp/apt.log"; die "prerequisites: apt-get install ${need[*]}"; }
fi
command -v node >/dev/null || die "prerequisites: node (make installs it with ./setup.sh)"
pass "prerequisites: $(podman --version), $(buildah --version | cut -d' ' -f1-3)"

# --- 2. the base image ---------------------------------------------------------------------
if podman image exists "$BASE"; then
    pass "base image: $BASE (cached)"
else
    tar="$(tools/debian-rootfs.sh)" || die "base image: tools/debian-rootfs.sh failed"
    podman import -q "$tar" "$BASE" >/dev/null || die "base image: podman import $tar"
    pass "base image: $BASE imported from $tar"
fi

# --- 3. a runtime that starts containers here ----------------------------------------------
hard_nproc="$(ulimit -Hu)"
pid_max="$(cat /proc/sys/kernel/pid_max)"
if [ "$hard_nproc" = unlimited ] || [ "$hard_nproc" -gt "$pid_max" ]; then hard_nproc=$pid_max; fi
host_limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$hard_nproc:$hard_nproc")
found=
for runtime in default runc; do
    if [ "$runtime" = runc ] && ! command -v runc >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q runc >"$tmp/apt.log" 2>&1 || continue
    fi
    for limits in default host; do
        PODMAN_OPTS=()
        RUN_OPTS=()
        [ "$runtime" = runc ] && PODMAN_OPTS=(--runtime runc)
        [ "$limits" = host ] && RUN_OPTS=("${host_limits[@]}")
        if timeout 60 podman "${PODMAN_OPTS[@]}" run --rm "${RUN_OPTS[@]}" "$BASE" true >"$tmp/probe.log" 2>&1; then
            found="runtime $runtime, limits $limits${RUN_OPTS[*]:+ (${RUN_OPTS[*]})}"
            break 2
        fi
        echo "      ($runtime runtime, $limits limits: $(grep -m1 -i error "$tmp/probe.log"))"
    done
done
[ -n "$found" ] || die "runtime: no runtime starts a container here (see above)"
pass "runtime: $found"

# --- 4. build ------------------------------------------------------------------------------
# npm inside the build must trust what npm here trusts (a proxy may intercept TLS): the
# host's CA bundle is handed to the build as a secret, which stays out of the image.
build_opts=(--format docker --layers=false -f docker/Dockerfile --build-arg "BASE_IMAGE=$BASE" -t "$IMAGE")
[ -n "${MARCH:-}" ] && build_opts+=(--build-arg "MARCH=$MARCH")
ca="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
[ -s "$ca" ] && build_opts+=(--secret "id=extra_ca,src=$ca")
echo "test-docker: building $IMAGE (log: $tmp/build.log; the first build downloads packages)"
t0=$SECONDS
if timeout 1800 podman "${PODMAN_OPTS[@]}" build "${RUN_OPTS[@]}" "${build_opts[@]}" . >"$tmp/build.log" 2>&1; then
    pass "build: docker/Dockerfile in $((SECONDS - t0)) s, $(pm image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1 / 1e6}')"
else
    tail -30 "$tmp/build.log"
    die "build: podman build failed (last lines above)"
fi

# --- 5. no token: a clear refusal ----------------------------------------------------------
timeout 60 podman "${PODMAN_OPTS[@]}" run --name "$NAME-notoken" "${RUN_OPTS[@]}" "$IMAGE" >"$tmp/notoken.log" 2>&1
rc=$?
msg="$(grep -m1 'scalelab-server:' "$tmp/notoken.log")"
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -q 'without a token.*SCALELAB_TOKEN' "$tmp/notoken.log"; then
    pass "no token: exits $rc: $msg"
else
    fail "no token: exit status $rc, output: $(head -c 400 "$tmp/notoken.log")"
fi
pm rm -f -v "$NAME-notoken" >/dev/null 2>&1 # -v: its anonymous /data volume

# --- 6. start with a token and a volume ----------------------------------------------------
# The port is published on loopback only; podman picks a free one.
pm volume create "$VOLUME" >/dev/null || die "start: podman volume create"
# podman without systemd logs that it cannot set up the periodic healthcheck timer; the
# healthcheck itself is run below with `podman healthcheck run`.
pm run -d --name "$NAME" "${RUN_OPTS[@]}" -p 127.0.0.1::8080 -e "SCALELAB_TOKEN=$TOKEN" \
    -v "$VOLUME:/data" "$IMAGE" >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log"; die "start: podman run"; }
if wait_healthy 30; then
    pass "start: serving on $url"
else
    pm logs "$NAME" 2>&1 | tail -20
    die "start: no answer from GET /api/health within 30 s"
fi

# --- 7. the API ----------------------------------------------------------------------------
http GET /api/health
if [ "$code" = 200 ] && [ "$(json status)" = ok ]; then
    pass "GET /api/health: 200, version $(json version)"
else
    fail "GET /api/health: $code $body"
fi

http GET /vendor/chart.umd.js
if [ "$code" = 200 ] && [ "${#body}" -gt 100000 ]; then
    pass "dashboard: GET /vendor/chart.umd.js: 200, ${#body} bytes (Chart.js vendored by make)"
else
    fail "dashboard: GET /vendor/chart.umd.js: $code, ${#body} bytes"
fi

http POST /api/runs "$SMALL_RUN"
if [ "$code" = 401 ]; then pass "POST /api/runs without the token: 401"; else fail "POST /api/runs without the token: $code $body"; fi

http POST /api/runs "$SMALL_RUN" "$TOKEN"
run_id="$(json id)"
if [ "$code" = 202 ] && [ -n "$run_id" ] && wait_status "$run_id" "done" 120; then
    measured="$(json measurements.length)"
    pass "run $run_id (pi, serial+threads, cores 1,2, 2 repeats): done, $measured measurements"
else
    fail "run: POST $code; status '$(json status)' after 120 s; $(json error)"
    measured=
fi

# The runtimes the image carries: OpenMPI for the mpi backend, Python for the routes.
http POST /api/runs "$MPI_RUN" "$TOKEN"
mpi_id="$(json id)"
if [ "$code" = 202 ] && [ -n "$mpi_id" ] && wait_status "$mpi_id" "done" 120; then
    pass "run $mpi_id (pi, mpi, 1 and 2 ranks): done, $(json measurements.length) measurements, ranks on $(json measurements.0.hosts)"
else
    fail "mpi run: POST $code; status '$(json status)' after 120 s; $(json error)"
fi
http GET /api/programs
unavailable="$(node -e '
    const b = JSON.parse(require("fs").readFileSync(0, "utf8"));
    console.log(b.groups.flatMap((g) => g.programs).filter((p) => !p.available)
        .map((p) => p.name).join(" "));' <<<"$body" 2>/dev/null)"
# PyTorch is left out of the image (156 packages; README: one apt-get to add it)
if [ "$code" = 200 ] && [ -z "$(tr ' ' '\n' <<<"$unavailable" | grep -v torch)" ]; then
    pass "GET /api/programs: every Python route available but the torch ones (${unavailable:-none})"
else
    fail "GET /api/programs: $code; unavailable: $unavailable"
fi
http POST /api/runs "$PY_RUN" "$TOKEN"
py_id="$(json id)"
if [ "$code" = 202 ] && [ -n "$py_id" ] && wait_status "$py_id" "done" 180; then
    pass "run $py_id (Python pi: loop, threading, Pool, Numba, Cython; cores 1,2): done, $(json measurements.length) measurements, results $(node -e 'const b = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([...new Set(b.measurements.map((m) => m.result))].join(","))' <<<"$body")"
else
    fail "Python run: POST $code; status '$(json status)' after 180 s; $(json error)"
fi

uid="$(pm exec "$NAME" id -u 2>/dev/null)"
if [ -n "$uid" ] && [ "$uid" != 0 ]; then pass "user: the server runs as uid $uid ($(pm exec "$NAME" id -un))"; else fail "user: id -u is '$uid'"; fi

if pm healthcheck run "$NAME" >"$tmp/hc.log" 2>&1; then
    pass "healthcheck: podman healthcheck run: exit 0, status $(pm inspect -f '{{.State.Health.Status}}' "$NAME")"
else
    fail "healthcheck: podman healthcheck run: $(cat "$tmp/hc.log")"
fi

# --- 8. the volume keeps the data across a restart -----------------------------------------
pm restart -t "$STOP_TIMEOUT" "$NAME" >/dev/null 2>&1
if wait_healthy 30; then
    http GET "/api/runs/$run_id"
    if [ "$(json status)" = "done" ] && [ -n "$measured" ] && [ "$(json measurements.length)" = "$measured" ]; then
        pass "restart: run $run_id still done with its $measured measurements"
    else
        fail "restart: run $run_id: $code, status '$(json status)', $(json measurements.length) measurements (had $measured)"
    fi
else
    fail "restart: no answer from GET /api/health within 30 s"
fi

# --- 9. SIGTERM with a run in progress: a clean stop, the run interrupted ------------------
http POST /api/runs "$LONG_RUN" "$TOKEN"
long_id="$(json id)"
if [ "$code" = 202 ] && wait_status "$long_id" running 30; then
    sleep 1
    stop_clean "stop while run $long_id runs"
    pm logs "$NAME" >"$tmp/server.log" 2>&1 # (not piped into grep -q: pipefail, SIGPIPE)
    if grep -q 'terminated, stopping' "$tmp/server.log"; then
        pass "stop: the server received SIGTERM ('terminated, stopping' in its log)"
    else
        fail "stop: no 'terminated, stopping' in the log: $(tail -3 "$tmp/server.log")"
    fi
    pm start "$NAME" >/dev/null 2>&1
    if wait_healthy 30 && wait_status "$long_id" interrupted 5; then
        pass "start again: run $long_id is interrupted (measurements kept: $(json measurements.length))"
    else
        fail "start again: run $long_id: status '$(json status)'"
    fi
else
    fail "long run: POST $code, status '$(json status)'"
fi
stop_clean "final stop"

summary
[ "$failed" -eq 0 ]
