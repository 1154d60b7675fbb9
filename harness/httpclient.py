"""The harness's HTTP client: keep-alive connections per origin, cookies as a browser keeps them, nothing else.

Not `requests`, nor `http.client`: a scenario makes a dozen requests (its logins, the pages, `/whoami`, the
broker's journal), and on two cores the harness shares with the broker and the portal, each costs: `requests`
0.6 ms of CPU per request, `http.client` 0.2 ms, the HTTP/1.1 framing below 0.1 ms. What the harness needs is small: no
redirects followed here (the Browser follows them, recording every hop), forms and JSON bodies, cookies
(`http.cookiejar`, the jar and policy `requests` uses too), time-outs, and HTTPS with a CA bundle given in
`REQUESTS_CA_BUNDLE` or `CURL_CA_BUNDLE`. Like `ehsaml.net.loopback_session`, it reads no proxy settings
and no `~/.netrc`: its traffic is test traffic for loopback.
"""

from __future__ import annotations

import http.cookiejar
import json as jsonlib
import socket
import ssl
import urllib.request
from urllib.parse import quote, urlencode, urlsplit

from ehsaml.net import ca_bundle

USER_AGENT = "eherkenning-harness"
_SAFE = "!#$%&'()*+,/:;=?@[]~"  # what may stay as it is in a URL's path and query (the set requests keeps)
_MAX_LINE, _MAX_HEADERS = 65536, 100  # as http.client bounds an answer's head
_NO_BODY = (204, 304)


class HttpError(Exception):
    """The request got no usable answer: no connection, a time-out, a broken answer."""


class HttpTimeout(HttpError):
    pass


class _Stale(Exception):
    """A kept-alive connection the server had closed: the request is sent again once, on a new connection,
    as browsers do. A fresh connection's failure is the answer."""


