"""Reading SAML metadata (DV and HM) and eHerkenning service catalogues into frozen records."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from lxml import etree

from . import ns
from .eherkenning import IDENTIFIER_TYPES, Level
from .errors import MalformedInput, MetadataError
from .keys import Certificate
from .xml import parse_xml


@dataclass(frozen=True)
class Endpoint:
    binding: str
    location: str
    index: int | None = None
    is_default: bool = False


@dataclass(frozen=True)
class RequestedService:
    """One md:AttributeConsumingService: a service of the DV, named by its ServiceID."""

    index: int
    is_default: bool
    name: str
    service_id: str | None
    requested_attributes: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class EntityMetadata:
    entity_id: str
    signing_certs: tuple[Certificate, ...]
    encryption_certs: tuple[Certificate, ...]
    acs: tuple[Endpoint, ...] = ()
    services: tuple[RequestedService, ...] = ()
    sso: tuple[Endpoint, ...] = ()
    artifact_resolution: tuple[Endpoint, ...] = ()
    slo: tuple[Endpoint, ...] = ()
    authn_requests_signed: bool = False
    want_assertions_signed: bool = False
    xml: bytes = field(default=b"", repr=False)

    def acs_by_index(self, index: int) -> Endpoint | None:
        return next((e for e in self.acs if e.index == index), None)

    def acs_by_location(self, location: str, binding: str | None) -> Endpoint | None:
        return next((e for e in self.acs if e.location == location and (binding is None or e.binding == binding)), None)

    def default_acs(self) -> Endpoint | None:
        return next((e for e in self.acs if e.is_default), None) or (
            min(self.acs, key=lambda e: e.index if e.index is not None else 0) if self.acs else None
        )

    def service_by_index(self, index: int) -> RequestedService | None:
        return next((s for s in self.services if s.index == index), None)

    def default_service(self) -> RequestedService | None:
        return next((s for s in self.services if s.is_default), None) or (self.services[0] if self.services else None)


def parse_entity(data: bytes, *, source: str) -> EntityMetadata:
    """Parse one md:EntityDescriptor (SP or IdP role); errors name `source` and the element."""
    try:
        root = parse_xml(data, what=source)
    except MalformedInput as exc:
        raise MetadataError(exc.message, where=source) from None
    if root.tag == ns.q("md", "EntitiesDescriptor"):
        entities = root.findall(ns.q("md", "EntityDescriptor"))
        if len(entities) != 1:
            raise MetadataError(f"{len(entities)} EntityDescriptors; give one per file", where=source)
        root = entities[0]
    if root.tag != ns.q("md", "EntityDescriptor"):
        raise MetadataError(f"root element is {etree.QName(root).localname}, not md:EntityDescriptor", where=source)
    entity_id = root.get("entityID")
    if not entity_id:
        raise MetadataError("md:EntityDescriptor has no entityID", where=source)
    sp = root.find(ns.q("md", "SPSSODescriptor"))
    idp = root.find(ns.q("md", "IDPSSODescriptor"))
    role = sp if sp is not None else idp
    if role is None:
        raise MetadataError("neither an SPSSODescriptor nor an IDPSSODescriptor", where=source)
    signing, encryption = _keys(role, source)
    if not signing:
        raise MetadataError("no signing certificate (md:KeyDescriptor use='signing' or without use)", where=source)
    common = dict(
        entity_id=entity_id,
        signing_certs=tuple(signing),
        encryption_certs=tuple(encryption),
        slo=_endpoints(role, "SingleLogoutService", source),
        artifact_resolution=_endpoints(role, "ArtifactResolutionService", source),
        xml=data,
    )
    if sp is not None:
        acs = _endpoints(sp, "AssertionConsumerService", source)
        if not acs:
            raise MetadataError("SPSSODescriptor lists no AssertionConsumerService", where=source)
        return EntityMetadata(
            acs=acs,
            services=_services(sp, source),
            authn_requests_signed=sp.get("AuthnRequestsSigned") == "true",
            want_assertions_signed=sp.get("WantAssertionsSigned") == "true",
            **common,
        )
    return EntityMetadata(sso=_endpoints(idp, "SingleSignOnService", source), **common)


def _keys(role: etree._Element, source: str) -> tuple[list[Certificate], list[Certificate]]:
    signing, encryption = [], []
    for i, kd in enumerate(role.findall(ns.q("md", "KeyDescriptor")), 1):
        cert_el = kd.find(f"{ns.q('ds', 'KeyInfo')}/{ns.q('ds', 'X509Data')}/{ns.q('ds', 'X509Certificate')}")
        if cert_el is None or not (cert_el.text or "").strip():
            raise MetadataError("KeyDescriptor without ds:X509Certificate", where=f"{source}: KeyDescriptor #{i}")
        cert = Certificate.from_b64(cert_el.text, where=f"{source}: KeyDescriptor #{i}")
        use = kd.get("use")
        if use in (None, "signing"):
            signing.append(cert)
        if use in (None, "encryption"):
            encryption.append(cert)
    return signing, encryption


def _endpoints(role: etree._Element, tag: str, source: str) -> tuple[Endpoint, ...]:
    out = []
    for el in role.findall(ns.q("md", tag)):
        binding, location = el.get("Binding"), el.get("Location")
        if not binding or not location:
            raise MetadataError(f"md:{tag} without Binding or Location", where=source)
        if not _is_web_url(location):
            # A browser is sent to these (auto-post forms, redirects): a javascript: or data: URL would
            # run script in the sender's origin.
            raise MetadataError(f"md:{tag} Location {location[:100]!r} is not an http(s) URL", where=source)
        index = el.get("index")
        try:
            idx = int(index) if index is not None else None
        except ValueError:
            raise MetadataError(f"md:{tag} index {index!r} is not a number", where=source) from None
        out.append(Endpoint(binding, location, idx, el.get("isDefault") == "true"))
    return tuple(out)


def _is_web_url(location: str) -> bool:
    try:
        parts = urlsplit(location)
    except ValueError:  # e.g. an unclosed [IPv6 literal
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and location == location.strip()


def _services(sp: etree._Element, source: str) -> tuple[RequestedService, ...]:
    out = []
    for el in sp.findall(ns.q("md", "AttributeConsumingService")):
        where = f"{source}: AttributeConsumingService index={el.get('index')}"
        try:
            index = int(el.get("index", ""))
        except ValueError:
            raise MetadataError("index missing or not a number", where=where) from None
        name_el = el.find(ns.q("md", "ServiceName"))
        names = tuple(ra.get("Name") for ra in el.findall(ns.q("md", "RequestedAttribute")) if ra.get("Name"))
        service_id = next((n for n in names if n.startswith("urn:etoegang:DV:") and ":services:" in n), None)
        out.append(RequestedService(
            index=index,
            is_default=el.get("isDefault") == "true",
            name=(name_el.text or "").strip() if name_el is not None else f"service {index}",
            service_id=service_id,
            requested_attributes=names,
        ))
    return tuple(out)


# --- service catalogue (dienstcatalogus) --------------------------------------------------------

@dataclass(frozen=True)
class CatalogueService:
    """A ServiceInstance joined with its ServiceDefinition."""

    service_id: str
    instance_uuid: str
    service_uuid: str  # of the ServiceDefinition; what the assertion's ServiceUUID carries (inferred)
    name: str
    min_level: Level
    identifier_types: tuple[str, ...]  # NameQualifier URIs allowed, e.g. KvKnr and RSIN
    restrictions_allowed: tuple[str, ...]
    provider_entity_id: str


def parse_catalogue(data: bytes, *, source: str) -> tuple[CatalogueService, ...]:
    try:
        root = parse_xml(data, what=source)
    except MalformedInput as exc:
        raise MetadataError(exc.message, where=source) from None
    esc = ns.NSMAP["esc"]
    if etree.QName(root).namespace != esc:
        raise MetadataError(f"root element is not in the service-catalog namespace {esc}", where=source)
    services = []
    for provider in root.iter(ns.q("esc", "ServiceProvider")):
        provider_id = (provider.findtext(ns.q("esc", "ServiceProviderID")) or "").strip()
        definitions = {}
        for d in provider.findall(ns.q("esc", "ServiceDefinition")):
            uuid = (d.findtext(ns.q("esc", "ServiceUUID")) or "").strip()
            where = f"{source}: ServiceDefinition {uuid or '(no ServiceUUID)'}"
            loa = (d.findtext(ns.q("saml", "AuthnContextClassRef")) or "").strip()
            try:
                level = Level.parse(loa)
            except ValueError as exc:
                raise MetadataError(str(exc), where=where) from None
            types = tuple(t.text.strip() for t in d.findall(ns.q("esc", "EntityConcernedTypesAllowed")) if t.text)
            unknown = [t for t in types if t not in IDENTIFIER_TYPES.values() and not t.endswith(":Pseudo")]
            if unknown:
                raise MetadataError(f"unknown EntityConcernedTypesAllowed {unknown}", where=where)
            definitions[uuid] = (
                (d.findtext(ns.q("esc", "ServiceName")) or "").strip(),
                level,
                types,
                tuple(r.text.strip() for r in d.findall(ns.q("esc", "ServiceRestrictionsAllowed")) if r.text),
            )
        for inst in provider.findall(ns.q("esc", "ServiceInstance")):
            service_id = (inst.findtext(ns.q("esc", "ServiceID")) or "").strip()
            of = (inst.findtext(ns.q("esc", "InstanceOfService")) or "").strip()
            where = f"{source}: ServiceInstance {service_id or '(no ServiceID)'}"
            if of not in definitions:
                raise MetadataError(f"InstanceOfService {of!r} names no ServiceDefinition in this file", where=where)
            name, level, types, restrictions = definitions[of]
            services.append(CatalogueService(
                service_id=service_id,
                instance_uuid=(inst.findtext(ns.q("esc", "ServiceUUID")) or "").strip(),
                service_uuid=of,
                name=name,
                min_level=level,
                identifier_types=types,
                restrictions_allowed=restrictions,
                provider_entity_id=provider_id,
            ))
    if not services:
        raise MetadataError("no ServiceInstance found", where=source)
    return tuple(services)
