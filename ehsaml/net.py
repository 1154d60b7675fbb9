"""Where the servers of this project may listen: loopback only, unless told otherwise."""

from __future__ import annotations

import ipaddress
import os


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def loopback_session():
    """A requests session for this project's own client traffic (the example portal's artifact resolution and
    metadata, `harness init`), all of it to loopback.

    It ignores the environment's proxies and ~/.netrc: a proxy would see test traffic that must stay on
    this machine, a .netrc would add credentials no browser sends, and looking both up costs on every
    request. A CA bundle named in REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE (a portal on https with its own
    certificate) is still used. (The harness's scenarios use `harness.httpclient`, which does the same.)"""
    import requests  # only the clients need it, not the servers' start

    session = requests.Session()
    session.trust_env = False
    bundle = ca_bundle()
    if bundle:
        session.verify = bundle
    return session


def ca_bundle() -> str | None:
    """The CA bundle the environment names for HTTPS clients (REQUESTS_CA_BUNDLE, else CURL_CA_BUNDLE), if any."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


def server_module():
    """waitress, imported when a process is to serve (the command-line tools' other commands do without)."""
    import waitress

    return waitress


def serve(app, host: str, port: int, *, threads: int = 8) -> None:
    """Serve a WSGI app over HTTP/1.1 with keep-alive (waitress, threaded, one process).

    Not werkzeug's development server: it closes the connection after every answer and then waits up
    to 10 ms for stray request data, so a browser, the harness and a DV resolving artifacts paid a TCP
    connection, a thread and that wait on every request."""
    import logging

    waitress = server_module()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" notes under load
    waitress.serve(app, host=host.strip("[]"), port=port, threads=threads, ident="eherkenning-mock",
                   clear_untrusted_proxy_headers=True, _quiet=True)
