"""The library API. Everything the CLI does goes through here.

    from composer.app import api
    song = api.compose(api.build_spec(None, {"form": "AABA", "prompt": "a waltz in D minor"}))
    song.save("waltz.mid")           # and waltz.json

Register a section generator with :func:`register_generator` (or an entry point, see README).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from composer.app.output import check_midi_path, check_targets, report_path, write_files
from composer.compilation import Progress
from composer.eval.harness import seed_diversity, song_metrics, summarise, write
from composer.generators.registry import Factory, available, register
from composer.pipeline import PLANNING, compile_song, song_notes
from composer.render.leadsheet import LeadSheet
from composer.render.outputs import check_outputs, outputs_report_path, render_outputs
from composer.render.report import FileReport, Report, build_report
from grammar.errors import ComposeError, OutputError, SpecError, shorten
from grammar.paths import input_problem
from grammar.spec import SongSpec, load_spec, merge_overrides, spec_json_schema, validate_spec
from planners.plan import SongPlan


@dataclass(frozen=True)
class Song:
    plan: SongPlan
    notes: np.ndarray  # NoteArray of the whole song, absolute ticks
    midi: bytes
    report: Report

    def report_json(self) -> str:
        return self.report.model_dump_json(indent=2) + "\n"

    def write(
        self, paths: list[str | Path], force: bool = False, inputs: Sequence[Path] = ()
    ) -> dict[Path, FileReport]:
        """Render every output (the suffix picks the format, see
        :mod:`composer.render.outputs`) and write them with the report beside the first, all or
        none; refuses to overwrite unless ``force``, and never overwrites one of ``inputs``.
        Returns what was written."""
        targets = [Path(p) for p in paths]
        check_outputs(targets)
        report = outputs_report_path(targets)
        check_targets([*targets, report], force, inputs=inputs)
        rendered = render_outputs(
            targets, self.plan, self.notes, self.midi, self.report.duration_seconds
        )
        files = {
            p: FileReport(path=str(p), kind=r.kind, bytes=len(r.data), details=r.details)
            for p, r in rendered.items()
        }
        full = self.report.model_copy(update={"files": list(files.values())})
        data = {p: r.data for p, r in rendered.items()}
        write_files(
            {**data, report: (full.model_dump_json(indent=2) + "\n").encode()}, force, inputs=inputs
        )
        return files

    def save(self, path: str | Path, force: bool = False) -> None:
        """Write the MIDI file and the report beside it (.json); refuses to overwrite
        unless ``force``."""
        p = Path(path)
        check_midi_path(p)
        write_files({p: self.midi, report_path(p): self.report_json().encode()}, force)


def build_spec(spec_path: str | Path | None, overrides: dict[str, Any] | None = None) -> SongSpec:
    """A spec from an optional YAML file with flag-style overrides on top (None = not given)."""
    base = load_spec(spec_path) if spec_path is not None else validate_spec({})
    return merge_overrides(base, overrides or {})


def spec_inputs(spec_path: str | Path | None, spec: SongSpec) -> list[Path]:
    """The files a compose run reads (the spec, a preferences profile): never its outputs."""
    paths = [Path(spec_path)] if spec_path is not None else []
    if spec.preferences is not None and spec.preferences.profile:
        paths.append(Path(spec.preferences.profile).expanduser())
    return paths


def _as_spec(spec: SongSpec | dict[str, Any]) -> SongSpec:
    return spec if isinstance(spec, SongSpec) else validate_spec(spec)


def compose(
    spec: SongSpec | dict[str, Any], *, progress: Progress | None = None, debug: bool = False
) -> Song:
    """Compile a spec into a song (all passes)."""
    c = compile_song(_as_spec(spec), progress=progress, debug=debug)
    assert c.plan is not None and c.config is not None
    report = build_report(c, c.config)
    return Song(plan=c.plan, notes=song_notes(c), midi=c.midi, report=report)


def plan(spec: SongSpec | dict[str, Any]) -> LeadSheet:
    """Only the planning passes: form graph, keys and chords, no notes."""
    c = compile_song(_as_spec(spec), stop_after=PLANNING[-1])
    assert c.plan is not None and c.graph is not None
    return LeadSheet(c.plan, c.graph)


def evaluate(
    folder: str | Path,
    out_dir: str | Path,
    seeds: Sequence[int] = (1, 2, 3),
    overrides: dict[str, Any] | None = None,
    save_results: bool = True,
    *,
    force: bool = False,
    on_error: Callable[[Path, ComposeError], None] | None = None,
) -> dict[str, Any]:
    """Compose every ``*.yaml`` spec of ``folder`` (sorted by name) once per seed with
    ``overrides`` on top, write the songs under ``out_dir``, and measure them
    (:mod:`composer.eval.harness`); with ``save_results``, also ``eval.json`` and ``eval.md``.

    The output follows compose's rules, checked before any work: ``out_dir``'s parent must
    exist (only ``out_dir`` itself is created), and no file is replaced without ``force``.
    A bad spec is passed to ``on_error`` and listed under ``failed``; the others go on."""
    from composer.eval.harness import spec_files, targets

    src, out = Path(folder), Path(out_dir)
    seeds = list(dict.fromkeys(seeds))  # a seed given twice is one run
    for seed in seeds:  # before any work, not once per spec
        try:
            validate_spec({"seed": seed})
        except SpecError as exc:
            raise SpecError("--seed", exc.problem) from None
    specs = spec_files(src)
    files = targets(src, out, seeds)
    if out.exists() and not out.is_dir():
        raise OutputError("--output", f"'{shorten(out, 120)}' is a file, not a folder")
    if out.exists():
        check_targets(files, force)  # nothing there is replaced without force
    else:
        check_targets([out], False)  # its parent exists and is writable
    out.mkdir(exist_ok=True)
    rows, diversity = [], {}
    failed: list[dict[str, str]] = []

    def fail(path: Path, exc: ComposeError) -> None:
        failed.append({"spec": path.name, "error": str(exc)})
        if on_error is not None:
            on_error(path, exc)

    built = {}
    for path in specs:  # the inputs first: a bad spec is named before any work
        try:
            built[path] = [build_spec(path, {**(overrides or {}), "seed": s}) for s in seeds]
        except ComposeError as exc:
            fail(path, exc)
    for path, specs_of in built.items():
        made = []
        try:
            for seed, spec in zip(seeds, specs_of, strict=True):
                song = compose(spec)
                midi = out / f"{path.stem}-{seed}.mid"
                song.save(midi, force=True)  # the targets were checked before any work
                rows.append({"spec": path.stem, "seed": seed, **song_metrics(midi, song.report)})
                made.append(midi)
        except ComposeError as exc:
            fail(path, exc)
            continue
        diversity[path.stem] = seed_diversity(made)
    results = summarise([p.stem for p in specs], seeds, overrides, rows, diversity)
    results["failed"] = failed
    if save_results:
        write(results, out / "eval.json")
    return results


def train_reward(
    seed: int = 0,
    output: str | Path | None = None,
    limit: int | None = None,
    *,
    force: bool = False,
) -> dict:
    """Rebuild the learned reward model from music21's corpus (minutes; bit for bit for a
    seed) and write it (default: the shipped file). An existing file, the shipped one included,
    is replaced only with ``force``; the output is checked before any work."""
    from composer.reward_model import MODEL_PATH, default_model
    from composer.training.reward import RewardConfig, train

    if limit is not None and limit < 1:
        raise SpecError("--limit", f"must be at least 1, got {limit}")
    path = Path(output) if output is not None else MODEL_PATH
    if output is None and not force:
        raise OutputError(
            "--output",
            "without -o this replaces the shipped reward model: pass --force to rebuild it, "
            "or -o FILE for a new one",
        )
    check_targets([path], force)
    trained = train(RewardConfig(seed=seed, limit=limit), log=lambda _msg: None)
    write_files({path: trained.model.to_json().encode()}, force)
    default_model.cache_clear()
    return {"accuracy": trained.accuracy, "pairs": trained.counts, "path": str(path)}


def render_midi(midi_path: str | Path, outputs: list[str | Path], force: bool = False) -> None:
    """Audio of an existing MIDI file (``compose render song.mid -o song.wav``), all or none."""
    src = Path(midi_path)
    targets = [Path(p) for p in outputs]
    problem = input_problem(src)  # the input first: its error matters most
    if problem:
        raise OutputError("MIDI", problem)
    try:
        midi = src.read_bytes()
    except OSError as exc:
        raise OutputError("MIDI", f"cannot read '{src}': {exc.strerror or exc}") from None
    if not midi.startswith(b"MThd"):
        raise OutputError("MIDI", f"'{src}' is not a MIDI file")
    check_outputs(targets)
    check_targets(targets, force, inputs=[src])
    rendered = render_outputs(targets, None, np.zeros(0), midi, None)
    write_files({p: r.data for p, r in rendered.items()}, force, inputs=[src])


def spec_schema() -> dict[str, Any]:
    return spec_json_schema()


def generators() -> list[str]:
    return available()


def register_generator(name: str, factory: Factory) -> None:
    """Make a SectionGenerator available to ``--generator name`` in this process."""
    register(name, factory)
