"""Signatures kept in the database: disclaimers from business.toml, signed expiring links that
refuse tampering, expiry and reuse, what a signature records, estimates approved by signing,
and the estimate and invoice PDFs that print the signed text, the signature and the photos."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from bot.billing.documents.delivery import invoice_pdf
from bot.billing.documents.estimates import create_estimate, estimate_pdf, get_estimate
from bot.billing.documents.signing import complete, estimate_text, request_for_estimate
from bot.billing.ledger.invoices import LineSpec
from bot.config import apply_config, load_config
from bot.customers import attachments
from bot.customers.portal import issue_link, secret_key
from bot.field import signatures
from bot.field.signatures import Kind, SigningRefused, Status, link_for, verify
from bot.scheduling.booking import set_status
from storage.billing import APPROVED, Invoice
from storage.db import Database
from storage.files import Signature, SignatureRequest
from storage.messaging import OutboxMessage
from storage.models import COMPLETED, IN_PROGRESS, Appointment, Service
from tests.conftest import DEMO_CONFIG
from tests.factories import local
from tests.files_factories import (
    AFTER_TEXT,
    BEFORE_TEXT,
    booked,
    customer,
    drawn_signature,
    field_config,
    photo,
    salon_with_disclaimers,
)

NOW = local("2026-11-17 08:00")
PHONE = "+12125550301"


@pytest.fixture
def salon(db: Database) -> Database:
    return salon_with_disclaimers(db)


@pytest.fixture
def job(salon: Database) -> int:
    """Ana's home visit haircut on Tuesday at 10."""
    ana = customer(salon, "Ana Lee", PHONE, at=NOW)
    return booked(salon, ana, "2026-11-17 10:00", now=NOW)


def _request(db: Database, appointment_id: int, kind: Kind = Kind.BEFORE) -> tuple[int, str]:
    with db.write() as session:
        appointment = session.get(Appointment, appointment_id)
        request = signatures.request_for_appointment(
            session, appointment, kind, requested_by="staff:sms:+12125550101", now=NOW
        )
        assert request is not None
        return request.id, link_for(session, request).rsplit("/", 1)[1]


def _check(db: Database, token: str, at=NOW) -> Status:
    with db.read() as session:
        return verify(session, token, at).status


# ------------------------------------------------------------------------ the config


def test_disclaimers_come_from_business_toml_and_the_demo_has_none(db: Database) -> None:
    demo = load_config(DEMO_CONFIG)
    assert all(s.disclaimer_before is None and s.disclaimer_after is None for s in demo.services)
    apply_config(db, field_config())
    with db.read() as session:
        home = session.scalars(select(Service).where(Service.key == "home-haircut")).one()
        cut = session.scalars(select(Service).where(Service.key == "haircut")).one()
        assert (home.disclaimer_before, home.disclaimer_after) == (BEFORE_TEXT, AFTER_TEXT)
        assert cut.disclaimer_before is None and cut.disclaimer_after is None


def test_a_service_without_a_disclaimer_asks_for_no_signature(salon: Database) -> None:
    ana = customer(salon, "Ana Lee", PHONE, at=NOW)
    cut = booked(salon, ana, "2026-11-17 11:00", service="haircut", now=NOW)
    with salon.write() as session:
        appointment = session.get(Appointment, cut)
        assert (
            signatures.request_for_appointment(
                session, appointment, Kind.BEFORE, requested_by="owner", now=NOW
            )
            is None
        )
        assert signatures.due_kind(session, appointment) is None
        assert not signatures.missing(session, appointment, Kind.AFTER)


# ------------------------------------------------------------------------ the links


def test_a_signing_link_verifies_until_it_expires_three_days_later(
    salon: Database, job: int
) -> None:
    _, token = _request(salon, job)
    assert _check(salon, token) == Status.OK
    assert _check(salon, token, NOW + timedelta(days=3) - timedelta(seconds=1)) == Status.OK
    assert _check(salon, token, NOW + timedelta(days=3)) == Status.EXPIRED
    assert _check(salon, token, NOW + timedelta(days=30)) == Status.EXPIRED


def test_a_tampered_token_or_one_for_another_row_is_refused(salon: Database, job: int) -> None:
    first_id, token = _request(salon, job)
    _, other = _request(salon, job, Kind.AFTER)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert _check(salon, flipped) == Status.INVALID
    assert _check(salon, token + "x") == Status.INVALID
    assert _check(salon, "") == Status.INVALID
    with salon.read() as session:
        secret = secret_key(session)
        # Signed with the right secret but another salt (a portal token) or a forged row.
        portal = URLSafeTimedSerializer(secret, salt="slotbot-portal").dumps({"req": first_id})
        forged = URLSafeTimedSerializer(secret, salt="wrong").dumps({"req": first_id})
        wrong_customer = URLSafeTimedSerializer(secret, salt=signatures.SALT).dumps(
            {"req": first_id, "customer": 999}
        )
    for bad in (portal, forged, wrong_customer):
        assert _check(salon, bad) == Status.INVALID
    assert _check(salon, other) == Status.OK  # the other request is untouched


