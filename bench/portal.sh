#!/usr/bin/env bash
# Admin Portal benchmark: how fast the viewer's requests are answered for an organization of N
# events (default 10M), next to the read API's first page in the same run.
#
# Per backend: seed N events into one organization (`auditlog seed`), start a server (with the
# log builder off: nothing here needs checkpoints), open a portal session from a
# `POST /portal/generate_link` link, derive the targets through the API, check each answer once,
# then --runs times: wrk -t1 -c1 (one request at a time) for --duration seconds per row after a
# --warmup, latency p50/p99 from wrk's `done` hook (bench/wrk/read-get.lua with the session
# cookie), for:
#   api_first     GET /audit_logs/events?organization_id=…&limit=50 (the API, for comparison)
#   first         the viewer's first page (50 events, newest first)
#   deep          a page by `after` cursor 85–95% of the way down
#   detail        one event (GET …/events/{id}), events at 5–15% of the log
#   search_hit    a search whose first 50 matches are among the newest events
#   search_miss   a search that matches nothing: one request reads its whole budget (5,000 events)
#   tail_empty    the live tail's poll when nothing is new (what an open viewer sends every 3 s)
# Every list and read is recorded in the meta-audit trail before it answers (as shipped), so
# those rows include a commit with an fsync; an empty tail poll records nothing.
#
#   bash bench/portal.sh [--events 10000000] [--backends sqlite] [--runs 3] [--duration 10]
#                        [--warmup 2] [--variants 20]
#
# Disk and time: as bench/read.sh (seeding dominates: ~14 min for 10M on SQLite here).
# Environment: AUDITLOG_BIN skips the release build; BENCH_PG; BENCH_KEEP=1 keeps the temp dir.
# Prints a markdown table on stdout and saves it under bench/results/portal-<timestamp>.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

EVENTS=10000000 BACKENDS=sqlite RUNS=3 DURATION=10 WARMUP=2 VARIANTS=20
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --backends) BACKENDS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --variants) VARIANTS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
((EVENTS >= 10000)) || { echo "--events must be at least 10000" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
build_binary
require_free_gib $((EVENTS * 2300 / 1073741824 + 3))
RESULTS="$BENCH_TMP/portal.tsv"
: >"$RESULTS"
WHATS=(api_first first deep detail search_hit search_miss tail_empty)

# Opens a portal session on the running server; prints its cookie (NAME=VALUE).
open_session() { # org
  local link jar="$BENCH_TMP/cookies.txt"
  link="$(api POST /portal/generate_link "{\"organization\":\"$1\",\"intent\":\"audit_logs\"}" | json_field link)"
  curl -fsS -o /dev/null -c "$jar" "$link"
  awk '$6 == "auditlog_portal" {print $6 "=" $7}' "$jar"
}

# Finds the targets through the API, checks each answer once; one line per row:
# WHAT<TAB>CREDENTIAL<TAB>PATH…
derive_targets() { # org cookie
  python3 - "$BASE" "$BENCH_KEY" "$1" "$2" "$EVENTS" "$VARIANTS" <<'PY'
import base64, json, sys, urllib.parse, urllib.request
from datetime import datetime
base, key, org, cookie = sys.argv[1:5]
n, variants = int(sys.argv[5]), int(sys.argv[6])
portal = f"/portal/api/organizations/{org}"

def get(path, auth):
    headers = {"Cookie": auth} if "=" in auth else {"Authorization": f"Bearer {auth}"}
    with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=120) as r:
        return json.load(r)

def check(ok, what):
    if not ok:
        sys.exit(f"portal.sh: unexpected answer: {what}")

def spread(lo, hi):
    return sorted({round(lo + (hi - lo) * j / max(variants - 1, 1)) for j in range(variants)})

def event_at(seq):
    page = get(f"/audit_logs/events?organization_id={org}&after_sequence={seq - 1}&limit=1", key)
    check([e["sequence"] for e in page["data"]] == [seq], f"event at {seq}")
    return page["data"][0]

def cursor(event):
    # The list's opaque cursor is base64url("occurred_at in µs|id") (routes/events/list.rs).
    at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
    micros = int(at.timestamp()) * 1_000_000 + at.microsecond
    return base64.urlsafe_b64encode(f"{micros}|{event['id']}".encode()).decode().rstrip("=")

rows = {"api_first": (key, [f"/audit_logs/events?organization_id={org}&limit=50"])}
first = f"{portal}/events?limit=50"
check(len(get(first, cookie)["data"]) == 50, "first page")
rows["first"] = (cookie, [first])
deep, detail = [], []
for k in spread(0.05 * n, 0.15 * n):
    event = event_at(k)
    path = f"{portal}/events?limit=50&after={cursor(event)}"
    check([e["sequence"] for e in get(path, cookie)["data"]] == list(range(k - 1, k - 51, -1)), f"deep page after {k}")
    deep.append(path)
    detail.append(f"{portal}/events/{event['id']}")
check(get(detail[0], cookie)["organization_id"] == org, "detail")
rows["deep"], rows["detail"] = (cookie, deep), (cookie, detail)
newest = event_at(n - 1)
hit = f"{portal}/events?limit=50&search={urllib.parse.quote(newest['action'])}"
check(len(get(hit, cookie)["data"]) == 50, "search hit")
rows["search_hit"] = (cookie, [hit])
miss = f"{portal}/events?limit=50&search=no-event-holds-this"
page = get(miss, cookie)
check(page["data"] == [] and page["list_metadata"]["scanned"] == 5000, "search miss reads its budget")
rows["search_miss"] = (cookie, [miss])
tail = f"{portal}/events?after_sequence={n - 1}"
check(get(tail, cookie)["data"] == [], "empty tail")
rows["tail_empty"] = (cookie, [tail])
for what, (auth, paths) in rows.items():
    credential = f"cookie:{auth}" if auth == cookie else auth
    print("\t".join([what, credential, *paths]))
PY
}

