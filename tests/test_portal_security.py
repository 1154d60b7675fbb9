"""Bad input at the portal's ACS and test endpoints: each refused with a reason, nothing written but the audit entry."""

from __future__ import annotations

import base64
import json
import re
from html import unescape
from urllib.parse import quote, urlparse

import pytest
import requests
from fuzzreport import examples, tried
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dvfixtures import build_response, sign
from ehsaml import bindings
from ehsaml.keys import load_keypair
from ehsaml.xml import parse_xml
from example_portal import PortalSettings, create_app, dvconfig
from example_portal.settings import Binding
from ehsaml.testkeys import CERTS_DIR as CERTS
from portalserver import WritesNothing, assert_refused, browser, portal_pair, pp, serve_pair  # noqa: F401

ANNA = dict(person="anna-de-vries", organisation="bakkerij-de-vries")


@pytest.fixture(scope="module")
def post_pair(tmp_path_factory):
    """A second broker + portal whose answers come by HTTP-POST (--binding post)."""
    pair = serve_pair(tmp_path_factory.mktemp("portal-post"), binding=Binding.POST)
    yield pair
    pair.stop()


@pytest.fixture
def pq(post_pair):
    post_pair.reset()
    return post_pair


def form_fields(html_text: str) -> dict[str, str]:
    return {unescape(n): unescape(v) for n, v in
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html_text)}


def captured_post_response(pair, browser, **answer) -> dict[str, str]:
    """Log in up to the broker's auto-post form and keep the form instead of submitting it."""
    pair.queue(**answer)
    resp = browser.get(f"{pair.url}/login", params={"service": 2}, timeout=15)
    assert resp.status_code == 200 and 'name="SAMLResponse"' in resp.text, resp.text[:300]
    return form_fields(resp.text)


def captured_artifact_url(pair, browser, **answer) -> str:
    """Log in up to the broker's redirect to the ACS and keep that URL (with SAMLart) instead of following it."""
    pair.queue(**answer)
    resp = browser.get(f"{pair.url}/login", params={"service": 2}, timeout=15, allow_redirects=False)
    resp = browser.get(resp.headers["Location"], timeout=15, allow_redirects=False)
    assert resp.status_code == 302 and "SAMLart=" in resp.headers["Location"]
    return resp.headers["Location"]


def outstanding_request_id(pair, browser) -> str:
    """Start a login and stop at the broker: the ID of the AuthnRequest the portal now expects an answer to."""
    resp = browser.get(f"{pair.url}/login", params={"service": 2}, timeout=15, allow_redirects=False)
    msg = bindings.parse_redirect(urlparse(resp.headers["Location"]).query)
    return parse_xml(msg.xml, what="AuthnRequest").get("ID")


def post_to_acs(pair, browser, element) -> requests.Response:
    return browser.post(f"{pair.url}/saml/acs", data={"SAMLResponse": bindings.encode_post(element)}, timeout=15)


def forged(pair, request_id: str, *, keypair=None, **kwargs):
    portal = dvconfig.portal_keypair()
    el = build_response(request_id=request_id, acs_url=f"{pair.url}/saml/acs", dv_cert=portal.certificate,
                        service_uuid=dvconfig.EDIT.service_uuid, service_id=dvconfig.EDIT.service_id, **kwargs)
    return sign(el, keypair or load_keypair(str(CERTS / "broker.TEST-ONLY.key"), str(CERTS / "broker.TEST-ONLY.crt")))


def refused_check(pair, browser, resp, check: str) -> None:
    who = assert_refused(pair, browser, resp, "security_check_failed")
    assert who["last_refusal"]["check"] == check, who["last_refusal"]
    assert f"'{check}'" in unescape(resp.text)


# --- HTTP-POST binding --------------------------------------------------------------------------------

def test_post_binding_login_works(pq, browser):
    resp = pq.login(browser, 2, **ANNA)
    assert resp.url == f"{pq.url}/dashboard"
    assert pq.whoami(browser)["represented_kvk"] == "12345678"
    journal = [e for e in pq.journal() if e["event"] == "received"]
    assert 'AssertionConsumerServiceIndex="1"' in journal[0]["xml"]  # the POST ACS


