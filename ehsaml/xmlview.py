"""SAML messages as HTML for people to read: indented, with signatures, certificates and encrypted parts folded.

The broker's journal page and the harness's HTML report both show messages with `to_html`. Folded parts are
`<details>` elements whose summary says what they hold (algorithm and reference of a signature, subject and
fingerprint of a certificate, cipher and recipient of encrypted data, and the plain value where the caller
knows it, e.g. the broker from its own decision). `full=False` keeps only the summaries of folded parts and
cuts other long base64 to its first characters and its length, so a report of many messages stays small; the
exact bytes (which a signature check needs) stay in the journal.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape

from cryptography import x509
from lxml import etree

from . import ns
from .errors import SamlError
from .xml import parse_xml

_FOLD = {ns.q("ds", "Signature"): "signature", ns.q("ds", "X509Certificate"): "certificate",
         ns.q("saml", "EncryptedID"): "encrypted", ns.q("saml", "EncryptedAssertion"): "encrypted",
         ns.q("xenc", "EncryptedData"): "encrypted"}
_ATTRIBUTE = ns.q("saml", "Attribute")
_SHORT = 24  # characters of a long base64 value kept with full=False


def to_html(xml: str | bytes, *, known: dict[str, list[str]] | None = None, full: bool = True,
            shown: set[str] | None = None) -> str:
    """The message as escaped, indented HTML (for an element styled `white-space: pre`); unreadable XML as is.

    `known` maps an Attribute Name to the plain values of its encrypted AttributeValues, in order. With
    `full=False` a folded part is its summary alone. `shown`: IDs of messages shown already (a Response inside an
    ArtifactResponse is then one line); the message's own ID is added to it."""
    try:
        root = parse_xml(xml, what="message")
    except SamlError:
        return escape(xml if isinstance(xml, str) else xml.decode("utf-8", "replace"))
    out: list[str] = []
    view = _View(out, {k: list(v) for k, v in (known or {}).items()}, full)
    view.shown = set(shown or ())
    view.element(root, 0, {}, unfolded=False, top=True)
    if shown is not None and root.get("ID"):
        shown.add(root.get("ID"))
    return "".join(out)


