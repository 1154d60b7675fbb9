"""`example-portal serve`: the example werkgeversportaal on http://127.0.0.1:8481 (TEST ONLY)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ehsaml.errors import SamlError
from ehsaml import net
from ehsaml.net import is_loopback

from .seed import SeedError
from .settings import DEFAULT_SEED, Binding, Defect, PortalSettings

BANNER = ("example werkgeversportaal — FOR TESTS ONLY: a reference eHerkenning DV behind the broker mock. "
          "Its keys, companies and people are fictitious.")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.1 <= value <= 60:
        raise argparse.ArgumentTypeError(f"{value} s is outside 0.1 to 60 seconds")
    return value


def _settings(args) -> PortalSettings:
    host = f"[{args.host}]" if ":" in args.host else args.host
    kwargs = dict(
        base_url=(args.base_url or f"http://{host}:{args.port}").rstrip("/"),
        broker_metadata=args.broker_metadata, binding=Binding(args.binding), testing=args.testing,
        seed_file=None if args.no_seed else Path(args.seed),
        defects=frozenset(Defect(d) for d in args.defect), artifact_timeout_seconds=args.artifact_timeout,
    )
    for name, attr in (("db", "db_path"), ("key", "key_file"), ("cert", "cert_file")):
        if getattr(args, name):
            kwargs[attr] = Path(getattr(args, name))
    return PortalSettings(**kwargs)


def warm_up() -> None:
    """Import now the HTTP server's code, which `serve` imports: a process forked from this one (the harness's
    preloader, harness.preload) finds it imported."""
    net.server_module()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="example-portal", description=BANNER)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the portal")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8481, help="port (default 8481)")
    serve.add_argument("--base-url", help="public base URL, if not http://HOST:PORT")
    serve.add_argument("--db", help="SQLite file (default var/example-portal.sqlite3 in the working directory); created and migrated on start")
    serve.add_argument("--broker-metadata", default="http://127.0.0.1:8480/saml/metadata", metavar="FILE_OR_URL",
                       help="the broker's metadata, read at the first login (default %(default)s)")
    serve.add_argument("--key", help="signing and encryption key (default ehsaml/certs/portal.TEST-ONLY.key)")
    serve.add_argument("--cert", help="its certificate (default ehsaml/certs/portal.TEST-ONLY.crt)")
    serve.add_argument("--binding", choices=[b.value for b in Binding], default="artifact",
                       help="how the broker answers: artifact (default; SOAP ArtifactResolve) or post")
    serve.add_argument("--testing", action="store_true", help="turn on /_test/ (seed, outbox, audit, reset)")
    serve.add_argument("--artifact-timeout", type=_seconds, default=5.0, metavar="SECONDS",
                       help="how long an ArtifactResolve to the broker may take before the login is refused "
                            "(default 5; between 0.1 and 60)")
    serve.add_argument("--seed", default=str(DEFAULT_SEED), metavar="FILE",
                       help="JSON seed loaded when the database holds no contracts (default example_portal/seed.json)")
    serve.add_argument("--no-seed", action="store_true", help="never load a seed file")
    serve.add_argument("--allow-remote", action="store_true", help="allow listening on a non-loopback address")
    serve.add_argument("--defect", action="append", default=[], choices=[d.value for d in Defect],
                       help="TEST THE TESTERS ONLY: break a rule on purpose (e.g. view-grants-change breaks P3)")
    args = parser.parse_args(argv)
    if not is_loopback(args.host) and not args.allow_remote:
        print(f"example-portal: refusing to listen on {args.host}, which is not a loopback address. This portal is "
              "for tests only; pass --allow-remote if you really mean it.", file=sys.stderr)
        return 2
    try:
        from .app import create_app
        app = create_app(_settings(args))
    except (SamlError, SeedError, OSError, ValueError, RuntimeError) as exc:
        print(f"example-portal: {exc}", file=sys.stderr)
        return 2
    print(BANNER, file=sys.stderr)
    s = app.extensions["example_portal"]["settings"]
    print(f"example-portal: {s.base_url}  (db {s.db_path}, broker metadata {s.broker_metadata}, binding "
          f"{s.binding.value}{', testing endpoints on' if s.testing else ''})", file=sys.stderr)
    net.serve(app, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
