"""The cadence table: how a phrase ends, one copy for both harmony planners.

A cadence is written as the roman numerals of its last chords, predominant first (T-PD-D-T).
``PD`` is a slot the rule planner fills from :data:`PREDOMINANTS` per phrase; the learned planner
(:mod:`planners.progression`) reads the same formulas as the allowed states of its last slots
(:func:`endings`), where a dominant seventh also allows the plain dominant triad.
"""

from __future__ import annotations

TONIC = {"major": "I", "minor": "i"}
PREDOMINANT = "PD"  # a slot: the rule planner draws IV or ii (iv or iio in minor)
PREDOMINANTS = {"major": ("IV", "ii"), "minor": ("iv", "iio")}
CADENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "major": {
        "authentic": ("PD", "V7", "I"),
        "half": ("PD", "V"),
        "plagal": ("IV", "I"),
        "deceptive": ("PD", "V7", "vi"),
    },
    "minor": {
        "authentic": ("PD", "V7", "i"),
        "half": ("PD", "V"),
        "plagal": ("iv", "i"),
        "deceptive": ("PD", "V7", "VI"),
    },
}
# what a formula's numeral allows in a learned progression's slot
_ALLOWS = {"V7": frozenset({"V", "V7"})}


def endings(mode: str) -> dict[str, tuple[frozenset[str], ...]]:
    """The allowed states of a phrase's last slots for each cadence (``none``: no constraint):
    the formula without its predominant slot, a V7 also allowing V."""
    out = {
        name: tuple(_ALLOWS.get(n, frozenset({n})) for n in formula if n != PREDOMINANT)
        for name, formula in CADENCES[mode].items()
    }
    out["none"] = ()
    return out


def inner_cadence(index: int, cadence: str) -> str:
    """How inner phrase ``index`` of a section ending on ``cadence`` ends: opposite to the
    section (period structure), so a section that ends open (half cadence) states the tonic
    first, and one that closes asks a question first (antecedent on V, consequent on I),
    alternating in longer sections."""
    opens = cadence == "half"
    return "half" if (index % 2 == 0) != opens else "authentic"
