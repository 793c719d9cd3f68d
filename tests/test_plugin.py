"""Third-party generators: the example plugin, found through the entry-point group."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from composer.cli import main
from composer.generators import registry

PLUGIN = Path(__file__).resolve().parent.parent / "examples" / "plugin"


def _install_fake_dist(site: Path, name: str, entry: str) -> None:
    """What `pip install ./examples/plugin` leaves behind, minus the copy step: a dist-info
    folder whose entry_points.txt declares the generator."""
    info = site / f"{name}-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(f"[composer.generators]\n{entry}\n")


@pytest.fixture
def plugin_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy(PLUGIN / "arpeggio_generator.py", site)
    _install_fake_dist(site, "songc_arpeggio", "arpeggio = arpeggio_generator:ArpeggioGenerator")
    monkeypatch.syspath_prepend(str(site))
    yield site
    registry.unregister("arpeggio")
    registry.reload_entry_points()
    sys.modules.pop("arpeggio_generator", None)


def test_plugin_is_found_and_used(plugin_site: Path, tmp_path: Path) -> None:
    registry.reload_entry_points()
    assert "arpeggio" in registry.available()
    out = tmp_path / "arp.mid"
    assert (
        main(["--generator", "arpeggio", "--form", "AABA", "--seed", "1", "-q", "-o", str(out)])
        == 0
    )
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["generator"] == "arpeggio"
    assert all(s["choice"]["candidates"] == 16 for s in report["sections"])


def test_broken_plugin_is_one_clean_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _install_fake_dist(site, "broken_plugin", "broken = no_such_module:Gen")
    monkeypatch.syspath_prepend(str(site))
    registry.reload_entry_points()
    try:
        assert main(["--generator", "broken", "-q", "-o", str(tmp_path / "x.mid")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: generator: plugin 'broken' failed to load")
        assert not (tmp_path / "x.mid").exists()
    finally:
        registry.unregister("broken")
        registry.reload_entry_points()


def test_register_in_process() -> None:
    from composer.app import api
    from composer.generators.rules.generator import RuleGenerator

    class Quiet(RuleGenerator):
        name = "quiet-rules"

    api.register_generator("quiet-rules", Quiet)
    try:
        song = api.compose({"form": "AB", "generator": "quiet-rules", "seed": 2, "candidates": 2})
        assert song.report.generator == "quiet-rules"
    finally:
        registry.unregister("quiet-rules")
