"""Logging in and out: home, /login, the ACS, logout and SLO, and the old password login (P1)."""

from __future__ import annotations

import re

from flask import Blueprint, redirect, render_template, request, session, url_for

from ehsaml import bindings, ns
from ehsaml.errors import SamlError
from ehsaml.dv.login import LoginResult

from .. import access, dvconfig
from ..refusals import Refused, authn_failed_cause
from ..settings import Binding, Defect
from ..web import audit_ok, db, login, render_refusal, settings, sp

bp = Blueprint("auth", __name__)
MAX_BROWSER_REQUESTS = 5


@bp.get("/")
def home():
    return render_template("home.html", services=dvconfig.services())


@bp.get("/privacy")
def privacy():
    return render_template("privacy.html")


@bp.get("/login")
def start_login():
    """A signed AuthnRequest by HTTP-Redirect naming the chosen service by AttributeConsumingServiceIndex."""
    raw = request.args.get("service", "1")
    service = dvconfig.service_by_index(int(raw)) if re.fullmatch(r"[0-9]{1,3}", raw) else None
    if service is None:
        raise Refused("input_invalid", "login", {"field": "service", "problem_nl": "kies 1 of 2",
                                                 "problem_en": "choose 1 or 2"})
    answer_binding = None
    if settings().testing and request.args.get("binding"):  # tools may pick the answer binding per login
        try:
            answer_binding = Binding(request.args["binding"])
        except ValueError:
            raise Refused("input_invalid", "login", {"field": "binding", "problem_nl": "kies artifact of post",
                                                     "problem_en": "choose artifact or post"}) from None
    session.pop("login", None)  # a new login replaces the old one
    session["login_service"] = service.index  # the refusal page of a no-mandate answer offers the other service
    request_id, url = sp().login_redirect(service, answer_binding)
    session["req_ids"] = (session.get("req_ids", []) + [request_id])[-MAX_BROWSER_REQUESTS:]
    return redirect(url, code=302)


@bp.route("/saml/acs", methods=["GET", "POST"])
def acs():
    """The AssertionConsumerService: SAMLart (GET or POST) or SAMLResponse (POST)."""
    session.pop("login", None)
    artifact = request.values.get("SAMLart")
    saml_response = request.form.get("SAMLResponse") if request.method == "POST" else None
    result = sp().receive(artifact=artifact, saml_response=saml_response,
                          browser_ids=set(session.get("req_ids", [])))
    session["req_ids"] = [r for r in session.get("req_ids", []) if r != result.in_response_to]
    if Defect.REFUSE_ALL in settings().defects:
        raise Refused("security_check_failed", "login", {"check": "response_signature"}, detail="defect refuse-all")
    if not result.ok:
        raise _refusal(result)
    rec = access.decide(db(), result, settings().defects)
    session["login"] = rec
    session.pop("last_refusal", None)
    if rec["route"] == "choose":
        audit_ok("login", f"route B advisor {rec['advisor_kvk']} logged in; chooses an employer", rec=rec)
        return redirect(url_for("portal.choose"), code=303)
    audit_ok("login", f"route {rec['route']}, service {rec['service_name']}, level {rec['level']}", rec=rec)
    return redirect(url_for("portal.dashboard"), code=303)


def _refusal(result: LoginResult) -> Refused:
    failure = result.failure
    who = access.audit_subject(result)
    if failure is not None and failure.check == "status":
        top, second, message = result.status
        params = {"broker_message": message or "", "status": " / ".join(
            s.rsplit(":", 1)[-1] for s in (top, second) if s)}
        detail = f"{params['status']}: {message or '(no StatusMessage)'}"
        if second == ns.STATUS_AUTHN_FAILED:
            cause, more = authn_failed_cause(message, settings().min_level)
            return Refused("authn_failed", "login", params | more, detail=detail, audit_subject=who, cause=cause)
        if second == ns.STATUS_REQUEST_UNSUPPORTED:
            return Refused("no_mandate", "login", params, detail=detail, audit_subject=who)
        return Refused("broker_error", "login", params, detail=detail, audit_subject=who)
    if Defect.LEVEL_PAGE in settings().defects:  # a forged answer's level believed: "get another means"
        if failure is not None and result.level is not None:
            return Refused("level_too_low", "login", {"level": result.level.label}, detail="defect level-page",
                           audit_subject=who)
    if failure is not None and failure.check == "authn_level" and result.level is not None:
        return Refused("level_too_low", "login", {"level": result.level.label}, detail=failure.explain(),
                       audit_subject=who)
    check = failure.check if failure else "unknown"
    return Refused("security_check_failed", "login", {"check": check},
                   detail=failure.explain() if failure else None, audit_subject=who)


@bp.get("/melding")
def notice():
    """The refusal of the last login, shown from the session: the ACS redirects here (303), so that reload and
    Back show this page again instead of sending the spent artifact or SAMLResponse to the ACS once more."""
    kept = session.get("last_refusal")
    exc = Refused.from_session(kept) if isinstance(kept, dict) and kept.get("at_acs") else None
    if exc is None:
        return render_template("message.html", title_nl="Geen melding", title_en="Nothing to report",
                               nl="Er is geen melding over een inlogpoging.", en="There is no notice about a login.",
                               back=url_for("auth.home"))
    return render_refusal(exc, ref=kept.get("ref"), logged_in=bool(login()))


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    rec = login() or session.get("login")
    session.clear()
    if rec:
        audit_ok("logout", rec=rec)
        target = sp().logout_redirect(rec)
        if target:
            return redirect(target, code=302)
    return render_template("message.html", title_nl="U bent uitgelogd", title_en="You are logged out",
                           nl="U bent uitgelogd uit het werkgeversportaal.", en="You are logged out of the portal.")


@bp.route("/saml/slo", methods=["GET", "POST"])
def slo():
    """The broker's LogoutResponse: the local session is gone already; check the signature and say so."""
    verified = False
    try:
        if request.method == "GET" and request.query_string:
            msg = bindings.parse_redirect(request.query_string.decode("latin-1"))
            msg.verify(list(sp().broker().signing_certs), where="LogoutResponse")
            verified = True
    except (SamlError, Refused):
        verified = False
    session.clear()
    return render_template("message.html", title_nl="U bent uitgelogd", title_en="You are logged out",
                           nl="U bent uitgelogd, ook bij eHerkenning." if verified else "U bent uitgelogd.",
                           en="You are logged out, at eHerkenning too." if verified else "You are logged out.")


@bp.route("/login-oud", methods=["GET", "POST"])
def legacy_login():
    """The old username/password login is gone (P1): whatever it receives, it refuses and points to eHerkenning."""
    if request.method == "GET":
        return render_template("login_oud.html")
    session.pop("login", None)
    username = (request.form.get("username") or "")[:60]
    raise Refused("legacy_login_gone", "legacy_login", detail=f"username {username!r} (password not read)",
                  audit_subject={"acting_subject": None, "represented_kvk": None, "intermediary_kvk": None})
