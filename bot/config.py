"""business.toml: the business's description, its validation, and its sync into the database.

This module owns the configuration format. `parse_config`/`load_config` turn the TOML into
frozen dataclasses (`BusinessConfig` and friends) and raise `ConfigError` naming the field
of the first problem found; `apply_config` makes the database's business, services, staff,
resources, weekly hours and config-sourced time off match the file in one transaction.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, list_currencies
from sqlalchemy import delete, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from bot.core.clock import utcnow
from bot.core.errors import ConfigError, NotFound
from bot.field.places.postal import postal_centroid
from bot.field.places.settings import TravelConfig
from storage.db import Database
from storage.models import Business, Resource, Service, Staff, TimeOff, WorkingHours

TEMPLATE_PATH = Path(__file__).with_name("business.template.toml")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Channels an owner or staff identity may name ("sms:+12125550101", "telegram:1001").
CHANNELS = ("sms", "whatsapp", "telegram", "web", "email")
ANY_STAFF = "*"

Range = tuple[time, time]
Week = dict[int, list[Range]]  # Monday = 0; every weekday present, [] when closed

# The keys each table accepts; anything else is refused, with a suggestion, to catch typos.
_SECTIONS = ("business", "hours", "closures", "rules", "notifications", "resources", "services")
_SECTIONS += ("staff",)
_SECTIONS += ("messaging", "waitlist", "followup")
_SECTIONS += ("billing",)
_SECTIONS += ("branding",)
_SECTIONS += ("travel",)
_SECTIONS += ("handover", "promotions")
_BUSINESS_KEYS = ("name", "timezone", "currency", "locale", "tax_rate", "phone", "email")
_BUSINESS_KEYS += ("address", "review_url", "owner_key", "owners")
_BUSINESS_KEYS += ("owner_pin",)
# Owner keys that ship in examples: fine on a laptop, refused on a server the internet reaches.
DEMO_OWNER_KEYS = frozenset({"demo-owner-key", "change-me-to-something-long"})
_PIN = re.compile(r"^\d{4,12}$")
_SERVICE_KEYS = ("key", "name", "aliases", "duration_minutes", "price", "location", "staff")
_SERVICE_KEYS += ("buffer_before_minutes", "buffer_after_minutes", "deposit", "needs")
_SERVICE_KEYS += ("rebook_after_days",)
_SERVICE_KEYS += ("skill", "outdoor", "window_minutes")
_SERVICE_KEYS += ("disclaimer_before", "disclaimer_after")
_STAFF_KEYS = ("key", "name", "services", "hours", "breaks", "time_off", "per_day_limit")
_STAFF_KEYS += ("identities", "aliases")
_STAFF_KEYS += ("skills", "home_address", "home_lat", "home_lon")
_TRAVEL_KEYS = ("road_factor", "average_kmh", "routing_url", "routing_timeout_seconds")
_TRAVEL_KEYS += ("geocoder", "geocoder_key", "geocoder_url")
_NOTIFICATION_KEYS = ("reminders", "quiet_hours", "unconfirmed_alert_hours", "auto_no_show")
_NOTIFICATION_KEYS += ("no_show_grace_minutes",)
_WHATSAPP_FALLBACKS = ("sms", "template")
_LOCATIONS = {"in_shop": False, "on_site": True}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-\u2013]\s*(\d{1,2}:\d{2})\s*$")
_DURATION = re.compile(r"^\s*(\d+)\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?)\s*$", re.I)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_REQUIRED: Any = object()


@dataclass(frozen=True)
class BookingRules:
    """How bookings may be made: the slot grid, notice, horizon, limits and holds."""

    slot_interval_minutes: int = 15
    minimum_notice_minutes: int = 60
    maximum_days_ahead: int = 60
    per_day_limit: int | None = None  # appointments per staff member per local day
    cancellation_cutoff_hours: int = 24
    hold_minutes: int = 10
    conversation_timeout_minutes: int = 60


# Allowed (lowest, highest) for each rule; None = no upper bound.
_RULE_LIMITS: dict[str, tuple[int, int | None]] = {
    "slot_interval_minutes": (5, 240),
    "minimum_notice_minutes": (0, None),
    "maximum_days_ahead": (1, 730),
    "per_day_limit": (1, None),
    "cancellation_cutoff_hours": (0, None),
    "hold_minutes": (1, 120),
    "conversation_timeout_minutes": (1, 10080),
}


@dataclass(frozen=True)
class MessagingConfig:
    """How messages go out and which automatic messages run.

    From [messaging], [waitlist], [followup] and the alert keys of [notifications].
    """

    max_attempts: int = 8  # sends tried before a message is given up (and the owner told)
    whatsapp_outside_window: str = "sms"  # "sms": text the number instead; "template"
    whatsapp_template: str | None = None  # approved Content SID (HX…) for "template"
    unconfirmed_alert_hours: int = 12  # tell the owner this long before; 0 = never
    auto_no_show: bool = True
    no_show_grace_minutes: int = 30  # after the start, with nobody marking it started
    waitlist_offer_minutes: int = 30  # how long a freed slot is held for the person offered
    feedback_requests: bool = True
    feedback_delay_minutes: int = 60  # after the appointment is marked completed
    rebook_nudges: bool = True


# [billing] keys; auto_charge choices.
_BILLING_KEYS = ("invoice_prefix", "estimate_prefix", "payment_terms_days", "finance_charge")
_BILLING_KEYS += ("finance_charge_grace_days", "finance_charge_minimum_balance")
_BILLING_KEYS += ("deposit_hold_hours", "auto_charge", "statement_day", "no_show_fee")
_BILLING_KEYS += ("offline_payment",)
DEFAULT_OFFLINE_PAYMENT = (
    "Card payment online isn't available. Please pay in person at your visit, "
    "or by bank transfer: reply to our message and we'll send the details."
)
MAX_OFFLINE_PAYMENT = 500
AUTO_CHARGE_CHOICES = ("off", "on_completion")
_NUMBER_PREFIX = re.compile(r"^[A-Za-z0-9#/_.-]{0,12}$")


@dataclass(frozen=True)
class BillingConfig:
    """Invoicing and collection, from [billing]; money in minor units, percents as text.

    The finance charge is either a percent per month of the overdue balance
    (`finance_charge_percent`, an exact decimal string) or a flat amount
    (`finance_charge_flat_minor`); both unset means no finance charges.
    """

    invoice_prefix: str = "INV-"
    estimate_prefix: str = "EST-"
    payment_terms_days: int = 14
    finance_charge_percent: str | None = None
    finance_charge_flat_minor: int = 0
    finance_charge_grace_days: int = 0
    finance_charge_minimum_minor: int = 0  # overdue balances below this are left alone
    deposit_hold_hours: int = 24  # an unpaid deposit releases the booking after this long
    auto_charge: str = "off"  # "on_completion": charge a saved card when the work is done
    statement_day: int = 1  # day of the month statements for the month before go out
    no_show_fee_minor: int | None = None  # None: no fee
    # What pay links say when there is no online payment (no Stripe, no sandbox).
    offline_payment: str = DEFAULT_OFFLINE_PAYMENT

    @property
    def finance_charges_on(self) -> bool:
        """Whether overdue invoices attract a finance charge."""
        return self.finance_charge_percent is not None or self.finance_charge_flat_minor > 0


# [branding]: logo files pages can show, and the contrast text on a colour must have.
_BRANDING_KEYS = ("logo", "colour", "accent")
_LOGO_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp")
_HEX_COLOUR = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
DEFAULT_BRAND_COLOUR = "#2f5d50"
MIN_CONTRAST = 4.5  # WCAG AA for body text
PAGE_GREY = "#f4f5f7"  # the pages' light background, the lightest the brand colour sits on


@dataclass(frozen=True)
class BrandingConfig:
    """How the pages and the web chat look, from [branding].

    `logo` is an http(s) URL or the absolute path of an image file (written relative to
    business.toml). `colour` carries white text and is itself text and focus rings on white
    and on the pages' light grey, so it is held to WCAG AA (4.5:1) against both; `accent`
    is decorative.
    """

    logo: str | None = None
    colour: str = DEFAULT_BRAND_COLOUR
    accent: str | None = None

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


@dataclass(frozen=True)
class Closure:
    """A whole local day the business is closed."""

    day: date
    reason: str = ""


class Leave(NamedTuple):
    """A staff member's time off: first and last local day (inclusive) and why."""

    start: date
    end: date
    reason: str = ""


