#!/usr/bin/env bash
# The whole test suite: formatting, lints, Rust unit/integration/process tests, and the SDK
# conformance suite (installs pinned Python and Node WorkOS SDKs into .sdk/ and drives a real
# `auditlog serve`). Run from anywhere: `bash scripts/test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace
echo "== SDK conformance (Python workos, Node @workos-inc/node)"
cargo build --bin auditlog
AUDITLOG_BIN="$PWD/target/debug/auditlog" bash tests/sdk/run.sh
