"""The FAQ case catalogue (harness/cases.yaml): one home per case, read by every harness tool and the tests.

Checked on load: its schema, every rule and symptom a case names exists, every pattern compiles, and every
case's template scenario and remedy scenario is a built-in scenario file. Nothing outside the package is read.
"""

from __future__ import annotations

import functools
import re
from importlib.resources import files
from pathlib import Path

from ehsaml.datafile import DataFileError, read_yaml, schema_validator

from .scenario import SCENARIO_DIR

CASES_FILE = Path(str(files("harness") / "cases.yaml"))
_SCHEMA = Path(__file__).with_name("schemas") / "cases.schema.json"


class CaseCatalogueError(DataFileError):
    pass


@functools.lru_cache(maxsize=4)
def load_cases(path: str | Path = CASES_FILE) -> dict:
    f = read_yaml(path, what="FAQ case catalogue", error_class=CaseCatalogueError, label=lambda _: "")
    if not isinstance(f.data, dict):
        raise CaseCatalogueError("a mapping with rules, services, cases, security and not_behaviour",
                                 file=f.source, line=1)
    f.check_schema(schema_validator(_SCHEMA))
    known = {p.stem for p in SCENARIO_DIR.glob("*.yaml")}
    for where, patterns in _patterns(f.data):
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise f.error(where + (i,), f"{pattern!r} is not a regular expression ({exc})") from None
    for case, entry in f.data["cases"].items():
        for i, rule in enumerate(entry["rules"]):
            if rule not in f.data["rules"]:
                raise f.error(("cases", case, "rules", i), f"{rule!r} is no rule of this catalogue")
        for i, symptom in enumerate(entry["symptoms"]):
            if symptom not in f.data["symptoms"]:
                raise f.error(("cases", case, "symptoms", i), f"{symptom!r} is no symptom of this catalogue")
        for where, scenario in ((("cases", case, "scenario"), entry["scenario"]),
                                (("cases", case, "remedy", "scenario"), (entry.get("remedy") or {}).get("scenario"))):
            if scenario is not None and scenario not in known:
                raise f.error(where, f"{scenario!r}: no built-in scenario file {scenario}.yaml")
    for clause, entry in (f.data.get("clauses") or {}).items():
        if entry["rule"] not in f.data["rules"] or not clause.startswith(entry["rule"]) or clause[len(entry["rule"]):].isdigit():
            raise f.error(("clauses", clause, "rule"), f"clause {clause!r} must be its rule {entry['rule']!r} and a letter")
        for side in ("allowed", "refused"):
            for i, scenario in enumerate(entry[side]):
                if scenario not in known:
                    raise f.error(("clauses", clause, side, i), f"{scenario!r}: no built-in scenario file {scenario}.yaml")
    from ehsaml.dv.checks import CHECK_NAMES  # the DV's check names (ehsaml is the shared SAML library)

    codes = {c for group in ("symptoms", "cases") for entry in f.data[group].values() for c in entry["refusals"]}
    for code, checks in (f.data["security"].get("checks_of_refusals") or {}).items():
        if code not in codes:
            raise f.error(("security", "checks_of_refusals", code), f"{code!r} is no refusal code of this catalogue")
        for i, check in enumerate(checks):
            if check not in CHECK_NAMES:
                raise f.error(("security", "checks_of_refusals", code, i), f"{check!r} is no DV check (ehsaml.dv.checks)")
    return f.data


def checks_of_refusals() -> dict[str, list[str]]:
    """A refusal code that names no DV check → the checks whose failure that page is (cases.yaml, security)."""
    return load_cases()["security"].get("checks_of_refusals") or {}


def _patterns(data: dict):
    for code, entry in data["symptoms"].items():
        yield ("symptoms", code, "words"), entry["words"]
    for fact, values in data["facts"].items():
        for j, v in enumerate(values):
            yield ("facts", fact, j, "words"), v["words"]
    for name, patterns in data["numbers"].items():
        yield ("numbers", name), patterns


def case_ids() -> list[str]:
    return list(load_cases()["cases"])


def clause_table() -> str:
    """The clauses of the rules as a Markdown table (docs/faq-clauses.md holds it; a test keeps the two equal)."""
    data = load_cases()
    rows = ["| clause | rule says | allowed (let through) | refused |", "|---|---|---|---|"]
    for clause, entry in data["clauses"].items():
        rows.append(f"| {clause} | {entry['text']} | {', '.join(entry['allowed'])} | {', '.join(entry['refused'])} |")
    return "\n".join(rows)
