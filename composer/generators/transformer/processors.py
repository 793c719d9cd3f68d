"""Grammar-safe decoding: ``LogitsProcessor``s that make every sampled sequence a valid section.

:class:`SectionGrammar` follows each row's tokens (after the prefix) and knows what may come
next; the processors turn that into masks (a new tensor each call: logits are never edited in
place):

- :class:`GrammarProcessor`: the token order of :mod:`composer.generators.transformer.tokens`; the
plan's
  chord tokens forced after every ``Bar_None``; at least one note per bar; positions that never
  go back or overlap the previous note (a monophonic line); notes that end by the barline;
  exactly ``bars`` bars, then ``EOS``, then ``PAD``. Sequences are valid by construction.
- :class:`PitchRangeProcessor`: pitches inside the section's melody range (key-relative).
- :class:`KeyProcessor`: pitch classes in the key's scale or the chord sounding at that beat
  (the kernels' ``out_of_key`` rule).
- :class:`ChordToneProcessor` (optional): chord tones on strong beats.
- :class:`BlueNoteProcessor` (with a plan's ``blue_bias``): the style's blue notes likelier
  where they are idiomatic (a logit bias, not a mask).
- :class:`LeapProcessor`: no leap over an octave (the kernels' ``large_leaps``).
- :class:`FloorProcessor`: the melody above the accompaniment's top note at each position.
- :class:`RhythmProcessor` (with a melody plan): the plan's phrase ends (a long note or a rest
  in a phrase's last bar, longer at the section's close), the style's durations and its budgets
  of 16th notes and dotted eighths, a section's first note within its first beat
  (:class:`RhythmRules`, built from the plan by
  :mod:`composer.generators.transformer.plan_rules`); the plan's tessitura is one more
  :class:`PitchRangeProcessor` inside the song's range.

The pitch processors leave a row alone where they would forbid every pitch, so a mask can narrow
the choice but never make a section impossible. All processors share one tracker and call its
idempotent ``update``, so they work in ``model.generate`` (they follow transformers'
``LogitsProcessor`` contract, ``__call__(input_ids, scores) -> scores``, without importing it).
Each pitch processor is a *rule*: a table of the pitches it allows at every (bar, position) of
the section (or a leap limit), applied by the compiled functions of
:mod:`composer.generators.transformer.jit`. :func:`fuse` turns a list of these processors (plus
temperature and top-p) into one compiled step, which is how our own sampler
(:mod:`composer.generators.transformer.sampling`) runs them. :func:`section_processors` builds
the list of the ``transformer`` generator's settings (ending with transformers' temperature and
top-p warpers, imported there); :func:`section_fused` builds the same step directly, which is
what ``compose`` runs: composing never imports ``transformers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from composer.generators.transformer import jit
from composer.generators.transformer.tokens import DURATION, PITCH, POSITION, Vocab

Rules = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class RhythmRules:
    """The melody plan's rhythm, in 16ths: every bar's phrase mark (``jit.MARK_*``), the long
    note and the rest a phrase end needs per mark (``need[mark] = (long, rest)``), the durations
    the style allows (None: all) and the section's budgets of 16th notes and dotted eighths
    (None: no cap)."""

    marks: tuple[int, ...]
    need: tuple[tuple[int, int], ...]
    durations: frozenset[int] | None = None
    sixteenths: int | None = None
    dotted: int | None = None
    opening: int | None = None  # the latest position (16ths) of the section's first note

    def arrays(self, vocab: Vocab, per_bar: int) -> tuple[np.ndarray, ...]:
        """The rhythm part of :data:`Rules` (see :mod:`composer.generators.transformer.jit`)."""
        return _rhythm_arrays(vocab, per_bar, self)


def _rhythm_arrays(vocab: Vocab, per_bar: int, rr: RhythmRules | None) -> tuple[np.ndarray, ...]:
    kind, value = vocab.kind, vocab.value
    dur_ids = np.flatnonzero(kind == DURATION)
    pos_ids = np.flatnonzero(kind == POSITION)
    end_ids = np.array([vocab["Bar_None"], vocab["EOS_None"]], dtype=np.int64)
    if rr is None:
        marks, need = np.zeros(1, np.int64), np.zeros((3, 2), np.int64)
        dur_ok = np.ones(len(dur_ids), dtype=bool)
        rh = np.array([-1, -1, per_bar, 0, -1], dtype=np.int64)
    else:
        marks = np.array(rr.marks, dtype=np.int64)
        need = np.array(rr.need, dtype=np.int64).reshape(3, 2)
        dur_ok = (
            np.ones(len(dur_ids), dtype=bool)
            if rr.durations is None
            else np.isin(value[dur_ids], sorted(rr.durations))
        )
        caps = [-1 if c is None else int(c) for c in (rr.sixteenths, rr.dotted)]
        opening = -1 if rr.opening is None else int(rr.opening)
        rh = np.array([*caps, per_bar, 1, opening], dtype=np.int64)
    return (dur_ids, value[dur_ids], pos_ids, value[pos_ids], end_ids, marks, need, dur_ok, rh)


class SectionGrammar:
    """Per-row decoding state for a batch of sequences of one section."""

    def __init__(
        self,
        vocab: Vocab,
        rows: int,
        per_bar: int,
        chords: Sequence[Sequence[str]],
        beat_positions: int,
        phrases: Sequence[str] | None = None,
    ) -> None:
        self.vocab = vocab
        self.rows = rows
        self.per_bar = per_bar
        self.bars = len(chords)
        self.beat_positions = beat_positions
        self.chords = [list(bar) for bar in chords]
        self.seen: int | None = None
        self.st = jit.new_state(rows)
        kind, value = vocab.kind, vocab.value
        # the given tokens of every bar: its chords, then (with ``phrases``) its phrase mark
        given = [
            [vocab.chord_id(c) for c in bar]
            + ([] if phrases is None else [vocab[f"Phrase_{phrases[b]}"]])
            for b, bar in enumerate(chords)
        ]
        widest = max(1, max(len(bar) for bar in given))
        chord_ids = np.zeros((self.bars, widest), dtype=np.int64)
        for b, bar in enumerate(given):
            chord_ids[b, : len(bar)] = bar
        # positions from c to the end of the bar, c = 0 .. per_bar
        positions_from = np.stack(
            [(kind == POSITION) & (value >= c) & (value < per_bar) for c in range(per_bar + 1)]
        )
        # durations that fit in r positions, r = 0 .. per_bar
        durations_upto = np.stack(
            [(kind == DURATION) & (value >= 1) & (value <= r) for r in range(per_bar + 1)]
        )
        special = np.array([vocab["Bar_None"], vocab["EOS_None"], vocab["PAD_None"]])
        n_chords = np.array([len(bar) for bar in given], dtype=np.int64)
        self.tables = (kind, value, chord_ids, n_chords, positions_from, durations_upto,
                       kind == PITCH, special)  # fmt: skip
        self.pitch_ids = np.flatnonzero(kind == PITCH)
        self.pitch_values = value[self.pitch_ids]

    # the state, column by column (views)
    @property
    def state(self) -> np.ndarray:
        return self.st[:, jit.ST_STATE]

    @property
    def bar(self) -> np.ndarray:
        return self.st[:, jit.ST_BAR]

    @property
    def pos(self) -> np.ndarray:
        return self.st[:, jit.ST_POS]

    @property
    def last_pitch(self) -> np.ndarray:
        return self.st[:, jit.ST_LAST]

    def update(self, input_ids: torch.Tensor) -> None:
        """Consume the tokens added since the last call (the first call marks the prefix)."""
        n = input_ids.shape[1]
        if self.seen is None:
            self.seen = n
            return
        if n <= self.seen:
            return
        new = np.ascontiguousarray(input_ids[:, self.seen :].cpu().numpy(), dtype=np.int64)
        self.seen = n
        jit.advance_all(self.st, new, self.tables)

    def allowed(self) -> np.ndarray:
        """(rows, vocab) booleans: the tokens each row may take next."""
        out = np.zeros((self.rows, len(self.vocab)), dtype=bool)
        jit.allowed_all(self.st, self.tables, out)
        return out

    def chord_at_cell(self, bar: int, pos: int) -> str:
        """The chord token sounding at position ``pos`` of bar ``bar``."""
        chords = self.chords[max(bar, 0)]
        return chords[min(pos // self.beat_positions, len(chords) - 1)] if chords else "N"


class LogitsProcessor:
    """transformers' ``LogitsProcessor`` contract (a callable on the ids so far and the
    scores, returning new scores), without importing the library at compose time."""

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> Any:
        raise NotImplementedError


def _masked(scores: torch.Tensor, allowed: np.ndarray) -> torch.Tensor:
    mask = torch.from_numpy(allowed).to(scores.device)
    return scores.masked_fill(~mask, float("-inf"))  # a new tensor: masked_fill, not _


class GrammarProcessor(LogitsProcessor):
    def __init__(self, grammar: SectionGrammar) -> None:
        self.grammar = grammar

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> Any:
        self.grammar.update(input_ids)
        return _masked(scores, self.grammar.allowed())


class _PitchProcessor(LogitsProcessor):
    """Base: a rule over the pitches, applied only where a pitch comes next (a mask applies only
    if it leaves at least one pitch that the earlier processors allowed). Subclasses say which
    pitches are allowed at a (bar, position) (``ok_at``) or override :meth:`rule`."""

    mode = jit.RULE_MASK
    param = 0.0

    def __init__(self, grammar: SectionGrammar) -> None:
        self.grammar = grammar
        self.pitch_ids = grammar.pitch_ids
        self.pitch_values = grammar.pitch_values
        self._table: np.ndarray | None = None

    def ok_at(self, bar: int, pos: int) -> np.ndarray:  # over self.pitch_values
        raise NotImplementedError

    def table(self) -> np.ndarray:
        """(bars, per_bar, pitches) booleans: ``ok_at`` of every cell, computed once."""
        if self._table is None:
            g = self.grammar
            self._table = np.array(
                [[self.ok_at(b, p) for p in range(g.per_bar)] for b in range(g.bars)], dtype=bool
            ).reshape(g.bars, g.per_bar, len(self.pitch_values))
        return self._table

    def rule(self) -> tuple[int, float, np.ndarray]:
        return self.mode, self.param, self.table()

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> Any:
        g = self.grammar
        g.update(input_ids)
        out = scores.detach().to("cpu", torch.float32).numpy().copy()
        jit.apply_rules_all(out, g.st, rules_of([self], g))
        return torch.from_numpy(out).to(scores.device)


class PitchRangeProcessor(_PitchProcessor):
    def __init__(self, grammar: SectionGrammar, low: int, high: int) -> None:
        super().__init__(grammar)
        self.ok = (self.pitch_values >= low) & (self.pitch_values <= high)

    def ok_at(self, bar: int, pos: int) -> np.ndarray:
        return self.ok


class KeyProcessor(_PitchProcessor):
    """Scale pitch classes (key-relative, tonic 0) or tones of the chord at that beat."""

    def __init__(self, grammar: SectionGrammar, scale_pcs: frozenset[int]) -> None:
        super().__init__(grammar)
        self.scale = scale_pcs

    def ok_at(self, bar: int, pos: int) -> np.ndarray:
        from composer.generators.transformer.tokens import chord_pcs

        pcs = self.scale | chord_pcs(self.grammar.chord_at_cell(bar, pos))
        return np.isin(self.pitch_values % 12, sorted(pcs))


class ChordToneProcessor(_PitchProcessor):
    """On a strong beat (positions in ``strong``), only tones of the chord sounding there; or,
    with ``bias``, those tones made ``exp(bias)`` times likelier instead of required."""

    def __init__(
        self, grammar: SectionGrammar, strong: frozenset[int], bias: float | None = None
    ) -> None:
        super().__init__(grammar)
        self.strong = strong
        self.bias = bias
        if bias is not None:
            self.mode, self.param = jit.RULE_BIAS, float(bias)

    def ok_at(self, bar: int, pos: int) -> np.ndarray:
        from composer.generators.transformer.tokens import chord_pcs

        pcs = chord_pcs(self.grammar.chord_at_cell(bar, pos)) if pos in self.strong else None
        return np.isin(self.pitch_values % 12, sorted(pcs)) if pcs else self.pitch_values >= 0


class BlueNoteProcessor(_PitchProcessor):
    """The plan's blue notes (key-relative pitch classes, b3/b5/b7 in a blues) made ``exp(bias)``
    times likelier where the idiom sings them: off the ``strong`` positions (a b3 bending up to
    the third, a b7 in passing), or on a strong one where the note is a tone of the chord
    sounding there (the b7 of the tonic's dominant seventh), so the checker's strong-beat rule
    never meets one. A bias, never a mask: the model still chooses."""

    mode = jit.RULE_BIAS

    def __init__(
        self, grammar: SectionGrammar, blue: frozenset[int], strong: frozenset[int], bias: float
    ) -> None:
        super().__init__(grammar)
        self.blue = np.isin(self.pitch_values % 12, sorted(blue))
        self.strong = strong
        self.param = float(bias)

    def ok_at(self, bar: int, pos: int) -> np.ndarray:
        from composer.generators.transformer.tokens import chord_pcs

        if pos not in self.strong:
            return self.blue
        return self.blue & np.isin(
            self.pitch_values % 12, sorted(chord_pcs(self.grammar.chord_at_cell(bar, pos)))
        )


class LeapProcessor(_PitchProcessor):
    """No melodic interval wider than ``max_leap`` semitones from the previous note."""

    mode = jit.RULE_LEAP

    def __init__(self, grammar: SectionGrammar, max_leap: int = 12) -> None:
        super().__init__(grammar)
        self.max_leap = max_leap
        self.param = float(max_leap)

    def table(self) -> np.ndarray:  # the rule reads the previous pitch, not a table
        g = self.grammar
        return np.ones((g.bars, g.per_bar, len(self.pitch_values)), dtype=bool)


class FloorProcessor(_PitchProcessor):
    """At each position, no pitch below ``floor[position from the section start]`` (-1: none):
    the melody stays above the accompaniment's top note (the kernels' ``accomp_crossing``)."""

    def __init__(self, grammar: SectionGrammar, floor: np.ndarray) -> None:
        super().__init__(grammar)
        self.floor = floor

    def ok_at(self, bar: int, pos: int) -> np.ndarray:
        t = bar * self.grammar.per_bar + pos
        if not 0 <= t < len(self.floor) or self.floor[t] < 0:
            return self.pitch_values >= 0
        return self.pitch_values >= self.floor[t]


def rules_of(
    processors: Sequence[_PitchProcessor],
    grammar: SectionGrammar,
    rhythm: RhythmRules | None = None,
) -> Rules:
    """The pitch processors (in order) and the rhythm rules as the arrays
    :mod:`composer.generators.transformer.jit` applies."""
    parts = [p.rule() for p in processors]
    shape = (grammar.bars, grammar.per_bar, len(grammar.pitch_ids))
    tables = np.stack([t for _, _, t in parts]) if parts else np.ones((0, *shape), dtype=bool)
    return (
        np.array([m for m, _, _ in parts], dtype=np.int64),
        np.array([p for _, p, _ in parts], dtype=np.float64),
        np.ascontiguousarray(tables),
        grammar.pitch_ids,
        grammar.pitch_values,
        *_rhythm_arrays(grammar.vocab, grammar.per_bar, rhythm),
    )


class RhythmProcessor(LogitsProcessor):
    """The melody plan's rhythm rules (:class:`RhythmRules`) where a duration, the next note's
    position or a bar's end comes next."""

    def __init__(self, grammar: SectionGrammar, rhythm: RhythmRules) -> None:
        self.grammar = grammar
        self.rhythm = rhythm

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> Any:
        g = self.grammar
        g.update(input_ids)
        out = scores.detach().to("cpu", torch.float32).numpy().copy()
        jit.apply_rules_all(out, g.st, rules_of([], g, self.rhythm))
        return torch.from_numpy(out).to(scores.device)


