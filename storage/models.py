"""SQLAlchemy 2 typed models: the whole schema of slotbot's booking core.

The schema is only ever created by the Alembic migrations in `storage/migrations`; these
classes describe it for the ORM. Every timestamp is UTC (`UTCDateTime`); local wall time is
computed above this layer, in the business's zone.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import StoredEnum, UTCDateTime


class Base(DeclarativeBase):
    """Declarative base for every slotbot table."""

    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class AppointmentStatus(StoredEnum):
    """An appointment's status. Every status except "cancelled" occupies the staff's time."""

    AWAITING_DEPOSIT = "awaiting_deposit"
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


# The members under the names the code has always imported.
AWAITING_DEPOSIT = AppointmentStatus.AWAITING_DEPOSIT
BOOKED = AppointmentStatus.BOOKED
CONFIRMED = AppointmentStatus.CONFIRMED
IN_PROGRESS = AppointmentStatus.IN_PROGRESS
COMPLETED = AppointmentStatus.COMPLETED
CANCELLED = AppointmentStatus.CANCELLED
NO_SHOW = AppointmentStatus.NO_SHOW
STATUSES = (AWAITING_DEPOSIT, BOOKED, CONFIRMED, IN_PROGRESS, COMPLETED, CANCELLED, NO_SHOW)
UPCOMING_STATUSES = (AWAITING_DEPOSIT, BOOKED, CONFIRMED, IN_PROGRESS)


class Business(Base):
    """The one business this installation serves, as last loaded from business.toml."""

    __tablename__ = "business"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(32))
    # Percent as an exact decimal string ("8.875"): tax is computed with Decimal, never float.
    tax_rate: Mapped[str] = mapped_column(String(16), default="0")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    config_digest: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime]


class Service(Base):
    """Something a customer can book: a haircut, a 60-minute massage, a boiler service."""

    __tablename__ = "service"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    duration_minutes: Mapped[int]
    price_minor: Mapped[int] = mapped_column(BigInteger)
    buffer_before_minutes: Mapped[int] = mapped_column(default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(default=0)
    on_site: Mapped[bool] = mapped_column(Boolean, default=False)
    deposit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    deposit_percent: Mapped[int] = mapped_column(default=0)
    # Kinds of resource the service needs besides a staff member, e.g. ["room"].
    resource_kinds: Mapped[list[Any]] = mapped_column(default=list)
    rebook_after_days: Mapped[int | None] = mapped_column(default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Texts the customer signs before / after the job (business.toml; None: nothing to sign).
    disclaimer_before: Mapped[str | None] = mapped_column(Text, default=None)
    disclaimer_after: Mapped[str | None] = mapped_column(Text, default=None)

    staff: Mapped[list[Staff]] = relationship(
        secondary="staff_service", back_populates="services", order_by="Staff.id"
    )
    # Field service: the skill a technician needs, weather exposure, and the length of the
    # arrival window customers are promised (None: an exact start time).
    skill: Mapped[str | None] = mapped_column(String(64), default=None)
    outdoor: Mapped[bool] = mapped_column(Boolean, default=False)
    window_minutes: Mapped[int | None] = mapped_column(default=None)


class Staff(Base):
    """A person whose time is booked."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[Any]] = mapped_column(default=list)  # nicknames: "sammy"
    per_day_limit: Mapped[int | None] = mapped_column(default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    services: Mapped[list[Service]] = relationship(
        secondary="staff_service", back_populates="staff", order_by="Service.id"
    )
    # Field service: where the day starts (home base) and what the technician can do.
    home_address: Mapped[str | None] = mapped_column(Text, default=None)
    home_lat: Mapped[float | None] = mapped_column(Float, default=None)
    home_lon: Mapped[float | None] = mapped_column(Float, default=None)
    skills: Mapped[list[Any]] = mapped_column(default=list)


class StaffService(Base):
    """Which staff member can perform which service."""

    __tablename__ = "staff_service"

    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), primary_key=True)


