"""The studio's work: composing songs and A/B pairs in the background, one at a time, each in a
folder of its own under the data folder, with progress the page can poll.

A job's files have fixed names (:data:`FILES`); nothing is written outside the job's folder, and
a folder is only ever looked up by a job id this process made.
"""

from __future__ import annotations

import re
import shutil
import threading
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from composer.app.api import Song
from composer.app.output import write_files
from composer.pipeline import compile_song
from composer.render.outputs import check_outputs, render_outputs
from composer.studio.pairs import Pair, section_pair, song_of, song_pair
from grammar.errors import MAX_PROBLEM, ComposeError, shorten
from grammar.spec import SongSpec
from kernels.notes import TICKS_PER_BEAT

# What a song job makes at once (to listen and look), and what a download makes on first ask.
PLAY = ".ogg"  # Vorbis: ~1/10 the size of WAV, plays in every current browser
DOWNLOADS = {
    "mid": ("song.mid", "audio/midi"),
    "wav": ("song.wav", "audio/wav"),
    "musicxml": ("song.musicxml", "application/vnd.recordare.musicxml+xml"),
    "pdf": ("song.pdf", "application/pdf"),
}
FILES = {
    "song.mid": "audio/midi",
    "song.ogg": "audio/ogg",
    "song.plan.png": "image/png",  # the name picks the renderer: *.plan.png is the plan picture
    "song.png": "image/png",  # the lead sheet
    "a.ogg": "audio/ogg",
    "b.ogg": "audio/ogg",
    **{name: mime for name, mime in DOWNLOADS.values()},
}
T = TypeVar("T")
KEEP_JOBS = 32  # finished jobs kept (with their folders); older ones are removed


def tool_problem(name: str) -> str | None:
    """Why a file cannot be rendered on this machine (a missing tool), or None."""
    try:
        check_outputs([Path(name)])
    except ComposeError as exc:
        return exc.problem
    return None


@dataclass
class Job:
    id: str
    kind: str  # "song" or "pair"
    folder: Path
    state: str = "queued"  # -> running -> done | failed
    stage: str = "queued"
    done: int = 0
    total: int = 0
    error: str | None = None
    info: dict[str, Any] = field(default_factory=dict)
    song: Song | None = None
    pair: Pair | None = None
    rated: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # the Progress protocol of composer.compilation
    def pass_started(self, name: str) -> None:
        self.stage = name

    def section_done(self, done: int, total: int, section_id: str) -> None:
        self.done, self.total = done, total

    def status(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "stage": self.stage,
            "done": self.done,
            "total": self.total,
            "error": self.error,
            **self.info,
        }


class Busy(Exception):
    """Too many jobs running or waiting."""


class Jobs:
    """Jobs under ``root`` (a folder of the data folder): at most ``limit`` running or queued,
    run one at a time (composing fills the cores)."""

    def __init__(self, root: Path, limit: int = 2) -> None:
        self.root = root
        self.limit = limit
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="studio-job")
        self._clear_stale()

    def _clear_stale(self) -> None:
        """Remove the job folders an earlier run left (only names this class makes)."""
        if self.root.is_dir():
            for p in self.root.iterdir():
                if p.is_dir() and not p.is_symlink() and re.fullmatch(r"[0-9a-f]{32}", p.name):
                    shutil.rmtree(p, ignore_errors=True)

    def get(self, job_id: str) -> Job | None:
        return self.jobs.get(job_id)

    def submit(self, kind: str, work: Callable[[Job], None]) -> Job:
        with self._lock:
            active = sum(j.state in ("queued", "running") for j in self.jobs.values())
            if active >= self.limit:
                raise Busy(f"{active} jobs are running or waiting (at most {self.limit})")
            self._forget_old()
            job_id = uuid.uuid4().hex
            folder = self.root / job_id
            folder.mkdir(parents=True, mode=0o700)
            job = Job(job_id, kind, folder)
            self.jobs[job_id] = job
        self._pool.submit(self._run, job, work)
        return job

    def _forget_old(self) -> None:
        finished = [j for j in self.jobs.values() if j.state in ("done", "failed")]
        for j in finished[: max(0, len(finished) - KEEP_JOBS + 1)]:
            del self.jobs[j.id]
            shutil.rmtree(j.folder, ignore_errors=True)

    def _run(self, job: Job, work: Callable[[Job], None]) -> None:
        job.state = "running"
        try:
            work(job)
        except ComposeError as exc:
            job.error, job.state = str(exc), "failed"
            return
        except Exception as exc:  # a bug: one line for the page, the traceback on the console
            traceback.print_exc()
            job.error = f"internal error: {type(exc).__name__}: {shorten(exc, MAX_PROBLEM)}"
            job.state = "failed"
            return
        job.stage, job.state = "done", "done"

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on the jobs' thread, after the work queued before it: the renderers
        are not all thread-safe (verovio reads MusicXML only on the thread that first used it)."""
        return self._pool.submit(fn, *args).result()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _write(folder: Path, song: Song, names: list[str]) -> list[str]:
    """Render the files ``names`` (the name picks the renderer, as for ``compose -o``) into
    ``folder``, leaving out any whose tool is missing; returns the names made."""
    wanted = [folder / n for n in names if tool_problem(n) is None]
    rendered = render_outputs(
        wanted, song.plan, song.notes, song.midi, song.report.duration_seconds
    )
    write_files({p: r.data for p, r in rendered.items()}, force=False)
    return [p.name for p in rendered]


def _show(job: Job, song: Song) -> None:
    """Render what the page shows of ``song`` into the job's folder and describe it."""
    job.song = song
    job.stage = "rendering"
    files = _write(job.folder, song, ["song.mid", "song" + PLAY, "song.plan.png", "song.png"])
    r = song.report
    job.info = {
        "files": sorted(files),
        "song": {
            "title": r.title,
            "key": r.key,
            "tempo": r.tempo,
            "time_signature": r.time_signature,
            "style": r.style,
            "bars": r.bars,
            "seconds": round(r.duration_seconds, 1),
            "seed": r.seed,
            "sections": [
                {"id": s.id, "bars": s.bars, "start_bar": s.start_bar, "source": s.source}
                for s in song.plan.sections
            ],
        },
        "downloads": {k: tool_problem(name) for k, (name, _) in DOWNLOADS.items()},
        "revise": True,  # regenerate and lock sections (composer.app.revise)
    }


