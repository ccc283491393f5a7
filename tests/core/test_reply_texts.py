"""Every reply text goes through the catalogue: a scan of the source for sentences outside it.

A reply written as a bare string or f-string cannot be reworded by an owner nor translated,
so this scan (part of `make test`) fails on one. It reads the modules that say things to
customers, owners and staff and reports every string literal or f-string that reads like a
sentence — words with spaces, starting with a capital or ending like a sentence — unless it
is the text of `_()`, `t()`, `nt()` or `N_()`, or stands where no reply does: a docstring, a
log line, an exception raised for a developer, a regular expression, SQL, a dict key or
subscript, a comparison with what the customer typed, a default of a function parameter.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# The modules that produce replies: all of conversations/ and bot/ (notifications, reminders,
# follow-ups, owner alerts, billing texts) and the chat channels of webhooks/.
SCANNED = (
    "conversations",
    "bot",
    "webhooks/telegram.py",
    "webhooks/twilio.py",
    "webhooks/webchat.py",
)
# Whole modules that hold sentences which are no replies, with the reason.
EXEMPT = {
    "bot/field/places/demo.py": "the demo businesses' data (names, notes, descriptions), not replies",
    # Its labels ("around 3pm", "end of May") name what the English parser read in the
    # customer's English words; another language needs its own parser, not a translation.
    "conversations/when.py": "the English date parser's descriptions of what it understood",
    # business.toml's validation messages and the process settings' errors: for whoever runs
    # the server (`slotbot config check`, the one line at start), with the field path.
    "bot/config/loading.py": "business.toml validation messages for the operator",
    "bot/config/problems.py": "business.toml validation messages for the operator",
    "bot/config/process.py": "environment setting errors for the operator, at start",
    "bot/config/values.py": "business.toml validation messages for the operator",
    "bot/field/routing/check.py": "the route checker's findings, for the solver's tests and logs, never sent",
}

# Modules whose texts are being moved into the catalogue (issue 13, point 6), one list per
# helper converting them; each module leaves its list once converted. Empty at the end.
PENDING_CUSTOMER: frozenset[str] = frozenset()  # the customer side: all converted
PENDING_OWNER: frozenset[str] = frozenset()  # the owner side: all converted

# Strings that look like sentences but are no reply, each with the reason. Matched by the
# module and the text (the literal's text, or an f-string's literal parts joined by "{}").
ALLOWED: dict[tuple[str, str], str] = {
    # the owner command that a bare "done" in reply to a hand-over notice stands for
    ("conversations/flows/handover.py", "close {}"): "a command, not a reply",
    # `slotbot config check` lines about the owner's texts.po, in English like the
    # validation messages of business.toml (bot/config.py)
    ("bot/core/catalogue.py", "{} in {}"): "a config check warning for the operator",
    ("bot/core/catalogue.py", "{} uses {}, which {} has not"): "a config check warning for the operator",
}
# The owner, staff and operator side: error texts for the person running the server (stored
# as an outbox row's last error, printed at start, or an HTTP API error), reasons kept in the
# audit trail, and layouts with no words to translate.
_OPERATOR = "an error for whoever runs the server (logs, outbox last_error, start-up), not a reply"
_API = "an HTTP API error for the program calling it, not a chat reply"
_AUDIT = "a reason kept in the audit trail / status history, not a reply"
ALLOWED |= {
    ("bot/billing/documents/signing.py", "- {} x {}: {}"): "an estimate line's layout (description x qty: amount)",
    ("bot/messaging/outbox.py", "gave up after {} attempts: {}"): _OPERATOR,
    ("bot/messaging/outbox.py", "gave up after {} unfinished attempts"): _OPERATOR,
    ("bot/messaging/outbox.py", "sender error: {}: {}"): _OPERATOR,
    ("bot/messaging/senders/twilio_sender.py", "Twilio {} ({}): {}"): _OPERATOR,
    ("bot/billing/payments/online.py", "American Express"): "a card brand's name, the same in every language",
    ("bot/field/routing/plans.py", "route plan {}"): _AUDIT,
    ("bot/field/routing/plans.py", "undo route plan {}"): _AUDIT,
    ("bot/field/routing/solver.py", "break {} {}"): "the solver's name for a break, an identifier",
    ("bot/scheduling/waitlist.py", "offer {}"): _AUDIT,
    ("bot/messaging/senders/email_sender.py", '<!doctype html><html><body style="font-family: sans-serif">{}</body></html>'): "HTML around the text",
    ("bot/messaging/senders/email_sender.py", "not an email address: {}"): _OPERATOR,
    ("bot/messaging/senders/email_sender.py", "recipient refused: {}"): _OPERATOR,
    ("bot/messaging/senders/email_sender.py", "SMTP login refused ({}): {}"): _OPERATOR,
    ("bot/messaging/senders/email_sender.py", "SMTP connection problem: {}: {}"): _OPERATOR,
    ("bot/messaging/senders/telegram_sender.py", "TELEGRAM_WEBHOOK_URL must be an https:// URL, not {}"): _OPERATOR,
    ("bot/messaging/senders/telegram_sender.py", "TELEGRAM_WEBHOOK_URL must use port 443, 80, 88 or 8443 (Telegram delivers to no other), not {}"): _OPERATOR,
    ("bot/messaging/senders/telegram_sender.py", "TELEGRAM_WEBHOOK_URL needs TELEGRAM_WEBHOOK_SECRET to be set"): _OPERATOR,
    ("bot/messaging/senders/telegram_sender.py", "TELEGRAM_WEBHOOK_SECRET may only use A-Z a-z 0-9 _ and -"): _OPERATOR,
    ("bot/messaging/senders/telegram_sender.py", "TELEGRAM_WEBHOOK_SECRET is longer than {} characters"): _OPERATOR,
    ("bot/messaging/senders/telegram_sender.py", "Telegram flood control: {}"): _OPERATOR,
    ("bot/messaging/senders/telegram_sender.py", "Telegram: the chat moved again, to {}"): _OPERATOR,
    ("bot/messaging/senders/telegram_sender.py", "Telegram rejected the bot token: {}"): _OPERATOR,
    ("bot/messaging/senders/telegram_sender.py", "Telegram network error: {}"): _OPERATOR,
    ("bot/messaging/senders/telegram_sender.py", "Telegram error: {}"): _OPERATOR,
    ("bot/messaging/senders/twilio_sender.py", "connection error: {}"): _OPERATOR,
    ("webhooks/telegram.py", "Telegram webhook is not configured (TELEGRAM_WEBHOOK_SECRET)"): _API,
    ("webhooks/twilio.py", "Twilio is not configured (TWILIO_AUTH_TOKEN)"): _API,
    ("webhooks/webchat.py", "message_id must be 1-100 letters, digits or -_.:"): _API,
    ("webhooks/webchat.py", "owner_key in a URL is refused: send the {} header"): _API,
}

CATALOGUE_CALLS = frozenset({"_", "t", "nt", "N_"})
# Calls whose string arguments are for developers or machines, never a reply.
DEVELOPER_CALLS = frozenset(
    {
        "debug", "info", "warning", "warn", "error", "exception", "critical", "log", "compile",
        "search", "match", "fullmatch", "sub", "subn", "findall", "finditer", "split", "text",
        "execute", "startswith", "endswith", "replace", "strip", "lstrip", "rstrip", "removeprefix",
        "removesuffix", "get", "pop", "setdefault", "getattr", "hasattr", "setattr", "count", "index",
        "find", "rfind", "strftime", "strptime", "option", "argument", "command", "group", "route",
        "add_url_rule", "Blueprint", "Counter", "Histogram", "Gauge", "Summary", "Column",
        "mapped_column", "ForeignKey", "CheckConstraint", "Index", "UniqueConstraint", "NamedTuple",
        "TypeVar", "format_date", "format_datetime", "format_time", "format_skeleton",
        "format_interval", "parse_when",
    }
)
_LOOKUPS = frozenset({"get", "pop", "setdefault", "getattr"})
_SQL = re.compile(r"^\s*(select|insert|update|delete|with|create|alter|drop)\b", re.I)
_WORDS = re.compile(r"[A-Za-z][a-z']+(?: +[A-Za-z][a-z'’]*)+")
_REGEX_MARKS = re.compile(r"\\[bdswBDSW]|\(\?[:=!<]|\[\^?[a-z]-|\|\w|^\^|\$$")


def sentence_like(text: str, formatted: bool) -> bool:
    """Whether `text` reads as a sentence a person would be sent ("{}" marks an f-string value)."""
    body = text.strip()
    if _SQL.match(body) or _REGEX_MARKS.search(body):
        return False
    if "_" in body and " " not in body.replace("_", ""):
        return False  # an identifier
    # Two words in a row, at least one of them written here ("Xx" stands for a value).
    runs = _WORDS.finditer(body.replace("{}", "Xx"))
    if not any(word != "Xx" for run in runs for word in run.group().split()):
        return False
    if formatted:  # an f-string with prose around its values is a text
        return True
    return body[:1].isupper() or body[-1:] in ".?!:"


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


class _Scanner(ast.NodeVisitor):
    """Collects the sentence-like strings outside the catalogue and the exempt places."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []

    def _skip(self, *nodes: ast.AST | None) -> None:
        del nodes  # nothing below these is a reply

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant | ast.JoinedStr):
            return  # a docstring or a bare string
        self.generic_visit(node)

    def visit_Raise(self, node: ast.Raise) -> None:
        return  # exception messages are for developers; a reply is said, not raised

    def visit_Assert(self, node: ast.Assert) -> None:
        return

    def visit_Call(self, node: ast.Call) -> None:
        name = _call_name(node)
        if name in CATALOGUE_CALLS:
            return
        if name == "Option":  # a button's label is a text however short ("Anyone")
            labels = [*node.args[1:2], *(k.value for k in node.keywords if k.arg == "label")]
            for part in [*node.args, *(k.value for k in node.keywords)]:
                if part in labels and isinstance(part, ast.Constant) and isinstance(part.value, str):
                    if re.search("[A-Za-z]", part.value):
                        self.found.append((part.lineno, part.value))
                else:
                    self.visit(part)
            return
        if name in DEVELOPER_CALLS:  # its arguments are no reply, but what it is called on may be
            if isinstance(node.func, ast.Attribute):
                self.visit(node.func.value)
            if name in _LOOKUPS:  # the key is no reply, the default may be
                for default in [*node.args[1:], *(k.value for k in node.keywords)]:
                    self.visit(default)
            return
        self.generic_visit(node)

    def visit_Compare(self, node: ast.Compare) -> None:
        return  # comparing with what was typed: vocabulary, not a reply

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.visit(node.value)  # the index is a key

    def visit_Dict(self, node: ast.Dict) -> None:
        for value in node.values:
            self.visit(value)

    def visit_arguments(self, node: ast.arguments) -> None:
        return

    def visit_keyword(self, node: ast.keyword) -> None:
        self.visit(node.value)

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        text = "".join(
            part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
        )
        if sentence_like(text, formatted=True):
            self.found.append((node.lineno, text))
        for part in node.values:
            if isinstance(part, ast.FormattedValue):
                self.visit(part.value)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and sentence_like(node.value, formatted=False):
            self.found.append((node.lineno, node.value))


