"""Start the mock broker and the example portal as real processes on free loopback ports."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from ehsaml.processes import stop_process

from . import preload

START_TIMEOUT = 30
# The example portal the runner starts gives up an artifact resolution after 2 s (its own default is 5):
# the time-out case (a broker answering after 8 s) proves it gives up, and waits 2 s, not 5, in a lane of its own.
ARTIFACT_TIMEOUT = 2


class ServerError(Exception):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Process:
    name: str
    url: str
    proc: subprocess.Popen | preload.Child
    log: Path

    def stop(self) -> None:
        if isinstance(self.proc, preload.Child):
            try:
                self.proc.stop()
            except preload.PreloadError:
                pass  # the preloader is gone, and its children ended with it
        else:
            stop_process(self.proc)


def _spawn(name: str, args: list[str], url: str, workdir: Path, preloaded: bool) -> Process:
    """`python -m <args>`, or the same forked from the preloaded interpreter (harness.preload)."""
    log = workdir / f"{name}.log"
    if preloaded:
        try:
            return Process(name, url, preload.shared().spawn(args[0], args[1:], str(log)), log)
        except preload.PreloadError as exc:
            raise ServerError(f"{name} could not be started: {exc}") from None
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", *args], stdout=out, stderr=subprocess.STDOUT)
    return Process(name, url, proc, log)


def _wait_ready(started: list[Process], ready_path: str) -> None:
    """Until every process answers `ready_path`; ServerError naming the one that stopped or stayed silent."""
    deadline = time.monotonic() + START_TIMEOUT
    waiting = list(started)
    while waiting:
        for p in list(waiting):
            try:
                stopped = p.proc.poll() is not None
            except preload.PreloadError as exc:
                raise ServerError(f"{p.name} could not be started: {exc}") from None
            if stopped:
                raise ServerError(f"{p.name} stopped at start (exit {p.proc.returncode}): {p.log.read_text()[-1500:]}")
            try:
                if requests.get(p.url + ready_path, timeout=1).status_code == 200:
                    waiting.remove(p)
            except requests.RequestException:
                pass
        if waiting and time.monotonic() > deadline:
            raise ServerError(f"{waiting[0].name} did not answer at {waiting[0].url}{ready_path} within "
                              f"{START_TIMEOUT} s; see {waiting[0].log}")
        if waiting:
            time.sleep(0.005)


@dataclass
class Servers:
    """A broker and an example portal that know each other, for one runner worker."""

    broker_url: str
    portal_url: str
    processes: list[Process] = field(default_factory=list)
    workdir: Path | None = None
    own_workdir: bool = False  # made by start_pair: removed at stop (a given folder is the caller's)

    def stop(self) -> None:
        for p in self.processes:
            p.stop()
        if self.own_workdir and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)


def start_pair(profile_metadata: str = "/saml/metadata", profile_catalogue: str | None = "/saml/dienstcatalogus",
               workdir: Path | None = None, portal_args: tuple[str, ...] = (),
               preloaded: bool = preload.AVAILABLE) -> Servers:
    """Broker and example portal on free ports; the portal registered with the broker through the control API.

    Without `workdir`, their logs and the portal's database go to a temporary folder that stop() removes; when
    they fail to start, it stays, for the log the error names. `preloaded`: forked from the harness's
    preloading process (harness.preload; the default on Linux), else each started as `python -m`."""
    own = workdir is None
    workdir = Path(workdir or tempfile.mkdtemp(prefix="harness-"))
    bport, pport = free_port(), free_port()
    broker_url, portal_url = f"http://127.0.0.1:{bport}", f"http://127.0.0.1:{pport}"
    # Both at once (the portal reads the broker's metadata only at its first login): start-up is one
    # interpreter's imports, not two in a row.
    processes: list[Process] = []
    try:  # a portal that cannot be started stops the broker started before it
        processes.append(_spawn("broker", ["mock_broker.cli", "serve", "--port", str(bport), "--metadata-dir", ""],
                                broker_url, workdir, preloaded))
        processes.append(_spawn("portal", ["example_portal.cli", "serve", "--port", str(pport), "--testing",
                                           "--db", str(workdir / "portal.sqlite3"),
                                           "--broker-metadata", f"{broker_url}/saml/metadata",
                                           "--artifact-timeout", str(ARTIFACT_TIMEOUT), *portal_args],
                                portal_url, workdir, preloaded))
        _wait_ready(processes, "/saml/metadata")
        register(broker_url, portal_url + profile_metadata,
                 portal_url + profile_catalogue if profile_catalogue else None)
    except Exception:
        for p in processes:
            p.stop()
        raise
    return Servers(broker_url, portal_url, processes, workdir, own_workdir=own)


def register(broker_url: str, metadata_url: str, catalogue_url: str | None) -> None:
    body = {"metadata_url": metadata_url}
    if catalogue_url:
        body["catalogue_url"] = catalogue_url
    resp = requests.post(f"{broker_url}/_mock/sps", json=body, timeout=15)
    if resp.status_code != 201:
        raise ServerError(f"the broker refused the portal's metadata: {resp.text[:500]}")
