"""Benchmark: signed Twilio SMS webhooks into slotbot under gunicorn, next to a bare Flask app.

Both apps run under the same gunicorn settings (2 workers, gthread, 4 threads each) and get
the same load: POSTs to /twilio/sms with unique MessageSids from 400 different senders
("hi", "my appointments", "what are your hours?", "thanks"), each signed with Twilio's own
`RequestValidator.compute_signature` for SLOTBOT_PUBLIC_URL, over 8 keep-alive connections
for a fixed time. The load comes from `wrk` when it is installed (`apt-get install wrk`),
else from Python threads with http.client keep-alive. slotbot serves the demo salon on a
fresh SQLite file (or `--database URL`), and its replies are kicked to a fake Twilio API
(`tests/fakes/twilio_api.py`) in another process — exactly as in production — unless
`--no-kick` leaves them to the scheduler's tick. Prints a Markdown table.

    .venv/bin/python bench/webhooks.py
    .venv/bin/python bench/webhooks.py --seconds 20 --database postgresql://postgres@127.0.0.1/test
    .venv/bin/python bench/webhooks.py --no-kick --tool python
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
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bot.config import apply_config, load_config  # noqa: E402
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
    with make_fake_twilio() as fake:
        print(fake.url, flush=True)
        threading.Event().wait()  # until terminated


# -------------------------------------------------------------------------- breakdown


def breakdown(folder: Path, count: int = 1200) -> dict[str, float]:
    """Milliseconds per request in one process, no HTTP: bare Flask, the whole webhook, and
    the engine's turn inside it (the rest is the webhook's own: signature, form, TwiML)."""
    from flask import Flask
    from werkzeug.test import EnvironBuilder

    import conversations.engine as engine_module
    from webhooks.app import create_app

    url = f"sqlite:///{folder / 'breakdown.db'}"
    app = create_app(
        {
            "DATABASE_URL": url,
            "BUSINESS_CONFIG": str(ROOT / "business.toml"),
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "SLOTBOT_PUBLIC_URL": PUBLIC,
            "SLOTBOT_KICK": "0",
        }
    )
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
    spent = [0.0]
    handle = engine_module.Engine.handle

    def timed(self: object, inbound: object) -> object:
        started = time.perf_counter()
        try:
            return handle(self, inbound)  # type: ignore[arg-type]
        finally:
            spent[0] += time.perf_counter() - started

    def call(wsgi: object, environ: dict) -> None:
        environ["wsgi.input"].seek(0)
        b"".join(wsgi(environ, lambda *_: None))  # type: ignore[operator]

    engine_module.Engine.handle = timed  # type: ignore[method-assign]
    try:
        for environ in environs[:400]:
            call(app.wsgi_app, environ)
        spent[0] = 0.0
        started = time.perf_counter()
        for environ in environs[400:]:
            call(app.wsgi_app, environ)
        whole = time.perf_counter() - started
    finally:
        engine_module.Engine.handle = handle  # type: ignore[method-assign]
        app.extensions["slotbot.db"].dispose()
    hello = Flask("hello")
    hello.post(PATH)(lambda: "hello")
    started = time.perf_counter()
    for environ in environs[400:]:
        call(hello.wsgi_app, environ)
    bare = time.perf_counter() - started
    return {
        "bare": bare / count * 1000,
        "webhook": whole / count * 1000,
        "engine": spent[0] / count * 1000,
    }


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
            rows.append(("bare Flask hello", measure(port, load, args.seconds), None))

        env = (
            base_env
            | twilio_env_for(twilio_url)
            | {
                "SLOTBOT_DATABASE_URL": url,
                "SLOTBOT_CONFIG": str(ROOT / "business.toml"),
                "SLOTBOT_PUBLIC_URL": PUBLIC,
                "SLOTBOT_KICK": "0" if args.no_kick else "1",
            }
        )
        with gunicorn("webhooks.app:create_app()", env, ROOT) as port:
            measure(port, warmup, 3)
            result = measure(port, load, args.seconds)
            # The same app unsaturated: one connection, one message at a time.
            single = measure(port, load[len(load) // 2 :], min(args.seconds, 5), 1)
        with db.read() as session:
            handled = session.scalar(select(func.count()).select_from(InboundMessage))
            sent = session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == SENT)
            )
            queued = session.scalar(select(func.count()).select_from(OutboxMessage))
        db.dispose()
        label = "slotbot /twilio/sms" + (" (no kick)" if args.no_kick else " + kick")
        rows.append((label, result, (handled, sent, queued)))
        rows.append((label.replace(" + kick", "") + ", 1 connection", single, None))

    backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(
        f"\n{args.connections} connections, {args.seconds:.0f} s each, load from {tool}, "
        f"gunicorn {' '.join(GUNICORN[:6])}, slotbot on {backend}\n"
    )
    print("| app | requests | req/s | p50 ms | p99 ms | max ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, r, _ in rows:
        rate = r["requests"] / r["seconds"]
        print(
            f"| {label} | {r['requests']} | {rate:,.0f} | {r['p50'] / 1000:.1f} | "
            f"{r['p99'] / 1000:.1f} | {r['max'] / 1000:.1f} | "
            f"{r['errors'] + r['status_errors']} |"
        )
    hello, bot = rows[0][1], rows[1][1]
    ratio = (bot["requests"] / bot["seconds"]) / (hello["requests"] / hello["seconds"])
    handled, sent, queued = rows[1][2] or (0, 0, 0)
    print(f"\nslotbot / bare Flask = {ratio:.2f} (goal >= 0.25); p99 goal < 25 ms")
    print(
        f"messages handled (incl. warm-up): {handled}; replies queued: {queued}, "
        f"sent by the kick before shutdown: {sent}"
    )
    cost = breakdown(Path(tempfile.mkdtemp()))
    print(
        f"\nCPU per request in one process, no HTTP: bare Flask {cost['bare']:.3f} ms; "
        f"slotbot webhook {cost['webhook']:.2f} ms = engine turn {cost['engine']:.2f} ms "
        f"+ the webhook's own {cost['webhook'] - cost['engine']:.2f} ms "
        "(signature, form, Inbound, TwiML)"
    )
    if bot["wrapped"]:
        print(
            f"note: the pre-signed requests ran out; {bot['wrapped']} passes repeated them "
            "(repeats are deduplicated, cheaper than new messages)"
        )


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
    parser.add_argument("--requests", type=int, default=20000, help="pre-signed messages")
    parser.add_argument("--database", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--no-kick", action="store_true", help="leave sending to the tick")
    parser.add_argument("--tool", choices=("wrk", "python"), default=None)
    parser.add_argument("--serve-fake-twilio", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake_twilio:
        serve_fake_twilio()
        return
    run(args)


if __name__ == "__main__":
    main()
