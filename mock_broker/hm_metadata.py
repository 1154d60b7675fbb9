"""The broker's own (HM) metadata: signed, SSO with Redirect and POST at one Location."""

from __future__ import annotations

from datetime import timedelta

from lxml import etree

from ehsaml import dsig, ns, timeutil
from ehsaml.keys import KeyPair

from .response import new_id
from .settings import BrokerSettings


def build_hm_metadata(settings: BrokerSettings, keypair: KeyPair) -> bytes:
    md = lambda local: ns.q("md", local)  # noqa: E731
    root = etree.Element(md("EntityDescriptor"), nsmap={"md": ns.MD, "ds": ns.DS}, ID=new_id(),
                         entityID=settings.entity_id,
                         validUntil=timeutil.fmt(timeutil.utcnow() + timedelta(days=30)))
    idp = etree.SubElement(root, md("IDPSSODescriptor"), WantAuthnRequestsSigned="true",
                           protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol")
    kd = etree.SubElement(idp, md("KeyDescriptor"), use="signing")
    ki = etree.SubElement(kd, ns.q("ds", "KeyInfo"))
    etree.SubElement(ki, ns.q("ds", "KeyName")).text = keypair.certificate.key_name
    x509 = etree.SubElement(ki, ns.q("ds", "X509Data"))
    etree.SubElement(x509, ns.q("ds", "X509Certificate")).text = keypair.certificate.b64
    etree.SubElement(idp, md("ArtifactResolutionService"), Binding=ns.BINDING_SOAP, Location=settings.artifact_url,
                     index=str(settings.artifact_endpoint_index), isDefault="true")
    for binding in (ns.BINDING_REDIRECT, ns.BINDING_POST):
        etree.SubElement(idp, md("SingleLogoutService"), Binding=binding, Location=settings.slo_url)
    etree.SubElement(idp, md("NameIDFormat")).text = ns.NAMEID_TRANSIENT
    for binding in (ns.BINDING_REDIRECT, ns.BINDING_POST):
        etree.SubElement(idp, md("SingleSignOnService"), Binding=binding, Location=settings.sso_url)
    org = etree.SubElement(root, md("Organization"))
    for tag, text in (("OrganizationName", "eHerkenning broker mock (TEST ONLY)"),
                      ("OrganizationDisplayName", "eHerkenning broker mock — TEST ONLY, not a real broker"),
                      ("OrganizationURL", settings.base_url)):
        el = etree.SubElement(org, md(tag))
        el.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
        el.text = text
    dsig.sign(root, keypair)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)
