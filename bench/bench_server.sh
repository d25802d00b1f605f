#!/usr/bin/env bash
# bench_server.sh — `make bench-server`: scalelab-server's HTTP speed, each figure next to its target.
#
# The yardstick is a bare libmicrohttpd server (bench/hello_mhd.c) run in the same threading
# mode, so that "percent of bare libmicrohttpd" measures only what scalelab-server adds:
# routing, JSON, SQLite, metrics. Both servers listen on a free loopback port (port 0) and
# say which on stdout; wrk drives each for the same time with the same connections. A run
# of 200 measurements is then stored through the API and its full object (measurements and
# analysis) read under wrk: the heaviest ordinary read.
#
# Environment: SCALELAB_SERVER, HELLO_MHD (absolute paths of the binaries), SCALELAB_ENGINE
# (handed on to the server, which runs it), SCALELAB_TOKEN (sent as a bearer token when
# set, since the server then requires one on POST). WRK_DURATION (10s), WRK_THREADS (2) and
# WRK_CONNECTIONS (32) tune wrk. Exit status: 0 when every figure was measured (a MISS is
# reported, not fatal, as in `make bench`); 1 when something could not be measured.
set -euo pipefail

readonly WRK_DURATION="${WRK_DURATION:-5s}"
readonly ROUNDS="${ROUNDS:-3}"   # alternating rounds of bare server and /api/health
readonly WRK_THREADS="${WRK_THREADS:-2}"
readonly WRK_CONNECTIONS="${WRK_CONNECTIONS:-32}"
readonly START_TIMEOUT_S=15   # a server must say where it listens within this
readonly STOP_TIMEOUT_S=10    # and stop within this after SIGTERM, or it is killed
readonly RUN_TIMEOUT_S=60     # the 200-measurement run must be done within this
readonly CURL_TIMEOUT_S=10    # one API request
readonly MEASUREMENTS=200
readonly HEALTH_TARGET_PCT=80
readonly RUN_TARGET_RPS=5000

die() {
    echo "bench_server: $*" >&2
    exit 1
}

for tool in wrk curl timeout; do
    command -v "$tool" >/dev/null 2>&1 ||
        die "$tool is required but not installed (Debian/Ubuntu: apt-get install $tool)"
done
[[ -n "${SCALELAB_SERVER:-}" && -x "${SCALELAB_SERVER}" ]] ||
    die "SCALELAB_SERVER must name the scalelab-server binary (got '${SCALELAB_SERVER:-}')"
[[ -n "${HELLO_MHD:-}" && -x "${HELLO_MHD}" ]] ||
    die "HELLO_MHD must name the hello_mhd binary (got '${HELLO_MHD:-}')"
if [[ -n "${SCALELAB_ENGINE:-}" ]]; then
    [[ -x "${SCALELAB_ENGINE}" ]] || die "SCALELAB_ENGINE is not an executable: ${SCALELAB_ENGINE}"
    export SCALELAB_ENGINE
fi

TMP="$(mktemp -d "${TMPDIR:-/tmp}/scalelab-bench.XXXXXX")"
SERVER_PID=""
SERVER_NAME=""
SERVER_LOG=""
PORT=""

