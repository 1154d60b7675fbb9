"""The DVs (service providers) the broker knows: from metadata files or URLs, catalogues, or the control API."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ehsaml.eherkenning import ATTR_BRANCH, ID_KVK, ID_RSIN, Level
from ehsaml.errors import MetadataError
from ehsaml.metadata import CatalogueService, EntityMetadata, parse_catalogue, parse_entity
from ehsaml.ns import ESC

from .fetch import FetchPolicy, fetch_url, is_url, read_file
from .requestscope import first_time
from .settings import DvOptions

if TYPE_CHECKING:
    from .store import Store

@dataclass(frozen=True)
class Service:
    """A service of a DV, as the broker sees it: from the metadata, enriched by the catalogue."""

    index: int
    name: str
    service_id: str
    is_default: bool
    service_uuid: str | None = None
    min_level: Level | None = None
    identifier_types: tuple[str, ...] = (ID_KVK, ID_RSIN)  # without a catalogue: both (inferred)
    branch_allowed: bool = False


@dataclass(frozen=True, eq=False)
class RegisteredDV:
    metadata: EntityMetadata
    services: tuple[Service, ...]
    options: DvOptions = field(default_factory=DvOptions)
    source: str = ""

    @property
    def entity_id(self) -> str:
        return self.metadata.entity_id

    def service_by_index(self, index: int | None) -> Service | None:
        if index is None:
            return next((s for s in self.services if s.is_default), self.services[0] if self.services else None)
        return next((s for s in self.services if s.index == index), None)

    def service_by_id(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.service_id == service_id), None)


def read_source(source: str, policy: FetchPolicy) -> bytes:
    """Bytes of a file named on the command line or of an http(s) URL (mock_broker/fetch.py); errors name the source."""
    return fetch_url(source, policy) if is_url(source) else read_file(source, policy)


def is_catalogue(data: bytes) -> bool:
    return ESC.encode() in data[:2000]


_DV_OIN = re.compile(r"^urn:etoegang:DV:(\d{20}):entities:")
_HOW_PLAIN = ('register it with options.services, e.g. {"options": {"services": [{"name": "My portal", '
              '"level": "EH3"}]}}, and the broker treats it as a DV with that catalogue')


def plain_service_id(entity_id: str, index: int) -> str:
    """The ServiceID the broker gives service `index` of a plain SAML SP: urn:etoegang:DV:<OIN>:services:<index>,
    with the entity ID's own OIN when it is an eHerkenning one, else 20 digits derived from it (SHA-256)."""
    m = _DV_OIN.match(entity_id)
    oin = m.group(1) if m else f"{int(hashlib.sha256(entity_id.encode()).hexdigest(), 16) % 10**20:020d}"
    return f"urn:etoegang:DV:{oin}:services:{index}"


def _plain_services(metadata: EntityMetadata, options: DvOptions, source: str) -> list[Service]:
    named = [s for s in metadata.services if s.service_id]
    if named:
        raise MetadataError(f"the metadata names ServiceIDs ({', '.join(s.service_id for s in named)}): leave "
                            "options.services out (it is for metadata that names none)", where=source)
    return [Service(index=o["index"], name=o["name"], service_id=o["service_id"] or plain_service_id(
                        metadata.entity_id, o["index"]), is_default=i == 0, min_level=Level.parse(o["level"]))
            for i, o in enumerate(options.services)]


def build_dv(metadata: EntityMetadata, catalogue: tuple[CatalogueService, ...], options: DvOptions, source: str) -> RegisteredDV:
    if options.services:
        return RegisteredDV(metadata=metadata, services=tuple(_plain_services(metadata, options, source)),
                            options=options, source=source)
    by_id = {c.service_id: c for c in catalogue}
    services = []
    for s in metadata.services:
        if not s.service_id:
            raise MetadataError(
                f"AttributeConsumingService index={s.index} has no RequestedAttribute naming a ServiceID "
                f"(urn:etoegang:DV:<OIN>:services:<n>): add one to the metadata, or {_HOW_PLAIN}",
                where=source,
            )
        c = by_id.get(s.service_id)
        services.append(Service(
            index=s.index,
            name=c.name if c else s.name,
            service_id=s.service_id,
            is_default=s.is_default,
            service_uuid=c.service_uuid if c else None,
            min_level=c.min_level if c else None,
            identifier_types=tuple(t for t in c.identifier_types if not t.endswith(":Pseudo")) if c else (ID_KVK, ID_RSIN),
            branch_allowed=bool(c and ATTR_BRANCH in c.restrictions_allowed),
        ))
    if not services:
        raise MetadataError(f"the DV metadata lists no AttributeConsumingService (no services): add one naming "
                            f"its ServiceID, or {_HOW_PLAIN}", where=source)
    return RegisteredDV(metadata=metadata, services=tuple(services), options=options, source=source)


