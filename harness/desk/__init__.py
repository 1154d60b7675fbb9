"""The support desk's room: from what a customer pastes or says to the FAQ case, its advice and a scenario.

- `capture`: reading what people paste (base64, URL-encoded, a form body, XML, SOAP, a SAMLart, a HAR file);
- `decode`, `dvcheck`, `explain`, `inspect`: `harness inspect`, a capture checked as the DV would check it
  (the DV's own checks, `ehsaml.dv`, every finding), its meaning, every finding and the FAQ cases it fits;
- `words`, `customer`, `candidates`: a report in the customer's words (Dutch or English), a file or flags,
  and the FAQ cases it may be;
- `brokerworld`, `overlay`, `template`, `reproduce`: `harness reproduce`, each candidate case's own scenario
  filled with the customer's numbers (a temporary overlay for those the world lacks), run and ranked.

Everything case-specific is the case catalogue's (harness/cases.yaml, `harness.cases`); the broker is reached only
through its HTTP control API and metadata, the portal only over HTTP.
"""