def test_tampered_response(pq, browser):
    fields = captured_post_response(pq, browser, **ANNA)
    xml = bindings.b64decode(fields["SAMLResponse"], what="test").replace(b"Bakkerij De Vries B.V.", b"Kapsalon Evil B.V.")
    with WritesNothing(pq, "security_check_failed"):
        resp = browser.post(f"{pq.url}/saml/acs", data={"SAMLResponse": base64.b64encode(xml).decode()}, timeout=15)
    refused_check(pq, browser, resp, "response_signature")


def test_replayed_response(pq, browser):
    fields = captured_post_response(pq, browser, **ANNA)
    assert browser.post(f"{pq.url}/saml/acs", data=fields, timeout=15).url == f"{pq.url}/dashboard"
    with WritesNothing(pq, "security_check_failed"):
        resp = browser.post(f"{pq.url}/saml/acs", data=fields, timeout=15)
    refused_check(pq, browser, resp, "response_in_response_to")


def test_response_for_another_browser_is_unsolicited(pq, browser):
    fields = captured_post_response(pq, browser, **ANNA)
    attacker = pq.browser()
    with WritesNothing(pq, "security_check_failed"):
        resp = attacker.post(f"{pq.url}/saml/acs", data=fields, timeout=15)
    refused_check(pq, attacker, resp, "response_in_response_to")


# --- responses built outside the broker ---------------------------------------------------------------

def test_unsolicited_response(pp, browser):
    with WritesNothing(pp, "security_check_failed"):
        resp = post_to_acs(pp, browser, forged(pp, "_never-requested"))
    refused_check(pp, browser, resp, "response_in_response_to")


def test_response_signed_by_an_unknown_key(pp, browser):
    request_id = outstanding_request_id(pp, browser)
    attacker = load_keypair(str(CERTS / "attacker.TEST-ONLY.key"), str(CERTS / "attacker.TEST-ONLY.crt"))
    with WritesNothing(pp, "security_check_failed"):
        resp = post_to_acs(pp, browser, forged(pp, request_id, keypair=attacker))
    refused_check(pp, browser, resp, "response_signature")


def test_expired_response(pp, browser):
    request_id = outstanding_request_id(pp, browser)
    with WritesNothing(pp, "security_check_failed"):
        resp = post_to_acs(pp, browser, forged(pp, request_id, age_seconds=3600))
    refused_check(pp, browser, resp, "conditions_time")


def test_misaddressed_response(pp, browser):
    request_id = outstanding_request_id(pp, browser)
    with WritesNothing(pp, "security_check_failed"):
        resp = post_to_acs(pp, browser, forged(pp, request_id, destination="https://elsewhere.example/acs"))
    refused_check(pp, browser, resp, "response_destination")


def test_response_for_another_audience(pp, browser):
    request_id = outstanding_request_id(pp, browser)
    with WritesNothing(pp, "security_check_failed"):
        resp = post_to_acs(pp, browser, forged(pp, request_id, audience="urn:etoegang:DV:00000009998887776000:entities:9001"))
    refused_check(pp, browser, resp, "audience")


def test_a_correct_forged_style_response_is_accepted(pp, browser):
    """Control for the tests above: the same builder, unchanged, logs in (so each refusal is the mutation's)."""
    request_id = outstanding_request_id(pp, browser)
    resp = post_to_acs(pp, browser, forged(pp, request_id))
    assert resp.url == f"{pp.url}/dashboard", resp.text[:500]


def test_garbage_saml_response(pp, browser):
    with WritesNothing(pp, "security_check_failed"):
        resp = browser.post(f"{pp.url}/saml/acs", data={"SAMLResponse": "not base64 at all!"}, timeout=5)
    refused_check(pp, browser, resp, "message_readable")
    with WritesNothing(pp, "security_check_failed"):
        resp = browser.get(f"{pp.url}/saml/acs", timeout=5)
    refused_check(pp, browser, resp, "message_present")


# --- artifacts ----------------------------------------------------------------------------------------

