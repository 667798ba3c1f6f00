#!/usr/bin/env bash
# Bundle memory benchmark: seed N events into one organization (SQLite), export them all, then
# download the export's verifiable bundle with C concurrent clients and read the server's peak
# RSS (VmHWM) before and during the downloads; each bundle is checked with `auditlog verify`
# once. Target: peak RSS under 150 MB for 4 concurrent downloads of a 1 M-row export.
#
#   bash bench/bundle.sh [--rows 1000000] [--clients 4]
#
# Environment: AUDITLOG_BIN=path skips the release build; BENCH_KEEP=1 keeps the temp dir.
# Prints a markdown table on stdout and saves it under bench/results/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

ROWS=1000000 CLIENTS=4
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
build_binary
require_free_gib 4

DATA="$BENCH_TMP/bundle"
mkdir -p "$DATA"
log "seeding $ROWS events"
ORG="$("$BIN" seed --events "$ROWS" --data-dir "$DATA")"
start_server "$DATA"
peak_kib() { awk '$1 == "VmHWM:" {print $2}' "/proc/$BENCH_SERVER_PID/status"; }
rss_kib() { awk '$1 == "VmRSS:" {print $2}' "/proc/$BENCH_SERVER_PID/status"; }
EXPORT_ID="$(api POST /audit_logs/exports \
  "{\"organization_id\":\"$ORG\",\"range_start\":\"2000-01-01T00:00:00Z\",\"range_end\":\"2100-01-01T00:00:00Z\"}" \
  | json_field id)"
until [[ "$(api GET "/audit_logs/exports/$EXPORT_ID" | json_field state)" == ready ]]; do sleep 0.2; done
BEFORE_PEAK="$(peak_kib)" BEFORE_RSS="$(rss_kib)"
log "export ready; downloading $CLIENTS bundles at once"
START="$(now)"
for i in $(seq 1 "$CLIENTS"); do
  curl -fsS "$BASE/audit_logs/exports/$EXPORT_ID/bundle" -H "Authorization: Bearer $BENCH_KEY" \
    -o "$BENCH_TMP/bundle-$i.json" &
done
wait $(jobs -p | grep -v "^$BENCH_SERVER_PID$") 2>/dev/null || true
SECONDS_TAKEN="$(elapsed "$START" "$(now)")"
AFTER_PEAK="$(peak_kib)"
BYTES="$(stat -c %s "$BENCH_TMP/bundle-1.json")"
curl -fsS "$(api GET "/audit_logs/exports/$EXPORT_ID" | json_field url)" -o "$BENCH_TMP/export.csv"
curl -fsS "$BASE/.well-known/auditlog/log-key" -o "$BENCH_TMP/log.vkey"
"$BIN" verify --bundle "$BENCH_TMP/bundle-1.json" --csv "$BENCH_TMP/export.csv" \
  --key "$BENCH_TMP/log.vkey" >/dev/null && VERIFIED=yes || VERIFIED=NO
for i in $(seq 2 "$CLIENTS"); do
  cmp -s "$BENCH_TMP/bundle-1.json" "$BENCH_TMP/bundle-$i.json" || VERIFIED=NO
done
stop_server

mkdir -p "$BENCH_ROOT/bench/results"
OUT="$BENCH_ROOT/bench/results/bundle-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "# bench/bundle.sh, $(date -u +%Y-%m-%dT%H:%MZ), $(source_label)"
  echo
  machine_line
  echo
  echo "| rows | clients | bundle bytes | seconds | RSS before (MiB) | peak before (MiB) | peak during (MiB) | verified, identical |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---|"
  echo "| $ROWS | $CLIENTS | $BYTES | $SECONDS_TAKEN | $((BEFORE_RSS / 1024)) | $((BEFORE_PEAK / 1024)) | $((AFTER_PEAK / 1024)) | $VERIFIED |"
} | tee "$OUT"
