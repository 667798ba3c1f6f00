#!/usr/bin/env bash
# Bulk ingest benchmark: POST /audit_logs/events/bulk against the database's raw insert of the
# same prepared rows, and against `auditlog seed`, on SQLite and PostgreSQL; medians of --runs.
# Targets: bulk ingest at least half the rate of the raw insert, and five times seed's rate.
#
# Per run and backend, each step on a fresh data dir / database:
#   1. seed: `auditlog seed --events N` (events built exactly as the API builds them, appended
#      in transactions of 2,000 through the store's group-commit path, no HTTP): N / seconds.
#   2. raw floor: the rows seed stored (events, event_target_types and the organization)
#      inserted into a fresh, migrated, empty database (every index of the real schema; made by
#      `auditlog seed --events 0`) in ONE transaction, durably:
#        SQLite: the rows are first copied into a staging database file (not timed); the timed
#        step is one sqlite3 process that attaches it and runs INSERT … SELECT for the three
#        tables in one transaction (WAL, synchronous=FULL, as the server runs);
#        PostgreSQL: the rows are dumped with COPY … TO (CSV, not timed); the timed step is one
#        `psql --single-transaction` running \copy … FROM for the three tables. events.row_id
#        is an identity column, so events load without it in row_id order and
#        event_target_types.event_row_id is renumbered to match (checked after the load).
#   3. bulk over HTTP: a server and an organization, then wrk POSTs one NDJSON body of 1,000
#      synthetic events (built once per run like seed's, bench/wrk/bulk.lua) for --duration
#      seconds at each of --connections; events/s = 2xx requests/s × 1,000. Every answer must
#      be a 200 and every acknowledged event stored (checked). The background log builder runs,
#      as shipped. Over each of these runs: the server's CPU per event (/proc/<pid>/stat) and
#      the share of the machine's CPU time left idle (/proc/stat; wrk included).
# The table gives events/s for each, and bulk ÷ raw and bulk ÷ seed (bulk at its best
# connection count). Raw and bulk both start from an empty database; seed fills one too. A
# second table gives bulk's CPU per event and idle share per connection count.
#
#   bash bench/bulk.sh [--events 200000] [--runs 3] [--duration 10] [--connections 2,4]
#                      [--backends sqlite,postgres]
#
# Disk: about 2 KB per event per database, three databases per backend at a time (deleted
# after each run). Time per run and backend: seed (~N / 10k s) + raw + (--duration + a few s)
# per connection count.
#
# Environment: AUDITLOG_BIN=path skips the release build and uses that binary; BENCH_PG
# (default postgres://postgres@127.0.0.1:5432) is the PostgreSQL server, where fresh databases
# are created and dropped; BENCH_SERVER_ARGS adds flags to `auditlog serve`; BENCH_KEEP=1 keeps
# the temp dir (server logs, raw wrk output). Needs wrk, sqlite3, psql, python3.
# Prints a markdown table on stdout and saves it under bench/results/bulk-<timestamp>.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

EVENTS=200000 RUNS=3 DURATION=10 CONNECTIONS=2,4 BACKENDS=sqlite,postgres
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --backends) BACKENDS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in wrk sqlite3 psql python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }
done
build_binary
require_free_gib $((EVENTS * 6000 / 1073741824 + 2))

RESULTS="$BENCH_TMP/bulk.tsv"
# RUN BACKEND CONNECTIONS server-µs/event idle-share, one row per bulk run.
CPU_RESULTS="$BENCH_TMP/bulk-cpu.tsv"
: >"$CPU_RESULTS"
: >"$RESULTS"
START_LOAD="$(load_avg)"
log "load average at start: $START_LOAD; fsync probe: $(fsync_probe "$BENCH_TMP")"

# record RUN BACKEND WHAT EVENTS SECONDS
record() {
  printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"
  log "run $1 $2 $3: $4 events in $5 s ($(awk -v n="$4" -v s="$5" 'BEGIN{printf "%.0f", n/s}') events/s)"
}