def compose_job(spec: SongSpec) -> Callable[[Job], None]:
    def work(job: Job) -> None:
        _show(job, song_of(compile_song(spec, progress=job)))

    return work


def followers(song: Song, sections: list[str]) -> set[str]:
    """The sections a new melody for ``sections`` also recomposes: their repeats and
    variations, transitively (as :func:`composer.app.revise.revise` does without unlink)."""
    out, todo = set(sections), list(sections)
    while todo:
        sid = todo.pop()
        for s in song.plan.sections:
            if s.source == sid and s.relation in ("repeats", "varies") and s.id not in out:
                out.add(s.id)
                todo.append(s.id)
    return out


def revise_job(
    song: Song, sections: list[str], locked: set[str], part: str, seed: int | None
) -> Callable[[Job], None]:
    """Recompose ``sections`` and keep the rest note for note. A locked section is never made
    again: when it repeats one of ``sections`` it is unlinked (kept as it is); so is a section
    asked for that repeats one that is not."""
    from composer.app.revise import revise

    asked = set(sections)
    repeat_asked = any(
        s.relation == "repeats" and s.source not in asked
        for s in song.plan.sections
        if s.id in asked
    )
    melody = part in ("all", "melody")
    unlink = melody and (repeat_asked or bool(followers(song, sections) & locked))

    def work(job: Job) -> None:
        revised = revise(song, sections, seed=seed, part=part, unlink=unlink, progress=job)
        _show(job, revised.song)
        job.info["revised"] = {
            "sections": list(revised.recomposed),
            "seed": revised.seed,
            "unlinked": unlink,
            "junctions": revised.junctions,
        }

    return work


def download(job: Job, fmt: str) -> Path:
    """The job's file in format ``fmt`` (:data:`DOWNLOADS`), rendered on first ask."""
    name, _ = DOWNLOADS[fmt]
    path = job.folder / name
    with job.lock:
        if not path.exists():
            assert job.song is not None
            _write(job.folder, job.song, [name])
    return path


def pair_job(spec: SongSpec, kind: str, section: str | None, draw: int) -> Callable[[Job], None]:
    def work(job: Job) -> None:
        if kind == "section":
            pair = section_pair(spec, section, progress=job, draw=draw)
        else:
            pair = song_pair(spec, progress=job, draw=draw)
        job.stage = "rendering"
        files = []
        for side, name in ((pair.a, "a" + PLAY), (pair.b, "b" + PLAY)):
            files += _write(job.folder, side.song, [name])
        job.pair = pair
        plan = pair.a.song.plan
        start = plan.section(pair.section).start_bar if pair.section else None
        bar_seconds = plan.meter().bar_ticks / TICKS_PER_BEAT * 60 / plan.tempo
        lead_in = 0.0 if start is None else max(0.0, (start - 2) * bar_seconds)
        job.info = {
            "files": sorted(files),
            "pair": {
                "kind": pair.kind,
                "section": pair.section,
                "start_bar": start,
                "lead_in_seconds": round(lead_in, 2),
                "seconds": [
                    round(pair.a.song.report.duration_seconds, 1),
                    round(pair.b.song.report.duration_seconds, 1),
                ],
            },
        }

    return work
