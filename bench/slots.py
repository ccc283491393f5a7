"""Benchmark: the 10 best slots for "anyone" in a one-week window, on a busy calendar.

25 staff, a 90-day horizon and 20,000 existing appointments. Each query opens its own read
session, as a request would. Prints p50/p99 per backend as a Markdown table.

    .venv/bin/python bench/slots.py                 # SQLite, and PostgreSQL if reachable
    .venv/bin/python bench/slots.py --queries 500
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from bot.config import apply_config, parse_config  # noqa: E402
from bot.scheduling.availability import SlotQuery, best_slots  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Appointment, Customer, Service, Staff  # noqa: E402

ZONE = ZoneInfo("America/New_York")
STAFF = 25
DAYS = 90
APPOINTMENTS = 20_000
PG_URL = os.environ.get(
    "SLOTBOT_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def business_toml() -> str:
    """A big shop: 25 staff, open 08:00–20:00 every day, 90 days ahead."""
    hours = "\n".join(
        f'{d} = "08:00-20:00"' for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    )
    staff = "\n".join(f'[[staff]]\nkey = "s{i}"\nname = "Staff {i}"\n' for i in range(STAFF))
    return f"""
[business]
name = "Bench Shop"
timezone = "America/New_York"
currency = "USD"
locale = "en_US"

[hours]
{hours}

[rules]
slot_interval_minutes = 15
minimum_notice_minutes = 0
maximum_days_ahead = {DAYS}

[[services]]
key = "cut"
name = "Haircut"
duration_minutes = 30
price = "30.00"
buffer_after_minutes = 0
staff = "*"

{staff}
"""


def populate(db: Database, now: datetime) -> None:
    """20,000 non-overlapping 30-minute appointments spread over 25 staff and 90 days."""
    apply_config(db, parse_config(business_toml()))
    rng = random.Random(42)
    with db.write() as session:
        staff_ids = list(session.scalars(select(Staff.id)))
        service = session.scalars(select(Service.id)).one()
        session.add(Customer(name="Bench", created_at=now))
        session.flush()
        customer = session.scalars(select(Customer.id)).one()
        rows = []
        per_day = APPOINTMENTS // (STAFF * DAYS) + 1
        first_day = now.astimezone(ZONE).date()
        for sid in staff_ids:
            for d in range(DAYS):
                day = first_day + timedelta(days=d)
                for half_hour in sorted(rng.sample(range(24), per_day)):
                    start = datetime(day.year, day.month, day.day, 8, tzinfo=ZONE) + timedelta(
                        minutes=30 * half_hour
                    )
                    end = start + timedelta(minutes=30)
                    rows.append(
                        dict(
                            customer_id=customer,
                            service_id=service,
                            staff_id=sid,
                            starts_at=start,
                            ends_at=end,
                            block_start=start,
                            block_end=end,
                            status="booked",
                            price_minor=3000,
                            currency="USD",
                            notes="",
                            created_at=now,
                            updated_at=now,
                        )
                    )
        rows = rows[:APPOINTMENTS]
        for i in range(0, len(rows), 2000):
            session.execute(insert(Appointment), rows[i : i + 2000])


def measure(db: Database, now: datetime, queries: int) -> list[float]:
    """Milliseconds per best-10 query for random one-week windows."""
    rng = random.Random(7)
    with db.read() as session:
        service = session.scalars(select(Service.id)).one()
    times = []
    for _ in range(queries):
        offset = rng.randrange(0, DAYS - 7)
        start = (
            (now + timedelta(days=offset))
            .astimezone(ZONE)
            .replace(hour=0, minute=0, second=0, microsecond=0)
        )
        target = start + timedelta(hours=rng.randrange(8, 19))
        query = SlotQuery(service, start, start + timedelta(days=7), target=target)
        began = time.perf_counter()
        with db.read() as session:
            found = best_slots(session, query, now=now, limit=10)
        times.append((time.perf_counter() - began) * 1000)
        assert len(found) == 10
    return times


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * len(ordered) + 0.5)) - 1)]


def run(label: str, url: str, queries: int, now: datetime) -> tuple[str, float, float, float]:
    """Migrate, fill and measure one backend."""
    upgrade(url)
    db = Database(url)
    began = time.perf_counter()
    populate(db, now)
    fill = time.perf_counter() - began
    measure(db, now, 20)  # warm the caches and the pool
    times = measure(db, now, queries)
    db.dispose()
    print(f"{label}: filled in {fill:.1f}s, {queries} queries", file=sys.stderr)
    return label, percentile(times, 50), percentile(times, 99), statistics.mean(times)


def main() -> None:
    """Run the benchmark on SQLite and (when reachable) PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    now = datetime(2026, 11, 16, 5, 0, tzinfo=UTC)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(run("SQLite", f"sqlite:///{tmp}/bench.db", args.queries, now))
    if not args.no_postgres:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        try:
            admin = psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True)
        except psycopg.OperationalError as exc:
            print(f"PostgreSQL skipped: {exc}", file=sys.stderr)
        else:
            admin.execute("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public")
            admin.execute(f"CREATE SCHEMA {schema}")
            try:
                url = f"{PG_URL}?options=-csearch_path%3D{schema}"
                results.append(run("PostgreSQL", url, args.queries, now))
            finally:
                admin.execute(f"DROP SCHEMA {schema} CASCADE")
                admin.close()
    print(f"\n{STAFF} staff, {DAYS}-day horizon, {APPOINTMENTS:,} appointments; ")
    print("10 best slots for 'anyone' in a random one-week window, fresh read session each.\n")
    print("| backend | p50 ms | p99 ms | mean ms |")
    print("|---|---:|---:|---:|")
    for label, p50, p99, mean in results:
        print(f"| {label} | {p50:.2f} | {p99:.2f} | {mean:.2f} |")


if __name__ == "__main__":
    main()
