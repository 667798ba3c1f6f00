#!/usr/bin/env python3
"""SDK conformance checks for audit-log exports: the official WorkOS Python SDK
(workos==10.6.0) against an auditlog server.

Flow: create an organization, send events with the SDK, create exports with
filters, poll get_export until ready, download the url with plain HTTP (no API
key, as a browser would), parse the CSV and check its rows.

Environment:
  AUDITLOG_URL  base URL of the server, e.g. http://127.0.0.1:8080 (required)
  AUDITLOG_KEY  an API key the server accepts (required)

Prints one `PASS python-exports: <check>` or `FAIL python-exports: <check>: <reason>`
line per check and exits 1 if any check failed. Plain Python, no test framework.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

import workos
from workos import BadRequestError, NotFoundError, WorkOSClient
from workos.audit_logs.models import (
    AuditLogEvent,
    AuditLogEventActor,
    AuditLogEventContext,
    AuditLogEventTarget,
    AuditLogExport,
)
from workos.common.models.audit_log_export_state import AuditLogExportState

SUITE = "python-exports"
UNKNOWN_ORG = "org_01HZZZZZZZZZZZZZZZZZZZZZZZ"
UNKNOWN_EXPORT = "audit_log_export_01HZZZZZZZZZZZZZZZZZZZZZZZ"
HEADER = [
    "occurred_at",
    "action",
    "version",
    "actor_id",
    "actor_type",
    "actor_name",
    "actor_metadata",
    "context_location",
    "context_user_agent",
    "metadata",
]
MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

BASE_URL = os.environ.get("AUDITLOG_URL", "").strip()
API_KEY = os.environ.get("AUDITLOG_KEY", "").strip()
if not BASE_URL or not API_KEY:
    print(f"FAIL {SUITE}: setup: AUDITLOG_URL and AUDITLOG_KEY must be set", flush=True)
    sys.exit(1)

RUN = secrets.token_hex(4)
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
        body = getattr(e, "raw_body", None)
        return f"{type(e).__name__}(status={status}, body={body!r}, message={e.message!r})"
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
    except exc_type as e:
        return e
    except Exception as e:  # noqa: BLE001
        raise CheckFailed(f"{what}: expected {exc_type.__name__}, got {describe_exc(e)}")
    raise CheckFailed(f"{what}: expected {exc_type.__name__}, call succeeded with {result!r}")


def iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def wait_ready(export_id: str, polls: int = 200, pause: float = 0.05) -> AuditLogExport:
    export = client.audit_logs.get_export(export_id)
    for _ in range(polls):
        if export.state != AuditLogExportState.PENDING:
            break
        time.sleep(pause)
        export = client.audit_logs.get_export(export_id)
    expect(export.state == AuditLogExportState.READY, f"state={export.state!r} after polling")
    expect(isinstance(export.url, str) and export.url, f"ready export has url={export.url!r}")
    return export


def fetch(url: str) -> Tuple[int, Dict[str, str], bytes]:
    """Plain HTTP GET without any Authorization header."""
    request = urllib.request.Request(url, method="GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def download_rows(url: str) -> Tuple[List[str], List[List[str]]]:
    status, headers, body = fetch(url)
    expect(status == 200, f"download status {status}: {body[:200]!r}")
    expect(
        headers.get("content-type") == "text/csv; charset=utf-8",
        f"content-type={headers.get('content-type')!r}",
    )
    records = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
    expect(records, "empty file: no header row")
    return records[0], records[1:]


def export_rows(**filters: Any) -> Tuple[List[str], List[List[str]]]:
    """Creates an export over this run's window and returns its parsed CSV."""
    org = need("org")
    start, end = need("window")
    export = client.audit_logs.create_export(
        organization_id=org.id, range_start=iso(start), range_end=iso(end), **filters
    )
    ready = wait_ready(export.id)
    return download_rows(ready.url)


def tags(header: List[str], rows: List[List[str]]) -> List[str]:
    column = header.index("metadata")
    return [json.loads(row[column])["tag"] for row in rows]


def unprotect(cell: str) -> str:
    return cell[1:] if cell.startswith("'") else cell


# ---------------------------------------------------------------- setup

# (tag, action, actor id, actor name, targets)
EVENTS: List[Tuple[str, str, str, Optional[str], List[Tuple[str, str]]]] = [
    ("e1", "doc.viewed", "user_1", "Ann Lee", [("doc_1", "document")]),
    ("e2", "doc.edited", "user_2", "Bob, \"the\" builder", [("doc_1", "document"), ("team_1", "team")]),
    ("e3", "doc.viewed", "user_2", "Bob, \"the\" builder", [("team_1", "team")]),
    ("e4", "=HYPERLINK(\"x\")", "user_3", "Zoë 中文 🎉\nsecond line", []),
]


