"""`harness inspect`: what a captured SAML message says, checked as a DV would, explained in the FAQ's terms.

Reading is `capture`, the fields `decode`, the DV's checks `dvcheck` (the DV's own, `ehsaml.dv`),
the meaning, FAQ cases and advice `explain` (from the case catalogue). The output is one report dict
(`--json`, errors included) or text.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests

from ehsaml.eherkenning import Level
from ehsaml.errors import SamlError
from ehsaml.keys import KeyPair, load_keypair
from ehsaml.metadata import CatalogueService, EntityMetadata, parse_catalogue, parse_entity
from ehsaml.timeutil import parse, utcnow

from ..cases import CaseCatalogueError, load_cases
from . import dvcheck, explain
from .capture import Captured, CaptureError, read_capture
from .decode import decode


@dataclass
class Context:
    """What the inspecting DV knows: its key, the broker's metadata, its own metadata and catalogue, when."""

    key: KeyPair | None = None
    hm: EntityMetadata | None = None
    catalogue: tuple[CatalogueService, ...] = ()
    dv_metadata: EntityMetadata | None = None
    dv: str | None = None
    acs: str | None = None
    at: datetime | None = None  # judge times as of this moment (default: when sent, else the IssueInstant)
    min_level: Level | None = None
    symptom: str | None = None


def load_context(*, key: str | None = None, cert: str | None = None, metadata: str | None = None,
                 catalogue: str | None = None, dv_metadata: str | None = None, dv: str | None = None,
                 acs: str | None = None, at: str | None = None, min_level: str | None = None,
                 symptom: str | None = None) -> Context:
    """Load the options; a file or URL that cannot be read raises CaptureError naming it."""
    ctx = Context(dv=dv, acs=acs, symptom=symptom)
    if bool(key) != bool(cert):
        raise CaptureError("give both --key and --cert (the DV's decryption key and its certificate)")
    if symptom is not None and symptom not in load_cases()["symptoms"]:
        raise CaptureError(f"--symptom: {symptom!r} is not a symptom of the case catalogue (one of "
                           f"{', '.join(load_cases()['symptoms'])})")
    try:
        if key:
            ctx.key = load_keypair(key, cert)
        if metadata:
            ctx.hm = parse_entity(_read_source(metadata), source=metadata)
        if catalogue:
            ctx.catalogue = parse_catalogue(_read_source(catalogue), source=catalogue)
        if dv_metadata:
            ctx.dv_metadata = parse_entity(_read_source(dv_metadata), source=dv_metadata)
            if not ctx.dv_metadata.acs:
                raise CaptureError(f"{dv_metadata}: the broker's metadata, not a DV's (no AssertionConsumerService); "
                                   f"give the broker's with --metadata")
    except (SamlError, OSError) as exc:
        raise CaptureError(str(exc)) from None
    if min_level:
        try:
            ctx.min_level = Level.parse(min_level)
        except ValueError:
            raise CaptureError(f"--min-level: {min_level!r} is not a level (EH2, EH2+, EH3, EH4)") from None
    if at == "now":
        ctx.at = utcnow()
    elif at:
        try:
            ctx.at = parse(at, where="--at")
        except SamlError as exc:
            raise CaptureError(f"{exc} (give a UTC time like 2026-01-31T12:00:00Z, or 'now')") from None
    return ctx


def _read_source(where: str) -> bytes:
    if where.startswith(("http://", "https://")):
        try:
            resp = requests.get(where, timeout=15)
        except requests.RequestException as exc:
            raise CaptureError(f"{where}: cannot fetch ({exc})") from None
        if resp.status_code != 200:
            raise CaptureError(f"{where}: HTTP {resp.status_code}")
        return resp.content
    try:
        return Path(where).read_bytes()
    except OSError as exc:
        raise CaptureError(f"{where}: cannot read ({exc.strerror})") from None


def inspect_bytes(data: bytes, ctx: Context, name: str = "input") -> dict:
    return inspect_messages(read_capture(data, name), ctx)


def inspect_messages(messages: list[Captured], ctx: Context) -> dict:
    """One report: every message decoded and checked, each answer's meaning, then every finding."""
    catalogue = load_cases()
    request, out, answers = None, [], []
    for i, m in enumerate(messages, 1):
        d = decode(m, ctx)
        if m.kind == "AuthnRequest":
            request = d
        elif m.kind == "SAMLart" and ctx.hm is not None:
            _artifact_source(d, m, ctx)
        elif m.kind == "Response":
            answers.append((i, _checked(d, m.element, ctx, request, m.time, None)))
        elif m.kind == "ArtifactResponse":
            answers.extend(_artifact_response(i, d, m, ctx, request))
        out.append(d)
    meanings = []
    for i, r in answers:
        if r.get("required_level") is None:
            level, source = dvcheck.required_level(ctx, ((r.get("assertion") or {}).get("identity") or {}).get(
                "service_id") or (request or {}).get("service_id"), request)
            r["required_level"] = {"level": level.label, "from": source}
        meanings.append((i, r, explain.meaning(r, r["required_level"], catalogue)))
    checked = [(i, d) for i, d in enumerate(out, 1) if d["kind"] == "SAMLart" and d.get("checks")]
    return {"messages": out, "meaning": [m for _, _, m in meanings],
            "findings": explain.findings(meanings, ctx.symptom, catalogue, checked)}


