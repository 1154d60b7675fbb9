"""The interop portals (interop/<library>/server.py) as harness targets: each in its library's venv, on a free
loopback port, trusting a broker the test started, registered with it as its profile says.

    with portal_app("python3_saml", broker_url) as app:
        result = run(scenarios, app.profile, broker_url=broker_url, portal_url=app.url)
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from ehsaml.processes import stop_process
from ehsaml.testids import BROKER_OIN
from harness.brokerapi import Broker
from harness.profile import PROFILE_DIR, Profile, load_profile
from harness.runner import load_expected_failures
from harness.servers import free_port
from interop_env import DV_CERT, DV_KEY, INTEROP, venv_python

START_TIMEOUT = 90


@dataclass(frozen=True)
class App:
    """How one library's portal is started; its profile and expected failures ship in harness/profiles/."""

    library: str  # interop/<library>/
    profile_name: str
    args: tuple[str, ...] = ()  # beside --broker, --port, --key, --cert

    @property
    def profile(self) -> Profile:
        return load_profile(PROFILE_DIR / f"{self.profile_name}.yaml")

    def expected_failures(self) -> dict[str, str]:
        return load_expected_failures(PROFILE_DIR / "expected-failures" / f"{self.profile_name}.yaml", None)


APPS = {
    "django_digid_eherkenning": App("django_digid_eherkenning", "django-digid-eherkenning",
                                    ("--oin", "00000009000000000101", "--broker-oin", BROKER_OIN,
                                     "--entity-id", "urn:etoegang:DV:00000009000000000101:entities:9001")),
    "python3_saml": App("python3_saml", "python3-saml", ("--entity-id", "https://python3-saml.interop.test/saml/metadata",
                                                          "--service-id",
                                                          "urn:etoegang:DV:00000009000000000202:services:1")),
    "pysaml2": App("pysaml2", "pysaml2", ("--entity-id", "https://pysaml2.interop.test/saml2/metadata",)),
}


@dataclass
class Running:
    app: App
    url: str
    proc: subprocess.Popen
    log: Path

    @property
    def profile(self) -> Profile:
        return self.app.profile


def python_for(library: str) -> str:
    # pysaml2 is the project's own dependency: its portal runs with this interpreter, as its driver does
    return sys.executable if library == "pysaml2" else str(venv_python(library))


@contextlib.contextmanager
def portal_app(library: str, broker_url: str, *, register: bool = True):
    """Start the library's portal trusting `broker_url`; register it there (the profile's metadata, catalogue and
    register.options) unless `register` is false; stop it after."""
    app = APPS[library]
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix=f"interop-{library}-"))
    log = workdir / "server.log"
    cmd = [python_for(library), str(INTEROP / library / "server.py"), "--broker", broker_url, "--port", str(port),
           "--key", str(DV_KEY), "--cert", str(DV_CERT), *app.args]
    if library == "django_digid_eherkenning":
        cmd += ["--workdir", str(workdir)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd=str(workdir))
    running = Running(app, f"http://127.0.0.1:{port}", proc, log)
    try:
        _wait(running)
        if register:
            profile = app.profile
            catalogue = profile.data.get("catalogue")
            Broker(broker_url).register(running.url + profile.data["metadata"],
                                        running.url + catalogue if catalogue else None, profile.register_options)
        yield running
    finally:
        stop_process(proc)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait(running: Running) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if running.proc.poll() is not None:
            raise AssertionError(f"{running.app.library} portal stopped (exit {running.proc.returncode}):\n"
                                 f"{running.log.read_text()[-3000:]}")
        try:
            if requests.get(running.url + "/whoami", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"{running.app.library} portal did not answer within {START_TIMEOUT} s; see {running.log}")
