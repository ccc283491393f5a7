"""The typed business settings: what business.toml describes, as frozen pydantic models.

This module owns the shape and the limits of the settings. `loading` turns the TOML into
these models (its error messages name the field and suggest spellings); `stored` writes
them into the JSON `Business.settings` blob and reads them back with `model_validate`.
Every model refuses keys it does not know (`extra="forbid"`), so a stale or hand-edited
blob fails loudly instead of being half read. Field limits live here once: the loader
reads them (`bounds`) to phrase its "must be between" messages.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, NamedTuple
from zoneinfo import ZoneInfo

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from bot.core.errors import NotFound
from bot.core.text import N_
from bot.field.places.settings import TravelConfig

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Channels an owner or staff identity may name ("sms:+12125550101", "telegram:1001").
CHANNELS = ("sms", "whatsapp", "telegram", "web", "email")
ANY_STAFF = "*"

Range = tuple[time, time]
Week = dict[int, list[Range]]  # Monday = 0; every weekday present, [] when closed

# Owner keys that ship in examples: fine on a laptop, refused on a server the internet reaches.
DEMO_OWNER_KEYS = frozenset({"demo-owner-key", "change-me-to-something-long"})
DEFAULT_OFFLINE_PAYMENT = N_(
    "Card payment online isn't available. Please pay in person at your visit, "
    "or by bank transfer: reply to our message and we'll send the details."
)
MAX_OFFLINE_PAYMENT = 500
NUMBER_PREFIX = r"^[A-Za-z0-9#/_.-]{0,12}$"
WHATSAPP_TEMPLATE = r"^HX[0-9a-fA-F]{32}$"
DEFAULT_BRAND_COLOUR = "#2f5d50"
MIN_CONTRAST = 4.5  # WCAG AA for body text
PAGE_GREY = "#f4f5f7"  # the pages' light background, the lightest the brand colour sits on
_NORMAL_COLOUR = r"^#[0-9a-f]{6}$"  # as the loader normalises "#ABC" and "#AABBCC"
HANDOVER_QUIET_MINUTES = 30
CONSENT_QUESTION = N_(
    "One more thing: would you like to hear about our offers now and then? "
    "Reply YES or NO (you can say unsubscribe at any time)."
)


class AutoCharge(StrEnum):
    """When a saved card is charged without asking."""

    OFF = "off"
    ON_COMPLETION = "on_completion"


class WhatsAppFallback(StrEnum):
    """What a WhatsApp message outside the 24-hour window becomes."""

    SMS = "sms"  # text the number instead
    TEMPLATE = "template"  # send the approved template


AUTO_CHARGE_CHOICES = tuple(choice.value for choice in AutoCharge)
WHATSAPP_FALLBACKS = tuple(choice.value for choice in WhatsAppFallback)


class Settings(BaseModel):
    """Base of every settings model: immutable, and unknown keys are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def bounds(model: type[BaseModel], name: str) -> tuple[Any, Any]:
    """The (lowest, highest) a field allows, from its `ge`/`le`; None = no bound."""
    low = high = None
    for rule in model.model_fields[name].metadata:
        if isinstance(rule, annotated_types.Ge):
            low = rule.ge
        elif isinstance(rule, annotated_types.Le):
            high = rule.le
    return low, high


class BookingRules(Settings):
    """How bookings may be made: the slot grid, notice, horizon, limits and holds."""

    slot_interval_minutes: int = Field(15, ge=5, le=240)
    minimum_notice_minutes: int = Field(60, ge=0)
    maximum_days_ahead: int = Field(60, ge=1, le=730)
    # appointments per staff member per local day
    per_day_limit: int | None = Field(None, ge=1)
    cancellation_cutoff_hours: int = Field(24, ge=0)
    hold_minutes: int = Field(10, ge=1, le=120)
    conversation_timeout_minutes: int = Field(60, ge=1, le=10080)


class MessagingConfig(Settings):
    """How messages go out and which automatic messages run.

    From [messaging], [waitlist], [followup] and the alert keys of [notifications].
    """

    # sends tried before a message is given up (and the owner told)
    max_attempts: int = Field(8, ge=1, le=50)
    whatsapp_outside_window: WhatsAppFallback = WhatsAppFallback.SMS
    # approved Content SID (HX…) for "template"
    whatsapp_template: str | None = Field(None, pattern=WHATSAPP_TEMPLATE)
    unconfirmed_alert_hours: int = Field(12, ge=0, le=168)  # before; 0 = never
    auto_no_show: bool = True
    # after the start, with nobody marking it started
    no_show_grace_minutes: int = Field(30, ge=0, le=1440)
    # how long a freed slot is held for the person offered
    waitlist_offer_minutes: int = Field(30, ge=5, le=1440)
    feedback_requests: bool = True
    # after the appointment is marked completed
    feedback_delay_minutes: int = Field(60, ge=0, le=10080)
    rebook_nudges: bool = True

    @model_validator(mode="after")
    def _template_named(self) -> MessagingConfig:
        if self.whatsapp_outside_window is WhatsAppFallback.TEMPLATE and not self.whatsapp_template:
            raise ValueError(
                'whatsapp_template is required when whatsapp_outside_window = "template"'
            )
        return self