@dataclass(frozen=True)
class ServiceConfig:
    """A bookable service as described in [[services]]; money in minor units."""

    key: str
    name: str
    duration_minutes: int
    price_minor: int
    aliases: list[str] = field(default_factory=list)
    buffer_before_minutes: int = 0
    buffer_after_minutes: int = 0
    staff_keys: list[str] = field(default_factory=list)  # as written; ["*"] = everyone
    on_site: bool = False
    deposit_minor: int = 0
    deposit_percent: int = 0
    resource_kinds: list[str] = field(default_factory=list)
    rebook_after_days: int | None = None
    skill: str | None = None  # field service: only staff with this skill do it
    outdoor: bool = False
    window_minutes: int | None = None  # customers are offered arrival windows this long
    disclaimer_before: str | None = None  # signed by the customer before the job
    disclaimer_after: str | None = None  # signed after it ("done" warns while unsigned)


@dataclass(frozen=True)
class StaffConfig:
    """A staff member; `services` already includes every service that lists them."""

    key: str
    name: str
    services: list[str] = field(default_factory=list)
    hours: Week = field(default_factory=dict)
    breaks: Week = field(default_factory=dict)
    time_off: list[Leave] = field(default_factory=list)
    per_day_limit: int | None = None  # overrides rules.per_day_limit
    identities: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # nicknames customers use: "sammy"
    skills: list[str] = field(default_factory=list)
    home_address: str | None = None  # field service: where the day starts
    home_lat: float | None = None
    home_lon: float | None = None


@dataclass(frozen=True)
class ResourceConfig:
    """A room, chair or machine some services need besides a staff member."""

    key: str
    name: str
    kind: str


@dataclass(frozen=True)
class BusinessConfig:
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
    hours: Week = field(default_factory=dict)
    closures: list[Closure] = field(default_factory=list)
    rules: BookingRules = field(default_factory=BookingRules)
    services: list[ServiceConfig] = field(default_factory=list)
    staff: list[StaffConfig] = field(default_factory=list)
    resources: list[ResourceConfig] = field(default_factory=list)
    owners: list[str] = field(default_factory=list)
    reminders: list[int] = field(default_factory=lambda: [1440, 120])
    quiet_hours: Range | None = (time(21), time(8))
    messaging: MessagingConfig = field(default_factory=MessagingConfig)
    billing: BillingConfig = field(default_factory=BillingConfig)
    branding: BrandingConfig = field(default_factory=BrandingConfig)
    travel: TravelConfig = field(default_factory=TravelConfig)
    raw: dict[str, Any] = field(default_factory=dict)

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


# ----------------------------------------------------------------------------- helpers


