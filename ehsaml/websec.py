"""The web guard the broker and the example portal share: Host check, same-origin state changes, CSRF
tokens, security headers and JSON input that cannot crash a view.

Both servers listen on loopback, and so does the developer's own browser: a page of any site open in it
can send requests to 127.0.0.1. What this guards against (README, "What the control surface protects
against"):

- DNS rebinding: a request whose Host header is not a name of this server (a loopback literal,
  `localhost`, the base URL's host or a name given with --public-url) is refused;
- cross-site requests: a state change (any method but GET/HEAD/OPTIONS) on a guarded path must come
  from one of this server's own pages (`Sec-Fetch-Site: same-origin`, `Origin` = this origin); a client
  that sends neither header (curl, requests, the harness) is no browser and passes;
- forged forms: the forms carry an HMAC token bound to what they change (a session, a pending login);
- script in its pages: a Content-Security-Policy without inline script (styles by nonce, the SAML
  auto-post form's one script by hash), no framing, no MIME sniffing;
- JSON that is not what a view expects: `read_json` bounds nesting and returns only parsed values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, g, request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A JSON body deeper than this is refused before a view sees it (the control API's deepest is 4).
MAX_JSON_DEPTH = 16
CSRF_FIELD = "csrf_token"


# --- Host header -------------------------------------------------------------------------------------

def split_host(host_header: str) -> tuple[str, int | None] | None:
    """(lower-case name, port) of a Host header value, or None if it is no host[:port]."""
    value = (host_header or "").strip()
    if not value or any(c in value for c in "/\\@ \t?#"):
        return None
    try:
        parts = urlsplit(f"//{value}")
        name, port = parts.hostname, parts.port
    except ValueError:
        return None
    if not name:
        return None
    return name.rstrip("."), port


def _is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def host_names(urls: Iterable[str]) -> frozenset[str]:
    """The host names of URLs (base URL, --public-url values), lower-case."""
    names = set()
    for url in urls:
        host = urlsplit(url).hostname
        if host:
            names.add(host.rstrip(".").lower())
    return frozenset(names)


def origin_of(url: str) -> str:
    """scheme://host[:port] as a browser serialises an Origin (default ports left out)."""
    parts = urlsplit(url)
    scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


@dataclass(frozen=True)
class Guard:
    """What one server accepts: its Host names and origins, and which paths only its own pages may change."""

    names: frozenset[str]  # host names besides loopback literals and localhost
    origins: frozenset[str]  # origins besides the request's own (the base URL's, --public-url's)
    guarded: Callable[[str], bool]  # path -> state changes there must be same-origin

    @classmethod
    def for_urls(cls, urls: Iterable[str], guarded: Callable[[str], bool]) -> "Guard":
        urls = [u for u in urls if u]
        return cls(names=host_names(urls), origins=frozenset(origin_of(u) for u in urls), guarded=guarded)

    def host_problem(self, host_header: str) -> str | None:
        parsed = split_host(host_header)
        if parsed is None:
            return f"the Host header {host_header[:80]!r} is not a host name"
        name = parsed[0]
        # 'localhost' is resolved by the browser itself, and an IP literal cannot be rebound by DNS.
        if name == "localhost" or name in self.names:
            return None
        if _is_ip_literal(name):
            if ipaddress.ip_address(name).is_loopback:
                return None
            return (f"the Host header names {name}, not an address of this server; give it with "
                    "--public-url if the server is reached there")
        return (f"the Host header names {name!r}, which is not this server's (a DNS-rebinding page would; "
                "give the name with --public-url if the server is reached by it)")

    def cross_site_problem(self, method: str, headers, own_origin: str) -> str | None:
        """Why this state change must be refused as not coming from this server's own pages, or None."""
        if method in SAFE_METHODS:
            return None
        site = (headers.get("Sec-Fetch-Site") or "").strip().lower()
        origin = (headers.get("Origin") or "").strip()
        if site and site not in ("same-origin", "none"):
            return (f"a {site} request (Sec-Fetch-Site) may not change anything here: only this server's own "
                    "pages, or a client that is no browser, may")
        if origin:
            if origin == "null":
                return "a request with Origin 'null' (a sandboxed or file page) may not change anything here"
            if origin_of(origin) != own_origin and origin_of(origin) not in self.origins:
                return f"a request from {origin_of(origin)} (Origin) may not change anything here"
        return None


