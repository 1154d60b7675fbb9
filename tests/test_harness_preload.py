"""Servers forked from the harness's preloading process: each its own process, stopped, reaped, never orphaned."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
import requests

from harness import preload
from harness.servers import ServerError, free_port, start_pair

pytestmark = pytest.mark.skipif(not preload.AVAILABLE, reason="the preloader forks, on Linux only")


def _alive(pid: int) -> bool:
    """Running, not gone and not a zombie waiting for its reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_a_preloaded_pair_is_two_processes_of_their_own_that_stop():
    servers = start_pair(preloaded=True)
    pids = {p.proc.pid for p in servers.processes}
    try:
        assert os.getpid() not in pids and len(pids) == 2
        assert requests.get(servers.broker_url + "/saml/metadata", timeout=5).status_code == 200
        assert requests.get(servers.portal_url + "/saml/metadata", timeout=5).status_code == 200
    finally:
        servers.stop()
    assert [p.proc.returncode for p in servers.processes] == [-signal.SIGTERM] * 2  # stopped by SIGTERM, reaped
    assert not any(_alive(pid) for pid in pids)


def test_a_child_s_exit_code_and_log_are_its_own(tmp_path):
    loader = preload.Preloader()
    try:
        child = loader.spawn("example_portal.cli", ["serve", "--port", "not-a-port"], str(tmp_path / "p.log"))
        deadline = time.monotonic() + 15
        while child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert child.returncode == 2  # argparse's refusal
        assert "--port: invalid" in (tmp_path / "p.log").read_text()
    finally:
        loader.close()


def test_servers_end_when_the_harness_goes_away(tmp_path):
    # the harness killed outright: its preloader sees stdin close, and the kernel stops the children
    loader = preload.Preloader()
    port = free_port()
    child = loader.spawn("mock_broker.cli", ["serve", "--port", str(port), "--metadata-dir", ""],
                         str(tmp_path / "b.log"))
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/saml/metadata", timeout=1)
            break
        except requests.RequestException:
            time.sleep(0.05)
    loader._proc.kill()
    loader._proc.wait()
    deadline = time.monotonic() + 10
    while _alive(child.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    loader.close()
    assert not _alive(child.pid)


def test_a_preloader_that_cannot_start_is_a_server_error_that_says_so(monkeypatch, tmp_path):
    broken = preload.Preloader([sys.executable, "-c", "import sys; sys.exit(3)"])
    monkeypatch.setattr(preload, "shared", lambda: broken)
    with pytest.raises(ServerError, match=r"broker could not be started: the preloading process stopped \(exit 3\)"):
        start_pair(preloaded=True, workdir=tmp_path)
    broken.close()