@check("setup: organization and events sent with the SDK")
def _() -> None:
    org = client.organizations.create_organization(name=f"Exports Py {RUN}")
    state["org"] = org
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=2)
    state["window"] = (base, base + timedelta(hours=1))
    for i, (tag, action, actor_id, actor_name, targets) in enumerate(EVENTS):
        event = AuditLogEvent(
            action=action,
            occurred_at=base + timedelta(seconds=10 * (len(EVENTS) - i)),  # reverse time order
            actor=AuditLogEventActor(id=actor_id, type="user", name=actor_name, metadata={"n": i}),
            targets=[AuditLogEventTarget(id=tid, type=ttype) for tid, ttype in targets],
            context=AuditLogEventContext(location="10.0.0.1", user_agent="python-exports"),
            metadata={"tag": tag, "note": "a, b \"c\"\nd"},
        )
        res = client.audit_logs.create_event(organization_id=org.id, event=event)
        expect(res.success is True, f"create_event {tag}: {res!r}")
    # Outside the window: must never be exported.
    client.audit_logs.create_event(
        organization_id=org.id,
        event=AuditLogEvent(
            action="doc.viewed",
            occurred_at=base + timedelta(hours=1),
            actor=AuditLogEventActor(id="user_1", type="user", name="Ann Lee"),
            targets=[],
            context=AuditLogEventContext(location="10.0.0.1"),
            metadata={"tag": "outside"},
        ),
    )


# ---------------------------------------------------------------- exports


@check("audit_logs.create_export returns a pending AuditLogExport")
def _() -> None:
    org = need("org")
    start, end = need("window")
    export = client.audit_logs.create_export(
        organization_id=org.id, range_start=iso(start), range_end=iso(end)
    )
    expect(isinstance(export, AuditLogExport), f"type={type(export).__name__}")
    expect(export.object == "audit_log_export", f"object={export.object!r}")
    expect(
        re.fullmatch(r"audit_log_export_[0-9A-HJKMNP-TV-Z]{26}", export.id) is not None,
        f"id={export.id!r}",
    )
    expect(export.state == AuditLogExportState.PENDING, f"state={export.state!r}")
    expect(export.url is None, f"url={export.url!r}")
    expect(export.created_at.tzinfo is not None, f"created_at={export.created_at!r}")
    state["export"] = export


