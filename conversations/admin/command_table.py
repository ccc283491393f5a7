"""The owner and staff command table, declared once: what you type, who may, what happens.

`TABLE` is every command of the admin chat, each with an explicit priority (lower is tried
first; the first pattern that matches the normalised text wins), the pattern, the roles
that may use it, its handler and whether by SMS it wants the owner PIN. Importing this
module installs it as `conversations.admin.commands.COMMANDS`, sorted by priority, so which module
was imported first can never change which command a phrase reaches. The command modules
(`conversations.admin.*`, `conversations.flows.handover`) only define handlers and patterns.

It also describes each command for people (the examples here, the summary from the
handler's docstring) and renders the table that the README carries between its `commands`
markers. A test fails when a handler has no examples or the README's table differs;
`python -m conversations.admin.command_table --write README.md` rewrites it.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bot.core.text import N_, _
from conversations.admin import billing as admin_billing
from conversations.admin import booking as admin_booking
from conversations.admin import commands as admin
from conversations.admin import edits as admin_edits
from conversations.admin import estimates as admin_estimates
from conversations.admin import merge as admin_merge
from conversations.admin import money as admin_money
from conversations.admin import promotions
from conversations.admin import road as admin_road
from conversations.admin import routes as admin_routes
from conversations.admin import series as admin_series
from conversations.admin import signing as admin_signing
from conversations.admin import weather as admin_weather
from conversations.admin.commands import EVERYONE, OWNER, OWNER_ONLY, STAFF, Handler
from conversations.flows import handover

STAFF_ONLY = (STAFF,)


@dataclass(frozen=True)
class Command:
    """One row of the table: tried in `priority` order, lowest first."""

    priority: int
    pattern: str
    roles: tuple[str, ...]
    handler: Handler
    pin: bool = False  # by SMS, wants the owner PIN: it changes bookings or money, or reaches many


# Specific before general: a command whose words another's pattern also matches ("charge
# the card for INV-0012" vs a staff "charge 15 parts", "book EST-3" vs "book Jane") comes
# first; loose phrases ("this week", "every monday") come last.
TABLE: tuple[Command, ...] = (
    Command(10, r"^/?(help|commands|menu)\b|what can i (say|do)", EVERYONE, admin.admin_help),
    Command(20, r"^/?more\b", EVERYONE, admin._more),
    # customer records and money on file
    Command(30, r"^/?(merge|combine)\b", OWNER_ONLY, admin_merge.merge, pin=True),
    Command(
        40,
        r"^/?(charge|bill|run)\b.*\bcard\b|^/?charge\b.*\b[a-z]{2,5}[- ]?\d+",
        OWNER_ONLY,
        admin_money.charge_card,
        pin=True,
    ),
    Command(
        50,
        r"^/?(scheduled|upcoming|pending) (card )?charges\b|^/?charges\b",
        OWNER_ONLY,
        admin_money.list_charges,
    ),
    Command(
        60,
        r"^/?(cancel|stop|delete)\s+(the\s+)?(scheduled\s+)?(card\s+)?charges?\b"
        r"|^/?(don't|dont|do not) charge\b",
        OWNER_ONLY,
        admin_money.cancel_scheduled,
        pin=True,
    ),
    Command(
        70,
        r"^/?(took|taken|collected|got|received)\b(?=.*\d)"
        r"(?=.*(\$|\bcash\b|\bcard\b|\bcheque\b|\bcheck\b|\bin person\b|\bpaid\b))",
        (STAFF, OWNER),
        admin_money.took_payment,
        pin=True,
    ),
    # one appointment's edits, before the plain cancel / move / book
    Command(80, admin_edits.EDIT_COMMAND, OWNER_ONLY, admin_edits.edit, pin=True),
    Command(90, admin_edits.MOVE_WITH_COMMAND, OWNER_ONLY, admin_edits.edit, pin=True),
    Command(100, admin_edits.NOTE_COMMAND, OWNER_ONLY, admin_edits.note, pin=True),
    Command(110, promotions.COMMAND, OWNER_ONLY, promotions.broadcast, pin=True),
    # hand-overs
    Command(120, handover.LIST_COMMAND, EVERYONE, handover.list_chats),
    Command(130, handover.CLOSE_COMMAND, EVERYONE, handover.close),
    Command(140, handover.REPLY_COMMAND, EVERYONE, handover.reply),
    # estimates
    Command(150, r"^/?(book|schedule)\b.*\best[- ]?\d", OWNER_ONLY, admin_estimates.book, pin=True),
    Command(
        160,
        r"^/?(invoice|bill)\s+(the\s+)?(estimate\s+)?est[- ]?\d",
        OWNER_ONLY,
        admin_estimates.invoice,
        pin=True,
    ),
    Command(
        170,
        r"^/?(send|resend)\s+(the\s+)?(estimate\s+)?est[- ]?\d",
        OWNER_ONLY,
        admin_estimates.send,
        pin=True,
    ),
    Command(
        180,
        r"^/?(estimate|quote|new estimate)\b",
        OWNER_ONLY,
        admin_estimates.create,
        pin=True,
    ),
    Command(
        190, r"^/?(estimates|open estimates|quotes)\s*$", OWNER_ONLY, admin_estimates.list_open
    ),
    # recurring series
    Command(200, admin_series.BOOK_SERIES_COMMAND, OWNER_ONLY, admin_series.book_series, pin=True),
    Command(210, admin_series.MOVE_SERIES_COMMAND, OWNER_ONLY, admin_series.move_series, pin=True),
    Command(
        220,
        admin_series.CANCEL_SERIES_COMMAND,
        OWNER_ONLY,
        admin_series.cancel_series,
        pin=True,
    ),
    Command(230, admin_signing.PATTERN, EVERYONE, admin_signing.ask_signature),
    Command(240, admin_weather.PATTERN, OWNER_ONLY, admin_weather.bad_weather, pin=True),
    # on the road ("on my way, 10 min late" is a late notice; "arrived, traffic was bad" an
    # arrival)
    Command(250, admin_road.ARRIVED, STAFF_ONLY, admin_road.arrived),
    Command(260, admin_road.DONE, STAFF_ONLY, admin_road.done),
    Command(270, admin_road.LATE, STAFF_ONLY, admin_road.running_late),
    Command(280, admin_road.ON_MY_WAY, STAFF_ONLY, admin_road.on_my_way),
    Command(290, r"^$", STAFF_ONLY, admin_road.shared_location),
    Command(300, r"^/?(my )?jobs\b", STAFF_ONLY, admin_road.my_jobs),
    Command(310, r"^/?(access notes?|access)\b", EVERYONE, admin_road.access_notes),
    Command(320, r"^/?(history|log|event log|timeline)\b", OWNER_ONLY, admin_road.history),
    # routes: only the bare word or "... the routes" ("undo the cancel" or "apply a
    # discount" is not)
    Command(
        330,
        r"^/?undo( the)?( routes?| plan| that)?\s*[.!]*$",
        OWNER_ONLY,
        admin_routes.undo_routes,
        pin=True,
    ),
    Command(
        340,
        r"^/?apply( the)?( new)?( routes?| plan)?\s*[.!]*$",
        OWNER_ONLY,
        admin_routes.apply_routes,
        pin=True,
    ),
    Command(
        350,
        r"^/?(optimi[sz]e|re-?optimi[sz]e|route)\b|^/?plan\b.*\broutes?\b",
        OWNER_ONLY,
        admin_routes.optimise,
        pin=True,
    ),
    # invoices and what is owed
    Command(
        360,
        r"who owes|^/?(owes|ar|receivables|aging|outstanding)\b|owes me",
        OWNER_ONLY,
        admin_billing.who_owes,
    ),
    Command(
        370,
        r"\bpaid\b|^/?mark\b.*\b[a-z]{2,5}[- ]?\d+",
        OWNER_ONLY,
        admin_billing.mark_paid,
        pin=True,
    ),
    Command(
        380,
        r"^/?(link|resend|send link|pay link)\b|resend .*link",
        OWNER_ONLY,
        admin_billing.resend_link,
    ),
    Command(
        390,
        r"^/?(add|addline)\b.*\b[a-z]{2,5}[- ]?\d+",
        OWNER_ONLY,
        admin_billing.add_to_invoice,
        pin=True,
    ),
    Command(
        400,
        r"^/?(statement|send statement|send a statement)\b",
        OWNER_ONLY,
        admin_billing.statement,
    ),
    Command(410, r"^/?(charge|add charge)\b", STAFF_ONLY, admin_billing.staff_charge),
    # the plain owner commands
    Command(420, r"^/?(dashboard|admin page|web view)\b", OWNER_ONLY, admin.dashboard),
    Command(430, r"^/?(block|block off)\b", OWNER_ONLY, admin.block, pin=True),
    Command(440, r"^/?(close|close on)\b", OWNER_ONLY, admin.close_day, pin=True),
    Command(450, r"^/?(cancel)\b", OWNER_ONLY, admin.cancel_any, pin=True),
    Command(460, r"^/?(move|reschedule)\b", OWNER_ONLY, admin_booking.move_any, pin=True),
    Command(470, r"^/?(book)\b", OWNER_ONLY, admin_booking.book_for, pin=True),
    Command(
        480,
        r"^/?(no ?-?show|noshow)\b|didn't show|didnt show|no show",
        OWNER_ONLY,
        admin.mark_no_show,
        pin=True,
    ),
    Command(
        490, r"^/?(done|complete|completed|finish)\b", OWNER_ONLY, admin.mark_completed, pin=True
    ),
    Command(500, r"^/?(customer|find|lookup|look up|who is)\b", OWNER_ONLY, admin.lookup),
    Command(
        510, r"^/?(stats|numbers|report)\b|how did we do|how are we doing", OWNER_ONLY, admin.stats
    ),
    # Loose phrases last: "/broadcast … this week" is a broadcast, not an agenda.
    Command(
        520,
        r"^/?(today|tomorrow|week|agenda|schedule)\b"
        r"|what's on|whats on|who's in|whos in|my schedule|this week",
        EVERYONE,
        admin.agenda,
    ),
)


def ordered() -> list[Command]:
    """The table in the order the admin chat tries it."""
    return sorted(TABLE, key=lambda command: command.priority)


def install() -> None:
    """Make `admin.COMMANDS` and `admin.PIN_GUARDED` this table, by priority; idempotent."""
    admin.COMMANDS[:] = [(re.compile(c.pattern), c.roles, c.handler) for c in ordered()]
    admin.PIN_GUARDED.clear()
    admin.PIN_GUARDED.update(c.handler for c in TABLE if c.pin)


# On import: whoever imports the admin chat's routing (conversations.flows.routing does) gets the
# whole table, whatever else was imported before.
install()

START = "<!-- commands:start (generated by python -m conversations.admin.command_table) -->"
END = "<!-- commands:end -->"

# handler name → what people type for it, the first is the one the table shows first.
EXAMPLES: dict[str, tuple[str, ...]] = {
    "admin_help": (N_("help"), N_("what can I say?")),
    "_more": (N_("more"),),
    "dashboard": (N_("dashboard"),),
    "on_my_way": (N_("on my way"), N_("omw")),
    "arrived": (N_("arrived"),),
    "done": (N_("done"),),
    "block": (N_("block friday 2-5pm"), N_("block sam tomorrow morning")),
    "close_day": (N_("close dec 24"),),
    "cancel_any": (N_("cancel #12"), N_("cancel Jane's 3pm")),
    "move_any": (N_("move #12 to friday at 4"),),
    "book_for": (N_("book Jane 2125550123 haircut with Sam fri at 3"),),
    "mark_no_show": (N_("no show #12"),),
    "mark_completed": (N_("done #12"),),
    "lookup": (N_("customer jane"),),
    "broadcast": (N_("broadcast 20% off colour this week"),),
    "stats": (N_("stats"), N_("stats week")),
    "agenda": (N_("today"), N_("tomorrow"), N_("week")),
    "staff_charge": (N_("charge 15 parts"),),
    "statement": (N_("statement jane"),),
    "add_to_invoice": (N_("add 15 parts to INV-0012"),),
    "resend_link": (N_("link INV-0012"),),
    "mark_paid": (N_("mark INV-0012 paid 50 cash"),),
    "who_owes": (N_("who owes"),),
    "merge": (N_("merge #3 into #1"),),
    "charge_card": (N_("charge Bob's card for INV-0012"), N_("charge the card for INV-0012 on the 30th")),
    "list_charges": (N_("scheduled charges"),),
    "cancel_scheduled": (N_("cancel scheduled charge 3"), N_("don't charge INV-0012")),
    "took_payment": (N_("took 80 cash for #7"), N_("got 45 by card")),
    "edit": (
        N_("assign #7 to Priya"),
        N_("give Jane's 3pm to Alex"),
        N_("move #7 to thursday at 2 with Priya"),
    ),
    "note": (N_("note #7: bring the blue dye"), N_("clear notes #7")),
    "list_chats": (N_("chats"),),
    "close": (N_("done with Jane"), N_("close chat 3")),
    "reply": (N_("r 3: on our way"), N_("reply Jane: yes, 4pm works")),
    "book": (N_("book EST-3 friday at 2"),),
    "invoice": (N_("invoice EST-3"),),
    "send": (N_("send EST-3"),),
    "create": (N_("estimate for Bob Stone: colour 120, toner 25, valid 30 days"),),
    "list_open": (N_("estimates"),),
    "book_series": (N_("book Ana Lee haircut with Sam every other friday at 11 for 3 months"),),
    "move_series": (N_("move all of Ana's fridays to 12"),),
    "cancel_series": (N_("cancel Ana's series from next month"),),
    "ask_signature": (N_("sign #12"), N_("send the waiver to Jane")),
    "bad_weather": (N_("rain wednesday"),),
    "running_late": (N_("running late 20"), N_("stuck in traffic, 10 minutes")),
    "shared_location": (N_("(share your location)"),),
    "my_jobs": (N_("my jobs"),),
    "access_notes": (N_("access Jane: gate code 4321"),),
    "history": (N_("history #12"), N_("history Jane")),
    "undo_routes": (N_("undo"),),
    "apply_routes": (N_("apply"),),
    "optimise": (N_("optimise tuesday"), N_("plan tomorrow's routes")),
}
# Where a handler's docstring does not read as a summary on its own.
SUMMARIES: dict[str, str] = {
    "book": N_("Book an approved estimate as an appointment, only at a free time, on a yes."),
    "create": N_("Write an estimate: a summary of its lines, then send it on a yes."),
    "book_series": N_("Book a recurring series: the dates and any clashes first, then a yes."),
    "shared_location": N_("A location pin: kept for the next on my way, arrived or done."),
}
# Examples that are not words (a location pin): shown, but not sent through the matcher.
NOT_TYPED = {"(share your location)"}
ROLE_NAMES = {admin.OWNER: N_("owner"), admin.STAFF: N_("staff")}


class Row(NamedTuple):
    """One line of the table."""

    name: str
    examples: tuple[str, ...]
    roles: tuple[str, ...]
    summary: str


def handler_name(handler: admin.Handler) -> str:
    """The key a handler has in EXAMPLES."""
    return handler.__name__


def summary_of(handler: admin.Handler) -> str:
    """The first line of the handler's docstring, without a leading quoted example."""
    if handler_name(handler) in SUMMARIES:
        return SUMMARIES[handler_name(handler)]
    first = (handler.__doc__ or "").strip().splitlines()[0] if handler.__doc__ else ""
    first = re.sub(r'^\s*"[^"]*":\s*', "", first).strip()
    return first[:1].upper() + first[1:]


