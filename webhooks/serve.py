"""Serving: gunicorn for HTTP, and a separate worker process for everything behind it.

The worker runs the inbox processor (the conversation turns of every message the webhooks
recorded), the Telegram long poller and the scheduler. They live in their own process
rather than in gunicorn's master or workers: forking with background threads alive is how
locks get stuck, a worker count above one would otherwise mean several schedulers, and a
webhook must not wait behind a turn. `slotbot serve` starts both; `slotbot worker` is the
worker alone, for a machine that runs the web part elsewhere.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from typing import Any

from gunicorn.app.base import BaseApplication

from bot.config import process
from bot.jobs import build_scheduler
from bot.messaging.courier import Courier
from bot.messaging.senders import build_senders
from bot.messaging.spool import Spool
from conversations.inbox import InboxProcessor
from storage.db import Database
from webhooks.limits import replies_per_minute
from webhooks.spooling import drainers, spool_folder
from webhooks.telegram import business_region, start_telegram

log = logging.getLogger(__name__)
WORKER_NICENESS = 10


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any], app_config: dict[str, Any]) -> None:
        self.options = options
        self.app_config = app_config
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from webhooks.app import create_app

        # The parent already migrated and loaded the config (and printed the start-up
        # checks); workers only read them.
        app = create_app({"MIGRATE_ON_START": False, "START_CHECKED": True, **self.app_config})
        # This gunicorn worker's settings, read once: what bot code reads from now on.
        process.install(app.extensions["slotbot.process"])
        return app


def serve(host: str, port: int, workers: int, threads: int, with_worker: bool = True) -> None:
    """Serve HTTP with gunicorn, plus the scheduler in a child process."""
    child = None
    if with_worker:
        child = subprocess.Popen(
            [sys.executable, "-m", "webhooks.cli", "worker", "--parent", str(os.getpid())]
        )
    try:
        _Gunicorn(
            {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": 30,
                "accesslog": "-",
            },
            {"BIND_HOST": host},
        ).run()
    finally:
        if child is not None:
            child.terminate()
            child.wait(timeout=10)


def run_worker(db: Database, parent_pid: int | None = None) -> None:
    """Run the inbox processor, the Telegram poller and the scheduler until SIGTERM/SIGINT
    (or until the parent process is gone)."""
    # Under a flood the web's short answers to providers matter more than the pace of
    # turns (each waits in the inbox, safe): let the kernel favour gunicorn's processes.
    os.nice(WORKER_NICENESS)
    settings = process.current()
    senders = build_senders(settings.as_env())
    courier = Courier(db, senders)
    # The same folder the web processes spool into (they compute it the same way).
    spool = Spool(spool_folder(db.url, settings.spool_dir))
    log.info("draining the spool at %s", spool.folder)
    inbox = InboxProcessor(
        db,
        courier,
        spool=spool,
        drainers=drainers(db, business_region(db)),
        replies_per_minute=replies_per_minute(),
    ).start()
    scheduler = build_scheduler(db, senders)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    scheduler.start()
    log.info("inbox processor and scheduler started")
    # Telegram long polling, when configured without a webhook.
    poller = start_telegram(db, on_recorded=inbox.wake, spool=spool)
    while not stop.wait(2):
        if parent_pid is not None and os.getppid() != parent_pid:
            break  # orphaned: the server died without telling us
    if poller is not None:
        poller.stop()
    inbox.stop()
    courier.close()
    scheduler.shutdown(wait=True)
