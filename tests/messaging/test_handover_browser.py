"""The dashboard's hand-over view in headless Chromium: the owner reads a customer's thread,
answers from the reply box, and hands the customer back to the bot. Both backends.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import time_machine
from flask import Flask
from sqlalchemy import select

from bot.customers.portal import issue_link
from bot.messaging.handover import HANDOVER_REPLY
from storage.engagement import Handover
from storage.messaging import OutboxMessage
from storage.models import AdminAudit
from tests.browser import chromium_page, live_server
from tests.dialogue import Chat
from tests.factories import local

NOW = local("2026-11-17 11:00")
DESKTOP = {"width": 1280, "height": 900}


def test_the_owner_answers_a_hand_over_from_the_dashboard_and_closes_it(
    app: Flask, artifacts: Path
) -> None:
    db = app.extensions["slotbot.db"]
    jane = Chat(db, NOW, channel="web", sender="visitor-jane")
    jane.say("hi, I'm Jane Doe")
    jane.say("can I speak to someone about a colour correction?")
    jane.wait(minutes=2)
    jane.say("it went green after swimming")
    with db.write() as session:
        link = issue_link(session, customer_id=None, role="owner", now=NOW)
    path = "/" + link.split("/", 3)[3]
    with (
        time_machine.travel(NOW + timedelta(minutes=5), tick=True),
        live_server(app) as base,
        chromium_page(viewport=DESKTOP) as page,
    ):
        page.goto(base + path)
        page.get_by_role("link", name="Chats").click()
        page.get_by_role("heading", name="Customers talking to a person").wait_for()
        page.get_by_role("link", name="#1 Jane Doe").click()
        page.get_by_role("heading", name=re.compile("#1 Jane Doe")).wait_for()
        thread = page.get_by_test_id("thread")
        assert "colour correction" in thread.inner_text()
        assert "it went green after swimming" in thread.inner_text()
        page.get_by_label("Answer Jane Doe").fill(
            "Oh no! Come in Thursday at 2, Priya will sort it out."
        )
        page.get_by_role("button", name="Send").click()
        page.get_by_text("Sent. The customer gets it").wait_for()
        assert "Priya will sort it out" in page.get_by_test_id("thread").inner_text()
        page.screenshot(path=str(artifacts / "dashboard-handover.png"), full_page=True)
        page.get_by_role("button", name="Done: hand back to the bot").click()
        page.get_by_text("Closed: the bot answers this customer again").wait_for()
        page.screenshot(path=str(artifacts / "dashboard-handover-closed.png"), full_page=True)
    with db.read() as session:
        sent = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.purpose == HANDOVER_REPLY)
            .order_by(OutboxMessage.id)
        ).all()
        assert [(m.address, m.body["text"][:6]) for m in sent] == [
            ("visitor-jane", "Oh no!"),
            ("visitor-jane", "The te"),
        ]
        thread_row = session.scalars(select(Handover)).one()
        assert thread_row.closed_by == "owner:dashboard"
        actions = set(session.scalars(select(AdminAudit.action)))
        assert {"handover_reply", "handover_close"} <= actions
    jane.say("great, book me thursday at 2 with Priya for a colour")
    assert jane.replies  # the bot answers her again
