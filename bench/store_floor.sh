#!/usr/bin/env bash
# The database's floor under durable ingest: what the database alone costs to store the rows a
# durable ingest run stored, committed in batches of the same size, against what the server
# spends. It bounds the ingest targets this machine can miss:
#   bytes per event (SQLite): what SQLite writes for the rows with every index, durably, at the
#     server's commit size; the server cannot write less at that size without dropping an index
#     or durability;
#   durable ÷ no store: with the cores saturated by the no-store run, adding the floor's CPU per
#     event S to the no-store run's machine-wide CPU per request H leaves at most H ÷ (H + S)
#     of its rate.
#
# Each run, one after another:
#   no store   the ceiling-diagnostic binary (see bench/ceiling.sh) under bench/wrk/ingest.lua:
#              requests/s and the machine's busy CPU per request (/proc/stat, wrk included);
#   sqlite, postgres
#              the shipped binary on a fresh store of each --backends, the same load:
#              requests/s, the machine's busy CPU per request, the server's own CPU per event,
#              its write_bytes per event (SQLite; PostgreSQL writes in its own processes), and
#              events per commit (auditlog_ingest_batch_events); then the server stops;
#   floor      bench/store_floor.py replays that run's stored rows into a fresh, migrated,
#              empty database (SQLite: one per --page-sizes), in commits of the run's events per
#              commit (rounded) and of each --commit-sizes (default: --connections, the largest
#              commit that load allows): events/s alone, machine CPU µs per event (a read-only
#              pass subtracted), bytes written per event (SQLite); then the Merkle log hashes the
#              run's background builder stored, replayed as the builder stores them: the log's
#              CPU µs per event L, which durable ingest as shipped pays and the no-store run
#              does not, so the table also bounds durable ÷ no store at H ÷ (H + S + L).
#
# With --keys every load runs a second time with SDK-style idempotency keys (", keyed"), and
# the floor replays each event's idempotency record with it; the table then also bounds
# keyed ÷ unkeyed at (H + S) ÷ (H keyed + S keyed). On PostgreSQL the keyed floor inserts the
# records in the batch's statement, as the server's keyed statement does.
#
#   bash bench/store_floor.sh [--duration 10] [--runs 3] [--connections 64] [--threads 2]
#                             [--backends sqlite,postgres] [--page-sizes 4096,2048]
#                             [--commit-sizes 64] [--keys]
#
# CEILING_BIN / AUDITLOG_BIN / BENCH_PG as in bench/ceiling.sh. Needs wrk, sqlite3, psql and
# python3 (the SQLite floor runs in Python's sqlite3 module, the system SQLite; the server links
# its own bundled one). Run it on an otherwise idle machine. Saves the table under bench/results/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

DURATION=10 RUNS=3 CONNECTIONS=64 THREADS=2 BACKENDS=sqlite,postgres PAGE_SIZES=4096,2048
COMMIT_SIZES= KEYS=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --backends) BACKENDS="$2"; shift 2 ;;
    --page-sizes) PAGE_SIZES="$2"; shift 2 ;;
    --commit-sizes) COMMIT_SIZES="$2"; shift 2 ;;
    --keys) KEYS=keys; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in wrk sqlite3 psql python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }
done
build_binary
SHIPPED="$BIN"
build_ceiling_binary
require_free_gib 2

RESULTS="$BENCH_TMP/floor.tsv"
: >"$RESULTS"
START_LOAD="$(load_avg)"
LUA="$BENCH_ROOT/bench/wrk"


