"""`DvPolicy`: who the DV is and what its checks accept, in one frozen object with safe defaults.

The example portal, `harness inspect` and the tests' DV each build one and hand it to
`ehsaml.dv.login`; nothing else configures the checks. Per message the caller gives only what
changes per message: the broker's metadata, the outstanding requests, the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..eherkenning import Level
from ..keys import KeyPair
from .checks import CHECK_NAMES


@dataclass(frozen=True)
class DvPolicy:
    """The checks' configuration. Collections are frozensets (give any iterable; they are frozen on creation).

    `own_service_ids` / `own_service_uuids` None: not checked (only `harness inspect` without a catalogue).
    `service_uuid_of`: each own ServiceID's ServiceUUID (from the catalogue): the answer's pair must be one of them.
    `branch_service_ids`: the services whose catalogue entry allows a Vestigingsnr (None: not checked).
    `ignore_checks`: named checks a deliberately weakened test DV lets pass; never set in a real DV.
    `collect_all`: after a failed check, run every check that can still run and read all that can be read
    (a DV refuses at the first failure; a tool that reports every finding sets this).
    """

    dv_entity_id: str
    acs_url: str
    keypair: KeyPair  # the DV's decryption key (EncryptedID, EncryptedAssertion)
    min_level: Level | None = Level.EH3
    own_service_ids: frozenset[str] | None = None
    own_service_uuids: frozenset[str] | None = None
    service_uuid_of: Mapping[str, str] | None = None
    branch_service_ids: frozenset[str] | None = None
    skew_seconds: float = 60
    max_age_seconds: float = 600  # how old an IssueInstant may be
    allow_rsin_only: bool = False  # a LegalSubjectID of an RSIN alone (a catalogue that accepts RSIN alone)
    allow_encrypted_assertion: bool = True  # an EncryptedAssertion directly in the Response (never elsewhere)
    require_artifact_signature: bool = True  # the ArtifactResponse must be signed
    ignore_checks: frozenset[str] = field(default_factory=frozenset)
    collect_all: bool = False

    def __post_init__(self):
        for name in ("own_service_ids", "own_service_uuids", "branch_service_ids", "ignore_checks"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, frozenset):
                object.__setattr__(self, name, frozenset(_iterable(value, name)))
        if self.service_uuid_of is not None and not isinstance(self.service_uuid_of, MappingProxyType):
            object.__setattr__(self, "service_uuid_of", MappingProxyType(dict(self.service_uuid_of)))
        if self.skew_seconds < 0 or self.max_age_seconds <= 0:
            raise ValueError("skew_seconds must be >= 0 and max_age_seconds > 0")
        unknown = sorted(self.ignore_checks - CHECK_NAMES)
        if unknown:
            raise ValueError(f"ignore_checks: no DV check named {unknown}")  # a misspelt name switches nothing off


def _iterable(value, name: str) -> Iterable[str]:
    if isinstance(value, str):
        raise TypeError(f"{name}: give a collection of strings, not one string")
    return value
