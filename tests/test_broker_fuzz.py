"""Fuzzing the broker with Hypothesis: SSO (GET, POST), ArtifactResolve, SLO, control API and login page.

Through Flask's test client for speed, and a few cases over real HTTP. Properties: never a 5xx, never
a traceback in the body, each 4xx names what was wrong, and XML never reaches a file or the network
(the hardened parser refuses a DOCTYPE). A bounded run in CI (200 examples per property); FUZZ_EXAMPLES=5000 for a long run by hand.
The number of inputs tried is printed at the end of the run (tests/fuzzreport.py).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from dataclasses import replace
from urllib.parse import quote_plus

import pytest
import requests
from conftest import queue
from fuzzreport import examples, tried
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testdv import TestDV, dv_catalogue, dv_metadata, portal_keypair

from ehsaml import bindings, ns
from ehsaml.dv.client import build_artifact_resolve, build_authn_request, build_logout_request, new_id, \
    post_form_fields, redirect_url, resolve_artifact
from ehsaml.dv.login import validate_artifact_response
from ehsaml.testids import PORTAL_ENTITY_ID
from ehsaml.xml import tostring
from mock_broker import faults
from mock_broker.app import create_app
from mock_broker.decide import INLINE_FIELDS
from mock_broker.settings import BrokerSettings

BASE = "http://127.0.0.1:8480"
FUZZ = settings(max_examples=examples(200), deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.filter_too_much])


# --- the app under test, and a canary for file and network access from XML --------------------------

class Canary:
    """A secret file and a listening socket that XML entities point at: neither may ever be read."""

    def __init__(self, tmp_path):
        self.file = tmp_path / "canary.txt"
        self.secret = "CANARY-" + new_id()
        self.file.write_text(self.secret)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        self._stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.hits += 1
            conn.close()

    def close(self):
        self._stop = True
        self.thread.join(1)
        self.sock.close()


@pytest.fixture(scope="module")
def canary(tmp_path_factory):
    c = Canary(tmp_path_factory.mktemp("canary"))
    yield c
    c.close()
    assert c.hits == 0, f"XML made {c.hits} network connection(s)"


@pytest.fixture(scope="module")
def client():
    app = create_app(replace(BrokerSettings(), base_url=BASE, metadata_dir=None))
    c = app.test_client()
    resp = c.post("/_mock/sps", json={"metadata": dv_metadata().decode(), "catalogue": dv_catalogue().decode()})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return c


def sane(resp, canary=None, *, where: str) -> None:
    """The properties every answer keeps."""
    # a fault may send UTF-16 on purpose (parser family): read any body without failing on its encoding
    body = resp.get_data().decode("utf-8", "replace") if hasattr(resp, "get_data") else resp.text
    status = resp.status_code
    assert status < 500, f"{where}: HTTP {status}: {body[:500]}"
    assert "Traceback" not in body and 'File "/' not in body, f"{where}: a stack trace in the body"
    if canary is not None:
        assert canary.secret not in body, f"{where}: the canary file was read"
    if 400 <= status < 500:
        assert reason(resp, body), f"{where}: HTTP {status} without a reason: {body[:300]}"


def reason(resp, body: str) -> str:
    """The words a refusal gives: JSON error, SOAP faultstring, or the error page's reason."""
    ctype = resp.headers.get("Content-Type", "")
    if "json" in ctype:
        return json.loads(body).get("error") or ""
    for start, end in (("<faultstring>", "</faultstring>"), ('<p id="reason">', "</p>")):
        if start in body:
            return body.split(start, 1)[1].split(end, 1)[0].strip()
    return ""


# --- what hostile input looks like ---------------------------------------------------------------------

