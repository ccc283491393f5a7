"""Payment pages and the Stripe webhook.

/pay/<token>                   the pay link: amount due now (or ?amount= part of it, any
                               amount from the online minimum up), "save my card", Pay
/pay/<token> (POST)            make a checkout session for the current balance, 303 to it
/pay/<token>/done              where checkout returns: "Paid, thank you" (or "processing")
/pay/<token>/invoice.pdf       the invoice as a PDF
/stripe/webhook (POST)         verified with the raw body; deduplicated by event id; kept in
                               the spool (and handled by the worker) while the database fails
/sandbox/checkout/<id>         TEST MODE checkout, only in sandbox mode (webhooks/exposure.py:
                               no STRIPE_SECRET_KEY, and loopback or SLOTBOT_PAYMENTS=sandbox)

With neither Stripe nor the sandbox, a pay link shows the amount due and how to pay
offline (business.toml `[billing] offline_payment`), with no Pay button.

Pages are server-rendered, work without JavaScript, and are sent with no-store and
no-referrer (a pay link's token must not leak into caches or to the checkout page).
"""

from __future__ import annotations

import io
import logging
from urllib.parse import quote

from babel.numbers import get_currency_symbol
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
)
from flask.typing import ResponseReturnValue

from bot.billing.documents.delivery import invoice_pdf
from bot.billing.ledger.invoices import get_invoice
from bot.billing.ledger.minimums import OTHER_WAYS, online_minimum
from bot.billing.payments.gateway import (
    GatewayError,
    PaymentGateway,
    WebhookRejected,
    stripe_configured,
)
from bot.billing.payments.links import find_link
from bot.billing.payments.online import (
    PayPage,
    Redirect,
    checkout_attempt,
    handle_event,
    new_nonce,
    pay_page,
    provider_customer_id,
    start_checkout,
)
from bot.billing.payments.partial import amount_field, chosen_amount
from bot.billing.payments.sandbox import SandboxGateway, checkout_event
from bot.billing.payments.stripe_gateway import verify_webhook
from bot.config import process
from bot.config.context import BusinessContext, business_context
from bot.core.clock import utcnow
from bot.core.errors import InvalidRequest
from bot.core.logcontext import delivery
from bot.core.money import digits
from bot.core.text import _
from bot.messaging.inbox import Keeping, spool_or_lose
from bot.messaging.spool import DATABASE_ERRORS, SpoolKind
from storage.billing import CheckoutAttempt, Invoice, PayLink
from webhooks import stripe_shape
from webhooks.context import current_config, current_db
from webhooks.exposure import Payments
from webhooks.spooling import app_spool

log = logging.getLogger(__name__)
bp = Blueprint("payments", __name__)


def payments() -> Payments:
    """How this server takes payments: Stripe while STRIPE_SECRET_KEY is set (billing picks
    its gateway from the environment on each call, and the pages agree); else the sandbox or
    offline, as decided at start (webhooks/exposure.py)."""
    if stripe_configured():
        return Payments.STRIPE
    return current_app.extensions["slotbot.exposure"].without_stripe


def _sandbox() -> bool:
    return payments() is Payments.SANDBOX


def _gateway() -> PaymentGateway | None:
    """The sandbox when that is the mode; else None (billing picks Stripe from the env)."""
    return SandboxGateway() if _sandbox() else None


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _message(
    heading: str,
    body: str,
    *,
    status: int = 200,
    business: str = "",
    tone: str = "",
    action: tuple[str, str] | None = None,
    pdf_url: str | None = None,
    refresh: int | None = None,
) -> ResponseReturnValue:
    html = render_template(
        "payments/message.html",
        heading=heading,
        body=body,
        business=business,
        tone=tone,
        action_url=action[0] if action else None,
        action_label=action[1] if action else None,
        pdf_url=pdf_url,
        refresh=refresh,
        live=refresh is not None,
        sandbox=_sandbox(),
    )
    return html, status