# load RUN NAME: bench/wrk/ingest.lua against the running server (with SDK-style keys if NAME
# ends in ", keyed"); appends a row
# RUN NAME requests/s machine-µs/request server-µs/request bytes/request idle-share.
load() {
  local run="$1" name="$2" out="$BENCH_TMP/wrk-$1-$2.txt" keys="" line machine0 machine1 cpu0 cpu1 w0 w1
  [[ "$name" == *", keyed" ]] && keys=keys
  read -ra machine0 <<<"$(busy_and_idle)"
  cpu0="$(server_cpu)" w0="$(written_bytes)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$LUA/ingest.lua" \
    "$BASE/audit_logs/events" -- "$ORG" "$BENCH_KEY" $keys >"$out" 2>&1
  read -ra machine1 <<<"$(busy_and_idle)"
  cpu1="$(server_cpu)" w1="$(written_bytes)"
  line="$(grep '^RESULT' "$out")" || { cat "$out" >&2; exit 1; }
  eval "local ${line#RESULT }"
  ((non2xx + socket_errors == 0)) || { echo "$name: $non2xx non-2xx, $socket_errors socket errors" >&2; exit 1; }
  awk -v run="$run" -v name="$name" -v r="$requests" -v d="$duration_us" -v j="$(jiffy_us)" \
    -v busy="$((machine1[0] - machine0[0]))" -v idle="$((machine1[1] - machine0[1]))" \
    -v cpu="$((cpu1 - cpu0))" -v w="$((w1 - w0))" 'BEGIN {
      printf "%s\t%s\t%.1f\t%.1f\t%.1f\t%.0f\t%.3f\n", run, name, r / (d / 1e6), busy * j / r,
        cpu * j / r, w / r, idle / (busy + idle) }' >>"$RESULTS"
  log "run $run $name: $(tail -1 "$RESULTS" | cut -f3-)"
}

# record_floor RUN LABEL LINE: appends a floor row from store_floor.py's output LINE.
record_floor() {
  local run="$1" label="$2"
  eval "local $3"
  printf '%s\tfloor %s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$label" "$events_per_s" \
    "$cpu_us_per_event" "$read_cpu_us_per_event" "$bytes_per_event" "$log_cpu_us_per_event" >>"$RESULTS"
  log "run $run floor $label: $3"
}

# floor_sqlite RUN STORED_DB PER_COMMIT LABEL VARIANT: replays STORED_DB (with its idempotency
# records, if keyed) into a fresh database of each page size.
floor_sqlite() {
  local run="$1" stored="$2" per_commit="$3" label="$4" variant="$5" page dir line
  IFS=, read -ra pages <<<"$PAGE_SIZES"
  for page in "${pages[@]}"; do
    dir="$BENCH_TMP/floor-$page"
    rm -rf "$dir" && mkdir -p "$dir"
    "$SHIPPED" seed --events 0 --data-dir "$dir" >/dev/null 2>>"$dir/seed.log"
    # An empty database takes a new page size only outside WAL mode, by VACUUM.
    sqlite3 "$dir/auditlog.db" "PRAGMA journal_mode = DELETE; PRAGMA page_size = $page; VACUUM;" >/dev/null
    line="$(python3 "$BENCH_ROOT/bench/store_floor.py" sqlite "$stored" "$dir/auditlog.db" "$per_commit")"
    [[ "$line" == *" page_size=$page "* ]] || { echo "floor database: $line, not $page B pages" >&2; exit 1; }
    record_floor "$run" "sqlite$variant, $page B pages, $label" "$line"
    rm -rf "$dir"
  done
}

# floor_postgres RUN STORED_URL PER_COMMIT LABEL VARIANT: copies the stored rows (with their
# idempotency records, if keyed) into a fresh, migrated database and replays them there.
floor_postgres() {
  local run="$1" stored="$2" per_commit="$3" label="$4" variant="$5" dir="$BENCH_TMP/floor-postgres" line
  rm -rf "$dir" && mkdir -p "$dir"
  fresh_pg_db
  "$SHIPPED" seed --events 0 --data-dir "$dir" --database-url "$PG_URL" >/dev/null 2>>"$dir/seed.log"
  psql "$PG_URL" -q -v ON_ERROR_STOP=1 -c "CREATE TABLE floor_events (LIKE events);
    CREATE TABLE floor_target_types (LIKE event_target_types);
    CREATE TABLE floor_keys (LIKE idempotency_keys);
    CREATE TABLE floor_hashes (LIKE tlog_hashes); CREATE TABLE floor_trees (LIKE tlog_trees);"
  psql "$stored" -qc '\copy events TO STDOUT' | psql "$PG_URL" -qc '\copy floor_events FROM STDIN'
  psql "$stored" -qc '\copy event_target_types TO STDOUT' |
    psql "$PG_URL" -qc '\copy floor_target_types FROM STDIN'
  psql "$stored" -qc '\copy idempotency_keys TO STDOUT' | psql "$PG_URL" -qc '\copy floor_keys FROM STDIN'
  psql "$stored" -qc '\copy organizations TO STDOUT' | psql "$PG_URL" -qc '\copy organizations FROM STDIN'
  psql "$stored" -qc '\copy tlog_hashes TO STDOUT' | psql "$PG_URL" -qc '\copy floor_hashes FROM STDIN'
  psql "$stored" -qc '\copy tlog_trees TO STDOUT' | psql "$PG_URL" -qc '\copy floor_trees FROM STDIN'
  psql "$PG_URL" -q -v ON_ERROR_STOP=1 -c "CREATE INDEX ON floor_events (row_id);
    CREATE INDEX ON floor_events (id); CREATE INDEX ON floor_target_types (event_row_id);
    ALTER TABLE floor_keys ADD COLUMN position bigint;
    UPDATE floor_keys f SET position = n.position FROM
      (SELECT environment, key, row_number() OVER (ORDER BY created_at, key) AS position
       FROM floor_keys) n WHERE f.environment = n.environment AND f.key = n.key;
    CREATE INDEX ON floor_keys (position); CREATE INDEX ON floor_hashes (organization_id, stored_index);
    UPDATE organizations SET last_sequence = 0; ANALYZE;"
  line="$(python3 "$BENCH_ROOT/bench/store_floor.py" postgres "$PG_URL" "$per_commit")"
  record_floor "$run" "postgres$variant, $label" "$line"
  drop_pg_db "$PG_URL"
  rm -rf "$dir"
}

