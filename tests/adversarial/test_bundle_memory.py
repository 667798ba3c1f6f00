"""Export bundles stream: concurrent bundle downloads of a large export stay within bounded
memory (a 1 M-row bundle is ~100 MB of JSON; one download used to peak at 717 MB). The
1 M-row measurement is `bench/bundle.sh`; this is the same scaled down to 200 k rows."""

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import BIN

ROWS = 200_000


def test_concurrent_bundle_downloads_stay_in_bounded_memory(store, start_server):
    if store != "sqlite":
        pytest.skip("bundles are built the same way on every store; seeding 200 k rows is "
                    "quickest on SQLite")
    server = start_server()
    server.stop()
    org = subprocess.run(server.command("seed", "--events", str(ROWS)), check=True,
                         capture_output=True, text=True).stdout.strip()
    server.start()
    created = server.post("/audit_logs/exports", {
        "organization_id": org, "range_start": "2000-01-01T00:00:00Z",
        "range_end": "2100-01-01T00:00:00Z"})
    assert created.status_code == 201, created.text
    export_id = created.json()["id"]
    deadline = time.monotonic() + 180
    while True:
        export = server.get(f"/audit_logs/exports/{export_id}").json()
        if export["state"] != "pending" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert export["state"] == "ready", export
    baseline = server.rss_kib()

    def download(n):
        path = server.work / f"bundle-{n}.json"
        with requests.get(f"{server.url}/audit_logs/exports/{export_id}/bundle",
                          headers=server.headers, stream=True, timeout=300) as response:
            assert response.status_code == 200, response.text[:300]
            with open(path, "wb") as out:
                for chunk in response.iter_content(1 << 16):
                    out.write(chunk)
        return path.read_bytes()

    with ThreadPoolExecutor(4) as pool:
        bundles = list(pool.map(download, range(4)))
    grown_mib = (server.peak_rss_kib() - baseline) / 1024
    assert all(b == bundles[0] for b in bundles) and len(bundles[0]) > ROWS * 90
    # The streamed bundle is a valid one: `auditlog verify` checks it against the CSV.
    csv = server.work / "export.csv"
    csv.write_bytes(requests.get(export["url"], timeout=300).content)
    key = server.work / "log.vkey"
    key.write_text(requests.get(server.url + "/.well-known/auditlog/log-key", timeout=30).text)
    verified = subprocess.run([BIN, "verify", "--bundle", str(server.work / "bundle-0.json"),
                               "--csv", str(csv), "--key", str(key)],
                              capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]
    print(f"peak RSS growth: {grown_mib:.0f} MiB")
    assert grown_mib < 80, f"peak RSS grew by {grown_mib:.0f} MiB for 4 bundles of {ROWS} rows"
