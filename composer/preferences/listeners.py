"""Simulated listeners: scripted tastes to measure the personal reward model with.

Each listener has a hidden utility, a weighted sum of a few item features
(:data:`composer.preferences.features.ITEM_FEATURES`), each divided by a fixed scale (about its
spread over candidates of many songs, so a unit of utility is "clearly more"), and answers an
A/B question the Bradley-Terry way: A with probability ``sigmoid((u(A) - u(B)) / noise)``,
drawn from a seeded generator. The real ratings are people's; these are for tests and
benchmarks, where the truth is known.

| listener | prefers |
|---|---|
| ``drummer`` | busier drums (drum hits per bar), then a busier band |
| ``dark`` | darker harmony: minor colour (b3, b6, b7 degrees) over the major third |
| ``high`` | a higher melody (mean MIDI pitch) |
| ``syncopated`` | more syncopation: notes off the beat, and held across it |
| ``repetitive`` | more repetition: bars that repeat each other's pitches and rhythms |
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from composer.preferences.features import column

# Logistic noise of an answer, in units of utility: a pair one unit apart is answered the
# listener's way 1 / (1 + e^-2) = 88% of the time; two units apart, 98%.
NOISE = 0.5


@dataclass(frozen=True)
class Listener:
    """``taste``: feature name -> (weight, scale); ``u = sum(weight * value / scale)``."""

    name: str
    description: str
    taste: tuple[tuple[str, float, float], ...]
    noise: float = NOISE

    def utility(self, items: np.ndarray) -> np.ndarray:
        """The hidden utility of each item row (higher = liked more)."""
        x = np.atleast_2d(np.asarray(items, dtype=np.float64))
        u = np.zeros(x.shape[0])
        for name, weight, scale in self.taste:
            u += (weight / scale) * x[:, column(name)]
        return u

    def prefers(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """The noiseless answer per row pair: 1 if A's utility is higher, 0 if B's, 0.5 if
        equal."""
        d = self.utility(a) - self.utility(b)
        return np.where(d > 0, 1.0, np.where(d < 0, 0.0, 0.5))

    def answer(self, a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Noisy answers, 1.0 = A preferred, 0.0 = B, one per row pair."""
        d = (self.utility(a) - self.utility(b)) / self.noise
        p = 1.0 / (1.0 + np.exp(-d))
        return (rng.random(p.shape[0]) < p).astype(np.float64)


LISTENERS: dict[str, Listener] = {
    x.name: x
    for x in (
        Listener(
            "drummer",
            "busier drums, then a busier band",
            (("drum_density", 1.0, 1.5), ("note_density", 0.5, 10.0)),
        ),
        Listener(
            "dark",
            "darker harmony: minor colour over the major third",
            (
                ("degree_3", 1.0, 0.05),
                ("degree_8", 1.0, 0.05),
                ("degree_10", 1.0, 0.05),
                ("degree_4", -1.0, 0.05),
            ),
        ),
        Listener("high", "a higher melody", (("mean_pitch", 1.0, 3.0),)),
        Listener(
            "syncopated",
            "more syncopation",
            (("syncopation", 1.0, 0.07), ("sync_across_beat", 0.5, 0.07)),
        ),
        Listener(
            "repetitive",
            "more repetition between bars",
            (("bar_pitch_repetition", 1.0, 0.07), ("bar_rhythm_repetition", 0.5, 0.04)),
        ),
    )
}
