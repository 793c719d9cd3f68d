"""Segment-level rewards: pure functions of a candidate's features, grouped in five objectives.

Each reward maps a feature mapping and the section plan to a float in [0, 1], higher is better,
or to ``None`` when it does not apply to the section (a form reward for a section with no
relation to judge); a reward that does not apply is left out of the total, not scored 1.

The features are the kernels' (:data:`kernels.features.FEATURES`) plus a few the search adds
from the song around the candidate (:data:`CONTEXT_FEATURES`), so every reward stays a pure
function of one mapping. Targets come from the style (``Style.melody``); the weights of
the objectives from the style, a user profile and the spec's ``preferences:``
(:func:`resolve_weights`). The learned reward (:mod:`composer.reward_model`) is one more entry,
``learned``, filled by the search from the model's batch score.

| objective | rewards |
|---|---|
| harmony | ``harmonic_fit``, ``key_clarity`` |
| melody | ``step_balance``, ``contour``, ``range_fit``, ``cadence``, |
| | ``breathing``, ``cadence_strength``, ``register_arc`` |
| rhythm | ``groove``, ``style_rhythm``, ``rhythm_idiom`` |
| form | ``form_relation``, ``hook`` |
| novelty | ``novelty`` |
| learned | ``learned`` |

The listener rewards (``breathing``, ``cadence_strength``, ``register_arc``, ``rhythm_idiom``,
``hook``) read the ``lis_*`` features (:mod:`composer.search.listener`): phrasing, register and
idiom against the section's melody plan when it has one, else against 4-bar phrases, the
song's verse and the style; each is None when its features are absent.

Shapes are smooth (Gaussian in the distance from a target) rather than plateaus, so candidates
that are all "acceptable" still differ in score and the search has something to choose by.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from composer.search.band_rewards import BAND_REWARDS, BAND_WEIGHTS
from grammar.spec import REWARD_NAMES
from planners.plan import SectionPlan
from planners.styles import CORE_STYLES, STYLES, MelodyTargets, Style
from planners.tonality import key_fit

Features = Mapping[str, float]
Reward = Callable[[Features, SectionPlan], float | None]

TARGET_FEATURES = ("ctx_step_ratio", "ctx_notes_per_beat", "ctx_syncopation")
# Features the search computes from the song around a candidate
# (composer.search.batch.context_features)
CONTEXT_FEATURES = (
    "ctx_beats_per_bar",  # felt beats per bar of the song's meter
    "ctx_novelty_similarity",  # max melody similarity to chosen sections of other labels (-1: none)
    "ctx_contrast_similarity",  # max melody similarity to the sections it contrasts (-1: none)
    "ctx_melody_similarity",  # melody similarity to its source (repeat/variation; -1: none)
    "ctx_contour_similarity",  # contour (interval-sign) similarity to its source (-1: none)
    *TARGET_FEATURES,  # the song style's melody targets (planners.styles.MelodyTargets)
    "ctx_relation",  # 0 new, 1 repeats, 2 varies
    "ctx_key_r",  # Pearson r of the pc histogram with the planned key's profile (optional)
)
RELATIONS = ("new", "repeats", "varies")


def _gauss(x: float, target: float, width: float) -> float:
    """exp(-((x - target) / width)^2 / 2): 1 at the target, e^-1/2 one width away."""
    return math.exp(-0.5 * ((x - target) / width) ** 2)


def _bump(x: float, lo: float, hi: float, width: float) -> float:
    """1 inside [lo, hi], falling off as exp(-distance / width) outside."""
    if lo <= x <= hi:
        return 1.0
    return math.exp(-(lo - x if x < lo else x - hi) / width)


def target_features(style: Style) -> dict[str, float]:
    """The context features that carry ``style``'s melody targets to the rewards."""
    t = style.melody
    return dict(zip(TARGET_FEATURES, (t.step_ratio, t.notes_per_beat, t.syncopation), strict=True))


def _targets(f: Features) -> MelodyTargets:
    """The song style's melody targets (the first core style's when the context has none)."""
    if TARGET_FEATURES[0] not in f:
        return STYLES[CORE_STYLES[0]].melody
    return MelodyTargets(*(f[k] for k in TARGET_FEATURES))


# --- harmony -----------------------------------------------------------------------------------


def harmonic_fit(f: Features, s: SectionPlan) -> float:
    """Melody on the planned chords, by metric position: 0.5 * strong-beat chord-tone ratio +
    0.3 * other-beat ratio + 0.2 * off-beat ratio (passing tones belong off the beat). [0, 1]"""
    return (
        0.5 * f["strong_chord_tone_ratio"]
        + 0.3 * f["weak_beat_chord_tones"]
        + 0.2 * f["offbeat_chord_tones"]
    )


