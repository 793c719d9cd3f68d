"""One A/B rating: the record the ratings store keeps (:mod:`composer.studio.ratings`), and its
checks.

A :class:`Rating` is one comparison: who rated and when, the spec, both candidates' notes
(NoteArrays) and kernel features (:data:`kernels.features.FEATURES`, by name), what was compared
(``kind``: two candidates of one section in the same song, or two whole songs), the outcome and
optional tags saying why. Its ``uid`` is a hash of its content, so the same rating imported twice
is stored once. Every field is checked on construction (:class:`RatingError` naming the field),
so a rating that exists can be stored.

A leaf like the store (standard library, numpy, the NoteArray dtype, the error types).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np

from grammar.errors import ComposeError, shorten
from kernels.notes import NOTE_DTYPE

KINDS = ("section", "song")  # two candidates of one section in context, or two whole songs
OUTCOMES = ("a", "b", "tie", "both_bad")
TAGS = ("melody", "groove", "harmony", "form")  # what the listener says decided it
NOTE_FIELDS = ("onset", "duration", "pitch", "velocity", "track")
# Bounds on one rating (a JSON line of an import is checked against them before anything is stored).
MAX_NOTES = 200_000  # per candidate: ~ a 10-minute song with a busy band
MAX_FEATURES = 512
MAX_TEXT = 120  # rater and section names
MAX_SPEC_BYTES = 200_000

Kind = Literal["section", "song"]
Outcome = Literal["a", "b", "tie", "both_bad"]


class RatingError(ComposeError):
    """A rating that cannot be stored as given, or a database this version cannot read."""


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
