"""The scenario runner: drives a portal through the FAQ's cases as a browser would.

Knows SAML only as a browser sees it (redirects, auto-post forms) and the broker only through its
control API and metadata.
"""
