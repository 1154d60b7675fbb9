"""The shared base of the mock broker, the example portal and the harness: SAML primitives for
eHerkenning, and the loader of the project's data files (datafile.py).

Knows the protocol (namespaces, hardened parsing, XML signatures and encryption, bindings,
metadata) and no party: nothing here is broker- or portal-specific.
"""
