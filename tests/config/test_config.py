"""business.toml: parsing, validation messages, and syncing the config into the database."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import (
    TEMPLATE_PATH,
    BillingConfig,
    BookingRules,
    BrandingConfig,
    apply_config,
    billing_from_settings,
    branding_from_settings,
    contrast_ratio,
    load_config,
    parse_config,
    rules_from_settings,
    settings_for,
    slugify,
    write_template,
)
from bot.core.errors import ConfigError
from storage.db import Database
from storage.models import Business, Resource, Service, Staff, TimeOff, WorkingHours

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "business.toml"

BUSINESS = """
[business]
name = "Test Shop"
timezone = "America/New_York"
currency = "USD"
locale = "en_US"
"""
HOURS = """
[hours]
tue = "09:00-17:00"
"""
SERVICE = """
[[services]]
name = "Haircut"
duration_minutes = 30
price = "30.00"
staff = ["sam"]
"""
STAFF = """
[[staff]]
key = "sam"
name = "Sam"
"""
ROOM = """
[[resources]]
key = "room-1"
name = "Room 1"
kind = "room"
"""


def snippet(
    business: str = BUSINESS,
    hours: str = HOURS,
    extra: str = "",
    services: str = SERVICE,
    staff: str = STAFF,
) -> str:
    """A small business.toml; each part is replaceable to break exactly one thing."""
    return "\n".join([business, hours, extra, services, staff])


# ------------------------------------------------------------------------------ loading


def test_the_demo_business_loads_with_its_zone_prices_and_deposits() -> None:
    cfg = load_config(DEMO)
    assert cfg.name == "Maple & Mane Salon"
    assert str(cfg.zone) == "America/New_York"
    assert cfg.tax_rate == Decimal("8.875")
    assert cfg.service("haircut").price_minor == 4500
    assert cfg.service("colour").deposit_percent == 20
    assert cfg.service("massage-60").resource_kinds == ["room"]
    assert cfg.service("home-haircut").on_site is True
    assert {"web:owner", "telegram:1000"} <= set(cfg.owners)
    assert cfg.hours[0] == []  # closed on Mondays
    assert date(2026, 12, 25) in {closure.day for closure in cfg.closures}


def test_a_staff_member_can_do_their_own_services_plus_those_that_list_them() -> None:
    cfg = load_config(DEMO)
    # Alex lists only beard-trim; haircut and colour list Alex.
    assert cfg.staff_member("alex").services == ["haircut", "colour", "beard-trim"]
    assert [m.key for m in cfg.staff_for("facial")] == ["priya"]


def test_staff_without_hours_work_the_opening_hours() -> None:
    cfg = load_config(DEMO)
    assert cfg.staff_member("priya").hours == cfg.hours
    assert cfg.staff_member("alex").hours[2] == []  # Wednesdays off


def test_the_template_loads_and_has_one_service_and_one_staff_member() -> None:
    cfg = load_config(TEMPLATE_PATH)
    assert len(cfg.services) == 1 and len(cfg.staff) == 1
    assert cfg.staff[0].services == [cfg.services[0].key]


def test_write_template_writes_a_valid_file_and_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "business.toml"
    write_template(target)
    assert load_config(target).name == "My Business"
    with pytest.raises(ConfigError, match="already exists; not overwritten"):
        write_template(target)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_defaults_apply_when_optional_sections_are_left_out() -> None:
    cfg = parse_config(snippet())
    assert cfg.rules == BookingRules()
    assert cfg.reminders == [1440, 120]
    assert cfg.quiet_hours == (time(21), time(8))
    assert cfg.services[0].key == "haircut"
    assert cfg.locale == "en_US"


def test_closures_and_time_off_need_only_their_dates() -> None:
    extra = "[[closures]]\ndate = 2026-07-04\n"
    staff = STAFF + '[[staff.time_off]]\nfrom = "2026-05-01"\n'
    cfg = parse_config(snippet(extra=extra, staff=staff))
    assert cfg.closures[0].day == date(2026, 7, 4) and cfg.closures[0].reason == ""
    assert cfg.staff[0].time_off == [(date(2026, 5, 1), date(2026, 5, 1), "")]


def test_values_are_normalised() -> None:
    extra = '[notifications]\nreminders = [30, "1d", "2h"]\nquiet_hours = "off"\n'
    business = BUSINESS.replace('"USD"', '"usd"') + 'owners = ["SMS:+1 212 555 0199"]\n'
    hours = '[hours]\nTuesday = "13:00-17:00, 09:00-12:00"\n'
    cfg = parse_config(snippet(business=business, hours=hours, extra=extra))
    assert cfg.currency == "USD"
    assert cfg.owners == ["sms:+12125550199"]
    assert cfg.reminders == [1440, 120, 30]
    assert cfg.quiet_hours is None
    assert cfg.hours[1] == [(time(9), time(12)), (time(13), time(17))]


def test_money_uses_the_currencys_minor_digits() -> None:
    business = BUSINESS.replace('"USD"', '"JPY"')
    services = SERVICE.replace('"30.00"', "3000")
    assert (
        parse_config(snippet(business=business, services=services)).services[0].price_minor == 3000
    )


def test_slugify_makes_keys_from_names() -> None:
    assert slugify("Massage (60 min)") == "massage-60-min"
    assert slugify("Crème Brûlée Facial") == "creme-brulee-facial"


def test_rules_round_trip_through_the_business_settings() -> None:
    cfg = load_config(DEMO)
    assert rules_from_settings(settings_for(cfg)) == cfg.rules
    assert rules_from_settings({}) == BookingRules()


def test_billing_settings_default_when_the_section_is_left_out() -> None:
    billing = parse_config(snippet()).billing
    assert billing == BillingConfig()
    assert (billing.invoice_prefix, billing.payment_terms_days, billing.statement_day) == (
        "INV-",
        14,
        1,
    )
    assert billing.finance_charges_on is False and billing.no_show_fee_minor is None
    assert (billing.deposit_hold_hours, billing.auto_charge) == (24, "off")


def test_billing_settings_are_read_in_minor_units_and_round_trip() -> None:
    extra = (
        '[billing]\ninvoice_prefix = "A-"\npayment_terms_days = 30\n'
        'finance_charge = "1.5%"\nfinance_charge_grace_days = 10\n'
        'finance_charge_minimum_balance = "10.00"\ndeposit_hold_hours = 48\n'
        'auto_charge = "on_completion"\nstatement_day = 5\nno_show_fee = "25.50"\n'
    )
    cfg = parse_config(snippet(extra=extra))
    billing = cfg.billing
    assert billing.invoice_prefix == "A-" and billing.payment_terms_days == 30
    assert billing.finance_charge_percent == "1.5" and billing.finance_charge_flat_minor == 0
    assert billing.finance_charge_minimum_minor == 1000 and billing.no_show_fee_minor == 2550
    assert (billing.deposit_hold_hours, billing.auto_charge, billing.statement_day) == (
        48,
        "on_completion",
        5,
    )
    assert billing_from_settings(settings_for(cfg)) == billing
    assert billing_from_settings({}) == BillingConfig()
    flat = parse_config(snippet(extra='[billing]\nfinance_charge = "5.00"\n')).billing
    assert flat.finance_charge_flat_minor == 500 and flat.finance_charge_percent is None
    assert load_config(DEMO).billing.finance_charges_on


def test_the_digest_ignores_comments_and_layout() -> None:
    plain = parse_config(snippet())
    commented = parse_config("# a comment\n" + snippet().replace("\n", "\n\n"))
    assert plain.digest == commented.digest
    assert plain.digest != parse_config(snippet(hours='[hours]\nwed = "09:00-17:00"\n')).digest


# -------------------------------------------------------------------------- bad configs

BROKEN = [
    (
        "bad time zone",
        snippet(business=BUSINESS.replace("America/New_York", "America/New_Yrok")),
        "business.timezone",
        "unknown time zone 'America/New_Yrok'; did you mean 'America/New_York'?",
    ),
    (
        "bad currency",
        snippet(business=BUSINESS.replace('"USD"', '"USX"')),
        "business.currency",
        "unknown currency 'USX'",
    ),
    (
        "bad locale",
        snippet(business=BUSINESS.replace('"en_US"', '"xx_QQ"')),
        "business.locale",
        "unknown locale 'xx_QQ'",
    ),
    (
        "tax over 100 percent",
        snippet(business=BUSINESS + 'tax_rate = "150"\n'),
        "business.tax_rate",
        "from 0 to 100, got 150",
    ),
    (
        "tax finer than the column keeps",
        snippet(business=BUSINESS + 'tax_rate = "8.123456"\n'),
        "business.tax_rate",
        "more than 4 decimal places, got 8.123456",
    ),
    (
        "bad phone",
        snippet(business=BUSINESS + 'phone = "212 555"\n'),
        "business.phone",
        "not a phone number",
    ),
    (
        "negative price",
        snippet(services=SERVICE.replace('"30.00"', '"-5.00"')),
        "services[0].price",
        "must not be negative, got '-5.00'",
    ),
    (
        "price finer than a cent",
        snippet(services=SERVICE.replace('"30.00"', '"45.005"')),
        "services[0].price",
        "more than 2 decimal places for USD, got '45.005'",
    ),
    (
        "misspelt key",
        snippet(services=SERVICE.replace("duration_minutes", "durration_minutes")),
        "services[0].durration_minutes",
        "unknown key 'durration_minutes'; did you mean 'duration_minutes'?",
    ),
    (
        "misspelt section",
        snippet(extra="[rulez]\nhold_minutes = 5\n"),
        "rulez",
        "unknown section 'rulez'; did you mean 'rules'?",
    ),
    (
        "zero duration",
        snippet(services=SERVICE.replace("= 30", "= 0")),
        "services[0].duration_minutes",
        "must be between 5 and 1440, got 0",
    ),
    (
        "duration as text",
        snippet(services=SERVICE.replace("= 30", '= "30"')),
        "services[0].duration_minutes",
        "must be a whole number, got '30'",
    ),
    (
        "opening hours ending before they start",
        snippet(hours='[hours]\ntue = "18:00-09:00"\n'),
        "hours.tue",
        "ends before it starts: '18:00-09:00'",
    ),
    (
        "overlapping opening hours",
        snippet(hours='[hours]\ntue = "09:00-13:00, 12:00-17:00"\n'),
        "hours.tue",
        "overlap",
    ),
    (
        "bad weekday key",
        snippet(hours='[hours]\ntuseday = "09:00-17:00"\n'),
        "hours.tuseday",
        "unknown weekday 'tuseday'; did you mean 'tuesday'?",
    ),
    (
        "staff hours ending before they start",
        snippet(staff=STAFF + 'hours = { mon = "17:00-09:00" }\n'),
        "staff[sam].hours.mon",
        "ends before it starts",
    ),
    (
        "break outside working hours",
        snippet(staff=STAFF + 'breaks = { tue = "18:00-18:30" }\n'),
        "staff[sam].breaks.tue",
        "break 18:00-18:30 is outside working hours",
    ),
    (
        "unknown staff in a service",
        snippet(services=SERVICE.replace('["sam"]', '["sma"]')),
        "services[0].staff",
        "unknown staff member 'sma'; did you mean 'sam'?",
    ),
    (
        "unknown service on a staff member",
        snippet(staff=STAFF + 'services = ["hiarcut"]\n'),
        "staff[sam].services",
        "unknown service 'hiarcut'; did you mean 'haircut'?",
    ),
    (
        "service nobody can do",
        snippet(services=SERVICE.replace('staff = ["sam"]\n', "")),
        "services[0].staff",
        "nobody can do 'Haircut'",
    ),
    (
        "duplicate service key",
        snippet(services=SERVICE + SERVICE),
        "services[1].key",
        "duplicate key 'haircut' (also services[0].key)",
    ),
    (
        "duplicate staff key",
        snippet(staff=STAFF + STAFF),
        "staff[1].key",
        "duplicate key 'sam'",
    ),
    (
        "deposit over the price",
        snippet(services=SERVICE + 'deposit = "40.00"\n'),
        "services[0].deposit",
        "deposit '40.00' is more than the price",
    ),
    (
        "deposit percent over 100",
        snippet(services=SERVICE + 'deposit = "120%"\n'),
        "services[0].deposit",
        "from 1% to 100%, got '120%'",
    ),
    (
        "needs an unknown resource kind",
        snippet(extra=ROOM, services=SERVICE + 'needs = ["rom"]\n'),
        "services[0].needs",
        "unknown resource kind 'rom'; did you mean 'room'?",
    ),
    (
        "bad location",
        snippet(services=SERVICE + 'location = "onsite"\n'),
        "services[0].location",
        "unknown location 'onsite'; did you mean 'on_site'?",
    ),
    (
        "bad reminder",
        snippet(extra='[notifications]\nreminders = ["abc"]\n'),
        "notifications.reminders",
        "not a duration like '24h' or '30m', got 'abc'",
    ),
    (
        "rule out of range",
        snippet(extra="[rules]\nslot_interval_minutes = 1\n"),
        "rules.slot_interval_minutes",
        "must be between 5 and 240, got 1",
    ),
    (
        "bad closure date",
        snippet(extra='[[closures]]\ndate = "2026-13-01"\n'),
        "closures[0].date",
        "not a date like 2026-12-25, got '2026-13-01'",
    ),
    (
        "time off ending before it starts",
        snippet(staff=STAFF + '[[staff.time_off]]\nfrom = "2026-05-10"\nto = "2026-05-01"\n'),
        "staff[sam].time_off[0].to",
        "is before 'from'",
    ),
    (
        "bad identity channel",
        snippet(staff=STAFF + 'identities = ["telegarm:12"]\n'),
        "staff[sam].identities",
        "unknown channel 'telegarm'; did you mean 'telegram'?",
    ),
    (
        "missing business name",
        snippet(business=BUSINESS.replace('name = "Test Shop"\n', "")),
        "business.name",
        "is required",
    ),
    (
        "no services",
        snippet(services=""),
        "services",
        "at least one",
    ),
    (
        "misspelt billing key",
        snippet(extra="[billing]\npayment_term_days = 14\n"),
        "billing.payment_term_days",
        "unknown key 'payment_term_days'; did you mean 'payment_terms_days'?",
    ),
    (
        "finance charge percent too high",
        snippet(extra='[billing]\nfinance_charge = "40%"\n'),
        "billing.finance_charge",
        "above 0% up to 25%, got '40%'",
    ),
    (
        "finance charge that is neither a percent nor an amount",
        snippet(extra='[billing]\nfinance_charge = "lots"\n'),
        "billing.finance_charge",
        'must be a percent like "1.5%" or an amount like "5.00"',
    ),
    (
        "finance charge that could be a percent or an amount",
        snippet(extra='[billing]\nfinance_charge = "1.5"\n'),
        "billing.finance_charge",
        'must be a percent like "1.5%" or an amount like "5.00", got \'1.5\'',
    ),
    (
        "finance charge as a bare number",
        snippet(extra="[billing]\nfinance_charge = 2\n"),
        "billing.finance_charge",
        'must be a percent like "1.5%" or an amount like "5.00", got 2',
    ),
    (
        "deposit that could be a percent or an amount",
        snippet(services=SERVICE + 'deposit = "15"\n'),
        "services[0].deposit",
        'must be a percent like "20%" or an amount like "10.00", got \'15\'',
    ),
    (
        "unknown auto charge choice",
        snippet(extra='[billing]\nauto_charge = "on_complete"\n'),
        "billing.auto_charge",
        "unknown choice 'on_complete'; did you mean 'on_completion'?",
    ),
    (
        "statement day past the 28th",
        snippet(extra="[billing]\nstatement_day = 31\n"),
        "billing.statement_day",
        "must be between 1 and 28, got 31",
    ),
    (
        "no-show fee finer than a cent",
        snippet(extra='[billing]\nno_show_fee = "2.555"\n'),
        "billing.no_show_fee",
        "more than 2 decimal places for USD",
    ),
    (
        "zero deposit hold",
        snippet(extra="[billing]\ndeposit_hold_hours = 0\n"),
        "billing.deposit_hold_hours",
        "must be between 1 and 720, got 0",
    ),
    (
        "invoice prefix with spaces",
        snippet(extra='[billing]\ninvoice_prefix = "MY INV "\n'),
        "billing.invoice_prefix",
        "must be up to 12 letters, digits",
    ),
    (
        "TOML syntax error",
        snippet(business=BUSINESS.replace('name = "Test Shop"', 'name = "Test Shop')),
        "business.toml",
        "is not valid TOML: Illegal character '\\n' (at line 3",
    ),
]


@pytest.mark.parametrize(
    ("text", "field", "fragment"),
    [pytest.param(text, field, fragment, id=case) for case, text, field, fragment in BROKEN],
)
def test_a_broken_config_names_the_field_and_the_problem(
    text: str, field: str, fragment: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert caught.value.field == field
    assert fragment in caught.value.problem
    assert str(caught.value) == f"{field}: {caught.value.problem}"


def test_every_broken_snippet_is_otherwise_valid() -> None:
    # The base snippet must parse, or the table above would test nothing.
    parse_config(snippet())
    parse_config(snippet(extra=ROOM, services=SERVICE + 'needs = ["room"]\n'))


# ----------------------------------------------------------------------- the database


# The `db` fixture (SQLite and PostgreSQL) comes from tests/conftest.py.


def _counts(database: Database) -> dict[str, int]:
    models = (Business, Service, Staff, Resource, WorkingHours, TimeOff)
    with database.read() as session:
        return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in models}


def test_apply_config_writes_the_business_and_its_catalogue(db: Database) -> None:
    cfg = load_config(DEMO)
    apply_config(db, cfg)
    with db.read() as session:
        business = session.get(Business, 1)
        assert business is not None
        assert (business.name, business.timezone, business.currency) == (
            "Maple & Mane Salon",
            "America/New_York",
            "USD",
        )
        assert business.tax_rate == "8.875"
        assert business.config_digest == cfg.digest
        assert business.settings["rules"]["per_day_limit"] == 8
        assert business.settings["quiet_hours"] == ["21:00", "08:00"]
        assert "telegram:1000" in business.settings["owners"]
        colour = session.scalars(select(Service).where(Service.key == "colour")).one()
        assert (colour.price_minor, colour.deposit_percent) == (12000, 20)
        alex = session.scalars(select(Staff).where(Staff.key == "alex")).one()
        assert [s.key for s in alex.services] == ["haircut", "colour", "beard-trim"]
        assert session.scalar(select(func.count()).select_from(Resource)) == 2
        business_hours = session.scalars(
            select(WorkingHours).where(WorkingHours.staff_id.is_(None))
        ).all()
        assert len(business_hours) == 6  # closed on Mondays
        breaks = session.scalars(select(WorkingHours).where(WorkingHours.is_break)).all()
        assert len(breaks) == sum(len(v) for m in cfg.staff for v in m.breaks.values())


def test_applying_the_same_config_twice_changes_nothing(db: Database) -> None:
    cfg = load_config(DEMO)
    apply_config(db, cfg)
    first = _counts(db)
    apply_config(db, cfg)
    assert _counts(db) == first
    apply_config(db, cfg, force=True)  # the full sync path, not the digest shortcut
    assert _counts(db) == first


def test_a_changed_config_updates_rows_in_place(db: Database) -> None:
    cfg = load_config(DEMO)
    apply_config(db, cfg)
    with db.read() as session:
        haircut_id = session.scalars(select(Service.id).where(Service.key == "haircut")).one()
    cheaper = cfg.service("haircut").model_copy(update={"price_minor": 4000})
    services = [cheaper if s.key == "haircut" else s for s in cfg.services]
    apply_config(db, cfg.model_copy(update={"services": services, "raw": {**cfg.raw, "changed": True}}))
    with db.read() as session:
        haircut = session.get(Service, haircut_id)
        assert haircut is not None and haircut.price_minor == 4000


def test_a_service_removed_from_the_config_is_deactivated_not_deleted(db: Database) -> None:
    cfg = load_config(DEMO)
    apply_config(db, cfg)
    without_facial = parse_config(DEMO.read_text().replace('key = "facial"', 'key = "peel"'))
    apply_config(db, without_facial)
    with db.read() as session:
        facial = session.scalars(select(Service).where(Service.key == "facial")).one()
        assert facial.active is False
        assert facial.staff == []
        assert session.scalars(select(Service).where(Service.key == "peel")).one().active


def test_admin_time_off_survives_a_reapply(db: Database) -> None:
    cfg = load_config(DEMO)
    apply_config(db, cfg)
    with db.write() as session:
        session.add(
            TimeOff(
                starts_at=datetime(2026, 7, 4, 4, tzinfo=UTC),
                ends_at=datetime(2026, 7, 5, 4, tzinfo=UTC),
                reason="Burst pipe",
                source="admin",
            )
        )
    apply_config(db, cfg, force=True)
    with db.read() as session:
        reasons = session.scalars(select(TimeOff.reason).where(TimeOff.source == "admin")).all()
        assert reasons == ["Burst pipe"]
        config_rows = session.scalar(
            select(func.count()).select_from(TimeOff).where(TimeOff.source == "config")
        )
        assert config_rows == len(cfg.closures) + sum(len(m.time_off) for m in cfg.staff)


def test_the_christmas_closure_covers_the_new_york_day_in_utc(db: Database) -> None:
    apply_config(db, load_config(DEMO))
    with db.read() as session:
        christmas = session.scalars(select(TimeOff).where(TimeOff.reason == "Christmas Day")).one()
        assert christmas.staff_id is None
        assert christmas.starts_at == datetime(2026, 12, 25, 5, tzinfo=UTC)
        assert christmas.ends_at == datetime(2026, 12, 26, 5, tzinfo=UTC)


def test_a_closure_on_the_spring_forward_day_lasts_23_hours(db: Database) -> None:
    extra = '[[closures]]\ndate = "2026-03-08"\nreason = "DST"\n'
    apply_config(db, parse_config(snippet(extra=extra)))
    with db.read() as session:
        closure = session.scalars(select(TimeOff).where(TimeOff.reason == "DST")).one()
        assert closure.starts_at == datetime(2026, 3, 8, 5, tzinfo=UTC)
        assert closure.ends_at == datetime(2026, 3, 9, 4, tzinfo=UTC)


def test_staff_time_off_runs_to_the_end_of_its_last_day(db: Database) -> None:
    apply_config(db, load_config(DEMO))
    with db.read() as session:
        holiday = session.scalars(select(TimeOff).where(TimeOff.reason == "Holiday")).one()
        sam = session.scalars(select(Staff).where(Staff.key == "sam")).one()
        assert holiday.staff_id == sam.id
        assert holiday.starts_at == datetime(2026, 12, 26, 5, tzinfo=UTC)
        assert holiday.ends_at == datetime(2027, 1, 1, 5, tzinfo=UTC)


def test_workers_applying_the_config_at_once_all_succeed(db: Database) -> None:
    cfg = load_config(DEMO)
    workers = [Database(db.url) for _ in range(4)]
    try:
        with ThreadPoolExecutor(len(workers)) as pool:
            list(pool.map(lambda worker: apply_config(worker, cfg), workers))
    finally:
        for worker in workers:
            worker.dispose()
    assert _counts(db)["Business"] == 1
    assert _counts(db)["Service"] == len(cfg.services)


# ------------------------------------------------------------------- messaging settings

_TEMPLATE_SID = "HX" + "0123456789abcdef" * 2


def test_messaging_defaults_apply_when_the_sections_are_left_out() -> None:
    from bot.config import MessagingConfig

    assert parse_config(snippet()).messaging == MessagingConfig()
    assert MessagingConfig().max_attempts == 8 and MessagingConfig().waitlist_offer_minutes == 30


def test_messaging_waitlist_and_followup_settings_are_read_and_kept_in_settings() -> None:
    from bot.config import messaging_from_settings

    extra = (
        "[notifications]\nunconfirmed_alert_hours = 0\nauto_no_show = false\n"
        "no_show_grace_minutes = 45\n"
        '[messaging]\nmax_attempts = 3\nwhatsapp_outside_window = "template"\n'
        f'whatsapp_template = "{_TEMPLATE_SID}"\n'
        "[waitlist]\noffer_minutes = 15\n"
        "[followup]\nfeedback_requests = false\nfeedback_delay_minutes = 120\nrebook_nudges = false\n"
    )
    cfg = parse_config(snippet(extra=extra))
    messaging = cfg.messaging
    assert (messaging.max_attempts, messaging.whatsapp_outside_window) == (3, "template")
    assert messaging.whatsapp_template == _TEMPLATE_SID
    assert (messaging.unconfirmed_alert_hours, messaging.auto_no_show) == (0, False)
    assert messaging.no_show_grace_minutes == 45 and messaging.waitlist_offer_minutes == 15
    assert not messaging.feedback_requests and not messaging.rebook_nudges
    assert messaging.feedback_delay_minutes == 120
    assert messaging_from_settings(settings_for(cfg)) == messaging
    assert messaging_from_settings({}) == type(messaging)()


@pytest.mark.parametrize(
    ("extra", "field", "fragment"),
    [
        (
            '[messaging]\nwhatsapp_outside_window = "template"\n',
            "messaging.whatsapp_template",
            'is required when whatsapp_outside_window = "template"',
        ),
        (
            '[messaging]\nwhatsapp_outside_window = "smss"\n',
            "messaging.whatsapp_outside_window",
            "unknown choice 'smss'; did you mean 'sms'?",
        ),
        (
            '[messaging]\nwhatsapp_template = "abc"\n',
            "messaging.whatsapp_template",
            "must be a Twilio Content SID",
        ),
        ("[messaging]\nmax_attempts = 0\n", "messaging.max_attempts", "between 1 and 50"),
        (
            "[waitlist]\noffer_minute = 10\n",
            "waitlist.offer_minute",
            "did you mean 'offer_minutes'?",
        ),
        ('[followup]\nrebook_nudges = "yes"\n', "followup.rebook_nudges", "must be true or false"),
        (
            "[notifications]\nunconfirmed_alert_hours = 200\n",
            "notifications.unconfirmed_alert_hours",
            "between 0 and 168",
        ),
    ],
)
def test_a_broken_messaging_setting_names_the_field(extra: str, field: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(snippet(extra=extra))
    assert caught.value.field == field
    assert fragment in caught.value.problem


def test_the_demo_and_the_template_document_the_messaging_sections() -> None:
    for text in (DEMO.read_text(), TEMPLATE_PATH.read_text()):
        for section in ("[messaging]", "[waitlist]", "[followup]", "unconfirmed_alert_hours"):
            assert section in text
    assert load_config(DEMO).messaging.max_attempts == 8


# ----------------------------------------------------------------------------- branding


def test_the_demo_business_shows_its_svg_logo_in_its_own_colours() -> None:
    branding = load_config(DEMO).branding
    assert branding.logo == str(ROOT / "webhooks" / "static" / "demo-logo.svg")
    assert Path(branding.logo).read_text().startswith("<svg")
    assert (branding.colour, branding.accent, branding.logo_is_url) == ("#2f5d50", "#c8963e", False)


def test_branding_defaults_when_the_section_is_left_out() -> None:
    assert parse_config(snippet()).branding == BrandingConfig()
    assert BrandingConfig().colour == "#2f5d50" and BrandingConfig().logo is None
    assert branding_from_settings({}) == BrandingConfig()


def test_a_logo_is_read_relative_to_the_config_file_and_kept_in_settings(tmp_path: Path) -> None:
    (tmp_path / "art").mkdir()
    (tmp_path / "art" / "logo.png").write_bytes(b"\x89PNG\r\n")
    config = tmp_path / "business.toml"
    config.write_text(snippet(extra='[branding]\nlogo = "art/logo.png"\ncolour = "#1F4E79"\n'))
    cfg = load_config(config)
    assert cfg.branding.logo == str((tmp_path / "art" / "logo.png").resolve())
    assert cfg.branding.colour == "#1f4e79" and cfg.branding.accent is None
    assert branding_from_settings(settings_for(cfg)) == cfg.branding


def test_a_logo_url_and_short_hex_colours_are_accepted() -> None:
    extra = (
        '[branding]\nlogo = "https://cdn.example.com/logo.svg"\ncolour = "#036"\naccent = "#FC0"\n'
    )
    branding = parse_config(snippet(extra=extra)).branding
    assert branding.logo == "https://cdn.example.com/logo.svg" and branding.logo_is_url
    assert (branding.colour, branding.accent) == ("#003366", "#ffcc00")


@pytest.mark.parametrize(
    ("extra", "field", "fragment"),
    [
        ('colour = "green"', "branding.colour", 'must be a hex colour like "#2f5d50"'),
        ('colour = "#f0b429"', "branding.colour", "too light for text on the pages (1.7:1"),
        ('colour = "#767676"', "branding.colour", "(4.2:1; WCAG AA needs 4.5:1)"),
        ('accent = "#12345"', "branding.accent", "must be a hex colour"),
        ('logo = "/nowhere/logo.svg"', "branding.logo", "file not found"),
        ('logo = "business.toml"', "branding.logo", "must be an image"),
        ('color = "#2f5d50"', "branding.color", "did you mean 'colour'?"),
    ],
)
def test_a_broken_branding_setting_names_the_field(extra: str, field: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(snippet(extra=f"[branding]\n{extra}\n"), base=ROOT)
    assert caught.value.field == field
    assert fragment in caught.value.problem


def test_contrast_ratios_follow_wcag() -> None:
    assert round(contrast_ratio("#000000", "#ffffff"), 1) == 21.0
    assert contrast_ratio("#2f5d50", "#ffffff") >= 4.5
    assert contrast_ratio("#777777", "#777777") == 1.0


def test_the_demo_and_the_template_document_the_branding_section() -> None:
    for text in (DEMO.read_text(), TEMPLATE_PATH.read_text()):
        assert "[branding]" in text and "colour" in text and "logo" in text
