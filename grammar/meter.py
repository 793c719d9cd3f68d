"""Time signatures and the beat hierarchy the planners and kernels lean on.

Everything is in ticks (:data:`kernels.notes.TICKS_PER_BEAT` per quarter note) so bar lengths,
felt beats and strong beats are exact integers for every meter we accept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grammar.errors import GrammarError, shorten
from kernels.notes import TICKS_PER_BEAT

DENOMINATORS: tuple[int, ...] = (1, 2, 4, 8, 16)
MAX_NUMERATOR = 16
COMPOUND_NUMERATORS = frozenset({6, 9, 12})
WHOLE_NOTE_TICKS = 4 * TICKS_PER_BEAT

# Named meters written as symbols on the staff.
SYMBOLS: dict[str, tuple[int, int]] = {"C": (4, 4), "C|": (2, 2), "¢": (2, 2)}

# Strong beats per numerator, in units of the denominator (eighths in x/8, quarters in x/4).
# The grouping behind each entry:
#   4  -> 2+2      beats 1 and 3
#   5  -> 3+2      the downbeat and the start of the 2-group
#   6  -> 3+3      the two dotted beats (6/8, and 6/4 felt in two)
#   7  -> 2+2+3    the downbeat and the start of the closing 3-group
#   12 -> 6+6      beats 1 and 3 of four dotted beats
# Every other numerator (1, 2, 3, 8, 9, ...) has only the downbeat as a strong beat.
STRONG_UNITS: dict[int, tuple[int, ...]] = {
    4: (0, 2),
    5: (0, 3),
    6: (0, 3),
    7: (0, 4),
    12: (0, 6),
}

_FRACTION_RE = re.compile(r"^(\d+)\s*/\s*(\d+)$")


@dataclass(frozen=True)
class TimeSignature:
    """A meter as written: numerator over denominator. Validated on construction."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if self.denominator not in DENOMINATORS:
            allowed = ", ".join(str(d) for d in DENOMINATORS)
            raise GrammarError(f"denominator must be one of {allowed}, got {self.denominator}")
        if not 1 <= self.numerator <= MAX_NUMERATOR:
            raise GrammarError(f"numerator must be 1..{MAX_NUMERATOR}, got {self.numerator}")
        if self.denominator == 16 and self.numerator % 2:
            # the generators and the beat grid work in eighth notes; an odd count of sixteenths
            # leaves half an eighth at the end of every bar
            raise GrammarError(
                f"{self.numerator}/16 is not supported: x/16 needs an even numerator "
                "(2/16, 4/16, ..., 16/16)"
            )

    @property
    def unit_ticks(self) -> int:
        """Ticks in one denominator unit (a quarter in x/4, an eighth in x/8)."""
        return WHOLE_NOTE_TICKS // self.denominator

    @property
    def bar_ticks(self) -> int:
        """Ticks in one bar."""
        return self.numerator * WHOLE_NOTE_TICKS // self.denominator

    @property
    def is_compound(self) -> bool:
        """6/8, 9/8, 12/8 (and the /16 forms): beats that divide in three."""
        return self.denominator in (8, 16) and self.numerator in COMPOUND_NUMERATORS

    @property
    def beat_ticks(self) -> int:
        """The felt beat: a dotted unit in compound meters, else one denominator unit."""
        return self.unit_ticks * (3 if self.is_compound else 1)

    @property
    def beats_per_bar(self) -> int:
        """Felt beats per bar: 6/8 -> 2, 3/4 -> 3, 12/8 -> 4."""
        return self.bar_ticks // self.beat_ticks

    @property
    def strong_offsets(self) -> tuple[int, ...]:
        """Tick offsets within the bar of the strong beats (see :data:`STRONG_UNITS`)."""
        units = STRONG_UNITS.get(self.numerator, (0,))
        return tuple(u * self.unit_ticks for u in units)

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


def parse_time_signature(text: str) -> TimeSignature:
    """Parse "3/4", " 6/8 ", "C" (common time, 4/4) or "C|" / "¢" (cut time, 2/2)."""
    cleaned = text.strip()
    if cleaned in SYMBOLS:
        return TimeSignature(*SYMBOLS[cleaned])
    match = _FRACTION_RE.match(cleaned) if len(cleaned) <= 16 else None
    if match is None:
        raise GrammarError(f"'{shorten(cleaned)}' is not a time signature like 3/4")
    return TimeSignature(int(match[1]), int(match[2]))
