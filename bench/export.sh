#!/usr/bin/env bash
# Export benchmark: seed N events into one organization (`auditlog seed`, a fresh database for
# each size), then, --runs times: start a fresh server, create an export over the whole range,
# time create → ready, read the server's peak RSS (VmHWM), stop it; and time the database's own
# raw CSV dump of the same rows (sqlite3 -csv / COPY … TO STDOUT (FORMAT csv)) to /dev/null.
#
#   bash bench/export.sh [--sizes 100000,1000000] [--backends sqlite,postgres] [--runs 3]
#
# Environment: AUDITLOG_BIN=path skips the release build; BENCH_PG (default
# postgres://postgres@127.0.0.1:5432); BENCH_SERVER_ARGS adds flags to `auditlog serve` (e.g.
# "--export-page-rows 10000"); BENCH_KEEP=1 keeps the temp dir.
# Prints a markdown table on stdout and saves it under bench/results/.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
trap bench_cleanup EXIT

SIZES=100000,1000000 BACKENDS=sqlite,postgres RUNS=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --sizes) SIZES="$2"; shift 2 ;;
    --backends) BACKENDS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
build_binary
# The largest size needs about 1.8 GB per database plus its CSV file and WAL.
require_free_gib 5

RESULTS="$BENCH_TMP/export.tsv"
: >"$RESULTS"
START_LOAD="$(load_avg)"
log "load average at start: $START_LOAD"
proc_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# utime + stime of a process in seconds.
proc_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

# Creates an export over everything and polls it every 20 ms; prints "ID SECONDS".
export_and_wait() {
  python3 - "$BASE" "$BENCH_KEY" "$1" <<'PY'
import json, sys, time, urllib.request
base, key, org = sys.argv[1:4]
headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
def call(method, path, body=None):
    req = urllib.request.Request(base + path, method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req) as r:
        return json.load(r)
start = time.perf_counter()
export = call("POST", "/audit_logs/exports", {"organization_id": org,
    "range_start": "2000-01-01T00:00:00Z", "range_end": "2100-01-01T00:00:00Z"})
while True:
    state = call("GET", f"/audit_logs/exports/{export['id']}")["state"]
    if state == "ready":
        break
    if state != "pending":
        sys.exit(f"export ended in state {state}")
    time.sleep(0.02)
print(export["id"], f"{time.perf_counter() - start:.3f}")
PY
}

raw_dump() { # backend data_dir db_url org
  local select="SELECT occurred_at, id, payload FROM events WHERE organization_id = '$4' ORDER BY occurred_at, id"
  if [[ "$1" == sqlite ]]; then
    sqlite3 -csv "$2/auditlog.db" "$select" >/dev/null
  else
    psql "$3" -qAtc "COPY ($select) TO STDOUT (FORMAT csv)" >/dev/null
  fi
}

TREE_NOTES=""

