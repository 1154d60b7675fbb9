"""Reading the assertion as a DV does: the one assertion (decrypted), its subject, its attributes.

Reading never raises on bad input: problems come back as text for the checks of `ehsaml.dv.checks`.
"""

from __future__ import annotations

from lxml import etree

from .. import eherkenning as eh
from .. import ns, xenc
from ..checks import Check
from ..errors import SamlError
from ..keys import KeyPair
from . import checks as C

# Where an identifier goes, by the NameQualifier of its NameID
_QUALIFIER_FIELD = {eh.ID_KVK: "kvk", eh.ID_RSIN: "rsin", eh.ID_EIDAS: "eidas", eh.ID_PSEUDO: "pseudonym"}
_IDENTIFIER_ATTRS = (eh.ATTR_LEGAL_SUBJECT, eh.ATTR_ACTING_SUBJECT)


def the_assertion(response: etree._Element, keypair: KeyPair) -> tuple[etree._Element | None, str | None]:
    """The one assertion (decrypted if it came encrypted), or None with the reason."""
    plain = response.findall(ns.q("saml", "Assertion"))
    encrypted = response.findall(ns.q("saml", "EncryptedAssertion"))
    if len(plain) + len(encrypted) != 1:
        return None, None
    if plain:
        return plain[0], None
    try:
        return xenc.decrypt(encrypted[0], keypair, where="saml:EncryptedAssertion", expect=ns.q("saml", "Assertion")), None
    except SamlError as exc:
        return None, str(exc)


def subject(assertion: etree._Element) -> dict:
    name_id = assertion.find(f"{ns.q('saml', 'Subject')}/{ns.q('saml', 'NameID')}")
    statement = assertion.find(ns.q("saml", "AuthnStatement"))
    return {
        "name_id": C.exact_text(name_id),
        "name_id_qualifier": None if name_id is None else name_id.get("NameQualifier"),
        "session_index": None if statement is None else statement.get("SessionIndex"),
    }


def read_attributes(assertion: etree._Element, keypair: KeyPair) -> tuple[dict[str, list[str]], dict, Check, list]:
    """All attribute values (EncryptedIDs decrypted), the identifiers switched on NameQualifier (the
    first of each type), and every (type, value) of the LegalSubjectID."""
    attributes: dict[str, list[str]] = {}
    identifiers: dict[str, str] = {}
    legal: list[tuple[str, str]] = []
    problems: list[str] = []
    count = 0
    for attr in C.own_attributes(assertion):
        name = attr.get("Name") or ""
        values = attributes.setdefault(name, [])
        for value_el in attr.findall(ns.q("saml", "AttributeValue")):
            try:
                text, qualifier = read_value(value_el, keypair, where=f"Attribute {name}")
            except SamlError as exc:
                problems.append(str(exc))
                continue
            values.append(text)
            if qualifier is not None:
                count += 1
            if name in _IDENTIFIER_ATTRS:
                slot = _QUALIFIER_FIELD.get(qualifier or "")
                if slot is None or (name == eh.ATTR_ACTING_SUBJECT) != (slot == "pseudonym"):
                    problems.append(f"{name} value with NameQualifier {qualifier!r}")
                else:
                    if name == eh.ATTR_LEGAL_SUBJECT:
                        legal.append((slot, text))
                    if name == eh.ATTR_ACTING_SUBJECT or slot not in identifiers:
                        identifiers[slot] = text
    check = Check(
        check="identifiers_decrypted",
        passed=not problems,
        actual=problems or f"{count} identifier(s) read",
        expected="every EncryptedID decrypts to a NameID whose NameQualifier is KvKnr, RSIN, eIDAS or Pseudo",
        rule="eHerkenning encryption: identifiers come as EncryptedID to the DV key; switch on NameQualifier",
    )
    return attributes, identifiers, check, legal


def read_value(value_el: etree._Element, keypair: KeyPair, *, where: str) -> tuple[str, str | None]:
    """(text, NameQualifier) of one AttributeValue: exact text, or one NameID or EncryptedID (with nothing beside it).

    Anything else (text beside a NameID, two children, a comment) is read as the markup it is (exact_text), which
    no format check or comparison accepts."""
    children = list(value_el)
    if len(children) == 1 and children[0].tag in _ID_HOLDERS and not (value_el.text or "").strip() \
            and not (children[0].tail or "").strip():
        name_id = children[0]
        if name_id.tag == ns.q("saml", "EncryptedID"):
            name_id = xenc.decrypt(name_id, keypair, where=f"{where}: EncryptedID", expect=ns.q("saml", "NameID"))
        return C.exact_text(name_id), name_id.get("NameQualifier")
    return C.exact_text(value_el), None


_ID_HOLDERS = (ns.q("saml", "EncryptedID"), ns.q("saml", "NameID"))
