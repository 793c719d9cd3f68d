"""``compose studio``: a small web app for one person on their own machine (Starlette + uvicorn).

The page (``static/``: HTML, CSS, JS, no CDN) talks to a JSON API:

- ``GET /api/examples``: the example specs and the generators to offer;
- ``POST /api/compose`` ``{spec}``: compose a song in the background -> ``{job}``;
- ``GET /api/jobs/{id}``: progress, then the song: sections, files, downloads;
- ``GET /api/jobs/{id}/files/{name}``: a file of the job (audio, pictures; :data:`FILES`);
- ``GET /api/jobs/{id}/download/{fmt}``: MIDI, WAV, MusicXML, PDF (rendered on first ask);
- ``POST /api/jobs/{id}/revise`` ``{sections, locked, part, seed}``: regenerate sections and
  keep every other note (:func:`composer.app.revise.revise`) -> a new song job;
- ``POST /api/pairs`` ``{kind, spec, section, draw}``: an A/B pair (two takes of a section in
  the same song, or two songs) -> ``{job}``;
- ``POST /api/pairs/{id}/rate`` ``{outcome, tags, rater}``: the verdict, into the ratings store;
- ``GET /api/ratings``: how many ratings are stored.

Safety, for a server on a laptop: it binds 127.0.0.1; a request whose ``Host`` is not this
server's (DNS rebinding) or whose ``Origin`` is another site's (CSRF) is refused before any
handler runs; a POST must be JSON of at most :data:`MAX_BODY` bytes; every spec goes through the
CLI's spec models (:func:`grammar.spec.validate_spec`), with the fields that name files refused
(the studio reads and writes only its data folder) and limits on length, candidates and jobs.
Every refusal is a 4xx with ``{"error": "<one line>"}`` and changes nothing.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from composer.studio.jobs import (
    DOWNLOADS,
    FILES,
    Busy,
    Job,
    Jobs,
    compose_job,
    download,
    pair_job,
    revise_job,
)
from composer.studio.pairs import MAX_DRAW
from composer.studio.ratings import OUTCOMES, TAGS, RatingsStore, data_home
from grammar.errors import ComposeError, shorten
from grammar.spec import SongSpec, load_spec, validate_spec

STATIC = Path(__file__).parent / "static"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"  # the project's example specs
MAX_BODY = 64 * 1024  # bytes of a request body
MAX_BARS = 160  # a song's length in bars (the examples have 32-96)
MAX_CANDIDATES = 32  # per section (the CLI allows 256: minutes per song on a laptop)
MAX_JOBS = 2  # running or waiting
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": shorten(message, 300)}, status_code=status)


class Guard:
    """ASGI middleware: the Host must be this server, an Origin (sent by browsers on every
    cross-site request and every POST) must be this server's, and a cross-site fetch is refused
    whatever its headers say."""

    def __init__(self, app: ASGIApp, hosts: set[str]) -> None:
        self.app = app
        self.hosts = hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        problem = None
        if host not in self.hosts:
            problem = f"host '{host}' is not this studio (it answers {sorted(self.hosts)[0]})"
        elif "origin" in headers and headers["origin"] not in {f"http://{h}" for h in self.hosts}:
            problem = f"requests from '{headers['origin']}' are refused (another origin)"
        elif headers.get("sec-fetch-site") == "cross-site":
            problem = "cross-site requests are refused"
        if problem is not None:
            await _error(403, problem)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ComposeRequest(_Body):
    spec: dict[str, Any]


class PairRequest(_Body):
    kind: Literal["section", "song"]
    spec: dict[str, Any]
    section: str | None = Field(None, max_length=40)
    draw: int = Field(0, ge=0, le=MAX_DRAW)


class ReviseRequest(_Body):
    sections: list[str] = Field(min_length=1, max_length=16)
    locked: list[str] = Field(default=[], max_length=64)
    part: Literal["all", "melody", "accompaniment", "drums"] = "all"
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class RateRequest(_Body):
    outcome: Literal["a", "b", "tie", "both_bad"]
    tags: list[Literal["melody", "groove", "harmony", "form"]] = Field(default=[], max_length=4)
    rater: str = Field("me", min_length=1, max_length=60, pattern=r"^[^\x00-\x1f\x7f]+$")


assert set(RateRequest.model_fields["outcome"].annotation.__args__) == set(OUTCOMES)  # type: ignore[union-attr]
assert len(TAGS) == 4


class BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _json(request: Request, model: type[_Body]) -> Any:
    """The request's body as ``model``: JSON, at most MAX_BODY bytes, no unknown field."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise BadRequest(415, "the body must be JSON (Content-Type: application/json)")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise BadRequest(413, f"the body is over {MAX_BODY} bytes")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise BadRequest(413, f"the body is over {MAX_BODY} bytes")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(400, f"malformed JSON: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "body"
        raise BadRequest(400, f"{where}: {err['msg']}") from None


