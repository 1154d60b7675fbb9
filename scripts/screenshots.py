#!/usr/bin/env python3
"""Make the screenshots of README's walk-through: start the demo (broker + example portal) on free loopback ports,
click through as a new user would in Chromium (Playwright), and write one PNG per page.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

The PNGs in docs/screenshots/ are made by this script, never by hand (compressed with Debian's `pngquant` when it is
installed); tests/test_screenshots.py runs it (into a temporary folder) so that it keeps working. Nothing is left
running: the demo is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.servers import free_port  # noqa: E402

DESKTOP = {"width": 900, "height": 620}
PHONE = {"width": 390, "height": 700}
SHOTS = ("portal-home", "broker-login", "portal-dashboard", "portal-mailbox", "portal-refusal-eh3",
         "broker-journal", "broker-beheer", "harness-report", "phone-broker-login", "phone-portal-dashboard")
WRONG_SCENARIO = """\
id: demo-wrong-expectation
faq: "Diensten koppelen"
title: A scenario that expects too much (to show what a failure looks like in the report)
rules: [P3]
tags: [demo]
steps:
  - login: {as: sophie-peters, for: bakkerij-de-vries, service: view}
    expect: {logged_in: true, kvk: "12345678", rights: [edit]}
  - change: {}
    expect: {allowed: true}
"""


def start_demo(workdir: Path) -> tuple[subprocess.Popen, str, str]:
    bport, pport = free_port(), free_port()
    proc = subprocess.Popen([sys.executable, "-m", "mock_broker.cli", "demo", "--broker-port", str(bport),
                             "--portal-port", str(pport), "--db", str(workdir / "portal.sqlite3")], cwd=workdir,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("Open "):
            return proc, f"http://127.0.0.1:{bport}", f"http://127.0.0.1:{pport}"
        if proc.poll() is not None:
            break
    proc.terminate()
    raise SystemExit(f"screenshots: the demo did not start (last line: {line!r})")


class Shooter:
    def __init__(self, out: Path):
        self.out, self.made = out, []

    def shot(self, page, name: str, *, full_page: bool = False) -> None:
        assert name in SHOTS, name
        path = self.out / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        if shutil.which("pngquant"):  # Debian's pngquant, if installed: a third of the size, for the README's copies
            subprocess.run(["pngquant", "--force", "--skip-if-larger", "--quality", "60-90", "--ext", ".png",
                            str(path)], check=False)
        self.made.append(path)
        print(f"{path}  ({page.evaluate('document.documentElement.scrollHeight')} px high)")


def walk(browser, broker: str, portal: str, shooter: Shooter, workdir: Path) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(portal + "/")
    shooter.shot(page, "portal-home")
    page.click("#login-2")  # "Inloggen": the service 'Bekijk en wijzig gegevens'
    page.wait_for_url(broker + "/login*")
    shooter.shot(page, "broker-login")
    page.click('button[data-person="anna-de-vries"][data-choice="bakkerij-de-vries"]:not([data-branch])')
    page.wait_for_url(portal + "/dashboard")
    shooter.shot(page, "portal-dashboard", full_page=True)
    page.click("#menu-toegang")  # Snel naar → Toegang verlenen
    page.fill('input[name="kvk"]', "45678901")
    page.click('#grant button[type="submit"]')
    page.click("#mailbox-link")
    shooter.shot(page, "portal-mailbox")
    page.click("a[id^=confirm-link-]")
    page.click('button[type="submit"]')
    page.click("#logout")
    page.goto(portal + "/")
    page.click("#login-2")
    page.click('button[data-person="eva-kok"][data-choice="bakkerij-de-vries"]:not([data-branch])')  # EH2
    page.wait_for_url(portal + "/melding")
    page.click("#helpdesk summary")
    shooter.shot(page, "portal-refusal-eh3")
    page.goto(broker + "/journal")
    page.click("#logins tr[data-request] a")
    shooter.shot(page, "broker-journal")
    page.goto(broker + "/beheer")
    form = page.locator("#form-set_level")
    form.locator('select[name="person"]').select_option("eva-kok")
    form.locator('select[name="level"]').select_option("EH3")
    form.locator('button[type="submit"]').click()
    page.wait_for_load_state()
    shooter.shot(page, "broker-beheer")
    context.close()

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(portal + "/login?service=2")
    page.wait_for_url(broker + "/login*")
    shooter.shot(page, "phone-broker-login")
    page.click('button[data-person="pieter-jansen"][data-choice="garage-mulder via jansen-pensioenadvies"]')
    page.wait_for_url(portal + "/dashboard")
    shooter.shot(page, "phone-portal-dashboard", full_page=True)
    phone.close()

    report = workdir / "report.html"
    scenarios = workdir / "scenarios"
    scenarios.mkdir(exist_ok=True)
    (scenarios / "demo-wrong-expectation.yaml").write_text(WRONG_SCENARIO, encoding="utf-8")
    subprocess.run([sys.executable, "-m", "harness.cli", "run", "service-view-readonly", "loa-eh2-refused",
                    "demo-wrong-expectation", "--scenarios", str(scenarios), "--broker-url", broker,
                    "--portal-url", portal, "--html", str(report)], cwd=workdir, check=False,
                   stdout=subprocess.DEVNULL)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(report.as_uri())
    shooter.shot(page, "harness-report")
    context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), help="folder for the PNGs")
    parser.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    shooter = Shooter(out)
    with tempfile.TemporaryDirectory() as tmp:
        proc, broker, portal = start_demo(Path(tmp))
        try:
            requests.post(broker + "/_mock/reset", timeout=5).raise_for_status()
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-gpu"])
                try:
                    walk(browser, broker, portal, shooter, Path(tmp))
                finally:
                    browser.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            finally:
                proc.stdout.close()
    missing = [s for s in SHOTS if not (out / f"{s}.png").exists()]
    if missing:
        print(f"screenshots: not made: {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
