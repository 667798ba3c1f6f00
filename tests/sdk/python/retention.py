#!/usr/bin/env python3
"""SDK conformance checks for audit log retention: the official WorkOS Python SDK
(workos==10.6.0) against an auditlog server.

Reads and sets an organization's retention with both request variants of
`update_organization_audit_logs_retention` (`RetentionPeriod`, which sends
`retention_period`, and `RetentionPeriodInDays`, which sends the deprecated
`retention_period_in_days`), checks that `organizations.get_audit_log_configuration`
reflects it, and that invalid values and unknown organizations raise the typed errors.

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
from typing import Any, Callable, Dict, List, Tuple

import workos
from workos import NotFoundError, UnprocessableEntityError, WorkOSClient
from workos.audit_logs import RetentionPeriod, RetentionPeriodInDays
from workos.common.models.update_audit_logs_retention_retention_period import (
    UpdateAuditLogsRetentionRetentionPeriod as Period,
)
from workos.organizations.models.audit_logs_retention import AuditLogsRetention

SUITE = "python"
UNKNOWN_ORG = "org_01HZZZZZZZZZZZZZZZZZZZZZZZ"

BASE_URL = os.environ.get("AUDITLOG_URL", "").strip()
API_KEY = os.environ.get("AUDITLOG_KEY", "").strip()
if not BASE_URL or not API_KEY:
    print("FAIL python: setup: AUDITLOG_URL and AUDITLOG_KEY must be set", flush=True)
    sys.exit(1)

RUN = secrets.token_hex(4)  # distinguishes this run's organizations from others

# max_retries=0: a server bug (5xx) should fail fast instead of backing off.
client = WorkOSClient(api_key=API_KEY, base_url=BASE_URL, max_retries=0, request_timeout=30)

# Every `retention_period` value and the days it stands for (N_MONTHS = 30·N, N_YEARS = 365·N).
PERIODS: List[Tuple[str, int]] = [("1_MONTH", 30)]
PERIODS += [(f"{n}_MONTHS", 30 * n) for n in range(2, 12)]
PERIODS += [("1_YEAR", 365)]
PERIODS += [(f"{n}_YEARS", 365 * n) for n in range(2, 11)]

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


def get_days(org_id: str) -> Any:
    got = client.audit_logs.get_organization_audit_logs_retention(org_id)
    expect(isinstance(got, AuditLogsRetention), f"get returned {got!r}")
    return got.retention_period_in_days


def update(org_id: str, retention: Any) -> Any:
    got = client.audit_logs.update_organization_audit_logs_retention(org_id, retention=retention)
    expect(isinstance(got, AuditLogsRetention), f"update returned {got!r}")
    return got.retention_period_in_days


# ---------------------------------------------------------------- checks


@check("retention: organizations.create_organization for the retention checks")
def _() -> None:
    state["org"] = client.organizations.create_organization(name=f"Conformance Py retention {RUN}")
    state["other"] = client.organizations.create_organization(name=f"Conformance Py retention other {RUN}")


@check("audit_logs.get_organization_audit_logs_retention returns the server default")
def _() -> None:
    org = need("org")
    days = get_days(org.id)
    expect(isinstance(days, int) and days > 0, f"retention_period_in_days={days!r}")
    conf = client.organizations.get_audit_log_configuration(org.id)
    expect(conf.retention_period_in_days == days, f"configuration says {conf.retention_period_in_days!r}, GET says {days!r}")
    state["default"] = days


@check("audit_logs.update_organization_audit_logs_retention with RetentionPeriod maps every month value to 30·N days")
def _() -> None:
    org = need("org")
    wrong = []
    for period, days in PERIODS[:11]:
        got = update(org.id, RetentionPeriod(retention_period=Period(period)))
        read = get_days(org.id)
        if got != days or read != days:
            wrong.append(f"{period}: update={got!r} get={read!r}, want {days}")
    expect(not wrong, "; ".join(wrong))


@check("audit_logs.update_organization_audit_logs_retention with RetentionPeriod maps every year value to 365·N days")
def _() -> None:
    org = need("org")
    wrong = []
    for period, days in PERIODS[11:]:
        got = update(org.id, RetentionPeriod(retention_period=Period(period)))
        read = get_days(org.id)
        if got != days or read != days:
            wrong.append(f"{period}: update={got!r} get={read!r}, want {days}")
    expect(not wrong, "; ".join(wrong))


@check("audit_logs.update_organization_audit_logs_retention with RetentionPeriod given a plain string")
def _() -> None:
    org = need("org")
    expect(update(org.id, RetentionPeriod(retention_period="6_MONTHS")) == 180, "6_MONTHS != 180 days")
    expect(get_days(org.id) == 180, "GET after 6_MONTHS")


@check("audit_logs.update_organization_audit_logs_retention with RetentionPeriodInDays accepts every allowed value")
def _() -> None:
    org = need("org")
    wrong = []
    for _, days in PERIODS:
        got = update(org.id, RetentionPeriodInDays(retention_period_in_days=days))
        read = get_days(org.id)
        if got != days or read != days:
            wrong.append(f"{days}: update={got!r} get={read!r}")
    expect(not wrong, "; ".join(wrong))


@check("organizations.get_audit_log_configuration reflects the retention")
def _() -> None:
    org = need("org")
    update(org.id, RetentionPeriod(retention_period=Period.VALUE_3_MONTHS))
    conf = client.organizations.get_audit_log_configuration(org.id)
    expect(conf.organization_id == org.id, f"organization_id={conf.organization_id!r}")
    expect(conf.retention_period_in_days == 90, f"retention_period_in_days={conf.retention_period_in_days!r}")
    state_value = getattr(conf.state, "value", conf.state)
    expect(state_value == "active", f"state={conf.state!r}")
    expect(conf.log_stream is None, f"log_stream={conf.log_stream!r}")
    state["set"] = 90


@check("audit_logs.update_organization_audit_logs_retention with invalid values raises UnprocessableEntityError")
def _() -> None:
    org = need("org")
    expected = need("set")
    for retention in [
        RetentionPeriod(retention_period="FOREVER"),
        RetentionPeriod(retention_period="12_MONTHS"),
        RetentionPeriodInDays(retention_period_in_days=31),
        RetentionPeriodInDays(retention_period_in_days=0),
        RetentionPeriodInDays(retention_period_in_days=3651),
    ]:
        e = expect_raises(
            UnprocessableEntityError,
            lambda: client.audit_logs.update_organization_audit_logs_retention(org.id, retention=retention),
            repr(retention),
        )
        expect(getattr(e, "status_code", None) == 422, f"{retention!r}: status_code={getattr(e, 'status_code', None)}")
    days = get_days(org.id)
    expect(days == expected, f"retention changed by rejected updates: {days!r}, want {expected}")


@check("retention of one organization leaves another at the default")
def _() -> None:
    other = need("other")
    default = need("default")
    days = get_days(other.id)
    expect(days == default, f"retention_period_in_days={days!r}, want {default}")


@check("audit_logs retention on an unknown organization raises NotFoundError")
def _() -> None:
    expect_raises(
        NotFoundError,
        lambda: client.audit_logs.get_organization_audit_logs_retention(UNKNOWN_ORG),
        "get unknown org",
    )
    expect_raises(
        NotFoundError,
        lambda: client.audit_logs.update_organization_audit_logs_retention(
            UNKNOWN_ORG, retention=RetentionPeriod(retention_period=Period.VALUE_1_YEAR)
        ),
        "update unknown org",
    )


# ---------------------------------------------------------------- summary

client.close()
print(f"[{SUITE}] retention done: passed={passed} failed={failed}", flush=True)
sys.exit(1 if failed else 0)
