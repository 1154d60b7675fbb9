"""`harness reproduce`: a customer's report (flags, a short YAML file, or a capture) → an FAQ case → a scenario
file that replays it against the portal, run at once, with the FAQ's advice and (with --apply-remedy) its fix.

The people come from the broker's world (GET /_mock/world through the control API); the scenario is a
normal one (harness/schemas/scenario.schema.json), so it can join the suite as it is.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import yaml

from ehsaml.datafile import DataFileError, read_yaml, schema_validator

from . import explain
from .cases import load_cases
from .capture import CaptureError
from .engine import Verdict
from .profile import DEFAULT_PROFILE, load_profile
from .runner import run
from .scenario import SCENARIO_DIR, load_scenario
from .servers import ServerError, start_pair
from .people import World, WorldError

REPORT_SCHEMA = Path(__file__).with_name("schemas") / "report.schema.json"
OUT_DIR = Path("scenarios") / "reproduced"  # relative to the working directory
# A refusal code of the portal → the FAQ cases that end in it (to name what happened instead).
CODE_CASES = {
    "authn_failed": ["cancel-at-broker", "loa-eh2-refused", "loa-eh2plus-refused"],
    "level_too_low": ["loa-eh2-refused", "loa-eh2plus-refused"],
    "no_mandate": ["no-mandate-for-portal", "colleague-without-mandate", "multi-kvk-one-not-mandated"],
    "kvk_unknown": ["kvk-unknown", "chain-mandate-unknown-employer"],
    "eidas_no_kvk": ["eidas-foreign-company"],
    "no_confirmed_grant": ["route-b-unconfirmed", "route-b-wrong-kvk"],
    "no_change_rights": ["service-view-readonly", "chain-mandate-view", "route-b-view-then-upgrade"],
    "advisor_unknown": ["route-b-advisor-kvk-unknown"],
    "kvk_not_in_contract": ["add-kvk-not-in-contract"],
    "grant_needs_edit_rights": ["route-b-grant-needs-edit-rights"],
}


class ReportError(DataFileError):
    pass


@dataclass
class Report:
    symptom: str | None = None
    who: str | None = None
    route: str | None = None
    kvk: str | None = None
    advisor_kvk: str | None = None
    granted_kvk: str | None = None
    other_kvk: str | None = None
    confirmed: bool | None = None
    foreign: bool | None = None
    level: str | None = None
    service: str | None = None
    person: str | None = None
    words: str | None = None
    id: str | None = None

    def given(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def load_report(path: str | Path) -> Report:
    """A short YAML report, schema-checked: errors name the file, line and field."""
    f = read_yaml(path, what="report file", error_class=ReportError)
    if not isinstance(f.data, dict):
        raise ReportError("a report is a mapping: symptom, who, route, kvk, level, service, …", file=f.source, line=1)
    f.check_schema(schema_validator(REPORT_SCHEMA))
    report = Report(**f.data)
    problem = _incomplete(report)
    if problem:
        field, message = problem
        raise f.error((field,), message)
    return report


def _incomplete(r: Report) -> tuple[str, str] | None:
    if r.symptom == "cannot-select-employer" and not r.advisor_kvk:
        return "advisor_kvk", "an advisor who cannot select the employer: give the KvK number the advisor logs in with"
    if r.symptom == "advisor-kvk-not-recognised" and not r.advisor_kvk:
        return "advisor_kvk", "give the advisor's KvK number that the portal did not recognise"
    if r.symptom == "cannot-add-kvk" and not r.other_kvk:
        return "other_kvk", "give the KvK number the employer tried to add"
    return None


def classify(r: Report) -> str:
    """The FAQ case a report describes (faq-cases.md id)."""
    s, advisor = r.symptom, r.who == "advisor"
    low = explain.level_case(r.level)
    if s == "forgot-credentials":
        return "cancel-at-broker"
    if s == "level-too-low" or (s == "cannot-log-in" and low):
        return low or "loa-eh2plus-refused"
    if s == "no-mandate" or (s == "cannot-log-in" and r.service == "none"):
        return "no-mandate-for-portal"
    if s in ("cannot-log-in", "kvk-not-recognised"):
        if r.foreign:
            return "eidas-foreign-company"
        return "chain-mandate-unknown-employer" if advisor and r.route == "A" else "kvk-unknown"
    if s == "advisor-kvk-not-recognised":
        return "route-b-advisor-kvk-unknown"
    if s == "cannot-select-employer":
        return "route-b-wrong-kvk" if r.granted_kvk and r.granted_kvk != r.advisor_kvk else "route-b-unconfirmed"
    if s == "cannot-change":
        if advisor:
            return "chain-mandate-view" if r.route != "B" else "route-b-view-then-upgrade"
        return "service-view-readonly"
    if s == "cannot-add-kvk":
        return "add-kvk-not-in-contract"
    raise ReportError(f"cannot tell the FAQ case from this report: give a symptom (one of {', '.join(explain.SYMPTOMS)})",
                      field="symptom")


def from_capture(report: dict) -> Report:
    """What an inspected capture says, as a report: the last login answer's status, level, KvK and service."""
    answers = [m.get("response") or m for m in report["messages"] if m["kind"] in ("Response", "ArtifactResponse")]
    if not answers:
        raise CaptureError("the capture holds no Response or ArtifactResponse: nothing to reproduce (a SAMLart alone "
                           "must be resolved by the DV; capture the answer)")
    r = answers[-1]
    status = r.get("status") or {}
    out = Report()
    if status.get("sub") == "AuthnFailed":
        level = next(iter(explain._LEVEL_IN_TEXT.findall(status.get("message") or "")), None)
        out.level = {"loa2plus": "EH2+", "loa2": "EH2", "loa1": "EH1"}.get(level, level)
        out.symptom = "level-too-low" if level else "forgot-credentials"
        return out
    if status.get("sub") == "RequestUnsupported":
        out.symptom, out.service = "no-mandate", "none"
        return out
    a = r.get("assertion") or {}
    ident = a.get("identity") or {}
    names = {v["name"]: k for k, v in load_cases()["services"].items()}
    out.level, out.kvk = a.get("level"), ident.get("kvk")
    out.service = names.get((a.get("service") or {}).get("name"))
    if ident.get("intermediary_kvk"):
        out.who, out.route, out.advisor_kvk = "advisor", "A", ident["intermediary_kvk"]
    if ident.get("eidas") and not ident.get("kvk"):
        out.foreign = True
    out.symptom = "kvk-not-recognised"
    return out


