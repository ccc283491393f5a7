"""The `Business.settings` JSON blob: the typed settings written once, read back by validation.

This module owns the blob's two directions: `settings_for` dumps a `BusinessConfig`'s
running settings as `BusinessSettings` JSON, and the `*_from_settings` readers are
`model_validate` on one section (kept for their callers until those read one business
context).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from bot.config.schema import (
    BillingConfig,
    BookingRules,
    BrandingConfig,
    BusinessConfig,
    BusinessSettings,
    MessagingConfig,
)


def settings_for(cfg: BusinessConfig) -> dict[str, Any]:
    """The JSON `Business.settings` dict: rules, notifications, contact details, owners."""
    return BusinessSettings(
        rules=cfg.rules,
        reminders=list(cfg.reminders),
        quiet_hours=cfg.quiet_hours,
        owners=list(cfg.owners),
        messaging=cfg.messaging,
        billing=cfg.billing,
        branding=cfg.branding,
        travel=cfg.travel,
        phone=cfg.phone,
        address=cfg.address,
        email=cfg.email,
        review_url=cfg.review_url,
        owner_key=cfg.owner_key,
        owner_pin_digest=pin_digest(cfg.owner_pin) if cfg.owner_pin else None,
        staff_identities={member.key: list(member.identities) for member in cfg.staff},
        handover=cfg.handover,
        promotions=cfg.promotions,
    ).model_dump(mode="json")


def business_settings(settings: Mapping[str, Any] | None) -> BusinessSettings:
    """The whole blob validated (defaults where a key is missing; unknown keys refused)."""
    return BusinessSettings.model_validate(dict(settings or {}))


def pin_digest(pin: str) -> str:
    """The digest of an owner PIN as `Business.settings` keeps it."""
    return hashlib.sha256(f"slotbot-owner-pin:{pin}".encode()).hexdigest()


def rules_from_settings(settings: Mapping[str, Any] | None) -> BookingRules:
    """BookingRules validated from `Business.settings` (defaults where a key is missing)."""
    return BookingRules.model_validate((settings or {}).get("rules") or {})


def billing_from_settings(settings: Mapping[str, Any] | None) -> BillingConfig:
    """BillingConfig validated from `Business.settings` (defaults where a key is missing)."""
    return BillingConfig.model_validate((settings or {}).get("billing") or {})


def branding_from_settings(settings: Mapping[str, Any] | None) -> BrandingConfig:
    """BrandingConfig validated from `Business.settings` (defaults where a key is missing)."""
    return BrandingConfig.model_validate((settings or {}).get("branding") or {})


def messaging_from_settings(settings: Mapping[str, Any] | None) -> MessagingConfig:
    """MessagingConfig validated from `Business.settings` (defaults where a key is missing)."""
    return MessagingConfig.model_validate((settings or {}).get("messaging") or {})
