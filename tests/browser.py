"""Shared helpers for browser tests: serve a Flask app for real, drive Debian's Chromium.

    with live_server(app) as base_url, chromium_page() as page:
        page.goto(f"{base_url}/some/page")

`live_server` runs werkzeug's threaded server on 127.0.0.1:<free port> in a thread.
`chromium_page` opens a page in a fresh browser context (its own cookies, storage and cache)
of one Chromium per test process, launched by Playwright from /usr/bin/chromium (never a
downloaded browser) at the first page and closed when the session ends (`close_browser`):
a launch costs seconds, a context milliseconds, and contexts share nothing.
`require_browser()` skips when Chromium is missing — except under CI (CI=true), where a
missing browser is a failure, so a CI box cannot quietly stop testing the pages.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("SLOTBOT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_browser() -> None:
    """Skip (locally) or fail (under CI) when Chromium or Playwright is not available."""
    problem = None
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        problem = f"Chromium not found at {CHROMIUM}"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed"
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI requires the browser tests to run: {problem}")
    pytest.skip(problem)


@contextmanager
def live_server(app: Any) -> Iterator[str]:
    """Serve `app` on 127.0.0.1:<free port> for the block; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="live-server", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


_CHROMIUM: dict[str, Any] = {}  # "playwright", "browser": this process's, once launched


def _browser() -> Any:
    """This process's Chromium, launched at the first call (and again if it went away)."""
    browser = _CHROMIUM.get("browser")
    if browser is not None and browser.is_connected():
        return browser
    close_browser()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    _CHROMIUM["playwright"] = playwright
    _CHROMIUM["browser"] = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    return _CHROMIUM["browser"]


def close_browser() -> None:
    """Close this process's Chromium and Playwright, if launched."""
    browser, playwright = _CHROMIUM.pop("browser", None), _CHROMIUM.pop("playwright", None)
    try:
        if browser is not None and browser.is_connected():
            browser.close()
    finally:
        if playwright is not None:
            playwright.stop()


@contextmanager
def chromium_page(
    *, viewport: dict[str, int] | None = None, timeout_ms: int = 15000
) -> Iterator[Any]:
    """A Playwright page in headless Debian Chromium, in a context of its own closed after
    the block."""
    require_browser()
    context = _browser().new_context(viewport=viewport or {"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        yield page
    finally:
        context.close()
