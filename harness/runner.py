"""Running a selection of scenarios: servers per worker (or the URLs given), expected failures, one result list."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ehsaml.datafile import DataFileError, read_yaml

from .engine import Run, ScenarioResult, Verdict
from .profile import Profile
from .scenario import Scenario
from .servers import Servers, start_pair


class ExpectedFailuresError(DataFileError):
    pass


def load_expected_failures(path: str | Path, known_ids: set[str]) -> dict[str, str]:
    """A YAML list of {id, reason}: scenarios that fail today on purpose. Unknown ids are an error."""
    f = read_yaml(path, what="expected-failures file", error_class=ExpectedFailuresError)
    if f.data is None:
        return {}
    if not isinstance(f.data, list):
        raise ExpectedFailuresError("give a list of {id, reason}", file=f.source, line=1)
    out = {}
    for i, entry in enumerate(f.data):
        if not isinstance(entry, dict) or set(entry) != {"id", "reason"}:
            raise f.error((i,), "each entry is {id: <scenario id>, reason: <why it fails today>}")
        if entry["id"] not in known_ids:
            raise f.error((i, "id"), f"no scenario with id {entry['id']!r}")
        out[entry["id"]] = entry["reason"]
    return out


@dataclass
class RunReport:
    results: list[ScenarioResult]
    seconds: float
    workers: int
    profile: str
    expected_failures: dict[str, str] = field(default_factory=dict)

    def count(self, verdict: str) -> int:
        return sum(1 for r in self.results if r.verdict == verdict)

    @property
    def ok(self) -> bool:
        """True only when nothing failed, errored, or passed while listed as an expected failure."""
        return not any(r.verdict in (Verdict.FAILED, Verdict.ERROR, Verdict.XPASS) for r in self.results)


def run(scenarios: list[Scenario] | Callable[[str], list[Scenario]], profile: Profile, *,
        broker_url: str | None = None, portal_url: str | None = None, workers: int = 1,
        expected_failures: dict[str, str] | None = None, portal_args: tuple[str, ...] = ()) -> RunReport:
    """Run every scenario. Without URLs, each worker starts its own broker and example portal.

    `scenarios` may be a function of a broker URL (the security suite reads the broker's catalogue):
    the first worker with a broker calls it.
    """
    if (broker_url is None) != (portal_url is None):
        raise ValueError("give both --broker-url and --portal-url, or neither (the runner starts both)")
    if broker_url is not None and workers > 1:
        raise ValueError("parallel workers need servers of their own: with given URLs, use --workers 1")
    expected_failures = expected_failures or {}
    started = time.monotonic()
    todo: queue.Queue[Scenario] = queue.Queue()
    listing: list[Scenario] = []
    ready = threading.Event()
    results: list[ScenarioResult] = []
    lock = threading.Lock()
    problems: list[BaseException] = []

    def fill(broker: str) -> None:
        with lock:
            if not ready.is_set():
                listing.extend(scenarios(broker) if callable(scenarios) else scenarios)
                for s in listing:
                    todo.put(s)
                ready.set()

    def worker():
        servers: Servers | None = None
        try:
            if broker_url is None:
                servers = start_pair(profile.data.get("metadata", "/saml/metadata"), profile.data.get("catalogue"),
                                     portal_args=portal_args)
                b, p = servers.broker_url, servers.portal_url
            else:
                b, p = broker_url, portal_url
            fill(b)
            while True:
                try:
                    scenario = todo.get_nowait()
                except queue.Empty:
                    return
                result = _judge(Run(scenario, profile, b, p).execute(), expected_failures)
                with lock:
                    results.append(result)
        except BaseException as exc:  # reported after the threads end, never swallowed
            problems.append(exc)
            ready.set()
        finally:
            if servers is not None:
                servers.stop()

    threads = [threading.Thread(target=worker, name=f"harness-worker-{i}") for i in range(max(1, workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if problems:
        raise problems[0]
    order = {s.id: i for i, s in enumerate(listing)}
    results.sort(key=lambda r: order[r.scenario.id])
    return RunReport(results, time.monotonic() - started, max(1, workers), profile.name, expected_failures)


def _judge(result: ScenarioResult, expected_failures: dict[str, str]) -> ScenarioResult:
    why = expected_failures.get(result.scenario.id)
    if why is None:
        return result
    if result.verdict == Verdict.FAILED:
        result.verdict, result.reason = Verdict.XFAIL, f"expected failure ({why}): {result.reason}"
    elif result.verdict == Verdict.PASSED:
        result.verdict = Verdict.XPASS
        result.reason = f"listed as an expected failure ({why}) but it passes now: remove it from the list"
    return result
