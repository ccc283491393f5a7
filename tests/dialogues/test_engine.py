"""The engine under stress: concurrent messages, hostile input, a killed server."""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from bot.config import apply_config, load_config
from bot.messaging.messages import Inbound
from conversations.engine import APOLOGY, Engine
from conversations.flows.draft import BookingDraft
from storage.db import Database
from storage.models import Conversation, InboundMessage
from tests.conftest import DEMO_CONFIG, ROOT
from tests.factories import local

NOW = local("2026-11-16 10:00")


@pytest.fixture
def salon(db: Database) -> Database:
    apply_config(db, load_config(DEMO_CONFIG))
    return db


def test_two_messages_from_one_sender_at_once_are_both_handled_in_order(salon):
    engine = Engine(salon, clock=lambda: NOW)
    # Create the conversation first, so both messages race for its lock.
    engine.handle(Inbound(channel="web", sender="racer-0001", text="hi"))
    # The second message arrives while the first one's turn holds the person's conversation
    # (an event, not a head start in milliseconds: the order must not depend on the machine).
    first_holds_it = threading.Event()
    first_ident: list[int] = []

    def watch(_conn, _cursor, statement, *_args) -> None:
        # On PostgreSQL that SELECT locks the row (FOR UPDATE); on SQLite the turn's write
        # transaction holds the database's write lock from its start.
        if threading.get_ident() in first_ident and "FROM conversation" in statement:
            first_holds_it.set()

    replies: dict[str, list] = {}

    def send(text: str, first: bool) -> None:
        if first:
            first_ident.append(threading.get_ident())
        else:
            assert first_holds_it.wait(60)
        replies[text] = engine.handle(Inbound(channel="web", sender="racer-0001", text=text))

    event.listen(salon.engine, "after_cursor_execute", watch)
    try:
        first = threading.Thread(target=send, args=("book a haircut", True))
        second = threading.Thread(target=send, args=("with sam", False))
        first.start(), second.start()
        first.join(), second.join()
    finally:
        event.remove(salon.engine, "after_cursor_execute", watch)
    assert replies["book a haircut"] and replies["with sam"]
    assert all(APOLOGY not in r.text for rs in replies.values() for r in rs)
    with salon.read() as session:
        conversation = session.scalars(select(Conversation)).one()
        texts = session.scalars(select(InboundMessage.text).order_by(InboundMessage.id)).all()
    assert texts == ["hi", "book a haircut", "with sam"]
    assert conversation.version == 3
    # "with sam" was read after "book a haircut": Sam chosen, now asking when.
    assert (conversation.flow, conversation.step) == ("book", "when")
    assert BookingDraft.read(conversation.data).staff == "sam"


def test_first_messages_from_a_new_sender_at_once_both_get_answers(salon):
    engine = Engine(salon, clock=lambda: NOW)
    barrier = threading.Barrier(4)
    results: list[list] = []

    def send(i: int) -> None:
        barrier.wait()
        results.append(engine.handle(Inbound(channel="sms", sender="+12125550999", text=f"hi {i}")))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4 and all(r and APOLOGY not in r[0].text for r in results)
    with salon.read() as session:
        assert session.scalar(select(Conversation.version)) == 4


HOSTILE = [
    "",
    " ",
    "\x00\x01\x02",
    "'; DROP TABLE appointment; --",
    "<script>alert(1)</script>",
    "مرحبا، أريد حجز موعد غدا",
    "שלום אני רוצה תור",
    "我想明天预约理发",
    "Je voudrais un rendez-vous demain à 15h",
    "🙂🙂🙂💇‍♀️💈",
    "\u202eevil rtl override",
    "A" * 10_000,
    "1" * 300,
    "stop stop",
    "99999999999999999999",
    "slot:999",
    "null",
    '{"json": true}',
]

_counter = itertools.count()


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    from tests.conftest import fresh_database_url

    url = next(fresh_database_url("sqlite", tmp_path_factory.mktemp("fuzz")))
    database = Database(url)
    apply_config(database, load_config(DEMO_CONFIG))
    return database


