"""A DV (service provider) for the broker's tests: speaks to the broker over real HTTP as a portal would.

It plays the example portal's DV (entity ID, services, TEST-ONLY keys) but serves no pages: the
browser's part is a requests.Session that stops at the redirect or form the broker answers with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from urllib.parse import parse_qs, urlparse

import requests
from lxml import etree

from ehsaml import bindings, ns
from ehsaml.dv.client import build_authn_request, post_form_fields, redirect_url, resolve_artifact
from ehsaml.dv.metadata import build_dv_metadata
from ehsaml.eherkenning import ATTR_BRANCH, Level
from ehsaml.checks import Check
from ehsaml.dv.checks import check_artifact_source
from ehsaml.errors import SamlError
from ehsaml.dv.login import LoginResult, validate_artifact_login, validate_response
from ehsaml.dv.policy import DvPolicy
from ehsaml.metadata import parse_entity
from ehsaml.testids import PORTAL_ENTITY_ID, PORTAL_SERVICE_EDIT, PORTAL_SERVICE_VIEW
from ehsaml.xml import parse_xml
from example_portal import dvconfig

PORTAL_BASE = "http://127.0.0.1:8481"  # never served in the broker's tests: the ACS hop is read, not followed
ACS_URL = dvconfig.acs_url(PORTAL_BASE)
VIEW_UUID, EDIT_UUID = dvconfig.VIEW.service_uuid, dvconfig.EDIT.service_uuid
# The services whose catalogue entry allows a Vestigingsnr (ServiceRestrictionsAllowed)
BRANCH_SERVICE_IDS = frozenset(e.service_id for e in dvconfig.catalogue_entries(PORTAL_BASE)
                               if ATTR_BRANCH in e.restrictions_allowed)


def portal_keypair():
    return dvconfig.portal_keypair()


def dv_metadata(entity_id: str = PORTAL_ENTITY_ID, keypair=None) -> bytes:
    """The example portal's metadata, or the same services under another entity ID and key."""
    if entity_id == PORTAL_ENTITY_ID and keypair is None:
        return dvconfig.metadata_xml(PORTAL_BASE)
    services = [(s.index, s.name, s.service_id, s.is_default) for s in dvconfig.services()]
    return build_dv_metadata(entity_id=entity_id, keypair=keypair or portal_keypair(), acs_url=ACS_URL,
                             services=services, slo_url=dvconfig.slo_url(PORTAL_BASE))


def dv_catalogue() -> bytes:
    return dvconfig.catalogue_xml(PORTAL_BASE)


@dataclass
class Answer:
    """What came back to the ACS: by artifact or by POST, and the checked result."""

    binding: str
    http: requests.Response
    result: LoginResult | None = None
    artifact: str | None = None
    relay_state: str | None = None
    login_page: str | None = None  # URL of the login page when no answer was queued


