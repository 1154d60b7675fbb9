"""Who may do what: rights from the service (P3), chain mandates (P5), route-B grants (P7), known KvK (P4).

`decide` turns a validated login into the session's login record, or raises Refused.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from ehsaml.dv.login import LoginResult

from . import data, dvconfig
from .refusals import Refused
from .settings import Defect

VIEW, EDIT = "view", "edit"
# What the user reads for a right: the FAQ's service names (never the codes view/edit).
RIGHTS_NAME = {VIEW: "Bekijk gegevens", EDIT: "Bekijk en wijzig gegevens"}
_RANK = {VIEW: 0, EDIT: 1}


def weakest(*rights: str) -> str:
    """Rights never exceed any of the given ones (P7: the grant and the advisor's own service)."""
    return min(rights, key=_RANK.__getitem__)


def as_list(rights: str | None) -> list[str]:
    """The /whoami form: ["view"] or ["view", "edit"] (the words the scenarios and the harness profile use)."""
    return [] if rights is None else [VIEW] if rights == VIEW else [VIEW, EDIT]


def audit_subject(result: LoginResult) -> dict:
    return {"acting_subject": result.pseudonym, "represented_kvk": result.kvk,
            "intermediary_kvk": result.intermediary_kvk}


_stale_kvks: set[str] | None = None  # Defect.STALE_KVK_CACHE only


def _employer(conn: sqlite3.Connection, kvk: str, defects: frozenset[Defect]):
    global _stale_kvks
    if Defect.STALE_KVK_CACHE in defects:
        if _stale_kvks is None:
            _stale_kvks = {row[0] for row in conn.execute("SELECT kvk FROM contract_kvks")}
        if kvk not in _stale_kvks:
            return None
    return data.employer(conn, kvk)


def decide(conn: sqlite3.Connection, result: LoginResult, defects: frozenset[Defect] = frozenset()) -> dict:
    """The login record for a login that passed every SAML check; Refused when the rules say no.

    Returns {"route": "employer" | "chain" | "choose", ...}; "choose" is a route-B advisor who has yet
    to pick an employer (`/kies-werkgever`).
    """
    who = audit_subject(result)
    service = dvconfig.service_by_id(result.service_id)
    if service is None:  # validate_response checked it against our own set; never trust a gap
        raise Refused("security_check_failed", "login", {"check": "service_id"}, audit_subject=who)
    if Defect.VIEW_GRANTS_CHANGE in defects:
        service = replace(service, rights=EDIT)
    common = {
        "acting_subject": result.pseudonym, "service_rights": service.rights, "service_name": service.name,
        "level": result.level.label if result.level else None, "branch": result.branch,
        "name_id": result.name_id, "name_id_qualifier": result.name_id_qualifier,
        "session_index": result.session_index,
    }
    if not result.kvk:
        if result.eidas:
            raise Refused("eidas_no_kvk", "login", {"eidas": result.eidas}, audit_subject=who)
        raise Refused("kvk_unknown", "login", {"kvk": "(geen / none)"}, audit_subject=who)
    employer = _employer(conn, result.kvk, defects)
    if result.intermediary_kvk:  # route A: ketenmachtiging (P5)
        if employer is None:
            raise Refused("kvk_unknown", "login", {"kvk": result.kvk}, audit_subject=who,
                          detail=f"chain mandate via {result.intermediary_kvk}")
        return dict(common, route="chain", represented_kvk=employer.kvk, represented_name=employer.name,
                    intermediary_kvk=result.intermediary_kvk, intermediary_name=result.intermediary_name,
                    rights=service.rights)
    if employer is not None:
        return dict(common, route="employer", represented_kvk=employer.kvk, represented_name=employer.name,
                    intermediary_kvk=None, intermediary_name=None, rights=service.rights)
    advisor = data.advisor(conn, result.kvk)
    if advisor is None:
        raise Refused("kvk_unknown", "login", {"kvk": result.kvk}, audit_subject=who)
    if not data.confirmed_employers(conn, advisor.kvk):
        raise Refused("no_confirmed_grant", "login", {"kvk": advisor.kvk}, audit_subject=who)
    return dict(common, route="choose", advisor_kvk=advisor.kvk, advisor_name=advisor.name)


def route_b_rights(conn: sqlite3.Connection, login: dict) -> str | None:
    """A route-B advisor's rights now: the confirmed grant (read afresh) capped by the advisor's service."""
    grant = data.confirmed_grant_rights(conn, login["represented_kvk"], login["intermediary_kvk"])
    return None if grant is None else weakest(grant, login["service_rights"])


def current_rights(conn: sqlite3.Connection, login: dict | None) -> str | None:
    if not login or login.get("route") not in ("employer", "chain", "route-b"):
        return None
    if login["route"] == "route-b":
        return route_b_rights(conn, login)
    return login["rights"]
