#!/usr/bin/env bash
# Log-stream benchmark: durable single-event ingest at --connections with one GenericHttps
# stream to a local receiver (bench/stream_receiver.py), against the same ingest with no stream;
# then a receiver outage under a steady ingest rate and the catch-up after it. Medians of --runs.
#
#   bash bench/stream.sh [--duration 10] [--runs 3] [--connections 64] [--backends sqlite]
#                        [--outage 60] [--paced-connections 8] [--pace-ms 8]
#
# Reports, per backend: ingest events/s with the stream off and on (and on ÷ off); delivered
# events/s over the delivery window ÷ ingested events/s over the ingest window; the lag of each
# batch (its arrival at the receiver minus its first event's received_at: the largest lag in
# it) p50/p99; and, after an --outage
# second receiver outage while events arrive at a steady rate (--paced-connections, each
# waiting --pace-ms between events), the catch-up rate ÷ that steady rate.
#
# Environment: AUDITLOG_BIN, BENCH_PG, BENCH_SERVER_ARGS, BENCH_KEEP as for bench/ingest.sh.
# Prints a markdown table on stdout and saves it under bench/results/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
RECEIVER_PID=""
stop_receiver() { if [[ -n "$RECEIVER_PID" ]]; then kill "$RECEIVER_PID" 2>/dev/null || true; wait "$RECEIVER_PID" 2>/dev/null || true; RECEIVER_PID=""; fi; }
trap 'stop_receiver; bench_cleanup' EXIT

DURATION=10 RUNS=3 CONNECTIONS=64 BACKENDS=sqlite OUTAGE=60 PACED_CONNECTIONS=8 PACE_MS=8 THREADS=2
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) DURATION="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --backends) BACKENDS="$2"; shift 2 ;;
    --outage) OUTAGE="$2"; shift 2 ;;
    --paced-connections) PACED_CONNECTIONS="$2"; shift 2 ;;
    --pace-ms) PACE_MS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
build_binary
require_free_gib 2
export BENCH_ROOT
BENCH_SERVER_ARGS="${BENCH_SERVER_ARGS:-} --stream-allow-plaintext true --stream-allow-networks 127.0.0.0/8"
RESULTS="$BENCH_TMP/stream.tsv"
: >"$RESULTS"
START_LOAD="$(load_avg)"

# start_receiver FILE: a fresh receiver writing FILE; sets RECEIVER.
start_receiver() {
  local port; port="$(free_port)"
  python3 "$BENCH_ROOT/bench/stream_receiver.py" "$port" "$1" &
  RECEIVER_PID=$!
  RECEIVER="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do curl -fsS "$RECEIVER/control/stats" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "the receiver did not start" >&2; exit 1
}
received() { curl -fsS "$RECEIVER/control/stats" | json_field events; }

# wrk_ingest CONNS ORG SCRIPT: one ingest run; prints "requests duration_us".
wrk_ingest() {
  local conns="$1" org="$2" script="$3" threads out
  threads=$((conns < THREADS ? conns : THREADS))
  out="$BENCH_TMP/wrk-$RANDOM.txt"
  wrk -t"$threads" -c"$conns" -d"${WRK_SECONDS}s" --timeout 10s -s "$script" "$BASE/audit_logs/events" -- "$org" "$BENCH_KEY" >"$out" 2>&1
  local line; line="$(grep '^RESULT' "$out")" || { cat "$out" >&2; exit 1; }
  eval "local ${line#RESULT }"
  ((non2xx == 0)) || { echo "ingest answered $non2xx non-2xx" >&2; exit 1; }
  echo "$requests $duration_us"
}

create_stream() { # ORG
  api POST "/organizations/$1/log_streams" \
    '{"type":"GenericHttps","settings":{"url":"'"$RECEIVER"'/in"},"secrets":{"signing_secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}}' >/dev/null
}

wait_received() { # COUNT SECONDS
  local deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    (($(received) >= $1)) && return 0
    sleep 0.05
  done
  return 1
}

IFS=, read -ra backend_list <<<"$BACKENDS"
WRK_SECONDS="$DURATION"
for run in $(seq 1 "$RUNS"); do
  for store in "${backend_list[@]}"; do
    for variant in off on; do
      data_dir="$BENCH_TMP/data-$run-$store-$variant"; mkdir -p "$data_dir"
      db_url=""; if [[ "$store" == postgres ]]; then fresh_pg_db; db_url="$PG_URL"; fi
      start_server "$data_dir" "$db_url"
      org="$(api POST /organizations '{"name":"Stream bench"}' | json_field id)"
      if [[ "$variant" == on ]]; then start_receiver "$data_dir/received.txt"; create_stream "$org"; fi
      read -r requests duration_us < <(wrk_ingest "$CONNECTIONS" "$org" "$BENCH_ROOT/bench/wrk/ingest.lua")
      rate="$(awk -v r="$requests" -v d="$duration_us" 'BEGIN {printf "%.0f", r/(d/1e6)}')"
      if [[ "$variant" == on ]]; then
        wait_received "$requests" 120 || { echo "the receiver got $(received) of $requests" >&2; exit 1; }
        stop_receiver
        # Delivered events/s over the delivery window; lag of every event.
        read -r delivered_rate lag_p50 lag_p99 < <(python3 - "$data_dir/received.txt" <<'PY'
import sys, statistics
rows = [line.split() for line in open(sys.argv[1])]
arrivals = [float(r[0]) for r in rows]
events = sum(int(r[1]) for r in rows)
lags = sorted(int(r[4]) for r in rows)
first_batch = int(rows[0][1])
window = max(arrivals) - min(arrivals)
# The first batch's events arrived at its arrival, so the window starts there with them out.
rate = (events - first_batch) / window if window > 0 else float("inf")
print(f"{rate:.0f} {lags[len(lags)//2]} {lags[int(len(lags)*0.99)-1]}")
PY
)
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$store" on "$rate" "$delivered_rate" "$lag_p50" "$lag_p99" >>"$RESULTS"
        log "run $run $store stream on: ingest $rate events/s, delivered $delivered_rate events/s, lag p50 ${lag_p50} ms p99 ${lag_p99} ms"
      else
        printf '%s\t%s\t%s\t%s\t\t\t\n' "$run" "$store" off "$rate" >>"$RESULTS"
        log "run $run $store stream off: ingest $rate events/s"
      fi
      stop_server
      if [[ -n "$db_url" ]]; then drop_pg_db "$db_url"; fi
      rm -rf "$data_dir"
    done
  done
