#!/usr/bin/env bash
# shellcheck disable=SC2317 # the steps are called through step() and the EXIT trap
# run.sh — proves the README's set-up promise on a fresh Debian 12 machine: `make test-fresh`.
#
# A minimal Debian 12 root (tools/debian-rootfs.sh, debootstrap --variant=minbase) is unpacked
# into a new directory under /var/tmp/scalelab/ and gets the checkout as a clone has it (git
# archive: tracked files only, no build/, node_modules/ or static/vendor/) in /root/scalelab.
# Then, as root in a chroot: `./setup.sh run --listen 127.0.0.1:0` must install, build and
# serve (checked from this host, which shares the chroot's network: health, the dashboard, a
# small run through the API, a clean stop on SIGTERM), and `./setup.sh test` must pass. `run`
# goes first so that it proves its own package list on the untouched root; `test` installs a
# superset of it.
#
# Needs root, the network (Debian's mirror, npm's registry), curl and jq. Not part of
# `make test`. Every wait is bounded (FRESH_*_TIMEOUT below). Whatever happens (failure,
# Ctrl-C), the EXIT trap kills every process whose root is the chroot, unmounts what was
# mounted, checks /proc/mounts and removes the root (FRESH_KEEP=1 keeps it for a look).
# Logs go to build/fresh/: one per step (step-NN-<name>.log: everything the step printed,
# debootstrap's output included), run.log (./setup.sh run and the server), test.log
# (./setup.sh test) and summary.txt; each run starts them afresh.
#
# The checkout is `git archive HEAD`: what a clone has. FRESH_REF=<commit> archives another;
# FRESH_REF=worktree adds the uncommitted changes to tracked files (git stash create), to try
# a fix to setup.sh or the Makefile before committing it.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd -P)

ROOTFS_TIMEOUT=${FRESH_ROOTFS_TIMEOUT:-1800} # tools/debian-rootfs.sh: debootstrap, once
RUN_TIMEOUT=${FRESH_RUN_TIMEOUT:-1800}       # ./setup.sh run on a bare root: install + build + listen
TEST_TIMEOUT=${FRESH_TEST_TIMEOUT:-3600}     # ./setup.sh test
JOB_TIMEOUT=${FRESH_JOB_TIMEOUT:-120}        # the small run launched through the API
STOP_TIMEOUT=30                              # the server's exit after SIGTERM
PATH_IN="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

logdir="$repo/build/fresh"
root=""          # the chroot, once unpacked (canonical path: /proc/PID/root is compared to it)
server_job=""    # `timeout ... chroot ... ./setup.sh run`: the server once setup.sh has exec'd it
test_job=""      # `timeout ... chroot ... ./setup.sh test`
url=""           # the server's URL, as it printed it
cmd=()           # a command for the chroot (chroot_cmd)
results=()       # "PASS|FAIL|SKIP<TAB>step<TAB>seconds<TAB>note" in order
current=""       # the step under way, and when it began: FAIL (interrupted) if the trap runs
current_t0=0
failed=0
nstep=0          # steps begun, for the names of their logs
t_start=$SECONDS

log() { echo "fresh: $*" >&2; }

# record STATUS NAME START [NOTE]: one line of the summary.
record() {
    results+=("$1"$'\t'"$2"$'\t'"$((SECONDS - $3))"$'\t'"${4:-}")
    [ "$1" = FAIL ] && failed=1
    log "$1 $2${4:+ ($4)}"
}

# step NAME FUNCTION: runs FUNCTION (which returns 0 for success) and records it. Inside a
# function called this way `set -e` does not apply, so step functions check every command.
# What the step prints (stdout and stderr) is shown and kept in its own log,
# build/fresh/step-NN-<name>.log; it runs in this shell (its variables stay set), with its
# output through a tee that is waited for before the next step.
step() {
    local name=$1 t0=$SECONDS rc=0 steplog tee_pid
    shift
    nstep=$((nstep + 1))
    steplog="$logdir/step-$(printf %02d "$nstep")-$(tr -c 'a-zA-Z0-9\n' - <<<"${name%%:*}" | tr -s - | sed 's/^-//; s/-$//').log"
    log "$name ... (log: build/fresh/${steplog##*/})"
    current=$name current_t0=$t0
    exec 4>&1 5>&2
    exec > >(tee "$steplog" >&5) 2>&1
    tee_pid=$!
    "$@" || rc=$?
    exec 1>&4 2>&5 4>&- 5>&-
    wait "$tee_pid" 2>/dev/null || true
    current=""
    if [ "$rc" -eq 0 ]; then
        record PASS "$name" "$t0"
    else
        record FAIL "$name" "$t0" "log: build/fresh/${steplog##*/}"
    fi
    return "$rc"
}

