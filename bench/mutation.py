"""Detection power: mutants of the example portal and the DV checks against the harness's FAQ and security suites.

    python bench/mutation.py [--sample N] [--time-limit S] [--seed K] [--timeout S] [--workers W] [--only TEXT]
                             [--json FILE] [--list] [--rescore JSON]

cosmic-ray (the `bench` extra: pip install -e '.[bench]') makes the mutants, one small change each (an operator,
a comparison, a number, a boolean, an exception handler, a decorator...), in a copy of the source tree in a
temporary folder: the checkout is never written. For each mutant drawn, cosmic-ray writes it into the copy and
runs the test there: `python -m harness.cli run --suite all --workers W -x --strict-reasons`, which starts its
own broker and example portal from the copy; exit code 0 means the mutant survived. -x ends the test at the first
failure; --strict-reasons fails a hostile answer refused by another check than the catalogue's (the default run
only warns), and a mutant killed only that way is run again without it, so the default run's score is printed
beside. Bounded: N mutants drawn by the seed, no new one started after S seconds, each test stopped after its
timeout.

It prints each mutant's outcome as it goes (and the scenarios that killed it), then the figures: made, killed,
survived, timed out, equivalent (bench/mutation-equivalent.yaml, reported apart), the score = (killed + timed
out) / (made - equivalent - errors), and each survivor with file, line and diff (with its reason when
bench/mutation-survivors.yaml lists it). Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

from machine import ROOT, describe

import mutants as M

GOAL = 0.90


def copy_tree(dest: Path) -> None:
    """The checkout's files as they are now (tracked and new, not ignored), without venvs, caches or databases."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode("utf-8").split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def test_command(workers: int, junit: Path, *, strict: bool = True) -> str:
    """The harness's run, stopped at the first failure (-x); its stderr joins stdout, which cosmic-ray keeps (a
    start that fails says why there)."""
    return (f"sh -c '{sys.executable} -m harness.cli run --suite all --workers {workers} -x"
            f"{' --strict-reasons' if strict else ''} --junit {junit} 2>&1'")


def failed_scenarios(junit: Path) -> tuple[list[str], bool]:
    """The scenarios that failed, and whether each failed only as "refused for another reason" (--strict-reasons)."""
    if not junit.exists():
        return [], False
    try:
        root = ET.parse(junit).getroot()
    except ET.ParseError:
        return [], False
    failed = [(c.get("name"), (c.find("failure") if c.find("failure") is not None else c.find("error")))
              for c in root.iter("testcase") if c.find("failure") is not None or c.find("error") is not None]
    strict_only = bool(failed) and all("refusal_reason FAILED" in (f.get("message") or "") for _, f in failed)
    return [name for name, _ in failed], strict_only


def _last_line(output: str | None) -> str:
    lines = [line for line in (output or "").splitlines() if line.strip()]
    return lines[-1][:160] if lines else "(no output)"


def run_one(mutant: M.Mutant, command: str, timeout: float, junit: Path, default_command: str) -> None:
    from cosmic_ray.mutating import mutate_and_test
    from cosmic_ray.work_item import TestOutcome, WorkerOutcome

    junit.unlink(missing_ok=True)
    t0 = time.monotonic()
    result = mutate_and_test([mutant.mutation], command, timeout)
    mutant.seconds = time.monotonic() - t0
    if result.worker_outcome != WorkerOutcome.NORMAL or result.test_outcome == TestOutcome.INCOMPETENT:
        mutant.outcome, mutant.killed_by = "error", [_last_line(result.output)]
    elif result.test_outcome == TestOutcome.SURVIVED:
        mutant.outcome = "survived"
    elif result.output == "timeout":  # cosmic-ray's mark for a test stopped at its timeout
        mutant.outcome = "timeout"
    else:
        mutant.outcome = "killed"
        mutant.killed_by, strict_only = failed_scenarios(junit)
        mutant.killed_by = mutant.killed_by or [f"(no scenario ran: {_last_line(result.output)})"]
        if strict_only:  # -x stopped at a "refused for another reason": would the default run fail elsewhere?
            again = mutate_and_test([mutant.mutation], default_command, timeout)
            mutant.strict_only = again.test_outcome == TestOutcome.SURVIVED
            mutant.seconds = time.monotonic() - t0