@dataclass
class TestDV:
    broker_url: str
    entity_id: str = PORTAL_ENTITY_ID
    session: requests.Session = field(default_factory=requests.Session)
    sent: dict = field(default_factory=dict)  # request ID → the ServiceID it asked for (None: not ours)
    artifact_timeout: float = 5  # seconds a resolve may take before the DV gives up
    weakened: frozenset = frozenset()  # DV checks this test DV lets pass (DvPolicy.ignore_checks)

    __test__ = False  # not a pytest class

    def __post_init__(self):
        self.keypair = portal_keypair()
        self.hm = parse_entity(requests.get(f"{self.broker_url}/saml/metadata", timeout=5).content,
                               source="broker metadata")
        self.sso_url = self.hm.sso[0].location

    # --- sending -----------------------------------------------------------------------------------
    def request(self, *, binding: str = "redirect", relay_state: str | None = "state-1", **kwargs):
        request_id, element = build_authn_request(dv=self.entity_id, destination=self.sso_url, **kwargs)
        self.sent_request(request_id, kwargs.get("service_index"))
        if binding == "redirect":
            resp = self.session.get(redirect_url(self.sso_url, element, self.keypair, relay_state),
                                    allow_redirects=False, timeout=10)
        else:
            resp = self.session.post(self.sso_url, data=post_form_fields(element, self.keypair, relay_state),
                                     allow_redirects=False, timeout=10)
        return request_id, resp

    def sent_request(self, request_id: str, service_index: int | None) -> None:
        """Remember a request sent, with the service its index names (no index: the default service)."""
        service = dvconfig.VIEW if service_index is None else dvconfig.service_by_index(service_index)
        self.sent[request_id] = service.service_id if service else None

    def login(self, *, binding: str = "redirect", min_level: Level | None = Level.EH3, **kwargs) -> Answer:
        _, resp = self.request(binding=binding, **kwargs)
        return self.receive(resp, min_level=min_level)

    # --- receiving ---------------------------------------------------------------------------------
    def receive(self, resp: requests.Response, *, min_level: Level | None = Level.EH3) -> Answer:
        if resp.status_code == 302:
            location = resp.headers["Location"]
            query = parse_qs(urlparse(location).query)
            if "SAMLart" not in query:
                return Answer(binding="login-page", http=resp, login_page=location)
            artifact = query["SAMLart"][0]
            source = check_artifact_source(artifact, self.hm)  # a careful DV resolves only its HM's artifacts
            result = (self.resolve(artifact, min_level=min_level) if source.passed
                      else LoginResult(ok=False, status=(None, None, None), checks=(source,), failure=source))
            return Answer(binding=ns.BINDING_ARTIFACT, http=resp, artifact=artifact,
                          relay_state=query.get("RelayState", [None])[0], result=self._used(result))
        if resp.status_code == 200 and 'name="SAMLResponse"' in resp.text:
            fields = form_fields(resp.text)
            try:
                element = self._read_post(fields["SAMLResponse"])
            except SamlError as exc:
                return Answer(binding=ns.BINDING_POST, http=resp, result=_refused("message_readable", exc))
            result = validate_response(element, self.policy(min_level), hm=self.hm, outstanding=self.sent)
            return Answer(binding=ns.BINDING_POST, http=resp, result=self._used(result),
                          relay_state=fields.get("RelayState"))
        raise AssertionError(f"unexpected broker answer HTTP {resp.status_code}: {resp.text[:300]}")

    def _used(self, result: LoginResult) -> LoginResult:
        """A request is answered once: its ID is no longer expected (as the example portal does)."""
        if any(c.check == "response_in_response_to" and c.passed for c in result.checks):
            self.sent.pop(result.in_response_to, None)
        return result

    def resolve(self, artifact: str, *, min_level: Level | None = Level.EH3, **kwargs) -> LoginResult:
        """Resolve over SOAP and check; a network error, timeout, HTTP error or SOAP fault is a refusal
        named `artifact_resolution` (as the example portal names it)."""
        kwargs.setdefault("timeout", self.artifact_timeout)
        try:
            resolve_id, ar = resolve_artifact(self.session, self.hm.artifact_resolution[0].location, artifact,
                                              self.keypair, self.entity_id, **kwargs)
        except SamlError as exc:  # no answer, or one no DV may read (DOCTYPE, floods): as the example portal names it
            return _refused("artifact_resolution", exc)
        return validate_artifact_login(ar, self.policy(min_level), hm=self.hm, artifact_resolve_id=resolve_id,
                                       outstanding=self.sent)

    def _read_post(self, value: str):
        """The SAMLResponse as the DV reads it; a DV weakened in message_readable has lxml's own flags only
        (no DOCTYPE refusal on the parsed document, no limits): what the tests show the catalogue catches."""
        if "message_readable" not in self.weakened:
            return bindings.decode_post(value, what="SAMLResponse")
        lenient = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_pis=True)
        return etree.fromstring(bindings.b64decode(value, what="SAMLResponse"), parser=lenient)

    def policy(self, min_level: Level | None = Level.EH3, **changes) -> DvPolicy:
        """The example portal's checks (its services, catalogue rules, signed ArtifactResponse), as this DV."""
        return DvPolicy(dv_entity_id=self.entity_id, acs_url=ACS_URL, keypair=self.keypair, min_level=min_level,
                        own_service_ids={PORTAL_SERVICE_VIEW, PORTAL_SERVICE_EDIT},
                        own_service_uuids={VIEW_UUID, EDIT_UUID},
                        service_uuid_of={PORTAL_SERVICE_VIEW: VIEW_UUID, PORTAL_SERVICE_EDIT: EDIT_UUID},
                        branch_service_ids=BRANCH_SERVICE_IDS,
                        require_artifact_signature=True, ignore_checks=self.weakened, **changes)


def _refused(check: str, exc: Exception) -> LoginResult:
    expected = {"message_readable": "a readable message (base64, XML without DOCTYPE, within the limits)",
                "artifact_resolution": "an ArtifactResponse within the timeout"}[check]
    failed = Check(check, False, str(exc), expected, "SAMLBind 3.5.4 / 3.6.5: no readable answer, no login")
    return LoginResult(ok=False, status=(None, None, None), checks=(failed,), failure=failed)


def form_fields(html_text: str) -> dict[str, str]:
    return {unescape(n): unescape(v) for n, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                                                            html_text)}


def form_action(html_text: str) -> str:
    return unescape(re.search(r'<form method="post" action="([^"]+)"', html_text).group(1))


def parse(xml: str):
    return parse_xml(xml.encode(), what="test")
