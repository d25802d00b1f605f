#!/usr/bin/env bash
# callgrind_health.sh — instructions per GET /api/health: scalelab-server against the bare
# libmicrohttpd server (bench/hello_mhd.c), counted by valgrind's callgrind, which is
# repeatable where req/s on a shared machine is not.
#
# Each server runs under callgrind twice, answering N1 and then N2 keep-alive requests on
# one connection; (Ir(N2) - Ir(N1)) / (N2 - N1) is the cost of one request with start-up
# and shutdown cancelled out. The top functions of the scalelab N2 run are printed, so that
# where the time goes can be read off. Environment: SCALELAB_SERVER, SCALELAB_ENGINE,
# HELLO_MHD (binaries), N1 (500), N2 (2500).
set -euo pipefail
N1=${N1:-500}
N2=${N2:-2500}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/scalelab-cg.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/static"

# run NAME N CMD...: start CMD under callgrind, send N requests, stop it; prints total Ir.
run() {
    local name=$1 n=$2
    shift 2
    local out="$TMP/$name-$n.out"
    valgrind --tool=callgrind --callgrind-out-file="$out" "$@" >"$TMP/$name.stdout" 2>"$TMP/$name.err" &
    local pid=$! port="" i
    for ((i = 0; i < 600; i++)); do
        port=$(grep -o 'http://127.0.0.1:[0-9]*' "$TMP/$name.stdout" 2>/dev/null | head -1 | sed 's/.*://') || true
        [[ -n "$port" ]] && break
        sleep 0.1
    done
    [[ -n "$port" ]] || { echo "callgrind_health: $name did not start" >&2; kill "$pid"; exit 1; }
    python3 - "$port" "$n" <<'PY'
import http.client, sys
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=30)
for _ in range(int(sys.argv[2])):
    c.request('GET', '/api/health')
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
    kill -TERM "$pid"
    wait "$pid" || true
    sed -n 's/^summary: *//p; s/^totals: *//p' "$out" | head -1
}

per_request() {
    local name=$1
    shift
    local a b
    a=$(run "$name" "$N1" "$@")
    b=$(run "$name" "$N2" "$@")
    echo $(((b - a) / (N2 - N1)))
}

bare=$(per_request hello "$HELLO_MHD" 0)
ours=$(per_request scalelab "$SCALELAB_SERVER" --listen 127.0.0.1:0 --db "$TMP/cg.db" \
    --static "$TMP/static" --engine "$SCALELAB_ENGINE" --threads 1 --no-access-log)
echo "callgrind: GET /api/health  scalelab-server $ours instructions/request, bare libmicrohttpd $bare; ratio $(awk -v a="$ours" -v b="$bare" 'BEGIN{printf "%.2f", a/b}')"
# Where it goes: inclusive instructions per request of the functions that matter (of the
# N2 run, so start-up is included in main's line only).
echo "per request (inclusive, of $N2 requests), scalelab-server:"
callgrind_annotate --inclusive=yes --auto=no --threshold=100 "$TMP/scalelab-$N2.out" 2>/dev/null |
    python3 -c '
import re, sys
n = int(sys.argv[1]); seen = set(); rows = []
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S+)", line)
    if not m: continue
    name = m.group(2).split(":")[-1]
    if not re.search(r"(server|db)/\w+\.c:|memset|json_dumps|json_pack|MHD_queue_response|mutex_lock", m.group(2)): continue
    if name in seen: continue
    seen.add(name); rows.append((int(m.group(1).replace(",", "")) // n, name))
for v, name in sorted(rows, reverse=True)[:25]: print("  %8d  %s" % (v, name))
' "$N2"
