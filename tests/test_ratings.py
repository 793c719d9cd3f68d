"""The ratings store: what goes in comes out, duplicates are found, exports round-trip byte for
byte, bad ratings are refused with the field named, migrations run, and neither a killed writer
nor concurrent writers lose or corrupt a rating."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from composer.studio import ratings as rs
from composer.studio.ratings import Rating, RatingError, RatingsStore
from grammar.errors import OutputError
from kernels.features import FEATURES
from kernels.notes import NOTE_DTYPE

ROOT = Path(__file__).resolve().parent.parent


def _notes(seed: int, n: int = 12) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros(n, dtype=NOTE_DTYPE)
    out["onset"] = np.sort(rng.integers(0, 7680, n))
    out["duration"] = rng.integers(60, 960, n)
    out["pitch"] = rng.integers(48, 84, n)
    out["velocity"] = rng.integers(40, 110, n)
    out["track"] = rng.integers(0, 3, n)
    return out


def make_rating(seed: int = 0, **kw: object) -> Rating:
    rng = np.random.default_rng(seed)
    fields: dict[str, object] = {
        "rater": "ada",
        "kind": "section",
        "section": "B",
        "spec": {"form": "AABA", "seed": seed, "prompt": "a waltz in D minor"},
        "notes_a": _notes(seed),
        "notes_b": _notes(seed + 1000),
        "features_a": {
            n: float(v) for n, v in zip(FEATURES, rng.normal(size=len(FEATURES)), strict=True)
        },
        "features_b": {
            n: float(v) for n, v in zip(FEATURES, rng.normal(size=len(FEATURES)), strict=True)
        },
        "outcome": "a",
        "tags": ("melody",),
        "details": {"seed": seed},
    }
    fields.update(kw)
    return Rating(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> RatingsStore:
    return RatingsStore(tmp_path / "home" / "ratings.sqlite3")


def test_a_rating_comes_back_as_it_went_in(store: RatingsStore) -> None:
    r = make_rating(3, outcome="tie", tags=["harmony", "melody", "melody"])
    assert r.tags == ("melody", "harmony")  # one order, no repeats
    rid = store.add_rating(r)
    [back] = store.list_ratings()
    assert back.id == rid
    assert back.uid == r.uid
    for name in ("rater", "kind", "section", "spec", "outcome", "tags", "rated_at", "details"):
        assert getattr(back, name) == getattr(r, name), name
    np.testing.assert_array_equal(back.notes_a, r.notes_a)
    np.testing.assert_array_equal(back.notes_b, r.notes_b)
    assert back.features_a == r.features_a  # floats exact through JSON
    np.testing.assert_array_equal(back.vector("b", FEATURES), [r.features_b[n] for n in FEATURES])
    assert store.count() == 1 and store.count(kind="song") == 0 and store.count(rater="ada") == 1


def test_the_same_rating_twice_is_stored_once(store: RatingsStore) -> None:
    r = make_rating(1)
    assert store.add_rating(r) == store.add_rating(r)
    assert store.count() == 1
    store.add_rating(make_rating(1, rated_at=rs.now()))  # the same pair rated again: a new rating
    assert store.count() == 2


def test_export_import_round_trips_exactly(store: RatingsStore, tmp_path: Path) -> None:
    for k in range(4):
        store.add_rating(make_rating(k, kind="song", section=None) if k % 2 else make_rating(k))
    first = tmp_path / "a.jsonl"
    assert store.export_jsonl(first) == 4
    other = RatingsStore(tmp_path / "other" / "r.sqlite3")
    assert other.import_jsonl(first) == rs.ImportResult(added=4, duplicates=0)
    assert other.import_jsonl(first) == rs.ImportResult(added=0, duplicates=4)  # not doubled
    assert other.count() == 4
    second = tmp_path / "b.jsonl"
    other.export_jsonl(second)
    assert first.read_bytes() == second.read_bytes()
    line = json.loads(first.read_text().splitlines()[0])
    assert set(line) == {"uid", *rs._FIELDS}


def test_export_never_overwrites_silently(store: RatingsStore, tmp_path: Path) -> None:
    store.add_rating(make_rating(0))
    out = tmp_path / "r.jsonl"
    out.write_text("mine\n")
    with pytest.raises(OutputError, match="exists"):
        store.export_jsonl(out)
    assert out.read_text() == "mine\n"
    store.export_jsonl(out, force=True)
    assert out.read_text().startswith('{"details"')


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"outcome": "c"}, "outcome"),
        ({"tags": ["tempo"]}, "tags"),
        ({"kind": "album"}, "kind"),
        ({"kind": "section", "section": None}, "section"),
        ({"kind": "song", "section": "A"}, "section"),
        ({"rater": ""}, "rater"),
        ({"rater": "a\nb"}, "rater"),
        ({"features_a": {"x": float("nan")}, "features_b": {"x": 1.0}}, "features_a.x"),
        ({"features_a": {"x": 1.0}, "features_b": {"y": 1.0}}, "features_b"),
        ({"rated_at": "yesterday"}, "rated_at"),
        ({"rated_at": "2026-11-28T20:00:00"}, "rated_at"),
        ({"spec": {"x": object()}}, "spec"),
        ({"notes_a": [1, 2, 3]}, "notes_a"),
    ],
)
def test_a_bad_rating_is_refused_naming_the_field(change: dict, field: str) -> None:
    with pytest.raises(RatingError) as err:
        make_rating(0, **change)
    assert err.value.field == field
    assert "\n" not in str(err.value)


def test_a_bad_import_line_is_named_and_nothing_is_stored(
    store: RatingsStore, tmp_path: Path
) -> None:
    good = json.dumps(make_rating(0).to_json())
    edited = make_rating(1).to_json()
    edited["outcome"] = "b"  # the uid no longer matches
    cases = {
        "not json": (f"{good}\n{{oops\n", "line 2"),
        "bad field": (
            good + "\n" + good.replace('"outcome": "a"', '"outcome": "z"'),
            "line 2.outcome",
        ),
        "edited": (f"{good}\n{json.dumps(edited)}\n", "line 2.uid"),
        "unknown": (json.dumps({**make_rating(2).to_json(), "extra": 1}), "line 1.extra"),
        "pitch": (good.replace("[[", "[[0, 10, 300, 1, 0], [", 1), "line 1.notes_a[0]"),
    }
    for name, (text, field) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.jsonl"
        path.write_text(text)
        with pytest.raises(RatingError) as err:
            store.import_jsonl(path)
        assert err.value.field == field, name
        assert store.count() == 0, name


def test_migrations_bring_an_old_database_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    rs.MIGRATIONS[0](db)  # a version-1 database, as the first songc with ratings wrote it
    db.execute("PRAGMA user_version=1")
    r = make_rating(5)
    row = rs._row(r)[:-1]  # version 1 had no details column
    db.execute(
        f"INSERT INTO ratings ({', '.join(rs._COLUMNS[:-1])}) VALUES ({','.join('?' * 12)})", row
    )
    db.close()
    store = RatingsStore(path)
    assert store.schema_version() == rs.SCHEMA_VERSION == 2
    [back] = store.list_ratings()
    assert back.details == {} and back.features_a == r.features_a
    store.add_rating(make_rating(6))
    assert store.count() == 2


def test_a_database_from_a_newer_songc_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version={rs.SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(RatingError, match="schema version 3"):
        RatingsStore(path)


def test_the_data_folder_follows_songc_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(rs.HOME_ENV, str(tmp_path / "h"))
    assert rs.default_db_path() == tmp_path / "h" / "ratings.sqlite3"
    store = RatingsStore()
    store.add_rating(make_rating(0))
    assert (tmp_path / "h" / "ratings.sqlite3").is_file()
    monkeypatch.delenv(rs.HOME_ENV)
    assert rs.data_home() == Path.home() / ".songc"


# A writer in another process: it prints the number of ratings committed after each commit.
WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    from test_ratings import make_rating
    from composer.studio.ratings import RatingsStore
    store = RatingsStore({db!r})
    base, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    if mode == "import":
        print("start", flush=True)
        store.import_jsonl(sys.argv[4])
        print("done", flush=True)
    else:
        for k in range(n):
            store.add_rating(make_rating(base + k, rater=f"r{{base}}"))
            print(k + 1, flush=True)
    """
)


