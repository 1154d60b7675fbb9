"""Reports of a run: a console table, JUnit XML for CI, and an HTML report with every step's SAML and page."""

from __future__ import annotations

import html
import platform
from pathlib import Path
from xml.etree import ElementTree as ET

from lxml import etree

from ehsaml.errors import SamlError
from ehsaml.xml import parse_xml

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


def _indented(xml: str) -> str:
    """The journal keeps messages exactly as sent (so signatures verify); indent them for reading."""
    try:
        return etree.tostring(parse_xml(xml, what="journal message"), pretty_print=True, encoding="unicode")
    except SamlError:
        return xml


def _steps_text(r: ScenarioResult) -> str:
    out = []
    for s in r.steps:
        out.append(f"step {s.step.index}: {s.step.describe()}")
        out.extend(f"  {'ok  ' if c.passed else 'FAIL'} {c.explain()}" for c in s.checks)
    return "\n".join(out)


def html_report(report: RunReport, path: Path) -> None:
    e = html.escape
    parts = [f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Harness report — {e(report.profile)}</title>
<style>body{{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1b1b}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccd;padding:.3rem .5rem;text-align:left;vertical-align:top}}
.passed,.xfail{{color:#176a2b}} .failed,.error,.xpass,.not-tested{{color:#a11;font-weight:600}} .skipped{{color:#777}}
details{{margin:.4rem 0 .4rem 1rem}} pre{{background:#f4f5f7;padding:.5rem;overflow:auto;max-height:24rem;font-size:.8rem}}
iframe{{width:100%;height:16rem;border:1px solid #ccd}}</style></head><body>
<h1>Harness report: {e(report.profile)}</h1>
<p>{len(report.results)} scenarios in {report.seconds:.1f} s, {report.workers} worker(s), Python {platform.python_version()}:
{e(", ".join(f"{report.count(v)} {v}" for v in ORDER if report.count(v)))}.
{'All passed.' if report.ok else '<strong>Nothing was tested.</strong>' if report.nothing_tested else '<strong>Not all passed.</strong>'}
Services: {e(report.services)}.</p>
<table><tr><th>scenario</th><th>FAQ question</th><th>result</th><th>why</th></tr>"""]
    for r in report.results:
        parts.append(f'<tr><td><a href="#{e(r.scenario.id)}">{e(r.scenario.id)}</a></td><td>{e(r.scenario.faq)}</td>'
                     f'<td class="{r.verdict}">{MARK[r.verdict]}</td><td>{e(r.reason)}</td></tr>')
    parts.append("</table>")
    for r in report.results:
        parts.append(f'<h2 id="{e(r.scenario.id)}">{e(r.scenario.id)} <span class="{r.verdict}">{MARK[r.verdict]}</span></h2>'
                     f"<p>{e(r.scenario.title)}<br>FAQ: <em>{e(r.scenario.faq)}</em>"
                     f"{' — rules ' + e(', '.join(r.scenario.rules)) if r.scenario.rules else ''}</p>"
                     + "".join(f'<p class="skipped">warning: {e(w)}</p>' for w in r.warnings))
        for s in r.steps:
            parts.append(f"<h3>Step {s.step.index}: {e(s.step.describe())}</h3><ul>")
            parts.extend(f'<li class="{"passed" if c.passed else "failed"}">{e(c.explain())}</li>' for c in s.checks)
            if s.not_tested:
                parts.append(f'<li class="not-tested">not tested: {e(s.not_tested)}</li>')
            parts.append("</ul>")
            if s.page is not None:
                hops = "\n".join(f"{h.method} {h.url} → {h.status}" for h in s.page.hops)
                parts.append(f"<details><summary>HTTP hops ({len(s.page.hops)})</summary><pre>{e(hops)}</pre></details>")
            for entry in s.journal:
                if entry.get("xml"):
                    title = f"{entry['event']} {entry.get('message_type')}: {entry.get('reason', '')}"
                    parts.append(f"<details><summary>SAML {e(title)}</summary><pre>{e(_indented(entry['xml']))}</pre></details>")
                elif entry.get("event") == "decision":
                    parts.append(f"<details><summary>broker decision: {e(entry.get('reason', ''))}</summary>"
                                 f"<pre>{e(str(entry.get('status_message') or entry.get('identity')))}</pre></details>")
            if s.whoami:
                parts.append(f"<details><summary>portal state (whoami)</summary><pre>{e(str(s.whoami))}</pre></details>")
            if s.page is not None and "html" in s.page.content_type:
                parts.append(f"<details><summary>portal page ({s.page.status}, {e(s.page.url)})</summary>"
                             f'<iframe sandbox srcdoc="{e(s.page.text)}"></iframe></details>')
    parts.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(parts), encoding="utf-8")
