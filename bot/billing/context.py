"""The business facts billing needs, read once per use case from the business row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.billing.ledger.money import format_day, format_money, normalise_rate
from bot.config import BillingConfig, BrandingConfig, billing_from_settings, branding_from_settings
from bot.core.errors import NotFound
from bot.core.formatting import format_when
from storage.models import Business


@dataclass(frozen=True)
class BillingContext:
    """Name, contact details, currency, locale, zone, default tax rate and [billing]."""

    name: str
    currency: str
    locale: str
    zone: ZoneInfo
    tax_rate: str
    billing: BillingConfig
    owners: tuple[str, ...] = ()
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    branding: BrandingConfig = BrandingConfig()

    @classmethod
    def load(cls, session: Session) -> BillingContext:
        """Read the business row written by the last config load."""
        business = session.get(Business, 1)
        if business is None:
            raise NotFound("no business configured: run `slotbot db upgrade` and load a config")
        settings = business.settings or {}
        return cls(
            name=business.name,
            currency=business.currency,
            locale=business.locale,
            zone=ZoneInfo(business.timezone),
            tax_rate=normalise_rate(business.tax_rate or "0"),
            billing=billing_from_settings(settings),
            owners=tuple(settings.get("owners") or ()),
            address=settings.get("address"),
            phone=settings.get("phone"),
            email=settings.get("email"),
            branding=branding_from_settings(settings),
        )

    def money(self, amount_minor: int) -> str:
        """An amount in the business's currency and locale."""
        return format_money(amount_minor, self.currency, self.locale)

    def local_date(self, moment: datetime) -> date:
        """The business's local date at an instant."""
        return moment.astimezone(self.zone).date()

    def day(self, moment: datetime) -> str:
        """A short local date for messages: "Dec 1"."""
        return format_day(self.local_date(moment), self.locale)

    def when(self, moment: datetime) -> str:
        """A local day and time for messages: "Tue, Nov 17, 10:00 AM" in en_US."""
        return format_when(moment, self.zone, self.locale)
