"""The dashboard's routes page: the day's routes as an inline SVG map drawn from coordinates
and each technician's jobs in order, in the test client and in real headless Chromium (the
screenshot in docs/ is made here)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from bot.customers.portal import issue_link
from bot.field.places.demo import EXAMPLES_DIR, seed_busiest_day
from bot.field.routing import plans
from storage.db import Database
from tests.browser import chromium_page, live_server
from tests.conftest import ROOT
from tests.customers.test_portal import path_of
from tests.field_day import DAY, NOW, seed

DOCS = ROOT / "docs"
DESKTOP = {"width": 1440, "height": 1100}
TALL = {"width": 1440, "height": 1560}  # the map and the first row of technicians


def _db(app: Flask) -> Database:
    return app.extensions["slotbot.db"]


@pytest.fixture
def optimised(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The field day seeded, optimised and applied; yields the owner's routes page path."""
    monkeypatch.setattr(plans, "DEFAULT_SECONDS", 1.0)
    with time_machine.travel(NOW, tick=True):
        seed(_db(app))
        with _db(app).write() as session:
            proposal = plans.propose(session, DAY, now=NOW, actor="web:owner")
            assert plans.apply(session, proposal.plan, now=NOW, actor="owner").moved
            url = issue_link(
                session, customer_id=None, role="owner", now=NOW, ttl=timedelta(days=3)
            )
        yield path_of(url) + f"/routes/{DAY.isoformat()}"


def test_the_routes_page_draws_every_route_and_lists_each_technicians_jobs_in_order(
    client: FlaskClient, optimised: str
) -> None:
    response = client.get(optimised)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Routes for Tue, Dec 8" in html
    svg = html[html.index("<svg xmlns") : html.index("</svg>", html.index("<svg xmlns"))]
    assert svg.count("<polyline") == 3  # one per technician on the road
    assert svg.count("<circle") == 12  # one per job
    assert "tile" not in svg and "<image" not in svg  # drawn, not fetched
    for name in ("Ana Ruiz", "Ben Cole", "Cy Park"):
        assert re.search(
            rf"{name}</span></h2>\s*<p class=\"muted\">4 jobs &middot; \d+ min driving", html
        ), name
    assert "optimised Mon, Dec 7, 4:00 PM (driving 344 &rarr;" in html
    starts = re.findall(r"<li><strong>(\d{1,2}:\d\d)", html)
    assert len(starts) == 12


def test_the_day_view_links_to_its_routes_and_a_bad_date_is_not_found(
    client: FlaskClient, optimised: str
) -> None:
    base = optimised.rsplit("/routes/", 1)[0]
    day = client.get(f"{base}/day/{DAY.isoformat()}").get_data(as_text=True)
    assert f'href="{base}/routes/{DAY.isoformat()}">Routes</a>' in day
    assert client.get(f"{base}/routes/2026-13-45").status_code == 404


@pytest.mark.browser
def test_the_owner_sees_the_route_map_in_chromium(
    app: Flask, optimised: str, artifacts: Path
) -> None:
    with (
        time_machine.travel(NOW, tick=True),
        live_server(app) as base,
        chromium_page(viewport=DESKTOP) as page,
    ):
        page.goto(base + optimised)
        page.get_by_role("heading", name="Routes for Tue, Dec 8").wait_for()
        svg = page.get_by_role("img", name="Routes for Tue, Dec 8")
        box = svg.bounding_box()
        assert box is not None and box["width"] > 600 and box["height"] > 300
        assert page.locator("svg.route-map polyline").count() == 3
        assert page.locator("ol.route-stops li").count() == 12
        page.screenshot(path=str(artifacts / "routes-map.png"), full_page=True)


@pytest.fixture
def field_app(db_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app serving the field-service example, its busiest day optimised and applied."""
    from webhooks.app import create_app  # noqa: PLC0415 - as tests/conftest.py builds its app

    application = create_app(
        {
            "DATABASE_URL": db_url,
            "BUSINESS_CONFIG": str(EXAMPLES_DIR / "field-service" / "business.toml"),
            "TESTING": True,
            "SLOTBOT_SPOOL_DIR": str(tmp_path / "spool"),
        }
    )
    yield application
    application.extensions["slotbot.db"].dispose()


@pytest.mark.browser
def test_the_owner_sees_the_busiest_days_eight_routes_in_chromium(
    field_app: Flask, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plans, "DEFAULT_SECONDS", 2.0)
    db = _db(field_app)
    with time_machine.travel(NOW, tick=True):
        with db.write() as session:
            assert len(seed_busiest_day(session, DAY, now=NOW - timedelta(days=7))) == 60
        with db.write() as session:
            proposal = plans.propose(session, DAY, now=NOW, actor="web:owner")
            assert plans.apply(session, proposal.plan, now=NOW, actor="owner").moved
            url = issue_link(
                session, customer_id=None, role="owner", now=NOW, ttl=timedelta(days=3)
            )
        with live_server(field_app) as base, chromium_page(viewport=TALL) as page:
            page.goto(base + path_of(url) + f"/routes/{DAY.isoformat()}")
            page.get_by_role("heading", name="Routes for Tue, Dec 8").wait_for()
            assert page.locator("svg.route-map polyline").count() == 8
            assert page.locator("svg.route-map circle").count() == 60
            assert page.locator("ol.route-stops li").count() == 60
            if db.is_sqlite:  # the docs screenshot once, from the SQLite run
                page.screenshot(path=str(DOCS / "routes-map.png"))
            page.screenshot(path=str(artifacts / "routes-map-busiest-day.png"), full_page=True)