skip() { results+=("SKIP"$'\t'"$1"$'\t'"0"$'\t'"${2:-}"); log "SKIP $1"; }

# The processes whose root directory is the chroot, one pid a line.
chroot_pids() {
    local p
    [ -n "$root" ] || return 0
    for p in /proc/[0-9]*; do
        if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then echo "${p#/proc/}"; fi
    done
}

# show_chroot_procs WHEN: lists the chroot's processes (if any) on stderr; 1 when there were.
show_chroot_procs() {
    local pids
    pids=$(chroot_pids)
    [ -z "$pids" ] && return 0
    log "$1: processes inside the chroot:"
    # shellcheck disable=SC2086 # one pid a word
    ps -o pid=,ppid=,etime=,args= -p "$(echo $pids | tr ' ' ,)" >&2 || true
    return 1
}

# Kills every process inside the chroot: SIGTERM, up to 5 s, then SIGKILL, up to 5 s.
kill_chroot_procs() {
    local pids i sig
    for sig in TERM KILL; do
        pids=$(chroot_pids)
        [ -z "$pids" ] && return 0
        # shellcheck disable=SC2086 # one pid a word
        kill -s "$sig" $pids 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            [ -z "$(chroot_pids)" ] && return 0
            sleep 0.1
        done
    done
    [ -z "$(chroot_pids)" ]
}

# The mount points at or under the chroot, deepest last (as in /proc/mounts).
chroot_mounts() {
    [ -n "$root" ] || return 0
    awk -v r="$root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts
}

unmount_all() {
    local m lazy
    [ -z "$(chroot_mounts)" ] && return 0
    umount -R "$root" 2>/dev/null || true
    # What umount -R left (a busy mount): one by one, deepest first, then lazily.
    for lazy in "" -l; do
        while read -r m; do
            [ -n "$m" ] && umount ${lazy:+"$lazy"} "$m" 2>/dev/null
        done < <(chroot_mounts | tac)
    done
    [ -z "$(chroot_mounts)" ]
}

summary() {
    local line st name secs note
    {
        echo
        echo "fresh: summary (Debian 12 chroot${root:+ $root}; logs in build/fresh/: step-NN-*.log, run.log, test.log)"
        for line in "${results[@]}"; do
            IFS=$'\t' read -r st name secs note <<<"$line"
            printf '  %-4s  %-46s %5s s%s\n' "$st" "$name" "$secs" "${note:+  ($note)}"
        done
        if [ "$failed" -eq 0 ]; then
            echo "fresh: PASS in $((SECONDS - t_start)) s"
        else
            echo "fresh: FAIL in $((SECONDS - t_start)) s"
        fi
    } | tee "$logdir/summary.txt"
}

# Waits (at most 40 s: timeout's --kill-after is 30) for our background jobs to end.
wait_jobs() {
    local i
    for ((i = 0; i < 400; i++)); do
        [ -z "$(jobs -rp)" ] && break
        sleep 0.1
    done
    wait 2>/dev/null
}

