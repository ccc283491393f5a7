"""The signing page a customer opens from a signed, expiring link: read, sign, done.

GET  /sign/<token>   the text to sign, a signature pad (canvas) and the typed name
POST /sign/<token>   keep the signature (the form token, the name, the drawn PNG if any)

A tampered or unknown token is a 403 page, an expired one a 410 page, a used one says it is
signed; none shows the text. The page's script is our own, inline, carrying this response's
CSP nonce (script-src has nothing else); without JavaScript the typed name is the signature.
Every response is private (no caching, no referrer, no framing), like the portal's.
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, abort, make_response, redirect, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from bot.billing.documents.signing import complete
from bot.config.context import business_context
from bot.core.clock import utcnow
from bot.core.formatting import format_when
from bot.field.signatures import (
    MAX_PNG_BYTES,
    SigningRefused,
    Status,
    form_ok,
    form_token,
    text_hash,
    verify,
)
from storage.files import Signature, SignatureRequest
from storage.models import Customer
from webhooks.context import current_db
from webhooks.headers import csp_nonce
from webhooks.portal import message_page, private

bp = Blueprint("signing", __name__)

_DATA_URL = "data:image/png;base64,"
_MAX_FIELD = (MAX_PNG_BYTES * 4) // 3 + len(_DATA_URL) + 16

PROBLEMS = {
    Status.INVALID: (403, "This link doesn't work", "It may have been copied only in part."),
    Status.EXPIRED: (
        410,
        "This link has expired",
        "For your security, signing links only work for a few days.",
    ),
}


def _policy(response: Response) -> Response:
    private(response)
    nonce = csp_nonce()
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; "
        f"style-src 'self' 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    )
    return response


@bp.after_request
def _signing_headers(response: Response) -> Response:
    return _policy(response)


def _refuse(status: Status) -> Response:
    code, heading, body = PROBLEMS.get(status, PROBLEMS[Status.INVALID])
    return message_page(
        heading, f"{body} Ask us and we'll send you a new one.", status=code, tone="bad"
    )


def _open(token: str) -> tuple[Status, int | None]:
    with current_db().read() as session:
        check = verify(session, token, utcnow())
        return check.status, check.request_id


def _signed_page(request_id: int) -> Response:
    with current_db().read() as session:
        signature = session.scalars(
            select(Signature).where(Signature.request_id == request_id)
        ).one()
        ctx = business_context(session)
        image = (
            _DATA_URL + base64.b64encode(signature.image_png).decode()
            if signature.image_png
            else None
        )
        html = render_template(
            "signed.html",
            title=signature.title,
            signer=signature.signer_name,
            when=format_when(signature.signed_at, ctx.zone, ctx.locale),
            image=image,
            digest=signature.text_sha256,
        )
    return make_response(html, 200)


def _page(
    token: str, request_id: int, *, error: str = "", name: str = "", code: int = 200
) -> Response:
    with current_db().read() as session:
        row = session.get(SignatureRequest, request_id)
        assert row is not None
        customer = session.get(Customer, row.customer_id)
        html = render_template(
            "sign.html",
            token=token,
            request_title=row.title,
            text=row.text,
            digest=text_hash(row.text),
            csrf=form_token(session, row.id),
            customer_name=customer.name if customer else "",
            error=error,
            name=name or (customer.name if customer else "") or "",
        )
    return make_response(html, code)


@bp.get("/sign/<token>")
def page(token: str) -> ResponseReturnValue:
    """The text to sign and the signature pad (or, once signed, the receipt)."""
    status, request_id = _open(token)
    if status == Status.SIGNED and request_id is not None:
        return _signed_page(request_id)
    if status != Status.OK or request_id is None:
        return _refuse(status)
    return _page(token, request_id)


def _drawn(raw: str) -> bytes | None:
    """The PNG from the pad's data URL; None when there is none; SigningRefused if broken."""
    if not raw:
        return None
    if len(raw) > _MAX_FIELD or not raw.startswith(_DATA_URL):
        raise SigningRefused("The drawn signature could not be read. Please sign again.")
    try:
        return base64.b64decode(raw[len(_DATA_URL) :], validate=True)
    except (binascii.Error, ValueError) as error:
        raise SigningRefused("The drawn signature could not be read. Please sign again.") from error


@bp.post("/sign/<token>")
def submit(token: str) -> ResponseReturnValue:
    """Keep the signature: name, drawn image (if any), time, IP; then show the receipt."""
    now = utcnow()
    name = request.form.get("name", "")
    with current_db().write() as session:
        check = verify(session, token, now)
        if check.status == Status.SIGNED:
            return redirect(f"/sign/{token}", code=303)
        if not check.ok or check.request_id is None:
            return _refuse(check.status)
        if not form_ok(session, check.request_id, request.form.get("csrf")):
            abort(
                message_page(
                    "Please try again",
                    "This form was out of date. Go back, reload the page and sign again.",
                    status=403,
                    tone="bad",
                )
            )
        row = session.get(SignatureRequest, check.request_id)
        assert row is not None
        try:
            complete(
                session,
                row,
                name=name,
                now=now,
                image_png=_drawn(request.form.get("signature", "")),
                ip=request.remote_addr,
                user_agent=request.headers.get("User-Agent"),
            )
        except SigningRefused as refused:
            problem = str(refused)
            request_id = check.request_id
        else:
            return redirect(f"/sign/{token}", code=303)
    return _page(token, request_id, error=problem, name=name, code=400)
