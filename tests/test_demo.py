"""`mock-broker demo` (what ./start.sh runs): both servers on the ports given, wired, "Open" only once both answer."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest
import requests

from harness.servers import free_port
from mock_broker.cli import main


def _start(*args: str, cwd) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "mock_broker.cli", "demo", *args], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if line.startswith("Open ") or proc.poll() is not None:
            break
    return proc, lines


def test_demo_takes_both_ports_and_wires_the_metadata_urls(tmp_path):
    bport, pport = free_port(), free_port()
    proc, lines = _start("--broker-port", str(bport), "--portal-port", str(pport), "--db", str(tmp_path / "p.db"),
                         cwd=tmp_path)
    try:
        assert lines[-1].startswith(f"Open http://127.0.0.1:{pport}/"), "".join(lines)
        # "Open" comes after both answered and the portal was registered: both answer now.
        assert requests.get(f"http://127.0.0.1:{bport}/saml/metadata", timeout=5).status_code == 200
        login = requests.get(f"http://127.0.0.1:{pport}/login?service=2", allow_redirects=False, timeout=5)
        assert login.status_code == 302
        assert login.headers["Location"].startswith(f"http://127.0.0.1:{bport}/saml/sso?SAMLRequest=")
        page = requests.get(login.headers["Location"], timeout=5)  # the broker knows the portal's DV
        assert page.status_code == 200 and "Bakkerij De Vries" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        proc.stdout.close()
    assert proc.returncode == 0  # SIGTERM stops both servers cleanly
    for port in (bport, pport):  # both servers are gone: nothing listens on their ports any more
        with socket.socket() as s, pytest.raises(ConnectionRefusedError):
            s.connect(("127.0.0.1", port))


def test_demo_refuses_a_busy_port_and_names_it(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["demo", "--broker-port", str(free_port()), "--portal-port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port} on 127.0.0.1 is in use" in err and "--portal-port" in err
    assert "Open" not in capsys.readouterr().out


def test_demo_refuses_one_port_for_both(capsys):
    assert main(["demo", "--broker-port", "8499", "--portal-port", "8499"]) == 2
    assert "give two ports" in capsys.readouterr().err
