"""Benchmark: customer conversations run black-box over the web chat JSON API.

Each case is a customer with an aim (a booking: service, staff or anyone, day, time; or an
answer) and an opening in their own words — one-shot, step by step, with a correction, with
a question in passing. After the scripted messages the customer answers the bot truthfully:
a name when asked, their time when times are listed, yes only to a proposal that is their
aim, no to anything else. Outcomes, read from the database and the replies:

  meant      the conversation ended the way the customer meant;
  wrong      an appointment other than the aim was booked (must be 0);
  messages   customer messages until the booking existed (the median is reported).

    .venv/bin/python bench/conversations.py [--verbose] [--only NAME ...]

The cases are this project's own words; the maintainers' held-out set is kept apart.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import time_machine  # noqa: E402
from sqlalchemy import select  # noqa: E402

from storage.models import Appointment, Service, Staff  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZONE)  # a Tuesday; the salon is closed Mondays
MAX_MESSAGES = 8


@dataclass
class Case:
    """One customer: what they say first, and what they mean."""

    name: str
    opening: list[str]
    service: str | None = None  # the booking they mean (None: no booking)
    staff: str | None = None  # first name, or None for anyone
    day: str | None = None  # "2026-12-03"
    time: str | None = None  # "16:00"
    person: str = "Robin Vale"
    answer_has: list[str] = field(default_factory=list)  # words a right answer holds


CASES = [
    Case(
        "one-shot",
        ["beard trim with Jordan thursday 5pm please, I'm Ollie Grant"],
        "beard-trim",
        "Jordan",
        "2026-12-03",
        "17:00",
        "Ollie Grant",
    ),
    Case(
        "one-shot lowercase",
        ["can i get a haircut w sam wed at 11am. name's kit moss"],
        "haircut",
        "Sam",
        "2026-12-02",
        "11:00",
        "Kit Moss",
    ),
    Case(
        "one-shot anyone",
        ["facial this saturday 10am - Lena Frost"],
        "facial",
        None,
        "2026-12-05",
        "10:00",
        "Lena Frost",
    ),
    Case(
        "step by step",
        ["hello", "i'd like a colour", "friday", "2pm"],
        "colour",
        None,
        "2026-12-04",
        "14:00",
    ),
    Case(
        "step with staff",
        ["hey there", "haircut", "with alex", "thursday at 6pm"],
        "haircut",
        "Alex",
        "2026-12-03",
        "18:00",
    ),
    Case(
        "correction of day",
        ["haircut with sam on wednesday at 2pm", "sorry, thursday not wednesday"],
        "haircut",
        "Sam",
        "2026-12-03",
        "14:00",
    ),
    Case(
        "correction of time",
        ["beard trim friday at 1pm with alex", "actually make it 3pm"],
        "beard-trim",
        "Alex",
        "2026-12-04",
        "15:00",
    ),
    Case(
        "correction of staff",
        ["haircut saturday 11am with sam", "hmm can it be alex instead"],
        "haircut",
        "Alex",
        "2026-12-05",
        "11:00",
    ),
    Case(
        "time against listed day",
        ["any haircut times on wednesday?", "11:30 works"],
        "haircut",
        None,
        "2026-12-02",
        "11:30",
    ),
    Case(
        "price in passing",
        ["how much is a beard trim?", "ok book me one for friday at noon"],
        "beard-trim",
        None,
        "2026-12-04",
        "12:00",
    ),
    Case("price question only", ["what do you charge for a facial"], answer_has=["$"]),
    Case("hours question", ["what time do you close on saturday?"], answer_has=["5:00 PM"]),
    Case("closed day", ["are you open mondays?"], answer_has=["closed"]),
    Case("staff days", ["which days does jordan work?"], answer_has=["Thu"]),
    Case(
        "nickname",
        ["haircut with sammy friday at 4pm, this is Drew Hale"],
        "haircut",
        "Sam",
        "2026-12-04",
        "16:00",
        "Drew Hale",
    ),
    Case(
        "name mid-sentence",
        ["hi this is Mara Quinn, need a colour with Alex next tuesday at 3pm"],
        "colour",
        "Alex",
        "2026-12-08",
        "15:00",
        "Mara Quinn",
    ),
    Case("typos", ["hair cutt tmrw at 2pm with sam"], "haircut", "Sam", "2026-12-02", "14:00"),
    Case(
        "weekday date", ["massage 60 on dec 10 at 3pm"], "massage-60", None, "2026-12-10", "15:00"
    ),
    Case(
        "relative",
        ["a facial the day after tomorrow, morning, 11am"],
        "facial",
        None,
        "2026-12-03",
        "11:00",
    ),
    Case(
        "question then book",
        ["do you do beard trims?", "great, saturday 2pm then"],
        "beard-trim",
        None,
        "2026-12-05",
        "14:00",
    ),
    Case(
        "next week day",
        ["colour next friday at 11am with sam"],
        "colour",
        "Sam",
        "2026-12-11",
        "11:00",
    ),
    Case(
        "half past",
        ["haircut thursday half past 2 with jordan"],
        "haircut",
        "Jordan",
        "2026-12-03",
        "14:30",
    ),
    Case("evening", ["beard trim thursday 6pm"], "beard-trim", None, "2026-12-03", "18:00"),
    Case("no thanks", ["haircut friday at 3pm", "no thanks, never mind"]),
    # Red team (issue 14, second set): terse, typos, several facts at once, second
    # thoughts, questions in passing, someone else, two services, nicknames, recurring.
    Case("terse", ["cut sat 10 sam"], "haircut", "Sam", "2026-12-05", "10:00"),
    Case(
        "typo staff",
        ["beerd trim w jordon fri 1pm"],
        "beard-trim",
        "Jordan",
        "2026-12-04",
        "13:00",
    ),
    Case(
        "all facts polite",
        ["Hi! I'm Tess Moore, could I book a 60 min massage with Priya on Sunday at 11am?"],
        "massage-60",
        "Priya",
        "2026-12-06",
        "11:00",
        "Tess Moore",
    ),
    Case(
        "second thoughts time",
        ["colour with sam thursday 1pm", "hmm no, 4pm is better"],
        "colour",
        "Sam",
        "2026-12-03",
        "16:00",
    ),
    Case(
        "second thoughts day",
        ["facial sunday 11", "wait, saturday suits me better"],
        "facial",
        None,
        "2026-12-05",
        "11:00",
    ),
    Case(
        "parking in passing",
        ["haircut with alex", "do you have parking?", "friday 10am"],
        "haircut",
        "Alex",
        "2026-12-04",
        "10:00",
    ),
    Case(
        "for my boy",
        ["my boy Finn needs a haircut with sam saturday 9am, I'm Robin Vale"],
        "haircut",
        "Sam",
        "2026-12-05",
        "09:00",
    ),
    Case(
        "two services",
        ["haircut and beard trim with sam friday 2pm, Robin Vale"],
        "haircut",
        "Sam",
        "2026-12-04",
        "14:00",
    ),
    Case(
        "nickname first",
        ["lex for a beard trim saturday at 3"],
        "beard-trim",
        "Alex",
        "2026-12-05",
        "15:00",
    ),
    Case(
        "nickname abbrev day",
        ["facial w pree thurs 10am"],
        "facial",
        "Priya",
        "2026-12-03",
        "10:00",
    ),
    Case(
        "recurring",
        ["haircut with sam every friday at 5pm, 3 times, I'm Robin Vale"],
        "haircut",
        "Sam",
        "2026-12-04",
        "17:00",
    ),
    Case(
        "numeric date",
        ["haircut 12/4 at 3:30pm with alex"],
        "haircut",
        "Alex",
        "2026-12-04",
        "15:30",
    ),
    Case(
        "long polite",
        [
            "Good morning, I was wondering whether I could get my hair coloured next "
            "Wednesday, ideally at 10 in the morning, with Sam if she's available"
        ],
        "colour",
        "Sam",
        "2026-12-09",
        "10:00",
    ),
    Case("time first", ["3pm saturday haircut"], "haircut", None, "2026-12-05", "15:00"),
    Case(
        "staff who doesn't do it",
        ["facial with jordan friday 2pm"],
        "facial",
        None,
        "2026-12-04",
        "14:00",
    ),
    Case(
        "closed day then another",
        ["haircut monday at 11", "wednesday then"],
        "haircut",
        None,
        "2026-12-02",
        "11:00",
    ),
    Case(
        "price then book with staff",
        ["what's a colour cost?", "ok, saturday at 9:30 with alex please"],
        "colour",
        "Alex",
        "2026-12-05",
        "09:30",
    ),
    Case(
        "hours then book",
        ["you open sunday?", "cool, beard trim sunday 2pm"],
        "beard-trim",
        None,
        "2026-12-06",
        "14:00",
    ),
    Case("backs out", ["massage friday at 4", "actually forget it"]),
    Case(
        "deposit question", ["do i need to pay anything upfront for a colour"], answer_has=["$24"]
    ),
    Case("address question", ["where are you located?"], answer_has=["214 Grand St"]),
    Case("duration question", ["how long is a colour appointment"], answer_has=["90 min"]),
    Case("cancel policy question", ["is there a fee if i cancel?"], answer_has=["24 hours"]),
    Case("staff day question", ["is sam in on sundays"], answer_has=["doesn't work Sundays"]),
    Case("holiday question", ["are you open on christmas?"], answer_has=["closed"]),
    Case(
        "nickname and typos",
        ["haircutt w sammie thurs @ 5"],
        "haircut",
        "Sam",
        "2026-12-03",
        "17:00",
    ),
    Case(
        "half hour massage",
        ["half hour massage with jordan saturday 11:30"],
        "massage-30",
        "Jordan",
        "2026-12-05",
        "11:30",
    ),
    Case(
        "step by step terse",
        ["hi", "beard trim pls", "sat", "11am"],
        "beard-trim",
        None,
        "2026-12-05",
        "11:00",
    ),
    Case(
        "no wait time",
        ["facial thursday 11am", "no wait, 3pm"],
        "facial",
        None,
        "2026-12-03",
        "15:00",
    ),
    Case(
        "name given after",
        ["haircut with jordan sunday 12:30", "oh and it's Casey Fox btw"],
        "haircut",
        "Jordan",
        "2026-12-06",
        "12:30",
        "Casey Fox",
    ),
    Case(
        "adds a service",
        ["haircut with sam saturday at 10", "oh and a beard trim after"],
        "haircut",
        "Sam",
        "2026-12-05",
        "10:00",
    ),
    Case(
        "version by length",
        ["massage sunday at 2", "the long one"],
        "massage-60",
        None,
        "2026-12-06",
        "14:00",
    ),
    Case(
        "name is",
        ["colour with sam on friday at 12, name is Jo Park"],
        "colour",
        "Sam",
        "2026-12-04",
        "12:00",
        "Jo Park",
    ),
    Case(
        "who does then book",
        ["who does facials?", "great, one on saturday at 11 then"],
        "facial",
        None,
        "2026-12-05",
        "11:00",
    ),
    Case(
        "pick by ordinal",
        ["facial saturday morning", "the first"],
        "facial",
        None,
        "2026-12-05",
        "09:00",
    ),
    Case(
        "signed with thanks",
        ["haircut with jordan sunday at 11? thanks, Robin"],
        "haircut",
        "Jordan",
        "2026-12-06",
        "11:00",
    ),
    Case(
        "slang price then book",
        ["what's the damage for a beard trim", "ok book me in sunday at 1"],
        "beard-trim",
        None,
        "2026-12-06",
        "13:00",
    ),
    Case(
        "short day after staff",
        ["haircut with jordan sun first thing"],
        "haircut",
        "Jordan",
        "2026-12-06",
        "10:00",
    ),
    Case(
        "window after short day",
        ["beard trim with sam wed between 2 and 4", "2:30 please"],
        "beard-trim",
        "Sam",
        "2026-12-02",
        "14:30",
    ),
    Case(
        "staff ruled out",
        ["haircut with sam thursday at 2", "no, not sam - alex"],
        "haircut",
        "Alex",
        "2026-12-03",
        "14:00",
    ),
    Case(
        "next available with staff",
        ["colour with sam next available"],
        "colour",
        "Sam",
        "2026-12-01",
        "13:00",
    ),
    Case(
        "her name at the name question",
        ["haircut with sam friday at 2 for my daughter", "her name is Ivy"],
        "haircut",
        "Sam",
        "2026-12-04",
        "14:00",
    ),
    Case(
        "relation named later",
        ["my husband wants a beard trim sat 11, he's called Tom, I'm Robin Vale"],
        "beard-trim",
        None,
        "2026-12-05",
        "11:00",
    ),
    Case(
        "second thoughts back",
        ["haircut with sam on friday at 2", "could we do 3 instead", "actually no 2 is fine"],
        "haircut",
        "Sam",
        "2026-12-04",
        "14:00",
    ),
    Case(
        "signed thanks so much",
        ["Could you book me in with Priya for a facial? Thursday at 11. Thanks so much, Robin"],
        "facial",
        "Priya",
        "2026-12-03",
        "11:00",
    ),
    Case(
        "pushed to an hour",
        ["haircut with sam wednesday at 2, I'm Robin Vale", "push it to 3 please"],
        "haircut",
        "Sam",
        "2026-12-02",
        "15:00",
    ),
    Case(
        "around six",
        ["can i come in this friday for a cut around 6"],
        "haircut",
        None,
        "2026-12-04",
        "18:00",
    ),
]


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u202f", " ")).strip()


class Customer:
    """Talks to one app over POST /api/chat, as one browser session."""

    def __init__(self, client, session: str) -> None:
        self.client, self.session, self.after = client, session, 0
        self.sent = 0
        self.heard: list[str] = []

    def say(self, text: str = "", option_id: str | None = None) -> list[dict]:
        payload: dict = {"session": self.session, "text": text, "after": self.after}
        if option_id:
            payload["option_id"] = option_id
        answer = self.client.post("/api/chat", json=payload)
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.status_code} for {text!r}")
        data = answer.get_json()
        self.after = data["after"]
        self.sent += 1
        self.heard += [_plain(m["text"]) for m in data["messages"]]
        return data["messages"]


def _clock(hhmm: str) -> str:
    """'16:00' → '4:00 PM', the demo locale's format."""
    hour, minute = map(int, hhmm.split(":"))
    return f"{hour % 12 or 12}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def _aim_text(case: Case) -> str:
    day = datetime.fromisoformat(case.day).strftime("%a, %b %-d")
    return f"{day}, {_clock(case.time)}"


