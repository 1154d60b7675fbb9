"""The broker as a DV sees it over loopback HTTP: bindings, artifacts, attributes, decisions."""

from __future__ import annotations

import base64

import requests
from conftest import journal, queue
from schemas import validate_saml_schema
from testdv import ACS_URL, EDIT_UUID, VIEW_UUID, parse

from ehsaml import bindings, dsig, ns
from ehsaml.eherkenning import ATTR_BRANCH, ATTR_INTERMEDIATE_NAME, Level
from ehsaml.metadata import parse_entity
from ehsaml.testids import BROKER_ENTITY_ID, PORTAL_SERVICE_EDIT, PORTAL_SERVICE_VIEW

ANNA_KVK, ANNA_RSIN = "12345678", None


def world(broker_url):
    return requests.get(f"{broker_url}/_mock/world", timeout=5).json()


def org(broker_url, org_id):
    return next(o for o in world(broker_url)["organisations"] if o["id"] == org_id)


def test_metadata_is_signed_schema_valid_and_lists_one_sso_location_for_both_bindings(broker_url, dv):
    xml = requests.get(f"{broker_url}/saml/metadata", timeout=5).content
    root = parse(xml.decode())
    validate_saml_schema(root)
    dsig.verify(root, [dv.hm.signing_certs[0]], where="metadata")
    meta = parse_entity(xml, source="metadata")
    assert meta.entity_id == BROKER_ENTITY_ID
    assert {e.binding for e in meta.sso} == {ns.BINDING_REDIRECT, ns.BINDING_POST}
    assert len({e.location for e in meta.sso}) == 1
    assert [(e.binding, e.index) for e in meta.artifact_resolution] == [(ns.BINDING_SOAP, 0)]
    assert b"ds:KeyName" in xml and b"ns0:" not in xml


def test_redirect_request_answered_by_artifact_with_every_attribute(broker_url, dv):
    queue(broker_url, person="anna-de-vries", organisation="bakkerij-de-vries")
    answer = dv.login(service_index=2)
    r = answer.result
    assert answer.binding == ns.BINDING_ARTIFACT and answer.relay_state == "state-1"
    assert r.ok, r.explain()
    bakkerij = org(broker_url, "bakkerij-de-vries")
    assert (r.kvk, r.rsin) == ("12345678", bakkerij["rsin"])
    assert r.service_id == PORTAL_SERVICE_EDIT and r.service_uuid == EDIT_UUID
    assert r.level == Level.EH3
    assert r.represented_name == bakkerij["name"]
    assert r.pseudonym and "@" in r.pseudonym
    assert r.intermediary_kvk is None and r.branch is None


def test_post_request_answered_by_post_when_protocol_binding_asks(broker_url, dv):
    queue(broker_url, person="bram-hendriks")
    answer = dv.login(binding="post", acs_url=ACS_URL, protocol_binding=ns.BINDING_POST, service_index=2)
    assert answer.binding == ns.BINDING_POST
    assert answer.result.ok, answer.result.explain()
    assert answer.result.level == Level.EH4


