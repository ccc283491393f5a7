"""Builders for the photo and signature tests: the demo salon with disclaimers on its home
visit, real images made with Pillow, a drawn signature, bookings made through bot.scheduling.booking."""

from __future__ import annotations

import io
import re
from datetime import datetime
from pathlib import Path

from flask import Flask
from PIL import Image, ImageDraw
from sqlalchemy import select

from bot.config import BusinessConfig, apply_config, parse_config
from bot.scheduling.booking import Booked, book
from storage.db import Database
from storage.models import Appointment, Customer, CustomerIdentity
from tests.conftest import DEMO_CONFIG, ROOT
from tests.factories import local, service_id, staff_id
from webhooks.app import create_app

BEFORE_TEXT = (
    "I confirm the work area is clear and that I have told the stylist about any allergies "
    "or scalp conditions. I understand that products may irritate sensitive skin."
)
AFTER_TEXT = (
    "I have seen the finished haircut, I am satisfied with the work, and the work area was "
    "left clean."
)
SAM_SMS = "+12125550101"  # Sam's staff identity in the demo business.toml


def field_config_text() -> str:
    """The demo business.toml with both disclaimers on the home visit haircut."""
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    logo = str(ROOT / "webhooks" / "static" / "demo-logo.svg")
    text = re.sub(r'^logo = "[^"]*"', f'logo = "{logo}"', text, count=1, flags=re.M)
    marker = 'key = "home-haircut"\n'
    assert marker in text
    return text.replace(
        marker,
        marker + f'disclaimer_before = "{BEFORE_TEXT}"\ndisclaimer_after = "{AFTER_TEXT}"\n',
    )


def field_config() -> BusinessConfig:
    """The parsed demo config with disclaimers."""
    return parse_config(field_config_text(), base=ROOT)


def write_field_config(folder: Path) -> Path:
    """The config with disclaimers as a file, for an app."""
    path = folder / "business.toml"
    path.write_text(field_config_text(), encoding="utf-8")
    return path


def salon_with_disclaimers(db: Database) -> Database:
    """The demo business, with disclaimers, applied to `db`."""
    apply_config(db, field_config())
    return db


def customer(db: Database, name: str, phone: str, *, at: datetime) -> int:
    """A customer reachable by SMS."""
    with db.write() as session:
        row = Customer(
            name=name, phone=phone, address="12 Elm St, Brooklyn, NY 11201", created_at=at, notes=""
        )
        session.add(row)
        session.flush()
        session.add(
            CustomerIdentity(customer_id=row.id, channel="sms", address=phone, created_at=at)
        )
        return row.id


def web_customer(db: Database, name: str, session_id: str, *, at: datetime) -> int:
    """A customer known by a web chat session."""
    with db.write() as session:
        row = Customer(name=name, created_at=at, notes="")
        session.add(row)
        session.flush()
        session.add(
            CustomerIdentity(customer_id=row.id, channel="web", address=session_id, created_at=at)
        )
        return row.id


def booked(
    db: Database,
    who: int,
    at: str,
    *,
    service: str = "home-haircut",
    staff: str = "sam",
    now: datetime,
) -> int:
    """An appointment booked through the booking service."""
    with db.write() as session:
        outcome = book(
            session,
            customer_id=who,
            service_id=service_id(session, service),
            staff_id=staff_id(session, staff),
            start=local(at),
            now=now,
            enforce_rules=False,
        )
        assert isinstance(outcome, Booked), outcome
        return outcome.appointment.id


def photo(
    colour: tuple[int, int, int],
    label: str,
    *,
    size: tuple[int, int] = (640, 480),
    kind: str = "JPEG",
) -> bytes:
    """A real photo-like image: a gradient, a shape and a label."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    width, height = size
    for y in range(0, height, 8):
        shade = tuple(min(255, c + y // 6) for c in colour)
        draw.rectangle([0, y, width, y + 8], fill=shade)
    draw.ellipse(
        [width // 4, height // 4, 3 * width // 4, 3 * height // 4],
        fill=(250, 250, 250),
        outline=(30, 30, 30),
        width=6,
    )
    draw.text((20, 20), label, fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def drawn_signature() -> bytes:
    """A signature as the pad sends it: dark strokes on a transparent PNG."""
    image = Image.new("RGBA", (600, 180), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    points = [
        (40, 120),
        (80, 40),
        (110, 130),
        (150, 50),
        (190, 120),
        (230, 80),
        (300, 110),
        (340, 60),
        (380, 120),
        (460, 70),
        (540, 100),
    ]
    draw.line(points, fill=(17, 24, 39, 255), width=5, joint="curve")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def appointment_ids(db: Database, customer_id: int) -> list[int]:
    """A customer's appointment ids, oldest first."""
    with db.read() as session:
        return list(
            session.scalars(
                select(Appointment.id)
                .where(Appointment.customer_id == customer_id)
                .order_by(Appointment.starts_at)
            )
        )


def field_app(db_url: str, folder: Path) -> Flask:
    """The app on `db_url` with the demo business plus disclaimers on the home visit."""
    return create_app(
        {
            "DATABASE_URL": db_url,
            "BUSINESS_CONFIG": str(write_field_config(folder)),
            "TESTING": True,
            "SLOTBOT_SPOOL_DIR": str(folder / "spool"),
        }
    )
