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
  when its place in the form asks for a different one (first and second endings); a return the
  melody plan develops by re-harmonising (:func:`planners.melody_plan.developments`, from the
  third statement on) substitutes chords of the same function in its inner bars (I -> vi,
  IV -> ii, ...; in the blues the quick change to IV in bar 2 and a ii-V turnaround);
- a section followed by another key leads there: by its closing tonic as a pivot chord, or, if
  it ends open, on the new key's dominant seventh (dominant preparation).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from grammar.chords import Chord, has_holes, parse_chord, parse_pins, parse_roman, roman_numeral
from grammar.errors import GrammarError, PlanError, SpecError, shorten
from grammar.keys import Key
from grammar.meter import TimeSignature
from grammar.spec import SongSpec
from planners import rule_harmony as rules
from planners.melody_plan import developments
from planners.plan import Cadence, ChordEvent, SectionPlan, SongPlan
from planners.progression import (
    ENDINGS,
    Slot,
    load_models,
    plan_progression,
    sample,
    state_of_chord,
    vocabulary,
)
from planners.seeding import rng_for
from planners.styles import Style, get_style

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
BLUES_DEGREES = (1, 1, 1, 1, 4, 4, 1, 1, 5, 4, 1, 5)  # the 12-bar changes, root scale degrees
SECONDARY_RATE = 0.25  # how often a sevenths style tonicises the next chord with its V7
# Chords a secondary dominant may tonicise. Not V: V7/V would replace the predominant of a
# cadence formula, and its raised fourth degree pulls the ear towards the dominant key.
SECONDARY_TARGETS = ("ii", "IV", "vi", "iv", "VI")
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


