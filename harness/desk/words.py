"""A report in the customer's own words → symptoms, facts and numbers, by the case catalogue's patterns.

Nothing here knows a case: the patterns (Dutch and English) are `symptoms`, `facts` and `numbers` of
harness/cases.yaml. The reading is a suggestion a support desk can overrule field by field (report file, flags).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from ehsaml.eherkenning import is_rsin

_NUMBER = re.compile(r"(?<![\d/])(\d{12}|\d{9}|\d{8})(?![\d/])")
_EIDAS = re.compile(r"\b[A-Z]{2}/[A-Z]{2}/[A-Za-z0-9][\w.\-]*")
_QUOTED = re.compile(r"[\"“'‘]([^\"”'’]{3,80})[\"”'’]")
_CUE_REACH = 40  # characters before a number in which a cue word counts


@dataclass(frozen=True)
class Reading:
    """What the words say: symptom codes (the most telling first), facts, numbers and phrases quoted from a page."""

    symptoms: tuple[str, ...] = ()
    facts: dict = field(default_factory=dict)
    numbers: dict = field(default_factory=dict)
    quoted: tuple[str, ...] = ()
    unplaced: tuple[str, ...] = ()  # numbers found that fit no field


@functools.lru_cache(maxsize=256)
def _rx(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


def first_match(patterns: list[str], text: str) -> int | None:
    """The position of the earliest match of any pattern, or None."""
    found = [m.start() for p in patterns if (m := _rx(p).search(text))]
    return min(found) if found else None


def read_words(text: str | None, catalogue: dict) -> Reading:
    if not text or not text.strip():
        return Reading()
    found = []
    for code, entry in catalogue["symptoms"].items():
        at = first_match(entry["words"], text)
        if at is not None:
            found.append((bool(entry.get("general")), at, code))
    facts = {}
    for fact, values in catalogue["facts"].items():
        value = next((v["value"] for v in values if first_match(v["words"], text) is not None), None)
        if value is not None:
            facts[fact] = value
    numbers, unplaced = _numbers(text, catalogue["numbers"])
    quoted = tuple(m.group(1).strip() for m in _QUOTED.finditer(text))
    return Reading(tuple(code for _, _, code in sorted(found)), facts, numbers, quoted, unplaced)


def _numbers(text: str, cues: dict) -> tuple[dict, tuple[str, ...]]:
    out: dict[str, str] = {}
    unplaced: list[str] = []
    m = _EIDAS.search(text)
    if m:
        out["eidas"] = m.group(0).rstrip(".")
    for m in _NUMBER.finditer(text):
        digits = m.group(1)
        if len(digits) == 12:
            out.setdefault("branch", digits)
            continue
        if len(digits) == 9:
            if is_rsin(digits):
                out.setdefault("rsin", digits)
            else:
                unplaced.append(digits)
            continue
        before = text[max(0, m.start() - _CUE_REACH):m.start()]
        near = [(at.end(), name) for name, patterns in cues.items() for p in patterns
                for at in _rx(p).finditer(before)]
        name = max(near)[1] if near else "kvk"
        if name in out:
            name = next((n for n in ("kvk", "other_kvk") if n not in out), None)
        if name is None:
            unplaced.append(digits)
        else:
            out[name] = digits
    return out, tuple(unplaced)
