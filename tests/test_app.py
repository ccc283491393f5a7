"""The app factory and the health endpoint."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import Business, Service


def test_the_app_loads_the_demo_business_into_the_database(app):
    with app.extensions["slotbot.db"].read() as session:
        assert session.get(Business, 1).name == "Maple & Mane Salon"
        assert session.scalar(select(func.count()).select_from(Service)) >= 6


def test_health_reports_a_migrated_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True and body["schema"] == "current"
    assert body["business"] == "Maple & Mane Salon"


def test_an_unknown_path_is_a_plain_404(client):
    assert client.get("/no/such/page").status_code == 404
