"""Loading business.toml: the sections read into the typed models, and the starter file.

This module owns the file format: which sections and keys exist, how each is read into
`bot.config.schema` (prices into minor units, "20%" deposits, weekday hours, the staff and
services cross-references), and `ConfigError` naming the field of the first problem found.
`problems.config_problems` reads on past the first problem to list them all.
"""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from babel.numbers import get_currency_precision

from bot.config.schema import (
    ANY_STAFF,
    AUTO_CHARGE_CHOICES,
    DEFAULT_BRAND_COLOUR,
    DEFAULT_OFFLINE_PAYMENT,
    DEMO_OWNER_KEYS,
    MAX_OFFLINE_PAYMENT,
    MIN_CONTRAST,
    PAGE_GREY,
    WEEKDAYS,
    WHATSAPP_FALLBACKS,
    BillingConfig,
    BookingRules,
    BrandingConfig,
    BusinessConfig,
    Closure,
    HandoverConfig,
    Leave,
    MessagingConfig,
    PromotionsConfig,
    Range,
    ResourceConfig,
    ServiceConfig,
    StaffConfig,
    Week,
    bounds,
    contrast_ratio,
)
from bot.config.values import (
    SLUG,
    Table,
    check_unique,
    entry_key,
    format_range,
    parse_currency,
    parse_date,
    parse_decimal,
    parse_identities,
    parse_locale,
    parse_money,
    parse_phone,
    parse_range,
    parse_reminder,
    parse_timezone,
    parse_week,
    show,
    slugify,
    unknown,
)
from bot.core.errors import ConfigError
from bot.field.places.postal import postal_centroid
from bot.field.places.settings import TravelConfig

TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "business.template.toml"

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
_LOCATIONS = {"in_shop": False, "on_site": True}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_BILLING_KEYS = ("invoice_prefix", "estimate_prefix", "payment_terms_days", "finance_charge")
_BILLING_KEYS += ("finance_charge_grace_days", "finance_charge_minimum_balance")
_BILLING_KEYS += ("deposit_hold_hours", "auto_charge", "statement_day", "no_show_fee")
_BILLING_KEYS += ("offline_payment",)
_NUMBER_PREFIX = re.compile(r"^[A-Za-z0-9#/_.-]{0,12}$")
# [branding]: logo files pages can show, and the contrast text on a colour must have.
_BRANDING_KEYS = ("logo", "colour", "accent")
_LOGO_SUFFIXES = (".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp")
_HEX_COLOUR = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")

# ----------------------------------------------------------------------- sections


def _parse_business(data: Any) -> dict[str, Any]:
    table = Table(data, "business", _BUSINESS_KEYS)
    fields_: dict[str, Any] = {"name": table.text("name")}
    fields_["timezone"] = parse_timezone(table.text("timezone"), table.at("timezone"))
    fields_["currency"] = parse_currency(table.text("currency"), table.at("currency"))
    fields_["locale"] = parse_locale(table.text("locale", "en_US"), table.at("locale"))
    tax = parse_decimal(table.data.get("tax_rate", 0), table.at("tax_rate"), "a percent")
    if not 0 <= tax <= 100:
        raise ConfigError(table.at("tax_rate"), f"must be a percent from 0 to 100, got {tax}")
    if int(tax.as_tuple().exponent) < -4:  # the column holds a short exact string
        raise ConfigError(table.at("tax_rate"), f"has more than 4 decimal places, got {tax}")
    fields_["tax_rate"] = tax
    phone = table.text("phone", None)
    fields_["phone"] = phone and parse_phone(phone, table.at("phone"))
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
    fields_["owners"] = parse_identities(table, "owners", {})
    return fields_


def _parse_closures(table: Table) -> list[Closure]:
    closures = []
    for i, data in enumerate(table.tables("closures")):
        entry = Table(data, f"closures[{i}]", ("date", "reason"))
        day = parse_date(entry.get("date", (date, str), "a date"), entry.at("date"))
        closures.append(Closure(day=day, reason=entry.text("reason", "")))
    return closures


def _parse_rules(data: Any) -> BookingRules:
    names = tuple(BookingRules.model_fields)
    table = Table(data, "rules", names)
    return BookingRules(**{name: table.bounded(name, BookingRules) for name in names})


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
        return parse_money(value.strip(), path, currency)
    forms = f'a percent like "{percent_example}" or an amount like "{example}"'
    raise ConfigError(path, f"must be {forms}, got {show(value)}")


def _parse_fee(table: Table, key: str, currency: str) -> int | None:
    """An amount like "25.00", or "off" (None)."""
    value = table.get(key, (str, int, float), 'an amount like "25.00" or "off"', "off")
    if isinstance(value, str) and value.strip().lower() in ("off", "none"):
        return None
    minor = parse_money(value, table.at(key), currency)
    if minor == 0:
        raise ConfigError(table.at(key), f'must be more than zero (or "off"), got {show(value)}')
    return minor


