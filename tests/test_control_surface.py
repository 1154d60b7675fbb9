"""The broker's control surface without a browser: Host names, Origin and Sec-Fetch-Site, Content-Type,
CSRF tokens, the JSON schema, the headers of every page (issue 14). A client that sends no Origin (curl,
the harness) keeps working; each refusal leaves the state as it was."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

import pytest
import requests
from brokerserver import serve_broker
from conftest import journal, queue

from ehsaml import bindings
from ehsaml.dv.client import build_authn_request, redirect_url


def state(broker_url: str) -> dict:
    get = lambda path: requests.get(f"{broker_url}/_mock/{path}", timeout=5).json()  # noqa: E731
    return {"queued": get("next"), "sps": get("sps"), "changes": get("world/changes"), "world": get("world")}


def post(broker_url: str, path: str, **kw) -> requests.Response:
    return requests.post(f"{broker_url}{path}", timeout=5, **kw)


# --- Host ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", ["rebind.test", "rebind.test:{port}", "127.0.0.1.nip.io:{port}", "evil", "[::2]:80",
                                  "10.0.0.1:{port}", "a b", "user@127.0.0.1:{port}"])
def test_a_foreign_host_header_is_refused_for_every_path(broker_url, host):
    host = host.format(port=urlsplit(broker_url).port)
    queue(broker_url, person="anna-de-vries")
    before = state(broker_url)
    for method, path, kw in (("get", "/_mock/journal", {}), ("get", "/beheer", {}), ("get", "/saml/metadata", {}),
                             ("post", "/_mock/reset", {"json": {}}), ("post", "/_mock/next", {"json": {"cancel": True}})):
        resp = getattr(requests, method)(f"{broker_url}{path}", headers={"Host": host}, timeout=5, **kw)
        assert resp.status_code == 400, (host, path, resp.status_code)
        assert "Host header" in resp.text and "entries" not in resp.text
    assert state(broker_url) == before


@pytest.mark.parametrize("host", ["localhost:{port}", "127.0.0.1:{port}", "LOCALHOST:{port}", "[::1]:{port}",
                                  "127.0.0.1.:{port}"])
def test_loopback_names_pass_the_host_check(broker_url, host):
    resp = requests.get(f"{broker_url}/_mock/sps", headers={"Host": host.format(port=urlsplit(broker_url).port)},
                        timeout=5)
    assert resp.status_code == 200


def test_a_public_url_names_another_host_and_origin():
    served = serve_broker(public_urls=("http://broker.test:8480",))
    try:
        b = served.base_url
        assert requests.get(f"{b}/_mock/sps", headers={"Host": "broker.test:8480"}, timeout=5).status_code == 200
        resp = post(b, "/_mock/next", json={"cancel": True}, headers={"Origin": "http://broker.test:8480"})
        assert resp.status_code == 201, resp.text
        assert requests.get(f"{b}/_mock/sps", headers={"Host": "other.test"}, timeout=5).status_code == 400
    finally:
        served.stop()


# --- Origin and Sec-Fetch-Site --------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Origin": "http://127.0.0.1:1"}, {"Origin": "http://127.0.0.2:{port}"}, {"Origin": "null"},
    {"Origin": "https://127.0.0.1:{port}"}, {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:{port}"},
])
def test_a_state_change_from_another_origin_is_refused(broker_url, headers):
    headers = {k: v.format(port=urlsplit(broker_url).port) for k, v in headers.items()}
    queue(broker_url, person="anna-de-vries")
    before = state(broker_url)
    for path, kw in (("/_mock/reset", {"json": {}}), ("/_mock/next", {"json": {"cancel": True}}),
                     ("/_mock/world/changes", {"json": {"change": "set_level", "person": "eva-kok", "level": "EH4"}}),
                     ("/_mock/sps", {"json": {"metadata": "<x/>"}}), ("/beheer", {"data": {"change": "set_level"}}),
                     ("/login", {"data": {"p": "x", "action": "cancel"}})):
        resp = post(broker_url, path, headers=headers, **kw)
        assert resp.status_code == 403, (path, resp.status_code, resp.text[:200])
        assert "may not change anything here" in resp.text
    assert state(broker_url) == before


def test_the_brokers_own_origin_and_clients_that_are_no_browser_pass(broker_url):
    own = {"Origin": broker_url, "Sec-Fetch-Site": "same-origin"}
    assert post(broker_url, "/_mock/next", json={"cancel": True}, headers=own).status_code == 201
    assert post(broker_url, "/_mock/next", json={"cancel": True}).status_code == 201  # no Origin: curl, harness
    assert len(state(broker_url)["queued"]["queued"]) == 2
    assert post(broker_url, "/_mock/reset").status_code == 200  # `curl -XPOST $B/_mock/reset`, as README shows
    assert state(broker_url)["queued"]["queued"] == []


def test_saml_endpoints_stay_open_to_a_dvs_page_on_another_site(broker_url, dv):
    """A DV's page POSTs its AuthnRequest cross-site (HTTP-POST binding): the guard leaves /saml/ alone."""
    queue(broker_url, person="anna-de-vries")
    dv.session.headers.update({"Origin": "https://portal.example", "Sec-Fetch-Site": "cross-site"})
    answer = dv.login(binding="post", service_index=2)
    assert answer.result.ok, answer.result.explain()


