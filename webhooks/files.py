"""Photos, files and signatures on the web: the owner's appointment page and files page, the
customer's own files from the portal, and the web chat's upload endpoint.

GET  /dashboard/<token>/appointments/<id>   one appointment: facts, photos, signatures
POST /dashboard/<token>/appointments/<id>/sign   send the customer the link for a form
GET  /dashboard/<token>/files               every customer's files, newest first
GET  /dashboard/<token>/files/<id>          one stored file (images inline, others download)
GET  /portal/<token>/files/<id>             one of the customer's own stored files
POST /portal/<token>/estimates/<id>/sign    approve an estimate by signing it (303 to /sign/…)
POST /api/chat/upload                       multipart: `session` (or `as=owner` is refused),
                                            `file` (one or more), optional `text`

Stored bytes are served with the type sniffed when they were received, `nosniff`, and as a
download unless they are a photo, so an upload can never run as a page of this site.
"""

from __future__ import annotations

import io
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
)
from flask.typing import ResponseReturnValue
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.billing.documents.signing import request_for_estimate
from bot.config.context import business_context
from bot.core.clock import utcnow
from bot.customers import attachments
from bot.customers.attachments import MAX_BYTES, UploadRefused, receive_upload
from bot.field import signatures
from bot.messaging.messages import WEB
from storage.billing import ESTIMATE_SENT, Estimate
from storage.files import Attachment
from storage.models import AdminAudit, Appointment, Customer
from storage.portal import CUSTOMER, OWNER
from webhooks import appointment_page
from webhooks.context import current_db
from webhooks.file_views import attachment_views, signature_views
from webhooks.portal import (
    Formats,
    formats,
    not_found,
    open_link,
    private,
    require_form,
)

bp = Blueprint("files", __name__)
SIGN_NOTICES = {
    "sent": "The link to sign is on its way to the customer.",
    "unsent": "No link was sent: the customer can't be reached by message.",
}

MAX_FILES = 5
UPLOAD_BODY = 2 * MAX_BYTES + 64 * 1024  # one upload request: the app's 1 MB cap is for JSON
_SESSION_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


@bp.before_app_request  # app-wide and registered early: before anything reads the form
def _upload_size() -> None:
    if request.endpoint == "files.upload":
        request.max_content_length = UPLOAD_BODY


@bp.after_request
def _private(response: Response) -> Response:
    if request.endpoint == "files.upload":
        return response
    return private(response)


def _names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(select(Customer.id, Customer.name).where(Customer.id.in_(ids)))
    return {cid: name or f"Customer {cid}" for cid, name in rows}


# ------------------------------------------------------------------------- the dashboard


def appointment_section(
    session: Session, appointment: Appointment, fmt: Formats
) -> tuple[str, dict[str, Any]]:
    """The appointment page's photos, files and signatures (a section of appointment_page)."""
    token = (request.view_args or {}).get("token", "")
    waiting = [
        {"kind": str(kind), "text": f"{kind.capitalize()}-job signature: not signed yet."}
        for kind in (signatures.Kind.BEFORE, signatures.Kind.AFTER)
        if signatures.missing(session, appointment, kind)
    ]
    return "files/_appointment_section.html", {
        "files": attachment_views(
            attachments.for_appointment(session, appointment.id),
            f"/dashboard/{token}/files",
            fmt.when,
        ),
        "signatures": signature_views(
            signatures.for_appointment(session, appointment.id), fmt.when
        ),
        "waiting": waiting,
        "notice": SIGN_NOTICES.get(request.args.get("notice", "")),
    }


appointment_page.SECTIONS.append(appointment_section)


@bp.post("/dashboard/<token>/appointments/<int:appointment_id>/sign")
def ask_signature(token: str, appointment_id: int) -> ResponseReturnValue:
    """Send the customer the link to sign the appointment's before- or after-job form."""
    now = utcnow()
    with current_db().write() as session:
        check = open_link(session, token, OWNER)
        require_form(session, check)
        appointment = session.get(Appointment, appointment_id)
        if appointment is None:
            not_found()
        try:
            kind = signatures.Kind(request.form.get("kind", ""))
        except ValueError:
            abort(400)
        request_row = signatures.request_for_appointment(
            session, appointment, kind, requested_by="owner:dashboard", now=now
        )
        business = business_context(session, required=False)
        sent = request_row is not None and signatures.send_link(
            session, request_row, business.name if business.configured else "", now
        )
        session.add(
            AdminAudit(
                actor="dashboard",
                role="owner",
                channel="web",
                action="signature_request",
                detail={"appointment": appointment_id, "kind": str(kind), "sent": sent},
                at=now,
            )
        )
    notice = "sent" if sent else "unsent"
    return redirect(f"/dashboard/{token}/appointments/{appointment_id}?notice={notice}", code=303)


