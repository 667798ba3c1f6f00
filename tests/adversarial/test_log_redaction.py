"""Secrets stay out of the server's log, even at debug level: a download link's signature (or
a presigned S3 URL's), and API keys."""

import time
from urllib.parse import parse_qs, urlparse

import requests

from conftest import event


def test_debug_logs_hold_no_signature_and_no_key(start_server):
    server = start_server(env={"AUDITLOG_LOG": "debug"})
    org = server.create_org()
    stored = server.post("/audit_logs/events", {"organization_id": org, "event": event()})
    assert stored.status_code == 200, stored.text
    created = server.post("/audit_logs/exports", {
        "organization_id": org,
        "range_start": "2026-01-01T00:00:00Z",
        "range_end": "2026-02-01T00:00:00Z",
    })
    assert created.status_code == 201, created.text
    export_id = created.json()["id"]
    deadline = time.monotonic() + 30
    while True:
        export = server.get(f"/audit_logs/exports/{export_id}").json()
        if export["state"] == "ready" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert export["state"] == "ready", export
    url = export["url"]
    download = requests.get(url, timeout=30)
    assert download.status_code == 200
    assert b"user.signed_in" in download.content
    query = {name.lower(): values[0] for name, values in parse_qs(urlparse(url).query).items()}
    secrets = [value for name, value in query.items()
               if name in ("signature", "x-amz-signature", "x-amz-credential")]
    assert secrets, f"no signature in {url}"
    time.sleep(0.5)
    log = server.log_text()
    for secret in secrets:
        assert secret not in log, "a download link's secret is in the server log"
    assert server.key not in log, "the API key is in the server log"
    assert server.key[3:13] not in log


def test_debug_logs_hold_no_portal_link_secret_or_session_cookie(start_server):
    server = start_server(env={"AUDITLOG_LOG": "debug"})
    org = server.create_org()
    created = server.post("/portal/generate_link", {"organization": org, "intent": "audit_logs"})
    assert created.status_code == 201, created.text
    link = created.json()["link"]
    secret = parse_qs(urlparse(link).query)["secret"][0]
    opened = requests.get(link, allow_redirects=False, timeout=30)
    assert opened.status_code == 303, opened.text
    cookie = opened.cookies["auditlog_portal"]
    page = requests.get(urlparse(link)._replace(path="/portal/api/session", query="").geturl(),
                        cookies={"auditlog_portal": cookie}, timeout=30)
    assert page.status_code == 200, page.text
    csrf = page.json()["csrf_token"]
    time.sleep(0.5)
    log = server.log_text()
    assert "/portal/launch?secret=REDACTED" in log, "the launch request is logged, without its secret"
    assert secret not in log, "a portal link's secret is in the server log"
    assert cookie not in log, "a portal session cookie is in the server log"
    assert csrf not in log, "a portal session's CSRF token is in the server log"