def scanned_modules() -> Iterator[Path]:
    """The modules the scan reads."""
    for name in SCANNED:
        place = ROOT / name
        for path in sorted(place.rglob("*.py")) if place.is_dir() else [place]:
            if path.relative_to(ROOT).as_posix() not in EXEMPT:
                yield path


def texts_outside_catalogue(path: Path) -> list[tuple[int, str]]:
    """The line and text of each sentence in `path` that does not go through the catalogue."""
    scanner = _Scanner()
    scanner.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    name = path.relative_to(ROOT).as_posix()
    return [(line, text) for line, text in scanner.found if (name, text) not in ALLOWED]


def test_every_reply_text_goes_through_the_catalogue() -> None:
    problems = []
    for path in scanned_modules():
        name = path.relative_to(ROOT).as_posix()
        if name in PENDING_CUSTOMER or name in PENDING_OWNER:
            continue
        problems += [f"{name}:{line}: {text!r}" for line, text in texts_outside_catalogue(path)]
    assert not problems, "reply texts outside _()/t()/nt()/N_():\n" + "\n".join(problems)


def test_the_scan_catches_a_new_f_string_reply(tmp_path: Path) -> None:
    source = tmp_path / "flow.py"
    source.write_text(
        '"""A flow."""\n'
        "import logging\n"
        "from bot.core.text import t, _\n"
        "log = logging.getLogger(__name__)\n"
        "def reply(turn, name):\n"
        '    """Say hello."""\n'
        '    log.info("Said hello to %s", name)\n'
        '    if turn.text == "Hello there":\n'
        '        turn.say(t("Hi {name}, welcome back!", name=name))\n'
        '    turn.say(f"See you soon, {name}.")\n'
        '    turn.say("Thanks for booking with us!")\n'
        '    turn.say(_("Okay."))\n'
        '    turn.say(f"{name} is all set.".strip())\n'
        '    turn.say(_("Who with?"), [Option("any", "Anyone"), Option("x", _("Sam"))])\n'
    )
    scanner = _Scanner()
    scanner.visit(ast.parse(source.read_text()))
    assert [text for _line, text in scanner.found] == [
        "See you soon, {}.",
        "Thanks for booking with us!",
        "{} is all set.",
        "Anyone",
    ]


