"""The main menu every customer flow offers when it ends or starts again.

Its own module so that a flow (booking, managing) and the router that dispatches to
the flows (conversations.flows.routing) can both offer it without importing each other.
"""

from __future__ import annotations

from bot.messaging.messages import Option

MENU = (
    Option("book", "Book an appointment"),
    Option("mine", "My appointments"),
    Option("human", "Talk to a person"),
)
