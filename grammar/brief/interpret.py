"""The prompt interpreter: free text -> a :class:`Brief` of what it asks for, and from which words.

    interpret("an upbeat bossa nova in A minor for a cafe")
    -> style bossa (from "bossa nova"), tempo position 0.75 ("upbeat"), key A minor ("A minor"),
       unused ["for a cafe"]

Recognisers, each a table or a pattern from the lexicon (:mod:`grammar.brief.lexicon`): keys in
five languages, numbers in context (:mod:`grammar.brief.numbers`), forms, and words (styles,
sub-styles, feels, tempo words, moods, energy shapes, instruments, modes). Their hits compete for
the text: keys, forms and times of day first, then the longest hit ("slap bass" over "bass",
"12-bar blues" over "12-bar"). The Brief is pure data: what exists and what is used is decided
later (:mod:`grammar.brief.apply`, ``planners.brief``), so this module knows no style table.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from grammar.brief.lexicon import Lexicon, lexicon
from grammar.brief.numbers import number_hits
from grammar.brief.phrases import find_forms, find_keys
from grammar.brief.text import Hit, choose, fold, leftover_phrases
from grammar.errors import GrammarError
from grammar.keys import parse_key


@dataclass(frozen=True)
class Finding:
    """One thing the prompt set: the field, its value, and the words it came from."""

    field: str
    value: str
    words: str


@dataclass(frozen=True)
class Brief:
    """What a prompt asks for; None / empty for what it does not say."""

    text: str
    key: str | None = None
    mode: str | None = None  # "major" | "minor", from a mood or "in a minor key"
    bpm: int | None = None
    tempo_position: float | None = None  # 0 = the style's slow tempo, 0.5 moderate, 1 fast
    meter: str | None = None  # written ("in 6/8")
    implied_meter: str | None = None  # from a dance or sub-style ("jig", "minuet", "jazz waltz")
    style: str | None = None  # a catalogue style id
    substyle: str | None = None
    feel: str | None = None
    mood: str | None = None
    colour: str | None = None
    instruments: tuple[str, ...] = ()
    drums: bool | None = None
    seconds: float | None = None
    bars: int | None = None
    energy: tuple[str, ...] = ()
    form: str | None = None
    findings: tuple[Finding, ...] = ()
    unused: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    # from the optional embedding fallback: (field, value, confidence, the text it read)
    guesses: tuple[tuple[str, str, float, str], ...] = field(default=())

    @property
    def musical(self) -> bool:
        """Whether the prompt said anything the interpreter understood."""
        return bool(self.findings or self.guesses)


def _key_hits(text: str, folded: str, lex: Lexicon) -> list[Hit]:
    hits = [Hit(s, e, "key", k, rank=0) for s, e, k in find_keys(text)]
    for words in lex.keys:
        for m in words.pattern.finditer(folded):
            letter = words.notes[m["note"]]
            acc = m.groupdict().get("acc")
            if acc:
                letter += "#" if acc in words.sharp else "b"
            mode = "minor" if m["mode"] in words.minor else "major"
            try:
                key = str(parse_key(f"{letter} {mode}"))
            except GrammarError:
                continue
            hits.append(Hit(m.start(), m.end(), "key", key, rank=0))
    return hits


def _term_hits(folded: str, lex: Lexicon) -> list[Hit]:
    hits = []
    for m in lex.terms.finditer(folded):
        kind, value = lex.meaning(m[0])
        hits.append(Hit(m.start(), m.end(), kind, value))
    for m in lex.negations.finditer(folded):
        hits.append(Hit(m.start(), m.end(), "negation", m[0]))
    return hits


def _negated(hit: Hit, hits: list[Hit], folded: str) -> bool:
    """Whether a negation word stands right before this hit ("no drums", "sans batterie"),
    with at most one other word between ("without any drums")."""
    for h in hits:
        if h.kind == "negation" and h.end <= hit.start:
            between = folded[h.end : hit.start]
            if len(between.split()) <= 1 and not re.search(r"[,.;:!?]", between):
                return True
    return False


@lru_cache(maxsize=256)
def interpret(text: str) -> Brief:
    """Read a prompt. Never raises on any text: what it cannot use is in ``unused`` and
    ``warnings``."""
    lex = lexicon()
    folded = fold(text)
    candidates = _key_hits(text, folded, lex)
    candidates += [Hit(s, e, "form", f, rank=0) for s, e, f in find_forms(text)]
    candidates += list(number_hits(folded, lex))
    candidates += _term_hits(folded, lex)
    hits = choose(candidates)
    return _assemble(text, folded, hits, lex)


def _assemble(text: str, folded: str, hits: list[Hit], lex: Lexicon) -> Brief:
    found: list[Finding] = []
    warnings: list[str] = []
    values: dict[str, object] = {}

    def first(kind: str) -> Hit | None:
        return next((h for h in hits if h.kind == kind), None)

    def note(fieldname: str, value: object, hit: Hit) -> None:
        found.append(Finding(fieldname, str(value), hit.words(text)))

    for kind, name in (("key", "key"), ("bpm", "bpm"), ("meter", "meter"), ("form", "form")):
        if (h := first(kind)) is not None:
            values[name] = h.value
            note(name, h.value, h)
    for h in hits:
        if h.kind == "warning":
            warnings.append(f"ignored '{h.words(text)}': {h.value}")
        elif h.kind == "time_of_day":
            warnings.append(f"'{h.words(text)}' read as a time of day, not a tempo")
    # length: bars or seconds, the first given
    length = next((h for h in hits if h.kind in ("seconds", "bars")), None)
    if length is not None:
        values[length.kind] = length.value
        shown = f"{length.value:g} s" if length.kind == "seconds" else f"{length.value} bars"
        note("length", shown, length)
    _styles(hits, lex, values, note)
    if (h := first("feel")) is not None:
        values["feel"] = h.value
        note("feel", h.value, h)
        if "style" not in values and str(h.value) in lex.feel_styles:
            values["style"] = lex.feel_styles[str(h.value)]
    if (h := first("tempo")) is not None:
        values["tempo_position"] = h.value
        note("tempo", _tempo_name(float(str(h.value))), h)
    if (h := first("mood")) is not None:
        mood = lex.moods[str(h.value)]
        values["mood"], values["colour"] = mood.id, mood.colour
        note("mood", mood.id, h)
        if mood.mode:
            values["mode"] = mood.mode
        if "tempo_position" not in values and mood.tempo is not None:
            values["tempo_position"] = mood.tempo
    if (h := first("mode")) is not None:  # "in a minor key" says more than a mood does
        values["mode"] = h.value
        note("mode", h.value, h)
    instruments: list[str] = []
    for h in hits:
        if h.kind != "instrument":
            continue
        if h.value == "drums":
            values["drums"] = not _negated(h, hits, folded)
            note("drums", "yes" if values["drums"] else "no", h)
        elif not _negated(h, hits, folded) and h.value not in instruments:
            instruments.append(str(h.value))
            note("instrument", h.value, h)
    energy = []
    for h in hits:
        if h.kind == "energy" and h.value not in energy:
            energy.append(str(h.value))
            note("energy", h.value, h)
    used = [h for h in hits if h.kind not in ("negation",)]
    used += [h for h in hits if h.kind == "negation" and _negates_something(h, hits, folded)]
    unused = leftover_phrases(text, used, lex.stopwords)
    return Brief(
        text=text,
        key=_opt(values, "key"),
        mode=_opt(values, "mode"),
        bpm=_opt_int(values, "bpm"),
        tempo_position=_opt_float(values, "tempo_position"),
        meter=_opt(values, "meter"),
        implied_meter=_opt(values, "implied_meter"),
        style=_opt(values, "style"),
        substyle=_opt(values, "substyle"),
        feel=_opt(values, "feel"),
        mood=_opt(values, "mood"),
        colour=_opt(values, "colour"),
        instruments=tuple(instruments),
        drums=values.get("drums") if isinstance(values.get("drums"), bool) else None,  # type: ignore[arg-type]
        seconds=_opt_float(values, "seconds"),
        bars=_opt_int(values, "bars"),
        energy=tuple(energy),
        form=_opt(values, "form"),
        findings=tuple(found),
        unused=tuple(unused),
        warnings=tuple(warnings),
    )


def _negates_something(neg: Hit, hits: list[Hit], folded: str) -> bool:
    return any(h.kind == "instrument" and neg in hits and _negated(h, [neg], folded) for h in hits)


def _styles(
    hits: list[Hit],
    lex: Lexicon,
    values: dict[str, object],
    note: Callable[[str, object, Hit], None],
) -> None:
    """The style: the strongest named (catalogue order), a weak one ("waltz", "ballad") only if
    nothing else is named; sub-styles name their style; a weak style or sub-style beside the
    chosen style still gives its meter and tempo ("jazz waltz", "rock ballad", "baroque minuet")."""
    named: list[tuple[str, Hit]] = []
    subs: list[tuple[str, Hit]] = []
    for h in hits:
        if h.kind == "style":
            named.append((str(h.value), h))
        elif h.kind == "substyle":
            subs.append((str(h.value), h))
            named.append((lex.substyles[str(h.value)].style, h))
    if not named:
        return
    order = list(lex.styles)
    strong = [(s, h) for s, h in named if not lex.styles[s].weak]
    pool = strong or named
    style, hit = min(pool, key=lambda sh: (order.index(sh[0]), sh[1].start))
    values["style"] = style
    note("style", style, hit)
    for sid, h in subs:
        sub = lex.substyles[sid]
        if sub.style == style or lex.styles[sub.style].weak or h is hit:
            values.setdefault("substyle", sid)
            if h is not hit:
                note("sub-style", sid, h)
            if sub.meter:
                values.setdefault("implied_meter", sub.meter)
            if sub.tempo is not None:
                values.setdefault("tempo_position", sub.tempo)
    for sid, h in named:
        info = lex.styles[sid]
        if sid != style and info.weak:  # "jazz waltz": a waltz's meter and tempo in jazz
            values.setdefault("implied_meter", info.meter if info.meter != "4/4" else None)
            if sid == "ballad":
                values.setdefault("tempo_position", 0.0)
            note("meter" if info.meter != "4/4" else "tempo", sid, h)
    if values.get("implied_meter") is None:
        values.pop("implied_meter", None)


def _tempo_name(position: float) -> str:
    names = (
        (-0.1, "very slow"),
        (0.1, "slow"),
        (0.4, "medium slow"),
        (0.6, "moderate"),
        (0.9, "upbeat"),
        (1.1, "fast"),
    )
    return next((n for limit, n in names if position < limit), "very fast")


def _opt(values: dict[str, object], name: str) -> str | None:
    v = values.get(name)
    return None if v is None else str(v)


def _opt_int(values: dict[str, object], name: str) -> int | None:
    v = values.get(name)
    return None if v is None else int(str(v))


def _opt_float(values: dict[str, object], name: str) -> float | None:
    v = values.get(name)
    return None if v is None else float(str(v))
