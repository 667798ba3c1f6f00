#!/usr/bin/env bash
# Adversarial suite: attacks and faults against a real `auditlog serve`, on SQLite + local files
# and on PostgreSQL + S3 (pytest, pinned, installed into .sdk/adversarial).
#
#   bash tests/adversarial/run.sh [pytest args…]
#
# Environment: AUDITLOG_BIN (default target/debug/auditlog, built if missing),
# AUDITLOG_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres). Starts moto
# for S3 unless AUDITLOG_TEST_S3_BUCKET is already set (scripts/test.sh starts one).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTEST_VERSION="8.3.4"
REQUESTS_VERSION="2.32.3"
VENV="$ROOT/.sdk/adversarial"
if ! "$VENV/bin/python" -c "import pytest, requests, sys; sys.exit(pytest.__version__ != '$PYTEST_VERSION')" 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "pytest==$PYTEST_VERSION" "requests==$REQUESTS_VERSION"
fi
export AUDITLOG_BIN="${AUDITLOG_BIN:-$ROOT/target/debug/auditlog}"
if [[ ! -x "$AUDITLOG_BIN" ]]; then
  cargo build --bin auditlog
fi
export AUDITLOG_TEST_DATABASE_URL="${AUDITLOG_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if [[ -z "${AUDITLOG_TEST_S3_BUCKET:-}" ]]; then
  # shellcheck source=../s3/moto.sh
  source tests/s3/moto.sh
  trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
fi
"$VENV/bin/python" -m pytest -p no:cacheprovider -q -rs "$ROOT/tests/adversarial" "$@"
