"""The band that plays the style (composer.arrange) and the style files (planners.styles)."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import numpy as np
import pytest

from composer.app import api
from composer.arrange.comp import under_melody
from composer.arrange.energy import section_energies
from composer.arrange.grid import hits
from composer.arrange.perform import swing_tick
from composer.arrange.voicing import voice
from composer.generators.rules.timeline import ChordTimeline
from grammar.chords import parse_chord
from grammar.errors import SpecError
from grammar.meter import parse_time_signature
from kernels.notes import TRACK_BASS, TRACK_CHORDS, TRACK_DRUMS, TRACK_MELODY, make_notes
from planners.styles import STYLES
from planners.styles.files import SCHEMA, read_style_file, schema
from tests.midiread import raw_notes


def _song(**spec):
    return api.compose({"seed": 3, "candidates": 2, "generator": "rules", **spec})


def _midi(song, tmp_path: Path) -> mido.MidiFile:
    p = tmp_path / "s.mid"
    p.write_bytes(song.midi)
    return mido.MidiFile(str(p))


def _track(mf: mido.MidiFile, name: str) -> list[tuple[int, int, int, int]]:
    """(onset, duration, pitch, channel) of a named track, read by mido."""
    return sorted((s, d, p, ch) for s, d, p, _, ch in raw_notes(mf).get(name, []))


# --- style files ---------------------------------------------------------------------------


def test_every_listed_style_ships_and_the_schema_is_current() -> None:
    want = {"classical", "folk", "pop", "jazz", "blues", "waltz", "march", "rock", "bossa"}
    want |= {"funk", "ballad", "swing", "shuffle", "country", "hymn", "jig", "reel"}
    assert want <= set(STYLES)
    assert json.loads(SCHEMA.read_text()) == schema()
    assert STYLES["hymn"].drums is None and STYLES["classical"].drums is None
    assert STYLES["jig"].time_signature == "6/8" and STYLES["reel"].time_signature == "2/4"
    assert STYLES["ballad"].drums is not None and STYLES["ballad"].drums.kit == "brushes"


def test_a_bad_style_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    src = (Path(__file__).parents[1] / "planners/styles/data/pop.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        src.replace('kick: "x.......x.......", sidestick', 'kick: "x..q....x.......", sidestick')
    )
    with pytest.raises(SpecError, match=r"bad\.yaml: drums\.low.*'q'"):
        read_style_file(bad)
    bad.write_text(src.replace("family: pop", "family: polka"))
    with pytest.raises(SpecError, match=r"bad\.yaml: family"):
        read_style_file(bad)
    bad.write_text("x" * 300_000)
    with pytest.raises(SpecError, match="bytes"):
        read_style_file(bad)


def test_a_users_style_file_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = (Path(__file__).parents[1] / "planners/styles/data/rock.yaml").read_text()
    (tmp_path / "mine.yaml").write_text(src.replace("name: rock", "name: mine"))
    monkeypatch.chdir(tmp_path)
    song = _song(style="./mine.yaml", form="AB", sections={"A": {"bars": 4}, "B": {"bars": 4}})
    assert song.plan.style.endswith("mine.yaml")
    assert (song.notes["track"] == TRACK_DRUMS).any()
    with pytest.raises(SpecError, match="style"):
        _song(style="./missing.yaml")


# --- the parts -----------------------------------------------------------------------------


def test_grid_strings_read_holds_and_fit_another_meter() -> None:
    four = parse_time_signature("4/4")
    h = hits("x---..x-|x.......", 0, four)
    assert [(x.onset, x.end, x.char) for x in h] == [(0, 960, "x"), (1440, 1920, "x")]
    assert [x.onset for x in hits("x---..x-|x.......", 1, four)] == [0]
    six = parse_time_signature("6/8")
    h = hits("x.x.x.x.x.x.x.x.", 0, six, written=four)  # a 4/4 groove in a 6/8 song
    assert h and all(x.onset % 240 == 0 for x in h)


def test_energy_follows_role_and_place() -> None:
    plan = api.plan({"form": "intro verse chorus verse chorus bridge chorus outro", "seed": 1})
    e = section_energies(plan.plan if hasattr(plan, "plan") else plan)
    levels = [x.level for x in e]
    assert levels[0] == "low" and levels[-1] == "low"
    assert levels[1] == "mid" and levels[2] == "high" and levels[5] == "bridge"
    assert e[6].energy == 5 and e[2].energy == 4  # the last chorus lifted


def test_colour_tones_only_where_they_belong() -> None:
    """The 9th colours major, minor and dominant chords (a full shell of a seventh chord, every
    arpeggio), never a chord that spells its own 2nd/9th or a diminished or augmented one."""
    assert voice("shell", parse_chord("Dm7"), None, True) in ((50, 53, 60, 64), (50, 60, 64, 65))
    assert voice("shell", parse_chord("Dm7"), None, False) in ((50, 53, 60), (50, 60, 65))
    assert voice("arpeggio", parse_chord("C"), None) == (48, 55, 62, 64)  # C G D E
    for plain in ("C7b9", "C7#9", "Cdim", "Caug", "Cm7b5", "Cadd9", "Csus2"):
        c = parse_chord(plain)
        for kind, full in (("shell", True), ("arpeggio", False)):
            v = voice(kind, c, None, full)
            assert all(p % 12 in c.pitch_classes for p in v), (plain, kind)


def test_voicings_are_chord_tones_and_the_comp_stays_under_the_melody() -> None:
    c = parse_chord("G7")
    for kind in ("close", "shell", "open", "power", "arpeggio", "strum"):
        v = voice(kind, c, None, True)
        colour = {(c.root + 2) % 12} if kind in ("shell", "arpeggio") else set()  # the 9th
        assert all(p % 12 in c.pitch_classes | colour for p in v), kind
        assert {p % 12 for p in v} >= colour, kind
    mel = make_notes([(0, 960, 64, 80, TRACK_MELODY)])
    comp = make_notes([(0, 960, p, 60, TRACK_CHORDS) for p in (55, 60, 64, 67)])
    out = under_melody(comp, mel)
    assert out.size and (out["pitch"] < 64).all()
    assert set(out["pitch"] % 12) <= {7, 0, 4}


def test_swing_puts_the_off_beat_at_two_thirds() -> None:
    t = np.array([0, 240, 480, 720, 960])
    assert swing_tick(t, 480, 2 / 3).tolist() == [0, 320, 480, 800, 960]
    assert swing_tick(t, 480, 0.5).tolist() == t.tolist()


# --- songs, read back with mido ------------------------------------------------------------


def test_drums_on_channel_ten_and_none_in_a_hymn(tmp_path: Path) -> None:
    mf = _midi(_song(style="rock", form="AB"), tmp_path)
    drums = _track(mf, "Drums")
    assert drums and {ch for *_, ch in drums} == {9}
    kick, crash = 36, 49
    assert any(p == kick for _, _, p, _ in drums) and any(p == crash for _, _, p, _ in drums)
    assert not _track(_midi(_song(style="hymn", form="AB"), tmp_path), "Drums")


def test_the_song_ends_on_a_held_chord_tone_over_the_root(tmp_path: Path) -> None:
    song = _song(style="pop", form="AABA", key="G major")
    bar = song.plan.meter().bar_ticks
    total = song.plan.total_bars * bar
    mel = song.notes[song.notes["track"] == TRACK_MELODY]
    last = mel[-1]
    assert int(last["onset"]) % bar == 0 and int(last["onset"] + last["duration"]) == total
    assert int(last["duration"]) >= 2 * 480
    sec = song.plan.sections[-1]
    chord = ChordTimeline.of(sec).at(int(last["onset"]) - song.plan.section_start_tick(sec))
    assert int(last["pitch"]) % 12 in chord.pitch_classes
    bass = song.notes[song.notes["track"] == TRACK_BASS]
    assert (
        int(bass[-1]["pitch"]) % 12 == 7 and int(bass[-1]["onset"] + bass[-1]["duration"]) == total
    )
    mf = _midi(song, tmp_path)
    tempos = [m.tempo for m in mf.tracks[0] if m.type == "set_tempo"]
    assert round(mido.tempo2bpm(tempos[0])) == song.plan.tempo  # the main tempo comes first
    assert len(tempos) > 2 and tempos[-1] > tempos[0]  # then the ritardando slows down


def test_jazz_walks_and_swings(tmp_path: Path) -> None:
    song = _song(style="swing", form="AABA", tempo=160, quantized=True)
    bars = song.plan.total_bars
    bass = _track(_midi(song, tmp_path), "Bass")
    assert len(bass) / bars >= 3.5
    mel = _track(_midi(song, tmp_path), "Chords") + _track(_midi(song, tmp_path), "Drums")
    offs = [(s % 480) / 480 for s, *_ in mel if 0.42 <= (s % 480) / 480 <= 0.78]
    assert np.median(offs) >= 0.58


def test_six_eight_lands_on_the_eighths_and_dynamics_move(tmp_path: Path) -> None:
    song = _song(style="jig", form="AABA", quantized=True)
    mf = _midi(song, tmp_path)
    band = _track(mf, "Chords") + _track(mf, "Bass") + _track(mf, "Drums")
    # strums spread their strings by a few ticks; every strike starts on an eighth
    assert all(min(s % 240, 240 - s % 240) <= 40 for s, *_ in band)
    mel = song.notes[song.notes["track"] == TRACK_MELODY]
    assert np.std(mel["velocity"]) >= 6
    bar = song.plan.meter().bar_ticks
    others = song.notes[song.notes["track"] != TRACK_MELODY]
    means = [
        others["velocity"][others["onset"] // bar == b].mean()
        for b in range(song.plan.total_bars)
        if (others["onset"] // bar == b).any()
    ]
    assert max(means) - min(means) >= 10


def test_patterns_change_with_the_section_and_the_song_is_deterministic() -> None:
    spec = {"style": "pop", "form": "verse chorus verse chorus"}
    a, b = _song(**spec), _song(**spec)
    assert a.midi == b.midi
    bar = a.plan.meter().bar_ticks
    band = a.notes[(a.notes["track"] == TRACK_CHORDS) | (a.notes["track"] == TRACK_DRUMS)]
    pats = []
    for k in range(a.plan.total_bars):
        n = band[band["onset"] // bar == k]
        pats.append(
            tuple(
                sorted(
                    {(int(t), int(o) % bar) for o, t in zip(n["onset"], n["track"], strict=False)}
                )
            )
        )
    assert len(set(pats)) >= 3
    verse, chorus = a.plan.sections[0], a.plan.sections[1]
    v = set(pats[: verse.bars - 1])
    c = set(pats[chorus.start_bar - 1 : chorus.start_bar - 1 + chorus.bars - 1])
    assert v != c


def test_the_comp_answers_a_rest_between_the_comp_and_the_melody() -> None:
    from composer.arrange.comp import answer

    g7 = parse_chord("G7").pitch_classes
    rows = answer((0, 960), g7, 59, 74, 240, 60)  # a half-note rest after a D5, comp top B3
    assert [p for _, _, p, _ in rows] == [65, 67, 71]  # F4 G4 B4: rising chord tones
    assert all(59 < p < 74 and p % 12 in g7 for _, _, p, _ in rows)
    assert all(t + d <= 960 for t, d, _, _ in rows)
    assert answer((0, 300), g7, 59, 74, 240, 60) == []  # no room: no answer


def test_every_voicing_kind_voices_every_root() -> None:
    from composer.arrange.voicing import ROOT_WINDOW, SHELL_WINDOW

    assert all(hi - lo >= 11 for lo, hi in [*ROOT_WINDOW.values(), SHELL_WINDOW])
    for root in ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"):
        for sym in (root, root + "m7", root + "7", root + "dim"):
            c = parse_chord(sym)
            for kind in ("close", "shell", "open", "power", "arpeggio", "strum"):
                v = voice(kind, c, (60, 64, 67), kind == "shell")
                assert v and max(v) <= 74, (sym, kind, v)


def test_quantized_plays_on_the_grid_and_humanised_does_not(tmp_path: Path) -> None:
    spec = {"style": "pop", "form": "AB"}
    for quantized, exact in ((True, True), (False, False)):
        mf = _midi(_song(**spec, quantized=quantized), tmp_path)
        notes = [n for name in ("Melody", "Chords", "Bass", "Drums") for n in _track(mf, name)]
        assert all(s % 120 == 0 for s, *_ in notes) is exact


def test_the_briefs_energy_shape_is_the_arrangements() -> None:
    """A prompt's energy shape reshapes the section energies: a build-up never falls and ends
    full, a calm ending ends sparse, a steady song keeps one level; every catalogue shape is
    one the arrangement plays."""
    from composer.app import api
    from composer.arrange.energy import section_energies
    from grammar.brief.lexicon import lexicon
    from planners.brief import ENERGY_SHAPES

    assert set(lexicon().energies) == set(ENERGY_SHAPES)

    def energies(prompt: str) -> list[int]:
        form = "intro verse chorus verse chorus bridge chorus outro"
        plan = api.plan({"prompt": prompt, "form": form, "seed": 1}).plan
        return [e.energy for e in section_energies(plan)]

    plain = energies("a pop song")
    build = energies("a pop song that builds up")
    assert build != plain and build == sorted(build) and build[0] == 1 and build[-1] == 5
    calm = energies("a pop song with a calm ending")
    assert calm[:-1] == plain[:-1] and calm[-1] == 1
    assert len(set(energies("a pop song with the same energy throughout"))) == 1


def test_a_style_files_idiom_is_read_and_a_bad_one_named(tmp_path: Path) -> None:
    assert STYLES["blues"].idiom.blue_notes == [3, 6, 10]
    assert STYLES["hymn"].idiom.max_sixteenths <= 0.08
    assert STYLES["ballad"].idiom.max_dotted_eighths <= 0.05
    assert 360 in STYLES["march"].idiom.ticks()  # the dotted eighth of a march
    src = (Path(__file__).parents[1] / "planners/styles/data/pop.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(src.replace("blue_notes: []", "blue_notes: [13]"))
    with pytest.raises(SpecError, match=r"bad\.yaml: idiom\.blue_notes: 13"):
        read_style_file(bad)
    bad.write_text(src.replace('durations: ["1/16"', 'durations: ["1/0"'))
    with pytest.raises(SpecError, match=r"bad\.yaml: idiom\.durations: '1/0'"):
        read_style_file(bad)
    bad.write_text(src.split("# The melody's idiom")[0] + src.split("modal_colours: []\n")[1])
    assert read_style_file(bad).idiom.blue_notes == []  # a file without it: neutral defaults
