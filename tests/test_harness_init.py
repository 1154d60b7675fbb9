"""Getting a profile right: `harness init` writes a starter profile from what a running portal publishes, and
`harness profile check` logs in once per service and says field by field what it observed (example portal
and broker as real processes on loopback)."""

from __future__ import annotations

import pytest
import yaml

from harness.cli import main as harness_main
from harness.profile import DEFAULT_PROFILE, load_profile
from harness.servers import start_pair


@pytest.fixture(scope="module")
def servers():
    pair = start_pair()
    yield pair
    pair.stop()


def test_init_writes_a_starter_profile_from_the_portals_metadata(servers, tmp_path, capsys):
    out = tmp_path / "mine.yaml"
    assert harness_main(["init", "--portal-url", servers.portal_url, "--out", str(out), "--name", "mine"]) == 0
    assert "harness profile check" in capsys.readouterr().out
    text = out.read_text("utf-8")
    data = yaml.safe_load(text)
    assert data["dv_entity_id"] == "urn:etoegang:DV:00000001002003004000:entities:9001"
    assert (data["metadata"], data["catalogue"]) == ("/saml/metadata", "/saml/dienstcatalogus")
    assert data["services"] == {"view": "urn:etoegang:DV:00000001002003004000:services:1",
                                "edit": "urn:etoegang:DV:00000001002003004000:services:2"}
    assert data["login"] == "/login"  # the home page's login links, tried: a redirect carrying a SAMLRequest
    assert data["whoami"] == {"path": "/whoami", "fields": {"logged_in": "logged_in", "kvk": "represented_kvk",
                                                            "intermediary_kvk": "intermediary_kvk",
                                                            "acting_subject": "acting_subject"}}
    assert "Bekijk en wijzig gegevens" in text and "TODO" in text  # the comments say what each is, and what is left
    assert load_profile(out).name == "mine"  # a starter profile loads as it is


def test_init_says_when_it_finds_no_metadata(servers, capsys):
    assert harness_main(["init", "--portal-url", servers.broker_url]) == 1
    assert "no DV metadata found" in capsys.readouterr().err


def test_profile_check_says_field_by_field_what_it_observed(servers, capsys):
    code = harness_main(["profile", "check", str(DEFAULT_PROFILE), "--portal-url", servers.portal_url,
                         "--broker-url", servers.broker_url])
    out = capsys.readouterr().out
    assert code == 0, out
    for line in ("OK   login.view: /login?service=1 asks for urn:etoegang:DV:00000001002003004000:services:1",
                 "OK   login.edit (artifact): the portal resolved the artifact", "OK   whoami.fields.kvk: '12345678'",
                 "OK   actions.logout: logged out", "OK   refusals: a cancel at the broker ended on HTTP 401"):
        assert line in out, out


def test_profile_check_names_what_it_could_not_observe(servers, tmp_path, capsys):
    data = yaml.safe_load(DEFAULT_PROFILE.read_text("utf-8"))
    data["whoami"]["fields"]["kvk"] = 'company["kvk.number"]'
    del data["binding"], data["actions"]["logout"]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data), "utf-8")
    code = harness_main(["profile", "check", str(path), "--portal-url", servers.portal_url,
                         "--broker-url", servers.broker_url])
    out = capsys.readouterr().out
    assert code == 1
    assert """MISS whoami.fields.kvk: 'company["kvk.number"]' is not in the whoami answer""" in out
    assert "MISS binding: not given; this login took the answer by artifact (write binding: artifact)" in out
    assert "SKIP actions.logout: not given" in out
