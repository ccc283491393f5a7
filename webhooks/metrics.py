"""`GET /metrics`: Prometheus metrics, for a scraper on this machine or one with the token.

Served only to a request from loopback that no proxy forwarded (no `X-Forwarded-For`,
`Forwarded` or `X-Real-IP`: a reverse proxy on the same machine must not make the internet
look local), or to one with `Authorization: Bearer <token>` where the token is
SLOTBOT_METRICS_TOKEN, else SLOTBOT_HEALTH_TOKEN. Anything else gets 403 and no numbers.

A scrape is two parts. Counters and the turn histogram of this process (`bot.core.metrics`; the
sum over every process with PROMETHEUS_MULTIPROC_DIR). Gauges read from the database and the
spool folder right now, the same whichever process answers: inbox depth and the age of its
oldest waiting delivery, outbox rows pending / sending / failed per channel and the age of
the oldest one due, spool depth. A database that does not answer is `slotbot_database_up 0`,
not a 500.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, request
from flask.typing import ResponseReturnValue
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from bot.core.metrics import WATCHED_STATUSES, outbox_state
from bot.messaging.inbox import backlog
from bot.messaging.messages import CHANNELS
from storage.db import Database
from webhooks.channels import clock, setting
from webhooks.context import current_db

log = logging.getLogger(__name__)
bp = Blueprint("metrics", __name__)

_PROXY_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _token() -> str | None:
    return setting("SLOTBOT_METRICS_TOKEN") or setting("SLOTBOT_HEALTH_TOKEN")


def _from_loopback() -> bool:
    try:
        local = ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False  # a unix socket or something stranger: not provably local
    return local and not any(request.headers.get(h) for h in _PROXY_HEADERS)


def _has_token() -> bool:
    expected = _token()
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(
        expected
        and scheme.lower() == "bearer"
        and hmac.compare_digest(given.strip().encode(), expected.encode())
    )


def spool_depth() -> int:
    """Deliveries waiting in the local spool (0 without one).

    The app's spool (`app.extensions["slotbot.spool"]`, anything with `count()`) answers if
    there is one; else the files in the SLOTBOT_SPOOL_DIR folder are counted.
    """
    spool = current_app.extensions.get("slotbot.spool")
    if spool is not None:
        return int(spool.count())
    folder = setting("SLOTBOT_SPOOL_DIR")
    if not folder:
        return 0
    try:
        return sum(1 for e in os.scandir(Path(folder)) if e.is_file() and e.name[0] != ".")
    except FileNotFoundError:
        return 0


class DatabaseGauges:
    """The gauges a scrape reads from the database and the spool, at that moment."""

    def __init__(self, db: Database, now: Callable[[], datetime], spool: Callable[[], int]) -> None:
        self.db, self.now, self.spool = db, now, spool

    def collect(self) -> Iterator[Metric]:
        """Every gauge, or `slotbot_database_up 0` when the database does not answer."""
        up = GaugeMetricFamily("slotbot_database_up", "Whether the database answered.")
        try:
            now = self.now()
            waiting = backlog(self.db)
            outbox = outbox_state(self.db, now)
        except Exception:  # a scrape reports trouble, it does not raise it
            log.exception("metrics: the database did not answer")
            up.add_metric([], 0)
            yield up
            yield from self._spool()
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "slotbot_inbox_waiting", "Recorded deliveries not yet handled.", value=waiting.count
        )
        age = (now - waiting.oldest).total_seconds() if waiting.oldest else 0.0
        yield GaugeMetricFamily(
            "slotbot_inbox_oldest_waiting_seconds",
            "How long the oldest unhandled delivery has waited (0 when none waits).",
            value=max(0.0, age),
        )
        rows = GaugeMetricFamily(
            "slotbot_outbox_messages",
            "Outbox rows pending, sending and failed, by channel.",
            labels=["channel", "status"],
        )
        for channel in CHANNELS:
            for status in WATCHED_STATUSES:
                rows.add_metric([channel, status], outbox.counts.get((channel, status), 0))
        yield rows
        due = (now - outbox.oldest_due).total_seconds() if outbox.oldest_due else 0.0
        yield GaugeMetricFamily(
            "slotbot_outbox_oldest_due_seconds",
            "How long the oldest due, unsent outbox row has waited (0 when none).",
            value=max(0.0, due),
        )
        yield from self._spool()

    def _spool(self) -> Iterator[Metric]:
        try:
            depth = float(self.spool())
        except OSError:
            log.exception("metrics: the spool folder could not be read")
            depth = float("nan")
        yield GaugeMetricFamily(
            "slotbot_spool_waiting", "Deliveries kept on local disk for the database.", depth
        )


class _Scrape:
    """The collectors of one scrape, as the `registry` generate_latest reads."""

    def __init__(self, *collectors: object) -> None:
        self.collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self.collectors:
            yield from collector.collect()  # type: ignore[attr-defined]


def _process_metrics() -> object:
    """This process's counters, or every process's when PROMETHEUS_MULTIPROC_DIR is set."""
    folder = setting("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return REGISTRY
    return MultiProcessCollector(CollectorRegistry(), path=folder)


@bp.get("/metrics")
def metrics() -> ResponseReturnValue:
    """Prometheus text exposition: this process's counters and the database's gauges."""
    if not (_from_loopback() or _has_token()):
        abort(403, description="metrics need SLOTBOT_METRICS_TOKEN or a loopback request")
    fixed = clock()
    scrape = _Scrape(_process_metrics(), DatabaseGauges(current_db(), fixed, spool_depth))
    # generate_latest reads anything with a collect() method.
    body = generate_latest(scrape)  # type: ignore[arg-type]
    return Response(body, mimetype=None, content_type=CONTENT_TYPE_LATEST)