run_wrk() { # backend run what credential path…
  local backend="$1" run="$2" what="$3" credential="$4"; shift 4
  local script="$BENCH_ROOT/bench/wrk/read-get.lua" out line
  out="$BENCH_TMP/wrk-$backend-$run-$what.txt"
  ((WARMUP > 0)) && wrk -t1 -c1 -d"${WARMUP}s" --timeout 10s -s "$script" "$BASE" -- "$credential" "$@" >"$out.warmup" 2>&1
  wrk -t1 -c1 -d"${DURATION}s" --timeout 10s -s "$script" "$BASE" -- "$credential" "$@" >"$out" 2>&1
  line="$(grep '^RESULT' "$out")" || { cat "$out" >&2; exit 1; }
  local requests duration_us p50_us p99_us non2xx socket_errors
  eval "${line#RESULT }"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$run" "$what" "$requests" "$duration_us" \
    "$p50_us" "$p99_us" "$((non2xx + socket_errors))" >>"$RESULTS"
  log "$backend run $run $what: $requests requests, p50 ${p50_us}us p99 ${p99_us}us, errors $((non2xx + socket_errors))"
}

SEED_NOTES=""
IFS=, read -ra backend_list <<<"$BACKENDS"
for backend in "${backend_list[@]}"; do
  data_dir="$BENCH_TMP/data-$backend"
  mkdir -p "$data_dir"
  db_url=""
  seed_args=(--data-dir "$data_dir")
  if [[ "$backend" == postgres ]]; then
    fresh_pg_db
    db_url="$PG_URL"
    seed_args+=(--database-url "$db_url")
  fi
  t0="$(now)"
  org="$("$BIN" seed --events "$EVENTS" "${seed_args[@]}" 2>>"$data_dir/seed.log")"
  seed_s="$(elapsed "$t0" "$(now)")"
  log "$backend: seeded $EVENTS events into $org in $seed_s s"
  SEED_NOTES+="$backend: $EVENTS events seeded in $seed_s s. "
  [[ "$backend" == postgres ]] && psql "$db_url" -qc "VACUUM ANALYZE"
  server_args="${BENCH_SERVER_ARGS:-}"
  BENCH_SERVER_ARGS="$server_args --log-interval-secs 0"
  for run in $(seq 1 "$RUNS"); do
    start_server "$data_dir" "$db_url"
    cookie="$(open_session "$org")"
    declare -A targets=()
    while IFS=$'\t' read -r what rest; do targets[$what]="$rest"; done < <(derive_targets "$org" "$cookie")
    for what in "${WHATS[@]}"; do
      IFS=$'\t' read -ra args <<<"${targets[$what]}"
      run_wrk "$backend" "$run" "$what" "${args[@]}"
    done
    unset targets
    stop_server
  done
  BENCH_SERVER_ARGS="$server_args"
  rm -rf "$data_dir"
  if [[ -n "$db_url" ]]; then drop_pg_db "$db_url"; fi
done

TABLE="$(python3 - "$RESULTS" <<'PY'
import collections, statistics, sys
LABELS = {
    "api_first": "API first page (for comparison)",
    "first": "viewer: first page",
    "deep": "viewer: deep page (`after` cursor, 85–95% down)",
    "detail": "viewer: one event",
    "search_hit": "viewer: search, 50 matches among the newest",
    "search_miss": "viewer: search matching nothing (5,000 events read)",
    "tail_empty": "viewer: live-tail poll, nothing new",
}
groups = collections.defaultdict(list)
for line in open(sys.argv[1]):
    backend, run, what, req, dur, p50, p99, errors = line.rstrip("\n").split("\t")
    groups[(backend, what)].append((int(req) / (int(dur) / 1e6), int(p50) / 1000, int(p99) / 1000, int(errors)))
print("| Store | Request (50 events a page) | p50 ms | p99 ms | req/s | errors |")
print("|---|---|---:|---:|---:|---:|")
for (backend, what), rows in groups.items():
    med = lambda i: statistics.median(r[i] for r in rows)
    print(f"| {backend} | {LABELS[what]} | {med(1):.2f} | {med(2):.2f} | {med(0):.0f} | {sum(r[3] for r in rows)} |")
PY
)"
HEADER="Admin Portal at $EVENTS events — $(source_label), $(machine_line), runs $RUNS × ${DURATION}s, wrk $(wrk_version). $SEED_NOTES"
mkdir -p "$BENCH_ROOT/bench/results"
OUT="$BENCH_ROOT/bench/results/portal-$(date -u +%Y%m%dT%H%M%SZ).md"
printf '%s\n\n%s\n' "$HEADER" "$TABLE" | tee "$OUT"
