"""``transformer``: a melody model trained on real music, over the rules' accompaniment.

The melody comes from the small decoder shipped in ``composer/generators/transformer/checkpoint``
(trained by
``compose train`` on Bach chorale sopranos and ~13,000 folk tunes), conditioned on the
section's mode, meter, place in the form, length, the chord of every beat and, for a varied or
repeated section, its source's melody. ``n`` candidates are sampled in one batch
(:func:`composer.generators.transformer.sampling.sample`) under grammar-safe decoding
(:mod:`composer.generators.transformer.processors`): every candidate has exactly the section's
bars, a note
in every bar, one line without overlaps, pitches in range and in key. Chords and bass come
from the same rule code as the ``rules`` generator, so the tracks match.

A meter the model has no token for is left to the ``rules`` generator (recorded in each
candidate's provenance).
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from composer.generators.base import GenerationContext
from composer.generators.rules.accompaniment import accompany, last_voicing
from composer.generators.rules.generator import RuleGenerator, assemble
from composer.generators.rules.timeline import ChordTimeline
from composer.generators.transformer.model import CHECKPOINT
from composer.generators.transformer.tokens import (
    CENTRE,
    METERS,
    TICKS_PER_POS,
    Section,
    bar_positions,
    default_phrases,
    energy_of,
    tempo_of,
)
from composer.segment import Segment, last_pitch
from grammar.errors import GeneratorError
from grammar.keys import Key
from kernels.notes import TRACK_BASS, TRACK_MELODY, track_notes
from planners.plan import MelodyPlan, SectionPlan, SongPlan

TEMPERATURE = 1.0  # the model's own distribution; the search, not the sampler, picks the best
TOP_P = 0.95  # cut the long tail of unlikely tokens (a stray 16th in a chorale)
MAX_LEAP = 12  # the kernels' large_leaps limit
# Chord tones on strong beats made e^1 = 2.7x likelier: unbiased, the model's melodies land on
# chord tones less often than the corpus does over the plan's chords (0.75 against 0.86 on the
# examples); with 1.0, 0.937 against the corpus's 0.864 (benchmarks/eval_generators.py, 56 specs).
CHORD_TONE_BIAS: float | None = 1.0
# A decoding step is 16 rows x 1 token: too small to split across cores, and on a busy machine a
# second thread waits for a core (measured: 20x slower under load). Training sets its own.
SAMPLING_THREADS = 1


# What `compose train` writes that loading needs: the weights, their shape, the token ids.
REQUIRED = ("config.json", "model.safetensors", "vocab.json")


def missing_files(folder: Path) -> list[str]:
    """The files of :data:`REQUIRED` that ``folder`` lacks."""
    return [name for name in REQUIRED if not (folder / name).is_file()]


@lru_cache(maxsize=2)
def load(folder: Path = CHECKPOINT) -> tuple[Any, Any]:
    """(model, vocab) of a checkpoint folder, loaded once per process: the model is its
    :class:`composer.generators.transformer.weights.Weights` (read from ``model.safetensors``, no
    ``transformers`` import), or for a model the compiled decoder cannot run (not a float32
    Llama without biases) the ``transformers`` model itself."""
    import json

    from composer.generators.transformer.model import check_config, load_model
    from composer.generators.transformer.tokens import Vocab
    from composer.generators.transformer.weights import load_weights, unsupported

    missing = missing_files(folder)
    if missing:  # checked first: weights without their config.json load as a default-size Llama
        raise GeneratorError(
            "generator",
            f"no {', '.join(missing)} in {folder} (run `compose train` or `make model`)",
        )
    try:
        vocab = Vocab.of_checkpoint(folder)  # version 1 (no style tokens) or 2
    except ValueError as exc:
        raise GeneratorError("generator", str(exc)) from None
    check_config(folder)  # ValueError (a crafted size) before anything is allocated
    if unsupported(json.loads((folder / "config.json").read_text(encoding="utf-8"))) is not None:
        return load_model(folder), vocab
    return load_weights(folder), vocab


# The style token a song's style is composed with: a style the corpus has examples of is itself
# (composer.training.melody_labels); classical and ballad take the chorales' slow, plain hymn
# (the nearest labelled idiom: long notes, few 16ths), country the folk tunes. Jazz, blues, pop,
# rock, funk, swing, shuffle and bossa have no example in the corpus: they are composed with
# the neutral token, and the melody plan's masks (rhythm vocabulary, phrase ends, register)
# carry their idiom.
STYLE_TOKEN = {
    "hymn": "hymn", "classical": "hymn", "ballad": "hymn",
    "folk": "folk", "country": "folk",
    "jig": "jig", "reel": "reel", "waltz": "waltz", "march": "march",
}  # fmt: skip
# A slow jazz song is a ballad: sung in long notes, the chorales' idiom rather than the neutral
# token's (which the folk collections' running eighths dominate: the examples' jazz ballad ran
# in eighths under it). Not pop or rock: there a slow variation under the hymn token kept too
# little of its source (a waltz-time pop song's A' shared no note with its A).
BALLAD_WHEN_SLOW = ("jazz", "swing", "bossa")
PHRASE_END = {"breath": "end", "half": "end", "full": "final"}


def style_token(style: str, tempo: int | None = None) -> str:
    """The ``Style_*`` token a song of ``style`` (at ``tempo`` bpm) is composed with (``none``:
    no corpus example; a slow jazz, pop, ... song: ``hymn``, the lyrical idiom)."""
    if tempo is not None and style in BALLAD_WHEN_SLOW and tempo_of(tempo) == "slow":
        return "hymn"
    return STYLE_TOKEN.get(style, "none")


def phrase_marks(section: SectionPlan) -> tuple[str, ...]:
    """Per bar: ``in``, ``end`` (the last bar of a planned phrase that ends long) or ``final``
    (a ``full`` end); the section's last bar always ends; the corpus's four-bar default without
    a melody plan."""
    plan = section.melody
    if plan is None or not plan.phrases:
        return default_phrases(section.bars)
    marks = ["in"] * section.bars
    for ph in plan.phrases:
        last = min(ph.start_bar + ph.bars - 1, section.bars) - 1
        if last >= 0 and (ph.long_end or last == section.bars - 1):  # else it runs on
            marks[last] = PHRASE_END[ph.end]
    marks[-1] = "final" if marks[-1] == "final" or plan.phrases[-1].end == "full" else "end"
    return tuple(marks)


def energy_token(section: SectionPlan, song: SongPlan) -> str:
    """The planned density's band (``MelodyPlan.density``, onsets per felt beat); without a
    melody plan, the arrangement's energy level of the section."""
    if section.melody is not None:
        return energy_of(section.melody.density)
    from composer.arrange.energy import section_energies

    level = section_energies(song)[section.index].energy
    return "low" if level <= 2 else "high" if level >= 4 else "mid"


