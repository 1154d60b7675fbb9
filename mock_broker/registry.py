"""The DVs (service providers) the broker knows: from metadata files or URLs, catalogues, or the control API."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ehsaml.eherkenning import ATTR_BRANCH, ID_KVK, ID_RSIN, Level
from ehsaml.errors import MetadataError
from ehsaml.metadata import CatalogueService, EntityMetadata, parse_catalogue, parse_entity
from ehsaml.ns import ESC

from .settings import DvOptions

FETCH_TIMEOUT = 5


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


def read_source(source: str) -> bytes:
    """Bytes of a file path or an http(s) URL; errors name the source."""
    if source.startswith(("http://", "https://")):
        try:
            resp = requests.get(source, timeout=FETCH_TIMEOUT)
        except requests.RequestException as exc:
            raise MetadataError(f"cannot fetch ({exc.__class__.__name__})", where=source) from None
        if resp.status_code != 200:
            raise MetadataError(f"fetching gave HTTP {resp.status_code}", where=source)
        return resp.content
    try:
        return Path(source).read_bytes()
    except OSError as exc:
        raise MetadataError(f"cannot read ({exc.strerror})", where=source) from None


def is_catalogue(data: bytes) -> bool:
    return ESC.encode() in data[:2000]


def build_dv(metadata: EntityMetadata, catalogue: tuple[CatalogueService, ...], options: DvOptions, source: str) -> RegisteredDV:
    by_id = {c.service_id: c for c in catalogue}
    services = []
    for s in metadata.services:
        if not s.service_id:
            raise MetadataError(
                f"AttributeConsumingService index={s.index} has no RequestedAttribute naming a ServiceID",
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
        raise MetadataError("the DV metadata lists no AttributeConsumingService (no services)", where=source)
    return RegisteredDV(metadata=metadata, services=tuple(services), options=options, source=source)


class Registry:
    """Entity ID → RegisteredDV. Sources that could not be fetched at start are tried again on demand."""

    def __init__(self):
        self._lock = threading.Lock()
        self._dvs: dict[str, RegisteredDV] = {}
        self._catalogue: dict[str, CatalogueService] = {}
        self._deferred: list[str] = []
        self.errors: list[str] = []

    def load(self, sources: list[str], *, defer_unreachable: bool = True) -> None:
        metadata_sources = []
        for source in sources:
            try:
                data = read_source(source)
            except MetadataError as exc:
                if defer_unreachable and source.startswith(("http://", "https://")):
                    self._deferred.append(source)
                    self.errors.append(str(exc))
                    continue
                raise
            if is_catalogue(data):
                self.add_catalogue(data, source)
            else:
                metadata_sources.append((source, data))
        for source, data in metadata_sources:
            self.register(data, source=source)

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
        metadata = parse_entity(data, source=source)
        if not metadata.acs:
            raise MetadataError("not DV metadata (no SPSSODescriptor)", where=source)
        if catalogue is not None:
            self.add_catalogue(catalogue, f"{source} (catalogue)")
        with self._lock:
            dv = build_dv(metadata, tuple(self._catalogue.values()), options or DvOptions(), source)
            self._dvs[dv.entity_id] = dv
        return dv

    def get(self, entity_id: str) -> RegisteredDV | None:
        with self._lock:
            dv = self._dvs.get(entity_id)
        if dv is None and self._deferred:
            self._retry_deferred()
            with self._lock:
                dv = self._dvs.get(entity_id)
        return dv

    def all(self) -> list[RegisteredDV]:
        with self._lock:
            return list(self._dvs.values())

    def _retry_deferred(self) -> None:
        pending, self._deferred = self._deferred, []
        try:
            self.load(pending, defer_unreachable=True)
        except MetadataError as exc:
            self.errors.append(str(exc))
