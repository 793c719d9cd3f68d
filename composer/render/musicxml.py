"""MusicXML: the song as a score MuseScore opens, the melody part a lead sheet.

Every part (melody first, with the chord symbols above it) carries the meter, the key signature
of every section that changes key, and its GM instrument; the melody part has the tempo and a
rehearsal mark at each section. Notes are spelled in their section's key
(:meth:`grammar.keys.Key.spell`: Ab, not G#, in Eb major) and placed on the tick grid; music21
then makes bars, ties across bar lines, rests and tuplet brackets (a triplet is written as
one, not as a 480ths-of-a-quarter approximation). Chord symbols are built from our own parse of
each chord (root, kind, bass: music21's string reader takes ``Db7`` for D7) and display the
suffix as written in the plan (``maj7``, ``m7b5``).
"""

from __future__ import annotations

import itertools
import re
from fractions import Fraction

import numpy as np

from grammar.chords import parse_chord
from grammar.keys import LETTER_PCS, Key, split_note_name
from kernels.notes import TICKS_PER_BEAT
from planners.plan import SectionPlan, SongPlan

GRID_TICKS = TICKS_PER_BEAT // 24  # onsets and ends snap to 1/24 quarter (32nd graces, triplets)

# our chord quality -> (MusicXML kind, extra chord steps as (modification, degree, alter))
KINDS: dict[str, tuple[str, tuple[tuple[str, int, int], ...]]] = {
    "maj": ("major", ()),
    "min": ("minor", ()),
    "dim": ("diminished", ()),
    "aug": ("augmented", ()),
    "sus2": ("suspended-second", ()),
    "sus4": ("suspended-fourth", ()),
    "5": ("power", ()),
    "7": ("dominant-seventh", ()),
    "maj7": ("major-seventh", ()),
    "m7": ("minor-seventh", ()),
    "m7b5": ("half-diminished-seventh", ()),
    "dim7": ("diminished-seventh", ()),
    "mMaj7": ("minor-major-seventh", ()),
    "aug7": ("augmented-seventh", ()),
    "maj7#5": ("augmented-major-seventh", ()),
    "6": ("major-sixth", ()),
    "m6": ("minor-sixth", ()),
    "69": ("major-sixth", (("add", 9, 0),)),
    "m69": ("minor-sixth", (("add", 9, 0),)),
    "add9": ("major", (("add", 9, 0),)),
    "madd9": ("minor", (("add", 9, 0),)),
    "7sus4": ("suspended-fourth-seventh", ()),
    "9sus4": ("suspended-fourth-seventh", (("add", 9, 0),)),
    "9": ("dominant-ninth", ()),
    "maj9": ("major-ninth", ()),
    "m9": ("minor-ninth", ()),
    "11": ("dominant-11th", ()),
    "m11": ("minor-11th", ()),
    "13": ("dominant-13th", ()),
    "maj13": ("major-13th", ()),
    "m13": ("minor-13th", ()),
    "7b9": ("dominant-seventh", (("add", 9, -1),)),
    "7#9": ("dominant-seventh", (("add", 9, 1),)),
    "7#11": ("dominant-seventh", (("add", 11, 1),)),
    "maj7#11": ("major-seventh", (("add", 11, 1),)),
    "7b5": ("seventh-flat-five", ()),
}

_ROOT = re.compile(r"^([A-G](?:##|bb|#|b|♯|♭)?)")


def m21_name(name: str) -> str:
    """Our ASCII note name in music21's spelling: "Eb" -> "E-"."""
    letter, alter = split_note_name(name.replace("♭", "b").replace("♯", "#"))
    return letter + ("#" * alter if alter > 0 else "-" * -alter)


def spelled_pitch(midi: int, key: Key) -> str:
    """The MIDI pitch spelled in ``key``, with its written octave: (68, Eb major) -> "A-4"."""
    letter, alter = split_note_name(key.spell(midi % 12))
    octave = (midi - alter - LETTER_PCS[letter]) // 12 - 1
    return m21_name(letter + ("#" * alter if alter > 0 else "b" * -alter)) + str(octave)


