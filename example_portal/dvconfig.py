"""The portal's DV configuration in one place: entity ID, services, metadata and service catalogue.

Importable without an app: every builder takes the portal's base URL. tests/testdv.py and the
harness use these functions, so the broker sees exactly what the portal serves.
"""

from __future__ import annotations

from dataclasses import dataclass

from ehsaml import ns, testkeys
from ehsaml.dv.metadata import CatalogueEntry, build_catalogue, build_dv_metadata
from ehsaml.eherkenning import ATTR_BRANCH, ID_EIDAS, ID_KVK, ID_RSIN, Level
from ehsaml.keys import KeyPair, load_keypair
from ehsaml.testids import BROKER_OIN, PORTAL_ENTITY_ID, PORTAL_SERVICE_EDIT, PORTAL_SERVICE_VIEW


ENTITY_ID = PORTAL_ENTITY_ID
PROVIDER_NAME = "Voorbeeld Pensioenfonds (TEST)"
MIN_LEVEL = Level.EH3
# Identifier sets: a Dutch company by KvK number and/or RSIN, or a foreign one by its eIDAS identifier
# (so that a foreign company reaches the portal and is refused by rule P4 with a clear page).
IDENTIFIER_SETS = ((ID_KVK, ID_RSIN), (ID_EIDAS,))

# ACS endpoints in metadata order: the index is what an AuthnRequest names.
ACS_BINDINGS = (ns.BINDING_ARTIFACT, ns.BINDING_POST)
ACS_INDEX = {ns.BINDING_ARTIFACT: 0, ns.BINDING_POST: 1}


@dataclass(frozen=True)
class PortalService:
    index: int  # AttributeConsumingServiceIndex
    name: str
    service_id: str
    service_uuid: str  # ServiceDefinition UUID: what the assertion's ServiceUUID carries
    instance_uuid: str  # ServiceInstance UUID
    rights: str  # "view" or "edit"
    is_default: bool = False


VIEW = PortalService(1, "Bekijk gegevens", PORTAL_SERVICE_VIEW, "5b1f3c2e-8a47-4d6b-9c1e-0a2b3c4d5e01",
                     "5b1f3c2e-8a47-4d6b-9c1e-0a2b3c4d5e11", "view", is_default=True)
EDIT = PortalService(2, "Bekijk en wijzig gegevens", PORTAL_SERVICE_EDIT, "5b1f3c2e-8a47-4d6b-9c1e-0a2b3c4d5e02",
                     "5b1f3c2e-8a47-4d6b-9c1e-0a2b3c4d5e12", "edit")


def services() -> tuple[PortalService, ...]:
    return (VIEW, EDIT)


def service_by_index(index: int) -> PortalService | None:
    return next((s for s in services() if s.index == index), None)


def service_by_id(service_id: str | None) -> PortalService | None:
    return next((s for s in services() if s.service_id == service_id), None)


def portal_keypair(key_file=None, cert_file=None) -> KeyPair:
    return load_keypair(str(key_file or testkeys.key_file("portal")), str(cert_file or testkeys.cert_file("portal")))


def _base(base_url: str) -> str:
    return base_url.rstrip("/")


def acs_url(base_url: str) -> str:
    return f"{_base(base_url)}/saml/acs"


def slo_url(base_url: str) -> str:
    return f"{_base(base_url)}/saml/slo"


def metadata_xml(base_url: str, *, keypair: KeyPair | None = None) -> bytes:
    """Signed DV metadata: ACS <base>/saml/acs (Artifact, the default, and POST), SLO <base>/saml/slo."""
    return build_dv_metadata(
        entity_id=ENTITY_ID, keypair=keypair or portal_keypair(), acs_url=acs_url(base_url),
        acs_bindings=ACS_BINDINGS, slo_url=slo_url(base_url),
        services=[(s.index, s.name, s.service_id, s.is_default) for s in services()],
        organization=(PROVIDER_NAME, f"{_base(base_url)}/"),
    )


def catalogue_entries(base_url: str) -> list[CatalogueEntry]:
    base = _base(base_url)
    return [CatalogueEntry(
        service_id=s.service_id, service_uuid=s.service_uuid, instance_uuid=s.instance_uuid, name=s.name,
        min_level=MIN_LEVEL, service_url=f"{base}/", privacy_policy_url=f"{base}/privacy",
        description=f"{s.name} in het werkgeversportaal (TEST)", identifier_sets=IDENTIFIER_SETS,
        restrictions_allowed=(ATTR_BRANCH,),
    ) for s in services()]


def catalogue_xml(base_url: str, *, keypair: KeyPair | None = None) -> bytes:
    """The signed service catalogue (dienstcatalogus): two services, minimum EH3."""
    keypair = keypair or portal_keypair()
    return build_catalogue(provider_entity_id=ENTITY_ID, provider_name=PROVIDER_NAME, broker_oin=BROKER_OIN,
                           services=catalogue_entries(base_url), encryption_cert=keypair.certificate,
                           sign_with=keypair)
