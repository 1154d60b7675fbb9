"""Which FAQ cases a customer's report may be: by the symptoms it names and the facts it gives, from the catalogue.

A case is a candidate when it shows one of the report's symptoms and no fact of the report contradicts its
`fits`. Candidates are ordered by the most telling symptom they show, then by how many of their `fits` the
report confirms, then by catalogue order; `harness reproduce` then runs each and ranks them by what the
portal did (`rank`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .customer import CustomerReport, ReportError


@dataclass
class Candidate:
    case: str
    symptom: str  # the report's symptom this case shows (the most telling one)
    confirmed: list[str] = field(default_factory=list)  # facts of the report that fit the case
    outcome: dict = field(default_factory=dict)  # filled by a run: verdict, refusal, shows, why

    @property
    def shows_symptom(self) -> bool:
        return bool(self.outcome.get("shows"))

    @property
    def reproduced(self) -> bool:
        return self.outcome.get("verdict") == "passed"


def fact_of(report: CustomerReport, name: str):
    return report.grant if name == "grant" else getattr(report, name, None)


def _conflict(report: CustomerReport, fits: dict) -> str | None:
    for name, allowed in fits.items():
        value = fact_of(report, name)
        if value is None:
            continue
        ok = value in allowed if isinstance(allowed, list) else value == allowed
        if not ok:
            return f"{name} is {value!r}, the case needs {allowed!r}"
    return None


def candidates(report: CustomerReport, catalogue: dict) -> tuple[list[Candidate], dict[str, str]]:
    """The candidates, best first, and the cases left out with the reason (a fact that does not fit)."""
    cases = catalogue["cases"]
    if report.case:
        return [Candidate(report.case, report.symptom or "", _confirmed(report, cases[report.case].get("fits", {})))], {}
    ranked, left_out = [], {}
    # A telling symptom (level too low, KvK not recognised, …) says more than "cannot log in" beside it: the
    # general ones bring in candidates only when the telling ones bring none.
    telling = [s for s in report.symptoms if not catalogue["symptoms"].get(s, {}).get("general")]
    for symptoms in ([telling, list(report.symptoms)] if telling else [list(report.symptoms)]):
        ranked, left_out = _fitting(report, cases, symptoms)
        if ranked:
            break
    if not ranked:
        raise ReportError(f"no FAQ case shows {', '.join(report.symptoms)} with these facts"
                          + (": " + "; ".join(f"{c} (left out: {w})" for c, w in left_out.items()) if left_out else ""))
    return [c for _, c in sorted(ranked, key=lambda rc: rc[0])], left_out


def _fitting(report: CustomerReport, cases: dict, symptoms: list[str]) -> tuple[list, dict]:
    ranked, left_out = [], {}
    for order, (case, entry) in enumerate(cases.items()):
        shown = [i for i, s in enumerate(symptoms) if s in entry["symptoms"]]
        if not shown:
            continue
        why = _conflict(report, entry.get("fits", {}))
        if why:
            left_out[case] = why
            continue
        confirmed = _confirmed(report, entry.get("fits", {}))
        ranked.append(((shown[0], -len(confirmed), order), Candidate(case, symptoms[shown[0]], confirmed)))
    return ranked, left_out


def _confirmed(report: CustomerReport, fits: dict) -> list[str]:
    return [name for name in fits if fact_of(report, name) is not None]


def rank(found: list[Candidate]) -> list[Candidate]:
    """After the runs: a case that reproduced and shows the customer's symptom first, then one that
    reproduced, then the rest; within each, the order `candidates` gave."""
    def key(ic):
        i, c = ic
        return (not (c.reproduced and c.shows_symptom), not c.reproduced, not c.shows_symptom, i)
    return [c for _, c in sorted(enumerate(found), key=key)]