def test_broken_artifact(pp, browser):
    with WritesNothing(pp, "security_check_failed"):
        resp = browser.get(f"{pp.url}/saml/acs", params={"SAMLart": "AAQAAGJyb2tlbg=="}, timeout=5)
    refused_check(pp, browser, resp, "artifact_source")


def test_unknown_artifact_of_the_broker(pp, browser):
    from ehsaml.testids import BROKER_ENTITY_ID
    artifact = bindings.Artifact.new(BROKER_ENTITY_ID, 0).encode()
    with WritesNothing(pp, "security_check_failed"):
        resp = browser.get(f"{pp.url}/saml/acs", params={"SAMLart": artifact}, timeout=10)
    refused_check(pp, browser, resp, "artifact_response_has_response")


def test_replayed_artifact(pp, browser):
    url = captured_artifact_url(pp, browser, **ANNA)
    assert browser.get(url, timeout=15).url == f"{pp.url}/dashboard"
    with WritesNothing(pp, "security_check_failed"):
        resp = browser.get(url, timeout=15)
    refused_check(pp, browser, resp, "artifact_response_has_response")


def test_artifact_by_post_is_accepted(pp, browser):
    url = captured_artifact_url(pp, browser, **ANNA)
    artifact = dict(p.split("=", 1) for p in urlparse(url).query.split("&"))["SAMLart"]
    resp = browser.post(f"{pp.url}/saml/acs", data={"SAMLart": requests.utils.unquote(artifact)}, timeout=15)
    assert resp.url == f"{pp.url}/dashboard"


# --- what the portal publishes, and the test endpoints --------------------------------------------------

def test_metadata_and_catalogue(pp):
    from ehsaml.metadata import parse_catalogue, parse_entity
    md = parse_entity(requests.get(f"{pp.url}/saml/metadata", timeout=5).content, source="portal metadata")
    assert md.entity_id == dvconfig.ENTITY_ID and md.authn_requests_signed
    assert [(e.index, e.binding.rsplit(":", 1)[-1], e.location) for e in md.acs] == [
        (0, "HTTP-Artifact", f"{pp.url}/saml/acs"), (1, "HTTP-POST", f"{pp.url}/saml/acs")]
    assert {(s.index, s.name) for s in md.services} == {(1, "Bekijk gegevens"), (2, "Bekijk en wijzig gegevens")}
    cat = requests.get(f"{pp.url}/saml/dienstcatalogus", timeout=5).content
    assert b"urn:etoegang:1.13:service-catalog" in cat and b"loa3" in cat and b"eIDASLegalIdentifier" in cat
    parse_catalogue(cat, source="portal catalogue")


def test_test_endpoints_are_off_without_testing(tmp_path):
    app = create_app(PortalSettings(db_path=tmp_path / "p.sqlite3", testing=False))
    client = app.test_client()
    for method, path in (("post", "/_test/seed"), ("get", "/_test/outbox"), ("get", "/_test/audit"),
                         ("post", "/_test/reset")):
        assert getattr(client, method)(path, json={}).status_code == 404
    assert client.get("/whoami").status_code == 404  # it tells a page's script who is logged in: tools only


@pytest.mark.parametrize("body, field", [
    ({"contracts": [{"id": 9, "name": "x", "employers": [{"kvk": "123", "name": "y"}]}]}, "contracts[0].employers[0].kvk"),
    ({"advisors": [{"kvk": "99999999"}]}, "advisors[0]: missing field(s) ['name']"),
    ({"grants": [{"employer_kvk": "12345678", "advisor_kvk": "45678901", "rights": "all"}]}, "grants[0].rights"),
    ({"grants": [{"employer_kvk": "87654321", "advisor_kvk": "45678901"}]}, "grants[0].employer_kvk"),
    ({"contracts": [{"id": 1, "name": "again"}]}, "contracts[0].id"),
    ({"colour": "blue"}, "seed: unknown field(s) ['colour']"),
])
def test_seed_errors_name_the_field(pp, body, field):
    before = pp.state()["digest"]
    resp = pp.seed(body)
    assert resp.status_code == 400 and field in resp.json()["error"], resp.text
    assert pp.state()["digest"] == before