def _parse_billing(data: Any, currency: str) -> BillingConfig:
    table = Table(data, "billing", _BILLING_KEYS)
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
        rate = parse_decimal(charge.strip()[:-1], path, 'a percent like "1.5%"')
        if not 0 < rate <= 25:
            problem = f"must be a percent per month above 0% up to 25%, got {charge!r}"
            raise ConfigError(path, problem)
        if int(rate.as_tuple().exponent) < -4:
            raise ConfigError(path, f"has more than 4 decimal places, got {charge!r}")
        percent = str(rate)
    elif not (isinstance(charge, str) and charge.strip().lower() in ("off", "none")):
        flat = _percent_or_amount(charge, path, currency, "1.5%", 5)
        if flat == 0:
            raise ConfigError(path, f'must be more than zero (or "off"), got {show(charge)}')
    auto_charge = table.text("auto_charge", default.auto_charge)
    if auto_charge not in AUTO_CHARGE_CHOICES:
        problem = unknown("choice", auto_charge, AUTO_CHARGE_CHOICES)
        raise ConfigError(table.at("auto_charge"), problem)
    minimum = table.get("finance_charge_minimum_balance", (str, int, float), "an amount", 0)
    return BillingConfig(
        invoice_prefix=prefixes["invoice_prefix"],
        estimate_prefix=prefixes["estimate_prefix"],
        payment_terms_days=table.bounded("payment_terms_days", BillingConfig),
        finance_charge_percent=percent,
        finance_charge_flat_minor=flat,
        finance_charge_grace_days=table.bounded("finance_charge_grace_days", BillingConfig),
        finance_charge_minimum_minor=parse_money(
            minimum, table.at("finance_charge_minimum_balance"), currency
        ),
        deposit_hold_hours=table.bounded("deposit_hold_hours", BillingConfig),
        auto_charge=auto_charge,
        statement_day=table.bounded("statement_day", BillingConfig),
        no_show_fee_minor=_parse_fee(table, "no_show_fee", currency),
        offline_payment=_parse_offline_payment(table),
    )


def _parse_offline_payment(table: Table) -> str:
    """How to pay without online payments: plain text for the pay page, not too long."""
    text = table.text("offline_payment", DEFAULT_OFFLINE_PAYMENT)
    if len(text) > MAX_OFFLINE_PAYMENT:
        problem = f"must be at most {MAX_OFFLINE_PAYMENT} characters, got {len(text)}"
        raise ConfigError(table.at("offline_payment"), problem)
    if any(ord(c) < 32 and c != "\n" for c in text):
        raise ConfigError(table.at("offline_payment"), "must not hold control characters")
    return text


def _parse_colour(table: Table, key: str, default: str | None) -> str | None:
    """A "#rrggbb" (or "#rgb") colour, normalised to lowercase "#rrggbb"."""
    value = table.text(key, default)
    if value is None or key not in table.data:
        return value
    if not _HEX_COLOUR.match(value):
        raise ConfigError(table.at(key), f'must be a hex colour like "#2f5d50", got {value!r}')
    digits = value[1:].lower()
    return "#" + (digits if len(digits) == 6 else "".join(ch * 2 for ch in digits))


def _parse_branding(data: Any, base: Path | None) -> BrandingConfig:
    table = Table(data, "branding", _BRANDING_KEYS)
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
    table = Table(data, "notifications", _NOTIFICATION_KEYS)
    path = table.at("reminders")
    reminders = [1440, 120]
    if "reminders" in table.data:
        values = table.get("reminders", (list,), 'a list like ["24h", "2h"]')
        reminders = sorted({parse_reminder(value, path) for value in values}, reverse=True)
    quiet = table.text("quiet_hours", "21:00-08:00")
    if quiet.lower() in ("off", "none"):
        return reminders, None
    return reminders, parse_range(quiet, table.at("quiet_hours"), wraps=True)


