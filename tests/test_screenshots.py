"""scripts/screenshots.py, which makes README's screenshots, still runs: it starts the demo, clicks through every
page of the walk-through in Chromium and writes each PNG; the committed ones in docs/screenshots/ are the ones it
makes (none by hand, none stale)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PNG = b"\x89PNG\r\n\x1a\n"


def test_the_screenshot_script_clicks_through_and_writes_every_png(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "screenshots.py"), "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    made = {p.name for p in tmp_path.glob("*.png")}
    assert len(made) == 10, made
    for name in made:
        assert (tmp_path / name).read_bytes()[:8] == PNG, name
    committed = {p.name for p in (ROOT / "docs" / "screenshots").glob("*.png")}
    assert committed == made  # every picture in the README is one the script makes
    readme = (ROOT / "README.md").read_text("utf-8")
    assert all(f"docs/screenshots/{name}" in readme for name in committed)
