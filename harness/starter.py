"""`harness init --portal-url URL`: a starter profile written from what the portal publishes.

It reads the portal's DV metadata (entity ID, ACS bindings, services) and service catalogue where it
finds them, looks for the URLs that start a login (links and forms on the home page, and the paths
the common libraries use) and for a JSON whoami endpoint, and writes a profile whose comments say what
it found and what to fill in. `harness profile check` (profilecheck.py) then tries it.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlparse

import requests
import yaml

from ehsaml import ns
from ehsaml.errors import MetadataError
from ehsaml.metadata import EntityMetadata, parse_catalogue, parse_entity
from ehsaml.net import loopback_session

from .browser import forms_of

METADATA_PATHS = ("/saml/metadata", "/metadata/eherkenning", "/saml2/metadata", "/saml2/metadata/", "/metadata",
                  "/saml/metadata/", "/sp/metadata")
CATALOGUE_PATHS = ("/saml/dienstcatalogus", "/metadata/eherkenning/dienstcatalogus", "/dienstcatalogus")
LOGIN_PATHS = ("/login", "/eherkenning/login/", "/saml/login", "/saml2/login", "/saml2/login/", "/sso/login")
WHOAMI_PATHS = ("/whoami", "/api/whoami", "/me", "/api/me")
_LOGIN_WORDS = re.compile(r"login|inlog|eherkenning|sso|saml", re.I)
_GUESSES = {  # a whoami key that may hold each field
    "logged_in": lambda k: k in ("logged_in", "authenticated", "is_authenticated", "loggedin"),
    "kvk": lambda k: "kvk" in k and "intermediar" not in k,
    "intermediary_kvk": lambda k: "kvk" in k and "intermediar" in k,
    "acting_subject": lambda k: "acting" in k or "pseudonym" in k,
}


@dataclass
class Found:
    metadata_path: str | None = None
    metadata: EntityMetadata | None = None
    catalogue_path: str | None = None
    service_names: dict[str, str] = field(default_factory=dict)
    logins: list[str] = field(default_factory=list)
    whoami_path: str | None = None
    whoami_keys: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def explore(portal: str, metadata_path: str | None = None) -> Found:
    found = Found()
    http = loopback_session()
    for path in ([metadata_path] if metadata_path else METADATA_PATHS):
        body = _get(http, portal + path)
        if body is None:
            continue
        try:
            md = parse_entity(body, source=portal + path)
        except MetadataError as exc:
            found.notes.append(f"{path}: not SP metadata ({exc})")
            continue
        if md.acs:
            found.metadata_path, found.metadata = path, md
            break
    for path in CATALOGUE_PATHS:
        body = _get(http, portal + path)
        if body is None:
            continue
        try:
            found.service_names = {s.service_id: s.name for s in parse_catalogue(body, source=path)}
            found.catalogue_path = path
            break
        except MetadataError:
            continue
    found.logins = _logins(http, portal)
    for path in WHOAMI_PATHS:
        try:
            resp = http.get(portal + path, timeout=5, allow_redirects=False)
            data = resp.json() if resp.status_code == 200 else None
        except (requests.RequestException, ValueError):
            continue
        if isinstance(data, dict):
            found.whoami_path, found.whoami_keys = path, sorted(data)
            break
    return found


def _get(http, url: str) -> bytes | None:
    try:
        resp = http.get(url, timeout=5)
    except requests.RequestException:
        return None
    return resp.content if resp.status_code == 200 and b"EntityDescriptor" in resp.content[:4000] \
        or resp.status_code == 200 and ns.ESC.encode() in resp.content[:4000] else None


def _logins(http, portal: str) -> list[str]:
    """Paths that start a SAML login: a redirect carrying SAMLRequest, or a page with a SAMLRequest form."""
    candidates = list(LOGIN_PATHS)
    try:
        home = http.get(portal + "/", timeout=5)
        hrefs = re.findall(r'href="([^"#]+)"', home.text) + [f["action"] for f in forms_of(home.text)]
        for href in hrefs:
            url = urlparse(urljoin(portal + "/", href.replace("&amp;", "&")))
            path = url.path + (f"?{url.query}" if url.query else "")
            if _LOGIN_WORDS.search(path) and f"{url.scheme}://{url.netloc}" == portal and path not in candidates:
                candidates.insert(0, path)
    except requests.RequestException:
        pass
    out = []
    for path in candidates:
        try:
            resp = requests.get(portal + path, timeout=5, allow_redirects=False)
        except requests.RequestException:
            continue
        location = resp.headers.get("Location", "")
        if "SAMLRequest=" in location or (resp.status_code == 200 and 'name="SAMLRequest"' in resp.text):
            out.append(path)
    return out


def starter_profile(portal: str, found: Found, name: str) -> str:
    """The profile as YAML text with comments: what was found, and what is left to fill in."""
    md = found.metadata
    lines = [f"# A starter profile for {portal}, written by harness init. Check it with:",
             f"#   harness profile check THIS_FILE --portal-url {portal} --broker-url http://127.0.0.1:8480",
             "# and see docs/own-portal.md for every field.",
             f"name: {name}"]
    lines.append(f"dv_entity_id: {_q(md.entity_id) if md else 'TODO  # the entity ID in your DV metadata'}")
    lines.append(f"metadata: {found.metadata_path or 'TODO  # the path of your DV metadata'}")
    if found.catalogue_path:
        lines.append(f"catalogue: {found.catalogue_path}          # your dienstcatalogus (levels, ServiceUUIDs)")
    else:
        lines.append("# catalogue: /path/of/your/dienstcatalogus   (none found; without one the broker asks EH3)")
    bindings = sorted({e.binding for e in md.acs}) if md else []
    kinds = [b.rsplit("-", 1)[-1].lower() for b in bindings if b in (ns.BINDING_ARTIFACT, ns.BINDING_POST)]
    if len(kinds) == 1:
        lines.append(f"binding: {kinds[0]}                    # the only answer binding your metadata lists")
    else:
        lines.append(f"# binding: artifact | post   (your ACSs take {', '.join(kinds) or 'no known binding'}: say "
                     "which your login asks for)")
    services = [s for s in (md.services if md else ()) if s.service_id]
    if services:
        default = next((s for s in services if s.is_default), services[0])
        edit = max(services, key=lambda s: (s is not default, s.index))
        lines.append("services:                           # the FAQ's roles as your ServiceIDs; check them")
        for role, s in (("view", default), ("edit", edit)):
            label = found.service_names.get(s.service_id) or s.name
            lines.append(f"  {role}: {s.service_id}   # {label}")
    elif md:
        lines += ["# Your metadata names no eHerkenning ServiceID: register it with options.services, e.g.",
                  "register:", "  options:", f"    services: [{{name: {_q(name)}, level: EH3}}]"]
    lines.append("# rules: [P2, P8, P10, P11, P12]    # the FAQ rules your portal implements (default: all)")
    if found.logins:
        lines.append(f"login: {_q(found.logins[0])}" + (f"   # also found: {', '.join(found.logins[1:])}"
                                                       if found.logins[1:] else "   # starts a SAML login"))
        if len(services) > 1:
            lines.append("# TODO: one login per service? login: {view: ..., edit: ...}")
    else:
        lines.append("login: TODO     # the path that starts a login (none found on the home page or the usual paths)")
    if found.whoami_path:
        lines += ["whoami:                             # fill in the field paths; keys of its answer: "
                  + ", ".join(found.whoami_keys),
                  f"  path: {found.whoami_path}", "  fields:"]
        for field_name, fits in _GUESSES.items():
            guess = next((k for k in found.whoami_keys if fits(k.lower())), None)
            lines.append(f"    {field_name}: {guess}" if guess else f"    # {field_name}: TODO")
    else:
        lines += ["# whoami:       TODO: a JSON endpoint of who is logged in (none found at "
                  + ", ".join(WHOAMI_PATHS) + "); without it",
                  "#   path: /whoami  scenarios that check the session are skipped, with that reason",
                  "#   fields: {logged_in: logged_in, kvk: company.kvk}"]
    lines += ["refusals:                           # how your refusal pages are recognised: TODO",
              "  status: [200, 400, 401, 403]",
              "  page: 'TODO a regex every refusal page of yours matches'",
              "# texts: {level_needed: EH3, ask_supplier: ..., ask_mandate_admin: ...}   (what your pages say)",
              "# actions:", "#   logout: {post: /logout}        TODO: the security suite's replay cases need it"]
    lines += [f"# note: {n}" for n in found.notes]
    text = "\n".join(lines) + "\n"
    yaml.safe_load(text)  # what we write must at least be YAML
    return text


def _q(value: str) -> str:
    return value if re.fullmatch(r"[\w/.:-]+", value) and not value.startswith(("-", "?")) else repr(value)


def add_init(sub) -> None:
    p = sub.add_parser("init", help="write a starter profile from what a running portal publishes")
    p.add_argument("--portal-url", required=True, help="the running portal, e.g. http://127.0.0.1:8000")
    p.add_argument("--metadata", help="the path of its DV metadata, if not at a usual place")
    p.add_argument("--name", help="the profile's name (default: the portal's host)")
    p.add_argument("--out", default="-", help="where to write it (default: print it)")
    p.set_defaults(handler=_init)


def _init(args: argparse.Namespace) -> int:
    portal = args.portal_url.rstrip("/")
    found = explore(portal, args.metadata)
    name = args.name or re.sub(r"[^a-z0-9]+", "-", urlparse(portal).netloc.lower()).strip("-")
    text = starter_profile(portal, found, name)
    if args.out == "-":
        print(text, end="")
    else:
        Path(args.out).write_text(text, "utf-8")
        print(f"wrote {args.out}: fill in the TODOs, then: harness profile check {args.out} --portal-url {portal}")
    if found.metadata is None:
        print(f"harness init: no DV metadata found at {portal} ({', '.join(METADATA_PATHS)}); give --metadata PATH",
              file=sys.stderr)
        return 1
    return 0


def add_profile(sub) -> None:
    from .profilecheck import add_check

    p = sub.add_parser("profile", help="work with a profile: profile check PROFILE --portal-url URL")
    add_check(p.add_subparsers(dest="profile_command", required=True))
