"""The error hierarchy: every error slotbot raises on purpose derives from SlotbotError.

Expected outcomes of a use case ("that slot was just taken", "too late to cancel") are
results, not exceptions; these are for input that cannot be acted on and broken setup.
"""

from __future__ import annotations


class SlotbotError(Exception):
    """Base class of every deliberate slotbot error."""


class ConfigError(SlotbotError):
    """business.toml is invalid: names the field and the problem in one line."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class NotFound(SlotbotError):
    """A service, staff member, customer or appointment that does not exist."""


class InvalidRequest(SlotbotError):
    """Arguments that cannot describe a booking (bad time, unknown rule, wrong status)."""
