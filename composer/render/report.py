"""The JSON report written next to every song: what was asked, what was planned, what was chosen
and why. It validates against its own model (``Report.model_validate_json``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from composer.render.songstate import SongState, song_state
from grammar.brief.explain import Understood
from kernels.notes import TICKS_PER_BEAT
from planners.plan import TrackPlan

if TYPE_CHECKING:
    from composer.compilation import Compilation
    from composer.search.batch import Choice
    from composer.search.lattice import SearchConfig

SCHEMA_VERSION = 5  # 2: search settings, per-reward margins, path margin, diversity; 3: checkpoint
# 4: files (every output written, with what its renderer measured), understood (the prompt read)
# 5: song (the song state `compose revise` reads, composer/render/songstate.py)


# what a section's report copies from its plan
PLAN_FIELDS = {
    "id", "label", "name", "role", "start_bar", "bars", "key", "cadence", "relation", "source",
}  # fmt: skip


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChordReport(_Model):
    bar: int = Field(ge=1)
    beat: float = Field(ge=1)
    symbol: str
    roman: str


class ChoiceReport(_Model):
    candidate: int = Field(ge=0, description="index of the chosen candidate")
    candidates: int = Field(ge=1, description="how many were proposed on its search path")
    proposed: int = Field(ge=1, description="how many were proposed over all search paths")
    pruned: int = Field(
        ge=0, description="of its path's candidates, dropped for more hard violations than the best"
    )
    objective: float
    runner_up_objective: float | None = None
    margin: float | None = Field(
        None, description="objective lead over the runner-up (negative if it won on violations)"
    )
    runner_up_violations: int | None = None
    decided_by: str = Field(
        description="violations, score, path (a better song with a lower-scoring candidate "
        "here: better seams or later sections), or only candidate"
    )
    reward_margins: dict[str, float] = Field(
        default_factory=dict,
        description="per reward, the chosen candidate's value minus the runner-up's",
    )
    path_margin: float | None = Field(
        None,
        description="per bar, how much better the song is than the best other song the search "
        "kept that chose differently here (None: every kept song chose this one)",
    )
    duplicates: int = Field(0, ge=0, description="dropped as near-duplicates of a better one")
    diversity: float = Field(
        0.0, description="mean pairwise melody dissimilarity of the candidates, 0..1"
    )
    junction: float = Field(description="smoothness of the seams with its neighbours, 0..1")
    material: str = Field(description="new, repeat or variation")
    seed: int = Field(description="the candidate's seed")


class ArrangementReport(_Model):
    level: str = Field(description="the patterns the band plays: low, mid, high or bridge")
    energy: int = Field(ge=1, le=5, description="1 sparse .. 5 the last chorus (dynamics)")
    fill: bool = Field(description="a drum fill in the last bar, into the next section")


class FeelReport(_Model):
    swing: float = Field(description="where the off-beat eighth falls in the beat (0.5 straight)")
    humanised: bool = Field(description="seeded timing/velocity looseness (off: --quantized)")
    drums: str | None = Field(description="the drum kit, None for a style without drums")
    ritardando: list[float] = Field(description="bpm at the start and end of the final ritardando")
    count_in_bars: int = Field(
        0,
        ge=0,
        description="bars of drum count-in the MIDI file plays before bar 1 (a 'bar 1' marker "
        "follows them); not counted in bars or duration_seconds",
    )


class SectionReport(_Model):
    id: str
    label: str
    name: str
    role: str
    start_bar: int = Field(ge=1)
    bars: int = Field(ge=1)
    key: str
    cadence: str
    relation: str
    source: str | None = None
    chords: list[ChordReport]
    scores: dict[str, float]
    violations: dict[str, int]
    choice: ChoiceReport
    arrangement: ArrangementReport | None = None


class EdgeReport(_Model):
    source: str
    target: str
    relation: str


class SearchReport(_Model):
    beam: int
    diversity: float
    weights: dict[str, float]
    learned_model: str | None = Field(description="the learned reward model used, if any")
    adaptive: bool = Field(False, description="candidates sampled in rounds until one led")


class FileReport(_Model):
    path: str
    kind: str = Field(description="midi, audio, musicxml, lead sheet, score, plan picture")
    bytes: int = Field(ge=0)
    details: dict[str, int | float | str] = Field(
        default_factory=dict, description="audio: seconds, lufs, true_peak_dbtp; pictures: pages"
    )


class Report(_Model):
    schema_version: int = SCHEMA_VERSION
    title: str
    prompt: str | None = None
    style: str
    feel: FeelReport | None = None
    key: str
    tempo: int
    time_signature: str
    bars: int
    duration_seconds: float
    tracks: list[TrackPlan]
    generator: str
    checkpoint: str | None = Field(
        None, description="the generator's model folder, if one was given (None: its own model)"
    )
    seed: int
    candidates: int
    search: SearchReport | None = None
    sections: list[SectionReport]
    form_graph: list[EdgeReport]
    timings: dict[str, float] = Field(description="seconds per pass")
    files: list[FileReport] = Field(
        default_factory=list, description="the outputs written with this report"
    )
    understood: Understood | None = Field(
        None, description="what the prompt was understood to ask (None: no prompt)"
    )
    song: SongState | None = Field(
        None, description="the notes chosen, arranged and played per section, for revising"
    )


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def choice_report(ch: Choice) -> ChoiceReport:
    """Why this candidate: its objective, the runner-up's, and what decided between them."""
    runner = ch.runner_up
    return ChoiceReport(
        candidate=ch.chosen.index,
        candidates=ch.candidates,
        proposed=ch.proposed or ch.candidates,
        pruned=ch.pruned,
        objective=round(ch.chosen.objective, 4),
        runner_up_objective=None if runner is None else _r(runner.objective),
        margin=_r(ch.margin),
        runner_up_violations=None if runner is None else runner.hard,  # hard ones only
        decided_by=ch.decided_by,
        reward_margins={}
        if runner is None
        else {
            k: round(v - runner.rewards[k], 4)
            for k, v in ch.chosen.rewards.items()
            if k in runner.rewards
        },
        path_margin=_r(ch.path_margin),
        duplicates=ch.duplicates,
        diversity=round(ch.diversity, 4),
        junction=round(ch.chosen.junction, 4),
        material=str(ch.chosen.segment.provenance.get("material", "new")),
        seed=ch.chosen.segment.seed,
    )


