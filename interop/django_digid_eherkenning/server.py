"""A login-only portal on django-digid-eherkenning (maykinmedia), served over HTTP for the harness (TEST ONLY).

    server.py --broker URL --port P --workdir DIR --oin OIN --entity-id ID --broker-oin OIN [--eh-index N]

Sets the project up as driver.py does (key pair, EherkenningConfiguration from the broker's metadata URL,
base URL http://127.0.0.1:P), then serves it: the library's own pages (/eherkenning/login/ with its
auto-submit form, /eherkenning/acs/ resolving the artifact over SOAP, /metadata/eherkenning and its
dienstcatalogus) and the portal's own (dvproject/views.py: /logged-in/, /login-failed/ with the
library's message, /logout/, /whoami).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]
import driver  # noqa: E402  (one place for the set-up: the driver's)
from webapp import serve  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--broker", "--oin", "--entity-id", "--broker-oin", "--key", "--cert"):
        parser.add_argument(name, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--eh-index", default="1")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    args.base_url = f"http://127.0.0.1:{args.port}"
    args.eidas_index, args.loa, args.no_eidas = "9", "urn:etoegang:core:assurance-class:loa3", True
    args.content_type = "text/xml"
    capture = driver.django_setup(args.workdir)
    driver.setup(args, capture)
    from django.core.wsgi import get_wsgi_application

    serve(get_wsgi_application(), args.port)


if __name__ == "__main__":
    main()