def _parse_messaging(top: Table, notifications: Any) -> MessagingConfig:
    """[messaging], [waitlist], [followup] and the alert keys of [notifications]."""
    default = MessagingConfig()
    notes = Table(notifications, "notifications", _NOTIFICATION_KEYS)
    sending = Table(
        top.get("messaging", (dict,), "a [messaging] table", {}),
        "messaging",
        ("max_attempts", "whatsapp_outside_window", "whatsapp_template"),
    )
    waitlist = Table(
        top.get("waitlist", (dict,), "a [waitlist] table", {}), "waitlist", ("offer_minutes",)
    )
    followup = Table(
        top.get("followup", (dict,), "a [followup] table", {}),
        "followup",
        ("feedback_requests", "feedback_delay_minutes", "rebook_nudges"),
    )
    fallback = sending.text("whatsapp_outside_window", default.whatsapp_outside_window)
    if fallback not in WHATSAPP_FALLBACKS:
        raise ConfigError(
            sending.at("whatsapp_outside_window"), unknown("choice", fallback, WHATSAPP_FALLBACKS)
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
        max_attempts=sending.bounded("max_attempts", MessagingConfig),
        whatsapp_outside_window=fallback,
        whatsapp_template=template,
        unconfirmed_alert_hours=notes.bounded("unconfirmed_alert_hours", MessagingConfig),
        auto_no_show=notes.get("auto_no_show", *flag, default.auto_no_show),
        no_show_grace_minutes=notes.bounded("no_show_grace_minutes", MessagingConfig),
        waitlist_offer_minutes=waitlist.bounded(
            "offer_minutes", MessagingConfig, "waitlist_offer_minutes"
        ),
        feedback_requests=followup.get("feedback_requests", *flag, default.feedback_requests),
        feedback_delay_minutes=followup.bounded("feedback_delay_minutes", MessagingConfig),
        rebook_nudges=followup.get("rebook_nudges", *flag, default.rebook_nudges),
    )


def _parse_resources(table: Table) -> list[ResourceConfig]:
    resources: list[ResourceConfig] = []
    seen: dict[str, str] = {}
    for i, data in enumerate(table.tables("resources")):
        entry = Table(data, f"resources[{i}]", ("key", "name", "kind"))
        name = entry.text("name")
        key = entry_key(entry, name)
        check_unique(key, seen, entry.at("key"))
        kind = entry.text("kind")
        if not SLUG.match(kind):
            raise ConfigError(
                entry.at("kind"), f"must be a lowercase word like 'room', got {kind!r}"
            )
        resources.append(ResourceConfig(key=key, name=name, kind=kind))
    return resources


def _parse_deposit(value: Any, path: str, currency: str, price_minor: int) -> tuple[int, int]:
    """(deposit_minor, deposit_percent) from "10.00" or "20%"; never more than the price."""
    read = _percent_or_amount(value, path, currency, "20%", 10)
    if isinstance(read, str):
        percent = parse_decimal(read[:-1], path, 'a percent like "20%"')
        if percent != percent.to_integral_value() or not 1 <= percent <= 100:
            raise ConfigError(path, f"must be a whole percent from 1% to 100%, got {value!r}")
        return 0, int(percent)
    minor = read
    if minor > price_minor:
        raise ConfigError(path, f"deposit {show(value)} is more than the price")
    return minor, 0