def file_fields(spec: SongSpec) -> list[str]:
    """The spec's fields that name a file (a style file, a checkpoint, a preferences profile,
    a section's MIDI or MusicXML): the studio reads nothing outside its data folder."""
    found = []
    if spec.style is not None and (
        spec.style.lower().endswith((".yaml", ".yml")) or "/" in spec.style
    ):
        found.append("style")
    if spec.checkpoint is not None:
        found.append("checkpoint")
    if spec.preferences is not None and spec.preferences.profile:
        found.append("preferences.profile")
    for sid, sect in spec.sections.items():
        for name, value in sect.model_dump().items():
            if name in ("midi", "musicxml", "file", "path") and value is not None:
                found.append(f"sections.{sid}.{name}")
    return found


def checked_spec(data: dict[str, Any]) -> SongSpec:
    """``data`` through the CLI's spec models, then the studio's limits (before any work)."""
    from composer.app import api

    try:
        spec = validate_spec(data)
    except ComposeError as exc:
        raise BadRequest(400, str(exc)) from None
    named = file_fields(spec)
    if named:
        raise BadRequest(400, f"{named[0]}: the studio does not read files; leave it out")
    if spec.candidates is not None and spec.candidates > MAX_CANDIDATES:
        raise BadRequest(
            400, f"candidates: {spec.candidates} is over the studio's {MAX_CANDIDATES}"
        )
    try:
        bars = api.plan(spec).plan.total_bars
    except ComposeError as exc:
        raise BadRequest(400, str(exc)) from None
    if bars > MAX_BARS:
        raise BadRequest(400, f"form: {bars} bars is over the studio's {MAX_BARS}")
    return spec


Handler = Callable[[Request], Awaitable[Response]]


