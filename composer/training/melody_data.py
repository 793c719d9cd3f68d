"""The training set: melodies with their key, meter and chords per beat, from music21's corpus.

Two sources, as the model should learn them (the melody is what it writes):

- **Bach chorales**: the soprano, with the chord of every beat labelled from all four voices by
  :mod:`planners.learn.labelling` (the labelling behind the shipped harmony model);
- **folk melodies** (Essen, O'Neill, Ryan, Aird, as ABC): the tune, with one chord per bar from
  our harmoniser (:mod:`planners.learn.harmoniser`, Viterbi under the shipped chorale model),
  written on every beat of the bar.

A user's own folder (``compose train --data DIR``) is read like the folk tunes: the top part of
each MIDI/MusicXML/ABC file, harmonised bar by bar.

Every piece is one :class:`Example` (notes per bar in quarter notes, a chord token per felt
beat). The held-out split is by piece and fixed (:func:`split_of`). Parsed files are cached one
JSON file per corpus file, so a rebuild reads only what changed and gives the same bytes.
music21 is imported lazily: it is needed to build data, never to compose.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from composer.eval.metrics import corpus_split as split_of  # the one held-out rule, shared
from composer.eval.metrics import tune_path
from composer.generators.transformer.tokens import NO_CHORD, chord_token
from grammar.errors import GrammarError, SpecError
from grammar.keys import Key
from grammar.meter import parse_time_signature
from grammar.paths import folder_problem

DATA_VERSION = 1  # bump when the extraction changes: invalidates every cached file
FOLK_DIRS = ("essenFolksong", "oneills1850", "ryansMammoth", "airdsAirs")
USER_SUFFIXES = (".mid", ".midi", ".xml", ".musicxml", ".mxl", ".abc", ".krn")
MAX_BAR_QUARTERS = 6.0  # 12/8, 6/4, 3/2: the longest bar the tokens have positions for


Note = tuple[float, float, int]  # onset in the bar (quarters), duration (quarters), MIDI pitch


@dataclass(frozen=True)
class Example:
    path: str  # corpus-relative path (the split key), "file.abc#N" for a tune of an ABC opus
    corpus: str  # "chorale", "folk" or "user"
    tonic: int  # pitch class
    mode: str  # "major" | "minor"
    meter: str  # "4/4"
    bars: tuple[tuple[Note, ...], ...]
    chords: tuple[tuple[str, ...], ...]  # per bar, one chord token per felt beat

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Example:
        bars = tuple(tuple((float(a), float(b), int(c)) for a, b, c in bar) for bar in d["bars"])
        chords = tuple(tuple(bar) for bar in d["chords"])
        return cls(d["path"], d["corpus"], d["tonic"], d["mode"], d["meter"], bars, chords)


def cache_dir() -> Path:
    """Where parsed corpus files are cached: ``$SONGC_CACHE`` or ``~/.cache/songc``."""
    base = os.environ.get("SONGC_CACHE") or Path.home() / ".cache" / "songc"
    return Path(base) / f"learned-data-v{DATA_VERSION}"


# --- music21 -> Example -----------------------------------------------------------------------


def _key_of(bars: list[list[Note]]) -> Key:
    """Krumhansl-Schmuckler over the melody's durations (our own, 50x faster than music21's
    ``analyze('key')`` and the same profiles the pipeline's key finder uses)."""
    import numpy as np

    from grammar.keys import key_from_sharps
    from planners.tonality import correlations

    hist = np.zeros(12)
    for bar in bars:
        for _, dur, pitch in bar:
            hist[pitch % 12] += dur
    r = correlations(hist)
    m, tonic = np.unravel_index(int(np.argmax(r)), r.shape)
    mode: Literal["major", "minor"] = "major" if int(m) == 0 else "minor"
    # spell the tonic from the key signature with the fewest accidentals
    for sharps in sorted(range(-7, 8), key=abs):
        k = key_from_sharps(sharps, mode)
        if k.tonic == int(tonic):
            return k
    raise GrammarError(f"no key on pitch class {tonic}")


