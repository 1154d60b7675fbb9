"""The portal's settings: frozen, with safe defaults (loopback, test keys named as such, EH3)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

from ehsaml import testkeys
from ehsaml.eherkenning import Level

PACKAGE = Path(__file__).resolve().parent
DEFAULT_SEED = PACKAGE / "seed.json"


class Binding(enum.Enum):
    """How the portal asks the broker to deliver the answer to its ACS."""

    ARTIFACT = "artifact"
    POST = "post"


class Defect(enum.Enum):
    """Deliberate faults, only for testing the tools that test portals (`--defect NAME`); never on by default."""

    VIEW_GRANTS_CHANGE = "view-grants-change"  # "Bekijk gegevens" gets change rights: breaks rule P3
    IGNORE_AUDIENCE = "ignore-audience"  # the SAML checks below are switched off
    IGNORE_ASSERTION_SIGNATURE = "ignore-assertion-signature"
    IGNORE_TIME = "ignore-time"
    IGNORE_LEVEL = "ignore-level"
    IGNORE_SERVICE = "ignore-service"  # any own ServiceID, not only the one asked for
    IGNORE_NAME_ID = "ignore-name-id"
    IGNORE_ASSERTION_ELEMENT = "ignore-assertion-element"  # Version, ID, IssueInstant of the assertion
    IGNORE_SINGLE_ASSERTION = "ignore-single-assertion"  # reads the first assertion, whatever else is there
    IGNORE_DESTINATION = "ignore-destination"  # the Response's Destination: believes another DV's error answer
    LENIENT_XML = "lenient-xml"  # lxml's own parser flags only: no DOCTYPE refusal on the parsed document, no limits
    STALE_KVK_CACHE = "stale-kvk-cache"  # known KvK numbers read once, never again: a contract fix never helps
    REFUSE_ALL = "refuse-all"  # every answer refused as failing its signature: passes every hostile case, no control
    LEVEL_PAGE = "level-page"  # any failed check of an answer that names a level gets the 'EH3 nodig' page

    @property
    def ignored_check(self) -> str | None:
        """The name of the ehsaml check this defect switches off, if it is one of those."""
        return {"ignore-audience": "audience", "ignore-assertion-signature": "assertion_signature",
                "ignore-time": "conditions_time", "ignore-level": "authn_level", "ignore-service": "service_id",
                "ignore-name-id": "subject_name_id", "ignore-assertion-element": "assertion_element",
                "ignore-single-assertion": "single_assertion",
                "ignore-destination": "response_destination"}.get(self.value)


@dataclass(frozen=True)
class PortalSettings:
    base_url: str = "http://127.0.0.1:8481"
    db_path: Path = Path("var") / "example-portal.sqlite3"  # relative to the working directory
    broker_metadata: str = "http://127.0.0.1:8480/saml/metadata"  # file or http(s) URL, fetched at first login
    key_file: Path = testkeys.key_file("portal")
    cert_file: Path = testkeys.cert_file("portal")
    binding: Binding = Binding.ARTIFACT
    testing: bool = False  # /_test/ endpoints (seed, outbox, audit, reset)
    seed_file: Path | None = DEFAULT_SEED  # loaded when the database holds no contracts; None: never
    min_level: Level = Level.EH3
    skew_seconds: int = 60
    request_ttl_seconds: int = 600  # how long an AuthnRequest ID stays usable
    artifact_timeout_seconds: float = 5
    grant_link_days: int = 7  # how long a route-B confirmation link is valid
    secret_key: str | None = None  # Flask session key; None: a fresh random one per start
    defects: frozenset[Defect] = frozenset()

    @property
    def acs_url(self) -> str:
        return f"{self.base_url}/saml/acs"

    @property
    def slo_url(self) -> str:
        return f"{self.base_url}/saml/slo"


