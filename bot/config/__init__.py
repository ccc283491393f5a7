"""business.toml, typed: its models, its loading and checking, and its sync into the database.

The rooms: `schema` (the frozen pydantic models and their limits), `values` (reading one
TOML value, with the field path and "did you mean" in every error), `loading` (the file's
sections into a `BusinessConfig`), `problems` (every problem at once), `stored` (the JSON
`Business.settings` blob written and validated back), `sync` (`apply_config`),
`context` (the business as one transaction reads it back) and `process` (the environment a
web or worker process starts with, typed). Import the config's names from here.
"""

from bot.config.loading import (
    TEMPLATE_PATH,
    config_warnings,
    load_config,
    parse_config,
    write_template,
)
from bot.config.problems import MAX_PROBLEMS, config_problems
from bot.config.schema import (
    ANY_STAFF,
    AUTO_CHARGE_CHOICES,
    CHANNELS,
    CONSENT_QUESTION,
    DEFAULT_BRAND_COLOUR,
    DEFAULT_OFFLINE_PAYMENT,
    DEMO_OWNER_KEYS,
    HANDOVER_QUIET_MINUTES,
    MAX_OFFLINE_PAYMENT,
    MIN_CONTRAST,
    PAGE_GREY,
    WEEKDAYS,
    AutoCharge,
    BillingConfig,
    BookingRules,
    BrandingConfig,
    BusinessConfig,
    BusinessSettings,
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
    WhatsAppFallback,
    contrast_ratio,
)
from bot.config.stored import (
    billing_from_settings,
    branding_from_settings,
    business_settings,
    messaging_from_settings,
    pin_digest,
    rules_from_settings,
    settings_for,
)
from bot.config.sync import apply_config
from bot.config.values import slugify
from bot.core.errors import ConfigError
from bot.field.places.settings import TravelConfig, travel_from_settings

__all__ = [
    "ANY_STAFF",
    "AUTO_CHARGE_CHOICES",
    "CHANNELS",
    "CONSENT_QUESTION",
    "DEFAULT_BRAND_COLOUR",
    "DEFAULT_OFFLINE_PAYMENT",
    "DEMO_OWNER_KEYS",
    "HANDOVER_QUIET_MINUTES",
    "MAX_OFFLINE_PAYMENT",
    "MAX_PROBLEMS",
    "MIN_CONTRAST",
    "PAGE_GREY",
    "TEMPLATE_PATH",
    "WEEKDAYS",
    "AutoCharge",
    "BillingConfig",
    "BookingRules",
    "BrandingConfig",
    "BusinessConfig",
    "BusinessSettings",
    "Closure",
    "ConfigError",
    "HandoverConfig",
    "Leave",
    "MessagingConfig",
    "PromotionsConfig",
    "Range",
    "ResourceConfig",
    "ServiceConfig",
    "StaffConfig",
    "TravelConfig",
    "Week",
    "WhatsAppFallback",
    "apply_config",
    "billing_from_settings",
    "branding_from_settings",
    "business_settings",
    "config_problems",
    "config_warnings",
    "contrast_ratio",
    "load_config",
    "messaging_from_settings",
    "parse_config",
    "pin_digest",
    "rules_from_settings",
    "settings_for",
    "slugify",
    "travel_from_settings",
    "write_template",
]