def _meter_of(score: Any) -> tuple[str, float, float] | None:
    """(meter text, bar length, felt beat length) in quarters, or None for mixed/unusable meters."""
    from music21 import meter

    sigs = list(score.recurse().getElementsByClass(meter.TimeSignature))
    if not sigs or any(s.ratioString != sigs[0].ratioString for s in sigs):
        return None
    text = sigs[0].ratioString
    try:
        ts = parse_time_signature(text)
    except GrammarError:
        return None
    bar = ts.bar_ticks / 480
    if bar > MAX_BAR_QUARTERS:
        return None
    return text, bar, ts.beat_ticks / 480


def _bars_of(part: Any, bar_q: float) -> list[list[Note]]:
    """The part's notes per bar (quarters from the bar start), monophonic (the top note of a
    chord), clipped at the barline. A short first bar is a pickup: its notes end the bar."""
    from music21 import chord as m21chord

    bars: list[list[Note]] = []
    measures = list(part.getElementsByClass("Measure"))
    for i, m in enumerate(measures):
        dur = float(m.duration.quarterLength)
        shift = bar_q - dur if i == 0 and dur < bar_q - 1e-9 else float(m.paddingLeft)
        notes: list[Note] = []
        for n in m.notesAndRests:
            if n.isRest or n.duration.isGrace:
                continue
            pitch = (
                max(p.midi for p in n.pitches) if isinstance(n, m21chord.Chord) else n.pitch.midi
            )
            on = float(n.offset) + shift
            if on >= bar_q - 1e-9 or on < 0:
                continue
            notes.append((on, min(float(n.quarterLength), bar_q - on), int(pitch)))
        bars.append(sorted(set(notes)))
    while bars and not bars[-1]:
        bars.pop()
    return bars


def _harmonised(bars: list[list[Note]], key: Key, beats: int) -> list[tuple[str, ...]] | None:
    from grammar.chords import parse_roman
    from planners.learn.harmoniser import harmonise

    model = _chorale_models()[key.mode]
    full = [b if b else [(0.0, 0.0, 0)] for b in bars]
    try:
        states = harmonise(full, key, model)
    except ValueError:
        return None
    out = []
    for s in states:
        c = parse_roman(s, key)
        out.append((chord_token(c.root, c.quality, key.tonic),) * beats)
    return out


_MODELS: dict[str, Any] = {}


def _chorale_models() -> dict[str, Any]:
    if not _MODELS:
        from planners.progression import load_models

        _MODELS.update(load_models()["chorale"])
    return _MODELS


def melody_example(score: Any, path: str, corpus: str) -> Example | None:
    """A score's top part as an Example harmonised bar by bar; None if unusable."""
    m = _meter_of(score)
    if m is None or not score.parts:
        return None
    text, bar_q, beat_q = m
    part = score.parts[0]
    part.stripTies(inPlace=True)
    bars = _bars_of(part, bar_q)
    if sum(1 for b in bars if b) < 2:
        return None
    key = _key_of(bars)
    chords = _harmonised(bars, key, round(bar_q / beat_q))
    if chords is None:
        return None
    return Example(path, corpus, key.tonic, key.mode, text, _freeze(bars), tuple(chords))


def chorale_example(score: Any, path: str) -> Example | None:
    """A chorale's soprano with the chord of every beat labelled from all four voices."""
    from planners.learn.chorales import load

    piece = load(score, path)
    m = _meter_of(score)
    if piece is None or m is None:
        return None
    text, bar_q, beat_q = m
    part = score.stripTies().parts[0]
    bars = _bars_of(part, bar_q)
    beats = round(bar_q / beat_q)
    index = {m.number: i for i, m in enumerate(part.getElementsByClass("Measure"))}
    label: dict[tuple[int, int], str] = {}
    for i, b in enumerate(piece.beats):
        lab = piece.label(i)
        tok = NO_CHORD if lab is None else chord_token(lab[0], lab[1], piece.key.tonic)
        if b.measure in index:
            label[(index[b.measure], b.bar_position)] = tok
    chords = tuple(
        tuple(label.get((bi, k), NO_CHORD) for k in range(beats)) for bi in range(len(bars))
    )
    return Example(path, "chorale", piece.key.tonic, piece.key.mode, text, _freeze(bars), chords)


def _freeze(bars: list[list[Note]]) -> tuple[tuple[Note, ...], ...]:
    return tuple(tuple((round(a, 4), round(b, 4), p) for a, b, p in bar) for bar in bars)


