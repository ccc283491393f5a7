"""The `slotbot` command line: init, config check, db upgrade, serve, worker, slots.

Every failure is one line on stderr (`slotbot: error: …`) and a non-zero exit, whether it is
a bad argument, a bad business.toml or an unknown service: owners read these, not tracebacks.
"""

from __future__ import annotations

import getpass
import os
import socket
import sys
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.billing.payments.links import LISTEN_URL_ENV
from bot.bootstrap import bootstrap
from bot.config import (
    BusinessConfig,
    apply_config,
    config_problems,
    config_warnings,
    load_config,
    process,
    write_template,
)
from bot.config.context import BusinessContext, business_context
from bot.core.catalogue import (
    entry_problems,
    install_translations,
    owner_catalogue_for,
    read_catalogue,
)
from bot.core.clock import utcnow
from bot.core.errors import SlotbotError
from bot.field.places.demo import EXAMPLES, seed_busiest_day, write_example
from bot.scheduling.availability import SlotQuery, best_slots, open_slots
from storage.db import Database, database_url
from storage.migrate import upgrade
from storage.models import Service, Staff
from webhooks.app import process_settings
from webhooks.cli_estimates import estimate
from webhooks.logs import configure_logging

EXIT_USAGE = 2
_Named = TypeVar("_Named", Service, Staff)


@click.group()
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="business.toml to use (default: $SLOTBOT_CONFIG or ./business.toml).",
)
@click.option("--database", default=None, help="Database URL (default: $SLOTBOT_DATABASE_URL).")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None, database: str | None) -> None:
    """slotbot: a conversational booking bot for appointment businesses."""
    bootstrap()  # every command (the worker, chat, seed, estimates) publishes domain events
    # The server's workers build their own app: hand the choices on through the environment.
    if config_file is not None:
        os.environ["SLOTBOT_CONFIG"] = str(config_file)
    if database is not None:
        os.environ["SLOTBOT_DATABASE_URL"] = database_url(database)
    # The environment read once, at start: a bad value is one line and exit 2, here.
    settings = process_settings()
    process.read_from(os.environ)
    ctx.obj = {
        "config": config_file or settings.config_file,
        "database": database_url(database or settings.database_url),
        "process": settings,
    }


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), default="business.toml")
@click.option(
    "--example",
    type=click.Choice(EXAMPLES),
    default=None,
    help="Write a whole example business into the folder PATH instead.",
)
def init(path: Path, example: str | None) -> None:
    """Write a commented business.toml template to start from (or an example business)."""
    if example is not None:
        written = write_example(example, path)
        config_file = written[0]
        click.echo(f"wrote {', '.join(str(p) for p in written)}")
        click.echo(
            f"serve it: SLOTBOT_CONFIG={config_file} slotbot serve\n"
            f"fill a busy day: SLOTBOT_CONFIG={config_file} slotbot seed {example} --day YYYY-MM-DD"
        )
        return
    if path.is_dir():
        raise click.BadParameter(f"{path} is a folder; give a file name like business.toml")
    write_template(path)
    click.echo(f"wrote {path}: edit it, then run `slotbot config check`")


@cli.command()
@click.argument("example", type=click.Choice(EXAMPLES))
@click.option(
    "--day",
    "day_text",
    required=True,
    help="The day to fill with the example's busiest day of jobs (YYYY-MM-DD).",
)
@click.pass_context
def seed(ctx: click.Context, example: str, day_text: str) -> None:
    """Load an example's customers and its busiest day of jobs into the database."""
    try:
        day = datetime.strptime(day_text, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"--day: not a date like 2026-12-08, got {day_text!r}") from None
    database = _prepare(ctx)
    with database.write() as session:
        jobs = seed_busiest_day(session, day)
        staff = len({job.staff_id for job in jobs})
    click.echo(f"{example}: {len(jobs)} jobs for {staff} technicians on {day:%a %d %b %Y}")
    database.dispose()


@cli.group()
def config() -> None:
    """Business configuration."""


@config.command("check")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.pass_context
def config_check(ctx: click.Context, path: Path | None) -> None:
    """Validate business.toml without touching the database: one line per problem."""
    path = Path(path or ctx.obj["config"])
    _exit_on_problems(path)
    business = load_config(path)
    click.echo(
        f"{path}: OK — {business.name}, {len(business.services)} services, "
        f"{len(business.staff)} staff, timezone {business.timezone}"
    )
    for line in config_warnings(business):
        click.echo(f"slotbot: warning: {line}", err=True)
    texts = owner_catalogue_for(path)
    if texts.is_file():
        for line in entry_problems(read_catalogue(texts), texts.name):
            click.echo(f"slotbot: warning: {line}; the shipped text is said instead", err=True)


