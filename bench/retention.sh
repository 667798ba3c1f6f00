#!/usr/bin/env bash
# Retention sweep on SQLite: how long the sweeper takes to redact most of a large organization.
# Seeds --events events (`auditlog seed`: one per second, ending now), sets the organization's
# retention to 1 day directly in the database (the API accepts only the WorkOS values), starts
# the server with a sweep every second, and times from /health until the sweeper's counter
# (auditlog_retention_events_redacted_total) reaches the number of events that were due when
# the server started (the cutoff then moves on by one event per second). Then checks that
# every redacted event's target-type rows are gone. Medians of --runs (each on a fresh copy of
# the seeded database).
#
#   bash bench/retention.sh [--events 1000000] [--runs 3]
#
# AUDITLOG_BIN=path uses that binary instead of building this tree. Needs sqlite3, curl.
# Saves the table under bench/results/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

EVENTS=1000000 RUNS=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
build_binary
require_free_gib $((EVENTS / 250000 + 1))

seeded="$BENCH_TMP/seeded"
mkdir -p "$seeded"
log "seeding $EVENTS events"
"$BIN" seed --events "$EVENTS" --data-dir "$seeded" >/dev/null 2>>"$seeded/seed.log"
# Checkpoint the WAL into the file so that a plain copy holds every event.
sqlite3 "$seeded/auditlog.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null

results=()
for run in $(seq 1 "$RUNS"); do
  data_dir="$BENCH_TMP/run$run"
  mkdir -p "$data_dir"
  cp "$seeded/auditlog.db" "$data_dir/auditlog.db"
  sqlite3 "$data_dir/auditlog.db" "UPDATE organizations SET retention_period_in_days = 1;"
  metrics_port="$(free_port)"
  AUDITLOG_METRICS_LISTEN="127.0.0.1:$metrics_port" \
    BENCH_SERVER_ARGS="--retention-sweep-interval-secs 1" start_server "$data_dir"
  due="$(sqlite3 "$data_dir/auditlog.db" \
    "SELECT count(*) FROM events WHERE occurred_at < ($(date +%s) - 86400) * 1000000")"
  t0="$(now)"
  while true; do
    redacted="$(curl -fsS "http://127.0.0.1:$metrics_port/metrics" |
      awk '/^auditlog_retention_events_redacted_total/ {print $2}')"
    [[ "${redacted:-0}" -ge "$due" ]] && break
    sleep 0.2
  done
  seconds="$(elapsed "$t0" "$(now)")"
  stop_server
  # Target-type rows left for redacted events (the schema before migration 0012 has an
  # organization column there; both have event_row_id).
  orphans="$(sqlite3 "$data_dir/auditlog.db" "SELECT count(*) FROM event_target_types t
    JOIN events e ON e.row_id = t.event_row_id WHERE e.payload IS NULL")"
  [[ "$orphans" == 0 ]] || { echo "run $run: $orphans target-type rows of redacted events left" >&2; exit 1; }
  log "run $run: $due due events redacted in $seconds s"
  results+=("$due $seconds")
  rm -rf "$data_dir"
done

TABLE="$(printf '%s\n' "${results[@]}" | python3 -c '
import sys, statistics
rows = [line.split() for line in sys.stdin if line.strip()]
due = int(statistics.median(int(r[0]) for r in rows))
secs = statistics.median(float(r[1]) for r in rows)
print("| events due | sweep seconds (median) | events redacted per second | runs (s) |")
print("|---:|---:|---:|---|")
runs = ", ".join(r[1] for r in rows)
print(f"| {due:,} | {secs:.1f} | {due / secs:,.0f} | {runs} |")
')"
REPORT="## Retention sweep, SQLite ($(date -u +%Y-%m-%dT%H:%MZ), $(source_label))

$TABLE

$EVENTS events seeded (one per second, ending at the seed), retention 1 day, sweep every second,
\`--retention-batch\` at its default. No target-type rows of redacted events left in any run.
Machine: $(machine_line).
"
echo "$REPORT"
mkdir -p "$BENCH_ROOT/bench/results"
echo "$REPORT" >"$BENCH_ROOT/bench/results/retention-$(date -u +%Y%m%dT%H%M%SZ).md"
