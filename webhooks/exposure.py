"""Safe defaults by exposure: what a server may do depends on whether the internet reaches it.

A server is *loopback* when its public URL's host is 127.0.0.0/8, ::1 or localhost — or,
with no SLOTBOT_PUBLIC_URL, when it binds a loopback address. Only there do the
conveniences of a fresh checkout stay on: the sandbox checkout (anyone with a pay link could
"pay" with it) and the demo owner key. Anywhere else the sandbox is off unless
SLOTBOT_PAYMENTS=sandbox says otherwise, and a known demo key stops the server from starting.

The owner keys: $SLOTBOT_OWNER_KEY when set (it replaces the others); else the key in
instance/owner-key (generated once by `slotbot serve`, kept out of git) and business.toml's
`owner_key`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from bot.config import DEMO_OWNER_KEYS, BusinessConfig

OWNER_KEY_ENV = "SLOTBOT_OWNER_KEY"
OWNER_KEY_FILE_ENV = "SLOTBOT_OWNER_KEY_FILE"
DEFAULT_OWNER_KEY_FILE = Path("instance") / "owner-key"
PAYMENTS_ENV = "SLOTBOT_PAYMENTS"
DEFAULT_BIND = "127.0.0.1"
ANY_BIND = "0.0.0.0"  # where a server whose bind address is not known may be listening


class Payments(StrEnum):
    """How pay links take money: Stripe, the local TEST MODE sandbox, or not online at all."""

    STRIPE = "stripe"
    SANDBOX = "sandbox"
    OFFLINE = "offline"


# SLOTBOT_PAYMENTS values: "sandbox" turns the sandbox on anywhere, "off" keeps it off.
_PAYMENT_CHOICES = {"sandbox": Payments.SANDBOX, "off": Payments.OFFLINE}


def is_loopback_host(host: str | None) -> bool:
    """Whether a host name or address is this machine only (127.0.0.0/8, ::1, localhost)."""
    if not host:
        return False
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def public_url_problem(public_url: str | None) -> str | None:
    """What is wrong with SLOTBOT_PUBLIC_URL, in one line (None: fine or unset).

    Providers sign and links point at this URL: a typo here makes every Twilio request a 403
    and every link a dead end, so it is refused at start rather than met mid-request.
    """
    if not public_url:
        return None
    try:
        parts = urlsplit(public_url)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return (
            f"SLOTBOT_PUBLIC_URL must be an http(s) URL like https://bot.example.com, "
            f"got {public_url!r}"
        )
    if parts.query or parts.fragment or port == 0:
        return f"SLOTBOT_PUBLIC_URL must be a plain base URL (no query or #), got {public_url!r}"
    return None


def is_loopback(public_url: str | None, bind_host: str | None = None) -> bool:
    """Whether the server is reachable from this machine only (see the module docstring)."""
    if public_url:
        return is_loopback_host(urlsplit(public_url).hostname)
    return is_loopback_host(bind_host or DEFAULT_BIND)


@dataclass(frozen=True)
class Exposure:
    """What a server is allowed, decided once at start from its settings."""

    loopback: bool
    payments: Payments
    owner_keys: tuple[str, ...]
    generated_key_file: Path | None = None
    # What payments fall back to whenever STRIPE_SECRET_KEY is not set (sandbox or offline).
    without_stripe: Payments = Payments.OFFLINE

    @property
    def demo_keys(self) -> list[str]:
        """The accepted owner keys that are known demo keys."""
        return [key for key in self.owner_keys if key in DEMO_OWNER_KEYS]

    def refusal(self) -> str | None:
        """Why this server must not start, in one line; None when it may."""
        if self.demo_keys and not self.loopback:
            return (
                f"the owner key {self.demo_keys[0]!r} is a published demo key and the public "
                "URL is not this machine: set SLOTBOT_OWNER_KEY (or business.owner_key) to a "
                "long random secret, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(24))'`"
            )
        return None

    def warnings(self) -> list[str]:
        """The loud start-up warnings (one line each)."""
        lines = []
        if self.payments is Payments.SANDBOX:
            lines.append(
                "WARNING: payments are in SANDBOX (TEST MODE): anyone with a pay link can mark "
                "an invoice paid without money. Set STRIPE_SECRET_KEY before real customers "
                f"pay ({PAYMENTS_ENV}=sandbox is for trials only)."
            )
        if self.demo_keys:
            lines.append(
                f"WARNING: the owner key {self.demo_keys[0]!r} is a demo key: accepted only "
                "because this server is on loopback; a public URL refuses it."
            )
        return lines


def payments_mode(env: Mapping[str, str], loopback: bool) -> Payments:
    """Stripe when STRIPE_SECRET_KEY is set; else the sandbox on loopback or when asked for."""
    if env.get("STRIPE_SECRET_KEY"):
        return Payments.STRIPE
    chosen = (env.get(PAYMENTS_ENV) or "").strip().lower()
    if chosen:
        if chosen not in _PAYMENT_CHOICES:
            choices = ", ".join(sorted(_PAYMENT_CHOICES))
            raise ValueError(f"{PAYMENTS_ENV} must be one of {choices}, got {chosen!r}")
        return _PAYMENT_CHOICES[chosen]
    return Payments.SANDBOX if loopback else Payments.OFFLINE


def owner_key_file(env: Mapping[str, str]) -> Path:
    """Where the generated owner key lives: $SLOTBOT_OWNER_KEY_FILE, else instance/owner-key."""
    return Path(env.get(OWNER_KEY_FILE_ENV) or DEFAULT_OWNER_KEY_FILE)


def read_key_file(path: Path) -> str | None:
    """The key stored in `path`, or None when there is none."""
    try:
        key = path.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return key or None


def generate_owner_key(path: Path) -> str | None:
    """Make a random owner key at `path` (0600) unless one is there; the new key, or None."""
    if read_key_file(path) is not None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


def owner_keys(env: Mapping[str, str], business: BusinessConfig, key_file: Path) -> tuple[str, ...]:
    """The keys that sign in as the owner, in order of preference."""
    override = (env.get(OWNER_KEY_ENV) or "").strip()
    if override:
        return (override,)
    keys = [read_key_file(key_file), business.owner_key]
    return tuple(dict.fromkeys(key for key in keys if key))


def decide(
    env: Mapping[str, str],
    business: BusinessConfig,
    *,
    public_url: str | None,
    bind_host: str | None = None,
    key_file: Path | None = None,
) -> Exposure:
    """The exposure of a server with these settings (ValueError for a bad SLOTBOT_PAYMENTS
    or SLOTBOT_PUBLIC_URL)."""
    problem = public_url_problem(public_url)
    if problem:
        raise ValueError(problem)
    loopback = is_loopback(public_url, bind_host)
    path = key_file or owner_key_file(env)
    no_key = {name: value for name, value in env.items() if name != "STRIPE_SECRET_KEY"}
    return Exposure(
        loopback=loopback,
        payments=payments_mode(env, loopback),
        owner_keys=owner_keys(env, business, path),
        generated_key_file=path,
        without_stripe=payments_mode(no_key, loopback),
    )
