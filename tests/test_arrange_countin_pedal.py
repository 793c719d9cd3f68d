"""The drummer's count-in before bar 1 and the bass's pedal points (composer.arrange)."""

from __future__ import annotations

from pathlib import Path

import mido
import numpy as np
import pytest

from composer.app import api
from composer.arrange import section_band
from composer.arrange.bass import pedal_span
from composer.arrange.drums import count_in
from composer.eval.midiread import read_midi
from composer.generators.rules.timeline import ChordTimeline
from composer.search.batch import check
from composer.segment import Segment
from grammar.errors import SpecError
from grammar.meter import parse_time_signature
from kernels.checker import VIOLATIONS
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_DRUMS, TRACK_MELODY, make_notes
from planners.styles import STYLES
from planners.styles.files import DRUM_NOTES, read_style_file
from tests.midiread import raw_notes, read
from tests.test_render import needs_audio

BAR = 1920  # a 4/4 bar


def _song(**spec):
    return api.compose({"seed": 3, "candidates": 2, "generator": "rules", **spec})


def _raw(song, tmp_path: Path, name: str = "s.mid") -> mido.MidiFile:
    p = tmp_path / name
    p.write_bytes(song.midi)
    return mido.MidiFile(str(p))


def _notes(mf: mido.MidiFile) -> dict[str, list[tuple[int, int, int, int]]]:
    """(onset, duration, pitch, velocity) per track name, raw ticks from the file's start."""
    return {name: sorted(n[:4] for n in notes) for name, notes in raw_notes(mf).items()}


def _markers(mf: mido.MidiFile) -> list[tuple[int, str]]:
    now, out = 0, []
    for m in mf.tracks[0]:
        now += m.time
        if m.type == "marker":
            out.append((now, m.text))
    return out


# --- count-in ------------------------------------------------------------------------------


def test_count_in_is_the_style_files_and_clicks_on_the_beats() -> None:
    four = parse_time_signature("4/4")
    lead, rows = count_in(STYLES["rock"], four)
    assert lead == BAR
    sticks = sorted(r[0] for r in rows if r[2] == DRUM_NOTES["sidestick"])
    assert sticks == [0, 480, 960]  # "one, two, three" and a snare pickup on four
    assert all(r[4] == TRACK_DRUMS for r in rows)
    assert {r[0] for r in rows if r[2] == DRUM_NOTES["snare"]} == {1440, 1680}
    lead, rows = count_in(STYLES["jazz"], four)  # "one ... two ... one two three four"
    assert lead == 2 * BAR
    assert sorted(r[0] for r in rows) == [0, 960, BAR, BAR + 480, BAR + 960, BAR + 1440]
    slow = STYLES["jazz"].slow_tempo  # a ballad tempo: only the last bar, "one two three four"
    lead, rows = count_in(STYLES["jazz"], four, tempo=slow)
    assert lead == BAR and sorted(r[0] for r in rows) == [0, 480, 960, 1440]
    assert count_in(STYLES["jazz"], four, tempo=slow + 1)[0] == 2 * BAR
    for name in ("hymn", "classical", "ballad", "jig", "waltz"):  # they start on bar 1
        assert count_in(STYLES[name], four) == (0, [])
    assert count_in(STYLES["rock"], four, on=False) == (0, [])


def test_count_in_is_a_marked_pre_roll_and_the_song_is_the_same_after_it(
    tmp_path: Path,
) -> None:
    spec = {"style": "rock", "form": "verse chorus", "key": "E minor", "tempo": 120}
    with_ci, without = _song(**spec), _song(**spec, count_in=False)
    a, b = _raw(with_ci, tmp_path, "a.mid"), _raw(without, tmp_path, "b.mid")
    assert _markers(a) == [(0, "count-in"), (BAR, "bar 1")] and _markers(b) == []
    na, nb = _notes(a), _notes(b)
    # before bar 1 only the drummer plays; then every part is the song without the count-in
    assert all(s >= BAR for name in ("Melody", "Chords", "Bass") for s, *_ in na[name])
    assert [n for n in na["Drums"] if n[0] < BAR]
    for name in ("Melody", "Chords", "Bass"):
        assert [(s - BAR, d, p, v) for s, d, p, v in na[name]] == nb[name]
    assert [(s - BAR, d, p, v) for s, d, p, v in na["Drums"] if s >= BAR] == nb["Drums"]
    assert a.length == pytest.approx(b.length + 2.0, abs=1e-6)  # one 4/4 bar at 120 bpm
    # plan, notes, score and report count bars from the song's bar 1
    assert with_ci.report.bars == without.report.bars == with_ci.plan.total_bars
    assert with_ci.report.duration_seconds == without.report.duration_seconds
    assert with_ci.report.feel.count_in_bars == 1 and without.report.feel.count_in_bars == 0
    assert np.array_equal(with_ci.notes, without.notes)
    # the readers start at the marker: the tests' (mido) and ours (compose eval, material)
    ra, rb_ = read(tmp_path / "a.mid"), read(tmp_path / "b.mid")
    assert ra.count_in == BAR and rb_.count_in == 0
    assert ra.notes["Melody"] == rb_.notes["Melody"] and ra.key_signatures == rb_.key_signatures
    assert ra.end_tick == rb_.end_tick
    ma, mb = read_midi(tmp_path / "a.mid"), read_midi(tmp_path / "b.mid")
    keep = ma.notes["track"] != TRACK_DRUMS
    assert np.array_equal(ma.notes[keep], mb.notes[mb.notes["track"] != TRACK_DRUMS])
    assert ma.length_ticks == mb.length_ticks


