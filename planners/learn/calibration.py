"""The planner's sampling temperature, calibrated on the training corpus alone.

The planner samples under constraints (tonic opening, cadence formulas, a repeated phrase head)
and keeps a draw that states the key: at temperature 1 its progressions are *more predictable*
than the music the model learned from. The temperature puts the surprise back, so that planned
progressions are as surprising to a model that has not seen them as real music is to a model that
has not seen *it*. Both sides of that comparison are estimated from the training corpus only:

- **real**: the K-fold cross-validated likelihood per chord of the training progressions (each
  fold scored by a model fitted on the other folds): how surprising the corpus is to a model of
  the same music that has not seen the piece.
- **planned**: the likelihood per chord of planned progressions under the planner's own model,
  minus the *optimism* of judging a model's own samples with that model. The optimism is
  measured in a simulated world of the same shape: two corpora drawn from the model (the same
  number of progressions, lengths and bar positions as the real one), a planner model fitted on
  one and a judge fitted on the other; optimism = how much better the simulated planner's plans
  score under their own model than under the judge (averaged over WORLDS such worlds).

The temperature where planned = real is found by bisection (planned surprise grows with the
temperature), with common random numbers at every step so the search is smooth and the result
is the same on every run. On the even/odd halves of the chorales these two estimates track the
held-out half's figures within ~0.03 (real) and ~0.07 (planned) nats per chord
(``benchmarks/bench_harmony.py`` measures the result on the held-out half).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from grammar.keys import Key, parse_key
from planners.learn.model import ProgressionModel, Sequence_, fit, per_chord
from planners.progression import plan_progression, state_of_chord, vocabulary

# The key a mode's progressions are planned and read in (numerals are key-relative: any tonic)
REFERENCE_KEYS = {"major": parse_key("C major"), "minor": parse_key("A minor")}

FOLDS = 10  # cross-validation folds for the real corpus's surprise
PLANS = 400  # progressions planned per temperature (and per simulated planner): the estimate's
# standard error is then ~0.015 nats per chord, ~0.02 in temperature
WORLDS = 2  # simulated worlds the optimism is averaged over (one world's corpora are noisy)
STEPS = 8  # bisection steps on [LOW, HIGH]: a resolution of ~0.01
LOW, HIGH = 0.5, 3.0


def cross_validated(sequences: Sequence[Sequence_], folds: int = FOLDS) -> float:
    """Average log-likelihood per chord of ``sequences``, each fold scored by a model fitted on
    the others (folds by position: sequence i belongs to fold i % folds)."""
    lp = 0.0
    count = 0
    for k in range(folds):
        held = list(sequences[k::folds])
        if not held:
            continue
        model = fit(s for i, s in enumerate(sequences) if i % folds != k)
        lp += sum(model.logprob(s, p) for s, p in held)
        count += sum(len(s) for s, _ in held)
    return lp / count


def simulate(
    model: ProgressionModel, like: Sequence[Sequence_], rng: np.random.Generator
) -> list[Sequence_]:
    """A corpus drawn from ``model`` with the shape of ``like``: one progression per real one,
    of its length and bar positions (a plain Markov chain, no constraints)."""
    n = len(model.states)
    out: list[Sequence_] = []
    for states, positions in like:
        ids = [int(rng.choice(n, p=model.start_probs))]
        for k in range(1, len(states)):
            ids.append(int(rng.choice(n, p=model.matrix(positions[k])[ids[-1]])))
        out.append(([model.states[i] for i in ids], list(positions)))
    return out


def as_sequence(numerals: Sequence[Sequence[str]], key: Key) -> Sequence_:
    """Planned numerals, one list per bar -> the model's states and bar positions."""
    from planners.harmony import realize  # harmony imports progression: import at call time

    states = [state_of_chord(realize(n, key), key) for bar in numerals for n in bar]
    return states, [j for bar in numerals for j in range(len(bar))]


def _plans(
    model: ProgressionModel,
    key: Key,
    kind: str,
    per_bar: int,
    bars: int,
    temperature: float,
    seed: int,
    plans: int,
) -> list[Sequence_]:
    rng = np.random.default_rng(seed)
    vocab = vocabulary(model, key.mode, kind)
    out: list[Sequence_] = []
    for _ in range(plans):
        numerals = plan_progression(
            bars, per_bar, "authentic", key, "theme", model, vocab, rng, temperature=temperature
        )
        out.append(as_sequence(numerals, key))
    return out


def calibrate(
    sequences: Sequence[Sequence_],
    key: Key,
    kind: str = "all",
    per_bar: int = 2,
    bars: int = 8,
    seed: int = 0,
    plans: int = PLANS,
) -> float:
    """The temperature at which ``bars``-bar progressions planned (in ``key``, from the model of
    ``sequences``, with vocabulary ``kind`` and ``per_bar`` chords per bar) are as surprising as
    the corpus itself, both estimated as the module docstring says. Deterministic for a seed."""
    seqs = list(sequences)
    model = fit(seqs)
    target = cross_validated(seqs)
    rng = np.random.default_rng(seed)
    worlds = [
        (fit(simulate(model, seqs, rng)), fit(simulate(model, seqs, rng))) for _ in range(WORLDS)
    ]

    def planned(t: float) -> float:
        own = per_chord(model, _plans(model, key, kind, per_bar, bars, t, seed + 1, plans))
        optimism = 0.0
        for w, (sim_planner, sim_judge) in enumerate(worlds):
            sim = _plans(sim_planner, key, kind, per_bar, bars, t, seed + 2 + w, plans)
            optimism += per_chord(sim_planner, sim) - per_chord(sim_judge, sim)
        return own - optimism / len(worlds)

    lo, hi = LOW, HIGH
    for _ in range(STEPS):
        t = (lo + hi) / 2
        if planned(t) > target:
            lo = t  # still more predictable than the corpus: hotter
        else:
            hi = t
    return round((lo + hi) / 2, 3)
