"""Reading DV metadata and service catalogues: files named on the command line, http(s) URLs by rules.

The control API lets a test register a DV by URL, so these rules keep that from becoming a way to read
the broker user's files or reach other machines:

- only http:// and https:// (no file:, no plain paths through the API: a file is read only when it was
  named on the command line, `--sp-metadata`, `--catalogue`, `--metadata-dir`);
- only loopback hosts, the hosts of URLs named on the command line and hosts given with `--fetch-host`,
  unless `--allow-remote`; the name is resolved once and the connection made to that address (a name
  that resolves elsewhere on a second look cannot redirect the fetch);
- redirects (at most 3) are followed only to URLs these same rules allow;
- at most `fetch_max_bytes` (the XML parser reads no more) and `fetch_timeout_seconds` in all, from
  connecting to the last byte: a server that drips one byte a second is cut off at the deadline;
- a refusal names the URL and the reason, never what was read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from lxml import etree

from ehsaml import ns
from ehsaml.errors import MalformedInput, MetadataError
from ehsaml.xml import parse_xml

MAX_REDIRECTS = 3
USER_AGENT = "eherkenning-broker-mock (TEST ONLY)"


@dataclass(frozen=True)
class FetchPolicy:
    hosts: frozenset[str] = frozenset()  # allowed besides loopback
    any_host: bool = False  # --allow-remote
    max_bytes: int = 1_000_000
    timeout_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings) -> "FetchPolicy":
        named = [s for s in (*settings.sp_metadata, *settings.catalogues) if is_url(s)]
        hosts = {h.lower() for h in settings.fetch_hosts} | {(urlsplit(u).hostname or "").lower() for u in named}
        return cls(hosts=frozenset(h for h in hosts if h), any_host=settings.fetch_any_host,
                   max_bytes=settings.fetch_max_bytes, timeout_seconds=settings.fetch_timeout_seconds)


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


def read_file(source: str, policy: FetchPolicy) -> bytes:
    """A file named on the command line: a regular file of at most max_bytes (no FIFO, no /dev/zero)."""
    path = Path(source)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise MetadataError("not a regular file (a FIFO, device or folder is not read)", where=source)
        if info.st_size > policy.max_bytes:
            raise MetadataError(f"{info.st_size} bytes; at most {policy.max_bytes} are read", where=source)
        with path.open("rb") as f:
            data = f.read(policy.max_bytes + 1)
    except OSError as exc:
        raise MetadataError(f"cannot read ({exc.strerror})", where=source) from None
    if len(data) > policy.max_bytes:
        raise MetadataError(f"more than {policy.max_bytes} bytes; at most that many are read", where=source)
    return data


def fetch_url(url: str, policy: FetchPolicy) -> bytes:
    """GET an http(s) URL by the rules above; MetadataError names the URL (the first one asked) and why."""
    deadline = time.monotonic() + policy.timeout_seconds
    current = url
    for _ in range(MAX_REDIRECTS + 1):
        status, location, body = _get_once(current, policy, deadline, asked=url)
        if status in (301, 302, 303, 307, 308):
            if not location:
                raise MetadataError(f"HTTP {status} without a Location", where=url)
            current = urljoin(current, location)
            continue
        if status != 200:
            raise MetadataError(f"fetching gave HTTP {status}" + (f" (at {current})" if current != url else ""),
                                where=url)
        return body
    raise MetadataError(f"more than {MAX_REDIRECTS} redirects", where=url)


def _check_target(url: str, policy: FetchPolicy, asked: str) -> tuple[str, str, int, list[str]]:
    """(scheme, host name, port, addresses to connect to) of an allowed URL; else MetadataError."""
    via = f" (redirected to {url[:200]})" if url != asked else ""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise MetadataError(f"not a valid URL{via}", where=asked) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        what = f"a {scheme}: URL" if scheme else "a file path"
        raise MetadataError(f"only http:// and https:// URLs are fetched, not {what}{via}; a file is read only when "
                            "named on the command line (--sp-metadata, --catalogue, --metadata-dir)", where=asked)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise MetadataError(f"the URL names no host{via}", where=asked)
    port = port or (443 if scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise MetadataError(f"cannot resolve the host {host!r}{via}", where=asked) from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    loopback = all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in addresses)
    if not (loopback or policy.any_host or host in policy.hosts):
        raise MetadataError(f"the host {host!r} is not a loopback address{via}: the broker fetches metadata only "
                            "from loopback, from hosts of URLs named on the command line and from --fetch-host "
                            "hosts (or any with --allow-remote)", where=asked)
    return scheme, host, port, addresses


def _get_once(url: str, policy: FetchPolicy, deadline: float, *, asked: str) -> tuple[int, str | None, bytes]:
    scheme, host, port, addresses = _check_target(url, policy, asked)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sock = None
    timer = None
    timed_out = threading.Event()
    try:
        sock = _connect(addresses, port, deadline, asked)
        if scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        conn = http.client.HTTPConnection(host, port)
        conn.sock = sock  # connected to the address checked above, not resolved again

        def cut_off():
            timed_out.set()
            try:
                sock.shutdown(socket.SHUT_RDWR)  # a blocked read returns at once
            except OSError:
                pass

        timer = threading.Timer(max(0.0, deadline - time.monotonic()), cut_off)
        timer.daemon = True
        timer.start()
        conn.request("GET", path, headers={"Host": parts.netloc, "User-Agent": USER_AGENT, "Accept-Encoding": "identity",
                                           "Accept": "application/samlmetadata+xml, application/xml, text/xml"})
        resp = conn.getresponse()
        if resp.status != 200:
            return resp.status, resp.getheader("Location"), b""
        length = (resp.getheader("Content-Length") or "").strip()
        if length.isascii() and length.isdigit() and int(length) > policy.max_bytes:
            raise MetadataError(f"the answer is {int(length)} bytes; at most {policy.max_bytes} are read", where=asked)
        chunks, size = [], 0
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                break
            size += len(chunk)
            if size > policy.max_bytes:
                raise MetadataError(f"the answer is larger than {policy.max_bytes} bytes; at most that many are read",
                                    where=asked)
            chunks.append(chunk)
        if timed_out.is_set():
            raise _too_slow(policy, asked)
        return resp.status, None, b"".join(chunks)
    except MetadataError:
        raise
    except (OSError, http.client.HTTPException, ValueError) as exc:
        if timed_out.is_set() or time.monotonic() >= deadline:
            raise _too_slow(policy, asked) from None
        if isinstance(exc, ssl.SSLError):
            raise MetadataError(f"TLS failed ({exc.reason or exc.__class__.__name__})", where=asked) from None
        raise MetadataError(f"cannot fetch ({getattr(exc, 'strerror', None) or exc.__class__.__name__})",
                            where=asked) from None
    finally:
        if timer is not None:
            timer.cancel()
        if sock is not None:
            sock.close()


def _connect(addresses: list[str], port: int, deadline: float, asked: str) -> socket.socket:
    last: OSError | None = None
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(remaining)
        try:
            sock.connect((address, port))
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    if last is None:
        raise OSError("no time left to connect")
    raise last


def _too_slow(policy: FetchPolicy, asked: str) -> MetadataError:
    return MetadataError(f"no complete answer within {policy.timeout_seconds:g} s (the limit for the whole fetch)",
                         where=asked)


def fetch_document(url: str, policy: FetchPolicy, *, catalogue: bool) -> bytes:
    """fetch_url, then make sure the answer is DV metadata (or a catalogue) before anything reads it
    further: a refusal says only that it is not, never what it is (no oracle for what a URL serves)."""
    data = fetch_url(url, policy)
    want = "a service catalogue (esc:ServiceCatalogue)" if catalogue else "SAML metadata (md:EntityDescriptor)"
    try:
        root = parse_xml(data, what=url)
    except MalformedInput:
        raise MetadataError(f"what it answered is not {want}: not well-formed XML", where=url) from None
    if catalogue:
        ok = etree.QName(root).namespace == ns.ESC
    else:
        ok = root.tag in (ns.q("md", "EntityDescriptor"), ns.q("md", "EntitiesDescriptor"))
    if not ok:
        raise MetadataError(f"what it answered is not {want}", where=url)
    return data
