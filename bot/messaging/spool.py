"""The spool: deliveries kept on local disk while the database refuses them.

A webhook must not answer its provider before the delivery is durable, and Twilio never
redelivers a message it got a 5xx for. So when the inbox insert (or a Stripe event's
transaction) fails, the webhook keeps the delivery here instead and still answers 200; the
worker hands every kept delivery to the database as soon as it takes writes again, and only
then deletes the file.

One file per delivery, named for its kind and provider id (`inbound-sms-SM….json`), written
to a temporary name, fsync'd, renamed into place and the folder fsync'd: a file that exists
is complete, and a redelivery of the same id finds it there. Files are only ever created and
deleted (append-only). Draining goes oldest first; a kept delivery that cannot be read or
handled for a reason other than the database is set aside as `*.unreadable` (and counted) for
a person to look at, never silently dropped.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError, ProgrammingError, SQLAlchemyError

log = logging.getLogger(__name__)

SUFFIX = ".json"
UNREADABLE = ".unreadable"
STALE_TEMP_SECONDS = 600  # a temp file this old was never acknowledged: its writer died
# What "the database is still failing" looks like: wrapped by SQLAlchemy, raw from the bare
# connection the inbox insert runs on, or the SQLite writer lock's file refusing us.
DATABASE_ERRORS: tuple[type[Exception], ...] = (SQLAlchemyError, sqlite3.Error, OSError)
# Database errors about one delivery, not about the database: trying again cannot help.
NOT_AN_OUTAGE: tuple[type[Exception], ...] = (
    IntegrityError,
    DataError,
    ProgrammingError,
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.ProgrammingError,
)
_SAFE_KEY = re.compile(r"[A-Za-z0-9_-]{1,120}")


class SpoolKind(StrEnum):
    """What a kept delivery is, and so who drains it."""

    INBOUND = "inbound"  # a `bot.messaging.messages.Inbound` as `bot.messaging.inbox.inbound_to_json` writes it
    TELEGRAM = "telegram"  # a raw Telegram Update (parsed when drained)
    STRIPE = "stripe"  # a verified Stripe event


@dataclass(frozen=True)
class Kept:
    """One delivery in the spool."""

    kind: str
    key: str
    data: dict[str, Any]
    kept_at_ns: int
    path: Path


def file_name(kind: str, key: str) -> str:
    """The file a delivery of this kind and provider id is kept in."""
    safe = key if _SAFE_KEY.fullmatch(key) else hashlib.sha256(key.encode()).hexdigest()
    return f"{kind}-{safe}{SUFFIX}"


class Spool:
    """A folder of kept deliveries (created when first needed)."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self._kept_here = False  # this process kept something since the spool was last empty

    def keep(self, kind: SpoolKind, key: str, data: Mapping[str, Any]) -> None:
        """Make one delivery durable on disk; raises OSError if the disk refuses too."""
        final = self.folder / file_name(kind, key)
        if final.exists():
            return  # a redelivery of what is kept already
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        body = json.dumps(
            {"kind": str(kind), "key": key, "kept_at_ns": time.time_ns(), "data": data},
            separators=(",", ":"),
        ).encode()
        temp = self.folder / f".{final.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.rename(temp, final)  # atomic: a file under its final name is always whole
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self._sync_folder()
        self._kept_here = True

    def holds_elders(self) -> bool:
        """Whether deliveries this process kept still wait to be drained.

        Free while nothing was kept (the webhook's hot path): only after an outage does it
        look at the folder, until the worker has emptied it.
        """
        if not self._kept_here:
            return False
        try:
            with os.scandir(self.folder) as entries:  # stops at the first one found
                if any(e.name.endswith(SUFFIX) and e.name[0] != "." for e in entries):
                    return True
        except FileNotFoundError:
            pass
        except OSError as exc:  # cannot even look: record straight away (never a 500 here)
            log.warning("cannot read the spool at %s (%s); recording directly", self.folder, exc)
            return False
        self._kept_here = False
        return False

    def _sync_folder(self) -> None:
        # The rename is durable only once the directory entry is on disk.
        fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def count(self) -> int:
        """How many deliveries wait here, set-aside ones included (for /healthz)."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return 0
        return sum(1 for n in names if not n.startswith(".") and n.endswith((SUFFIX, UNREADABLE)))

    def unreadable(self) -> int:
        """How many kept deliveries were set aside because they could not be handled."""
        try:
            return sum(1 for n in os.listdir(self.folder) if n.endswith(UNREADABLE))
        except FileNotFoundError:
            return 0

    def pending(self) -> list[Kept]:
        """Every kept delivery waiting to be drained, oldest first."""
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return []
        found: list[Kept] = []
        now = time.time()
        for entry in entries:
            if entry.name.startswith("."):
                self._sweep(entry, now)
                continue
            if not entry.name.endswith(SUFFIX):
                continue
            path = Path(entry.path)
            try:
                raw = json.loads(path.read_bytes())
                found.append(
                    Kept(
                        str(raw["kind"]), str(raw["key"]), raw["data"], int(raw["kept_at_ns"]), path
                    )
                )
            except FileNotFoundError:
                continue  # another worker drained it just now
            except (OSError, ValueError, KeyError, TypeError):
                log.critical("spooled delivery %s cannot be read; set aside", path.name)
                self.set_aside(path)
        return sorted(found, key=lambda k: (k.kept_at_ns, k.path.name))

    def _sweep(self, entry: os.DirEntry[str], now: float) -> None:
        # A temp file left by a writer that died before its rename was never acknowledged.
        if entry.name.endswith(".tmp"):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > STALE_TEMP_SECONDS:
                    os.unlink(entry.path)

    def remove(self, kept: Kept) -> None:
        """Forget a delivery the database now has."""
        kept.path.unlink(missing_ok=True)

    def set_aside(self, path: Path) -> None:
        """Keep a delivery that cannot be handled out of the way, for a person to look at."""
        with contextlib.suppress(FileNotFoundError):
            os.rename(path, path.with_suffix(UNREADABLE))

    def drain(self, handlers: Mapping[str, Callable[[dict[str, Any]], object]]) -> int:
        """Hand each kept delivery to its kind's handler, oldest first; how many were drained.

        A delivery is deleted only after its handler returned. A database error stops the
        drain (raised: the database is still failing, the rest wait for the next pass);
        anything else sets that one delivery aside, loudly, and goes on.
        """
        drained = 0
        for kept in self.pending():
            handler = handlers.get(kept.kind)
            if handler is None:
                continue  # another process drains this kind
            try:
                handler(kept.data)
            except NOT_AN_OUTAGE:
                # The database answers and refuses this one (a constraint, a value): it would
                # refuse it every time, and block every delivery behind it.
                log.critical(
                    "spooled %s %s refused by the database; set aside",
                    kept.kind,
                    kept.key,
                    exc_info=True,
                )
                self.set_aside(kept.path)
                continue
            except DATABASE_ERRORS:
                raise
            except Exception:
                log.critical(
                    "spooled %s %s could not be handled; set aside",
                    kept.kind,
                    kept.key,
                    exc_info=True,
                )
                self.set_aside(kept.path)
                continue
            self.remove(kept)
            drained += 1
        if drained:
            log.info("drained %d deliveries from the spool into the database", drained)
        return drained
