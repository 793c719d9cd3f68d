"""Chord voicings by kind, each led from the one before by least motion.

``close`` is a close-position chord of up to four notes in the middle register; ``shell`` the
jazz pianist's shell: root with third and seventh (the fifth added at full energy);
``open`` a spread chord (root, fifth, seventh, tenth); ``power`` root, fifth and octave;
``arpeggio`` the spread a pianist's left hand rolls (root, fifth, octave, tenth); ``strum`` a
five-string guitar shape. Every note is a chord tone, so pinned chords are heard as written,
but for one colour tone a pianist adds (issue 14: the comp may add 9ths): the 9th of a major,
minor or dominant chord that has none of its own, rolled into every ``arpeggio`` (the ballad's
add9 sound) and on top of a full-energy ``shell`` of a seventh chord (3-7-9).
"""

from __future__ import annotations

from grammar.chords import QUALITY_CLASS, Chord

VOICING_RANGE = (52, 74)  # E3..D5: the close voicings, under the melody, above the bass
MAX_VOICES = 4
# lowest-note window of each rooted shape (MIDI pitches)
# (each window spans 12 semitones or more, so every root has a place in it)
ROOT_WINDOW = {"open": (43, 54), "power": (40, 51), "arpeggio": (39, 50), "strum": (38, 49)}
SHELL_WINDOW = (43, 54)

Voicing = tuple[int, ...]
NINTH = 14
# classes a natural 9th sits well on (over a diminished or augmented fifth it is not the colour
# the chord asks for); a chord that spells a 2nd/9th of its own (b9, #9, sus2, add9) keeps it
NINTH_CLASSES = ("M", "m", "7")


def ninth(chord: Chord) -> bool:
    """Whether the comp may colour ``chord`` with its natural 9th."""
    own = {i % 12 for i in chord.intervals}
    sharp_ninth = 3 in own and 4 in own
    return (
        QUALITY_CLASS.get(chord.quality) in NINTH_CLASSES and not own & {1, 2} and not sharp_ninth
    )


def _parts(chord: Chord) -> tuple[int, int | None, int | None]:
    iv = chord.intervals
    return (
        iv[1] if len(iv) > 1 else 7,
        iv[2] if len(iv) > 2 else None,
        iv[3] if len(iv) > 3 else None,
    )


def close_pcs(chord: Chord) -> list[int]:
    """Up to four pitch classes to voice: drop the fifth, then the root, from larger chords."""
    pcs = list(dict.fromkeys((chord.root + i) % 12 for i in chord.intervals))
    fifth = (chord.root + 7) % 12
    for drop in (fifth, chord.root):
        if len(pcs) > MAX_VOICES and drop in pcs:
            pcs.remove(drop)
    return pcs[:MAX_VOICES]


def _close_options(chord: Chord) -> list[Voicing]:
    pcs = close_pcs(chord)
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
    return options or [tuple(sorted(low + ((pc - low) % 12) for pc in pcs))]


def _shape(kind: str, chord: Chord, full: bool) -> list[tuple[int, ...]]:
    """Interval shapes above the root for a kind (several for shells: both inversions)."""
    third, fifth, seventh = _parts(chord)
    f = fifth if fifth is not None else 7
    if kind == "shell":  # root with third and seventh (a triad: its fifth), both ways up
        top = seventh if seventh is not None else f
        if full and seventh is not None and ninth(chord):  # 3-7-9 on the root, and 7-9-3
            return [(0, third, seventh, NINTH), (0, seventh, NINTH, third + 12)]
        if full:  # the fifth (a triad: the octave) fills it out
            mid = f if seventh is not None else 12
            return [
                (0, third, mid, top) if top > mid else (0, third, top, mid),
                (0, top, third + 12),
            ]
        return [(0, third, top), (0, top, third + 12)]
    if kind == "open":
        return [(0, f, seventh, third + 12) if seventh is not None else (0, f, third + 12)]
    if kind == "power":
        return [(0, f, 12)]
    if kind == "arpeggio":  # root, fifth, 9th (or octave), tenth
        return [(0, f, NINTH if ninth(chord) else 12, third + 12)]
    # strum: a guitar's five strings
    return [(0, f, seventh if seventh is not None else 12, third + 12, f + 12)]


def voice(kind: str, chord: Chord, prev: Voicing | None, full: bool = False) -> Voicing:
    """The voicing of ``chord`` of a kind nearest the previous one (least total motion)."""
    if kind == "close":
        options = _close_options(chord)
    else:
        lo, hi = SHELL_WINDOW if kind == "shell" else ROOT_WINDOW[kind]
        options = []
        for shape in _shape(kind, chord, full):
            for base in range(lo - 12, hi + 1):
                if base % 12 != chord.root:
                    continue
                v = tuple(base + i for i in shape)
                if lo <= v[0] <= hi:
                    options.append(v)
    ref = prev or (60,) * len(options[0])
    return min(options, key=lambda v: _motion(v, ref))


def _motion(v: Voicing, ref: Voicing) -> float:
    centre = abs(sum(v) / len(v) - sum(ref) / len(ref))
    pairs = sum(min(abs(a - b) for b in ref) for a in v)
    return pairs + 0.5 * centre
