"""Running a selection of scenarios: servers per worker (or the URLs given), expected failures, one result list.

The world follows the portal: before the first scenario each worker maps the FAQ's roles (view, edit) to
the portal's services (the profile's `services`, or derived from the DV's registration at the broker),
and after each reset the world's mandates are bound to them again (`bind_world=False` keeps the world
as the broker has it).
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ehsaml.datafile import DataFileError, read_yaml

from .brokerapi import Broker, PortalServices, portal_services
from .cases import load_cases
from .engine import Run, ScenarioResult, Verdict
from .httpclient import Connections
from .profile import Profile
from .scenario import Scenario
from .servers import Servers, start_pair

# Exit codes of `harness run` (README, "Exit codes"): 0 every scenario that ran passed; 1 a failure, an
# error, a not-tested or a stale expected failure; 2 bad input; 3 nothing was tested at all.
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_NOTHING_TESTED = 0, 1, 2, 3
TESTED = (Verdict.PASSED, Verdict.FAILED, Verdict.ERROR, Verdict.XFAIL, Verdict.XPASS)
FAILING = (Verdict.FAILED, Verdict.ERROR, Verdict.XPASS, Verdict.NOT_TESTED)


class ExpectedFailuresError(DataFileError):
    pass


def load_expected_failures(path: str | Path, known_ids: set[str] | None) -> dict[str, str]:
    """A YAML list of {id, reason}: scenarios that fail today on purpose. Unknown ids are an error
    (`known_ids` None: the security suite's ids are only known once the broker's catalogue is read)."""
    f = read_yaml(path, what="expected-failures file", error_class=ExpectedFailuresError)
    if f.data is None:
        return {}
    if not isinstance(f.data, list):
        raise ExpectedFailuresError("give a list of {id, reason}", file=f.source, line=1)
    out = {}
    for i, entry in enumerate(f.data):
        if not isinstance(entry, dict) or set(entry) != {"id", "reason"}:
            raise f.error((i,), "each entry is {id: <scenario id>, reason: <why it fails today>}")
        if known_ids is not None and entry["id"] not in known_ids:
            raise f.error((i, "id"), f"no scenario with id {entry['id']!r}")
        if entry["id"] in out:
            raise f.error((i, "id"), f"{entry['id']!r} is listed twice")
        out[entry["id"]] = entry["reason"]
    return out


@dataclass
class RunReport:
    results: list[ScenarioResult]
    seconds: float
    workers: int
    profile: str
    expected_failures: dict[str, str] = field(default_factory=dict)
    services: str = ""  # how the roles view/edit were mapped to the portal's services
    unused_expected: list[str] = field(default_factory=list)  # listed ids that were not in this run
    not_run: int = 0  # --exitfirst: the scenarios left after the first failure

    def count(self, verdict: str) -> int:
        return sum(1 for r in self.results if r.verdict == verdict)

    @property
    def nothing_tested(self) -> bool:
        return not any(r.verdict in TESTED for r in self.results)

    @property
    def ok(self) -> bool:
        """True only when something was tested and nothing failed, errored, was not tested, or passed while listed."""
        return not self.nothing_tested and not any(r.verdict in FAILING for r in self.results)

    @property
    def exit_code(self) -> int:
        if self.nothing_tested:
            return EXIT_NOTHING_TESTED
        return EXIT_OK if self.ok else EXIT_FAILED

    def causes(self, verdict: str) -> list[tuple[str, int]]:
        """The reasons of the scenarios with this verdict, most frequent first (for the summary)."""
        return Counter(_cause(r.reason) for r in self.results if r.verdict == verdict).most_common()


def _cause(reason: str) -> str:
    """A reason without its step prefix, so that the same cause of many scenarios counts once."""
    head, sep, rest = reason.partition("): ")
    return rest if sep and head.startswith("step ") else reason


def run(scenarios: list[Scenario] | Callable[[str], list[Scenario]], profile: Profile, *,
        broker_url: str | None = None, portal_url: str | None = None, workers: int = 1,
        expected_failures: dict[str, str] | None = None, portal_args: tuple[str, ...] = (),
        bind_world: bool = True, strict_reasons: bool = False, exitfirst: bool = False) -> RunReport:
    """Run every scenario. Without URLs, each worker starts its own broker and example portal.

    `scenarios` may be a function of a broker URL (the security suite reads the broker's catalogue):
    the first worker with a broker calls it. `exitfirst`: no scenario is started after the first one that fails
    the run (the rest count as not run).
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
    mapped: list[PortalServices] = []
    # Scenarios that wait (a broker answering only after seconds, for a portal's time-out) run in a lane of
    # their own, beside the workers, with servers of its own: the wait overlaps with the rest of the run.
    # With given URLs there is one broker and one portal, so they take their turn like the others.
    waiting: queue.Queue[Scenario] = queue.Queue()
    lanes: list[threading.Thread] = []

    def fill(broker: str) -> None:
        with lock:
            if not ready.is_set():
                listing.extend(scenarios(broker) if callable(scenarios) else scenarios)
                overlap = broker_url is None
                for s in listing:
                    (waiting if overlap and "waits" in s.tags else todo).put(s)
                if not waiting.empty():
                    lane = threading.Thread(target=worker, args=(waiting,), name="harness-waiting")
                    lanes.append(lane)
                    lane.start()
                ready.set()

    def worker(mine: queue.Queue | None = None):
        servers: Servers | None = None
        connections = Connections()  # this worker's scenarios run one after the other on the same connections
        try:
            if broker_url is None:
                servers = start_pair(profile.data.get("metadata", "/saml/metadata"), profile.data.get("catalogue"),
                                     portal_args=portal_args)
                b, p = servers.broker_url, servers.portal_url
            else:
                b, p = broker_url, portal_url
            fill(b)
            services = portal_services(Broker(b), profile.dv_entity_id, profile.services) if bind_world else None
            if services is not None:
                mapped.append(services)
            while True:
                try:
                    scenario = (mine or todo).get_nowait()
                except queue.Empty:
                    return
                outcome = Run(scenario, profile, b, p, services=services, bind_world=bind_world,
                              strict_reasons=strict_reasons, connections=connections).execute()
                with lock:
                    results.append(_judge(outcome, expected_failures))
                    if exitfirst and results[-1].verdict in FAILING:
                        while not todo.empty():
                            todo.get_nowait()
        except BaseException as exc:  # reported after the threads end, never swallowed
            problems.append(exc)
            ready.set()
        finally:
            connections.close()
            if servers is not None:
                servers.stop()

    threads = [threading.Thread(target=worker, name=f"harness-worker-{i}") for i in range(max(1, workers))]
    for t in threads:
        t.start()
    if callable(scenarios):  # the security suite's scenarios read the FAQ case catalogue: read it while servers start
        try:
            load_cases()
        except DataFileError:
            pass  # named by the worker that builds the scenarios
    for t in threads:
        t.join()
    for t in lanes:
        t.join()
    if problems:
        raise problems[0]
    order = {s.id: i for i, s in enumerate(listing)}
    results.sort(key=lambda r: order[r.scenario.id])
    how = (f"view = {mapped[0].ids['view']}, edit = {mapped[0].ids['edit']} ({mapped[0].how})" if mapped
           else "the broker's world as it is (not bound to the portal's services)")
    unused = sorted(set(expected_failures) - set(order))
    return RunReport(results, time.monotonic() - started, max(1, workers), profile.name, expected_failures, how,
                     unused, not_run=len(listing) - len(results))


def _judge(result: ScenarioResult, expected_failures: dict[str, str]) -> ScenarioResult:
    """A listed scenario that fails (or errors) as expected is xfail; one that passes now is xpass, failing the run."""
    why = expected_failures.get(result.scenario.id)
    if why is None:
        return result
    if result.verdict in (Verdict.FAILED, Verdict.ERROR):
        result.verdict, result.reason = Verdict.XFAIL, f"expected failure ({why}): {result.reason}"
    elif result.verdict == Verdict.PASSED:
        result.verdict = Verdict.XPASS
        result.reason = f"listed as an expected failure ({why}) but it passes now: remove it from the list"
    return result
