"""`mock-broker serve | certs | metadata`."""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
from urllib.parse import urlsplit
from pathlib import Path

from ehsaml.errors import SamlError
from ehsaml.keys import generate_test_keypair
from ehsaml.net import is_loopback, serve, server_module

from . import faults
from .demo import add_demo, run_demo
from .settings import BrokerSettings
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
    allow_remote = getattr(args, "allow_remote", False)
    public_urls = [u.rstrip("/") for u in getattr(args, "public_url", None) or []]
    for url in public_urls:
        if not url.lower().startswith(("http://", "https://")) or not urlsplit(url).hostname:
            raise ValueError(f"--public-url {url!r}: give an http(s) URL, e.g. http://broker.test:8480")
    if not is_loopback(args.host) and args.host not in ("0.0.0.0", "::"):
        public_urls.append(f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{args.port}")
    kwargs = dict(base_url=base_url.rstrip("/"), sp_metadata=tuple(args.sp_metadata), catalogues=tuple(args.catalogue),
                  control_api=not args.no_control_api, store_url=getattr(args, "store", None) or "memory",
                  public_urls=tuple(public_urls), fetch_hosts=tuple(getattr(args, "fetch_host", None) or ()),
                  fetch_any_host=allow_remote,
                  # one secret for every worker: a login page served by one is answered on another
                  csrf_secret=secrets.token_urlsafe(32))
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
    p.add_argument("--world", help="world file (default: the example world, mock_broker/data/world.yaml)")
    p.add_argument("--sp-metadata", action="append", default=[], metavar="FILE_OR_URL",
                   help="DV metadata file or URL (repeatable); URLs not reachable yet are tried again on demand")
    p.add_argument("--catalogue", action="append", default=[], metavar="FILE_OR_URL",
                   help="service catalogue (dienstcatalogus) file or URL (repeatable)")
    p.add_argument("--metadata-dir", help="folder of *.xml DV metadata and catalogues loaded at start (default: none)")
    p.add_argument("--key", help="signing key (PEM), default ehsaml/certs/broker.TEST-ONLY.key")
    p.add_argument("--cert", help="signing certificate (PEM), default ehsaml/certs/broker.TEST-ONLY.crt")
    p.add_argument("--no-control-api", action="store_true", help="switch off /_mock/ (the harness needs it)")


def warm_up() -> None:
    """Read now what every broker process reads at start (the fault catalogue, the HTTP server's code): a
    process forked from this one (the harness's preloader, harness.preload) finds it read."""
    faults.preload()
    server_module()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mock-broker", description=BANNER)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the broker")
    _add_common(serve)
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow listening on a non-loopback address, and fetching DV metadata from any host")
    serve.add_argument("--public-url", action="append", default=[], metavar="URL",
                       help="another URL the broker is reached at (repeatable): its host name passes the Host check "
                            "and its origin the same-origin check (default: loopback, localhost and --base-url only)")
    serve.add_argument("--fetch-host", action="append", default=[], metavar="HOST",
                       help="a host DV metadata and catalogues may be fetched from through the control API, beside "
                            "loopback and the hosts of URLs named on the command line (repeatable)")
    serve.add_argument("--store", default="memory", metavar="URL",
                       help="where state lives: memory (default, one process) or redis://127.0.0.1:6379/0 "
                            "(shared by several workers or machines; ?prefix=NAME to choose the key prefix)")
    serve.add_argument("--workers", type=int, metavar="N",
                       help="run under gunicorn with N worker processes (N > 1 needs a shared --store)")
    serve.add_argument("--threads", type=int, default=4, metavar="T",
                       help="threads per gunicorn worker (default 4)")
    meta = sub.add_parser("metadata", help="print the broker's signed metadata")
    _add_common(meta)
    add_demo(sub)
    certs = sub.add_parser("certs", help="generate test-only keys and self-signed certificates")
    certs.add_argument("--dir", default="certs", help="where to write them (default ./certs; the fixed ones the "
                       "project ships are in ehsaml/certs/)")
    certs.add_argument("--force", action="store_true", help="overwrite existing files")
    args = parser.parse_args(argv)
    try:
        if args.command == "certs":
            return _certs(Path(args.dir), args.force)
        if args.command == "demo":
            return run_demo(args)
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
    workers = getattr(args, "workers", None)
    if workers is not None and workers < 1:
        print("mock-broker: --workers must be at least 1", file=sys.stderr)
        return 2
    if workers and workers > 1 and settings.store_url == "memory":
        print(f"mock-broker: --workers {workers} needs a shared store: with the memory store each worker would be "
              "a broker of its own (an artifact made by one would not resolve on another). Give "
              "--store redis://127.0.0.1:6379/0 (Debian package redis-server).", file=sys.stderr)
        return 2
    from .app import create_app
    app = create_app(settings)  # with --workers: a check that settings, world, metadata and store are usable
    print(BANNER, file=sys.stderr)
    print(f"metadata: {settings.metadata_url}   login page opens on the first AuthnRequest", file=sys.stderr)
    for dv in app.extensions["mock_broker"].registry.all():
        print(f"DV registered: {dv.entity_id} ({len(dv.services)} services)", file=sys.stderr)
    if workers:
        del app
        print(f"serving with gunicorn: {workers} worker(s) × {args.threads} thread(s), store {settings.store_url}",
              file=sys.stderr)
        _gunicorn(settings, bind=f"[{args.host}]:{args.port}" if ":" in args.host else f"{args.host}:{args.port}",
                  workers=workers, threads=args.threads)
        return 0
    # the fault catalogue is read beside the server's start, not at the first fault case or GET /_mock/faults
    threading.Thread(target=faults.preload, name="fault-catalogue", daemon=True).start()
    serve(app, args.host, args.port)
    return 0


def _gunicorn(settings: BrokerSettings, *, bind: str, workers: int, threads: int) -> None:
    """Run gunicorn in this process; each worker builds its app (keys, xmlsec objects) once, at start."""
    import os

    from gunicorn.app.base import BaseApplication

    from .wsgi import ENV, settings_to_json

    os.environ[ENV] = settings_to_json(settings)

    class Server(BaseApplication):
        def load_config(self):
            options = {"bind": bind, "workers": workers, "threads": threads,
                       "worker_class": "gthread" if threads > 1 else "sync", "preload_app": False,
                       "accesslog": None, "loglevel": "warning", "timeout": 60, "graceful_timeout": 5,
                       "proc_name": "mock-broker"}
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            from .wsgi import create
            return create()

    Server().run()


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
