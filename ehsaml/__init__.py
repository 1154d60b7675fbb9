"""SAML primitives for eHerkenning, shared by the mock broker, the example portal and the harness.

Knows the protocol (namespaces, hardened parsing, XML signatures and encryption, bindings,
metadata) and no party: nothing here is broker- or portal-specific.
"""
