"""The portal's web guard (ehsaml/websec.py): Host check, same-origin state changes, a CSRF token on
every form, the security headers.

Every POST but the SAML endpoints (the broker's answer arrives cross-site at /saml/acs, as the scheme
has it) must come from the portal's own pages; every form carries the session's CSRF token (a page on
another port of 127.0.0.1 is the same *site*, so SameSite=Lax alone does not stop it). The tools'
JSON endpoints (/_test/, --testing only) take only application/json, which no form of another page
can send. /logout needs no token: it is a plain link (GET) as well, and ending a session is all it does.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, g, request, session

from ehsaml import websec

from .refusals import Refused
from .settings import PortalSettings

NO_TOKEN = ("/saml/", "/_test/", "/logout")


def guarded(path: str) -> bool:
    return not path.startswith("/saml/")


def csrf_token() -> str:
    """This session's token (made on first use); templates put it in every form and in a meta tag."""
    if not isinstance(session.get("csrf"), str):
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def install(app: Flask, settings: PortalSettings) -> None:
    def refuse(status: int, message: str, where: str):
        code = "host_invalid" if status == 400 else "cross_site_request"
        raise Refused(code, "request", {"why": message}, detail=f"{request.method} {request.path}: {message}",
                      audit_subject={"acting_subject": None, "represented_kvk": None, "intermediary_kvk": None})

    websec.install(app, websec.Guard.for_urls((settings.base_url,), guarded), refuse)
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.after_request
    def _leave_session(response):
        if g.get("leave_session"):
            session.modified = False  # not even a new CSRF token: no Set-Cookie on this answer
        return response

    @app.before_request
    def _csrf():
        if request.method in websec.SAFE_METHODS or request.path.startswith(NO_TOKEN):
            return None
        sent = request.form.get(websec.CSRF_FIELD) or ""
        expected = session.get("csrf")
        if not isinstance(expected, str) or not hmac.compare_digest(sent.encode("utf-8", "replace"),
                                                                     expected.encode("ascii")):
            raise Refused("csrf_invalid", "request", detail=f"{request.method} {request.path}: "
                          + ("no CSRF token" if not sent else "a CSRF token that is not this session's"))
        return None
