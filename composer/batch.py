"""``compose batch``: many songs, one task each, on a local process pool.

Specs come from YAML files, folders of them (``*.yaml``, sorted) or ``.jsonl`` files (one spec
object a line; an optional ``"name"`` field names the song, else ``<file>-<line>``). Each song is
a task with its own seed: the spec's ``seed`` if it has one, else one derived from the batch
seed and the song's name (:func:`derived_seed`), so a song's bytes do not depend on which
worker composes it, in which order, or what else is in the batch: the same spec and seed give
the same files as ``compose --spec FILE --seed SEED``. Outputs are ``OUT/<name>.mid`` and
``OUT/<name>.json`` (the report).

Resumable: a song is skipped when ``summary.json`` records it as done with the same spec
(``spec_sha``) and seed and both files exist and validate (the MIDI header and the report's
seed and title). One bad spec is one error line in the summary; the others go on.
``summary.json`` (per song: status, seconds, outputs, error) is rewritten after every song.

What is per song: planning, sampling, search, rendering (~all of the time). What is shared per
worker process: the imports, the model and the compiled kernels (loaded once, then reused by
every song the worker composes); so N workers on N cores scale nearly linearly until memory
(~0.5 GB a worker) or cores run out, and N machines with a shared folder split the list.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from composer.app.output import write_files
from grammar.errors import ComposeError, SpecError

SUMMARY = "summary.json"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Task:
    """One song: its name, where its spec came from, the spec fields (seed filled in), or the
    one-line error that stopped it before composing."""

    name: str
    origin: str
    spec: dict[str, Any] | None
    error: str | None = None

    @property
    def seed(self) -> int | None:
        return None if self.spec is None else int(self.spec["seed"])

    @property
    def spec_sha(self) -> str:
        text = json.dumps(self.spec, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def derived_seed(batch_seed: int, name: str) -> int:
    """A song's seed from the batch seed and its name (stable across runs and machines)."""
    digest = hashlib.sha256(f"{batch_seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


def _spec_task(name: str, origin: str, load: Callable[[], Any], batch_seed: int) -> Task:
    from grammar.spec import merge_overrides

    try:
        spec = load()
        if "seed" not in spec.model_fields_set:
            spec = merge_overrides(spec, {"seed": derived_seed(batch_seed, name)})
    except ComposeError as exc:
        return Task(name, origin, None, str(exc))
    return Task(name, origin, spec.model_dump(mode="json", exclude_unset=True))


def _jsonl_tasks(path: Path, batch_seed: int) -> Iterable[Task]:
    from grammar.spec import validate_spec

    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        origin = f"{path}:{i}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            yield Task(f"{path.stem}-{i:03d}", origin, None, f"{origin}: not JSON: {exc.msg}")
            continue
        if not isinstance(data, dict):
            yield Task(f"{path.stem}-{i:03d}", origin, None, f"{origin}: not a JSON object")
            continue
        name = str(data.pop("name", None) or f"{path.stem}-{i:03d}")
        yield _spec_task(name, origin, functools.partial(validate_spec, data), batch_seed)


def collect(sources: list[Path], batch_seed: int = 0) -> list[Task]:
    """The tasks of ``sources`` in order. SpecError for a source that is not there or has no
    spec; a bad spec inside a source is a Task with its error (the batch goes on)."""
    from grammar.spec import load_spec

    tasks: list[Task] = []
    for src in sources:
        if src.is_dir():
            files = sorted(src.glob("*.yaml"))
            if not files:
                raise SpecError("SPECS", f"no *.yaml spec in folder '{src}'")
        elif src.is_file():
            files = [src]
        else:
            raise SpecError("SPECS", f"no such file or folder '{src}'")
        for f in files:
            if f.suffix == ".jsonl":
                tasks.extend(_jsonl_tasks(f, batch_seed))
            else:
                tasks.append(
                    _spec_task(f.stem, str(f), functools.partial(load_spec, f), batch_seed)
                )
    seen: set[str] = set()
    out = []
    for t in tasks:
        if t.name in seen:
            t = Task(t.name, t.origin, None, f"{t.origin}: the song name '{t.name}' is taken")
        seen.add(t.name)
        out.append(t)
    return out


def outputs(out: Path, name: str) -> list[Path]:
    return [out / f"{name}.mid", out / f"{name}.json"]


def _valid(out: Path, task: Task) -> bool:
    """Both files there, the MIDI with its header, the report of this seed."""
    mid, rep = outputs(out, task.name)
    try:
        if mid.read_bytes()[:4] != b"MThd":
            return False
        report = json.loads(rep.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(report, dict) and report.get("seed") == task.seed


def compose_task(task: Task, out: Path, force: bool) -> dict[str, Any]:
    """Compose one song into ``out`` (runs in a worker). Never raises: the result says."""
    from composer.app import api

    t0 = time.perf_counter()
    row: dict[str, Any] = {"name": task.name, "spec": task.origin, "seed": task.seed}
    try:
        assert task.spec is not None
        song = api.compose(task.spec)
        mid, rep = outputs(out, task.name)
        write_files({mid: song.midi, rep: song.report_json().encode()}, force, "--out")
        row.update(status="ok", outputs=[str(mid), str(rep)], error=None)
    except ComposeError as exc:
        row.update(status="error", outputs=[], error=str(exc))
    except Exception as exc:  # a bug: recorded, the batch goes on
        row.update(status="error", outputs=[], error=f"internal error: {type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - t0, 2)
    row["spec_sha"] = task.spec_sha
    return row


def _limit_threads(threads: int) -> None:
    """In a fresh worker, before torch or numba is imported: their thread pools' size."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(threads)


def _previous(out: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
        return {s["name"]: s for s in data.get("songs", []) if isinstance(s, dict) and "name" in s}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


def run_batch(
    tasks: list[Task],
    out: Path,
    workers: int = 1,
    force: bool = False,
    on_done: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Compose every task into ``out`` on ``workers`` processes (1: in this process); write and
    return the summary. Skips songs already done (see the module docstring)."""
    if workers < 1:
        raise SpecError("--workers", f"must be at least 1, got {workers}")
    out.mkdir(parents=True, exist_ok=True)
    before = _previous(out)
    rows: dict[str, dict[str, Any]] = {}
    todo: list[Task] = []
    for t in tasks:
        prev = before.get(t.name)
        if t.error is not None:
            rows[t.name] = {"name": t.name, "spec": t.origin, "seed": None, "status": "error",
                            "seconds": 0.0, "outputs": [], "error": t.error}  # fmt: skip
        elif not force and _valid(out, t) and (prev is None or prev.get("spec_sha") == t.spec_sha):
            outs = [str(p) for p in outputs(out, t.name)]
            rows[t.name] = {"name": t.name, "spec": t.origin, "seed": t.seed, "status": "skipped",
                            "seconds": 0.0, "outputs": outs, "error": None,
                            "spec_sha": t.spec_sha}  # fmt: skip
        else:
            todo.append(t)
    # files this batch's summary records are its own: a changed spec recomposes them
    mine = {t.name for t in todo if t.name in before}
    for r in rows.values():
        if on_done is not None:
            on_done(r)
    t0 = time.perf_counter()

    def finish(row: dict[str, Any]) -> None:
        rows[row["name"]] = row
        _write_summary(out, tasks, rows, workers, time.perf_counter() - t0)
        if on_done is not None:
            on_done(row)

    if workers == 1 or len(todo) <= 1:
        for t in todo:
            finish(compose_task(t, out, force or t.name in mine))
    else:
        # spawn: torch's and numba's thread pools do not survive a fork. Each worker gets its
        # share of the cores: two workers of two threads each on two cores spin-wait on each
        # other (measured: 2 workers were slower than 1).
        threads = max(1, (os.cpu_count() or 1) // workers)
        with ProcessPoolExecutor(
            workers, mp_context=get_context("spawn"), initializer=_limit_threads,
            initargs=(threads,),
        ) as pool:  # fmt: skip
            pending: set[Future[dict[str, Any]]] = {
                pool.submit(compose_task, t, out, force or t.name in mine) for t in todo
            }
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    finish(f.result())
    return _write_summary(out, tasks, rows, workers, time.perf_counter() - t0)


def _write_summary(
    out: Path, tasks: list[Task], rows: dict[str, dict[str, Any]], workers: int, seconds: float
) -> dict[str, Any]:
    songs = [rows[t.name] for t in tasks if t.name in rows]
    composed = sum(1 for s in songs if s["status"] == "ok")
    summary = {
        "schema_version": SCHEMA_VERSION,
        "workers": workers,
        "cpus": os.cpu_count(),
        "seconds": round(seconds, 2),
        "counts": {
            k: sum(1 for s in songs if s["status"] == k) for k in ("ok", "skipped", "error")
        },
        "songs_per_minute": round(60 * composed / seconds, 2) if composed and seconds else None,
        "songs": songs,
    }
    write_files({out / SUMMARY: (json.dumps(summary, indent=1) + "\n").encode()}, True, "--out")
    return summary


@contextlib.contextmanager
def batch_progress(total: int, quiet: bool) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A bar over the songs (rich, on stderr; nothing with ``quiet`` or no TTY): yields the
    ``on_done`` callback of :func:`run_batch`."""
    if quiet or not sys.stderr.isatty():
        yield lambda _row: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True),
    )  # fmt: skip
    with bar:
        task = bar.add_task("songs", total=total)

        def advance(row: dict[str, Any]) -> None:
            bar.update(task, advance=1, description=f"{row['name']}: {row['status']}")

        yield advance
