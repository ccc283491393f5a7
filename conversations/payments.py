"""Money in the customer's chat: what they owe, their invoice, a pay link, deposits.

The ledger and the links are bot.billing's; this module only decides what to answer.
"""

from __future__ import annotations

from bot.billing.chat import balance_reply, invoice_reply, pay_reply
from bot.billing.deposits import DepositRequest, require_deposit
from conversations.turn import Turn
from conversations.understand import Intent
from storage.models import Appointment


def money_reply(turn: Turn, intent: Intent) -> None:
    """Answer "what do I owe?", "send me my invoice" or "pay"."""
    build = {Intent.INVOICE: invoice_reply, Intent.PAY: pay_reply}.get(intent, balance_reply)
    turn.replies.append(build(turn.session, turn.customer.id, turn.now))


def ask_for_deposit(turn: Turn, appointment: Appointment) -> DepositRequest | None:
    """Issue the deposit invoice; billing sends its pay link to the customer."""
    return require_deposit(turn.session, appointment, turn.now)
