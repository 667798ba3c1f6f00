"""A full disk is a server condition that heals by itself (SQLite on a small tmpfs).

While the data dir's file system is full, every write path answers 503 with Retry-After (never
500), reads that write nothing keep answering 200, and a read that must leave a meta-audit record
answers 503 saying so. Once space is freed, every write path works again within seconds without
a restart, the log builder signs again, and the database passes `PRAGMA integrity_check`.
It used to answer 500, and after space came back kept answering 500 ("attempted to call
begin_with at non-zero transaction depth") until a restart.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import subprocess
import time

import pytest

from conftest import event

TMPFS_SIZE = "32m"
HEAL_WITHIN_SECS = 15


def mount_tmpfs(path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_SIZE}", "tmpfs", str(path)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        reason = f"cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): {result.stderr.strip()}"
        print(reason)
        pytest.skip(reason)


def fill(path) -> None:
    """Writes a ballast file until the file system has no byte left."""
    with open(path, "wb", buffering=0) as ballast:
        for chunk in (1 << 20, 4096, 512):
            block = b"\0" * chunk
            try:
                while True:
                    ballast.write(block)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error


def truncate_wal(database) -> None:
    """Empties the WAL, so that the next commit must grow it (a WAL with room left would take
    small commits even on a full disk)."""
    connection = sqlite3.connect(database, timeout=30)
    try:
        busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0
    finally:
        connection.close()


def write_paths(server, org_with_events: str, empty_org: str, hold_org: str):
    """(name, request) for every kind of write, each a fresh request."""
    return [
        ("event ingest", lambda: server.post("/audit_logs/events",
                                             {"organization_id": org_with_events, "event": event()})),
        ("export", lambda: server.post("/audit_logs/exports", {
            "organization_id": org_with_events,
            "range_start": "2026-01-01T00:00:00Z", "range_end": "2026-02-01T00:00:00Z"})),
        ("legal hold", lambda: server.post(f"/organizations/{hold_org}/legal_hold",
                                           {"reason": "litigation"})),
        ("schema", lambda: server.post("/audit_logs/actions/disk.full/schemas",
                                       {"targets": [{"type": "team"}]})),
        ("checkpoint", lambda: server.post(f"/audit_logs/log/{empty_org}/checkpoint")),
        ("organization", lambda: server.post("/organizations", {"name": "New " + "x" * 900})),
        ("retention", lambda: server.put(f"/organizations/{hold_org}/audit_logs_retention",
                                         {"retention_period_in_days": 30})),
    ]


def latest_checkpoint_size(server, organization: str) -> int:
    response = server.get(f"/audit_logs/log/{organization}/checkpoint")
    return response.json()["tree_size"] if response.status_code == 200 else -1


def test_disk_full_answers_503_and_heals_without_restart(start_server, store):
    if store == "postgres":
        pytest.skip("disk full is produced on SQLite's data dir; PostgreSQL's disk is the "
                    "database server's (its disk-full and connection SQLSTATEs map to 503 too)")
    server = start_server(args=["--log-interval-secs", "1"])
    server.stop()
    mount_tmpfs(server.data_dir)
    try:
        server.start()
        run_scenario(server)
    finally:
        server.kill()
        subprocess.run(["umount", "-l", str(server.data_dir)], check=False)


def run_scenario(server) -> None:
    database = server.data_dir / "auditlog.db"
    org = server.create_org("Acme")
    empty_org = server.create_org("Empty")
    hold_org = server.create_org("Hold")
    for _ in range(3):
        assert server.post("/audit_logs/events", {"organization_id": org, "event": event()}).status_code == 200
    event_id = server.get(f"/audit_logs/events?organization_id={org}&limit=1").json()["data"][0]["id"]
    export = server.post("/audit_logs/exports", {
        "organization_id": org, "range_start": "2026-01-01T00:00:00Z", "range_end": "2026-02-01T00:00:00Z"})
    assert export.status_code == 201, export.text
    export_id = export.json()["id"]
    deadline = time.monotonic() + 30
    while server.get(f"/audit_logs/exports/{export_id}").json()["state"] != "ready":
        assert time.monotonic() < deadline, "export not ready"
        time.sleep(0.2)
    while latest_checkpoint_size(server, org) != 3:
        assert time.monotonic() < deadline, "the log builder did not sign the first checkpoint"
        time.sleep(0.2)

    # The disk fills up.
    log_lines_before = len(server.log_text().splitlines())
    truncate_wal(database)
    ballast = server.data_dir / "ballast"
    fill(ballast)
    writes = write_paths(server, org, empty_org, hold_org)
    for name, request in writes:
        for _ in range(3):
            response = request()
            assert response.status_code == 503, f"{name} on a full disk: {response.status_code} {response.text}"
            assert response.json()["code"] == "service_unavailable"
            assert int(response.headers["Retry-After"]) > 0
    for path in [f"/organizations/{org}", f"/audit_logs/exports/{export_id}",
                 f"/organizations/{hold_org}/legal_hold", f"/audit_logs/log/{org}/checkpoint",
                 f"/organizations/{org}/audit_logs_retention"]:
        response = server.get(path)
        assert response.status_code == 200, f"read {path} on a full disk: {response.status_code} {response.text}"
    # Reading an event leaves a meta-audit record first; it cannot, and says so.
    response = server.get(f"/audit_logs/events/{event_id}")
    assert response.status_code == 503, response.text
    assert "meta-audit" in response.json()["message"]
    assert "Retry-After" in response.headers
    time.sleep(2)  # the background jobs (log builder every second) meet the full disk too

    # Space comes back: every write path works again, without a restart.
    os.remove(ballast)
    deadline = time.monotonic() + HEAL_WITHIN_SECS
    for name, request in writes:
        while True:
            response = request()
            assert response.status_code != 500, f"{name} after space returned: {response.text}"
            if 200 <= response.status_code < 300:
                break
            assert time.monotonic() < deadline, f"{name} still {response.status_code} after space returned: {response.text}"
            time.sleep(0.2)
    assert server.get(f"/audit_logs/events/{event_id}").status_code == 200
    # The event ingested above is signed by the background builder.
    while latest_checkpoint_size(server, org) != 4:
        assert time.monotonic() < deadline + 10, "the log builder did not sign after the disk healed"
        time.sleep(0.2)
    assert server.process.poll() is None, "the server exited"

    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    finally:
        connection.close()

    fault_log = server.log_text().splitlines()[log_lines_before:]
    # One access line per request is by design; what must not flood is the failure reports.
    fault_log = [line for line in fault_log if "auditlog::access:" not in line]
    assert len(fault_log) < 40, "the log was flooded during the fault:\n" + "\n".join(fault_log[:60])
    assert not any("panicked" in line for line in fault_log), "\n".join(fault_log)