def xxe_documents(canary_file, port) -> list[bytes]:
    return [
        f'<!DOCTYPE x [<!ENTITY e SYSTEM "file://{canary_file}">]><samlp:AuthnRequest '
        f'xmlns:samlp="{ns.SAMLP}" ID="_x">&e;</samlp:AuthnRequest>'.encode(),
        f'<!DOCTYPE x [<!ENTITY e SYSTEM "http://127.0.0.1:{port}/xxe">]><x>&e;</x>'.encode(),
        f'<!DOCTYPE x SYSTEM "http://127.0.0.1:{port}/dtd"><x/>'.encode(),
        b'<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><l>&d;</l>',
        f'<x xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file://{canary_file}" parse="text"/></x>'
        .encode(),
        f'<?xml-stylesheet href="http://127.0.0.1:{port}/x.xsl"?><x/>'.encode(),
    ]


def signed_request(*, issuer=PORTAL_ENTITY_ID, destination=f"{BASE}/saml/sso", **kw):
    return build_authn_request(dv=issuer, destination=destination, **kw)[1]


xml_text = st.one_of(
    st.text(max_size=300),
    st.builds(lambda tag, body: f"<{tag}>{body}</{tag}>", st.from_regex(r"[a-zA-Z][a-zA-Z0-9:]{0,10}", fullmatch=True),
              st.text(max_size=100)),
    st.sampled_from(["<samlp:AuthnRequest/>", f'<samlp:AuthnRequest xmlns:samlp="{ns.SAMLP}"/>',
                     f'<samlp:AuthnRequest xmlns:samlp="{ns.SAMLP}" xmlns:saml="{ns.SAML}" ID="_1">'
                     f'<saml:Issuer>urn:etoegang:DV:00000000000000000000:entities:9999</saml:Issuer>'
                     f'</samlp:AuthnRequest>', "<unclosed", "\x00\x01", "<?xml version='1.0'?>"]),
).map(lambda s: s.encode("utf-8", "surrogatepass"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def redirect_value(xml: bytes) -> str:
    return quote_plus(b64(bindings.deflate(xml)))


# --- SSO ----------------------------------------------------------------------------------------------

@FUZZ
@given(query=st.text(max_size=400))
def test_sso_get_with_any_query_string(client, query):
    tried("sso GET raw query")
    sane(client.get("/saml/sso?" + query), where="GET /saml/sso")


@FUZZ
@given(xml=xml_text, deflated=st.booleans(), extra=st.dictionaries(
    st.sampled_from(["RelayState", "SigAlg", "Signature", "SAMLResponse", "x"]), st.text(max_size=50), max_size=3))
def test_sso_get_with_any_deflated_xml(client, xml, deflated, extra):
    tried("sso GET SAMLRequest")
    value = redirect_value(xml) if deflated else quote_plus(b64(xml))
    query = "SAMLRequest=" + value + "".join(f"&{k}={quote_plus(v)}" for k, v in extra.items())
    sane(client.get("/saml/sso?" + query), where="GET /saml/sso")


@FUZZ
@given(data=st.data())
def test_sso_get_with_a_signed_request_then_damaged(client, data):
    """A validly signed Redirect request, then one byte of the query changed, or the DV unknown, or replayed."""
    tried("sso GET signed/damaged")
    kind = data.draw(st.sampled_from(["flip", "unknown-dv", "replay", "no-signature", "wrong-destination"]))
    issuer = "urn:etoegang:DV:00000009999999999000:entities:9001" if kind == "unknown-dv" else PORTAL_ENTITY_ID
    dest = "http://evil.example/sso" if kind == "wrong-destination" else f"{BASE}/saml/sso"
    url = redirect_url(f"{BASE}/saml/sso", signed_request(issuer=issuer, destination=dest), portal_keypair(),
                       relay_state=data.draw(st.text(max_size=20)))
    query = url.split("?", 1)[1]
    if kind == "flip":
        i = data.draw(st.integers(0, 10_000)) % len(query)  # the query's length varies (IDs, times)
        query = query[:i] + data.draw(st.sampled_from("A%=&+/x0")) + query[i + 1:]
    elif kind == "no-signature":
        query = query.split("&SigAlg=")[0]
    sane(client.get("/saml/sso?" + query), where=f"GET /saml/sso ({kind})")
    if kind == "replay":
        sane(client.get("/saml/sso?" + query), where="GET /saml/sso (replayed)")


@FUZZ
@given(xml=xml_text, encode=st.booleans(), content_type=st.sampled_from(
    ["application/x-www-form-urlencoded", "application/json", "text/xml", "multipart/form-data", "text/plain", ""]))
def test_sso_post_with_any_body(client, xml, encode, content_type):
    tried("sso POST")
    if content_type == "application/x-www-form-urlencoded":
        body = "SAMLRequest=" + (quote_plus(b64(xml)) if encode else quote_plus(xml.decode("utf-8", "replace")))
    else:
        body = xml
    sane(client.post("/saml/sso", data=body, content_type=content_type or None), where="POST /saml/sso")


@FUZZ
@given(kind=st.sampled_from(["unsigned", "attacker-signed", "tampered"]))
def test_sso_post_with_wrong_signatures(client, kind):
    from test_broker_bad_input import attacker
    tried("sso POST signatures")
    element = signed_request()
    fields = post_form_fields(element, attacker() if kind == "attacker-signed" else portal_keypair(), "rs")
    if kind == "unsigned":
        fields["SAMLRequest"] = bindings.encode_post(element)
    elif kind == "tampered":
        fields["SAMLRequest"] = b64(base64.b64decode(fields["SAMLRequest"]).replace(b"ForceAuthn", b"forceAuthn"))
    sane(client.post("/saml/sso", data=fields), where=f"POST /saml/sso ({kind})")


def test_xxe_entity_expansion_and_xinclude_never_touch_files_or_network(client, canary):
    for doc in xxe_documents(canary.file, canary.port):
        for send in (lambda: client.get("/saml/sso?SAMLRequest=" + redirect_value(doc)),
                     lambda: client.post("/saml/sso", data={"SAMLRequest": b64(doc)}),
                     lambda: client.post("/saml/artifact", data=doc, content_type="text/xml"),
                     lambda: client.post("/saml/slo", data={"SAMLRequest": b64(doc)}),
                     lambda: client.post("/_mock/sps", data=doc, content_type="application/xml")):
            tried("XXE and entities")
            resp = send()
            sane(resp, canary, where="hostile XML")
            assert resp.status_code >= 400
    assert canary.hits == 0


def test_oversized_bodies_and_deflate_bombs_are_refused(client):
    big = b"<x>" + b"a" * (300 * 1024) + b"</x>"
    bomb = bindings.deflate(b"<x>" + b"\x20" * 20_000_000 + b"</x>")  # 20 MB of spaces in ~20 kB
    for path, kw in (("/saml/sso", {"data": {"SAMLRequest": b64(big)}}),
                     ("/saml/artifact", {"data": big, "content_type": "text/xml"}),
                     ("/_mock/next", {"data": b"{" * 300_000, "content_type": "application/json"})):
        tried("oversized")
        resp = client.post(path, **kw)
        sane(resp, where=f"oversized POST {path}")
        assert resp.status_code in (400, 413)
    tried("deflate bomb")
    resp = client.get("/saml/sso?SAMLRequest=" + quote_plus(b64(bomb)))
    sane(resp, where="deflate bomb")
    assert resp.status_code == 400 and "inflates to more than" in reason(resp, resp.get_data(as_text=True))


# --- ArtifactResolve ----------------------------------------------------------------------------------

@FUZZ
@given(body=xml_text, content_type=st.sampled_from(["text/xml", "application/soap+xml", "application/json",
                                                     "text/plain", ""]))
def test_artifact_endpoint_with_any_body(client, body, content_type):
    tried("artifact raw")
    sane(client.post("/saml/artifact", data=body, content_type=content_type or None), where="POST /saml/artifact")


@FUZZ
@given(artifact=st.one_of(st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=80), st.binary(min_size=44, max_size=44).map(b64),
                          st.binary(max_size=60).map(lambda b: b64(b"\x00\x04" + b))),
       signer=st.sampled_from(["portal", "attacker", "none"]), issuer=st.sampled_from([PORTAL_ENTITY_ID, "", "x"]))
def test_artifact_resolve_with_any_artifact_and_signature(client, artifact, signer, issuer):
    from test_broker_bad_input import attacker
    tried("artifact ArtifactResolve")
    key = attacker() if signer == "attacker" else portal_keypair()
    el = build_artifact_resolve(dv=issuer or "none", destination=f"{BASE}/saml/artifact",
                                artifact=artifact, keypair=key)
    if signer == "none":
        el.remove(el.find(ns.q("ds", "Signature")))
    if issuer == "":
        el.find(ns.q("saml", "Issuer")).text = ""
    resp = client.post("/saml/artifact", data=tostring(bindings.soap_envelope(el)), content_type="text/xml")
    sane(resp, where="ArtifactResolve")


# --- SLO, control API, login page -------------------------------------------------------------------

@FUZZ
@given(xml=xml_text, method=st.sampled_from(["GET", "POST"]), signed=st.booleans())
def test_slo_with_any_request(client, xml, method, signed):
    tried("slo")
    if signed:
        _, el = build_logout_request(dv=PORTAL_ENTITY_ID, destination=f"{BASE}/saml/slo", name_id=new_id())
        if method == "GET":
            resp = client.get("/saml/slo?" + redirect_url(f"{BASE}/saml/slo", el, portal_keypair(), None).split("?")[1])
        else:
            _, el = build_logout_request(dv=PORTAL_ENTITY_ID, destination=f"{BASE}/saml/slo", name_id=new_id(),
                                         keypair=portal_keypair())
            resp = client.post("/saml/slo", data={"SAMLRequest": b64(tostring(el)) + xml.decode("latin-1")[:3]})
    elif method == "GET":
        resp = client.get("/saml/slo?SAMLRequest=" + redirect_value(xml))
    else:
        resp = client.post("/saml/slo", data={"SAMLRequest": b64(xml)})
    sane(resp, where=f"{method} /saml/slo")


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=15), inner,
                                                                                        max_size=4), max_leaves=12)
