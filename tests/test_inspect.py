"""`harness inspect`: real captures of the mock broker and the example portal, in every encoding a support
desk gets, with and without the DV key and the broker metadata → decoded fields, DV checks, FAQ case + advice."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote_plus, urlencode

import pytest
import requests

from urllib.parse import urljoin

from ehsaml.bindings import deflate, soap_envelope
from ehsaml.dv.client import artifact_resolution_url, build_artifact_resolve
from ehsaml import testkeys
from ehsaml.keys import load_keypair
from ehsaml.metadata import parse_entity
from ehsaml.xml import tostring
from harness.browser import Browser, Hop, _saml_params
from harness.desk.capture import CaptureError, read_capture
from harness.cli import main as harness_main
from harness.desk.inspect import inspect_bytes, load_context
from harness.servers import start_pair

ROOT = Path(__file__).resolve().parents[1]
KEY, CERT = str(testkeys.key_file("portal")), str(testkeys.cert_file("portal"))
DV = "urn:etoegang:DV:00000001002003004000:entities:9001"
LOGINS = {  # name: (answer queued at the broker, service, answer binding)
    "eh2plus": ({"person": "henk-kok", "organisation": "bakkerij-de-vries"}, "edit", "post"),
    "cancel": ({"cancel": True}, "edit", "post"),
    "no-mandate": ({"person": "noah-willems", "organisation": "bakkerij-de-vries"}, "view", "artifact"),
    "view": ({"person": "sophie-peters", "organisation": "bakkerij-de-vries"}, "view", "post"),
    "chain": ({"person": "pieter-jansen", "organisation": "bakkerij-de-vries"}, "view", "artifact"),
    "eidas": ({"person": "klaus-mueller", "organisation": "mueller-gmbh"}, "edit", "post"),
    "audience": ({"person": "anna-de-vries", "organisation": "bakkerij-de-vries", "fault": "audience-wrong"}, "edit",
                 "post"),
}


class Login:
    """One real login through the portal: the browser's hops and the broker's journal entries."""

    def __init__(self, hops, journal):
        self.hops, self.journal = hops, journal

    def saml(self, name: str) -> str:
        return next(h.saml[name] for h in self.hops if name in h.saml)

    def request_url(self) -> str:
        return next(h.url for h in self.hops if "SAMLRequest" in h.saml)

    def sent(self, message_type: str) -> str:
        if message_type == "ArtifactResponse":
            return self.artifact_response  # the bytes as sent (the journal pretty-prints its copy)
        return next(e["xml"] for e in self.journal if e.get("event") == "sent" and e.get("message_type") == message_type)

    def har(self, with_artifact_response: bool = True) -> str:
        started = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        entries = []
        for h in self.hops:
            req = {"method": h.method, "url": h.url, "headers": [], "queryString": []}
            if h.method == "POST" and h.saml:
                body = urlencode({k: v if k == "SAMLart" else base64.b64encode(v.encode()).decode()
                                  for k, v in h.saml.items()})
                req["postData"] = {"mimeType": "application/x-www-form-urlencoded", "text": body}
            entries.append({"startedDateTime": started, "request": req,
                            "response": {"status": h.status, "content": {"mimeType": "text/html", "text": ""}}})
            if with_artifact_response and "SAMLart" in h.saml:  # as a DV-side proxy records the back channel
                soap = self.soap
                entries.append({"startedDateTime": started,
                                "request": {"method": "POST", "url": "http://broker/saml/artifact",
                                            "postData": {"mimeType": "text/xml", "text": ""}},
                                "response": {"status": 200, "content": {"mimeType": "text/xml", "text": soap}}})
        return json.dumps({"log": {"version": "1.2", "creator": {"name": "test"}, "entries": entries}}, indent=1)


def artifact_login(start: str, broker: str) -> Login:
    """Browse until the broker sends the SAMLart to the ACS; then resolve it as the DV does (SOAP, DV key) and
    keep the ArtifactResponse exactly as the broker sent it (the portal never gets this artifact)."""
    session, hops, url = requests.Session(), [], start
    while True:
        if "SAMLart" in _saml_params(url, None):  # the browser would go to the ACS now: stop here
            hops.append(Hop("GET", url, 0, _saml_params(url, None)))
            break
        resp = session.get(url, allow_redirects=False, timeout=10)
        hops.append(Hop("GET", url, resp.status_code, _saml_params(url, None)))
        assert resp.status_code in (302, 303), (url, resp.status_code, resp.text[:300])
        url = urljoin(url, resp.headers["Location"])
    artifact = hops[-1].saml["SAMLart"]
    hm = parse_entity(requests.get(broker + "/saml/metadata", timeout=10).content, source="broker metadata")
    target = artifact_resolution_url(hm, artifact)
    body = soap_envelope(build_artifact_resolve(dv=DV, destination=target, artifact=artifact,
                                                keypair=load_keypair(KEY, CERT)))
    answer = requests.post(target, data=tostring(body), headers={"Content-Type": "text/xml"}, timeout=10)
    assert answer.status_code == 200, answer.text[:300]
    login = Login(hops, None)
    xml = answer.content.decode()
    login.artifact_response = xml[xml.index("<samlp:ArtifactResponse"):xml.index("</samlp:ArtifactResponse>") + 25]
    login.soap = xml
    return login


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("inspect")
    servers = start_pair(workdir=folder)
    try:
        b, p = servers.broker_url, servers.portal_url
        (folder / "hm.xml").write_bytes(requests.get(b + "/saml/metadata", timeout=10).content)
        (folder / "catalogue.xml").write_bytes(requests.get(p + "/saml/dienstcatalogus", timeout=10).content)
        logins = {}
        for name, (answer, service, binding) in LOGINS.items():
            seq = requests.get(b + "/_mock/journal", timeout=10).json()["entries"][-1]["seq"]
            requests.post(b + "/_mock/next", json={"dv": DV, **answer}, timeout=10).raise_for_status()
            path = f"/login?service={1 if service == 'view' else 2}&binding={binding}"
            if binding == "artifact":
                login = artifact_login(p + path, b)
            else:
                login = Login(Browser().get(p + path).hops, None)
            login.journal = requests.get(b + "/_mock/journal", params={"since": seq}, timeout=10).json()["entries"]
            logins[name] = login
        yield {"folder": folder, "logins": logins, "broker": b, "portal": p, "hm": str(folder / "hm.xml"),
               "catalogue": str(folder / "catalogue.xml")}
    finally:
        servers.stop()


def inspect(world, text: str | bytes, *, key=True, metadata=True, symptom=None) -> dict:
    ctx = load_context(key=KEY if key else None, cert=CERT if key else None,
                       metadata=world["hm"] if metadata else None, catalogue=world["catalogue"] if metadata else None,
                       symptom=symptom)
    return inspect_bytes(text.encode() if isinstance(text, str) else text, ctx)


def cli(world, capsys, text: str, *args: str, name="capture.txt") -> tuple[int, str, str]:
    path = world["folder"] / name
    path.write_text(text)
    rc = harness_main(["inspect", str(path), *args])
    out, err = capsys.readouterr()
    return rc, out, err


def response_of(report: dict) -> dict:
    m = [m for m in report["messages"] if m["kind"] in ("Response", "ArtifactResponse")][-1]
    return m.get("response") or m


def cases(report: dict) -> list[str]:
    return [f["case"] for f in report["findings"]]


# --- the encodings ------------------------------------------------------------------------------

def encodings(login: Login) -> dict[str, str]:
    xml = login.saml("SAMLResponse")
    b64 = base64.b64encode(xml.encode()).decode()
    return {
        "raw XML": xml,
        "base64": b64,
        "URL-encoded base64": quote_plus(b64),
        "form body": f"SAMLResponse={quote_plus(b64)}&RelayState=abc",
        "deflated": base64.b64encode(deflate(xml.encode())).decode(),
        "HAR": login.har(),
    }


@pytest.mark.parametrize("encoding", ["raw XML", "base64", "URL-encoded base64", "form body", "deflated", "HAR"])
def test_eh2plus_refused_in_every_encoding(world, encoding):
    report = inspect(world, encodings(world["logins"]["eh2plus"])[encoding])
    r = response_of(report)
    assert r["status"] == {"code": "Responder", "sub": "AuthnFailed", "message": r["status"]["message"]}
    assert "EH2+" in r["status"]["message"]
    assert cases(report) == ["loa-eh2plus-refused"]
    f = report["findings"][0]
    assert f["question"] == "Welk niveau?" and "EH3" in f["advice_nl"] and "EH3 is needed" in f["advice_en"]
    if encoding == "HAR":  # the AuthnRequest too: who asked, for which service
        req = report["messages"][0]
        assert req["kind"] == "AuthnRequest" and req["dv"] == DV and req["service_index"] == "2"
        assert req["service"]["name"] == "Bekijk en wijzig gegevens" and req["service"]["min_level"] == "EH3"
        assert "deflated" in req["encoding"]


def test_authn_request_from_the_redirect_url(world, capsys):
    rc, out, _ = cli(world, capsys, world["logins"]["view"].request_url(), "--catalogue", world["catalogue"])
    assert rc == 0
    assert "AuthnRequest" in out and "URL-encoded → base64 → deflated" in out
    assert f"dv: {DV}" in out and "Bekijk gegevens" in out


def test_cancel_is_cancel_at_broker(world, capsys):
    xml = world["logins"]["cancel"].saml("SAMLResponse")
    rc, out, _ = cli(world, capsys, base64.b64encode(xml.encode()).decode(), "--metadata", world["hm"])
    assert rc == 0
    assert "cancel-at-broker" in out and "Inloggegevens vergeten" in out and "eHerkenning leverancier" in out
    report = inspect(world, xml)
    assert cases(report) == ["cancel-at-broker"]


def test_no_mandate_by_artifact_har_and_artifact_response(world, capsys):
    login = world["logins"]["no-mandate"]
    report = inspect(world, login.har())
    kinds = [m["kind"] for m in report["messages"]]
    assert kinds == ["AuthnRequest", "SAMLart", "ArtifactResponse"]
    art = report["messages"][1]
    assert art["broker"].startswith("urn:etoegang:HM:") and art["checks"][0]["result"] == "passed"
    assert cases(report) == ["no-mandate-for-portal", "multi-kvk-one-not-mandated", "colleague-without-mandate"]
    f = report["findings"][0]
    assert "machtigingenbeheerder" in f["advice_nl"] and "Bekijk gegevens" in f["advice_nl"]
    assert "Bekijk en wijzig gegevens" in f["advice_en"] and f["where"] == "supplier"
    # the ArtifactResponse alone, SOAP and bare
    bare = login.sent("ArtifactResponse")
    soap = f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>{bare}</soap:Body></soap:Envelope>'
    for text in (bare, soap):
        rep = inspect(world, text)
        assert rep["messages"][0]["response"]["status"]["sub"] == "RequestUnsupported"
        assert cases(rep)[0] == "no-mandate-for-portal"
    rc, out, _ = cli(world, capsys, soap, "--json")
    assert rc == 0 and json.loads(out)["findings"][0]["case"] == "no-mandate-for-portal"


def test_samlart_alone(world, capsys):
    art = world["logins"]["chain"].saml("SAMLart")
    rc, out, _ = cli(world, capsys, art, "--metadata", world["hm"], "--json")
    m = json.loads(out)["messages"][0]
    assert rc == 0 and m["kind"] == "SAMLart"
    assert m["artifact"]["type"] == "0004" and m["artifact"]["endpoint_index"] >= 0
    assert m["broker"].startswith("urn:etoegang:HM:") and "resolve" in m["note"]
    rc, out, _ = cli(world, capsys, "SAMLart=" + quote_plus(art))  # as a query string, without metadata
    assert rc == 0 and "must resolve it" in out


def test_view_only_login_with_and_without_key(world):
    xml = world["logins"]["view"].saml("SAMLResponse")
    report = inspect(world, xml, symptom="cannot-change")
    a = response_of(report)["assertion"]
    assert a["level"] == "EH3" and a["identity"]["kvk"] == "12345678" and a["identity"]["rsin"] == "812345678"
    assert a["service"]["name"] == "Bekijk gegevens" and len(a["identity"]["pseudonym"]) > 20
    assert all(c["result"] in ("passed", "not checked") for c in response_of(report)["checks"])
    assert report["findings"][0]["case"] == "service-view-readonly" and report["findings"][0]["condition"] is None
    assert "bekijk en wijzig gegevens" in report["findings"][0]["advice_nl"]
    assert "route-b-view-then-upgrade" in cases(report)  # the FAQ's second bullet, for a route-B advisor
    # no symptom: the case that describes the answer, and the others each on the condition of a complaint
    plain = inspect(world, xml)
    assert plain["findings"][0]["case"] == "service-view-readonly" and plain["findings"][0]["kind"] == "meaning"
    conditional = {f["case"]: f["condition"] for f in plain["findings"][1:]}
    assert conditional["kvk-unknown"] == "if the complaint is kvk-not-recognised"  # contact the relatiebeheerder
    assert conditional["route-b-unconfirmed"] == "if the complaint is cannot-select-employer"
    # without the key: identifiers stay encrypted and are said to be
    nokey = inspect(world, xml, key=False)
    ident = response_of(nokey)["assertion"]["identity"]
    assert "kvk" not in ident and "LegalSubjectID" in ident["encrypted"]
    checks = {c["check"]: c["result"] for c in response_of(nokey)["checks"]}
    assert checks["assertion_signature"] == "passed" and checks["identifiers_decrypted"] == "not checked"
    assert any("give the DV's key" in f["finding"] for f in nokey["findings"])
    # without metadata: decoded, not checked
    nometa = inspect(world, xml, metadata=False)
    assert "checks" not in response_of(nometa) and "not checked" in response_of(nometa)["checked_as"]


def test_chain_mandate(world, capsys):
    login = world["logins"]["chain"]
    report = inspect(world, login.sent("ArtifactResponse"))
    ident = response_of(report)["assertion"]["identity"]
    assert ident["kvk"] == "12345678" and ident["intermediary_kvk"] == "34567890"
    assert ident["intermediary_name"] == "Jansen Pensioenadvies B.V."
    assert cases(report) == ["chain-mandate-view", "chain-mandate-unknown-employer"]
    rc, out, _ = cli(world, capsys, login.har(), "--key", KEY, "--cert", CERT, "--metadata", world["hm"],
                     "--symptom", "cannot-change")
    assert rc == 0 and "chain-mandate-view" in out and "intermediary_kvk: 34567890" in out
    assert "check artifact_response_signature: passed" in out


def test_eidas(world):
    report = inspect(world, world["logins"]["eidas"].saml("SAMLResponse"))
    ident = response_of(report)["assertion"]["identity"]
    assert ident["eidas"] == "DE/NL/HRB-123456" and "kvk" not in ident
    assert cases(report) == ["eidas-foreign-company"]
    assert "relatiebeheerder" in report["findings"][0]["advice_nl"]


def test_security_fault_names_the_check_and_rule(world, capsys):
    login = world["logins"]["audience"]
    report = inspect(world, login.har())  # the HAR's AuthnRequest says who the DV is
    f = report["findings"][0]
    assert f["case"] is None and f["check"] == "audience" and "2.5.1.4" in f["rule"]
    failed = [c for c in response_of(report)["checks"] if c["result"] == "FAILED"]
    assert [c["check"] for c in failed] == ["audience"]
    rc, out, _ = cli(world, capsys, login.saml("SAMLResponse"), "--metadata", world["hm"], "--dv", DV)
    assert rc == 0 and "check audience FAILED" in out and "a DV must refuse this answer: check audience failed" in out


# --- garbled input --------------------------------------------------------------------------------

@pytest.mark.parametrize("text, message", [
    ('{\n "log": {\n  "entries": [,]\n }\n}', "line 3 of the HAR: not JSON"),
    ('{"log": {}}', "not a HAR file"),
    ("SAMLResponse=" + base64.b64encode(b"<samlp:Response hello").decode(), "SAMLResponse: base64 decoded, but not XML (byte"),
    ("SAMLResponse=" + base64.b64encode(b"plain words, no xml at all").decode(), "neither XML nor raw-DEFLATE"),
    ("SAMLRequest=abc!def", "SAMLRequest: not base64 (character 4: '!')"),
    ("<html><body>hi</body></html>", "not a SAML protocol message"),
    ("<samlp:Response", "not XML"),
    ("   ", "empty input"),
    ('{"log": {"entries": [{"request": {"method": "GET", "url": "http://x/"}}]}}', "no SAMLRequest, SAMLResponse"),
])
def test_garbled_input_exit_2_with_a_message(world, capsys, text, message):
    rc, out, err = cli(world, capsys, text)
    assert rc == 2, out
    assert message in err and "Traceback" not in err
    with pytest.raises(CaptureError):
        read_capture(text.encode())


def test_missing_file_and_bad_key_exit_2(world, capsys):
    assert harness_main(["inspect", str(world["folder"] / "nope.har")]) == 2
    assert "cannot read" in capsys.readouterr().err
    rc, _, err = cli(world, capsys, "SAMLart=x", "--key", KEY)
    assert rc == 2 and "--cert" in err



@pytest.mark.parametrize("args, message", [
    (["--json"], "not base64"),
    (["--json", "--min-level", "EH5"], "--min-level: 'EH5' is not a level"),
    (["--json", "--symptom", "sad"], "--symptom: 'sad' is not a symptom"),
    (["--json", "--at", "yesterday"], "give a UTC time"),
    (["--json", "--dv-metadata", "/nonexistent/dv.xml"], "cannot read"),
])
def test_json_covers_errors_too(world, capsys, args, message):
    rc, out, err = cli(world, capsys, "SAMLResponse=abc!def", *args)
    assert rc == 2 and message in json.loads(out)["error"] and "Traceback" not in err


def test_a_level_below_the_requirement_is_named_with_its_case_even_without_a_catalogue(world):
    """The broker asserts EH2 (fault level-eh2): the FAQ portal's EH3 is the stated default."""
    requests.post(world["broker"] + "/_mock/next", json={"dv": DV, "fault": "level-eh2"}, timeout=10).raise_for_status()
    xml = next(h.saml["SAMLResponse"] for h in Browser().get(world["portal"] + "/login?service=2&binding=post").hops
               if "SAMLResponse" in h.saml)
    ctx = load_context(key=KEY, cert=CERT, metadata=world["hm"])
    report = inspect_bytes(xml.encode(), ctx)
    assert report["meaning"][0]["required_level"] == "EH3" and report["meaning"][0]["meets_level"] is False
    level = next(f for f in report["findings"] if f.get("check") == "authn_level")
    assert level["case"] == "loa-eh2-refused" and "EH3" in level["advice_nl"]
