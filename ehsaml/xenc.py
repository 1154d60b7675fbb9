"""XML encryption of identifiers and assertions (fresh AES-256 key each, rsa-oaep-mgf1p transport)."""

from __future__ import annotations

import enum

import xmlsec
from lxml import etree

from . import ns
from .errors import DecryptionFailed
from .keys import Certificate, KeyPair


class DataCipher(enum.Enum):
    AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
    AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"


_XMLSEC_CIPHER = {DataCipher.AES256_CBC: xmlsec.Transform.AES256, DataCipher.AES256_GCM: xmlsec.Transform.AES256_GCM}


def encrypt_into(
    container: etree._Element,
    plaintext: etree._Element,
    recipient: Certificate,
    *,
    recipient_entity_id: str,
    cipher: DataCipher = DataCipher.AES256_CBC,
) -> etree._Element:
    """Encrypt `plaintext` (already a child of `container`) in place; returns the xenc:EncryptedData.

    `container` is the saml:EncryptedID or saml:EncryptedAssertion that will hold the result.
    """
    enc_data = xmlsec.template.encrypted_data_create(
        container, _XMLSEC_CIPHER[cipher], type=xmlsec.EncryptionType.ELEMENT, ns="xenc"
    )
    xmlsec.template.encrypted_data_ensure_cipher_value(enc_data)
    key_info = xmlsec.template.encrypted_data_ensure_key_info(enc_data, ns="ds")
    enc_key = xmlsec.template.add_encrypted_key(key_info, xmlsec.Transform.RSA_OAEP)
    enc_key.set("Recipient", recipient_entity_id)
    xmlsec.template.encrypted_data_ensure_cipher_value(enc_key)
    ctx = xmlsec.EncryptionContext(recipient.keys_manager)
    ctx.key = xmlsec.Key.generate(xmlsec.KeyData.AES, 256, xmlsec.KeyDataType.SESSION)
    # Encrypt the serialised element, not the node: serialising on its own keeps its namespace
    # declarations (xmlns:saml), so it decrypts standalone as real DVs do.
    result = ctx.encrypt_binary(enc_data, etree.tostring(plaintext))
    plaintext.getparent().replace(plaintext, result)
    # The KeyName goes in after encryption: in the template xmlsec would try to resolve it as a key.
    ek_info = etree.Element(ns.q("ds", "KeyInfo"))
    etree.SubElement(ek_info, ns.q("ds", "KeyName")).text = recipient.key_name
    enc_key.find(ns.q("xenc", "CipherData")).addprevious(ek_info)  # schema order: KeyInfo before CipherData
    return result


# What a DV accepts (eherkenning-interface.md: aes256-cbc or aes256-gcm, rsa-oaep-mgf1p; the other AES sizes and
# xmlenc11 rsa-oaep are their standard siblings). Refused by name: rsa-1_5 (Bleichenbacher's attack on PKCS#1 v1.5)
# and triple-DES (64-bit blocks).
DATA_ALGORITHMS = frozenset({
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc", "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc", "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2009/xmlenc11#aes192-gcm", "http://www.w3.org/2009/xmlenc11#aes256-gcm",
})
KEY_TRANSPORT_ALGORITHMS = frozenset({"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
                                      "http://www.w3.org/2009/xmlenc11#rsa-oaep"})
_REFUSED = {"http://www.w3.org/2001/04/xmlenc#rsa-1_5": "rsa-1_5 key transport (PKCS#1 v1.5, Bleichenbacher)",
            "http://www.w3.org/2001/04/xmlenc#tripledes-cbc": "triple-DES"}


def decrypt(container: etree._Element, keypair: KeyPair, *, where: str, expect: str | None = None) -> etree._Element:
    """Decrypt the xenc:EncryptedData inside an EncryptedID / EncryptedAssertion; return the plaintext element.

    Algorithms are checked first (a refusal names them). Every failure after that, a wrong key, bad padding or
    a plaintext that is not the `expect`ed element, gets the same message: a DV that answered them differently
    would be a padding oracle (Jager and Somorovsky, "How to break XML Encryption", 2011).
    """
    enc_data = container.find(ns.q("xenc", "EncryptedData"))
    if enc_data is None:
        raise DecryptionFailed("no xenc:EncryptedData inside", where=where)
    _check_algorithms(container, enc_data, where)
    failed = DecryptionFailed(f"cannot decrypt{' to ' + _short(expect) if expect else ''} with the key of certificate "
                              f"{keypair.certificate.key_name[:16]}…", where=where)
    # Work on a copy: a failed decryption must not leave the document half-changed.
    holder = etree.fromstring(etree.tostring(container))
    enc_copy = holder.find(ns.q("xenc", "EncryptedData"))
    ctx = xmlsec.EncryptionContext(keypair.keys_manager)
    try:
        result = ctx.decrypt(enc_copy)
    except xmlsec.Error:
        raise failed from None
    if not isinstance(result, etree._Element) or (expect is not None and result.tag != expect):
        raise failed
    return result


def _check_algorithms(container, enc_data, where: str) -> None:
    method = enc_data.find(ns.q("xenc", "EncryptionMethod"))
    data_alg = None if method is None else method.get("Algorithm")
    if data_alg not in DATA_ALGORITHMS:
        raise DecryptionFailed(f"data encryption {_REFUSED.get(data_alg, repr(data_alg))} is refused; "
                               "AES (CBC or GCM) is required", where=where)
    keys = container.iter(ns.q("xenc", "EncryptedKey"))
    algs = [None if (m := k.find(ns.q("xenc", "EncryptionMethod"))) is None else m.get("Algorithm") for k in keys]
    if len(algs) != 1:
        raise DecryptionFailed(f"{len(algs)} xenc:EncryptedKey elements; exactly one is expected", where=where)
    if algs[0] not in KEY_TRANSPORT_ALGORITHMS:
        raise DecryptionFailed(f"key transport {_REFUSED.get(algs[0], repr(algs[0]))} is refused; RSA-OAEP is required",
                               where=where)


def _short(tag: str) -> str:
    qname = etree.QName(tag)
    return {ns.SAML: "saml:"}.get(qname.namespace, "") + qname.localname
