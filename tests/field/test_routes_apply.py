"""An owner optimises a field day by chat, applies it, and undoes it; the database and the
outbox show what happened, and the checker judges the schedule read back from the database."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.field.routing import plans
from bot.field.routing.check import check
from bot.field.routing.day import as_booked, load_day
from bot.field.routing.model import driving
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import AdminAudit, Appointment, AppointmentEvent, RoutePlan, Staff
from tests.dialogue import Chat
from tests.field_day import DAY, NOW, ZONE, local, seed


@pytest.fixture(autouse=True)
def quick_solver(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plans, "DEFAULT_SECONDS", 1.0)


def owner(db: Database, now=NOW) -> Chat:
    return Chat(db, now, channel="web", sender="owner")


def snapshot(db: Database) -> dict[int, tuple]:
    with db.read() as session:
        return {
            a.id: (
                a.staff_id,
                a.starts_at,
                a.ends_at,
                a.block_start,
                a.block_end,
                a.window_start,
                a.window_end,
            )
            for a in session.scalars(select(Appointment))
        }


def staff_key(db: Database, appointment_id: int) -> str:
    with db.read() as session:
        job = session.get(Appointment, appointment_id)
        return session.get(Staff, job.staff_id).key


@pytest.mark.parametrize(
    "phrase",
    [
        "optimise tuesday",
        "optimize routes for tuesday",
        "plan tomorrow's routes",
        "Optimise Tue Dec 8",
    ],
)
def test_an_owner_asks_for_a_day_of_routes_and_sees_each_technicians_order(
    db: Database, phrase: str
) -> None:
    seed(db)
    chat = owner(db)
    chat.say(phrase)
    chat.expect(
        "Routes for Tue, Dec 8",
        "Ana:",
        "Ben:",
        "Cy:",
        "min driving (was",
        "Changing hands",
        "Apply these routes?",
    )
    with db.read() as session:
        plan = session.scalars(select(RoutePlan)).one()
    assert (
        plan.status == "proposed" and plan.summary["minutes_after"] < plan.summary["minutes_before"]
    )


def test_saying_no_to_a_proposal_changes_nothing(db: Database) -> None:
    seed(db)
    before = snapshot(db)
    chat = owner(db)
    chat.say("optimise tuesday")
    chat.say("no")
    chat.expect("nothing changed")
    assert snapshot(db) == before


@pytest.mark.parametrize("agree", ["yes", "apply", "Apply the routes"])
def test_applying_reassigns_and_retimes_the_jobs_and_the_database_schedule_keeps_every_rule(
    db: Database, agree: str
) -> None:
    seed(db)
    with db.read() as session:
        day = load_day(session, DAY, now=NOW)
        km_before = driving(day.problem, as_booked(session, day))
    chat = owner(db)
    chat.say("optimise tuesday")
    chat.say(agree)
    chat.expect("Applied:", "jobs moved", "undo")
    with db.read() as session:
        applied = as_booked(session, day)  # read back from the database
        assert check(day.problem, applied) == []
        assert driving(day.problem, applied) <= 0.75 * km_before
        plan = session.scalars(select(RoutePlan)).one()
        assert plan.status == "applied" and plan.applied_at == NOW
        events = session.scalars(
            select(AppointmentEvent).where(AppointmentEvent.kind == "rescheduled")
        ).all()
        assert len(events) == len(plan.after)
        actions = session.scalars(select(AdminAudit.action).order_by(AdminAudit.id)).all()
        assert actions == ["routes_optimise", "routes_apply"]


def test_a_job_whose_customer_asked_for_a_technician_stays_with_them(db: Database) -> None:
    ids = seed(db, pinned=(0, 4))  # booked crosswise, and pinned there
    pinned_to = {i: staff_key(db, ids[i]) for i in (0, 4)}
    chat = owner(db)
    chat.say("optimise tuesday")
    chat.say("yes")
    assert {i: staff_key(db, ids[i]) for i in (0, 4)} == pinned_to
    with db.read() as session:
        day = load_day(session, DAY, now=NOW)
        assert check(day.problem, as_booked(session, day)) == []


def test_the_customer_whose_arrival_window_moves_is_told_and_no_one_else(db: Database) -> None:
    ids = seed(db, pinned=(0,))  # near Ana, but Ben's (the customer asked for him), 8:00-8:15
    with db.write() as session:
        job = session.get(Appointment, ids[0])
        assert job.starts_at == local(DAY, job.starts_at.astimezone(ZONE).time().replace(hour=8))
        job.window_end = job.window_start + timedelta(minutes=15)
    chat = owner(db)
    chat.say("optimise tuesday")
    chat.expect("1 customer would get a new arrival window")
    chat.say("apply")
    chat.expect("1 customer told")
    with db.read() as session:
        notices = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "change_notice")
        ).all()
        assert len(notices) == 1
        late = session.get(Appointment, notices[0].ref_id)
        assert late.id == ids[0] and notices[0].address == late.customer.phone
        text = notices[0].body["text"]
        assert re.fullmatch(
            r"Changed: Test Home Services will now arrive for your Boiler service on Tue, Dec 8, "
            r"between \d{1,2}:\d\d and \d{1,2}:\d\d AM \(was Tue, Dec 8, between 8 and 8:15 AM\)\.",
            text,
        ), text
        assert late.window_start <= late.starts_at < late.window_end
        assert late.window_end - late.window_start == timedelta(minutes=15)


def test_undo_puts_every_job_back_as_it_was_booked(db: Database) -> None:
    seed(db)
    before = snapshot(db)
    chat = owner(db)
    chat.say("optimise tuesday")
    chat.say("yes")
    assert snapshot(db) != before
    chat.wait(hours=2)
    chat.say("undo")
    chat.expect("Undone:", "back as booked")
    assert snapshot(db) == before
    with db.read() as session:
        assert session.scalars(select(RoutePlan.status)).one() == "undone"
        assert (
            session.scalars(select(AdminAudit.action).order_by(AdminAudit.id)).all()[-1]
            == "routes_undo"
        )
    chat.say("undo")
    chat.expect("no applied route plan")


def test_undo_is_refused_the_next_day(db: Database) -> None:
    seed(db)
    chat = owner(db)
    chat.say("optimise tuesday")
    chat.say("yes")
    applied = snapshot(db)
    chat.wait(days=1)
    chat.say("undo the routes")
    chat.expect("only be undone on the day it was applied")
    assert snapshot(db) == applied


def test_undo_is_refused_when_a_job_was_changed_after_applying(db: Database) -> None:
    ids = seed(db)
    chat = owner(db)
    chat.say("optimise tuesday")
    chat.say("yes")
    with db.write() as session:
        moved = session.scalars(select(RoutePlan)).one().after[0]["id"]
        job = session.get(Appointment, moved)
        job.notes, job.window_end = "customer called", job.window_end + timedelta(minutes=30)
    applied = snapshot(db)
    chat.say("undo")
    chat.expect("changed after the plan was applied", f"#{moved}")
    assert snapshot(db) == applied and moved in ids


def test_a_stale_proposal_is_not_applied_over_a_changed_day(db: Database) -> None:
    ids = seed(db)
    chat = owner(db)
    chat.say("optimise tuesday")
    with db.write() as session:
        plan = session.scalars(select(RoutePlan)).one()
        job = session.get(Appointment, plan.before[0]["id"])
        job.status = "cancelled"
    changed = snapshot(db)
    chat.say("yes")
    chat.expect("optimise the day again")
    assert snapshot(db) == changed and len(ids) == 12


def test_a_day_with_no_field_jobs_says_so(db: Database) -> None:
    seed(db)
    chat = owner(db)
    chat.say("optimise friday")
    chat.expect("No on-site jobs to route on Fri, Dec 11")
    chat.say("apply")
    chat.expect("No route plan is waiting")


def test_an_owner_by_sms_gives_the_pin_before_routes_are_proposed_and_applied(db: Database) -> None:
    seed(db, business='owners = ["web:owner", "sms:+13125550199"]\nowner_pin = "4821"')
    before = snapshot(db)
    chat = Chat(db, NOW, channel="sms", sender="+13125550199")
    chat.say("optimise tuesday")
    chat.expect("Reply with your owner PIN")
    chat.expect_not("Routes for")
    chat.say("4821")
    chat.expect("Routes for Tue, Dec 8", "Apply these routes?")
    assert snapshot(db) == before
    chat.say("yes")
    chat.expect("Applied:")
    assert snapshot(db) != before
