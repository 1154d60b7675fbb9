"""Reading and checking an AuthnRequest as a broker does, into a pending login."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta

from lxml import etree

from ehsaml import ns, timeutil
from ehsaml.eherkenning import Level
from ehsaml.errors import SamlError

from .errors import BrokerRefusal, SamlRefusal
from .inbound import Inbound
from .registry import RegisteredDV
from .settings import BrokerSettings

MAX_CLOCK_SKEW = timedelta(minutes=5)
ANSWER_BINDINGS = (ns.BINDING_ARTIFACT, ns.BINDING_POST)


@dataclass(frozen=True)
class PendingLogin:
    token: str
    dv: str
    request_id: str
    acs_url: str
    binding: str
    relay_state: str | None
    service_index: int
    service_id: str
    service_name: str
    required_level: str  # Level name
    requested_level: str | None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "PendingLogin":
        return cls(**data)

    @classmethod
    def refused(cls, received: "Inbound", acs_url: str, binding: str) -> "PendingLogin":
        """Where to send a SAML error for a request that failed its checks."""
        return cls(token="", dv=received.dv.entity_id, request_id=received.element.get("ID") or "", acs_url=acs_url,
                   binding=binding, relay_state=received.relay_state, service_index=-1, service_id="",
                   service_name="", required_level=Level.EH3.name, requested_level=None)

    @property
    def level(self) -> Level:
        return Level[self.required_level]


def check_destination(received: Inbound, settings: BrokerSettings) -> None:
    """The AuthnRequest must be meant for this broker. A failure gets an error page."""
    destination = received.element.get("Destination")
    if destination != settings.sso_url:
        raise BrokerRefusal(
            f"Destination {destination!r} is not this broker's SSO URL {settings.sso_url!r}",
            where="AuthnRequest/@Destination", dv=received.dv.entity_id,
        )


def find_acs(root: etree._Element, dv: RegisteredDV) -> tuple[str, str]:
    """The ACS URL and answer binding. Failures here get an error page: there is nowhere safe to answer."""
    meta = dv.metadata
    index = root.get("AssertionConsumerServiceIndex")
    url = root.get("AssertionConsumerServiceURL")
    binding = root.get("ProtocolBinding")
    if index is not None and url is not None:
        raise BrokerRefusal("both AssertionConsumerServiceIndex and AssertionConsumerServiceURL given",
                            where="AuthnRequest", dv=dv.entity_id)
    if index is not None:
        try:
            endpoint = meta.acs_by_index(int(index))
        except ValueError:
            endpoint = None
        if endpoint is None:
            raise BrokerRefusal(f"AssertionConsumerServiceIndex {index!r} is not in the DV's metadata",
                                where="AuthnRequest/@AssertionConsumerServiceIndex", dv=dv.entity_id)
    elif url is not None:
        endpoint = meta.acs_by_location(url, None)
        if endpoint is None:
            raise BrokerRefusal(f"AssertionConsumerServiceURL {url!r} is not an ACS in the DV's metadata",
                                where="AuthnRequest/@AssertionConsumerServiceURL", dv=dv.entity_id)
        if binding and not meta.acs_by_location(url, binding):
            raise BrokerRefusal(f"the DV's metadata lists {url!r} without binding {binding!r}",
                                where="AuthnRequest/@ProtocolBinding", dv=dv.entity_id)
    else:
        endpoint = meta.default_acs()
    answer_binding = binding or endpoint.binding
    if answer_binding not in ANSWER_BINDINGS:
        raise BrokerRefusal(f"ProtocolBinding {answer_binding!r} is not offered; use HTTP-Artifact or HTTP-POST",
                            where="AuthnRequest/@ProtocolBinding", dv=dv.entity_id)
    return endpoint.location, answer_binding


def check_request(received: Inbound, *, acs_url: str, binding: str, settings: BrokerSettings,
                  replayed: bool) -> PendingLogin:
    """The checks whose failure is answered to the DV's ACS with a SAML error status."""
    root, dv = received.element, received.dv
    request_id = root.get("ID")
    if not request_id:
        raise SamlRefusal("the AuthnRequest has no ID", top=ns.STATUS_REQUESTER)
    if replayed:
        raise SamlRefusal(f"AuthnRequest ID {request_id!r} was already used (replayed request)")
    try:
        issued = timeutil.parse(root.get("IssueInstant"), where="AuthnRequest/@IssueInstant")
    except SamlError as exc:
        raise SamlRefusal(str(exc)) from None
    if abs(timeutil.utcnow() - issued) > MAX_CLOCK_SKEW:
        raise SamlRefusal(f"IssueInstant {root.get('IssueInstant')} is more than 5 minutes off the broker's clock")
    index_text = root.get("AttributeConsumingServiceIndex")
    try:
        index = int(index_text) if index_text is not None else None
    except ValueError:
        index = -1
    service = dv.service_by_index(index)
    if service is None:
        raise SamlRefusal(f"AttributeConsumingServiceIndex {index_text!r} names no service of this DV")
    requested = _requested_level(root)
    floor = service.min_level or (None if requested else settings.default_min_level)
    required = max((lv for lv in (floor, requested) if lv is not None), key=lambda lv: lv.rank)
    return PendingLogin(
        token=secrets.token_urlsafe(16),
        dv=dv.entity_id,
        request_id=request_id,
        acs_url=acs_url,
        binding=binding,
        relay_state=received.relay_state,
        service_index=service.index,
        service_id=service.service_id,
        service_name=service.name,
        required_level=required.name,
        requested_level=requested.name if requested else None,
    )


def _requested_level(root: etree._Element) -> Level | None:
    rac = root.find(ns.q("samlp", "RequestedAuthnContext"))
    if rac is None:
        return None
    comparison = rac.get("Comparison", "exact")
    if comparison not in ("minimum", "exact"):
        raise SamlRefusal(f"RequestedAuthnContext Comparison {comparison!r} is not supported; use minimum")
    refs = [r.text.strip() for r in rac.findall(ns.q("saml", "AuthnContextClassRef")) if r.text]
    if not refs:
        raise SamlRefusal("RequestedAuthnContext without AuthnContextClassRef")
    levels = []
    for ref in refs:
        try:
            levels.append(Level.parse(ref))
        except ValueError:
            raise SamlRefusal(f"AuthnContextClassRef {ref!r} is not an eHerkenning level") from None
    return min(levels, key=lambda lv: lv.rank)