# --- Content-Type and JSON ----------------------------------------------------------------------------------

@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                                          None])
@pytest.mark.parametrize("path, body", [("/_mock/next", '{"cancel": true}'), ("/_mock/reset", "{}"),
                                        ("/_mock/sps", '{"metadata": "<x/>"}'),
                                        ("/_mock/world/changes", '{"change": "set_level"}')])
def test_a_body_that_is_not_sent_as_json_is_refused(broker_url, path, body, content_type):
    queue(broker_url, person="anna-de-vries")
    before = state(broker_url)
    headers = {"Content-Type": content_type} if content_type else {}
    resp = post(broker_url, path, data=body.encode(), headers=headers)
    assert resp.status_code == 415, resp.text
    assert "Content-Type: application/json" in resp.json()["error"]
    assert state(broker_url) == before


def test_a_text_plain_metadata_post_no_longer_replaces_a_registration(broker_url, dv):
    from testdv import dv_metadata
    resp = post(broker_url, "/_mock/sps", data=dv_metadata(), headers={"Content-Type": "text/plain"})
    assert resp.status_code == 415
    ok = post(broker_url, "/_mock/sps", data=dv_metadata(), headers={"Content-Type": "application/xml"})
    assert ok.status_code == 201, ok.text  # the README's raw-XML registration still works