def _next_answer(case: Case, messages: list[dict]) -> tuple[str, str | None] | None:
    """What a truthful customer says to these replies (None: nothing more to say)."""
    last = " ".join(_plain(m["text"]) for m in messages).lower()
    options = [o for m in messages for o in m.get("options", [])]
    if case.service is None:
        return None
    aim = _aim_text(case).lower()
    if "shall i book" in last or "should i book" in last or "confirm" in last:
        right = aim in last and (case.staff is None or case.staff.lower() in last)
        return ("yes" if right else "no, that's not what I asked for"), None
    if "name" in last and "?" in last:
        return case.person, None
    if "who with" in last or "preference" in last:
        return (f"with {case.staff}" if case.staff else "anyone is fine"), None
    for option in options:
        if _clock(case.time).lower() in option["label"].lower() and (
            case.staff is None or case.staff.lower() in option["label"].lower()
        ):
            return "", option["id"]
    if "time" in last or "when" in last or "day" in last:
        day = datetime.fromisoformat(case.day).strftime("%A")
        return f"{day} at {_clock(case.time)}", None
    if "which service" in last or "what service" in last or "what would you like" in last:
        return case.service.replace("-", " "), None
    return None


def run_case(app, case: Case, index: int, verbose: bool) -> dict:
    """Run one conversation; its outcome."""
    db = app.extensions["slotbot.db"]
    customer = Customer(app.test_client(), f"bench-conv-{index}")
    with db.read() as session:
        before = set(session.scalars(select(Appointment.id)))
    messages: list[dict] = []
    for text in case.opening:
        messages = customer.say(text)
    booked_after = None
    while customer.sent < MAX_MESSAGES:
        if _new_booking(db, before) and booked_after is None:
            booked_after = customer.sent
            break
        step = _next_answer(case, messages)
        if step is None:
            break
        messages = customer.say(*step)
    new = _new_booking(db, before)
    if new and booked_after is None:
        booked_after = customer.sent
    outcome = {"case": case.name, "messages": booked_after, "wrong": False, "meant": False}
    if case.service is None:
        heard = " ".join(customer.heard)
        outcome["wrong"] = bool(new)
        outcome["meant"] = not new and all(w.lower() in heard.lower() for w in case.answer_has)
    elif new:
        service, staff, start = new
        local = start.astimezone(ZONE)
        right = (
            service == case.service
            and (case.staff is None or staff.split()[0] == case.staff)
            and local.strftime("%Y-%m-%d %H:%M") == f"{case.day} {case.time}"
        )
        outcome["wrong"] = not right
        outcome["meant"] = right
    if verbose or not outcome["meant"]:
        print(f"--- {case.name}: {'ok' if outcome['meant'] else 'NOT AS MEANT'}")
        if verbose or not outcome["meant"]:
            for line in customer.heard[-6:]:
                print("   ", line[:160])
    return outcome


