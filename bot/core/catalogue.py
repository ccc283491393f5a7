"""Loading the reply catalogues: the shipped one for the business's locale, the owner's rewording.

The texts themselves are written through `bot.core.text` (`_`, `t`, `nt`, `N_`); `pybabel extract`
collects them into `bot/locale/messages.pot` and each language has
`bot/locale/<lang>/LC_MESSAGES/slotbot.po`. Nothing is compiled at install: the `.po` files
are read and compiled in memory at start (they are small), so an edited catalogue takes effect
on the next restart without a build step. An owner rewords texts in one file, `texts.po` next
to business.toml (a copy of messages.pot with `msgstr`s filled in for the texts to change);
its entries win over the shipped catalogue, and everything else falls back to it and then to
the source text.
"""

from __future__ import annotations

import gettext
import io
import logging
import string
from collections.abc import Iterator
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.core.text import DOMAIN, LOCALE_DIR, use_translations

OWNER_CATALOGUE = "texts.po"  # next to business.toml

log = logging.getLogger(__name__)


def read_catalogue(path: Path, locale: str | None = None) -> Catalog:
    """The `.po` (or `.pot`) file at `path` as a Babel catalogue."""
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale, domain=DOMAIN)


# The shipped catalogue compiled, by file and version: parsing a .po is the slow part of a
# start, and every app a process builds (the tests build thousands) reads the same one.
_SHIPPED: dict[tuple[Path, int, int], gettext.GNUTranslations] = {}


def _shipped_translations(path: Path) -> gettext.GNUTranslations:
    """The shipped catalogue at `path` compiled, read again only when the file changes."""
    stat = path.stat()
    key = (path, stat.st_mtime_ns, stat.st_size)
    if key not in _SHIPPED:
        _SHIPPED[key] = compile_catalogue(read_catalogue(path))
    return _SHIPPED[key]


def compile_catalogue(catalog: Catalog) -> gettext.GNUTranslations:
    """`catalog` compiled in memory into translations gettext can read."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _candidates(locale: str) -> list[str]:
    """The catalogue folders to try for `locale`, most specific first ("en_US", "en")."""
    try:
        parsed = Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return [locale]
    names = [str(parsed)]
    if parsed.territory:
        names.append(parsed.language)
    return names


def shipped_catalogue(locale: str) -> Path | None:
    """The shipped `.po` for `locale` (or its language), or None when there is none."""
    for name in _candidates(locale):
        path = LOCALE_DIR / name / "LC_MESSAGES" / f"{DOMAIN}.po"
        if path.is_file():
            return path
    return None


def placeholders(text: str) -> set[str]:
    """The `str.format` names in `text` ("{when:%H}" and "{a.b}" give when and a; "{}" gives "")."""
    return {
        field.split(".")[0].split("[")[0]
        for _literal, field, _spec, _conversion in string.Formatter().parse(text)
        if field is not None
    }


def _broken_entries(catalog: Catalog) -> Iterator[tuple[Message, str]]:
    """Each entry whose words cannot be filled the way the code fills its text, and why."""
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
        words = message.string if isinstance(message.string, tuple | list) else [message.string]
        known = set().union(*(placeholders(msgid) for msgid in ids))
        if len(ids) > 1:
            known.add("n")  # nt() passes the count
        for text in filter(None, words):
            try:
                unknown = placeholders(text) - known
            except ValueError as error:
                yield message, f"{error} in {text!r}"
                continue
            if unknown:
                names = ", ".join("{" + name + "}" for name in sorted(unknown))
                yield message, f"{text!r} uses {names}, which {ids[0]!r} has not"


def entry_problems(catalog: Catalog, source: str) -> list[str]:
    """One line per entry whose words cannot be filled the way the code fills its text.

    A translation may reorder or leave out the text's placeholders, never add one or use a
    positional "{}"; a broken brace is a problem too. Such an entry is never said.
    """
    return [f"{source}:{message.lineno}: {why}" for message, why in _broken_entries(catalog)]


def _without_broken_entries(catalog: Catalog, source: str) -> Catalog:
    """`catalog` with the entries `entry_problems` finds emptied (their text falls back)."""
    for message, why in list(_broken_entries(catalog)):
        log.warning("%s:%s: catalogue entry ignored: %s", source, message.lineno, why)
        plural = isinstance(message.string, tuple | list)
        message.string = ("",) * len(message.string) if plural else ""
    return catalog


def load_translations(locale: str, owner_catalogue: Path | None = None) -> gettext.NullTranslations:
    """The translations for `locale`: the owner's texts first, then the shipped catalogue.

    A locale without a shipped catalogue falls back to English, and a text no catalogue has
    to its source words.
    """
    shipped_path = shipped_catalogue(locale) or shipped_catalogue("en")
    # Shared, never changed: the owner's catalogue falls back to it, not the other way.
    translations: gettext.NullTranslations = (
        _shipped_translations(shipped_path) if shipped_path else gettext.NullTranslations()
    )
    if owner_catalogue is not None and owner_catalogue.is_file():
        owner = compile_catalogue(
            _without_broken_entries(read_catalogue(owner_catalogue), owner_catalogue.name)
        )
        owner.add_fallback(translations)
        translations = owner
    return translations


def owner_catalogue_for(config_path: str | Path) -> Path:
    """Where the owner's catalogue for the business.toml at `config_path` lives."""
    return Path(config_path).with_name(OWNER_CATALOGUE)


def install_translations(locale: str, config_path: str | Path | None = None) -> None:
    """Load the catalogues for `locale` (and the owner's beside `config_path`) for every reply."""
    owner = owner_catalogue_for(config_path) if config_path is not None else None
    use_translations(load_translations(locale, owner))