@pytest.mark.parametrize("path, body, field", [
    ("/_mock/sps", {"metadata": 5}, "metadata: give a non-empty string, not int"),
    ("/_mock/sps", {"metadata_url": ["http://127.0.0.1/"]}, "metadata_url: give a non-empty string, not list"),
    ("/_mock/sps", {"metadata": "<x/>", "catalogue": {"a": 1}}, "catalogue: give a non-empty string, not dict"),
    ("/_mock/sps", {"metadata": "<x/>", "catalogue_url": 1.5}, "catalogue_url: give a non-empty string, not float"),
    ("/_mock/sps", {"metadata": "<x/>", "options": []}, "options: give an object, not list"),
    ("/_mock/sps", {"metadata": "<x/>", "options": {"advice": 1}}, "options.advice: give true or false or a"),
    ("/_mock/next", {"person": 7}, "person: give a non-empty string, not int"),
    ("/_mock/next", {"person": "anna-de-vries", "organisation": True}, "organisation: give a non-empty string"),
    ("/_mock/next", {"identity": {"kvk": 12345678}}, "identity.kvk: give a non-empty string or null, not int"),
    ("/_mock/next", {"cancel": "true"}, "cancel: give true or false, not str"),
    ("/_mock/next", {"fault": ["sig-none"]}, "fault: give a non-empty string, not list"),
    ("/_mock/next", {"status": None}, "status: give a non-empty string, not null"),
    ("/_mock/world/changes", {"change": 5}, "change: give a non-empty string, not int"),
    ("/_mock/world/changes", {"change": ["set_level"]}, "change: give a non-empty string, not list"),
    ("/_mock/world/changes", {"change": {"k": 1}}, "change: give a non-empty string, not dict"),
    ("/_mock/world/changes", {"change": "add_chain_mandate", "represented": "garage-mulder",
                              "intermediary": "van-dam-advies", "services": ["edit"], "employees": ["daan-van-dam"]},
     "employees[0]: give an object, not str"),
    ("/_mock/world/changes", {"change": "add_mandate", "person": "eva-kok", "organisation": "bakkerij-de-vries",
                              "services": [1]}, "services[0]: give a non-empty string, not int"),
    ("/_mock/reset", {"everything": True}, "body: give no fields"),
    ("/_mock/next", [1, 2], "send a JSON object, not list"),
    ("/_mock/next", "cancel", "send a JSON object, not str"),
])
def test_every_json_field_is_type_checked_naming_the_field(broker_url, path, body, field):
    before = state(broker_url)
    resp = post(broker_url, path, json=body)
    assert resp.status_code == 400, resp.text
    assert field in resp.json()["error"], resp.json()["error"]
    assert state(broker_url) == before


@pytest.mark.parametrize("path", ["/_mock/next", "/_mock/sps", "/_mock/world/changes", "/_mock/reset"])
def test_deeply_nested_json_is_refused_before_it_is_parsed(broker_url, path):
    for body in ("[" * 100_000 + "]" * 100_000, '{"a":' * 20 + "1" + "}" * 20):
        resp = post(broker_url, path, data=body.encode(), headers={"Content-Type": "application/json"})
        assert resp.status_code in (400, 413), resp.text[:200]
        if resp.status_code == 400:
            assert "nested" in resp.json()["error"]
    ok = post(broker_url, "/_mock/next", json={"identity": {"kvk": "12345678", "service": "edit"}})
    assert ok.status_code == 201  # the API's own nesting is well within the bound


# --- CSRF tokens -----------------------------------------------------------------------------------------------

def token_of(html_text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html_text).group(1)


def test_beheer_forms_need_the_token_of_the_browsers_own_cookie(broker_url):
    change = {"change": "set_level", "person": "eva-kok", "level": "EH4"}
    mine, other = requests.Session(), requests.Session()
    token = token_of(mine.get(f"{broker_url}/beheer", timeout=5).text)
    other.get(f"{broker_url}/beheer", timeout=5)  # another browser, with a cookie of its own
    cookie = mine.cookies.get("mock_broker_beheer")
    assert cookie and "HttpOnly" in requests.get(f"{broker_url}/beheer", timeout=5).headers["Set-Cookie"]
    assert "SameSite=Strict" in requests.get(f"{broker_url}/beheer", timeout=5).headers["Set-Cookie"]
    for session, data in ((mine, change), (mine, {**change, "csrf_token": "x" * 43}), (other, {**change, "csrf_token": token}),
                          (requests.Session(), {**change, "csrf_token": token})):
        resp = session.post(f"{broker_url}/beheer", data=data, timeout=5)
        assert resp.status_code == 403 and "CSRF token" in resp.text, resp.text[:300]
    assert state(broker_url)["changes"] == {"changes": []}
    resp = mine.post(f"{broker_url}/beheer", data={**change, "csrf_token": token}, timeout=5)
    assert resp.status_code == 200 and 'id="done"' in resp.text
    assert len(state(broker_url)["changes"]["changes"]) == 1


