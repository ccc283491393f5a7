"""Recurring series from the owner chat: planned, shown with what clashes, booked on a yes;
cancelled or moved from a date; moved to another weekday."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.config import apply_config, load_config
from bot.messaging.messages import Reply
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import CANCELLED, AdminAudit, Appointment, RecurringSeries
from tests.admin.test_admin import NOW, OWNER_CHANNELS, booked, customer
from tests.conftest import DEMO_CONFIG
from tests.dialogue import Chat

ZONE = ZoneInfo("America/New_York")


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


@pytest.fixture(params=OWNER_CHANNELS, ids=["web", "telegram"])
def owner(request, salon) -> Chat:
    channel, sender = request.param
    return Chat(salon, NOW, channel=channel, sender=sender)


def series_appointments(db: Database, status: str | None = None) -> list[Appointment]:
    with db.read() as session:
        query = select(Appointment).where(Appointment.series_id.is_not(None))
        if status:
            query = query.where(Appointment.status == status)
        rows = list(session.scalars(query.order_by(Appointment.starts_at)))
        for row in rows:
            _ = row.staff.key, row.service.key, row.customer.name
        return rows


def texts_to(db: Database, address: str) -> list[str]:
    with db.read() as session:
        rows = session.scalars(
            select(OutboxMessage).where(OutboxMessage.address == address).order_by(OutboxMessage.id)
        )
        return [Reply.from_json(m.body).text for m in rows]


def local_times(rows: list[Appointment]) -> list[str]:
    return [r.starts_at.astimezone(ZONE).strftime("%a %m-%d %H:%M") for r in rows]


def ana(db: Database) -> int:
    return customer(db, "Ana Lee", "+12125550401")


@pytest.mark.parametrize(
    "request_text",
    [
        "book Ana Lee haircut with Sam every other Friday at 11 for 3 months",
        "/book ana lee, haircut w/ sam, every second friday at 11am for three months",
        "Ana Lee haircut with Sam fortnightly on fridays at 11 for 3 months",
    ],
)
def test_an_owner_books_a_fortnightly_series_and_sees_the_closed_day_moved(
    owner, salon, request_text
):
    ana(salon)
    owner.say(request_text)
    owner.expect(
        "Series for Ana Lee: Haircut with Sam",
        "7 dates",
        "Fri, Nov 20, 11:00 AM",
        "Fri, Jan 1, 11:00 AM - closed (New Year's Day): Sat, Jan 2, 11:00 AM instead",
        "Book 7 (1 at another time)?",
    )
    assert series_appointments(salon) == []
    owner.say("yes")
    owner.expect("Booked 7 haircut appointments with Sam")
    rows = series_appointments(salon)
    assert local_times(rows) == [
        "Fri 11-20 11:00",
        "Fri 12-04 11:00",
        "Fri 12-18 11:00",
        "Sat 01-02 11:00",
        "Fri 01-15 11:00",
        "Fri 01-29 11:00",
        "Fri 02-12 11:00",
    ]
    assert {(r.staff.key, r.service.key, r.customer.name) for r in rows} == {
        ("sam", "haircut", "Ana Lee")
    }
    assert len({r.series_id for r in rows}) == 1
    told = [t for t in texts_to(salon, "+12125550401") if t.startswith("You're booked")]
    assert len(told) == 1 and "repeats as arranged" in told[0]


@pytest.mark.parametrize(
    "request_text",
    [
        "weekly colour for Bob on tuesdays at 2, 6 times",
        "book Bob Stone colour every tuesday at 2pm 6 times",
        "colour for bob stone each tuesday at 14:00, 6 times",
    ],
)
def test_a_series_without_a_staff_member_goes_to_whoever_is_free(owner, salon, request_text):
    customer(salon, "Bob Stone", "+12125550402")
    owner.say(request_text)
    owner.expect("Series for Bob Stone: Colour with", "6 dates", "Tue, Nov 17, 2:00 PM", "Book 6?")
    owner.say("yes")
    rows = series_appointments(salon)
    assert len(rows) == 6 and {r.service.key for r in rows} == {"colour"}
    assert len({r.staff.key for r in rows}) == 1


@pytest.mark.parametrize(
    "request_text",
    ["Ana every monday 10am for 8 weeks", "book ana every monday at 10, 8 times"],
)
def test_a_series_on_a_closed_weekday_says_so_and_offers_the_day_after(owner, salon, request_text):
    who = ana(salon)
    booked(salon, who, "2026-11-18 10:00")  # her last visit: a haircut with Sam
    owner.say(request_text)
    owner.expect("Haircut with Sam", "8 dates", "closed (Mondays): Tue, Nov 24, 10:00 AM instead")
    owner.expect("Mon, Dec 28, 10:00 AM - closed (Mondays): Thu, Dec 24, 11:00 AM instead")
    owner.expect_not("Fri, Nov 20")
    owner.say("yes")
    rows = series_appointments(salon)
    assert len(rows) == 8
    # Sam is away from Dec 26 to 31: that week's visit is the Thursday before
    assert {r.starts_at.astimezone(ZONE).strftime("%a %H:%M") for r in rows} == {
        "Tue 10:00",
        "Thu 11:00",
    }


def test_saying_no_books_nothing(owner, salon):
    ana(salon)
    owner.say("book Ana Lee haircut with Sam every friday at 11, 4 times")
    owner.expect("Book 4?")
    owner.say("no")
    owner.expect("nothing changed")
    assert series_appointments(salon) == []


def _ana_series(owner: Chat, salon: Database) -> list[Appointment]:
    ana(salon)
    owner.say("book Ana Lee haircut with Sam every friday at 11, 6 times")
    owner.say("yes")
    owner.expect("Booked 6")
    return series_appointments(salon)


@pytest.mark.parametrize(
    "command",
    ["cancel Ana's series from next month", "cancel ana lee's standing booking from dec 1"],
)
def test_cancelling_a_series_from_a_date_keeps_the_dates_before_it(owner, salon, command):
    _ana_series(owner, salon)
    owner.say(command)
    owner.expect("Cancel 4 haircut appointments of Ana Lee's series", "from Fri, Dec 4")
    owner.say("yes")
    owner.expect("Cancelled 4 appointments")
    rows = series_appointments(salon)
    assert [r.status for r in rows] == ["booked", "booked"] + [CANCELLED] * 4
    with salon.read() as session:
        [series] = session.scalars(select(RecurringSeries)).all()
        assert series.active is False
    assert sum(t.startswith("Cancelled") for t in texts_to(salon, "+12125550401")) == 4


def test_cancelling_one_occurrence_and_all_following_by_number(owner, salon):
    rows = _ana_series(owner, salon)
    owner.say(f"cancel #{rows[3].id} and all following because she is moving away")
    owner.expect("Cancel 3 haircut appointments")
    owner.say("yes")
    assert [r.status for r in series_appointments(salon)] == ["booked"] * 3 + [CANCELLED] * 3
    assert any("Reason: she is moving away" in t for t in texts_to(salon, "+12125550401"))
    with salon.read() as session:
        actions = list(session.scalars(select(AdminAudit.action)))
    assert "series_cancel" in actions


def test_one_occurrence_moves_alone(owner, salon):
    rows = _ana_series(owner, salon)
    before = local_times(rows)
    owner.say(f"move #{rows[1].id} to saturday nov 28 at 10")
    owner.expect("Move", "Sat, Nov 28, 10:00 AM")
    owner.say("yes")
    after = local_times(series_appointments(salon))
    assert "Sat 11-28 10:00" in after
    assert sorted(after) == sorted([*before[:1], "Sat 11-28 10:00", *before[2:]])


@pytest.mark.parametrize(
    ("command", "moving"),
    [
        ("move all of Ana's fridays to 1", 4),
        ("move Ana's series to 1pm", 5),  # the Thursday before Christmas too
        ("shift all of ana's fridays to 13:00", 4),
    ],
)
def test_moving_all_following_to_another_time_checks_each_date(owner, salon, command, moving):
    _ana_series(owner, salon)
    booked(salon, customer(salon, "Cara Diaz"), "2026-12-04 13:00")  # Sam is busy then
    owner.say(command)
    owner.expect(
        f"Move {moving} of Ana Lee's haircut appointments",
        "Fri, Dec 4, 11:00 AM → Fri, Dec 4, 1:00 PM - taken: stays",
    )
    owner.say("yes")
    owner.expect(f"Moved {moving} appointments")
    times = local_times(series_appointments(salon))
    assert "Fri 12-04 11:00" in times
    assert sum(t.endswith("13:00") for t in times) == moving
    moved = [t for t in texts_to(salon, "+12125550401") if "1:00 PM" in t]
    assert moved, "the customer is told of the new times"


@pytest.mark.parametrize(
    "command", ["move Ana's series to thursdays", "change ana's series to thursday"]
)
def test_changing_the_weekday_of_a_series(owner, salon, command):
    _ana_series(owner, salon)
    owner.say(command)
    owner.expect(
        "Fri, Nov 20, 11:00 AM → Thu, Nov 19, 11:00 AM",
        "Fri, Nov 27, 11:00 AM → Thu, Nov 26, 11:00 AM - closed (Thanksgiving): stays",
    )
    owner.say("yes")
    owner.expect("Moved 4 appointments")
    times = local_times(series_appointments(salon))
    assert [t[:3] for t in times] == ["Thu", "Fri", "Thu", "Thu", "Thu", "Thu"]
    with salon.read() as session:
        assert "BYDAY=TH" in session.scalars(select(RecurringSeries.rule)).one()


def test_staff_cannot_book_a_series(salon):
    staff = Chat(salon, NOW, channel="sms", sender="+12125550101")
    ana(salon)
    staff.say("book Ana Lee haircut with Sam every friday at 11, 4 times")
    assert series_appointments(salon) == []


def test_two_customers_of_that_name_are_asked_about_first(owner, salon):
    customer(salon, "Ana Lee", "+12125550401")
    customer(salon, "Ana Lopez", "+12125550409")
    owner.say("book Ana haircut with Sam every friday at 11, 4 times")
    owner.expect("Which Ana: Ana Lee", "Ana Lopez")
    assert series_appointments(salon) == []
    owner.say("book Ana Lopez haircut with Sam every friday at 11, 4 times")
    owner.expect("Series for Ana Lopez")


def test_one_occurrence_is_cancelled_alone(owner, salon):
    rows = _ana_series(owner, salon)
    owner.say(f"cancel #{rows[2].id} because Sam is on a course")
    owner.expect("Cancel", 'reason: "Sam is on a course"')
    owner.say("yes")
    statuses = [r.status for r in series_appointments(salon)]
    assert statuses == ["booked", "booked", CANCELLED, "booked", "booked", "booked"]
    with salon.read() as session:
        assert session.scalars(select(RecurringSeries.active)).one() is True