@dataclass
class Fused:
    """A processor list as one compiled step
    (:func:`composer.generators.transformer.jit.draw_rows`)."""

    grammar: SectionGrammar
    rules: Rules
    temperature: float
    top_p: float

    def draw(
        self, logits: np.ndarray, active: np.ndarray, uniforms: np.ndarray, out: np.ndarray
    ) -> None:
        """The next token of each row of ``active`` (``logits[i]`` and ``uniforms[i]`` are row
        ``active[i]``'s) into ``out[row]``; their grammar advances."""
        jit.draw_rows(logits, active, self.grammar.st, self.grammar.tables, self.rules,
                      self.temperature, self.top_p, uniforms, out)  # fmt: skip


def fuse(processors: Sequence[Any]) -> Fused | None:
    """One compiled step doing what ``processors`` do, or None when it cannot: the list must be
    a :class:`GrammarProcessor`, then pitch processors of the same grammar, then at most one
    :class:`RhythmProcessor` of that grammar, then at most a
    ``TemperatureLogitsWarper`` and a ``TopPLogitsWarper`` (keeping one token at least, removing
    to -inf), in that order. Anything else (a user's own processor) runs step by step."""
    procs = list(processors)
    if not procs or type(procs[0]) is not GrammarProcessor:
        return None
    grammar = procs[0].grammar
    pitch: list[_PitchProcessor] = []
    i = 1
    while i < len(procs) and isinstance(procs[i], _PitchProcessor):
        if (
            procs[i].grammar is not grammar
            or type(procs[i]).__call__ is not _PitchProcessor.__call__
        ):
            return None
        pitch.append(procs[i])
        i += 1
    rhythm = None
    if i < len(procs) and type(procs[i]) is RhythmProcessor:
        if procs[i].grammar is not grammar:
            return None
        rhythm = procs[i].rhythm
        i += 1
    temperature, top_p = 1.0, 1.0
    if i == len(procs):
        return Fused(grammar, rules_of(pitch, grammar, rhythm), temperature, top_p)
    from transformers import TemperatureLogitsWarper, TopPLogitsWarper

    if i < len(procs) and type(procs[i]) is TemperatureLogitsWarper:
        temperature = float(procs[i].temperature)
        i += 1
    if i < len(procs) and type(procs[i]) is TopPLogitsWarper:
        w = procs[i]
        if w.min_tokens_to_keep != 1 or w.filter_value != float("-inf"):
            return None
        top_p = float(w.top_p)
        i += 1
    if i != len(procs):
        return None
    return Fused(grammar, rules_of(pitch, grammar, rhythm), temperature, top_p)


