"""Renderers (composer/render/): audio, MusicXML, score and plan pictures, several outputs.

The MusicXML is read back with music21 (an independent reader) and compared with the plan and
the notes; the audio is read back with soundfile. Tests that need FluidSynth and a SoundFont
(audio) or libcairo (PNG/PDF) skip, saying so, where `make render-deps` has not been run.
"""

from __future__ import annotations

import io
import json
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from composer.app import api
from composer.cli import main
from composer.render import audio, loudness
from composer.render.musicxml import render_musicxml, spelled_pitch
from composer.render.outputs import kind_of, stem
from grammar.keys import parse_key
from kernels.notes import TICKS_PER_BEAT

FAST = {"candidates": 2, "generator": "rules"}


def _has_audio_tools() -> bool:
    try:
        audio.fluidsynth()
        audio.soundfont()
    except Exception:
        return False
    return True


def _has_cairo() -> bool:
    try:
        import cairosvg  # noqa: F401
    except OSError:
        return False
    return True


needs_audio = pytest.mark.skipif(
    not _has_audio_tools(), reason="fluidsynth or a GM SoundFont missing: make render-deps"
)
needs_cairo = pytest.mark.skipif(not _has_cairo(), reason="libcairo2 missing: make render-deps")


@pytest.fixture(scope="module")
def ballad() -> api.Song:
    """examples/ballad.yaml: Eb major, a bridge in Ab with given chords (Db7, Bbm7)."""
    return api.compose(api.build_spec(Path(__file__).parent.parent / "examples/ballad.yaml", FAST))


@pytest.fixture(scope="module")
def minor_jig() -> api.Song:
    """6/8 in E minor, chords written with sharps and a half-diminished chord."""
    spec = {
        "title": "Test Jig",
        "key": "E minor",
        "time_signature": "6/8",
        "tempo": 120,
        "form": "AB",
        "sections": {
            "A": {"bars": 4, "chords": "Em | F#m7b5 B7 | Em/G | B7"},
            "B": {"bars": 4, "key": "G major", "chords": "G | Cmaj7 | D7 | G"},
        },
        "seed": 3,
        **FAST,
    }
    return api.compose(spec)


# --- loudness -------------------------------------------------------------------------------


def test_loudness_matches_the_standard_calibration() -> None:
    """BS.1770: a 997 Hz sine at 0 dBFS in both channels reads 0 LUFS; in one, -3.01."""
    rate = 44100
    t = np.arange(rate * 5) / rate
    x = np.sin(2 * np.pi * 997 * t)
    assert loudness.integrated_loudness(np.stack([x, x], 1), rate) == pytest.approx(0.0, abs=0.05)
    assert loudness.integrated_loudness(np.stack([x, 0 * x], 1), rate) == pytest.approx(
        -3.01, abs=0.05
    )
    # halving the amplitude is -6.02 LU; silence is below every gate
    assert loudness.integrated_loudness(np.stack([x, x], 1) / 2, rate) == pytest.approx(
        -6.02, abs=0.05
    )
    assert loudness.integrated_loudness(np.zeros((rate, 2)), rate) == float("-inf")


def test_true_peak_finds_inter_sample_peaks() -> None:
    from scipy.signal import resample_poly

    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.1, (44100 * 3, 2))
    # a sine at a quarter of the rate, sampled 45 degrees off its crest: samples 0.707, peak 1
    n = np.arange(2000)
    x[10000:12000, 0] = np.sin(np.pi / 2 * n + np.pi / 4)
    full = float(np.abs(resample_poly(x, 4, 1, axis=0)).max())
    assert loudness.true_peak(x) == pytest.approx(full, rel=1e-6)
    assert loudness.true_peak(x) > np.abs(x).max() * 1.3


def test_normalise_reaches_the_target_under_the_ceiling() -> None:
    rate = 44100
    t = np.arange(rate * 10) / rate
    tone = 0.02 * np.sin(2 * np.pi * 220 * t) + 0.01 * np.sin(2 * np.pi * 331 * t)
    x = np.stack([tone, tone], 1).astype(np.float32)
    x[rate * 5 : rate * 5 + 50] = 0.9  # a loud click: limited, not left to set the level
    out, lufs, tp = loudness.normalise(x, rate, -14.0, -1.0)
    assert lufs == pytest.approx(-14.0, abs=0.2)
    assert tp <= -1.0 + 1e-6
    assert loudness.integrated_loudness(out, rate) == pytest.approx(lufs, abs=1e-6)


# --- MusicXML ---------------------------------------------------------------------------------


