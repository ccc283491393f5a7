"""Turning a channel-neutral `Reply` into text for channels without buttons (SMS, WhatsApp).

Options become lines with a key to reply with ("1. Yes, book it … Reply 1 or 2"); a
reminder's confirm / reschedule / cancel get the letters C, R and X people expect. SMS is
forced into the GSM-7 alphabet: one curly quote or emoji would switch the whole message to
UCS-2 and cut a part from 160 characters to 70. Inline files (.ics, PDF) cannot travel by
SMS or WhatsApp: they become a signed link when slotbot has a public URL, else they are left
out and the text stands alone. `fit` keeps a message within a channel's length limit by
cutting the prose first: links and reply keys are what the reader acts on.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

from itsdangerous import BadSignature, URLSafeSerializer

from bot.core.text import _, nt, t
from bot.messaging.messages import Attachment, Option

# Letters for well-known answers; any other set of options is numbered.
REPLY_LETTERS = {"confirm": "C", "reschedule": "R", "cancel": "X"}

_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = "^{}\\[~]|€\f"  # each costs two septets
_GSM = frozenset(_GSM_BASIC + _GSM_EXTENDED)
_LOOKALIKES = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u2022": "-",
    "\u00a0": " ",
    "\u202f": " ",
    "\u2009": " ",
    "\t": " ",
}
SMS_MAX_SEPTETS = 4 * 153  # four parts at most: a longer text is cut, never sent as a novel
WHATSAPP_MAX_CHARS = 1600  # Twilio's limit for any message body (error 21617)
_MIN_PROSE = 40  # below this much room for the text, links give way to it instead
_ATTACHMENT_SALT = "outbox-attachment"


def reply_keys(options: Sequence[Option]) -> list[str]:
    """What a person types to choose each option: C/R/X for reminder answers, else 1, 2, 3."""
    letters = [REPLY_LETTERS.get(option.id) for option in options]
    if options and all(letters) and len(set(letters)) == len(letters):
        return [letter for letter in letters if letter]
    return [str(number) for number in range(1, len(options) + 1)]


def reply_map(options: Sequence[Option]) -> dict[str, str]:
    """Typed answer (lowercase key or label) → option id, for whoever reads the reply."""
    answers: dict[str, str] = {}
    for key, option in zip(reply_keys(options), options, strict=True):
        answers[key.lower()] = option.id
        answers.setdefault(option.label.strip().lower(), option.id)
    return answers


def _spoken_list(keys: Sequence[str]) -> str:
    if len(keys) == 1:
        return keys[0]
    return t("{first} or {last}", first=', '.join(keys[:-1]), last=keys[-1])


def options_text(options: Sequence[Option]) -> str:
    """The options as lines plus "Reply 1, 2 or 3"; empty when there are none.

    Options that are only their own key (a 1-5 score) are not listed: the message text
    already says how to answer.
    """
    keys = reply_keys(options)
    lines = [f"{key}. {o.label}" for key, o in zip(keys, options, strict=True) if o.label != key]
    if not lines:
        return ""
    return "\n".join([*lines, t("Reply {keys}", keys=_spoken_list(keys))])


def compose(text: str, options: Sequence[Option], extra_lines: Sequence[str] = ()) -> str:
    """The full text of a message for a channel without buttons."""
    parts = [text.strip(), *extra_lines, options_text(options)]
    return "\n".join(part for part in parts if part)


def to_gsm7(text: str) -> str:
    """`text` in the GSM-7 alphabet: look-alikes replaced, accents dropped, emoji removed."""
    out: list[str] = []
    for char in text:
        char = _LOOKALIKES.get(char, char)
        if all(c in _GSM for c in char):
            out.append(char)
            continue
        # "ç" → "c", "ō" → "o"; an emoji or a CJK character has no base letter and goes.
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if c in _GSM and c.isprintable()
        )
        out.append(base)
    lines = [" ".join(line.split()) for line in "".join(out).split("\n")]
    return "\n".join(lines).strip()


def gsm7_length(text: str) -> int:
    """Septets `text` takes in GSM-7 (extended characters count twice)."""
    return sum(2 if char in _GSM_EXTENDED else 1 for char in text)


def sms_segments(text: str) -> int:
    """How many SMS parts a GSM-7 text needs (160 alone, 153 each when split)."""
    length = gsm7_length(text)
    return 1 if length <= 160 else -(-length // 153)


def shorten(text: str, limit: int, *, gsm: bool = True) -> str:
    """`text` cut at a word boundary to fit `limit` (septets, or characters), ending "..."."""
    size = gsm7_length if gsm else len
    if size(text) <= limit:
        return text
    cut = text[:limit]  # every character costs at least one
    while cut and size(cut) + 3 > limit:
        space = cut.rfind(" ")
        cut = cut[:space] if space > 0 else cut[:-1]
    return cut.rstrip() + "..."


def fit(
    text: str,
    options: Sequence[Option],
    extra_lines: Sequence[str],
    limit: int,
    *,
    gsm: bool,
) -> str:
    """`compose(...)` within `limit` (septets when `gsm`, else characters), cutting the text first.

    The extra lines (links) and the options are kept whole while the text keeps at least a
    little room; past that, trailing links are dropped and counted ("+2 more links not
    shown"). For SMS the result is in GSM-7.
    """
    clean: Callable[[str], str] = to_gsm7 if gsm else str.strip
    size: Callable[[str], int] = gsm7_length if gsm else len
    full = clean(compose(text, options, extra_lines))
    if size(full) <= limit:
        return full
    kept = list(extra_lines)
    while True:
        dropped = len(extra_lines) - len(kept)
        note = [nt("(+{n} more link not shown)", "(+{n} more links not shown)", dropped)] if dropped else []
        tail = clean(compose("", options, [*kept, *note]))
        room = limit - size(tail) - 1  # the newline between text and tail
        if room >= _MIN_PROSE or not kept:
            break
        kept.pop()
    head = shorten(clean(text), max(room, 0), gsm=gsm) if room > 3 else ""
    return shorten(clean(compose(head, options, [*kept, *note])), limit, gsm=gsm)


def attachment_token(secret: str, message_id: int, index: int) -> str:
    """A signed, URL-safe token naming one inline attachment of one outbox message."""
    return str(URLSafeSerializer(secret, salt=_ATTACHMENT_SALT).dumps([message_id, index]))


def read_attachment_token(secret: str, token: str) -> tuple[int, int] | None:
    """The (message id, attachment index) a token names; None if forged or malformed."""
    try:
        value = URLSafeSerializer(secret, salt=_ATTACHMENT_SALT).loads(token)
    except BadSignature:
        return None
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        return value[0], value[1]
    return None


def _describe(attachment: Attachment) -> str:
    if attachment.content_type == "text/calendar":
        return _("Add to calendar")
    if attachment.content_type == "application/pdf":
        return _("PDF")
    return _("File")


def attachment_parts(
    message_id: int,
    attachments: Sequence[Attachment],
    *,
    public_url: str | None,
    secret: str | None,
) -> tuple[list[str], list[str]]:
    """(media URLs, text lines) for a channel that carries only links and hosted media.

    A file with a URL travels as media. An inline file becomes a line with a signed link to
    `{public_url}/outbox/files/{token}/{filename}` when both are configured; else it is left
    out (the text says what matters).
    """
    media: list[str] = []
    lines: list[str] = []
    for index, attachment in enumerate(attachments):
        if attachment.url:
            media.append(attachment.url)
        elif attachment.data is not None and public_url and secret:
            token = attachment_token(secret, message_id, index)
            name = attachment.filename or "file"
            lines.append(f"{_describe(attachment)}: {public_url}/outbox/files/{token}/{name}")
    return media, lines
