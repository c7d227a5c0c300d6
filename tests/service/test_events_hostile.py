"""`POST /events/icims` under hostile input, over real sockets: non-ASCII credentials, JSON nested
past any real payload, an internal failure, clients that abort or trickle their body, and slow or
endless request heads. Every refusal is a 4xx in iCIMS's error format (never a plain 500), an
aborted body logs one line, and slow clients are cut off by deadlines."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from support.events import (
    HMAC_1000,
    Service,
    assessment,
    gz,
    real_stderr_logging,  # noqa: F401 - autouse fixture
    running_service,
    service_settings,
)

import server.events as intake_module
from server.app import create_app
from tools.embeddings import HashEmbeddings
from tools.events.body import MAX_JSON_DEPTH

pytestmark = pytest.mark.integration


@pytest.fixture
def svc(tmp_path) -> Iterator[Service]:
    with running_service(service_settings(tmp_path)) as service:
        yield service


def vendor(reply: httpx.Response) -> dict[str, str]:
    assert reply.headers["content-type"].startswith("application/json"), reply.text
    body = reply.json()
    assert set(body) == {"error"} and set(body["error"]) == {"userMessage", "debugErrorMessage"}, body
    return body["error"]


def signed_headers(body: bytes) -> dict[str, str]:
    """What HMAC_1000 sends for this body (so a test can alter one header afterwards)."""
    request = httpx.Request(
        "POST",
        "http://127.0.0.1/events/icims",
        content=body,
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    HMAC_1000.sign(request)
    return dict(request.headers)


def test_non_ascii_credentials_are_401_in_the_vendor_format(svc):
    body = gz(assessment(10001))
    hmac_header = signed_headers(body)["authorization"]
    forged_signature = hmac_header.rsplit("signature=", 1)[0] + "signature=\xb2" + "a" * 63
    cases = {
        "basic": "Basic \xb2\xe9dXNlcjpwYXNz",
        "basic-decoded": "Basic " + "w7I6w7I=",  # base64 of "\xc3\xb2:\xc3\xb2" (UTF-8 in the pair)
        "bearer": "Bearer 3000.\xb2.x",
        "bearer-signature": "Bearer 3000.9999999999.\xe9\xb2",
        "hmac": forged_signature,
        "hmac-user": hmac_header.replace("user=sandbox-events", "user=\xe9v\xe9nts"),
    }
    for name, value in cases.items():
        headers = {**signed_headers(body), "authorization": value.encode("latin-1")}
        with httpx.Client(base_url=svc.url, timeout=10) as client:
            reply = client.post("/events/icims", content=body, headers=headers)
        assert reply.status_code == 401, (name, reply.status_code, reply.text)
        assert vendor(reply)["userMessage"] == "The notification could not be authenticated."
    assert sum(svc.queue.store.counts().values()) == 0


def test_json_nested_past_the_limit_is_400_not_a_recursion_error(svc):
    deep = b"[" * 100_000 + b"]" * 100_000
    bomb = gzip.compress(deep, mtime=0)
    assert len(bomb) < 1024  # a few hundred bytes on the wire
    started = time.perf_counter()
    reply = svc.post(bomb)
    assert reply.status_code == 400, reply.text
    assert "nested deeper than" in vendor(reply)["debugErrorMessage"]
    assert time.perf_counter() - started < 2.0
    # Inside a valid event too, just past the limit; brackets inside strings do not count.
    nested: Any = "x"
    for _ in range(MAX_JSON_DEPTH):
        nested = [nested]
    assert svc.post(gz({**assessment(10001), "extra": nested})).status_code == 400
    brackets = "[{" * 5_000
    ok = svc.post(gz({**assessment(10002), "note": brackets, "escaped": '\\"[[[[\\'}))
    assert ok.status_code == 303, ok.text
    assert sum(svc.queue.store.counts().values()) == 1


def test_an_internal_failure_is_a_vendor_error_not_a_plain_500(svc, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug in the intake")

    monkeypatch.setattr(intake_module, "parse_json", broken)
    reply = svc.post(gz(assessment(10001)))
    assert 400 <= reply.status_code < 500, reply.text
    assert "RuntimeError" in vendor(reply)["debugErrorMessage"]
    # A malformed token request is refused in a 4xx too (never a 500).
    garbage = httpx.post(
        f"{svc.url}/events/oauth/token",
        content=b"--x\r\nbroken",
        headers={"content-type": "multipart/form-data; boundary=x"},
    )
    assert 400 <= garbage.status_code < 500, garbage.text


def _raw(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _head(length: int) -> bytes:
    return (
        "POST /events/icims HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Encoding: gzip\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def test_an_aborted_body_logs_one_line_not_a_traceback(svc, capfd):
    capfd.readouterr()
    for _ in range(3):
        conn = _raw(svc.url)
        conn.sendall(_head(5_000) + b"\x1f\x8b" + b"x" * 100)
        time.sleep(0.05)
        conn.close()
    deadline = time.monotonic() + 5
    err = ""
    while time.monotonic() < deadline and err.count("events.client_disconnected") < 3:
        time.sleep(0.1)
        err += "".join(capfd.readouterr())
    assert err.count("events.client_disconnected") == 3, err
    assert "Traceback" not in err and "ClientDisconnect" not in err
    assert len(err.splitlines()) <= 3, err


def test_a_trickled_body_times_out_with_a_vendor_error(svc, monkeypatch):
    monkeypatch.setattr(intake_module, "BODY_READ_TIMEOUT", 0.5)
    conn = _raw(svc.url)
    started = time.monotonic()
    conn.sendall(_head(5_000) + b"\x1f\x8b")
    for _ in range(4):  # a byte every 0.1 s, then nothing: the body never completes
        time.sleep(0.1)
        conn.sendall(b"x")
    reply = conn.recv(65536)
    conn.close()
    assert time.monotonic() - started < 3
    status_line, _, rest = reply.partition(b"\r\n")
    assert b" 408 " in status_line, reply
    assert b'"userMessage"' in rest and b"body not received within" in rest


@contextmanager
def bounded_server(tmp_path: Any, **limits: Any) -> Iterator[str]:
    """The service behind uvicorn configured as `serve` configures it (the connection limits)."""
    app = create_app(service_settings(tmp_path), embeddings=HashEmbeddings())
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", **intake_module.uvicorn_limits(**limits))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        host, port = sock.getsockname()[:2]
        url = f"http://{host}:{port}"
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _closed_within(conn: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed the connection (reading whatever it sent), None if it did not."""
    started = time.monotonic()
    conn.settimeout(0.2)
    while time.monotonic() - started < seconds:
        try:
            if conn.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except ConnectionResetError:
            return time.monotonic() - started
    return None