class Resource(Base):
    """A bookable thing that is not a person: a room, a chair, a piece of equipment."""

    __tablename__ = "resource"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WorkingHours(Base):
    """A weekly period of work (or a break) in local wall time; staff_id NULL = the business."""

    __tablename__ = "working_hours"
    __table_args__ = (Index("ix_working_hours_staff_weekday", "staff_id", "weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    weekday: Mapped[int]  # Monday = 0
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    is_break: Mapped[bool] = mapped_column(Boolean, default=False)


class TimeOff(Base):
    """Time nobody can book: staff leave, a business closure (staff_id NULL), a resource out."""

    __tablename__ = "time_off"
    __table_args__ = (Index("ix_time_off_period", "starts_at", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), default=None)
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resource.id"), default=None)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200), default="")
    # "config" rows are replaced on every config load; "admin" rows are the owner's own.
    source: Mapped[str] = mapped_column(String(16), default="admin")


class Customer(Base):
    """Someone who books. Found again by any of their channel identities."""

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    phone: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    address: Mapped[str | None] = mapped_column(Text, default=None)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]

    identities: Mapped[list[CustomerIdentity]] = relationship(back_populates="customer")
    # How to get in (gate code, parking, the dog): shown to staff with the day's jobs.
    access_notes: Mapped[str] = mapped_column(Text, default="")


class CustomerIdentity(Base):
    """One way of reaching a customer: a channel plus an address (`sms:+15551234567`)."""

    __tablename__ = "customer_identity"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_identity_channel_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]
    opted_out_at: Mapped[datetime | None] = mapped_column(default=None)
    promotions_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    last_inbound_at: Mapped[datetime | None] = mapped_column(default=None)

    customer: Mapped[Customer] = relationship(back_populates="identities")


class RecurringSeries(Base):
    """A repeating booking described by an RFC 5545 rule, anchored in local wall time."""

    __tablename__ = "recurring_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    rule: Mapped[str] = mapped_column(Text)
    # The first occurrence in the business's local wall time (ISO, no offset): occurrences
    # keep the wall-clock time across DST changes, as a customer expects.
    local_start: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]


