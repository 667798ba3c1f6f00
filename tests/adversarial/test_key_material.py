"""Key material at rest: the store keeps no part of a key that helps guess it (only a hash and
the last four characters), and the files the service creates are its owner's alone."""

import os
import stat
import subprocess

import pytest

from conftest import psql


def test_no_key_prefix_is_stored(server):
    # Minted through the CLI too, so both ways of creating a key are covered.
    minted = subprocess.run(server.command("keys", "create"), env=server.env(),
                            capture_output=True, text=True, check=True).stdout.strip()
    server.stop()
    for key in (server.key, minted):
        prefix = key[:10]
        if server.store == "sqlite":
            for name in ("auditlog.db", "auditlog.db-wal"):
                path = server.data_dir / name
                if path.exists():
                    assert prefix.encode() not in path.read_bytes(), f"{prefix} in {name}"
        else:
            rows = psql("SELECT id || ' ' || hint FROM api_keys", server.database_url)
            assert prefix not in rows
            assert key[-4:] in rows


def test_files_are_created_for_the_owner_only(store, server):
    if store != "sqlite":
        pytest.skip("the PostgreSQL and S3 stores keep nothing in the data dir")
    mode = lambda path: stat.S_IMODE(os.stat(path).st_mode)
    assert mode(server.data_dir) == 0o700
    for name in ("auditlog.db", "auditlog.db-wal", "auditlog.db-shm", "download-link.key",
                 "log-signing.key"):
        path = server.data_dir / name
        assert path.exists(), name
        assert mode(path) == 0o600, f"{name} is {oct(mode(path))}"


def test_a_database_dump_cannot_sign(server):
    """The log signing key lives outside the database: a dump of it holds no seed."""
    server.stop()
    if server.store == "sqlite":
        import sqlite3
        seed = bytes.fromhex((server.data_dir / "log-signing.key").read_text().strip())
        with sqlite3.connect(server.data_dir / "auditlog.db") as db:
            assert db.execute("SELECT count(*) FROM tlog_signing_key").fetchone()[0] == 0
        for name in ("auditlog.db", "auditlog.db-wal"):
            path = server.data_dir / name
            if path.exists():
                assert seed not in path.read_bytes(), f"the signing seed is in {name}"
    else:
        assert psql("SELECT count(*) FROM tlog_signing_key", server.database_url).strip() == "0"
