"""The shapes in which people paste a captured answer: what a SAML tracer, the browser's dev tools or a
proxy gives them. Standard library only: it runs inside the interop environments, beside the IdP scripts.

    write(out, capture_id, binding, xml=..., request_url=..., acs=..., sent=...) -> {shape: file name}

POST: `base64` (the SAMLResponse value), `urlencoded` (that value URL-encoded, as a tracer's "raw" view shows
it), `form` (the whole form body with RelayState), `har` (a HAR file: the AuthnRequest redirect, then the POST
to the ACS). Artifact: `soap` (the ArtifactResponse as the DV received it), `har` (the redirect, the ACS with
the SAMLart, and the DV's back channel recorded by a proxy with the ArtifactResponse as its answer).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote_plus

RELAY_STATE = "werkgeversportaal-dashboard"


def _har(entries: list[dict]) -> str:
    return json.dumps({"log": {"version": "1.2", "creator": {"name": "Firefox", "version": "128.0"},
                               "entries": entries}}, indent=1)


def _entry(when: datetime, method: str, url: str, *, post: dict | None = None, answer: str = "",
           mime: str = "text/html") -> dict:
    req = {"method": method, "url": url, "httpVersion": "HTTP/1.1", "headers": [], "queryString": [], "cookies": []}
    if post is not None:
        req["postData"] = post
    return {"startedDateTime": when.isoformat().replace("+00:00", "Z"), "time": 120, "request": req,
            "response": {"status": 200, "statusText": "OK", "headers": [],
                         "content": {"size": len(answer), "mimeType": mime, "text": answer}}}


def write(out: Path, capture_id: str, binding: str, *, xml: str, request_url: str, acs: str, sent: datetime,
          artifact: str | None = None, resolve_soap: str | None = None, artifact_url: str | None = None) -> dict:
    files = {}

    def put(shape: str, suffix: str, text: str) -> None:
        name = f"{capture_id}.{suffix}"
        (out / name).write_text(text, "utf-8")
        files[shape] = name

    first = sent - timedelta(seconds=3)
    if binding == "post":
        b64 = base64.b64encode(xml.encode("utf-8")).decode()
        form = f"SAMLResponse={quote_plus(b64)}&RelayState={quote_plus(RELAY_STATE)}"
        put("base64", "b64.txt", b64)
        put("urlencoded", "url.txt", quote_plus(b64))
        put("form", "form.txt", form)
        put("har", "har", _har([
            _entry(first, "GET", request_url),
            _entry(sent, "POST", acs, post={"mimeType": "application/x-www-form-urlencoded", "text": form}),
        ]))
        return files
    soap = ('<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/'
            f'envelope/"><SOAP-ENV:Body>{xml}</SOAP-ENV:Body></SOAP-ENV:Envelope>')
    put("soap", "soap.xml", soap)
    put("har", "har", _har([
        _entry(first, "GET", request_url),
        _entry(sent - timedelta(seconds=1), "GET", f"{acs}?SAMLart={quote_plus(artifact)}&RelayState={RELAY_STATE}"),
        _entry(sent, "POST", artifact_url, post={"mimeType": "text/xml", "text": resolve_soap or ""}, answer=soap,
               mime="text/xml"),
    ]))
    return files


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)
