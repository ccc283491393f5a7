"""The main menu every customer flow offers when it ends or starts again.

Its own module so that a flow (booking, managing) and the router that dispatches to
the flows (conversations.flows.routing) can both offer it without importing each other.
"""

from __future__ import annotations

from bot.core.text import N_, _
from bot.messaging.messages import Option

MENU = (
    Option("book", N_("Book an appointment")),
    Option("mine", N_("My appointments")),
    Option("human", N_("Talk to a person")),
)


def menu() -> tuple[Option, ...]:
    """The main menu's options, worded by the catalogue."""
    return tuple(Option(option.id, _(option.label)) for option in MENU)
