"""A self-contained product: the wheel, installed outside the checkout, runs from an empty directory.

The wheel is built from this checkout and installed with its dependencies (from PyPI) into a fresh
virtual environment in a temporary folder; every command then runs in another, empty, temporary
folder, so nothing of the checkout can be found by accident (no PYTHONPATH, no working directory).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from harness.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.install


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """bin/ of a fresh venv with only the built wheel (and its dependencies) installed."""
    base = tmp_path_factory.mktemp("installed")
    # Built from a copy of the source tree: setuptools reuses an in-tree build/ folder, which could carry
    # files the checkout no longer has into the wheel.
    source = base / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "*.egg-info", "var", "reports", "__pycache__", ".pytest_cache"))
    wheels = base / "wheels"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                            "-w", str(wheels), str(source)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stdout + build.stderr
    wheel = next(wheels.glob("eherkenning_broker_mock-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                              str(wheel)], capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout + install.stderr
    return venv / "bin"


@pytest.fixture
def empty_dir(tmp_path):
    d = tmp_path / "empty"
    d.mkdir()
    return d


def _env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def _run(bin_dir: Path, cwd: Path, *cmd: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(bin_dir / cmd[0]), *cmd[1:]], cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=timeout)


def test_the_wheel_carries_the_world_keys_scenarios_profiles_and_schemas(installed, empty_dir):
    probe = _run(installed, empty_dir, "python", "-c", (
        "import harness, mock_broker, ehsaml\n"
        "from importlib.resources import files\n"
        "for pkg, rel in [('mock_broker', 'data/world.yaml'), ('ehsaml', 'certs/broker.TEST-ONLY.key'),\n"
        "                 ('ehsaml', 'certs/portal.TEST-ONLY.crt'), ('harness', 'scenarios/faq/cancel-at-broker.yaml'),\n"
        "                 ('harness', 'profiles/example-portal.yaml'), ('harness', 'schemas/scenario.schema.json'),\n"
        "                 ('harness', 'cases.yaml'), ('mock_broker.faults', 'catalogue/signature.yaml')]:\n"
        "    assert files(pkg).joinpath(rel).is_file(), (pkg, rel)\n"
        "print(harness.__file__)"))
    assert probe.returncode == 0, probe.stderr
    assert str(ROOT) not in probe.stdout  # the installed copy, not the checkout


def test_harness_lists_the_built_in_scenarios_from_any_directory(installed, empty_dir):
    listed = _run(installed, empty_dir, "harness", "list")
    assert listed.returncode == 0, listed.stderr
    assert "login-eh3-employer-edit" in listed.stdout and "remedy-kvk-unknown" in listed.stdout


def test_harness_runs_a_login_scenario_from_an_empty_directory(installed, empty_dir):
    done = _run(installed, empty_dir, "harness", "run", "login-eh3-employer-edit", "cancel-at-broker")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_a_missing_scenario_folder_is_an_error_that_names_it(installed, empty_dir):
    done = _run(installed, empty_dir, "harness", "list", "--no-builtin", "--scenarios", "mine")
    assert done.returncode == 2
    assert "no scenario folder mine" in done.stderr
    (empty_dir / "mine").mkdir()
    done = _run(installed, empty_dir, "harness", "list", "--no-builtin", "--scenarios", "mine")
    assert done.returncode == 2
    assert "no scenario files (*.yaml) in mine" in done.stderr


def test_mock_broker_demo_serves_broker_and_portal_registered_with_each_other(installed, empty_dir):
    bport, pport = free_port(), free_port()
    proc = subprocess.Popen([str(installed / "mock-broker"), "demo", "--broker-port", str(bport),
                             "--portal-port", str(pport)], cwd=empty_dir, env=_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.startswith("Open ") or proc.poll() is not None:
                break
        assert lines[-1].startswith(f"Open http://127.0.0.1:{pport}/"), "".join(lines)
        # The portal's DV is registered at the broker, and a scenario runs against the pair.
        sps = requests.get(f"http://127.0.0.1:{bport}/_mock/sps", timeout=5).json()["sps"]
        assert [s["entity_id"] for s in sps] == ["urn:etoegang:DV:00000001002003004000:entities:9001"]
        done = _run(installed, empty_dir, "harness", "run", "service-view-readonly", "--broker-url",
                    f"http://127.0.0.1:{bport}", "--portal-url", f"http://127.0.0.1:{pport}")
        assert done.returncode == 0, done.stdout + done.stderr
        assert (empty_dir / "var" / "example-portal.sqlite3").is_file()  # the portal's database, here
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