def role_of(section: SectionPlan, sections: int) -> str:
    """The corpus has no verse/chorus labels: the model knows a section's place in the form."""
    if section.index == 0 or section.role == "intro":
        return "open"
    if section.index == sections - 1 or section.role in ("outro", "coda"):
        return "close"
    return "inner"


def chord_grid(section: SectionPlan, key: Key, bar_ticks: int, beat_ticks: int) -> list[list[str]]:
    """The chord token of every felt beat of every bar, relative to the key's tonic."""
    from composer.generators.transformer.tokens import chord_token

    timeline = ChordTimeline.of(section)
    beats = bar_ticks // beat_ticks
    out = []
    for b in range(section.bars):
        row = []
        for k in range(beats):
            c = timeline.at(b * bar_ticks + k * beat_ticks) if timeline.chords else None
            row.append("N" if c is None else chord_token(c.root, c.quality, key.tonic))
        out.append(row)
    return out


def register_shift(key: Key, low: int, high: int) -> int:
    """Semitones from key-relative (tonic C) to sounding pitch: the tonic's transposition that
    puts the middle of the melody range nearest the model's centre."""
    mid = (low + high) / 2
    return min((key.tonic + 12 * k for k in range(-3, 4)), key=lambda s: abs(mid - s - CENTRE))


