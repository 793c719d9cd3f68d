"""``compose``: the command line. It parses, calls the library (:mod:`composer.app.api`), prints.

Errors a user can cause are printed as one line, ``error: <field>: <problem>``, with exit code 2
and no output file; see :mod:`grammar.errors`. Anything else is a bug: one line, exit code 1,
and the traceback with ``--debug``.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

try:  # a Ctrl-C during the imports is not a traceback
    import typer
    from typer.core import TyperGroup
    from typer.exceptions import TyperException

    from composer.app.output import check_targets, write_files
    from grammar.errors import MAX_PROBLEM, ComposeError, SpecError, shorten
except KeyboardInterrupt:
    print("interrupted", file=sys.stderr)
    sys.exit(130)

# The library (numpy, numba, torch, pydantic models, networkx) is imported inside each command,
# so `compose --help` and a usage error cost only typer (benchmarks/bench_speed.py measures it).

INTERRUPTED = 130  # typer turns Ctrl-C into this exit code (128 + SIGINT)

# `compose --help` lists the commands in the order a newcomer meets them: preview a plan, hear
# a MIDI file, revise a song or grow one from a fragment, list the styles and the generators,
# get the schema for an editor, compose many songs, measure, warm the caches, then training.
COMMAND_ORDER = (
    "plan",
    "render",
    "revise",
    "continue",
    "studio",
    "rate",
    "ratings",
    "learn",
    "styles",
    "generators",
    "schema",
    "batch",
    "eval",
    "warmup",
    "train",
    "train-reward",
    "align",
)


class _Ordered(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(COMMAND_ORDER)}
        return sorted(names, key=lambda n: rank.get(n, len(rank)))


app = typer.Typer(
    cls=_Ordered,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts show forms like [verse chorus]x2 literally
    help="Compose a long-form, structured song from a form, a spec or a prompt.\n\n"
    "Examples: compose --form AABA --prompt 'a wistful jazz ballad in Eb major, 72 bpm' "
    "-o song.mid; compose --spec examples/ballad.yaml -o song.mid",
)

# Options shared by `compose` and `compose plan`, declared once.
SpecOpt = Annotated[Path | None, typer.Option("--spec", help="YAML spec; flags override it.")]
FormOpt = Annotated[
    str | None, typer.Option(help='Form: AABA, "A A\' B A", "[verse chorus]x2 bridge chorus".')
]
PromptOpt = Annotated[
    str | None,
    typer.Option(
        help="Free text in English, German, French, Spanish or Italian: style, feel, tempo, "
        "mood, key, meter, instruments, length; flags and spec fields win over it."
    ),
]
KeyOpt = Annotated[str | None, typer.Option(help="Home key, e.g. 'Eb major', 'C# minor'.")]
TempoOpt = Annotated[int | None, typer.Option(help="Quarter notes per minute (20-300).")]
MeterOpt = Annotated[str | None, typer.Option("--time-signature", "--meter", help="e.g. 3/4, 6/8.")]
StyleOpt = Annotated[
    str | None,
    typer.Option(
        help="A style (see `compose styles`: pop, rock, jazz, swing, ...) or a .yaml file."
    ),
]
TitleOpt = Annotated[str | None, typer.Option(help="Song title (MIDI track name, report).")]
SeedOpt = Annotated[int | None, typer.Option(help="Random seed; same spec + seed = same MIDI.")]
CandOpt = Annotated[int | None, typer.Option(help="Candidates per section (1-256, default 16).")]
GenOpt = Annotated[str | None, typer.Option(help="Section generator (see `compose generators`).")]
CheckpointOpt = Annotated[
    str | None,
    typer.Option(
        metavar="MODELDIR",
        help="With --generator transformer (the default): compose with this model (a folder "
        "written by `compose train --data DIR --out MODELDIR`) instead of the shipped one.",
    ),
]


# The options that are spec fields (typer parameter name -> SongSpec field).
SPEC_FLAGS = {
    name: name
    for name in (
        "form",
        "prompt",
        "key",
        "tempo",
        "style",
        "title",
        "seed",
        "candidates",
        "generator",
        "checkpoint",
        "quantized",
        "count_in",
    )
} | {"meter": "time_signature"}


def _overrides(ctx: typer.Context) -> dict[str, Any]:
    """The spec fields given as flags (None = not given)."""
    return {field: ctx.params[name] for name, field in SPEC_FLAGS.items() if name in ctx.params}


@app.callback(invoke_without_command=True)
def compose(
    ctx: typer.Context,
    spec: SpecOpt = None,
    form: FormOpt = None,
    prompt: PromptOpt = None,
    key: KeyOpt = None,
    tempo: TempoOpt = None,
    meter: MeterOpt = None,
    style: StyleOpt = None,
    title: TitleOpt = None,
    seed: SeedOpt = None,
    candidates: CandOpt = None,
    generator: GenOpt = None,
    checkpoint: CheckpointOpt = None,
    quantized: Annotated[
        bool | None,
        typer.Option(
            "--quantized", help="Play exactly on the grid (no humanisation; swing stays)."
        ),
    ] = None,
    count_in: Annotated[
        bool | None,
        typer.Option(
            "--count-in/--no-count-in",
            help="The style's drum count-in before bar 1, in the MIDI file (default: as the "
            "style file says).",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Compose for this listener: the personal reward fitted by "
            "`compose learn --profile NAME` (same as preferences: {profile: NAME}).",
        ),
    ] = None,
    output: Annotated[
        list[Path] | None,
        typer.Option(
            "-o",
            "--output",
            help="File to write (repeatable); its suffix picks the format: .mid, .wav .flac "
            ".ogg .mp3 (audio), .musicxml, .pdf .svg .png (lead sheet), .score.pdf (full "
            "score), .plan.png (the plan). The report goes beside the first as .json. "
            "Default: song.mid.",
        ),
    ] = None,
    formats: Annotated[
        str | None,
        typer.Option(help="Also write these beside the first output, e.g. mid,wav,pdf,musicxml."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing output files.")] = False,
    debug: Annotated[bool, typer.Option(help="Validate the plan after every pass.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
    from_song: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="A song compose wrote (its .json): the sections the spec's lock: names are "
            "kept from it note for note.",
        ),
    ] = None,
    device: Annotated[
        str,
        typer.Option(help="Where the transformer samples: cpu (default), or cuda (cuda:N)."),
    ] = "cpu",
) -> None:
    """Compose a song: write each OUTPUT (default song.mid) and the report (.json)."""
    if ctx.invoked_subcommand is not None:
        return
    if device != "cpu":  # checked first; the CPU path imports nothing for it
        from composer.generators.transformer.gpu import use_device

        use_device(device)
    from composer.app import api
    from composer.app.progress import progress_for
    from composer.render.outputs import check_outputs, expand_formats, outputs_report_path

    song_spec = api.build_spec(spec, _overrides(ctx))  # the inputs first: their errors matter most
    if profile is not None:
        from composer.preferences.profiles import check_name, load_profile
        from grammar.spec import merge_overrides

        load_profile(check_name(profile))  # a bad or unknown profile: an error before any work
        prefs = (
            song_spec.preferences.model_dump(exclude_unset=True) if song_spec.preferences else {}
        )
        song_spec = merge_overrides(song_spec, {"preferences": {**prefs, "profile": profile}})
    outputs = expand_formats(output or [Path("song.mid")], formats)
    check_outputs(outputs)  # before composing: unknown suffix, missing tool
    report = outputs_report_path(outputs)
    inputs = api.spec_inputs(spec, song_spec)
    base = None
    if from_song is not None:  # revise and continue: the song the locked sections come from
        from composer.app.revise import load_song

        base = load_song(from_song)
        inputs += [from_song, from_song.with_suffix(".json"), from_song.with_suffix(".mid")]
    check_targets([*outputs, report], force, inputs=inputs)
    with progress_for(quiet) as progress:
        if base is not None:
            from composer.app.revise import compose_from

            song = compose_from(song_spec, base, progress=progress, debug=debug)
        else:
            song = api.compose(song_spec, progress=progress, debug=debug)
    song.write(list(outputs), force, inputs=inputs)
    if not quiet:
        r = song.report
        for line in r.understood.lines() if r.understood else ():
            typer.echo(line)
        minutes, seconds = divmod(round(r.duration_seconds), 60)
        typer.echo(
            f"wrote {', '.join(str(p) for p in outputs)} and {report}: '{r.title}', {r.bars} bars "
            f"({minutes}:{seconds:02d}), "
            f"{r.key}, {r.tempo} bpm, {r.time_signature}, {r.style}, form "
            f"{' '.join(s.name for s in r.sections)}, seed {r.seed}"
        )


@app.command("render")
def render_cmd(
    midi: Annotated[Path, typer.Argument(help="A MIDI file (from compose or anywhere).")],
    output: Annotated[
        list[Path],
        typer.Option("-o", "--output", help="Audio file(s) to write: .wav .flac .ogg .mp3."),
    ],
    force: Annotated[bool, typer.Option(help="Overwrite existing output files.")] = False,
) -> None:
    """Render a MIDI file to audio with FluidSynth and a General MIDI SoundFont."""
    from composer.app import api

    api.render_midi(midi, list(output), force)
    typer.echo(f"wrote {', '.join(str(p) for p in output)}")


@app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    spec: SpecOpt = None,
    form: FormOpt = None,
    prompt: PromptOpt = None,
    key: KeyOpt = None,
    tempo: TempoOpt = None,
    meter: MeterOpt = None,
    style: StyleOpt = None,
    title: TitleOpt = None,
    seed: SeedOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Print the plan (form graph, keys, chords per bar) without composing notes."""
    from composer.app import api

    song_spec = api.build_spec(spec, _overrides(ctx))
    lead = api.plan(song_spec)
    typer.echo(lead.to_json() if as_json else lead.to_text())