def _page_for(page: PayPage) -> ResponseReturnValue:
    """The page for a link that cannot (or need not) be paid now."""
    if page.kind == "below_minimum":
        # Too little for the provider to take (Stripe's minimum charge): no checkout.
        return _message(
            "Please pay another way",
            f"{page.amount} is still due on invoice {page.invoice_number}. That is below the "
            f"{page.minimum} minimum for paying online, so {OTHER_WAYS}.",
            business=page.business,
            pdf_url=f"/pay/{page.token}/invoice.pdf",
        )
    if page.kind == "paid":
        return _message(
            "Paid, thank you",
            f"Invoice {page.invoice_number} is paid in full. A receipt is on its way.",
            business=page.business,
            tone="ok",
            pdf_url=f"/pay/{page.token}/invoice.pdf",
        )
    if page.kind == "void":
        return _message(
            "This invoice was cancelled",
            f"Invoice {page.invoice_number} no longer needs paying. Questions? Just reply to our message.",
            status=410,
            business=page.business,
        )
    return _message(
        "Link not found",
        "This payment link is not valid any more. Message us and we'll send a new one.",
        status=404,
    )


@bp.get("/pay/<token>")
def pay(token: str) -> ResponseReturnValue:
    """The pay link's page: what is due now, and a Pay button."""
    with current_db().read() as session:
        page = pay_page(session, token)
    if page.kind != "pay":
        return _page_for(page)
    return _pay_form(page, request.args.get("amount"))


def _pay_form(
    page: PayPage, amount: str | None, error: str = "", status: int = 200, typed: str = ""
) -> ResponseReturnValue:
    """The pay page, its amount box filled with `amount` (a part payment) or the balance."""
    with current_db().read() as session:
        ctx = business_context(session)
    chosen = chosen_amount(ctx, amount, page.balance_minor, page.currency)
    if isinstance(chosen, str):
        chosen = page.balance_minor  # a link with a bad ?amount= still pays the balance
    shown = (typed or "")[:32] if error else amount_field(chosen, page.currency)
    html = render_template(
        "payments/pay.html",
        page=page,
        business=page.business,
        nonce=new_nonce(),
        sandbox=_sandbox(),
        offline=_(current_config().billing.offline_payment)
        if payments() is Payments.OFFLINE
        else None,
        amount_value=shown,
        amount_label="" if error else ctx.money(chosen),
        partial=online_minimum(page.currency) < page.balance_minor,
        symbol=get_currency_symbol(page.currency, locale=ctx.locale),
        decimals=digits(page.currency),
        error=error,
    )
    return html, status


@bp.post("/pay/<token>")
def pay_submit(token: str) -> ResponseReturnValue:
    """Start checkout for the balance as it is now."""
    if payments() is Payments.OFFLINE:
        # the page says how to pay instead; the token quoted, as any path a client sends may be
        return redirect(f"/pay/{quote(token, safe='')}", code=303)
    with current_db().read() as session:
        page = pay_page(session, token)
        ctx = business_context(session)
    if page.kind != "pay":
        return _page_for(page)
    raw = request.form.get("amount")
    chosen = chosen_amount(ctx, raw, page.balance_minor, page.currency)
    if isinstance(chosen, str):
        return _pay_form(page, None, error=chosen, status=422, typed=raw or "")
    try:
        outcome = start_checkout(
            current_db(),
            token,
            nonce=request.form.get("nonce"),
            save_card=request.form.get("save_card") == "1",
            now=utcnow(),
            gateway=_gateway(),
            amount_minor=chosen if raw else None,
        )
    except InvalidRequest:  # the balance changed under the form: show it as it is now
        return _pay_form(
            page, None, error="The amount due has changed; please check it.", status=409
        )
    except GatewayError as exc:
        log.error("checkout could not be started for a pay link: %s", exc)
        if exc.retryable:
            return _message(
                "Payments are unavailable",
                "We couldn't reach the payment provider. Please try again in a minute.",
                status=502,
                action=(f"/pay/{token}", "Try again"),
            )
        return _message(
            "Online payment isn't possible right now",
            f"The payment provider refused this payment, so {OTHER_WAYS}.",
            status=502,
        )
    if isinstance(outcome, Redirect):
        return redirect(outcome.url, code=303)
    return _page_for(outcome)


@bp.get("/pay/<token>/done")
def pay_done(token: str) -> ResponseReturnValue:
    """Where checkout sends the customer back: paid, or still being confirmed."""
    with current_db().read() as session:
        page = pay_page(session, token)
    if page.kind != "pay":
        return _page_for(page)
    return _message(
        "Payment processing",
        "Thanks! We're waiting for the payment to be confirmed; this page updates by itself.",
        business=page.business,
        refresh=5,
        action=(f"/pay/{token}", "Back to the invoice"),
    )