@check("audit_logs.get_export polls to ready with a url; raw timestamps have 3 fraction digits")
def _() -> None:
    export = need("export")
    ready = wait_ready(export.id)
    expect(ready.id == export.id, f"id={ready.id!r}")
    expect(ready.created_at == export.created_at, "created_at changed")
    expect(ready.updated_at >= ready.created_at, "updated_at < created_at")
    status, _, _ = fetch(f"{BASE_URL}/audit_logs/exports/{export.id}")  # no key
    expect(status == 401, f"GET without key gave {status}")
    request = urllib.request.Request(
        f"{BASE_URL}/audit_logs/exports/{export.id}", headers={"Authorization": f"Bearer {API_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = json.loads(response.read())
    for key in ("created_at", "updated_at"):
        expect(MILLIS.match(raw[key]) is not None, f"{key}={raw[key]!r}")
    expect(raw["state"] == "ready" and isinstance(raw["url"], str), f"raw={raw!r}")
    state["ready"] = ready


@check("download without API key: CSV with documented header, rows in time order")
def _() -> None:
    ready = need("ready")
    status, headers, body = fetch(ready.url)
    expect(status == 200, f"status={status}")
    expect(headers.get("content-type") == "text/csv; charset=utf-8", f"content-type={headers.get('content-type')!r}")
    disposition = headers.get("content-disposition", "")
    expect(f'filename="{ready.id}.csv"' in disposition, f"content-disposition={disposition!r}")
    header, rows = download_rows(ready.url)
    expected = HEADER + [f"target_{p}_{n}" for n in (1, 2) for p in ("id", "type", "name", "metadata")] + ["id"]
    expect(header == expected, f"header={header!r}")
    expect(tags(header, rows) == ["e4", "e3", "e2", "e1"], f"tags={tags(header, rows)!r}")
    stamps = [row[0] for row in rows]
    expect(stamps == sorted(stamps), f"occurred_at not ascending: {stamps!r}")
    expect(all(row[-1].startswith("audit_log_event_") for row in rows), "last column is not the event id")
    e4 = rows[0]
    expect(e4[1] == "'=HYPERLINK(\"x\")", f"formula cell not protected: {e4[1]!r}")
    expect(unprotect(e4[1]) == EVENTS[3][1], "unprotect does not give the action back")
    expect(e4[5] == EVENTS[3][3], f"actor_name={e4[5]!r}")
    expect(json.loads(e4[6]) == {"n": 3}, f"actor_metadata={e4[6]!r}")
    expect(json.loads(e4[9]) == {"tag": "e4", "note": "a, b \"c\"\nd"}, f"metadata={e4[9]!r}")
    expect(e4[10:18] == [""] * 8, f"target cells of an event without targets: {e4[10:18]!r}")
    e2 = rows[2]
    expect(e2[10:12] == ["doc_1", "document"] and e2[14:16] == ["team_1", "team"], f"targets={e2[10:18]!r}")


@check("two get_export calls a second apart give two different working urls")
def _() -> None:
    export = need("export")
    first = client.audit_logs.get_export(export.id).url
    time.sleep(1.1)
    second = client.audit_logs.get_export(export.id).url
    expect(first != second, "same url twice")
    for url in (first, second):
        status, _, _ = fetch(url)
        expect(status == 200, f"{url}: status {status}")


@check("a tampered download link is a 404 without content")
def _() -> None:
    ready = need("ready")
    parts = urllib.parse.urlsplit(ready.url)
    query = dict(urllib.parse.parse_qsl(parts.query))
    if "X-Amz-Signature" in query:
        # An S3 presigned link: the object store checks it (moto, used in tests, does not).
        expect("signature" not in query, "a presigned link carries only the store's signature")
        return
    sig = query["signature"]
    query["signature"] = ("1" if sig[0] == "0" else "0") + sig[1:]
    tampered = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
    status, headers, body = fetch(tampered)
    expect(status == 404, f"status={status}")
    expect(b"occurred_at" not in body, "file content leaked")
    expect(headers.get("content-type", "").startswith("application/json"), f"content-type={headers.get('content-type')!r}")


@check("create_export filters: actions")
def _() -> None:
    header, rows = export_rows(actions=["doc.viewed"])
    expect(tags(header, rows) == ["e3", "e1"], f"tags={tags(header, rows)!r}")


@check("create_export filters: actor_names and the deprecated actors alias")
def _() -> None:
    header, rows = export_rows(actor_names=["Bob, \"the\" builder"])
    expect(tags(header, rows) == ["e3", "e2"], f"actor_names: {tags(header, rows)!r}")
    header, rows = export_rows(actors=["Ann Lee"])
    expect(tags(header, rows) == ["e1"], f"actors: {tags(header, rows)!r}")


@check("create_export filters: actor_ids, targets, and AND across fields")
def _() -> None:
    header, rows = export_rows(actor_ids=["user_1", "user_3"])
    expect(tags(header, rows) == ["e4", "e1"], f"actor_ids: {tags(header, rows)!r}")
    header, rows = export_rows(targets=["team"])
    expect(tags(header, rows) == ["e3", "e2"], f"targets: {tags(header, rows)!r}")
    header, rows = export_rows(actions=["doc.viewed"], targets=["team"], actor_ids=["user_2"])
    expect(tags(header, rows) == ["e3"], f"combined: {tags(header, rows)!r}")


@check("an export matching nothing is ready with a header-only file")
def _() -> None:
    header, rows = export_rows(actions=["nothing.matches"])
    expect(header == HEADER + ["id"], f"header={header!r}")
    expect(rows == [], f"rows={rows!r}")


@check("create_export with range_start after range_end raises BadRequestError")
def _() -> None:
    org = need("org")
    start, end = need("window")
    e = expect_raises(
        BadRequestError,
        lambda: client.audit_logs.create_export(
            organization_id=org.id, range_start=iso(end), range_end=iso(start)
        ),
        "reversed range",
    )
    expect(getattr(e, "code", None) == "invalid_audit_log_export_range_date", f"code={getattr(e, 'code', None)!r}")


@check("create_export for an unknown organization raises NotFoundError")
def _() -> None:
    start, end = need("window")
    expect_raises(
        NotFoundError,
        lambda: client.audit_logs.create_export(
            organization_id=UNKNOWN_ORG, range_start=iso(start), range_end=iso(end)
        ),
        "unknown org",
    )


@check("get_export of an unknown export raises NotFoundError")
def _() -> None:
    e = expect_raises(NotFoundError, lambda: client.audit_logs.get_export(UNKNOWN_EXPORT), "unknown export")
    expect(getattr(e, "status_code", None) == 404, f"status_code={getattr(e, 'status_code', None)}")


# ---------------------------------------------------------------- summary

client.close()
print(f"[{SUITE}] done: passed={passed} failed={failed}", flush=True)
sys.exit(1 if failed else 0)
