"""The vocabulary: miditok's REMI for the notes, plus the conditioning as extra tokens.

A section is one sequence::

    BOS Mode_minor Meter_3/4 Style_waltz Tempo_medium Energy_mid Role_inner Bars_8 Material_vary
        [SrcStart  Bar_None Position_0 Pitch_67 Duration_1.0.4 ...  SrcEnd]   (varied/repeated)
        Bar_None Chord_0m Chord_7M Chord_0m Phrase_in  Position_0 Pitch_67 Duration_1.0.4 ...
        Bar_None Chord_... Phrase_end ...
    EOS

Notes are REMI tokens (``Position``, ``Pitch``, ``Duration``; 16th-note grid, 4 positions per
quarter) from a miditok ``REMI`` tokenizer; everything else was added to its vocabulary with
``add_to_vocab``. miditok's own chord detection is off: the chords are the plan's, one token
per felt beat after each ``Bar_None``, so the model sees the harmony of a bar before it writes
it, then the bar's place in its phrase (``Phrase_in``, ``Phrase_end`` at a phrase's last bar,
``Phrase_final`` at the section's close). ``Style_*``, ``Tempo_*`` and ``Energy_*`` say what
kind of tune it is (:data:`STYLES`, the labels of :mod:`composer.training.melody_labels`;
``Style_none`` is the neutral token a style the corpus has no example of is composed with).
Pitches are key-relative: a piece is transposed so its tonic is C (``Mode_*`` says major or
minor); the generator transposes back to the section's key and register.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from grammar.chords import CLASS_INTERVALS, QUALITY_CLASS
from grammar.meter import TimeSignature, parse_time_signature

RES = 4  # positions per quarter note: a 16th-note grid (triplets are rounded to it)
TICKS_PER_POS = 480 // RES
PITCH_RANGE = (36, 97)  # key-relative pitches, C2..C7: folk tunes and sopranos fit with room
MAX_BARS = 32
ROLES = ("open", "inner", "close")  # the corpus has no verse/chorus: a section's place instead
MATERIALS = ("new", "vary", "repeat")
# Styles the corpus has examples of (composer.training.melody_labels), and the neutral token.
STYLES = ("hymn", "folk", "jig", "reel", "waltz", "march", "none")
TEMPOS = ("slow", "medium", "fast")
ENERGIES = ("low", "mid", "high")  # melody onsets per felt beat: < 1, 1-2, >= 2
PHRASES = ("in", "end", "final")  # a bar inside a phrase, a phrase's last bar, the section's last
VOCAB_VERSION = 2  # 1: no style, tempo, energy or phrase tokens (checkpoints before issue 15)
METERS = (
    "2/2", "3/2", "4/2",
    "1/4", "2/4", "3/4", "4/4", "5/4", "6/4",
    "3/8", "5/8", "6/8", "7/8", "9/8", "12/8",
)  # fmt: skip
QUALITY_CLASSES = ("M", "m", "o", "+", "7")
CHORDS = (*tuple(f"{r}{q}" for r in range(12) for q in QUALITY_CLASSES), "N")

# Token kinds, as small integers for the grammar's lookup tables. PHRASE tokens are given like
# the chords: the grammar forces one after a bar's chord tokens.
OTHER, BAR, POSITION, PITCH, DURATION, CHORD, EOS, PAD, SRC_END, PHRASE = range(10)


def _remi() -> Any:
    from miditok import REMI, TokenizerConfig

    cfg = TokenizerConfig(
        pitch_range=PITCH_RANGE,
        beat_res={(0, 6): RES},  # durations and positions up to a 6-quarter bar (12/8, 3/2)
        use_velocities=False,  # the generator sets dynamics; the corpus has none worth learning
        use_time_signatures=True,  # positions cover bars up to 6 quarters; TimeSig tokens unused
        time_signature_range={8: [3, 6, 9, 12], 4: [1, 2, 3, 4, 5, 6], 2: [1, 2, 3]},
        special_tokens=["PAD", "BOS", "EOS"],
    )
    return REMI(cfg)


@dataclass(frozen=True)
class Section:
    """What one sequence encodes: the conditioning and the melody (key-relative, 16ths)."""

    mode: str
    meter: str
    role: str
    bars: int
    chords: tuple[tuple[str, ...], ...]  # per bar, per felt beat
    notes: tuple[tuple[int, int, int], ...] = ()  # (onset, duration, pitch), 16ths from start
    source: tuple[tuple[int, int, int], ...] | None = None  # the material varied or repeated
    material: str = "new"
    style: str = "none"  # one of STYLES
    tempo: str = "medium"  # one of TEMPOS
    energy: str = "mid"  # one of ENERGIES
    phrases: tuple[str, ...] | None = None  # per bar, one of PHRASES; None: default_phrases

    def phrase_marks(self) -> tuple[str, ...]:
        return default_phrases(self.bars) if self.phrases is None else self.phrases


def default_phrases(bars: int) -> tuple[str, ...]:
    """Four-bar phrases (the corpus's commonest), the section's last bar its close."""
    return tuple("final" if b == bars - 1 else "end" if b % 4 == 3 else "in" for b in range(bars))


def energy_of(onsets_per_beat: float) -> str:
    """The :data:`ENERGIES` band of a melody's density (onsets per felt beat)."""
    return "low" if onsets_per_beat < 1.0 else "high" if onsets_per_beat >= 2.0 else "mid"


def tempo_of(bpm: float) -> str:
    """The :data:`TEMPOS` band of a tempo in felt beats per minute."""
    return "slow" if bpm <= 88 else "fast" if bpm > 108 else "medium"


class Vocab:
    """Token <-> id, and per-id lookup tables (kind, value) for the grammar. ``version`` 1 is
    the vocabulary before the style, tempo, energy and phrase tokens (checkpoints trained before
    them load with it, :meth:`of_checkpoint`, and are composed without those tokens); training
    writes :data:`VOCAB_VERSION`."""

    def __init__(self, version: int = VOCAB_VERSION) -> None:
        if version not in (1, VOCAB_VERSION):
            raise ValueError(f"vocabulary version {version}: this version knows 1 and 2")
        self.version = version
        self.remi = _remi()
        for tok in self.added_tokens(version):
            self.remi.add_to_vocab(tok)
        self.ids: dict[str, int] = dict(self.remi.vocab)
        self.tokens: list[str] = [""] * len(self.ids)
        for t, i in self.ids.items():
            self.tokens[i] = t

    @classmethod
    def of_checkpoint(cls, folder: Path) -> Vocab:
        """The vocabulary ``folder``'s ``vocab.json`` was trained with (version 1 or 2);
        ValueError if it is neither."""
        saved = json.loads((folder / "vocab.json").read_text())
        vocab = cls(VOCAB_VERSION if "Style_none" in saved else 1)
        vocab.check(folder)
        return vocab

    @staticmethod
    def added_tokens(version: int = VOCAB_VERSION) -> list[str]:
        conditioning = (
            [f"Style_{s}" for s in STYLES]
            + [f"Tempo_{t}" for t in TEMPOS]
            + [f"Energy_{e}" for e in ENERGIES]
            + [f"Phrase_{p}" for p in PHRASES]
        )
        return (
            ["Mode_major", "Mode_minor"]
            + [f"Meter_{m}" for m in METERS]
            + [f"Role_{r}" for r in ROLES]
            + [f"Bars_{n}" for n in range(1, MAX_BARS + 1)]
            + [f"Material_{m}" for m in MATERIALS]
            + ["SrcStart", "SrcEnd"]
            + [f"Chord_{c}" for c in CHORDS]
            + (conditioning if version >= 2 else [])
        )

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, token: str) -> int:
        return self.ids[token]

    @cached_property
    def kind(self) -> np.ndarray:
        """Kind of every id (:data:`BAR`, :data:`POSITION`, ...)."""
        out = np.full(len(self), OTHER, dtype=np.int64)
        prefix = {"Bar": BAR, "Position": POSITION, "Pitch": PITCH, "Duration": DURATION,
                  "Chord": CHORD, "EOS": EOS, "PAD": PAD, "SrcEnd": SRC_END,
                  "Phrase": PHRASE}  # fmt: skip
        for i, t in enumerate(self.tokens):
            out[i] = prefix.get(t.split("_")[0], OTHER)
        return out

    @cached_property
    def value(self) -> np.ndarray:
        """Position index, MIDI pitch or duration in 16ths of every id (-1 for other kinds)."""
        out = np.full(len(self), -1, dtype=np.int64)
        for i, t in enumerate(self.tokens):
            head, _, v = t.partition("_")
            if head in ("Position", "Pitch"):
                out[i] = int(v)
            elif head == "Duration":
                beats, pos, res = (int(x) for x in v.split("."))
                out[i] = beats * RES + pos * RES // res
        return out

    def ids_of(self, kind: int) -> np.ndarray:
        return np.flatnonzero(self.kind == kind)

    def duration_token(self, sixteenths: int) -> int:
        """The Duration token nearest to (not above) ``sixteenths`` (>= the shortest)."""
        ids = self.ids_of(DURATION)
        vals = self.value[ids]
        ok = ids[vals <= max(sixteenths, int(vals.min()))]
        return int(ok[np.argmax(self.value[ok])])

    def chord_id(self, chord: str) -> int:
        return self.ids[f"Chord_{chord}"]

    # --- encoding --------------------------------------------------------------------------

    def prefix(self, s: Section) -> list[int]:
        """Everything before the first bar: the conditioning (and the source's melody)."""
        ids = self.ids
        out = [ids["BOS_None"], ids[f"Mode_{s.mode}"], ids[f"Meter_{s.meter}"]]
        if self.version >= 2:
            out += [ids[f"Style_{s.style}"], ids[f"Tempo_{s.tempo}"], ids[f"Energy_{s.energy}"]]
        out.append(ids[f"Role_{s.role}"])
        out += [ids[f"Bars_{min(s.bars, MAX_BARS)}"], ids[f"Material_{s.material}"]]
        if s.source is not None:
            out.append(ids["SrcStart"])
            out += self.melody(s.source, s.meter, s.bars, chords=None, phrases=None)
            out.append(ids["SrcEnd"])
        return out

    def melody(
        self,
        notes: tuple[tuple[int, int, int], ...],
        meter: str,
        bars: int,
        chords: tuple[tuple[str, ...], ...] | None,
        phrases: tuple[str, ...] | None,
    ) -> list[int]:
        """Bars of REMI tokens; with ``chords``, each Bar_None is followed by its chord tokens
        (and with ``phrases``, by the bar's phrase token)."""
        per_bar = bar_positions(parse_time_signature(meter))
        out: list[int] = []
        by_bar: list[list[tuple[int, int, int]]] = [[] for _ in range(bars)]
        for on, dur, p in notes:
            if 0 <= on < bars * per_bar:
                by_bar[on // per_bar].append((on, dur, p))
        for b in range(bars):
            out.append(self.ids["Bar_None"])
            if chords is not None:
                out += [self.chord_id(c) for c in chords[b]]
            if phrases is not None:
                out.append(self.ids[f"Phrase_{phrases[b]}"])
            for on, dur, p in sorted(by_bar[b]):
                out.append(self.ids[f"Position_{on - b * per_bar}"])
                out.append(self.ids[f"Pitch_{fold(p)}"])
                out.append(self.duration_token(dur))
        return out

    def phrase_tokens(self, s: Section) -> tuple[str, ...] | None:
        """The phrase marks this vocabulary writes after each bar's chords (None: version 1)."""
        return s.phrase_marks() if self.version >= 2 else None

    def encode(self, s: Section) -> list[int]:
        return (
            self.prefix(s)
            + self.melody(s.notes, s.meter, s.bars, s.chords, self.phrase_tokens(s))
            + [self.ids["EOS_None"]]
        )

    def decode_notes(self, ids: list[int], meter: str) -> list[tuple[int, int, int]]:
        """The melody of a generated sequence (after the prefix): (onset, duration, pitch) in
        16ths from the section start. Stops at EOS/PAD; ignores everything but notes."""
        per_bar = bar_positions(parse_time_signature(meter))
        out: list[tuple[int, int, int]] = []
        bar, pos, pitch = -1, 0, -1
        for i in ids:
            k = self.kind[i]
            if k in (EOS, PAD):
                break
            if k == BAR:
                bar += 1
            elif k == POSITION:
                pos = int(self.value[i])
            elif k == PITCH:
                pitch = int(self.value[i])
            elif k == DURATION and pitch >= 0:
                out.append((bar * per_bar + pos, int(self.value[i]), pitch))
                pitch = -1
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocab.json").write_text(json.dumps(self.ids, indent=0, sort_keys=True) + "\n")
        self.remi.save(folder / "tokenizer.json")

    def check(self, folder: Path) -> None:
        """ValueError unless the saved vocabulary is this one (ids must not shift)."""
        saved = json.loads((folder / "vocab.json").read_text())
        if saved == self.ids:
            return
        if "Style_none" not in saved and self.version >= 2:
            raise ValueError(
                f"{folder} was trained with the vocabulary before style, tempo, energy and "
                "phrase tokens (version 1); this version needs version "
                f"{VOCAB_VERSION}: retrain it with `compose train` (or `make model`)"
            )
        raise ValueError(f"{folder / 'vocab.json'} does not match this version's vocabulary")


def bar_positions(ts: TimeSignature) -> int:
    """16th-note positions in one bar."""
    return ts.bar_ticks // TICKS_PER_POS


def fold(pitch: int) -> int:
    """Move a pitch by octaves into the token range."""
    lo, hi = PITCH_RANGE
    while pitch < lo:
        pitch += 12
    while pitch >= hi:
        pitch -= 12
    return pitch


# A chord as the model sees it: root relative to the key's tonic (0-11) and a quality class.
# Five classes carry what a melody needs (which tones are stable); extensions are colour. The
# classes and their intervals are grammar.chords' (QUALITY_CLASS, CLASS_INTERVALS), the one table.
NO_CHORD = "N"

CENTRE = 70  # key-relative pitch the melody's mean is moved nearest to (A#4: a soprano's middle)


def chord_token(root: int, quality: str, tonic: int) -> str:
    """``"7M"``: a major chord on the fifth degree; ``"N"`` for an unknown quality or none."""
    cls = QUALITY_CLASS.get(quality)
    return NO_CHORD if cls is None else f"{(root - tonic) % 12}{cls}"


def chord_pcs(token: str) -> frozenset[int]:
    """Pitch classes (relative to the tonic) of a chord token; empty for ``N``."""
    if token == NO_CHORD:
        return frozenset()
    rel, cls = int(token[:-1]), token[-1]
    return frozenset((rel + i) % 12 for i in CLASS_INTERVALS[cls])
