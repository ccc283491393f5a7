"""Money in the customer's chat: what they owe, their invoice, a pay link, deposits.

The ledger and the links are bot.billing's; this module only decides what to answer.
"""

from __future__ import annotations

import re

from bot.billing.chat import balance_reply, invoice_reply, pay_reply
from bot.billing.payments.deposits import DepositRequest, require_deposit
from bot.billing.payments.partial import partial_pay_reply
from conversations.nlu.understand import Intent
from conversations.turn import Turn
from storage.models import Appointment

# "pay 50", "can I pay $30 now", "pay 25.50 of it": an amount, not an invoice number.
_PART = re.compile(r"(?<![\w-])[$£€]?(\d{1,7}(?:[.,]\d{1,2})?)(?![\w-])(?!\s*(?:%|am|pm))", re.I)


def money_reply(turn: Turn, intent: Intent) -> None:
    """Answer "what do I owe?", "send me my invoice", "pay" or "pay 50" (a part)."""
    amount = _PART.search(turn.inbound.text or "") if intent is Intent.PAY else None
    if amount is not None:
        turn.replies.append(
            partial_pay_reply(turn.session, turn.customer.id, amount.group(1), turn.now)
        )
        return
    build = {Intent.INVOICE: invoice_reply, Intent.PAY: pay_reply}.get(intent, balance_reply)
    turn.replies.append(build(turn.session, turn.customer.id, turn.now))


def ask_for_deposit(turn: Turn, appointment: Appointment) -> DepositRequest | None:
    """Issue the deposit invoice; billing sends its pay link to the customer."""
    return require_deposit(turn.session, appointment, turn.now)
