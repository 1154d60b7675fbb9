"""Suite time: the project's own pytest suite, serial, wall time (and on the Redis store).

    python bench/suite.py [--quick]

The issue's figure is the FAQ catalogue plus the security catalogue run against the example portal,
serial and with parallel workers, goal under 10 s on 2 cores: `catalogue_suite()` is the place for it
once the harness exists. Until then this prints what exists: the project's pytest suite.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

from machine import ROOT, describe


def catalogue_suite(parallel: int | None = None) -> dict | None:
    """PLACEHOLDER for the lead: run the FAQ + security catalogues against the example portal.

    Return {"scenarios": n, "seconds": wall time} for a serial run (parallel=None) and for `parallel`
    workers; None while the harness does not exist. Also print how the time grows with the number of
    scenarios (e.g. run the first 25%, 50%, 100% of them).
    """
    return None


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
    runs = [("pytest, not browser", ["-m", "not browser"])]
    if not args.quick:
        runs += [("pytest, all (browser too)", []), ("pytest, not browser, --store redis", ["-m", "not browser",
                                                                                            "--store", "redis"])]
    for name, extra in runs:
        seconds, summary = pytest_run(*extra)
        print(f"{name:<38}: {seconds:6.2f} s   ({summary})")
    result = catalogue_suite()
    if result is None:
        print("catalogues (FAQ + security) vs example portal: not measured yet (harness pending; see catalogue_suite)")
    else:
        print(f"catalogues: {result}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