def slugify(name: str) -> str:
    """A lowercase ASCII key from a name: "Massage (60 min)" -> "massage-60-min"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64]


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    return repr(value) if isinstance(value, str) else str(value)


def _unknown(noun: str, value: Any, choices: Iterable[str]) -> str:
    message = f"unknown {noun} {_show(value)}"
    close = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.6)
    return f"{message}; did you mean {close[0]!r}?" if close else message


class _Table:
    """One TOML table being read: typed getters whose errors name the field's path."""

    def __init__(self, data: Any, path: str, allowed: Iterable[str], noun: str = "key") -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, f"must be a table, got {_show(data)}")
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                raise ConfigError(self._join(path, key), _unknown(noun, key, allowed))
        self.data: dict[str, Any] = data
        self.path = path

    @staticmethod
    def _join(path: str, key: str) -> str:
        return f"{path}.{key}" if path else key

    def at(self, key: str) -> str:
        """The path of one of this table's keys."""
        return self._join(self.path, key)

    def get(self, key: str, kinds: tuple[type, ...], what: str, default: Any = _REQUIRED) -> Any:
        """The value at `key`, checked to be one of `kinds` (bools are not numbers)."""
        if key not in self.data:
            if default is _REQUIRED:
                raise ConfigError(self.at(key), "is required but missing")
            return default
        value = self.data[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ConfigError(self.at(key), f"must be {what}, got {_show(value)}")
        return value

    def text(self, key: str, default: Any = _REQUIRED) -> Any:
        """A non-empty string, stripped."""
        value = self.get(key, (str,), "text in quotes", default)
        if key not in self.data:
            return value
        if not value.strip():
            raise ConfigError(self.at(key), "must not be empty")
        return value.strip()

    def integer(self, key: str, low: int, high: int | None, default: Any = _REQUIRED) -> Any:
        """A whole number within [low, high]."""
        value = self.get(key, (int,), "a whole number", default)
        if key in self.data:
            _check_between(value, low, high, self.at(key))
        return value

    def strings(self, key: str) -> list[str]:
        """A list of non-empty strings (empty when absent)."""
        values = self.get(key, (list,), "a list of text values", [])
        for value in values:
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(self.at(key), f"must hold non-empty text, got {_show(value)}")
        return [value.strip() for value in values]

    def tables(self, key: str) -> list[Any]:
        """An array of tables ([[key]]), empty when absent."""
        return self.get(key, (list,), f"an array of tables ([[{key}]])", [])


def _check_between(value: int, low: int, high: int | None, path: str) -> None:
    if high is None and value < low:
        raise ConfigError(path, f"must be at least {low}, got {value}")
    if high is not None and not low <= value <= high:
        raise ConfigError(path, f"must be between {low} and {high}, got {value}")


def _key(table: _Table, name: str) -> str:
    """An entry's key: its explicit `key`, else its slugified name."""
    if "key" not in table.data:
        key = slugify(name)
        if not key:
            raise ConfigError(table.at("name"), f"gives no key (no letters or digits): {name!r}")
        return key
    key = table.text("key")
    if not _SLUG.match(key):
        raise ConfigError(table.at("key"), f"must be lowercase letters, digits and -, got {key!r}")
    return key


def _check_unique(key: str, seen: dict[str, str], path: str) -> None:
    if key in seen:
        raise ConfigError(path, f"duplicate key {key!r} (also {seen[key]})")
    seen[key] = path


# ------------------------------------------------------------------ values: time, money


def _parse_time(text: str, path: str) -> time:
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ConfigError(path, f"not a time like 09:30, got {text!r}")
    return time(int(hours), int(minutes))


def _parse_range(text: str, path: str, wraps: bool = False) -> Range:
    match = _RANGE.match(text)
    if not match:
        raise ConfigError(path, f"not a time range like '09:00-17:00', got {text.strip()!r}")
    start, end = (_parse_time(part, path) for part in match.groups())
    if end == start:
        raise ConfigError(path, f"starts and ends at the same time: {text.strip()!r}")
    if end < start and not wraps:
        raise ConfigError(path, f"ends before it starts: {text.strip()!r}")
    return start, end


def _format_range(span: Range) -> str:
    return f"{span[0]:%H:%M}-{span[1]:%H:%M}"


def _parse_ranges(value: Any, path: str) -> list[Range]:
    """'closed', or one or more comma-separated ranges that do not overlap."""
    if not isinstance(value, str):
        raise ConfigError(path, f"must be text like '09:00-17:00' or 'closed', got {_show(value)}")
    if value.strip().lower() in ("closed", "off"):
        return []
    spans = sorted(_parse_range(part, path) for part in value.split(","))
    for before, after in zip(spans, spans[1:], strict=False):
        if after[0] < before[1]:
            overlap = f"{_format_range(before)} and {_format_range(after)}"
            raise ConfigError(path, f"ranges {overlap} overlap")
    return spans


def _weekday(key: str, path: str) -> int:
    name = key.strip().lower()
    for names in (WEEKDAYS, _FULL_WEEKDAYS):
        if name in names:
            return names.index(name)
    raise ConfigError(path, _unknown("weekday", key, WEEKDAYS + _FULL_WEEKDAYS))


def _parse_week(value: Any, path: str) -> Week:
    """A weekday table ({ tue = "09:00-17:00" }); days not given are closed."""
    if not isinstance(value, dict):
        raise ConfigError(
            path, f'must be a table like {{ tue = "09:00-17:00" }}, got {_show(value)}'
        )
    week: Week = {day: [] for day in range(7)}
    seen: dict[int, str] = {}
    for key, spec in value.items():
        day = _weekday(key, f"{path}.{key}")
        if day in seen:
            raise ConfigError(f"{path}.{key}", f"{WEEKDAYS[day]} given twice ({seen[day]!r})")
        seen[day] = key
        week[day] = _parse_ranges(spec, f"{path}.{key}")
    return week


def _parse_date(value: Any, path: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(path, f"not a date like 2026-12-25, got {_show(value)}")


def _parse_decimal(value: Any, path: str, what: str) -> Decimal:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            return number
    raise ConfigError(path, f"must be {what}, got {_show(value)}")


def _parse_money(value: Any, path: str, currency: str) -> int:
    """An amount ("45.00" or 45) in the currency's minor units; too many decimals refused."""
    amount = _parse_decimal(value, path, 'an amount like "45.00"')
    if amount < 0:
        raise ConfigError(path, f"must not be negative, got {_show(value)}")
    digits = get_currency_precision(currency)
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        raise ConfigError(
            path, f"has more than {digits} decimal places for {currency}, got {_show(value)}"
        )
    return int(minor)


def _parse_reminder(value: Any, path: str) -> int:
    """Minutes before an appointment: 120, "2h", "30m", "1d"."""
    if isinstance(value, int) and not isinstance(value, bool):
        minutes = value
    else:
        match = _DURATION.match(value) if isinstance(value, str) else None
        if not match:
            raise ConfigError(path, f"not a duration like '24h' or '30m', got {_show(value)}")
        unit = match.group(2)[0].lower()
        minutes = int(match.group(1)) * {"m": 1, "h": 60, "d": 1440}[unit]
    _check_between(minutes, 1, 43200, path)
    return minutes


# ------------------------------------------------------------ values: zones, people


def _parse_timezone(value: str, path: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(path, _unknown("time zone", value, available_timezones())) from None
    return value


def _parse_currency(value: str, path: str) -> str:
    code = value.upper()
    if code not in list_currencies():
        raise ConfigError(path, _unknown("currency", value, sorted(list_currencies())))
    return code


def _parse_locale(value: str, path: str) -> str:
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        raise ConfigError(path, f"unknown locale {value!r}; use one like 'en_US'") from None


def _parse_phone(value: str, path: str) -> str:
    """An international phone number, normalised to E.164."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ConfigError(path, f"not a phone number like '+12125550100', got {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parse_identity(value: str, path: str) -> str:
    """A channel identity such as 'sms:+12125550101', 'telegram:1001' or 'web:owner'."""
    channel, sep, address = value.partition(":")
    channel, address = channel.strip().lower(), address.strip()
    if not sep or not address:
        raise ConfigError(path, f"not an identity like 'sms:+12125550101', got {value!r}")
    if channel not in CHANNELS:
        raise ConfigError(path, _unknown("channel", channel, CHANNELS))
    if channel in ("sms", "whatsapp"):
        address = _parse_phone(address, path)
    elif channel == "telegram" and not address.lstrip("-").isdigit():
        raise ConfigError(path, f"telegram identities are numeric chat ids, got {value!r}")
    return f"{channel}:{address}"


def _parse_identities(table: _Table, key: str, seen: dict[str, str]) -> list[str]:
    identities = []
    for value in table.strings(key):
        identity = _parse_identity(value, table.at(key))
        if identity in seen:
            raise ConfigError(
                table.at(key), f"{identity!r} is listed twice (also {seen[identity]})"
            )
        seen[identity] = table.at(key)
        identities.append(identity)
    return identities


# ----------------------------------------------------------------------- sections


def _parse_business(data: Any) -> dict[str, Any]:
    table = _Table(data, "business", _BUSINESS_KEYS)
    fields_: dict[str, Any] = {"name": table.text("name")}
    fields_["timezone"] = _parse_timezone(table.text("timezone"), table.at("timezone"))
    fields_["currency"] = _parse_currency(table.text("currency"), table.at("currency"))
    fields_["locale"] = _parse_locale(table.text("locale", "en_US"), table.at("locale"))
    tax = _parse_decimal(table.data.get("tax_rate", 0), table.at("tax_rate"), "a percent")
    if not 0 <= tax <= 100:
        raise ConfigError(table.at("tax_rate"), f"must be a percent from 0 to 100, got {tax}")
    if int(tax.as_tuple().exponent) < -4:  # the column holds a short exact string
        raise ConfigError(table.at("tax_rate"), f"has more than 4 decimal places, got {tax}")
    fields_["tax_rate"] = tax
    phone = table.text("phone", None)
    fields_["phone"] = phone and _parse_phone(phone, table.at("phone"))
    fields_["address"] = table.text("address", None)
    email = fields_["email"] = table.text("email", None)
    if email is not None and not _EMAIL.match(email):
        raise ConfigError(table.at("email"), f"not an email address, got {email!r}")
    url = fields_["review_url"] = table.text("review_url", None)
    if url is not None and not url.startswith(("https://", "http://")):
        raise ConfigError(table.at("review_url"), f"must start with https://, got {url!r}")
    key = fields_["owner_key"] = table.text("owner_key", None)
    if key is not None and len(key) < 8:
        raise ConfigError(table.at("owner_key"), f"must be at least 8 characters, got {key!r}")
    pin = fields_["owner_pin"] = table.get(
        "owner_pin", (str,), 'digits in quotes, like "4821"', None
    )
    if pin is not None and not _PIN.match(pin):
        raise ConfigError(table.at("owner_pin"), 'must be 4 to 12 digits in quotes, like "4821"')
    fields_["owners"] = _parse_identities(table, "owners", {})
    return fields_


def _parse_closures(table: _Table) -> list[Closure]:
    closures = []
    for i, data in enumerate(table.tables("closures")):
        entry = _Table(data, f"closures[{i}]", ("date", "reason"))
        day = _parse_date(entry.get("date", (date, str), "a date"), entry.at("date"))
        closures.append(Closure(day, entry.text("reason", "")))
    return closures


def _parse_rules(data: Any) -> BookingRules:
    table = _Table(data, "rules", _RULE_LIMITS)
    values = {}
    for name, (low, high) in _RULE_LIMITS.items():
        values[name] = table.integer(name, low, high, getattr(BookingRules, name))
    return BookingRules(**values)


def _percent_or_amount(
    value: Any, path: str, currency: str, percent_example: str, amount_example: int
) -> Any:
    """Refuse a value that could be a percent or an amount: "1.5" means neither until it says.

    A percent ends in "%"; an amount is written with the currency's decimals ("1.50"). The
    percent text is returned for the caller to read, the amount as minor units (an int).
    """
    if isinstance(value, str) and value.strip().endswith("%"):
        return value.strip()
    digits = get_currency_precision(currency)
    example = f"{amount_example:.{digits}f}"
    pattern = rf"\d+\.\d{{{digits}}}" if digits else r"\d+"
    if isinstance(value, str) and re.fullmatch(pattern, value.strip()):
        return _parse_money(value.strip(), path, currency)
    forms = f'a percent like "{percent_example}" or an amount like "{example}"'
    raise ConfigError(path, f"must be {forms}, got {_show(value)}")


def _parse_fee(table: _Table, key: str, currency: str) -> int | None:
    """An amount like "25.00", or "off" (None)."""
    value = table.get(key, (str, int, float), 'an amount like "25.00" or "off"', "off")
    if isinstance(value, str) and value.strip().lower() in ("off", "none"):
        return None
    minor = _parse_money(value, table.at(key), currency)
    if minor == 0:
        raise ConfigError(table.at(key), f'must be more than zero (or "off"), got {_show(value)}')
    return minor


def _parse_billing(data: Any, currency: str) -> BillingConfig:
    table = _Table(data, "billing", _BILLING_KEYS)
    default = BillingConfig()
    prefixes = {}
    for key in ("invoice_prefix", "estimate_prefix"):
        prefix = table.get(key, (str,), "text in quotes", getattr(default, key))
        if not _NUMBER_PREFIX.match(prefix):
            problem = f"must be up to 12 letters, digits or - _ . / #, got {prefix!r}"
            raise ConfigError(table.at(key), problem)
        prefixes[key] = prefix
    if prefixes["invoice_prefix"] == prefixes["estimate_prefix"]:
        problem = f"must differ from invoice_prefix, got {prefixes['estimate_prefix']!r}"
        raise ConfigError(table.at("estimate_prefix"), problem)
    percent, flat = None, 0
    charge = table.get(
        "finance_charge", (str, int, float), 'a percent like "1.5%" or an amount like "5.00"', "off"
    )
    path = table.at("finance_charge")
    if isinstance(charge, str) and charge.strip().endswith("%"):
        rate = _parse_decimal(charge.strip()[:-1], path, 'a percent like "1.5%"')
        if not 0 < rate <= 25:
            problem = f"must be a percent per month above 0% up to 25%, got {charge!r}"
            raise ConfigError(path, problem)
        if int(rate.as_tuple().exponent) < -4:
            raise ConfigError(path, f"has more than 4 decimal places, got {charge!r}")
        percent = str(rate)
    elif not (isinstance(charge, str) and charge.strip().lower() in ("off", "none")):
        flat = _percent_or_amount(charge, path, currency, "1.5%", 5)
        if flat == 0:
            raise ConfigError(path, f'must be more than zero (or "off"), got {_show(charge)}')
    auto_charge = table.text("auto_charge", default.auto_charge)
    if auto_charge not in AUTO_CHARGE_CHOICES:
        problem = _unknown("choice", auto_charge, AUTO_CHARGE_CHOICES)
        raise ConfigError(table.at("auto_charge"), problem)
    minimum = table.get("finance_charge_minimum_balance", (str, int, float), "an amount", 0)
    return BillingConfig(
        invoice_prefix=prefixes["invoice_prefix"],
        estimate_prefix=prefixes["estimate_prefix"],
        payment_terms_days=table.integer("payment_terms_days", 0, 365, default.payment_terms_days),
        finance_charge_percent=percent,
        finance_charge_flat_minor=flat,
        finance_charge_grace_days=table.integer("finance_charge_grace_days", 0, 365, 0),
        finance_charge_minimum_minor=_parse_money(
            minimum, table.at("finance_charge_minimum_balance"), currency
        ),
        deposit_hold_hours=table.integer("deposit_hold_hours", 1, 720, default.deposit_hold_hours),
        auto_charge=auto_charge,
        statement_day=table.integer("statement_day", 1, 28, default.statement_day),
        no_show_fee_minor=_parse_fee(table, "no_show_fee", currency),
        offline_payment=_parse_offline_payment(table),
    )


def _parse_offline_payment(table: _Table) -> str:
    """How to pay without online payments: plain text for the pay page, not too long."""
    text = table.text("offline_payment", DEFAULT_OFFLINE_PAYMENT)
    if len(text) > MAX_OFFLINE_PAYMENT:
        problem = f"must be at most {MAX_OFFLINE_PAYMENT} characters, got {len(text)}"
        raise ConfigError(table.at("offline_payment"), problem)
    if any(ord(c) < 32 and c != "\n" for c in text):
        raise ConfigError(table.at("offline_payment"), "must not hold control characters")
    return text


def _parse_colour(table: _Table, key: str, default: str | None) -> str | None:
    """A "#rrggbb" (or "#rgb") colour, normalised to lowercase "#rrggbb"."""
    value = table.text(key, default)
    if value is None or key not in table.data:
        return value
    if not _HEX_COLOUR.match(value):
        raise ConfigError(table.at(key), f'must be a hex colour like "#2f5d50", got {value!r}')
    digits = value[1:].lower()
    return "#" + (digits if len(digits) == 6 else "".join(ch * 2 for ch in digits))


def _parse_branding(data: Any, base: Path | None) -> BrandingConfig:
    table = _Table(data, "branding", _BRANDING_KEYS)
    colour = _parse_colour(table, "colour", DEFAULT_BRAND_COLOUR)
    assert colour is not None
    ratio = min(contrast_ratio(colour, "#ffffff"), contrast_ratio(colour, PAGE_GREY))
    if ratio < MIN_CONTRAST:
        problem = f"{colour} is too light for text on the pages ({ratio:.1f}:1"
        raise ConfigError(table.at("colour"), f"{problem}; WCAG AA needs 4.5:1): go darker")
    logo = table.text("logo", None)
    if logo is not None and not logo.startswith(("https://", "http://")):
        path = Path(logo).expanduser()
        if not path.is_absolute():
            path = (base or Path.cwd()) / path
        if path.suffix.lower() not in _LOGO_SUFFIXES:
            kinds = ", ".join(_LOGO_SUFFIXES)
            raise ConfigError(table.at("logo"), f"must be an image ({kinds}), got {logo!r}")
        if not path.is_file():
            raise ConfigError(table.at("logo"), f"file not found: {str(path)!r}")
        logo = str(path.resolve())
    return BrandingConfig(logo=logo, colour=colour, accent=_parse_colour(table, "accent", None))


def _parse_notifications(data: Any) -> tuple[list[int], Range | None]:
    table = _Table(data, "notifications", _NOTIFICATION_KEYS)
    path = table.at("reminders")
    reminders = [1440, 120]
    if "reminders" in table.data:
        values = table.get("reminders", (list,), 'a list like ["24h", "2h"]')
        reminders = sorted({_parse_reminder(value, path) for value in values}, reverse=True)
    quiet = table.text("quiet_hours", "21:00-08:00")
    if quiet.lower() in ("off", "none"):
        return reminders, None
    return reminders, _parse_range(quiet, table.at("quiet_hours"), wraps=True)


def _parse_messaging(top: _Table, notifications: Any) -> MessagingConfig:
    """[messaging], [waitlist], [followup] and the alert keys of [notifications]."""
    default = MessagingConfig()
    notes = _Table(notifications, "notifications", _NOTIFICATION_KEYS)
    sending = _Table(
        top.get("messaging", (dict,), "a [messaging] table", {}),
        "messaging",
        ("max_attempts", "whatsapp_outside_window", "whatsapp_template"),
    )
    waitlist = _Table(
        top.get("waitlist", (dict,), "a [waitlist] table", {}), "waitlist", ("offer_minutes",)
    )
    followup = _Table(
        top.get("followup", (dict,), "a [followup] table", {}),
        "followup",
        ("feedback_requests", "feedback_delay_minutes", "rebook_nudges"),
    )
    fallback = sending.text("whatsapp_outside_window", default.whatsapp_outside_window)
    if fallback not in _WHATSAPP_FALLBACKS:
        raise ConfigError(
            sending.at("whatsapp_outside_window"), _unknown("choice", fallback, _WHATSAPP_FALLBACKS)
        )
    template = sending.text("whatsapp_template", None)
    if template is not None and not re.fullmatch(r"HX[0-9a-fA-F]{32}", template):
        problem = f"must be a Twilio Content SID like 'HX' + 32 hex digits, got {template!r}"
        raise ConfigError(sending.at("whatsapp_template"), problem)
    if fallback == "template" and template is None:
        problem = 'is required when whatsapp_outside_window = "template"'
        raise ConfigError(sending.at("whatsapp_template"), problem)
    flag = (bool,), "true or false"
    return MessagingConfig(
        max_attempts=sending.integer("max_attempts", 1, 50, default.max_attempts),
        whatsapp_outside_window=fallback,
        whatsapp_template=template,
        unconfirmed_alert_hours=notes.integer(
            "unconfirmed_alert_hours", 0, 168, default.unconfirmed_alert_hours
        ),
        auto_no_show=notes.get("auto_no_show", *flag, default.auto_no_show),
        no_show_grace_minutes=notes.integer(
            "no_show_grace_minutes", 0, 1440, default.no_show_grace_minutes
        ),
        waitlist_offer_minutes=waitlist.integer(
            "offer_minutes", 5, 1440, default.waitlist_offer_minutes
        ),
        feedback_requests=followup.get("feedback_requests", *flag, default.feedback_requests),
        feedback_delay_minutes=followup.integer(
            "feedback_delay_minutes", 0, 10080, default.feedback_delay_minutes
        ),
        rebook_nudges=followup.get("rebook_nudges", *flag, default.rebook_nudges),
    )


def _parse_resources(table: _Table) -> list[ResourceConfig]:
    resources: list[ResourceConfig] = []
    seen: dict[str, str] = {}
    for i, data in enumerate(table.tables("resources")):
        entry = _Table(data, f"resources[{i}]", ("key", "name", "kind"))
        name = entry.text("name")
        key = _key(entry, name)
        _check_unique(key, seen, entry.at("key"))
        kind = entry.text("kind")
        if not _SLUG.match(kind):
            raise ConfigError(
                entry.at("kind"), f"must be a lowercase word like 'room', got {kind!r}"
            )
        resources.append(ResourceConfig(key, name, kind))
    return resources


def _parse_deposit(value: Any, path: str, currency: str, price_minor: int) -> tuple[int, int]:
    """(deposit_minor, deposit_percent) from "10.00" or "20%"; never more than the price."""
    read = _percent_or_amount(value, path, currency, "20%", 10)
    if isinstance(read, str):
        percent = _parse_decimal(read[:-1], path, 'a percent like "20%"')
        if percent != percent.to_integral_value() or not 1 <= percent <= 100:
            raise ConfigError(path, f"must be a whole percent from 1% to 100%, got {value!r}")
        return 0, int(percent)
    minor = read
    if minor > price_minor:
        raise ConfigError(path, f"deposit {_show(value)} is more than the price")
    return minor, 0


def _parse_service(table: _Table, currency: str, kinds: set[str]) -> ServiceConfig:
    name = table.text("name")
    key = _key(table, name)
    price = _parse_money(
        table.get("price", (str, int, float), "an amount"), table.at("price"), currency
    )
    deposit_minor, deposit_percent = 0, 0
    if "deposit" in table.data:
        deposit = table.get("deposit", (str, int, float), 'an amount or "20%"')
        deposit_minor, deposit_percent = _parse_deposit(
            deposit, table.at("deposit"), currency, price
        )
    staff = table.get("staff", (str, list), 'a list of staff keys or "*"', [])
    staff = table.strings("staff") if isinstance(staff, list) else [staff.strip()]
    location = table.text("location", "in_shop")
    if location not in _LOCATIONS:
        raise ConfigError(table.at("location"), _unknown("location", location, _LOCATIONS))
    needs = table.strings("needs")
    for kind in needs:
        if kind not in kinds:
            raise ConfigError(table.at("needs"), _unknown("resource kind", kind, kinds))
    aliases = list(dict.fromkeys(table.strings("aliases")))
    return ServiceConfig(
        key=key,
        name=name,
        duration_minutes=table.integer("duration_minutes", 5, 1440),
        price_minor=price,
        aliases=aliases,
        buffer_before_minutes=table.integer("buffer_before_minutes", 0, 1440, 0),
        buffer_after_minutes=table.integer("buffer_after_minutes", 0, 1440, 0),
        staff_keys=[ANY_STAFF] if ANY_STAFF in staff else staff,
        on_site=_LOCATIONS[location],
        deposit_minor=deposit_minor,
        deposit_percent=deposit_percent,
        resource_kinds=list(dict.fromkeys(needs)),
        rebook_after_days=table.integer("rebook_after_days", 1, 3650, None),
        skill=_parse_skill(table),
        outdoor=table.get("outdoor", (bool,), "true or false", False),
        window_minutes=table.integer("window_minutes", 15, 720, None),
        disclaimer_before=table.text("disclaimer_before", None),
        disclaimer_after=table.text("disclaimer_after", None),
    )


def _parse_time_off(table: _Table) -> list[Leave]:
    leaves = []
    for i, data in enumerate(table.tables("time_off")):
        entry = _Table(data, f"{table.at('time_off')}[{i}]", ("from", "to", "reason"))
        start = _parse_date(entry.get("from", (date, str), "a date"), entry.at("from"))
        end = _parse_date(entry.get("to", (date, str), "a date", start), entry.at("to"))
        if end < start:
            raise ConfigError(entry.at("to"), f"is before 'from' ({start}), got {end}")
        leaves.append(Leave(start, end, entry.text("reason", "")))
    return leaves


def _check_breaks(breaks: Week, hours: Week, path: str) -> None:
    for day, spans in breaks.items():
        for start, end in spans:
            if not any(s <= start and end <= e for s, e in hours[day]):
                span = _format_range((start, end))
                raise ConfigError(
                    f"{path}.{WEEKDAYS[day]}", f"break {span} is outside working hours"
                )


def _parse_skill(table: _Table) -> str | None:
    """The skill a service needs: a lowercase word like 'gas'."""
    skill = table.text("skill", None)
    if skill is not None and not _SLUG.match(skill):
        raise ConfigError(table.at("skill"), f"must be a lowercase word like 'gas', got {skill!r}")
    return skill


def _parse_home(table: _Table) -> dict[str, Any]:
    """Skills and home base: home_lat/home_lon, else the home_address's postal code."""
    skills = list(dict.fromkeys(table.strings("skills")))
    for skill in skills:
        if not _SLUG.match(skill):
            problem = f"must hold lowercase words like 'gas', got {skill!r}"
            raise ConfigError(table.at("skills"), problem)
    address = table.text("home_address", None)
    number = (int, float), "a number of degrees"
    lat, lon = table.get("home_lat", *number, None), table.get("home_lon", *number, None)
    if (lat is None) != (lon is None):
        raise ConfigError(table.at("home_lat"), "home_lat and home_lon go together")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ConfigError(table.at("home_lat"), f"not a place on Earth: {lat}, {lon}")
    if lat is None and address is not None:
        point = postal_centroid(address)
        if point is None:
            problem = "has no known US postal code; add one, or give home_lat and home_lon"
            raise ConfigError(table.at("home_address"), problem)
        lat, lon = point.lat, point.lon
    return {
        "skills": skills,
        "home_address": address,
        "home_lat": None if lat is None else float(lat),
        "home_lon": None if lon is None else float(lon),
    }


def _home_values(member: StaffConfig) -> dict[str, Any]:
    """A staff member's field-service columns."""
    return {
        "skills": list(member.skills),
        "home_address": member.home_address,
        "home_lat": member.home_lat,
        "home_lon": member.home_lon,
    }


def _parse_travel(data: Any) -> TravelConfig:
    """[travel]: road factor, average speed, and an optional routing service and geocoder."""
    table = _Table(data, "travel", _TRAVEL_KEYS)
    default = TravelConfig()
    number = (int, float), "a number"
    factor = table.get("road_factor", *number, default.road_factor)
    if not 1 <= factor <= 3:
        raise ConfigError(table.at("road_factor"), f"must be between 1 and 3, got {factor}")
    speed = table.get("average_kmh", *number, default.average_kmh)
    if not 5 <= speed <= 130:
        raise ConfigError(table.at("average_kmh"), f"must be between 5 and 130, got {speed}")
    timeout = table.get("routing_timeout_seconds", *number, default.routing_timeout_seconds)
    if not 0.1 <= timeout <= 30:
        problem = f"must be between 0.1 and 30, got {timeout}"
        raise ConfigError(table.at("routing_timeout_seconds"), problem)
    urls = {}
    for key in ("routing_url", "geocoder_url"):
        url = urls[key] = table.text(key, None)
        if url is not None and not url.startswith(("https://", "http://")):
            raise ConfigError(table.at(key), f"must start with https://, got {url!r}")
    return TravelConfig(
        road_factor=float(factor),
        average_kmh=float(speed),
        routing_url=urls["routing_url"],
        routing_timeout_seconds=float(timeout),
        geocoder=table.text("geocoder", None),
        geocoder_key=table.text("geocoder_key", None),
        geocoder_url=urls["geocoder_url"],
    )


def _parse_aliases(table: _Table, seen: dict[str, str]) -> list[str]:
    """A staff member's nicknames; one nickname cannot stand for two people."""
    aliases = []
    for alias in dict.fromkeys(table.strings("aliases")):
        folded = " ".join(alias.lower().split())
        if folded in seen:
            raise ConfigError(
                table.at("aliases"), f"{alias!r} is listed twice (also {seen[folded]})"
            )
        seen[folded] = table.at("aliases")
        aliases.append(alias)
    return aliases


def _parse_staff(
    data: Any,
    index: int,
    hours: Week,
    identities: dict[str, str],
    aliases: dict[str, str] | None = None,
) -> StaffConfig:
    # Name the entry by its key when it has one: staff[sam] reads better than staff[2].
    label = ""
    if isinstance(data, dict):
        label = str(data.get("key") or slugify(str(data.get("name", ""))))
    table = _Table(data, f"staff[{label or index}]", _STAFF_KEYS)
    name = table.text("name")
    staff_hours = hours
    if "hours" in table.data:
        staff_hours = _parse_week(table.data["hours"], table.at("hours"))
    breaks = _parse_week(table.data.get("breaks", {}), table.at("breaks"))
    _check_breaks(breaks, staff_hours, table.at("breaks"))
    return StaffConfig(
        key=_key(table, name),
        name=name,
        services=list(dict.fromkeys(table.strings("services"))),
        hours={day: list(spans) for day, spans in staff_hours.items()},
        breaks=breaks,
        time_off=_parse_time_off(table),
        per_day_limit=table.integer("per_day_limit", 1, None, None),
        identities=_parse_identities(table, "identities", identities),
        aliases=_parse_aliases(table, {} if aliases is None else aliases),
        **_parse_home(table),
    )


def _link(services: list[ServiceConfig], staff: list[StaffConfig]) -> list[StaffConfig]:
    """Check cross references; give each staff member the union of both sides' lists."""
    staff_keys = [member.key for member in staff]
    service_keys = [service.key for service in services]
    for i, service in enumerate(services):
        for key in service.staff_keys:
            if key != ANY_STAFF and key not in staff_keys:
                raise ConfigError(f"services[{i}].staff", _unknown("staff member", key, staff_keys))
    for member in staff:
        for key in member.services:
            if key not in service_keys:
                path = f"staff[{member.key}].services"
                raise ConfigError(path, _unknown("service", key, service_keys))
    for i, service in enumerate(services):
        for key in service.staff_keys:
            member = next((m for m in staff if m.key == key), None)
            if service.skill and member is not None and service.skill not in member.skills:
                problem = f"{member.name!r} lacks the skill {service.skill!r} this service needs"
                raise ConfigError(f"services[{i}].staff", problem)
    linked = []
    for member in staff:
        listed = {
            s.key
            for s in services
            if {ANY_STAFF, member.key} & set(s.staff_keys)
            and (s.skill is None or s.skill in member.skills)
        }
        own = listed | set(member.services)
        linked.append(replace(member, services=[key for key in service_keys if key in own]))
    for i, service in enumerate(services):
        if not any(service.key in member.services for member in linked):
            problem = f"nobody can do {service.name!r}; list staff here or on a staff member"
            raise ConfigError(f"services[{i}].staff", problem)
    return linked


def parse_config(
    text: str, source: str = "business.toml", base: Path | None = None
) -> BusinessConfig:
    """Parse and validate business.toml text; ConfigError names the first problem.

    `base` is the folder relative file names (the logo) are read from; the working folder
    when not given.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(source, f"is not valid TOML: {exc}") from None
    return _parse_raw(raw, base)


def _parse_raw(raw: dict[str, Any], base: Path | None) -> BusinessConfig:
    """Validate parsed TOML into a BusinessConfig; ConfigError names the first problem."""
    top = _Table(raw, "", _SECTIONS, noun="section")
    engagement_settings(raw)  # refuse a mistyped [handover] or [promotions] now
    business = _parse_business(top.get("business", (dict,), "a [business] table"))
    zone_hours = _parse_week(top.get("hours", (dict,), "an [hours] table"), "hours")
    closures = _parse_closures(top)
    rules = _parse_rules(top.get("rules", (dict,), "a [rules] table", {}))
    notes = top.get("notifications", (dict,), "a [notifications] table", {})
    reminders, quiet_hours = _parse_notifications(notes)
    resources = _parse_resources(top)
    kinds = {resource.kind for resource in resources}
    services: list[ServiceConfig] = []
    seen: dict[str, str] = {}
    for i, data in enumerate(top.tables("services")):
        service = _parse_service(
            _Table(data, f"services[{i}]", _SERVICE_KEYS), business["currency"], kinds
        )
        _check_unique(service.key, seen, f"services[{i}].key")
        services.append(service)
    if not services:
        raise ConfigError("services", "at least one [[services]] entry is required")
    staff: list[StaffConfig] = []
    seen, identities, aliases = {}, {}, {}
    for i, data in enumerate(top.tables("staff")):
        member = _parse_staff(data, i, zone_hours, identities, aliases)
        _check_unique(member.key, seen, f"staff[{i}].key")
        staff.append(member)
    return BusinessConfig(
        **business,
        hours=zone_hours,
        closures=closures,
        rules=rules,
        services=services,
        staff=_link(services, staff),
        resources=resources,
        reminders=reminders,
        quiet_hours=quiet_hours,
        messaging=_parse_messaging(top, notes),
        billing=_parse_billing(
            top.get("billing", (dict,), "a [billing] table", {}), business["currency"]
        ),
        branding=_parse_branding(top.get("branding", (dict,), "a [branding] table", {}), base),
        travel=_parse_travel(top.get("travel", (dict,), "a [travel] table", {})),
        raw=raw,
    )


MAX_PROBLEMS = 50
_STEP = re.compile(r"([^.\[\]]+)((?:\[\d+\])*)")


def config_problems(
    text: str, source: str = "business.toml", base: Path | None = None
) -> list[ConfigError]:
    """Every problem in business.toml text, one ConfigError each, in file order of discovery.

    The parser stops at the first problem, so each one found is set aside — the value
    replaced by the starter template's value for the same field, or removed when the
    template has none — and the file read again, until it parses or nothing more can be
    set aside (then the last line says later problems may be hidden).
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [ConfigError(source, f"is not valid TOML: {exc}")]
    template = tomllib.loads(TEMPLATE_PATH.read_text(encoding="utf-8"))
    problems: list[ConfigError] = []
    attempts: dict[str, int] = {}
    while len(problems) < MAX_PROBLEMS:
        try:
            _parse_raw(copy.deepcopy(raw), base)
            return problems
        except ConfigError as problem:
            if not any(seen.field == problem.field for seen in problems):
                problems.append(problem)
            attempts[problem.field] = attempts.get(problem.field, 0) + 1
            if not _set_aside(raw, template, problem, attempts[problem.field]):
                break
    problems.append(ConfigError(source, "fix these and check again: more may be hidden"))
    return problems


def _steps(field: str) -> list[str | int] | None:
    """'services[2].price' → ['services', 2, 'price']; None when it is not a field path."""
    steps: list[str | int] = []
    for part in field.split("."):
        match = _STEP.fullmatch(part)
        if not match:
            return None
        steps.append(match.group(1))
        steps += [int(index) for index in re.findall(r"\[(\d+)\]", match.group(2))]
    return steps


def _set_aside(
    raw: dict[str, Any], template: dict[str, Any], problem: ConfigError, attempt: int
) -> bool:
    """Rename a misspelt key, replace (first try) or remove (second try) the value at the
    problem's field; False when stuck."""
    steps = _steps(problem.field)
    if not steps or attempt > 2:
        return False
    container: Any = raw
    for step in steps[:-1]:
        try:
            container = container[step]
        except (KeyError, IndexError, TypeError):
            return False
    last = steps[-1]
    if not isinstance(container, dict) or not isinstance(last, str):
        return False
    meant = re.search(r"^unknown (?:key|section) .*did you mean '([^']+)'", problem.problem)
    if attempt == 1 and meant and last in container and meant.group(1) not in container:
        container[meant.group(1)] = container.pop(last)
        return True
    if attempt == 1:
        fallback = _template_value(template, steps)
        if fallback is not None and container.get(last) != fallback:
            container[last] = copy.deepcopy(fallback)
            return True
    if last in container:
        del container[last]
        return True
    return False


def _template_value(template: Any, steps: list[str | int]) -> Any:
    """The starter template's value for the same field (any index reads its first entry)."""
    value = template
    for step in steps:
        if isinstance(step, int):
            value = value[0] if isinstance(value, list) and value else None
        else:
            value = value.get(step) if isinstance(value, dict) else None
        if value is None:
            return None
    return value
# [handover] and [promotions], optional: read from the raw TOML into Business.settings.
HANDOVER_QUIET_MINUTES = 30
CONSENT_QUESTION = (
    "One more thing: would you like to hear about our offers now and then? "
    "Reply YES or NO (you can say unsubscribe at any time)."
)


def engagement_settings(raw: dict[str, Any]) -> dict[str, Any]:
    """[handover] quiet_minutes and [promotions] ask_after_first_booking / consent_question."""
    handover = _Table(raw.get("handover", {}), "handover", ("quiet_minutes",))
    promotions = _Table(
        raw.get("promotions", {}),
        "promotions",
        ("ask_after_first_booking", "consent_question"),
    )
    return {
        "handover": {
            "quiet_minutes": handover.integer("quiet_minutes", 1, 10080, HANDOVER_QUIET_MINUTES)
        },
        "promotions": {
            "ask_after_first_booking": promotions.get(
                "ask_after_first_booking", (bool,), "true or false", True
            ),
            "consent_question": promotions.text("consent_question", CONSENT_QUESTION),
        },
    }


def load_config(path: str | Path) -> BusinessConfig:
    """Read and validate a business.toml file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "not found; `slotbot init` writes a starter file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(path.name, f"is not UTF-8 text ({exc.reason})") from None
    return parse_config(text, source=path.name, base=path.parent)


def write_template(path: str | Path) -> None:
    """Write the commented starter business.toml; never overwrites an existing file."""
    try:
        with open(path, "x", encoding="utf-8") as out:
            out.write(TEMPLATE_PATH.read_text(encoding="utf-8"))
    except FileExistsError:
        raise ConfigError(str(path), "already exists; not overwritten") from None


# ----------------------------------------------------------------------- settings


def settings_for(cfg: BusinessConfig) -> dict[str, Any]:
    """The JSON `Business.settings` dict: rules, notifications, contact details, owners."""
    quiet = cfg.quiet_hours
    return {
        "rules": asdict(cfg.rules),
        "reminders": list(cfg.reminders),
        "quiet_hours": [f"{quiet[0]:%H:%M}", f"{quiet[1]:%H:%M}"] if quiet else None,
        "owners": list(cfg.owners),
        "messaging": asdict(cfg.messaging),
        "billing": asdict(cfg.billing),
        "branding": asdict(cfg.branding),
        "travel": asdict(cfg.travel),
        "phone": cfg.phone,
        "address": cfg.address,
        "email": cfg.email,
        "review_url": cfg.review_url,
        "owner_key": cfg.owner_key,
        # Only a digest: the admin chat compares replies with it, nobody reads it back.
        "owner_pin_digest": pin_digest(cfg.owner_pin) if cfg.owner_pin else None,
        # Staff has no identity column; the admin chat finds staff by these.
        "staff_identities": {member.key: list(member.identities) for member in cfg.staff},
        **engagement_settings(cfg.raw),
    }


def pin_digest(pin: str) -> str:
    """The digest of an owner PIN as `Business.settings` keeps it."""
    return hashlib.sha256(f"slotbot-owner-pin:{pin}".encode()).hexdigest()


def config_warnings(cfg: BusinessConfig) -> list[str]:
    """Things a valid business.toml should still change (one line each)."""
    warnings = []
    if cfg.owner_key in DEMO_OWNER_KEYS:
        warnings.append(
            f"business.owner_key is the demo key {cfg.owner_key!r}: it works only while the "
            "server is on this machine (loopback) and is refused on a public URL; set "
            "SLOTBOT_OWNER_KEY or let `slotbot serve` generate one (instance/owner-key)"
        )
    return warnings


def rules_from_settings(settings: Mapping[str, Any] | None) -> BookingRules:
    """Rebuild BookingRules from `Business.settings`; missing or unknown keys are ignored."""
    data = (settings or {}).get("rules") or {}
    known = {f.name for f in fields(BookingRules)}
    return BookingRules(**{name: value for name, value in data.items() if name in known})


def billing_from_settings(settings: Mapping[str, Any] | None) -> BillingConfig:
    """Rebuild BillingConfig from `Business.settings`; missing or unknown keys are ignored."""
    data = (settings or {}).get("billing") or {}
    known = {f.name for f in fields(BillingConfig)}
    return BillingConfig(**{name: value for name, value in data.items() if name in known})


def branding_from_settings(settings: Mapping[str, Any] | None) -> BrandingConfig:
    """Rebuild BrandingConfig from `Business.settings`; missing or unknown keys are ignored."""
    data = (settings or {}).get("branding") or {}
    known = {f.name for f in fields(BrandingConfig)}
    return BrandingConfig(**{name: value for name, value in data.items() if name in known})


def messaging_from_settings(settings: Mapping[str, Any] | None) -> MessagingConfig:
    """Rebuild MessagingConfig from `Business.settings`; missing or unknown keys are ignored."""
    data = (settings or {}).get("messaging") or {}
    known = {f.name for f in fields(MessagingConfig)}
    return MessagingConfig(**{name: value for name, value in data.items() if name in known})


# -------------------------------------------------------------------------- apply

# PostgreSQL advisory lock (key space, key) for apply_config: a space of its own, apart
# from the small spaces storage uses to lock calendars.
_APPLY_LOCK = (4_201_726, 0)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day starts (a day is 23 or 25 hours across DST)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _is_current(session: Session, cfg: BusinessConfig, business: Business | None) -> bool:
    if business is None or business.config_digest != cfg.digest:
        return False
    for model, items in ((Service, cfg.services), (Staff, cfg.staff), (Resource, cfg.resources)):
        active = set(session.scalars(select(model.key).where(model.active.is_(True))))
        if active != {item.key for item in items}:
            return False
    return True


def _sync_rows(session: Session, model: Any, wanted: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Upsert rows by key; rows no longer configured are deactivated, never deleted."""
    rows = {row.key: row for row in session.scalars(select(model))}
    for key, values in wanted.items():
        if key not in rows:
            rows[key] = model(key=key)
            session.add(rows[key])
        for name, value in values.items():
            setattr(rows[key], name, value)
    for key, row in rows.items():
        row.active = key in wanted
    return rows


def _service_values(service: ServiceConfig) -> dict[str, Any]:
    values = asdict(service)
    del values["key"], values["staff_keys"]
    return values


def _week_rows(week: Week, staff_id: int | None, is_break: bool = False) -> list[WorkingHours]:
    return [
        WorkingHours(staff_id=staff_id, weekday=day, start=start, end=end, is_break=is_break)
        for day, spans in sorted(week.items())
        for start, end in spans
    ]


def _write_business(session: Session, cfg: BusinessConfig, business: Business | None) -> None:
    if business is None:
        business = Business(id=1)
        session.add(business)
    business.name, business.timezone = cfg.name, cfg.timezone
    business.currency, business.locale = cfg.currency, cfg.locale
    business.tax_rate = str(cfg.tax_rate)
    business.settings = settings_for(cfg)
    business.config_digest = cfg.digest
    business.updated_at = utcnow()


def _write_catalogue(session: Session, cfg: BusinessConfig) -> dict[str, Staff]:
    """Upsert services, staff and resources and link staff to services; staff rows by key."""
    services = _sync_rows(session, Service, {s.key: _service_values(s) for s in cfg.services})
    staff_values = {
        m.key: {"name": m.name, "per_day_limit": m.per_day_limit, "aliases": list(m.aliases)}
        | _home_values(m)
        for m in cfg.staff
    }
    staff = _sync_rows(session, Staff, staff_values)
    _sync_rows(session, Resource, {r.key: {"name": r.name, "kind": r.kind} for r in cfg.resources})
    members = {member.key: member for member in cfg.staff}
    for key, row in staff.items():
        keys = members[key].services if key in members else []  # retired staff: no services
        row.services = [services[service_key] for service_key in keys]
    session.flush()  # new staff rows need ids for their hours and time off
    return staff


def _write_hours(session: Session, cfg: BusinessConfig, staff: dict[str, Staff]) -> None:
    session.execute(delete(WorkingHours))
    session.add_all(_week_rows(cfg.hours, None))
    for member in cfg.staff:
        session.add_all(_week_rows(member.hours, staff[member.key].id))
        session.add_all(_week_rows(member.breaks, staff[member.key].id, is_break=True))


def _write_time_off(session: Session, cfg: BusinessConfig, staff: dict[str, Staff]) -> None:
    # Only the config's own rows are replaced; the owner's "admin" rows stay.
    session.execute(delete(TimeOff).where(TimeOff.source == "config"))
    zone = cfg.zone
    periods = [(None, c.day, c.day, c.reason) for c in cfg.closures]
    periods += [(staff[m.key].id, *leave) for m in cfg.staff for leave in m.time_off]
    for staff_id, first, last, reason in periods:
        starts_at = _local_midnight(first, zone)
        ends_at = _local_midnight(last + timedelta(days=1), zone)
        session.add(
            TimeOff(
                staff_id=staff_id,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=reason,
                source="config",
            )
        )


def _lock_apply(session: Session) -> None:
    """Workers starting together must not both insert the business row.

    SQLite's BEGIN IMMEDIATE already serialises writers; PostgreSQL needs a lock, held
    until the transaction ends, so the second worker then sees the digest and skips.
    """
    if session.get_bind().dialect.name == "postgresql":
        space, key = _APPLY_LOCK
        session.execute(sql("SELECT pg_advisory_xact_lock(:s, :k)"), {"s": space, "k": key})


def apply_config(db: Database, cfg: BusinessConfig, *, force: bool = False) -> None:
    """Make the database match the config in one write transaction (skipped if unchanged)."""
    with db.write() as session:
        _lock_apply(session)
        business = session.get(Business, 1)
        if not force and _is_current(session, cfg, business):
            return
        _write_business(session, cfg, business)
        staff = _write_catalogue(session, cfg)
        _write_hours(session, cfg, staff)
        _write_time_off(session, cfg, staff)
