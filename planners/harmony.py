"""The harmony pass: a chord progression for every section.

Sections with chords in the spec keep them exactly (parsed by our own chord grammar; they must fill
the bars). The rest are planned by rule:

- a cadence chosen from the section's place in the form (:func:`cadence_for`): a section before a
  return or before its own repeat ends open (half cadence), the last one closes (authentic, or
  plagal for an outro), a chorus before another chorus ends deceptively, others close;
- phrase structure: 8-bar and longer sections are 4-bar phrases; inner phrases end on V or on
  V-I, opposite to the section's own cadence, and each even phrase opens like the odd one before
  it (a parallel period: antecedent, consequent);
- between those anchors, a functional-harmony Markov chain (tonic -> predominant -> dominant ->
  tonic) sampled so the next anchor stays reachable: every path is valid by construction, no
  rejection sampling;
- the style's vocabulary: sevenths and secondary dominants for jazz and blues, the 12-bar blues
  changes for blues, a four-chord loop for pop;
- a repeat or variation of a section copies its source's progression, re-writing only the cadence
  when its place in the form asks for a different one (first and second endings).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from grammar.chords import Chord, parse_chord, parse_progression, parse_roman, roman_numeral
from grammar.errors import GrammarError, SpecError
from grammar.keys import Key
from grammar.meter import TimeSignature
from grammar.spec import SongSpec
from planners.plan import Cadence, ChordEvent, SectionPlan, SongPlan
from planners.seeding import rng_for
from planners.styles import Style, get_style

# Functional transition weights (rules of thumb from common-practice and popular harmony).
# No self-loops: a chord change is a change.
NEXT: dict[str, dict[str, dict[str, float]]] = {
    "major": {
        "I": {"IV": 3, "V": 3, "vi": 2.5, "ii": 2, "iii": 0.5},
        "ii": {"V": 5, "viio": 0.4, "IV": 0.6},
        "iii": {"vi": 3, "IV": 2, "ii": 1},
        "IV": {"V": 3, "I": 2, "ii": 1.5, "vi": 0.5},
        "V": {"I": 5, "vi": 1.5, "IV": 0.4},
        "vi": {"ii": 3, "IV": 3, "V": 1, "iii": 0.5},
        "viio": {"I": 4, "iii": 0.3},
    },
    "minor": {
        "i": {"iv": 3, "V": 3, "VI": 2.5, "iio": 1.5, "III": 1, "VII": 1},
        "iio": {"V": 5},
        "III": {"VI": 3, "iv": 2, "VII": 1},
        "iv": {"V": 3, "i": 2, "iio": 1.5, "VII": 1},
        "V": {"i": 5, "VI": 1.5},
        "VI": {"iio": 2, "iv": 3, "V": 1.5, "III": 0.5},
        "VII": {"III": 3, "i": 1},
    },
}
TONIC = {"major": "I", "minor": "i"}
# Cadence formulas, predominant first (T-PD-D-T): "PD" is drawn from PREDOMINANTS per phrase.
CADENCES: dict[str, dict[str, tuple[str, ...]]] = {
    "major": {
        "authentic": ("PD", "V7", "I"),
        "half": ("PD", "V"),
        "plagal": ("IV", "I"),
        "deceptive": ("PD", "V7", "vi"),
    },
    "minor": {
        "authentic": ("PD", "V7", "i"),
        "half": ("PD", "V"),
        "plagal": ("iv", "i"),
        "deceptive": ("PD", "V7", "VI"),
    },
}
PREDOMINANTS = {"major": ("IV", "ii"), "minor": ("iv", "iio")}
SEVENTHS = {
    "I": "Imaj7",
    "ii": "ii7",
    "iii": "iii7",
    "IV": "IVmaj7",
    "V": "V7",
    "vi": "vi7",
    "viio": "viiø7",
    "i": "i7",
    "iio": "iiø7",
    "III": "IIImaj7",
    "iv": "iv7",
    "VI": "VImaj7",
}
LOOPS = {"major": ("I", "V", "vi", "IV"), "minor": ("i", "VI", "III", "VII")}
BLUES_DEGREES = (1, 1, 1, 1, 4, 4, 1, 1, 5, 4, 1, 5)  # the 12-bar changes, root scale degrees
SECONDARY_RATE = 0.25  # how often a sevenths style tonicises the next chord with its V7
# Chords a secondary dominant may tonicise. Not V: V7/V would replace the predominant of a
# cadence formula, and its raised fourth degree pulls the ear towards the dominant key.
SECONDARY_TARGETS = ("ii", "IV", "vi", "iv", "VI")
LOOP_RATE = 0.5  # how often a pop section rides the loop rather than the Markov chain
CLOSING_ROLES = ("outro", "coda", "tag")
TAIL_BARS = 3  # bars a repeat re-plans when it must end differently from its source


def cadence_for(sections: Sequence[SectionPlan], i: int) -> Cadence:
    """The cadence a section should end on, from its place in the form."""
    sect = sections[i]
    if i == len(sections) - 1:
        return "plagal" if sect.role in CLOSING_ROLES else "authentic"
    if sect.role == "intro":
        return "half"
    nxt = sections[i + 1]
    if nxt.label == sect.label:
        return "deceptive" if sect.role in ("chorus", "refrain") else "half"
    seen = {s.label for s in sections[: i + 1]}
    if nxt.label in seen:
        return "half"  # before a return: leave it open
    return "authentic"


def detect_cadence(chords: Sequence[Chord], key: Key) -> Cadence:
    """The cadence a written progression ends on, judged by the roots of its last two chords."""
    if not chords:
        return "none"
    deg = {"I": 0, "IV": 5, "V": 7, "vi": 9 if key.mode == "major" else 8}
    last = (chords[-1].root - key.tonic) % 12
    prev = (chords[-2].root - key.tonic) % 12 if len(chords) > 1 else None
    if last == deg["V"]:
        return "half"
    if last == deg["I"] and prev == deg["V"]:
        return "authentic"
    if last == deg["I"] and prev == deg["IV"]:
        return "plagal"
    if last == deg["vi"] and prev == deg["V"]:
        return "deceptive"
    return "none"


def harmonic_rhythm(style: Style, meter: TimeSignature, tempo: int) -> int:
    """Chords per bar: the style's, where the bar splits evenly in two and the tempo allows."""
    if style.chords_per_bar > 1 and meter.beats_per_bar % 2 == 0 and tempo <= 132:
        return 2
    return 1


