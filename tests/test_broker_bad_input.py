"""Hostile or broken input gets a clear 4xx page or the scheme's SAML error, never a 500; the journal says why."""

from __future__ import annotations

import base64
from urllib.parse import quote_plus

import pytest
import requests
from conftest import journal, queue
from testdv import ACS_URL, dv_metadata

from ehsaml import bindings, dsig, ns
from ehsaml.dv.client import build_authn_request, post_form_fields, redirect_url
from ehsaml.keys import load_keypair
from ehsaml.xml import tostring
from ehsaml.testkeys import CERTS_DIR as CERTS


def attacker():
    return load_keypair(str(CERTS / "attacker.TEST-ONLY.key"), str(CERTS / "attacker.TEST-ONLY.crt"))


def last_refusal(broker_url) -> str:
    return [e for e in journal(broker_url) if e["event"] == "refused"][-1]["reason"]


def sso_get(broker_url, query: str):
    return requests.get(f"{broker_url}/saml/sso?{query}", allow_redirects=False, timeout=10)


def sso_post(broker_url, data, **kw):
    return requests.post(f"{broker_url}/saml/sso", data=data, allow_redirects=False, timeout=10, **kw)


@pytest.mark.parametrize("query, words", [
    ("SAMLRequest=%%%not-base64%%%", "base64"),
    ("SAMLRequest=" + quote_plus(base64.b64encode(b"plain, not deflated").decode()), "DEFLATE"),
    ("SAMLRequest=" + quote_plus(base64.b64encode(bindings.deflate(b"<unclosed")).decode()), "well-formed"),
    ("", "no SAMLRequest"),
    ("SAMLRequest=a&SAMLRequest=b", "twice"),
])
def test_malformed_redirect_requests_get_a_400_page_naming_the_problem(broker_url, query, words):
    resp = sso_get(broker_url, query)
    assert resp.status_code == 400
    assert words in resp.text and "Traceback" not in resp.text
    assert words in last_refusal(broker_url)


def test_deflate_bomb_is_refused(broker_url):
    bomb = base64.b64encode(bindings.deflate(b"<a>" + b" " * 5_000_000 + b"</a>")).decode()
    resp = sso_get(broker_url, "SAMLRequest=" + quote_plus(bomb))
    assert resp.status_code == 400 and "inflates to more than" in resp.text


@pytest.mark.parametrize("xml", [
    b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:AuthnRequest>',
    b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><r>&c;</r>',
])
def test_xxe_and_entity_expansion_are_refused_without_reading_anything(broker_url, xml):
    resp = sso_post(broker_url, {"SAMLRequest": base64.b64encode(xml).decode()})
    assert resp.status_code == 400
    assert "DOCTYPE" in resp.text and "root:" not in resp.text


def test_ten_megabyte_body_gets_413(broker_url):
    resp = sso_post(broker_url, {"SAMLRequest": "A" * (10 * 1024 * 1024)})
    assert resp.status_code == 413 and "larger than" in resp.text


def test_unknown_dv_gets_an_error_page_and_no_assertion(broker_url, dv):
    _, el = build_authn_request(dv="urn:etoegang:DV:00000000000000000001:entities:9999", destination=dv.sso_url)
    resp = requests.get(redirect_url(dv.sso_url, el, dv.keypair, None), allow_redirects=False, timeout=10)
    assert resp.status_code == 403 and "unknown DV" in resp.text
    assert "Location" not in resp.headers and "SAMLResponse" not in resp.text
    assert "unknown DV" in last_refusal(broker_url)


def test_redirect_signed_by_another_key_is_refused(broker_url, dv):
    _, el = build_authn_request(dv=dv.entity_id, destination=dv.sso_url, service_index=2)
    resp = requests.get(redirect_url(dv.sso_url, el, attacker(), None), allow_redirects=False, timeout=10)
    assert resp.status_code == 403 and "does not verify" in resp.text


def test_redirect_without_signature_is_refused(broker_url, dv):
    _, el = build_authn_request(dv=dv.entity_id, destination=dv.sso_url)
    query = bindings.redirect_query("SAMLRequest", el, relay_state=None, keypair=None)
    resp = sso_get(broker_url, query)
    assert resp.status_code == 403 and "without Signature" in resp.text


def test_redirect_with_a_changed_relay_state_fails_its_signature(broker_url, dv):
    _, el = build_authn_request(dv=dv.entity_id, destination=dv.sso_url)
    url = redirect_url(dv.sso_url, el, dv.keypair, "original").replace("RelayState=original", "RelayState=changed")
    assert requests.get(url, allow_redirects=False, timeout=10).status_code == 403


