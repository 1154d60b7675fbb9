"""`mock-broker demo`: the broker with the example world and the example portal, registered with each other.

The same as `./start.sh` in a checkout, for an installed package. The two run as separate processes
(`python -m mock_broker.cli serve`, `python -m example_portal.cli serve`): the broker imports nothing of
the portal and learns it only from its metadata, registered through the control API once both answer.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

from ehsaml.processes import stop_process

START_TIMEOUT = 30


class DemoError(Exception):
    pass


def add_demo(sub) -> None:
    p = sub.add_parser("demo", help="run the broker with the example world and the example portal, ready to click")
    p.add_argument("--host", default="127.0.0.1", help="loopback address both listen on (default 127.0.0.1)")
    p.add_argument("--broker-port", type=int, default=8480, help="the broker's port (default 8480)")
    p.add_argument("--portal-port", type=int, default=8481, help="the example portal's port (default 8481)")
    p.add_argument("--db", help="the portal's SQLite file (default var/example-portal.sqlite3 here)")
    p.add_argument("--binding", choices=("artifact", "post"), default="artifact",
                   help="how the broker answers the portal (default artifact)")
    p.add_argument("--world", help="the broker's world file (default: the example world)")


def run_demo(args) -> int:
    host = f"[{args.host}]" if ":" in args.host else args.host
    broker, portal = f"http://{host}:{args.broker_port}", f"http://{host}:{args.portal_port}"
    try:
        if args.broker_port == args.portal_port:
            raise DemoError(f"--broker-port and --portal-port are both {args.broker_port}: give two ports")
        for name, port in (("broker", args.broker_port), ("portal", args.portal_port)):
            _check_free(args.host, port, f"--{name}-port")
    except DemoError as exc:
        print(f"mock-broker demo: {exc}", file=sys.stderr)
        return 2
    broker_cmd = [sys.executable, "-m", "mock_broker.cli", "serve", "--host", args.host,
                  "--port", str(args.broker_port)] + (["--world", args.world] if args.world else [])
    portal_cmd = [sys.executable, "-m", "example_portal.cli", "serve", "--host", args.host,
                  "--port", str(args.portal_port), "--testing", "--binding", args.binding,
                  "--broker-metadata", f"{broker}/saml/metadata"] + (["--db", args.db] if args.db else [])
    # A SIGTERM (kill, a CI job ending) stops both children as Ctrl-C does, through the `finally` below.
    signal.signal(signal.SIGTERM, _interrupt)
    procs = {"broker": subprocess.Popen(broker_cmd), "portal": subprocess.Popen(portal_cmd)}
    try:
        _wait_ready(procs, {"broker": broker, "portal": portal})
        _register(broker, portal)
        print(f"\nOpen {portal}/ (the example portal) and log in with eHerkenning through the mock broker at "
              f"{broker}/ (TEST ONLY). Ctrl-C stops both.", flush=True)
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        stopped = next(name for name, p in procs.items() if p.poll() is not None)
        print(f"mock-broker demo: the {stopped} stopped (exit {procs[stopped].returncode}); stopping the other",
              file=sys.stderr)
        return 1
    except DemoError as exc:
        print(f"mock-broker demo: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        for p in procs.values():
            stop_process(p)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _check_free(host: str, port: int, flag: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            raise DemoError(f"port {port} on {host} is in use ({exc.strerror}): stop what listens there, "
                            f"or give another {flag}") from None


def _wait_ready(procs: dict, urls: dict) -> None:
    import requests  # the demo's client calls only: `serve` starts without it

    deadline = time.monotonic() + START_TIMEOUT
    waiting = set(procs)
    while waiting:
        for name in sorted(waiting):
            if procs[name].poll() is not None:
                raise DemoError(f"the {name} stopped at start (exit {procs[name].returncode}); see its messages above")
            try:
                if requests.get(urls[name] + "/saml/metadata", timeout=1).status_code == 200:
                    waiting.discard(name)
            except requests.RequestException:
                pass
        if waiting and time.monotonic() > deadline:
            raise DemoError(f"{', '.join(sorted(waiting))} did not answer within {START_TIMEOUT} s")
        if waiting:
            time.sleep(0.2)


def _register(broker: str, portal: str) -> None:
    import requests

    body = {"metadata_url": f"{portal}/saml/metadata", "catalogue_url": f"{portal}/saml/dienstcatalogus"}
    resp = requests.post(f"{broker}/_mock/sps", json=body, timeout=15)
    if resp.status_code != 201:
        raise DemoError(f"the broker refused the portal's metadata (HTTP {resp.status_code}): {resp.text[:300]}")

