"""The user's own material: a section's melody from their MIDI or MusicXML file.

``sections: {A: {midi: theme.mid, track: 1}}`` (or ``musicxml: theme.musicxml``) makes the
melody of section A the notes of that file's track, quantised and kept note for note:

- reading: MIDI with our own reader (:mod:`composer.eval.midiread`), MusicXML with music21;
  ``track`` counts the tracks (parts) that hold notes, from 1 (default: the first);
- quantising (:func:`quantise`): onsets and ends to the sixteenth note (120 ticks), one note at
  a time (the highest of notes struck together, each cut where the next starts), bar 1 at the
  file's first tick;
- what the file says (:class:`Material`): its time signature, key (its key signature, else
  the Krumhansl-Kessler key of its notes), tempo and length in whole bars.

:func:`apply_materials` (the ``material`` pass) fills what the spec leaves unset from the
material (home key, meter, tempo, the section's bars, key and chords: the chords harmonised
from the melody by the learned harmony model, :func:`planners.learn.harmoniser.harmonise`) and
raises a one-line SpecError naming the field when the spec says otherwise. :func:`fixed_segments`
gives the search the sections it keeps (their first occurrence; repeats and variations are made
of them by the form).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grammar.errors import SpecError, shorten
from grammar.keys import Key, key_from_sharps, parse_key
from grammar.meter import parse_time_signature
from grammar.paths import input_problem
from grammar.spec import SectionSpec, SongSpec
from kernels.notes import NOTE_DTYPE, TICKS_PER_BEAT, TRACK_MELODY, sort_notes
from planners.tonality import correlations

GRID = TICKS_PER_BEAT // 4  # the sixteenth note
MIDI_SUFFIXES = (".mid", ".midi")
MAX_FILE_BYTES = 10_000_000


@dataclass(frozen=True)
class Material:
    """A melody read from a user's file: ``notes`` (track 0, ticks from bar 1, quantised)."""

    field: str  # where the spec names it, for messages: sections.A.midi
    path: Path
    notes: np.ndarray
    time_signature: str | None  # as the file says (None: it says nothing)
    key: Key  # the file's key signature, else the key its notes are heard in
    key_given: bool  # the key came from a key signature
    tempo: int | None  # quarter notes per minute, from the file's first tempo

    def bars(self, time_signature: str) -> int:
        """Whole bars the melody fills in ``time_signature``."""
        bar = parse_time_signature(time_signature).bar_ticks
        end = int((self.notes["onset"] + self.notes["duration"]).max())
        return max(1, -(-end // bar))


def quantise(notes: np.ndarray) -> np.ndarray:
    """One melody line on the sixteenth-note grid (see the module docstring)."""
    if notes.size == 0:
        return notes
    on = np.round(notes["onset"] / GRID).astype(np.int64) * GRID
    end = np.round((notes["onset"] + notes["duration"]) / GRID).astype(np.int64) * GRID
    end = np.maximum(end, on + GRID)
    rows: dict[int, tuple[int, int, int]] = {}
    for o, e, p, v in zip(on, end, notes["pitch"], notes["velocity"], strict=True):
        t = int(o)
        if t not in rows or p > rows[t][1]:
            rows[t] = (int(e), int(p), int(v))
    times = sorted(rows)
    out = np.zeros(len(times), dtype=NOTE_DTYPE)
    for i, t in enumerate(times):
        e, p, v = rows[t]
        if i + 1 < len(times):
            e = min(e, times[i + 1])
        out[i] = (t, e - t, p, min(max(v, 1), 127), TRACK_MELODY)
    return sort_notes(out)


def _heard_key(notes: np.ndarray) -> Key:
    hist = np.zeros(12)
    np.add.at(hist, notes["pitch"] % 12, notes["duration"].astype(float))
    r = correlations(hist)
    mode, tonic = np.unravel_index(int(np.argmax(r)), r.shape)
    name = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"][int(tonic)]
    return parse_key(f"{name} {'major' if mode == 0 else 'minor'}")


def _first_tempo(data: bytes) -> int | None:
    """The first Set Tempo meta event of a MIDI file, in quarter notes per minute (found by its
    bytes, FF 51 03: our reader does not keep tempos, and a tempo only fills an unset one)."""
    at = data.find(b"\xff\x51\x03")
    if at < 0 or at + 6 > len(data):
        return None
    usec = int.from_bytes(data[at + 3 : at + 6], "big")
    return round(60_000_000 / usec) if usec else None


def _read_midi(path: Path, field: str, track: int) -> Material:
    from composer.eval.midiread import read_midi

    shown = shorten(path, 120)
    try:
        data = path.read_bytes()
        mf = read_midi(path)
    except (ValueError, IndexError, struct.error):
        raise SpecError(field, f"'{shown}' is not a MIDI file") from None
    except OSError as exc:
        raise SpecError(field, f"'{shown}': {exc.strerror or exc}") from None
    tracks = sorted({int(t) for t in mf.notes["track"]})
    if not tracks:
        raise SpecError(field, f"'{shown}' has no notes")
    if track > len(tracks):
        raise SpecError(
            field.rsplit(".", 1)[0] + ".track",
            f"'{shown}' has {len(tracks)} track(s) with notes, not {track}",
        )
    notes = mf.notes[mf.notes["track"] == tracks[track - 1]]
    meter = f"{mf.time_signature[0]}/{mf.time_signature[1]}" if b"\xff\x58" in data else None
    key = key_from_sharps(mf.keys[0][1], "minor" if mf.keys[0][2] else "major") if mf.keys else None
    melody = quantise(notes)
    tempo = _first_tempo(data)
    return Material(field, path, melody, meter, key or _heard_key(melody), key is not None, tempo)


def _read_musicxml(path: Path, field: str, track: int) -> Material:
    import music21

    shown = shorten(path, 120)
    try:
        score = music21.converter.parse(str(path), format="musicxml")
    except Exception:  # music21 raises many kinds for a file that is not MusicXML
        raise SpecError(field, f"'{shown}' is not a MusicXML file") from None
    if not isinstance(score, music21.stream.Score):
        raise SpecError(field, f"'{shown}' is not a MusicXML score")
    parts = [p for p in score.parts if p.flatten().notes]
    if not parts:
        raise SpecError(field, f"'{shown}' has no notes")
    if track > len(parts):
        raise SpecError(
            field.rsplit(".", 1)[0] + ".track",
            f"'{shown}' has {len(parts)} part(s) with notes, not {track}",
        )
    flat = parts[track - 1].flatten()
    rows = []
    for n in flat.notes:
        pitches = [n.pitch] if hasattr(n, "pitch") else list(n.pitches)
        on = round(float(n.offset) * TICKS_PER_BEAT)
        dur = max(1, round(float(n.quarterLength) * TICKS_PER_BEAT))
        for p in pitches:
            rows.append((on, dur, p.midi, n.volume.velocity or 80, TRACK_MELODY))
    notes = np.array(rows, dtype=NOTE_DTYPE)
    sigs = flat.getElementsByClass("TimeSignature")
    meter = sigs[0].ratioString if sigs else None
    keys = flat.getElementsByClass("KeySignature")
    key = None
    if keys:
        ks = keys[0]
        mode = getattr(ks, "mode", "major")
        key = key_from_sharps(ks.sharps, "minor" if mode == "minor" else "major")
    marks = flat.getElementsByClass("MetronomeMark")
    tempo = round(marks[0].getQuarterBPM()) if marks and marks[0].getQuarterBPM() else None
    melody = quantise(notes)
    return Material(field, path, melody, meter, key or _heard_key(melody), key is not None, tempo)


def read_material(field: str, path: Path, track: int, kind: str) -> Material:
    """The melody of ``path`` (``kind``: midi or musicxml); SpecError naming ``field``."""
    problem = input_problem(path)
    if problem is not None:
        raise SpecError(field, problem)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise SpecError(field, f"'{shorten(path, 120)}' is larger than {MAX_FILE_BYTES:,} bytes")
    if kind == "midi":
        return _read_midi(path, field, track)
    return _read_musicxml(path, field, track)


def materials(spec: SongSpec) -> dict[str, Material]:
    """The material of every section label the spec gives a file for."""
    out = {}
    for label, s in spec.sections.items():
        kind, value = _source(s)
        if kind is None or value is None:
            continue
        field = f"sections.{label}.{kind}"
        out[label] = read_material(field, Path(value).expanduser(), s.track or 1, kind)
    return out


def _source(s: SectionSpec) -> tuple[str | None, str | None]:
    if s.midi is not None:
        return "midi", s.midi
    if s.musicxml is not None:
        return "musicxml", s.musicxml
    return None, None


def _same_key(a: Key, b: Key) -> bool:
    return a.tonic == b.tonic and a.mode == b.mode


def _harmonised(m: Material, meter: str) -> str:
    """The melody's chords, one per bar, as roman numerals in its key (the learned harmony
    model's folk tunes, Viterbi): what a spec's ``chords:`` would say."""
    from planners.learn.harmoniser import harmonise
    from planners.progression import load_models

    bar = parse_time_signature(meter).bar_ticks
    bars: list[list[tuple[float, float, int]]] = [[] for _ in range(m.bars(meter))]
    for n in m.notes:
        b = int(n["onset"]) // bar
        bars[b].append(
            (
                (int(n["onset"]) - b * bar) / TICKS_PER_BEAT,
                int(n["duration"]) / TICKS_PER_BEAT,
                int(n["pitch"]),
            )
        )
    models = load_models()
    model = models.get("folk", next(iter(models.values())))[m.key.mode]
    return " | ".join(harmonise(bars, m.key, model))


def apply_materials(spec: SongSpec, found: dict[str, Material]) -> SongSpec:
    """``spec`` with what the materials say filled in where unset (see the module docstring);
    SpecError naming the field where a value set disagrees with a file."""
    from planners.styles import get_style

    if not found:
        return spec
    first = next(iter(found.values()))
    update: dict[str, object] = {}
    meter = spec.time_signature
    for m in found.values():
        if m.time_signature is None:
            continue
        if meter is None:
            meter = m.time_signature
            update["time_signature"] = meter
        elif parse_time_signature(meter) != parse_time_signature(m.time_signature):
            raise SpecError(
                "time_signature",
                f"the song is in {meter}, but {m.field} '{shorten(m.path, 80)}' is in "
                f"{m.time_signature}",
            )
    if meter is None:
        meter = get_style(spec.style).time_signature
    if spec.tempo is None and first.tempo is not None and 20 <= first.tempo <= 300:
        update["tempo"] = first.tempo
    if spec.key is None:
        update["key"] = str(first.key)
    elif not _same_key(parse_key(spec.key), first.key) and first.field.split(".")[1] not in {
        label for label, s in spec.sections.items() if s.key is not None
    }:
        raise SpecError(
            "key",
            f"the song is in {spec.key}, but {first.field} '{shorten(first.path, 80)}' is in "
            f"{first.key}; set sections.{first.field.split('.')[1]}.key to play it there",
        )
    sections = dict(spec.sections)
    for label, m in found.items():
        s = sections[label]
        bars = m.bars(meter)
        if s.bars is not None and s.bars != bars:
            raise SpecError(
                f"sections.{label}.bars",
                f"{s.bars} bars, but {m.field} '{shorten(m.path, 80)}' fills {bars} bars of "
                f"{meter}",
            )
        if s.key is not None and not _same_key(parse_key(s.key), m.key):
            raise SpecError(
                f"sections.{label}.key",
                f"{s.key}, but {m.field} '{shorten(m.path, 80)}' is in {m.key}",
            )
        if bars > 128:
            raise SpecError(m.field, f"'{shorten(m.path, 80)}' fills {bars} bars, at most 128")
        sections[label] = s.model_copy(
            update={
                "bars": bars,
                "key": s.key or str(m.key),
                "chords": s.chords or _harmonised(m, meter),
            }
        )
    update["sections"] = sections
    return spec.model_copy(update=update)


def is_fixed(spec: SongSpec, name: str, label: str, relation: str) -> bool:
    """Whether a section's melody is the user's own, kept note for note: the section names
    a file under its own marked name (``A'``), or under its label and is that label's first
    (new) occurrence. Repeats and variations of it are made of it by the form."""
    for key in (name, label):
        s = spec.sections.get(key)
        if s is not None and (s.midi is not None or s.musicxml is not None):
            return key == name and (relation == "new" or name != label)
    return False
