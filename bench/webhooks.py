"""Benchmark: signed Twilio SMS webhooks into slotbot under gunicorn, next to a bare Flask app.

Both apps run under the same gunicorn settings (2 workers, gthread, 4 threads each) and get
the same load: POSTs to /twilio/sms with unique MessageSids from 400 different senders
("hi", "my appointments", "what are your hours?", "thanks"), each signed with Twilio's own
`RequestValidator.compute_signature` for SLOTBOT_PUBLIC_URL, over 8 keep-alive connections
for a fixed time. The load comes from `wrk` when it is installed (`apt-get install wrk`),
else from Python threads with http.client keep-alive. slotbot serves the demo salon on a
fresh SQLite file (or `--database URL`) exactly as `slotbot serve` runs it: gunicorn records
each message in the inbox and answers, and `slotbot worker` beside it (same machine, same
cores) handles the turns and sends the replies to a fake Twilio API
(`tests/fakes/twilio_api.py`) in another process. After the load the script waits for the
worker to empty the inbox and reports how fast it turned messages into sent replies.
Prints Markdown tables.

    .venv/bin/python bench/webhooks.py
    .venv/bin/python bench/webhooks.py --seconds 20 --database postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/webhooks.py --tool python
    .venv/bin/python bench/webhooks.py --give-way

`--give-way` measures only the SQLite writer lock: how long the worker's writes wait to
enter while the web is quiet, under a flood of webhook-sized writes, and once it has calmed
(the tests check the same behaviour on a stepped clock, not in milliseconds).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.config import apply_config, load_config  # noqa: E402
from bot.messaging.inbox import backlog  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.messaging import SENT, OutboxMessage  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import InboundMessage  # noqa: E402
from tests.fakes.twilio_api import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    SMS_FROM,
    make_fake_twilio,
    signature,
    twilio_env,
)

PUBLIC = "https://bench.example"
BENCH_OWNER_KEY = "bench-owner-key-not-the-demo-one"
PATH = "/twilio/sms"
TEXTS = ["hi", "my appointments", "what are your hours?", "thanks"]
SENDERS = 400
GUNICORN = ["-w", "2", "-k", "gthread", "--threads", "4", "--log-level", "warning"]
HELLO_APP = """from flask import Flask

app = Flask(__name__)


@app.post("/twilio/sms")
def hello():
    return "hello"
"""

WRK_SCRIPT = """
local data = dofile("%(data)s")
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  local n = tonumber(args[1])
  mine = {}
  for i = tid, #data, n do
    local d = data[i]
    mine[#mine + 1] = wrk.format("POST", "%(path)s", {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = d[1],
    }, d[2])
  end
  idx = 0
  wraps = 0
end
function request()
  idx = idx + 1
  if idx > #mine then idx = 1; wraps = wraps + 1 end
  return mine[idx]
end
function done(summary, latency, requests)
  local wrapped = 0
  for _, t in ipairs(threads) do wrapped = wrapped + t:get("wraps") end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "seconds": %%.3f, "p50": %%d, "p99": %%d, "max": %%d, ' ..
    '"errors": %%d, "status_errors": %%d, "wrapped": %%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect + e.read + e.write + e.timeout, e.status, wrapped))