def key_clarity(f: Features, s: SectionPlan) -> float:
    """(r + 1) / 2 for the Pearson r of the section's pitch-class histogram with the
    Krumhansl-Kessler profile of its planned key (``ctx_key_r`` when the search has computed
    it already). [0, 1]"""
    r = f["ctx_key_r"] if "ctx_key_r" in f else key_fit(f, s.key_obj())[0]
    return (r + 1.0) / 2.0


# --- melody ------------------------------------------------------------------------------------


def step_balance(f: Features, s: SectionPlan) -> float:
    """Steps against leaps: Gaussian in the step ratio around the style's target (width 0.15),
    times exp(-4 * max(0, leap_ratio - 0.2)) for leaps of a fourth or more past a fifth of all
    intervals, times 1 - 0.5 * repeated-note ratio. [0, 1]"""
    t = _targets(f)
    steps = _gauss(f["step_ratio"], t.step_ratio, 0.15)
    leaps = math.exp(-4.0 * max(0.0, f["leap_ratio"] - 0.2))
    return steps * leaps * (1.0 - 0.5 * f["repeat_ratio"])


def contour(f: Features, s: SectionPlan) -> float:
    """An arch: direction changes on 25%..60% of turns (neither a run nor a zig-zag; falls off
    by e per 0.2 outside), times a Gaussian of the peak's position around 0.6 of the section
    (width 0.3). [0, 1]"""
    turns = _bump(f["contour_changes"], 0.25, 0.6, 0.2)
    return turns * _gauss(f["peak_position"], 0.6, 0.3)


def range_fit(f: Features, s: SectionPlan) -> float:
    """A span of a sixth to an octave and a fourth (9..17 semitones) scores 1, falling by e per
    4 semitones outside; times 1 - 0.5 * the share of melody time in the outer quarter of the
    instrument's range. [0, 1]"""
    return _bump(f["pitch_range"], 9, 17, 4.0) * (1.0 - 0.5 * f["tessitura_outer_ratio"])


def cadence(f: Features, s: SectionPlan) -> float:
    """The last note lands on a stable tone and is held: the tonic for authentic, plagal and
    deceptive closes, a chord tone other than the tonic for a half cadence, a chord tone
    otherwise; 0.7 * landing + 0.3 * min(1, last duration / 2 beats (960 ticks)). [0, 1]"""
    held = min(1.0, f["last_duration"] / 960.0)
    if s.cadence in ("authentic", "plagal", "deceptive"):
        land = 0.7 * f["last_is_tonic"] + 0.3 * f["last_is_chord_tone"]
    elif s.cadence == "half":
        land = f["last_is_chord_tone"] * (1.0 - 0.5 * f["last_is_tonic"])
    else:
        land = f["last_is_chord_tone"]
    return 0.7 * land + 0.3 * held


# --- rhythm ------------------------------------------------------------------------------------


def groove(f: Features, s: SectionPlan) -> float:
    """Rhythmic coherence within the section: the ensemble keeps one groove from bar to bar
    (``groove_consistency``, weight 0.5) and the melody's bars echo each other's rhythm without
    all being the same (``bar_rhythm_repetition`` in 0.4..0.85 scores 1, falling by e per 0.25
    outside; weight 0.5). [0, 1]"""
    motif = _bump(f["bar_rhythm_repetition"], 0.4, 0.85, 0.25)
    return 0.5 * f["groove_consistency"] + 0.5 * motif


def style_rhythm(f: Features, s: SectionPlan) -> float:
    """Fit to the style's rhythm: Gaussian in melody notes per beat around the style's target
    (width 0.4 of the target) times a Gaussian in the syncopation ratio around the style's
    target (width 0.15). [0, 1]"""
    t = _targets(f)
    beats = max(1.0, f.get("ctx_beats_per_bar", 4.0))
    per_beat = f["melody_density"] / beats
    return _gauss(per_beat, t.notes_per_beat, 0.4 * t.notes_per_beat) * _gauss(
        f["syncopation"], t.syncopation, 0.15
    )


# --- form and novelty --------------------------------------------------------------------------


