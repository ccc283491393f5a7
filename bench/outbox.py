"""Benchmark: 10,000 reminders due at the same moment, drained through the outbox.

Each reminder belongs to a real appointment (so the dispatcher's "is it still valid?" check
runs) and goes to a customer's SMS identity. Dispatcher processes (`tests/outbox_worker.py`)
send them with the real `twilio` SDK to the local fake Twilio API (`tests/fakes/twilio_api`,
HTTP/1.1 keep-alive), exactly as production sends to Twilio. Timed from "go" (the workers are
already started and connected) until the fake has received every message; then checked:
every row sent, no message received twice. Prints a Markdown table.

    .venv/bin/python bench/outbox.py                  # PG with 1 and 3 workers, SQLite with 1
    .venv/bin/python bench/outbox.py --count 2000 --batch 200
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bot.config import apply_config, parse_config  # noqa: E402
from bot.core.clock import utcnow  # noqa: E402
from bot.messaging.messages import Reply  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.messaging import SENT, OutboxMessage  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Appointment, Customer, CustomerIdentity, Service, Staff  # noqa: E402
from tests.factories import salon_toml  # noqa: E402
from tests.fakes.twilio_api import FakeTwilio, make_fake_twilio, twilio_env  # noqa: E402

PG_URL = os.environ.get(
    "SLOTBOT_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CUSTOMERS = 1000


@contextmanager
def fresh_database(backend: str) -> Iterator[str]:
    """A migrated empty database: a temporary SQLite file, or a throwaway PG schema."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/bench.db"
            upgrade(url)
            yield url
        return
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(PG_URL)
    dsn = (
        f"host={parsed.host or '127.0.0.1'} port={parsed.port or 5432} "
        f"user={parsed.username or 'postgres'} dbname={parsed.database or 'postgres'}"
        + (f" password={parsed.password}" if parsed.password else "")
    )
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public")
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def seed(db: Database, count: int) -> None:
    """A salon, 1,000 customers with SMS identities, `count` appointments in the coming
    weeks, and one reminder for each, all due now."""
    apply_config(db, parse_config(salon_toml()))
    now = utcnow()
    with db.write() as session:
        staff_ids = list(session.scalars(select(Staff.id)))
        service = session.scalars(select(Service).where(Service.key == "cut")).one()
        customers = [
            {"name": f"Customer {i}", "phone": f"+1555{i:07d}", "created_at": now}
            for i in range(CUSTOMERS)
        ]
        session.execute(insert(Customer), customers)
        ids = list(session.scalars(select(Customer.id).order_by(Customer.id)))
        session.execute(
            insert(CustomerIdentity),
            [
                {
                    "customer_id": cid,
                    "channel": "sms",
                    "address": f"+1555{i:07d}",
                    "created_at": now,
                }
                for i, cid in enumerate(ids)
            ],
        )
        base = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
        appointments = []
        for i in range(count):
            start = base + timedelta(hours=i // len(staff_ids))  # one an hour per staff member
            appointments.append(
                {
                    "customer_id": ids[i % CUSTOMERS],
                    "service_id": service.id,
                    "staff_id": staff_ids[i % len(staff_ids)],
                    "starts_at": start,
                    "ends_at": start + timedelta(minutes=45),
                    "block_start": start,
                    "block_end": start + timedelta(minutes=45),
                    "status": "booked",
                    "price_minor": service.price_minor,
                    "currency": "USD",
                    "notes": "",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for i in range(0, count, 2000):
            session.execute(insert(Appointment), appointments[i : i + 2000])
        rows = session.execute(
            select(Appointment.id, Appointment.customer_id, Appointment.starts_at).order_by(
                Appointment.id
            )
        ).all()
        due = now - timedelta(seconds=1)
        messages = [
            {
                "channel": "sms",
                "address": f"+1555{(row.customer_id - ids[0]):07d}",
                "customer_id": row.customer_id,
                "body": Reply(f"Reminder {n}: your Haircut tomorrow").to_json(),
                "kind": "transactional",
                "purpose": "reminder",
                "ref_id": row.id,
                "ref_starts_at": row.starts_at,
                "dedupe_key": f"reminder:{row.id}:1440:{row.starts_at.isoformat()}",
                "status": "pending",
                "send_at": due,
                "attempts": 0,
                "created_at": now,
            }
            for n, row in enumerate(rows)
        ]
        for i in range(0, count, 2000):
            session.execute(insert(OutboxMessage), messages[i : i + 2000])


def run(backend: str, workers: int, count: int, batch: int, fake: FakeTwilio) -> dict[str, object]:
    """Seed, start `workers` dispatchers, time the drain, verify exactly-once."""
    fake.reset()
    with fresh_database(backend) as url:
        db = Database(url)
        seed(db, count)
        env = {**os.environ, **twilio_env(fake), "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "tests.outbox_worker", "--db", url, "--wait-go"]
        command += ["--batch", str(batch), "--idle-exit", "0.5"]
        procs = [
            subprocess.Popen(
                command, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            for _ in range(workers)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        while len(fake.messages) < count and time.perf_counter() - started < 300:
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        for proc in procs:
            proc.communicate(timeout=60)
        with db.read() as session:
            sent = session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == SENT)
            )
        db.dispose()
    bodies = Counter(fake.bodies())
    return {
        "backend": "PostgreSQL" if backend == "postgres" else "SQLite",
        "workers": workers,
        "messages": count,
        "seconds": elapsed,
        "rate": count / elapsed,
        "sent": sent,
        "duplicates": sum(n - 1 for n in bodies.values() if n > 1),
        "distinct": len(bodies),
    }


def main() -> None:
    """Run the scenarios and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    scenarios = [] if args.skip_postgres else [("postgres", 1), ("postgres", 3)]
    scenarios.append(("sqlite", 1))
    results = []
    with make_fake_twilio() as fake:
        for backend, workers in scenarios:
            results.append(run(backend, workers, args.count, args.batch, fake))
    print(
        f"\n`{' '.join(['.venv/bin/python', 'bench/outbox.py', *sys.argv[1:]])}` "
        f"(batch {args.batch}, {os.cpu_count()} CPUs)\n"
    )
    print("| backend | workers | messages | drain time | messages/s | sent rows | duplicates |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['backend']} | {r['workers']} | {r['messages']:,} | {r['seconds']:.2f} s "
            f"| {r['rate']:,.0f} | {r['sent']:,} | {r['duplicates']} |"
        )
        assert r["sent"] == r["messages"] == r["distinct"] and r["duplicates"] == 0, r


if __name__ == "__main__":
    main()