def test_post_request_unsigned_or_tampered_is_refused(broker_url, dv):
    _, el = build_authn_request(dv=dv.entity_id, destination=dv.sso_url)
    unsigned = sso_post(broker_url, {"SAMLRequest": bindings.encode_post(el)})
    assert unsigned.status_code == 403 and "not signed" in unsigned.text
    fields = post_form_fields(el, dv.keypair, None)
    xml = base64.b64decode(fields["SAMLRequest"]).replace(b'ForceAuthn="true"', b'ForceAuthn="false"')
    tampered = sso_post(broker_url, {"SAMLRequest": base64.b64encode(xml).decode()})
    assert tampered.status_code == 403 and "does not verify" in tampered.text


def test_wrong_destination_is_refused(broker_url, dv):
    _, el = build_authn_request(dv=dv.entity_id, destination="http://127.0.0.1:1/elsewhere")
    resp = requests.get(redirect_url(dv.sso_url, el, dv.keypair, None), allow_redirects=False, timeout=10)
    assert resp.status_code == 400 and "Destination" in resp.text


def test_acs_not_in_metadata_gets_no_assertion(broker_url, dv):
    _, el = build_authn_request(dv=dv.entity_id, destination=dv.sso_url, acs_url="http://127.0.0.1:9/steal",
                                protocol_binding=ns.BINDING_POST)
    resp = requests.get(redirect_url(dv.sso_url, el, dv.keypair, None), allow_redirects=False, timeout=10)
    assert resp.status_code == 400 and "not an ACS in the DV" in resp.text
    assert "127.0.0.1:9" not in resp.headers.get("Location", "")


def test_unknown_acs_index_gets_no_assertion(broker_url, dv):
    _, el = build_authn_request(dv=dv.entity_id, destination=dv.sso_url, acs_index=7)
    resp = requests.get(redirect_url(dv.sso_url, el, dv.keypair, None), allow_redirects=False, timeout=10)
    assert resp.status_code == 400 and "AssertionConsumerServiceIndex" in resp.text


