"""Grammar-safe decoding: ``LogitsProcessor``s that make every sampled sequence a valid section.

:class:`SectionGrammar` follows each row's tokens (after the prefix) and knows what may come
next; the processors turn that into masks (a new tensor each call: logits are never edited in
place):

- :class:`GrammarProcessor`: the token order of :mod:`composer.learned.tokens`; the plan's
  chord tokens forced after every ``Bar_None``; at least one note per bar; positions that never
  go back or overlap the previous note (a monophonic line); notes that end by the barline;
  exactly ``bars`` bars, then ``EOS``, then ``PAD``. Sequences are valid by construction.
- :class:`PitchRangeProcessor`: pitches inside the section's melody range (key-relative).
- :class:`KeyProcessor`: pitch classes in the key's scale or the chord sounding at that beat
  (the kernels' ``out_of_key`` rule).
- :class:`ChordToneProcessor` (optional): chord tones on strong beats.
- :class:`LeapProcessor`: no leap over an octave (the kernels' ``large_leaps``).
- :class:`FloorProcessor`: the melody above the accompaniment's top note at each position.

The pitch processors leave a row alone where they would forbid every pitch, so a mask can
narrow the choice but never make a section impossible. All processors share one tracker and
call its idempotent ``update``, so they work in our sampler and in ``model.generate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from transformers import LogitsProcessor

from composer.learned.tokens import BAR, CHORD, DURATION, EOS, PAD, PITCH, POSITION, Vocab

# What a row expects next.
S_BAR, S_CHORD, S_FIRST, S_PITCH, S_DUR, S_NEXT, S_DONE = range(7)


class SectionGrammar:
    """Per-row decoding state for a batch of sequences of one section."""

    def __init__(
        self,
        vocab: Vocab,
        rows: int,
        per_bar: int,
        chords: Sequence[Sequence[str]],
        beat_positions: int,
    ) -> None:
        self.vocab = vocab
        self.rows = rows
        self.per_bar = per_bar
        self.bars = len(chords)
        self.beat_positions = beat_positions
        self.chord_ids = [[vocab.chord_id(c) for c in bar] for bar in chords]
        self.chords = [list(bar) for bar in chords]
        self.seen: int | None = None
        self.state = np.full(rows, S_BAR)
        self.bar = np.full(rows, -1)
        self.chord_k = np.zeros(rows, dtype=np.int64)
        self.cursor = np.zeros(rows, dtype=np.int64)  # first free position in the bar
        self.pos = np.zeros(rows, dtype=np.int64)  # position of the note being written
        self.pitch = np.full(rows, -1)  # pitch of the note being written
        self.last_pitch = np.full(rows, -1)  # pitch of the previous note
        self._tables()

    def _tables(self) -> None:
        v, V = self.vocab, len(self.vocab)
        kind, value = v.kind, v.value
        self.only = {
            tok: np.arange(V) == tok for tok in (v["Bar_None"], v["EOS_None"], v["PAD_None"])
        }
        self.pitches = kind == PITCH
        # positions from c to the end of the bar, c = 0 .. per_bar
        self.positions_from = np.stack(
            [
                (kind == POSITION) & (value >= c) & (value < self.per_bar)
                for c in range(self.per_bar + 1)
            ]
        )
        # durations that fit in r positions, r = 0 .. per_bar
        self.durations_upto = np.stack(
            [(kind == DURATION) & (value >= 1) & (value <= r) for r in range(self.per_bar + 1)]
        )

    def update(self, input_ids: torch.Tensor) -> None:
        """Consume the tokens added since the last call (the first call marks the prefix)."""
        n = input_ids.shape[1]
        if self.seen is None:
            self.seen = n
            return
        if n <= self.seen:
            return
        new = input_ids[:, self.seen :].cpu().numpy()
        self.seen = n
        for col in range(new.shape[1]):
            for r in range(self.rows):
                self._step(r, int(new[r, col]))

    def _step(self, r: int, tok: int) -> None:
        k = self.vocab.kind[tok]
        if k == BAR:
            self.bar[r] += 1
            self.cursor[r] = 0
            self.chord_k[r] = 0
            self.state[r] = S_CHORD if self.chord_ids[self.bar[r]] else S_FIRST
        elif k == CHORD:
            self.chord_k[r] += 1
            if self.chord_k[r] >= len(self.chord_ids[self.bar[r]]):
                self.state[r] = S_FIRST
        elif k == POSITION:
            self.pos[r] = self.vocab.value[tok]
            self.state[r] = S_PITCH
        elif k == PITCH:
            self.pitch[r] = self.vocab.value[tok]
            self.state[r] = S_DUR
        elif k == DURATION:
            self.cursor[r] = self.pos[r] + self.vocab.value[tok]
            self.last_pitch[r] = self.pitch[r]
            self.state[r] = S_NEXT
        elif k in (EOS, PAD):
            self.state[r] = S_DONE

    def allowed(self) -> np.ndarray:
        """(rows, vocab) booleans: the tokens each row may take next."""
        out = np.zeros((self.rows, len(self.vocab)), dtype=bool)
        v = self.vocab
        for r in range(self.rows):
            s = self.state[r]
            if s == S_BAR:
                out[r] = self.only[v["Bar_None"]]
            elif s == S_CHORD:
                out[r, self.chord_ids[self.bar[r]][self.chord_k[r]]] = True
            elif s == S_FIRST:
                out[r] = self.positions_from[0]
            elif s == S_PITCH:
                out[r] = self.pitches
            elif s == S_DUR:
                out[r] = self.durations_upto[self.per_bar - self.pos[r]]
            elif s == S_NEXT:
                out[r] = self.positions_from[min(self.cursor[r], self.per_bar)]
                last = self.bar[r] >= self.bars - 1
                out[r, v["EOS_None"] if last else v["Bar_None"]] = True
            else:
                out[r] = self.only[v["PAD_None"]]
        return out

    def chord_at(self, r: int) -> str:
        """The chord token at the position of row ``r``'s note being written."""
        bar = self.chords[max(self.bar[r], 0)]
        return bar[min(int(self.pos[r]) // self.beat_positions, len(bar) - 1)] if bar else "N"


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
    """Base: a per-row set of allowed pitches, applied only where a pitch comes next, and only
    if it leaves at least one pitch that the earlier processors allowed."""

    def __init__(self, grammar: SectionGrammar) -> None:
        self.grammar = grammar
        self.pitch_ids = np.flatnonzero(grammar.vocab.kind == PITCH)
        self.pitch_values = grammar.vocab.value[self.pitch_ids]

    def pitch_ok(self, r: int) -> np.ndarray:  # over self.pitch_values
        raise NotImplementedError

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> Any:
        g = self.grammar
        g.update(input_ids)
        rows = np.flatnonzero(g.state == S_PITCH)
        if rows.size == 0:
            return scores
        allowed = np.ones(tuple(scores.shape), dtype=bool)
        finite = torch.isfinite(scores[:, self.pitch_ids]).cpu().numpy()
        for r in rows:
            ok = self.pitch_ok(int(r))
            if (ok & finite[r]).any():
                allowed[r, self.pitch_ids[~ok]] = False
        return _masked(scores, allowed)


class PitchRangeProcessor(_PitchProcessor):
    def __init__(self, grammar: SectionGrammar, low: int, high: int) -> None:
        super().__init__(grammar)
        self.ok = (self.pitch_values >= low) & (self.pitch_values <= high)

    def pitch_ok(self, r: int) -> np.ndarray:
        return self.ok


class KeyProcessor(_PitchProcessor):
    """Scale pitch classes (key-relative, tonic 0) or tones of the chord at that beat."""

    def __init__(self, grammar: SectionGrammar, scale_pcs: frozenset[int]) -> None:
        super().__init__(grammar)
        self.scale = scale_pcs
        self._cache: dict[str, np.ndarray] = {}

    def pitch_ok(self, r: int) -> np.ndarray:
        from composer.learned.data import chord_pcs

        chord = self.grammar.chord_at(r)
        if chord not in self._cache:
            pcs = self.scale | chord_pcs(chord)
            self._cache[chord] = np.isin(self.pitch_values % 12, sorted(pcs))
        return self._cache[chord]


class ChordToneProcessor(_PitchProcessor):
    """On a strong beat (positions in ``strong``), only tones of the chord sounding there; or,
    with ``bias``, those tones made ``exp(bias)`` times likelier instead of required."""

    def __init__(
        self, grammar: SectionGrammar, strong: frozenset[int], bias: float | None = None
    ) -> None:
        super().__init__(grammar)
        self.strong = strong
        self.bias = bias
        self.all = np.ones(len(self.pitch_values), dtype=bool)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> Any:
        if self.bias is None:
            return super().__call__(input_ids, scores)
        g = self.grammar
        g.update(input_ids)
        add = np.zeros(tuple(scores.shape), dtype=np.float32)
        for r in np.flatnonzero(g.state == S_PITCH):
            ok = self.pitch_ok(int(r))
            if not ok.all():
                add[r, self.pitch_ids[ok]] = self.bias
        return scores + torch.from_numpy(add).to(scores.device)  # a new tensor

    def pitch_ok(self, r: int) -> np.ndarray:
        from composer.learned.data import chord_pcs

        if int(self.grammar.pos[r]) not in self.strong:
            return self.all
        pcs = chord_pcs(self.grammar.chord_at(r))
        return np.isin(self.pitch_values % 12, sorted(pcs)) if pcs else self.all


class LeapProcessor(_PitchProcessor):
    """No melodic interval wider than ``max_leap`` semitones from the previous note."""

    def __init__(self, grammar: SectionGrammar, max_leap: int = 12) -> None:
        super().__init__(grammar)
        self.max_leap = max_leap
        self.all = np.ones(len(self.pitch_values), dtype=bool)

    def pitch_ok(self, r: int) -> np.ndarray:
        last = int(self.grammar.last_pitch[r])
        if last < 0:
            return self.all
        return np.abs(self.pitch_values - last) <= self.max_leap


class FloorProcessor(_PitchProcessor):
    """At each position, no pitch below ``floor[position from the section start]`` (-1: none):
    the melody stays above the accompaniment's top note (the kernels' ``accomp_crossing``)."""

    def __init__(self, grammar: SectionGrammar, floor: np.ndarray) -> None:
        super().__init__(grammar)
        self.floor = floor
        self.all = np.ones(len(self.pitch_values), dtype=bool)

    def pitch_ok(self, r: int) -> np.ndarray:
        t = int(self.grammar.bar[r]) * self.grammar.per_bar + int(self.grammar.pos[r])
        if not 0 <= t < len(self.floor) or self.floor[t] < 0:
            return self.all
        return self.pitch_values >= self.floor[t]
