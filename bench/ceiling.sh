#!/usr/bin/env bash
# Ingest ceiling (a diagnostic, not a target): how close to the HTTP floor ingest could come on
# this machine if the database cost nothing. Each run starts fresh SQLite servers and measures,
# at the same connection count, one after another:
#
#   floor      GET /health, as in bench/ingest.sh
#   transport  the benchmark's event bodies POSTed to /health, answered 405 without being read:
#              what generating and sending them costs wrk and the kernel
#   no store   the binary built with the `ceiling-diagnostic` feature: the whole ingest path
#              (API key, body, JSON, validation, canonical bytes, leaf hash, group-commit
#              queue, response) except the database; it answers "stored" and stores nothing
#              (crates/auditlog-server/src/discarding_store.rs)
#   shipped    the binary as shipped: durable ingest
#
# and prints each rate with its ratio to the floor of the same run (medians of --runs).
#
#   bash bench/ceiling.sh [--duration 10] [--runs 3] [--connections 64] [--threads 2]
#
# The diagnostic binary is built under target/ceiling (the first build copies target/release
# there so that only the workspace crates compile). AUDITLOG_BIN=path
# uses that binary as "shipped" instead of building this tree. Saves the table under
# bench/results/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
CEILING_TARGET="$BENCH_ROOT/target/ceiling"
trap bench_cleanup EXIT

DURATION=10 RUNS=3 CONNECTIONS=64 THREADS=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
build_binary
SHIPPED="$BIN"

if [[ ! -d "$CEILING_TARGET/release" && -d "$BENCH_ROOT/target/release" ]]; then
  log "copying target/release to target/ceiling (dependencies are reused, not rebuilt)"
  mkdir -p "$CEILING_TARGET"
  cp -a "$BENCH_ROOT/target/release" "$CEILING_TARGET/release"
fi
log "cargo build --release --bin auditlog --features ceiling-diagnostic"
(cd "$BENCH_ROOT" && cargo build --release --bin auditlog -p auditlog-server \
  --features ceiling-diagnostic --target-dir "$CEILING_TARGET" >&2)
NO_STORE="$CEILING_TARGET/release/auditlog"
require_free_gib 2

RESULTS="$BENCH_TMP/ceiling.tsv"
: >"$RESULTS"
START_LOAD="$(load_avg)"

# measure RUN NAME URL SCRIPT [ARGS...]: one wrk run against the running server; appends
# run, name, requests/s (all answers: the transport row's are 405s) and p99 µs.
measure() {
  local run="$1" name="$2" url="$3" script="$4"; shift 4
  local out="$BENCH_TMP/wrk-$run-$name.txt" line
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$script" "$url" -- "$@" >"$out" 2>&1
  line="$(grep '^RESULT' "$out")" || { cat "$out" >&2; exit 1; }
  eval "local ${line#RESULT }"
  if [[ "$name" != transport ]] && ((non2xx + socket_errors > 0)); then
    echo "$name: $non2xx non-2xx answers, $socket_errors socket errors" >&2
    exit 1
  fi
  printf '%s\t%s\t%s\t%s\n' "$run" "$name" \
    "$(awk -v r="$requests" -v d="$duration_us" 'BEGIN {printf "%.1f", r / (d / 1e6)}')" "$p99_us" >>"$RESULTS"
  log "run $run $name: $(tail -1 "$RESULTS" | cut -f3) req/s, p99 ${p99_us}us"
}

# with_server RUN BINARY FN...: runs the measurements FN on a fresh SQLite server of BINARY.
with_server() {
  local run="$1" binary="$2"; shift 2
  local data_dir="$BENCH_TMP/data-$run-$1"
  mkdir -p "$data_dir"
  BIN="$binary" start_server "$data_dir"
  ORG="$(api POST /organizations '{"name":"Ceiling bench"}' | json_field id)"
  for step in "$@"; do "$step" "$run"; done
  stop_server
  rm -rf "$data_dir"
}

LUA="$BENCH_ROOT/bench/wrk"
floor() { measure "$1" floor "$BASE/health" "$LUA/health.lua"; }
transport() { measure "$1" transport "$BASE/health" "$LUA/ingest.lua" "$ORG" "$BENCH_KEY"; }
no_store() { measure "$1" "no store" "$BASE/audit_logs/events" "$LUA/ingest.lua" "$ORG" "$BENCH_KEY"; }
shipped() { measure "$1" shipped "$BASE/audit_logs/events" "$LUA/ingest.lua" "$ORG" "$BENCH_KEY"; }

for run in $(seq 1 "$RUNS"); do
  with_server "$run" "$SHIPPED" floor transport
  with_server "$run" "$NO_STORE" no_store
  with_server "$run" "$SHIPPED" shipped
done
END_LOAD="$(load_avg)"

TABLE="$(python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
runs = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    run, name, rps, p99 = line.rstrip("\n").split("\t")
    runs[run][name] = (float(rps), int(p99) / 1000)
med = statistics.median
print("| load | requests/s | p99 ms | ÷ floor |")
print("|---|---:|---:|---:|")
for name in ["floor", "transport", "no store", "shipped"]:
    rps = med(r[name][0] for r in runs.values())
    p99 = med(r[name][1] for r in runs.values())
    ratio = med(r[name][0] / r["floor"][0] for r in runs.values())
    print(f"| {name} | {rps:,.0f} | {p99:.2f} | {ratio:.2f} |")
PY
)"
REPORT="## Ingest ceiling ($(date -u +%Y-%m-%dT%H:%MZ), $(source_label), HEAD $(git -C "$BENCH_ROOT" rev-parse --short HEAD), ceiling-diagnostic build)

$TABLE

Medians of $RUNS runs × $DURATION s, $CONNECTIONS connections, SQLite; ratio: median of per-run ratios to the floor.
Machine: $(machine_line). Load average at start $START_LOAD, at end $END_LOAD. wrk $(wrk_version), -t $THREADS.
"
echo "$REPORT"
mkdir -p "$BENCH_ROOT/bench/results"
echo "$REPORT" >"$BENCH_ROOT/bench/results/ceiling-$(date -u +%Y%m%dT%H%M%SZ).md"
