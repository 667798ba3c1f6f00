#!/usr/bin/env bash
# Ingest ceiling: how close to the HTTP floor ingest comes on this machine, and how close
# durable ingest comes to ingest without a database. Each run starts fresh servers and
# measures, at the same connection count, one after another:
#
#   floor      GET /health, as in bench/ingest.sh
#   transport  the benchmark's event bodies POSTed to /health, answered 405 without being read:
#              what generating and sending them costs wrk and the kernel
#   no store   the binary built with the `ceiling-diagnostic` feature: the whole ingest path
#              (API key, body, JSON, validation, canonical bytes, leaf hash, group-commit
#              queue, response) except the database; it answers "stored" and stores nothing
#              (crates/auditlog-server/src/discarding_store.rs)
#   sqlite, postgres
#              the binary as shipped: durable ingest on each store of --backends
#
# With --keys, every row that ingests is measured a second time with a fresh SDK-style
# Idempotency-Key per event ("keyed"). Each rate is printed with its ratio to the floor and,
# for the stores, to "no store" and (keyed) to the same store without keys: medians of the
# per-run ratios over --runs. For SQLite the table also gives the bytes the server wrote per
# stored event (its /proc/<pid>/io write_bytes over the run: WAL frames, checkpoints, the log
# builder's hashes) and its resident memory after the run (VmRSS and peak VmHWM).
#
#   bash bench/ceiling.sh [--duration 10] [--runs 3] [--connections 64] [--threads 2]
#                         [--backends sqlite,postgres] [--keys]
#
# The diagnostic binary is built under target/ceiling (the first build copies target/release
# there so that only the workspace crates compile); CEILING_BIN=path uses a prebuilt one.
# AUDITLOG_BIN=path uses that binary as shipped instead of building this tree. BENCH_PG as in
# bench/ingest.sh. Saves the table under bench/results/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

DURATION=10 RUNS=3 CONNECTIONS=64 THREADS=2 BACKENDS=sqlite KEYS=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --backends) BACKENDS="$2"; shift 2 ;;
    --keys) KEYS=keys; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
build_binary
SHIPPED="$BIN"

build_ceiling_binary
require_free_gib 2

RESULTS="$BENCH_TMP/ceiling.tsv"
: >"$RESULTS"
START_LOAD="$(load_avg)"

# memory_kib FIELD: VmRSS or VmHWM of the running server.
memory_kib() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$BENCH_SERVER_PID/status"; }

# measure RUN NAME URL SCRIPT [ARGS...]: one wrk run against the running server; appends
# run, name, requests/s (all answers: the transport row's are 405s), p99 µs, bytes written per
# answered request, and the server's VmRSS and VmHWM in KiB after the run.
measure() {
  local run="$1" name="$2" url="$3" script="$4"; shift 4
  local out="$BENCH_TMP/wrk-$run-$name.txt" line before after
  before="$(written_bytes)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$script" "$url" -- "$@" >"$out" 2>&1
  after="$(written_bytes)"
  line="$(grep '^RESULT' "$out")" || { cat "$out" >&2; exit 1; }
  eval "local ${line#RESULT }"
  if [[ "$name" != transport ]] && ((non2xx + socket_errors > 0)); then
    echo "$name: $non2xx non-2xx answers, $socket_errors socket errors" >&2
    exit 1
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$name" \
    "$(awk -v r="$requests" -v d="$duration_us" 'BEGIN {printf "%.1f", r / (d / 1e6)}')" "$p99_us" \
    "$(awk -v b="$((after - before))" -v r="$requests" 'BEGIN {printf "%.0f", b / r}')" \
    "$(memory_kib VmRSS)" "$(memory_kib VmHWM)" >>"$RESULTS"
  log "run $run $name: $(tail -1 "$RESULTS" | cut -f3) req/s, p99 ${p99_us}us, $(tail -1 "$RESULTS" | cut -f5) bytes written per request"
}

