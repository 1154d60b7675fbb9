"""`mock-broker serve | certs | metadata` as a user runs them."""

from __future__ import annotations

import subprocess
import sys

from ehsaml.keys import load_keypair
from mock_broker.cli import main


def test_serve_refuses_a_non_loopback_host(capsys):
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "not a loopback address" in err and "--allow-remote" in err


def test_certs_writes_test_only_keys_and_refuses_to_overwrite(tmp_path, capsys):
    assert main(["certs", "--dir", str(tmp_path)]) == 0
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == sorted(f"{n}.TEST-ONLY.{ext}" for n in ("broker", "portal", "attacker") for ext in ("key", "crt"))
    keypair = load_keypair(str(tmp_path / "broker.TEST-ONLY.key"), str(tmp_path / "broker.TEST-ONLY.crt"))
    assert "TEST ONLY" in keypair.certificate.cert.subject.rfc4514_string()
    before = (tmp_path / "broker.TEST-ONLY.key").read_bytes()
    assert main(["certs", "--dir", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "broker.TEST-ONLY.key").read_bytes() == before


def test_metadata_prints_signed_metadata_for_the_given_base_url(capsys):
    assert main(["metadata", "--port", "9999", "--metadata-dir", ""]) == 0
    out = capsys.readouterr().out
    assert 'entityID="urn:etoegang:HM:' in out and "http://127.0.0.1:9999/saml/sso" in out
    assert "<ds:Signature" in out


def test_bad_world_file_is_a_clear_error_not_a_traceback(tmp_path, capsys):
    bad = tmp_path / "world.yaml"
    bad.write_text("version: 1\norganisations: []\nmandates: []\npeople:\n  - {id: x, name: X, level: EH9}\n")
    assert main(["metadata", "--world", str(bad), "--metadata-dir", ""]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "line 5" in err and "'level'" in err and "EH9" in err and "Traceback" not in err


def test_serve_starts_and_says_test_only(tmp_path):
    """The real command on a free port: it announces TEST ONLY and serves metadata."""
    import socket
    import time

    import requests
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "mock_broker.cli", "serve", "--port", str(port)],
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                resp = requests.get(f"http://127.0.0.1:{port}/saml/metadata", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            raise AssertionError("the broker did not start within 20 s")
        assert resp.status_code == 200 and b"IDPSSODescriptor" in resp.content
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert "FOR TESTS ONLY" in err
