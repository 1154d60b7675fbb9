"""Interop tests: a virtual environment per SP library, a broker per test module, drivers in subprocesses.

django-digid-eherkenning (with its fork maykin-python3-saml) and upstream python3-saml both install the
import name `onelogin`, so each gets its own virtual environment in `.venv-interop/<name>`, built from
the pinned `interop/<name>/requirements.txt` on first use and rebuilt only when that file (or the
Python version) changes. Each library's driver (`interop/<name>/driver.py`) runs in its own process
and prints JSON.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from ehsaml.testkeys import CERTS_DIR

ROOT = Path(__file__).resolve().parent.parent
INTEROP = ROOT / "interop"
VENV_ROOT = Path(os.environ.get("INTEROP_VENV_ROOT", ROOT / ".venv-interop"))
CERTS = CERTS_DIR
DV_KEY = CERTS / "portal.TEST-ONLY.key"
DV_CERT = CERTS / "portal.TEST-ONLY.crt"
DRIVER_TIMEOUT = 120


def _stamp(requirements: Path) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def venv_python(name: str) -> Path:
    """The interpreter of `.venv-interop/<name>`, built (pip from PyPI) when missing or out of date."""
    requirements = INTEROP / name / "requirements.txt"
    venv = VENV_ROOT / name
    python = venv / "bin" / "python"
    stamp_file = venv / ".requirements.sha256"
    wanted = _stamp(requirements)
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    with open(VENV_ROOT / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two pytest processes must not build one venv at once
        if python.exists() and stamp_file.exists() and stamp_file.read_text() == wanted:
            return python
        shutil.rmtree(venv, ignore_errors=True)
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(requirements)],
        ]
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, timeout=900)
            if done.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                pytest.fail(f"building the {name} environment failed: {' '.join(step)}\n{done.stdout}\n{done.stderr}",
                            pytrace=False)
        stamp_file.write_text(wanted)
    return python


def run_driver(python: Path | str, name: str, broker_url: str, workdir: Path, *args: str) -> dict:
    """Run interop/<name>/driver.py; its last stdout line is JSON. A crash fails the test with stderr."""
    cmd = [str(python), str(INTEROP / name / "driver.py"), "--broker", broker_url, "--workdir", str(workdir), *args]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DJANGO_SETTINGS_MODULE")}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=DRIVER_TIMEOUT, env=env, cwd=str(workdir))
    if done.returncode != 0:
        raise AssertionError(f"{name} driver failed (exit {done.returncode}): {' '.join(args)}\n"
                             f"stdout: {done.stdout[-3000:]}\nstderr: {done.stderr[-5000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"{name} driver printed no JSON:\n{done.stdout}\n{done.stderr}"
    return json.loads(lines[-1])


# --- talking to the broker --------------------------------------------------------------------------

def register(broker_url: str, metadata: str, catalogue: str | None = None, **options) -> dict:
    body = {"metadata": metadata}
    if catalogue:
        body["catalogue"] = catalogue
    if options:
        body["options"] = options
    resp = requests.post(f"{broker_url}/_mock/sps", json=body, timeout=10)
    assert resp.status_code == 201, resp.text
    return resp.json()


def reset(broker_url: str) -> None:
    requests.post(f"{broker_url}/_mock/reset", timeout=5).raise_for_status()


def queue(broker_url: str, **answer) -> None:
    resp = requests.post(f"{broker_url}/_mock/next", json=answer, timeout=5)
    assert resp.status_code == 201, resp.text


def journal(broker_url: str) -> list[dict]:
    return requests.get(f"{broker_url}/_mock/journal", timeout=5).json()["entries"]


def exchange(broker_url: str) -> list[tuple[str, str | None, str]]:
    """The journal as (event, message type, reason), without control-API entries."""
    return [(e["event"], e.get("message_type"), e["reason"]) for e in journal(broker_url) if e["event"] != "control"]


def decisions(broker_url: str) -> list[dict]:
    return [e for e in journal(broker_url) if e["event"] == "decision"]


# --- what the SP received ------------------------------------------------------------------------------

def decrypt_identifiers(xml: str) -> dict[str, list[tuple[str, str]]]:
    """EncryptedIDs inside AttributeValues, decrypted with the DV's TEST-ONLY key: {attribute: [(qualifier, value)]}.

    The real libraries hand these on undecrypted (python3-saml, pysaml2) so the test plays the portal here.
    """
    from lxml import etree

    from ehsaml import ns, xenc
    from ehsaml.keys import load_keypair

    keypair = load_keypair(str(DV_KEY), str(DV_CERT))
    root = etree.fromstring(xml.encode() if isinstance(xml, str) else xml)
    out: dict[str, list[tuple[str, str]]] = {}
    for attribute in root.iter(ns.q("saml", "Attribute")):
        for encrypted in attribute.iter(ns.q("saml", "EncryptedID")):
            name_id = xenc.decrypt(encrypted, keypair, where=attribute.get("Name"))
            out.setdefault(attribute.get("Name"), []).append((name_id.get("NameQualifier"), name_id.text))
    return out


def validate_sent(broker_url: str) -> int:
    """Every message the broker sent (journal entries "sent" with xml) against the SAML 2.0 schemas."""
    from schemas import validate_saml_schema

    sent = [e for e in journal(broker_url) if e["event"] == "sent" and e.get("xml")]
    for entry in sent:
        try:
            validate_saml_schema(entry["xml"])
        except Exception as exc:
            raise AssertionError(f"journal #{entry['seq']} {entry.get('message_type')} ({entry['reason']}) breaks "
                                 f"the SAML schema: {exc}") from None
    return len(sent)
