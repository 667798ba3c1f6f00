# Shared helpers for bench/ingest.sh and bench/export.sh (sourced, not run).
# Needs: cargo, curl, python3, sqlite3, psql; PostgreSQL at $BENCH_PG (trust auth).

BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
BENCH_KEY="sk_bench_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
BENCH_TMP="$(mktemp -d "${TMPDIR:-/tmp}/auditlog-bench.XXXXXX")"
BENCH_SERVER_PID=""
BENCH_DBS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
load_avg() { cut -d' ' -f1-3 /proc/loadavg; }

bench_cleanup() {
  stop_server
  for db in "${BENCH_DBS[@]}"; do
    psql "$BENCH_PG/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  [[ -n "${BENCH_KEEP:-}" ]] || rm -rf "$BENCH_TMP"
}

# The binary under test: $AUDITLOG_BIN if set (no build), else a fresh release build of this tree.
build_binary() {
  if [[ -n "${AUDITLOG_BIN:-}" ]]; then
    BIN="$AUDITLOG_BIN"
    log "using prebuilt binary $BIN"
  else
    log "cargo build --release --bin auditlog"
    (cd "$BENCH_ROOT" && cargo build --release --bin auditlog >&2)
    BIN="$BENCH_ROOT/target/release/auditlog"
  fi
  [[ -x "$BIN" ]] || { echo "no binary at $BIN" >&2; exit 1; }
}

# The no-store binary (the `ceiling-diagnostic` feature, crates/auditlog-server/src/
# discarding_store.rs) in NO_STORE: $CEILING_BIN if set, else built under target/ceiling (the
# first build copies target/release there so that only the workspace crates compile).
build_ceiling_binary() {
  local target="$BENCH_ROOT/target/ceiling"
  if [[ -n "${CEILING_BIN:-}" ]]; then
    NO_STORE="$CEILING_BIN"
    return
  fi
  if [[ ! -d "$target/release" && -d "$BENCH_ROOT/target/release" ]]; then
    log "copying target/release to target/ceiling (dependencies are reused, not rebuilt)"
    mkdir -p "$target"
    cp -a "$BENCH_ROOT/target/release" "$target/release"
  fi
  log "cargo build --release --bin auditlog --features ceiling-diagnostic"
  (cd "$BENCH_ROOT" && cargo build --release --bin auditlog -p auditlog-server \
    --features ceiling-diagnostic --target-dir "$target" >&2)
  NO_STORE="$target/release/auditlog"
}

