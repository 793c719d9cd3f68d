"""The ratings store: a listener's A/B preferences in a local SQLite database.

    from composer.studio.ratings import RatingsStore, Rating
    store = RatingsStore()                 # $SONGC_HOME/ratings.sqlite3, default ~/.songc/
    store.add_rating(rating)               # -> its id (the existing id for a duplicate)
    for r in store.iter_ratings(kind="section"):
        x_a, x_b, y = r.vector("a"), r.vector("b"), r.outcome

A :class:`Rating` (:mod:`composer.studio.rating`, the record and its checks; importable from
here too) is one comparison: who rated and when, the spec, both candidates' notes and kernel
features, what was compared, the outcome and optional tags saying why. Its ``uid`` is a hash of
its content, so the same rating imported twice is stored once. This module is the store: the
database, its migrations, JSON-lines export and import.

Ratings are never lost: the database runs in WAL mode with ``synchronous=FULL``; every write is one
``BEGIN IMMEDIATE`` transaction, so a process killed mid-write leaves the last committed state, and
concurrent raters (threads or processes) queue on SQLite's lock instead of corrupting the file.
The schema is versioned (``PRAGMA user_version``) and migrated forward on open; a database from a
newer songc is refused rather than guessed at.

With the record it is a leaf (standard library, numpy, the NoteArray dtype, the error types,
the output writer): the reward model and the training code may read it without the web studio.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from composer.app.output import check_targets, write_files
from composer.studio.rating import (
    _FIELDS,
    KINDS,
    OUTCOMES,
    TAGS,
    Kind,
    Outcome,
    Rating,
    RatingError,
    _canonical,
    _notes_array,
    _uid,
    now,
)
from grammar.errors import shorten

__all__ = [
    "HOME_ENV",
    "KINDS",
    "OUTCOMES",
    "TAGS",
    "ImportResult",
    "Kind",
    "Outcome",
    "Rating",
    "RatingError",
    "RatingsStore",
    "data_home",
    "default_db_path",
    "now",
]

HOME_ENV = "SONGC_HOME"  # the data folder; default ~/.songc
DB_NAME = "ratings.sqlite3"
LOCK_TIMEOUT_S = 60.0  # how long a writer waits for another's transaction


def data_home() -> Path:
    """The studio's data folder: ``$SONGC_HOME`` if set, else ``~/.songc``."""
    env = os.environ.get(HOME_ENV)
    return Path(env).expanduser() if env else Path.home() / ".songc"


def default_db_path() -> Path:
    return data_home() / DB_NAME


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