answer_keys = st.sampled_from(["person", "organisation", "branch", "identity", "status", "sub", "message", "cancel",
                               "dv", "fault", "kvk", "level", "service"])


@FUZZ
@given(payload=st.one_of(json_values, st.dictionaries(answer_keys, json_values, max_size=4),
                         st.dictionaries(answer_keys, st.sampled_from(
                             ["anna-de-vries", "bakkerij-de-vries", "sig-none", "Responder", True, {"kvk": "1"}]),
                             max_size=4)),
       path=st.sampled_from(["/_mock/next", "/_mock/sps", "/_mock/reset"]))
def test_control_api_with_any_json(client, payload, path):
    tried("control JSON")
    sane(client.post(path, data=json.dumps(payload), content_type="application/json"), where=f"POST {path}")
    client.post("/_mock/reset")


CONTROL_PATHS = ["/_mock/next", "/_mock/sps", "/_mock/reset", "/_mock/world/changes", "/_mock/journal",
                 "/_mock/faults", "/_mock/world", "/_mock/nothing"]
change_keys = st.sampled_from(["change", "person", "level", "organisation", "branch", "represented", "intermediary",
                               "number", "name", "services", "employees", "metadata", "metadata_url", "catalogue",
                               "catalogue_url", "options", "x"])
