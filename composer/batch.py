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


def compose_task(task: Task, device: str = "cpu") -> dict[str, Any]:
    """Compose one song (runs in a worker: a pool process, a Ray actor, or this process). Never
    raises: the result is the summary row and, for a song composed, ``files`` (file name ->
    bytes) that the driver writes, so a worker on another machine needs no shared folder."""
    from composer.app import api

    t0 = time.perf_counter()
    row: dict[str, Any] = {"name": task.name, "spec": task.origin, "seed": task.seed}
    try:
        assert task.spec is not None
        if device != "cpu":
            from composer.generators.transformer.gpu import use_device

            use_device(device)
        song = api.compose(task.spec)
        row.update(
            status="ok",
            files={f"{task.name}.mid": song.midi, f"{task.name}.json": song.report_json().encode()},
            error=None,
        )
    except ComposeError as exc:
        row.update(status="error", error=str(exc))
    except Exception as exc:  # a bug: recorded, the batch goes on
        row.update(status="error", error=f"internal error: {type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - t0, 2)
    row["spec_sha"] = task.spec_sha
    return row


def _limit_threads(threads: int) -> None:
    """In a fresh worker, before torch or numba is imported: their thread pools' size."""
    for var in THREAD_VARS:
        os.environ[var] = str(threads)


THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def _threads(workers: int) -> int:
    """Each worker's share of this machine's cores: two workers of two threads each on two
    cores spin-wait on each other (measured: 2 workers were slower than 1)."""
    return max(1, (os.cpu_count() or 1) // workers)


def _previous(out: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((out / SUMMARY).read_text(encoding="utf-8"))
        return {s["name"]: s for s in data.get("songs", []) if isinstance(s, dict) and "name" in s}
    except (OSError, ValueError, AttributeError, TypeError):
        return {}


# An executor: composes the tasks (compose_task on each, with the device), yields each result
# row as it is done, in any order. Three of them: this process, a local process pool, Ray.
Executor = Callable[[list[Task], str], Iterator[dict[str, Any]]]


def serial(todo: list[Task], device: str) -> Iterator[dict[str, Any]]:
    """In this process, one song after another."""
    for t in todo:
        yield compose_task(t, device)


def process_pool(workers: int) -> Executor:
    """``workers`` spawned processes (torch's and numba's thread pools do not survive a fork),
    each loading the model and kernels once and composing song after song."""

    def run(todo: list[Task], device: str) -> Iterator[dict[str, Any]]:
        with ProcessPoolExecutor(
            workers, mp_context=get_context("spawn"), initializer=_limit_threads,
            initargs=(_threads(workers),),
        ) as pool:  # fmt: skip
            pending: set[Future[dict[str, Any]]] = {
                pool.submit(compose_task, t, device) for t in todo
            }
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()

    return run


def run_batch(
    tasks: list[Task],
    out: Path,
    workers: int = 1,
    force: bool = False,
    on_done: Callable[[dict[str, Any]], None] | None = None,
    executor: Executor | None = None,
    device: str = "cpu",
) -> dict[str, Any]:
    """Compose every task into ``out`` with ``executor`` (default: this process for 1 worker,
    else a pool of ``workers`` processes; :func:`composer.batch_ray.ray_pool` for Ray); write
    and return the summary. Skips songs already done (see the module docstring)."""
    if executor is None and workers < 1:
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
        files = row.pop("files", None) or {}
        row["outputs"] = []
        if row["status"] == "ok":
            try:
                write_files({out / n: b for n, b in files.items()},
                            force or row["name"] in mine, "--out")  # fmt: skip
                row["outputs"] = [str(out / n) for n in files]
            except ComposeError as exc:
                row.update(status="error", error=str(exc))
        rows[row["name"]] = {k: row[k] for k in ROW_KEYS if k in row}
        _write_summary(out, tasks, rows, workers, time.perf_counter() - t0)
        if on_done is not None:
            on_done(rows[row["name"]])

    if executor is None:
        executor = serial if workers == 1 or len(todo) <= 1 else process_pool(workers)
    if todo:
        for row in executor(todo, device):
            finish(row)
    return _write_summary(out, tasks, rows, workers, time.perf_counter() - t0)


ROW_KEYS = ("name", "spec", "seed", "status", "seconds", "outputs", "error", "spec_sha")


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
