"""The studio in a real browser: Debian's headless Chromium driven by Playwright (no browser
download). Compose from a prompt, play, regenerate a section, rate three A/B pairs; then the
SQLite file holds exactly those three ratings.

With SONGC_STUDIO_SCREENSHOT=PATH it also saves a screenshot of the page there (how
docs/pictures/studio.png is made).
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if Path(p).exists()), None
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (make browser-deps)"),
    pytest.mark.skipif(
        shutil.which("fluidsynth") is None, reason="no FluidSynth (make render-deps)"
    ),
]
ROOT = Path(__file__).resolve().parent.parent
WAIT_MS = 300_000  # a compose or a pair on a loaded 2-core machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def studio(tmp_path: Path):  # -> (base URL, data folder)
    pytest.importorskip("uvicorn", reason="the studio extra is not installed")
    home, port = tmp_path / "songc", _free_port()
    env = {**os.environ, "SONGC_HOME": str(home), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from composer.cli import main; main()",
            "studio",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(f"{base}/api/ratings", timeout=1).read()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.1)
        yield base, home
    finally:
        proc.terminate()
        proc.wait(10)


def test_compose_play_regenerate_and_rate_three_pairs(studio: tuple[str, Path]) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    base, home = studio
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base)
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator("#example option").count() > 1  # the example specs are offered

        # compose from a prompt
        page.fill("#prompt", "a cheerful folk song in G major")
        page.fill("#form", "AB")
        page.fill("#seed", "2")
        page.fill("#candidates", "4")
        page.select_option("#generator", "rules")
        page.click("#compose")
        page.wait_for_selector("#song:not([hidden])", timeout=WAIT_MS)
        assert "G major" in page.inner_text("#song-meta")
        assert page.locator(".section").count() == 2
        first = page.get_attribute("#player", "src")

        # play
        page.evaluate("document.querySelector('#player').play()")
        page.wait_for_function("document.querySelector('#player').currentTime > 0.3")
        assert page.evaluate("document.querySelector('#player').duration") > 10
        for img in ("#plan", "#leadsheet"):
            assert page.evaluate(f"document.querySelector('{img}').naturalWidth") > 100

        # regenerate a section: a new song, the page follows it
        page.click(".section[data-section='B1'] .regenerate")
        page.wait_for_function(
            f"document.querySelector('#player').getAttribute('src') !== {first!r}"
            " && !document.querySelector('#compose').disabled",
            timeout=WAIT_MS,
        )
        assert page.locator(".section").count() == 2
        assert page.is_hidden("#error")

        # rate three A/B pairs
        verdicts = [
            ("#pair-section", "a", "melody"),
            ("#pair-song", "tie", None),
            ("#pair-section", "both_bad", "groove"),
        ]
        for n, (button, outcome, tag) in enumerate(verdicts, 1):
            page.click(button)
            page.wait_for_selector("#pair:not([hidden])", timeout=WAIT_MS)
            page.evaluate("document.querySelector('#player-a').play()")
            page.wait_for_function("document.querySelector('#player-a').currentTime > 0.2")
            if tag:
                page.check(f".tags input[value='{tag}']")
            page.click(f"[data-outcome='{outcome}']")
            page.wait_for_function(
                "document.querySelector('#rate-status').textContent.startsWith('Stored')"
            )
            assert page.inner_text("#rating-count") == f"{n} rating{'s' if n > 1 else ''}"
        shot = os.environ.get("SONGC_STUDIO_SCREENSHOT")
        if shot:
            page.click("#pair-section")
            page.wait_for_selector("#pair:not([hidden])", timeout=WAIT_MS)
            page.screenshot(path=shot, full_page=True)
        assert errors == []
        browser.close()

    db = sqlite3.connect(home / "ratings.sqlite3")
    rows = db.execute("SELECT kind, outcome, tags FROM ratings ORDER BY id").fetchall()
    db.close()
    assert rows == [
        ("section", "a", '["melody"]'),
        ("song", "tie", "[]"),
        ("section", "both_bad", '["groove"]'),
    ]