def _reachable(mode: str, target: str, steps: int) -> list[set[str]]:
    """reach[j] = numerals from which ``target`` is reached in exactly j transitions."""
    nxt = NEXT[mode]
    target = _base(target)
    reach = [{target}]
    for _ in range(steps):
        reach.append({a for a, outs in nxt.items() if outs.keys() & reach[-1]})
    return reach


def _base(numeral: str) -> str:
    """The Markov state of a numeral: V7 moves like V."""
    return "V" if numeral == "V7" else numeral


def fill(mode: str, start: str, target: str, slots: int, rng: np.random.Generator) -> list[str]:
    """``slots`` numerals that begin at ``start`` and lead into ``target`` (not included)."""
    if slots <= 0:
        return []
    start, target = _base(start), _base(target)
    reach = _reachable(mode, target, slots)
    if start not in reach[slots]:
        # The anchor cannot be reached from this start in this many steps (rare: very short
        # spans); start instead on the chord that best leads into the target.
        start = max(
            (c for c in NEXT[mode] if c in reach[slots]),
            key=lambda c: NEXT[mode][c].get(target, 0.0),
        )
    out = [start]
    for remaining in range(slots - 1, 0, -1):
        options = {c: w for c, w in NEXT[mode][out[-1]].items() if c in reach[remaining]}
        names = sorted(options)
        weights = np.array([options[n] for n in names], dtype=float)
        out.append(names[int(rng.choice(len(names), p=weights / weights.sum()))])
    return out


