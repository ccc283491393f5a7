"""The business context: the one business row, typed, read once per transaction.

`business_context(session)` is the only reader of the `business` row (outside writing the
config to it). It turns the row and its JSON `settings` blob into a frozen `BusinessContext`
— zone, currency, locale, tax rate, and the typed `[rules]`, `[billing]`, `[branding]`,
`[messaging]` and `[travel]` settings — and keeps it on `session.info` for the rest of the
transaction, so a booking turn reads the row once however many use cases ask for it.

The cached context is dropped when the transaction ends (commit, rollback, close) and as
soon as the business row changes inside the session: an attribute set on it (an owner
command, `apply_config` reloading business.toml), its expiry or refresh, a bulk UPDATE or
DELETE of the table, or a flush that inserts or deletes it. The next call reads it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, object_session

from bot.config.schema import (
    CONSENT_QUESTION,
    HANDOVER_QUIET_MINUTES,
    BillingConfig,
    BookingRules,
    BrandingConfig,
    MessagingConfig,
)
from bot.config.stored import business_settings
from bot.core.errors import NotFound
from bot.core.formatting import format_date, format_money, format_when
from bot.core.money import normalise_rate
from bot.field.places.settings import TravelConfig
from storage.models import Business

# Where the context lives in `Session.info` for the current transaction.
_KEY = "slotbot.business_context"
_UTC = ZoneInfo("UTC")
Address = tuple[str, str]  # (channel, address), e.g. ("sms", "+13125550199")


def _addresses(identities: object) -> tuple[Address, ...]:
    """("channel:address", …) as (channel, address) pairs; malformed entries are skipped."""
    found = []
    for identity in identities or ():  # type: ignore[attr-defined]
        channel, _, address = str(identity).partition(":")
        if channel and address:
            found.append((channel, address))
    return tuple(found)


@dataclass(frozen=True)
class BusinessContext:
    """The business as every use case reads it: identity, formats and typed settings."""

    configured: bool = False  # False: no config loaded yet, these are the defaults
    id: int = 1
    name: str = "slotbot"
    timezone: str = "UTC"
    zone: ZoneInfo = _UTC
    currency: str = "USD"
    locale: str = "en_US"
    tax_rate: str = "0"  # percent, normalised ("8.875")
    rules: BookingRules = field(default_factory=BookingRules)
    billing: BillingConfig = field(default_factory=BillingConfig)
    branding: BrandingConfig = field(default_factory=BrandingConfig)
    messaging: MessagingConfig = field(default_factory=MessagingConfig)
    travel: TravelConfig = field(default_factory=TravelConfig)
    phone: str | None = None
    address: str | None = None
    email: str | None = None
    review_url: str | None = None
    parking: str | None = None  # a note for "is there parking?" (no business.toml key yet)
    owner_key: str | None = None
    owner_pin_digest: str | None = None
    # Identities as written in business.toml ("sms:+1…", "web:owner").
    owners: tuple[str, ...] = ()
    staff_identities: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    reminders: tuple[int, ...] = ()  # minutes before the appointment
    quiet_hours: tuple[time, time] | None = None  # local wall times; may wrap midnight
    handover_quiet_minutes: int = HANDOVER_QUIET_MINUTES
    ask_consent_after_first_booking: bool = True
    consent_question: str = CONSENT_QUESTION
    config_digest: str = ""  # of the business.toml last applied

    @classmethod
    def from_row(cls, row: Business) -> BusinessContext:
        """Build the context from the business row written by the last config load."""
        # Validation, not re-parsing: the blob is the typed BusinessSettings settings_for wrote.
        settings = business_settings(row.settings)
        return cls(
            configured=True,
            id=row.id,
            name=row.name,
            timezone=row.timezone,
            zone=ZoneInfo(row.timezone),
            currency=row.currency,
            locale=row.locale,
            tax_rate=normalise_rate(row.tax_rate or "0"),
            rules=settings.rules,
            billing=settings.billing,
            branding=settings.branding,
            messaging=settings.messaging,
            travel=settings.travel,
            phone=settings.phone,
            address=settings.address,
            email=settings.email,
            review_url=settings.review_url,
            parking=settings.parking,
            owner_key=settings.owner_key,
            owner_pin_digest=settings.owner_pin_digest,
            owners=tuple(settings.owners),
            staff_identities=MappingProxyType(
                {key: tuple(ids) for key, ids in settings.staff_identities.items()}
            ),
            reminders=tuple(settings.reminders),
            quiet_hours=settings.quiet_hours,
            handover_quiet_minutes=settings.handover.quiet_minutes,
            ask_consent_after_first_booking=settings.promotions.ask_after_first_booking,
            consent_question=settings.promotions.consent_question,
            config_digest=row.config_digest or "",
        )

    # --- who is who --------------------------------------------------------------------

    @property
    def owner_addresses(self) -> tuple[Address, ...]:
        """(channel, address) of every owner."""
        return _addresses(self.owners)

    def staff_addresses(self, staff_key: str) -> tuple[Address, ...]:
        """(channel, address) of one staff member's own identities."""
        return _addresses(self.staff_identities.get(staff_key, ()))

    @property
    def team(self) -> frozenset[str]:
        """Every owner and staff identity ("channel:address") as written in business.toml."""
        found = {f"{channel}:{address}" for channel, address in self.owner_addresses}
        for identities in self.staff_identities.values():
            found.update(identities)
        return frozenset(found)

    # --- formats -----------------------------------------------------------------------

    def money(self, amount_minor: int) -> str:
        """An amount in the business's currency and locale: "$45.00"."""
        return format_money(amount_minor, self.currency, self.locale)

    def local_date(self, moment: datetime) -> date:
        """The business's local date at an instant."""
        return moment.astimezone(self.zone).date()

    def day(self, moment: datetime) -> str:
        """A short local date for billing messages: "Dec 1"."""
        return format_date(self.local_date(moment), self.locale)

    def when(self, moment: datetime) -> str:
        """A local day and time for messages: "Tue, Nov 17, 10:00 AM" in en_US."""
        return format_when(moment, self.zone, self.locale)


