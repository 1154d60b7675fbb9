"""A very small web server for the interop portals (standard library only: each runs in its library's venv).

What a portal team writes around an SP library: a login URL, an ACS, a landing page that names the
company, a refusal page that says why, a logout and a /whoami JSON oracle for the harness. Sessions are
server-side (a random cookie), as a web framework's are. TEST ONLY.
"""

from __future__ import annotations

import html
import json
import secrets
import sys
import threading
from dataclasses import dataclass, field
from http import cookies
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

_SESSIONS: dict[str, dict] = {}
_LOCK = threading.Lock()


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    session: dict
    environ: dict = field(repr=False, default_factory=dict)

    @property
    def values(self) -> dict[str, str]:
        return {**self.query, **self.form}


@dataclass
class Response:
    status: int = 200
    body: str = ""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, "", headers=[("Location", location)])


def as_json(data) -> Response:
    return Response(200, json.dumps(data), "application/json")


def page(title: str, body: str, status: int = 200) -> Response:
    """`body` is HTML already escaped by the caller (use esc())."""
    return Response(status, f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title></head>"
                            f"<body><h1>{esc(title)}</h1>{body}</body></html>")


def esc(text) -> str:
    return html.escape(str(text))


def _flat(qs: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in qs.items()}


def wsgi(routes: dict[str, callable]):
    """A WSGI app: the route for the path (exact), else 404; a crash is a 500 (and goes to the log)."""
    def app(environ, start_response):
        jar = cookies.SimpleCookie(environ.get("HTTP_COOKIE", ""))
        sid = jar["sid"].value if "sid" in jar and jar["sid"].value in _SESSIONS else None
        new = sid is None
        if new:
            sid = secrets.token_urlsafe(24)
        with _LOCK:
            session = _SESSIONS.setdefault(sid, {})
        form = {}
        if environ["REQUEST_METHOD"] == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(size).decode("utf-8", "replace") if size else ""
            if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
                form = _flat(parse_qs(body, keep_blank_values=True))
        request = Request(environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"),
                          _flat(parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)), form, session,
                          environ)
        handler = routes.get(request.path)
        try:
            response = handler(request) if handler else page("Not found", "", 404)
        except Exception as exc:  # the library raised: the portal crashes, as a framework's default would
            print(f"500 on {request.method} {request.path}: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            response = page("Server error", f"<p>{esc(type(exc).__name__)}</p>", 500)
        headers = [("Content-Type", response.content_type), *response.headers]
        if new:
            headers.append(("Set-Cookie", f"sid={sid}; Path=/; HttpOnly; SameSite=Lax"))
        start_response(f"{response.status} {_REASONS.get(response.status, 'Status')}", headers)
        return [response.body.encode("utf-8")]
    return app


_REASONS = {200: "OK", 302: "Found", 303: "See Other", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            500: "Internal Server Error"}


# --- the pages every one of these portals has, around its library's login and ACS ---------------------

USER_FIELDS = ("kvk", "rsin", "intermediary_kvk", "acting_subject", "company", "service_id", "level")
QUALIFIER = "urn:etoegang:1.9:EntityConcernedID:"


def refuse(req: Request, reason: str) -> Response:
    """The portal's refusal page (HTTP 403) with the reason; no session."""
    req.session.pop("user", None)
    req.session["refused"] = reason
    return page("Inloggen mislukt / Login refused", f"<p id='reason'>{esc(reason)}</p>", 403)


def logged_in(req: Request, ids: dict[str, str], attrs: dict, **more) -> Response:
    """The session after a login the library accepted. The portal's own rule: it acts for a company it knows
    by KvK number, so an answer without one (in the decrypted LegalSubjectID) is refused."""
    if not ids.get(QUALIFIER + "KvKnr"):
        return refuse(req, "no KvK number in the answer (LegalSubjectID)")
    first = lambda name: next((v for v in attrs.get(name) or [] if isinstance(v, str)), None)  # noqa: E731
    req.session["user"] = {
        "kvk": ids.get(QUALIFIER + "KvKnr"), "rsin": ids.get(QUALIFIER + "RSIN"), "acting_subject": ids.get(QUALIFIER + "Pseudo"),
        "intermediary_kvk": first("urn:etoegang:1.9:IntermediateEntityID:KvKnr"),
        "company": " ".join(v for v in attrs.get("urn:etoegang:1.11:attribute-represented:CompanyName") or []
                            if isinstance(v, str)),
        "service_id": first("urn:etoegang:core:ServiceID"), **more}
    req.session.pop("refused", None)
    return redirect("/home", 303)


def portal_routes(title: str, login_path: str = "/login") -> dict:
    """/, /home (the company logged in for), /whoami (JSON for the harness) and /logout."""
    def index(req):
        return page(title, f"<p><a href='{esc(login_path)}'>Inloggen met eHerkenning</a></p>")

    def home(req):
        user = req.session.get("user")
        if not user:
            return redirect("/")
        return page("Ingelogd / Logged in", f"<p>Namens <b id='company'>{esc(user['company'])}</b> "
                                            f"(KvK {esc(user['kvk'])})</p><form method='post' action='/logout'>"
                                            "<button>Uitloggen</button></form>")

    def whoami(req):
        user = req.session.get("user") or {}
        return as_json({"logged_in": bool(user), **{k: user.get(k) for k in USER_FIELDS},
                        "refused": req.session.get("refused")})

    def logout(req):
        req.session.clear()
        return redirect("/", 303)

    return {"/": index, "/home": home, "/whoami": whoami, "/logout": logout}


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002  (the stdlib's name)
        print(format % args, file=sys.stderr, flush=True)


def serve(app, port: int, host: str = "127.0.0.1") -> None:
    """Serve on loopback until killed; says 'ready' on stdout once it listens."""
    server = make_server(host, port, app, server_class=_Server, handler_class=_Quiet)
    print(f"ready http://{host}:{port}", flush=True)
    server.serve_forever()