IFS=, read -ra backend_list <<<"$BACKENDS"
# By default the floor is also taken at the largest commit the load allows: every connection's
# event in one commit.
IFS=, read -ra sizes <<<"${COMMIT_SIZES:-$CONNECTIONS}"
variants=("")
[[ -n "$KEYS" ]] && variants+=(", keyed")
for run in $(seq 1 "$RUNS"); do
  for variant in "${variants[@]}"; do
    data_dir="$BENCH_TMP/no-store-$run"
    mkdir -p "$data_dir"
    BIN="$NO_STORE" start_server "$data_dir"
    ORG="$(api POST /organizations '{"name":"Floor bench"}' | json_field id)"
    load "$run" "no store$variant"
    stop_server
    rm -rf "$data_dir"
  done

  for store in "${backend_list[@]}"; do
    for variant in "${variants[@]}"; do
      data_dir="$BENCH_TMP/$store-$run" db_url=""
      mkdir -p "$data_dir"
      if [[ "$store" == postgres ]]; then fresh_pg_db; db_url="$PG_URL"; fi
      metrics_port="$(free_port)"
      BIN="$SHIPPED" AUDITLOG_METRICS_LISTEN="127.0.0.1:$metrics_port" start_server "$data_dir" "$db_url"
      ORG="$(api POST /organizations '{"name":"Floor bench"}' | json_field id)"
      load "$run" "$store$variant"
      per_commit="$(curl -fsS "http://127.0.0.1:$metrics_port/metrics" | events_per_commit "%.0f")"
      # The log builder runs every few seconds; the log floor replays a complete log.
      stored="$(count_events "$store" "$data_dir" "$db_url" "$ORG")"
      wait_for_tree "$store" "$data_dir" "$db_url" "$ORG" "$stored" 120 ||
        { echo "$store: the log did not reach $stored leaves" >&2; exit 1; }
      stop_server
      printf '%s\t%s events per commit\t%s\n' "$run" "$store$variant" "$per_commit" >>"$RESULTS"
      for size in "$per_commit" "${sizes[@]}"; do
        label="$size per commit"
        [[ "$size" == "$per_commit" ]] && label="the run's commit size"
        if [[ "$store" == sqlite ]]; then
          floor_sqlite "$run" "$data_dir/auditlog.db" "$size" "$label" "$variant"
        else
          floor_postgres "$run" "$db_url" "$size" "$label" "$variant"
        fi
      done
      if [[ -n "$db_url" ]]; then drop_pg_db "$db_url"; fi
      rm -rf "$data_dir"
    done
  done
done
END_LOAD="$(load_avg)"

TABLE="$(python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
med = statistics.median
loads, floors, per_commit = collections.defaultdict(list), collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if f[1].endswith(" events per commit"):
        per_commit[f[1].removesuffix(" events per commit")].append(f[2])
    elif f[1].startswith("floor "):
        floors[f[1].removeprefix("floor ")].append([float(x) for x in f[2:]])
    else:
        loads[f[1]].append([float(x) for x in f[2:]])
