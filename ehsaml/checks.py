"""The outcome of one named check, `Check(check, passed, actual, expected, rule)`.

Shared by the DV's checks (`ehsaml.dv.checks`) and the harness's verdicts on what a portal did.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Check:
    check: str
    passed: bool
    actual: object
    expected: object
    rule: str

    def explain(self) -> str:
        """One line a support desk can read out."""
        verdict = "passed" if self.passed else "FAILED"
        return f"{self.check} {verdict}: expected {self.expected}, got {self.actual} ({self.rule})"

    def as_dict(self) -> dict:
        return asdict(self)
