"""The prompt vocabulary as data: ``data/catalogue.yaml`` (what words can mean) and one file per
language (the words), read and compiled once.

A musician edits the YAML, not this module. The loader checks the files (every word names a known
concept, no word means two things across languages) and raises :class:`LexiconError` naming the
file and the entry, so a bad edit fails the first test run, not a user's compose.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from grammar.brief.text import fold, words_regex

LANGUAGES = ("en", "de", "fr", "es", "it")
TERM_KINDS = (
    "styles",
    "substyles",
    "feels",
    "tempo",
    "moods",
    "energies",
    "instruments",
    "modes",
)
SINGULAR = {
    "styles": "style",
    "substyles": "substyle",
    "feels": "feel",
    "moods": "mood",
    "energies": "energy",
    "instruments": "instrument",
    "modes": "mode",
}
UNIT_KINDS = (
    "bpm",
    "tempo",
    "quarter",
    "at",
    "minutes",
    "seconds",
    "bars",
    "meter",
    "not_meter",
    "time_of_day",
)


class LexiconError(ValueError):
    """A lexicon file that does not say what the loader expects (a bug in shipped data)."""


@dataclass(frozen=True)
class StyleInfo:
    id: str
    match: tuple[str, ...]
    fallback: tuple[str, ...]
    meter: str
    feel: str
    tempo: tuple[int, int, int] | None  # only for a style with no style file (see catalogue)
    weak: bool
    about: str


@dataclass(frozen=True)
class Substyle:
    id: str
    style: str
    meter: str | None
    tempo: float | None


@dataclass(frozen=True)
class Mood:
    id: str
    mode: str | None
    colour: str | None
    tempo: float | None
    about: str


@dataclass(frozen=True)
class Instrument:
    id: str
    program: int | None  # None: the drum kit
    roles: tuple[str, ...]


@dataclass(frozen=True)
class KeyWords:
    """One language's key names: a pattern with groups note, acc, mode, and what they mean."""

    pattern: re.Pattern[str]
    notes: dict[str, str]
    sharp: frozenset[str]
    minor: frozenset[str]


@dataclass(frozen=True)
class Lexicon:
    styles: dict[str, StyleInfo]  # in priority order
    substyles: dict[str, Substyle]
    moods: dict[str, Mood]
    energies: dict[str, str]
    instruments: dict[str, Instrument]
    feels: tuple[str, ...]
    feel_styles: dict[str, str]
    common_meters: frozenset[str]
    terms: re.Pattern[str]  # every word of every language
    meanings: dict[str, tuple[str, Any]]  # normalised phrase -> (kind, value)
    negations: re.Pattern[str]
    keys: tuple[KeyWords, ...]
    numbers: dict[str, int]  # number words
    units: dict[str, tuple[str, ...]]  # unit kind -> folded phrases
    stopwords: frozenset[str]

    def meaning(self, matched: str) -> tuple[str, Any]:
        return self.meanings[normalise(matched)]


def normalise(phrase: str) -> str:
    return re.sub(r"[\s\-]+", " ", fold(phrase).strip())


def _read(name: str) -> dict[str, Any]:
    text = (
        resources.files("grammar.brief").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    )
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise LexiconError(f"{name}: must hold a mapping")
    return data


def _catalogue() -> dict[str, Any]:
    data = _read("catalogue.yaml")
    return data


def _styles(data: dict[str, Any]) -> dict[str, StyleInfo]:
    out = {}
    for sid, s in data["styles"].items():
        tempo = tuple(int(t) for t in s.get("tempo", ()))
        if tempo and (len(tempo) != 3 or not tempo[0] <= tempo[1] <= tempo[2]):
            raise LexiconError(
                f"catalogue.yaml: styles.{sid}.tempo must be slow <= moderate <= fast"
            )
        out[sid] = StyleInfo(
            id=sid,
            match=tuple(s.get("match", ())),
            fallback=tuple(s.get("fallback", ())),
            meter=str(s["meter"]),
            feel=str(s["feel"]),
            tempo=(tempo[0], tempo[1], tempo[2]) if tempo else None,
            weak=bool(s.get("weak", False)),
            about=str(s.get("about", sid)),
        )
    return out


def _meaning(kind: str, concept: Any, lex: dict[str, Any], where: str) -> tuple[str, Any]:
    """(kind, value) of a lexicon entry, checked against the catalogue."""
    known = {
        "styles": lex["styles"],
        "substyles": lex["substyles"],
        "feels": lex["feels"],
        "moods": lex["moods"],
        "energies": lex["energies"],
        "instruments": lex["instruments"],
        "modes": ("major", "minor"),
    }
    if kind == "tempo":
        return "tempo", float(concept)
    if concept not in known[kind]:
        raise LexiconError(f"{where}: '{concept}' is not in catalogue.yaml {kind}")
    return SINGULAR[kind], concept


