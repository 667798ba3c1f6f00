#!/usr/bin/env bash
# The whole test suite, exactly what CI runs (.ci/run). Run from anywhere: `bash scripts/test.sh`.
#
# 1. cargo fmt --check and cargo clippy (warnings are errors)
# 2. cargo test --workspace: unit, store contract (SQLite and PostgreSQL), HTTP integration on
#    SQLite + local files, process tests (SIGKILL durability)
# 3. the HTTP integration suite again on PostgreSQL + S3 (moto)
# 4. SDK conformance (pinned Python and Node WorkOS SDKs) against a real `auditlog serve`, on
#    SQLite + local files and on PostgreSQL + S3
# 5. every runnable example of README.md and docs/ (tests/docs), with the pinned and the newest
#    SDKs; with AUDITLOG_TEST_LATEST_SDKS=1 also the SDK conformance with the newest SDKs
# 6. the adversarial suite (tests/adversarial: attacks and faults against a real server, on
#    SQLite + local files and on PostgreSQL + S3)
# 7. the systemd unit example, checked by systemd-analyze (tests/deploy/systemd.sh), and the
#    container image's Dockerfile: hadolint, and its runtime contract run without an engine
#    (tests/deploy/container.sh)
# 8. API fuzzing with schemathesis from the OpenAPI document (pinned seed and budget)
# 9. the Admin Portal in a real browser: Debian's Chromium driven headless by playwright-core,
#    with an axe-core accessibility scan (tests/portal; installs chromium when missing), on
#    SQLite + local files and on PostgreSQL + S3
#
# Needs: Rust, Python 3, Node 20+, curl, psql, openssl, apt-get (installs rsyslog and chromium when missing), PostgreSQL at $AUDITLOG_TEST_DATABASE_URL
# (default postgres://postgres@127.0.0.1:5432/postgres, trust auth). The S3-compatible server
# (moto) is installed into .sdk/ and started here.
set -euo pipefail
cd "$(dirname "$0")/.."

# Incremental build caches double the target directory and buy nothing in a one-shot run.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# Every server a test starts serves its metrics on a free port: several run at once, and the
# default metrics port would be taken by the first of them.
export AUDITLOG_METRICS_LISTEN="${AUDITLOG_METRICS_LISTEN:-127.0.0.1:0}"
export AUDITLOG_TEST_DATABASE_URL="${AUDITLOG_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PG_SERVER="${AUDITLOG_TEST_DATABASE_URL%/*}"

if ! psql "$AUDITLOG_TEST_DATABASE_URL" -qAtc 'select 1' >/dev/null 2>&1; then
  echo "PostgreSQL is not reachable at $AUDITLOG_TEST_DATABASE_URL; trying to start the local cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
  sleep 2
  psql "$AUDITLOG_TEST_DATABASE_URL" -qAtc 'select 1' >/dev/null
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings

# The log-stream tests deliver to a real rsyslog (with its TLS driver), from Debian's packages.
if ! command -v rsyslogd >/dev/null 2>&1 && [[ ! -x /usr/sbin/rsyslogd ]]; then
  echo "== installing rsyslog (log-stream syslog tests)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rsyslog rsyslog-gnutls >/dev/null \
    || { apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rsyslog rsyslog-gnutls >/dev/null; }
fi
[[ -f /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ]] || ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 \
  || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends rsyslog-gnutls >/dev/null

# shellcheck source=../tests/s3/moto.sh
source tests/s3/moto.sh
# PostgreSQL and S3 are both up now: a test that would skip for want of either fails instead.
export AUDITLOG_TEST_REQUIRE_BACKENDS=1
SDK_DB="auditlog_sdk_$$"
PORTAL_DB="auditlog_portal_$$"
cleanup() {
  kill "$MOTO_PID" 2>/dev/null || true
  for db in "$SDK_DB" "$PORTAL_DB"; do
    psql "$AUDITLOG_TEST_DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

echo "== cargo test (SQLite + local files; store contract on SQLite and PostgreSQL)"
cargo test --workspace
echo "== cargo test -p auditlog-server on PostgreSQL + S3"
AUDITLOG_TEST_BACKEND=postgres cargo test -p auditlog-server

cargo build --bin auditlog
echo "== SDK conformance on SQLite + local files (Python workos, Node @workos-inc/node)"
AUDITLOG_BIN="$PWD/target/debug/auditlog" bash tests/sdk/run.sh
echo "== SDK conformance on PostgreSQL + S3"
psql "$AUDITLOG_TEST_DATABASE_URL" -qc "CREATE DATABASE $SDK_DB" >/dev/null
AUDITLOG_BIN="$PWD/target/debug/auditlog" \
  AUDITLOG_SDK_SERVER_ARGS="--database-url $PG_SERVER/$SDK_DB --blob-url s3://$AUDITLOG_TEST_S3_BUCKET/sdk-$$" \
  bash tests/sdk/run.sh
echo "== README and docs examples (pinned and newest SDKs)"
AUDITLOG_BIN="$PWD/target/debug/auditlog" bash tests/docs/run.sh
if [[ "${AUDITLOG_TEST_LATEST_SDKS:-0}" == "1" ]]; then
  echo "== SDK conformance with the newest published SDKs"
  SDK_VERSIONS=latest AUDITLOG_BIN="$PWD/target/debug/auditlog" bash tests/sdk/run.sh
fi
echo "== deploy/auditlog.service (systemd-analyze verify and security)"
AUDITLOG_BIN="$PWD/target/debug/auditlog" bash tests/deploy/systemd.sh
echo "== deploy/Dockerfile (hadolint; the image's user, environment and health check)"
AUDITLOG_BIN="$PWD/target/debug/auditlog" bash tests/deploy/container.sh
echo "== Adversarial suite (attacks and faults against a real server, both stores)"
AUDITLOG_BIN="$PWD/target/debug/auditlog" bash tests/adversarial/run.sh
echo "== API fuzzing (schemathesis, pinned seed and budget; no 5xx, every answer as documented)"
FUZZ_SEED="${FUZZ_SEED:-20261129}" FUZZ_MAX_EXAMPLES="${FUZZ_MAX_EXAMPLES:-40}" \
  AUDITLOG_BIN="$PWD/target/debug/auditlog" bash tests/fuzz/schemathesis.sh
echo "== Admin Portal in Chromium (playwright-core, axe-core) on SQLite + local files"
AUDITLOG_BIN="$PWD/target/debug/auditlog" bash tests/portal/run.sh
echo "== Admin Portal in Chromium on PostgreSQL + S3 (the export downloads from a presigned URL)"
psql "$AUDITLOG_TEST_DATABASE_URL" -qc "CREATE DATABASE $PORTAL_DB" >/dev/null
AUDITLOG_BIN="$PWD/target/debug/auditlog" \
  AUDITLOG_PORTAL_SERVER_ARGS="--database-url $PG_SERVER/$PORTAL_DB --blob-url s3://$AUDITLOG_TEST_S3_BUCKET/portal-$$" \
  bash tests/portal/run.sh
