#!/usr/bin/env bash
# Read benchmark: latency of the read API and of the tamper-evidence proofs for an organization
# holding N events, on SQLite and PostgreSQL.
#
# Per backend, once: seed N events into one organization (`auditlog seed`), start a server and
# time how long the background log builder takes to append all N leaves and sign a checkpoint
# of size N (seeding bypasses the builder), record the database size; then derive the request
# targets through the API and check every answer once (page contents, sequence numbers, tree
# sizes, and each inclusion proof verified against its root). Then, --runs times, on a fresh
# server: wrk -t1 -c1 (one request at a time, keep-alive) for --duration seconds per row after a
# --warmup, latency p50/p99 from wrk's `done` hook (bench/wrk/read-get.lua), for:
#   read API, 100-event pages (GET /audit_logs/events?organization_id=…&limit=100):
#     first page; a deep page by `after` cursor (85–95% of the way down the newest-first list);
#     the tail by sequence (`after_sequence` N−1500…N−500, i.e. around N−1000); a deep tail
#     (`after_sequence` 5–15% of N);
#   tamper evidence: the inclusion proof of an event at 5–15% of the log
#     (GET /audit_logs/events/{id}/inclusion_proof, against the newest checkpoint, size N);
#     the consistency proof N/2 → N (GET /audit_logs/log/{org}/consistency_proof?first=&second=);
#     the latest checkpoint (GET /audit_logs/log/{org}/checkpoint).
# Each row cycles through --variants distinct targets (cursors, sequence numbers, events) in
# turn, so a row is not one cached page answered again and again; --variants 1 measures a single
# target. The page cache is warm (the same targets were requested during the warm-up).
#
# Every event listing is recorded in the meta-audit trail durably before the response (as
# shipped, `--meta-audit true`), so a list request includes a commit with an fsync. The page rows
# are therefore measured twice: as shipped, and on a server started with `--meta-audit false`
# (the query and the response alone). `--meta-audit-modes on` skips the second set.
#
#   bash bench/read.sh [--events 10000000] [--backends sqlite,postgres] [--runs 3]
#                      [--duration 10] [--warmup 2] [--variants 20] [--meta-audit-modes on,off]
#
# Disk (measured at 200k, events + indexes + the log's hashes): ~1.7 KB per event on SQLite,
# i.e. ~17 GB for 10M events (count on 18 GB with the WAL); ~2.2 KB per event on PostgreSQL
# (~21 GB at 10M, in PostgreSQL's own data directory). The script refuses to start without
# 2.3 KB per event plus 3 GiB free under $TMPDIR (the same disk as PostgreSQL's here). One
# backend is seeded at a time and its data is deleted before the next.
# Time at 10M: seeding dominates. At 200k on the shared 2-core machine, seed ran at ~8.5k
# events/s (SQLite) and ~12k/s (PostgreSQL), i.e. ~20 and ~14 min at 10M if linear; the log
# catch-up at ~90k leaves/s (~2 min at 10M). The measurements take (warmup + duration) × 11
# rows × runs per backend (~6 min with the defaults), more where a request is slow.
#
# Environment: AUDITLOG_BIN=path skips the release build; BENCH_PG (default
# postgres://postgres@127.0.0.1:5432); BENCH_SERVER_ARGS adds flags to `auditlog serve`;
# BENCH_KEEP=1 keeps the temp dir (server logs, raw wrk output).
# Prints markdown tables on stdout and saves them under bench/results/read-<timestamp>.md.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

EVENTS=10000000 BACKENDS=sqlite,postgres RUNS=3 DURATION=10 WARMUP=2 VARIANTS=20 MODES=on,off
TARGET_MS=10
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) EVENTS="$2"; shift 2 ;;
    --backends) BACKENDS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --variants) VARIANTS="$2"; shift 2 ;;
    --meta-audit-modes) MODES="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if ((EVENTS < 10000)); then
  echo "--events must be at least 10000 (deep pages and tails need room)" >&2
  exit 2
