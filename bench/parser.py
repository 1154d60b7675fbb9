"""The cost of checking a hostile document as a DV: 256 kB answers built to be expensive, parsed and checked.

    python bench/parser.py [--quick]

Each document is about 256 kB (the broker's body limit; the example portal reads up to 512 kB) and goes the
way a DV takes an answer: bytes → ehsaml.xml.parse_xml → ehsaml.dv.login.validate_response (by HTTP-POST,
where the Response must be signed, and inside an ArtifactResponse, where it may be unsigned and more checks
run). CPU time (time.process_time) per document, the median of several runs; the goal is at most 50 ms each.
For scale: before issue 15 a Response with 30,000 attributes on one element cost 6–8 s of CPU (exclusive c14n
is quadratic in them). Nothing is asserted: these are figures to read.
"""

from __future__ import annotations

import argparse
import base64
import copy
import statistics
import sys
import time

from machine import ROOT, describe

sys.path.insert(0, str(ROOT / "tests"))

from lxml import etree  # noqa: E402

from dvfixtures import BROKER, HM, POLICY, response, sign  # noqa: E402
from ehsaml import dsig, ns  # noqa: E402
from ehsaml.dv.login import validate_response  # noqa: E402
from ehsaml.errors import MalformedInput  # noqa: E402
from ehsaml.xml import parse_xml  # noqa: E402

SIZE = 256 * 1024
GOAL_MS = 50.0


def _ext(root):
    ext = etree.Element(ns.q("samlp", "Extensions"))
    root.find(ns.q("saml", "Issuer")).addnext(ext)
    return ext


def _serialised(root) -> bytes:
    return etree.tostring(root)


