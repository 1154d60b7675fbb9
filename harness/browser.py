"""A browser-like client: follows redirects, submits auto-post forms, keeps cookies, records every hop."""

from __future__ import annotations

import base64
import re
import zlib
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlparse

from ehsaml.xml import document_text

from .httpclient import Client, Connections

SAML_FIELDS = ("SAMLRequest", "SAMLResponse", "SAMLart")
MAX_HOPS = 20
_FORM_TAG = re.compile(r"<form", re.IGNORECASE)  # no such tag, no form: the parser need not read the page


@dataclass
class Hop:
    method: str
    url: str
    status: int
    saml: dict[str, str] = field(default_factory=dict)  # SAML parameters carried by this request, decoded

    def as_dict(self) -> dict:
        return {"method": self.method, "url": self.url, "status": self.status, "saml": self.saml}


@dataclass
class Page:
    url: str
    status: int
    text: str
    content_type: str
    hops: list[Hop]

    @property
    def server_error(self) -> bool:
        return self.status >= 500


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._current = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(), "fields": {}}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and a.get("name"):
            if (a.get("type") or "text").lower() in ("hidden", "text", "password", "email", "number"):
                self._current["fields"][a["name"]] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def forms_of(html: str) -> list[dict]:
    if not _FORM_TAG.search(html):
        return []
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def decode_saml(name: str, value: str) -> str:
    """Best-effort decoding for the hop record: base64, then raw DEFLATE if it is Redirect-bound."""
    if name == "SAMLart":
        return value
    try:
        raw = base64.b64decode(value)
    except ValueError:
        return value
    try:
        return document_text(zlib.decompress(raw, -15))
    except zlib.error:
        return document_text(raw)


class Browser:
    """A client that behaves as a browser does with SAML: 30x and auto-post forms are followed, cookies kept."""

    def __init__(self, timeout: float = 15, connections: Connections | None = None):
        self.session = Client(cookies=True, timeout=timeout, connections=connections)
        self.timeout = timeout

    def get(self, url: str) -> Page:
        return self._go("GET", url, None)

    def post(self, url: str, data: dict) -> Page:
        return self._go("POST", url, data)

    def _go(self, method: str, url: str, data: dict | None) -> Page:
        hops: list[Hop] = []
        for _ in range(MAX_HOPS):
            resp = self.session.request(method, url, data=data, timeout=self.timeout)
            hops.append(Hop(method, url, resp.status_code, _saml_params(url, data)))
            if resp.status_code in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                url = urljoin(url, resp.headers["Location"])
                if resp.status_code in (301, 302, 303):
                    method, data = "GET", None
                continue
            ctype = resp.headers.get("Content-Type", "")
            auto = _auto_post_form(resp.text) if "html" in ctype and resp.status_code == 200 else None
            if auto is not None:
                url, method, data = urljoin(url, auto["action"]), "POST", auto["fields"]
                continue
            return Page(url=url, status=resp.status_code, text=resp.text, content_type=ctype, hops=hops)
        raise RuntimeError(f"more than {MAX_HOPS} redirects or auto-posts, last at {url}")


def _auto_post_form(html: str) -> dict | None:
    """A form that carries a SAML message is submitted, as a browser's onload script would."""
    for form in forms_of(html):
        if form["method"] == "post" and any(k in form["fields"] for k in SAML_FIELDS):
            return form
    return None


def _saml_params(url: str, data: dict | None) -> dict[str, str]:
    found = {}
    query = parse_qs(urlparse(url).query)
    for name in SAML_FIELDS:
        value = (data or {}).get(name) or (query.get(name) or [None])[0]
        if value:
            found[name] = decode_saml(name, value)
    return found
