"""Reports of a run: a console table, JUnit XML for CI, and an HTML report with every step's SAML and page."""

from __future__ import annotations

import html
import platform
from pathlib import Path
from xml.etree import ElementTree as ET

from ehsaml.eherkenning import ATTR_ACTING_SUBJECT, ATTR_LEGAL_SUBJECT
from ehsaml.xmlview import to_html

from .engine import ScenarioResult, Verdict
from .runner import RunReport

MARK = {Verdict.PASSED: "PASS", Verdict.FAILED: "FAIL", Verdict.ERROR: "ERROR", Verdict.SKIPPED: "SKIP",
        Verdict.NOT_TESTED: "NOTEST", Verdict.XFAIL: "XFAIL", Verdict.XPASS: "XPASS"}
ORDER = (Verdict.PASSED, Verdict.FAILED, Verdict.ERROR, Verdict.NOT_TESTED, Verdict.SKIPPED, Verdict.XFAIL,
         Verdict.XPASS)


def console(report: RunReport) -> str:
    width = max([len(r.scenario.id) for r in report.results] + [8])
    lines = [f"{'scenario'.ljust(width)}  result  seconds  why"]
    for r in report.results:
        lines.append(f"{r.scenario.id.ljust(width)}  {MARK[r.verdict]:<6}  {r.seconds:7.2f}  {' '.join(r.reason.split())}")
    counts = ", ".join(f"{report.count(v)} {v}" for v in ORDER if report.count(v))
    lines.append(f"{len(report.results)} scenarios against {report.profile} in {report.seconds:.1f} s "
                 f"with {report.workers} worker(s): {counts or 'none'}")
    lines.append(f"services: {report.services}")
    for verdict, title in ((Verdict.NOT_TESTED, "not tested (a precondition did not hold; this fails the run)"),
                           (Verdict.SKIPPED, "skipped (the profile cannot do or observe this)")):
        causes = report.causes(verdict)
        if causes:
            lines.append(f"{title}:")
            lines.extend(f"  {n:4d} × {' '.join(cause.split())}" for cause, n in causes)
    warned = [r for r in report.results if r.warnings]
    if warned:
        lines.append(f"warnings ({len(warned)} scenarios; --strict-reasons makes them failures):")
        lines.extend(f"  {r.scenario.id}: {w}" for r in warned for w in r.warnings)
    if report.unused_expected:
        lines.append("expected failures not in this run: " + ", ".join(report.unused_expected))
    if report.nothing_tested:
        lines.append("NOTHING WAS TESTED: no scenario reached the portal (exit code 3)")
    return "\n".join(lines)