cleanup() {
    local rc=$? t0=$SECONDS note=""
    trap - EXIT INT TERM
    set +e
    [ -n "$current" ] && record FAIL "$current" "$current_t0" "interrupted"
    [ -n "$test_job" ] && kill -TERM "$test_job" 2>/dev/null
    [ -n "$server_job" ] && kill -TERM "$server_job" 2>/dev/null
    if [ -n "$root" ]; then
        show_chroot_procs "at cleanup"
        kill_chroot_procs || note="processes inside the chroot survived SIGKILL; "
        wait_jobs
        if unmount_all; then
            if [ "${FRESH_KEEP:-0}" = 1 ]; then
                note+="root kept: $root"
            else
                rm -rf --one-file-system "$root" || note+="could not remove $root"
            fi
        else
            note+="still mounted: $(chroot_mounts | tr '\n' ' ')"
        fi
        if [ -z "$(chroot_mounts)" ] && [ -z "$(chroot_pids)" ]; then
            record PASS "cleanup: no mounts, no processes left" "$t0" "$note"
        else
            record FAIL "cleanup: no mounts, no processes left" "$t0" "$note"
        fi
    fi
    [ "$rc" -ne 0 ] && failed=1
    summary
    [ "$failed" -eq 0 ] && exit 0
    exit 1
}

# chroot_cmd LIMIT COMMAND: sets $cmd to run the bash command line COMMAND as root in
# /root/scalelab inside the chroot, with a login's clean environment (nothing of ours leaks
# in) and a time bound. Started as `"${cmd[@]}" &`, $! is timeout's pid, and timeout passes
# a SIGTERM on to its child (an exec chain: chroot, env, bash, setup.sh, the server).
chroot_cmd() {
    cmd=(timeout --kill-after=30 "$1" chroot "$root" /usr/bin/env -i HOME=/root USER=root
        LOGNAME=root SHELL=/bin/bash PATH="$PATH_IN" LANG=C.UTF-8 TERM=dumb
        /bin/bash -c "cd /root/scalelab && $2")
}

# --- the steps -------------------------------------------------------------------------------

# The script prints the tarball's path alone on stdout (its progress goes to stderr, into
# this step's log): a first run on a new machine installs debootstrap first, and apt-get's
# output once ended up in $tarball, which then named no file.
get_rootfs() {
    tarball=$(timeout "$ROOTFS_TIMEOUT" tools/debian-rootfs.sh) || return 1
    [ -s "$tarball" ] && return 0
    log "tools/debian-rootfs.sh printed '$tarball', which is not a tarball"
    return 1
}

unpack() {
    local ref=${FRESH_REF:-HEAD}
    mkdir -p /var/tmp/scalelab || return 1
    root=$(mktemp -d /var/tmp/scalelab/fresh.XXXXXX) || return 1
    root=$(cd "$root" && pwd -P) || return 1
    tar --numeric-owner -xpf "$tarball" -C "$root" || return 1
    if [ "$ref" = worktree ]; then
        ref=$(git -C "$repo" stash create) || return 1
        ref=${ref:-HEAD} # nothing uncommitted
    fi
    log "checkout: git archive $ref ($(git -C "$repo" log -1 --format='%h %s' "$ref"))"
    git -C "$repo" archive --prefix=scalelab/ "$ref" | tar -xf - -C "$root/root" || return 1
    [ -x "$root/root/scalelab/setup.sh" ]
}

# The certificate authorities this host trusts beyond those Debian's ca-certificates ships
# (a site's TLS-intercepting proxy, say), one PEM block after another; nothing on a host that
# trusts only Debian's. Without them npm could not reach its registry from here.
site_cas() {
    local bundle=/etc/ssl/certs/ca-certificates.crt
    [ -s "$bundle" ] && [ -d /usr/share/ca-certificates/mozilla ] || return 0
    awk -v bundle="$bundle" '/BEGIN CERTIFICATE/ { c = "" } { c = c $0 "\n" }
        /END CERTIFICATE/ { if (FILENAME != bundle) known[c] = 1; else if (!(c in known)) printf "%s", c }' \
        /usr/share/ca-certificates/mozilla/*.crt "$bundle"
}

