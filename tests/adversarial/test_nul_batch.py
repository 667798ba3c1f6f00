"""One tenant's U+0000 must not hurt another tenant's events (both stores).

PostgreSQL cannot store U+0000 in text. Events carrying it used to pass validation and make
PostgreSQL refuse the whole group-commit batch they were in: other tenants' valid events got 500.
The rule now: U+0000 anywhere in a request is refused with a 4xx naming where, before the store,
and a batch the store refuses is retried in parts so that only the refused event fails.
"""

from __future__ import annotations

import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from conftest import event

VALID_WRITERS = 16
NUL_WRITERS = 4
EVENTS_PER_VALID_WRITER = 25


def environment_key(server, environment: str) -> str:
    """A key of another environment, minted by the CLI on the server's store."""
    out = subprocess.run(
        server.command("keys", "create", "--environment", environment),
        env=server.env(), check=True, capture_output=True, text=True, timeout=60,
    ).stdout
    return out.strip().splitlines()[-1]


def count_events(server, organization_id: str, headers: dict) -> int:
    """Events of an organization, counted through the read API (tailing by sequence)."""
    total, after = 0, -1
    while True:
        response = server.get(
            f"/audit_logs/events?organization_id={organization_id}&after_sequence={after}&limit=100",
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        total += len(body["data"])
        if not body["data"]:
            return total
        after = body["list_metadata"]["last_sequence"]


def test_nul_events_never_fail_other_tenants_events(server):
    attacker_headers = dict(server.headers)
    attacker_headers["Authorization"] = "Bearer " + environment_key(server, "nul-attacker")
    victim_org = server.create_org("Victim")
    response = server.post("/organizations", {"name": "Attacker"}, headers=attacker_headers)
    assert response.status_code == 201, response.text
    attacker_org = response.json()["id"]

    done = threading.Event()
    valid_statuses: list[int] = []
    nul_answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def valid_writer(n: int) -> None:
        with requests.Session() as session:
            for i in range(EVENTS_PER_VALID_WRITER):
                body = {"organization_id": victim_org, "event": event(actor_id=f"user_{n}_{i}")}
                status = session.post(server.url + "/audit_logs/events", json=body,
                                      headers=server.headers, timeout=30).status_code
                with lock:
                    valid_statuses.append(status)

    def nul_writer(n: int) -> None:
        with requests.Session() as session:
            i = 0
            # At least a few each, and on until every valid writer is done.
            while i < 5 or not done.is_set():
                body = {"organization_id": attacker_org, "event": event(actor_id=f"u\u0000{n}_{i}")}
                response = session.post(server.url + "/audit_logs/events", json=body,
                                        headers=attacker_headers, timeout=30)
                with lock:
                    nul_answers.append((response.status_code, response.text))
                i += 1

    with ThreadPoolExecutor(VALID_WRITERS + NUL_WRITERS) as pool:
        attackers = [pool.submit(nul_writer, n) for n in range(NUL_WRITERS)]
        victims = [pool.submit(valid_writer, n) for n in range(VALID_WRITERS)]
        for future in victims:
            future.result()
        done.set()
        for future in attackers:
            future.result()

    expected = VALID_WRITERS * EVENTS_PER_VALID_WRITER
    failed = [s for s in valid_statuses if s != 200]
    assert not failed, f"{len(failed)} of {expected} valid events failed: statuses {sorted(set(failed))}"
    assert len(valid_statuses) == expected
    assert count_events(server, victim_org, server.headers) == expected

    assert nul_answers
    wrong = [(s, t) for s, t in nul_answers if s != 422]
    assert not wrong, f"{len(wrong)} of {len(nul_answers)} NUL events not 422, e.g. {wrong[0]}"
    errors = requests.models.complexjson.loads(nul_answers[0][1])
    assert errors["code"] == "validation_failed"
    assert errors["errors"][0]["field"] == "event.actor.id"
    assert "U+0000" in errors["errors"][0]["message"]
    assert count_events(server, attacker_org, attacker_headers) == 0


def test_nul_anywhere_else_is_a_client_error(server):
    organization = server.create_org("Acme")

    def check(response: requests.Response, status: int, field: str | None = None) -> None:
        assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        body = response.json()
        if field is not None:
            assert body["code"] == "validation_failed", body
            assert [e["field"] for e in body["errors"]] == [field], body

    check(server.post("/organizations", {"name": "Ac\u0000me"}), 422, "name")
    check(server.post("/organizations", {"name": "Acme", "external_id": "ext\u0000"}), 422, "external_id")
    check(server.put(f"/organizations/{organization}", {"name": "Acme", "external_id": "e\u0000"}),
          422, "external_id")
    check(server.post(f"/organizations/{organization}/legal_hold", {"reason": "court\u0000order"}),
          422, "reason")
    check(server.post("/audit_logs/events", {"organization_id": organization,
                                             "event": event(metadata={"k\u0000": "v"})}),
          422, "event.metadata.k\\u0000")
    check(server.post("/audit_logs/exports", {"organization_id": organization,
                                              "range_start": "2026-01-01T00:00:00Z",
                                              "range_end": "2026-02-01T00:00:00Z",
                                              "actor_names": ["a\u0000"]}),
          422, "actor_names.0")
    check(server.post("/audit_logs/actions/user.signed_in/schemas",
                      {"targets": [{"type": "te\u0000am"}]}), 422, "targets.0.type")
    check(server.get(f"/audit_logs/events?organization_id={organization}&actions=a%00b"), 422, "actions")
    check(server.get(f"/organizations?after=org_%00"), 422, "after")
    for path in [f"/organizations/{organization}%00", "/audit_logs/events/audit_log_event_%00",
                 "/audit_logs/exports/audit_log_export_%00", f"/organizations/{organization}%00/legal_hold",
                 f"/audit_logs/log/{organization}%00/checkpoint"]:
        check(server.get(path), 404)
    check(server.post(f"/audit_logs/log/{organization}%00/checkpoint"), 404)
    check(server.delete(f"/organizations/{organization}%00"), 404)
    # Nothing of it was stored, and the server still answers normally.
    assert server.get(f"/organizations/{organization}").json()["name"] == "Acme"
    names = [o["name"] for o in server.get("/organizations?limit=100").json()["data"]]
    assert "Acme" in names and not any("\u0000" in name for name in names), names