@config.command("reload")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.pass_context
def config_reload(ctx: click.Context, path: Path | None) -> None:
    """Apply a changed business.toml to the database; running servers follow within seconds."""
    path = Path(path or ctx.obj["config"])
    _exit_on_problems(path, "slotbot: nothing applied; the running server keeps the old one")
    business = load_config(path)
    database = Database(ctx.obj["database"])
    try:
        apply_config(database, business)
    finally:
        database.dispose()
    click.echo(
        f"{path}: applied — {business.name}, {len(business.services)} services, "
        f"{len(business.staff)} staff; running servers use it within a few seconds"
    )


def _exit_on_problems(path: Path, after: str | None = None) -> None:
    """Print every problem in the file, one line each, and exit 2 if there is any."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        load_config(path)  # raises the one-line error for a missing or unreadable file
        raise
    problems = config_problems(text, source=path.name, base=path.parent)
    for problem in problems:
        click.echo(f"slotbot: error: {problem}", err=True)
    if problems:
        if after:
            click.echo(after, err=True)
        sys.exit(EXIT_USAGE)


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Migrate the database schema to the newest version."""
    upgrade(ctx.obj["database"])
    click.echo(f"database at {_safe_url(ctx.obj['database'])} is up to date")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _prepare(ctx: click.Context, *, background: bool = False) -> Database:
    """Migrate, load and apply business.toml; the common start of serve, worker and slots."""
    business = load_config(ctx.obj["config"])
    upgrade(ctx.obj["database"])
    database = Database(ctx.obj["database"], background=background)
    apply_config(database, business)
    install_translations(business.locale, ctx.obj["config"])
    return database


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--no-worker",
    is_flag=True,
    help="Do not start the worker (run `slotbot worker` elsewhere: it handles the messages).",
)
@click.pass_context
def serve(
    ctx: click.Context, host: str, port: int, workers: int, threads: int, no_worker: bool
) -> None:
    """Serve the web chat, webhooks and pages, with the worker beside them."""
    from webhooks.serve import serve as run_server

    configure_logging()  # gunicorn's workers inherit it (its access log stays its own)
    # Refuse a public server with a demo key before touching the database.
    _check_exposure(load_config(ctx.obj["config"]), host)
    _prepare(ctx).dispose()
    # Without a public URL, links (pay, portal) point where this server really listens;
    # the web workers and the worker process inherit it.
    os.environ.setdefault(LISTEN_URL_ENV, listen_url(host, port))
    process.install(process_settings())  # this process's, from now on
    click.echo(f"slotbot serving on http://{host}:{port}/ (owner sign-in: /owner)")
    run_server(host, port, workers, threads, with_worker=not no_worker)


def listen_url(host: str, port: int) -> str:
    """The base URL of a server bound to host:port (a wildcard bind: this machine's name)."""
    if host in ("0.0.0.0", "::", ""):
        host = socket.getfqdn()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _check_exposure(business: BusinessConfig, host: str) -> None:
    """Generate the owner key if there is none, refuse a demo key in public, warn loudly."""
    from webhooks import exposure

    env = process.current().as_env()
    key_file = exposure.owner_key_file(env)
    if not env.get(exposure.OWNER_KEY_ENV):
        generated = exposure.generate_owner_key(key_file)
        if generated:
            click.echo(
                f"owner key: {generated}  (generated now and shown only this once; kept in "
                f"{key_file}, outside git; $SLOTBOT_OWNER_KEY overrides it)"
            )
    try:
        found = exposure.decide(
            env,
            business,
            public_url=env.get("SLOTBOT_PUBLIC_URL"),
            bind_host=host,
            key_file=key_file,
        )
    except ValueError as exc:
        raise SlotbotError(str(exc)) from None
    problem = found.refusal()
    if problem:
        raise SlotbotError(problem)
    for line in found.warnings():
        click.echo(f"slotbot: {line}", err=True)


@cli.command()
@click.option("--parent", type=int, default=None, hidden=True)
@click.pass_context
def worker(ctx: click.Context, parent: int | None) -> None:
    """Run the worker alone: inbound messages, Telegram polling, reminders, outbox, upkeep."""
    from webhooks.serve import run_worker

    process.install(ctx.obj["process"])  # this process's, from now on
    configure_logging()
    # The worker's writes give way to the web's: a webhook never queues behind many turns.
    run_worker(_prepare(ctx, background=True), parent_pid=parent)


