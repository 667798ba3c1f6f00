#!/usr/bin/env python3
"""SDK conformance checks: the official WorkOS Python SDK (workos==10.6.0)
against an auditlog server.

Environment:
  AUDITLOG_URL  base URL of the server, e.g. http://127.0.0.1:8080 (required)
  AUDITLOG_KEY  an API key the server accepts (required)

Prints one `PASS python: <check>` or `FAIL python: <check>: <reason>` line per
check and exits 1 if any check failed. Plain Python, no test framework.
"""

from __future__ import annotations

import os
import secrets
import sys
import traceback
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional

import workos
from workos import (
    AuthenticationError,
    NotFoundError,
    UnprocessableEntityError,
    WorkOSClient,
)
from workos.audit_logs.models import (
    AuditLogEvent,
    AuditLogEventActor,
    AuditLogEventContext,
    AuditLogEventCreateResponse,
    AuditLogEventTarget,
)

SUITE = "python"
UNKNOWN_ORG = "org_01HZZZZZZZZZZZZZZZZZZZZZZZ"

BASE_URL = os.environ.get("AUDITLOG_URL", "").strip()
API_KEY = os.environ.get("AUDITLOG_KEY", "").strip()
if not BASE_URL or not API_KEY:
    print("FAIL python: setup: AUDITLOG_URL and AUDITLOG_KEY must be set", flush=True)
    sys.exit(1)

RUN = secrets.token_hex(4)  # distinguishes this run's objects from others

# max_retries=0: a server bug (5xx) should fail fast instead of backing off.
client = WorkOSClient(api_key=API_KEY, base_url=BASE_URL, max_retries=0, request_timeout=30)
bad_client = WorkOSClient(
    api_key=f"sk_test_wrong_{secrets.token_hex(8)}",
    base_url=BASE_URL,
    max_retries=0,
    request_timeout=30,
)

# ---------------------------------------------------------------- harness

passed = 0
failed = 0
state: Dict[str, Any] = {}


class CheckFailed(Exception):
    pass


def expect(cond: bool, msg: str) -> None:
    if not cond:
        raise CheckFailed(msg)


def need(key: str) -> Any:
    if key not in state:
        raise CheckFailed(f"skipped: depends on an earlier check that did not produce '{key}'")
    return state[key]


def describe_exc(e: BaseException) -> str:
    if isinstance(e, workos.WorkOSError):
        status = getattr(e, "status_code", None)
        body = getattr(e, "raw_body", None)
        req = f"{getattr(e, 'request_method', '') or ''} {getattr(e, 'request_url', '') or ''}".strip()
        return f"{type(e).__name__}(status={status}, request={req!r}, body={body!r}, message={e.message!r})"
    return f"{type(e).__name__}: {e}"