@cache
def lexicon() -> Lexicon:
    """The compiled vocabulary of every language (read once per process)."""
    cat = _catalogue()
    styles = _styles(cat)
    substyles = {
        k: Substyle(k, v["style"], v.get("meter"), v.get("tempo"))
        for k, v in cat["substyles"].items()
    }
    for sub in substyles.values():
        if sub.style not in styles:
            raise LexiconError(f"catalogue.yaml: substyles.{sub.id}: unknown style '{sub.style}'")
    moods = {
        k: Mood(k, v.get("mode"), v.get("colour"), v.get("tempo"), str(v.get("about", k)))
        for k, v in cat["moods"].items()
    }
    instruments = {
        k: Instrument(k, v.get("program"), tuple(v["roles"])) for k, v in cat["instruments"].items()
    }
    concepts = {
        "styles": styles,
        "substyles": substyles,
        "feels": tuple(cat["feels"]),
        "moods": moods,
        "energies": cat["energies"],
        "instruments": instruments,
    }
    meanings: dict[str, tuple[str, Any]] = {}
    origin: dict[str, str] = {}
    negations: set[str] = set()
    numbers: dict[str, int] = {}
    units: dict[str, set[str]] = {k: set() for k in UNIT_KINDS}
    stopwords: set[str] = set()
    keys = []
    for lang in LANGUAGES:
        data = _read(f"{lang}.yaml")
        for kind in TERM_KINDS:
            for concept, phrases in (data.get(kind) or {}).items():
                where = f"{lang}.yaml: {kind}.{concept}"
                meaning = _meaning(kind, concept, concepts, where)
                # the style and feel ids are words of every language ("jazz", "swing")
                for phrase in _texts(phrases, where):
                    norm = normalise(phrase)
                    if norm in meanings and meanings[norm] != meaning:
                        raise LexiconError(
                            f"{where}: '{phrase}' already means {meanings[norm]} ({origin[norm]})"
                        )
                    meanings[norm], origin[norm] = meaning, where
        negations.update(normalise(n) for n in _texts(data.get("negations"), f"{lang}.yaml"))
        numbers.update({fold(str(w)): int(n) for w, n in (data.get("numbers") or {}).items()})
        for kind in UNIT_KINDS:
            units[kind].update(fold(str(u)) for u in (data.get("units") or {}).get(kind) or ())
        stopwords.update(fold(w) for w in _texts(data.get("stopwords"), f"{lang}.yaml"))
        k = data.get("keys") or {}
        if k.get("notes"):
            keys.append(_key_words(k))
    for sid in styles:  # every style id and feel is a word in any language
        meanings.setdefault(normalise(sid), ("style", sid))
    for feel in concepts["feels"]:
        meanings.setdefault(normalise(feel), ("feel", feel))
    return Lexicon(
        styles=styles,
        substyles=substyles,
        moods=moods,
        energies={k: str(v.get("about", k)) for k, v in cat["energies"].items()},
        instruments=instruments,
        feels=tuple(cat["feels"]),
        feel_styles=dict(cat.get("feel_styles") or {}),
        common_meters=frozenset(cat.get("common_meters") or ()),
        terms=words_regex(meanings),
        meanings=meanings,
        negations=words_regex(negations),
        keys=tuple(keys),
        numbers=numbers,
        units={k: tuple(sorted(v, key=len, reverse=True)) for k, v in units.items()},
        stopwords=frozenset(stopwords),
    )


def _texts(items: Any, where: str) -> list[str]:
    """A list of phrases, each of them text (YAML reads a bare no/on as a boolean)."""
    for item in items or ():
        if not isinstance(item, str):
            raise LexiconError(f"{where}: {item!r} is not text (quote it)")
    return list(items or ())


def _alternatives(words: list[str]) -> str:
    return "|".join(re.escape(fold(w)) for w in sorted(words, key=len, reverse=True))


def _key_words(k: dict[str, Any]) -> KeyWords:
    notes = {fold(str(n)): str(letter) for n, letter in k["notes"].items()}
    sharp, flat = [str(w) for w in k.get("sharp") or ()], [str(w) for w in k.get("flat") or ()]
    major, minor = [str(w) for w in k["major"]], [str(w) for w in k["minor"]]
    acc = f"(?:[\\s-]*(?P<acc>{_alternatives(sharp + flat)}))?" if sharp or flat else ""
    pattern = re.compile(
        rf"(?<![\w#])(?P<note>{_alternatives(list(notes))}){acc}"
        rf"[\s-]*(?P<mode>{_alternatives(major + minor)})(?![\w])"
    )
    return KeyWords(
        pattern=pattern,
        notes=notes,
        sharp=frozenset(fold(w) for w in sharp),
        minor=frozenset(fold(w) for w in minor),
    )
