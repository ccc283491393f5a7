"""Reply texts through the gettext catalogue: `_()` translates a text, `t()` also fills it.

Every customer-, owner- and staff-facing text is written as a catalogue entry —
`t("Booked {service} with {staff}.", service=..., staff=...)`, or `_("Thanks!")` when it has
no placeholders, `nt(singular, plural, n, ...)` when it depends on a count — so that
`pybabel extract` finds it, an owner can reword it in one catalogue and a second language
is a translation, not a rewrite. Placeholders are `str.format` names, filled after the
translation is looked up (a translation may reorder them).
"""

from __future__ import annotations

import gettext
from pathlib import Path
from typing import Any

DOMAIN = "slotbot"
LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"

_translations: gettext.NullTranslations = gettext.NullTranslations()


def use_translations(translations: gettext.NullTranslations) -> None:
    """Make `translations` the catalogue every later `_()` and `t()` reads."""
    global _translations
    _translations = translations


def _(message: str) -> str:
    """`message` as the catalogue words it."""
    return _translations.gettext(message)


def t(message: str, /, **values: Any) -> str:
    """`message` as the catalogue words it, with its `{placeholders}` filled from `values`."""
    return _translations.gettext(message).format(**values)


def nt(singular: str, plural: str, n: int, /, **values: Any) -> str:
    """The singular or plural text for `n`, as the catalogue words it, filled (`{n}` is n)."""
    return _translations.ngettext(singular, plural, n).format(n=n, **values)


def N_(message: str) -> str:
    """Mark `message` for the catalogue without translating it yet (for tables of texts)."""
    return message