def _writer(db: Path, *args: str) -> subprocess.Popen[str]:
    code = WRITER.format(tests=str(ROOT / "tests"), db=str(db))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, env=env
    )


@pytest.mark.slow
def test_a_writer_killed_mid_write_loses_nothing_committed(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite3"
    RatingsStore(db)
    proc = _writer(db, "0", "100000", "add")
    assert proc.stdout is not None
    committed = 0
    while committed < 25:
        committed = int(proc.stdout.readline())
    proc.send_signal(signal.SIGKILL)  # in the middle of its next writes
    proc.wait()
    store = RatingsStore(db)
    assert store.check() == "ok"
    assert committed <= store.count() <= committed + 2  # what it said was committed, is
    assert all(r.rater == "r0" for r in store.iter_ratings())


@pytest.mark.slow
def test_an_import_killed_midway_adds_all_or_nothing(tmp_path: Path) -> None:
    jsonl = tmp_path / "all.jsonl"
    jsonl.write_text("".join(json.dumps(make_rating(k).to_json()) + "\n" for k in range(300)))
    db = tmp_path / "r.sqlite3"
    RatingsStore(db)
    proc = _writer(db, "0", "0", "import", str(jsonl))
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "start"
    time.sleep(0.3)  # reading and checking 300 ratings, or inserting them
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = RatingsStore(db)
    assert store.check() == "ok"
    before = store.count()
    assert before in (0, 300)
    assert store.import_jsonl(jsonl).added == 300 - before  # and importing again completes it
    assert store.count() == 300


@pytest.mark.slow
def test_concurrent_raters_do_not_corrupt_the_store(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite3"
    RatingsStore(db)
    procs = [_writer(db, str(1000 * p), "10", "add") for p in range(4)]
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        assert out.split()[-1] == "10"
    store = RatingsStore(db)
    assert store.check() == "ok"
    assert store.count() == 40
    assert {r.rater for r in store.iter_ratings()} == {"r0", "r1000", "r2000", "r3000"}
    assert len({r.uid for r in store.iter_ratings()}) == 40
