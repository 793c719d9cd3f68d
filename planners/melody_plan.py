"""The melody plan: what each section's tune should do, decided before any note is written.

A pass ``plan -> plan`` after harmony. For every section it fills ``SectionPlan.melody``
(:class:`planners.plan.MelodyPlan`), and for the song ``SongPlan.hook``:

- phrases: 4-bar phrases where the section divides so, 3+3 for six bars, 2+2 for a four-bar
  body section; each phrase ends with a breath, a half close, or (the section's last) a full
  close, the strongest; generators end ``half`` and ``full`` phrases on a long note or a rest
  and some ``breath`` ones too (the corpora breathe at 49-66% of 4-bar phrases, not at all);
- register: a tessitura window per section inside the song's melody range, the chorus above the
  verse, a bridge set apart from the theme, the whole song rising to a climax about three
  quarters through (the last chorus, or the last theme statement), developed returns lifted;
- density: the style's notes per felt beat, scaled by tempo (slow songs fill the beat, fast
  ones thin it) and by the section's energy from its role and place (the arrangement pass
  computes its own energies in ``composer``; the planner may not import it, so this is the
  planner's own reading of the same roles);
- rhythm and pitch idiom: the style file's ``idiom`` (:class:`RhythmVocabulary`);
- the hook: a one-bar (two in short meters) rhythm and contour drawn from the idiom's note
  values, seeded; the chorus states it (the theme when there is no chorus), its repeats repeat
  it, variations (the form graph's ``varies`` edges, ``relation == 'varies'``) vary its rhythm,
  a bridge sequences it, verses, intros and outros fragment it;
- development: each section's ``occurrence`` among its label's statements, and from the third
  statement on a ``development`` (embellish, lift, rhythm, reharmonise; a seeded rotation per
  label) so that long forms develop rather than loop. The harmony pass reads the same plan
  (:func:`developments`) to re-harmonise where it says so.
"""

from __future__ import annotations

import math

import numpy as np

from planners.plan import (
    Development,
    Hook,
    HookUse,
    MelodyPlan,
    PhraseEnd,
    PhrasePlan,
    RhythmVocabulary,
    SectionPlan,
    SongPlan,
)
from planners.seeding import rng_for
from planners.styles import Style, get_style

CHORUS_ROLES = ("chorus", "refrain")
CONTRAST_ROLES = ("bridge", "episode", "contrast")
QUIET_ROLES = ("intro", "outro", "coda", "tag", "break")
# Tessitura: semitones above or below the middle of the song's range, by role. A chorus sits a
# third or so above the verse (what the listening review missed most); a bridge moves
# away from the theme, upwards (the classic AABA bridge climbs); intros and outros lie low.
ROLE_OFFSET = {
    "verse": -2.5,
    "theme": -1.0,
    "prechorus": 0.5,
    "chorus": 2.0,
    "refrain": 2.0,
    "bridge": 1.5,
    "episode": 1.0,
    "contrast": 0.5,
    "intro": -3.0,
    "outro": -3.0,
    "coda": -2.0,
    "tag": -1.0,
}
ARC = 2.0  # semitones the song's register rises to its climax
CLIMAX_AT = 0.75  # where in the song (0..1) the arc peaks
LIFT = 2  # semitones a 'lift' development raises a return
WINDOW = 12  # semitones of a section's tessitura window (an octave)
ENERGY = {"intro": 0.7, "outro": 0.7, "coda": 0.7, "tag": 0.8, "break": 0.6, "bridge": 0.9}
ENERGY.update({"chorus": 1.1, "refrain": 1.1, "prechorus": 1.0, "verse": 1.0, "theme": 1.0})
DEVELOPMENTS: tuple[Development, ...] = ("embellish", "lift", "rhythm", "reharmonise")
# Share of the song's inner phrase endings that end long or on a rest (else they run on; chosen
# over the whole song, so it holds for every song, not only on average). The corpora end
# 49-66% of 4-bar phrases so; a section's last phrase always does, so a song of 8-bar
# sections breathes at ~75% of its phrase ends and one of 12-bar sections at ~67%.
INNER_LONG = 0.5


