"""Reading business.toml values: typed getters and the value parsers (times, money, phones).

This module owns how one TOML value is read and what is said when it is wrong: every
error is a `ConfigError` naming the field's path ("services[0].price") and, for a name
that is not known, the closest known spelling ("did you mean 'duration_minutes'?").
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.numbers import get_currency_precision, list_currencies
from pydantic import BaseModel

from bot.config.schema import CHANNELS, WEEKDAYS, Range, Week, bounds
from bot.core.errors import ConfigError

_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-\u2013]\s*(\d{1,2}:\d{2})\s*$")
_DURATION = re.compile(r"^\s*(\d+)\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?)\s*$", re.I)
REQUIRED: Any = object()

# ----------------------------------------------------------------------------- helpers


def slugify(name: str) -> str:
    """A lowercase ASCII key from a name: "Massage (60 min)" -> "massage-60-min"."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:64]


def show(value: Any) -> str:
    """A value as an error message quotes it ("a table" for a table)."""
    if isinstance(value, dict):
        return "a table"
    return repr(value) if isinstance(value, str) else str(value)


def unknown(noun: str, value: Any, choices: Iterable[str]) -> str:
    """ "unknown key 'x'", with "did you mean 'y'?" when a choice is close."""
    message = f"unknown {noun} {show(value)}"
    close = difflib.get_close_matches(str(value), list(choices), n=1, cutoff=0.6)
    return f"{message}; did you mean {close[0]!r}?" if close else message


class Table:
    """One TOML table being read: typed getters whose errors name the field's path."""

    def __init__(self, data: Any, path: str, allowed: Iterable[str], noun: str = "key") -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, f"must be a table, got {show(data)}")
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                raise ConfigError(self._join(path, key), unknown(noun, key, allowed))
        self.data: dict[str, Any] = data
        self.path = path

    @staticmethod
    def _join(path: str, key: str) -> str:
        return f"{path}.{key}" if path else key

    def at(self, key: str) -> str:
        """The path of one of this table's keys."""
        return self._join(self.path, key)

    def get(self, key: str, kinds: tuple[type, ...], what: str, default: Any = REQUIRED) -> Any:
        """The value at `key`, checked to be one of `kinds` (bools are not numbers)."""
        if key not in self.data:
            if default is REQUIRED:
                raise ConfigError(self.at(key), "is required but missing")
            return default
        value = self.data[key]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            raise ConfigError(self.at(key), f"must be {what}, got {show(value)}")
        return value

    def text(self, key: str, default: Any = REQUIRED) -> Any:
        """A non-empty string, stripped."""
        value = self.get(key, (str,), "text in quotes", default)
        if key not in self.data:
            return value
        if not value.strip():
            raise ConfigError(self.at(key), "must not be empty")
        return value.strip()

    def integer(self, key: str, low: int, high: int | None, default: Any = REQUIRED) -> Any:
        """A whole number within [low, high]."""
        value = self.get(key, (int,), "a whole number", default)
        if key in self.data:
            check_between(value, low, high, self.at(key))
        return value

    def bounded(self, key: str, model: type[BaseModel], name: str | None = None) -> Any:
        """A whole number within the limits the schema gives `model.name`, else its default."""
        name = name or key
        low, high = bounds(model, name)
        default = model.model_fields[name].get_default()
        return self.integer(key, 0 if low is None else low, high, default)

    def strings(self, key: str) -> list[str]:
        """A list of non-empty strings (empty when absent)."""
        values = self.get(key, (list,), "a list of text values", [])
        for value in values:
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(self.at(key), f"must hold non-empty text, got {show(value)}")
        return [value.strip() for value in values]

    def tables(self, key: str) -> list[Any]:
        """An array of tables ([[key]]), empty when absent."""
        return self.get(key, (list,), f"an array of tables ([[{key}]])", [])


def check_between(value: int, low: int, high: int | None, path: str) -> None:
    """Refuse a number outside [low, high] (high None: no upper bound)."""
    if high is None and value < low:
        raise ConfigError(path, f"must be at least {low}, got {value}")
    if high is not None and not low <= value <= high:
        raise ConfigError(path, f"must be between {low} and {high}, got {value}")


def entry_key(table: Table, name: str) -> str:
    """An entry's key: its explicit `key`, else its slugified name."""
    if "key" not in table.data:
        key = slugify(name)
        if not key:
            raise ConfigError(table.at("name"), f"gives no key (no letters or digits): {name!r}")
        return key
    key = table.text("key")
    if not SLUG.match(key):
        raise ConfigError(table.at("key"), f"must be lowercase letters, digits and -, got {key!r}")
    return key


def check_unique(key: str, seen: dict[str, str], path: str) -> None:
    """Refuse a key already used at another path; remember this one."""
    if key in seen:
        raise ConfigError(path, f"duplicate key {key!r} (also {seen[key]})")
    seen[key] = path


# ------------------------------------------------------------------ values: time, money


def parse_time(text: str, path: str) -> time:
    """ "09:30" as a time."""
    hours, _, minutes = text.partition(":")
    if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
        raise ConfigError(path, f"not a time like 09:30, got {text!r}")
    return time(int(hours), int(minutes))


def parse_range(text: str, path: str, wraps: bool = False) -> Range:
    """ "09:00-17:00" as (start, end); `wraps` allows one past midnight ("21:00-08:00")."""
    match = _RANGE.match(text)
    if not match:
        raise ConfigError(path, f"not a time range like '09:00-17:00', got {text.strip()!r}")
    start, end = (parse_time(part, path) for part in match.groups())
    if end == start:
        raise ConfigError(path, f"starts and ends at the same time: {text.strip()!r}")
    if end < start and not wraps:
        raise ConfigError(path, f"ends before it starts: {text.strip()!r}")
    return start, end


