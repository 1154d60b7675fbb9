"""The example portal and the real mock broker, each on a free loopback port over real HTTP, registered
with each other; a requests.Session plays the browser. Fixtures for tests/test_portal*.py."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from html import unescape

import pytest
import requests

from brokerserver import ServedApp, serve_broker
from example_portal import PortalSettings, create_app
from example_portal.settings import Binding


@dataclass
class PortalPair:
    broker: ServedApp
    portal: ServedApp

    @property
    def broker_url(self) -> str:
        return self.broker.base_url

    @property
    def url(self) -> str:
        return self.portal.base_url

    def stop(self) -> None:
        self.portal.stop()
        self.broker.stop()

    # --- control of both sides ---------------------------------------------------------------------
    def reset(self) -> None:
        requests.post(f"{self.broker_url}/_mock/reset", timeout=5).raise_for_status()
        r = requests.post(f"{self.url}/_test/reset", json={"seed": "default"}, timeout=5)
        assert r.status_code == 200, r.text

    def queue(self, **answer) -> None:
        r = requests.post(f"{self.broker_url}/_mock/next", json=answer, timeout=5)
        assert r.status_code == 201, r.text

    def seed(self, body: dict) -> requests.Response:
        return requests.post(f"{self.url}/_test/seed", json=body, timeout=5)

    def audit(self) -> list[dict]:
        return requests.get(f"{self.url}/_test/audit", timeout=5).json()["entries"]

    def outbox(self) -> list[dict]:
        return requests.get(f"{self.url}/_test/outbox", timeout=5).json()["messages"]

    def state(self) -> dict:
        return requests.get(f"{self.url}/_test/state", timeout=5).json()

    def journal(self) -> list[dict]:
        return requests.get(f"{self.broker_url}/_mock/journal", timeout=5).json()["entries"]

    # --- the browser ---------------------------------------------------------------------------------
    def browser(self) -> requests.Session:
        return requests.Session()

    def login(self, browser: requests.Session, service: int = 2, **answer) -> requests.Response:
        """Queue the broker's answer, then follow portal → broker → portal as a browser does (auto-post forms too)."""
        if answer:
            self.queue(**answer)
        resp = browser.get(f"{self.url}/login", params={"service": service}, timeout=15)
        return submit_auto_post(browser, resp)

    def csrf(self, browser: requests.Session) -> str:
        """The session's CSRF token, as a page of the portal carries it (every page has it in a meta tag)."""
        resp = browser.get(f"{self.url}/", timeout=5)
        return re.search(r'<meta name="csrf-token" content="([^"]+)"', resp.text).group(1)

    def post_form(self, browser: requests.Session, url: str, data: dict | None = None) -> requests.Response:
        """POST a form as the portal's page would: with the session's CSRF token."""
        return browser.post(url, data={**(data or {}), "csrf_token": self.csrf(browser)}, timeout=5)

    def whoami(self, browser: requests.Session) -> dict:
        return browser.get(f"{self.url}/whoami", timeout=5).json()


def submit_auto_post(browser: requests.Session, resp: requests.Response) -> requests.Response:
    """Submit an auto-posting SAML form (HTTP-POST binding) as a browser with JavaScript would."""
    while resp.status_code == 200 and 'name="SAMLResponse"' in resp.text:
        action = unescape(re.search(r'<form method="post" action="([^"]+)"', resp.text).group(1))
        fields = {unescape(n): unescape(v) for n, v in
                  re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', resp.text)}
        resp = browser.post(action, data=fields, timeout=15)
    return resp


def serve_pair(tmp_dir, binding: Binding = Binding.ARTIFACT, **overrides) -> PortalPair:
    broker = serve_broker()

    def make(base_url):
        settings = PortalSettings(base_url=base_url, db_path=tmp_dir / "portal.sqlite3", testing=True,
                                  broker_metadata=f"{broker.base_url}/saml/metadata", binding=binding,
                                  secret_key="TEST-ONLY portal session key")
        return create_app(replace(settings, **overrides))

    portal = ServedApp(make)
    r = requests.post(f"{broker.base_url}/_mock/sps", timeout=10, json={
        "metadata_url": f"{portal.base_url}/saml/metadata", "catalogue_url": f"{portal.base_url}/saml/dienstcatalogus"})
    assert r.status_code == 201, r.text
    return PortalPair(broker, portal)


@pytest.fixture(scope="session")
def portal_pair(tmp_path_factory):
    pair = serve_pair(tmp_path_factory.mktemp("portal"))
    yield pair
    pair.stop()


@pytest.fixture
def pp(portal_pair) -> PortalPair:
    """The broker and the portal, both reset; the portal holds the default seed (example_portal/seed.json)."""
    portal_pair.reset()
    return portal_pair


@pytest.fixture
def browser(pp) -> requests.Session:
    with requests.Session() as s:
        yield s


# --- assertions the portal tests share ---------------------------------------------------------------

def reason_code(resp: requests.Response) -> str | None:
    m = re.search(r'id="reason-code">([^<]+)<', resp.text)
    return m.group(1) if m else None


def assert_refused(pp: PortalPair, browser: requests.Session, resp: requests.Response, code: str, *,
                   logged_in: bool = False) -> dict:
    """A refusal page (4xx, never 5xx) with the reason code; /whoami names it as the last refusal."""
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:500])
    assert reason_code(resp) == code, resp.text[:2000]
    who = pp.whoami(browser)
    assert who["last_refusal"]["code"] == code
    assert who["logged_in"] is logged_in
    return who


class WritesNothing:
    """`with WritesNothing(pp): ...` — the business tables are unchanged and exactly one audit entry (a refusal) is added."""

    def __init__(self, pp: PortalPair, code: str | None = None):
        self.pp, self.code = pp, code

    def __enter__(self):
        self.digest = self.pp.state()["digest"]
        self.audit_len = len(self.pp.audit())
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            return False
        assert self.pp.state()["digest"] == self.digest, "a refusal changed the portal's data"
        new = self.pp.audit()[self.audit_len:]
        assert len(new) == 1 and new[0]["outcome"] == "refused", new
        if self.code:
            assert new[0]["reason_code"] == self.code, new
        self.entry = new[0]
        return False
