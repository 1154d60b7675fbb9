"""The pytest plugin as a portal team uses it: fixtures start broker and portal, queue answers, run scenarios."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

TEAM_TESTS = '''
def test_run_a_scenario_by_id(eh_run):
    result = eh_run("cancel-at-broker")
    assert result.verdict == "passed", result.reason


def test_queue_an_answer_and_drive_the_portal(eh, eh_browser):
    eh.broker.queue({"person": "anna-de-vries", "organisation": "bakkerij-de-vries", "dv": eh.profile.dv_entity_id})
    page = eh_browser.get(eh.portal_url + eh.profile.login_path("edit"))
    assert page.status == 200 and "Bakkerij De Vries" in page.text
    assert any("SAMLart" in hop.saml for hop in page.hops)


def test_another_scenario_by_id(eh_run):
    result = eh_run("login-eh4-accepted")
    assert result.verdict == "passed"
'''


def test_plugin_fixtures_work_in_a_teams_own_pytest_run(tmp_path):
    (tmp_path / "test_team.py").write_text(TEAM_TESTS, "utf-8")
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "harness.plugin", "-q", "-p", "no:cacheprovider",
                           str(tmp_path / "test_team.py")], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout


def test_plugin_is_registered_as_a_pytest11_entry_point():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    assert project["project"]["entry-points"]["pytest11"] == {"eherkenning_harness": "harness.plugin"}