def vocabulary(style: Style, swing: float | None = None) -> RhythmVocabulary:
    """The style file's idiom as the plan carries it to generators."""
    idiom = style.idiom
    return RhythmVocabulary(
        durations=idiom.ticks(),
        max_sixteenths=idiom.max_sixteenths,
        max_dotted=idiom.max_dotted_eighths,
        syncopation=idiom.syncopation,
        swing=swing if swing is not None else style.feel.swing,
        pickup=idiom.pickups,
        blue_notes=tuple(idiom.blue_notes),
        blue_bias=idiom.blue_bias if idiom.blue_notes else 0.0,
        approach_tones=idiom.approach_tones,
        ornaments=tuple(idiom.ornaments),
        colours=tuple(idiom.modal_colours),
    )


def phrase_lengths(bars: int, role: str) -> list[int]:
    """4-bar phrases where they fit; 3+3 for six bars, 2+2 for a four-bar body section, a
    spare bar joined to the last phrase (a 5-bar phrase), a spare 2 or 3 bars a short phrase."""
    if bars <= 3:
        return [bars]
    if bars == 4:
        return [4] if role in QUIET_ROLES else [2, 2]
    if bars == 6:
        return [3, 3]
    fours, rest = divmod(bars, 4)
    out = [4] * fours
    if rest == 1:
        out[-1] += 1
    elif rest == 2:
        out[-1:] = [3, 3]
    elif rest == 3:
        out.append(3)
    return out


def phrase_plan(bars: int, role: str, cadence: str) -> tuple[PhrasePlan, ...]:
    """Phrases and how each ends: the section's last phrase closes (full, or half when the
    section ends open), inner phrases alternate half closes (antecedents, where the harmony
    plans V) and breaths. All end long here; :func:`breaths` lets some inner ones run on."""
    out, start = [], 1
    lengths = phrase_lengths(bars, role)
    for i, n in enumerate(lengths):
        end: PhraseEnd
        if i == len(lengths) - 1:
            end = "half" if cadence == "half" else "full"
        else:
            end = "half" if i % 2 == 0 and n >= 3 else "breath"
        out.append(PhrasePlan(start_bar=start, bars=n, end=end))
        start += n
    return tuple(out)


def breaths(
    song: SongPlan, phrases: dict[str, tuple[PhrasePlan, ...]], rng: np.random.Generator
) -> dict[str, tuple[PhrasePlan, ...]]:
    """Which inner phrase ends end long, chosen over the whole song: :data:`INNER_LONG` of the
    inner ends as heard (a composed section's ends count once more for each repeat of it, whose
    bars are its bars), half closes first; a repeat takes its source's choices."""
    composed = [s for s in song.sections if s.relation != "repeats" or s.source is None]
    heard = {s.id: 1 for s in composed}  # a composed section's bars, heard in its repeats too
    for s in song.sections:
        if s.relation == "repeats" and s.source in heard:
            heard[s.source] += 1
    inner = [
        (s.id, i)
        for s in composed
        for i in range(len(phrases[s.id]) - 1)
        if phrases[s.id][i].bars >= 3  # a 2+2 section's middle is a comma: it runs on
    ]
    short = {(sid, i) for sid, ph in phrases.items() for i in range(len(ph) - 1) if ph[i].bars < 3}
    order = sorted(inner, key=lambda x: (phrases[x[0]][x[1]].end != "half", rng.random()))
    target = INNER_LONG * sum(heard[sid] for sid, _ in inner) + rng.random() - 0.5
    runs, long_heard = set(short), 0.0
    for sid, i in order:
        if long_heard + heard[sid] / 2 <= target:
            long_heard += heard[sid]
        else:
            runs.add((sid, i))
    out = {
        sid: tuple(
            p.model_copy(update={"long_end": (sid, i) not in runs}) for i, p in enumerate(ph)
        )
        for sid, ph in phrases.items()
    }
    for s in song.sections:
        src = out.get(s.source or "")
        if s.relation == "repeats" and src is not None and len(src) == len(out[s.id]):
            out[s.id] = tuple(
                p.model_copy(update={"long_end": q.long_end or i == len(src) - 1})
                for i, (p, q) in enumerate(zip(out[s.id], src, strict=True))
            )
    return out


