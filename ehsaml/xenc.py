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


def decrypt(container: etree._Element, keypair: KeyPair, *, where: str) -> etree._Element:
    """Decrypt the xenc:EncryptedData inside an EncryptedID / EncryptedAssertion; return the plaintext element."""
    enc_data = container.find(ns.q("xenc", "EncryptedData"))
    if enc_data is None:
        raise DecryptionFailed("no xenc:EncryptedData inside", where=where)
    # Work on a copy: a failed decryption must not leave the document half-changed.
    holder = etree.fromstring(etree.tostring(container))
    enc_copy = holder.find(ns.q("xenc", "EncryptedData"))
    ctx = xmlsec.EncryptionContext(keypair.keys_manager)
    try:
        result = ctx.decrypt(enc_copy)
    except xmlsec.Error as exc:
        raise DecryptionFailed(
            f"cannot decrypt with the key of certificate {keypair.certificate.key_name[:16]}… ({exc})", where=where
        ) from None
    if not isinstance(result, etree._Element):
        raise DecryptionFailed("decrypted content is not an XML element", where=where)
    return result
