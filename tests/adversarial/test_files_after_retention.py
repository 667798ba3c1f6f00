"""Retention reaches files already written: once the sweeper removes an organization's old
events, an export made before no longer serves them (it used to, for up to 7 days)."""

import time
from datetime import datetime, timedelta, timezone

import requests

from conftest import event


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def wait_ready(server, export_id: str) -> dict:
    deadline = time.monotonic() + 60
    while True:
        export = server.get(f"/audit_logs/exports/{export_id}").json()
        if export["state"] != "pending" or time.monotonic() > deadline:
            return export
        time.sleep(0.2)


def test_an_export_made_before_the_sweep_no_longer_serves_removed_events(start_server):
    server = start_server(args=["--retention-sweep-interval-secs", "2"])
    org = server.create_org()
    now = datetime.now(timezone.utc)
    old = iso(now - timedelta(days=100))
    for i in range(3):
        body = event(actor_id=f"old_{i}", occurred_at=old)
        assert server.post("/audit_logs/events", {"organization_id": org, "event": body}).status_code == 200
    recent = event(actor_id="recent", occurred_at=iso(now - timedelta(days=1)))
    assert server.post("/audit_logs/events", {"organization_id": org, "event": recent}).status_code == 200

    def export(start: datetime) -> dict:
        created = server.post("/audit_logs/exports", {
            "organization_id": org, "range_start": iso(start), "range_end": iso(now)})
        assert created.status_code == 201, created.text
        return wait_ready(server, created.json()["id"])

    before = export(now - timedelta(days=200))
    inside = export(now - timedelta(days=10))  # wholly inside the retention set below
    assert before["state"] == "ready", before
    url = before["url"]
    assert b"old_0" in requests.get(url, timeout=30).content

    shortened = server.put(f"/organizations/{org}/audit_logs_retention",
                           {"retention_period_in_days": 30})
    assert shortened.status_code == 200, shortened.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        after = server.get(f"/audit_logs/exports/{before['id']}").json()
        if after["state"] == "expired":
            break
        time.sleep(0.5)
    assert after["state"] == "expired", after
    assert "url" not in after or after["url"] is None
    stale = requests.get(url, timeout=30)
    assert stale.status_code != 200 and b"old_0" not in stale.content
    # The read API agrees: only the recent event is left.
    listed = server.get(f"/audit_logs/events?organization_id={org}").json()["data"]
    assert [e["actor"]["id"] for e in listed] == ["recent"]
    # An export whose range lies inside the retention window keeps its file.
    kept = server.get(f"/audit_logs/exports/{inside['id']}").json()
    assert kept["state"] == "ready", kept
    assert b"recent" in requests.get(kept["url"], timeout=30).content
