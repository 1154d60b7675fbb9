"""The mutants of a mutation run: made by cosmic-ray's operators, told apart, drawn by a seed.

Used by bench/mutation.py. What is here:
- `TARGETS`: the modules mutated (the FAQ rules of the example portal and the DV checks), and why the rest is not;
- `population`: every mutation cosmic-ray makes in them, each with its file, line and diff;
- `annotation_spans`: a mutation that changes nothing but a type annotation in a module with
  `from __future__ import annotations`, where annotations are strings never evaluated, is equivalent by
  construction: it is counted, not drawn;
- `diagnostic_spans`: a mutation of the DV checks that changes only the words of a Check (actual, expected,
  rule: the support desk's, read by no verdict of the suites) is counted, not drawn; so is one inside code that
  runs only with a `--defect` (`defect_spans`);
- `load_equivalents`: bench/mutation-equivalent.yaml, the mutants shown to be equivalent, each with its reason.
"""

from __future__ import annotations

import ast
import difflib
import random
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# The code the harness's FAQ and security suites make claims about: the rules P1-P12 (example portal) and
# the DV checks (ehsaml/dv). Left out, each with what does check it:
#   example_portal/cli.py, app.py: argument parsing and wiring (a broken one does not start: test_portal_*.py);
#   db.py: the schema; seed.py and views/testing.py: the seed format and the tools' /_test/ endpoints, which
#     the harness only feeds correct data (test_portal_login.py, test_dv_fuzz.py);
#   guard.py: Host, Origin and CSRF of the forms (test_portal_security.py, test_attacks_from_a_page.py:
#     the harness has no cross-site step);
#   ehsaml/dv/client.py, metadata.py: the DV's requests and metadata, which the broker checks (test_dv_side.py);
#   views/snelnaar.py: read-only pages of the dashboard's menu, no FAQ rule of their own (test_portal_pages.py).
TARGETS = (
    "example_portal/access.py", "example_portal/data.py", "example_portal/dvconfig.py", "example_portal/refusals.py",
    "example_portal/settings.py", "example_portal/sp.py", "example_portal/web.py",
    "example_portal/views/auth.py", "example_portal/views/deelnemers.py", "example_portal/views/kvk.py",
    "example_portal/views/meta.py", "example_portal/views/portal.py", "example_portal/views/toegang.py",
    "ehsaml/dv/attributes.py", "ehsaml/dv/checks.py", "ehsaml/dv/login.py", "ehsaml/dv/policy.py",
    "ehsaml/dv/read.py",
)
# Functions of a target that serve only the tools' /_test/ endpoints (views/testing.py, left out above).
# And those of single logout (no FAQ rule speaks of it; tests/test_portal_login.py follows the SLO round trip).
# And the dashboard widgets beyond the change of a participant (the suites' `change` step, P3): their rights come
# from require_change and current (web.py, views/portal.py, both mutated); their pages and figures (the data.py
# functions below) are test_portal_pages.py's, and the effective date of a change and a registration's name
# (web.form_date, form_text: no FAQ rule speaks of them) are test_portal_security.py's, which posts every form's
# fields with bad values.
SKIP_FUNCTIONS = {("example_portal/data.py", "counts"), ("example_portal/data.py", "snapshot"),
                  *(("example_portal/data.py", f) for f in ("add_participant", "changes", "activation", "timeliness",
                                                             "payroll")),
                  ("example_portal/views/deelnemers.py", "search"), ("example_portal/views/deelnemers.py", "download"),
                  ("example_portal/views/deelnemers.py", "register"), ("example_portal/views/deelnemers.py", "group"),
                  ("example_portal/views/portal.py", "percentage"), ("example_portal/web.py", "form_date"),
                  ("example_portal/web.py", "form_text"),
                  ("example_portal/sp.py", "logout_redirect"), ("example_portal/views/auth.py", "slo")}
EQUIVALENT_FILE = Path(__file__).with_name("mutation-equivalent.yaml")  # equivalent: not in the score
SURVIVOR_FILE = Path(__file__).with_name("mutation-survivors.yaml")  # known survivors: in the score, with a reason


@dataclass
class Mutant:
    work_item: object  # cosmic_ray.work_item.WorkItem
    file: str
    line: int
    operator: str
    original: str  # the changed lines before and after, stripped (what an equivalent entry names)
    mutated: str
    diff: str
    equivalent: str | None = None  # the reason, when bench/mutation-equivalent.yaml lists it
    known: str | None = None  # the reason, when bench/mutation-survivors.yaml lists it
    outcome: str = "pending"  # killed, survived, timeout, error
    killed_by: list[str] = field(default_factory=list)
    strict_only: bool = False  # killed only as "refused for another reason" (--strict-reasons)
    seconds: float = 0.0

    @property
    def mutation(self):
        return self.work_item.mutations[0]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def _short(operator_name: str) -> str:
    return operator_name.rsplit("/", 1)[-1]


