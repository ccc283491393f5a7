"""SMS and WhatsApp through Twilio's REST API, with the real `twilio` SDK.

`TwilioSender` renders a `Reply` for a channel without buttons, sends it with
`Client.messages.create` and classifies what comes back: timeouts, connection errors, 5xx
and 429 are worth retrying (honouring Retry-After); 21610 means the recipient unsubscribed
(final, and their identity is marked opted out); 21211 and other 4xx are final.

Twilio's limits are kept before a request leaves: at most ten `MediaUrl` per message (the
rest travel as links in the text; WhatsApp takes one), a body within 1,600 characters with
the links kept whole (`render.fit`), and From and To on the same channel.

`SlotbotTwilioHttpClient` is the SDK's `TwilioHttpClient` with what it lacks: explicit
connect/read timeouts (it has none, so one stuck socket would stall a dispatcher for good),
a pooled session for plain http too, the response headers kept for Retry-After, and an API
base that can be rewritten ($TWILIO_API_BASE) so tests drive the real SDK against a local
fake server.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from bot.messaging.messages import SMS, WHATSAPP
from bot.messaging.senders.base import Outgoing, Sender, SendResult
from bot.messaging.senders.render import SMS_MAX_SEPTETS, WHATSAPP_MAX_CHARS, attachment_parts, fit

log = logging.getLogger(__name__)

# Twilio error codes that settle a message for good.
UNSUBSCRIBED = 21610  # the recipient replied STOP
INVALID_NUMBER = 21211
MAX_MEDIA = 10  # Twilio takes at most ten MediaUrl on one message (error 21623)
WHATSAPP_MAX_MEDIA = 1  # WhatsApp carries one media item per message
TEMPLATE_MAX_CHARS = 1024  # WhatsApp's limit for a template variable
# Errors of our own setup (bad credentials, a number we may not send from): a person can fix
# them, so they are retried with backoff until the attempts run out and the owner is told.
_SETUP_STATUSES = (401, 403)


@dataclass(frozen=True)
class TwilioSettings:
    """Credentials, sender numbers and endpoints, from the environment."""

    account_sid: str
    auth_token: str
    sms_from: str | None = None
    whatsapp_from: str | None = None
    messaging_service_sid: str | None = None
    api_base: str | None = None  # e.g. http://127.0.0.1:PORT for a fake server
    public_url: str | None = None  # slotbot's own public base URL (status callbacks, files)
    secret_key: str | None = None  # signs file links
    connect_timeout: float = 5.0
    read_timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TwilioSettings | None:
        """Settings from TWILIO_* and SLOTBOT_* variables; None without credentials."""
        sid, token = env.get("TWILIO_ACCOUNT_SID"), env.get("TWILIO_AUTH_TOKEN")
        if not sid or not token:
            return None
        public = (env.get("SLOTBOT_PUBLIC_URL") or "").rstrip("/") or None
        return cls(
            account_sid=sid,
            auth_token=token,
            sms_from=env.get("TWILIO_SMS_FROM") or None,
            whatsapp_from=env.get("TWILIO_WHATSAPP_FROM") or None,
            messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
            api_base=env.get("TWILIO_API_BASE") or None,
            public_url=public,
            secret_key=env.get("SLOTBOT_SECRET_KEY") or None,
            connect_timeout=float(env.get("TWILIO_CONNECT_TIMEOUT") or 5),
            read_timeout=float(env.get("TWILIO_READ_TIMEOUT") or 10),
        )


class SlotbotTwilioHttpClient(TwilioHttpClient):
    """TwilioHttpClient with timeouts, connection reuse, headers kept and a movable base."""

    def __init__(
        self,
        *,
        api_base: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        pool_size: int = 10,
    ) -> None:
        super().__init__(pool_connections=True, logger=logging.getLogger(f"{__name__}.http"))
        # The base class validates one number; requests also takes (connect, read).
        self.timeout: Any = (connect_timeout, read_timeout)
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size)
        assert self.session is not None
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.api_base = urlsplit(api_base.rstrip("/")) if api_base else None
        self._local = threading.local()
        # requests reads proxy variables from the whole environment on every request (a
        # third of a send's CPU); read them once, for the host we talk to, instead.
        self.session.trust_env = False
        self.proxy = get_environ_proxies(self._rebase("https://api.twilio.com/"))

    def _rebase(self, url: str) -> str:
        if self.api_base is None:
            return url
        parts = urlsplit(url)
        base = self.api_base
        return urlunsplit((base.scheme, base.netloc, base.path + parts.path, parts.query, ""))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        """Send one API request to the (maybe rewritten) base; remember the reply's headers."""
        self._local.headers = {}
        response = super().request(
            method,
            self._rebase(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        self._local.headers = dict(response.headers or {})
        return response

    def last_headers(self) -> dict[str, str]:
        """Headers of this thread's last response (empty after a network error)."""
        return dict(getattr(self._local, "headers", {}) or {})


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds, or an HTTP date) as seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _number(address: str) -> str:
    """The bare E.164 number of an sms or whatsapp address."""
    return address.removeprefix("whatsapp:").removeprefix("sms:")


class TwilioSender:
    """Sends one channel (sms or whatsapp) through a shared Twilio client."""

    def __init__(
        self, settings: TwilioSettings, channel: str, client: Client | None = None
    ) -> None:
        if channel not in (SMS, WHATSAPP):
            raise ValueError(f"Twilio sends sms and whatsapp, not {channel!r}")
        self.settings = settings
        self.channel = channel
        self.http = SlotbotTwilioHttpClient(
            api_base=settings.api_base,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
        )
        self.client = client or Client(
            settings.account_sid, settings.auth_token, http_client=self.http
        )

    # --- building the request ----------------------------------------------------------

    def _extras(self, message: Outgoing, max_media: int) -> tuple[list[str], list[str]]:
        """(media URLs, link lines): at most `max_media` media, the rest as links."""
        media, lines = attachment_parts(
            message.id,
            message.reply.attachments,
            public_url=self.settings.public_url,
            secret=self.settings.secret_key,
        )
        return media[:max_media], [*media[max_media:], *lines]

    def _common(self) -> dict[str, Any]:
        if self.settings.public_url:
            return {"status_callback": f"{self.settings.public_url}/twilio/status"}
        return {}

    def sms_params(self, message: Outgoing) -> dict[str, Any] | None:
        """The create() arguments for an SMS; None when no SMS sender is configured."""
        settings = self.settings
        if settings.sms_from:
            origin: dict[str, Any] = {"from_": _number(settings.sms_from)}
        elif settings.messaging_service_sid:
            origin = {"messaging_service_sid": settings.messaging_service_sid}
        else:
            return None
        media, lines = self._extras(message, MAX_MEDIA)
        text = fit(message.reply.text, message.reply.options, lines, SMS_MAX_SEPTETS, gsm=True)
        params = {"to": _number(message.address), "body": text}
        if media:
            params["media_url"] = media
        return {**params, **origin, **self._common()}

    def whatsapp_params(self, message: Outgoing) -> dict[str, Any] | SendResult:
        """The create() arguments for WhatsApp, or a final result when it cannot go."""
        settings = self.settings
        to = f"whatsapp:{_number(message.address)}"
        if settings.whatsapp_from:
            origin: dict[str, Any] = {"from_": f"whatsapp:{_number(settings.whatsapp_from)}"}
        else:
            origin = {"messaging_service_sid": settings.messaging_service_sid}
        if message.in_whatsapp_window():
            media, lines = self._extras(message, WHATSAPP_MAX_MEDIA)
            text = fit(
                message.reply.text, message.reply.options, lines, WHATSAPP_MAX_CHARS, gsm=False
            )
            params = {"to": to, "body": text}
            if media:
                params["media_url"] = media
            return {**params, **origin, **self._common()}
        media, lines = self._extras(message, 0)
        if message.whatsapp_outside_window == "template" and message.whatsapp_template:
            # Template variables may not hold newlines: the message goes as one line.
            flat = " ".join(
                fit(message.reply.text, (), lines, TEMPLATE_MAX_CHARS, gsm=False).split()
            )
            variables = json.dumps({"1": flat})
            return {
                "to": to,
                "content_sid": message.whatsapp_template,
                "content_variables": variables,
                **origin,
                **self._common(),
            }
        if not message.sms_fallback_allowed:
            return SendResult.final("outside WhatsApp's 24-hour window; SMS opted out")
        sms = self.sms_params(message)
        if sms is None:
            return SendResult.final("outside WhatsApp's 24-hour window and no SMS number")
        return sms

    # --- sending -----------------------------------------------------------------------

    def send(self, message: Outgoing) -> SendResult:
        """Send once through Twilio and classify the outcome."""
        params: dict[str, Any] | SendResult | None
        if self.channel == SMS:
            params = self.sms_params(message)
            if params is None:
                return SendResult.final("no TWILIO_SMS_FROM or messaging service configured")
        else:
            params = self.whatsapp_params(message)
        if isinstance(params, SendResult):
            return params
        try:
            created = self.client.messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            return self._classify(exc)
        except requests.Timeout:
            return SendResult.retry("timeout talking to Twilio")
        except requests.ConnectionError as exc:
            return SendResult.retry(f"connection error: {type(exc).__name__}")
        except requests.RequestException as exc:
            return SendResult.retry(f"HTTP error: {type(exc).__name__}")
        return SendResult.sent(str(created.sid))

    def _classify(self, exc: TwilioRestException | TwilioServiceException) -> SendResult:
        status = int(getattr(exc, "status", 0) or 0)
        code = getattr(exc, "code", None)
        text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or ""
        error = f"Twilio {status} ({code}): {text}".strip()
        if status == 429 or status >= 500:
            wait = retry_after_seconds(self.http.last_headers().get("Retry-After"))
            return SendResult.retry(error, retry_after=wait)
        if code == UNSUBSCRIBED:
            return SendResult.final(error, opted_out=True)
        if status in _SETUP_STATUSES:
            return SendResult.retry(error)
        return SendResult.final(error)


def twilio_senders(env: Mapping[str, str]) -> dict[str, Sender]:
    """Senders for sms and whatsapp when Twilio credentials and numbers are configured."""
    settings = TwilioSettings.from_env(env)
    if settings is None:
        return {}
    senders: dict[str, Sender] = {}
    if settings.sms_from or settings.messaging_service_sid:
        senders[SMS] = TwilioSender(settings, SMS)
    if settings.whatsapp_from or settings.messaging_service_sid:
        senders[WHATSAPP] = TwilioSender(settings, WHATSAPP)
    return senders
