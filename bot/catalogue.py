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
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.core.text import DOMAIN, LOCALE_DIR, use_translations

OWNER_CATALOGUE = "texts.po"  # next to business.toml


def read_catalogue(path: Path, locale: str | None = None) -> Catalog:
    """The `.po` (or `.pot`) file at `path` as a Babel catalogue."""
    with path.open("rb") as fileobj:
        return read_po(fileobj, locale=locale, domain=DOMAIN)


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


def load_translations(locale: str, owner_catalogue: Path | None = None) -> gettext.NullTranslations:
    """The translations for `locale`: the owner's texts first, then the shipped catalogue.

    A locale without a shipped catalogue falls back to English, and a text no catalogue has
    to its source words.
    """
    shipped_path = shipped_catalogue(locale) or shipped_catalogue("en")
    translations: gettext.NullTranslations = (
        compile_catalogue(read_catalogue(shipped_path))
        if shipped_path
        else gettext.NullTranslations()
    )
    if owner_catalogue is not None and owner_catalogue.is_file():
        owner = compile_catalogue(read_catalogue(owner_catalogue))
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
