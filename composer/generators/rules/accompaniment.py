"""Chords and bass under a melody: voicings led smoothly, patterns from the style.

Every note written here is a tone of the chord sounding at its onset (the bass plays the slash
bass when there is one), so explicit chords are heard as written. :func:`accompany` is what a
section generator calls (``rules`` and ``transformer`` both do, so their tracks match).
"""

from __future__ import annotations

from composer.generators.base import GenerationContext
from composer.generators.rules.timeline import ChordTimeline
from composer.segment import Segment, last_pitch
from grammar.chords import Chord
from grammar.meter import TimeSignature
from kernels.notes import TRACK_BASS, TRACK_CHORDS, track_notes
from planners.plan import SectionPlan
from planners.styles import Pattern, get_style

Note = tuple[int, int, int]  # onset, duration, pitch

VOICING_RANGE = (52, 74)  # E3..D5: under the melody, above the bass
BASS_RANGE = (36, 55)  # C2..G3
MAX_VOICES = 4


def voicing_pcs(chord: Chord) -> list[int]:
    """Up to four pitch classes to voice: drop the fifth, then the root, from larger chords."""
    pcs = list(dict.fromkeys((chord.root + i) % 12 for i in chord.intervals))
    fifth = (chord.root + 7) % 12
    for drop in (fifth, chord.root):
        if len(pcs) > MAX_VOICES and drop in pcs:
            pcs.remove(drop)
    return pcs[:MAX_VOICES]


def voice(chord: Chord, prev: tuple[int, ...] | None) -> tuple[int, ...]:
    """The close-position voicing in range nearest to the previous one (least total motion)."""
    pcs = voicing_pcs(chord)
    low, high = VOICING_RANGE
    options = []
    for rotation in range(len(pcs)):
        order = pcs[rotation:] + pcs[:rotation]
        for base in range(low, low + 12):
            if base % 12 != order[0]:
                continue
            notes = [base]
            for pc in order[1:]:
                notes.append(notes[-1] + ((pc - notes[-1]) % 12 or 12))
            if notes[-1] <= high:
                options.append(tuple(notes))
    if not options:
        return tuple(sorted(low + ((pc - low) % 12) for pc in pcs))
    ref = prev or (60,) * len(pcs)
    return min(options, key=lambda v: _motion(v, ref))


def _motion(v: tuple[int, ...], ref: tuple[int, ...]) -> float:
    centre = abs(sum(v) / len(v) - sum(ref) / len(ref))
    pairs = sum(min(abs(a - b) for b in ref) for a in v)
    return pairs + 0.5 * centre


def pattern_hits(
    pattern: Pattern, meter: TimeSignature, timeline: ChordTimeline, length: int
) -> list[tuple[int, int]]:
    """(onset, duration) of every hit of a per-bar pattern, clipped to bar and chord spans;
    a chord the pattern would skip gets a hit at its start, so every chord sounds."""
    bt, beat = meter.bar_ticks, meter.beat_ticks
    hits: list[tuple[int, int]] = []
    for bar_start in range(0, length, bt):
        for on, dur in pattern:
            t = bar_start + round(on * beat)
            if t >= bar_start + bt:
                continue
            end = min(t + round(dur * beat), bar_start + bt)
            hits.append((t, end))
    for s, e in zip(timeline.starts, timeline.ends, strict=True):
        if not any(s <= t < e for t, _ in hits):
            nxt = min((t for t, _ in hits if t > s), default=e)
            hits.append((s, min(nxt, e)))
    out = []
    for t, end in sorted(hits):
        i = timeline.index_at(t)
        end = min(end, timeline.ends[i])
        if end > t:
            out.append((t, end - t))
    return out


def write_chords(
    pattern: Pattern,
    meter: TimeSignature,
    timeline: ChordTimeline,
    length: int,
    prev: tuple[int, ...] | None = None,
) -> list[Note]:
    out: list[Note] = []
    voicings: dict[int, tuple[int, ...]] = {}
    for i, chord in enumerate(timeline.chords):
        voicings[i] = prev = voice(chord, prev)
    for t, dur in pattern_hits(pattern, meter, timeline, length):
        out.extend((t, dur, p) for p in voicings[timeline.index_at(t)])
    return out


def write_bass(
    pattern: Pattern,
    meter: TimeSignature,
    timeline: ChordTimeline,
    length: int,
    prev: int | None = None,
) -> list[Note]:
    """The bass: the chord's bass on the first hit of each chord, its fifth on every other hit."""
    low, high = BASS_RANGE
    out: list[Note] = []
    last_chord, k = -1, 0
    for t, dur in pattern_hits(pattern, meter, timeline, length):
        i = timeline.index_at(t)
        chord = timeline.chords[i]
        k = k + 1 if i == last_chord else 0
        last_chord = i
        fifth = (chord.root + chord.intervals[2]) % 12 if len(chord.intervals) > 2 else chord.root
        pc = chord.bass if k % 2 == 0 else fifth
        ref = prev if prev is not None else (low + high) // 2 - 4
        p = min((q for q in range(low, high + 1) if q % 12 == pc), key=lambda q: abs(q - ref))
        out.append((t, dur, p))
        prev = p
    return out


def accompany(section: SectionPlan, context: GenerationContext) -> tuple[list[Note], list[Note]]:
    """(chords, bass) of one section, ticks from its start: the style's comp pattern (its
    second texture for a variation, ``context.variant``) and bass pattern over the section's
    chords, voicing and bass led on from where the section before ended."""
    song = context.song
    meter = song.meter()
    style = get_style(song.style)
    timeline = ChordTimeline.of(section)
    length = section.bars * meter.bar_ticks
    comp = style.comp[min(context.variant, len(style.comp) - 1)]
    chords = write_chords(comp, meter, timeline, length, last_voicing(context.previous))
    bass = write_bass(style.bass, meter, timeline, length, last_pitch(context.previous, TRACK_BASS))
    return chords, bass


def last_voicing(seg: Segment | None) -> tuple[int, ...] | None:
    """The pitches of the last chord in ``seg``, low to high (None without one)."""
    if seg is None:
        return None
    t = track_notes(seg.notes, TRACK_CHORDS)
    if not t.size:
        return None
    last = t["onset"][-1]
    return tuple(int(p) for p in sorted(t["pitch"][t["onset"] == last]))
