"""``compose align``: the melody model fine-tuned by iterated DPO against a frozen reference.

As NotaGen's CLaMP-DPO does, every round samples fresh candidates from the *current* policy
for a fixed set of section contexts (:mod:`composer.training.align_data`: seeded random specs
and the examples, planned by the planner), scores them with the search's rewards (rules + the
learned reward model + the listener's profile where given), pairs best against worst of each
context (and second best against second worst, ...) where they differ by at least ``margin``,
and takes ``epochs`` passes of the DPO loss (:mod:`composer.training.dpo`) over the pairs, the
reference being the input checkpoint.

The fresh samples of round r measure the policy of round r - 1 before they train it: reward
mean, hard violations, diversity across the candidates of a context, the held-out corpus
metrics (computed by no reward) and the KL to the reference. A round whose held-out score
(:func:`composer.training.align_data.held_out_score`) falls more than ``tolerance`` below the
best so far stops the run, and the last policy that did not is saved: the reward is what is
optimised, the held-out metrics guard against winning it by leaving the corpus's style.
The KL is estimated on the sampled sequences with the raw models' log-probabilities (the
sampler's grammar masks and chord-tone bias apply to both models alike).

Deterministic: every draw is seeded, and on one thread the same command writes the same bytes.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from composer.generators.transformer.model import CHECKPOINT
from composer.training.align_data import (
    HARD_PENALTY,
    Sampled,
    contexts,
    example_specs,
    given_table,
    held_out_score,
    random_specs,
    sample_contexts,
)
from composer.training.dpo import (
    Pair,
    Sample,
    choice_counts,
    dpo_loss,
    kl_estimate,
    make_pairs,
    sequence_logprobs,
)
from grammar.errors import SpecError, shorten

# Files of the input checkpoint the aligned one keeps as they are (the vocabulary and sampling
# defaults); its measurements (training.json, benchmarks) describe the input model, not this one.
KEPT = ("vocab.json", "tokenizer.json", "generation_config.json")


@dataclass(frozen=True)
class AlignConfig:
    out: Path
    checkpoint: Path = CHECKPOINT  # the reference and the starting policy; never written
    rounds: int = 3  # NotaGen reports gains flattening after ~3 rounds of CLaMP-DPO
    beta: float = 0.1  # DPO's usual strength of the KL anchor to the reference
    candidates: int = 8  # samples per context and round: best vs worst of 8 is a clear gap
    specs: int = 8  # seeded random specs, planned by the planner (plus the examples)
    examples: bool = True
    per_song: int = 3  # all-new sections (one per label) taken from each song
    margin: float = 0.05  # least utility gap for a pair (reward totals lie in [0, 1])
    pairs: int = 2  # per context and round: best/worst and second best/second worst
    # weight of the policy's NLL of the chosen, per token, added to the DPO loss (RPO,
    # "DPO+NLL"; 0: plain DPO): it keeps the chosen likely and curbs the drift off the corpus
    sft: float = 0.0
    lr: float = 5e-5  # a fine-tune: 40x below training's, so a round moves the model a little
    epochs: int = 2  # passes over a round's pairs
    batch_pairs: int = 8
    # held-out score drop that stops the run: the score sums five metrics over ~250 samples; a
    # round that moves the model (KL ~0.5) moves it by ~0.02 either way without a trend
    tolerance: float = 0.03
    seed: int = 0
    threads: int = 1
    device: str = "cpu"
    profile: str | None = None  # a listener's profile name or weights file (preferences.profile)

    def to_json(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


Log = Callable[[str], None]


def _quiet(line: str) -> None:
    return None


def preflight(cfg: AlignConfig, force: bool = False) -> None:
    """Everything that can be checked before any work, each a one-line SpecError naming the
    option: numbers in range, the device, the input checkpoint loads, the output is new (or
    ``force``) and is not the input."""
    from composer.generators.transformer.user_model import check_checkpoint
    from composer.training.melody import check_device

    checks = {
        "--beta": (cfg.beta > 0 and np.isfinite(cfg.beta), "must be a positive number"),
        "--rounds": (cfg.rounds >= 1, "must be at least 1"),
        "--candidates": (cfg.candidates >= 2, "must be at least 2 (a pair needs two)"),
        "--specs": (cfg.specs >= 0, "must be 0 or more"),
        "--lr": (cfg.lr > 0 and np.isfinite(cfg.lr), "must be a positive number"),
        "--sft": (cfg.sft >= 0 and np.isfinite(cfg.sft), "must be 0 or more"),
        "--epochs": (cfg.epochs >= 1, "must be at least 1"),
        "--pairs": (cfg.pairs >= 1, "must be at least 1"),
        "--margin": (cfg.margin >= 0, "must be 0 or more"),
        "--threads": (cfg.threads >= 1, "must be at least 1"),
        "--tolerance": (cfg.tolerance >= 0, "must be 0 or more"),
    }
    for name, (ok, why) in checks.items():
        if not ok:
            raise SpecError(name, why)
    if cfg.specs == 0 and not (cfg.examples and example_specs()):
        raise SpecError("--specs", "0 random specs and no examples: nothing to align on")
    check_device(cfg.device)
    check_checkpoint(cfg.checkpoint)
    out, shown = cfg.out, shorten(cfg.out, 120)
    if out.resolve() == cfg.checkpoint.resolve() or out.resolve() == CHECKPOINT.resolve():
        raise SpecError("--out", f"'{shown}' is an input checkpoint; name a new folder")
    if out.exists() and not out.is_dir():
        raise SpecError("--out", f"'{shown}' is a file; name a folder for the aligned model")
    if out.exists() and not force:
        raise SpecError("--out", f"'{shown}' exists; pass --force to replace it")
    if not out.parent.is_dir():
        raise SpecError("--out", f"folder '{shorten(out.parent, 120)}' does not exist")


@dataclass(frozen=True)
class RoundStats:
    """What the fresh samples of one round measured of the policy that drew them."""

    round: int  # 0: the reference
    reward: float  # mean reward total of the samples
    hard: float  # mean hard violations per sample
    best_reward: float  # mean over contexts of the best sample's utility (best-of-k)
    diversity: float  # mean over contexts of the pairwise motif dissimilarity
    kl: float  # KL(policy || reference) per section, nats, on the samples
    held_out: dict[str, float]
    held_out_score: float
    pairs: int = 0  # pairs formed from these samples (0 for the last round)
    loss: float | None = None  # mean DPO loss of the last epoch trained on them
    accuracy: float | None = None  # share of those pairs the policy prefers the right way
    seconds: float = 0.0


def measure(
    samples: Sequence[Sampled], policy: Any, ref: Any, given: np.ndarray, pad: int, device: str
) -> dict[str, Any]:
    """Reward, violations, diversity, held-out metrics and KL of one round's samples."""
    reward = np.concatenate([s.reward for s in samples])
    hard = np.concatenate([s.hard for s in samples])
    keys = samples[0].held_out.keys() if samples else ()
    held = {k: float(np.mean(np.concatenate([s.held_out[k] for s in samples]))) for k in keys}
    seqs = [(s.prefix, c) for s in samples for c in s.completions]
    kl = 0.0
    if policy is not ref:
        kl = kl_estimate(
            logprobs(policy, seqs, given, pad, device), logprobs(ref, seqs, given, pad, device)
        )
    return {
        "reward": float(reward.mean()),
        "hard": float(hard.mean()),
        "best_reward": float(np.mean([s.utility.max() for s in samples])),
        "diversity": float(np.mean([s.diversity for s in samples])),
        "kl": kl,
        "held_out": held,
        "held_out_score": held_out_score(held),
    }


