#!/usr/bin/env bash
# Measures decision throughput with OpenFGA-backed grants (warm cache)
# against the rules-only figure, in the same run, with the shared load
# generator: Warden with the bench rules only, and Warden with the same rules
# plus the grants source on a real OpenFGA server.
#
#   .ci/loadgen-grants.sh [CONNECTIONS] [DURATION] [ROUNDS]     (defaults: 8 10s 3)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
conns=${1:-8}
dur=${2:-10s}
rounds=${3:-3}
lg=${LOADGEN_DIR:-../shared/tools/loadgen}
[ -d "$lg" ] || { echo "no load generator at $lg (set LOADGEN_DIR)"; exit 1; }
cache=${WARDEN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/warden}/bin
fga=$cache/openfga-v1.15.0/openfga
if [ ! -x "$fga" ]; then
  mkdir -p "$cache"
  mkdir -p "$(dirname "$fga")" && GOBIN="$(dirname "$fga")" go install github.com/openfga/openfga/cmd/openfga@v1.15.0
fi

bin=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$bin"' EXIT
(cd "$lg" && go build -o "$bin/loadgen" .)
go build -o "$bin/warden" ./cmd/warden

"$fga" run --datastore-engine memory --http-addr 127.0.0.1:18080 --grpc-addr 127.0.0.1:18081 \
  --playground-enabled=false --metrics-enabled=false --log-level error >/dev/null 2>&1 &
for _ in $(seq 100); do curl -sf http://127.0.0.1:18080/healthz >/dev/null 2>&1 && break; sleep 0.1; done
"$bin/warden" serve --addr 127.0.0.1:18181 --admin-addr "" --trino-rules testdata/bench/rules-trino.json --log-level warn >/dev/null 2>&1 &
rules_pid=$!
"$bin/warden" serve --addr 127.0.0.1:18183 --admin-addr "" --trino-rules testdata/bench/rules-trino.json --log-level warn \
  --openfga-api-url http://127.0.0.1:18080 ${GRANTS_FLAGS:-} >/dev/null 2>&1 &
grants_pid=$!
for port in 18181 18183; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
done

run() { # label port pid
  "$bin/loadgen" -url "http://127.0.0.1:$2/v1/data/trino/allow" -body-file testdata/bench/allow.jsonl \
    -c "$conns" -d "$dur" -warmup 3s -server-pid "$3" -json -label "$1"
}
for r in $(seq "$rounds"); do
  run rules-only 18181 "$rules_pid"
  run with-grants 18183 "$grants_pid"
done | tee "$bin/results.jsonl"
python3 - "$bin/results.jsonl" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def col(label, key): return [r[key] for r in rows if r.get("label") == label]
a, b = col("rules-only", "rps"), col("with-grants", "rps")
ratios = [y / x for x, y in zip(a, b)]
print(f"rules-only  req/s per round: {[round(x) for x in a]}")
print(f"with-grants req/s per round: {[round(x) for x in b]}")
print(f"with-grants/rules-only ratio per round: {[round(x, 3) for x in ratios]}; median {statistics.median(ratios):.3f}")
for label in ("rules-only", "with-grants"):
    print(f"{label}: p50 {statistics.median(col(label, 'p50_ms')):.3f} ms, p99 {statistics.median(col(label, 'p99_ms')):.3f} ms, "
          f"server CPU {statistics.median(col(label, 'server_cpu_us_per_req')):.1f} us/req, errors {sum(r['errors'] + r['non2xx'] for r in rows if r.get('label') == label)}")
PY
