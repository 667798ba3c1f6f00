#!/usr/bin/env bash
# SDK conformance suite: runs the official WorkOS Python and Node SDKs, pinned,
# against a freshly started auditlog server.
#
#   bash tests/sdk/run.sh
#
# Environment:
#   AUDITLOG_BIN              server binary (default target/release/auditlog; built if missing)
#   AUDITLOG_SDK_SERVER_ARGS  extra arguments appended to `auditlog serve ...` (word-split)
#   AUDITLOG_SDK_VERBOSE      if set, suites print tracebacks for unexpected errors
#   PYTHON                    interpreter used to create the venv (default python3)
#   SDK_VERSIONS              `pinned` (default: tests/sdk/versions.env) or `latest` (the newest
#                             published Python SDK and newest Node SDK of the pinned major line)
#
# SDKs are installed into .sdk/py and .sdk/node (.sdk/py-latest, .sdk/node-latest for
# `latest`), which are git-ignored and reused when already at the wanted version.
# Output: one PASS/FAIL line per check, then a final line `N passed, M failed`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CALLER_DIR="$PWD"
cd "$ROOT"

# shellcheck source=install.sh
source "$ROOT/tests/sdk/install.sh"
log() { printf '[sdk] %s\n' "$*" >&2; }

SDK_DIR="$ROOT/.sdk"
if [[ "${SDK_VERSIONS:-pinned}" == "latest" ]]; then
  # The newest published SDKs, to notice a release that breaks compatibility.
  PY_SDK_VERSION="$(sdk_newest python)"
  NODE_SDK_VERSION="$(sdk_newest node)"
  [[ -n "$PY_SDK_VERSION" && -n "$NODE_SDK_VERSION" ]] || { log "could not look up the newest SDKs"; exit 1; }
  PY_VENV="$SDK_DIR/py-latest"
  NODE_PREFIX="$SDK_DIR/node-latest"
else
  PY_VENV="$SDK_DIR/py"
  NODE_PREFIX="$SDK_DIR/node"
fi
log "SDKs: Python workos $PY_SDK_VERSION, Node @workos-inc/node $NODE_SDK_VERSION"

# ------------------------------------------------------------------ SDK installs

sdk_install python "$PY_SDK_VERSION" "$PY_VENV"
sdk_install node "$NODE_SDK_VERSION" "$NODE_PREFIX"

# ------------------------------------------------------------------ server binary

if [[ -n "${AUDITLOG_BIN:-}" ]]; then
  # a relative path given by the caller is relative to where they ran us from
  [[ "$AUDITLOG_BIN" == /* ]] || AUDITLOG_BIN="$CALLER_DIR/$AUDITLOG_BIN"
else
  AUDITLOG_BIN="$ROOT/target/release/auditlog"
fi
if [[ ! -x "$AUDITLOG_BIN" ]]; then
  log "server: $AUDITLOG_BIN missing, running cargo build --release --bin auditlog"
  cargo build --release --bin auditlog >&2
fi
if [[ ! -x "$AUDITLOG_BIN" ]]; then
  log "server: $AUDITLOG_BIN still not found after build"
  exit 1
fi

# ------------------------------------------------------------------ start server

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/auditlog-sdk.XXXXXX")"
DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/auditlog-sdk-data.XXXXXX")"
SERVER_LOG="$WORK_DIR/server.log"
SERVER_PID=""

cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK_DIR" "$DATA_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_server_log() {
  log "server log (last 60 lines of $SERVER_LOG):"
  tail -n 60 "$SERVER_LOG" >&2 || true
}

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
API_KEY="sk_test_conformance_$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
BASE_URL="http://127.0.0.1:$PORT"

SERVER_ARGS=(serve --listen "127.0.0.1:$PORT" --data-dir "$DATA_DIR")
if [[ -n "${AUDITLOG_SDK_SERVER_ARGS:-}" ]]; then
  # shellcheck disable=SC2206  # intentional word splitting of extra args
  SERVER_ARGS+=(${AUDITLOG_SDK_SERVER_ARGS})
fi

log "server: $AUDITLOG_BIN ${SERVER_ARGS[*]}"
AUDITLOG_API_KEYS="$API_KEY" "$AUDITLOG_BIN" "${SERVER_ARGS[@]}" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + 30))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE_URL/health" 2>/dev/null || true)" == "200" ]]; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    st=0; wait "$SERVER_PID" || st=$?
    echo "FAIL server: exited (status $st) before GET /health returned 200"
    show_server_log
    echo "0 passed, 1 failed"
    exit 1
  fi
  if (( SECONDS >= deadline )); then
    echo "FAIL server: GET $BASE_URL/health did not return 200 within 30 s"
    show_server_log
    echo "0 passed, 1 failed"
    exit 1
  fi
  sleep 0.2
done
log "server: healthy at $BASE_URL (pid $SERVER_PID)"

# ------------------------------------------------------------------ suites

TOTAL_PASSED=0
TOTAL_FAILED=0

# run_suite NAME CMD...: runs one suite, echoes its output, adds its PASS/FAIL
# line counts to the totals. A suite that exits non-zero without reporting any
# FAIL line (crash, import error) counts as one failure.
run_suite() {
  local name="$1"; shift
  local out="$WORK_DIR/$name.out" rc=0 p f
  log "suite: $name"
  AUDITLOG_URL="$BASE_URL" AUDITLOG_KEY="$API_KEY" "$@" 2>&1 | tee "$out" || rc=${PIPESTATUS[0]}
  p="$(grep -c '^PASS ' "$out" || true)"
  f="$(grep -c '^FAIL ' "$out" || true)"
  if (( rc != 0 && f == 0 )); then
    echo "FAIL $name: suite exited with status $rc without reporting a failed check"
    f=1
  fi
  if (( p == 0 && f == 0 )); then
    echo "FAIL $name: suite ran no checks"
    f=1
  fi
  TOTAL_PASSED=$((TOTAL_PASSED + p))
  TOTAL_FAILED=$((TOTAL_FAILED + f))
}

run_suite python "$PY_VENV/bin/python" "$ROOT/tests/sdk/python/conformance.py"
run_suite node env AUDITLOG_SDK_NODE_DIR="$NODE_PREFIX" node "$ROOT/tests/sdk/node/conformance.mjs"
run_suite python-schemas "$PY_VENV/bin/python" "$ROOT/tests/sdk/python/schemas.py"
run_suite node-schemas env AUDITLOG_SDK_NODE_DIR="$NODE_PREFIX" node "$ROOT/tests/sdk/node/schemas.mjs"
run_suite python-exports "$PY_VENV/bin/python" "$ROOT/tests/sdk/python/exports.py"
run_suite node-exports env AUDITLOG_SDK_NODE_DIR="$NODE_PREFIX" node "$ROOT/tests/sdk/node/exports.mjs"
run_suite python-retention "$PY_VENV/bin/python" "$ROOT/tests/sdk/python/retention.py"
run_suite node-retention env AUDITLOG_SDK_NODE_DIR="$NODE_PREFIX" node "$ROOT/tests/sdk/node/retention.mjs"

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "FAIL server: process died during the suites"
  show_server_log
  TOTAL_FAILED=$((TOTAL_FAILED + 1))
elif (( TOTAL_FAILED > 0 )); then
  show_server_log
fi

echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
(( TOTAL_FAILED == 0 ))
