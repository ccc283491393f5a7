"""Security headers on every response, and the per-request CSP nonce the templates use.

Every HTML page gets a Content-Security-Policy (scripts and styles only from this app or
carrying this response's nonce; no framing, no plugins, no <base> tricks),
`X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff` and a Referrer-Policy. A blueprint
that sets a stricter policy of its own (the portal's, the pay pages' no-referrer) keeps it:
these are defaults, laid under what a page already says.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g

# The pay form posts to this app, which answers 303 to the provider's checkout: no
# form-action here (Chromium applies it to that redirect too).
_POLICY = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'nonce-{nonce}'; "
    "img-src 'self' https: data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def csp_nonce() -> str:
    """This response's nonce for inline <script> and <style> (made on first use)."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return str(nonce)


def content_security_policy() -> str:
    """The default policy for an HTML page, with this response's nonce."""
    return _POLICY.format(nonce=csp_nonce())


def _secure(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        headers.setdefault("Content-Security-Policy", content_security_policy())
    return response


def install(app: Flask) -> None:
    """Add the headers to every response of `app` and `csp_nonce()` to its templates."""
    app.after_request(_secure)
    app.context_processor(lambda: {"csp_nonce": csp_nonce})