fi
# The seeded events are one second apart, ending now; with more than a year of them the
# retention sweeper (default 365 days) would start removing the oldest during the benchmark.
if ((EVENTS > 30000000)); then
  echo "--events above 30000000 would span more than the default retention of 365 days" >&2
  exit 2
fi
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
build_binary
# The larger of the two backends (PostgreSQL, ~2.2 KB per event at 200k), plus WAL and headroom.
require_free_gib $((EVENTS * 2300 / 1073741824 + 3))

RESULTS="$BENCH_TMP/read.tsv"
NOTES="$BENCH_TMP/notes.tsv"
: >"$RESULTS"
: >"$NOTES"
START_LOAD="$(load_avg)"
log "load average at start: $START_LOAD"
LIST_WHATS=(first deep tail_end tail_deep)
PROOF_WHATS=(inclusion consistency checkpoint)

# Starts a server on the seeded data and waits until the newest checkpoint covers all N events
# (the builder appends every backlog leaf, then signs); sets CATCH_UP_S to the seconds that
# took. (Not run in $(…): a server started in a subshell would outlive a failure there.)
catch_up() { # backend data_dir db_url org
  local t0 size deadline last_log
  t0="$(now)"
  start_server "$2" "$3"
  # Generous: the builder appended ~90k leaves/s at 200k (2 s); allow 10 min + 1 ms per leaf.
  deadline=$((SECONDS + 600 + EVENTS / 1000))
  last_log=$SECONDS
  while :; do
    # curl and grep only: polling must not load the two cores the builder runs on.
    size="$(api GET "/audit_logs/log/$4/checkpoint" 2>/dev/null | grep -o '"tree_size":[0-9]*' | cut -d: -f2)" || size=0
    [[ "$size" == "$EVENTS" ]] && break
    kill -0 "$BENCH_SERVER_PID" 2>/dev/null || { echo "server died during the log catch-up" >&2; tail -20 "$2/server.log" >&2; exit 1; }
    if ((SECONDS > deadline)); then
      echo "the log did not reach $EVENTS leaves in time (tree size $(tree_size "$@"))" >&2
      exit 1
    fi
    if ((SECONDS - last_log >= 30)); then
      log "$1: log catch-up: tree size $(tree_size "$@") of $EVENTS after $(elapsed "$t0" "$(now)") s"
      last_log=$SECONDS
    fi
    sleep 0.2
  done
  CATCH_UP_S="$(elapsed "$t0" "$(now)")"
  stop_server
}

