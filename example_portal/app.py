"""The app factory: settings, keys (loaded once), database (migrated and seeded on start), blueprints."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, g, render_template, session

from . import data, guard, seed
from .db import connect, migrate
from .refusals import Refused
from .settings import PortalSettings
from .sp import ServiceProvider
from .views import ALL_BLUEPRINTS
from .web import close_db, db, subject_of

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
                                        "keypair": keypair}
    app.teardown_appcontext(close_db)
    # The session cookie stays SameSite=Lax: the broker's answer (a redirect with SAMLart) is a
    # navigation from the broker's site, and a Strict cookie would not come along (README, "cookies").
    guard.install(app, settings)
    app.register_error_handler(Refused, _refused)
    app.context_processor(lambda: {"login": session.get("login"), "testing": settings.testing})
    for bp in ALL_BLUEPRINTS:
        app.register_blueprint(bp)
    return app


def _keypair(settings: PortalSettings):
    from .dvconfig import portal_keypair
    return portal_keypair(settings.key_file, settings.cert_file)


def _refused(exc: Refused):
    """Every refusal: an audit entry (only that is written), last_refusal for /whoami, a page with the reason."""
    reason = exc.reason
    rec = session.get("login")
    who = exc.audit_subject if exc.audit_subject is not None else subject_of(rec)
    detail = exc.detail or exc.params.get("check")
    data.audit(db(), action=exc.action, outcome="refused", reason_code=exc.code, detail=detail, **who)
    if not reason.session:
        # A forged or foreign request: its answer must not touch the browser's session (a cross-site POST
        # comes without the Lax cookie; a new session cookie on the answer would log the user out).
        g.leave_session = True
        return render_template("refusal.html", r=reason, exc=exc, text_nl=exc.text_nl(), text_en=exc.text_en(),
                               logged_in=False), reason.http_status
    if reason.ends_login:
        session.pop("login", None)
    session["last_refusal"] = {"code": exc.code, "rule": reason.rule, "reason": exc.text_nl(),
                               "reason_en": exc.text_en(), "check": exc.params.get("check"), "detail": (exc.detail or "")[:500] or None}
    log.info("refused %s (%s): %s", exc.code, exc.action, detail)
    return render_template("refusal.html", r=reason, exc=exc, text_nl=exc.text_nl(), text_en=exc.text_en(),
                           logged_in=bool(session.get("login"))), reason.http_status