def test_slow_and_endless_request_heads_and_slow_bodies_are_cut_off(tmp_path):
    with bounded_server(tmp_path, request_read_timeout=1.0, max_head_bytes=8 * 1024) as url:
        # Headers that never end (a byte at a time, never idle long enough for keep-alive).
        slow = _raw(url)
        slow.sendall(b"POST /events/icims HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        for _ in range(5):
            time.sleep(0.3)
            try:
                slow.sendall(b"X")
            except OSError:
                break
        assert _closed_within(slow, 3.0) is not None
        assert time.monotonic() - started < 3.5
        # A connection that sends nothing at all.
        idle = _raw(url)
        assert (_closed_within(idle, 3.0) or 99) < 2.5
        # A head past the byte limit is refused at once.
        huge = _raw(url)
        huge.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Pad: " + b"a" * 20_000 + b"\r\n")
        assert (_closed_within(huge, 3.0) or 99) < 0.9
        # A slow body on any route is cut off by the same deadline.
        body = _raw(url)
        body.sendall(b"POST /whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n")
        for _ in range(8):
            time.sleep(0.25)
            try:
                body.sendall(b"x")
            except OSError:
                break
        assert _closed_within(body, 3.0) is not None
        # A normal client still gets through, and may keep its connection alive between requests.
        with httpx.Client(base_url=url, timeout=10) as client:
            assert client.get("/health").status_code == 200
            event = client.post("/events/icims", content=gz(assessment(10001)), auth=HMAC_1000)
            assert event.status_code == 303
            assert client.get("/health").status_code == 200
        for conn in (slow, idle, huge, body):
            conn.close()


def test_uvicorn_limits_are_plain_config_options():
    limits = intake_module.uvicorn_limits()
    config = uvicorn.Config(lambda *a: None, **limits)
    assert config.timeout_keep_alive == limits["timeout_keep_alive"] <= 10
    assert isinstance(config.http, type)
    assert json.dumps({k: v for k, v in limits.items() if k != "http"})
