"""The ratings store: a listener's A/B preferences in a local SQLite database.

    from composer.studio.ratings import RatingsStore, Rating
    store = RatingsStore()                 # $SONGC_HOME/ratings.sqlite3, default ~/.songc/
    store.add_rating(rating)               # -> its id (the existing id for a duplicate)
    for r in store.iter_ratings(kind="section"):
        x_a, x_b, y = r.vector("a"), r.vector("b"), r.outcome

A :class:`Rating` is one comparison: who rated and when, the spec, both candidates' notes
(NoteArrays) and kernel features (:data:`kernels.features.FEATURES`, by name), what was compared
(``kind``: two candidates of one section in the same song, or two whole songs), the outcome and
optional tags saying why. Its ``uid`` is a hash of its content, so the same rating imported twice
is stored once.

Ratings are never lost: the database runs in WAL mode with ``synchronous=FULL``; every write is one
``BEGIN IMMEDIATE`` transaction, so a process killed mid-write leaves the last committed state, and
concurrent raters (threads or processes) queue on SQLite's lock instead of corrupting the file.
The schema is versioned (``PRAGMA user_version``) and migrated forward on open; a database from a
newer songc is refused rather than guessed at.

This module is a leaf (standard library, numpy, the NoteArray dtype, the error types): the reward
model and the training code may read it without the web studio.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np

from composer.app.output import check_targets, write_files
from grammar.errors import ComposeError, shorten
from kernels.notes import NOTE_DTYPE

HOME_ENV = "SONGC_HOME"  # the data folder; default ~/.songc
DB_NAME = "ratings.sqlite3"
KINDS = ("section", "song")  # two candidates of one section in context, or two whole songs
OUTCOMES = ("a", "b", "tie", "both_bad")
TAGS = ("melody", "groove", "harmony", "form")  # what the listener says decided it
NOTE_FIELDS = ("onset", "duration", "pitch", "velocity", "track")
# Bounds on one rating (a JSON line of an import is checked against them before anything is stored).
MAX_NOTES = 200_000  # per candidate: ~ a 10-minute song with a busy band
MAX_FEATURES = 512
MAX_TEXT = 120  # rater and section names
MAX_SPEC_BYTES = 200_000
LOCK_TIMEOUT_S = 60.0  # how long a writer waits for another's transaction

Kind = Literal["section", "song"]
Outcome = Literal["a", "b", "tie", "both_bad"]


class RatingError(ComposeError):
    """A rating that cannot be stored as given, or a database this version cannot read."""


def data_home() -> Path:
    """The studio's data folder: ``$SONGC_HOME`` if set, else ``~/.songc``."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else Path.home() / ".songc"


def default_db_path() -> Path:
    return data_home() / DB_NAME


