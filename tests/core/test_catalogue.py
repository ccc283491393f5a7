"""The reply catalogues: messages.pot up to date with the source, every entry renders, and
the shipped English and an owner's rewording are what the replies read."""

from __future__ import annotations

import gettext
import string
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface

from bot.core import text
from bot.core.catalogue import (
    entry_problems,
    install_translations,
    load_translations,
    owner_catalogue_for,
    read_catalogue,
    shipped_catalogue,
)

ROOT = Path(__file__).resolve().parents[2]
POT = ROOT / "bot" / "locale" / "messages.pot"
CATALOGUES = sorted((ROOT / "bot" / "locale").glob("*/LC_MESSAGES/slotbot.po"))


def _ids(catalog: Catalog) -> set[tuple[str, ...]]:
    """Each entry's msgid (with its plural), the header left out."""
    return {
        tuple(message.id) if isinstance(message.id, tuple | list) else (message.id,)
        for message in catalog
        if message.id
    }


@pytest.fixture
def restored_translations() -> Iterator[None]:
    """Put back the process's catalogue after a test installs another."""
    before = text._translations
    yield
    text.use_translations(before)


def test_messages_pot_is_up_to_date_with_the_source(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    # The same extraction as `make catalogue`, in process (pyproject's [tool.babel] says which
    # files, relative to the checkout, and which keywords).
    CommandLineInterface().run(
        ["pybabel", "-q", "extract", "-F", str(ROOT / "pyproject.toml"), "--omit-header",
         "-o", str(fresh), str(ROOT)]
    )  # fmt: skip
    extracted, committed = _ids(read_catalogue(fresh)), _ids(read_catalogue(POT))
    assert extracted - committed == set(), "new texts: run `make catalogue` and commit"
    assert committed - extracted == set(), "texts gone from the source: run `make catalogue`"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda path: path.parts[-3])
def test_each_language_catalogue_has_every_text(po: Path) -> None:
    assert _ids(read_catalogue(po)) == _ids(read_catalogue(POT)), "run `make catalogue`"


class _Sample:
    """A placeholder's sample value: formats as a number or a word, has any attribute."""

    def __format__(self, spec: str) -> str:
        if "%" in spec:  # a strftime pattern: the value is a date or time
            return format(datetime(2026, 12, 5, 15, 0), spec)
        try:
            return format(3, spec)
        except ValueError:
            return format("sample", spec)

    def __str__(self) -> str:
        return "sample"

    def __getattr__(self, name: str) -> _Sample:
        return self

    def __getitem__(self, key: object) -> _Sample:
        return self


def _names(pattern: str) -> set[str]:
    """The placeholder names in a `str.format` pattern ("{when:%H}" and "{a.b}" give when, a)."""
    names = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(pattern):
        if field is not None:
            names.add(field.split(".")[0].split("[")[0])
    return names


def _render(pattern: str, allowed: set[str]) -> str:
    """`pattern` filled with samples by name only, as `t()` fills it (no positional values)."""
    values: dict[str, Any] = {name: _Sample() for name in allowed}
    return pattern.format(**values)


def _entries() -> Iterator[tuple[str, Message]]:
    for path in [POT, *CATALOGUES]:
        for message in read_catalogue(path):
            if message.id:
                yield path.relative_to(ROOT).as_posix(), message


def test_every_catalogue_entry_renders_with_sample_values() -> None:
    problems = []
    checked = 0
    for where, message in _entries():
        ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
        strings = message.string if isinstance(message.string, tuple | list) else [message.string]
        known = set().union(*(_names(msgid) for msgid in ids))
        if len(ids) > 1:
            known.add("n")  # nt() always passes the count
        for pattern in [*ids, *(s for s in strings if s)]:
            checked += 1
            try:
                _render(pattern, known)
            except (KeyError, IndexError, ValueError, AttributeError) as error:
                problems.append(f"{where}: {pattern!r}: {type(error).__name__}: {error}")
    assert not problems, "\n".join(problems)
    assert checked >= 1


def test_a_translation_may_not_ask_for_a_value_the_code_does_not_pass() -> None:
    with pytest.raises(KeyError):
        _render("Booked {service} at {place}.", _names("Booked {service}."))
    with pytest.raises(IndexError):
        _render("Booked {}.", set())


def test_an_unknown_locale_falls_back_to_the_shipped_english() -> None:
    assert shipped_catalogue("en_US") == shipped_catalogue("en") is not None
    assert shipped_catalogue("xx_YY") is None
    translations = load_translations("fr_FR")
    assert translations.gettext("Some text nobody wrote.") == "Some text nobody wrote."


def test_an_owner_catalogue_rewords_texts_and_leaves_the_rest(
    tmp_path: Path, restored_translations: None
) -> None:
    config = tmp_path / "business.toml"
    owner = owner_catalogue_for(config)
    assert owner == tmp_path / "texts.po"
    owner.write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "Thanks, {name}!"\nmsgstr "Cheers, {name} - see you soon!"\n\n'
        'msgid "{n} slot"\nmsgid_plural "{n} slots"\nmsgstr[0] "{n} opening"\n'
        'msgstr[1] "{n} openings"\n\n'
        'msgid "Left as it is."\nmsgstr ""\n',
        encoding="utf-8",
    )
    install_translations("en_US", config)
    assert text.t("Thanks, {name}!", name="Ana") == "Cheers, Ana - see you soon!"
    assert text.nt("{n} slot", "{n} slots", 1) == "1 opening"
    assert text.nt("{n} slot", "{n} slots", 4) == "4 openings"
    assert text._("Left as it is.") == "Left as it is."
    assert text.t("Not in any catalogue, {x}.", x=1) == "Not in any catalogue, 1."