class Registry:
    """Entity ID → RegisteredDV. Sources that could not be fetched at start are tried again on demand."""

    def __init__(self, shared: "Store | None" = None, policy: FetchPolicy | None = None):
        self.policy = policy or FetchPolicy()
        self._lock = threading.Lock()
        self._dvs: dict[str, RegisteredDV] = {}
        self._catalogue: dict[str, CatalogueService] = {}
        self._deferred: list[str] = []
        self.errors: list[str] = []
        # With a shared store, registrations made at run time (POST /_mock/sps) are recorded there and
        # replayed, in order, by every worker before it looks a DV up: several workers, one broker.
        self._shared = shared
        self._sync_lock = threading.RLock()
        self._synced = 0
        self._applied: set[str] = set()

    def load(self, sources: list[str], *, defer_unreachable: bool = True) -> None:
        metadata_sources = []
        for source in sources:
            try:
                data = read_source(source, self.policy)
            except MetadataError as exc:
                if defer_unreachable and is_url(source):
                    self._deferred.append(source)
                    self.errors.append(str(exc))
                    continue
                raise
            if is_catalogue(data):
                self.add_catalogue(data, source)
            else:
                metadata_sources.append((source, data))
        for source, data in metadata_sources:
            self._register(data, source=source)  # every worker loads its start-up sources itself

    def add_catalogue(self, data: bytes, source: str) -> tuple[CatalogueService, ...]:
        services = parse_catalogue(data, source=source)
        with self._lock:
            for s in services:
                self._catalogue[s.service_id] = s
            # re-enrich DVs registered before their catalogue arrived
            for eid, dv in list(self._dvs.items()):
                self._dvs[eid] = build_dv(dv.metadata, tuple(self._catalogue.values()), dv.options, dv.source)
        return services

    def register(self, data: bytes, *, source: str, catalogue: bytes | None = None,
                 options: DvOptions | None = None) -> RegisteredDV:
        """Register a DV at run time; with a shared store every worker gets it too."""
        if self._shared is None:
            return self._register(data, source=source, catalogue=catalogue, options=options)
        with self._sync_lock:
            self._sync()
            dv = self._register(data, source=source, catalogue=catalogue, options=options)
            record_id = uuid.uuid4().hex
            self._applied.add(record_id)
            self._shared.add_registration({
                "id": record_id, "source": source, "options": dict(dv.options.__dict__),
                "metadata": base64.b64encode(data).decode("ascii"),
                "catalogue": base64.b64encode(catalogue).decode("ascii") if catalogue is not None else None,
            })
        return dv

    def _sync(self) -> None:
        """Apply the registrations other workers recorded in the shared store since the last look."""
        if self._shared is None:
            return
        with self._sync_lock:
            records = self._shared.registrations(self._synced)
            self._synced += len(records)
            for record in records:
                if record["id"] in self._applied:
                    continue
                self._applied.add(record["id"])
                catalogue = record.get("catalogue")
                try:
                    self._register(base64.b64decode(record["metadata"]), source=record["source"],
                                   catalogue=base64.b64decode(catalogue) if catalogue is not None else None,
                                   options=DvOptions(**record.get("options", {})))
                except MetadataError as exc:  # it registered on another worker, so this is unexpected
                    self.errors.append(str(exc))

    def _register(self, data: bytes, *, source: str, catalogue: bytes | None = None,
                  options: DvOptions | None = None) -> RegisteredDV:
        metadata = parse_entity(data, source=source)
        if not metadata.acs:
            raise MetadataError("not DV metadata (no SPSSODescriptor)", where=source)
        options = options or DvOptions()
        if not metadata.encryption_certs and (options.encrypt_identifiers or options.encrypt_assertion):
            # Refused here rather than failing at the first login: python3-saml, for one, leaves the
            # encryption KeyDescriptor out of its metadata unless it wants encrypted assertions/NameIDs.
            raise MetadataError(
                "the SPSSODescriptor has no encryption certificate (md:KeyDescriptor use='encryption' or "
                "without use): the broker encrypts identifiers (and, if asked, assertions) to it; add one, "
                "or register with options encrypt_identifiers=false", where=source)
        if catalogue is not None:
            self.add_catalogue(catalogue, f"{source} (catalogue)")
        with self._lock:
            dv = build_dv(metadata, tuple(self._catalogue.values()), options, source)
            self._dvs[dv.entity_id] = dv
        return dv

    def get(self, entity_id: str) -> RegisteredDV | None:
        if first_time("registry-sync"):
            self._sync()
        with self._lock:
            dv = self._dvs.get(entity_id)
        if dv is None and self._deferred:
            self._retry_deferred()
            with self._lock:
                dv = self._dvs.get(entity_id)
        return dv

    def all(self) -> list[RegisteredDV]:
        if first_time("registry-sync"):
            self._sync()
        with self._lock:
            return list(self._dvs.values())

    def _retry_deferred(self) -> None:
        pending, self._deferred = self._deferred, []
        try:
            self.load(pending, defer_unreachable=True)
        except MetadataError as exc:
            self.errors.append(str(exc))
