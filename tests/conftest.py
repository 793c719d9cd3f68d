"""Shared fixtures. Songs are composed once per session and read back from the MIDI files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# (name, CLI arguments, what was requested: key, tempo, meter, bars per section in order).
# All but spec_pop are played --quantized: these tests compare notes on the grid (chords, repeats,
# variations), which is composition; the humanised performance is tested in tests/test_arrange.py
# and spec_pop keeps it here (tempo, meter, length, key hold for it too).
SONGS = {
    "prompt_ballad": (
        [
            "--form",
            "AABA",
            "--prompt",
            "a wistful jazz ballad in Eb major, 72 bpm",
            "--seed",
            "7",
            "--quantized",
        ],
        {"key": "Eb major", "tempo": 72, "meter": (4, 4), "bars": [8, 8, 8, 8]},
    ),
    "prompt_waltz": (
        [
            "--form",
            "A A' B A",
            "--prompt",
            "in C# minor, 60 bpm, 3/4",
            "--seed",
            "2",
            "--quantized",
        ],
        {"key": "C# minor", "tempo": 60, "meter": (3, 4), "bars": [8, 8, 8, 8]},
    ),
    "spec_ballad": (
        ["--spec", str(EXAMPLES / "ballad.yaml"), "--quantized"],
        {"key": "Eb major", "tempo": 72, "meter": (4, 4), "bars": [8, 8, 8, 8]},
    ),
    "spec_jig": (
        ["--spec", str(EXAMPLES / "jig.yaml"), "--quantized"],
        {"key": "D major", "tempo": 172, "meter": (6, 8), "bars": [8, 4, 8, 4, 8]},
    ),
    "spec_pop": (
        ["--spec", str(EXAMPLES / "pop_song.yaml"), "--tempo", "110"],
        {"key": "A major", "tempo": 110, "meter": (4, 4), "bars": [4, 8, 8, 8, 8, 8, 8, 4]},
    ),
    "spec_hymn": (
        ["--spec", str(EXAMPLES / "hymn.yaml"), "--quantized"],
        {"key": "F major", "tempo": 66, "meter": (4, 4), "bars": [8, 8, 8, 8]},
    ),
    "spec_blues": (
        ["--spec", str(EXAMPLES / "blues.yaml"), "--candidates", "8", "--quantized"],
        {"key": "E major", "tempo": 84, "meter": (4, 4), "bars": [12, 12]},
    ),
}


@pytest.fixture(scope="session")
def songs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """Every song in SONGS composed through the CLI entry point: name -> (midi path, request)."""
    from composer.cli import main

    out = tmp_path_factory.mktemp("songs")
    made = {}
    for name, (args, want) in SONGS.items():
        path = out / f"{name}.mid"
        assert main([*args, "-o", str(path), "--quiet"]) == 0, name
        made[name] = (path, want)
    return made