# The bulk body: 1,000 events shaped as `auditlog seed` makes them (seed::synthetic_event),
# one second apart and ending about now, for organization $1, as NDJSON in file $2.
make_body() {
  python3 - "$1" "$2" <<'PY'
import datetime, json, sys, time
org, path = sys.argv[1], sys.argv[2]
actions = ["user.signed_in", "user.signed_out", "document.viewed", "document.updated",
           "invoice.paid", "team.member_added"]
# One second apart within 2001-01-01, a day that bench/wrk/bulk.lua moves forward on every
# request, so that each bulk's events come after the previous one's, as in an import.
start = datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc).timestamp()
with open(path, "w") as out:
    for n in range(1000):
        at = datetime.datetime.fromtimestamp(start + n, datetime.timezone.utc)
        occurred_at = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
        targets = [{"id": f"doc_{(n + t) % 5000}", "type": "document" if t == 0 else "team",
                    "name": f"Target {t}"} for t in range(n % 3 + 1)]
        event = {
            "action": actions[n % len(actions)],
            "occurred_at": occurred_at,
            "actor": {"id": f"user_{n % 1000}", "type": "user", "name": f"User {n % 1000}",
                      "metadata": {"role": "admin" if n % 7 == 0 else "member"}},
            "targets": targets,
            "context": {"location": f"10.0.{(n // 256) % 256}.{n % 256}",
                        "user_agent": "Mozilla/5.0 (bench)"},
            "metadata": {"request_id": f"req_{n}", "size": n % 10000, "ok": n % 2 == 0},
        }
        out.write(json.dumps({"organization_id": org, "event": event}, separators=(",", ":")) + "\n")
PY
}

# raw_sqlite RUN SEEDED_DIR ORG: steps 2 on SQLite.
raw_sqlite() {
  local run="$1" seeded="$2/auditlog.db" org="$3" staging="$BENCH_TMP/staging.db"
  local raw_dir="$BENCH_TMP/raw-sqlite" t0 seconds loaded
  rm -f "$staging"
  rm -rf "$raw_dir" && mkdir -p "$raw_dir"
  sqlite3 "$seeded" "ATTACH '$staging' AS s;
    CREATE TABLE s.organizations AS SELECT * FROM organizations WHERE id = '$org';
    CREATE TABLE s.events AS SELECT * FROM events WHERE organization_id = '$org' ORDER BY row_id;
    CREATE TABLE s.event_target_types AS SELECT t.* FROM event_target_types t
      JOIN events e ON e.row_id = t.event_row_id WHERE e.organization_id = '$org';"
  "$BIN" seed --events 0 --data-dir "$raw_dir" >/dev/null 2>>"$raw_dir/seed.log"
  t0="$(now)"
  sqlite3 "$raw_dir/auditlog.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
ATTACH '$staging' AS s;
BEGIN IMMEDIATE;
INSERT INTO main.organizations SELECT * FROM s.organizations;
INSERT INTO main.events SELECT * FROM s.events;
INSERT INTO main.event_target_types SELECT * FROM s.event_target_types;
COMMIT;
SQL
  seconds="$(elapsed "$t0" "$(now)")"
  loaded="$(count_events sqlite "$raw_dir" "" "$org")"
  [[ "$loaded" == "$EVENTS" ]] || { echo "raw load stored $loaded of $EVENTS events" >&2; exit 1; }
  record "$run" sqlite raw "$EVENTS" "$seconds"
  rm -rf "$raw_dir" "$staging"
}

# raw_postgres RUN SEEDED_URL ORG: step 2 on PostgreSQL.
raw_postgres() {
  local run="$1" seeded="$2" org="$3" dump="$BENCH_TMP/dump" t0 seconds columns loaded joined
  rm -rf "$dump" && mkdir -p "$dump"
  columns="$(psql "$seeded" -qAtc "SELECT string_agg(quote_ident(column_name), ',' ORDER BY ordinal_position)
    FROM information_schema.columns WHERE table_name = 'events' AND column_name <> 'row_id'")"
  psql "$seeded" -q -v ON_ERROR_STOP=1 <<SQL
\copy (SELECT * FROM organizations WHERE id = '$org') TO '$dump/organizations.csv' CSV
\copy (SELECT $columns FROM events WHERE organization_id = '$org' ORDER BY row_id) TO '$dump/events.csv' CSV
\copy (SELECT t.organization_id, t.target_type, t.occurred_at, t.event_row_id - m.first + 1 FROM event_target_types t, (SELECT min(row_id) AS first FROM events WHERE organization_id = '$org') m WHERE t.organization_id = '$org') TO '$dump/event_target_types.csv' CSV
SQL
  fresh_pg_db
  local raw_url="$PG_URL"
  mkdir -p "$BENCH_TMP/raw-postgres"
  "$BIN" seed --events 0 --data-dir "$BENCH_TMP/raw-postgres" --database-url "$raw_url" \
    >/dev/null 2>>"$BENCH_TMP/raw-postgres/seed.log"
  cat >"$dump/load.sql" <<SQL
\copy organizations FROM '$dump/organizations.csv' CSV
\copy events ($columns) FROM '$dump/events.csv' CSV
\copy event_target_types FROM '$dump/event_target_types.csv' CSV
SQL
  t0="$(now)"
  psql "$raw_url" -q -v ON_ERROR_STOP=1 --single-transaction -f "$dump/load.sql"
  seconds="$(elapsed "$t0" "$(now)")"
  loaded="$(count_events postgres "" "$raw_url" "$org")"
  joined="$(psql "$raw_url" -qAtc "SELECT (SELECT count(*) FROM event_target_types) -
    (SELECT count(*) FROM event_target_types t JOIN events e
       ON e.row_id = t.event_row_id AND e.occurred_at = t.occurred_at)")"
  [[ "$loaded" == "$EVENTS" && "$joined" == 0 ]] ||
    { echo "raw load: $loaded of $EVENTS events, $joined target rows unmatched" >&2; exit 1; }
  record "$run" postgres raw "$EVENTS" "$seconds"
  drop_pg_db "$raw_url"
  rm -rf "$dump" "$BENCH_TMP/raw-postgres"
}

