#!/usr/bin/env bash
# Memory under sustained ingest: one fresh server per store takes durable single-event ingest
# from wrk at --connections for --duration seconds, while the server's resident memory (VmRSS)
# is sampled every --every seconds. Prints, per store, the events/s, the RSS after the first
# minute, at the end and at its highest, the peak (VmHWM), and the growth from the end of the
# first minute to the end of the run (a flat run grows by little more than noise).
#
#   bash bench/memory.sh [--duration 300] [--connections 64] [--every 10]
#                        [--backends sqlite,postgres] [--threads 2]
#
# Environment as bench/ingest.sh (AUDITLOG_BIN, BENCH_PG, BENCH_SERVER_ARGS). The samples are
# saved with the table under bench/results/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

DURATION=300 CONNECTIONS=64 EVERY=10 BACKENDS=sqlite,postgres THREADS=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --every) EVERY="$2"; shift 2 ;;
    --backends) BACKENDS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
build_binary
require_free_gib 4
START_LOAD="$(load_avg)"

SAMPLES="$BENCH_TMP/samples.tsv"
RATES="$BENCH_TMP/rates.tsv"
: >"$SAMPLES"
: >"$RATES"
memory_kib() { awk -v f="$1:" '$1 == f {print $2}' "/proc/$BENCH_SERVER_PID/status"; }

IFS=, read -ra backend_list <<<"$BACKENDS"
for store in "${backend_list[@]}"; do
  data_dir="$BENCH_TMP/data-$store"
  mkdir -p "$data_dir"
  db_url=""
  if [[ "$store" == postgres ]]; then fresh_pg_db; db_url="$PG_URL"; fi
  start_server "$data_dir" "$db_url"
  org="$(api POST /organizations '{"name":"Memory bench"}' | json_field id)"
  out="$BENCH_TMP/wrk-$store.txt"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$BENCH_ROOT/bench/wrk/ingest.lua" \
    "$BASE/audit_logs/events" -- "$org" "$BENCH_KEY" >"$out" 2>&1 &
  wrk_pid=$!
  t0="$(now)"
  while kill -0 "$wrk_pid" 2>/dev/null; do
    printf '%s\t%s\t%s\t%s\n' "$store" "$(elapsed "$t0" "$(now)")" "$(memory_kib VmRSS)" "$(memory_kib VmHWM)" >>"$SAMPLES"
    sleep "$EVERY"
  done
  wait "$wrk_pid"
  line="$(grep '^RESULT' "$out")" || { cat "$out" >&2; exit 1; }
  eval "${line#RESULT }"
  printf '%s\t%s\t%s\t%s\n' "$store" "$requests" "$duration_us" "$((non2xx + socket_errors))" >>"$RATES"
  log "$store: $(awk -v r="$requests" -v d="$duration_us" 'BEGIN{printf "%.0f", r/(d/1e6)}') events/s, peak $(memory_kib VmHWM) KiB"
  stop_server
  rm -rf "$data_dir"
  if [[ -n "$db_url" ]]; then drop_pg_db "$db_url"; fi
done
END_LOAD="$(load_avg)"

TABLE="$(python3 - "$SAMPLES" "$RATES" <<'PY'
import sys, collections
samples = collections.defaultdict(list)
for line in open(sys.argv[1]):
    store, t, rss, hwm = line.split("\t")
    samples[store].append((float(t), int(rss) / 1024, int(hwm) / 1024))
print("| store | events/s | errors | RSS at 1 min MiB | RSS at end MiB | highest RSS MiB | peak (VmHWM) MiB | growth after 1 min |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for line in open(sys.argv[2]):
    store, requests, duration_us, errors = line.split("\t")
    s = samples[store]
    at_minute = min(s, key=lambda x: abs(x[0] - 60))[1]
    end = s[-1][1]
    print(f"| {store} | {int(requests) / (int(duration_us) / 1e6):,.0f} | {int(errors)} | {at_minute:.0f} | {end:.0f} "
          f"| {max(x[1] for x in s):.0f} | {max(x[2] for x in s):.0f} | {(end - at_minute) / at_minute:+.1%} |")
PY
)"
REPORT="## Memory under ingest ($(date -u +%Y-%m-%dT%H:%MZ), $(source_label))

$TABLE

$DURATION s of durable single-event ingest at $CONNECTIONS connections per store; VmRSS sampled every $EVERY s.
Machine: $(machine_line). Load average at start $START_LOAD, at end $END_LOAD. wrk $(wrk_version), -t $THREADS.

Samples (store, seconds, VmRSS KiB, VmHWM KiB):

\`\`\`
$(cat "$SAMPLES")
\`\`\`
"
echo "$REPORT"
mkdir -p "$BENCH_ROOT/bench/results"
echo "$REPORT" >"$BENCH_ROOT/bench/results/memory-$(date -u +%Y%m%dT%H%M%SZ).md"