# What a Debian machine on this network has that debootstrap's root lacks (a name for
# localhost, the resolver, the site's certificate authorities, which ca-certificates adds to
# its bundle when setup.sh's packages bring it), a policy that forbids starting services, and
# the kernel's file systems.
prepare() {
    local n
    chmod 755 "$root" || return 1 # mktemp's 0700 would lock apt's _apt user out of /
    cat >"$root/etc/hosts" <<'EOF' || return 1
127.0.0.1	localhost
::1		localhost ip6-localhost ip6-loopback
EOF
    rm -f "$root/etc/resolv.conf" && cp -L /etc/resolv.conf "$root/etc/resolv.conf" || return 1
    mkdir -p "$root/usr/local/share/ca-certificates" || return 1
    site_cas | awk -v dir="$root/usr/local/share/ca-certificates" \
        '/BEGIN CERTIFICATE/ { n++ } { print > (dir "/site-" n ".crt") }' || return 1
    n=$(find "$root/usr/local/share/ca-certificates" -name 'site-*.crt' | wc -l)
    [ "$n" -eq 0 ] || log "the chroot trusts this host's $n site certificate authorities"
    printf '#!/bin/sh\n# make test-fresh: no service starts inside the chroot\nexit 101\n' \
        >"$root/usr/sbin/policy-rc.d" && chmod 755 "$root/usr/sbin/policy-rc.d" || return 1
    # The root is a private mount of its own, so nothing mounted below it propagates to the
    # host; /dev is bound alone (not its submounts) and private before pts and shm go in.
    mount --bind "$root" "$root" && mount --make-private "$root" &&
        mount -t proc proc "$root/proc" &&
        mount -t sysfs sysfs "$root/sys" &&
        mount --bind /dev "$root/dev" && mount --make-private "$root/dev" &&
        mount --bind /dev/pts "$root/dev/pts" &&
        mount -t tmpfs -o mode=1777,nosuid,nodev,size=2g tmpfs "$root/dev/shm"
}

start_server() {
    local i
    : >"$logdir/run.log"
    chroot_cmd "$((RUN_TIMEOUT + 600))" 'exec ./setup.sh run --listen 127.0.0.1:0'
    "${cmd[@]}" >>"$logdir/run.log" 2>&1 &
    server_job=$!
    for ((i = 0; i < RUN_TIMEOUT; i++)); do
        url=$(sed -n 's/^scalelab-server listening on \(http:[^ ]*\)$/\1/p' "$logdir/run.log" | head -n 1)
        [ -n "$url" ] && { log "server: $url"; return 0; }
        if ! kill -0 "$server_job" 2>/dev/null; then
            log "./setup.sh run ended before listening; last lines of build/fresh/run.log:"
            tail -n 30 "$logdir/run.log" >&2
            return 1
        fi
        ((i % 60 == 59)) && log "waiting for the server ($((i + 1)) s): $(tail -n 1 "$logdir/run.log" | cut -c 1-100)"
        sleep 1
    done
    log "no URL after $RUN_TIMEOUT s"
    return 1
}

# http METHOD PATH [curl args]: the body in $body, the status in $code.
http() {
    local method=$1 path=$2 out
    shift 2
    out=$(curl -sS -m 10 -X "$method" -w '\n%{http_code}' "$@" "${url%/}$path") || return 1
    code=${out##*$'\n'}
    body=${out%$'\n'*}
}

check_health() {
    http GET /api/health || return 1
    [ "$code" = 200 ] && jq -e '.status == "ok"' <<<"$body" >/dev/null && return 0
    log "GET /api/health: $code $body"
    return 1
}

check_dashboard() {
    local f
    http GET / || return 1
    if [ "$code" != 200 ] || ! grep -q scalelab <<<"$body"; then
        log "GET /: $code, no 'scalelab' in the page"
        return 1
    fi
    # The libraries npm brought (make copies them to static/vendor/).
    for f in chart.umd.js chartjs-chart-error-bars.umd.js; do
        http GET "/vendor/$f" -o /dev/null || return 1
        [ "$code" = 200 ] || { log "GET /vendor/$f: $code"; return 1; }
    done
}

launch_run() {
    local id status i
    http POST /api/runs -H 'Content-Type: application/json' \
        -d '{"workload":"pi","params":{"samples":1e5},"backends":["serial"],"repeats":1,"warmup":0}' ||
        return 1
    id=$(jq -r '.id // empty' <<<"$body")
    if [ "$code" != 202 ] || [ -z "$id" ]; then
        log "POST /api/runs: $code $body"
        return 1
    fi
    for ((i = 0; i < JOB_TIMEOUT * 4; i++)); do
        http GET "/api/runs/$id" || return 1
        status=$(jq -r .status <<<"$body")
        case $status in
        queued | running) sleep 0.25 ;;
        done)
            jq -e '(.measurements | length) >= 1 and all(.measurements[]; .verified)' \
                <<<"$body" >/dev/null && { log "run $id: done, verified"; return 0; }
            log "run $id done without verified measurements: $(head -c 400 <<<"$body")"
            return 1
            ;;
        *)
            log "run $id: $status: $(jq -c .error <<<"$body")"
            return 1
            ;;
        esac
    done
    log "run $id still $status after $JOB_TIMEOUT s"
    return 1
}

