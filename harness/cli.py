"""`harness run | list`: drive a portal through the FAQ's cases."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ehsaml.datafile import DataFileError

from . import report
from .cases import load_cases
from .profile import DEFAULT_PROFILE, load_profile
from .brokerapi import Broker, HarnessError
from .httpclient import HttpError
from .runner import EXIT_BAD_INPUT, load_expected_failures, run
from .scenario import SCENARIO_DIR, load_suite, select
from .security import fault_scenarios
from .servers import ServerError


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `harness list | head`: the reader stopped; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="harness", description="Drive a portal behind eHerkenning through the "
                                     "FAQ's cases, against the mock broker (test-only).")
    sub = parser.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="show the scenarios with their FAQ questions")
    _add_scenario_options(lst)
    r = sub.add_parser("run", help="run scenarios (default: all, against the example portal)")
    r.add_argument("ids", nargs="*", help="scenario ids (default: all)")
    r.add_argument("--suite", choices=("faq", "security", "all"), default="faq",
                   help="faq: the scenario files (default); security: the broker's fault catalogue, each case "
                        "to be refused by the portal; all: both")
    r.add_argument("--tag", action="append", default=[], help="only scenarios with this tag (repeatable)")
    _add_scenario_options(r)
    r.add_argument("--profile", default=str(DEFAULT_PROFILE), help="SP profile (default: the example portal's)")
    r.add_argument("--broker-url", help="a running mock broker (default: the runner starts one)")
    r.add_argument("--portal-url", help="a running portal (default: the runner starts the example portal)")
    r.add_argument("--workers", type=int, default=1, help="parallel workers, each with its own broker and portal")
    r.add_argument("--expected-failures", help="YAML list of {id, reason} that fail today on purpose")
    r.add_argument("--register", action="store_true",
                   help="register the portal's metadata (the profile's metadata, catalogue and register.options) "
                        "with the broker at --broker-url first")
    r.add_argument("--keep-world", action="store_true",
                   help="use the broker's world as it is: do not bind its mandates to the portal's services")
    r.add_argument("--strict-reasons", action="store_true",
                   help="a hostile answer refused by another check than the catalogue's fails (default: a warning)")
    r.add_argument("-x", "--exitfirst", action="store_true",
                   help="start no scenario after the first that fails the run (the rest are not run)")
    r.add_argument("--junit", help="write JUnit XML here")
    r.add_argument("--html", help="write the HTML report here")
    _add_inspect_reproduce(sub)
    _add_init_profile(sub)
    args = parser.parse_args(argv)
    if args.command in ("inspect", "reproduce", "init", "profile"):
        return args.handler(args)
    try:
        scenarios = load_suite(args.scenarios, builtin=not args.no_builtin)
        if args.command == "list":
            print(listing(scenarios))
            return 0
        if args.suite in ("security", "all"):
            files = scenarios if args.suite == "all" else []
            chosen = lambda broker: select(files + fault_scenarios(broker), args.ids, args.tag)  # noqa: E731
        else:
            chosen = select(scenarios, args.ids, args.tag)
            if not chosen:
                print("harness: no scenario matches that selection", file=sys.stderr)
                return 2
        profile = load_profile(args.profile)
        known = None if args.suite != "faq" else {s.id for s in scenarios}  # security ids: the broker's catalogue
        xfail = load_expected_failures(args.expected_failures, known) if args.expected_failures else {}
        if args.register:
            _register(args, profile)
        result = run(chosen, profile, broker_url=args.broker_url, portal_url=args.portal_url, workers=args.workers,
                     expected_failures=xfail, bind_world=not args.keep_world, strict_reasons=args.strict_reasons,
                     exitfirst=args.exitfirst)
    except (DataFileError, ServerError, ValueError, HarnessError, HttpError) as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(report.console(result))
    if result.not_run:
        print(f"--exitfirst: stopped after the first failure; {result.not_run} scenarios not run")
    if args.junit:
        report.junit(result, Path(args.junit))
    if args.html:
        report.html_report(result, Path(args.html))
    return result.exit_code


def _register(args, profile) -> None:
    if not (args.broker_url and args.portal_url):
        raise ValueError("--register needs --broker-url and --portal-url (without them the runner registers the "
                         "example portal it starts)")
    portal = args.portal_url.rstrip("/")
    catalogue = profile.data.get("catalogue")
    Broker(args.broker_url).register(portal + profile.data.get("metadata", "/saml/metadata"),
                                     portal + catalogue if catalogue else None, profile.register_options)


def _add_scenario_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scenarios", action="append", default=[], metavar="DIR",
                   help="a folder of your own scenario files, added to the built-in FAQ scenarios (repeatable)")
    p.add_argument("--no-builtin", action="store_true",
                   help=f"leave out the built-in FAQ scenarios ({SCENARIO_DIR}); use only --scenarios folders")


def _add_init_profile(sub) -> None:
    """`harness init` and `harness profile check` (getting a profile right): their options live with their code."""
    from .starter import add_init, add_profile

    add_init(sub)
    add_profile(sub)


def _add_inspect_reproduce(sub) -> None:
    """`harness inspect` and `harness reproduce`, the support desk's tools (harness/desk/): options live with the code."""
    from .desk.inspect import add_inspect
    from .desk.reproduce import add_reproduce

    add_inspect(sub)
    add_reproduce(sub)


def listing(scenarios) -> str:
    """Each scenario with its FAQ question; a case's template also with what customers say (the case catalogue)."""
    cases = load_cases()
    width = max([len(s.id) for s in scenarios] + [2])
    lines = []
    for s in scenarios:
        proves = f" (remedy of {s.remedy_of})" if s.remedy_of else ""
        lines.append(f"{s.id.ljust(width)}  {s.faq}{proves}\n{' ' * width}  {s.title}")
        entry = next((e for e in cases["cases"].values() if e["scenario"] == s.id), None)
        if entry is not None and entry["symptoms"]:
            lines.append(f"{' ' * width}  customers say: " + "; ".join(
                cases["symptoms"][code]["says_nl"] for code in entry["symptoms"]))
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
