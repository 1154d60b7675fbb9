"""`harness reproduce`: a customer's report (words, a short YAML file, flags, or a capture) → the FAQ cases it may
be → each case's own scenario filled with the customer's numbers → run against the portal → ranked by which
one shows what the customer reports, with the FAQ's advice and (with --apply-remedy) its fix.

Everything case-specific comes from the case catalogue (harness/cases.yaml); the broker is reached only through
its control API (GET /_mock/world, world changes in the scenario, POST /_mock/reset), the portal only over HTTP.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import requests
import yaml

from ehsaml.datafile import DataFileError

from ..cases import load_cases
from ..engine import Broker, Verdict
from ..profile import DEFAULT_PROFILE, CannotDo, load_profile
from ..runner import run
from ..scenario import load_scenario
from ..servers import ServerError, start_pair
from .brokerworld import BrokerWorld, BrokerWorldError
from .candidates import Candidate, candidates, rank
from .capture import CaptureError
from .customer import CustomerReport, ReportError, complete, flag_values, load_report
from .explain import advice_for
from .template import fill

OUT_DIR = Path("scenarios") / "reproduced"  # relative to the working directory
MAX_CANDIDATES = 8


def add_reproduce(sub) -> None:
    cases = load_cases()
    p = sub.add_parser("reproduce", help="turn a customer's report (words, a file, flags or a capture) into the FAQ "
                                         "case's scenario with the customer's numbers, run it, and give the FAQ's advice")
    p.add_argument("report", nargs="?", help="a YAML report file (words, symptom, kvk, advisor_kvk, level, …)")
    p.add_argument("--words", help="the customer's own words (Dutch or English): symptoms, facts and numbers are read")
    p.add_argument("--capture", help="a captured SAML message or HAR file: level, KvK, service and status from it")
    for f in ("key", "cert", "metadata", "catalogue"):
        p.add_argument(f"--{f}", help=f"with --capture: as for harness inspect --{f}")
    p.add_argument("--symptom", choices=list(cases["symptoms"]), metavar="SYMPTOM",
                   help="what the customer sees: " + ", ".join(cases["symptoms"]))
    p.add_argument("--case", choices=list(cases["cases"]), metavar="CASE",
                   help="the FAQ case, when known (no ranking; harness list shows them)")
    p.add_argument("--who", choices=("employer", "advisor"))
    p.add_argument("--route", choices=("A", "B"), help="an advisor's route: A chain mandate, B Toegang verlenen")
    for name, what in (("kvk", "the employer's KvK number"), ("rsin", "the employer's RSIN"),
                       ("branch", "the branch (vestigingsnummer) logged in for"),
                       ("eidas", "a foreign company's eIDAS identifier"),
                       ("advisor-kvk", "the KvK number the advisor logs in with"),
                       ("granted-kvk", "route B: the KvK number the employer granted"),
                       ("other-kvk", "the KvK number the employer tried to add")):
        p.add_argument(f"--{name}", help=f"{what} (default: the case template's)")
    p.add_argument("--confirmed", choices=("yes", "no"), help="route B: did the employer use the confirmation link?")
    p.add_argument("--foreign", action="store_true", default=None, help="a foreign company (eIDAS, no KvK)")
    p.add_argument("--level", choices=("EH1", "EH2", "EH2+", "EH3", "EH4"), help="the level of the customer's means")
    p.add_argument("--service", choices=("view", "edit", "none"), help="the portal service on the means")
    p.add_argument("--means", choices=("password",), help="the customer tried the old username/password login")
    p.add_argument("--person", help="a person of the broker's world to log in as (default: the template's)")
    p.add_argument("--id", help="the scenario id (default: repro-<case>-<numbers>)")
    p.add_argument("--out", help="where to write the scenario (default: scenarios/reproduced/<id>.yaml here)")
    p.add_argument("--max-candidates", type=int, default=MAX_CANDIDATES, help=f"run at most this many (default "
                                                                               f"{MAX_CANDIDATES})")
    p.add_argument("--profile", default=str(DEFAULT_PROFILE), help="SP profile (default: the example portal's)")
    p.add_argument("--broker-url", help="a running mock broker (default: start one with the example portal)")
    p.add_argument("--portal-url", help="a running portal (default: the example portal)")
    p.add_argument("--apply-remedy", action="store_true", help="then run the case's remedy, with the same numbers")
    p.add_argument("--no-run", action="store_true", help="only write the scenario of the first candidate")
    p.add_argument("--json", action="store_true", help="print JSON (errors too)")
    p.set_defaults(handler=main_reproduce)


def main_reproduce(args) -> int:
    try:
        result = reproduce(args)
    except (DataFileError, CaptureError, BrokerWorldError, ServerError, CannotDo) as exc:
        if args.json:
            print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        print(f"harness reproduce: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str) if args.json else render(result))
    if args.no_run:
        return 0
    ok = result["candidates"][0]["outcome"].get("verdict") == Verdict.PASSED
    return 0 if ok and (result.get("remedy") or {}).get("ok", True) else 1


def reproduce(args) -> dict:
    report = _report(args)
    catalogue = load_cases()
    found, left_out = candidates(report, catalogue)
    found = found[:max(1, args.max_candidates)] if not args.no_run else found[:1]
    profile = load_profile(args.profile)
    if (args.broker_url is None) != (args.portal_url is None):
        raise ReportError("give both --broker-url and --portal-url, or neither")
    servers = None if args.broker_url else start_pair(profile.data.get("metadata", "/saml/metadata"),
                                                      profile.data.get("catalogue"))
    try:
        broker = args.broker_url or servers.broker_url
        portal = args.portal_url or servers.portal_url
        world = BrokerWorld.fetch(broker)
        with tempfile.TemporaryDirectory(prefix="reproduce-") as tmp:
            filled = {}
            for c in found:
                filled[c.case] = _filled(c.case, report, world, catalogue)
                path = write_scenario(filled[c.case].data, Path(tmp) / f"{filled[c.case].data['id']}.yaml")
                if not args.no_run:
                    c.outcome = _run(path, profile, broker, portal, c, report, catalogue)
            ordered = found if args.no_run else rank(found)
            best = ordered[0]
            data = filled[best.case].data
            data["id"] = report.id or data["id"]
            out = write_scenario(data, Path(args.out) if args.out else None)
            remedy = _remedy(best.case, report, world, catalogue, profile, broker, portal, Path(tmp)) \
                if args.apply_remedy and not args.no_run else None
    finally:
        if servers is not None:
            servers.stop()
    return {"report": {k: {"value": v, "from": report.origin.get(k, "?")} for k, v in report.given().items()},
            "symptoms": list(report.symptoms), "left_out": left_out, "scenario": str(out),
            "overlay": filled[best.case].overlay.said, "advice": advice_for(best.case, catalogue),
            "candidates": [_candidate(c, i) for i, c in enumerate(ordered, 1)], "remedy": remedy}


def _report(args) -> CustomerReport:
    report = load_report(args.report) if args.report else CustomerReport()
    captured = None
    if args.capture:
        from .inspect import inspect_bytes, load_context

        ctx = load_context(key=args.key, cert=args.cert, metadata=args.metadata, catalogue=args.catalogue)
        try:
            data = Path(args.capture).read_bytes()
        except OSError as exc:
            raise CaptureError(f"{args.capture}: cannot read ({exc.strerror})") from None
        captured = from_capture(inspect_bytes(data, ctx, args.capture))
    return complete(report, flag_values(args), captured)


def from_capture(inspected: dict) -> CustomerReport:
    """What an inspected capture says, as a report: the last answer's meaning and the symptom of its FAQ case."""
    if not inspected.get("meaning"):
        raise CaptureError("the capture holds no Response or ArtifactResponse: nothing to reproduce (a SAMLart alone "
                           "must be resolved by the DV; capture the answer)")
    m = inspected["meaning"][-1]
    org, via = m.get("organisation") or {}, m.get("intermediary") or {}
    out = CustomerReport(level=m.get("level"), kvk=org.get("kvk"), rsin=org.get("rsin"), branch=org.get("branch"),
                         eidas=org.get("eidas"), advisor_kvk=via.get("kvk"))
    if m.get("status") == "RequestUnsupported":
        out.service = "none"
    elif m.get("service"):
        out.service = m["service"].get("key")
    if via:
        out.who, out.route = "advisor", "A"
    out.foreign = True if org.get("eidas") and not org.get("kvk") else None
    cases = load_cases()["cases"]
    problem = next((f["case"] for f in inspected["findings"] if f.get("case") and not f.get("condition")
                    and cases[f["case"]]["symptoms"]), None)
    out.symptom = cases[problem]["symptoms"][0] if problem else None
    return out