class BillingConfig(Settings):
    """Invoicing and collection, from [billing]; money in minor units, percents as text.

    The finance charge is either a percent per month of the overdue balance
    (`finance_charge_percent`, an exact decimal string) or a flat amount
    (`finance_charge_flat_minor`); both unset means no finance charges.
    """

    invoice_prefix: str = Field("INV-", pattern=NUMBER_PREFIX)
    estimate_prefix: str = Field("EST-", pattern=NUMBER_PREFIX)
    payment_terms_days: int = Field(14, ge=0, le=365)
    finance_charge_percent: str | None = None
    finance_charge_flat_minor: int = Field(0, ge=0)
    finance_charge_grace_days: int = Field(0, ge=0, le=365)
    # overdue balances below this are left alone
    finance_charge_minimum_minor: int = Field(0, ge=0)
    # an unpaid deposit releases the booking after this long
    deposit_hold_hours: int = Field(24, ge=1, le=720)
    # "on_completion": charge a saved card when the work is done
    auto_charge: AutoCharge = AutoCharge.OFF
    # day of the month statements for the month before go out
    statement_day: int = Field(1, ge=1, le=28)
    no_show_fee_minor: int | None = Field(None, gt=0)  # None: no fee
    # What pay links say when there is no online payment (no Stripe, no sandbox).
    offline_payment: str = Field(
        DEFAULT_OFFLINE_PAYMENT, min_length=1, max_length=MAX_OFFLINE_PAYMENT
    )

    @model_validator(mode="after")
    def _prefixes_differ(self) -> BillingConfig:
        if self.invoice_prefix == self.estimate_prefix:
            raise ValueError(
                f"estimate_prefix must differ from invoice_prefix, got {self.estimate_prefix!r}"
            )
        return self

    @property
    def finance_charges_on(self) -> bool:
        """Whether overdue invoices attract a finance charge."""
        return self.finance_charge_percent is not None or self.finance_charge_flat_minor > 0


class BrandingConfig(Settings):
    """How the pages and the web chat look, from [branding].

    `logo` is an http(s) URL or the absolute path of an image file (written relative to
    business.toml). `colour` carries white text and is itself text and focus rings on white
    and on the pages' light grey, so it is held to WCAG AA (4.5:1) against both; `accent`
    is decorative.
    """

    logo: str | None = None
    colour: str = Field(DEFAULT_BRAND_COLOUR, pattern=_NORMAL_COLOUR)
    accent: str | None = Field(None, pattern=_NORMAL_COLOUR)

    @model_validator(mode="after")
    def _readable(self) -> BrandingConfig:
        ratio = min(contrast_ratio(self.colour, "#ffffff"), contrast_ratio(self.colour, PAGE_GREY))
        if ratio < MIN_CONTRAST:
            raise ValueError(f"colour {self.colour} is too light for text on the pages")
        return self

    @property
    def logo_is_url(self) -> bool:
        """Whether the logo is a web address rather than a local file."""
        return bool(self.logo) and self.logo.startswith(("https://", "http://"))


def contrast_ratio(first: str, second: str) -> float:
    """The WCAG contrast ratio of two "#rrggbb" colours (1 to 21)."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


class HandoverConfig(Settings):
    """[handover]: how long the bot stays quiet after a person takes a conversation over."""

    quiet_minutes: int = Field(HANDOVER_QUIET_MINUTES, ge=1, le=10080)


class PromotionsConfig(Settings):
    """[promotions]: whether and how a first-time customer is asked about offers."""

    ask_after_first_booking: bool = True
    consent_question: str = Field(CONSENT_QUESTION, min_length=1)


class Closure(Settings):
    """A whole local day the business is closed."""

    day: date
    reason: str = ""


class Leave(NamedTuple):
    """A staff member's time off: first and last local day (inclusive) and why."""

    start: date
    end: date
    reason: str = ""


Minutes = Annotated[int, Field(ge=0, le=1440)]