def test_without_an_owner_catalogue_the_source_texts_are_said(
    tmp_path: Path, restored_translations: None
) -> None:
    install_translations("en_US", tmp_path / "business.toml")
    assert isinstance(text._translations, gettext.NullTranslations)
    assert text.t("Thanks, {name}!", name="Ana") == "Thanks, Ana!"


def test_the_web_app_speaks_the_owners_texts_po(
    db_url: str, tmp_path: Path, restored_translations: None
) -> None:
    from tests.conftest import DEMO_CONFIG
    from webhooks.app import create_app

    config = tmp_path / "business.toml"
    # The demo's files (its logo) are named relative to it: keep them where they are.
    demo = DEMO_CONFIG.read_text(encoding="utf-8")
    config.write_text(demo.replace('"webhooks/static/', f'"{ROOT}/webhooks/static/'), encoding="utf-8")
    greeting = (
        "{hello} I'm the booking assistant for {business}. I can book, move or cancel "
        "appointments. What would you like to do?"
    )
    assert greeting in {message.id for message in read_catalogue(POT)}
    (tmp_path / "texts.po").write_text(
        f'msgid "{greeting}"\nmsgstr "{{hello}} Welcome to {{business}}: what can I do?"\n\n'
        'msgid "Book an appointment"\nmsgstr "Make a booking"\n',
        encoding="utf-8",
    )
    app = create_app(
        {
            "DATABASE_URL": db_url,
            "BUSINESS_CONFIG": str(config),
            "TESTING": True,
            "SLOTBOT_SPOOL_DIR": str(tmp_path / "spool"),
        }
    )
    try:
        reply = app.test_client().post("/api/chat", json={"session": "texts-po-01", "text": "hi"})
        first = reply.get_json()["messages"][0]
        assert first["text"] == "Hi! Welcome to Maple & Mane Salon: what can I do?"
        assert first["options"][0] == {"id": "book", "label": "Make a booking"}
        assert first["options"][1] == {"id": "mine", "label": "My appointments"}
    finally:
        app.extensions["slotbot.db"].dispose()


def test_an_owner_entry_that_cannot_be_filled_is_ignored_and_said(
    tmp_path: Path, restored_translations: None, caplog: pytest.LogCaptureFixture
) -> None:
    config = tmp_path / "business.toml"
    owner = owner_catalogue_for(config)
    owner.write_text(
        'msgid "Thanks, {name}!"\nmsgstr "Cheers, {nme}!"\n\n'
        'msgid "Booked {service}."\nmsgstr "Booked {}."\n\n'
        'msgid "See you {when}."\nmsgstr "See you {when."\n\n'
        'msgid "{n} slot"\nmsgid_plural "{n} slots"\nmsgstr[0] "{n} opening"\n'
        'msgstr[1] "{n} openings for {who}"\n\n'
        'msgid "Bye, {name}."\nmsgstr "Take care."\n',
        encoding="utf-8",
    )
    problems = entry_problems(read_catalogue(owner), owner.name)
    assert [line.split(": ", 1)[0] for line in problems] == [
        "texts.po:1", "texts.po:4", "texts.po:7", "texts.po:10",
    ]  # fmt: skip
    assert "'Cheers, {nme}!' uses {nme}, which 'Thanks, {name}!' has not" in problems[0]
    install_translations("en_US", config)
    assert text.t("Thanks, {name}!", name="Ana") == "Thanks, Ana!"
    assert text.t("Booked {service}.", service="a cut") == "Booked a cut."
    assert text.t("See you {when}.", when="soon") == "See you soon."
    assert text.nt("{n} slot", "{n} slots", 3) == "3 slots"
    assert text.t("Bye, {name}.", name="Ana") == "Take care."  # leaving a value out is fine
    assert "catalogue entry ignored" in caplog.text


def test_the_shipped_catalogues_have_no_entry_that_cannot_be_filled() -> None:
    for path in [POT, *CATALOGUES]:
        assert entry_problems(read_catalogue(path), path.name) == []


def test_config_check_warns_about_an_owner_entry_that_cannot_be_filled(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tests.conftest import DEMO_CONFIG
    from webhooks.cli import cli

    config = tmp_path / "business.toml"
    demo = DEMO_CONFIG.read_text(encoding="utf-8")
    config.write_text(demo.replace('"webhooks/static/', f'"{ROOT}/webhooks/static/'), encoding="utf-8")
    (tmp_path / "texts.po").write_text('msgid "Hi {name}!"\nmsgstr "Hey {nam}!"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["config", "check", str(config)])
    assert result.exit_code == 0, result.output
    assert (
        "slotbot: warning: texts.po:1: 'Hey {nam}!' uses {nam}, which 'Hi {name}!' has not; "
        "the shipped text is said instead"
    ) in result.output