@cli.command()
@click.argument("service")
@click.option("--when", "when_text", default="today", show_default=True, help="A day or window.")
@click.option("--staff", "staff_name", default=None, help="Only this staff member.")
@click.option("--limit", default=0, type=click.IntRange(0, 500), help="Best N instead of all.")
@click.pass_context
def slots(
    ctx: click.Context, service: str, when_text: str, staff_name: str | None, limit: int
) -> None:
    """Print the open slots for SERVICE (key or name) on a day or in a window."""
    database = _prepare(ctx)
    with database.read() as session:
        business = business_context(session)
        found = _find(session, Service, service)
        staff_id = _find(session, Staff, staff_name).id if staff_name else None
        start, end, target = _window(when_text, business)
        query = SlotQuery(found.id, start, end, staff_id=staff_id, target=target)
        now = utcnow()
        result = (
            best_slots(session, query, now=now, limit=limit)
            if limit
            else open_slots(session, query, now=now)
        )
        names = dict(session.execute(select(Staff.id, Staff.name)).all())
        if not result:
            click.echo(f"no open slots for {found.name} {when_text}")
        for slot in result:
            local = slot.start.astimezone(business.zone)
            click.echo(f"{local:%a %d %b %Y %H:%M %Z}  {names[slot.staff_id]}")
    database.dispose()


@cli.command()
@click.option("--sender", default=None, help="Who you are on the terminal channel.")
@click.option("--owner", is_flag=True, help="Chat as the owner (web:owner identity).")
@click.pass_context
def chat(ctx: click.Context, sender: str | None, owner: bool) -> None:
    """Talk to the bot in this terminal, as a customer (or as the owner)."""
    from bot.messaging.inline import last_exchange, take_since
    from bot.messaging.messages import TERMINAL, WEB, Inbound
    from conversations.engine import Engine

    database = _prepare(ctx)
    engine = Engine(database)
    channel, address = (WEB, "owner") if owner else (TERMINAL, sender or getpass.getuser())
    click.echo(f"Chatting as {channel}:{address}. Pick options by number; Ctrl-D to quit.")
    options: list[str] = []
    after = last_exchange(database, channel, address)
    while True:
        try:
            line = input("you> ")
        except EOFError:
            click.echo()
            break
        text, option_id = line, None
        if line.strip().isdigit() and 1 <= int(line) <= len(options):
            text, option_id = "", options[int(line) - 1]
        engine.handle(Inbound(channel=channel, sender=address, text=text, option_id=option_id))
        options = []
        messages = take_since(database, channel, address, after)
        if messages:
            after = messages[-1][0]
        for _, reply in messages:
            for part in reply.text.splitlines() or [""]:
                click.echo(f"bot> {part}")
            for attachment in reply.attachments:
                click.echo(f"     [attachment: {attachment.filename}]")
            for option in reply.options:
                options.append(option.id)
                click.echo(f"     {len(options)}. {option.label}")
    database.dispose()


def _find(session: Session, model: type[_Named], name: str) -> _Named:
    """A Service or Staff row by key or case-insensitive name; a one-line error if none."""
    row = session.scalar(
        select(model).where(
            (model.key == name.lower()) | (func.lower(model.name) == name.lower()),
            model.active.is_(True),
        )
    )
    if row is None:
        known = ", ".join(session.scalars(select(model.key).where(model.active.is_(True))))
        kind = model.__tablename__
        raise click.BadParameter(f"unknown {kind} {name!r} (known: {known})")
    return row


def _window(text: str, business: BusinessContext) -> tuple[datetime, datetime, datetime | None]:
    """Turn --when into a [start, end) window in UTC, with an optional preferred moment."""
    from conversations.when import parse_when

    now_local = utcnow().astimezone(business.zone)
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        when = parse_when(text, now_local)
        if when is None:
            raise click.BadParameter(f"--when: cannot understand {text!r}") from None
        return when.start, when.end, when.target
    start = datetime.combine(day, time(0), tzinfo=business.zone)
    return start, start + timedelta(days=1), None


cli.add_command(estimate)


def main() -> None:
    """Entry point: run the CLI, turning every expected failure into one line and exit 2."""
    try:
        cli.main(standalone_mode=False, prog_name="slotbot")
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("slotbot: aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        click.echo(f"slotbot: error: {exc.format_message()}", err=True)
        sys.exit(EXIT_USAGE)
    except SlotbotError as exc:
        click.echo(f"slotbot: error: {exc}", err=True)
        sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    main()