# with_server RUN BINARY STORE FN...: runs the measurements FN on a fresh server of BINARY on
# STORE (sqlite or postgres).
with_server() {
  local run="$1" binary="$2" store="$3"; shift 3
  local data_dir="$BENCH_TMP/data-$run-$1" db_url=""
  mkdir -p "$data_dir"
  if [[ "$store" == postgres ]]; then fresh_pg_db; db_url="$PG_URL"; fi
  BIN="$binary" start_server "$data_dir" "$db_url"
  ORG="$(api POST /organizations '{"name":"Ceiling bench"}' | json_field id)"
  for step in "$@"; do "$step" "$run" "$store"; done
  stop_server
  rm -rf "$data_dir"
  if [[ -n "$db_url" ]]; then drop_pg_db "$db_url"; fi
}

LUA="$BENCH_ROOT/bench/wrk"
floor() { measure "$1" floor "$BASE/health" "$LUA/health.lua"; }
transport() { measure "$1" transport "$BASE/health" "$LUA/ingest.lua" "$ORG" "$BENCH_KEY"; }
ingest() { measure "$1" "$2" "$BASE/audit_logs/events" "$LUA/ingest.lua" "$ORG" "$BENCH_KEY"; }
ingest_keyed() { measure "$1" "$2, keyed" "$BASE/audit_logs/events" "$LUA/ingest.lua" "$ORG" "$BENCH_KEY" keys; }
no_store() { ingest "$1" "no store"; }
no_store_keyed() { ingest_keyed "$1" "no store"; }

IFS=, read -ra backend_list <<<"$BACKENDS"
for run in $(seq 1 "$RUNS"); do
  with_server "$run" "$SHIPPED" sqlite floor transport
  with_server "$run" "$NO_STORE" sqlite no_store ${KEYS:+no_store_keyed}
  for store in "${backend_list[@]}"; do
    with_server "$run" "$SHIPPED" "$store" ingest
    if [[ -n "$KEYS" ]]; then with_server "$run" "$SHIPPED" "$store" ingest_keyed; fi
  done
done
END_LOAD="$(load_avg)"

TABLE="$(python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
runs = collections.defaultdict(dict)
names = []
for line in open(sys.argv[1]):
    run, name, rps, p99, written, rss, hwm = line.rstrip("\n").split("\t")
    runs[run][name] = (float(rps), int(p99) / 1000, int(written), int(rss) / 1024, int(hwm) / 1024)
    if name not in names:
        names.append(name)
med = statistics.median
def ratio(name, base):
    pairs = [r for r in runs.values() if name in r and base in r]
    return f"{med(r[name][0] / r[base][0] for r in pairs):.2f}" if pairs else ""
print("| load | requests/s | p99 ms | ÷ floor | ÷ no store | keyed ÷ not | bytes written / request | RSS (peak) MiB |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name in names:
    of = [r[name] for r in runs.values() if name in r]
    store = name.removesuffix(", keyed")
    stored = store not in ("floor", "transport", "no store")
    written = f"{med(x[2] for x in of):,.0f}" if store == "sqlite" else ""
    print(f"| {name} | {med(x[0] for x in of):,.0f} | {med(x[1] for x in of):.2f} | {ratio(name, 'floor')} "
          f"| {ratio(name, 'no store') if stored else ''} | {ratio(name, store) if name.endswith(', keyed') else ''} "
          f"| {written} | {med(x[3] for x in of):.0f} ({max(x[4] for x in of):.0f}) |")
PY
)"
REPORT="## Ingest ceiling ($(date -u +%Y-%m-%dT%H:%MZ), $(source_label), HEAD $(git -C "$BENCH_ROOT" rev-parse --short HEAD), ceiling-diagnostic build)

$TABLE

Medians of $RUNS runs × $DURATION s, $CONNECTIONS connections; floor, transport and no store on SQLite; ratios: medians of per-run ratios. Bytes written: the server process's write_bytes over the run ÷ requests answered (SQLite only; PostgreSQL writes in its own processes). RSS: after each run, median (peak VmHWM, max).
Machine: $(machine_line). Load average at start $START_LOAD, at end $END_LOAD. wrk $(wrk_version), -t $THREADS.
"
echo "$REPORT"
mkdir -p "$BENCH_ROOT/bench/results"
echo "$REPORT" >"$BENCH_ROOT/bench/results/ceiling-$(date -u +%Y%m%dT%H%M%SZ).md"
