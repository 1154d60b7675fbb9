"""Hostile answers beyond the fault catalogue, straight at the DV checks (ehsaml.dv, ehsaml.xml), and the legitimate
variants a correct DV must still accept (positive controls): issue 15's attacks, each re-signed with the broker's
TEST-ONLY key where a signature was needed, so only the attack shows."""

from __future__ import annotations

import base64
import copy
import functools
import secrets
from dataclasses import replace

import pytest
from lxml import etree

from dvfixtures import ACS, ATTACKER, BROKER, HM, KVK, POLICY, PORTAL, RSIN, build_response, check, response, sign, wire
from ehsaml import bindings, dsig, ns, xenc
from ehsaml import eherkenning as eh
from ehsaml.dv.login import validate_artifact_login, validate_response
from ehsaml.errors import DecryptionFailed, MalformedInput
from ehsaml.testids import BROKER_ENTITY_ID, PORTAL_ENTITY_ID, PORTAL_SERVICE_EDIT, PORTAL_SERVICE_VIEW
from ehsaml.xml import parse_xml

XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


def _q(local, prefix="saml"):
    return ns.q(prefix, local)


def _assertion(resp):
    return resp.find(_q("Assertion"))


def _legal_subject(resp, *values):
    """Replace the LegalSubjectID by plain NameIDs whose content is given as XML fragments (mixed content)."""
    attr = resp.find(f".//{_q('Attribute')}[@Name='{eh.ATTR_LEGAL_SUBJECT}']")
    for child in list(attr):
        attr.remove(child)
    for qualifier, fragment in values:
        nid = etree.fromstring(f'<saml:NameID xmlns:saml="{ns.SAML}" xmlns:x="urn:x" Format="{ns.NAMEID_PERSISTENT}" '
                               f'NameQualifier="{qualifier}">{fragment}</saml:NameID>')
        etree.SubElement(attr, _q("AttributeValue")).append(nid)
    return resp


def _fails(result, name):
    assert not result.ok and result.failure.check == name, result.explain()
    return result.failure


# --- the parse: DOCTYPE in any encoding, clashes and floods ---------------------------------------------------

@pytest.mark.parametrize("codec", ["utf-8", "utf-16", "utf-16-be", "utf-32"])
def test_a_doctype_is_refused_in_any_encoding(codec):
    label = {"utf-16-be": "UTF-16BE"}.get(codec, codec.upper())
    doc = f'<?xml version="1.0" encoding="{label}"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>'.encode(codec)
    assert b"<!DOCTYPE" not in doc or codec == "utf-8"  # a byte search finds it in UTF-8 only
    with pytest.raises(MalformedInput, match="DOCTYPE"):
        parse_xml(doc, what="test")


def test_a_document_in_utf16_without_doctype_is_read():
    resp = sign(response(), BROKER)
    doc = b'<?xml version="1.0" encoding="UTF-16"?>'.decode() + etree.tostring(resp).decode()
    result = check(parse_xml(doc.encode("utf-16"), what="test"))
    assert result.ok, result.explain()


def test_an_xml_id_clash_is_refused_naming_the_element():
    resp = sign(response(), BROKER)
    resp.find(_q("Issuer")).set(XML_ID, resp.get("ID"))
    with pytest.raises(MalformedInput, match=r"xml:id '_[0-9a-f]+' on saml:Issuer repeats the ID of samlp:Response"):
        parse_xml(etree.tostring(resp), what="SAMLResponse")


def test_a_signature_check_refuses_an_xml_id_clash_instead_of_raising():
    """The tree may not come from parse_xml (a caller's own parse): dsig names the clash, it never crashes."""
    resp = sign(response(), BROKER)
    resp.find(_q("Issuer")).set(XML_ID, resp.get("ID"))
    f = _fails(validate_response(resp, POLICY, hm=HM, outstanding={"_req1": None}), "response_signature")
    assert "xml:id" in f.actual and "saml:Issuer" in f.actual


@pytest.mark.parametrize("flood, says", [
    (lambda el: [el.set(f"a{i}", "x") for i in range(33)], "33 attributes"),
    (lambda el: etree.SubElement(el, "x", nsmap={f"n{i}": f"urn:n:{i}" for i in range(17)}), "declares 17 namespaces"),
    (lambda el: [etree.SubElement(el, "x") for _ in range(10_001)], "more than 10000 elements"),
    (lambda el: functools.reduce(lambda e, _: etree.SubElement(e, "x"), range(70), el), "nested more than"),
])
def test_floods_are_refused_while_parsing(flood, says):
    resp = response()
    flood(etree.SubElement(resp, _q("Extensions", "samlp")))
    with pytest.raises(MalformedInput, match=says):
        parse_xml(etree.tostring(resp), what="test")


