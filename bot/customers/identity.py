"""Phone numbers as identities: E.164 normalisation and linking one customer across channels.

A person who booked by SMS and later shares their phone number on Telegram is the same
customer: `link_phone` points the Telegram identity at the customer who already has that
number. Numbers are compared only in E.164 ("+12125550123"), so "(212) 555-0123" typed in
New York and "+1 212 555 0123" shared from a phone are one number.
"""

from __future__ import annotations

import re

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Customer, CustomerIdentity

DEFAULT_REGION = "US"
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def default_region(phone: str | None = None, locale: str | None = None) -> str:
    """The region national numbers are read in: the business phone's, else the locale's."""
    if phone:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
        except phonenumbers.NumberParseException:
            region = None
        if region and region != "ZZ":
            return region
    if locale and "_" in locale:
        territory = locale.replace("-", "_").split("_")[-1].upper()
        if len(territory) == 2 and territory.isalpha():
            return territory
    return DEFAULT_REGION


def normalise_phone(
    raw: str | None, region: str = DEFAULT_REGION, *, international: bool = False
) -> str | None:
    """`raw` as E.164, or None when it is not a possible phone number.

    `international`: bare digits carry their country code (Telegram shares "15551230001"
    without the "+"); otherwise they are read as a national number of `region` first.
    """
    if not raw:
        return None
    text = raw.strip().removeprefix("whatsapp:").removeprefix("tel:").strip()
    if _E164.match(text):
        return text  # what Twilio sends: already E.164 (and parsing costs a tenth of a ms)
    candidates = [text]
    if text[:1].isdigit():
        candidates.insert(0 if international else 1, "+" + text)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        # "possible", not "valid": test and newly issued ranges fail the stricter check,
        # and business.toml accepts the same.
        if phonenumbers.is_possible_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def link_phone(session: Session, identity: CustomerIdentity, phone: str) -> Customer:
    """Tie `identity` to the customer with this (E.164) phone; returns its customer now.

    If another customer already has the number, the identity moves to them (names and
    emails they lack are kept from the customer left behind, whose history stays theirs);
    otherwise the number is recorded on the identity's own customer if it has none.
    """
    current = identity.customer
    if current.phone == phone:
        return current
    owner = session.scalar(
        select(Customer)
        .where(Customer.phone == phone, Customer.id != current.id)
        .order_by(Customer.id)
        .limit(1)
    )
    if owner is None:
        if not current.phone:
            current.phone = phone
        return current
    owner.name = owner.name or current.name
    owner.email = owner.email or current.email
    identity.customer = owner
    session.flush()
    return owner
