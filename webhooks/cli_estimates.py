"""`slotbot estimate ...`: write, send and list estimates from the command line.

    slotbot estimate create --customer "Bob Stone" --items "colour 120, toner 25" --valid 30 --send
    slotbot estimate send EST-0003
    slotbot estimate list

The lines are read as the chat and the dashboard read them (bot.billing.documents.estimate_jobs);
every mistake is one line and a non-zero exit, like the rest of the CLI.
"""

from __future__ import annotations

import click
from sqlalchemy import select

from bot.billing.documents.estimate_jobs import create_and_send, find_estimate, parse_items
from bot.billing.documents.estimates import estimate_totals, send_estimate
from bot.config import apply_config, load_config
from bot.config.context import business_context
from bot.core.clock import utcnow
from bot.scheduling.agenda import find_customers
from storage.billing import Estimate
from storage.db import Database
from storage.migrate import upgrade


def _database(ctx: click.Context) -> Database:
    obj = ctx.find_root().obj
    business = load_config(obj["config"])
    upgrade(obj["database"])
    database = Database(obj["database"])
    apply_config(database, business)
    return database


@click.group()
def estimate() -> None:
    """Estimates: create, send, list."""


@estimate.command("create")
@click.option("--customer", "who", required=True, help="The customer's name, phone or email.")
@click.option("--items", required=True, help='Lines and prices: "colour 120, toner 25".')
@click.option("--valid", "valid_days", default=30, show_default=True, type=click.IntRange(1, 365))
@click.option("--notes", default="", help="A note printed on the estimate.")
@click.option("--send/--draft", default=False, help="Send it to the customer now.")
@click.pass_context
def create(
    ctx: click.Context, who: str, items: str, valid_days: int, notes: str, send: bool
) -> None:
    """Write an estimate for a customer (and send it with --send)."""
    database = _database(ctx)
    try:
        with database.write() as session:
            matches = find_customers(session, who)
            if not matches:
                raise click.BadParameter(f"--customer: nobody matches {who!r}")
            exact = [c for c in matches if (c.name or "").lower() == who.lower()]
            if len(matches) > 1 and len(exact) != 1:
                names = ", ".join(f"{c.name} (#{c.id})" for c in matches)
                raise click.BadParameter(f"--customer: {who!r} could be {names}")
            customer = exact[0] if exact else matches[0]
            ctx_billing = business_context(session)
            parsed = parse_items(f"{items}, valid {valid_days} days", ctx_billing.currency)
            made, sent = create_and_send(
                session,
                customer_id=customer.id,
                items=parsed,
                now=utcnow(),
                send=send,
                notes=notes,
            )
            total = ctx_billing.money(estimate_totals(session, made).total)
            state = "sent to" if sent else "draft for" if not send else "created (unreachable):"
            click.echo(f"{made.number} {total} {state} {customer.name}")
    finally:
        database.dispose()


@estimate.command("send")
@click.argument("number")
@click.pass_context
def send_one(ctx: click.Context, number: str) -> None:
    """Send (or send again) an estimate not answered yet."""
    database = _database(ctx)
    try:
        with database.write() as session:
            found = find_estimate(session, number)
            if found is None:
                raise click.BadParameter(f"no estimate {number!r}")
            if not send_estimate(session, found.id, now=utcnow()):
                raise click.ClickException(
                    f"{found.number} is {found.status} or its customer cannot be reached"
                )
            click.echo(f"{found.number} sent to {found.customer.name}")
    finally:
        database.dispose()


@estimate.command("list")
@click.pass_context
def list_all(ctx: click.Context) -> None:
    """Every estimate, newest first: number, customer, total, status."""
    database = _database(ctx)
    try:
        with database.read() as session:
            money = business_context(session).money
            for row in session.scalars(select(Estimate).order_by(Estimate.id.desc())):
                total = money(estimate_totals(session, row).total)
                linked = f" appointment #{row.appointment_id}" if row.appointment_id else ""
                click.echo(f"{row.number}  {row.customer.name}  {total}  {row.status}{linked}")
    finally:
        database.dispose()