def test_post_answer_by_acs_index_and_response_is_schema_valid(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    answer = dv.login(acs_index=1, service_index=2)
    assert answer.binding == ns.BINDING_POST
    from testdv import form_fields
    xml = base64.b64decode(form_fields(answer.http.text)["SAMLResponse"])
    validate_saml_schema(xml)
    assert b"+00:00" not in xml and b"ns0:" not in xml


def test_artifact_has_the_samlbind_layout(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    _, resp = dv.request(service_index=2)
    art = resp.headers["Location"].split("SAMLart=")[1].split("&")[0]
    from urllib.parse import unquote
    raw = base64.b64decode(unquote(art))
    assert raw[:2] == b"\x00\x04" and raw[2:4] == b"\x00\x00"  # EndpointIndex 0 as a 2-byte integer
    assert raw[4:24] == bindings.source_id_of(BROKER_ENTITY_ID)
    assert len(raw) == 44


def test_artifact_resolves_once(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    answer = dv.login(service_index=2)
    assert answer.result.ok
    again = dv.resolve(answer.artifact)
    assert not again.ok and again.failure.check == "artifact_response_has_response"
    assert any("already resolved" in e["reason"] for e in journal(broker_url))


def test_artifact_resolve_accepts_soap12_content_type(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    _, resp = dv.request(service_index=2)
    from urllib.parse import parse_qs, urlparse
    art = parse_qs(urlparse(resp.headers["Location"]).query)["SAMLart"][0]
    result = dv.resolve(art, content_type="application/soap+xml")
    assert result.ok, result.explain()


def test_artifact_of_another_dv_is_not_handed_out(broker_url, dv):
    from testdv import TestDV, dv_metadata
    from ehsaml.keys import load_keypair
    from ehsaml.testkeys import CERTS_DIR as CERTS
    other_id = "urn:etoegang:DV:00000009998887776000:entities:9001"
    attacker = load_keypair(str(CERTS / "attacker.TEST-ONLY.key"), str(CERTS / "attacker.TEST-ONLY.crt"))
    r = requests.post(f"{broker_url}/_mock/sps", data=dv_metadata(other_id, attacker), timeout=5,
                      headers={"Content-Type": "application/xml"})
    assert r.status_code == 201, r.text
    queue(broker_url, person="anna-de-vries")
    _, resp = dv.request(service_index=2)
    from urllib.parse import parse_qs, urlparse
    art = parse_qs(urlparse(resp.headers["Location"]).query)["SAMLart"][0]
    other = TestDV(broker_url, entity_id=other_id)
    other.keypair = attacker
    stolen = other.resolve(art)
    assert not stolen.ok and stolen.failure.check == "artifact_response_has_response"


def test_no_service_index_uses_the_default_service(broker_url, dv):
    queue(broker_url, person="sophie-peters")  # the portal's default service is "Bekijk gegevens"
    answer = dv.login()
    assert answer.result.ok and answer.result.service_id == PORTAL_SERVICE_VIEW


def test_view_service_by_index(broker_url, dv):
    queue(broker_url, person="sophie-peters")
    r = dv.login(service_index=1).result
    assert r.ok and r.service_id == PORTAL_SERVICE_VIEW and r.service_uuid == VIEW_UUID


def test_chain_mandate_carries_the_intermediary(broker_url, dv):
    queue(broker_url, person="pieter-jansen", organisation="bakkerij-de-vries")
    r = dv.login(service_index=1).result
    assert r.ok, r.explain()
    assert r.kvk == "12345678"
    assert r.intermediary_kvk == org(broker_url, "jansen-pensioenadvies")["kvk"]
    assert r.attributes[ATTR_INTERMEDIATE_NAME] == [org(broker_url, "jansen-pensioenadvies")["name"]]


def test_branch_restricted_mandate_sends_its_branch(broker_url, dv):
    queue(broker_url, person="joris-meijer")  # mandate 'edit' for the Utrecht branch only
    r = dv.login(service_index=2).result
    assert r.ok, r.explain()
    assert r.branch == "000012345678"
    queue(broker_url, person="joris-meijer", branch="000012349999")  # asks for another branch: the mandate wins
    assert dv.login(service_index=2).result.branch == "000012345678"


def test_vestigingsnr_when_the_catalogue_allows_it(broker_url, dv):
    queue(broker_url, person="sophie-peters", branch="000012345678")
    r = dv.login(service_index=1).result
    assert r.ok, r.explain()
    assert r.branch == "000012345678" and r.attributes[ATTR_BRANCH] == ["000012345678"]


def test_level_below_catalogue_minimum_is_refused_with_authnfailed(broker_url, dv):
    queue(broker_url, person="eva-kok")
    r = dv.login(service_index=2).result
    assert not r.ok
    assert r.status[:2] == (ns.STATUS_RESPONDER, ns.STATUS_AUTHN_FAILED)
    assert "EH2" in r.status[2] and "EH3" in r.status[2]


def test_requested_authn_context_raises_the_required_level(broker_url, dv):
    queue(broker_url, person="anna-de-vries")  # EH3 means
    r = dv.login(service_index=2, requested_level=Level.EH4, min_level=Level.EH4).result
    assert r.status[:2] == (ns.STATUS_RESPONDER, ns.STATUS_AUTHN_FAILED) and "EH4" in r.status[2]
    queue(broker_url, person="bram-hendriks")  # EH4 means
    assert dv.login(service_index=2, requested_level=Level.EH4, min_level=Level.EH4).result.ok


def test_no_mandate_for_the_service_is_refused_naming_it(broker_url, dv):
    queue(broker_url, person="noah-willems")
    r = dv.login(service_index=2).result
    assert r.status[:2] == (ns.STATUS_RESPONDER, ns.STATUS_REQUEST_UNSUPPORTED)
    assert "Bekijk en wijzig gegevens" in r.status[2] and "machtigingenbeheerder" in r.status[2]


def test_organisation_not_mandated_is_refused(broker_url, dv):
    queue(broker_url, person="tom-mulder", organisation="bakkerij-de-vries")
    r = dv.login(service_index=2).result
    assert r.status[1] == ns.STATUS_REQUEST_UNSUPPORTED


def test_several_organisations_answer_for_the_chosen_one(broker_url, dv):
    kvks = []
    for organisation in ("bakkerij-de-vries", "garage-mulder"):
        queue(broker_url, person="marieke-mulder", organisation=organisation)
        r = dv.login(service_index=2).result
        assert r.ok
        kvks.append((r.kvk, r.pseudonym))
    assert kvks[0][0] != kvks[1][0]
    assert kvks[0][1] != kvks[1][1]  # the pseudonym differs per represented organisation


def test_colleagues_get_different_stable_pseudonyms(broker_url, dv):
    seen = {}
    for person in ("anna-de-vries", "bram-hendriks", "anna-de-vries"):
        queue(broker_url, person=person)
        r = dv.login(service_index=2).result
        seen.setdefault(person, set()).add(r.pseudonym)
    assert len(seen["anna-de-vries"]) == 1
    assert seen["anna-de-vries"] != seen["bram-hendriks"]


def test_eidas_company_gets_an_eidas_identifier_and_no_kvk(broker_url, dv):
    queue(broker_url, person="klaus-mueller")
    r = dv.login(service_index=2).result
    assert r.ok, r.explain()
    assert r.kvk is None and r.rsin is None and r.eidas == org(broker_url, "mueller-gmbh")["eidas"]


def test_cancel_is_responder_authnfailed(broker_url, dv):
    queue(broker_url, cancel=True)
    r = dv.login(service_index=2).result
    assert not r.ok and r.status[:2] == (ns.STATUS_RESPONDER, ns.STATUS_AUTHN_FAILED)


def test_queued_status_is_sent_as_given(broker_url, dv):
    queue(broker_url, status="Requester", sub="UnknownPrincipal", message="test message")
    r = dv.login(service_index=2).result
    assert r.status == (ns.STATUS_REQUESTER, ns.STATUS_UNKNOWN_PRINCIPAL, "test message")


def test_inline_identity_is_asserted_as_given(broker_url, dv):
    queue(broker_url, identity={"kvk": "11223344", "rsin": "111222333", "level": "EH4", "service": "view",
                                "intermediary_kvk": "99887766", "intermediary_name": "Inline Advies",
                                "branch": "000011112222"})
    r = dv.login(service_index=1).result  # the service asked for (a DV refuses another of its own)
    assert r.ok, r.explain()
    assert (r.kvk, r.rsin, r.level, r.service_id) == ("11223344", "111222333", Level.EH4, PORTAL_SERVICE_VIEW)
    assert (r.intermediary_kvk, r.intermediary_name, r.branch) == ("99887766", "Inline Advies", "000011112222")


def test_queued_answer_for_another_dv_does_not_answer_this_one(broker_url, dv):
    from testdv import dv_metadata
    other_id = "urn:etoegang:DV:00000009998887776000:entities:9002"
    requests.post(f"{broker_url}/_mock/sps", data=dv_metadata(other_id), timeout=5,
                  headers={"Content-Type": "application/xml"}).raise_for_status()
    queue(broker_url, person="anna-de-vries", dv=other_id)
    answer = dv.login(service_index=2)
    assert answer.binding == "login-page"


def test_single_logout_answers_a_signed_logout_request(broker_url, dv):
    from ehsaml.dv.client import build_logout_request, redirect_url
    from urllib.parse import parse_qs, urlparse
    _, req = build_logout_request(dv=dv.entity_id, destination=dv.hm.slo[0].location, name_id="abc")
    resp = requests.get(redirect_url(dv.hm.slo[0].location, req, dv.keypair, "rs"), allow_redirects=False, timeout=5)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith("http://127.0.0.1:8481/saml/slo?")
    msg = bindings.parse_redirect(urlparse(location).query)
    msg.verify(list(dv.hm.signing_certs), where="LogoutResponse")
    root = parse(msg.xml.decode())
    validate_saml_schema(root)
    assert root.get("InResponseTo") == req.get("ID")
    assert root.find(f"{ns.q('samlp', 'Status')}/{ns.q('samlp', 'StatusCode')}").get("Value") == ns.STATUS_SUCCESS
    assert parse_qs(urlparse(location).query)["RelayState"] == ["rs"]


def test_journal_records_request_decision_and_response(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    dv.login(service_index=2)
    entries = journal(broker_url)
    kinds = [(e["event"], e.get("message_type")) for e in entries]
    assert ("received", "AuthnRequest") in kinds
    assert ("sent", "Response") in kinds
    assert ("received", "ArtifactResolve") in kinds and ("sent", "ArtifactResponse") in kinds
    decision = next(e for e in entries if e["event"] == "decision")
    assert "Anna de Vries" in decision["reason"] and decision["identity"]["kvk"] == "12345678"
    sent = next(e for e in entries if e.get("message_type") == "Response")
    assert "<saml:Assertion" in sent["xml"]