def test_a_transform_flood_is_refused_before_xmlsec_runs_it():
    resp = response()
    sign(resp, BROKER, response=False)
    transforms = _assertion(resp).xpath("ds:Signature//ds:Transforms", namespaces=ns.NSMAP)[0]
    for _ in range(100):
        etree.SubElement(transforms, ns.q("ds", "Transform"), Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    f = _fails(check(resp, in_artifact_response=True), "assertion_signature")
    assert "102 transforms" in f.actual


# --- issue 15's attacks, each the only defect -----------------------------------------------------------------

@pytest.mark.parametrize("kvk", ["1234<x:b>9999</x:b>5678", "1234<x:b/>5678", " 12345678", "12345678 ", "12345678\n",
                                 "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668", "1234<!---->5678"])
def test_a_kvk_is_taken_only_as_exact_ascii_digits(kvk):
    resp = build_response(request_id="_req1", acs_url=ACS, dv_cert=None)
    _legal_subject(resp, (eh.ID_KVK, kvk), (eh.ID_RSIN, RSIN))
    result = check(sign(resp, BROKER))
    f = _fails(result, "identifier_formats")
    assert result.kvk != KVK and "KvK number" in str(f.actual)


def test_an_rsin_in_unicode_digits_is_refused():
    rsin = "".join(chr(0x966 + int(d)) for d in RSIN)  # the RSIN in Devanagari digits: passes the 11-test as numbers
    assert int(rsin) == int(RSIN) and eh.is_rsin(RSIN)
    resp = _legal_subject(build_response(request_id="_req1", acs_url=ACS, dv_cert=None), (eh.ID_KVK, KVK),
                          (eh.ID_RSIN, rsin))
    _fails(check(sign(resp, BROKER)), "identifier_formats")


@pytest.mark.parametrize("spelling", ["EH3", "EH4", "loa3", "loa4", " urn:etoegang:core:assurance-class:loa4",
                                      "urn:etoegang:core:assurance-class:LOA4", "http://eidas.europa.eu/LoA/high"])
def test_the_level_is_taken_only_as_its_exact_urn(spelling):
    resp = response()
    resp.find(f".//{_q('AuthnContextClassRef')}").text = spelling
    result = check(sign(resp, BROKER))
    _fails(result, "authn_level")
    assert result.level is None


def test_an_assertion_of_version_1_1_is_refused():
    resp = response()
    _assertion(resp).set("Version", "1.1")
    _fails(check(sign(resp, BROKER)), "assertion_element")


@pytest.mark.parametrize("change, says", [
    (lambda n: n.getparent().remove(n), "0 saml:NameID"),
    (lambda n: setattr(n, "text", ""), "NameID value ''"),
    (lambda n: n.set("Format", ns.NAMEID_PERSISTENT), "Format"),
    (lambda n: n.attrib.pop("NameQualifier"), "NameQualifier None"),
])
def test_the_name_id_is_present_transient_and_qualified(change, says):
    resp = response()
    change(resp.find(f".//{_q('Subject')}/{_q('NameID')}"))
    f = _fails(check(sign(resp, BROKER)), "subject_name_id")
    assert says in str(f.actual)


def test_an_encrypted_assertion_hidden_in_extensions_is_refused():
    resp = sign(response(), BROKER, response=False)
    forged = copy.deepcopy(_assertion(resp))
    dsig.strip_signature(forged)
    holder = etree.Element(_q("EncryptedAssertion"))
    holder.append(forged)
    xenc.encrypt_into(holder, forged, PORTAL.certificate, recipient_entity_id=PORTAL_ENTITY_ID)
    ext = etree.Element(_q("Extensions", "samlp"))
    ext.append(holder)
    resp.find(_q("Issuer")).addnext(ext)
    f = _fails(check(sign(resp, BROKER, assertion=False)), "single_assertion")
    assert "1 elsewhere" in f.actual


def test_an_encrypted_assertion_is_refused_where_the_policy_takes_none():
    resp = sign(response(), BROKER, response=False)
    a = _assertion(resp)
    holder = etree.SubElement(resp, _q("EncryptedAssertion"))
    holder.append(a)
    xenc.encrypt_into(holder, a, PORTAL.certificate, recipient_entity_id=PORTAL_ENTITY_ID)
    assert check(sign(resp, BROKER, assertion=False)).ok
    f = _fails(check(resp, allow_encrypted_assertion=False), "single_assertion")
    assert "takes no EncryptedAssertion" in f.actual


def test_another_dvs_status_answer_with_our_request_id_is_refused_as_such():
    """Not shown as "no mandate": the answer was addressed to another DV's ACS."""
    resp = build_response(request_id="_req1", acs_url=ACS, dv_cert=None, destination="https://other.example/acs",
                          status=(ns.STATUS_RESPONDER, ns.STATUS_REQUEST_UNSUPPORTED, "Geen machtiging"))
    _fails(check(sign(resp, BROKER, assertion=False)), "response_destination")


def test_a_status_answer_with_an_assertion_for_another_audience_is_refused_as_a_forgery():
    resp = response(audience="urn:etoegang:DV:00000009998887776000:entities:9001")
    resp.find(f"{_q('Status', 'samlp')}/{_q('StatusCode', 'samlp')}").set("Value", ns.STATUS_RESPONDER)
    f = _fails(check(sign(resp, BROKER)), "single_assertion")
    assert "Responder with 1 assertion" in f.actual


def test_every_decryption_failure_reads_the_same_no_padding_oracle():
    """A wrong key, a broken CBC padding and a plaintext of the wrong kind get one message."""
    def encrypted(tamper=None, cert=PORTAL.certificate, element="NameID"):
        holder = etree.Element(_q("EncryptedID"))
        nid = etree.SubElement(holder, _q(element), nsmap={"saml": ns.SAML})
        nid.text = KVK
        xenc.encrypt_into(holder, nid, cert, recipient_entity_id=PORTAL_ENTITY_ID)
        if tamper:
            value = holder.xpath(".//xenc:EncryptedData/xenc:CipherData/xenc:CipherValue", namespaces=ns.NSMAP)[0]
            raw = bytearray(bindings.b64decode(value.text, what="test"))
            raw[-17] ^= 1
            value.text = base64.b64encode(bytes(raw)).decode()
        return holder

    messages = set()
    for holder in (encrypted(tamper=True), encrypted(cert=ATTACKER.certificate), encrypted(element="Assertion")):
        with pytest.raises(DecryptionFailed) as info:
            xenc.decrypt(holder, PORTAL, where="EncryptedID", expect=_q("NameID"))
        messages.add(str(info.value))
    assert len(messages) == 1, messages
    assert xenc.decrypt(encrypted(), PORTAL, where="EncryptedID", expect=_q("NameID")).text == KVK


# --- positive controls: what a correct DV must accept ----------------------------------------------------------

@pytest.mark.parametrize("style", ["seconds", "microseconds"])
def test_times_without_or_with_more_fraction_digits_are_accepted(style):
    resp = response()
    for el in resp.iter():
        for name in ("IssueInstant", "NotBefore", "NotOnOrAfter", "AuthnInstant"):
            if el.get(name):  # the broker writes milliseconds: 2026-01-31T12:00:00.123Z
                whole, fraction = el.get(name)[:-1].split(".")
                el.set(name, whole + "Z" if style == "seconds" else f"{whole}.{fraction}456Z")
    result = check(sign(resp, BROKER))
    assert result.ok, result.explain()


def test_an_extra_audience_beside_our_own_is_accepted():
    resp = response()
    restriction = resp.find(f".//{_q('AudienceRestriction')}")
    etree.SubElement(restriction, _q("Audience")).text = "urn:etoegang:HM:00000003999999990000:entities:9001"
    assert check(sign(resp, BROKER)).ok


def test_advice_with_the_brokers_own_signed_assertion_is_accepted():
    resp = response()
    a = _assertion(resp)
    inner = copy.deepcopy(a)
    inner.set("ID", "_" + secrets.token_hex(20))
    dsig.sign(inner, BROKER)
    advice = etree.Element(_q("Advice"))
    advice.append(inner)
    a.find(_q("Conditions")).addnext(advice)
    result = check(sign(resp, BROKER))
    assert result.ok, result.explain()


def test_other_namespace_prefixes_are_accepted():
    xml = etree.tostring(response()).decode()
    xml = xml.replace("xmlns:samlp=", "xmlns:p2=").replace("<samlp:", "<p2:").replace("</samlp:", "</p2:")
    xml = xml.replace("xmlns:saml=", "xmlns:a2=").replace("<saml:", "<a2:").replace("</saml:", "</a2:")
    resp = etree.fromstring(xml.encode())
    assert resp.prefix == "p2"
    result = check(sign(resp, BROKER))
    assert result.ok, result.explain()


def test_an_unsigned_response_inside_a_signed_artifact_response_is_accepted():
    inner = sign(response(), BROKER, response=False)
    ar = etree.Element(_q("ArtifactResponse", "samlp"), nsmap={"samlp": ns.SAMLP, "saml": ns.SAML}, ID="_ar",
                       Version="2.0", IssueInstant=inner.get("IssueInstant"), InResponseTo="_resolve")
    etree.SubElement(ar, _q("Issuer")).text = BROKER_ENTITY_ID
    etree.SubElement(etree.SubElement(ar, _q("Status", "samlp")), _q("StatusCode", "samlp"), Value=ns.STATUS_SUCCESS)
    ar.append(inner)
    dsig.sign(ar, BROKER)
    result = validate_artifact_login(wire(bindings.soap_envelope(ar)), POLICY, hm=HM, artifact_resolve_id="_resolve",
                                     outstanding={"_req1": None})
    assert result.ok, result.explain()


def test_kvk_and_rsin_and_rsin_only_where_the_catalogue_allows_it():
    assert check(sign(response(), BROKER)).ok  # KvK + RSIN
    only = _legal_subject(build_response(request_id="_req1", acs_url=ACS, dv_cert=None), (eh.ID_RSIN, RSIN))
    _fails(check(sign(copy.deepcopy(only), BROKER)), "legal_subject")
    result = check(sign(only, BROKER), allow_rsin_only=True)
    assert result.ok and result.rsin == RSIN and result.kvk is None, result.explain()


@pytest.mark.parametrize("cipher", list(xenc.DataCipher))
def test_the_allowed_ciphers_are_accepted_for_identifiers_and_the_assertion(cipher):
    resp = build_response(request_id="_req1", acs_url=ACS, dv_cert=None)
    attr = resp.find(f".//{_q('Attribute')}[@Name='{eh.ATTR_LEGAL_SUBJECT}']")
    for value in attr:
        nid = value.find(_q("NameID"))
        holder = etree.SubElement(value, _q("EncryptedID"))
        holder.append(nid)
        xenc.encrypt_into(holder, nid, PORTAL.certificate, recipient_entity_id=PORTAL_ENTITY_ID, cipher=cipher)
    sign(resp, BROKER, response=False)
    a = _assertion(resp)
    holder = etree.SubElement(resp, _q("EncryptedAssertion"))
    holder.append(a)
    xenc.encrypt_into(holder, a, PORTAL.certificate, recipient_entity_id=PORTAL_ENTITY_ID, cipher=cipher)
    result = check(sign(resp, BROKER, assertion=False))
    assert result.ok and (result.kvk, result.rsin) == (KVK, RSIN), result.explain()


def test_the_service_asked_for_is_accepted_with_its_own_uuid():
    policy = replace(POLICY, own_service_uuids=None,
                     service_uuid_of={PORTAL_SERVICE_VIEW: "uuid-view", PORTAL_SERVICE_EDIT: "uuid-edit"})
    good = sign(response(service_id=PORTAL_SERVICE_EDIT, service_uuid="uuid-edit"), BROKER)
    assert validate_response(wire(good), policy, hm=HM, outstanding={"_req1": PORTAL_SERVICE_EDIT}).ok
    swapped = sign(response(service_id=PORTAL_SERVICE_EDIT, service_uuid="uuid-view"), BROKER)
    _fails(validate_response(wire(swapped), policy, hm=HM, outstanding={"_req1": PORTAL_SERVICE_EDIT}), "service_uuid")


def test_attributes_without_name_format_and_conditions_without_not_before_are_accepted():
    """SPID's cases 109 (no NameFormat: accepted) and SAML's optional NotBefore (eHerkenning's broker sends one)."""
    resp = response()
    for attr in resp.iter(_q("Attribute")):
        attr.attrib.pop("NameFormat", None)
    _assertion(resp).find(_q("Conditions")).attrib.pop("NotBefore")
    result = check(sign(resp, BROKER))
    assert result.ok, result.explain()