change_values = st.sampled_from(["set_level", "add_mandate", "add_chain_mandate", "add_branch", "eva-kok",
                                 "bakkerij-de-vries", "EH3", ["edit"], [{"person": "daan-van-dam"}], [{"person": 1}],
                                 "http://127.0.0.1:1/x", "file:///etc/passwd", "/dev/zero", 10 ** 40, -1.5e308])
nested = st.integers(1, 3000).flatmap(lambda n: st.sampled_from(["[" * n + "]" * n, '{"a":' * n + "1" + "}" * n,
                                                                 '{"person": ' + "[" * n + "]" * n + "}"]))


@FUZZ
@given(path=st.sampled_from(CONTROL_PATHS), method=st.sampled_from(["POST", "GET", "PUT"]),
       body=st.one_of(json_values.map(json.dumps), nested,
                      st.dictionaries(change_keys, json_values | change_values, max_size=5).map(json.dumps),
                      st.dictionaries(answer_keys, json_values | change_values, max_size=4).map(json.dumps)))
def test_any_json_to_every_control_endpoint_gets_no_server_error(client, path, method, body):
    """Issue 14: whatever JSON comes, of whatever type or depth, a control endpoint answers 2xx or a 4xx
    that names what was wrong, never a 5xx."""
    tried("control any JSON, every endpoint")
    resp = client.open(path, method=method, data=body.encode(), content_type="application/json")
    sane(resp, where=f"{method} {path}")
    if resp.status_code == 400 and path != "/_mock/nothing":
        assert resp.is_json and resp.json["error"], resp.get_data(as_text=True)[:200]
    client.post("/_mock/reset")