def _section_rules(
    vocab: Vocab,
    rows: int,
    per_bar: int,
    chords: Sequence[Sequence[str]],
    beat_positions: int,
    pitch_range: tuple[int, int],
    scale: frozenset[int],
    max_leap: int,
    floor: np.ndarray | None,
    strong: frozenset[int] | None,
    chord_bias: float | None,
    phrases: Sequence[str] | None = None,
    tessitura: tuple[int, int] | None = None,
    blue: tuple[frozenset[int], float] | None = None,
) -> tuple[SectionGrammar, list[_PitchProcessor]]:
    g = SectionGrammar(vocab, rows, per_bar, chords, beat_positions, phrases)
    pitch: list[_PitchProcessor] = [PitchRangeProcessor(g, *pitch_range)]
    if tessitura is not None:  # the plan's register, inside the song's range
        pitch.append(PitchRangeProcessor(g, *tessitura))
    pitch += [
        KeyProcessor(g, scale),
        LeapProcessor(g, max_leap),
    ]
    if floor is not None:
        pitch.append(FloorProcessor(g, floor))
    if strong is not None:
        bias = None if chord_bias is None or chord_bias == float("inf") else chord_bias
        pitch.append(ChordToneProcessor(g, strong, bias))
    if blue is not None and blue[0] and blue[1] > 0:
        pitch.append(BlueNoteProcessor(g, blue[0], strong or frozenset({0}), blue[1]))
    return g, pitch