def test_a_portal_link_is_not_a_signing_link(salon: Database, job: int) -> None:
    with salon.write() as session:
        ana = session.get(Appointment, job).customer_id
        url = issue_link(session, customer_id=ana, role="customer", now=NOW)
    assert _check(salon, url.rsplit("/", 1)[1]) == Status.INVALID


def test_signing_keeps_name_image_time_ip_and_the_hash_of_the_text(
    salon: Database, job: int
) -> None:
    request_id, token = _request(salon, job)
    png = drawn_signature()
    at = NOW + timedelta(hours=1, minutes=50)
    with salon.write() as session:
        request = session.get(SignatureRequest, request_id)
        complete(
            session,
            request,
            name="  Ana   Lee ",
            now=at,
            image_png=png,
            ip="203.0.113.9",
            user_agent="Mobile Safari",
        )
    with salon.read() as session:
        kept = session.scalars(select(Signature)).one()
        assert kept.signer_name == "Ana Lee"
        assert kept.image_png == png and kept.method == "drawn"
        assert kept.signed_at == at and kept.ip == "203.0.113.9"
        assert kept.signed_text == BEFORE_TEXT
        assert kept.text_sha256 == hashlib.sha256(BEFORE_TEXT.encode()).hexdigest()
        assert kept.kind == "before" and kept.appointment_id == job
        assert signatures.intact(kept)
        appointment = session.get(Appointment, job)
        assert not signatures.missing(session, appointment, Kind.BEFORE)
        assert signatures.missing(session, appointment, Kind.AFTER)
    assert _check(salon, token, at) == Status.SIGNED  # used once, never again


def test_a_signature_is_kept_once_and_needs_a_name_and_a_real_png(
    salon: Database, job: int
) -> None:
    request_id, _ = _request(salon, job)
    with salon.write() as session:
        request = session.get(SignatureRequest, request_id)
        for name, image in (("", None), ("   ", None)):
            with pytest.raises(SigningRefused, match="name"):
                complete(session, request, name=name, now=NOW, image_png=image)
        for broken in (b"GIF89a" + b"\0" * 40, signatures.PNG_MAGIC + b"junk" * 10):
            with pytest.raises(SigningRefused, match="could not be read"):
                complete(session, request, name="Ana Lee", now=NOW, image_png=broken)
        with pytest.raises(SigningRefused, match="could not be read"):
            complete(session, request, name="Ana", now=NOW, image_png=photo((9, 9, 9), "x"))
        complete(session, request, name="Ana Lee", now=NOW)  # no JavaScript: the typed name
        with pytest.raises(SigningRefused):
            complete(session, request, name="Someone Else", now=NOW)
    with salon.read() as session:
        only = session.scalars(select(Signature)).one()
        assert only.method == "typed" and only.image_png is None


def test_an_expired_request_cannot_be_signed(salon: Database, job: int) -> None:
    request_id, _ = _request(salon, job)
    with salon.write() as session:
        request = session.get(SignatureRequest, request_id)
        with pytest.raises(SigningRefused, match="no longer"):
            complete(session, request, name="Ana Lee", now=NOW + timedelta(days=4))
    with salon.read() as session:
        assert session.scalars(select(Signature)).first() is None


def test_a_changed_text_no_longer_matches_its_hash(salon: Database, job: int) -> None:
    request_id, _ = _request(salon, job)
    with salon.write() as session:
        signature = complete(
            session, session.get(SignatureRequest, request_id), name="Ana Lee", now=NOW
        )
        signature.signed_text = BEFORE_TEXT.replace("allergies", "nothing")
    with salon.read() as session:
        assert not signatures.intact(session.scalars(select(Signature)).one())


# ----------------------------------------------------------------------- estimates


def _estimate(salon: Database, job: int) -> int:
    with salon.write() as session:
        ana = session.get(Appointment, job).customer_id
        estimate = create_estimate(
            session,
            customer_id=ana,
            lines=[
                LineSpec("labour", "Colour correction", 12000),
                LineSpec("part", "Toner", 2500),
            ],
            now=NOW,
            notes="Two sessions may be needed.",
        )
        estimate.appointment_id = job
        return estimate.id


def test_an_estimate_is_approved_by_signing_its_lines_and_total(salon: Database, job: int) -> None:
    estimate_id = _estimate(salon, job)
    with salon.write() as session:
        request = request_for_estimate(session, estimate_id, requested_by="owner", now=NOW)
        assert request is not None and request.kind == "estimate"
        text = request.text
        assert "EST-0001" in text and "Colour correction" in text and "Toner" in text
        assert "$120.00" in text and "$25.00" in text and "Total including tax: $1" in text
        assert "Two sessions may be needed." in text
        # A draft is sent first (with its PDF), so the customer has it on their phone too.
        assert session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "estimate")
        ).one()
        complete(
            session,
            request,
            name="Ana Lee",
            now=NOW + timedelta(hours=2),
            image_png=drawn_signature(),
            ip="198.51.100.4",
        )
    with salon.read() as session:
        estimate = get_estimate(session, estimate_id)
        assert estimate.status == APPROVED
        assert estimate.answer_channel == "web" and estimate.answer_address.startswith("sign:")
        kept = session.scalars(select(Signature)).one()
        assert kept.estimate_id == estimate_id and kept.signed_text == estimate_text(
            session, estimate
        )


