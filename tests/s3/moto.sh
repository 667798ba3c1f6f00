#!/usr/bin/env bash
# Source this file: installs a pinned moto (an S3-compatible server, from PyPI) into .sdk/moto,
# starts it on a free loopback port, creates a bucket, and exports what the tests need:
#   AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_ENDPOINT_URL AWS_ALLOW_HTTP
#   AUDITLOG_TEST_S3_BUCKET MOTO_PID
# The caller stops it with: kill "$MOTO_PID".
MOTO_VERSION="5.2.5"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MOTO_VENV="$ROOT/.sdk/moto"
if ! "$MOTO_VENV/bin/python" -c "import moto, sys; sys.exit(moto.__version__ != '$MOTO_VERSION')" 2>/dev/null; then
  python3 -m venv "$MOTO_VENV"
  "$MOTO_VENV/bin/pip" install --quiet "moto[server]==$MOTO_VERSION"
fi
MOTO_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
"$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" > "${TMPDIR:-/tmp}/auditlog-moto-$MOTO_PORT.log" 2>&1 &
MOTO_PID=$!
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT" AWS_ALLOW_HTTP=true
export AUDITLOG_TEST_S3_BUCKET=auditlog-test
for _ in $(seq 1 100); do
  if curl -fs -o /dev/null -X PUT "$AWS_ENDPOINT_URL/$AUDITLOG_TEST_S3_BUCKET"; then break; fi
  sleep 0.2
done
curl -fs -o /dev/null "$AWS_ENDPOINT_URL/$AUDITLOG_TEST_S3_BUCKET" || { echo "moto did not start" >&2; return 1; }
export MOTO_PID
echo "moto $MOTO_VERSION (S3) on $AWS_ENDPOINT_URL, bucket $AUDITLOG_TEST_S3_BUCKET"
