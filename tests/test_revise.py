"""compose revise: recompose some sections, keep every other section note for note."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from composer.app import api
from composer.app.revise import load_song, revise
from composer.cli import main
from composer.search.junction import parts
from composer.search.lattice import search
from composer.search.material import same_chord_bars
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_DRUMS, TRACK_MELODY
from tests.conftest import EXAMPLES, ROOT
from tests.midiread import in_span, read

FAST = {"generator": "rules", "candidates": 4}


def _compose(example: str, tmp: Path, **extra: object) -> Path:
    spec = api.build_spec(EXAMPLES / example, {**FAST, **extra})
    song = api.compose(spec)
    out = tmp / f"{Path(example).stem}.mid"
    song.save(out)
    return out


@pytest.fixture(scope="module")
def ballad(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ballad example, played on the grid (so the MIDI's notes stay in their sections)."""
    return _compose("ballad.yaml", tmp_path_factory.mktemp("ballad"), quantized=True)


@pytest.fixture(scope="module")
def pop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pop example, humanised (each section on its own random stream)."""
    return _compose("pop_song.yaml", tmp_path_factory.mktemp("pop"))


def _kept_identical(before: api.Song, after: api.Song, changed: set[str]) -> None:
    s0, s1 = before.report.song, after.report.song
    assert s0 is not None and s1 is not None
    for a, b in zip(s0.sections, s1.sections, strict=True):
        if a.id in changed:
            continue
        assert (a.notes, a.arranged, a.performed) == (b.notes, b.arranged, b.performed), a.id


def test_the_report_holds_the_song_and_rebuilds_its_midi(ballad: Path) -> None:
    song = load_song(ballad.with_suffix(".json"))
    assert song.midi == ballad.read_bytes()  # the state is the song, byte for byte
    assert load_song(ballad).midi == song.midi  # the .mid finds its report


def test_kept_sections_are_byte_identical_and_the_revised_one_changes(
    ballad: Path, tmp_path: Path
) -> None:
    song = load_song(ballad.with_suffix(".json"))
    done = revise(song, ["B1"], seed=3)
    assert done.recomposed == ("B1",)
    _kept_identical(song, done.song, {"B1"})
    old, new = song.report.song, done.song.report.song
    assert old is not None and new is not None
    mel = [n[n["track"] == TRACK_MELODY] for n in (old.notes("B1"), new.notes("B1"))]
    assert not np.array_equal(*mel)
    # in the MIDI files, read by mido: every kept section's notes are the same
    done.song.write([tmp_path / "r.mid"])
    a, b = read(ballad), read(tmp_path / "r.mid")
    bar = 4 * 480
    plan = song.plan
    for s in plan.sections:
        lo, hi = (s.start_bar - 1) * bar, (s.start_bar - 1 + s.bars) * bar
        for track in a.notes:
            same = in_span(a.notes[track], lo, hi) == in_span(b.notes[track], lo, hi)
            if s.id != "B1":
                assert same, (s.id, track)
            elif track == "Melody":
                assert not same
    assert b.tempo_bpm == a.tempo_bpm and b.time_signature == a.time_signature
    assert b.end_tick == a.end_tick and b.key_signatures == a.key_signatures


def test_junctions_are_recomputed_on_both_sides(ballad: Path) -> None:
    song = load_song(ballad.with_suffix(".json"))
    done = revise(song, ["B1"], seed=3)
    assert set(done.junctions) == {"A2|B1", "B1|A3"}
    new = done.song.report.song
    assert new is not None
    bar, beat = 4 * 480, 480
    a2, b1, a3 = (new.notes(i) for i in ("A2", "B1", "A3"))
    assert done.junctions["A2|B1"]["after"] == parts(a2, 8 * bar, b1, beat)
    assert done.junctions["B1|A3"]["after"] == parts(b1, 8 * bar, a3, beat)
    old = song.report.song
    assert old is not None
    assert done.junctions["B1|A3"]["before"] == parts(old.notes("B1"), 8 * bar, a3, beat)
    # the report's junction of each neighbour is the mean of its seams, recomputed
    rows = {r.id: r for r in done.song.report.sections}
    left = parts(new.notes("A1"), 8 * bar, a2, beat)["junction"]
    want = round((left + done.junctions["A2|B1"]["after"]["junction"]) / 2, 4)
    assert rows["A2"].choice.junction == want
    assert rows["A3"].choice.junction == round(done.junctions["B1|A3"]["after"]["junction"], 4)


def test_repeats_follow_their_source_unless_unlinked(ballad: Path) -> None:
    song = load_song(ballad)
    done = revise(song, ["A1"], seed=4)
    assert done.recomposed == ("A1", "A2", "A3")
    _kept_identical(song, done.song, {"A1", "A2", "A3"})
    new = done.song.report.song
    assert new is not None
    bar = 4 * 480
    plan = done.song.plan
    # A2, the second statement, repeats A1 exactly where the chords are the same; A3, the third,
    # is developed from the new A1 (the melody plan's development), so it changes with it
    same = same_chord_bars(plan.section("A2"), plan.section("A1"), bar)
    assert same
    a1, a2 = new.notes("A1"), new.notes("A2")
    assert np.array_equal(
        a1[np.isin(a1["onset"] // bar, same)], a2[np.isin(a2["onset"] // bar, same)]
    )
    assert plan.section("A3").melody is not None
    assert plan.section("A3").melody.development != "literal"
    assert not np.array_equal(new.notes("A3"), song.report.song.notes("A3"))  # type: ignore[union-attr]
    assert not np.array_equal(a1, song.report.song.notes("A1"))  # type: ignore[union-attr]
    alone = revise(song, ["A1"], seed=4, unlink=True)
    assert alone.recomposed == ("A1",)
    _kept_identical(song, alone.song, {"A1"})
    relations = {s.id: (s.relation, s.source) for s in alone.song.plan.sections}
    assert relations["A2"] == relations["A3"] == ("new", None)
    a2 = revise(song, ["A2"], seed=4, unlink=True)
    assert a2.recomposed == ("A2",)
    _kept_identical(song, a2.song, {"A2"})


def test_a_part_alone(pop: Path) -> None:
    song = load_song(pop)
    old = song.report.song
    assert old is not None
    target = "verse2"
    tracks = {
        "melody": {TRACK_MELODY},
        "accompaniment": {TRACK_CHORDS, TRACK_BASS},
        "drums": {TRACK_DRUMS},
    }
    for part, moved in tracks.items():
        done = revise(song, [target], seed=8, part=part, unlink=True)
        _kept_identical(song, done.song, {target})
        new = done.song.report.song
        assert new is not None
        a, b = old.notes(target, "arranged"), new.notes(target, "arranged")
        changed = {
            t
            for t in (TRACK_MELODY, TRACK_CHORDS, TRACK_BASS, TRACK_DRUMS)
            if not np.array_equal(a[a["track"] == t], b[b["track"] == t])
        }
        if part == "melody":  # a new tune; the comp may move under it, the rest stays
            assert TRACK_MELODY in changed and changed <= {TRACK_MELODY, TRACK_CHORDS}
        else:
            assert changed and changed <= moved, (part, changed)
        if part != "melody":
            assert new.notes(target).tobytes() == old.notes(target).tobytes()


def test_revising_a_revision_records_both(pop: Path) -> None:
    song = load_song(pop)
    once = revise(song, ["bridge1"], seed=1)
    twice = revise(once.song, ["intro1"], seed=2)
    state = twice.song.report.song
    assert state is not None
    assert [r.sections for r in state.revisions] == [["bridge1"], ["intro1"]]
    _kept_identical(once.song, twice.song, {"intro1"})


def test_the_search_never_regenerates_a_fixed_node(ballad: Path) -> None:
    from composer.app.revise import _fixed, _graph
    from composer.generators.registry import get_generator
    from composer.search.lattice import SearchConfig

    song = load_song(ballad)
    state = song.report.song
    assert state is not None
    rows = {r.id: r for r in song.report.sections}
    rules = get_generator("rules")
    asked: list[str] = []

    class Recording:
        name = "rules"

        def generate(self, section, context, n, rng):  # type: ignore[no-untyped-def]
            asked.append(section.id)
            return rules.generate(section, context, n, rng)

    fixed = {s.id: _fixed(state, s, rows[s.id]) for s in state.sections if s.id != "B1"}
    choices, _ = search(
        state.plan, _graph(state.plan, state.edges), Recording(), SearchConfig({}), fixed=fixed
    )
    assert set(asked) == {"B1"} and set(choices) == {"B1"}


def test_cli_revise_writes_and_reports(ballad: Path, tmp_path: Path) -> None:
    out = tmp_path / "revised.mid"
    assert main([
        "revise", str(ballad.with_suffix(".json")), "--section", "B1", "--seed", "2",
        "-o", str(out), "-q",
    ]) == 0  # fmt: skip
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["song"]["revisions"][0]["recomposed"] == ["B1"]
    assert load_song(out).midi == out.read_bytes()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--section", "X9"], "--section: no section 'X9' in the song (A1 A2 B1 A3)"),
        (["--section", "A2"], "--section: A2 repeats A1"),
        (["--section", "B1", "--part", "bass"], "--part: 'bass' is not one of"),
        (["--section", "B1", "--candidates", "0"], "--candidates: must be 1-256"),
    ],
)
def test_bad_revisions_are_one_line_and_write_nothing(
    ballad: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "r.mid"
    assert main(["revise", str(ballad.with_suffix(".json")), *args, "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {message}") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_bad_songs_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "old.json").write_text(json.dumps({"sections": []}))
    (tmp_path / "tune.mid").write_bytes(b"MThd")  # no report beside it
    cases = {
        "missing.json": "song: no such file",
        "junk.json": "is not a JSON report of compose",
        "old.json": "holds no song state",
        "tune.mid": "song: no such file",
    }
    before = sorted(tmp_path.iterdir())
    for name, message in cases.items():
        rc = main(
            ["revise", str(tmp_path / name), "--section", "A1", "-o", str(tmp_path / "o.mid")]
        )
        err = capsys.readouterr().err
        assert rc == 2 and message in err and err.count("\n") == 1, (name, err)
    assert sorted(tmp_path.iterdir()) == before


def test_cli_revise_in_a_subprocess(ballad: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub.mid"
    run = subprocess.run(
        [sys.executable, "-m", "composer.cli", "revise", str(ballad), "--section", "B1",
         "--part", "melody", "-o", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "recomposed B1 (melody" in run.stdout and "B1|A3" in run.stdout
    assert out.exists()


@pytest.mark.parametrize("example", ["blues.yaml", "hymn.yaml", "jig.yaml", "waltz.yaml"])
def test_every_example_keeps_what_is_not_revised(example: str, tmp_path: Path) -> None:
    """On the other examples: the last section of new material is revised (with its repeats);
    every other section is byte-identical, and the revised one changes."""
    song = load_song(_compose(example, tmp_path))
    state = song.report.song
    assert state is not None
    target = [s.id for s in song.plan.sections if s.relation == "new"][-1]
    done = revise(song, [target], seed=5)
    _kept_identical(song, done.song, set(done.recomposed))
    new = done.song.report.song
    assert new is not None
    old_mel, new_mel = (x.notes(target) for x in (state, new))
    assert not np.array_equal(
        old_mel[old_mel["track"] == TRACK_MELODY], new_mel[new_mel["track"] == TRACK_MELODY]
    )
    assert done.junctions  # every seam next to it is recomputed