end
"""


# ----------------------------------------------------------------------------- the load


def signed_requests(count: int) -> list[tuple[str, bytes]]:
    """`count` (signature, body) pairs: unique MessageSids, varied senders and texts."""
    made = []
    for n in range(count):
        params = {
            "ToCountry": "US",
            "SmsMessageSid": "",
            "NumMedia": "0",
            "SmsSid": "",
            "SmsStatus": "received",
            "Body": TEXTS[n % len(TEXTS)],
            "To": SMS_FROM,
            "NumSegments": "1",
            "MessageSid": "SM" + secrets.token_hex(16),
            "AccountSid": ACCOUNT_SID,
            "From": f"+1555020{n % SENDERS:04d}",
            "ApiVersion": "2010-04-01",
        }
        params["SmsMessageSid"] = params["SmsSid"] = params["MessageSid"]
        made.append((signature(PUBLIC + PATH, params), urlencode(params).encode()))
    return made


def load_with_wrk(
    port: int, load: list[tuple[str, bytes]], seconds: float, connections: int, folder: Path
) -> dict:
    """Run wrk with the pre-signed requests; its summary as a dict (latencies in µs)."""
    data = folder / "requests.lua"
    with data.open("w") as out:
        out.write("return {\n")
        for sig, body in load:
            out.write(f"{{[==[{sig}]==], [==[{body.decode()}]==]}},\n")
        out.write("}\n")
    script = folder / "signed.lua"
    script.write_text(WRK_SCRIPT % {"data": data, "path": PATH})
    threads = min(2, connections)
    result = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
        ]
        + ["-s", str(script), f"http://127.0.0.1:{port}{PATH}", "--", str(threads)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stderr or result.stdout}")
    line = next(row for row in result.stdout.splitlines() if row.startswith("{"))
    return json.loads(line)


def load_with_python(
    port: int, load: list[tuple[str, bytes]], seconds: float, connections: int
) -> dict:
    """The same load from threads with http.client keep-alive (when wrk is missing)."""
    latencies: list[float] = []
    errors = [0, 0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    wrapped = [0]

    def client(index: int) -> None:
        mine = load[index::connections]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        local, position = [], 0
        while time.monotonic() < stop:
            if position == len(mine):
                position, wrapped[0] = 0, wrapped[0] + 1
            sig, body = mine[position]
            position += 1
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": sig,
            }
            started = time.perf_counter()
            try:
                conn.request("POST", PATH, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    errors[1] += 1
            except OSError:
                errors[0] += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                continue
            local.append(time.perf_counter() - started)
        with lock:
            latencies.extend(local)

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies.sort()

    def pct(p: float) -> int:
        return int(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1e6)

    return {
        "requests": len(latencies) + errors[1],
        "seconds": elapsed,
        "p50": pct(0.50),
        "p99": pct(0.99),
        "max": int(latencies[-1] * 1e6),
        "errors": errors[0],
        "status_errors": errors[1],
        "wrapped": wrapped[0],
    }


# ---------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def gunicorn(spec: str, env: dict[str, str], chdir: Path) -> Iterator[int]:
    """Serve `spec` with the shared gunicorn settings; yields the port once it answers."""
    port = free_port()
    binary = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen(
        [binary, *GUNICORN, "-b", f"127.0.0.1:{port}", "--chdir", str(chdir), spec],
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"gunicorn for {spec} did not start") from None
                time.sleep(0.2)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def fake_twilio_process() -> Iterator[str]:
    """The fake Twilio API in its own process (so it does not share the client's GIL)."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve-fake-twilio"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


def serve_fake_twilio() -> None:
    # It stands for Twilio's servers, which are not on our machine: lowest CPU priority, so
    # that its work is done in the cores' spare time rather than counted against ours.
    os.nice(19)
    with make_fake_twilio() as fake:
        print(fake.url, flush=True)
        threading.Event().wait()  # until terminated


# -------------------------------------------------------------------------- breakdown


def breakdown(folder: Path, count: int = 1200) -> dict[str, float]:
    """Milliseconds per message in one process, no HTTP: a bare Flask request, the webhook
    (signature, form, Inbound, the inbox insert) and the worker's turn for it."""
    from flask import Flask
    from werkzeug.test import EnvironBuilder

    from bot.messaging.courier import Courier
    from conversations.inbox import InboxProcessor
    from webhooks.app import create_app

    url = f"sqlite:///{folder / 'breakdown.db'}"
    app = create_app(
        {
            "DATABASE_URL": url,
            "BUSINESS_CONFIG": str(ROOT / "business.toml"),
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "SLOTBOT_PUBLIC_URL": PUBLIC,
            "SLOTBOT_OWNER_KEY": BENCH_OWNER_KEY,
        }
    )
    db = app.extensions["slotbot.db"]
    worker = InboxProcessor(db, Courier(db, {}, enabled=False))
    environs = []
    for sig, body in signed_requests(count + 400):
        builder = EnvironBuilder(
            path=PATH,
            method="POST",
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers={"X-Twilio-Signature": sig},
        )
        environs.append(builder.get_environ())

    def call(wsgi: object, environ: dict) -> None:
        environ["wsgi.input"].seek(0)
        b"".join(wsgi(environ, lambda *_: None))  # type: ignore[operator]

    try:
        for environ in environs[:400]:
            call(app.wsgi_app, environ)
        worker.run_pending()
        started = time.perf_counter()
        for environ in environs[400:]:
            call(app.wsgi_app, environ)
        webhook = time.perf_counter() - started
        started = time.perf_counter()
        turns = worker.run_pending()
        turn = time.perf_counter() - started
    finally:
        db.dispose()
    assert turns == count, f"the worker handled {turns} of {count}"
    hello = Flask("hello")
    hello.post(PATH)(lambda: "hello")
    started = time.perf_counter()
    for environ in environs[400:]:
        call(hello.wsgi_app, environ)
    bare = time.perf_counter() - started
    return {
        "bare": bare / count * 1000,
        "webhook": webhook / count * 1000,
        "turn": turn / count * 1000,
    }


# ---------------------------------------------------------------------------- the worker


@contextmanager
def slotbot_worker(env: dict[str, str]) -> Iterator[None]:
    """`slotbot worker` in its own process, as `slotbot serve` starts it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "webhooks.cli", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def counts(db: Database) -> tuple[int, int, int]:
    """(messages handled, replies queued, replies sent) so far."""
    with db.read() as session:
        handled = session.scalar(
            select(func.count())
            .select_from(InboundMessage)
            .where(InboundMessage.handled_at.is_not(None))
        )
        queued = session.scalar(select(func.count()).select_from(OutboxMessage))
        sent = session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == SENT)
        )
    return int(handled or 0), int(queued or 0), int(sent or 0)


def drained(db: Database, timeout: float = 900) -> float:
    """Wait until every recorded message is handled and every reply sent; the time it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if backlog(db).count == 0:
            handled, queued, sent = counts(db)
            if queued == sent:
                return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"the worker did not empty the inbox within {timeout:.0f} s")


