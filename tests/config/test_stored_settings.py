"""The `Business.settings` blob: written from the typed config, read back by validation."""

from __future__ import annotations

from datetime import time

import pytest
from pydantic import ValidationError

from bot.config import (
    BookingRules,
    BusinessSettings,
    MessagingConfig,
    business_settings,
    load_config,
    messaging_from_settings,
    rules_from_settings,
    settings_for,
)
from tests.conftest import DEMO_CONFIG


def test_the_blob_reads_back_as_the_typed_settings_it_was_written_from() -> None:
    cfg = load_config(DEMO_CONFIG)
    blob = settings_for(cfg)
    stored = business_settings(blob)
    assert stored.rules == cfg.rules and stored.billing == cfg.billing
    assert stored.messaging == cfg.messaging and stored.travel == cfg.travel
    assert stored.quiet_hours == cfg.quiet_hours and blob["quiet_hours"] == ["21:00", "08:00"]
    assert stored.handover == cfg.handover and stored.promotions == cfg.promotions
    assert stored.model_dump(mode="json") == blob  # the same JSON again


def test_a_blob_missing_keys_gets_the_defaults() -> None:
    assert business_settings({}) == BusinessSettings()
    assert business_settings(None).quiet_hours == (time(21), time(8))
    assert rules_from_settings({"rules": {"hold_minutes": 5}}) == BookingRules(hold_minutes=5)


def test_a_stale_or_hand_edited_blob_fails_loudly_instead_of_being_half_read() -> None:
    with pytest.raises(ValidationError, match="hold_minuts"):
        rules_from_settings({"rules": {"hold_minuts": 5}})
    with pytest.raises(ValidationError, match="slot_interval_minutes"):
        rules_from_settings({"rules": {"slot_interval_minutes": 1}})
    with pytest.raises(ValidationError, match="whatsapp_template is required"):
        messaging_from_settings({"messaging": {"whatsapp_outside_window": "template"}})


def test_a_stored_key_this_version_does_not_know_is_left_out_not_fatal(caplog) -> None:
    # A blob another version wrote must not stop every turn until the config is applied again.
    demo = settings_for(load_config(DEMO_CONFIG))
    stray = {**demo, "colours": "#000000", "rules": {**demo["rules"], "hold_minuts": 5}}
    read = business_settings(stray)
    assert read == business_settings(demo)
    assert "colours" in caplog.text and "rules.hold_minuts" in caplog.text


def test_a_bad_stored_value_still_fails_loudly() -> None:
    with pytest.raises(ValidationError, match="slot_interval_minutes"):
        business_settings({"rules": {"slot_interval_minutes": 1}})


def test_the_models_are_frozen() -> None:
    with pytest.raises(ValidationError):
        MessagingConfig().max_attempts = 3  # type: ignore[misc]