def test_notes_are_spelled_in_the_key() -> None:
    eb = parse_key("Eb major")
    assert spelled_pitch(68, eb) == "A-4"  # Ab, not G#
    assert spelled_pitch(63, eb) == "E-4"
    assert spelled_pitch(60, parse_key("C# major")) == "B#3"  # middle C as B#: octave 3
    assert spelled_pitch(71, parse_key("Gb major")) == "C-5"  # Cb5 sounds as MIDI 71
    assert spelled_pitch(68, parse_key("A minor")) == "G#4"  # the raised 7th


def _read_back(song: api.Song):  # type: ignore[no-untyped-def]
    from music21 import converter

    return converter.parseData(render_musicxml(song.plan, song.notes), format="musicxml")


@pytest.mark.parametrize("name", ["ballad", "minor_jig"])
def test_musicxml_read_back_has_the_plan(name: str, request: pytest.FixtureRequest) -> None:
    from music21 import harmony, key, meter, tempo

    song: api.Song = request.getfixturevalue(name)
    plan = song.plan
    score = _read_back(song)
    lead = score.parts[0]
    assert lead.partName == "Melody"
    # every pitched track is a part; drums (numbers that are instruments) are not written
    assert [p.partName for p in score.parts] == [t.name for t in plan.tracks if t.role != "drums"]
    measures = list(lead.getElementsByClass("Measure"))
    assert len(measures) == plan.total_bars
    by_number = {m.number: m for m in measures}
    # meter and tempo
    ts = lead.recurse().getElementsByClass(meter.TimeSignature).first()
    assert ts is not None and ts.ratioString == plan.time_signature
    mm = lead.recurse().getElementsByClass(tempo.MetronomeMark).first()
    assert mm is not None and mm.getQuarterBPM() == pytest.approx(plan.tempo, abs=1)
    # a key signature at every section that changes key, and none elsewhere
    keys = {
        m.number: k for m in measures for k in m.getElementsByClass([key.Key, key.KeySignature])
    }
    want, last = {}, None
    for s in plan.sections:
        if s.key != last:
            want[s.start_bar] = s.key_obj()
            last = s.key
    assert sorted(keys) == sorted(want)
    for bar, k in want.items():
        assert keys[bar].sharps == k.sharps
    # every chord symbol of the plan at its bar and beat, with its root, bass and text
    bar_q = Fraction(plan.meter().bar_ticks, TICKS_PER_BEAT)
    got = sorted(
        (
            m.number,
            Fraction(cs.offset).limit_denominator(48),
            cs.root().name,
            cs.bass().name,
            cs.chordKindStr,
        )
        for m in measures
        for cs in m.getElementsByClass(harmony.ChordSymbol)
    )
    expected = []
    for s in plan.sections:
        for e in s.chords:
            c = e.chord()
            offset = Fraction(e.start_tick, TICKS_PER_BEAT)
            bar = s.start_bar + int(offset // bar_q)
            symbol = e.symbol.split("/")[0] if c.bass != c.root else e.symbol
            root = symbol[: 2 if len(symbol) > 1 and symbol[1] in "#b" else 1]
            bass = e.symbol.split("/")[1] if c.bass != c.root else root
            expected.append(
                (
                    bar,
                    offset % bar_q,
                    root.replace("b", "-"),
                    bass.replace("b", "-"),
                    symbol[len(root) :],
                )
            )
            assert e.bar == int(offset // bar_q) + 1
    assert got == sorted(expected)
    # the melody's notes: onsets, pitches and lengths (ties joined), as composed
    mel = song.notes[song.notes["track"] == 0]
    read = [
        (
            Fraction(n.getOffsetInHierarchy(lead)).limit_denominator(48),
            n.pitch.midi,
            Fraction(n.quarterLength).limit_denominator(48),
        )
        for n in lead.stripTies().recurse().notes
        if not isinstance(n, harmony.ChordSymbol)
    ]
    composed = [
        (Fraction(int(o), TICKS_PER_BEAT), int(p), Fraction(int(d), TICKS_PER_BEAT))
        for o, p, d in zip(mel["onset"], mel["pitch"], mel["duration"], strict=True)
    ]
    assert read == composed
    assert by_number[1].number == 1


def test_musicxml_spells_the_bridge_in_its_key(ballad: api.Song) -> None:
    """In the Ab-major bridge a Db is Db (not C#); the chord symbols keep their flats."""
    from music21 import harmony

    score = _read_back(ballad)
    bridge = next(s for s in ballad.plan.sections if s.label == "B")
    bars = range(bridge.start_bar, bridge.start_bar + bridge.bars)
    lead = score.parts[0]
    names = {
        p.name
        for m in lead.getElementsByClass("Measure")
        if m.number in bars
        for n in m.notes
        if not isinstance(n, harmony.ChordSymbol)
        for p in n.pitches
    }
    assert all("#" not in n for n in names), names
    texts = [
        cs.root().name + cs.chordKindStr
        for m in lead.getElementsByClass("Measure")
        if m.number in bars
        for cs in m.getElementsByClass(harmony.ChordSymbol)
    ]
    assert "D-7" in texts  # Db7, not D7 (music21's own reader would say D7)


# --- audio ------------------------------------------------------------------------------------


@pytest.mark.slow
@needs_audio
def test_wav_has_the_song_length_sound_and_headroom(minor_jig: api.Song, tmp_path: Path) -> None:
    import soundfile as sf

    from composer.arrange.drums import count_in_seconds

    out = tmp_path / "jig.wav"
    files = minor_jig.write([out])
    data, rate = sf.read(str(out), always_2d=True)
    assert rate == audio.RATE and data.shape[1] == 2
    # the song and before it the style's count-in (pop: one 6/8 bar at 120 = 1.5 s)
    lead = count_in_seconds(minor_jig.plan)
    assert lead == pytest.approx(1.5)
    want = lead + minor_jig.report.duration_seconds + audio.TAIL_SECONDS
    assert len(data) / rate == pytest.approx(want, abs=0.01)
    assert np.sqrt(np.mean(data**2)) > 0.02  # not silent
    assert np.abs(data).max() < 1.0  # peaks below 0 dBFS
    assert loudness.integrated_loudness(data, rate) == pytest.approx(-14.0, abs=0.5)
    assert files[out].details["lufs"] == pytest.approx(-14.0, abs=0.5)
    report = json.loads((tmp_path / "jig.json").read_text())
    assert [f["path"] for f in report["files"]] == [str(out)]


@pytest.mark.slow
@needs_audio
def test_render_an_existing_midi_file(minor_jig: api.Song, tmp_path: Path) -> None:
    import soundfile as sf

    mid = tmp_path / "in.mid"
    mid.write_bytes(minor_jig.midi)
    assert main(["render", str(mid), "-o", str(tmp_path / "out.flac")]) == 0
    data, rate = sf.read(str(tmp_path / "out.flac"))
    assert len(data) / rate >= minor_jig.report.duration_seconds
    assert np.abs(data).max() < 1.0


def test_missing_fluidsynth_is_one_line_exit_2_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    out = tmp_path / "song.wav"
    assert (
        main(
            [
                "--form",
                "AB",
                "--candidates",
                "2",
                "-q",
                "-o",
                str(tmp_path / "s.mid"),
                "-o",
                str(out),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "fluidsynth" in err and "apt-get install" in err
    assert list(tmp_path.iterdir()) == []


def test_missing_soundfont_is_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: "/usr/bin/fluidsynth")
    monkeypatch.setattr(audio, "SOUNDFONTS", (tmp_path / "none.sf2",))
    monkeypatch.delenv("SONGC_SOUNDFONT", raising=False)
    mid = tmp_path / "in.mid"
    mid.write_bytes(b"MThd")
    assert main(["render", str(mid), "-o", str(tmp_path / "out.wav")]) == 2
    err = capsys.readouterr().err.strip()
    assert "SoundFont" in err and "timgm6mb-soundfont" in err and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mid"]


def test_bad_paths_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["--form", "AB", "--candidates", "2", "-q"]
    assert main([*args, "-o", str(tmp_path / "nowhere" / "song.musicxml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main([*args, "-o", str(tmp_path / "a.mid"), "--formats", "mid,doc"]) == 2
    assert "unknown format 'doc'" in capsys.readouterr().err
    (tmp_path / "b.musicxml").write_text("mine")
    assert main([*args, "-o", str(tmp_path / "b.mid"), "--formats", "musicxml"]) == 2
    assert "exists" in capsys.readouterr().err
    assert main(["render", str(tmp_path / "no.mid"), "-o", str(tmp_path / "x.mid")]) == 2
    assert (tmp_path / "b.musicxml").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.musicxml"]


def test_kinds_and_stems() -> None:
    assert kind_of(Path("a.plan.png")) == "plan picture"
    assert kind_of(Path("a.score.pdf")) == "score"
    assert kind_of(Path("a.PNG")) == "lead sheet"
    assert stem(Path("d/a.plan.png")) == Path("d/a")
    assert stem(Path("d/a.b.wav")) == Path("d/a.b")


# --- pictures and several outputs at once ----------------------------------------------------


@pytest.mark.slow
@needs_cairo
def test_several_outputs_at_once(minor_jig: api.Song, tmp_path: Path) -> None:
    from PIL import Image

    base = tmp_path / "song"
    paths = [
        Path(f"{base}{s}")
        for s in (".mid", ".musicxml", ".svg", ".png", ".pdf", ".score.pdf", ".plan.png")
    ]
    files = minor_jig.write(paths)
    assert set(files) == set(paths)
    report = json.loads((tmp_path / "song.json").read_text())
    assert [f["path"] for f in report["files"]] == [str(p) for p in paths]
    for p in paths:
        assert p.stat().st_size == files[p].bytes > 0
    assert paths[0].read_bytes() == minor_jig.midi
    assert b"<svg" in paths[2].read_bytes()[:500] and b"Test Jig" in paths[2].read_bytes()
    assert paths[4].read_bytes().startswith(b"%PDF") and paths[5].read_bytes().startswith(b"%PDF")
    for png in (paths[3], paths[6]):
        img = Image.open(io.BytesIO(png.read_bytes()))
        assert img.width >= 800 and img.height >= 300
        # not blank: a real picture has many dark pixels
        grey = np.asarray(img.convert("L"))
        assert (grey < 128).mean() > 0.005
    assert not list(tmp_path.glob(".*.part"))


def test_triplets_are_written_as_tuplets(ballad: api.Song) -> None:
    """Triplet eighths in the melody come back as a 3:2 tuplet, at their exact places."""
    from music21 import converter

    notes = ballad.notes[ballad.notes["track"] != 0].copy()
    third = TICKS_PER_BEAT // 3
    rows = [(i * third, third, 67 + i, 80, 0) for i in range(3)] + [
        (TICKS_PER_BEAT, 480, 70, 80, 0)
    ]
    from kernels.notes import make_notes, sort_notes

    song_notes = sort_notes(np.concatenate([notes, make_notes(rows)]))
    score = converter.parseData(render_musicxml(ballad.plan, song_notes), format="musicxml")
    bar1 = score.parts[0].measure(1)
    played = [n for n in bar1.notes if not hasattr(n, "figure")]
    assert [n.pitch.midi for n in played] == [67, 68, 69, 70]
    assert [float(n.offset) for n in played[:3]] == pytest.approx([0, 1 / 3, 2 / 3])
    for n in played[:3]:
        assert [(t.numberNotesActual, t.numberNotesNormal) for t in n.duration.tuplets] == [(3, 2)]
    assert played[3].duration.tuplets == ()


def test_musicxml_marks_a_swing_feel_and_writes_the_eighths_straight() -> None:
    """A blues (swing 0.67 in its style file) says "Shuffle" above bar 1 and its notes stay on
    the straight grid; a straight style (pop) gets no feel mark."""
    from music21 import converter, expressions

    def read(style: str):
        song = api.compose({"style": style, "form": "A", "sections": {"A": {"bars": 4}},
                            "seed": 5, **FAST})  # fmt: skip
        return converter.parseData(render_musicxml(song.plan, song.notes).decode())

    blues = read("blues")
    marks = [t.content for t in blues.recurse().getElementsByClass(expressions.TextExpression)]
    assert marks == ["Shuffle"]
    offsets = {Fraction(n.offset).limit_denominator(24) % Fraction(1, 2)
               for n in blues.parts[0].recurse().notes}  # fmt: skip
    # eighths and sixteenths (and a slide's 32nd grace), no swung triplet 1/3 or 2/3
    assert offsets <= {Fraction(k, 8) for k in range(4)}
    pop = read("pop")
    assert not list(pop.recurse().getElementsByClass(expressions.TextExpression))


def test_plan_picture_has_a_drum_lane_when_the_song_has_drums() -> None:
    """The plan picture draws every track: pitched parts in the piano roll, the drums in a lane
    of their own below it (kick, snare, toms, hats, cymbals), so the picture is taller."""
    import matplotlib.image as mpimg

    from composer.render.planpic import render_plan_picture

    def height(prompt: str) -> int:
        spec = {"prompt": prompt, "form": "AB", "sections": {"A": {"bars": 4}, "B": {"bars": 4}},
                "seed": 4, **FAST}  # fmt: skip
        song = api.compose(spec)
        png = render_plan_picture(song.plan, song.notes)
        return int(mpimg.imread(io.BytesIO(png), format="png").shape[0])

    assert height("a pop song") > height("a pop song with no drums")
