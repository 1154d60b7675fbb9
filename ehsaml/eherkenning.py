"""eHerkenning vocabulary: levels of assurance, attribute names, identifier types, number checks."""

from __future__ import annotations

import enum
import re

LOA_PREFIX = "urn:etoegang:core:assurance-class:"


class Level(enum.Enum):
    """Levels of assurance, ordered. The value is the AuthnContextClassRef."""

    EH1 = LOA_PREFIX + "loa1"
    EH2 = LOA_PREFIX + "loa2"
    EH2PLUS = LOA_PREFIX + "loa2plus"
    EH3 = LOA_PREFIX + "loa3"
    EH4 = LOA_PREFIX + "loa4"

    @property
    def rank(self) -> int:
        return list(Level).index(self)

    @property
    def label(self) -> str:
        return {"EH2PLUS": "EH2+"}.get(self.name, self.name)

    def __ge__(self, other: "Level") -> bool:
        return self.rank >= other.rank

    def __gt__(self, other: "Level") -> bool:
        return self.rank > other.rank

    def __le__(self, other: "Level") -> bool:
        return self.rank <= other.rank

    def __lt__(self, other: "Level") -> bool:
        return self.rank < other.rank

    @classmethod
    def parse(cls, text: str) -> "Level":
        """Accept a label (EH3, EH2+), a short name (loa3) or the full class URI."""
        t = text.strip()
        for level in cls:
            if t in (level.value, level.value.removeprefix(LOA_PREFIX), level.label, level.name):
                return level
        raise ValueError(f"unknown level of assurance {text!r} (use EH2, EH2+, EH3, EH4 or loa2 … loa4)")


# Attribute names
ATTR_SERVICE_ID = "urn:etoegang:core:ServiceID"
ATTR_SERVICE_UUID = "urn:etoegang:core:ServiceUUID"
ATTR_LEGAL_SUBJECT = "urn:etoegang:core:LegalSubjectID"
ATTR_ACTING_SUBJECT = "urn:etoegang:core:ActingSubjectID"
ATTR_BRANCH = "urn:etoegang:1.9:ServiceRestriction:Vestigingsnr"
ATTR_INTERMEDIATE_KVK = "urn:etoegang:1.9:IntermediateEntityID:KvKnr"
ATTR_INTERMEDIATE_NAME = "urn:etoegang:1.13:attribute-intermediate:CompanyName"
ATTR_REPRESENTED_NAME = "urn:etoegang:1.11:attribute-represented:CompanyName"

# NameQualifiers of identifiers (the NameID inside an EncryptedID says which type it is)
ID_KVK = "urn:etoegang:1.9:EntityConcernedID:KvKnr"
ID_RSIN = "urn:etoegang:1.9:EntityConcernedID:RSIN"
ID_PSEUDO = "urn:etoegang:1.9:EntityConcernedID:Pseudo"
ID_EIDAS = "urn:etoegang:1.11:EntityConcernedID:eIDASLegalIdentifier"

IDENTIFIER_TYPES = {"KvKnr": ID_KVK, "RSIN": ID_RSIN, "eIDASLegalIdentifier": ID_EIDAS}

DV_ENTITY_RE = re.compile(r"^urn:etoegang:DV:(\d{20}):entities:(\d{4})$")
SERVICE_ID_RE = re.compile(r"^urn:etoegang:DV:(\d{20}):services:(\d+)$")


# Exact ASCII digits only: `\d` would also take Arabic-Indic or full-width digits, and nothing is stripped.
_KVK, _RSIN, _BRANCH = re.compile(r"[0-9]{8}"), re.compile(r"[0-9]{9}"), re.compile(r"[0-9]{12}")


def is_kvk(value: str) -> bool:
    return bool(_KVK.fullmatch(value or ""))


def is_rsin(value: str) -> bool:
    """Nine digits that pass the 11-test: 9·d1 + 8·d2 + … + 2·d8 − d9 divisible by 11."""
    if not _RSIN.fullmatch(value or ""):
        return False
    digits = [int(c) for c in value]
    total = sum(w * d for w, d in zip(range(9, 1, -1), digits[:8])) - digits[8]
    return total % 11 == 0


def is_branch(value: str) -> bool:
    return bool(_BRANCH.fullmatch(value or ""))
