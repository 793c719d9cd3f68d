"""What ``compose align`` learns from: section contexts planned by the project's planner, and
candidates sampled for them with the project's sampler, scored as the search scores them.

A *context* is one section with all-new material (no source to repeat or vary) of a planned
song (every planning pass, the melody plan included): its plan, the reward weights the search
would use for that song (style, the listener's profile) and the learned reward model. For each
context :func:`sample_contexts` draws ``k`` candidates from a checkpoint through the
``transformer`` generator itself (the grammar-safe, rule-biased decoding ``compose`` runs, with
the version-2 conditioning tokens and the melody plan's decoding masks, so the policy is aligned
on the distribution it is used with), keeps each candidate's token ids, checks them with the
kernels and scores them with the search's rewards (:func:`composer.search.batch.score_batch`).
The utility a preference is taken from is the reward total minus :data:`HARD_PENALTY` per hard
violation (the search prunes hard violators before it looks at rewards, so a violation
outweighs any reward difference).

Each candidate's held-out metrics (corpus-relative, computed by no reward:
:data:`composer.eval.harness.HELD_OUT`) are measured on its melody, to watch over-optimisation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from composer.generators.base import GenerationContext
from composer.generators.transformer.generator import TransformerGenerator, load
from composer.generators.transformer.tokens import CHORD, OTHER, Section
from composer.reward_model import SegmentScorer
from kernels.notes import TRACK_MELODY, track_notes
from planners.plan import MelodyPlan, SectionPlan, SongPlan

HARD_PENALTY = 1.0  # reward totals lie in [0, 1]: one hard violation outweighs any of them
METERS = ("4/4", "3/4", "6/8", "2/4")
TONICS = ("C", "G", "D", "A", "E", "F", "Bb", "Eb", "Ab", "B", "F#", "C#")
STYLES = ("classical", "folk", "pop", "jazz", "waltz", "march")
FORMS = ("AABA", "A A' B A", "ABAB", "A B A'", "verse chorus verse chorus", "AAB", "ABAC")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def draw_spec(rng: np.random.Generator, title: str, forms: Sequence[str] = FORMS) -> dict[str, Any]:
    """One random spec (key, meter, style, form, tempo, seed) drawn from ``rng`` in that order;
    also the side-by-side benchmark's (``benchmarks/eval_generators.py``)."""
    return {
        "title": title,
        "key": f"{rng.choice(TONICS)} {rng.choice(['major', 'minor'])}",
        "time_signature": str(rng.choice(METERS)),
        "style": str(rng.choice(STYLES)),
        "form": str(rng.choice(forms)),
        "tempo": int(rng.integers(60, 160)),
        "seed": int(rng.integers(2**31)),
    }