def keyed(name):
    return ", keyed" if ", keyed" in name else ""
def ratio(of, base):
    return med(a[0] / b[0] for a, b in zip(of, base))
print("| load | events/s | ÷ no store | keyed ÷ not | machine CPU µs / request | server CPU µs / event | bytes written / event | idle |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, of in loads.items():
    store = name.removesuffix(", keyed")
    by_store = "" if store == "no store" else f"{ratio(of, loads['no store' + keyed(name)]):.2f}"
    by_keys = f"{ratio(of, loads[store]):.2f}" if keyed(name) else ""
    written = f"{med(x[3] for x in of):,.0f}" if store == "sqlite" else ""
    print(f"| {name} | {med(x[0] for x in of):,.0f} | {by_store} | {by_keys} | {med(x[1] for x in of):.1f} "
          f"| {med(x[2] for x in of):.1f} | {written} | {med(x[4] for x in of):.0%} |")
print()
print("Events per commit in the durable runs: " + "; ".join(
    f"{store} {', '.join(values)}" for store, values in per_commit.items()) + ".")
print()
print("| the database alone (floor) | events/s | CPU µs / event, S | bytes written / event | bound on durable ÷ no store, H ÷ (H + S) | the log's rows, CPU µs / event, L | bound with the log, H ÷ (H + S + L) |")
print("|---|---:|---:|---:|---:|---:|---:|")
# Each bound is taken within one run (its no-store H beside its floor's S and L), then the
# median over the runs, as every other ratio here.
def runs_h(name):
    return [x[1] for x in loads["no store" + keyed(name)]]
for name, of in floors.items():
    written = f"{med(x[3] for x in of):,.0f}" if name.startswith("sqlite") else ""
    bound = med(hv / (hv + x[1]) for hv, x in zip(runs_h(name), of))
    with_log = med(hv / (hv + x[1] + x[4]) for hv, x in zip(runs_h(name), of))
    print(f"| {name} | {med(x[0] for x in of):,.0f} | {med(x[1] for x in of):.1f} | {written} | {bound:.2f} "
          f"| {med(x[4] for x in of):.1f} | {with_log:.2f} |")
for name, of in floors.items():
    if keyed(name):
        plain = name.replace(", keyed", "")
        bounds = [(h0 + p[1]) / (hk + k[1]) for h0, hk, p, k in
                  zip(runs_h(plain), runs_h(name), floors[plain], of)]
        with_log = [(h0 + p[1] + p[4]) / (hk + k[1] + k[4]) for h0, hk, p, k in
                    zip(runs_h(plain), runs_h(name), floors[plain], of)]
        print(f"\nBound on keyed ÷ unkeyed ({plain}): (H + S) ÷ (H keyed + S keyed) = {med(bounds):.2f} "
              f"(runs {', '.join(f'{b:.2f}' for b in bounds)}); with the log's rows, "
              f"(H + S + L) ÷ (H keyed + S keyed + L keyed) = {med(with_log):.2f}.")
PY
)"
REPORT="## The database's floor under durable ingest ($(date -u +%Y-%m-%dT%H:%MZ), $(source_label))

$TABLE

Medians of $RUNS runs × $DURATION s, $CONNECTIONS connections, bench/wrk/ingest.lua. Machine CPU: busy jiffies of all cores (/proc/stat, wrk included) ÷ requests. Floor: bench/store_floor.py (SQLite: Python $(python3 -c 'import sqlite3, platform; print(platform.python_version(), "with SQLite", sqlite3.sqlite_version)'); PostgreSQL $(psql "$BENCH_PG/postgres" -qAtc 'SHOW server_version')), machine-wide CPU with a read-only pass over the same chunks subtracted; H: the no-store run's machine CPU per request (wrk included), S: the floor's CPU per event, L: the database's CPU per event to store the run's Merkle log hashes as the background builder does (1,024 leaves per transaction; durable ingest as shipped runs the builder, the no-store run has no events to log).
Machine: $(machine_line). Load average at start $START_LOAD, at end $END_LOAD. wrk $(wrk_version), -t $THREADS.
"
echo "$REPORT"
mkdir -p "$BENCH_ROOT/bench/results"
echo "$REPORT" >"$BENCH_ROOT/bench/results/store-floor-$(date -u +%Y%m%dT%H%M%SZ).md"