# bulk_http RUN BACKEND: step 3.
bulk_http() {
  local run="$1" backend="$2" data_dir="$BENCH_TMP/bulk-$2" db_url="" org body conns
  rm -rf "$data_dir" && mkdir -p "$data_dir"
  if [[ "$backend" == postgres ]]; then
    fresh_pg_db
    db_url="$PG_URL"
  fi
  start_server "$data_dir" "$db_url"
  org="$(api POST /organizations '{"name":"Bulk bench"}' | json_field id)"
  body="$BENCH_TMP/bulk-body.ndjson"
  make_body "$org" "$body"
  # One request first: the body must be accepted as a whole.
  curl -fsS "$BASE/audit_logs/events/bulk" -H "Authorization: Bearer $BENCH_KEY" \
    -H 'Content-Type: application/x-ndjson' --data-binary "@$body" | grep -q '"count":1000' ||
    { echo "the bulk body was refused" >&2; exit 1; }
  local acked=1000
  for conns in "${conns_list[@]}"; do
    local threads=$((conns < 2 ? conns : 2)) out line machine0 machine1 cpu0 cpu1
    out="$BENCH_TMP/wrk-$run-$backend-$conns.txt"
    read -ra machine0 <<<"$(busy_and_idle)"
    cpu0="$(server_cpu)"
    wrk -t"$threads" -c"$conns" -d"${DURATION}s" --timeout 30s -s "$BENCH_ROOT/bench/wrk/bulk.lua" \
      "$BASE/audit_logs/events/bulk" -- "$body" "$BENCH_KEY" >"$out" 2>&1
    read -ra machine1 <<<"$(busy_and_idle)"
    cpu1="$(server_cpu)"
    line="$(grep '^RESULT' "$out")" || { cat "$out" >&2; exit 1; }
    # RESULT requests=N duration_us=D p50_us=P p99_us=Q non2xx=X socket_errors=Y
    eval "local ${line#RESULT }"
    if ((non2xx > 0 || socket_errors > 0)); then
      echo "bulk c=$conns: $non2xx non-2xx answers, $socket_errors socket errors" >&2
      tail -20 "$data_dir/server.log" >&2
      exit 1
    fi
    acked=$((acked + requests * 1000))
    awk -v run="$run" -v backend="$backend" -v conns="$conns" -v events="$((requests * 1000))" \
      -v j="$(jiffy_us)" -v cpu="$((cpu1 - cpu0))" -v busy="$((machine1[0] - machine0[0]))" \
      -v idle="$((machine1[1] - machine0[1]))" 'BEGIN {
        printf "%s\t%s\t%s\t%.2f\t%.3f\n", run, backend, conns, cpu * j / events,
          idle / (busy + idle) }' >>"$CPU_RESULTS"
    record "$run" "$backend" "bulk-c$conns" $((requests * 1000)) \
      "$(awk -v d="$duration_us" 'BEGIN{printf "%.6f", d/1e6}')"
    log "run $run $backend bulk c=$conns: p50 $((p50_us / 1000)) ms, p99 $((p99_us / 1000)) ms per 1,000-event request"
  done
  stop_server
  local stored
  stored="$(count_events "$backend" "$data_dir" "$db_url" "$org")"
  ((stored >= acked)) || { echo "bulk: $stored events stored, $acked acknowledged" >&2; exit 1; }
  [[ -n "$db_url" ]] && drop_pg_db "$db_url"
  rm -rf "$data_dir"
}