# --- the scenario ---------------------------------------------------------------------------------

def build_scenario(r: Report, case: str, world: World) -> dict:
    """A scenario (as data) that replays the report's case with people of the world."""
    steps = world.steps(case, r)
    source = SCENARIO_DIR / f"{case}.yaml"
    original = load_scenario(source) if source.exists() else None
    slug = r.id or "-".join(["repro", case] + [k for k in (r.kvk, r.advisor_kvk) if k])
    words = r.words or explain.SYMPTOMS.get(r.symptom or "", case)
    return {
        "id": slug,
        "faq": original.faq if original else case,
        "title": f"Reproduced from a report: \"{words}\" ({case})",
        "rules": list(original.rules) if original else [],
        "tags": ["reproduced", case],
        "steps": steps,
    }


def write_scenario(data: dict, out: Path | None) -> Path:
    path = Path(out) if out else OUT_DIR / f"{data['id']}.yaml"
    if path.stem != data["id"]:
        data["id"] = path.stem
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ("# Written by `harness reproduce` from a customer's report. "
              "Run it with the suite: harness run --scenarios <its folder>.\n")
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110), "utf-8")
    load_scenario(path)  # schema-checked like every scenario: a broken one never leaves here unnoticed
    return path


def remedy_for(case: str, folder: Path = SCENARIO_DIR) -> Path | None:
    named = folder / f"remedy-{case}.yaml"
    if named.exists():
        return named
    for p in sorted(folder.glob("remedy-*.yaml")):
        try:
            if load_scenario(p).remedy_of == case:
                return p
        except DataFileError:
            continue
    return None


# --- the command ----------------------------------------------------------------------------------

def add_reproduce(sub) -> None:
    p = sub.add_parser("reproduce", help="turn a customer's report (or a capture) into a scenario, run it, and say "
                                         "which FAQ case it is and what the FAQ advises")
    p.add_argument("report", nargs="?", help="a YAML report file (symptom, who, route, kvk, level, service, …)")
    p.add_argument("--capture", help="a captured SAML message or HAR file: take level, KvK, service and status from it")
    for f in ("key", "cert", "metadata", "catalogue"):
        p.add_argument(f"--{f}", help=f"with --capture: as for harness inspect --{f}")
    p.add_argument("--symptom", choices=list(explain.SYMPTOMS), help="what the customer sees")
    p.add_argument("--who", choices=("employer", "advisor"))
    p.add_argument("--route", choices=("A", "B"), help="an advisor's route: A chain mandate, B Toegang verlenen")
    p.add_argument("--kvk", help="the employer's KvK number")
    p.add_argument("--advisor-kvk", help="the KvK number the advisor logs in with")
    p.add_argument("--granted-kvk", help="route B: the KvK number the employer granted")
    p.add_argument("--other-kvk", help="the KvK number the employer tried to add")
    p.add_argument("--confirmed", action="store_true", default=None, help="route B: the grant was confirmed")
    p.add_argument("--foreign", action="store_true", default=None, help="a foreign company (eIDAS, no KvK)")
    p.add_argument("--level", choices=("EH1", "EH2", "EH2+", "EH3", "EH4"))
    p.add_argument("--service", choices=("view", "edit", "none"), help="the portal service on the means")
    p.add_argument("--person", help="a person of the broker's world to log in as")
    p.add_argument("--words", help="the customer's words, for the scenario's title")
    p.add_argument("--id", help="the scenario id (default: repro-<case>-<kvk>)")
    p.add_argument("--out", help="where to write the scenario (default: scenarios/reproduced/<id>.yaml in the working directory)")
    p.add_argument("--profile", default=str(DEFAULT_PROFILE), help="SP profile (default: the example portal's)")
    p.add_argument("--broker-url", help="a running mock broker (default: start one with the example portal)")
    p.add_argument("--portal-url", help="a running portal (default: the example portal)")
    p.add_argument("--apply-remedy", action="store_true", help="then run the case's remedy scenario, if there is one")
    p.add_argument("--no-run", action="store_true", help="only write the scenario")
    p.set_defaults(handler=main_reproduce)