def test_count_in_is_deterministic_and_absent_without_drums(tmp_path: Path) -> None:
    spec = {"style": "pop", "form": "AB", "key": "C major", "tempo": 100}
    assert _song(**spec).midi == _song(**spec).midi
    hymn = _raw(_song(style="hymn", form="AB"), tmp_path)
    assert _markers(hymn) == []


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("bars", 3, "drums.count_in.bars"),
        ("pattern", {"bongo": "x..."}, "drums.count_in.pattern"),
        ("pattern", {"hat": "x.?."}, "drums.count_in.pattern"),
        ("pattern", {"hat": "x.x.x.x"}, "drums.count_in.pattern.hat"),
        ("loud", True, "drums.count_in.loud"),
    ],
)
def test_a_bad_count_in_field_is_one_line_naming_it(
    tmp_path: Path, field: str, value: object, where: str
) -> None:
    import yaml

    data = yaml.safe_load(Path("planners/styles/data/rock.yaml").read_text())
    data["drums"]["count_in"] = {"pattern": {"hat": "x...x...x...x..."}, field: value}
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError) as err:
        read_style_file(p)
    msg = str(err.value)
    assert where in msg and "\n" not in msg


# --- pedal points --------------------------------------------------------------------------


def _pop():
    return _song(
        style="pop", form="intro verse chorus bridge chorus outro", key="C major", tempo=100
    )


def _bass_by_chord(song, section):
    """(chord pitch classes, bass pitches starting under it) for each chord of ``section``."""
    bt = song.plan.meter().bar_ticks
    start = song.plan.section_start_tick(section)
    bass = song.notes[song.notes["track"] == TRACK_BASS]
    tl = ChordTimeline.of(section)
    out = []
    for k, ch in enumerate(tl.chords):
        a, b = start + tl.starts[k], start + min(tl.ends[k], section.bars * bt)
        out.append(
            (
                ch.pitch_classes,
                [int(p) for p in bass["pitch"][(bass["onset"] >= a) & (bass["onset"] < b)]],
            )
        )
    return out


def test_a_tonic_pedal_holds_under_the_intros_changing_chords() -> None:
    song = _pop()
    intro = song.plan.sections[0]
    assert intro.role == "intro"
    span = pedal_span(STYLES["pop"], intro, song.plan.sections[1], BAR)
    assert span == (0, intro.bars * BAR, 0)  # C: the whole intro
    got = _bass_by_chord(song, intro)
    assert len({frozenset(pcs) for pcs, _ in got}) >= 2  # the chords move ...
    pitches = {p for _, ps in got for p in ps}
    assert len(pitches) == 1 and pitches.pop() % 12 == 0  # ... the bass holds one low C
    assert any(0 not in pcs for pcs, _ in got)  # even under a chord without it


