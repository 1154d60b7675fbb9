"""A customer's report: a short YAML file, flags, or a capture, joined with what the customer's words say.

Every field is optional (harness/schemas/report.schema.json says each one's default); a report needs words,
a symptom or a case. What a field holds beats what the words say; where a field came from is kept
(`origin`), so the desk sees what was read and what was given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ehsaml.datafile import DataFileError, read_yaml, schema_validator
from ehsaml.eherkenning import is_kvk, is_rsin

from ..cases import load_cases
from .words import Reading, read_words

REPORT_SCHEMA = Path(__file__).resolve().parent.parent / "schemas" / "report.schema.json"
NUMBER_FIELDS = ("kvk", "advisor_kvk", "granted_kvk", "other_kvk")


class ReportError(DataFileError):
    pass


@dataclass
class CustomerReport:
    words: str | None = None
    symptom: str | None = None
    case: str | None = None
    who: str | None = None
    route: str | None = None
    kvk: str | None = None
    rsin: str | None = None
    branch: str | None = None
    eidas: str | None = None
    advisor_kvk: str | None = None
    granted_kvk: str | None = None
    other_kvk: str | None = None
    confirmed: bool | None = None
    foreign: bool | None = None
    level: str | None = None
    service: str | None = None
    means: str | None = None
    person: str | None = None
    id: str | None = None
    origin: dict = field(default_factory=dict, compare=False)  # field → "report", "flag", "words", "capture"
    symptoms: tuple[str, ...] = ()  # every symptom, the given one first, then those the words name
    quoted: tuple[str, ...] = ()  # phrases the customer quotes from a page

    def given(self) -> dict:
        skip = {"origin", "symptoms", "quoted"}
        return {k: v for k, v in asdict(self).items() if v is not None and k not in skip}

    def set(self, name: str, value, origin: str) -> None:
        if value is not None:
            setattr(self, name, value)
            self.origin[name] = origin

    @property
    def grant(self) -> str | None:
        """route B: was the KvK granted the one the advisor logs in with ('same') or another ('other')?"""
        if self.advisor_kvk and self.granted_kvk:
            return "same" if self.advisor_kvk == self.granted_kvk else "other"
        return None


def load_report(path: str | Path) -> CustomerReport:
    """A YAML report, schema-checked: errors name the file, line and field."""
    f = read_yaml(path, what="report file", error_class=ReportError)
    if not isinstance(f.data, dict):
        raise ReportError("a report is a mapping: words, symptom, who, kvk, advisor_kvk, level, …", file=f.source, line=1)
    f.check_schema(schema_validator(REPORT_SCHEMA))
    cases = load_cases()
    if f.data.get("symptom") is not None and f.data["symptom"] not in cases["symptoms"]:
        raise f.error(("symptom",), f"{f.data['symptom']!r} is not a symptom of the case catalogue (one of "
                                    f"{', '.join(cases['symptoms'])})")
    if f.data.get("case") is not None and f.data["case"] not in cases["cases"]:
        raise f.error(("case",), f"{f.data['case']!r} is no FAQ case (harness list shows them)")
    if f.data.get("rsin") and not is_rsin(f.data["rsin"]):
        raise f.error(("rsin",), f"RSIN {f.data['rsin']!r} fails the 11-test")
    report = CustomerReport()
    for name, value in f.data.items():
        report.set(name, value, "report")
    return report


def complete(report: CustomerReport, flags: dict | None = None, captured: CustomerReport | None = None) -> CustomerReport:
    """Flags beat the file, the file beats a capture, a capture beats the words. Checks what flags gave."""
    for name, value in (flags or {}).items():
        report.set(name, value, "flag")
    for name in NUMBER_FIELDS:
        value = getattr(report, name)
        if value is not None and not is_kvk(value):
            raise ReportError(f"--{name.replace('_', '-')}: {value!r} is not a KvK number (8 digits)")
    if report.rsin is not None and not is_rsin(report.rsin):
        raise ReportError(f"--rsin: {report.rsin!r} is not an RSIN (9 digits passing the 11-test)")
    if captured is not None:
        for name, value in captured.given().items():
            if getattr(report, name) is None:
                report.set(name, value, "capture")
    cases = load_cases()
    reading: Reading = read_words(report.words, cases)
    for name, value in {**reading.facts, **reading.numbers}.items():
        if hasattr(report, name) and getattr(report, name) is None:
            report.set(name, value, "words")
    if report.foreign is None and report.kvk and not report.eidas:
        report.set("foreign", False, "kvk given")  # a company with a KvK number is no foreign (eIDAS-only) one
    report.symptoms = tuple(dict.fromkeys(([report.symptom] if report.symptom else []) + list(reading.symptoms)))
    if report.symptom is None and report.symptoms:
        report.set("symptom", report.symptoms[0], "words")
    report.quoted = reading.quoted
    if report.case is not None and report.case not in cases["cases"]:
        raise ReportError(f"--case: {report.case!r} is no FAQ case (harness list shows them)")
    if report.case is None and not report.symptoms:
        said = f"the words {report.words!r} name no symptom the catalogue knows" if report.words else "no words"
        raise ReportError(f"cannot tell what the customer sees ({said}): give a symptom (--symptom, or symptom: in "
                          f"the report file), one of {', '.join(cases['symptoms'])}")
    return report


def flag_values(args) -> dict:
    """The report fields given as flags (argparse names), None left out."""
    out = {}
    for f in fields(CustomerReport):
        value = getattr(args, f.name, None)
        if f.name == "confirmed" and isinstance(value, str):
            value = value == "yes"
        if value is not None and f.name not in ("origin", "symptoms", "quoted"):
            out[f.name] = value
    return out
