"""pysaml2 as an eHerkenning DV (service provider) logs in through the mock broker.

pysaml2 is a dependency of the project, so its driver runs with this interpreter, in its own process
(its crypto backend is the xmlsec1 program). The SP signs an HTTP-Redirect AuthnRequest asking for
loa3 (minimum); the answer comes by HTTP-POST (one DV; a second DV wants the assertion encrypted) or
by HTTP-Artifact, which pysaml2 resolves over SOAP itself (a third DV).
"""

from __future__ import annotations

import re
import sys

import pytest

from brokerserver import serve_broker
from ehsaml import ns
from ehsaml.eherkenning import ATTR_ACTING_SUBJECT, ATTR_LEGAL_SUBJECT, ID_KVK, ID_PSEUDO, ID_RSIN
from ehsaml.testids import PORTAL_OIN, PORTAL_SERVICE_EDIT
from interop_env import DV_CERT, DV_KEY, decisions, decrypt_identifiers, exchange, journal, queue, register, reset, run_driver, validate_sent
from testdv import EDIT_UUID, dv_catalogue

pytestmark = pytest.mark.interop

NAME = "pysaml2"
LOA3 = "urn:etoegang:core:assurance-class:loa3"
DVS = {  # label: (entity ID, answer binding, broker options)
    "post": (f"urn:etoegang:DV:{PORTAL_OIN}:entities:9103", "post", {}),
    "encrypted": (f"urn:etoegang:DV:{PORTAL_OIN}:entities:9105", "post", {"encrypt_assertion": True}),
    "artifact": (f"urn:etoegang:DV:{PORTAL_OIN}:entities:9106", "artifact", {}),
}


@pytest.fixture(scope="module")
def ps(tmp_path_factory):
    served = serve_broker()
    dvs = {}
    for label, (entity_id, binding, options) in DVS.items():
        workdir = tmp_path_factory.mktemp(f"pysaml2-{label}")
        made = run_driver(sys.executable, NAME, served.base_url, workdir, "setup", "--key", str(DV_KEY),
                          "--cert", str(DV_CERT), "--entity-id", entity_id, "--service-id", PORTAL_SERVICE_EDIT,
                          "--binding", binding)
        register(served.base_url, made["metadata"], dv_catalogue().decode(), **options)
        dvs[label] = workdir
    yield {"broker": served.base_url, "dvs": dvs}
    served.stop()


def login(ps, dv: str = "post", *args) -> dict:
    return run_driver(sys.executable, NAME, ps["broker"], ps["dvs"][dv], "login", *args)


@pytest.fixture(autouse=True)
def _fresh(ps):
    reset(ps["broker"])
    yield
    validate_sent(ps["broker"])  # whatever the broker sent in this test is schema-valid


def assert_exchange(broker_url: str, binding: str = "post") -> None:
    steps = exchange(broker_url)
    assert steps[0][:2] == ("received", "AuthnRequest") and "HTTP-Redirect" in steps[0][2]
    request = next(e for e in journal(broker_url) if e.get("message_type") == "AuthnRequest")
    assert "RequestedAuthnContext" in request["xml"] and LOA3 in request["xml"]
    if binding == "post":
        assert steps[-1] == ("sent", "Response", "Response sent by HTTP-POST")
    else:
        assert ("sent", "Response", "Response stored for artifact resolution") in steps
        assert ("sent", "ArtifactResponse", "ArtifactResponse with the Response") in steps


def check_login(first: dict, *, kvk: str, rsin: str) -> dict:
    assert "error" not in first, first.get("error")
    assert first["status_ok"]
    assert first["name_id"] and first["name_id_format"] == ns.NAMEID_TRANSIENT
    assert first["level"] == [LOA3]
    attrs = first["attributes"]
    assert attrs["urn:etoegang:core:ServiceID"] == [PORTAL_SERVICE_EDIT]
    assert attrs["urn:etoegang:core:ServiceUUID"] == [EDIT_UUID]
    ids = decrypt_identifiers(first["assertion_xml"])
    assert sorted(ids[ATTR_LEGAL_SUBJECT]) == sorted([(ID_KVK, kvk), (ID_RSIN, rsin)])
    [(qualifier, pseudonym)] = ids[ATTR_ACTING_SUBJECT]
    assert qualifier == ID_PSEUDO and re.fullmatch(r"[0-9a-f]{64}@[0-9a-f]{32}", pseudonym)
    return attrs


@pytest.mark.parametrize("dv", ["post", "encrypted", "artifact"])
def test_happy_path(ps, dv):
    queue(ps["broker"], person="anna-de-vries", organisation="bakkerij-de-vries")
    out = login(ps, dv)
    attrs = check_login(out["first"], kvk="12345678", rsin="812345678")
    assert attrs["urn:etoegang:1.11:attribute-represented:CompanyName"] == ["Bakkerij De Vries B.V."]
    assert_exchange(ps["broker"], DVS[dv][1])
    if dv == "encrypted":
        sent = next(e for e in journal(ps["broker"]) if e["event"] == "sent")
        assert "EncryptedAssertion" in sent["xml"] and "<saml:Assertion" not in sent["xml"]


def test_chain_mandate_login(ps):
    queue(ps["broker"], person="pieter-jansen", organisation="garage-mulder")
    attrs = check_login(login(ps)["first"], kvk="23456789", rsin="802345670")
    assert attrs["urn:etoegang:1.9:IntermediateEntityID:KvKnr"] == ["34567890"]
    assert attrs["urn:etoegang:1.13:attribute-intermediate:CompanyName"] == ["Jansen Pensioenadvies B.V."]
    assert_exchange(ps["broker"])


@pytest.mark.parametrize("answer, reason", [
    ({"cancel": True}, "cancelled by the user"),
    ({"person": "eva-kok", "organisation": "bakkerij-de-vries"}, "level EH2 below required EH3"),
])
def test_cancel_and_level_too_low_are_refused(ps, answer, reason):
    queue(ps["broker"], **answer)
    first = login(ps)["first"]
    # pysaml2 raises on a non-Success status: StatusAuthnFailed for Responder/AuthnFailed.
    assert first["error"].startswith("StatusAuthnFailed"), first
    decision = decisions(ps["broker"])[0]
    assert decision["reason"] == reason
    assert (decision["status"], decision["sub_status"]) == (ns.STATUS_RESPONDER, ns.STATUS_AUTHN_FAILED)
    assert_exchange(ps["broker"])


def test_replayed_response_is_refused(ps):
    queue(ps["broker"], person="anna-de-vries", organisation="bakkerij-de-vries")
    out = login(ps, "post", "--replay")
    assert out["first"]["status_ok"]
    assert out["replay"]["error"].startswith("UnsolicitedResponse"), out["replay"]
    assert [s for s in exchange(ps["broker"]) if s[0] == "sent"] == [("sent", "Response", "Response sent by HTTP-POST")]


def test_replayed_artifact_gets_no_response(ps):
    queue(ps["broker"], person="anna-de-vries", organisation="bakkerij-de-vries")
    out = login(ps, "artifact", "--replay")
    assert out["first"]["status_ok"]
    assert out["replay"]["error"] == "the ArtifactResponse holds no Response", out["replay"]
    sent = [e["reason"] for e in journal(ps["broker"]) if e["event"] == "sent" and e["message_type"] == "ArtifactResponse"]
    assert sent == ["ArtifactResponse with the Response",
                    "no Response: the artifact is unknown, expired or already resolved (single use)"]
