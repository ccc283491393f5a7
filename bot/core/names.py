"""Text from outside made safe to keep and to show: display names and message text.

A name a provider hands us (a WhatsApp ProfileName, a Telegram first name, a name typed in a
chat) ends up in owner notices, agendas, PDFs and email subjects. Bidi overrides
(U+202E shows what follows it right to left), zero-width and other invisible format
characters, and control characters are removed; runs of whitespace become one space; the
result is capped. `clean_display_name` is the one function every entry uses.

Message text keeps its characters, except the two no database can store: lone UTF-16
surrogates (JSON allows a "\\ud800" escape; UTF-8 cannot encode it) become U+FFFD, and NUL (which
PostgreSQL refuses in text) is dropped. `clean_text` does that.
"""

from __future__ import annotations

import re
import unicodedata

MAX_NAME = 80

# Lone surrogates and NUL: the characters a UTF-8 database cannot take.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(raw: str) -> str:
    """`raw` with lone surrogates replaced (U+FFFD) and NUL dropped: storable anywhere."""
    if not _UNSTORABLE.search(raw):
        return raw  # the common case costs one scan
    return _SURROGATE.sub("\ufffd", raw.replace("\x00", ""))


def _keep(char: str) -> str:
    if char.isspace():
        return " "  # tabs, newlines, NEL, line separators: collapsed below
    if unicodedata.category(char) in ("Cc", "Cf", "Cs"):
        return ""  # C0/C1 controls (NUL, BEL, ESC …), bidi and zero-width characters, BOM
    return char


def clean_display_name(raw: object, limit: int = MAX_NAME) -> str | None:
    """A display name safe to store and show, or None when nothing printable is left.

    Strips bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C), zero-width and
    other format characters and C0/C1 controls, collapses whitespace, caps at `limit`.
    """
    if not isinstance(raw, str):
        return None
    text = unicodedata.normalize("NFC", "".join(_keep(c) for c in raw))
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit].rstrip()
    return text or None
