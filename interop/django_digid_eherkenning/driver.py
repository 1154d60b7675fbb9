"""Drive django-digid-eherkenning (maykinmedia) against the mock broker; print JSON results.

Run with the interpreter of this library's own virtual environment (tests/interop_env.py builds it):

    driver.py --broker URL --workdir DIR setup --key K --cert C --oin OIN --entity-id ID
        creates the database and the EherkenningConfiguration (IdP metadata fetched from the broker,
        as an admin does by filling in the metadata URL); prints {"metadata", "catalogue", ...}
        as the library generates them at /metadata/eherkenning and /metadata/eherkenning/dienstcatalogus
    driver.py --broker URL --workdir DIR login [--replay] [--acs-index N]
        the browser: GET /eherkenning/login/ (the library's auto-submit form), POST it to the broker,
        take the 302 with SAMLart back to /eherkenning/acs/ (the library resolves the artifact over SOAP);
        prints what the portal concluded. --replay delivers the same artifact a second time.

The browser towards the broker is a requests.Session; the portal is reached through Django's test
Client (its base URL is http://portal.interop.test), so no server port is needed for the portal itself.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlparse

HERE = Path(__file__).resolve().parent
# The portal's base URL in its configuration (ACS URL in its metadata). The test Client serves it in-process;
# python3-saml's URL check refuses a dotless host such as "testserver", so a reserved .test name it is.
BASE_URL = "http://portal.interop.test"
HOST = "portal.interop.test"


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" [{type(record.exc_info[1]).__name__}: {record.exc_info[1]}]"
        self.records.append(f"{record.levelname} {record.name}: {text}")


def django_setup(workdir: Path) -> Capture:
    os.environ["INTEROP_WORKDIR"] = str(workdir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dvproject.settings")
    sys.path.insert(0, str(HERE))
    import django

    django.setup()
    capture = Capture()
    for name in ("digid_eherkenning", "onelogin", "django.request"):
        logging.getLogger(name).addHandler(capture)
        logging.getLogger(name).setLevel(logging.INFO)
    return capture


def setup(args, capture: Capture) -> dict:
    from django.core.files import File
    from django.core.management import call_command
    from simple_certmanager.constants import CertificateTypes
    from simple_certmanager.models import Certificate

    from digid_eherkenning.choices import ConfigTypes
    from digid_eherkenning.models import ConfigCertificate, EherkenningConfiguration
    from digid_eherkenning.saml2.eherkenning import generate_dienst_catalogus_metadata, generate_eherkenning_metadata

    call_command("migrate", verbosity=0, interactive=False)
    # The key pair goes into django-simple-certmanager, as an admin uploads it.
    certificate = Certificate.objects.create(label="TEST-ONLY DV key pair", type=CertificateTypes.key_pair)
    with open(args.cert, "rb") as cert, open(args.key, "rb") as key:
        certificate.public_certificate.save("dv.crt", File(cert), save=False)
        certificate.private_key.save("dv.key", File(key))
    ConfigCertificate.objects.create(config_type=ConfigTypes.eherkenning, certificate=certificate)

    config = EherkenningConfiguration.get_solo()
    config.entity_id = args.entity_id
    config.oin = args.oin
    config.makelaar_id = args.broker_oin
    base_url = getattr(args, "base_url", BASE_URL)  # server.py serves it for real, on its own port
    config.base_url = base_url
    config.service_name = "Interop portal (TEST ONLY)"
    config.service_description = "django-digid-eherkenning against the eHerkenning broker mock"
    config.privacy_policy = f"{base_url}/privacy"
    config.organization_name = "Interop portal (TEST ONLY)"
    config.organization_url = base_url
    config.eh_attribute_consuming_service_index = args.eh_index
    config.eidas_attribute_consuming_service_index = args.eidas_index
    config.eh_loa = args.loa
    config.no_eidas = args.no_eidas
    config.artifact_resolve_content_type = args.content_type
    # Saving with a metadata URL makes the library fetch and parse the broker's metadata.
    config.metadata_file_source = f"{args.broker}/saml/metadata"
    config.save()
    config.refresh_from_db()
    return {
        "entity_id": config.entity_id,
        "idp_entity_id": config.idp_service_entity_id,
        "metadata": generate_eherkenning_metadata().decode("utf-8"),
        "catalogue": generate_dienst_catalogus_metadata().decode("utf-8"),
        "log": capture.records,
    }


def _form(html: str) -> tuple[str, dict[str, str]]:
    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', html).group(1))
    fields = {}
    for tag in re.findall(r"<input[^>]+>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name:
            fields[unescape(name.group(1))] = unescape(value.group(1)) if value else ""
    return action, fields


def deliver(client, artifact: str, relay_state: str | None, capture: Capture) -> dict:
    from django.contrib.messages import get_messages

    start = len(capture.records)
    query = {"SAMLart": artifact}
    if relay_state:
        query["RelayState"] = relay_state
    resp = client.get("/eherkenning/acs/", query)
    if resp.status_code >= 500:
        # the test Client re-raises nothing (raise_request_exception=False): report the crash
        return {"acs_status": resp.status_code, "redirect": None, "logged_in": False, "user": None,
                "concluded": None, "messages": [], "log": capture.records[start:]}
    session = client.session
    return {
        "acs_status": resp.status_code,
        "redirect": resp.get("Location"),
        "logged_in": "_auth_user_id" in session,
        "user": _user(session),
        "concluded": session.get("eh_concluded"),
        "messages": [str(m) for m in get_messages(resp.wsgi_request)],
        "log": capture.records[start:],
    }


def _user(session) -> dict | None:
    from django.contrib.auth import get_user_model

    uid = session.get("_auth_user_id")
    if uid is None:
        return None
    user = get_user_model().objects.get(pk=uid)
    return {"username": user.username, "rsin": user.rsin}


def login(args, capture: Capture) -> dict:
    import requests
    from django.test import Client

    client = Client(HTTP_HOST=HOST, raise_request_exception=False)
    path = "/eherkenning/login/"
    if args.acs_index is not None:
        path += f"?attr_consuming_service_index={args.acs_index}"
    page = client.get(path)
    if page.status_code != 200:
        return {"error": f"login view answered HTTP {page.status_code}", "log": capture.records}
    action, fields = _form(page.content.decode())
    browser = requests.Session()
    # The library's auto-submitting form: an HTTP-POST AuthnRequest to the broker.
    sso = browser.post(action, data={k: v for k, v in fields.items() if k in ("SAMLRequest", "RelayState")},
                       allow_redirects=False, timeout=20)
    out: dict = {"form_action": action, "sent_fields": sorted(fields), "broker_status": sso.status_code}
    if sso.status_code != 302:
        out["broker_body"] = sso.text[:2000]
        return out
    location = sso.headers["Location"]
    out["broker_location"] = location
    query = parse_qs(urlparse(location).query)
    if "SAMLart" not in query:
        out["error"] = "the broker did not answer with an artifact"
        return out
    parsed = urlparse(location)
    out["acs_url"] = f"{parsed.scheme}://{parsed.netloc}{parsed.path}"
    artifact = query["SAMLart"][0]
    relay_state = query.get("RelayState", [None])[0]
    out["artifact"] = artifact
    out["first"] = deliver(client, artifact, relay_state, capture)
    if args.replay:
        # The same artifact again, from a fresh browser (a replay by someone who copied the URL).
        out["replay"] = deliver(Client(HTTP_HOST=HOST, raise_request_exception=False), artifact, relay_state, capture)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--broker", required=True)
    parser.add_argument("--workdir", required=True, type=Path)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("setup")
    s.add_argument("--key", required=True)
    s.add_argument("--cert", required=True)
    s.add_argument("--oin", required=True)
    s.add_argument("--entity-id", required=True)
    s.add_argument("--broker-oin", required=True)
    s.add_argument("--eh-index", default="2")
    s.add_argument("--eidas-index", default="9")
    s.add_argument("--loa", default="urn:etoegang:core:assurance-class:loa3")
    s.add_argument("--no-eidas", action="store_true")
    s.add_argument("--content-type", default="text/xml")
    lg = sub.add_parser("login")
    lg.add_argument("--replay", action="store_true")
    lg.add_argument("--acs-index")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    capture = django_setup(args.workdir)
    result = setup(args, capture) if args.command == "setup" else login(args, capture)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