@bp.get("/dashboard/<token>/files")
def all_files(token: str) -> ResponseReturnValue:
    """Every customer's photos and files, newest first."""
    with current_db().read() as session:
        open_link(session, token, OWNER)
        fmt = formats(session)
        rows = attachments.recent(session)
        names = _names(session, {r.customer_id for r in rows if r.customer_id is not None})
        views = attachment_views(rows, f"/dashboard/{token}/files", fmt.when)
        for view in views:
            view["customer"] = names.get(view["customer_id"] or 0, "")
        return render_template(
            "files/all.html",
            token=token,
            tab="files",
            base=f"/dashboard/{token}",
            notice=None,
            files=views,
        )


def _serve(row: Attachment) -> Response:
    if row.data is None:
        not_found()
    inline = attachments.is_image(row)
    response = send_file(
        io.BytesIO(row.data),
        mimetype=row.content_type
        if inline or row.content_type == "application/pdf"
        else "application/octet-stream",
        as_attachment=not inline,
        download_name=row.filename or f"file-{row.id}",
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/dashboard/<token>/files/<int:file_id>")
def dashboard_file(token: str, file_id: int) -> ResponseReturnValue:
    """One stored file, for the owner."""
    with current_db().read() as session:
        open_link(session, token, OWNER)
        row = session.get(Attachment, file_id)
        if row is None:
            not_found()
        return _serve(row)


# ---------------------------------------------------------------------------- the portal


@bp.get("/portal/<token>/files/<int:file_id>")
def portal_file(token: str, file_id: int) -> ResponseReturnValue:
    """One of the customer's own stored files (someone else's is a plain 404)."""
    with current_db().read() as session:
        check = open_link(session, token, CUSTOMER)
        row = session.scalars(
            select(Attachment).where(
                Attachment.id == file_id, Attachment.customer_id == check.customer_id
            )
        ).first()
        if row is None:
            not_found()
        return _serve(row)


@bp.post("/portal/<token>/estimates/<int:estimate_id>/sign")
def sign_estimate(token: str, estimate_id: int) -> ResponseReturnValue:
    """Open the signing page for one of the customer's sent estimates."""
    now = utcnow()
    with current_db().write() as session:
        check = open_link(session, token, CUSTOMER)
        require_form(session, check)
        estimate = session.scalars(
            select(Estimate).where(
                Estimate.id == estimate_id,
                Estimate.customer_id == check.customer_id,
                Estimate.status == ESTIMATE_SENT,
            )
        ).first()
        if estimate is None:
            not_found()
        request_row = request_for_estimate(
            session, estimate.id, requested_by=f"customer:portal:{check.link_id}", now=now
        )
        if request_row is None:
            not_found()
        target = signatures.path_for(session, request_row)
    return redirect(target, code=303)


# -------------------------------------------------------------------------- the web chat


@bp.post("/api/chat/upload")
def upload() -> ResponseReturnValue:
    """Keep photos or PDFs a web-chat customer (or staff member) sends; JSON answer."""
    session_id = request.form.get("session", "")
    if not (8 <= len(session_id) <= 64 and set(session_id) <= _SESSION_CHARS):
        abort(400, description="session must be 8-64 letters, digits, - or _")
    files = request.files.getlist("file")
    if not files:
        abort(400, description="no file: send it as the multipart field 'file'")
    if len(files) > MAX_FILES:
        abort(400, description=f"up to {MAX_FILES} files at a time")
    loaded = []
    for item in files:
        data = item.stream.read(MAX_BYTES + 1)
        name = (item.filename or "").replace("\\", "/").rsplit("/", 1)[-1]
        # No control characters (a CR/LF would make the file unservable in a header).
        name = "".join(ch for ch in name if ch.isprintable())[:200] or None
        loaded.append((data, name))
    now = utcnow()
    text = (request.form.get("text") or "")[:200]
    with current_db().write() as session:
        business = business_context(session, required=False)
        try:
            stored = receive_upload(
                session,
                channel=WEB,
                address=session_id,
                staff_identities=business.staff_identities,
                files=loaded,
                text=text,
                now=now,
            )
        except UploadRefused as refused:
            return jsonify({"ok": False, "error": str(refused)}), 415
        except LookupError:
            return jsonify(
                {"ok": False, "error": "Say hello in the chat first, then send the file."}
            ), 409
    count = len(stored.attachments)
    where = (
        f"with your appointment #{stored.appointment_id}"
        if stored.appointment_id
        else "on your account"
    )
    noun = "file" if count == 1 else "files"
    return jsonify(
        {
            "ok": True,
            "attachments": list(stored.attachments),
            "appointment_id": stored.appointment_id,
            "message": f"Thanks, we've got your {noun}: kept {where}.",
        }
    )
