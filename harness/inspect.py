"""`harness inspect`: what a captured SAML message says, checked as a DV would, explained in the FAQ's terms.

Reading is `harness.capture`; the DV's checks are `ehsaml.dv.login` / `ehsaml.dv.checks` (not re-implemented
here); the FAQ cases and advice are `harness.explain`. The output is one report dict (`--json`) or text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import requests

from ehsaml import bindings, eherkenning as eh, ns, xenc
from ehsaml.dv import checks as C, login, read
from ehsaml.dv.policy import DvPolicy
from ehsaml.eherkenning import Level
from ehsaml.errors import SamlError
from ehsaml.keys import KeyPair, generate_test_keypair, load_keypair
from ehsaml.metadata import CatalogueService, EntityMetadata, parse_catalogue, parse_entity
from ehsaml.timeutil import fmt, parse, utcnow

from . import explain
from .cases import CaseCatalogueError, load_cases
from .capture import Captured, CaptureError, read_capture

_IDS = {eh.ID_KVK: "kvk", eh.ID_RSIN: "rsin", eh.ID_EIDAS: "eidas", eh.ID_PSEUDO: "pseudonym"}
_ATTRS = {eh.ATTR_SERVICE_ID: "service_id", eh.ATTR_SERVICE_UUID: "service_uuid", eh.ATTR_BRANCH: "branch",
          eh.ATTR_INTERMEDIATE_KVK: "intermediary_kvk", eh.ATTR_INTERMEDIATE_NAME: "intermediary_name",
          eh.ATTR_REPRESENTED_NAME: "represented_name"}


@dataclass
class Context:
    """What the inspecting DV knows: its key, the broker's metadata, its catalogue, its entity ID and ACS."""

    key: KeyPair | None = None
    hm: EntityMetadata | None = None
    catalogue: tuple[CatalogueService, ...] = ()
    dv: str | None = None
    acs: str | None = None
    at: datetime | None = None  # check times as of this moment (default: when the message was sent)
    symptom: str | None = None


def load_context(*, key: str | None = None, cert: str | None = None, metadata: str | None = None,
                 catalogue: str | None = None, dv: str | None = None, acs: str | None = None,
                 at: str | None = None, symptom: str | None = None) -> Context:
    """Load the options; a file or URL that cannot be read raises CaptureError naming it."""
    ctx = Context(dv=dv, acs=acs, symptom=symptom)
    if bool(key) != bool(cert):
        raise CaptureError("give both --key and --cert (the DV's decryption key and its certificate)")
    try:
        if key:
            ctx.key = load_keypair(key, cert)
        if metadata:
            ctx.hm = parse_entity(_read_source(metadata), source=metadata)
        if catalogue:
            ctx.catalogue = parse_catalogue(_read_source(catalogue), source=catalogue)
    except (SamlError, OSError) as exc:
        raise CaptureError(str(exc)) from None
    if at and at != "now":
        try:
            ctx.at = parse(at, where="--at")
        except SamlError as exc:
            raise CaptureError(f"{exc} (give a UTC time like 2026-01-31T12:00:00Z, or 'now')") from None
    elif at == "now":
        ctx.at = utcnow()
    return ctx


def _read_source(where: str) -> bytes:
    if where.startswith(("http://", "https://")):
        try:
            resp = requests.get(where, timeout=15)
        except requests.RequestException as exc:
            raise CaptureError(f"{where}: cannot fetch ({exc})") from None
        if resp.status_code != 200:
            raise CaptureError(f"{where}: HTTP {resp.status_code}")
        return resp.content
    try:
        return Path(where).read_bytes()
    except OSError as exc:
        raise CaptureError(f"{where}: cannot read ({exc.strerror})") from None


def inspect_bytes(data: bytes, ctx: Context, name: str = "input") -> dict:
    return inspect_messages(read_capture(data, name), ctx)


def inspect_messages(messages: list[Captured], ctx: Context) -> dict:
    """One report: every message decoded (and checked), then the findings with their FAQ case and advice."""
    state: dict = {"request": None}
    out = [_one(m, ctx, state) for m in messages]
    return {"messages": out, "findings": explain.findings(out, ctx.symptom, load_cases())}