def chord_symbol(symbol: str):  # -> music21.harmony.ChordSymbol
    """A music21 ChordSymbol of one of our symbols, showing its suffix as written."""
    from music21 import harmony, pitch

    chord = parse_chord(symbol)
    root = _ROOT.match(symbol.strip())
    assert root is not None  # parse_chord accepted it
    text = symbol.strip()[root.end() :]
    bass = None
    if "/" in text and chord.bass != chord.root:
        text, bass = text.rsplit("/", 1)
    kind, steps = KINDS[chord.quality]
    cs = harmony.ChordSymbol(
        root=pitch.Pitch(m21_name(root[1])),
        bass=None if bass is None else pitch.Pitch(m21_name(bass)),
        kind=kind,
        kindStr=text,
    )
    for mod, degree, alter in steps:
        cs.addChordStepModification(
            harmony.ChordStepModification(mod, degree, alter), updatePitches=False
        )
    return cs


def _ql(ticks: int) -> Fraction:
    return Fraction(int(ticks), TICKS_PER_BEAT)


def _snap(ticks: np.ndarray) -> np.ndarray:
    return (np.rint(ticks / GRID_TICKS) * GRID_TICKS).astype(np.int64)


def _section_at(plan: SongPlan, tick: int) -> SectionPlan:
    bar = tick // plan.meter().bar_ticks + 1
    for s in plan.sections:
        if s.start_bar <= bar < s.start_bar + s.bars:
            return s
    return plan.sections[-1]


def rehearsal_text(s: SectionPlan) -> str:
    """A (A, A', B) or Verse, Chorus: the section as written in the form."""
    return s.name if len(s.label) <= 2 else s.name[:1].upper() + s.name[1:]


def _tempo_mark(plan: SongPlan):
    from music21 import duration, tempo

    meter = plan.meter()
    if meter.is_compound:  # a jig is read in dotted quarters
        beat = plan.tempo * 2 / 3
        return tempo.MetronomeMark(
            number=round(beat), referent=duration.Duration(1.5), numberSounding=beat
        )
    return tempo.MetronomeMark(number=plan.tempo, referent=duration.Duration(1.0))


def _part(plan: SongPlan, notes: np.ndarray, index: int, lead: bool):  # -> music21 Part
    from music21 import chord, clef, expressions, instrument, key, meter, note, stream

    track = plan.tracks[index]
    part = stream.Part(id=f"P{index + 1}")
    part.partName = track.name
    try:
        inst = instrument.instrumentFromMidiProgram(track.program)
    except Exception:  # an unmapped program: a generic instrument keeps the program number
        inst = instrument.Instrument()
    inst.partName = track.name
    inst.partAbbreviation = track.name[:3] + "."
    inst.midiProgram = track.program
    inst.midiChannel = track.channel
    part.insert(0, inst)
    part.insert(0, meter.TimeSignature(plan.time_signature))
    last = None
    for s in plan.sections:
        k = s.key_obj()
        offset = _ql(plan.section_start_tick(s))
        if k != last:
            part.insert(offset, key.Key(m21_name(k.tonic_name), k.mode))
            last = k
        if lead:
            part.insert(offset, expressions.RehearsalMark(rehearsal_text(s)))
    if lead:
        part.insert(0, _tempo_mark(plan))
    mine = notes[notes["track"] == index]
    on = _snap(mine["onset"])
    end = np.maximum(_snap(mine["onset"] + mine["duration"]), on + GRID_TICKS)
    groups: dict[tuple[int, int], list[int]] = {}
    for t0, t1, p in zip(on.tolist(), end.tolist(), mine["pitch"].tolist(), strict=True):
        groups.setdefault((int(t0), int(t1)), []).append(int(p))
    spans = sorted(groups)
    for t0, t1 in spans:
        k = _section_at(plan, t0).key_obj()
        names = [spelled_pitch(p, k) for p in sorted(set(groups[(t0, t1)]))]
        n = note.Note(names[0]) if len(names) == 1 else chord.Chord(names)
        n.quarterLength = _ql(t1 - t0)
        part.insert(_ql(t0), n)
    polyphonic = any(b[0] < a[1] for a, b in itertools.pairwise(spans))
    if track.role == "bass":
        part.insert(0, clef.BassClef())
    elif track.role != "melody" and mine.size:
        part.insert(0, clef.bestClef(part, recurse=True))
    if polyphonic:  # overlapping chords: one chord per change, tied where a note holds
        part = _chordify(part)
    meter_ = plan.meter()
    beat = _ql(meter_.beat_ticks) if meter_.is_compound else None
    _fill_rests(part, _ql(plan.total_bars * meter_.bar_ticks), beat)
    return part


