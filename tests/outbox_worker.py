"""A dispatcher in its own process, for the multi-process outbox tests and the bench, plus
the small builders those share: a salon with owners and staff identities, reachable
customers, and outbox rows in bulk.

    python -m tests.outbox_worker --db URL [--batch 100] [--lease 60] [--record-every 20]
                                  [--wait-go] [--idle-exit 1.0] [--max-seconds 120]

Run from the repository root. Twilio comes from the environment (TWILIO_*; see
`tests.fakes.twilio_api.twilio_env`). Prints "ready" once connected; with --wait-go it then
waits for a line on stdin, so several workers start together. It dispatches until nothing
was claimable for --idle-exit seconds and prints its totals as one JSON line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import insert

from bot.core.clock import utcnow
from bot.messaging.messages import Reply
from bot.messaging.outbox import DispatchReport, dispatch_due
from bot.messaging.senders import build_senders
from storage.db import Database
from storage.messaging import OutboxMessage
from storage.models import Customer, CustomerIdentity
from tests.factories import salon_toml

OWNER = "+12125550199"
SAM_PHONE = "+12125550101"


def messaging_salon_toml(extra: str = "", zone: str = "America/New_York") -> str:
    """The test salon with owners, an address, a review link and Sam's own phone."""
    text = salon_toml(zone=zone)
    text = text.replace(
        'locale = "en_US"\n',
        'locale = "en_US"\n'
        f'owners = ["sms:{OWNER}"]\n'
        'address = "1 Main St, New York"\n'
        'email = "hello@salon.example"\n'
        'review_url = "https://example.com/review"\n',
        1,
    )
    text = text.replace(
        'name = "Sam"\n', f'name = "Sam Rivera"\nidentities = ["sms:{SAM_PHONE}"]\n'
    )
    return text + "\n" + extra


def add_reachable_customer(
    db: Database,
    name: str = "Jane Doe",
    phone: str = "+15551230001",
    *,
    channel: str | None = "sms",
    last_inbound_at: datetime | None = None,
    promotions_opt_in: bool = False,
) -> int:
    """A customer with a phone and (unless channel is None) an identity on `channel`."""
    now = utcnow()
    with db.write() as session:
        customer = Customer(name=name, phone=phone, created_at=now)
        session.add(customer)
        session.flush()
        if channel is not None:
            session.add(
                CustomerIdentity(
                    customer_id=customer.id,
                    channel=channel,
                    address=phone,
                    created_at=now,
                    last_inbound_at=last_inbound_at,
                    promotions_opt_in=promotions_opt_in,
                )
            )
        return customer.id


def seed_outbox(
    db: Database,
    count: int,
    *,
    now: datetime,
    channel: str = "sms",
    prefix: str = "msg",
    purpose: str = "reminder",
) -> None:
    """`count` messages due at `now`, bodies "{prefix} {i}", one address each, in bulk."""
    rows = [
        {
            "channel": channel,
            "address": f"+1555{i:07d}",
            "body": Reply(f"{prefix} {i}").to_json(),
            "kind": "transactional",
            "purpose": purpose,
            "status": "pending",
            "send_at": now,
            "attempts": 0,
            "created_at": now,
        }
        for i in range(count)
    ]
    with db.write() as session:
        for start in range(0, len(rows), 2000):
            session.execute(insert(OutboxMessage), rows[start : start + 2000])


def main(argv: list[str] | None = None) -> int:
    """Dispatch until idle; print "ready" first and the totals (JSON) last."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--lease", type=float, default=60.0)
    parser.add_argument("--record-every", type=int, default=20)
    parser.add_argument("--wait-go", action="store_true")
    parser.add_argument("--idle-exit", type=float, default=1.0)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # keep stdout/stderr for the protocol
    db = Database(args.db)
    senders = build_senders(os.environ)
    with db.engine.connect():
        pass  # connect before saying ready, so start-up is not timed
    print("ready", flush=True)
    if args.wait_go:
        sys.stdin.readline()
    totals = DispatchReport()
    started = time.monotonic()
    idle_since: float | None = None
    while time.monotonic() - started < args.max_seconds:
        report = dispatch_due(
            db,
            senders,
            batch=args.batch,
            lease_seconds=args.lease,
            record_every=args.record_every,
            time_budget=5.0,
        )
        for name in ("claimed", "sent", "retried", "failed", "cancelled", "released"):
            setattr(totals, name, getattr(totals, name) + getattr(report, name))
        if report.claimed:
            idle_since = None
            continue
        idle_since = idle_since or time.monotonic()
        if time.monotonic() - idle_since > args.idle_exit:
            break
        time.sleep(0.05)
    summary = {k: v for k, v in asdict(totals).items() if k != "provider_ids"}
    summary["seconds"] = round(time.monotonic() - started, 3)
    print(json.dumps(summary), flush=True)
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