def now() -> str:
    """The current time as stored in ``rated_at``: ISO 8601, UTC, microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _notes_list(notes: np.ndarray) -> list[list[int]]:
    return [[int(row[f]) for f in NOTE_FIELDS] for row in notes]


def _notes_array(rows: Any, name: str) -> np.ndarray:
    if not isinstance(rows, list):
        raise RatingError(name, "must be a list of [onset, duration, pitch, velocity, track]")
    if len(rows) > MAX_NOTES:
        raise RatingError(name, f"{len(rows)} notes, at most {MAX_NOTES}")
    out = np.zeros(len(rows), dtype=NOTE_DTYPE)
    for i, row in enumerate(rows):
        if (
            not isinstance(row, list)
            or len(row) != 5
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in row)
        ):
            raise RatingError(f"{name}[{i}]", "must be 5 integers: onset, duration, pitch, ...")
        onset, duration, pitch, velocity, track = row
        if not (
            0 <= onset < 1 << 40
            and 0 < duration < 1 << 40
            and 0 <= pitch <= 127
            and 0 <= velocity <= 127
            and 0 <= track <= 15
        ):
            raise RatingError(f"{name}[{i}]", f"out of range: {shorten(row)}")
        out[i] = (onset, duration, pitch, velocity, track)
    return out


def _features(values: Any, name: str) -> dict[str, float]:
    if not isinstance(values, Mapping):
        raise RatingError(name, "must be an object of feature name -> number")
    if len(values) > MAX_FEATURES:
        raise RatingError(name, f"{len(values)} features, at most {MAX_FEATURES}")
    out = {}
    for k, v in values.items():
        if not isinstance(k, str) or not k or len(k) > MAX_TEXT:
            raise RatingError(name, f"bad feature name {shorten(k)!r}")
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise RatingError(f"{name}.{shorten(k)}", f"must be a finite number, got {shorten(v)}")
        out[k] = float(v)
    return out


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise RatingError("tags", f"must be a list of {', '.join(TAGS)}")
    return tuple(value)


def _text(value: Any, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise RatingError(name, f"must be a non-empty text of at most {MAX_TEXT} characters")
    if not value.isprintable():
        raise RatingError(name, "must be printable text on one line")
    return value


@dataclass(frozen=True)
class Rating:
    """One A/B comparison. ``features_a``/``features_b`` have the same names (the kernel
    features of each candidate, see :mod:`composer.studio.pairs`); ``details`` is free JSON
    provenance (seeds, candidate ranks). ``id`` is set once stored."""

    rater: str
    kind: Kind
    spec: dict[str, Any]
    notes_a: np.ndarray
    notes_b: np.ndarray
    features_a: dict[str, float]
    features_b: dict[str, float]
    outcome: Outcome
    tags: tuple[str, ...] = ()
    section: str | None = None  # the section compared (kind "section")
    rated_at: str = field(default_factory=now)
    details: dict[str, Any] = field(default_factory=dict)
    id: int | None = None

    def __post_init__(self) -> None:
        _validate(self)
        # canonical values, so that the uid is the same before and after a trip through JSON
        for name in ("features_a", "features_b"):
            object.__setattr__(self, name, _features(getattr(self, name), name))
        for name in ("spec", "details"):
            object.__setattr__(self, name, json.loads(_canonical(getattr(self, name))))

    def to_json(self) -> dict[str, Any]:
        """The rating as one JSON object (the export format; ``uid`` included, ``id`` not)."""
        body = self._body()
        return {"uid": _uid(body), **body}

    @property
    def uid(self) -> str:
        return _uid(self._body())

    def vector(self, side: Literal["a", "b"], names: Sequence[str] | None = None) -> np.ndarray:
        """One side's features as a float64 vector, in ``names`` order (default: sorted
        names of this rating); a name the rating lacks is an error, not a silent zero."""
        feats = self.features_a if side == "a" else self.features_b
        order = sorted(feats) if names is None else list(names)
        missing = [n for n in order if n not in feats]
        if missing:
            raise KeyError(f"rating {self.id} lacks features {missing[:5]}")
        return np.array([feats[n] for n in order], dtype=np.float64)

    def _body(self) -> dict[str, Any]:
        return {
            "rater": self.rater,
            "rated_at": self.rated_at,
            "kind": self.kind,
            "section": self.section,
            "spec": self.spec,
            "notes_a": _notes_list(self.notes_a),
            "notes_b": _notes_list(self.notes_b),
            "features_a": self.features_a,
            "features_b": self.features_b,
            "outcome": self.outcome,
            "tags": list(self.tags),
            "details": self.details,
        }

    @classmethod
    def from_json(cls, data: Any, where: str = "rating") -> Rating:
        """Parse and validate one exported object (a wrong ``uid`` is an error: the line was
        edited)."""
        if not isinstance(data, dict):
            raise RatingError(where, "must be a JSON object")
        known = {*_FIELDS, "uid"}
        extra = sorted(set(data) - known)
        if extra:
            raise RatingError(f"{where}.{shorten(extra[0])}", "unknown field")
        missing = [k for k in _FIELDS if k not in data and k not in _OPTIONAL]
        if missing:
            raise RatingError(f"{where}.{missing[0]}", "missing")
        try:
            r = cls(
                rater=data["rater"],
                kind=data["kind"],
                spec=data["spec"],
                notes_a=_notes_array(data["notes_a"], "notes_a"),
                notes_b=_notes_array(data["notes_b"], "notes_b"),
                features_a=_features(data["features_a"], "features_a"),
                features_b=_features(data["features_b"], "features_b"),
                outcome=data["outcome"],
                tags=_tags(data.get("tags", [])),
                section=data.get("section"),
                rated_at=data["rated_at"],
                details=data.get("details", {}),
            )
        except RatingError as exc:
            raise RatingError(f"{where}.{exc.field}", exc.problem) from None
        if "uid" in data and data["uid"] != r.uid:
            raise RatingError(f"{where}.uid", "does not match the rating's content (edited?)")
        return r


_FIELDS = (
    "rater",
    "rated_at",
    "kind",
    "section",
    "spec",
    "notes_a",
    "notes_b",
    "features_a",
    "features_b",
    "outcome",
    "tags",
    "details",
)
_OPTIONAL = ("section", "tags", "details")


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _uid(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(_canonical(body).encode()).hexdigest()[:32]


def _validate(r: Rating) -> None:
    _text(r.rater, "rater")
    if r.kind not in KINDS:
        raise RatingError("kind", f"{shorten(r.kind)!r} is not one of {', '.join(KINDS)}")
    if r.outcome not in OUTCOMES:
        raise RatingError("outcome", f"{shorten(r.outcome)!r} is not one of {', '.join(OUTCOMES)}")
    if r.kind == "section":
        _text(r.section, "section")
    elif r.section is not None:
        raise RatingError("section", "only a rating of kind 'section' names a section")
    tags = _tags(r.tags)
    if any(t not in TAGS for t in tags):
        raise RatingError("tags", f"must be a list of {', '.join(TAGS)}")
    object.__setattr__(r, "tags", tuple(t for t in TAGS if t in tags))  # one order, no repeats
    if not isinstance(r.spec, dict):
        raise RatingError("spec", "must be a JSON object")
    if not isinstance(r.details, dict):
        raise RatingError("details", "must be a JSON object")
    for name, value in (("spec", r.spec), ("details", r.details)):
        try:
            size = len(_canonical(value))
        except (TypeError, ValueError) as exc:
            raise RatingError(name, f"not JSON: {exc}") from None
        if size > MAX_SPEC_BYTES:
            raise RatingError(name, f"{size} bytes of JSON, at most {MAX_SPEC_BYTES}")
    for name in ("notes_a", "notes_b"):
        notes = getattr(r, name)
        if not isinstance(notes, np.ndarray) or notes.dtype != NOTE_DTYPE:
            raise RatingError(name, "must be a NoteArray (kernels.notes.NOTE_DTYPE)")
        if len(notes) > MAX_NOTES:
            raise RatingError(name, f"{len(notes)} notes, at most {MAX_NOTES}")
    fa = _features(r.features_a, "features_a")
    fb = _features(r.features_b, "features_b")
    if set(fa) != set(fb):
        raise RatingError("features_b", "must name the same features as features_a")
    if not isinstance(r.rated_at, str):
        raise RatingError("rated_at", "must be an ISO 8601 time")
    try:
        when = datetime.fromisoformat(r.rated_at)
    except ValueError:
        raise RatingError("rated_at", f"{shorten(r.rated_at)!r} is not an ISO 8601 time") from None
    if when.tzinfo is None:
        raise RatingError("rated_at", "needs a time zone (e.g. +00:00)")


# Migrations, in order: MIGRATIONS[k] takes a database at version k to k + 1, inside the same
# transaction as the version bump. Append, never edit: a user's database is at any of them.
def _v1(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE ratings (
            id INTEGER PRIMARY KEY,
            uid TEXT NOT NULL UNIQUE,
            rater TEXT NOT NULL,
            rated_at TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('section', 'song')),
            section TEXT,
            spec TEXT NOT NULL,
            notes_a TEXT NOT NULL,
            notes_b TEXT NOT NULL,
            features_a TEXT NOT NULL,
            features_b TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('a', 'b', 'tie', 'both_bad')),
            tags TEXT NOT NULL DEFAULT '[]'
        )"""
    )


