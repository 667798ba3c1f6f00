"""Export bundles stream: concurrent bundle downloads of a large export stay within bounded
memory (a 1 M-row bundle is ~100 MB of JSON; one download used to peak at 717 MB). The
1 M-row measurement is `bench/bundle.sh`; this is the same scaled down to 200 k rows."""

import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

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

    def download(_):
        with requests.get(f"{server.url}/audit_logs/exports/{export_id}/bundle",
                          headers=server.headers, stream=True, timeout=300) as response:
            assert response.status_code == 200, response.text[:300]
            size = sum(len(chunk) for chunk in response.iter_content(1 << 16))
        return size

    with ThreadPoolExecutor(4) as pool:
        sizes = list(pool.map(download, range(4)))
    assert len(set(sizes)) == 1 and sizes[0] > ROWS * 90, sizes
    grown_mib = (server.peak_rss_kib() - baseline) / 1024
    print(f"peak RSS growth: {grown_mib:.0f} MiB")
    assert grown_mib < 80, f"peak RSS grew by {grown_mib:.0f} MiB for 4 bundles of {ROWS} rows"
