"""The library's eHerkenning backend, keeping what it concluded in the session as a portal does."""

from digid_eherkenning.backends import eHerkenningBackend


class PortalEHerkenningBackend(eHerkenningBackend):
    def get_or_create_user(self, request, saml_response, saml_attributes):
        user, created = super().get_or_create_user(request, saml_response, saml_attributes)
        # The library's own helpers read the decrypted LegalSubjectID NameIDs; a portal keeps them.
        request.session["eh_concluded"] = {
            "rsin": self.get_legal_subject_rsin(saml_attributes),
            "kvk": self.get_legal_subject_kvk(saml_attributes),
            "company_name": self.get_company_name(saml_attributes),
            "attribute_names": sorted(saml_attributes),
            "intermediate_kvk": saml_attributes.get("urn:etoegang:1.9:IntermediateEntityID:KvKnr", []),
            "level": saml_response.get_authn_contexts(),
            # the pseudonym, decrypted by the library like the LegalSubjectID (its helper reads any attribute)
            "acting_subject": self.get_legal_subject_id(
                {"urn:etoegang:core:LegalSubjectID": saml_attributes.get("urn:etoegang:core:ActingSubjectID", [])},
                "urn:etoegang:1.9:EntityConcernedID:Pseudo") or None,
        }
        return user, created