def _v2(db: sqlite3.Connection) -> None:
    """Provenance of each pair (seeds, candidate ranks) and indexes for the trainer's queries."""
    db.execute("ALTER TABLE ratings ADD COLUMN details TEXT NOT NULL DEFAULT '{}'")
    db.execute("CREATE INDEX ratings_kind ON ratings (kind, id)")
    db.execute("CREATE INDEX ratings_rater ON ratings (rater, id)")


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class ImportResult:
    added: int
    duplicates: int  # already stored (or repeated in the file): skipped, not doubled


class RatingsStore:
    """The ratings database at ``path`` (default :func:`default_db_path`), created and
    migrated on open. Each call opens its own connection, so one store may be shared by
    threads, and many processes may open the same file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise RatingError("ratings", f"cannot create {self.path.parent}: {exc}") from None
        with self._connect() as db:
            self._migrate(db)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise RatingError("ratings", f"cannot open {self.path}: {exc}") from None
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(f"PRAGMA busy_timeout={int(LOCK_TIMEOUT_S * 1000)}")
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _write(self, db: sqlite3.Connection) -> Iterator[None]:
        """One transaction that takes the write lock up front: all of it or none of it."""
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _migrate(self, db: sqlite3.Connection) -> None:
        with self._write(db):
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise RatingError(
                    "ratings",
                    f"{self.path} has schema version {version}; this songc reads up to "
                    f"{SCHEMA_VERSION} (upgrade songc)",
                )
            for k in range(version, SCHEMA_VERSION):
                MIGRATIONS[k](db)
            if version != SCHEMA_VERSION:
                db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def schema_version(self) -> int:
        with self._connect() as db:
            return int(db.execute("PRAGMA user_version").fetchone()[0])

    def add_rating(self, rating: Rating) -> int:
        """Store ``rating`` (one transaction); returns its id, or the stored one's id if the
        same rating (same uid) is already there."""
        return self._insert([rating])[0][0]

    def _insert(self, ratings: Sequence[Rating]) -> list[tuple[int, bool]]:
        rows = [_row(r) for r in ratings]
        out = []
        with self._connect() as db, self._write(db):
            for row in rows:
                cur = db.execute(
                    f"INSERT OR IGNORE INTO ratings ({', '.join(_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                    row,
                )
                if cur.rowcount == 1:
                    out.append((int(cur.lastrowid or 0), True))
                else:
                    found = db.execute("SELECT id FROM ratings WHERE uid = ?", (row[0],))
                    out.append((int(found.fetchone()[0]), False))
        return out

    def iter_ratings(self, kind: str | None = None, rater: str | None = None) -> Iterator[Rating]:
        """The stored ratings in the order they were added, optionally of one kind or rater."""
        where, args = _where(kind, rater)
        with self._connect() as db:
            cur = db.execute(
                f"SELECT id, {', '.join(_COLUMNS[1:])} FROM ratings{where} ORDER BY id", args
            )
            for row in cur:
                yield _from_row(row)

    def list_ratings(self, kind: str | None = None, rater: str | None = None) -> list[Rating]:
        return list(self.iter_ratings(kind, rater))

    def count(self, kind: str | None = None, rater: str | None = None) -> int:
        where, args = _where(kind, rater)
        with self._connect() as db:
            return int(db.execute(f"SELECT COUNT(*) FROM ratings{where}", args).fetchone()[0])

    def export_jsonl(self, path: str | Path, force: bool = False) -> int:
        """Write every rating as one JSON line (sorted keys, in id order) to ``path``; an
        existing file is replaced only with ``force``. Returns the number written."""
        target = Path(path)
        check_targets([target], force, field="ratings export")
        lines = [_canonical(r.to_json()) + "\n" for r in self.iter_ratings()]
        write_files({target: "".join(lines).encode()}, force)
        return len(lines)

    def import_jsonl(self, path: str | Path) -> ImportResult:
        """Add the ratings of a JSON Lines file (as :meth:`export_jsonl` writes): every line
        is checked first (an error names the line and field, and nothing is stored), then all
        are added in one transaction; ratings already stored are counted, not doubled."""
        source = Path(path)
        try:
            text = source.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problem = f"cannot read {shorten(source, 120)}: {exc}"
            raise RatingError("ratings import", problem) from None
        ratings = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RatingError(f"line {n}", f"not JSON: {exc.msg}") from None
            ratings.append(Rating.from_json(data, where=f"line {n}"))
        added = sum(new for _, new in self._insert(ratings)) if ratings else 0
        return ImportResult(added=added, duplicates=len(ratings) - added)

    def check(self) -> str:
        """SQLite's integrity check: ``'ok'`` for a sound database."""
        with self._connect() as db:
            return str(db.execute("PRAGMA integrity_check").fetchone()[0])


