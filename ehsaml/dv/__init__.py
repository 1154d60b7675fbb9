"""The DV's (service provider's) side of eHerkenning: what a careful DV sends and how it checks what comes back.

- `client`: AuthnRequest, ArtifactResolve over SOAP, LogoutRequest;
- `metadata`: the DV's signed metadata and service catalogue (dienstcatalogus);
- `policy`: `DvPolicy`, the one frozen configuration of the checks (who the DV is, what it accepts);
- `checks`: the small named checks of the message and the assertion, and `CHECK_NAMES`, the one list of the
  names of every check; `attributes`: those of the eHerkenning attributes; `read`: reading the assertion;
- `login`: the checks in order on a Response or an ArtifactResponse (`validate_response`, …).

The rest of ehsaml knows no party; this room is the DV's, used by the example portal, by `harness
inspect` and by the tests' DV.
"""