def developments(song: SongPlan) -> dict[str, tuple[int, Development]]:
    """(occurrence, development) of every section: its statement number among its label's, and
    from the third statement on how it differs from the first (a seeded rotation per label, so
    consecutive returns differ from each other too); the last statement of the chorus (or
    theme) is lifted, the climax. The harmony pass reads it before chords exist (to
    re-harmonise); :func:`plan_melody` embellishes instead where the chords were given."""
    seen: dict[str, int] = {}
    out: dict[str, tuple[int, Development]] = {}
    for s in song.sections:
        k = seen.get(s.label, 0)
        seen[s.label] = k + 1
        dev: Development = "literal"
        if k >= 2:
            shift = int(rng_for(song.seed, "develop", s.label).integers(len(DEVELOPMENTS)))
            dev = DEVELOPMENTS[(k - 2 + shift) % len(DEVELOPMENTS)]
        out[s.id] = (k, dev)
    climax = climax_section(song)
    if climax is not None and out[climax][0] >= 2:
        out[climax] = (out[climax][0], "lift")
    return out


def climax_section(song: SongPlan) -> str | None:
    """The section holding the song's peak: the last chorus, else the last statement of the
    first (theme) label after the middle of the song, else the last body section."""
    body = [s for s in song.sections if s.role not in QUIET_ROLES]
    if not body:
        return None
    choruses = [s for s in body if s.role in CHORUS_ROLES]
    if choruses:
        return choruses[-1].id
    theme = [s for s in body if s.label == body[0].label]
    late = [s for s in body if s.index >= len(song.sections) / 2]
    return (theme[-1] if len(theme) > 1 else (late or body)[-1]).id


def register(
    song: SongPlan, section: SectionPlan, development: Development, climax: bool
) -> tuple[int, int, int]:
    """(low, high, centre) of a section's tessitura window inside the song's range."""
    lo, hi = song.melody_low, song.melody_high
    total = max(1, song.total_bars)
    x = (section.start_bar - 1 + section.bars / 2) / total
    arc = ARC * math.sin(math.pi / 2 * min(1.0, x / CLIMAX_AT)) if x <= CLIMAX_AT else ARC
    offset = ROLE_OFFSET.get(section.role, 0.0) + arc
    if development == "lift" or climax:
        offset += LIFT
    half = min(WINDOW, hi - lo) / 2
    centre = (lo + hi) / 2 + offset
    centre = min(max(centre, lo + half), hi - half)
    return round(centre - half), round(centre + half), round(centre)


def density(style: Style, song: SongPlan, section: SectionPlan, development: Development) -> float:
    """Target melody onsets per felt beat: the style's, more at slow tempi (a ballad fills its
    long beats), fewer at fast ones, scaled by the section's energy; embellished returns busier."""
    base = style.idiom.density or style.melody.notes_per_beat
    tempo = min(1.3, max(0.75, (100 / max(40, song.tempo)) ** 0.5))
    d = base * tempo * ENERGY.get(section.role, 1.0)
    if development == "embellish":
        d *= 1.2
    return round(max(0.4, min(4.0, d)), 3)


def make_hook(song: SongPlan, style: Style) -> Hook:
    """The song's motif: a rhythm filling a bar (two bars of a short meter) from the idiom's
    note values, short values first and a longer one last, and a scale-step contour that
    moves mostly by step with one skip; drawn from the song's seed."""
    rng = rng_for(song.seed, "hook")
    meter = song.meter()
    length = meter.bar_ticks * (2 if meter.bar_ticks <= 960 else 1)
    values = [d for d in style.idiom.ticks() if d >= 240] or [240]
    short = [d for d in values if d <= meter.beat_ticks] or values[:1]
    onsets: list[int] = []
    durations: list[int] = []
    t = 0
    if style.idiom.pickups and rng.random() < 0.3 and meter.beat_ticks % 240 == 0:
        t = 240  # the hook starts off the beat: an eighth's rest, then the figure
    while t < length:
        left = length - t
        long_ok = [d for d in values if d <= left and d >= meter.beat_ticks]
        if len(onsets) >= 3 and long_ok and rng.random() < 0.45:
            d = int(long_ok[int(rng.integers(len(long_ok)))])
        else:
            fits = [d for d in short if d <= left] or [left]
            d = int(fits[int(rng.integers(len(fits)))])
        onsets.append(t)
        durations.append(d)
        t += d
        if len(onsets) >= 7:
            durations[-1] += length - t
            break
    contour = [0]
    for i in range(1, len(onsets)):
        step = int(rng.choice([-1, 1, 1, 2, -2, 0, 3, -1]))
        if abs(contour[-1] + step) > 4:
            step = -step
        if i == 1 and step == 0:
            step = 1
        contour.append(contour[-1] + step)
    return Hook(onsets=tuple(onsets), durations=tuple(durations), contour=tuple(contour))


