"""Email over SMTP with the standard library: outbound only (confirmations, invoices, notes).

`EmailSender` turns a `Reply` into a multipart message — a plain-text part and an HTML
alternative, the .ics or PDF files attached — and hands it to the SMTP server configured
by SMTP_HOST, SMTP_PORT, SMTP_USER, SMTP_PASSWORD, SMTP_FROM and SMTP_STARTTLS (port 465
means implicit TLS). Errors are classified as the server states them: a 5xx refusal of the
recipient or the message is final; 4xx answers, refused connections and timeouts are
retried; a rejected login is retried until a person fixes it (like Twilio's 401).

Email is a channel without buttons and without a way back into the chat: options are left
out (the text must stand alone), and hosted files travel as links.
"""

from __future__ import annotations

import html
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

from bot.core.text import _
from bot.messaging.messages import EMAIL
from bot.messaging.senders.base import Outgoing, Sender, SendResult
from bot.messaging.senders.render import shorten

SUBJECT_MAX = 78


@dataclass(frozen=True)
class EmailSettings:
    """SMTP server, credentials and sender address, from the environment."""

    host: str
    sender: str  # the From header, e.g. "Maple & Mane <hello@maplemane.example>"
    port: int = 587
    user: str | None = None
    password: str | None = None
    starttls: bool = True
    implicit_tls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EmailSettings | None:
        """Settings from SMTP_* variables; None without SMTP_HOST and SMTP_FROM."""
        host, sender = env.get("SMTP_HOST"), env.get("SMTP_FROM")
        if not host or not sender:
            return None
        port = int(env.get("SMTP_PORT") or 587)
        default_tls = "1" if port == 587 else "0"
        return cls(
            host=host,
            sender=sender,
            port=port,
            user=env.get("SMTP_USER") or None,
            password=env.get("SMTP_PASSWORD") or None,
            starttls=(env.get("SMTP_STARTTLS") or default_tls).lower() in ("1", "true", "yes"),
            implicit_tls=port == 465,
            timeout=float(env.get("SMTP_TIMEOUT") or 10),
        )


def subject_for(text: str) -> str:
    """The first line of the text, cut at a word to fit a subject line."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return shorten(first, SUBJECT_MAX, gsm=False) or _("A message for you")


def build_email(settings: EmailSettings, message: Outgoing) -> EmailMessage:
    """The MIME message for one outbox row: text, HTML alternative, attachments."""
    reply = message.reply
    links = [a.url for a in reply.attachments if a.data is None and a.url]
    plain = "\n\n".join([reply.text.strip(), *links]).strip() + "\n"
    paragraphs = "".join(
        f"<p>{html.escape(part).replace(chr(10), '<br>')}</p>"
        for part in reply.text.strip().split("\n\n")
        if part.strip()
    )
    paragraphs += "".join(f'<p><a href="{html.escape(u)}">{html.escape(u)}</a></p>' for u in links)
    email = EmailMessage()
    email["From"] = settings.sender
    email["To"] = message.address
    email["Subject"] = subject_for(reply.text)
    email["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "slotbot.invalid"
    # Short enough never to be folded: it is the provider id we record.
    email["Message-ID"] = f"<slotbot.{message.id}.{secrets.token_hex(8)}@{domain}>"
    email.set_content(plain)
    email.add_alternative(
        f'<!doctype html><html><body style="font-family: sans-serif">{paragraphs}</body></html>',
        subtype="html",
    )
    for attachment in reply.attachments:
        if attachment.data is None:
            continue
        maintype, _, subtype = attachment.content_type.partition("/")
        email.add_attachment(
            attachment.data,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename or "file",
        )
    return email


def _valid_address(address: str) -> bool:
    try:
        Address(addr_spec=address)
    except (ValueError, IndexError):
        return False
    return "@" in address


def _classify(code: int, what: str) -> SendResult:
    error = f"SMTP {code}: {what}"
    return SendResult.final(error) if code >= 500 else SendResult.retry(error)


class EmailSender:
    """Sends the email channel through one SMTP server (a connection per message)."""

    def __init__(self, settings: EmailSettings) -> None:
        self.settings = settings

    def _connect(self) -> smtplib.SMTP:
        settings = self.settings
        if settings.implicit_tls:
            return smtplib.SMTP_SSL(
                settings.host,
                settings.port,
                timeout=settings.timeout,
                context=ssl.create_default_context(),
            )
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        if settings.starttls:
            smtp.starttls(context=ssl.create_default_context())
        return smtp

    def send(self, message: Outgoing) -> SendResult:
        """Send once and classify the outcome."""
        if not _valid_address(message.address):
            return SendResult.final(f"not an email address: {message.address!r}")
        email = build_email(self.settings, message)
        try:
            with self._connect() as smtp:
                if self.settings.user and self.settings.password:
                    smtp.login(self.settings.user, self.settings.password)
                smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return _classify(code, f"recipient refused: {_text(text)}")
        except smtplib.SMTPAuthenticationError as exc:
            return SendResult.retry(
                f"SMTP login refused ({exc.smtp_code}): {_text(exc.smtp_error)}"
            )
        except smtplib.SMTPResponseException as exc:
            return _classify(exc.smtp_code, _text(exc.smtp_error))
        except (smtplib.SMTPException, OSError) as exc:
            # Disconnected, refused, unreachable, timed out: the server may be back later.
            return SendResult.retry(f"SMTP connection problem: {type(exc).__name__}: {exc}")
        return SendResult.sent(str(email["Message-ID"]))


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def email_senders(env: Mapping[str, str]) -> dict[str, Sender]:
    """A sender for email when SMTP_HOST and SMTP_FROM are set."""
    settings = EmailSettings.from_env(env)
    if settings is None:
        return {}
    return {EMAIL: EmailSender(settings)}
