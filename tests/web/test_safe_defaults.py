"""Safe defaults: the sandbox and the demo owner key only on loopback, a generated owner key,
no owner key in any URL (Chromium's network log and the server's access log), the owner's
signed session cookie, and the security headers on every HTML page."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import time_machine
from flask import Flask

from bot.billing.payments.links import pay_link
from bot.config import DEFAULT_OFFLINE_PAYMENT, load_config
from bot.core.errors import SlotbotError
from bot.customers.portal import issue_link
from tests.billing.test_payments_sandbox import _invoice
from tests.browser import chromium_page, live_server
from tests.conftest import DEMO_CONFIG, ROOT
from tests.customers.test_portal import NOW, build_demo, token_of
from webhooks.app import create_app
from webhooks.exposure import Payments, decide, is_loopback

PUBLIC = "https://salon.example.com"
DEMO_KEY = "demo-owner-key"


@pytest.fixture(autouse=True)
def no_provider_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("STRIPE_SECRET_KEY", "SLOTBOT_PAYMENTS", "SLOTBOT_OWNER_KEY", "SLOTBOT_PUBLIC_URL"):
        monkeypatch.delenv(key, raising=False)


def _demo_with(tmp_path: Path, billing_line: str) -> Path:
    """The demo business.toml with one more [billing] line, written to tmp_path."""
    logo = "webhooks/static/demo-logo.svg"
    text = DEMO_CONFIG.read_text().replace(f'"{logo}"', f'"{ROOT / logo}"')
    config = tmp_path / "business.toml"
    config.write_text(text.replace("[billing]\n", f"[billing]\n{billing_line}\n"))
    return config


def _app(db_url: str, tmp_path: Path, config: Path = DEMO_CONFIG, **settings: str) -> Flask:
    return create_app(
        {
            "DATABASE_URL": db_url,
            "BUSINESS_CONFIG": str(config),
            "TESTING": True,
            "OWNER_KEY_FILE": str(tmp_path / "instance" / "owner-key"),
            **settings,
        }
    )


# ------------------------------------------------------------------ where is loopback


@pytest.mark.parametrize(
    ("public_url", "bind", "loopback"),
    [
        ("http://127.0.0.1:8000", None, True),
        ("http://127.5.6.7:8000", "0.0.0.0", True),
        ("http://localhost:8000/", None, True),
        ("http://[::1]:8000", None, True),
        (None, "127.0.0.1", True),
        (None, "::1", True),
        (None, "0.0.0.0", False),
        (None, "192.168.1.20", False),
        (PUBLIC, "127.0.0.1", False),  # behind a proxy: the public URL decides
        ("https://127.0.0.1.nip.io", None, False),
        ("https://localhost.example.com", None, False),
    ],
)
def test_loopback_is_only_this_machine(public_url, bind, loopback):
    assert is_loopback(public_url, bind) is loopback


def test_payments_are_stripe_with_a_key_the_sandbox_on_loopback_or_on_request_else_offline():
    business = load_config(DEMO_CONFIG)
    none = Path("/nonexistent/owner-key")

    def mode(env: dict[str, str], url: str | None) -> Payments:
        return decide(env, business, public_url=url, key_file=none).payments

    assert mode({}, None) is Payments.SANDBOX
    assert mode({}, "http://localhost:8000") is Payments.SANDBOX
    assert mode({}, PUBLIC) is Payments.OFFLINE
    assert mode({"SLOTBOT_PAYMENTS": "sandbox"}, PUBLIC) is Payments.SANDBOX
    assert mode({"SLOTBOT_PAYMENTS": "off"}, None) is Payments.OFFLINE
    assert mode({"STRIPE_SECRET_KEY": "sk_test_x"}, PUBLIC) is Payments.STRIPE
    with_key = decide({"STRIPE_SECRET_KEY": "sk_test_x"}, business, public_url=PUBLIC)
    assert with_key.without_stripe is Payments.OFFLINE  # if the key goes, no sandbox in public
    with pytest.raises(ValueError, match="SLOTBOT_PAYMENTS"):
        mode({"SLOTBOT_PAYMENTS": "sandbx"}, PUBLIC)


def test_the_sandbox_on_is_a_loud_warning():
    found = decide(
        {"SLOTBOT_PAYMENTS": "sandbox", "SLOTBOT_OWNER_KEY": "a-long-random-owner-key"},
        load_config(DEMO_CONFIG),
        public_url=PUBLIC,
    )
    assert found.refusal() is None
    [warning] = found.warnings()
    assert warning.startswith("WARNING: payments are in SANDBOX")


# ------------------------------------------------------------ the sandbox in public


def test_on_a_public_url_a_pay_link_says_how_to_pay_offline_and_the_sandbox_is_gone(
    db_url, tmp_path
):
    app = _app(db_url, tmp_path, SLOTBOT_PUBLIC_URL=PUBLIC)
    client = app.test_client()
    db = app.extensions["slotbot.db"]
    _invoice_id, token = _invoice(db)
    page = client.get(f"/pay/{token}")
    html = unescape(page.get_data(as_text=True))
    assert page.status_code == 200 and "TEST MODE" not in html
    assert "pay in person" in html and DEFAULT_OFFLINE_PAYMENT in html
    assert "<button" not in html  # no Pay button
    submitted = client.post(f"/pay/{token}", data={"nonce": "n" * 20})
    assert submitted.status_code == 303 and submitted.headers["Location"] == f"/pay/{token}"
    odd = client.post("/pay/%0A", data={"nonce": "n" * 20})  # a newline never reaches a header
    assert odd.status_code == 303 and odd.headers["Location"] == "/pay/%0A"
    assert client.get("/sandbox/checkout/cs_sandbox_anything").status_code == 404
    assert client.post("/sandbox/checkout/cs_sandbox_x", data={"action": "pay"}).status_code == 404
    db.dispose()


def test_the_business_words_its_offline_payment_text(db_url, tmp_path):
    text = "Pay at the front desk, or transfer to IBAN GB00 TEST 1234."
    config = _demo_with(tmp_path, f'offline_payment = "{text}"')
    app = _app(db_url, tmp_path, config, SLOTBOT_PUBLIC_URL=PUBLIC)
    db = app.extensions["slotbot.db"]
    _invoice_id, token = _invoice(db)
    assert text in app.test_client().get(f"/pay/{token}").get_data(as_text=True)
    db.dispose()


def test_an_over_long_offline_payment_text_is_refused_by_config_check(tmp_path):
    config = _demo_with(tmp_path, f'offline_payment = "{"x" * 501}"')
    with pytest.raises(SlotbotError, match=r"billing\.offline_payment.*500"):
        load_config(config)


# -------------------------------------------------------------------- the owner key


def test_the_demo_key_is_refused_on_a_public_url_in_one_line(tmp_path):
    env = {
        **os.environ,
        "SLOTBOT_PUBLIC_URL": PUBLIC,
        "SLOTBOT_OWNER_KEY_FILE": str(tmp_path / "owner-key"),
        "SLOTBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'public.db'}",
    }
    env.pop("SLOTBOT_OWNER_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "webhooks.cli", "--config", str(DEMO_CONFIG), "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("slotbot: error: the owner key 'demo-owner-key' is a published demo key")


@pytest.mark.parametrize(
    "url",
    [
        "salon.example.com",
        "ftp://salon.example.com",
        "https://",
        "https://salon.example.com/?x=1",
        "https://salon.example.com:99999",
    ],
)
def test_a_public_url_that_cannot_be_one_stops_the_server_in_one_line(url, tmp_path):
    env = {
        **os.environ,
        "SLOTBOT_PUBLIC_URL": url,
        "SLOTBOT_OWNER_KEY": "a-long-random-owner-key-for-this-test",
        "SLOTBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'public.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "webhooks.cli", "--config", str(DEMO_CONFIG), "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("slotbot: error: SLOTBOT_PUBLIC_URL must be")
    assert not (tmp_path / "public.db").exists()  # refused before anything was touched


def test_good_public_urls_pass_the_start_check():
    from webhooks.exposure import public_url_problem

    for url in (None, "", "https://salon.example.com", "http://127.0.0.1:8000", "https://a.b/bot"):
        assert public_url_problem(url) is None


def test_an_app_outside_tests_refuses_the_demo_key_on_a_public_url(db_url, tmp_path):
    with pytest.raises(SlotbotError, match="demo key"):
        create_app(
            {
                "DATABASE_URL": db_url,
                "BUSINESS_CONFIG": str(DEMO_CONFIG),
                "SLOTBOT_PUBLIC_URL": PUBLIC,
                "OWNER_KEY_FILE": str(tmp_path / "owner-key"),
            }
        )


def test_an_app_served_without_a_known_address_or_public_url_is_not_taken_for_loopback(
    db_url, tmp_path
):
    # `gunicorn "webhooks.app:create_app()" -b 0.0.0.0:8000`: nothing says it is local.
    with pytest.raises(SlotbotError, match="demo key"):
        create_app(
            {
                "DATABASE_URL": db_url,
                "BUSINESS_CONFIG": str(DEMO_CONFIG),
                "OWNER_KEY_FILE": str(tmp_path / "owner-key"),
            }
        )
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "BUSINESS_CONFIG": str(DEMO_CONFIG),
            "SLOTBOT_OWNER_KEY": "a-long-random-owner-key-here",
        }
    )
    try:
        assert app.extensions["slotbot.exposure"].payments is Payments.OFFLINE  # no sandbox
    finally:
        app.extensions["slotbot.db"].dispose()


def test_an_owner_key_from_the_environment_replaces_the_demo_key(db_url, tmp_path):
    app = _app(db_url, tmp_path, SLOTBOT_PUBLIC_URL=PUBLIC, SLOTBOT_OWNER_KEY="s3cret-owner-key-1")
    client = app.test_client()
    assert app.extensions["slotbot.exposure"].refusal() is None
    assert client.post("/api/chat", json={"owner_key": DEMO_KEY, "text": "hi"}).status_code == 403
    ok = client.post("/api/chat", json={"owner_key": "s3cret-owner-key-1", "text": "help"})
    assert ok.status_code == 200 and "block" in json.dumps(ok.get_json()).lower()
    app.extensions["slotbot.db"].dispose()


def test_config_check_warns_about_the_demo_key():
    result = subprocess.run(
        [sys.executable, "-m", "webhooks.cli", "config", "check", str(DEMO_CONFIG)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and "OK" in result.stdout
    assert "slotbot: warning: business.owner_key is the demo key" in result.stderr


# ------------------------------------------------------------ the owner's web session


def test_the_owner_signs_in_once_with_a_form_and_keeps_a_strict_http_only_cookie(client):
    assert client.post("/api/chat", json={"as": "owner", "text": "today"}).status_code == 403
    wrong = client.post("/owner", data={"key": "not-the-key"})
    assert wrong.status_code == 403 and "Set-Cookie" not in wrong.headers
    signed = client.post("/owner", data={"key": DEMO_KEY})
    assert signed.status_code == 303 and signed.headers["Location"] == "/"
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and DEMO_KEY not in cookie
    assert 'data-owner="1"' in client.get("/").get_data(as_text=True)
    answer = client.post(
        "/api/chat", json={"as": "owner", "session": "owner-page-1", "text": "help"}
    )
    assert answer.status_code == 200 and "block" in json.dumps(answer.get_json()).lower()
    assert client.get("/api/chat/messages?as=owner&after=0").status_code == 200
    client.post("/owner/sign-out")
    assert client.post("/api/chat", json={"as": "owner", "text": "today"}).status_code == 403


def test_the_key_in_a_header_or_the_json_body_signs_in_but_never_from_a_url(client):
    header = {"X-Slotbot-Owner-Key": DEMO_KEY}
    assert client.post("/api/chat", json={"text": "hi"}, headers=header).status_code == 200
    assert client.get("/api/chat/messages?after=0", headers=header).status_code == 200
    wrong = {"X-Slotbot-Owner-Key": "wrong-key-123"}
    assert client.post("/api/chat", json={"text": "hi"}, headers=wrong).status_code == 403
    hostile = '{"owner_key": "\\ud800", "text": "hi"}'  # a lone surrogate: wrong, not a 500
    assert (
        client.post("/api/chat", data=hostile, content_type="application/json").status_code == 403
    )
    refused = client.get(f"/api/chat/messages?owner_key={DEMO_KEY}&after=0")
    assert refused.status_code == 400
    old_link = client.get(f"/?owner={DEMO_KEY}")
    assert old_link.status_code == 303 and old_link.headers["Location"] == "/owner?moved=1"
    assert "Set-Cookie" not in old_link.headers


# ------------------------------------------------------------------------- headers


def _html_pages(app: Flask) -> Iterator[str]:
    """A real URL for every GET route of the app (real links for the token routes)."""
    db = app.extensions["slotbot.db"]
    demo = build_demo(db)
    with db.write() as session:
        pay_token = pay_link(session, demo.jane_invoice, now=NOW).token
        owner = token_of(
            issue_link(session, customer_id=None, role="owner", now=NOW, ttl=timedelta(days=30))
        )
    values = {
        "day": "2026-11-17",
        "customer_id": str(demo.jane),
        "invoice_id": str(demo.jane_invoice),
        "appointment_id": str(demo.jane_upcoming),
        "session_id": "cs_sandbox_none",
        "filename": "site.css",
    }
    tokens = {"portal": demo.jane_token, "dashboard": owner, "payments": pay_token}
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()):
            continue
        blueprint = rule.endpoint.partition(".")[0]
        args = {name: values.get(name, tokens.get(blueprint, "x")) for name in rule.arguments}
        path = rule.rule
        for name, value in args.items():
            path = re.sub(rf"<(?:[a-z]+:)?{name}>", value, path)
        yield path


def test_every_html_page_carries_the_security_headers(app):
    client = app.test_client()
    pages = 0
    with time_machine.travel(NOW, tick=False):
        for path in _html_pages(app):
            response = client.get(path)
            assert response.status_code < 500, path
            assert response.headers["X-Content-Type-Options"] == "nosniff", path
            assert response.headers["X-Frame-Options"] == "DENY", path
            if response.mimetype != "text/html":
                continue
            policy = response.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy, path
            assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0], path
            assert response.headers["Referrer-Policy"], path
            # Every inline <script> and <style> runs under the policy: it carries the nonce.
            for tag in re.findall(r"<(?:script|style)\b[^>]*>", response.get_data(as_text=True)):
                nonce = re.search(r'nonce="([^"]+)"', tag)
                assert "src=" in tag or (nonce and f"'nonce-{nonce[1]}'" in policy), (path, tag)
            pages += response.status_code == 200
    assert pages >= 15  # web chat, sign-in, pay pages, portal and dashboard pages


# ------------------------------------------ a real server: generated key, no key in URLs


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(tmp_path: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SLOTBOT_OWNER_KEY_FILE": str(tmp_path / "instance" / "owner-key"),
        "SLOTBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "SLOTBOT_CONFIG": str(DEMO_CONFIG),
    }
    env.pop("SLOTBOT_OWNER_KEY", None)
    env.pop("SLOTBOT_PUBLIC_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "webhooks.cli", "serve", "--workers", "1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(150):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError(f"server did not start:\n{log.read_text()}")


def _post(port: int, body: dict, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/chat",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.slow
@pytest.mark.browser
def test_make_run_generates_a_key_that_signs_in_and_no_key_reaches_a_url(tmp_path):
    port, log = _free_port(), tmp_path / "serve.log"
    server = _serve(tmp_path, port, log)
    requested: list[str] = []
    try:
        output = log.read_text()
        found = re.search(r"owner key: (\S+)  \(generated now", output)
        assert found, output
        key = found.group(1)
        assert (tmp_path / "instance" / "owner-key").read_text().strip() == key
        assert "WARNING: payments are in SANDBOX" in output
        assert "WARNING: the owner key 'demo-owner-key' is a demo key" in output
        # The compatibility contract: on loopback the demo key still works, beside the new one.
        assert _post(port, {"owner_key": DEMO_KEY, "text": "hi"}) == 200
        assert _post(port, {"owner_key": key, "text": "hi"}) == 200
        assert _post(port, {"text": "hi"}, {"X-Slotbot-Owner-Key": key}) == 200
        with chromium_page() as page:
            page.on("request", lambda r: requested.append(r.url))
            page.goto(f"http://127.0.0.1:{port}/owner")
            page.get_by_label("Owner key").fill(key)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Signed in as the owner").wait_for()
            page.get_by_label("Your message").fill("today")
            page.get_by_role("button", name="Send").click()
            page.get_by_text("Nothing booked for today").first.wait_for()
            page.reload()  # the session outlives the page; the poll runs again
            page.get_by_text("Signed in as the owner").wait_for()
            page.wait_for_timeout(300)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    assert any("/api/chat" in url for url in requested), requested
    assert any("/api/chat/messages" in url for url in requested), requested
    for url in requested:
        assert key not in url and DEMO_KEY not in url and "owner_key" not in url, url
    access = [line for line in log.read_text().splitlines() if '"GET ' in line or '"POST ' in line]
    assert any("/api/chat/messages" in line for line in access), access
    for line in access:
        assert key not in line and DEMO_KEY not in line, line
    again = _serve(tmp_path, port, tmp_path / "again.log")  # the key is kept, not printed again
    os.killpg(again.pid, signal.SIGTERM)
    again.wait(timeout=20)
    assert "owner key:" not in (tmp_path / "again.log").read_text()
    assert (tmp_path / "instance" / "owner-key").read_text().strip() == key


def test_the_in_process_page_as_a_customer_requests_no_owner_key_either(app):
    """The customer page in Chromium, with werkzeug's access log captured."""
    import logging

    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler, werkzeug = Keep(), logging.getLogger("werkzeug")
    werkzeug.addHandler(handler)
    level = werkzeug.level
    werkzeug.setLevel(logging.INFO)
    requested: list[str] = []
    try:
        with live_server(app) as base, chromium_page() as page:
            page.on("request", lambda r: requested.append(r.url))
            page.goto(f"{base}/?owner={DEMO_KEY}")  # an old bookmark: sent to the sign-in form
            page.get_by_label("Owner key").wait_for()
            assert page.url == f"{base}/owner?moved=1"
            page.get_by_label("Owner key").fill(DEMO_KEY)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text("Signed in as the owner").wait_for()
            page.get_by_text("Say help for the commands").first.wait_for()
    finally:
        werkzeug.removeHandler(handler)
        werkzeug.setLevel(level)
    after_sign_in = requested[requested.index(f"{base}/owner?moved=1") + 1 :]
    assert any("/api/chat" in url for url in after_sign_in), requested
    for url in after_sign_in:
        assert DEMO_KEY not in url and "owner_key" not in url, url
    logged = [line for line in lines if "HTTP/1.1" in line]
    assert any("/api/chat/messages" in line for line in logged), logged
    # Only the old bookmark itself carries the key (it was typed in; the server ignored it).
    assert [line for line in logged if DEMO_KEY in line] == [
        line for line in logged if "GET /?owner=" in line
    ]
