"""Every clause of the rules P1-P12 has scenarios on both sides: one the rule lets through and one it refuses.

The clauses live in harness/cases.yaml (`clauses`), each with the built-in scenarios of each side; this checks
that the table does not lie: each listed scenario names the rule and has a step of that side, and
docs/faq-clauses.md shows the same table. Scenario ids: a case of the catalogue, `remedy-<case>`, or a variant
`<case>-<suffix>` that proves one more clause of the same FAQ question.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cases import clause_table, load_cases
from harness.scenario import load_all

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def scenarios():
    return {s.id: s for s in load_all()}


def _allows(step) -> bool:
    e = step.expect
    return e.get("logged_in") is True or e.get("allowed") is True or e.get("route") == "choose-employer"


def _refuses(step) -> bool:
    e = step.expect
    return "refused" in e or e.get("logged_in") is False


def test_every_rule_has_a_clause_with_scenarios_on_both_sides():
    data = load_cases()
    clauses = data["clauses"]
    assert {c["rule"] for c in clauses.values()} == set(data["rules"])
    for clause, entry in clauses.items():
        assert entry["allowed"] and entry["refused"], clause


@pytest.mark.parametrize("side, has", [("allowed", _allows), ("refused", _refuses)])
def test_each_listed_scenario_names_the_rule_and_shows_that_side(scenarios, side, has):
    """The rule in the scenario's `rules` (or its case's in the catalogue), and a step expecting that side."""
    data = load_cases()
    problems = []
    for clause, entry in data["clauses"].items():
        for sid in entry[side]:
            s = scenarios[sid]
            rules = set(s.rules) | set(data["cases"].get(sid, {}).get("rules", ()))
            if entry["rule"] not in rules:
                problems.append(f"{clause}: {sid} does not name rule {entry['rule']}")
            if not any(has(step) for step in s.steps):
                problems.append(f"{clause}: {sid} has no step that is {side}")
    assert not problems, problems


def test_a_clause_naming_a_missing_scenario_is_an_error_with_its_line(tmp_path):
    from harness.cases import CaseCatalogueError

    text = (ROOT / "harness" / "cases.yaml").read_text("utf-8").replace(
        "refused: [legacy-password-login-gone]", "refused: [no-such-scenario]")
    path = tmp_path / "cases.yaml"
    path.write_text(text, "utf-8")
    with pytest.raises(CaseCatalogueError, match=r"line \d+.*no-such-scenario"):
        load_cases(path)


def test_the_clause_table_in_the_docs_is_the_catalogue_s():
    doc = (ROOT / "docs" / "faq-clauses.md").read_text("utf-8")
    assert clause_table() in doc, "docs/faq-clauses.md: paste harness.cases.clause_table() again"


def test_every_scenario_is_a_case_a_remedy_or_a_variant_of_a_case(scenarios):
    cases = set(load_cases()["cases"])
    for sid, s in scenarios.items():
        if sid in cases:
            continue
        if s.remedy_of:
            assert sid == f"remedy-{s.remedy_of}" and s.remedy_of in cases, sid
            continue
        assert any(sid.startswith(case + "-") for case in cases), f"{sid}: not <case>-<suffix> of a catalogue case"
