"""Fuzzing the DV checks at volume: thousands of hostile variants of a correct, signed answer, checked as a DV does.

Straight at the checks (ehsaml.xml.parse_xml + ehsaml.dv.login), at the example portal's ACS in-process (Flask's
test client, a real login started for each), and a few over real HTTP. Properties: the parse raises nothing but
MalformedInput, the checks raise nothing at all, the portal never answers 5xx, no entity is ever resolved (a
canary file's secret never shows), and an accepted answer is never a forgery: byte changes that get through are
only those canonicalisation undoes (the login reads exactly as the original), and after re-signing with the
broker key (only the checks past the signature stand between) every field read is well-formed. Inputs are
generated from a seed printed on failure (FUZZ_SEED=… to replay); FUZZ_EXAMPLES scales the volume up.
"""

from __future__ import annotations

import base64
import copy
import os
import random
import secrets
from urllib.parse import urlparse
from dataclasses import dataclass, replace

import pytest
from lxml import etree

from dvfixtures import ACS, BROKER, HM, KVK, POLICY, PSEUDONYM, RSIN, build_response, response, sign
from fuzzreport import examples, tried
from hostilexml import mutate_bytes, mutate_tree, resign
from ehsaml import dsig, ns
from ehsaml import eherkenning as eh
from ehsaml.dv.login import validate_artifact_login, validate_response
from ehsaml.errors import MalformedInput
from ehsaml.testids import PORTAL_SERVICE_EDIT, PORTAL_SERVICE_VIEW
from ehsaml.xml import parse_xml

