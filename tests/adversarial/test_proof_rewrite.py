"""An insider rewrites an event's payload and its leaf hash in the database: the inclusion proof
endpoint must not vouch for it (it used to answer `event_matches_leaf: true` with a proof that
does not reach the signed root)."""

import hashlib
import sqlite3

from conftest import event, psql


def rewrite(server, event_id: str, payload: str, leaf: bytes) -> None:
    if server.store == "sqlite":
        with sqlite3.connect(server.data_dir / "auditlog.db") as db:
            db.execute("UPDATE events SET payload = ?, leaf_hash = ? WHERE id = ?",
                       (payload, leaf, event_id))
    else:
        psql(f"UPDATE events SET payload = '{payload.replace(chr(39), chr(39) * 2)}', "
             f"leaf_hash = decode('{leaf.hex()}', 'hex') WHERE id = '{event_id}'",
             server.database_url)


def stored_payload(server, event_id: str) -> str:
    if server.store == "sqlite":
        with sqlite3.connect(server.data_dir / "auditlog.db") as db:
            return db.execute("SELECT payload FROM events WHERE id = ?", (event_id,)).fetchone()[0]
    return psql(f"SELECT payload FROM events WHERE id = '{event_id}'", server.database_url).strip()


def test_a_rewritten_event_and_leaf_hash_get_no_proof(server):
    org = server.create_org()
    for i in range(4):
        assert server.post("/audit_logs/events", {"organization_id": org,
                           "event": event(actor_id=f"user_{i}")}).status_code == 200
    checkpoint = server.post(f"/audit_logs/log/{org}/checkpoint")
    assert checkpoint.status_code in (200, 201), checkpoint.text
    listed = server.get(f"/audit_logs/events?organization_id={org}&order=asc").json()["data"]
    victim = listed[1]["id"]
    honest = server.get(f"/audit_logs/events/{victim}/inclusion_proof")
    assert honest.status_code == 200 and honest.json()["event_matches_leaf"] is True

    forged = stored_payload(server, victim).replace("user_1", "user_X")
    leaf = hashlib.sha256(b"\x00" + forged.encode()).digest()
    rewrite(server, victim, forged, leaf)

    answer = server.get(f"/audit_logs/events/{victim}/inclusion_proof")
    assert answer.status_code == 500, answer.text
    body = answer.json()
    assert body["code"] == "log_integrity_failure"
    assert victim in body["message"]
    # The other events still prove.
    assert server.get(f"/audit_logs/events/{listed[2]['id']}/inclusion_proof").status_code == 200