@app.command("schema")
def schema_cmd(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write here instead of stdout.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Print the JSON Schema of the spec (for editor completion of YAML specs)."""
    from composer.app import api

    text = json.dumps(api.spec_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_files({output: text.encode()}, force)


@app.command("styles")
def styles_cmd() -> None:
    """List the shipped styles: name, meter, tempo range, drums, feel, and what it sounds like."""
    from planners.styles import STYLES

    for st in STYLES.values():
        feel = "straight" if st.feel.swing == 0.5 else f"swing {st.feel.swing:.2f}"
        drums = st.drums.kit if st.drums is not None else "no drums"
        typer.echo(
            f"{st.name:10} {st.time_signature:4} {st.tempo[0]}-{st.tempo[2]} bpm  {feel:10} "
            f"{drums:9} {st.description}"
        )


@app.command("generators")
def generators_cmd() -> None:
    """List the section generators available (built-in and from plugins); marks the default."""
    from composer.app import api
    from planners.styles import DEFAULT_GENERATOR

    for name in api.generators():
        typer.echo(f"{name}  (default)" if name == DEFAULT_GENERATOR else name)


@app.command("batch")
def batch_cmd(
    specs: Annotated[
        list[Path], typer.Argument(help="YAML specs, folders of them, or .jsonl files.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for the songs and summary.json.")],
    workers: Annotated[
        int | None,
        typer.Option(help="Songs composed at once (processes; default 1, with Ray one per CPU)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Batch seed: seeds the specs that give none.")] = 0,
    force: Annotated[bool, typer.Option(help="Recompose songs already done.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    ray: Annotated[
        bool,
        typer.Option("--ray", help="Compose on a local Ray runtime (pip install 'songc[ray]')."),
    ] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(metavar="ADDR", help="Compose on the Ray cluster at ADDR (or 'auto')."),
    ] = None,
    device: Annotated[
        str, typer.Option(help="Where the transformer samples: cpu, or cuda (cuda:N) on a GPU.")
    ] = "cpu",
) -> None:
    """Compose many songs into OUT: NAME.mid + NAME.json each, summary.json; resumable."""
    from composer.batch import batch_progress, collect, run_batch
    from composer.generators.transformer.gpu import check_device

    if ray_address is None:  # on a cluster, the workers' GPUs count: each checks its own
        check_device(device)
    executor = None
    if ray or ray_address is not None:
        from composer.batch_ray import ray_pool

        executor = ray_pool(ray_address, workers if workers is not None else 0)
        if workers is None:  # the summary's count; 0: one per CPU of the cluster
            workers = (os.cpu_count() or 1) if ray_address is None else 0
    tasks = collect(specs, seed)
    with batch_progress(len(tasks), quiet) as advance:
        summary = run_batch(
            tasks, out, 1 if workers is None else workers, force, advance, executor, device
        )
    for s in summary["songs"]:
        if s["status"] == "error":
            typer.echo(f"error: {s['name']}: {s['error']}", err=True)
    c, rate = summary["counts"], summary["songs_per_minute"]
    typer.echo(
        f"{c['ok']} composed, {c['skipped']} skipped, {c['error']} failed in "
        f"{summary['seconds']} s"
        + (f" ({rate} songs/min)" if rate else "")
        + f"; {out / 'summary.json'}"
    )
    if c["error"]:
        raise typer.Exit(2)


@app.command("warmup")
def warmup_cmd() -> None:
    """Compile the kernels now (`make demo` runs it): no compile pause on the first song."""
    from composer.warmup import warmup

    for name, seconds in warmup().items():
        typer.echo(f"{name}: {seconds} s")


@app.command("eval")
def eval_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder of *.yaml specs.")],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder for the songs, eval.json, eval.md.")
    ] = Path("eval"),
    seed: Annotated[
        list[int] | None, typer.Option(help="Seeds to compose each spec with (repeatable).")
    ] = None,
    candidates: CandOpt = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing output files.")] = False,
) -> int:
    """Compose every spec in FOLDER for each seed and measure the MIDI written. A bad spec is
    named and skipped; the exit code is then 2."""
    from composer.app import api
    from composer.eval.harness import table

    def report(path: Path, exc: ComposeError) -> None:
        print(f"error: {shorten(path, 120)}: {exc}", file=sys.stderr)

    overrides = {} if candidates is None else {"candidates": candidates}
    results = api.evaluate(
        folder, output, seed or [1, 2, 3], overrides, force=force, on_error=report
    )
    typer.echo(table({"run": results}), nl=False)
    if results["failed"]:
        n = len(results["failed"])
        print(f"error: {n} spec{'s' if n > 1 else ''} failed (named above)", file=sys.stderr)
        return 2
    return 0


@app.command("train-reward")
def train_reward_cmd(
    seed: Annotated[int, typer.Option(help="Training seed (same seed = same file).")] = 0,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Default: the shipped model file (needs --force)."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Read at most this many chorales (quick runs).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Overwrite an existing file (needed to replace the shipped one).")
    ] = False,
) -> None:
    """Rebuild the learned reward model from music21's corpus; print held-out accuracy."""
    from composer.app import api

    out = api.train_reward(seed, output, limit, force=force)
    typer.echo(json.dumps(out, indent=2))


@app.command("learn")
def learn_cmd(
    profile: Annotated[
        str, typer.Option(metavar="NAME", help="The profile to fit (compose --profile NAME).")
    ] = "me",
    rater: Annotated[
        str | None, typer.Option(help="Whose ratings (default: the rater named like the profile).")
    ] = None,
) -> None:
    """Fit a listener's personal reward from their A/B ratings; print cross-validated accuracy."""
    from composer.preferences.learn import learn

    out = learn(profile, rater)
    typer.echo(json.dumps(out.to_json(), indent=2))


@app.command("train")
def train_cmd(
    data: Annotated[
        Path | None,
        typer.Option(help="Folder of MIDI/MusicXML/ABC files (default: music21's corpus)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Checkpoint folder (default: the shipped one, which needs --force; required "
            "with --data); compose with it by `compose --generator transformer --checkpoint OUT`."
        ),
    ] = None,
    steps: Annotated[int, typer.Option(min=1, help="Optimizer steps.")] = 600,
    max_minutes: Annotated[
        float | None, typer.Option(min=0, help="Stop early (after a save) past this time.")
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda (or cuda:N) for a GPU, mps.")] = "cpu",
    threads: Annotated[int, typer.Option(min=1, help="CPU threads for torch.")] = 2,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
    force: Annotated[
        bool, typer.Option(help="Replace the shipped checkpoint (when no --out is given).")
    ] = False,
) -> None:
    """Train the melody model of the `transformer` generator (resumable; logs validation loss)."""
    from composer.training.melody import TrainConfig, preflight, train
    from composer.training.progress import train_progress

    if data is not None and out is None:
        # a model of the user's own music never replaces the shipped one (or an earlier run)
        raise SpecError("out", "--data needs --out: name a new checkpoint folder for this model")
    cfg = TrainConfig(
        steps=steps, device=device, threads=threads, data=data, max_minutes=max_minutes
    )
    if out is not None:
        cfg = replace(cfg, out=out)
    preflight(cfg, force)  # device, data, output: before any work
    with train_progress(quiet) as progress:
        m = train(cfg, progress, resume=resume, force=force)
    if not quiet:
        use = (
            "" if out is None else f"; compose with it: --generator transformer --checkpoint {out}"
        )
        typer.echo(
            f"wrote {cfg.out}: {m['parameters']:,} parameters, {m['steps']} steps, validation "
            f"loss {m['valid_loss']:.3f}, test perplexity {m['test_perplexity']:.2f}{use}"
        )


# --- the studio: A/B ratings from the terminal, moving ratings, the web app (composer/studio/) ---
ratings_app = typer.Typer(
    add_completion=False, help="The ratings store ($SONGC_HOME, default ~/.songc): move ratings."
)
app.add_typer(ratings_app, name="ratings")
OUTCOME_WORDS = {
    "a": "a",
    "b": "b",
    "tie": "tie",
    "t": "tie",
    "both_bad": "both_bad",
    "x": "both_bad",
}
OUTCOME_WORDS |= {"both bad": "both_bad", "both-bad": "both_bad"}


def _outcome(text: str) -> str:
    word = OUTCOME_WORDS.get(text.strip().lower())
    if word is None:
        raise SpecError("--outcome", f"'{shorten(text)}' is not one of a, b, tie, both_bad")
    return word


def _tags(text: str) -> list[str]:
    from composer.studio.ratings import TAGS

    tags = [t.strip().lower() for t in text.replace(" ", ",").split(",") if t.strip()]
    bad = [t for t in tags if t not in TAGS]
    if bad:
        raise SpecError("--tags", f"'{shorten(bad[0])}' is not one of {', '.join(TAGS)}")
    return tags


@app.command("rate")
def rate_cmd(
    ctx: typer.Context,
    spec: SpecOpt = None,
    form: FormOpt = None,
    prompt: PromptOpt = None,
    key: KeyOpt = None,
    tempo: TempoOpt = None,
    meter: MeterOpt = None,
    style: StyleOpt = None,
    seed: SeedOpt = None,
    candidates: CandOpt = None,
    generator: GenOpt = None,
    kind: Annotated[
        str, typer.Option(help="section: two takes of one section in the song; song: two songs.")
    ] = "section",
    section: Annotated[
        str | None, typer.Option(help="The section to compare (kind section; default: drawn).")
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Folder for a.wav and b.wav (created).")
    ] = Path("ab"),
    outcome: Annotated[
        str | None, typer.Option(help="The answer (a, b, tie, both_bad) instead of asking.")
    ] = None,
    tags: Annotated[
        str | None, typer.Option(help="Why, instead of asking: melody,groove,harmony,form.")
    ] = None,
    rater: Annotated[str | None, typer.Option(help="Who rates (default: $USER).")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite a.wav and b.wav.")] = False,
) -> None:
    """Make an A/B pair, write the two audio files, ask which is better, store the answer."""
    from composer.app import api
    from composer.app.progress import progress_for
    from composer.render.outputs import check_outputs, render_outputs
    from composer.studio.pairs import section_pair, song_pair
    from composer.studio.ratings import RatingsStore

    if kind not in ("section", "song"):
        raise SpecError("--kind", f"'{shorten(kind)}' is not one of section, song")
    if kind == "song" and section is not None:
        raise SpecError("--section", "only with --kind section")
    answer = None if outcome is None else _outcome(outcome)
    why = None if tags is None else _tags(tags)
    song_spec = api.build_spec(spec, _overrides(ctx))
    targets = [out_dir / "a.wav", out_dir / "b.wav"]
    check_outputs(targets)  # FluidSynth and a SoundFont, before composing
    if out_dir.exists() and not out_dir.is_dir():
        raise SpecError("--out-dir", f"'{shorten(out_dir, 120)}' is a file")
    check_targets(targets if out_dir.is_dir() else [out_dir], force, field="--out-dir")
    store = RatingsStore()
    with progress_for(False) as progress:
        if kind == "section":
            pair = section_pair(song_spec, section, progress=progress)
        else:
            pair = song_pair(song_spec, progress=progress)
    files: dict[Path, Any] = {}
    for side, path in zip((pair.a, pair.b), targets, strict=True):
        s = side.song
        files |= render_outputs([path], s.plan, s.notes, s.midi, s.report.duration_seconds)
    out_dir.mkdir(exist_ok=True)
    write_files({p: r.data for p, r in files.items()}, force)
    what = f"section {pair.section}" if pair.kind == "section" else "two songs"
    start = ""
    if pair.section is not None:
        start = f", from bar {pair.a.song.plan.section(pair.section).start_bar}"
    typer.echo(f"wrote {targets[0]} (A) and {targets[1]} (B): {what}{start}")
    while answer is None:
        try:
            answer = _outcome(typer.prompt("Which is better? a / b / tie / both_bad"))
        except SpecError as exc:
            typer.echo(exc.problem)
    while why is None:
        try:
            why = _tags(typer.prompt("Why (melody, groove, harmony, form; optional)", default=""))
        except SpecError as exc:
            typer.echo(exc.problem)
    who = rater or os.environ.get("USER") or "me"
    rid = store.add_rating(pair.rating(answer, why, who))
    typer.echo(f"stored rating #{rid} in {store.path} ({store.count()} ratings)")


@ratings_app.command("export")
def ratings_export_cmd(
    file: Annotated[Path, typer.Argument(help="JSON Lines file to write.")],
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write every rating as one JSON line."""
    from composer.studio.ratings import RatingsStore

    n = RatingsStore().export_jsonl(file, force)
    typer.echo(f"wrote {n} ratings to {file}")


@ratings_app.command("import")
def ratings_import_cmd(
    file: Annotated[Path, typer.Argument(help="JSON Lines file (from `compose ratings export`).")],
) -> None:
    """Add the ratings of a JSON Lines file (those already stored are skipped, not doubled)."""
    from composer.studio.ratings import RatingsStore

    store = RatingsStore()
    r = store.import_jsonl(file)
    typer.echo(f"added {r.added} ratings, {r.duplicates} already there ({store.count()} in all)")


@app.command("studio")
def studio_cmd(
    port: Annotated[int, typer.Option(min=1024, max=65535, help="Port on 127.0.0.1.")] = 8765,
    host: Annotated[
        str, typer.Option(help="Address to bind: a loopback one (127.0.0.1, ::1, localhost).")
    ] = "127.0.0.1",
) -> None:
    """Start the studio, a web app on this machine: compose, listen, compare and rate."""
    try:
        from composer.studio.server import serve
    except ImportError as exc:
        problem = f"needs the studio extra: pip install 'songc[studio]' ({exc})"
        raise SpecError("studio", problem) from None
    if host not in ("127.0.0.1", "::1", "localhost"):
        raise SpecError(
            "--host", f"'{shorten(host)}' is not a loopback address; the studio is for this machine"
        )
    typer.echo(
        f"songc studio on http://{'[::1]' if host == '::1' else host}:{port}/ (Ctrl-C stops it)"
    )
    serve(host, port)


# --- revise and continue (issue 18: revise, don't restart; the user's own material) ---------


@app.command("revise")
def revise_cmd(
    song: Annotated[
        Path, typer.Argument(help="A song compose wrote: its report (.json) or its .mid.")
    ],
    section: Annotated[
        list[str],
        typer.Option("--section", help="Section id to recompose, e.g. B1 (repeatable)."),
    ],
    output: Annotated[
        list[Path],
        typer.Option(
            "-o", "--output", help="File(s) to write, as for compose; the report beside the first."
        ),
    ],
    seed: Annotated[
        int | None, typer.Option(help="Seed of the revision (default: drawn from the song).")
    ] = None,
    candidates: CandOpt = None,
    part: Annotated[
        str, typer.Option(help="all, melody, accompaniment (comp and bass) or drums.")
    ] = "all",
    unlink: Annotated[
        bool,
        typer.Option(
            help="Repeats of a recomposed section keep their notes (and become new material)."
        ),
    ] = False,
    force: Annotated[bool, typer.Option(help="Overwrite existing output files.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
) -> None:
    """Recompose some sections of a song; every other section keeps its notes exactly."""
    from composer.app.progress import progress_for
    from composer.app.revise import check_part, load_song, revise
    from composer.render.outputs import check_outputs, outputs_report_path

    before = load_song(song)  # the inputs first: their errors matter most
    check_part(part)
    check_outputs(list(output))
    src = song if song.suffix.lower() == ".json" else song.with_suffix(".json")
    inputs = [src, src.with_suffix(".mid")]
    check_targets([*output, outputs_report_path(list(output))], force, inputs=inputs)
    with progress_for(quiet) as progress:
        done = revise(
            before,
            section,
            seed=seed,
            candidates=candidates,
            part=part,
            unlink=unlink,
            progress=progress,
        )
    done.song.write(list(output), force, inputs=inputs)
    if not quiet:
        seams = ", ".join(
            f"{name} {j['before']['junction']:.2f}->{j['after']['junction']:.2f}"
            for name, j in done.junctions.items()
        )
        typer.echo(
            f"wrote {', '.join(str(p) for p in output)}: recomposed {' '.join(done.recomposed)}"
            f" ({part}, seed {done.seed}); junctions {seams}"
        )


@app.command("continue")
def continue_cmd(
    ctx: typer.Context,
    fragment: Annotated[Path, typer.Argument(help="Your fragment: a MIDI or MusicXML file.")],
    bars: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Length of the song (default 32; a whole number of fragments without --form).",
        ),
    ] = None,
    form: FormOpt = None,
    track: Annotated[
        int, typer.Option(min=1, help="The track (part) with the melody, among those with notes.")
    ] = 1,
    prompt: PromptOpt = None,
    style: StyleOpt = None,
    title: TitleOpt = None,
    seed: SeedOpt = None,
    candidates: CandOpt = None,
    generator: GenOpt = None,
    quantized: Annotated[
        bool | None, typer.Option("--quantized", help="Play exactly on the grid.")
    ] = None,
    output: Annotated[
        list[Path] | None,
        typer.Option("-o", "--output", help="File(s) to write, as for compose (default song.mid)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite existing output files.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress, no summary.")] = False,
) -> None:
    """Extend your fragment into a song: it opens the song, kept note for note, and returns."""
    from composer.app.extend import continue_song
    from composer.app.progress import progress_for
    from composer.render.outputs import check_outputs, outputs_report_path

    overrides = {k: v for k, v in _overrides(ctx).items() if k not in ("form",) and v is not None}
    outputs = list(output or [Path("song.mid")])
    check_outputs(outputs)
    check_targets([*outputs, outputs_report_path(outputs)], force, inputs=[fragment])
    with progress_for(quiet) as progress:
        song = continue_song(
            fragment, bars=bars, form=form, track=track, overrides=overrides, progress=progress
        )
    song.write(list[str | Path](outputs), force, inputs=[fragment])
    if not quiet:
        r = song.report
        typer.echo(
            f"wrote {', '.join(str(p) for p in outputs)}: '{r.title}', {r.bars} bars, {r.key}, "
            f"{r.tempo} bpm, {r.time_signature}, form {' '.join(s.name for s in r.sections)}, "
            f"seed {r.seed}"
        )


# --- end of revise and continue -------------------------------------------------------------


@app.command("align")
def align_cmd(
    out: Annotated[Path, typer.Option(help="New folder for the aligned checkpoint.")],
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="Reference and starting model (default: the shipped one)."),
    ] = None,
    rounds: Annotated[int, typer.Option(help="Rounds of sample, score, pair, DPO.")] = 3,
    beta: Annotated[float, typer.Option(help="DPO's KL strength (> 0).")] = 0.1,
    candidates: Annotated[int, typer.Option(help="Samples per section and round.")] = 8,
    specs: Annotated[int, typer.Option(help="Seeded random specs (besides the examples).")] = 8,
    examples: Annotated[bool, typer.Option(help="Also align on the examples/ specs.")] = True,
    margin: Annotated[float, typer.Option(help="Least reward gap for a pair.")] = 0.05,
    pairs: Annotated[int, typer.Option(help="Pairs per section and round (best/worst...).")] = 2,
    lr: Annotated[float, typer.Option(help="Learning rate.")] = 5e-5,
    sft: Annotated[
        float, typer.Option(help="Weight of the chosen's NLL added to the DPO loss (RPO; 0: off).")
    ] = 0.0,
    epochs: Annotated[int, typer.Option(help="Passes over each round's pairs.")] = 2,
    tolerance: Annotated[
        float, typer.Option(help="Held-out score drop that stops the run (early stop).")
    ] = 0.03,
    seed: Annotated[int, typer.Option(help="Seed of specs, samples and batches.")] = 0,
    threads: Annotated[int, typer.Option(help="CPU threads for torch (1: same bytes).")] = 1,
    device: Annotated[str, typer.Option(help="cpu, cuda (or cuda:N) for a GPU.")] = "cpu",
    profile: Annotated[
        str | None,
        typer.Option(help="A listener's profile (compose learn) or weights file to align for."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No per-round lines.")] = False,
    force: Annotated[bool, typer.Option(help="Replace an existing --out folder.")] = False,
) -> None:
    """Align the `transformer` melody model with the rewards by iterated DPO (compose align)."""
    from composer.training.align import AlignConfig, align

    cfg = AlignConfig(
        out=out, rounds=rounds, beta=beta, candidates=candidates, specs=specs,
        examples=examples, margin=margin, pairs=pairs, lr=lr, sft=sft, epochs=epochs, seed=seed,
        tolerance=tolerance,
        threads=threads, device=device, profile=profile,
    )  # fmt: skip
    if checkpoint is not None:
        cfg = replace(cfg, checkpoint=checkpoint)
    log = (lambda line: None) if quiet else (lambda line: typer.echo(line, err=True))
    res = align(cfg, log, force=force)
    if not quiet:
        last = next(r for r in res["rounds"] if r["round"] == res["kept_round"])
        typer.echo(
            f"wrote {out}: round {res['kept_round']} kept, reward {last['reward']:.4f} "
            f"(reference {res['rounds'][0]['reward']:.4f}), KL {last['kl']:.3f}; compose with "
            f"it: --generator transformer --checkpoint {out}"
        )


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the app (:func:`_main`). As the ``compose`` script (``argv`` None), exit
    straight after the outputs are flushed: the interpreter's teardown of torch and numba took
    ~1 s a run and does nothing for the user (files are written and closed by then)."""
    rc = _main(argv)
    if argv is None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(rc)
    return rc


def _main(argv: list[str] | None = None) -> int:
    """Run the app, turning every user error into one line and exit code 2."""
    try:
        rv = app(args=argv, prog_name="compose", standalone_mode=False)
    except ComposeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except TyperException as exc:  # typer's usage errors: unknown option, bad int, ...
        text = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        print(f"error: {shorten(text, MAX_PROBLEM)}", file=sys.stderr)
        return 2
    except (typer.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as exc:  # a bug, not bad input: say so in one line; --debug shows where
        if "--debug" in (argv if argv is not None else sys.argv):
            raise
        text = shorten(exc, MAX_PROBLEM)  # one line, bounded, even for multi-line messages
        print(
            f"internal error: {type(exc).__name__}: {text} (a bug; rerun with --debug for the "
            "traceback)",
            file=sys.stderr,
        )
        return 1
    if rv == INTERRUPTED:  # typer caught the KeyboardInterrupt and returned its exit code
        print("interrupted", file=sys.stderr)
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
