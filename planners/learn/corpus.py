"""music21's corpus, as every build reads it: the files, the piece names, the held-out split.

One rule for each (issue 12): a piece is named by its **corpus path** (``bach/bwv66.6.mxl``), a
tune of an ABC opus by ``path#N`` (:func:`tune_path`); the held-out split is a function of that
name alone (:func:`corpus_split`), so the melody model, the reward model and the evaluation
reference hold out the same pieces. music21 is imported lazily: a build-time dependency.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

ESSEN = "essenFolksong"  # the Essen folk song collection's folder in the corpus


def corpus_split(path: str) -> str:
    """The held-out split of a music21 corpus piece, from its corpus path string (``"bach/
    bwv66.6.mxl"``, or ``"essenFolksong/han1.abc#12"`` for tune 12 of an ABC opus): the
    first byte of its SHA-1, mod 20: 0 -> "test", 1 -> "valid", else "train"."""
    h = hashlib.sha1(path.encode()).digest()[0] % 20
    return "test" if h == 0 else "valid" if h == 1 else "train"


def tune_path(rel: str, metadata_number: object, index: int, opus: bool) -> str:
    """The corpus path string of one tune of ``rel`` (what :func:`corpus_split` reads): a tune
    of an ABC opus is ``rel#N``, N its ``X:`` number (its 1-based place in the file if it has
    none); a file of one piece is ``rel``."""
    if not opus:
        return rel
    return f"{rel}#{metadata_number if metadata_number not in (None, '') else index + 1}"


def corpus_path(path: Any) -> str:
    """The corpus path string of a music21 corpus file: ``.../corpus/bach/x.mxl`` ->
    ``bach/x.mxl``."""
    return str(path).replace("\\", "/").split("/corpus/")[-1]


def chorale_paths() -> list[str]:
    """Every Bach MusicXML file in music21's corpus, sorted by corpus path."""
    from music21 import corpus

    return sorted(corpus_path(p) for p in corpus.getComposer("bach") if str(p).endswith(".mxl"))


def essen_files() -> dict[str, Path]:
    """The Essen collection's ABC files by stem (``"kinder0"`` -> its path)."""
    from music21 import corpus

    return {
        Path(p).stem: Path(p) for p in corpus.getPaths(fileExtensions=("abc",)) if ESSEN in str(p)
    }


def essen_tunes(stem: str) -> list[tuple[str, Any]]:
    """Every tune of one Essen file as (corpus path string, music21 score), in file order."""
    from music21 import corpus

    parsed: Any = corpus.parse(str(essen_files()[stem]))
    opus = hasattr(parsed, "scores")
    out = []
    for j, score in enumerate(list(parsed.scores) if opus else [parsed]):
        number = getattr(score.metadata, "number", None) if score.metadata else None
        out.append((tune_path(f"{ESSEN}/{stem}.abc", number, j, opus), score))
    return out
