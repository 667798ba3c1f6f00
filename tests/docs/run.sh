#!/usr/bin/env bash
# Runs every example of README.md and docs/ (see tests/docs/run.py for the fence markers and
# the placeholder rules) against a real `auditlog serve`, twice: with the SDK versions pinned in
# tests/sdk/versions.env, and with the newest published ones, so that an SDK release that
# breaks an example is noticed.
#
#   bash tests/docs/run.sh [FILE…]
#
# Environment: AUDITLOG_BIN (default target/debug/auditlog, built if missing);
# DOCS_SDK_VERSIONS=pinned to skip the newest-SDK pass (e.g. offline).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=../sdk/install.sh
source tests/sdk/install.sh
BIN="${AUDITLOG_BIN:-$ROOT/target/debug/auditlog}"
[[ -x "$BIN" ]] || cargo build --bin auditlog

status=0
sdk_install python "$PY_SDK_VERSION" .sdk/py
sdk_install node "$NODE_SDK_VERSION" .sdk/node
python3 tests/docs/run.py --bin "$BIN" --python-sdk .sdk/py --node-sdk .sdk/node \
  --label "workos $PY_SDK_VERSION, node $NODE_SDK_VERSION" "$@" || status=1

if [[ "${DOCS_SDK_VERSIONS:-both}" != "pinned" ]]; then
  newest_py="$(sdk_newest python)"
  newest_node="$(sdk_newest node)"
  if [[ -z "$newest_py" || -z "$newest_node" ]]; then
    echo "FAIL could not look up the newest SDK versions (set DOCS_SDK_VERSIONS=pinned offline)"
    echo "0 passed, 1 failed"
    exit 1
  fi
  sdk_install python "$newest_py" .sdk/py-latest
  sdk_install node "$newest_node" .sdk/node-latest
  python3 tests/docs/run.py --bin "$BIN" --python-sdk .sdk/py-latest --node-sdk .sdk/node-latest \
    --label "newest: workos $newest_py, node $newest_node" "$@" || status=1
fi
exit "$status"