def test_an_expired_estimate_is_not_approved_by_a_signature(salon: Database, job: int) -> None:
    estimate_id = _estimate(salon, job)
    with salon.write() as session:
        request = request_for_estimate(session, estimate_id, requested_by="owner", now=NOW)
        request.expires_at = NOW + timedelta(days=60)  # the link outlives the estimate
        with pytest.raises(SigningRefused, match="expired"):
            complete(session, request, name="Ana Lee", now=NOW + timedelta(days=40))
        assert request.signed_at is None
    with salon.write() as session:
        assert (
            request_for_estimate(
                session, estimate_id, requested_by="owner", now=NOW + timedelta(days=40)
            )
            is None
        )


# ---------------------------------------------------------------------------- PDFs


def _pdf_text(data: bytes, folder: Path) -> str:
    path = folder / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def _signed_and_photographed_job(salon: Database, job: int) -> None:
    """Before and after photos, both disclaimers signed, then the job completed."""
    with salon.write() as session:
        appointment = session.get(Appointment, job)
        for kind, colour in (("before", (160, 82, 45)), ("after", (70, 130, 180))):
            attachments.add(
                session,
                kind=attachments.Kind(kind),
                content_type="image/jpeg",
                sent_by="staff:sms:+12125550101",
                now=NOW,
                customer_id=appointment.customer_id,
                appointment_id=job,
                data=photo(colour, kind),
                filename=f"{kind}.jpg",
            )
        set_status(session, job, IN_PROGRESS, now=local("2026-11-17 10:00"))
        for kind, minute in ((Kind.BEFORE, "10:02"), (Kind.AFTER, "10:58")):
            request = signatures.request_for_appointment(
                session, appointment, kind, requested_by="staff", now=local(f"2026-11-17 {minute}")
            )
            complete(
                session,
                request,
                name="Ana Lee",
                now=local(f"2026-11-17 {minute}"),
                image_png=drawn_signature(),
                ip="203.0.113.9",
            )
        set_status(session, job, COMPLETED, now=local("2026-11-17 11:00"))


def test_the_invoice_pdf_prints_the_photos_and_the_signed_disclaimers(
    salon: Database, job: int, tmp_path: Path, artifacts: Path
) -> None:
    _signed_and_photographed_job(salon, job)
    with salon.read() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.appointment_id == job)).one()
        data = invoice_pdf(session, invoice, now=local("2026-11-17 11:00"))
    text = " ".join(_pdf_text(data, tmp_path).split())
    assert "Photos" in text and "Before" in text and "After" in text
    assert "Signed: Home visit haircut: before the job" in text
    assert "Signed: Home visit haircut: after the job" in text
    assert "I have seen the finished haircut" in text
    assert "Signed by Ana Lee, Tue, Nov 17, 10:02 AM (signed by hand), from 203.0.113.9" in text
    assert hashlib.sha256(AFTER_TEXT.encode()).hexdigest() in text
    (artifacts / "invoice-signed.pdf").write_bytes(data)
    listing = subprocess.run(
        ["pdfimages", "-list", str(artifacts / "invoice-signed.pdf")],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.splitlines()[2:]
    assert len(listing) >= 4  # two photo thumbnails and two drawn signatures (and their masks)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            str(artifacts / "invoice-signed.pdf"),
            str(artifacts / "invoice-signed"),
        ],
        check=True,
    )
    pages = sorted(artifacts.glob("invoice-signed-*.png"))
    assert pages, "pdftoppm made no page images"


def test_the_estimate_pdf_prints_the_approval_signature(
    salon: Database, job: int, tmp_path: Path
) -> None:
    estimate_id = _estimate(salon, job)
    with salon.write() as session:
        request = request_for_estimate(session, estimate_id, requested_by="owner", now=NOW)
        complete(session, request, name="Ana Lee", now=NOW, image_png=drawn_signature())
    with salon.read() as session:
        text = " ".join(
            _pdf_text(estimate_pdf(session, get_estimate(session, estimate_id)), tmp_path).split()
        )
    assert "Signed: Estimate EST-0001" in text
    assert "I approve estimate EST-0001" in text and "Signed by Ana Lee" in text


def test_a_pdf_without_photos_or_signatures_is_as_before(salon: Database, tmp_path: Path) -> None:
    ana = customer(salon, "Ana Lee", PHONE, at=NOW)
    cut = booked(salon, ana, "2026-11-17 11:00", service="haircut", now=NOW)
    with salon.write() as session:
        set_status(session, cut, COMPLETED, now=local("2026-11-17 12:00"))
    with salon.read() as session:
        invoice = session.scalars(select(Invoice).where(Invoice.appointment_id == cut)).one()
        text = _pdf_text(invoice_pdf(session, invoice, now=NOW), tmp_path)
    assert "Photos" not in text and "Signed" not in text and "Haircut" in text
