#!/usr/bin/env bash
# The Admin Portal in a real browser: Debian's Chromium, driven headless by playwright-core
# (from the npm registry, using the system browser), against a real `auditlog serve` on
# SQLite + local files. The Node WorkOS SDK generates the links.
#
#   bash tests/portal/run.sh
#
# Environment:
#   AUDITLOG_BIN                  server binary (default target/debug/auditlog)
#   AUDITLOG_PORTAL_SCREENSHOTS   a folder to write the main pages' screenshots to
#                                 (docs/screenshots is where the README's come from)
#   AUDITLOG_PORTAL_SERVER_ARGS   extra arguments for `auditlog serve` (word-split), e.g.
#                                 `--database-url … --blob-url s3://…` for PostgreSQL + S3
#
# Installs when missing: chromium (apt-get), playwright-core and axe-core (pinned, into
# .sdk/browser), the pinned Node SDK (into .sdk/node).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
log() { printf '[portal] %s\n' "$*" >&2; }

PLAYWRIGHT_VERSION="1.65.2"
AXE_VERSION="4.14.1"
BROWSER_DIR="$ROOT/.sdk/browser"

CHROMIUM="$(command -v chromium || true)"
if [[ -z "$CHROMIUM" ]]; then
  log "installing chromium (apt-get)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium >/dev/null; }
  CHROMIUM="$(command -v chromium)"
fi
log "browser: $("$CHROMIUM" --version 2>/dev/null | head -1)"

installed() { node -e "process.exit(require('$BROWSER_DIR/node_modules/$1/package.json').version === '$2' ? 0 : 1)" 2>/dev/null; }
if ! installed playwright-core "$PLAYWRIGHT_VERSION" || ! installed axe-core "$AXE_VERSION"; then
  log "installing playwright-core@$PLAYWRIGHT_VERSION axe-core@$AXE_VERSION into $BROWSER_DIR"
  mkdir -p "$BROWSER_DIR"
  [[ -f "$BROWSER_DIR/package.json" ]] || echo '{"private": true}' >"$BROWSER_DIR/package.json"
  npm install --prefix "$BROWSER_DIR" --no-audit --no-fund --silent \
    "playwright-core@$PLAYWRIGHT_VERSION" "axe-core@$AXE_VERSION" >&2
fi

# shellcheck source=../sdk/install.sh
source "$ROOT/tests/sdk/install.sh"
sdk_install node "$NODE_SDK_VERSION" "$ROOT/.sdk/node"

AUDITLOG_BIN="${AUDITLOG_BIN:-$ROOT/target/debug/auditlog}"
[[ "$AUDITLOG_BIN" == /* ]] || AUDITLOG_BIN="$ROOT/$AUDITLOG_BIN"
[[ -x "$AUDITLOG_BIN" ]] || cargo build --bin auditlog

DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/auditlog-portal.XXXXXX")"
SERVER_PID=""
cleanup() {
  local rc=$?
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  if (( rc != 0 )); then
    log "server log (last 40 lines):"
    tail -n 40 "$DATA_DIR/server.log" >&2 || true
  fi
  rm -rf "$DATA_DIR"
  exit "$rc"
}
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
API_KEY="sk_test_portal_$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
BASE_URL="http://127.0.0.1:$PORT"
# Links expire after 5 s here (300 s by default) so that the suite can see one expire; the
# stream test's receiver is on loopback, over plain HTTP.
# shellcheck disable=SC2086  # AUDITLOG_PORTAL_SERVER_ARGS is split into arguments on purpose
AUDITLOG_API_KEYS="$API_KEY" "$AUDITLOG_BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$DATA_DIR/data" \
  --log-interval-secs 1 --portal-link-ttl-secs 5 \
  --stream-allow-plaintext true --stream-allow-networks 127.0.0.0/8 \
  ${AUDITLOG_PORTAL_SERVER_ARGS:-} >"$DATA_DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
  curl -sf -o /dev/null "$BASE_URL/health" && break
  sleep 0.2
done
curl -sf -o /dev/null "$BASE_URL/health" || { log "the server did not start"; exit 1; }

AUDITLOG_URL="$BASE_URL" AUDITLOG_KEY="$API_KEY" CHROMIUM="$CHROMIUM" \
  AUDITLOG_SDK_NODE_DIR="$ROOT/.sdk/node" AUDITLOG_BROWSER_DIR="$BROWSER_DIR" \
  node "$ROOT/tests/portal/browser.mjs"
