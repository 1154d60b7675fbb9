"""The journal for people: /journal lists the logins (newest first), /journal/<AuthnRequest ID> shows one login's
messages decoded and indented, signatures and certificates folded, and the identifiers the broker encrypted
shown in plain from its own decision (it cannot decrypt them: they are encrypted to the DV's key). The same
data as GET /_mock/journal; part of the control surface (off with --no-control-api)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from ehsaml import eherkenning as eh
from ehsaml import ns
from ehsaml.errors import SamlError
from ehsaml.xml import parse_xml
from ehsaml.xmlview import to_html

from ..broker import get_broker

bp = Blueprint("journal", __name__)
RECENT_REFUSALS = 20


@bp.before_request
def _enabled():
    if not get_broker().settings.control_api:
        abort(404)


@bp.get("/journal")
def index():
    entries = get_broker().store.journal(0)
    logins = list(reversed(group_logins(entries)))
    refusals = [e for e in entries if e.get("event") == "refused"][-RECENT_REFUSALS:]
    return render_template("journal/index.html", logins=[summary(lg) for lg in logins], refusals=refusals[::-1],
                           total=len(entries))


@bp.get("/journal/<request_id>")
def login(request_id: str):
    found = next((lg for lg in group_logins(get_broker().store.journal(0)) if lg["id"] == request_id), None)
    if found is None:
        abort(404)
    known = plain_values(found)
    shown = []
    for entry in found["entries"]:
        xml = entry.get("xml")
        shown.append({"entry": entry, "html": to_html(xml, known=known) if xml else None})
    return render_template("journal/login.html", login=summary(found), entries=shown, known=known)


def group_logins(entries: list[dict]) -> list[dict]:
    """Each AuthnRequest the broker read, with the entries that belong to it: the decision, a fault, the Response
    sent, and by Artifact the ArtifactResolve that fetched it and the ArtifactResponse."""
    logins: dict[str, dict] = {}
    by_artifact: dict[str, str] = {}
    by_resolve: dict[str, str] = {}
    for e in entries:
        event, kind = e.get("event"), e.get("message_type")
        if event == "received" and kind == "AuthnRequest" and e.get("id"):
            logins[e["id"]] = {"id": e["id"], "entries": [e]}
            continue
        rid = e.get("request_id") if event in ("decision", "fault") else None
        if event == "sent" and kind == "Response":
            rid = e.get("in_response_to")
            if rid in logins and e.get("artifact"):
                by_artifact[e["artifact"]] = rid
        elif event == "received" and kind == "ArtifactResolve":
            rid = by_artifact.get(_artifact_of(e.get("xml")))
            if rid:
                by_resolve[e.get("id") or ""] = rid
        elif event == "sent" and kind == "ArtifactResponse":
            rid = by_resolve.get(e.get("in_response_to") or "")
        if rid in logins:
            logins[rid]["entries"].append(e)
    return list(logins.values())


def _artifact_of(xml: str | None) -> str | None:
    try:
        return (parse_xml(xml or "", what="ArtifactResolve").findtext(ns.q("samlp", "Artifact")) or "").strip()
    except SamlError:
        return None


def summary(login: dict) -> dict:
    first = login["entries"][0]
    decision = next((e for e in login["entries"] if e.get("event") == "decision"), None)
    identity = (decision or {}).get("identity") or {}
    status = (decision or {}).get("status") or ""
    sent = [e for e in login["entries"] if e.get("event") == "sent"]
    return {"id": login["id"], "time": first.get("time"), "dv": first.get("dv"), "binding": first.get("binding"),
            "decided": decision is not None, "reason": (decision or {}).get("reason") or "no answer yet",
            "ok": status == ns.STATUS_SUCCESS, "status": _tail(status), "sub_status": _tail(decision.get("sub_status"))
            if decision else "", "identity": identity, "fault": (decision or {}).get("fault"),
            "answer": sent[0].get("binding") if sent else None, "entries": len(login["entries"])}


def plain_values(login: dict) -> dict[str, list[str]]:
    """Attribute Name -> the plain values of its EncryptedIDs, as the broker's decision had them; none when a fault
    changed the answer after the decision (the sent values may differ)."""
    decision = next((e for e in login["entries"] if e.get("event") == "decision"), None)
    identity = (decision or {}).get("identity") or {}
    if not identity or any(e.get("fault_applied") for e in login["entries"]):
        return {}
    legal = [f"{label} {identity[k]}" for k, label in (("kvk", "KvK"), ("rsin", "RSIN"), ("eidas", "eIDAS"))
             if identity.get(k)]
    return {eh.ATTR_LEGAL_SUBJECT: legal, eh.ATTR_ACTING_SUBJECT: [f"pseudonym {identity.get('pseudonym')}"]}


def _tail(uri: str | None) -> str:
    return (uri or "").rsplit(":", 1)[-1]
