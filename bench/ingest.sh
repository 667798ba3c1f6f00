#!/usr/bin/env bash
# Ingest benchmark: durable single-event POST /audit_logs/events against GET /health (the HTTP
# floor), with wrk at several connection counts, on SQLite and PostgreSQL; medians of --runs.
#
#   bash bench/ingest.sh [--duration 10] [--runs 3] [--connections 1,16,64]
#                        [--backends sqlite,postgres] [--threads 2]
#                        [--log on|off|witness, comma-separated] [--keys]
#
# --log on,off measures the cost of the tamper-evidence log: every run starts one
# server with the background log builder on (the default) and one with it off
# (`--log-interval-secs 0`), and a second table gives ingest with the log on / off. With the
# log on, the run also checks afterwards that the log caught up with every stored event.
#
# --log on,witness measures the cost of witness cosigning: besides the server with the log on,
# one whose every checkpoint is sent to a witness (`auditlog witness serve`, started here on
# loopback) is measured, and a table gives ingest witnessed / not. Afterwards the run checks
# that the newest checkpoint carries the witness's cosignature.
#
# --keys sends a fresh Idempotency-Key with every event, as the Node, Python and Go SDKs do on
# every createEvent (rows are labelled "keyed"); without it no request carries one.
#
# Environment: AUDITLOG_BIN=path skips the release build and uses that binary;
# BENCH_PG (default postgres://postgres@127.0.0.1:5432) is the PostgreSQL server, where a fresh
# database is created for every server start and dropped at exit; BENCH_SERVER_ARGS adds flags
# to `auditlog serve`; BENCH_KEEP=1 keeps the temp dir (server logs, raw wrk output).
# Prints a markdown table on stdout and saves it under bench/results/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

DURATION=10 RUNS=3 CONNECTIONS=1,16,64 BACKENDS=sqlite,postgres THREADS=2 LOG_VARIANTS=on KEYS=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --backends) BACKENDS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --log) LOG_VARIANTS="$2"; shift 2 ;;
    --keys) KEYS=keys; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
build_binary
require_free_gib 2

RESULTS="$BENCH_TMP/ingest.tsv"
: >"$RESULTS"
START_LOAD="$(load_avg)"
log "load average at start: $START_LOAD; fsync probe: $(fsync_probe "$BENCH_TMP")"

# run_wrk NAME CONNS URL SCRIPT [ARGS...]: one wrk run; appends a result row.
run_wrk() {
  local run="$1" backend="$2" endpoint="$3" conns="$4" url="$5" script="$6"; shift 6
  local threads=$((conns < THREADS ? conns : THREADS)) out load
  load="$(load_avg | cut -d' ' -f1)"
  out="$BENCH_TMP/wrk-$run-$backend-$endpoint-$conns.txt"
  wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout 10s -s "$script" "$url" -- "$@" >"$out" 2>&1
  local line
  line="$(grep '^RESULT' "$out")" || { cat "$out" >&2; exit 1; }
  # RESULT requests=N duration_us=D p50_us=P p99_us=Q non2xx=X socket_errors=Y
  eval "local ${line#RESULT }"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$backend" "$endpoint" "$conns" \
    "$requests" "$duration_us" "$p50_us" "$p99_us" "$non2xx" "$socket_errors" "$load" >>"$RESULTS"
  log "run $run $backend $endpoint c=$conns: $(awk -v r="$requests" -v d="$duration_us" 'BEGIN{printf "%.0f", r/(d/1e6)}') req/s, p50 $((p50_us))us p99 $((p99_us))us, non-2xx $non2xx, socket errors $socket_errors (load $load)"
}

stored_events() { # backend data_dir db_url org
  if [[ "$1" == sqlite ]]; then
    sqlite3 "$2/auditlog.db" "SELECT count(*) FROM events WHERE organization_id = '$4'"
  else
    psql "$3" -qAtc "SELECT count(*) FROM events WHERE organization_id = '$4'"
  fi
}