def _future_annotations(tree: ast.Module) -> bool:
    return any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names)
               for n in tree.body)


def _char_col(lines: list[str], line: int, byte_col: int) -> int:  # ast counts UTF-8 bytes, parso characters
    return len(lines[line - 1].encode("utf-8")[:byte_col].decode("utf-8", "replace"))


def _span(lines: list[str], n: ast.AST):
    return ((n.lineno, _char_col(lines, n.lineno, n.col_offset)),
            (n.end_lineno, _char_col(lines, n.end_lineno, n.end_col_offset)))


def annotation_spans(source: str) -> list:
    """The (start, end) positions (line, character column) of every annotation, in a module whose annotations
    are strings never evaluated (PEP 563); [] for any other module."""
    tree = ast.parse(source)
    if not _future_annotations(tree):
        return []
    lines = source.splitlines()
    spans = []
    for node in ast.walk(tree):
        notes = ([node.annotation] if isinstance(node, (ast.arg, ast.AnnAssign)) and node.annotation else []) + (
            [node.returns] if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.returns else [])
        spans += [_span(lines, n) for n in notes]
    return spans


DIAGNOSTIC_NAMES = {"actual", "expected", "rule", "short", "bound"}


def diagnostic_spans(source: str) -> list:
    """In the DV checks: the words of a Check (its actual, expected and rule, as `_c(check, passed, actual,
    expected, rule)` or `Check(...)` takes them, and the variables of those names that build them). They are the
    support desk's words (harness inspect prints them; tests/test_inspect.py and tests/test_foreign_captures.py
    check them), which no verdict of the suites reads."""
    tree = ast.parse(source)
    lines = source.splitlines()
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_c", "Check"):
            spans += [_span(lines, a) for a in node.args[2:5]]
            spans += [_span(lines, k.value) for k in node.keywords if k.arg in ("actual", "expected", "rule")]
        elif isinstance(node, ast.Assign) and all(getattr(t, "id", None) in DIAGNOSTIC_NAMES for t in node.targets):
            spans.append(_span(lines, node.value))
        elif isinstance(node, ast.AugAssign) and getattr(node.target, "id", None) in DIAGNOSTIC_NAMES:
            spans.append(_span(lines, node.value))
        elif isinstance(node, ast.If) and not node.orelse and all(_words_only(stmt) for stmt in node.body):
            spans.append(_span(lines, node))  # `if error: actual += ...`: its condition decides only words
    return spans


def _words_only(stmt: ast.stmt) -> bool:
    """An assignment to a diagnostic's words (actual, expected, rule...) and nothing else."""
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AugAssign) else []
    return bool(targets) and all(getattr(t, "id", None) in DIAGNOSTIC_NAMES for t in targets)


