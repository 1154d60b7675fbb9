"""bench/mutants.py's rules for what a mutation run leaves undrawn: annotations under PEP 563, the words of a DV
check's diagnostic, code that runs only with a --defect. A wrong rule would hide real mutants from the score."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import mutants as M  # noqa: E402


def _text(source: str, spans) -> list[str]:
    lines = source.splitlines()
    out = []
    for (l1, c1), (l2, c2) in spans:
        if l1 == l2:
            out.append(lines[l1 - 1][c1:c2])
        else:
            out.append("\n".join([lines[l1 - 1][c1:], *lines[l1:l2 - 1], lines[l2 - 1][:c2]]))
    return out


def test_annotations_are_spans_only_under_future_annotations():
    source = "from __future__ import annotations\ndef f(x: int | None = None) -> list[str]:\n    y: dict = {}\n"
    assert sorted(_text(source, M.annotation_spans(source))) == ["dict", "int | None", "list[str]"]
    assert M.annotation_spans(source.split("\n", 1)[1]) == []  # evaluated annotations are code


def test_diagnostic_words_are_spans_but_the_verdict_is_not():
    source = (
        "def check(a, error):\n"
        "    actual = f'{a} seen'\n"
        "    if error:\n"
        "        actual += ': ' + error\n"
        "    ok = a == 1 and not error\n"
        "    return _c('name', ok, actual, 'exactly one', 'rule 1')\n")
    spans = _text(source, M.diagnostic_spans(source))
    assert "f'{a} seen'" in spans and "'exactly one'" in spans and "'rule 1'" in spans
    assert any(s.startswith("if error:") for s in spans)  # a condition that decides only words
    assert not any("a == 1" in s for s in spans) and "ok" not in spans  # the verdict is drawn


def test_an_if_that_also_decides_the_verdict_is_drawn():
    source = "def check(error):\n    if error:\n        actual = 'x'\n        ok = False\n    return ok\n"
    assert _text(source, M.diagnostic_spans(source)) == ["'x'"]


def test_defect_bodies_are_spans_and_their_condition_is_not():
    source = "def view():\n    if Defect.REFUSE_ALL in settings().defects:\n        raise Refused('x')\n    return 1\n"
    assert _text(source, M.defect_spans(source)) == ["raise Refused('x')"]
