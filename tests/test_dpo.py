"""DPO of the melody model (composer/training/dpo.py, align.py): the loss by hand, one round on a
tiny model, KL, pairs, and `compose align`'s bad arguments."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from composer.training.dpo import (
    Pair,
    Sample,
    choice_mask,
    dpo_loss,
    kl_estimate,
    make_pair,
    sequence_logprobs,
)

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

VOCAB = 12
PAD = 0
GIVEN = np.zeros(VOCAB, dtype=bool)
GIVEN[[1, 3]] = True  # two "given" kinds of token (conditioning, chords): never counted


def _tiny(seed: int = 0):  # type: ignore[no-untyped-def]
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=VOCAB, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=64,
        pad_token_id=PAD, bos_token_id=1, eos_token_id=2,
    )  # fmt: skip
    model = LlamaForCausalLM(cfg)
    model.eval()
    return model


def test_the_loss_and_its_gradient_on_known_log_probs() -> None:
    pc = torch.tensor([-1.0], requires_grad=True)
    pr = torch.tensor([-2.0], requires_grad=True)
    rc, rr = torch.tensor([-1.5]), torch.tensor([-1.5])
    loss, stats = dpo_loss(pc, pr, rc, rr, beta=0.5)
    z = 0.5 * ((-1.0 + 1.5) - (-2.0 + 1.5))  # 0.5
    assert float(loss.detach()) == pytest.approx(math.log1p(math.exp(-z)), abs=1e-6)  # 0.474077
    loss.backward()
    sig = 1 / (1 + math.exp(z))  # d/dz -log sigmoid(z) = -sigmoid(-z)
    assert pc.grad is not None and pr.grad is not None
    assert float(pc.grad) == pytest.approx(-0.5 * sig, abs=1e-6)  # raise the chosen
    assert float(pr.grad) == pytest.approx(0.5 * sig, abs=1e-6)  # lower the rejected
    assert stats["accuracy"] == 1.0
    assert stats["chosen_reward"] == pytest.approx(0.25)
    assert stats["rejected_reward"] == pytest.approx(-0.25)
    # no preference yet (policy == reference): log 2
    same, _ = dpo_loss(rc, rr, rc, rr, beta=0.1)
    assert float(same) == pytest.approx(math.log(2))


def test_the_sft_term_adds_the_chosen_nll_per_token() -> None:
    pc = torch.tensor([-4.0, -6.0], requires_grad=True)
    pr = torch.tensor([-5.0, -5.0])
    rc, rr = torch.tensor([-4.5, -5.5]), torch.tensor([-4.5, -5.5])
    count = torch.tensor([2.0, 3.0])
    plain, st = dpo_loss(pc, pr, rc, rr, beta=0.5, chosen_tokens=count)
    rpo, st2 = dpo_loss(pc, pr, rc, rr, beta=0.5, sft=0.7, chosen_tokens=count)
    nll = (4.0 / 2 + 6.0 / 3) / 2  # mean of per-token NLLs: 2.0
    assert st["nll"] == pytest.approx(nll) and st2["nll"] == pytest.approx(nll)
    assert float(rpo.detach()) == pytest.approx(float(plain.detach()) + 0.7 * nll, abs=1e-6)
    rpo.backward()
    grad_plain = torch.autograd.grad(dpo_loss(pc, pr, rc, rr, 0.5)[0], pc)[0]
    assert pc.grad is not None  # the NLL raises every chosen a further 0.7 / 2 / tokens
    want = grad_plain - torch.tensor([0.7 / 2 / 2, 0.7 / 2 / 3])
    assert torch.allclose(pc.grad, want, atol=1e-6)


def test_chosen_token_counts_match_the_mask() -> None:
    from composer.training.dpo import choice_counts

    seqs = [((1, 4), (3, 5, 6, 2)), ((1, 7, 8), (5, 2)), ((1,), (3, 3, 2))]
    assert choice_counts(seqs, GIVEN).tolist() == [3.0, 2.0, 1.0]


def test_log_probs_stay_on_the_asked_device() -> None:
    # no GPU here: a stand-in model on the "meta" device (shapes only; an op mixing it with a
    # CPU tensor raises) checks that the --device path moves every tensor it makes there
    from types import SimpleNamespace

    seen: list[str] = []

    def model(input_ids, attention_mask):  # type: ignore[no-untyped-def]
        seen.extend([input_ids.device.type, attention_mask.device.type])
        return SimpleNamespace(logits=torch.zeros((*input_ids.shape, VOCAB), device="meta"))

    seqs = [((1, 4), (3, 5, 6, 2)), ((1, 7, 8), (5, 2))]
    lp = sequence_logprobs(model, seqs, GIVEN, PAD, device="meta")
    assert seen == ["meta", "meta"] and lp.device.type == "meta" and lp.shape == (2,)


def test_pairs_are_best_against_worst_above_the_margin() -> None:
    s = [Sample((5, 2), 0.4), Sample((6, 2), 0.9), Sample((7, 2), 0.1), Sample((8, 2), 0.9)]
    pair = make_pair((1, 4), s, margin=0.5)
    assert pair == Pair((1, 4), (6, 2), (7, 2), pytest.approx(0.8))  # tie: the earlier best
    assert make_pair((1, 4), s, margin=0.81) is None
    assert make_pair((1,), s[:1], margin=0.0) is None
    assert make_pair((1,), [Sample((5,), 0.9), Sample((5,), 0.1)], margin=0.0) is None


def test_several_pairs_are_disjoint_and_keep_the_margin() -> None:
    from composer.training.dpo import make_pairs

    utilities = (0.5, 0.9, 0.1, 0.6, 0.45, 0.2)
    s = [Sample((k, 2), u) for k, u in zip(range(3, 9), utilities, strict=True)]
    pairs = make_pairs((1,), s, margin=0.3, most=3)
    # ranked 0.9, 0.6, 0.5, 0.45, 0.2, 0.1: (0.9, 0.1), (0.6, 0.2); (0.5, 0.45) is too close
    assert [(p.chosen[0], p.rejected[0]) for p in pairs] == [(4, 5), (6, 8)]
    assert make_pairs((1,), s, margin=0.0, most=9)[2].margin == pytest.approx(0.05)


def test_only_chosen_tokens_after_the_prefix_count() -> None:
    ids = np.array([1, 4, 3, 5, 6, 2])
    assert choice_mask(ids, 2, GIVEN).tolist() == [0, 0, 0, 1, 1, 1]


def test_sequence_log_probs_by_hand_and_independent_of_padding() -> None:
    model = _tiny()
    seqs = [((1, 4), (3, 5, 6, 2)), ((1, 7, 8), (5, 2))]
    got = sequence_logprobs(model, seqs, GIVEN, PAD).detach().numpy()
    for k, (p, c) in enumerate(seqs):
        ids = torch.tensor([[*p, *c]])
        with torch.no_grad():
            logp = torch.log_softmax(model(input_ids=ids).logits[0], -1)
        want = sum(
            float(logp[t - 1, ids[0, t]])
            for t in range(len(p), ids.shape[1])
            if not GIVEN[int(ids[0, t])]
        )
        assert got[k] == pytest.approx(want, abs=1e-5)
        alone = sequence_logprobs(model, [seqs[k]], GIVEN, PAD).detach().numpy()[0]
        assert alone == pytest.approx(got[k], abs=1e-5)


def test_kl_of_the_reference_against_itself_is_zero() -> None:
    from composer.training.align import logprobs

    ref, copy = _tiny(), _tiny()  # the same weights, two objects
    seqs = [((1, 4), (5, 6, 2)), ((1, 4), (7, 2)), ((1,), (8, 9, 10, 2))]
    a, b = logprobs(ref, seqs, GIVEN, PAD, "cpu"), logprobs(copy, seqs, GIVEN, PAD, "cpu")
    assert kl_estimate(a, b) == 0.0
    other = _tiny(seed=1)
    assert kl_estimate(logprobs(other, seqs, GIVEN, PAD, "cpu"), b) != 0.0


def test_one_round_moves_the_policy_toward_the_chosen() -> None:
    from composer.training.align import AlignConfig, logprobs, train_round

    ref, policy = _tiny(), _tiny()
    for p in ref.parameters():
        p.requires_grad_(False)
    pairs = [
        Pair((1, 4), (5, 6, 2), (7, 8, 2), 0.5),
        Pair((1, 9), (6, 6, 2), (8, 7, 2), 0.5),
        Pair((1, 4, 3), (5, 5, 2), (10, 11, 2), 0.5),
    ]
    chosen = [(p.prefix, p.chosen) for p in pairs]
    rejected = [(p.prefix, p.rejected) for p in pairs]

    def margin(model) -> np.ndarray:  # type: ignore[no-untyped-def]
        return logprobs(model, chosen, GIVEN, PAD, "cpu") - logprobs(
            model, rejected, GIVEN, PAD, "cpu"
        )

    before = margin(policy)
    cfg = AlignConfig(out=Path("unused"), lr=1e-2, epochs=3, batch_pairs=2, beta=0.5)
    opt = torch.optim.AdamW(policy.parameters(), lr=cfg.lr, weight_decay=0.0)
    loss, acc = train_round(policy, ref, opt, pairs, cfg, GIVEN, PAD, np.random.default_rng(0))
    after = margin(policy)
    assert (after > before).all(), (before, after)  # log pi(chosen)/pi(rejected) went up
    assert loss < math.log(2) and acc == 1.0
    assert (margin(ref) == before).all()  # the reference is frozen


@pytest.mark.parametrize(
    ("args", "word"),
    [
        (["--checkpoint", "no/such/model"], "checkpoint"),
        (["--beta", "0"], "--beta"),
        (["--beta", "-1"], "--beta"),
        (["--rounds", "0"], "--rounds"),
        (["--candidates", "1"], "--candidates"),
        (["--sft", "-1"], "--sft"),
        (["--tolerance", "-1"], "--tolerance"),
        (["--device", "tpu"], "--device"),
    ],
)
def test_bad_arguments_are_one_line_exit_2(
    args: list[str], word: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from composer.cli import main

    out = tmp_path / "aligned"
    assert main(["align", "--out", str(out), *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and word in lines[0], lines
    assert not out.exists()


def test_an_existing_output_or_the_input_is_never_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from composer.cli import main
    from composer.generators.transformer.model import CHECKPOINT

    out = tmp_path / "aligned"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["align", "--out", str(out)]) == 2
    assert "exists" in capsys.readouterr().err and (out / "keep.txt").read_text() == "mine"
    assert main(["align", "--out", str(CHECKPOINT), "--force"]) == 2
    assert "input checkpoint" in capsys.readouterr().err


def test_cuda_asked_without_one_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    from composer.cli import main

    if torch.cuda.is_available():
        pytest.skip("a GPU is visible here")
    assert main(["align", "--out", "x", "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--device" in err and "CUDA" in err


def _tiny_run(out: Path):  # type: ignore[no-untyped-def]
    from composer.training.align import AlignConfig, align

    cfg = AlignConfig(
        out=out, rounds=1, specs=1, examples=False, per_song=1, candidates=3, epochs=1,
        margin=0.0, lr=1e-3, tolerance=10.0, seed=5,
    )  # fmt: skip
    return align(cfg)


@pytest.fixture(scope="module")
def aligned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("align") / "model"
    return out, _tiny_run(out)


def test_a_tiny_run_logs_every_round_and_its_checkpoint_composes(
    aligned: tuple[Path, dict], tmp_path: Path
) -> None:
    from composer.cli import main
    from composer.generators.transformer.user_model import check_checkpoint

    out, res = aligned
    assert [r["round"] for r in res["rounds"]] == [0, 1] and res["kept_round"] == 1
    r0, r1 = res["rounds"]
    assert r0["kl"] == 0.0 and r0["pairs"] == 1 and r0["loss"] is not None
    assert r1["kl"] != 0.0  # the policy moved
    for key in ("reward", "hard", "diversity", "held_out_score", "best_reward"):
        assert np.isfinite(r1[key])
    assert set(r1["held_out"]) >= {"interval_overlap", "rhythm_overlap", "entropy_gap"}
    assert "## Alignment (DPO)" in (out / "README.md").read_text()
    assert json_of(out / "align.json")["rounds"] == res["rounds"]
    check_checkpoint(out)  # loads with this version's vocabulary
    spec = tmp_path / "s.yaml"
    spec.write_text("form: AB\nseed: 3\ncandidates: 2\nsections: {A: {bars: 2}, B: {bars: 2}}\n")
    song = tmp_path / "song.mid"
    args = ["--spec", str(spec), "-q", "--generator", "transformer", "--checkpoint", str(out)]
    assert main([*args, "-o", str(song)]) == 0
    assert json_of(song.with_suffix(".json"))["checkpoint"] == str(out.resolve())


def json_of(path: Path) -> dict:
    import json

    data: dict = json.loads(path.read_text())
    return data


@pytest.mark.slow
def test_one_thread_gives_the_same_bytes(aligned: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = aligned
    again = tmp_path / "again"
    _tiny_run(again)
    assert (again / "model.safetensors").read_bytes() == (out / "model.safetensors").read_bytes()
    assert (again / "config.json").read_bytes() == (out / "config.json").read_bytes()


def test_a_profile_is_scored_as_the_search_scores_it(tmp_path: Path) -> None:
    from composer.training.align_data import contexts, random_specs

    me = tmp_path / "me.yaml"
    me.write_text("weights: {novelty: 5, groove: 0}\n")
    spec = random_specs(1, 0)
    plain, mine = contexts(spec, None, 1)[0], contexts(spec, str(me), 1)[0]
    assert mine.weights["groove"] == 0 and plain.weights["groove"] > 0
    assert mine.weights["novelty"] != plain.weights["novelty"]


def test_an_unknown_listener_is_one_line_naming_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from composer.cli import main

    monkeypatch.setenv("SONGC_HOME", str(tmp_path / "home"))
    out = tmp_path / "aligned"
    args = ["align", "--out", str(out), "--specs", "1", "--no-examples", "--profile", "nobody"]
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --profile: "), lines
    assert "nobody" in lines[0] and not out.exists()


def test_samples_are_drawn_with_the_v2_conditioning_and_the_melody_plan() -> None:
    # the contexts are planned through the melody pass, so the sampler gets the plan's masks and
    # the prefix / phrase tokens are those `compose` conditions the model on
    from composer.generators.transformer.generator import load, phrase_marks
    from composer.generators.transformer.model import CHECKPOINT
    from composer.training.align_data import contexts, random_specs, sample_contexts

    ctx = contexts(random_specs(1, 0), None, 1)[0]
    assert ctx.section.melody is not None and ctx.section.melody.phrases
    s = sample_contexts(CHECKPOINT, [ctx], 2, 0)[0]
    _, vocab = load(CHECKPOINT)
    names = {i: t for t, i in vocab.ids.items()}
    if vocab.version < 2:
        pytest.skip("the shipped model is vocabulary version 1")
    kinds = [names[i].split("_")[0] for i in s.prefix]
    assert {"Style", "Tempo", "Energy"} <= set(kinds)
    for c in s.completions:
        marks = [names[i].split("_", 1)[1] for i in c if names[i].startswith("Phrase_")]
        assert tuple(marks) == phrase_marks(ctx.section)
