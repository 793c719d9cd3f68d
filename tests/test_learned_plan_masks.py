"""The melody plan as the transformer's decoding masks (phrase ends, rhythm vocabulary and
budgets, register), checked on a small untrained model: its near-uniform choices are the
hardest case for the masks, which must hold while every sequence stays valid and exactly long."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from composer.generators.transformer import processors as P
from composer.generators.transformer.generator import phrase_marks, style_token
from composer.generators.transformer.plan_rules import phrase_need, plan_rules
from composer.generators.transformer.sampling import sample, sample_fused
from composer.generators.transformer.sequence_check import problems
from composer.generators.transformer.tokens import Section, Vocab
from planners.plan import MelodyPlan, PhrasePlan, RhythmVocabulary, SectionPlan

CHORDS = tuple(("0M", "0M", "5M", "77") for _ in range(8))
PER_BAR, BEAT = 16, 4


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Vocab]:
    from composer.generators.transformer.model import ModelConfig, new_model
    from composer.generators.transformer.weights import load_weights

    torch.manual_seed(0)
    vocab = Vocab()
    model = new_model(
        ModelConfig(hidden=32, layers=1, heads=2, ffn=64),
        len(vocab),
        vocab["PAD_None"],
        vocab["BOS_None"],
        vocab["EOS_None"],
    )
    folder = tmp_path_factory.mktemp("tiny")
    model.save_pretrained(str(folder), safe_serialization=True)
    vocab.save(Path(folder))
    return load_weights(Path(folder)), vocab


def _plan(**rhythm: object) -> MelodyPlan:
    voc = RhythmVocabulary(durations=(240, 480, 720, 960, 1440, 1920), **rhythm)
    return MelodyPlan(
        phrases=(
            PhrasePlan(start_bar=1, bars=4, end="half"),
            PhrasePlan(start_bar=5, bars=4, end="full"),
        ),
        low=64,
        high=76,
        centre=70,
        density=1.0,
        rhythm=voc,
    )


def _notes_by_bar(vocab: Vocab, ids: list[int]) -> list[list[tuple[int, int, int]]]:
    notes = vocab.decode_notes(ids, "4/4")
    bars: list[list[tuple[int, int, int]]] = [[] for _ in range(8)]
    for on, dur, p in notes:
        bars[on // PER_BAR].append((on % PER_BAR, dur, p))
    return bars


def _section_plan(plan: MelodyPlan | None) -> SectionPlan:
    return SectionPlan(id="A", label="A", name="A", role="verse", index=0, start_bar=1, bars=8,
                       key="C", melody=plan)  # fmt: skip


def _run(
    tiny: tuple[object, Vocab], plan: MelodyPlan | None, rows: int, fused: bool
) -> list[list[int]]:
    model, vocab = tiny
    marks = phrase_marks(_section_plan(plan))
    tess, rhythm = plan_rules(plan, marks, PER_BAR, BEAT, (55, 84), 0)
    args = dict(phrases=marks, pitch_range=(55, 84), scale=frozenset({0, 2, 4, 5, 7, 9, 11}),
                max_leap=12, temperature=1.0, top_p=1.0, tessitura=tess, rhythm=rhythm)  # fmt: skip
    sec = Section("major", "4/4", "inner", 8, CHORDS, style="hymn", tempo="slow", energy="low")
    prefix = vocab.prefix(sec)
    max_new = 8 * (2 + 4 + 3 * PER_BAR) + 1
    eos, pad = vocab["EOS_None"], vocab["PAD_None"]
    if fused:
        f = P.section_fused(vocab, rows, PER_BAR, CHORDS, BEAT, **args)  # type: ignore[arg-type]
        ids = sample_fused(model, prefix, rows, f, max_new, eos, pad, 3)
    else:
        procs = P.section_processors(
            vocab,
            rows,
            PER_BAR,
            CHORDS,
            BEAT,
            **args,  # type: ignore[arg-type]
        )
        ids = sample(model, prefix, rows, procs, max_new, eos, pad, 3, True)
    out = [r.tolist() for r in ids]
    for r in out:
        assert problems(vocab, r, CHORDS, PER_BAR, marks) == []  # valid, exactly 8 bars
    return out


def test_marks_from_the_plan_and_style_tokens() -> None:
    sec = _section_plan(_plan())
    assert phrase_marks(sec) == ("in", "in", "in", "end", "in", "in", "in", "final")
    assert phrase_marks(sec.model_copy(update={"melody": None}))[3] == "end"
    assert style_token("ballad") == "hymn" and style_token("jazz") == "none"
    assert phrase_need(16, 4) == ((0, 0), (4, 2), (8, 4))


@pytest.mark.parametrize("fused", [True, False])
def test_plan_masks_hold_on_an_untrained_model(tiny: tuple[object, Vocab], fused: bool) -> None:
    vocab = tiny[1]
    plan = _plan(max_sixteenths=0.0, max_dotted=0.0)
    rows = _run(tiny, plan, 12, fused)
    need = phrase_need(PER_BAR, BEAT)
    allowed = {2, 4, 6, 8, 12, 16}
    for r in rows:
        bars = _notes_by_bar(vocab, r)
        for b, notes in enumerate(bars):
            durs = [d for _, d, _ in notes]
            assert 1 not in durs and 3 not in durs  # budgets of 0: no 16ths, no dotted eighths
            assert set(durs) <= allowed  # the style's durations
            assert all(64 <= p <= 76 for _, _, p in notes)  # the tessitura
            if b in (3, 7):  # phrase ends: a long last note or a rest before the barline
                long, rest = need[2 if b == 7 else 1]
                on, d, _ = notes[-1]
                assert d >= long or PER_BAR - on - d >= rest, (b, notes)


def test_without_a_plan_the_masks_are_off(tiny: tuple[object, Vocab]) -> None:
    vocab = tiny[1]
    rows = _run(tiny, None, 12, True)
    durs = [d for r in rows for _, d, _ in vocab.decode_notes(r, "4/4")]
    assert 1 in durs or 3 in durs  # an untrained model writes 16ths when nothing stops it


def test_budgets_cap_the_share(tiny: tuple[object, Vocab]) -> None:
    vocab = tiny[1]
    plan = _plan(max_sixteenths=0.1, max_dotted=0.05)
    _, rules = plan_rules(plan, ("in",) * 7 + ("final",), PER_BAR, BEAT, (55, 84), 0)
    assert rules is not None and rules.sixteenths == 3 and rules.dotted == 1  # of 32 planned
    for r in _run(tiny, plan, 8, True):
        durs = [d for _, d, _ in vocab.decode_notes(r, "4/4")]
        assert durs.count(1) <= 3 and durs.count(3) <= 1


def test_the_masks_step_aside_rather_than_forbid_everything() -> None:
    vocab = Vocab()
    g = P.SectionGrammar(vocab, 1, 16, (("0M",) * 4,), 4, ("final",))
    rr = P.RhythmRules(marks=(2,), need=phrase_need(16, 4), durations=frozenset({5}))
    grammar, proc = P.GrammarProcessor(g), P.RhythmProcessor(g, rr)
    seq = [vocab["BOS_None"], vocab["Bar_None"], *[vocab["Chord_0M"]] * 4, vocab["Phrase_final"]]
    seq += [vocab["Position_14"], vocab["Pitch_60"]]
    ids: Any = torch.tensor([seq[:1]])
    scores: Any = torch.zeros(1, len(vocab))
    proc(ids, scores)  # marks the prefix
    ids = torch.tensor([seq])
    legal = grammar(ids, scores)
    out = proc(ids, legal)
    assert torch.equal(scores, torch.zeros(1, len(vocab)))  # new tensors, never edited in place
    allowed = g.allowed()[0]
    masked = np.isfinite(out[0].numpy())
    # at position 14 of a final bar no duration meets the end (8 long or 4 of rest), and none is
    # the style's 5: the rules give way and every duration the grammar allows stays
    assert masked.sum() == allowed.sum() > 0


def test_warm_start_extends_a_version_1_model(tmp_path: Path) -> None:
    from composer.generators.transformer.model import ModelConfig, new_model
    from composer.training.melody import warm_start
    from grammar.errors import SpecError

    cfg = ModelConfig(hidden=32, layers=1, heads=2, ffn=64)
    old_vocab, vocab = Vocab(1), Vocab()
    ids = (old_vocab["PAD_None"], old_vocab["BOS_None"], old_vocab["EOS_None"])
    old = new_model(cfg, len(old_vocab), *ids)
    old.save_pretrained(str(tmp_path), safe_serialization=True)
    old_vocab.save(tmp_path)
    model = new_model(cfg, len(vocab), *ids)
    warm_start(model, tmp_path, vocab)
    emb_old = old.get_input_embeddings().weight.detach()
    emb = model.get_input_embeddings().weight.detach()
    assert torch.equal(emb[: len(old_vocab)], emb_old)
    assert torch.allclose(
        emb[len(old_vocab) :], emb_old.mean(0).expand(len(vocab) - len(old_vocab), -1)
    )
    with pytest.raises(SpecError, match="--init"):
        warm_start(model, tmp_path / "missing", vocab)


def test_the_generator_honours_the_plan_with_the_shipped_model() -> None:
    from composer.generators.transformer.generator import TransformerGenerator
    from grammar.keys import parse_key

    plan = _plan(max_sixteenths=0.0, max_dotted=0.0)
    sec = Section("major", "4/4", "inner", 8, CHORDS, style=style_token("ballad"), tempo="slow",
                  phrases=phrase_marks(_section_plan(plan)))  # fmt: skip
    gen = TransformerGenerator()
    mels, bad = gen.melodies(sec, parse_key("C major"), (55, 84), (0, 960), 6, 5, plan=plan)
    assert bad == [[]] * 6
    need = phrase_need(PER_BAR, BEAT)
    for mel in mels:
        assert {o // PER_BAR for o, _, _ in mel} == set(range(8))  # a note in every bar
        assert all(d not in (1, 3) for _, d, _ in mel)
        assert all(64 <= p <= 76 for _, _, p in mel)
        for b in (3, 7):
            on, d, _ = [n for n in mel if n[0] // PER_BAR == b][-1]
            long, rest = need[2 if b == 7 else 1]
            assert d >= long or PER_BAR - on % PER_BAR - d >= rest


def test_a_slow_jazz_song_is_sung_as_a_ballad() -> None:
    from composer.generators.transformer.generator import style_token

    assert style_token("jazz", 72) == "hymn"  # a jazz ballad: the lyrical, long-note idiom
    assert style_token("jazz", 160) == "none"  # up-tempo jazz: no corpus example, the plan leads
    assert style_token("pop", 60) == "none"
    assert style_token("jig", 60) == "jig" and style_token("ballad") == "hymn"


@pytest.mark.parametrize("fused", [True, False])
def test_a_planned_section_opens_within_its_first_beat(
    tiny: tuple[object, Vocab], fused: bool
) -> None:
    """The corpus writes an anacrusis as a nearly empty first bar; with a plan, the section's
    first note starts by a quarter of the bar (here beat 2 at the latest), as in a planned jig."""
    vocab = tiny[1]
    _, rules = plan_rules(_plan(), ("in",) * 8, PER_BAR, BEAT, (55, 84), 0)
    assert rules is not None and rules.opening == PER_BAR // 4
    firsts = [vocab.decode_notes(r, "4/4")[0][0] for r in _run(tiny, _plan(), 12, fused)]
    assert max(firsts) <= PER_BAR // 4
    # the untrained model left alone starts later in some rows: the rule does the work
    assert max(vocab.decode_notes(r, "4/4")[0][0] for r in _run(tiny, None, 12, True)) > 4


def test_blue_notes_are_biased_where_idiomatic() -> None:
    vocab = Vocab()
    chords = (("07", "07", "07", "07"),)  # I7 on every beat, key-relative
    g = P.SectionGrammar(vocab, 1, 16, chords, 4, ("final",))
    proc = P.BlueNoteProcessor(g, frozenset({3, 10}), frozenset({0, 8}), 1.5)
    pcs = g.pitch_values % 12
    weak, strong = proc.ok_at(0, 2), proc.ok_at(0, 0)
    assert set(pcs[weak]) == {3, 10}  # off the strong beats: b3 and b7
    assert set(pcs[strong]) == {10}  # on one: only the b7, a tone of I7 (no strong-beat clash)
    rules = P.rules_of([proc], g)
    assert rules[0][0] == P.jit.RULE_BIAS and rules[1][0] == 1.5  # a bias, not a mask


def test_the_blue_bias_makes_blue_notes_likelier(tiny: tuple[object, Vocab]) -> None:
    model, vocab = tiny
    scale = frozenset({0, 2, 3, 4, 5, 7, 9, 10, 11})
    sec = Section("major", "4/4", "inner", 8, CHORDS, style="none", tempo="medium")
    prefix = vocab.prefix(sec)
    max_new = 8 * (2 + 4 + 3 * PER_BAR) + 1
    eos, pad = vocab["EOS_None"], vocab["PAD_None"]
    rates = []
    for blue in (None, (frozenset({3, 10}), 2.0)):
        f = P.section_fused(vocab, 8, PER_BAR, CHORDS, BEAT, pitch_range=(55, 84), scale=scale,
                            max_leap=12, temperature=1.0, top_p=1.0,
                            strong=frozenset({0, 8}), blue=blue)  # fmt: skip
        ids = sample_fused(model, prefix, 8, f, max_new, eos, pad, 5)
        ps = [p for r in ids for _, _, p in vocab.decode_notes(r.tolist(), "4/4")]
        rates.append(np.isin(np.array(ps) % 12, [3, 10]).mean())
    assert rates[1] > rates[0] + 0.1, rates
