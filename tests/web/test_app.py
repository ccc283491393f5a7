"""The app factory and the health endpoint."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Business, Service


def test_the_app_loads_the_demo_business_into_the_database(app):
    with app.extensions["slotbot.db"].read() as session:
        assert session.get(Business, 1).name == "Maple & Mane Salon"
        assert session.scalar(select(func.count()).select_from(Service)) >= 6


HEALTH_TOKEN = "health-token-for-tests"


def test_health_reports_a_migrated_database_to_the_token_holder(app, client):
    app.config["SLOTBOT_HEALTH_TOKEN"] = HEALTH_TOKEN
    response = client.get("/healthz", headers={"Authorization": f"Bearer {HEALTH_TOKEN}"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True and body["schema"] == "current"
    assert body["business"] == "Maple & Mane Salon"
    again = client.get("/healthz", headers={"X-Slotbot-Health-Token": HEALTH_TOKEN})
    assert again.get_json() == body


def test_health_tells_anyone_else_only_ok_or_not(app, client):
    assert client.get("/healthz").get_json() == {"ok": True}
    app.config["SLOTBOT_HEALTH_TOKEN"] = HEALTH_TOKEN
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Slotbot-Health-Token": "x"}):
        response = client.get("/healthz", headers=headers)
        assert response.status_code == 200 and response.get_json() == {"ok": True}


def test_an_unknown_path_is_a_plain_404(client):
    assert client.get("/no/such/page").status_code == 404
