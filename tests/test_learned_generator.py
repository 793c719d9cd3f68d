"""The learned generator with the shipped checkpoint: grammar-safe batched sampling, the masks,
the generator in the pipeline, and `compose train` (errors, a tiny resumable run)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from transformers import LogitsProcessor

from composer.generators.transformer import processors as P
from composer.generators.transformer.generator import TransformerGenerator, load, register_shift
from composer.generators.transformer.model import cache_kwargs
from composer.generators.transformer.sampling import sample
from composer.generators.transformer.sequence_check import problems
from composer.generators.transformer.tokens import Section, chord_pcs
from grammar.keys import parse_key

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "learned"
CHORDS_34 = (("0m", "0m", "0m"), ("77", "77", "77"), ("5m", "5m", "77"), ("0m", "0m", "0m"))


@pytest.fixture(scope="module", autouse=True)
def _threads() -> None:
    torch.set_num_threads(1)


def _sample(
    rows: int, seed: int, chord_tones: bool = False, fast: bool = True, extra: object = None
) -> tuple[list[list[int]], object]:
    model, vocab = load()
    if not fast:  # model.forward: the transformers model itself
        model = _hf_model()
    sec = Section("minor", "3/4", "inner", 4, CHORDS_34)
    g = P.SectionGrammar(vocab, rows, 12, sec.chords, 4)
    procs = [
        P.GrammarProcessor(g),
        P.PitchRangeProcessor(g, 62, 79),
        P.KeyProcessor(g, frozenset({0, 2, 3, 5, 7, 8, 10, 9, 11})),
        P.LeapProcessor(g, 7),
    ]
    if chord_tones:
        procs.append(P.ChordToneProcessor(g, frozenset({0})))
        floor = np.full(48, -1)
        floor[12:24] = 70  # bar 2: nothing below 70
        procs.append(P.FloorProcessor(g, floor))
    if extra is not None:
        procs.append(extra)
    eos, pad = vocab["EOS_None"], vocab["PAD_None"]
    ids = sample(model, vocab.prefix(sec), rows, procs, 165, eos, pad, seed, fast)
    return [r.tolist() for r in ids], vocab


def _hf_model() -> object:
    from composer.generators.transformer.model import CHECKPOINT, load_model

    return load_model(CHECKPOINT)


class _Identity(LogitsProcessor):
    """A processor of the caller's own: the sampler cannot fuse it and calls it every step."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.Tensor:
        self.calls += 1
        return scores