done

# The outage: a steady ingest rate, the receiver down for OUTAGE seconds, then the catch-up.
OUTAGE_NOTES=""
for store in "${backend_list[@]}"; do
  data_dir="$BENCH_TMP/data-outage-$store"; mkdir -p "$data_dir"
  db_url=""; if [[ "$store" == postgres ]]; then fresh_pg_db; db_url="$PG_URL"; fi
  start_server "$data_dir" "$db_url"
  org="$(api POST /organizations '{"name":"Outage bench"}' | json_field id)"
  start_receiver "$data_dir/received.txt"
  create_stream "$org"
  curl -fsS -X POST "$RECEIVER/control/down" >/dev/null
  WRK_SECONDS="$OUTAGE"
  read -r requests duration_us < <(BENCH_PACE_MS="$PACE_MS" wrk_ingest "$PACED_CONNECTIONS" "$org" "$BENCH_ROOT/bench/wrk/ingest-paced.lua")
  steady="$(awk -v r="$requests" -v d="$duration_us" 'BEGIN {printf "%.0f", r/(d/1e6)}')"
  backlog="$requests"
  curl -fsS -X POST "$RECEIVER/control/up" >/dev/null
  t_up="$(now)"
  # The stream is backing off (at most --stream-max-backoff-secs, 60 by default): the catch-up
  # is measured from its first delivery after the outage to its last, and the wait before the
  # first is reported apart.
  wait_received "$backlog" 300 || { echo "the receiver got $(received) of $backlog" >&2; exit 1; }
  read -r t_first catch_up < <(python3 - "$data_dir/received.txt" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
first, last = float(rows[0][0]), float(rows[-1][0])
events = sum(int(r[1]) for r in rows) - int(rows[0][1])
print(f"{first:.3f} {events / (last - first) if last > first else float('inf'):.0f}")
PY
)
  resumed_after="$(awk -v a="$t_up" -v b="$t_first" 'BEGIN {printf "%.1f", b - a}')"
  log "$store outage ${OUTAGE}s at $steady events/s: backlog $backlog, first delivery ${resumed_after}s after the receiver came back, catch-up $catch_up events/s"
  printf 'outage\t%s\t%s\t%s\t%s\t%s\t%s\n' "$store" "$steady" "$backlog" "$resumed_after" "$catch_up" "" >>"$RESULTS"
  stop_receiver
  stop_server
  if [[ -n "$db_url" ]]; then drop_pg_db "$db_url"; fi
done
END_LOAD="$(load_avg)"

TABLE="$(python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
med = statistics.median
runs = collections.defaultdict(dict)
outages = []
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("\t")
    if f[0] == "outage":
        outages.append(f[1:])
        continue
    runs[f[1]].setdefault(f[0], {})[f[2]] = f[3:]
print("| backend | ingest off events/s | ingest on events/s | on ÷ off | delivered events/s | delivered ÷ ingested | lag p50 ms | lag p99 ms |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for store, per_run in runs.items():
    done = [r for r in per_run.values() if "on" in r and "off" in r]
    off = [float(r["off"][0]) for r in done]
    on = [float(r["on"][0]) for r in done]
    delivered = [float(r["on"][1]) for r in done]
    print(f"| {store} | {med(off):.0f} | {med(on):.0f} | {med(o / f for o, f in zip(on, off)):.2f} | "
          f"{med(delivered):.0f} | {med(d / o for d, o in zip(delivered, on)):.2f} | "
          f"{med(float(r['on'][2]) for r in done):.0f} | {med(float(r['on'][3]) for r in done):.0f} |")
print()
print("| backend | steady ingest events/s | outage backlog | first delivery after the receiver is back, s | catch-up events/s | catch-up ÷ steady |")
print("|---|---:|---:|---:|---:|---:|")
for store, steady, backlog, resumed, catch_up, _ in outages:
    print(f"| {store} | {steady} | {backlog} | {resumed} | {catch_up} | {float(catch_up) / float(steady):.1f} |")
PY
)"
FOOTER="$(source_label), $(date -u +%Y-%m-%dT%H:%MZ); ${DURATION}s runs × $RUNS at $CONNECTIONS connections, outage ${OUTAGE}s at $PACED_CONNECTIONS connections × 1 event per $PACE_MS ms; load average $START_LOAD at start, $END_LOAD at end; $(machine_line)"
mkdir -p "$BENCH_ROOT/bench/results"
OUT="$BENCH_ROOT/bench/results/stream-$(date -u +%Y%m%dT%H%M%SZ).md"
printf '%s\n\n%s\n' "$TABLE" "$FOOTER" | tee "$OUT"
