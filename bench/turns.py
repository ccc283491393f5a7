"""Benchmark: dialogue turns per second through the conversation engine, on SQLite.

Three workloads in one run, so the ratios hold even when the machine is busy:
  floor     one write transaction recording the delivery row and nothing else: the least a
            durable turn can cost on this disk;
  greeting  "hi" from a new sender: dedupe, identify, menu reply into the outbox;
  booking   a one-shot booking ("haircut with Sam friday at 3, I'm Ann") and "yes":
            language understanding, availability, hold, book, confirmation.
Also the per-message cost of parse_when against dateparser alone on the same text.

    .venv/bin/python bench/turns.py [--dialogues 200]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dateparser  # noqa: E402
from sqlalchemy import event  # noqa: E402

from bot.config import apply_config, load_config  # noqa: E402
from bot.messaging.messages import Inbound  # noqa: E402
from conversations.engine import Engine  # noqa: E402
from conversations.when import parse_when  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import InboundMessage  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ZONE = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 16, 10, 0, tzinfo=ZONE)
# Thursday/Friday starts that miss each one's break (and stay within per-day limits).
HOURS = {
    "Sam": ["11am", "12pm", "1pm", "2pm", "4pm", "5pm"],
    "Alex": ["10am", "11am", "2pm", "3pm", "4pm", "5pm"],
    "Jordan": ["12pm", "1pm", "2pm", "3pm", "5pm", "6pm"],
}
STAFF = list(HOURS)
PHRASES = [
    "tomorrow at 3",
    "friday after 5",
    "can I come in monday around 11?",
    "next week",
    "between 2 and 4 on thursday",
    "hello there",
    "+1 555 123 4567",
]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


def timed(fn, count: int, cpu: list[float] | None = None) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds per call of fn(i) for i in range(count); CPU milliseconds into `cpu`.

    The CPU time (this thread's) leaves out the time spent waiting for a core, which on a
    busy machine is most of the wall time and varies from run to run.
    """
    times = []
    for i in range(count):
        began, began_cpu = time.perf_counter(), time.thread_time()
        fn(i)
        times.append((time.perf_counter() - began) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - began_cpu) * 1000)
    return times


_FROM_BUSINESS = re.compile(r"\bFROM business\b", re.IGNORECASE)


class QueryCounter:
    """Counts the statements sent to the database, and those that read the business row."""

    def __init__(self) -> None:
        self.queries = 0
        self.business_reads = 0

    def __call__(self, _conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        """before_cursor_execute: count one statement."""
        self.queries += 1
        if statement.lstrip().upper().startswith("SELECT") and _FROM_BUSINESS.search(statement):
            self.business_reads += 1

    def reset(self) -> tuple[int, int]:
        """The counts so far, then start again from zero."""
        counts = (self.queries, self.business_reads)
        self.queries = self.business_reads = 0
        return counts


def main() -> None:
    """Run the three workloads and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dialogues", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/turns.db"
        upgrade(url)
        db = Database(url)
        apply_config(db, load_config(ROOT / "business.toml"))
        engine = Engine(db, clock=lambda: NOW)
        counter = QueryCounter()
        event.listen(db.engine, "before_cursor_execute", counter)

        def floor(i: int) -> None:
            with db.write() as session:
                session.add(
                    InboundMessage(
                        channel="bench",
                        address="floor",
                        provider_id=str(i),
                        received_at=NOW,
                        handled_at=NOW,
                    )
                )

        def greeting(i: int) -> None:
            engine.handle(Inbound(channel="web", sender=f"greeter-{i:06d}", text="hi"))

        # Spread bookings over days, hours and staff so each one finds its slot free.
        days = [NOW.date() + timedelta(days=d) for d in range(2, 60)]
        # Thu/Fri before Christmas, when all three work, but not Thanksgiving: room for 180.
        thanksgiving, christmas = date(2026, 11, 26), date(2026, 12, 25)
        days = [d for d in days if d.weekday() in (3, 4) and d < christmas and d != thanksgiving]

        def booking(i: int) -> None:
            day = days[(i // 18) % len(days)]
            who = STAFF[i % 3]
            hour = HOURS[who][(i // 3) % 6]
            sender = f"booker-{i:06d}"
            request = f"haircut with {who} on {day:%b} {day.day} at {hour}, I'm Ann"
            first = engine.handle(Inbound(channel="web", sender=sender, text=request))
            second = engine.handle(Inbound(channel="web", sender=sender, text="yes"))
            assert "You're booked" in second[0].text, (request, first, second)

        timed(greeting, 20)  # warm up caches and the pool
        rows = []
        queries = []
        cpu: list[list[float]] = []
        for name, fn, turns in (
            ("floor", floor, 1),
            ("greeting", greeting, 1),
            ("one-shot booking (2 turns)", booking, 2),
        ):
            counter.reset()
            cpu.append([])
            times = timed(fn, args.dialogues, cpu[-1])
            rows.append((name, turns, times))
            queries.append(counter.reset())
        db.dispose()

    floor_ms = statistics.mean(rows[0][2])
    floor_cpu = statistics.mean(cpu[0])
    print(f"\nSQLite, {args.dialogues} runs each; ms per run (a booking run is two turns).\n")
    print(
        "| workload | p50 ms | p99 ms | turns/s | × floor | CPU ms | CPU × floor | queries/run "
        "| queries/turn | business reads/turn |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (name, turns, times), (count, business), cpu_times in zip(rows, queries, cpu, strict=True):
        mean = statistics.mean(times)
        mean_cpu = statistics.mean(cpu_times)
        runs = len(times)
        print(
            f"| {name} | {percentile(times, 50):.2f} | {percentile(times, 99):.2f} | "
            f"{turns * 1000 / mean:.0f} | {mean / floor_ms:.1f} | {mean_cpu:.2f} | "
            f"{mean_cpu / floor_cpu:.1f} | {count / runs:.1f} | "
            f"{count / runs / turns:.1f} | {business / runs / turns:.1f} |"
        )

    settings = {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": NOW.replace(tzinfo=None)}
    ours = timed(lambda i: parse_when(PHRASES[i % len(PHRASES)], NOW), 2000)
    theirs = timed(
        lambda i: dateparser.parse(PHRASES[i % len(PHRASES)], languages=["en"], settings=settings),
        400,
    )
    print("\n| per message | p50 µs | p99 µs |")
    print("|---|---:|---:|")
    for name, times in (("parse_when", ours), ("dateparser.parse alone", theirs)):
        print(
            f"| {name} | {percentile(times, 50) * 1000:.0f} | {percentile(times, 99) * 1000:.0f} |"
        )


if __name__ == "__main__":
    main()
