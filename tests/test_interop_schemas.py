"""Every message the broker sends is valid against the OASIS SAML 2.0 schemas (pysaml2's copies, offline).

Drives a broker of its own through the kinds of exchange it has (artifact and POST answers, plain,
encrypted identifiers or not, encrypted assertion, Advice, AES-GCM, no Response signature, every error
status, SLO by Redirect and POST, unknown and used artifacts) and validates the xml of every "sent"
journal entry, plus the broker's metadata. The interop tests validate what they make the broker send
as well (tests/interop_env.validate_sent).
"""

from __future__ import annotations

import pytest
import requests

from brokerserver import serve_broker
from ehsaml import bindings, ns
from ehsaml.dv.client import build_logout_request, redirect_url
from ehsaml.eherkenning import Level
from interop_env import journal, queue, validate_sent
from schemas import validate_saml_schema
from testdv import ACS_URL, TestDV, dv_catalogue, dv_metadata

OPTIONS = {  # entity number: broker options
    9201: {},
    9202: {"encrypt_assertion": True},
    9203: {"advice": True},
    9204: {"data_cipher": "aes256-gcm", "encrypt_assertion": True},
    9205: {"sign_response": False},
    9206: {"encrypt_identifiers": False},
}


@pytest.fixture(scope="module")
def broker_url():
    served = serve_broker()
    for number, options in OPTIONS.items():
        entity_id = f"urn:etoegang:DV:00000001002003004000:entities:{number}"
        resp = requests.post(f"{served.base_url}/_mock/sps", timeout=5, json={
            "metadata": dv_metadata(entity_id).decode(), "catalogue": dv_catalogue().decode(), "options": options})
        assert resp.status_code == 201, resp.text
    yield served.base_url
    served.stop()


def dv(broker_url, number: int) -> TestDV:
    return TestDV(broker_url, entity_id=f"urn:etoegang:DV:00000001002003004000:entities:{number}")


def test_broker_metadata_is_schema_valid(broker_url):
    validate_saml_schema(requests.get(f"{broker_url}/saml/metadata", timeout=5).content)


def test_every_message_the_broker_sends_is_schema_valid(broker_url):
    answers = [
        {"person": "anna-de-vries", "organisation": "bakkerij-de-vries"},
        {"person": "pieter-jansen", "organisation": "garage-mulder"},        # chain mandate
        {"person": "joris-meijer"},                                           # branch (Vestigingsnr)
        {"person": "klaus-mueller"},                                          # eIDAS identifier
        {"person": "eva-kok"},                                                # level too low
        {"person": "lotte-jacobs"},                                           # no mandate
        {"cancel": True},
        {"status": "Requester", "sub": "RequestUnsupported", "message": "queued status"},
        {"identity": {"kvk": "12345678", "level": "EH3"}},                   # inline, no RSIN
    ]
    for number in OPTIONS:
        client = dv(broker_url, number)
        for answer in answers:
            queue(broker_url, dv=client.entity_id, **answer)
            client.login(service_index=2, min_level=None)  # by artifact (the metadata's default ACS)
        # by HTTP-POST: request sent by POST, answer asked by ProtocolBinding
        queue(broker_url, dv=client.entity_id, person="anna-de-vries")
        client.login(binding="post", acs_url=ACS_URL, protocol_binding=ns.BINDING_POST, service_index=2,
                     min_level=None, requested_level=Level.EH3)

    client = dv(broker_url, 9201)
    # errors answered to the ACS: a replayed request ID, an unknown service index, an unsupported context
    queue(broker_url, dv=client.entity_id, person="anna-de-vries")
    request_id, _ = client.request(service_index=2)
    client.session.get(redirect_url(client.sso_url, _authn(client, request_id=request_id), client.keypair, None),
                       allow_redirects=False, timeout=5)
    client.session.get(redirect_url(client.sso_url, _authn(client, service_index=77), client.keypair, None),
                       allow_redirects=False, timeout=5)
    # unknown, malformed and already used artifacts: ArtifactResponse without a Response
    queue(broker_url, dv=client.entity_id, person="anna-de-vries")
    answer = client.login(service_index=2, min_level=None)
    for artifact in (answer.artifact, bindings.Artifact.new(client.hm.entity_id, 0).encode(), "not-an-artifact"):
        try:
            client.resolve(artifact, min_level=None)
        except Exception:
            pass  # the DV refuses the empty answer; what matters here is what the broker sent
    # single logout, by Redirect and by POST
    slo = client.hm.slo[0].location
    _, logout = build_logout_request(dv=client.entity_id, destination=slo, name_id="abc")
    requests.get(redirect_url(slo, logout, client.keypair, "rs"), allow_redirects=False, timeout=5)
    _, logout = build_logout_request(dv=client.entity_id, destination=slo, name_id="abc", keypair=client.keypair)
    requests.post(slo, data={"SAMLRequest": bindings.encode_post(logout)}, allow_redirects=False, timeout=5)

    entries = journal(broker_url)
    kinds = {(e["message_type"], e["reason"].split(":")[0]) for e in entries if e["event"] == "sent"}
    assert {"Response", "ArtifactResponse", "LogoutResponse"} <= {k for k, _ in kinds}
    assert ("ArtifactResponse", "no Response") in kinds
    statuses = {e.get("sub_status") for e in entries if e["event"] == "decision"}
    assert {None, ns.STATUS_AUTHN_FAILED, ns.STATUS_REQUEST_UNSUPPORTED} <= statuses
    assert validate_sent(broker_url) >= 6 * 2 * len(answers)


def _authn(client: TestDV, **kwargs):
    from ehsaml.dv.client import build_authn_request

    _, element = build_authn_request(dv=client.entity_id, destination=client.sso_url, **kwargs)
    return element


def test_the_validator_catches_a_broken_message(broker_url):
    client = dv(broker_url, 9201)
    queue(broker_url, dv=client.entity_id, person="anna-de-vries")
    client.login(service_index=2, min_level=None)
    entry = next(e for e in journal(broker_url) if e["event"] == "sent")
    broken = entry["xml"].replace("<saml:Issuer", "<saml:Issuer Format=\"x\" Bogus=\"1\"", 1)
    with pytest.raises(Exception, match="Bogus"):
        validate_saml_schema(broken)


