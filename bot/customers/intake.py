"""Facts kept as facts: phone numbers and email addresses in a message go into the
customer's fields, and owners' bookings find existing customers by them before by name.

Phones are read with `phonenumbers` in the business's region (its phone's country, else its
locale's) and stored in E.164; emails are checked with `email-validator` for syntax only (no
DNS: a chat turn must not wait on the network) and stored normalised. A customer's phone is
only filled in when they have none and no other customer has that number (a typed number
is not proof of owning it: it never joins this chat to someone else's account); an email
typed later replaces an older one (people do change them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config.context import business_context
from bot.customers.identity import default_region
from storage.models import Customer, CustomerIdentity

_CAP = 2000  # characters of a message searched
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_PHONE_CHANNELS = ("sms", "whatsapp")


class Fact(StrEnum):
    """A customer field intake fills."""

    PHONE = "phone"
    EMAIL = "email"


@dataclass
class Kept:
    """What one message added to the customer, field → value."""

    facts: dict[Fact, str] = field(default_factory=dict)


def business_region(session: Session) -> str:
    """The region national phone numbers are read in, for this business."""
    business = business_context(session, required=False)  # unconfigured: en_US, so "US"
    return default_region(business.phone, business.locale)


def phone_in(text: str, region: str) -> str | None:
    """The first phone number in `text`, in E.164, if any."""
    try:
        for match in phonenumbers.PhoneNumberMatcher(text[:_CAP], region.upper()):
            return phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
    except Exception:  # phonenumbers' own guards vary across versions (a bad region, say)
        return None
    return None


def email_in(text: str) -> str | None:
    """The first syntactically valid email address in `text`, normalised, if any."""
    for candidate in _EMAIL.findall(text[:_CAP]):
        try:
            checked = validate_email(candidate.strip(".'"), check_deliverability=False)
        except EmailNotValidError:
            continue
        return checked.normalized
    return None


def without_contacts(text: str, region: str, mark: str = ",") -> str:
    """`text` with each email and phone number replaced by `mark` (a break between words)."""
    text = _EMAIL.sub(mark, text[:_CAP])
    try:
        spans = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, region.upper())]
    except Exception:
        spans = []
    for start, end in reversed(spans):
        text = text[:start] + mark + text[end:]
    return " ".join(text.split())


def phone_owner(session: Session, phone: str) -> Customer | None:
    """The customer with this phone, on their record or as an SMS/WhatsApp identity."""
    found = session.scalars(
        select(Customer).where(Customer.phone == phone).order_by(Customer.id).limit(1)
    ).first()
    if found is not None:
        return found
    return session.scalars(
        select(Customer)
        .join(CustomerIdentity, CustomerIdentity.customer_id == Customer.id)
        .where(
            CustomerIdentity.channel.in_(_PHONE_CHANNELS),
            func.replace(CustomerIdentity.address, "whatsapp:", "") == phone,
        )
        .order_by(Customer.id)
        .limit(1)
    ).first()


def email_owner(session: Session, email: str) -> Customer | None:
    """The customer with this email (any case), if there is one."""
    return session.scalars(
        select(Customer)
        .where(func.lower(Customer.email) == email.lower())
        .order_by(Customer.id)
        .limit(1)
    ).first()


def _our_numbers(session: Session) -> set[str]:
    """The business's own phone and its owners' and staff's numbers."""
    business = business_context(session, required=False)
    identities = list(business.owners)
    for listed in business.staff_identities.values():
        identities += list(listed)
    numbers = {i.split(":", 1)[1] for i in identities if i.startswith(("sms:", "whatsapp:"))}
    if business.phone:
        numbers.add(str(business.phone))
    return numbers


def keep_facts(session: Session, customer: Customer, text: str) -> Kept:
    """Put a phone number or email found in a customer's message into their record."""
    kept = Kept()
    if not text or ("@" not in text and sum(ch.isdigit() for ch in text) < 7):
        return kept  # nothing that could be either: skip the parsing
    email = email_in(text)
    if email and email != customer.email:
        customer.email = email
        kept.facts[Fact.EMAIL] = email
    phone = phone_in(text, business_region(session))
    if phone and phone in _our_numbers(session):
        phone = None  # "I called you on 212-555-0100": the shop's number, not theirs
    if phone and not customer.phone:
        holder = phone_owner(session, phone)
        if holder is None or holder.id == customer.id:
            customer.phone = phone
            kept.facts[Fact.PHONE] = phone
    return kept


def match_customer(
    session: Session,
    *,
    phone: str | None,
    email: str | None,
    candidates_by_name: list[Customer],
) -> Customer | None:
    """The existing customer an owner means: by phone, then email, then a unique name."""
    if phone:
        found = phone_owner(session, phone)
        if found is not None:
            return found
    if email:
        found = email_owner(session, email)
        if found is not None:
            return found
    if not phone and not email and len(candidates_by_name) == 1:
        return candidates_by_name[0]
    return None