def random_specs(n: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """``n`` seeded random specs, named ``random-i``."""
    rng = np.random.default_rng([seed, 19])
    return [(f"random-{i}", draw_spec(rng, f"align {i}")) for i in range(n)]


def example_specs(folder: Path = EXAMPLES) -> list[tuple[str, dict[str, Any]]]:
    """The ``*.yaml`` specs of ``folder`` (the project's examples), by name; none if absent."""
    import yaml

    if not folder.is_dir():
        return []
    return [(p.stem, yaml.safe_load(p.read_text())) for p in sorted(folder.glob("*.yaml"))]


@dataclass(frozen=True)
class Context:
    """One section to sample for, with the rewards its song would be searched with."""

    name: str  # spec name and section id
    plan: SongPlan
    section: SectionPlan
    weights: Mapping[str, float]
    model: SegmentScorer | None  # the learned reward (a listener's personal one with a profile)
    style: str  # the core style family the rewards know


def contexts(
    specs: Sequence[tuple[str, dict[str, Any]]],
    profile: str | None = None,
    per_song: int = 3,
) -> list[Context]:
    """The first ``per_song`` all-new sections (one per label) of every spec, planned by the
    planning passes, with the reward weights and model the search would use for that song
    (:func:`composer.pipeline.search_config`); ``profile`` is put in every spec's
    ``preferences.profile`` (a listener's profile name, or a YAML file of reward weights), so
    the candidates are scored as ``compose`` scores them for that listener."""
    from composer.pipeline import PLANNING, compile_song, search_config
    from grammar.errors import SpecError
    from grammar.spec import validate_spec
    from planners.styles import get_style

    out = []
    for name, data in specs:
        data = {**data, "generator": "transformer"}
        if profile is not None:
            data["preferences"] = {**(data.get("preferences") or {}), "profile": profile}
        spec = validate_spec(data)
        # every planning pass, the melody plan's included: its phrases, rhythm vocabulary and
        # register are the sampler's decoding masks and the phrase tokens, as in `compose`
        c = compile_song(spec, stop_after=PLANNING[-1])
        plan = c.need_plan()
        try:
            config = search_config(spec, plan)
        except SpecError as exc:
            if profile is None or not exc.field.startswith(("preferences", "profile")):
                raise
            raise SpecError("--profile", exc.problem) from None
        family = get_style(plan.style).family
        seen: set[str] = set()
        for sect in plan.sections:
            if sect.source is not None or sect.label in seen or len(seen) >= per_song:
                continue
            seen.add(sect.label)
            out.append(
                Context(f"{name}/{sect.id}", plan, sect, config.weights, config.model, family)
            )
    return out


class RecordingGenerator(TransformerGenerator):
    """The ``transformer`` generator, keeping the prefix and the token ids of every melody it
    samples (the melodies re-encoded with the checkpoint's own vocabulary, which is lossless:
    the sampler's tokens are on the grid the vocabulary encodes)."""

    def __init__(self, checkpoint: Path) -> None:
        super().__init__(checkpoint=checkpoint)
        self.prefix: list[int] = []
        self.completions: list[list[int]] = []

    def melodies(
        self, sec: Section, key: Any, pitch_range: tuple[int, int],
        strong_ticks: tuple[int, ...], rows: int, seed: int, floor: np.ndarray | None = None,
        plan: MelodyPlan | None = None, shift: int = 0,
    ) -> tuple[list[list[tuple[int, int, int]]], list[list[str]]]:  # fmt: skip
        mels, invalid = super().melodies(
            sec, key, pitch_range, strong_ticks, rows, seed, floor, plan, shift
        )
        _, vocab = load(self.checkpoint)
        eos = vocab["EOS_None"]
        self.prefix = vocab.prefix(sec)
        phrases = vocab.phrase_tokens(sec)
        self.completions = [
            [*vocab.melody(tuple(m), sec.meter, sec.bars, sec.chords, phrases), eos] for m in mels
        ]
        return mels, invalid


@dataclass(frozen=True)
class Sampled:
    """A context's candidates: token ids, utilities and what was measured of each."""

    context: str
    prefix: tuple[int, ...]
    completions: tuple[tuple[int, ...], ...]
    utility: np.ndarray  # reward total - HARD_PENALTY * hard violations
    reward: np.ndarray  # the search's reward total
    hard: np.ndarray  # hard violations
    held_out: dict[str, np.ndarray] = field(default_factory=dict)  # metric -> per candidate
    diversity: float = 0.0  # mean pairwise 1 - motif Jaccard similarity of the melodies


def given_table(checkpoint: Path) -> tuple[np.ndarray, int]:
    """(which ids are given, not chosen: conditioning and chords; the pad id) of a checkpoint's
    vocabulary, as ``compose train``'s loss mask has them."""
    _, vocab = load(checkpoint)
    return np.isin(vocab.kind, (OTHER, CHORD)), int(vocab["PAD_None"])


def sample_contexts(
    checkpoint: Path, ctxs: Sequence[Context], k: int, seed: int, salt: int = 0
) -> list[Sampled]:
    """``k`` candidates per context from ``checkpoint``, scored; seeded by (seed, salt, index)."""
    from composer.search.batch import SongContext, check, score_batch

    gen = RecordingGenerator(checkpoint)
    out = []
    for i, ctx in enumerate(ctxs):
        rng = np.random.default_rng([seed, salt, i])
        segs = gen.generate(ctx.section, GenerationContext(ctx.plan), k, rng)
        if len(gen.completions) != len(segs):  # a meter the model has no token for
            continue
        meter = ctx.plan.meter()
        result = check(segs, ctx.section, ctx.plan)
        song_ctx = SongContext(meter.bar_ticks // meter.beat_ticks, ctx.style)
        scored = score_batch(result, segs, ctx.section, song_ctx, ctx.weights, ctx.model)
        reward = np.array([s.rewards["total"] for s in scored])
        hard = np.array([s.hard for s in scored], dtype=np.float64)
        length = ctx.section.bars * meter.bar_ticks
        out.append(
            Sampled(
                ctx.name,
                tuple(gen.prefix),
                tuple(tuple(c) for c in gen.completions),
                reward - HARD_PENALTY * hard,
                reward,
                hard,
                held_out_metrics([s.segment.notes for s in scored], meter.beat_ticks, length),
                _diversity([s.motifs for s in scored]),
            )
        )
    return out


def held_out_metrics(notes: Sequence[np.ndarray], beat: int, length: int) -> dict[str, np.ndarray]:
    """Per candidate: the held-out corpus metrics of its melody (no reward computes them)."""
    from composer.eval import metrics as ev

    rows: dict[str, list[float]] = {}
    for n in notes:
        mel = track_notes(n, TRACK_MELODY)
        m = ev.melody_metrics(mel["pitch"].astype(np.int64), mel["duration"], beat)
        m["scale_consistency"] = ev.scale_consistency(mel["pitch"])
        m["empty_beat_rate"] = ev.empty_beat_rate(mel["onset"], mel["duration"], beat, length)
        for key, v in m.items():
            rows.setdefault(key, []).append(float(v))
    return {k: np.array(v) for k, v in rows.items()}


def held_out_score(metrics: Mapping[str, float]) -> float:
    """One number to stop on: the held-out metrics summed in their better direction
    (:data:`composer.eval.harness.DIRECTION`), higher = closer to the corpus."""
    from composer.eval.harness import DIRECTION, HELD_OUT

    return float(sum(DIRECTION[k] * metrics[k] for k in HELD_OUT if k in metrics))


def _diversity(motifs: Sequence[np.ndarray]) -> float:
    from composer.search.similarity import motif_similarity

    n = len(motifs)
    if n < 2:
        return 0.0
    pairs = [(a, b) for a in range(n) for b in range(a + 1, n)]
    return float(np.mean([1.0 - motif_similarity(motifs[a], motifs[b]) for a, b in pairs]))