def _new_booking(db, before: set[int]):
    with db.read() as session:
        row = session.execute(
            select(Service.key, Staff.name, Appointment.starts_at)
            .join(Service, Service.id == Appointment.service_id)
            .join(Staff, Staff.id == Appointment.staff_id)
            .where(Appointment.id.not_in(before) if before else True)
            .where(Appointment.status != "cancelled")
        ).first()
    return tuple(row) if row else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--only", nargs="*", help="run only the cases with these names")
    args = parser.parse_args()
    cases = [case for case in CASES if not args.only or case.name in args.only]
    from webhooks.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="slotbot-conv-"))
    outcomes = []
    with time_machine.travel(NOW, tick=True):
        for i, case in enumerate(cases):  # each customer meets an empty diary
            app = create_app(
                {
                    "DATABASE_URL": f"sqlite:///{folder / f'conv{i}.db'}",
                    "BUSINESS_CONFIG": str(ROOT / "business.toml"),
                    "TESTING": True,
                    "SLOTBOT_SPOOL_DIR": str(folder / "spool"),
                }
            )
            outcomes.append(run_case(app, case, i, args.verbose))
            app.extensions["slotbot.db"].dispose()
    meant = sum(o["meant"] for o in outcomes)
    wrong = sum(o["wrong"] for o in outcomes)
    counts = [o["messages"] for o in outcomes if o["meant"] and o["messages"]]
    median = statistics.median(counts) if counts else float("nan")
    print()
    print(
        "messages to book:",
        ", ".join(f"{o['case']} {o['messages']}" for o in outcomes if o["messages"]),
    )
    print("| conversations | as meant | wrong bookings | median messages to book |")
    print("|---|---|---|---|")
    print(
        f"| {len(outcomes)} | {meant} ({100 * meant / len(outcomes):.0f}%) | {wrong} | {median:g} |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
