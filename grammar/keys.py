"""Keys: a tonic, a mode, and the spelling that goes with them.

A key is more than a pitch-class set: ``Eb major`` and ``D# major`` sound alike but only one has a
key signature a player can read, and the MIDI key-signature event, chord symbols and reports all
need names spelled *in* the key. So a :class:`Key` keeps its tonic's spelling, and everything
that names notes goes through :meth:`Key.spell`.

Spelling model: every note name is a letter plus an alteration (``+1`` = sharp, ``-1`` = flat).
The circle of fifths gives the signature: ``sharps = fifths(letter) + 7 * alteration`` for a
major key, three fewer for its minor. A key is accepted only when that is within -7..7.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from grammar.errors import GrammarError

Mode = Literal["major", "minor"]

LETTERS = "CDEFGAB"
LETTER_PCS: dict[str, int] = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# Position of each natural letter on the circle of fifths (C = 0, sharps positive).
LETTER_FIFTHS: dict[str, int] = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}
FIFTHS_ORDER = "FCGDAEB"
# A minor key has three fewer sharps than the major key on the same tonic.
MODE_FIFTHS_OFFSET: dict[str, int] = {"major": 0, "minor": -3}
SCALE_STEPS: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),  # natural minor; the raised 6th and 7th live in scale_mask
}
MAX_ACCIDENTALS = 7

# Accidental spellings accepted in text, as an alteration in semitones.
ACCIDENTAL_WORDS: dict[str, int] = {
    "#": 1,
    "♯": 1,
    "sharp": 1,
    "b": -1,
    "♭": -1,
    "flat": -1,
    "x": 2,
    "𝄪": 2,
    "𝄫": -2,
}
# Mode words: matched exactly first (so "M" and "m" differ), then case-insensitively.
MODE_WORDS: dict[str, Mode] = {
    "": "major",
    "M": "major",
    "maj": "major",
    "major": "major",
    "ionian": "major",
    "m": "minor",
    "min": "minor",
    "minor": "minor",
    "aeolian": "minor",
}

# How to spell a chromatic pitch (neither diatonic nor a raised minor 6th/7th) when both
# candidates are equally plain and the key has no accidentals to lean on: by its interval above
# the tonic, +1 = raise the degree below (sharp), -1 = lower the degree above (flat).
# Major: b2 (Neapolitan), b3, #4 (leading tone to V), b6, b7 (modal mixture).
# Minor: b2 (Neapolitan), #3 (Picardy third), #4 (leading tone to V).
CHROMATIC_LEAN: dict[str, dict[int, int]] = {
    "major": {1: -1, 3: -1, 6: 1, 8: -1, 10: -1},
    "minor": {1: -1, 4: 1, 6: 1},
}

_KEY_RE = re.compile(
    r"^(?P<letter>[A-Ga-g])"
    r"(?P<acc>(?:\s*-?\s*(?:sharp|flat)|[#♯b♭x𝄪𝄫])*)"
    r"\s*-?\s*(?P<mode>[A-Za-z]*)$"
)
_ACC_TOKEN_RE = re.compile(r"sharp|flat|[#♯b♭x𝄪𝄫]")


def accidental_text(alter: int) -> str:
    """ASCII accidentals for an alteration: 1 -> "#", -2 -> "bb"."""
    return "#" * alter if alter >= 0 else "b" * -alter


def note_name(letter: str, alter: int) -> str:
    """Letter plus ASCII accidentals: ("E", -1) -> "Eb"."""
    return letter + accidental_text(alter)


def split_note_name(name: str) -> tuple[str, int]:
    """Split an ASCII note name into (letter, alteration): "F#" -> ("F", 1)."""
    letter, rest = name[:1].upper(), name[1:]
    if letter not in LETTER_PCS or (rest.strip("#") and rest.strip("b")):
        raise GrammarError(f"unknown note name '{name}'")
    return letter, len(rest) if rest.startswith("#") else -len(rest)


def note_pc(name: str) -> int:
    """Pitch class of an ASCII note name: "Db" -> 1, "B#" -> 0."""
    letter, alter = split_note_name(name)
    return (LETTER_PCS[letter] + alter) % 12


def spell_above(name: str, semitones: int, steps: int) -> str:
    """The note ``steps`` letters and ``semitones`` above ``name``: ("D", 4, 2) -> "F#".

    Chord tones are spelled this way (third = 2 letters up, fifth = 4, seventh = 6) so that a
    chord's bass is never respelled into the wrong letter.
    """
    letter, _ = split_note_name(name)
    target = LETTERS[(LETTERS.index(letter) + steps) % 7]
    alter = (note_pc(name) + semitones - LETTER_PCS[target] + 6) % 12 - 6
    return note_name(target, alter)


def _alter_between(pc: int, letter: str) -> int:
    """The alteration (-6..5, in practice -2..2) that turns ``letter`` into ``pc``."""
    return (pc - LETTER_PCS[letter] + 6) % 12 - 6


@dataclass(frozen=True)
class Key:
    """A tonic (pitch class and spelling) and a mode. Built by :func:`parse_key` or directly."""

    tonic: int
    mode: Mode
    tonic_name: str

    def __post_init__(self) -> None:
        if self.mode not in SCALE_STEPS:
            raise GrammarError(f"unknown mode '{self.mode}'")
        if note_pc(self.tonic_name) != self.tonic:
            raise GrammarError(f"tonic {self.tonic} is not spelled '{self.tonic_name}'")

    @property
    def scale(self) -> tuple[int, ...]:
        """The seven pitch classes of the scale, degree 1 first (natural minor for minor)."""
        return tuple((self.tonic + step) % 12 for step in SCALE_STEPS[self.mode])

    @property
    def scale_mask(self) -> int:
        """12-bit mask of the scale; minor adds the raised 6th and 7th a melody really uses."""
        pcs = set(self.scale)
        if self.mode == "minor":
            pcs |= {(self.tonic + 9) % 12, (self.tonic + 11) % 12}
        return sum(1 << pc for pc in pcs)

    @property
    def sharps(self) -> int:
        """Key-signature accidentals, flats negative (as the MIDI key-signature event wants)."""
        letter, alter = split_note_name(self.tonic_name)
        return LETTER_FIFTHS[letter] + 7 * alter + MODE_FIFTHS_OFFSET[self.mode]

    def degree_name(self, degree: int) -> str:
        """Spelled name of scale degree 1..7: in Eb major degree 4 -> "Ab"."""
        letter, _ = split_note_name(self.tonic_name)
        target = LETTERS[(LETTERS.index(letter) + self.degree_index(degree)) % 7]
        return note_name(target, _alter_between(self.degree_pc(degree), target))

    def degree_index(self, degree: int) -> int:
        """0-based index of a 1-based degree; rejects anything but 1..7."""
        if not 1 <= degree <= 7:
            raise GrammarError(f"scale degree must be 1..7, got {degree}")
        return degree - 1

    def degree_pc(self, degree: int) -> int:
        """Pitch class of scale degree 1..7 (natural minor in minor keys)."""
        return self.scale[self.degree_index(degree)]

    def spell(self, pc: int) -> str:
        """Name ``pc`` as this key would write it.

        Diatonic notes take the key's letters; in minor the raised 6th and 7th are the natural
        degrees sharpened (G# in A minor). A chromatic note is either the degree below raised or
        the degree above lowered: the plainer name wins (fewer accidentals), then the key's own
        direction (flat keys flats, sharp keys sharps), then :data:`CHROMATIC_LEAN`.
        """
        pc %= 12
        scale = self.scale
        names = [self.degree_name(d) for d in range(1, 8)]
        if pc in scale:
            return names[scale.index(pc)]
        rel = (pc - self.tonic) % 12
        if self.mode == "minor" and rel in (9, 11):
            letter, alter = split_note_name(names[5 if rel == 9 else 6])
            return note_name(letter, alter + 1)
        below = next(i for i, s in enumerate(scale) if (s + 1) % 12 == pc)
        low_letter, low_alter = split_note_name(names[below])
        high_letter, high_alter = split_note_name(names[(below + 1) % 7])
        lean = (self.sharps > 0) - (self.sharps < 0) or CHROMATIC_LEAN[self.mode].get(rel, -1)
        candidates = [(low_letter, low_alter + 1, 1), (high_letter, high_alter - 1, -1)]
        letter, alter, _ = min(candidates, key=lambda c: (abs(c[1]), c[2] != lean))
        return note_name(letter, alter)

    def relative(self) -> Key:
        """Same signature, other mode: Eb major <-> C minor."""
        return key_from_sharps(self.sharps, _other_mode(self.mode))

    def parallel(self) -> Key:
        """Same tonic, other mode (respelled enharmonically if the signature would pass 7)."""
        other = _other_mode(self.mode)
        shift = MODE_FIFTHS_OFFSET[other] - MODE_FIFTHS_OFFSET[self.mode]
        return key_from_sharps(self.sharps + shift, other)

    def dominant(self) -> Key:
        """A fifth up, same mode: F# major -> C# major, C# major -> Ab major."""
        return key_from_sharps(self.sharps + 1, self.mode)

    def subdominant(self) -> Key:
        """A fifth down, same mode: F major -> Bb major."""
        return key_from_sharps(self.sharps - 1, self.mode)

    def __str__(self) -> str:
        return f"{self.tonic_name} {self.mode}"


def _other_mode(mode: Mode) -> Mode:
    return "minor" if mode == "major" else "major"


def key_from_sharps(sharps: int, mode: Mode) -> Key:
    """The key with this signature and mode; a signature past +-7 wraps to its enharmonic."""
    if sharps > MAX_ACCIDENTALS:
        sharps -= 12
    elif sharps < -MAX_ACCIDENTALS:
        sharps += 12
    position = sharps - MODE_FIFTHS_OFFSET[mode] + 1  # +1: FIFTHS_ORDER starts at F
    letter, alter = FIFTHS_ORDER[position % 7], position // 7
    return Key((LETTER_PCS[letter] + alter) % 12, mode, note_name(letter, alter))


def parse_key(text: str) -> Key:
    """Parse "Eb major", "E flat major", "C#m", "f# min", "Bb" (major when no mode is given).

    Keys whose signature would need more than 7 accidentals are rejected, naming the enharmonic
    key a musician would write instead.
    """
    cleaned = " ".join(text.split())
    if not cleaned:
        raise GrammarError("key is empty")
    match = _KEY_RE.match(cleaned)
    if match is None:
        raise GrammarError(f"unknown key '{cleaned}'")
    word = match["mode"]
    mode = MODE_WORDS.get(word) or (MODE_WORDS.get(word.lower()) if len(word) > 1 else None)
    if mode is None:
        raise GrammarError(f"unknown key '{cleaned}'")
    alter = sum(ACCIDENTAL_WORDS[t] for t in _ACC_TOKEN_RE.findall(match["acc"].lower()))
    letter = match["letter"].upper()
    key = Key((LETTER_PCS[letter] + alter) % 12, mode, note_name(letter, alter))
    sharps = key.sharps
    if abs(sharps) > MAX_ACCIDENTALS:
        count = f"{abs(sharps)} {'sharps' if sharps > 0 else 'flats'}"
        hint = key_from_sharps(sharps, mode)
        raise GrammarError(f"unknown key '{cleaned}' ({count}; did you mean '{hint}'?)")
    return key