def install(app: Flask, guard: Guard, refuse: Callable[[int, str, str], Response]) -> None:
    """Wire the guard into an app: the Host and same-origin checks first, the headers on every answer.

    `refuse(status, message, where)` renders a refusal the way the app renders its errors."""

    @app.before_request
    def _guard():
        problem = guard.host_problem(request.host)
        if problem:
            return refuse(400, problem, "Host header")
        if guard.guarded(request.path):
            problem = guard.cross_site_problem(request.method, request.headers,
                                               origin_of(f"{request.scheme}://{request.host}"))
            if problem:
                return refuse(403, problem, "Origin / Sec-Fetch-Site")
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        set_headers(response)
        return response

    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["csrf_field"] = CSRF_FIELD


# --- headers ---------------------------------------------------------------------------------------

def csp_nonce() -> str:
    """This response's nonce for <style nonce=...> (templates call csp_nonce())."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def csp(*, nonce: str | None = None, script_hashes: Iterable[str] = (), script_src: str = "") -> str:
    """No inline script: scripts only by hash (or from the server's own files, script_src "'self'"), styles only
    by nonce; no framing, no plugins, no <base>."""
    scripts = " ".join([script_src, *script_hashes]).strip()
    parts = ["default-src 'none'", "img-src 'self' data:", "base-uri 'none'", "frame-ancestors 'none'"]
    parts.append(f"style-src 'nonce-{nonce}'" if nonce else "style-src 'none'")
    parts.append(f"script-src {scripts}" if scripts else "script-src 'none'")
    return "; ".join(parts)


def set_headers(response: Response) -> None:
    if "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = csp(nonce=g.get("csp_nonce"), script_src=g.get("csp_script_src", ""))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"


# --- CSRF tokens ---------------------------------------------------------------------------------------

class CsrfTokens:
    """HMAC tokens bound to a purpose and a value (a session's id, a pending login): stateless, so every
    worker that shares the secret accepts them."""

    def __init__(self, secret: bytes):
        if len(secret) < 16:
            raise ValueError("a CSRF secret needs at least 16 bytes")
        self._secret = secret

    def token(self, purpose: str, bound_to: str) -> str:
        mac = hmac.new(self._secret, f"{purpose}\x00{bound_to}".encode("utf-8"), hashlib.sha256)
        return base64.urlsafe_b64encode(mac.digest()).decode("ascii").rstrip("=")

    def valid(self, token: str | None, purpose: str, bound_to: str | None) -> bool:
        if not token or not bound_to or not isinstance(token, str):
            return False
        return hmac.compare_digest(token.encode("utf-8", "replace"), self.token(purpose, bound_to).encode("ascii"))


# --- JSON input ----------------------------------------------------------------------------------------

class JsonInputError(ValueError):
    """A body that is not acceptable JSON; the message says why (status: 415 or 400)."""

    def __init__(self, message: str, status: int = 400):
        self.status = status
        super().__init__(message)


JSON_TYPES = ("application/json",)


def read_json(*, empty: Any = ..., max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The request's JSON body, refused unless sent as application/json (a browser's "simple" request
    never is) and at most `max_depth` deep. A request without a body and without a Content-Type gets
    `empty` if given (so `curl -XPOST …/reset` works), else is refused."""
    raw = request.get_data(cache=True)
    mimetype = (request.mimetype or "").lower()
    if not raw and not mimetype and empty is not ...:
        return empty
    if mimetype not in JSON_TYPES:
        raise JsonInputError(f"send a JSON object with Content-Type: application/json (got "
                             f"{mimetype or 'no Content-Type'})", status=415)
    return parse_json(raw, max_depth=max_depth)


def parse_json(raw: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    depth = _max_depth(raw, max_depth)
    if depth > max_depth:
        raise JsonInputError(f"the JSON is nested {depth} deep; at most {max_depth} levels are read")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise JsonInputError("the body is not UTF-8") from None
    except (ValueError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if hasattr(exc, "lineno") else ""
        raise JsonInputError(f"the body is not JSON{where}") from None


def _max_depth(raw: bytes, limit: int) -> int:
    """The deepest nesting of [ and { outside strings, without parsing (so no recursion on any input)."""
    brackets = raw.count(b"[") + raw.count(b"{")
    if brackets <= limit:
        return brackets  # an upper bound, and within the limit: no need to look closer
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest
