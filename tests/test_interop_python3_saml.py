"""OneLogin python3-saml (upstream) logs in through the mock broker as an eHerkenning DV.

Its own virtual environment (it shares the import name `onelogin` with django-digid-eherkenning's fork).
The SP sends a signed HTTP-Redirect AuthnRequest asking for loa3 (minimum), takes the answer by
HTTP-POST, and requires a signed Response with one signed assertion carrying a NameID; a second DV
also requires the assertion encrypted. python3-saml does not decrypt EncryptedIDs inside attribute
values: the test does, with the DV's TEST-ONLY key.
"""

from __future__ import annotations

import re

import pytest

from brokerserver import serve_broker
from ehsaml import ns
from ehsaml.eherkenning import ATTR_ACTING_SUBJECT, ATTR_LEGAL_SUBJECT, ID_KVK, ID_PSEUDO, ID_RSIN
from ehsaml.testids import PORTAL_OIN, PORTAL_SERVICE_EDIT
from interop_env import (DV_CERT, DV_KEY, decisions, decrypt_identifiers, exchange, journal, queue, register, reset,
                         run_driver, validate_sent, venv_python)
from testdv import EDIT_UUID, dv_catalogue

pytestmark = pytest.mark.interop

NAME = "python3_saml"
PLAIN_DV = f"urn:etoegang:DV:{PORTAL_OIN}:entities:9102"
ENCRYPTED_DV = f"urn:etoegang:DV:{PORTAL_OIN}:entities:9104"
LOA3 = "urn:etoegang:core:assurance-class:loa3"


@pytest.fixture(scope="module")
def ol(tmp_path_factory):
    python = venv_python(NAME)
    served = serve_broker()
    dvs = {}
    for label, entity_id, extra in (("plain", PLAIN_DV, ()), ("encrypted", ENCRYPTED_DV, ("--encrypted",))):
        workdir = tmp_path_factory.mktemp(f"python3-saml-{label}")
        made = run_driver(python, NAME, served.base_url, workdir, "setup", "--key", str(DV_KEY), "--cert", str(DV_CERT),
                          "--entity-id", entity_id, "--service-id", PORTAL_SERVICE_EDIT, "--service-index", "2", *extra)
        assert made["metadata_errors"] == []
        # The catalogue of the example portal's services (same OIN and ServiceIDs) gives level and ServiceUUID.
        register(served.base_url, made["metadata"], dv_catalogue().decode(), encrypt_assertion=label == "encrypted")
        dvs[label] = workdir
    yield {"python": python, "broker": served.base_url, "dvs": dvs}
    served.stop()


def login(ol, dv: str = "plain", *args) -> dict:
    return run_driver(ol["python"], NAME, ol["broker"], ol["dvs"][dv], "login", *args)


@pytest.fixture(autouse=True)
def _fresh(ol):
    reset(ol["broker"])
    yield
    validate_sent(ol["broker"])  # whatever the broker sent in this test is schema-valid


def assert_post_exchange(broker_url: str) -> None:
    steps = exchange(broker_url)
    assert steps[0][:2] == ("received", "AuthnRequest") and "HTTP-Redirect" in steps[0][2]
    assert steps[-1] == ("sent", "Response", "Response sent by HTTP-POST")
    request = next(e for e in journal(broker_url) if e.get("message_type") == "AuthnRequest")
    assert "RequestedAuthnContext" in request["xml"] and LOA3 in request["xml"]


def check_login(first: dict, *, kvk: str, rsin: str) -> dict:
    assert first["errors"] == [], first["error_reason"]
    assert first["authenticated"]
    assert first["name_id"] and first["name_id_format"] == ns.NAMEID_TRANSIENT
    assert first["level"] == [LOA3]
    attrs = first["attributes"]
    assert attrs["urn:etoegang:core:ServiceID"] == [PORTAL_SERVICE_EDIT]
    assert attrs["urn:etoegang:core:ServiceUUID"] == [EDIT_UUID]
    ids = decrypt_identifiers(first["response_xml"])
    assert sorted(ids[ATTR_LEGAL_SUBJECT]) == sorted([(ID_KVK, kvk), (ID_RSIN, rsin)])
    [(qualifier, pseudonym)] = ids[ATTR_ACTING_SUBJECT]
    assert qualifier == ID_PSEUDO and re.fullmatch(r"[0-9a-f]{64}@[0-9a-f]{32}", pseudonym)
    return attrs