def _handles_errors(fn: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        try:
            return await fn(request)
        except BadRequest as exc:
            return _error(exc.status, str(exc))
        except Busy as exc:
            return _error(429, f"busy: {exc}; wait for one to finish")

    return wrapped


def create_app(
    home: Path | None = None, port: int = 8765, hosts: set[str] | None = None
) -> ASGIApp:
    """The studio for the data folder ``home`` (default :func:`data_home`), answering on
    ``port`` (the Host header must name it; ``hosts`` replaces the default set)."""
    home = (home or data_home()).resolve()
    jobs = Jobs(home / "studio", MAX_JOBS)
    store = RatingsStore(home / "ratings.sqlite3")
    allowed = hosts if hosts is not None else {f"{h}:{port}" for h in LOOPBACK}

    def job_of(request: Request, kind: str | None = None) -> Job:
        job = jobs.get(request.path_params["job"])
        if job is None or (kind is not None and job.kind != kind):
            raise BadRequest(404, "no such job")
        return job

    async def examples(request: Request) -> Response:
        out = []
        for path in sorted(EXAMPLES.glob("*.yaml")) if EXAMPLES.is_dir() else []:
            try:
                spec = await run_in_threadpool(load_spec, path)
            except ComposeError:
                continue
            if not file_fields(spec):
                out.append(
                    {"name": path.stem, "spec": spec.model_dump(mode="json", exclude_none=True)}
                )
        from composer.generators.registry import available

        return JSONResponse({"examples": out, "generators": available()})

    async def compose(request: Request) -> Response:
        body = await _json(request, ComposeRequest)
        spec = await run_in_threadpool(checked_spec, body.spec)
        job = jobs.submit("song", compose_job(spec))
        return JSONResponse({"job": job.id}, status_code=202)

    async def status(request: Request) -> Response:
        return JSONResponse(job_of(request).status())

    async def file(request: Request) -> Response:
        job = job_of(request)
        name = request.path_params["name"]
        if name not in FILES:
            raise BadRequest(404, f"no file '{shorten(name)}' (files: {', '.join(sorted(FILES))})")
        path = (job.folder / name).resolve()
        if path.parent != job.folder.resolve() or not path.is_file():
            raise BadRequest(404, f"'{name}' is not made (yet)")
        return FileResponse(path, media_type=FILES[name])

    async def fetch(request: Request) -> Response:
        job = job_of(request, "song")
        fmt = request.path_params["fmt"]
        if fmt not in DOWNLOADS:
            raise BadRequest(404, f"no format '{shorten(fmt)}' (one of {', '.join(DOWNLOADS)})")
        if job.state != "done":
            raise BadRequest(409, "the song is not composed yet")
        problem = job.info.get("downloads", {}).get(fmt)
        if problem:
            raise BadRequest(409, problem)
        path = await run_in_threadpool(jobs.call, download, job, fmt)
        name, mime = DOWNLOADS[fmt]
        title = (
            "".join(ch for ch in (job.info["song"]["title"] or "song") if ch.isalnum()) or "song"
        )
        return FileResponse(path, media_type=mime, filename=f"{title}{Path(name).suffix}")

    async def revise(request: Request) -> Response:
        job = job_of(request, "song")
        body = await _json(request, ReviseRequest)
        if job.state != "done" or job.song is None:
            raise BadRequest(409, "the song is not composed yet")
        ids = [s.id for s in job.song.plan.sections]
        for sid in (*body.sections, *body.locked):
            if sid not in ids:
                raise BadRequest(400, f"sections: no section '{shorten(sid)}' ({' '.join(ids)})")
        held = sorted(set(body.sections) & set(body.locked), key=ids.index)
        if held:
            raise BadRequest(400, f"sections: {held[0]} is locked; unlock it to regenerate it")
        work = revise_job(job.song, body.sections, set(body.locked), body.part, body.seed)
        new = jobs.submit("song", work)
        return JSONResponse({"job": new.id}, status_code=202)

    async def pairs(request: Request) -> Response:
        body = await _json(request, PairRequest)
        spec = await run_in_threadpool(checked_spec, body.spec)
        job = jobs.submit("pair", pair_job(spec, body.kind, body.section, body.draw))
        return JSONResponse({"job": job.id}, status_code=202)

    async def rate(request: Request) -> Response:
        job = job_of(request, "pair")
        body = await _json(request, RateRequest)
        with job.lock:
            if job.pair is None or job.state != "done":
                raise BadRequest(409, "the pair is not ready yet")
            if job.rated:
                raise BadRequest(409, "this pair is already rated")
            rating = job.pair.rating(body.outcome, body.tags, body.rater)
            rid = await run_in_threadpool(store.add_rating, rating)
            job.rated = True
        return JSONResponse({"rating": rid, "count": store.count()})

    async def ratings(request: Request) -> Response:
        return JSONResponse({"count": store.count(), "database": store.path.name})

    async def not_found(request: Request) -> Response:
        return _error(404, f"no such page: {shorten(request.url.path)}")

    routes = [
        Route("/", lambda r: FileResponse(STATIC / "index.html")),
        Route("/api/examples", _handles_errors(examples)),
        Route("/api/compose", _handles_errors(compose), methods=["POST"]),
        Route("/api/jobs/{job}", _handles_errors(status)),
        Route("/api/jobs/{job}/files/{name}", _handles_errors(file)),
        Route("/api/jobs/{job}/download/{fmt}", _handles_errors(fetch)),
        Route("/api/jobs/{job}/revise", _handles_errors(revise), methods=["POST"]),
        Route("/api/pairs", _handles_errors(pairs), methods=["POST"]),
        Route("/api/pairs/{job}/rate", _handles_errors(rate), methods=["POST"]),
        Route("/api/ratings", _handles_errors(ratings)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        Route("/{rest:path}", not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        jobs.shutdown()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.jobs = jobs
    app.state.store = store
    return Guard(app, allowed)


def serve(host: str = "127.0.0.1", port: int = 8765, home: Path | None = None) -> None:
    """Run the studio until Ctrl-C."""
    import uvicorn

    hosts = {f"{h}:{port}" for h in (*LOOPBACK, host)}
    uvicorn.run(create_app(home, port, hosts), host=host, port=port, log_level="warning")