def hook_uses(song: SongPlan) -> dict[str, HookUse]:
    """Which sections state, repeat, sequence, vary or fragment the hook."""
    body = [s for s in song.sections if s.role not in QUIET_ROLES]
    choruses = [s for s in body if s.role in CHORUS_ROLES]
    home = (choruses or body or list(song.sections))[0]
    out: dict[str, HookUse] = {}
    for s in song.sections:
        use: HookUse
        if s.id == home.id:
            use = "state"
        elif s.label == home.label:
            use = "vary_rhythm" if s.relation == "varies" else "repeat"
        elif s.role in CONTRAST_ROLES:
            use = "sequence"
        else:
            use = "fragment"
        out[s.id] = use
    return out


def hook_bars(phrases: tuple[PhrasePlan, ...], use: HookUse, hook_len: int) -> tuple[int, ...]:
    """Bars where the hook sounds: the start of each phrase long enough to hold it and leave a
    bar for the phrase's ending; a fragment only at the first and third phrases."""
    if use == "none":
        return ()
    out = []
    for i, p in enumerate(phrases):
        if p.bars < hook_len + 1 or (use == "fragment" and i % 2 == 1):
            continue
        out.append(p.start_bar)
    return tuple(out)


def plan_melody(song: SongPlan) -> SongPlan:
    """Fill ``melody`` for every section and the song's ``hook`` (deterministic from the seed)."""
    if not song.sections:
        return song
    style = get_style(song.style)
    vocab = vocabulary(style, song.swing)
    hook = make_hook(song, style)
    hook_len = -(-(hook.onsets[-1] + hook.durations[-1]) // song.meter().bar_ticks)
    devs = developments(song)
    uses = hook_uses(song)
    climax = climax_section(song)
    out = []
    phrases = {s.id: phrase_plan(s.bars, s.role, s.cadence) for s in song.sections}
    phrases = breaths(song, phrases, rng_for(song.seed, "phrases"))
    for s in song.sections:
        occurrence, dev = devs[s.id]
        if dev == "reharmonise" and s.chords_given:
            dev = "embellish"  # the user's chords stand
        low, high, centre = register(song, s, dev, s.id == climax)
        last = phrases[s.id][-1]
        peak = max(1, round(s.bars * 2 / 3)) if s.id != climax else last.start_bar
        use = uses[s.id]
        melody = MelodyPlan(
            phrases=phrases[s.id],
            low=low,
            high=high,
            centre=centre,
            climax_bar=min(s.bars, peak),
            density=density(style, song, s, dev),
            rhythm=vocab,
            hook=use,
            hook_bars=hook_bars(phrases[s.id], use, hook_len),
            occurrence=occurrence,
            development=dev,
        )
        out.append(s.model_copy(update={"melody": melody}))
    return song.model_copy(update={"sections": tuple(out), "hook": hook})


def blue_mask(section: SectionPlan) -> int:
    """12-bit mask (relative to C) of the pitch classes a section's plan allows as blue notes."""
    if section.melody is None:
        return 0
    tonic = section.key_obj().tonic
    return sum(1 << ((tonic + b) % 12) for b in set(section.melody.rhythm.blue_notes))


def section_hook(hook: Hook, use: HookUse, rng: np.random.Generator | None = None) -> Hook:
    """The hook as a section uses it: stated and repeated as is, sequenced a step or a third
    up, its rhythm varied (two notes merged, or one split), fragmented to its first half."""
    on, du, co = list(hook.onsets), list(hook.durations), list(hook.contour)
    if use == "sequence":
        shift = 2 if rng is None else int(rng.choice([1, 2, -1]))
        co = [c + shift for c in co]
    elif use == "fragment":
        keep = max(2, (len(on) + 1) // 2)
        end = on[keep - 1] + du[keep - 1]
        on, du, co = on[:keep], du[:keep], co[:keep]
        du[-1] = max(du[-1], min(480, end))
    elif use == "vary_rhythm" and len(on) >= 3:
        i = 1 if rng is None else int(rng.integers(1, len(on) - 1))
        if du[i] >= 480 and du[i] % 2 == 0:
            half = du[i] // 2  # split a note in two: the figure gets busier
            on.insert(i + 1, on[i] + half)
            du[i : i + 1] = [half, half]
            co.insert(i + 1, co[i] + 1)
        else:  # merge two notes: the figure gets plainer
            du[i - 1] += du[i]
            del on[i], du[i], co[i]
    return Hook(onsets=tuple(on), durations=tuple(du), contour=tuple(co))