# Finds the request targets through the API and checks each answer once; prints one line per
# row: WHAT<TAB>PATH<TAB>PATH…
#
# Cursors are derived, not paged to: a list cursor is base64url("occurred_at|id") of the page's
# edge event (routes/events_list.rs encode_cursor), and a request with `after` only adds
# "(occurred_at, id) < that key" to its own filters: the cursor carries no filter, page number
# or snapshot. So the cursor that a page with a `range_end` filter returns for event k is
# exactly the cursor of event k that paging down from the first page would have returned, and
# `after=<it>` without any filter lists the same events. Here: event k+1 (found by sequence,
# `after_sequence=k&limit=1`) gives a `range_end` (exclusive) whose newest-first page of one
# event is event k; its `list_metadata.after` is event k's cursor. Seeded events are one second
# apart in sequence order, so the page after that cursor is events k−1 … k−100 (checked).
derive_targets() { # org
  python3 - "$BASE" "$BENCH_KEY" "$1" "$EVENTS" "$VARIANTS" <<'PY'
import base64, hashlib, json, sys, urllib.parse, urllib.request
base, key, org = sys.argv[1:4]
n, variants = int(sys.argv[4]), int(sys.argv[5])

def get(path):
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.load(r)

def events_path(**params):
    return "/audit_logs/events?" + urllib.parse.urlencode({"organization_id": org, **params})

def spread(lo, hi):
    if variants == 1:
        return [round((lo + hi) / 2)]
    return sorted({round(lo + (hi - lo) * j / (variants - 1)) for j in range(variants)})

def check(ok, what):
    if not ok:
        sys.exit(f"read.sh: unexpected answer: {what}")

def sequences(page):
    return [e["sequence"] for e in page["data"]]

def event_at(seq):
    page = get(events_path(after_sequence=seq - 1, limit=1))
    check(sequences(page) == [seq], f"event at sequence {seq}")
    return page["data"][0]

def verify_inclusion(index, size, leaf, proof, root):
    """RFC 9162 §2.1.3.2."""
    h = lambda a, b: hashlib.sha256(b"\x01" + a + b).digest()
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = h(p, r)
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = h(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root

rows = {}
first = events_path(limit=100)
page = get(first)
check(sequences(page) == list(range(n - 1, n - 101, -1)) and page["list_metadata"]["after"], "first page")
rows["first"] = [first]

rows["deep"] = []
for k in spread(0.05 * n, 0.15 * n):  # 85–95% of the way down the newest-first list
    newer = event_at(k + 1)
    one = get(events_path(range_end=newer["occurred_at"], limit=1))
    check(sequences(one) == [k], f"range_end page at sequence {k}")
    path = events_path(limit=100, after=one["list_metadata"]["after"])
    check(sequences(get(path)) == list(range(k - 1, k - 101, -1)), f"deep page after sequence {k}")
    rows["deep"].append(path)

for what, lo, hi in [("tail_end", n - 1500, n - 500), ("tail_deep", 0.05 * n, 0.15 * n)]:
    rows[what] = []
    for after in spread(lo, hi):
        path = events_path(after_sequence=after, limit=100)
        page = get(path)
        check(sequences(page) == list(range(after + 1, after + 101))
              and page["list_metadata"]["last_sequence"] == after + 100, f"tail after {after}")
        rows[what].append(path)

rows["inclusion"] = []
for seq in spread(0.05 * n, 0.15 * n):
    path = f"/audit_logs/events/{event_at(seq)['id']}/inclusion_proof"
    proof = get(path)
    b = base64.b64decode
    check(proof["tree_size"] == n and proof["leaf_index"] == seq and proof["event_matches_leaf"] is True
          and verify_inclusion(seq, n, b(proof["leaf_hash"]), [b(p) for p in proof["proof"]], b(proof["root_hash"])),
          f"inclusion proof of sequence {seq}")
    rows["inclusion"].append(path)

path = f"/audit_logs/log/{org}/consistency_proof?first={n // 2}&second={n}"
proof = get(path)
check(proof["first_tree_size"] == n // 2 and proof["second_tree_size"] == n and proof["proof"], "consistency proof")
rows["consistency"] = [path]

path = f"/audit_logs/log/{org}/checkpoint"
check(get(path)["tree_size"] == n, "latest checkpoint")
rows["checkpoint"] = [path]

for what, paths in rows.items():
    print("\t".join([what, *paths]))
PY
}

# run_wrk BACKEND RUN MODE WHAT PATH…: a warm-up, then one measured wrk run; appends a result row.
run_wrk() {
  local backend="$1" run="$2" mode="$3" what="$4"; shift 4
  local script="$BENCH_ROOT/bench/wrk/read-get.lua" out load line
  out="$BENCH_TMP/wrk-$backend-$run-$mode-$what.txt"
  if ((WARMUP > 0)); then
    wrk -t1 -c1 -d"${WARMUP}s" --timeout 10s -s "$script" "$BASE" -- "$BENCH_KEY" "$@" >"$out.warmup" 2>&1
  fi
  load="$(load_avg | cut -d' ' -f1)"
  wrk -t1 -c1 -d"${DURATION}s" --timeout 10s -s "$script" "$BASE" -- "$BENCH_KEY" "$@" >"$out" 2>&1
  line="$(grep '^RESULT' "$out")" || { cat "$out" >&2; exit 1; }
  # RESULT requests=N duration_us=D p50_us=P p99_us=Q non2xx=X socket_errors=Y
  local requests duration_us p50_us p99_us non2xx socket_errors
  eval "${line#RESULT }"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$EVENTS" "$run" "$mode" "$what" \
    "$requests" "$duration_us" "$p50_us" "$p99_us" "$non2xx" "$socket_errors" "$load" >>"$RESULTS"
  log "$backend run $run meta-audit $mode $what: $requests requests, p50 $((p50_us))us p99 $((p99_us))us, non-2xx $non2xx, socket errors $socket_errors (load $load)"
}

IFS=, read -ra backend_list <<<"$BACKENDS"
IFS=, read -ra mode_list <<<"$MODES"
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
  catch_up "$backend" "$data_dir" "$db_url" "$org"
  log "$backend: the log caught up (checkpoint at $EVENTS leaves) in $CATCH_UP_S s"
  vacuum_s=""
  if [[ "$backend" == postgres ]]; then
    # As autovacuum would after the bulk loads (statistics, visibility map for index-only scans).
    t0="$(now)"
    psql "$db_url" -qc "VACUUM ANALYZE"
    vacuum_s="$(elapsed "$t0" "$(now)")"
    db_bytes="$(psql "$db_url" -qAtc "SELECT pg_database_size(current_database())")"
  else
    db_bytes="$(du -sb "$data_dir" | cut -f1)"
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$backend" "$seed_s" "$CATCH_UP_S" "$db_bytes" "$vacuum_s" >>"$NOTES"
  log "$backend: database $((db_bytes / 1048576)) MiB ($((db_bytes / EVENTS)) bytes per event)"

  start_server "$data_dir" "$db_url"
  declare -A targets=()
  while IFS=$'\t' read -r what rest; do targets[$what]="$rest"; done < <(derive_targets "$org")
  stop_server
  for what in "${LIST_WHATS[@]}" "${PROOF_WHATS[@]}"; do
    [[ -n "${targets[$what]:-}" ]] || { echo "no targets derived for $what" >&2; exit 1; }
  done

  server_args="${BENCH_SERVER_ARGS:-}"
  for run in $(seq 1 "$RUNS"); do
    for mode in "${mode_list[@]}"; do
      whats=("${LIST_WHATS[@]}")
      if [[ "$mode" == on ]]; then
        whats+=("${PROOF_WHATS[@]}") # the proof endpoints record nothing: measured once
        BENCH_SERVER_ARGS="$server_args"
      else
        BENCH_SERVER_ARGS="$server_args --meta-audit false"
      fi
      start_server "$data_dir" "$db_url"
      for what in "${whats[@]}"; do
        IFS=$'\t' read -ra paths <<<"${targets[$what]}"
        run_wrk "$backend" "$run" "$mode" "$what" "${paths[@]}"
      done
      stop_server
    done
  done
  BENCH_SERVER_ARGS="$server_args"
  unset targets
  rm -rf "$data_dir"
  if [[ -n "$db_url" ]]; then drop_pg_db "$db_url"; fi
done
END_LOAD="$(load_avg)"
WRK_VERSION="$(wrk_version)"

TABLES="$(python3 - "$RESULTS" "$NOTES" "$TARGET_MS" "$DURATION" "$VARIANTS" <<'PY'
import sys, statistics, collections
results, notes, target, duration, variants = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
LABELS = {
    "first": "first page",
    "deep": "deep page (`after` cursor, 85–95% down)",
    "tail_end": "tail (`after_sequence` N−1500…N−500)",
    "tail_deep": "tail (`after_sequence` 5–15% of N)",
    "inclusion": "inclusion proof (leaf at 5–15% of N)",
    "consistency": "consistency proof (N/2 → N)",
    "checkpoint": "latest checkpoint",
}
groups = collections.defaultdict(list)
loads = []
for line in open(results):
    backend, events, run, mode, what, req, dur, p50, p99, non2xx, sockerr, load = line.rstrip("\n").split("\t")
    groups[(backend, int(events), what, mode)].append(dict(
        req=int(req), rps=int(req) / (int(dur) / 1e6), p50=int(p50) / 1000, p99=int(p99) / 1000,
        errors=int(non2xx) + int(sockerr)))
    loads.append(float(load))
med = statistics.median
order = lambda k: (k[0] != "sqlite", k[0], k[1], list(LABELS).index(k[2]), k[3] != "on")
runs = max(len(g) for g in groups.values())
MIN_REQUESTS = 300  # below this per run, a p99 is little more than the slowest request or two

def table(title, whats):
    print(f"### {title}")
    print()
    print(f"| backend | events | what | p50 ms | p99 ms | requests | req/s | errors | p99 < {target:g} ms |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---|")
    for key in sorted((k for k in groups if k[2] in whats), key=order):
        backend, events, what, mode = key
        g = groups[key]
        label = LABELS[what] + (", `--meta-audit false`" if mode == "off" else "")
        p99 = med(r["p99"] for r in g)
        errors = sum(r["errors"] for r in g)
        status = "**errors**" if errors else ("met" if p99 < target else "**missed**")
        if min(r["req"] for r in g) < MIN_REQUESTS:
            status += " (few requests)"
        print(f"| {backend} | {events:,} | {label} | {med(r['p50'] for r in g):.2f} | {p99:.2f} | "
              f"{med(r['req'] for r in g):,.0f} | {med(r['rps'] for r in g):,.0f} | {errors} | {status} |")
    print()

table("Read API: one 100-event page (`GET /audit_logs/events?organization_id=…&limit=100`)",
      ["first", "deep", "tail_end", "tail_deep"])
table("Tamper evidence: proofs and checkpoint", ["inclusion", "consistency", "checkpoint"])
print(f"p50/p99: medians over {runs} run(s) of wrk's per-run percentiles; requests and req/s: median per run "
      f"({duration} s, one connection, one request at a time); errors: non-2xx + socket errors, summed. "
      f"\"few requests\": under {MIN_REQUESTS} in a run, so its p99 is rough (the row is slow; see p50). "
      f"Each row cycles through {variants} distinct targets (cursors, sequence numbers, events); page cache warm. "
      f"Rows without a flag ran as shipped: every event listing is first recorded durably in the meta-audit trail. "
      f"Load average (1 min) during the rows: {min(loads):.1f}–{max(loads):.1f}.")
print()
print("| backend | seed s (events/s) | log catch-up s (leaves/s) | DB size (bytes/event) |")
print("|---|---:|---:|---:|")
for line in open(notes):
    backend, seed_s, catch_s, db_bytes, vacuum_s = line.rstrip("\n").split("\t")
    events = next(k[1] for k in groups if k[0] == backend)
    seed_s, catch_s, db_bytes = float(seed_s), float(catch_s), int(db_bytes)
    vac = f"; then VACUUM ANALYZE {float(vacuum_s):.1f} s" if vacuum_s else ""
    print(f"| {backend} | {seed_s:.1f} ({events / seed_s:,.0f}) | {catch_s:.1f} ({events / catch_s:,.0f}){vac} | "
          f"{db_bytes / 1048576:,.0f} MiB ({db_bytes / events:,.0f}) |")
print()
print("Seed: `auditlog seed` (bypasses the log builder). Log catch-up: from starting a server on the seeded data "
      "until `GET /audit_logs/log/{org}/checkpoint` answers tree size N (the background builder appends every leaf, "
      "then signs). DB size after the catch-up: the data directory on SQLite (database and WAL), "
      "`pg_database_size` on PostgreSQL.")
PY
)"
REPORT="## Read latency ($(date -u +%Y-%m-%dT%H:%MZ), $(source_label))

$TABLES

Machine: $(machine_line). Load average at start $START_LOAD, at end $END_LOAD.
wrk $WRK_VERSION, -t1 -c1, ${WARMUP} s warm-up per row, --timeout 10s. Server flags: ${BENCH_SERVER_ARGS:-defaults}.
"
echo "$REPORT"
mkdir -p "$BENCH_ROOT/bench/results"
echo "$REPORT" >"$BENCH_ROOT/bench/results/read-$(date -u +%Y%m%dT%H%M%SZ).md"