def _report_from_args(args) -> Report:
    r = load_report(args.report) if args.report else Report()
    if args.capture:
        from .inspect import inspect_bytes, load_context

        ctx = load_context(key=args.key, cert=args.cert, metadata=args.metadata, catalogue=args.catalogue)
        try:
            data = Path(args.capture).read_bytes()
        except OSError as exc:
            raise CaptureError(f"{args.capture}: cannot read ({exc.strerror})") from None
        captured = from_capture(inspect_bytes(data, ctx, args.capture))
        for k, v in captured.given().items():
            if getattr(r, k) is None:
                setattr(r, k, v)
    for f in fields(Report):
        value = getattr(args, f.name, None)
        if value is not None:
            setattr(r, f.name, value)
    for name in ("kvk", "advisor_kvk", "granted_kvk", "other_kvk"):
        value = getattr(r, name)
        if value is not None and not (len(value) == 8 and value.isdigit()):
            raise ReportError(f"--{name.replace('_', '-')}: {value!r} is not a KvK number (8 digits)")
    if r.symptom is None:
        raise ReportError("say what the customer sees: --symptom (or symptom: in the report file), one of "
                          + ", ".join(explain.SYMPTOMS))
    problem = _incomplete(r)
    if problem:
        raise ReportError(f"--{problem[0].replace('_', '-')}: {problem[1]}")
    return r


def main_reproduce(args) -> int:
    try:
        r = _report_from_args(args)
        case = classify(r)
        advice = explain.advice_for(case)
        profile = load_profile(args.profile)
        if (args.broker_url is None) != (args.portal_url is None):
            raise ReportError("give both --broker-url and --portal-url, or neither")
        servers = None if args.broker_url else start_pair(profile.data.get("metadata", "/saml/metadata"),
                                                          profile.data.get("catalogue"))
        try:
            broker = args.broker_url or servers.broker_url
            portal = args.portal_url or servers.portal_url
            world = World.fetch(broker)
            path = write_scenario(build_scenario(r, case, world), Path(args.out) if args.out else None)
            print(f"report: {', '.join(f'{k}={v}' for k, v in r.given().items())}")
            print(f"FAQ case: {case} — \"{advice['question']}\" ({advice['faq_nl']})")
            print(f"scenario: {path}")
            if args.no_run:
                _print_advice(advice)
                return 0
            ok = _run_and_tell(path, profile, broker, portal, case)
            _print_advice(advice)
            if args.apply_remedy:
                ok = _remedy(case, profile, broker, portal) and ok
        finally:
            if servers is not None:
                servers.stop()
    except (DataFileError, CaptureError, WorldError, ServerError) as exc:
        print(f"harness reproduce: {exc}", file=sys.stderr)
        return 2
    return 0 if ok else 1


def _run_and_tell(path: Path, profile, broker: str, portal: str, case: str) -> bool:
    scenario = load_scenario(path)
    result = run([scenario], profile, broker_url=broker, portal_url=portal).results[0]
    last = result.steps[-1] if result.steps else None
    code = profile.refusal_code(last.page.text) if last is not None and last.page is not None else None
    if result.verdict == Verdict.PASSED:
        print(f"outcome: reproduced — the portal behaves as FAQ case {case} says"
              + (f" (refusal {code})" if code else ""))
        return True
    print(f"outcome: NOT reproduced as {case} ({result.verdict}): {result.reason}")
    if code:
        others = [c for c in CODE_CASES.get(code, []) if c != case]
        print(f"  the portal refused with {code}" + (f": that is FAQ case {' or '.join(others)}" if others else ""))
    return False


def _print_advice(advice: dict) -> None:
    print(f"advies (FAQ): {advice['advice_nl']}")
    print(f"advice: {advice['advice_en']}")
    print(f"the fix is made by: {advice['where']}")


def _remedy(case: str, profile, broker: str, portal: str) -> bool:
    path = remedy_for(case)
    if path is None:
        print(f"remedy: no remedy scenario for {case} yet (expected scenarios/faq/remedy-{case}.yaml with "
              f"remedy_of: {case}); the FAQ's fix is not proven here")
        return True
    result = run([load_scenario(path)], profile, broker_url=broker, portal_url=portal).results[0]
    if result.verdict == Verdict.PASSED:
        print(f"remedy: {path.name} passed — the FAQ's fix resolves {case}")
        return True
    print(f"remedy: {path.name} {result.verdict} — the FAQ's fix did NOT resolve {case}: {result.reason}")
    return False