def format_range(span: Range) -> str:
    """(start, end) as "09:00-17:00"."""
    return f"{span[0]:%H:%M}-{span[1]:%H:%M}"


def parse_ranges(value: Any, path: str) -> list[Range]:
    """'closed', or one or more comma-separated ranges that do not overlap."""
    if not isinstance(value, str):
        raise ConfigError(path, f"must be text like '09:00-17:00' or 'closed', got {show(value)}")
    if value.strip().lower() in ("closed", "off"):
        return []
    spans = sorted(parse_range(part, path) for part in value.split(","))
    for before, after in zip(spans, spans[1:], strict=False):
        if after[0] < before[1]:
            overlap = f"{format_range(before)} and {format_range(after)}"
            raise ConfigError(path, f"ranges {overlap} overlap")
    return spans


def _weekday(key: str, path: str) -> int:
    name = key.strip().lower()
    for names in (WEEKDAYS, _FULL_WEEKDAYS):
        if name in names:
            return names.index(name)
    raise ConfigError(path, unknown("weekday", key, WEEKDAYS + _FULL_WEEKDAYS))


def parse_week(value: Any, path: str) -> Week:
    """A weekday table ({ tue = "09:00-17:00" }); days not given are closed."""
    if not isinstance(value, dict):
        raise ConfigError(
            path, f'must be a table like {{ tue = "09:00-17:00" }}, got {show(value)}'
        )
    week: Week = {day: [] for day in range(7)}
    seen: dict[int, str] = {}
    for key, spec in value.items():
        day = _weekday(key, f"{path}.{key}")
        if day in seen:
            raise ConfigError(f"{path}.{key}", f"{WEEKDAYS[day]} given twice ({seen[day]!r})")
        seen[day] = key
        week[day] = parse_ranges(spec, f"{path}.{key}")
    return week


def parse_date(value: Any, path: str) -> date:
    """A TOML date or "2026-12-25"."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(path, f"not a date like 2026-12-25, got {show(value)}")


def parse_decimal(value: Any, path: str, what: str) -> Decimal:
    """A finite exact number from a number or text; `what` names the form in the error."""
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        if number is not None and number.is_finite():
            return number
    raise ConfigError(path, f"must be {what}, got {show(value)}")


def parse_money(value: Any, path: str, currency: str) -> int:
    """An amount ("45.00" or 45) in the currency's minor units; too many decimals refused."""
    amount = parse_decimal(value, path, 'an amount like "45.00"')
    if amount < 0:
        raise ConfigError(path, f"must not be negative, got {show(value)}")
    digits = get_currency_precision(currency)
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        raise ConfigError(
            path, f"has more than {digits} decimal places for {currency}, got {show(value)}"
        )
    return int(minor)


def parse_reminder(value: Any, path: str) -> int:
    """Minutes before an appointment: 120, "2h", "30m", "1d"."""
    if isinstance(value, int) and not isinstance(value, bool):
        minutes = value
    else:
        match = _DURATION.match(value) if isinstance(value, str) else None
        if not match:
            raise ConfigError(path, f"not a duration like '24h' or '30m', got {show(value)}")
        unit = match.group(2)[0].lower()
        minutes = int(match.group(1)) * {"m": 1, "h": 60, "d": 1440}[unit]
    check_between(minutes, 1, 43200, path)
    return minutes


# ------------------------------------------------------------ values: zones, people


def parse_timezone(value: str, path: str) -> str:
    """An IANA time zone name ("America/New_York")."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(path, unknown("time zone", value, available_timezones())) from None
    return value


def parse_currency(value: str, path: str) -> str:
    """An ISO 4217 currency code, uppercased."""
    code = value.upper()
    if code not in list_currencies():
        raise ConfigError(path, unknown("currency", value, sorted(list_currencies())))
    return code


def parse_locale(value: str, path: str) -> str:
    """A locale like "en_US" (a hyphen is accepted), normalised by Babel."""
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (UnknownLocaleError, ValueError):
        raise ConfigError(path, f"unknown locale {value!r}; use one like 'en_US'") from None


def parse_phone(value: str, path: str) -> str:
    """An international phone number, normalised to E.164."""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ConfigError(path, f"not a phone number like '+12125550100', got {value!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_identity(value: str, path: str) -> str:
    """A channel identity such as 'sms:+12125550101', 'telegram:1001' or 'web:owner'."""
    channel, sep, address = value.partition(":")
    channel, address = channel.strip().lower(), address.strip()
    if not sep or not address:
        raise ConfigError(path, f"not an identity like 'sms:+12125550101', got {value!r}")
    if channel not in CHANNELS:
        raise ConfigError(path, unknown("channel", channel, CHANNELS))
    if channel in ("sms", "whatsapp"):
        address = parse_phone(address, path)
    elif channel == "telegram" and not address.lstrip("-").isdigit():
        raise ConfigError(path, f"telegram identities are numeric chat ids, got {value!r}")
    return f"{channel}:{address}"


def parse_identities(table: Table, key: str, seen: dict[str, str]) -> list[str]:
    """A list of channel identities; one identity cannot belong to two people."""
    identities = []
    for value in table.strings(key):
        identity = parse_identity(value, table.at(key))
        if identity in seen:
            raise ConfigError(
                table.at(key), f"{identity!r} is listed twice (also {seen[identity]})"
            )
        seen[identity] = table.at(key)
        identities.append(identity)
    return identities
