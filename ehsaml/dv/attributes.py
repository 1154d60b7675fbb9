"""The DV's checks on the eHerkenning attributes: own services, the represented company, chain mandates,
branches and number formats (the order lives in `ehsaml.dv.login`; the shape of a result in `ehsaml.checks`)."""

from __future__ import annotations

from collections.abc import Iterable

from ..checks import Check
from ..eherkenning import is_branch, is_kvk, is_rsin
from .checks import _c


def check_own_value(values: list[str], own: Iterable[str] | None, *, check: str, attribute: str,
                    requested: str | None = None) -> Check:
    """A ServiceID / ServiceUUID attribute: one value, one of this DV's own (when the set is given), and the
    one the request asked for (`requested`: the ServiceID its AttributeConsumingServiceIndex names)."""
    short = attribute.rsplit(":", 1)[-1]
    bound = {"service_id": ", the one the request's AttributeConsumingServiceIndex named",
             "service_uuid": ", the catalogue's UUID of the ServiceID answered"}.get(check, "")
    rule = f"eHerkenning: the {short} is one of this DV's own services" + (bound if requested else "")
    actual = values[0] if len(values) == 1 else values or "missing"
    if own is None and requested is None:
        return _c(check, len(values) <= 1, actual, "(not checked: no own set given)", rule)
    ok = len(values) == 1 and (own is None or values[0] in set(own)) and requested in (None, values[0])
    return _c(check, ok, actual, requested or sorted(set(own)), rule)


def check_identifier_formats(*, kvk: str | None, rsin: str | None, branch: str | None,
                             intermediary_kvk: str | None) -> Check:
    bad = []
    for label, value, test in (("KvK number", kvk, is_kvk), ("RSIN", rsin, is_rsin),
                               ("vestigingsnummer", branch, is_branch), ("intermediary KvK", intermediary_kvk, is_kvk)):
        if value is not None and not test(value):
            bad.append(f"{label} {value!r}")
    return _c("identifier_formats", not bad, bad or "all well-formed",
              "KvK 8 digits, RSIN 9 digits passing the 11-test, vestigingsnummer 12 digits",
              "eHerkenning attributes: number formats")


def check_legal_subject(identifiers: list[tuple[str, str]], *, allow_rsin_only: bool = False) -> Check:
    """The LegalSubjectID names one company: one KvK number (with at most one RSIN), or one eIDAS identifier.

    `identifiers` are (slot, value) pairs, slot one of kvk, rsin, eidas. An RSIN alone is refused
    unless `allow_rsin_only` (a DV whose catalogue accepts RSIN alone)."""
    rule = "eHerkenning LegalSubjectID: one represented company, at most one identifier of each type"
    count = {slot: sum(1 for s, _ in identifiers if s == slot) for slot in ("kvk", "rsin", "eidas")}
    problems = [f"{n} {slot} values" for slot, n in count.items() if n > 1]
    if not identifiers:
        problems.append("no LegalSubjectID")
    if count["eidas"] and (count["kvk"] or count["rsin"]):
        problems.append("an eIDAS identifier together with a KvK number or RSIN")
    if count["rsin"] and not count["kvk"] and not allow_rsin_only:
        problems.append("an RSIN without a KvK number")
    expected = "one KvK number (and at most one RSIN), or one eIDAS identifier"
    return _c("legal_subject", not problems, problems or f"{count}", expected, rule)


def check_chain_mandate(intermediary_kvks: list[str], intermediary_names: list[str], represented_kvk: str | None) -> Check:
    """A chain mandate names one intermediary, by KvK number and name, other than the represented company."""
    rule = "eHerkenning chain mandate: IntermediateEntityID (KvK) and the intermediary's CompanyName, one each"
    if not intermediary_kvks and not intermediary_names:
        return _c("chain_mandate", True, "no chain mandate", "both or neither intermediary attribute", rule)
    problems = []
    if len(intermediary_kvks) != 1:
        problems.append(f"{len(intermediary_kvks)} intermediary KvK numbers")
    if len(intermediary_names) != 1:
        problems.append(f"{len(intermediary_names)} intermediary names")
    if represented_kvk is not None and represented_kvk in intermediary_kvks:
        problems.append(f"the intermediary {represented_kvk} is the represented company itself")
    return _c("chain_mandate", not problems, problems or "one intermediary",
              "one intermediary KvK number and name, not the represented company", rule)


def check_service_restriction(branches: list[str], service_id: str | None,
                              branch_service_ids: Iterable[str] | None) -> Check:
    """At most one Vestigingsnr, and only for a service whose catalogue entry allows the restriction."""
    rule = "eHerkenning catalogue: ServiceRestrictionsAllowed; one Vestigingsnr, only where the service allows it"
    allowed = None if branch_service_ids is None else set(branch_service_ids)
    problems = []
    if len(branches) > 1:
        problems.append(f"{len(branches)} Vestigingsnr values")
    if branches and allowed is not None and service_id not in allowed:
        problems.append(f"a Vestigingsnr for {service_id}, which allows no branch restriction")
    expected = "no Vestigingsnr, or one for a service that allows it" + (
        "" if allowed is None else f" ({sorted(allowed)})")
    return _c("service_restriction", not problems, problems or (branches[0] if branches else "none"), expected, rule)