def _inside(spans, start: tuple[int, int], end: tuple[int, int]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _changed(original: str, mutated: str, path: str) -> tuple[int, str, str, str]:
    """(first changed line, the changed lines before, after, the unified diff)."""
    a, b = original.splitlines(), mutated.splitlines()
    ops = [op for op in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes() if op[0] != "equal"]
    minus = [a[i].strip() for _, i1, i2, _, _ in ops for i in range(i1, i2)]
    plus = [b[j].strip() for _, _, _, j1, j2 in ops for j in range(j1, j2)]
    diff = "\n".join(difflib.unified_diff(a, b, f"a/{path}", f"b/{path}", lineterm="", n=1))
    return (ops[0][1] + 1 if ops else 0), " / ".join(minus), " / ".join(plus), diff


def defect_spans(source: str) -> list:
    """The bodies of `if Defect.X in ...:`: code that runs only with `--defect X` (settings.Defect), never in the
    portal the suites judge (the condition itself is drawn: a mutant of it switches the defect on)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    spans = []
    for node in ast.walk(tree):
        test = getattr(node, "test", None) if isinstance(node, ast.If) else None
        if (isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.In) and isinstance(test.left, ast.Attribute)
                and getattr(test.left.value, "id", None) == "Defect"):
            spans += [_span(lines, stmt) for stmt in node.body]
    return spans


def population(tree: Path, targets: tuple[str, ...] = TARGETS) -> tuple[list, int, int]:
    """Every mutation cosmic-ray makes in the targets (paths relative to `tree`, the copy that is mutated), as
    cosmic-ray work items in a stable order (file, operator, occurrence), less those that change only an
    annotation, or only a diagnostic's words (in ehsaml/dv), or code that runs only with a --defect; and how many
    of each those were (annotations; the other two)."""
    from cosmic_ray.commands.init import init
    from cosmic_ray.work_db import WorkDB, use_db

    spans = {t: annotation_spans((tree / t).read_text("utf-8")) for t in targets}
    words = {t: (diagnostic_spans((tree / t).read_text("utf-8")) if t.startswith("ehsaml/dv/") else [])
             + defect_spans((tree / t).read_text("utf-8")) for t in targets}
    with use_db(str(tree.parent / "population.sqlite"), WorkDB.Mode.create) as db:
        init([Path(t) for t in targets], db, {})
        items = list(db.work_items)
    items.sort(key=lambda w: (str(w.mutations[0].module_path), w.mutations[0].operator_name,
                              w.mutations[0].occurrence))
    items = [w for w in items if (str(w.mutations[0].module_path), w.mutations[0].definition_name) not in SKIP_FUNCTIONS]
    def where(w):
        m = w.mutations[0]
        return str(m.module_path), m.start_pos, m.end_pos

    unannotated = [w for w in items if not _inside(spans[where(w)[0]], *where(w)[1:])]
    drawable = [w for w in unannotated if not _inside(words[where(w)[0]], *where(w)[1:])]
    return drawable, len(items) - len(unannotated), len(unannotated) - len(drawable)


class NotMade(Exception):
    """cosmic-ray makes no program of this work item: its operator fails on the code, changes nothing, or
    writes what is not Python (a binary-operator replacement of the `*` marker of keyword-only arguments)."""


def make(item, tree: Path) -> Mutant:
    """The mutant of a work item, with its line and diff; NotMade when there is no such program."""
    from cosmic_ray.mutating import mutate_code
    from cosmic_ray.plugins import get_operator

    m = item.mutations[0]
    path = str(m.module_path)
    source = (tree / path).read_text("utf-8")
    try:
        mutated = mutate_code(source, get_operator(m.operator_name)(**m.operator_args), m.occurrence)
    except Exception as exc:  # an operator's own bug (ExceptionReplacer on a dotted name)
        raise NotMade(f"cosmic-ray's {_short(m.operator_name)} fails here ({type(exc).__name__})") from None
    if mutated is None:
        raise NotMade("nothing to change")
    try:
        with warnings.catch_warnings():  # `x is "literal"` is a mutant, not news
            warnings.simplefilter("ignore", SyntaxWarning)
            compile(mutated, path, "exec")
    except SyntaxError:
        raise NotMade("not Python") from None
    line, before, after, diff = _changed(source, mutated, path)
    return Mutant(item, path, line, _short(m.operator_name), before, after, diff)


def sample(mutants: list, size: int | None, seed: int) -> list:
    if size is None or size >= len(mutants):
        chosen = list(mutants)
        random.Random(seed).shuffle(chosen)
        return chosen
    return random.Random(seed).sample(mutants, size)


@dataclass(frozen=True)
class Equivalent:
    file: str
    line: int
    operator: str
    original: str
    mutated: str
    reason: str

    def matches(self, m: Mutant) -> bool:
        return (self.file, self.operator, self.original, self.mutated) == (m.file, m.operator, m.original, m.mutated)


class EquivalentFileError(ValueError):
    pass


def load_equivalents(path: Path = EQUIVALENT_FILE) -> list[Equivalent]:
    """The listed mutants (equivalent ones, or known survivors); an entry that lacks a field is an error naming it."""
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text("utf-8")) or []
    if not isinstance(data, list):
        raise EquivalentFileError(f"{path}: a list of {{file, line, operator, original, mutated, reason}}")
    out = []
    fields = ("file", "line", "operator", "original", "mutated", "reason")
    for i, entry in enumerate(data):
        if not isinstance(entry, dict) or set(entry) != set(fields):
            got = sorted(entry) if isinstance(entry, dict) else type(entry).__name__
            raise EquivalentFileError(f"{path}, entry {i + 1}: give exactly {', '.join(fields)} (got {got})")
        if not str(entry["reason"]).strip():
            raise EquivalentFileError(f"{path}, entry {i + 1}: the reason is empty")
        out.append(Equivalent(**{k: (str(entry[k]) if k != "line" else int(entry[k])) for k in fields}))
    return out


def mark_equivalents(mutants: list[Mutant], equivalents: list[Equivalent], known: list[Equivalent]) -> None:
    """Give each listed mutant the reason of its entry."""
    for m in mutants:
        m.equivalent = next((e.reason for e in equivalents if e.matches(m)), None)
        m.known = next((e.reason for e in known if e.matches(m)), None)


def stale_equivalents(equivalents: list[Equivalent], tree: Path) -> list[Equivalent]:
    """The entries whose original line is no longer in their file: the code changed, the entry says nothing now."""
    texts = {}
    out = []
    for e in equivalents:
        if e.file not in texts:
            path = tree / e.file
            texts[e.file] = {line.strip() for line in path.read_text("utf-8").splitlines()} if path.exists() else set()
        if not all(part in texts[e.file] for part in e.original.split(" / ") if part):
            out.append(e)
    return out
