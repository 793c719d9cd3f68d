"""A Brief into a spec: fill the fields the spec leaves unset; explicit fields and flags win.

The styles that exist are an argument (``styles``), not an import: grammar does not know the
planners' style table. A style the prompt names that does not exist yet falls back to the
nearest one that does (``fallback`` in catalogue.yaml: bossa -> jazz, jig -> folk in 6/8), and
the reading says so.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from grammar.brief.interpret import Brief, interpret
from grammar.brief.lexicon import lexicon

SPEC_FIELDS = ("key", "tempo", "time_signature", "style", "form")


@dataclass(frozen=True)
class Reading:
    """What :func:`read_prompt` did with a prompt."""

    brief: Brief
    style_asked: str | None = None  # the catalogue style the prompt named (None: none, or explicit)
    style_note: str | None = None  # "no bossa style yet: played as jazz"
    filled: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (value, words)
    overridden: dict[str, tuple[str, str]] = field(default_factory=dict)  # field -> (value, words)
    warnings: tuple[str, ...] = ()


def _norm(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.lower())


def resolve_style(style: str, available: Collection[str]) -> tuple[str | None, str | None]:
    """The existing style to play a catalogue style with: (name, note); note says when it is a
    fallback. (None, note) when neither it nor any fallback exists."""
    lex = lexicon()
    by_norm = {_norm(a): a for a in available}
    seen: set[str] = set()

    def find(sid: str) -> str | None:
        if sid in seen:
            return None
        seen.add(sid)
        info = lex.styles.get(sid)
        for name in (sid, *(info.match if info else ())):
            if _norm(name) in by_norm:
                return by_norm[_norm(name)]
        for fb in info.fallback if info else ():
            if (found := find(fb)) is not None:
                return found
        return None

    used = find(style)
    if used is None:
        return None, f"no {style} style yet and no fallback"
    if _norm(used) in {_norm(n) for n in (style, *lex.styles[style].match)}:
        return used, None
    return used, f"no {style} style yet: played as {used}"


def _words(brief: Brief, fieldname: str) -> str:
    return next((f.words for f in brief.findings if f.field == fieldname), "")


def prompt_values(
    brief: Brief, available: Collection[str]
) -> tuple[dict[str, tuple[str, str]], str | None, str | None]:
    """Spec field -> (value, words) the prompt gives; the style asked for and its note."""
    out: dict[str, tuple[str, str]] = {}
    if brief.key:
        out["key"] = (brief.key, _words(brief, "key"))
    if brief.bpm:
        out["tempo"] = (str(brief.bpm), _words(brief, "bpm"))
    if brief.form:
        out["form"] = (brief.form, _words(brief, "form"))
    note = None
    fallback_meter = None
    if brief.style:
        used, note = resolve_style(brief.style, available)
        if used is not None:
            out["style"] = (used, _words(brief, "style"))
            if note is not None:  # a fallback plays the asked style's meter ("jig" -> 6/8)
                fallback_meter = lexicon().styles[brief.style].meter
    if brief.meter:
        out["time_signature"] = (brief.meter, _words(brief, "meter"))
    elif brief.implied_meter:
        words = _words(brief, "meter") or _words(brief, "sub-style") or _words(brief, "style")
        out["time_signature"] = (brief.implied_meter, words)
    elif fallback_meter and fallback_meter != "4/4":
        out["time_signature"] = (fallback_meter, _words(brief, "style"))
    return out, brief.style, note


def read_prompt(spec: Any, styles: Collection[str]) -> tuple[Any, Reading | None]:
    """Fill key, tempo, meter, style and form from ``spec.prompt`` where the spec leaves them
    unset. A value the spec cannot take is dropped with a warning: a prompt is never fatal."""
    if not spec.prompt:
        return spec, None
    from grammar.brief.embed import with_guesses

    brief = with_guesses(interpret(spec.prompt))
    given, asked, note = prompt_values(brief, styles)
    data = spec.model_dump(exclude_unset=True)
    filled, overridden = {}, {}
    for name, (value, words) in given.items():
        if data.get(name) is None:
            data[name] = int(value) if name == "tempo" else value
            filled[name] = (value, words)
        elif str(data[name]) != value:
            overridden[name] = (value, words)
    warnings = list(brief.warnings)
    while True:
        try:
            new = type(spec).model_validate(data)
            break
        except ValidationError as exc:
            name = str(exc.errors()[0]["loc"][0])
            if name not in filled:
                raise
            warnings.append(f"ignored '{filled[name][1]}': {exc.errors()[0]['msg']}")
            data.pop(name)
            filled.pop(name)
    reading = Reading(
        brief=brief,
        style_asked=asked if "style" in filled else None,
        style_note=note if "style" in filled or asked else None,
        filled=filled,
        overridden=overridden,
        warnings=tuple(warnings),
    )
    return new, reading
