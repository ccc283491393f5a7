"""Applying business.toml to the database: one transaction makes the rows match the file.

This module owns `apply_config`: the business row (with its `settings` blob), services,
staff, resources, weekly hours and config-sourced time off, upserted by key; rows no
longer configured are deactivated, never deleted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session

from bot.config.context import business_row
from bot.config.schema import BusinessConfig, ServiceConfig, StaffConfig, Week
from bot.config.stored import settings_for, stored_settings_current
from bot.core.clock import utcnow
from storage.db import Database
from storage.models import Business, Resource, Service, Staff, TimeOff, WorkingHours

# PostgreSQL advisory lock (key space, key) for apply_config: a space of its own, apart
# from the small spaces storage uses to lock calendars.
_APPLY_LOCK = (4_201_726, 0)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local day starts (a day is 23 or 25 hours across DST)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _is_current(session: Session, cfg: BusinessConfig, business: Business | None) -> bool:
    if business is None or business.config_digest != cfg.digest:
        return False
    if not stored_settings_current(business.settings):  # a stray or bad stored value
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
    values = service.model_dump()
    del values["key"], values["staff_keys"]
    return values


def _home_values(member: StaffConfig) -> dict[str, Any]:
    """A staff member's field-service columns."""
    return {
        "skills": list(member.skills),
        "home_address": member.home_address,
        "home_lat": member.home_lat,
        "home_lon": member.home_lon,
    }


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
        business = business_row(session)
        if not force and _is_current(session, cfg, business):
            return
        _write_business(session, cfg, business)
        staff = _write_catalogue(session, cfg)
        _write_hours(session, cfg, staff)
        _write_time_off(session, cfg, staff)