@pytest.mark.parametrize("path", ["compiled", "decoder + processors", "forward"])
def test_batched_samples_are_valid_and_exact(path: str) -> None:
    extra = _Identity() if path != "compiled" else None
    rows, vocab = _sample(8, 0, chord_tones=True, fast=path != "forward", extra=extra)
    if extra is not None:
        assert extra.calls > 40  # it ran at every step
    scale = {0, 2, 3, 5, 7, 8, 10, 9, 11}
    for ids in rows:
        assert problems(vocab, ids, CHORDS_34, 12) == []  # type: ignore[arg-type]
        notes = vocab.decode_notes(ids, "3/4")  # type: ignore[attr-defined]
        assert {o // 12 for o, _, _ in notes} == {0, 1, 2, 3}  # a note in each of the 4 bars
        assert max(o + d for o, d, _ in notes) <= 48
        pitches = [p for _, _, p in notes]
        assert all(62 <= p <= 79 for p in pitches)
        assert all(abs(a - b) <= 7 for a, b in itertools.pairwise(pitches))
        for o, _, p in notes:
            chord = CHORDS_34[o // 12][(o % 12) // 4]
            assert p % 12 in scale | chord_pcs(chord)
            if o % 12 == 0:  # the chord-tone mask on the downbeat
                assert p % 12 in chord_pcs(chord)
            if 12 <= o < 24:
                assert p >= 70  # the floor


def test_sampling_is_deterministic_and_varied() -> None:
    a, _ = _sample(4, 5)
    b, _ = _sample(4, 5)
    c, _ = _sample(4, 6)
    assert a == b
    assert a != c
    assert len({tuple(r) for r in a}) > 1  # the rows of a batch differ


def test_fast_decoder_gives_the_models_logits() -> None:
    """Prefill (our own forward pass on the safetensors weights) is bit for bit the
    transformers model's; each compiled step within 1e-4 of its forward with a cache."""
    from transformers import DynamicCache

    from composer.generators.transformer.decoder import FastDecoder

    model, weights = _hf_model(), load()[0]
    ids = torch.randint(3, 300, (3, 12), generator=torch.Generator().manual_seed(0))
    dec = FastDecoder(weights, 3, 20)
    cache = DynamicCache()
    with torch.inference_mode():
        ref = model(input_ids=ids, **cache_kwargs(model, cache)).logits[:, -1]  # type: ignore[operator]
        np.testing.assert_array_equal(dec.prefill(ids), ref.numpy())
        for i, layer in enumerate(cache.layers):
            kv: Any = layer
            keys = kv.keys.numpy().transpose(0, 1, 3, 2)
            np.testing.assert_array_equal(dec.keys[i, :, :, :, :12], keys)
            np.testing.assert_array_equal(dec.values[i, :, :, :12], kv.values.numpy())
        for t in (5, 77, 120, 3):
            tok = torch.tensor([t, t + 1, t + 2])
            ref = model(input_ids=tok[:, None], **cache_kwargs(model, cache)).logits  # type: ignore[operator]
            np.testing.assert_allclose(dec.step(tok.numpy()), ref[:, -1].numpy(), atol=1e-4)
        with pytest.raises(ValueError, match="holds 20 positions"):
            for _ in range(5):
                dec.step(tok.numpy())


def test_rotary_tables_are_the_models() -> None:
    from composer.generators.transformer.decoder import rotary_tables

    model, weights = _hf_model(), load()[0]
    inner: Any = model.model  # type: ignore[attr-defined]
    with torch.no_grad():
        cos, sin = inner.rotary_emb(inner.embed_tokens.weight[:1][None], torch.arange(300)[None])
    got = rotary_tables(weights, 300)
    np.testing.assert_array_equal(got[0].numpy(), cos[0].numpy())
    np.testing.assert_array_equal(got[1].numpy(), sin[0].numpy())


def test_weights_from_the_model_decode_the_same() -> None:
    """A transformers model passed to the decoder (tests, benchmarks, training) gives the same
    logits as the weights read from model.safetensors."""
    from composer.generators.transformer.decoder import FastDecoder

    ids = torch.randint(3, 300, (2, 9), generator=torch.Generator().manual_seed(2))
    a, b = FastDecoder(_hf_model(), 2, 12), FastDecoder(load()[0], 2, 12)
    np.testing.assert_array_equal(a.prefill(ids), b.prefill(ids))
    np.testing.assert_array_equal(a.step(np.array([4, 5])), b.step(np.array([4, 5])))


def test_fast_decoder_steps_only_the_rows_still_writing() -> None:
    from composer.generators.transformer.decoder import FastDecoder

    model, _ = load()
    ids = torch.randint(3, 300, (4, 10), generator=torch.Generator().manual_seed(1))
    full, part = FastDecoder(model, 4, 16), FastDecoder(model, 4, 16)
    full.prefill(ids)
    part.prefill(ids)
    for k, tokens in enumerate(([7, 8, 9, 10], [11, 12, 13, 14], [15, 16, 17, 18])):
        want = full.step(np.array(tokens))[[1, 3]]
        if k == 0:  # all rows write the first token, then rows 0 and 2 have finished
            got = part.step(np.array(tokens))[[1, 3]]
        else:
            got = part.step(np.array(tokens)[[1, 3]], np.array([1, 3]))
        np.testing.assert_allclose(got, want, atol=1e-4)


def test_the_compiled_draw_is_the_processors_distribution() -> None:
    """At every step of a walk through the grammar, the fused step's distribution equals the
    softmax of what the LogitsProcessors (grammar, range, key, leaps, floor, chord-tone bias,
    temperature, top-p) leave, row by row."""
    from composer.generators.transformer import jit

    _, vocab = load()
    rows = 6
    floor = np.full(48, -1)
    floor[12:30] = 67
    procs = P.section_processors(
        vocab, rows, 12, CHORDS_34, 4, pitch_range=(60, 79),
        scale=frozenset({0, 2, 3, 5, 7, 8, 10}), max_leap=7, temperature=0.8, top_p=0.9,
        floor=floor, strong=frozenset({0, 4}), chord_bias=1.5,
    )  # fmt: skip
    fused = P.fuse(procs)
    assert fused is not None and fused.temperature == 0.8 and fused.top_p == 0.9
    assert [int(m) for m in fused.rules[0]] == [jit.RULE_MASK] * 2 + [jit.RULE_LEAP] + [
        jit.RULE_MASK, jit.RULE_BIAS]  # fmt: skip
    gen = torch.Generator().manual_seed(3)
    seq = torch.full((rows, 3), vocab["BOS_None"])
    states = set()
    for _ in range(70):
        logits = torch.randn(rows, len(vocab), generator=gen) * 3
        scores = logits
        for proc in procs:
            scores = proc(seq, scores)
        want = torch.softmax(scores, dim=-1).numpy()
        got = np.zeros((rows, len(vocab)))
        jit.probs_all(logits.numpy(), fused.grammar.st, fused.grammar.tables, fused.rules,
                      fused.temperature, fused.top_p, got)  # fmt: skip
        np.testing.assert_allclose(got, want, atol=1e-5)
        states.update(int(s) for s in fused.grammar.state)
        nxt = torch.multinomial(torch.from_numpy(want), 1, generator=gen)
        seq = torch.cat([seq, nxt], dim=1)
    assert {jit.S_CHORD, jit.S_PITCH, jit.S_DUR, jit.S_NEXT} <= states


def test_fuse_declines_what_it_cannot_compile() -> None:
    _, vocab = load()
    procs = P.section_processors(vocab, 2, 16, (("0M",) * 4,), 4, pitch_range=(60, 72),
                                 scale=frozenset({0, 2, 4, 5, 7, 9, 11}), max_leap=12,
                                 temperature=1.0, top_p=0.95)  # fmt: skip
    assert P.fuse(procs) is not None
    assert P.fuse([*procs, _Identity()]) is None  # a processor of the caller's own
    assert P.fuse([procs[0], procs[-1], procs[-2]]) is None  # top-p before temperature
    assert P.fuse(procs[1:]) is None  # no grammar first


def test_the_draw_inverts_the_cumulative_distribution() -> None:
    from composer.generators.transformer import jit

    _, vocab = load()
    procs = P.section_processors(vocab, 1, 16, (("0M",) * 4,), 4, pitch_range=(60, 72),
                                 scale=frozenset({0, 2, 4, 5, 7, 9, 11}), max_leap=12,
                                 temperature=1.0, top_p=1.0)  # fmt: skip
    fused = P.fuse(procs)
    assert fused is not None
    g = fused.grammar
    for tok in ("Bar_None", "Chord_0M", "Chord_0M", "Chord_0M", "Chord_0M"):
        jit.advance(g.st, 0, vocab[tok], g.tables)
    logits = np.zeros((1, len(vocab)), dtype=np.float32)  # every allowed position equally likely
    positions = np.flatnonzero(g.allowed()[0])
    assert len(positions) == 16
    for u, want in ((0.0, 0), (0.5 - 1e-9, 7), (0.5 + 1e-9, 8), (1.0 - 1e-9, 15)):
        st = g.st.copy()
        out = np.zeros(1, dtype=np.int64)
        jit.draw_rows(logits, np.array([0]), st, g.tables, fused.rules, 1.0, 1.0,
                      np.array([u]), out)  # fmt: skip
        assert out[0] == positions[want]
        assert st[0, jit.ST_STATE] == jit.S_PITCH


def test_processors_never_edit_logits_in_place() -> None:
    _, vocab = load()
    g = P.SectionGrammar(vocab, 2, 16, (("0M",) * 4,), 4)
    scores = torch.randn(2, len(vocab))
    before = scores.clone()
    ids = torch.tensor([[vocab["BOS_None"]], [vocab["BOS_None"]]])
    out = P.GrammarProcessor(g)(ids, scores)
    assert torch.equal(scores, before)
    assert torch.isfinite(out).sum(dim=1).tolist() == [1, 1]  # only Bar_None may open a section
    assert int(out[0].argmax()) == vocab["Bar_None"]


def test_pitch_masks_step_aside_rather_than_forbid_everything() -> None:
    _, vocab = load()
    g = P.SectionGrammar(vocab, 1, 16, (("0M",) * 4,), 4)
    g.update(torch.tensor([[vocab["BOS_None"]]]))
    g.update(torch.tensor([[vocab["BOS_None"], vocab["Bar_None"]] + [vocab["Chord_0M"]] * 4
                           + [vocab["Position_0"]]]))  # fmt: skip
    scores = P.GrammarProcessor(g)(torch.zeros(1, 1, dtype=torch.long), torch.zeros(1, len(vocab)))
    empty = P.PitchRangeProcessor(g, 200, 300)(torch.zeros(1, 1, dtype=torch.long), scores)
    assert torch.equal(torch.isfinite(empty), torch.isfinite(scores))  # no pitch is in range
    narrow = P.PitchRangeProcessor(g, 60, 62)(torch.zeros(1, 1, dtype=torch.long), scores)
    assert int(torch.isfinite(narrow).sum()) == 3


def test_chord_tone_bias_adds_not_masks() -> None:
    _, vocab = load()
    g = P.SectionGrammar(vocab, 1, 16, (("0M",) * 4,), 4)
    g.update(torch.tensor([[vocab["BOS_None"]]]))
    opened = [vocab["BOS_None"], vocab["Bar_None"]] + [vocab["Chord_0M"]] * 4
    g.update(torch.tensor([[*opened, vocab["Position_0"]]]))
    scores = torch.zeros(1, len(vocab))
    out = P.ChordToneProcessor(g, frozenset({0}), bias=1.0)(torch.zeros(1, 1), scores)
    assert torch.equal(scores, torch.zeros(1, len(vocab)))
    assert float(out[0, vocab["Pitch_64"]]) == 1.0  # E: a tone of C
    assert float(out[0, vocab["Pitch_65"]]) == 0.0  # F: still possible, not favoured


def test_register_shift_centres_the_range() -> None:
    shift = register_shift(parse_key("Eb major"), 62, 81)
    assert shift % 12 == 3
    assert 60 <= (62 + 81) / 2 - shift <= 80


def _song(generator: str, **extra: object) -> object:
    from composer.app import api

    spec = {"form": "A A' B A", "prompt": "a folk song in D minor, 3/4", "seed": 4,
            "candidates": 4, "generator": generator, "sections": {"A": {"bars": 4}},
            **extra}  # fmt: skip
    return api.compose(spec)


def test_transformer_in_the_pipeline() -> None:
    from kernels.notes import TRACK_MELODY

    song = _song("transformer")
    r = song.report  # type: ignore[attr-defined]
    assert r.generator == "transformer"
    assert [s.bars for s in r.sections] == [4, 4, 8, 4]
    hard = {"out_of_key", "melody_range", "melody_overlap", "large_leaps", "empty_bars"}
    for s in r.sections:
        assert all(s.violations[k] == 0 for k in hard), (s.id, s.violations)
    notes = song.notes  # type: ignore[attr-defined]
    mel = notes[notes["track"] == TRACK_MELODY]
    assert mel.size and set(np.unique(notes["track"])) == {0, 1, 2, 3}  # folk has drums


def test_unsupported_meter_falls_back_to_rules() -> None:
    from composer.app.api import plan
    from composer.generators.base import GenerationContext

    lead = plan({"form": "A", "time_signature": "4/8", "seed": 1})
    sect = lead.plan.sections[0]  # type: ignore[attr-defined]
    out = TransformerGenerator().generate(
        sect,
        GenerationContext(lead.plan),
        2,
        np.random.default_rng(0),  # type: ignore[attr-defined]
    )
    assert out and all("rules" in s.provenance["fallback"] for s in out)


def _compose(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "composer.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        timeout=300,
    )


def test_compose_cli_with_the_transformer(tmp_path: Path) -> None:
    out = tmp_path / "song.mid"
    p = _compose("--form", "AB", "--generator", "transformer", "--candidates", "2", "--seed", "3",
                 "-q", "-o", str(out))  # fmt: skip
    assert p.returncode == 0, p.stderr
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["generator"] == "transformer"
    assert "transformer" in _compose("generators").stdout.split()


def test_train_missing_data_is_one_line_exit_2(tmp_path: Path) -> None:
    p = _compose("train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "ck"))
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [f"error: data: no such folder '{tmp_path / 'nope'}'"]
    assert not (tmp_path / "ck").exists()


def test_train_on_own_data_needs_an_out_folder(tmp_path: Path) -> None:
    from composer.generators.transformer.model import CHECKPOINT

    before = (CHECKPOINT / "model.safetensors").stat().st_mtime_ns
    p = _compose("train", "--data", str(FIXTURES))
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "error: out: --data needs --out: name a new checkpoint folder for this model"
    ]
    assert (CHECKPOINT / "model.safetensors").stat().st_mtime_ns == before


def test_train_on_a_folder_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from composer.generators.transformer.model import ModelConfig
    from composer.training.melody import TrainConfig, train

    monkeypatch.setenv("SONGC_CACHE", str(tmp_path / "cache"))
    tiny = ModelConfig(hidden=32, layers=1, heads=2, ffn=64)
    cfg = TrainConfig(out=tmp_path / "ck", data=FIXTURES, steps=2, eval_every=1, workers=1,
                      threads=1, batch_tokens=1024, model=tiny)  # fmt: skip
    m1 = train(cfg, resume=True)
    assert m1["steps"] == 2 and len(m1["log"]) == 2
    assert m1["sections"]["valid"] >= 1 and m1["sections"]["test"] >= 1
    from dataclasses import replace

    m2 = train(replace(cfg, steps=3), resume=True)
    assert [e["step"] for e in m2["log"]] == [1, 2, 3]  # continued, not restarted
    saved = json.loads((tmp_path / "ck" / "training.json").read_text())
    assert saved["test_perplexity"] == pytest.approx(np.exp(saved["test_loss"]))
    assert (tmp_path / "ck" / "model.safetensors").exists()
    assert (tmp_path / "ck" / "vocab.json").exists()
