#!/usr/bin/env bash
# API fuzzing: Schemathesis, pinned, generates requests from the server's own OpenAPI document
# (GET /openapi.json) and checks every answer against it.
#
#   bash tests/fuzz/schemathesis.sh
#
# Checks: the server never answers 5xx (`not_a_server_error`), every answer has a documented
# status, content type, headers and body schema (`status_code_conformance`,
# `content_type_conformance`, `response_headers_conformance`, `response_schema_conformance`).
# Before fuzzing it creates organizations, an action schema, an event and an export, and binds
# their ids to the matching parameters (about half of the generated values), so requests reach
# real data as well as unknown ids.
#
# Environment:
#   AUDITLOG_BIN            server binary (default: target/debug/auditlog, built with cargo)
#   FUZZ_MAX_EXAMPLES       test cases per operation and phase (default 60; about 45 s)
#   FUZZ_TIMEOUT_SECS       hard limit for the Schemathesis run (default 150)
#   FUZZ_SEED               Hypothesis seed, for reproducing a run (default: random, printed)
#   FUZZ_CHECKS             Schemathesis checks (default: the five above; `all` adds the noisy
#                           request-side ones, e.g. negative_data_rejection)
#   FUZZ_REPORT_DIR         where to keep the JUnit and NDJSON reports (default: a temp dir, removed)
#   PYTHON                  interpreter used to create the venv (default python3)
#
# Schemathesis is installed into .sdk/fuzz (venv, git-ignored), reused when already at the
# pinned version. Output: Schemathesis's report, then a final line `N passed, M failed`
# counting API operations. Exits non-zero on any failure.
set -euo pipefail

SCHEMATHESIS_VERSION="4.32.5"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CALLER_DIR="$PWD"
cd "$ROOT"

VENV="$ROOT/.sdk/fuzz"
MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-60}"
TIMEOUT_SECS="${FUZZ_TIMEOUT_SECS:-150}"
SEED="${FUZZ_SEED:-$(od -An -tu4 -N4 /dev/urandom | tr -d ' \n')}"

log() { printf '[fuzz] %s\n' "$*" >&2; }

# ------------------------------------------------------------------ Schemathesis install

have=""
if [[ -x "$VENV/bin/python" ]]; then
  have="$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true)"
fi
if [[ "$have" == "$SCHEMATHESIS_VERSION" ]]; then
  log "schemathesis $have already installed in .sdk/fuzz"
else
  log "installing schemathesis==$SCHEMATHESIS_VERSION into .sdk/fuzz"
  [[ -x "$VENV/bin/python" ]] || "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION"
fi

# ------------------------------------------------------------------ server binary

