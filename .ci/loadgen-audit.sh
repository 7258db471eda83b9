#!/usr/bin/env bash
# Measures what the decision audit costs: Warden's server CPU per decision
# with auditing on against off, in the same run, with the shared load
# generator. Both Wardens run in database mode on one private PostgreSQL with
# the bench rules; only one records. PostgreSQL's own CPU per recorded
# decision is reported apart.
#
# Layout (LAYOUT): by default, split, the Wardens run on the first half of
# the CPUs and PostgreSQL and the load generators on the rest (taskset; on
# 2 CPUs: CPU 0 and CPU 1). That stands in for a deployment, where
# PostgreSQL and Trino have hardware of their own: PostgreSQL's bursts and
# stalls then do not land on the cores the Wardens are measured on, and the
# figure is Warden's own cost. LAYOUT=shared runs everything on every CPU.
# PG_CPUS, WARDEN_CPUS and LOADGEN_CPUS set a layout of one's own (with
# PG_CPUS alone, the rest get the other CPUs). Go sets GOMAXPROCS from the
# CPU mask, so on 2 CPUs a pinned Warden runs with 1.
#
# In the default mode, paired, each round loads both Wardens at the same
# time, each with CONNECTIONS connections and its own load generator, so
# both share their cores alike. In alternating mode (MODE=alternating) each
# round loads one Warden, then the other; the auditing one, spending more
# CPU per decision, serves fewer decisions a second, and a Go server's CPU
# per decision grows as its rate falls, so that mode overstates the cost
# (docs/performance.md shows every layout and mode).
#
#   .ci/loadgen-audit.sh [CONNECTIONS] [DURATION] [ROUNDS]     (defaults: 4 8s 6)
#   LAYOUT=shared .ci/loadgen-audit.sh                         (no pinning)
#   PG_CPUS=1 .ci/loadgen-audit.sh                             (PostgreSQL alone on CPU 1)
#   MODE=alternating .ci/loadgen-audit.sh 8 8s 6
#   PG_TRANSPORT=unix .ci/loadgen-audit.sh                     (the Wardens reach PostgreSQL over a Unix socket)
#   AUDIT_FLAGS="--audit-explain none" .ci/loadgen-audit.sh    (extra flags for the auditing Warden)
#   AUDIT_METRICS=/tmp/m.txt .ci/loadgen-audit.sh              (keeps the auditing Warden's audit metrics)
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local
conns=${1:-4}
dur=${2:-8s}
rounds=${3:-6}
mode=${MODE:-paired}
case $mode in paired|alternating) ;; *) echo "MODE is paired or alternating"; exit 1 ;; esac
lg=${LOADGEN_DIR:-../shared/tools/loadgen}
[ -d "$lg" ] || { echo "no load generator at $lg (set LOADGEN_DIR)"; exit 1; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "no PostgreSQL under /usr/lib/postgresql"; exit 1; }

# CPU pinning (taskset).
pg_pin=() warden_pin=() loadgen_pin=()
layout=${LAYOUT:-split}
case $layout in split|shared) ;; *) echo "LAYOUT is split or shared"; exit 1 ;; esac
if [ -z "${PG_CPUS:-}${WARDEN_CPUS:-}${LOADGEN_CPUS:-}" ] && [ "$layout" = split ]; then
  read -r WARDEN_CPUS PG_CPUS < <(python3 -c 'import os; c=sorted(os.sched_getaffinity(0)); h=max(1,len(c)//2); print(",".join(map(str,c[:h])), ",".join(map(str,c[h:])))') || true
  if [ -z "${PG_CPUS:-}" ]; then
    echo "one CPU only: LAYOUT=split needs two; running shared"; WARDEN_CPUS=
  else
    LOADGEN_CPUS=$PG_CPUS
  fi
fi
if [ -n "${PG_CPUS:-}${WARDEN_CPUS:-}${LOADGEN_CPUS:-}" ]; then
  command -v taskset >/dev/null || { echo "CPU pinning needs taskset (util-linux); or LAYOUT=shared"; exit 1; }
  others=$(python3 -c 'import os,sys; pg={int(c) for c in sys.argv[1].split(",") if c}; print(",".join(str(c) for c in sorted(os.sched_getaffinity(0)) if c not in pg))' "${PG_CPUS:-}")
  [ -n "$others" ] || { echo "PG_CPUS leaves no CPU for the Wardens"; exit 1; }
  [ -n "${PG_CPUS:-}" ] && pg_pin=(taskset -c "$PG_CPUS")
  warden_pin=(taskset -c "${WARDEN_CPUS:-$others}") loadgen_pin=(taskset -c "${LOADGEN_CPUS:-$others}")
  echo "CPUs: PostgreSQL ${PG_CPUS:-any}, Wardens ${WARDEN_CPUS:-$others}, load generators ${LOADGEN_CPUS:-$others}"
else
  echo "CPUs: all processes on all CPUs"
fi

