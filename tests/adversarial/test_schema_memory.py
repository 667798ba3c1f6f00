"""Compiled action schemas are bounded by memory: no sequence of valid schema creations and
events grows the server without bound, and a schema over the documented size is refused."""

import time

import pytest

from conftest import event

TARGETS = 24
PROPERTIES = 100


def large_schema(variant: int, targets: int = TARGETS, properties: int = PROPERTIES) -> dict:
    """~240 KB of JSON Schema with a pattern on every property: the costliest shape to compile."""
    def metadata(t: int) -> dict:
        return {"type": "object", "properties": {
            f"p{t}_{i}_{variant}": {"type": "string", "maxLength": 100,
                                    "pattern": f"^[a-z]{{1,{i % 20 + 1}}}[0-9]*(x|y|z){{0,3}}$"}
            for i in range(properties)}}
    return {"targets": [{"type": f"t{t}", "metadata": metadata(t)} for t in range(targets)],
            "metadata": metadata(999)}


def only_once(store):
    if store != "sqlite":
        pytest.skip("the schema cache is the same on every store; run on SQLite only")


def test_large_schema_versions_do_not_grow_memory_without_bound(store, start_server):
    only_once(store)
    server = start_server()
    org = server.create_org()
    baseline = server.rss_kib()
    for variant in range(24):
        created = server.post("/audit_logs/actions/report.generated/schemas", large_schema(variant))
        assert created.status_code == 201, created.text[:300]
        version = created.json()["version"]
        body = event(action="report.generated", version=version,
                     targets=[{"id": "x", "type": f"t{t}"} for t in range(TARGETS)])
        stored = server.post("/audit_logs/events", {"organization_id": org, "event": body})
        assert stored.status_code == 200, stored.text[:300]
    time.sleep(0.5)
    grown_mib = (server.rss_kib() - baseline) / 1024
    # 24 versions compile to ~12 MB each; the default 64 MB budget keeps ~5 of them.
    assert grown_mib < 150, f"RSS grew by {grown_mib:.0f} MiB"


def test_a_schema_over_the_size_limit_is_refused(store, start_server):
    only_once(store)
    server = start_server()
    too_large = server.post("/audit_logs/actions/report.generated/schemas",
                            large_schema(0, targets=50, properties=110))
    assert too_large.status_code == 422, too_large.text[:300]
    body = too_large.json()
    assert body["code"] == "validation_failed"
    assert body["errors"][0]["field"] == "body"
    assert "262144" in body["errors"][0]["message"]
    listed = server.get("/audit_logs/actions")
    assert listed.status_code == 200 and listed.json()["data"] == []