@bp.get("/pay/<token>/invoice.pdf")
def pay_pdf(token: str) -> ResponseReturnValue:
    """The invoice behind a pay link, as a PDF."""
    with current_db().read() as session:
        link = find_link(session, token)
        if link is None:
            abort(404)
        invoice = get_invoice(session, link.invoice_id)
        data = invoice_pdf(session, invoice, now=utcnow(), url=None)
        name = f"{invoice.number or 'invoice'}.pdf"
    return send_file(io.BytesIO(data), mimetype="application/pdf", download_name=name)


@bp.post("/stripe/webhook")
def stripe_webhook() -> ResponseReturnValue:
    """A Stripe event: 400 unless its signature checks out; 200 once handled, seen or spooled."""
    payload = request.get_data()  # the raw bytes: the signature covers exactly these
    try:
        event = verify_webhook(
            payload,
            request.headers.get("Stripe-Signature"),
            process.current().stripe_webhook_secret,
        )
    except WebhookRejected as exc:
        log.warning("refused a Stripe webhook: %s", exc)
        return jsonify(error="invalid signature"), 400
    malformed = stripe_shape.problem(event)
    if malformed is not None:
        log.warning("refused a signed Stripe webhook: %s", malformed)
        return jsonify(error=f"not a Stripe event: {malformed}"), 400
    with delivery(str(event.get("id"))):
        try:
            outcome = handle_event(current_db(), event, now=utcnow(), provider="stripe")
        except DATABASE_ERRORS as exc:
            # Verified, but the database refuses it: keep it for the worker rather than lean
            # on Stripe's retries (which give up after three days).
            kept = spool_or_lose(app_spool(), SpoolKind.STRIPE, str(event.get("id")), event, exc)
            if kept is Keeping.LOST:
                return jsonify(error="could not be stored; retry"), 503
            outcome = str(kept)
        log.info("stripe %s: %s", event.get("type"), outcome)
    return jsonify(received=True, outcome=outcome), 200


def _sandbox_attempt(
    session_id: str,
) -> tuple[CheckoutAttempt, str, BusinessContext, Invoice, str | None]:
    """The sandbox checkout's click, link token, business, invoice and customer ref; or 404."""
    if not _sandbox():
        abort(404)  # with Stripe, or with no online payment, there is no fake checkout
    with current_db().read() as session:
        attempt = checkout_attempt(session, session_id)
        if attempt is None or attempt.provider != "sandbox":
            abort(404)
        link = session.get(PayLink, attempt.pay_link_id)
        invoice = get_invoice(session, attempt.invoice_id)
        ctx = business_context(session)
        customer_ref = provider_customer_id(session, invoice.customer_id, "sandbox")
        token = link.token if link else ""
        return attempt, token, ctx, invoice, customer_ref


@bp.get("/sandbox/checkout/<session_id>")
def sandbox_checkout(session_id: str) -> ResponseReturnValue:
    """The TEST MODE checkout page: pay or fail, no real money."""
    attempt, token, ctx, invoice, _ = _sandbox_attempt(session_id)
    return render_template(
        "payments/sandbox_checkout.html",
        business=ctx.name,
        sandbox=True,
        session_id=session_id,
        invoice_number=invoice.number,
        amount=ctx.money(attempt.amount_minor),
        save_card=attempt.save_card,
        cancel_url=f"/pay/{token}",
    )


@bp.post("/sandbox/checkout/<session_id>")
def sandbox_submit(session_id: str) -> ResponseReturnValue:
    """Record the test payment (or failure) exactly as the Stripe webhook would."""
    attempt, token, ctx, invoice, customer_ref = _sandbox_attempt(session_id)
    paid = request.form.get("action") == "pay"
    now = utcnow()
    event = checkout_event(attempt, customer_ref, paid=paid, now=now)
    handle_event(current_db(), event, now=now, provider="sandbox", gateway=SandboxGateway())
    if paid:
        return redirect(f"/pay/{token}/done", code=303)
    return _message(
        "Payment failed (test)",
        f"The test payment for {invoice.number} was declined. Nothing was charged.",
        business=ctx.name,
        tone="bad",
        action=(f"/pay/{token}", "Try again"),
    )