class Appointment(Base):
    """A booked service for a customer with one staff member (and maybe a resource).

    `block_start`/`block_end` include the service's buffers: they are what the staff
    member's calendar loses, and what the database refuses to let overlap.
    """

    __tablename__ = "appointment"
    __table_args__ = (
        Index("ix_appointment_staff_block", "staff_id", "block_start"),
        Index("ix_appointment_customer", "customer_id", "starts_at"),
        Index("ix_appointment_starts", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resource.id"), default=None)
    series_id: Mapped[int | None] = mapped_column(
        ForeignKey("recurring_series.id"), default=None, index=True
    )
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    block_start: Mapped[datetime]
    block_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=BOOKED)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    notes: Mapped[str] = mapped_column(Text, default="")
    # who comes, when not the customer who booked ("for my son Leo"); None: the customer
    attendee: Mapped[str | None] = mapped_column(String(200), default=None)
    cancel_reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    customer: Mapped[Customer] = relationship()
    service: Mapped[Service] = relationship()
    staff: Mapped[Staff] = relationship()
    resource: Mapped[Resource | None] = relationship()
    events: Mapped[list[AppointmentEvent]] = relationship(
        back_populates="appointment", order_by="AppointmentEvent.id"
    )
    # On-site visits: where (and how we know: "pin", "postal_code", "geocoder"), and the
    # arrival window promised to the customer.
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    lon: Mapped[float | None] = mapped_column(Float, default=None)
    place_source: Mapped[str | None] = mapped_column(String(16), default=None)
    window_start: Mapped[datetime | None] = mapped_column(default=None)
    window_end: Mapped[datetime | None] = mapped_column(default=None)
    # The customer asked for this technician: route optimisation never gives the job away.
    staff_pinned: Mapped[bool] = mapped_column(Boolean, default=False)


class AppointmentEvent(Base):
    """One change in an appointment's life: a status change or a move to another time."""

    __tablename__ = "appointment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(ForeignKey("appointment.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # "status" or "rescheduled"
    from_status: Mapped[str | None] = mapped_column(String(20), default=None)
    to_status: Mapped[str | None] = mapped_column(String(20), default=None)
    old_starts_at: Mapped[datetime | None] = mapped_column(default=None)
    new_starts_at: Mapped[datetime | None] = mapped_column(default=None)
    actor: Mapped[str] = mapped_column(String(64), default="system")
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime]

    appointment: Mapped[Appointment] = relationship(back_populates="events")
    # What else is known about it (bot.scheduling.timeline): an ETA, a location pin, a payment.
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SlotHold(Base):
    """A slot kept for one customer for a few minutes while they confirm."""

    __tablename__ = "slot_hold"
    __table_args__ = (Index("ix_slot_hold_staff_expires", "staff_id", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    resource_id: Mapped[int | None] = mapped_column(ForeignKey("resource.id"), default=None)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    block_start: Mapped[datetime]
    block_end: Mapped[datetime]
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime]


class Conversation(Base):
    """Where one person's dialogue stands on one channel: the state machine lives here.

    `version` is an optimistic lock: two workers handling messages from the same person
    cannot both move the conversation on from the same version.
    """

    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("channel", "address", name="uq_conversation_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), default=None)
    role: Mapped[str] = mapped_column(String(16), default="customer")  # customer/owner/staff
    flow: Mapped[str] = mapped_column(String(32), default="idle")
    step: Mapped[str] = mapped_column(String(32), default="start")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime]


class InboundMessage(Base):
    """Every delivery received, once: providers redeliver, the unique key makes that a no-op.

    Webhooks only record the delivery (the inbox: `handled_at` is NULL) and answer their
    provider; the worker's inbox processor handles it later, stamping `handled_at` in the same
    transaction as the dialogue's move and its replies. Web and terminal chat record and
    handle in one transaction. A recorded message is never lost: a crash leaves it waiting.
    """

    __tablename__ = "inbound_message"
    __table_args__ = (
        UniqueConstraint("channel", "provider_id", name="uq_inbound_provider_id"),
        Index("ix_inbound_identity", "channel", "address", "received_at"),
        Index(
            "ix_inbound_pending",
            "id",
            sqlite_where=sql("handled_at IS NULL"),
            postgresql_where=sql("handled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    provider_id: Mapped[str] = mapped_column(String(128))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime]
    handled_at: Mapped[datetime | None]


class AwaitingReply(Base):
    """A question slotbot asked outside a dialogue (a reminder, a feedback request, a
    waitlist offer) whose answer the next inbound message from that person may be.

    Lower layers leave these rows; the conversation engine reads them.
    """

    __tablename__ = "awaiting_reply"
    __table_args__ = (Index("ix_awaiting_reply_identity", "channel", "address", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), default=None)
    kind: Mapped[str] = mapped_column(String(32))  # reminder, feedback, waitlist_offer, …
    ref_id: Mapped[int | None] = mapped_column(default=None)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None] = mapped_column(default=None)


class AdminAudit(Base):
    """Every action an owner or staff member takes from a chat: who, when, what, where."""

    __tablename__ = "admin_audit"
    __table_args__ = (Index("ix_admin_audit_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor: Mapped[str] = mapped_column(String(400))  # identity, e.g. "telegram:1000"
    role: Mapped[str] = mapped_column(String(16))  # owner or staff
    channel: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[datetime]


class Place(Base):
    """A geocoding cache: an address, normalised, and the coordinates found for it.

    `source` says how good the figure is: "postal_code" (a ZIP centroid, a few km off),
    "geocoder" (a real geocoding service) or "pin" (a shared map location).
    """

    __tablename__ = "place"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_key: Mapped[str] = mapped_column(String(500), unique=True)
    address: Mapped[str] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]


class RoutePlan(Base):
    """An optimised day of routes: proposed, then applied (and maybe undone) by an owner.

    `before` and `after` hold each moved appointment's staff and times (ISO strings), so
    "apply" writes `after` and "undo" writes `before` back; `summary` holds the figures shown.
    """

    __tablename__ = "route_plan"
    __table_args__ = (Index("ix_route_plan_day", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[str] = mapped_column(String(10))  # local date, YYYY-MM-DD
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    actor: Mapped[str] = mapped_column(String(400), default="")
    before: Mapped[list[Any]] = mapped_column(default=list)
    after: Mapped[list[Any]] = mapped_column(default=list)
    summary: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    applied_at: Mapped[datetime | None] = mapped_column(default=None)
    undone_at: Mapped[datetime | None] = mapped_column(default=None)
