"""The customer portal's offers tick: say yes or no to promotions from the account page.

POST /portal/<token>/offers   (offers=on or absent) records a consent event for each of the
customer's chat identities, source "portal", words "portal: ticked" / "portal: unticked".
The route joins the portal's blueprint (its link check, form token, headers, rate limits).
"""

from __future__ import annotations

from flask import redirect, request
from flask.typing import ResponseReturnValue

from bot.core.clock import utcnow
from bot.engagement import consent
from storage.portal import CUSTOMER
from webhooks.context import current_db
from webhooks.portal import NOTICES, bp, open_link, require_form

NOTICES.update(
    {
        "offers_on": "Thanks: we'll send you our offers now and then. Untick it any time.",
        "offers_off": "Done: no more offers. You'll still get confirmations and reminders.",
    }
)


@bp.post("/portal/<token>/offers")
def offers(token: str) -> ResponseReturnValue:
    """Tick or untick "send me offers"."""
    now = utcnow()
    wanted = request.form.get("offers") == "on"
    with current_db().write() as session:
        check = open_link(session, token, CUSTOMER)
        require_form(session, check)
        assert check.customer_id is not None
        consent.record_for_customer(
            session,
            check.customer_id,
            granted=wanted,
            words="portal: ticked" if wanted else "portal: unticked",
            source="portal",
            now=now,
        )
    return redirect(f"/portal/{token}?notice={'offers_on' if wanted else 'offers_off'}", code=303)