if [[ -n "${AUDITLOG_BIN:-}" ]]; then
  [[ "$AUDITLOG_BIN" == /* ]] || AUDITLOG_BIN="$CALLER_DIR/$AUDITLOG_BIN"
else
  AUDITLOG_BIN="$ROOT/target/debug/auditlog"
  log "building $AUDITLOG_BIN"
  cargo build --bin auditlog >&2
fi
if [[ ! -x "$AUDITLOG_BIN" ]]; then
  log "server binary $AUDITLOG_BIN not found"
  echo "0 passed, 1 failed"
  exit 1
fi

# ------------------------------------------------------------------ start the server

WORK_DIR="$(mktemp -d "${TMPDIR:-/tmp}/auditlog-fuzz.XXXXXX")"
DATA_DIR="$WORK_DIR/data"
SERVER_LOG="$WORK_DIR/server.log"
REPORT_DIR="${FUZZ_REPORT_DIR:-$WORK_DIR/report}"
[[ "$REPORT_DIR" == /* ]] || REPORT_DIR="$CALLER_DIR/$REPORT_DIR"
SERVER_PID=""
mkdir -p "$REPORT_DIR"

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
  rm -rf "$WORK_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

show_server_errors() {
  log "server log: ERROR lines and panics (of $SERVER_LOG):"
  grep -E 'ERROR|panicked' "$SERVER_LOG" | tail -n 40 >&2 || true
}

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
API_KEY="sk_test_fuzz_$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')"
BASE_URL="http://127.0.0.1:$PORT"

log "server: $AUDITLOG_BIN serve --listen 127.0.0.1:$PORT --data-dir $DATA_DIR"
AUDITLOG_API_KEYS="$API_KEY" AUDITLOG_LOG="${AUDITLOG_LOG:-warn}" \
  "$AUDITLOG_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA_DIR" >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

deadline=$((SECONDS + 30))
until [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE_URL/health" 2>/dev/null || true)" == "200" ]]; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null || (( SECONDS >= deadline )); then
    log "server did not become healthy"
    tail -n 40 "$SERVER_LOG" >&2 || true
    echo "0 passed, 1 failed"
    exit 1
  fi
  sleep 0.2
done
log "server: healthy at $BASE_URL (pid $SERVER_PID)"

# ------------------------------------------------------------------ seed data

# api METHOD PATH [JSON]: prints the response body; fails unless 2xx.
api() {
  local method="$1" path="$2" data="${3:-}" out status
  out="$WORK_DIR/api.out"
  status="$(curl -s -o "$out" -w '%{http_code}' -X "$method" "$BASE_URL$path" \
    -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
    ${data:+--data "$data"})"
  if [[ "$status" != 2* ]]; then
    log "seeding: $method $path answered $status: $(cat "$out")"
    return 1
  fi
  cat "$out"
}
json_field() { "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

ORG_IDS=()
for name in Acme Globex Initech; do
  ORG_IDS+=("$(api POST /organizations '{"name":"'"$name"'","external_id":"fuzz-'"$name"'"}' | json_field id)")
done
ORG="${ORG_IDS[0]}"
ACTION="user.signed_in"
api POST "/audit_logs/actions/$ACTION/schemas" \
  '{"targets":[{"type":"team"}],"actor":{"metadata":{"type":"object","properties":{"role":{"type":"string"}}}}}' >/dev/null
api POST /audit_logs/events '{"organization_id":"'"$ORG"'","event":{"action":"'"$ACTION"'","occurred_at":"2026-01-15T12:00:00.000Z","actor":{"id":"user_1","type":"user","name":"Jon","metadata":{"role":"admin"}},"targets":[{"id":"team_1","type":"team"}],"context":{"location":"203.0.113.7"}}}' >/dev/null
EXPORT_ID="$(api POST /audit_logs/exports '{"organization_id":"'"$ORG"'","range_start":"2026-01-01T00:00:00Z","range_end":"2027-01-01T00:00:00Z"}' | json_field id)"
EVENT_ID="$(api GET "/audit_logs/events?organization_id=$ORG&after_sequence=-1" \
  | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')"
log "seeded organizations ${ORG_IDS[*]}, action $ACTION, event $EVENT_ID, export $EXPORT_ID"

# Real ids for about half of the generated values of the matching parameters.
toml_list() { local out="" v; for v in "$@"; do out+="\"$v\", "; done; printf '[%s]' "${out%, }"; }
CONFIG="$WORK_DIR/schemathesis.toml"
cat >"$CONFIG" <<EOF
[dictionaries.organization_ids]
values = $(toml_list "${ORG_IDS[@]}")

[dictionaries.actions]
values = ["$ACTION"]

[dictionaries.export_ids]
values = ["$EXPORT_ID"]

[dictionaries.event_ids]
values = ["$EVENT_ID"]

[parameters]
"path.organization_id" = { dictionary = "organization_ids", probability = 0.5 }
"query.organization_id" = { dictionary = "organization_ids", probability = 0.5 }
"body.organization_id" = { dictionary = "organization_ids", probability = 0.5 }
"path.action" = { dictionary = "actions", probability = 0.5 }
"path.export_id" = { dictionary = "export_ids", probability = 0.5 }
"path.event_id" = { dictionary = "event_ids", probability = 0.5 }
"body.event.action" = { dictionary = "actions", probability = 0.5 }

# A documented operation the server does not route (405), a key that is never accepted, or a
# broken reference is a failure, not a warning.
[warnings]
fail-on = ["method_not_allowed", "missing_auth", "unresolvable_reference", "base_url_mismatch"]
EOF

# ------------------------------------------------------------------ fuzz

CHECKS="${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance}"
log "schemathesis: $MAX_EXAMPLES examples per operation, seed $SEED, at most ${TIMEOUT_SECS}s"
rc=0
# One worker: with two, Hypothesis's ast.parse calls from two threads at once hit a CPython 3.11
# bug ("SystemError: AST constructor recursion depth mismatch") now and then, a runtime error of
# the fuzzer that says nothing about the server. The run takes about twice as long (~50 s).
# From the temp dir: Schemathesis and Hypothesis keep caches (.schemathesis/, .hypothesis/) in
# the working directory; each run starts fresh and leaves nothing in the tree.
cd "$WORK_DIR"
timeout --kill-after=10 "$TIMEOUT_SECS" \
  "$VENV/bin/schemathesis" --config-file "$CONFIG" --no-color run "$BASE_URL/openapi.json" \
  --header "Authorization: Bearer $API_KEY" \
  --checks "$CHECKS" \
  --max-examples "$MAX_EXAMPLES" \
  --seed "$SEED" \
  --workers 1 \
  --request-timeout 10 \
  --generation-database none \
  --report junit,ndjson --report-dir "$REPORT_DIR" \
  --report-junit-path "$REPORT_DIR/junit.xml" --report-ndjson-path "$REPORT_DIR/events.ndjson" \
  || rc=$?
if (( rc == 124 || rc == 137 )); then
  log "schemathesis did not finish within ${TIMEOUT_SECS}s"
fi

# ------------------------------------------------------------------ summary

server_alive=1
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  server_alive=0
  log "the server process died during the run"
fi
if grep -qE 'ERROR|panicked' "$SERVER_LOG"; then
  show_server_errors
fi

read -r passed failed < <("$VENV/bin/python" - "$REPORT_DIR/junit.xml" <<'PY'
import sys
import xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except (OSError, ET.ParseError):
    print(0, 0)
    sys.exit()
passed = failed = 0
stateful_failed = False
for case in root.iter("testcase"):
    bad = case.find("failure") is not None or case.find("error") is not None
    if case.get("name", "").startswith("Stateful"):
        stateful_failed = bad  # a scenario across operations, not an operation
    elif bad:
        failed += 1
    elif case.find("skipped") is None:
        passed += 1
if stateful_failed and failed == 0:
    failed = 1
print(passed, failed)
PY
)
if (( rc != 0 && failed == 0 )); then
  failed=1   # a crash, a timeout or a schema error without a per-operation failure
fi
if (( server_alive == 0 )); then
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
(( rc == 0 && failed == 0 ))