def _one(m: Captured, ctx: Context, state: dict) -> dict:
    base = {"kind": m.kind, "source": m.source, "encoding": m.encoding}
    if m.relay_state:
        base["relay_state"] = m.relay_state
    if m.kind == "SAMLart":
        return base | _artifact(m.artifact, ctx)
    el = m.element
    base.update(id=el.get("ID"), issue_instant=el.get("IssueInstant"), issuer=C.text_of(el.find(ns.q("saml", "Issuer"))),
                destination=el.get("Destination"), in_response_to=el.get("InResponseTo"),
                signed=el.find(ns.q("ds", "Signature")) is not None)
    if m.kind == "AuthnRequest":
        base.update(_authn_request(el, ctx))
        state["request"] = base
    elif m.kind == "Response":
        base.update(_response(el, ctx, state.get("request"), m.time, prior=None))
    elif m.kind == "ArtifactResponse":
        base["status"] = _status(el)
        inner = el.find(ns.q("samlp", "Response"))
        prior = None
        if ctx.hm is not None:
            art = login.validate_artifact_response(el, hm=ctx.hm, artifact_resolve_id=el.get("InResponseTo") or "",
                                                   require_signature=False)
            prior = art.checks
        if inner is None:
            base["note"] = "the ArtifactResponse holds no Response: the artifact was unknown, expired or used before"
            base["checks"] = [_check(c) for c in prior or ()]
        else:
            base["response"] = {"id": inner.get("ID"), "in_response_to": inner.get("InResponseTo"),
                                "destination": inner.get("Destination"),
                                "signed": inner.find(ns.q("ds", "Signature")) is not None}
            base["response"].update(_response(inner, ctx, state.get("request"), m.time, prior=prior))
    return base


# --- AuthnRequest -------------------------------------------------------------------------------

def _authn_request(el, ctx: Context) -> dict:
    out = {"dv": C.text_of(el.find(ns.q("saml", "Issuer"))), "acs_url": el.get("AssertionConsumerServiceURL"),
           "acs_index": el.get("AssertionConsumerServiceIndex"), "protocol_binding": el.get("ProtocolBinding"),
           "force_authn": el.get("ForceAuthn"), "service_index": el.get("AttributeConsumingServiceIndex")}
    rac = el.find(ns.q("samlp", "RequestedAuthnContext"))
    if rac is not None:
        refs = [C.text_of(r) for r in rac.findall(ns.q("saml", "AuthnContextClassRef"))]
        out["requested_level"] = {"comparison": rac.get("Comparison") or "exact", "levels": [_label(r) for r in refs]}
    index = out["service_index"]
    m = eh.DV_ENTITY_RE.match(out["dv"] or "")
    if index is not None and m:
        out["service_id"] = f"urn:etoegang:DV:{m.group(1)}:services:{index}"
    else:
        out["service_id"] = None
        if index is None:
            out["service_note"] = "no AttributeConsumingServiceIndex: the broker uses the DV's default service"
    out["service"] = _service(out.get("service_id"), ctx)
    return out


# --- Response -----------------------------------------------------------------------------------

def _response(el, ctx: Context, request: dict | None, sent: datetime | None, prior) -> dict:
    out: dict = {"status": _status(el)}
    enc = el.find(ns.q("saml", "EncryptedAssertion"))
    assertion = el.find(ns.q("saml", "Assertion"))
    if enc is not None:
        out["assertion_encrypted"] = True
        if ctx.key is None:
            out["note"] = "the assertion is encrypted: give the DV's key (--key, --cert) to read and check it"
        else:
            try:
                assertion = xenc.decrypt(enc, ctx.key, where="saml:EncryptedAssertion")
            except SamlError as exc:
                out["note"] = f"cannot decrypt the assertion: {exc}"
    if assertion is not None:
        out["assertion"] = _assertion(assertion, ctx)
    if prior is not None and any(not c.passed for c in prior):
        out["checks"] = [_check(c) for c in prior]
        out["checked_as"] = "the ArtifactResponse failed a DV check: a DV stops there and never reads this Response"
    elif ctx.hm is not None and (enc is None or ctx.key is not None):
        out["checks"], out["checked_as"] = _dv_checks(el, ctx, request, sent, out, prior)
    elif ctx.hm is None:
        out["checked_as"] = "not checked: give the broker's metadata (--metadata) to check it as a DV would"
    return out


def _status(el) -> dict:
    top, sub, message = C.read_status(el)
    short = lambda v: v.rsplit(":", 1)[-1] if v else None  # noqa: E731
    return {"code": short(top), "sub": short(sub), "message": message}