# busy_and_idle: the machine's busy and idle CPU time so far, in jiffies (idle includes iowait).
busy_and_idle() { awk '/^cpu / {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }
# server_cpu: the running server's user + system time so far, in jiffies.
server_cpu() { awk '{print $14 + $15}' "/proc/$BENCH_SERVER_PID/stat"; }
jiffy_us() { awk -v t="$(getconf CLK_TCK)" 'BEGIN {print 1e6 / t}'; }

# written_bytes: what the running server has written to storage so far (its write_bytes).
written_bytes() { awk '/^write_bytes:/ {print $2}' "/proc/$BENCH_SERVER_PID/io"; }

# events_per_commit FORMAT: the mean events per ingest commit in the Prometheus text on stdin
# (auditlog_ingest_batch_events), printed with the printf FORMAT.
events_per_commit() {
  awk -v f="$1" '/^auditlog_ingest_batch_events_sum/ {s=$2} /^auditlog_ingest_batch_events_count/ {c=$2}
    END {printf f, s/c}'
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# A fresh, empty PostgreSQL database in $PG_URL (not via $(…): the name must be recorded in this
# shell so that bench_cleanup drops it at exit).
fresh_pg_db() {
  local name="auditlog_bench_$$_${#BENCH_DBS[@]}"
  psql "$BENCH_PG/postgres" -qc "CREATE DATABASE $name" >/dev/null
  BENCH_DBS+=("$name")
  PG_URL="$BENCH_PG/$name"
}

drop_pg_db() { # URL
  psql "$BENCH_PG/postgres" -qc "DROP DATABASE IF EXISTS ${1##*/} WITH (FORCE)" >/dev/null 2>&1 || true
}

# Refuses to start with less than $1 GiB free where the data goes (a full disk also takes down
# the shared PostgreSQL).
require_free_gib() {
  local free_kb
  free_kb="$(df -Pk "$BENCH_TMP" | awk 'NR==2 {print $4}')"
  if ((free_kb < $1 * 1048576)); then
    echo "only $((free_kb / 1048576)) GiB free under $BENCH_TMP; this benchmark needs about $1 GiB" >&2
    exit 1
  fi
}

# start_server DATA_DIR [DATABASE_URL]: starts `auditlog serve` on a free port, waits for
# /health; sets BENCH_SERVER_PID and BASE.
start_server() {
  local data_dir="$1" db_url="${2:-}" port
  port="$(free_port)"
  BASE="http://127.0.0.1:$port"
  local args=(serve --listen "127.0.0.1:$port" --data-dir "$data_dir")
  [[ -n "$db_url" ]] && args+=(--database-url "$db_url")
  # The per-request access log is off, as in the figures of BENCHMARKS.md (recorded before it
  # existed); AUDITLOG_LOG set by the caller wins.
  AUDITLOG_LOG="${AUDITLOG_LOG:-info,auditlog::access=off}" \
    AUDITLOG_METRICS_LISTEN="${AUDITLOG_METRICS_LISTEN:-127.0.0.1:0}" \
    AUDITLOG_API_KEYS="$BENCH_KEY" "$BIN" "${args[@]}" ${BENCH_SERVER_ARGS:-} \
    >>"$data_dir/server.log" 2>&1 &
  BENCH_SERVER_PID=$!
  for _ in $(seq 1 300); do
    # The answer must come from this server: one that lost the port to another process exits,
    # and the other process would be measured instead.
    if curl -fsS "$BASE/health" >/dev/null 2>&1; then
      sleep 0.2
      kill -0 "$BENCH_SERVER_PID" 2>/dev/null && return 0
      break
    fi
    kill -0 "$BENCH_SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "server did not start; log:" >&2
  tail -20 "$data_dir/server.log" >&2
  exit 1
}

stop_server() {
  if [[ -n "$BENCH_SERVER_PID" ]]; then
    kill -TERM "$BENCH_SERVER_PID" 2>/dev/null || true
    wait "$BENCH_SERVER_PID" 2>/dev/null || true
    BENCH_SERVER_PID=""
  fi
}

api() { # api METHOD PATH [JSON]
  curl -fsS -X "$1" "$BASE$2" -H "Authorization: Bearer $BENCH_KEY" \
    -H 'Content-Type: application/json' ${3:+-d "$3"}
}

json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# What was measured: the commit of a fresh build, or $BENCH_LABEL / the path of a prebuilt binary.
source_label() {
  if [[ -n "${AUDITLOG_BIN:-}" ]]; then
    echo "${BENCH_LABEL:-prebuilt $AUDITLOG_BIN}"
  else
    local dirty=""
    (cd "$BENCH_ROOT" && git diff --quiet HEAD -- crates Cargo.toml Cargo.lock) || dirty="+uncommitted changes"
    echo "commit $(cd "$BENCH_ROOT" && git rev-parse --short HEAD)$dirty"
  fi
}

# One line describing the machine, for the tables' footers.
machine_line() {
  local mem disk
  mem="$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  disk="$(df -h "$BENCH_TMP" | awk 'NR==2 {print $1}')"
  echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $mem RAM, disk $disk, kernel $(uname -r)"
}

# Median write+fsync latency (ms) of 4 KiB appends in DIR: the floor under any durable commit.
fsync_probe() {
  python3 - "$1" <<'PY'
import os, sys, time, statistics
path = os.path.join(sys.argv[1], "fsync-probe")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
samples = []
for _ in range(200):
    t = time.perf_counter()
    os.write(fd, b"x" * 4096)
    os.fdatasync(fd)
    samples.append((time.perf_counter() - t) * 1000)
os.close(fd); os.unlink(path)
samples.sort()
print(f"{statistics.median(samples):.2f} ms median, {samples[int(len(samples)*0.99)-1]:.2f} ms p99")
PY
}

# Leaves in the organization's tamper-evidence tree, "none" before that feature existed, "" if
# the tree has not been started.
tree_size() { # backend data_dir db_url org
  local sql="SELECT tree_size FROM tlog_trees WHERE organization_id = '$4'" exists
  if [[ "$1" == sqlite ]]; then
    exists="$(sqlite3 "$2/auditlog.db" "SELECT count(*) FROM sqlite_master WHERE name = 'tlog_trees'")"
    if [[ "$exists" == 0 ]]; then echo none; else sqlite3 "$2/auditlog.db" "$sql"; fi
  else
    exists="$(psql "$3" -qAtc "SELECT count(*) FROM pg_tables WHERE tablename = 'tlog_trees'")"
    if [[ "$exists" == 0 ]]; then echo none; else psql "$3" -qAtc "$sql"; fi
  fi
}

# Wall-clock seconds, and the seconds between two of them.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", b - a}'; }

# wrk's version (`wrk -v` exits with status 1, which would stop a `set -e` script).
wrk_version() { { wrk -v 2>&1 || true; } | head -1 | awk '{print $2}'; }

# wait_for_tree BACKEND DATA_DIR DB_URL ORG SIZE SECONDS: polls until the organization's
# tamper-evidence tree holds SIZE leaves (status 0) or SECONDS pass (status 1).
# count_events BACKEND DATA_DIR DB_URL ORG: the organization's stored events.
count_events() { # backend data_dir db_url org
  if [[ "$1" == sqlite ]]; then
    sqlite3 "$2/auditlog.db" "SELECT count(*) FROM events WHERE organization_id = '$4'"
  else
    psql "$3" -qAtc "SELECT count(*) FROM events WHERE organization_id = '$4'"
  fi
}
wait_for_tree() {
  local deadline=$((SECONDS + $6))
  while ((SECONDS < deadline)); do
    [[ "$(tree_size "$1" "$2" "$3" "$4")" == "$5" ]] && return 0
    sleep 0.1
  done
  return 1
}