def test_login_page_forms_need_the_token_of_their_pending_login(broker_url, dv):
    _, first = dv.request(service_index=2)
    _, second = dv.request(service_index=2)
    pages = [requests.get(broker_url + r.headers["Location"], timeout=5) for r in (first, second)]
    (p1, t1), (p2, t2) = [(re.search(r'name="p" value="([^"]+)"', p.text).group(1), token_of(p.text)) for p in pages]
    assert t1 != t2
    for data in ({"p": p1, "action": "cancel"}, {"p": p1, "action": "cancel", "csrf_token": t2},
                 {"p": p1, "person": "anna-de-vries", "csrf_token": p1}):
        resp = post(broker_url, "/login", data=data, allow_redirects=False)
        assert resp.status_code == 403 and "CSRF token" in resp.text
    assert requests.get(f"{broker_url}/login?p={p1}", timeout=5).status_code == 200  # still pending, unanswered
    assert not [e for e in journal(broker_url) if e["event"] == "decision"]
    resp = post(broker_url, "/login", data={"p": p1, "action": "cancel", "csrf_token": t1}, allow_redirects=False)
    assert resp.status_code == 302 and "SAMLart=" in resp.headers["Location"]


# --- headers ------------------------------------------------------------------------------------------------------

def test_every_page_has_a_policy_without_inline_script_and_no_framing(broker_url, dv):
    _, sso = dv.request(service_index=2)
    login = requests.get(broker_url + sso.headers["Location"], timeout=5)
    pages = [requests.get(f"{broker_url}/", timeout=5), requests.get(f"{broker_url}/beheer", timeout=5), login,
             requests.get(f"{broker_url}/login?p=nonsense", timeout=5), requests.get(f"{broker_url}/_mock/sps", timeout=5),
             requests.get(f"{broker_url}/nowhere", timeout=5), requests.get(f"{broker_url}/saml/metadata", timeout=5)]
    for resp in pages:
        policy = resp.headers["Content-Security-Policy"]
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, (resp.url, policy)
        # the login page loads its filter from the broker's own file; no page has inline script
        scripts = "script-src 'self'" if resp is login else "script-src 'none'"
        assert "frame-ancestors 'none'" in policy and scripts in policy, (resp.url, policy)
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        if "text/html" in resp.headers["Content-Type"]:
            own = '<script src="/static/login-filter.js"></script>'
            assert "<script" not in resp.text.replace(own, "") and " style=" not in resp.text and "onload" not in resp.text
            for nonce in re.findall(r'<style nonce="([^"]+)"', resp.text):
                assert f"'nonce-{nonce}'" in policy
    nonces = {re.search(r"'nonce-([^']+)'", requests.get(f"{broker_url}/", timeout=5).headers[
        "Content-Security-Policy"]).group(1) for _ in range(3)}
    assert len(nonces) == 3  # a fresh nonce per answer


def test_the_auto_post_answer_allows_exactly_its_own_script(broker_url, dv):
    queue(broker_url, person="anna-de-vries")
    _, answer = dv.request(service_index=2, acs_index=1)
    scripts = re.findall(r"<script>(.*?)</script>", answer.text, re.S)
    assert scripts == [bindings.POST_FORM_SCRIPT]
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in answer.headers["Content-Security-Policy"]


def test_the_login_page_token_is_not_the_pending_login_token(broker_url):
    """The pending login's id travels in the URL (history, Referer); the form's token only in the page."""
    from ehsaml.testids import PORTAL_ENTITY_ID
    from testdv import portal_keypair
    _, element = build_authn_request(dv=PORTAL_ENTITY_ID, destination=f"{broker_url}/saml/sso", service_index=2)
    resp = requests.get(redirect_url(f"{broker_url}/saml/sso", element, portal_keypair(), None), timeout=5)
    p = urlsplit(resp.url).query.split("p=", 1)[1]
    assert token_of(resp.text) != p and p not in token_of(resp.text)