@settings(
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.text(min_size=2000, max_size=10_000),
        st.sampled_from(HOSTILE),
        st.text(alphabet=st.characters(codec="utf-8"), max_size=100),
    ),
    option=st.one_of(st.none(), st.text(max_size=64), st.sampled_from(["slot:0", "appt:1:move"])),
    step=st.integers(min_value=0, max_value=3),
)
def test_random_and_hostile_input_is_always_answered(fuzz_db, text, option, step):
    engine = Engine(fuzz_db, clock=lambda: NOW)
    sender = f"fuzz-{next(_counter):06d}"
    # Put some senders mid-dialogue first, so hostile input hits every state.
    for opener in ["book a haircut", "with sam", "tomorrow"][:step]:
        engine.handle(Inbound(channel="web", sender=sender, text=opener))
    replies = engine.handle(Inbound(channel="web", sender=sender, text=text, option_id=option))
    stopped = text.strip().lower().rstrip("!.") in {
        "stop",
        "stopall",
        "unsubscribe",
        "end",
        "quit",
        "optout",
        "revoke",
    }
    assert replies or stopped
    assert all(APOLOGY not in r.text for r in replies)
    assert all(len(r.text) < 2000 for r in replies)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(port: int, payload: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/chat",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _start_server(port: int, database: str) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "webhooks.cli",
            "--config",
            str(DEMO_CONFIG),
            "--database",
            database,
            "serve",
            "--no-worker",
            "--workers",
            "1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not start")


@pytest.mark.slow
def test_a_dialogue_resumes_after_the_server_is_killed(tmp_path: Path):
    database = f"sqlite:///{tmp_path / 'restart.db'}"
    port = _free_port()
    server = _start_server(port, database)
    try:
        session = "restart-test-1"
        first = _post(port, {"session": session, "text": "haircut with sam on friday"})
        assert any("Here's what I have" in m["text"] for m in first["messages"])
        os.killpg(server.pid, signal.SIGKILL)  # no goodbye, no flush
        server.wait(timeout=10)
        server = _start_server(port, database)
        second = _post(port, {"session": session, "text": "2", "after": first["after"]})
        (reply,) = [m["text"] for m in second["messages"]]
        assert reply.startswith("Great: Haircut with Sam, Fri, ")  # option 2 of that list
        assert reply.endswith("is free. What name should I put the booking under?")
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    check = Database(database)
    with check.read() as db_session:
        assert db_session.scalar(select(func.count()).select_from(InboundMessage)) == 2
    check.dispose()


def test_a_non_ascii_digit_is_not_taken_for_an_option_number(salon):
    engine = Engine(salon, clock=lambda: NOW)
    engine.handle(Inbound(channel="sms", sender="+12125550888", text="book a haircut"))
    for odd in ("²", "٢", "𝟐"):
        replies = engine.handle(Inbound(channel="sms", sender="+12125550888", text=odd))
        assert replies and all(APOLOGY not in r.text for r in replies)


@pytest.mark.slow
def test_links_point_at_the_port_the_server_listens_on_without_a_public_url(tmp_path: Path):
    database = f"sqlite:///{tmp_path / 'links.db'}"
    port = _free_port()
    server = _start_server(port, database)
    try:
        session = "links-test-1"
        texts: list[str] = []
        after = None
        text = "a colour next week please, I'm Jane Doe"
        for _ in range(5):  # take the first time offered, then say yes
            payload = {"session": session, "text": text}
            if after:
                payload["after"] = after
            answer = _post(port, payload)
            after = answer["after"]
            texts += [m["text"] for m in answer["messages"]]
            if any("/pay/" in t for t in texts):
                break
            text = "yes" if "Shall I book" in " ".join(texts[-3:]) else "1"
        links = [word for t in texts for word in t.split() if "/pay/" in word]
        assert links, texts
        assert all(link.startswith(f"http://127.0.0.1:{port}/pay/") for link in links), links
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