def check(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def deco(fn: Callable[[], None]) -> Callable[[], None]:
        global passed, failed
        try:
            fn()
        except CheckFailed as e:
            failed += 1
            print(f"FAIL {SUITE}: {name}: {e}", flush=True)
        except Exception as e:  # noqa: BLE001 - any SDK/transport error is a failure
            failed += 1
            print(f"FAIL {SUITE}: {name}: unexpected {describe_exc(e)}", flush=True)
            if os.environ.get("AUDITLOG_SDK_VERBOSE"):
                traceback.print_exc()
        else:
            passed += 1
            print(f"PASS {SUITE}: {name}", flush=True)
        return fn

    return deco


def expect_raises(exc_type: type, fn: Callable[[], Any], what: str) -> BaseException:
    try:
        result = fn()
    except exc_type as e:  # the typed SDK exception we want
        return e
    except Exception as e:  # noqa: BLE001
        raise CheckFailed(f"{what}: expected {exc_type.__name__}, got {describe_exc(e)}")
    raise CheckFailed(f"{what}: expected {exc_type.__name__}, call succeeded with {result!r}")


def make_event(
    *,
    occurred_at: datetime,
    metadata: Optional[Dict[str, Any]] = None,
    action: str = "user.signed_in",
) -> AuditLogEvent:
    return AuditLogEvent(
        action=action,
        occurred_at=occurred_at,
        actor=AuditLogEventActor(
            id="user_TF4C5938",
            type="user",
            name="Jon Smith",
            metadata={"role": "admin", "login_count": 42, "mfa": True},
        ),
        targets=[
            AuditLogEventTarget(id="team_123", type="team", name="Core", metadata={"plan": "pro"}),
            AuditLogEventTarget(id="doc_456", type="document"),
        ],
        context=AuditLogEventContext(
            location="123.123.123.123",
            user_agent="Chrome/104.0.0.0 (auditlog sdk conformance)",
        ),
        metadata=metadata if metadata is not None else {"owner": "user_01GBTCQ2", "ratio": 0.5, "ok": False},
    )


def is_org_id(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("org_") and len(value) == 30


# ---------------------------------------------------------------- organizations


@check("organizations.create_organization returns the Organization")
def _() -> None:
    name = f"Conformance Py {RUN}"
    org = client.organizations.create_organization(
        name=name,
        external_id=f"ext_py_{RUN}",
        metadata={"tier": "gold", "region": "eu"},
    )
    expect(org.object == "organization", f"object={org.object!r}")
    expect(is_org_id(org.id), f"id={org.id!r} is not org_<ULID>")
    expect(org.name == name, f"name={org.name!r}")
    expect(org.external_id == f"ext_py_{RUN}", f"external_id={org.external_id!r}")
    expect(org.metadata == {"tier": "gold", "region": "eu"}, f"metadata={org.metadata!r}")
    expect(org.domains == [], f"domains={org.domains!r}")
    expect(org.created_at.tzinfo is not None, f"created_at not tz-aware: {org.created_at!r}")
    expect(org.updated_at >= org.created_at, "updated_at < created_at")
    state["org"] = org


@check("organizations.get_organization returns the same Organization")
def _() -> None:
    org = need("org")
    got = client.organizations.get_organization(org.id)
    expect(got.id == org.id, f"id={got.id!r}")
    expect(got.name == org.name, f"name={got.name!r}")
    expect(got.external_id == org.external_id, f"external_id={got.external_id!r}")
    expect(got.metadata == org.metadata, f"metadata={got.metadata!r}")
    expect(got.created_at == org.created_at, f"created_at {got.created_at!r} != {org.created_at!r}")


@check("organizations.update_organization renames and keeps omitted fields")
def _() -> None:
    org = need("org")
    new_name = f"Conformance Py {RUN} renamed"
    upd = client.organizations.update_organization(org.id, name=new_name)
    expect(upd.id == org.id, f"id={upd.id!r}")
    expect(upd.name == new_name, f"name={upd.name!r}")
    expect(upd.external_id == org.external_id, f"external_id changed to {upd.external_id!r}")
    expect(upd.metadata == org.metadata, f"metadata changed to {upd.metadata!r}")
    expect(upd.updated_at >= org.updated_at, "updated_at went backwards")
    got = client.organizations.get_organization(org.id)
    expect(got.name == new_name, f"get after update: name={got.name!r}")


@check("organizations.list_organizations auto-paginates with limit=2")
def _() -> None:
    org = need("org")
    extra = [
        client.organizations.create_organization(name=f"Conformance Py {RUN} page {i}")
        for i in range(3)
    ]
    state["page_orgs"] = extra
    mine = {org.id} | {o.id for o in extra}

    first = client.organizations.list_organizations(limit=2)
    expect(len(first.data) == 2, f"first page has {len(first.data)} items, want 2")
    expect(first.list_metadata.after is not None, "first page list_metadata.after is null but more exist")

    seen: List[str] = [o.id for o in first.auto_paging_iter()]
    dupes = sorted({i for i in seen if seen.count(i) > 1})
    expect(not dupes, f"ids seen more than once: {dupes}")
    missing = sorted(mine - set(seen))
    expect(not missing, f"created ids never seen: {missing}")


@check("organizations.list_organizations order desc/asc is by created_at")
def _() -> None:
    extra = need("page_orgs")
    mine = [o.id for o in extra]  # created in this order
    desc = list(client.organizations.list_organizations(limit=2, order="desc").auto_paging_iter())
    asc = list(client.organizations.list_organizations(limit=2, order="asc").auto_paging_iter())
    for label, items, sign in (("desc", desc, -1), ("asc", asc, 1)):
        ids = [o.id for o in items]
        expect(len(ids) == len(set(ids)), f"{label}: duplicate ids across pages")
        stamps = [o.created_at for o in items]
        bad = [
            (ids[i], ids[i + 1])
            for i in range(len(stamps) - 1)
            if (stamps[i + 1] - stamps[i]) * sign < timedelta(0)
        ]
        expect(not bad, f"{label}: not ordered by created_at at {bad[:3]}")
        expect(set(mine) <= set(ids), f"{label}: missing created ids")
    expect(
        sorted(o.id for o in desc) == sorted(o.id for o in asc),
        "asc and desc traversals returned different sets",
    )


@check("organizations.delete_organization then get raises NotFoundError")
def _() -> None:
    victim = need("page_orgs")[-1]
    res = client.organizations.delete_organization(victim.id)
    expect(res is None, f"delete returned {res!r}")
    e = expect_raises(
        NotFoundError, lambda: client.organizations.get_organization(victim.id), "get after delete"
    )
    expect(getattr(e, "status_code", None) == 404, f"status_code={getattr(e, 'status_code', None)}")
    ids = [o.id for o in client.organizations.list_organizations(limit=100).auto_paging_iter()]
    expect(victim.id not in ids, "deleted organization still listed")


@check("organizations.get_organization on unknown id raises NotFoundError")
def _() -> None:
    expect_raises(NotFoundError, lambda: client.organizations.get_organization(UNKNOWN_ORG), "get unknown")


@check("organizations.get_audit_log_configuration is active")
def _() -> None:
    org = need("org")
    conf = client.organizations.get_audit_log_configuration(org.id)
    expect(conf.organization_id == org.id, f"organization_id={conf.organization_id!r}")
    state_value = getattr(conf.state, "value", conf.state)
    expect(state_value == "active", f"state={conf.state!r}")
    expect(
        isinstance(conf.retention_period_in_days, int) and conf.retention_period_in_days > 0,
        f"retention_period_in_days={conf.retention_period_in_days!r}",
    )


def _raw(method: str, path: str, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """A request the SDK has no method for (the log-streams API is an extension)."""
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{BASE_URL}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


@check("organizations.get_audit_log_configuration reads a configured log stream")
def _() -> None:
    org = client.organizations.create_organization(name=f"Streams {uuid.uuid4().hex[:8]}")
    stream = _raw(
        "POST",
        f"/organizations/{org.id}/log_streams",
        {
            "type": "Datadog",
            "settings": {"site": "datadoghq.eu"},
            "secrets": {"api_key": "dd-" + secrets.token_hex(16)},
            "paused": True,
        },
    )
    conf = client.organizations.get_audit_log_configuration(org.id)
    log_stream = conf.log_stream
    expect(log_stream is not None, "log_stream is None with a stream configured")
    expect(log_stream.id == stream["id"], f"id={log_stream.id!r}")
    type_value = getattr(log_stream.type, "value", log_stream.type)
    expect(type_value == "Datadog", f"type={log_stream.type!r}")
    state_value = getattr(log_stream.state, "value", log_stream.state)
    expect(state_value == "inactive", f"state={log_stream.state!r} (paused)")
    expect(log_stream.last_synced_at is None, f"last_synced_at={log_stream.last_synced_at!r}")
    expect(log_stream.created_at is not None, "created_at missing")
    _raw("PATCH", f"/organizations/{org.id}/log_streams/{stream['id']}", {"paused": False})
    conf = client.organizations.get_audit_log_configuration(org.id)
    state_value = getattr(conf.log_stream.state, "value", conf.log_stream.state)
    expect(state_value in ("active", "error"), f"state={conf.log_stream.state!r} (resumed)")
    _raw("DELETE", f"/organizations/{org.id}/log_streams/{stream['id']}")
    conf = client.organizations.get_audit_log_configuration(org.id)
    expect(conf.log_stream is None, f"log_stream={conf.log_stream!r} after delete")


@check("organizations.get_audit_log_configuration on unknown org raises NotFoundError")
def _() -> None:
    expect_raises(
        NotFoundError,
        lambda: client.organizations.get_audit_log_configuration(UNKNOWN_ORG),
        "audit_log_configuration unknown org",
    )


# ---------------------------------------------------------------- audit log events


@check("audit_logs.create_event with aware non-UTC occurred_at succeeds")
def _() -> None:
    org = need("org")
    tz = timezone(timedelta(hours=2, minutes=30))
    occurred = datetime.now(tz).replace(microsecond=123456) - timedelta(minutes=5)
    res = client.audit_logs.create_event(organization_id=org.id, event=make_event(occurred_at=occurred))
    expect(isinstance(res, AuditLogEventCreateResponse), f"response={res!r}")
    expect(res.success is True, f"success={res.success!r}")


@check("audit_logs.create_event with naive occurred_at succeeds")
def _() -> None:
    org = need("org")
    occurred = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0) - timedelta(minutes=1)  # naive
    expect(occurred.tzinfo is None, "test bug: datetime is not naive")
    res = client.audit_logs.create_event(
        organization_id=org.id, event=make_event(occurred_at=occurred, action="document.viewed")
    )
    expect(isinstance(res, AuditLogEventCreateResponse) and res.success is True, f"response={res!r}")


@check("audit_logs.create_event with explicit idempotency_key twice succeeds both times")
def _() -> None:
    org = need("org")
    key = str(uuid.uuid4())
    event = make_event(occurred_at=datetime.now(timezone.utc), action="user.updated")
    r1 = client.audit_logs.create_event(organization_id=org.id, event=event, idempotency_key=key)
    r2 = client.audit_logs.create_event(organization_id=org.id, event=event, idempotency_key=key)
    expect(isinstance(r1, AuditLogEventCreateResponse) and r1.success is True, f"first={r1!r}")
    expect(isinstance(r2, AuditLogEventCreateResponse) and r2.success is True, f"replay={r2!r}")


@check("audit_logs.create_event accepts a 500-character metadata value")
def _() -> None:
    org = need("org")
    res = client.audit_logs.create_event(
        organization_id=org.id,
        event=make_event(occurred_at=datetime.now(timezone.utc), metadata={"note": "x" * 500}),
    )
    expect(isinstance(res, AuditLogEventCreateResponse) and res.success is True, f"response={res!r}")


@check("audit_logs.create_event for unknown organization raises NotFoundError")
def _() -> None:
    e = expect_raises(
        NotFoundError,
        lambda: client.audit_logs.create_event(
            organization_id=UNKNOWN_ORG, event=make_event(occurred_at=datetime.now(timezone.utc))
        ),
        "unknown org",
    )
    state["not_found_error"] = e


@check("error responses carry an X-Request-ID")
def _() -> None:
    e = need("not_found_error")
    expect(bool(getattr(e, "request_id", None)), f"request_id={getattr(e, 'request_id', None)!r}")


@check("audit_logs.create_event with a 501-character metadata value raises UnprocessableEntityError")
def _() -> None:
    org = need("org")
    e = expect_raises(
        UnprocessableEntityError,
        lambda: client.audit_logs.create_event(
            organization_id=org.id,
            event=make_event(occurred_at=datetime.now(timezone.utc), metadata={"note": "x" * 501}),
        ),
        "501-char metadata value",
    )
    errors = getattr(e, "errors", None)
    expect(isinstance(errors, list) and errors, f"errors={errors!r}")
    fields = [err.get("field") for err in errors if isinstance(err, dict)]
    expect(
        any(isinstance(f, str) and f.startswith("event.metadata") for f in fields),
        f"no error field under event.metadata: {errors!r}",
    )


@check("wrong API key raises AuthenticationError")
def _() -> None:
    expect_raises(AuthenticationError, lambda: bad_client.organizations.list_organizations(), "list with bad key")
    org_id = state["org"].id if "org" in state else UNKNOWN_ORG
    expect_raises(
        AuthenticationError,
        lambda: bad_client.audit_logs.create_event(
            organization_id=org_id, event=make_event(occurred_at=datetime.now(timezone.utc))
        ),
        "create_event with bad key",
    )


# ---------------------------------------------------------------- admin portal


def _open(link: str) -> tuple[int, Optional[str]]:
    """Opens a portal link without following its redirect: (status, Location)."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(link, timeout=30) as response:
            return response.status, response.headers.get("Location")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location")


@check("admin_portal.generate_link returns a link that opens once")
def _() -> None:
    org = need("org")
    for intent, page in [("audit_logs", "/portal/audit-logs"), ("log_streams", "/portal/log-streams")]:
        result = client.admin_portal.generate_link(
            organization=org.id, intent=intent, return_url="https://app.example/settings"
        )
        expect(result.link.startswith(f"{BASE_URL}/portal/launch?secret="), f"link={result.link!r}")
        status, location = _open(result.link)
        expect(status == 303 and location == page, f"{intent}: status={status} location={location!r}")
        status, _ = _open(result.link)
        expect(status == 403, f"{intent}: reopened with status {status}")


@check("admin_portal.revoke_link ends the links generated for an external_user_id")
def _() -> None:
    org = need("org")
    kept = client.admin_portal.generate_link(
        organization=org.id, intent="audit_logs", external_user_id="admin_keep"
    )
    gone = client.admin_portal.generate_link(
        organization=org.id, intent="audit_logs", external_user_id="admin_gone"
    )
    result = client.admin_portal.revoke_link(organization=org.id, external_user_id="admin_gone")
    expect(result is None, f"revoke_link returned {result!r}")
    status, _ = _open(gone.link)
    expect(status == 403, f"revoked link opened with status {status}")
    status, _ = _open(kept.link)
    expect(status == 303, f"another admin's link: status {status}")


@check("admin_portal.generate_link with intent sso raises UnprocessableEntityError")
def _() -> None:
    org = need("org")
    e = expect_raises(
        UnprocessableEntityError,
        lambda: client.admin_portal.generate_link(organization=org.id, intent="sso"),
        "intent sso",
    )
    expect("audit_logs" in str(e), f"names the supported intents: {e}")


# ---------------------------------------------------------------- summary

client.close()
bad_client.close()
print(f"[{SUITE}] done: passed={passed} failed={failed}", flush=True)
sys.exit(1 if failed else 0)