def _parse_service(table: Table, currency: str, kinds: set[str]) -> ServiceConfig:
    name = table.text("name")
    key = entry_key(table, name)
    price = parse_money(
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
        raise ConfigError(table.at("location"), unknown("location", location, _LOCATIONS))
    needs = table.strings("needs")
    for kind in needs:
        if kind not in kinds:
            raise ConfigError(table.at("needs"), unknown("resource kind", kind, kinds))
    aliases = list(dict.fromkeys(table.strings("aliases")))
    return ServiceConfig(
        key=key,
        name=name,
        duration_minutes=table.integer(
            "duration_minutes", *bounds(ServiceConfig, "duration_minutes")
        ),
        price_minor=price,
        aliases=aliases,
        buffer_before_minutes=table.bounded("buffer_before_minutes", ServiceConfig),
        buffer_after_minutes=table.bounded("buffer_after_minutes", ServiceConfig),
        staff_keys=[ANY_STAFF] if ANY_STAFF in staff else staff,
        on_site=_LOCATIONS[location],
        deposit_minor=deposit_minor,
        deposit_percent=deposit_percent,
        resource_kinds=list(dict.fromkeys(needs)),
        rebook_after_days=table.bounded("rebook_after_days", ServiceConfig),
        skill=_parse_skill(table),
        outdoor=table.get("outdoor", (bool,), "true or false", False),
        window_minutes=table.bounded("window_minutes", ServiceConfig),
        disclaimer_before=table.text("disclaimer_before", None),
        disclaimer_after=table.text("disclaimer_after", None),
    )


def _parse_time_off(table: Table) -> list[Leave]:
    leaves = []
    for i, data in enumerate(table.tables("time_off")):
        entry = Table(data, f"{table.at('time_off')}[{i}]", ("from", "to", "reason"))
        start = parse_date(entry.get("from", (date, str), "a date"), entry.at("from"))
        end = parse_date(entry.get("to", (date, str), "a date", start), entry.at("to"))
        if end < start:
            raise ConfigError(entry.at("to"), f"is before 'from' ({start}), got {end}")
        leaves.append(Leave(start, end, entry.text("reason", "")))
    return leaves


def _check_breaks(breaks: Week, hours: Week, path: str) -> None:
    for day, spans in breaks.items():
        for start, end in spans:
            if not any(s <= start and end <= e for s, e in hours[day]):
                span = format_range((start, end))
                raise ConfigError(
                    f"{path}.{WEEKDAYS[day]}", f"break {span} is outside working hours"
                )


def _parse_skill(table: Table) -> str | None:
    """The skill a service needs: a lowercase word like 'gas'."""
    skill = table.text("skill", None)
    if skill is not None and not SLUG.match(skill):
        raise ConfigError(table.at("skill"), f"must be a lowercase word like 'gas', got {skill!r}")
    return skill


def _parse_home(table: Table) -> dict[str, Any]:
    """Skills and home base: home_lat/home_lon, else the home_address's postal code."""
    skills = list(dict.fromkeys(table.strings("skills")))
    for skill in skills:
        if not SLUG.match(skill):
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


def _parse_travel(data: Any) -> TravelConfig:
    """[travel]: road factor, average speed, and an optional routing service and geocoder."""
    table = Table(data, "travel", _TRAVEL_KEYS)
    default = TravelConfig()
    numbers: dict[str, float] = {}
    for key in ("road_factor", "average_kmh", "routing_timeout_seconds"):
        value = numbers[key] = table.get(key, (int, float), "a number", getattr(default, key))
        low, high = bounds(TravelConfig, key)
        if not low <= value <= high:
            raise ConfigError(table.at(key), f"must be between {low} and {high}, got {value}")
    factor, speed = numbers["road_factor"], numbers["average_kmh"]
    timeout = numbers["routing_timeout_seconds"]
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


def _parse_aliases(table: Table, seen: dict[str, str]) -> list[str]:
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
    table = Table(data, f"staff[{label or index}]", _STAFF_KEYS)
    name = table.text("name")
    staff_hours = hours
    if "hours" in table.data:
        staff_hours = parse_week(table.data["hours"], table.at("hours"))
    breaks = parse_week(table.data.get("breaks", {}), table.at("breaks"))
    _check_breaks(breaks, staff_hours, table.at("breaks"))
    return StaffConfig(
        key=entry_key(table, name),
        name=name,
        services=list(dict.fromkeys(table.strings("services"))),
        hours={day: list(spans) for day, spans in staff_hours.items()},
        breaks=breaks,
        time_off=_parse_time_off(table),
        per_day_limit=table.bounded("per_day_limit", StaffConfig),
        identities=parse_identities(table, "identities", identities),
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
                raise ConfigError(f"services[{i}].staff", unknown("staff member", key, staff_keys))
    for member in staff:
        for key in member.services:
            if key not in service_keys:
                path = f"staff[{member.key}].services"
                raise ConfigError(path, unknown("service", key, service_keys))
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
        linked.append(member.model_copy(update={"services": [k for k in service_keys if k in own]}))
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
    return parse_raw(raw, base)


def parse_raw(raw: dict[str, Any], base: Path | None) -> BusinessConfig:
    """Validate parsed TOML into a BusinessConfig; ConfigError names the first problem."""
    top = Table(raw, "", _SECTIONS, noun="section")
    handover, promotions = _parse_engagement(raw)  # a mistyped one is refused first
    business = _parse_business(top.get("business", (dict,), "a [business] table"))
    zone_hours = parse_week(top.get("hours", (dict,), "an [hours] table"), "hours")
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
            Table(data, f"services[{i}]", _SERVICE_KEYS), business["currency"], kinds
        )
        check_unique(service.key, seen, f"services[{i}].key")
        services.append(service)
    if not services:
        raise ConfigError("services", "at least one [[services]] entry is required")
    staff: list[StaffConfig] = []
    seen, identities, aliases = {}, {}, {}
    for i, data in enumerate(top.tables("staff")):
        member = _parse_staff(data, i, zone_hours, identities, aliases)
        check_unique(member.key, seen, f"staff[{i}].key")
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
        handover=handover,
        promotions=promotions,
        raw=raw,
    )


def _parse_engagement(raw: dict[str, Any]) -> tuple[HandoverConfig, PromotionsConfig]:
    """[handover] quiet_minutes and [promotions] ask_after_first_booking / consent_question."""
    handover = Table(raw.get("handover", {}), "handover", tuple(HandoverConfig.model_fields))
    promotions = Table(
        raw.get("promotions", {}), "promotions", tuple(PromotionsConfig.model_fields)
    )
    default = PromotionsConfig()
    return HandoverConfig(quiet_minutes=handover.bounded("quiet_minutes", HandoverConfig)), (
        PromotionsConfig(
            ask_after_first_booking=promotions.get(
                "ask_after_first_booking", (bool,), "true or false", default.ask_after_first_booking
            ),
            consent_question=promotions.text("consent_question", default.consent_question),
        )
    )


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