def _filled(case: str, report: CustomerReport, world: BrokerWorld, catalogue: dict):
    entry = catalogue["cases"][case]
    numbers = [v for v in (report.kvk, report.eidas, report.advisor_kvk, report.granted_kvk, report.other_kvk) if v]
    slug = "-".join(["repro", case] + [n.replace("/", "-").lower() for n in numbers])
    title = f"Reproduced from a report: \"{report.words or catalogue['symptoms'].get(report.symptom or '', {}).get('says_en', case)}\" ({case})"
    return fill(entry["scenario"], entry.get("slots", {}), report, world, scenario_id=slug[:80].strip("-"),
                title=" ".join(title.split()), tags=["reproduced", case], until_refusal=entry["refusals"])


def write_scenario(data: dict, out: Path | None) -> Path:
    path = Path(out) if out else OUT_DIR / f"{data['id']}.yaml"
    data = {**data, "id": path.stem}
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ("# Written by `harness reproduce` from a customer's report (numbers not in the example world are a\n"
              "# temporary overlay: the supplier_change steps and the portal: data). Run it with the suite:\n"
              "# harness run --scenarios <its folder>.\n")
    path.write_text(header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110), "utf-8")
    load_scenario(path)  # schema-checked like every scenario: a broken one never leaves here unnoticed
    return path