IFS=, read -ra conns_list <<<"$CONNECTIONS"
IFS=, read -ra backend_list <<<"$BACKENDS"
for run in $(seq 1 "$RUNS"); do
  for backend in "${backend_list[@]}"; do
    data_dir="$BENCH_TMP/seed-$backend"
    rm -rf "$data_dir" && mkdir -p "$data_dir"
    seed_args=(--data-dir "$data_dir")
    db_url=""
    if [[ "$backend" == postgres ]]; then
      fresh_pg_db
      db_url="$PG_URL"
      seed_args+=(--database-url "$db_url")
    fi
    t0="$(now)"
    org="$("$BIN" seed --events "$EVENTS" "${seed_args[@]}" 2>>"$data_dir/seed.log")"
    record "$run" "$backend" seed "$EVENTS" "$(elapsed "$t0" "$(now)")"
    if [[ "$backend" == sqlite ]]; then
      raw_sqlite "$run" "$data_dir" "$org"
    else
      raw_postgres "$run" "$db_url" "$org"
      drop_pg_db "$db_url"
    fi
    rm -rf "$data_dir"
    bulk_http "$run" "$backend"
  done
done
END_LOAD="$(load_avg)"

TABLE="$(python3 - "$RESULTS" "$CONNECTIONS" "$CPU_RESULTS" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
conns = sys.argv[2].split(",")
rates = {}
for run, backend, what, events, seconds in rows:
    rates.setdefault((backend, what), []).append(int(events) / float(seconds))
median = {key: statistics.median(values) for key, values in rates.items()}
backends = list(dict.fromkeys(row[1] for row in rows))
bulk_cols = [f"bulk c={c}" for c in conns]
print("| backend | seed | raw insert | " + " | ".join(bulk_cols) + " | bulk ÷ raw | bulk ÷ seed |")
print("|---|---:|---:|" + "---:|" * len(bulk_cols) + "---:|---:|")
for backend in backends:
    seed = median[(backend, "seed")]
    raw = median[(backend, "raw")]
    bulks = [median[(backend, f"bulk-c{c}")] for c in conns]
    best = max(bulks)
    print(f"| {backend} | {seed:,.0f} | {raw:,.0f} | " + " | ".join(f"{b:,.0f}" for b in bulks)
          + f" | {best / raw:.2f} | {best / seed:.2f} |")
runs = len(rates[next(iter(rates))])
print()
print(f"Events/s, median of {runs} run(s). Ratios use bulk at its best connection count.")
cpu = {}
for run, backend, conns_run, server_us, idle in (
        line.rstrip("\n").split("\t") for line in open(sys.argv[3])):
    cpu.setdefault((backend, conns_run), []).append((float(server_us), float(idle)))
print()
print("| backend | connections | bulk events/s | server CPU µs / event | machine idle |")
print("|---|---:|---:|---:|---:|")
for backend in backends:
    for c in conns:
        samples = cpu[(backend, c)]
        server_us = statistics.median(s for s, _ in samples)
        idle = statistics.median(i for _, i in samples)
        print(f"| {backend} | {c} | {median[(backend, f'bulk-c{c}')]:,.0f} | {server_us:.1f} "
              f"| {idle:.0%} |")
print()
print("Medians over the runs; idle: the share of both cores' time neither spent, wrk included.")
PY
)"
REPORT="## Bulk ingest ($(date -u +%Y-%m-%dT%H:%MZ), $(source_label))

$TABLE

$EVENTS events for seed and the raw insert; bulk bodies of 1,000 events (NDJSON), wrk $(wrk_version), ${DURATION} s per connection count.
Machine: $(machine_line). Load average at start $START_LOAD, at end $END_LOAD.
Server flags: ${BENCH_SERVER_ARGS:-defaults}. Reproduce: bash bench/bulk.sh --events $EVENTS --runs $RUNS --duration $DURATION --connections $CONNECTIONS --backends $BACKENDS
"
echo "$REPORT"
mkdir -p "$BENCH_ROOT/bench/results"
echo "$REPORT" >"$BENCH_ROOT/bench/results/bulk-$(date -u +%Y%m%dT%H%M%SZ).md"
