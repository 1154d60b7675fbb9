"""The harness's HTTP client: keep-alive connections per origin, cookies as a browser keeps them, nothing else.

Not `requests`: a scenario makes a dozen requests (its logins, the pages, `/whoami`, the broker's journal)
and `requests` cost the harness 0.6 ms of CPU each, `http.client` 0.15 ms; on two cores the harness shares
with the broker and the portal, that was a fifth of a suite's time. What the harness needs is small: no
redirects followed here (the Browser follows them, recording every hop), forms and JSON bodies, cookies
(`http.cookiejar`, the jar and policy `requests` uses too), time-outs, and HTTPS with a CA bundle given in
`REQUESTS_CA_BUNDLE` or `CURL_CA_BUNDLE`. Like `ehsaml.net.loopback_session`, it reads no proxy settings
and no `~/.netrc`: its traffic is test traffic for loopback.
"""

from __future__ import annotations

import email.message
import http.client
import http.cookiejar
import json as jsonlib
import socket
import ssl
import urllib.request
from urllib.parse import quote, urlencode, urlsplit

from ehsaml.net import ca_bundle

USER_AGENT = "eherkenning-harness"
# A connection the server closed while it sat idle fails on its next use; that request is sent again once,
# on a new connection, as browsers do. A fresh connection's failure is the answer.
_STALE = (http.client.RemoteDisconnected, http.client.CannotSendRequest, http.client.BadStatusLine,
          BrokenPipeError, ConnectionResetError, ConnectionAbortedError)
_SAFE = "!#$%&'()*+,/:;=?@[]~"  # what may stay as it is in a URL's path and query (the set requests keeps)


class HttpError(Exception):
    """The request got no usable answer: no connection, a time-out, a broken answer."""


class HttpTimeout(HttpError):
    pass


class Answer:
    """An HTTP answer, read whole: `status_code`, `headers` (case-insensitive), `content`, `text`, `json()`."""

    def __init__(self, status: int, headers: email.message.Message, content: bytes):
        self.status_code, self.headers, self.content = status, headers, content

    @property
    def text(self) -> str:
        # the charset the answer declares, else UTF-8 (what every portal here sends); never failing
        charset = self.headers.get_content_charset() or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self):
        return jsonlib.loads(self.content)  # ValueError when it is not JSON, as with requests


class _Info:
    """What http.cookiejar reads of an answer: its headers, through info()."""

    def __init__(self, headers: email.message.Message):
        self._headers = headers

    def info(self) -> email.message.Message:
        return self._headers


class Connections:
    """Keep-alive connections, one per origin, for one thread at a time.

    Clients may share them: a runner worker gives one set to every scenario it runs, so that a scenario's
    browser (with its own, fresh cookie jar) and its control calls do not open new TCP connections, as a
    browser keeps its connections across tabs. Connections hold no state of a scenario; cookies are the
    Client's."""

    def __init__(self):
        self.open: dict[tuple[str, str, int], http.client.HTTPConnection] = {}

    def drop(self, key) -> None:
        conn = self.open.pop(key, None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        """Close every connection (a kept-alive connection left open holds a server thread until collected)."""
        for key in list(self.open):
            self.drop(key)


class Client:
    """Keep-alive connections (its own, or `connections` shared); with `cookies`, a cookie jar as a browser keeps one."""

    def __init__(self, *, cookies: bool = False, timeout: float = 15, connections: Connections | None = None):
        self.timeout = timeout
        self.cookies = http.cookiejar.CookieJar() if cookies else None
        self._owns = connections is None
        self._pool = connections or Connections()
        self._connections = self._pool.open

    def get(self, url: str, **kw) -> Answer:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw) -> Answer:
        return self.request("POST", url, **kw)

    def request(self, method: str, url: str, *, data: dict | None = None, json=None, params: dict | None = None,
                timeout: float | None = None) -> Answer:
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params, doseq=True)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpError(f"not an http(s) URL: {url!r}")
        target = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_SAFE)
        send = {"User-Agent": USER_AGENT, "Accept": "*/*"}
        body = None
        if json is not None:
            body, send["Content-Type"] = jsonlib.dumps(json).encode("utf-8"), "application/json"
        elif data is not None:
            body = urlencode(data, doseq=True).encode("ascii")
            send["Content-Type"] = "application/x-www-form-urlencoded"
        if method not in ("GET", "HEAD") or body is not None:
            send["Content-Length"] = str(len(body or b""))
        cookie_request = None
        if self.cookies is not None:
            cookie_request = urllib.request.Request(url, method=method)
            self.cookies.add_cookie_header(cookie_request)
            if cookie_request.has_header("Cookie"):
                send["Cookie"] = cookie_request.get_header("Cookie")
        key = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        for attempt in (1, 2):
            reused = key in self._connections
            conn = self._connections.get(key) or self._connect(key)
            self._connections[key] = conn
            try:
                if conn.sock is not None:
                    conn.sock.settimeout(timeout or self.timeout)
                conn.timeout = timeout or self.timeout
                conn.request(method, target, body=body, headers=send)
                resp = conn.getresponse()
                content = resp.read()
                break
            except _STALE as exc:
                self._drop(key)
                if reused and attempt == 1:
                    continue
                raise HttpError(f"{method} {url}: the connection broke ({type(exc).__name__})") from None
            except (socket.timeout, TimeoutError):
                self._drop(key)
                raise HttpTimeout(f"{method} {url}: no answer within {timeout or self.timeout} s") from None
            except (OSError, http.client.HTTPException) as exc:
                self._drop(key)
                raise HttpError(f"{method} {url}: {type(exc).__name__}: {exc}") from None
        if resp.will_close:
            self._drop(key)
        answer = Answer(resp.status, resp.msg, content)
        if cookie_request is not None:
            self.cookies.extract_cookies(_Info(resp.msg), cookie_request)
        return answer

    def _connect(self, key: tuple[str, str, int]) -> http.client.HTTPConnection:
        scheme, host, port = key
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.timeout,
                                               context=ssl.create_default_context(cafile=ca_bundle()))
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def _drop(self, key) -> None:
        self._pool.drop(key)

    def close(self) -> None:
        """Close its own connections; shared ones are closed by their owner (Connections.close)."""
        if self._owns:
            self._pool.close()

    def __del__(self):  # a client dropped without close() (a Broker made for one call) closes its sockets
        self.close()