def _assertion(a, ctx: Context) -> dict:
    cond = a.find(ns.q("saml", "Conditions"))
    statement = a.find(ns.q("saml", "AuthnStatement"))
    ref = a.find(f"{ns.q('saml', 'AuthnStatement')}/{ns.q('saml', 'AuthnContext')}/{ns.q('saml', 'AuthnContextClassRef')}")
    data = C.bearer_confirmation_data(a)
    out = {
        "id": a.get("ID"), "issuer": C.text_of(a.find(ns.q("saml", "Issuer"))),
        "signed": a.find(ns.q("ds", "Signature")) is not None,
        "level": _label(C.text_of(ref)) if ref is not None else None,
        "audience": [C.text_of(x) for x in a.iter(ns.q("saml", "Audience"))],
        "times": {"issue_instant": a.get("IssueInstant"),
                  "not_before": None if cond is None else cond.get("NotBefore"),
                  "not_on_or_after": None if cond is None else cond.get("NotOnOrAfter"),
                  "authn_instant": None if statement is None else statement.get("AuthnInstant"),
                  "confirmation_not_on_or_after": None if data is None else data.get("NotOnOrAfter")},
        "recipient": None if data is None else data.get("Recipient"),
    }
    identity: dict = {}
    attributes: dict = {}
    for attr in C.own_attributes(a):
        name = attr.get("Name") or ""
        for value_el in attr.findall(ns.q("saml", "AttributeValue")):
            text, qualifier = _value(value_el, ctx.key, name)
            attributes.setdefault(name, []).append(text)
            if name in (eh.ATTR_LEGAL_SUBJECT, eh.ATTR_ACTING_SUBJECT):
                slot = _IDS.get(qualifier or "", "encrypted" if qualifier == "?" else "unknown")
                if slot in ("encrypted", "unknown"):
                    identity.setdefault("encrypted" if slot == "encrypted" else "unreadable", []).append(
                        name.rsplit(":", 1)[-1])
                else:
                    identity.setdefault(slot, text)
            elif name in _ATTRS:
                identity.setdefault(_ATTRS[name], text)
    out["identity"] = identity
    out["attributes"] = attributes
    out["service"] = _service(identity.get("service_id"), ctx)
    return out


def _value(value_el, key: KeyPair | None, name: str) -> tuple[str, str | None]:
    if value_el.find(ns.q("saml", "EncryptedID")) is not None and key is None:
        return "(EncryptedID: give the DV's key to read it)", "?"
    try:
        return read.read_value(value_el, key, where=f"Attribute {name}")  # the DV's own reading, decryption included
    except SamlError as exc:
        return f"(cannot decrypt: {exc})", "!"


# --- the DV's checks ------------------------------------------------------------------------------

def _dv_checks(el, ctx: Context, request: dict | None, sent: datetime | None, out: dict, prior) -> tuple[list, str]:
    ignore, notes = set(), []
    assertion = out.get("assertion") or {}
    dv = ctx.dv or (request or {}).get("dv")
    if dv is None:
        dv = (assertion.get("audience") or ["(unknown DV)"])[0]
        ignore.add("audience")
        notes.append("audience not checked (give --dv, or capture the AuthnRequest too)")
    acs = ctx.acs or (request or {}).get("acs_url")
    if acs is None:
        acs = el.get("Destination") or assertion.get("recipient") or ""
        ignore |= {"response_destination", "subject_confirmation_recipient"}
        notes.append("destination not checked (give --acs, or capture the AuthnRequest too)")
    irt = (request or {}).get("id")
    if irt is None:
        irt = el.get("InResponseTo") or ""
        ignore |= {"response_in_response_to", "artifact_response_in_response_to"}
        notes.append("InResponseTo not checked (inspect knows no outstanding request)")
    key = ctx.key
    if key is None:
        key = _throwaway_key()
        ignore |= {"identifiers_decrypted", "legal_subject", "chain_mandate", "identifier_formats"}
        notes.append("identifiers not decrypted (give the DV's key: --key, --cert)")
    now = ctx.at or sent or _issued(el) or utcnow()
    when = "as of " + fmt(now) + (" (given)" if ctx.at else " (when the browser sent it)" if sent
                                  else " (the message's IssueInstant)")
    own = [s for s in ctx.catalogue if dv and s.service_id.startswith(dv.split(":entities:")[0])]
    service_id = (assertion.get("identity") or {}).get("service_id") or (request or {}).get("service_id")
    chosen = next((s for s in own if s.service_id == service_id), None)
    min_level = chosen.min_level if chosen else min((s.min_level for s in own), default=None,
                                                     key=lambda lv: lv.rank)
    if not own:
        notes.append("level and services not checked against a catalogue (give --catalogue)")
    policy = DvPolicy(dv_entity_id=dv, acs_url=acs, keypair=key, min_level=min_level,
                      own_service_ids=[s.service_id for s in own] or None,
                      own_service_uuids=[s.service_uuid for s in own] or None, ignore_checks=ignore)
    result = login.validate_response(el, policy, hm=ctx.hm, outstanding={irt: (request or {}).get("service_id")}, now=now,
                                     in_artifact_response=prior is not None, prior_checks=prior or ())
    return [_check(c, ignore) for c in result.checks], "; ".join([f"checked as DV {dv} at ACS {acs}, {when}"] + notes)