def rows() -> list[Row]:
    """The commands in the order the admin chat tries them (each handler once)."""
    found: list[Row] = []
    seen: set[str] = set()
    for _pattern, roles, handler in admin.COMMANDS:
        name = handler_name(handler)
        if name in seen:
            continue
        seen.add(name)
        found.append(Row(name, EXAMPLES.get(name, ()), roles, summary_of(handler)))
    return found


def undocumented() -> list[str]:
    """Handlers in the command table with no examples or no docstring."""
    return [
        handler_name(handler)
        for _pattern, _roles, handler in admin.COMMANDS
        if handler_name(handler) not in EXAMPLES or not (handler.__doc__ or "").strip()
    ]


def markdown() -> str:
    """The table, as the README shows it."""
    lines = [START, "", _("| you type | who | what happens |"), "|---|---|---|"]
    for row in rows():
        typed = " · ".join(
            _(example) if example in NOT_TYPED else f"`{_(example)}`" for example in row.examples
        )
        who = ", ".join(_(ROLE_NAMES.get(role, role)) for role in row.roles)
        lines.append(f"| {typed} | {who} | {_(row.summary).replace('|', '/')} |")
    lines += ["", END]
    return "\n".join(lines)


def replaced(readme: str) -> str:
    """The README text with its table brought up to date."""
    start, end = readme.index(START), readme.index(END) + len(END)
    return readme[:start] + markdown() + readme[end:]


def main(argv: list[str]) -> int:
    """Print the table, or with --write PATH bring PATH's table up to date."""
    if argv[:1] == ["--write"] and len(argv) == 2:
        path = Path(argv[1])
        path.write_text(replaced(path.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    print(markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
