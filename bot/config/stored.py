"""The `Business.settings` JSON blob: the typed settings written once, read back by validation.

This module owns the blob's two directions: `settings_for` dumps a `BusinessConfig`'s
running settings as `BusinessSettings` JSON, and the `*_from_settings` readers are
`model_validate` on one section (kept for their callers until those read one business
context).
"""

from __future__ import annotations

import copy
import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

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


log = logging.getLogger(__name__)


def business_settings(settings: Mapping[str, Any] | None) -> BusinessSettings:
    """The whole blob validated (defaults where a key is missing, unknown keys left out).

    business.toml refuses unknown keys; a blob already stored may hold one a later or an
    earlier version wrote, and one stray key must not stop every turn until the config is
    applied again (`apply_config` rewrites a blob that does not validate as it stands).
    """
    data = dict(settings or {})
    try:
        return BusinessSettings.model_validate(data)
    except ValidationError as error:
        extra = [e["loc"] for e in error.errors() if e["type"] == "extra_forbidden"]
        if not extra:
            raise
        data = copy.deepcopy(data)
        for loc in extra:
            _drop(data, loc)
        log.warning(
            "stored business settings: left out unknown keys %s (apply the config to rewrite)",
            ", ".join(".".join(map(str, loc)) for loc in extra),
        )
        return BusinessSettings.model_validate(data)


def stored_settings_current(settings: Mapping[str, Any] | None) -> bool:
    """Whether the stored blob validates exactly as it stands (no unknown key, no bad value)."""
    try:
        BusinessSettings.model_validate(dict(settings or {}))
    except ValidationError:
        return False
    return True


def _drop(data: Any, loc: tuple[Any, ...]) -> None:
    """Remove the key at `loc` from the nested dicts and lists of `data`."""
    for part in loc[:-1]:
        found = (isinstance(data, dict) and part in data) or (
            isinstance(data, list) and isinstance(part, int) and part < len(data)
        )
        if not found:
            return
        data = data[part]
    if isinstance(data, dict):
        data.pop(loc[-1], None)


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
