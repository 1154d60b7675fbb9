"""Registering a DV by URL (POST /_mock/sps metadata_url / catalogue_url) and by the command line: the fetch
rules of mock_broker/fetch.py (issue 14). Real HTTP servers on loopback that misbehave: a slow drip, an
endless body, redirects to files and to other hosts, a page with a secret on it. Every refusal names the
URL and the reason, never what was read, and leaves the registration as it was."""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import replace

import pytest
import requests
from brokerserver import serve_broker
from testdv import dv_catalogue, dv_metadata

from ehsaml.errors import MetadataError
from mock_broker.app import create_app
from mock_broker.fetch import FetchPolicy, _check_target, fetch_url
from mock_broker.settings import BrokerSettings

CAP_SECONDS = 2.0  # the fetch limit of this module's broker


class Misbehaving:
    """A raw HTTP server on 127.0.0.1: each path answers as the test says (bytes, or a function of the socket)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.routes: dict = {}
        self.open_connections = 0
        self._stop = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn):
        self.open_connections += 1
        try:
            request = conn.recv(4096).decode("latin-1")
            path = request.split(" ")[1] if " " in request else "/"
            answer = self.routes.get(path, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
            if callable(answer):
                answer(conn)
            else:
                conn.sendall(answer)
        except OSError:
            pass
        finally:
            self.open_connections -= 1
            conn.close()

    def close(self):
        self._stop = True
        self.sock.close()


def ok(body: bytes, content_type: str = "application/xml") -> bytes:
    return (f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def redirect(location: str) -> bytes:
    return f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()


def drip(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 100000\r\n\r\n")
    for _ in range(200):  # one byte every 0.2 s: each read is quick, the whole never ends
        conn.sendall(b"<")
        time.sleep(0.2)


def drip_headers(conn):
    for _ in range(200):
        conn.sendall(b"X")
        time.sleep(0.2)


def endless(conn):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n\r\n")
    chunk = b"\0" * 65536
    for _ in range(1000):  # 64 MB if nobody stopped reading
        conn.sendall(chunk)


@pytest.fixture(scope="module")
def server():
    s = Misbehaving()
    s.routes.update({
        "/metadata": ok(dv_metadata()), "/catalogue": ok(dv_catalogue()), "/drip": drip, "/drip-headers": drip_headers,
        "/endless": endless, "/big": ok(b"<x>" + b" " * 2_000_000 + b"</x>"),
        "/secret": ok(b"<html><body>SECRET-MARKER-81f3 the user's notes</body></html>", "text/html"),
        "/not-xml": ok(b"SECRET-MARKER-81f3: not XML at all"),
        "/to-file": redirect("file:///etc/passwd"), "/to-remote": redirect("http://192.0.2.1/metadata"),
        "/to-metadata": redirect("/metadata"), "/loop": redirect("/loop"), "/gone": b"HTTP/1.1 500 Oops\r\n\r\n",
    })
    yield s
    s.close()


@pytest.fixture(scope="module")
def fetching_broker():
    served = serve_broker(fetch_timeout_seconds=CAP_SECONDS)
    yield served.base_url
    served.stop()


def register(broker_url: str, **body) -> requests.Response:
    return requests.post(f"{broker_url}/_mock/sps", json=body, timeout=30)


def registered(broker_url: str) -> list:
    return requests.get(f"{broker_url}/_mock/sps", timeout=5).json()["sps"]


@pytest.mark.parametrize("url, words", [
    ("file:///etc/passwd", "not a file: URL"),
    ("/etc/passwd", "not a file path"),
    ("/dev/zero", "not a file path"),
    ("etc/hostname", "not a file path"),
    ("ftp://127.0.0.1/metadata", "not a ftp: URL"),
    ("gopher://127.0.0.1:6379/_FLUSHALL", "not a gopher: URL"),
    ("http://192.0.2.1/metadata", "not a loopback address"),
    ("http:///metadata", "names no host"),
    ("http://[::1/metadata", "not a valid URL"),
])
def test_a_url_the_rules_do_not_allow_is_refused_naming_it(fetching_broker, url, words):
    before = registered(fetching_broker)
    for field in ("metadata_url", "catalogue_url"):
        body = {"metadata_url": url} if field == "metadata_url" else {"metadata": dv_metadata().decode(),
                                                                         "catalogue_url": url}
        resp = register(fetching_broker, **body)
        assert resp.status_code == 400, resp.text
        error = resp.json()["error"]
        assert error.startswith(url[:20]) and words in error, error
    assert registered(fetching_broker) == before


def test_a_fifo_named_through_the_api_is_not_even_opened(fetching_broker, tmp_path):
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)
    start = time.monotonic()
    resp = register(fetching_broker, metadata_url=str(fifo))
    assert resp.status_code == 400 and "not a file path" in resp.json()["error"]
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("path, words", [
    ("/drip", f"no complete answer within {CAP_SECONDS:g} s"),
    ("/drip-headers", f"no complete answer within {CAP_SECONDS:g} s"),
    ("/endless", "larger than 1000000 bytes"),
    ("/big", "2000007 bytes; at most 1000000"),
    ("/to-file", "redirected to file:///etc/passwd"),
    ("/to-remote", "redirected to http://192.0.2.1/metadata"),
    ("/loop", "more than 3 redirects"),
    ("/gone", "HTTP 500"),
])
def test_a_misbehaving_server_is_cut_off_within_the_caps(fetching_broker, server, path, words):
    before = registered(fetching_broker)
    start = time.monotonic()
    resp = register(fetching_broker, metadata_url=server.url + path)
    took = time.monotonic() - start
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error.startswith(server.url + path) and words in error, error
    assert took < CAP_SECONDS + 2, took  # the total cap holds: a drip does not keep a thread for longer
    assert registered(fetching_broker) == before


def test_the_slow_drip_connection_is_closed_at_the_cap(fetching_broker, server):
    register(fetching_broker, metadata_url=server.url + "/drip")
    time.sleep(0.5)  # the drip thread notices on its next write
    assert server.open_connections == 0


@pytest.mark.parametrize("path", ["/secret", "/not-xml"])
def test_what_was_read_is_never_echoed(fetching_broker, server, path):
    resp = register(fetching_broker, metadata_url=server.url + path)
    assert resp.status_code == 400
    error = resp.json()["error"]
    assert "SECRET-MARKER" not in error and "html" not in error.lower() and "body" not in error, error
    assert "is not SAML metadata" in error


def test_a_good_url_and_a_redirect_within_the_rules_register(fetching_broker, server):
    resp = register(fetching_broker, metadata_url=server.url + "/to-metadata", catalogue_url=server.url + "/catalogue")
    assert resp.status_code == 201, resp.text
    assert any(s["source"] == server.url + "/to-metadata" for s in registered(fetching_broker))


def test_remote_hosts_only_when_allowed():
    remote = "http://192.0.2.1/metadata"  # TEST-NET-1: checked, never connected to here
    with pytest.raises(MetadataError, match="not a loopback address"):
        _check_target(remote, FetchPolicy(), remote)
    assert _check_target(remote, FetchPolicy(hosts=frozenset({"192.0.2.1"})), remote)[1] == "192.0.2.1"
    assert _check_target(remote, FetchPolicy(any_host=True), remote)[3] == ["192.0.2.1"]
    settings = replace(BrokerSettings(), sp_metadata=("http://Portal.Example:8481/saml/metadata",))
    assert "portal.example" in FetchPolicy.from_settings(settings).hosts  # a host named on the command line


def test_the_cap_holds_for_fetch_url_itself(server):
    start = time.monotonic()
    with pytest.raises(MetadataError, match="within 1 s"):
        fetch_url(server.url + "/drip", FetchPolicy(timeout_seconds=1))
    assert time.monotonic() - start < 2.5


# --- files named on the command line --------------------------------------------------------------------------

def test_a_file_on_the_command_line_is_read(tmp_path):
    path = tmp_path / "dv.xml"
    path.write_bytes(dv_metadata())
    app = create_app(replace(BrokerSettings(), metadata_dir=None, sp_metadata=(str(path),)))
    assert [dv.source for dv in app.extensions["mock_broker"].registry.all()] == [str(path)]


@pytest.mark.parametrize("kind", ["fifo", "device", "folder", "big"])
def test_a_command_line_file_that_is_no_regular_small_file_is_refused_without_hanging(tmp_path, kind):
    path = tmp_path / "x.xml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "device":
        path = "/dev/zero"
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_bytes(b" " * 1_000_001)
    outcome = []

    def load():
        try:
            create_app(replace(BrokerSettings(), metadata_dir=None, sp_metadata=(str(path),)))
        except MetadataError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "reading the file hung"
    assert outcome and outcome[0].startswith(str(path)), outcome
    assert ("not a regular file" if kind != "big" else "at most 1000000") in outcome[0]