# --- corpus files -> cached examples ----------------------------------------------------------


def _corpus_root() -> Path:
    from music21 import corpus

    return Path(corpus.__file__).parent.resolve()


def corpus_files() -> list[tuple[str, str]]:
    """Every corpus file the build reads, as (kind, corpus-relative path), in a fixed order."""
    from music21 import corpus

    root = _corpus_root()
    out = [
        ("chorale", str(Path(p).resolve().relative_to(root))) for p in corpus.getComposer("bach")
    ]
    for p in corpus.getPaths(fileExtensions=("abc",)):
        rel = Path(p).resolve().relative_to(root)
        if rel.parts[0] in FOLK_DIRS:
            out.append(("folk", str(rel)))
    return sorted(set(out), key=lambda kp: kp[1])


def parse_file(kind: str, rel: str, root: str) -> list[dict[str, Any]]:
    """All examples of one corpus file (a chorale, or an ABC file of one or many tunes)."""
    import warnings

    from music21 import converter

    warnings.filterwarnings("ignore")
    obj = converter.parse(str(Path(root) / rel))
    if kind == "chorale":
        ex = chorale_example(obj, rel)
        return [] if ex is None else [ex.to_json()]
    opus = hasattr(obj, "scores")
    scores = list(obj.scores) if opus else [obj]  # type: ignore[union-attr]
    out = []
    for j, score in enumerate(scores):
        number = getattr(score.metadata, "number", None) if score.metadata else None
        path = tune_path(rel, number, j, opus)
        try:
            ex = melody_example(score, path, "folk")
        except Exception:  # a malformed tune in the corpus must not stop the build
            ex = None
        if ex is not None:
            out.append(ex.to_json())
    return out


def _cached(kind: str, rel: str, root: str, folder: Path) -> list[dict[str, Any]]:
    target = folder / (hashlib.sha1(f"{kind}:{rel}".encode()).hexdigest() + ".json")
    if target.exists():
        data: list[dict[str, Any]] = json.loads(target.read_text())
        return data
    try:
        data = parse_file(kind, rel, root)
    except Exception:  # unparsable file: recorded as empty, so the build stays reproducible
        data = []
    tmp = target.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, sort_keys=True))
    tmp.replace(target)
    return data


def _work(args: tuple[str, str, str, str]) -> list[dict[str, Any]]:
    return _cached(args[0], args[1], args[2], Path(args[3]))


def build_examples(
    files: list[tuple[str, str]] | None = None,
    root: Path | None = None,
    workers: int = 2,
    on_file: Callable[[int, int], None] | None = None,
) -> list[Example]:
    """Parse (or read from the cache) every file; examples sorted by path (deterministic)."""
    root = _corpus_root() if root is None else root
    files = corpus_files() if files is None else files
    folder = cache_dir() / hashlib.sha1(str(root).encode()).hexdigest()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(k, r, str(root), str(folder)) for k, r in files]
    results: list[dict[str, Any]] = []
    it: Iterable[list[dict[str, Any]]]
    if workers > 1:
        from multiprocessing import get_context

        pool = get_context("spawn").Pool(workers)
        it = pool.imap(_work, jobs, chunksize=4)
    else:
        pool = None
        it = map(_work, jobs)
    for i, data in enumerate(it):
        results.extend(data)
        if on_file is not None:
            on_file(i + 1, len(jobs))
    if pool is not None:
        pool.close()
        pool.join()
    return sorted((Example.from_json(d) for d in results), key=lambda e: e.path)


def user_files(folder: Path) -> list[tuple[str, str]]:
    """The music files of a user's folder, as ("user", relative path); SpecError if none."""
    problem = folder_problem(folder)
    if problem is not None:
        raise SpecError("data", problem)
    files = sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.suffix.lower() in USER_SUFFIXES
    )
    if not files:
        raise SpecError("data", f"no MIDI, MusicXML or ABC files in {folder}")
    return [("folk", f) for f in files]


def splits(examples: Iterable[Example]) -> dict[str, list[Example]]:
    out: dict[str, list[Example]] = {"train": [], "valid": [], "test": []}
    for ex in examples:
        out[split_of(ex.path)].append(ex)
    return out
