"""A progression model: roman-numeral states with their metric position, as smoothed bigrams.

    P(next | prev, pos) = (c_pos(prev, next) + ALPHA * P(next)) / (c_pos(prev) + ALPHA)
    P(next)             = (c(next) + 1) / (N + |V|)

``pos`` is the slot's position in the bar (0: the downbeat, 1: mid-bar), so the model knows that
chords change differently into a downbeat than into beat 3. Counts are stored (integers, sorted
JSON), probabilities derived on load, so the shipped file rebuilds bit for bit. States seen
fewer than ``min_count`` times become ``RARE``: it keeps likelihoods honest and the planner
never writes it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

ALPHA = 2.0  # Dirichlet weight of the unigram prior in each transition row
RARE = "?"
POSITIONS = (0, 1)

Sequence_ = tuple[list[str], list[int]]  # states and their positions in the bar


@dataclass(frozen=True)
class ProgressionModel:
    states: tuple[str, ...]
    unigram: dict[str, int]
    start: dict[str, int]
    transitions: dict[int, dict[str, dict[str, int]]] = field(default_factory=dict)
    temperature: float = 1.0  # the planner's sampling temperature, calibrated at build time

    @cached_property
    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.states)}

    @cached_property
    def prior(self) -> np.ndarray:
        c = np.array([self.unigram.get(s, 0) for s in self.states], dtype=float)
        return (c + 1.0) / (c.sum() + len(self.states))

    def matrix(self, pos: int) -> np.ndarray:
        """P(next | prev) at bar position ``pos``: rows prev, columns next."""
        return self._matrices[pos if pos in self._matrices else 0]

    @cached_property
    def _matrices(self) -> dict[int, np.ndarray]:
        out = {}
        n = len(self.states)
        for pos in POSITIONS:
            counts = np.zeros((n, n))
            for prev, row in self.transitions.get(pos, {}).items():
                for nxt, c in row.items():
                    counts[self.index[prev], self.index[nxt]] = c
            out[pos] = (counts + ALPHA * self.prior) / (counts.sum(axis=1, keepdims=True) + ALPHA)
        return out

    @cached_property
    def start_probs(self) -> np.ndarray:
        c = np.array([self.start.get(s, 0) for s in self.states], dtype=float)
        return (c + ALPHA * self.prior) / (c.sum() + ALPHA)

    def known(self, state: str) -> str:
        return state if state in self.index else RARE

    def logprob(self, states: Sequence[str], positions: Sequence[int]) -> float:
        """Natural-log probability of a progression (its first chord, then each change)."""
        ids = [self.index[self.known(s)] for s in states]
        lp = math.log(self.start_probs[ids[0]])
        for k in range(1, len(ids)):
            lp += math.log(self.matrix(positions[k])[ids[k - 1], ids[k]])
        return lp

    def to_json(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "states": list(self.states),
            "unigram": dict(sorted(self.unigram.items())),
            "start": dict(sorted(self.start.items())),
            "transitions": {
                str(pos): {p: dict(sorted(r.items())) for p, r in sorted(rows.items())}
                for pos, rows in sorted(self.transitions.items())
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProgressionModel:
        return cls(
            states=tuple(data["states"]),
            unigram=dict(data["unigram"]),
            start=dict(data["start"]),
            transitions={int(p): rows for p, rows in data["transitions"].items()},
            temperature=float(data.get("temperature", 1.0)),
        )


def per_chord(model: ProgressionModel, sequences: Iterable[Sequence_]) -> float:
    """Average natural-log likelihood per chord of ``sequences`` under ``model``."""
    seqs = list(sequences)
    return sum(model.logprob(s, p) for s, p in seqs) / sum(len(s) for s, _ in seqs)


def fit(sequences: Iterable[Sequence_], min_count: int = 5) -> ProgressionModel:
    """Count states, starts and position-aware transitions; rare states pool into RARE."""
    seqs = [(list(s), list(p)) for s, p in sequences if s]
    freq = Counter(x for s, _ in seqs for x in s)
    keep = {x for x, c in freq.items() if c >= min_count}

    def k(x: str) -> str:
        return x if x in keep else RARE

    unigram: Counter[str] = Counter()
    start: Counter[str] = Counter()
    trans: dict[int, dict[str, Counter[str]]] = {}
    for seq, positions in seqs:
        mapped = [k(x) for x in seq]
        unigram.update(mapped)
        start[mapped[0]] += 1
        for j in range(1, len(mapped)):
            trans.setdefault(positions[j], {}).setdefault(mapped[j - 1], Counter())[mapped[j]] += 1
    states = tuple(sorted(set(unigram) | {RARE}))
    return ProgressionModel(
        states=states,
        unigram=dict(unigram),
        start=dict(start),
        transitions={p: {a: dict(r) for a, r in rows.items()} for p, rows in trans.items()},
    )