def form_relation(f: Features, s: SectionPlan) -> float | None:
    """How the section honours its place in the form. [0, 1], None if it has no relation.

    - repeats: its melody equals its source's (similarity, 1 = identical).
    - varies: keeps the source's rhythm or contour (the larger of onset and contour similarity)
      but changes enough: melody similarity in 0.3..0.75 scores 1 (falls by e per 0.15
      outside); the two multiplied.
    - new with sections it contrasts: 1 - max similarity to them, scaled so 0.5 or less
      similarity scores 1.
    """
    rel = RELATIONS[int(f.get("ctx_relation", 0))]
    sim = f.get("ctx_melody_similarity", -1.0)
    if rel == "repeats" and sim >= 0:
        return sim
    if rel == "varies" and sim >= 0:
        keep = max(f["ref_onset_similarity"], f.get("ctx_contour_similarity", 0.0))
        return keep * _bump(sim, 0.3, 0.75, 0.15)
    contrast = f.get("ctx_contrast_similarity", -1.0)
    if contrast >= 0:
        return min(1.0, 2.0 * (1.0 - contrast))
    return None


def novelty(f: Features, s: SectionPlan) -> float | None:
    """Against the rest of the song: 1 - the max melody similarity to chosen sections of other
    labels, scaled so a similarity of 0.4 or less scores 1. None for the first section. [0, 1]"""
    sim = f.get("ctx_novelty_similarity", -1.0)
    if sim < 0:
        return None
    return min(1.0, (1.0 - sim) / 0.6)


# --- what a listener hears (features: composer.search.listener) ---------------------------------

# The idiom's most 16th-note and dotted-eighth shares when the section has no melody plan, by
# core style: the corpora have 0..4% dotted eighths and few 16ths (benchmarks/results/
# bench_melody_corpus.json); a march dots, a blues and a pop tune may run in 16ths; a hymn,
# waltz or jazz ballad sings in longer values. (max 16ths, max dotted eighths, blue notes)
FALLBACK_IDIOM: dict[str, tuple[float, float, bool]] = {
    "classical": (0.05, 0.03, False),
    "folk": (0.12, 0.06, False),
    "pop": (0.15, 0.08, False),
    "jazz": (0.08, 0.05, False),
    "blues": (0.15, 0.08, True),
    "waltz": (0.08, 0.05, False),
    "march": (0.12, 0.15, False),
}
BLUE_RATE = (0.05, 0.25)  # a blues: blue notes on 5%..25% of notes


def breathing(f: Features, s: SectionPlan) -> float | None:
    """Phrases that breathe where the plan ends them (``lis_breathing``: planned ends
    weighted by strength; unplanned 4-bar phrases: the last must, about half the others
    should). [0, 1]; None without the feature."""
    v = f.get("lis_breathing")
    return None if v is None else float(v)


def cadence_strength(f: Features, s: SectionPlan) -> float | None:
    """Phrase ends arrive: a held note on a strong beat on a stable tone, the tonic at an
    authentic or plagal close (``lis_end_strength``). [0, 1]; None without the feature."""
    v = f.get("lis_end_strength")
    return None if v is None else float(v)


def register_arc(f: Features, s: SectionPlan) -> float | None:
    """The song's register shape: the mean of what applies of ``lis_centre_fit`` (the plan's
    tessitura centre), ``lis_above_verse`` (unplanned: a chorus at least 3 semitones above the
    verse) and ``lis_climax_fit`` (the peak at the planned climax bar; unplanned: the last
    chorus reaches the song's peak). [0, 1]; None if none applies."""
    vals = [f[k] for k in ("lis_centre_fit", "lis_above_verse", "lis_climax_fit") if k in f]
    return float(sum(vals) / len(vals)) if vals else None


def _idiom(f: Features, s: SectionPlan) -> tuple[float, float, bool]:
    if s.melody is not None:
        r = s.melody.rhythm
        return r.max_sixteenths, r.max_dotted, bool(r.blue_notes)
    # unplanned: the core style whose melody targets the context carries (the song's family)
    t = _targets(f)
    family = next((n for n in CORE_STYLES if STYLES[n].melody == t), "pop")
    return FALLBACK_IDIOM.get(family, FALLBACK_IDIOM["pop"])


def rhythm_idiom(f: Features, s: SectionPlan) -> float | None:
    """The style's note values and colours: exp(-excess / 0.05) for the 16th-note and the
    dotted-eighth shares over the idiom's most (``section.melody.rhythm`` when planned, else
    :data:`FALLBACK_IDIOM` of the style's family), times the share of notes on the idiom's
    durations (planned only), times, where the idiom has blue notes, 1 for a blue-note rate in
    :data:`BLUE_RATE` falling by e per 0.05 outside. [0, 1]; None without the features."""
    if "lis_sixteenth" not in f:
        return None
    max16, maxdot, blue = _idiom(f, s)
    v = math.exp(-max(0.0, f["lis_sixteenth"] - max16) / 0.05)
    v *= math.exp(-max(0.0, f["lis_dotted"] - maxdot) / 0.05)
    v *= f.get("lis_vocab", 1.0)
    if blue:
        v *= _bump(f["lis_blue"], *BLUE_RATE, 0.05)
    return v


