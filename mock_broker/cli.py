"""`mock-broker serve | certs | metadata`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ehsaml.errors import SamlError
from ehsaml.keys import generate_test_keypair

from .settings import CERTS, BrokerSettings, is_loopback
from .world import WorldError

BANNER = ("eHerkenning broker mock — FOR TESTS ONLY. Its keys, people and companies are fictitious; "
          "never point a production service at it.")

# name → common name; the file names carry TEST-ONLY so nobody mistakes them for real keys
TEST_KEYS = {
    "broker": "eHerkenning broker mock signing",
    "portal": "example werkgeversportaal (DV)",
    "attacker": "unknown attacker key for fault cases",
}


def _settings(args) -> BrokerSettings:
    base_url = args.base_url or f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}"
    kwargs = dict(base_url=base_url.rstrip("/"), sp_metadata=tuple(args.sp_metadata), catalogues=tuple(args.catalogue),
                  control_api=not args.no_control_api)
    for name, attr in (("world", "world_file"), ("key", "key_file"), ("cert", "cert_file")):
        if getattr(args, name):
            kwargs[attr] = Path(getattr(args, name))
    if args.metadata_dir is not None:
        kwargs["metadata_dir"] = Path(args.metadata_dir) if args.metadata_dir else None
    return BrokerSettings(**kwargs)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8480, help="port (default 8480)")
    p.add_argument("--base-url", help="public base URL, if not http://HOST:PORT")
    p.add_argument("--world", help="world file (default scenarios/world.yaml)")
    p.add_argument("--sp-metadata", action="append", default=[], metavar="FILE_OR_URL",
                   help="DV metadata file or URL (repeatable); URLs not reachable yet are tried again on demand")
    p.add_argument("--catalogue", action="append", default=[], metavar="FILE_OR_URL",
                   help="service catalogue (dienstcatalogus) file or URL (repeatable)")
    p.add_argument("--metadata-dir", help="folder of *.xml DV metadata and catalogues (default metadata/; '' for none)")
    p.add_argument("--key", help="signing key (PEM), default certs/broker.TEST-ONLY.key")
    p.add_argument("--cert", help="signing certificate (PEM), default certs/broker.TEST-ONLY.crt")
    p.add_argument("--no-control-api", action="store_true", help="switch off /_mock/ (the harness needs it)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mock-broker", description=BANNER)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the broker")
    _add_common(serve)
    serve.add_argument("--allow-remote", action="store_true", help="allow listening on a non-loopback address")
    meta = sub.add_parser("metadata", help="print the broker's signed metadata")
    _add_common(meta)
    certs = sub.add_parser("certs", help="generate test-only keys and self-signed certificates")
    certs.add_argument("--dir", default=str(CERTS), help="where to write them (default certs/)")
    certs.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)
    try:
        if args.command == "certs":
            return _certs(Path(args.dir), args.force)
        settings = _settings(args)
        if args.command == "metadata":
            from .app import create_app
            sys.stdout.write(create_app(settings).extensions["mock_broker"].metadata_xml.decode("utf-8"))
            return 0
        return _serve(settings, args)
    except (SamlError, WorldError, OSError, ValueError) as exc:
        print(f"mock-broker: {exc}", file=sys.stderr)
        return 2


def _serve(settings: BrokerSettings, args) -> int:
    if not is_loopback(args.host) and not args.allow_remote:
        print(f"mock-broker: refusing to listen on {args.host}, which is not a loopback address. This mock is for "
              "tests only; give --allow-remote if you really mean it.", file=sys.stderr)
        return 2
    from werkzeug.serving import run_simple

    from .app import create_app
    app = create_app(settings)
    print(BANNER, file=sys.stderr)
    print(f"metadata: {settings.metadata_url}   login page opens on the first AuthnRequest", file=sys.stderr)
    for dv in app.extensions["mock_broker"].registry.all():
        print(f"DV registered: {dv.entity_id} ({len(dv.services)} services)", file=sys.stderr)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    return 0


def _certs(folder: Path, force: bool) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    targets = {name: (folder / f"{name}.TEST-ONLY.key", folder / f"{name}.TEST-ONLY.crt") for name in TEST_KEYS}
    existing = [str(p) for pair in targets.values() for p in pair if p.exists()]
    if existing and not force:
        print(f"mock-broker: {', '.join(existing)} exist; give --force to replace them", file=sys.stderr)
        return 2
    for name, (key_path, cert_path) in targets.items():
        key_pem, cert_pem = generate_test_keypair(TEST_KEYS[name])
        key_path.write_bytes(key_pem)
        cert_path.write_bytes(cert_pem)
        print(f"wrote {key_path} and {cert_path} (TEST ONLY)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