work=$(mktemp -d)
bin=$work/bin
mkdir -p "$bin" "$work/pg"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chmod 755 "$work"; chown postgres "$work/pg"; fi
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  as_pg "$pgbin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
[ -n "${AUDIT_METRICS:-}" ] && trap 'curl -s http://127.0.0.1:18283/metrics | grep -E "^warden_audit" > "$AUDIT_METRICS"; cleanup' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$pgbin/initdb" -D "$work/pg/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
as_pg "${pg_pin[@]}" "$pgbin/pg_ctl" -D "$work/pg/data" -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1" -l "$work/pg/log" -w start >/dev/null
# Over loopback TCP, the kernel's receive work for PostgreSQL's socket runs
# on the sending Warden's thread and counts as Warden's CPU; a Unix socket
# (PG_TRANSPORT=unix) charges it less, as a remote PostgreSQL would.
case ${PG_TRANSPORT:-tcp} in
  tcp) db="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" ;;
  unix) db="postgres://postgres@/postgres?host=$work/pg&port=$port&sslmode=disable" ;;
  *) echo "PG_TRANSPORT is tcp or unix"; exit 1 ;;
esac

(cd "$lg" && go build -o "$bin/loadgen" .)
go build -o "$bin/warden" ./cmd/warden
"$bin/warden" migrate --database-url "$db" up >/dev/null
"$bin/warden" policy import --database-url "$db" testdata/bench/rules-trino.json >/dev/null

common=(serve --database-url "$db" --admin-addr "" --log-level warn)
WARDEN_AUDIT_ENABLED=false "${warden_pin[@]}" "$bin/warden" "${common[@]}" --addr 127.0.0.1:18281 >/dev/null 2>&1 &
off_pid=$!
"${warden_pin[@]}" "$bin/warden" "${common[@]}" --addr 127.0.0.1:18283 --audit-spool-dir "$work/spool" ${AUDIT_FLAGS:-} >/dev/null 2>&1 &
on_pid=$!
for p in 18281 18283; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$p/health/ready" >/dev/null 2>&1 && break; sleep 0.1; done
done

pg_ticks() { # CPU ticks (utime+stime) of every PostgreSQL process of the cluster
  local t=0
  for pid in $(pgrep -f "$work/pg/data" ; pgrep -P "$(head -1 "$work/pg/data/postmaster.pid")"); do
    [ -r "/proc/$pid/stat" ] && t=$((t + $(awk '{print $14+$15}' "/proc/$pid/stat")))
  done
  echo $t
}
run() { # label port pid
  "${loadgen_pin[@]}" "$bin/loadgen" -url "http://127.0.0.1:$2/v1/data/trino/allow" -body-file testdata/bench/allow.jsonl \
    -c "$conns" -d "$dur" -warmup 2s -server-pid "$3" -json -label "$1"
}
hz=$(getconf CLK_TCK)
count() { as_pg "$pgbin/psql" -h "$work/pg" -p "$port" -U postgres -Atc "select count(*) from audit_decisions"; }
for r in $(seq "$rounds"); do
  if [ "$mode" = paired ]; then
    rows0=$(count); before=$(pg_ticks)
    run audit-off 18281 "$off_pid" > "$work/off.json" &
    line=$(run audit-on 18283 "$on_pid")
    wait
    cat "$work/off.json"
  else
    run audit-off 18281 "$off_pid"
    sleep 2
    rows0=$(count); before=$(pg_ticks)
    line=$(run audit-on 18283 "$on_pid")
  fi
  sleep 2 # the last flush
  after=$(pg_ticks); rows1=$(count)
  echo "$line" | python3 -c "import json,sys; r=json.load(sys.stdin); r['pg_cpu_s']=($after-$before)/$hz; r['recorded']=$rows1-$rows0; print(json.dumps(r))"
done | tee "$work/results.jsonl"
rows=$(count)
python3 - "$work/results.jsonl" "$rows" "$mode" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def col(label, key): return [r[key] for r in rows if r.get("label") == label]
off, on = col("audit-off", "server_cpu_us_per_req"), col("audit-on", "server_cpu_us_per_req")
print(f"mode: {sys.argv[3]}")
print(f"audit-off server CPU us/decision per round: {[round(x,1) for x in off]}")
print(f"audit-on  server CPU us/decision per round: {[round(x,1) for x in on]}")
print(f"audit-on/audit-off CPU per decision, median of rounds: {statistics.median(on)/statistics.median(off):.3f}")
print(f"req/s off {[round(x) for x in col('audit-off','rps')]}, on {[round(x) for x in col('audit-on','rps')]}")
pg = [r["pg_cpu_s"] * 1e6 / max(r["recorded"], 1) for r in rows if r.get("label") == "audit-on"]
print(f"PostgreSQL CPU per recorded decision (us, per round): {[round(x,1) for x in pg]}")
print(f"rows recorded: {sys.argv[2]}; errors: {sum(r['errors'] + r['non2xx'] for r in rows)}")
PY