def test_pending_modules_exist() -> None:
    for name in PENDING_CUSTOMER | PENDING_OWNER | set(EXEMPT) | {path for path, _text in ALLOWED}:
        assert (ROOT / name).is_file(), name


def _placeholders(text: str) -> set[str]:
    """The `str.format` names in `text` ("{when:%H}" and "{a.b}" give when and a)."""
    return {
        field.split(".")[0].split("[")[0]
        for _literal, field, _spec, _conversion in string.Formatter().parse(text)
        if field is not None
    }


def mismatched_values(path: Path) -> list[str]:
    """Each `t()`/`nt()` call in `path` whose values differ from the placeholders of its text,
    and each `_()`/`N_()` text with a placeholder nobody fills."""
    problems = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        name, count = node.func.id, {"t": 1, "nt": 2, "_": 1, "N_": 1}.get(node.func.id)
        if count is None or len(node.args) < count:
            continue
        texts = node.args[:count]
        if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in texts):
            continue  # a text marked with N_() where it is written, checked there
        wanted = set().union(*(_placeholders(a.value) for a in texts))  # type: ignore[union-attr]
        if name in ("_", "N_"):
            if wanted:
                problems.append(f"{node.lineno}: {name}() of a text with {sorted(wanted)}: use t()")
            continue
        given = {k.arg for k in node.keywords}
        if None in given:
            continue  # **values: checked where they are built
        if name == "nt":  # nt() passes the count as {n}; a text may leave it out
            wanted, given = wanted - {"n"}, given - {"n"}
        if wanted != given:
            problems.append(f"{node.lineno}: text names {sorted(wanted)}, given {sorted(given)}")
    return problems


def test_every_catalogue_call_passes_the_values_its_text_names() -> None:
    problems = []
    for path in scanned_modules():
        name = path.relative_to(ROOT).as_posix()
        problems += [f"{name}:{problem}" for problem in mismatched_values(path)]
    assert not problems, "\n".join(problems)


def test_a_value_missing_from_a_catalogue_call_is_found(tmp_path: Path) -> None:
    source = tmp_path / "flow.py"
    source.write_text(
        "def reply(turn, name):\n"
        '    turn.say(t("Hi {name}, see you {when}.", name=name))\n'
        '    turn.say(_("Bye {name}."))\n'
        '    turn.say(nt("{n} slot for {who}", "{n} slots for {who}", 2, who=name))\n'
    )
    assert mismatched_values(source) == [
        "2: text names ['name', 'when'], given ['name']",
        "3: _() of a text with ['name']: use t()",
    ]
