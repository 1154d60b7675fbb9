"""Scenario files: one FAQ case each, schema-checked on load with errors naming file, line and field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from ehsaml.datafile import DataFile, DataFileError, read_yaml, schema_validator

# The FAQ scenarios ship inside the package (importlib.resources): found alike from a checkout or a wheel.
SCENARIO_DIR = Path(str(files("harness") / "scenarios" / "faq"))
_VALIDATOR = schema_validator(Path(__file__).with_name("schemas") / "scenario.schema.json")
ACTIONS = ("login", "legacy_login", "choose_employer", "change", "grant_access", "confirm_email", "change_grant",
           "add_kvk", "logout", "seed", "supplier_change", "revisit_refusal")


class ScenarioError(DataFileError):
    pass


@dataclass(frozen=True)
class Step:
    index: int  # 1-based, as a reader counts
    action: str
    params: dict
    expect: dict
    note: str | None
    line: int | None

    def describe(self) -> str:
        if self.action == "login":
            p = self.params
            who = p.get("as") or ("an inline identity" if "identity" in p else "cancel" if p.get("cancel")
                                  else f"fault {p['fault']}" if "fault" in p
                                  else f"broker status {p.get('broker_status', {}).get('status')}")
            org = f" for {p['for']}" if p.get("for") else ""
            return f"log in ({p['service']}) as {who}{org}"
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.action.replace('_', ' ')}" + (f" ({args})" if args else "")


@dataclass(frozen=True)
class Scenario:
    id: str
    faq: str
    title: str
    rules: tuple[str, ...]
    tags: tuple[str, ...]
    portal: Any
    steps: tuple[Step, ...]
    source: str
    remedy_of: str | None = None
    breaks: str | None = None  # security cases: the rule a portal breaks if it accepts the answer
    fault_check: str | None = None  # security cases: the DV check that must refuse the answer (catalogue expect.check)
    binding_reason: str | None = None  # security cases: why the case needs the binding its login asks for
    min_services: int = 1  # security cases: the services the portal must have for the case to apply

    @property
    def kind(self) -> str:
        return "security" if "security" in self.tags else "remedy" if self.remedy_of else "case"


def load_scenario(path: str | Path) -> Scenario:
    datafile = read_yaml(path, what="scenario file", error_class=ScenarioError)
    return _build(datafile, Path(path))


def _build(f: DataFile, path: Path) -> Scenario:
    if not isinstance(f.data, dict):
        raise f.error_class("a scenario is a mapping with id, faq, title and steps", file=f.source, line=1)
    f.check_schema(_VALIDATOR)
    data = f.data
    if data["id"] != path.stem:
        raise f.error(("id",), f"id {data['id']!r} must equal the file name {path.stem!r}")
    steps = []
    for i, raw in enumerate(data["steps"]):
        actions = [a for a in ACTIONS if a in raw]
        if len(actions) != 1:
            raise f.error(("steps", i), f"a step does exactly one of {', '.join(ACTIONS)}; this one does "
                                        f"{', '.join(actions) or 'none'}")
        for j, text in enumerate((raw.get("expect") or {}).get("page_contains", ())):
            for kind, name in re.findall(r"\{(service|text):([^}]*)\}", text):
                if (kind == "service" and name not in ("view", "edit")) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                    raise f.error(("steps", i, "expect", "page_contains", j),
                                  f"{{{kind}:{name}}}: use {{service:view}}, {{service:edit}} or {{text:<name of "
                                  "the profile's texts>}}")
        steps.append(Step(index=i + 1, action=actions[0], params=raw[actions[0]] or {}, expect=raw.get("expect") or {},
                          note=raw.get("note"), line=f.lines.get(("steps", i))))
    return Scenario(id=data["id"], faq=data["faq"], title=data["title"], rules=tuple(data.get("rules", ())),
                    tags=tuple(data.get("tags", ())), portal=data.get("portal", "default"), steps=tuple(steps),
                    source=f.source, remedy_of=data.get("remedy_of"))


def load_all(folder: Path = SCENARIO_DIR) -> list[Scenario]:
    """Every *.yaml scenario in the folder, sorted by id; the first broken file stops the load."""
    return [load_scenario(p) for p in sorted(Path(folder).glob("*.yaml"))]


def load_suite(extra: list[str | Path] = (), *, builtin: bool = True) -> list[Scenario]:
    """The built-in FAQ scenarios and those of every extra folder (a team's own), ids unique across them.

    A folder that does not exist, and a suite with no scenario at all, are errors that name where it looked.
    """
    folders = ([SCENARIO_DIR] if builtin else []) + [Path(f) for f in extra]
    found: dict[str, Scenario] = {}
    for folder in folders:
        if not folder.is_dir():
            raise ScenarioError(f"no scenario folder {folder} (give an existing folder of *.yaml scenario files)")
        for scenario in load_all(folder):
            if scenario.id in found:
                raise ScenarioError(f"scenario id {scenario.id!r} also in {found[scenario.id].source}",
                                    file=scenario.source, field="id")
            found[scenario.id] = scenario
    if not found:
        raise ScenarioError("no scenario files (*.yaml) in " + ", ".join(str(f) for f in folders))
    return sorted(found.values(), key=lambda s: s.id)


def select(scenarios: list[Scenario], ids: list[str] | None = None, tags: list[str] | None = None) -> list[Scenario]:
    known = {s.id for s in scenarios}
    unknown = [i for i in ids or [] if i not in known]
    if unknown:
        raise ScenarioError(f"no scenario with id {', '.join(unknown)} (harness list shows them)")
    out = [s for s in scenarios if (not ids or s.id in ids) and (not tags or set(tags) & set(s.tags))]
    return out
