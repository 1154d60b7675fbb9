"""Field paths of a profile: how a profile names a value in a portal's JSON (its /whoami, its test endpoints).

    logged_in                                   a key
    last_refusal.code                           keys, separated by dots
    companies[0].kvk                            [n] is an item of a list ([-1]: the last)
    attributes["urn:etoegang:1.9:IntermediateEntityID:KvKnr"][0]
                                                ["..."] (or '...') is a key as written: dots, colons, anything
                                                but that quote

A plain key may hold colons (`urn:etoegang:core:ServiceID`) but not dots, brackets or quotes: quote it.
A value that is not there reads as MISSING, which equals nothing (not even null), so an expectation is
never met by a field the portal does not send; a null on the way reads as null (the portal sent it).
"""

from __future__ import annotations

import re
from typing import Any

_TOKEN = re.compile(r"""\[(-?\d+)\]|\["([^"]*)"\]|\['([^']*)'\]|([^.\[\]"']+)""")


class PathError(ValueError):
    """A path that cannot be read; the message says where in it."""


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = _Missing()


def parse(path: str) -> tuple[str | int, ...]:
    """'a.b[0]["c.d"]' → ('a', 'b', 0, 'c.d'); PathError naming the position of what does not fit."""
    if not isinstance(path, str) or not path.strip():
        raise PathError("an empty path (give a key, e.g. logged_in, or a path such as last_refusal.code)")
    if path.endswith("."):
        raise PathError(f"{path!r}: ends with '.'")
    parts: list[str | int] = []
    pos = 0
    while pos < len(path):
        if parts and path[pos] == "." and not path.startswith(".[", pos):
            pos += 1
        elif parts and path[pos] != "[":
            raise PathError(f"{path!r}: expected '.' or '[' at position {pos + 1}, found {path[pos]!r}")
        m = _TOKEN.match(path, pos)
        if m is None or m.end() == pos:
            raise PathError(f"{path!r}: cannot read position {pos + 1} ({path[pos:]!r}); quote a key with dots or "
                            f"brackets as [\"...\"]")
        index, dq, sq, plain = m.groups()
        if plain is not None and pos and path[pos - 1] != ".":
            raise PathError(f"{path!r}: expected '.' before {plain!r} at position {pos + 1}")
        parts.append(int(index) if index is not None else dq if dq is not None else sq if sq is not None else plain)
        pos = m.end()
    return tuple(parts)


def read(data: Any, path: str | tuple) -> Any:
    """The value at `path` in `data`, or MISSING."""
    for part in parse(path) if isinstance(path, str) else path:
        if data is None:  # a null on the way (last_refusal: null): the portal says there is nothing
            return None
        if isinstance(part, int):
            if not isinstance(data, list) or not -len(data) <= part < len(data):
                return MISSING
            data = data[part]
        else:
            if not isinstance(data, dict) or part not in data:
                return MISSING
            data = data[part]
    return data