class Headers:
    """An answer's header fields: case-insensitive, a name may come more than once (Set-Cookie)."""

    def __init__(self, fields: list[tuple[str, str]]):
        self.fields = fields
        self._by_name: dict[str, list[str]] = {}
        for name, value in fields:
            self._by_name.setdefault(name.lower(), []).append(value)

    def get(self, name: str, default=None):
        values = self._by_name.get(name.lower())
        return values[0] if values else default

    def get_all(self, name: str, default=None):  # what http.cookiejar asks of an answer's headers
        return list(self._by_name.get(name.lower(), ())) or default

    def __getitem__(self, name: str) -> str:
        return self._by_name[name.lower()][0]

    def __contains__(self, name: str) -> bool:
        return name.lower() in self._by_name

    def get_content_charset(self) -> str | None:
        for param in (self.get("Content-Type") or "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"').lower()
        return None


class Answer:
    """An HTTP answer, read whole: `status_code`, `headers` (case-insensitive), `content`, `text`, `json()`."""

    def __init__(self, status: int, headers: Headers, content: bytes):
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

    def __init__(self, headers: Headers):
        self._headers = headers

    def info(self) -> Headers:
        return self._headers


class _Connection:
    """One HTTP/1.1 connection: a request written in one piece, an answer read by its length or chunks.

    Not http.client: it reads an answer's head with the email package's parser, half of its 0.2 ms of CPU
    per request, and a suite makes some 3,600 requests. What is read here is what HTTP/1.1 servers send: a
    status line (interim 1xx answers skipped), header fields, and a body framed by Content-Length, by chunked
    transfer coding, or by the end of the connection."""

    def __init__(self, scheme: str, host: str, port: int, timeout: float):
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":
            sock = ssl.create_default_context(cafile=ca_bundle()).wrap_socket(sock, server_hostname=host)
        self.sock, self.file, self.host = sock, sock.makefile("rb"), f"{host}:{port}"
        self.used = False

    def close(self) -> None:
        for part in (self.file, self.sock):
            try:
                part.close()
            except OSError:
                pass

    def exchange(self, method: str, target: str, headers: dict[str, str], body: bytes | None,
                 timeout: float) -> tuple[int, Headers, bytes, bool]:
        """(status, headers, body, the connection must close)."""
        reused, self.used = self.used, True
        self.sock.settimeout(timeout)
        head = f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        try:
            self.sock.sendall(head.encode("latin-1") + (body or b""))
            line = self.file.readline(_MAX_LINE + 1)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            if reused:
                raise _Stale() from None
            raise
        if not line:
            if reused:
                raise _Stale()
            raise HttpError("the server closed the connection without an answer")
        while True:
            version, status = _status_line(line)
            fields = self._fields()
            if status >= 200 or status == 101:
                break
            line = self.file.readline(_MAX_LINE + 1)  # an interim 1xx answer: the real one follows
        answer = Headers(fields)
        tokens = {t.strip().lower() for t in (answer.get("Connection") or "").split(",")}
        close = "close" in tokens or (version == "HTTP/1.0" and "keep-alive" not in tokens)
        if method == "HEAD" or status in _NO_BODY or status < 200:
            return status, answer, b"", close
        if "chunked" in (answer.get("Transfer-Encoding") or "").lower():
            return status, answer, self._chunked(), close
        length = answer.get("Content-Length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                raise HttpError(f"Content-Length {length!r} is not a number") from None
            content = self.file.read(n)
            if len(content) != n:
                raise HttpError(f"the answer ended after {len(content)} of its {n} bytes")
            return status, answer, content, close
        return status, answer, self.file.read(), True  # framed by the connection's end

    def _fields(self) -> list[tuple[str, str]]:
        fields: list[tuple[str, str]] = []
        while True:
            line = self.file.readline(_MAX_LINE + 1)
            if len(line) > _MAX_LINE:
                raise HttpError("an answer's header line is too long")
            if line in (b"\r\n", b"\n", b""):
                return fields
            if line[:1] in (b" ", b"\t") and fields:  # an obsolete folded line continues the field before
                name, value = fields[-1]
                fields[-1] = (name, value + " " + line.decode("latin-1").strip())
                continue
            name, sep, value = line.decode("latin-1").partition(":")
            if not sep:
                raise HttpError(f"a broken header line in the answer: {line[:80]!r}")
            fields.append((name.strip(), value.strip()))
            if len(fields) > _MAX_HEADERS:
                raise HttpError(f"more than {_MAX_HEADERS} header fields in the answer")

    def _chunked(self) -> bytes:
        parts = []
        while True:
            size_line = self.file.readline(_MAX_LINE + 1)
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise HttpError(f"a broken chunk size in the answer: {size_line[:40]!r}") from None
            if size == 0:
                self._fields()  # trailer fields, if any, up to the empty line
                return b"".join(parts)
            chunk = self.file.read(size)
            if len(chunk) != size or self.file.readline(_MAX_LINE + 1) not in (b"\r\n", b"\n"):
                raise HttpError("the answer ended inside a chunk")
            parts.append(chunk)


def _status_line(line: bytes) -> tuple[str, int]:
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
        raise HttpError(f"not an HTTP answer: {line[:80]!r}")
    return parts[0], int(parts[1])


class Connections:
    """Keep-alive connections, one per origin, for one thread at a time.

    Clients may share them: a runner worker gives one set to every scenario it runs, so that a scenario's
    browser (with its own, fresh cookie jar) and its control calls do not open new TCP connections, as a
    browser keeps its connections across tabs. Connections hold no state of a scenario; cookies are the
    Client's."""

    def __init__(self):
        self.open: dict[tuple[str, str, int], _Connection] = {}

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
        wait = timeout or self.timeout
        for attempt in (1, 2):
            try:
                conn = self._pool.open.get(key)
                if conn is None:
                    conn = self._pool.open[key] = _Connection(*key, wait)
                status, headers, content, close = conn.exchange(method, target, send, body, wait)
                break
            except _Stale:
                self._pool.drop(key)
                if attempt == 1:
                    continue
                raise HttpError(f"{method} {url}: the connection broke") from None
            except (socket.timeout, TimeoutError):
                self._pool.drop(key)
                raise HttpTimeout(f"{method} {url}: no answer within {wait} s") from None
            except HttpError as exc:
                self._pool.drop(key)
                raise HttpError(f"{method} {url}: {exc}") from None
            except (OSError, ValueError) as exc:  # ValueError: a host name that is not one (socket, ssl)
                self._pool.drop(key)
                raise HttpError(f"{method} {url}: {type(exc).__name__}: {exc}") from None
        if close:
            self._pool.drop(key)
        answer = Answer(status, headers, content)
        if cookie_request is not None:
            self.cookies.extract_cookies(_Info(headers), cookie_request)
        return answer

    def close(self) -> None:
        """Close its own connections; shared ones are closed by their owner (Connections.close)."""
        if self._owns:
            self._pool.close()

    def __del__(self):  # a client dropped without close() (a Broker made for one call) closes its sockets
        self.close()
