#!/usr/bin/env python3
"""SDK conformance checks for action schemas: the official WorkOS Python SDK
(workos==10.6.0) against an auditlog server.

Creates schema versions and actions, lists them across pages, and sends events
that violate or conform to a schema.

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
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional

import workos
from workos import (
    BadRequestError,
    NotFoundError,
    UnprocessableEntityError,
    WorkOSClient,
)
from workos.audit_logs.models import (
    AuditLogAction,
    AuditLogEvent,
    AuditLogEventActor,
    AuditLogEventContext,
    AuditLogEventCreateResponse,
    AuditLogEventTarget,
    AuditLogSchema,
    AuditLogSchemaActorInput,
    AuditLogSchemaTargetInput,
)

SUITE = "python"

BASE_URL = os.environ.get("AUDITLOG_URL", "").strip()
API_KEY = os.environ.get("AUDITLOG_KEY", "").strip()
if not BASE_URL or not API_KEY:
    print("FAIL python: setup: AUDITLOG_URL and AUDITLOG_KEY must be set", flush=True)
    sys.exit(1)

RUN = secrets.token_hex(4)  # distinguishes this run's actions from others
# Action names the SDK passes through unencoded (letters, digits, '.', '_').
ACTION = f"conformance_py_{RUN}.invoice_paid"
OTHER_ACTIONS = [f"conformance_py_{RUN}.action_{i}" for i in range(1, 4)]

# max_retries=0: a server bug (5xx) should fail fast instead of backing off.
client = WorkOSClient(api_key=API_KEY, base_url=BASE_URL, max_retries=0, request_timeout=30)

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
        body = getattr(e, "raw_body", None) or getattr(e, "response_json", None)
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


def dupes(items: List[Any]) -> List[Any]:
    return sorted({i for i in items if items.count(i) > 1}, key=str)


def object_schema(properties: Dict[str, str], required: Optional[List[str]] = None) -> Dict[str, Any]:
    schema: Dict[str, Any] = {
        "type": "object",
        "properties": {k: {"type": v} for k, v in properties.items()},
    }
    if required:
        schema["required"] = required
    return schema


def create(action: str, role_type: str, extra_target: Optional[str] = None) -> AuditLogSchema:
    """A schema: a `team` target (metadata `plan` string), actor metadata `role`
    (required, of `role_type`), event metadata `count` integer."""
    targets = [AuditLogSchemaTargetInput(type="team", metadata=object_schema({"plan": "string"}))]
    if extra_target:
        targets.append(AuditLogSchemaTargetInput(type=extra_target))
    return client.audit_logs.create_schema(
        action,
        targets=targets,
        actor=AuditLogSchemaActorInput(metadata=object_schema({"role": role_type}, ["role"])),
        metadata=object_schema({"count": "integer"}),
    )


def make_event(
    *,
    role: Any,
    targets: Optional[List[AuditLogEventTarget]] = None,
    count: Any = 3,
    version: Optional[int] = None,
) -> AuditLogEvent:
    return AuditLogEvent(
        action=ACTION,
        occurred_at=datetime.now(timezone.utc),
        actor=AuditLogEventActor(id="user_TF4C5938", type="user", name="Jon Smith", metadata={"role": role}),
        targets=targets
        if targets is not None
        else [AuditLogEventTarget(id="team_123", type="team", metadata={"plan": "pro"})],
        context=AuditLogEventContext(location="123.123.123.123", user_agent="auditlog sdk conformance"),
        metadata={"count": count},
        version=version,
    )


# ---------------------------------------------------------------- creating schemas


@check("audit_logs.create_schema creates version 1 of a new action")
def _() -> None:
    schema = create(ACTION, "string")
    expect(isinstance(schema, AuditLogSchema), f"response={schema!r}")
    expect(schema.object == "audit_log_schema", f"object={schema.object!r}")
    expect(schema.version == 1, f"version={schema.version!r}")
    expect([t.type for t in schema.targets] == ["team"], f"targets={schema.targets!r}")
    expect(
        schema.targets[0].metadata == object_schema({"plan": "string"}),
        f"targets[0].metadata={schema.targets[0].metadata!r}",
    )
    expect(
        schema.actor is not None and schema.actor.metadata == object_schema({"role": "string"}, ["role"]),
        f"actor={schema.actor!r}",
    )
    expect(schema.metadata == object_schema({"count": "integer"}), f"metadata={schema.metadata!r}")
    expect(schema.created_at.tzinfo is not None, f"created_at not tz-aware: {schema.created_at!r}")
    state["v1"] = schema


@check("audit_logs.create_schema with an identical schema returns the latest version")
def _() -> None:
    v1 = need("v1")
    again = create(ACTION, "string")
    expect(again.version == 1, f"version={again.version!r}, want 1")
    expect(again.created_at == v1.created_at, f"created_at {again.created_at!r} != {v1.created_at!r}")


@check("audit_logs.create_schema with changes creates versions 2 and 3")
def _() -> None:
    need("v1")
    v2 = create(ACTION, "string", extra_target="document")
    expect(v2.version == 2, f"second version={v2.version!r}")
    expect([t.type for t in v2.targets] == ["team", "document"], f"v2 targets={v2.targets!r}")
    v3 = create(ACTION, "boolean")
    expect(v3.version == 3, f"third version={v3.version!r}")
    state["v3"] = v3


@check("audit_logs.create_schema creates three more actions")
def _() -> None:
    for name in OTHER_ACTIONS:
        schema = client.audit_logs.create_schema(name, targets=[AuditLogSchemaTargetInput(type="team")])
        expect(schema.version == 1, f"{name}: version={schema.version!r}")
        expect(schema.actor is None and schema.metadata is None, f"{name}: {schema!r}")
    state["actions"] = [ACTION, *OTHER_ACTIONS]


@check("audit_logs.create_schema with no targets raises UnprocessableEntityError")
def _() -> None:
    e = expect_raises(
        UnprocessableEntityError,
        lambda: client.audit_logs.create_schema(f"conformance_py_{RUN}.empty", targets=[]),
        "empty targets",
    )
    fields = [err.get("field") for err in (getattr(e, "errors", None) or []) if isinstance(err, dict)]
    expect("targets" in fields, f"errors={getattr(e, 'errors', None)!r}")


@check("audit_logs.create_schema with a remote $ref raises UnprocessableEntityError")
def _() -> None:
    expect_raises(
        UnprocessableEntityError,
        lambda: client.audit_logs.create_schema(
            f"conformance_py_{RUN}.remote",
            targets=[AuditLogSchemaTargetInput(type="team")],
            metadata={"$ref": "https://example.com/schema.json"},
        ),
        "remote $ref",
    )


# ---------------------------------------------------------------- listing


@check("audit_logs.list_action_schemas pages newest first with limit=2")
def _() -> None:
    need("v3")
    page = client.audit_logs.list_action_schemas(ACTION, limit=2)
    first = [s.version for s in page.data]
    expect(first == [3, 2], f"first page versions={first}, want [3, 2]")
    expect(all(isinstance(s, AuditLogSchema) for s in page.data), f"data={page.data!r}")
    expect(page.list_metadata.after is not None, "first page list_metadata.after is null but version 1 remains")
    expect([s.version for s in page] == first, "iterating a page should yield that page only")
    seen = [s.version for s in page.auto_paging_iter()]
    expect(not dupes(seen), f"versions seen more than once: {dupes(seen)}")
    expect(seen == [3, 2, 1], f"auto_paging_iter versions={seen}, want [3, 2, 1]")


@check("audit_logs.list_action_schemas order=asc auto-paginates oldest first")
def _() -> None:
    need("v3")
    seen = [s.version for s in client.audit_logs.list_action_schemas(ACTION, limit=2, order="asc").auto_paging_iter()]
    expect(seen == [1, 2, 3], f"versions={seen}, want [1, 2, 3]")


@check("audit_logs.list_action_schemas on an unknown action raises NotFoundError")
def _() -> None:
    e = expect_raises(
        NotFoundError,
        lambda: client.audit_logs.list_action_schemas(f"conformance_py_{RUN}.unknown"),
        "unknown action",
    )
    expect(getattr(e, "status_code", None) == 404, f"status_code={getattr(e, 'status_code', None)}")


@check("audit_logs.list_actions auto-paginates with limit=2 and sees every action once")
def _() -> None:
    mine = need("actions")
    page = client.audit_logs.list_actions(limit=2)
    expect(len(page.data) == 2, f"first page has {len(page.data)} items, want 2")
    expect(page.list_metadata.after is not None, "first page list_metadata.after is null but more exist")
    items = list(page.auto_paging_iter())
    expect(all(isinstance(a, AuditLogAction) for a in items), f"items={items[:3]!r}")
    names = [a.name for a in items]
    expect(not dupes(names), f"actions seen more than once: {dupes(names)}")
    missing = [n for n in mine if n not in names]
    expect(not missing, f"created actions never seen: {missing}")
    by_name = {a.name: a for a in items}
    latest = by_name[ACTION].schema
    expect(latest.version == 3, f"{ACTION} carries version {latest.version}, want its latest (3)")
    expect(
        latest.actor is not None and latest.actor.metadata["properties"]["role"] == {"type": "boolean"},
        f"{ACTION} schema={latest!r}",
    )
    expect(by_name[ACTION].updated_at >= by_name[ACTION].created_at, "updated_at < created_at")
    # Newest first: the three later actions precede the first one, in reverse creation order.
    order = [n for n in names if n in mine]
    expect(order == list(reversed(mine)), f"order={order}, want {list(reversed(mine))}")


@check("audit_logs.list_actions order=asc lists oldest first")
def _() -> None:
    mine = need("actions")
    names = [a.name for a in client.audit_logs.list_actions(limit=2, order="asc").auto_paging_iter()]
    expect(not dupes(names), f"actions seen more than once: {dupes(names)}")
    order = [n for n in names if n in mine]
    expect(order == mine, f"order={order}, want {mine}")


# ---------------------------------------------------------------- validating events


@check("organizations.create_organization for the event checks")
def _() -> None:
    state["org"] = client.organizations.create_organization(name=f"Conformance Py schemas {RUN}")


@check("audit_logs.create_event violating the schema raises BadRequestError")
def _() -> None:
    org = need("org")
    need("v3")
    # Version 1 (the default) wants a `team` target and a string `role`.
    e = expect_raises(
        BadRequestError,
        lambda: client.audit_logs.create_event(
            organization_id=org.id,
            event=make_event(role=42, targets=[AuditLogEventTarget(id="doc_1", type="document")]),
        ),
        "schema violation",
    )
    expect(getattr(e, "status_code", None) == 400, f"status_code={getattr(e, 'status_code', None)}")
    expect(getattr(e, "code", None) == "invalid_audit_log_event", f"code={getattr(e, 'code', None)!r}")
    errors = getattr(e, "errors", None)
    expect(isinstance(errors, list) and errors, f"errors={errors!r}")
    paths = sorted(err.get("instancePath") for err in errors if isinstance(err, dict))
    expect(paths == ["/actor/metadata/role", "/targets"], f"instancePaths={paths}")
    expect(bool(getattr(e, "request_id", None)), f"request_id={getattr(e, 'request_id', None)!r}")


@check("audit_logs.create_event violating event metadata raises BadRequestError")
def _() -> None:
    org = need("org")
    e = expect_raises(
        BadRequestError,
        lambda: client.audit_logs.create_event(organization_id=org.id, event=make_event(role="admin", count=2.5)),
        "non-integer count",
    )
    paths = [err.get("instancePath") for err in (getattr(e, "errors", None) or []) if isinstance(err, dict)]
    expect(paths == ["/metadata/count"], f"instancePaths={paths}")


@check("audit_logs.create_event conforming to version 1 succeeds")
def _() -> None:
    org = need("org")
    res = client.audit_logs.create_event(organization_id=org.id, event=make_event(role="admin"))
    expect(isinstance(res, AuditLogEventCreateResponse) and res.success is True, f"response={res!r}")


@check("audit_logs.create_event with version=3 is validated against version 3")
def _() -> None:
    org = need("org")
    res = client.audit_logs.create_event(organization_id=org.id, event=make_event(role=True, version=3))
    expect(isinstance(res, AuditLogEventCreateResponse) and res.success is True, f"response={res!r}")
    e = expect_raises(
        BadRequestError,
        lambda: client.audit_logs.create_event(organization_id=org.id, event=make_event(role="admin", version=3)),
        "string role against version 3",
    )
    paths = [err.get("instancePath") for err in (getattr(e, "errors", None) or []) if isinstance(err, dict)]
    expect(paths == ["/actor/metadata/role"], f"instancePaths={paths}")


@check("audit_logs.create_event with an unknown version raises BadRequestError")
def _() -> None:
    org = need("org")
    e = expect_raises(
        BadRequestError,
        lambda: client.audit_logs.create_event(organization_id=org.id, event=make_event(role=True, version=99)),
        "version 99",
    )
    expect(getattr(e, "code", None) == "invalid_audit_log_event", f"code={getattr(e, 'code', None)!r}")
    expect(
        "has not been configured in this environment" in e.message and "'99'" in e.message,
        f"message={e.message!r}",
    )


# ---------------------------------------------------------------- summary

client.close()
print(f"[{SUITE}] schemas done: passed={passed} failed={failed}", flush=True)
sys.exit(1 if failed else 0)
