"""Benchmark: owner and staff workflows run black-box, the way an owner would try them.

The owner talks over `POST /api/chat` with the owner key; customers over the same API with
their own sessions; staff through the engine on their SMS identity from business.toml. Each
scenario ends with a check of the database (and of what the customer was sent). Each runs
on an empty copy of the demo salon at a fixed moment.

    .venv/bin/python bench/owner_scenarios.py [--verbose] [--only NAME ...]

The wording is this project's own; the maintainers' held-out scenarios are kept apart.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import time_machine  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bot.messaging.messages import Inbound  # noqa: E402
from conversations.engine import Engine  # noqa: E402
from storage.models import Appointment, Customer, Staff  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZONE)  # a Tuesday
OWNER_KEY = "demo-owner-key"
STAFF_SMS = {"sam": "+12125550101", "jordan": "+12125550103"}

# A step: (who, text). who: "owner", "customer:<session>", "staff:<key>".
Step = tuple[str, str]
Check = Callable[[Session, dict[str, list[str]]], bool]


@dataclass
class Scenario:
    name: str
    steps: list[Step]
    check: Check


def _count(session: Session, sql: str, **params: object) -> int:
    return int(session.execute(text(sql), params).scalar() or 0)


def _appointments(session: Session) -> list[Appointment]:
    return list(session.scalars(select(Appointment).order_by(Appointment.id)))


def _staff_of(session: Session, appointment: Appointment) -> str:
    return session.get(Staff, appointment.staff_id).key


BOOK_JANE = [
    ("owner", "book Jane Doe 2125550123 haircut with Sam thursday at 2pm"),
    ("owner", "yes"),
]

SCENARIOS = [
    Scenario(
        "owner books a customer by chat",
        BOOK_JANE,
        lambda s, heard: (
            [
                (_staff_of(s, a), a.starts_at.astimezone(ZONE).strftime("%a %H:%M"))
                for a in _appointments(s)
            ]
            == [("sam", "Thu 14:00")]
        ),
    ),
    Scenario(
        "owner is told a staff member is off instead of a booking",
        [
            ("owner", "book Nina Park 2125550177 haircut with Jordan wednesday at 10am"),
            ("owner", "yes"),
        ],
        lambda s, heard: (
            _appointments(s) == [] and any("jordan" in line.lower() for line in heard["owner"])
        ),
    ),
    Scenario(
        "owner reassigns an appointment to another staff member",
        [*BOOK_JANE, ("owner", "give #1 to Alex"), ("owner", "yes")],
        lambda s, heard: [_staff_of(s, a) for a in _appointments(s)] == ["alex"],
    ),
    Scenario(
        "owner moves an appointment and changes staff in one go",
        [*BOOK_JANE, ("owner", "move #1 to friday at 3pm with Alex"), ("owner", "yes")],
        lambda s, heard: (
            [
                (_staff_of(s, a), a.starts_at.astimezone(ZONE).strftime("%a %H:%M"))
                for a in _appointments(s)
            ]
            == [("alex", "Fri 15:00")]
        ),
    ),
    Scenario(
        "owner changes the service of an appointment",
        [*BOOK_JANE, ("owner", "switch #1 to a beard trim"), ("owner", "yes")],
        lambda s, heard: [a.service.key for a in _appointments(s)] == ["beard-trim"],
    ),
    Scenario(
        "a no-show cannot be marked before the appointment starts",
        [*BOOK_JANE, ("owner", "no show #1"), ("owner", "yes")],
        lambda s, heard: [a.status for a in _appointments(s)] == ["booked"],
    ),
    Scenario(
        "a cancel reason reaches the customer",
        [*BOOK_JANE, ("owner", "cancel #1 - Sam is off sick"), ("owner", "yes")],
        lambda s, heard: (
            [a.status for a in _appointments(s)] == ["cancelled"]
            and _count(s, "select count(*) from outbox_message where body like '%sick%'") >= 1
        ),
    ),
    Scenario(
        "owner sets up a recurring series",
        [
            (
                "owner",
                "book Tom Reyes 2125550144 haircut with Sam every other wednesday at 10am "
                "for 2 months",
            ),
            ("owner", "yes"),
        ],
        lambda s, heard: (
            _count(s, "select count(*) from recurring_series") == 1
            # each date the summary showed: Wednesdays at 10, a clash moved to a free time
            and sum(
                a.starts_at.astimezone(ZONE).strftime("%a %H:%M") == "Wed 10:00"
                for a in _appointments(s)
            )
            >= 4
        ),
    ),
    Scenario(
        "owner writes an estimate by chat",
        [
            ("owner", "book Bob Stone 2125550166 colour with Alex friday at 11am"),
            ("owner", "yes"),
            ("owner", "estimate for Bob Stone: colour 120, toner 25, valid 30 days"),
            ("owner", "yes"),
        ],
        lambda s, heard: _count(s, "select count(*) from estimate") == 1,
    ),
    Scenario(
        "a customer asking for a person reaches the owner, who answers through the bot",
        [
            ("customer:handover-guest-1", "hi, I'd like to talk to a real person please"),
            ("customer:handover-guest-1", "it's about a gift card"),
            ("owner", "r 1: Hi! Yes, we sell gift cards, any amount."),
        ],
        lambda s, heard: (
            any("gift card" in line.lower() for line in heard["owner"])
            and any("any amount" in line for line in heard["customer:handover-guest-1"])
        ),
    ),
    Scenario(
        "a customer subscribes to offers and the owner's preview counts them",
        [
            ("customer:promo-guest-1", "please subscribe me to your offers"),
            ("owner", "broadcast 10% off beard trims this week"),
        ],
        lambda s, heard: any("1" in line for line in heard["owner"]),
    ),
    Scenario(
        "an email typed in a message is kept as the customer's email",
        [
            (
                "customer:intake-guest-1",
                "haircut with sam thursday at 11am, I'm Lee Marsh, email lee.marsh@example.com",
            ),
            ("customer:intake-guest-1", "yes"),
        ],
        lambda s, heard: (
            s.scalar(select(Customer.email).where(Customer.name == "Lee Marsh"))
            == "lee.marsh@example.com"
        ),
    ),
    Scenario(
        "owner booking finds the existing customer by phone",
        [
            *BOOK_JANE,
            ("owner", "book J. Doe 212-555-0123 beard trim with Sam saturday at 9am"),
            ("owner", "yes"),
        ],
        lambda s, heard: (
            len(_appointments(s)) == 2 and len({a.customer_id for a in _appointments(s)}) == 1
        ),
    ),
    Scenario(
        "staff sees today's jobs",
        [("staff:sam", "today")],
        lambda s, heard: bool(heard["staff:sam"]),
    ),
]


class Room:
    """The app and the people in one scenario."""

    def __init__(self, app) -> None:
        self.app = app
        self.client = app.test_client()
        self.heard: dict[str, list[str]] = {}
        self.after: dict[str, int] = {}
        self.ids = itertools.count(1)

    def say(self, who: str, words: str) -> list[str]:
        if who.startswith("staff:"):
            engine = Engine(self.app.extensions["slotbot.db"])
            replies = engine.handle(
                Inbound(
                    channel="sms",
                    sender=STAFF_SMS[who.split(":")[1]],
                    text=words,
                    provider_id=f"bench-staff-{next(self.ids)}",
                )
            )
            lines = [r.text for r in replies]
        else:
            payload: dict = {"text": words, "after": self.after.get(who, 0)}
            if who == "owner":
                payload["owner_key"] = OWNER_KEY
            else:
                payload["session"] = who.split(":")[1]
            answer = self.client.post("/api/chat", json=payload)
            if answer.status_code != 200:
                raise RuntimeError(f"{answer.status_code} for {words!r}")
            data = answer.get_json()
            self.after[who] = data["after"]
            lines = [m["text"] for m in data["messages"]]
        self.heard.setdefault(who, []).extend(lines)
        return lines

    def catch_up(self, who: str) -> None:
        """Messages sent to a web session since its last turn (the owner's answers)."""
        if who.startswith("staff:"):
            return
        params = {"after": self.after.get(who, 0)}
        headers = {}
        if who == "owner":
            headers["X-Slotbot-Owner-Key"] = OWNER_KEY
        else:
            params["session"] = who.split(":")[1]
        data = self.client.get(
            "/api/chat/messages", query_string=params, headers=headers
        ).get_json()
        if data:
            self.after[who] = data["after"]
            self.heard.setdefault(who, []).extend(m["text"] for m in data["messages"])


def run(app, scenario: Scenario, verbose: bool) -> bool:
    room = Room(app)
    for who, words in scenario.steps:
        room.say(who, words)
        for other in list(room.heard):
            room.catch_up(other)
    for who in {w for w, _ in scenario.steps}:
        room.heard.setdefault(who, [])
        room.catch_up(who)
    with app.extensions["slotbot.db"].read() as session:
        try:
            ok = bool(scenario.check(session, room.heard))
        except Exception as exc:  # a check that cannot even run is a failure of the scenario
            print(f"    check failed: {exc!r}")
            ok = False
        count = session.scalar(select(func.count()).select_from(Appointment))
    if verbose or not ok:
        print(f"--- {scenario.name}: {'ok' if ok else 'FAILED'} ({count} appointments)")
        for who, words in scenario.steps:
            print(f"    {who}> {words}")
        for who, lines in room.heard.items():
            for line in lines[-4:]:
                print(f"      [{who}] {line[:150]!r}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--only", nargs="*")
    args = parser.parse_args()
    from webhooks.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="slotbot-owner-"))
    results = []
    scenarios = [s for s in SCENARIOS if not args.only or s.name in args.only]
    with time_machine.travel(NOW, tick=True):
        for i, scenario in enumerate(scenarios):
            app = create_app(
                {
                    "DATABASE_URL": f"sqlite:///{folder / f'owner{i}.db'}",
                    "BUSINESS_CONFIG": str(ROOT / "business.toml"),
                    "TESTING": True,
                    "SLOTBOT_SPOOL_DIR": str(folder / "spool"),
                }
            )
            results.append(run(app, scenario, args.verbose))
            app.extensions["slotbot.db"].dispose()
    passed = sum(results)
    print()
    print("| scenarios | passed |")
    print("|---|---|")
    print(f"| {len(results)} | {passed} ({100 * passed / len(results):.0f}%) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