IFS=, read -ra conns_list <<<"$CONNECTIONS"
IFS=, read -ra backend_list <<<"$BACKENDS"
IFS=, read -ra variant_list <<<"$LOG_VARIANTS"
BASE_SERVER_ARGS="${BENCH_SERVER_ARGS:-}"
CATCH_UP_NOTES=""
for run in $(seq 1 "$RUNS"); do
  for store in "${backend_list[@]}"; do
  for variant in "${variant_list[@]}"; do
    # The row label: the store, plus "log off" when the log builder was turned off.
    backend="$store${KEYS:+, keyed}"
    BENCH_SERVER_ARGS="$BASE_SERVER_ARGS"
    data_dir="$BENCH_TMP/data-$run-$store-$variant"
    mkdir -p "$data_dir"
    if [[ "$variant" == off ]]; then
      backend="$store${KEYS:+, keyed}, log off"
      BENCH_SERVER_ARGS="$BASE_SERVER_ARGS --log-interval-secs 0"
    fi
    if [[ "$variant" == witness ]]; then
      backend="$store${KEYS:+, keyed}, witnessed"
      witness_dir="$data_dir/witness" witness_port="$(free_port)"
      witness_key="$("$BIN" witness key --data-dir "$witness_dir" --name bench.witness)"
      BENCH_SERVER_ARGS="$BASE_SERVER_ARGS --witness $witness_key=http://127.0.0.1:$witness_port \
        --witness-allow-plaintext true --witness-allow-networks 127.0.0.0/8"
    fi
    db_url=""
    if [[ "$store" == postgres ]]; then fresh_pg_db; db_url="$PG_URL"; fi
    start_server "$data_dir" "$db_url"
    witness_pid=""
    if [[ "$variant" == witness ]]; then
      "$BIN" witness serve --data-dir "$witness_dir" --name bench.witness \
        --listen "127.0.0.1:$witness_port" --log "$(curl -fsS "$BASE/.well-known/auditlog/log-key")" \
        >>"$data_dir/witness.log" 2>&1 &
      witness_pid=$!
    fi
    org="$(api POST /organizations '{"name":"Ingest bench"}' | json_field id)"
    for conns in "${conns_list[@]}"; do
      run_wrk "$run" "$backend" health "$conns" "$BASE/health" "$BENCH_ROOT/bench/wrk/health.lua"
      run_wrk "$run" "$backend" ingest "$conns" "$BASE/audit_logs/events" "$BENCH_ROOT/bench/wrk/ingest.lua" "$org" "$BENCH_KEY" $KEYS
    done
    if [[ "$variant" == on && "$LOG_VARIANTS" == *off* ]]; then
      # The log must keep up with ingest, not just defer the work: time until the tree holds
      # every stored event (the builder runs every 5 s by default).
      total="$(stored_events "$store" "$data_dir" "$db_url" "$org")"
      t0="$(now)"
      wait_for_tree "$store" "$data_dir" "$db_url" "$org" "$total" 60 || true
      size="$(tree_size "$store" "$data_dir" "$db_url" "$org")"
      log "run $run $store: tree holds $size of $total events $(elapsed "$t0" "$(now)") s after the load stopped"
      CATCH_UP_NOTES+="run $run $store: $size/$total leaves after $(elapsed "$t0" "$(now)") s; "
    fi
    if [[ "$variant" == witness ]]; then
      # Cosigning must keep up too: the newest checkpoint (once the tree caught up) carries the
      # witness's cosignature.
      total="$(stored_events "$store" "$data_dir" "$db_url" "$org")"
      wait_for_tree "$store" "$data_dir" "$db_url" "$org" "$total" 60 || true
      cosigned=no
      for _ in $(seq 1 100); do
        note="$(curl -fsS -H "Authorization: Bearer $BENCH_KEY" "$BASE/audit_logs/log/$org/tlog/checkpoint" || true)"
        if [[ "$(sed -n 2p <<<"$note")" == "$total" ]] && grep -q '^— bench.witness ' <<<"$note"; then
          cosigned=yes; break
        fi
        sleep 0.2
      done
      log "run $run $store: checkpoint of all $total events cosigned by the witness: $cosigned"
      CATCH_UP_NOTES+="run $run $store witnessed: checkpoint of $total cosigned: $cosigned; "
      kill "$witness_pid" 2>/dev/null || true
      wait "$witness_pid" 2>/dev/null || true
    fi
    stop_server
    # Every acknowledged event must be stored (the server was stopped cleanly; the SIGKILL
    # durability test lives in the test suite). wrk may count a request cut off at the end of
    # its duration as neither, so stored >= acknowledged is the check.
    acked="$(awk -F'\t' -v r="$run" -v b="$backend" '$1==r && $2==b && $3=="ingest" {s += $5 - $9} END {print s+0}' "$RESULTS")"
    stored="$(stored_events "$store" "$data_dir" "$db_url" "$org")"
    log "run $run $backend: $acked acknowledged, $stored stored"
    if ((stored < acked)); then echo "LOST EVENTS: $acked acknowledged, $stored stored" >&2; exit 1; fi
    rm -rf "$data_dir/auditlog.db"*
    if [[ -n "$db_url" ]]; then drop_pg_db "$db_url"; fi
  done
  done
done
BENCH_SERVER_ARGS="$BASE_SERVER_ARGS"
END_LOAD="$(load_avg)"

TABLE="$(python3 - "$RESULTS" "$RUNS" "$DURATION" <<'PY'
import sys, statistics, collections
path, runs, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = collections.defaultdict(dict)   # (backend, conns) -> run -> endpoint -> (rps, p50, p99, bad, load)
for line in open(path):
    run, backend, endpoint, conns, req, dur, p50, p99, non2xx, sockerr, load = line.rstrip("\n").split("\t")
    ok = int(req) - int(non2xx)
    rows[(backend, int(conns))].setdefault(run, {})[endpoint] = (
        ok / (int(dur) / 1e6), int(p50) / 1000, int(p99) / 1000, int(non2xx) + int(sockerr), float(load))
