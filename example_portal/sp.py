"""The portal's SAML side as a careful DV: broker metadata (fetched lazily, cached), outstanding
AuthnRequest IDs (in memory, with expiry, single use), the login redirect and the ACS checks."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from lxml import etree

from ehsaml import bindings, ns
from ehsaml.dv.checks import check_artifact_source
from ehsaml.dv.client import ArtifactResolutionFailed, artifact_resolution_url, build_authn_request, \
    build_logout_request, redirect_url, resolve_artifact
from ehsaml.errors import SamlError
from ehsaml.keys import KeyPair
from ehsaml.dv.login import LoginResult, validate_artifact_login, validate_response
from ehsaml.dv.policy import DvPolicy
from ehsaml.eherkenning import ATTR_BRANCH
from ehsaml.metadata import EntityMetadata, parse_entity
from ehsaml.net import loopback_session

from . import dvconfig
from .refusals import Refused
from .settings import Binding, Defect, PortalSettings

MAX_METADATA_BYTES = 1_000_000


class PendingRequests:
    """Outstanding AuthnRequest IDs with the ServiceID each asked for: each usable once, until it expires.
    Thread-safe, in memory."""

    def __init__(self, ttl_seconds: int):
        self.ttl = ttl_seconds
        self._ids: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def add(self, request_id: str, service_id: str) -> None:
        with self._lock:
            self._purge()
            self._ids[request_id] = (time.monotonic() + self.ttl, service_id)

    def outstanding(self) -> dict[str, str]:
        """request ID → the ServiceID its AttributeConsumingServiceIndex named."""
        with self._lock:
            self._purge()
            return {rid: service_id for rid, (_, service_id) in self._ids.items()}

    def take(self, request_id: str | None) -> bool:
        """Use the ID: True the first time (and only while it is valid), False after."""
        with self._lock:
            self._purge()
            return request_id is not None and self._ids.pop(request_id, None) is not None

    def clear(self) -> None:
        with self._lock:
            self._ids.clear()

    def _purge(self) -> None:
        now = time.monotonic()
        for rid in [r for r, (exp, _) in self._ids.items() if exp <= now]:
            del self._ids[rid]


@dataclass
class ServiceProvider:
    settings: PortalSettings
    keypair: KeyPair

    def __post_init__(self):
        self.pending = PendingRequests(self.settings.request_ttl_seconds)
        self.http = loopback_session()
        self._hm: EntityMetadata | None = None
        self._lock = threading.Lock()
        self.policy = portal_policy(self.settings, self.keypair)

    # --- the broker's metadata --------------------------------------------------------------------
    def broker(self) -> EntityMetadata:
        """The broker's metadata, read at first use and cached; Refused(broker_unreachable) if it cannot be read."""
        with self._lock:
            if self._hm is None:
                self._hm = self._load_broker()
            return self._hm

    def _load_broker(self) -> EntityMetadata:
        source = self.settings.broker_metadata
        try:
            if source.startswith(("http://", "https://")):
                resp = self.http.get(source, timeout=5)
                resp.raise_for_status()
                raw = resp.content
            else:
                raw = Path(source).read_bytes()
            if len(raw) > MAX_METADATA_BYTES:
                raise SamlError(f"{len(raw)} bytes is too large", where=source)
            hm = parse_entity(raw, source=source)
        except (requests.RequestException, OSError, SamlError) as exc:
            raise Refused("broker_unreachable", "login", detail=f"{source}: {exc}") from None
        if not hm.sso:
            raise Refused("broker_unreachable", "login", detail=f"{source}: no SingleSignOnService")
        return hm

    # --- sending ------------------------------------------------------------------------------------
    def login_redirect(self, service: dvconfig.PortalService, answer_binding: Binding | None = None) -> tuple[str, str]:
        """(request ID, the broker URL with a signed AuthnRequest by HTTP-Redirect)."""
        hm = self.broker()
        sso = next((e for e in hm.sso if e.binding == ns.BINDING_REDIRECT), hm.sso[0])
        chosen = answer_binding or self.settings.binding
        binding = ns.BINDING_ARTIFACT if chosen is Binding.ARTIFACT else ns.BINDING_POST
        request_id, element = build_authn_request(
            dv=dvconfig.ENTITY_ID, destination=sso.location, acs_index=dvconfig.ACS_INDEX[binding],
            service_index=service.index)
        self.pending.add(request_id, service.service_id)
        return request_id, redirect_url(sso.location, element, self.keypair, relay_state=None)

    def logout_redirect(self, login: dict) -> str | None:
        """The broker's SLO URL with a signed LogoutRequest for this login, or None when there is none to send to."""
        try:
            hm = self.broker()
        except Refused:
            return None
        slo = next((e for e in hm.slo if e.binding == ns.BINDING_REDIRECT), None)
        if slo is None or not login.get("name_id"):
            return None
        _, element = build_logout_request(dv=dvconfig.ENTITY_ID, destination=slo.location, name_id=login["name_id"],
                                          name_qualifier=login.get("name_id_qualifier"),
                                          session_index=login.get("session_index"))
        return redirect_url(slo.location, element, self.keypair, relay_state=None)

    # --- receiving ----------------------------------------------------------------------------------
    def receive(self, *, artifact: str | None, saml_response: str | None, browser_ids: set[str]) -> LoginResult:
        """Check what arrived at the ACS; Refused for anything that is not a login the rules may look at."""
        hm = self.broker()
        outstanding = {rid: sid for rid, sid in self.pending.outstanding().items() if rid in browser_ids}
        if artifact:
            result = self._by_artifact(hm, artifact, outstanding)
        elif saml_response:
            try:
                element = self._read(saml_response)
            except SamlError as exc:
                raise _security("message_readable", str(exc)) from None
            result = validate_response(element, self.policy, hm=hm, outstanding=outstanding)
        else:
            raise _security("message_present", "the ACS received neither SAMLart nor SAMLResponse")
        irt_ok = any(c.check == "response_in_response_to" and c.passed for c in result.checks)
        if irt_ok and not self.pending.take(result.in_response_to):
            raise _security("response_in_response_to", f"request {result.in_response_to} was answered already")
        return result

    def _read(self, saml_response: str):
        if Defect.LENIENT_XML not in self.settings.defects:
            return bindings.decode_post(saml_response, what="SAMLResponse")
        lenient = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)  # the defect: no more
        try:
            return etree.fromstring(bindings.b64decode(saml_response, what="SAMLResponse"), parser=lenient)
        except etree.XMLSyntaxError as exc:
            raise SamlError(f"not well-formed XML ({exc.msg})", where="SAMLResponse") from None

    def _by_artifact(self, hm: EntityMetadata, artifact: str, outstanding: dict[str, str]) -> LoginResult:
        source = check_artifact_source(artifact, hm)
        if not source.passed:
            raise _security(source.check, source.explain())
        try:
            url = artifact_resolution_url(hm, artifact)
            resolve_id, answer = resolve_artifact(self.http, url, artifact, self.keypair, dvconfig.ENTITY_ID,
                                                  timeout=self.settings.artifact_timeout_seconds)
        except ArtifactResolutionFailed as exc:
            raise _security("artifact_resolution", str(exc)) from None
        except SamlError as exc:
            raise _security("artifact_resolution", str(exc)) from None
        return validate_artifact_login(answer, self.policy, hm=hm, artifact_resolve_id=resolve_id,
                                       outstanding=outstanding)


def portal_policy(settings: PortalSettings, keypair: KeyPair) -> DvPolicy:
    """The portal's DV checks: its own entity ID, ACS, services and catalogue rules; a --defect switches one off."""
    entries = dvconfig.catalogue_entries(settings.base_url)
    return DvPolicy(
        dv_entity_id=dvconfig.ENTITY_ID, acs_url=settings.acs_url, keypair=keypair, min_level=settings.min_level,
        own_service_ids={s.service_id for s in dvconfig.services()},
        own_service_uuids={s.service_uuid for s in dvconfig.services()},
        service_uuid_of={s.service_id: s.service_uuid for s in dvconfig.services()},
        branch_service_ids={e.service_id for e in entries if ATTR_BRANCH in e.restrictions_allowed},
        skew_seconds=settings.skew_seconds, require_artifact_signature=True,
        ignore_checks={d.ignored_check for d in settings.defects if d.ignored_check})


def _security(check: str, detail: str) -> Refused:
    return Refused("security_check_failed", "login", {"check": check}, detail=detail)