def section_processors(
    vocab: Vocab,
    rows: int,
    per_bar: int,
    chords: Sequence[Sequence[str]],
    beat_positions: int,
    *,
    pitch_range: tuple[int, int],
    scale: frozenset[int],
    max_leap: int,
    temperature: float,
    top_p: float,
    floor: np.ndarray | None = None,
    strong: frozenset[int] | None = None,
    chord_bias: float | None = None,
    phrases: Sequence[str] | None = None,
    tessitura: tuple[int, int] | None = None,
    rhythm: RhythmRules | None = None,
    blue: tuple[frozenset[int], float] | None = None,
) -> list[Any]:
    """The processors of one section's sampling, in the order they apply: grammar, range, key,
    leaps, floor (with ``floor``), chord tones on the ``strong`` positions (with ``strong``:
    required if ``chord_bias`` is None or inf, else that logit bias), the plan's rhythm (with
    ``rhythm``; its ``tessitura`` is a range mask after the song's range), the plan's blue
    notes (with ``blue``: their key-relative pitch classes and logit bias), temperature, top-p
    (transformers' warpers: this imports transformers; :func:`section_fused` does not)."""
    from transformers import TemperatureLogitsWarper, TopPLogitsWarper

    g, pitch = _section_rules(vocab, rows, per_bar, chords, beat_positions, pitch_range, scale,
                              max_leap, floor, strong, chord_bias, phrases, tessitura,
                              blue)  # fmt: skip
    rh = [] if rhythm is None else [RhythmProcessor(g, rhythm)]
    return [GrammarProcessor(g), *pitch, *rh, TemperatureLogitsWarper(temperature),
            TopPLogitsWarper(top_p)]  # fmt: skip


def section_fused(
    vocab: Vocab,
    rows: int,
    per_bar: int,
    chords: Sequence[Sequence[str]],
    beat_positions: int,
    *,
    pitch_range: tuple[int, int],
    scale: frozenset[int],
    max_leap: int,
    temperature: float,
    top_p: float,
    floor: np.ndarray | None = None,
    strong: frozenset[int] | None = None,
    chord_bias: float | None = None,
    phrases: Sequence[str] | None = None,
    tessitura: tuple[int, int] | None = None,
    rhythm: RhythmRules | None = None,
    blue: tuple[frozenset[int], float] | None = None,
) -> Fused:
    """``fuse(section_processors(...))`` with the same arguments, built directly."""
    g, pitch = _section_rules(vocab, rows, per_bar, chords, beat_positions, pitch_range, scale,
                              max_leap, floor, strong, chord_bias, phrases, tessitura,
                              blue)  # fmt: skip
    return Fused(g, rules_of(pitch, g, rhythm), float(temperature), float(top_p))