med = statistics.median
print(f"| backend | conns | ingest events/s | ingest p50 ms | ingest p99 ms | /health req/s | /health p50 ms | /health p99 ms | ingest/floor | errors | load (1 min) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for (backend, conns) in sorted(rows, key=lambda k: (not k[0].startswith("sqlite"), k[0], k[1])):
    per_run = [r for r in rows[(backend, conns)].values() if "ingest" in r and "health" in r]
    ing = lambda i: med(r["ingest"][i] for r in per_run)
    hl = lambda i: med(r["health"][i] for r in per_run)
    ratio = med(r["ingest"][0] / r["health"][0] for r in per_run)
    errors = sum(r["ingest"][3] + r["health"][3] for r in per_run)
    loads = sorted(r["ingest"][4] for r in per_run)
    print(f"| {backend} | {conns} | {ing(0):,.0f} | {ing(1):.2f} | {ing(2):.2f} | {hl(0):,.0f} | {hl(1):.2f} | {hl(2):.2f} | {ratio:.2f} | {errors} | {loads[0]:.1f}–{loads[-1]:.1f} |")
print()
print(f"Medians of {len(per_run)} runs × {duration} s per cell (ratio: median of per-run ratios; errors: non-2xx + socket errors summed over runs).")
# With --log on,off: ingest with the tamper-evidence log builder on, relative to off, per run.
pairs = [(b, c) for (b, c) in rows if (f"{b}, log off", c) in rows]
if pairs:
    print()
    print("| backend | conns | events/s log on | events/s log off | on/off | p99 ms log on | p99 ms log off |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (backend, conns) in sorted(pairs, key=lambda k: (k[0] != "sqlite", k[1])):
        on, off = rows[(backend, conns)], rows[(f"{backend}, log off", conns)]
        runs_both = [r for r in on if r in off and "ingest" in on[r] and "ingest" in off[r]]
        ratio = med(on[r]["ingest"][0] / off[r]["ingest"][0] for r in runs_both)
        m = lambda d, i: med(d[r]["ingest"][i] for r in runs_both)
        print(f"| {backend} | {conns} | {m(on, 0):,.0f} | {m(off, 0):,.0f} | {ratio:.2f} | {m(on, 2):.2f} | {m(off, 2):.2f} |")
    print()
    print("on/off: median of per-run ratios of events/s (target: ≥ 0.85, i.e. at most 15 % slower with the log on).")
# With --log on,witness: ingest with every checkpoint sent to a witness, relative to without.
pairs = [(b, c) for (b, c) in rows if (f"{b}, witnessed", c) in rows]
if pairs:
    print()
    print("| backend | conns | events/s witnessed | events/s not | witnessed/not | p99 ms witnessed | p99 ms not |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (backend, conns) in sorted(pairs, key=lambda k: (k[0] != "sqlite", k[1])):
        on, off = rows[(f"{backend}, witnessed", conns)], rows[(backend, conns)]
        runs_both = [r for r in on if r in off and "ingest" in on[r] and "ingest" in off[r]]
        ratio = med(on[r]["ingest"][0] / off[r]["ingest"][0] for r in runs_both)
        m = lambda d, i: med(d[r]["ingest"][i] for r in runs_both)
        print(f"| {backend} | {conns} | {m(on, 0):,.0f} | {m(off, 0):,.0f} | {ratio:.2f} | {m(on, 2):.2f} | {m(off, 2):.2f} |")
    print()
    print("witnessed/not: median of per-run ratios of events/s (target: ≥ 0.95; cosigning is off the ingest path).")
PY
)"
REPORT="## Ingest ($(date -u +%Y-%m-%dT%H:%MZ), $(source_label))

$TABLE
Machine: $(machine_line). Load average at start $START_LOAD, at end $END_LOAD.
${CATCH_UP_NOTES:+Log caught up after the load: $CATCH_UP_NOTES
}wrk $(wrk_version), -t min($THREADS, conns), --timeout 10s; durable ingest (SQLite WAL synchronous=FULL; PostgreSQL fsync=$(psql "$BENCH_PG/postgres" -qAtc 'show fsync' 2>/dev/null), synchronous_commit=$(psql "$BENCH_PG/postgres" -qAtc 'show synchronous_commit' 2>/dev/null)). fdatasync probe on the data disk: $(fsync_probe "$BENCH_TMP").
"
echo "$REPORT"
mkdir -p "$BENCH_ROOT/bench/results"
echo "$REPORT" >"$BENCH_ROOT/bench/results/ingest-$(date -u +%Y%m%dT%H%M%SZ).md"