def hook(f: Features, s: SectionPlan) -> float | None:
    """The song's hook where the plan uses it, as it asks (stated, repeated, sequenced, its
    rhythm varied, fragmented: ``lis_hook``). [0, 1]; None where no hook is planned."""
    v = f.get("lis_hook")
    return None if v is None else float(v)


def learned(f: Features, s: SectionPlan) -> float | None:
    """The learned reward model's score, sigmoid of its logit (composer.reward_model), put in
    the features by the search as ``learned_score``. [0, 1]; None without the model."""
    v = f.get("learned_score")
    return None if v is None else float(v)


REWARDS: dict[str, Reward] = {
    "harmonic_fit": harmonic_fit,
    "key_clarity": key_clarity,
    "step_balance": step_balance,
    "contour": contour,
    "range_fit": range_fit,
    "cadence": cadence,
    "groove": groove,
    "style_rhythm": style_rhythm,
    "form_relation": form_relation,
    "novelty": novelty,
    "breathing": breathing,
    "cadence_strength": cadence_strength,
    "register_arc": register_arc,
    "rhythm_idiom": rhythm_idiom,
    "hook": hook,
    "learned": learned,
    **BAND_REWARDS,  # the melody with the band as played (issue 14)
}
if tuple(REWARDS) != REWARD_NAMES:  # the names a spec may weigh (grammar.spec) are these
    raise ImportError(f"REWARDS {tuple(REWARDS)} != grammar.spec.REWARD_NAMES {REWARD_NAMES}")
OBJECTIVES: dict[str, tuple[str, ...]] = {
    "harmony": ("harmonic_fit", "key_clarity"),
    "melody": (
        "step_balance",
        "contour",
        "range_fit",
        "cadence",
        "breathing",
        "cadence_strength",
        "register_arc",
    ),
    "rhythm": ("groove", "style_rhythm", "rhythm_idiom"),
    "form": ("form_relation", "hook"),
    "novelty": ("novelty",),
    "learned": ("learned",),
    "band": tuple(BAND_REWARDS),
}

# Harmony and cadence matter most to listeners of tonal music; shape and rhythm next; form is a
# guarantee the pipeline mostly keeps by itself (repeats are spliced), so it weighs less. The
# listener rewards (issue 15) weigh like the melody rewards: breathing and the idiom are what the
# listening review missed most; the register arc is a song-level shape, so it weighs less.
WEIGHTS: dict[str, float] = {
    "harmonic_fit": 2.0,
    "key_clarity": 1.0,
    "step_balance": 1.5,
    "contour": 0.75,
    "range_fit": 0.75,
    "cadence": 1.5,
    "groove": 1.0,
    "style_rhythm": 0.75,
    "form_relation": 1.0,
    "novelty": 0.5,
    "breathing": 1.0,
    "cadence_strength": 1.0,
    "register_arc": 0.75,
    "rhythm_idiom": 1.0,
    "hook": 1.0,
    "learned": 2.0,
    **BAND_WEIGHTS,
}


def resolve_weights(
    style: str,
    profile: Mapping[str, float] | None = None,
    spec: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """The weights of a song: WEIGHTS times the style's multipliers, then a user profile's
    weights, then the spec's ``preferences.weights`` (each replaces the value before it).
    Unknown names raise KeyError naming them (the spec and profile loaders check first)."""
    mult = dict(STYLES[style].reward_weights) if style in STYLES else {}
    out = {k: v * mult.get(k, 1.0) for k, v in WEIGHTS.items()}
    for layer in (profile or {}, spec or {}):
        unknown = sorted(set(layer) - set(REWARDS))
        if unknown:
            raise KeyError(f"unknown reward(s): {', '.join(unknown)}")
        out.update({k: float(v) for k, v in layer.items()})
    return out


def score(f: Features, s: SectionPlan, weights: Mapping[str, float] = WEIGHTS) -> dict[str, float]:
    """Every reward that applies, and ``total``: their weighted mean, in [0, 1] (0 if no
    applicable reward has weight)."""
    out: dict[str, float] = {}
    for name, fn in REWARDS.items():
        v = fn(f, s)
        if v is not None:
            out[name] = float(v)
    wsum = sum(weights.get(n, 0.0) for n in out)
    out["total"] = sum(weights.get(n, 0.0) * v for n, v in out.items()) / wsum if wsum else 0.0
    return out
