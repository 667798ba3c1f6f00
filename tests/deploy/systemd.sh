#!/usr/bin/env bash
# Checks deploy/auditlog.service with systemd's own tools: `systemd-analyze verify` (syntax,
# directives, the ExecStart binary: this build's) and `systemd-analyze security --offline`
# (the hardening: the exposure score must stay at or below MAX_EXPOSURE).
#
#   bash tests/deploy/systemd.sh            (AUDITLOG_BIN: default target/debug/auditlog)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${AUDITLOG_BIN:-$ROOT/target/debug/auditlog}"
MAX_EXPOSURE="2.0"
command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (Debian: systemd)" >&2; exit 1; }
[[ -x "$BIN" ]] || { echo "no binary at $BIN" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# The unit as shipped, with this build's binary where the unit installs it.
sed "s#/usr/local/bin/auditlog#$BIN#" "$ROOT/deploy/auditlog.service" > "$WORK/auditlog.service"
grep -q "ExecStart=$BIN serve" "$WORK/auditlog.service"
# verify only warns about an unknown or misplaced directive: any output is a failure here.
warnings="$(systemd-analyze verify "$WORK/auditlog.service" 2>&1)"
[[ -z "$warnings" ]] || { echo "$warnings" >&2; echo "systemd-analyze verify complained" >&2; exit 1; }
report="$(systemd-analyze security --offline=true "$WORK/auditlog.service" 2>&1)"
score="$(sed -n 's/.*Overall exposure level for auditlog.service: \([0-9.]*\).*/\1/p' <<<"$report")"
[[ -n "$score" ]] || { echo "$report" >&2; echo "no exposure score in the report" >&2; exit 1; }
if awk -v s="$score" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(s > max) }'; then
  echo "$report" >&2
  echo "exposure $score is above $MAX_EXPOSURE" >&2
  exit 1
fi
# The flags the unit passes exist in this build.
"$BIN" serve --help | grep -q -- '--log-format' || "$BIN" --help | grep -q -- '--log-format'
echo "deploy/auditlog.service: verified, exposure $score (at most $MAX_EXPOSURE)"
