"""The DV side of ehsaml: metadata, catalogue, requests, and the named checks on a response."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
import responses
import xmlschema
from lxml import etree

from dvfixtures import (ACS, ARS, ATTACKER, BROKER, BRANCH, HM, KVK, POLICY, PORTAL, PSEUDONYM, RSIN, SERVICE_UUID,
                        build_response, sign, wire)
from dvfixtures import check as _validate
from dvfixtures import response as _response
from ehsaml import bindings, dsig, ns, xenc
from ehsaml import eherkenning as eh
from ehsaml.dv.checks import check_artifact_source
from ehsaml.dv.client import (
    ArtifactResolutionFailed, build_artifact_resolve, build_authn_request, build_logout_request,
    post_form_fields, redirect_url, resolve_artifact,
)
from ehsaml.dv.metadata import CatalogueEntry, build_catalogue, build_dv_metadata
from ehsaml.dv.login import validate_artifact_login, validate_artifact_response, validate_response
from ehsaml.metadata import parse_catalogue, parse_entity
from ehsaml.testids import (
    BROKER_ENTITY_ID, BROKER_OIN, OTHER_DV_SERVICE, PORTAL_ENTITY_ID, PORTAL_SERVICE_EDIT,
    PORTAL_SERVICE_VIEW,
)
from ehsaml.xml import parse_xml
from schemas import validate_saml_schema

SSO = "https://broker.example.test/saml/sso"
SERVICES = [(1, "Bekijk gegevens", PORTAL_SERVICE_VIEW, True), (2, "Bekijk en wijzig gegevens", PORTAL_SERVICE_EDIT, False)]


# --- metadata and catalogue -------------------------------------------------------------------

def test_dv_metadata_is_signed_schema_valid_and_parses_back():
    xml = build_dv_metadata(entity_id=PORTAL_ENTITY_ID, keypair=PORTAL, acs_url=ACS, services=SERVICES,
                            slo_url="https://portal.example.test/saml/slo", organization=("Portal (TEST)", "https://x.test/"))
    validate_saml_schema(xml)
    root = parse_xml(xml)
    dsig.verify(root, [PORTAL.certificate], where="metadata")
    meta = parse_entity(xml, source="dv metadata")
    assert meta.entity_id == PORTAL_ENTITY_ID
    assert meta.authn_requests_signed and meta.want_assertions_signed
    assert [c.key_name for c in meta.signing_certs] == [PORTAL.certificate.key_name]
    assert [c.key_name for c in meta.encryption_certs] == [PORTAL.certificate.key_name]
    assert [(e.binding, e.index, e.is_default) for e in meta.acs] == [
        (ns.BINDING_ARTIFACT, 0, True), (ns.BINDING_POST, 1, False)]
    assert meta.default_service().service_id == PORTAL_SERVICE_VIEW
    assert meta.service_by_index(2).service_id == PORTAL_SERVICE_EDIT
    assert meta.service_by_index(2).name == "Bekijk en wijzig gegevens"
    assert len(meta.slo) == 2


def test_schema_helper_refuses_wrong_element_order():
    xml = build_dv_metadata(entity_id=PORTAL_ENTITY_ID, keypair=PORTAL, acs_url=ACS, services=SERVICES, sign=False)
    root = parse_xml(xml)
    sp = root[0]
    sp.append(sp.find(ns.q("md", "KeyDescriptor")))  # KeyDescriptor after the ACS: out of order
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        validate_saml_schema(root)


def test_catalogue_round_trips():
    entries = [
        CatalogueEntry(service_id=PORTAL_SERVICE_VIEW, service_uuid=SERVICE_UUID,
                       instance_uuid="aaaaaaaa-0000-4000-8000-000000000001", name="Bekijk gegevens",
                       min_level=eh.Level.EH3, service_url="https://portal.example.test/",
                       privacy_policy_url="https://portal.example.test/privacy",
                       restrictions_allowed=(eh.ATTR_BRANCH,),
                       requested_attributes=((eh.ATTR_REPRESENTED_NAME, "Naam tonen"),)),
        CatalogueEntry(service_id=PORTAL_SERVICE_EDIT, service_uuid="22222222-2222-4333-8444-555555555555",
                       instance_uuid="aaaaaaaa-0000-4000-8000-000000000002", name="Bekijk en wijzig gegevens",
                       min_level=eh.Level.EH4, service_url="https://portal.example.test/",
                       privacy_policy_url="https://portal.example.test/privacy", identifier_sets=((eh.ID_KVK,),)),
    ]
    xml = build_catalogue(provider_entity_id=PORTAL_ENTITY_ID, provider_name="Portal (TEST)", broker_oin=BROKER_OIN,
                          services=entries, encryption_cert=PORTAL.certificate, sign_with=PORTAL)
    dsig.verify(parse_xml(xml), [PORTAL.certificate], where="catalogue")
    view, edit = parse_catalogue(xml, source="catalogue")
    assert (view.service_id, view.service_uuid, view.instance_uuid) == (
        PORTAL_SERVICE_VIEW, SERVICE_UUID, "aaaaaaaa-0000-4000-8000-000000000001")
    assert view.min_level is eh.Level.EH3 and edit.min_level is eh.Level.EH4
    assert view.identifier_types == (eh.ID_KVK, eh.ID_RSIN) and edit.identifier_types == (eh.ID_KVK,)
    assert view.restrictions_allowed == (eh.ATTR_BRANCH,) and edit.restrictions_allowed == ()
    assert view.provider_entity_id == PORTAL_ENTITY_ID and view.name == "Bekijk gegevens"


# --- requests ---------------------------------------------------------------------------------

def test_redirect_authn_request_verifies():
    req_id, req = build_authn_request(dv=PORTAL_ENTITY_ID, destination=SSO, acs_index=0, service_index=2,
                                      requested_level=eh.Level.EH3)
    assert req_id.startswith("_") and len(req_id) == 41
    validate_saml_schema(req)
    url = redirect_url(SSO, req, PORTAL, "state 1/2")
    assert url.startswith(SSO + "?SAMLRequest=")
    msg = bindings.parse_redirect(urlsplit(url).query)
    assert msg.verify([PORTAL.certificate], where="test").key_name == PORTAL.certificate.key_name
    assert msg.relay_state == "state 1/2"
    got = parse_xml(msg.xml)
    assert got.get("ID") == req_id and got.get("AttributeConsumingServiceIndex") == "2"
    assert got.get("ForceAuthn") == "true" and got.get("IssueInstant").endswith("Z")
    with pytest.raises(Exception):
        msg.verify([ATTACKER.certificate], where="test")


def test_post_authn_request_signature_verifies():
    req_id, req = build_authn_request(dv=PORTAL_ENTITY_ID, destination=SSO, acs_url=ACS,
                                      protocol_binding=ns.BINDING_POST)
    fields = post_form_fields(req, PORTAL, "rs")
    assert fields["RelayState"] == "rs" and dsig.signature_of(req) is None  # the caller's element is untouched
    got = parse_xml(base64.b64decode(fields["SAMLRequest"]))
    validate_saml_schema(got)
    dsig.verify(got, [PORTAL.certificate], where="AuthnRequest")
    assert got.get("AssertionConsumerServiceURL") == ACS and got.get("ProtocolBinding") == ns.BINDING_POST


def test_artifact_resolve_and_logout_request_are_signed_and_schema_valid():
    art = bindings.Artifact.new(BROKER_ENTITY_ID, 0).encode()
    el = wire(build_artifact_resolve(dv=PORTAL_ENTITY_ID, destination=ARS, artifact=art, keypair=PORTAL))
    validate_saml_schema(el)
    dsig.verify(el, [PORTAL.certificate], where="ArtifactResolve")
    _, lr = build_logout_request(dv=PORTAL_ENTITY_ID, destination=SSO, name_id="_abc", session_index="_s1",
                                 keypair=PORTAL)
    lr = wire(lr)
    validate_saml_schema(lr)
    dsig.verify(lr, [PORTAL.certificate], where="LogoutRequest")


def test_artifact_source_check():
    assert check_artifact_source(bindings.Artifact.new(BROKER_ENTITY_ID, 0).encode(), HM).passed
    wrong = check_artifact_source(bindings.Artifact.new("urn:someone:else", 0).encode(), HM)
    assert not wrong.passed and wrong.check == "artifact_source"
    assert not check_artifact_source(bindings.Artifact.new(BROKER_ENTITY_ID, 7).encode(), HM).passed


# --- the response: the good case ----------------------------------------------------------------

def test_correct_response_passes_with_attributes_decrypted():
    result = _validate(sign(_response(), BROKER))
    assert result.ok, result.explain()
    assert result.failure is None and all(c.passed for c in result.checks)
    assert (result.kvk, result.rsin, result.pseudonym, result.branch) == (KVK, RSIN, PSEUDONYM, BRANCH)
    assert result.level is eh.Level.EH3 and result.service_id == PORTAL_SERVICE_VIEW
    assert result.service_uuid == SERVICE_UUID and result.in_response_to == "_req1"
    assert result.attributes[eh.ATTR_LEGAL_SUBJECT] == [KVK, RSIN]
    assert result.represented_name == "Bakkerij De Test B.V. (TEST)"
    assert result.name_id and result.session_index and result.status[0] == ns.STATUS_SUCCESS
    names = [c.check for c in result.checks]
    assert names[:3] == ["response_element", "response_signature", "response_issuer"]
    assert "identifiers_decrypted" in names and names[-1] == "identifier_formats"


def test_response_validates_against_saml_schema():
    validate_saml_schema(wire(sign(_response(), BROKER)))


# --- the response: each check fails under its own name ------------------------------------------

def _fails(result, name):
    assert not result.ok
    assert result.failure is not None and result.failure.check == name, result.explain()
    assert result.checks[-1] == result.failure  # stopped at the first failure
    return result.failure


def test_wrong_audience():
    f = _fails(_validate(sign(_response(audience="urn:etoegang:DV:00000009998887776000:entities:9001"), BROKER)),
               "audience")
    assert f.expected == PORTAL_ENTITY_ID and "Audience" in f.rule


def test_wrong_destination():
    _fails(_validate(sign(_response(destination="https://evil.example.test/acs"), BROKER)), "response_destination")


def test_unknown_in_response_to():
    _fails(_validate(sign(_response(), BROKER), request_ids={"_other"}), "response_in_response_to")


def test_expired():
    _fails(_validate(sign(_response(age_seconds=600), BROKER)), "conditions_time")


def test_not_yet_valid_beyond_skew():
    resp = sign(_response(), BROKER)
    _fails(_validate(resp, now=resp_time(resp) - timedelta(minutes=5)), "conditions_time")


def resp_time(resp):
    from ehsaml.timeutil import parse
    return parse(resp.get("IssueInstant"), where="test")


def test_signed_by_attacker():
    f = _fails(_validate(sign(_response(), ATTACKER)), "response_signature")
    assert "does not verify" in str(f.actual)
    # also when only the assertion is there to check (inside an ArtifactResponse)
    _fails(_validate(sign(_response(), ATTACKER, response=False), in_artifact_response=True), "assertion_signature")


def test_assertion_changed_after_signing():
    resp = sign(_response(), BROKER, response=False)
    resp.find(f".//{ns.q('saml', 'AuthnContextClassRef')}").text = eh.Level.EH4.value
    _fails(_validate(resp, in_artifact_response=True), "assertion_signature")


def test_assertion_unsigned():
    f = _fails(_validate(sign(_response(), BROKER, assertion=False)), "assertion_signature")
    assert "not signed" in f.actual


def test_response_unsigned_outside_artifact():
    _fails(_validate(sign(_response(), BROKER, response=False)), "response_signature")


def test_two_assertions():
    resp = _response()
    first = resp.find(ns.q("saml", "Assertion"))
    second = etree.fromstring(etree.tostring(first))
    second.set("ID", "_second")
    resp.append(second)
    _fails(_validate(sign(resp, BROKER)), "single_assertion")


def test_level_too_low():
    f = _fails(_validate(sign(_response(level=eh.Level.EH2), BROKER)), "authn_level")
    assert f.actual == "EH2" and "EH3" in f.expected


def test_foreign_service_id():
    f = _fails(_validate(sign(_response(service_id=OTHER_DV_SERVICE), BROKER)), "service_id")
    assert f.actual == OTHER_DV_SERVICE


def test_non_success_status():
    resp = _response(status=(ns.STATUS_RESPONDER, ns.STATUS_AUTHN_FAILED, "Inloggen geannuleerd"))
    result = _validate(sign(resp, BROKER, assertion=False))
    f = _fails(result, "status")
    assert result.status == (ns.STATUS_RESPONDER, ns.STATUS_AUTHN_FAILED, "Inloggen geannuleerd")
    assert "AuthnFailed" in f.actual and "geannuleerd" in f.actual


def test_repeated_attribute_name():
    resp = _response()
    stmt = resp.find(f".//{ns.q('saml', 'AttributeStatement')}")
    stmt.append(etree.fromstring(etree.tostring(stmt[0])))
    _fails(_validate(sign(resp, BROKER)), "attribute_names_unique")


def test_identifier_for_another_key_fails_decryption():
    resp = build_response(request_id="_req1", acs_url=ACS, dv_cert=ATTACKER.certificate)
    _fails(_validate(sign(resp, BROKER)), "identifiers_decrypted")


# --- the artifact exchange ----------------------------------------------------------------------

def _artifact_response(inner, *, in_response_to="_ar1", signed=True):
    el = etree.Element(ns.q("samlp", "ArtifactResponse"), nsmap={"samlp": ns.SAMLP, "saml": ns.SAML},
                       ID="_artresp", Version="2.0", IssueInstant="2030-01-01T00:00:00.000Z", InResponseTo=in_response_to)
    etree.SubElement(el, ns.q("saml", "Issuer")).text = BROKER_ENTITY_ID
    etree.SubElement(etree.SubElement(el, ns.q("samlp", "Status")), ns.q("samlp", "StatusCode"), Value=ns.STATUS_SUCCESS)
    if inner is not None:
        el.append(inner)
    if signed:
        dsig.sign(el, BROKER)
    return bindings.soap_envelope(el)


@responses.activate
def test_resolve_artifact_and_validate_the_login():
    art = bindings.Artifact.new(BROKER_ENTITY_ID, 0).encode()
    seen = {}

    def answer(request):
        got = bindings.soap_body(parse_xml(request.body), what="test")
        dsig.verify(got, [PORTAL.certificate], where="ArtifactResolve")
        seen["id"] = got.get("ID")
        assert got.findtext(ns.q("samlp", "Artifact")) == art
        inner = sign(_response(), BROKER, response=False)
        return 200, {"Content-Type": "text/xml"}, etree.tostring(_artifact_response(inner, in_response_to=seen["id"]))

    responses.add_callback(responses.POST, ARS, callback=answer)
    resolve_id, art_resp = resolve_artifact(requests.Session(), ARS, art, PORTAL, PORTAL_ENTITY_ID)
    assert resolve_id == seen["id"] and art_resp.tag == ns.q("samlp", "ArtifactResponse")
    result = validate_artifact_login(art_resp, POLICY, hm=HM, artifact_resolve_id=resolve_id,
                                     outstanding={"_req1": None})
    assert result.ok, result.explain()
    assert result.checks[0].check == "artifact_response_element" and result.kvk == KVK


@responses.activate
def test_resolve_artifact_http_error_and_timeout():
    responses.add(responses.POST, ARS, status=500, body="boom")
    with pytest.raises(ArtifactResolutionFailed, match="HTTP 500: boom"):
        resolve_artifact(requests, ARS, "AAQAAA==", PORTAL, PORTAL_ENTITY_ID)
    responses.replace(responses.POST, ARS, body=requests.Timeout("slow"))
    with pytest.raises(ArtifactResolutionFailed, match="no answer within 5 seconds"):
        resolve_artifact(requests, ARS, "AAQAAA==", PORTAL, PORTAL_ENTITY_ID)


def test_artifact_response_without_response():
    result = validate_artifact_response(wire(_artifact_response(None)), hm=HM, artifact_resolve_id="_ar1")
    assert not result.ok and result.response is None
    assert result.failure.check == "artifact_response_has_response"
    assert result.failure.actual == "no Response: artifact unknown or used"


def test_artifact_response_checks_in_response_to_and_signature():
    inner = sign(_response(), BROKER)
    r = validate_artifact_response(wire(_artifact_response(inner)), hm=HM, artifact_resolve_id="_other")
    assert r.failure.check == "artifact_response_in_response_to"
    forged = _artifact_response(None, signed=False)
    dsig.sign(forged[0][0], ATTACKER)
    r = validate_artifact_response(wire(forged), hm=HM, artifact_resolve_id="_ar1")
    assert r.failure.check == "artifact_response_signature"
    ok = validate_artifact_response(wire(_artifact_response(sign(_response(), BROKER))), hm=HM, artifact_resolve_id="_ar1")
    assert ok.ok and ok.response.tag == ns.q("samlp", "Response")


# --- variants a careful DV accepts or refuses ---------------------------------------------------

def test_encrypted_assertion_is_decrypted_then_verified():
    resp = sign(_response(), BROKER, response=False)
    assertion = resp.find(ns.q("saml", "Assertion"))
    holder = etree.SubElement(resp, ns.q("saml", "EncryptedAssertion"))
    holder.append(assertion)
    xenc.encrypt_into(holder, assertion, PORTAL.certificate, recipient_entity_id=PORTAL_ENTITY_ID)
    dsig.sign(resp, BROKER)
    result = _validate(resp)
    assert result.ok, result.explain()
    assert result.kvk == KVK


def test_plain_name_ids_are_accepted():
    resp = build_response(request_id="_req1", acs_url=ACS, dv_cert=None)
    result = _validate(sign(resp, BROKER))
    assert result.ok, result.explain()
    assert (result.kvk, result.rsin, result.pseudonym) == (KVK, RSIN, PSEUDONYM)


def test_stray_assertion_elsewhere_is_refused():
    resp = _response()
    forged = etree.fromstring(etree.tostring(resp.find(ns.q("saml", "Assertion"))))
    forged.set("ID", "_forged")
    ext = etree.Element(ns.q("samlp", "Extensions"))
    ext.append(forged)
    resp.find(ns.q("saml", "Issuer")).addnext(ext)
    f = _fails(_validate(sign(resp, BROKER)), "single_assertion")
    assert "1 elsewhere" in f.actual


def test_comment_cannot_truncate_an_issuer():
    resp = _response()
    issuer = resp.find(ns.q("saml", "Issuer"))
    issuer.text = BROKER_ENTITY_ID[:10]
    comment = etree.Comment("x")
    comment.tail = BROKER_ENTITY_ID[10:] + ".evil"
    issuer.append(comment)
    _fails(_validate(sign(resp, BROKER)), "response_issuer")


def test_malformed_timestamp_fails_the_check_instead_of_raising():
    resp = _response()
    resp.find(f".//{ns.q('saml', 'Conditions')}").set("NotOnOrAfter", "2030-01-01T00:00:00+00:00")
    f = _fails(_validate(sign(resp, BROKER)), "conditions_time")
    assert "Z" in f.actual


def test_not_a_response():
    _, req = build_authn_request(dv=PORTAL_ENTITY_ID, destination=SSO)
    _fails(_validate(req), "response_element")


# --- the policy, and the every-finding mode -------------------------------------------------------

def test_a_dv_stops_at_the_first_failure_but_collect_all_reports_every_finding_and_what_it_read():
    resp = sign(_response(audience="urn:etoegang:DV:00000009998887776000:entities:9001", level=eh.Level.EH2,
                          age_seconds=900), BROKER)
    now = resp_time(resp) + timedelta(seconds=900)
    first = _validate(resp, now=now)
    assert [c.check for c in first.failures] == ["conditions_time"] and first.checks[-1] == first.failure
    every = _validate(resp, now=now, collect_all=True)
    failed = [c.check for c in every.failures]
    assert failed == ["conditions_time", "audience", "subject_confirmation_expiry", "issue_instant", "issue_instant",
                      "authn_level"], failed
    assert every.failure == first.failure and not every.ok
    # and everything it could read, as a report needs it
    assert every.level is eh.Level.EH2 and (every.kvk, every.rsin, every.pseudonym) == (KVK, RSIN, PSEUDONYM)
    assert every.service_id == PORTAL_SERVICE_VIEW and every.status[0] == ns.STATUS_SUCCESS
    assert every.in_response_to == "_req1" and every.name_id
    assert "identifier_formats" in [c.check for c in every.checks]  # the last check ran too


def test_collect_all_goes_on_past_a_broken_signature_and_a_foreign_destination():
    resp = sign(_response(destination="https://evil.example.test/acs", service_id=OTHER_DV_SERVICE), ATTACKER)
    every = _validate(resp, collect_all=True)
    assert [c.check for c in every.failures] == ["response_signature", "response_destination",
                                                 "assertion_signature", "service_id"]
    assert every.service_id == OTHER_DV_SERVICE and every.kvk == KVK
    assert _validate(resp).failures == every.failures[:1]


def test_collect_all_cannot_read_what_is_not_there():
    _, req = build_authn_request(dv=PORTAL_ENTITY_ID, destination=SSO)
    every = _validate(req, collect_all=True)
    assert [c.check for c in every.checks] == ["response_element"] and every.level is None
    status = _validate(sign(_response(status=(ns.STATUS_RESPONDER, ns.STATUS_AUTHN_FAILED, None)), BROKER,
                            assertion=False), collect_all=True)
    assert [c.check for c in status.failures] == ["status", "single_assertion"]
    assert status.status[1] == ns.STATUS_AUTHN_FAILED


def test_collect_all_checks_the_inner_response_of_a_failed_artifact_response():
    inner = sign(_response(audience="urn:etoegang:DV:00000009998887776000:entities:9001"), BROKER, response=False)
    envelope = wire(_artifact_response(inner, signed=False))
    first = validate_artifact_login(envelope, POLICY, hm=HM, artifact_resolve_id="_ar1", outstanding={"_req1": None})
    assert [c.check for c in first.failures] == ["artifact_response_signature"] and first.kvk is None
    every = validate_artifact_login(envelope, replace(POLICY, collect_all=True), hm=HM, artifact_resolve_id="_ar1",
                                    outstanding={"_req1": None})
    assert [c.check for c in every.failures] == ["artifact_response_signature", "audience"] and every.kvk == KVK


def test_the_answer_names_the_service_the_request_asked_for():
    resp = sign(_response(service_id=PORTAL_SERVICE_VIEW), BROKER)
    asked_edit = validate_response(wire(resp), POLICY, hm=HM, outstanding={"_req1": PORTAL_SERVICE_EDIT})
    f = _fails(asked_edit, "service_id")
    assert f.actual == PORTAL_SERVICE_VIEW and f.expected == PORTAL_SERVICE_EDIT
    assert validate_response(wire(resp), POLICY, hm=HM, outstanding={"_req1": PORTAL_SERVICE_VIEW}).ok


def test_the_policy_is_frozen_and_refuses_a_misspelt_check_name():
    with pytest.raises(ValueError, match="no DV check named"):
        replace(POLICY, ignore_checks={"audiense"})
    with pytest.raises(TypeError, match="not one string"):
        replace(POLICY, own_service_ids=PORTAL_SERVICE_VIEW)
    with pytest.raises(Exception):
        POLICY.min_level = eh.Level.EH2  # frozen
    assert isinstance(POLICY.own_service_ids, frozenset)
