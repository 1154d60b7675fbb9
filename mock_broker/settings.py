"""The broker's settings: frozen, with safe defaults (loopback only, test keys named as such)."""

from __future__ import annotations

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

    @classmethod
    def from_json(cls, data: dict | None) -> "DvOptions":
        data = data or {}
        allowed = set(cls.__dataclass_fields__)
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)}; known: {sorted(allowed)}")
        for name, value in data.items():
            if name == "data_cipher":
                if value not in ("aes256-cbc", "aes256-gcm"):
                    raise ValueError("option 'data_cipher' must be 'aes256-cbc' or 'aes256-gcm'")
            elif not isinstance(value, bool):
                raise ValueError(f"option {name!r} must be true or false")
        return cls(**data)


