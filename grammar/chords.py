"""Chord symbols, roman numerals and bar-by-bar progressions.

We parse chord symbols ourselves rather than through music21, whose reader takes "Db7" for a D
seventh; here the suffix grammar is a table (:data:`QUALITIES`, :data:`SUFFIX_ALIASES`) matched
longest-first. Roman numerals are resolved against a :class:`~grammar.keys.Key` into the same
:class:`Chord` value, so everything downstream sees one currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grammar.errors import GrammarError
from grammar.keys import LETTERS, Key, Mode, note_name, note_pc, spell_above, split_note_name

# quality -> (canonical lead-sheet suffix, intervals above the root). Extensions stay above the
# octave (9 -> 14, 11 -> 17, 13 -> 21). "11" leaves out the 3rd, which clashes with the 11th;
# the 13th chords leave out the 11th for the same reason: this is how they are played.
QUALITIES: dict[str, tuple[str, tuple[int, ...]]] = {
    "maj": ("", (0, 4, 7)),
    "min": ("m", (0, 3, 7)),
    "dim": ("dim", (0, 3, 6)),
    "aug": ("aug", (0, 4, 8)),
    "sus2": ("sus2", (0, 2, 7)),
    "sus4": ("sus4", (0, 5, 7)),
    "5": ("5", (0, 7)),
    "7": ("7", (0, 4, 7, 10)),
    "maj7": ("maj7", (0, 4, 7, 11)),
    "m7": ("m7", (0, 3, 7, 10)),
    "m7b5": ("m7b5", (0, 3, 6, 10)),
    "dim7": ("dim7", (0, 3, 6, 9)),
    "mMaj7": ("mMaj7", (0, 3, 7, 11)),
    "aug7": ("7#5", (0, 4, 8, 10)),
    "maj7#5": ("maj7#5", (0, 4, 8, 11)),
    "6": ("6", (0, 4, 7, 9)),
    "m6": ("m6", (0, 3, 7, 9)),
    "69": ("6/9", (0, 4, 7, 9, 14)),
    "m69": ("m6/9", (0, 3, 7, 9, 14)),
    "add9": ("add9", (0, 4, 7, 14)),
    "madd9": ("madd9", (0, 3, 7, 14)),
    "7sus4": ("7sus4", (0, 5, 7, 10)),
    "9sus4": ("9sus4", (0, 5, 7, 10, 14)),
    "9": ("9", (0, 4, 7, 10, 14)),
    "maj9": ("maj9", (0, 4, 7, 11, 14)),
    "m9": ("m9", (0, 3, 7, 10, 14)),
    "11": ("11", (0, 7, 10, 14, 17)),
    "m11": ("m11", (0, 3, 7, 10, 14, 17)),
    "13": ("13", (0, 4, 7, 10, 14, 21)),
    "maj13": ("maj13", (0, 4, 7, 11, 14, 21)),
    "m13": ("m13", (0, 3, 7, 10, 14, 21)),
    "7b9": ("7b9", (0, 4, 7, 10, 13)),
    "7#9": ("7#9", (0, 4, 7, 10, 15)),
    "7#11": ("7#11", (0, 4, 7, 10, 18)),
    "maj7#11": ("maj7#11", (0, 4, 7, 11, 18)),
    "7b5": ("7b5", (0, 4, 6, 10)),
}

# quality -> class: the five kinds of chord a melody needs to tell apart (which tones are stable):
# major (M), minor (m), diminished (o), augmented (+) and dominant (7); extensions are colour.
# The melody model's chord tokens and the chorale labeller's agreement test read this one table.
QUALITY_CLASS: dict[str, str] = {
    "maj": "M", "6": "M", "69": "M", "add9": "M", "maj7": "M", "maj9": "M", "maj13": "M",
    "sus2": "M", "sus4": "M", "5": "M", "maj7#11": "M",
    "min": "m", "m7": "m", "m6": "m", "m69": "m", "madd9": "m", "m9": "m", "m11": "m",
    "m13": "m", "mMaj7": "m",
    "dim": "o", "dim7": "o", "m7b5": "o",
    "aug": "+", "aug7": "+", "maj7#5": "+",
    "7": "7", "9": "7", "11": "7", "13": "7", "7b9": "7", "7#9": "7", "7#11": "7",
    "7b5": "7", "7sus4": "7", "9sus4": "7",
}  # fmt: skip
# class -> the triad (or, for "7", the seventh chord) that stands for it.
CLASS_INTERVALS: dict[str, tuple[int, ...]] = {
    "M": (0, 4, 7), "m": (0, 3, 7), "o": (0, 3, 6), "+": (0, 4, 8), "7": (0, 4, 7, 10),
}  # fmt: skip


def triad_class(quality: str) -> str:
    """M / m / o / +: the triad a quality is built on (a dominant seventh is a major triad)."""
    cls = QUALITY_CLASS[quality]
    return "M" if cls == "7" else cls


# Other spellings of the same suffixes (matched case-sensitively: "M7" is not "m7").
SUFFIX_ALIASES: dict[str, str] = {
    "maj": "maj",
    "M": "maj",
    "min": "min",
    "-": "min",
    "o": "dim",
    "°": "dim",
    "+": "aug",
    "sus": "sus4",
    "M7": "maj7",
    "Maj7": "maj7",
    "ma7": "maj7",
    "Δ": "maj7",
    "Δ7": "maj7",
    "min7": "m7",
    "-7": "m7",
    "ø": "m7b5",
    "ø7": "m7b5",
    "half-dim": "m7b5",
    "min7b5": "m7b5",
    "-7b5": "m7b5",
    "m7(b5)": "m7b5",
    "m7-5": "m7b5",
    "o7": "dim7",
    "°7": "dim7",
    "m(maj7)": "mMaj7",
    "mM7": "mMaj7",
    "m(M7)": "mMaj7",
    "minMaj7": "mMaj7",
    "-Δ7": "mMaj7",
    "aug7": "aug7",
    "+7": "aug7",
    "7+": "aug7",
    "7(#5)": "aug7",
    "min6": "m6",
    "-6": "m6",
    "69": "69",
    "6add9": "69",
    "m69": "m69",
    "add2": "add9",
    "m(add9)": "madd9",
    "7sus": "7sus4",
    "9sus": "9sus4",
    "M9": "maj9",
    "Maj9": "maj9",
    "Δ9": "maj9",
    "min9": "m9",
    "-9": "m9",
    "min11": "m11",
    "-11": "m11",
    "M13": "maj13",
    "Maj13": "maj13",
    "Δ13": "maj13",
    "min13": "m13",
    "-13": "m13",
    "7(b9)": "7b9",
    "7(#9)": "7#9",
    "7(#11)": "7#11",
    "7(b5)": "7b5",
}

# Every accepted suffix -> (quality, intervals), longest first so "m7b5" beats "m7" beats "m".
SUFFIXES: dict[str, tuple[str, tuple[int, ...]]] = dict(
    sorted(
        [(suffix, (q, iv)) for q, (suffix, iv) in QUALITIES.items()]
        + [(alias, (q, QUALITIES[q][1])) for alias, q in SUFFIX_ALIASES.items()],
        key=lambda item: -len(item[0]),
    )
)

_ROOT_RE = re.compile(r"^([A-G](?:##|bb|#|b)?)(.*)$")
_BASS_RE = re.compile(r"^/([A-G](?:##|bb|#|b)?)$")
_UNICODE_ACCIDENTALS = str.maketrans({"♭": "b", "♯": "#"})

MAX_CHORDS_PER_BAR = 8


@dataclass(frozen=True)
class Chord:
    """One chord: root, intervals above it, bass; ``symbol`` is its canonical lead-sheet name."""

    symbol: str
    root: int
    intervals: tuple[int, ...]
    bass: int
    quality: str
    roman: str | None = None

    @property
    def pitch_classes(self) -> frozenset[int]:
        """All chord tones and the bass, as pitch classes."""
        return frozenset((self.root + i) % 12 for i in self.intervals) | {self.bass}

    @property
    def mask(self) -> int:
        """12-bit mask of :attr:`pitch_classes`."""
        return sum(1 << pc for pc in self.pitch_classes)


def make_chord(
    root_name: str, quality: str, bass_name: str | None = None, roman: str | None = None
) -> Chord:
    """Build a chord from spelled names and a quality in :data:`QUALITIES`."""
    suffix, intervals = QUALITIES[quality]
    root = note_pc(root_name)
    bass = root if bass_name is None else note_pc(bass_name)
    slash = f"/{bass_name}" if bass_name is not None and bass != root else ""
    return Chord(root_name + suffix + slash, root, intervals, bass, quality, roman)


def parse_chord(symbol: str) -> Chord:
    """Parse a lead-sheet chord symbol: "Bbmaj7", "F#m7b5", "C7/E", "Db7", "C6/9", "Am/G"."""
    text = symbol.strip().translate(_UNICODE_ACCIDENTALS)
    match = _ROOT_RE.match(text)
    if match is None:
        raise GrammarError(f"unknown chord '{symbol.strip()}'")
    root_name, rest = match[1], match[2]
    for suffix, (quality, _) in SUFFIXES.items():
        if not rest.startswith(suffix):
            continue
        tail = rest[len(suffix) :]
        if not tail:
            return make_chord(root_name, quality)
        bass = _BASS_RE.match(tail)
        if bass is not None:
            return make_chord(root_name, quality, bass[1])
    raise GrammarError(f"unknown chord '{symbol.strip()}'")


# ---------------------------------------------------------------------------------------------
# Roman numerals

ROMAN_DEGREES: dict[str, int] = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7}
DEGREE_ROMANS: dict[int, str] = {d: r for r, d in ROMAN_DEGREES.items()}
# Quality marks after the numeral, normalised.
ROMAN_MARKS: dict[str, str] = {"": "", "o": "o", "°": "o", "ø": "ø", "/o": "ø", "+": "+"}
# Figures by the chord tone in the bass (0 root, 1 third, 2 fifth, 3 seventh).
TRIAD_FIGURES: tuple[str, ...] = ("", "6", "64")
SEVENTH_FIGURES: tuple[str, ...] = ("7", "65", "43", "42")
# figure -> (is a seventh chord, chord-tone index in the bass); "2" is short for "42".
FIGURES: dict[str, tuple[bool, int]] = (
    {f: (False, i) for i, f in enumerate(TRIAD_FIGURES)}
    | {f: (True, i) for i, f in enumerate(SEVENTH_FIGURES)}
    | {"2": (True, 3)}
)
# (upper case?, mark, seventh kind) -> quality. Seventh kind: "" triad, "7", "maj7".
# Upper-case "7" is a dominant seventh (lead-sheet usage); a major seventh is written "maj7".
ROMAN_QUALITIES: dict[tuple[bool, str, str], str] = {
    (True, "", ""): "maj",
    (False, "", ""): "min",
    (False, "o", ""): "dim",
    (True, "o", ""): "dim",
    (True, "+", ""): "aug",
    (True, "", "7"): "7",
    (False, "", "7"): "m7",
    (False, "o", "7"): "dim7",
    (True, "o", "7"): "dim7",
    (False, "ø", "7"): "m7b5",
    (True, "ø", "7"): "m7b5",
    (True, "+", "7"): "aug7",
    (True, "", "maj7"): "maj7",
    (False, "", "maj7"): "mMaj7",
    (True, "+", "maj7"): "maj7#5",
}
# The reverse, for labelling: quality -> (upper case?, mark, seventh kind).
QUALITY_SHAPES: dict[str, tuple[bool, str, str]] = {
    "maj": (True, "", ""),
    "min": (False, "", ""),
    "dim": (False, "o", ""),
    "aug": (True, "+", ""),
    "7": (True, "", "7"),
    "m7": (False, "", "7"),
    "dim7": (False, "o", "7"),
    "m7b5": (False, "ø", "7"),
    "aug7": (True, "+", "7"),
    "maj7": (True, "", "maj7"),
    "mMaj7": (False, "", "maj7"),
    "maj7#5": (True, "+", "maj7"),
}
# Report-only tails for qualities a numeral cannot carry as figures ("I6" means an inversion).
LABEL_SUFFIXES: dict[str, str] = {"6": "(6)", "m6": "(6)", "69": "(6/9)", "m69": "(6/9)"}
PREFIXES: dict[str, int] = {"": 0, "b": -1, "#": 1}
# Secondary functions: chord quality -> (function degree, semitones from its root to the target).
SECONDARY_FUNCTIONS: dict[str, tuple[int, int]] = {
    "maj": (5, 5),
    "7": (5, 5),
    "dim": (7, 1),
    "dim7": (7, 1),
    "m7b5": (7, 1),
}

# A secondary function's target must be a major or minor chord: its triad gives the key's mode.
TONICIZED_MODES: dict[tuple[int, ...], Mode] = {(0, 4, 7): "major", (0, 3, 7): "minor"}

_NUMERAL_RE = re.compile(
    r"^(?P<acc>[b#]?)(?P<numeral>VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)"
    r"(?P<mark>/o|o|°|ø|\+)?(?P<maj>maj|M|Δ)?(?P<fig>65|64|43|42|7|6|2)?$"
)
_SECONDARY_SPLIT_RE = re.compile(r"/(?!o)")


def root_name(chord: Chord) -> str:
    """The spelled root at the head of ``chord.symbol``: "Bbmaj7" -> "Bb"."""
    match = _ROOT_RE.match(chord.symbol)
    return match[1] if match else ""


def _major_on_tonic(key: Key) -> Key:
    return Key(key.tonic, "major", key.tonic_name)


def degree_root(key: Key, accidental: int, degree: int, lower: bool) -> int:
    """Root pitch class of a numeral's degree.

    A "b"/"#" prefix is measured from the major scale on the tonic (bVII, bIII); otherwise the
    key's own scale, except that a lower-case vi or vii in minor takes the raised (melodic /
    harmonic) degree, so vii° in A minor is G# diminished while VII is G major.
    """
    if accidental:
        return (_major_on_tonic(key).degree_pc(degree) + accidental) % 12
    raised = key.mode == "minor" and lower and degree in (6, 7)
    return (key.degree_pc(degree) + raised) % 12


def _spell_root(key: Key, accidental: int, degree: int, root: int) -> str:
    """Spell a numeral's root on its degree's letter when a prefix allows ("bV" -> Gb in C)."""
    if accidental:
        letter, alter = split_note_name(_major_on_tonic(key).degree_name(degree))
        if abs(alter + accidental) <= 1:
            return note_name(letter, alter + accidental)
    return key.spell(root)


def _tonicized(key: Key, target: str) -> Key:
    """The key a secondary function points at: "V/vi" in C -> A minor."""
    chord = parse_roman(target, key)
    mode = TONICIZED_MODES.get(chord.intervals[:3])
    if mode is None:
        raise GrammarError(f"cannot tonicize '{target}': not a major or minor chord")
    return Key(chord.root, mode, root_name(chord))


def parse_roman(numeral: str, key: Key) -> Chord:
    """Parse a roman numeral in ``key``: "ii7", "V65", "bVII", "viio7/ii", "V7/V", "#iv°"."""
    written = numeral.strip()
    text = written.translate(_UNICODE_ACCIDENTALS)
    head, *target = _SECONDARY_SPLIT_RE.split(text, maxsplit=1)
    match = _NUMERAL_RE.match(head)
    if match is None:
        raise GrammarError(f"unknown roman numeral '{written}'")
    if target:
        key = _tonicized(key, target[0])
    upper = match["numeral"].isupper()
    mark = ROMAN_MARKS[match["mark"] or ""]
    seventh, inversion = FIGURES[match["fig"] or ""]
    seventh = seventh or (mark == "ø" and not match["fig"])  # a bare ø is a seventh chord
    kind = ("maj7" if match["maj"] else "7") if seventh else ""
    quality = ROMAN_QUALITIES.get((upper, mark, kind))
    if quality is None or (match["maj"] and not seventh):
        raise GrammarError(f"unknown roman numeral '{written}'")
    degree = ROMAN_DEGREES[match["numeral"].upper()]
    accidental = PREFIXES[match["acc"]]
    root = degree_root(key, accidental, degree, lower=not upper)
    name = _spell_root(key, accidental, degree, root)
    intervals = QUALITIES[quality][1]
    bass = spell_above(name, intervals[inversion], 2 * inversion) if inversion else None
    return make_chord(name, quality, bass, roman=written)


def chord_from_degree(key: Key, degree: int, seventh: bool = False) -> Chord:
    """The diatonic triad or seventh chord on ``degree``, with its standard numeral.

    Minor keys use the harmonic minor (raised 7th) for V and vii, so A minor gives E7 and
    G#dim7, and the natural minor elsewhere.
    """
    index = key.degree_index(degree)
    scale = list(key.scale)
    if key.mode == "minor" and index in (4, 6):
        scale[6] = (scale[6] + 1) % 12
    tones = [scale[(index + 2 * k) % 7] for k in range(4 if seventh else 3)]
    stack = tuple((t - tones[0]) % 12 for t in tones)
    quality = next(q for q in QUALITY_SHAPES if QUALITIES[q][1] == stack)
    upper, mark, kind = QUALITY_SHAPES[quality]
    numeral = DEGREE_ROMANS[degree] if upper else DEGREE_ROMANS[degree].lower()
    return make_chord(key.spell(tones[0]), quality, roman=numeral + mark + kind)


def _label(chord: Chord, degree: int, accidental: int, target: str = "") -> str:
    """A numeral for ``chord`` on ``degree``: case and marks from its quality, figure from bass."""
    shape = QUALITY_SHAPES.get(chord.quality)
    if shape is None:
        upper = 3 not in chord.intervals
        tail = LABEL_SUFFIXES.get(chord.quality, QUALITIES[chord.quality][0])
    else:
        upper, mark, kind = shape
        tones = [(chord.root + i) % 12 for i in chord.intervals]
        position = tones.index(chord.bass) if chord.bass in tones else 0
        figures = SEVENTH_FIGURES if kind else TRIAD_FIGURES
        tail = mark + ("maj" if kind == "maj7" else "") + figures[position]
    numeral = DEGREE_ROMANS[degree] if upper else DEGREE_ROMANS[degree].lower()
    prefix = next(p for p, a in PREFIXES.items() if a == accidental)
    return prefix + numeral + tail + (f"/{target}" if target else "")


def _fits(label: str, chord: Chord, key: Key) -> bool:
    """Whether ``label`` read back in ``key`` is ``chord`` (root, tones, bass if a chord tone)."""
    try:
        back = parse_roman(label, key)
    except GrammarError:
        return False
    tones = frozenset((chord.root + i) % 12 for i in chord.intervals)
    same_bass = back.bass == chord.bass or chord.bass not in tones
    return back.root == chord.root and back.intervals == chord.intervals and same_bass


def _secondary(chord: Chord, key: Key) -> str | None:
    """ "V7/ii"-style label if ``chord`` is a dominant or leading-tone chord of a major or minor
    diatonic chord other than the tonic."""
    if chord.quality not in SECONDARY_FUNCTIONS:
        return None
    function, offset = SECONDARY_FUNCTIONS[chord.quality]
    for degree in range(2, 8):
        target = chord_from_degree(key, degree)
        if target.root != (chord.root + offset) % 12 or target.quality not in ("maj", "min"):
            continue
        label = _label(chord, function, 0, target=str(target.roman))
        if _fits(label, chord, key):
            return label
    return None


def _candidates(chord: Chord, key: Key) -> list[tuple[int, int]]:
    """(degree, accidental) pairs to try: plain degrees, then the prefix the chord's own root
    spelling implies ("Fb" in Eb major -> bII), then the other prefixes, sharps first for a
    sharpened root."""
    plain = [(d, 0) for d in range(1, 8)]
    letter, alter = split_note_name(root_name(chord) or key.spell(chord.root))
    degree = (LETTERS.index(letter) - LETTERS.index(key.tonic_name[0])) % 7 + 1
    spelled = alter - split_note_name(_major_on_tonic(key).degree_name(degree))[1]
    lean = 1 if alter > 0 else -1
    prefixed = [(d, a) for a in (lean, -lean) for d in range(1, 8)]
    return plain + ([(degree, spelled)] if spelled in (-1, 1) else []) + prefixed


def roman_numeral(chord: Chord, key: Key) -> str:
    """Best-effort numeral for reports: "ii7", "V7/V", "bVII", "I6"; ``chord.roman`` if set."""
    if chord.roman is not None:
        return chord.roman
    diatonic = chord.mask & ~key.scale_mask == 0
    secondary = None if diatonic else _secondary(chord, key)
    if secondary is not None:
        return secondary
    upper = QUALITY_SHAPES.get(chord.quality, (3 not in chord.intervals, "", ""))[0]
    fallback: str | None = None
    for degree, accidental in _candidates(chord, key):
        if degree_root(key, accidental, degree, lower=not upper) != chord.root:
            continue
        label = _label(chord, degree, accidental)
        if chord.quality not in QUALITY_SHAPES or _fits(label, chord, key):
            return label
        fallback = fallback or label
    return fallback or chord.symbol


# ---------------------------------------------------------------------------------------------
# Progressions

_ROMAN_TOKEN_RE = re.compile(r"^[b#♭♯]?[IViv]")


def _parse_token(token: str, key: Key) -> Chord:
    """One chord in a bar: a chord symbol (capital A-G first) or a roman numeral."""
    if token[:1] in "ABCDEFG":
        return parse_chord(token)
    if _ROMAN_TOKEN_RE.match(token):
        return parse_roman(token, key)
    raise GrammarError(f"unknown chord '{token}'")


HOLE = "?"


def parse_progression(text: str, key: Key) -> list[list[Chord]]:
    """Parse "| Dm7 G7 | Cmaj7 | % | ii7 V7 | I ||" into one list of chords per bar.

    "|" separates bars ("||" counts as one bar line, so a final double bar is fine); "%" alone
    repeats the previous bar.
    """
    bars = _parse_bars(text, key, holes=False)
    return [[c for c in bar if c is not None] for bar in bars]


def parse_pins(text: str, key: Key) -> list[list[Chord | None]]:
    """Like :func:`parse_progression`, but a "?" stands for a chord the planner chooses (None):
    "I | ? ? | IV | V7" pins three chords and leaves two to the planner."""
    return _parse_bars(text, key, holes=True)


def has_holes(text: str) -> bool:
    return HOLE in text.replace("|", " ").split()


def bar_texts(text: str) -> list[str]:
    """The bars of a progression as written: "|" separates them, a run of "|" is one bar line,
    leading and trailing bar lines are ignored. (Each bar's text, not yet parsed.)"""
    body = re.sub(r"\|{2,}", "|", text.strip())
    if not body.strip("| \t\n"):
        raise GrammarError("no chords")
    return body.removeprefix("|").removesuffix("|").split("|")


def _parse_bars(text: str, key: Key, holes: bool) -> list[list[Chord | None]]:
    bars: list[list[Chord | None]] = []
    for number, bar in enumerate(bar_texts(text), start=1):
        tokens = bar.split()
        if not tokens:
            raise GrammarError(f"bar {number} is empty")
        if "%" in tokens:
            if len(tokens) > 1:
                raise GrammarError(f"bar {number}: '%' must stand alone in its bar")
            if not bars:
                raise GrammarError("bar 1: '%' repeats the previous bar, but there is none")
            bars.append(list(bars[-1]))
            continue
        if len(tokens) > MAX_CHORDS_PER_BAR:
            raise GrammarError(
                f"bar {number} has {len(tokens)} chords, at most {MAX_CHORDS_PER_BAR}"
            )
        try:
            bars.append([None if holes and t == HOLE else _parse_token(t, key) for t in tokens])
        except GrammarError as error:
            raise GrammarError(f"bar {number}: {error}") from None
    return bars
