"""A small harness that makes dialogue tests read like conversations.

chat.say("haircut with Sam tomorrow at 3, I'm Jane")
chat.expect("shall I book", "Haircut with Sam", "3:00 PM")
chat.press("Yes")
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from bot.messaging.messages import Inbound, Reply
from conversations.engine import APOLOGY, Engine
from storage.db import Database

_ids = itertools.count(1)


class Chat:
    """One person talking to the bot on one channel, with a clock the test controls."""

    def __init__(
        self,
        db: Database,
        now: datetime,
        channel: str = "web",
        sender: str = "visitor-0001",
        engine: Engine | None = None,
    ) -> None:
        self.db = db
        self.now = now
        self.channel = channel
        self.sender = sender
        self.engine = engine or Engine(db, clock=lambda: self.now)
        self.replies: list[Reply] = []
        self.transcript: list[str] = []

    def say(
        self, text: str = "", option: str | None = None, provider_id: str | None = None
    ) -> list[Reply]:
        """Send a message (or press an option by id); returns and remembers the replies."""
        self.transcript.append(f"> {text or f'[{option}]'}")
        self.replies = self.engine.handle(
            Inbound(
                channel=self.channel,
                sender=self.sender,
                text=text,
                option_id=option,
                provider_id=provider_id or f"test-{next(_ids)}",
                received_at=self.now,
            )
        )
        for reply in self.replies:
            self.transcript.append(reply.text)
            self.transcript += [f"  [{o.id}] {o.label}" for o in reply.options]
        assert all(APOLOGY not in r.text for r in self.replies), self.log()
        return self.replies

    def press(self, label: str) -> list[Reply]:
        """Press the offered button whose label contains `label` (case-insensitive)."""
        for reply in reversed(self.replies):
            for option in reply.options:
                if label.lower() in option.label.lower():
                    return self.say(option=option.id)
        raise AssertionError(f"no option like {label!r} in:\n{self.log()}")

    @property
    def text(self) -> str:
        """All reply texts of the last turn, joined."""
        return "\n".join(r.text for r in self.replies)

    @property
    def options(self) -> list[str]:
        """The labels offered in the last turn."""
        return [o.label for r in self.replies for o in r.options]

    def expect(self, *fragments: str) -> None:
        """Each fragment appears (case-insensitively) in the last turn's replies."""
        haystack = (self.text + "\n" + "\n".join(self.options)).lower()
        for fragment in fragments:
            assert fragment.lower() in haystack, f"{fragment!r} not in:\n{self.log()}"

    def expect_not(self, *fragments: str) -> None:
        """No fragment appears in the last turn's replies."""
        haystack = (self.text + "\n" + "\n".join(self.options)).lower()
        for fragment in fragments:
            assert fragment.lower() not in haystack, f"{fragment!r} unexpectedly in:\n{self.log()}"

    def wait(self, **delta: float) -> None:
        """Let time pass."""
        self.now += timedelta(**delta)

    def log(self) -> str:
        """The conversation so far, for assertion messages."""
        return "\n".join(self.transcript[-30:])