@FUZZ
@given(identity=st.dictionaries(st.sampled_from(sorted(INLINE_FIELDS) + ["x"]), json_values | st.sampled_from(
    ["12345678", "812345678", "EH3", "edit", "000012345678"]), max_size=6),
       options=st.dictionaries(st.sampled_from(["encrypt_assertion", "advice", "data_cipher", "x"]), json_values,
                               max_size=2))
def test_control_api_with_any_inline_identity_and_options(client, identity, options):
    tried("control identity/options")
    sane(client.post("/_mock/next", json={"identity": identity}), where="POST /_mock/next identity")
    sane(client.post("/_mock/sps", json={"metadata": "<x/>", "options": options}), where="POST /_mock/sps options")
    client.post("/_mock/reset")


@FUZZ
@given(path=st.sampled_from(["/_mock/journal", "/_mock/faults", "/_mock/next", "/_mock/world", "/_mock/sps",
                             "/_mock/nothing", "/login", "/saml/metadata", "/"]),
       query=st.dictionaries(st.sampled_from(["since", "family", "p", "x"]), st.text(max_size=30), max_size=3),
       method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
       body=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)),
       content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))
def test_control_and_pages_with_any_method_query_and_body(client, path, query, method, body, content_type):
    tried("control/pages any method")
    resp = client.open(path, method=method, query_string=query, data=body, content_type=content_type)
    sane(resp, where=f"{method} {path}")


@FUZZ
@given(form=st.dictionaries(st.sampled_from(["p", "person", "choice", "branch", "action", "x"]),
                            st.one_of(st.text(max_size=40), st.sampled_from(["anna-de-vries", "cancel", "joris-meijer"])),
                            max_size=5), pending=st.booleans())
def test_login_page_with_any_form(client, form, pending):
    tried("login page")
    if pending:  # a real pending login, so the form reaches the person/choice handling
        resp = client.get("/saml/sso?" + redirect_url(f"{BASE}/saml/sso", signed_request(), portal_keypair(),
                                                       None).split("?")[1])
        if resp.status_code == 302 and "p=" in resp.headers["Location"]:
            form = {**form, "p": resp.headers["Location"].split("p=", 1)[1]}
    sane(client.get("/login", query_string={"p": form.get("p", "")}), where="GET /login")
    sane(client.post("/login", data=form), where="POST /login")


# --- the fault catalogue on any base answer -------------------------------------------------------

FAULTS = [c.id for c in faults.catalogue().values() if c.mutation not in ("resolve_http", "resolve_hang")]
BASES = [{"person": "anna-de-vries"}, {"person": "klaus-mueller"}, {"person": "noah-willems"},
         {"person": "pieter-jansen", "organisation": "garage-mulder"}, {"person": "joris-meijer"},
         {"identity": {"rsin": "812345678"}}, {"identity": {"eidas": "DE/NL/HRB-1"}}, {}]


