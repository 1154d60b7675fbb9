"""A captured answer checked as the DV would check it: the DV's own checks (`ehsaml.dv`), never a copy.

The DV refuses at the first failed check; inspect asks for every finding (`DvPolicy(collect_all=True)`), so a
failed signature is one finding beside the level, the times and the numbers.

What this module adds is only what the DV would know and the capture does not carry: which DV and ACS (flags,
the DV's metadata, a captured AuthnRequest), when (the HAR's time, --at, else the message's IssueInstant), the
level the service needs (--min-level, the catalogue, the AuthnRequest, else the FAQ portal's default), and
which checks cannot be made without a key or a request (shown as `not checked`, with what to give).
"""

from __future__ import annotations

import functools
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from ehsaml.dv import login
from ehsaml.dv.policy import DvPolicy
from ehsaml.eherkenning import SERVICE_ID_RE, Level
from ehsaml.errors import SamlError
from ehsaml.keys import KeyPair, generate_test_keypair, load_keypair
from ehsaml.timeutil import fmt, parse, utcnow

from ..cases import load_cases

BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
BINDING_ARTIFACT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact"


def required_level(ctx, service_id: str | None, request: dict | None) -> tuple[Level, str]:
    """The level the DV's service needs, and where that comes from."""
    if ctx.min_level is not None:
        return ctx.min_level, "--min-level"
    own = _own_services(ctx, _dv_of(ctx, request, None))
    chosen = next((s for s in own if s.service_id == service_id), None)
    if chosen is not None:
        return chosen.min_level, f"the catalogue's minimum for '{chosen.name}'"
    if own:
        return min((s.min_level for s in own), key=lambda lv: lv.rank), "the lowest minimum of the DV's catalogue"
    asked = ((request or {}).get("requested_level") or {}).get("levels") or []
    levels = [lv for lv in (_level(x) for x in asked) if lv is not None]
    if levels:
        return min(levels, key=lambda lv: lv.rank), "the AuthnRequest's RequestedAuthnContext"
    default = Level.parse(load_cases()["defaults"]["min_level"])
    return default, (f"the FAQ portal's {default.label} (rule P2), by default: give --catalogue or --min-level for "
                     f"another portal's")


def check_response(el, ctx, request: dict | None, sent: datetime | None, decoded: dict, prior) -> dict:
    """The DV's checks of one samlp:Response (inside an ArtifactResponse when `prior` holds that one's checks)."""
    ignore, notes = set(), []
    assertion = decoded.get("assertion") or {}
    dv = _dv_of(ctx, request, assertion)
    if dv is None:
        dv = (assertion.get("audience") or ["(unknown DV)"])[0]
        ignore.add("audience")
        notes.append("audience not checked (give --dv or --dv-metadata, or capture the AuthnRequest too)")
    acs = _acs_of(ctx, request, el, assertion, prior is not None)
    if acs is None:
        acs = el.get("Destination") or assertion.get("recipient") or ""
        ignore |= {"response_destination", "subject_confirmation_recipient"}
        notes.append("destination and recipient not checked (give --acs or --dv-metadata, or capture the AuthnRequest)")
    irt = (request or {}).get("id")
    if irt is None:
        irt = el.get("InResponseTo") or ""
        ignore |= {"response_in_response_to", "artifact_response_in_response_to"}
        notes.append("InResponseTo not checked (inspect knows no outstanding request)")
    key = ctx.key
    if key is None and ((assertion.get("identity") or {}).get("encrypted") or decoded.get("assertion_encrypted")):
        key = _throwaway_key()
        ignore |= {"identifiers_decrypted", "legal_subject", "chain_mandate", "identifier_formats"}
        notes.append("identifiers not decrypted (give the DV's key: --key, --cert)")
    key = key or _throwaway_key()  # no EncryptedID to read: any key lets the checks run
    now, when = judged_at(ctx, sent, el)
    service_id = (assertion.get("identity") or {}).get("service_id") or (request or {}).get("service_id")
    level, level_from = required_level(ctx, service_id, request)
    own = _own_services(ctx, dv)
    own_ids = [s.service_id for s in own] or _dv_meta_service_ids(ctx) or None
    policy = DvPolicy(dv_entity_id=dv, acs_url=acs, keypair=key, min_level=level, own_service_ids=own_ids,
                      own_service_uuids=[s.service_uuid for s in own] or None, ignore_checks=ignore, collect_all=True)
    result = login.validate_response(el, policy, hm=ctx.hm, outstanding={irt: (request or {}).get("service_id")},
                                     now=now, in_artifact_response=prior is not None, prior_checks=prior or ())
    binding = "inside an ArtifactResponse (HTTP-Artifact)" if prior is not None else "by HTTP-POST (or bare)"
    return {"checks": [as_dict(c, ignore) for c in result.checks], "judged_at": fmt(now), "binding": binding,
            "required_level": {"level": level.label, "from": level_from},
            "checked_as": "; ".join([f"checked as DV {dv} at ACS {acs}, {when}, {binding}",
                                     f"level needed: {level.label} ({level_from})"] + notes)}