IFS=, read -ra size_list <<<"$SIZES"
IFS=, read -ra backend_list <<<"$BACKENDS"
for backend in "${backend_list[@]}"; do
  for size in "${size_list[@]}"; do
    data_dir="$BENCH_TMP/data-$backend-$size"
    mkdir -p "$data_dir"
    db_url=""
    seed_args=(--data-dir "$data_dir")
    if [[ "$backend" == postgres ]]; then
      fresh_pg_db
      db_url="$PG_URL"
      seed_args+=(--database-url "$db_url")
    fi
    t0="$(now)"
    org="$("$BIN" seed --events "$size" "${seed_args[@]}" 2>>"$data_dir/seed.log")"
    log "$backend $size: seeded $org in $(elapsed "$t0" "$(now)") s"
    if [[ "$backend" == postgres ]]; then
      psql "$db_url" -qc "VACUUM ANALYZE events" # as autovacuum would after a bulk load
      db_size="$(psql "$db_url" -qAtc "SELECT pg_size_pretty(pg_database_size(current_database()))")"
    else
      db_size="$(du -sh "$data_dir" | cut -f1)"
    fi
    # The tamper-evidence log builder (since 22c482d) appends new events to each organization's
    # Merkle tree in the background, starting as soon as a server starts. Seeding bypasses it,
    # so let one server catch up on the whole backlog first; otherwise the first measured
    # export would race a 1M-leaf tree build (with live ingest the tree keeps up as it goes).
    if [[ "$(tree_size "$backend" "$data_dir" "$db_url" "$org")" != none ]]; then
      start_server "$data_dir" "$db_url"
      t0="$(now)"
      wait_for_tree "$backend" "$data_dir" "$db_url" "$org" "$size" 600 || true
      built="$(elapsed "$t0" "$(now)")"
      stop_server
      log "$backend $size: tamper-evidence log caught up with $size events in $built s"
      TREE_NOTES+="$backend $size: ${built} s; "
    fi
    raw_dump "$backend" "$data_dir" "$db_url" "$org" # warm the page cache for both sides
    for run in $(seq 1 "$RUNS"); do
      start_server "$data_dir" "$db_url"
      idle_kb="$(proc_kb "$BENCH_SERVER_PID" VmRSS)"
      cpu0="$(proc_cpu "$BENCH_SERVER_PID")"
      load="$(load_avg | cut -d' ' -f1)"
      read -r export_id export_s < <(export_and_wait "$org")
      hwm_kb="$(proc_kb "$BENCH_SERVER_PID" VmHWM)"
      cpu="$(awk -v a="$cpu0" -v b="$(proc_cpu "$BENCH_SERVER_PID")" 'BEGIN {printf "%.2f", b - a}')"
      stop_server
      file="$data_dir/blobs/exports/$export_id.csv"
      lines="$(wc -l <"$file")"
      bytes="$(stat -c %s "$file")"
      if ((lines != size + 1)); then echo "export has $lines lines, expected $((size + 1))" >&2; exit 1; fi
      rm -f "$file"
      t0="$(now)"
      raw_dump "$backend" "$data_dir" "$db_url" "$org"
      raw_s="$(elapsed "$t0" "$(now)")"
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$backend" "$size" "$run" "$export_s" \
        "$raw_s" "$hwm_kb" "$idle_kb" "$cpu" "$bytes" "$load" "$db_size" >>"$RESULTS"
      log "$backend $size run $run: export ${export_s}s (server CPU ${cpu}s), raw dump ${raw_s}s, peak RSS $((hwm_kb / 1024)) MiB (idle $((idle_kb / 1024)) MiB), file $((bytes / 1048576)) MiB, load $load"
    done
    rm -rf "$data_dir"
    if [[ -n "$db_url" ]]; then drop_pg_db "$db_url"; fi
  done
done
END_LOAD="$(load_avg)"

TABLE="$(python3 - "$RESULTS" <<'PY'
import sys, statistics, collections
groups = collections.defaultdict(list)
for line in open(sys.argv[1]):
    backend, size, run, export_s, raw_s, hwm, idle, cpu, size_bytes, load, db_size = line.rstrip("\n").split("\t")
    groups[(backend, int(size))].append(dict(export=float(export_s), raw=float(raw_s), hwm=int(hwm) / 1024,
        idle=int(idle) / 1024, cpu=float(cpu), mib=int(size_bytes) / 1048576, load=float(load), db=db_size))
med = statistics.median
print("| backend | events | create→ready s | export rows/s | raw dump s | raw rows/s | export/raw | peak RSS MiB (idle) | server CPU s | CSV MiB | DB size | load (1 min) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for (backend, size) in sorted(groups, key=lambda k: (k[0] != "sqlite", k[1])):
    g = groups[(backend, size)]
    m = lambda k: med(r[k] for r in g)
    ratio = med(r["raw"] / r["export"] for r in g)
    loads = sorted(r["load"] for r in g)
    print(f"| {backend} | {size:,} | {m('export'):.2f} | {size / m('export'):,.0f} | {m('raw'):.2f} | {size / m('raw'):,.0f} | {ratio:.2f} | {m('hwm'):.0f} ({m('idle'):.0f}) | {m('cpu'):.1f} | {m('mib'):.0f} | {g[0]['db']} | {loads[0]:.1f}–{loads[-1]:.1f} |")
print()
print(f"Medians of {len(g)} runs (export/raw: median of per-run ratios of row rates; server CPU: user+system seconds of the server during the export).")
PY
)"
REPORT="## Export ($(date -u +%Y-%m-%dT%H:%MZ), $(source_label))

$TABLE
Machine: $(machine_line). Load average at start $START_LOAD, at end $END_LOAD.
Tamper-evidence log caught up with the seeded events before the measured runs (one server start): ${TREE_NOTES:-n/a}
Raw dump: \`sqlite3 -csv DB \"SELECT occurred_at, id, payload FROM events WHERE organization_id = '…' ORDER BY occurred_at, id\"\` and \`psql -c \"COPY (same SELECT) TO STDOUT (FORMAT csv)\"\`, both to /dev/null, page cache warm for both. Server flags: ${BENCH_SERVER_ARGS:-defaults}.
"
echo "$REPORT"
mkdir -p "$BENCH_ROOT/bench/results"
echo "$REPORT" >"$BENCH_ROOT/bench/results/export-$(date -u +%Y%m%dT%H%M%SZ).md"