def logprobs(
    model: Any, seqs: Sequence[tuple[Sequence[int], Sequence[int]]], given: np.ndarray,
    pad: int, device: str, chunk: int = 32,
) -> np.ndarray:  # fmt: skip
    """Sequence log-probs of ``seqs`` under ``model``, without gradients, in chunks."""
    import torch

    out = []
    with torch.no_grad():
        for i in range(0, len(seqs), chunk):
            lp = sequence_logprobs(model, seqs[i : i + chunk], given, pad, device)
            out.append(lp.cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def pairs_of(samples: Sequence[Sampled], margin: float, most: int) -> list[Pair]:
    """Up to ``most`` disjoint best/worst pairs of every context's samples."""
    out = []
    for s in samples:
        ranked = [Sample(c, float(u)) for c, u in zip(s.completions, s.utility, strict=True)]
        out += make_pairs(s.prefix, ranked, margin, most)
    return out


def train_round(
    policy: Any, ref: Any, opt: Any, pairs: Sequence[Pair], cfg: AlignConfig,
    given: np.ndarray, pad: int, rng: np.random.Generator,
) -> tuple[float, float]:  # fmt: skip
    """``cfg.epochs`` passes of the DPO loss over ``pairs``; (mean loss, accuracy) of the last."""
    import torch

    seqs_c = [(p.prefix, p.chosen) for p in pairs]
    seqs_r = [(p.prefix, p.rejected) for p in pairs]
    ref_c = torch.from_numpy(logprobs(ref, seqs_c, given, pad, cfg.device)).to(cfg.device)
    ref_r = torch.from_numpy(logprobs(ref, seqs_r, given, pad, cfg.device)).to(cfg.device)
    tokens_c = torch.from_numpy(choice_counts(seqs_c, given)).to(cfg.device)
    policy.train()
    loss_mean, acc = 0.0, 0.0
    for _ in range(cfg.epochs):
        order = rng.permutation(len(pairs))
        losses, accs, weights = [], [], []
        for i in range(0, len(order), cfg.batch_pairs):
            idx = order[i : i + cfg.batch_pairs]
            lp = sequence_logprobs(
                policy, [seqs_c[j] for j in idx] + [seqs_r[j] for j in idx], given, pad, cfg.device
            )
            b = len(idx)
            t_idx = torch.from_numpy(idx).to(cfg.device)
            loss, st = dpo_loss(
                lp[:b], lp[b:], ref_c[t_idx], ref_r[t_idx], cfg.beta, cfg.sft, tokens_c[t_idx]
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
            accs.append(st["accuracy"])
            weights.append(b)
        loss_mean = float(np.average(losses, weights=weights))
        acc = float(np.average(accs, weights=weights))
    policy.eval()
    return loss_mean, acc


def save_checkpoint(policy: Any, source: Path, out: Path) -> None:
    """The policy as a checkpoint folder ``compose --checkpoint`` loads: ``save_pretrained``
    (config.json, model.safetensors) plus the source's vocabulary files."""
    from transformers.utils import logging as hf_logging

    out.mkdir(parents=True, exist_ok=True)
    enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # its "Writing model shards" bar is noise here
    try:
        policy.save_pretrained(str(out), safe_serialization=True)
    finally:
        if enabled:
            hf_logging.enable_progress_bar()
    for name in KEPT:
        if (source / name).is_file():
            shutil.copyfile(source / name, out / name)
    for f in out.iterdir():  # safetensors writes its file 0600; a model is there to be shared
        f.chmod(0o644)


def align(cfg: AlignConfig, log: Log = _quiet, force: bool = False) -> dict[str, Any]:
    """Run the rounds and write the aligned checkpoint (with ``align.json`` and the model card)
    to ``cfg.out``; returns what ``align.json`` holds. Nothing is written to ``cfg.out`` until
    the end, and then all of it at once (replacing an existing folder only with ``force``)."""
    import torch

    from composer.generators.transformer.model import load_model, parameters

    preflight(cfg, force)
    t_start = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    specs = random_specs(cfg.specs, cfg.seed) + (example_specs() if cfg.examples else [])
    ctxs = contexts(specs, cfg.profile, cfg.per_song)  # a bad --profile fails here, early
    log(f"align: {len(ctxs)} section contexts from {len(specs)} songs")
    given, pad = given_table(cfg.checkpoint)
    ref = load_model(cfg.checkpoint).to(cfg.device)
    for p in ref.parameters():
        p.requires_grad_(False)
    policy = load_model(cfg.checkpoint).to(cfg.device)
    opt = torch.optim.AdamW(policy.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=0.0)
    rng = np.random.default_rng([cfg.seed, 1])
    rounds: list[RoundStats] = []
    kept_state = {k: v.detach().clone() for k, v in policy.state_dict().items()}
    kept, best_held, stopped = 0, -np.inf, None
    work = Path(tempfile.mkdtemp(prefix="songc-align-"))
    try:
        for r in range(cfg.rounds + 1):
            t0 = time.perf_counter()
            folder = cfg.checkpoint
            if r > 0:
                folder = work / f"round-{r}"
                save_checkpoint(policy, cfg.checkpoint, folder)
            # the same seeds every round (common random numbers): rounds differ by the model
            samples = sample_contexts(folder, ctxs, cfg.candidates, cfg.seed)
            m = measure(samples, policy if r else ref, ref, given, pad, cfg.device)
            stats = RoundStats(round=r, **m)
            if r > 0 and stats.held_out_score < best_held - cfg.tolerance:
                rounds.append(replace(stats, seconds=round(time.perf_counter() - t0, 1)))
                stopped = (
                    f"round {r}: held-out score {stats.held_out_score:.4f} fell below the best "
                    f"{best_held:.4f} by more than {cfg.tolerance}; kept round {kept}"
                )
                log(f"align: stopped at {stopped}")
                break
            kept, best_held = r, max(best_held, stats.held_out_score)
            kept_state = {k: v.detach().clone() for k, v in policy.state_dict().items()}
            if r < cfg.rounds:
                pairs = pairs_of(samples, cfg.margin, cfg.pairs)
                loss, acc = (None, None)
                if pairs:
                    loss, acc = train_round(policy, ref, opt, pairs, cfg, given, pad, rng)
                stats = replace(stats, pairs=len(pairs), loss=loss, accuracy=acc)
            stats = replace(stats, seconds=round(time.perf_counter() - t0, 1))
            rounds.append(stats)
            log(_line(stats))
        policy.load_state_dict(kept_state)
        result = {
            "schema_version": 1,
            "reference": str(cfg.checkpoint),
            "contexts": len(ctxs),
            "songs": [name for name, _ in specs],
            "parameters": parameters(policy),
            "kept_round": kept,
            "stopped_early": stopped,
            "seconds": round(time.perf_counter() - t_start, 1),
            "config": cfg.to_json(),
            "rounds": [asdict(s) for s in rounds],
        }
        staged = work / "out"
        save_checkpoint(policy, cfg.checkpoint, staged)
        card = cfg.checkpoint / "README.md"
        text = card.read_text(encoding="utf-8") if card.is_file() else "# Melody model\n"
        (staged / "README.md").write_text(text.rstrip("\n") + "\n\n" + model_card(result))
        (staged / "align.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
        _publish(staged, cfg.out, force)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        torch.set_num_threads(threads)
    return result


def _publish(staged: Path, out: Path, force: bool) -> None:
    """Move the finished folder into place; an existing one (``force``) only once it is."""
    if out.exists():
        if not force:
            raise SpecError("--out", f"'{shorten(out, 120)}' exists; pass --force to replace it")
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        shutil.move(str(staged), str(out))
        shutil.rmtree(old, ignore_errors=True)
    else:
        shutil.move(str(staged), str(out))


def _line(s: RoundStats) -> str:
    loss = "-" if s.loss is None else f"{s.loss:.4f}"
    return (
        f"align round {s.round}: reward {s.reward:.4f} best-of-k {s.best_reward:.4f} "
        f"hard {s.hard:.3f} KL {s.kl:.3f} diversity {s.diversity:.3f} held-out "
        f"{s.held_out_score:.4f} pairs {s.pairs} loss {loss} ({s.seconds:.0f} s)"
    )


def model_card(result: dict[str, Any]) -> str:
    """The model card's section on the alignment: data, settings, and every round's figures."""
    cfg = result["config"]
    ref = Path(result["reference"])
    shipped = ref.resolve() == CHECKPOINT.resolve()
    name = "the shipped model (the sections above describe it)" if shipped else f"`{ref.name}`"
    lines = [
        "## Alignment (DPO)",
        "",
        f"Fine-tuned from {name} by `compose align`: iterated Direct "
        "Preference Optimisation against that checkpoint (frozen), as NotaGen's CLaMP-DPO. Each "
        f"round samples {cfg['candidates']} melodies from the current model for each of "
        f"{result['contexts']} all-new sections of {len(result['songs'])} planned songs "
        f"({cfg['specs']} seeded random specs{' and the examples' if cfg['examples'] else ''}) "
        "with the sampler `compose` uses, scores them with the search's rewards (rules + the "
        "learned reward model"
        + (f" + the profile `{cfg['profile']}`" if cfg["profile"] else "")
        + f"; minus {HARD_PENALTY} per hard violation), pairs up to {cfg['pairs']} best "
        "against as many worst (disjoint) where they "
        f"differ by at least {cfg['margin']}, and takes {cfg['epochs']} passes of the DPO "
        f"loss (beta {cfg['beta']}"
        + (f", plus {cfg['sft']} x the NLL of the chosen per token (RPO)" if cfg.get("sft") else "")
        + f", lr {cfg['lr']}, seed {cfg['seed']}, "
        f"{cfg['threads']} thread(s), {cfg['device']})."
        + f" Kept: round {result['kept_round']} of {cfg['rounds']}"
        + (f" (stopped early: {result['stopped_early']})" if result["stopped_early"] else "")
        + f"; {result['seconds'] / 60:.1f} minutes.",
        "",
        "Per round, measured on that round's fresh samples (round 0: the reference): reward "
        "mean, best-of-k utility, hard violations per section, KL to the reference (nats per "
        "section), diversity (mean pairwise motif dissimilarity of a section's candidates), and "
        "the held-out corpus metrics no reward computes (score: their sum in their better "
        "direction).",
        "",
        "| round | beta | pairs | DPO loss | reward | best-of-k | hard | KL | diversity "
        "| interval overlap | rhythm overlap | entropy gap | held-out score |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rounds"]:
        h = r["held_out"]
        loss = "-" if r["loss"] is None else f"{r['loss']:.4f}"
        lines.append(
            f"| {r['round']} | {cfg['beta']} | {r['pairs']} | {loss} | {r['reward']:.4f} | "
            f"{r['best_reward']:.4f} | {r['hard']:.3f} | {r['kl']:.3f} | {r['diversity']:.3f} | "
            f"{h.get('interval_overlap', 0):.4f} | {h.get('rhythm_overlap', 0):.4f} | "
            f"{h.get('entropy_gap', 0):.4f} | {r['held_out_score']:.4f} |"
        )
    lines += ["", "Every figure is in `align.json`; the songs-level comparison with the "
              "reference is `benchmarks/bench_align.py`.", ""]  # fmt: skip
    return "\n".join(lines)
