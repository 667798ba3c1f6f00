"""Connection limits and timeouts: no client holds the server's connections or descriptors
without sending requests, and `GET /health` answers through a connection flood.

Connection handling does not depend on the store, so these run on SQLite only."""

import resource
import socket
import time

import pytest
import requests

from conftest import event


def only_once(store):
    if store != "sqlite":
        pytest.skip("connection handling is the same on every store; run on SQLite only")


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=5)


def closed_within(sock: socket.socket, seconds: float, trickle: bytes | None = None,
                  received: bytearray | None = None) -> float | None:
    """Seconds until the server closed `sock` (None if still open after `seconds`), sending
    `trickle` once a second meanwhile. What the server sends (e.g. a 408) goes to `received`."""
    received = received if received is not None else bytearray()
    started = time.monotonic()
    sock.settimeout(0.5)
    while time.monotonic() - started < seconds:
        try:
            if trickle is not None:
                sock.sendall(trickle)
            data = sock.recv(4096)
            if data == b"":
                return time.monotonic() - started
            received.extend(data)
        except socket.timeout:
            time.sleep(0.5)
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
    return None


def test_slowloris_headers_are_cut_off_with_default_settings(store, start_server):
    only_once(store)
    server = start_server()
    sock = connect(server)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
    # One header line a second never completes the request: the default header timeout (10 s)
    # must close it.
    after = closed_within(sock, 16, trickle=b"X-Slow: 1\r\n")
    assert after is not None, "a connection trickling headers was still open after 16 s"
    assert after < 13


def test_slow_body_gets_408_at_the_body_deadline(store, start_server):
    only_once(store)
    server = start_server(args=["--body-timeout-secs", "3", "--idle-timeout-secs", "30"])
    org = server.create_org()
    sock = connect(server)
    head = (
        f"POST /audit_logs/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"organization_id":"' + org.encode())
    # A byte a second keeps the connection busy but can never finish 100 kB in time.
    received = bytearray()
    after = closed_within(sock, 12, trickle=b" ", received=received)
    assert b"408" in received.split(b"\r\n", 1)[0], bytes(received[:200])
    assert b'"code":"request_timeout"' in received
    assert after is not None and after < 8


def test_a_connection_at_rest_is_closed(store, start_server):
    only_once(store)
    server = start_server(args=["--header-timeout-secs", "2"])
    sock = connect(server)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.3)
    assert b"200 OK" in sock.recv(4096)
    after = closed_within(sock, 8)
    assert after is not None and after < 4, "an idle keep-alive connection stayed open"


def test_a_stalled_body_is_closed_at_the_idle_timeout(store, start_server):
    only_once(store)
    server = start_server(args=["--body-timeout-secs", "60", "--idle-timeout-secs", "2"])
    sock = connect(server)
    sock.sendall(
        f"POST /organizations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.key}\r\n"
        "Content-Type: application/json\r\nContent-Length: 50\r\n\r\n{\"na".encode()
    )
    after = closed_within(sock, 8)
    assert after is not None and after < 5


def lower_descriptor_limit():
    # The review that found the flood ran with 1024 descriptors; 512 makes it quicker to reach.
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, 512))


def test_health_answers_through_a_connection_flood(store, start_server):
    only_once(store)
    server = start_server(args=["--max-connections", "50"], preexec_fn=lower_descriptor_limit)
    org = server.create_org()
    flood = []
    try:
        # More idle connections than the server has descriptors, held open, no request sent.
        deadline = time.monotonic() + 20
        while len(flood) < 700 and time.monotonic() < deadline:
            try:
                flood.append(socket.create_connection(("127.0.0.1", server.port), timeout=2))
            except OSError:
                time.sleep(0.01)
        assert len(flood) >= 600
        time.sleep(0.5)
        for _ in range(5):
            started = time.monotonic()
            health = requests.get(server.url + "/health", timeout=2)
            assert health.status_code == 200
            assert time.monotonic() - started < 1.0
        busy = server.post("/audit_logs/events", {"organization_id": org, "event": event()},
                           timeout=2)
        assert busy.status_code == 503, busy.text
        assert busy.headers.get("Retry-After") == "1"
        assert busy.json()["code"] == "service_unavailable"
    finally:
        for sock in flood:
            sock.close()
    # Once the flood is gone, the API serves again.
    deadline = time.monotonic() + 10
    while True:
        done = server.post("/audit_logs/events", {"organization_id": org, "event": event()}, timeout=2)
        if done.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert done.status_code == 200, done.text
