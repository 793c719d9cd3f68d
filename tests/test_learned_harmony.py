"""The learned harmony: labelling, the model, exact constrained sampling, the harmoniser."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grammar.errors import PlanError
from grammar.keys import parse_key
from planners.harmony import realize
from planners.learn.harmoniser import harmonise
from planners.learn.labelling import best_chord, state_of
from planners.learn.model import ALPHA, RARE, fit
from planners.progression import Slot, load_models, sample

C = parse_key("C major")


def _w(*pcs: int, weights: tuple[float, ...] | None = None) -> list[float]:
    w = [0.0] * 12
    for i, pc in enumerate(pcs):
        w[pc] += 1.0 if weights is None else weights[i]
    return w


def test_labelling_clear_chords() -> None:
    assert best_chord(_w(0, 4, 7), 0) == (0, "maj")
    assert best_chord(_w(9, 0, 4), 9) == (9, "min")
    assert best_chord(_w(7, 11, 2, 5), 7) == (7, "7")
    assert best_chord(_w(11, 2, 5), 2) == (11, "dim")
    assert best_chord(_w(0, 4), 4, C) == (0, "maj")  # C-E over E in C major reads as I6
    assert best_chord(_w(2, 5, 9, 0, weights=(1, 1, 1, 0.25)), 2) == (2, "min")  # passing C
    assert best_chord([0.0] * 12, None) is None
    assert state_of(7, "7", C) == "V7" and state_of(2, "7", C) == "V7/V"


TOY = [
    (["I", "IV", "V", "I"], [0, 1, 0, 1]),
    (["I", "V", "I"], [0, 1, 0]),
    (["I", "ii", "V", "I"], [0, 1, 0, 1]),
]


def test_model_probabilities_by_hand() -> None:
    m = fit(TOY, min_count=1)
    assert set(m.states) == {"I", "IV", "V", "ii", RARE}
    # unigram with add-one: I 6, V 3, IV 1, ii 1, ? 0 of 11 chords, 5 states
    prior = {"I": 7 / 16, "V": 4 / 16, "IV": 2 / 16, "ii": 2 / 16, RARE: 1 / 16}
    assert m.prior[m.index["V"]] == pytest.approx(prior["V"])
    # P(V | I, pos 1): I->V at pos 1 once; I at pos 1 is followed... c_1(I) = 3 (IV, V, ii)
    p = (1 + ALPHA * prior["V"]) / (3 + ALPHA)
    assert m.matrix(1)[m.index["I"], m.index["V"]] == pytest.approx(p)
    for pos in (0, 1):
        assert np.allclose(m.matrix(pos).sum(axis=1), 1.0)
    lp = math.log(m.start_probs[m.index["I"]]) + math.log(m.matrix(1)[m.index["I"], m.index["V"]])
    assert m.logprob(["I", "V"], [0, 1]) == pytest.approx(lp)
    assert json.loads(json.dumps(m.to_json())) == m.to_json()


def test_sampling_is_exactly_the_conditional_distribution() -> None:
    """Three slots, the last pinned to V: sample frequencies match enumeration."""
    m = fit(TOY, min_count=1)
    slots = [Slot(0), Slot(1), Slot(0, frozenset({"V"}), "pinned V")]
    vocab = frozenset({"I", "IV", "V", "ii"})
    states = sorted(vocab)
    exact: dict[tuple[str, ...], float] = {}
    for seq in itertools.product(states, repeat=2):
        full = (*seq, "V")
        exact[full] = math.exp(m.logprob(list(full), [0, 1, 0]))
    z = sum(exact.values())
    rng = np.random.default_rng(0)
    n = 20000
    got = Counter(tuple(sample(m, slots, vocab, rng)) for _ in range(n))
    for seq, p in exact.items():
        assert got[seq] / n == pytest.approx(p / z, abs=0.012), seq


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_sampling_meets_every_constraint(data: st.DataObject) -> None:
    model = load_models()["chorale"]["major"]
    vocab = frozenset(s for s in model.states if s != RARE)
    n = data.draw(st.integers(1, 12))
    slots = []
    for j in range(n):
        pinned = data.draw(
            st.none() | st.sets(st.sampled_from(sorted(vocab)), min_size=1, max_size=3)
        )
        slots.append(Slot(j % 2, None if pinned is None else frozenset(pinned), f"slot {j}"))
    out = sample(model, slots, vocab, np.random.default_rng(data.draw(st.integers(0, 1000))))
    assert len(out) == n
    for s, state in zip(slots, out, strict=True):
        assert state in (s.allowed if s.allowed is not None else vocab)


def test_impossible_constraints_name_the_slot() -> None:
    model = load_models()["chorale"]["major"]
    with pytest.raises(PlanError, match="pinned nothing"):
        sample(
            model,
            [Slot(0), Slot(0, frozenset(), "pinned nothing")],
            frozenset({"I"}),
            np.random.default_rng(0),
        )


def test_harmoniser_fits_the_melody() -> None:
    model = load_models()["chorale"]["major"]
    bars = [
        ((0.0, 1.0, 60), (1.0, 1.0, 64)),
        ((0.0, 1.0, 65), (1.0, 1.0, 69)),
        ((0.0, 1.0, 67), (1.0, 1.0, 71)),
        ((0.0, 2.0, 60),),
    ]
    states = harmonise(bars, C, model)
    assert states[0] == "I" and states[-1] == "I"
    assert states[1] in ("IV", "ii") and states[2] in ("V", "V7")


def test_shipped_model_is_complete() -> None:
    models = load_models()
    for name in ("chorale", "folk"):
        for mode in ("major", "minor"):
            m = models[name][mode]
            assert {"I" if mode == "major" else "i", "V"} <= set(m.states)
            assert sum(m.unigram.values()) > 500


@pytest.mark.slow
def test_labelling_agrees_with_the_hand_analyses() -> None:
    pytest.importorskip("music21")
    from planners.learn.validate import Agreement, analyses, compare

    total = Agreement()
    for number, path in analyses()[:6]:
        compare(number, path, total)
    assert total.beats > 250
    assert total.chord / total.beats >= 0.8


@pytest.mark.slow
def test_build_is_bit_for_bit(tmp_path) -> None:
    pytest.importorskip("music21")
    from planners.learn.build import main

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    quick = ["--chorales", "6", "--tunes", "20", "--plans", "10"]
    main([*quick, "--out", str(a)])
    main([*quick, "--out", str(b)])
    assert a.read_bytes() == b.read_bytes()
    assert json.loads(a.read_text())["corpus"]["chorale_key_runs"]["major"] > 0


def test_key_lead_catches_the_dominant_key() -> None:
    from grammar.chords import parse_chord
    from planners.progression import KEY_CLARITY_MIN, KEY_MARGIN, key_lead

    def bars(*names: str) -> list[list]:
        return [[parse_chord(n)] for n in names]

    clarity, lead = key_lead(bars("C", "F", "G7", "C"), C)
    assert clarity >= KEY_CLARITY_MIN and lead >= KEY_MARGIN
    _, lead = key_lead(bars("G", "C", "D7", "G"), C)  # I-IV-V-I of G: heard in G, not C
    assert lead < 0


def test_planned_progressions_state_their_key() -> None:
    from planners.progression import KEY_MARGIN, key_lead, plan_progression, vocabulary

    model = load_models()["chorale"]["major"]
    vocab = vocabulary(model, "major", "all")
    rng = np.random.default_rng(3)
    leads = []
    for _ in range(20):
        out = plan_progression(8, 2, "authentic", C, "theme", model, vocab, rng)
        leads.append(key_lead([[realize(n, C) for n in bar] for bar in out], C)[1])
    assert sum(lead >= KEY_MARGIN for lead in leads) >= 18