def judged_at(ctx, sent: datetime | None, el) -> tuple[datetime, str]:
    if ctx.at is not None:
        return ctx.at, f"as of {fmt(ctx.at)} (--at)"
    if sent is not None:
        return sent, f"as of {fmt(sent)} (when the browser sent it, from the HAR)"
    issued = _issued(el)
    if issued is not None:
        return issued, f"as of {fmt(issued)} (the message's IssueInstant; give --at to judge it at another time)"
    return utcnow(), "as of now (the message has no readable IssueInstant)"


def check_artifact_response(el, ctx) -> list:
    """The ArtifactResponse's own checks (the scheme wants it signed; its InResponseTo cannot be known here)."""
    art = login.validate_artifact_response(el, hm=ctx.hm, artifact_resolve_id=el.get("InResponseTo") or "",
                                           collect_all=True)
    return list(art.checks)


def as_dict(c, ignore: set | frozenset = frozenset()) -> dict:
    d = c.as_dict()
    d["actual"], d["expected"] = _plain(d["actual"]), _plain(d["expected"])
    if c.check in ignore:
        d["result"] = "not checked"
        d["actual"] = str(c.actual).removeprefix("IGNORED by a weakened DV: ")
    else:
        d["result"] = "passed" if c.passed else "FAILED"
    return d


def _dv_of(ctx, request: dict | None, assertion: dict | None) -> str | None:
    return ctx.dv or (ctx.dv_metadata.entity_id if ctx.dv_metadata is not None else None) or (request or {}).get("dv")


def _acs_of(ctx, request: dict | None, el, assertion: dict, in_artifact: bool) -> str | None:
    if ctx.acs:
        return ctx.acs
    if ctx.dv_metadata is not None:
        said = el.get("Destination") or assertion.get("recipient")
        listed = [e for e in ctx.dv_metadata.acs]
        match = next((e for e in listed if e.location == said), None)
        wanted = BINDING_ARTIFACT if in_artifact else BINDING_POST
        chosen = match or next((e for e in listed if e.binding == wanted), None) or ctx.dv_metadata.default_acs()
        return chosen.location if chosen else None
    return (request or {}).get("acs_url")


def _own_services(ctx, dv: str | None):
    return [s for s in ctx.catalogue if not dv or s.service_id.startswith(dv.split(":entities:")[0])]


def _dv_meta_service_ids(ctx) -> list[str]:
    """Every ServiceID the DV's metadata requests (a RequestedAttribute named by it, in any service)."""
    if ctx.dv_metadata is None:
        return []
    names = [n for s in ctx.dv_metadata.services for n in s.requested_attributes]
    return list(dict.fromkeys(n for n in names if SERVICE_ID_RE.match(n)))


def _plain(v):
    return v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v)


def _level(text: str | None) -> Level | None:
    try:
        return Level.parse(text or "")
    except ValueError:
        return None


@functools.lru_cache(maxsize=1)
def _throwaway_key() -> KeyPair:
    """A key nobody encrypted to: lets the other checks run when the DV's key is not given."""
    key_pem, cert_pem = generate_test_keypair("inspect without a DV key")
    with tempfile.TemporaryDirectory(prefix="inspect-") as tmp:  # read once, then gone
        folder = Path(tmp)
        (folder / "k.pem").write_bytes(key_pem)
        (folder / "c.pem").write_bytes(cert_pem)
        return load_keypair(str(folder / "k.pem"), str(folder / "c.pem"))


def _issued(el) -> datetime | None:
    try:
        return parse(el.get("IssueInstant"), where="IssueInstant") + timedelta(seconds=1)
    except (SamlError, TypeError):
        return None
