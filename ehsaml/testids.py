"""Fixed, fictitious identifiers of the example world (test-only; no real OIN is used).

OINs are 20 digits; entity numbers 9000–9999 are the scheme's test range.
"""

BROKER_OIN = "00000003999999990000"
BROKER_ENTITY_ID = f"urn:etoegang:HM:{BROKER_OIN}:entities:9001"
AD_ENTITY_ID = f"urn:etoegang:AD:{BROKER_OIN}:entities:9002"  # the authenticatiedienst behind the mock
MR_ENTITY_ID = f"urn:etoegang:MR:{BROKER_OIN}:entities:9003"  # the machtigingenregister behind the mock

PORTAL_OIN = "00000001002003004000"
PORTAL_ENTITY_ID = f"urn:etoegang:DV:{PORTAL_OIN}:entities:9001"
PORTAL_SERVICE_VIEW = f"urn:etoegang:DV:{PORTAL_OIN}:services:1"  # "Bekijk gegevens"
PORTAL_SERVICE_EDIT = f"urn:etoegang:DV:{PORTAL_OIN}:services:2"  # "Bekijk en wijzig gegevens"

OTHER_DV_OIN = "00000009998887776000"
OTHER_DV_SERVICE = f"urn:etoegang:DV:{OTHER_DV_OIN}:services:1"  # a service of some other DV