class TransformerGenerator:
    """Melodies sampled from the shipped model; accompaniment from the rules."""

    name = "transformer"

    def __init__(
        self,
        checkpoint: Path = CHECKPOINT,
        temperature: float = TEMPERATURE,
        top_p: float = TOP_P,
        chord_tones: float | None = CHORD_TONE_BIAS,
    ) -> None:
        self.checkpoint = checkpoint
        self.temperature = temperature
        self.top_p = top_p
        self.chord_tones = chord_tones  # None: off; inf: required; else a logit bias

    def condition_key(self, section: SectionPlan, context: GenerationContext) -> Hashable:
        """All that :meth:`generate` reads from ``context`` besides the plan: the source's
        melody, the previous section's last chord voicing and bass note (the accompaniment
        leads on from them) and the variant. Equal keys: the same candidates for the same rng,
        so the search samples once for the paths that share one (``composer.lattice``). None
        (never shared) where the rules generator stands in: it reads the previous melody too."""
        if str(context.song.meter()) not in METERS:
            return None
        src = context.source
        melody = None if src is None else track_notes(src.notes, TRACK_MELODY).tobytes()
        prev = context.previous
        return (melody, last_voicing(prev), last_pitch(prev, TRACK_BASS), context.variant)

    def generate(
        self, section: SectionPlan, context: GenerationContext, n: int, rng: np.random.Generator
    ) -> list[Segment]:
        song = context.song
        meter = song.meter()
        if str(meter) not in METERS:
            out = RuleGenerator().generate(section, context, n, rng)
            why = f"rules: the model has no {meter} meter"
            return [
                Segment(s.section_id, s.notes, self.name, s.seed, {**s.provenance, "fallback": why})
                for s in out
            ]
        key = section.key_obj()
        length = section.bars * meter.bar_ticks
        chords, bass = accompany(section, context)
        shift = register_shift(key, song.melody_low, song.melody_high)
        material = {"varies": "vary", "repeats": "repeat"}.get(section.relation, "new")
        source = _source_notes(context.source, shift) if context.source is not None else None
        if source is None:
            material = "new"
        rows = 1 if section.relation == "repeats" and _all_repeated(section, context) else n
        seed = int(rng.integers(2**31))
        melodies, invalid = self.melodies(
            Section(
                mode=key.mode,
                meter=str(meter),
                role=role_of(section, len(song.sections)),
                bars=section.bars,
                chords=tuple(
                    tuple(r) for r in chord_grid(section, key, meter.bar_ticks, meter.beat_ticks)
                ),
                source=source,
                material=material,
                style=style_token(song.style, song.tempo),
                tempo=tempo_of(song.tempo),
                energy=energy_token(section, song),
                phrases=phrase_marks(section),
            ),
            key,
            (song.melody_low - shift, song.melody_high - shift),
            meter.strong_offsets,
            rows,
            seed,
            _floor(chords, length, shift),
            plan=section.melody,
            shift=shift,
        )
        out = []
        for i, mel in enumerate(melodies):
            notes = [(o * TICKS_PER_POS, d * TICKS_PER_POS, p + shift) for o, d, p in mel]
            cand_rng = np.random.default_rng([seed, i])
            arr = assemble(notes, chords, bass, section.role, meter.bar_ticks, cand_rng)
            prov = {"material": material, "row": i, "problems": invalid[i]}
            out.append(Segment(section.id, arr, self.name, seed, prov))
        return out

    def melodies(
        self,
        sec: Section,
        key: Key,
        pitch_range: tuple[int, int],
        strong_ticks: tuple[int, ...],
        rows: int,
        seed: int,
        floor: np.ndarray | None = None,
        plan: MelodyPlan | None = None,
        shift: int = 0,
    ) -> tuple[list[list[tuple[int, int, int]]], list[list[str]]]:
        """``rows`` key-relative melodies (onset, duration in 16ths, pitch) for ``sec``, and
        what an independent reader finds wrong with each token sequence (empty lists: none).
        With a melody ``plan`` its phrase ends, rhythm vocabulary and register are decoding
        masks (:mod:`composer.generators.transformer.plan_rules`; ``shift``: semitones from
        key-relative to sounding pitch)."""
        import torch

        from composer.generators.transformer import gpu
        from composer.generators.transformer.plan_rules import plan_rules
        from composer.generators.transformer.processors import section_fused, section_processors
        from composer.generators.transformer.sampling import sample, sample_fused
        from composer.generators.transformer.weights import Weights
        from grammar.meter import parse_time_signature

        model, vocab = load(self.checkpoint)
        ts = parse_time_signature(sec.meter)
        per_bar = bar_positions(ts)
        beat = ts.beat_ticks // TICKS_PER_POS
        tessitura, rhythm = plan_rules(plan, sec.phrase_marks(), per_bar, beat, pitch_range, shift)
        compiled = isinstance(model, Weights)
        procs: Any = (section_fused if compiled else section_processors)(
            vocab, rows, per_bar, sec.chords, beat,
            phrases=vocab.phrase_tokens(sec),
            tessitura=tessitura,
            rhythm=rhythm,
            pitch_range=pitch_range,
            scale=frozenset((pc - key.tonic) % 12 for pc in range(12) if key.scale_mask >> pc & 1)
            | _planned_colours(plan),
            max_leap=MAX_LEAP,
            temperature=self.temperature,
            top_p=self.top_p,
            floor=floor,
            strong=None if self.chord_tones is None
            else frozenset(t // TICKS_PER_POS for t in strong_ticks),
            chord_bias=self.chord_tones,
            blue=_planned_blues(plan),
        )  # fmt: skip
        prefix = vocab.prefix(sec)
        max_new = sec.bars * (2 + len(sec.chords[0]) + 3 * per_bar) + 1
        threads = torch.get_num_threads()
        torch.set_num_threads(SAMPLING_THREADS)
        try:
            eos, pad = vocab["EOS_None"], vocab["PAD_None"]
            if compiled and gpu.current_device() is not None:  # --device cuda
                ids = gpu.sample_fused(model, prefix, rows, procs, max_new, eos, pad, seed)
            elif compiled:
                ids = sample_fused(model, prefix, rows, procs, max_new, eos, pad, seed)
            else:
                ids = sample(model, prefix, rows, procs, max_new, eos, pad, seed)
        finally:
            torch.set_num_threads(threads)
        from composer.generators.transformer.sequence_check import problems

        rows_ = [row.tolist() for row in ids]
        return (
            [vocab.decode_notes(r, sec.meter) for r in rows_],
            [problems(vocab, r, sec.chords, per_bar, vocab.phrase_tokens(sec)) for r in rows_],
        )


def _planned_colours(plan: MelodyPlan | None) -> frozenset[int]:
    """Pitch classes above the tonic the plan adds to the key's scale: blue notes (the blues)
    and modal colours."""
    if plan is None:
        return frozenset()
    return frozenset(p % 12 for p in (*plan.rhythm.blue_notes, *plan.rhythm.colours))


def _planned_blues(plan: MelodyPlan | None) -> tuple[frozenset[int], float] | None:
    """The plan's blue notes (pitch classes above the tonic) and the idiom's logit bias for them,
    or None where the style sings none or gives them no bias. The b5 stays allowed (the key
    mask) but is not made likelier: it is a passing colour, the b3 and b7 are leaned on."""
    if plan is None or plan.rhythm.blue_bias <= 0:
        return None
    blues = frozenset(p % 12 for p in plan.rhythm.blue_notes) - {6}
    return (blues, plan.rhythm.blue_bias) if blues else None


def _floor(chords: list[tuple[int, int, int]], length: int, shift: int) -> np.ndarray:
    """Per 16th of the section: the accompaniment's top pitch sounding there, key-relative
    (-1 where none sounds)."""
    floor = np.full(length // TICKS_PER_POS, -1, dtype=np.int64)
    for onset, dur, pitch in chords:
        a, b = onset // TICKS_PER_POS, -(-(onset + dur) // TICKS_PER_POS)
        floor[a:b] = np.maximum(floor[a:b], pitch - shift)
    return floor


def _source_notes(seg: Segment, shift: int) -> tuple[tuple[int, int, int], ...] | None:
    m = track_notes(seg.notes, TRACK_MELODY)
    notes = tuple(
        (int(r["onset"]) // TICKS_PER_POS, max(1, int(r["duration"]) // TICKS_PER_POS),
         int(r["pitch"]) - shift)
        for r in m
    )  # fmt: skip
    return notes or None


def _all_repeated(section: SectionPlan, context: GenerationContext) -> bool:
    """A repeat whose every bar has its source's chords: the pipeline splices all of it."""
    from composer.search.material import same_chord_bars

    if context.source is None:
        return False
    src = context.song.section(context.source.section_id)
    bar_ticks = context.song.meter().bar_ticks
    return len(same_chord_bars(section, src, bar_ticks)) == section.bars
