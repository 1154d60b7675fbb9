"""What a DV (service provider) publishes: its SAML metadata and its eHerkenning service catalogue.

Both builders write stable prefixes (md, ds, saml, esc) and sign in-process when given a key.
The metadata is valid against the SAML 2.0 metadata schema; the catalogue round-trips through
`ehsaml.metadata.parse_catalogue`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from lxml import etree

from .. import dsig, ns
from ..eherkenning import ID_KVK, ID_RSIN, Level
from ..keys import Certificate, KeyPair
from ..timeutil import fmt, utcnow
from ..xml import tostring

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
CATALOGUE_VERSION = "urn:etoegang:1.13:53"

# A DV service in its metadata: (AttributeConsumingService index, name, ServiceID, isDefault)
ServiceTuple = tuple[int, str, str, bool]


def _new_id() -> str:
    return "_" + secrets.token_hex(20)


def key_descriptor(cert: Certificate, *, use: str | None = None) -> etree._Element:
    """md:KeyDescriptor with ds:KeyName (hex SHA-256 fingerprint) and the certificate; no `use` serves both."""
    kd = etree.Element(ns.q("md", "KeyDescriptor"), nsmap={"md": ns.MD, "ds": ns.DS})
    if use is not None:
        kd.set("use", use)
    info = etree.SubElement(kd, ns.q("ds", "KeyInfo"))
    etree.SubElement(info, ns.q("ds", "KeyName")).text = cert.key_name
    x509 = etree.SubElement(info, ns.q("ds", "X509Data"))
    etree.SubElement(x509, ns.q("ds", "X509Certificate")).text = cert.b64
    return kd


# --- DV metadata ---------------------------------------------------------------------------------

def build_dv_metadata(
    *,
    entity_id: str,
    keypair: KeyPair,
    acs_url: str,
    acs_bindings: Sequence[str] = (ns.BINDING_ARTIFACT, ns.BINDING_POST),
    services: Iterable[ServiceTuple],
    slo_url: str | None = None,
    sign: bool = True,
    organization: tuple[str, str] | None = None,
) -> bytes:
    """Signed SP metadata as eHerkenning wants it.

    ACS endpoints are indexed 0.. in the order of `acs_bindings`, the Artifact one isDefault (else the
    first). One AttributeConsumingService per service, each requesting its ServiceID; exactly one
    isDefault (the first service when none says so). `organization` is (name, URL), optional.
    """
    services = sorted(services, key=lambda s: s[0])
    if not services:
        raise ValueError("a DV offers at least one service")
    defaults = [s for s in services if s[3]]
    if len(defaults) > 1:
        raise ValueError(f"{len(defaults)} services marked isDefault; at most one may be")
    default_index = defaults[0][0] if defaults else services[0][0]
    if not acs_bindings:
        raise ValueError("at least one AssertionConsumerService binding is needed")

    root = etree.Element(ns.q("md", "EntityDescriptor"), nsmap={"md": ns.MD, "ds": ns.DS}, entityID=entity_id)
    root.set("ID", _new_id())
    sp = etree.SubElement(root, ns.q("md", "SPSSODescriptor"))
    sp.set("protocolSupportEnumeration", PROTOCOL)
    sp.set("AuthnRequestsSigned", "true")
    sp.set("WantAssertionsSigned", "true")
    sp.append(key_descriptor(keypair.certificate))
    if slo_url:
        for binding in (ns.BINDING_REDIRECT, ns.BINDING_POST):
            etree.SubElement(sp, ns.q("md", "SingleLogoutService"), Binding=binding, Location=slo_url)
    default_binding = ns.BINDING_ARTIFACT if ns.BINDING_ARTIFACT in acs_bindings else acs_bindings[0]
    for index, binding in enumerate(acs_bindings):
        acs = etree.SubElement(sp, ns.q("md", "AssertionConsumerService"), Binding=binding, Location=acs_url)
        acs.set("index", str(index))
        if binding == default_binding:
            acs.set("isDefault", "true")
    for index, name, service_id, _ in services:
        acs_el = etree.SubElement(sp, ns.q("md", "AttributeConsumingService"), index=str(index))
        if index == default_index:
            acs_el.set("isDefault", "true")
        etree.SubElement(acs_el, ns.q("md", "ServiceName"), {XML_LANG: "nl"}).text = name
        etree.SubElement(acs_el, ns.q("md", "RequestedAttribute"), Name=service_id, isRequired="false")
    if organization is not None:
        org = etree.SubElement(root, ns.q("md", "Organization"))
        for tag, text in (("OrganizationName", organization[0]), ("OrganizationDisplayName", organization[0]),
                          ("OrganizationURL", organization[1])):
            etree.SubElement(org, ns.q("md", tag), {XML_LANG: "nl"}).text = text
    if sign:
        dsig.sign(root, keypair)
    return tostring(root)


# --- service catalogue (dienstcatalogus) ---------------------------------------------------------

@dataclass(frozen=True)
class CatalogueEntry:
    """One service of the DV: a ServiceDefinition and its one ServiceInstance."""

    service_id: str  # urn:etoegang:DV:<OIN>:services:<index>
    service_uuid: str  # of the ServiceDefinition: what the assertion's ServiceUUID carries
    instance_uuid: str  # of the ServiceInstance
    name: str
    min_level: Level
    service_url: str
    privacy_policy_url: str
    description: str = ""
    # Sets of identifier types (NameQualifier URIs) the DV accepts; each set gets its own setNumber.
    identifier_sets: tuple[tuple[str, ...], ...] = ((ID_KVK, ID_RSIN),)
    restrictions_allowed: tuple[str, ...] = ()  # e.g. eherkenning.ATTR_BRANCH
    requested_attributes: tuple[tuple[str, str], ...] = ()  # (attribute Name, PurposeStatement)


def _esc(parent: etree._Element, local: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, ns.q("esc", local), **attrs)
    if text is not None:
        el.text = text
    return el


def _nl(parent: etree._Element, local: str, text: str) -> etree._Element:
    el = _esc(parent, local, text)
    el.set(XML_LANG, "nl")
    return el


def _definition(provider: etree._Element, entry: CatalogueEntry, broker_oin: str) -> None:
    d = _esc(provider, "ServiceDefinition")
    d.set(ns.q("esc", "IsPublic"), "true")
    _esc(d, "ServiceUUID", entry.service_uuid)
    _nl(d, "ServiceName", entry.name)
    _nl(d, "ServiceDescription", entry.description or entry.name)
    etree.SubElement(d, ns.q("saml", "AuthnContextClassRef")).text = entry.min_level.value
    _esc(d, "HerkenningsmakelaarId", broker_oin)
    for set_number, id_types in enumerate(entry.identifier_sets, 1):
        for id_type in id_types:
            _esc(d, "EntityConcernedTypesAllowed", id_type, setNumber=str(set_number))
    for restriction in entry.restrictions_allowed:
        _esc(d, "ServiceRestrictionsAllowed", restriction)
    for name, purpose in entry.requested_attributes:
        ra = _esc(d, "RequestedAttribute", Name=name, isRequired="true")
        _nl(ra, "PurposeStatement", purpose)


def _instance(provider: etree._Element, entry: CatalogueEntry, broker_oin: str, cert: Certificate) -> None:
    inst = _esc(provider, "ServiceInstance")
    inst.set(ns.q("esc", "IsPublic"), "true")
    _esc(inst, "ServiceID", entry.service_id)
    _esc(inst, "ServiceUUID", entry.instance_uuid)
    _esc(inst, "InstanceOfService", entry.service_uuid)
    _nl(inst, "ServiceURL", entry.service_url)
    _nl(inst, "PrivacyPolicyURL", entry.privacy_policy_url)
    _esc(inst, "HerkenningsmakelaarId", broker_oin)
    _esc(inst, "SSOSupport", "false")
    _esc(inst, "ServiceCertificate").append(key_descriptor(cert, use="encryption"))


def build_catalogue(
    *,
    provider_entity_id: str,
    provider_name: str,
    broker_oin: str,
    services: Iterable[CatalogueEntry],
    encryption_cert: Certificate,
    sign_with: KeyPair | None = None,
) -> bytes:
    """A service catalogue (namespace urn:etoegang:1.13:service-catalog) for one DV.

    ServiceProviderID carries `provider_entity_id` (what parse_catalogue reads back as the
    provider); signed with `sign_with` when given.
    """
    entries = list(services)
    if not entries:
        raise ValueError("a service catalogue lists at least one service")
    nsmap = {"esc": ns.ESC, "saml": ns.SAML, "md": ns.MD, "ds": ns.DS}
    root = etree.Element(ns.q("esc", "ServiceCatalogue"), nsmap=nsmap)
    root.set("ID", _new_id())
    root.set(ns.q("esc", "IssueInstant"), fmt(utcnow()))
    root.set(ns.q("esc", "Version"), CATALOGUE_VERSION)
    provider = _esc(root, "ServiceProvider")
    provider.set(ns.q("esc", "IsPublic"), "true")
    _esc(provider, "ServiceProviderID", provider_entity_id)
    _nl(provider, "OrganizationDisplayName", provider_name)
    for entry in entries:
        _definition(provider, entry, broker_oin)
    for entry in entries:
        _instance(provider, entry, broker_oin, encryption_cert)
    if sign_with is not None:
        dsig.sign(root, sign_with)
    return tostring(root)