class ServiceConfig(Settings):
    """A bookable service as described in [[services]]; money in minor units."""

    key: str
    name: str
    duration_minutes: int = Field(ge=5, le=1440)
    price_minor: int = Field(ge=0)
    aliases: list[str] = []
    buffer_before_minutes: Minutes = 0
    buffer_after_minutes: Minutes = 0
    staff_keys: list[str] = []  # as written; ["*"] = everyone
    on_site: bool = False
    deposit_minor: int = Field(0, ge=0)
    deposit_percent: int = Field(0, ge=0, le=100)
    resource_kinds: list[str] = []
    rebook_after_days: int | None = Field(None, ge=1, le=3650)
    skill: str | None = None  # field service: only staff with this skill do it
    outdoor: bool = False
    # customers are offered arrival windows this long
    window_minutes: int | None = Field(None, ge=15, le=720)
    disclaimer_before: str | None = None  # signed by the customer before the job
    disclaimer_after: str | None = None  # signed after it ("done" warns while unsigned)


class StaffConfig(Settings):
    """A staff member; `services` already includes every service that lists them."""

    key: str
    name: str
    services: list[str] = []
    hours: Week = {}
    breaks: Week = {}
    time_off: list[Leave] = []
    per_day_limit: int | None = Field(None, ge=1)  # overrides rules.per_day_limit
    identities: list[str] = []
    aliases: list[str] = []  # nicknames customers use: "sammy"
    skills: list[str] = []
    home_address: str | None = None  # field service: where the day starts
    home_lat: float | None = Field(None, ge=-90, le=90)
    home_lon: float | None = Field(None, ge=-180, le=180)


class ResourceConfig(Settings):
    """A room, chair or machine some services need besides a staff member."""

    key: str
    name: str
    kind: str


class BusinessConfig(Settings):
    """Everything business.toml says, validated."""

    name: str
    timezone: str
    currency: str
    locale: str
    tax_rate: Decimal = Decimal(0)
    phone: str | None = None
    address: str | None = None
    email: str | None = None
    review_url: str | None = None
    owner_key: str | None = None
    owner_pin: str | None = None  # asked before destructive owner commands by SMS
    hours: Week = {}
    closures: list[Closure] = []
    rules: BookingRules = BookingRules()
    services: list[ServiceConfig] = []
    staff: list[StaffConfig] = []
    resources: list[ResourceConfig] = []
    owners: list[str] = []
    reminders: list[int] = [1440, 120]
    quiet_hours: Range | None = (time(21), time(8))
    messaging: MessagingConfig = MessagingConfig()
    billing: BillingConfig = BillingConfig()
    branding: BrandingConfig = BrandingConfig()
    travel: TravelConfig = TravelConfig()
    handover: HandoverConfig = HandoverConfig()
    promotions: PromotionsConfig = PromotionsConfig()
    raw: dict[str, Any] = {}

    @property
    def zone(self) -> ZoneInfo:
        """The business's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def digest(self) -> str:
        """sha256 of the canonical parsed TOML: unchanged by comments, layout or key order."""
        canonical = json.dumps(self.raw, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def service(self, key: str) -> ServiceConfig:
        """The service with this key."""
        for service in self.services:
            if service.key == key:
                return service
        raise NotFound(f"no service {key!r}")

    def staff_member(self, key: str) -> StaffConfig:
        """The staff member with this key."""
        for member in self.staff:
            if member.key == key:
                return member
        raise NotFound(f"no staff member {key!r}")

    def staff_for(self, service_key: str) -> list[StaffConfig]:
        """The staff members who can perform a service."""
        return [member for member in self.staff if service_key in member.services]


class BusinessSettings(Settings):
    """The JSON `Business.settings` blob, typed: what the running bot reads of the config.

    Written by `stored.settings_for`; `BusinessSettings.model_validate(business.settings)`
    reads it back (a blob written before a key existed gets that key's default).
    """

    rules: BookingRules = BookingRules()
    reminders: list[int] = [1440, 120]  # minutes before the appointment, latest last
    quiet_hours: Range | None = (time(21), time(8))
    owners: list[str] = []
    messaging: MessagingConfig = MessagingConfig()
    billing: BillingConfig = BillingConfig()
    branding: BrandingConfig = BrandingConfig()
    travel: TravelConfig = TravelConfig()
    phone: str | None = None
    address: str | None = None
    email: str | None = None
    review_url: str | None = None
    owner_key: str | None = None
    # Only a digest: the admin chat compares replies with it, nobody reads the PIN back.
    owner_pin_digest: str | None = None
    # Staff has no identity column; the admin chat finds staff by these.
    staff_identities: dict[str, list[str]] = {}
    handover: HandoverConfig = HandoverConfig()
    promotions: PromotionsConfig = PromotionsConfig()
    # What the FAQ says about parking; no business.toml key writes it yet.
    parking: str | None = None

    @field_serializer("quiet_hours")
    def _hours_and_minutes(self, quiet: Range | None) -> list[str] | None:
        # "21:00", as the blob has always held them (pydantic would write "21:00:00").
        return [f"{quiet[0]:%H:%M}", f"{quiet[1]:%H:%M}"] if quiet else None
