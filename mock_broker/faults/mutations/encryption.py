"""Mutations of the encryption family: EncryptedAssertion and EncryptedID that a DV must not decrypt or trust.

Hidden or doubled EncryptedAssertions, ones made for another key, refused algorithms (rsa-1_5 key transport,
triple-DES), ciphertexts changed as a padding-oracle probe would change them, and plaintexts of the wrong kind.
The algorithms a DV refuses are used here only, to make the faults.
"""

from __future__ import annotations

import base64
import copy

import xmlsec
from lxml import etree

from ehsaml import dsig, ns
from ehsaml import eherkenning as eh

from ..registry import NotApplicable, mutation
from ...response import _encryption_cert
from ._common import QUALIFIERS, _assertion, _q, _resign, _sign, _xp, attacker
from .eherkenning import _attribute_el, _clear

_DATA = {"aes256-cbc": (xmlsec.Transform.AES256, xmlsec.KeyData.AES, 256),
         "aes256-gcm": (xmlsec.Transform.AES256_GCM, xmlsec.KeyData.AES, 256),
         "tripledes-cbc": (xmlsec.Transform.DES3, xmlsec.KeyData.DES, 192)}
_TRANSPORT = {"rsa-oaep": xmlsec.Transform.RSA_OAEP, "rsa-1_5": xmlsec.Transform.RSA_PKCS1}


def encrypt(holder, plaintext, cert, *, recipient: str, data="aes256-cbc", transport="rsa-oaep", tamper=None,
            no_key=False) -> None:
    """Encrypt `plaintext` (a child of `holder`) in place with the given algorithms, then spoil it as asked."""
    method, key_data, bits = _DATA[data]
    enc_data = xmlsec.template.encrypted_data_create(holder, method, type=xmlsec.EncryptionType.ELEMENT, ns="xenc")
    xmlsec.template.encrypted_data_ensure_cipher_value(enc_data)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(enc_data, ns="ds")
    enc_key = xmlsec.template.add_encrypted_key(key_info, _TRANSPORT[transport])
    enc_key.set("Recipient", recipient)
    xmlsec.template.encrypted_data_ensure_cipher_value(enc_key)
    ctx = xmlsec.EncryptionContext(cert.keys_manager)
    ctx.key = xmlsec.Key.generate(key_data, bits, xmlsec.KeyDataType.SESSION)
    result = ctx.encrypt_binary(enc_data, etree.tostring(plaintext))
    plaintext.getparent().replace(plaintext, result)
    if tamper:
        _tamper(result, tamper)
    if no_key:
        result.remove(_xp(result, "ds:KeyInfo"))


def _tamper(enc_data, how: str) -> None:
    """Change the ciphertext as a CBC padding-oracle probe does: a byte of the block before the last (which flips
    the padding byte), or the length (not a whole number of blocks)."""
    value = _xp(enc_data, "xenc:CipherData/xenc:CipherValue")
    raw = bytearray(base64.b64decode(value.text))
    if how == "flip-padding":
        raw[-17] ^= 0x01
    elif how == "truncate":
        raw = raw[:-5]
    value.text = base64.b64encode(bytes(raw)).decode()


@mutation("encrypted_assertion")
def encrypted_assertion(ctx, where="direct", holds="assertion", key="dv", data="aes256-cbc", transport="rsa-oaep",
                        tamper=None, response_signed=True):
    """An EncryptedAssertion: in place of the assertion (direct), hidden in Extensions or beside the signed
    assertion, or two; holding the signed assertion, an unsigned or attacker-signed forgery, or a Response."""
    a = _assertion(ctx)
    inner = _plaintext(ctx, a, holds)
    cert = attacker().certificate if key == "attacker" else _encryption_cert(ctx.dv)
    holders = []
    for _ in range(2 if where == "two" else 1):
        holder = etree.Element(_q("EncryptedAssertion"))
        holder.append(copy.deepcopy(inner))
        encrypt(holder, holder[0], cert, recipient=ctx.dv.entity_id, data=data, transport=transport, tamper=tamper)
        holders.append(holder)
    if where in ("direct", "two"):
        a.addprevious(holders[0])
        a.getparent().remove(a)
        if where == "two":
            holders[0].addnext(holders[1])
    elif where == "beside":
        a.addnext(holders[0])
    elif where == "extensions":
        extensions = etree.Element(_q("Extensions", "samlp"))
        ctx.response.find(_q("Issuer")).addnext(extensions)
        extensions.append(holders[0])
    _resign(ctx, assertion=False, response=ctx.response_signed and response_signed)
    return ctx.response


def _plaintext(ctx, a, holds: str):
    if holds == "assertion":
        return a
    if holds == "response":
        inner = copy.deepcopy(ctx.response)
        dsig.strip_signature(inner)
        return inner
    forged = copy.deepcopy(a)
    dsig.strip_signature(forged)
    forged.find(".//saml:AuthnContextClassRef", ns.NSMAP).text = eh.Level.EH4.value
    if holds == "attacker-signed":
        _sign(forged, attacker())
    return forged


@mutation("encrypted_id")
def encrypted_id(ctx, data="aes256-cbc", transport="rsa-oaep", tamper=None, holds="nameid", no_key=False,
                 key="dv"):
    """The LegalSubjectID's KvK number as an EncryptedID made with these algorithms, spoilt as asked, or holding
    something else than a NameID; the assertion signed again, so only the EncryptedID is wrong."""
    kvk = ctx.outcome.identity.kvk
    if not kvk:
        raise NotApplicable("the base answer has no KvK number")
    attr = _attribute_el(ctx, eh.ATTR_LEGAL_SUBJECT)
    _clear(attr)
    holder = etree.SubElement(etree.SubElement(attr, _q("AttributeValue")), _q("EncryptedID"))
    nid = etree.SubElement(holder, _q("NameID"), nsmap={"saml": ns.SAML}, Format=ns.NAMEID_PERSISTENT,
                           NameQualifier=QUALIFIERS["KvKnr"])
    nid.text = kvk
    if holds == "assertion":
        nid.tag = _q("Assertion")
    cert = attacker().certificate if key == "attacker" else _encryption_cert(ctx.dv)
    encrypt(holder, nid, cert, recipient=ctx.dv.entity_id, data=data, transport=transport, tamper=tamper,
            no_key=no_key)
    _resign(ctx)
    return ctx.response