def _run(path: Path, profile, broker: str, portal: str, c: Candidate, report: CustomerReport, catalogue: dict) -> dict:
    try:
        result = run([load_scenario(path)], profile, broker_url=broker, portal_url=portal).results[0]
    finally:
        _undo(profile, broker, portal)
    last = result.steps[-1] if result.steps else None
    page = last.page.text if last is not None and last.page is not None else ""
    code = profile.refusal_code(page) if page else None
    symptom = catalogue["symptoms"].get(c.symptom, {})
    shows = code in symptom.get("refusals", []) and all(t in page for t in symptom.get("page", []))
    quoted = [q for q in report.quoted if q.casefold() in page.casefold()]
    return {"verdict": result.verdict, "reason": result.reason, "refusal": code, "shows": shows, "quoted_on_page": quoted,
            "refusal_cases": [k for k, e in catalogue["cases"].items() if code and code in e["refusals"]]}


def _undo(profile, broker: str, portal: str) -> None:
    """The overlay goes: the broker's world changes (POST /_mock/reset) and the portal's data (its default seed)."""
    Broker(broker).reset()
    spec = profile.state("default_seed")
    method, path = ("POST", spec["post"]) if "post" in spec else ("GET", spec["get"])
    requests.request(method, portal.rstrip("/") + path, json=spec.get("json"), timeout=15).raise_for_status()


def _remedy(case: str, report: CustomerReport, world: BrokerWorld, catalogue: dict, profile, broker: str,
            portal: str, folder: Path) -> dict:
    entry = catalogue["cases"][case]
    remedy = entry.get("remedy")
    if remedy is None:
        return {"ok": True, "scenario": None, "text": f"no remedy scenario for {case} yet (the catalogue names none); "
                                                      f"the FAQ's fix is not proven here"}
    filled = fill(remedy["scenario"], entry.get("slots", {}), report, world, scenario_id=f"remedy-{case}",
                  title=f"The FAQ's fix for {case}, with the customer's numbers", tags=["reproduced", "remedy"])
    path = write_scenario(filled.data, folder / f"remedy-{case}.yaml")
    try:
        result = run([load_scenario(path)], profile, broker_url=broker, portal_url=portal).results[0]
    finally:
        _undo(profile, broker, portal)
    name = f"{remedy['scenario']}.yaml"
    if result.verdict == Verdict.PASSED:
        return {"ok": True, "scenario": name, "text": f"{name} passed — the FAQ's fix resolves {case}"}
    return {"ok": False, "scenario": name, "text": f"{name} {result.verdict} — the FAQ's fix did NOT resolve {case}: "
                                                  f"{result.reason}"}


def _candidate(c: Candidate, rank_: int) -> dict:
    return {"rank": rank_, "case": c.case, "symptom": c.symptom, "facts_confirmed": c.confirmed, "outcome": c.outcome}


# --- text ---------------------------------------------------------------------------------------------

def render(r: dict) -> str:
    best, advice = r["candidates"][0], r["advice"]
    given = {k: v for k, v in r["report"].items() if k != "words"}
    lines = [f"words: {r['report']['words']['value']!r}"] if "words" in r["report"] else []
    lines.append("report: " + ", ".join(f"{k}={v['value']!r} ({v['from']})" for k, v in given.items()))
    if r["left_out"]:
        lines.append("left out: " + "; ".join(f"{c} ({why})" for c, why in r["left_out"].items()))
    lines.append(f"FAQ case: {best['case']} — \"{advice['question']}\" ({advice['faq_nl']})")
    lines += [f"overlay: {s} (undone afterwards)" for s in r["overlay"]]
    lines.append(f"scenario: {r['scenario']}")
    o = best["outcome"]
    if o:
        lines.append(_outcome(best))
    if len(r["candidates"]) > 1:
        lines.append("alternatives:")
        lines += [f"  {c['rank']}. {c['case']} — {_outcome(c, short=True)}" for c in r["candidates"][1:]]
    lines += [f"advies (FAQ): {advice['advice_nl']}", f"advice: {advice['advice_en']}",
              f"the fix is made by: {advice['where']}"]
    if r.get("remedy"):
        lines.append(f"remedy: {r['remedy']['text']}")
    return "\n".join(lines)


def _outcome(c: dict, short: bool = False) -> str:
    o = c["outcome"]
    if not o:
        return "not run"
    seen = f"refusal {o['refusal']}" if o.get("refusal") else "no refusal"
    if o["verdict"] == Verdict.PASSED:
        text = ("reproduced" if short else f"outcome: reproduced — the portal behaves as FAQ case {c['case']} says") \
            + f" ({seen}" + (f"; shows the customer's symptom {c['symptom']}" if o["shows"] else
                            f"; not the customer's symptom {c['symptom']}") + ")"
    else:
        text = ("not reproduced" if short else f"outcome: NOT reproduced as {c['case']} ({o['verdict']}): {o['reason']}")
        others = [k for k in o.get("refusal_cases", []) if k != c["case"]]
        if o.get("refusal"):
            text += f"; the portal refused with {o['refusal']}" + (f": that is FAQ case {' or '.join(others)}"
                                                                   if others else "")
    if o.get("quoted_on_page"):
        text += f"; the page says {', '.join(repr(q) for q in o['quoted_on_page'])}, as the customer quotes"
    return text
