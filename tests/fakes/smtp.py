"""A local SMTP server (aiosmtpd) that records what it receives and can refuse on demand.

    with make_fake_smtp() as smtp:
        smtp.refuse("bounce@example.com", 550)   # RCPT TO answered 550 (or 451 …)
        ...
        [message] = smtp.messages                # envelope + the parsed MIME message

`smtp_env(smtp)` gives the SMTP_* variables that point slotbot's email sender at it. With
`user`/`password` the server offers AUTH (plain text, no TLS: it is a test) and accepts only
those credentials.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

FROM = "Maple & Mane <hello@maplemane.example>"


@dataclass
class Received:
    """One message as delivered: the envelope and the parsed MIME message."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class FakeSMTP:
    """What the server received and which recipients it refuses."""

    host: str = "127.0.0.1"
    port: int = 0
    user: str | None = None
    password: str | None = None
    messages: list[Received] = field(default_factory=list)
    refusals: dict[str, tuple[int, str]] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def refuse(self, address: str, code: int = 550, text: str = "5.1.1 No such user") -> None:
        """Answer RCPT TO for `address` with `code`."""
        self.refusals[address.lower()] = (code, text)

    # --- aiosmtpd handler hooks ----------------------------------------------------------

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's naming
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        refusal = self.refusals.get(address.lower())
        if refusal is not None:
            return f"{refusal[0]} {refusal[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.original_content or envelope.content, policy=default)
        with self._lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        """Accept only the configured user and password."""
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            if login == self.user and password == self.password:
                self.logins.append(login)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


class _Controller(Controller):
    """aiosmtpd's Controller on a free port (it needs to know the port it got)."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@contextmanager
def make_fake_smtp(user: str | None = None, password: str | None = None) -> Iterator[FakeSMTP]:
    """Run the fake SMTP server on 127.0.0.1 for the duration of the block."""
    fake = FakeSMTP(user=user, password=password)
    options: dict[str, Any] = {}
    if user:
        options = {"authenticator": fake.authenticate, "auth_require_tls": False}
    controller = _Controller(fake, hostname="127.0.0.1", port=0, **options)
    controller.start()
    fake.port = controller.port
    try:
        yield fake
    finally:
        controller.stop()


def smtp_env(fake: FakeSMTP, **extra: str) -> dict[str, str]:
    """Environment variables that point slotbot's email sender at `fake`."""
    env = {
        "SMTP_HOST": fake.host,
        "SMTP_PORT": str(fake.port),
        "SMTP_FROM": FROM,
        "SMTP_STARTTLS": "0",
    }
    if fake.user and fake.password:
        env |= {"SMTP_USER": fake.user, "SMTP_PASSWORD": fake.password}
    return env | extra
