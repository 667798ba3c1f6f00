"""API keys can be revoked and rotated: `auditlog keys revoke` takes effect on every running
node within 5 seconds, a key that leaves AUDITLOG_API_KEYS stops working at the next start,
weak configured keys are refused, `keys list` shows no key material, and creations and
revocations are in the meta-audit trail."""

import subprocess
import time

from conftest import Server, free_port, new_key


def cli(server: Server, *args: str) -> str:
    done = subprocess.run(server.command(*args), env=server.env(), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def listed(server: Server) -> list[dict]:
    lines = cli(server, "keys", "list").strip().splitlines()
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"))) for line in lines[1:]]


def authorized(server: Server, key: str) -> int:
    return server.get("/organizations", headers={"Authorization": f"Bearer {key}"}).status_code


def second_node(server: Server, tmp_path_factory) -> Server:
    """Another node on the same database and bucket (PostgreSQL), or None on SQLite."""
    if server.store != "postgres":
        return None
    node = Server.__new__(Server)
    node.__dict__.update(server.__dict__)
    node.work = tmp_path_factory.mktemp("node2")
    node.data_dir = node.work / "data"
    node.log_path = node.work / "server.log"
    node.port = free_port()
    node.database_url = None  # cleanup belongs to the first node
    node_args = ["--database-url", server.database_url, "--blob-url", server.blob_prefix]
    node.extra_args = server.extra_args + node_args
    return node.start()


def test_a_revoked_key_is_refused_on_every_node_within_5_seconds(server, tmp_path_factory):
    minted = cli(server, "keys", "create").strip()
    assert minted.startswith("sk_")
    other = second_node(server, tmp_path_factory)
    nodes = [server] + ([other] if other else [])
    for node in nodes:
        assert authorized(node, minted) == 200  # now cached as valid on every node
    record = next(k for k in listed(server) if k["SOURCE"] == "created")
    assert record["LAST4"] == minted[-4:]
    cli(server, "keys", "revoke", record["ID"])
    revoked_at = time.monotonic()
    for node in nodes:
        while authorized(node, minted) != 401:
            assert time.monotonic() - revoked_at < 5.5, "still accepted 5 s after revocation"
            time.sleep(0.2)
    assert authorized(server, server.key) == 200
    assert next(k for k in listed(server) if k["ID"] == record["ID"])["REVOKED"] != "-"
    # Both are in the meta-audit trail.
    trail = server.get("/audit_logs/meta_audit").json()["organization_id"]
    actions = [(e["action"], e["targets"][0]["id"])
               for e in server.get(f"/audit_logs/events?organization_id={trail}&limit=100").json()["data"]]
    assert ("auditlog.api_key.created", record["ID"]) in actions
    assert ("auditlog.api_key.revoked", record["ID"]) in actions


def test_a_key_that_leaves_the_configuration_stops_working(start_server):
    old, new = new_key(), new_key()
    server = start_server(key=old)
    assert authorized(server, old) == 200
    server.stop()
    server.key = new
    server.start()
    assert authorized(server, new) == 200
    assert authorized(server, old) == 401
    keys = listed(server)
    assert any(k["LAST4"] == old[-4:] and k["REVOKED"] != "-" for k in keys)


def test_weak_configured_keys_are_refused_and_listing_shows_no_material(start_server):
    server = start_server()
    text = cli(server, "keys", "list")
    assert server.key not in text and server.key[:10] not in text
    assert server.key[-4:] in text
    server.stop()
    for weak in ["sk_short", "sk_" + "a" * 40]:
        done = subprocess.run(server.command("serve", "--listen", "127.0.0.1:0"),
                              env=dict(server.env(), AUDITLOG_API_KEYS=weak),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode != 0
        assert "AUDITLOG_API_KEYS" in done.stderr
