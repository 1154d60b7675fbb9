"""Reading a captured SAML message as a support desk gets it: pasted from a SAML tracer, a query string or
form body, raw XML, an ArtifactResponse (SOAP or bare), a SAMLart, or a whole HAR file of a login.

`read_capture(data, name)` returns the SAML messages found, in order; anything it cannot read raises
`CaptureError` naming what could not be read and where (the HAR line, the parameter, the byte).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote_plus, urlsplit

from lxml import etree

from ehsaml import bindings, ns
from ehsaml.errors import MalformedInput
from ehsaml.xml import parse_xml

SAML_PARAMS = ("SAMLRequest", "SAMLResponse", "SAMLart")
MESSAGES = ("AuthnRequest", "Response", "ArtifactResponse", "ArtifactResolve", "LogoutRequest", "LogoutResponse")
_B64 = re.compile(r"[A-Za-z0-9+/=\s]")


class CaptureError(Exception):
    """Input that is not a SAML message we can read; the text says what and where."""


@dataclass
class Captured:
    kind: str  # one of MESSAGES, or "SAMLart"
    source: str  # where it was found: "SAMLResponse", "HAR entry 3 (POST http://…/saml/acs), SAMLResponse"
    encoding: list[str] = field(default_factory=list)  # e.g. ["URL-encoded", "base64", "deflated"]
    element: etree._Element | None = None  # the message element (the SOAP Body's child for SOAP)
    artifact: str | None = None
    relay_state: str | None = None
    time: datetime | None = None  # when the browser sent it (HAR startedDateTime)
    url: str | None = None

    def describe(self) -> str:
        how = " → ".join(self.encoding) if self.encoding else "as given"
        return f"{self.kind} from {self.source} ({how})"


def read_capture(data: bytes, name: str = "input") -> list[Captured]:
    if not data or not data.strip():
        raise CaptureError(f"{name}: empty input; paste a SAMLRequest, SAMLResponse, SAMLart, XML or a HAR file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CaptureError(f"{name}: not text (byte {exc.start}: 0x{data[exc.start]:02x} is not UTF-8)") from None
    s = text.strip()
    if s[0] in "{[":
        return _from_har(s, name)
    if s.startswith("<"):
        return [_from_xml(s.encode("utf-8"), name, ["XML"])]
    if re.search(r"(^|[?&\s])(SAMLRequest|SAMLResponse|SAMLart)=", s):
        return _from_query(s, None)
    return [_from_value(None, s, name)]


# --- values, query strings, form bodies -----------------------------------------------------------

def _pairs(query: str) -> list[tuple[str, str]]:
    out = []
    for part in re.split(r"[&\s]+", query.strip()):
        if part:
            key, _, value = part.partition("=")
            out.append((unquote_plus(key), value))
    return out


def _from_query(s: str, where: str | None, time: datetime | None = None, url: str | None = None) -> list[Captured]:
    query = urlsplit(s).query if re.match(r"^[a-z]+://", s, re.I) else s.split("?", 1)[-1] if "?" in s else s
    pairs = _pairs(query)
    relay = next((unquote_plus(v) for k, v in pairs if k == "RelayState"), None)
    found = []
    for key, value in pairs:
        if key in SAML_PARAMS:
            msg = _from_value(key, unquote_plus(value), f"{where}, {key}" if where else key,
                              ["URL-encoded"] if "%" in value else [])
            msg.relay_state, msg.time, msg.url = relay, time, url
            found.append(msg)
    if not found:
        raise CaptureError(f"{where or 'query string'}: no SAMLRequest, SAMLResponse or SAMLart parameter")
    return found


def _from_value(param: str | None, value: str, where: str, encoding: list[str] | None = None) -> Captured:
    encoding = list(encoding or [])
    value = value.strip()
    if param is None and "%" in value:
        value, encoding = unquote_plus(value), encoding + ["URL-encoded"]
    what = where
    bad = next((i for i, c in enumerate(value) if not _B64.match(c)), None)
    if bad is not None:
        raise CaptureError(f"{what}: not base64 (character {bad + 1}: {value[bad]!r}); expected the value of a "
                           f"SAMLRequest, SAMLResponse or SAMLart")
    try:
        raw = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CaptureError(f"{what}: not valid base64 ({exc})") from None
    encoding.append("base64")
    if param == "SAMLart" or (param is None and len(raw) == 44 and raw[:2] == bindings.ARTIFACT_TYPE):
        try:
            bindings.Artifact.decode(value)
        except MalformedInput as exc:
            raise CaptureError(f"{what}: base64 decoded, but not a SAML artifact ({exc.message})") from None
        return Captured("SAMLart", where, encoding, artifact="".join(value.split()))
    if raw.lstrip()[:1] == b"<":
        return _from_xml(raw, what, encoding, decoded=True)
    try:
        xml = bindings.inflate(raw, what=what)
    except MalformedInput:
        raise CaptureError(f"{what}: base64 decoded, but neither XML nor raw-DEFLATE data "
                           f"(byte 0: 0x{raw[0]:02x}; a SAML message starts with '<')") from None
    if xml.lstrip()[:1] != b"<":
        raise CaptureError(f"{what}: base64 decoded and inflated, but not XML (byte 0: {xml[:1]!r})")
    return _from_xml(xml, what, encoding + ["deflated"], decoded=True)


def _from_xml(data: bytes, where: str, encoding: list[str], decoded: bool = False) -> Captured:
    steps = ", ".join(e for e in encoding if e != "XML") + " decoded, but" if decoded else "it is"
    try:
        root = parse_xml(data, what=where)
    except MalformedInput as exc:
        raise CaptureError(f"{where}: {steps} not XML ({_xml_position(data) or exc.message})") from None
    el = root
    if root.tag == ns.q("soap", "Envelope"):
        try:
            el = bindings.soap_body(root, what=where)
        except MalformedInput as exc:
            raise CaptureError(f"{where}: a SOAP envelope, but {exc.message}") from None
        encoding = encoding + ["SOAP"]
    kind = etree.QName(el).localname
    if etree.QName(el).namespace != ns.NSMAP["samlp"] or kind not in MESSAGES:
        raise CaptureError(f"{where}: XML, but not a SAML protocol message (root element {etree.QName(el).text}); "
                           f"expected one of {', '.join(MESSAGES)}")
    return Captured(kind, where, encoding, element=el)


def _xml_position(data: bytes) -> str | None:
    try:
        etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError as exc:
        line, col = exc.position
        offset = sum(len(x) + 1 for x in data.split(b"\n")[:max(line - 1, 0)]) + max(col - 1, 0)
        return f"byte {offset}, line {line}, column {col}: {exc.msg}"
    except Exception:  # noqa: BLE001 - only for the position; parse_xml gave the real verdict
        return None
    return None


# --- HAR files ----------------------------------------------------------------------------------

def _from_har(s: str, name: str) -> list[Captured]:
    try:
        har = json.loads(s)
    except json.JSONDecodeError as exc:
        raise CaptureError(f"{name}: line {exc.lineno} of the HAR: not JSON ({exc.msg}, column {exc.colno})") from None
    entries = har.get("log", {}).get("entries") if isinstance(har, dict) and isinstance(har.get("log"), dict) else None
    if not isinstance(entries, list):
        raise CaptureError(f"{name}: JSON, but not a HAR file (no log.entries list)")
    found: list[Captured] = []
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
            raise CaptureError(f"{name}: HAR entry {i}: no request object")
        req = entry["request"]
        url, method = str(req.get("url", "")), str(req.get("method", "GET"))
        where = f"HAR entry {i} ({method} {_short(url)})"
        when = _har_time(entry.get("startedDateTime"))
        query = urlsplit(url).query
        if any(f"{p}=" in query for p in SAML_PARAMS):
            found.extend(_from_query(query, where, when, url))
        post = req.get("postData") if isinstance(req.get("postData"), dict) else {}
        body = post.get("text")
        if not body and isinstance(post.get("params"), list):
            body = "&".join(f"{p.get('name')}={p.get('value', '')}" for p in post["params"] if isinstance(p, dict))
        if isinstance(body, str) and body.strip():
            if body.lstrip().startswith("<"):
                found.append(_timed(_from_xml(body.encode("utf-8"), f"{where}, request body", ["XML"]), when, url))
            elif any(f"{p}=" in body for p in SAML_PARAMS):
                found.extend(_from_query(body, where, when, url))
        content = (entry.get("response") or {}).get("content") if isinstance(entry.get("response"), dict) else None
        if isinstance(content, dict) and isinstance(content.get("text"), str):
            text = content["text"]
            if content.get("encoding") == "base64":
                try:
                    text = base64.b64decode(text).decode("utf-8", "replace")
                except (binascii.Error, ValueError):
                    raise CaptureError(f"{name}: {where}: response content says base64 but is not") from None
            if text.lstrip().startswith("<") and "ArtifactResponse" in text[:2000] and "<html" not in text[:200].lower():
                found.append(_timed(_from_xml(text.encode("utf-8"), f"{where}, response body", ["XML"]), when, url))
    if not found:
        raise CaptureError(f"{name}: no SAMLRequest, SAMLResponse, SAMLart or ArtifactResponse in the "
                           f"{len(entries)} entries of the HAR")
    return found


def _timed(msg: Captured, when: datetime | None, url: str) -> Captured:
    msg.time, msg.url = when, url
    return msg


def _har_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _short(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}" if parts.netloc else url[:80]