# SIGTERM to the server (timeout passes it on to its child, the server): it must exit 0 in
# time, and nothing started in the chroot may remain.
stop_server() {
    local i rc=0
    kill -TERM "$server_job" 2>/dev/null || { log "the server was gone already"; return 1; }
    for ((i = 0; i < STOP_TIMEOUT * 10; i++)); do
        kill -0 "$server_job" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$server_job" 2>/dev/null; then
        log "the server still runs $STOP_TIMEOUT s after SIGTERM"
        return 1
    fi
    wait "$server_job" || rc=$?
    server_job=""
    [ "$rc" -eq 0 ] || { log "the server exited with status $rc"; return 1; }
    show_chroot_procs "after the server stopped" || { kill_chroot_procs; return 1; }
}

run_tests() {
    local rc=0
    chroot_cmd "$TEST_TIMEOUT" './setup.sh test'
    "${cmd[@]}" >"$logdir/test.log" 2>&1 &
    test_job=$!
    wait "$test_job" || rc=$?
    test_job=""
    # The closing lines of each runner: Criterion's synthesis, node --test's counts.
    awk '/node --test tests\/api/ { r = "api" } /node --test tests\/browser/ { r = "browser" }
         /Synthesis:/ { printf "  %-8s %s\n", "unit:", $0 }
         /^(# |ℹ )(tests|pass|fail|cancelled) [0-9]+$/ { printf "  %-8s %s\n", r ":", $0 }' \
        "$logdir/test.log" >&2
    if [ "$rc" -ne 0 ]; then
        log "./setup.sh test exited with status $rc$([ "$rc" -eq 124 ] && echo " (timed out)"); last lines of build/fresh/test.log:"
        tail -n 40 "$logdir/test.log" >&2
        return 1
    fi
}

no_procs_after_tests() {
    show_chroot_procs "after the tests" || { kill_chroot_procs; return 1; }
}

# --- main --------------------------------------------------------------------------------------

[ "$(id -u)" -eq 0 ] || { log "needs root (debootstrap, chroot, mount)"; exit 2; }
for tool in curl jq git tar chroot timeout mount; do
    command -v "$tool" >/dev/null || { log "needs $tool on this host"; exit 2; }
done
mkdir -p "$logdir"
rm -f "$logdir"/step-*.log "$logdir"/run.log "$logdir"/test.log "$logdir"/summary.txt
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "rootfs tarball: tools/debian-rootfs.sh" get_rootfs || exit 1
step "unpack it, git archive into /root/scalelab" unpack || exit 1
step "prepare the chroot: files, mounts" prepare || exit 1
if step "./setup.sh run: install, build, listen" start_server; then
    step "GET /api/health: 200, status ok" check_health || true
    step "GET /: the dashboard, its vendor/ scripts" check_dashboard || true
    step "POST /api/runs (pi 1e5, serial): done" launch_run || true
    step "SIGTERM: exit 0, no process left" stop_server || true
else
    for s in "GET /api/health" "GET /" "POST /api/runs" "SIGTERM"; do skip "$s" "the server did not start"; done
    kill -TERM "$server_job" 2>/dev/null || true
    kill_chroot_procs || true
fi
step "./setup.sh test: install, build, all tests" run_tests || true
step "no process left after the tests" no_procs_after_tests || true
exit "$failed"
