"""Adversarial suite: each test drives a real `auditlog serve` process, as an attacker or an
unlucky operator would, on the embedded store (SQLite + local files) and on PostgreSQL + S3.

Fixtures:
- `store`: "sqlite" or "postgres"; tests that take `server` or `start_server` run once per store.
- `start_server(**options)`: starts a server and returns a `Server` (stopped at teardown).
- `server`: one server with default options on the parametrised store.

Environment (set by tests/adversarial/run.sh): AUDITLOG_BIN, AUDITLOG_TEST_DATABASE_URL, and for
PostgreSQL runs the S3 variables of tests/s3/moto.sh (AWS_*, AUDITLOG_TEST_S3_BUCKET).
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests

BIN = os.environ.get("AUDITLOG_BIN", str(Path(__file__).resolve().parents[2] / "target/debug/auditlog"))
PG_URL = os.environ.get("AUDITLOG_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_SERVER = PG_URL.rsplit("/", 1)[0]
STORES = ["sqlite", "postgres"]


def new_key() -> str:
    """A key of the shape `auditlog keys create` mints: sk_ and 48 random alphanumerics."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "sk_" + "".join(secrets.choice(alphabet) for _ in range(48))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(sql: str, database_url: str = PG_URL) -> str:
    return subprocess.run(
        ["psql", database_url, "-qAtc", sql], check=True, capture_output=True, text=True
    ).stdout


class Server:
    """One `auditlog serve` process. `restart()` keeps its data dir, database and blob prefix."""

    def __init__(self, store: str, work: Path, args: list[str], env: dict[str, str], key: str):
        self.store = store
        self.work = work
        self.data_dir = work / "data"
        self.key = key
        self.extra_args = list(args)
        self.extra_env = dict(env)
        self.database_url: str | None = None
        self.blob_prefix: str | None = None
        self.process: subprocess.Popen | None = None
        # Runs in the child before exec (e.g. to lower its resource limits).
        self.preexec_fn = None
        self.log_path = work / "server.log"
        self.port = free_port()
        if store == "postgres":
            name = "adv_" + uuid.uuid4().hex[:12]
            psql(f"CREATE DATABASE {name}")
            self.database_name = name
            self.database_url = f"{PG_SERVER}/{name}"
            bucket = os.environ.get("AUDITLOG_TEST_S3_BUCKET")
            if not bucket:
                raise RuntimeError("PostgreSQL runs need the S3 variables of tests/s3/moto.sh")
            self.blob_prefix = f"s3://{bucket}/adv-{uuid.uuid4().hex[:12]}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}

    def command(self, *args: str) -> list[str]:
        """`auditlog ARGS…` with this server's store options appended (for CLI subcommands)."""
        return [BIN, *args, *self.store_args()]

    def store_args(self) -> list[str]:
        out = ["--data-dir", str(self.data_dir)]
        if self.database_url:
            out += ["--database-url", self.database_url, "--blob-url", self.blob_prefix]
        return out

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("AUDITLOG_LOG", "info")
        env["AUDITLOG_API_KEYS"] = self.key
        env.update(self.extra_env)
        return env

    def start(self, wait: bool = True) -> "Server":
        args = [BIN, "serve", "--listen", f"127.0.0.1:{self.port}", *self.store_args(), *self.extra_args]
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(args, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
                                        preexec_fn=self.preexec_fn)
        if wait:
            self.wait_healthy()
        return self

    def wait_healthy(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log_text()[-4000:]}")
            try:
                if requests.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not healthy within {timeout}s:\n{self.log_text()[-4000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self, **kwargs) -> "Server":
        self.stop()
        return self.start(**kwargs)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def rss_kib(self) -> int:
        """Current resident set size of the server process, in KiB."""
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def peak_rss_kib(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmHWM")

    # ---- HTTP helpers (never raise on status; tests assert on it)

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("headers", self.headers)
        kwargs.setdefault("timeout", 30)
        return requests.get(self.url + path, **kwargs)

    def post(self, path: str, body=None, **kwargs) -> requests.Response:
        kwargs.setdefault("headers", self.headers)
        kwargs.setdefault("timeout", 30)
        if body is not None and "data" not in kwargs:
            kwargs["json"] = body
        return requests.post(self.url + path, **kwargs)

    def put(self, path: str, body=None, **kwargs) -> requests.Response:
        kwargs.setdefault("headers", self.headers)
        kwargs.setdefault("timeout", 30)
        if body is not None:
            kwargs["json"] = body
        return requests.put(self.url + path, **kwargs)

    def delete(self, path: str, body=None, **kwargs) -> requests.Response:
        kwargs.setdefault("headers", self.headers)
        kwargs.setdefault("timeout", 30)
        if body is not None:
            kwargs["json"] = body
        return requests.delete(self.url + path, **kwargs)

    def create_org(self, name: str = "Acme") -> str:
        response = self.post("/organizations", {"name": name})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def cleanup(self) -> None:
        self.kill()
        if self.database_url:
            try:
                psql(f"DROP DATABASE IF EXISTS {self.database_name} WITH (FORCE)")
            except subprocess.CalledProcessError:
                pass


def event(action: str = "user.signed_in", actor_id: str = "user_1", **overrides) -> dict:
    """A valid WorkOS event body (the `event` member of POST /audit_logs/events)."""
    body = {
        "action": action,
        "occurred_at": "2026-01-15T12:00:00.000Z",
        "actor": {"id": actor_id, "type": "user", "name": "Jon"},
        "targets": [{"id": "team_1", "type": "team"}],
        "context": {"location": "203.0.113.7", "user_agent": "adversarial"},
    }
    body.update(overrides)
    return body


@pytest.fixture(params=STORES)
def store(request) -> str:
    return request.param


@pytest.fixture
def start_server(store, tmp_path_factory):
    started: list[Server] = []

    def start(args: list[str] | None = None, env: dict[str, str] | None = None,
              key: str | None = None, wait: bool = True, on_store: str | None = None,
              preexec_fn=None) -> Server:
        work = tmp_path_factory.mktemp("server")
        server = Server(on_store or store, work, args or [], env or {}, key or new_key())
        server.preexec_fn = preexec_fn
        started.append(server)
        return server.start(wait=wait)

    yield start
    for server in started:
        server.cleanup()


@pytest.fixture
def server(start_server) -> Server:
    return start_server()
