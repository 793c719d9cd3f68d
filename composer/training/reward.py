"""``compose train-reward``: build the preference pairs, fit the reward model, write it.

    python -m composer.training.reward [--seed 0] [--output FILE]   (default: the shipped file)

Bradley-Terry: P(a preferred to b) = sigmoid(r(a) - r(b)) for the MLP's logit r; the loss is
the mean of -log P over the training pairs, each kind weighted equally. Training is full-batch
Adam in float64 on one CPU thread with weights initialised from a numpy Generator, so the same
seed writes the same file bit for bit. Pieces are split by
:func:`composer.eval.metrics.corpus_split`; the model trains on the train split and reports
pairwise accuracy per kind on the test split (and the valid split) in the file's ``meta``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from composer.reward_model import INPUTS, MODEL_PATH, RewardModel, model_inputs
from composer.training.reward_corpus import load_chorales
from composer.training.reward_pairs import KINDS, Pairs, corpus_pairs, ranked_pairs
from planners.styles import STYLES


@dataclass(frozen=True)
class RewardConfig:
    """What ``compose train-reward`` builds and fits; the defaults write the shipped file."""

    seed: int = 0  # pairs and initial weights; the same seed writes the same file bit for bit
    limit: int | None = None  # read at most this many chorales (quick runs)
    hidden: int = 32  # enough for ~60 inputs; more overfits the few thousand train pairs
    epochs: int = 600
    learning_rate: float = 0.01
    weight_decay: float = 1e-4
    # rule-ranked pairs: the rules generator's candidates in every style x form, per seed
    rule_styles: tuple[str, ...] = tuple(STYLES)
    rule_forms: tuple[str, ...] = ("AABA", "ABAC")
    train_seeds: tuple[int, ...] = (0, 1, 2)
    test_seeds: tuple[int, ...] = (1000,)  # rule-ranked pairs from other seeds are held out
    candidates: int = 16


@dataclass(frozen=True)
class Trained:
    model: RewardModel
    accuracy: dict[str, dict[str, float]]  # split -> kind -> pairwise accuracy
    counts: dict[str, dict[str, int]]  # split -> kind -> pairs


def rule_pairs(
    cfg: RewardConfig, seeds: tuple[int, ...], split: str, rng: np.random.Generator
) -> Pairs:
    """Pairs of rules-generator candidates ranked by the rule rewards (no learned term), over
    every style and form of ``cfg`` (rule_styles x rule_forms), for each of ``seeds``."""
    from composer.generators.base import GenerationContext
    from composer.generators.registry import get_generator
    from composer.pipeline import compile_song
    from composer.search.batch import check
    from composer.search.rewards import RELATIONS, resolve_weights, score, target_features
    from grammar.spec import validate_spec
    from planners.seeding import rng_for

    better, worse = [], []
    for style in cfg.rule_styles:
        for form in cfg.rule_forms:
            for seed in seeds:
                spec = validate_spec({"form": form, "style": style, "seed": seed})
                plan = compile_song(spec, stop_after="harmony").need_plan()
                gen = get_generator("rules")
                weights = resolve_weights(style, None, {"learned": 0.0})
                meter = plan.meter()
                for sect in plan.sections:
                    if sect.relation != "new":
                        continue
                    cands = gen.generate(
                        sect,
                        GenerationContext(plan),
                        cfg.candidates,
                        rng_for(seed, "train", sect.id),
                    )
                    result = check(cands, sect, plan)
                    totals = []
                    for i in range(len(cands)):
                        f = result.feature_dict(i)
                        f.update(
                            ctx_beats_per_bar=float(meter.bar_ticks // meter.beat_ticks),
                            **target_features(STYLES[style]),
                            ctx_relation=float(RELATIONS.index("new")),
                        )
                        totals.append(score(f, sect, weights)["total"])
                    x = model_inputs(result.features, sect.key_obj().tonic)
                    b, w = ranked_pairs(x, np.array(totals), rng)
                    better.append(b)
                    worse.append(w)
    return Pairs("rule_ranked", split, np.concatenate(better), np.concatenate(worse))


def fit(train: list[Pairs], cfg: RewardConfig, log: Callable[[str], None] = print) -> RewardModel:
    """Bradley-Terry fit of the MLP on ``train`` pairs (kinds weighted equally)."""
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    xs = np.concatenate([np.concatenate([p.better, p.worse]) for p in train])
    mean = xs.mean(axis=0)
    std = xs.std(axis=0) + 1e-6
    hidden = cfg.hidden
    rng = np.random.default_rng(cfg.seed)
    w1 = rng.normal(0, 1 / np.sqrt(len(INPUTS)), (hidden, len(INPUTS)))
    w2 = rng.normal(0, 1 / np.sqrt(hidden), hidden)
    params = [
        torch.tensor(w1, requires_grad=True),
        torch.zeros(hidden, dtype=torch.float64, requires_grad=True),
        torch.tensor(w2, requires_grad=True),
    ]
    a = torch.tensor(np.concatenate([(p.better - mean) / std for p in train]))
    b = torch.tensor(np.concatenate([(p.worse - mean) / std for p in train]))
    weight = torch.tensor(
        np.concatenate([np.full(len(p.better), 1.0 / len(p.better)) for p in train])
    ) / len(train)
    opt = torch.optim.Adam(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)

    def r(x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x @ params[0].T + params[1]) @ params[2]

    for epoch in range(cfg.epochs):
        opt.zero_grad()
        loss = (weight * torch.nn.functional.softplus(r(b) - r(a))).sum()
        loss.backward()
        opt.step()
        if epoch % 100 == 0 or epoch == cfg.epochs - 1:
            log(f"epoch {epoch}: loss {loss.item():.4f}")
    w1n, b1n, w2n = (p.detach().numpy().copy() for p in params)
    model = RewardModel(mean, std, w1n, b1n, w2n, 0.0, 0.0, 1.0, {})
    logits = model.logits(xs)
    return RewardModel(mean, std, w1n, b1n, w2n, 0.0, float(logits.mean()), float(logits.std()), {})


def accuracy(model: RewardModel, pairs: Pairs) -> float:
    """Share of pairs whose preferred side gets the higher logit (ties count half)."""
    da = model.logits(pairs.better) - model.logits(pairs.worse)
    return float(((da > 0).sum() + 0.5 * (da == 0).sum()) / max(1, len(da)))


def train(cfg: RewardConfig | None = None, log: Callable[[str], None] = print) -> Trained:
    """Build every pair, fit on the train split, measure on valid and test."""
    cfg = cfg or RewardConfig()
    seed, limit = cfg.seed, cfg.limit
    rng = np.random.default_rng(seed)
    log("reading chorales from music21's corpus ...")
    segments, _ = load_chorales(limit=limit)
    log(f"{len(segments)} segments; building pairs ...")
    pairs = corpus_pairs(segments, rng)
    pairs.append(rule_pairs(cfg, cfg.train_seeds, "train", rng))
    pairs.append(rule_pairs(cfg, cfg.test_seeds, "test", rng))
    train_pairs = [p for p in pairs if p.split == "train"]
    model = fit(train_pairs, cfg, log)
    acc: dict[str, dict[str, float]] = {}
    counts: dict[str, dict[str, int]] = {}
    for p in pairs:
        acc.setdefault(p.split, {})[p.kind] = round(accuracy(model, p), 4)
        counts.setdefault(p.split, {})[p.kind] = len(p.better)
    meta = {
        "name": f"bt-mlp{cfg.hidden}-seed{seed}",
        "seed": seed,
        "limit": limit,
        "kinds": list(KINDS),
        "accuracy": acc,
        "pairs": counts,
    }
    m = model
    final = RewardModel(m.mean, m.std, m.w1, m.b1, m.w2, m.b2, m.center, m.scale, meta)
    return Trained(final, acc, counts)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, default=None, help="parse at most this many chorales")
    ap.add_argument("--output", type=Path, help=f"default: {MODEL_PATH.name}, with --force")
    ap.add_argument("--force", action="store_true", help="replace an existing file")
    args = ap.parse_args(argv)
    from composer.app.output import check_targets, write_files  # train-reward's output rules
    from grammar.errors import ComposeError

    path = args.output if args.output is not None else MODEL_PATH
    try:
        if args.limit is not None and args.limit < 1:
            raise ComposeError("--limit", f"must be at least 1, got {args.limit}")
        if args.output is None and not args.force:
            raise ComposeError("--output", "this replaces the shipped reward model: pass --force")
        check_targets([path], args.force)
        trained = train(RewardConfig(seed=args.seed, limit=args.limit))
        write_files({path: trained.model.to_json().encode()}, args.force)
    except ComposeError as exc:
        sys.exit(f"error: {exc}")
    out = {"accuracy": trained.accuracy, "pairs": trained.counts, "path": str(path)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