def test_a_dominant_pedal_closes_a_bridge_before_the_return() -> None:
    style = STYLES["ballad"]
    song = _song(style="ballad", form="A A B A", key="F major", tempo=70)
    plan = song.plan
    bridge, ret = plan.sections[2], plan.sections[3]
    span = pedal_span(style, bridge, ret, BAR)
    dominant = (ret.key_obj().tonic + 7) % 12
    assert span is not None  # the last bars, as many of the style's four as the chords allow
    a, b, pc = span
    assert pc == dominant and b == bridge.bars * BAR and BAR <= b - a <= 4 * BAR
    start = plan.section_start_tick(bridge)
    bass = song.notes[song.notes["track"] == TRACK_BASS]
    held = bass[(bass["onset"] >= start + a) & (bass["onset"] < start + b)]
    assert held.size and set((held["pitch"] % 12).tolist()) == {dominant}
    tl = ChordTimeline.of(bridge)
    under = [tl.chords[k] for k in range(len(tl.chords)) if tl.starts[k] >= a]
    assert any(c.bass != dominant for c in under)  # over chords with another bass
    # a pedal never sits under a minor ninth, and no pedal where it would
    flat9 = {"chords": tuple(c.model_copy(update={"symbol": "Db"}) for c in bridge.chords)}
    assert tl.chords  # the bridge has chords
    assert pedal_span(style, bridge.model_copy(update=flat9), ret, BAR) is None  # Db over C
    # written chords keep their own bass on each onset (the pinned-chord check)
    given = bridge.model_copy(update={"chords_given": True})
    assert pedal_span(style, given, ret, BAR) is None
    # styles without pedal points, and sections that are not bridges, intros or outros
    assert pedal_span(STYLES["jazz"], bridge, ret, BAR) is None
    assert pedal_span(style, plan.sections[0], plan.sections[1], BAR) is None


def test_the_checker_does_not_count_a_pedal_as_a_violation() -> None:
    """The intro's band with its tonic pedal (as the candidates' accompaniment plays it),
    checked as a candidate: no bass note out of key, no overlap, no comp note below it, no
    parallel fifths or octaves."""
    song = _pop()
    plan, intro = song.plan, song.plan.sections[0]
    assert intro.role == "intro"
    start = plan.section_start_tick(intro)
    mel = song.notes[
        (song.notes["track"] == TRACK_MELODY)
        & (song.notes["onset"] >= start)
        & (song.notes["onset"] < start + intro.bars * BAR)
    ].copy()
    mel["onset"] -= start
    rows, _, _ = section_band(plan, intro, diatonic=True)
    band = make_notes([r for r in rows if r[4] in (TRACK_CHORDS, TRACK_BASS)])
    assert band[band["track"] == TRACK_BASS].size
    assert len(set(band["pitch"][band["track"] == TRACK_BASS] % 12)) == 1  # the pedal
    seg = Segment(intro.id, np.sort(np.concatenate([mel, band]), order="onset"), "test", 0, {})
    v = check([seg], intro, plan).violations[0]
    names = dict(zip(VIOLATIONS, v.tolist(), strict=True))
    for col in ("out_of_key", "bass_overlap", "parallel_fifths", "parallel_octaves"):
        assert names[col] == 0, (col, names)
    # accomp_crossing's bass half: no comp note starts below the pedal sounding then (its
    # melody half is the comp voiced over a candidate's melody, which under_melody settles)
    bass = band[band["track"] == TRACK_BASS]
    for n in band[band["track"] == TRACK_CHORDS]:
        on = (bass["onset"] <= n["onset"]) & (bass["onset"] + bass["duration"] > n["onset"])
        assert not (bass["pitch"][on] > n["pitch"]).any()


@pytest.mark.slow
@needs_audio
def test_audio_plays_the_count_in_and_the_whole_song(tmp_path: Path) -> None:
    import soundfile as sf

    from composer.render import audio

    song = _song(style="rock", form="AB", key="A minor", tempo=120)
    out = tmp_path / "s.wav"
    song.write([out])
    data, rate = sf.read(str(out), always_2d=True)
    want = 2.0 + song.report.duration_seconds + audio.TAIL_SECONDS  # a 4/4 bar at 120 bpm first
    assert len(data) / rate == pytest.approx(want, abs=0.01)


def test_no_count_in_flag_and_spec_field(tmp_path: Path) -> None:
    import json

    from composer.cli import main

    base = ["--style", "rock", "--form", "A", "--generator", "rules", "--candidates", "1"]
    for flag, bars in (([], 1), (["--no-count-in"], 0)):
        out = tmp_path / f"s{bars}.mid"
        assert main([*base, "--seed", "2", *flag, "-o", str(out), "-q"]) == 0
        report = json.loads(out.with_suffix(".json").read_text())
        assert report["feel"]["count_in_bars"] == bars
        assert report["song"]["plan"]["count_in"] is (bars == 1)
        assert _markers(mido.MidiFile(str(out))) == (
            [(0, "count-in"), (BAR, "bar 1")] if bars else []
        )
    spec = tmp_path / "s.yaml"
    spec.write_text("style: rock\nform: A\ncount_in: maybe\n")
    assert main(["--spec", str(spec), "-o", str(tmp_path / "x.mid"), "-q"]) == 2
    assert not (tmp_path / "x.mid").exists()
