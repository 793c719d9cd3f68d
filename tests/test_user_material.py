"""The user's own material: a section's melody from their MIDI or MusicXML file, kept note for
note, the song planned and composed around it; `compose continue`; `lock:` with `--from`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from composer.app import api
from composer.app.revise import compose_from, load_song
from composer.cli import main
from tests.conftest import EXAMPLES
from tests.midiread import in_span, read

music21 = pytest.importorskip("music21")

FAST = {"generator": "rules", "candidates": 4, "quantized": True, "seed": 2}
BAR = 4 * 480


@pytest.fixture(scope="module")
def theme(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[int, int, int]]]:
    """Bars 1-8 of the soprano of Bach's chorale BWV 66.6 (F# minor, 4/4) from music21's
    corpus, written to MIDI by music21; and its notes as music21 reads them (onset, duration,
    pitch in ticks), our reader not involved."""
    folder = tmp_path_factory.mktemp("theme")
    soprano = music21.corpus.parse("bach/bwv66.6").parts[0].measures(1, 8)
    path = folder / "theme.mid"
    mf = music21.midi.translate.streamToMidiFile(soprano)
    mf.open(str(path), "wb")
    mf.write()
    mf.close()
    notes = [
        (round(float(n.offset) * 480), round(float(n.quarterLength) * 480), n.pitch.midi)
        for n in soprano.flatten().notes
    ]
    return path, notes


def _melody(path: Path, lo: int, hi: int) -> list[tuple[int, int, int]]:
    return [(on - lo, d, p) for on, d, p in in_span(read(path).notes["Melody"], lo, hi)]


@pytest.fixture(scope="module")
def around(
    theme: tuple[Path, list[tuple[int, int, int]]], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("around") / "song.mid"
    spec = {**FAST, "form": "A A B A", "sections": {"A": {"midi": str(theme[0])}}}
    api.compose(spec).save(out)
    return out


def test_the_users_section_is_kept_note_for_note(
    theme: tuple[Path, list[tuple[int, int, int]]], around: Path
) -> None:
    _, notes = theme
    assert _melody(around, 0, 8 * BAR) == notes  # the chorale's soprano, exactly
    assert _melody(around, 8 * BAR, 16 * BAR) == notes  # A2 repeats it (same chords)
    assert _melody(around, 16 * BAR, 24 * BAR) != notes  # the bridge is new


def test_the_song_around_it_keeps_key_tempo_meter_length(around: Path) -> None:
    song = load_song(around)
    r, back = song.report, read(around)
    assert (r.key, r.time_signature, r.bars) == ("F# minor", "4/4", 32)
    assert back.time_signature == (4, 4) and back.end_tick == 32 * BAR
    assert back.key_signatures[0][1] in ("F#m", "F#min", "F# minor")
    assert round(back.tempo_bpm) == r.tempo
    rows = {s.id: s for s in r.sections}
    assert rows["A1"].choice.material == "user" and rows["A1"].bars == 8
    # the harmony fits the tune: planned from it (the theme's chords are given to the planner)
    assert all(s.bars == 8 for s in r.sections)
    assert rows["A2"].chords == rows["A1"].chords


def _run(tmp: Path, spec: dict, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp / "s.yaml"
    path.write_text(yaml.safe_dump(spec))
    rc = main(["--spec", str(path), "-o", str(tmp / "out.mid"), "-q"])
    return rc, capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "section", "message"),
    [
        ({"time_signature": "3/4"}, {}, "time_signature: the song is in 3/4, but sections.A.midi"),
        ({}, {"bars": 4}, "sections.A.bars: 4 bars, but sections.A.midi"),
        ({"key": "C major"}, {}, "key: the song is in C major, but sections.A.midi"),
        ({}, {"key": "G major"}, "sections.A.key: G major, but sections.A.midi"),
        ({}, {"track": 3}, "sections.A.track: "),
    ],
)
def test_a_plan_that_disagrees_with_the_file_is_one_line(
    theme: tuple[Path, list[tuple[int, int, int]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: dict,
    section: dict,
    message: str,
) -> None:
    spec = {
        **FAST,
        "form": "A A B A",
        **extra,
        "sections": {"A": {"midi": str(theme[0]), **section}},
    }
    rc, err = _run(tmp_path, spec, capsys)
    assert rc == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


@pytest.mark.parametrize(
    ("file", "section", "message"),
    [
        ("missing.mid", {}, "sections.A.midi: no such file"),
        ("notes.txt", {}, "sections.A.midi: 'NOTES' is not a MIDI file"),
        ("notes.txt", {"musicxml": "X"}, "sections.A: give midi or musicxml, not both"),
    ],
)
def test_bad_files_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], file: str, section: dict, message: str
) -> None:
    (tmp_path / "notes.txt").write_text("not music")
    target = tmp_path / file
    spec = {**FAST, "sections": {"A": {"midi": str(target), **section}}}
    rc, err = _run(tmp_path, spec, capsys)
    message = message.replace("NOTES", str(target))
    assert rc == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1, err
    assert not (tmp_path / "out.mid").exists()


def test_musicxml_gives_the_same_melody(
    theme: tuple[Path, list[tuple[int, int, int]]], tmp_path: Path
) -> None:
    from composer.material_in import read_material

    xml = tmp_path / "theme.musicxml"
    music21.corpus.parse("bach/bwv66.6").parts[0].measures(1, 8).write("musicxml", fp=str(xml))
    a = read_material("sections.A.musicxml", xml, 1, "musicxml")
    b = read_material("sections.A.midi", theme[0], 1, "midi")
    assert (
        a.notes[["onset", "duration", "pitch"]].tolist()
        == b.notes[["onset", "duration", "pitch"]].tolist()
    )
    assert str(a.key) == str(b.key) == "F# minor" and a.time_signature == "4/4"


def test_continue_grows_a_song_from_a_fragment(
    theme: tuple[Path, list[tuple[int, int, int]]], tmp_path: Path
) -> None:
    out = tmp_path / "grown.mid"
    args = ["continue", str(theme[0]), "--bars", "32", "--generator", "rules", "--seed", "1"]
    assert main([*args, "--candidates", "4", "--quantized", "-o", str(out), "-q"]) == 0
    r = load_song(out).report
    assert r.bars == 32 and [s.name for s in r.sections] == ["A", "A", "B", "A"]
    assert (r.key, r.time_signature) == ("F# minor", "4/4")
    assert _melody(out, 0, 8 * BAR) == theme[1]


def test_continue_bad_lengths_are_one_line(
    theme: tuple[Path, list[tuple[int, int, int]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "x.mid"
    cases = [
        (["--bars", "30"], "--bars: 30 is not a whole number of the fragment's 8 bars"),
        (["--form", "A B A", "--bars", "32"], "--bars: 32, but the form 'A B A' plans 24 bars"),
    ]
    junk = tmp_path.parent / f"{tmp_path.name}-notes.txt"
    junk.write_text("not music")
    cases.append(([], f"fragment: '{junk}' is not a MIDI file"))
    for extra, message in cases:
        src = junk if not extra else theme[0]
        rc = main(["continue", str(src), *extra, "--generator", "rules", "-o", str(out)])
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


def test_lock_keeps_sections_from_a_previous_song(tmp_path: Path) -> None:
    spec = api.build_spec(EXAMPLES / "ballad.yaml", {**FAST, "seed": 7})
    first = api.compose(spec)
    again = compose_from(spec.model_copy(update={"seed": 8, "lock": ["B1"]}), first)
    s0, s1 = first.report.song, again.report.song
    assert s0 is not None and s1 is not None
    assert s1.section("B1").notes == s0.section("B1").notes  # kept
    assert s1.section("A1").notes != s0.section("A1").notes  # composed anew with seed 8
    rows = {s.id: s for s in again.report.sections}
    assert rows["B1"].choice.material == "locked"
    with pytest.raises(Exception, match="lock: no section 'C1'"):
        compose_from(spec.model_copy(update={"lock": ["C1"]}), first)
