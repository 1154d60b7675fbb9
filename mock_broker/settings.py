"""The broker's settings: frozen, with safe defaults (loopback only, test keys named as such)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from ehsaml import testkeys
from ehsaml.eherkenning import Level
from ehsaml.testids import AD_ENTITY_ID, BROKER_ENTITY_ID, MR_ENTITY_ID
from ehsaml.xml import MAX_XML_BYTES

from .store import JOURNAL_LIMIT, JOURNAL_MAX_BYTES

# The example world ships inside the package (importlib.resources), so an installed wheel finds it too.
DEFAULT_WORLD = Path(str(files("mock_broker") / "data" / "world.yaml"))
_SERVICE_ID = re.compile(r"^urn:etoegang:DV:[0-9]{20}:services:[0-9]+$")


@dataclass(frozen=True)
class BrokerSettings:
    base_url: str = "http://127.0.0.1:8480"
    entity_id: str = BROKER_ENTITY_ID
    ad_entity_id: str = AD_ENTITY_ID
    mr_entity_id: str = MR_ENTITY_ID
    key_file: Path = testkeys.key_file("broker")
    cert_file: Path = testkeys.cert_file("broker")
    world_file: Path = DEFAULT_WORLD
    sp_metadata: tuple[str, ...] = ()  # files or http(s) URLs of DV metadata
    catalogues: tuple[str, ...] = ()  # files or URLs of service catalogues
    metadata_dir: Path | None = None  # a folder of *.xml files: DV metadata and catalogues loaded at start
    control_api: bool = True
    artifact_ttl_seconds: int = 120
    pending_ttl_seconds: int = 900
    assertion_lifetime_seconds: int = 300
    artifact_endpoint_index: int = 0
    # Used when neither a service catalogue nor a RequestedAuthnContext names a level (inferred).
    default_min_level: Level = Level.EH3
    max_body_bytes: int = 256 * 1024
    journal_limit: int = JOURNAL_LIMIT  # entries kept in the journal, oldest dropped first
    journal_max_bytes: int = JOURNAL_MAX_BYTES  # and at most this much JSON in all
    # Other URLs the broker is reached at (a proxy, a name in /etc/hosts): their host names pass the Host
    # check and their origins the same-origin check, beside the base URL's, loopback literals and localhost.
    public_urls: tuple[str, ...] = ()
    # Where DV metadata and catalogues may be fetched from beside loopback and the hosts of URLs named
    # on the command line (mock_broker/fetch.py); fetch_any_host: anywhere (--allow-remote).
    fetch_hosts: tuple[str, ...] = ()
    fetch_any_host: bool = False
    fetch_max_bytes: int = MAX_XML_BYTES
    fetch_timeout_seconds: float = 10.0  # for the whole fetch, redirects included
    # Signs the CSRF tokens of /beheer and the login page; None: a fresh random one per start. Several
    # workers need the same one (`mock-broker serve --workers` makes one for them).
    csrf_secret: str | None = None
    # "memory" (one process) or a redis:// URL: state shared by several workers or machines
    store_url: str = "memory"

    @property
    def sso_url(self) -> str:
        return f"{self.base_url}/saml/sso"

    @property
    def artifact_url(self) -> str:
        return f"{self.base_url}/saml/artifact"

    @property
    def slo_url(self) -> str:
        return f"{self.base_url}/saml/slo"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/saml/metadata"


@dataclass(frozen=True)
class DvOptions:
    """Per-DV switches for what the answer looks like."""

    encrypt_identifiers: bool = True  # LegalSubjectID/ActingSubjectID as EncryptedID (scheme default)
    encrypt_assertion: bool = False  # whole assertion as EncryptedAssertion
    sign_response: bool = True  # Response signature (the assertion is always signed)
    advice: bool = False  # AD and MR assertions in saml:Advice (OneLogin-based DVs refuse them)
    data_cipher: str = "aes256-cbc"  # or aes256-gcm
    # The catalogue of a plain SAML SP whose metadata names no eHerkenning ServiceID: [{"name", "level",
    # "index", "service_id"}, ...], checked and completed by `service_options` (plain data: it is JSON-able)
    services: tuple[dict, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "services", tuple(dict(s) for s in self.services))

    @classmethod
    def from_json(cls, data: dict | None) -> "DvOptions":
        data = dict(data or {})
        allowed = set(cls.__dataclass_fields__)
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)}; known: {sorted(allowed)}")
        for name, value in data.items():
            if name == "data_cipher":
                if value not in ("aes256-cbc", "aes256-gcm"):
                    raise ValueError("option 'data_cipher' must be 'aes256-cbc' or 'aes256-gcm'")
            elif name == "services":
                data[name] = service_options(value)
            elif not isinstance(value, bool):
                raise ValueError(f"option {name!r} must be true or false")
        return cls(**data)


SERVICE_OPTION_FIELDS = ("name", "level", "index", "service_id")


def service_options(value) -> tuple[dict, ...]:
    """options.services of a plain SAML SP: a non-empty list of {name, level (default EH3), index (default its
    place, from 1), service_id (optional)}; ValueError naming the entry and field."""
    if not isinstance(value, list) or not value:
        raise ValueError('services: give a list of {"name": ..., "level": "EH3"} (the services of an SP whose '
                         "metadata names no eHerkenning ServiceID)")
    out, indexes = [], set()
    for i, entry in enumerate(value):
        where = f"services[{i}]"
        if not isinstance(entry, dict):
            raise ValueError(f'{where}: give {{"name": ..., "level": ...}}, not a {type(entry).__name__}')
        extra = sorted(set(entry) - set(SERVICE_OPTION_FIELDS))
        if extra:
            raise ValueError(f"{where}.{extra[0]}: unknown field (fields: {', '.join(SERVICE_OPTION_FIELDS)})")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}.name: give the service's name (a non-empty string)")
        try:
            level = Level.parse(str(entry.get("level", "EH3")))
        except ValueError:
            raise ValueError(f"{where}.level: {entry.get('level')!r} is not a level (EH2, EH2+, EH3 or EH4)") from None
        index = entry.get("index", i + 1)
        if not isinstance(index, int) or isinstance(index, bool) or index < 0 or index in indexes:
            raise ValueError(f"{where}.index: give a number not used by another service, not {index!r}")
        indexes.add(index)
        service_id = entry.get("service_id")
        if service_id is not None and not (isinstance(service_id, str) and _SERVICE_ID.match(service_id)):
            raise ValueError(f"{where}.service_id: {service_id!r} is not a ServiceID (urn:etoegang:DV:<OIN>:services:<n>)")
        out.append({"name": name.strip(), "level": level.label, "index": index, "service_id": service_id})
    return tuple(out)