@FUZZ
@given(fault=st.sampled_from(FAULTS), base=st.sampled_from(BASES), post=st.booleans())
def test_every_fault_on_any_base_answer_is_sent_without_a_server_error(client, fault, base, post):
    """A fault on a base it was not written for (no KvK, a refusal, eIDAS…) still gets an answer, never a 500."""
    tried("faults on any base")
    client.post("/_mock/reset")
    assert client.post("/_mock/next", json={"fault": fault, **base}).status_code == 201
    _, element = build_authn_request(dv=PORTAL_ENTITY_ID, destination=f"{BASE}/saml/sso", service_index=2,
                                     acs_index=1 if post else 0)
    resp = client.get("/saml/sso?" + redirect_url(f"{BASE}/saml/sso", element, portal_keypair(), None).split("?")[1])
    sane(resp, where=f"SSO with fault {fault}")
    if resp.status_code == 302 and "SAMLart=" in resp.headers["Location"]:
        art = requests.utils.unquote(resp.headers["Location"].split("SAMLart=", 1)[1].split("&")[0])
        el = build_artifact_resolve(dv=PORTAL_ENTITY_ID, destination=f"{BASE}/saml/artifact", artifact=art,
                                    keypair=portal_keypair())
        sane(client.post("/saml/artifact", data=tostring(bindings.soap_envelope(el)), content_type="text/xml"),
             where=f"ArtifactResolve with fault {fault}")


# --- over real HTTP -----------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, kw", [
    ("post", "/saml/sso", {"data": b"\xff\xfe" * 10, "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("post", "/saml/sso", {"data": {"SAMLRequest": "!!!"}}),
    ("post", "/saml/artifact", {"data": b"<x/>" * 100_000, "headers": {"Content-Type": "text/xml"}}),
    ("post", "/saml/artifact", {"data": b"{}", "headers": {"Content-Type": "application/json"}}),
    ("get", "/saml/slo?SAMLRequest=%ZZ", {}),
    ("post", "/_mock/next", {"data": b"not json", "headers": {"Content-Type": "application/json"}}),
    ("get", "/login?p=" + "x" * 5000, {}),
])
def test_hostile_input_over_real_http(broker_url, method, path, kw):
    tried("real HTTP")
    resp = getattr(requests, method)(broker_url + path, timeout=10, allow_redirects=False, **kw)
    sane(resp, where=f"{method.upper()} {path} over HTTP")
    assert 400 <= resp.status_code < 500


def test_xxe_over_real_http(broker_url, canary):
    for doc in xxe_documents(canary.file, canary.port):
        tried("real HTTP")
        resp = requests.post(f"{broker_url}/saml/sso", data={"SAMLRequest": b64(doc)}, timeout=10)
        sane(resp, canary, where="XXE over HTTP")
        assert resp.status_code == 400
        assert b"<!DOCTYPE" not in doc or "DOCTYPE" in reason(resp, resp.text), reason(resp, resp.text)


def test_concurrent_resolves_of_one_artifact_exactly_one_wins(broker_url):
    dv = TestDV(broker_url)
    queue(broker_url, person="anna-de-vries", organisation="bakkerij-de-vries")
    _, resp = dv.request(service_index=2)
    artifact = resp.headers["Location"].split("SAMLart=", 1)[1].split("&")[0]
    artifact = requests.utils.unquote(artifact)
    barrier, results = threading.Barrier(8), []

    def resolve():
        with requests.Session() as session:
            barrier.wait()
            resolve_id, ar = resolve_artifact(session, dv.hm.artifact_resolution[0].location, artifact,
                                              dv.keypair, dv.entity_id, timeout=10)
        results.append(validate_artifact_response(ar, hm=dv.hm, artifact_resolve_id=resolve_id).ok)

    threads = [threading.Thread(target=resolve) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    tried("concurrent resolves", 8)
    assert len(results) == 8 and results.count(True) == 1, results
