"""The fault catalogue as data: `catalogue/*.yaml`, checked against `catalogue.schema.json` on load.

Each case: an id, a family, a one-line title, the rule it breaks, a named mutation (registry.py) with
its params, the binding it needs and why (none: any; the artifact-exchange faults need Artifact by nature),
how many services the DV must have (`min_services`: a case that answers with the DV's other service), and
what a careful DV must do (`expect`, naming the DV check that must fail, as ehsaml publishes them;
for the `control` family: accept the answer and start a session).
"""

from __future__ import annotations

import functools
import inspect
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ehsaml.dv.checks import CHECK_NAMES
from ehsaml.datafile import DataFileError, read_yaml, schema_validator

from . import mutations  # noqa: F401  (registers the mutations)
from .registry import REGISTRY, Phase

CATALOGUE_DIR = Path(__file__).with_name("catalogue")
_VALIDATOR = schema_validator(Path(__file__).with_name("catalogue.schema.json"))
FAMILIES = ("signature", "protocol", "eherkenning", "artifact", "parser", "encryption", "identifier", "service", "level",
            "nameid", "required", "status", "cve", "control")
CONTROL = "control"  # the positive controls: answers a correct DV must accept (expect refused: false)
DEFAULT_BASE = {"person": "anna-de-vries", "organisation": "bakkerij-de-vries"}


@dataclass(frozen=True)
class Expect:
    refused: bool = True
    session: bool = False
    check: str | None = None  # the DV check that must fail first
    claims_status: str | None = None  # an error answer: the broker refusal it claims to be (a DV must not show it)
    note: str | None = None


@dataclass(frozen=True)
class FaultCase:
    id: str
    family: str
    title: str
    rule: str
    mutation: str
    params: dict = field(default_factory=dict)
    expect: Expect = field(default_factory=Expect)
    binding: str | None = None  # the answer binding the case needs (artifact or post); None: any
    binding_reason: str | None = None  # why it needs that binding (required with binding)
    min_services: int = 1  # the services the DV must have for the case to apply
    base: dict | None = None  # the correct answer mutated: person/organisation or identity
    setup: str | None = None  # "earlier-login": the same DV session logs in once first
    source: str = ""

    @property
    def phase(self) -> Phase:
        return REGISTRY[self.mutation].phase

    @property
    def waits(self) -> bool:
        """The case makes the DV wait (a slow answer)."""
        return REGISTRY[self.mutation].waits

    @property
    def needs_binding(self) -> str:
        """artifact, post or any: faults of the artifact exchange itself need Artifact."""
        if self.phase is not Phase.RESPONSE:
            return "artifact"
        return self.binding or "any"

    @property
    def why_binding(self) -> str | None:
        """Why the case needs its binding, in words (None: any binding will do)."""
        if self.phase is not Phase.RESPONSE and not self.binding_reason:
            return "a fault of the artifact exchange itself: the SAMLart, or the answer to its resolution"
        return self.binding_reason

    def to_json(self) -> dict:
        return {"id": self.id, "family": self.family, "title": self.title, "rule": self.rule,
                "mutation": self.mutation, "params": self.params, "binding": self.needs_binding,
                "binding_reason": self.why_binding, "min_services": self.min_services,
                "base": self.base or DEFAULT_BASE, "setup": self.setup, "phase": self.phase.value,
                "waits": self.waits,
                "expect": {k: v for k, v in self.expect.__dict__.items() if v is not None}}


class CatalogueError(DataFileError):
    """A catalogue file that cannot be used; names the file, line, case and field."""


def load_catalogue(directory: Path | str = CATALOGUE_DIR) -> dict[str, FaultCase]:
    """Every case of every *.yaml file in `directory`, checked; ids are unique across files."""
    cases: dict[str, FaultCase] = {}
    files = sorted(Path(directory).glob("*.yaml"))
    if not files:
        raise CatalogueError("no *.yaml catalogue files", file=str(directory))
    for path in files:
        for case in _load_file(path):
            if case.id in cases:
                raise CatalogueError(f"duplicate id {case.id!r} (also in {cases[case.id].source})", file=str(path),
                                     entry=f"case {case.id}", field="id")
            cases[case.id] = case
    return cases


def _load_file(path: Path) -> list[FaultCase]:
    f = read_yaml(path, what="fault catalogue file", error_class=CatalogueError)
    source, data, error = f.source, f.data, f.error
    if not isinstance(data, dict):
        raise CatalogueError("a catalogue file is a mapping with version and cases", file=source, line=1)
    f.check_schema(_VALIDATOR)
    out = []
    for i, item in enumerate(data["cases"]):
        if item["mutation"] not in REGISTRY:
            raise error(("cases", i, "mutation"), f"no mutation named {item['mutation']!r} "
                                                  f"(known: {', '.join(sorted(REGISTRY))})")
        fn = REGISTRY[item["mutation"]].fn
        try:
            inspect.signature(fn).bind(None, **item.get("params", {}))
        except TypeError as exc:
            raise error(("cases", i, "params"), f"params do not fit mutation {item['mutation']!r}: {exc}") from None
        expect = Expect(**item.get("expect", {}))
        if expect.check is not None and expect.check not in CHECK_NAMES:
            raise error(("cases", i, "expect", "check"), f"{expect.check!r} is no DV check name")
        if item.get("binding") and REGISTRY[item["mutation"]].phase is not Phase.RESPONSE \
                and item["binding"] != "artifact":
            raise error(("cases", i, "binding"), f"mutation {item['mutation']!r} acts on the artifact exchange: "
                                                 "the case needs the artifact binding")
        out.append(FaultCase(**{**item, "expect": expect, "params": item.get("params", {}), "source": source}))
    return out


_LOADING = threading.Lock()


@functools.cache
def _loaded() -> dict[str, FaultCase]:
    return load_catalogue()


def catalogue() -> dict[str, FaultCase]:
    """The built-in catalogue, loaded once per process (a second caller waits for the first's load)."""
    with _LOADING:
        return _loaded()


def preload() -> None:
    """Load the catalogue now, off the request path (the broker starts this beside its start-up): the first
    fault case or `GET /_mock/faults` then finds it read. A broken catalogue is named there, not here."""
    try:
        catalogue()
    except CatalogueError:
        pass


def case_of(fault_id: str) -> FaultCase:
    return catalogue()[fault_id]