# Stop the running server: SIGTERM, then SIGKILL after STOP_TIMEOUT_S. Only our own child.
stop_server() {
    local pid="$SERVER_PID" i
    [[ -n "$pid" ]] || return 0
    SERVER_PID=""
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < STOP_TIMEOUT_S * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "bench_server: $SERVER_NAME did not stop within ${STOP_TIMEOUT_S}s; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

HELLO_PID=""
cleanup() {
    stop_server
    if [[ -n "$HELLO_PID" ]]; then
        kill -KILL "$HELLO_PID" 2>/dev/null || true
        wait "$HELLO_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_server NAME LOGNAME CMD...: start CMD in the background and wait until it prints
# "http://127.0.0.1:PORT/" (stdout or stderr); sets SERVER_PID and PORT.
start_server() {
    local name="$1" log="$TMP/$2.log" i line
    shift 2
    SERVER_NAME="$name"
    SERVER_LOG="$log"
    "$@" >"$log" 2>&1 &
    SERVER_PID=$!
    PORT=""
    for ((i = 0; i < START_TIMEOUT_S * 10; i++)); do
        line="$(grep -Eo -m1 'listening on http://127\.0\.0\.1:[0-9]+/' "$log" || true)"
        if [[ -n "$line" ]]; then
            PORT="${line##*:}"
            PORT="${PORT%/}"
            return 0
        fi
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            SERVER_PID=""
            echo "bench_server: $name exited before listening; its output:" >&2
            sed 's/^/    /' "$log" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "bench_server: $name did not print 'listening on http://127.0.0.1:PORT/' within" \
        "${START_TIMEOUT_S}s; its output:" >&2
    sed 's/^/    /' "$log" >&2
    exit 1
}

# run_wrk LABEL URL: drive URL with wrk; sets RPS (requests/s) and ERRORS (non-2xx/3xx
# answers plus socket errors), and NON2XX and SOCKERR apart.
run_wrk() {
    local label="$1" url="$2" out="$TMP/wrk-$1.txt" secs
    secs="${WRK_DURATION%s}"
    [[ "$secs" =~ ^[0-9]+$ ]] || secs=60
    if ! timeout "$((secs + 30))" wrk -t"$WRK_THREADS" -c"$WRK_CONNECTIONS" -d"$WRK_DURATION" \
        --latency "$url" >"$out" 2>&1; then
        echo "bench_server: wrk failed on $url; its output:" >&2
        sed 's/^/    /' "$out" >&2
        exit 1
    fi
    RPS="$(awk '/^Requests\/sec:/ { print $2 }' "$out")"
    [[ -n "$RPS" ]] || die "wrk printed no Requests/sec for $url (see its output above)"
    NON2XX="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")"
    NON2XX="${NON2XX:-0}"
    # "Socket errors: connect 0, read 3, write 0, timeout 0"
    SOCKERR="$(awk -F'[ ,]+' '/Socket errors:/ { s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; print s }' "$out")"
    SOCKERR="${SOCKERR:-0}"
    ERRORS=$((NON2XX + SOCKERR))
    # Latency percentiles, for the reader; the figures with targets are printed by the caller.
    awk -v l="$label" '
        /Latency Distribution/ { on = 1; next }
        on && $1 ~ /%$/ { p[$1] = $2; next }
        on { on = 0 }
        END { if ("50%" in p) printf "  %s: %.0f req/s, latency p50 %s p99 %s\n", l, rps, p["50%"], p["99%"] }
    ' rps="$RPS" "$out"
}

targets_met=0
targets_total=0

# verdict OK: count a target; sets VERDICT to ok or MISS (not in a subshell: it counts).
verdict() {
    targets_total=$((targets_total + 1))
    if [[ "$1" == 1 ]]; then
        targets_met=$((targets_met + 1))
        VERDICT=ok
    else
        VERDICT=MISS
    fi
}

report_errors() {
    local what="$1" ok=0
    ((ERRORS == 0)) && ok=1
    verdict "$ok"
    printf 'server: %s  errors %d (non-2xx %d, socket %d)   target 0   %s\n' \
        "$what" "$ERRORS" "$NON2XX" "$SOCKERR" "$VERDICT"
}

# api METHOD PATH [BODY]: one request; the answer goes to $TMP/answer.json, the status to
# HTTP_CODE. Sends the bearer token when SCALELAB_TOKEN is set.
api() {
    local method="$1" path="$2" body="${3:-}"
    local -a args=(-sS --max-time "$CURL_TIMEOUT_S" -o "$TMP/answer.json" -w '%{http_code}' -X "$method")
    [[ -n "${SCALELAB_TOKEN:-}" ]] && args+=(-H "Authorization: Bearer ${SCALELAB_TOKEN}")
    [[ -n "$body" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
    HTTP_CODE="$(curl "${args[@]}" "http://127.0.0.1:${PORT}${path}")" ||
        die "$method $path: curl failed (server on port $PORT; log $SERVER_LOG)"
}

# The first value of "key": a number or a string, from the answer. Enough for the
# top-level fields of our own answers (keys in insertion order); not a JSON parser.
json_field() {
    grep -Eo -m1 "\"$1\"[[:space:]]*:[[:space:]]*(\"[^\"]*\"|[0-9]+)" "$TMP/answer.json" |
        head -n1 | sed -E 's/^[^:]*:[[:space:]]*"?([^"]*)"?$/\1/'
}

# Tolerate non-integer percentages etc.: printf with awk.
ratio_pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b > 0 ? 100 * a / b : 0) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "bench_server: wrk -t$WRK_THREADS -c$WRK_CONNECTIONS -d$WRK_DURATION on 127.0.0.1, $(nproc) CPUs"

# 1. The yardstick and scalelab-server side by side, driven in turn for ROUNDS rounds: this
# machine's speed drifts by tens of percent within a minute, so measuring one after the
# other would compare moments, not servers. Medians over the rounds are compared.
start_server hello_mhd hello "$HELLO_MHD" 0
HELLO_PID="$SERVER_PID"
HELLO_PORT="$PORT"
SERVER_PID="" # the yardstick is stopped in cleanup, not by stop_server

mkdir -p "$TMP/static"
printf '<!doctype html><title>scalelab</title>\n' >"$TMP/static/index.html"
start_server scalelab-server server "$SCALELAB_SERVER" --listen 127.0.0.1:0 \
    --db "$TMP/bench.db" --static "$TMP/static" --no-access-log

api GET /api/health
[[ "$HTTP_CODE" == 200 ]] || die "GET /api/health answered $HTTP_CODE: $(head -c 300 "$TMP/answer.json")"
hello_rates=()
health_rates=()
sum_non2xx=0
sum_sockerr=0
for ((round = 1; round <= ROUNDS; round++)); do
    run_wrk "hello-$round" "http://127.0.0.1:${HELLO_PORT}/"
    hello_rates+=("$RPS")
    sum_non2xx=$((sum_non2xx + NON2XX))
    sum_sockerr=$((sum_sockerr + SOCKERR))
    run_wrk "health-$round" "http://127.0.0.1:${PORT}/api/health"
    health_rates+=("$RPS")
    sum_non2xx=$((sum_non2xx + NON2XX))
    sum_sockerr=$((sum_sockerr + SOCKERR))
    echo "  round $round: bare ${hello_rates[-1]} req/s, /api/health ${health_rates[-1]} req/s"
done
NON2XX=$sum_non2xx
SOCKERR=$sum_sockerr
ERRORS=$((NON2XX + SOCKERR))
kill -TERM "$HELLO_PID" 2>/dev/null || true
wait "$HELLO_PID" 2>/dev/null || true
HELLO_PID=""
HELLO_RPS="$(median "${hello_rates[@]}")"
HEALTH_RPS="$(median "${health_rates[@]}")"
pct="$(ratio_pct "$HEALTH_RPS" "$HELLO_RPS")"
ok=0
ge "$pct" "$HEALTH_TARGET_PCT" && ok=1
verdict "$ok"
printf 'server: GET /api/health  %.0f req/s = %s%% of bare libmicrohttpd (%.0f req/s), medians of %d alternating rounds   target >= %s%%   %s\n' \
    "$HEALTH_RPS" "$pct" "$HELLO_RPS" "$ROUNDS" "$HEALTH_TARGET_PCT" "$VERDICT"
report_errors "GET /api/health and GET / (all rounds)"

# 3. A stored run of 200 measurements (sleep 0 us: the engine's own cost only).
job="{\"workload\":\"sleep\",\"params\":{\"tasks\":1,\"us\":0},\"backends\":[\"serial\"],\"repeats\":${MEASUREMENTS},\"warmup\":0}"
api POST /api/runs "$job"
[[ "$HTTP_CODE" == 202 ]] || die "POST /api/runs answered $HTTP_CODE: $(head -c 300 "$TMP/answer.json")"
run_id="$(json_field id)"
[[ "$run_id" =~ ^[0-9]+$ ]] || die "POST /api/runs gave no id: $(head -c 300 "$TMP/answer.json")"

status=""
deadline=$((SECONDS + RUN_TIMEOUT_S))
while :; do
    api GET "/api/runs/${run_id}"
    [[ "$HTTP_CODE" == 200 ]] || die "GET /api/runs/${run_id} answered $HTTP_CODE"
    status="$(json_field status)"
    case "$status" in
        done) break ;;
        queued | running) ;;
        *) die "run ${run_id} ended as '${status}': $(json_field error)" ;;
    esac
    ((SECONDS < deadline)) || die "run ${run_id} is still '${status}' after ${RUN_TIMEOUT_S}s"
    sleep 0.2
done
stored="$(grep -o '"seq"' "$TMP/answer.json" | wc -l)"
# The engine may add reference points of its own (a waiting 1-core run): at least the
# repetitions asked for.
((stored >= MEASUREMENTS)) ||
    die "run ${run_id} is done with ${stored} measurements, not ${MEASUREMENTS}"
echo "bench_server: run ${run_id} done, ${stored} measurements, $(wc -c <"$TMP/answer.json") bytes of JSON"

run_wrk run "http://127.0.0.1:${PORT}/api/runs/${run_id}"
ok=0
ge "$RPS" "$RUN_TARGET_RPS" && ok=1
verdict "$ok"
printf 'server: GET /api/runs/{id} (%d measurements)  %.0f req/s   target >= %s   %s\n' \
    "$MEASUREMENTS" "$RPS" "$RUN_TARGET_RPS" "$VERDICT"
report_errors "GET /api/runs/{id}"
stop_server

echo
echo "targets met: ${targets_met} of ${targets_total}"
