#!/usr/bin/env bash
# Measures Warden's HTTP throughput against a bare Go handler in the same run,
# with the shared load generator (../shared/tools/loadgen), because the
# machines are noisy: the figure that counts is the ratio.
#
#   .ci/loadgen.sh [BODY_FILE] [PATH] [CONNECTIONS] [DURATION] [ROUNDS]
#
# defaults: testdata/bench/allow.jsonl /v1/data/trino/allow 8 10s 3
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
body=${1:-testdata/bench/allow.jsonl}
path=${2:-/v1/data/trino/allow}
conns=${3:-8}
dur=${4:-10s}
rounds=${5:-3}
lg=${LOADGEN_DIR:-../shared/tools/loadgen}
[ -d "$lg" ] || { echo "no load generator at $lg (set LOADGEN_DIR)"; exit 1; }

bin=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$bin"' EXIT
(cd "$lg" && go build -o "$bin/loadgen" . && go build -o "$bin/nullserver" ./nullserver)
go build -o "$bin/warden" ./cmd/warden

"$bin/nullserver" -addr 127.0.0.1:18282 >/dev/null 2>&1 &
null_pid=$!
"$bin/warden" serve --addr 127.0.0.1:18181 --trino-rules testdata/bench/rules-trino.json --log-level warn >/dev/null 2>&1 &
warden_pid=$!
for _ in $(seq 50); do
  curl -sf http://127.0.0.1:18181/health/ready >/dev/null 2>&1 && break
  sleep 0.1
done

run() { # label url pid
  "$bin/loadgen" -url "$2" -body-file "$body" -c "$conns" -d "$dur" -warmup 2s -server-pid "$3" -json -label "$1" -allow-undefined
}
for r in $(seq "$rounds"); do
  run nullserver "http://127.0.0.1:18282$path" "$null_pid"
  run warden "http://127.0.0.1:18181$path" "$warden_pid"
done | tee "$bin/results.jsonl"
python3 - "$bin/results.jsonl" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def rps(label): return [r["rps"] for r in rows if r.get("label") == label]
n, w = rps("nullserver"), rps("warden")
print(f"nullserver req/s per round: {[round(x) for x in n]}")
print(f"warden     req/s per round: {[round(x) for x in w]}")
ratios = [b / a for a, b in zip(n, w)]
print(f"warden/nullserver ratio per round: {[round(x, 3) for x in ratios]}; median {statistics.median(ratios):.3f}")
for label in ("nullserver", "warden"):
    sel = [r for r in rows if r.get("label") == label]
    print(f"{label}: p50 {statistics.median(r['p50_ms'] for r in sel):.3f} ms, p99 {statistics.median(r['p99_ms'] for r in sel):.3f} ms, "
          f"server CPU {statistics.median(r.get('server_cpu_us_per_req', 0) for r in sel):.1f} us/req, errors {sum(r['errors'] + r['non2xx'] for r in sel)}")
PY
