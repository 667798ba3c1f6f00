#!/usr/bin/env bash
# Where the bytes an ingested event writes on SQLite go: a fresh SQLite server takes durable
# single-event ingest at --connections for --duration seconds, is then killed (SIGKILL, so that
# its WAL is not checkpointed away), and bench/wal_frames.py attributes the WAL's frames to the
# tables and indexes whose pages they hold. Events per commit come from the server's
# auditlog_ingest_batch_events metric, read just before the kill.
#
#   bash bench/wal.sh [--duration 5] [--connections 64] [--threads 2]
#
# AUDITLOG_BIN and BENCH_SERVER_ARGS as in bench/ingest.sh. Saves the table under bench/results/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

DURATION=5 CONNECTIONS=64 THREADS=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
build_binary

data_dir="$BENCH_TMP/data"
mkdir -p "$data_dir"
metrics_port="$(free_port)"
AUDITLOG_METRICS_LISTEN="127.0.0.1:$metrics_port" start_server "$data_dir"
org="$(api POST /organizations '{"name":"WAL bench"}' | json_field id)"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$BENCH_ROOT/bench/wrk/ingest.lua" \
  "$BASE/audit_logs/events" -- "$org" "$BENCH_KEY" >"$BENCH_TMP/wrk.txt" 2>&1
metrics="$(curl -fsS "http://127.0.0.1:$metrics_port/metrics")"
kill -KILL "$BENCH_SERVER_PID"
wait "$BENCH_SERVER_PID" 2>/dev/null || true
BENCH_SERVER_PID=""
per_commit="$(events_per_commit "%.1f" <<<"$metrics")"
TABLE="$(python3 "$BENCH_ROOT/bench/wal_frames.py" "$data_dir/auditlog.db")"
REPORT="## WAL frames per commit ($(date -u +%Y-%m-%dT%H:%MZ), $(source_label))

$TABLE
Events per commit over the run (auditlog_ingest_batch_events): $per_commit. $CONNECTIONS connections, $DURATION s.
Machine: $(machine_line).
"
echo "$REPORT"
mkdir -p "$BENCH_ROOT/bench/results"
echo "$REPORT" >"$BENCH_ROOT/bench/results/wal-$(date -u +%Y%m%dT%H%M%SZ).md"