# The context before any config is loaded (for messages that must still be written).
UNCONFIGURED = BusinessContext()


@dataclass
class _Cached:
    # The row is kept with the context: it stays in the identity map, so the next
    # session.get in this transaction does not read it again.
    row: Business | None
    context: BusinessContext | None = None  # built when first asked for


def _cached(session: Session) -> _Cached:
    cached: _Cached | None = session.info.get(_KEY)
    if cached is None:
        cached = _Cached(session.get(Business, 1))
        session.info[_KEY] = cached
    return cached


def business_context(session: Session, *, required: bool = True) -> BusinessContext:
    """The business context for this session's transaction, reading the row at most once.

    Raises NotFound when no config has been loaded, unless `required` is False: then the
    unconfigured defaults (UTC, en_US, USD) come back.
    """
    cached = _cached(session)
    if cached.row is None and required:
        raise NotFound("no business configured: run `slotbot db upgrade` and load a config")
    if cached.context is None:
        cached.context = (
            UNCONFIGURED if cached.row is None else BusinessContext.from_row(cached.row)
        )
    return cached.context


def business_row(session: Session) -> Business | None:
    """The business row itself, for the few that change it (setting an attribute on it
    drops the cached context); everyone else reads `business_context`.

    The row's settings are not validated here: apply_config must be able to overwrite a
    blob that an older slotbot wrote.
    """
    return _cached(session).row


def forget_business_context(session: Session) -> None:
    """Drop the cached context: the next `business_context` reads the row again."""
    session.info.pop(_KEY, None)


# --- invalidation -----------------------------------------------------------------------


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    # Only the outermost transaction: a savepoint released keeps what it saw; one rolled
    # back is caught by after_soft_rollback below.
    if transaction.parent is None:
        forget_business_context(session)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: SessionTransaction) -> None:
    forget_business_context(session)


@event.listens_for(Session, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    # A business row inserted or deleted in this transaction (the first config load).
    if any(isinstance(o, Business) for o in (*session.new, *session.deleted)):
        forget_business_context(session)


@event.listens_for(Session, "do_orm_execute")
def _bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and any(
        mapper.class_ is Business for mapper in state.all_mappers
    ):
        forget_business_context(state.session)


def _row_changed(target: Business, *_args: Any) -> None:
    session = object_session(target)
    if session is not None:
        forget_business_context(session)


for _column in inspect(Business).column_attrs:
    event.listen(getattr(Business, _column.key), "set", _row_changed)
event.listen(Business, "expire", _row_changed)
event.listen(Business, "refresh", _row_changed)