def test_broker_unreachable_is_a_clear_page(tmp_path):
    app = create_app(PortalSettings(db_path=tmp_path / "p.sqlite3", broker_metadata="http://127.0.0.1:9/saml/metadata",
                                    testing=True))
    client = app.test_client()
    resp = client.get("/login?service=2")
    assert resp.status_code == 503 and b'id="reason-code">broker_unreachable<' in resp.data
    assert client.get("/whoami").json["last_refusal"]["code"] == "broker_unreachable"
    assert client.get("/login?service=7").status_code == 400


# --- the test endpoints and forms with any input (issue 14) ---------------------------------------------------

any_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                            st.sampled_from(["contracts", "advisors", "grants", "seed", "id", "name", "employers", "kvk",
                                             "email", "participants", "salary", "rights", "status", "token",
                                             "employer_kvk", "advisor_kvk", "licence_checked", "x"]), inner, max_size=4),
                        max_leaves=12)


@pytest.fixture(scope="module")
def testing_client(tmp_path_factory):
    app = create_app(PortalSettings(db_path=tmp_path_factory.mktemp("fuzz") / "p.sqlite3", testing=True))
    return app.test_client()


@settings(max_examples=examples(100), deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(path=st.sampled_from(["/_test/seed", "/_test/reset"]),
       body=st.one_of(any_json.map(json.dumps), st.integers(1, 2000).map(lambda n: "[" * n + "]" * n)))
def test_test_endpoints_with_any_json_never_answer_5xx(testing_client, path, body):
    tried("portal /_test/ any JSON")
    resp = testing_client.post(path, data=body.encode(), content_type="application/json")
    assert resp.status_code < 500, (path, body[:200], resp.get_data(as_text=True)[:300])
    if resp.status_code >= 400:
        assert resp.json["error"]


@pytest.mark.parametrize("path, field", [("/deelnemers/1/wijzig", "salaris"), ("/toegang", "kvk"),
                                         ("/kvk-toevoegen", "kvk"), ("/kies-werkgever", "kvk"), ("/login-oud", "username")])
def test_forms_without_the_csrf_token_are_refused_and_change_nothing(pp, browser, path, field):
    pp.login(browser, 2, person="anna-de-vries", organisation="bakkerij-de-vries")
    with WritesNothing(pp, "csrf_invalid"):
        resp = browser.post(f"{pp.url}{path}", data={field: "1"}, timeout=5)
    assert resp.status_code == 403 and 'id="reason-code">csrf_invalid<' in resp.text
    with WritesNothing(pp, "csrf_invalid"):
        resp = browser.post(f"{pp.url}{path}", data={field: "1", "csrf_token": "guessed"}, timeout=5)
    assert resp.status_code == 403
    assert pp.whoami(browser)["logged_in"] is True  # the refusal left the session as it was


def test_portal_pages_carry_the_headers_and_refuse_a_foreign_host(pp, browser):
    for path in ("/", "/login-oud", "/privacy", "/nowhere"):
        resp = browser.get(f"{pp.url}{path}", timeout=5)
        policy = resp.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy and "script-src 'none'" in policy
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "<script" not in resp.text and " style=" not in resp.text
    digest = pp.state()["digest"]
    resp = requests.post(f"{pp.url}/_test/reset", json={}, headers={"Host": "rebind.test"}, timeout=5)
    assert resp.status_code == 400 and 'id="reason-code">host_invalid<' in resp.text
    resp = requests.post(f"{pp.url}/_test/reset", data="{}", headers={"Content-Type": "text/plain"}, timeout=5)
    assert resp.status_code == 415
    assert pp.state()["digest"] == digest


FORMS = [("/deelnemers/{participant}/wijzig", ("salaris", "ingangsdatum")), ("/toegang", ("kvk", "rechten")),
         ("/deelnemers/aanmelden", ("naam", "salaris", "ingangsdatum")), ("/deelnemers/groep", ("percentage", "ingangsdatum")),
         ("/toegang/{grant}/rechten", ("rechten",)), ("/kvk-toevoegen", ("kvk",)), ("/kies-werkgever", ("kvk",)),
         ("/login-oud", ("username", "password")), ("/toegang/bevestig/{text}", ())]


@pytest.fixture(scope="module")
def logged_in_employer(portal_pair):
    portal_pair.reset()
    session = requests.Session()
    portal_pair.login(session, 2, person="anna-de-vries", organisation="bakkerij-de-vries")
    return portal_pair, session


@settings(max_examples=examples(60), deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(form=st.sampled_from(FORMS), values=st.lists(st.text(max_size=30) | st.sampled_from(
    ["²", "١٢٣٤٥٦٧٨", "12345678", "45678901", "edit", "view", "0", "-1", "9" * 40, "\x00", "<b>", "2026-02-30",
     "9999-01-01", "2,5", "+20", "=cmd|x"]), min_size=3, max_size=3),
       ids=st.sampled_from(["1", "2", "999999999999999999999", "0"]))
def test_every_form_field_with_any_text_gets_a_page_never_a_server_error(logged_in_employer, form, values, ids):
    """Issue 14: every form of the portal, with its CSRF token and any text in its fields: 2xx or a 4xx
    refusal page with a reason code, never a 5xx."""
    tried("portal forms any text")
    pair, session = logged_in_employer
    path, fields = form
    path = path.format(participant=ids, grant=ids, text=quote((values[0] or "x")[:50], safe=""))
    data = dict(zip(fields, values))
    resp = pair.post_form(session, f"{pair.url}{path}", data)
    assert resp.status_code < 500, (path, data, resp.text[:300])
    if resp.status_code >= 400:
        assert re.search(r'id="reason-code">[a-z_]+<', resp.text), (path, data, resp.status_code, resp.text[:300])


# --- hostile documents at the ACS (issue 15): never a 500, always the reason -------------------------------------

def test_an_xml_id_clash_at_the_acs_is_refused_naming_the_element(pp, browser):
    request_id = outstanding_request_id(pp, browser)
    el = forged(pp, request_id)
    el.find("{urn:oasis:names:tc:SAML:2.0:assertion}Issuer").set("{http://www.w3.org/XML/1998/namespace}id", el.get("ID"))
    with WritesNothing(pp, "security_check_failed"):
        resp = post_to_acs(pp, browser, el)
    refused_check(pp, browser, resp, "message_readable")
    assert "saml:Issuer" in unescape(resp.text)


def test_a_utf16_doctype_at_the_acs_is_refused(pp, browser):
    from lxml import etree
    request_id = outstanding_request_id(pp, browser)
    body = etree.tostring(forged(pp, request_id)).decode()
    doc = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE samlp:Response [<!ENTITY e "x">]>' + body).encode("utf-16")
    with WritesNothing(pp, "security_check_failed"):
        resp = browser.post(f"{pp.url}/saml/acs", data={"SAMLResponse": base64.b64encode(doc).decode()}, timeout=15)
    refused_check(pp, browser, resp, "message_readable")
    assert "DOCTYPE" in unescape(resp.text)


def test_hostile_answers_over_real_http_are_refused_with_a_reason(pp, browser):
    """A few dozen fuzzed answers to a real outstanding request, over loopback HTTP (the bulk runs in-process in
    tests/test_dv_fuzz.py): never a 5xx, always the refusal page or a login."""
    import os
    import random
    from fuzzreport import tried
    from hostilexml import mutate_bytes, mutate_tree, resign
    from lxml import etree

    seed = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
    rng = random.Random(seed)
    for i in range(40):
        root = forged(pp, outstanding_request_id(pp, browser))
        data = resign(mutate_tree(rng, root)) if i % 2 else mutate_bytes(rng, etree.tostring(root))
        resp = browser.post(f"{pp.url}/saml/acs", data={"SAMLResponse": base64.b64encode(data).decode()}, timeout=15)
        assert resp.status_code < 500, f"FUZZ_SEED={seed}, input {i}: HTTP {resp.status_code}: {resp.text[:300]}"
        assert resp.url == f"{pp.url}/dashboard" or 'id="reason-code"' in resp.text, f"FUZZ_SEED={seed}, input {i}"
    tried("portal ACS over real HTTP", 40)
