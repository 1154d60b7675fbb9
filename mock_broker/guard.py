"""The broker's web guard (ehsaml/websec.py): who may change its state, and the tokens of its forms.

The control surface (/_mock/, /beheer, the login page's forms) changes state only for the broker's own
pages and for clients that are no browser; the SAML endpoints (/saml/) stay open to every origin, as
the scheme needs (a DV's page POSTs its AuthnRequest cross-site; their messages are signed).
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, current_app, request

from ehsaml import bindings, websec

from .errors import BrokerRefusal
from .settings import BrokerSettings

# /beheer's forms are bound to this cookie (HttpOnly, SameSite=Strict): a page of another site can
# neither read it nor have it sent with a form it submits.
BEHEER_COOKIE = "mock_broker_beheer"


def guarded(path: str) -> bool:
    return not path.startswith("/saml/")


def install(app: Flask, settings: BrokerSettings, refuse) -> None:
    guard = websec.Guard.for_urls((settings.base_url, *settings.public_urls), guarded)
    websec.install(app, guard, refuse)
    secret = (settings.csrf_secret or secrets.token_urlsafe(32)).encode("utf-8")
    app.extensions["mock_broker_csrf"] = websec.CsrfTokens(secret)
    app.jinja_env.globals["csrf_token"] = form_token


def _tokens() -> websec.CsrfTokens:
    return current_app.extensions["mock_broker_csrf"]


def form_token(purpose: str, bound_to: str) -> str:
    return _tokens().token(purpose, bound_to)


def check_form(purpose: str, bound_to: str | None, *, where: str) -> None:
    """Refuse a submitted form whose CSRF token is not this form's (403, nothing changed)."""
    token = request.form.get(websec.CSRF_FIELD)
    if not _tokens().valid(token, purpose, bound_to):
        problem = "has no CSRF token" if not token else "carries a CSRF token that is not this page's"
        raise BrokerRefusal(f"the form {problem}: submit it from the page the broker served (reload it); nothing "
                            "was changed", where=where, http_status=403)


def beheer_session() -> tuple[str, bool]:
    """(this browser's /beheer session id, whether it is new and must be set as a cookie)."""
    value = request.cookies.get(BEHEER_COOKIE) or ""
    if 20 <= len(value) <= 100:
        return value, False
    return secrets.token_urlsafe(24), True


def set_beheer_cookie(response, value: str) -> None:
    response.set_cookie(BEHEER_COOKIE, value, httponly=True, samesite="Strict", path="/beheer")


def auto_post_response(form_html: str) -> Response:
    """A SAML auto-post form (bindings.post_form): its one script allowed by hash, no other."""
    return Response(form_html, mimetype="text/html",
                    headers={"Content-Security-Policy": websec.csp(script_hashes=[bindings.POST_FORM_SCRIPT_CSP])})
