"""A pytest plugin: counts the inputs the fuzz tests tried (broker endpoints, DV checks, the portal's ACS) and
prints the total at the end.

Registered in conftest.py (`pytest_plugins`). The fuzz tests call `tried(endpoint)` once per input
they send; the terminal summary shows the counts whatever the capture mode (`-s` or not).
"""

from __future__ import annotations

import collections
import os

COUNTS: collections.Counter[str] = collections.Counter()
CI_TARGET = 10_000  # the whole suite's inputs per run (tests/test_broker_fuzz.py + tests/test_dv_fuzz.py)
FAILURES: list[str] = []


def examples(default: int) -> int:
    """Hypothesis examples per fuzz test: FUZZ_EXAMPLES (e.g. 5000 for a long run by hand), else `default`."""
    return int(os.environ.get("FUZZ_EXAMPLES", default))


def tried(endpoint: str, n: int = 1) -> None:
    COUNTS[endpoint] += n


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not COUNTS:
        return
    total = sum(COUNTS.values())
    terminalreporter.section("fuzzing")
    parts = ", ".join(f"{name} {n}" for name, n in sorted(COUNTS.items()))
    terminalreporter.write_line(f"fuzz: {total} inputs tried against the broker and the DV checks ({parts}); "
                                f"a whole CI run tries at least {CI_TARGET:,}")
    setting = os.environ.get("FUZZ_EXAMPLES")
    terminalreporter.write_line(f"fuzz: Hypothesis examples per property: "
                                f"{setting + ' (FUZZ_EXAMPLES)' if setting else 'the bounded CI default'}")