def plan_numerals(
    bars: int,
    per_bar: int,
    cadence: Cadence,
    mode: str,
    style: Style,
    role: str,
    rng: np.random.Generator,
) -> list[list[str]]:
    """Roman numerals, one list per bar, for a planned section."""
    TONIC[mode]
    end = CADENCES[mode].get(cadence, CADENCES[mode]["authentic"])
    if style.blues_form and bars % 12 == 0 and mode == "major":
        return _blues(bars, cadence)
    phrase = 4 if bars >= 8 and bars % 4 == 0 else bars
    use_loop = bool(style.loop) and bars >= 4 and rng.random() < LOOP_RATE
    out: list[list[str]] = []
    for p_start in range(0, bars, phrase):
        p_bars = min(phrase, bars - p_start)
        last = p_start + p_bars >= bars
        p_end = end if last else _inner_end(p_start // phrase, cadence, mode)
        p_index = p_start // phrase
        if p_index % 2 == 1 and p_bars >= 4 and out:
            head = [list(b) for b in out[p_start - phrase : p_start - phrase + 2]]
        else:
            head = []
        out.extend(_phrase(p_bars, per_bar, p_end, mode, head, use_loop, role, rng))
    return out


def _inner_end(index: int, cadence: Cadence, mode: str) -> tuple[str, ...]:
    """How an inner phrase ends: opposite to the section's own ending, so a section that ends
    open (half cadence) states the tonic first, and one that closes asks a question first
    (antecedent on V, consequent on I), alternating in longer sections."""
    opens = cadence == "half"
    on_dominant = (index % 2 == 0) != opens
    return CADENCES[mode]["half" if on_dominant else "authentic"]


def _phrase(
    bars: int,
    per_bar: int,
    end: tuple[str, ...],
    mode: str,
    head: list[list[str]],
    use_loop: bool,
    role: str,
    rng: np.random.Generator,
) -> list[list[str]]:
    """One phrase: optional copied head bars, a filled middle, the ending formula."""
    tonic = TONIC[mode]
    pd = PREDOMINANTS[mode][int(rng.integers(len(PREDOMINANTS[mode])))]
    end = tuple(pd if c == "PD" else c for c in end)
    slots = (bars - 1) * per_bar + 1  # the last bar holds one chord: the phrase's arrival
    flat: list[str] = [c for b in head for c in b]
    flat = flat[: max(0, slots - len(end) - 1)]  # a copied head never crowds out the formula
    body = slots - len(flat) - len(end)
    if body < 0:  # a phrase too short for its formula: keep the formula's tail
        return _to_bars(list(end)[-slots:], bars, per_bar)
    loop = LOOPS[mode]
    looped = [loop[(len(flat) + i) % len(loop)] for i in range(body)]
    if use_loop and body and _base(end[0]) in NEXT[mode].get(_base(looped[-1]), {}):
        flat += looped  # the loop, only where it leads into the cadence formula
    else:
        if flat:
            start_opts = list(NEXT[mode][_base(flat[-1])])
            start = start_opts[int(rng.integers(len(start_opts)))]
        else:
            start = tonic if role not in ("bridge", "episode") else _contrast_start(mode, rng)
        flat += fill(mode, start, end[0], body, rng)
    flat += list(end)
    return _to_bars(flat, bars, per_bar)


def _contrast_start(mode: str, rng: np.random.Generator) -> str:
    """A bridge opens away from the tonic: on the subdominant or the submediant."""
    opts = ("IV", "vi") if mode == "major" else ("iv", "VI")
    return opts[int(rng.integers(len(opts)))]


def _to_bars(flat: list[str], bars: int, per_bar: int) -> list[list[str]]:
    out = [flat[i * per_bar : (i + 1) * per_bar] for i in range(bars - 1)]
    out.append(flat[(bars - 1) * per_bar :])
    return out


def _blues(bars: int, cadence: Cadence) -> list[list[str]]:
    degrees = list(BLUES_DEGREES) * (bars // 12)
    if cadence != "half":
        degrees[-1] = 1  # close on the tonic instead of the turnaround
    names = {1: "I7b", 4: "IV7b", 5: "V7"}
    return [[names[d]] for d in degrees]


def _sevenths(bars: list[list[str]], rng: np.random.Generator) -> list[list[str]]:
    """Seventh chords, and a secondary dominant in place of some chords before ii, IV or vi
    (never in place of the tonic or the dominant, never at a phrase's first or last chords)."""
    flat = [c for b in bars for c in b]
    out = []
    for i, c in enumerate(flat):
        nxt = flat[i + 1] if i + 1 < len(flat) else None
        anchor = i == 0 or i >= len(flat) - 2
        if (
            not anchor
            and nxt in SECONDARY_TARGETS
            and c not in ("I", "i", "V")
            and rng.random() < SECONDARY_RATE
        ):
            out.append(f"V7/{nxt}")
        else:
            out.append(SEVENTHS.get(c, c))
    sizes = [len(b) for b in bars]
    result, k = [], 0
    for n in sizes:
        result.append(out[k : k + n])
        k += n
    return result


def realize(numeral: str, key: Key) -> Chord:
    """A numeral as a chord in ``key``. 'I7b'/'IV7b' are the blues' dominant sevenths on I/IV."""
    if numeral.endswith("7b"):
        degree = {"I": 0, "IV": 5}[numeral[:-2]]
        return parse_chord(key.spell((key.tonic + degree) % 12) + "7")
    return parse_roman(numeral, key)


def events(bars: list[list[Chord]], meter: TimeSignature, key: Key) -> tuple[ChordEvent, ...]:
    """Chord events: each bar split evenly among its chords; repeated chords within a bar merge."""
    out: list[ChordEvent] = []
    for b, chords in enumerate(bars):
        n = len(chords)
        for j, chord in enumerate(chords):
            start = b * meter.bar_ticks + j * meter.bar_ticks // n
            end = b * meter.bar_ticks + (j + 1) * meter.bar_ticks // n
            if j and chord.symbol == chords[j - 1].symbol:
                prev = out.pop()
                out.append(prev.model_copy(update={"duration_ticks": end - prev.start_tick}))
                continue
            offset = start - b * meter.bar_ticks
            out.append(
                ChordEvent(
                    bar=b + 1,
                    beat=round(1 + offset / meter.beat_ticks, 3),
                    start_tick=start,
                    duration_ticks=end - start,
                    symbol=chord.symbol,
                    roman=chord.roman or roman_numeral(chord, key),
                )
            )
    return tuple(out)


def _given(spec: SongSpec, sect: SectionPlan) -> tuple[str, str] | None:
    for name in (sect.name, sect.label):
        s = spec.sections.get(name)
        if s is not None and s.chords:
            return f"sections.{name}.chords", s.chords
    return None


def plan_harmony(spec: SongSpec, song: SongPlan) -> SongPlan:
    style = get_style(song.style)
    meter = song.meter()
    per_bar = harmonic_rhythm(style, meter, song.tempo)
    numerals: dict[str, list[list[str]]] = {}
    cadences: dict[str, Cadence] = {}
    planned: list[SectionPlan] = []
    for i, sect in enumerate(song.sections):
        key = sect.key_obj()
        given = _given(spec, sect)
        if given is not None:
            field, text = given
            try:
                bars = parse_progression(text, key)
            except GrammarError as exc:
                raise SpecError(field, str(exc)) from None
            if len(bars) != sect.bars:
                raise SpecError(
                    field, f"{len(bars)} bars of chords, but section {sect.id} has {sect.bars} bars"
                )
            flat = [c for b in bars for c in b]
            planned.append(
                sect.model_copy(
                    update={
                        "chords": events(bars, meter, key),
                        "chords_given": True,
                        "cadence": detect_cadence(flat, key),
                    }
                )
            )
            continue
        cadence = cadence_for(song.sections, i)
        cadences[sect.id] = cadence
        rng = rng_for(song.seed, "harmony", sect.id)
        src = numerals.get(sect.source or "")
        if src is not None and len(src) == sect.bars:
            same_end = cadences.get(sect.source or "") == cadence
            romans = _reuse(src, sect.bars, same_end, cadence, key.mode, style, per_bar, rng)
        else:
            romans = plan_numerals(sect.bars, per_bar, cadence, key.mode, style, sect.role, rng)
            if style.sevenths and not style.blues_form:
                romans = _sevenths(romans, rng)
        numerals[sect.id] = romans
        chords = [[realize(n, key) for n in bar] for bar in romans]
        planned.append(
            sect.model_copy(
                update={
                    "chords": events(chords, meter, key),
                    "cadence": cadence,
                }
            )
        )
    return song.model_copy(update={"sections": tuple(planned)})


def _reuse(
    src: list[list[str]],
    bars: int,
    same_end: bool,
    cadence: Cadence,
    mode: str,
    style: Style,
    per_bar: int,
    rng: np.random.Generator,
) -> list[list[str]]:
    """The source's numerals; if this occurrence ends differently, a new ending of TAIL_BARS
    bars (room for the whole predominant-dominant-tonic formula), or all new bars if the
    section is no longer than that."""
    if same_end:
        return [list(b) for b in src]
    if style.blues_form and bars % 12 == 0 and mode == "major":
        return _blues(bars, cadence)
    n = min(TAIL_BARS, bars)
    tail = plan_numerals(n, per_bar, cadence, mode, style, "theme", rng)
    if style.sevenths and not style.blues_form:
        tail = [[SEVENTHS.get(c, c) for c in b] for b in tail]
    return [list(b) for b in src[: bars - n]] + tail