# ------------------------------------------------------------------------------- main


def run(args: argparse.Namespace) -> None:
    tool = args.tool or ("wrk" if shutil.which("wrk") else "python")
    load = signed_requests(args.requests)
    warmup = signed_requests(400)
    rows = []
    with tempfile.TemporaryDirectory() as tmp, fake_twilio_process() as twilio_url:
        folder = Path(tmp)
        url = args.database or f"sqlite:///{folder / 'bench.db'}"
        upgrade(url)
        db = Database(url)
        apply_config(db, load_config(ROOT / "business.toml"))
        (folder / "hello.py").write_text(HELLO_APP)

        def measure(
            port: int, requests: list[tuple[str, bytes]], seconds: float, connections: int = 0
        ) -> dict:
            connections = connections or args.connections
            if tool == "wrk":
                return load_with_wrk(port, requests, seconds, connections, folder)
            return load_with_python(port, requests, seconds, connections)

        base_env = {
            k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TELEGRAM_"))
        }
        with gunicorn("hello:app", base_env, folder) as port:
            measure(port, warmup, 2)
            rows.append(("bare Flask hello", measure(port, load, args.seconds)))

        env = (
            base_env
            | twilio_env_for(twilio_url)
            | {
                "SLOTBOT_DATABASE_URL": url,
                "SLOTBOT_CONFIG": str(ROOT / "business.toml"),
                "SLOTBOT_PUBLIC_URL": PUBLIC,
                # A public URL refuses the demo owner key: the bench brings its own.
                "SLOTBOT_OWNER_KEY": BENCH_OWNER_KEY,
            }
        )
        with slotbot_worker(env), gunicorn("webhooks.app:create_app()", env, ROOT) as port:
            measure(port, warmup, 3)
            drained(db)
            before = counts(db)
            result = measure(port, load, args.seconds)
            waiting_at_end = backlog(db).count
            during = counts(db)
            drain = drained(db)
            after = counts(db)
            # The same app unsaturated: one connection, one message at a time.
            single = measure(port, load[len(load) // 2 :], min(args.seconds, 5), 1)
            single_drain = drained(db)
        db.dispose()
        rows.append(("slotbot /twilio/sms (records; the worker handles)", result))
        rows.append(("slotbot /twilio/sms, 1 connection", single))

    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(
        f"\n{args.connections} connections, {args.seconds:.0f} s each, load from {tool}, "
        f"gunicorn {' '.join(GUNICORN[:6])}, slotbot on {backend} with `slotbot worker` "
        "beside it\n"
    )
    print("| app | requests | req/s | p50 ms | p99 ms | max ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        rate = r["requests"] / r["seconds"]
        print(
            f"| {label} | {r['requests']} | {rate:,.0f} | {r['p50'] / 1000:.1f} | "
            f"{r['p99'] / 1000:.1f} | {r['max'] / 1000:.1f} | "
            f"{r['errors'] + r['status_errors']} |"
        )
    hello, bot = rows[0][1], rows[1][1]
    ratio = (bot["requests"] / bot["seconds"]) / (hello["requests"] / hello["seconds"])
    print(f"\nslotbot / bare Flask = {ratio:.2f} (goal >= 0.25); p99 goal < 25 ms")
    turns = after[0] - before[0]
    print(
        f"\nThe worker: {turns} messages handled and {after[2] - before[2]} replies sent for "
        f"the {bot['requests']} webhooks (repeats deduplicated). During the load it handled "
        f"{during[0] - before[0]} (a flood keeps the web busy, and the worker gives way); "
        f"{waiting_at_end} were waiting when it stopped and the inbox was empty {drain:.1f} s "
        f"later: {(after[0] - during[0]) / max(drain, 1e-9):,.0f} turns/s. After the "
        f"1-connection run the last reply went {single_drain:.2f} s after the last webhook."
    )
    cost = breakdown(Path(tempfile.mkdtemp()))
    print(
        f"\nCPU per message in one process, no HTTP: bare Flask {cost['bare']:.3f} ms; "
        f"slotbot webhook {cost['webhook']:.3f} ms (signature, form, Inbound, inbox insert); "
        f"the worker's turn {cost['turn']:.2f} ms (engine, outbox)"
    )
    if bot["wrapped"]:
        print(
            f"note: the pre-signed requests ran out; {bot['wrapped']} passes repeated them "
            "(repeats are deduplicated, cheaper than new messages)"
        )


def _flood_writes(url: str, stop: Any, writes: Any) -> None:
    """A web process writing a webhook's insert every half millisecond until `stop`."""
    web = Database(url)
    assert web.writer_lock is not None
    while not stop.is_set():
        with web.writer_lock.held():
            writes.value += 1
        pause = time.perf_counter() + 0.0005
        while time.perf_counter() < pause:  # spin: time.sleep oversleeps on a busy machine
            pass
    web.dispose()


def give_way(samples: int) -> None:
    """Print how long a background (worker) write waits for the lock: quiet, flooded, calm."""
    import multiprocessing

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/busy.db"
        worker = Database(url, background=True)
        lock = worker.writer_lock
        assert lock is not None

        def enter_ms() -> float:
            started = time.perf_counter()
            with lock.held():
                return (time.perf_counter() - started) * 1000

        quiet = [enter_ms() for _ in range(samples)]
        context = multiprocessing.get_context("fork")
        stop, writes = context.Event(), context.Value("i", 0)
        web = context.Process(target=_flood_writes, args=(url, stop, writes))
        web.start()
        try:
            while writes.value < 10:  # the web process is flooding
                time.sleep(0.001)
            started, before = time.perf_counter(), writes.value
            flooded: list[float] = []
            while time.perf_counter() - started < 2.0 or len(flooded) < samples:
                flooded.append(enter_ms())
                time.sleep(0.001)  # a turn's pause between writes: the web gets the CPU too
            rate = (writes.value - before) / (time.perf_counter() - started)
        finally:
            stop.set()
            web.join()
        time.sleep(lock.QUIET)
        calm = [enter_ms() for _ in range(samples)]
        worker.dispose()
    print(f"WriterLock: GIVE_WAY {lock.GIVE_WAY * 1000:.0f} ms, QUIET {lock.QUIET * 1000:.0f} ms\n")
    print("| the web is | samples | p50 ms | max ms |")
    print("|---|---:|---:|---:|")
    rows = (("quiet", quiet), (f"flooding ({rate:,.0f} writes/s)", flooded), ("calm again", calm))
    for name, waits in rows:
        ordered = sorted(waits)
        print(f"| {name} | {len(waits)} | {ordered[len(ordered) // 2]:.2f} | {ordered[-1]:.2f} |")


def twilio_env_for(url: str) -> dict[str, str]:
    """TWILIO_* pointing the senders (and the signature check) at the fake API."""
    from tests.fakes.twilio_api import FakeTwilio

    env = twilio_env(FakeTwilio(url=url))
    env["TWILIO_AUTH_TOKEN"] = AUTH_TOKEN
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, default=60000, help="pre-signed messages")
    parser.add_argument("--database", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--tool", choices=("wrk", "python"), default=None)
    parser.add_argument("--give-way", action="store_true", help="only the writer lock's waits")
    parser.add_argument("--serve-fake-twilio", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake_twilio:
        serve_fake_twilio()
        return
    if args.give_way:
        give_way(samples=20)
        return
    run(args)


if __name__ == "__main__":
    main()