SEED = int(os.environ.get("FUZZ_SEED") or secrets.randbits(32))
SCALE = max(1, examples(100) // 100)  # FUZZ_EXAMPLES=5000 runs 50 times as many
OWN = {PORTAL_SERVICE_VIEW, PORTAL_SERVICE_EDIT}


@dataclass
class Base:
    """A correct answer as bytes, and how to check it (POST: all signed; artifact: the Response unsigned inside)."""

    name: str
    element: etree._Element
    in_artifact_response: bool

    @property
    def data(self) -> bytes:
        return etree.tostring(self.element)


def _bases() -> list[Base]:
    plain = sign(build_response(request_id="_req1", acs_url=ACS, dv_cert=None), BROKER)
    encrypted = sign(response(), BROKER)
    inner = sign(response(), BROKER, response=False)
    return [Base("plain NameIDs, by POST", plain, False), Base("EncryptedIDs, by POST", encrypted, False),
            Base("EncryptedIDs, inside an ArtifactResponse", inner, True)]


@pytest.fixture(scope="module")
def canary(tmp_path_factory):
    """A secret in a file the hostile documents point entities at: it must never be read into a login."""
    secret = "CANARY-" + secrets.token_hex(8)
    path = tmp_path_factory.mktemp("canary") / "secret.txt"
    path.write_text(secret)
    return secret, path


def check_bytes(data: bytes, base: Base):
    """As a DV: parse (MalformedInput is a refusal), then every check; anything else raised is a bug."""
    try:
        element = parse_xml(data, what="fuzzed SAMLResponse")
    except MalformedInput:
        return None
    return validate_response(element, POLICY, hm=HM, outstanding={"_req1": None},
                             in_artifact_response=base.in_artifact_response)


def assert_no_forgery(result, secret: str, *, resigned: bool, where: str) -> None:
    fields = [result.kvk, result.rsin, result.pseudonym, result.service_id, result.name_id, result.represented_name,
              *(v for values in result.attributes.values() for v in values)]
    assert not any(secret in (f or "") for f in fields), f"{where}: an entity was resolved into the login"
    if not result.ok:
        assert result.failure is not None and result.failure.check, where
        return
    if not resigned:  # only canonicalisation-neutral changes may get through: the login is the original one
        got = (result.kvk, result.rsin, result.level, result.service_id, result.pseudonym, result.in_response_to)
        assert got == (KVK, RSIN, eh.Level.EH3, PORTAL_SERVICE_VIEW, PSEUDONYM, "_req1"), f"{where}: {got}"
        return
    assert result.in_response_to == "_req1" and result.level is not None and result.level >= eh.Level.EH3, where
    assert result.service_id in OWN and (result.kvk is None or eh.is_kvk(result.kvk)), f"{where}: {result.kvk!r}"
    assert result.rsin is None or eh.is_rsin(result.rsin), f"{where}: {result.rsin!r}"
    assert result.kvk or result.eidas or (result.rsin and POLICY.allow_rsin_only), where


# --- the properties ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("round_", range(3))
def test_byte_mutations_of_a_signed_answer_are_refused_or_read_as_the_original(canary, round_):
    secret, path = canary
    rng = random.Random(SEED + round_)
    bases = _bases()
    n = 1600 * SCALE
    for i in range(n):
        base = bases[i % len(bases)]
        data = base.data
        for _ in range(rng.randrange(1, 4)):
            data = mutate_bytes(rng, data)
        data = data.replace(b"file:///etc/passwd", f"file://{path}".encode())
        result = check_bytes(data, base)
        if result is not None:
            assert_no_forgery(result, secret, resigned=False, where=f"seed {SEED + round_}, input {i} ({base.name})")
    tried("DV checks: byte mutations", n)


def test_structural_mutations_signed_again_never_yield_a_malformed_login(canary):
    secret, _ = canary
    rng = random.Random(SEED + 100)
    bases = _bases()
    n = 1400 * SCALE
    for i in range(n):
        base = bases[i % 2]  # re-signing the Response: the POST bases
        root = copy.deepcopy(base.element)
        for _ in range(rng.randrange(1, 3)):
            mutate_tree(rng, root)
        result = check_bytes(resign(root), base)
        if result is not None:
            assert_no_forgery(result, secret, resigned=True, where=f"seed {SEED + 100}, input {i} ({base.name})")
    tried("DV checks: structural, re-signed", n)


def test_artifact_responses_with_mutated_envelopes_never_raise(canary):
    from ehsaml import bindings
    secret, _ = canary
    rng = random.Random(SEED + 200)
    inner = _bases()[2].element
    ar = etree.Element(ns.q("samlp", "ArtifactResponse"), nsmap={"samlp": ns.SAMLP, "saml": ns.SAML}, ID="_ar",
                       Version="2.0", IssueInstant=inner.get("IssueInstant"), InResponseTo="_resolve")
    etree.SubElement(ar, ns.q("saml", "Issuer")).text = HM.entity_id
    etree.SubElement(etree.SubElement(ar, ns.q("samlp", "Status")), ns.q("samlp", "StatusCode"),
                     Value=ns.STATUS_SUCCESS)
    ar.append(copy.deepcopy(inner))
    dsig.sign(ar, BROKER)
    data = etree.tostring(bindings.soap_envelope(ar))
    n = 600 * SCALE
    for i in range(n):
        fuzzed = data
        for _ in range(rng.randrange(1, 3)):
            fuzzed = mutate_bytes(rng, fuzzed)
        try:
            envelope = parse_xml(fuzzed, what="fuzzed SOAP answer")
        except MalformedInput:
            continue
        result = validate_artifact_login(envelope, replace(POLICY, collect_all=bool(i % 2)), hm=HM,
                                         artifact_resolve_id="_resolve", outstanding={"_req1": None})
        assert_no_forgery(result, secret, resigned=False, where=f"seed {SEED + 200}, input {i}")
    tried("DV checks: ArtifactResponse", n)


def test_collect_all_never_raises_and_finds_at_least_the_first_failure(canary):
    secret, _ = canary
    rng = random.Random(SEED + 300)
    base = _bases()[0]
    n = 600 * SCALE
    for i in range(n):
        root = mutate_tree(rng, copy.deepcopy(base.element))
        data = resign(root) if i % 2 else etree.tostring(root)
        try:
            element = parse_xml(data, what="fuzzed")
        except MalformedInput:
            continue
        first = validate_response(element, POLICY, hm=HM, outstanding={"_req1": None})
        every = validate_response(element, replace(POLICY, collect_all=True), hm=HM, outstanding={"_req1": None})
        assert every.ok == first.ok and (first.ok or every.failure.check == first.failure.check), f"input {i}"
        assert set(c.check for c in first.failures) <= set(c.check for c in every.failures), f"input {i}"
    tried("DV checks: collect_all", n)


# --- the example portal's ACS, in-process: a real login started for each input -------------------------------------

@pytest.fixture(scope="module")
def portal_client(tmp_path_factory):
    """The example portal (its own DvPolicy), knowing the broker from a metadata file; Flask's test client."""
    from dataclasses import replace as with_
    from example_portal import PortalSettings, create_app
    from mock_broker.hm_metadata import build_hm_metadata
    from mock_broker.settings import BrokerSettings

    folder = tmp_path_factory.mktemp("portal-fuzz")
    metadata = folder / "broker.xml"
    metadata.write_bytes(build_hm_metadata(with_(BrokerSettings(), base_url="http://127.0.0.1:8480"), BROKER))
    app = create_app(PortalSettings(db_path=folder / "p.sqlite3", broker_metadata=str(metadata), testing=True))
    return app.test_client()


def _outstanding(client) -> str:
    from urllib.parse import urlparse
    from ehsaml import bindings
    resp = client.get("/login?service=2")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    msg = bindings.parse_redirect(urlparse(resp.headers["Location"]).query)
    return parse_xml(msg.xml, what="AuthnRequest").get("ID")


def test_the_portal_acs_never_answers_5xx_to_a_hostile_answer(portal_client):
    from example_portal import dvconfig
    rng = random.Random(SEED + 400)
    n = 400 * SCALE
    statuses = set()
    for i in range(n):
        request_id = _outstanding(portal_client)
        root = build_response(request_id=request_id, acs_url="http://127.0.0.1:8481/saml/acs", dv_cert=None,
                              service_id=dvconfig.EDIT.service_id, service_uuid=dvconfig.EDIT.service_uuid)
        sign(root, BROKER)
        if i % 2:
            data = resign(mutate_tree(rng, root))
        else:
            data = etree.tostring(root)
            for _ in range(rng.randrange(1, 3)):
                data = mutate_bytes(rng, data)
        resp = portal_client.post("/saml/acs", data={"SAMLResponse": base64.b64encode(data).decode()})
        body = resp.get_data().decode("utf-8", "replace")
        assert resp.status_code < 500 and "Traceback" not in body, f"seed {SEED + 400}, input {i}: {body[:500]}"
        # every answer of the ACS is a 303: to the dashboard (a login), or to /melding, the refusal's page
        assert resp.status_code == 303, f"input {i}: HTTP {resp.status_code}: {body[:300]}"
        where = urlparse(resp.headers["Location"]).path
        if where == "/melding":
            page = portal_client.get("/melding")
            assert 400 <= page.status_code < 500 and 'id="reason-code"' in page.get_data(as_text=True), \
                f"input {i}: the refusal page gives no reason (HTTP {page.status_code})"
        statuses.add(where)
    tried("portal ACS in-process", n)
    assert "/melding" in statuses and ({"/dashboard", "/kies-werkgever"} & statuses), statuses  # both outcomes