def _check(c, ignore: set | frozenset = frozenset()) -> dict:
    d = c.as_dict()
    d["actual"] = _plain(d["actual"])
    d["expected"] = _plain(d["expected"])
    if c.check in ignore:
        d["result"] = "not checked"
        d["actual"] = str(c.actual).removeprefix("IGNORED by a weakened DV: ")
    else:
        d["result"] = "passed" if c.passed else "FAILED"
    return d


def _plain(v):
    return v if isinstance(v, (str, int, float, bool, type(None), list, dict)) else str(v)


@functools.lru_cache(maxsize=1)
def _throwaway_key() -> KeyPair:
    """A key nobody encrypted to: lets the other checks run when the DV's key is not given."""
    import tempfile

    key_pem, cert_pem = generate_test_keypair("inspect without a DV key")
    folder = Path(tempfile.mkdtemp(prefix="inspect-"))
    (folder / "k.pem").write_bytes(key_pem)
    (folder / "c.pem").write_bytes(cert_pem)
    return load_keypair(str(folder / "k.pem"), str(folder / "c.pem"))


def _issued(el) -> datetime | None:
    try:
        return parse(el.get("IssueInstant"), where="IssueInstant") + timedelta(seconds=1)
    except (SamlError, TypeError):
        return None


# --- artifacts and small helpers -----------------------------------------------------------------

def _artifact(text: str, ctx: Context) -> dict:
    art = bindings.Artifact.decode(text)
    out = {"artifact": {"type": "0004", "endpoint_index": art.endpoint_index, "source_id": art.source_id.hex(),
                        "message_handle": art.message_handle.hex()},
           "note": "an artifact carries no login: the DV must resolve it (ArtifactResolve over SOAP to the broker's "
                   "ArtifactResolutionService), once and shortly after; capture the ArtifactResponse to see the answer"}
    if ctx.hm is not None:
        check = C.check_artifact_source(text, ctx.hm)
        out["checks"] = [_check(check)]
        out["broker"] = ctx.hm.entity_id if check.passed else None
    return out


def _service(service_id: str | None, ctx: Context) -> dict | None:
    if not service_id:
        return None
    found = next((s for s in ctx.catalogue if s.service_id == service_id), None)
    if found is not None:
        return {"service_id": service_id, "name": found.name, "min_level": found.min_level.label}
    m = eh.SERVICE_ID_RE.match(service_id)
    names = {v["index"]: v["name"] for v in load_cases()["services"].values()}
    return {"service_id": service_id, "name": names.get(int(m.group(2))) if m else None, "min_level": None}


def _label(ref: str | None) -> str | None:
    try:
        return Level.parse(ref or "").label
    except ValueError:
        return ref


# --- the command ----------------------------------------------------------------------------------

def add_inspect(sub) -> None:
    p = sub.add_parser("inspect", help="decode a captured SAML message (or a HAR of a login), check it as a DV "
                                       "would, and say which FAQ case it is")
    p.add_argument("file", nargs="?", default="-", help="the capture: a file, or - for standard input (default)")
    p.add_argument("--key", help="the DV's private key (PEM), to decrypt EncryptedIDs / EncryptedAssertion")
    p.add_argument("--cert", help="the DV's certificate (PEM) that goes with --key")
    p.add_argument("--metadata", help="the broker's (HM) metadata, a file or URL: check as a DV would")
    p.add_argument("--catalogue", help="the DV's service catalogue (dienstcatalogus), a file or URL: levels, services")
    p.add_argument("--dv", help="the DV's entity ID (default: the Issuer of a captured AuthnRequest)")
    p.add_argument("--acs", help="the DV's ACS URL (default: from a captured AuthnRequest)")
    p.add_argument("--at", help="check times as of this UTC time, or 'now' (default: when the message was sent)")
    p.add_argument("--symptom", choices=sorted(explain.SYMPTOMS), help="what the customer reports")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(handler=main_inspect)


def main_inspect(args) -> int:
    import json
    import sys

    try:
        if args.file == "-":
            data, name = sys.stdin.buffer.read(), "standard input"
        else:
            try:
                data, name = Path(args.file).read_bytes(), args.file
            except OSError as exc:
                raise CaptureError(f"{args.file}: cannot read ({exc.strerror})") from None
        ctx = load_context(key=args.key, cert=args.cert, metadata=args.metadata, catalogue=args.catalogue,
                           dv=args.dv, acs=args.acs, at=args.at, symptom=args.symptom)
        report = inspect_bytes(data, ctx, name)
    except (CaptureError, CaseCatalogueError) as exc:
        print(f"harness inspect: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str) if args.json else explain.render_text(report))
    return 0