def _seconds(tempo: int, changes: list[tuple[int, float]], total: int) -> float:
    """Playing time of ``total`` ticks from ``tempo`` with tempo ``changes`` (tick, bpm)."""
    out, at, bpm = 0.0, 0, float(tempo)
    for tick, new in [*changes, (total, 0.0)]:
        out += (tick - at) / TICKS_PER_BEAT * 60 / bpm
        at, bpm = tick, new
    return out


def build_report(c: Compilation, config: SearchConfig | None = None) -> Report:
    """The report of a finished compilation (every pass run); ``config``: the search settings
    it was composed with (:func:`composer.pipeline.search_config`)."""
    from composer.arrange import section_energies
    from composer.arrange.drums import count_in
    from composer.arrange.perform import ritardando
    from planners.styles import song_style

    plan = c.need_plan()
    assert c.graph is not None
    style = song_style(plan)
    energies = section_energies(plan) if c.energies is None else c.energies
    meter = plan.meter()
    total = plan.total_bars * meter.bar_ticks
    rit = ritardando(plan.tempo, meter, total)
    sections = [
        SectionReport(
            **s.model_dump(include=PLAN_FIELDS),
            chords=[
                ChordReport(bar=e.bar, beat=e.beat, symbol=e.symbol, roman=e.roman)
                for e in s.chords
            ],
            scores={k: round(v, 4) for k, v in c.choices[s.id].chosen.rewards.items()},
            violations=c.choices[s.id].chosen.violations,
            choice=choice_report(c.choices[s.id]),
            arrangement=ArrangementReport(
                level=energies[s.index].level,
                energy=energies[s.index].energy,
                fill=style.drums is not None and s.index + 1 < len(plan.sections) and s.bars >= 2,
            ),
        )
        for s in plan.sections
    ]
    return Report(
        **plan.model_dump(
            include={
                "title",
                "prompt",
                "style",
                "key",
                "tempo",
                "time_signature",
                "generator",
                "checkpoint",
                "seed",
                "candidates",
                "understood",
            }
        ),
        search=None
        if config is None
        else SearchReport(
            beam=config.beam,
            diversity=config.diversity,
            weights={k: round(v, 4) for k, v in config.weights.items()},
            learned_model=None if config.model is None else config.model.meta.get("name"),
            adaptive=config.adaptive,
        ),
        feel=FeelReport(
            swing=style.feel.swing,
            humanised=not c.spec.quantized and style.feel.humanise > 0,
            drums=None if style.drums is None else style.drums.kit,
            ritardando=[float(plan.tempo), round(rit[-1][1], 1)] if rit else [],
            count_in_bars=count_in(style, meter, plan.count_in, plan.tempo)[0] // meter.bar_ticks,
        ),
        bars=plan.total_bars,
        duration_seconds=round(_seconds(plan.tempo, rit, total), 2),
        tracks=list(plan.tracks),
        sections=sections,
        form_graph=[
            EdgeReport(source=u, target=v, relation=k) for u, v, k in c.graph.edges(keys=True)
        ],
        timings={k: round(v, 4) for k, v in c.timings.items()},
        song=song_state(c),
    )
