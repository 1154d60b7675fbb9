"""Validate SAML messages and metadata against the OASIS SAML 2.0 schemas that pysaml2 ships (offline)."""

from __future__ import annotations

import functools
from pathlib import Path

import saml2
import xmlschema
from lxml import etree

SCHEMA_DIR = Path(saml2.__file__).parent / "data" / "schemas"

# The schemas import each other by http:// URLs; point those namespaces at the local copies.
_LOCATIONS = [
    ("http://www.w3.org/2000/09/xmldsig#", "xmldsig-core-schema.xsd"),
    ("http://www.w3.org/2001/04/xmlenc#", "xenc-schema.xsd"),
    ("http://www.w3.org/XML/1998/namespace", "xml.xsd"),
    ("urn:oasis:names:tc:SAML:2.0:assertion", "saml-schema-assertion-2.0.xsd"),
]

_WRAPPER = """<schema xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x-test:saml-all">
  <import namespace="urn:oasis:names:tc:SAML:2.0:metadata" schemaLocation="saml-schema-metadata-2.0.xsd"/>
  <import namespace="urn:oasis:names:tc:SAML:2.0:protocol" schemaLocation="saml-schema-protocol-2.0.xsd"/>
</schema>"""


@functools.lru_cache(maxsize=1)
def saml_schema() -> xmlschema.XMLSchema10:
    """SAML metadata + protocol + assertion (+ dsig, xenc), loaded once, with no network access."""
    return xmlschema.XMLSchema10(
        _WRAPPER,
        base_url=str(SCHEMA_DIR),
        locations=[(namespace, str(SCHEMA_DIR / name)) for namespace, name in _LOCATIONS],
        allow="sandbox",
    )


def validate_saml_schema(element_or_bytes: etree._Element | bytes | str) -> None:
    """Raise xmlschema.XMLSchemaValidationError (naming the path) when the message breaks the schema."""
    if isinstance(element_or_bytes, etree._Element):
        element_or_bytes = etree.tostring(element_or_bytes)
    if isinstance(element_or_bytes, bytes):
        element_or_bytes = element_or_bytes.decode("utf-8")
    saml_schema().validate(element_or_bytes)
