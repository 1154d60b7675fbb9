"""Suite time: the FAQ and security catalogues against the example portal, and the project's pytest suite.

    python bench/suite.py [--quick]

The issue's figure: the FAQ catalogue plus the security catalogue run by the harness against the
example portal, serial and with parallel workers (goal: under 10 s on 2 cores), and how the time grows
with the number of scenarios. Wall time includes starting the broker and portal processes.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

from machine import ROOT, describe


def catalogue_suite(workers: int = 1, fraction: float = 1.0) -> dict:
    """Run the FAQ + security catalogues (or the first `fraction` of them) with the harness; wall time."""
    sys.path.insert(0, str(ROOT))
    from harness.profile import load_profile
    from harness.runner import run
    from harness.scenario import load_all
    from harness.security import fault_scenarios

    faq = load_all()

    def chosen(broker: str):
        everything = faq + fault_scenarios(broker)
        return everything[: max(1, round(len(everything) * fraction))]

    t0 = time.perf_counter()
    report = run(chosen, load_profile(), workers=workers)
    seconds = time.perf_counter() - t0
    return {"scenarios": len(report.results), "workers": workers, "seconds": round(seconds, 2),
            "passed": report.count("passed"), "ok": report.ok}


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
              f"({r['passed']} passed; goal < 10 s with parallel workers)")
    for fraction in (0.25, 0.5, 1.0):
        r = catalogue_suite(1, fraction)
        print(f"  growth, 1 worker, {int(fraction * 100):3d}% of the scenarios: {r['scenarios']:4d} in {r['seconds']:6.2f} s")
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