def _blues(bars: int, cadence: Cadence) -> list[list[str]]:
    degrees = list(BLUES_DEGREES) * (bars // 12)
    if cadence == "deceptive":
        degrees[-2:] = [5, 6]  # the dominant, then vi where the tonic was due
    elif cadence != "half":
        degrees[-1] = 1  # close on the tonic instead of the turnaround
    names = {1: "I7b", 4: "IV7b", 5: "V7", 6: "vi7"}
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


def numerals(
    bars: int,
    per_bar: int,
    cadence: Cadence,
    key: Key,
    style: Style,
    role: str,
    rng: np.random.Generator,
    previous: str | None = None,
) -> list[list[str]]:
    """Numerals per bar from the style's planner: the blues changes, the learned model (at its
    calibrated temperature, the first of up to HARMONY_CANDIDATES draws that states the key),
    or the rule planner; sevenths and secondary dominants for the styles that use them."""
    mode = key.mode
    if style.blues_form and bars % 12 == 0 and mode == "major":
        return _blues(bars, cadence)
    if style.harmony_model is not None:
        model = load_models()[style.harmony_model][mode]
        vocab = vocabulary(model, mode, style.vocabulary)
        out = plan_progression(bars, per_bar, cadence, key, role, model, vocab, rng, previous)
    else:
        out = rules.plan_numerals(bars, per_bar, cadence, mode, style, role, rng)
    if style.sevenths and not style.blues_form:
        out = _sevenths(out, rng)
    return out


def _requested_cadence(spec: SongSpec, sect: SectionPlan) -> Cadence | None:
    found = spec.setting((sect.name, sect.label), "cadence")
    return None if found is None else found[1]


def plan_harmony(spec: SongSpec, song: SongPlan) -> SongPlan:
    style = get_style(song.style)
    meter = song.meter()
    per_bar = harmonic_rhythm(style, meter, song.tempo)
    planned_numerals: dict[str, list[list[str]]] = {}
    filled: dict[tuple[str, str], SectionPlan] = {}  # (chords text, section id) -> its plan
    cadences: dict[str, Cadence] = {}
    planned: list[SectionPlan] = []
    devs = developments(song)
    for i, sect in enumerate(song.sections):
        key = sect.key_obj()
        rng = rng_for(song.seed, "harmony", sect.id)
        asked = _requested_cadence(spec, sect)
        given = spec.setting((sect.name, sect.label), "chords")
        if given is not None:
            earlier = filled.get((given[1], sect.source or ""))
            if (
                earlier is not None and earlier.key == sect.key and earlier.bars == sect.bars
            ):  # a repeat keeps the chords; a longer or shorter A' is checked like a new one
                planned.append(
                    sect.model_copy(
                        update={
                            "chords": earlier.chords,
                            "chords_given": True,
                            "cadence": earlier.cadence,
                        }
                    )
                )
                continue
            bars, cadence = _given_chords(given, sect, key, asked, style, rng)
            planned.append(
                sect.model_copy(
                    update={
                        "chords": events(bars, meter, key),
                        "chords_given": True,
                        "cadence": cadence,
                    }
                )
            )
            filled[(given[1], sect.id)] = planned[-1]
            continue
        cadence = asked or cadence_for(song.sections, i)
        cadences[sect.id] = cadence
        src = planned_numerals.get(sect.source or "")
        if src is not None and len(src) == sect.bars:
            same_end = cadences.get(sect.source or "") == cadence
            romans = _reuse(src, sect.bars, same_end, cadence, key, style, per_bar, rng)
            if devs[sect.id][1] == "reharmonise":
                romans = reharmonise(romans, key.mode, style)
        else:
            romans = numerals(sect.bars, per_bar, cadence, key, style, sect.role, rng)
        planned_numerals[sect.id] = romans
        chords = [[realize(n, key) for n in bar] for bar in romans]
        planned.append(
            sect.model_copy(
                update={
                    "chords": events(chords, meter, key),
                    "cadence": cadence,
                }
            )
        )
    for i in range(len(planned) - 1):
        if _requested_cadence(spec, planned[i]) is None:
            planned[i] = prepare_modulation(planned[i], planned[i + 1])
    return song.model_copy(update={"sections": tuple(planned)})


def prepare_modulation(sect: SectionPlan, nxt: SectionPlan) -> SectionPlan:
    """So a change of key is heard, not just written. A section that closes on its tonic already
    ends on a pivot chord (the tonic is diatonic in every closely related key), so it keeps its
    cadence; one that ends open, or on a chord foreign to the new key, ends instead on the new
    key's dominant seventh (dominant preparation: V7/IV, V7/vi ... in its own key). The plan
    records where the section leads. Given chords are left as written."""
    if sect.chords_given or nxt.key == sect.key:
        return sect
    key, new = sect.key_obj(), nxt.key_obj()
    final = sect.chords[-1].chord()
    pivot = sect.cadence in ("authentic", "plagal") and final.pitch_classes <= set(new.scale)
    if pivot:
        return sect.model_copy(update={"modulates_to": nxt.key})
    dominant = parse_chord(new.spell((new.tonic + 7) % 12) + "7")
    last = sect.chords[-1].model_copy(
        update={"symbol": dominant.symbol, "roman": roman_numeral(dominant, key)}
    )
    return sect.model_copy(
        update={"chords": (*sect.chords[:-1], last), "cadence": "half", "modulates_to": nxt.key}
    )


def _given_chords(
    given: tuple[str, str],
    sect: SectionPlan,
    key: Key,
    asked: Cadence | None,
    style: Style,
    rng: np.random.Generator,
) -> tuple[list[list[Chord]], Cadence]:
    """Explicit chords, checked against the section; '?' holes filled by the learned model
    under the requested cadence (a pinned chord that contradicts it is a PlanError)."""
    field, text = given
    try:
        pins = parse_pins(text, key)
    except GrammarError as exc:
        raise SpecError(field, str(exc)) from None
    if len(pins) != sect.bars:
        name = sect.id if sect.name == sect.label else f"{sect.name} ({sect.id})"
        hint = (
            f"; give {sect.name} its own chords or {len(pins)} bars"
            if not field.startswith(f"sections.{sect.name}.")
            else ""
        )
        raise SpecError(
            field, f"{len(pins)} bars of chords, but section {name} has {sect.bars} bars{hint}"
        )
    if has_holes(text):
        pins = _fill_holes(pins, key, asked, style, rng, field)
    bars = [[c for c in bar if c is not None] for bar in pins]
    found = detect_cadence([c for b in bars for c in b], key)
    if asked is not None and found != asked:
        flat = [c.symbol for b in bars for c in b]
        ending = " ".join(flat[-2:])
        what = "no cadence" if found == "none" else f"{_an(found)} {found} cadence"
        raise PlanError(
            field.replace(".chords", ".cadence"),
            f"asks for {_an(asked)} {asked} cadence, but the given chords end "
            f"'{shorten(ending)}', {what}",
        )
    return bars, found


def _fill_holes(
    pins: list[list[Chord | None]],
    key: Key,
    asked: Cadence | None,
    style: Style,
    rng: np.random.Generator,
    field: str,
) -> list[list[Chord | None]]:
    model = load_models()[style.harmony_model or "chorale"][key.mode]
    vocab = vocabulary(model, key.mode, style.vocabulary)
    slots: list[Slot] = []
    flat: list[Chord | None] = []
    for b, bar in enumerate(pins, start=1):
        for j, chord in enumerate(bar):
            pos = 0 if j == 0 else 1
            flat.append(chord)
            if chord is None:
                slots.append(Slot(pos))
            else:
                slots.append(
                    Slot(
                        pos,
                        frozenset({state_of_chord(chord, key)}),
                        f"the pinned chord {chord.symbol} in bar {b}",
                    )
                )
    if asked is not None:
        ending = ENDINGS[key.mode][asked]
        for k, allowed in enumerate(ending):
            j = len(slots) - len(ending) + k
            if flat[j] is not None and not (slots[j].allowed or frozenset()) & allowed:
                raise PlanError(
                    field.replace(".chords", ".cadence"),
                    f"{_an(asked)} {asked} cadence needs {' or '.join(sorted(allowed))} there, but "
                    f"{slots[j].why} is not",
                )
            if flat[j] is None:
                slots[j] = Slot(slots[j].pos, allowed, f"the {asked} cadence")
    states = iter(sample(model, slots, vocab, rng, field=field))  # one per slot, pins included
    return [
        [realize(next(states), key) if c is None else _skip(states, c) for c in bar] for bar in pins
    ]


def _an(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _skip(states: Iterator[str], chord: Chord) -> Chord:
    """A pinned slot: step past its (pinned) state and keep the user's chord as written."""
    next(states)
    return chord


# Substitutes of the same function (tonic, predominant), for re-harmonised returns.
SUBSTITUTES = {
    "I": "vi",
    "vi": "IV",
    "IV": "ii",
    "ii": "IV",
    "iii": "I",
    "Imaj7": "vi7",
    "vi7": "IVmaj7",
    "IVmaj7": "ii7",
    "ii7": "IVmaj7",
    "iii7": "Imaj7",
    "i": "VI",
    "VI": "iv",
    "iv": "iio",
    "iio": "iv",
    "III": "i",
    "i7": "VImaj7",
    "VImaj7": "iv7",
    "iv7": "iiø7",
    "iiø7": "iv7",
}


def reharmonise(romans: list[list[str]], mode: str, style: Style) -> list[list[str]]:
    """A return's progression with new chords of the same function: each inner bar's first
    tonic or predominant chord substituted (never the first bar, never the last TAIL_BARS,
    where the cadence lies); the blues takes the quick change (IV7 in bar 2) and a ii-V
    turnaround (bars 9-10)."""
    out = [list(b) for b in romans]
    if style.blues_form and len(out) % 12 == 0 and mode == "major":
        for c in range(0, len(out), 12):
            out[c + 1] = ["IV7b"]
            out[c + 8], out[c + 9] = ["ii7"], ["V7"]
        return out
    for b in range(1, len(out) - TAIL_BARS):
        if out[b] and out[b][0] in SUBSTITUTES:
            out[b][0] = SUBSTITUTES[out[b][0]]
    return out


def _reuse(
    src: list[list[str]],
    bars: int,
    same_end: bool,
    cadence: Cadence,
    key: Key,
    style: Style,
    per_bar: int,
    rng: np.random.Generator,
) -> list[list[str]]:
    """The source's numerals; if this occurrence ends differently, a new ending of TAIL_BARS
    bars (room for the whole predominant-dominant-tonic formula), or all new bars if the
    section is no longer than that."""
    if same_end:
        return [list(b) for b in src]
    if style.blues_form and bars % 12 == 0 and key.mode == "major":
        return _blues(bars, cadence)
    n = min(TAIL_BARS, bars)
    keep = [list(b) for b in src[: bars - n]]
    previous = keep[-1][-1] if keep else None
    return keep + numerals(n, per_bar, cadence, key, style, "theme", rng, previous)
