"""The harness's HTTP client against a real loopback server: cookies, bodies, keep-alive, time-outs, errors."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from harness.browser import Browser
from harness.httpclient import Client, Connections, HttpError, HttpTimeout


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the broker and portal serve
    seen: list[dict] = []

    def log_message(self, *args):  # quiet
        pass

    def _answer(self, status=200, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append({"method": self.command, "path": self.path, "cookie": self.headers.get("Cookie"),
                          "type": self.headers.get("Content-Type"), "body": body,
                          "port": self.client_address[1]})

    def do_GET(self):
        self._record()
        if self.path == "/set":
            self._answer(headers=[("Set-Cookie", "session=abc; Path=/; HttpOnly"),
                                  ("Set-Cookie", "other=1; Path=/elsewhere")])
        elif self.path == "/go":
            self._answer(302, headers=[("Location", "/landing")])
        elif self.path == "/landing":
            self._answer(body="<p>ĳsselmeer ✓</p>".encode("utf-8"), headers=[("Content-Type", "text/html; charset=utf-8")])
        elif self.path == "/slow":
            time.sleep(0.8)
            self._answer(body=b"late")
        elif self.path == "/close":
            self._answer(body=b"bye", headers=[("Connection", "close")])
            self.close_connection = True
        elif self.path == "/chunked":  # as a server streams an answer of unknown length
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Set-Cookie", "a=1; Path=/")
            self.send_header("set-cookie", "b=2; Path=/")
            self.end_headers()
            for part in (b"<p>first", b" second</p>"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/until-close":  # an HTTP/1.0 answer without a length: the body ends with the connection
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it")
            self.close_connection = True
        elif self.path == "/garbage":  # not an HTTP answer at all
            self.wfile.write(b"SSH-2.0-OpenSSH_9.2\r\n")
            self.close_connection = True
        elif self.path == "/drop":  # closes the kept-alive connection without saying so, as idle servers do
            self._answer(body=b"dropped")
            self.close_connection = True
        else:
            self._answer(body=json.dumps({"path": self.path}).encode(), headers=[("Content-Type", "application/json")])

    def do_POST(self):
        self._record()
        self._answer(body=b"ok")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # the slow answer's client has gone: expected
        pass


@pytest.fixture
def server():
    _Handler.seen = []
    httpd = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", httpd
    httpd.shutdown()
    httpd.server_close()


def test_cookies_are_kept_and_sent_only_where_their_path_allows(server):
    url, _ = server
    client = Client(cookies=True)
    client.get(url + "/set")
    client.get(url + "/page")
    client.get(url + "/elsewhere/x")
    client.close()
    assert _Handler.seen[1]["cookie"] == "session=abc"
    assert sorted(_Handler.seen[2]["cookie"].split("; ")) == ["other=1", "session=abc"]


def test_cookies_work_for_a_portal_reached_as_localhost(server):
    url, _ = server
    url = url.replace("127.0.0.1", "localhost")  # http.cookiejar treats a dotless host specially
    client = Client(cookies=True)
    client.get(url + "/set")
    client.get(url + "/page")
    client.close()
    assert _Handler.seen[1]["cookie"] == "session=abc"


def test_a_client_without_cookies_sends_none(server):
    url, _ = server
    client = Client()
    client.get(url + "/set")
    client.get(url + "/page")
    client.close()
    assert _Handler.seen[1]["cookie"] is None


def test_form_json_and_query_bodies_are_encoded(server):
    url, _ = server
    client = Client()
    client.post(url + "/form", data={"SAMLResponse": "a+b/c=", "RelayState": "é"})
    client.post(url + "/json", json={"person": "anna-de-vries"})
    answer = client.get(url + "/journal", params={"since": 7})
    client.close()
    form, body = _Handler.seen[0], _Handler.seen[1]
    assert form["type"] == "application/x-www-form-urlencoded"
    assert form["body"] == b"SAMLResponse=a%2Bb%2Fc%3D&RelayState=%C3%A9"
    assert body["type"] == "application/json" and json.loads(body["body"]) == {"person": "anna-de-vries"}
    assert answer.json() == {"path": "/journal?since=7"}


def test_one_connection_is_kept_alive_for_an_origin(server):
    url, _ = server
    client = Client()
    for _ in range(3):
        assert client.get(url + "/x").status_code == 200
    client.close()
    assert len({s["port"] for s in _Handler.seen}) == 1


def test_clients_sharing_connections_reuse_them_but_keep_their_own_cookies(server):
    # a runner worker's scenarios, one after the other: one TCP connection, no cookie carried over
    url, _ = server
    shared = Connections()
    first = Client(cookies=True, connections=shared)
    first.get(url + "/set")
    first.close()  # a scenario's end closes nothing it shares
    second = Client(cookies=True, connections=shared)
    second.get(url + "/page")
    assert len(shared.open) == 1
    shared.close()
    assert not shared.open
    assert _Handler.seen[1]["cookie"] is None
    assert len({s["port"] for s in _Handler.seen}) == 1


def test_chunked_answers_and_answers_ended_by_the_connection_are_read_whole(server):
    url, _ = server
    client = Client(cookies=True)
    chunked = client.get(url + "/chunked")
    assert chunked.text == "<p>first second</p>"
    assert chunked.headers.get_all("Set-Cookie") == ["a=1; Path=/", "b=2; Path=/"]  # any case, every one
    assert client.get(url + "/x").json() == {"path": "/x"}  # the same connection, read to its boundary
    assert client.get(url + "/until-close").text == "all of it"
    assert client.get(url + "/x").status_code == 200  # a new connection after the one that ended
    client.close()
    assert sorted(_Handler.seen[-1]["cookie"].split("; ")) == ["a=1", "b=2"]
    assert len({s["port"] for s in _Handler.seen}) == 2


def test_a_connection_the_server_closed_is_replaced(server):
    url, _ = server
    client = Client()
    assert client.get(url + "/close").text == "bye"
    assert client.get(url + "/x").status_code == 200  # a new connection, not an error
    client.close()
    assert len({s["port"] for s in _Handler.seen}) == 2


def test_a_request_on_a_connection_dropped_unannounced_is_sent_again_once(server):
    url, _ = server
    client = Client()
    assert client.get(url + "/drop").text == "dropped"
    time.sleep(0.05)  # the server has closed its end by now
    assert client.post(url + "/after", data={"a": "1"}).text == "ok"
    client.close()
    assert [s["path"] for s in _Handler.seen] == ["/drop", "/after"]  # sent once: the failed try never arrived


def test_the_answer_text_is_decoded_by_its_charset(server):
    url, _ = server
    client = Client()
    answer = client.get(url + "/landing")
    client.close()
    assert answer.text == "<p>ĳsselmeer ✓</p>"
    assert answer.headers.get("content-type") == "text/html; charset=utf-8"  # headers are case-insensitive


def test_a_slow_server_is_a_timeout_and_a_closed_port_a_non_http_url_and_a_non_http_answer_errors(server):
    url, httpd = server
    client = Client(timeout=0.3)
    with pytest.raises(HttpTimeout, match="no answer within 0.3 s"):
        client.get(url + "/slow")
    client.close()
    with pytest.raises(HttpError, match="Connection refused|ConnectionRefused"):
        Client().get("http://127.0.0.1:9/")  # the discard port: nothing listens on loopback
    with pytest.raises(HttpError, match="not an http"):
        Client().get("ftp://127.0.0.1/x")
    with pytest.raises(HttpError, match="not an HTTP answer: b'SSH-2.0"):
        Client().get(url + "/garbage")


def test_the_environment_s_proxy_is_not_used(server, monkeypatch):
    url, _ = server
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # a proxy that would refuse every request
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    client = Client()
    assert client.get(url + "/x").status_code == 200
    client.close()


def test_the_browser_follows_a_redirect_and_records_the_hops(server):
    url, _ = server
    browser = Browser()
    page = browser.get(url + "/go")
    browser.session.close()
    assert page.url == url + "/landing" and page.status == 200 and "ĳsselmeer" in page.text
    assert [(h.method, h.url, h.status) for h in page.hops] == [("GET", url + "/go", 302), ("GET", url + "/landing", 200)]
