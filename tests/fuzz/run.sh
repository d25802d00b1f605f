#!/usr/bin/env bash
# run.sh DIR SECONDS — run each libFuzzer target in DIR for SECONDS from its seed corpus
# (tests/fuzz/corpus/NAME/, read only: new inputs go to a scratch copy), print executions,
# and fail if any target found a crash, a leak or a sanitizer report.
set -euo pipefail
dir=$1
secs=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/artifacts"
status=0
for name in job request; do
    bin="$dir/fuzz_$name"
    work=$(mktemp -d)
    log="$dir/fuzz_$name.log"
    # -timeout: one input may take at most 10 s (the request target waits for the server).
    if ASAN_OPTIONS=detect_leaks=1 "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/$name-" "$work" \
        "$here/corpus/$name" >"$log" 2>&1; then
        result=ok
    else
        result="FAILED (see $log and $dir/artifacts/)"
        status=1
    fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
    echo "fuzz_$name: ${secs}s, ${execs:-?} executions (${rate:-?}/s), ${cov:-cov: ?}, corpus $(find "$work" -type f | wc -l) new inputs: $result"
    [ "$result" = ok ] || tail -40 "$log"
    rm -rf "$work"
done
exit $status
