"""Appointment messages: confirmations and change notices (with .ics), reminders with their
C / R / X question, quiet hours, downtime, unconfirmed alerts and automatic no-shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select, update

from bot.config.context import business_context
from bot.engagement.reminders import (
    confirm_appointment,
    due_offset,
    flag_unconfirmed,
    mark_no_shows,
    queue_reminders,
    scan_reminders,
)
from bot.messaging.notify import customer_address, defer_for_quiet_hours
from bot.messaging.outbox import dispatch_due
from bot.messaging.senders import build_senders
from bot.scheduling.booking import (
    Booked,
    Changed,
    Refused,
    book,
    cancel,
    create_series,
    reschedule,
    set_status,
)
from storage.db import Database
from storage.messaging import CANCELLED, PENDING, SENT, OutboxMessage
from storage.models import (
    CONFIRMED,
    IN_PROGRESS,
    NO_SHOW,
    Appointment,
    AwaitingReply,
    CustomerIdentity,
)
from tests.factories import add_customer, local, service_id, setup_business, staff_id
from tests.fakes.twilio_api import FakeTwilio, make_fake_twilio, twilio_env
from tests.outbox_worker import OWNER, SAM_PHONE, add_reachable_customer, messaging_salon_toml

PHONE = "+15551230001"
BOOKED_AT = local("2026-11-16 07:00")  # Monday morning
START = local("2026-11-17 10:00")  # Tuesday 10:00 New York = 15:00 UTC


@pytest.fixture
def salon(db: Database) -> Database:
    setup_business(db, messaging_salon_toml())
    return db


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with make_fake_twilio() as server:
        yield server


def _book(
    db: Database, customer: int, start: datetime = START, *, now=BOOKED_AT, **kw
) -> Appointment:
    with db.write() as session:
        outcome = book(
            session,
            customer_id=customer,
            service_id=service_id(session, "cut"),
            start=start,
            staff_id=staff_id(session, "sam"),
            now=now,
            **kw,
        )
        assert isinstance(outcome, Booked), outcome
        return outcome.appointment


def outbox(db: Database, **where) -> list[OutboxMessage]:
    with db.read() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.scalars(query))


def calendar(message: OutboxMessage) -> Calendar:
    [attachment] = message.body["attachments"]
    assert attachment["content_type"] == "text/calendar"
    from bot.messaging.messages import Attachment

    return Calendar.from_ical(Attachment.from_json(attachment).data)


# ------------------------------------------------------------ confirmations and notices


def test_a_booking_confirms_to_the_customer_with_a_calendar_invitation(salon):
    customer = add_reachable_customer(salon, phone=PHONE)
    appointment = _book(salon, customer)
    [confirmation] = outbox(salon, purpose="confirmation")
    assert (confirmation.channel, confirmation.address) == ("sms", PHONE)
    assert (
        confirmation.body["text"]
        == "You're booked: Haircut with Sam, Tue, Nov 17, 10:00 AM at Test Salon."
    )
    assert confirmation.send_at == BOOKED_AT  # transactional: quiet hours do not apply
    ics = calendar(confirmation)
    [event] = ics.walk("VEVENT")
    assert str(ics["METHOD"]) == "REQUEST"
    assert str(event["UID"]) == f"appointment-{appointment.id}@salon.example"
    assert int(event["SEQUENCE"]) == 0
    assert event["DTSTART"].to_ical() == b"20261117T150000Z"
    assert str(event["SUMMARY"]) == "Haircut with Sam — Test Salon"
    assert str(event["LOCATION"]) == "1 Main St, New York"


def test_the_owners_and_the_staff_member_hear_of_a_customers_booking(salon):
    _book(salon, add_reachable_customer(salon, phone=PHONE))
    [owner] = outbox(salon, purpose="owner_notice")
    [staff] = outbox(salon, purpose="staff_notice")
    assert (owner.address, staff.address) == (OWNER, SAM_PHONE)
    assert owner.body["text"] == "New booking: Jane Doe, Haircut with Sam, Tue, Nov 17, 10:00 AM."
    assert staff.body["text"] == "New booking for you: Jane Doe, Haircut, Tue, Nov 17, 10:00 AM."


def test_an_owner_is_not_told_of_a_booking_they_made_themselves(salon):
    _book(salon, add_reachable_customer(salon, phone=PHONE), actor="owner")
    assert outbox(salon, purpose="owner_notice") == []
    assert len(outbox(salon, purpose="confirmation")) == 1
    assert len(outbox(salon, purpose="staff_notice")) == 1


def test_a_reschedule_updates_the_same_calendar_entry_and_tells_both_sides(salon):
    appointment = _book(salon, add_reachable_customer(salon, phone=PHONE))
    with salon.write() as session:
        moved = reschedule(
            session, appointment.id, new_start=local("2026-11-18 11:00"), now=BOOKED_AT
        )
        assert isinstance(moved, Booked)
    [notice] = outbox(salon, purpose="change_notice")
    assert notice.body["text"] == (
        "Changed: your Haircut with Sam, Wed, Nov 18, 11:00 AM at Test Salon (was Tue, Nov 17, 10:00 AM)."
    )
    [event] = calendar(notice).walk("VEVENT")
    assert str(event["UID"]) == f"appointment-{appointment.id}@salon.example"
    assert int(event["SEQUENCE"]) == 1
    assert event["DTSTART"].to_ical() == b"20261118T160000Z"
    owner_texts = [m.body["text"] for m in outbox(salon, purpose="owner_notice")]
    assert (
        owner_texts[-1]
        == "Moved: Jane Doe, Haircut with Sam, Wed, Nov 18, 11:00 AM (was Tue, Nov 17, 10:00 AM)."
    )


def test_a_cancellation_sends_a_cancel_invitation_and_the_owners_reason(salon):
    appointment = _book(salon, add_reachable_customer(salon, phone=PHONE))
    with salon.write() as session:
        result = cancel(
            session,
            appointment.id,
            now=BOOKED_AT,
            reason="Sam is ill",
            actor="owner",
            enforce_cutoff=False,
        )
        assert isinstance(result, Changed)
    [notice] = outbox(salon, purpose="cancel_notice")
    assert notice.body["text"] == (
        "Cancelled: your Haircut with Sam, Tue, Nov 17, 10:00 AM at Test Salon. Reason: Sam is ill."
    )
    ics = calendar(notice)
    [event] = ics.walk("VEVENT")
    assert str(ics["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    # The owner cancelled: only the booking notice ever went to the owner.
    assert [m.body["text"][:11] for m in outbox(salon, purpose="owner_notice")] == ["New booking"]


def test_a_customer_is_reached_on_their_most_recently_active_identity(salon):
    customer = add_reachable_customer(
        salon, phone=PHONE, last_inbound_at=BOOKED_AT - timedelta(days=2)
    )
    with salon.write() as session:
        for channel, address, ago in (("whatsapp", PHONE, 1), ("web", "session-1", 0)):
            session.add(
                CustomerIdentity(
                    customer_id=customer,
                    channel=channel,
                    address=address,
                    created_at=BOOKED_AT,
                    last_inbound_at=BOOKED_AT - timedelta(hours=ago),
                )
            )
    with salon.read() as session:
        # The web chat is seen only while its page is open: it comes last.
        assert customer_address(session, customer) == ("whatsapp", PHONE)


def test_a_customer_without_identities_is_texted_at_their_phone_or_not_at_all(salon):
    by_phone = add_reachable_customer(salon, phone=PHONE, channel=None)
    nobody = add_customer(salon, "No Contact")
    _book(salon, by_phone)
    _book(salon, nobody, local("2026-11-17 12:00") + timedelta(hours=1))
    confirmations = outbox(salon, purpose="confirmation")
    assert [(m.channel, m.address, m.customer_id) for m in confirmations] == [
        ("sms", PHONE, by_phone)
    ]


def test_an_opted_out_phone_is_not_used_as_a_fallback(salon):
    customer = add_reachable_customer(salon, phone=PHONE)
    with salon.write() as session:
        session.execute(update(CustomerIdentity).values(opted_out_at=BOOKED_AT))
    _book(salon, customer)
    assert outbox(salon, purpose="confirmation") == []


def test_a_recurring_series_is_confirmed_once(salon):
    customer = add_reachable_customer(salon, phone=PHONE)
    with salon.write() as session:
        result = create_series(
            session,
            customer_id=customer,
            service_id=service_id(session, "cut"),
            staff_id=staff_id(session, "sam"),
            rule="FREQ=WEEKLY;COUNT=3",
            first_start=START,
            now=BOOKED_AT,
        )
        assert len(result.booked) == 3
    [confirmation] = outbox(salon, purpose="confirmation")
    assert "repeats" in confirmation.body["text"]
    assert len(outbox(salon, purpose="owner_notice")) == 1


# ------------------------------------------------------------------------------ reminders


def test_the_reminder_due_is_the_latest_whose_time_has_come():
    start = datetime(2026, 11, 17, 15, tzinfo=UTC)
    booked = start - timedelta(days=3)
    assert due_offset(start, [1440, 120], start - timedelta(hours=25), booked) is None
    assert due_offset(start, [1440, 120], start - timedelta(hours=23), booked) == 1440
    assert due_offset(start, [1440, 120], start - timedelta(minutes=5), booked) == 120
    assert due_offset(start, [1440, 120], start, booked) is None  # never once it has started
    # Booked three hours ahead: the 24-hour reminder's moment had passed already.
    assert (
        due_offset(start, [1440, 120], start - timedelta(hours=2), start - timedelta(hours=3))
        == 120
    )
    assert due_offset(start, [1440], start - timedelta(hours=2), start - timedelta(hours=3)) is None


def test_a_reminder_is_queued_once_with_its_question(salon):
    appointment = _book(salon, add_reachable_customer(salon, phone=PHONE))
    scan_at = local("2026-11-16 10:00")
    assert scan_reminders(salon, scan_at) == 1
    assert scan_reminders(salon, scan_at + timedelta(minutes=1)) == 0
    [reminder] = outbox(salon, purpose="reminder")
    assert reminder.dedupe_key == f"reminder:{appointment.id}:1440:2026-11-17T15:00:00+00:00"
    assert (
        reminder.body["text"] == "Reminder: Haircut with Sam, Tue, Nov 17, 10:00 AM at Test Salon."
    )
    assert [o["id"] for o in reminder.body["options"]] == ["confirm", "reschedule", "cancel"]
    assert reminder.ref_starts_at == START and reminder.send_at == scan_at
    with salon.read() as session:
        [question] = session.scalars(select(AwaitingReply)).all()
    assert (question.kind, question.ref_id, question.address) == ("reminder", appointment.id, PHONE)
    assert question.expires_at == START
    assert question.data["replies"]["c"] == "confirm" and question.data["replies"]["x"] == "cancel"


def test_a_reminder_due_in_quiet_hours_waits_for_the_morning(salon):
    _book(salon, add_reachable_customer(salon, phone=PHONE), local("2026-11-17 10:00"))
    with salon.write() as session:
        [reminder] = queue_reminders(session, local("2026-11-17 07:30"))  # the 2-hour one, early
    assert reminder.send_at == local("2026-11-17 08:00")


def test_quiet_hours_never_push_a_reminder_past_half_an_hour_before_the_start(salon):
    quiet_till_nine = messaging_salon_toml('[notifications]\nquiet_hours = "21:00-09:00"\n')
    setup_business(salon, quiet_till_nine)
    _book(salon, add_reachable_customer(salon, phone=PHONE), local("2026-11-17 09:00"))
    scan_at = local("2026-11-17 07:05")
    with salon.write() as session:
        [reminder] = queue_reminders(session, scan_at)
    assert reminder.send_at == scan_at  # 09:00 would be too late: it goes at once


def test_quiet_hours_wrap_midnight_and_follow_the_local_clock(salon):
    with salon.read() as session:
        info = business_context(session, required=False)
    assert defer_for_quiet_hours(local("2026-11-16 22:30"), info) == local("2026-11-17 08:00")
    assert defer_for_quiet_hours(local("2026-11-17 06:00"), info) == local("2026-11-17 08:00")
    assert defer_for_quiet_hours(local("2026-11-17 12:00"), info) == local("2026-11-17 12:00")
    # The night the clocks go back (1 November 2026) is 25 hours long: 08:00 is EST.
    assert defer_for_quiet_hours(local("2026-10-31 23:00"), info) == datetime(
        2026, 11, 1, 13, 0, tzinfo=UTC
    )
    latest = local("2026-11-17 07:00")
    assert defer_for_quiet_hours(local("2026-11-17 06:00"), info, latest=latest) == local(
        "2026-11-17 06:00"
    )


def test_a_move_withdraws_the_old_reminder_and_the_new_time_gets_its_own(salon):
    appointment = _book(salon, add_reachable_customer(salon, phone=PHONE))
    scan_reminders(salon, local("2026-11-16 10:00"))
    with salon.write() as session:
        reschedule(session, appointment.id, new_start=local("2026-11-18 10:00"), now=BOOKED_AT)
    [old] = outbox(salon, purpose="reminder")
    assert (old.status, old.last_error) == (CANCELLED, "appointment moved")
    with salon.read() as session:
        question = session.scalars(select(AwaitingReply)).one()
        assert question.expires_at <= BOOKED_AT  # a late "C" must not confirm the new time
    assert scan_reminders(salon, local("2026-11-17 10:00")) == 1
    new = outbox(salon, purpose="reminder")[-1]
    assert new.dedupe_key.endswith("2026-11-18T15:00:00+00:00") and new.status == PENDING


def test_a_reminder_is_sent_once_after_downtime_and_never_once_the_appointment_started(salon, fake):
    senders = build_senders(twilio_env(fake))
    later = _book(salon, add_reachable_customer(salon, phone=PHONE), local("2026-11-17 14:00"))
    early = _book(salon, add_reachable_customer(salon, "Joe", "+15551230002"), START)
    assert scan_reminders(salon, local("2026-11-16 09:00")) == 0  # nothing due yet
    # Tuesday 08:00: both reminders are queued, then the dispatcher goes down.
    with salon.write() as session:
        queued = queue_reminders(session, local("2026-11-17 08:00"))
    assert sorted(m.ref_id for m in queued) == sorted([later.id, early.id])
    # Back at 10:05: the 10:00 appointment has started, the 14:00 one has not.
    restart = local("2026-11-17 10:05")
    for minute in range(3):
        scan_reminders(salon, restart + timedelta(minutes=minute))
        dispatch_due(salon, senders, now=restart + timedelta(minutes=minute))
    by_appointment = {m.ref_id: m for m in outbox(salon, purpose="reminder")}
    assert by_appointment[later.id].status == SENT
    assert by_appointment[early.id].status == CANCELLED
    assert by_appointment[early.id].last_error == "appointment already started"
    reminders = [m["body"] for m in fake.received() if m["body"].startswith("Reminder")]
    assert len(reminders) == 1
    assert reminders[0].startswith("Reminder: Haircut with Sam, Tue, Nov 17, 2:00 PM")
    assert [m["body"][:11] for m in fake.to("+15551230002")] == ["You're book"]


def test_after_downtime_across_both_offsets_only_the_latest_reminder_goes_once(salon, fake):
    senders = build_senders(twilio_env(fake))
    _book(salon, add_reachable_customer(salon, phone=PHONE))
    scan_reminders(salon, local("2026-11-16 09:00"))  # 25 hours before: nothing due
    # Down from Monday 09:00 until Tuesday 09:00, across the 24 h and the 2 h reminder.
    for minute in range(3):
        at = local("2026-11-17 09:00") + timedelta(minutes=minute)
        scan_reminders(salon, at)
        dispatch_due(salon, senders, now=at)
    [reminder] = outbox(salon, purpose="reminder")
    assert reminder.dedupe_key.split(":")[2] == "120" and reminder.status == SENT
    reminders = [m["body"] for m in fake.to(PHONE) if m["body"].startswith("Reminder")]
    assert reminders == [
        "Reminder: Haircut with Sam, Tue, Nov 17, 10:00 AM at Test Salon.\n"
        "C. Confirm\nR. Reschedule\nX. Cancel\nReply C, R or X"
    ]


# ------------------------------------------------------------------ confirm, alert, no-show


def test_confirming_from_a_reminder_confirms_and_answers_the_question(salon):
    appointment = _book(salon, add_reachable_customer(salon, phone=PHONE))
    scan_reminders(salon, local("2026-11-16 10:00"))
    at = local("2026-11-16 10:05")
    with salon.write() as session:
        result = confirm_appointment(session, appointment.id, at)
        assert isinstance(result, Changed) and result.appointment.status == CONFIRMED
        assert isinstance(confirm_appointment(session, appointment.id, at), Changed)
    with salon.read() as session:
        assert session.scalars(select(AwaitingReply)).one().answered_at == at
    assert outbox(salon, purpose="owner_notice")[-1].body["text"].startswith("New booking")


def test_a_cancelled_appointment_cannot_be_confirmed(salon):
    appointment = _book(salon, add_reachable_customer(salon, phone=PHONE))
    with salon.write() as session:
        cancel(session, appointment.id, now=BOOKED_AT)
        assert isinstance(confirm_appointment(session, appointment.id, BOOKED_AT), Refused)


def test_the_owner_is_told_once_about_a_reminded_customer_who_has_not_confirmed(salon):
    quiet = _book(salon, add_reachable_customer(salon, phone=PHONE))
    confirmed = _book(
        salon, add_reachable_customer(salon, "Joe", "+15551230002"), START + timedelta(hours=4)
    )
    scan_reminders(salon, local("2026-11-16 12:00"))
    with salon.write() as session:
        session.execute(
            update(OutboxMessage).where(OutboxMessage.purpose == "reminder").values(status=SENT)
        )
        set_status(session, confirmed.id, CONFIRMED, now=BOOKED_AT, actor="customer")
    assert flag_unconfirmed(salon, local("2026-11-16 21:30")) == 0  # 12.5 h ahead: not yet
    assert flag_unconfirmed(salon, local("2026-11-16 22:05")) == 1
    assert flag_unconfirmed(salon, local("2026-11-16 22:06")) == 0
    [alert] = outbox(salon, purpose="unconfirmed_alert")
    assert alert.address == OWNER and alert.ref_id == quiet.id
    assert (
        alert.body["text"]
        == "Not confirmed yet: Jane Doe, Haircut with Sam, Tue, Nov 17, 10:00 AM."
    )
    assert alert.send_at == local("2026-11-17 08:00")  # after quiet hours, before 09:30


def test_an_appointment_nobody_started_becomes_a_no_show_and_the_owner_is_told(salon):
    missed = _book(salon, add_reachable_customer(salon, phone=PHONE))
    joe = add_reachable_customer(salon, "Joe", "+15551230002")
    with salon.write() as session:
        other = book(
            session,
            customer_id=joe,
            service_id=service_id(session, "cut"),
            start=START,
            staff_id=staff_id(session, "alex"),
            now=BOOKED_AT,
        )
        assert isinstance(other, Booked)
        set_status(session, other.appointment.id, IN_PROGRESS, now=START)
    assert mark_no_shows(salon, START + timedelta(minutes=29)) == 0
    assert mark_no_shows(salon, START + timedelta(minutes=31)) == 1
    with salon.read() as session:
        assert session.get(Appointment, missed.id).status == NO_SHOW
        assert session.get(Appointment, other.appointment.id).status == IN_PROGRESS
    [note] = [m for m in outbox(salon, purpose="owner_notice") if "No-show" in m.body["text"]]
    assert (
        note.body["text"]
        == "No-show: Jane Doe, Haircut with Sam, Tue, Nov 17, 10:00 AM. Marked automatically."
    )


def test_automatic_no_shows_can_be_switched_off(salon):
    setup_business(salon, messaging_salon_toml("[notifications]\nauto_no_show = false\n"))
    _book(salon, add_reachable_customer(salon, phone=PHONE))
    assert mark_no_shows(salon, START + timedelta(hours=2)) == 0
