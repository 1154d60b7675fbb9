"""What a captured SAML message says, field by field, as plain data (no verdicts: those are `dvcheck` and `explain`).

Decryption and attribute reading are the DV's own (`ehsaml.dv.read`, `ehsaml.xenc`); service names come from the
DV's catalogue, else from the FAQ portal's service numbering in the case catalogue (said so).
"""

from __future__ import annotations

from ehsaml import bindings, eherkenning as eh, ns, xenc
from ehsaml.dv import checks as C, read
from ehsaml.eherkenning import Level
from ehsaml.errors import SamlError
from ehsaml.keys import KeyPair

from ..cases import load_cases
from .capture import Captured

_IDS = {eh.ID_KVK: "kvk", eh.ID_RSIN: "rsin", eh.ID_EIDAS: "eidas", eh.ID_PSEUDO: "pseudonym"}
_ATTRS = {eh.ATTR_SERVICE_ID: "service_id", eh.ATTR_SERVICE_UUID: "service_uuid", eh.ATTR_BRANCH: "branch",
          eh.ATTR_INTERMEDIATE_KVK: "intermediary_kvk", eh.ATTR_INTERMEDIATE_NAME: "intermediary_name",
          eh.ATTR_REPRESENTED_NAME: "represented_name"}


def decode(m: Captured, ctx) -> dict:
    """One captured message as a dict: the envelope, then what its kind carries (request, status, assertion)."""
    base = {"kind": m.kind, "source": m.source, "encoding": m.encoding}
    if m.relay_state:
        base["relay_state"] = m.relay_state
    if m.time is not None:
        base["sent_at"] = m.time.isoformat()
    if m.kind == "SAMLart":
        return base | artifact(m.artifact)
    el = m.element
    base.update(id=el.get("ID"), issue_instant=el.get("IssueInstant"), issuer=C.text_of(el.find(ns.q("saml", "Issuer"))),
                destination=el.get("Destination"), in_response_to=el.get("InResponseTo"),
                signed=el.find(ns.q("ds", "Signature")) is not None)
    if m.kind == "AuthnRequest":
        base.update(authn_request(el, ctx))
    elif m.kind == "Response":
        base.update(response(el, ctx))
    elif m.kind == "ArtifactResponse":
        base["status"] = status(el)
        inner = el.find(ns.q("samlp", "Response"))
        if inner is None:
            base["note"] = "the ArtifactResponse holds no Response: the artifact was unknown, expired or used before"
        else:
            base["response"] = {"id": inner.get("ID"), "issue_instant": inner.get("IssueInstant"),
                                "in_response_to": inner.get("InResponseTo"), "destination": inner.get("Destination"),
                                "signed": inner.find(ns.q("ds", "Signature")) is not None} | response(inner, ctx)
    return base


def authn_request(el, ctx) -> dict:
    out = {"dv": C.text_of(el.find(ns.q("saml", "Issuer"))), "acs_url": el.get("AssertionConsumerServiceURL"),
           "acs_index": el.get("AssertionConsumerServiceIndex"), "protocol_binding": el.get("ProtocolBinding"),
           "force_authn": el.get("ForceAuthn"), "service_index": el.get("AttributeConsumingServiceIndex")}
    rac = el.find(ns.q("samlp", "RequestedAuthnContext"))
    if rac is not None:
        refs = [C.text_of(r) for r in rac.findall(ns.q("saml", "AuthnContextClassRef"))]
        out["requested_level"] = {"comparison": rac.get("Comparison") or "exact", "levels": [label(r) for r in refs]}
    index, m = out["service_index"], eh.DV_ENTITY_RE.match(out["dv"] or "")
    out["service_id"] = f"urn:etoegang:DV:{m.group(1)}:services:{index}" if index is not None and m else None
    if index is None:
        out["service_note"] = "no AttributeConsumingServiceIndex: the broker uses the DV's default service"
    out["service"] = service(out["service_id"], ctx)
    return out


def response(el, ctx) -> dict:
    out: dict = {"status": status(el)}
    enc = el.find(ns.q("saml", "EncryptedAssertion"))
    a = el.find(ns.q("saml", "Assertion"))
    if enc is not None:
        out["assertion_encrypted"] = True
        if ctx.key is None:
            out["note"] = "the assertion is encrypted: give the DV's key (--key, --cert) to read and check it"
        else:
            try:
                a = xenc.decrypt(enc, ctx.key, where="saml:EncryptedAssertion")
            except SamlError as exc:
                out["note"] = f"cannot decrypt the assertion: {exc}"
    if a is not None:
        out["assertion"] = assertion(a, ctx)
    return out


def status(el) -> dict:
    top, sub, message = C.read_status(el)
    short = lambda v: v.rsplit(":", 1)[-1] if v else None  # noqa: E731
    return {"code": short(top), "sub": short(sub), "message": message}


def assertion(a, ctx) -> dict:
    cond = a.find(ns.q("saml", "Conditions"))
    statement = a.find(ns.q("saml", "AuthnStatement"))
    ref = a.find(f"{ns.q('saml', 'AuthnStatement')}/{ns.q('saml', 'AuthnContext')}/{ns.q('saml', 'AuthnContextClassRef')}")
    data = C.bearer_confirmation_data(a)
    out = {
        "id": a.get("ID"), "issuer": C.text_of(a.find(ns.q("saml", "Issuer"))),
        "signed": a.find(ns.q("ds", "Signature")) is not None,
        "level": label(C.text_of(ref)) if ref is not None else None,
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
    for slot in ("encrypted", "unreadable"):
        if slot in identity:
            identity[slot] = list(dict.fromkeys(identity[slot]))  # an attribute once, however many values
    out["identity"] = identity
    out["attributes"] = attributes
    out["service"] = service(identity.get("service_id"), ctx)
    return out


def _value(value_el, key: KeyPair | None, name: str) -> tuple[str, str | None]:
    if value_el.find(ns.q("saml", "EncryptedID")) is not None and key is None:
        return "(EncryptedID: give the DV's key to read it)", "?"
    try:
        return read.read_value(value_el, key, where=f"Attribute {name}")  # the DV's own reading, decryption included
    except SamlError as exc:
        return f"(cannot decrypt: {exc})", "!"


def artifact(text: str) -> dict:
    art = bindings.Artifact.decode(text)
    return {"artifact": {"type": "0004", "endpoint_index": art.endpoint_index, "source_id": art.source_id.hex(),
                         "message_handle": art.message_handle.hex()},
            "note": "an artifact carries no login: the DV must resolve it (ArtifactResolve over SOAP to the broker's "
                    "ArtifactResolutionService), once and shortly after; capture the ArtifactResponse to see the answer"}


def service(service_id: str | None, ctx) -> dict | None:
    """A ServiceID with its name (and key view/edit): from the catalogue, else by the FAQ portal's numbering."""
    if not service_id:
        return None
    services = load_cases()["services"]
    found = next((s for s in ctx.catalogue if s.service_id == service_id), None)
    if found is not None:
        key = next((k for k, v in services.items() if v["name"] == found.name), None)
        return {"service_id": service_id, "name": found.name, "key": key, "min_level": found.min_level.label}
    m = eh.SERVICE_ID_RE.match(service_id)
    key = next((k for k, v in services.items() if m and v["index"] == int(m.group(2))), None)
    return {"service_id": service_id, "name": services[key]["name"] if key else None, "key": key, "min_level": None,
            "note": "named by its number as the FAQ portal numbers its services (give --catalogue for its own name)"}


def label(ref: str | None) -> str | None:
    try:
        return Level.parse(ref or "").label
    except ValueError:
        return ref
