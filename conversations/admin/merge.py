"""Merging duplicate customers from the owner chat: "merge #3 into #1" (customer numbers,
as the customer card shows them). Asks first, showing both; audited. The merge itself is
bot.customers.merge's. Registers with conversations.admin.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.text import _, t
from bot.customers.merge import footprint, merge_customers
from bot.scheduling.booking import Refused
from conversations.admin import commands as admin
from conversations.admin.commands import Actor, answer, audit
from conversations.turn import Turn
from storage.models import Customer

ACTION = "merge"
_PAIR = re.compile(r"#?\s*(\d+)\s+(?:into|in to|with|onto|to)\s+#?\s*(\d+)", re.I)


def _label(turn: Turn, customer: Customer) -> str:
    counts = footprint(turn.session, customer.id)
    contact = ", ".join(x for x in (customer.phone, customer.email) if x)
    return (
        t("{customer} (#{id}{contact}; "
        "{appointments} appointments, {invoices} invoices, "
        "{identities} chats)", customer=customer.name or _('No name'), id=customer.id, contact=', ' + contact if contact else '', appointments=counts.appointments, invoices=counts.invoices, identities=counts.identities)
    )


def merge(turn: Turn, actor: Actor, text: str) -> None:
    """Merge one customer into another, after a yes."""
    pair = _PAIR.search(text)
    if pair is None:
        answer(turn, [_('Say which into which, by customer number: "merge #3 into #1".')])
        return
    gone_id, kept_id = int(pair.group(1)), int(pair.group(2))
    gone, kept = turn.session.get(Customer, gone_id), turn.session.get(Customer, kept_id)
    if gone is None or kept is None:
        answer(turn, [t("There is no customer #{gone_id}.", gone_id=gone_id if gone is None else kept_id)])
        return
    if gone_id == kept_id:
        answer(turn, [_("That is the same customer.")])
        return
    admin.confirm(
        turn,
        t("Merge {gone}\ninto {kept}?\n"
        "Everything of #{gone_id} moves to #{kept_id} and #{gone_id} is gone. "
        "This can't be undone.", gone=_label(turn, gone), kept=_label(turn, kept), gone_id=gone_id, kept_id=kept_id),
        ACTION,
        gone=gone_id,
        kept=kept_id,
    )


def _do_merge(turn: Turn, actor: Actor, pending: dict[str, Any]) -> None:
    outcome = merge_customers(turn.session, pending["gone"], pending["kept"])
    if isinstance(outcome, Refused):
        answer(turn, [outcome.message])
        return
    audit(
        turn,
        actor,
        ACTION,
        gone=outcome.gone_id,
        kept=outcome.kept_id,
        moved=outcome.moved,
        took=outcome.took,
    )
    kept = turn.session.get(Customer, outcome.kept_id)
    moved = ", ".join(f"{n} {t.replace('_', ' ')}" for t, n in sorted(outcome.moved.items()))
    answer(
        turn,
        [t("Merged #{gone_id} into #{kept_id}. Moved: {moved}.", gone_id=outcome.gone_id, kept_id=outcome.kept_id, moved=moved or _('nothing'))]
        + (admin._customer_card(turn, kept) if kept else []),
    )


_registered: list[bool] = []


def register() -> None:
    """Add the merge action to the admin chat (once)."""
    if _registered:
        return
    _registered.append(True)
    admin.ACTIONS[ACTION] = _do_merge