def test_replayed_request_id_gets_a_saml_error(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    first = dv.login(service_index=2, request_id="_replay-me")
    assert first.result.ok
    queue(broker_url, person="anna-de-vries")
    again = dv.login(service_index=2, request_id="_replay-me")
    assert not again.result.ok
    assert again.result.status[:2] == (ns.STATUS_REQUESTER, ns.STATUS_REQUEST_UNSUPPORTED)
    assert "replayed" in again.result.status[2]


def test_unknown_service_index_gets_a_saml_error(broker_url, dv):
    answer = dv.login(service_index=9)
    assert answer.result.status[:2] == (ns.STATUS_REQUESTER, ns.STATUS_REQUEST_UNSUPPORTED)
    assert "AttributeConsumingServiceIndex" in answer.result.status[2]


def test_stale_issue_instant_gets_a_saml_error(broker_url, dv):
    from datetime import timedelta
    from ehsaml import timeutil
    answer = dv.login(service_index=2, now=timeutil.utcnow() - timedelta(hours=1))
    assert "IssueInstant" in answer.result.status[2]


def soap(broker_url, body: bytes, content_type="text/xml"):
    return requests.post(f"{broker_url}/saml/artifact", data=body, headers={"Content-Type": content_type}, timeout=10)


def test_artifact_endpoint_refuses_wrong_content_type(broker_url):
    resp = soap(broker_url, b"<x/>", "application/json")
    assert resp.status_code == 415 and "text/xml" in resp.text


def test_artifact_endpoint_refuses_garbage_and_non_soap(broker_url):
    assert soap(broker_url, b"not xml").status_code == 400
    resp = soap(broker_url, b'<a xmlns="urn:x"/>')
    assert resp.status_code == 400 and "SOAP" in resp.text


def test_artifact_resolve_signed_by_another_key_is_refused(broker_url, dv):
    from ehsaml.dv.client import build_artifact_resolve
    el = build_artifact_resolve(dv=dv.entity_id, destination="x", artifact="AAQAAA==", keypair=attacker())
    resp = soap(broker_url, tostring(bindings.soap_envelope(el)))
    assert resp.status_code == 403 and "does not verify" in resp.text


def test_unsigned_artifact_resolve_is_refused(broker_url, dv):
    from ehsaml.dv.client import build_artifact_resolve
    el = build_artifact_resolve(dv=dv.entity_id, destination="x", artifact="AAQAAA==", keypair=dv.keypair)
    dsig.strip_signature(el)
    resp = soap(broker_url, tostring(bindings.soap_envelope(el)))
    assert resp.status_code == 403 and "not signed" in resp.text


@pytest.mark.parametrize("artifact, why", [
    ("not-an-artifact", "base64"),
    (base64.b64encode(b"\x00\x04\x00\x00" + b"\x00" * 40).decode(), "SourceID"),
    (bindings.Artifact.new(
        "urn:etoegang:HM:00000003999999990000:entities:9001", 3).encode(), "EndpointIndex"),
    (bindings.Artifact.new("urn:etoegang:HM:00000003999999990000:entities:9001", 0).encode(), "unknown"),
])
def test_bad_artifacts_get_an_empty_artifact_response(broker_url, dv, artifact, why):
    result = dv.resolve(artifact)
    assert not result.ok and result.failure.check == "artifact_response_has_response"
    assert why in [e for e in journal(broker_url) if e["event"] == "sent"][-1]["reason"]


def test_unregistered_dv_metadata_is_refused_with_the_reason(broker_url):
    resp = requests.post(f"{broker_url}/_mock/sps", data=b"<not-metadata/>", timeout=5,
                         headers={"Content-Type": "application/xml"})
    assert resp.status_code == 400 and "EntityDescriptor" in resp.json()["error"]


def test_expired_artifact_is_not_resolved(broker, broker_url, dv, monkeypatch):
    import time
    queue(broker_url, person="anna-de-vries")
    _, resp = dv.request(service_index=2)
    from urllib.parse import parse_qs, urlparse
    art = parse_qs(urlparse(resp.headers["Location"]).query)["SAMLart"][0]
    store = broker.app.extensions["mock_broker"].store
    if getattr(store, "shared", False):  # Redis keeps the time: let the key expire there
        from ehsaml.bindings import Artifact
        store.client.pexpire(store._item("artifact", Artifact.decode(art).message_handle.hex()), 1)
        time.sleep(0.05)
    else:
        real = time.monotonic
        monkeypatch.setattr(time, "monotonic", lambda: real() + 3600)  # the store's clock: an hour later
    result = dv.resolve(art)
    assert not result.ok and result.failure.check == "artifact_response_has_response"


def test_registering_metadata_signed_by_the_dv_itself_works(broker_url):
    resp = requests.post(f"{broker_url}/_mock/sps", data=dv_metadata(), timeout=5,
                         headers={"Content-Type": "application/xml"})
    assert resp.status_code == 201


def test_acs_url_from_metadata_is_accepted(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    answer = dv.login(acs_url=ACS_URL, protocol_binding=ns.BINDING_ARTIFACT, service_index=2)
    assert answer.binding == ns.BINDING_ARTIFACT and answer.result.ok


# --- an xml:id equal to the message's ID (it gave HTTP 500 before: xmlsec refused to register the ID) -------------

XML_ID = "{http://www.w3.org/XML/1998/namespace}id"


def _clashing(element, keypair=None):
    """The signed message with an xml:id on its Issuer equal to its ID: no key needed to make it."""
    if keypair is not None:
        dsig.sign(element, keypair)
    element.find(ns.q("saml", "Issuer")).set(XML_ID, element.get("ID"))
    return element


@pytest.mark.parametrize("endpoint", ["/saml/sso", "/saml/slo", "/saml/artifact"])
def test_an_xml_id_clash_gets_a_400_naming_the_element(broker_url, dv, endpoint):
    from ehsaml.dv.client import build_artifact_resolve, build_logout_request

    dest = f"{broker_url}{endpoint}"
    if endpoint == "/saml/sso":
        _, el = build_authn_request(dv=dv.entity_id, destination=dest)
        resp = sso_post(broker_url, {"SAMLRequest": bindings.encode_post(_clashing(el, dv.keypair))})
    elif endpoint == "/saml/slo":
        _, el = build_logout_request(dv=dv.entity_id, destination=dest, name_id="_x", keypair=dv.keypair)
        resp = requests.post(dest, data={"SAMLRequest": bindings.encode_post(_clashing(el))}, timeout=10)
    else:
        el = build_artifact_resolve(dv=dv.entity_id, destination=dest, artifact="AAQAAA==", keypair=dv.keypair)
        resp = soap(broker_url, tostring(bindings.soap_envelope(_clashing(el))))
    assert resp.status_code == 400, resp.text[:300]
    assert "xml:id" in resp.text and "saml:Issuer" in resp.text and "Traceback" not in resp.text
    assert "saml:Issuer" in last_refusal(broker_url)