def _checked(d: dict, el, ctx: Context, request: dict | None, sent, prior) -> dict:
    if ctx.hm is None:
        d["checked_as"] = "not checked: give the broker's metadata (--metadata) to check it as a DV would"
    elif d.get("assertion_encrypted") and ctx.key is None:
        d["checked_as"] = "not checked: the assertion is encrypted; give the DV's key (--key, --cert)"
    else:
        d.update(dvcheck.check_response(el, ctx, request, sent, d, prior))
    return d


def _artifact_response(i: int, d: dict, m: Captured, ctx: Context, request: dict | None) -> list:
    prior = dvcheck.check_artifact_response(m.element, ctx) if ctx.hm is not None else None
    inner = m.element.find("{urn:oasis:names:tc:SAML:2.0:protocol}Response")
    if inner is None:
        d["checks"] = [dvcheck.as_dict(c) for c in prior or ()]
        return []
    r = _checked(d["response"], inner, ctx, request, m.time, prior)
    if prior is not None and any(not c.passed for c in prior):
        r["note"] = "the ArtifactResponse failed a DV check: a DV stops there and never reads this Response"
    return [(i, r)]


def _artifact_source(d: dict, m: Captured, ctx: Context) -> None:
    from ehsaml.dv import checks as C

    check = C.check_artifact_source(m.artifact, ctx.hm)
    d["checks"] = [dvcheck.as_dict(check)]
    d["broker"] = ctx.hm.entity_id if check.passed else None


# --- the command ----------------------------------------------------------------------------------

def add_inspect(sub) -> None:
    p = sub.add_parser("inspect", help="decode a captured SAML message (or a HAR of a login), check it as a DV "
                                       "would, and say what it means and which FAQ case it is")
    p.add_argument("file", nargs="?", default="-", help="the capture: a file, or - for standard input (default)")
    p.add_argument("--key", help="the DV's private key (PEM), to decrypt EncryptedIDs / EncryptedAssertion")
    p.add_argument("--cert", help="the DV's certificate (PEM) that goes with --key")
    p.add_argument("--metadata", help="the broker's (HM) metadata, a file or URL: check as a DV would")
    p.add_argument("--catalogue", help="the DV's service catalogue (dienstcatalogus), a file or URL: levels, services")
    p.add_argument("--dv-metadata", help="the DV's own metadata, a file or URL: its entity ID (Audience), ACS "
                                         "(Destination, Recipient) and services")
    p.add_argument("--dv", help="the DV's entity ID (default: the DV metadata's, else a captured AuthnRequest's Issuer)")
    p.add_argument("--acs", help="the DV's ACS URL (default: the DV metadata's, else a captured AuthnRequest's)")
    p.add_argument("--at", help="judge times as of this UTC time, or 'now' (default: when the browser sent it, from "
                                "a HAR; else the message's IssueInstant)")
    p.add_argument("--min-level", help="the level the service needs (default: the catalogue's, else the FAQ "
                                       "portal's EH3)")
    p.add_argument("--symptom", help="what the customer reports (a symptom of harness/cases.yaml, e.g. cannot-change)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text (errors too)")
    p.set_defaults(handler=main_inspect)


def main_inspect(args) -> int:
    try:
        if args.file == "-":
            data, name = sys.stdin.buffer.read(), "standard input"
        else:
            try:
                data, name = Path(args.file).read_bytes(), args.file
            except OSError as exc:
                raise CaptureError(f"{args.file}: cannot read ({exc.strerror})") from None
        ctx = load_context(key=args.key, cert=args.cert, metadata=args.metadata, catalogue=args.catalogue,
                           dv_metadata=args.dv_metadata, dv=args.dv, acs=args.acs, at=args.at,
                           min_level=args.min_level, symptom=args.symptom)
        report = inspect_bytes(data, ctx, name)
    except (CaptureError, CaseCatalogueError) as exc:
        if args.json:
            print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        print(f"harness inspect: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, ensure_ascii=False, default=str) if args.json else explain.render_text(report))
    return 0
