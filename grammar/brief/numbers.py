"""Numbers of a prompt, read only in context: a tempo ("120 bpm", "tempo 96", "q = 72", "at
132"), a meter ("in 6/8", "5/8 time"), a length ("5 minutes", "90 seconds", "32 bars") and a
time of day ("at 8 pm", "um 20 Uhr"), which is recognised so that it is *not* read as a tempo.

A number out of range gives a warning hit (kind ``warning``) and sets nothing: a prompt is never
a fatal error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from grammar.brief.lexicon import Lexicon
from grammar.brief.text import Hit
from grammar.errors import GrammarError
from grammar.meter import parse_time_signature

TEMPO_RANGE = (20, 300)  # as the spec's tempo field
AT_TEMPO_RANGE = (40, 260)  # "at 132" is a tempo only if it is a plausible one
SECONDS_RANGE = (10, 2400)  # 10 seconds to 40 minutes
BARS_RANGE = (1, 1024)  # as planners.form.MAX_TOTAL_BARS


def _alt(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in words) or r"(?!x)x"


def _num(lex: Lexicon) -> str:
    words = sorted(lex.numbers, key=len, reverse=True)
    return rf"(?P<n>\d+(?:[.,]\d+)?|{_alt(tuple(words))})"


def _value(lex: Lexicon, text: str) -> float:
    return float(lex.numbers[text]) if text in lex.numbers else float(text.replace(",", "."))


def number_hits(folded: str, lex: Lexicon) -> Iterator[Hit]:
    """Every tempo, meter, length and time-of-day phrase of the (folded) prompt."""
    u = lex.units
    n = _num(lex)
    end = r"(?![\w])"
    # a time of day first: rank 0, so "at 8 pm" is never a tempo
    tod = re.compile(
        rf"(?<![\w])(?:(?:{_alt(u['at'])})\s+)?\d{{1,2}}(?:[:.h]\d{{2}})?\s*(?:{_alt(u['time_of_day'])})"
        rf"(?![\w])|(?<![\w])(?:{_alt(u['at'])})\s+\d{{1,2}}:\d{{2}}(?![\w])"
    )
    for m in tod.finditer(folded):
        yield Hit(m.start(), m.end(), "time_of_day", m[0], rank=0)
    yield from _tempo_hits(folded, lex, n, end)
    yield from _meter_hits(folded, lex)
    yield from _length_hits(folded, lex, n, end)


def _tempo_hits(folded: str, lex: Lexicon, n: str, end: str) -> Iterator[Hit]:
    u = lex.units
    patterns = (
        rf"(?<![\w.,]){n}\s*-?\s*(?:{_alt(u['bpm'])}){end}",
        rf"(?<![\w])(?:{_alt(u['bpm'])})\s*[:=]?\s*(?P<n>\d+){end}",
        rf"(?<![\w])(?:{_alt(u['tempo'])})\s*[:=]?\s*(?P<n>\d+){end}(?!\s*(?:/|%))",
        rf"(?:♩|(?<![\w])(?:{_alt(u['quarter'])}))\s*=\s*(?P<n>\d+){end}",
    )
    for pattern in patterns:
        for m in re.finditer(pattern, folded):
            yield _tempo(m, lex)
    unit_words = _alt(u["minutes"] + u["seconds"] + u["bars"] + u["time_of_day"])
    at = re.compile(
        rf"(?<![\w])(?:{_alt(u['at'])})\s+(?P<n>\d+){end}(?!\s*(?:[/%:.]\d|(?:{unit_words}){end}))"
    )
    for m in at.finditer(folded):
        if AT_TEMPO_RANGE[0] <= int(m["n"]) <= AT_TEMPO_RANGE[1]:
            yield _tempo(m, lex)


def _tempo(m: re.Match[str], lex: Lexicon) -> Hit:
    bpm = _value(lex, m["n"])
    if bpm != int(bpm) or not TEMPO_RANGE[0] <= bpm <= TEMPO_RANGE[1]:
        return Hit(
            m.start(), m.end(), "warning", f"tempo must be {TEMPO_RANGE[0]}-{TEMPO_RANGE[1]} bpm"
        )
    return Hit(m.start(), m.end(), "bpm", int(bpm))


def _meter_hits(folded: str, lex: Lexicon) -> Iterator[Hit]:
    u = lex.units
    near = rf"(?:{_alt(u['meter'])})"
    for m in re.finditer(r"(?<![\d/.,:-])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/]|[.,:]\d)", folded):
        after = folded[m.end() :]
        if re.match(rf"\s*(?:{_alt(u['not_meter'])})(?![\w])", after):
            continue  # "1/2 of my heart", "3/4 de la chanson"
        meter = f"{m[1]}/{m[2]}"
        worded = bool(
            re.search(rf"(?<![\w]){near}[\s-]*$", folded[: m.start()])
            or re.match(rf"[\s-]*{near}(?![\w])", after)
        )
        if meter not in lex.common_meters and not worded:
            continue
        try:
            yield Hit(m.start(), m.end(), "meter", str(parse_time_signature(meter)))
        except GrammarError:
            yield Hit(m.start(), m.end(), "warning", f"{meter} is not a time signature")


def _length_hits(folded: str, lex: Lexicon, n: str, end: str) -> Iterator[Hit]:
    u = lex.units
    for unit, scale in (("minutes", 60.0), ("seconds", 1.0)):
        for m in re.finditer(rf"(?<![\w.,/]){n}\s*-?\s*(?:{_alt(u[unit])}){end}", folded):
            seconds = _value(lex, m["n"]) * scale
            if SECONDS_RANGE[0] <= seconds <= SECONDS_RANGE[1]:
                yield Hit(m.start(), m.end(), "seconds", seconds)
            else:
                yield Hit(m.start(), m.end(), "warning", "a length must be 10 s to 40 minutes")
    clock = rf"(?<![\w:])(?P<m>\d{{1,2}}):(?P<s>[0-5]\d)\s*(?:{_alt(u['minutes'])}|long){end}"
    for m in re.finditer(clock, folded):
        yield Hit(m.start(), m.end(), "seconds", 60.0 * int(m["m"]) + int(m["s"]))
    bars = rf"(?<![\w.,/]){n}\s*-?\s*(?:{_alt(u['bars'])}){end}"
    for m in re.finditer(bars, folded):
        value = _value(lex, m["n"])
        if value == int(value) and BARS_RANGE[0] <= value <= BARS_RANGE[1]:
            yield Hit(m.start(), m.end(), "bars", int(value))
        else:
            yield Hit(m.start(), m.end(), "warning", "a length must be 1-1024 bars")