_COLUMNS = ("uid", *_FIELDS)  # the table's columns: the content hash, then the fields


def _row(r: Rating) -> tuple[Any, ...]:
    """The columns of :data:`_COLUMNS`: texts as they are, structured fields as canonical JSON."""
    body = r._body()
    return tuple(
        _uid(body) if c == "uid" else body[c] if c in _PLAIN else _canonical(body[c])
        for c in _COLUMNS
    )


_PLAIN = ("rater", "rated_at", "kind", "section", "outcome")


def _from_row(row: Sequence[Any]) -> Rating:
    (id_, rater, rated_at, kind, section, spec, na, nb, fa, fb, outcome, tags, details) = row
    return Rating(
        rater=rater,
        rated_at=rated_at,
        kind=kind,
        section=section,
        spec=json.loads(spec),
        notes_a=_notes_array(json.loads(na), "notes_a"),
        notes_b=_notes_array(json.loads(nb), "notes_b"),
        features_a=json.loads(fa),
        features_b=json.loads(fb),
        outcome=outcome,
        tags=tuple(json.loads(tags)),
        details=json.loads(details),
        id=int(id_),
    )


def _where(kind: str | None, rater: str | None) -> tuple[str, tuple[str, ...]]:
    conds, args = [], []
    if kind is not None:
        conds.append("kind = ?")
        args.append(kind)
    if rater is not None:
        conds.append("rater = ?")
        args.append(rater)
    return (" WHERE " + " AND ".join(conds) if conds else ""), tuple(args)
