"""Style and tempo labels of the training pieces, from what music21's corpus says about them.

The corpus rarely marks a tempo and never a pop or jazz style: a piece's label is read from its
collection, its ABC ``R:`` (rhythm, the tune type) field and its meter, by these rules:

- a Bach chorale is a ``hymn``, ``slow``;
- an O'Neill / Ryan / Aird tune by its ``R:`` field: reel, fling, clog, walkaround -> ``reel``,
  ``fast``; hornpipe, strathspey -> ``reel``, ``medium`` (the same running figures, slower);
  jig, double jig, slip jig, slide -> ``jig``, ``fast``; waltz -> ``waltz``, ``medium``; march
  -> ``march``, ``fast``; air -> ``folk``, ``slow``; anything else -> ``folk``, ``medium``;
- a tune without an ``R:`` field, and every Essen tune (whose ``R:`` is a song genre, not a
  dance), by its meter: 6/8, 9/8, 12/8 -> ``jig``, ``fast`` (Essen: ``folk``, ``medium``: a
  German song in 6/8 is no jig); 3/4 -> ``waltz``, ``medium``; 2/4 -> ``march``, ``fast``;
  otherwise ``folk``, ``medium`` (an untyped O'Neill/Ryan tune in 4/4 or 2/2 is a ``reel``,
  ``fast``: those books are dance books).

Where a tune's ``N:`` notes mark its tempo (O'Neill's "Slow", "Moderate", "With spirit"), the
mark sets the tempo band instead: slow / moderate / spirited, lively, quick -> slow / medium /
fast.

Energy is read per section from its notes (onsets per felt beat, :func:`tokens.energy_of`).
One section in :data:`NEUTRAL_SHARE` (chosen by a hash of the piece and window, so the same every
build) is labelled ``Style_none``: the neutral token a style the corpus has no example of (jazz,
blues, pop, ballad...) is composed with, so that token has been trained on the corpus's mix.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

LABELS_VERSION = 1  # bump when these rules change: the tokenised data is cached by it
NEUTRAL_SHARE = 0.15
DANCE_BOOKS = ("oneills1850", "ryansMammoth")  # dance-tune books: an untyped 4/4 tune is a reel
TYPED_BOOKS = ("oneills1850", "ryansMammoth", "airdsAirs")

# R: field (lower case, spaces and hyphens removed) -> (style, tempo band)
TUNE_TYPES = {
    "reel": ("reel", "fast"),
    "fling": ("reel", "fast"),
    "highlandfling": ("reel", "fast"),
    "clog": ("reel", "fast"),
    "walkaround": ("reel", "fast"),
    "hornpipe": ("reel", "medium"),
    "strathspey": ("reel", "medium"),
    "jig": ("jig", "fast"),
    "doublejig": ("jig", "fast"),
    "slipjig": ("jig", "fast"),
    "slide": ("jig", "fast"),
    "waltz": ("waltz", "medium"),
    "march": ("march", "fast"),
    "air": ("folk", "slow"),
}
COMPOUND = ("6/8", "9/8", "12/8")


TEMPO_WORDS = (  # a tempo mark in an N: line -> band (the first that matches)
    ("slow", "slow"), ("plaintive", "slow"), ("moderat", "medium"), ("spirit", "fast"),
    ("lively", "fast"), ("quick", "fast"), ("brisk", "fast"), ("fast", "fast"),
)  # fmt: skip


def _tempo_mark(note: str) -> str:
    low = note.lower()
    return next((band for word, band in TEMPO_WORDS if word in low), "")


@lru_cache(maxsize=256)
def abc_fields(abc_file: str) -> dict[str, tuple[str, str]]:
    """``X:`` number -> (normalised ``R:`` field, tempo band marked in an ``N:`` line) of every
    tune of an ABC file ("" for none)."""
    out: dict[str, tuple[str, str]] = {}
    number: str | None = None
    try:
        text = Path(abc_file).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return out
    for line in text.splitlines():
        if line.startswith("X:"):
            number = line[2:].strip()
            out[number] = ("", "")
        elif number is not None and line.startswith(("R:", "N:")):
            rhythm, tempo = out[number]
            if line.startswith("R:") and not rhythm:
                rhythm = re.sub(r"[\s\-]", "", line[2:].lower())
            elif line.startswith("N:") and not tempo:
                tempo = _tempo_mark(line[2:])
            out[number] = (rhythm, tempo)
    return out


def tune_fields(path: str, root: Path | None) -> tuple[str, str]:
    """(``R:`` field, marked tempo band) of a corpus tune ``rel#N`` ("" where none)."""
    if root is None or "#" not in path:
        return "", ""
    rel, _, number = path.partition("#")
    return abc_fields(str(root / rel)).get(number, ("", ""))


def piece_label(
    corpus: str, path: str, meter: str, rhythm: str = "", marked: str = ""
) -> tuple[str, str]:
    """(style, tempo band) of a piece by the rules of this module's docstring (``rhythm``: its
    ``R:`` field, ``marked``: the tempo band its notes mark)."""
    style, tempo = _by_type(corpus, path, meter, rhythm)
    return style, (marked or tempo) if corpus != "chorale" else tempo


def _by_type(corpus: str, path: str, meter: str, rhythm: str) -> tuple[str, str]:
    if corpus == "chorale":
        return "hymn", "slow"
    book = path.split("/", 1)[0]
    if book in TYPED_BOOKS and rhythm:
        return TUNE_TYPES.get(rhythm, ("folk", "medium"))
    if meter in COMPOUND:
        return ("folk", "medium") if book == "essenFolksong" else ("jig", "fast")
    if meter == "3/4":
        return "waltz", "medium"
    if meter == "2/4":
        return "march", "fast"
    if book in DANCE_BOOKS and meter in ("4/4", "2/2"):
        return "reel", "fast"
    return "folk", "medium"


def neutral(path: str, window: int) -> bool:
    """Whether this section is labelled ``Style_none`` (a fixed hash of piece and window)."""
    h = hashlib.sha1(f"{path}:{window}:style".encode()).digest()
    return int.from_bytes(h[:4], "big") / 2**32 < NEUTRAL_SHARE
