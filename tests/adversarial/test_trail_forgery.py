"""The meta-audit trail is written by the server alone: no API key can add events to it,
change its retention, rename or delete it, or take over its reserved external id."""

from conftest import event

TRAIL = "meta_audit_trail"


def test_the_trail_cannot_be_forged_changed_or_hidden(server):
    org = server.create_org()
    # A read creates the trail (reads are recorded).
    assert server.get(f"/audit_logs/events?organization_id={org}").status_code == 200
    trail = server.get("/audit_logs/meta_audit").json()["organization_id"]
    before = server.get(f"/audit_logs/events?organization_id={trail}&limit=100").json()["data"]
    fake = event(action="auditlog.export.downloaded", actor_id="signed_link")
    attempts = [
        server.post("/audit_logs/events", {"organization_id": trail, "event": fake}),
        server.put(f"/organizations/{trail}/audit_logs_retention", {"retention_period_in_days": 30}),
        server.put(f"/organizations/{trail}", {"name": "nothing here", "external_id": "x"}),
        server.delete(f"/organizations/{trail}"),
    ]
    for answer in attempts:
        assert answer.status_code == 409, answer.text
        assert answer.json()["code"] == TRAIL
    after = server.get(f"/audit_logs/events?organization_id={trail}&limit=100").json()["data"]
    assert not any(e["actor"]["id"] == "signed_link" and e["action"] == "auditlog.export.downloaded"
                   for e in after)
    assert len(after) >= len(before)
    organization = server.get(f"/organizations/{trail}").json()
    assert organization["external_id"] == "auditlog-meta-audit"
    retention = server.get(f"/organizations/{trail}/audit_logs_retention").json()
    assert retention["retention_period_in_days"] != 30
    # The reserved external id cannot be taken or moved to.
    taken = server.post("/organizations", {"name": "Mallory", "external_id": "auditlog-meta-audit"})
    assert taken.status_code == 422, taken.text
    moved = server.put(f"/organizations/{org}", {"name": "Acme", "external_id": "auditlog-meta-audit"})
    assert moved.status_code == 422, moved.text
    # It survives a restart as the same organization.
    server.restart()
    assert server.get("/audit_logs/meta_audit").json()["organization_id"] == trail
    assert server.delete(f"/organizations/{trail}").status_code == 409
    assert server.get(f"/organizations/{trail}").status_code == 200
