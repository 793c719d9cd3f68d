"""Text helpers of the prompt reader: accent folding that keeps positions, word patterns, spans.

Every matcher runs on the *folded* prompt (lower case, accents removed: "Ré mineur" -> "re
mineur", "Ländler" -> "landler"), which has exactly the positions of the original, so a span
found in one names the same words in the other.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


def fold(text: str) -> str:
    """Lower case without accents, character for character (the length never changes)."""
    out = []
    for ch in text:
        low = ch.lower()
        if len(low) != 1:
            low = ch
        base = "".join(
            c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c)
        )
        out.append(base if len(base) == 1 else low)
    return "".join(out).translate(_PLAIN)


# typographic apostrophes and dashes read as their plain forms (same length)
_PLAIN = {ord("’"): "'", ord("′"): "'", ord("–"): "-", ord("—"): "-"}


def phrase_pattern(phrase: str) -> str:
    """A regex for a lexicon phrase: its words in order, separated by spaces or hyphens."""
    words = [w for w in re.split(r"[\s\-]+", fold(phrase).strip()) if w]
    return r"[\s\-]*".join(re.escape(w) for w in words) if len(words) > 1 else re.escape(words[0])


def words_regex(phrases: Iterable[str]) -> re.Pattern[str]:
    """One pattern for whole-word matches of any of the phrases, longest first."""
    ordered = sorted({fold(p).strip() for p in phrases if p.strip()}, key=len, reverse=True)
    alternatives = "|".join(phrase_pattern(p) for p in ordered)
    return re.compile(rf"(?<![\w])(?:{alternatives})(?![\w])")


WORD_RE = re.compile(r"[^\W\d_](?:[^\W_]|['’-](?=[^\W\d_]))*|\d+(?:[.,:/]\d+)*")


@dataclass(frozen=True)
class Hit:
    """A piece of the prompt that means something: [start, end) in the text, what kind of thing
    it sets and the value; ``rank`` 0 outranks every longer hit of rank 1 (keys, forms)."""

    start: int
    end: int
    kind: str
    value: object
    rank: int = 1

    def words(self, text: str) -> str:
        return text[self.start : self.end]


def choose(hits: Iterable[Hit]) -> list[Hit]:
    """Non-overlapping hits, rank 0 first, then longest first (earliest on a tie), in text order."""
    chosen: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.rank, -(h.end - h.start), h.start)):
        if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda h: h.start)


def leftover_phrases(text: str, hits: list[Hit], stopwords: frozenset[str]) -> list[str]:
    """Runs of words no hit covers, each as written, keeping only runs with a word that is not
    a stop word ("for a cafe" is kept, "in a" is dropped)."""
    folded = fold(text)
    runs: list[list[re.Match[str]]] = [[]]
    for m in WORD_RE.finditer(folded):
        if any(h.start <= m.start() < h.end or h.start < m.end() <= h.end for h in hits):
            runs.append([])
        elif text[runs[-1][-1].end() : m.start()].strip(" ") in ("", "'") if runs[-1] else True:
            runs[-1].append(m)
        else:  # punctuation between two words ends a run
            runs.append([m])
    out = []
    for run in runs:
        if run and any(m[0] not in stopwords for m in run):
            out.append(text[run[0].start() : run[-1].end()])
    return out
