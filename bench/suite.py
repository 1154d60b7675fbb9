"""Suite time: the FAQ and security catalogues against the example portal, and the project's pytest suite.

    python bench/suite.py [--quick]

The issue's figures: the FAQ catalogue plus the security catalogue run by the harness against the
example portal, with 1 and 2 workers (goal: at most 5 s with 2 workers on 2 cores); how the time grows
with the number of scenarios; how long the pytest plugin's broker and portal take to be ready (goal: at
most 1 s). Wall time includes starting the broker and portal processes.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time

from machine import ROOT, describe


def catalogue_suite(workers: int = 1, fraction: float = 1.0) -> dict:
    """Run the FAQ + security catalogues (or the first `fraction` of them) with the harness; wall time."""
    sys.path.insert(0, str(ROOT))
    from harness.profile import load_profile
    from harness.runner import run
    from harness.scenario import load_suite
    from harness.security import fault_scenarios

    faq = load_suite()

    def chosen(broker: str):
        everything = faq + fault_scenarios(broker)
        return everything[: max(1, round(len(everything) * fraction))]

    t0 = time.perf_counter()
    report = run(chosen, load_profile(), workers=workers)
    seconds = time.perf_counter() - t0
    _end_preloader()  # the next run starts its own, as every `harness run` does
    return {"scenarios": len(report.results), "workers": workers, "seconds": round(seconds, 2),
            "passed": report.count("passed"), "ok": report.ok}


def _end_preloader() -> None:
    from harness import preload

    if preload.AVAILABLE:
        preload.shared().close()


def plugin_ready(times: int = 5) -> tuple[list[float], list[float]]:
    """Seconds until a broker and an example portal are up and registered with each other: as the pytest
    plugin's session fixture starts them (the harness's preloading process started too), and a second pair
    in the same process (each further runner worker's)."""
    sys.path.insert(0, str(ROOT))
    from harness.servers import start_pair

    first, more = [], []
    for _ in range(times):
        for out in (first, more):
            t0 = time.perf_counter()
            servers = start_pair()
            out.append(time.perf_counter() - t0)
            servers.stop()
        _end_preloader()
    return first, more


def pytest_run(*args: str) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                         cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    lines = [line for line in out.stdout.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    return elapsed, (lines[-1].strip("= ") if lines else f"exit {out.returncode}: {out.stdout[-300:]}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the browser tests and the Redis re-run")
    args = parser.parse_args()
    describe("suite time (serial, wall clock, includes interpreter start and collection)")
    for workers in (1, 2):
        r = catalogue_suite(workers)
        print(f"catalogues FAQ + security, {workers} worker(s): {r['seconds']:6.2f} s for {r['scenarios']} scenarios "
              f"({r['passed']} passed{'; goal <= 5 s' if workers == 2 else ''})")
    for fraction in (0.25, 0.5, 1.0):
        r = catalogue_suite(2, fraction)
        print(f"  growth, 2 workers, {int(fraction * 100):3d}% of the scenarios: {r['scenarios']:4d} in "
              f"{r['seconds']:6.2f} s")
    first, more = plugin_ready()
    print(f"plugin's broker + portal ready: median {statistics.median(first):.2f} s, max {max(first):.2f} s "
          f"of {len(first)} starts with the preloader's own (goal <= 1 s); a further pair: median "
          f"{statistics.median(more):.2f} s")
    runs = [("pytest, not browser", ["-m", "not browser"])]
    if not args.quick:
        runs += [("pytest, all (browser too)", []), ("pytest, not browser, --store redis", ["-m", "not browser",
                                                                                            "--store", "redis"])]
    for name, extra in runs:
        seconds, summary = pytest_run(*extra)
        print(f"{name:<38}: {seconds:6.2f} s   ({summary})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