def _fill_rests(part, end, beat: Fraction | None = None) -> None:
    """Visible rests in every gap, up to the song's end (music21's own are hidden at the
    start of a part, and the last bar would be cut short). ``beat``: in compound meters a rest
    is split at the dotted-quarter beats, so 6/8 shows a dotted-quarter rest, not a half rest
    that crosses the middle of the bar."""
    from music21 import harmony, note

    now = Fraction(0)
    sounding = sorted(
        (n for n in part.getElementsByClass(note.NotRest) if not isinstance(n, harmony.Harmony)),
        key=lambda n: n.offset,
    )
    for n in [*sounding, None]:
        start = end if n is None else Fraction(n.offset)
        while start > now:
            stop = start if beat is None else min(start, (now // beat + 1) * beat)
            part.insert(now, note.Rest(quarterLength=stop - now))
            now = stop
        if n is not None:
            now = max(now, start + Fraction(n.quarterLength))


def _chordify(part):
    from music21 import chord, note, stream

    out = stream.Part(id=part.id)
    out.partName = part.partName
    for el in part.getElementsNotOfClass([note.NotRest]):
        out.insert(el.getOffsetBySite(part), el)
    flat = part.chordify()  # the sounding pitches at every change, tied where they hold
    for c in flat.getElementsByClass(chord.Chord):
        out.insert(c.offset, c)
    return out


def build_score(plan: SongPlan, notes: np.ndarray, lead_sheet: bool = False):
    """The music21 Score of a song (``lead_sheet``: the melody part only)."""
    from music21 import metadata, stream

    score = stream.Score()
    score.metadata = metadata.Metadata(title=plan.title, composer="songc")
    # drums are not written on a staff of pitches (their numbers are instruments)
    pitched = [i for i, t in enumerate(plan.tracks) if t.role != "drums"]
    order = sorted(pitched, key=lambda i: plan.tracks[i].role != "melody")
    if lead_sheet:
        order = order[:1]
    for n, i in enumerate(order):
        part = _part(plan, notes, i, lead=n == 0).makeNotation()
        part.splitAtDurations(recurse=True)  # a 5-eighth note: tied notes a reader can write
        if n == 0:
            _add_chord_symbols(plan, part)
            _add_feel(plan, part)
        score.insert(0, part)
    return score


def feel_text(plan: SongPlan) -> str | None:
    """How a chart says the song's eighths are played: "Swing" or "Shuffle" (hard swing)
    above the first bar when the style swings, None for straight eighths. The notes stay
    written straight, as a musician reads swung eighths."""
    from planners.styles import song_style

    swing = song_style(plan).feel.swing
    if plan.meter().is_compound or swing == 0.5:
        return None
    return "Shuffle" if swing >= 0.67 else "Swing"


def _add_feel(plan: SongPlan, part) -> None:
    from music21 import expressions

    text = feel_text(plan)
    first = part.getElementsByClass("Measure").first()
    if text is not None and first is not None:
        mark = expressions.TextExpression(text)
        mark.placement = "above"
        first.insert(0, mark)


def _add_chord_symbols(plan: SongPlan, part) -> None:
    """The plan's chords above the lead part, put in its bars after music21 has made them:
    before, its accidental logic would take a chord symbol's tones (the Cb of Db7) for notes
    heard in the bar and mark the next C natural."""
    bar_ticks = plan.meter().bar_ticks
    measures = {m.number: m for m in part.getElementsByClass("Measure")}
    for s in plan.sections:
        start = plan.section_start_tick(s)
        for e in s.chords:
            tick = start + e.start_tick
            measure = measures[tick // bar_ticks + 1]
            measure.insert(_ql(tick % bar_ticks), chord_symbol(e.symbol))


def render_musicxml(plan: SongPlan, notes: np.ndarray, lead_sheet: bool = False) -> bytes:
    """The MusicXML bytes of :func:`build_score`."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    exporter = GeneralObjectExporter(build_score(plan, notes, lead_sheet))
    exporter.makeNotation = False  # build_score made the bars, ties, beams and accidentals
    return exporter.parse()