def documents() -> dict[str, bytes]:
    """name → bytes of about SIZE, each hostile in one way (most unsigned or signed by no one the DV trusts)."""
    base = sign(response(), BROKER)
    body = _serialised(base)
    pad = SIZE - len(body)
    docs = {}

    def with_ext(fill):
        root = copy.deepcopy(base)
        fill(_ext(root))
        return _serialised(root)

    docs["attribute flood (25,000 on one element)"] = with_ext(
        lambda e: [etree.SubElement(e, "x").set(f"a{i}", "x") for i in range(1)] and
        [e[0].set(f"b{i}", "x") for i in range(pad // 10)])
    nsdecl = b" ".join(b'xmlns:n%d="u:%d"' % (i, i) for i in range(pad // 18))
    docs["namespace flood (12,000 declarations on one element)"] = body.replace(b"<saml:Assertion ",
                                                                                 b"<saml:Assertion " + nsdecl + b" ", 1)
    docs["element flood (60,000 empty elements)"] = with_ext(lambda e: [etree.SubElement(e, "x") for _ in range(pad // 4)])
    docs["deep nesting (250 levels) and siblings"] = with_ext(lambda e: _deep(e, 250, pad))
    laughs = '<!ENTITY a "aaaaaaaaaaaaaaaa">' + "".join(f'<!ENTITY {n} "{("&" + p + ";") * 16}">'
                                                       for p, n in zip("abcdefg", "bcdefgh"))
    filler = "".join(f'<!ENTITY f{i} "x">' for i in range(pad // 20))
    docs["DOCTYPE in UTF-16, billion laughs, 10,000 entities"] = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE samlp:Response [' + laughs + filler + "]>"
        + body.decode()).encode("utf-16")
    docs["one 256 kB text node (the Issuer)"] = body.replace(b"</saml:Issuer>", b"x" * pad + b"</saml:Issuer>", 1)
    docs["a 256 kB comment (harmless: not signed content, so accepted)"] = body.replace(b"</saml:Issuer>", b"</saml:Issuer><!--" + b"x" * pad + b"-->", 1)
    docs["5,000 Transforms in the assertion's Reference (re-signed Response)"] = _transforms(base, pad // 75)
    docs["XSW: 400 unsigned copies of the assertion"] = _copies(base, pad)
    docs["2,000 signed-looking attributes, signed by an unknown key"] = _attributes(pad)
    return docs


def _deep(ext, levels: int, pad: int) -> None:
    el = ext
    for _ in range(levels):
        el = etree.SubElement(el, "x")
    for _ in range((pad - levels * 8) // 4):
        etree.SubElement(ext, "y")


def _transforms(base, count: int) -> bytes:
    root = copy.deepcopy(base)
    a = root.find(ns.q("saml", "Assertion"))
    transforms = a.xpath("ds:Signature/ds:SignedInfo/ds:Reference/ds:Transforms", namespaces=ns.NSMAP)[0]
    for _ in range(count):
        etree.SubElement(transforms, ns.q("ds", "Transform"), Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#")
    dsig.strip_signature(root)
    dsig.sign(root, BROKER)
    return _serialised(root)


def _copies(base, pad: int) -> bytes:
    root = copy.deepcopy(base)
    dsig.strip_signature(root)
    a = root.find(ns.q("saml", "Assertion"))
    one = len(etree.tostring(a))
    for i in range(pad // one):
        evil = copy.deepcopy(a)
        dsig.strip_signature(evil)
        evil.set("ID", f"_evil{i}")
        a.addprevious(evil)
    return _serialised(root)


def _attributes(pad: int) -> bytes:
    from dvfixtures import ATTACKER
    root = response()
    stmt = root.find(f".//{ns.q('saml', 'AttributeStatement')}")
    for i in range(pad // 130):
        attr = etree.SubElement(stmt, ns.q("saml", "Attribute"), Name=f"urn:test-only:attribute:{i}")
        etree.SubElement(attr, ns.q("saml", "AttributeValue")).text = "x" * 16
    return _serialised(sign(root, ATTACKER))


def cost_ms(data: bytes, *, artifact: bool, runs: int) -> tuple[float, str]:
    """Median CPU ms to take the bytes as a DV does, and what the DV said."""
    times, verdict = [], ""
    for _ in range(runs):
        t0 = time.process_time()
        try:
            element = parse_xml(data, what="SAMLResponse")
            result = validate_response(element, POLICY, hm=HM, outstanding={"_req1": None}, in_artifact_response=artifact)
            verdict = "accepted" if result.ok else f"refused: {result.failure.check}"
        except MalformedInput as exc:
            verdict = f"refused while parsing: {exc.message[:60]}"
        times.append((time.process_time() - t0) * 1000)
    return statistics.median(times), verdict


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs per document instead of 15")
    args = parser.parse_args()
    describe("DV checks on hostile 256 kB documents (parse + validate_response), CPU time per document")
    runs = 3 if args.quick else 15
    worst = 0.0
    correct = etree.tostring(sign(response(), BROKER))
    print(f"{'document':66} {'kB':>5} {'POST ms':>8} {'Artifact ms':>12}  verdict (POST; Artifact if other)")
    for name, data in {"the correct answer (for scale)": correct, **documents()}.items():
        post, verdict = cost_ms(data, artifact=False, runs=runs)
        art, art_verdict = cost_ms(data, artifact=True, runs=runs)
        worst = max(worst, post, art) if name != "the correct answer (for scale)" else worst
        both = verdict if art_verdict == verdict else f"{verdict}; {art_verdict}"
        print(f"{name:66} {len(data) / 1024:5.0f} {post:8.2f} {art:12.2f}  {both}")
    met = "met" if worst <= GOAL_MS else "NOT met"
    print(f"\nworst hostile document: {worst:.1f} ms of CPU (goal at most {GOAL_MS:.0f} ms: {met})")
    print("(base64 decoding of a POSTed 256 kB answer adds about "
          f"{_b64_ms(correct):.2f} ms)")
    return 0


def _b64_ms(sample: bytes) -> float:
    data = base64.b64encode(sample * (SIZE // len(sample)))
    t0 = time.process_time()
    for _ in range(20):
        base64.b64decode(data)
    return (time.process_time() - t0) * 1000 / 20


if __name__ == "__main__":
    raise SystemExit(main())
