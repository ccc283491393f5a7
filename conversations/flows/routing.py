"""Routing a turn to its flow, and what every flow shares: the fallbacks.

Vocabulary after python-telegram-bot's ConversationHandler: each flow has entry points
(intents that start it from idle), states (`Conversation.step`) and fallbacks (restart,
help, talk to a person), which work in every state. Unlike PTB, the state is a database
row, not a dict in a handler's memory.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.core.text import _, t
from bot.customers import intake
from bot.customers.portal import issue_link
from conversations.admin import billing as admin_billing
from conversations.admin import booking as admin_booking
from conversations.admin import command_table  # noqa: F401  (installs the command table)
from conversations.admin import commands as admin
from conversations.admin import edits as admin_edits
from conversations.admin import merge as admin_merge
from conversations.admin import money as admin_money
from conversations.admin import promotions as promos
from conversations.admin import road as admin_road
from conversations.admin import routes as admin_routes
from conversations.admin import signing as admin_signing
from conversations.admin.estimates import register as register_estimates
from conversations.admin.series import register as register_series
from conversations.flows import booking as booking_flow
from conversations.flows import consent as offers
from conversations.flows import faq, threads
from conversations.flows import handover as person
from conversations.flows import manage as manage_flow
from conversations.flows import series as series_flow
from conversations.flows.draft import draft_of
from conversations.flows.menu import menu
from conversations.flows.payments import money_reply
from conversations.nlu.understand import Intent, extract_name, primary_intent, yes_no
from conversations.turn import Turn

# The commands themselves, and their order, are conversations.admin.command_table's; these add
# the pending actions, card and agenda lines each command module contributes.
admin_billing.register()
admin_booking.register()
admin_routes.register()
admin_road.register()
admin_signing.register()
register_series()
register_estimates()
promos.register()
admin_edits.register()
admin_money.register()
admin_merge.register()

# flow name → handler of a message inside that flow. A handler may hand the message back as
# an intent (booking: a request that belongs elsewhere), answered here as from idle; the flow
# cannot call `idle` itself without importing this module, which imports it.
FLOWS: dict[str, Callable[[Turn], Intent | None]] = {
    "book": booking_flow.handle,
    "manage": manage_flow.handle,
    "series": series_flow.handle,
}
# flow name → re-ask the current question (after help or an aside)
REPROMPTS: dict[str, Callable[[Turn], None]] = {
    "book": booking_flow.reprompt,
    "manage": manage_flow.reprompt,
    "series": series_flow.reprompt,
}


def dispatch(turn: Turn) -> None:
    """Handle the turn: owners and staff to the admin chat; for customers, fallbacks
    first, then the current flow, else the idle menu."""
    actor = admin.actor_of(turn)
    if actor.role != admin.CUSTOMER:
        if not person.answer_reply_to(turn, actor):  # a Telegram reply to a hand-over notice
            admin.dispatch(turn, actor)
        return
    if offers.answer(turn):  # the question after a first booking, "send me offers"
        return
    text = turn.inbound.text or ""
    option = turn.inbound.option_id
    intake.keep_facts(turn.session, turn.customer, text)  # a phone or email typed: kept as such
    intent = Intent.UNKNOWN if option else primary_intent(text)
    flow = turn.conversation.flow

    if flow == "book" and (
        option in ("human", "restart") or intent in (Intent.HUMAN, Intent.RESTART)
    ):
        booking_flow.abandon(turn)  # "never mind": the held slot goes back at once
    if option == "human" or intent is Intent.HUMAN:
        handover(turn)
        return
    if option == "restart" or intent is Intent.RESTART:
        turn.idle()
        turn.say(_("No problem, let's start again. What would you like to do?"), menu())
        return
    if intent is Intent.HELP:
        help_text(turn)
        if flow in REPROMPTS:
            REPROMPTS[flow](turn)
        return
    if (
        flow == "book"
        and intent is Intent.CANCEL
        and turn.conversation.step != "notes"
        and manage_flow.means_a_booked_one(turn, text)
    ):
        # "actually cancel my friday appointment" while booking: stop this booking and
        # cancel that one (behind its own confirmation).
        booking_flow.abandon(turn)
        turn.say(_("OK, I've stopped the new booking."))
        manage_flow.start_cancel(turn, text)
        return
    if flow in FLOWS:
        handed_back = FLOWS[flow](turn)
        if handed_back is not None:
            idle(turn, handed_back)
        return
    idle(turn, intent)


def idle(turn: Turn, intent: Intent) -> None:
    """No dialogue under way: answer a reply to something we asked, or start a flow."""
    expired = turn.data.get("expired")
    turn.forget("expired")
    option = turn.inbound.option_id
    text = turn.inbound.text or ""
    # Asked just now ("Did you also want to cancel your haircut?"): answered before any older
    # open question, so a typed "yes" never confirms a reminder instead.
    offered = turn.data.get("offer_cancel")
    turn.forget("offer_cancel")
    answer = yes_no(text) if offered and option is None else None
    if answer is None and threads.answer(turn):
        return
    if expired:
        turn.say(_("It's been a while, so let's start fresh."))
    if answer is not None:
        # "Did you also want to cancel your haircut?" answered in words.
        if answer:
            manage_flow.start_for(turn, offered, "cancel")
        else:
            turn.say(_("OK, that stays as it is. Anything else?"), menu())
        return
    introduced = extract_name(text) if option is None else None
    if introduced and not turn.customer.name:
        turn.customer.name = introduced  # "hi, Walt here": greet Walt from now on
    if option is None and faq.side_question(text) and faq.answer(turn, text):
        # "what if I cancel?", "is parking available?": questions, not requests — unless
        # the same message asks for a visit too ("parking ok? haircut sat 10 w sam").
        if booking_flow.names_service_and_time(turn, text):
            booking_flow.start(turn, text)
    elif option is None and intent not in _NOT_A_MOVE and manage_flow.reads_as_move(turn, text):
        # "can't make it, same time friday?" moves the appointment they have: never a
        # cancellation, never a second booking.
        manage_flow.start_reschedule(turn, text)
    elif option is None and series_flow.wants_series(turn, text):
        series_flow.start(turn, text)  # "every other Thursday": a series, shown before booked
    elif option == "keep":
        turn.say(_("OK, that stays as it is. Anything else?"), menu())
    elif option == "book" or intent is Intent.BOOK:
        booking_flow.start(turn, text if option is None else "")
    elif option == "mine" or intent is Intent.MY_APPOINTMENTS:
        manage_flow.show_upcoming(turn)
    elif intent is Intent.RESCHEDULE:
        manage_flow.start_reschedule(turn, text)
    elif intent is Intent.CANCEL:
        manage_flow.start_cancel(turn, text)
    elif option and option.startswith("appt:"):
        manage_flow.handle_option(turn, option)
    elif intent in (Intent.PAY, Intent.BALANCE, Intent.INVOICE):
        money_reply(turn, intent)
    elif _ACCOUNT.search(text.lower()):
        account_link(turn)
    elif intent is not Intent.BOOK and faq.answer(turn, text):
        # A question ("how much for a facial?") is answered, not booked — but a request in
        # the same message ("how much is a haircut? one tmrw at 3 w sam") is taken too.
        if booking_flow.names_service_and_time(turn, text):
            booking_flow.start(turn, text)
            return
        topic = faq.asked_service(turn, text)
        if topic:
            draft_of(turn).topic = topic  # "ok book one" next: that service
        return
    elif booking_flow.looks_like_a_request(turn, text):
        booking_flow.start(turn, text)
    elif intent is Intent.THANKS:
        turn.say(_("You're welcome! Anything else I can do?"), menu())
    else:
        greet(turn, intent is Intent.GREETING or introduced is not None)


_NOT_A_MOVE = frozenset({Intent.PAY, Intent.BALANCE, Intent.INVOICE, Intent.MY_APPOINTMENTS})
_ACCOUNT = re.compile(r"\b(my account|account page|portal|my history|my statements?|my invoices)\b")


def account_link(turn: Turn) -> None:
    """A signed, expiring link to the customer's own portal."""
    url = issue_link(turn.session, customer_id=turn.customer.id, role="customer", now=turn.now)
    turn.say(
        t(
            "Here's your account: appointments, invoices and statements. The link is just for you and works for 7 days: {url}",
            url=url,
        )
    )


def greet(turn: Turn, greeted: bool) -> None:
    """Say hello (by name for returning customers) and show what the bot can do."""
    draft_of(turn).topic = None
    name = turn.customer.name
    hello = t("Hi {name}!", name=name.split()[0]) if name else _("Hi!")
    if greeted or not turn.inbound.text.strip():
        turn.say(
            t(
                "{hello} I'm the booking assistant for {business}. I can book, move or cancel appointments. What would you like to do?",
                hello=hello,
                business=turn.business.name,
            ),
            menu(),
        )
    else:
        turn.say(
            _(
                "Sorry, I didn't catch that. I can book, move or cancel appointments, "
                "or put you through to a person."
            ),
            menu(),
        )


def help_text(turn: Turn) -> None:
    """What the bot can do, in one message."""
    turn.say(
        t(
            'I\'m the booking assistant for {business}. Try: "haircut tomorrow at 3", "my appointments", "move my appointment", "cancel", "what do I owe" or "talk to a person". Say "start over" at any time.',
            business=turn.business.name,
        )
    )


def handover(turn: Turn) -> None:
    """Pass the conversation to a person: a hand-over thread (conversations.flows.handover)."""
    person.wants_person(turn)
