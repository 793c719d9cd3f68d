"""The studio's web app through Starlette's test client: bad requests get a 4xx with a one-line
reason and change nothing; a song and an A/B pair are made, played, downloaded and rated."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the studio extra is not installed (pip install .[studio])")
pytest.importorskip("httpx", reason="Starlette's test client needs httpx (the studio extra)")

from starlette.testclient import TestClient

from composer.studio import server
from composer.studio.jobs import Busy
from composer.studio.ratings import RatingsStore

BASE = "http://127.0.0.1:8765"
SMALL = {"form": "AB", "candidates": 4, "generator": "rules", "seed": 2}


def _client(home: Path) -> TestClient:
    return TestClient(server.create_app(home, 8765), base_url=BASE)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "songc"


def _snapshot(home: Path) -> tuple[list[str], int]:
    files = sorted(
        str(p.relative_to(home)) for p in home.rglob("*") if not p.name.endswith(("-wal", "-shm"))
    )
    return files, RatingsStore(home / "ratings.sqlite3").count()


def _one_line_4xx(r: object, status: int, pattern: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)  # type: ignore[attr-defined]
    message = r.json()["error"]  # type: ignore[attr-defined]
    assert "\n" not in message
    assert re.search(pattern, message), message


def test_the_page_is_served_and_needs_no_network(home: Path) -> None:
    c = _client(home)
    page = c.get("/")
    assert page.status_code == 200 and "songc" in page.text
    for name in ("app.js", "style.css"):
        r = c.get(f"/static/{name}")
        assert r.status_code == 200
        assert not re.search(r"https?://", r.text), f"{name} fetches from the network"
    assert not re.search(r"(src|href)=\"https?://", page.text)
    examples = c.get("/api/examples").json()["examples"]
    assert {e["name"] for e in examples} >= {"ballad", "waltz"}
    assert c.get("/api/ratings").json()["count"] == 0


BAD = [
    # (what, request kwargs, status, the reason's pattern)
    (
        "another host",
        {"url": "/api/ratings", "headers": {"host": "evil.example:8765"}},
        403,
        "host",
    ),
    (
        "another origin",
        {"json": {"spec": {}}, "headers": {"origin": "http://evil.example"}},
        403,
        "origin",
    ),
    (
        "cross-site fetch",
        {"json": {"spec": {}}, "headers": {"sec-fetch-site": "cross-site"}},
        403,
        "cross-site",
    ),
    (
        "malformed JSON",
        {"content": b'{"spec": {', "headers": {"content-type": "application/json"}},
        400,
        "malformed JSON",
    ),
    (
        "not JSON",
        {"content": b"spec=1", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        415,
        "JSON",
    ),
    (
        "a huge body",
        {
            "content": b'{"spec": {"title": "' + b"x" * 70_000 + b'"}}',
            "headers": {"content-type": "application/json"},
        },
        413,
        "over 65536 bytes",
    ),
    ("an unknown field", {"json": {"spec": {}, "path": "/etc"}}, 400, "^path: "),
    ("a bad spec field", {"json": {"spec": {"tempo": 5}}}, 400, "^tempo: "),
    ("an unknown spec field", {"json": {"spec": {"volume": 11}}}, 400, "volume"),
    (
        "an absurd length",
        {"json": {"spec": {"form": "[A B C D]x12"}}},
        400,
        r"^form: \d+ bars is over",
    ),
    ("too many candidates", {"json": {"spec": {"candidates": 200}}}, 400, "^candidates: "),
    (
        "a style file",
        {"json": {"spec": {"style": "../../etc/style.yaml"}}},
        400,
        "^style: the studio does not read files",
    ),
    (
        "a profile file",
        {"json": {"spec": {"preferences": {"profile": "/etc/passwd"}}}},
        400,
        "^preferences.profile",
    ),
    ("a checkpoint folder", {"json": {"spec": {"checkpoint": "/tmp"}}}, 400, "^checkpoint"),
]


@pytest.mark.parametrize(("what", "kwargs", "status", "pattern"), BAD, ids=[b[0] for b in BAD])
def test_a_bad_request_is_refused_and_changes_nothing(
    home: Path, what: str, kwargs: dict, status: int, pattern: str
) -> None:
    c = _client(home)
    before = _snapshot(home)
    url = kwargs.pop("url", "/api/compose")
    r = c.get(url, **kwargs) if url == "/api/ratings" else c.post(url, **kwargs)
    _one_line_4xx(r, status, pattern)
    assert _snapshot(home) == before
    assert c.app.app.state.jobs.jobs == {}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "path",
    [
        "/api/jobs/nope",
        "/api/jobs/nope/files/song.mid",
        "/api/jobs/../../etc/passwd",
        "/api/jobs/x/files/..%2F..%2F..%2Fetc%2Fpasswd",
        "/api/jobs/x/files/%2Fetc%2Fpasswd",
        "/static/../server.py",
        "/static/..%2Fserver.py",
    ],
)
def test_a_path_outside_the_data_folder_is_not_found(home: Path, path: str) -> None:
    c = _client(home)
    r = c.get(path)
    assert r.status_code == 404, (path, r.status_code, r.text[:200])
    assert "def create_app" not in r.text and "root:" not in r.text


def test_a_file_of_a_job_is_only_one_of_its_own(home: Path) -> None:
    c = _client(home)
    jobs = c.app.app.state.jobs  # type: ignore[attr-defined]
    job = jobs.submit("song", lambda j: None)
    (home / "secret.txt").write_text("no")
    for name in ("../secret.txt", "..%2Fsecret.txt", "secret.txt", "song.mid"):
        r = c.get(f"/api/jobs/{job.id}/files/{name}")
        assert r.status_code == 404, name
        assert r.text != "no"
    _one_line_4xx(c.get(f"/api/jobs/{job.id}/download/exe"), 404, "no format")


def test_rating_a_pair_that_is_not_there_stores_nothing(home: Path) -> None:
    c = _client(home)
    _one_line_4xx(c.post("/api/pairs/nope/rate", json={"outcome": "a"}), 404, "no such job")
    jobs = c.app.app.state.jobs  # type: ignore[attr-defined]
    job = jobs.submit("pair", lambda j: None)
    while job.state != "done":
        time.sleep(0.01)
    _one_line_4xx(c.post(f"/api/pairs/{job.id}/rate", json={"outcome": "c"}), 400, "^outcome: ")
    _one_line_4xx(
        c.post(f"/api/pairs/{job.id}/rate", json={"outcome": "a", "tags": ["tempo"]}), 400, "tags"
    )
    _one_line_4xx(
        c.post(f"/api/pairs/{job.id}/rate", json={"outcome": "a", "rater": "a\nb"}), 400, "rater"
    )
    _one_line_4xx(c.post(f"/api/pairs/{job.id}/rate", json={"outcome": "a"}), 409, "not ready")
    assert RatingsStore(home / "ratings.sqlite3").count() == 0


def test_job_folders_of_an_earlier_run_are_cleared(home: Path) -> None:
    old = home / "studio" / ("ab" * 16)
    old.mkdir(parents=True)
    (old / "song.mid").write_bytes(b"MThd")
    mine = home / "studio" / "keep-me"
    mine.mkdir()
    _client(home)
    assert not old.exists() and mine.is_dir()


def test_regenerating_needs_a_composed_song(home: Path) -> None:
    c = _client(home)
    jobs = c.app.app.state.jobs  # type: ignore[attr-defined]
    job = jobs.submit("song", lambda j: None)  # done, but it made no song
    while job.state != "done":
        time.sleep(0.01)
    url = f"/api/jobs/{job.id}/revise"
    _one_line_4xx(c.post(url, json={"sections": ["A1"]}), 409, "not composed")
    _one_line_4xx(c.post(url, json={"sections": []}), 400, "^sections: ")
    _one_line_4xx(c.post(url, json={"sections": ["A1"], "part": "vocals"}), 400, "^part: ")
    _one_line_4xx(c.post("/api/jobs/nope/revise", json={"sections": ["A1"]}), 404, "no such job")
    assert len(jobs.jobs) == 1


def test_jobs_are_limited(home: Path) -> None:
    c = _client(home)
    jobs = c.app.app.state.jobs  # type: ignore[attr-defined]
    release = threading.Event()
    held = [jobs.submit("song", lambda j: release.wait(10)) for _ in range(server.MAX_JOBS)]
    try:
        with pytest.raises(Busy):
            jobs.submit("song", lambda j: None)
        r = c.post("/api/compose", json={"spec": {"form": "AB"}})
        _one_line_4xx(r, 429, "^busy: ")
        assert len(jobs.jobs) == server.MAX_JOBS
    finally:
        release.set()
    for j in held:
        while j.state != "done":
            time.sleep(0.01)


def _wait(c: TestClient, job: str) -> dict:
    for _ in range(1200):
        s = c.get(f"/api/jobs/{job}").json()
        if s["state"] in ("done", "failed"):
            assert s["state"] == "done", s["error"]
            return s
        time.sleep(0.25)
    raise AssertionError("job did not finish")


@pytest.mark.slow
def test_compose_play_download_compare_and_rate(home: Path) -> None:
    c = _client(home)
    r = c.post("/api/compose", json={"spec": SMALL})
    assert r.status_code == 202
    song = _wait(c, r.json()["job"])
    assert song["song"]["bars"] == 16
    assert [s["id"] for s in song["song"]["sections"]] == ["A1", "B1"]
    assert {"song.mid", "song.plan.png", "song.png"} <= set(song["files"])
    url = f"/api/jobs/{song['id']}"
    assert c.get(f"{url}/files/song.mid").content.startswith(b"MThd")
    assert c.get(f"{url}/files/song.png").content.startswith(b"\x89PNG")
    if "song.ogg" in song["files"]:  # FluidSynth present
        assert c.get(f"{url}/files/song.ogg").content.startswith(b"OggS")
    wanted = {"mid": b"MThd", "wav": b"RIFF", "musicxml": b"<?xml", "pdf": b"%PDF"}
    for fmt, magic in wanted.items():
        if song["downloads"][fmt] is None:
            d = c.get(f"{url}/download/{fmt}")
            assert d.status_code == 200 and d.content.startswith(magic), fmt
            assert "attachment" in d.headers["content-disposition"]
    assert {p.parent for p in home.rglob("*.mid")} == {home / "studio" / song["id"]}

    r = c.post("/api/pairs", json={"kind": "section", "spec": SMALL})
    pair = _wait(c, r.json()["job"])
    assert pair["pair"]["kind"] == "section" and pair["pair"]["section"] in ("A1", "B1")
    rated = c.post(f"/api/pairs/{pair['id']}/rate", json={"outcome": "b", "tags": ["groove"]})
    assert rated.json()["count"] == 1
    _one_line_4xx(c.post(f"/api/pairs/{pair['id']}/rate", json={"outcome": "a"}), 409, "already")
    [stored] = RatingsStore(home / "ratings.sqlite3").list_ratings()
    assert (stored.kind, stored.outcome, stored.tags, stored.rater) == (
        "section",
        "b",
        ("groove",),
        "me",
    )
    assert stored.section == pair["pair"]["section"]
    assert set(stored.features_a) == set(stored.features_b) and len(stored.features_a) > 50
    assert stored.spec["form"] == "AB"


def test_the_studio_binds_only_a_loopback_address(capsys: pytest.CaptureFixture[str]) -> None:
    from composer.cli import main

    assert main(["studio", "--host", "0.0.0.0"]) == 2
    assert capsys.readouterr().err == (
        "error: --host: '0.0.0.0' is not a loopback address; the studio is for this machine\n"
    )
