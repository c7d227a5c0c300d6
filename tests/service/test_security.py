"""Credentials, sessions and forms, tried as an attacker and as a careless operator would:

- settings refuse the sandbox's published secrets and placeholders against a non-loopback iCIMS,
  and `icims-agents serve` exits naming the setting, printing no demo key;
- demo keys exist only against the local sandbox, expire, and die once a real admin key exists;
- the pages' sign-in sets a server-side session (random id, HttpOnly, SameSite=Strict, Secure over
  https) that survives restarts and dies at sign-out, expiry or key revocation;
- wrong keys are throttled (429 with Retry-After) on the API and on the sign-in form;
- `api_key=` in a URL never reaches a log line (uvicorn's access log included);
- `/health` tells strangers its status only;
- a page on another port of 127.0.0.1 cannot post the inbox's bulk approve (CSRF), in httpx and in
  Chromium when it is installed;
- every page carries the security headers, and no template has inline script.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from support.service import JOB_A, ServiceEnv, service_env
from typer.testing import CliRunner

from graphs.rediscovery import rediscovery_thread_id
from server.app import create_app
from server.auth import COOKIE_NAME, SESSION_IDLE_SECONDS, SESSION_TTL_SECONDS, KeyStore
from server.security import FailureThrottle, install_log_redaction
from tools.embeddings import HashEmbeddings
from tools.settings import Settings

TEMPLATES = Path(__file__).resolve().parents[2] / "server" / "templates"
TENANT = "https://api.icims.com"
# What a real deployment sets: the tenant's own secrets (an auth mode's unused ones left empty).
REAL = {
    "ICIMS_AGENTS_ICIMS_BASE_URL": TENANT,
    "ICIMS_AGENTS_ICIMS_CLIENT_SECRET": "tenant-client-secret-7f3a",
    "ICIMS_AGENTS_ICIMS_PASSWORD": "",
    "ICIMS_AGENTS_ICIMS_HMAC_SECRET": "",
    "ICIMS_AGENTS_EVENTS_TENANTS": json.dumps(
        {"1000": {"auth": "hmac", "hmac_user": "acme", "hmac_secret": "tenant-events-secret-9c1d"}}
    ),
}
SANDBOX_VALUES = {
    "ICIMS_AGENTS_ICIMS_CLIENT_SECRET": "sandbox-secret",
    "ICIMS_AGENTS_ICIMS_PASSWORD": "sandbox-password",
    "ICIMS_AGENTS_ICIMS_HMAC_SECRET": "sandbox-hmac-secret",
    "ICIMS_AGENTS_EVENTS_TENANTS": json.dumps(
        {"1000": {"auth": "hmac", "hmac_user": "sandbox-events", "hmac_secret": "sandbox-events-secret"}}
    ),
}


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- settings and `serve` ---------------------------------------------------------------------------


def _settings(env: dict[str, str]) -> Settings:
    values = {k.removeprefix("ICIMS_AGENTS_").lower(): v for k, v in env.items()}
    if "events_tenants" in values:
        values["events_tenants"] = json.loads(values["events_tenants"])
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize("setting", sorted(SANDBOX_VALUES))
def test_settings_refuse_each_sandbox_secret_against_a_real_tenant(setting):
    assert _settings(REAL).sandbox_mode is False  # the tenant's own secrets: accepted
    with pytest.raises(ValidationError) as refused:
        _settings({**REAL, setting: SANDBOX_VALUES[setting]})
    message = str(refused.value)
    assert setting in message and "sandbox's published value" in message
    # The same secrets against the sandbox on loopback are fine (every other test runs so).
    for base in ("http://127.0.0.1:8790", "http://localhost:8790", "http://[::1]:8790", "http://127.3.0.1:1"):
        assert _settings({**REAL, setting: SANDBOX_VALUES[setting], "ICIMS_AGENTS_ICIMS_BASE_URL": base})


def test_settings_refuse_placeholders_and_an_empty_secret_the_auth_mode_sends():
    for placeholder in ("changethis", "CHANGEME", "change-me", "secret"):
        with pytest.raises(ValidationError, match="ICIMS_AGENTS_ICIMS_CLIENT_SECRET is a placeholder"):
            _settings({**REAL, "ICIMS_AGENTS_ICIMS_CLIENT_SECRET": placeholder})
    with pytest.raises(ValidationError, match="ICIMS_AGENTS_ICIMS_CLIENT_SECRET is empty"):
        _settings({**REAL, "ICIMS_AGENTS_ICIMS_CLIENT_SECRET": ""})
    with pytest.raises(ValidationError, match="ICIMS_AGENTS_NURTURE_UNSUBSCRIBE_SECRET is a placeholder"):
        _settings({**REAL, "ICIMS_AGENTS_NURTURE_UNSUBSCRIBE_SECRET": "changethis"})
    # A loopback base URL with a remote token endpoint is not the sandbox either.
    with pytest.raises(ValidationError):
        Settings(_env_file=None, icims_token_url=f"{TENANT}/oauth/token")


@pytest.fixture
def cli_env(monkeypatch, tmp_path) -> Iterator[dict[str, Any]]:
    import uvicorn

    for name in list(os.environ):
        if name.startswith("ICIMS_AGENTS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("ICIMS_AGENTS_DATA_DIR", str(tmp_path / "state"))
    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: served.append(a))
    yield {"served": served, "data_dir": tmp_path / "state", "monkeypatch": monkeypatch}


@pytest.mark.parametrize("setting", sorted(SANDBOX_VALUES))
def test_serve_against_a_tenant_with_a_sandbox_secret_exits_naming_it(cli_env, setting):
    from server.cli import app as cli

    for name, value in {**REAL, setting: SANDBOX_VALUES[setting]}.items():
        cli_env["monkeypatch"].setenv(name, value)
    out = CliRunner().invoke(cli, ["serve", "--port", "8123"])
    assert out.exit_code != 0
    assert setting in out.output and "not the local sandbox" in out.output
    assert "ica_" not in out.output and not cli_env["served"]
    assert SANDBOX_VALUES[setting] not in out.output.replace("sandbox's published value", "")


def test_serve_against_a_tenant_issues_no_demo_key_and_revokes_old_ones(cli_env):
    from server.cli import app as cli

    store = KeyStore.for_data_dir(cli_env["data_dir"])
    _, leftover = store.create("admin", name="demo-admin", demo=True)
    for name, value in REAL.items():
        cli_env["monkeypatch"].setenv(name, value)
    out = CliRunner().invoke(cli, ["serve", "--port", "8123"])
    assert out.exit_code == 0, out.output
    assert "ica_" not in out.output and "only issued against the local sandbox" in out.output
    assert len(cli_env["served"]) == 1
    assert store.authenticate(leftover) is None
    store.close()


# --- demo keys and sessions in the key store ---------------------------------------------------------


def test_demo_keys_expire_and_die_once_a_real_admin_key_exists(tmp_path):
    from server.auth import DEMO_KEY_TTL_SECONDS, issue_demo_keys

    clock = Clock()
    store = KeyStore(tmp_path / "keys.sqlite", clock=clock)
    demo = dict((p.role, key) for p, key in issue_demo_keys(store))
    assert set(demo) == {"recruiter", "hiring_manager", "admin", "auditor"}
    assert all(info.expires_at == clock.now + DEMO_KEY_TTL_SECONDS for info in store.list())
    clock.now += DEMO_KEY_TTL_SECONDS + 1
    assert all(store.authenticate(k) is None for k in demo.values())  # expired
    assert store.list() == []

    clock.now = 1_000_000.0
    demo = dict((p.role, key) for p, key in issue_demo_keys(store))
    principal = store.authenticate(demo["admin"])
    session = store.open_session(principal)
    assert store.session(session) == principal
    # A real recruiter key alone does not end them; a real admin key does, sessions included.
    store.create("recruiter", name="Rita", recruiter_id=1)
    assert store.authenticate(demo["admin"]) is not None
    _, real = store.create("admin", name="ops")
    assert all(store.authenticate(k) is None for k in demo.values())
    assert store.session(session) is None
    assert store.authenticate(real).role == "admin"
    # And none are issued any more.
    assert issue_demo_keys(store) == []
    store.close()


def test_sessions_are_random_hashed_expire_and_end_with_their_key(tmp_path):
    clock = Clock()
    store = KeyStore(tmp_path / "keys.sqlite", clock=clock)
    principal, key = store.create("recruiter", name="Rita", recruiter_id=1)
    first, second = store.open_session(principal), store.open_session(principal)
    assert first != second and len(first) >= 40 and key not in (first, second)
    raw = (tmp_path / "keys.sqlite").read_bytes()
    assert first.encode() not in raw and key.split("_", 2)[2].encode() not in raw

    # Idle too long: gone. Used now and then: lives until the absolute expiry.
    clock.now += SESSION_IDLE_SECONDS + 1
    assert store.session(first) is None
    alive = store.open_session(principal)
    for _ in range(int(SESSION_TTL_SECONDS // (SESSION_IDLE_SECONDS / 2)) - 1):
        clock.now += SESSION_IDLE_SECONDS / 2
        assert store.session(alive) == principal
    clock.now += SESSION_IDLE_SECONDS / 2
    assert store.session(alive) is None

    again = store.open_session(principal)
    store.close_session(again)
    assert store.session(again) is None
    last = store.open_session(principal)
    store.revoke(principal.key_id)
    assert store.session(last) is None
    store.close()


def test_a_key_store_from_before_expiry_is_migrated(tmp_path):
    import sqlite3

    path = tmp_path / "keys.sqlite"
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
        " recruiter_id INTEGER, salt TEXT NOT NULL, hash TEXT NOT NULL, created_at TEXT NOT NULL,"
        " demo INTEGER NOT NULL DEFAULT 0, revoked_at TEXT)"
    )
    conn.commit()
    conn.close()
    store = KeyStore(path)
    _, key = store.create("admin", name="ops")
    assert store.authenticate(key).role == "admin"
    store.close()


# --- the service over HTTP, without a sandbox ---------------------------------------------------------


@pytest.fixture
def service(tmp_path) -> Iterator[dict[str, Any]]:
    settings = Settings(_env_file=None, data_dir=tmp_path / "state", rediscovery_pool_warm=False)
    keys = KeyStore.for_data_dir(settings.data_dir)
    _, admin = keys.create("admin", name="ops")
    _, recruiter = keys.create("recruiter", name="Rita", recruiter_id=1)
    keys.close()
    yield {"settings": settings, "admin": admin, "recruiter": recruiter}


def _client(app: Any, base: str = "http://testserver", **kwargs: Any) -> TestClient:
    # What a browser sends with its own pages' form posts.
    return TestClient(app, base_url=base, follow_redirects=False, headers={"Origin": base}, **kwargs)


def test_sign_in_sets_a_session_that_survives_a_restart_and_dies_at_sign_out(service):
    app = create_app(service["settings"], embeddings=HashEmbeddings())
    with _client(app) as browser:
        signed = browser.post("/ui/sign-in", data={"api_key": service["recruiter"], "next": "/ui/inbox"})
        assert signed.status_code == 303
        cookie = signed.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE_NAME}=")
        attributes = cookie.lower()
        assert "httponly" in attributes and "samesite=strict" in attributes and "path=/" in attributes
        assert "secure" not in attributes  # plain http (loopback)
        session = browser.cookies[COOKIE_NAME]
        assert service["recruiter"] not in cookie and service["recruiter"].split("_", 2)[2] not in cookie
        assert browser.get("/whoami").json()["name"] == "Rita"
        assert browser.get("/ui/inbox").status_code == 200
        # The copilot page calls the copilot's API in-process as the same session.
        chat = browser.post("/ui/copilot", data={"message": "what can you do?", "history": "[]"})
        assert chat.status_code == 200 and 'class="msg assistant"' in chat.text, chat.text[-800:]

    # A new process on the same data_dir: the session still holds.
    app = create_app(service["settings"], embeddings=HashEmbeddings())
    with _client(app, cookies={COOKIE_NAME: session}) as browser:
        assert browser.get("/whoami").json()["name"] == "Rita"
        out = browser.post("/ui/sign-out")
        assert out.status_code == 303 and "max-age=0" in out.headers["set-cookie"].lower()
    with _client(app, cookies={COOKIE_NAME: session}) as replayed:
        assert replayed.get("/whoami").status_code == 401
        assert replayed.get("/ui/inbox").headers["location"].startswith("/ui/sign-in")

    # Over https the cookie is Secure.
    with _client(app, base="https://testserver") as browser:
        signed = browser.post("/ui/sign-in", data={"api_key": service["admin"]})
        assert signed.status_code == 303 and "secure" in signed.headers["set-cookie"].lower()
        assert "strict-transport-security" in browser.get("/ui/inbox").headers


def test_wrong_keys_are_throttled_on_the_api_and_the_sign_in_form(service):
    app = create_app(service["settings"], embeddings=HashEmbeddings())
    clock = Clock()
    with _client(app) as client:
        app.state.auth_throttle = FailureThrottle(clock=clock)
        codes = [client.get("/approvals", headers={"X-API-Key": f"ica_nope_{i}"}) for i in range(30)]
        assert [r.status_code for r in codes[:10]] == [401] * 10
        assert {r.status_code for r in codes[10:]} == {429}
        wait = int(codes[-1].headers["Retry-After"])
        assert wait >= 1
        # While throttled even the right key is refused: the throttle is no oracle.
        assert client.get("/whoami", headers={"X-API-Key": service["admin"]}).status_code == 429
        form = client.post("/ui/sign-in", data={"api_key": service["admin"]})
        assert form.status_code == 429 and form.headers["Retry-After"] and "Too many wrong keys" in form.text
        clock.now += wait
        assert client.get("/whoami", headers={"X-API-Key": service["admin"]}).status_code == 200

        # The sign-in form counts too.
        app.state.auth_throttle = FailureThrottle(clock=clock)
        tries = [client.post("/ui/sign-in", data={"api_key": f"ica_bad_{i}"}).status_code for i in range(12)]
        assert tries[:10] == [401] * 10 and tries[10:] == [429, 429]


def test_health_is_minimal_without_a_key(service):
    app = create_app(service["settings"], embeddings=HashEmbeddings())
    with _client(app) as client:
        assert client.get("/health").json() == {"status": "ok"}
        detailed = client.get("/health", headers={"X-API-Key": service["recruiter"]}).json()
        assert detailed["status"] == "ok" and "mirror" in detailed and "queue" in detailed


def test_pages_carry_the_security_headers_and_templates_have_no_inline_script(service):
    app = create_app(service["settings"], embeddings=HashEmbeddings())
    with _client(app) as browser:
        anonymous = browser.get("/ui/sign-in")
        browser.post("/ui/sign-in", data={"api_key": service["admin"]})
        for response in (
            anonymous,
            browser.get("/ui/inbox"),
            browser.get("/ui/audit"),
            browser.get("/whoami"),
        ):
            assert response.status_code == 200, response.request.url
            headers = response.headers
            csp = headers["content-security-policy"]
            script_src = re.search(r"script-src ([^;]*)", csp).group(1)
            assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
            assert "frame-ancestors 'none'" in csp
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] in ("same-origin", "no-referrer", "strict-origin")
            assert headers["cache-control"] == "no-store"
        static = browser.get("/ui/static/app.css")
        assert static.headers["cache-control"] == "max-age=3600"  # no candidate data in it
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text, re.I), template.name
        assert "javascript:" not in text.lower() and "hx-on" not in text, template.name


def test_api_key_in_the_url_is_refused_and_never_logged(service):
    app = create_app(service["settings"], embeddings=HashEmbeddings())
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="info", access_log=True, lifespan="on"))
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    logging.getLogger("uvicorn.access").addHandler(handler)  # after uvicorn configured its logging
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    secret = service["admin"]
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            for _ in range(100):
                try:
                    client.get("/ready")
                    break
                except httpx.TransportError:
                    threading.Event().wait(0.1)
            assert client.get("/approvals", params={"api_key": secret}).status_code == 401
            assert client.get("/health", params={"x": "1", "API_KEY": secret}).json() == {"status": "ok"}
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        logging.getLogger("uvicorn.access").removeHandler(handler)
    log = captured.getvalue()
    assert "/approvals?api_key=[redacted]" in log and "API_KEY=[redacted]" in log
    assert secret not in log and secret.split("_", 2)[2] not in log

    # Any other logger's lines through the root handlers too.
    root_capture = io.StringIO()
    root_handler = logging.StreamHandler(root_capture)
    logging.getLogger().addHandler(root_handler)
    try:
        install_log_redaction()
        logging.getLogger("server.somewhere").warning("GET /ui/inbox?api_key=%s&page=2", secret)
    finally:
        logging.getLogger().removeHandler(root_handler)
    assert "api_key=[redacted]&page=2" in root_capture.getvalue() and secret not in root_capture.getvalue()


# --- CSRF against the real service and sandbox ------------------------------------------------------


@pytest.fixture
def env(sandbox_factory, tmp_path) -> Iterator[ServiceEnv]:
    with service_env(sandbox_factory, tmp_path) as e:
        yield e


def _pending(env: ServiceEnv) -> list[str]:
    return [a["id"] for a in env.client("admin").get("/approvals").json()]


@pytest.mark.integration
def test_another_port_of_the_same_host_cannot_post_the_bulk_approve(env):
    env.run("rec_a", JOB_A, top_k=3)
    thread = rediscovery_thread_id(env.settings.icims_customer_id, JOB_A)
    other = f"http://127.0.0.1:{env.server.port + 1}"
    with httpx.Client(base_url=env.url, timeout=60) as browser:
        signed = browser.post("/ui/sign-in", data={"api_key": env.keys["rec_a"]}, headers={"Origin": env.url})
        assert signed.status_code == 303
        form = {"approval_id": thread}
        forged = [
            {"Origin": other},  # the auto-submitting page on another port
            {"Origin": other, "Sec-Fetch-Site": "same-site"},
            {"Sec-Fetch-Site": "same-site"},
            {"Sec-Fetch-Site": "cross-site"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "same-origin", "Origin": other},
            {},  # neither header: refused too (fails closed)
        ]
        for headers in forged:
            refused = browser.post("/ui/inbox/bulk", data=form, headers=headers)
            assert refused.status_code == 403, headers
            assert "cross-site request refused" in refused.text
        api = browser.post(
            "/approvals/bulk",
            json={"ids": [thread], "decision": {"type": "accept"}},
            headers={"Origin": other},
        )
        assert api.status_code == 403  # the JSON API read through the cookie is guarded alike
        login = httpx.post(
            f"{env.url}/ui/sign-in", data={"api_key": env.keys["rec_b"]}, headers={"Origin": other}
        )
        assert login.status_code == 403  # no signing a victim in as someone else either
        assert _pending(env) == [thread] and not env.writelog

        # The inbox's own form (same origin) approves; a key header needs no Origin at all.
        mine = browser.post(
            "/ui/inbox/bulk", data=form, headers={"Origin": env.url, "Sec-Fetch-Site": "same-origin"}
        )
        assert mine.status_code == 303 and "Approved+1+of+1" in mine.headers["location"]
    assert _pending(env) == [] and env.writelog
    assert (
        env.client("rec_a")
        .post("/approvals/bulk", json={"ids": ["x"], "decision": {"type": "accept"}})
        .status_code
        == 200
    )


CHROMIUM = os.environ.get("ICIMS_AGENTS_CHROMIUM", "/usr/bin/chromium")


@pytest.mark.integration
@pytest.mark.skipif(
    not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)), reason=f"no Chromium at {CHROMIUM}"
)
def test_an_auto_submitting_page_on_another_port_is_refused_in_chromium(env):
    sync_api = pytest.importorskip("playwright.sync_api")
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    from sandbox.server import ServerThread

    env.run("rec_a", JOB_A, top_k=3)
    thread = rediscovery_thread_id(env.settings.icims_customer_id, JOB_A)
    attack = (
        f'<form id="f" method="post" action="{env.url}/ui/inbox/bulk">'
        f'<input name="approval_id" value="{thread}"></form>'
        '<script>document.getElementById("f").submit()</script>'
    )
    evil = Starlette(routes=[Route("/", lambda request: HTMLResponse(attack))])
    with ServerThread(evil) as attacker, sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox"])
        try:
            page = browser.new_page()
            page.goto(f"{env.url}/ui/sign-in")
            page.get_by_label("API key").fill(env.keys["rec_a"])
            page.keyboard.press("Enter")
            page.wait_for_url(re.compile("/ui/inbox"))
            with page.expect_response(re.compile("/ui/inbox/bulk")) as posted:
                page.goto(attacker.url)
            assert posted.value.status == 403
        finally:
            browser.close()
    assert _pending(env) == [thread] and not env.writelog