def test_happy_path_post_login(ol):
    queue(ol["broker"], person="anna-de-vries", organisation="bakkerij-de-vries")
    out = login(ol)
    assert out["sso_url"] == f"{ol['broker']}/saml/sso" and out["acs_url"] == "http://portal.interop.test/saml/acs"
    attrs = check_login(out["first"], kvk="12345678", rsin="812345678")
    assert attrs["urn:etoegang:1.11:attribute-represented:CompanyName"] == ["Bakkerij De Vries B.V."]
    assert "urn:etoegang:1.9:IntermediateEntityID:KvKnr" not in attrs
    assert_post_exchange(ol["broker"])


def test_happy_path_with_encrypted_assertion(ol):
    queue(ol["broker"], person="anna-de-vries", organisation="bakkerij-de-vries")
    out = login(ol, "encrypted")
    check_login(out["first"], kvk="12345678", rsin="812345678")
    sent = [e for e in journal(ol["broker"]) if e["event"] == "sent"][-1]
    assert "EncryptedAssertion" in sent["xml"] and "<saml:Assertion" not in sent["xml"]
    assert_post_exchange(ol["broker"])


def test_chain_mandate_login(ol):
    queue(ol["broker"], person="pieter-jansen", organisation="garage-mulder")
    attrs = check_login(login(ol)["first"], kvk="23456789", rsin="802345670")
    assert attrs["urn:etoegang:1.9:IntermediateEntityID:KvKnr"] == ["34567890"]
    assert attrs["urn:etoegang:1.13:attribute-intermediate:CompanyName"] == ["Jansen Pensioenadvies B.V."]
    assert attrs["urn:etoegang:1.11:attribute-represented:CompanyName"] == ["Garage Mulder B.V."]
    assert_post_exchange(ol["broker"])


def test_cancel_is_refused_with_authn_failed(ol):
    queue(ol["broker"], cancel=True)
    first = login(ol)["first"]
    assert first["errors"] == ["invalid_response"] and not first["authenticated"]
    # python3-saml names the top-level status and the StatusMessage, not the second-level code.
    assert "Responder" in first["error_reason"] and "cancelled" in first["error_reason"]
    decision = decisions(ol["broker"])[0]
    assert (decision["status"], decision["sub_status"]) == (ns.STATUS_RESPONDER, ns.STATUS_AUTHN_FAILED)
    assert_post_exchange(ol["broker"])


def test_level_too_low_is_refused(ol):
    queue(ol["broker"], person="eva-kok", organisation="bakkerij-de-vries")
    first = login(ol)["first"]
    assert first["errors"] == ["invalid_response"] and not first["authenticated"]
    assert "Responder" in first["error_reason"] and "EH2" in first["error_reason"]
    assert decisions(ol["broker"])[0]["reason"] == "level EH2 below required EH3"
    assert_post_exchange(ol["broker"])


def test_replayed_response_is_refused(ol):
    queue(ol["broker"], person="anna-de-vries", organisation="bakkerij-de-vries")
    out = login(ol, "plain", "--replay")
    assert out["first"]["authenticated"]
    # Posted again while a new login is pending: python3-saml refuses it on InResponseTo.
    assert out["replay"]["errors"] == ["invalid_response"]
    assert "InResponseTo" in out["replay"]["error_reason"]
    # Posted again with nothing pending, only the portal's cache of used assertion IDs stops it
    # (python3-saml leaves that to the portal: get_last_assertion_id()).
    assert out["replay_unsolicited"]["assertion_replayed"] is True
    # The broker saw one exchange only.
    assert [s for s in exchange(ol["broker"]) if s[0] == "sent"] == [("sent", "Response", "Response sent by HTTP-POST")]
