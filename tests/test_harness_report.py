"""The harness's HTML report as a reader meets it: the summary first (counts, then each failure with its one-line
cause), the failing step open, signatures and certificates folded to a line, steps after a failure listed as not
run, one word for each right; and the whole suite's report at most 1 MB."""

from __future__ import annotations

import re

import pytest

from harness import report
from harness.cli import main as harness_main
from harness.engine import Verdict
from harness.profile import load_profile
from harness.runner import run
from harness.scenario import load_all, select


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """A portal whose 'Bekijk gegevens' gives change rights (--defect view-grants-change): one failure, one pass."""
    result = run(select(load_all(), ["service-view-readonly", "cancel-at-broker"]), load_profile(),
                 portal_args=("--defect", "view-grants-change"))
    path = tmp_path_factory.mktemp("report") / "report.html"
    report.html_report(result, path)
    return result, path.read_text("utf-8")


def test_the_summary_comes_first_with_counts_and_each_failure_in_one_line(broken):
    result, page = broken
    assert {r.scenario.id: r.verdict for r in result.results} == {"service-view-readonly": Verdict.FAILED,
                                                                  "cancel-at-broker": Verdict.PASSED}
    summary = page[page.index('<section id="summary">'):page.index("</section>")]
    assert "2 scenarios" in summary and "1 passed, 1 failed" in summary
    line = re.search(r'<ol id="failures">\s*<li>(.*?)</li>', summary).group(1)
    assert "service-view-readonly" in line and "rights: expected view, got edit" in line
    assert "P3/P7" not in line  # one line: the rule is in the scenario's own section
    assert page.index('id="failures"') < page.index('id="scenarios"') < page.index('class="scenario"')


def test_the_failing_step_is_open_and_the_steps_after_it_are_listed_as_not_run(broken):
    _, page = broken
    start = page.index('<details class="scenario" id="service-view-readonly" open>')
    ends = [i for i in (page.find('<details class="scenario"', start + 1), page.find("</body>")) if i > 0]
    section = page[start:min(ends)]
    assert '<details class="step" open><summary>Step 1: log in (view) as sophie-peters' in section
    assert "rights FAILED: expected view, got edit" in section  # the scenario's words, not the portal's lists
    assert "Step 2: change — not run (an earlier step did not pass)" in section
    assert "srcdoc=" in section and "samlp:ArtifactResponse" in section  # its messages and the portal's page
    assert '<details class="scenario" id="cancel-at-broker">' in page  # a passing one folded


def test_signatures_and_certificates_are_folded_to_what_they_say(broken):
    _, page = broken
    assert "[ds:Signature — rsa-sha256 over #" in page
    assert "CN=TEST ONLY eHerkenning broker mock signing" in page
    assert not re.search(r"[A-Za-z0-9+/]{200,}", page), "a signature, certificate or cipher value in full"
    assert "KvK 12345678</strong> (as the broker decided)" in page  # the EncryptedID, in plain from the decision
    assert "(shown above)" in page  # the Response inside the ArtifactResponse is not shown twice


def test_junit_lists_the_steps_not_run(broken, tmp_path):
    result, _ = broken
    report.junit(result, tmp_path / "junit.xml")
    assert "step 2: change\n  not run (an earlier step did not pass)" in (tmp_path / "junit.xml").read_text("utf-8")


def test_the_whole_suites_report_is_at_most_one_megabyte(tmp_path, capsys):
    path = tmp_path / "all.html"
    assert harness_main(["run", "--suite", "all", "--workers", "2", "--html", str(path)]) == 0
    size = path.stat().st_size
    print(f"report: {size} bytes for the whole suite")
    assert size <= 1_000_000, size