def baseline(command: str, tree: Path, junit: Path) -> float:
    junit.unlink(missing_ok=True)
    t0 = time.monotonic()
    out = subprocess.run(shlex.split(command), cwd=tree, capture_output=True, text=True,
                         env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    seconds = time.monotonic() - t0
    if out.returncode != 0:
        print(out.stdout[-3000:], out.stderr[-2000:], sep="\n")
        raise SystemExit(f"the suite fails without any mutant (exit {out.returncode}): nothing to measure")
    return seconds


def choose(drawable: list, tree: Path, size: int | None, seed: int, only: str | None):
    """The first `size` mutants of the seed's order that are programs; and why the others drawn were not."""
    chosen, unmade = [], Counter()
    for item in M.sample(drawable, None, seed):
        if only and only not in str(item.mutations[0].module_path):
            continue
        try:
            mutant = M.make(item, tree)
        except M.NotMade as exc:
            unmade[str(exc)] += 1
            continue
        chosen.append(mutant)
        if size is not None and len(chosen) >= size:
            break
    return chosen, unmade


def summary(chosen: list[M.Mutant], stopped: int, lines: list[str]) -> dict:
    ran = [m for m in chosen if m.outcome != "pending"]
    count = {k: sum(1 for m in ran if m.outcome == k) for k in ("killed", "survived", "timeout", "error")}
    equivalent = [m for m in ran if m.equivalent and m.outcome == "survived"]
    wrong_equivalent = [m for m in ran if m.equivalent and m.outcome != "survived"]
    survivors = [m for m in ran if m.outcome == "survived" and not m.equivalent]
    strict_only = [m for m in ran if m.outcome == "killed" and m.strict_only and not m.equivalent]
    judged = len(ran) - len(equivalent) - count["error"]
    detected = count["killed"] + count["timeout"]
    score = detected / judged if judged else 0.0
    default = (detected - len(strict_only)) / judged if judged else 0.0
    lines += ["", f"mutants made and run : {len(ran)}" + (f" (time limit reached: {stopped} drawn were not run)"
                                                          if stopped else ""),
              f"killed               : {count['killed']} ({len(strict_only)} of them only as \"refused for another "
              f"reason\", which --strict-reasons fails and the default run warns about)",
              f"survived             : {count['survived']} ({len(equivalent)} of them listed as equivalent)",
              f"timed out            : {count['timeout']} (counted as killed: the suite never ends green)",
              f"equivalent           : {len(equivalent)} (bench/mutation-equivalent.yaml; not in the score)",
              f"errors               : {count['error']} (cosmic-ray could not run the test; not in the score)",
              f"score                : {score:.1%} = (killed + timed out) / (made - equivalent - errors) = "
              f"{detected}/{judged} with --strict-reasons; goal {GOAL:.0%}: {'met' if score >= GOAL else 'NOT met'}",
              f"score, default run   : {default:.1%} = {detected - len(strict_only)}/{judged} (a warning is no failure)"]
    if survivors:
        lines += ["", f"survivors ({len(survivors)}):"]
        for m in survivors:
            lines += [f"- {m.where} {m.operator}" + (f"\n    known: {m.known}" if m.known else ""),
                      *("    " + d for d in m.diff.splitlines())]
    if strict_only:
        lines += ["", f"killed only with --strict-reasons ({len(strict_only)}): another check refused the answer"]
        lines += [f"- {m.where} {m.operator}: {m.original} -> {m.mutated} ({', '.join(m.killed_by[:3])})"
                  for m in strict_only]
    if equivalent:
        lines += ["", f"equivalent ({len(equivalent)}, survived as listed):"]
        lines += [f"- {m.where} {m.operator}: {m.original} -> {m.mutated}\n    why: {m.equivalent}" for m in equivalent]
    if wrong_equivalent:
        lines += ["", "LISTED AS EQUIVALENT BUT KILLED (the entry is wrong; remove it):"]
        lines += [f"- {m.where} {m.operator}: killed by {', '.join(m.killed_by[:3])}" for m in wrong_equivalent]
    errors = [m for m in ran if m.outcome == "error"]
    if errors:
        lines += ["", "errors:"] + [f"- {m.where} {m.operator}: {m.killed_by[0]}" for m in errors]
    return dict(count, made=len(ran), equivalent=len(equivalent), strict_only=len(strict_only), score=round(score, 4),
                score_default=round(default, 4), not_run=stopped, survivors=[m.where for m in survivors])


def _from_json(data: dict) -> list[M.Mutant]:
    chosen = []
    for m in data["mutants"]:
        mutant = M.Mutant(None, m["file"], m["line"], m["operator"], m["original"], m["mutated"], m["diff"],
                          outcome=m["outcome"], killed_by=m["killed_by"], seconds=m["seconds"],
                          strict_only=m.get("strict_only", False))
        chosen.append(mutant)
    return chosen


def rescore(path: Path, equivalents: list, known: list) -> int:
    """The outcomes observed in a run, judged again with today's lists (a new reason, a wrong entry)."""
    data = json.loads(path.read_text("utf-8"))
    chosen = _from_json(data)
    M.mark_equivalents(chosen, equivalents, known)
    lines: list[str] = [f"rescored: {path} (seed {data.get('seed')}), {len(chosen)} mutants as observed then"]
    summary(chosen, data["figures"].get("not_run", 0), lines)
    print("\n".join(lines))
    return 0


def rerun(path: Path, tree: Path, junit: Path, workers: int, timeout: float | None):
    """The survivors of an earlier run, found again among today's mutants (same file, operator and lines) and run
    against the tree as it is now; the others keep their outcome, and a survivor no longer drawn leaves the sample.
    Returns the report lines."""
    data = json.loads(path.read_text("utf-8"))
    chosen = _from_json(data)
    drawable, _, _ = M.population(tree)
    wanted = {(m.file, m.operator, m.original, m.mutated): m for m in chosen if m.outcome == "survived"}
    places = {(k[0], k[1]) for k in wanted}  # file and operator: only those work items are made again
    for item in drawable:
        spec = item.mutations[0]
        if (str(spec.module_path), M._short(spec.operator_name)) not in places:
            continue
        try:
            fresh = M.make(item, tree)
        except M.NotMade:
            continue
        old = wanted.pop((fresh.file, fresh.operator, fresh.original, fresh.mutated), None)
        if old is not None:
            old.work_item, old.diff, old.line = fresh.work_item, fresh.diff, fresh.line
    command = test_command(workers, junit)
    base = baseline(command, tree, junit)
    timeout = timeout or max(60.0, 4 * base)
    lines = [f"rerun of the survivors of {path} (seed {data.get('seed')}) against the tree as it is now:"]
    os.chdir(tree)
    for m in chosen:
        if m.outcome != "survived" or m.work_item is None:
            continue
        run_one(m, command, timeout, junit, test_command(workers, junit, strict=False))
        lines.append(f"  {m.where} {m.operator}: {m.outcome}" + (f" by {', '.join(m.killed_by[:3])}" if m.killed_by else ""))
    # a survivor no longer drawn (a rule now leaves it out, or its code changed) leaves the sample: its outcome
    # says nothing of the tree as it is now; each is named
    gone = {id(m) for m in wanted.values()}
    lines += [f"  not drawn any more (left out by the rules, or the code changed): {m.where} {m.operator}"
              for m in wanted.values()]
    chosen = [m for m in chosen if id(m) not in gone]
    return lines, chosen, data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=int, default=200, help="mutants to draw (default 200; 0: all)")
    parser.add_argument("--time-limit", type=float, default=3600, help="start no mutant after S seconds (default 3600)")
    parser.add_argument("--seed", type=int, default=17, help="the draw's seed (default 17)")
    parser.add_argument("--timeout", type=float, help="per-mutant test timeout in s (default: 4 x the unmutated run, "
                                                      "at least 60)")
    parser.add_argument("--workers", type=int, default=2, help="harness workers (default 2)")
    parser.add_argument("--only", help="draw only from files whose path contains this text")
    parser.add_argument("--json", help="write every mutant's outcome here")
    parser.add_argument("--list", action="store_true", help="draw and print the mutants, run nothing")
    parser.add_argument("--rerun", metavar="JSON", help="run the survivors of an earlier run's --json again against "
                                                        "the tree as it is now (new scenarios), then the figures")
    parser.add_argument("--rescore", metavar="JSON", help="the figures of an earlier run's --json again, with the "
                                                          "equivalent and known-survivor lists as they are now")
    args = parser.parse_args()
    out_json = Path(args.json).resolve() if args.json else None  # before the run moves into the copy
    try:
        from importlib.metadata import version
        cr = version("cosmic-ray")
    except Exception:
        print("bench/mutation.py needs cosmic-ray: .venv/bin/pip install -e '.[bench]'", file=sys.stderr)
        return 2
    try:
        equivalents = M.load_equivalents()
        known = M.load_equivalents(M.SURVIVOR_FILE)
    except M.EquivalentFileError as exc:
        print(f"bench/mutation.py: {exc}", file=sys.stderr)
        return 2
    if args.rescore:
        return rescore(Path(args.rescore), equivalents, known)
    drawn = (f"the survivors of {args.rerun} again" if args.rerun
             else f"sample {args.sample or 'all'}, seed {args.seed}, time limit {args.time_limit:.0f} s")
    describe(f"mutation run: cosmic-ray {cr}; {drawn}, harness --suite all --workers {args.workers}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a stopped run removes its copy too (finally below)
    work = Path(tempfile.mkdtemp(prefix="mutation-"))
    tree = work / "tree"
    junit = work / "junit.xml"
    lines: list[str] = []
    try:
        copy_tree(tree)
        if args.rerun:
            lines, chosen, data = rerun(Path(args.rerun), tree, junit, args.workers, args.timeout)
            M.mark_equivalents(chosen, equivalents, known)
            figures = summary(chosen, data["figures"].get("not_run", 0), lines)
            print("\n".join(lines))
            if out_json:
                _write_json(out_json, figures, data.get("seed"), chosen)
            return 0
        drawable, annotation, diagnostic = M.population(tree)
        chosen, unmade = choose(drawable, tree, args.sample or None, args.seed, args.only)
        M.mark_equivalents(chosen, equivalents, known)
        print(f"targets : {len(M.TARGETS)} modules ({', '.join(M.TARGETS)})")
        print(f"mutants : {len(drawable) + annotation + diagnostic} made by cosmic-ray's operators; {annotation} change "
              f"only an annotation (never evaluated: equivalent by construction, not drawn); {diagnostic} only the "
              f"words of a DV check's diagnostic or code that runs only with a --defect (not drawn); {len(drawable)} to draw from; {len(chosen)} drawn"
              + "".join(f"; {n} passed over: {why}" for why, n in unmade.items()))
        for e in M.stale_equivalents(equivalents + known, tree):
            print(f"stale equivalent entry: {e.file}:{e.line} {e.operator}: its line {e.original!r} is gone")
        if args.list:
            for m in chosen:
                print(f"{m.where:<36} {m.operator:<40} {m.original[:50]!r} -> {m.mutated[:50]!r}"
                      + ("  [equivalent]" if m.equivalent else ""))
            return 0
        command = test_command(args.workers, junit)
        base = baseline(command, tree, junit)
        timeout = args.timeout or max(60.0, 4 * base)
        print(f"test    : {command.replace(sys.executable, 'python')} (in the copy)\n"
              f"unmutated run: passed in {base:.1f} s; per-mutant timeout {timeout:.0f} s\n", flush=True)
        started = time.monotonic()
        os.chdir(tree)  # cosmic-ray mutates module paths relative to here and runs the test here
        stopped = 0
        for i, m in enumerate(chosen, 1):
            if time.monotonic() - started > args.time_limit:
                stopped = len(chosen) - i + 1
                break
            run_one(m, command, timeout, junit, test_command(args.workers, junit, strict=False))
            by = f" by {', '.join(m.killed_by[:3])}{' …' if len(m.killed_by) > 3 else ''}" if m.killed_by else ""
            print(f"[{i:3d}/{len(chosen)}] {m.outcome:<8} {m.where:<36} {m.operator:<36} {m.seconds:5.1f} s"
                  f"{' (listed equivalent)' if m.equivalent else ''}{by}", flush=True)
        figures = summary(chosen, stopped, lines)
        print("\n".join(lines))
        print(f"\nwall time: {time.monotonic() - started:.0f} s for {figures['made']} mutants")
        if out_json:
            _write_json(out_json, figures, args.seed, chosen)
        return 0
    finally:
        os.chdir(ROOT)
        shutil.rmtree(work, ignore_errors=True)


def _write_json(out_json: Path, figures: dict, seed, chosen: list[M.Mutant]) -> None:
    out_json.write_text(json.dumps({"figures": figures, "seed": seed, "mutants": [
        {"file": m.file, "line": m.line, "operator": m.operator, "original": m.original, "mutated": m.mutated,
         "outcome": m.outcome, "killed_by": m.killed_by, "strict_only": m.strict_only, "equivalent": m.equivalent,
         "known": m.known, "seconds": round(m.seconds, 1), "diff": m.diff}
        for m in chosen if m.outcome != "pending"]}, indent=1), "utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
