"""The app factory: settings, keys (loaded once), database (migrated and seeded on start), blueprints."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, g, redirect, render_template, request, session, url_for
from werkzeug.exceptions import HTTPException, InternalServerError

from . import data, guard, seed
from .db import Pool, connect, migrate
from .refusals import Refused
from .settings import PortalSettings
from .sp import ServiceProvider
from .views import ALL_BLUEPRINTS
from .web import close_db, db, outbox_size, render_refusal, subject_of

log = logging.getLogger("example_portal")


def create_app(settings: PortalSettings | None = None) -> Flask:
    settings = settings or PortalSettings()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key or secrets.token_hex(32),
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        MAX_CONTENT_LENGTH=512 * 1024,
    )
    migrate(settings.db_path)
    if settings.seed_file is not None:
        conn = connect(settings.db_path)
        try:
            if seed.is_empty(conn):
                seed.load_file(conn, settings.seed_file)
        finally:
            conn.close()
    keypair = _keypair(settings)
    app.extensions["example_portal"] = {"settings": settings, "sp": ServiceProvider(settings, keypair),
                                        "keypair": keypair, "db": Pool(settings.db_path)}
    app.teardown_appcontext(close_db)
    # The session cookie stays SameSite=Lax: the broker's answer (a redirect with SAMLart) is a
    # navigation from the broker's site, and a Strict cookie would not come along (README, "cookies").
    guard.install(app, settings)
    app.register_error_handler(Refused, _refused)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _server_error)
    app.context_processor(lambda: {"login": session.get("login"), "testing": settings.testing,
                                   "outbox_size": outbox_size if settings.testing else None})
    for bp in ALL_BLUEPRINTS:
        app.register_blueprint(bp)
    return app


def _keypair(settings: PortalSettings):
    from .dvconfig import portal_keypair
    return portal_keypair(settings.key_file, settings.cert_file)


def _refused(exc: Refused):
    """Every refusal: an audit entry (only that is written), last_refusal for /whoami, a page with the reason.

    A refusal at the ACS is kept in the session and shown by a redirect (303) to /melding: reloading that page,
    or going Back to it, shows the refusal again instead of sending the spent answer to the ACS once more."""
    reason = exc.reason
    rec = session.get("login")
    who = exc.audit_subject if exc.audit_subject is not None else subject_of(rec)
    detail = exc.detail or exc.params.get("check")
    ref = data.audit(db(), action=exc.action, outcome="refused", reason_code=exc.code, detail=detail, **who)
    if not reason.session:
        # A forged or foreign request: its answer must not touch the browser's session (a cross-site POST
        # comes without the Lax cookie; a new session cookie on the answer would log the user out).
        g.leave_session = True
        return render_refusal(exc, ref=ref, logged_in=False)
    if reason.ends_login:
        session.pop("login", None)
    at_acs = request.endpoint == "auth.acs"
    session["last_refusal"] = exc.to_session(ref) | ({"at_acs": True} if at_acs else {})
    log.info("refused %s (%s): %s", exc.code, exc.action, detail)
    if at_acs:
        return redirect(url_for("auth.notice"), code=303)
    return render_refusal(exc, ref=ref, logged_in=bool(session.get("login")))


def _http_error(exc: HTTPException):
    """Flask's own errors (no such page, wrong method, too large) as the portal's pages; never a stack trace."""
    code = exc.code or 500
    titles = {404: ("Pagina niet gevonden", "Page not found"), 405: ("Dat kan hier niet", "Not allowed here"),
              413: ("Te veel gegevens", "Too much data")}
    texts = {404: ("Deze pagina bestaat niet (meer). Controleer het adres, of ga naar de startpagina.",
                   "This page does not exist (any more). Check the address, or go to the home page."),
             405: (f"Een {request.method}-verzoek kan niet op dit adres.", f"A {request.method} request is not "
                   "possible at this address."),
             413: ("Het formulier bevat te veel gegevens.", "The form holds too much data.")}
    title = titles.get(code, ("Er ging iets mis", "Something went wrong"))
    text = texts.get(code, ("Probeer het later opnieuw.", "Please try again later."))
    reason = {404: "not_found", 405: "method_not_allowed", 413: "input_invalid"}.get(code, "server_error")
    return render_template("error.html", code=code, title_nl=title[0], title_en=title[1], nl=text[0],
                           en=text[1], reason=reason), code


def _server_error(exc: Exception):
    log.exception("server error at %s %s", request.method, request.path)
    return render_template("error.html", code=500, title_nl="Er ging iets mis", title_en="Something went wrong",
                           nl="Er ging iets mis in het werkgeversportaal. Probeer het later opnieuw.",
                           en="Something went wrong in the employer portal. Please try again later.",
                           reason="server_error"), 500