def junit(report: RunReport, path: Path) -> None:
    suite = ET.Element("testsuite", name=f"harness:{report.profile}", tests=str(len(report.results)),
                       failures=str(report.count(Verdict.FAILED) + report.count(Verdict.XPASS)
                                    + report.count(Verdict.NOT_TESTED)),
                       errors=str(report.count(Verdict.ERROR)),
                       skipped=str(report.count(Verdict.SKIPPED) + report.count(Verdict.XFAIL)),
                       time=f"{report.seconds:.3f}")
    for r in report.results:
        case = ET.SubElement(suite, "testcase", classname=f"faq.{r.scenario.kind}", name=r.scenario.id,
                             time=f"{r.seconds:.3f}")
        if r.verdict in (Verdict.FAILED, Verdict.XPASS, Verdict.NOT_TESTED):
            ET.SubElement(case, "failure", message=r.reason, type=r.verdict).text = _steps_text(r)
        elif r.verdict == Verdict.ERROR:
            ET.SubElement(case, "error", message=r.reason).text = _steps_text(r)
        elif r.verdict in (Verdict.SKIPPED, Verdict.XFAIL):
            ET.SubElement(case, "skipped", message=r.reason)
        ET.SubElement(case, "system-out").text = f"FAQ: {r.scenario.faq}\n{r.scenario.title}"
    ET.indent(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _steps_text(r: ScenarioResult) -> str:
    out = []
    for s in r.steps:
        out.append(f"step {s.step.index}: {s.step.describe()}")
        out.extend(f"  {'ok  ' if c.passed else 'FAIL'} {c.explain()}" for c in s.checks)
        if s.not_tested:
            out.append(f"  not tested: {s.not_tested}")
    out.extend(f"step {step.index}: {step.describe()}\n  not run (an earlier step did not pass)"
               for step in not_run(r))
    return "\n".join(out)


def one_line(r: ScenarioResult) -> str:
    """The cause of a scenario's verdict in one line: the step and the check with what was expected and seen (the
    rule and the rest of the story are in its section)."""
    found = r.first_failure
    if found is not None:
        step, check = found
        return (f"step {step.step.index} ({step.step.describe()}): {check.check}: expected {check.expected}, "
                f"got {check.actual}")
    return " ".join(r.reason.split()).split("; ")[0]


def not_run(r: ScenarioResult) -> list:
    """The scenario's steps after the one that stopped it: listed, never silently left out."""
    return list(r.scenario.steps[len(r.steps):]) if r.steps else []


FAILING = (Verdict.FAILED, Verdict.ERROR, Verdict.NOT_TESTED, Verdict.XPASS)
FULL_DETAIL = 15  # failing scenarios shown with their messages and page; the rest with their checks (size bound)
STYLE = """body{font-family:system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem;color:#1b1b1b;line-height:1.4;
overflow-wrap:anywhere}td.v,th.v{white-space:nowrap}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #dde;padding:.25rem .4rem;text-align:left;
vertical-align:top;overflow-wrap:anywhere}.passed,.xfail{color:#176a2b}.failed,.error,.xpass,.not-tested{color:#a11;
font-weight:600}.skipped,.not-run{color:#777}details{margin:.3rem 0 .3rem .8rem}summary{cursor:pointer}
details.scenario{margin-left:0;border-top:1px solid #dde;padding:.3rem 0}details.scenario>summary{font-size:1.05rem}
.xml{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f5f7;padding:.5rem;font:.78rem ui-monospace,monospace}
.xml .t{color:#6a1b4d}details.fold{display:inline-block;width:100%;margin:0}details.fold>summary{font-family:system-ui}
pre{background:#f4f5f7;padding:.5rem;overflow:auto;max-height:24rem;font-size:.8rem;white-space:pre-wrap}
iframe{width:100%;height:22rem;border:1px solid #ccd}#summary{background:#f6f7f9;border:1px solid #dde;padding:.6rem 1rem}
ul.checks{margin:.2rem 0}code{overflow-wrap:anywhere}"""


def html_report(report: RunReport, path: Path) -> None:
    """The summary first (counts, then each failure with its cause), then every scenario: a failing one open at
    its failing step with the SAML messages (signatures and certificates folded) and the portal's page; a passing
    one folded, its checks and a line per message. Steps after the one that stopped a scenario are listed as not
    run. Passing scenarios carry no XML, so the report of the whole suite stays small (the broker's journal keeps
    every message)."""
    e = html.escape
    counts = ", ".join(f"{report.count(v)} {v}" for v in ORDER if report.count(v))
    failing = [r for r in report.results if r.verdict in FAILING]
    verdict = ("All passed." if report.ok else "<strong>Nothing was tested.</strong>" if report.nothing_tested
               else f"<strong>Not all passed: {len(failing)} to look at.</strong>")
    parts = [f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Harness report — {e(report.profile)}</title><style>{STYLE}</style></head><body>
<h1>Harness report: {e(report.profile)}</h1>
<section id="summary"><p id="counts">{len(report.results)} scenarios in {report.seconds:.1f} s, {report.workers} worker(s),
Python {platform.python_version()}: {e(counts)}. {verdict}</p><p class="skipped">Services: {e(report.services)}.</p>"""]
    if failing:
        parts.append(f'<h2>To look at ({len(failing)})</h2><ol id="failures">')
        parts.extend(f'<li><a href="#{e(r.scenario.id)}">{e(r.scenario.id)}</a> <span class="{r.verdict}">'
                     f'{MARK[r.verdict]}</span> — {e(one_line(r))}</li>' for r in failing)
        parts.append("</ol>")
    for v, title in ((Verdict.SKIPPED, "Skipped (the profile cannot do or observe this)"),):
        causes = report.causes(v)
        if causes:
            parts.append(f"<h3>{title}</h3><ul>" + "".join(f"<li>{n} × {e(c)}</li>" for c, n in causes) + "</ul>")
    if report.unused_expected:
        parts.append(f"<p>Expected failures not in this run: {e(', '.join(report.unused_expected))}</p>")
    parts.append('</section><h2>Scenarios</h2><table id="scenarios"><tr><th>scenario</th><th>FAQ question</th>'
                 '<th class="v">result</th></tr>')
    parts.extend(f'<tr><td><a href="#{e(r.scenario.id)}">{e(r.scenario.id)}</a></td><td>{e(r.scenario.faq)}</td>'
                 f'<td class="v {r.verdict}">{MARK[r.verdict]}</td></tr>' for r in report.results)
    parts.append("</table><h2>Steps</h2>")
    detailed = {id(r) for r in failing[:FULL_DETAIL]}
    if len(failing) > FULL_DETAIL:
        parts.append(f"<p>The messages and pages of the first {FULL_DETAIL} of {len(failing)} scenarios to look at are "
                     "shown; run the others by id for theirs.</p>")
    for r in report.results:
        parts.append(_scenario_html(r, detailed=id(r) in detailed))
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")


def _scenario_html(r: ScenarioResult, *, detailed: bool) -> str:
    e = html.escape
    failing = r.verdict in FAILING
    stop = r.steps[-1] if detailed and r.steps else None
    out = [f'<details class="scenario" id="{e(r.scenario.id)}"{" open" if failing else ""}><summary>'
           f'<strong>{e(r.scenario.id)}</strong> <span class="{r.verdict}">{MARK[r.verdict]}</span> — '
           f'{e(r.scenario.title)}</summary><p>FAQ: <em>{e(r.scenario.faq)}</em>'
           f'{" — rules " + e(", ".join(r.scenario.rules)) if r.scenario.rules else ""}'
           f'{"<br>" + e(r.reason) if r.reason else ""}</p>']
    out.extend(f'<p class="skipped">warning: {e(w)}</p>' for w in r.warnings)
    for s in r.steps:
        out.append(_step_html(s, full=s is stop))
    out.extend(f'<p class="not-run">Step {step.index}: {e(step.describe())} — not run (an earlier step did not '
               f'pass)</p>' for step in not_run(r))
    out.append("</details>")
    return "".join(out)


def _step_html(s, *, full: bool) -> str:
    """One step: its checks; the failing step (full) also its messages as XML, whoami and the portal's page."""
    e = html.escape
    bad = s.failure is not None or s.not_tested
    mark = ("FAILED: " + e(s.failure.check) if s.failure is not None else "not tested" if s.not_tested else "ok")
    out = [f'<details class="step"{" open" if full else ""}><summary>Step {s.step.index}: {e(s.step.describe())} — '
           f'<span class="{"failed" if bad else "passed"}">{mark}</span></summary><ul class="checks">']
    out.extend(f'<li class="{"passed" if c.passed else "failed"}">{e(c.explain())}</li>' for c in s.checks)
    if s.not_tested:
        out.append(f'<li class="not-tested">not tested: {e(s.not_tested)}</li>')
    out.append("</ul>")
    if s.page is not None:
        hops = "\n".join(f"{h.method} {h.url if full else _short(h.url)} → {h.status}" for h in s.page.hops)
        out.append(f"<details><summary>HTTP hops ({len(s.page.hops)}), ending at {s.page.status} "
                   f"{e(s.page.url)}</summary><pre>{e(hops)}</pre></details>")
    decision = next((j for j in s.journal if j.get("event") == "decision"), None)
    shown: set[str] = set()  # the Response inside the ArtifactResponse is not shown twice
    for entry in s.journal:
        title = e(f"{entry['event']} {entry.get('message_type') or ''}: {entry.get('reason', '')}")
        if entry.get("xml") and full:
            known = _plain_values(decision, s.journal)
            out.append(f'<details><summary>SAML {title}</summary><div class="xml">'
                       f'{to_html(entry["xml"], known=known, full=False, shown=shown)}</div></details>')
        elif entry.get("xml") or entry.get("event") == "decision":
            out.append(f"<p>SAML {title}</p>" if entry.get("xml") else
                       f"<p>broker decision: {e(entry.get('reason', ''))}"
                       f"{' — ' + e(str(entry['status_message'])) if entry.get('status_message') else ''}</p>")
    if full and s.whoami:
        out.append(f"<details><summary>portal state (whoami)</summary><pre>{e(str(s.whoami))}</pre></details>")
    if full and s.page is not None and "html" in s.page.content_type:
        out.append(f"<details open><summary>portal page ({s.page.status}, {e(s.page.url)})</summary>"
                   f'<iframe sandbox srcdoc="{e(s.page.text)}"></iframe></details>')
    out.append("</details>")
    return "".join(out)


def _short(url: str, keep: int = 100) -> str:
    return url if len(url) <= keep else f"{url[:keep]}… ({len(url)} characters)"


def _plain_values(decision: dict | None, journal: list[dict]) -> dict[str, list[str]]:
    """The identifiers the broker encrypted, as its decision had them (none when a fault changed the answer)."""
    identity = (decision or {}).get("identity") or {}
    if not identity or any(j.get("fault_applied") for j in journal):
        return {}
    legal = [f"{label} {identity[k]}" for k, label in (("kvk", "KvK"), ("rsin", "RSIN"), ("eidas", "eIDAS"))
             if identity.get(k)]
    return {ATTR_LEGAL_SUBJECT: legal, ATTR_ACTING_SUBJECT: [f"pseudonym {identity.get('pseudonym')}"]}