class _View:
    def __init__(self, out: list[str], known: dict[str, list[str]], full: bool, inside_encrypted: bool = False):
        self.out, self.known, self.full, self.inside_encrypted = out, known, full, inside_encrypted
        self.shown: set[str] = set()

    def element(self, el, depth: int, parent_ns: dict, *, unfolded: bool = False, top: bool = False) -> None:
        if not isinstance(el.tag, str):  # a comment or processing instruction
            self.out.append("  " * depth + escape(etree.tostring(el, encoding="unicode").strip()) + "\n")
            return
        if not top and el.get("ID") in self.shown:
            self.out.append(f'{"  " * depth}<span class="t">{escape(self.name(el))} ID={escape(el.get("ID"))}</span> '
                            "<em>(shown above)</em>\n")
            return
        kind = None if unfolded else _FOLD.get(el.tag)
        if kind == "encrypted" and self.inside_encrypted:
            kind = None  # the EncryptedData of a folded EncryptedID: folded once is enough
        if kind:
            self.fold(el, depth, kind, parent_ns)
            return
        pad = "  " * depth
        start = self.start_tag(el, parent_ns)
        children = list(el)
        text = (el.text or "").strip()
        if not children:
            if text:
                self.out.append(f'{pad}<span class="t">{start}</span>{self.text(text)}'
                                f'<span class="t">&lt;/{escape(self.name(el))}&gt;</span>\n')
            else:
                self.out.append(f"{pad}<span class=\"t\">{start[:-4]}/&gt;</span>\n")
            return
        self.out.append(f"{pad}<span class=\"t\">{start}</span>\n")
        if text:
            self.out.append(pad + "  " + self.text(text) + "\n")
        for child in children:
            self.element(child, depth + 1, dict(el.nsmap))
        self.out.append(f"{pad}<span class=\"t\">&lt;/{escape(self.name(el))}&gt;</span>\n")

    def name(self, el) -> str:
        local = etree.QName(el).localname
        return f"{el.prefix}:{local}" if el.prefix else local

    def start_tag(self, el, parent_ns: dict) -> str:
        parts = [self.name(el)]
        for prefix, uri in el.nsmap.items():
            if parent_ns.get(prefix) != uri:
                parts.append(f'xmlns{":" + prefix if prefix else ""}="{uri}"')
        reverse = {uri: prefix for prefix, uri in el.nsmap.items() if prefix}
        for key, value in el.attrib.items():
            q = etree.QName(key)
            name = f"{reverse.get(q.namespace, 'ns')}:{q.localname}" if q.namespace else q.localname
            parts.append(f'{name}="{value}"')
        return "&lt;" + escape(" ".join(parts)) + "&gt;"

    def text(self, text: str) -> str:
        if not self.full and len(text) > 3 * _SHORT and _looks_base64(text):
            return f"{escape(text[:_SHORT])}… <em>({len(text)} characters)</em>"
        return escape(text)

    def fold(self, el, depth: int, kind: str, parent_ns: dict) -> None:
        pad = "  " * depth
        summary = {"signature": _signature, "certificate": _certificate, "encrypted": _encrypted}[kind](el)
        plain = self.plain_value(el) if kind == "encrypted" else None
        if plain:
            summary += f" — holds <strong>{escape(plain)}</strong> (as the broker decided)"
        if not self.full:  # the summary says what it holds; the exact bytes are in the journal
            self.out.append(f'{pad}<span class="fold {kind}">[{summary}]</span>\n')
            return
        inner: list[str] = []
        _View(inner, {}, self.full, kind == "encrypted").element(el, 0, parent_ns, unfolded=True)  # children fold too
        self.out.append(f'{pad}<details class="fold {kind}"><summary>{summary}</summary>'
                        f'<div class="xml">{"".join(inner)}</div></details>')

    def plain_value(self, el) -> str | None:
        attr = next((a for a in el.iterancestors(_ATTRIBUTE)), None)
        values = self.known.get(attr.get("Name")) if attr is not None else None
        return values.pop(0) if values else None


def _looks_base64(text: str) -> bool:
    return all(c.isalnum() or c in "+/=\n\r " for c in text)


def _tail(uri: str | None) -> str:
    return (uri or "?").rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _signature(el) -> str:
    method = el.find(f"{ns.q('ds', 'SignedInfo')}/{ns.q('ds', 'SignatureMethod')}")
    refs = [r.get("URI") or "(whole document)" for r in el.iter(ns.q("ds", "Reference"))]
    key = el.findtext(f".//{ns.q('ds', 'KeyName')}")
    cert = el.findtext(f".//{ns.q('ds', 'X509Certificate')}")
    out = f"ds:Signature — {_tail(method.get('Algorithm') if method is not None else None)} over {', '.join(refs)}"
    if key:
        out += f", KeyName {key[:16]}…"
    if cert:
        out += f"; {_cert_words(cert)}"
    return escape(out)


def _certificate(el) -> str:
    return escape(f"ds:X509Certificate — {_cert_words(el.text or '')}")


def _cert_words(b64: str) -> str:
    try:
        der = base64.b64decode("".join(b64.split()))
        cert = x509.load_der_x509_certificate(der)
    except (ValueError, TypeError):
        return "a certificate that does not decode"
    subject = cert.subject.rfc4514_string()
    return (f"certificate {subject}, valid until {cert.not_valid_after_utc:%Y-%m-%d}, SHA-256 "
            f"{hashlib.sha256(der).hexdigest()[:16]}…")


def _encrypted(el) -> str:
    local = etree.QName(el).localname
    method = el.find(f".//{ns.q('xenc', 'EncryptionMethod')}")
    key = el.find(f".//{ns.q('xenc', 'EncryptedKey')}")
    out = f"{el.prefix + ':' if el.prefix else ''}{local} — {_tail(method.get('Algorithm') if method is not None else None)}"
    if key is not None:
        key_method = key.find(ns.q("xenc", "EncryptionMethod"))
        out += f", key by {_tail(key_method.get('Algorithm') if key_method is not None else None)}"
        if key.get("Recipient"):
            out += f" for {key.get('Recipient')}"
    return escape(out)
